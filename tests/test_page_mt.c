/* test_page.c: the page source behind every context: alignment, the limit,
 * the out-of-memory ladder, remap, and the process-wide page map. White-box:
 * it calls the internal page functions directly. */
#include "support.h"
#include "../runtime/mem/internal.h"

#include <pthread.h>

static rtm_ctx *new_ctx(rtm_test_pages *tp, size_t limit)
{
    rtm_config cfg = {limit, NULL, tp ? &tp->source : NULL, 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

/* True when p[from..to) holds the pattern (i * 7). */
static bool has_pattern(const unsigned char *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != (unsigned char)(i * 7)) return false;
    return true;
}

static uint64_t page_bytes(rtm_ctx *ctx)
{
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    return st.page_bytes;
}

START_TEST(pages_alignment_honoured)
{
    rtm_ctx *ctx = new_ctx(NULL, 0);
    for (size_t align = 1; align <= ((size_t)1 << 21); align <<= 1) {
        rtm_status why = RTM_OK;
        void *p = _rtm_pages_alloc(ctx, 5000, align, 0, &why);
        ck_assert_ptr_nonnull(p);
        size_t want = align < RTM_OS_PAGE ? RTM_OS_PAGE : align;
        ck_assert_uint_eq((uintptr_t)p % want, 0);
        memset(p, 0x5A, 5000); /* the whole request is ours */
        _rtm_pages_free(ctx, p, 5000);
    }
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(pages_bad_requests)
{
    rtm_ctx *ctx = new_ctx(NULL, 0);
    uint64_t before = page_bytes(ctx);
    rtm_status why = RTM_OK;
    ck_assert_ptr_null(_rtm_pages_alloc(ctx, 0, 4096, 0, &why));
    ck_assert_int_eq(why, RTM_EINVAL);
    why = RTM_OK;
    ck_assert_ptr_null(_rtm_pages_alloc(ctx, SIZE_MAX, 4096, 0, &why));
    ck_assert_int_eq(why, RTM_EINVAL);
    why = RTM_OK;
    ck_assert_ptr_null(_rtm_pages_alloc(ctx, 4096, 3000, 0, &why));
    ck_assert_int_eq(why, RTM_EINVAL);
    ck_assert_uint_eq(page_bytes(ctx), before);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(pages_limit_is_hard)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_ctx *ctx = new_ctx(&tp, 256 * 1024);
    void *held[128];
    size_t n = 0;
    rtm_status why = RTM_OK;
    for (;;) {
        void *p = _rtm_pages_alloc(ctx, 16384, 4096, 0, &why);
        if (p == NULL) break;
        ck_assert_uint_lt(n, 128);
        held[n++] = p;
        ck_assert_uint_le(page_bytes(ctx), 256 * 1024);
    }
    ck_assert_int_eq(why, RTM_ELIMIT);
    ck_assert_uint_gt(n, 0);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.limit_hits, 1);
    ck_assert_uint_le(st.page_bytes_peak, 256 * 1024);
    /* The refused request never reached the source. */
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    /* Freeing makes room again. */
    _rtm_pages_free(ctx, held[--n], 16384);
    void *again = _rtm_pages_alloc(ctx, 16384, 4096, 0, &why);
    ck_assert_ptr_nonnull(again);
    held[n++] = again;
    while (n) _rtm_pages_free(ctx, held[--n], 16384);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
}
END_TEST

START_TEST(pages_source_refusal_is_enomem)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_ctx *ctx = new_ctx(&tp, 0);
    uint64_t before = page_bytes(ctx);
    atomic_store(&tp.fail_all, true);
    rtm_status why = RTM_OK;
    ck_assert_ptr_null(_rtm_pages_alloc(ctx, 65536, 65536, 0, &why));
    ck_assert_int_eq(why, RTM_ENOMEM);
    ck_assert_uint_eq(page_bytes(ctx), before);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.page_failures, 1);
    atomic_store(&tp.fail_all, false);
    void *p = _rtm_pages_alloc(ctx, 65536, 65536, 0, &why);
    ck_assert_ptr_nonnull(p);
    _rtm_pages_free(ctx, p, 65536);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* The ladder: a collect hook that frees what it holds lets the retry pass. */
