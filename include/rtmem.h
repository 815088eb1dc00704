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
 * missing). The context itself lives in memory from its page source. */
RTM_API rtm_ctx *rtm_ctx_new(const rtm_config *cfg);

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
 * reached, the context calls `collect(ud, ctx, bytes_wanted)` once (rtlua sets
 * it to a full Lua GC), retries once, then fails cleanly. The hook runs on the
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

/* Segregated size classes, no per-object header, sized free. Blocks are
 * aligned to 8 bytes, and to 16 when the size is a multiple of 16. Blocks up
 * to RTM_SMALL_MAX come from the context's pages; larger ones straight from
 * the page source. Alloc and free are O(1). Owner thread only. */
#define RTM_SMALL_MAX 8192
#define RTM_HEAP_CLASSES 64 /* an upper bound on the number of size classes */

/* size 0 or over RTM_MAX_ALLOC: NULL, RTM_EINVAL. No memory: NULL, RTM_ENOMEM
 * or RTM_ELIMIT. */
#define RTM_MAX_ALLOC (((size_t)1) << 46)
RTM_API void *rtm_alloc(rtm_ctx *ctx, size_t size) RTM_MALLOC_ATTR;

/* Zeroed n*size bytes; an overflowing product gives NULL and RTM_EINVAL. */
RTM_API void *rtm_calloc(rtm_ctx *ctx, size_t n, size_t size) RTM_MALLOC_ATTR;

/* Resizes a block allocated with old_size. p NULL: rtm_alloc. new_size 0:
 * frees and returns NULL. Stays in place when the size class does not change.
 * On failure returns NULL and the old block is untouched. */
RTM_API void *rtm_realloc(rtm_ctx *ctx, void *p, size_t old_size, size_t new_size);

/* Frees a block. size must be the size it was allocated (or last resized)
 * with. NULL is a no-op. A pointer that is not from this context's heap is
 * always rejected (RTM_EFOREIGN recorded, nothing freed). A wrong size or a
 * double free is caught when the context has RTM_CTX_DEBUG (RTM_EINVAL /
 * RTM_ESTALE), and the wrong class of size always. */
RTM_API void rtm_free(rtm_ctx *ctx, void *p, size_t size);

/* Like rtm_free, but returns the status instead of only recording it. */
RTM_API rtm_status rtm_free_checked(rtm_ctx *ctx, void *p, size_t size);

/* lua_Alloc, exactly: ud is the rtm_ctx. nsize 0 frees and returns NULL. When
 * ptr is NULL, osize is Lua's type tag of the new object (LUA_TSTRING, ...):
 * counted per tag in the stats. A shrink never fails. */
RTM_API void *rtm_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* ------------------------------------------------------------------------
 * Arenas
 * ---------------------------------------------------------------------- */

/* Bump allocation, released all at once. Chunks grow geometrically; a request
 * larger than a chunk gets a chunk of its own. Destroyed arenas give their
 * chunks to the context's cache, which the next rtm_arena_new reuses. Owner
 * thread only. */
typedef struct rtm_arena rtm_arena;

/* A position in an arena, for rtm_arena_rewind. */
typedef struct rtm_arena_mark {
    void *chunk;
    size_t used;
} rtm_arena_mark;

RTM_API rtm_arena *rtm_arena_new(rtm_ctx *ctx);

/* size bytes aligned to align (a power of two, at most 4096). size 0, a bad
 * align or an absurd size: NULL, RTM_EINVAL. The fast path is a pointer bump
 * and a compare. */
RTM_API void *rtm_arena_alloc(rtm_arena *a, size_t size, size_t align);

/* A NUL-terminated copy of len bytes of s in the arena. */
RTM_API char *rtm_arena_strdup(rtm_arena *a, const char *s, size_t len);

RTM_API rtm_arena_mark rtm_arena_save(rtm_arena *a);
RTM_API void rtm_arena_rewind(rtm_arena *a, rtm_arena_mark m);
RTM_API void rtm_arena_reset(rtm_arena *a);
RTM_API void rtm_arena_destroy(rtm_arena *a);

/* Typed allocation: RTM_ARENA_NEW(a, struct node) */
#define RTM_ARENA_NEW(a, T) ((T *)rtm_arena_alloc((a), sizeof(T), RTM_ALIGNOF(T)))

/* ------------------------------------------------------------------------
 * Aligned buffers
 * ---------------------------------------------------------------------- */

/* A growable byte buffer whose data is aligned to RTM_SIMD_ALIGN (32) or any
 * larger power of two. Owner thread only. */
#define RTM_SIMD_ALIGN 32
typedef struct rtm_buf rtm_buf;

RTM_API rtm_buf *rtm_buf_new(rtm_ctx *ctx, size_t align);
RTM_API void *rtm_buf_data(const rtm_buf *b);
RTM_API size_t rtm_buf_len(const rtm_buf *b);
RTM_API size_t rtm_buf_cap(const rtm_buf *b);
RTM_API rtm_status rtm_buf_reserve(rtm_buf *b, size_t cap);
RTM_API rtm_status rtm_buf_resize(rtm_buf *b, size_t len);
RTM_API rtm_status rtm_buf_append(rtm_buf *b, const void *data, size_t len);
RTM_API void rtm_buf_clear(rtm_buf *b);
RTM_API void rtm_buf_destroy(rtm_buf *b);

/* ------------------------------------------------------------------------
 * Layouts: records declared at run time
 * ---------------------------------------------------------------------- */

