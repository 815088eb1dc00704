/*
 * kern_sse2.c: the SSE2 kernels (128-bit vectors), the baseline of every
 * x86-64 CPU. SSE2 has no 64-bit integer compare and no gather, so on this
 * path the i64 sum/min/max/compare, the gathers and the index check are the
 * scalar kernels; blends are and/andnot/or.
 */
#include "simd.h"

#ifdef RTM_SIMD_X86
#include <emmintrin.h>
#include <math.h>

RTM_NO_CONTRACT

#define SSE2 RTM_TARGET("sse2")
#define SSE2_INLINE static inline __attribute__((always_inline)) SSE2

/* ---- floating-point sums ------------------------------------------------- */

SSE2_INLINE __m128d blend(__m128d mask, __m128d yes, __m128d no)
{
    return _mm_or_pd(_mm_and_pd(mask, yes), _mm_andnot_pd(mask, no));
}

SSE2_INLINE void step(__m128d *s, __m128d *c, __m128d x)
{
    const __m128d abs = _mm_castsi128_pd(_mm_set1_epi64x(INT64_MAX));
    __m128d t = _mm_add_pd(*s, x);
    __m128d s_ge_x = _mm_cmpge_pd(_mm_and_pd(*s, abs), _mm_and_pd(x, abs));
    __m128d big = blend(s_ge_x, *s, x);
    __m128d small = blend(s_ge_x, x, *s);
    *c = _mm_add_pd(*c, _mm_add_pd(_mm_sub_pd(big, t), small));
    *s = t;
}

/* Sixteen lanes are eight register pairs: the compiler keeps what fits. */
static SSE2 void fsum_f64(const double *x, size_t n, rtm_fsum *st)
{
    __m128d s[8], c[8];
    for (int j = 0; j < 8; j++) {
        s[j] = _mm_loadu_pd(st->s + 2 * j);
        c[j] = _mm_loadu_pd(st->c + 2 * j);
    }
    for (size_t i = 0; i < n; i += 16)
        for (int j = 0; j < 8; j++) step(&s[j], &c[j], _mm_loadu_pd(x + i + 2 * j));
    for (int j = 0; j < 8; j++) {
        _mm_storeu_pd(st->s + 2 * j, s[j]);
        _mm_storeu_pd(st->c + 2 * j, c[j]);
    }
}

static SSE2 void fsum_f32(const float *x, size_t n, rtm_fsum *st)
{
    __m128d s[8], c[8];
    for (int j = 0; j < 8; j++) {
        s[j] = _mm_loadu_pd(st->s + 2 * j);
        c[j] = _mm_loadu_pd(st->c + 2 * j);
    }
    for (size_t i = 0; i < n; i += 16)
        for (int j = 0; j < 4; j++) {
            __m128 v = _mm_loadu_ps(x + i + 4 * j);
            step(&s[2 * j], &c[2 * j], _mm_cvtps_pd(v));
            step(&s[2 * j + 1], &c[2 * j + 1], _mm_cvtps_pd(_mm_movehl_ps(v, v)));
        }
    for (int j = 0; j < 8; j++) {
        _mm_storeu_pd(st->s + 2 * j, s[j]);
        _mm_storeu_pd(st->c + 2 * j, c[j]);
    }
}

/* ---- integer sums -------------------------------------------------------- */

/* Sign-extended to 64-bit lanes by interleaving with the sign words. */
static SSE2 void sum_i32(const int32_t *x, size_t n, rtm_i128 *acc)
{
    const __m128i zero = _mm_setzero_si128();
    __m128i a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i v = _mm_loadu_si128((const __m128i *)(x + i));
        __m128i w = _mm_loadu_si128((const __m128i *)(x + i + 4));
        __m128i sv = _mm_cmpgt_epi32(zero, v), sw = _mm_cmpgt_epi32(zero, w);
        a0 = _mm_add_epi64(a0, _mm_unpacklo_epi32(v, sv));
        a1 = _mm_add_epi64(a1, _mm_unpackhi_epi32(v, sv));
        a2 = _mm_add_epi64(a2, _mm_unpacklo_epi32(w, sw));
        a3 = _mm_add_epi64(a3, _mm_unpackhi_epi32(w, sw));
    }
    int64_t l[2];
    _mm_storeu_si128((__m128i *)l, _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3)));
    int64_t s = l[0] + l[1];
    for (; i < n; i++) s += x[i];
    rtm_i128_add_i64(acc, s);
}

