/* test_arena.c: bump arenas, their marks, reset, the context's arena cache,
 * bad input, the limit, and fault injection over a mixed arena and buffer
 * workload. */
#include "support.h"

#include <stdio.h>

/* The debug-fill test reads bytes whose contents the contract leaves
 * undefined; under Valgrind it says so first. */
#if defined(__has_include)
#  if __has_include(<valgrind/memcheck.h>)
#    include <valgrind/memcheck.h>
#  endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#  define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif

/* ---- helpers --------------------------------------------------------------- */

static rtm_test_pages tp;

/* A context over the counting page source. */
static rtm_ctx *ctx_over_tp(size_t limit, unsigned flags)
{
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {limit, NULL, &tp.source, flags};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

static rtm_stats stats_of(rtm_ctx *ctx)
{
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    return st;
}

/* Destroys the context and checks it gave back every page. */
static void ctx_end(rtm_ctx *ctx)
{
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
}

static bool aligned(const void *p, size_t align) { return ((uintptr_t)p & (align - 1)) == 0; }

/* Fills and checks a block with a pattern of its own. */
static void fill(void *p, size_t n, uint32_t tag)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(tag * 31u + i * 7u);
}
static bool intact(const void *p, size_t n, uint32_t tag)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)(tag * 31u + i * 7u)) return false;
    return true;
}

typedef struct chunk_walk {
    size_t n, bytes, sizes[256];
    int stop_after;
} chunk_walk;

static int walk_chunks(void *ud, rtm_visit_kind kind, void *p, size_t size)
{
    chunk_walk *w = ud;
    if (kind != RTM_VISIT_ARENA_CHUNK) return 0;
    ck_assert(aligned(p, 4096));
    if (w->n < 256) w->sizes[w->n] = size;
    w->n++;
    w->bytes += size;
    return w->stop_after != 0 && (int)w->n >= w->stop_after;
}

static chunk_walk visit_chunks(rtm_ctx *ctx)
{
    chunk_walk w;
    memset(&w, 0, sizeof w);
    ck_assert_int_eq(rtm_ctx_visit(ctx, walk_chunks, &w), RTM_OK);
    return w;
}

/* ---- ordinary use ---------------------------------------------------------- */

struct node {
    int kind, line;
    struct node *left, *right;
    double value;
};

START_TEST(arena_basic)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    ck_assert_ptr_nonnull(a);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.arenas_live, 1);
    ck_assert_uint_eq(st.arena_chunks, 1);
    ck_assert_uint_eq(st.arena_chunk_bytes, RTM_ARENA_CHUNK_MIN);
    ck_assert_uint_eq(st.arena_bytes_used, 0);
    ck_assert_uint_eq(st.arena_cache_misses, 1);

    struct node *n = RTM_ARENA_NEW(a, struct node);
    ck_assert_ptr_nonnull(n);
    ck_assert(aligned(n, RTM_ALIGNOF(struct node)));
    n->kind = 1;
    n->left = n->right = NULL;
    struct node *kids = RTM_ARENA_NEW_N(a, struct node, 10);
    ck_assert_ptr_nonnull(kids);
    ck_assert_ptr_eq(kids, n + 1); /* bumped right after */
    for (int i = 0; i < 10; i++) kids[i].line = i;
    /* The exported function and the inline path share one cursor; blocks
     * take whole grains, so even align 1 gives 8-aligned blocks. */
    char *c1 = (rtm_arena_alloc)(a, 3, 1);
    char *c2 = rtm_arena_alloc(a, 5, 1);
    ck_assert_ptr_eq(c2, c1 + RTM_ARENA_GRAIN);
    void *(*fp)(rtm_arena *, size_t, size_t) = rtm_arena_alloc;
    char *c3 = fp(a, 9, 1);
    ck_assert_ptr_eq(c3, c2 + RTM_ARENA_GRAIN);
    ck_assert(aligned(c1, 8) && aligned(c2, 8) && aligned(c3, 8));
    ck_assert_ptr_eq(rtm_arena_alloc(a, 1, 2), c3 + 2 * RTM_ARENA_GRAIN);

    st = stats_of(ctx);
    ck_assert_uint_eq(st.arena_bytes_used, 11 * sizeof(struct node) + 5 * RTM_ARENA_GRAIN);
    ck_assert_uint_eq(st.bytes_in_use, st.arena_bytes_used + st.heap_bytes_in_use);
    ck_assert_int_eq(n->kind, 1);
    ck_assert_int_eq(kids[9].line, 9);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);
    rtm_arena_destroy(a);
    st = stats_of(ctx);
    ck_assert_uint_eq(st.arenas_live, 0);
    ck_assert_uint_eq(st.arena_chunks, 0);
    ck_assert_uint_eq(st.arena_bytes_used, 0);
    ck_assert_uint_eq(st.arena_cache_chunks, 1);
    ctx_end(ctx);
}
END_TEST

START_TEST(arena_every_alignment)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    static const size_t sizes[] = {1, 7, 40, 4095, 5000, 20000};
    enum { N = 13 * 6 * 3 };
    struct { void *p; size_t n; } blocks[N];
    uint32_t k = 0;
    for (size_t align = 1; align <= 4096; align *= 2) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            void *p = rtm_arena_alloc(a, sizes[i], align);
            void *q = (rtm_arena_alloc)(a, sizes[i], align);
            unsigned char *z = rtm_arena_alloc_zero(a, sizes[i], align);
            ck_assert_ptr_nonnull(p);
            ck_assert_ptr_nonnull(q);
            ck_assert_ptr_nonnull(z);
            size_t least = align < RTM_ARENA_GRAIN ? RTM_ARENA_GRAIN : align;
            ck_assert(aligned(p, least) && aligned(q, least) && aligned(z, least));
            for (size_t j = 0; j < sizes[i]; j++) ck_assert_uint_eq(z[j], 0);
            void *ps[3] = {p, q, z};
            for (int t = 0; t < 3; t++) {
                fill(ps[t], sizes[i], k);
                blocks[k].p = ps[t];
                blocks[k].n = sizes[i];
                k++;
            }
        }
    }
    ck_assert_uint_eq(k, N);
    /* No block overlaps another: every pattern survived all later writes. */
    for (uint32_t i = 0; i < k; i++) ck_assert(intact(blocks[i].p, blocks[i].n, i));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

