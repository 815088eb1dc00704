/*
 * pool_concurrent.c: pools any thread may use at once (RTM_POOL_CONCURRENT).
 *
 * Free slots wait in per-thread caches (pool.h), in front of one shared
 * stack of batches. The common acquire and release touch only the thread's
 * own cache and the object's slot: no shared cache line, no lock, and one
 * atomic read-modify-write per release (the slot's state, so a double release
 * racing with another thread is still caught). Every RTM_POOL_BATCH
 * operations a cache trades one batch with the shared stack, in one CAS.
 *
 * The shared stack is a Treiber stack of batches whose head packs the top
 * slot (25 bits, + 1 so 0 is empty) with a 39-bit tag bumped by every push
 * and pop: a thread preempted between reading the head and its CAS fails the
 * CAS if anything moved, so a batch popped and pushed back meanwhile (ABA)
 * cannot corrupt the stack. The tag would have to go round 2^39 times under
 * one preempted thread to fool it. A slot's link to the next batch is read
 * before the CAS that may prove it stale, so slabs are never given back while
 * the pool lives (only rtm_pool_destroy, with all threads done, frees them).
 *
 * Growth takes the pool's mutex: it is a trip to the page source anyway.
 * The context's page accounting is thread-safe; the collect hook is never
 * run from here (it belongs to the owner thread).
 */
#include "pool.h"

#include <string.h>

/* ---- thread indexes --------------------------------------------------------
 * A thread takes the lowest free index on its first use of a concurrent
 * pool, and gives it back when it exits (a pthread key's destructor). The
 * caches of index i in every pool then pass to the next thread taking i,
 * free slots and all; the bitmap's release/acquire orders the hand-over. */

static _Atomic uint64_t thread_slots;
static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
static bool thread_key_ok;
/* 0: not asked yet; i + 1: index i; -1: none was free. Initial-exec: one
 * load, no call, on the hot path (4 bytes of static TLS). */
static _Thread_local int thread_index RTM_TLS_FAST;

_Static_assert(RTM_POOL_THREADS == 64, "thread_slots is a 64-bit map");

static void thread_exit(void *v)
{
    unsigned i = (unsigned)((uintptr_t)v - 1);
    atomic_fetch_and_explicit(&thread_slots, ~((uint64_t)1 << i), memory_order_release);
}

static void thread_key_make(void) { thread_key_ok = pthread_key_create(&thread_key, thread_exit) == 0; }

RTM_COLD static int thread_index_claim(void)
{
    pthread_once(&thread_once, thread_key_make);
    int t = -1;
    uint64_t bits = atomic_load_explicit(&thread_slots, memory_order_relaxed);
    while (thread_key_ok && bits != UINT64_MAX) {
        unsigned i = (unsigned)__builtin_ctzll(~bits);
        uint64_t mine = (uint64_t)1 << i;
        if (atomic_compare_exchange_weak_explicit(&thread_slots, &bits, bits | mine,
                                                  memory_order_acquire, memory_order_relaxed)) {
            if (pthread_setspecific(thread_key, (void *)(uintptr_t)(i + 1)) == 0) t = (int)i + 1;
            else atomic_fetch_and_explicit(&thread_slots, ~mine, memory_order_release);
            break;
        }
    }
    thread_index = t;
    return t;
}

RTM_INLINE rtm_pool_cache *my_cache(rtm_pool *p)
{
    int t = thread_index;
    if (RTM_UNLIKELY(t == 0)) t = thread_index_claim();
    return RTM_LIKELY(t > 0) ? &p->caches[t - 1] : NULL;
}

/* ---- slots by global number ------------------------------------------------- */

RTM_INLINE rtm_slab *slab_of(const rtm_pool *p, uint32_t x)
{
    return _rtm_pool_slab_at(p, x >> p->local_bits);
}

RTM_INLINE rtm_slot *slot_of(const rtm_pool *p, uint32_t x)
{
    return &slab_of(p, x)->slots[x & p->local_mask];
}

