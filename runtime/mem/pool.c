/*
 * pool.c: typed object pools. Slabs of context pages, a free list per slab
 * kept outside the objects, handles checked by generation and pool identity,
 * the ordinary (owner thread) fast paths, and the pool's life: new, destroy,
 * figures, check, visit, trim. Concurrent pools share everything here but
 * their acquire and release paths (pool_concurrent.c); pool identities come
 * from pool_id.c.
 */
#include "pool.h"
#include "layout.h"

#include <string.h>

/* ---- geometry ---------------------------------------------------------------- */

#define SLAB_MIN RTM_SEGMENT_SIZE
#define SLAB_MAX ((size_t)16 << 20)
#define SLAB_MIN_SLOTS 8u

/* Objects that fit in a slab of `bytes` after the headers: the slab's own,
 * then 2^k slot entries for n objects (k: the bits of n - 1), each with a
 * batch link in a concurrent pool. */
static uint32_t slab_fit(const rtm_pool *p, size_t bytes, size_t *objects_offset)
{
    size_t per_entry = sizeof(rtm_slot) + (p->concurrent ? sizeof(uint32_t) : 0);
    size_t n = (bytes - sizeof(rtm_slab)) / (p->stride + per_entry);
    for (; n > 0; n--) {
        size_t entries = (size_t)1 << rtm_bit_length(n - 1);
        size_t off = rtm_align_up(sizeof(rtm_slab) + entries * per_entry, p->align);
        if (off + n * p->stride <= bytes) {
            *objects_offset = off;
            return (uint32_t)n;
        }
    }
    return 0;
}

/* Slab size and slots, slot numbering, the division by stride, the directory. */
static void pool_geometry(rtm_pool *p)
{
    size_t bytes = SLAB_MIN;
    while (slab_fit(p, bytes, &p->objects_offset) < SLAB_MIN_SLOTS && bytes < SLAB_MAX) bytes *= 2;
    p->slab_bytes = bytes;
    p->slab_base = ~(uintptr_t)(bytes - 1);
    p->nslots = slab_fit(p, bytes, &p->objects_offset);
    p->local_bits = (uint8_t)rtm_bit_length(p->nslots - 1);
    p->local_mask = (1u << p->local_bits) - 1;
    p->div_magic = UINT64_MAX / (2 * (uint64_t)p->stride) + 1; /* stride <= 2^20 */
    p->key_mask = (uint64_t)RTM_POOL_ID_MAX << RTM_HANDLE_POOL_SHIFT |
                  (RTM_HANDLE_SLOT_MASK & ~p->local_mask);
    uint32_t range_bits = RTM_HANDLE_SLOT_BITS - p->local_bits;
    p->max_ranges = 1u << range_bits;
    p->dir_top = range_bits > RTM_POOL_LEAF_BITS ? 1u << (range_bits - RTM_POOL_LEAF_BITS) : 1;
}

/* ---- slabs ------------------------------------------------------------------- */

/* The empty sentinel: its free list is empty, so an acquire from it always
 * takes the slow path. It is the second of two, 64-byte aligned: its
 * address is not a multiple of 64, so no pointer's slab base (a multiple of
 * 64 KiB) is ever it, and a free never takes it for the current slab. */
_Static_assert(sizeof(rtm_slab) % 64 != 0, "the empty sentinel must be misaligned");
static _Alignas(64) rtm_slab empty_slabs[2] = {{.free = RTM_SLOT_NONE}, {.free = RTM_SLOT_NONE}};
#define empty_slab (empty_slabs[1])

#define LEAF_BYTES (RTM_POOL_LEAF * sizeof(rtm_range))

static rtm_range *range_at(const rtm_pool *p, uint32_t r)
{
    rtm_range *leaf = atomic_load_explicit(&p->dir[r >> RTM_POOL_LEAF_BITS], memory_order_acquire);
    return leaf ? &leaf[r & (RTM_POOL_LEAF - 1)] : NULL;
}

/* A range for a new slab: a reusable one, or the next never used. */
static rtm_range *range_take(rtm_pool *p, uint32_t *r, rtm_status *why)
{
    if (p->free_ranges != RTM_SLOT_NONE) {
        *r = p->free_ranges;
        rtm_range *e = range_at(p, *r);
        p->free_ranges = e->next_free;
        return e;
    }
    uint32_t n = atomic_load_explicit(&p->nranges, memory_order_relaxed);
    if (n >= p->max_ranges) {
        *why = RTM_ELIMIT; /* the pool's slot space is spent */
        return NULL;
    }
    uint32_t top = n >> RTM_POOL_LEAF_BITS;
    rtm_range *leaf = atomic_load_explicit(&p->dir[top], memory_order_relaxed);
    if (leaf == NULL) {
        unsigned how = p->concurrent ? 0 : RTM_PAGES_MAY_COLLECT;
        leaf = _rtm_pages_alloc(p->owned.ctx, LEAF_BYTES, RTM_OS_PAGE, how, why);
        if (leaf == NULL) return NULL;
        memset(leaf, 0, LEAF_BYTES);
        atomic_store_explicit(&p->dir[top], leaf, memory_order_release);
    }
    rtm_range *e = &leaf[n & (RTM_POOL_LEAF - 1)];
    e->floor = p->gen_base;
    e->next_free = RTM_SLOT_NONE;
    *r = n;
    atomic_store_explicit(&p->nranges, n + 1, memory_order_release);
    return e;
}

