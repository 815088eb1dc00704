/*
 * kern_avx512.c: the AVX-512 kernels (512-bit vectors and mask registers).
 * Only AVX-512F instructions are used, so any AVX-512 CPU runs them; simd.c
 * also checks that the OS saves the ZMM and mask registers.
 */
#include "simd.h"

#ifdef RTM_SIMD_X86
#include <immintrin.h>
#include <math.h>

RTM_NO_CONTRACT

#define AVX512 RTM_TARGET("avx512f")
#define AVX512_INLINE static inline __attribute__((always_inline)) AVX512

/* ---- floating-point sums ------------------------------------------------- */


AVX512_INLINE void step(__m512d *s, __m512d *c, __m512d x)
{
    __m512d t = _mm512_add_pd(*s, x);
    __mmask8 s_ge_x = _mm512_cmp_pd_mask(_mm512_abs_pd(*s), _mm512_abs_pd(x), _CMP_GE_OQ);
    __m512d big = _mm512_mask_blend_pd(s_ge_x, x, *s);
    __m512d small = _mm512_mask_blend_pd(s_ge_x, *s, x);
    *c = _mm512_add_pd(*c, _mm512_add_pd(_mm512_sub_pd(big, t), small));
    *s = t;
}

static AVX512 void fsum_f64(const double *x, size_t n, rtm_fsum *st)
{
    __m512d s0 = _mm512_loadu_pd(st->s), s1 = _mm512_loadu_pd(st->s + 8);
    __m512d c0 = _mm512_loadu_pd(st->c), c1 = _mm512_loadu_pd(st->c + 8);
    for (size_t i = 0; i < n; i += 16) {
        step(&s0, &c0, _mm512_loadu_pd(x + i));
        step(&s1, &c1, _mm512_loadu_pd(x + i + 8));
    }
    _mm512_storeu_pd(st->s, s0);
    _mm512_storeu_pd(st->s + 8, s1);
    _mm512_storeu_pd(st->c, c0);
    _mm512_storeu_pd(st->c + 8, c1);
}

static AVX512 void fsum_f32(const float *x, size_t n, rtm_fsum *st)
{
    __m512d s0 = _mm512_loadu_pd(st->s), s1 = _mm512_loadu_pd(st->s + 8);
    __m512d c0 = _mm512_loadu_pd(st->c), c1 = _mm512_loadu_pd(st->c + 8);
    for (size_t i = 0; i < n; i += 16) {
        step(&s0, &c0, _mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
        step(&s1, &c1, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8)));
    }
    _mm512_storeu_pd(st->s, s0);
    _mm512_storeu_pd(st->s + 8, s1);
    _mm512_storeu_pd(st->c, c0);
    _mm512_storeu_pd(st->c + 8, c1);
}

/* ---- integer sums -------------------------------------------------------- */

static AVX512 void sum_i32(const int32_t *x, size_t n, rtm_i128 *acc)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm512_add_epi64(a0, _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(x + i))));
        a1 = _mm512_add_epi64(a1, _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(x + i + 8))));
        a2 = _mm512_add_epi64(a2, _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(x + i + 16))));
        a3 = _mm512_add_epi64(a3, _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(x + i + 24))));
    }
    int64_t l[8], s = 0;
    _mm512_storeu_si512(l, _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
    for (int j = 0; j < 8; j++) s += l[j];
    for (; i < n; i++) s += x[i];
    rtm_i128_add_i64(acc, s);
}

AVX512_INLINE void add128(__m512i *lo, __m512i *hi, __m512i x)
{
    __m512i sum = _mm512_add_epi64(*lo, x);
    __mmask8 carry = _mm512_cmplt_epu64_mask(sum, x);
    *hi = _mm512_mask_sub_epi64(*hi, carry, *hi, _mm512_set1_epi64(-1));
    *hi = _mm512_add_epi64(*hi, _mm512_srai_epi64(x, 63));
    *lo = sum;
}

static AVX512 void sum_i64(const int64_t *x, size_t n, rtm_i128 *acc)
{
    __m512i lo0 = _mm512_setzero_si512(), hi0 = lo0, lo1 = lo0, hi1 = lo0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        add128(&lo0, &hi0, _mm512_loadu_si512(x + i));
        add128(&lo1, &hi1, _mm512_loadu_si512(x + i + 8));
    }
    uint64_t lo[16];
    int64_t hi[16];
    _mm512_storeu_si512(lo, lo0);
    _mm512_storeu_si512(lo + 8, lo1);
    _mm512_storeu_si512(hi, hi0);
    _mm512_storeu_si512(hi + 8, hi1);
    for (int j = 0; j < 16; j++) rtm_i128_add(acc, (rtm_i128){lo[j], hi[j]});
    for (; i < n; i++) rtm_i128_add_i64(acc, x[i]);
}

