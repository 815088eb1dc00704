/* test_buf.c: aligned, growable byte buffers. */
#include "support.h"

static rtm_test_pages tp;

static rtm_ctx *ctx_over_tp(size_t limit, bool with_remap)
{
    rtm_test_pages_init(&tp, 0, false);
    if (!with_remap) tp.source.remap = NULL;
    rtm_config cfg = {limit, NULL, &tp.source, 0};
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

static void ctx_end(rtm_ctx *ctx)
{
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
}

static bool aligned(const void *p, size_t align) { return ((uintptr_t)p & (align - 1)) == 0; }

static unsigned char byte_at(size_t i) { return (unsigned char)(i * 131u + (i >> 12)); }

/* Appends n pattern bytes continuing the buffer's content. */
static rtm_status append_pattern(rtm_buf *b, size_t n)
{
    unsigned char tmp[4096];
    size_t at = rtm_buf_len(b);
    while (n > 0) {
        size_t k = n < sizeof tmp ? n : sizeof tmp;
        for (size_t i = 0; i < k; i++) tmp[i] = byte_at(at + i);
        rtm_status s = rtm_buf_append(b, tmp, k);
        if (s != RTM_OK) return s;
        at += k;
        n -= k;
    }
    return RTM_OK;
}

static bool pattern_intact(const rtm_buf *b)
{
    const unsigned char *d = rtm_buf_data(b);
    for (size_t i = 0; i < rtm_buf_len(b); i++)
        if (d[i] != byte_at(i)) return false;
    return true;
}

START_TEST(buf_basic)
{
    rtm_ctx *ctx = ctx_over_tp(0, true);
    rtm_buf *b = rtm_buf_new(ctx, 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(rtm_buf_align(b), RTM_SIMD_ALIGN);
    ck_assert_uint_eq(rtm_buf_len(b), 0);
    ck_assert_uint_gt(rtm_buf_cap(b), 0); /* small buffers start inline */
    ck_assert(aligned(rtm_buf_data(b), RTM_SIMD_ALIGN));
    ck_assert_int_eq(rtm_buf_append(b, "hello, ", 7), RTM_OK);
    ck_assert_int_eq(rtm_buf_append(b, "world", 6), RTM_OK);
    ck_assert_str_eq((char *)rtm_buf_data(b), "hello, world");
    ck_assert_uint_eq(rtm_buf_len(b), 13);
    ck_assert_int_eq(rtm_buf_append(b, NULL, 0), RTM_OK);
    ck_assert_uint_eq(rtm_buf_len(b), 13);

    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.bufs_live, 1);
    ck_assert_uint_eq(st.buf_bytes, 4096);
    ck_assert_uint_eq(st.bytes_in_use, 13 + st.heap_bytes_in_use + st.arena_bytes_used);

    size_t cap = rtm_buf_cap(b);
    rtm_buf_clear(b);
    ck_assert_uint_eq(rtm_buf_len(b), 0);
    ck_assert_uint_eq(rtm_buf_cap(b), cap);
    char *w = rtm_buf_extend(b, 5);
    ck_assert_ptr_eq(w, rtm_buf_data(b));
    memcpy(w, "abcde", 5);
    ck_assert_uint_eq(rtm_buf_len(b), 5);
    ck_assert_int_eq(memcmp(rtm_buf_data(b), "abcde", 5), 0);
    rtm_buf_destroy(b);
    st = stats_of(ctx);
    ck_assert_uint_eq(st.bufs_live, 0);
    ck_assert_uint_eq(st.buf_bytes, 0);
    ctx_end(ctx);
}
END_TEST

/* Every alignment from 32 up, through growth; smaller ones are raised. */
START_TEST(buf_alignments)
{
    rtm_ctx *ctx = ctx_over_tp(0, true);
    for (size_t align = 1; align <= RTM_BUF_MAX_ALIGN; align *= 2) {
        rtm_buf *b = rtm_buf_new(ctx, align);
        ck_assert_ptr_nonnull(b);
        size_t want = align < RTM_SIMD_ALIGN ? RTM_SIMD_ALIGN : align;
        ck_assert_uint_eq(rtm_buf_align(b), want);
        if (align >= 4096) {
            ck_assert_ptr_null(rtm_buf_data(b));
            ck_assert_uint_eq(rtm_buf_cap(b), 0);
        }
        for (size_t step = 1; step <= 100000; step *= 7) {
            ck_assert_int_eq(append_pattern(b, step), RTM_OK);
            ck_assert(aligned(rtm_buf_data(b), want));
        }
        ck_assert(pattern_intact(b));
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
        rtm_buf_destroy(b);
    }
    ctx_end(ctx);
}
END_TEST

/* Growth keeps the contents, and a big buffer grows by remapping: no new
 * range from the page source. */
START_TEST(buf_growth)
{
    rtm_ctx *ctx = ctx_over_tp(0, true);
    rtm_buf *b = rtm_buf_new(ctx, 64);
    size_t total = rtm_test_small() ? ((size_t)4 << 20) : ((size_t)32 << 20);
    ck_assert_int_eq(append_pattern(b, 8192), RTM_OK); /* off the inline area */
    long reserves = atomic_load(&tp.reserves);
    size_t caps = 0, last_cap = rtm_buf_cap(b);
    while (rtm_buf_len(b) < total) {
        ck_assert_int_eq(append_pattern(b, 100000), RTM_OK);
        if (rtm_buf_cap(b) != last_cap) {
            ck_assert_uint_ge(rtm_buf_cap(b), 2 * last_cap); /* at least doubling */
            last_cap = rtm_buf_cap(b);
            caps++;
        }
    }
    ck_assert_int_eq(atomic_load(&tp.reserves), reserves);
    ck_assert_uint_le(caps, 14);
    ck_assert(pattern_intact(b));
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.buf_bytes, 4096 + rtm_buf_cap(b));
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    /* reserve: exact, in pages; smaller does nothing. */
    size_t cap = rtm_buf_cap(b);
    ck_assert_int_eq(rtm_buf_reserve(b, 10), RTM_OK);
    ck_assert_uint_eq(rtm_buf_cap(b), cap);
    ck_assert_int_eq(rtm_buf_reserve(b, cap + 1), RTM_OK);
    ck_assert_uint_eq(rtm_buf_cap(b), cap + 4096);
    ck_assert(pattern_intact(b));
    rtm_buf_destroy(b);
    ctx_end(ctx);
}
END_TEST

