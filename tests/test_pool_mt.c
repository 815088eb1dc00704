/* test_pool_mt.c: concurrent pools (RTM_POOL_CONCURRENT) under threads: no
 * object ever has two owners, objects move between threads, double releases
 * race and exactly one wins, the cap holds, growth fails cleanly, more
 * threads than caches, caches handed over at thread exit. Runs under TSan in
 * CI (label `concurrent`). */
#include "support.h"
#include "../runtime/mem/pool.h"

#include <pthread.h>

/* An assertion for hot loops and threads: Check's own are neither cheap nor
 * meant for other threads; failures are counted and asserted by the main
 * thread. */
static atomic_long failures;
#define REQUIRE(cond)                                                                \
    do {                                                                             \
        if (!(cond)) {                                                               \
            atomic_fetch_add(&failures, 1);                                          \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond);       \
        }                                                                            \
    } while (0)

static long failures_seen(void) { return atomic_load(&failures); }

static rtm_ctx *ctx;

static void setup(void)
{
    atomic_store(&failures, 0);
    ctx = rtm_ctx_new(NULL);
    ck_assert_ptr_nonnull(ctx);
}

static void teardown(void)
{
    ck_assert_int_eq(failures_seen(), 0);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
    ctx = NULL;
}

static rtm_pool_info info(const rtm_pool *p)
{
    rtm_pool_info in;
    ck_assert_int_eq(rtm_pool_stats(p, &in), RTM_OK);
    return in;
}

/* ---- the objects: an owner word and a pattern ------------------------------- */

typedef struct mt_obj {
    _Atomic uint64_t owner; /* 0: nobody; else the owner's tag */
    uint64_t stamp;
    uint64_t pattern[6];
} mt_obj;

/* type-stable: the owner word is set once, when the storage enters the pool */
static void mt_init(void *ud, void *o)
{
    (void)ud;
    atomic_store_explicit(&((mt_obj *)o)->owner, 0, memory_order_relaxed);
}

