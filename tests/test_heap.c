/* test_heap.c: the small-object heap: sizes and classes, every bad input
 * with its exact status, debug checks, realloc. (lua_Alloc, the ladder,
 * trim, stats and visit: test_heap_life.c; randomized, fault-injection and
 * limit runs: test_heap_stress.c.) */
#include "test_heap_util.h"

/* ---- sizes and classes ---------------------------------------------------- */

START_TEST(heap_every_small_size)
{
    rtm_ctx *ctx = new_ctx(_i ? RTM_CTX_DEBUG : 0);
    for (size_t n = 1; n <= RTM_SMALL_MAX; n++) {
        unsigned char *p = rtm_alloc(ctx, n);
        ck_assert_ptr_nonnull(p);
        bool aligned = (uintptr_t)p % 8 == 0 && (n % 16 != 0 || (uintptr_t)p % 16 == 0);
        fill(p, n, (unsigned char)n);
        bool kept = first_mismatch(p, n, (unsigned char)n) == n;
        if (!aligned || !kept) ck_abort_msg("size %zu: aligned %d, kept %d", n, aligned, kept);
        rtm_free(ctx, p, n);
        if (n % 512 == 0) ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    }
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.heap_allocs, RTM_SMALL_MAX);
    ck_assert_uint_eq(st.heap_frees, RTM_SMALL_MAX);
    ck_assert_uint_eq(st.heap_blocks_in_use, 0);
    ck_assert_uint_eq(st.heap_bytes_in_use, 0);
    ck_assert_uint_eq(st.heap_bytes_peak, RTM_SMALL_MAX);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* Each size lands in the smallest class that holds it, and no class wastes
 * more than 7 bytes up to 128, or 12.5% of the request above. */
