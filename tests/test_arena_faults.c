/* test_arena_faults.c: arenas (and buffers) when memory runs out: the page
 * source refusing, the limit, fault injection at every request over a mixed
 * workload, the context ending what was forgotten, and a randomized run
 * against a model. */
#include "arena_test.h"

START_TEST(arena_out_of_memory)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    char *p = rtm_arena_alloc(a, 100, 8);
    fill(p, 100, 9);
    atomic_store(&tp.fail_all, true);
    /* Fits in the chunk: no page source call, works. */
    ck_assert_ptr_nonnull(rtm_arena_alloc(a, 100, 8));
    assert_alloc_refused(ctx, a, 64 << 10, 8, RTM_ENOMEM);
    assert_alloc_refused(ctx, a, (size_t)32 << 20, 8, RTM_ENOMEM);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_arena_new(ctx));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ENOMEM);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    atomic_store(&tp.fail_all, false);
    /* The source recovers: so does the arena. */
    ck_assert_ptr_nonnull(rtm_arena_alloc(a, 64 << 10, 8));
    ck_assert(intact(p, 100, 9));
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

/* The limit: pushing against it never holds more, fails with ELIMIT, and a
 * reset arena refills without new pages. */
START_TEST(arena_limit)
{
    size_t limit = (size_t)512 << 10;
    rtm_ctx *ctx = ctx_over_tp(limit, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    int n = 0;
    for (;;) {
        void *p = rtm_arena_alloc(a, 1000, 8);
        rtm_stats st = stats_of(ctx);
        ck_assert_uint_le(st.page_bytes, limit);
        if (p == NULL) break;
        n++;
    }
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    ck_assert_int_gt(n, 100);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_ge(st.limit_hits, 1);
    ck_assert_uint_eq(st.arena_bytes_used, (uint64_t)n * 1000);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    ck_assert_ptr_null(rtm_arena_new(ctx)); /* no room for another */
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    long reserves = atomic_load(&tp.reserves);
    rtm_arena_reset(a);
    for (int i = 0; i < n; i++) ck_assert_ptr_nonnull(rtm_arena_alloc(a, 1000, 8));
    ck_assert_int_eq(atomic_load(&tp.reserves), reserves);
    ck_assert_uint_le(stats_of(ctx).page_bytes, limit);
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

/* ---- the context ends what was forgotten ------------------------------------------ */

START_TEST(arena_ctx_destroy_ends_forgotten)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    for (int i = 0; i < 3; i++) {
        rtm_arena *a = rtm_arena_new(ctx);
        workload(a, (uint64_t)i + 1, 800);
        ck_assert_ptr_nonnull(rtm_arena_alloc(a, (size_t)2 << 20, 64)); /* an oversized chunk */
        rtm_buf *b = rtm_buf_new(ctx, 64);
        ck_assert_int_eq(rtm_buf_resize(b, (size_t)(i + 1) * 100000), RTM_OK);
    }
    rtm_arena *spare = rtm_arena_new(ctx);
    rtm_arena_mark m = rtm_arena_save(spare);
    workload(spare, 9, 500);
    ck_assert_int_eq(rtm_arena_rewind(spare, m), RTM_OK);
    rtm_arena_destroy(rtm_arena_new(ctx)); /* something in the cache too */
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.arenas_live, 4);
    ck_assert_uint_eq(st.bufs_live, 3);
    ck_assert_int_gt(atomic_load(&tp.held_ranges), 10);
    ctx_end(ctx); /* checks the page source got every byte back */
}
END_TEST

/* ---- fault injection: every k, over arenas and buffers ------------------------------ */

typedef struct run {
    rtm_ctx *ctx;
    int failures;        /* calls that reported a failure */
    uint64_t model_used; /* what arena_bytes_used must be, all arenas */
} run;

/* Records the outcome of one call: a failure must be ENOMEM and change
 * nothing the test can see. */
static bool outcome(run *r, bool ok)
{
    if (ok) return true;
    r->failures++;
    ck_assert_int_eq(rtm_ctx_error(r->ctx), RTM_ENOMEM);
    rtm_ctx_clear_error(r->ctx);
    ck_assert_uint_eq(stats_of(r->ctx).arena_bytes_used, r->model_used);
    ck_assert_int_eq(rtm_ctx_check(r->ctx), RTM_OK);
    return false;
}

