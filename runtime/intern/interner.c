/*
 * interner.c: the concurrent string interner: its public entry points, its
 * life as an object a context owns, its counters.
 *
 * Design, for many cores
 * ----------------------
 * The work an interner sees is overwhelmingly lookups of strings it already
 * holds (a tokenizer meets `self` thousands of times), from any number of
 * threads. So a lookup of a present string takes no lock and writes no
 * shared cache line; only a miss pays for coordination.
 *
 *  - The table is an extendible hash (intern_table.c): a directory, indexed
 *    by the low bits of a 64-bit hash, of 4 KiB open-addressing leaves whose
 *    slots hold 32 bits of the hash and the string's 32-bit location. A
 *    lookup is: hash, two loads to reach the leaf, a probe that is usually
 *    one cache line, one record compared byte for byte. The record carries
 *    its id.
 *  - Inserts lock only the leaf they go to, so inserts of strings that land in
 *    different leaves run in parallel; a full leaf splits while holding its
 *    own lock and the directory's (splits are rare: one per ~200 inserts, and
 *    move slots by their tags without reading a string).
 *    Ids and string space come from one short critical section
 *    (intern_store.c) that does no copying. A string is inserted only by the
 *    holder of its leaf's lock after probing under it, so equal bytes never
 *    get two ids, under any interleaving.
 *  - Nothing a reader may hold is ever freed or moved before the interner
 *    dies: a split leaf is reused only for another split, in a way a reader
 *    can detect, and replaced directories stay. This is what lets readers go
 *    without locks, hazard pointers or epochs, and it costs at most one spare
 *    leaf plus the old directories (a fraction of a byte per string).
 *  - The lookup counters are sharded by thread (one cache line per shard), so
 *    counting a hit writes only the thread's own line.
 *
 * The design was chosen over: a single table with read-copy growth, whose old
 * tables must stay alive for readers (a second table's worth of memory) or be
 * reclaimed with reader-side fences; sharding into a fixed number of tables,
 * which costs a table per shard even for a 40-keyword interner; and lock-free
 * insertion into open addressing, which needs its own resize protocol and
 * gains little when misses are rare.
 *
 * Memory comes from the owning context's page source, without the collect
 * hook (any thread may grow an interner), so the context's limit and fault
 * injection apply. A standalone interner (rtm_interner_new) owns a private
 * context on the OS pages for its accounting.
 */
#include "intern.h"

/* ---- thread ordinals, for the counter shards ----------------------------------- */

static _Thread_local unsigned rtm_thread_ordinal RTM_TLS_FAST;
static _Atomic unsigned rtm_thread_ordinals;

static unsigned thread_ordinal(void)
{
    unsigned o = rtm_thread_ordinal;
    if (RTM_UNLIKELY(o == 0)) {
        o = atomic_fetch_add_explicit(&rtm_thread_ordinals, 1, memory_order_relaxed) + 1;
        if (o == 0) o = 1;
        rtm_thread_ordinal = o;
    }
    return o;
}

/* One writer per shard: a load and a store, not a locked add. */
RTM_INLINE void count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static RTM_NOINLINE rtm_sym count_hit_cold(rtm_interner *in, size_t saved, rtm_sym sym)
{
    rtm_intern_shard *sh = &in->shard[thread_ordinal() & (RTM_INTERN_SHARDS - 1)];
    count(&sh->hits, 1);
    count(&sh->saved, saved);
    return sym;
}

/* Counts a hit (saved: the bytes a copy would have cost) and returns sym.
 * A thread's first count takes the call that gives it its ordinal. */
RTM_INLINE rtm_sym count_hit(rtm_interner *in, size_t saved, rtm_sym sym)
{
    unsigned o = rtm_thread_ordinal;
    if (RTM_UNLIKELY(o == 0)) return count_hit_cold(in, saved, sym);
    rtm_intern_shard *sh = &in->shard[o & (RTM_INTERN_SHARDS - 1)];
    count(&sh->hits, 1);
    count(&sh->saved, saved);
    return sym;
}

