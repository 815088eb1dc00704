/* test_pool_handle.c: handles: the null handle, stale handles and second
 * releases, handles of other pools and contexts (the twin with the same slot
 * and generation included), forged handles, identities reused after a pool
 * is destroyed, generations spent and slots retired, and the limits on
 * identities and slots. White-box where an internal limit must be reached. */
#include "pool_support.h"

START_TEST(handle_roundtrip_and_null)
{
    rtm_pool *p = new_pool(32, 8);
    rtm_handle h = rtm_pool_acquire(p);
    ck_assert(!rtm_handle_is_null(h));
    ck_assert_uint_eq(rtm_handle_pool(h), p->id);
    int *x = rtm_pool_get(p, h);
    ck_assert_ptr_nonnull(x);
    *x = 42;
    ck_assert_ptr_eq(rtm_pool_get(p, h), x);
    ck_assert_uint_eq(info(p).live, 1);

    uint64_t errors = ctx_stats(ctx).errors;
    ck_assert_ptr_null(rtm_pool_get(p, RTM_HANDLE_NULL));
    ck_assert_int_eq(rtm_pool_release(p, RTM_HANDLE_NULL), RTM_OK);
    ck_assert_uint_eq(ctx_stats(ctx).errors, errors); /* null is "none", not an error */
    ck_assert_uint_eq(info(p).live, 1);

    rtm_handle copy = h, moved = rtm_handle_take(&copy);
    ck_assert(rtm_handle_is_null(copy));
    ck_assert_uint_eq(moved.bits, h.bits);
    ck_assert_int_eq(rtm_pool_release(p, moved), RTM_OK);
    ck_assert_uint_eq(info(p).live, 0);
}
END_TEST

static int ctor_runs;
static void count_ctor(void *ud, void *obj)
{
    (void)ud;
    *(int *)obj = 7;
    ctor_runs++;
}

/* rtm_pool_acquire_obj gives the object rtm_pool_get would, on every kind of
 * pool and through every path (inline, a new slab, callbacks, concurrent),
 * and NULL with the null handle on failure. */
START_TEST(acquire_obj_gives_the_object)
{
    rtm_type plain = {"plain", 64, 8, NULL, NULL, NULL, NULL, NULL, NULL, 3000, 0};
    rtm_type with_ctor = {"ctor", 64, 8, NULL, NULL, NULL, count_ctor, NULL, NULL, 0, 0};
    rtm_type shared = {"shared", 64, 8, NULL, NULL, NULL, NULL, NULL, NULL, 0, RTM_POOL_CONCURRENT};
    const rtm_type *types[] = {&plain, &with_ctor, &shared};
    for (size_t t = 0; t < 3; t++) {
        rtm_pool *p = rtm_pool_new(ctx, types[t]);
        ck_assert_ptr_nonnull(p);
        ctor_runs = 0;
        static rtm_handle hs[3000];
        for (size_t i = 0; i < 3000; i++) { /* past the first slab */
            void *obj = NULL;
            hs[i] = rtm_pool_acquire_obj(p, &obj);
            ck_assert(!rtm_handle_is_null(hs[i]));
            ck_assert_ptr_nonnull(obj);
            ck_assert_ptr_eq(rtm_pool_get(p, hs[i]), obj);
            if (types[t] == &with_ctor) ck_assert_int_eq(*(int *)obj, 7);
            memset(obj, (int)i, 64);
        }
        if (types[t] == &with_ctor) ck_assert_int_eq(ctor_runs, 3000);
        ck_assert_uint_eq(info(p).live, 3000);
        rtm_handle h = rtm_pool_acquire_obj(p, NULL); /* no object wanted: an acquire */
        if (types[t] == &plain) {
            /* the cap: the null handle, the object NULL, ELIMIT recorded */
            ck_assert(rtm_handle_is_null(h));
            void *obj = (void *)&h;
            rtm_ctx_clear_error(ctx);
            ck_assert(rtm_handle_is_null(rtm_pool_acquire_obj(p, &obj)));
            ck_assert_ptr_null(obj);
            ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
            rtm_ctx_clear_error(ctx);
        } else {
            ck_assert(!rtm_handle_is_null(h));
            ck_assert_int_eq(rtm_pool_release(p, h), RTM_OK);
        }
        for (size_t i = 0; i < 3000; i++) {
            unsigned char *obj = rtm_pool_get(p, hs[i]);
            ck_assert_uint_eq(obj[63], (unsigned char)i);
            ck_assert_int_eq(rtm_pool_release(p, hs[i]), RTM_OK);
        }
        ck_assert_uint_eq(info(p).live, 0);
        rtm_pool_destroy(p);
    }
    void *obj = (void *)&obj;
    uint64_t errors = ctx_stats(ctx).errors;
    ck_assert(rtm_handle_is_null(rtm_pool_acquire_obj(NULL, &obj)));
    ck_assert_ptr_null(obj);
    ck_assert(rtm_handle_is_null(rtm_pool_acquire_obj(NULL, NULL)));
    ck_assert_uint_eq(ctx_stats(ctx).errors, errors); /* p NULL: nothing recorded */
}
END_TEST

