/*
 * arena.c: bump arenas. The fast path (a pointer bump and a compare) is
 * inline in rtmem.h over the cursor an arena starts with; this file holds
 * everything else: growth, errors, marks, reset, destroy, and the arena as
 * an object its context owns (check, visit, stats, trim).
 *
 * An arena is a stack of chunks, newest first (head, then prev...). Each
 * chunk covers a range of the arena's positions: a chunk starts where the one
 * before it ends (its whole capacity, the unused tail included), so a
 * position names one byte of one chunk and marks are plain numbers. The
 * arena itself lives at the start of its first chunk, the bottom of the
 * stack, which it keeps until it is destroyed.
 *
 * When rtmem is built to tell ASan or Valgrind about its memory, the public
 * cursor is kept at {NULL, NULL}, so the inline fast path always falls
 * through to rtm_arena_alloc_slow, which bumps a private cursor and tells the
 * tools. The inline code in a caller never needs to know. A lease (a copy of
 * the cursor in the caller's registers) parks the cursor the same way while
 * it is open, so every other path into the arena sees it is leased.
 */
#include "arena.h"
#include "track.h"

#include <string.h>

#if defined(RTM_TRACK_ASAN) || defined(RTM_TRACK_VALGRIND)
#  define ARENA_TRACKED 1
#else
#  define ARENA_TRACKED 0
#endif

#define ARENA_MAGIC 0x4152454e41u /* "ARENA" */
#define DEBUG_FILL 0xDB           /* rewound bytes, in RTM_CTX_DEBUG */

struct rtm_arena {
    struct rtm_arena_cursor cur; /* first: the inline fast path bumps it */
    struct rtm_arena_cursor real; /* the cursor while cur is kept at NULL:
                                     always when tracked, else while leased */
    bool leased;
    uint64_t lease_ticket;       /* leases opened so far; the open one's */
    rtm_chunk *head;             /* the chunk being bumped: set with set_head */
    _Atomic uintptr_t head_data, head_end; /* its bounds, for stats read by other threads */
    rtm_chunk *spare;            /* emptied ordinary chunks, kept for reuse */
    rtm_arena_cache *cache;
    rtm_owned owned;
    uint64_t magic;
    uint64_t id;                 /* marks name their arena by it */
    uint64_t serial;             /* saves so far */
    uint64_t reset_serial;       /* marks saved up to it predate the last reset */
    uint64_t rewind_serial;      /* the latest rewind: marks saved up to it ... */
    size_t rewind_pos;           /* ... past this position were freed by it */
    size_t next_size;            /* the size of the next chunk to take */
    rtm_counter closed_used;     /* bytes bumped in the chunks behind the head */
    rtm_counter chunks, chunk_bytes; /* held: the stack and the spare chunks */
};

#define ARENA_OF(o) ((rtm_arena *)(void *)((char *)(o) - offsetof(rtm_arena, owned)))
#define ARENA_SELF (rtm_align_up(sizeof(rtm_arena), 64))

static _Atomic uint64_t next_arena_id = 1;

/* Makes c the chunk being bumped, and publishes its bounds so arena_stats, on
 * any thread, never has to follow a->head (a rewind may unmap it). */
static void set_head(rtm_arena *a, rtm_chunk *c)
{
    a->head = c;
    atomic_store_explicit(&a->head_data, (uintptr_t)c->data, memory_order_relaxed);
    atomic_store_explicit(&a->head_end, (uintptr_t)rtm_chunk_end(c), memory_order_relaxed);
}

/* ---- the cursor ---------------------------------------------------------- */

static inline struct rtm_arena_cursor *cursor(rtm_arena *a)
{
#if ARENA_TRACKED
    return &a->real;
#else
    return a->leased ? &a->real : &a->cur;
#endif
}

static inline const struct rtm_arena_cursor *cursor_c(const rtm_arena *a)
{
    return cursor((rtm_arena *)a);
}

static inline rtm_chunk *first_chunk(const rtm_arena *a)
{
    return (rtm_chunk *)(void *)((char *)a - RTM_CHUNK_HDR);
}

