/*
 * bench_heap.c: the small-object heap against glibc malloc, jemalloc,
 * mimalloc and tcmalloc, in one run, side by side: the median ns per
 * operation of each, its ratio to rtmem, and the targets.
 *
 *   bench_heap [--quick] [--only SUBSTRING] [--skip CONTENDER]...
 *
 * (--skip jemalloc lets it run under valgrind --tool=callgrind, which cannot
 * start the LD_PRELOAD child.)
 *
 * rtmem is linked statically (direct calls); glibc's malloc is called
 * directly; mimalloc and tcmalloc are loaded with dlopen(RTLD_LOCAL |
 * RTLD_DEEPBIND), so their malloc does not replace the process's, and called
 * through their own entry points (sized frees where they have them).
 * jemalloc cannot be dlopen'ed (its TLS is initial-exec: "cannot allocate
 * memory in static TLS block"), so it runs in a child process of this
 * program under LD_PRELOAD, workload by workload, interleaved with the rest.
 *
 * Each workload is compiled once per contender from the same inline body, so
 * the only difference is the allocator called.
 */
#define _GNU_SOURCE
#include "bench.h"
#include "rtmem.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <sys/wait.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* ---- the allocators, behind one shape --------------------------------------- */

typedef struct heap_ops {
    void *(*alloc)(void *ud, size_t size);
    void (*free)(void *ud, void *p, size_t size);
    void *(*realloc)(void *ud, void *p, size_t old_size, size_t new_size);
    void *(*lua)(void *ud, void *p, size_t osize, size_t nsize); /* lua_Alloc */
} heap_ops;

/* rtmem */
ALWAYS_INLINE void *rt_alloc(void *ud, size_t n) { return rtm_alloc(ud, n); }
ALWAYS_INLINE void rt_free(void *ud, void *p, size_t n) { rtm_free(ud, p, n); }
ALWAYS_INLINE void *rt_realloc(void *ud, void *p, size_t o, size_t n) { return rtm_realloc(ud, p, o, n); }
ALWAYS_INLINE void *rt_lua(void *ud, void *p, size_t o, size_t n) { return rtm_lua_alloc(ud, p, o, n); }

/* A peer's lua_Alloc, as Lua's own l_alloc, with the sized free it has. */
#define PEER_LUA(P)                                                                \
    ALWAYS_INLINE void *P##_lua(void *ud, void *p, size_t o, size_t n)             \
    {                                                                              \
        if (n == 0) {                                                              \
            P##_free(ud, p, o);                                                    \
            return NULL;                                                           \
        }                                                                          \
        return p == NULL ? P##_alloc(ud, n) : P##_realloc(ud, p, o, n);            \
    }

/* glibc */
ALWAYS_INLINE void *gl_alloc(void *ud, size_t n) { (void)ud; return malloc(n); }
ALWAYS_INLINE void gl_free(void *ud, void *p, size_t n) { (void)ud; (void)n; free(p); }
ALWAYS_INLINE void *gl_realloc(void *ud, void *p, size_t o, size_t n) { (void)ud; (void)o; return realloc(p, n); }
PEER_LUA(gl)

/* mimalloc */
static void *(*mi_malloc_p)(size_t);
static void (*mi_free_size_p)(void *, size_t);
static void *(*mi_realloc_p)(void *, size_t);
ALWAYS_INLINE void *mi_alloc(void *ud, size_t n) { (void)ud; return mi_malloc_p(n); }
ALWAYS_INLINE void mi_free(void *ud, void *p, size_t n) { (void)ud; mi_free_size_p(p, n); }
ALWAYS_INLINE void *mi_realloc(void *ud, void *p, size_t o, size_t n) { (void)ud; (void)o; return mi_realloc_p(p, n); }
PEER_LUA(mi)

/* tcmalloc */
static void *(*tc_malloc_p)(size_t);
static void (*tc_free_sized_p)(void *, size_t);
static void *(*tc_realloc_p)(void *, size_t);
ALWAYS_INLINE void *tc_alloc(void *ud, size_t n) { (void)ud; return tc_malloc_p(n); }
ALWAYS_INLINE void tc_free(void *ud, void *p, size_t n) { (void)ud; tc_free_sized_p(p, n); }
ALWAYS_INLINE void *tc_realloc(void *ud, void *p, size_t o, size_t n) { (void)ud; (void)o; return tc_realloc_p(p, n); }
PEER_LUA(tc)