START_TEST(heap_class_waste_bound)
{
    rtm_ctx *ctx = new_ctx(0);
    rtm_stats before = stats_of(ctx);
    unsigned nclasses = 0;
    for (unsigned c = 0; c < RTM_HEAP_CLASSES && before.classes[c].block_size; c++) {
        if (c) ck_assert_uint_gt(before.classes[c].block_size, before.classes[c - 1].block_size);
        ck_assert_uint_eq(before.classes[c].block_size % 8, 0);
        nclasses++;
    }
    ck_assert_uint_eq(before.classes[nclasses - 1].block_size, RTM_SMALL_MAX);
    for (size_t n = 1; n <= RTM_SMALL_MAX; n++) {
        void *p = rtm_alloc(ctx, n);
        rtm_stats st = stats_of(ctx);
        unsigned hit = RTM_HEAP_CLASSES;
        for (unsigned c = 0; c < nclasses; c++)
            if (st.classes[c].allocs != before.classes[c].allocs) hit = c;
        ck_assert_uint_lt(hit, nclasses);
        uint64_t bs = st.classes[hit].block_size;
        ck_assert_uint_ge(bs, n);
        if (hit) ck_assert_uint_lt(st.classes[hit - 1].block_size, n);
        if (n <= 128) ck_assert_uint_le(bs - n, 7);
        else ck_assert_uint_lt(8 * (bs - n), n);
        rtm_free(ctx, p, n);
        before = stats_of(ctx);
    }
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(heap_large_blocks)
{
    rtm_ctx *ctx = new_ctx(_i ? RTM_CTX_DEBUG : 0);
    static const size_t sizes[] = {RTM_SMALL_MAX + 1, 12345, 65536, 65536 * 3 + 17, 1u << 20};
    void *p[5];
    for (int i = 0; i < 5; i++) {
        p[i] = rtm_alloc(ctx, sizes[i]);
        ck_assert_ptr_nonnull(p[i]);
        ck_assert_uint_eq((uintptr_t)p[i] % 64, 0);
        fill(p[i], sizes[i], (unsigned char)i);
    }
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.heap_large_blocks, 5);
    size_t total = 0;
    for (int i = 0; i < 5; i++) total += sizes[i];
    ck_assert_uint_eq(st.heap_large_bytes, total);
    ck_assert_uint_eq(st.heap_bytes_in_use, total);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    for (int i = 0; i < 5; i++) {
        expect_filled(p[i], sizes[i], (unsigned char)i);
        ck_assert_int_eq(rtm_free_checked(ctx, p[i], sizes[i]), RTM_OK);
    }
    st = stats_of(ctx);
    ck_assert_uint_eq(st.heap_large_blocks, 0);
    ck_assert_uint_eq(st.heap_bytes_in_use, 0);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(heap_calloc_zeroes)
{
    rtm_ctx *ctx = new_ctx(_i ? RTM_CTX_DEBUG : 0);
    /* dirty some blocks first so calloc must really clear reused memory */
    for (int round = 0; round < 2; round++) {
        static const size_t sizes[] = {8, 24, 100, 4000, 8192, 20000, 300000};
        for (int i = 0; i < 7; i++) {
            unsigned char *p = rtm_calloc(ctx, 1, sizes[i]);
            ck_assert_ptr_nonnull(p);
            ck_assert(all_bytes(p, sizes[i], 0));
            memset(p, 0xAB, sizes[i]);
            rtm_free(ctx, p, sizes[i]);
        }
    }
    unsigned *q = rtm_calloc(ctx, 1000, sizeof(unsigned));
    ck_assert_ptr_nonnull(q);
    ck_assert(all_bytes(q, 1000 * sizeof(unsigned), 0));
    rtm_free(ctx, q, 1000 * sizeof(unsigned));
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* ---- bad input, each with its exact status --------------------------------- */

START_TEST(heap_bad_sizes)
{
    rtm_ctx *ctx = new_ctx(_i ? RTM_CTX_DEBUG : 0);
    ck_assert_ptr_null(rtm_alloc(ctx, 0));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_alloc(ctx, RTM_MAX_ALLOC + 1));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_alloc(ctx, SIZE_MAX));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_calloc(ctx, SIZE_MAX / 2, 3)); /* overflow */
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_calloc(ctx, (size_t)1 << 33, (size_t)1 << 33));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_calloc(ctx, 0, 8));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_realloc(ctx, NULL, 0, 0));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    /* an absurd realloc leaves the block as it was */
    char *p = rtm_alloc(ctx, 40);
    fill(p, 40, 3);
    ck_assert_ptr_null(rtm_realloc(ctx, p, 40, RTM_MAX_ALLOC + 1));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    expect_filled(p, 40, 3);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.errors, 8);
    ck_assert_uint_eq(st.heap_blocks_in_use, 1);
    ck_assert_uint_eq(st.heap_bytes_in_use, 40);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_free(ctx, p, 40);
    /* still usable */
    p = rtm_alloc(ctx, 40);
    ck_assert_ptr_nonnull(p);
    rtm_free(ctx, p, 40);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(heap_null_ctx)
{
    ck_assert_ptr_null(rtm_alloc(NULL, 16));
    ck_assert_ptr_null(rtm_calloc(NULL, 1, 16));
    ck_assert_ptr_null(rtm_realloc(NULL, NULL, 0, 16));
    ck_assert_ptr_null(rtm_lua_alloc(NULL, NULL, 4, 16));
    int x;
    ck_assert_int_eq(rtm_free_checked(NULL, &x, sizeof x), RTM_EINVAL);
    ck_assert_int_eq(rtm_free_checked(NULL, NULL, 0), RTM_EINVAL);
    rtm_free(NULL, &x, sizeof x); /* no crash, nothing to record it on */
    ck_assert_ptr_null(rtm_lua_alloc(NULL, &x, sizeof x, 0));
    /* a real block passed with a NULL context is not freed */
    rtm_ctx *ctx = new_ctx(0);
    void *p = rtm_alloc(ctx, 32);
    ck_assert_int_eq(rtm_free_checked(NULL, p, 32), RTM_EINVAL);
    ck_assert_ptr_null(rtm_realloc(NULL, p, 32, 64));
    ck_assert_uint_eq(stats_of(ctx).heap_blocks_in_use, 1);
    rtm_free(ctx, p, 32);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(heap_free_null_is_noop)
{
    rtm_ctx *ctx = new_ctx(_i ? RTM_CTX_DEBUG : 0);
    rtm_free(ctx, NULL, 0);
    rtm_free(ctx, NULL, 123);
    ck_assert_int_eq(rtm_free_checked(ctx, NULL, 8), RTM_OK);
    ck_assert_ptr_null(rtm_lua_alloc(ctx, NULL, 0, 0));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);
    ck_assert_uint_eq(stats_of(ctx).heap_bad_frees, 0);
    rtm_ctx_destroy(ctx);
}
END_TEST

