/*
 * pool.h: the inside of typed pools, shared by pool.c (ordinary pools,
 * handles, the identity registry, slabs) and pool_concurrent.c (the
 * lock-free shared free list and the per-thread caches).
 *
 * A pool's objects live in slabs: page-map segments (64 KiB, or a larger
 * power of two for big objects) aligned to their size, each starting with an
 * rtm_region header (kind RTM_REGION_POOL_SLAB), then the slab header, one
 * rtm_slot per object (its state and a free-list link, kept outside the
 * object so a free object can stay poisoned for ASan), and the objects,
 * packed at the type's alignment.
 *
 * Slot numbers: a slab holds nslots <= 2^local_bits objects; the pool's
 * directory maps a range number to the slab serving it, and a handle's slot
 * field is range << local_bits | local. The slot table has 2^local_bits
 * entries: the ones past nslots are never live, so a handle's local number
 * needs no bounds check. The directory has two levels (a top array in the
 * pool, leaves of pages made on demand) so a concurrent reader never sees it
 * move.
 */
#ifndef RTM_POOL_H
#define RTM_POOL_H

#include "internal.h"
#include "track.h"

/* ---- handles and slot states ----------------------------------------------- */

#define RTM_HANDLE_SLOT_MASK ((1u << RTM_HANDLE_SLOT_BITS) - 1)
#define RTM_HANDLE_GEN_SHIFT RTM_HANDLE_SLOT_BITS
#define RTM_HANDLE_POOL_SHIFT (RTM_HANDLE_SLOT_BITS + RTM_HANDLE_GEN_BITS)
#define RTM_GEN_MAX ((1u << RTM_HANDLE_GEN_BITS) - 1)
#define RTM_POOL_ID_MAX ((1u << RTM_HANDLE_POOL_BITS) - 1)

/* A slot range or a pool identity whose generations went past this is not
 * reused: a new user of it would get too few lives per slot. */
#define RTM_GEN_REUSE (RTM_GEN_MAX / 2)

/* A slot's state: generation << 1 | live. A slot released at RTM_GEN_MAX is
 * retired: its state is past every generation a handle can hold. */
#define RTM_SLOT_LIVE 1u
#define RTM_SLOT_RETIRED ((RTM_GEN_MAX + 1u) << 1)
#define RTM_SLOT_NONE UINT32_MAX

static inline uint32_t rtm_handle_slot(rtm_handle h) { return (uint32_t)h.bits & RTM_HANDLE_SLOT_MASK; }
static inline uint32_t rtm_handle_gen(rtm_handle h)
{
    return (uint32_t)(h.bits >> RTM_HANDLE_GEN_SHIFT) & RTM_GEN_MAX;
}
static inline uint32_t rtm_handle_pool(rtm_handle h) { return (uint32_t)(h.bits >> RTM_HANDLE_POOL_SHIFT); }

typedef struct rtm_slot {
    _Atomic uint32_t state; /* generation << 1 | live */
    uint32_t next;          /* ordinary pools: next free slot of the slab (local);
                               concurrent: next slot of the batch (global) */
} rtm_slot;

typedef struct rtm_slab rtm_slab;
struct rtm_slab {
    rtm_region region;       /* first: RTM_REGION_POOL_SLAB, the context */
    rtm_pool *pool;
    char *objects;           /* slot i is at objects + i * stride */
    uint32_t number;         /* its range in the directory */
    uint32_t nslots;
    /* ordinary pools only. free and live are kept apart: adjacent, the
     * compiler merges their updates into one 8-byte vector store, and the
     * next operation's 4-byte loads of them stall on store forwarding
     * (measured: +5 ns per acquire/release pair) */
    uint32_t free;           /* first free slot, RTM_SLOT_NONE: full */
    uint32_t retired;
    uint32_t live;
    uint32_t listed;         /* on the pool's list of slabs with free slots */
    rtm_slab *prev, *next;   /* that list */
    rtm_slab *spare_next;    /* the pool's list of kept slabs, while spare */
    uint32_t spare;
    /* concurrent pools only: per slot, the first slot + 1 of the next batch
     * on the shared stack (0: none), for the batch this slot heads */
    _Atomic uint32_t *batch;
    rtm_slot slots[];
};

