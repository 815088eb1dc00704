/*
 * rtmem.h: the memory subsystem of a language runtime.
 *
 * One context (rtm_ctx) per interpreter owns every byte the runtime hands out:
 * a small-object heap (usable as Lua's lua_Alloc), bump arenas, typed object
 * pools with checked handles, a concurrent string interner, structure-of-arrays
 * batches, aligned buffers, and the metrics of all of them. Destroying the
 * context frees everything it owns, at once.
 *
 * Conventions, everywhere in this header:
 *  - Names are rtm_<object>_<verb>. Objects are made with _new and ended with
 *    _destroy; blocks of memory are taken with _alloc and given back with _free.
 *  - Errors are values. A failing call returns NULL, 0 or a status other than
 *    RTM_OK, records the reason on the context (rtm_ctx_error), and leaves the
 *    context consistent and usable. Nothing aborts or prints on bad input or
 *    exhausted memory. Size arithmetic is overflow-checked.
 *  - Threads: a context, its heap, arenas, buffers, batches and ordinary pools
 *    belong to one thread at a time, like a lua_State. The interner and pools
 *    made with RTM_POOL_CONCURRENT may be used from any thread. Stats may be read
 *    from any thread.
 *
 * The header compiles as C99 and as C++.
 */
#ifndef RTMEM_H
#define RTMEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RTM_VERSION_MAJOR 0
#define RTM_VERSION_MINOR 1
#define RTM_VERSION_PATCH 0
#define RTM_VERSION "0.1.0"

#if defined(_WIN32) && defined(RTM_SHARED_BUILD)
#  define RTM_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#  define RTM_API __attribute__((visibility("default")))
#else
#  define RTM_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define RTM_MALLOC_ATTR __attribute__((malloc))
#  define RTM_WARN_UNUSED __attribute__((warn_unused_result))
#else
#  define RTM_MALLOC_ATTR
#  define RTM_WARN_UNUSED
#endif

/* The alignment of a type, for the typed macros (RTM_ARENA_NEW), in every
 * language this header supports: C99 has no _Alignof, C++ spells it alignof. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#  define RTM_ALIGNOF(T) alignof(T)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#  define RTM_ALIGNOF(T) _Alignof(T)
#elif defined(__GNUC__) || defined(__clang__)
#  define RTM_ALIGNOF(T) __alignof__(T)
#else
#  define RTM_ALIGNOF(T) offsetof(struct { char c_; T t_; }, t_)
#endif

/* ------------------------------------------------------------------------
 * Status codes
 * ---------------------------------------------------------------------- */

typedef enum rtm_status {
    RTM_OK = 0,
    RTM_ENOMEM,   /* the page source refused memory (after the collect hook) */
    RTM_ELIMIT,   /* a configured limit (bytes, pool cap, id space) was reached */
    RTM_EINVAL,   /* bad argument: NULL, zero or absurd size, overflow, wrong size */
    RTM_ESTALE,   /* a handle or pointer that was already released */
    RTM_EFOREIGN, /* a handle or pointer that belongs to another pool or context */
    RTM_ETYPE     /* a field or value of the wrong kind */
} rtm_status;

#define RTM_STATUS_COUNT 7

/* A short, static, English description ("out of memory", ...). Never NULL:
 * an unknown value gives "unknown status". Any thread. */
RTM_API const char *rtm_status_str(rtm_status s);

/* ------------------------------------------------------------------------
 * Page source: where a context gets its memory
 * ---------------------------------------------------------------------- */

/* Every byte a context holds comes from one page source. The default is the
 * operating system (mmap/munmap). Tests inject faults here; an embedded
 * platform plugs in its own memory.
 *
 * reserve(ud, size, align): return `size` bytes aligned to `align`, or NULL.
 *   size is a multiple of 4096; align is a power of two >= 4096. The memory
 *   need not be zeroed unless `flags` has RTM_PAGES_ZEROED.
 * release(ud, p, size): give back exactly a range reserve returned.
 * remap(ud, p, old_size, new_size, align): optional (NULL if unsupported).
 *   Grow or shrink a range in place or by moving it, keeping the first
 *   min(old_size, new_size) bytes; the result is aligned to `align`. NULL on
 *   failure, and the old range is then untouched. Used for large heap blocks.
 *
 * The hooks may be called from any thread (the interner and concurrent pools
 * grow from their owner's context), so they must be thread-safe. */
typedef struct rtm_page_source {
    void *(*reserve)(void *ud, size_t size, size_t align);
    void (*release)(void *ud, void *p, size_t size);
    void *(*remap)(void *ud, void *p, size_t old_size, size_t new_size, size_t align);
    void *ud;
    unsigned flags; /* RTM_PAGES_ZEROED: reserve returns zeroed memory */
} rtm_page_source;

#define RTM_PAGES_ZEROED 1u

/* The operating system's page source (mmap), for wrapping in a hook. */
RTM_API const rtm_page_source *rtm_page_source_os(void);

/* ------------------------------------------------------------------------
 * The context
 * ---------------------------------------------------------------------- */

typedef struct rtm_ctx rtm_ctx;

/* Context flags. */
#define RTM_CTX_DEBUG 1u /* poison freed memory; full double-free, wrong-size
                            and foreign-pointer checks on every free */

typedef struct rtm_config {
    size_t limit_bytes;               /* 0: no limit. Else the context never holds
                                         more than this from its page source; an
                                         allocation that would pass it fails with
                                         RTM_ELIMIT and nothing else changes. */
    const char *const *keywords;      /* NULL-terminated list of keyword set names
                                         to pre-seed the context's interner with,
                                         e.g. {"python", "lua", NULL}. NULL: none. */
    const rtm_page_source *pages;     /* NULL: the OS. Copied by rtm_ctx_new. */
    unsigned flags;                   /* RTM_CTX_DEBUG */
} rtm_config;

/* Makes a context. cfg NULL means defaults (no limit, OS pages, no keywords).
 * Returns NULL when the page source cannot provide the context's first page,
 * or when cfg names an unknown keyword set or an invalid page source (a hook
 * missing); rtm_ctx_new_ex says which. The context itself lives in memory
 * from its page source. Any thread. */
RTM_API rtm_ctx *rtm_ctx_new(const rtm_config *cfg);

/* rtm_ctx_new with the reason of a failure. *out is the context, or NULL
 * with RTM_EINVAL (an unknown keyword set name or flag, a page source
 * without reserve or release), RTM_ELIMIT (limit_bytes below what the
 * context and its seeded interner take), RTM_ENOMEM (the page source
 * refused). out NULL: RTM_EINVAL. */
RTM_API rtm_status rtm_ctx_new_ex(const rtm_config *cfg, rtm_ctx **out);

/* Releases everything the context owns, whatever the user forgot to free:
 * heap blocks, arenas, pools (their live objects are finalized and reported
 * in the stats first), buffers, batches, the interner. NULL is a no-op. */
RTM_API void rtm_ctx_destroy(rtm_ctx *ctx);

/* Why the last failing call on this context failed; RTM_OK if none has.
 * rtm_ctx_clear_error resets it. Any thread (a relaxed read). */
RTM_API rtm_status rtm_ctx_error(const rtm_ctx *ctx);
RTM_API void rtm_ctx_clear_error(rtm_ctx *ctx);

/* Returns empty heap pages, cached arena chunks and empty pool slabs to the
 * page source. */
RTM_API void rtm_ctx_trim(rtm_ctx *ctx);

/* Verifies every internal invariant (free lists, page counts, stats totals) of
 * every part. RTM_OK, or RTM_EINVAL at the first broken one (which is a bug in
 * rtmem or memory corruption by the caller). O(memory held). */
RTM_API rtm_status rtm_ctx_check(rtm_ctx *ctx);

/* The out-of-memory ladder: when the page source refuses or the limit is
 * reached, the parts first give back what they cache, then the context calls
 * `collect(ud, ctx, bytes_wanted)` once, retries once, then fails cleanly (a
 * host whose runtime collects on allocation failure by itself, as Lua 5.4
 * does, needs no hook: rtlua sets none). The hook runs on the
 * owner thread only (never from the interner or a concurrent pool); it may
 * free memory to this context but must not allocate from it. NULL unsets. */
typedef void (*rtm_collect_fn)(void *ud, rtm_ctx *ctx, size_t bytes_wanted);
RTM_API void rtm_ctx_set_collect(rtm_ctx *ctx, rtm_collect_fn fn, void *ud);

/* An optional hook told of every error as it is recorded: the status and the
 * name of the public function that failed. It must not call into the context. */
typedef void (*rtm_error_fn)(void *ud, rtm_status s, const char *where);
RTM_API void rtm_ctx_set_error_hook(rtm_ctx *ctx, rtm_error_fn fn, void *ud);

/* Walks what the context holds: every live heap block (small and large) and
 * every arena chunk. The callback must not allocate from or free to the
 * context; returning nonzero stops the walk. */
typedef enum rtm_visit_kind {
    RTM_VISIT_HEAP_BLOCK = 1, /* p: block, size: its size class */
    RTM_VISIT_LARGE_BLOCK,    /* p: block, size: its usable size */
    RTM_VISIT_ARENA_CHUNK,    /* p: chunk start, size: chunk bytes */
    RTM_VISIT_POOL_SLAB       /* p: slab start, size: slab bytes */
} rtm_visit_kind;
typedef int (*rtm_visit_fn)(void *ud, rtm_visit_kind kind, void *p, size_t size);
RTM_API rtm_status rtm_ctx_visit(rtm_ctx *ctx, rtm_visit_fn fn, void *ud);

