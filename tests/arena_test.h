/* arena_test.h: what the arena suites share: a context over the counting
 * page source, stats, block patterns, a chunk walker, a fixed workload. */
#ifndef RTM_ARENA_TEST_H
#define RTM_ARENA_TEST_H

#include "support.h"

#include <stdio.h>

/* ---- helpers --------------------------------------------------------------- */

static rtm_test_pages tp;

/* A context over the counting page source. */
static inline rtm_ctx *ctx_over_tp(size_t limit, unsigned flags)
{
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {limit, NULL, &tp.source, flags};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

static inline rtm_stats stats_of(rtm_ctx *ctx)
{
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    return st;
}

/* Destroys the context and checks it gave back every page. */
static inline void ctx_end(rtm_ctx *ctx)
{
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
}

static inline bool aligned(const void *p, size_t align) { return ((uintptr_t)p & (align - 1)) == 0; }

/* Fills and checks a block with a pattern of its own. */
static inline void fill(void *p, size_t n, uint32_t tag)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(tag * 31u + i * 7u);
}
static inline bool intact(const void *p, size_t n, uint32_t tag)
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

static inline int walk_chunks(void *ud, rtm_visit_kind kind, void *p, size_t size)
{
    chunk_walk *w = ud;
    if (kind != RTM_VISIT_ARENA_CHUNK) return 0;
    ck_assert(aligned(p, 4096));
    if (w->n < 256) w->sizes[w->n] = size;
    w->n++;
    w->bytes += size;
    return w->stop_after != 0 && (int)w->n >= w->stop_after;
}

static inline chunk_walk visit_chunks(rtm_ctx *ctx)
{
    chunk_walk w;
    memset(&w, 0, sizeof w);
    ck_assert_int_eq(rtm_ctx_visit(ctx, walk_chunks, &w), RTM_OK);
    return w;
}

struct node {
    int kind, line;
    struct node *left, *right;
    double value;
};

static inline size_t workload(rtm_arena *a, uint64_t seed, int steps)
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

static inline void assert_alloc_refused(rtm_ctx *ctx, rtm_arena *a, size_t size, size_t align,
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

#endif /* RTM_ARENA_TEST_H */
