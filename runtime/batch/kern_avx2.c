/*
 * kern_avx2.c: the AVX2 kernels (256-bit vectors). Every function carries
 * its target attribute, so the library builds without -mavx2 and runs these
 * only on a CPU that has them (simd.c decides). Unaligned loads throughout:
 * on aligned data (batch columns) they cost the same as aligned ones, and
 * the kernels also serve arrays of any alignment.
 */
#include "simd.h"

#ifdef RTM_SIMD_X86
#include <immintrin.h>
#include <math.h>

RTM_NO_CONTRACT

#define AVX2 RTM_TARGET("avx2")
#define AVX2_INLINE static inline __attribute__((always_inline)) AVX2

/* ---- floating-point sums ------------------------------------------------- */

/* rtm_fsum_step on four lanes at once, operation for operation. */
AVX2_INLINE void step(__m256d *s, __m256d *c, __m256d x)
{
    const __m256d abs = _mm256_castsi256_pd(_mm256_set1_epi64x(INT64_MAX));
    __m256d t = _mm256_add_pd(*s, x);
    __m256d s_ge_x = _mm256_cmp_pd(_mm256_and_pd(*s, abs), _mm256_and_pd(x, abs), _CMP_GE_OQ);
    __m256d big = _mm256_blendv_pd(x, *s, s_ge_x);
    __m256d small = _mm256_blendv_pd(*s, x, s_ge_x);
    *c = _mm256_add_pd(*c, _mm256_add_pd(_mm256_sub_pd(big, t), small));
    *s = t;
}

#define FSUM_LOAD(st, s, c)                                                     \
    __m256d s##0 = _mm256_loadu_pd(st->s + 0), s##1 = _mm256_loadu_pd(st->s + 4); \
    __m256d s##2 = _mm256_loadu_pd(st->s + 8), s##3 = _mm256_loadu_pd(st->s + 12); \
    __m256d c##0 = _mm256_loadu_pd(st->c + 0), c##1 = _mm256_loadu_pd(st->c + 4); \
    __m256d c##2 = _mm256_loadu_pd(st->c + 8), c##3 = _mm256_loadu_pd(st->c + 12)

#define FSUM_STORE(st, s, c)                                                    \
    _mm256_storeu_pd(st->s + 0, s##0); _mm256_storeu_pd(st->s + 4, s##1);      \
    _mm256_storeu_pd(st->s + 8, s##2); _mm256_storeu_pd(st->s + 12, s##3);     \
    _mm256_storeu_pd(st->c + 0, c##0); _mm256_storeu_pd(st->c + 4, c##1);      \
    _mm256_storeu_pd(st->c + 8, c##2); _mm256_storeu_pd(st->c + 12, c##3)

static AVX2 void fsum_f64(const double *x, size_t n, rtm_fsum *st)
{
    FSUM_LOAD(st, s, c);
    for (size_t i = 0; i < n; i += 16) {
        step(&s0, &c0, _mm256_loadu_pd(x + i));
        step(&s1, &c1, _mm256_loadu_pd(x + i + 4));
        step(&s2, &c2, _mm256_loadu_pd(x + i + 8));
        step(&s3, &c3, _mm256_loadu_pd(x + i + 12));
    }
    FSUM_STORE(st, s, c);
}

static AVX2 void fsum_f32(const float *x, size_t n, rtm_fsum *st)
{
    FSUM_LOAD(st, s, c);
    for (size_t i = 0; i < n; i += 16) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        step(&s0, &c0, _mm256_cvtps_pd(_mm256_castps256_ps128(a)));
        step(&s1, &c1, _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)));
        step(&s2, &c2, _mm256_cvtps_pd(_mm256_castps256_ps128(b)));
        step(&s3, &c3, _mm256_cvtps_pd(_mm256_extractf128_ps(b, 1)));
    }
    FSUM_STORE(st, s, c);
}

/* ---- integer sums -------------------------------------------------------- */

AVX2_INLINE int64_t hsum_i64(__m256i v)
{
    int64_t l[4];
    _mm256_storeu_si256((__m256i *)l, v);
    return l[0] + l[1] + l[2] + l[3];
}

/* Widened to 64-bit lanes: n < 2^31 values cannot overflow them. */
static AVX2 void sum_i32(const int32_t *x, size_t n, rtm_i128 *acc)
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_add_epi64(a0, _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(x + i))));
        a1 = _mm256_add_epi64(a1, _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(x + i + 4))));
        a2 = _mm256_add_epi64(a2, _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(x + i + 8))));
        a3 = _mm256_add_epi64(a3, _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(x + i + 12))));
    }
    int64_t s = hsum_i64(_mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
    for (; i < n; i++) s += x[i];
    rtm_i128_add_i64(acc, s);
}