/* ------------------------------------------------------------------------
 * The small-object heap
 * ---------------------------------------------------------------------- */

/* Segregated size classes, no per-object header, sized free. Owner thread
 * only (like a lua_State); stats may be read from any thread.
 *
 * Sizes and alignment: blocks up to RTM_SMALL_MAX come from the context's
 * 64 KiB pages, in 64 size classes: every multiple of 8 up to 128, then 8
 * classes per doubling. A request of n bytes gets at most n + 7 bytes up to
 * 128 and less than n + n/8 above (12.5% at most). Blocks are aligned to 8
 * bytes, and to 16 when the size is a multiple of 16. Larger blocks get a
 * span of their own from the page source (rounded to 4 KiB, 64-byte
 * aligned), grown in place where the source can (mremap).
 *
 * Cost: alloc and free are O(1) whatever the number of live blocks: a pop and
 * a push on a per-class cache of recently freed blocks in the common case.
 *
 * Memory: empty pages go back to the page source (a few are kept for reuse);
 * rtm_ctx_trim returns everything the heap does not use, and so does the
 * out-of-memory ladder before it calls the collect hook. */
#define RTM_SMALL_MAX 8192
#define RTM_HEAP_CLASSES 64 /* an upper bound on the number of size classes */
#define RTM_MAX_ALLOC (((size_t)1) << 46)

/* size bytes, uninitialized. ctx NULL: NULL (nothing recorded). size 0 or
 * over RTM_MAX_ALLOC: NULL, RTM_EINVAL. No memory: NULL, RTM_ENOMEM (the
 * page source refused) or RTM_ELIMIT (limit_bytes), after the ladder. */
RTM_API void *rtm_alloc(rtm_ctx *ctx, size_t size) RTM_MALLOC_ATTR;

/* n * size zeroed bytes. An overflowing product, or a zero one: NULL,
 * RTM_EINVAL. Otherwise as rtm_alloc. */
RTM_API void *rtm_calloc(rtm_ctx *ctx, size_t n, size_t size) RTM_MALLOC_ATTR;

/* Resizes a block of old_size bytes to new_size, keeping the first
 * min(old_size, new_size) bytes. p NULL: rtm_alloc(new_size). new_size 0:
 * frees p (as rtm_free) and returns NULL. Stays in place when the size class
 * does not change (and, for large blocks, when the span can grow in place).
 * A shrink never fails: a block that cannot move to a smaller class stays
 * where it is (and is freed later with its new size). A growth that fails
 * returns NULL with RTM_ENOMEM or RTM_ELIMIT and leaves the block untouched;
 * new_size over RTM_MAX_ALLOC: NULL, RTM_EINVAL. p is checked as by rtm_free
 * (a bad p: NULL and that status, nothing freed). */
RTM_API void *rtm_realloc(rtm_ctx *ctx, void *p, size_t old_size, size_t new_size);

/* Frees a block. size must be the size it was allocated (or last resized)
 * with. NULL p is a no-op. Never crashes and never corrupts the heap on a
 * pointer that is not a live block of this context's heap:
 *  - not rtmem's at all, another context's, or memory given back to the OS:
 *    RTM_EFOREIGN, always (found through the page map, without touching it);
 *  - a size of another size class, or a large block's wrong size, or a
 *    pointer inside a large block: RTM_EINVAL, always;
 *  - freed twice: RTM_ESTALE, always for a large block while its span waits
 *    in the cache, and for a block of a page waiting emptied in the heap's cache; for every block
 *    with RTM_CTX_DEBUG (each block's size is recorded there), which also
 *    catches a wrong size within the class and any pointer that is not the
 *    start of a handed-out block (RTM_EINVAL).
 * Without RTM_CTX_DEBUG a double free or an interior pointer of a small
 * block is not caught. Each bad free is counted in heap_bad_frees and
 * recorded on the context; the block is not freed. */
RTM_API void rtm_free(rtm_ctx *ctx, void *p, size_t size);

/* Like rtm_free, but returns the status: RTM_OK, RTM_EINVAL for a NULL ctx,
 * or the status above. */
RTM_API rtm_status rtm_free_checked(rtm_ctx *ctx, void *p, size_t size);

/* lua_Alloc, exactly: ud is the rtm_ctx. nsize 0 frees ptr (osize is its
 * size) and returns NULL. When ptr is NULL, osize is Lua's type tag of the
 * new object (LUA_TSTRING, ...; anything else counts as "other"): counted
 * per tag in lua_allocs_by_tag. Otherwise a realloc from osize to nsize, and
 * a shrink never fails, as Lua 5.1-5.3 and LuaJIT require. */
RTM_API void *rtm_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* ------------------------------------------------------------------------
 * Arenas
 * ---------------------------------------------------------------------- */

/* An arena hands out memory by bumping a pointer through chunks it takes from
 * the page source, and takes it all back at once. Nothing is freed one by
 * one: rtm_arena_rewind frees everything since a mark, rtm_arena_reset frees
 * everything but keeps the chunks for the next round, and rtm_arena_destroy
 * gives the chunks to the context's arena cache, from which the next
 * rtm_arena_new (of any arena of the context) takes its chunks again.
 *
 * Chunks grow geometrically, from RTM_ARENA_CHUNK_MIN doubling to
 * RTM_ARENA_CHUNK_MAX; a request too large for that gets a chunk of its own,
 * which goes straight back to the page source when it is rewound, reset or
 * destroyed (only ordinary chunks are kept and cached). The cache holds at
 * most RTM_ARENA_CACHE_MAX bytes; rtm_ctx_trim empties it and the spare
 * chunks of every arena.
 *
 * An arena belongs to its context: rtm_ctx_destroy ends an arena still live.
 * Owner thread only. Under AddressSanitizer, arena memory not handed out (the
 * rest of each chunk, rewound and reset space) is poisoned, so a use of
 * rewound memory is reported; with RTM_VALGRIND, chunks are no-access to
 * memcheck and each allocation is made addressable but undefined. */
typedef struct rtm_arena rtm_arena;

#define RTM_ARENA_GRAIN 8 /* every block is aligned to it and a multiple of it */
#define RTM_ARENA_MAX_ALIGN 4096
#define RTM_ARENA_CHUNK_MIN ((size_t)16 << 10)
#define RTM_ARENA_CHUNK_MAX ((size_t)1 << 20)
#define RTM_ARENA_CACHE_MAX ((size_t)8 << 20)

/* Private. An arena begins with this cursor so that the allocation fast path
 * below (and the Rust binding) can bump it without a call. Do not write it
 * except as rtm_arena_alloc_inline does. Invariants: ptr <= end; ptr is a
 * multiple of RTM_ARENA_GRAIN, and end of RTM_ARENA_MAX_ALIGN, so aligning
 * ptr up never passes end. In a build of rtmem that tracks memory for ASan or
 * Valgrind, both are NULL and every allocation takes the out-of-line path. */
struct rtm_arena_cursor {
    char *ptr;
    char *end;
};

/* A position in an arena, from rtm_arena_save. A plain value that holds no
 * resource: copy it, drop it. All zero is the null mark. */
typedef struct rtm_arena_mark {
    uint64_t arena;  /* the arena's identity, unique in the process; 0: null */
    uint64_t serial; /* which save of that arena made it */
    size_t pos;      /* bytes from the arena's start, chunk tails included */
} rtm_arena_mark;

/* Makes an arena, taking its first chunk from the context's arena cache when
 * it holds one (stats arena_cache_hits) or else from the page source
 * (arena_cache_misses). The arena itself lives in that chunk. ctx NULL: NULL.
 * No memory: NULL and RTM_ENOMEM or RTM_ELIMIT on the context. */
RTM_API rtm_arena *rtm_arena_new(rtm_ctx *ctx);

/* size bytes aligned to align, which must be a power of two no larger than
 * RTM_ARENA_MAX_ALIGN. As with malloc, blocks are aligned to at least
 * RTM_ARENA_GRAIN and take a multiple of it (size rounded up), which keeps
 * the cursor aligned and the fast path free of alignment arithmetic for
 * align <= 8. The contents are undefined. Valid until the arena is rewound
 * past it, reset or destroyed.
 * Errors (NULL returned, the status recorded on the arena's context):
 *   a NULL                                   NULL, nothing recorded
 *   size 0, size > RTM_MAX_ALLOC, bad align  RTM_EINVAL
 *   no memory                                RTM_ENOMEM / RTM_ELIMIT
 * A failing call leaves the arena as it was, and usable.
 *
 * rtm_arena_alloc is a macro over the inline fast path below (a pointer bump
 * and a compare; growth and errors are out of line, in rtm_arena_alloc_slow),
 * as the C library may define getc; it is also an exported function, which
 * `(rtm_arena_alloc)(a, size, align)` or a function pointer calls. */
RTM_API void *rtm_arena_alloc(rtm_arena *a, size_t size, size_t align);

/* Private: the out-of-line path of the fast path (a new chunk, errors, and
 * every allocation in a tracking build). Same contract as rtm_arena_alloc. */
RTM_API void *rtm_arena_alloc_slow(rtm_arena *a, size_t size, size_t align);

#if defined(__GNUC__) || defined(__clang__)
#  define RTM_ARENA_LIKELY_(x) __builtin_expect(!!(x), 1)
#else
#  define RTM_ARENA_LIKELY_(x) (x)
#endif

