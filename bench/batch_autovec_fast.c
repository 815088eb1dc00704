/*
 * batch_autovec_fast.c: the plain f64 sum with -O3 -march=native
 * -ffast-math (bench/batch.cmake): GCC may reassociate, and vectorizes it.
 * Not a fair rival on semantics (no NaN or compensation guarantees), but
 * the compiler's best case.
 */
#include <stddef.h>

double autovec_fast_sum_f64(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s;
}
