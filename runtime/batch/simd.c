/*
 * simd.c: which kernels run (cpuid and the OS's saved register state, or
 * RTM_SIMD), and the public rtm_col_* and rtm_sel_* functions: they check
 * their arguments, call the chosen kernel on whole blocks, and finish the
 * tail and the result with code every path shares.
 */
#include "simd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef RTM_SIMD_X86
#  include <cpuid.h>
#endif

/* ---- choosing a path ----------------------------------------------------- */

static const rtm_kernels *table_of(rtm_simd level)
{
    switch (level) {
    case RTM_SIMD_SCALAR: return &_rtm_kernels_scalar;
#ifdef RTM_SIMD_X86
    case RTM_SIMD_SSE2: return &_rtm_kernels_sse2;
    case RTM_SIMD_AVX2: return &_rtm_kernels_avx2;
    case RTM_SIMD_AVX512: return &_rtm_kernels_avx512;
#else
    default: break;
#endif
    }
    return NULL;
}

#ifdef RTM_SIMD_X86
static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

/* The widest path the CPU has and the OS saves the registers of. */
static rtm_simd cpu_best(void)
{
#ifdef RTM_SIMD_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(d & bit_SSE2)) return RTM_SIMD_SCALAR;
    if (!(c & bit_OSXSAVE) || !(c & bit_AVX)) return RTM_SIMD_SSE2;
    uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return RTM_SIMD_SSE2; /* XMM and YMM state */
    if (__get_cpuid_max(0, NULL) < 7) return RTM_SIMD_SSE2;
    __cpuid_count(7, 0, a, b, c, d);
    if (!(b & bit_AVX2)) return RTM_SIMD_SSE2;
    /* opmask, upper halves of ZMM0-15, and ZMM16-31 */
    if ((b & bit_AVX512F) && (xcr0 & 0xE6) == 0xE6) return RTM_SIMD_AVX512;
    return RTM_SIMD_AVX2;
#else
    return RTM_SIMD_SCALAR;
#endif
}

static _Atomic int best_level = -1;
static _Atomic(const rtm_kernels *) active;

rtm_simd rtm_simd_best(void)
{
    int level = atomic_load_explicit(&best_level, memory_order_relaxed);
    if (level < 0) {
        level = (int)cpu_best();
        atomic_store_explicit(&best_level, level, memory_order_relaxed);
    }
    return (rtm_simd)level;
}

/* RTM_SIMD=scalar|sse2|avx2|avx512 asks for a path; one the CPU lacks gives
 * the best it has, and anything else is ignored. */
static rtm_simd env_level(rtm_simd best)
{
    static const char *const names[] = {"scalar", "sse2", "avx2", "avx512"};
    const char *want = getenv("RTM_SIMD");
    if (want == NULL) return best;
    for (int i = 0; i < 4; i++)
        if (strcmp(want, names[i]) == 0) return (rtm_simd)i < best ? (rtm_simd)i : best;
    return best;
}

RTM_COLD static const rtm_kernels *choose(void)
{
    const rtm_kernels *k = table_of(env_level(rtm_simd_best()));
    const rtm_kernels *expected = NULL;
    /* Two threads may race here: both pick the same table, or a
     * rtm_simd_select came first and wins. */
    if (!atomic_compare_exchange_strong_explicit(&active, &expected, k, memory_order_acq_rel,
                                                 memory_order_acquire))
        return expected;
    return k;
}

const rtm_kernels *_rtm_kernels(void)
{
    const rtm_kernels *k = atomic_load_explicit(&active, memory_order_acquire);
    return RTM_LIKELY(k != NULL) ? k : choose();
}

rtm_simd rtm_simd_active(void) { return _rtm_kernels()->level; }

const char *rtm_simd_name(rtm_simd level)
{
    switch (level) {
    case RTM_SIMD_SCALAR: return "scalar";
    case RTM_SIMD_SSE2: return "sse2";
    case RTM_SIMD_AVX2: return "avx2";
    case RTM_SIMD_AVX512: return "avx512";
    }
    return "unknown";
}

