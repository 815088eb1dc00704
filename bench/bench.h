/*
 * bench.h: what every benchmark shares: a monotonic clock, medians over
 * repeated runs, a description of the machine, and one row format, so every
 * bench reports the same way: median ns/op per contender and its ratio to
 * a named reference, all measured in the same run.
 */
#ifndef RTM_BENCH_H
#define RTM_BENCH_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n samples (sorts them). */
static inline double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Keeps the optimizer from dropping a computation. */
static inline void bench_sink(const void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

/* Prints the machine: CPU model, cores online, and the compiler. */
static inline void bench_print_machine(FILE *out)
{
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c) {
                    snprintf(model, sizeof model, "%s", c + 2);
                    model[strcspn(model, "\n")] = 0;
                }
                break;
            }
        }
        fclose(f);
    }
    fprintf(out, "machine: %s, %ld cores online, compiler %s\n", model,
            sysconf(_SC_NPROCESSORS_ONLN), __VERSION__);
}

/* Runs fn(arg) `runs` times, each doing `ops` operations, and returns the
 * median ns per operation. */
typedef void (*bench_fn)(void *arg);
static inline double bench_run(bench_fn fn, void *arg, size_t ops, int runs)
{
    double samples[64];
    if (runs > 64) runs = 64;
    fn(arg); /* warm-up */
    for (int r = 0; r < runs; r++) {
        uint64_t t0 = bench_now_ns();
        fn(arg);
        samples[r] = (double)(bench_now_ns() - t0) / (double)ops;
    }
    return bench_median(samples, (size_t)runs);
}

/* One row: workload, contender, median ns/op, ratio to the reference. */
static inline void bench_row(const char *workload, const char *who, double ns, double ref_ns)
{
    printf("%-34s %-18s %9.2f ns/op   %6.2fx\n", workload, who, ns, ns / ref_ns);
}

#endif /* RTM_BENCH_H */
