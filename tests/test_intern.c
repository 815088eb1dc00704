/* test_intern.c: the interner: identity, bytes of every shape, growth, bad
 * input, the id space, fault injection and the limit. The keyword sets are
 * tested in test_intern_keywords.c, threads in test_intern_mt.c. */
#include "support.h"

#include "../runtime/intern/intern.h" /* _rtm_interner_set_max_sym */

#include <stdio.h>

/* ---- helpers --------------------------------------------------------------------- */

/* An assertion for hot loops: ck_assert records its place on every call (a
 * write in CK_FORK=no mode), this one only when it fails. */
#define CHK(x) do { if (!(x)) ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); } while (0)

static rtm_ctx *ctx_with(const char *const *kw, const rtm_page_source *ps, size_t limit)
{
    rtm_config cfg = {limit, kw, ps, RTM_CTX_DEBUG};
    return rtm_ctx_new(&cfg);
}

/* "w<i>" with a length that varies with i, so records cross both header
 * sizes and chunk boundaries. */
static size_t test_word(char *buf, size_t cap, unsigned i)
{
    int n = snprintf(buf, cap, "w%u_%.*s", i, (int)(i % 23), "abcdefghijklmnopqrstuvwxyz");
    return (size_t)n;
}

static void assert_sym_is(rtm_interner *in, rtm_sym sym, const char *s, size_t len)
{
    size_t n = 99;
    const char *p = rtm_sym_str(in, sym, &n);
    CHK(p != NULL);
    CHK(n == len);
    CHK(memcmp(p, s, len) == 0);
    CHK(p[len] == '\0');
}

/* ---- identity ---------------------------------------------------------------------- */