/* 128-bit lanes: lo wraps, hi counts the carries and the sign extensions. */
AVX2_INLINE void add128(__m256i *lo, __m256i *hi, __m256i x)
{
    const __m256i flip = _mm256_set1_epi64x(INT64_MIN);
    __m256i sum = _mm256_add_epi64(*lo, x);
    /* carry out of the low word: sum < x, unsigned */
    __m256i carry = _mm256_cmpgt_epi64(_mm256_xor_si256(x, flip), _mm256_xor_si256(sum, flip));
    __m256i neg = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
    *hi = _mm256_add_epi64(_mm256_sub_epi64(*hi, carry), neg);
    *lo = sum;
}

static AVX2 void sum_i64(const int64_t *x, size_t n, rtm_i128 *acc)
{
    __m256i lo0 = _mm256_setzero_si256(), hi0 = lo0, lo1 = lo0, hi1 = lo0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        add128(&lo0, &hi0, _mm256_loadu_si256((const __m256i *)(x + i)));
        add128(&lo1, &hi1, _mm256_loadu_si256((const __m256i *)(x + i + 4)));
    }
    uint64_t lo[8];
    int64_t hi[8];
    _mm256_storeu_si256((__m256i *)lo, lo0);
    _mm256_storeu_si256((__m256i *)(lo + 4), lo1);
    _mm256_storeu_si256((__m256i *)hi, hi0);
    _mm256_storeu_si256((__m256i *)(hi + 4), hi1);
    for (int j = 0; j < 8; j++) rtm_i128_add(acc, (rtm_i128){lo[j], hi[j]});
    for (; i < n; i++) rtm_i128_add_i64(acc, x[i]);
}

/* ---- min and max --------------------------------------------------------- */

static AVX2 void minmax_i32(const int32_t *x, size_t n, int32_t *min, int32_t *max)
{
    __m256i lo = _mm256_set1_epi32(x[0]), hi = lo;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(x + i));
        lo = _mm256_min_epi32(lo, v);
        hi = _mm256_max_epi32(hi, v);
    }
    int32_t l[8], h[8];
    _mm256_storeu_si256((__m256i *)l, lo);
    _mm256_storeu_si256((__m256i *)h, hi);
    int32_t a = l[0], b = h[0];
    for (int j = 1; j < 8; j++) {
        a = l[j] < a ? l[j] : a;
        b = h[j] > b ? h[j] : b;
    }
    for (; i < n; i++) {
        a = x[i] < a ? x[i] : a;
        b = x[i] > b ? x[i] : b;
    }
    *min = a;
    *max = b;
}

static AVX2 void minmax_i64(const int64_t *x, size_t n, int64_t *min, int64_t *max)
{
    __m256i lo = _mm256_set1_epi64x(x[0]), hi = lo;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(x + i));
        lo = _mm256_blendv_epi8(lo, v, _mm256_cmpgt_epi64(lo, v));
        hi = _mm256_blendv_epi8(hi, v, _mm256_cmpgt_epi64(v, hi));
    }
    int64_t l[4], h[4];
    _mm256_storeu_si256((__m256i *)l, lo);
    _mm256_storeu_si256((__m256i *)h, hi);
    int64_t a = l[0], b = h[0];
    for (int j = 1; j < 4; j++) {
        a = l[j] < a ? l[j] : a;
        b = h[j] > b ? h[j] : b;
    }
    for (; i < n; i++) {
        a = x[i] < a ? x[i] : a;
        b = x[i] > b ? x[i] : b;
    }
    *min = a;
    *max = b;
}

/* minpd(x, m) returns m when x is NaN: NaNs are skipped, and noted. A zero
 * is noted by sign: the sign bit of (x == 0 ? x : 0) ORed up says a -0.0 was
 * seen, that of (x == 0 ? ~x : 0) a +0.0. */