/* jemalloc: its extended API, sized free included */
static void *(*je_mallocx_p)(size_t, int);
static void (*je_sdallocx_p)(void *, size_t, int);
static void *(*je_rallocx_p)(void *, size_t, int);
ALWAYS_INLINE void *je_alloc(void *ud, size_t n) { (void)ud; return je_mallocx_p(n, 0); }
ALWAYS_INLINE void je_free(void *ud, void *p, size_t n) { (void)ud; je_sdallocx_p(p, n, 0); }
ALWAYS_INLINE void *je_realloc(void *ud, void *p, size_t o, size_t n) { (void)ud; (void)o; return je_rallocx_p(p, n, 0); }
PEER_LUA(je)

/* ---- workloads ------------------------------------------------------------------ */

#define TRACE_LEN ((size_t)1 << 20)
#define CHAIN_MAX ((size_t)4 << 20)
#define CHAIN_STEPS 18 /* 16 B doubled up to 4 MiB */
#define LUA_SLOTS 4096

typedef struct lua_op {
    uint32_t slot, osize, nsize; /* slot empty: osize is the type tag */
} lua_op;

static uint32_t trace_rand[TRACE_LEN], trace_size[TRACE_LEN];
static uint32_t batch_sizes[1000];
static lua_op *lua_trace;
static size_t lua_trace_len;

typedef struct wl {
    void *ud;
    size_t steps; /* operations per call */
    size_t live;  /* working-set size (mixed) */
    void **slots;
    uint32_t *sizes;
    size_t pos;
} wl;

/* (Each body copies the session's fields into locals, so they stay in
 * registers across the calls instead of being reloaded from memory the
 * allocator may be writing to.) */
ALWAYS_INLINE void w_pairs(const heap_ops *o, wl *w)
{
    void *ud = w->ud;
    for (size_t i = 0, n = w->steps; i < n; i++) {
        char *p = o->alloc(ud, 32);
        p[0] = 1;
        bench_sink(p);
        o->free(ud, p, 32);
    }
}

ALWAYS_INLINE void w_batch(const heap_ops *o, wl *w)
{
    void *ud = w->ud;
    void **slots = w->slots;
    for (size_t r = 0, n = w->steps / 1000; r < n; r++) {
        for (size_t i = 0; i < 1000; i++) {
            char *p = o->alloc(ud, batch_sizes[i]);
            p[0] = (char)i;
            slots[i] = p;
        }
        for (size_t i = 0; i < 1000; i++) o->free(ud, slots[i], batch_sizes[i]);
    }
}

/* Random replace in a working set of `live` objects of 8-256 B. */
ALWAYS_INLINE void w_mixed(const heap_ops *o, wl *w)
{
    void *ud = w->ud;
    void **slots = w->slots;
    uint32_t *sizes = w->sizes;
    size_t pos = w->pos, live = w->live;
    for (size_t i = 0, n = w->steps; i < n; i++) {
        size_t j = (size_t)(((uint64_t)trace_rand[pos] * live) >> 32);
        uint32_t s = trace_size[pos];
        pos = (pos + 1) & (TRACE_LEN - 1);
        o->free(ud, slots[j], sizes[j]);
        char *p = o->alloc(ud, s);
        p[0] = 1;
        slots[j] = p;
        sizes[j] = s;
    }
    w->pos = pos;
}

ALWAYS_INLINE void w_lua(const heap_ops *o, wl *w)
{
    void *ud = w->ud;
    void **slots = w->slots;
    for (size_t i = 0, n = lua_trace_len; i < n; i++) {
        const lua_op *op = &lua_trace[i];
        void **s = &slots[op->slot];
        char *p = o->lua(ud, *s, op->osize, op->nsize);
        if (op->nsize != 0) p[0] = 1;
        *s = p;
    }
}

ALWAYS_INLINE void w_chain(const heap_ops *o, wl *w)
{
    void *ud = w->ud;
    for (size_t c = 0, n = w->steps / CHAIN_STEPS; c < n; c++) {
        char *p = o->alloc(ud, 16);
        p[0] = 1;
        for (size_t s = 32; s <= CHAIN_MAX; s *= 2) {
            p = o->realloc(ud, p, s / 2, s);
            p[s - 1] = 1;
        }
        if (p[0] != 1) abort();
        o->free(ud, p, CHAIN_MAX);
    }
}