/* ---- min and max --------------------------------------------------------- */

static SSE2 void minmax_i32(const int32_t *x, size_t n, int32_t *min, int32_t *max)
{
    __m128i lo = _mm_set1_epi32(x[0]), hi = lo;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m128i v = _mm_loadu_si128((const __m128i *)(x + i));
        __m128i lo_gt = _mm_cmpgt_epi32(lo, v), v_gt = _mm_cmpgt_epi32(v, hi);
        lo = _mm_or_si128(_mm_and_si128(lo_gt, v), _mm_andnot_si128(lo_gt, lo));
        hi = _mm_or_si128(_mm_and_si128(v_gt, v), _mm_andnot_si128(v_gt, hi));
    }
    int32_t l[4], h[4];
    _mm_storeu_si128((__m128i *)l, lo);
    _mm_storeu_si128((__m128i *)h, hi);
    int32_t a = l[0], b = h[0];
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

/* As in kern_avx2.c: min(x, m) skips a NaN x; NaNs and signed zeros noted. */
#define MINMAX_FLOAT(name, T, V, per, suffix, movemask)                         \
    static SSE2 void name(const T *x, size_t n, T *min, T *max, unsigned *flags) \
    {                                                                           \
        const V zero = _mm_setzero_##suffix();                                  \
        V lo = _mm_set1_##suffix((T)INFINITY), hi = _mm_set1_##suffix((T)-INFINITY); \
        V nan = zero, neg = zero, pos = zero;                                   \
        size_t i = 0;                                                           \
        for (; i + per <= n; i += per) {                                        \
            V v = _mm_loadu_##suffix(x + i);                                    \
            lo = _mm_min_##suffix(v, lo);                                       \
            hi = _mm_max_##suffix(v, hi);                                       \
            nan = _mm_or_##suffix(nan, _mm_cmpunord_##suffix(v, v));            \
            V z = _mm_cmpeq_##suffix(v, zero);                                  \
            neg = _mm_or_##suffix(neg, _mm_and_##suffix(z, v));                 \
            pos = _mm_or_##suffix(pos, _mm_andnot_##suffix(v, z));              \
        }                                                                       \
        T l[per], h[per];                                                       \
        _mm_storeu_##suffix(l, lo);                                             \
        _mm_storeu_##suffix(h, hi);                                             \
        T a = l[0], b = h[0];                                                   \
        for (int j = 1; j < per; j++) {                                         \
            a = l[j] < a ? l[j] : a;                                            \
            b = h[j] > b ? h[j] : b;                                            \
        }                                                                       \
        unsigned f = (movemask(nan) ? RTM_MM_NAN : 0) |                         \
                     (movemask(neg) ? RTM_MM_NEGZERO : 0) |                     \
                     (movemask(pos) ? RTM_MM_POSZERO : 0);                      \
        rtm_minmax_tail(x, i, n, &a, &b, &f);                                \
        *min = a;                                                               \
        *max = b;                                                               \
        *flags = f;                                                             \
    }
MINMAX_FLOAT(minmax_f64, double, __m128d, 2, pd, _mm_movemask_pd)
MINMAX_FLOAT(minmax_f32, float, __m128, 4, ps, _mm_movemask_ps)

/* ---- compare ------------------------------------------------------------- */

#define CMP_WORDS(per, expr, movemask)                                          \
    for (size_t i = 0; i < n; i += 64) {                                        \
        uint64_t w = 0;                                                         \
        for (int k = 0; k < 64 / per; k++) {                                    \
            const T *p = x + i + k * per;                                       \
            w |= (uint64_t)(unsigned)movemask(expr) << (k * per);               \
        }                                                                       \
        bits[i / 64] = w ^ invert;                                              \
    }

/* SSE2's cmpneq is unordered (true for NaN) and cmpge/cmpgt are cmple/cmplt
 * with the operands swapped (false for NaN): exactly C's operators. */