static void count_miss(rtm_interner *in)
{
    count(&in->shard[thread_ordinal() & (RTM_INTERN_SHARDS - 1)].misses, 1);
}

/* ---- memory and errors ---------------------------------------------------------- */

void *_rtm_intern_pages(rtm_interner *in, size_t bytes, rtm_status *why)
{
    void *p = _rtm_pages_alloc(in->ctx, bytes, RTM_OS_PAGE, 0, why);
    if (p == NULL) return NULL;
    bytes = _rtm_pages_round(bytes);
    if (!(in->ctx->pages.flags & RTM_PAGES_ZEROED)) memset(p, 0, bytes);
    atomic_fetch_add_explicit(&in->held_bytes, bytes, memory_order_relaxed);
    return p;
}

void _rtm_intern_unpages(rtm_interner *in, void *p, size_t bytes)
{
    bytes = _rtm_pages_round(bytes);
    atomic_fetch_sub_explicit(&in->held_bytes, bytes, memory_order_relaxed);
    _rtm_pages_free(in->ctx, p, bytes);
}

rtm_sym _rtm_interner_fail(rtm_interner *in, rtm_status s, const char *where)
{
    atomic_store_explicit(&in->error, (int)s, memory_order_relaxed);
    _rtm_fail(in->ctx, s, where);
    return 0;
}

/* ---- insert: the slow path ------------------------------------------------------ */

/* Under the leaf's lock, where nothing moves and the leaf is never full: the
 * id, or 0 and the empty slot that ends the probe, where it would go. */
static rtm_sym probe_locked(const rtm_interner *in, rtm_leaf *leaf, uint64_t h,
                            const unsigned char *s, size_t len, uint32_t *empty)
{
    uint32_t i = rtm_slot_home(h);
    uint64_t tag = h & RTM_SLOT_TAG_MASK;
    for (;;) {
        uint64_t e = atomic_load_explicit(&leaf->slot[i], memory_order_relaxed);
        if (e == 0) {
            *empty = i;
            return 0;
        }
        if ((e & RTM_SLOT_TAG_MASK) == tag) {
            size_t rlen;
            const unsigned char *rec = rtm_rec_at(in, e >> RTM_SLOT_TAG_BITS);
            const unsigned char *bytes = rtm_rec_bytes(rec, &rlen);
            if (rlen == len && rtm_bytes_eq(bytes, s, len)) return rtm_load32(rec);
        }
        if (++i == RTM_LEAF_SLOTS) i = 0;
    }
}

/* Finds or inserts (s, len) under its leaf's lock. *inserted says which;
 * 0 with *st on failure, nothing changed. */
static rtm_sym insert(rtm_interner *in, uint64_t h, const char *s, size_t len, rtm_intern_kind kind,
                      rtm_sym fixed, rtm_status *st, bool *inserted)
{
    const unsigned char *u = (const unsigned char *)s;
    *inserted = false;
    for (;;) {
        rtm_leaf *leaf = rtm_leaf_for(in, h);
        if (_rtm_leaf_is_empty(leaf)) {
            if ((*st = _rtm_table_split(in, leaf)) != RTM_OK) return 0;
            continue;
        }
        pthread_mutex_lock(&leaf->u.h.lock);
        if (rtm_leaf_for(in, h) != leaf) { /* split (or reused) meanwhile */
            pthread_mutex_unlock(&leaf->u.h.lock);
            continue;
        }
        uint32_t empty = 0;
        rtm_sym sym = probe_locked(in, leaf, h, u, len, &empty);
        if (sym != 0) { /* another thread put it in first */
            pthread_mutex_unlock(&leaf->u.h.lock);
            *st = RTM_OK;
            return sym;
        }
        if (leaf->u.h.count >= RTM_LEAF_MAX_COUNT) {
            *st = _rtm_table_split(in, leaf);
            pthread_mutex_unlock(&leaf->u.h.lock);
            if (*st != RTM_OK) return 0;
            continue;
        }
        uint64_t soff;
        unsigned char *rec;
        *st = _rtm_store_reserve(in, len, kind, fixed, &sym, &soff, &rec);
        if (*st == RTM_OK) {
            _rtm_store_publish(in, sym, soff, rec, s, len);
            atomic_store_explicit(&leaf->slot[empty], (soff << RTM_SLOT_TAG_BITS) | (h & RTM_SLOT_TAG_MASK),
                                  memory_order_release);
            leaf->u.h.count++;
            *inserted = true;
        }
        pthread_mutex_unlock(&leaf->u.h.lock);
        return sym;
    }
}

