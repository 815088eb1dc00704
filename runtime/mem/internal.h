/*
 * internal.h: what every part of rtmem shares and no user sees: compiler
 * macros, checked size arithmetic, the context structure, the list of objects
 * a context owns, and error recording.
 */
#ifndef RTM_INTERNAL_H
#define RTM_INTERNAL_H

#include "rtmem.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

/* ---- compiler ----------------------------------------------------------- */

#if defined(__GNUC__) || defined(__clang__)
#  define RTM_LIKELY(x) __builtin_expect(!!(x), 1)
#  define RTM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#  define RTM_NOINLINE __attribute__((noinline))
#  define RTM_COLD __attribute__((cold, noinline))
#  define RTM_INLINE static inline __attribute__((always_inline))
/* thread-local data of a fixed slot in the static TLS block: one load */
#  define RTM_TLS_FAST __attribute__((tls_model("initial-exec")))
#else
#  define RTM_LIKELY(x) (x)
#  define RTM_UNLIKELY(x) (x)
#  define RTM_NOINLINE
#  define RTM_COLD
#  define RTM_INLINE static inline
#  define RTM_TLS_FAST
#endif

#define RTM_CACHE_LINE 64

/* Bits needed to write x (0 for 0): 1 + floor(log2 x). */
RTM_INLINE unsigned rtm_bit_length(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0;
#else
    unsigned n = 0;
    while (x) { n++; x >>= 1; }
    return n;
#endif
}
#define RTM_OS_PAGE 4096u

/* Debug assertions: deep checks in debug builds (RTM_DEBUG), nothing in release.
 * Public entry points guard their arguments in every build instead. */
#ifdef RTM_DEBUG
#  include <assert.h>
#  define rtm_assert(x) assert(x)
#else
#  define rtm_assert(x) ((void)0)
#endif

/* ---- checked arithmetic ------------------------------------------------- */

RTM_INLINE bool rtm_mul_overflow(size_t a, size_t b, size_t *out)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_mul_overflow(a, b, out);
#else
    if (b != 0 && a > SIZE_MAX / b) return true;
    *out = a * b;
    return false;
#endif
}

RTM_INLINE bool rtm_add_overflow(size_t a, size_t b, size_t *out)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_add_overflow(a, b, out);
#else
    if (a > SIZE_MAX - b) return true;
    *out = a + b;
    return false;
#endif
}

RTM_INLINE bool rtm_is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

/* Rounds x up to a multiple of a (a power of two); x must not overflow. */
RTM_INLINE size_t rtm_align_up(size_t x, size_t a) { return (x + a - 1) & ~(a - 1); }
RTM_INLINE uintptr_t rtm_align_ptr(uintptr_t x, size_t a) { return (x + a - 1) & ~(uintptr_t)(a - 1); }

/* ---- counters read from any thread --------------------------------------
 * A counter written by one thread (the owner) and read by any: relaxed
 * atomics, which compile to plain loads and stores on x86-64 and keep TSan
 * quiet. Counters written by several threads use rtm_counter_add_shared. */
typedef _Atomic uint64_t rtm_counter;

RTM_INLINE uint64_t rtm_counter_get(const rtm_counter *c)
{
    return atomic_load_explicit((rtm_counter *)c, memory_order_relaxed);
}
RTM_INLINE void rtm_counter_set(rtm_counter *c, uint64_t v)
{
    atomic_store_explicit(c, v, memory_order_relaxed);
}
RTM_INLINE void rtm_counter_add(rtm_counter *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}
RTM_INLINE void rtm_counter_sub(rtm_counter *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) - n,
                          memory_order_relaxed);
}
RTM_INLINE void rtm_counter_add_shared(rtm_counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}
/* Raises *peak to v if v is larger (single writer). */
RTM_INLINE void rtm_counter_max(rtm_counter *peak, uint64_t v)
{
    if (v > rtm_counter_get(peak)) rtm_counter_set(peak, v);
}

