/*
 * bench_arena.c: arenas against their peers, in one run.
 *
 * The workload is a parser's: 1,000 AST nodes of 40 bytes, each filled as it
 * is made, then everything released at once; repeated. Contenders:
 *   bump      a trivial bump pointer over a static buffer: the physical limit,
 *             and the reference of every ratio
 *   bump-in-memory  the same bump pointer with its cursor in memory and an
 *             out-of-line refill, as any arena's cursor must be
 *   rtmem-lease  an arena through a lease (RTM_LEASE_NEW), then reset
 *   rtmem     an arena, the inline fast path (RTM_ARENA_NEW), then reset
 *   rtmem-call  the same through the exported function (a call per node)
 *   malloc    glibc malloc, then free of each node
 *   mimalloc  mi_heap_new, mi_heap_malloc, mi_heap_destroy (dlopen'ed, so
 *             its malloc does not replace glibc's for the other peers)
 *   obstack   glibc obstack (64 KiB chunks), freed back to its first object
 *   talloc    a talloc pool context per round, freed with talloc_free
 *   apr       an APR pool, apr_palloc then apr_pool_clear
 * and scoped temporaries (save, nodes, rewind), and a fresh arena per round
 * (new, nodes, destroy: the context's chunk cache at work).
 *
 * Samples are taken in passes that visit every contender in turn, so a
 * change in the machine's load hits all of them alike; each row is the
 * median over the passes, in ns per node, and its ratio to bump.
 *
 *   bench_arena [passes [rounds]]      (default 41 passes of 1000 rounds)
 *
 * For instruction counts, which the machine's load does not disturb:
 *   valgrind --tool=callgrind --toggle-collect='run_*' bench_arena 1 20
 *   callgrind_annotate --inclusive=yes callgrind.out.<pid> | grep run_
 */
#include "bench.h" /* first: it sets _GNU_SOURCE */
#include "rtmem.h"

#include <dlfcn.h>
#include <obstack.h>
#include <stdalign.h>

#ifdef HAVE_TALLOC
#  include <talloc.h>
#endif
#ifdef HAVE_APR
#  include <apr_pools.h>
#endif

#define RTM_BENCH_NOINLINE __attribute__((noinline))
#define NODES 1000
static int ROUNDS = 1000; /* rounds of NODES per sample */
#define MAX_PASSES 64

struct node {
    int32_t kind, line;
    struct node *left, *right;
    double value;
    int64_t aux;
};
_Static_assert(sizeof(struct node) == 40, "an AST node of 40 bytes");

/* The same fill for everyone: every field written, nodes chained. */
static inline struct node *fill(struct node *n, int i, struct node *prev)
{
    n->kind = i & 15;
    n->line = i;
    n->left = prev;
    n->right = NULL;
    n->value = (double)i;
    n->aux = i;
    return n;
}

/* ---- the physical limit --------------------------------------------------- */

static alignas(64) char bump_buf[NODES * sizeof(struct node) + 64];
static char *bump_ptr, *bump_end;

static inline void *bump_alloc(size_t size, size_t align)
{
    uintptr_t p = ((uintptr_t)bump_ptr + align - 1) & ~(uintptr_t)(align - 1);
    if (p + size > (uintptr_t)bump_end) return NULL;
    bump_ptr = (char *)(p + size);
    return (void *)p;
}

static void run_bump(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        bump_ptr = bump_buf;
        bump_end = bump_buf + sizeof bump_buf;
        struct node *prev = NULL;
        for (int i = 0; i < NODES; i++)
            prev = fill(bump_alloc(sizeof(struct node), alignof(struct node)), i, prev);
        bench_sink(prev);
    }
}

/* The same bump pointer with its cursor in memory behind a pointer and an
 * out-of-line refill, as any arena's must be: the cost of being an arena. */
struct mem_cursor {
    char *ptr, *end;
};
static struct mem_cursor mem_cur;