static rtm_pool *mt_pool(rtm_ctx *c, size_t cap)
{
    rtm_type t = {"mt", sizeof(mt_obj), 8, NULL, mt_init, NULL, NULL, NULL, NULL, cap,
                  RTM_POOL_CONCURRENT};
    rtm_pool *p = rtm_pool_new(c, &t);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Takes ownership: nobody may own it now. */
static void own(mt_obj *o, uint64_t tag, uint64_t stamp)
{
    uint64_t prev = atomic_exchange_explicit(&o->owner, tag, memory_order_acq_rel);
    REQUIRE(prev == 0); /* handed to two owners */
    o->stamp = stamp;
    for (int i = 0; i < 6; i++) o->pattern[i] = stamp * (uint64_t)(i + 3) ^ tag;
}

/* Checks the pattern and gives ownership up. */
static void disown(mt_obj *o, uint64_t tag)
{
    for (int i = 0; i < 6; i++) REQUIRE(o->pattern[i] == (o->stamp * (uint64_t)(i + 3) ^ tag));
    uint64_t prev = atomic_exchange_explicit(&o->owner, 0, memory_order_acq_rel);
    REQUIRE(prev == tag);
}

/* ---- the stress ------------------------------------------------------------------- */

enum { MAILBOXES = 64, WINDOW = 12 };

typedef struct stress {
    rtm_pool *pool;
    size_t ops;
    _Atomic uint64_t mail[MAILBOXES]; /* handles in transit between threads */
    atomic_bool done;
} stress;

typedef struct worker {
    stress *st;
    uint64_t tag;
    pthread_t thread;
} worker;

static void *stress_worker(void *arg)
{
    worker *w = arg;
    stress *st = w->st;
    rtm_pool *p = st->pool;
    uint64_t seed = w->tag * 0x9E3779B97F4A7C15ull;
    struct { rtm_handle h; mt_obj *o; } held[WINDOW];
    memset(held, 0, sizeof held);
    for (size_t k = 0; k < st->ops; k++) {
        uint64_t r = rtm_test_rand(&seed);
        int i = (int)(r % WINDOW);
        if (held[i].o == NULL) {
            if ((r >> 8) % 4 == 0) { /* take a handle another thread left */
                uint64_t bits = atomic_exchange(&st->mail[(r >> 16) % MAILBOXES], 0);
                if (bits != 0) {
                    rtm_handle h = {bits};
                    mt_obj *o = rtm_pool_get(p, h);
                    REQUIRE(o != NULL);
                    if (o == NULL) continue;
                    uint64_t prev = atomic_exchange(&o->owner, w->tag);
                    REQUIRE(prev == 0);
                    /* its pattern is the sender's: re-stamp it as ours */
                    atomic_store(&o->owner, 0);
                    own(o, w->tag, r);
                    held[i].h = h;
                    held[i].o = o;
                    continue;
                }
            }
            if ((r >> 24) & 1) {
                held[i].h = RTM_HANDLE_NULL;
                held[i].o = rtm_pool_alloc(p);
            } else {
                held[i].h = rtm_pool_acquire(p);
                held[i].o = rtm_pool_get(p, held[i].h);
            }
            REQUIRE(held[i].o != NULL);
            if (held[i].o != NULL) own(held[i].o, w->tag, r);
        } else {
            mt_obj *o = held[i].o;
            disown(o, w->tag);
            if (!rtm_handle_is_null(held[i].h) && (r >> 8) % 3 == 0) {
                /* send it: another thread will release it */
                uint64_t expected = 0;
                if (atomic_compare_exchange_strong(&st->mail[(r >> 16) % MAILBOXES], &expected,
                                                   held[i].h.bits)) {
                    held[i].o = NULL;
                    continue;
                }
            }
            if (rtm_handle_is_null(held[i].h)) REQUIRE(rtm_pool_free(p, o) == RTM_OK);
            else REQUIRE(rtm_pool_release(p, held[i].h) == RTM_OK);
            held[i].o = NULL;
        }
    }
    for (int i = 0; i < WINDOW; i++) {
        if (held[i].o == NULL) continue;
        disown(held[i].o, w->tag);
        if (rtm_handle_is_null(held[i].h)) REQUIRE(rtm_pool_free(p, held[i].o) == RTM_OK);
        else REQUIRE(rtm_pool_release(p, held[i].h) == RTM_OK);
    }
    return NULL;
}

/* Reads the figures while the workers run: stats are readable from any thread. */
static void *stats_reader(void *arg)
{
    stress *st = arg;
    uint64_t reads = 0;
    while (!atomic_load(&st->done)) {
        rtm_stats s;
        rtm_ctx_stats(ctx, &s);
        rtm_pool_info in;
        rtm_pool_stats(st->pool, &in);
        REQUIRE(s.pools_live == 1);
        REQUIRE(in.releases <= in.acquires + 1000000); /* not torn into nonsense */
        reads++;
        sched_yield();
    }
    return (void *)(uintptr_t)reads;
}

/* Threads that hold a cache index and wait, so the workers get none. */
typedef struct parking {
    rtm_pool *pool;
    pthread_barrier_t parked, leave;
} parking;

static void *park(void *arg)
{
    parking *pk = arg;
    REQUIRE(rtm_pool_free(pk->pool, rtm_pool_alloc(pk->pool)) == RTM_OK); /* takes an index */
    pthread_barrier_wait(&pk->parked);
    pthread_barrier_wait(&pk->leave);
    return NULL;
}

static void run_stress(int threads, size_t ops, bool uncached)
{
    static stress st;
    static parking pk;
    pthread_t parked[RTM_POOL_THREADS];
    memset(&st, 0, sizeof st);
    st.pool = mt_pool(ctx, 0);
    st.ops = ops;
    if (uncached) { /* every index taken (the main thread may hold one) */
        pk.pool = st.pool;
        pthread_barrier_init(&pk.parked, NULL, RTM_POOL_THREADS + 1);
        pthread_barrier_init(&pk.leave, NULL, RTM_POOL_THREADS + 1);
        for (int i = 0; i < RTM_POOL_THREADS; i++) pthread_create(&parked[i], NULL, park, &pk);
        pthread_barrier_wait(&pk.parked);
    }
    worker w[16];
    pthread_t reader;
    ck_assert_int_eq(pthread_create(&reader, NULL, stats_reader, &st), 0);
    for (int i = 0; i < threads; i++) {
        w[i].st = &st;
        w[i].tag = (uint64_t)i + 1;
        ck_assert_int_eq(pthread_create(&w[i].thread, NULL, stress_worker, &w[i]), 0);
    }
    for (int i = 0; i < threads; i++) pthread_join(w[i].thread, NULL);
    atomic_store(&st.done, true);
    pthread_join(reader, NULL);
    if (uncached) {
        /* the workers went to the shared stack for every acquire */
        ck_assert_uint_ge(rtm_counter_get(&st.pool->shared_acquires), (uint64_t)threads * ops / 4);
        pthread_barrier_wait(&pk.leave);
        for (int i = 0; i < RTM_POOL_THREADS; i++) pthread_join(parked[i], NULL);
        pthread_barrier_destroy(&pk.parked);
        pthread_barrier_destroy(&pk.leave);
    }
    ck_assert_int_eq(failures_seen(), 0);
    /* what is still in the mailboxes goes back from here */
    for (int i = 0; i < MAILBOXES; i++) {
        rtm_handle h = {atomic_load(&st.mail[i])};
        if (h.bits) ck_assert_int_eq(rtm_pool_release(st.pool, h), RTM_OK);
    }
    rtm_pool_info in = info(st.pool);
    ck_assert_uint_eq(in.live, 0);
    ck_assert_uint_eq(in.acquires, in.releases);
    ck_assert_uint_ge(in.acquires, (uint64_t)threads * ops / 3);
    ck_assert_uint_eq(in.bad_releases, 0);
    ck_assert_uint_ge(in.peak, 1);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_pool_destroy(st.pool);
}

START_TEST(mt_stress_no_object_has_two_owners)
{
    run_stress(4, rtm_test_small() ? 40000 : 800000, false);
}
END_TEST

/* No caches: every operation goes through the shared stack, where a missing
 * ABA guard would lose or duplicate batches. */
START_TEST(mt_stress_shared_stack)
{
    run_stress(3, rtm_test_small() ? 30000 : 600000, true);
}
END_TEST

START_TEST(mt_stress_two_threads)
{
    run_stress(2, rtm_test_small() ? 40000 : 600000, false);
}
END_TEST

/* ---- double releases racing --------------------------------------------------------- */

enum { RACERS = 4 };

typedef struct race {
    rtm_pool *pool;
    pthread_barrier_t start, end;
    _Atomic uint64_t target;   /* a handle, or a pointer for the raw rounds */
    atomic_int raw;
    atomic_int ok, stale, other;
    int rounds;
} race;

static void *racer(void *arg)
{
    race *rc = arg;
    for (int k = 0; k < rc->rounds; k++) {
        pthread_barrier_wait(&rc->start);
        uint64_t t = atomic_load(&rc->target);
        rtm_status s = atomic_load(&rc->raw) ? rtm_pool_free(rc->pool, (void *)(uintptr_t)t)
                                              : rtm_pool_release(rc->pool, (rtm_handle){t});
        if (s == RTM_OK) atomic_fetch_add(&rc->ok, 1);
        else if (s == RTM_ESTALE) atomic_fetch_add(&rc->stale, 1);
        else atomic_fetch_add(&rc->other, 1);
        pthread_barrier_wait(&rc->end);
    }
    return NULL;
}

START_TEST(mt_double_release_race)
{
    static race rc;
    memset(&rc, 0, sizeof rc);
    rc.pool = mt_pool(ctx, 0);
    rc.rounds = rtm_test_small() ? 300 : 3000;
    pthread_barrier_init(&rc.start, NULL, RACERS + 1);
    pthread_barrier_init(&rc.end, NULL, RACERS + 1);
    pthread_t th[RACERS];
    for (int i = 0; i < RACERS; i++) pthread_create(&th[i], NULL, racer, &rc);
    for (int k = 0; k < rc.rounds; k++) {
        int raw = k & 1;
        atomic_store(&rc.raw, raw);
        if (raw) atomic_store(&rc.target, (uint64_t)(uintptr_t)rtm_pool_alloc(rc.pool));
        else atomic_store(&rc.target, rtm_pool_acquire(rc.pool).bits);
        int before = atomic_load(&rc.ok);
        pthread_barrier_wait(&rc.start);
        pthread_barrier_wait(&rc.end);
        ck_assert_int_eq(atomic_load(&rc.ok), before + 1); /* exactly one release won */
    }
    for (int i = 0; i < RACERS; i++) pthread_join(th[i], NULL);
    ck_assert_int_eq(atomic_load(&rc.stale), rc.rounds * (RACERS - 1));
    ck_assert_int_eq(atomic_load(&rc.other), 0);
    rtm_pool_info in = info(rc.pool);
    ck_assert_uint_eq(in.live, 0); /* never below zero: the losers changed nothing */
    ck_assert_uint_eq(in.releases, (uint64_t)rc.rounds);
    ck_assert_uint_eq(in.bad_releases, (uint64_t)rc.rounds * (RACERS - 1));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ESTALE);
    pthread_barrier_destroy(&rc.start);
    pthread_barrier_destroy(&rc.end);
}
END_TEST

