/*
 * bench_pool.c: acquire+release pairs of 64-byte objects, in one run:
 *  - rtmem pools: the raw-pointer path (alloc/free), the handle path
 *    (acquire/get/release), and a concurrent pool, single-threaded;
 *  - glibc malloc/free, mimalloc (mi_malloc/mi_free, loaded with dlopen so it
 *    does not replace malloc for the others), and a trivial intrusive free
 *    list behind non-inlined calls, the limit any pool can reach;
 *  - two threads at once on the concurrent pool (and on malloc, mimalloc),
 *    per-thread time against one thread alone.
 * Two patterns: "pair" frees each object right after taking it (the fast
 * path, hot cache); "window" keeps 4096 objects live and replaces the oldest
 * at each step (objects spread over slabs). Every contender writes 8 bytes
 * into each object. Medians of several runs, ratios to a reference measured
 * in the same run.
 */
#include "bench.h"
#include "rtmem.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

#define OBJ 64
#define WINDOW 4096

static size_t PAIRS = 4000000, STEPS = 2000000;
static int RUNS = 9;

/* ---- the limit: a trivial intrusive free list ------------------------------- */

typedef struct fl_node { struct fl_node *next; } fl_node;
typedef struct free_list { fl_node *head; } free_list;

static __attribute__((noinline)) void *fl_alloc(free_list *fl)
{
    fl_node *n = fl->head;
    fl->head = n->next;
    return n;
}

static __attribute__((noinline)) void fl_free(free_list *fl, void *p)
{
    fl_node *n = p;
    n->next = fl->head;
    fl->head = n;
}

static free_list fl;
static void fl_setup(size_t n)
{
    char *mem = aligned_alloc(64, n * OBJ);
    fl.head = NULL;
    for (size_t i = n; i-- > 0;) fl_free(&fl, mem + i * OBJ);
}

/* ---- the peers ----------------------------------------------------------------- */

static void *(*mi_malloc_fn)(size_t);
static void (*mi_free_fn)(void *);

static bool load_mimalloc(void)
{
    void *lib = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) lib = dlopen("libmimalloc.so", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) return false;
    mi_malloc_fn = (void *(*)(size_t))dlsym(lib, "mi_malloc");
    mi_free_fn = (void (*)(void *))dlsym(lib, "mi_free");
    return mi_malloc_fn != NULL && mi_free_fn != NULL;
}

static rtm_ctx *ctx;
static rtm_pool *pool, *hpool, *cpool; /* raw, handles (window), concurrent */

/* ---- the loops ----------------------------------------------------------------------- */

#define TOUCH(o, i) (((uint64_t *)(o))[0] = (i), bench_sink(o))

#define PAIR_LOOP(name, ALLOC, FREE)                                   \
    static void name(void *arg)                                        \
    {                                                                  \
        size_t n = *(size_t *)arg;                                     \
        for (size_t i = 0; i < n; i++) {                               \
            void *o = ALLOC;                                           \
            TOUCH(o, i);                                               \
            FREE;                                                      \
        }                                                              \
    }

PAIR_LOOP(pair_fl, fl_alloc(&fl), fl_free(&fl, o))
PAIR_LOOP(pair_raw, rtm_pool_alloc(pool), rtm_pool_free(pool, o))
PAIR_LOOP(pair_craw, rtm_pool_alloc(cpool), rtm_pool_free(cpool, o))
PAIR_LOOP(pair_malloc, malloc(OBJ), free(o))
PAIR_LOOP(pair_mi, mi_malloc_fn(OBJ), mi_free_fn(o))

#define HANDLE_PAIR_LOOP(name, P)                                      \
    static void name(void *arg)                                        \
    {                                                                  \
        size_t n = *(size_t *)arg;                                     \
        for (size_t i = 0; i < n; i++) {                               \
            rtm_handle h = rtm_pool_acquire(P);                        \
            void *o = rtm_pool_get(P, h);                              \
            TOUCH(o, i);                                               \
            rtm_pool_release(P, h);                                    \
        }                                                              \
    }

HANDLE_PAIR_LOOP(pair_handle, pool)
HANDLE_PAIR_LOOP(pair_chandle, cpool)

