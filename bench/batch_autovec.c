/*
 * batch_autovec.c: the plain loops bench_batch.c measures the kernels
 * against, compiled on their own with -O3 -march=native (bench/batch.cmake),
 * so GCC vectorizes them for this very machine wherever the C semantics let
 * it. Without -ffast-math it may not reassociate a floating-point sum, so
 * autovec_sum_f64 stays a chain of dependent adds; batch_autovec_fast.c is
 * the same loop with -ffast-math, the compiler's best case.
 */
#include <stddef.h>
#include <stdint.h>

/* The machine's read bandwidth: stream the bytes, adding 64-bit words
 * (integer adds reassociate freely, so this vectorizes fully). */
uint64_t autovec_stream_read(const uint64_t *p, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

double autovec_sum_f64(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s;
}

/* x[i] < v as a bitmap, the same output as rtm_col_cmp_f64. */
void autovec_select_lt_f64(const double *x, size_t n, double v, uint64_t *bits)
{
    for (size_t w = 0; w < n / 64; w++) {
        uint64_t word = 0;
        for (size_t j = 0; j < 64; j++) word |= (uint64_t)(x[w * 64 + j] < v) << j;
        bits[w] = word;
    }
}