static RTM_BENCH_NOINLINE void *mem_refill(struct mem_cursor *c, size_t size)
{
    c->ptr = bump_buf;
    c->end = bump_buf + sizeof bump_buf;
    char *p = c->ptr;
    c->ptr += size;
    return p;
}

static inline void *mem_alloc(struct mem_cursor *c, size_t size)
{
    char *p = c->ptr;
    if (p + size <= c->end) {
        c->ptr = p + size;
        return p;
    }
    return mem_refill(c, size);
}

static void run_bump_mem(void *arg)
{
    struct mem_cursor *c = ((void)arg, &mem_cur);
    bench_sink(&c);
    for (int r = 0; r < ROUNDS; r++) {
        c->ptr = bump_buf;
        c->end = bump_buf + sizeof bump_buf;
        struct node *prev = NULL;
        for (int i = 0; i < NODES; i++) prev = fill(mem_alloc(c, sizeof(struct node)), i, prev);
        bench_sink(prev);
    }
}

/* ---- rtmem ------------------------------------------------------------------ */

static rtm_ctx *ctx;
static rtm_arena *arena;

/* As a parser holds its arena: a local (or a parameter), not a global. */
static void run_rtmem(void *arg)
{
    rtm_arena *a = arg;
    for (int r = 0; r < ROUNDS; r++) {
        struct node *prev = NULL;
        for (int i = 0; i < NODES; i++) prev = fill(RTM_ARENA_NEW(a, struct node), i, prev);
        bench_sink(prev);
        rtm_arena_reset(a);
    }
}

/* A lease keeps the cursor in registers for the loop. */
static void run_rtmem_lease(void *arg)
{
    rtm_arena *a = arg;
    for (int r = 0; r < ROUNDS; r++) {
        rtm_arena_lease l = rtm_arena_lease_begin(a);
        struct node *prev = NULL;
        for (int i = 0; i < NODES; i++) prev = fill(RTM_LEASE_NEW(&l, struct node), i, prev);
        rtm_arena_lease_end(&l);
        bench_sink(prev);
        rtm_arena_reset(a);
    }
}

static void run_rtmem_call(void *arg)
{
    rtm_arena *a = arg;
    for (int r = 0; r < ROUNDS; r++) {
        struct node *prev = NULL;
        for (int i = 0; i < NODES; i++)
            prev = fill((rtm_arena_alloc)(a, sizeof(struct node), alignof(struct node)), i, prev);
        bench_sink(prev);
        rtm_arena_reset(a);
    }
}

/* Scoped temporaries: the nodes live between a save and a rewind. */
static void run_rtmem_scope(void *arg)
{
    rtm_arena *a = arg;
    for (int r = 0; r < ROUNDS; r++) {
        rtm_arena_mark m = rtm_arena_save(a);
        rtm_arena_lease l = rtm_arena_lease_begin(a);
        struct node *prev = NULL;
        for (int i = 0; i < NODES; i++) prev = fill(RTM_LEASE_NEW(&l, struct node), i, prev);
        rtm_arena_lease_end(&l);
        bench_sink(prev);
        rtm_arena_rewind(a, m);
    }
}

static void run_bump_scope_small(void *arg)
{
    (void)arg;
    bump_ptr = bump_buf;
    bump_end = bump_buf + sizeof bump_buf;
    for (int r = 0; r < ROUNDS; r++) {
        for (int s = 0; s < NODES / 10; s++) {
            char *mark = bump_ptr;
            struct node *prev = NULL;
            for (int i = 0; i < 10; i++)
                prev = fill(bump_alloc(sizeof(struct node), alignof(struct node)), i, prev);
            bench_sink(prev);
            bump_ptr = mark;
        }
    }
}

/* Many small scopes: save, 10 nodes, rewind. */
static void run_rtmem_scope_small(void *arg)
{
    rtm_arena *a = arg;
    for (int r = 0; r < ROUNDS; r++) {
        for (int s = 0; s < NODES / 10; s++) {
            rtm_arena_mark m = rtm_arena_save(a);
            struct node *prev = NULL;
            for (int i = 0; i < 10; i++) prev = fill(RTM_ARENA_NEW(a, struct node), i, prev);
            bench_sink(prev);
            rtm_arena_rewind(a, m);
        }
    }
}

