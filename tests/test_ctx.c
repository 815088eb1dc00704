/* test_ctx.c: the context, its page source, the limit, errors and stats. */
#include "support.h"

#include <stdio.h>

/* The bytes a context itself takes from its page source. */
static size_t ctx_bytes(void)
{
    rtm_ctx *ctx = rtm_ctx_new(NULL);
    ck_assert_ptr_nonnull(ctx);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    rtm_ctx_destroy(ctx);
    return (size_t)st.page_bytes;
}

START_TEST(ctx_new_defaults)
{
    rtm_ctx *ctx = rtm_ctx_new(NULL);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.size, sizeof st);
    ck_assert_uint_eq(st.version, RTM_STATS_VERSION);
    ck_assert_uint_gt(st.page_bytes, 0);
    ck_assert_uint_eq(st.limit_bytes, 0);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(ctx_destroy_null_is_noop)
{
    rtm_ctx_destroy(NULL);
    ck_assert_int_eq(rtm_ctx_error(NULL), RTM_EINVAL);
    ck_assert_int_eq(rtm_ctx_check(NULL), RTM_EINVAL);
    rtm_ctx_trim(NULL);
}
END_TEST

START_TEST(ctx_bad_config)
{
    rtm_page_source broken = {NULL, NULL, NULL, NULL, 0};
    rtm_config cfg = {0, NULL, &broken, 0};
    ck_assert_ptr_null(rtm_ctx_new(&cfg));
    rtm_config flags = {0, NULL, NULL, 0x80u};
    ck_assert_ptr_null(rtm_ctx_new(&flags));
    rtm_config tiny = {16, NULL, NULL, 0}; /* smaller than the context itself */
    ck_assert_ptr_null(rtm_ctx_new(&tiny));
}
END_TEST

/* Every reason rtm_ctx_new can fail for, told by rtm_ctx_new_ex; nothing
 * is left held from the page source after any of them. */
START_TEST(ctx_new_ex_says_why)
{
    rtm_ctx *ctx = (rtm_ctx *)&ctx; /* anything but NULL: it must be cleared */
    ck_assert_int_eq(rtm_ctx_new_ex(NULL, NULL), RTM_EINVAL);

    rtm_page_source broken = {NULL, NULL, NULL, NULL, 0};
    rtm_config bad_source = {0, NULL, &broken, 0};
    ck_assert_int_eq(rtm_ctx_new_ex(&bad_source, &ctx), RTM_EINVAL);
    ck_assert_ptr_null(ctx);
    rtm_config bad_flags = {0, NULL, NULL, 0x80u};
    ck_assert_int_eq(rtm_ctx_new_ex(&bad_flags, &ctx), RTM_EINVAL);
    rtm_config tiny = {16, NULL, NULL, 0};
    ck_assert_int_eq(rtm_ctx_new_ex(&tiny, &ctx), RTM_ELIMIT);
    ck_assert_ptr_null(ctx);

    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 1, false);
    rtm_config refused = {0, NULL, &tp.source, 0};
    ck_assert_int_eq(rtm_ctx_new_ex(&refused, &ctx), RTM_ENOMEM);
    ck_assert_ptr_null(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);

    /* an unknown keyword set: found once the context exists, which goes */
    const char *const klingon[] = {"lua", "klingon", NULL};
    rtm_test_pages_init(&tp, 0, false);
    rtm_config unknown = {0, klingon, &tp.source, 0};
    ck_assert_int_eq(rtm_ctx_new_ex(&unknown, &ctx), RTM_EINVAL);
    ck_assert_ptr_null(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);

    /* room for the context alone, not for its seeded interner */
    const char *const python[] = {"python", NULL};
    rtm_config no_room = {ctx_bytes(), python, &tp.source, 0};
    ck_assert_int_eq(rtm_ctx_new_ex(&no_room, &ctx), RTM_ELIMIT);
    ck_assert_ptr_null(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);

    /* and the same configurations, made valid, succeed */
    rtm_config fine = {0, python, &tp.source, RTM_CTX_DEBUG};
    ck_assert_int_eq(rtm_ctx_new_ex(&fine, &ctx), RTM_OK);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_uint_eq(rtm_intern(rtm_ctx_interner(ctx), "def", 3), RTM_KW_PYTHON_DEF);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    ck_assert_ptr_null(rtm_ctx_new(&unknown)); /* the plain call fails alike */
}
END_TEST