static inline void cursor_set(rtm_arena *a, char *ptr, char *end)
{
    struct rtm_arena_cursor *c = cursor(a);
    c->ptr = ptr;
    c->end = end;
}

/* The arena position of the cursor. */
static inline size_t arena_pos(const rtm_arena *a)
{
    return a->head->base + (size_t)(cursor_c(a)->ptr - a->head->data);
}

/* Bumps n bytes (a multiple of the grain, not 0) within the head chunk, or
 * NULL when they do not fit. */
static inline char *bump(rtm_arena *a, size_t n, size_t align)
{
    struct rtm_arena_cursor *c = cursor(a);
    uintptr_t p = rtm_align_ptr((uintptr_t)c->ptr, align);
    if (n - 1 < (size_t)((uintptr_t)c->end - p)) {
        c->ptr = (char *)(p + n);
        return (char *)p;
    }
    return NULL;
}

static inline bool align_ok(size_t align)
{
    return rtm_is_pow2(align) && align <= RTM_ARENA_MAX_ALIGN;
}

/* ---- growth --------------------------------------------------------------- */

/* Moves an emptied chunk of the arena to its spare list, or back to the page
 * source if it was made for one oversized request. */
static void chunk_retire(rtm_arena *a, rtm_chunk *c)
{
    if (rtm_chunk_ordinary(c->size)) {
        _rtm_chunk_poison(c, c->data);
        c->top = NULL;
        c->prev = a->spare;
        a->spare = c;
    } else {
        rtm_counter_sub(&a->chunks, 1);
        rtm_counter_sub(&a->chunk_bytes, c->size);
        _rtm_chunk_release(a->owned.ctx, c);
    }
}

/* Puts a new chunk on the stack (the head becomes a closed chunk) and bumps
 * n bytes in it. The chunk must fit them. */
static char *push_chunk(rtm_arena *a, rtm_chunk *c, size_t n, size_t align)
{
    rtm_chunk *head = a->head;
    char *ptr = cursor(a)->ptr;
    if (ptr == head->data && head->prev != NULL) {
        /* An empty head (a rewind to its start) is not worth keeping behind. */
        set_head(a, head->prev);
        rtm_counter_sub(&a->closed_used, (uint64_t)(a->head->top - a->head->data));
        chunk_retire(a, head);
        head = a->head;
        ptr = head->top;
    }
    head->top = ptr;
    rtm_counter_add(&a->closed_used, (uint64_t)(ptr - head->data));
    c->prev = head;
    c->base = head->base + rtm_chunk_cap(head);
    c->data = (char *)c + RTM_CHUNK_HDR;
    c->top = NULL;
    set_head(a, c);
    cursor_set(a, c->data, rtm_chunk_end(c));
    char *p = bump(a, n, align);
    rtm_assert(p != NULL);
    return p;
}

/* n bytes do not fit in the head: take a chunk that holds them from the
 * spare list, the cache or the page source. */
static RTM_COLD void *arena_grow(rtm_arena *a, size_t n, size_t align, const char *where)
{
    /* A chunk is page aligned and its data starts after the header, so the
     * request needs max(header, align) + n bytes of chunk. */
    size_t need = (align > RTM_CHUNK_HDR ? align : RTM_CHUNK_HDR) + n;
    rtm_chunk *c = a->spare;
    if (c != NULL && c->size >= need) {
        a->spare = c->prev;
        return push_chunk(a, c, n, align);
    }
    rtm_status why = RTM_OK;
    c = _rtm_chunk_get(a->cache, need, a->next_size, &why);
    if (c == NULL) return _rtm_fail_null(a->owned.ctx, why, where);
    rtm_counter_add(&a->chunks, 1);
    rtm_counter_add(&a->chunk_bytes, c->size);
    if (rtm_chunk_ordinary(c->size)) {
        size_t next = (c->size > a->next_size ? c->size : a->next_size) * 2;
        a->next_size = next < RTM_ARENA_CHUNK_MAX ? next : RTM_ARENA_CHUNK_MAX;
    }
    return push_chunk(a, c, n, align);
}