typedef struct collect_state {
    void *victim;
    size_t victim_size;
    int calls;
} collect_state;

static void collect_frees_victim(void *ud, rtm_ctx *ctx, size_t wanted)
{
    collect_state *cs = ud;
    cs->calls++;
    ck_assert_uint_gt(wanted, 0);
    if (cs->victim) {
        _rtm_pages_free(ctx, cs->victim, cs->victim_size);
        cs->victim = NULL;
    }
}

START_TEST(pages_collect_hook_then_retry)
{
    rtm_ctx *ctx = new_ctx(NULL, 0);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    /* A new context with a limit of what it holds plus 64 KiB. */
    rtm_ctx_destroy(ctx);
    ctx = new_ctx(NULL, st.page_bytes + 65536);
    collect_state cs = {NULL, 65536, 0};
    rtm_status why = RTM_OK;
    cs.victim = _rtm_pages_alloc(ctx, 65536, 4096, 0, &why);
    ck_assert_ptr_nonnull(cs.victim);
    rtm_ctx_set_collect(ctx, collect_frees_victim, &cs);

    /* Without permission the hook is not called. */
    ck_assert_ptr_null(_rtm_pages_alloc(ctx, 65536, 4096, 0, &why));
    ck_assert_int_eq(why, RTM_ELIMIT);
    ck_assert_int_eq(cs.calls, 0);

    /* With it: called once, the retry succeeds. */
    void *p = _rtm_pages_alloc(ctx, 65536, 4096, RTM_PAGES_MAY_COLLECT, &why);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(cs.calls, 1);
    ck_assert_ptr_null(cs.victim);

    /* Nothing left to free: called once more, then a clean failure. */
    ck_assert_ptr_null(_rtm_pages_alloc(ctx, 65536, 4096, RTM_PAGES_MAY_COLLECT, &why));
    ck_assert_int_eq(why, RTM_ELIMIT);
    ck_assert_int_eq(cs.calls, 2);
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.collect_calls, 2);
    _rtm_pages_free(ctx, p, 65536);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(pages_remap_keeps_data_and_alignment)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_ctx *ctx = new_ctx(&tp, 0);
    rtm_status why = RTM_OK;
    size_t size = 65536;
    unsigned char *p = _rtm_pages_alloc(ctx, size, 65536, 0, &why);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < size; i++) p[i] = (unsigned char)(i * 7);
    for (int step = 0; step < 6; step++) {
        size_t next = size * 2;
        unsigned char *q = _rtm_pages_remap(ctx, p, size, next, 65536, &why);
        ck_assert_ptr_nonnull(q);
        ck_assert_uint_eq((uintptr_t)q % 65536, 0);
        ck_assert(has_pattern(q, 0, size));
        for (size_t i = size; i < next; i++) q[i] = (unsigned char)(i * 7);
        p = q;
        size = next;
        ck_assert_uint_eq(page_bytes(ctx), (uint64_t)atomic_load(&tp.held_bytes));
    }
    /* Shrink. */
    unsigned char *s = _rtm_pages_remap(ctx, p, size, 65536, 65536, &why);
    ck_assert_ptr_nonnull(s);
    ck_assert(has_pattern(s, 0, 65536));
    ck_assert_uint_eq(page_bytes(ctx), (uint64_t)atomic_load(&tp.held_bytes));
    _rtm_pages_free(ctx, s, 65536);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
}
END_TEST