static char static_bytes[64];

START_TEST(heap_foreign_pointers)
{
    rtm_ctx *ctx = new_ctx(_i ? RTM_CTX_DEBUG : 0);
    rtm_ctx *other = new_ctx(0);
    char stack_bytes[64];
    char *heap_bytes = malloc(64);
    void *theirs = rtm_alloc(other, 64);
    void *theirs_large = rtm_alloc(other, 100000);
    void *mine = rtm_alloc(ctx, 64);
    fill(theirs, 64, 9);
    void *const foreign[] = {stack_bytes, heap_bytes, static_bytes, theirs, theirs_large,
                             (void *)(uintptr_t)0x10, (void *)(uintptr_t)0xFFFFFFFFFFFFFFF0ull};
    const size_t sizes[] = {64, 64, 64, 64, 100000, 8, 8};
    for (int i = 0; i < 7; i++) {
        rtm_ctx_clear_error(ctx);
        ck_assert_int_eq(rtm_free_checked(ctx, foreign[i], sizes[i]), RTM_EFOREIGN);
        rtm_free(ctx, foreign[i], sizes[i]);
        ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EFOREIGN);
        rtm_ctx_clear_error(ctx);
        ck_assert_ptr_null(rtm_realloc(ctx, foreign[i], sizes[i], 128));
        ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EFOREIGN);
        rtm_ctx_clear_error(ctx);
        ck_assert_ptr_null(rtm_lua_alloc(ctx, foreign[i], sizes[i], 0));
        ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EFOREIGN);
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    }
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.heap_bad_frees, 7 * 4);
    ck_assert_uint_eq(st.heap_blocks_in_use, 1);
    /* nothing was touched: the other context's blocks are intact and its own */
    expect_filled(theirs, 64, 9);
    ck_assert_int_eq(rtm_ctx_check(other), RTM_OK);
    ck_assert_uint_eq(stats_of(other).heap_blocks_in_use, 2);
    ck_assert_int_eq(rtm_free_checked(other, theirs, 64), RTM_OK);
    ck_assert_int_eq(rtm_free_checked(other, theirs_large, 100000), RTM_OK);
    ck_assert_int_eq(rtm_free_checked(ctx, mine, 64), RTM_OK);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    ck_assert_int_eq(rtm_ctx_check(other), RTM_OK);
    free(heap_bytes);
    rtm_ctx_destroy(other);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* A size of another class is caught in every build. */
