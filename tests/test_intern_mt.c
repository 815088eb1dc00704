/* test_intern_mt.c: the interner under threads. Overlapping streams must
 * agree on one id per string, every id must name its string, lookups of
 * present strings must never miss while other threads grow the table, and
 * the id space and the limit must hold under contention. Runs under TSan in
 * the concurrent stage. */
#include "support.h"

#include "../runtime/intern/intern.h" /* _rtm_interner_set_max_sym */

#include <pthread.h>
#include <stdio.h>

#define CHK(x) do { if (!(x)) ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); } while (0)

#if defined(__SANITIZE_THREAD__)
#  define UNDER_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define UNDER_TSAN 1
#  endif
#endif

static unsigned scale(unsigned n)
{
#ifdef UNDER_TSAN
    n /= 4;
#endif
    return rtm_test_small() ? n / 4 : n;
}

enum { THREADS = 4 };

/* Word i: varied lengths, a few long, some with NULs inside. */
static size_t word(char *buf, size_t cap, unsigned i)
{
    int n = snprintf(buf, cap, "v%u.%.*s", i, (int)(i % 19), "0123456789abcdefghijklmnop");
    if (i % 97 == 0) buf[1] = '\0'; /* "v\0..." */
    if (i % 1009 == 0) {            /* a long one */
        memset(buf + n, 'L', 300);
        n += 300;
    }
    CHK((size_t)n < cap);
    return (size_t)n;
}

/* ---- overlapping streams -------------------------------------------------------- */

typedef struct stream_arg {
    rtm_interner *in;
    pthread_barrier_t *go;
    unsigned universe, first, count, seed;
    rtm_sym *ids; /* by word index, 0: not seen by this thread */
} stream_arg;

static void *stream_run(void *p)
{
    stream_arg *a = p;
    char buf[512];
    uint64_t rng = a->seed;
    pthread_barrier_wait(a->go);
    /* Each word of its range twice, in a random order. */
    for (unsigned k = 0; k < 2 * a->count; k++) {
        unsigned i = (a->first + (unsigned)(rtm_test_rand(&rng) % a->count)) % a->universe;
        size_t len = word(buf, sizeof buf, i);
        rtm_sym s;
        CHK(rtm_intern_ex(a->in, buf, len, &s) == RTM_OK);
        CHK(s > RTM_KW_COUNT);
        CHK(a->ids[i] == 0 || a->ids[i] == s); /* stable within a thread */
        a->ids[i] = s;
        if (k % 7 == 0) CHK(rtm_intern_find(a->in, buf, len) == s);
    }
    return NULL;
}

START_TEST(overlapping_streams_agree)
{
    unsigned universe = scale(40000);
    rtm_config cfg = {0, (const char *const[]){"python", NULL}, NULL, 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    rtm_interner *in = rtm_ctx_interner(ctx);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, THREADS);
    stream_arg args[THREADS];
    pthread_t th[THREADS];
    for (unsigned t = 0; t < THREADS; t++) {
        /* Ranges of half the universe, shifted by an eighth: every word is in
         * two to four threads' streams, and the union is everything. */
        args[t] = (stream_arg){in, &go, universe, t * universe / 4, universe / 2 + universe / 8,
                               101 + t, calloc(universe, sizeof(rtm_sym))};
        ck_assert_ptr_nonnull(args[t].ids);
        ck_assert_int_eq(pthread_create(&th[t], NULL, stream_run, &args[t]), 0);
    }
    for (unsigned t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&go);

    /* One id per string, across threads. */
    rtm_sym *id = calloc(universe, sizeof(rtm_sym));
    unsigned distinct = 0;
    for (unsigned i = 0; i < universe; i++) {
        for (unsigned t = 0; t < THREADS; t++) {
            rtm_sym s = args[t].ids[i];
            if (s == 0) continue;
            if (id[i] == 0) {
                id[i] = s;
                distinct++;
            }
            CHK(id[i] == s);
        }
    }
    /* Distinct strings, distinct ids, exactly the dense range after the
     * keywords; and every id names its string. */
    unsigned char *used = calloc(distinct + 1, 1);
    char buf[512];
    for (unsigned i = 0; i < universe; i++) {
        if (id[i] == 0) continue;
        CHK(id[i] > RTM_KW_COUNT && id[i] <= RTM_KW_COUNT + distinct);
        CHK(!used[id[i] - RTM_KW_COUNT]);
        used[id[i] - RTM_KW_COUNT] = 1;
        size_t len = word(buf, sizeof buf, i), n;
        const char *p = rtm_sym_str(in, id[i], &n);
        CHK(p != NULL && n == len && memcmp(p, buf, len) == 0 && p[len] == '\0');
        CHK(rtm_intern_find(in, buf, len) == id[i]);
    }
    ck_assert_uint_gt(distinct, universe * 9 / 10);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.intern_strings, 38 + distinct);
    ck_assert_uint_ge(st.intern_lookups, (uint64_t)THREADS * 2 * (universe / 2)); /* counts may drop only beyond 32 threads */
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
    for (unsigned t = 0; t < THREADS; t++) free(args[t].ids);
    free(id);
    free(used);
}
END_TEST

