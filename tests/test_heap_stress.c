/* test_heap_stress.c: the heap against a reference model: millions of mixed
 * operations with every byte of every live block checked; a page source
 * that fails the k-th request, for every k; and a limit pushed against.
 * RTM_TEST_PROFILE=small shrinks the loops for the sanitizer runs. */
#include "support.h"

/* ---- the model: slots of live blocks, each filled from its seed ---------- */

typedef struct slot {
    unsigned char *p;
    size_t size;
    unsigned char seed;
} slot;

typedef struct model {
    slot *slots;
    size_t n;
    uint64_t live, bytes;
} model;

/* Block contents: bytes of one random stream, starting at the block's seed,
 * so filling and checking are a memcpy and a memcmp (fast at -O0 too). */
#define MAX_TEST_SIZE (RTM_SMALL_MAX + 1 + 120000)
static unsigned char pattern[256 + MAX_TEST_SIZE];
static const unsigned char zeros[MAX_TEST_SIZE];

static void pattern_init(void)
{
    static bool done;
    if (done) return;
    done = true;
    uint64_t rng = 42;
    for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (unsigned char)(rtm_test_rand(&rng) >> 56);
}

static void pattern_fill(unsigned char *p, size_t from, size_t to, unsigned char seed)
{
    memcpy(p + from, pattern + seed + from, to - from);
}

static bool pattern_ok(const unsigned char *p, size_t n, unsigned char seed)
{
    return memcmp(p, pattern + seed, n) == 0;
}

static bool zero_ok(const unsigned char *p, size_t n) { return memcmp(p, zeros, n) == 0; }

/* Mostly small, some up to a page's class, a few large. */
static size_t random_size(uint64_t *rng, unsigned large_per_mille)
{
    uint64_t r = rtm_test_rand(rng);
    unsigned bucket = (unsigned)(r % 1000);
    r >>= 10;
    if (bucket < large_per_mille) return RTM_SMALL_MAX + 1 + (size_t)(r % 120000);
    /* (MAX_TEST_SIZE bounds these, and realloc's small steps below it) */
    if (bucket < 600) return 1 + (size_t)(r % 128);
    if (bucket < 880) return 129 + (size_t)(r % (1024 - 128));
    return 1025 + (size_t)(r % (RTM_SMALL_MAX - 1024));
}

static void model_init(model *m, size_t n)
{
    pattern_init();
    m->slots = calloc(n, sizeof *m->slots);
    ck_assert_ptr_nonnull(m->slots);
    m->n = n;
    m->live = m->bytes = 0;
}

static void model_free_all(model *m, rtm_ctx *ctx)
{
    for (size_t i = 0; i < m->n; i++) {
        slot *s = &m->slots[i];
        if (s->p == NULL) continue;
        if (!pattern_ok(s->p, s->size, s->seed)) ck_abort_msg("slot %zu corrupted", i);
        ck_assert_int_eq(rtm_free_checked(ctx, s->p, s->size), RTM_OK);
        s->p = NULL;
    }
    m->live = m->bytes = 0;
    free(m->slots);
}

/* The heap's books agree with the model, every live block is intact, and
 * the visit sees exactly the live blocks. */
static size_t visited;
static int count_visit(void *ud, rtm_visit_kind kind, void *p, size_t size)
{
    (void)ud; (void)p; (void)size;
    if (kind == RTM_VISIT_HEAP_BLOCK || kind == RTM_VISIT_LARGE_BLOCK) visited++;
    return 0;
}

static void model_verify(model *m, rtm_ctx *ctx)
{
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.heap_blocks_in_use, m->live);
    ck_assert_uint_eq(st.heap_bytes_in_use, m->bytes);
    ck_assert_uint_le(st.heap_bytes_in_use, st.heap_bytes_peak);
    uint64_t class_live = 0;
    for (unsigned c = 0; c < RTM_HEAP_CLASSES && st.classes[c].block_size; c++)
        class_live += st.classes[c].live_blocks;
    ck_assert_uint_eq(class_live + st.heap_large_blocks, m->live);
    for (size_t i = 0; i < m->n; i++) {
        slot *s = &m->slots[i];
        if (s->p != NULL && !pattern_ok(s->p, s->size, s->seed))
            ck_abort_msg("slot %zu (%zu bytes) corrupted", i, s->size);
    }
    visited = 0;
    ck_assert_int_eq(rtm_ctx_visit(ctx, count_visit, NULL), RTM_OK);
    ck_assert_uint_eq(visited, m->live);
}

