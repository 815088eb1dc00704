/*
 * kern_scalar.c: the scalar kernels (the reference every vector path must
 * match bit for bit) and the scalar pieces all paths share: the tails and
 * the final combination of a floating-point sum, and the compare of a
 * partial last word.
 *
 * The loops here are kept scalar (GCC's vectorizer is off for this file) so
 * that "scalar" in the benchmarks means one value at a time.
 */
#include "simd.h"

#include <math.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC optimize("no-tree-vectorize")
#endif
#if defined(__clang__)
#  define SCALAR_LOOP _Pragma("clang loop vectorize(disable) interleave(disable)")
#else
#  define SCALAR_LOOP
#endif

RTM_NO_CONTRACT

/* ---- floating-point sums: the shared pieces ------------------------------ */

/* Lanes start at -0.0, the identity of addition (+0.0 is not: +0 + -0 is
 * +0), so a column of -0.0 sums to -0.0 as a plain sum would. */
void _rtm_fsum_init(rtm_fsum *st)
{
    for (size_t j = 0; j < RTM_FSUM_LANES; j++) {
        st->s[j] = -0.0;
        st->c[j] = 0.0;
    }
}

void _rtm_fsum_tail_f64(rtm_fsum *st, const double *x, size_t n)
{
    SCALAR_LOOP
    for (size_t j = 0; j < n; j++) rtm_fsum_step(&st->s[j], &st->c[j], x[j]);
}

void _rtm_fsum_tail_f32(rtm_fsum *st, const float *x, size_t n)
{
    SCALAR_LOOP
    for (size_t j = 0; j < n; j++) rtm_fsum_step(&st->s[j], &st->c[j], (double)x[j]);
}

static double canonical_nan(void)
{
    uint64_t bits = 0x7FF8000000000000ull;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* The lanes' sums s[j] carry any NaN or infinity (a compensation term is
 * meaningless then: inf - inf), so a non-finite total is the plain sum of
 * the s[j]. Otherwise the 32 partial values go through one more Neumaier
 * sum, s[0..15] then c[0..15]. The default NaN is positive and quiet, where
 * x86's inf - inf gives a negative one: results are made canonical here. */
double _rtm_fsum_result(const rtm_fsum *st)
{
    double plain = -0.0;
    SCALAR_LOOP
    for (size_t j = 0; j < RTM_FSUM_LANES; j++) plain += st->s[j];
    if (isnan(plain)) return canonical_nan();
    bool finite = true;
    SCALAR_LOOP
    for (size_t j = 0; j < RTM_FSUM_LANES; j++) finite &= isfinite(st->s[j]) != 0;
    if (!finite) return plain; /* an infinity, all of one sign */
    double s = 0.0, c = 0.0;
    SCALAR_LOOP
    for (size_t j = 0; j < RTM_FSUM_LANES; j++) rtm_fsum_step(&s, &c, st->s[j]);
    SCALAR_LOOP
    for (size_t j = 0; j < RTM_FSUM_LANES; j++) rtm_fsum_step(&s, &c, st->c[j]);
    double r = s + c;
    /* inf - inf inside the compensation: the partial sums overflowed, and
     * the plain sum says which way (it is not NaN: checked above). */
    if (isnan(r)) return plain;
    /* An exact zero is +0 unless every value was -0 (then so is plain): the
     * compensation terms do not keep the sign of zero. */
    if (r == 0) return plain == 0 ? plain : 0.0;
    return r;
}

static void fsum_f64(const double *x, size_t n, rtm_fsum *st)
{
    for (size_t i = 0; i < n; i += RTM_FSUM_LANES) _rtm_fsum_tail_f64(st, x + i, RTM_FSUM_LANES);
}

static void fsum_f32(const float *x, size_t n, rtm_fsum *st)
{
    for (size_t i = 0; i < n; i += RTM_FSUM_LANES) _rtm_fsum_tail_f32(st, x + i, RTM_FSUM_LANES);
}

/* ---- integer sums -------------------------------------------------------- */

static void sum_i32(const int32_t *x, size_t n, rtm_i128 *acc)
{
    int64_t s = 0; /* n < 2^31 values of at most 2^31: no overflow */
    SCALAR_LOOP
    for (size_t i = 0; i < n; i++) s += x[i];
    rtm_i128_add_i64(acc, s);
}

void _rtm_scalar_sum_i64(const int64_t *x, size_t n, rtm_i128 *acc)
{
    SCALAR_LOOP
    for (size_t i = 0; i < n; i++) rtm_i128_add_i64(acc, x[i]);
}

/* ---- min and max --------------------------------------------------------- */