static inline void *rtm_arena_alloc_inline(rtm_arena *a, size_t size, size_t align)
{
    /* The size in grains; an absurd size wraps to 0 and fails below. The
     * align tests fold away when align is a constant; align 0 fails the
     * second (align - 1 wraps). */
    size_t n = (size + (RTM_ARENA_GRAIN - 1)) & ~(size_t)(RTM_ARENA_GRAIN - 1);
    if (RTM_ARENA_LIKELY_(a != NULL && (align & (align - 1)) == 0 &&
                          align - 1 < RTM_ARENA_MAX_ALIGN)) {
        struct rtm_arena_cursor *c = (struct rtm_arena_cursor *)(void *)a;
        uintptr_t p = (uintptr_t)c->ptr;
        if (align > RTM_ARENA_GRAIN) p = (p + (align - 1)) & ~(uintptr_t)(align - 1);
        /* The first test folds away for a constant size; it rejects n 0 and
         * keeps p + n from wrapping. Larger requests take the slow path. */
        if (RTM_ARENA_LIKELY_(n - 1 < RTM_ARENA_CHUNK_MAX && p + n <= (uintptr_t)c->end)) {
            c->ptr = (char *)(p + n);
            return (void *)p;
        }
    }
    return rtm_arena_alloc_slow(a, size, align);
}

#define rtm_arena_alloc(a, size, align) rtm_arena_alloc_inline((a), (size), (align))

/* count * size bytes aligned to align; an overflowing product (or a zero one)
 * gives NULL and RTM_EINVAL. Otherwise as rtm_arena_alloc. */
RTM_API void *rtm_arena_alloc_n(rtm_arena *a, size_t count, size_t size, size_t align);

/* As rtm_arena_alloc, the bytes zeroed. */
RTM_API void *rtm_arena_alloc_zero(rtm_arena *a, size_t size, size_t align);

/* A NUL-terminated copy of the len bytes at s (which may hold NULs) in the
 * arena (len + 1 bytes, rounded up to the grain). s may be NULL only when len is 0 (the
 * copy is then ""). s NULL with len > 0, or len >= RTM_MAX_ALLOC: NULL and
 * RTM_EINVAL. No memory: NULL and RTM_ENOMEM / RTM_ELIMIT. */
RTM_API char *rtm_arena_strdup(rtm_arena *a, const char *s, size_t len);

/* The arena's current position, for rtm_arena_rewind. Costs nothing. A NULL
 * arena gives the null mark (as does a leased one, with RTM_EINVAL). */
RTM_API rtm_arena_mark rtm_arena_save(rtm_arena *a);

/* Frees everything allocated since m was saved: the position goes back to the
 * mark, chunks added since become the arena's spare chunks (an oversized
 * chunk goes back to the page source), and the freed space is poisoned. The
 * mark stays valid: rewinding to it again is allowed.
 * Returns RTM_OK, or (nothing changed, the status recorded on the context):
 *   a NULL                                   RTM_EINVAL, nothing recorded
 *   the null mark, or one never issued       RTM_EINVAL
 *   a mark of another arena                  RTM_EFOREIGN
 *   a stale mark                             RTM_ESTALE
 * A mark is stale once the arena is reset after it was saved, or once a
 * rewind frees its position (rewinding to a mark ends the marks saved after
 * it, as closing a scope does). That is always caught while the arena has not
 * grown back past the mark, and, after it has, when the freeing rewind was the
 * latest one; a mark ended by an older rewind and grown over since may pass
 * unnoticed. Keep marks in scope order and this never matters. */
RTM_API rtm_status rtm_arena_rewind(rtm_arena *a, rtm_arena_mark m);

/* Frees everything in the arena and keeps its chunks: the next round of the
 * same work takes no memory from the page source (oversized chunks excepted,
 * which go back). Every earlier mark becomes stale. NULL: no-op. */
RTM_API void rtm_arena_reset(rtm_arena *a);

/* Ends the arena; its chunks go to the context's arena cache (or back to the
 * page source when the cache is full). Every pointer into it is invalid after.
 * NULL: no-op. Destroying twice is undefined, like free. */
RTM_API void rtm_arena_destroy(rtm_arena *a);

/* Typed allocation: RTM_ARENA_NEW(a, struct node) is a struct node *, and
 * RTM_ARENA_NEW_N(a, struct node, n) an array of n of them (overflow-checked).
 * Contents undefined. */
#define RTM_ARENA_NEW(a, T) ((T *)rtm_arena_alloc((a), sizeof(T), RTM_ALIGNOF(T)))
#define RTM_ARENA_NEW_N(a, T, n) ((T *)rtm_arena_alloc_n((a), (n), sizeof(T), RTM_ALIGNOF(T)))

/* Leases: the fastest way to make many blocks in a loop.
 *
 * An arena's cursor lives in memory, and a loop that may call the out-of-line
 * growth path must store and reload it around every allocation. A lease is a
 * copy of the cursor in a local variable, which the compiler keeps in
 * registers: allocating from it costs what a bump pointer over a static
 * buffer costs (see bench/bench_arena.c).
 *
 *     rtm_arena_lease l = rtm_arena_lease_begin(a);
 *     for (...) { struct node *n = RTM_LEASE_NEW(&l, struct node); ... }
 *     rtm_arena_lease_end(&l);
 *
 * While a lease is open its arena refuses everything else: rtm_arena_alloc
 * and its variants and rtm_arena_strdup return NULL, rtm_arena_save the null
 * mark, rtm_arena_rewind and rtm_arena_reset do nothing, all with RTM_EINVAL
 * recorded; so nothing can hand out the leased space twice. The context's
 * stats count a lease's blocks when it grows a chunk and when it ends.
 * Destroying the arena ends its lease with it. A lease is a plain local
 * value: never copy one and use both copies. Owner thread only. */
typedef struct rtm_arena_lease {
    struct rtm_arena_cursor cur; /* private */
    rtm_arena *arena;            /* private; NULL: a failed or ended lease */
    uint64_t ticket;             /* private: which lease of the arena */
} rtm_arena_lease;

/* Private: the out-of-line halves of the inline functions below. They take
 * and give the cursor by value, so that a lease's address never escapes and
 * the compiler keeps it in registers. */
RTM_API rtm_arena *rtm_arena_lease_open(rtm_arena *a, struct rtm_arena_cursor *cur,
                                        uint64_t *ticket);
RTM_API void rtm_arena_lease_close(rtm_arena *a, struct rtm_arena_cursor cur, uint64_t ticket);
typedef struct rtm_arena_lease_step {
    void *p;
    struct rtm_arena_cursor cur;
} rtm_arena_lease_step;
RTM_API rtm_arena_lease_step rtm_arena_lease_alloc_slow(rtm_arena *a, struct rtm_arena_cursor cur,
                                                        uint64_t ticket, size_t size,
                                                        size_t align);

/* Opens a lease on a. a NULL, or a already leased: a failed lease, on which
 * every allocation returns NULL (RTM_EINVAL recorded when a is not NULL). */
static inline rtm_arena_lease rtm_arena_lease_begin(rtm_arena *a)
{
    rtm_arena_lease l;
    struct rtm_arena_cursor c;
    uint64_t t;
    l.arena = rtm_arena_lease_open(a, &c, &t);
    l.cur = c;
    l.ticket = t;
    return l;
}

/* Closes the lease: the arena takes its cursor back, and the lease is dead
 * (its allocations return NULL). A failed or ended lease: no-op. */
static inline void rtm_arena_lease_end(rtm_arena_lease *l)
{
    if (l == NULL || l->arena == NULL) return;
    rtm_arena_lease_close(l->arena, l->cur, l->ticket);
    l->cur.ptr = l->cur.end = NULL;
    l->arena = NULL;
}

/* As rtm_arena_alloc, from the lease's arena. */
static inline void *rtm_arena_lease_alloc(rtm_arena_lease *l, size_t size, size_t align)
{
    size_t n = (size + (RTM_ARENA_GRAIN - 1)) & ~(size_t)(RTM_ARENA_GRAIN - 1);
    if (RTM_ARENA_LIKELY_((align & (align - 1)) == 0 && align - 1 < RTM_ARENA_MAX_ALIGN)) {
        uintptr_t p = (uintptr_t)l->cur.ptr;
        if (align > RTM_ARENA_GRAIN) p = (p + (align - 1)) & ~(uintptr_t)(align - 1);
        if (RTM_ARENA_LIKELY_(n - 1 < RTM_ARENA_CHUNK_MAX && p + n <= (uintptr_t)l->cur.end)) {
            l->cur.ptr = (char *)(p + n);
            return (void *)p;
        }
    }
    {
        rtm_arena_lease_step s =
            rtm_arena_lease_alloc_slow(l->arena, l->cur, l->ticket, size, align);
        l->cur = s.cur;
        return s.p;
    }
}

#define RTM_LEASE_NEW(l, T) ((T *)rtm_arena_lease_alloc((l), sizeof(T), RTM_ALIGNOF(T)))

/* ------------------------------------------------------------------------
 * Aligned buffers
 * ---------------------------------------------------------------------- */