START_TEST(arena_strdup)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    char *s = rtm_arena_strdup(a, "while", 5);
    ck_assert_str_eq(s, "while");
    char *part = rtm_arena_strdup(a, "function end", 8);
    ck_assert_str_eq(part, "function");
    char *e = rtm_arena_strdup(a, NULL, 0);
    ck_assert_str_eq(e, "");
    char *z = rtm_arena_strdup(a, "a\0b", 3);
    ck_assert_int_eq(memcmp(z, "a\0b\0", 4), 0);
    ck_assert_uint_eq(stats_of(ctx).arena_bytes_used, 8 + 16 + 8 + 8); /* whole grains */
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

/* Chunks double from 16 KiB to 1 MiB, then stay there. */
START_TEST(arena_geometric_growth)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    size_t total = 0;
    while (total < ((size_t)6 << 20)) {
        ck_assert_ptr_nonnull(rtm_arena_alloc(a, 1000, 8));
        total += 1000;
    }
    chunk_walk w = visit_chunks(ctx);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(w.n, st.arena_chunks);
    ck_assert_uint_eq(w.bytes, st.arena_chunk_bytes);
    /* Visited newest first: reversed, the sizes must grow as promised. */
    size_t expect = RTM_ARENA_CHUNK_MIN;
    for (size_t i = 0; i < w.n; i++) {
        ck_assert_uint_eq(w.sizes[w.n - 1 - i], expect);
        if (expect < RTM_ARENA_CHUNK_MAX) expect *= 2;
    }
    ck_assert_uint_ge(w.n, 9); /* 16K..1M is 7 chunks (2032 KiB); 6 MiB needs more */
    ck_assert_uint_eq(st.arena_bytes_used, total);
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

/* A request larger than a chunk gets a chunk of its own, which goes back to
 * the page source once rewound. */
START_TEST(arena_huge_request)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    char *small = rtm_arena_alloc(a, 100, 8);
    fill(small, 100, 1);
    rtm_stats before = stats_of(ctx);
    rtm_arena_mark m = rtm_arena_save(a);
    size_t big = (size_t)3 << 20;
    char *p = rtm_arena_alloc(a, big, 4096);
    ck_assert_ptr_nonnull(p);
    ck_assert(aligned(p, 4096));
    memset(p, 0x5A, big);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.arena_chunks, before.arena_chunks + 1);
    ck_assert_uint_ge(st.arena_chunk_bytes, before.arena_chunk_bytes + big);
    /* The request, and at most a page of alignment at the start of its chunk. */
    ck_assert_uint_ge(st.arena_bytes_used, before.arena_bytes_used + big);
    ck_assert_uint_le(st.arena_bytes_used, before.arena_bytes_used + big + 4096);
    /* Small requests go on after it. */
    char *after = rtm_arena_alloc(a, 64, 8);
    ck_assert_ptr_nonnull(after);
    memset(after, 1, 64);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    ck_assert_int_eq(rtm_arena_rewind(a, m), RTM_OK);
    st = stats_of(ctx);
    ck_assert_uint_eq(st.arena_bytes_used, before.arena_bytes_used);
    ck_assert_uint_le(st.page_bytes, before.page_bytes + RTM_ARENA_CHUNK_MAX); /* the big chunk left */
    ck_assert(intact(small, 100, 1));
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

/* ---- marks ------------------------------------------------------------------- */

START_TEST(arena_marks_nested)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    char *keep = rtm_arena_alloc(a, 48, 8);
    fill(keep, 48, 7);
    uint64_t u0 = stats_of(ctx).arena_bytes_used;
    rtm_arena_mark m0 = rtm_arena_save(a);
    char *x = rtm_arena_alloc(a, 1000, 8);
    fill(x, 1000, 8);
    uint64_t u1 = stats_of(ctx).arena_bytes_used;
    rtm_arena_mark m1 = rtm_arena_save(a);
    for (int i = 0; i < 10; i++) ck_assert_ptr_nonnull(rtm_arena_alloc(a, 3000, 16));
    rtm_arena_mark m2 = rtm_arena_save(a);
    ck_assert_ptr_nonnull(rtm_arena_alloc(a, 500, 8));
    /* Innermost first, like scopes closing. */
    ck_assert_int_eq(rtm_arena_rewind(a, m2), RTM_OK);
    ck_assert_int_eq(rtm_arena_rewind(a, m2), RTM_OK); /* again: allowed, nothing to free */
    ck_assert_int_eq(rtm_arena_rewind(a, m1), RTM_OK);
    ck_assert_uint_eq(stats_of(ctx).arena_bytes_used, u1);
    ck_assert(intact(x, 1000, 8));
    /* The space after the mark is handed out again. */
    char *y = rtm_arena_alloc(a, 8, 8);
    ck_assert_ptr_eq(y, x + 1000);
    ck_assert_int_eq(rtm_arena_rewind(a, m1), RTM_OK); /* a mark serves a loop */
    ck_assert_int_eq(rtm_arena_rewind(a, m0), RTM_OK);
    ck_assert_uint_eq(stats_of(ctx).arena_bytes_used, u0);
    ck_assert_ptr_eq(rtm_arena_alloc(a, 8, 8), x);
    ck_assert(intact(keep, 48, 7));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