/* ---- the shared stack of batches ------------------------------------------------ */

#define HEAD_SLOT_BITS 25
#define HEAD_SLOT_MASK ((1u << HEAD_SLOT_BITS) - 1)

_Static_assert(RTM_HANDLE_SLOT_BITS < HEAD_SLOT_BITS, "a slot number + 1 fits the head");

RTM_INLINE uint64_t head_next(uint64_t h, uint32_t top)
{
    return ((h >> HEAD_SLOT_BITS) + 1) << HEAD_SLOT_BITS | top; /* the tag wraps mod 2^39 */
}

/* Pushes the batch headed by `first` (its slots chained through `next`). */
void _rtm_pool_stack_push(rtm_pool *p, uint32_t first)
{
    rtm_slab *s = slab_of(p, first);
    _Atomic uint32_t *link = &s->batch[first & p->local_mask];
    uint64_t h = atomic_load_explicit(&p->head, memory_order_relaxed);
    do {
        atomic_store_explicit(link, (uint32_t)(h & HEAD_SLOT_MASK), memory_order_relaxed);
    } while (!atomic_compare_exchange_weak_explicit(&p->head, &h, head_next(h, first + 1),
                                                    memory_order_release, memory_order_relaxed));
}

/* Pops a batch: its first slot, or RTM_SLOT_NONE. */
uint32_t _rtm_pool_stack_pop(rtm_pool *p)
{
    uint64_t h = atomic_load_explicit(&p->head, memory_order_acquire);
    for (;;) {
        uint32_t top = (uint32_t)(h & HEAD_SLOT_MASK);
        if (top == 0) return RTM_SLOT_NONE;
        uint32_t first = top - 1;
        /* may be stale if `first` moved since h was read: the tag then fails the CAS */
        uint32_t below = atomic_load_explicit(&slab_of(p, first)->batch[first & p->local_mask],
                                              memory_order_relaxed);
        if (atomic_compare_exchange_weak_explicit(&p->head, &h, head_next(h, below),
                                                  memory_order_acquire, memory_order_acquire))
            return first;
    }
}

/* ---- growth ----------------------------------------------------------------------- */

/* A batch for an empty cache: popped, or carved from a new slab (whose other
 * batches go to the shared stack). RTM_OK, or why the pool cannot grow. */
RTM_COLD static rtm_status grow(rtm_pool *p, uint32_t *first)
{
    rtm_status why = RTM_OK;
    pthread_mutex_lock(&p->grow_lock);
    *first = _rtm_pool_stack_pop(p); /* another thread may have grown the pool meanwhile */
    if (*first == RTM_SLOT_NONE) {
        rtm_slab *s = _rtm_pool_slab_new(p, &why);
        if (s != NULL) {
            rtm_counter_add_shared(&p->misses, 1);
            uint32_t n = s->nslots;
            for (uint32_t b = 0; b < n; b += RTM_POOL_BATCH) {
                uint32_t end = b + RTM_POOL_BATCH < n ? b + RTM_POOL_BATCH : n;
                for (uint32_t i = b; i < end; i++)
                    s->slots[i].next = i + 1 < end ? _rtm_pool_global(p, s, i + 1) : RTM_SLOT_NONE;
                if (b != 0) _rtm_pool_stack_push(p, _rtm_pool_global(p, s, b));
            }
            *first = _rtm_pool_global(p, s, 0);
        }
    }
    pthread_mutex_unlock(&p->grow_lock);
    return *first == RTM_SLOT_NONE ? why : RTM_OK;
}

/* Raises the sampled peak to what the pool holds now. */
static void sample_peak(rtm_pool *p)
{
    uint64_t a, r;
    _rtm_pool_mt_counts(p, &a, &r);
    uint64_t live = a > r ? a - r : 0, peak = rtm_counter_get(&p->peak);
    while (live > peak && !atomic_compare_exchange_weak_explicit(&p->peak, &peak, live, memory_order_relaxed,
                                                                 memory_order_relaxed)) {
    }
}