#define CMP_FLOAT(name, TT, suffix, per, movemask)                              \
    static SSE2 void name(const TT *x, size_t n, rtm_cmp_op op, TT v, uint64_t *bits) \
    {                                                                           \
        typedef TT T;                                                           \
        const uint64_t invert = 0;                                              \
        const __typeof__(_mm_set1_##suffix(v)) vv = _mm_set1_##suffix(v);      \
        switch (op) {                                                           \
        case RTM_CMP_LT: CMP_WORDS(per, _mm_cmplt_##suffix(_mm_loadu_##suffix(p), vv), movemask) break;  \
        case RTM_CMP_LE: CMP_WORDS(per, _mm_cmple_##suffix(_mm_loadu_##suffix(p), vv), movemask) break;  \
        case RTM_CMP_EQ: CMP_WORDS(per, _mm_cmpeq_##suffix(_mm_loadu_##suffix(p), vv), movemask) break;  \
        case RTM_CMP_NE: CMP_WORDS(per, _mm_cmpneq_##suffix(_mm_loadu_##suffix(p), vv), movemask) break; \
        case RTM_CMP_GE: CMP_WORDS(per, _mm_cmpge_##suffix(_mm_loadu_##suffix(p), vv), movemask) break;  \
        case RTM_CMP_GT: CMP_WORDS(per, _mm_cmpgt_##suffix(_mm_loadu_##suffix(p), vv), movemask) break;  \
        }                                                                       \
    }
CMP_FLOAT(cmp_f64, double, pd, 2, _mm_movemask_pd)
CMP_FLOAT(cmp_f32, float, ps, 4, _mm_movemask_ps)

/* > and == only: <= is not >, != is not ==, >= is not <. */
static SSE2 void cmp_i32(const int32_t *x, size_t n, rtm_cmp_op op, int32_t v, uint64_t *bits)
{
    typedef int32_t T;
    const __m128i vv = _mm_set1_epi32(v);
    uint64_t invert = (op == RTM_CMP_LE || op == RTM_CMP_NE || op == RTM_CMP_GE) ? ~(uint64_t)0 : 0;
#define LOAD_I(p) _mm_loadu_si128((const __m128i *)(p))
#define MASK_I(m) _mm_movemask_ps(_mm_castsi128_ps(m))
    switch (op) {
    case RTM_CMP_GT: case RTM_CMP_LE: CMP_WORDS(4, _mm_cmpgt_epi32(LOAD_I(p), vv), MASK_I) break;
    case RTM_CMP_LT: case RTM_CMP_GE: CMP_WORDS(4, _mm_cmpgt_epi32(vv, LOAD_I(p)), MASK_I) break;
    default: CMP_WORDS(4, _mm_cmpeq_epi32(LOAD_I(p), vv), MASK_I) break;
    }
#undef LOAD_I
#undef MASK_I
}

/* ---- axpy ---------------------------------------------------------------- */

static SSE2 void axpy_f64(double a, const double *x, double *y, size_t n)
{
    const __m128d va = _mm_set1_pd(a);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m128d p0 = _mm_mul_pd(va, _mm_loadu_pd(x + i));
        __m128d p1 = _mm_mul_pd(va, _mm_loadu_pd(x + i + 2));
        _mm_storeu_pd(y + i, _mm_add_pd(p0, _mm_loadu_pd(y + i)));
        _mm_storeu_pd(y + i + 2, _mm_add_pd(p1, _mm_loadu_pd(y + i + 2)));
    }
    rtm_axpy_tail_f64(a, x, y, i, n);
}

const rtm_kernels _rtm_kernels_sse2 = {
    .level = RTM_SIMD_SSE2,
    .sum_i32 = sum_i32,
    .fsum_f32 = fsum_f32,
    .fsum_f64 = fsum_f64,
    .minmax_i32 = minmax_i32,
    .minmax_f32 = minmax_f32,
    .minmax_f64 = minmax_f64,
    .cmp_i32 = cmp_i32,
    .cmp_f32 = cmp_f32,
    .cmp_f64 = cmp_f64,
    .axpy_f64 = axpy_f64,
    /* no 64-bit compare, no gather: the scalar kernels */
    .sum_i64 = _rtm_scalar_sum_i64,
    .minmax_i64 = _rtm_scalar_minmax_i64,
    .cmp_i64 = _rtm_scalar_cmp_i64,
    .gather_32 = _rtm_scalar_gather_32,
    .gather_64 = _rtm_scalar_gather_64,
    .max_index = _rtm_scalar_max_index,
};

#endif /* RTM_SIMD_X86 */