/* One operation on a random slot: alloc (plain, calloc or lua), or on a
 * live slot free / realloc (plain or lua). Returns false when it failed,
 * after checking that the failure left the slot as it was; *status is the
 * context's error then. */
static bool model_step(model *m, rtm_ctx *ctx, uint64_t *rng, unsigned large_per_mille,
                       rtm_status *status)
{
    slot *s = &m->slots[rtm_test_rand(rng) % m->n];
    uint64_t r = rtm_test_rand(rng);
    rtm_ctx_clear_error(ctx);
    *status = RTM_OK;
    if (s->p == NULL) {
        size_t size = random_size(rng, large_per_mille);
        unsigned char *p;
        bool zeroed = false;
        switch (r % 4) {
        case 0: p = rtm_calloc(ctx, 1, size); zeroed = true; break;
        case 1: p = rtm_lua_alloc(ctx, NULL, (size_t)(r >> 8) % 12, size); break;
        default: p = rtm_alloc(ctx, size); break;
        }
        if (p == NULL) {
            *status = rtm_ctx_error(ctx);
            return false;
        }
        if (zeroed && !zero_ok(p, size)) ck_abort_msg("calloc of %zu not zeroed", size);
        s->p = p;
        s->size = size;
        s->seed = (unsigned char)(r >> 16);
        pattern_fill(p, 0, size, s->seed);
        m->live++;
        m->bytes += size;
        return true;
    }
    if (!pattern_ok(s->p, s->size, s->seed)) ck_abort_msg("block of %zu corrupted", s->size);
    if (r % 3 == 0) {
        if (r & 8) ck_assert_int_eq(rtm_free_checked(ctx, s->p, s->size), RTM_OK);
        else ck_assert_ptr_null(rtm_lua_alloc(ctx, s->p, s->size, 0));
        ck_assert_int_eq(rtm_ctx_error(ctx), RTM_OK);
        m->live--;
        m->bytes -= s->size;
        s->p = NULL;
        return true;
    }
    /* realloc: a new random size, or a small step (often the same class) */
    size_t size = (r & 16) ? random_size(rng, large_per_mille)
                           : s->size + (size_t)((r >> 8) % 16) - (s->size > 8 ? 8 : 0);
    if (size == 0) size = 1;
    if (size > MAX_TEST_SIZE) size = MAX_TEST_SIZE;
    unsigned char *q = (r & 32) ? rtm_lua_alloc(ctx, s->p, s->size, size)
                                : rtm_realloc(ctx, s->p, s->size, size);
    if (q == NULL) {
        *status = rtm_ctx_error(ctx);
        ck_assert_uint_gt(size, s->size); /* a shrink never fails */
        if (!pattern_ok(s->p, s->size, s->seed)) ck_abort_msg("failed realloc touched the block");
        return false;
    }
    size_t keep = size < s->size ? size : s->size;
    if (!pattern_ok(q, keep, s->seed)) ck_abort_msg("realloc %zu -> %zu lost data", s->size, size);
    pattern_fill(q, keep, size, s->seed);
    m->bytes += size;
    m->bytes -= s->size;
    s->p = q;
    s->size = size;
    return true;
}

/* ---- the randomized run ---------------------------------------------------- */

START_TEST(stress_random_against_model)
{
    bool debug = _i == 1;
    long ops = rtm_test_small() ? 100000 : (debug ? 300000 : 2000000);
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {0, NULL, &tp.source, debug ? RTM_CTX_DEBUG : 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    ck_assert_ptr_nonnull(ctx);
    model m;
    model_init(&m, 3000);
    uint64_t rng = 0x9E3779B97F4A7C15ull + (uint64_t)_i;
    for (long i = 1; i <= ops; i++) {
        rtm_status st;
        if (!model_step(&m, ctx, &rng, 4, &st)) ck_abort_msg("op %ld failed: %s", i, rtm_status_str(st));
        if (i % 100000 == 0) model_verify(&m, ctx);
        if (i % 400000 == 0) rtm_ctx_trim(ctx);
    }
    model_verify(&m, ctx);
    model_free_all(&m, ctx);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.heap_blocks_in_use, 0);
    ck_assert_uint_eq(st.heap_bytes_in_use, 0);
    ck_assert_uint_eq(st.heap_bad_frees, 0);
    ck_assert_uint_ge(st.heap_reallocs_in_place, 1);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_trim(ctx);
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.heap_pages, 0);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
}
END_TEST

/* ---- fault injection: the k-th request refused, for every k -------------- */

typedef struct fault_run {
    long failures;    /* operations that failed */
    long reserves;    /* reserve requests the run made */
} fault_run;