/* The same with rtm_pool_acquire_obj: the object comes with the handle. */
static void pair_handle_obj(void *arg)
{
    size_t n = *(size_t *)arg;
    for (size_t i = 0; i < n; i++) {
        void *o;
        rtm_handle h = rtm_pool_acquire_obj(pool, &o);
        TOUCH(o, i);
        rtm_pool_release(pool, h);
    }
}

static void pair_handle_noget(void *arg)
{
    size_t n = *(size_t *)arg;
    for (size_t i = 0; i < n; i++) {
        rtm_handle h = rtm_pool_acquire(pool);
        bench_sink(&h);
        rtm_pool_release(pool, h);
    }
}

/* Each window contender keeps its own ring of live objects across rounds. */
static void *ring_fl[WINDOW], *ring_raw[WINDOW], *ring_malloc[WINDOW], *ring_mi[WINDOW];
static rtm_handle ring_h[WINDOW];

#define WINDOW_LOOP(name, RING, ALLOC, FREE)                           \
    static void name(void *arg)                                        \
    {                                                                  \
        size_t n = *(size_t *)arg;                                     \
        for (size_t i = 0; i < n; i++) {                               \
            size_t k = i % WINDOW;                                     \
            void *o = RING[k];                                         \
            FREE;                                                      \
            o = ALLOC;                                                 \
            TOUCH(o, i);                                               \
            RING[k] = o;                                               \
        }                                                              \
    }

WINDOW_LOOP(win_fl, ring_fl, fl_alloc(&fl), fl_free(&fl, o))
WINDOW_LOOP(win_raw, ring_raw, rtm_pool_alloc(pool), rtm_pool_free(pool, o))
WINDOW_LOOP(win_malloc, ring_malloc, malloc(OBJ), free(o))
WINDOW_LOOP(win_mi, ring_mi, mi_malloc_fn(OBJ), mi_free_fn(o))

static void win_handle(void *arg)
{
    size_t n = *(size_t *)arg;
    for (size_t i = 0; i < n; i++) {
        size_t k = i % WINDOW;
        rtm_pool_release(hpool, ring_h[k]);
        ring_h[k] = rtm_pool_acquire(hpool);
        TOUCH(rtm_pool_get(hpool, ring_h[k]), i);
    }
}

static void *a_fl(void) { return fl_alloc(&fl); }
static void *a_raw(void) { return rtm_pool_alloc(pool); }
static void *a_malloc(void) { return malloc(OBJ); }
static void *a_mi(void) { return mi_malloc_fn(OBJ); }

/* ---- rounds: every contender once per round ------------------------------------
 * The machine is shared: load comes and goes. Running each contender once
 * per round, in turn, exposes all of them to the same load; the median of
 * each contender's rounds is its figure. */

typedef struct contender {
    const char *who;
    bench_fn fn;
    int threads;            /* 0: in this thread; 1 or 2: in new threads */
    double ns[64];          /* wall time per pair, per round; [0]: the median */
    double cpu[64];         /* threads: the thread's CPU time per pair */
} contender;

typedef struct mt_run {
    bench_fn fn;
    pthread_barrier_t go;
    double ns[2], cpu[2];
} mt_run;

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct mt_arg {
    mt_run *run;
    int index;
} mt_arg;

static void *mt_thread(void *arg)
{
    mt_arg *a = arg;
    size_t n = PAIRS / 4;
    a->run->fn(&n); /* warm this thread's caches */
    n = PAIRS;
    pthread_barrier_wait(&a->run->go);
    uint64_t t0 = bench_now_ns(), c0 = thread_cpu_ns();
    a->run->fn(&n);
    a->run->ns[a->index] = (double)(bench_now_ns() - t0) / (double)n;
    a->run->cpu[a->index] = (double)(thread_cpu_ns() - c0) / (double)n;
    return NULL;
}

/* The mean per-thread ns per pair of `threads` threads running fn at once
 * (wall time; *cpu: CPU time, which leaves out time spent preempted). */