/* Fills an empty cache with one batch. */
RTM_COLD static rtm_status refill(rtm_pool *p, rtm_pool_cache *c)
{
    uint32_t x = _rtm_pool_stack_pop(p);
    if (x == RTM_SLOT_NONE) {
        rtm_status s = grow(p, &x);
        if (s != RTM_OK) return s;
        sample_peak(p);
    }
    for (; x != RTM_SLOT_NONE; x = slot_of(p, x)->next) c->slots[c->count++] = x;
    return RTM_OK;
}

/* Sends the oldest batch of a full cache to the shared stack. */
RTM_COLD static void flush(rtm_pool *p, rtm_pool_cache *c)
{
    for (uint32_t j = 0; j < RTM_POOL_BATCH; j++)
        slot_of(p, c->slots[j])->next = j + 1 < RTM_POOL_BATCH ? c->slots[j + 1] : RTM_SLOT_NONE;
    _rtm_pool_stack_push(p, c->slots[0]);
    c->count -= RTM_POOL_BATCH;
    memmove(c->slots, c->slots + RTM_POOL_BATCH, c->count * sizeof c->slots[0]);
}

/* A thread with no cache takes one slot from a batch and pushes the rest back. */
RTM_COLD static rtm_status take_shared(rtm_pool *p, uint32_t *x)
{
    *x = _rtm_pool_stack_pop(p);
    if (*x == RTM_SLOT_NONE) {
        rtm_status s = grow(p, x);
        if (s != RTM_OK) return s;
    }
    uint32_t rest = slot_of(p, *x)->next;
    if (rest != RTM_SLOT_NONE) _rtm_pool_stack_push(p, rest);
    rtm_counter_add_shared(&p->shared_acquires, 1);
    return RTM_OK;
}

/* ---- the cap ------------------------------------------------------------------------ */

/* Only a capped pool pays for a shared live count. */
RTM_INLINE bool cap_claim(rtm_pool *p)
{
    if (RTM_LIKELY(p->cap == UINT64_MAX)) return true;
    if (atomic_fetch_add_explicit(&p->shared_claimed, 1, memory_order_relaxed) < p->cap) return true;
    atomic_fetch_sub_explicit(&p->shared_claimed, 1, memory_order_relaxed);
    return false;
}

RTM_INLINE void cap_unclaim(rtm_pool *p)
{
    if (RTM_UNLIKELY(p->cap != UINT64_MAX))
        atomic_fetch_sub_explicit(&p->shared_claimed, 1, memory_order_relaxed);
}

/* ---- acquire and release ------------------------------------------------------------- */

/* Takes a free slot for this thread and starts its object: the object, its
 * slot number and live state; NULL (recorded) when the pool cannot grow. */
RTM_INLINE void *take(rtm_pool *p, uint32_t *global, uint32_t *state, const char *where)
{
    if (RTM_UNLIKELY(!cap_claim(p))) return _rtm_fail_null(p->owned.ctx, RTM_ELIMIT, where);
    rtm_pool_cache *c = my_cache(p);
    rtm_status s = RTM_OK;
    uint32_t x = RTM_SLOT_NONE;
    if (RTM_LIKELY(c != NULL)) {
        if (RTM_UNLIKELY(c->count == 0)) s = refill(p, c);
        if (RTM_LIKELY(s == RTM_OK)) {
            x = c->slots[--c->count];
            rtm_counter_add(&c->acquires, 1);
        }
    } else {
        s = take_shared(p, &x);
    }
    if (RTM_UNLIKELY(s != RTM_OK)) {
        cap_unclaim(p);
        return _rtm_fail_null(p->owned.ctx, s, where);
    }
    rtm_slab *sl = slab_of(p, x);
    uint32_t i = x & p->local_mask;
    /* the slot is ours alone until we hand it out: a plain store */
    uint32_t st = atomic_load_explicit(&sl->slots[i].state, memory_order_relaxed) | RTM_SLOT_LIVE;
    atomic_store_explicit(&sl->slots[i].state, st, memory_order_release);
    void *obj = _rtm_pool_obj(p, sl, i);
    _rtm_pool_start_object(p, obj);
    *global = x;
    *state = st;
    return obj;
}