/* A mark across many chunks: the chunks become spare and the next round
 * reuses them without asking the page source. */
START_TEST(arena_marks_cross_chunks)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    char *keep = rtm_arena_alloc(a, 100, 8);
    fill(keep, 100, 3);
    rtm_arena_mark m = rtm_arena_save(a);
    uint64_t used = stats_of(ctx).arena_bytes_used;
    long reserves = 0;
    uint64_t chunks = 0;
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 400; i++) {
            char *p = rtm_arena_alloc(a, 1 + (size_t)(i * 37 % 2000), 8);
            ck_assert_ptr_nonnull(p);
            p[0] = 1;
        }
        rtm_stats st = stats_of(ctx);
        ck_assert_uint_ge(st.arena_chunks, 4);
        if (round == 0) {
            reserves = atomic_load(&tp.reserves);
            chunks = st.arena_chunks;
        }
        ck_assert_int_eq(rtm_arena_rewind(a, m), RTM_OK);
        st = stats_of(ctx);
        ck_assert_uint_eq(st.arena_bytes_used, used);
        ck_assert_uint_eq(st.arena_chunks, chunks); /* kept as spare */
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    }
    ck_assert_int_eq(atomic_load(&tp.reserves), reserves);
    ck_assert(intact(keep, 100, 3));
    /* Trim gives the spare chunks back. */
    rtm_ctx_trim(ctx);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.arena_chunks, 1);
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

/* A bad mark is refused and nothing changes. */
static void assert_refused(rtm_ctx *ctx, rtm_arena *a, rtm_arena_mark m, rtm_status want)
{
    rtm_stats before = stats_of(ctx);
    rtm_arena_mark here = rtm_arena_save(a);
    rtm_ctx_clear_error(ctx);
    ck_assert_int_eq(rtm_arena_rewind(a, m), want);
    ck_assert_int_eq(rtm_ctx_error(ctx), want);
    rtm_stats after = stats_of(ctx);
    ck_assert_uint_eq(after.arena_bytes_used, before.arena_bytes_used);
    ck_assert_uint_eq(after.arena_chunks, before.arena_chunks);
    ck_assert_uint_eq(after.errors, before.errors + 1);
    ck_assert_uint_eq(rtm_arena_save(a).pos, here.pos);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
}

START_TEST(arena_marks_bad)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    rtm_arena *b = rtm_arena_new(ctx);
    ck_assert_ptr_nonnull(rtm_arena_alloc(a, 100, 8));

    /* The null mark, a forged one, a foreign one. */
    rtm_arena_mark null = {0, 0, 0};
    assert_refused(ctx, a, null, RTM_EINVAL);
    assert_refused(ctx, a, rtm_arena_save(NULL), RTM_EINVAL);
    rtm_arena_mark forged = rtm_arena_save(a);
    forged.serial += 1000;
    assert_refused(ctx, a, forged, RTM_EINVAL);
    assert_refused(ctx, a, rtm_arena_save(b), RTM_EFOREIGN);

    /* Rewound past: m2 is freed by rewinding to m1 ... */
    rtm_arena_mark m1 = rtm_arena_save(a);
    ck_assert_ptr_nonnull(rtm_arena_alloc(a, 64, 8));
    rtm_arena_mark m2 = rtm_arena_save(a);
    ck_assert_ptr_nonnull(rtm_arena_alloc(a, 64, 8));
    ck_assert_int_eq(rtm_arena_rewind(a, m1), RTM_OK);
    assert_refused(ctx, a, m2, RTM_ESTALE);
    /* ... and stays stale when the arena grows back past it, across chunks. */
    for (int i = 0; i < 100; i++) ck_assert_ptr_nonnull(rtm_arena_alloc(a, 1000, 8));
    assert_refused(ctx, a, m2, RTM_ESTALE);
    ck_assert_int_eq(rtm_arena_rewind(a, m1), RTM_OK); /* m1 itself is fine */

    /* A mark saved in a chunk that a rewind dropped. */
    for (int i = 0; i < 30; i++) ck_assert_ptr_nonnull(rtm_arena_alloc(a, 1000, 8));
    rtm_arena_mark deep = rtm_arena_save(a);
    ck_assert_ptr_nonnull(rtm_arena_alloc(a, 8, 8));
    ck_assert_int_eq(rtm_arena_rewind(a, m1), RTM_OK);
    assert_refused(ctx, a, deep, RTM_ESTALE);

    /* Reset makes every mark stale, even one at the very start. */
    rtm_arena_mark m3 = rtm_arena_save(a);
    rtm_arena_reset(a);
    assert_refused(ctx, a, m3, RTM_ESTALE);
    assert_refused(ctx, a, m1, RTM_ESTALE);

    /* A NULL arena: refused, nothing to record on. */
    ck_assert_int_eq(rtm_arena_rewind(NULL, m1), RTM_EINVAL);
    /* The arena still works. */
    rtm_arena_mark ok = rtm_arena_save(a);
    ck_assert_ptr_nonnull(rtm_arena_alloc(a, 10, 1));
    ck_assert_int_eq(rtm_arena_rewind(a, ok), RTM_OK);
    rtm_arena_destroy(b);
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

/* ---- reset and the cache ----------------------------------------------------- */

/* A fixed workload: mixed sizes and alignments, scoped temporaries, blocks
 * filled. Returns the bytes it asked for. */