START_TEST(identity_and_density)
{
    rtm_ctx *ctx = ctx_with(NULL, NULL, 0);
    rtm_interner *in = rtm_ctx_interner(ctx);
    ck_assert_ptr_nonnull(in);
    rtm_sym a = rtm_intern(in, "alpha", 5);
    rtm_sym b = rtm_intern(in, "beta", 4);
    rtm_sym c = rtm_intern(in, "alphabet", 8);
    /* Ordinary strings start right after the reserved keyword range, densely. */
    ck_assert_uint_eq(a, RTM_KW_COUNT + 1);
    ck_assert_uint_eq(b, RTM_KW_COUNT + 2);
    ck_assert_uint_eq(c, RTM_KW_COUNT + 3);
    ck_assert_uint_eq(rtm_intern(in, "alpha", 5), a);
    ck_assert_uint_eq(rtm_intern(in, "alphabet", 5), a); /* a slice of a longer buffer */
    ck_assert_uint_eq(rtm_intern_find(in, "beta", 4), b);
    ck_assert_uint_eq(rtm_intern_find(in, "gamma", 5), 0);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK); /* a miss is not an error */
    ck_assert_uint_eq(rtm_intern(in, "gamma", 5), RTM_KW_COUNT + 4);
    assert_sym_is(in, a, "alpha", 5);
    assert_sym_is(in, c, "alphabet", 8);
    ck_assert_ptr_eq(rtm_sym_str(in, a, NULL), rtm_sym_str(in, a, NULL));
    ck_assert(!rtm_sym_is_keyword(in, a));
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(empty_string)
{
    rtm_ctx *ctx = ctx_with(NULL, NULL, 0);
    rtm_interner *in = rtm_ctx_interner(ctx);
    rtm_sym e = rtm_intern(in, NULL, 0);
    ck_assert_uint_ne(e, 0);
    ck_assert_uint_eq(rtm_intern(in, "", 0), e);
    ck_assert_uint_eq(rtm_intern(in, "xyz", 0), e);
    ck_assert_uint_eq(rtm_intern_find(in, NULL, 0), e);
    size_t n = 7;
    const char *p = rtm_sym_str(in, e, &n);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(p[0], '\0');
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(embedded_nuls)
{
    rtm_ctx *ctx = ctx_with(NULL, NULL, 0);
    rtm_interner *in = rtm_ctx_interner(ctx);
    rtm_sym a = rtm_intern(in, "a\0b", 3);
    rtm_sym b = rtm_intern(in, "a\0c", 3);
    rtm_sym c = rtm_intern(in, "a", 1);
    rtm_sym d = rtm_intern(in, "a\0", 2);
    rtm_sym z = rtm_intern(in, "\0\0\0\0\0\0\0\0\0", 9);
    ck_assert_uint_ne(a, b);
    ck_assert_uint_ne(a, c);
    ck_assert_uint_ne(c, d);
    ck_assert_uint_ne(z, 0);
    ck_assert_uint_eq(rtm_intern(in, "a\0b", 3), a);
    ck_assert_uint_eq(rtm_intern_find(in, "\0\0\0\0\0\0\0\0\0", 9), z);
    ck_assert_uint_eq(rtm_intern_find(in, "\0\0\0\0\0\0\0\0", 8), 0);
    assert_sym_is(in, a, "a\0b", 3);
    assert_sym_is(in, d, "a\0", 2);
    assert_sym_is(in, z, "\0\0\0\0\0\0\0\0\0", 9);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(long_strings)
{
    rtm_ctx *ctx = ctx_with(NULL, NULL, 0);
    rtm_interner *in = rtm_ctx_interner(ctx);
    /* Around the long-header switch (255), a chunk's own size and the
     * own-chunk threshold, and far beyond. */
    static const size_t lens[] = {254, 255, 256, 4000, 4096, 16370, 16384, 16400, 65536,
                                  100000, 1u << 20};
    enum { N = sizeof lens / sizeof lens[0] };
    char *buf = malloc(lens[N - 1] + 1);
    ck_assert_ptr_nonnull(buf);
    uint64_t seed = 7;
    for (size_t i = 0; i < lens[N - 1]; i++) buf[i] = (char)rtm_test_rand(&seed); /* NULs too */
    rtm_sym ids[N];
    for (size_t i = 0; i < N; i++) {
        ids[i] = rtm_intern(in, buf, lens[i]); /* prefixes of one buffer */
        ck_assert_uint_ne(ids[i], 0);
        for (size_t j = 0; j < i; j++) ck_assert_uint_ne(ids[i], ids[j]);
    }
    for (size_t i = 0; i < N; i++) {
        ck_assert_uint_eq(rtm_intern(in, buf, lens[i]), ids[i]);
        ck_assert_uint_eq(rtm_intern_find(in, buf, lens[i]), ids[i]);
        assert_sym_is(in, ids[i], buf, lens[i]);
    }
    buf[lens[N - 1] - 1] ^= 1; /* one bit at the very end */
    ck_assert_uint_eq(rtm_intern_find(in, buf, lens[N - 1]), 0);
    ck_assert_uint_ne(rtm_intern(in, buf, lens[N - 1]), ids[N - 1]);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    free(buf);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* Many splits and directory growths; every id and pointer stays put. */
START_TEST(growth_through_many_splits)
{
    unsigned n = rtm_test_small() ? 20000 : 200000;
    rtm_ctx *ctx = ctx_with((const char *const[]){"python", NULL}, NULL, 0);
    rtm_interner *in = rtm_ctx_interner(ctx);
    rtm_sym *ids = malloc(n * sizeof *ids);
    ck_assert_ptr_nonnull(ids);
    char buf[64];
    rtm_sym first = rtm_intern(in, "first", 5);
    const char *first_str = rtm_sym_str(in, first, NULL);
    for (unsigned i = 0; i < n; i++) {
        size_t len = test_word(buf, sizeof buf, i);
        ids[i] = rtm_intern(in, buf, len);
        CHK(ids[i] == first + 1 + i); /* dense */
    }
    for (unsigned i = 0; i < n; i++) {
        size_t len = test_word(buf, sizeof buf, i);
        CHK(rtm_intern_find(in, buf, len) == ids[i]);
        assert_sym_is(in, ids[i], buf, len);
    }
    ck_assert_ptr_eq(rtm_sym_str(in, first, NULL), first_str);
    ck_assert_str_eq(first_str, "first");
    ck_assert_uint_eq(rtm_intern(in, "def", 3), RTM_KW_PYTHON_DEF);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.intern_strings, 38 + 1 + n);
    rtm_ctx_destroy(ctx);
    free(ids);
}
END_TEST

/* ---- bad input ---------------------------------------------------------------------- */

static int hook_calls;
static rtm_status hook_status;
static const char *hook_where;
static void on_error(void *ud, rtm_status s, const char *where)
{
    (void)ud;
    hook_calls++;
    hook_status = s;
    hook_where = where;
}

START_TEST(bad_input)
{
    rtm_ctx *ctx = ctx_with((const char *const[]){"c", NULL}, NULL, 0);
    rtm_interner *in = rtm_ctx_interner(ctx);
    rtm_ctx_set_error_hook(ctx, on_error, NULL);
    rtm_sym a = rtm_intern(in, "a", 1);
    ck_assert_uint_eq(rtm_intern(in, NULL, 1), 0);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    ck_assert_int_eq(rtm_interner_error(in), RTM_EINVAL);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert_str_eq(hook_where, "rtm_intern");
    rtm_interner_clear_error(in);
    rtm_ctx_clear_error(ctx);
    ck_assert_uint_eq(rtm_intern(in, "abc", RTM_INTERN_MAX_LEN + 1), 0);
    ck_assert_int_eq(rtm_interner_error(in), RTM_EINVAL);
    ck_assert_uint_eq(rtm_intern(in, "abc", SIZE_MAX), 0);
    ck_assert_uint_eq(rtm_intern_find(in, NULL, 3), 0);
    ck_assert_int_eq(hook_status, RTM_EINVAL);
    ck_assert_str_eq(hook_where, "rtm_intern_find");
    rtm_sym out = 99;
    ck_assert_int_eq(rtm_intern_ex(in, NULL, 2, &out), RTM_EINVAL);
    ck_assert_uint_eq(out, 0);
    ck_assert_int_eq(rtm_intern_ex(in, "a", 1, NULL), RTM_EINVAL);
    ck_assert_int_eq(rtm_intern_ex(in, "a", 1, &out), RTM_OK);
    ck_assert_uint_eq(out, a);
    /* Symbols that are not this interner's. */
    size_t len = 5;
    rtm_interner_clear_error(in);
    ck_assert_ptr_null(rtm_sym_str(in, 0, &len));
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(rtm_interner_error(in), RTM_EINVAL);
    ck_assert_ptr_null(rtm_sym_str(in, a + 1, NULL));
    ck_assert_ptr_null(rtm_sym_str(in, RTM_SYM_MAX, NULL));
    ck_assert_ptr_null(rtm_sym_str(in, 0xFFFFFFFFu, NULL));
    ck_assert_ptr_null(rtm_sym_str(in, RTM_KW_PYTHON_DEF, NULL)); /* not seeded here */
    ck_assert(!rtm_sym_is_keyword(in, 0));
    ck_assert(!rtm_sym_is_keyword(in, 0xFFFFFFFFu));
    /* A NULL interner: nothing to record on, nothing crashes. */
    ck_assert_uint_eq(rtm_intern(NULL, "a", 1), 0);
    ck_assert_int_eq(rtm_intern_ex(NULL, "a", 1, &out), RTM_EINVAL);
    ck_assert_uint_eq(rtm_intern_find(NULL, "a", 1), 0);
    ck_assert_ptr_null(rtm_sym_str(NULL, a, &len));
    ck_assert(!rtm_sym_is_keyword(NULL, a));
    ck_assert_int_eq(rtm_interner_error(NULL), RTM_EINVAL);
    rtm_interner_clear_error(NULL);
    rtm_interner_destroy(NULL);
    ck_assert_ptr_null(rtm_ctx_interner(NULL));
    /* The context's own interner cannot be destroyed by hand. */
    rtm_interner_destroy(in);
    ck_assert_int_eq(rtm_interner_error(in), RTM_EINVAL);
    ck_assert_uint_eq(rtm_intern(in, "a", 1), a);
    /* Nothing changed by any of it. */
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.intern_strings, 59 + 1);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* The id space, lowered so a test can use it up: the last id is handed out,
 * then every new string fails with RTM_ELIMIT; nothing aliases or wraps. */
START_TEST(id_space_used_up)
{
    rtm_ctx *ctx = ctx_with((const char *const[]){"lua", NULL}, NULL, 0);
    rtm_interner *in = rtm_ctx_interner(ctx);
    rtm_sym first = rtm_intern(in, "first", 5);
    ck_assert_int_eq(_rtm_interner_set_max_sym(in, first - 1), RTM_EINVAL); /* below an id out */
    ck_assert_int_eq(_rtm_interner_set_max_sym(in, first + 100), RTM_OK);
    char buf[32];
    rtm_sym ids[100];
    for (unsigned i = 0; i < 100; i++) {
        ids[i] = rtm_intern(in, buf, test_word(buf, sizeof buf, i));
        ck_assert_uint_eq(ids[i], first + 1 + i);
    }
    for (unsigned i = 100; i < 110; i++) {
        size_t len = test_word(buf, sizeof buf, i);
        rtm_sym out = 1;
        ck_assert_int_eq(rtm_intern_ex(in, buf, len, &out), RTM_ELIMIT);
        ck_assert_uint_eq(out, 0);
        ck_assert_uint_eq(rtm_intern(in, buf, len), 0);
        ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
        ck_assert_uint_eq(rtm_intern_find(in, buf, len), 0);
    }
    /* Present strings are still found, keywords too. */
    for (unsigned i = 0; i < 100; i++) {
        size_t len = test_word(buf, sizeof buf, i);
        ck_assert_uint_eq(rtm_intern(in, buf, len), ids[i]);
        assert_sym_is(in, ids[i], buf, len);
    }
    ck_assert_uint_eq(rtm_intern(in, "local", 5), RTM_KW_LUA_LOCAL);
    ck_assert_ptr_null(rtm_sym_str(in, first + 101, NULL));
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    /* Raising the ceiling again continues right after the last id. */
    ck_assert_int_eq(_rtm_interner_set_max_sym(in, RTM_SYM_MAX), RTM_OK);
    ck_assert_uint_eq(rtm_intern(in, buf, test_word(buf, sizeof buf, 100)), first + 101);
    ck_assert_int_eq(_rtm_interner_set_max_sym(in, 0xFFFFFFFFu), RTM_EINVAL);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* The string offsets, lowered the same way: when no chunk can be added, new
 * strings fail with RTM_ELIMIT (never a wrapped offset), short ones keep
 * filling the current chunk, and everything held stays whole. */
START_TEST(string_space_used_up)
{
    rtm_ctx *ctx = ctx_with(NULL, NULL, 0);
    rtm_interner *in = rtm_ctx_interner(ctx);
    rtm_sym small = rtm_intern(in, "small", 5); /* the first chunk */
    ck_assert_int_eq(_rtm_interner_set_max_chunks(in, 0), RTM_EINVAL);
    ck_assert_int_eq(_rtm_interner_set_max_chunks(in, 4), RTM_OK); /* index 0 unused: 2 more */
    static char big[40000];
    rtm_sym ids[2];
    for (int i = 0; i < 2; i++) {
        memset(big, 'a' + i, sizeof big); /* each in a chunk of its own */
        ids[i] = rtm_intern(in, big, sizeof big);
        ck_assert_uint_ne(ids[i], 0);
    }
    memset(big, 'z', sizeof big);
    ck_assert_uint_eq(rtm_intern(in, big, sizeof big), 0);
    ck_assert_int_eq(rtm_interner_error(in), RTM_ELIMIT);
    ck_assert_uint_eq(rtm_intern_find(in, big, sizeof big), 0);
    rtm_sym tiny = rtm_intern(in, "tiny", 4); /* fits in the current chunk */
    ck_assert_uint_eq(tiny, ids[1] + 1);
    memset(big, 'a', sizeof big);
    ck_assert_uint_eq(rtm_intern(in, big, sizeof big), ids[0]);
    assert_sym_is(in, ids[0], big, sizeof big);
    assert_sym_is(in, small, "small", 5);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* ---- memory: fault injection and the limit ---------------------------------------------- */

enum { FAULT_WORDS = 3000 };

/* The workload: words of many lengths (some long), so leaves split, the
 * directory grows, chunks and id-map segments are added, a long string gets
 * a chunk of its own. */
static size_t fault_word(char *buf, size_t cap, unsigned i)
{
    if (i % 500 == 499) { /* a long one */
        size_t len = 20000 + i;
        ck_assert_uint_lt(len, cap);
        memset(buf, 'a' + (int)(i % 26), len);
        snprintf(buf, 16, "%u", i);
        return len;
    }
    return test_word(buf, cap, i);
}

/* Runs the workload on a context whose page source refuses its k-th request
 * (or every request from the k-th on). Returns the page requests made. */
static long fault_run(long k, bool from)
{
    static char buf[40000];
    static rtm_sym ids[FAULT_WORDS];
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, k, from);
    rtm_ctx *ctx = ctx_with((const char *const[]){"python", "javascript", NULL}, &tp.source, 0);
    if (ctx == NULL) { /* the context itself, or seeding the keywords */
        ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
        return atomic_load(&tp.reserves);
    }
    rtm_interner *in = rtm_ctx_interner(ctx);
    ck_assert_uint_eq(rtm_intern_find(in, "def", 3), RTM_KW_PYTHON_DEF);
    rtm_sym next = RTM_KW_COUNT + 1;
    bool failed = false;
    for (unsigned i = 0; i < FAULT_WORDS; i++) {
        size_t len = fault_word(buf, sizeof buf, i);
        rtm_sym s = rtm_intern(in, buf, len);
        if (s == 0) {
            /* Refused, and nothing half done: not findable, every earlier id
             * intact, the context consistent. */
            CHK(rtm_ctx_error(ctx) == RTM_ENOMEM);
            CHK(rtm_interner_error(in) == RTM_ENOMEM);
            CHK(rtm_intern_find(in, buf, len) == 0);
            if (!failed) { /* the first time: all of it, once */
                ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
                for (unsigned j = 0; j < i; j++) {
                    if (ids[j] == 0) continue;
                    size_t lj = fault_word(buf, sizeof buf, j);
                    CHK(rtm_intern_find(in, buf, lj) == ids[j]);
                    assert_sym_is(in, ids[j], buf, lj);
                }
                len = fault_word(buf, sizeof buf, i);
            }
            failed = true;
            rtm_ctx_clear_error(ctx);
            s = rtm_intern(in, buf, len); /* once more: fine if the fault was one-shot */
            if (from)
                CHK(s == 0 && rtm_ctx_error(ctx) == RTM_ENOMEM);
            else
                CHK(s != 0);
        }
        ids[i] = s;
        if (s != 0) CHK(s == next++); /* no id lost to a failure */
    }
    if (k > 0 && !from) ck_assert(failed || k > atomic_load(&tp.reserves));
    for (unsigned i = 0; i < FAULT_WORDS; i++) {
        size_t len = fault_word(buf, sizeof buf, i);
        CHK(rtm_intern_find(in, buf, len) == ids[i]);
        if (ids[i]) assert_sym_is(in, ids[i], buf, len);
    }
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    long reserves = atomic_load(&tp.reserves);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
    return reserves;
}

START_TEST(fault_injection_every_k)
{
    long total = fault_run(0, false);
    ck_assert_int_gt(total, 10);
    for (long k = 1; k <= total + 1; k++) fault_run(k, false);
    long step = rtm_test_small() ? 5 : 1;
    for (long k = 1; k <= total + 1; k += step) fault_run(k, true);
}
END_TEST

/* A context limit: interning stops with RTM_ELIMIT inside it, and the
 * interner stays whole and usable for what it holds. */
START_TEST(context_limit)
{
    size_t limit = 256 * 1024;
    rtm_ctx *ctx = ctx_with((const char *const[]){"rust", NULL}, NULL, limit);
    ck_assert_ptr_nonnull(ctx);
    rtm_interner *in = rtm_ctx_interner(ctx);
    char buf[64];
    unsigned n = 0;
    rtm_sym s;
    while ((s = rtm_intern(in, buf, test_word(buf, sizeof buf, n))) != 0) {
        CHK(s == RTM_KW_COUNT + 1 + n);
        n++;
        CHK(n < 1000000);
    }
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    ck_assert_int_eq(rtm_interner_error(in), RTM_ELIMIT);
    ck_assert_uint_gt(n, 1000);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_le(st.page_bytes, limit);
    ck_assert_uint_ge(st.limit_hits, 1);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    for (unsigned i = 0; i < n; i++) {
        size_t len = test_word(buf, sizeof buf, i);
        CHK(rtm_intern(in, buf, len) == RTM_KW_COUNT + 1 + i);
    }
    ck_assert_uint_eq(rtm_intern_find(in, buf, test_word(buf, sizeof buf, n)), 0);
    ck_assert_uint_eq(rtm_intern(in, "fn", 2), RTM_KW_RUST_FN);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* ---- standalone, stats, release ------------------------------------------------------ */

START_TEST(standalone_interner)
{
    rtm_interner *in = rtm_interner_new((const char *const[]){"javascript", NULL});
    ck_assert_ptr_nonnull(in);
    ck_assert_uint_eq(rtm_intern(in, "function", 8), RTM_KW_JAVASCRIPT_FUNCTION);
    ck_assert(rtm_sym_is_keyword(in, RTM_KW_JAVASCRIPT_FUNCTION));
    rtm_sym x = rtm_intern(in, "x", 1);
    ck_assert_uint_eq(x, RTM_KW_COUNT + 1);
    ck_assert_uint_eq(rtm_intern(in, NULL, 4), 0);
    ck_assert_int_eq(rtm_interner_error(in), RTM_EINVAL);
    rtm_stats st;
    rtm_interner_stats(in, &st);
    ck_assert_uint_eq(st.size, sizeof st);
    ck_assert_uint_eq(st.intern_strings, 46 + 1);
    ck_assert_uint_gt(st.intern_table_bytes, 0);
    ck_assert_uint_eq(st.page_bytes, 0); /* only the intern_* fields */
    rtm_interner_destroy(in);
    rtm_interner *none = rtm_interner_new(NULL);
    ck_assert_ptr_nonnull(none);
    ck_assert_uint_eq(rtm_intern(none, "function", 8), RTM_KW_COUNT + 1);
    rtm_interner_destroy(none);
}
END_TEST

/* A context without keyword sets makes its interner on first use: until
 * then it holds nothing for it; a refused first use can be retried. */
START_TEST(ctx_interner_made_on_first_use)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_ctx *ctx = ctx_with(NULL, &tp.source, 0);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    uint64_t before = st.page_bytes;
    tp.fail_at = atomic_load(&tp.reserves) + 1; /* the interner's page */
    ck_assert_ptr_null(rtm_ctx_interner(ctx));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ENOMEM);
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.page_bytes, before);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_interner *in = rtm_ctx_interner(ctx);
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_eq(rtm_ctx_interner(ctx), in);
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.page_bytes, before + 4096); /* one page, until strings come */
    ck_assert_uint_eq(rtm_intern(in, "x", 1), RTM_KW_COUNT + 1);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    /* Asked for keywords: made with the context, whose first page request
     * after its own is the interner's. */
    rtm_test_pages_init(&tp, 0, false);
    ctx = ctx_with((const char *const[]){"lua", NULL}, &tp.source, 0);
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.intern_strings, 22);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(stats_count_lookups)
{
    rtm_ctx *ctx = ctx_with(NULL, NULL, 0);
    rtm_interner *in = rtm_ctx_interner(ctx);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.intern_strings, 0);
    ck_assert_uint_eq(st.intern_lookups, 0);
    rtm_intern(in, "abc", 3);      /* miss, inserted */
    rtm_intern(in, "abc", 3);      /* hit: saves 4 bytes */
    rtm_intern(in, "abc", 3);      /* hit */
    rtm_intern(in, "de\0f", 4);    /* miss */
    rtm_intern_find(in, "de\0f", 4); /* hit, saves nothing */
    rtm_intern_find(in, "zz", 2);  /* miss */
    rtm_intern(in, NULL, 9);       /* not a lookup */
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.intern_strings, 2);
    ck_assert_uint_eq(st.intern_string_bytes, 4 + 5);
    ck_assert_uint_eq(st.intern_lookups, 6);
    ck_assert_uint_eq(st.intern_hits, 3);
    ck_assert_uint_eq(st.intern_bytes_saved, 8);
    ck_assert_uint_gt(st.intern_table_bytes, 4096);
    ck_assert_uint_le(st.intern_table_bytes + st.intern_string_bytes, st.page_bytes);
    rtm_stats st2;
    rtm_interner_stats(in, &st2);
    ck_assert_uint_eq(st2.intern_lookups, 6);
    ck_assert_uint_eq(st2.intern_table_bytes, st.intern_table_bytes);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    ck_assert_int_eq(rtm_stats_write(ctx, f, RTM_STATS_JSON), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "\"intern_lookups\": 6"));
    ck_assert_ptr_nonnull(strstr(text, "\"intern_bytes_saved\": 8"));
    free(text);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(destroy_releases_everything)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_ctx *ctx = ctx_with((const char *const[]){"c", "lua", NULL}, &tp.source, 0);
    rtm_interner *in = rtm_ctx_interner(ctx);
    char buf[64];
    for (unsigned i = 0; i < 5000; i++) CHK(rtm_intern(in, buf, test_word(buf, sizeof buf, i)) != 0);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    ck_assert_int_gt(atomic_load(&tp.held_ranges), 5);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
}
END_TEST

static Suite *intern_suite(void)
{
    Suite *s = suite_create("intern");
    TCase *core = tcase_create("core");
    tcase_add_test(core, identity_and_density);
    tcase_add_test(core, empty_string);
    tcase_add_test(core, embedded_nuls);
    tcase_add_test(core, long_strings);
    tcase_add_test(core, growth_through_many_splits);
    tcase_add_test(core, bad_input);
    tcase_add_test(core, standalone_interner);
    tcase_add_test(core, stats_count_lookups);
    tcase_add_test(core, ctx_interner_made_on_first_use);
    suite_add_tcase(s, core);
    TCase *mem = tcase_create("memory");
    tcase_set_timeout(mem, 300);
    tcase_add_test(mem, id_space_used_up);
    tcase_add_test(mem, string_space_used_up);
    tcase_add_test(mem, fault_injection_every_k);
    tcase_add_test(mem, context_limit);
    tcase_add_test(mem, destroy_releases_everything);
    suite_add_tcase(s, mem);
    return s;
}

RTM_TEST_MAIN(intern_suite)
