/*
 * intern_store.c: where the strings live and how an id finds its string.
 *
 * Records are packed back to back in chunks (4 KiB growing to 64 KiB; a
 * record over 16 KiB gets a chunk of its own):
 *     [id: 4 bytes][len: 1 byte, or 255 then 4 bytes][bytes][NUL]
 * byte-aligned, so a short identifier costs 6 bytes besides its own. A
 * record is addressed by a 32-bit string offset, chunk index << 16 | offset,
 * which is what a table slot holds. The id map is an array of string offsets
 * indexed by id, in 4 KiB segments that never move: 4 bytes per id.
 *
 * Ids, string space and id-map segments are taken under alloc_lock, in one
 * short critical section that either fails having consumed nothing, or
 * commits the id and the space together; the bytes are copied after it, by
 * the inserting thread alone.
 */
#include "intern.h"

#include "../mem/track.h"

/* ---- pointer tables ------------------------------------------------------------ */


/* Makes the table at *slot hold index i, replacing it by a larger copy if
 * needed. Under alloc_lock. */
static rtm_status ptrs_reserve(rtm_interner *in, rtm_ptrs *_Atomic *slot, size_t i)
{
    rtm_ptrs *t = atomic_load_explicit(slot, memory_order_relaxed);
    if (i < t->cap) return RTM_OK;
    size_t cap = t->cap * 2;
    while (cap <= i) cap *= 2;
    size_t bytes = _rtm_pages_round(sizeof(rtm_ptrs) + cap * sizeof(void *));
    rtm_status why;
    rtm_ptrs *n = _rtm_intern_pages(in, bytes, &why);
    if (n == NULL) return why;
    n->cap = (bytes - sizeof(rtm_ptrs)) / sizeof(void *);
    n->bytes = bytes;
    n->prev = t;
    for (size_t k = 0; k < t->cap; k++)
        atomic_store_explicit(&n->ptr[k], atomic_load_explicit(&t->ptr[k], memory_order_relaxed),
                              memory_order_relaxed);
    atomic_store_explicit(slot, n, memory_order_release);
    return RTM_OK;
}

/* space: RTM_PTRS_SMALL entries' worth for each table, zeroed. */
void _rtm_store_init(rtm_interner *in, unsigned char *space)
{
    size_t one = sizeof(rtm_ptrs) + RTM_PTRS_SMALL * sizeof(void *);
    in->chunks_small = (rtm_ptrs *)(void *)space;
    in->idsegs_small = (rtm_ptrs *)(void *)(space + one);
    in->chunks_small->cap = in->idsegs_small->cap = RTM_PTRS_SMALL;
    atomic_store_explicit(&in->chunks, in->chunks_small, memory_order_relaxed);
    atomic_store_explicit(&in->idsegs, in->idsegs_small, memory_order_relaxed);
    in->nchunks = 1; /* index 0 is never used, so no slot is 0 */
}

/* ---- the id map ------------------------------------------------------------------ */

/* Makes sure id has an id-map entry. Under alloc_lock. */
static rtm_status idmap_reserve(rtm_interner *in, rtm_sym id)
{
    size_t s = id >> RTM_IDSEG_SHIFT;
    rtm_status st = ptrs_reserve(in, &in->idsegs, s);
    if (st != RTM_OK) return st;
    rtm_ptrs *t = atomic_load_explicit(&in->idsegs, memory_order_relaxed);
    if (atomic_load_explicit(&t->ptr[s], memory_order_relaxed) != NULL) return RTM_OK;
    void *seg = _rtm_intern_pages(in, RTM_IDSEG_IDS * sizeof(uint32_t), &st);
    if (seg == NULL) return st;
    atomic_store_explicit(&t->ptr[s], seg, memory_order_release);
    return RTM_OK;
}

static _Atomic uint32_t *idmap_entry(const rtm_interner *in, rtm_sym id)
{
    rtm_ptrs *t = atomic_load_explicit(&((rtm_interner *)in)->idsegs, memory_order_acquire);
    size_t s = id >> RTM_IDSEG_SHIFT;
    if (s >= t->cap) return NULL;
    _Atomic uint32_t *seg = atomic_load_explicit(&t->ptr[s], memory_order_acquire);
    return seg ? &seg[id & (RTM_IDSEG_IDS - 1)] : NULL;
}

uint64_t _rtm_store_soff(const rtm_interner *in, rtm_sym id)
{
    _Atomic uint32_t *e = idmap_entry(in, id);
    return e ? atomic_load_explicit(e, memory_order_acquire) : 0;
}

/* ---- string space ------------------------------------------------------------------ */

/* A new chunk of `size` bytes at the next index; its size is kept in its
 * first word. Under alloc_lock. */