START_TEST(heap_wrong_class_size)
{
    rtm_ctx *ctx = new_ctx(_i ? RTM_CTX_DEBUG : 0);
    char *p = rtm_alloc(ctx, 32);
    char *q = rtm_alloc(ctx, 32);
    fill(p, 32, 1);
    static const size_t wrong[] = {0, 8, 200, 8192, 9000, SIZE_MAX};
    for (int i = 0; i < 6; i++) {
        rtm_ctx_clear_error(ctx);
        ck_assert_int_eq(rtm_free_checked(ctx, p, wrong[i]), RTM_EINVAL);
        ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
        ck_assert_ptr_null(rtm_realloc(ctx, p, wrong[i], 64));
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    }
    expect_filled(p, 32, 1);
    ck_assert_uint_eq(stats_of(ctx).heap_bad_frees, 12);
    /* the large case: the exact size, always */
    char *big = rtm_alloc(ctx, 50000);
    ck_assert_int_eq(rtm_free_checked(ctx, big, 50001), RTM_EINVAL);
    ck_assert_int_eq(rtm_free_checked(ctx, big, 32), RTM_EINVAL);
    ck_assert_int_eq(rtm_free_checked(ctx, big + 64, 50000 - 64), RTM_EINVAL); /* interior */
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    ck_assert_int_eq(rtm_free_checked(ctx, big, 50000), RTM_OK);
    ck_assert_int_eq(rtm_free_checked(ctx, p, 32), RTM_OK);
    ck_assert_int_eq(rtm_free_checked(ctx, q, 32), RTM_OK);
    ck_assert_uint_eq(stats_of(ctx).heap_blocks_in_use, 0);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* RTM_CTX_DEBUG: double frees, a wrong size within the class, pointers that
 * are not a block's start: all caught, nothing corrupted. */
START_TEST(heap_debug_catches_misuse)
{
    rtm_ctx *ctx = new_ctx(RTM_CTX_DEBUG);
    char *a = rtm_alloc(ctx, 20);
    char *b = rtm_alloc(ctx, 20); /* keeps the page live */
    ck_assert_int_eq(rtm_free_checked(ctx, a, 24), RTM_EINVAL); /* same class, wrong size */
    ck_assert_int_eq(rtm_free_checked(ctx, a, 17), RTM_EINVAL);
    ck_assert_int_eq(rtm_free_checked(ctx, a + 8, 16), RTM_EINVAL); /* interior */
    ck_assert_int_eq(rtm_free_checked(ctx, (char *)((uintptr_t)a & ~(uintptr_t)0xFFFF) + 16, 8),
                     RTM_EINVAL); /* the page header */
    ck_assert_int_eq(rtm_free_checked(ctx, a, 20), RTM_OK);
    ck_assert_int_eq(rtm_free_checked(ctx, a, 20), RTM_ESTALE);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ESTALE);
    ck_assert_ptr_null(rtm_realloc(ctx, a, 20, 40));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ESTALE);
    ck_assert_ptr_null(rtm_lua_alloc(ctx, a, 20, 0));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ESTALE);
    /* a realloc in place records the new size exactly */
    b = rtm_realloc(ctx, b, 20, 22);
    ck_assert_int_eq(rtm_free_checked(ctx, b, 20), RTM_EINVAL);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    /* a block never handed out (beyond the carved part) */
    char *far = (char *)((uintptr_t)a & ~(uintptr_t)0xFFFF) + 0xFF00;
    ck_assert_int_eq(rtm_free_checked(ctx, far, 24), RTM_EINVAL);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.heap_bad_frees, 9);
    ck_assert_uint_eq(st.heap_blocks_in_use, 1);
    ck_assert_uint_eq(st.heap_bytes_in_use, 22);
    ck_assert_int_eq(rtm_free_checked(ctx, b, 22), RTM_OK);
    ck_assert_int_eq(rtm_free_checked(ctx, b, 22), RTM_ESTALE);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    /* large blocks: a freed span waits in the cache, where a second free is stale */
    char *big = rtm_alloc(ctx, 40000);
    ck_assert_int_eq(rtm_free_checked(ctx, big, 40000), RTM_OK);
    ck_assert_int_eq(rtm_free_checked(ctx, big, 40000), RTM_ESTALE);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    /* still fully usable */
    void *c = rtm_alloc(ctx, 20);
    ck_assert_ptr_nonnull(c);
    rtm_free(ctx, c, 20);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* A double free is also caught, in every build, where the metadata says
 * the memory is free: a large block's span waiting in the cache. */
START_TEST(heap_release_stale_large)
{
    rtm_ctx *ctx = new_ctx(0);
    char *big = rtm_alloc(ctx, 40000);
    rtm_free(ctx, big, 40000);
    ck_assert_int_eq(rtm_free_checked(ctx, big, 40000), RTM_ESTALE);
    ck_assert_ptr_null(rtm_realloc(ctx, big, 40000, 50000));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ESTALE);
    ck_assert_uint_eq(stats_of(ctx).heap_bad_frees, 2);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    /* once trimmed, the span is the OS's again: the pointer is foreign */
    rtm_ctx_trim(ctx);
    ck_assert_int_eq(rtm_free_checked(ctx, big, 40000), RTM_EFOREIGN);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* A page that empties while its class has another page with room leaves
 * the class for the empty-page cache, where any free into it is stale. */