static void range_put(rtm_pool *p, uint32_t r, rtm_range *e)
{
    if (e->floor > RTM_GEN_REUSE) return; /* spent: never reused */
    e->next_free = p->free_ranges;
    p->free_ranges = r;
}

rtm_slab *_rtm_pool_slab_new(rtm_pool *p, rtm_status *why)
{
    rtm_ctx *ctx = p->owned.ctx;
    uint32_t r;
    rtm_range *e = range_take(p, &r, why);
    if (e == NULL) return NULL;
    unsigned how = p->concurrent ? 0 : RTM_PAGES_MAY_COLLECT;
    rtm_slab *s = _rtm_pages_alloc(ctx, p->slab_bytes, p->slab_bytes, how, why);
    if (s != NULL && !_rtm_pagemap_add(s)) {
        _rtm_pages_free(ctx, s, p->slab_bytes);
        s = NULL;
        *why = RTM_ENOMEM;
    }
    if (s == NULL) {
        range_put(p, r, e);
        return NULL;
    }
    uint32_t n = p->nslots;
    memset(s, 0, sizeof *s);
    s->region.kind = RTM_REGION_POOL_SLAB;
    s->region.ctx = ctx;
    s->pool = p;
    s->number = r;
    s->nslots = n;
    s->objects = (char *)s + p->objects_offset;
    uint32_t first = e->floor << 1, entries = p->local_mask + 1;
    for (uint32_t i = 0; i < entries; i++) { /* past n: never live, never free */
        atomic_store_explicit(&s->slots[i].state, i < n ? first : RTM_SLOT_RETIRED,
                              memory_order_relaxed);
        s->slots[i].next = i + 1 < n ? i + 1 : RTM_SLOT_NONE;
    }
    s->free = 0;
    if (p->concurrent) {
        s->batch = (_Atomic uint32_t *)(void *)&s->slots[entries];
        for (uint32_t i = 0; i < entries; i++)
            atomic_store_explicit(&s->batch[i], 0, memory_order_relaxed);
    }
    rtm_track_noaccess(s->objects, (size_t)n * p->stride);
    if (p->init != NULL) {
        for (uint32_t i = 0; i < n; i++) {
            void *obj = _rtm_pool_obj(p, s, i);
            rtm_track_internal(obj, p->size);
            p->init(p->ud, obj);
            rtm_track_noaccess(obj, p->size);
        }
    }
    rtm_counter_add_shared(&p->slabs, 1);
    atomic_store_explicit(&e->slab, s, memory_order_release);
    return s;
}

/* Gives a slab with no live object back: fini on every slot, its range keeps
 * the generations it reached. Returns that floor. */
static uint32_t slab_free(rtm_pool *p, rtm_slab *s)
{
    uint32_t floor = 0;
    for (uint32_t i = 0; i < s->nslots; i++) {
        uint32_t gen = atomic_load_explicit(&s->slots[i].state, memory_order_relaxed) >> 1;
        if (gen > floor) floor = gen;
        if (p->fini != NULL) {
            void *obj = _rtm_pool_obj(p, s, i);
            rtm_track_internal(obj, p->size);
            p->fini(p->ud, obj);
        }
    }
    rtm_range *e = range_at(p, s->number);
    atomic_store_explicit(&e->slab, NULL, memory_order_release);
    e->floor = floor;
    rtm_counter_sub(&p->slabs, 1);
    rtm_counter_sub(&p->retired, s->retired);
    _rtm_pagemap_remove(s);
    rtm_track_internal(s, p->slab_bytes); /* leave no poison on pages we give back */
    _rtm_pages_free(p->owned.ctx, s, p->slab_bytes);
    return floor;
}

/* ---- ordinary pools: the list of slabs with free slots ------------------------- */

/* cur, and what the inline paths read of it: a pool that is not plain
 * leaves them on the sentinel. */
static void set_cur(rtm_pool *p, rtm_slab *s)
{
    p->cur = s;
    bool fast = p->plain && s != &empty_slab;
    p->fast = fast ? s : &empty_slab;
    p->fast_key = fast ? (uint64_t)p->id << RTM_HANDLE_POOL_SHIFT |
                             (uint64_t)s->number << p->local_bits
                       : UINT64_MAX;
}

static void avail_push(rtm_pool *p, rtm_slab *s)
{
    /* behind the head, so acquires keep draining the current slab */
    rtm_slab *head = p->avail;
    s->listed = 1;
    s->prev = head;
    s->next = head ? head->next : NULL;
    if (head == NULL) {
        p->avail = s;
        set_cur(p, s);
    } else {
        if (head->next) head->next->prev = s;
        head->next = s;
    }
}

static void avail_remove(rtm_pool *p, rtm_slab *s)
{
    if (s->prev) s->prev->next = s->next;
    else p->avail = s->next;
    if (s->next) s->next->prev = s->prev;
    s->prev = s->next = NULL;
    s->listed = 0;
    set_cur(p, p->avail ? p->avail : &empty_slab);
}

static void spare_remove(rtm_pool *p, rtm_slab *s)
{
    for (rtm_slab **link = &p->spares; *link != NULL; link = &(*link)->spare_next)
        if (*link == s) {
            *link = s->spare_next;
            s->spare = 0;
            p->nspares--;
            return;
        }
}