/* ---- the cap under threads -------------------------------------------------------------- */

enum { CAP = 300 };

typedef struct capped {
    rtm_pool *pool;
    pthread_barrier_t go;
    atomic_int got;
} capped;

static void *cap_grabber(void *arg)
{
    capped *cp = arg;
    rtm_handle mine[CAP];
    int n = 0;
    pthread_barrier_wait(&cp->go);
    for (int i = 0; i < CAP; i++) {
        rtm_handle h = rtm_pool_acquire(cp->pool);
        if (!rtm_handle_is_null(h)) mine[n++] = h;
    }
    atomic_fetch_add(&cp->got, n);
    pthread_barrier_wait(&cp->go); /* everyone holds what they got */
    for (int i = 0; i < n; i++) REQUIRE(rtm_pool_release(cp->pool, mine[i]) == RTM_OK);
    return NULL;
}

START_TEST(mt_cap_holds)
{
    static capped cp;
    memset(&cp, 0, sizeof cp);
    cp.pool = mt_pool(ctx, CAP);
    pthread_barrier_init(&cp.go, NULL, 4);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, cap_grabber, &cp);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    ck_assert_int_eq(atomic_load(&cp.got), CAP); /* 4 * CAP tried, CAP held */
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    ck_assert_uint_eq(info(cp.pool).live, 0);
    ck_assert_uint_eq(info(cp.pool).cap, CAP);
    pthread_barrier_destroy(&cp.go);
}
END_TEST