static size_t workload(rtm_arena *a, uint64_t seed, int steps)
{
    size_t asked = 0;
    for (int i = 0; i < steps; i++) {
        uint64_t r = rtm_test_rand(&seed);
        size_t size = 1 + (size_t)(r % 3000);
        size_t align = (size_t)1 << ((r >> 20) % 13);
        if ((r >> 40) % 16 == 0) {
            rtm_arena_mark m = rtm_arena_save(a);
            for (int j = 0; j < 20; j++) ck_assert_ptr_nonnull(rtm_arena_alloc(a, 2048, 64));
            ck_assert_int_eq(rtm_arena_rewind(a, m), RTM_OK);
        }
        char *p = rtm_arena_alloc(a, size, align);
        ck_assert_ptr_nonnull(p);
        ck_assert(aligned(p, align));
        memset(p, (int)i, size);
        asked += size;
    }
    return asked;
}

START_TEST(arena_reset_keeps_chunks)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    workload(a, 42, 2000);
    rtm_stats first = stats_of(ctx);
    long reserves = atomic_load(&tp.reserves);
    ck_assert_uint_ge(first.arena_chunks, 5);
    for (int round = 0; round < 5; round++) {
        rtm_arena_mark stale = rtm_arena_save(a);
        rtm_arena_reset(a);
        rtm_stats st = stats_of(ctx);
        ck_assert_uint_eq(st.arena_bytes_used, 0);
        ck_assert_uint_eq(st.arena_chunks, first.arena_chunks);
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
        ck_assert_int_eq(rtm_arena_rewind(a, stale), RTM_ESTALE);
        workload(a, 42, 2000);
        st = stats_of(ctx);
        ck_assert_uint_eq(st.arena_bytes_used, first.arena_bytes_used);
        ck_assert_uint_eq(st.arena_chunks, first.arena_chunks);
        ck_assert_uint_eq(st.page_bytes, first.page_bytes);
    }
    /* Not one call to the page source after the first round. */
    ck_assert_int_eq(atomic_load(&tp.reserves), reserves);
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

START_TEST(arena_cache_reuse)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    size_t asked = workload(a, 7, 1500);
    rtm_stats st = stats_of(ctx);
    uint64_t chunks = st.arena_chunks, bytes = st.arena_chunk_bytes;
    ck_assert_uint_ge(st.arena_bytes_used, asked);
    ck_assert_uint_eq(st.arena_cache_hits, 0);
    ck_assert_uint_eq(st.arena_cache_misses, chunks);
    rtm_arena_destroy(a);
    st = stats_of(ctx);
    ck_assert_uint_eq(st.arena_cache_chunks, chunks);
    ck_assert_uint_eq(st.arena_cache_bytes, bytes);
    ck_assert_uint_eq(st.arenas_live, 0);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);

    /* The next arena, and the same work, take every chunk from the cache. */
    long reserves = atomic_load(&tp.reserves);
    for (int round = 0; round < 3; round++) {
        rtm_arena *b = rtm_arena_new(ctx);
        ck_assert_ptr_nonnull(b);
        workload(b, 7, 1500);
        rtm_arena_destroy(b);
    }
    ck_assert_int_eq(atomic_load(&tp.reserves), reserves);
    st = stats_of(ctx);
    ck_assert_uint_eq(st.arena_cache_hits, 3 * chunks);
    ck_assert_uint_eq(st.arena_cache_misses, chunks);
    ck_assert_uint_eq(st.arena_cache_chunks, chunks);

    /* Visiting reports the cached chunks; trim empties the cache. */
    chunk_walk w = visit_chunks(ctx);
    ck_assert_uint_eq(w.n, chunks);
    ck_assert_uint_eq(w.bytes, bytes);
    w.n = 0;
    w.stop_after = 2;
    ck_assert_int_eq(rtm_ctx_visit(ctx, walk_chunks, &w), RTM_OK);
    ck_assert_uint_eq(w.n, 2);
    uint64_t page_bytes = st.page_bytes;
    rtm_ctx_trim(ctx);
    st = stats_of(ctx);
    ck_assert_uint_eq(st.arena_cache_chunks, 0);
    ck_assert_uint_eq(st.arena_cache_bytes, 0);
    ck_assert_uint_eq(st.page_bytes, page_bytes - bytes);
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    ctx_end(ctx);
}
END_TEST

START_TEST(arena_cache_bounded)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *as[4];
    for (int i = 0; i < 4; i++) {
        as[i] = rtm_arena_new(ctx);
        for (int j = 0; j < 5000; j++) ck_assert_ptr_nonnull(rtm_arena_alloc(as[i], 1000, 8));
    }
    uint64_t held = stats_of(ctx).arena_chunk_bytes;
    ck_assert_uint_gt(held, RTM_ARENA_CACHE_MAX);
    for (int i = 0; i < 4; i++) rtm_arena_destroy(as[i]);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_le(st.arena_cache_bytes, RTM_ARENA_CACHE_MAX);
    ck_assert_uint_gt(st.arena_cache_bytes, RTM_ARENA_CACHE_MAX - RTM_ARENA_CHUNK_MAX);
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    ctx_end(ctx);
}
END_TEST