/* One instance of every workload per contender: the ops are constants, so
 * the calls inside are direct (rtmem, glibc) or through the peer's pointer. */
typedef struct contender_fns {
    const heap_ops *ops;
    bench_fn pairs, batch, mixed, lua, chain;
} contender_fns;

#define CONTENDER(P)                                                              \
    static const heap_ops P##_ops = {P##_alloc, P##_free, P##_realloc, P##_lua};  \
    static void P##_pairs(void *w) { w_pairs(&P##_ops, w); }                      \
    static void P##_batch(void *w) { w_batch(&P##_ops, w); }                      \
    static void P##_mixed(void *w) { w_mixed(&P##_ops, w); }                      \
    static void P##_lua_run(void *w) { w_lua(&P##_ops, w); }                      \
    static void P##_chain(void *w) { w_chain(&P##_ops, w); }                      \
    static const contender_fns P##_fns = {&P##_ops, P##_pairs, P##_batch, P##_mixed, \
                                          P##_lua_run, P##_chain};
CONTENDER(rt)
CONTENDER(gl)
CONTENDER(mi)
CONTENDER(tc)
CONTENDER(je)

/* ---- traces ---------------------------------------------------------------------- */

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 2685821657736338717ull;
}

/* What a Lua program asks of its allocator: short strings, tables, closures,
 * userdata, arrays; about 2 frees for every 3 allocations once warm, and a
 * sixth of the calls resizing (table and buffer growth, a few shrinks), all
 * with sized frees. The trace ends by freeing what is live (lua_close). */
static void make_lua_trace(size_t steps)
{
    size_t cap = steps + LUA_SLOTS;
    lua_trace = malloc(cap * sizeof *lua_trace);
    uint32_t *size = calloc(LUA_SLOTS, sizeof *size);
    size_t n = 0;
    for (size_t i = 0; i < steps; i++) {
        uint32_t j = (uint32_t)(rnd() % LUA_SLOTS);
        uint64_t r = rnd();
        unsigned pick = (unsigned)(r % 100);
        r >>= 8;
        if (size[j] == 0) {
            uint32_t tag, sz;
            if (pick < 40) tag = 4, sz = 25 + (uint32_t)(r % 48);         /* short string */
            else if (pick < 65) tag = 5, sz = 56;                          /* table */
            else if (pick < 80) tag = 6, sz = 32 + 8 * (uint32_t)(r % 4);  /* closure */
            else if (pick < 90) tag = 7, sz = 40 + (uint32_t)(r % 200);    /* userdata */
            else tag = 0, sz = 16 * (1 + (uint32_t)(r % 16));              /* array part */
            lua_trace[n++] = (lua_op){j, tag, sz};
            size[j] = sz;
        } else if (pick < 65) {
            lua_trace[n++] = (lua_op){j, size[j], 0};
            size[j] = 0;
        } else {
            uint32_t sz = size[j] < 2048 ? size[j] * 2 : size[j] / 2;
            lua_trace[n++] = (lua_op){j, size[j], sz};
            size[j] = sz;
        }
    }
    for (uint32_t j = 0; j < LUA_SLOTS; j++)
        if (size[j] != 0) lua_trace[n++] = (lua_op){j, size[j], 0};
    lua_trace_len = n;
    free(size);
}

static void make_traces(void)
{
    for (size_t i = 0; i < TRACE_LEN; i++) {
        trace_rand[i] = (uint32_t)(rnd() >> 32);
        trace_size[i] = 8 + (uint32_t)(rnd() % 249); /* 8..256 */
    }
    for (size_t i = 0; i < 1000; i++) batch_sizes[i] = 16 + (uint32_t)(rnd() % 49); /* 16..64 */
    make_lua_trace(300000);
}

/* ---- measuring ------------------------------------------------------------------- */

enum { W_PAIRS, W_BATCH, W_LUA, W_CHAIN, W_MIX1K, W_MIX10K, W_MIX100K, W_MIX1M, W_COUNT };