/* ---- more threads than caches ------------------------------------------------------------- */

enum { CROWD = RTM_POOL_THREADS + 8 };

typedef struct crowd {
    rtm_pool *pool;
    pthread_barrier_t all_in, all_done;
    int ops;
} crowd;

static void *crowd_member(void *arg)
{
    crowd *cr = arg;
    uint64_t tag = (uint64_t)(uintptr_t)pthread_self() | 1;
    pthread_barrier_wait(&cr->all_in); /* all alive at once: some get no cache */
    mt_obj *held[4] = {0};
    for (int k = 0; k < cr->ops; k++) {
        int i = k % 4;
        if (held[i]) {
            disown(held[i], tag);
            REQUIRE(rtm_pool_free(cr->pool, held[i]) == RTM_OK);
            held[i] = NULL;
        } else {
            held[i] = rtm_pool_alloc(cr->pool);
            REQUIRE(held[i] != NULL);
            if (held[i]) own(held[i], tag, (uint64_t)k);
        }
    }
    for (int i = 0; i < 4; i++)
        if (held[i]) {
            disown(held[i], tag);
            REQUIRE(rtm_pool_free(cr->pool, held[i]) == RTM_OK);
        }
    pthread_barrier_wait(&cr->all_done);
    return NULL;
}

START_TEST(mt_more_threads_than_caches)
{
    static crowd cr;
    cr.pool = mt_pool(ctx, 0);
    cr.ops = rtm_test_small() ? 400 : 4000;
    pthread_barrier_init(&cr.all_in, NULL, CROWD);
    pthread_barrier_init(&cr.all_done, NULL, CROWD);
    pthread_t th[CROWD];
    for (int i = 0; i < CROWD; i++) ck_assert_int_eq(pthread_create(&th[i], NULL, crowd_member, &cr), 0);
    for (int i = 0; i < CROWD; i++) pthread_join(th[i], NULL);
    ck_assert_int_eq(failures_seen(), 0);
    /* at least CROWD - RTM_POOL_THREADS threads had no cache (the main thread
     * may hold an index too) and went to the shared stack */
    ck_assert_uint_ge(rtm_counter_get(&cr.pool->shared_acquires),
                      (uint64_t)(CROWD - RTM_POOL_THREADS) * (uint64_t)cr.ops / 2);
    rtm_pool_info in = info(cr.pool);
    ck_assert_uint_eq(in.live, 0);
    ck_assert_uint_eq(in.acquires, (uint64_t)CROWD * (uint64_t)(cr.ops / 2));
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    pthread_barrier_destroy(&cr.all_in);
    pthread_barrier_destroy(&cr.all_done);
}
END_TEST