/* A growable byte buffer whose data is aligned to RTM_SIMD_ALIGN (32) or any
 * larger power of two asked for, up to RTM_BUF_MAX_ALIGN. Its memory comes
 * from the context's page source: a small buffer lives in the page that holds
 * the buffer itself; a larger one has a page range of its own, which grows by
 * remapping (without a copy, where the page source can remap). The rtm_buf
 * pointer stays the same for the buffer's life; the data pointer moves when
 * the buffer grows.
 *
 * Bytes in [len, cap) are not the caller's: write past len only through
 * rtm_buf_resize, rtm_buf_append or rtm_buf_extend (under AddressSanitizer
 * they are poisoned). A buffer belongs to its context: rtm_ctx_destroy ends a
 * buffer still live. Owner thread only. On every failure the buffer is left
 * as it was (length, capacity and contents). */
#define RTM_SIMD_ALIGN 32
#define RTM_BUF_MAX_ALIGN ((size_t)2 << 20)
typedef struct rtm_buf rtm_buf;

/* Makes an empty buffer. align 0 means RTM_SIMD_ALIGN, and a smaller power of
 * two is raised to it. ctx NULL: NULL. align not a power of two or over
 * RTM_BUF_MAX_ALIGN: NULL, RTM_EINVAL. No memory: NULL, RTM_ENOMEM or
 * RTM_ELIMIT. */
RTM_API rtm_buf *rtm_buf_new(rtm_ctx *ctx, size_t align);

/* The data (aligned to rtm_buf_align), its length and capacity in bytes, and
 * the alignment. data is NULL while the capacity is 0 (a new buffer with an
 * alignment of a page or more). A NULL buffer gives NULL and 0. */
RTM_API void *rtm_buf_data(const rtm_buf *b);
RTM_API size_t rtm_buf_len(const rtm_buf *b);
RTM_API size_t rtm_buf_cap(const rtm_buf *b);
RTM_API size_t rtm_buf_align(const rtm_buf *b);

/* Makes the capacity at least cap (rounded up to whole pages), keeping the
 * contents. A smaller cap does nothing. b NULL: RTM_EINVAL. cap over
 * RTM_MAX_ALLOC: RTM_EINVAL. No memory: RTM_ENOMEM / RTM_ELIMIT. */
RTM_API rtm_status rtm_buf_reserve(rtm_buf *b, size_t cap);

/* Sets the length. Growing zero-fills the new bytes (also bytes that held
 * data before an earlier shrink); shrinking keeps the capacity. Grows the
 * capacity to what is asked (rounded up to pages). Errors as reserve. */
RTM_API rtm_status rtm_buf_resize(rtm_buf *b, size_t len);

/* Appends len bytes copied from data, which may point into the buffer
 * itself. The capacity at least doubles when it grows, so appending costs
 * O(1) amortized. len 0: RTM_OK (data may then be NULL). b NULL, data NULL
 * with len > 0, or a length that would pass RTM_MAX_ALLOC: RTM_EINVAL. No
 * memory: RTM_ENOMEM / RTM_ELIMIT. */
RTM_API rtm_status rtm_buf_append(rtm_buf *b, const void *data, size_t len);

/* Appends n bytes with undefined contents and returns them, for the caller to
 * fill in place. Grows as append. n 0, b NULL or a length that would pass
 * RTM_MAX_ALLOC: NULL, RTM_EINVAL (recorded when b is not NULL). No memory:
 * NULL, RTM_ENOMEM / RTM_ELIMIT. */
RTM_API void *rtm_buf_extend(rtm_buf *b, size_t n);

/* Sets the length to 0, keeping the capacity. NULL: no-op. */
RTM_API void rtm_buf_clear(rtm_buf *b);

/* Ends the buffer and gives its memory back to the page source. NULL: no-op.
 * Destroying twice is undefined, like free. */
RTM_API void rtm_buf_destroy(rtm_buf *b);

/* ------------------------------------------------------------------------
 * Layouts: records declared at run time
 * ---------------------------------------------------------------------- */

/* A record declared at run time (from C, Lua or Rust) as a list of fields.
 * Its size, alignment and field offsets are exactly those a C compiler gives
 * the equivalent struct on this platform: they are computed by libffi (a
 * struct ffi_type per layout), not by hand.
 *
 * Layouts are immutable and owned by their context: they live until it is
 * destroyed (there is no rtm_layout_destroy, so a layout nested in another,
 * or used by a pool or a batch, can never dangle). Each takes one block of
 * context pages: 4 KiB up to a few dozen fields. Making one is owner-thread
 * only; reading one (every function below but rtm_layout_new) is safe from
 * any thread. */
typedef enum rtm_kind {
    RTM_KIND_I8 = 1, RTM_KIND_I16, RTM_KIND_I32, RTM_KIND_I64,
    RTM_KIND_U8, RTM_KIND_U16, RTM_KIND_U32, RTM_KIND_U64,
    RTM_KIND_F32, RTM_KIND_F64,
    RTM_KIND_PTR,    /* void * */
    RTM_KIND_SYM,    /* rtm_sym (uint32_t) */
    RTM_KIND_HANDLE, /* rtm_handle (a struct of one uint64_t) */
    RTM_KIND_BOOL,   /* _Bool (C++ bool) */
    RTM_KIND_STR,    /* rtm_str: a pointer and a length (a string slice) */
    RTM_KIND_RECORD  /* a nested layout (rtm_field.layout), laid out as a
                        nested struct */
} rtm_kind;

#define RTM_KIND_LAST RTM_KIND_RECORD

/* The most fields a layout may have. */
#define RTM_LAYOUT_MAX_FIELDS 65536

typedef struct rtm_layout rtm_layout;

/* One field, as rtm_layout_new reads it. */
typedef struct rtm_field {
    const char *name;         /* unique within the layout, not empty; copied */
    rtm_kind kind;
    size_t count;             /* 0 or 1: one value; n > 1: a fixed array of n
                                 (T name[n]), of any kind, records included */
    const rtm_layout *layout; /* for RTM_KIND_RECORD (same context), else NULL */
} rtm_field;

/* A string slice, the C layout of RTM_KIND_STR. */
typedef struct rtm_str {
    const char *ptr;
    size_t len;
} rtm_str;

/* One field, as a layout describes it (rtm_layout_field). */
typedef struct rtm_field_info {
    const char *name;         /* the layout's copy, NUL-terminated */
    rtm_kind kind;
    size_t count;             /* 1 for a single value, n for an array of n */
    size_t offset;            /* offsetof(struct, name) */
    size_t size;              /* sizeof(name): all count elements */
    size_t elem_size;         /* one element: size / count */
    const rtm_layout *layout; /* the nested layout of a RTM_KIND_RECORD, else NULL */
} rtm_field_info;

/* Lays out n fields, in order, as a C struct. name names the record (copied;
 * NULL or "" makes an anonymous one). Owner thread; O(n).
 * Returns NULL and records (rtm_ctx_error) RTM_EINVAL for: fields NULL, n 0
 * or over RTM_LAYOUT_MAX_FIELDS, a NULL, empty or duplicate field name, an
 * unknown kind, a RTM_KIND_RECORD without a layout or with a layout of
 * another context, a layout given with any other kind, or counts so large
 * that the record would pass RTM_MAX_ALLOC bytes. RTM_ENOMEM / RTM_ELIMIT
 * when the context cannot hold it. ctx NULL: NULL, nothing recorded. */
RTM_API rtm_layout *rtm_layout_new(rtm_ctx *ctx, const char *name,
                                   const rtm_field *fields, size_t n);

/* sizeof and _Alignof of the equivalent struct. NULL: 0. */
RTM_API size_t rtm_layout_size(const rtm_layout *l);
RTM_API size_t rtm_layout_align(const rtm_layout *l);

/* The record's name ("" if anonymous). NULL: NULL. */
RTM_API const char *rtm_layout_name(const rtm_layout *l);

/* How many fields it has. NULL: 0. */
RTM_API size_t rtm_layout_field_count(const rtm_layout *l);

/* The index (0-based, declaration order) of the field called `field`, or -1
 * when there is none (or l or field is NULL). A hash lookup: O(1) expected.
 * rtm_layout_find_n takes a name of len bytes, not NUL-terminated (for
 * bindings whose strings carry their length). */
RTM_API long rtm_layout_find(const rtm_layout *l, const char *field);
RTM_API long rtm_layout_find_n(const rtm_layout *l, const char *field, size_t len);

/* offsetof the field called `field`, or -1 when there is none. O(1). */
RTM_API long rtm_layout_offset(const rtm_layout *l, const char *field);

/* Describes field i (0-based). RTM_EINVAL when l or out is NULL or i is out
 * of range (*out then untouched; nothing is recorded: l is read-only). */
RTM_API rtm_status rtm_layout_field(const rtm_layout *l, size_t i, rtm_field_info *out);

/* ------------------------------------------------------------------------
 * Typed pools and handles
 * ---------------------------------------------------------------------- */