/* ---- min and max --------------------------------------------------------- */

#define MINMAX_INT(name, T, per, set1, vmin, vmax)                              \
    static AVX512 void name(const T *x, size_t n, T *min, T *max)               \
    {                                                                           \
        __m512i lo = set1(x[0]), hi = lo;                                       \
        size_t i = 0;                                                           \
        for (; i + per <= n; i += per) {                                        \
            __m512i v = _mm512_loadu_si512(x + i);                              \
            lo = vmin(lo, v);                                                   \
            hi = vmax(hi, v);                                                   \
        }                                                                       \
        T l[per], h[per];                                                       \
        _mm512_storeu_si512(l, lo);                                             \
        _mm512_storeu_si512(h, hi);                                             \
        T a = l[0], b = h[0];                                                   \
        for (int j = 1; j < per; j++) {                                         \
            a = l[j] < a ? l[j] : a;                                            \
            b = h[j] > b ? h[j] : b;                                            \
        }                                                                       \
        for (; i < n; i++) {                                                    \
            a = x[i] < a ? x[i] : a;                                            \
            b = x[i] > b ? x[i] : b;                                            \
        }                                                                       \
        *min = a;                                                               \
        *max = b;                                                               \
    }
MINMAX_INT(minmax_i32, int32_t, 16, _mm512_set1_epi32, _mm512_min_epi32, _mm512_max_epi32)
MINMAX_INT(minmax_i64, int64_t, 8, _mm512_set1_epi64, _mm512_min_epi64, _mm512_max_epi64)

/* As in kern_avx2.c: min(x, m) skips a NaN x; NaNs and signed zeros are
 * noted in masks (the sign bit tested with test_epi64/epi32). */
#define MINMAX_FLOAT(name, T, per, V, VI, mask_t, loadu, set1, vmin, vmax, cmp,  \
                     test, set1i, storeu, signbit_const, bitcast)               \
    static AVX512 void name(const T *x, size_t n, T *min, T *max, unsigned *flags) \
    {                                                                           \
        const V zero = set1((T)0);                                              \
        const VI sign = set1i(signbit_const);                                   \
        V lo = set1((T)INFINITY), hi = set1((T)-INFINITY);                      \
        unsigned nan = 0, neg = 0, pos = 0;                                     \
        size_t i = 0;                                                           \
        for (; i + per <= n; i += per) {                                        \
            V v = loadu(x + i);                                                 \
            lo = vmin(v, lo);                                                   \
            hi = vmax(v, hi);                                                   \
            nan |= cmp(v, v, _CMP_UNORD_Q);                                     \
            mask_t z = cmp(v, zero, _CMP_EQ_OQ);                                \
            mask_t s = test(bitcast(v), sign);                                  \
            neg |= (unsigned)(z & s);                                           \
            pos |= (unsigned)(z & (mask_t)~s);                                  \
        }                                                                       \
        T l[per], h[per];                                                       \
        storeu(l, lo);                                                          \
        storeu(h, hi);                                                          \
        T a = l[0], b = h[0];                                                   \
        for (int j = 1; j < per; j++) {                                         \
            a = l[j] < a ? l[j] : a;                                            \
            b = h[j] > b ? h[j] : b;                                            \
        }                                                                       \
        unsigned f = (nan ? RTM_MM_NAN : 0) | (neg ? RTM_MM_NEGZERO : 0) |       \
                     (pos ? RTM_MM_POSZERO : 0);                                \
        rtm_minmax_tail(x, i, n, &a, &b, &f);                                \
        *min = a;                                                               \
        *max = b;                                                               \
        *flags = f;                                                             \
    }

MINMAX_FLOAT(minmax_f64, double, 8, __m512d, __m512i, __mmask8, _mm512_loadu_pd, _mm512_set1_pd,
             _mm512_min_pd, _mm512_max_pd, _mm512_cmp_pd_mask, _mm512_test_epi64_mask,
             _mm512_set1_epi64, _mm512_storeu_pd, INT64_MIN, _mm512_castpd_si512)
MINMAX_FLOAT(minmax_f32, float, 16, __m512, __m512i, __mmask16, _mm512_loadu_ps, _mm512_set1_ps,
             _mm512_min_ps, _mm512_max_ps, _mm512_cmp_ps_mask, _mm512_test_epi32_mask,
             _mm512_set1_epi32, _mm512_storeu_ps, INT32_MIN, _mm512_castps_si512)

/* ---- compare ------------------------------------------------------------- */

/* Mask registers give the bits directly: 8 per f64/i64 vector, 16 per
 * f32/i32 vector. */