static void *arena_alloc(rtm_arena *a, size_t size, size_t align, const char *where)
{
    if (size == 0 || size > RTM_MAX_ALLOC || !align_ok(align))
        return _rtm_fail_null(a->owned.ctx, RTM_EINVAL, where);
    size_t n = rtm_align_up(size, RTM_ARENA_GRAIN);
    char *p = bump(a, n, align);
    if (p == NULL) p = arena_grow(a, n, align, where);
    if (p != NULL) rtm_track_undefined(p, size); /* the rounding stays poisoned */
    return p;
}

/* An arena with an open lease refuses every other use. */
static inline bool leased(rtm_arena *a, const char *where)
{
    if (RTM_LIKELY(!a->leased)) return false;
    _rtm_fail(a->owned.ctx, RTM_EINVAL, where);
    return true;
}

void *rtm_arena_alloc_slow(rtm_arena *a, size_t size, size_t align)
{
    if (a == NULL || leased(a, "rtm_arena_alloc")) return NULL;
    return arena_alloc(a, size, align, "rtm_arena_alloc");
}

/* The exported function behind the header's macro of the same name. */
void *(rtm_arena_alloc)(rtm_arena *a, size_t size, size_t align)
{
    return rtm_arena_alloc_inline(a, size, align);
}

void *rtm_arena_alloc_n(rtm_arena *a, size_t count, size_t size, size_t align)
{
    if (a == NULL || leased(a, "rtm_arena_alloc_n")) return NULL;
    size_t total;
    if (rtm_mul_overflow(count, size, &total))
        return _rtm_fail_null(a->owned.ctx, RTM_EINVAL, "rtm_arena_alloc_n");
    return arena_alloc(a, total, align, "rtm_arena_alloc_n");
}

void *rtm_arena_alloc_zero(rtm_arena *a, size_t size, size_t align)
{
    if (a == NULL || leased(a, "rtm_arena_alloc_zero")) return NULL;
    void *p = arena_alloc(a, size, align, "rtm_arena_alloc_zero");
    if (p != NULL) memset(p, 0, size);
    return p;
}

