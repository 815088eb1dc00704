/* test_heap.c: the small-object heap: sizes and classes, every bad input
 * with its exact status, realloc, lua_Alloc, the collect hook, trim, stats
 * and visit. (Randomized, fault-injection and limit runs: test_heap_stress.c.) */
#include "support.h"

#include <stdio.h>

#if defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define TEST_ASAN 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#  define TEST_ASAN 1
#endif

static rtm_stats stats_of(rtm_ctx *ctx)
{
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    return st;
}

static void fill(void *p, size_t n, unsigned char seed)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(seed + i * 7);
}

/* Check records every assertion (a write per call): compare first, assert once. */
static size_t first_mismatch(const void *p, size_t n, unsigned char seed)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)(seed + i * 7)) return i;
    return n;
}
#define expect_filled(p, n, seed) ck_assert_uint_eq(first_mismatch((p), (n), (seed)), (n))

static bool all_bytes(const void *p, size_t n, unsigned char v)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != v) return false;
    return true;
}

static rtm_ctx *new_ctx(unsigned flags)
{
    rtm_config cfg = {0, NULL, NULL, flags};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

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

/* Without RTM_CTX_DEBUG, a double free is still caught where the metadata
 * says so: a cached large span, or a page back in the empty cache. */
START_TEST(heap_release_stale_where_cheap)
{
    rtm_ctx *ctx = new_ctx(0);
    char *big = rtm_alloc(ctx, 40000);
    rtm_free(ctx, big, 40000);
    ck_assert_int_eq(rtm_free_checked(ctx, big, 40000), RTM_ESTALE);
    /* two full pages of one class (63 blocks of 1 KiB each); emptying the
     * first, which is not the current one, sends it to the empty cache */
    enum { PER_PAGE = (65536 - 128) / 1024, N = 2 * PER_PAGE };
    void *blocks[N];
    for (int i = 0; i < N; i++) blocks[i] = rtm_alloc(ctx, 1024);
    for (int i = 0; i < PER_PAGE; i++) rtm_free(ctx, blocks[i], 1024);
    ck_assert_int_eq(rtm_free_checked(ctx, blocks[0], 1024), RTM_ESTALE);
    for (int i = PER_PAGE; i < N; i++) rtm_free(ctx, blocks[i], 1024);
    ck_assert_uint_eq(stats_of(ctx).heap_bad_frees, 2);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

#ifndef TEST_ASAN
/* Debug fills freed memory, and the check sees a write after free. (Under
 * ASan the write itself is reported: asan_heap_uaf covers that.) */
START_TEST(heap_debug_poison_and_write_after_free)
{
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
    tcase_add_test(tc, heap_release_stale_where_cheap);
#ifndef TEST_ASAN
    tcase_add_test(tc, heap_debug_poison_and_write_after_free);
#endif
    tcase_add_loop_test(tc, heap_realloc_paths, 0, 2);
    tcase_add_test(tc, heap_realloc_large_in_place);
    tcase_add_loop_test(tc, heap_realloc_failure_leaves_block, 0, 2);
    tcase_add_loop_test(tc, heap_lua_alloc_contract, 0, 2);
    tcase_add_loop_test(tc, heap_collect_hook_lets_retry_succeed, 0, 2);
    tcase_add_test(tc, heap_collect_hook_that_frees_nothing);
    tcase_add_test(tc, heap_caches_before_collect);
    tcase_add_loop_test(tc, heap_trim_returns_pages, 0, 2);
    tcase_add_loop_test(tc, heap_stats_and_visit, 0, 2);
    tcase_add_loop_test(tc, heap_destroy_releases_everything, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

RTM_TEST_MAIN(heap_suite)
