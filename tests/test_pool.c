/* test_pool.c: typed pools on the owner thread: shapes, layouts, callbacks,
 * raw pointers, RAII, slabs and their policy, figures, check and visit,
 * faults and limits, and every bad input with its exact status. Handles have
 * their own suite (test_pool_handle.c). */
#include "pool_support.h"

/* ---- shapes --------------------------------------------------------------- */

START_TEST(pool_shapes_and_alignment)
{
    static const struct { size_t size, align, want_align; } shapes[] = {
        {1, 0, 1}, {3, 0, 1}, {6, 0, 2}, {24, 0, 8}, {64, 0, 16}, {100, 4, 4},
        {7, 64, 64}, {4104, 8, 8}, {5000, 4096, 4096}, {65536, 0, 16},
        {RTM_POOL_MAX_SIZE, 0, 16}, {RTM_POOL_MAX_SIZE - 1, 1, 1}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        rtm_pool *p = new_pool(shapes[k].size, shapes[k].align);
        rtm_pool_info in = info(p);
        ck_assert_uint_eq(in.size, shapes[k].size);
        ck_assert_uint_eq(in.align, shapes[k].want_align);
        ck_assert_uint_eq(in.stride % in.align, 0);
        ck_assert_uint_ge(in.stride, in.size);
        ck_assert_uint_eq(in.slabs, 0); /* nothing until the first acquire */
        enum { N = 20 };
        unsigned char *objs[N];
        for (int i = 0; i < N; i++) {
            objs[i] = rtm_pool_alloc(p);
            ck_assert_ptr_nonnull(objs[i]);
            ck_assert_uint_eq((uintptr_t)objs[i] % in.align, 0);
            memset(objs[i], i + 1, in.size); /* the whole object is ours */
        }
        for (int i = 0; i < N; i++) {
            ck_assert_uint_eq(objs[i][0], (unsigned)(i + 1));
            ck_assert_uint_eq(objs[i][in.size - 1], (unsigned)(i + 1));
            for (int j = 0; j < i; j++) ck_assert_ptr_ne(objs[i], objs[j]);
        }
        ck_assert_uint_ge(info(p).slab_bytes, 8 * in.stride);
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
        for (int i = 0; i < N; i++) ck_assert_int_eq(rtm_pool_free(p, objs[i]), RTM_OK);
        rtm_pool_destroy(p);
    }
}
END_TEST

typedef struct node {
    int32_t key;
    double weight;
    uint8_t flags[3];
    rtm_handle next;
} node;

START_TEST(pool_from_layout)
{
    const rtm_field f[] = {{"key", RTM_KIND_I32, 0, NULL}, {"weight", RTM_KIND_F64, 0, NULL},
                           {"flags", RTM_KIND_U8, 3, NULL}, {"next", RTM_KIND_HANDLE, 0, NULL}};
    const rtm_layout *l = rtm_layout_new(ctx, "node", f, 4);
    ck_assert_ptr_nonnull(l);
    rtm_type t = {"nodes", 0, 0, l, NULL, NULL, NULL, NULL, NULL, 0, 0};
    rtm_pool *p = rtm_pool_new(ctx, &t);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(info(p).size, sizeof(node));
    ck_assert_uint_eq(info(p).align, alignof(node));
    ck_assert_str_eq(info(p).name, "nodes");
    rtm_handle a = rtm_pool_acquire(p), b = rtm_pool_acquire(p);
    node *na = rtm_pool_get(p, a);
    char *raw = rtm_pool_get(p, b);
    ck_assert_ptr_nonnull(na);
    *(int32_t *)(raw + rtm_layout_offset(l, "key")) = 7;
    *(rtm_handle *)(void *)(raw + rtm_layout_offset(l, "next")) = a;
    node *nb = (node *)(void *)raw;
    ck_assert_int_eq(nb->key, 7);
    ck_assert_ptr_eq(rtm_pool_get(p, nb->next), na);
}
END_TEST

/* ---- bad input ---------------------------------------------------------------- */

static void expect_new_fails(const rtm_type *t, rtm_status want, const char *why)
{
    uint64_t pages = ctx_stats(ctx).page_bytes, errors = ctx_stats(ctx).errors;
    rtm_ctx_clear_error(ctx);
    ck_assert_msg(rtm_pool_new(ctx, t) == NULL, "%s: accepted", why);
    ck_assert_msg(rtm_ctx_error(ctx) == want, "%s: %s", why, rtm_status_str(rtm_ctx_error(ctx)));
    ck_assert_uint_eq(ctx_stats(ctx).page_bytes, pages);
    ck_assert_uint_eq(ctx_stats(ctx).errors, errors + 1);
    ck_assert_uint_eq(ctx_stats(ctx).pools_live, 0);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
}