static AVX2 void minmax_f64(const double *x, size_t n, double *min, double *max,
                            unsigned *flags)
{
    const __m256d zero = _mm256_setzero_pd();
    __m256d lo = _mm256_set1_pd((double)INFINITY), hi = _mm256_set1_pd(-(double)INFINITY);
    __m256d nan = zero, neg = zero, pos = zero;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_loadu_pd(x + i);
        lo = _mm256_min_pd(v, lo);
        hi = _mm256_max_pd(v, hi);
        nan = _mm256_or_pd(nan, _mm256_cmp_pd(v, v, _CMP_UNORD_Q));
        __m256d z = _mm256_cmp_pd(v, zero, _CMP_EQ_OQ);
        neg = _mm256_or_pd(neg, _mm256_and_pd(z, v));
        pos = _mm256_or_pd(pos, _mm256_andnot_pd(v, z));
    }
    double l[4], h[4];
    _mm256_storeu_pd(l, lo);
    _mm256_storeu_pd(h, hi);
    double a = l[0], b = h[0];
    for (int j = 1; j < 4; j++) {
        a = l[j] < a ? l[j] : a;
        b = h[j] > b ? h[j] : b;
    }
    unsigned f = (_mm256_movemask_pd(nan) ? RTM_MM_NAN : 0) |
                 (_mm256_movemask_pd(neg) ? RTM_MM_NEGZERO : 0) |
                 (_mm256_movemask_pd(pos) ? RTM_MM_POSZERO : 0);
    rtm_minmax_tail(x, i, n, &a, &b, &f);
    *min = a;
    *max = b;
    *flags = f;
}

static AVX2 void minmax_f32(const float *x, size_t n, float *min, float *max, unsigned *flags)
{
    const __m256 zero = _mm256_setzero_ps();
    __m256 lo = _mm256_set1_ps(INFINITY), hi = _mm256_set1_ps(-INFINITY);
    __m256 nan = zero, neg = zero, pos = zero;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        lo = _mm256_min_ps(v, lo);
        hi = _mm256_max_ps(v, hi);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        __m256 z = _mm256_cmp_ps(v, zero, _CMP_EQ_OQ);
        neg = _mm256_or_ps(neg, _mm256_and_ps(z, v));
        pos = _mm256_or_ps(pos, _mm256_andnot_ps(v, z));
    }
    float l[8], h[8];
    _mm256_storeu_ps(l, lo);
    _mm256_storeu_ps(h, hi);
    float a = l[0], b = h[0];
    for (int j = 1; j < 8; j++) {
        a = l[j] < a ? l[j] : a;
        b = h[j] > b ? h[j] : b;
    }
    unsigned f = (_mm256_movemask_ps(nan) ? RTM_MM_NAN : 0) |
                 (_mm256_movemask_ps(neg) ? RTM_MM_NEGZERO : 0) |
                 (_mm256_movemask_ps(pos) ? RTM_MM_POSZERO : 0);
    rtm_minmax_tail(x, i, n, &a, &b, &f);
    *min = a;
    *max = b;
    *flags = f;
}

/* ---- compare ------------------------------------------------------------- */

/* One word of 64 bits from 64 values, the predicate a compile-time constant. */
#define CMP_FLOAT_WORDS(load, cmp, movemask, per, PRED)                         \
    for (size_t i = 0; i < n; i += 64) {                                        \
        uint64_t w = 0;                                                         \
        for (int k = 0; k < 64 / per; k++)                                      \
            w |= (uint64_t)(unsigned)movemask(cmp(load(x + i + k * per), vv, PRED)) << (k * per); \
        bits[i / 64] = w;                                                       \
    }