/* ---- a thread's cache passes to the next thread --------------------------------------------- */

typedef struct handover {
    rtm_pool *pool;
    void *objs[20];
} handover;

static void *fill_and_exit(void *arg)
{
    handover *ho = arg;
    for (int i = 0; i < 20; i++) ho->objs[i] = rtm_pool_alloc(ho->pool);
    for (int i = 19; i >= 0; i--) REQUIRE(rtm_pool_free(ho->pool, ho->objs[i]) == RTM_OK);
    return NULL; /* its cache keeps the 20 free slots */
}

START_TEST(mt_cache_handed_over_at_thread_exit)
{
    static handover a, b;
    rtm_pool *p = mt_pool(ctx, 0);
    a.pool = b.pool = p;
    pthread_t t;
    pthread_create(&t, NULL, fill_and_exit, &a);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, fill_and_exit, &b); /* takes the index the first gave back */
    pthread_join(t, NULL);
    for (int i = 0; i < 20; i++) ck_assert_ptr_eq(b.objs[i], a.objs[i]);
    ck_assert_uint_eq(info(p).misses, 1);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK); /* the slots are in that cache, once */
}
END_TEST

/* ---- growth that fails ------------------------------------------------------------------------ */

typedef struct starved {
    rtm_pool *pool;
    rtm_test_pages *tp;
    atomic_int nulls, got;
    int ops;
} starved;

static void *starved_worker(void *arg)
{
    starved *sv = arg;
    void *held[64] = {0};
    for (int k = 0; k < sv->ops; k++) {
        int i = k % 64;
        if (held[i]) {
            REQUIRE(rtm_pool_free(sv->pool, held[i]) == RTM_OK);
            held[i] = NULL;
        } else if ((held[i] = rtm_pool_alloc(sv->pool)) == NULL) {
            atomic_fetch_add(&sv->nulls, 1);
        } else {
            atomic_fetch_add(&sv->got, 1);
            memset(held[i], 0x3C, sizeof(mt_obj));
        }
    }
    for (int i = 0; i < 64; i++)
        if (held[i]) REQUIRE(rtm_pool_free(sv->pool, held[i]) == RTM_OK);
    return NULL;
}

START_TEST(mt_growth_fails_cleanly)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {0, NULL, &tp.source, 0};
    rtm_ctx *c = rtm_ctx_new(&cfg);
    rtm_type t = {"starved", sizeof(mt_obj), 8, NULL, mt_init, NULL, NULL, NULL, NULL, 0,
                  RTM_POOL_CONCURRENT};
    static starved sv;
    memset(&sv, 0, sizeof sv);
    sv.pool = rtm_pool_new(c, &t);
    ck_assert_ptr_nonnull(sv.pool);
    sv.ops = rtm_test_small() ? 3000 : 30000;
    /* no memory at all: every thread's first acquire must fail, cleanly */
    atomic_store(&tp.fail_all, true);
    ck_assert_ptr_null(rtm_pool_alloc(sv.pool));
    ck_assert_int_eq(rtm_ctx_error(c), RTM_ENOMEM);
    pthread_t th[3];
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, starved_worker, &sv);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    ck_assert_int_eq(atomic_load(&sv.got), 0);
    ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
    /* memory again: the same pool works */
    atomic_store(&tp.fail_all, false);
    atomic_store(&sv.nulls, 0);
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, starved_worker, &sv);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    ck_assert_int_eq(atomic_load(&sv.nulls), 0);
    ck_assert_int_gt(atomic_load(&sv.got), 0);
    ck_assert_int_eq(failures_seen(), 0);
    ck_assert_uint_eq(info(sv.pool).live, 0);
    ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
    rtm_ctx_destroy(c);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
}
END_TEST

