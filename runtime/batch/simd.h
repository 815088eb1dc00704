/*
 * simd.h: the column kernels' insides. One table of function pointers per
 * instruction set (scalar, SSE2, AVX2, AVX-512); simd.c picks one table once
 * (cpuid, or the RTM_SIMD environment variable) and the public rtm_col_*
 * functions call through it after checking their arguments.
 *
 * Every path gives bit-identical results, so the scalar code is the
 * reference the others are tested against:
 *  - integer sums are exact (128-bit accumulators), whatever the order;
 *  - floating-point sums follow one algorithm whose order of operations does
 *    not depend on the vector width: RTM_FSUM_LANES Neumaier accumulators,
 *    element i going to lane i % RTM_FSUM_LANES, the lanes combined by the
 *    shared scalar code in kern_scalar.c. A vector path keeps the lanes in
 *    registers; the scalar path keeps them in an array;
 *  - min/max/compare results are order-independent once NaN and the sign of
 *    zero are settled (simd.c settles them the same way for every path);
 *  - no path contracts a*x+y into a fused multiply-add.
 *
 * Kernels may assume valid arguments (simd.c checks them) and must never
 * read outside [x, x + n): they serve any array, not only batch columns.
 */
#ifndef RTM_SIMD_H
#define RTM_SIMD_H

#include "../mem/internal.h"

#if defined(__x86_64__) || defined(__i386__)
#  define RTM_SIMD_X86 1
#  define RTM_TARGET(isa) __attribute__((target(isa)))
#else
#  define RTM_TARGET(isa)
#endif

/* Contraction of a*b+c into an FMA would make the AVX paths differ from the
 * others in the last bit. GCC does not contract in ISO C mode, which the
 * build uses; Clang contracts only within one expression unless told. */
#if defined(__clang__)
#  define RTM_NO_CONTRACT _Pragma("STDC FP_CONTRACT OFF")
#else
#  define RTM_NO_CONTRACT
#endif

/* A signed 128-bit accumulator for exact integer sums, without relying on
 * __int128: the value is hi * 2^64 + lo. */
typedef struct rtm_i128 {
    uint64_t lo;
    int64_t hi;
} rtm_i128;

RTM_INLINE void rtm_i128_add_i64(rtm_i128 *a, int64_t x)
{
    uint64_t lo = a->lo + (uint64_t)x;
    a->hi += (int64_t)(lo < a->lo) - (x < 0);
    a->lo = lo;
}

RTM_INLINE void rtm_i128_add(rtm_i128 *a, rtm_i128 b)
{
    uint64_t lo = a->lo + b.lo;
    a->hi += b.hi + (int64_t)(lo < a->lo);
    a->lo = lo;
}

/* Does the value fit in an int64_t? */
RTM_INLINE bool rtm_i128_fits(rtm_i128 a)
{
    return (a.hi == 0 && a.lo <= (uint64_t)INT64_MAX) || (a.hi == -1 && a.lo > (uint64_t)INT64_MAX);
}

/* The state of a floating-point sum: s[j] + c[j] is lane j's compensated
 * partial sum. 16 lanes: two AVX-512 vectors, four AVX2, eight SSE2. */
#define RTM_FSUM_LANES 16
typedef struct rtm_fsum {
    double s[RTM_FSUM_LANES];
    double c[RTM_FSUM_LANES];
} rtm_fsum;

/* The comparison a compare kernel makes (the public rtm_cmp values). */
typedef int rtm_cmp_op;

/* One instruction set's kernels. A path without a good instruction for a
 * kernel (SSE2 has no 64-bit compare) points at the scalar one. */
typedef struct rtm_kernels {
    rtm_simd level;
    /* acc += the values; n < 2^31 (simd.c splits longer columns) */
    void (*sum_i32)(const int32_t *x, size_t n, rtm_i128 *acc);
    void (*sum_i64)(const int64_t *x, size_t n, rtm_i128 *acc);
    /* Adds whole blocks of RTM_FSUM_LANES values (n a multiple of it) into
     * st, element i into lane i % RTM_FSUM_LANES. */
    void (*fsum_f32)(const float *x, size_t n, rtm_fsum *st);
    void (*fsum_f64)(const double *x, size_t n, rtm_fsum *st);
    /* n >= 1. Floating point: the plain min/max of the non-NaN values with
     * either sign for a zero, and *flags set to RTM_MM_NAN if a NaN was seen,
     * RTM_MM_NEGZERO if a -0.0 was, RTM_MM_POSZERO if a +0.0 was. */
    void (*minmax_i32)(const int32_t *x, size_t n, int32_t *min, int32_t *max);
    void (*minmax_i64)(const int64_t *x, size_t n, int64_t *min, int64_t *max);
    void (*minmax_f32)(const float *x, size_t n, float *min, float *max, unsigned *flags);
    void (*minmax_f64)(const double *x, size_t n, double *min, double *max, unsigned *flags);
    /* Writes the bits of n / 64 whole words (n a multiple of 64). */
    void (*cmp_i32)(const int32_t *x, size_t n, rtm_cmp_op op, int32_t v, uint64_t *bits);
    void (*cmp_i64)(const int64_t *x, size_t n, rtm_cmp_op op, int64_t v, uint64_t *bits);
    void (*cmp_f32)(const float *x, size_t n, rtm_cmp_op op, float v, uint64_t *bits);
    void (*cmp_f64)(const double *x, size_t n, rtm_cmp_op op, double v, uint64_t *bits);
    /* out[k] = col[idx[k]]; every idx[k] was checked, and is < 2^31. */
    void (*gather_32)(const uint32_t *col, const uint32_t *idx, size_t n, uint32_t *out);
    void (*gather_64)(const uint64_t *col, const uint32_t *idx, size_t n, uint64_t *out);
    /* the largest index, n >= 1 */
    uint32_t (*max_index)(const uint32_t *idx, size_t n);
    /* y[i] = a * x[i] + y[i], rounded twice */
    void (*axpy_f64)(double a, const double *x, double *y, size_t n);
} rtm_kernels;