START_TEST(pool_new_bad_input)
{
    rtm_type ok = {"ok", 16, 8, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
    ck_assert_ptr_null(rtm_pool_new(NULL, &ok));
    expect_new_fails(NULL, RTM_EINVAL, "NULL type");
    rtm_type t = ok;
    t.size = 0;
    expect_new_fails(&t, RTM_EINVAL, "size 0");
    t.size = RTM_POOL_MAX_SIZE + 1;
    expect_new_fails(&t, RTM_EINVAL, "size over the max");
    t.size = SIZE_MAX;
    expect_new_fails(&t, RTM_EINVAL, "SIZE_MAX");
    t = ok;
    t.align = 3;
    expect_new_fails(&t, RTM_EINVAL, "align 3");
    t.align = 2 * RTM_POOL_MAX_ALIGN;
    expect_new_fails(&t, RTM_EINVAL, "align over the max");
    t = ok;
    t.flags = 0x80;
    expect_new_fails(&t, RTM_EINVAL, "unknown flags");

    const rtm_field f[] = {{"a", RTM_KIND_U64, 0, NULL}};
    const rtm_layout *l = rtm_layout_new(ctx, "l", f, 1);
    t = ok;
    t.layout = l;
    expect_new_fails(&t, RTM_EINVAL, "layout and a size");
    t.size = 0;
    expect_new_fails(&t, RTM_EINVAL, "layout and an align");
    char junk[512] = {0};
    t.align = 0;
    t.layout = (const rtm_layout *)(void *)junk;
    expect_new_fails(&t, RTM_EINVAL, "not a layout");
    rtm_ctx *other = rtm_ctx_new(NULL);
    t.layout = rtm_layout_new(other, "theirs", f, 1);
    expect_new_fails(&t, RTM_EINVAL, "layout of another context");
    rtm_ctx_destroy(other);
    const rtm_field big[] = {{"a", RTM_KIND_U8, RTM_POOL_MAX_SIZE + 1, NULL}};
    t.layout = rtm_layout_new(ctx, "big", big, 1);
    ck_assert_ptr_nonnull(t.layout);
    expect_new_fails(&t, RTM_EINVAL, "layout too large for a pool");

    /* the calls on NULL */
    ck_assert_uint_eq(rtm_pool_acquire(NULL).bits, 0);
    ck_assert_ptr_null(rtm_pool_alloc(NULL));
    ck_assert_ptr_null(rtm_pool_get(NULL, (rtm_handle){1}));
    ck_assert_int_eq(rtm_pool_release(NULL, (rtm_handle){1}), RTM_EINVAL);
    ck_assert_int_eq(rtm_pool_free(NULL, junk), RTM_EINVAL);
    rtm_pool_info in;
    ck_assert_int_eq(rtm_pool_stats(NULL, &in), RTM_EINVAL);
    rtm_pool_destroy(NULL);

    /* still usable */
    rtm_pool *p = rtm_pool_new(ctx, &ok);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(rtm_pool_stats(p, NULL), RTM_EINVAL);
    ck_assert_ptr_nonnull(rtm_pool_get(p, rtm_pool_acquire(p)));
}
END_TEST









START_TEST(pool_cap)
{
    rtm_type t = {"capped", 24, 8, NULL, NULL, NULL, NULL, NULL, NULL, 5, 0};
    rtm_pool *p = rtm_pool_new(ctx, &t);
    rtm_handle h[5];
    for (int i = 0; i < 5; i++) ck_assert(!rtm_handle_is_null(h[i] = rtm_pool_acquire(p)));
    rtm_ctx_clear_error(ctx);
    ck_assert(rtm_handle_is_null(rtm_pool_acquire(p)));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    rtm_ctx_clear_error(ctx);
    ck_assert_ptr_null(rtm_pool_alloc(p));
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    ck_assert_uint_eq(info(p).live, 5);
    ck_assert_uint_eq(info(p).cap, 5);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    ck_assert_int_eq(rtm_pool_release(p, h[2]), RTM_OK);
    void *o = rtm_pool_alloc(p);
    ck_assert_ptr_nonnull(o);
    ck_assert_ptr_null(rtm_pool_alloc(p));
    ck_assert_int_eq(rtm_pool_free(p, o), RTM_OK);
}
END_TEST

/* ---- callbacks -------------------------------------------------------------------- */

typedef struct counts {
    int init, fini, ctor, dtor;
    int order_ok;
} counts;

typedef struct obj {
    uint64_t magic;   /* set by init, kept across lives: type-stable storage */
    int lives;
    int live;
} obj;

static void on_init(void *ud, void *o)
{
    ((counts *)ud)->init++;
    ((obj *)o)->magic = 0xFEEDu;
    ((obj *)o)->lives = 0;
    ((obj *)o)->live = 0;
}
static void on_fini(void *ud, void *o)
{
    counts *c = ud;
    c->fini++;
    if (((obj *)o)->magic != 0xFEEDu || ((obj *)o)->live) c->order_ok = 0;
    ((obj *)o)->magic = 0;
}
static void on_ctor(void *ud, void *o)
{
    ((counts *)ud)->ctor++;
    ((obj *)o)->lives++;
    ((obj *)o)->live = 1;
}
static void on_dtor(void *ud, void *o)
{
    ((counts *)ud)->dtor++;
    ((obj *)o)->live = 0;
}

static rtm_pool *callback_pool(rtm_ctx *c, counts *n)
{
    memset(n, 0, sizeof *n);
    n->order_ok = 1;
    rtm_type t = {"cb", sizeof(obj), alignof(obj), NULL, on_init, on_fini, on_ctor, on_dtor, n, 0, 0};
    rtm_pool *p = rtm_pool_new(c, &t);
    ck_assert_ptr_nonnull(p);
    return p;
}

START_TEST(pool_callbacks_uma)
{
    counts n;
    rtm_pool *p = callback_pool(ctx, &n);
    ck_assert_int_eq(n.init, 0);
    rtm_handle h = rtm_pool_acquire(p);
    int per_slab = (int)p->nslots;
    ck_assert_int_eq(n.init, per_slab); /* storage entered: every slot, once */
    ck_assert_int_eq(n.ctor, 1);
    obj *o = rtm_pool_get(p, h);
    ck_assert_uint_eq(o->magic, 0xFEEDu);
    ck_assert_int_eq(o->live, 1);
    for (int i = 0; i < 10; i++) {
        rtm_pool_release(p, h);
        h = rtm_pool_acquire(p);
    }
    ck_assert_ptr_eq(rtm_pool_get(p, h), o); /* LIFO: the same storage */
    ck_assert_int_eq(o->lives, 11);          /* kept by the type-stable storage */
    ck_assert_int_eq(n.ctor, 11);
    ck_assert_int_eq(n.dtor, 10);
    ck_assert_int_eq(n.init, per_slab);
    void *raw = rtm_pool_alloc(p);
    ck_assert_int_eq(n.ctor, 12);
    rtm_pool_free(p, raw);
    ck_assert_int_eq(n.dtor, 11);
    rtm_pool_release(p, h);
    ck_assert_int_eq(n.fini, 0);
    rtm_ctx_trim(ctx); /* the empty slab leaves: fini on every slot */
    ck_assert_int_eq(n.fini, per_slab);
    ck_assert_uint_eq(info(p).slabs, 0);
    ck_assert_int_eq(n.order_ok, 1);
}
END_TEST

static int hook_calls;
static rtm_status hook_status;
static const char *hook_where;
static void error_hook(void *ud, rtm_status s, const char *where)
{
    (void)ud;
    hook_calls++;
    hook_status = s;
    hook_where = where;
}

START_TEST(pool_destroy_with_live_objects)
{
    counts n;
    rtm_pool *p = callback_pool(ctx, &n);
    rtm_handle h[10];
    for (int i = 0; i < 10; i++) h[i] = rtm_pool_acquire(p);
    for (int i = 0; i < 10; i += 3) rtm_pool_release(p, h[i]); /* 4 released, 6 live */
    hook_calls = 0;
    rtm_ctx_set_error_hook(ctx, error_hook, NULL);
    rtm_pool_destroy(p);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert_int_eq(hook_status, RTM_ESTALE);
    ck_assert_str_eq(hook_where, "rtm_pool_destroy");
    ck_assert_int_eq(n.dtor, 10);        /* 4 released + 6 finalized */
    ck_assert_int_eq(n.fini, n.init);    /* every slot's storage left */
    ck_assert_int_eq(n.order_ok, 1);     /* dtor before fini */
    rtm_stats st = ctx_stats(ctx);
    ck_assert_uint_eq(st.pool_leaked, 6);
    ck_assert_uint_eq(st.pools_live, 0);
    ck_assert_uint_eq(st.pool_objects_live, 0);

    /* a clean destroy reports nothing */
    rtm_pool *q = callback_pool(ctx, &n);
    rtm_pool_release(q, rtm_pool_acquire(q));
    hook_calls = 0;
    rtm_pool_destroy(q);
    ck_assert_int_eq(hook_calls, 0);
    ck_assert_uint_eq(ctx_stats(ctx).pool_leaked, 6);
    rtm_ctx_set_error_hook(ctx, NULL, NULL);
}
END_TEST

START_TEST(ctx_destroy_ends_pools)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {0, NULL, &tp.source, 0};
    rtm_ctx *c = rtm_ctx_new(&cfg);
    counts n;
    rtm_pool *p = callback_pool(c, &n);
    for (int i = 0; i < 1000; i++) rtm_pool_acquire(p);
    rtm_type t = {"plain", 100, 4, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
    rtm_pool *q = rtm_pool_new(c, &t);
    for (int i = 0; i < 100; i++) rtm_pool_alloc(q);
    hook_calls = 0;
    rtm_ctx_set_error_hook(c, error_hook, NULL);
    rtm_ctx_destroy(c);
    ck_assert_int_eq(hook_calls, 2);
    ck_assert_int_eq(n.dtor, 1000);
    ck_assert_int_eq(n.fini, n.init);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
}
END_TEST

/* ---- raw pointers ---------------------------------------------------------------------- */

START_TEST(pool_free_rejects_foreign_pointers)
{
    rtm_pool *p = new_pool(64, 16), *q = new_pool(64, 16);
    rtm_pool *big = new_pool(100000, 64); /* slabs of several segments */
    char *a = rtm_pool_alloc(p), *b = rtm_pool_alloc(q), *c = rtm_pool_alloc(big);
    int on_stack;
    char *from_malloc = malloc(64);
    static char in_data[64];
    struct { void *ptr; const char *what; } foreign[] = {
        {&on_stack, "stack"}, {from_malloc, "malloc"}, {in_data, "static data"},
        {b, "another pool's object"}, {c, "another pool's big object"},
        {a + 1, "inside an object"}, {a + 16, "inside an object, aligned"},
        {(char *)((uintptr_t)a & ~(uintptr_t)0xFFFF), "the slab header"},
        {(char *)((uintptr_t)a & ~(uintptr_t)0xFFFF) + 64, "the slot table"},
        {(void *)(uintptr_t)0x1000, "low address"}, {(void *)(uintptr_t)-64, "top address"},
        {(void *)(uintptr_t)((uint64_t)1 << 47), "past the address space"},
    };
    uint64_t bad = info(p).bad_releases;
    for (size_t k = 0; k < sizeof foreign / sizeof foreign[0]; k++) {
        rtm_ctx_clear_error(ctx);
        ck_assert_msg(rtm_pool_free(p, foreign[k].ptr) == RTM_EFOREIGN, "%s", foreign[k].what);
        ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EFOREIGN);
    }
    ck_assert_uint_eq(info(p).bad_releases, bad + sizeof foreign / sizeof foreign[0]);
    ck_assert_uint_eq(info(p).live, 1);
    /* the big pool finds its objects past its first segment */
    char *cs[20];
    for (int i = 0; i < 20; i++) cs[i] = rtm_pool_alloc(big);
    for (int i = 0; i < 20; i++) ck_assert_int_eq(rtm_pool_free(big, cs[i]), RTM_OK);
    ck_assert_int_eq(rtm_pool_free(big, c + 64), RTM_EFOREIGN);
    ck_assert_int_eq(rtm_pool_free(big, c), RTM_OK);

    ck_assert_int_eq(rtm_pool_free(p, NULL), RTM_OK);
    ck_assert_int_eq(rtm_pool_free(p, a), RTM_OK);
    ck_assert_int_eq(rtm_pool_free(p, a), RTM_ESTALE); /* double free */
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ESTALE);
    ck_assert_uint_eq(info(p).live, 0);
    ck_assert_uint_eq(info(p).releases, 1);
    ck_assert_int_eq(rtm_pool_free(q, b), RTM_OK);
    free(from_malloc);
}
END_TEST