/* A record declared at run time as a list of fields, laid out (size,
 * alignment, offsets) exactly as a C compiler lays out the equivalent struct;
 * computed by libffi. Layouts are owned by their context and immutable. */
typedef enum rtm_kind {
    RTM_KIND_I8 = 1, RTM_KIND_I16, RTM_KIND_I32, RTM_KIND_I64,
    RTM_KIND_U8, RTM_KIND_U16, RTM_KIND_U32, RTM_KIND_U64,
    RTM_KIND_F32, RTM_KIND_F64,
    RTM_KIND_PTR,    /* void * */
    RTM_KIND_SYM,    /* rtm_sym (uint32_t) */
    RTM_KIND_HANDLE, /* rtm_handle (uint64_t) */
    RTM_KIND_BOOL,   /* _Bool */
    RTM_KIND_STR,    /* rtm_str: a pointer and a length (a string slice) */
    RTM_KIND_RECORD  /* a nested layout (rtm_field.layout) */
} rtm_kind;

typedef struct rtm_layout rtm_layout;

typedef struct rtm_field {
    const char *name;         /* unique within the layout, not empty */
    rtm_kind kind;
    size_t count;             /* 0 or 1: one value; n > 1: a fixed array of n */
    const rtm_layout *layout; /* for RTM_KIND_RECORD, else NULL */
} rtm_field;

/* A string slice, the C layout of RTM_KIND_STR. */
typedef struct rtm_str {
    const char *ptr;
    size_t len;
} rtm_str;

RTM_API rtm_layout *rtm_layout_new(rtm_ctx *ctx, const char *name,
                                   const rtm_field *fields, size_t n);
RTM_API size_t rtm_layout_size(const rtm_layout *l);
RTM_API size_t rtm_layout_align(const rtm_layout *l);
RTM_API long rtm_layout_offset(const rtm_layout *l, const char *field); /* -1: none */

/* ------------------------------------------------------------------------
 * Typed pools and handles
 * ---------------------------------------------------------------------- */

typedef struct rtm_pool rtm_pool;

/* A handle: a slot index, a generation and the pool's identity. 0 is null. */
typedef struct rtm_handle {
    uint64_t bits;
} rtm_handle;

#define RTM_POOL_CONCURRENT 1u /* any thread may acquire and release */

/* What a pool serves. Give size and align, or a layout (size 0). */
typedef struct rtm_type {
    const char *name;         /* shows in the stats; copied */
    size_t size, align;
    const rtm_layout *layout;
    void (*init)(void *ud, void *obj); /* storage enters the pool */
    void (*fini)(void *ud, void *obj); /* storage leaves the pool */
    void (*ctor)(void *ud, void *obj); /* every acquire */
    void (*dtor)(void *ud, void *obj); /* every release */
    void *ud;
    size_t cap;               /* max live objects, 0: none */
    unsigned flags;           /* RTM_POOL_CONCURRENT */
} rtm_type;

RTM_API rtm_pool *rtm_pool_new(rtm_ctx *ctx, const rtm_type *type);
RTM_API void rtm_pool_destroy(rtm_pool *p);
RTM_API rtm_handle rtm_pool_acquire(rtm_pool *p);
RTM_API void *rtm_pool_get(rtm_pool *p, rtm_handle h);
RTM_API rtm_status rtm_pool_release(rtm_pool *p, rtm_handle h);
RTM_API void *rtm_pool_alloc(rtm_pool *p);
RTM_API rtm_status rtm_pool_free(rtm_pool *p, void *obj);

/* ------------------------------------------------------------------------
 * The interner
 * ---------------------------------------------------------------------- */

typedef uint32_t rtm_sym; /* 0: none */
typedef struct rtm_interner rtm_interner;

RTM_API rtm_interner *rtm_ctx_interner(rtm_ctx *ctx);
RTM_API rtm_interner *rtm_interner_new(const char *const *keywords);
RTM_API void rtm_interner_destroy(rtm_interner *in);
RTM_API rtm_sym rtm_intern(rtm_interner *in, const char *s, size_t len);
RTM_API rtm_sym rtm_intern_find(rtm_interner *in, const char *s, size_t len);
RTM_API const char *rtm_sym_str(rtm_interner *in, rtm_sym sym, size_t *len);
RTM_API int rtm_sym_is_keyword(rtm_interner *in, rtm_sym sym);

/* ------------------------------------------------------------------------
 * Batches: structure of arrays over a layout
 * ---------------------------------------------------------------------- */

typedef struct rtm_batch rtm_batch;

RTM_API rtm_batch *rtm_batch_new(rtm_ctx *ctx, const rtm_layout *row);
RTM_API rtm_status rtm_batch_push(rtm_batch *b, const void *row);
RTM_API rtm_status rtm_batch_get(const rtm_batch *b, size_t i, void *row);
RTM_API void *rtm_batch_column(rtm_batch *b, size_t field);
RTM_API size_t rtm_batch_len(const rtm_batch *b);
RTM_API void rtm_batch_destroy(rtm_batch *b);

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

    /* the context's interner */
    uint64_t intern_strings, intern_string_bytes, intern_table_bytes;
    uint64_t intern_lookups, intern_hits, intern_bytes_saved;

    /* batches */
    uint64_t batches_live, batch_rows, batch_bytes;
} rtm_stats;

/* Fills *out (callers use rtm_ctx_stats, which passes its own sizeof). */
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