/* In a debug context, rewound bytes are overwritten before they are reused. */
START_TEST(arena_debug_fill)
{
    rtm_ctx *ctx = ctx_over_tp(0, RTM_CTX_DEBUG);
    rtm_arena *a = rtm_arena_new(ctx);
    rtm_arena_mark m = rtm_arena_save(a);
    unsigned char *p = rtm_arena_alloc(a, 64, 8);
    memset(p, 0x11, 64);
    ck_assert_int_eq(rtm_arena_rewind(a, m), RTM_OK);
    unsigned char *q = rtm_arena_alloc(a, 64, 8);
    ck_assert_ptr_eq(q, p);
    VALGRIND_MAKE_MEM_DEFINED(q, 64);
    for (int i = 0; i < 64; i++) ck_assert_uint_eq(q[i], 0xDB);
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

/* ---- leases ---------------------------------------------------------------------- */

START_TEST(arena_lease_basic)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    struct node *before = RTM_ARENA_NEW(a, struct node);
    rtm_arena_mark m = rtm_arena_save(a);
    uint64_t used0 = stats_of(ctx).arena_bytes_used;
    rtm_arena_lease l = rtm_arena_lease_begin(a);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK); /* consistent while leased */
    struct node *prev = NULL, *first = NULL;
    enum { N = 5000 }; /* several chunks */
    for (int i = 0; i < N; i++) {
        struct node *n = RTM_LEASE_NEW(&l, struct node);
        ck_assert_ptr_nonnull(n);
        ck_assert(aligned(n, RTM_ALIGNOF(struct node)));
        if (i == 0) {
            first = n;
            ck_assert_ptr_eq(n, before + 1); /* the lease goes on from the cursor */
        }
        n->line = i;
        n->left = prev;
        prev = n;
    }
    char *odd = rtm_arena_lease_alloc(&l, 3, 1);
    ck_assert(aligned(odd, RTM_ARENA_GRAIN));
    char *page = rtm_arena_lease_alloc(&l, 100, 4096);
    ck_assert(aligned(page, 4096));
    rtm_arena_lease_end(&l);
    ck_assert_ptr_null(l.arena);
    ck_assert_ptr_null(rtm_arena_lease_alloc(&l, 8, 8)); /* an ended lease is dead */
    rtm_arena_lease_end(&l);                              /* and ending it again is a no-op */
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_ge(st.arena_bytes_used, used0 + N * sizeof(struct node) + 8 + 100);
    ck_assert_uint_ge(st.arena_chunks, 4);
    /* The arena goes on after the lease's last block. */
    char *after = rtm_arena_alloc(a, 8, 8);
    ck_assert_ptr_eq(after, page + 104);
    for (int i = N - 1; i >= 0; i--, prev = prev->left) ck_assert_int_eq(prev->line, i);
    ck_assert_ptr_null(prev);
    ck_assert_int_eq(first->line, 0);
    /* A mark from before the lease frees what the lease made. */
    ck_assert_int_eq(rtm_arena_rewind(a, m), RTM_OK);
    ck_assert_uint_eq(stats_of(ctx).arena_bytes_used, used0);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

/* While a lease is open, nothing else may use the arena. */
START_TEST(arena_lease_excludes)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    rtm_arena_mark m = rtm_arena_save(a);
    rtm_arena_lease l = rtm_arena_lease_begin(a);
    char *p = rtm_arena_lease_alloc(&l, 16, 8);
    ck_assert_ptr_nonnull(p);
    uint64_t errors = stats_of(ctx).errors;
    ck_assert_ptr_null(rtm_arena_alloc(a, 8, 8));
    ck_assert_ptr_null((rtm_arena_alloc)(a, 8, 8));
    ck_assert_ptr_null(rtm_arena_alloc_n(a, 2, 8, 8));
    ck_assert_ptr_null(rtm_arena_alloc_zero(a, 8, 8));
    ck_assert_ptr_null(rtm_arena_strdup(a, "x", 1));
    ck_assert_uint_eq(rtm_arena_save(a).arena, 0);
    ck_assert_int_eq(rtm_arena_rewind(a, m), RTM_EINVAL);
    rtm_arena_reset(a);
    rtm_arena_lease twice = rtm_arena_lease_begin(a);
    ck_assert_ptr_null(twice.arena);
    ck_assert_ptr_null(rtm_arena_lease_alloc(&twice, 8, 8));
    rtm_arena_lease_end(&twice);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    ck_assert_uint_eq(stats_of(ctx).errors, errors + 9);
    /* The lease itself goes on, right after its last block. */
    ck_assert_ptr_eq(rtm_arena_lease_alloc(&l, 8, 8), p + 16);
    /* Bad input through the lease. */
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_lease_alloc(&l, 0, 8));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_lease_alloc(&l, 8, 3));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_lease_alloc(&l, SIZE_MAX, 8));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    /* Out of memory through the lease: reported, and it recovers. */
    atomic_store(&tp.fail_all, true);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_lease_alloc(&l, 100000, 8));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ENOMEM);
    atomic_store(&tp.fail_all, false);
    ck_assert_ptr_nonnull(rtm_arena_lease_alloc(&l, 100000, 8));
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_arena_lease_end(&l);
    /* Everything works again; the reset refused above did nothing. */
    ck_assert_uint_eq(stats_of(ctx).arena_bytes_used, 16 + 8 + 100000);
    ck_assert_int_eq(rtm_arena_rewind(a, m), RTM_OK);
    ck_assert_ptr_eq(rtm_arena_alloc(a, 8, 8), p);
    /* NULL. */
    rtm_arena_lease none = rtm_arena_lease_begin(NULL);
    ck_assert_ptr_null(rtm_arena_lease_alloc(&none, 8, 8));
    rtm_arena_lease_end(&none);
    rtm_arena_lease_end(NULL);
    struct rtm_arena_cursor nowhere = {NULL, NULL};
    ck_assert_ptr_null(rtm_arena_lease_alloc_slow(NULL, nowhere, 0, 8, 8).p);
    /* A copy of a lease used after the lease ended, even while a newer lease
     * is open: refused when it reaches the arena, and dead after. */
    rtm_arena_lease orig = rtm_arena_lease_begin(a);
    rtm_arena_lease copy = orig;
    rtm_arena_lease_end(&orig);
    rtm_arena_lease newer = rtm_arena_lease_begin(a);
    ck_assert_ptr_nonnull(newer.arena);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_lease_alloc(&copy, 100000, 8));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    ck_assert_ptr_null(copy.cur.ptr);
    rtm_ctx_clear_error(ctx);
    rtm_arena_lease_end(&copy); /* ends nothing: the newer lease stays open */
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    ck_assert_ptr_null(rtm_arena_alloc(a, 8, 8));
    ck_assert_ptr_nonnull(rtm_arena_lease_alloc(&newer, 8, 8));
    rtm_arena_lease_end(&newer);
    /* An arena destroyed (here by its context) with a lease open. */
    rtm_arena_lease open = rtm_arena_lease_begin(a);
    ck_assert_ptr_nonnull(rtm_arena_lease_alloc(&open, 64, 8));
    ctx_end(ctx);
}
END_TEST