/* A mixed workload whose page source refuses the k-th request (and, with
 * from, every one after it) until halfway, then recovers. Every failure is
 * ENOMEM, follows a refusal, leaves the model's blocks intact and the books
 * exact; after recovery nothing fails; at the end nothing is held. */
static fault_run fault_workload(long k, bool from, bool debug, long ops)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, k, from);
    rtm_config cfg = {0, NULL, &tp.source, debug ? RTM_CTX_DEBUG : 0};
    fault_run run = {0, 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    if (ctx == NULL) { /* the context's own page was the one refused */
        ck_assert_int_eq(k, 1);
        ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
        run.reserves = atomic_load(&tp.reserves);
        return run;
    }
    model m;
    model_init(&m, 48);
    uint64_t rng = 12345;
    for (long i = 0; i < ops; i++) {
        if (i == ops / 2) tp.fail_at = 0; /* the source recovers */
        long refused = atomic_load(&tp.refused);
        rtm_status st;
        if (!model_step(&m, ctx, &rng, 40, &st)) {
            run.failures++;
            ck_assert_int_lt(i, ops / 2);
            ck_assert_int_eq(st, RTM_ENOMEM);
            ck_assert_int_gt(atomic_load(&tp.refused), refused);
            model_verify(&m, ctx);
        }
    }
    model_verify(&m, ctx);
    model_free_all(&m, ctx);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.heap_blocks_in_use, 0);
    ck_assert_uint_eq(st.heap_bytes_in_use, 0);
    ck_assert_uint_eq(st.page_bytes, (uint64_t)atomic_load(&tp.held_bytes));
    ck_assert_uint_eq(st.page_failures, (uint64_t)atomic_load(&tp.refused));
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
    run.reserves = atomic_load(&tp.reserves);
    return run;
}

START_TEST(fault_every_k)
{
    bool from = (_i & 1) != 0, debug = (_i & 2) != 0;
    long ops = rtm_test_small() ? 300 : 800;
    fault_run clean = fault_workload(0, false, debug, ops);
    ck_assert_int_eq(clean.failures, 0);
    ck_assert_int_gt(clean.reserves, 10);
    long failing_runs = 0;
    for (long k = 1; k <= clean.reserves + 1; k++) {
        fault_run run = fault_workload(k, from, debug, ops);
        if (run.failures > 0) failing_runs++;
    }
    /* a refusal for good (from) in the first half is always felt */
    if (from) ck_assert_int_ge(failing_runs, clean.reserves / 4);
    else ck_assert_int_ge(failing_runs, 1);
}
END_TEST

/* ---- the limit ------------------------------------------------------------- */

START_TEST(limit_is_never_passed)
{
    bool debug = _i == 1;
    size_t limit = (size_t)3 << 20;
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {limit, NULL, &tp.source, debug ? RTM_CTX_DEBUG : 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    ck_assert_ptr_nonnull(ctx);
    model m;
    model_init(&m, 400);
    uint64_t rng = 777;
    long ops = rtm_test_small() ? 20000 : 150000, failures = 0, after_failure = 0;
    bool failed_before = false;
    for (long i = 0; i < ops; i++) {
        rtm_status st;
        if (!model_step(&m, ctx, &rng, 150, &st)) {
            ck_assert_int_eq(st, RTM_ELIMIT);
            failures++;
            failed_before = true;
        } else if (failed_before) {
            after_failure++;
        }
        rtm_stats s;
        rtm_ctx_stats(ctx, &s);
        if (s.page_bytes > limit || (size_t)atomic_load(&tp.held_bytes) > limit)
            ck_abort_msg("op %ld: holds %llu of a %zu limit", i, (unsigned long long)s.page_bytes, limit);
        if (i % 5000 == 0) model_verify(&m, ctx);
    }
    ck_assert_int_gt(failures, 10);       /* the workload really pushed */
    ck_assert_int_gt(after_failure, 100); /* and the context kept working */
    rtm_stats s;
    rtm_ctx_stats(ctx, &s);
    ck_assert_uint_gt(s.limit_hits, 0);
    ck_assert_uint_le(s.page_bytes_peak, limit);
    model_verify(&m, ctx);
    model_free_all(&m, ctx);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
}
END_TEST

static Suite *heap_stress_suite(void)
{
    Suite *s = suite_create("heap_stress");
    TCase *tc = tcase_create("stress");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, stress_random_against_model, 0, 2); /* plain, debug */
    tcase_add_loop_test(tc, fault_every_k, 0, 4);               /* once/from x plain/debug */
    tcase_add_loop_test(tc, limit_is_never_passed, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

RTM_TEST_MAIN(heap_stress_suite)