#define CMP_WORDS(load, cmp, per, PRED)                                         \
    for (size_t i = 0; i < n; i += 64) {                                        \
        uint64_t w = 0;                                                         \
        for (int k = 0; k < 64 / per; k++)                                      \
            w |= (uint64_t)cmp(load(x + i + k * per), vv, PRED) << (k * per);   \
        bits[i / 64] = w;                                                       \
    }

#define CMP_FN(name, T, set1, load, cmp, per, LT, LE, EQ, NE, GE, GT)           \
    static AVX512 void name(const T *x, size_t n, rtm_cmp_op op, T v, uint64_t *bits) \
    {                                                                           \
        const __typeof__(set1(v)) vv = set1(v);                                 \
        switch (op) {                                                           \
        case RTM_CMP_LT: CMP_WORDS(load, cmp, per, LT) break;                   \
        case RTM_CMP_LE: CMP_WORDS(load, cmp, per, LE) break;                   \
        case RTM_CMP_EQ: CMP_WORDS(load, cmp, per, EQ) break;                   \
        case RTM_CMP_NE: CMP_WORDS(load, cmp, per, NE) break;                   \
        case RTM_CMP_GE: CMP_WORDS(load, cmp, per, GE) break;                   \
        case RTM_CMP_GT: CMP_WORDS(load, cmp, per, GT) break;                   \
        }                                                                       \
    }

#define LOAD_I(p) _mm512_loadu_si512(p)
CMP_FN(cmp_f64, double, _mm512_set1_pd, _mm512_loadu_pd, _mm512_cmp_pd_mask, 8,
       _CMP_LT_OQ, _CMP_LE_OQ, _CMP_EQ_OQ, _CMP_NEQ_UQ, _CMP_GE_OQ, _CMP_GT_OQ)
CMP_FN(cmp_f32, float, _mm512_set1_ps, _mm512_loadu_ps, _mm512_cmp_ps_mask, 16,
       _CMP_LT_OQ, _CMP_LE_OQ, _CMP_EQ_OQ, _CMP_NEQ_UQ, _CMP_GE_OQ, _CMP_GT_OQ)
CMP_FN(cmp_i64, int64_t, _mm512_set1_epi64, LOAD_I, _mm512_cmp_epi64_mask, 8,
       _MM_CMPINT_LT, _MM_CMPINT_LE, _MM_CMPINT_EQ, _MM_CMPINT_NE, _MM_CMPINT_NLT, _MM_CMPINT_NLE)
CMP_FN(cmp_i32, int32_t, _mm512_set1_epi32, LOAD_I, _mm512_cmp_epi32_mask, 16,
       _MM_CMPINT_LT, _MM_CMPINT_LE, _MM_CMPINT_EQ, _MM_CMPINT_NE, _MM_CMPINT_NLT, _MM_CMPINT_NLE)

/* ---- gather, axpy -------------------------------------------------------- */

static AVX512 void gather_32(const uint32_t *col, const uint32_t *idx, size_t n, uint32_t *out)
{
    size_t k = 0;
    for (; k + 16 <= n; k += 16)
        _mm512_storeu_si512(out + k, _mm512_i32gather_epi32(_mm512_loadu_si512(idx + k), col, 4));
    for (; k < n; k++) out[k] = col[idx[k]];
}

static AVX512 void gather_64(const uint64_t *col, const uint32_t *idx, size_t n, uint64_t *out)
{
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256i i = _mm256_loadu_si256((const __m256i *)(idx + k));
        _mm512_storeu_si512(out + k, _mm512_i32gather_epi64(i, col, 8));
    }
    for (; k < n; k++) out[k] = col[idx[k]];
}

static AVX512 uint32_t max_index(const uint32_t *idx, size_t n)
{
    __m512i m = _mm512_setzero_si512();
    size_t k = 0;
    for (; k + 16 <= n; k += 16) m = _mm512_max_epu32(m, _mm512_loadu_si512(idx + k));
    uint32_t l[16], r = 0;
    _mm512_storeu_si512(l, m);
    for (int j = 0; j < 16; j++) r = l[j] > r ? l[j] : r;
    for (; k < n; k++) r = idx[k] > r ? idx[k] : r;
    return r;
}

static AVX512 void axpy_f64(double a, const double *x, double *y, size_t n)
{
    const __m512d va = _mm512_set1_pd(a);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512d p0 = _mm512_mul_pd(va, _mm512_loadu_pd(x + i));
        __m512d p1 = _mm512_mul_pd(va, _mm512_loadu_pd(x + i + 8));
        _mm512_storeu_pd(y + i, _mm512_add_pd(p0, _mm512_loadu_pd(y + i)));
        _mm512_storeu_pd(y + i + 8, _mm512_add_pd(p1, _mm512_loadu_pd(y + i + 8)));
    }
    rtm_axpy_tail_f64(a, x, y, i, n);
}

const rtm_kernels _rtm_kernels_avx512 = {
    .level = RTM_SIMD_AVX512,
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