/* Without remap in the page source, growth copies, and is still right. */
START_TEST(buf_growth_without_remap)
{
    rtm_ctx *ctx = ctx_over_tp(0, false);
    rtm_buf *b = rtm_buf_new(ctx, 128);
    for (int i = 0; i < 40; i++) ck_assert_int_eq(append_pattern(b, 50000), RTM_OK);
    ck_assert(pattern_intact(b));
    ck_assert(aligned(rtm_buf_data(b), 128));
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.buf_bytes, 4096 + rtm_buf_cap(b));
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_buf_destroy(b);
    ctx_end(ctx);
}
END_TEST

START_TEST(buf_resize_zero_fills)
{
    rtm_ctx *ctx = ctx_over_tp(0, true);
    rtm_buf *b = rtm_buf_new(ctx, 32);
    ck_assert_int_eq(rtm_buf_resize(b, 100), RTM_OK);
    unsigned char *d = rtm_buf_data(b);
    for (int i = 0; i < 100; i++) ck_assert_uint_eq(d[i], 0);
    memset(d, 0xEE, 100);
    ck_assert_int_eq(rtm_buf_resize(b, 10), RTM_OK); /* shrink keeps cap, keeps bytes */
    ck_assert_uint_eq(d[9], 0xEE);
    ck_assert_int_eq(rtm_buf_resize(b, 100), RTM_OK); /* the old bytes come back zeroed */
    for (int i = 10; i < 100; i++) ck_assert_uint_eq(d[i], 0);
    for (int i = 0; i < 10; i++) ck_assert_uint_eq(d[i], 0xEE);
    /* Across growth out of the inline area. */
    ck_assert_int_eq(rtm_buf_resize(b, 1 << 20), RTM_OK);
    d = rtm_buf_data(b);
    ck_assert(aligned(d, 32));
    for (int i = 0; i < 10; i++) ck_assert_uint_eq(d[i], 0xEE);
    for (size_t i = 10; i < (1u << 20); i++) ck_assert_uint_eq(d[i], 0);
    ck_assert_uint_eq(rtm_buf_cap(b), (size_t)1 << 20); /* resize grows exactly */
    ck_assert_int_eq(rtm_buf_resize(b, 0), RTM_OK);
    ck_assert_uint_eq(rtm_buf_len(b), 0);
    rtm_buf_destroy(b);
    ctx_end(ctx);
}
END_TEST