static void minmax_i32(const int32_t *x, size_t n, int32_t *min, int32_t *max)
{
    int32_t lo = x[0], hi = x[0];
    SCALAR_LOOP
    for (size_t i = 1; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    *min = lo;
    *max = hi;
}

void _rtm_scalar_minmax_i64(const int64_t *x, size_t n, int64_t *min, int64_t *max)
{
    int64_t lo = x[0], hi = x[0];
    SCALAR_LOOP
    for (size_t i = 1; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    *min = lo;
    *max = hi;
}

/* NaNs are noted and skipped; the caller settles NaN and signed zeros. */
#define MINMAX_FLOAT(name, T)                                                   \
    static void name(const T *x, size_t n, T *min, T *max, unsigned *flags)     \
    {                                                                           \
        T lo = (T)INFINITY, hi = (T)-INFINITY;                                  \
        unsigned f = 0;                                                         \
        SCALAR_LOOP                                                             \
        for (size_t i = 0; i < n; i++) {                                        \
            T v = x[i];                                                         \
            if (v != v) {                                                       \
                f |= RTM_MM_NAN;                                                \
                continue;                                                       \
            }                                                                   \
            if (v == 0) f |= signbit(v) ? RTM_MM_NEGZERO : RTM_MM_POSZERO;      \
            lo = v < lo ? v : lo;                                               \
            hi = v > hi ? v : hi;                                               \
        }                                                                       \
        *min = lo;                                                              \
        *max = hi;                                                              \
        *flags = f;                                                             \
    }
MINMAX_FLOAT(minmax_f32, float)
MINMAX_FLOAT(minmax_f64, double)

/* ---- compare ------------------------------------------------------------- */

#define CMP_WORD(name, T)                                                       \
    uint64_t name(const T *x, size_t n, rtm_cmp_op op, T v)                     \
    {                                                                           \
        uint64_t w = 0;                                                         \
        switch (op) {                                                           \
        case RTM_CMP_LT: SCALAR_LOOP for (size_t i = 0; i < n; i++) w |= (uint64_t)(x[i] < v) << i; break;  \
        case RTM_CMP_LE: SCALAR_LOOP for (size_t i = 0; i < n; i++) w |= (uint64_t)(x[i] <= v) << i; break; \
        case RTM_CMP_EQ: SCALAR_LOOP for (size_t i = 0; i < n; i++) w |= (uint64_t)(x[i] == v) << i; break; \
        case RTM_CMP_NE: SCALAR_LOOP for (size_t i = 0; i < n; i++) w |= (uint64_t)(x[i] != v) << i; break; \
        case RTM_CMP_GE: SCALAR_LOOP for (size_t i = 0; i < n; i++) w |= (uint64_t)(x[i] >= v) << i; break; \
        case RTM_CMP_GT: SCALAR_LOOP for (size_t i = 0; i < n; i++) w |= (uint64_t)(x[i] > v) << i; break;  \
        }                                                                       \
        return w;                                                               \
    }
CMP_WORD(_rtm_cmp_tail_i32, int32_t)
CMP_WORD(_rtm_cmp_tail_i64, int64_t)
CMP_WORD(_rtm_cmp_tail_f32, float)
CMP_WORD(_rtm_cmp_tail_f64, double)

#define CMP_WORDS(linkage, name, T, tail)                                       \
    linkage void name(const T *x, size_t n, rtm_cmp_op op, T v, uint64_t *bits)  \
    {                                                                           \
        for (size_t i = 0; i < n; i += 64) bits[i / 64] = tail(x + i, 64, op, v); \
    }
CMP_WORDS(static, cmp_i32, int32_t, _rtm_cmp_tail_i32)
CMP_WORDS(extern, _rtm_scalar_cmp_i64, int64_t, _rtm_cmp_tail_i64)
CMP_WORDS(static, cmp_f32, float, _rtm_cmp_tail_f32)
CMP_WORDS(static, cmp_f64, double, _rtm_cmp_tail_f64)

/* ---- gather, axpy -------------------------------------------------------- */

void _rtm_scalar_gather_32(const uint32_t *col, const uint32_t *idx, size_t n, uint32_t *out)
{
    SCALAR_LOOP
    for (size_t k = 0; k < n; k++) out[k] = col[idx[k]];
}

void _rtm_scalar_gather_64(const uint64_t *col, const uint32_t *idx, size_t n, uint64_t *out)
{
    SCALAR_LOOP
    for (size_t k = 0; k < n; k++) out[k] = col[idx[k]];
}

uint32_t _rtm_scalar_max_index(const uint32_t *idx, size_t n)
{
    uint32_t m = 0;
    SCALAR_LOOP
    for (size_t k = 0; k < n; k++) m = idx[k] > m ? idx[k] : m;
    return m;
}

static void axpy_f64(double a, const double *x, double *y, size_t n)
{
    SCALAR_LOOP
    for (size_t i = 0; i < n; i++) {
        double p = a * x[i];
        y[i] = p + y[i];
    }
}

const rtm_kernels _rtm_kernels_scalar = {
    .level = RTM_SIMD_SCALAR,
    .sum_i32 = sum_i32,
    .sum_i64 = _rtm_scalar_sum_i64,
    .fsum_f32 = fsum_f32,
    .fsum_f64 = fsum_f64,
    .minmax_i32 = minmax_i32,
    .minmax_i64 = _rtm_scalar_minmax_i64,
    .minmax_f32 = minmax_f32,
    .minmax_f64 = minmax_f64,
    .cmp_i32 = cmp_i32,
    .cmp_i64 = _rtm_scalar_cmp_i64,
    .cmp_f32 = cmp_f32,
    .cmp_f64 = cmp_f64,
    .gather_32 = _rtm_scalar_gather_32,
    .gather_64 = _rtm_scalar_gather_64,
    .max_index = _rtm_scalar_max_index,
    .axpy_f64 = axpy_f64,
};