START_TEST(pages_remap_refused_leaves_old_range)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_ctx *ctx = new_ctx(&tp, 0);
    size_t base = page_bytes(ctx);
    rtm_ctx_destroy(ctx);
    ctx = new_ctx(&tp, base + 65536 + 4096);
    rtm_status why = RTM_OK;
    unsigned char *p = _rtm_pages_alloc(ctx, 65536, 65536, 0, &why);
    ck_assert_ptr_nonnull(p);
    memset(p, 0x33, 65536);
    uint64_t before = page_bytes(ctx);
    ck_assert_ptr_null(_rtm_pages_remap(ctx, p, 65536, 1 << 20, 65536, &why));
    ck_assert_int_eq(why, RTM_ELIMIT);
    ck_assert_uint_eq(page_bytes(ctx), before);
    atomic_store(&tp.fail_all, true); /* the source refuses remap too */
    ck_assert_ptr_null(_rtm_pages_remap(ctx, p, 65536, 65536 + 4096, 65536, &why));
    ck_assert_int_eq(why, RTM_ENOMEM);
    atomic_store(&tp.fail_all, false);
    ck_assert_uint_eq(page_bytes(ctx), before);
    for (size_t i = 0; i < 65536; i++)
        if (p[i] != 0x33) ck_abort_msg("byte %zu changed", i);
    _rtm_pages_free(ctx, p, 65536);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(pages_remap_without_hook_is_einval)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    tp.source.remap = NULL;
    rtm_ctx *ctx = new_ctx(&tp, 0);
    rtm_status why = RTM_OK;
    void *p = _rtm_pages_alloc(ctx, 65536, 65536, 0, &why);
    ck_assert_ptr_null(_rtm_pages_remap(ctx, p, 65536, 131072, 65536, &why));
    ck_assert_int_eq(why, RTM_EINVAL);
    _rtm_pages_free(ctx, p, 65536);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* ---- the page map ---- */

START_TEST(pagemap_add_contains_remove)
{
    rtm_ctx *ctx = new_ctx(NULL, 0);
    rtm_status why = RTM_OK;
    char *seg = _rtm_pages_alloc(ctx, RTM_SEGMENT_SIZE, RTM_SEGMENT_SIZE, 0, &why);
    ck_assert_ptr_nonnull(seg);
    ck_assert(!_rtm_pagemap_contains(seg));
    ck_assert(_rtm_pagemap_add(seg));
    ck_assert(_rtm_pagemap_contains(seg));
    ck_assert(_rtm_pagemap_contains(seg + RTM_SEGMENT_SIZE - 1));
    ck_assert(!_rtm_pagemap_contains(seg + RTM_SEGMENT_SIZE));
    ck_assert(!_rtm_pagemap_contains(seg - 1));
    _rtm_pagemap_remove(seg);
    ck_assert(!_rtm_pagemap_contains(seg));
    _rtm_pages_free(ctx, seg, RTM_SEGMENT_SIZE);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(pagemap_never_claims_other_memory)
{
    int on_stack = 0;
    void *from_malloc = malloc(64);
    ck_assert(!_rtm_pagemap_contains(NULL));
    ck_assert(!_rtm_pagemap_contains(&on_stack));
    ck_assert(!_rtm_pagemap_contains(from_malloc));
    ck_assert(!_rtm_pagemap_contains((void *)(uintptr_t)0xFFFFFFFFFFFF0000ull));
    ck_assert(!_rtm_pagemap_contains((void *)(uintptr_t)(1ull << 48)));
    ck_assert(!_rtm_pagemap_add((void *)(uintptr_t)(1ull << 50)));
    free(from_malloc);
}
END_TEST

/* Threads add and remove segments that share map leaves: no bit is lost. */
#define MAP_THREADS 4
#define MAP_SEGS 64
static char *map_base;
static atomic_long thread_errors; /* Check's asserts belong to the main thread */

static void *map_worker(void *arg)
{
    size_t t = (size_t)arg;
    for (int round = 0; round < 200; round++) {
        for (size_t i = t; i < MAP_SEGS; i += MAP_THREADS)
            if (!_rtm_pagemap_add(map_base + i * RTM_SEGMENT_SIZE)) atomic_fetch_add(&thread_errors, 1);
        for (size_t i = t; i < MAP_SEGS; i += MAP_THREADS)
            if (!_rtm_pagemap_contains(map_base + i * RTM_SEGMENT_SIZE))
                atomic_fetch_add(&thread_errors, 1);
        if (round != 199)
            for (size_t i = t; i < MAP_SEGS; i += MAP_THREADS)
                _rtm_pagemap_remove(map_base + i * RTM_SEGMENT_SIZE);
    }
    return NULL;
}

START_TEST(pagemap_concurrent_bits)
{
    rtm_ctx *ctx = new_ctx(NULL, 0);
    rtm_status why = RTM_OK;
    map_base = _rtm_pages_alloc(ctx, MAP_SEGS * RTM_SEGMENT_SIZE, RTM_SEGMENT_SIZE, 0, &why);
    ck_assert_ptr_nonnull(map_base);
    atomic_store(&thread_errors, 0);
    pthread_t th[MAP_THREADS];
    for (size_t t = 0; t < MAP_THREADS; t++) pthread_create(&th[t], NULL, map_worker, (void *)t);
    for (size_t t = 0; t < MAP_THREADS; t++) pthread_join(th[t], NULL);
    ck_assert_int_eq(atomic_load(&thread_errors), 0);
    for (size_t i = 0; i < MAP_SEGS; i++) {
        ck_assert(_rtm_pagemap_contains(map_base + i * RTM_SEGMENT_SIZE));
        _rtm_pagemap_remove(map_base + i * RTM_SEGMENT_SIZE);
    }
    _rtm_pages_free(ctx, map_base, MAP_SEGS * RTM_SEGMENT_SIZE);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* Several threads claim pages against one limit: never more than it. */
static rtm_ctx *limit_ctx;
static atomic_long limit_ok;

static void *limit_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        rtm_status why = RTM_OK;
        void *p = _rtm_pages_alloc(limit_ctx, 8192, 4096, 0, &why);
        if (p) {
            atomic_fetch_add(&limit_ok, 1);
            rtm_stats st;
            rtm_ctx_stats(limit_ctx, &st);
            if (st.page_bytes > 64 * 1024) atomic_fetch_add(&thread_errors, 1);
            _rtm_pages_free(limit_ctx, p, 8192);
        } else if (why != RTM_ELIMIT) {
            atomic_fetch_add(&thread_errors, 1);
        }
    }
    return NULL;
}