START_TEST(heap_emptied_page_is_stale)
{
    rtm_ctx *ctx = new_ctx(RTM_CTX_DEBUG); /* frees go straight to the pages */
    rtm_stats st = stats_of(ctx);
    enum { N = 3 * 64 };
    void *blocks[N];
    for (int i = 0; i < N; i++) blocks[i] = rtm_alloc(ctx, 1024);
    rtm_stats full = stats_of(ctx);
    ck_assert_uint_eq(full.heap_pages - st.heap_pages, 4); /* 3 full, one with room */
    /* the first page: all its blocks back; it is not the class's only page with room */
    void *first_page = (void *)((uintptr_t)blocks[0] & ~(uintptr_t)0xFFFF);
    int on_first = 0;
    for (int i = 0; i < N; i++)
        if (((uintptr_t)blocks[i] & ~(uintptr_t)0xFFFF) == (uintptr_t)first_page) {
            rtm_free(ctx, blocks[i], 1024);
            on_first++;
        }
    ck_assert_int_gt(on_first, 10);
    ck_assert_int_eq(rtm_free_checked(ctx, blocks[0], 1024), RTM_ESTALE);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    for (int i = 0; i < N; i++)
        if (((uintptr_t)blocks[i] & ~(uintptr_t)0xFFFF) != (uintptr_t)first_page)
            ck_assert_int_eq(rtm_free_checked(ctx, blocks[i], 1024), RTM_OK);
    ck_assert_uint_eq(stats_of(ctx).heap_bad_frees, 1);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

#ifndef TEST_ASAN
/* Debug fills freed memory, and the check sees a write after free. (Under
 * ASan or Valgrind the write itself is reported: asan_heap_uaf covers that.) */
START_TEST(heap_debug_poison_and_write_after_free)
{
    if (RUNNING_ON_VALGRIND) return; /* memcheck reports the write itself (valgrind_heap_uaf) */
    rtm_ctx *ctx = new_ctx(RTM_CTX_DEBUG);
    unsigned char *a = rtm_alloc(ctx, 64);
    void *keep = rtm_alloc(ctx, 64);
    memset(a, 0x11, 64);
    rtm_free(ctx, a, 64);
    ck_assert(all_bytes(a + 8, 56, 0xDF));
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    a[40] = 1; /* the bug under test */
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_EINVAL);
    a[40] = 0xDF;
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_free(ctx, keep, 64);
    rtm_ctx_destroy(ctx);
}
END_TEST
#endif

/* ---- realloc ------------------------------------------------------------------ */