rtm_status rtm_simd_select(rtm_simd level)
{
    if ((unsigned)level > (unsigned)rtm_simd_best()) return RTM_EINVAL;
    const rtm_kernels *k = table_of(level);
    if (k == NULL) return RTM_EINVAL;
    atomic_store_explicit(&active, k, memory_order_release);
    return RTM_OK;
}

/* ---- sums and means ------------------------------------------------------ */

/* Per call of an integer sum kernel: keeps its 64-bit lanes from overflowing. */
#define SUM_CHUNK ((size_t)1 << 30)

static rtm_i128 sum_i32(const int32_t *x, size_t n)
{
    const rtm_kernels *k = _rtm_kernels();
    rtm_i128 acc = {0, 0};
    for (size_t i = 0; i < n; i += SUM_CHUNK)
        k->sum_i32(x + i, n - i < SUM_CHUNK ? n - i : SUM_CHUNK, &acc);
    return acc;
}

static rtm_i128 sum_i64(const int64_t *x, size_t n)
{
    const rtm_kernels *k = _rtm_kernels();
    rtm_i128 acc = {0, 0};
    for (size_t i = 0; i < n; i += SUM_CHUNK)
        k->sum_i64(x + i, n - i < SUM_CHUNK ? n - i : SUM_CHUNK, &acc);
    return acc;
}

static rtm_status i128_result(rtm_i128 a, int64_t *out)
{
    uint64_t lo = a.lo;
    int64_t v;
    memcpy(&v, &lo, sizeof v); /* modulo 2^64 when it does not fit */
    *out = v;
    return rtm_i128_fits(a) ? RTM_OK : RTM_ELIMIT;
}

static double i128_mean(rtm_i128 a, size_t n)
{
    long double v = (long double)a.hi * 18446744073709551616.0L + (long double)a.lo;
    return (double)(v / (long double)n);
}

static double fsum_f64(const double *x, size_t n)
{
    if (n == 0) return 0.0;
    rtm_fsum st;
    _rtm_fsum_init(&st);
    size_t whole = n - n % RTM_FSUM_LANES;
    if (whole) _rtm_kernels()->fsum_f64(x, whole, &st);
    _rtm_fsum_tail_f64(&st, x + whole, n - whole);
    return _rtm_fsum_result(&st);
}

static double fsum_f32(const float *x, size_t n)
{
    if (n == 0) return 0.0;
    rtm_fsum st;
    _rtm_fsum_init(&st);
    size_t whole = n - n % RTM_FSUM_LANES;
    if (whole) _rtm_kernels()->fsum_f32(x, whole, &st);
    _rtm_fsum_tail_f32(&st, x + whole, n - whole);
    return _rtm_fsum_result(&st);
}

#define BAD_ARGS(x, n, out) ((out) == NULL || ((x) == NULL && (n) != 0))

rtm_status rtm_col_sum_i32(const int32_t *x, size_t n, int64_t *out)
{
    if (BAD_ARGS(x, n, out)) return RTM_EINVAL;
    return i128_result(sum_i32(x, n), out);
}

rtm_status rtm_col_sum_i64(const int64_t *x, size_t n, int64_t *out)
{
    if (BAD_ARGS(x, n, out)) return RTM_EINVAL;
    return i128_result(sum_i64(x, n), out);
}

rtm_status rtm_col_sum_f32(const float *x, size_t n, double *out)
{
    if (BAD_ARGS(x, n, out)) return RTM_EINVAL;
    *out = fsum_f32(x, n);
    return RTM_OK;
}

rtm_status rtm_col_sum_f64(const double *x, size_t n, double *out)
{
    if (BAD_ARGS(x, n, out)) return RTM_EINVAL;
    *out = fsum_f64(x, n);
    return RTM_OK;
}

