/* test_heap_life.c: the heap over a context's life: lua_Alloc, the
 * out-of-memory ladder and the collect hook, what goes back to the page
 * source (with and without trim), stats, visit and destroy. */
#include "test_heap_util.h"

/* ---- lua_Alloc ------------------------------------------------------------------ */

START_TEST(heap_lua_alloc_contract)
{
    rtm_ctx *ctx = new_ctx(_i ? RTM_CTX_DEBUG : 0);
    /* ptr NULL: osize is the type tag */
    void *s = rtm_lua_alloc(ctx, NULL, 4 /* LUA_TSTRING */, 30);
    void *t = rtm_lua_alloc(ctx, NULL, 5 /* LUA_TTABLE */, 56);
    void *u = rtm_lua_alloc(ctx, NULL, 7 /* LUA_TUSERDATA */, 20000);
    void *o = rtm_lua_alloc(ctx, NULL, 0, 16);       /* not an object */
    void *x = rtm_lua_alloc(ctx, NULL, 12345, 16);   /* some other value */
    ck_assert(s && t && u && o && x);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.lua_allocs_by_tag[4], 1);
    ck_assert_uint_eq(st.lua_allocs_by_tag[5], 1);
    ck_assert_uint_eq(st.lua_allocs_by_tag[7], 1);
    ck_assert_uint_eq(st.lua_allocs_by_tag[0], 1);
    ck_assert_uint_eq(st.lua_allocs_by_tag[RTM_LUA_TAGS - 1], 1);
    ck_assert_uint_eq(st.heap_bytes_in_use, 30 + 56 + 20000 + 16 + 16);
    /* a failed allocation is not counted */
    ck_assert_ptr_null(rtm_lua_alloc(ctx, NULL, 4, RTM_MAX_ALLOC + 1));
    ck_assert_uint_eq(stats_of(ctx).lua_allocs_by_tag[4], 1);
    /* realloc: osize is the old size */
    fill(t, 56, 8);
    t = rtm_lua_alloc(ctx, t, 56, 200);
    expect_filled(t, 56, 8);
    t = rtm_lua_alloc(ctx, t, 200, 12);
    expect_filled(t, 12, 8);
    /* nsize 0 frees and returns NULL */
    ck_assert_ptr_null(rtm_lua_alloc(ctx, s, 30, 0));
    ck_assert_ptr_null(rtm_lua_alloc(ctx, t, 12, 0));
    ck_assert_ptr_null(rtm_lua_alloc(ctx, u, 20000, 0));
    ck_assert_ptr_null(rtm_lua_alloc(ctx, o, 16, 0));
    ck_assert_ptr_null(rtm_lua_alloc(ctx, x, 16, 0));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL); /* the one failed allocation */
    st = stats_of(ctx);
    ck_assert_uint_eq(st.heap_blocks_in_use, 0);
    ck_assert_uint_eq(st.heap_bytes_in_use, 0);
    ck_assert_uint_eq(st.heap_bad_frees, 0);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* ---- the out-of-memory ladder ---------------------------------------------------- */

typedef struct reserve {
    void *blocks[64];
    size_t size;
    int count, calls;
} reserve;

static void collect_frees_reserve(void *ud, rtm_ctx *ctx, size_t wanted)
{
    reserve *r = ud;
    ck_assert_uint_gt(wanted, 0);
    r->calls++;
    while (r->count > 0) rtm_free(ctx, r->blocks[--r->count], r->size);
}

static int hook_calls;
static void collect_nothing(void *ud, rtm_ctx *ctx, size_t wanted)
{
    (void)ud; (void)ctx; (void)wanted;
    hook_calls++;
}

START_TEST(heap_collect_hook_lets_retry_succeed)
{
    rtm_config cfg = {(size_t)2 << 20, NULL, NULL, _i ? RTM_CTX_DEBUG : 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    reserve r = {{0}, 100000, 0, 0};
    /* fill up to the limit; the hook frees nothing, so the last one fails */
    hook_calls = 0;
    rtm_ctx_set_collect(ctx, collect_nothing, NULL);
    while (r.count < 64) {
        void *p = rtm_alloc(ctx, r.size);
        if (p == NULL) break;
        r.blocks[r.count++] = p;
    }
    ck_assert_int_gt(r.count, 4);
    ck_assert_int_lt(r.count, 64);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    /* now a hook that frees the reserve: the retry succeeds */
    rtm_ctx_set_collect(ctx, collect_frees_reserve, &r);
    rtm_ctx_clear_error(ctx);
    void *big = rtm_alloc(ctx, (size_t)1 << 20);
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_int_eq(r.count, 0);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.collect_calls, 2);
    ck_assert_uint_le(st.page_bytes, cfg.limit_bytes);
    ck_assert_uint_eq(st.heap_blocks_in_use, 1);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_free(ctx, big, (size_t)1 << 20);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(heap_collect_hook_that_frees_nothing)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {0, NULL, &tp.source, 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    hook_calls = 0;
    rtm_ctx_set_collect(ctx, collect_nothing, NULL);
    atomic_store(&tp.fail_all, true);
    ck_assert_ptr_null(rtm_alloc(ctx, 48));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ENOMEM);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert_ptr_null(rtm_alloc(ctx, 48000));
    ck_assert_int_eq(hook_calls, 2);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    atomic_store(&tp.fail_all, false);
    void *p = rtm_alloc(ctx, 48);
    ck_assert_ptr_nonnull(p);
    rtm_free(ctx, p, 48);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
}
END_TEST

