/* test_arena.c: bump arenas: ordinary use, every alignment, growth, marks,
 * reset, the context's arena cache, leases, bad input. The faults, the limit
 * and the randomized run are in test_arena_faults.c. */
#include "arena_test.h"

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

/* ---- ordinary use ---------------------------------------------------------- */

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
    suite_add_tcase(s, tc);
    return s;
}

RTM_TEST_MAIN(arena_suite)