/* Takes the kept slabs that hold objects again off the list. */
static void spares_prune(rtm_pool *p)
{
    for (rtm_slab **link = &p->spares; *link != NULL;) {
        rtm_slab *k = *link;
        if (k->live != 0) {
            *link = k->spare_next;
            k->spare = 0;
            p->nspares--;
        } else {
            link = &k->spare_next;
        }
    }
}

static void slab_drop(rtm_pool *p, rtm_slab *s)
{
    if (s->listed) avail_remove(p, s);
    if (s->spare) spare_remove(p, s);
    uint32_t r = s->number;
    slab_free(p, s);
    range_put(p, r, range_at(p, r));
}

/* A slab other than the current one just lost its last live object. Keep
 * up to p->keep empty slabs (one by default); give any other back, so a pool
 * that shrinks returns its memory while one that breathes around a slab
 * boundary, or fills and empties as many slabs as it keeps, does not
 * thrash. The list of kept slabs may hold some that took objects again (the
 * hot paths never look at it): a slab still on it is simply kept again, and
 * the list is pruned only when it is full. */
RTM_COLD static void slab_emptied(rtm_pool *p, rtm_slab *s)
{
    if (s->retired == s->nslots) { /* every slot spent: of no further use */
        slab_drop(p, s);
        return;
    }
    if (s->spare) { /* kept before, and empty again */
        if (p->nspares > p->keep) slab_drop(p, s); /* over a lowered number: it goes */
        return;
    }
    if (p->nspares >= p->keep) spares_prune(p);
    if (p->nspares >= p->keep) {
        slab_drop(p, s);
        return;
    }
    s->spare = 1;
    s->spare_next = p->spares;
    p->spares = s;
    p->nspares++;
}

/* ---- ordinary pools: acquire and release ----------------------------------------
 * Counters: acquires and releases (live is their difference) and the peak.
 * peak <= cap always, so an acquire below the peak needs neither a cap
 * check nor a new peak: the inline paths make one compare for both. */

/* cur has no free slot: moves to a slab that has one, growing if none.
 * NULL (recorded) when the pool cannot grow. */
RTM_COLD static rtm_slab *next_slab(rtm_pool *p, const char *where)
{
    rtm_slab *s = p->cur;
    if (s != &empty_slab) { /* full */
        avail_remove(p, s);
        if (s->live == 0) slab_drop(p, s); /* full and empty: every slot retired */
    }
    if (p->cur->free != RTM_SLOT_NONE) return p->cur;
    rtm_status why = RTM_OK;
    s = _rtm_pool_slab_new(p, &why);
    if (s == NULL) return _rtm_fail_null(p->owned.ctx, why, where);
    rtm_counter_add(&p->misses, 1);
    avail_push(p, s); /* the list was empty: s heads it and becomes cur */
    return s;
}

/* Takes free slot i of slab s: marks it live and counts the acquire (acq:
 * the count before). Returns the slot's free state, generation << 1. */
RTM_INLINE uint32_t take_slot(rtm_pool *p, rtm_slab *s, uint32_t i, uint64_t acq)
{
    rtm_slot *m = &s->slots[i];
    s->free = m->next;
    s->live++;
    uint32_t st = atomic_load_explicit(&m->state, memory_order_relaxed);
    atomic_store_explicit(&m->state, st | RTM_SLOT_LIVE, memory_order_relaxed);
    rtm_counter_set(&p->acquires, acq + 1);
    return st;
}

/* Any acquire of an ordinary pool: its slab, slot and the slot's free state,
 * and the object (not yet unpoisoned); NULL (recorded) at the cap or when
 * the pool cannot grow. The peak moves only once the acquire succeeds. */
RTM_INLINE void *take(rtm_pool *p, rtm_slab **sp, uint32_t *ip, uint32_t *stp, const char *where)
{
    uint64_t acq = rtm_counter_get(&p->acquires), live = acq - rtm_counter_get(&p->releases);
    bool new_peak = live >= rtm_counter_get(&p->peak);
    if (RTM_UNLIKELY(new_peak && live >= p->cap)) {
        _rtm_fail(p->owned.ctx, RTM_ELIMIT, where);
        return NULL;
    }
    rtm_slab *s = p->cur;
    if (RTM_UNLIKELY(s->free == RTM_SLOT_NONE) && (s = next_slab(p, where)) == NULL) return NULL;
    if (new_peak) rtm_counter_set(&p->peak, live + 1);
    uint32_t i = s->free;
    *stp = take_slot(p, s, i, acq);
    *sp = s;
    *ip = i;
    return s->objects + (size_t)i * p->stride;
}

/* The inline acquire of a plain pool from its fast slab s: the slot taken
 * and its free state, or RTM_SLOT_NONE to go out of line (s has no free
 * slot: it is full, or the sentinel; or the pool is at its cap). */
RTM_INLINE uint32_t take_fast(rtm_pool *p, rtm_slab *s, uint32_t *stp)
{
    uint32_t i = s->free;
    if (RTM_UNLIKELY(i == RTM_SLOT_NONE)) return RTM_SLOT_NONE; /* concurrent pools: at once */
    uint64_t acq = rtm_counter_get(&p->acquires), live = acq - rtm_counter_get(&p->releases);
    if (RTM_UNLIKELY(live >= rtm_counter_get(&p->peak))) {
        if (live >= p->cap) return RTM_SLOT_NONE;
        rtm_counter_set(&p->peak, live + 1);
    }
    *stp = take_slot(p, s, i, acq);
    return i;
}