START_TEST(ctx_page_source_refuses_first_page)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 1, false);
    rtm_config cfg = {0, NULL, &tp.source, 0};
    ck_assert_ptr_null(rtm_ctx_new(&cfg));
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
}
END_TEST

START_TEST(ctx_uses_its_page_source_and_releases_all)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {0, NULL, &tp.source, RTM_CTX_DEBUG};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_gt(atomic_load(&tp.held_ranges), 0);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
}
END_TEST

/* Every part on pages full of junk (a source that does not promise zeroed
 * memory): nothing may take junk for a zeroed field. */
START_TEST(ctx_on_a_source_of_dirty_pages)
{
    for (unsigned flags = 0; flags <= RTM_CTX_DEBUG; flags += RTM_CTX_DEBUG) {
        rtm_test_pages tp;
        rtm_test_pages_dirty(&tp);
        rtm_config cfg = {0, NULL, &tp.source, flags};
        rtm_ctx *ctx = rtm_ctx_new(&cfg);
        ck_assert_ptr_nonnull(ctx);
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
        rtm_stats st;
        rtm_ctx_stats(ctx, &st);
        ck_assert_uint_eq(st.heap_bytes_in_use, 0);
        ck_assert_uint_eq(st.heap_allocs, 0);
        ck_assert_uint_eq(st.errors, 0);

        /* blocks of every class, many pages' worth, each checked */
        enum { N = 3000 };
        static unsigned char *blocks[N];
        for (size_t i = 0; i < N; i++) {
            size_t size = 1 + (i * 37) % 8192;
            blocks[i] = i % 3 ? rtm_alloc(ctx, size) : rtm_calloc(ctx, 1, size);
            ck_assert_ptr_nonnull(blocks[i]);
            if (i % 3 == 0) {
                size_t nonzero = 0;
                for (size_t k = 0; k < size; k++) nonzero += blocks[i][k] != 0;
                ck_assert_uint_eq(nonzero, 0);
            }
            memset(blocks[i], (int)(i & 0xFF), size);
        }
        unsigned char *big = rtm_calloc(ctx, 1, 1 << 20);
        ck_assert_ptr_nonnull(big);
        ck_assert_uint_eq(big[0] | big[12345] | big[(1 << 20) - 1], 0);
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
        for (size_t i = 0; i < N; i++) {
            size_t size = 1 + (i * 37) % 8192;
            ck_assert_uint_eq(blocks[i][size - 1], i & 0xFF);
            ck_assert_int_eq(rtm_free_checked(ctx, blocks[i], size), RTM_OK);
        }
        rtm_free(ctx, big, 1 << 20);

        rtm_arena *a = rtm_arena_new(ctx);
        ck_assert_ptr_nonnull(a);
        for (int i = 0; i < 5000; i++) ck_assert_ptr_nonnull(rtm_arena_alloc(a, 40, 8));
        rtm_buf *b = rtm_buf_new(ctx, 32);
        ck_assert_ptr_nonnull(b);
        ck_assert_int_eq(rtm_buf_append(b, "rtmem", 5), RTM_OK);
        ck_assert_uint_eq(rtm_buf_len(b), 5);
        rtm_type t = {"dirty", 24, 8, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
        rtm_pool *pool = rtm_pool_new(ctx, &t);
        ck_assert_ptr_nonnull(pool);
        rtm_handle h = rtm_pool_acquire(pool);
        ck_assert_ptr_nonnull(rtm_pool_get(pool, h));
        ck_assert_int_eq(rtm_pool_release(pool, h), RTM_OK);
        ck_assert_int_eq(rtm_pool_release(pool, h), RTM_ESTALE);
        rtm_interner *in = rtm_ctx_interner(ctx);
        ck_assert_ptr_nonnull(in);
        rtm_sym x = rtm_intern(in, "while", 5), y = rtm_intern(in, "dirty", 5);
        ck_assert_uint_ne(x, 0);
        ck_assert_uint_ne(y, 0);
        ck_assert_uint_eq(rtm_intern(in, "dirty", 5), y);

        rtm_ctx_clear_error(ctx);
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
        rtm_ctx_stats(ctx, &st);
        ck_assert_uint_eq(st.heap_bytes_in_use, 0);
        ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
        rtm_ctx_destroy(ctx);
        ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    }
}
END_TEST

START_TEST(status_strings)
{
    for (int s = 0; s < RTM_STATUS_COUNT; s++) {
        const char *str = rtm_status_str((rtm_status)s);
        ck_assert_ptr_nonnull(str);
        ck_assert_str_ne(str, "unknown status");
    }
    ck_assert_str_eq(rtm_status_str((rtm_status)99), "unknown status");
    ck_assert_str_eq(rtm_status_str(RTM_ENOMEM), "out of memory");
}
END_TEST

static int hook_calls;
static rtm_status hook_last;
static void error_hook(void *ud, rtm_status s, const char *where)
{
    (void)where;
    ck_assert_ptr_eq(ud, &hook_calls);
    hook_calls++;
    hook_last = s;
}

START_TEST(error_hook_and_clear)
{
    rtm_ctx *ctx = rtm_ctx_new(NULL);
    hook_calls = 0;
    rtm_ctx_set_error_hook(ctx, error_hook, &hook_calls);
    ck_assert_int_eq(rtm_ctx_visit(ctx, NULL, NULL), RTM_EINVAL);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert_int_eq(hook_last, RTM_EINVAL);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.errors, 1);
    rtm_ctx_clear_error(ctx);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(stats_older_caller_gets_a_prefix)
{
    rtm_ctx *ctx = rtm_ctx_new(NULL);
    /* A caller built against a header whose struct ended after page_bytes. */
    unsigned char buf[sizeof(rtm_stats)];
    memset(buf, 0xAB, sizeof buf);
    size_t old_size = offsetof(rtm_stats, page_bytes) + sizeof(uint64_t);
    rtm_ctx_stats_sized(ctx, (rtm_stats *)(void *)buf, old_size);
    rtm_stats got;
    memcpy(&got, buf, sizeof got);
    ck_assert_uint_eq(got.size, old_size);
    ck_assert_uint_gt(got.page_bytes, 0);
    for (size_t i = old_size; i < sizeof buf; i++) ck_assert_uint_eq(buf[i], 0xAB);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(stats_write_formats)
{
    rtm_ctx *ctx = rtm_ctx_new(NULL);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(rtm_stats_write(ctx, f, RTM_STATS_JSON), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "\"page_bytes\": "));
    ck_assert_int_eq(text[0], '{');
    free(text);
    f = open_memstream(&text, &len);
    ck_assert_int_eq(rtm_stats_write(ctx, f, RTM_STATS_PROMETHEUS), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "# TYPE rtmem_page_bytes gauge\nrtmem_page_bytes "));
    free(text);
    ck_assert_int_eq(rtm_stats_write(ctx, NULL, RTM_STATS_JSON), -1);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    ck_assert_int_eq(rtm_stats_write(ctx, stdout, (rtm_stats_format)42), -1);
    rtm_ctx_destroy(ctx);
}
END_TEST

static Suite *ctx_suite(void)
{
    Suite *s = suite_create("ctx");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ctx_new_defaults);
    tcase_add_test(tc, ctx_destroy_null_is_noop);
    tcase_add_test(tc, ctx_bad_config);
    tcase_add_test(tc, ctx_new_ex_says_why);
    tcase_add_test(tc, ctx_page_source_refuses_first_page);
    tcase_add_test(tc, ctx_uses_its_page_source_and_releases_all);
    tcase_add_test(tc, ctx_on_a_source_of_dirty_pages);
    tcase_add_test(tc, status_strings);
    tcase_add_test(tc, error_hook_and_clear);
    tcase_add_test(tc, stats_older_caller_gets_a_prefix);
    tcase_add_test(tc, stats_write_formats);
    suite_add_tcase(s, tc);
    return s;
}

RTM_TEST_MAIN(ctx_suite)