static double threads_once(bench_fn fn, int threads, double *cpu)
{
    mt_run run = {.fn = fn};
    pthread_barrier_init(&run.go, NULL, (unsigned)threads);
    pthread_t th[2];
    mt_arg args[2];
    for (int t = 0; t < threads; t++) {
        args[t] = (mt_arg){&run, t};
        pthread_create(&th[t], NULL, mt_thread, &args[t]);
    }
    double sum = 0, csum = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        sum += run.ns[t];
        csum += run.cpu[t];
    }
    pthread_barrier_destroy(&run.go);
    *cpu = csum / threads;
    return sum / threads;
}

static void rounds(contender *c, size_t n, size_t ops)
{
    for (size_t k = 0; k < n; k++) /* warm-up */
        if (!c[k].threads) c[k].fn(&ops);
    for (int r = 0; r < RUNS; r++) {
        for (size_t k = 0; k < n; k++) {
            if (c[k].threads) {
                c[k].ns[r] = threads_once(c[k].fn, c[k].threads, &c[k].cpu[r]);
                continue;
            }
            uint64_t t0 = bench_now_ns(), c0 = thread_cpu_ns();
            c[k].fn(&ops);
            c[k].ns[r] = (double)(bench_now_ns() - t0) / (double)ops;
            c[k].cpu[r] = (double)(thread_cpu_ns() - c0) / (double)ops;
        }
    }
    for (size_t k = 0; k < n; k++) {
        c[k].ns[0] = bench_median(c[k].ns, (size_t)RUNS);
        c[k].cpu[0] = bench_median(c[k].cpu, (size_t)RUNS);
    }
}

static void fill(void **r, void *(*a)(void))
{
    for (size_t k = 0; k < WINDOW; k++) r[k] = a();
}

/* ---- main ------------------------------------------------------------------------------ */