RTM_COLD static void retire(rtm_pool *p, rtm_slab *s)
{
    s->retired++;
    rtm_counter_add(&p->retired, 1);
}

/* Puts a slot whose object just ended (live state st) back on its slab, any
 * slab of an ordinary pool. */
RTM_INLINE void put(rtm_pool *p, rtm_slab *s, uint32_t i, uint32_t st)
{
    rtm_slot *m = &s->slots[i];
    uint32_t next = _rtm_slot_released(st);
    atomic_store_explicit(&m->state, next, memory_order_relaxed);
    if (RTM_LIKELY(next != RTM_SLOT_RETIRED)) {
        m->next = s->free;
        s->free = i;
        if (RTM_UNLIKELY(!s->listed)) avail_push(p, s);
    } else {
        retire(p, s);
    }
    rtm_counter_add(&p->releases, 1);
    /* the current slab stays, empty or not: a pool that takes and gives
     * back one object at a time lives there and never calls out */
    if (RTM_UNLIKELY(--s->live == 0) && s != p->cur) slab_emptied(p, s);
}

/* Would a slot in state st go back on the free list when released? Yes if
 * st is live and its generation not the last: (st + 1) is then even and
 * below RTM_SLOT_RETIRED, the one bit above every generation. */
_Static_assert((RTM_SLOT_RETIRED & (RTM_SLOT_RETIRED - 1)) == 0, "RTM_SLOT_RETIRED: one bit");
RTM_INLINE bool slot_recycles(uint32_t st)
{
    return ((st + 1) & (RTM_SLOT_RETIRED | RTM_SLOT_LIVE)) == 0;
}

/* put for a slot of the fast slab that recycles (slot_recycles(st)): the
 * fast slab is cur, so it is listed and stays however many objects it holds. */
RTM_INLINE rtm_status put_fast(rtm_pool *p, rtm_slab *s, uint32_t i, uint32_t st)
{
    uint32_t next = _rtm_slot_released(st);
    rtm_slot *m = &s->slots[i];
    atomic_store_explicit(&m->state, next, memory_order_relaxed);
    m->next = s->free;
    s->free = i;
    s->live--;
    rtm_counter_add(&p->releases, 1);
    return RTM_OK;
}

/* ---- the public paths ----------------------------------------------------------------
 * Plain pools (ordinary, no ctor or dtor) serve their current slab inline
 * below; everything else (another slab, growth, the cap, callbacks,
 * concurrent pools, errors) goes out of line. */

/* Acquires not served inline. */
RTM_NOINLINE static void *take_started(rtm_pool *p, rtm_handle *h, const char *where)
{
    rtm_slab *s;
    uint32_t i, st;
    void *obj = take(p, &s, &i, &st, where);
    if (obj == NULL) return NULL;
    if (p->plain) rtm_track_alloc(obj, p->size);
    else _rtm_pool_start_object(p, obj);
    if (h != NULL) *h = _rtm_pool_handle(p, _rtm_pool_global(p, s, i), st >> 1);
    return obj;
}

RTM_NOINLINE static rtm_handle acquire_general(rtm_pool *p, void **obj, const char *where)
{
    rtm_handle h = {0};
    if (p->concurrent) {
        h = _rtm_pool_mt_acquire(p);
        if (obj != NULL) *obj = h.bits != 0 ? rtm_pool_get(p, h) : NULL;
        return h;
    }
    void *o = take_started(p, &h, where);
    if (obj != NULL) *obj = o;
    return h;
}

RTM_NOINLINE static void *alloc_general(rtm_pool *p)
{
    if (p->concurrent) return _rtm_pool_mt_alloc(p);
    return take_started(p, NULL, "rtm_pool_alloc");
}

/* Both acquires: the handle, and the object in *obj when obj is not NULL. */
RTM_INLINE rtm_handle acquire(rtm_pool *p, void **obj, const char *where)
{
    rtm_handle h = {0};
    rtm_slab *s = p->fast;
    uint32_t st, i = take_fast(p, s, &st);
    if (RTM_UNLIKELY(i == RTM_SLOT_NONE)) return acquire_general(p, obj, where);
    void *o = _rtm_pool_obj(p, s, i);
    rtm_track_alloc(o, p->size);
    if (obj != NULL) *obj = o;
    /* fast_key holds the identity and the range: add the generation, st >> 1 */
    h.bits = p->fast_key | (uint64_t)st << (RTM_HANDLE_GEN_SHIFT - 1) | i;
    return h;
}

rtm_handle rtm_pool_acquire(rtm_pool *p)
{
    if (RTM_UNLIKELY(p == NULL)) return (rtm_handle){0};
    return acquire(p, NULL, "rtm_pool_acquire");
}

rtm_handle rtm_pool_acquire_obj(rtm_pool *p, void **obj)
{
    if (obj != NULL) *obj = NULL;
    if (RTM_UNLIKELY(p == NULL)) return (rtm_handle){0};
    return acquire(p, obj, "rtm_pool_acquire_obj");
}

void *rtm_pool_alloc(rtm_pool *p)
{
    if (RTM_UNLIKELY(p == NULL)) return NULL;
    rtm_slab *s = p->fast;
    uint32_t st, i = take_fast(p, s, &st);
    if (RTM_UNLIKELY(i == RTM_SLOT_NONE)) return alloc_general(p);
    void *obj = _rtm_pool_obj(p, s, i);
    rtm_track_alloc(obj, p->size);
    return obj;
}