/* The heap's own caches go before the collect hook: a cached empty page of
 * one class serves another, and cached spans are dropped to fit the limit. */
START_TEST(heap_caches_before_collect)
{
    rtm_config cfg = {(size_t)1 << 20, NULL, NULL, 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    hook_calls = 0;
    rtm_ctx_set_collect(ctx, collect_nothing, NULL);
    void *big = rtm_alloc(ctx, 900000);
    ck_assert_ptr_nonnull(big);
    rtm_free(ctx, big, 900000); /* its span waits in the cache */
    ck_assert_uint_gt(stats_of(ctx).page_bytes, 900000);
    /* more than 2x smaller, so not served from that span; with it held the
     * limit would be passed: the cache is dropped, no hook is needed */
    void *other = rtm_alloc(ctx, 400000);
    ck_assert_ptr_nonnull(other);
    ck_assert_int_eq(hook_calls, 0);
    ck_assert_uint_lt(stats_of(ctx).page_bytes, 600000);
    rtm_free(ctx, other, 400000);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* ---- trim, retention, stats, visit ---------------------------------------------- */

START_TEST(heap_trim_returns_pages)
{
    rtm_ctx *ctx = new_ctx(_i ? RTM_CTX_DEBUG : 0);
    rtm_stats base = stats_of(ctx);
    enum { N = 4000 };
    static void *blocks[N];
    for (int i = 0; i < N; i++) blocks[i] = rtm_alloc(ctx, (size_t)(16 + (i % 40) * 24));
    void *big = rtm_alloc(ctx, 200000);
    rtm_stats full = stats_of(ctx);
    ck_assert_uint_gt(full.heap_pages, 0);
    for (int i = 0; i < N; i++) rtm_free(ctx, blocks[i], (size_t)(16 + (i % 40) * 24));
    rtm_free(ctx, big, 200000);
    rtm_stats freed = stats_of(ctx);
    /* kept: at most the current page of each class and the small cache */
    ck_assert_uint_le(freed.heap_pages, 40 + 4);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_trim(ctx);
    rtm_stats trimmed = stats_of(ctx);
    ck_assert_uint_eq(trimmed.heap_pages, 0);
    ck_assert_uint_lt(trimmed.page_bytes, freed.page_bytes);
    ck_assert_uint_eq(trimmed.page_bytes, base.page_bytes);
    for (unsigned c = 0; c < RTM_HEAP_CLASSES && trimmed.classes[c].block_size; c++)
        ck_assert_uint_eq(trimmed.classes[c].pages, 0);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    /* and it all works again */
    void *p = rtm_alloc(ctx, 100);
    ck_assert_ptr_nonnull(p);
    rtm_free(ctx, p, 100);
    rtm_ctx_destroy(ctx);
}
END_TEST

typedef struct visit_tally {
    size_t small, large, small_bytes, large_bytes, stop_after;
} visit_tally;

static int count_blocks(void *ud, rtm_visit_kind kind, void *p, size_t size)
{
    visit_tally *t = ud;
    ck_assert_ptr_nonnull(p);
    if (kind == RTM_VISIT_HEAP_BLOCK) {
        t->small++;
        t->small_bytes += size;
    } else if (kind == RTM_VISIT_LARGE_BLOCK) {
        t->large++;
        t->large_bytes += size;
    }
    return t->stop_after != 0 && t->small + t->large >= t->stop_after;
}

START_TEST(heap_stats_and_visit)
{
    rtm_ctx *ctx = new_ctx(_i ? RTM_CTX_DEBUG : 0);
    void *a[100];
    for (int i = 0; i < 100; i++) a[i] = rtm_alloc(ctx, 24);
    for (int i = 0; i < 100; i += 2) rtm_free(ctx, a[i], 24);
    void *b = rtm_alloc(ctx, 1000);
    void *big = rtm_alloc(ctx, 70000);
    rtm_stats st = stats_of(ctx);
    unsigned c24 = 2, c1024 = 16 + 3 * 8 - 1;
    ck_assert_uint_eq(st.classes[c24].block_size, 24);
    ck_assert_uint_eq(st.classes[c24].allocs, 100);
    ck_assert_uint_eq(st.classes[c24].frees, 50);
    ck_assert_uint_eq(st.classes[c24].live_blocks, 50);
    ck_assert_uint_eq(st.classes[c24].pages, 1);
    ck_assert_uint_eq(st.classes[c1024].block_size, 1024);
    ck_assert_uint_eq(st.classes[c1024].live_blocks, 1);
    ck_assert_uint_eq(st.heap_allocs, 102);
    ck_assert_uint_eq(st.heap_frees, 50);
    ck_assert_uint_eq(st.heap_blocks_in_use, 52);
    ck_assert_uint_eq(st.heap_bytes_in_use, 50 * 24 + 1000 + 70000);
    ck_assert_uint_eq(st.heap_bytes_peak, st.heap_bytes_in_use);
    ck_assert_uint_eq(st.heap_large_blocks, 1);
    ck_assert_uint_eq(st.heap_large_bytes, 70000);
    ck_assert_uint_ge(st.bytes_in_use, st.heap_bytes_in_use);
    ck_assert_uint_eq(st.heap_pages, 2);
    visit_tally t = {0, 0, 0, 0, 0};
    ck_assert_int_eq(rtm_ctx_visit(ctx, count_blocks, &t), RTM_OK);
    ck_assert_uint_eq(t.small, 51);
    ck_assert_uint_eq(t.small_bytes, 50 * 24 + 1024);
    ck_assert_uint_eq(t.large, 1);
    ck_assert_uint_eq(t.large_bytes, 70000);
    visit_tally stop = {0, 0, 0, 0, 10};
    ck_assert_int_eq(rtm_ctx_visit(ctx, count_blocks, &stop), RTM_OK);
    ck_assert_uint_eq(stop.small + stop.large, 10);
    /* the JSON carries the classes and the heap figures */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(rtm_stats_write(ctx, f, RTM_STATS_JSON), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "{\"block_size\": 24, \"allocs\": 100, \"frees\": 50, "
                                       "\"live_blocks\": 50, \"pages\": 1}"));
    ck_assert_ptr_nonnull(strstr(text, "\"heap_large_bytes\": 70000"));
    free(text);
    for (int i = 1; i < 100; i += 2) rtm_free(ctx, a[i], 24);
    rtm_free(ctx, b, 1000);
    rtm_free(ctx, big, 70000);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* Blocks the user forgets are released with the context. */
START_TEST(heap_destroy_releases_everything)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {0, NULL, &tp.source, _i ? RTM_CTX_DEBUG : 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    for (int i = 0; i < 5000; i++) ck_assert_ptr_nonnull(rtm_alloc(ctx, (size_t)(1 + i % 3000)));
    for (int i = 0; i < 20; i++) ck_assert_ptr_nonnull(rtm_alloc(ctx, (size_t)(10000 + i * 7000)));
    void *cached = rtm_alloc(ctx, 50000);
    rtm_free(ctx, cached, 50000);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
}
END_TEST

/* The hook frees small blocks: they must reach the source before the retry
 * (while the ladder runs, every free goes through the class cache's slow
 * path and back to its page, and empty pages back to the source). */
typedef struct small_reserve {
    void **blocks;
    int count, calls;
} small_reserve;

static void collect_small(void *ud, rtm_ctx *ctx, size_t wanted)
{
    small_reserve *r = ud;
    (void)wanted;
    r->calls++;
    while (r->count > 0) rtm_free(ctx, r->blocks[--r->count], 1000);
}

START_TEST(heap_collect_hook_frees_small_blocks)
{
    rtm_config cfg = {(size_t)1 << 20, NULL, NULL, _i ? RTM_CTX_DEBUG : 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    static void *blocks[2000];
    small_reserve r = {blocks, 0, 0};
    while (r.count < 2000) {
        void *p = rtm_alloc(ctx, 1000);
        if (p == NULL) break;
        blocks[r.count++] = p;
    }
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    ck_assert_int_gt(r.count, 500);
    rtm_ctx_set_collect(ctx, collect_small, &r);
    rtm_ctx_clear_error(ctx);
    void *big = rtm_alloc(ctx, 600000); /* needs most of what the small blocks hold */
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_int_eq(r.count, 0);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_le(st.page_bytes, cfg.limit_bytes);
    ck_assert_uint_eq(st.heap_blocks_in_use, 1);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    /* after the ladder the caches work as before */
    void *p = rtm_alloc(ctx, 1000);
    ck_assert_ptr_nonnull(p);
    rtm_free(ctx, p, 1000);
    rtm_free(ctx, big, 600000);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* Without trim, freed memory still goes back: the class caches hold at most
 * 256 blocks (32 KiB) each, so emptied pages leave their class, beyond a
 * small cache of empty pages. In allocation order nearly all pages go; in
 * random order the bound on what the cache can pin holds; trim takes all. */
START_TEST(heap_pages_return_without_trim)
{
    rtm_ctx *ctx = new_ctx(0);
    enum { N = 40000 };
    static void *blocks[N];
    rtm_stats base = stats_of(ctx);
    for (int i = 0; i < N; i++) blocks[i] = rtm_alloc(ctx, 100); /* ~65 pages of 104 B blocks */
    rtm_stats full = stats_of(ctx);
    ck_assert_uint_ge(full.heap_pages, 60);
    for (int i = 0; i < N; i++) rtm_free(ctx, blocks[i], 100);
    rtm_stats freed = stats_of(ctx);
    /* kept: the class's last page, a few cached empty pages, and the pages
     * the class cache's blocks (at most 256) still keep from emptying */
    ck_assert_uint_le(freed.heap_pages, 1 + 4 + 2);
    ck_assert_uint_lt(freed.page_bytes, base.page_bytes + 8 * 65536);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    uint64_t rng = 99;
    for (int i = 0; i < N; i++) blocks[i] = rtm_alloc(ctx, 100);
    for (int i = N - 1; i > 0; i--) { /* shuffle */
        int j = (int)(rtm_test_rand(&rng) % (uint64_t)(i + 1));
        void *t = blocks[i];
        blocks[i] = blocks[j];
        blocks[j] = t;
    }
    for (int i = 0; i < N; i++) rtm_free(ctx, blocks[i], 100);
    /* In random order the cache's last 256 blocks may sit on as many pages
     * and keep them from emptying: the documented bound, until the class is
     * used again or the context trimmed. */
    freed = stats_of(ctx);
    ck_assert_uint_le(freed.heap_pages, 1 + 4 + 256);
    ck_assert_uint_eq(freed.heap_blocks_in_use, 0);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_trim(ctx);
    ck_assert_uint_eq(stats_of(ctx).heap_pages, 0);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* A page given back is forgotten by the free fast path's table: a stale
 * pointer into it is foreign (the memory is the OS's), never written. */
START_TEST(heap_stale_pointer_after_trim)
{
    rtm_ctx *ctx = new_ctx(0);
    void *p = rtm_alloc(ctx, 48);
    void *q = rtm_alloc(ctx, 48);
    rtm_free(ctx, p, 48); /* the fast path remembers the page */
    rtm_free(ctx, q, 48);
    rtm_ctx_trim(ctx);   /* the page goes back to the OS */
    ck_assert_uint_eq(stats_of(ctx).heap_pages, 0);
    ck_assert_int_eq(rtm_free_checked(ctx, q, 48), RTM_EFOREIGN);
    ck_assert_ptr_null(rtm_realloc(ctx, q, 48, 64));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EFOREIGN);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    /* and the heap works on */
    void *r = rtm_alloc(ctx, 48);
    ck_assert_ptr_nonnull(r);
    rtm_free(ctx, r, 48);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

static Suite *heap_life_suite(void)
{
    Suite *s = suite_create("heap_life");
    TCase *tc = tcase_create("life");
    tcase_set_timeout(tc, 120);
    /* loop tests run once plain (0) and once with RTM_CTX_DEBUG (1) */
    tcase_add_loop_test(tc, heap_lua_alloc_contract, 0, 2);
    tcase_add_loop_test(tc, heap_collect_hook_lets_retry_succeed, 0, 2);
    tcase_add_test(tc, heap_collect_hook_that_frees_nothing);
    tcase_add_loop_test(tc, heap_collect_hook_frees_small_blocks, 0, 2);
    tcase_add_test(tc, heap_caches_before_collect);
    tcase_add_loop_test(tc, heap_trim_returns_pages, 0, 2);
    tcase_add_test(tc, heap_pages_return_without_trim);
    tcase_add_test(tc, heap_stale_pointer_after_trim);
    tcase_add_loop_test(tc, heap_stats_and_visit, 0, 2);
    tcase_add_loop_test(tc, heap_destroy_releases_everything, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

RTM_TEST_MAIN(heap_life_suite)