rtm_status rtm_col_mean_i32(const int32_t *x, size_t n, double *out)
{
    if (BAD_ARGS(x, n, out) || n == 0) return RTM_EINVAL;
    *out = i128_mean(sum_i32(x, n), n);
    return RTM_OK;
}

rtm_status rtm_col_mean_i64(const int64_t *x, size_t n, double *out)
{
    if (BAD_ARGS(x, n, out) || n == 0) return RTM_EINVAL;
    *out = i128_mean(sum_i64(x, n), n);
    return RTM_OK;
}

rtm_status rtm_col_mean_f32(const float *x, size_t n, double *out)
{
    if (BAD_ARGS(x, n, out) || n == 0) return RTM_EINVAL;
    *out = fsum_f32(x, n) / (double)n;
    return RTM_OK;
}

rtm_status rtm_col_mean_f64(const double *x, size_t n, double *out)
{
    if (BAD_ARGS(x, n, out) || n == 0) return RTM_EINVAL;
    *out = fsum_f64(x, n) / (double)n;
    return RTM_OK;
}

/* ---- min and max --------------------------------------------------------- */

/* IEEE 754-2019 minimum/maximum from what a kernel saw: NaN wins, and a
 * zero result takes the sign the order -0 < +0 gives it. */
static double settle_f64(double m, unsigned flags, bool is_max)
{
    if (flags & RTM_MM_NAN) return (double)NAN;
    if (m == 0) {
        if (is_max) return (flags & RTM_MM_POSZERO) ? 0.0 : -0.0;
        return (flags & RTM_MM_NEGZERO) ? -0.0 : 0.0;
    }
    return m;
}

static float settle_f32(float m, unsigned flags, bool is_max)
{
    if (flags & RTM_MM_NAN) return NAN;
    if (m == 0) {
        if (is_max) return (flags & RTM_MM_POSZERO) ? 0.0f : -0.0f;
        return (flags & RTM_MM_NEGZERO) ? -0.0f : 0.0f;
    }
    return m;
}

#define MINMAX_INT(fn, T, kern, pick)                                           \
    rtm_status fn(const T *x, size_t n, T *out)                                 \
    {                                                                           \
        if (BAD_ARGS(x, n, out) || n == 0) return RTM_EINVAL;                   \
        T lo, hi;                                                               \
        _rtm_kernels()->kern(x, n, &lo, &hi);                                   \
        *out = pick;                                                            \
        return RTM_OK;                                                          \
    }
MINMAX_INT(rtm_col_min_i32, int32_t, minmax_i32, lo)
MINMAX_INT(rtm_col_max_i32, int32_t, minmax_i32, hi)
MINMAX_INT(rtm_col_min_i64, int64_t, minmax_i64, lo)
MINMAX_INT(rtm_col_max_i64, int64_t, minmax_i64, hi)

#define MINMAX_FLOAT(fn, T, kern, settle, pick, is_max)                         \
    rtm_status fn(const T *x, size_t n, T *out)                                 \
    {                                                                           \
        if (BAD_ARGS(x, n, out) || n == 0) return RTM_EINVAL;                   \
        T lo, hi;                                                               \
        unsigned flags = 0;                                                     \
        _rtm_kernels()->kern(x, n, &lo, &hi, &flags);                           \
        *out = settle(pick, flags, is_max);                                     \
        return RTM_OK;                                                          \
    }
MINMAX_FLOAT(rtm_col_min_f32, float, minmax_f32, settle_f32, lo, false)
MINMAX_FLOAT(rtm_col_max_f32, float, minmax_f32, settle_f32, hi, true)
MINMAX_FLOAT(rtm_col_min_f64, double, minmax_f64, settle_f64, lo, false)
MINMAX_FLOAT(rtm_col_max_f64, double, minmax_f64, settle_f64, hi, true)

/* ---- compare and selections ---------------------------------------------- */