/* ---- lookups while the table grows ---------------------------------------------------- */

typedef struct grow_arg {
    rtm_interner *in;
    unsigned first, count;
    const rtm_sym *ids;
    _Atomic int *stop;
    uint64_t seed;
    unsigned long lookups;
} grow_arg;

/* Finds present strings again and again: never a miss, never a wrong string. */
static void *reader_run(void *p)
{
    grow_arg *a = p;
    char buf[512];
    uint64_t rng = a->seed;
    do {
        for (unsigned k = 0; k < 256; k++) {
            unsigned i = (unsigned)(rtm_test_rand(&rng) % a->count);
            size_t len = word(buf, sizeof buf, i);
            CHK(rtm_intern_find(a->in, buf, len) == a->ids[i]);
            size_t n;
            const char *s = rtm_sym_str(a->in, a->ids[i], &n);
            CHK(s != NULL && n == len && memcmp(s, buf, len) == 0);
            a->lookups++;
        }
    } while (!atomic_load(a->stop));
    return NULL;
}

/* Inserts fresh strings, splitting leaves and reusing spare ones. */
static void *writer_run(void *p)
{
    grow_arg *a = p;
    char buf[512];
    for (unsigned i = a->first; i < a->first + a->count; i++) {
        size_t len = word(buf, sizeof buf, i);
        CHK(rtm_intern(a->in, buf, len) != 0);
    }
    return NULL;
}

START_TEST(finds_never_miss_during_growth)
{
    unsigned present = scale(8000), fresh = scale(60000);
    rtm_interner *in = rtm_interner_new(NULL);
    ck_assert_ptr_nonnull(in);
    rtm_sym *ids = malloc(present * sizeof *ids);
    char buf[512];
    for (unsigned i = 0; i < present; i++) ids[i] = rtm_intern(in, buf, word(buf, sizeof buf, i));
    _Atomic int stop = 0;
    grow_arg r[2], w[2];
    pthread_t rt[2], wt[2];
    for (unsigned t = 0; t < 2; t++) {
        r[t] = (grow_arg){in, 0, present, ids, &stop, 7 + t, 0};
        w[t] = (grow_arg){in, present + t * fresh / 2, fresh / 2, NULL, &stop, 0, 0};
        ck_assert_int_eq(pthread_create(&rt[t], NULL, reader_run, &r[t]), 0);
        ck_assert_int_eq(pthread_create(&wt[t], NULL, writer_run, &w[t]), 0);
    }
    for (unsigned t = 0; t < 2; t++) pthread_join(wt[t], NULL);
    atomic_store(&stop, 1);
    for (unsigned t = 0; t < 2; t++) pthread_join(rt[t], NULL);
    ck_assert_uint_gt(r[0].lookups + r[1].lookups, 0);
    rtm_stats st;
    rtm_interner_stats(in, &st);
    ck_assert_uint_eq(st.intern_strings, present + fresh);
    for (unsigned i = 0; i < present + fresh; i++) {
        size_t len = word(buf, sizeof buf, i);
        rtm_sym s = rtm_intern_find(in, buf, len);
        CHK(s > RTM_KW_COUNT && s <= RTM_KW_COUNT + present + fresh);
        if (i < present) CHK(s == ids[i]);
    }
    rtm_interner_destroy(in);
    free(ids);
}
END_TEST

/* ---- the id space and the limit under contention ----------------------------------------- */

typedef struct race_arg {
    rtm_interner *in;
    pthread_barrier_t *go;
    unsigned first, count;
    rtm_sym *got;        /* by word, 0: refused */
    rtm_status expect;   /* the only status a refusal may have */
} race_arg;

static void *race_run(void *p)
{
    race_arg *a = p;
    char buf[512];
    pthread_barrier_wait(a->go);
    for (unsigned i = 0; i < a->count; i++) {
        size_t len = word(buf, sizeof buf, a->first + i);
        rtm_sym s;
        rtm_status st = rtm_intern_ex(a->in, buf, len, &s);
        CHK(st == RTM_OK ? s != 0 : (st == a->expect && s == 0));
        a->got[i] = s;
    }
    return NULL;
}

/* Runs THREADS threads interning disjoint words until refused; checks the
 * refusals, that the ids handed out are distinct and dense, and that each
 * names its string. Returns how many were handed out. */