/* ---- bad input ------------------------------------------------------------------ */

static void assert_alloc_refused(rtm_ctx *ctx, rtm_arena *a, size_t size, size_t align,
                                 rtm_status want)
{
    rtm_stats before = stats_of(ctx);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_alloc(a, size, align));
    ck_assert_int_eq(rtm_ctx_error(ctx), want);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null((rtm_arena_alloc)(a, size, align));
    ck_assert_int_eq(rtm_ctx_error(ctx), want);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_alloc_zero(a, size, align));
    ck_assert_int_eq(rtm_ctx_error(ctx), want);
    rtm_stats after = stats_of(ctx);
    ck_assert_uint_eq(after.arena_bytes_used, before.arena_bytes_used);
    ck_assert_uint_eq(after.arena_chunks, before.arena_chunks);
    ck_assert_uint_eq(after.errors, before.errors + 3);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
}

START_TEST(arena_bad_input)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    char *first = rtm_arena_alloc(a, 8, 8);

    assert_alloc_refused(ctx, a, 0, 8, RTM_EINVAL);
    assert_alloc_refused(ctx, a, 16, 0, RTM_EINVAL);
    assert_alloc_refused(ctx, a, 16, 3, RTM_EINVAL);
    assert_alloc_refused(ctx, a, 16, 24, RTM_EINVAL);
    assert_alloc_refused(ctx, a, 16, 8192, RTM_EINVAL);
    assert_alloc_refused(ctx, a, 16, SIZE_MAX, RTM_EINVAL);
    assert_alloc_refused(ctx, a, RTM_MAX_ALLOC + 1, 8, RTM_EINVAL);
    assert_alloc_refused(ctx, a, SIZE_MAX, 8, RTM_EINVAL);
    assert_alloc_refused(ctx, a, SIZE_MAX - 4000, 4096, RTM_EINVAL);

    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_alloc_n(a, SIZE_MAX / 2, 3, 8));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_alloc_n(a, 0, 8, 8));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(RTM_ARENA_NEW_N(a, struct node, SIZE_MAX / 8));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_strdup(a, NULL, 4));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_strdup(a, "x", SIZE_MAX));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);

    /* NULL arena: NULL, no-ops, nothing to record on. */
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_new(NULL));
    ck_assert_ptr_null(rtm_arena_alloc(NULL, 8, 8));
    ck_assert_ptr_null((rtm_arena_alloc)(NULL, 8, 8));
    ck_assert_ptr_null(rtm_arena_alloc_slow(NULL, 8, 8));
    ck_assert_ptr_null(rtm_arena_alloc_n(NULL, 1, 8, 8));
    ck_assert_ptr_null(rtm_arena_alloc_zero(NULL, 8, 8));
    ck_assert_ptr_null(rtm_arena_strdup(NULL, "x", 1));
    rtm_arena_mark m = rtm_arena_save(NULL);
    ck_assert_uint_eq(m.arena, 0);
    rtm_arena_reset(NULL);
    rtm_arena_destroy(NULL);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);

    /* Still usable, and the cursor never moved. */
    ck_assert_ptr_eq(rtm_arena_alloc(a, 8, 8), first + 8);
    ck_assert_uint_eq(stats_of(ctx).arena_bytes_used, 16);
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

START_TEST(arena_out_of_memory)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    char *p = rtm_arena_alloc(a, 100, 8);
    fill(p, 100, 9);
    atomic_store(&tp.fail_all, true);
    /* Fits in the chunk: no page source call, works. */
    ck_assert_ptr_nonnull(rtm_arena_alloc(a, 100, 8));
    assert_alloc_refused(ctx, a, 64 << 10, 8, RTM_ENOMEM);
    assert_alloc_refused(ctx, a, (size_t)32 << 20, 8, RTM_ENOMEM);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_new(ctx));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ENOMEM);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    atomic_store(&tp.fail_all, false);
    /* The source recovers: so does the arena. */
    ck_assert_ptr_nonnull(rtm_arena_alloc(a, 64 << 10, 8));
    ck_assert(intact(p, 100, 9));
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

/* The limit: pushing against it never holds more, fails with ELIMIT, and a
 * reset arena refills without new pages. */