START_TEST(heap_realloc_paths)
{
    rtm_ctx *ctx = new_ctx(_i ? RTM_CTX_DEBUG : 0);
    char *p = rtm_realloc(ctx, NULL, 0, 20);
    ck_assert_ptr_nonnull(p);
    fill(p, 20, 5);
    /* same class (17..24): in place */
    char *q = rtm_realloc(ctx, p, 20, 24);
    ck_assert_ptr_eq(q, p);
    q = rtm_realloc(ctx, q, 24, 17);
    ck_assert_ptr_eq(q, p);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.heap_reallocs, 2);
    ck_assert_uint_eq(st.heap_reallocs_in_place, 2);
    ck_assert_uint_eq(st.heap_bytes_in_use, 17);
    expect_filled(q, 17, 5);
    /* growing through classes, into large, and far beyond */
    size_t size = 17;
    for (size_t next = 100; next <= ((size_t)4 << 20); next *= 3) {
        q = rtm_realloc(ctx, q, size, next);
        ck_assert_ptr_nonnull(q);
        expect_filled(q, 17, 5);
        size = next;
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    }
    /* and back down to small */
    for (size_t next = size / 5; next >= 17; next /= 5) {
        q = rtm_realloc(ctx, q, size, next);
        ck_assert_ptr_nonnull(q);
        expect_filled(q, 17, 5);
        size = next;
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    }
    st = stats_of(ctx);
    ck_assert_uint_eq(st.heap_bytes_in_use, size);
    ck_assert_uint_eq(st.heap_blocks_in_use, 1);
    /* new size 0 frees */
    ck_assert_ptr_null(rtm_realloc(ctx, q, size, 0));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);
    st = stats_of(ctx);
    ck_assert_uint_eq(st.heap_blocks_in_use, 0);
    ck_assert_uint_eq(st.heap_bytes_in_use, 0);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* A large block grows in place (remap, or a reused span's room). */
START_TEST(heap_realloc_large_in_place)
{
    rtm_ctx *ctx = new_ctx(0);
    char *p = rtm_alloc(ctx, 16);
    size_t size = 16;
    for (size_t next = 32; next <= ((size_t)4 << 20); next *= 2) {
        p = rtm_realloc(ctx, p, size, next);
        ck_assert_ptr_nonnull(p);
        p[next - 1] = 1;
        size = next;
    }
    rtm_free(ctx, p, size);
    /* the second chain reuses the first one's span: every large step in place */
    rtm_stats before = stats_of(ctx);
    p = rtm_alloc(ctx, 16);
    size = 16;
    for (size_t next = 32; next <= ((size_t)4 << 20); next *= 2) {
        p = rtm_realloc(ctx, p, size, next);
        p[next - 1] = 1;
        size = next;
    }
    rtm_stats after = stats_of(ctx);
    ck_assert_uint_eq(after.page_reserves, before.page_reserves);
    /* 9 moves between small classes, 1 into the reused span (8 KiB -> 16 KiB),
     * then 8 steps in place (32 KiB .. 4 MiB) */
    ck_assert_uint_eq(after.heap_reallocs - before.heap_reallocs, 18);
    ck_assert_uint_eq(after.heap_reallocs_in_place - before.heap_reallocs_in_place, 8);
    rtm_free(ctx, p, size);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* When the source refuses, a growing realloc fails and leaves the block as
 * it was; a shrinking one never fails. */
START_TEST(heap_realloc_failure_leaves_block)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {0, NULL, &tp.source, _i ? RTM_CTX_DEBUG : 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    char *small = rtm_alloc(ctx, 100);
    char *big = rtm_alloc(ctx, 30000);
    char *mid = rtm_alloc(ctx, 5000);
    fill(small, 100, 1);
    fill(big, 30000, 2);
    fill(mid, 5000, 3);
    rtm_ctx_trim(ctx);
    atomic_store(&tp.fail_all, true);
    ck_assert_ptr_null(rtm_realloc(ctx, small, 100, 8000)); /* a class with no page */
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ENOMEM);
    ck_assert_ptr_null(rtm_realloc(ctx, big, 30000, 3000000));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ENOMEM);
    ck_assert_ptr_null(rtm_realloc(ctx, small, 100, 20000));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ENOMEM);
    expect_filled(small, 100, 1);
    expect_filled(big, 30000, 2);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    /* shrinks into classes that have no page: kept in place */
    rtm_ctx_clear_error(ctx);
    char *s2 = rtm_realloc(ctx, big, 30000, 40);
    ck_assert_ptr_eq(s2, big);
    char *m2 = rtm_realloc(ctx, mid, 5000, 10);
    ck_assert_ptr_eq(m2, mid);
    char *l2 = rtm_lua_alloc(ctx, small, 100, 9);
    ck_assert_ptr_eq(l2, small);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);
    expect_filled(s2, 40, 2);
    expect_filled(m2, 10, 3);
    expect_filled(l2, 9, 1);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.heap_bytes_in_use, 40 + 10 + 9);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    atomic_store(&tp.fail_all, false);
    /* they are freed with their new sizes */
    ck_assert_int_eq(rtm_free_checked(ctx, s2, 40), RTM_OK);
    ck_assert_int_eq(rtm_free_checked(ctx, m2, 10), RTM_OK);
    ck_assert_int_eq(rtm_free_checked(ctx, l2, 9), RTM_OK);
    st = stats_of(ctx);
    ck_assert_uint_eq(st.heap_bytes_in_use, 0);
    ck_assert_uint_eq(st.heap_blocks_in_use, 0);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
}
END_TEST

static Suite *heap_suite(void)
{
    Suite *s = suite_create("heap");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    /* loop tests run once plain (0) and once with RTM_CTX_DEBUG (1) */
    tcase_add_loop_test(tc, heap_every_small_size, 0, 2);
    tcase_add_test(tc, heap_class_waste_bound);
    tcase_add_loop_test(tc, heap_large_blocks, 0, 2);
    tcase_add_loop_test(tc, heap_calloc_zeroes, 0, 2);
    tcase_add_loop_test(tc, heap_bad_sizes, 0, 2);
    tcase_add_test(tc, heap_null_ctx);
    tcase_add_loop_test(tc, heap_free_null_is_noop, 0, 2);
    tcase_add_loop_test(tc, heap_foreign_pointers, 0, 2);
    tcase_add_loop_test(tc, heap_wrong_class_size, 0, 2);
    tcase_add_test(tc, heap_debug_catches_misuse);
    tcase_add_test(tc, heap_release_stale_large);
    tcase_add_test(tc, heap_emptied_page_is_stale);
#ifndef TEST_ASAN
    tcase_add_test(tc, heap_debug_poison_and_write_after_free);
#endif
    tcase_add_loop_test(tc, heap_realloc_paths, 0, 2);
    tcase_add_test(tc, heap_realloc_large_in_place);
    tcase_add_loop_test(tc, heap_realloc_failure_leaves_block, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

RTM_TEST_MAIN(heap_suite)
