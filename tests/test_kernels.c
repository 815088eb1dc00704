/* test_kernels.c: the column kernels on every dispatch path the CPU has,
 * against independent references (128-bit integer sums, long-double
 * compensated sums, C's own operators) and against the scalar path bit for
 * bit, on random data, edge lengths, NaN, infinities, signed zeros and bad
 * input. RTM_SIMD=<path> with CK_RUN_CASE=env checks the variable is obeyed
 * (tests/kernels.cmake runs that once per path). */
#include "support.h"

#include <float.h>
#include <math.h>
#include <stdio.h>

#if defined(__clang__)
#  pragma STDC FP_CONTRACT OFF
#endif

/* ---- helpers ------------------------------------------------------------- */

static const size_t edge_lengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64,
                                      65, 127, 128, 129, 255, 256, 257, 1000, 4099};

static size_t large_n(void) { return rtm_test_small() ? 20011 : 300007; }

static uint64_t bits64(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static uint32_t bits32(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static double from_bits64(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static int levels(void) { return (int)rtm_simd_best() + 1; }

static void use(int level) { ck_assert_int_eq(rtm_simd_select((rtm_simd)level), RTM_OK); }

static void *xalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* A double with a random sign, mantissa and an exponent in [-emax, emax]. */
static double rand_double(uint64_t *st, int emax)
{
    double m = (double)(rtm_test_rand(st) >> 11) / 9007199254740992.0;
    int e = (int)(rtm_test_rand(st) % (uint64_t)(2 * emax + 1)) - emax;
    double d = ldexp(m, e);
    return (rtm_test_rand(st) & 1) ? -d : d;
}

/* Long-double Neumaier: the reference sum, far more exact than the
 * kernels' bound. Also gives sum |x|. */
static long double ref_sum(const double *x, size_t n, long double *abs_sum)
{
    long double s = 0, c = 0, a = 0;
    for (size_t i = 0; i < n; i++) {
        long double v = x[i], t = s + v;
        if (fabsl(s) >= fabsl(v)) c += (s - t) + v;
        else c += (v - t) + s;
        s = t;
        a += fabsl(v);
    }
    *abs_sum = a;
    return s + c;
}

/* The documented bound: 2u|S| + m^2 u^2 sum|x|, m = ceil(n / 16). */
static void check_bound(double got, long double ref, long double abs_sum, size_t n)
{
    const long double u = 0x1p-53L;
    long double m = (long double)((n + 15) / 16);
    long double bound = 2 * u * fabsl(ref) + m * m * u * u * abs_sum + 0x1p-60L * fabsl(ref);
    long double err = fabsl((long double)got - ref);
    if (!(err <= bound))
        ck_abort_msg("sum error %Lg exceeds bound %Lg (n %zu, S %Lg, sum|x| %Lg)", err, bound, n,
                     ref, abs_sum);
}

/* ---- dispatch ------------------------------------------------------------ */

START_TEST(env_is_obeyed)
{
    static const char *const names[] = {"scalar", "sse2", "avx2", "avx512"};
    const char *want = getenv("RTM_SIMD");
    rtm_simd expect = rtm_simd_best();
    if (want != NULL)
        for (int i = 0; i < 4; i++)
            if (strcmp(want, names[i]) == 0 && (rtm_simd)i < expect) expect = (rtm_simd)i;
    ck_assert_int_eq(rtm_simd_active(), expect);
    if (want != NULL) printf("RTM_SIMD=%s: running %s\n", want, rtm_simd_name(rtm_simd_active()));
}
END_TEST

START_TEST(select_and_names)
{
    for (int l = 0; l < levels(); l++) {
        use(l);
        ck_assert_int_eq(rtm_simd_active(), l);
    }
    ck_assert_int_eq(rtm_simd_select((rtm_simd)(RTM_SIMD_AVX512 + 1)), RTM_EINVAL);
    ck_assert_int_eq(rtm_simd_select((rtm_simd)-1), RTM_EINVAL);
    ck_assert_int_eq(rtm_simd_active(), levels() - 1); /* unchanged by the failures */
    ck_assert_str_eq(rtm_simd_name(RTM_SIMD_SCALAR), "scalar");
    ck_assert_str_eq(rtm_simd_name(RTM_SIMD_AVX512), "avx512");
    ck_assert_str_eq(rtm_simd_name((rtm_simd)42), "unknown");
#if defined(__x86_64__)
    ck_assert_int_ge(rtm_simd_best(), RTM_SIMD_SSE2); /* every x86-64 has SSE2 */
#endif
}
END_TEST

/* ---- integer sums, means, min, max --------------------------------------- */

static void check_ints(const int32_t *x32, const int64_t *x64, size_t n)
{
    __int128 e32 = 0, e64 = 0;
    for (size_t i = 0; i < n; i++) {
        e32 += x32[i];
        e64 += x64[i];
    }
    for (int l = 0; l < levels(); l++) {
        use(l);
        int64_t s;
        ck_assert_int_eq(rtm_col_sum_i32(x32, n, &s), RTM_OK);
        ck_assert_int_eq(s, (int64_t)e32);
        bool fits = e64 >= INT64_MIN && e64 <= INT64_MAX;
        ck_assert_int_eq(rtm_col_sum_i64(x64, n, &s), fits ? RTM_OK : RTM_ELIMIT);
        ck_assert_uint_eq((uint64_t)s, (uint64_t)e64); /* modulo 2^64 either way */
        if (n == 0) continue;
        double mean;
        ck_assert_int_eq(rtm_col_mean_i32(x32, n, &mean), RTM_OK);
        ck_assert_uint_eq(bits64(mean), bits64((double)((long double)e32 / (long double)n)));
        ck_assert_int_eq(rtm_col_mean_i64(x64, n, &mean), RTM_OK);
        long double e = (long double)e64;
        ck_assert(fabsl((long double)mean - e / n) <= fabsl(e / n) * 0x1p-52L);
        int32_t lo32 = x32[0], hi32 = x32[0], m32;
        int64_t lo64 = x64[0], hi64 = x64[0], m64;
        for (size_t i = 1; i < n; i++) {
            lo32 = x32[i] < lo32 ? x32[i] : lo32;
            hi32 = x32[i] > hi32 ? x32[i] : hi32;
            lo64 = x64[i] < lo64 ? x64[i] : lo64;
            hi64 = x64[i] > hi64 ? x64[i] : hi64;
        }
        ck_assert_int_eq(rtm_col_min_i32(x32, n, &m32), RTM_OK);
        ck_assert_int_eq(m32, lo32);
        ck_assert_int_eq(rtm_col_max_i32(x32, n, &m32), RTM_OK);
        ck_assert_int_eq(m32, hi32);
        ck_assert_int_eq(rtm_col_min_i64(x64, n, &m64), RTM_OK);
        ck_assert_int_eq(m64, lo64);
        ck_assert_int_eq(rtm_col_max_i64(x64, n, &m64), RTM_OK);
        ck_assert_int_eq(m64, hi64);
    }
}

START_TEST(int_kernels_random_and_edges)
{
    uint64_t st = 0x1234567;
    size_t big = large_n();
    int32_t *x32 = xalloc((big + 1) * sizeof *x32);
    int64_t *x64 = xalloc((big + 1) * sizeof *x64);
    for (size_t i = 0; i < big + 1; i++) {
        x32[i] = (int32_t)rtm_test_rand(&st);
        /* full range on a few, small on most, so sums sometimes fit */
        x64[i] = (int64_t)(rtm_test_rand(&st) >> (i % 7 ? 20 : 0));
        if (rtm_test_rand(&st) & 1) x64[i] = -x64[i];
    }
    for (size_t e = 0; e < sizeof edge_lengths / sizeof edge_lengths[0]; e++) {
        check_ints(x32, x64, edge_lengths[e]);
        check_ints(x32 + 1, x64 + 1, edge_lengths[e]); /* not vector-aligned */
    }
    check_ints(x32, x64, big);
    free(x32);
    free(x64);
}
END_TEST

START_TEST(int_sums_extremes_and_overflow)
{
    size_t n = 1003;
    int32_t *x32 = xalloc(n * sizeof *x32);
    int64_t *x64 = xalloc(n * sizeof *x64);
    for (size_t i = 0; i < n; i++) {
        x32[i] = INT32_MIN;
        x64[i] = INT64_MAX;
    }
    check_ints(x32, x64, n); /* i64 overflows: RTM_ELIMIT, wrapped value */
    for (size_t i = 0; i < n; i++) {
        x32[i] = INT32_MAX;
        x64[i] = (i % 2) ? INT64_MIN : INT64_MAX; /* overflow in a lane, total fits */
    }
    check_ints(x32, x64, n);
    for (int l = 0; l < levels(); l++) {
        use(l);
        int64_t s;
        /* exactly INT64_MIN fits; one less does not */
        for (size_t i = 0; i < 32; i++) x64[i] = i < 2 ? INT64_MIN / 2 : 0;
        ck_assert_int_eq(rtm_col_sum_i64(x64, 32, &s), RTM_OK);
        ck_assert_int_eq(s, INT64_MIN);
        x64[31] = -1;
        ck_assert_int_eq(rtm_col_sum_i64(x64, 32, &s), RTM_ELIMIT);
        ck_assert_int_eq(s, INT64_MAX);
    }
    free(x32);
    free(x64);
}
END_TEST

/* ---- floating-point sums ------------------------------------------------- */

/* Every path equal to the scalar one bit for bit, and that within the bound. */
static void check_fsum(const double *x, size_t n)
{
    float *xf = xalloc((n ? n : 1) * sizeof *xf);
    double *xd = xalloc((n ? n : 1) * sizeof *xd);
    for (size_t i = 0; i < n; i++) {
        xf[i] = (float)x[i];
        xd[i] = xf[i];
    }
    long double abs_d, abs_f;
    long double ref_d = ref_sum(x, n, &abs_d), ref_f = ref_sum(xd, n, &abs_f);
    double want_d = 0, want_f = 0;
    for (int l = 0; l < levels(); l++) {
        use(l);
        double got_d, got_f, mean;
        ck_assert_int_eq(rtm_col_sum_f64(x, n, &got_d), RTM_OK);
        ck_assert_int_eq(rtm_col_sum_f32(xf, n, &got_f), RTM_OK);
        if (l == 0) {
            check_bound(got_d, ref_d, abs_d, n);
            check_bound(got_f, ref_f, abs_f, n);
            want_d = got_d;
            want_f = got_f;
        }
        ck_assert_msg(bits64(got_d) == bits64(want_d), "f64 sum on %s: %a, scalar %a (n %zu)",
                      rtm_simd_name((rtm_simd)l), got_d, want_d, n);
        ck_assert_msg(bits64(got_f) == bits64(want_f), "f32 sum on %s: %a, scalar %a (n %zu)",
                      rtm_simd_name((rtm_simd)l), got_f, want_f, n);
        if (n == 0) {
            ck_assert(got_d == 0 && got_f == 0);
            continue;
        }
        ck_assert_int_eq(rtm_col_mean_f64(x, n, &mean), RTM_OK);
        ck_assert_uint_eq(bits64(mean), bits64(want_d / (double)n));
        ck_assert_int_eq(rtm_col_mean_f32(xf, n, &mean), RTM_OK);
        ck_assert_uint_eq(bits64(mean), bits64(want_f / (double)n));
    }
    free(xf);
    free(xd);
}

START_TEST(float_sums_random_and_edges)
{
    uint64_t st = 0xfeed;
    size_t big = large_n();
    double *x = xalloc((big + 1) * sizeof *x);
    for (size_t i = 0; i < big + 1; i++) x[i] = rand_double(&st, 30);
    for (size_t e = 0; e < sizeof edge_lengths / sizeof edge_lengths[0]; e++) {
        check_fsum(x, edge_lengths[e]);
        check_fsum(x + 1, edge_lengths[e]);
    }
    check_fsum(x, big);
    free(x);
}
END_TEST

/* Huge values that cancel, leaving small ones: a plain sum loses everything,
 * the compensated one must stay within its bound. */
START_TEST(float_sums_cancellation)
{
    uint64_t st = 0xc0ffee;
    size_t n = rtm_test_small() ? 8192 : 65536;
    double *x = xalloc(n * sizeof *x);
    for (size_t i = 0; i < n; i += 2) {
        double big = rand_double(&st, 60) * 1e10;
        x[i] = big;
        x[i + 1] = -big + rand_double(&st, 2);
    }
    for (size_t i = n - 1; i > 0; i--) { /* shuffle */
        size_t j = rtm_test_rand(&st) % (i + 1);
        double t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
    long double abs_sum, ref = ref_sum(x, n, &abs_sum);
    ck_assert(abs_sum / fabsl(ref) > 1e12L); /* the data really cancels */
    double naive = 0;
    for (size_t i = 0; i < n; i++) naive += x[i];
    ck_assert(fabsl(naive - ref) > 1e-6L * fabsl(ref)); /* and defeats a plain sum */
    check_fsum(x, n);
    free(x);
}
END_TEST

static void expect_sum(const double *x, size_t n, uint64_t want_bits)
{
    for (int l = 0; l < levels(); l++) {
        use(l);
        double got;
        ck_assert_int_eq(rtm_col_sum_f64(x, n, &got), RTM_OK);
        ck_assert_msg(bits64(got) == want_bits, "%s: got %a (%016llx), want %016llx",
                      rtm_simd_name((rtm_simd)l), got, (unsigned long long)bits64(got),
                      (unsigned long long)want_bits);
    }
}

START_TEST(float_sums_nan_and_infinity)
{
    const uint64_t qnan = 0x7FF8000000000000ull;
    const uint64_t pinf = 0x7FF0000000000000ull, ninf = 0xFFF0000000000000ull;
    double x[100];
    /* at every position, in the vector body and in the tail */
    for (size_t p = 0; p < 100; p += 7) {
        for (size_t i = 0; i < 100; i++) x[i] = (double)i;
        x[p] = from_bits64(0xFFF4000000000123ull); /* signalling, negative, with a payload */
        expect_sum(x, 100, qnan);
        x[p] = (double)INFINITY;
        expect_sum(x, 100, pinf);
        x[(p + 50) % 100] = -(double)INFINITY;
        expect_sum(x, 100, qnan);
        x[p] = -(double)INFINITY;
        expect_sum(x, 100, ninf);
    }
    /* overflow of finite values */
    for (size_t i = 0; i < 100; i++) x[i] = DBL_MAX;
    expect_sum(x, 100, pinf);
    for (size_t i = 0; i < 100; i++) x[i] = -DBL_MAX;
    expect_sum(x, 100, ninf);
    /* lanes that overflow each way: NaN, as a plain sum in that order would */
    for (size_t i = 0; i < 100; i++) x[i] = (i % 16 < 8) ? DBL_MAX : -DBL_MAX;
    double scalar;
    use(0);
    ck_assert_int_eq(rtm_col_sum_f64(x, 100, &scalar), RTM_OK);
    expect_sum(x, 100, bits64(scalar));
    /* signed zeros: -0 + -0 is -0, and an exact zero otherwise +0 */
    for (size_t n = 1; n < 40; n++) {
        for (size_t i = 0; i < n; i++) x[i] = -0.0;
        expect_sum(x, n, 0x8000000000000000ull);
        x[n / 2] = 0.0;
        expect_sum(x, n, 0);
        for (size_t i = 0; i < n; i++) x[i] = (i % 2) ? 1e300 : -1e300;
        x[n - 1] = n % 2 ? -0.0 : x[n - 1];
        expect_sum(x, n, n == 1 ? 0x8000000000000000ull : 0);
    }
    float xf[40];
    for (size_t i = 0; i < 40; i++) xf[i] = 1.0f;
    xf[33] = NAN;
    for (int l = 0; l < levels(); l++) {
        use(l);
        double got;
        ck_assert_int_eq(rtm_col_sum_f32(xf, 40, &got), RTM_OK);
        ck_assert_uint_eq(bits64(got), qnan);
    }
}
END_TEST

/* ---- floating-point min and max ------------------------------------------ */

static void check_fminmax(const double *x, size_t n)
{
    float *xf = xalloc(n * sizeof *xf);
    for (size_t i = 0; i < n; i++) xf[i] = (float)x[i];
    /* the reference: IEEE 754-2019 minimum/maximum */
    bool nan = false;
    double lo = (double)INFINITY, hi = -(double)INFINITY;
    float lof = INFINITY, hif = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) nan = true;
        if (x[i] < lo || (x[i] == lo && signbit(x[i]))) lo = x[i];
        if (x[i] > hi || (x[i] == hi && !signbit(x[i]))) hi = x[i];
        if (xf[i] < lof || (xf[i] == lof && signbit(xf[i]))) lof = xf[i];
        if (xf[i] > hif || (xf[i] == hif && !signbit(xf[i]))) hif = xf[i];
    }
    uint64_t want_lo = nan ? 0x7FF8000000000000ull : bits64(lo);
    uint64_t want_hi = nan ? 0x7FF8000000000000ull : bits64(hi);
    uint32_t want_lof = nan ? 0x7FC00000u : bits32(lof), want_hif = nan ? 0x7FC00000u : bits32(hif);
    for (int l = 0; l < levels(); l++) {
        use(l);
        double d;
        float f;
        ck_assert_int_eq(rtm_col_min_f64(x, n, &d), RTM_OK);
        ck_assert_msg(bits64(d) == want_lo, "min_f64 on %s: %a, want %a (n %zu)",
                      rtm_simd_name((rtm_simd)l), d, from_bits64(want_lo), n);
        ck_assert_int_eq(rtm_col_max_f64(x, n, &d), RTM_OK);
        ck_assert_msg(bits64(d) == want_hi, "max_f64 on %s: %a, want %a (n %zu)",
                      rtm_simd_name((rtm_simd)l), d, from_bits64(want_hi), n);
        ck_assert_int_eq(rtm_col_min_f32(xf, n, &f), RTM_OK);
        ck_assert_uint_eq(bits32(f), want_lof);
        ck_assert_int_eq(rtm_col_max_f32(xf, n, &f), RTM_OK);
        ck_assert_uint_eq(bits32(f), want_hif);
    }
    free(xf);
}

START_TEST(float_minmax_random_and_edges)
{
    uint64_t st = 0xabc;
    size_t big = large_n();
    double *x = xalloc((big + 1) * sizeof *x);
    for (size_t i = 0; i < big + 1; i++) x[i] = rand_double(&st, 100);
    for (size_t e = 1; e < sizeof edge_lengths / sizeof edge_lengths[0]; e++) {
        check_fminmax(x, edge_lengths[e]);
        check_fminmax(x + 1, edge_lengths[e]);
    }
    check_fminmax(x, big);
    free(x);
}
END_TEST

START_TEST(float_minmax_nan_zero_infinity)
{
    double x[70];
    for (size_t p = 0; p < 70; p += 3) {
        for (size_t i = 0; i < 70; i++) x[i] = 1.0 + (double)i;
        x[p] = NAN;
        check_fminmax(x, 70);
        x[p] = -(double)INFINITY;
        check_fminmax(x, 70);
        x[p] = (double)INFINITY;
        check_fminmax(x, 70);
        /* zeros of both signs, min zero: -0 wins min; max stays positive */
        for (size_t i = 0; i < 70; i++) x[i] = (i % 2) ? 0.0 : 5.0;
        x[p] = -0.0;
        check_fminmax(x, 70);
        /* all zeros, one +0: max is +0, min -0 */
        for (size_t i = 0; i < 70; i++) x[i] = -0.0;
        x[p] = 0.0;
        check_fminmax(x, 70);
        for (size_t i = 0; i < 70; i++) x[i] = -(double)i;
        x[p] = 0.0;
        check_fminmax(x, 70);
        x[p] = -0.0;
        check_fminmax(x, 70);
    }
    for (size_t i = 0; i < 70; i++) x[i] = NAN; /* all NaN */
    check_fminmax(x, 70);
    for (size_t n = 1; n < 20; n++) {
        for (size_t i = 0; i < n; i++) x[i] = -0.0;
        check_fminmax(x, n);
    }
}
END_TEST

/* ---- compare ------------------------------------------------------------- */

#define REF_CMP(op, a, b)                                                       \
    ((op) == RTM_CMP_LT ? (a) < (b) : (op) == RTM_CMP_LE ? (a) <= (b)           \
     : (op) == RTM_CMP_EQ ? (a) == (b) : (op) == RTM_CMP_NE ? (a) != (b)        \
     : (op) == RTM_CMP_GE ? (a) >= (b) : (a) > (b))

/* Runs one compare on every path against C's operator, checking that the
 * bits past n are clear and that nothing past the last word is written. */
#define CHECK_CMP(fn, x, n, v)                                                  \
    do {                                                                        \
        size_t words_ = RTM_SEL_WORDS(n);                                       \
        uint64_t *bits_ = xalloc((words_ + 1) * sizeof *bits_);                 \
        for (int l = 0; l < levels(); l++) {                                    \
            use(l);                                                             \
            for (int op = RTM_CMP_LT; op <= RTM_CMP_GT; op++) {                 \
                memset(bits_, 0xA5, (words_ + 1) * sizeof *bits_);              \
                ck_assert_int_eq(fn(x, n, (rtm_cmp)op, v, bits_), RTM_OK);      \
                for (size_t i = 0; i < words_ * 64; i++) {                      \
                    bool got_ = (bits_[i / 64] >> (i % 64)) & 1;                \
                    bool want_ = i < (n) && REF_CMP(op, (x)[i], v);             \
                    if (got_ != want_)                                          \
                        ck_abort_msg(#fn " on %s op %d: bit %zu is %d (n %zu)", \
                                     rtm_simd_name((rtm_simd)l), op, i, got_, (size_t)(n)); \
                }                                                               \
                ck_assert_uint_eq(bits_[words_], 0xA5A5A5A5A5A5A5A5ull);        \
            }                                                                   \
        }                                                                       \
        free(bits_);                                                            \
    } while (0)

START_TEST(compare_random_and_edges)
{
    uint64_t st = 0x5eed;
    size_t big = large_n() / 4;
    int32_t *a = xalloc(big * sizeof *a);
    int64_t *b = xalloc(big * sizeof *b);
    float *c = xalloc(big * sizeof *c);
    double *d = xalloc(big * sizeof *d);
    for (size_t i = 0; i < big; i++) {
        /* a small range so == and != both happen */
        a[i] = (int32_t)(rtm_test_rand(&st) % 9) - 4;
        b[i] = (int64_t)(rtm_test_rand(&st) % 9) - 4 + ((i % 5 == 0) ? INT64_MIN / 2 : 0);
        c[i] = (float)((int)(rtm_test_rand(&st) % 9) - 4);
        d[i] = (double)((int)(rtm_test_rand(&st) % 9) - 4);
    }
    for (size_t e = 0; e < sizeof edge_lengths / sizeof edge_lengths[0]; e++) {
        size_t n = edge_lengths[e];
        CHECK_CMP(rtm_col_cmp_i32, a, n, 1);
        CHECK_CMP(rtm_col_cmp_i64, b, n, (int64_t)-2);
        CHECK_CMP(rtm_col_cmp_f32, c, n, 0.0f);
        CHECK_CMP(rtm_col_cmp_f64, d + 1, n, 3.0);
    }
    CHECK_CMP(rtm_col_cmp_i32, a, big, INT32_MIN);
    CHECK_CMP(rtm_col_cmp_i64, b, big, INT64_MAX);
    CHECK_CMP(rtm_col_cmp_f64, d, big, -1.0);
    free(a);
    free(b);
    free(c);
    free(d);
}
END_TEST

START_TEST(compare_nan_and_zero)
{
    double d[130];
    float f[130];
    for (size_t i = 0; i < 130; i++) {
        d[i] = (i % 3 == 0) ? NAN : (i % 3 == 1) ? -0.0 : (double)INFINITY;
        f[i] = (float)d[i];
    }
    CHECK_CMP(rtm_col_cmp_f64, d, 130, 0.0);
    CHECK_CMP(rtm_col_cmp_f64, d, 130, (double)NAN);
    CHECK_CMP(rtm_col_cmp_f64, d, 130, (double)INFINITY);
    CHECK_CMP(rtm_col_cmp_f32, f, 130, -0.0f);
    CHECK_CMP(rtm_col_cmp_f32, f, 130, NAN);
    /* spelled out once: NaN != NaN is the only true comparison with NaN */
    uint64_t bits[3];
    ck_assert_int_eq(rtm_col_cmp_f64(d, 130, RTM_CMP_NE, d[0], bits), RTM_OK);
    ck_assert_uint_eq(rtm_sel_count(bits, 130), 130);
    ck_assert_int_eq(rtm_col_cmp_f64(d, 130, RTM_CMP_EQ, 0.0, bits), RTM_OK);
    ck_assert_uint_eq(rtm_sel_count(bits, 130), 43); /* the -0.0s */
}
END_TEST

START_TEST(selection_count_and_indices)
{
    uint64_t st = 77;
    size_t n = 1000;
    double *d = xalloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = (double)(rtm_test_rand(&st) % 100);
    uint64_t bits[RTM_SEL_WORDS(1000)];
    ck_assert_int_eq(rtm_col_cmp_f64(d, n, RTM_CMP_LT, 30.0, bits), RTM_OK);
    uint32_t *idx = xalloc(n * sizeof *idx);
    size_t k = rtm_sel_indices(bits, n, idx), want = 0;
    ck_assert_uint_eq(k, rtm_sel_count(bits, n));
    for (size_t i = 0; i < n; i++)
        if (d[i] < 30.0) {
            ck_assert_uint_lt(want, k);
            ck_assert_uint_eq(idx[want++], i);
        }
    ck_assert_uint_eq(k, want);
    /* bits past n are ignored even if set */
    uint64_t one[1] = {~(uint64_t)0};
    ck_assert_uint_eq(rtm_sel_count(one, 5), 5);
    ck_assert_uint_eq(rtm_sel_indices(one, 5, idx), 5);
    ck_assert_uint_eq(idx[4], 4);
    ck_assert_uint_eq(rtm_sel_count(NULL, 5), 0);
    ck_assert_uint_eq(rtm_sel_indices(one, 5, NULL), 0);
    free(d);
    free(idx);
}
END_TEST

/* ---- gather and axpy ----------------------------------------------------- */

START_TEST(gather_random_and_edges)
{
    uint64_t st = 99;
    size_t len = 5000, big = large_n();
    uint32_t *c32 = xalloc(len * sizeof *c32);
    uint64_t *c64 = xalloc(len * sizeof *c64);
    uint32_t *idx = xalloc(big * sizeof *idx);
    uint32_t *o32 = xalloc((big + 1) * sizeof *o32);
    uint64_t *o64 = xalloc((big + 1) * sizeof *o64);
    for (size_t i = 0; i < len; i++) {
        c32[i] = (uint32_t)rtm_test_rand(&st);
        c64[i] = rtm_test_rand(&st);
    }
    for (size_t i = 0; i < big; i++) idx[i] = (uint32_t)(rtm_test_rand(&st) % len);
    idx[0] = (uint32_t)len - 1;
    for (int l = 0; l < levels(); l++) {
        use(l);
        for (size_t e = 0; e <= sizeof edge_lengths / sizeof edge_lengths[0]; e++) {
            size_t n = e < sizeof edge_lengths / sizeof edge_lengths[0] ? edge_lengths[e] : big;
            memset(o32, 0xEE, (n + 1) * sizeof *o32);
            memset(o64, 0xEE, (n + 1) * sizeof *o64);
            ck_assert_int_eq(rtm_col_gather_32(c32, len, idx, n, o32), RTM_OK);
            ck_assert_int_eq(rtm_col_gather_64(c64, len, idx, n, o64), RTM_OK);
            for (size_t k = 0; k < n; k++) {
                ck_assert_uint_eq(o32[k], c32[idx[k]]);
                ck_assert_uint_eq(o64[k], c64[idx[k]]);
            }
            ck_assert_uint_eq(o32[n], 0xEEEEEEEEu);
            ck_assert_uint_eq(o64[n], 0xEEEEEEEEEEEEEEEEull);
        }
        /* an index out of range anywhere: EINVAL and nothing written */
        for (size_t bad = 0; bad < 40; bad += 13) {
            uint32_t keep = idx[bad];
            idx[bad] = (uint32_t)len;
            memset(o32, 0xEE, 40 * sizeof *o32);
            memset(o64, 0xEE, 40 * sizeof *o64);
            ck_assert_int_eq(rtm_col_gather_32(c32, len, idx, 40, o32), RTM_EINVAL);
            ck_assert_int_eq(rtm_col_gather_64(c64, len, idx, 40, o64), RTM_EINVAL);
            for (size_t k = 0; k < 40; k++) {
                ck_assert_uint_eq(o32[k], 0xEEEEEEEEu);
                ck_assert_uint_eq(o64[k], 0xEEEEEEEEEEEEEEEEull);
            }
            idx[bad] = UINT32_MAX;
            ck_assert_int_eq(rtm_col_gather_64(c64, len, idx, 40, o64), RTM_EINVAL);
            idx[bad] = keep;
        }
    }
    free(c32);
    free(c64);
    free(idx);
    free(o32);
    free(o64);
}
END_TEST

START_TEST(axpy_random_and_edges)
{
    uint64_t st = 1234;
    size_t big = large_n();
    double *x = xalloc(big * sizeof *x), *y0 = xalloc(big * sizeof *y0);
    double *y = xalloc((big + 1) * sizeof *y);
    for (size_t i = 0; i < big; i++) {
        x[i] = rand_double(&st, 20);
        y0[i] = rand_double(&st, 20);
    }
    x[3] = NAN;
    x[5] = (double)INFINITY;
    y0[7] = -(double)INFINITY;
    const double a = -1.7320508075688772;
    for (int l = 0; l < levels(); l++) {
        use(l);
        for (size_t e = 0; e <= sizeof edge_lengths / sizeof edge_lengths[0]; e++) {
            size_t n = e < sizeof edge_lengths / sizeof edge_lengths[0] ? edge_lengths[e] : big;
            memcpy(y, y0, n * sizeof *y);
            y[n] = 42.0;
            ck_assert_int_eq(rtm_col_axpy_f64(a, x, y, n), RTM_OK);
            for (size_t i = 0; i < n; i++) {
                volatile double p = a * x[i]; /* rounded: no fused multiply-add */
                double want = p + y0[i];
                if (isnan(want)) ck_assert(isnan(y[i]));
                else ck_assert_msg(bits64(y[i]) == bits64(want), "axpy on %s at %zu: %a vs %a",
                                   rtm_simd_name((rtm_simd)l), i, y[i], want);
            }
            ck_assert(y[n] == 42.0);
        }
        /* in place: y = a*y + y */
        memcpy(y, y0, 100 * sizeof *y);
        ck_assert_int_eq(rtm_col_axpy_f64(2.0, y, y, 100), RTM_OK);
        for (size_t i = 8; i < 100; i++) ck_assert(y[i] == 3.0 * y0[i]);
    }
    free(x);
    free(y0);
    free(y);
}
END_TEST

/* ---- bad input ----------------------------------------------------------- */

START_TEST(bad_input)
{
    int32_t i32[4] = {1, 2, 3, 4};
    int64_t i64[4] = {1, 2, 3, 4}, s = 77;
    float f32[4] = {1, 2, 3, 4}, f = 7.0f;
    double f64[4] = {1, 2, 3, 4}, d = 7.0;
    int32_t m32 = 7;
    uint64_t bits[1] = {7};
    uint32_t idx[2] = {0, 1}, out[2] = {7, 7};
    for (int l = 0; l < levels(); l++) {
        use(l);
        s = 77;
        d = 7.0;
        ck_assert_int_eq(rtm_col_sum_i32(NULL, 4, &s), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_sum_i32(i32, 4, NULL), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_sum_i64(NULL, 1, &s), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_sum_f32(NULL, 1, &d), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_sum_f64(f64, 4, NULL), RTM_EINVAL);
        ck_assert_int_eq(s, 77);
        ck_assert(d == 7.0);
        /* NULL with n 0 is an empty column */
        ck_assert_int_eq(rtm_col_sum_i64(NULL, 0, &s), RTM_OK);
        ck_assert_int_eq(s, 0);
        ck_assert_int_eq(rtm_col_sum_f64(NULL, 0, &d), RTM_OK);
        ck_assert(d == 0.0 && !signbit(d));
        /* nothing to take the min, max or mean of */
        d = 7.0;
        ck_assert_int_eq(rtm_col_min_i32(i32, 0, &m32), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_max_i64(i64, 0, &s), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_min_f32(f32, 0, &f), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_max_f64(f64, 0, &d), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_mean_f64(f64, 0, &d), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_mean_i32(i32, 0, &d), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_min_f64(NULL, 3, &d), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_max_i32(i32, 3, NULL), RTM_EINVAL);
        ck_assert(m32 == 7 && f == 7.0f && d == 7.0);
        /* compare: unknown operators, NULLs */
        ck_assert_int_eq(rtm_col_cmp_f64(f64, 4, (rtm_cmp)0, 1.0, bits), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_cmp_i32(i32, 4, (rtm_cmp)7, 1, bits), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_cmp_i64(i64, 4, RTM_CMP_LT, 1, NULL), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_cmp_f32(NULL, 4, RTM_CMP_LT, 1, bits), RTM_EINVAL);
        ck_assert_uint_eq(bits[0], 7);
        /* gather and axpy */
        ck_assert_int_eq(rtm_col_gather_32(NULL, 4, idx, 2, out), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_gather_32(i32, 4, NULL, 2, out), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_gather_64(i64, 4, idx, 2, NULL), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_gather_32(i32, 1, idx, 2, out), RTM_EINVAL); /* idx 1 >= len 1 */
        ck_assert_int_eq(rtm_col_gather_32(i32, 0, idx, 0, out), RTM_OK);
        ck_assert_uint_eq(out[0], 7);
        ck_assert_int_eq(rtm_col_axpy_f64(1.0, NULL, f64, 4), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_axpy_f64(1.0, f64, NULL, 4), RTM_EINVAL);
        ck_assert_int_eq(rtm_col_axpy_f64(1.0, NULL, NULL, 0), RTM_OK);
        ck_assert(f64[0] == 1.0);
    }
}
END_TEST

static Suite *kernels_suite(void)
{
    Suite *s = suite_create("kernels");
    TCase *env = tcase_create("env"); /* first: before any test selects a path */
    tcase_add_test(env, env_is_obeyed);
    suite_add_tcase(s, env);
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, select_and_names);
    tcase_add_test(tc, int_kernels_random_and_edges);
    tcase_add_test(tc, int_sums_extremes_and_overflow);
    tcase_add_test(tc, float_sums_random_and_edges);
    tcase_add_test(tc, float_sums_cancellation);
    tcase_add_test(tc, float_sums_nan_and_infinity);
    tcase_add_test(tc, float_minmax_random_and_edges);
    tcase_add_test(tc, float_minmax_nan_zero_infinity);
    tcase_add_test(tc, compare_random_and_edges);
    tcase_add_test(tc, compare_nan_and_zero);
    tcase_add_test(tc, selection_count_and_indices);
    tcase_add_test(tc, gather_random_and_edges);
    tcase_add_test(tc, axpy_random_and_edges);
    tcase_add_test(tc, bad_input);
    suite_add_tcase(s, tc);
    return s;
}

RTM_TEST_MAIN(kernels_suite)
