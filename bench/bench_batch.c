/*
 * bench_batch.c: batches and their column kernels, in one run.
 *
 *  - the machine's read bandwidth, by a plain streaming read (-O3
 *    -march=native, batch_autovec.c);
 *  - sum of an f64 field, and compare-select (x < v as a bitmap), over 1K,
 *    64K and 16M rows: an AoS loop over a C array of structs, the batch
 *    column kernel on every dispatch path, and GCC's auto-vectorized loop
 *    over a plain aligned array (-O3 -march=native; the sum also with
 *    -ffast-math, which it needs to vectorize a floating-point sum);
 *  - the bulk transposes (push_n, get_n) against per-row copies.
 *
 * Medians of repeated runs; GB/s counts the bytes of the field read (the
 * AoS loop streams its whole struct to get them). Ratios are to the AoS
 * loop. Run: build-rel/bench/bench_batch
 */
#include "bench.h"
#include "rtmem.h"

#include <stdbool.h>
#include <stdlib.h>

typedef struct row {
    double x, y;
    int32_t id;
    float w;
} row;

uint64_t autovec_stream_read(const uint64_t *p, size_t n);
double autovec_sum_f64(const double *x, size_t n);
double autovec_fast_sum_f64(const double *x, size_t n);
void autovec_select_lt_f64(const double *x, size_t n, double v, uint64_t *bits);

#define MAX_ROWS ((size_t)16 << 20)

/* ---- timing ---------------------------------------------------------------- */

typedef struct job {
    size_t n;          /* rows */
    const row *rows;   /* AoS */
    const double *col; /* a batch column, or a plain array */
    uint64_t *bits;
    rtm_batch *batch;
    row *out;
    double *cols[4];   /* hand-written transposes */
} job;

typedef void (*job_fn)(job *j);

/* Median ns of one call, over `runs` samples of `reps` calls each. */
static double time_job(job_fn fn, job *j, int reps, int runs)
{
    double samples[32];
    fn(j); /* warm-up: caches, pages */
    for (int r = 0; r < runs; r++) {
        uint64_t t0 = bench_now_ns();
        for (int k = 0; k < reps; k++) fn(j);
        samples[r] = (double)(bench_now_ns() - t0) / reps;
    }
    return bench_median(samples, (size_t)runs);
}

static int reps_for(size_t n) { return n >= ((size_t)1 << 20) ? 1 : (int)(((size_t)1 << 21) / n); }
static int runs_for(size_t n) { return n >= ((size_t)1 << 20) ? 5 : 15; }

static volatile double sink_d;
static volatile uint64_t sink_u;

static void print_row(const char *what, double ns, size_t n, size_t bytes, double ref_ns)
{
    printf("  %-40s %8.3f ns/row %8.2f GB/s %8.2fx\n", what, ns / (double)n,
           (double)bytes / ns, ref_ns / ns);
}

/* ---- the contenders -------------------------------------------------------- */

static void aos_sum(job *j)
{
    double s = 0;
    for (size_t i = 0; i < j->n; i++) s += j->rows[i].x;
    sink_d = s;
}

static void kernel_sum(job *j)
{
    double s;
    rtm_col_sum_f64(j->col, j->n, &s);
    sink_d = s;
}

static void autovec_sum(job *j) { sink_d = autovec_sum_f64(j->col, j->n); }
static void autovec_fast_sum(job *j) { sink_d = autovec_fast_sum_f64(j->col, j->n); }

static void aos_select(job *j)
{
    for (size_t w = 0; w < j->n / 64; w++) {
        uint64_t word = 0;
        for (size_t b = 0; b < 64; b++) word |= (uint64_t)(j->rows[w * 64 + b].x < 0.5) << b;
        j->bits[w] = word;
    }
    bench_sink(j->bits);
}

static void kernel_select(job *j)
{
    rtm_col_cmp_f64(j->col, j->n, RTM_CMP_LT, 0.5, j->bits);
    bench_sink(j->bits);
}

static void autovec_select(job *j)
{
    autovec_select_lt_f64(j->col, j->n, 0.5, j->bits);
    bench_sink(j->bits);
}

static void stream_read(job *j) { sink_u = autovec_stream_read((const uint64_t *)j->col, j->n); }

static void push_bulk(job *j)
{
    rtm_batch_clear(j->batch);
    rtm_batch_push_n(j->batch, j->rows, j->n);
}

static void push_rows(job *j)
{
    rtm_batch_clear(j->batch);
    for (size_t i = 0; i < j->n; i++) rtm_batch_push(j->batch, &j->rows[i]);
}

static void split_by_hand(job *j)
{
    for (size_t i = 0; i < j->n; i++) {
        j->cols[0][i] = j->rows[i].x;
        j->cols[1][i] = j->rows[i].y;
        memcpy((char *)j->cols[2] + 4 * i, &j->rows[i].id, 4);
        memcpy((char *)j->cols[3] + 4 * i, &j->rows[i].w, 4);
    }
    bench_sink(j->cols[3]);
}