static unsigned race(rtm_ctx *ctx, rtm_interner *in, unsigned per_thread, rtm_status expect)
{
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, THREADS);
    race_arg a[THREADS];
    pthread_t th[THREADS];
    rtm_sym base = atomic_load(&in->next_id);
    for (unsigned t = 0; t < THREADS; t++) {
        a[t] = (race_arg){in, &go, t * per_thread, per_thread, calloc(per_thread, sizeof(rtm_sym)), expect};
        ck_assert_int_eq(pthread_create(&th[t], NULL, race_run, &a[t]), 0);
    }
    for (unsigned t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&go);
    unsigned total = 0, cap = THREADS * per_thread;
    unsigned char *used = calloc(cap, 1);
    char buf[512];
    for (unsigned t = 0; t < THREADS; t++) {
        for (unsigned i = 0; i < per_thread; i++) {
            rtm_sym s = a[t].got[i];
            size_t len = word(buf, sizeof buf, a[t].first + i);
            if (s == 0) {
                CHK(rtm_intern_find(in, buf, len) == 0); /* refused means absent */
                continue;
            }
            CHK(s >= base && s < base + cap && !used[s - base]);
            used[s - base] = 1;
            size_t n;
            const char *p = rtm_sym_str(in, s, &n);
            CHK(p != NULL && n == len && memcmp(p, buf, len) == 0);
            total++;
        }
        free(a[t].got);
    }
    for (unsigned k = 0; k < total; k++) CHK(used[k]); /* dense: no id lost */
    free(used);
    if (ctx) ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    return total;
}

START_TEST(id_space_under_contention)
{
    unsigned per = scale(4000), max_new = per * THREADS / 3;
    rtm_config cfg = {0, (const char *const[]){"rust", NULL}, NULL, 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    rtm_interner *in = rtm_ctx_interner(ctx);
    ck_assert_int_eq(_rtm_interner_set_max_sym(in, RTM_KW_COUNT + max_new), RTM_OK);
    ck_assert_uint_eq(race(ctx, in, per, RTM_ELIMIT), max_new);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(limit_under_contention)
{
    rtm_config cfg = {192 * 1024, NULL, NULL, 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    ck_assert_ptr_nonnull(ctx);
    unsigned got = race(ctx, rtm_ctx_interner(ctx), scale(20000), RTM_ELIMIT);
    ck_assert_uint_gt(got, 100);
    ck_assert_uint_lt(got, THREADS * scale(20000));
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_le(st.page_bytes, 192 * 1024);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* ---- the context's interner, first used by several threads at once ------------------- */

typedef struct first_arg {
    rtm_ctx *ctx;
    pthread_barrier_t *go;
    rtm_interner *got;
    rtm_sym sym;
} first_arg;

static void *first_run(void *p)
{
    first_arg *a = p;
    pthread_barrier_wait(a->go);
    a->got = rtm_ctx_interner(a->ctx);
    a->sym = a->got ? rtm_intern(a->got, "shared", 6) : 0;
    return NULL;
}

START_TEST(ctx_interner_first_use_races)
{
    for (int round = 0; round < 20; round++) {
        rtm_test_pages tp;
        rtm_test_pages_init(&tp, 0, false);
        rtm_config cfg = {0, NULL, &tp.source, 0};
        rtm_ctx *ctx = rtm_ctx_new(&cfg);
        ck_assert_ptr_nonnull(ctx);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, THREADS);
        first_arg a[THREADS];
        pthread_t th[THREADS];
        for (unsigned t = 0; t < THREADS; t++) {
            a[t] = (first_arg){ctx, &go, NULL, 0};
            ck_assert_int_eq(pthread_create(&th[t], NULL, first_run, &a[t]), 0);
        }
        for (unsigned t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
        pthread_barrier_destroy(&go);
        for (unsigned t = 0; t < THREADS; t++) {
            ck_assert_ptr_nonnull(a[t].got);
            ck_assert_ptr_eq(a[t].got, a[0].got); /* one interner: the losers' are gone */
            ck_assert_uint_eq(a[t].sym, RTM_KW_COUNT + 1);
        }
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
        rtm_ctx_destroy(ctx);
        ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    }
}
END_TEST

static Suite *intern_mt_suite(void)
{
    Suite *s = suite_create("intern_mt");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, overlapping_streams_agree);
    tcase_add_test(tc, finds_never_miss_during_growth);
    tcase_add_test(tc, id_space_under_contention);
    tcase_add_test(tc, limit_under_contention);
    tcase_add_test(tc, ctx_interner_first_use_races);
    suite_add_tcase(s, tc);
    return s;
}

RTM_TEST_MAIN(intern_mt_suite)