START_TEST(handle_stale_and_second_release)
{
    rtm_pool *p = new_pool(48, 16);
    rtm_handle a = rtm_pool_acquire(p), b = rtm_pool_acquire(p);
    memset(rtm_pool_get(p, b), 0x77, 48);
    ck_assert_int_eq(rtm_pool_release(p, a), RTM_OK);

    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_pool_get(p, a));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ESTALE);
    rtm_pool_info before = info(p);
    ck_assert_int_eq(rtm_pool_release(p, a), RTM_ESTALE);
    rtm_pool_info after = info(p);
    ck_assert_uint_eq(after.live, before.live);
    ck_assert_uint_eq(after.releases, before.releases);
    ck_assert_uint_eq(after.bad_releases, before.bad_releases + 1);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);

    /* the slot is reused under a new generation: the old handle stays stale */
    rtm_handle c = rtm_pool_acquire(p);
    ck_assert_uint_eq(rtm_handle_slot(c), rtm_handle_slot(a));
    ck_assert_uint_ne(rtm_handle_gen(c), rtm_handle_gen(a));
    ck_assert_ptr_null(rtm_pool_get(p, a));
    ck_assert_int_eq(rtm_pool_release(p, a), RTM_ESTALE);
    ck_assert_ptr_nonnull(rtm_pool_get(p, c));
    unsigned char *ob = rtm_pool_get(p, b);
    for (int i = 0; i < 48; i++) ck_assert_uint_eq(ob[i], 0x77);
    /* freeing through the pointer ends the handle too */
    ck_assert_int_eq(rtm_pool_free(p, rtm_pool_get(p, c)), RTM_OK);
    ck_assert_ptr_null(rtm_pool_get(p, c));
    ck_assert_int_eq(rtm_pool_release(p, c), RTM_ESTALE);
}
END_TEST

START_TEST(handle_foreign_pools_and_contexts)
{
    rtm_pool *a = new_pool(32, 8), *b = new_pool(32, 8);
    rtm_handle ha = rtm_pool_acquire(a), hb = rtm_pool_acquire(b);
    /* the same slot in another pool: caught by identity */
    ck_assert_uint_eq(rtm_handle_slot(ha), rtm_handle_slot(hb));
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_pool_get(b, ha));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EFOREIGN);
    ck_assert_int_eq(rtm_pool_release(b, ha), RTM_EFOREIGN);
    ck_assert_int_eq(rtm_pool_release(a, hb), RTM_EFOREIGN);
    ck_assert_uint_eq(info(a).live, 1);
    ck_assert_uint_eq(info(b).live, 1);
    /* the worst case: A's identity with the slot and generation of B's live
     * object (what the handle-map crates cannot catch) */
    uint64_t low = ((uint64_t)1 << RTM_HANDLE_POOL_SHIFT) - 1;
    rtm_handle twin = {(hb.bits & low) | ((uint64_t)a->id << RTM_HANDLE_POOL_SHIFT)};
    ck_assert_ptr_nonnull(rtm_pool_get(b, hb));
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_pool_get(b, twin));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EFOREIGN);
    ck_assert_int_eq(rtm_pool_release(b, twin), RTM_EFOREIGN);
    ck_assert_uint_eq(info(b).live, 1);

    rtm_ctx *other = rtm_ctx_new(NULL);
    rtm_type t = {"theirs", 32, 8, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
    rtm_pool *c = rtm_pool_new(other, &t);
    rtm_handle hc = rtm_pool_acquire(c);
    ck_assert_ptr_null(rtm_pool_get(a, hc));
    ck_assert_int_eq(rtm_pool_release(a, hc), RTM_EFOREIGN);
    ck_assert_ptr_null(rtm_pool_get(c, ha));
    ck_assert_int_eq(rtm_ctx_error(other), RTM_EFOREIGN);
    ck_assert_int_eq(rtm_pool_free(c, rtm_pool_get(a, ha)), RTM_EFOREIGN);
    ck_assert_int_eq(rtm_ctx_check(other), RTM_OK);
    rtm_ctx_destroy(other);
    ck_assert_ptr_nonnull(rtm_pool_get(a, ha));
}
END_TEST