/* The slot of a pointer comes from one multiply (pool.h): for strides odd,
 * even, power of two or not, 1 and big, every byte inside an object, the
 * slab's headers and the slab's tail past its last object are foreign, the
 * objects' starts are not, and a second free is stale. */
START_TEST(pool_free_every_offset)
{
    static const struct { size_t size, align; } shapes[] = {
        {1, 1}, {3, 1}, {24, 8}, {40, 8}, {64, 16}, {100, 4}, {4104, 8}, {100000, 64}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        rtm_pool *p = new_pool(shapes[k].size, shapes[k].align);
        size_t stride = info(p).stride, slab = info(p).slab_bytes;
        char *a = rtm_pool_alloc(p), *b = rtm_pool_alloc(p);
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_eq(b, a + stride); /* a fresh slab hands out in order */
        size_t step = stride > 5000 ? 997 : 1;
        for (size_t off = 1; off < stride; off += step) {
            ck_assert_msg(rtm_pool_free(p, a + off) == RTM_EFOREIGN, "stride %zu +%zu", stride, off);
            ck_assert_msg(rtm_pool_free(p, b + off) == RTM_EFOREIGN, "stride %zu +%zu", stride, off);
        }
        char *base = (char *)((uintptr_t)a & ~(uintptr_t)(slab - 1));
        for (char *x = base; x < a; x += step)
            ck_assert_msg(rtm_pool_free(p, x) == RTM_EFOREIGN, "stride %zu, header +%zu", stride,
                          (size_t)(x - base));
        char *end = a + p->nslots * stride; /* past the last object, in the slab */
        for (char *x = end; x < base + slab; x += step)
            ck_assert_msg(rtm_pool_free(p, x) == RTM_EFOREIGN, "stride %zu, tail +%zu", stride,
                          (size_t)(x - end));
        ck_assert_int_eq(rtm_pool_free(p, b), RTM_OK);
        ck_assert_int_eq(rtm_pool_free(p, b), RTM_ESTALE);
        ck_assert_int_eq(rtm_pool_free(p, a), RTM_OK);
        ck_assert_int_eq(rtm_pool_free(p, a), RTM_ESTALE);
        ck_assert_uint_eq(info(p).live, 0);
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
        rtm_pool_destroy(p);
    }
}
END_TEST