static const struct workload {
    const char *name;
    size_t live; /* mixed workloads */
    double target; /* rtmem / best peer at most this; the chain: / glibc */
} workloads[W_COUNT] = {
    {"alloc+free pairs, 32 B", 0, 0.5},
    {"1,000 allocs 16-64 B, free all", 0, 0.6},
    {"lua_Alloc mix (sized, realloc)", 0, 0.6},
    {"realloc chain 16 B..4 MiB", 0, 1.0},
    {"mixed 8-256 B, 1,000 live", 1000, 0.6},
    {"mixed 8-256 B, 10,000 live", 10000, 0.6},
    {"mixed 8-256 B, 100,000 live", 100000, 0.6},
    {"mixed 8-256 B, 1,000,000 live", 1000000, 1.0},
};

static bool quick;

/* One contender's state for one workload: set up once, sampled many times
 * (interleaved with the other contenders), torn down. */
typedef struct session {
    const contender_fns *f;
    bench_fn fn;
    size_t ops; /* operations per sample */
    wl w;
} session;

static void session_open(session *s, const contender_fns *f, void *ud, int k)
{
    memset(s, 0, sizeof *s);
    s->f = f;
    s->w.ud = ud;
    switch (k) {
    case W_PAIRS:
        s->fn = f->pairs;
        s->ops = s->w.steps = quick ? 200000 : 1000000;
        break;
    case W_BATCH:
        s->fn = f->batch;
        s->ops = s->w.steps = quick ? 50000 : 200000;
        s->w.slots = malloc(1000 * sizeof *s->w.slots);
        break;
    case W_LUA:
        s->fn = f->lua;
        s->ops = lua_trace_len;
        s->w.slots = calloc(LUA_SLOTS, sizeof *s->w.slots);
        break;
    case W_CHAIN:
        s->fn = f->chain;
        s->ops = s->w.steps = CHAIN_STEPS * (quick ? 20 : 100);
        break;
    default:
        s->fn = f->mixed;
        s->w.live = workloads[k].live;
        s->ops = s->w.steps = (s->w.live >= 1000000 ? 1000000 : 300000) / (quick ? 10 : 1);
        s->w.slots = malloc(s->w.live * sizeof *s->w.slots);
        s->w.sizes = malloc(s->w.live * sizeof *s->w.sizes);
        for (size_t i = 0; i < s->w.live; i++) {
            s->w.sizes[i] = trace_size[(i * 7919) & (TRACE_LEN - 1)];
            s->w.slots[i] = f->ops->alloc(ud, s->w.sizes[i]);
        }
        break;
    }
}

/* CPU time of this thread: on a shared machine, time the thread spends
 * descheduled does not count (on an idle one it equals wall time). */
static uint64_t thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double session_sample(session *s)
{
    uint64_t t0 = thread_ns();
    s->fn(&s->w);
    return (double)(thread_ns() - t0) / (double)s->ops;
}

static void session_close(session *s)
{
    if (s->w.sizes != NULL)
        for (size_t i = 0; i < s->w.live; i++) s->f->ops->free(s->w.ud, s->w.slots[i], s->w.sizes[i]);
    free(s->w.slots);
    free(s->w.sizes);
}

static int runs_for(int k)
{
    if (quick) return 3;
    return workloads[k].live >= 1000000 ? 7 : 15;
}

/* ---- contenders ------------------------------------------------------------------- */

enum { C_RTMEM, C_GLIBC, C_JEMALLOC, C_MIMALLOC, C_TCMALLOC, C_COUNT };

typedef struct contender {
    const char *name;
    const contender_fns *fns;
    bool in_child; /* measured in a child process under LD_PRELOAD */
    bool ok;
    char note[160];
    double ns[W_COUNT];
} contender;

static contender contenders[C_COUNT] = {
    {"rtmem", &rt_fns, false, true, "", {0}},
    {"glibc", &gl_fns, false, true, "", {0}},
    {"jemalloc", &je_fns, false, false, "", {0}},
    {"mimalloc", &mi_fns, false, false, "", {0}},
    {"tcmalloc", &tc_fns, false, false, "", {0}},
};

static void *open_peer(contender *c, const char *lib)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (h == NULL) snprintf(c->note, sizeof c->note, "dlopen: %s", dlerror());
    return h;
}

#define SYM(h, var, name) (*(void **)&(var) = dlsym((h), (name)))