static AVX2 void cmp_f64(const double *x, size_t n, rtm_cmp_op op, double v, uint64_t *bits)
{
    const __m256d vv = _mm256_set1_pd(v);
    switch (op) {
    case RTM_CMP_LT: CMP_FLOAT_WORDS(_mm256_loadu_pd, _mm256_cmp_pd, _mm256_movemask_pd, 4, _CMP_LT_OQ) break;
    case RTM_CMP_LE: CMP_FLOAT_WORDS(_mm256_loadu_pd, _mm256_cmp_pd, _mm256_movemask_pd, 4, _CMP_LE_OQ) break;
    case RTM_CMP_EQ: CMP_FLOAT_WORDS(_mm256_loadu_pd, _mm256_cmp_pd, _mm256_movemask_pd, 4, _CMP_EQ_OQ) break;
    case RTM_CMP_NE: CMP_FLOAT_WORDS(_mm256_loadu_pd, _mm256_cmp_pd, _mm256_movemask_pd, 4, _CMP_NEQ_UQ) break;
    case RTM_CMP_GE: CMP_FLOAT_WORDS(_mm256_loadu_pd, _mm256_cmp_pd, _mm256_movemask_pd, 4, _CMP_GE_OQ) break;
    case RTM_CMP_GT: CMP_FLOAT_WORDS(_mm256_loadu_pd, _mm256_cmp_pd, _mm256_movemask_pd, 4, _CMP_GT_OQ) break;
    }
}

static AVX2 void cmp_f32(const float *x, size_t n, rtm_cmp_op op, float v, uint64_t *bits)
{
    const __m256 vv = _mm256_set1_ps(v);
    switch (op) {
    case RTM_CMP_LT: CMP_FLOAT_WORDS(_mm256_loadu_ps, _mm256_cmp_ps, _mm256_movemask_ps, 8, _CMP_LT_OQ) break;
    case RTM_CMP_LE: CMP_FLOAT_WORDS(_mm256_loadu_ps, _mm256_cmp_ps, _mm256_movemask_ps, 8, _CMP_LE_OQ) break;
    case RTM_CMP_EQ: CMP_FLOAT_WORDS(_mm256_loadu_ps, _mm256_cmp_ps, _mm256_movemask_ps, 8, _CMP_EQ_OQ) break;
    case RTM_CMP_NE: CMP_FLOAT_WORDS(_mm256_loadu_ps, _mm256_cmp_ps, _mm256_movemask_ps, 8, _CMP_NEQ_UQ) break;
    case RTM_CMP_GE: CMP_FLOAT_WORDS(_mm256_loadu_ps, _mm256_cmp_ps, _mm256_movemask_ps, 8, _CMP_GE_OQ) break;
    case RTM_CMP_GT: CMP_FLOAT_WORDS(_mm256_loadu_ps, _mm256_cmp_ps, _mm256_movemask_ps, 8, _CMP_GT_OQ) break;
    }
}

/* Integers have only > and ==: the other four are those with the operands
 * swapped or the word inverted. */
typedef enum { BASE_GT, BASE_LT, BASE_EQ } int_base;

static void int_op(rtm_cmp_op op, int_base *base, uint64_t *invert)
{
    switch (op) {
    case RTM_CMP_LT: *base = BASE_LT; *invert = 0; break;
    case RTM_CMP_LE: *base = BASE_GT; *invert = ~(uint64_t)0; break;
    case RTM_CMP_EQ: *base = BASE_EQ; *invert = 0; break;
    case RTM_CMP_NE: *base = BASE_EQ; *invert = ~(uint64_t)0; break;
    case RTM_CMP_GE: *base = BASE_LT; *invert = ~(uint64_t)0; break;
    default: *base = BASE_GT; *invert = 0; break;
    }
}

#define CMP_INT_WORDS(expr, per, movemask, cast)                                \
    for (size_t i = 0; i < n; i += 64) {                                        \
        uint64_t w = 0;                                                         \
        for (int k = 0; k < 64 / per; k++) {                                    \
            __m256i a = _mm256_loadu_si256((const __m256i *)(x + i + k * per)); \
            w |= (uint64_t)(unsigned)movemask(cast(expr)) << (k * per);         \
        }                                                                       \
        bits[i / 64] = w ^ invert;                                              \
    }

static AVX2 void cmp_i32(const int32_t *x, size_t n, rtm_cmp_op op, int32_t v, uint64_t *bits)
{
    const __m256i vv = _mm256_set1_epi32(v);
    int_base base;
    uint64_t invert;
    int_op(op, &base, &invert);
    switch (base) {
    case BASE_GT: CMP_INT_WORDS(_mm256_cmpgt_epi32(a, vv), 8, _mm256_movemask_ps, _mm256_castsi256_ps) break;
    case BASE_LT: CMP_INT_WORDS(_mm256_cmpgt_epi32(vv, a), 8, _mm256_movemask_ps, _mm256_castsi256_ps) break;
    case BASE_EQ: CMP_INT_WORDS(_mm256_cmpeq_epi32(a, vv), 8, _mm256_movemask_ps, _mm256_castsi256_ps) break;
    }
}