/* Rows of thread CPU time (cpu) or wall time, against contender 0. */
static void print_rows(const char *workload, const contender *c, size_t n, bool cpu)
{
    for (size_t k = 0; k < n; k++)
        bench_row(workload, c[k].who, cpu ? c[k].cpu[0] : c[k].ns[0], cpu ? c[0].cpu[0] : c[0].ns[0]);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
        PAIRS /= 10;
        STEPS /= 10;
        RUNS = 5;
    }
    bench_print_machine(stdout);
    printf("objects of %d bytes; pair: %zu per round, window: %zu steps over %d live; "
           "median of %d rounds, contenders interleaved\n\n", OBJ, PAIRS, STEPS, WINDOW, RUNS);
    bool have_mi = load_mimalloc();
    if (!have_mi) printf("(mimalloc not found: its rows are skipped)\n");

    ctx = rtm_ctx_new(NULL);
    rtm_type t = {"bench", OBJ, 16, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
    pool = rtm_pool_new(ctx, &t);
    hpool = rtm_pool_new(ctx, &t);
    t.flags = RTM_POOL_CONCURRENT;
    cpool = rtm_pool_new(ctx, &t);
    fl_setup(WINDOW + 16);
    if (ctx == NULL || pool == NULL || hpool == NULL || cpool == NULL) return 1;

    contender pair[] = {
        {"free list (limit)", pair_fl, 0, {0}, {0}},   {"rtm raw", pair_raw, 0, {0}, {0}},
        {"rtm handle+get", pair_handle, 0, {0}, {0}},  {"rtm handle+obj", pair_handle_obj, 0, {0}, {0}},
        {"rtm handle", pair_handle_noget, 0, {0}, {0}},
        {"rtm conc. raw", pair_craw, 0, {0}, {0}},     {"rtm conc. handle", pair_chandle, 0, {0}, {0}},
        {"glibc malloc", pair_malloc, 0, {0}, {0}},    {"mimalloc", have_mi ? pair_mi : NULL, 0, {0}, {0}}};
    size_t npair = sizeof pair / sizeof pair[0] - !have_mi;
    rounds(pair, npair, PAIRS);

    fill(ring_fl, a_fl);
    fill(ring_raw, a_raw);
    fill(ring_malloc, a_malloc);
    if (have_mi) fill(ring_mi, a_mi);
    for (size_t k = 0; k < WINDOW; k++) ring_h[k] = rtm_pool_acquire(hpool);
    contender win[] = {
        {"free list (limit)", win_fl, 0, {0}, {0}}, {"rtm raw", win_raw, 0, {0}, {0}},
        {"rtm handle+get", win_handle, 0, {0}, {0}}, {"glibc malloc", win_malloc, 0, {0}, {0}},
        {"mimalloc", have_mi ? win_mi : NULL, 0, {0}, {0}}};
    size_t nwin = sizeof win / sizeof win[0] - !have_mi;
    rounds(win, nwin, STEPS);

    contender mt[] = {
        {"rtm conc. raw", pair_craw, 1, {0}, {0}},       {"rtm conc. raw", pair_craw, 2, {0}, {0}},
        {"rtm conc. handle", pair_chandle, 1, {0}, {0}}, {"rtm conc. handle", pair_chandle, 2, {0}, {0}},
        {"glibc malloc", pair_malloc, 1, {0}, {0}},      {"glibc malloc", pair_malloc, 2, {0}, {0}},
        {"mimalloc", have_mi ? pair_mi : NULL, 1, {0}, {0}}, {"mimalloc", have_mi ? pair_mi : NULL, 2, {0}, {0}}};
    size_t nmt = sizeof mt / sizeof mt[0] - 2 * !have_mi;
    rounds(mt, nmt, PAIRS);

    /* Thread CPU time first: on a shared machine it leaves out the time a
     * thread waits for a core, which wall time does not. */
    for (int cpu = 1; cpu >= 0; cpu--) {
        printf("%s\n%-34s %-18s %9s          %s\n",
               cpu ? "-- thread CPU time per pair (median) --" : "\n-- wall time per pair (median) --",
               "workload", "contender", "median", "vs free list / vs 1 thread");
        print_rows("pair, 1 thread", pair, npair, cpu);
        print_rows("window 4096, 1 thread", win, nwin, cpu);
        for (size_t k = 0; k < nmt; k += 2) {
            double one = cpu ? mt[k].cpu[0] : mt[k].ns[0], two = cpu ? mt[k + 1].cpu[0] : mt[k + 1].ns[0];
            bench_row("pair, 1 thread (new thread)", mt[k].who, one, one);
            bench_row("pair, 2 threads, per thread", mt[k + 1].who, two, one);
        }
    }

    printf("\ntargets (thread CPU time; wall time in brackets):\n");
    for (int cpu = 1; cpu >= 0; cpu--) {
#define V(c) (cpu ? (c).cpu[0] : (c).ns[0])
        double ref = V(pair[0]), raw = V(pair[1]), handle = V(pair[2]), withobj = V(pair[3]),
               noget = V(pair[4]);
        double wref = V(win[0]), wraw = V(win[1]), whandle = V(win[2]);
        double c1 = V(mt[0]), c2 = V(mt[1]), h1 = V(mt[2]), h2 = V(mt[3]);
#undef V
        const char *open = cpu ? "" : "  [wall: ", *close = cpu ? "" : "]";
        printf("%s  raw pair within 1.5x of the free list: %.2fx (window %.2fx)  %s%s\n", open,
               raw / ref, wraw / wref, raw / ref <= 1.5 ? "met" : "NOT met", close);
        printf("%s  handle pair (acquire+release) adds <= 1 ns over raw: %+.2f ns  %s; with get "
               "and a write %+.2f ns (window %+.2f ns); acquire_obj and a write %+.2f ns%s\n", open,
               noget - raw, noget - raw <= 1.0 ? "met" : "NOT met", handle - raw, whandle - wraw,
               withobj - raw, close);
        printf("%s  concurrent pool at 2 threads keeps >= 80%% of its 1-thread per-thread "
               "throughput: raw %.0f%%, handle %.0f%%  %s%s\n", open, 100 * c1 / c2, 100 * h1 / h2,
               c1 / c2 >= 0.8 && h1 / h2 >= 0.8 ? "met" : "NOT met", close);
    }
    if (nmt > 6 && mt[nmt - 1].ns[0] / mt[nmt - 2].ns[0] > 1.5)
        printf("  (mimalloc, thread-local, loses as much wall time at 2 threads: the second core is\n"
               "   busy and the two threads share one; the CPU-time figures are the ones to read)\n");
    rtm_ctx_destroy(ctx);
    return 0;
}