/* A slot churned through the raw path until its generations are spent
 * retires there too, and the pool stays sound. */
START_TEST(pool_free_retires_the_slot)
{
    rtm_pool *p = new_pool(8, 8);
    char *first = rtm_pool_alloc(p), *x = first;
    uint64_t pairs = 0, bad = 0; /* no ck_assert in the loop: each one costs a write */
    do {
        bad += rtm_pool_free(p, x) != RTM_OK;
        x = rtm_pool_alloc(p);
        pairs++;
    } while (x == first && pairs <= RTM_GEN_MAX);
    ck_assert_uint_eq(bad, 0);
    ck_assert_uint_eq(info(p).retired, 1);
    ck_assert_uint_eq(pairs, RTM_GEN_MAX + 1 - p->gen_base); /* every generation served */
    ck_assert_ptr_ne(x, first);            /* never handed out again */
    ck_assert_int_eq(rtm_pool_free(p, first), RTM_ESTALE);
    ck_assert_int_eq(rtm_pool_free(p, x), RTM_OK);
    rtm_pool_info in = info(p);
    ck_assert_uint_eq(in.live, 0);
    ck_assert_uint_eq(in.peak, 1);
    ck_assert_uint_eq(in.acquires, in.releases);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
}
END_TEST

#ifdef HAVE_ASAN
START_TEST(pool_free_slots_are_poisoned)
{
    rtm_pool *p = new_pool(36, 8);
    ck_assert_uint_eq(info(p).stride, 40);
    char *a = rtm_pool_alloc(p), *b = rtm_pool_alloc(p);
    ck_assert(!__asan_region_is_poisoned(a, 36));
    ck_assert(__asan_address_is_poisoned(b + 36)); /* the padding is nobody's */
    rtm_pool_free(p, a);
    ck_assert(__asan_address_is_poisoned(a));
    ck_assert(__asan_address_is_poisoned(a + 35));
    char *c = rtm_pool_alloc(p);
    ck_assert_ptr_eq(c, a);
    ck_assert(!__asan_region_is_poisoned(c, 36));
    /* slots never handed out are poisoned too */
    ck_assert(__asan_address_is_poisoned(b + 5 * info(p).stride));
    rtm_pool_free(p, b);
    rtm_pool_free(p, c);
}
END_TEST
#endif