/* A fresh arena every round; its chunks come from the context's cache. */
static void run_rtmem_fresh(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        rtm_arena *a = rtm_arena_new(ctx);
        rtm_arena_lease l = rtm_arena_lease_begin(a);
        struct node *prev = NULL;
        for (int i = 0; i < NODES; i++) prev = fill(RTM_LEASE_NEW(&l, struct node), i, prev);
        rtm_arena_lease_end(&l);
        bench_sink(prev);
        rtm_arena_destroy(a);
    }
}

/* ---- peers -------------------------------------------------------------------- */

static void run_malloc(void *arg)
{
    static struct node *all[NODES];
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        struct node *prev = NULL;
        for (int i = 0; i < NODES; i++) prev = all[i] = fill(malloc(sizeof(struct node)), i, prev);
        bench_sink(prev);
        for (int i = 0; i < NODES; i++) free(all[i]);
    }
}

typedef struct mi_heap_s mi_heap_t;
static mi_heap_t *(*mi_heap_new_p)(void);
static void *(*mi_heap_malloc_p)(mi_heap_t *, size_t);
static void (*mi_heap_destroy_p)(mi_heap_t *);

static int mimalloc_load(void)
{
    void *lib = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (lib == NULL) lib = dlopen("libmimalloc.so", RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (lib == NULL) return 0;
    *(void **)&mi_heap_new_p = dlsym(lib, "mi_heap_new");
    *(void **)&mi_heap_malloc_p = dlsym(lib, "mi_heap_malloc");
    *(void **)&mi_heap_destroy_p = dlsym(lib, "mi_heap_destroy");
    return mi_heap_new_p && mi_heap_malloc_p && mi_heap_destroy_p;
}

static void run_mimalloc(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        mi_heap_t *h = mi_heap_new_p();
        struct node *prev = NULL;
        for (int i = 0; i < NODES; i++) prev = fill(mi_heap_malloc_p(h, sizeof(struct node)), i, prev);
        bench_sink(prev);
        mi_heap_destroy_p(h);
    }
}

#define obstack_chunk_alloc malloc
#define obstack_chunk_free free
static struct obstack ob;

static void run_obstack(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        struct node *first = obstack_alloc(&ob, sizeof(struct node));
        struct node *prev = fill(first, 0, NULL);
        for (int i = 1; i < NODES; i++) prev = fill(obstack_alloc(&ob, sizeof(struct node)), i, prev);
        bench_sink(prev);
        obstack_free(&ob, first);
    }
}

#ifdef HAVE_TALLOC
static void run_talloc(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        void *pool = talloc_pool(NULL, 256 * 1024); /* room for the nodes and their headers */
        struct node *prev = NULL;
        for (int i = 0; i < NODES; i++) prev = fill(talloc_size(pool, sizeof(struct node)), i, prev);
        bench_sink(prev);
        talloc_free(pool);
    }
}
#endif

#ifdef HAVE_APR
static apr_pool_t *apr;

static void run_apr(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        struct node *prev = NULL;
        for (int i = 0; i < NODES; i++) prev = fill(apr_palloc(apr, sizeof(struct node)), i, prev);
        bench_sink(prev);
        apr_pool_clear(apr);
    }
}
#endif

/* ---- the table ------------------------------------------------------------------- */

typedef struct contender {
    const char *workload, *who;
    bench_fn fn;
    int ref; /* index of the reference row for the ratio */
    double samples[MAX_PASSES];
} contender;