/* ---- objects a context owns ----------------------------------------------
 * Every arena, pool, buffer, batch, layout and the interner links itself into
 * its context's list, so rtm_ctx_destroy can end what the user forgot, and
 * rtm_ctx_check / rtm_ctx_visit / rtm_ctx_stats can reach every part without
 * ctx.c knowing the parts. The list is guarded by ctx->owned_lock, because
 * stats may be read from any thread. */
typedef struct rtm_owned rtm_owned;

typedef struct rtm_owned_ops {
    const char *what;                      /* "arena", "pool", ... */
    int order;                             /* destroy order: lower first */
    void (*destroy)(rtm_owned *o);         /* end it; it unlinks itself */
    rtm_status (*check)(rtm_owned *o);     /* NULL: nothing to check */
    int (*visit)(rtm_owned *o, rtm_visit_fn fn, void *ud); /* nonzero: stop */
    void (*stats)(const rtm_owned *o, rtm_stats *out);     /* add its figures */
    void (*trim)(rtm_owned *o);            /* give back what it can spare */
} rtm_owned_ops;

struct rtm_owned {
    rtm_owned *prev, *next;
    const rtm_owned_ops *ops;
    rtm_ctx *ctx;
};

/* Destroy order: users of layouts first, layouts last, the interner after
 * anything that may hold symbols. */
enum {
    RTM_ORDER_BATCH = 10,
    RTM_ORDER_POOL = 20,
    RTM_ORDER_ARENA = 30,
    RTM_ORDER_ARENA_CACHE = 35,
    RTM_ORDER_BUF = 40,
    RTM_ORDER_LAYOUT = 50,
    RTM_ORDER_INTERNER = 60
};

void _rtm_owned_link(rtm_ctx *ctx, rtm_owned *o, const rtm_owned_ops *ops);
void _rtm_owned_unlink(rtm_owned *o);

/* ---- the context --------------------------------------------------------- */

#include "heap.h"
#include "page.h"

struct rtm_arena_cache;

struct rtm_ctx {
    rtm_heap heap;              /* first: the hot path reaches it at offset 0 */
    unsigned flags;             /* RTM_CTX_DEBUG */
    _Atomic int error;          /* rtm_status of the last failure */

    rtm_page_source pages;      /* copied from the config */
    rtm_page_account account;   /* bytes held, limit, page stats (page.h) */

    rtm_collect_fn collect;
    void *collect_ud;
    rtm_error_fn on_error;
    void *on_error_ud;
    rtm_counter errors;
    rtm_counter collect_calls;
    rtm_counter pool_leaked;    /* objects live when their pool was destroyed (pool.c) */

    pthread_mutex_t owned_lock;
    rtm_owned owned;            /* sentinel of the circular list */

    struct rtm_arena_cache *arena_cache; /* chunks of destroyed arenas (arena.c) */
    rtm_interner *interner;     /* the context's own, or NULL (runtime/intern) */

    size_t self_size;           /* bytes of the page range holding this struct */
};

RTM_INLINE bool rtm_ctx_debug(const rtm_ctx *ctx) { return (ctx->flags & RTM_CTX_DEBUG) != 0; }

/* Records a failure on the context: sets the error, counts it, tells the
 * error hook. Returns s, so callers can `return _rtm_fail(...)`. Cold. */
rtm_status _rtm_fail(rtm_ctx *ctx, rtm_status s, const char *where) RTM_COLD;

/* The same for a NULL-returning function: records and returns NULL. */
void *_rtm_fail_null(rtm_ctx *ctx, rtm_status s, const char *where) RTM_COLD;

/* The context's interner, made by runtime/intern when rtm_ctx_new asks.
 * Returns RTM_OK, or why it could not (unknown keyword set, no memory). */
rtm_status _rtm_ctx_interner_init(rtm_ctx *ctx, const char *const *keywords);

#endif /* RTM_INTERNAL_H */