/* Forged handles: this pool's identity with every other slot and generation
 * near the live ones never reaches an object but through its own handle. */
START_TEST(handle_forged)
{
    rtm_pool *p = new_pool(16, 8);
    enum { N = 300 };
    rtm_handle all[N];
    bool live[N];
    for (int i = 0; i < N; i++) all[i] = rtm_pool_acquire(p), live[i] = true;
    for (int i = 0; i < N; i += 2) rtm_pool_release(p, all[i]), live[i] = false;
    for (int i = 0; i < N; i += 4) all[i] = rtm_pool_acquire(p), live[i] = true;
    uint64_t seed = 7, reached = 0;
    int iters = rtm_test_small() ? 20000 : 200000;
    for (int k = 0; k < iters; k++) {
        rtm_handle h = all[rtm_test_rand(&seed) % N];
        uint64_t r = rtm_test_rand(&seed);
        switch (r % 4) {
        case 0: h.bits ^= (uint64_t)1 << (r >> 8) % 46; break;          /* a slot or gen bit */
        case 1: h.bits += ((r >> 8) % 7) << RTM_HANDLE_GEN_SHIFT; break; /* other generations */
        case 2: h.bits = (h.bits & ~(uint64_t)RTM_HANDLE_SLOT_MASK) | ((r >> 8) & RTM_HANDLE_SLOT_MASK); break;
        case 3: h.bits = r; break;
        }
        void *o = rtm_pool_get(p, h);
        bool genuine = false;
        for (int i = 0; i < N && !genuine; i++) genuine = live[i] && all[i].bits == h.bits;
        if ((o != NULL) != genuine)
            ck_abort_msg("handle %llx: got %p", (unsigned long long)h.bits, o);
        reached += o != NULL;
    }
    ck_assert_uint_gt(reached, 0); /* the mutations do land on live handles sometimes */
    ck_assert_uint_eq(info(p).live, N / 2 + N / 4);
    ck_assert_uint_eq(info(p).bad_releases, 0); /* get records, but counts no release */
}
END_TEST

/* A destroyed pool's identity goes to the next pool, whose generations start
 * above the old ones: the old handles are foreign there, never its objects. */
START_TEST(handle_of_destroyed_pool_with_recycled_identity)
{
    rtm_pool *a = new_pool(32, 8);
    uint32_t id = a->id;
    rtm_handle old[50];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 50; i++) {
            old[i] = rtm_pool_acquire(a);
            if (round < 2) rtm_pool_release(a, old[i]);
        }
    rtm_pool_destroy(a); /* 50 live: finalized and reported */
    rtm_pool *b = new_pool(32, 8);
    ck_assert_uint_eq(b->id, id);
    ck_assert_uint_gt(b->gen_base, rtm_handle_gen(old[0]));
    rtm_handle fresh[50];
    for (int i = 0; i < 50; i++) fresh[i] = rtm_pool_acquire(b);
    for (int i = 0; i < 50; i++) {
        ck_assert_uint_eq(rtm_handle_slot(fresh[i]), rtm_handle_slot(old[i]));
        rtm_ctx_clear_error(ctx);
        ck_assert_ptr_null(rtm_pool_get(b, old[i]));
        ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EFOREIGN);
        ck_assert_int_eq(rtm_pool_release(b, old[i]), RTM_EFOREIGN);
        ck_assert_ptr_nonnull(rtm_pool_get(b, fresh[i]));
    }
    /* RTM_SCOPED ignores a handle whose pool is gone */
    rtm_pool *c = new_pool(8, 8);
    rtm_handle hc = rtm_pool_acquire(c);
    rtm_pool_destroy(c);
    uint64_t errors = ctx_stats(ctx).errors;
    rtm_handle_scope_end(&hc);
    ck_assert_uint_eq(ctx_stats(ctx).errors, errors);
}
END_TEST