rtm_status rtm_pool_keep_slabs(rtm_pool *p, size_t n)
{
    if (p == NULL) return RTM_EINVAL;
    if (n == 0 || p->concurrent) return _rtm_pool_bad(p, RTM_EINVAL, "rtm_pool_keep_slabs", false);
    p->keep = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    return RTM_OK;
}

rtm_status _rtm_pool_bad(rtm_pool *p, rtm_status s, const char *where, bool counted)
{
    if (counted) rtm_counter_add_shared(&p->bad, 1);
    return _rtm_fail(p->owned.ctx, s, where);
}

rtm_status _rtm_pool_classify(const rtm_pool *p, rtm_handle h)
{
    if (rtm_handle_pool(h) != p->id || rtm_handle_gen(h) < p->gen_base) return RTM_EFOREIGN;
    uint32_t slot = rtm_handle_slot(h), r = slot >> p->local_bits;
    if (r >= atomic_load_explicit(&p->nranges, memory_order_acquire)) return RTM_EFOREIGN;
    if ((slot & p->local_mask) >= p->nslots) return RTM_EFOREIGN;
    return RTM_ESTALE;
}

/* Is h a handle of p into its fast slab? Identity and range in one compare. */
RTM_INLINE bool handle_fast(const rtm_pool *p, rtm_handle h)
{
    return (h.bits & p->key_mask) == p->fast_key;
}

/* The slab a handle of p points into, or NULL: no slab there, or not p's
 * handle. Its slot entry exists (the table has 2^local_bits). A handle into
 * the fast slab skips the directory's two dependent loads. Any thread. */
RTM_INLINE rtm_slab *handle_slab(const rtm_pool *p, rtm_handle h)
{
    if (handle_fast(p, h)) return p->fast;
    if (RTM_UNLIKELY(rtm_handle_pool(h) != p->id)) return NULL;
    return _rtm_pool_slab_at(p, rtm_handle_slot(h) >> p->local_bits);
}

RTM_INLINE uint32_t handle_want(rtm_handle h) { return rtm_handle_gen(h) << 1 | RTM_SLOT_LIVE; }

RTM_COLD static void *get_failed(rtm_pool *p, rtm_handle h)
{
    if (h.bits != 0) _rtm_pool_bad(p, _rtm_pool_classify(p, h), "rtm_pool_get", false);
    return NULL;
}

void *rtm_pool_get(rtm_pool *p, rtm_handle h)
{
    if (RTM_UNLIKELY(p == NULL)) return NULL;
    uint32_t i = rtm_handle_slot(h) & p->local_mask;
    rtm_slab *s = handle_slab(p, h);
    if (RTM_LIKELY(s != NULL && atomic_load_explicit(&s->slots[i].state, memory_order_acquire) ==
                                    handle_want(h)))
        return _rtm_pool_obj(p, s, i);
    return get_failed(p, h);
}

/* Releases not served inline: another slab, a pool that is not plain, the
 * null handle, a slot retiring, and failures. */
RTM_NOINLINE static rtm_status release_general(rtm_pool *p, rtm_handle h)
{
    if (p->concurrent) return _rtm_pool_mt_release(p, h);
    if (h.bits == 0) return RTM_OK;
    uint32_t i = rtm_handle_slot(h) & p->local_mask, want = handle_want(h);
    rtm_slab *s = handle_slab(p, h);
    if (s == NULL || atomic_load_explicit(&s->slots[i].state, memory_order_relaxed) != want)
        return _rtm_pool_bad(p, _rtm_pool_classify(p, h), "rtm_pool_release", true);
    _rtm_pool_end_object(p, _rtm_pool_obj(p, s, i));
    put(p, s, i, want);
    return RTM_OK;
}

rtm_status rtm_pool_release(rtm_pool *p, rtm_handle h)
{
    if (RTM_UNLIKELY(p == NULL)) return RTM_EINVAL;
    if (RTM_UNLIKELY(!handle_fast(p, h))) return release_general(p, h); /* concurrent: at once */
    rtm_slab *s = p->fast;
    uint32_t i = rtm_handle_slot(h) & p->local_mask, want = handle_want(h);
    if (RTM_UNLIKELY(atomic_load_explicit(&s->slots[i].state, memory_order_relaxed) != want ||
                     !slot_recycles(want)))
        return release_general(p, h);
    rtm_track_free(_rtm_pool_obj(p, s, i), p->stride);
    return put_fast(p, s, i, want);
}

/* Frees not served inline: another slab, a pool that is not plain, a slot
 * retiring, and every failure. */
RTM_NOINLINE static rtm_status free_general(rtm_pool *p, void *obj)
{
    if (p->concurrent) return _rtm_pool_mt_free(p, obj);
    if (obj == NULL) return RTM_OK;
    rtm_slab *s = (rtm_slab *)((uintptr_t)obj & p->slab_base);
    if (s != p->cur && !_rtm_pool_owns(p, s))
        return _rtm_pool_bad(p, RTM_EFOREIGN, "rtm_pool_free", true);
    uint32_t i = _rtm_pool_slot_of(p, s, obj);
    if (i == RTM_SLOT_NONE) /* the slab's header, or inside an object */
        return _rtm_pool_bad(p, RTM_EFOREIGN, "rtm_pool_free", true);
    uint32_t st = atomic_load_explicit(&s->slots[i].state, memory_order_relaxed);
    if (!(st & RTM_SLOT_LIVE)) return _rtm_pool_bad(p, RTM_ESTALE, "rtm_pool_free", true);
    _rtm_pool_end_object(p, obj);
    put(p, s, i, st);
    return RTM_OK;
}