/* One directory entry: a range of slot numbers and the slab serving it. */
typedef struct rtm_range {
    _Atomic(rtm_slab *) slab; /* NULL: none now */
    uint32_t floor;           /* the first generation of the next slab here */
    uint32_t next_free;       /* the list of reusable ranges, RTM_SLOT_NONE ends it */
} rtm_range;

/* ---- concurrent pools: per-thread caches -------------------------------------
 * Threads take an index (0..RTM_POOL_THREADS-1) on their first use of any
 * concurrent pool and give it back when they exit; cache i of every pool is
 * used only by the thread holding index i, so its common path is plain loads
 * and stores on lines no other thread writes. Threads past the first
 * RTM_POOL_THREADS go to the shared stack directly. */
#define RTM_POOL_THREADS 64
#define RTM_POOL_BATCH 16                    /* slots moved per shared-stack operation */
#define RTM_POOL_CACHE (2 * RTM_POOL_BATCH)  /* slots a cache holds */

typedef struct rtm_pool_cache {
    _Alignas(RTM_CACHE_LINE) uint32_t count; /* each cache on lines of its own */
    uint32_t slots[RTM_POOL_CACHE];          /* global slot numbers, LIFO */
    rtm_counter acquires, releases;          /* by the thread holding the index */
} rtm_pool_cache;

/* ---- the pool ------------------------------------------------------------------ */

/* The directory: a top array in the pool, leaves of RTM_POOL_LEAF ranges
 * made on demand. A constant leaf size keeps the lookup free of variable
 * shifts; a leaf is never moved, so concurrent readers need no lock. */
#define RTM_POOL_LEAF_BITS 9
#define RTM_POOL_LEAF (1u << RTM_POOL_LEAF_BITS)

struct rtm_pool {
    /* the inline paths read only this first line (and write peak rarely) */
    rtm_slab *fast;           /* the slab they serve: cur for plain pools, else the
                                 empty sentinel, which sends every one out of line */
    uintptr_t slab_base;      /* ~(slab_bytes - 1): a pointer's slab */
    uint64_t div_magic;       /* 2^64 / (2 * stride), rounded up: _rtm_pool_slot_of */
    size_t stride;
    rtm_counter peak;         /* ordinary pools: also the limit of the inline
                                 acquire (peak <= cap, so an acquire below it
                                 needs no cap check and makes no new peak) */
    uint64_t key_mask;        /* a handle's pool identity and range bits */
    uint64_t fast_key;        /* those bits of a handle into fast (UINT64_MAX:
                                 none, as no masked handle has every bit set) */
    uint32_t nslots;          /* per slab (and 2^local_bits slot entries) */
    uint32_t local_mask;

    /* written by the fast paths (ordinary pools; concurrent ones count per
     * thread): live = acquires - releases, and each is written by one side
     * only, so an acquire+release pair carries no read-modify-write chain */
    _Alignas(RTM_CACHE_LINE) rtm_counter acquires;
    rtm_counter releases;
    rtm_counter misses, slabs, retired, bad;

    rtm_slab *cur;            /* ordinary: the slab acquires take from, or the empty sentinel */
    uint64_t cap;             /* UINT64_MAX: none */
    uint32_t id;
    uint8_t local_bits, concurrent, plain; /* plain: not concurrent, no ctor, no dtor */
    size_t size;
    uint32_t gen_base;        /* generations below this belong to an earlier pool */
    void (*ctor)(void *ud, void *obj);
    void (*dtor)(void *ud, void *obj);
    void *ud;