/* Sizes are multiples of 8 at alignment 8, so the bytes an arena uses are
 * exactly the sum of its sizes. *used counts this arena's. */
static void try_alloc(run *r, rtm_arena *a, size_t size, uint64_t *used)
{
    if (a == NULL) return;
    void *p = rtm_arena_alloc(a, size, 8);
    if (outcome(r, p != NULL)) {
        r->model_used += size;
        *used += size;
        memset(p, 0xAB, size);
    }
}

static void try_append(run *r, rtm_buf *b, const void *data, size_t n)
{
    if (b == NULL) return;
    size_t len = rtm_buf_len(b);
    if (outcome(r, rtm_buf_append(b, data, n) == RTM_OK)) len += n;
    ck_assert_uint_eq(rtm_buf_len(b), len);
}

static void mixed_workload(run *r)
{
    rtm_ctx *ctx = r->ctx;
    uint64_t used = 0;
    rtm_arena *a = rtm_arena_new(ctx);
    outcome(r, a != NULL);
    for (int i = 0; i < 300; i++) try_alloc(r, a, 8 * (size_t)(1 + i % 64), &used);

    rtm_buf *b = rtm_buf_new(ctx, 64);
    outcome(r, b != NULL);
    static const char kb[1024] = {1, 2, 3};
    for (int i = 0; i < 100; i++) try_append(r, b, kb, sizeof kb);

    if (a != NULL) {
        rtm_arena_mark m = rtm_arena_save(a);
        uint64_t at_mark = used;
        try_alloc(r, a, 40 << 10, &used);
        try_alloc(r, a, (size_t)2 << 20, &used); /* oversized */
        try_alloc(r, a, 64, &used);
        ck_assert_int_eq(rtm_arena_rewind(a, m), RTM_OK);
        r->model_used -= used - at_mark;
        used = at_mark;
        char *s = rtm_arena_strdup(a, "identifier", 10);
        if (outcome(r, s != NULL)) {
            ck_assert_str_eq(s, "identifier");
            r->model_used += 11;
            used += 11;
        }
        /* Into the cache, and out again below. */
        rtm_arena_destroy(a);
        r->model_used -= used;
    }
    used = 0;
    rtm_arena *a2 = rtm_arena_new(ctx);
    outcome(r, a2 != NULL);
    for (int i = 0; i < 200; i++) try_alloc(r, a2, 8 * (size_t)(1 + i % 100), &used);
    if (b != NULL) {
        size_t len = rtm_buf_len(b);
        if (outcome(r, rtm_buf_resize(b, 300000) == RTM_OK)) len = 300000;
        ck_assert_uint_eq(rtm_buf_len(b), len);
    }
    /* a2 and b are left for rtm_ctx_destroy. */
}

static void check_exact(run *r, uint64_t base)
{
    rtm_stats st = stats_of(r->ctx);
    ck_assert_uint_eq(st.arena_bytes_used, r->model_used);
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    chunk_walk w = visit_chunks(r->ctx);
    ck_assert_uint_eq(w.bytes, st.arena_chunk_bytes + st.arena_cache_bytes);
    /* Everything held is the context's own pages, what the parts report, and
     * at most the page of the arena cache itself. */
    uint64_t parts = base + st.arena_chunk_bytes + st.arena_cache_bytes + st.buf_bytes;
    ck_assert_uint_ge(st.page_bytes, parts);
    ck_assert_uint_le(st.page_bytes, parts + 4096);
    ck_assert_int_eq(rtm_ctx_check(r->ctx), RTM_OK);
}

static void fault_run(long k, bool from, long *reserves_seen)
{
    rtm_test_pages_init(&tp, k, from);
    rtm_config cfg = {0, NULL, &tp.source, 0};
    run r;
    memset(&r, 0, sizeof r);
    r.ctx = rtm_ctx_new(&cfg);
    if (r.ctx == NULL) { /* the context's own pages were refused */
        ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
        return;
    }
    uint64_t base = stats_of(r.ctx).page_bytes;
    mixed_workload(&r);
    long refused = atomic_load(&tp.refused);
    /* Every refusal was reported by exactly one call (no retries: no collect
     * hook is set). */
    ck_assert_int_eq(r.failures, refused);
    if (!from) ck_assert_int_le(refused, 1);
    check_exact(&r, base);
    if (reserves_seen) *reserves_seen = atomic_load(&tp.reserves);

    /* The source recovers; the same context keeps working. */
    tp.fail_at = 0;
    tp.fail_from = false;
    int before = r.failures;
    mixed_workload(&r);
    ck_assert_int_eq(r.failures, before);
    check_exact(&r, base);
    ctx_end(r.ctx);
}