/* ---- RAII ----------------------------------------------------------------------------------- */

#ifdef RTM_SCOPED
static rtm_handle scoped_leaves_early(rtm_pool *p, int keep)
{
    RTM_SCOPED(p) rtm_handle h = rtm_pool_acquire(p);
    *(int *)rtm_pool_get(p, h) = 5;
    if (keep) return rtm_handle_take(&h); /* moved out: survives the scope */
    return h;                              /* copied out: released at the return */
}

START_TEST(pool_scoped_handles)
{
    rtm_pool *p = new_pool(sizeof(int), 0);
    rtm_handle seen;
    {
        RTM_SCOPED(p) rtm_handle h = rtm_pool_acquire(p);
        ck_assert_ptr_nonnull(rtm_pool_get(p, h));
        ck_assert_uint_eq(info(p).live, 1);
        seen = h;
    }
    ck_assert_uint_eq(info(p).live, 0);
    ck_assert_ptr_null(rtm_pool_get(p, seen));

    for (int i = 0; i < 10; i++) {
        RTM_SCOPED(p) rtm_handle h = rtm_pool_acquire(p);
        if (i == 3) continue;
        if (i == 6) break;
    }
    ck_assert_uint_eq(info(p).live, 0);
    ck_assert_uint_eq(info(p).acquires, 8);

    rtm_handle copied = scoped_leaves_early(p, 0);
    ck_assert_ptr_null(rtm_pool_get(p, copied));
    rtm_handle kept = scoped_leaves_early(p, 1);
    ck_assert_int_eq(*(int *)rtm_pool_get(p, kept), 5);
    ck_assert_uint_eq(info(p).live, 1);
    rtm_pool_release(p, kept);

    /* released early through take: the scope does nothing, reports nothing */
    uint64_t errors = ctx_stats(ctx).errors;
    {
        RTM_SCOPED(p) rtm_handle h = rtm_pool_acquire(p);
        ck_assert_int_eq(rtm_pool_release(p, rtm_handle_take(&h)), RTM_OK);
    }
    ck_assert_uint_eq(ctx_stats(ctx).errors, errors);
    /* released early and left set: the scope's release is reported stale */
    {
        RTM_SCOPED(p) rtm_handle h = rtm_pool_acquire(p);
        rtm_pool_release(p, h);
    }
    ck_assert_uint_eq(ctx_stats(ctx).errors, errors + 1);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ESTALE);

    /* a failed acquire leaves a null handle: fine at the scope's end */
    rtm_type t = {"one", 8, 8, NULL, NULL, NULL, NULL, NULL, NULL, 1, 0};
    rtm_pool *one = rtm_pool_new(ctx, &t);
    {
        RTM_SCOPED(one) rtm_handle a = rtm_pool_acquire(one);
        RTM_SCOPED(one) rtm_handle b = rtm_pool_acquire(one);
        ck_assert(!rtm_handle_is_null(a));
        ck_assert(rtm_handle_is_null(b));
    }
    ck_assert_uint_eq(info(one).live, 0);
}
END_TEST
#endif

/* ---- slabs, figures, check, visit --------------------------------------------------------- */

START_TEST(pool_empty_slabs_go_back)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {0, NULL, &tp.source, 0};
    rtm_ctx *c = rtm_ctx_new(&cfg);
    rtm_type t = {"s", 64, 16, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
    rtm_pool *p = rtm_pool_new(c, &t);
    long base = atomic_load(&tp.held_bytes);
    enum { N = 10000 };
    static void *objs[N];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) objs[i] = rtm_pool_alloc(p);
        rtm_pool_info in = info(p);
        ck_assert_uint_eq(in.slabs, (N + p->nslots - 1) / p->nslots);
        ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
        /* free in an order that empties slabs one after another */
        for (int i = N - 1; i >= 0; i--) REQUIRE(rtm_pool_free(p, objs[i]) == RTM_OK);
        in = info(p);
        ck_assert_uint_le(in.slabs, 2); /* the current slab and one spare */
        ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
    }
    rtm_ctx_trim(c);
    ck_assert_uint_eq(info(p).slabs, 0);
    ck_assert_int_lt(atomic_load(&tp.held_bytes) - base, 65536); /* at most directory leaves */
    ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
    /* and grows again from reused ranges */
    rtm_handle h = rtm_pool_acquire(p);
    ck_assert_ptr_nonnull(rtm_pool_get(p, h));
    rtm_ctx_destroy(c);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
}
END_TEST