START_TEST(pages_limit_under_threads)
{
    limit_ctx = new_ctx(NULL, 64 * 1024);
    atomic_store(&limit_ok, 0);
    atomic_store(&thread_errors, 0);
    pthread_t th[4];
    for (int t = 0; t < 4; t++) pthread_create(&th[t], NULL, limit_worker, NULL);
    for (int t = 0; t < 4; t++) pthread_join(th[t], NULL);
    ck_assert_int_eq(atomic_load(&thread_errors), 0);
    ck_assert_int_gt(atomic_load(&limit_ok), 0);
    rtm_stats st;
    rtm_ctx_stats(limit_ctx, &st);
    ck_assert_uint_le(st.page_bytes_peak, 64 * 1024);
    ck_assert_int_eq(rtm_ctx_check(limit_ctx), RTM_OK);
    rtm_ctx_destroy(limit_ctx);
}
END_TEST

static Suite *page_suite(void)
{
    Suite *s = suite_create("page");
    TCase *tc = tcase_create("source");
    tcase_add_test(tc, pages_alignment_honoured);
    tcase_add_test(tc, pages_bad_requests);
    tcase_add_test(tc, pages_limit_is_hard);
    tcase_add_test(tc, pages_source_refusal_is_enomem);
    tcase_add_test(tc, pages_collect_hook_then_retry);
    tcase_add_test(tc, pages_remap_keeps_data_and_alignment);
    tcase_add_test(tc, pages_remap_refused_leaves_old_range);
    tcase_add_test(tc, pages_remap_without_hook_is_einval);
    suite_add_tcase(s, tc);
    TCase *map = tcase_create("pagemap");
    tcase_add_test(map, pagemap_add_contains_remove);
    tcase_add_test(map, pagemap_never_claims_other_memory);
    tcase_add_test(map, pagemap_concurrent_bits);
    tcase_add_test(map, pages_limit_under_threads);
    suite_add_tcase(s, map);
    return s;
}

RTM_TEST_MAIN(page_suite)