rtm_sym _rtm_intern_insert(rtm_interner *in, uint64_t h, const char *s, size_t len,
                           rtm_intern_kind kind, rtm_sym fixed, rtm_status *st)
{
    bool inserted;
    return insert(in, h, s, len, kind, fixed, st, &inserted);
}

/* ---- the entry points ------------------------------------------------------------
 * The hit path is short and calls nothing: a miss or bad input leaves by a
 * tail call, so the fast path needs no stack frame. */

RTM_INLINE bool bad_bytes(const char *s, size_t len)
{
    return len > RTM_INTERN_MAX_LEN || (s == NULL && len != 0);
}

/* What the fast paths leave for: a NULL interner or pointer, or a length
 * over the maximum. s NULL with len 0 is the empty string. */
static RTM_COLD rtm_sym intern_odd(rtm_interner *in, const char *s, size_t len)
{
    if (in == NULL) return 0;
    if (bad_bytes(s, len)) return _rtm_interner_fail(in, RTM_EINVAL, "rtm_intern");
    return rtm_intern(in, "", 0);
}

/* After a lock-free miss: find or insert under the leaf's lock, and count. */
static rtm_sym intern_slow(rtm_interner *in, uint64_t h, const char *s, size_t len, rtm_status *st,
                           const char *where)
{
    bool inserted;
    rtm_sym sym = insert(in, h, s, len, RTM_INTERN_PLAIN, 0, st, &inserted);
    if (sym != 0 && !inserted) return count_hit(in, len + 1, sym); /* another thread was first */
    count_miss(in);
    if (sym == 0) return _rtm_interner_fail(in, *st, where);
    return sym;
}

static RTM_NOINLINE rtm_sym intern_miss(rtm_interner *in, uint64_t h, const char *s, size_t len)
{
    rtm_status st;
    return intern_slow(in, h, s, len, &st, "rtm_intern");
}

rtm_sym rtm_intern(rtm_interner *in, const char *s, size_t len)
{
    if (RTM_UNLIKELY(in == NULL || s == NULL || len > RTM_INTERN_MAX_LEN))
        return intern_odd(in, s, len);
    uint64_t h = rtm_hash(s, len, in->seed);
    rtm_sym sym = rtm_leaf_probe(in, rtm_leaf_for(in, h), h, (const unsigned char *)s, len);
    if (RTM_UNLIKELY(sym == 0)) return intern_miss(in, h, s, len);
    return count_hit(in, len + 1, sym);
}

rtm_status rtm_intern_ex(rtm_interner *in, const char *s, size_t len, rtm_sym *out)
{
    if (out != NULL) *out = 0;
    if (in == NULL) return RTM_EINVAL;
    if (out == NULL || bad_bytes(s, len)) {
        _rtm_interner_fail(in, RTM_EINVAL, "rtm_intern_ex");
        return RTM_EINVAL;
    }
    uint64_t h = rtm_hash(s, len, in->seed);
    rtm_sym sym = rtm_leaf_probe(in, rtm_leaf_for(in, h), h, (const unsigned char *)s, len);
    if (RTM_LIKELY(sym != 0)) {
        *out = count_hit(in, len + 1, sym);
        return RTM_OK;
    }
    rtm_status st = RTM_OK;
    *out = intern_slow(in, h, s, len, &st, "rtm_intern_ex");
    return st;
}