/* rtm_pool_keep_slabs: a pool that fills and empties the same number of
 * slabs keeps them (no new page requests, no misses after the first burst);
 * a lower number lets the extra go at their next emptying; trim takes all. */
START_TEST(pool_keeps_slabs_for_bursts)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {0, NULL, &tp.source, 0};
    rtm_ctx *c = rtm_ctx_new(&cfg);
    rtm_type t = {"burst", 64, 16, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
    rtm_pool *p = rtm_pool_new(c, &t);
    enum { N = 10000 };
    static rtm_handle hs[N];
    uint64_t slabs = (N + p->nslots - 1) / p->nslots;
    ck_assert_int_eq(rtm_pool_keep_slabs(p, slabs), RTM_OK);
    long reserves = 0;
    uint64_t misses = 0;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < N; i++) hs[i] = rtm_pool_acquire(p);
        ck_assert_uint_eq(info(p).slabs, slabs);
        if (round == 0) {
            reserves = atomic_load(&tp.reserves);
            misses = info(p).misses;
        } else { /* served by the kept slabs: nothing asked, nothing missed */
            ck_assert_int_eq(atomic_load(&tp.reserves), reserves);
            ck_assert_uint_eq(info(p).misses, misses);
        }
        for (int i = round % 2 ? 0 : N - 1; round % 2 ? i < N : i >= 0; i += round % 2 ? 1 : -1)
            REQUIRE(rtm_pool_release(p, hs[i]) == RTM_OK);
        ck_assert_uint_eq(info(p).live, 0);
        ck_assert_uint_eq(info(p).slabs, slabs); /* all kept */
        ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
    }
    /* keep fewer: the extra go as they empty next */
    ck_assert_int_eq(rtm_pool_keep_slabs(p, 2), RTM_OK);
    for (int i = 0; i < N; i++) hs[i] = rtm_pool_acquire(p);
    for (int i = 0; i < N; i++) REQUIRE(rtm_pool_release(p, hs[i]) == RTM_OK);
    ck_assert_uint_le(info(p).slabs, 3); /* the current slab and two kept */
    ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
    rtm_ctx_trim(c);
    ck_assert_uint_eq(info(p).slabs, 0);
    /* bad arguments, nothing changed */
    ck_assert_int_eq(rtm_pool_keep_slabs(NULL, 4), RTM_EINVAL);
    rtm_ctx_clear_error(c);
    ck_assert_int_eq(rtm_pool_keep_slabs(p, 0), RTM_EINVAL);
    ck_assert_int_eq(rtm_ctx_error(c), RTM_EINVAL);
    t.flags = RTM_POOL_CONCURRENT;
    rtm_pool *shared = rtm_pool_new(c, &t);
    ck_assert_ptr_nonnull(shared);
    ck_assert_int_eq(rtm_pool_keep_slabs(shared, 4), RTM_EINVAL);
    ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
    rtm_ctx_destroy(c);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
}
END_TEST

/* A slab given back and its range reused: handles into the old slab are
 * stale, and the new slab's generations start above them. */
START_TEST(pool_range_reuse_keeps_generations)
{
    rtm_pool *p = new_pool(256, 8);
    uint32_t n = p->nslots;
    rtm_handle *hs = calloc(3 * n, sizeof *hs);
    for (uint32_t i = 0; i < 3 * n; i++) hs[i] = rtm_pool_acquire(p);
    for (uint32_t i = 0; i < 3 * n; i++) rtm_pool_release(p, hs[i]);
    rtm_ctx_trim(ctx);
    ck_assert_uint_eq(info(p).slabs, 0);
    for (uint32_t i = 0; i < 3 * n; i++) {
        rtm_ctx_clear_error(ctx);
        ck_assert_ptr_null(rtm_pool_get(p, hs[i]));
        ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ESTALE);
    }
    rtm_handle again = rtm_pool_acquire(p);
    bool same_slot = false;
    for (uint32_t i = 0; i < 3 * n; i++) {
        if (rtm_handle_slot(hs[i]) != rtm_handle_slot(again)) continue;
        same_slot = true;
        ck_assert_uint_gt(rtm_handle_gen(again), rtm_handle_gen(hs[i]));
        ck_assert_int_eq(rtm_pool_release(p, hs[i]), RTM_ESTALE);
    }
    ck_assert(same_slot);
    ck_assert_ptr_nonnull(rtm_pool_get(p, again));
    free(hs);
}
END_TEST