#define CMP(fn, T, kern, tail)                                                  \
    rtm_status fn(const T *x, size_t n, rtm_cmp op, T v, uint64_t *bits)        \
    {                                                                           \
        if (BAD_ARGS(x, n, bits) || op < RTM_CMP_LT || op > RTM_CMP_GT)         \
            return RTM_EINVAL;                                                  \
        size_t whole = n & ~(size_t)63;                                         \
        if (whole) _rtm_kernels()->kern(x, whole, (rtm_cmp_op)op, v, bits);     \
        if (n > whole) bits[whole / 64] = tail(x + whole, n - whole, (rtm_cmp_op)op, v); \
        return RTM_OK;                                                          \
    }
CMP(rtm_col_cmp_i32, int32_t, cmp_i32, _rtm_cmp_tail_i32)
CMP(rtm_col_cmp_i64, int64_t, cmp_i64, _rtm_cmp_tail_i64)
CMP(rtm_col_cmp_f32, float, cmp_f32, _rtm_cmp_tail_f32)
CMP(rtm_col_cmp_f64, double, cmp_f64, _rtm_cmp_tail_f64)

static uint64_t last_word_mask(size_t n)
{
    return n % 64 ? ((uint64_t)1 << (n % 64)) - 1 : ~(uint64_t)0;
}

size_t rtm_sel_count(const uint64_t *bits, size_t n)
{
    if (bits == NULL || n == 0) return 0;
    size_t words = RTM_SEL_WORDS(n), count = 0;
    for (size_t w = 0; w + 1 < words; w++) count += (size_t)__builtin_popcountll(bits[w]);
    return count + (size_t)__builtin_popcountll(bits[words - 1] & last_word_mask(n));
}

size_t rtm_sel_indices(const uint64_t *bits, size_t n, uint32_t *idx)
{
    if (bits == NULL || idx == NULL || n == 0 || n > ((size_t)1 << 32)) return 0;
    size_t words = RTM_SEL_WORDS(n), k = 0;
    for (size_t w = 0; w < words; w++) {
        uint64_t word = bits[w];
        if (w + 1 == words) word &= last_word_mask(n);
        while (word) {
            idx[k++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(word));
            word &= word - 1;
        }
    }
    return k;
}

/* ---- gather and axpy ----------------------------------------------------- */

/* The vector gathers take signed 32-bit indices. */
#define GATHER_VECTOR_MAX ((size_t)1 << 31)

static rtm_status gather_check(const void *col, size_t len, const uint32_t *idx, size_t n,
                               const void *out, const rtm_kernels **k)
{
    if (col == NULL || idx == NULL || out == NULL) return RTM_EINVAL;
    *k = _rtm_kernels();
    if ((size_t)(*k)->max_index(idx, n) >= len) return RTM_EINVAL;
    if (len > GATHER_VECTOR_MAX) *k = &_rtm_kernels_scalar;
    return RTM_OK;
}

rtm_status rtm_col_gather_32(const void *col, size_t len, const uint32_t *idx, size_t n,
                             void *out)
{
    if (n == 0) return RTM_OK;
    const rtm_kernels *k;
    rtm_status s = gather_check(col, len, idx, n, out, &k);
    if (s == RTM_OK) k->gather_32((const uint32_t *)col, idx, n, (uint32_t *)out);
    return s;
}

rtm_status rtm_col_gather_64(const void *col, size_t len, const uint32_t *idx, size_t n,
                             void *out)
{
    if (n == 0) return RTM_OK;
    const rtm_kernels *k;
    rtm_status s = gather_check(col, len, idx, n, out, &k);
    if (s == RTM_OK) k->gather_64((const uint64_t *)col, idx, n, (uint64_t *)out);
    return s;
}

rtm_status rtm_col_axpy_f64(double a, const double *x, double *y, size_t n)
{
    if (n == 0) return RTM_OK;
    if (x == NULL || y == NULL) return RTM_EINVAL;
    _rtm_kernels()->axpy_f64(a, x, y, n);
    return RTM_OK;
}