/* A pool serves fixed-size objects of one type from slabs of context pages:
 * O(1) acquire and release, objects packed at their alignment, no header per
 * object. Objects are reached two ways:
 *  - by handle (rtm_pool_acquire / _get / _release): a checked reference that
 *    knows when it is stale, safe to keep in scripts and data structures;
 *  - by raw pointer (rtm_pool_alloc / _free): the fast path, for callers that
 *    need no handle; _free still rejects any pointer the pool did not give.
 *
 * Callbacks, as FreeBSD's UMA has them (each optional, each gets the type's
 * ud and the object):
 *  - init(ud, obj) when an object's storage enters the pool (a new slab, once
 *    per slot) and fini(ud, obj) when it leaves (the slab goes back to the
 *    page source): type-stable storage, e.g. a mutex set up once;
 *  - ctor(ud, obj) on every acquire and dtor(ud, obj) on every release.
 * A callback must not use this pool. Contents are not zeroed: an object
 * holds what init, the last dtor or the last user left (garbage without init).
 *
 * Slabs: 64 KiB (a larger power of two when fewer than 8 objects would fit),
 * made on demand. An ordinary pool keeps its current slab and one empty
 * spare (or as many as rtm_pool_keep_slabs says) and gives any other slab
 * back as soon as it is empty; rtm_ctx_trim gives back every empty slab. A concurrent pool keeps its slabs until it is
 * destroyed (a thread may be reading a free slot's link at any moment).
 *
 * Ordinary pools belong to the owner thread of their context. Pools made
 * with RTM_POOL_CONCURRENT may be used from any thread at once (acquire, get,
 * release, alloc, free, rtm_pool_stats); new, destroy, rtm_ctx_check, _visit
 * and _trim still need every other thread to have stopped using the pool.
 * The first 64 threads using concurrent pools at once get a cache of free
 * objects each (a thread's index passes to the next thread when it exits);
 * further threads go to the shared free list, correct but slower. Errors of
 * a concurrent pool are recorded from the thread that made them: the
 * context's error hook must then be thread-safe. A concurrent pool never
 * runs the collect hook (it belongs to the owner thread). */
typedef struct rtm_pool rtm_pool;

/* A handle: a slot index, a generation and the pool's identity, packed in 64
 * bits. All zero is the null handle, which no acquire returns.
 *
 *   bits 63..46  pool identity (RTM_HANDLE_POOL_BITS = 18)
 *   bits 45..24  generation    (RTM_HANDLE_GEN_BITS  = 22)
 *   bits 23..0   slot          (RTM_HANDLE_SLOT_BITS = 24)
 *
 * Why a handle can never match another object:
 *  - Generations: a slot's generation goes up by one at every release, and
 *    a slot released at generation 2^22 - 1 is retired, never handed out
 *    again; so no generation repeats in a slot and a stale handle never
 *    matches. A slot serves 4,194,304 lives before retiring; a retired slot
 *    costs its bytes until its slab is empty and goes back to the page source.
 *  - Slots: a slab's slots keep their generations when the slab goes back to
 *    the page source: the slot range records the highest generation it
 *    reached, and a new slab in that range starts above it.
 *  - Pools: at most 2^18 - 1 = 262,143 pools live at once in a process. An
 *    identity is reused only after its pool is destroyed, and the new pool's
 *    generations start above every generation the old one reached, so a
 *    handle of the old pool is told apart (RTM_EFOREIGN) as surely as one of
 *    a live other pool. An identity whose generations are half spent is
 *    never reused.
 * A pool runs out of slots (RTM_ELIMIT) only after 2^24 slots have each
 * served 2^22 lives (7e13 releases of one pool); pool identities, only with
 * 262,143 pools live at once. */
typedef struct rtm_handle {
    uint64_t bits;
} rtm_handle;

#define RTM_HANDLE_POOL_BITS 18
#define RTM_HANDLE_GEN_BITS 22
#define RTM_HANDLE_SLOT_BITS 24

/* The null handle, and taking a handle out of a variable (leaving null), for
 * moving it out of an RTM_SCOPED variable. */
#ifdef __cplusplus
#  define RTM_HANDLE_NULL (rtm_handle())
#else
#  define RTM_HANDLE_NULL ((rtm_handle){0})
#endif
static inline rtm_handle rtm_handle_take(rtm_handle *h)
{
    rtm_handle out = *h;
    h->bits = 0;
    return out;
}
static inline int rtm_handle_is_null(rtm_handle h) { return h.bits == 0; }

#define RTM_POOL_CONCURRENT 1u /* any thread may acquire and release */

#define RTM_POOL_MAX_SIZE (((size_t)1) << 20) /* larger objects: use the heap */
#define RTM_POOL_MAX_ALIGN 4096

/* What a pool serves: size and align, or a layout (then size and align 0). */
typedef struct rtm_type {
    const char *name;         /* shows in rtm_pool_stats; copied; NULL: "" */
    size_t size;              /* 1..RTM_POOL_MAX_SIZE */
    size_t align;             /* a power of two up to RTM_POOL_MAX_ALIGN; 0:
                                 the largest power of two dividing size, at
                                 most 16 */
    const rtm_layout *layout; /* a layout of the same context, or NULL */
    void (*init)(void *ud, void *obj); /* storage enters the pool */
    void (*fini)(void *ud, void *obj); /* storage leaves the pool */
    void (*ctor)(void *ud, void *obj); /* every acquire */
    void (*dtor)(void *ud, void *obj); /* every release */
    void *ud;
    size_t cap;               /* most live objects at once; 0: no cap */
    unsigned flags;           /* RTM_POOL_CONCURRENT */
} rtm_type;

/* Makes a pool; *type is copied (its name too). Owner thread. NULL with
 * RTM_EINVAL for: type NULL, size 0 or over RTM_POOL_MAX_SIZE, an align that
 * is not a power of two or over RTM_POOL_MAX_ALIGN, a layout together with a
 * size or align, a layout that is not one of this context's, unknown flags.
 * RTM_ELIMIT when 262,143 pools are live in the process (or the context's
 * limit is reached); RTM_ENOMEM when the page source refuses. ctx NULL: NULL.
 * No slab is made until the first acquire. */
RTM_API rtm_pool *rtm_pool_new(rtm_ctx *ctx, const rtm_type *type);

/* Ends the pool and gives its slabs back. Objects still live are finalized
 * (dtor, then fini, as for any slot), counted in the context's pool_leaked,
 * and reported: the error hook is told RTM_ESTALE from "rtm_pool_destroy"
 * (their handles are stale from now on) and rtm_ctx_error says so. NULL is a
 * no-op. rtm_ctx_destroy does this for every pool left. Owner thread, with
 * no other thread using the pool. */
RTM_API void rtm_pool_destroy(rtm_pool *p);

/* A new live object, by handle: runs ctor. O(1): a free slot of the
 * current slab, or a new slab. The null handle on failure, with RTM_ELIMIT
 * (the cap, or the pool's slot space, or the context's limit) or RTM_ENOMEM
 * (the page source refused to grow the pool; the pool stays usable and a
 * later acquire may succeed); p NULL: null, nothing recorded. */
RTM_API rtm_handle rtm_pool_acquire(rtm_pool *p);

/* rtm_pool_acquire that also gives the new object, saving the rtm_pool_get
 * that usually follows: *obj is what rtm_pool_get would return for the
 * handle, or NULL with the null handle, for the reasons of rtm_pool_acquire
 * (p NULL: nothing recorded). obj NULL: the same as rtm_pool_acquire. */
RTM_API rtm_handle rtm_pool_acquire_obj(rtm_pool *p, void **obj);

/* The object of a live handle, or NULL: RTM_ESTALE recorded for a released
 * handle, RTM_EFOREIGN for a handle of another pool (live, destroyed, or of
 * another context). The null handle or p NULL: NULL, nothing recorded. The
 * pointer is valid until the handle is released. O(1), no side effects. */
RTM_API void *rtm_pool_get(rtm_pool *p, rtm_handle h);

/* Releases a live handle's object: runs dtor, and the handle and every copy
 * of it go stale. RTM_ESTALE for a handle already released (nothing
 * changes: a second release is not absorbed, and the live count never goes
 * below the acquires), RTM_EFOREIGN for a handle of another pool. Both are
 * recorded. The null handle: RTM_OK, a no-op (so RTM_SCOPED may end a
 * failed acquire). p NULL: RTM_EINVAL, nothing recorded. */
RTM_API rtm_status rtm_pool_release(rtm_pool *p, rtm_handle h);

/* The raw-pointer fast path: a new live object (ctor run), or NULL with the
 * reasons of rtm_pool_acquire. Aligned to the type's align. */
RTM_API void *rtm_pool_alloc(rtm_pool *p) RTM_MALLOC_ATTR;

/* Frees an object got from rtm_pool_alloc (or from _get of a handle, which
 * then goes stale): runs dtor. Any pointer that is not an object of this pool
 * is rejected without touching memory the pool does not own (the page map
 * says which segments are rtmem's): RTM_EFOREIGN for another pool's object,
 * a heap block, a stack address, a pointer into the middle of an object;
 * RTM_ESTALE for an object already free. Both recorded, nothing changes, in
 * every build. NULL: RTM_OK, a no-op. p NULL: RTM_EINVAL, nothing recorded. */
RTM_API rtm_status rtm_pool_free(rtm_pool *p, void *obj);

/* A pool's figures. Exact for an ordinary pool; for a concurrent one, read
 * while other threads work, each counter is exact but they are not taken at
 * one instant, and peak is sampled when threads refill or flush their caches
 * (a lower bound). */
typedef struct rtm_pool_info {
    const char *name;         /* the pool's copy of rtm_type.name */
    uint64_t size, align;     /* of one object */
    uint64_t stride;          /* bytes per object in a slab */
    uint64_t cap;             /* 0: none */
    uint64_t live, peak;      /* objects */
    uint64_t acquires, releases;
    uint64_t hits;            /* acquires served by a free object */
    uint64_t misses;          /* acquires that had to grow the pool */
    uint64_t slabs, slab_bytes; /* slabs held now, and the size of one */
    uint64_t retired;         /* slots retired (their generations spent) */
    uint64_t bad_releases;    /* stale or foreign releases and frees caught */
} rtm_pool_info;