rtm_handle _rtm_pool_mt_acquire(rtm_pool *p)
{
    rtm_handle h = {0};
    uint32_t x = 0, st = 0;
    if (take(p, &x, &st, "rtm_pool_acquire") != NULL) h = _rtm_pool_handle(p, x, st >> 1);
    return h;
}

void *_rtm_pool_mt_alloc(rtm_pool *p)
{
    uint32_t x = 0, st = 0;
    return take(p, &x, &st, "rtm_pool_alloc");
}

/* A slot whose object just ended goes to this thread's cache. */
RTM_INLINE void put(rtm_pool *p, uint32_t x, uint32_t released)
{
    rtm_pool_cache *c = my_cache(p);
    if (RTM_UNLIKELY(released == RTM_SLOT_RETIRED)) {
        rtm_counter_add_shared(&p->retired, 1); /* never handed out again */
    } else if (RTM_LIKELY(c != NULL)) {
        if (RTM_UNLIKELY(c->count == RTM_POOL_CACHE)) flush(p, c);
        c->slots[c->count++] = x;
    } else {
        slot_of(p, x)->next = RTM_SLOT_NONE;
        _rtm_pool_stack_push(p, x);
    }
    if (RTM_LIKELY(c != NULL)) rtm_counter_add(&c->releases, 1);
    else rtm_counter_add_shared(&p->shared_releases, 1);
    cap_unclaim(p);
}

rtm_status _rtm_pool_mt_release(rtm_pool *p, rtm_handle h)
{
    if (RTM_UNLIKELY(h.bits == 0)) return RTM_OK;
    uint32_t x = rtm_handle_slot(h), i = x & p->local_mask;
    rtm_slab *s = rtm_handle_pool(h) == p->id ? slab_of(p, x) : NULL;
    uint32_t want = rtm_handle_gen(h) << 1 | RTM_SLOT_LIVE, released = _rtm_slot_released(want);
    /* the CAS decides, between threads releasing the same handle, which one
     * ends the object: the others find it stale (slot entries past nslots
     * are never live, so i needs no bounds check) */
    if (RTM_UNLIKELY(s == NULL ||
                     !atomic_compare_exchange_strong_explicit(&s->slots[i].state, &want, released,
                                                              memory_order_acq_rel,
                                                              memory_order_relaxed)))
        return _rtm_pool_bad(p, _rtm_pool_classify(p, h), "rtm_pool_release", true);
    _rtm_pool_end_object(p, _rtm_pool_obj(p, s, i));
    put(p, x, released);
    return RTM_OK;
}

rtm_status _rtm_pool_mt_free(rtm_pool *p, void *obj)
{
    if (RTM_UNLIKELY(obj == NULL)) return RTM_OK;
    rtm_slab *s = (rtm_slab *)((uintptr_t)obj & p->slab_base);
    uint32_t i;
    if (RTM_UNLIKELY(!_rtm_pool_owns(p, s) || (i = _rtm_pool_slot_of(p, s, obj)) == RTM_SLOT_NONE))
        return _rtm_pool_bad(p, RTM_EFOREIGN, "rtm_pool_free", true);
    _Atomic uint32_t *state = &s->slots[i].state;
    uint32_t st = atomic_load_explicit(state, memory_order_relaxed);
    do {
        if (!(st & RTM_SLOT_LIVE)) return _rtm_pool_bad(p, RTM_ESTALE, "rtm_pool_free", true);
    } while (!atomic_compare_exchange_weak_explicit(state, &st, _rtm_slot_released(st),
                                                    memory_order_acq_rel, memory_order_relaxed));
    _rtm_pool_end_object(p, obj);
    put(p, _rtm_pool_global(p, s, i), _rtm_slot_released(st));
    return RTM_OK;
}