/* A miss that rtm_intern_find will report: trusted only if the leaf probed
 * was neither being refilled nor replaced around the probe. */
static RTM_NOINLINE rtm_sym find_miss(rtm_interner *in, uint64_t h, const char *s, size_t len)
{
    for (;;) {
        rtm_leaf *leaf = rtm_leaf_for(in, h);
        uint32_t g = atomic_load_explicit(&leaf->u.h.gen, memory_order_acquire);
        if (g & 1) continue; /* being refilled: the directory will move on */
        rtm_sym sym = rtm_leaf_probe(in, leaf, h, (const unsigned char *)s, len);
        if (sym != 0) return count_hit(in, 0, sym);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&leaf->u.h.gen, memory_order_relaxed) == g &&
            rtm_leaf_for(in, h) == leaf) {
            count_miss(in);
            return 0;
        }
    }
}

static RTM_COLD rtm_sym find_odd(rtm_interner *in, const char *s, size_t len)
{
    if (in == NULL) return 0;
    if (bad_bytes(s, len)) return _rtm_interner_fail(in, RTM_EINVAL, "rtm_intern_find");
    return rtm_intern_find(in, "", 0);
}

rtm_sym rtm_intern_find(rtm_interner *in, const char *s, size_t len)
{
    if (RTM_UNLIKELY(in == NULL || s == NULL || len > RTM_INTERN_MAX_LEN))
        return find_odd(in, s, len);
    uint64_t h = rtm_hash(s, len, in->seed);
    rtm_sym sym = rtm_leaf_probe(in, rtm_leaf_for(in, h), h, (const unsigned char *)s, len);
    if (RTM_UNLIKELY(sym == 0)) return find_miss(in, h, s, len);
    return count_hit(in, 0, sym);
}

const char *rtm_sym_str(rtm_interner *in, rtm_sym sym, size_t *len)
{
    if (len != NULL) *len = 0;
    if (in == NULL) return NULL;
    uint64_t soff = 0;
    if (sym != 0 && sym < atomic_load_explicit(&in->next_id, memory_order_acquire))
        soff = _rtm_store_soff(in, sym);
    if (RTM_UNLIKELY(soff == 0)) {
        _rtm_interner_fail(in, RTM_EINVAL, "rtm_sym_str");
        return NULL;
    }
    size_t n;
    const unsigned char *bytes = rtm_rec_bytes(rtm_rec_at(in, soff), &n);
    if (len != NULL) *len = n;
    return (const char *)bytes;
}

int rtm_sym_is_keyword(rtm_interner *in, rtm_sym sym)
{
    if (in == NULL || sym == 0) return 0;
    if (sym <= RTM_KW_COUNT) return (int)((in->kw_present[sym >> 6] >> (sym & 63)) & 1);
    return sym <= atomic_load_explicit(&in->kw_last, memory_order_relaxed);
}

rtm_status rtm_interner_error(const rtm_interner *in)
{
    if (in == NULL) return RTM_EINVAL;
    return (rtm_status)atomic_load_explicit(&((rtm_interner *)in)->error, memory_order_relaxed);
}

void rtm_interner_clear_error(rtm_interner *in)
{
    if (in != NULL) atomic_store_explicit(&in->error, RTM_OK, memory_order_relaxed);
}

/* ---- stats --------------------------------------------------------------------- */