static void get_bulk(job *j)
{
    rtm_batch_get_n(j->batch, 0, j->n, j->out);
    bench_sink(j->out);
}

static void get_rows(job *j)
{
    for (size_t i = 0; i < j->n; i++) rtm_batch_get(j->batch, i, &j->out[i]);
    bench_sink(j->out);
}

static void join_by_hand(job *j)
{
    for (size_t i = 0; i < j->n; i++) {
        j->out[i].x = j->cols[0][i];
        j->out[i].y = j->cols[1][i];
        memcpy(&j->out[i].id, (char *)j->cols[2] + 4 * i, 4);
        memcpy(&j->out[i].w, (char *)j->cols[3] + 4 * i, 4);
    }
    bench_sink(j->out);
}

static double measure_bandwidth(const double *col, const double *plain)
{
    job a = {MAX_ROWS, NULL, col, NULL, NULL, NULL, {NULL}};
    job b = {MAX_ROWS, NULL, plain, NULL, NULL, NULL, {NULL}};
    double ns_a = time_job(stream_read, &a, 1, 7), ns_b = time_job(stream_read, &b, 1, 7);
    return (double)(MAX_ROWS * 8) / (ns_a < ns_b ? ns_a : ns_b);
}

/* ---- main ------------------------------------------------------------------ */

static void *big(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    memset(p, 0, bytes); /* touch every page before timing */
    return p;
}