static AVX2 void cmp_i64(const int64_t *x, size_t n, rtm_cmp_op op, int64_t v, uint64_t *bits)
{
    const __m256i vv = _mm256_set1_epi64x(v);
    int_base base;
    uint64_t invert;
    int_op(op, &base, &invert);
    switch (base) {
    case BASE_GT: CMP_INT_WORDS(_mm256_cmpgt_epi64(a, vv), 4, _mm256_movemask_pd, _mm256_castsi256_pd) break;
    case BASE_LT: CMP_INT_WORDS(_mm256_cmpgt_epi64(vv, a), 4, _mm256_movemask_pd, _mm256_castsi256_pd) break;
    case BASE_EQ: CMP_INT_WORDS(_mm256_cmpeq_epi64(a, vv), 4, _mm256_movemask_pd, _mm256_castsi256_pd) break;
    }
}

/* ---- gather, axpy -------------------------------------------------------- */

static AVX2 void gather_32(const uint32_t *col, const uint32_t *idx, size_t n, uint32_t *out)
{
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256i i = _mm256_loadu_si256((const __m256i *)(idx + k));
        _mm256_storeu_si256((__m256i *)(out + k), _mm256_i32gather_epi32((const int *)col, i, 4));
    }
    for (; k < n; k++) out[k] = col[idx[k]];
}

static AVX2 void gather_64(const uint64_t *col, const uint32_t *idx, size_t n, uint64_t *out)
{
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        __m128i i = _mm_loadu_si128((const __m128i *)(idx + k));
        _mm256_storeu_si256((__m256i *)(out + k),
                            _mm256_i32gather_epi64((const long long *)col, i, 8));
    }
    for (; k < n; k++) out[k] = col[idx[k]];
}

static AVX2 uint32_t max_index(const uint32_t *idx, size_t n)
{
    __m256i m = _mm256_setzero_si256();
    size_t k = 0;
    for (; k + 8 <= n; k += 8)
        m = _mm256_max_epu32(m, _mm256_loadu_si256((const __m256i *)(idx + k)));
    uint32_t l[8], r = 0;
    _mm256_storeu_si256((__m256i *)l, m);
    for (int j = 0; j < 8; j++) r = l[j] > r ? l[j] : r;
    for (; k < n; k++) r = idx[k] > r ? idx[k] : r;
    return r;
}

static AVX2 void axpy_f64(double a, const double *x, double *y, size_t n)
{
    const __m256d va = _mm256_set1_pd(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256d p0 = _mm256_mul_pd(va, _mm256_loadu_pd(x + i));
        __m256d p1 = _mm256_mul_pd(va, _mm256_loadu_pd(x + i + 4));
        _mm256_storeu_pd(y + i, _mm256_add_pd(p0, _mm256_loadu_pd(y + i)));
        _mm256_storeu_pd(y + i + 4, _mm256_add_pd(p1, _mm256_loadu_pd(y + i + 4)));
    }
    rtm_axpy_tail_f64(a, x, y, i, n);
}

const rtm_kernels _rtm_kernels_avx2 = {
    .level = RTM_SIMD_AVX2,
    .sum_i32 = sum_i32,
    .sum_i64 = sum_i64,
    .fsum_f32 = fsum_f32,
    .fsum_f64 = fsum_f64,
    .minmax_i32 = minmax_i32,
    .minmax_i64 = minmax_i64,
    .minmax_f32 = minmax_f32,
    .minmax_f64 = minmax_f64,
    .cmp_i32 = cmp_i32,
    .cmp_i64 = cmp_i64,
    .cmp_f32 = cmp_f32,
    .cmp_f64 = cmp_f64,
    .gather_32 = gather_32,
    .gather_64 = gather_64,
    .max_index = max_index,
    .axpy_f64 = axpy_f64,
};

#endif /* RTM_SIMD_X86 */