START_TEST(arena_fault_injection_every_k)
{
    long total = 0;
    fault_run(0, false, &total); /* no fault: how many requests there are */
    ck_assert_int_ge(total, 8);   /* context, cache, chunks, oversized, buffer */
    for (long k = 1; k <= total + 1; k++) {
        fault_run(k, false, NULL);
        fault_run(k, true, NULL);
    }
}
END_TEST

/* ---- a randomized run against a model ----------------------------------------------- */

typedef struct blk {
    char *p;
    size_t n;
    uint32_t tag;
} blk;

START_TEST(arena_random_model)
{
    rtm_ctx *ctx = ctx_over_tp(0, 0);
    rtm_arena *a = rtm_arena_new(ctx);
    enum { MAXB = 4096, MAXM = 64 };
    static blk blocks[MAXB];
    rtm_arena_mark marks[MAXM];
    size_t mark_nblocks[MAXM];
    size_t nb = 0, nm = 0;
    uint64_t seed = 12345;
    long steps = rtm_test_small() ? 30000 : 300000;
    for (long step = 0; step < steps; step++) {
        uint64_t r = rtm_test_rand(&seed);
        unsigned op = (unsigned)(r % 100);
        if (op < 80 && nb < MAXB) {
            size_t size = (r >> 8) % 16 == 0 ? 1 + (size_t)((r >> 16) % 70000)
                                             : 1 + (size_t)((r >> 16) % 300);
            if ((r >> 40) % 5000 == 0) size = (size_t)1536 << 10; /* oversized */
            size_t align = (size_t)1 << ((r >> 32) % 13);
            char *p = rtm_arena_alloc(a, size, align);
            ck_assert_ptr_nonnull(p);
            ck_assert(aligned(p, align));
            uint32_t tag = (uint32_t)step;
            fill(p, size < 64 ? size : 64, tag); /* the head of each block */
            memset(p + (size < 64 ? size : 64), 0, size - (size < 64 ? size : 64));
            blocks[nb++] = (blk){p, size < 64 ? size : 64, tag};
        } else if (op < 88 && nm < MAXM) {
            marks[nm] = rtm_arena_save(a);
            mark_nblocks[nm++] = nb;
        } else if (op < 97 && nm > 0) {
            size_t i = (size_t)((r >> 8) % nm);
            ck_assert_int_eq(rtm_arena_rewind(a, marks[i]), RTM_OK);
            /* Marks saved after it, past its position, are stale now. */
            for (size_t j = i + 1; j < nm; j++)
                if (marks[j].pos > marks[i].pos)
                    ck_assert_int_eq(rtm_arena_rewind(a, marks[j]), RTM_ESTALE);
            nb = mark_nblocks[i];
            nm = i + 1;
        } else if (op == 99 && (r >> 8) % 20 == 0) {
            rtm_arena_reset(a);
            nb = nm = 0;
        } else if (op >= 97) {
            char *s = rtm_arena_strdup(a, "token", 5);
            ck_assert_str_eq(s, "token");
        }
        if (step % 2000 == 0) {
            for (size_t i = 0; i < nb; i++) ck_assert(intact(blocks[i].p, blocks[i].n, blocks[i].tag));
            ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
        }
    }
    for (size_t i = 0; i < nb; i++) ck_assert(intact(blocks[i].p, blocks[i].n, blocks[i].tag));
    rtm_ctx_clear_error(ctx);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_stats st = stats_of(ctx);
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    rtm_arena_destroy(a);
    ctx_end(ctx);
}
END_TEST

static Suite *arena_faults_suite(void)
{
    Suite *s = suite_create("arena_faults");
    TCase *tc = tcase_create("arena_faults");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, arena_out_of_memory);
    tcase_add_test(tc, arena_limit);
    tcase_add_test(tc, arena_ctx_destroy_ends_forgotten);
    tcase_add_test(tc, arena_fault_injection_every_k);
    tcase_add_test(tc, arena_random_model);
    suite_add_tcase(s, tc);
    return s;
}

RTM_TEST_MAIN(arena_faults_suite)