#define RTM_MM_NAN 1u
#define RTM_MM_NEGZERO 2u
#define RTM_MM_POSZERO 4u

extern const rtm_kernels _rtm_kernels_scalar;
#ifdef RTM_SIMD_X86
extern const rtm_kernels _rtm_kernels_sse2;
extern const rtm_kernels _rtm_kernels_avx2;
extern const rtm_kernels _rtm_kernels_avx512;
#endif

/* The table in use (chosen on first call). */
const rtm_kernels *_rtm_kernels(void);

/* The scalar kernels a vector path without the instructions borrows. */
void _rtm_scalar_sum_i64(const int64_t *x, size_t n, rtm_i128 *acc);
void _rtm_scalar_minmax_i64(const int64_t *x, size_t n, int64_t *min, int64_t *max);
void _rtm_scalar_cmp_i64(const int64_t *x, size_t n, rtm_cmp_op op, int64_t v, uint64_t *bits);
void _rtm_scalar_gather_32(const uint32_t *col, const uint32_t *idx, size_t n, uint32_t *out);
void _rtm_scalar_gather_64(const uint64_t *col, const uint32_t *idx, size_t n, uint64_t *out);
uint32_t _rtm_scalar_max_index(const uint32_t *idx, size_t n);

/* Shared scalar pieces every path calls, so they round the same way. */
void _rtm_fsum_init(rtm_fsum *st);
/* Adds n < RTM_FSUM_LANES trailing values into lanes 0..n-1. */
void _rtm_fsum_tail_f64(rtm_fsum *st, const double *x, size_t n);
void _rtm_fsum_tail_f32(rtm_fsum *st, const float *x, size_t n);
/* Combines the lanes; a non-finite result is settled here (NaN canonical). */
double _rtm_fsum_result(const rtm_fsum *st);
/* The compare of one value, and of a partial last word (n < 64 values). */
uint64_t _rtm_cmp_tail_i32(const int32_t *x, size_t n, rtm_cmp_op op, int32_t v);
uint64_t _rtm_cmp_tail_i64(const int64_t *x, size_t n, rtm_cmp_op op, int64_t v);
uint64_t _rtm_cmp_tail_f32(const float *x, size_t n, rtm_cmp_op op, float v);
uint64_t _rtm_cmp_tail_f64(const double *x, size_t n, rtm_cmp_op op, double v);

/* Lane j of a Neumaier sum takes one value: the reference every vector path
 * reproduces operation for operation. */
RTM_INLINE void rtm_fsum_step(double *s, double *c, double x)
{
    double t = *s + x;
    double big = x, small = *s;
    if (__builtin_fabs(*s) >= __builtin_fabs(x)) {
        big = *s;
        small = x;
    }
    *c = *c + ((big - t) + small);
    *s = t;
}

/* The scalar tail of every vector min/max kernel: folds x[i..n) into *a, *b
 * and the NaN / signed-zero flags, as the vector body does. */
#define RTM_DEFINE_MINMAX_TAIL(name, T)                                          \
    RTM_INLINE void name(const T *x, size_t i, size_t n, T *a, T *b, unsigned *f) \
    {                                                                           \
        for (; i < n; i++) {                                                    \
            T v = x[i];                                                         \
            if (v != v) {                                                       \
                *f |= RTM_MM_NAN;                                               \
                continue;                                                       \
            }                                                                   \
            if (v == 0) *f |= __builtin_signbit(v) ? RTM_MM_NEGZERO : RTM_MM_POSZERO; \
            *a = v < *a ? v : *a;                                               \
            *b = v > *b ? v : *b;                                               \
        }                                                                       \
    }
RTM_DEFINE_MINMAX_TAIL(rtm_minmax_tail_f32, float)
RTM_DEFINE_MINMAX_TAIL(rtm_minmax_tail_f64, double)
#define rtm_minmax_tail(x, i, n, a, b, f)                                        \
    _Generic((x), const float *: rtm_minmax_tail_f32, const double *: rtm_minmax_tail_f64)( \
        (x), (i), (n), (a), (b), (f))

/* The scalar tail of every vector axpy: y[i..n) = a * x + y, rounded twice
 * (no fused multiply-add, like the vector body). */
RTM_INLINE void rtm_axpy_tail_f64(double a, const double *x, double *y, size_t i, size_t n)
{
    for (; i < n; i++) {
        double p = a * x[i];
        y[i] = p + y[i];
    }
}

#endif /* RTM_SIMD_H */