START_TEST(mt_fault_every_k)
{
    for (long k = 2; k <= 10; k++) {
        rtm_test_pages tp;
        rtm_test_pages_init(&tp, k, false);
        rtm_config cfg = {0, NULL, &tp.source, 0};
        rtm_ctx *c = rtm_ctx_new(&cfg);
        rtm_type t = {"k", 3000, 8, NULL, NULL, NULL, NULL, NULL, NULL, 0, RTM_POOL_CONCURRENT};
        rtm_pool *p = rtm_pool_new(c, &t);
        if (p == NULL) {
            ck_assert_int_eq(rtm_ctx_error(c), RTM_ENOMEM);
            p = rtm_pool_new(c, &t);
        }
        ck_assert_ptr_nonnull(p);
        rtm_handle hs[200];
        int got = 0, failed = 0;
        for (int i = 0; i < 200; i++) {
            rtm_handle h = rtm_pool_acquire(p);
            if (rtm_handle_is_null(h)) {
                ck_assert_int_eq(rtm_ctx_error(c), RTM_ENOMEM);
                failed++;
            } else {
                hs[got++] = h;
            }
            ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
        }
        ck_assert_int_le(failed, 1);
        for (int i = 0; i < got; i++) ck_assert_int_eq(rtm_pool_release(p, hs[i]), RTM_OK);
        ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
        rtm_ctx_destroy(c);
        ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    }
}
END_TEST

/* ---- handles and pointers, as in ordinary pools -------------------------------------------------- */

START_TEST(mt_handles_checked)
{
    rtm_pool *p = mt_pool(ctx, 0), *q = mt_pool(ctx, 0);
    rtm_handle a = rtm_pool_acquire(p), b = rtm_pool_acquire(q);
    ck_assert_ptr_nonnull(rtm_pool_get(p, a));
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_pool_get(q, a));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EFOREIGN);
    ck_assert_int_eq(rtm_pool_release(q, a), RTM_EFOREIGN);
    uint64_t low = ((uint64_t)1 << RTM_HANDLE_POOL_SHIFT) - 1;
    rtm_handle twin = {(b.bits & low) | ((uint64_t)p->id << RTM_HANDLE_POOL_SHIFT)};
    ck_assert_ptr_null(rtm_pool_get(q, twin)); /* p's identity, q's live slot */
    ck_assert_int_eq(rtm_pool_release(q, twin), RTM_EFOREIGN);
    ck_assert_int_eq(rtm_pool_free(p, rtm_pool_get(q, b)), RTM_EFOREIGN);
    int local;
    ck_assert_int_eq(rtm_pool_free(p, &local), RTM_EFOREIGN);
    ck_assert_int_eq(rtm_pool_free(p, (char *)rtm_pool_get(p, a) + 8), RTM_EFOREIGN);
    ck_assert_int_eq(rtm_pool_release(p, a), RTM_OK);
    ck_assert_ptr_null(rtm_pool_get(p, a));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ESTALE);
    ck_assert_int_eq(rtm_pool_release(p, a), RTM_ESTALE);
    rtm_handle c = rtm_pool_acquire(p);
    ck_assert_uint_eq(rtm_handle_slot(c), rtm_handle_slot(a));
    ck_assert_ptr_null(rtm_pool_get(p, a));
    ck_assert_int_eq(info(p).live, 1);
    ck_assert_int_eq(info(p).bad_releases, 4); /* three foreign frees, one stale release */
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    /* check sees a slot in two places */
    rtm_pool_cache *mine = NULL;
    for (int i = 0; i < RTM_POOL_THREADS; i++)
        if (p->caches[i].count > 1) mine = &p->caches[i];
    ck_assert_ptr_nonnull(mine);
    uint32_t saved = mine->slots[0];
    mine->slots[0] = mine->slots[1];
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_EINVAL);
    mine->slots[0] = saved;
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
}
END_TEST