int main(int argc, char **argv)
{
    int passes = argc > 1 ? atoi(argv[1]) : 41;
    if (passes < 1) passes = 1;
    if (passes > MAX_PASSES) passes = MAX_PASSES;
    if (argc > 2 && atoi(argv[2]) > 0) ROUNDS = atoi(argv[2]);

    ctx = rtm_ctx_new(NULL);
    arena = rtm_arena_new(ctx);
    if (ctx == NULL || arena == NULL) {
        fprintf(stderr, "bench_arena: no context\n");
        return 1;
    }
    obstack_begin(&ob, 64 * 1024);
    int have_mi = mimalloc_load();
#ifdef HAVE_APR
    apr_initialize();
    apr_pool_create(&apr, NULL);
#endif

    const char *w1 = "1000 x 40 B nodes, then reset";
    const char *w2 = "save, 1000 nodes (lease), rewind";
    const char *w3 = "100 x (save, 10 nodes, rewind)";
    const char *w4 = "new arena, 1000 nodes, destroy";
    contender cs[] = {
        {w1, "bump", run_bump, 0, {0}},
        {w1, "bump-in-memory", run_bump_mem, 0, {0}},
        {w1, "rtmem-lease", run_rtmem_lease, 0, {0}},
        {w1, "rtmem", run_rtmem, 0, {0}},
        {w1, "rtmem-call", run_rtmem_call, 0, {0}},
        {w1, "malloc", run_malloc, 0, {0}},
        {w1, "mimalloc-heap", have_mi ? run_mimalloc : NULL, 0, {0}},
        {w1, "obstack", run_obstack, 0, {0}},
#ifdef HAVE_TALLOC
        {w1, "talloc-pool", run_talloc, 0, {0}},
#endif
#ifdef HAVE_APR
        {w1, "apr-pool", run_apr, 0, {0}},
#endif
        {w2, "rtmem", run_rtmem_scope, 0, {0}},
        {w3, "bump", run_bump_scope_small, 0, {0}},
        {w3, "rtmem", run_rtmem_scope_small, 0, {0}},
        {w4, "rtmem", run_rtmem_fresh, 0, {0}},
    };
    size_t n = sizeof cs / sizeof cs[0];
    for (size_t i = 0; i < n; i++)
        if (strcmp(cs[i].who, "bump") == 0 && strcmp(cs[i].workload, w3) == 0)
            for (size_t j = i; j < n; j++)
                if (strcmp(cs[j].workload, w3) == 0) cs[j].ref = (int)i;

    for (size_t i = 0; i < n; i++)
        if (cs[i].fn) cs[i].fn(arena); /* warm-up: chunks, caches, pools */
    for (int p = 0; p < passes; p++) {
        for (size_t i = 0; i < n; i++) {
            if (cs[i].fn == NULL) continue;
            uint64_t t0 = bench_now_ns();
            cs[i].fn(arena);
            cs[i].samples[p] = (double)(bench_now_ns() - t0) / (double)(ROUNDS * NODES);
        }
    }

    bench_print_machine(stdout);
    printf("bench_arena: %d passes x %d rounds x %d nodes; median ns per node; ratio to bump\n",
           passes, ROUNDS, NODES);
    double med[64];
    for (size_t i = 0; i < n; i++) med[i] = cs[i].fn ? bench_median(cs[i].samples, (size_t)passes) : 0;
    for (size_t i = 0; i < n; i++) {
        if (cs[i].fn == NULL) {
            printf("%-34s %-18s   (not available)\n", cs[i].workload, cs[i].who);
            continue;
        }
        bench_row(cs[i].workload, cs[i].who, med[i], med[cs[i].ref]);
    }
    double lease = med[2] / med[0], plain = med[3] / med[0], in_memory = med[1] / med[0];
    printf("target: an arena within 1.10x of bump on \"%s\": rtmem-lease %.2fx, %s;\n"
           "        rtmem (cursor in memory) %.2fx, against %.2fx for bump-in-memory\n",
           w1, lease, lease <= 1.10 ? "met" : "NOT met", plain, in_memory);

#ifdef HAVE_APR
    apr_pool_destroy(apr);
    apr_terminate();
#endif
    obstack_free(&ob, NULL);
    rtm_arena_destroy(arena);
    rtm_ctx_destroy(ctx);
    return 0;
}