    /* ordinary pools */
    rtm_slab *avail;          /* slabs with free slots; cur is its head */
    rtm_slab *spares;         /* slabs kept when they emptied (some may have
                                 objects again: slab_emptied prunes them) */
    uint32_t nspares;         /* on that list */
    uint32_t keep;            /* most empty slabs kept (rtm_pool_keep_slabs) */
    uint32_t free_ranges;     /* ranges to reuse, RTM_SLOT_NONE: none */

    /* both: growth (concurrent: under grow_lock) */
    _Atomic uint32_t nranges; /* ranges ever used */
    uint32_t max_ranges;
    uint32_t dir_top;
    size_t slab_bytes;
    size_t objects_offset;    /* from the slab's start */
    size_t align;
    void (*init)(void *ud, void *obj);
    void (*fini)(void *ud, void *obj);
    const char *name;
    size_t bytes;             /* pages of this block */
    rtm_owned owned;

    /* concurrent pools */
    pthread_mutex_t grow_lock;
    _Atomic uint64_t shared_claimed;  /* live objects, kept only with a cap */
    rtm_counter shared_acquires, shared_releases; /* threads without a cache */
    rtm_pool_cache *caches;           /* RTM_POOL_THREADS */
    _Alignas(RTM_CACHE_LINE) _Atomic uint64_t head; /* the shared stack */
    char head_pad[RTM_CACHE_LINE - sizeof(uint64_t)];

    /* the directory's top level, dir_top leaves: at a fixed offset from the
     * pool, so a lookup is two dependent loads */
    _Atomic(rtm_range *) dir[];
};

/* ---- shared by both files ------------------------------------------------------ */

/* The slab serving range r, or NULL. Any thread. */
static inline rtm_slab *_rtm_pool_slab_at(const rtm_pool *p, uint32_t r)
{
    rtm_range *leaf = atomic_load_explicit(&p->dir[r >> RTM_POOL_LEAF_BITS], memory_order_acquire);
    if (leaf == NULL) return NULL;
    return atomic_load_explicit(&leaf[r & (RTM_POOL_LEAF - 1)].slab, memory_order_acquire);
}

static inline void *_rtm_pool_obj(const rtm_pool *p, const rtm_slab *s, uint32_t i)
{
    return s->objects + (size_t)i * p->stride;
}

static inline uint32_t _rtm_pool_global(const rtm_pool *p, const rtm_slab *s, uint32_t i)
{
    return s->number << p->local_bits | i;
}

static inline rtm_handle _rtm_pool_handle(const rtm_pool *p, uint32_t global, uint32_t gen)
{
    rtm_handle h = {(uint64_t)p->id << RTM_HANDLE_POOL_SHIFT |
                    (uint64_t)gen << RTM_HANDLE_GEN_SHIFT | global};
    return h;
}

/* Makes a slab in a new or reused range and publishes it in the directory:
 * every slot free at the range's floor, chained 0..n-1 through `next`
 * (local numbers), objects poisoned, init run. NULL with *why. Ordinary
 * pools: owner thread; concurrent: under grow_lock. */
rtm_slab *_rtm_pool_slab_new(rtm_pool *p, rtm_status *why);

/* Records a failing release, free or get: counts a bad release unless
 * `counted` is false, tells the context. Returns s. Any thread. */
rtm_status _rtm_pool_bad(rtm_pool *p, rtm_status s, const char *where, bool counted) RTM_COLD;

/* Why handle h does not name a live object of p: RTM_EFOREIGN or RTM_ESTALE. */
rtm_status _rtm_pool_classify(const rtm_pool *p, rtm_handle h);

/* Runs dtor on a live object about to become free and poisons it. */
static inline void _rtm_pool_end_object(rtm_pool *p, void *obj)
{
    if (p->dtor != NULL) p->dtor(p->ud, obj);
    rtm_track_free(obj, p->stride);
}

/* Unpoisons an object just made live and runs ctor. */
static inline void _rtm_pool_start_object(rtm_pool *p, void *obj)
{
    if (p->init != NULL) rtm_track_alloc_zero(obj, p->size); /* init left it defined */
    else rtm_track_alloc(obj, p->size);
    if (p->ctor != NULL) p->ctor(p->ud, obj);
}