/* The ABA guard: a batch popped and pushed back leaves the same top slot but
 * a different head word, so a thread that read the head before fails its CAS.
 * (The race itself is a few instructions wide: the stress cannot be relied
 * on to hit it, this can.) */
START_TEST(mt_stack_head_is_tagged)
{
    rtm_pool *p = mt_pool(ctx, 0);
    rtm_pool_free(p, rtm_pool_alloc(p)); /* grows: the other batches are on the stack */
    uint64_t h0 = atomic_load(&p->head);
    ck_assert_uint_ne(h0 & 0x1FFFFFF, 0);
    uint32_t x = _rtm_pool_stack_pop(p);
    uint64_t h1 = atomic_load(&p->head);
    ck_assert_uint_ne(h1 & 0x1FFFFFF, h0 & 0x1FFFFFF);
    _rtm_pool_stack_push(p, x);
    uint64_t h2 = atomic_load(&p->head);
    ck_assert_uint_eq(h2 & 0x1FFFFFF, h0 & 0x1FFFFFF); /* the same batch on top */
    ck_assert_uint_ne(h2, h0);                         /* but not the same head */
    ck_assert_uint_ne(h2, h1);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
}
END_TEST

START_TEST(mt_generations_retire)
{
    rtm_pool *p = mt_pool(ctx, 0);
    rtm_handle first = rtm_pool_acquire(p), last = first;
    uint32_t slot = rtm_handle_slot(first);
    rtm_pool_release(p, first);
    for (uint32_t g = rtm_handle_gen(first) + 1; g <= RTM_GEN_MAX; g++) {
        rtm_handle h = rtm_pool_acquire(p);
        if (rtm_handle_slot(h) != slot) break;
        last = h;
        rtm_pool_release(p, h);
    }
    ck_assert_uint_eq(rtm_handle_gen(last), RTM_GEN_MAX);
    ck_assert_uint_eq(info(p).retired, 1);
    rtm_handle h = rtm_pool_acquire(p);
    ck_assert_uint_ne(rtm_handle_slot(h), slot);
    ck_assert_ptr_null(rtm_pool_get(p, last));
    ck_assert_int_eq(rtm_pool_release(p, last), RTM_ESTALE);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
}
END_TEST

/* Objects still live in several threads' hands when the pool goes. */
static void *grab_ten(void *arg)
{
    for (int i = 0; i < 10; i++) REQUIRE(rtm_pool_alloc(arg) != NULL);
    return NULL;
}

START_TEST(mt_destroy_with_live_objects)
{
    rtm_pool *p = mt_pool(ctx, 0);
    pthread_t th[3];
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, grab_ten, p);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    ck_assert_uint_eq(info(p).live, 30);
    rtm_pool_destroy(p);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.pool_leaked, 30);
    ck_assert_uint_eq(st.pools_live, 0);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ESTALE);
}
END_TEST

static Suite *pool_mt_suite(void)
{
    Suite *s = suite_create("pool_mt");
    TCase *c = tcase_create("concurrent");
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_set_timeout(c, 300);
    tcase_add_test(c, mt_handles_checked);
    tcase_add_test(c, mt_stress_no_object_has_two_owners);
    tcase_add_test(c, mt_stress_two_threads);
    tcase_add_test(c, mt_stress_shared_stack);
    tcase_add_test(c, mt_double_release_race);
    tcase_add_test(c, mt_cap_holds);
    tcase_add_test(c, mt_more_threads_than_caches);
    tcase_add_test(c, mt_cache_handed_over_at_thread_exit);
    tcase_add_test(c, mt_growth_fails_cleanly);
    tcase_add_test(c, mt_fault_every_k);
    tcase_add_test(c, mt_stack_head_is_tagged);
    tcase_add_test(c, mt_generations_retire);
    tcase_add_test(c, mt_destroy_with_live_objects);
    suite_add_tcase(s, c);
    return s;
}

RTM_TEST_MAIN(pool_mt_suite)