static void load_peers(void)
{
    contender *mi = &contenders[C_MIMALLOC], *tc = &contenders[C_TCMALLOC], *je = &contenders[C_JEMALLOC];
    void *h = open_peer(mi, "libmimalloc.so.2");
    if (h != NULL && SYM(h, mi_malloc_p, "mi_malloc") && SYM(h, mi_realloc_p, "mi_realloc") &&
        SYM(h, mi_free_size_p, "mi_free_size")) {
        mi->ok = true;
        int (*version)(void);
        if (SYM(h, version, "mi_version"))
            snprintf(mi->note, sizeof mi->note, "version %d, dlopen, mi_free_size", version());
    }
    h = open_peer(tc, "libtcmalloc_minimal.so.4");
    if (h != NULL && SYM(h, tc_malloc_p, "tc_malloc") && SYM(h, tc_realloc_p, "tc_realloc")) {
        if (!SYM(h, tc_free_sized_p, "tc_free_sized")) SYM(h, tc_free_sized_p, "tc_free_sized");
        tc->ok = tc_free_sized_p != NULL;
        snprintf(tc->note, sizeof tc->note, "gperftools tcmalloc_minimal, dlopen, tc_free_sized");
    }
    h = open_peer(je, "libjemalloc.so.2");
    if (h != NULL && SYM(h, je_mallocx_p, "mallocx") && SYM(h, je_sdallocx_p, "sdallocx") &&
        SYM(h, je_rallocx_p, "rallocx")) {
        je->ok = true;
        snprintf(je->note, sizeof je->note, "dlopen, mallocx/sdallocx/rallocx");
    } else {
        /* fall back to a child process under LD_PRELOAD (see the top) */
        je->ok = je->in_child = true;
        bool tls = strstr(je->note, "static TLS") != NULL;
        snprintf(je->note, sizeof je->note,
                 "child process under LD_PRELOAD, mallocx/sdallocx/rallocx (dlopen fails%s)",
                 tls ? ": static TLS" : "");
    }
}

/* The child: jemalloc is the process's malloc. It sets up workload k, then
 * takes one sample per line read, printing each; EOF ends it. */
static int child_main(int k)
{
    SYM(RTLD_DEFAULT, je_mallocx_p, "mallocx");
    SYM(RTLD_DEFAULT, je_sdallocx_p, "sdallocx");
    SYM(RTLD_DEFAULT, je_rallocx_p, "rallocx");
    if (je_mallocx_p == NULL || je_sdallocx_p == NULL || je_rallocx_p == NULL) return 3;
    make_traces();
    session s;
    session_open(&s, &je_fns, NULL, k);
    char line[16];
    while (fgets(line, sizeof line, stdin) != NULL) {
        printf("%.6f\n", session_sample(&s));
        fflush(stdout);
    }
    session_close(&s);
    return 0;
}

typedef struct child {
    pid_t pid;
    FILE *to, *from;
} child;