rtm_status rtm_pool_free(rtm_pool *p, void *obj)
{
    if (RTM_UNLIKELY(p == NULL)) return RTM_EINVAL;
    rtm_slab *s = p->fast; /* the sentinel's address is no slab base */
    uint32_t i, st;
    if (RTM_UNLIKELY(((uintptr_t)obj & p->slab_base) != (uintptr_t)s ||
                     (i = _rtm_pool_slot_of(p, s, obj)) == RTM_SLOT_NONE ||
                     !slot_recycles(st = atomic_load_explicit(&s->slots[i].state,
                                                              memory_order_relaxed))))
        return free_general(p, obj); /* a double free too: st is not live */
    rtm_track_free(obj, p->stride);
    return put_fast(p, s, i, st);
}

void rtm_handle_scope_end(rtm_handle *h)
{
    if (h == NULL || h->bits == 0) return;
    rtm_pool *p = _rtm_pool_id_pool(rtm_handle_pool(*h));
    if (p != NULL) rtm_pool_release(p, *h);
}

/* ---- new and destroy --------------------------------------------------------------- */

static const rtm_owned_ops pool_ops;

static rtm_pool *pool_of(const rtm_owned *o)
{
    return (rtm_pool *)(void *)((char *)o - offsetof(rtm_pool, owned));
}

/* Size and alignment from the type: EINVAL, or RTM_OK. */
static rtm_status type_shape(rtm_ctx *ctx, const rtm_type *t, size_t *size, size_t *align)
{
    *size = t->size;
    *align = t->align;
    if (t->layout != NULL) {
        if (*size != 0 || *align != 0 || !_rtm_layout_valid(t->layout) ||
            _rtm_layout_ctx(t->layout) != ctx)
            return RTM_EINVAL;
        *size = t->layout->size;
        *align = t->layout->align;
    }
    if (*size == 0 || *size > RTM_POOL_MAX_SIZE) return RTM_EINVAL;
    if (*align == 0) *align = (*size & (0 - *size)) < 16 ? (*size & (0 - *size)) : 16;
    if (!rtm_is_pow2(*align) || *align > RTM_POOL_MAX_ALIGN) return RTM_EINVAL;
    if (t->flags & ~RTM_POOL_CONCURRENT) return RTM_EINVAL;
    return RTM_OK;
}

/* The pool's block: the pool and its directory's top, the caches, the name. */
static size_t pool_block(const rtm_pool *g, size_t name_len, size_t *caches_off, size_t *name_off)
{
    size_t at = sizeof(rtm_pool) + g->dir_top * sizeof(g->dir[0]);
    at = rtm_align_up(at, RTM_CACHE_LINE);
    *caches_off = at;
    if (g->concurrent) at += RTM_POOL_THREADS * sizeof(rtm_pool_cache);
    *name_off = at;
    return at + name_len + 1;
}

rtm_pool *rtm_pool_new(rtm_ctx *ctx, const rtm_type *type)
{
    static const char where[] = "rtm_pool_new";
    if (ctx == NULL) return NULL;
    if (type == NULL) return _rtm_fail_null(ctx, RTM_EINVAL, where);
    size_t size, align;
    rtm_status s = type_shape(ctx, type, &size, &align);
    if (s != RTM_OK) return _rtm_fail_null(ctx, s, where);
    const char *name = type->name ? type->name : "";
    size_t name_len = strlen(name);

    rtm_pool g; /* the geometry first: it sizes the block */
    memset(&g, 0, sizeof g);
    g.size = size;
    g.align = align;
    g.stride = rtm_align_up(size, align);
    g.concurrent = (type->flags & RTM_POOL_CONCURRENT) != 0;
    pool_geometry(&g);
    size_t caches_off, name_off;
    size_t bytes = pool_block(&g, name_len, &caches_off, &name_off);

    rtm_pool *p = _rtm_pages_alloc(ctx, bytes, RTM_OS_PAGE, RTM_PAGES_MAY_COLLECT, &s);
    if (p == NULL) return _rtm_fail_null(ctx, s, where);
    memset(p, 0, bytes);
    p->size = size;
    p->align = align;
    p->stride = g.stride;
    p->concurrent = g.concurrent;
    pool_geometry(p);
    p->bytes = bytes;
    p->caches = p->concurrent ? (rtm_pool_cache *)(void *)((char *)p + caches_off) : NULL;
    p->name = memcpy((char *)p + name_off, name, name_len + 1);
    p->cap = type->cap ? (uint64_t)type->cap : UINT64_MAX;
    p->keep = 1;
    p->init = type->init;
    p->fini = type->fini;
    p->ctor = type->ctor;
    p->dtor = type->dtor;
    p->ud = type->ud;
    p->plain = !p->concurrent && p->ctor == NULL && p->dtor == NULL;
    set_cur(p, &empty_slab);
    p->free_ranges = RTM_SLOT_NONE;
    p->owned.ctx = ctx;

    if ((s = _rtm_pool_id_take(&p->id, &p->gen_base)) != RTM_OK) {
        _rtm_pages_free(ctx, p, bytes);
        return _rtm_fail_null(ctx, s, where);
    }
    if (p->concurrent && (s = _rtm_pool_mt_init(p)) != RTM_OK) {
        _rtm_pool_id_give(p->id, p->gen_base);
        _rtm_pages_free(ctx, p, bytes);
        return _rtm_fail_null(ctx, s, where);
    }
    _rtm_owned_link(ctx, &p->owned, &pool_ops);
    _rtm_pool_id_publish(p->id, p);
    return p;
}