static unsigned char *chunk_new(rtm_interner *in, size_t size, uint32_t *index, rtm_status *why)
{
    if (in->nchunks >= in->max_chunks) {
        *why = RTM_ELIMIT;
        return NULL;
    }
    if ((*why = ptrs_reserve(in, &in->chunks, in->nchunks)) != RTM_OK) return NULL;
    unsigned char *c = _rtm_intern_pages(in, size, why);
    if (c == NULL) return NULL;
    size = _rtm_pages_round(size);
    memcpy(c, &size, sizeof size);
    rtm_track_noaccess(c + RTM_CHUNK_HEADER, size - RTM_CHUNK_HEADER);
    rtm_ptrs *t = atomic_load_explicit(&in->chunks, memory_order_relaxed);
    *index = in->nchunks++;
    atomic_store_explicit(&t->ptr[*index], c, memory_order_release);
    return c;
}

static size_t chunk_size(const unsigned char *c)
{
    size_t size;
    memcpy(&size, c, sizeof size);
    return size;
}

/* need bytes of string space: its offset and address. Under alloc_lock. */
static rtm_status space(rtm_interner *in, size_t need, uint64_t *soff, unsigned char **rec)
{
    rtm_status why;
    uint32_t index;
    if (need > RTM_CHUNK_LARGE) {
        unsigned char *c = chunk_new(in, RTM_CHUNK_HEADER + need, &index, &why);
        if (c == NULL) return why;
        *soff = ((uint64_t)index << RTM_SOFF_CHUNK_SHIFT) | RTM_CHUNK_HEADER;
        *rec = c + RTM_CHUNK_HEADER;
        rtm_track_internal(*rec, need);
        return RTM_OK;
    }
    if (in->chunk == NULL || in->chunk_used + need > in->chunk_size) {
        size_t size = in->chunk ? in->chunk_size * 2 : RTM_CHUNK_FIRST;
        if (size > RTM_CHUNK_MAX) size = RTM_CHUNK_MAX;
        while (size - RTM_CHUNK_HEADER < need) size *= 2;
        unsigned char *c = chunk_new(in, size, &index, &why);
        if (c == NULL) return why;
        in->chunk = c;
        in->chunk_used = RTM_CHUNK_HEADER;
        in->chunk_size = (uint32_t)size;
        in->chunk_index = index;
    }
    *soff = ((uint64_t)in->chunk_index << RTM_SOFF_CHUNK_SHIFT) | in->chunk_used;
    *rec = in->chunk + in->chunk_used;
    in->chunk_used += (uint32_t)need;
    rtm_track_internal(*rec, need);
    return RTM_OK;
}

/* ---- reserve and publish ----------------------------------------------------------- */

/* Takes an id and the space for a record of len bytes, all or nothing.
 * RTM_ELIMIT when the id space or the 65535 chunks are used up; RTM_EINVAL for a
 * keyword of the caller's own list once ordinary strings have ids; the page
 * source's refusal otherwise. */