/* Fills *out. RTM_EINVAL if p or out is NULL. Any thread. */
RTM_API rtm_status rtm_pool_stats(const rtm_pool *p, rtm_pool_info *out);

/* How many empty slabs an ordinary pool keeps for its next growth (1 when
 * made). For bursts: a pool that fills and empties n slabs over and over
 * (a parser's nodes, file after file) keeps them with n, instead of asking
 * the page source for them, and faulting them in, each time. Slabs kept
 * over a lowered number go at their next emptying; rtm_ctx_trim and the
 * out-of-memory ladder give back every empty slab whatever the number.
 * RTM_EINVAL for p NULL, 0, or a concurrent pool (which keeps all its slabs
 * until destroyed). Owner thread. */
RTM_API rtm_status rtm_pool_keep_slabs(rtm_pool *p, size_t n);

/* RAII in C: releases a handle when its variable leaves scope.
 *
 *     {
 *         RTM_SCOPED(pool) rtm_handle h = rtm_pool_acquire(pool);
 *         struct node *n = rtm_pool_get(pool, h);
 *         ...
 *     }   // rtm_pool_release(pool, h) runs here, on every way out of the block
 *
 * Built on __attribute__((cleanup)): GCC and Clang, C only (in C++ write a
 * destructor). The handle names its own pool: the release finds it through
 * the process's pool registry (`pool` is there for the reader). Limits:
 *  - it runs when the block is left normally, by return, break, continue or
 *    goto; not on longjmp (lua_error!), exit(), abort() or thread cancellation;
 *  - to keep the object past the block, move the handle out with
 *    rtm_handle_take(&h); to release it early, rtm_pool_release(pool,
 *    rtm_handle_take(&h)) (releasing h and leaving it set makes the scope's
 *    release report RTM_ESTALE);
 *  - the pool must outlive the block (a handle of a destroyed pool is then
 *    ignored);
 *  - a null handle (a failed acquire) is fine. */
RTM_API void rtm_handle_scope_end(rtm_handle *h);
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__cplusplus)
#  define RTM_SCOPED(pool) __attribute__((cleanup(rtm_handle_scope_end), unused))
#endif

/* ------------------------------------------------------------------------
 * The interner
 * ---------------------------------------------------------------------- */

/* Maps byte strings to dense 32-bit ids (rtm_sym), the same id for equal
 * bytes, forever, from any thread, and back to a stable copy of the bytes.
 *
 * Every function here may be called from any thread at any time, except
 * rtm_interner_destroy (nobody may use the interner during or after it) and
 * rtm_interner_add_keywords (before the interner is shared). Looking up a
 * string already present takes no lock and writes no shared cache line;
 * inserts lock only the part of the table they go to. Every byte comes from
 * the owning context's page source, within its limit, and is given back only
 * when the interner dies: ids are never recycled.
 *
 * Keywords: ids 1..RTM_KW_COUNT are reserved for the keyword sets rtmem
 * ships ("python", "lua", "c", "javascript", "rust"; rtmem_keywords.h names
 * each id, e.g. RTM_KW_PYTHON_DEF, and says how they are numbered). An
 * interner seeded with a set holds its words at those ids; a caller's own
 * keywords come next (rtm_interner_add_keywords); ordinary strings after.
 *
 * Errors: a failing call returns 0 / NULL / a status, records the status on
 * the interner (rtm_interner_error) and on its context (rtm_ctx_error), and
 * changes nothing: no id is half made, none is lost or reused. */
typedef uint32_t rtm_sym; /* 0: none */
typedef struct rtm_interner rtm_interner;
struct rtm_stats;

#include "rtmem_keywords.h"

#define RTM_INTERN_MAX_LEN (((size_t)1) << 30) /* the longest string: 1 GiB */
#define RTM_SYM_MAX 0xFFFFFFFEu                 /* the largest id */

/* The context's own interner, seeded from rtm_config.keywords; it lives as
 * long as the context (rtm_interner_destroy refuses it). A context made with
 * keyword sets has it from the start; any other makes it here on first use
 * (so a context that never interns holds nothing for it), and that first
 * call may fail: NULL, with RTM_ENOMEM or RTM_ELIMIT recorded on the context
 * (a later call tries again). Any thread; every call returns the same
 * interner. ctx NULL: NULL. */
RTM_API rtm_interner *rtm_ctx_interner(rtm_ctx *ctx);

/* A standalone interner, shareable by any threads and contexts, seeded with
 * the keyword sets named in `keywords` (NULL-terminated, e.g. {"python",
 * NULL}; NULL: none). Its memory comes from the OS pages, with its own
 * accounting (rtm_interner_stats). NULL when a name is not a shipped set
 * (rtm_keyword_set_find tells) or the OS refuses memory. */
RTM_API rtm_interner *rtm_interner_new(const char *const *keywords);

/* rtm_interner_new with the reason of a failure: *out is the interner, or
 * NULL with RTM_EINVAL (a name that is not a shipped set) or RTM_ENOMEM (the
 * OS refused memory). out NULL: RTM_EINVAL. */
RTM_API rtm_status rtm_interner_new_ex(const char *const *keywords, rtm_interner **out);

/* Ends a standalone interner and every string in it. NULL is a no-op. The
 * context's own interner is refused (RTM_EINVAL) and stays. */
RTM_API void rtm_interner_destroy(rtm_interner *in);

/* The id of the len bytes at s, interning a copy on first sight. The bytes
 * need not be NUL-terminated and may contain NUL; s may be NULL only when
 * len is 0 (the empty string is a string like any other). Returns 0, with
 * the status recorded, for: s NULL with len > 0 or len > RTM_INTERN_MAX_LEN
 * (RTM_EINVAL); memory refused by the page source (RTM_ENOMEM) or the
 * context's limit (RTM_ELIMIT); the id space (RTM_SYM_MAX) or the string
 * space (65535 chunks: 4 GiB of records) used up (RTM_ELIMIT). A string
 * already present is always found, whatever memory is left. in NULL: 0. */
RTM_API rtm_sym rtm_intern(rtm_interner *in, const char *s, size_t len);

/* rtm_intern with the status returned, for threads sharing an interner (the
 * recorded "last error" may be another thread's by the time it is read).
 * *out is the id, or 0 with the status; out NULL is RTM_EINVAL. */
RTM_API rtm_status rtm_intern_ex(rtm_interner *in, const char *s, size_t len, rtm_sym *out);

/* The id of the bytes if they were interned, else 0; never inserts. A string
 * interned before the call began is always found. Bad bytes as rtm_intern
 * (0, RTM_EINVAL recorded); a plain miss records nothing. */
RTM_API rtm_sym rtm_intern_find(rtm_interner *in, const char *s, size_t len);

/* The bytes of sym, NUL-terminated, and their length in *len (len may be
 * NULL). The pointer is valid and the bytes unchanged until the interner is
 * destroyed. NULL (and *len 0) with RTM_EINVAL recorded when sym is 0 or not
 * an id this interner handed out. */
RTM_API const char *rtm_sym_str(rtm_interner *in, rtm_sym sym, size_t *len);

/* Nonzero when sym is a keyword of this interner: a word of a set it was
 * seeded with, or of its own list. A compare, not a lookup. */
RTM_API int rtm_sym_is_keyword(rtm_interner *in, rtm_sym sym);

/* Adds the caller's own keywords (NULL-terminated C strings, not empty), at
 * the next ids in the order given: RTM_KW_COUNT + 1, + 2, ... for the first
 * call. A word already present (a seeded keyword, a repeat) keeps its id.
 * Only while no ordinary string has been interned, so keywords stay first:
 * later, RTM_EINVAL and nothing added. May be called several times. */
RTM_API rtm_status rtm_interner_add_keywords(rtm_interner *in, const char *const *words);

/* Why the last failing call on this interner failed (RTM_OK if none);
 * rtm_interner_clear_error resets it. Any thread; with several threads,
 * prefer rtm_intern_ex. NULL: RTM_EINVAL. */
RTM_API rtm_status rtm_interner_error(const rtm_interner *in);
RTM_API void rtm_interner_clear_error(rtm_interner *in);

/* The shipped set named `name` ("python", ...): its RTM_KWSET_* index, or -1. */
RTM_API int rtm_keyword_set_find(const char *name);

/* The flags of a reserved id in a shipped set (RTM_KW_HARD, RTM_KW_SOFT,
 * RTM_KW_RESERVED), 0 when the id is not a word of that set. A table read;
 * needs no interner. */
RTM_API unsigned rtm_keyword_flags(unsigned set, rtm_sym sym);

/* Fills the intern_* fields of *out (the rest zero) for this interner; a
 * context's interner is also in rtm_ctx_stats. Lookups, hits and bytes
 * saved are counted per thread without locked instructions: exact while at
 * most 32 threads intern at once, else some increments may be lost. */
RTM_API void rtm_interner_stats_sized(const rtm_interner *in, struct rtm_stats *out,
                                      size_t out_size);
#define rtm_interner_stats(in, out) rtm_interner_stats_sized((in), (out), sizeof *(out))

/* ------------------------------------------------------------------------
 * Batches: structure of arrays over a layout
 * ---------------------------------------------------------------------- */