START_TEST(pool_figures)
{
    rtm_type t = {"figures", 100, 4, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
    rtm_pool *p = rtm_pool_new(ctx, &t);
    rtm_pool *q = new_pool(8, 8);
    uint32_t n = p->nslots;
    rtm_handle *hs = calloc(n + 10, sizeof *hs);
    for (uint32_t i = 0; i < n + 10; i++) hs[i] = rtm_pool_acquire(p);
    for (uint32_t i = 0; i < 20; i++) rtm_pool_release(p, hs[i]);
    for (uint32_t i = 0; i < 5; i++) hs[i] = rtm_pool_acquire(p);
    rtm_pool_alloc(q);
    rtm_pool_info in = info(p);
    ck_assert_str_eq(in.name, "figures");
    ck_assert_uint_eq(in.size, 100);
    ck_assert_uint_eq(in.stride, 100);
    ck_assert_uint_eq(in.live, n + 10 - 20 + 5);
    ck_assert_uint_eq(in.peak, n + 10);
    ck_assert_uint_eq(in.acquires, n + 15);
    ck_assert_uint_eq(in.releases, 20);
    ck_assert_uint_eq(in.misses, 2);
    ck_assert_uint_eq(in.hits, n + 13);
    ck_assert_uint_eq(in.slabs, 2);
    ck_assert_uint_eq(in.slab_bytes, 65536);
    rtm_stats st = ctx_stats(ctx);
    ck_assert_uint_eq(st.pools_live, 2);
    ck_assert_uint_eq(st.pool_objects_live, in.live + 1);
    ck_assert_uint_eq(st.pool_slabs, 3);
    ck_assert_uint_eq(st.pool_bytes, 3 * 65536);
    ck_assert_uint_eq(st.pool_hits, in.hits + 0);
    ck_assert_uint_eq(st.pool_misses, 3);
    ck_assert_uint_eq(st.bytes_in_use, in.live * 100 + 8);
    /* and the JSON shows them */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    rtm_stats_write(ctx, f, RTM_STATS_JSON);
    fclose(f);
    char want[64];
    snprintf(want, sizeof want, "\"pool_objects_live\": %llu", (unsigned long long)(in.live + 1));
    ck_assert_ptr_nonnull(strstr(text, want));
    free(text);
    free(hs);
}
END_TEST

typedef struct visit_tally {
    int slabs;
    size_t bytes;
    int stop_after;
} visit_tally;

static int visit_count(void *ud, rtm_visit_kind kind, void *ptr, size_t size)
{
    visit_tally *v = ud;
    if (kind != RTM_VISIT_POOL_SLAB) return 0;
    ck_assert_uint_eq((uintptr_t)ptr % size, 0); /* slabs are aligned to their size */
    v->slabs++;
    v->bytes += size;
    return v->stop_after && v->slabs == v->stop_after;
}

START_TEST(pool_visit_slabs)
{
    rtm_pool *p = new_pool(1000, 8), *q = new_pool(200000, 8);
    for (int i = 0; i < 300; i++) rtm_pool_alloc(p);
    for (int i = 0; i < 9; i++) rtm_pool_alloc(q);
    visit_tally v = {0, 0, 0};
    ck_assert_int_eq(rtm_ctx_visit(ctx, visit_count, &v), RTM_OK);
    ck_assert_int_eq(v.slabs, (int)(info(p).slabs + info(q).slabs));
    ck_assert_uint_eq(v.bytes, info(p).slabs * info(p).slab_bytes + info(q).slabs * info(q).slab_bytes);
    visit_tally w = {0, 0, 2};
    rtm_ctx_visit(ctx, visit_count, &w);
    ck_assert_int_eq(w.slabs, 2);
}
END_TEST

/* check must see broken invariants, not only bless good ones */
START_TEST(pool_check_catches_corruption)
{
    rtm_pool *p = new_pool(32, 8);
    rtm_handle a = rtm_pool_acquire(p), b = rtm_pool_acquire(p), c = rtm_pool_acquire(p);
    rtm_pool_release(p, b);
    rtm_pool_release(p, c);
    uint32_t i;
    rtm_slab *s = _rtm_pool_slab_at(p, rtm_handle_slot(a) >> p->local_bits);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    /* a free slot linked to itself: a cycle */
    i = s->free;
    uint32_t saved = s->slots[i].next;
    s->slots[i].next = i;
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_EINVAL);
    s->slots[i].next = saved;
    /* a live slot on the free list */
    uint32_t sa = rtm_handle_slot(a) & p->local_mask;
    s->slots[i].next = sa;
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_EINVAL);
    s->slots[i].next = saved;
    /* a live count that disagrees */
    s->live++;
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_EINVAL);
    s->live--;
    /* a state below its range's floor cannot happen */
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
}
END_TEST

/* ---- memory: faults every k, the limit ------------------------------------------------------- */