/* ---- setup, figures, check ------------------------------------------------------------- */

rtm_status _rtm_pool_mt_init(rtm_pool *p)
{
    atomic_store_explicit(&p->head, 0, memory_order_relaxed);
    return pthread_mutex_init(&p->grow_lock, NULL) == 0 ? RTM_OK : RTM_ENOMEM;
}

void _rtm_pool_mt_fini(rtm_pool *p) { pthread_mutex_destroy(&p->grow_lock); }

void _rtm_pool_mt_counts(const rtm_pool *p, uint64_t *acquires, uint64_t *releases)
{
    uint64_t a = rtm_counter_get(&p->shared_acquires), r = rtm_counter_get(&p->shared_releases);
    for (unsigned t = 0; t < RTM_POOL_THREADS; t++) {
        r += rtm_counter_get(&p->caches[t].releases);
        a += rtm_counter_get(&p->caches[t].acquires);
    }
    *acquires = a;
    *releases = r;
}

/* While checking, a free slot seen once is marked in its state's top bit
 * (states use 24 bits), so a slot in two places is caught without memory. */
#define SEEN 0x80000000u

static bool mark(rtm_pool *p, uint32_t x, uint64_t *free)
{
    uint32_t r = x >> p->local_bits, i = x & p->local_mask;
    if (r >= atomic_load_explicit(&p->nranges, memory_order_relaxed)) return false;
    rtm_slab *s = _rtm_pool_slab_at(p, r);
    if (s == NULL || i >= s->nslots) return false;
    _Atomic uint32_t *state = &s->slots[i].state;
    uint32_t st = atomic_load_explicit(state, memory_order_relaxed);
    if ((st & (SEEN | RTM_SLOT_LIVE)) || st == RTM_SLOT_RETIRED) return false;
    atomic_store_explicit(state, st | SEEN, memory_order_relaxed);
    ++*free;
    return true;
}

static bool walk_free(rtm_pool *p, uint64_t slots, uint64_t *free)
{
    for (unsigned t = 0; t < RTM_POOL_THREADS; t++) {
        const rtm_pool_cache *c = &p->caches[t];
        if (c->count > RTM_POOL_CACHE) return false;
        for (uint32_t j = 0; j < c->count; j++)
            if (!mark(p, c->slots[j], free)) return false;
    }
    uint32_t top = (uint32_t)(atomic_load_explicit(&p->head, memory_order_acquire) & HEAD_SLOT_MASK);
    while (top != 0) {
        uint32_t first = top - 1;
        for (uint32_t x = first; x != RTM_SLOT_NONE; x = slot_of(p, x)->next)
            if (!mark(p, x, free) || *free > slots) return false; /* marks stop any cycle */
        top = atomic_load_explicit(&slab_of(p, first)->batch[first & p->local_mask],
                                   memory_order_relaxed);
    }
    return true;
}

rtm_status _rtm_pool_mt_check(rtm_pool *p, uint64_t live, uint64_t retired, uint64_t slots)
{
    uint64_t a, r, free = 0;
    _rtm_pool_mt_counts(p, &a, &r);
    bool ok = a - r == live && retired == rtm_counter_get(&p->retired) &&
              (p->cap == UINT64_MAX ||
               atomic_load_explicit(&p->shared_claimed, memory_order_relaxed) == live);
    ok = ok && walk_free(p, slots, &free) && free + live + retired == slots;
    /* clear the marks, wherever the walk stopped */
    uint32_t n = atomic_load_explicit(&p->nranges, memory_order_relaxed);
    for (uint32_t rg = 0; rg < n; rg++) {
        rtm_slab *s = _rtm_pool_slab_at(p, rg);
        for (uint32_t i = 0; s != NULL && i < s->nslots; i++)
            atomic_fetch_and_explicit(&s->slots[i].state, ~SEEN, memory_order_relaxed);
    }
    return ok ? RTM_OK : RTM_EINVAL;
}