char *rtm_arena_strdup(rtm_arena *a, const char *s, size_t len)
{
    if (a == NULL || leased(a, "rtm_arena_strdup")) return NULL;
    if ((s == NULL && len != 0) || len >= RTM_MAX_ALLOC)
        return _rtm_fail_null(a->owned.ctx, RTM_EINVAL, "rtm_arena_strdup");
    char *p = arena_alloc(a, len + 1, 1, "rtm_arena_strdup");
    if (p == NULL) return NULL;
    if (len != 0) memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* ---- marks ----------------------------------------------------------------- */

rtm_arena_mark rtm_arena_save(rtm_arena *a)
{
    rtm_arena_mark m = {0, 0, 0};
    if (a == NULL || leased(a, "rtm_arena_save")) return m;
    m.arena = a->id;
    m.serial = ++a->serial;
    m.pos = arena_pos(a);
    return m;
}

/* The chunk holding position pos (pos at most the cursor's). */
static rtm_chunk *chunk_at(const rtm_arena *a, size_t pos)
{
    rtm_chunk *c = a->head;
    while (c->base > pos) c = c->prev;
    return c;
}

static rtm_status mark_check(const rtm_arena *a, rtm_arena_mark m)
{
    if (m.arena == 0) return RTM_EINVAL;
    if (m.arena != a->id) return RTM_EFOREIGN;
    if (m.serial == 0 || m.serial > a->serial) return RTM_EINVAL;
    if (m.serial <= a->reset_serial) return RTM_ESTALE;
    if (m.pos > arena_pos(a)) return RTM_ESTALE;
    if (m.serial <= a->rewind_serial && m.pos > a->rewind_pos) return RTM_ESTALE;
    /* A position in the unused tail of a closed chunk was never the cursor's
     * while that chunk stood: a rewind freed it since. */
    rtm_chunk *c = chunk_at(a, m.pos);
    if (c != a->head && m.pos - c->base > (size_t)(c->top - c->data)) return RTM_ESTALE;
    return RTM_OK;
}

/* Frees [from, to) of a chunk: filled in debug contexts, poisoned always. */
static void forget(rtm_arena *a, char *from, char *to)
{
    if (from >= to) return;
    if (rtm_ctx_debug(a->owned.ctx)) {
        rtm_track_internal(from, (size_t)(to - from));
        memset(from, DEBUG_FILL, (size_t)(to - from));
    }
    rtm_track_noaccess(from, (size_t)(to - from));
}

rtm_status rtm_arena_rewind(rtm_arena *a, rtm_arena_mark m)
{
    if (a == NULL) return RTM_EINVAL;
    if (leased(a, "rtm_arena_rewind")) return RTM_EINVAL;
    rtm_status s = mark_check(a, m);
    if (s != RTM_OK) return _rtm_fail(a->owned.ctx, s, "rtm_arena_rewind");
    char *ptr = cursor(a)->ptr;
    while (a->head->base > m.pos) {
        rtm_chunk *c = a->head;
        forget(a, c->data, ptr);
        set_head(a, c->prev);
        ptr = a->head->top;
        rtm_counter_sub(&a->closed_used, (uint64_t)(ptr - a->head->data));
        chunk_retire(a, c);
    }
    rtm_chunk *head = a->head;
    char *to = head->data + (m.pos - head->base);
    forget(a, to, ptr);
    head->top = NULL;
    cursor_set(a, to, rtm_chunk_end(head));
    a->rewind_serial = a->serial;
    a->rewind_pos = m.pos;
    return RTM_OK;
}

void rtm_arena_reset(rtm_arena *a)
{
    if (a == NULL || leased(a, "rtm_arena_reset")) return;
    char *ptr = cursor(a)->ptr;
    rtm_chunk *first = first_chunk(a);
    /* Newest first onto the spare stack, so the oldest comes off first and
     * the next round takes the chunks in the order this one did. */
    while (a->head != first) {
        rtm_chunk *c = a->head;
        forget(a, c->data, ptr);
        set_head(a, c->prev);
        ptr = a->head->top;
        chunk_retire(a, c);
    }
    forget(a, first->data, ptr);
    first->top = NULL;
    rtm_counter_set(&a->closed_used, 0);
    cursor_set(a, first->data, rtm_chunk_end(first));
    a->reset_serial = a->serial;
}

/* ---- leases ------------------------------------------------------------------ */

static const struct rtm_arena_cursor no_cursor = {NULL, NULL};

rtm_arena *rtm_arena_lease_open(rtm_arena *a, struct rtm_arena_cursor *cur, uint64_t *ticket)
{
    *cur = no_cursor;
    *ticket = 0;
    if (a == NULL || leased(a, "rtm_arena_lease_begin")) return NULL;
#if !ARENA_TRACKED
    a->real = a->cur; /* parked: what stats and check read meanwhile */
    a->cur = no_cursor;
    *cur = a->real;
#endif
    a->leased = true;
    *ticket = ++a->lease_ticket;
    return a;
}

/* The lease holding ticket is the arena's open one: else it is a copy of a
 * lease that has ended. */
static bool lease_current(rtm_arena *a, uint64_t ticket, const char *where)
{
    if (a->leased && ticket == a->lease_ticket) return true;
    _rtm_fail(a->owned.ctx, RTM_EINVAL, where);
    return false;
}

rtm_arena_lease_step rtm_arena_lease_alloc_slow(rtm_arena *a, struct rtm_arena_cursor cur,
                                                uint64_t ticket, size_t size, size_t align)
{
    rtm_arena_lease_step s = {NULL, no_cursor};
    if (a == NULL || !lease_current(a, ticket, "rtm_arena_lease_alloc")) return s;
#if ARENA_TRACKED
    (void)cur;
    s.p = arena_alloc(a, size, align, "rtm_arena_lease_alloc");
#else
    a->real = cur;
    s.p = arena_alloc(a, size, align, "rtm_arena_lease_alloc");
    s.cur = a->real;
#endif
    return s;
}

void rtm_arena_lease_close(rtm_arena *a, struct rtm_arena_cursor cur, uint64_t ticket)
{
    if (a == NULL || !lease_current(a, ticket, "rtm_arena_lease_end")) return;
#if ARENA_TRACKED
    (void)cur;
#else
    a->cur = cur;
#endif
    a->leased = false;
}

/* ---- new and destroy -------------------------------------------------------- */

static const rtm_owned_ops arena_ops;

rtm_arena *rtm_arena_new(rtm_ctx *ctx)
{
    if (ctx == NULL) return NULL;
    rtm_status why = RTM_OK;
    rtm_arena_cache *cache = _rtm_arena_cache_of(ctx, &why);
    if (cache == NULL) return _rtm_fail_null(ctx, why, "rtm_arena_new");
    rtm_chunk *c = _rtm_chunk_get(cache, RTM_CHUNK_HDR + ARENA_SELF, RTM_ARENA_CHUNK_MIN, &why);
    if (c == NULL) return _rtm_fail_null(ctx, why, "rtm_arena_new");

    rtm_arena *a = (rtm_arena *)(void *)((char *)c + RTM_CHUNK_HDR);
    rtm_track_internal(a, ARENA_SELF);
    memset(a, 0, sizeof *a);
    c->prev = NULL;
    c->base = 0;
    c->data = (char *)a + ARENA_SELF;
    c->top = NULL;
    set_head(a, c);
    a->cache = cache;
    a->magic = ARENA_MAGIC;
    a->id = atomic_fetch_add_explicit(&next_arena_id, 1, memory_order_relaxed);
    a->next_size = c->size * 2 < RTM_ARENA_CHUNK_MAX ? c->size * 2 : RTM_ARENA_CHUNK_MAX;
    rtm_counter_set(&a->chunks, 1);
    rtm_counter_set(&a->chunk_bytes, c->size);
    cursor_set(a, c->data, rtm_chunk_end(c));
    _rtm_owned_link(ctx, &a->owned, &arena_ops);
    return a;
}

void rtm_arena_destroy(rtm_arena *a)
{
    if (a == NULL) return;
    _rtm_owned_unlink(&a->owned);
    rtm_arena_cache *cache = a->cache;
    rtm_chunk *first = first_chunk(a);
    rtm_chunk *spare = a->spare;
    rtm_chunk *c = a->head;
    a->magic = 0;
    /* Everything but the first chunk, which holds a: that one goes last. */
    while (c != first) {
        rtm_chunk *prev = c->prev;
        _rtm_chunk_give(cache, c);
        c = prev;
    }
    while (spare != NULL) {
        rtm_chunk *next = spare->prev;
        _rtm_chunk_give(cache, spare);
        spare = next;
    }
    _rtm_chunk_give(cache, first);
}

/* ---- the arena as an owned object ------------------------------------------ */

static void arena_destroy_owned(rtm_owned *o) { rtm_arena_destroy(ARENA_OF(o)); }

/* Spare chunks go back to the page source. */
static void arena_trim(rtm_owned *o)
{
    rtm_arena *a = ARENA_OF(o);
    while (a->spare != NULL) {
        rtm_chunk *c = a->spare;
        a->spare = c->prev;
        rtm_counter_sub(&a->chunks, 1);
        rtm_counter_sub(&a->chunk_bytes, c->size);
        _rtm_chunk_release(o->ctx, c);
    }
}

static bool chunk_sane(const rtm_chunk *c)
{
    return ((uintptr_t)c & (RTM_ARENA_MAX_ALIGN - 1)) == 0 && c->size >= RTM_OS_PAGE &&
           c->size % RTM_OS_PAGE == 0 &&
           (!rtm_chunk_ordinary(c->size) || rtm_is_pow2(c->size / RTM_ARENA_CHUNK_MIN));
}

static rtm_status arena_check(rtm_owned *o)
{
    rtm_arena *a = ARENA_OF(o);
    const struct rtm_arena_cursor *cur = cursor(a);
    rtm_chunk *first = first_chunk(a);
    uint64_t limit = rtm_counter_get(&a->chunks), chunks = 0, bytes = 0, used = 0;
    if (a->magic != ARENA_MAGIC || a->cache != o->ctx->arena_cache) return RTM_EINVAL;
    if ((ARENA_TRACKED || a->leased) && (a->cur.ptr != NULL || a->cur.end != NULL))
        return RTM_EINVAL;
    /* The head holds the cursor, and end stays aligned for the fast path. */
    rtm_chunk *h = a->head;
    if (cur->ptr < h->data || cur->ptr > cur->end || cur->end != rtm_chunk_end(h) ||
        ((uintptr_t)cur->ptr & (RTM_ARENA_GRAIN - 1)) != 0 ||
        ((uintptr_t)cur->end & (RTM_ARENA_MAX_ALIGN - 1)) != 0)
        return RTM_EINVAL;
    /* The stack: chunks end to end in position, the first at the bottom. */
    for (rtm_chunk *c = h; c != NULL; c = c->prev) {
        if (++chunks > limit || !chunk_sane(c)) return RTM_EINVAL;
        if (c->data < (char *)c + RTM_CHUNK_HDR || c->data > rtm_chunk_end(c)) return RTM_EINVAL;
        if (c != h) {
            if (c->top < c->data || c->top > rtm_chunk_end(c)) return RTM_EINVAL;
            used += (uint64_t)(c->top - c->data);
        }
        if (c->prev != NULL ? c->base != c->prev->base + rtm_chunk_cap(c->prev)
                            : (c != first || c->base != 0))
            return RTM_EINVAL;
        bytes += c->size;
    }
    for (rtm_chunk *c = a->spare; c != NULL; c = c->prev) {
        if (++chunks > limit || !chunk_sane(c) || !rtm_chunk_ordinary(c->size)) return RTM_EINVAL;
        bytes += c->size;
    }
    if (chunks != limit || bytes != rtm_counter_get(&a->chunk_bytes) ||
        used != rtm_counter_get(&a->closed_used))
        return RTM_EINVAL;
    if (a->reset_serial > a->serial || a->rewind_serial > a->serial) return RTM_EINVAL;
    if (a->next_size < RTM_ARENA_CHUNK_MIN || a->next_size > RTM_ARENA_CHUNK_MAX) return RTM_EINVAL;
    return RTM_OK;
}

static int arena_visit(rtm_owned *o, rtm_visit_fn fn, void *ud)
{
    rtm_arena *a = ARENA_OF(o);
    for (rtm_chunk *c = a->head; c != NULL; c = c->prev)
        if (fn(ud, RTM_VISIT_ARENA_CHUNK, c, c->size)) return 1;
    for (rtm_chunk *c = a->spare; c != NULL; c = c->prev)
        if (fn(ud, RTM_VISIT_ARENA_CHUNK, c, c->size)) return 1;
    return 0;
}

/* Read from any thread under the owned lock. The counters are exact; the
 * bytes bumped in the head chunk are read from the owner's cursor, so from
 * another thread they are a moment's snapshot. */
static void arena_stats(const rtm_owned *o, rtm_stats *out)
{
    const rtm_arena *a = ARENA_OF(o);
    /* Another thread may be reading while the owner bumps: the cursor is a
     * plain pointer (the inline fast path keeps it in registers), read here
     * as one aligned word and never followed. Outside the published chunk
     * (the owner is switching chunks) the head's share counts as 0 for this
     * snapshot. Exact when the owner is not allocating. */
    uintptr_t data = atomic_load_explicit((_Atomic uintptr_t *)&a->head_data, memory_order_relaxed);
    uintptr_t end = atomic_load_explicit((_Atomic uintptr_t *)&a->head_end, memory_order_relaxed);
    uintptr_t ptr = (uintptr_t)cursor_c(a)->ptr;
    uint64_t used = rtm_counter_get(&a->closed_used) +
                    (ptr >= data && ptr <= end ? (uint64_t)(ptr - data) : 0);
    out->arenas_live += 1;
    out->arena_bytes_used += used;
    out->bytes_in_use += used;
    out->arena_chunk_bytes += rtm_counter_get(&a->chunk_bytes);
    out->arena_chunks += rtm_counter_get(&a->chunks);
}

static const rtm_owned_ops arena_ops = {
    "arena", RTM_ORDER_ARENA, arena_destroy_owned, arena_check, arena_visit,
    arena_stats, arena_trim,
};