static void add_stats(const rtm_interner *cin, rtm_stats *out)
{
    rtm_interner *in = (rtm_interner *)cin;
    uint64_t strings = atomic_load_explicit(&in->strings, memory_order_relaxed);
    uint64_t bytes = atomic_load_explicit(&in->string_bytes, memory_order_relaxed);
    uint64_t held = atomic_load_explicit(&in->held_bytes, memory_order_relaxed);
    out->intern_strings += strings;
    out->intern_string_bytes += bytes;
    out->intern_table_bytes += held > bytes ? held - bytes : 0;
    for (unsigned i = 0; i < RTM_INTERN_SHARDS; i++) {
        uint64_t hits = atomic_load_explicit(&in->shard[i].hits, memory_order_relaxed);
        out->intern_lookups += hits + atomic_load_explicit(&in->shard[i].misses, memory_order_relaxed);
        out->intern_hits += hits;
        out->intern_bytes_saved += atomic_load_explicit(&in->shard[i].saved, memory_order_relaxed);
    }
    out->bytes_in_use += bytes;
}

void rtm_interner_stats_sized(const rtm_interner *in, rtm_stats *out, size_t out_size)
{
    if (out == NULL || out_size < 2 * sizeof(uint32_t)) return;
    rtm_stats st;
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)(out_size < sizeof st ? out_size : sizeof st);
    st.version = RTM_STATS_VERSION;
    if (in != NULL) add_stats(in, &st);
    memcpy(out, &st, st.size);
}

/* ---- life ----------------------------------------------------------------------- */

/* The interner's page: the struct, then its small tables. */
#define RTM_INTERNER_BYTES (sizeof(rtm_interner) + RTM_INTERN_SMALL_BYTES)

#define OWNER(o) ((rtm_interner *)(void *)((char *)(o) - offsetof(rtm_interner, owned)))

static void interner_free(rtm_interner *in)
{
    _rtm_table_destroy(in);
    _rtm_store_destroy(in);
    pthread_mutex_destroy(&in->dir_lock);
    pthread_mutex_destroy(&in->alloc_lock);
    _rtm_intern_unpages(in, in, RTM_INTERNER_BYTES);
}

static void owned_destroy(rtm_owned *o)
{
    rtm_interner *in = OWNER(o);
    _rtm_owned_unlink(o);
    if (in->ctx->interner == in) in->ctx->interner = NULL;
    interner_free(in);
}

/* Ends one that was made but never handed out (another thread's was
 * published first): ctx->interner is not its to touch. */
void _rtm_interner_discard(rtm_interner *in)
{
    _rtm_owned_unlink(&in->owned);
    interner_free(in);
}

/* Every invariant, when no thread is interning: see _rtm_table_check and
 * _rtm_store_check; the strings found from the table are the strings held,
 * and the pages counted are the pages held. */
static rtm_status owned_check(rtm_owned *o)
{
    rtm_interner *in = OWNER(o);
    uint64_t slots = 0, held = _rtm_pages_round(RTM_INTERNER_BYTES);
    rtm_status s = _rtm_store_check(in, &held);
    if (s == RTM_OK) s = _rtm_table_check(in, &slots, &held);
    if (s != RTM_OK) return s;
    if (slots != atomic_load(&in->strings) || held != atomic_load(&in->held_bytes)) return RTM_EINVAL;
    if (atomic_load(&in->next_id) <= RTM_KW_COUNT || atomic_load(&in->kw_last) < RTM_KW_COUNT ||
        atomic_load(&in->kw_last) >= atomic_load(&in->next_id))
        return RTM_EINVAL;
    return RTM_OK;
}

static void owned_stats(const rtm_owned *o, rtm_stats *out)
{
    add_stats(OWNER(o), out);
}

static const rtm_owned_ops interner_ops = {
    "interner", RTM_ORDER_INTERNER, owned_destroy, owned_check, NULL, owned_stats, NULL,
};

/* A fresh interner on ctx's pages, seeded with the keyword sets in the mask,
 * linked into ctx's owned list; standalone when it is to own ctx. */