START_TEST(arena_limit)
{
    size_t limit = (size_t)512 << 10;
    rtm_ctx *ctx = ctx_over_tp(limit, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    int n = 0;
    for (;;) {
        void *p = rtm_arena_alloc(a, 1000, 8);
        rtm_stats st = stats_of(ctx);
        ck_assert_uint_le(st.page_bytes, limit);
        if (p == NULL) break;
        n++;
    }
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    ck_assert_int_gt(n, 100);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_ge(st.limit_hits, 1);
    ck_assert_uint_eq(st.arena_bytes_used, (uint64_t)n * 1000);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    ck_assert_ptr_null(rtm_arena_new(ctx)); /* no room for another */
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    long reserves = atomic_load(&tp.reserves);
    rtm_arena_reset(a);
    for (int i = 0; i < n; i++) ck_assert_ptr_nonnull(rtm_arena_alloc(a, 1000, 8));
    ck_assert_int_eq(atomic_load(&tp.reserves), reserves);
    ck_assert_uint_le(stats_of(ctx).page_bytes, limit);
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

/* ---- the context ends what was forgotten ------------------------------------------ */

START_TEST(arena_ctx_destroy_ends_forgotten)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    for (int i = 0; i < 3; i++) {
        rtm_arena *a = rtm_arena_new(ctx);
        workload(a, (uint64_t)i + 1, 800);
        ck_assert_ptr_nonnull(rtm_arena_alloc(a, (size_t)2 << 20, 64)); /* an oversized chunk */
        rtm_buf *b = rtm_buf_new(ctx, 64);
        ck_assert_int_eq(rtm_buf_resize(b, (size_t)(i + 1) * 100000), RTM_OK);
    }
    rtm_arena *spare = rtm_arena_new(ctx);
    rtm_arena_mark m = rtm_arena_save(spare);
    workload(spare, 9, 500);
    ck_assert_int_eq(rtm_arena_rewind(spare, m), RTM_OK);
    rtm_arena_destroy(rtm_arena_new(ctx)); /* something in the cache too */
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.arenas_live, 4);
    ck_assert_uint_eq(st.bufs_live, 3);
    ck_assert_int_gt(atomic_load(&tp.held_ranges), 10);
    ctx_end(ctx); /* checks the page source got every byte back */
}
END_TEST

/* ---- fault injection: every k, over arenas and buffers ------------------------------ */

typedef struct run {
    rtm_ctx *ctx;
    int failures;        /* calls that reported a failure */
    uint64_t model_used; /* what arena_bytes_used must be, all arenas */
} run;

/* Records the outcome of one call: a failure must be ENOMEM and change
 * nothing the test can see. */
static bool outcome(run *r, bool ok)
{
    if (ok) return true;
    r->failures++;
    ck_assert_int_eq(rtm_ctx_error(r->ctx), RTM_ENOMEM);
    rtm_ctx_clear_error(r->ctx);
    ck_assert_uint_eq(stats_of(r->ctx).arena_bytes_used, r->model_used);
    ck_assert_int_eq(rtm_ctx_check(r->ctx), RTM_OK);
    return false;
}

/* Sizes are multiples of 8 at alignment 8, so the bytes an arena uses are
 * exactly the sum of its sizes. *used counts this arena's. */
static void try_alloc(run *r, rtm_arena *a, size_t size, uint64_t *used)
{
    if (a == NULL) return;
    void *p = rtm_arena_alloc(a, size, 8);
    if (outcome(r, p != NULL)) {
        r->model_used += size;
        *used += size;
        memset(p, 0xAB, size);
    }
}

static void try_append(run *r, rtm_buf *b, const void *data, size_t n)
{
    if (b == NULL) return;
    size_t len = rtm_buf_len(b);
    if (outcome(r, rtm_buf_append(b, data, n) == RTM_OK)) len += n;
    ck_assert_uint_eq(rtm_buf_len(b), len);
}

static void mixed_workload(run *r)
{
    rtm_ctx *ctx = r->ctx;
    uint64_t used = 0;
    rtm_arena *a = rtm_arena_new(ctx);
    outcome(r, a != NULL);
    for (int i = 0; i < 300; i++) try_alloc(r, a, 8 * (size_t)(1 + i % 64), &used);

    rtm_buf *b = rtm_buf_new(ctx, 64);
    outcome(r, b != NULL);
    static const char kb[1024] = {1, 2, 3};
    for (int i = 0; i < 100; i++) try_append(r, b, kb, sizeof kb);

    if (a != NULL) {
        rtm_arena_mark m = rtm_arena_save(a);
        uint64_t at_mark = used;
        try_alloc(r, a, 40 << 10, &used);
        try_alloc(r, a, (size_t)2 << 20, &used); /* oversized */
        try_alloc(r, a, 64, &used);
        ck_assert_int_eq(rtm_arena_rewind(a, m), RTM_OK);
        r->model_used -= used - at_mark;
        used = at_mark;
        char *s = rtm_arena_strdup(a, "identifier", 10);
        if (outcome(r, s != NULL)) {
            ck_assert_str_eq(s, "identifier");
            r->model_used += 11;
            used += 11;
        }
        /* Into the cache, and out again below. */
        rtm_arena_destroy(a);
        r->model_used -= used;
    }
    used = 0;
    rtm_arena *a2 = rtm_arena_new(ctx);
    outcome(r, a2 != NULL);
    for (int i = 0; i < 200; i++) try_alloc(r, a2, 8 * (size_t)(1 + i % 100), &used);
    if (b != NULL) {
        size_t len = rtm_buf_len(b);
        if (outcome(r, rtm_buf_resize(b, 300000) == RTM_OK)) len = 300000;
        ck_assert_uint_eq(rtm_buf_len(b), len);
    }
    /* a2 and b are left for rtm_ctx_destroy. */
}

static void check_exact(run *r, uint64_t base)
{
    rtm_stats st = stats_of(r->ctx);
    ck_assert_uint_eq(st.arena_bytes_used, r->model_used);
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    chunk_walk w = visit_chunks(r->ctx);
    ck_assert_uint_eq(w.bytes, st.arena_chunk_bytes + st.arena_cache_bytes);
    /* Everything held is the context's own pages, what the parts report, and
     * at most the page of the arena cache itself. */
    uint64_t parts = base + st.arena_chunk_bytes + st.arena_cache_bytes + st.buf_bytes;
    ck_assert_uint_ge(st.page_bytes, parts);
    ck_assert_uint_le(st.page_bytes, parts + 4096);
    ck_assert_int_eq(rtm_ctx_check(r->ctx), RTM_OK);
}