/* Appending from the buffer itself, when the append moves it. */
START_TEST(buf_append_self)
{
    rtm_ctx *ctx = ctx_over_tp(0, true);
    rtm_buf *b = rtm_buf_new(ctx, 32);
    ck_assert_int_eq(append_pattern(b, 3000), RTM_OK);
    for (int i = 0; i < 12; i++) {
        size_t len = rtm_buf_len(b);
        ck_assert_int_eq(rtm_buf_append(b, rtm_buf_data(b), len), RTM_OK);
        ck_assert_uint_eq(rtm_buf_len(b), 2 * len);
        const unsigned char *d = rtm_buf_data(b);
        ck_assert_int_eq(memcmp(d, d + len, len), 0);
    }
    for (size_t i = 0; i < 3000; i++) ck_assert_uint_eq(((unsigned char *)rtm_buf_data(b))[i], byte_at(i));
    rtm_buf_destroy(b);
    ctx_end(ctx);
}
END_TEST

/* Every bad input: the exact status, recorded, and the buffer unchanged. */
static void assert_buf_same(rtm_buf *b, size_t len, size_t cap, const void *data)
{
    ck_assert_uint_eq(rtm_buf_len(b), len);
    ck_assert_uint_eq(rtm_buf_cap(b), cap);
    ck_assert_ptr_eq(rtm_buf_data(b), data);
    ck_assert(pattern_intact(b));
}

START_TEST(buf_bad_input)
{
    rtm_ctx *ctx = ctx_over_tp(0, true);
    ck_assert_ptr_null(rtm_buf_new(NULL, 32));
    static const size_t bad_aligns[] = {3, 48, 100, RTM_BUF_MAX_ALIGN * 2, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad_aligns / sizeof bad_aligns[0]; i++) {
        rtm_ctx_clear_error(ctx);
        ck_assert_ptr_null(rtm_buf_new(ctx, bad_aligns[i]));
        ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    }
    rtm_buf *b = rtm_buf_new(ctx, 64);
    ck_assert_int_eq(append_pattern(b, 10000), RTM_OK);
    size_t len = rtm_buf_len(b), cap = rtm_buf_cap(b);
    void *data = rtm_buf_data(b);
    uint64_t errors = stats_of(ctx).errors;

    struct { rtm_status got; } cases[] = {
        {rtm_buf_reserve(b, RTM_MAX_ALLOC + 1)},
        {rtm_buf_reserve(b, SIZE_MAX)},
        {rtm_buf_resize(b, RTM_MAX_ALLOC + 1)},
        {rtm_buf_resize(b, SIZE_MAX)},
        {rtm_buf_append(b, NULL, 5)},
        {rtm_buf_append(b, "x", SIZE_MAX)},
        {rtm_buf_append(b, "x", RTM_MAX_ALLOC)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) ck_assert_int_eq(cases[i].got, RTM_EINVAL);
    ck_assert_ptr_null(rtm_buf_extend(b, 0));
    ck_assert_ptr_null(rtm_buf_extend(b, SIZE_MAX));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    ck_assert_uint_eq(stats_of(ctx).errors, errors + 9);
    assert_buf_same(b, len, cap, data);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);

    /* NULL buffer. */
    rtm_ctx_clear_error(ctx);
    ck_assert_int_eq(rtm_buf_reserve(NULL, 10), RTM_EINVAL);
    ck_assert_int_eq(rtm_buf_resize(NULL, 10), RTM_EINVAL);
    ck_assert_int_eq(rtm_buf_append(NULL, "x", 1), RTM_EINVAL);
    ck_assert_ptr_null(rtm_buf_extend(NULL, 1));
    ck_assert_ptr_null(rtm_buf_data(NULL));
    ck_assert_uint_eq(rtm_buf_len(NULL), 0);
    ck_assert_uint_eq(rtm_buf_cap(NULL), 0);
    ck_assert_uint_eq(rtm_buf_align(NULL), 0);
    rtm_buf_clear(NULL);
    rtm_buf_destroy(NULL);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);

    /* Still usable. */
    ck_assert_int_eq(append_pattern(b, 100), RTM_OK);
    ck_assert(pattern_intact(b));
    rtm_buf_destroy(b);
    ctx_end(ctx);
}
END_TEST