rtm_status _rtm_interner_make(rtm_ctx *ctx, int standalone, unsigned sets, rtm_interner **out)
{
    rtm_status why;
    size_t bytes = _rtm_pages_round(RTM_INTERNER_BYTES);
    rtm_interner *in = _rtm_pages_alloc(ctx, bytes, RTM_OS_PAGE, 0, &why);
    *out = NULL;
    if (in == NULL) return why;
    if (!(ctx->pages.flags & RTM_PAGES_ZEROED)) memset(in, 0, bytes);
    in->ctx = ctx;
    atomic_store(&in->held_bytes, bytes);
    if (pthread_mutex_init(&in->dir_lock, NULL) != 0) {
        _rtm_pages_free(ctx, in, bytes);
        return RTM_ENOMEM;
    }
    if (pthread_mutex_init(&in->alloc_lock, NULL) != 0) {
        pthread_mutex_destroy(&in->dir_lock);
        _rtm_pages_free(ctx, in, bytes);
        return RTM_ENOMEM;
    }
    /* A seed per interner, so nobody can aim colliding strings at it ahead of
     * time: its address (randomized by the OS) stirred. */
    in->seed = rtm_mum((uint64_t)(uintptr_t)in ^ RTM_H2, RTM_H0 ^ (uint64_t)(uintptr_t)&rtm_thread_ordinals);
    in->max_sym = RTM_SYM_MAX;
    in->max_chunks = RTM_SOFF_MAX_CHUNKS;
    in->sets = (uint8_t)sets;
    in->standalone = (uint8_t)(standalone != 0);
    atomic_store(&in->next_id, RTM_KW_COUNT + 1);
    atomic_store(&in->kw_last, RTM_KW_COUNT);
    _rtm_store_init(in, _rtm_table_init(in, (unsigned char *)(in + 1)));
    rtm_status st = _rtm_kw_seed(in, sets);
    if (st != RTM_OK) {
        interner_free(in);
        return st;
    }
    _rtm_owned_link(ctx, &in->owned, &interner_ops);
    *out = in;
    return RTM_OK;
}

rtm_status rtm_interner_new_ex(const char *const *keywords, rtm_interner **out)
{
    unsigned sets;
    rtm_ctx *ctx;
    if (out == NULL) return RTM_EINVAL;
    *out = NULL;
    rtm_status st = _rtm_kw_parse(keywords, &sets);
    if (st == RTM_OK) st = rtm_ctx_new_ex(NULL, &ctx); /* its own, on the OS pages: the accounting */
    if (st != RTM_OK) return st;
    st = _rtm_interner_make(ctx, 1, sets, out);
    if (st != RTM_OK) {
        rtm_ctx_destroy(ctx);
        return st;
    }
    ctx->interner = *out;
    return RTM_OK;
}

rtm_interner *rtm_interner_new(const char *const *keywords)
{
    rtm_interner *in;
    rtm_interner_new_ex(keywords, &in);
    return in;
}

void rtm_interner_destroy(rtm_interner *in)
{
    if (in == NULL) return;
    if (!in->standalone) { /* a context's own: it ends with its context */
        _rtm_interner_fail(in, RTM_EINVAL, "rtm_interner_destroy");
        return;
    }
    rtm_ctx_destroy(in->ctx);
}

rtm_status _rtm_interner_set_max_sym(rtm_interner *in, uint32_t max)
{
    rtm_status st = RTM_OK;
    pthread_mutex_lock(&in->alloc_lock);
    if (max > RTM_SYM_MAX || max + 1 < atomic_load_explicit(&in->next_id, memory_order_relaxed))
        st = RTM_EINVAL;
    else
        in->max_sym = max;
    pthread_mutex_unlock(&in->alloc_lock);
    return st;
}

rtm_status _rtm_interner_set_max_chunks(rtm_interner *in, uint32_t max)
{
    rtm_status st = RTM_OK;
    pthread_mutex_lock(&in->alloc_lock);
    if (max > RTM_SOFF_MAX_CHUNKS || max < in->nchunks)
        st = RTM_EINVAL;
    else
        in->max_chunks = max;
    pthread_mutex_unlock(&in->alloc_lock);
    return st;
}