void rtm_pool_destroy(rtm_pool *p)
{
    if (p == NULL) return;
    rtm_ctx *ctx = p->owned.ctx;
    _rtm_owned_unlink(&p->owned);
    uint64_t leaked = 0;
    uint32_t floor = p->gen_base, n = atomic_load_explicit(&p->nranges, memory_order_acquire);
    for (uint32_t r = 0; r < n; r++) {
        rtm_range *e = range_at(p, r);
        rtm_slab *s = atomic_load_explicit(&e->slab, memory_order_acquire);
        if (s == NULL) {
            if (e->floor > floor) floor = e->floor;
            continue;
        }
        for (uint32_t i = 0; i < s->nslots; i++) {
            uint32_t st = atomic_load_explicit(&s->slots[i].state, memory_order_relaxed);
            if (!(st & RTM_SLOT_LIVE)) continue;
            leaked++;
            _rtm_pool_end_object(p, _rtm_pool_obj(p, s, i));
            atomic_store_explicit(&s->slots[i].state, _rtm_slot_released(st), memory_order_relaxed);
        }
        uint32_t f = slab_free(p, s);
        if (f > floor) floor = f;
    }
    for (uint32_t t = 0; t < p->dir_top; t++) {
        rtm_range *leaf = atomic_load_explicit(&p->dir[t], memory_order_relaxed);
        if (leaf != NULL) _rtm_pages_free(ctx, leaf, LEAF_BYTES);
    }
    if (p->concurrent) _rtm_pool_mt_fini(p);
    _rtm_pool_id_give(p->id, floor);
    if (leaked != 0) {
        rtm_counter_add_shared(&ctx->pool_leaked, leaked);
        _rtm_fail(ctx, RTM_ESTALE, "rtm_pool_destroy");
    }
    _rtm_pages_free(ctx, p, p->bytes);
}

/* ---- figures -------------------------------------------------------------------------- */

static void pool_info(const rtm_pool *p, rtm_pool_info *out)
{
    uint64_t acquires, releases;
    if (p->concurrent) {
        _rtm_pool_mt_counts(p, &acquires, &releases);
    } else {
        acquires = rtm_counter_get(&p->acquires);
        releases = rtm_counter_get(&p->releases);
    }
    uint64_t live = acquires > releases ? acquires - releases : 0;
    uint64_t peak = rtm_counter_get(&p->peak);
    if (p->concurrent) { /* sampled: raise it to what we see now */
        rtm_counter *pk = (rtm_counter *)&p->peak;
        while (live > peak && !atomic_compare_exchange_weak_explicit(pk, &peak, live, memory_order_relaxed,
                                                                     memory_order_relaxed)) {
        }
        if (live > peak) peak = live;
    }
    uint64_t misses = rtm_counter_get(&p->misses);
    *out = (rtm_pool_info){
        .name = p->name, .size = p->size, .align = p->align, .stride = p->stride,
        .cap = p->cap == UINT64_MAX ? 0 : p->cap, .live = live, .peak = peak,
        .acquires = acquires, .releases = releases,
        .hits = acquires > misses ? acquires - misses : 0, .misses = misses,
        .slabs = rtm_counter_get(&p->slabs), .slab_bytes = p->slab_bytes,
        .retired = rtm_counter_get(&p->retired), .bad_releases = rtm_counter_get(&p->bad)};
}

rtm_status rtm_pool_stats(const rtm_pool *p, rtm_pool_info *out)
{
    if (p == NULL || out == NULL) return RTM_EINVAL;
    pool_info(p, out);
    return RTM_OK;
}

static void pool_stats_owned(const rtm_owned *o, rtm_stats *out)
{
    const rtm_pool *p = pool_of(o);
    rtm_pool_info in;
    pool_info(p, &in);
    out->pools_live += 1;
    out->pool_objects_live += in.live;
    out->pool_slabs += in.slabs;
    out->pool_bytes += in.slabs * in.slab_bytes;
    out->pool_hits += in.hits;
    out->pool_misses += in.misses;
    out->bytes_in_use += in.live * in.size;
}

/* ---- check, visit, trim ------------------------------------------------------------------ */

/* A slab's header, and its slots' states against its range's floor. */
static bool slab_sound(const rtm_pool *p, const rtm_slab *s, uint32_t r, uint32_t floor,
                       uint32_t *live, uint32_t *retired)
{
    if (!_rtm_pagemap_contains(s) || s->region.kind != RTM_REGION_POOL_SLAB ||
        s->region.ctx != p->owned.ctx || s->pool != p || s->number != r || s->nslots != p->nslots ||
        s->objects != (const char *)s + p->objects_offset)
        return false;
    *live = *retired = 0;
    for (uint32_t i = s->nslots; i <= p->local_mask; i++) /* entries with no object */
        if (atomic_load_explicit(&s->slots[i].state, memory_order_relaxed) != RTM_SLOT_RETIRED)
            return false;
    for (uint32_t i = 0; i < s->nslots; i++) {
        uint32_t st = atomic_load_explicit(&s->slots[i].state, memory_order_relaxed);
        if ((st >> 1) < floor || st > RTM_SLOT_RETIRED) return false;
        if (st & RTM_SLOT_LIVE) ++*live;
        if (st == RTM_SLOT_RETIRED) ++*retired;
    }
    return true;
}