int main(void)
{
    bench_print_machine(stdout);
    rtm_simd best = rtm_simd_active();
    printf("kernels: %s path chosen (best the CPU has: %s)\n\n", rtm_simd_name(best),
           rtm_simd_name(rtm_simd_best()));

    rtm_ctx *ctx = rtm_ctx_new(NULL);
    const rtm_field fields[] = {{"x", RTM_KIND_F64, 0, NULL},
                                {"y", RTM_KIND_F64, 0, NULL},
                                {"id", RTM_KIND_I32, 0, NULL},
                                {"w", RTM_KIND_F32, 0, NULL}};
    const rtm_layout *l = rtm_layout_new(ctx, "row", fields, 4);
    rtm_batch *b = rtm_batch_new_aligned(ctx, l, 64);
    if (ctx == NULL || l == NULL || b == NULL || rtm_layout_size(l) != sizeof(row)) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    row *rows = big(MAX_ROWS * sizeof *rows);
    uint64_t st = 88172645463325252ull;
    for (size_t i = 0; i < MAX_ROWS; i++) {
        st ^= st << 13, st ^= st >> 7, st ^= st << 17;
        rows[i] = (row){(double)(st >> 11) / 9007199254740992.0, (double)i, (int32_t)i, 1.0f};
    }
    if (rtm_batch_push_n(b, rows, MAX_ROWS) != RTM_OK) return 1;
    const double *x = rtm_batch_column(b, 0);
    double *plain = big(MAX_ROWS * sizeof *plain);
    memcpy(plain, x, MAX_ROWS * sizeof *plain);
    uint64_t *bits = big(RTM_SEL_WORDS(MAX_ROWS) * sizeof *bits);

    /* The machine's read bandwidth: a plain streaming read of the same
     * 128 MiB the 16M-row kernels read (the batch column) and of the plain
     * array, each a median of 7; the larger counts. Measured again just
     * before the 16M-row runs, as this machine is shared and noisy. */
    double bandwidth = measure_bandwidth(x, plain);
    printf("memory read bandwidth (plain streaming read of %zu MiB, -O3 -march=native): "
           "%.2f GB/s\n", MAX_ROWS * 8 >> 20, bandwidth);

    static const size_t sizes[] = {1024, 65536, MAX_ROWS};
    double sum64k_best = 0, sum64k_scalar = 0, sum16m_best = 0;
    for (int task = 0; task < 2; task++) {
        for (size_t s = 0; s < 3; s++) {
            size_t n = sizes[s], bytes = n * sizeof(double);
            int reps = reps_for(n), runs = runs_for(n);
            bool huge = n == MAX_ROWS;
            if (huge) {
                double again = measure_bandwidth(x, plain);
                printf("\nmemory read bandwidth, measured again: %.2f GB/s\n", again);
                if (again > bandwidth) bandwidth = again;
            }
            printf("\n%s, %zu rows (ratios to the AoS loop)\n",
                   task ? "compare-select x < 0.5 (bitmap)" : "sum of an f64 field",
                   n);
            job j = {n, rows, x, bits, NULL, NULL, {NULL}};
            double ref = time_job(task ? aos_select : aos_sum, &j, reps, runs);
            print_row("AoS loop over C structs (-O3)", ref, n, bytes, ref);
            for (int lv = (int)rtm_simd_best(); lv >= 0; lv--) {
                if (huge && lv != (int)best && lv != RTM_SIMD_SCALAR) continue; /* few 16M runs */
                rtm_simd_select((rtm_simd)lv);
                double ns = time_job(task ? kernel_select : kernel_sum, &j, reps, runs);
                char what[64];
                snprintf(what, sizeof what, "batch column kernel, %s", rtm_simd_name((rtm_simd)lv));
                print_row(what, ns, n, bytes, ref);
                if (task == 0 && n == 65536 && lv == (int)best) sum64k_best = ns;
                if (task == 0 && n == 65536 && lv == RTM_SIMD_SCALAR) sum64k_scalar = ns;
                if (task == 0 && huge && lv == (int)best) sum16m_best = ns;
            }
            rtm_simd_select(best);
            j.col = plain;
            double ns = time_job(task ? autovec_select : autovec_sum, &j, reps, runs);
            print_row("plain array, gcc -O3 -march=native", ns, n, bytes, ref);
            if (task == 0) {
                ns = time_job(autovec_fast_sum, &j, reps, runs);
                print_row("plain array, ... -ffast-math", ns, n, bytes, ref);
            }
        }
    }

    /* transposes: 1M rows, 24 bytes each */
    size_t tn = (size_t)1 << 20, tbytes = tn * sizeof(row);
    rtm_batch *t = rtm_batch_new(ctx, l);
    rtm_batch_reserve(t, tn);
    row *out = big(tbytes);
    job tj = {tn, rows, NULL, NULL, t, out, {NULL}};
    for (int c = 0; c < 4; c++) tj.cols[c] = big(tn * sizeof(double));
    printf("\ntransposes, %zu rows of %zu bytes (GB/s of rows; ratios to the per-row call)\n",
           tn, sizeof(row));
    double ref = time_job(push_rows, &tj, 1, 7);
    print_row("AoS->SoA rtm_batch_push per row", ref, tn, tbytes, ref);
    print_row("AoS->SoA rtm_batch_push_n (bulk)", time_job(push_bulk, &tj, 1, 7), tn, tbytes, ref);
    print_row("AoS->SoA hand-written, struct known", time_job(split_by_hand, &tj, 1, 7), tn,
              tbytes, ref);
    ref = time_job(get_rows, &tj, 1, 7);
    print_row("SoA->AoS rtm_batch_get per row", ref, tn, tbytes, ref);
    print_row("SoA->AoS rtm_batch_get_n (bulk)", time_job(get_bulk, &tj, 1, 7), tn, tbytes, ref);
    print_row("SoA->AoS hand-written, struct known", time_job(join_by_hand, &tj, 1, 7), tn,
              tbytes, ref);
    if (memcmp(out, rows, tbytes) != 0) {
        fprintf(stderr, "transpose mismatch\n");
        return 1;
    }

    /* The 16M target, robust to a shared machine: streaming read and kernel
     * back to back on the same column, 7 pairs, the median of their ratios. */
    rtm_simd_select(best);
    double ratio[7], pair_read[7], pair_kernel[7];
    job pj = {MAX_ROWS, NULL, x, NULL, NULL, NULL, {NULL}};
    for (int r = 0; r < 7; r++) {
        uint64_t t0 = bench_now_ns();
        stream_read(&pj);
        uint64_t t1 = bench_now_ns();
        kernel_sum(&pj);
        uint64_t t2 = bench_now_ns();
        pair_read[r] = (double)(MAX_ROWS * 8) / (double)(t1 - t0);
        pair_kernel[r] = (double)(MAX_ROWS * 8) / (double)(t2 - t1);
        ratio[r] = pair_kernel[r] / pair_read[r];
    }
    double paired = bench_median(ratio, 7);
    double gbs = (double)(MAX_ROWS * 8) / sum16m_best;
    printf("\ntargets (bandwidth: the best streaming-read median, %.2f GB/s)\n", bandwidth);
    printf("  16M-row f64 sum (%s): median %.2f GB/s = %.0f%% of the best streaming-read median\n",
           rtm_simd_name(best), gbs, 100 * gbs / bandwidth);
    printf("  16M-row f64 sum, back to back with a streaming read of the same column (7 pairs):\n"
           "    read %.2f GB/s, kernel %.2f GB/s (medians); kernel/read median %.0f%% "
           "(target >= 80%%): %s\n",
           bench_median(pair_read, 7), bench_median(pair_kernel, 7), 100 * paired,
           paired >= 0.8 ? "met" : "NOT met");
    printf("  64K-row f64 sum, %s vs scalar path: %.2fx (target >= 2x): %s\n", rtm_simd_name(best),
           sum64k_scalar / sum64k_best, sum64k_scalar >= 2 * sum64k_best ? "met" : "NOT met");

    for (int c = 0; c < 4; c++) free(tj.cols[c]);
    free(out);
    free(rows);
    free(plain);
    free(bits);
    rtm_ctx_destroy(ctx);
    return 0;
}