/* One slot, churned until its generations are spent: it retires, no handle of
 * it ever matches again, and its pool's identity is not reused. */
START_TEST(handle_generations_retire_the_slot)
{
    rtm_pool *p = new_pool(8, 8);
    uint32_t id = p->id;
    rtm_handle first = rtm_pool_acquire(p);
    uint32_t slot = rtm_handle_slot(first);
    ck_assert_int_eq(rtm_pool_release(p, first), RTM_OK);
    rtm_handle h = first, last = first;
    for (uint32_t g = rtm_handle_gen(first) + 1; g <= RTM_GEN_MAX; g++) {
        h = rtm_pool_acquire(p);
        if (rtm_handle_slot(h) != slot) break;
        last = h;
        rtm_pool_release(p, h);
    }
    ck_assert_uint_eq(rtm_handle_gen(last), RTM_GEN_MAX);
    ck_assert_uint_eq(info(p).retired, 1);
    h = rtm_pool_acquire(p);
    ck_assert_uint_ne(rtm_handle_slot(h), slot); /* never handed out again */
    ck_assert_ptr_null(rtm_pool_get(p, first));
    ck_assert_ptr_null(rtm_pool_get(p, last));
    ck_assert_int_eq(rtm_pool_release(p, last), RTM_ESTALE);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_pool_release(p, h);
    rtm_pool_destroy(p);
    rtm_pool *q = new_pool(8, 8);
    ck_assert_uint_ne(q->id, id); /* its generations were spent */
}
END_TEST

START_TEST(pool_identity_limit)
{
    /* No other pool is live in this process now (the fixture's context is
     * new): cap the identities live at once to three. */
    rtm_pool *ps[4];
    uint32_t old = _rtm_pool_ids_cap(3);
    for (int i = 0; i < 3; i++) ps[i] = new_pool(16, 8);
    rtm_type t = {"one too many", 16, 8, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_pool_new(ctx, &t));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    ck_assert_uint_eq(ctx_stats(ctx).pools_live, 3);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_pool_destroy(ps[0]); /* an identity comes back */
    ps[0] = new_pool(16, 8);
    _rtm_pool_ids_cap(old);
    ps[3] = new_pool(16, 8);
    for (int i = 0; i < 4; i++) rtm_pool_destroy(ps[i]);
}
END_TEST

START_TEST(pool_slot_space_limit)
{
    rtm_pool *p = new_pool(8192, 8);
    _rtm_pool_ranges_cap(p, 2);
    uint32_t per = p->nslots, got = 0;
    rtm_handle hs[64];
    ck_assert_uint_le(2 * per, 64);
    for (;;) {
        rtm_handle h = rtm_pool_acquire(p);
        if (rtm_handle_is_null(h)) break;
        hs[got++] = h;
    }
    ck_assert_uint_eq(got, 2 * per);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    ck_assert_int_eq(rtm_pool_release(p, hs[5]), RTM_OK);
    ck_assert(!rtm_handle_is_null(rtm_pool_acquire(p)));
}
END_TEST

static Suite *pool_handle_suite(void)
{
    Suite *s = suite_create("pool_handle");
    TCase *h = tcase_create("handles");
    tcase_add_checked_fixture(h, setup, teardown);
    tcase_set_timeout(h, 120);
    tcase_add_test(h, handle_roundtrip_and_null);
    tcase_add_test(h, acquire_obj_gives_the_object);
    tcase_add_test(h, handle_stale_and_second_release);
    tcase_add_test(h, handle_foreign_pools_and_contexts);
    tcase_add_test(h, handle_forged);
    tcase_add_test(h, handle_of_destroyed_pool_with_recycled_identity);
    tcase_add_test(h, handle_generations_retire_the_slot);
    tcase_add_test(h, pool_identity_limit);
    tcase_add_test(h, pool_slot_space_limit);
    suite_add_tcase(s, h);
    return s;
}

RTM_TEST_MAIN(pool_handle_suite)