/* A batch holds rows of a layout as columns: one array per value of the
 * row, so a kernel (below) runs over one field of every row at memory speed.
 * Rows go in and out in the layout's C struct form, one at a time or in
 * bulk (a transpose between the two forms).
 *
 * Columns. The layout is flattened into its leaf values, in row order, and
 * each leaf is a column, numbered from 0:
 *   - a field of a single value is one column, named as the field ("x");
 *   - an array field T a[n] is n columns, "a[0]" .. "a[n-1]" (so a vec3
 *     becomes three columns that each vectorize);
 *   - a nested record is flattened: "pos.x", "pts[1].y".
 * When every field is a single value of a non-record kind, column i is
 * field i. A batch has at most RTM_BATCH_MAX_COLUMNS columns. Symbols
 * (RTM_KIND_SYM) are columns of uint32_t ids; string slices (RTM_KIND_STR)
 * are columns of rtm_str, whose bytes stay wherever the caller keeps them
 * (an arena, typically): a batch copies the slice, never the string.
 *
 * Memory. Every column's base is aligned to RTM_SIMD_ALIGN (or the alignment
 * given to rtm_batch_new_aligned), and its room is padded to a multiple of
 * RTM_BATCH_PAD bytes, so a vector loop may read the whole last vector of a
 * column (contents past the last row unspecified). The columns live in one
 * range of the context's pages; growth doubles the capacity (remapping the
 * range where the page source can) and moves the columns: a column pointer
 * is valid until the next call that grows the batch (push, push_n, reserve,
 * gather past the capacity) or destroys it.
 *
 * Padding. Only the values are stored: the padding bytes of a row (between
 * fields, at its end, inside nested records) never reach a column, and rows
 * read back have every padding byte zero.
 *
 * Errors: a NULL batch gives RTM_EINVAL (nothing recorded, as there is no
 * context); anything else is recorded on the batch's context. A failing call
 * changes nothing. Owner thread only; stats (batches_live, batch_rows,
 * batch_bytes) may be read from any thread. */
typedef struct rtm_batch rtm_batch;

#define RTM_BATCH_MAX_COLUMNS 4096
#define RTM_BATCH_PAD 64

/* A batch over `row` (a layout of ctx), with room for a first few rows.
 * NULL and RTM_EINVAL for a NULL or foreign layout (RTM_EFOREIGN if it is
 * another context's) or one with more than RTM_BATCH_MAX_COLUMNS leaves;
 * RTM_ENOMEM / RTM_ELIMIT when the pages cannot be had. ctx NULL: NULL. */
RTM_API rtm_batch *rtm_batch_new(rtm_ctx *ctx, const rtm_layout *row);

/* The same with columns aligned to `align`: a power of two from
 * RTM_SIMD_ALIGN to 4096 (64 for AVX-512 loads that never split a cache
 * line). Any other value: NULL, RTM_EINVAL. */
RTM_API rtm_batch *rtm_batch_new_aligned(rtm_ctx *ctx, const rtm_layout *row, size_t align);

/* Gives its pages back. Column pointers die with it. NULL is a no-op;
 * destroying a batch twice is undefined, like free. rtm_ctx_destroy ends the
 * batches the caller forgot. */
RTM_API void rtm_batch_destroy(rtm_batch *b);

/* Rows held, rows there is room for, and the layout. NULL: 0 / NULL. */
RTM_API size_t rtm_batch_len(const rtm_batch *b);
RTM_API size_t rtm_batch_cap(const rtm_batch *b);
RTM_API const rtm_layout *rtm_batch_layout(const rtm_batch *b);

/* Makes room for `rows` rows in all (not `rows` more). A capacity whose
 * bytes would pass RTM_MAX_ALLOC: RTM_EINVAL; no memory: RTM_ENOMEM or
 * RTM_ELIMIT. The batch is unchanged on failure. */
RTM_API rtm_status rtm_batch_reserve(rtm_batch *b, size_t rows);

/* Forgets every row, keeping the room. */
RTM_API void rtm_batch_clear(rtm_batch *b);

/* Appends one row given in the layout's C form (rtm_layout_size bytes at
 * `row`, any alignment). row NULL: RTM_EINVAL. Amortized O(columns). */
RTM_API rtm_status rtm_batch_push(rtm_batch *b, const void *row);

/* Appends n rows stored one after the other (n * rtm_layout_size bytes):
 * the bulk AoS -> SoA transpose, cache-blocked. n 0: RTM_OK. rows NULL with
 * n > 0, or a length that would overflow: RTM_EINVAL. */
RTM_API rtm_status rtm_batch_push_n(rtm_batch *b, const void *rows, size_t n);

/* Writes row i in the layout's C form, padding bytes zeroed. i >= len or
 * row NULL: RTM_EINVAL. */
RTM_API rtm_status rtm_batch_get(const rtm_batch *b, size_t i, void *row);

/* Writes rows first .. first + n - 1, one after the other: the bulk SoA ->
 * AoS transpose, padding zeroed. first + n > len, or rows NULL with n > 0:
 * RTM_EINVAL. */
RTM_API rtm_status rtm_batch_get_n(const rtm_batch *b, size_t first, size_t n, void *rows);

/* Overwrites row i (i < len) with `row`. RTM_EINVAL otherwise. */
RTM_API rtm_status rtm_batch_set(rtm_batch *b, size_t i, const void *row);

/* Appends to dst the rows idx[0..n) of src, column by column with the
 * gather kernels: a selection (rtm_sel_indices) becomes a filtered batch.
 * src and dst must have the same layout (RTM_ETYPE) and context
 * (RTM_EFOREIGN); an index >= rtm_batch_len(src): RTM_EINVAL. dst may be
 * src. Nothing changes on failure. */
RTM_API rtm_status rtm_batch_gather(rtm_batch *dst, const rtm_batch *src, const uint32_t *idx,
                                    size_t n);

/* Columns: how many, and column `col`'s description. */
typedef struct rtm_column_info {
    const char *name;  /* "x", "a[2]", "pos.y": the batch's copy */
    rtm_kind kind;     /* the leaf's kind, never RTM_KIND_RECORD */
    size_t width;      /* bytes per value */
    size_t offset;     /* where the value sits in the C row */
} rtm_column_info;

RTM_API size_t rtm_batch_columns(const rtm_batch *b);

/* RTM_EINVAL (recorded) for col out of range, or out NULL. */
RTM_API rtm_status rtm_batch_column_info(const rtm_batch *b, size_t col, rtm_column_info *out);

/* The column's values: rtm_batch_len(b) of them, of its kind's C type,
 * aligned as the batch's columns are. col out of range: NULL, RTM_EINVAL. */
RTM_API void *rtm_batch_column(rtm_batch *b, size_t col);

/* The same, checking the kind: a column of another kind gives NULL and
 * RTM_ETYPE. `const double *x = rtm_batch_column_as(b, 2, RTM_KIND_F64);` */
RTM_API void *rtm_batch_column_as(rtm_batch *b, size_t col, rtm_kind kind);

/* The column called `name` ("a[2]", "pos.y"), or its number; O(columns).
 * No such column: NULL / -1, and RTM_EINVAL recorded. */
RTM_API void *rtm_batch_column_by_name(rtm_batch *b, const char *name);
RTM_API long rtm_batch_column_index(const rtm_batch *b, const char *name);

/* ------------------------------------------------------------------------
 * Column kernels: vectorized, chosen once for the CPU
 * ---------------------------------------------------------------------- */

/* The kernels below work on any array of their element type (a batch
 * column, an rtm_buf, a plain C array), at any alignment the type allows;
 * they never read outside [x, x + n). They use no context: they return a
 * status (RTM_EINVAL for a NULL pointer with n > 0, a NULL result pointer or
 * an unknown operator, leaving the result untouched) and may be called from
 * any thread.
 *
 * Each kernel has a scalar, an SSE2, an AVX2 and an AVX-512 version; the
 * best one the CPU (and OS) supports is chosen on first use, or the one the
 * environment variable RTM_SIMD names (scalar, sse2, avx2, avx512; a path the
 * CPU lacks falls back to the best it has). All paths give bit-identical
 * results, NaN and infinity included, so a program's output never depends on
 * the machine it ran on. */
typedef enum rtm_simd {
    RTM_SIMD_SCALAR = 0,
    RTM_SIMD_SSE2,
    RTM_SIMD_AVX2,
    RTM_SIMD_AVX512
} rtm_simd;

/* The path in use, the best the CPU supports, and a path's name ("scalar",
 * "sse2", "avx2", "avx512"; "unknown" otherwise). Any thread. */
RTM_API rtm_simd rtm_simd_active(void);
RTM_API rtm_simd rtm_simd_best(void);
RTM_API const char *rtm_simd_name(rtm_simd level);

/* Switches every kernel to `level`, process-wide (tests and benchmarks
 * compare paths with it). RTM_EINVAL, and no change, if the CPU lacks it or
 * level is unknown. Safe while other threads run kernels: a call in flight
 * finishes on the path it started with. */
RTM_API rtm_status rtm_simd_select(rtm_simd level);

/* Sums. Integer sums are exact: i32 and i64 columns are summed in 128 bits.
 * If the exact sum does not fit in int64_t, *out gets it modulo 2^64 and the
 * status is RTM_ELIMIT (an i32 column needs more than 2^32 values for that).
 *
 * Floating-point sums use compensated (Neumaier) summation in 16 lanes,
 * value i going to lane i % 16, the lanes combined the same way on every
 * path; f32 values are summed in double. For finite values and no overflow,
 * with S the exact sum, u = 2^-53 and m = ceil(n / 16):
 *     |*out - S| <= 2u|S| + m^2 u^2 (|x_0| + ... + |x_n-1|)
 * that is, the correctly rounded sum to within about one unit in the last
 * place unless the cancellation is enormous. A NaN anywhere, or +inf with
 * -inf, gives NaN; otherwise an infinity gives that infinity, and a sum
 * that overflows gives +inf or -inf. A NaN result is always the default
 * quiet NaN (positive, no payload). n 0: 0. */