/* The next generation's state of a slot released from live state `st`:
 * (gen + 1) << 1, which past RTM_GEN_MAX is RTM_SLOT_RETIRED. */
static inline uint32_t _rtm_slot_released(uint32_t st) { return st + 1; }

/* Is s one of p's slabs? Reads s only where the page map says rtmem owns a
 * segment, so a foreign pointer never faults. */
static inline bool _rtm_pool_owns(const rtm_pool *p, const rtm_slab *s)
{
    return _rtm_pagemap_contains(s) && s->region.kind == RTM_REGION_POOL_SLAB && s->pool == p;
}

/* The slot number of obj in p's slab s (obj must lie in s), or RTM_SLOT_NONE
 * when obj is not the start of one of its objects. One multiply gives both
 * the quotient and the exactness of offset / stride (Lemire, Kaser and Kurz,
 * "Faster remainder by direct computation", 2019: for n < 2^32 and c =
 * ceil(2^64 / d), n / d is the high half of c * n, and d divides n iff the
 * low half is below c). Offsets are doubled so that d = 2 * stride >= 2 and
 * c fits in 64 bits. A pointer into the headers wraps to an offset near
 * 2^32, whose quotient is past nslots: slabs are at most 16 MiB. */
static inline uint32_t _rtm_pool_slot_of(const rtm_pool *p, const rtm_slab *s, const void *obj)
{
    uint32_t off = (uint32_t)((uintptr_t)obj - (uintptr_t)s->objects);
#ifdef __SIZEOF_INT128__
    unsigned __int128 q = (unsigned __int128)p->div_magic * (2 * (uint64_t)off);
    uint32_t i = (uint32_t)(q >> 64); /* off / stride < 2^32 */
    if ((uint64_t)q >= p->div_magic || i >= p->nslots) return RTM_SLOT_NONE;
#else
    uint32_t i = (uint32_t)(off / p->stride);
    if ((uint64_t)i * p->stride != off || i >= p->nslots) return RTM_SLOT_NONE;
#endif
    return i;
}

/* Concurrent pools (pool_concurrent.c): the public calls go straight here. */
rtm_status _rtm_pool_mt_init(rtm_pool *p);
void _rtm_pool_mt_fini(rtm_pool *p);
rtm_handle _rtm_pool_mt_acquire(rtm_pool *p);
void *_rtm_pool_mt_alloc(rtm_pool *p);
rtm_status _rtm_pool_mt_release(rtm_pool *p, rtm_handle h);
rtm_status _rtm_pool_mt_free(rtm_pool *p, void *obj);
rtm_status _rtm_pool_mt_check(rtm_pool *p, uint64_t live, uint64_t retired, uint64_t slots);
void _rtm_pool_mt_counts(const rtm_pool *p, uint64_t *acquires, uint64_t *releases);
/* The shared stack of batches (a batch: slots chained through `next`). */
void _rtm_pool_stack_push(rtm_pool *p, uint32_t first);
uint32_t _rtm_pool_stack_pop(rtm_pool *p);

/* The identity registry (pool_id.c). take: an identity and the generation its
 * pool starts at; publish: make the pool findable by its handles; give: end
 * it, floor being past every generation the pool used; pool: the live pool
 * holding an identity, or NULL. Any thread. */
rtm_status _rtm_pool_id_take(uint32_t *id, uint32_t *floor);
void _rtm_pool_id_publish(uint32_t id, rtm_pool *p);
void _rtm_pool_id_give(uint32_t id, uint32_t floor);
rtm_pool *_rtm_pool_id_pool(uint32_t id);

/* For white-box tests: lower the number of pool identities that may be live
 * at once (0: the default) and the ranges a pool may use. Return the old. */
uint32_t _rtm_pool_ids_cap(uint32_t cap);
uint32_t _rtm_pool_ranges_cap(rtm_pool *p, uint32_t cap);

#endif /* RTM_POOL_H */