START_TEST(pool_fault_every_k)
{
    /* A pool whose growth fails at the k-th page request: the acquire reports
     * RTM_ENOMEM, the pool stays usable and consistent, the next one grows. */
    for (long k = 2; k <= 14; k++) {
        rtm_test_pages tp;
        rtm_test_pages_init(&tp, k, false);
        rtm_config cfg = {0, NULL, &tp.source, 0};
        rtm_ctx *c = rtm_ctx_new(&cfg);
        ck_assert_ptr_nonnull(c);
        rtm_type t = {"f", 4000, 8, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
        rtm_pool *p = rtm_pool_new(c, &t);
        if (p == NULL) {
            ck_assert_int_eq(rtm_ctx_error(c), RTM_ENOMEM);
            p = rtm_pool_new(c, &t);
            ck_assert_ptr_nonnull(p);
        }
        int failed = 0, got = 0;
        rtm_handle hs[200];
        for (int i = 0; i < 150; i++) {
            rtm_handle h = rtm_pool_acquire(p);
            if (rtm_handle_is_null(h)) {
                ck_assert_int_eq(rtm_ctx_error(c), RTM_ENOMEM);
                failed++;
            } else {
                memset(rtm_pool_get(p, h), i, 4000);
                hs[got++] = h;
            }
            ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
        }
        ck_assert_int_le(failed, 1);
        ck_assert_int_eq(got + failed, 150);
        for (int i = 0; i < got; i++) ck_assert_int_eq(rtm_pool_release(p, hs[i]), RTM_OK);
        ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
        rtm_ctx_destroy(c);
        ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    }
}
END_TEST

START_TEST(pool_limit_reached)
{
    rtm_config cfg = {4 * 65536 + 8 * 4096, NULL, NULL, 0};
    rtm_ctx *c = rtm_ctx_new(&cfg);
    rtm_type t = {"l", 512, 8, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
    rtm_pool *p = rtm_pool_new(c, &t);
    int got = 0;
    void *last = NULL;
    for (;;) {
        void *o = rtm_pool_alloc(p);
        if (o == NULL) break;
        last = o;
        got++;
    }
    ck_assert_int_gt(got, 0);
    ck_assert_int_eq(rtm_ctx_error(c), RTM_ELIMIT);
    ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
    ck_assert_int_eq(rtm_pool_free(p, last), RTM_OK);
    ck_assert_ptr_nonnull(rtm_pool_alloc(p)); /* usable again */
    rtm_ctx_destroy(c);
}
END_TEST

/* ---- a deterministic mixed workload against a shadow ---------------------------------------- */

START_TEST(pool_stress_against_shadow)
{
    enum { SLOTS = 4096 };
    size_t ops = rtm_test_small() ? 200000 : 3000000;
    rtm_pool *p = new_pool(24, 8);
    static struct { rtm_handle h; uint64_t *ptr; uint64_t tag; } shadow[SLOTS];
    memset(shadow, 0, sizeof shadow);
    uint64_t seed = 12345, live = 0;
    for (size_t k = 0; k < ops; k++) {
        uint64_t r = rtm_test_rand(&seed);
        size_t i = r % SLOTS;
        if (shadow[i].ptr == NULL) {
            bool raw = (r >> 20) & 1;
            uint64_t *o;
            if (raw) {
                o = rtm_pool_alloc(p);
                shadow[i].h = RTM_HANDLE_NULL;
            } else {
                shadow[i].h = rtm_pool_acquire(p);
                o = rtm_pool_get(p, shadow[i].h);
            }
            REQ_NN(o);
            shadow[i].ptr = o;
            shadow[i].tag = r;
            o[0] = r;
            o[1] = ~r;
            o[2] = i;
            live++;
        } else {
            uint64_t *o = shadow[i].ptr;
            REQ_EQ(o[0], shadow[i].tag);
            REQ_EQ(o[1], ~shadow[i].tag);
            REQ_EQ(o[2], i);
            if (!rtm_handle_is_null(shadow[i].h)) {
                REQ_EQ(rtm_pool_get(p, shadow[i].h), o);
                REQ_EQ(rtm_pool_release(p, shadow[i].h), RTM_OK);
                REQ_EQ(rtm_pool_release(p, shadow[i].h), RTM_ESTALE);
            } else {
                REQ_EQ(rtm_pool_free(p, o), RTM_OK);
            }
            shadow[i].ptr = NULL;
            live--;
        }
        if (k % 65536 == 0) {
            REQ_EQ(info(p).live, live);
            REQ_EQ(rtm_ctx_check(ctx), RTM_OK);
        }
    }
    REQ_EQ(info(p).live, live);
}
END_TEST

static Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *c = tcase_create("pools");
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, pool_shapes_and_alignment);
    tcase_add_test(c, pool_from_layout);
    tcase_add_test(c, pool_new_bad_input);
    tcase_add_test(c, pool_cap);
    tcase_add_test(c, pool_callbacks_uma);
    tcase_add_test(c, pool_destroy_with_live_objects);
    tcase_add_test(c, ctx_destroy_ends_pools);
    tcase_add_test(c, pool_free_rejects_foreign_pointers);
    tcase_add_test(c, pool_free_every_offset);
    tcase_add_test(c, pool_free_retires_the_slot);
#ifdef HAVE_ASAN
    tcase_add_test(c, pool_free_slots_are_poisoned);
#endif
#ifdef RTM_SCOPED
    tcase_add_test(c, pool_scoped_handles);
#endif
    tcase_add_test(c, pool_empty_slabs_go_back);
    tcase_add_test(c, pool_keeps_slabs_for_bursts);
    tcase_add_test(c, pool_range_reuse_keeps_generations);
    tcase_add_test(c, pool_figures);
    tcase_add_test(c, pool_visit_slabs);
    tcase_add_test(c, pool_check_catches_corruption);
    tcase_add_test(c, pool_fault_every_k);
    tcase_add_test(c, pool_limit_reached);
    tcase_add_test(c, pool_stress_against_shadow);
    suite_add_tcase(s, c);

    return s;
}

RTM_TEST_MAIN(pool_suite)