/* The page source refuses: ENOMEM, nothing lost; then it recovers. */
START_TEST(buf_out_of_memory)
{
    rtm_ctx *ctx = ctx_over_tp(0, true);
    rtm_buf *inl = rtm_buf_new(ctx, 32);
    rtm_buf *big = rtm_buf_new(ctx, 32);
    ck_assert_int_eq(append_pattern(inl, 1000), RTM_OK);
    ck_assert_int_eq(append_pattern(big, 50000), RTM_OK);
    size_t len_i = rtm_buf_len(inl), cap_i = rtm_buf_cap(inl), len_b = rtm_buf_len(big),
           cap_b = rtm_buf_cap(big);
    void *d_i = rtm_buf_data(inl), *d_b = rtm_buf_data(big);
    atomic_store(&tp.fail_all, true);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_buf_new(ctx, 32));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ENOMEM);
    /* Off the inline area: a new range, refused. */
    ck_assert_int_eq(append_pattern(inl, 10000), RTM_ENOMEM);
    ck_assert_int_eq(rtm_buf_resize(inl, 10000), RTM_ENOMEM);
    ck_assert_ptr_null(rtm_buf_extend(inl, 10000));
    assert_buf_same(inl, len_i, cap_i, d_i);
    /* Its own range: the remap is refused. */
    ck_assert_int_eq(rtm_buf_reserve(big, cap_b * 4), RTM_ENOMEM);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ENOMEM);
    assert_buf_same(big, len_b, cap_b, d_b);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    ck_assert_uint_eq(stats_of(ctx).page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    atomic_store(&tp.fail_all, false);
    ck_assert_int_eq(append_pattern(inl, 10000), RTM_OK);
    ck_assert_int_eq(rtm_buf_reserve(big, cap_b * 4), RTM_OK);
    ck_assert(pattern_intact(inl));
    ck_assert(pattern_intact(big));
    rtm_buf_destroy(inl);
    rtm_buf_destroy(big);
    ctx_end(ctx);
}
END_TEST

START_TEST(buf_limit)
{
    size_t limit = (size_t)1 << 20;
    rtm_ctx *ctx = ctx_over_tp(limit, true);
    rtm_buf *b = rtm_buf_new(ctx, 32);
    rtm_status s;
    while ((s = append_pattern(b, 7000)) == RTM_OK)
        ck_assert_uint_le(stats_of(ctx).page_bytes, limit);
    ck_assert_int_eq(s, RTM_ELIMIT);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    ck_assert_uint_le(stats_of(ctx).page_bytes, limit);
    ck_assert_uint_ge(rtm_buf_len(b), limit / 4);
    ck_assert(pattern_intact(b));
    ck_assert_int_eq(rtm_buf_resize(b, limit), RTM_ELIMIT);
    ck_assert(pattern_intact(b));
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_buf_destroy(b);
    ctx_end(ctx);
}
END_TEST

/* Fault injection on every k over buffer growth from new. */
START_TEST(buf_fault_injection_every_k)
{
    long total = 0;
    for (long k = 0; k == 0 || k <= total + 1; k++) {
        for (int from = 0; from < 2; from++) {
            rtm_test_pages_init(&tp, k, from);
            tp.source.remap = NULL; /* every growth then asks for a range */
            rtm_config cfg = {0, NULL, &tp.source, 0};
            rtm_ctx *ctx = rtm_ctx_new(&cfg);
            if (ctx == NULL) {
                ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
                continue;
            }
            int failures = 0;
            rtm_buf *bs[3] = {NULL, NULL, NULL};
            for (int i = 0; i < 3; i++) {
                bs[i] = rtm_buf_new(ctx, (size_t)32 << (i * 4));
                if (bs[i] == NULL) {
                    failures++;
                    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ENOMEM);
                    continue;
                }
                for (int j = 0; j < 8; j++) {
                    size_t len = rtm_buf_len(bs[i]);
                    rtm_status s = append_pattern(bs[i], 3000u << j);
                    if (s != RTM_OK) {
                        ck_assert_int_eq(s, RTM_ENOMEM);
                        ck_assert_uint_le(rtm_buf_len(bs[i]), len + (3000u << j));
                        failures++;
                    }
                    ck_assert(pattern_intact(bs[i]));
                    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
                }
            }
            ck_assert_int_eq(failures, atomic_load(&tp.refused));
            rtm_stats st = stats_of(ctx);
            ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
            if (k == 0) total = atomic_load(&tp.reserves);
            /* Recovered: buffers grow again; ctx_destroy ends them. */
            tp.fail_at = 0;
            for (int i = 0; i < 3; i++)
                if (bs[i] != NULL) ck_assert_int_eq(append_pattern(bs[i], 70000), RTM_OK);
            ctx_end(ctx);
        }
    }
    ck_assert_int_gt(total, 10);
}
END_TEST

static Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("buf");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, buf_basic);
    tcase_add_test(tc, buf_alignments);
    tcase_add_test(tc, buf_growth);
    tcase_add_test(tc, buf_growth_without_remap);
    tcase_add_test(tc, buf_resize_zero_fills);
    tcase_add_test(tc, buf_append_self);
    tcase_add_test(tc, buf_bad_input);
    tcase_add_test(tc, buf_out_of_memory);
    tcase_add_test(tc, buf_limit);
    tcase_add_test(tc, buf_fault_injection_every_k);
    suite_add_tcase(s, tc);
    return s;
}

RTM_TEST_MAIN(buf_suite)