/* An ordinary slab's free list: exactly its slots neither live nor retired. */
static bool free_list_sound(const rtm_slab *s, uint32_t live, uint32_t retired)
{
    uint32_t k = 0;
    for (uint32_t x = s->free; x != RTM_SLOT_NONE; x = s->slots[x].next) {
        if (x >= s->nslots || ++k > s->nslots) return false; /* out of range, or a cycle */
        uint32_t st = atomic_load_explicit(&s->slots[x].state, memory_order_relaxed);
        if ((st & RTM_SLOT_LIVE) || st == RTM_SLOT_RETIRED) return false;
    }
    return k + live + retired == s->nslots && s->live == live && s->retired == retired &&
           (s->free == RTM_SLOT_NONE || s->listed);
}

static rtm_status pool_check(rtm_owned *o)
{
    rtm_pool *p = pool_of(o);
    uint64_t live = 0, retired = 0, slabs = 0, slots = 0;
    uint32_t n = atomic_load_explicit(&p->nranges, memory_order_acquire);
    if (n > (1u << (RTM_HANDLE_SLOT_BITS - p->local_bits))) return RTM_EINVAL;
    for (uint32_t r = 0; r < n; r++) {
        rtm_range *e = range_at(p, r);
        if (e == NULL) return RTM_EINVAL;
        rtm_slab *s = atomic_load_explicit(&e->slab, memory_order_relaxed);
        if (s == NULL) continue;
        uint32_t l, t;
        if (!slab_sound(p, s, r, e->floor, &l, &t)) return RTM_EINVAL;
        if (!p->concurrent && !free_list_sound(s, l, t)) return RTM_EINVAL;
        live += l;
        retired += t;
        slabs++;
        slots += s->nslots;
    }
    if (slabs != rtm_counter_get(&p->slabs)) return RTM_EINVAL;
    if (p->concurrent) return _rtm_pool_mt_check(p, live, retired, slots);
    uint64_t peak = rtm_counter_get(&p->peak);
    if (retired != rtm_counter_get(&p->retired) ||
        rtm_counter_get(&p->acquires) - rtm_counter_get(&p->releases) != live || peak < live ||
        peak > p->cap)
        return RTM_EINVAL;
    /* the list of slabs with free slots, headed by cur */
    uint64_t listed = 0;
    for (rtm_slab *s = p->avail, *prev = NULL; s != NULL; prev = s, s = s->next)
        if (s->pool != p || !s->listed || s->prev != prev || ++listed > slabs) return RTM_EINVAL;
    if (p->cur != (p->avail ? p->avail : &empty_slab)) return RTM_EINVAL;
    rtm_slab *fast = p->plain ? p->cur : &empty_slab; /* what the inline paths read */
    if (p->fast != fast || p->fast_key != (fast == &empty_slab ? UINT64_MAX
                                           : (uint64_t)p->id << RTM_HANDLE_POOL_SHIFT |
                                                 (uint64_t)fast->number << p->local_bits))
        return RTM_EINVAL;
    uint64_t spares = 0;
    for (rtm_slab *k = p->spares; k != NULL; k = k->spare_next)
        if (k->pool != p || !k->spare || range_at(p, k->number)->slab != k || ++spares > slabs)
            return RTM_EINVAL;
    if (spares != p->nspares) return RTM_EINVAL;
    /* ranges to reuse: free, within the directory, generations left */
    uint32_t k = 0;
    for (uint32_t r = p->free_ranges; r != RTM_SLOT_NONE; r = range_at(p, r)->next_free) {
        if (r >= n || ++k > n) return RTM_EINVAL;
        rtm_range *e = range_at(p, r);
        if (atomic_load_explicit(&e->slab, memory_order_relaxed) != NULL || e->floor > RTM_GEN_REUSE)
            return RTM_EINVAL;
    }
    return RTM_OK;
}

static int pool_visit(rtm_owned *o, rtm_visit_fn fn, void *ud)
{
    rtm_pool *p = pool_of(o);
    uint32_t n = atomic_load_explicit(&p->nranges, memory_order_acquire);
    for (uint32_t r = 0; r < n; r++) {
        rtm_slab *s = _rtm_pool_slab_at(p, r);
        if (s != NULL && fn(ud, RTM_VISIT_POOL_SLAB, s, p->slab_bytes)) return 1;
    }
    return 0;
}

/* Ordinary pools give back every empty slab. Concurrent pools keep theirs: a
 * thread may be reading a slot's link on the shared stack at any moment, and
 * only destroy knows no thread is. */
static void pool_trim(rtm_owned *o)
{
    rtm_pool *p = pool_of(o);
    if (p->concurrent) return;
    uint32_t n = atomic_load_explicit(&p->nranges, memory_order_relaxed);
    for (uint32_t r = 0; r < n; r++) {
        rtm_slab *s = _rtm_pool_slab_at(p, r);
        if (s != NULL && s->live == 0) slab_drop(p, s);
    }
}

static void pool_destroy_owned(rtm_owned *o) { rtm_pool_destroy(pool_of(o)); }

static const rtm_owned_ops pool_ops = {
    "pool", RTM_ORDER_POOL, pool_destroy_owned, pool_check, pool_visit, pool_stats_owned, pool_trim,
};