static bool child_open(child *c, int k)
{
    char arg[16], self[64];
    snprintf(arg, sizeof arg, "%d", k);
    snprintf(self, sizeof self, "/proc/%d/exe", (int)getpid());
    int in[2], out[2];
    if (pipe(in) != 0) return false;
    if (pipe(out) != 0) {
        close(in[0]);
        close(in[1]);
        return false;
    }
    fflush(stdout);
    c->pid = fork();
    if (c->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        setenv("LD_PRELOAD", "libjemalloc.so.2", 1);
        execl(self, "bench_heap", "--child", arg, quick ? "--quick" : NULL, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    c->to = fdopen(in[1], "w");
    c->from = fdopen(out[0], "r");
    return c->pid > 0 && c->to != NULL && c->from != NULL;
}

static double child_sample(child *c)
{
    char line[64];
    if (fputs("s\n", c->to) == EOF || fflush(c->to) != 0) return -1;
    if (fgets(line, sizeof line, c->from) == NULL) return -1;
    return atof(line);
}

static bool child_close(child *c)
{
    fclose(c->to);
    fclose(c->from);
    int status = 0;
    waitpid(c->pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ---- main ---------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *only = NULL, *skip[8] = {NULL};
    int child_k = -1, nskip = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = true;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--child") == 0 && i + 1 < argc) child_k = atoi(argv[++i]);
        else if (strcmp(argv[i], "--skip") == 0 && i + 1 < argc) skip[nskip++ % 8] = argv[++i];
        else {
            fprintf(stderr, "usage: bench_heap [--quick] [--only SUBSTRING] [--skip CONTENDER]...\n");
            return 2;
        }
    }
    if (child_k >= 0) return child_main(child_k);

    bench_print_machine(stdout);
    load_peers();
    for (int i = 0; i < nskip && i < 8; i++)
        for (int c = 1; c < C_COUNT; c++)
            if (strcmp(skip[i], contenders[c].name) == 0) {
                contenders[c].ok = false;
                snprintf(contenders[c].note, sizeof contenders[c].note, "skipped (--skip)");
            }
    for (int c = 0; c < C_COUNT; c++)
        printf("%-9s %s\n", contenders[c].name,
               c == C_RTMEM ? "static library, direct calls, sized free"
               : c == C_GLIBC ? "the process's malloc, direct calls"
               : contenders[c].note[0] ? contenders[c].note : "skipped");
    make_traces();
    rtm_ctx *ctx = rtm_ctx_new(NULL);
    if (ctx == NULL) return 1;

    printf("\nmedian ns per operation (thread CPU time); contenders sampled in turn (%s samples each);\n"
           "x = ns / rtmem's ns (above 1: slower than rtmem)\n",
           quick ? "3" : "15, 7 at 1,000,000 live");
    for (int k = 0; k < W_COUNT; k++) {
        if (only != NULL && strstr(workloads[k].name, only) == NULL) continue;
        session sessions[C_COUNT];
        child kids[C_COUNT];
        double samples[C_COUNT][64];
        int runs = runs_for(k);
        for (int c = 0; c < C_COUNT; c++) {
            contender *ct = &contenders[c];
            if (!ct->ok) continue;
            if (ct->in_child) {
                if (!child_open(&kids[c], k)) ct->ok = false;
            } else {
                session_open(&sessions[c], ct->fns, c == C_RTMEM ? (void *)ctx : NULL, k);
            }
        }
        for (int r = -1; r < runs; r++) /* r = -1: a warm-up round */
            for (int c = 0; c < C_COUNT; c++) {
                contender *ct = &contenders[c];
                if (!ct->ok) continue;
                double ns = ct->in_child ? child_sample(&kids[c]) : session_sample(&sessions[c]);
                if (ns < 0) {
                    ct->ok = false;
                    snprintf(ct->note, sizeof ct->note, "the child process failed");
                    child_close(&kids[c]);
                } else if (r >= 0) {
                    samples[c][r] = ns;
                }
            }
        for (int c = 0; c < C_COUNT; c++) {
            contender *ct = &contenders[c];
            if (!ct->ok) continue;
            if (ct->in_child) {
                if (!child_close(&kids[c])) ct->ok = false;
            } else {
                session_close(&sessions[c]);
            }
            ct->ns[k] = bench_median(samples[c], (size_t)runs);
        }
        double ref = contenders[C_RTMEM].ns[k];
        for (int c = 0; c < C_COUNT; c++)
            if (contenders[c].ok) bench_row(workloads[k].name, contenders[c].name, contenders[c].ns[k], ref);
        rtm_ctx_trim(ctx);
    }

    printf("\ntargets (ratios from this run):\n");
    printf("%-34s %-9s %10s %8s %8s\n", "workload", "vs", "rtmem/vs", "target", "");
    for (int k = 0; k < W_COUNT; k++) {
        if (only != NULL && strstr(workloads[k].name, only) == NULL) continue;
        int vs = -1;
        if (k == W_CHAIN) vs = C_GLIBC;
        else
            for (int c = 1; c < C_COUNT; c++)
                if (contenders[c].ok && (vs < 0 || contenders[c].ns[k] < contenders[vs].ns[k])) vs = c;
        if (vs < 0 || !contenders[vs].ok) {
            printf("%-34s %-9s %10s %8.2f %8s\n", workloads[k].name, "-", "n/a", workloads[k].target, "");
            continue;
        }
        double r = contenders[C_RTMEM].ns[k] / contenders[vs].ns[k];
        printf("%-34s %-9s %10.2f %8.2f %8s\n", workloads[k].name, contenders[vs].name, r,
               workloads[k].target, r <= workloads[k].target ? "met" : "NOT MET");
    }
    rtm_ctx_destroy(ctx);
    return 0;
}