rtm_status _rtm_store_reserve(rtm_interner *in, size_t len, rtm_intern_kind kind, rtm_sym fixed,
                              rtm_sym *id, uint64_t *soff, unsigned char **rec)
{
    rtm_status st;
    rtm_sym want;
    pthread_mutex_lock(&in->alloc_lock);
    uint32_t next = atomic_load_explicit(&in->next_id, memory_order_relaxed);
    if (kind == RTM_INTERN_FIXED) {
        want = fixed;
    } else if (kind == RTM_INTERN_KEYWORD &&
               atomic_load_explicit(&in->kw_last, memory_order_relaxed) != next - 1) {
        st = RTM_EINVAL;
        goto out;
    } else if (next > in->max_sym) {
        st = RTM_ELIMIT;
        goto out;
    } else {
        want = next;
    }
    if ((st = idmap_reserve(in, want)) != RTM_OK) goto out;
    if ((st = space(in, rtm_rec_size(len), soff, rec)) != RTM_OK) goto out;
    /* Committed: nothing below can fail. */
    *id = want;
    if (kind != RTM_INTERN_FIXED) atomic_store_explicit(&in->next_id, next + 1, memory_order_release);
    if (kind == RTM_INTERN_KEYWORD) atomic_store_explicit(&in->kw_last, next, memory_order_relaxed);
    atomic_store_explicit(&in->strings, atomic_load_explicit(&in->strings, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&in->string_bytes,
                          atomic_load_explicit(&in->string_bytes, memory_order_relaxed) + len + 1,
                          memory_order_relaxed);
out:
    pthread_mutex_unlock(&in->alloc_lock);
    return st;
}

/* Writes the record and its id-map entry. Then the caller publishes the slot. */
void _rtm_store_publish(rtm_interner *in, rtm_sym id, uint64_t soff, unsigned char *rec,
                        const char *s, size_t len)
{
    memcpy(rec, &id, 4);
    unsigned char *bytes;
    if (len < RTM_REC_LONG) {
        rec[4] = (unsigned char)len;
        bytes = rec + 5;
    } else {
        uint32_t l = (uint32_t)len;
        rec[4] = RTM_REC_LONG;
        memcpy(rec + 5, &l, 4);
        bytes = rec + 9;
    }
    if (len) memcpy(bytes, s, len);
    bytes[len] = '\0';
    atomic_store_explicit(idmap_entry(in, id), (uint32_t)soff, memory_order_release);
}

/* ---- check and destroy --------------------------------------------------------------- */

/* Whether soff lies inside a chunk, with room for at least a header. */
bool _rtm_store_soff_valid(const rtm_interner *in, uint64_t soff)
{
    uint64_t index = soff >> RTM_SOFF_CHUNK_SHIFT, off = soff & ((1u << RTM_SOFF_CHUNK_SHIFT) - 1);
    if (index == 0 || index >= in->nchunks || off < RTM_CHUNK_HEADER) return false;
    rtm_ptrs *t = atomic_load_explicit(&((rtm_interner *)in)->chunks, memory_order_acquire);
    const unsigned char *c = atomic_load_explicit(&t->ptr[index], memory_order_acquire);
    return c != NULL && off + 6 <= chunk_size(c);
}

/* Every id below next_id either has no record (a reserved keyword id not
 * seeded) or names a record in a chunk that carries that id; the strings and
 * their bytes add up. Adds the store's page bytes to *held. */
rtm_status _rtm_store_check(rtm_interner *in, uint64_t *held)
{
    uint32_t next = atomic_load_explicit(&in->next_id, memory_order_acquire);
    uint64_t strings = 0, bytes = 0;
    for (rtm_sym id = 1; id < next; id++) {
        uint64_t soff = _rtm_store_soff(in, id);
        if (soff == 0) {
            if (id > RTM_KW_COUNT) return RTM_EINVAL; /* only reserved ids may be holes */
            continue;
        }
        if (!_rtm_store_soff_valid(in, soff)) return RTM_EINVAL;
        const unsigned char *rec = rtm_rec_at(in, soff);
        size_t len;
        const unsigned char *b = rtm_rec_bytes(rec, &len);
        if (rtm_load32(rec) != id || b[len] != '\0') return RTM_EINVAL;
        strings++;
        bytes += len + 1;
    }
    if (strings != atomic_load(&in->strings) || bytes != atomic_load(&in->string_bytes))
        return RTM_EINVAL;
    rtm_ptrs *c = atomic_load_explicit(&in->chunks, memory_order_acquire);
    for (uint32_t i = 1; i < in->nchunks; i++)
        *held += chunk_size(atomic_load_explicit(&c->ptr[i], memory_order_relaxed));
    rtm_ptrs *s = atomic_load_explicit(&in->idsegs, memory_order_acquire);
    for (size_t i = 0; i < s->cap; i++)
        if (atomic_load_explicit(&s->ptr[i], memory_order_relaxed) != NULL)
            *held += RTM_IDSEG_IDS * sizeof(uint32_t);
    for (rtm_ptrs *t = c; t != NULL; t = t->prev) *held += t->bytes;
    for (rtm_ptrs *t = s; t != NULL; t = t->prev) *held += t->bytes;
    return RTM_OK;
}

static void ptrs_free(rtm_interner *in, rtm_ptrs *t)
{
    while (t != NULL) {
        rtm_ptrs *prev = t->prev;
        if (t->bytes) _rtm_intern_unpages(in, t, t->bytes);
        t = prev;
    }
}

void _rtm_store_destroy(rtm_interner *in)
{
    rtm_ptrs *c = atomic_load_explicit(&in->chunks, memory_order_relaxed);
    rtm_ptrs *s = atomic_load_explicit(&in->idsegs, memory_order_relaxed);
    if (c == NULL || s == NULL) return;
    for (uint32_t i = 1; i < in->nchunks; i++) {
        unsigned char *chunk = atomic_load_explicit(&c->ptr[i], memory_order_relaxed);
        size_t size = chunk_size(chunk);
        rtm_track_internal(chunk, size); /* no poison left behind in unmapped memory */
        _rtm_intern_unpages(in, chunk, size);
    }
    for (size_t i = 0; i < s->cap; i++) {
        void *seg = atomic_load_explicit(&s->ptr[i], memory_order_relaxed);
        if (seg != NULL) _rtm_intern_unpages(in, seg, RTM_IDSEG_IDS * sizeof(uint32_t));
    }
    ptrs_free(in, c);
    ptrs_free(in, s);
    atomic_store_explicit(&in->chunks, NULL, memory_order_relaxed);
    atomic_store_explicit(&in->idsegs, NULL, memory_order_relaxed);
}