static void fault_run(long k, bool from, long *reserves_seen)
{
    rtm_test_pages_init(&tp, k, from);
    rtm_config cfg = {0, NULL, &tp.source, 0};
    run r;
    memset(&r, 0, sizeof r);
    r.ctx = rtm_ctx_new(&cfg);
    if (r.ctx == NULL) { /* the context's own pages were refused */
        ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
        return;
    }
    uint64_t base = stats_of(r.ctx).page_bytes;
    mixed_workload(&r);
    long refused = atomic_load(&tp.refused);
    /* Every refusal was reported by exactly one call (no retries: no collect
     * hook is set). */
    ck_assert_int_eq(r.failures, refused);
    if (!from) ck_assert_int_le(refused, 1);
    check_exact(&r, base);
    if (reserves_seen) *reserves_seen = atomic_load(&tp.reserves);

    /* The source recovers; the same context keeps working. */
    tp.fail_at = 0;
    tp.fail_from = false;
    int before = r.failures;
    mixed_workload(&r);
    ck_assert_int_eq(r.failures, before);
    check_exact(&r, base);
    ctx_end(r.ctx);
}

START_TEST(arena_fault_injection_every_k)
{
    long total = 0;
    fault_run(0, false, &total); /* no fault: how many requests there are */
    ck_assert_int_ge(total, 8);   /* context, cache, chunks, oversized, buffer */
    for (long k = 1; k <= total + 1; k++) {
        fault_run(k, false, NULL);
        fault_run(k, true, NULL);
    }
}
END_TEST

/* ---- a randomized run against a model ----------------------------------------------- */

typedef struct blk {
    char *p;
    size_t n;
    uint32_t tag;
} blk;

START_TEST(arena_random_model)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    enum { MAXB = 4096, MAXM = 64 };
    static blk blocks[MAXB];
    rtm_arena_mark marks[MAXM];
    size_t mark_nblocks[MAXM];
    size_t nb = 0, nm = 0;
    uint64_t seed = 12345;
    long steps = rtm_test_small() ? 30000 : 300000;
    for (long step = 0; step < steps; step++) {
        uint64_t r = rtm_test_rand(&seed);
        unsigned op = (unsigned)(r % 100);
        if (op < 80 && nb < MAXB) {
            size_t size = (r >> 8) % 16 == 0 ? 1 + (size_t)((r >> 16) % 70000)
                                             : 1 + (size_t)((r >> 16) % 300);
            if ((r >> 40) % 5000 == 0) size = (size_t)1536 << 10; /* oversized */
            size_t align = (size_t)1 << ((r >> 32) % 13);
            char *p = rtm_arena_alloc(a, size, align);
            ck_assert_ptr_nonnull(p);
            ck_assert(aligned(p, align));
            uint32_t tag = (uint32_t)step;
            fill(p, size < 64 ? size : 64, tag); /* the head of each block */
            memset(p + (size < 64 ? size : 64), 0, size - (size < 64 ? size : 64));
            blocks[nb++] = (blk){p, size < 64 ? size : 64, tag};
        } else if (op < 88 && nm < MAXM) {
            marks[nm] = rtm_arena_save(a);
            mark_nblocks[nm++] = nb;
        } else if (op < 97 && nm > 0) {
            size_t i = (size_t)((r >> 8) % nm);
            ck_assert_int_eq(rtm_arena_rewind(a, marks[i]), RTM_OK);
            /* Marks saved after it, past its position, are stale now. */
            for (size_t j = i + 1; j < nm; j++)
                if (marks[j].pos > marks[i].pos)
                    ck_assert_int_eq(rtm_arena_rewind(a, marks[j]), RTM_ESTALE);
            nb = mark_nblocks[i];
            nm = i + 1;
        } else if (op == 99 && (r >> 8) % 20 == 0) {
            rtm_arena_reset(a);
            nb = nm = 0;
        } else if (op >= 97) {
            char *s = rtm_arena_strdup(a, "token", 5);
            ck_assert_str_eq(s, "token");
        }
        if (step % 2000 == 0) {
            for (size_t i = 0; i < nb; i++) ck_assert(intact(blocks[i].p, blocks[i].n, blocks[i].tag));
            ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
        }
    }
    for (size_t i = 0; i < nb; i++) ck_assert(intact(blocks[i].p, blocks[i].n, blocks[i].tag));
    rtm_ctx_clear_error(ctx);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

static Suite *arena_suite(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("arena");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, arena_basic);
    tcase_add_test(tc, arena_every_alignment);
    tcase_add_test(tc, arena_strdup);
    tcase_add_test(tc, arena_geometric_growth);
    tcase_add_test(tc, arena_huge_request);
    tcase_add_test(tc, arena_marks_nested);
    tcase_add_test(tc, arena_marks_cross_chunks);
    tcase_add_test(tc, arena_marks_bad);
    tcase_add_test(tc, arena_reset_keeps_chunks);
    tcase_add_test(tc, arena_cache_reuse);
    tcase_add_test(tc, arena_cache_bounded);
    tcase_add_test(tc, arena_debug_fill);
    tcase_add_test(tc, arena_lease_basic);
    tcase_add_test(tc, arena_lease_excludes);
    tcase_add_test(tc, arena_bad_input);
    tcase_add_test(tc, arena_out_of_memory);
    tcase_add_test(tc, arena_limit);
    tcase_add_test(tc, arena_ctx_destroy_ends_forgotten);
    tcase_add_test(tc, arena_fault_injection_every_k);
    tcase_add_test(tc, arena_random_model);
    suite_add_tcase(s, tc);
    return s;
}

RTM_TEST_MAIN(arena_suite)