RTM_API rtm_status rtm_col_sum_i32(const int32_t *x, size_t n, int64_t *out);
RTM_API rtm_status rtm_col_sum_i64(const int64_t *x, size_t n, int64_t *out);
RTM_API rtm_status rtm_col_sum_f32(const float *x, size_t n, double *out);
RTM_API rtm_status rtm_col_sum_f64(const double *x, size_t n, double *out);

/* Means: the sum above divided by n (integer columns: the exact sum divided
 * in long double, then rounded to double). n 0: RTM_EINVAL. */
RTM_API rtm_status rtm_col_mean_i32(const int32_t *x, size_t n, double *out);
RTM_API rtm_status rtm_col_mean_i64(const int64_t *x, size_t n, double *out);
RTM_API rtm_status rtm_col_mean_f32(const float *x, size_t n, double *out);
RTM_API rtm_status rtm_col_mean_f64(const double *x, size_t n, double *out);

/* Smallest and largest value. Floating point follows IEEE 754-2019
 * minimum/maximum: a NaN anywhere gives NaN (the default quiet NaN), and
 * -0.0 counts as less than +0.0. n 0: RTM_EINVAL (no value to give). */
RTM_API rtm_status rtm_col_min_i32(const int32_t *x, size_t n, int32_t *out);
RTM_API rtm_status rtm_col_min_i64(const int64_t *x, size_t n, int64_t *out);
RTM_API rtm_status rtm_col_min_f32(const float *x, size_t n, float *out);
RTM_API rtm_status rtm_col_min_f64(const double *x, size_t n, double *out);
RTM_API rtm_status rtm_col_max_i32(const int32_t *x, size_t n, int32_t *out);
RTM_API rtm_status rtm_col_max_i64(const int64_t *x, size_t n, int64_t *out);
RTM_API rtm_status rtm_col_max_f32(const float *x, size_t n, float *out);
RTM_API rtm_status rtm_col_max_f64(const double *x, size_t n, double *out);

/* A selection: a bitmap of n bits in RTM_SEL_WORDS(n) 64-bit words, bit i
 * (bit i % 64 of word i / 64) for value i; the bits past n in the last word
 * are 0. */
#define RTM_SEL_WORDS(n) (((n) + 63) / 64)

typedef enum rtm_cmp {
    RTM_CMP_LT = 1, RTM_CMP_LE, RTM_CMP_EQ, RTM_CMP_NE, RTM_CMP_GE, RTM_CMP_GT
} rtm_cmp;

/* Sets bit i of `bits` to (x[i] op v), for i < n, writing RTM_SEL_WORDS(n)
 * words. Floating point compares as C does: a NaN on either side makes
 * every operator false except RTM_CMP_NE, which is true; -0.0 == +0.0. */
RTM_API rtm_status rtm_col_cmp_i32(const int32_t *x, size_t n, rtm_cmp op, int32_t v,
                                   uint64_t *bits);
RTM_API rtm_status rtm_col_cmp_i64(const int64_t *x, size_t n, rtm_cmp op, int64_t v,
                                   uint64_t *bits);
RTM_API rtm_status rtm_col_cmp_f32(const float *x, size_t n, rtm_cmp op, float v,
                                   uint64_t *bits);
RTM_API rtm_status rtm_col_cmp_f64(const double *x, size_t n, rtm_cmp op, double v,
                                   uint64_t *bits);

/* The number of bits set among the first n of a selection. */
RTM_API size_t rtm_sel_count(const uint64_t *bits, size_t n);

/* Writes the positions of the bits set among the first n, in increasing
 * order, to idx (room for rtm_sel_count of them; n <= 2^32) and returns
 * how many. NULL bits or idx with n > 0, or n > 2^32: 0. */
RTM_API size_t rtm_sel_indices(const uint64_t *bits, size_t n, uint32_t *idx);

/* Gather: out[k] = col[idx[k]] for k < n, for columns of 4-byte (i32, u32,
 * f32, symbols) or 8-byte values (i64, f64, handles, pointers); col holds
 * len values. An index >= len: RTM_EINVAL and nothing written. out must not
 * overlap col or idx. */
RTM_API rtm_status rtm_col_gather_32(const void *col, size_t len, const uint32_t *idx, size_t n,
                                     void *out);
RTM_API rtm_status rtm_col_gather_64(const void *col, size_t len, const uint32_t *idx, size_t n,
                                     void *out);

/* y[i] = a * x[i] + y[i] for i < n: the product rounded, then the sum (never
 * a fused multiply-add, so every path agrees). x and y may be the same
 * array, but must not otherwise overlap. */
RTM_API rtm_status rtm_col_axpy_f64(double a, const double *x, double *y, size_t n);

/* ------------------------------------------------------------------------
 * Metrics
 * ---------------------------------------------------------------------- */

#define RTM_STATS_VERSION 1
#define RTM_LUA_TAGS 10 /* Lua type tags 0..8, and 9 for "other" */

typedef struct rtm_class_stats {
    uint64_t block_size; /* 0 marks the end of the classes */
    uint64_t allocs, frees, live_blocks, pages;
} rtm_class_stats;

/* A snapshot of everything a context holds. It starts with its size and
 * version so callers built against an older header keep working: fields are
 * only ever appended. */
typedef struct rtm_stats {
    uint32_t size;    /* sizeof(rtm_stats) as filled */
    uint32_t version; /* RTM_STATS_VERSION */

    /* the page source */
    uint64_t page_bytes;      /* bytes held from the page source now */
    uint64_t page_bytes_peak;
    uint64_t page_reserves, page_releases, page_failures;
    uint64_t limit_bytes;     /* the configured limit, 0 for none */
    uint64_t limit_hits;      /* requests refused by the limit */
    uint64_t collect_calls;   /* times the collect hook was called */
    uint64_t errors;          /* failing calls recorded on the context */

    /* everything handed out, all parts together (each part adds its own) */
    uint64_t bytes_in_use;

    /* the heap */
    uint64_t heap_bytes_in_use; /* sum of the sizes asked for, live */
    uint64_t heap_bytes_peak;
    uint64_t heap_blocks_in_use;
    uint64_t heap_allocs, heap_frees, heap_reallocs, heap_reallocs_in_place;
    uint64_t heap_pages;        /* small-object pages held */
    uint64_t heap_large_blocks, heap_large_bytes;
    uint64_t heap_bad_frees;    /* foreign, wrong-size or double frees caught */
    rtm_class_stats classes[RTM_HEAP_CLASSES];
    uint64_t lua_allocs_by_tag[RTM_LUA_TAGS];

    /* arenas */
    uint64_t arenas_live;
    uint64_t arena_bytes_used;   /* bumped bytes, live */
    uint64_t arena_chunk_bytes;  /* held in chunks of live arenas */
    uint64_t arena_chunks;
    uint64_t arena_cache_chunks, arena_cache_bytes;
    uint64_t arena_cache_hits, arena_cache_misses;

    /* aligned buffers */
    uint64_t bufs_live, buf_bytes;

    /* pools */
    uint64_t pools_live, pool_objects_live, pool_slabs, pool_bytes;
    uint64_t pool_hits, pool_misses, pool_leaked;

    /* the context's interner. string_bytes: the strings' own bytes and NULs;
     * table_bytes: all else it holds from the page source (table, id map,
     * record headers, chunk slack). bytes_saved: len + 1 for every rtm_intern
     * that found its string, the copies a copy per occurrence would cost. */
    uint64_t intern_strings, intern_string_bytes, intern_table_bytes;
    uint64_t intern_lookups, intern_hits, intern_bytes_saved;

    /* batches */
    uint64_t batches_live, batch_rows, batch_bytes;

    /* layouts (each holds its own pages until the context ends) */
    uint64_t layouts_live, layout_bytes;
} rtm_stats;

/* Fills *out (callers use rtm_ctx_stats, which passes its own sizeof).
 * Any thread. The thread-safe parts (page source, interner, concurrent pools)
 * and the counters of the others are relaxed atomics. An arena's bytes in use
 * come from its bump cursor, which the inline fast path keeps as a plain
 * pointer: read from another thread while the owner allocates, it is a
 * snapshot (an aligned word, never followed) that may lag; figures are exact
 * when the owner thread is idle. */
RTM_API void rtm_ctx_stats_sized(const rtm_ctx *ctx, rtm_stats *out, size_t out_size);
static inline void rtm_ctx_stats(const rtm_ctx *ctx, rtm_stats *out)
{
    rtm_ctx_stats_sized(ctx, out, sizeof *out);
}

typedef enum rtm_stats_format {
    RTM_STATS_JSON = 1,
    RTM_STATS_PROMETHEUS
} rtm_stats_format;

/* Writes the stats to f. Returns 0, or -1 (RTM_EINVAL for a NULL file or an
 * unknown format; the stream's error otherwise). */
RTM_API int rtm_stats_write(const rtm_ctx *ctx, FILE *f, rtm_stats_format fmt);

#ifdef __cplusplus
}
#endif

#endif /* RTMEM_H */
