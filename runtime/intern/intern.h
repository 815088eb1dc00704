/*
 * intern.h: the interner's structures and its lock-free lookup, shared by
 * the files of runtime/intern. The design is explained at the top of
 * interner.c; the short version:
 *
 *   hash(s) --low bits--> directory --> leaf (4 KiB, open addressing)
 *                                         slot = [ string offset | hash tag ]
 *                                                      |
 *   id --> id map (4 KiB segments) --> string offset --> record in a chunk:
 *                                                        [id][len][bytes][NUL]
 *
 * Everything a lookup reads is either immutable once published (records,
 * chunk and id-map segments, retired directories) or an atomic word
 * (directory entries, slots), so a lookup takes no lock and writes nothing
 * shared. Memory is only ever given back when the interner dies.
 */
#ifndef RTM_INTERN_H
#define RTM_INTERN_H

#include "../mem/internal.h"

#include <string.h>

/* ---- sizes and limits ---------------------------------------------------- */

#define RTM_LEAF_BYTES 4096u
#define RTM_LEAF_HEADER 64u
#define RTM_LEAF_SLOTS ((RTM_LEAF_BYTES - RTM_LEAF_HEADER) / 8u)   /* 504 */
#define RTM_LEAF_MAX_COUNT (RTM_LEAF_SLOTS * 13u / 16u)            /* split above 81% */
#define RTM_DIR_MAX_DEPTH 24u          /* bits of the tag that may pick the leaf */
#define RTM_DIR_SMALL_DEPTH 5u         /* depths 0..5 live inside the interner */

#define RTM_CHUNK_HEADER 16u           /* records start at offset 16 */
#define RTM_CHUNK_FIRST 4096u
#define RTM_CHUNK_MAX 65536u           /* offsets are 16 bits */
#define RTM_CHUNK_LARGE (RTM_CHUNK_MAX / 4u) /* a record above this gets a chunk of its own */

#define RTM_IDSEG_SHIFT 10u            /* 1024 ids per 4 KiB id-map segment */
#define RTM_IDSEG_IDS (1u << RTM_IDSEG_SHIFT)

#define RTM_PTRS_SMALL 32u             /* chunk and segment tables inside the interner */
#define RTM_INTERN_SHARDS 32u          /* counter shards, one cache line each */

/* A string offset: a record's chunk index << 16 | its offset in the chunk,
 * 32 bits, so at most 65535 chunks (4 GiB of records). A slot: the string
 * offset over 32 bits of the hash as a tag. 0 is empty: chunk 0 is unused. */
#define RTM_SLOT_TAG_BITS 32u
#define RTM_SLOT_TAG_MASK ((UINT64_C(1) << RTM_SLOT_TAG_BITS) - 1)
#define RTM_SOFF_CHUNK_SHIFT 16u
#define RTM_SOFF_MAX_CHUNKS (UINT64_C(1) << 16)

/* Records: [id: 4][len: 1, or 255 then 4][bytes][NUL], byte-packed. */
#define RTM_REC_LONG 255u

/* ---- structures ---------------------------------------------------------- */

/* A leaf of the directory: open addressing with linear probing over its
 * slots. Inserts and its split hold `lock`. A leaf that was split is kept
 * for reuse; reusing it bumps `gen`, which lets a lookup that raced with the
 * reuse notice (see _rtm_intern_find_slow). */
typedef struct rtm_leaf {
    union {
        struct {
            pthread_mutex_t lock;
            _Atomic uint32_t gen;
            uint16_t count;          /* used slots (under lock) */
            uint8_t depth;           /* low hash bits all its strings share */
            uint8_t spare_byte;
            uint32_t prefix;         /* those bits */
            struct rtm_leaf *next;   /* the spare list */
        } h;
        char pad[RTM_LEAF_HEADER];
    } u;
    _Atomic uint64_t slot[RTM_LEAF_SLOTS];
} rtm_leaf;

/* The directory: 1 << depth entries, indexed by the low `depth` bits of the
 * hash. A leaf of depth d serves the entries equal to its prefix in their low
 * d bits. It only grows; a replaced one is kept (readers may still hold it). */
typedef struct rtm_dir {
    uint32_t depth;
    uint32_t mask;                   /* (1 << depth) - 1 */
    uint32_t from_pages;             /* 0: one of the small ones beside the interner */
    size_t bytes;
    struct rtm_dir *prev;
    _Atomic(rtm_leaf *) leaf[];
} rtm_dir;

/* A grow-only table of pointers (chunks, id-map segments); replaced copies are
 * kept for readers, like directories. */
typedef struct rtm_ptrs {
    size_t cap;
    size_t bytes;                    /* 0: the small one beside the interner */
    struct rtm_ptrs *prev;
    void *_Atomic ptr[];
} rtm_ptrs;

/* The small directories (depths 0..RTM_DIR_SMALL_DEPTH) and the first chunk
 * and segment tables live in the interner's own page, after the struct. */
#define RTM_INTERN_SMALL_BYTES                                                   \
    ((RTM_DIR_SMALL_DEPTH + 1) * sizeof(rtm_dir) +                               \
     ((2u << RTM_DIR_SMALL_DEPTH) - 1) * sizeof(rtm_leaf *) +                    \
     2 * (sizeof(rtm_ptrs) + RTM_PTRS_SMALL * sizeof(void *)))

/* Lookup counters. A thread writes the shard of its ordinal, so the hit path
 * writes only a line no other thread writes, unless more than
 * RTM_INTERN_SHARDS threads intern at once (then counts may drop a few). */
typedef struct rtm_intern_shard {
    _Alignas(RTM_CACHE_LINE) _Atomic uint64_t hits;
    _Atomic uint64_t misses;         /* lookups = hits + misses */
    _Atomic uint64_t saved;
} rtm_intern_shard;

struct rtm_interner {
    /* Read by every lookup, written only when a table grows. */
    _Alignas(RTM_CACHE_LINE) _Atomic(rtm_dir *) dir;
    _Atomic(rtm_ptrs *) chunks;
    _Atomic(rtm_ptrs *) idsegs;
    uint64_t seed;
    rtm_ctx *ctx;                    /* where memory comes from and errors go */
    _Atomic uint32_t kw_last;        /* last keyword id */
    uint8_t standalone;              /* made by rtm_interner_new: owns ctx */
    uint8_t sets;                    /* mask of the seeded keyword sets */

    /* Inserts. Lock order: a leaf, then dir_lock, then alloc_lock. */
    _Alignas(RTM_CACHE_LINE) _Atomic uint32_t next_id; /* ids below it are handed out */
    uint32_t max_sym;                /* largest id it may hand out */
    uint32_t max_chunks;             /* RTM_SOFF_MAX_CHUNKS; lower in tests */
    pthread_mutex_t dir_lock;        /* splits, directory */
    rtm_leaf *spare;                 /* split leaves, for reuse */
    pthread_mutex_t alloc_lock;      /* ids, string space, id map */
    unsigned char *chunk;            /* the chunk being filled */
    uint32_t chunk_used, chunk_size, chunk_index, nchunks;
    _Atomic uint64_t strings, string_bytes, held_bytes;
    _Atomic int error;
    uint64_t kw_present[(RTM_KW_COUNT + 64) / 64]; /* seeded reserved ids */

    rtm_owned owned;                 /* link in the context's list */
    rtm_dir *dir_small[RTM_DIR_SMALL_DEPTH + 1];
    rtm_ptrs *chunks_small, *idsegs_small;

    rtm_intern_shard shard[RTM_INTERN_SHARDS];
};

/* ---- unaligned loads ------------------------------------------------------ */

RTM_INLINE uint64_t rtm_load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
RTM_INLINE uint32_t rtm_load32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* ---- the hash --------------------------------------------------------------
 * 64 bits from a 64x64->128 multiply folded (the "mum" step of wyhash-like
 * hashes), two multiplies for up to 16 bytes. Only bits 0..31 are used, and
 * kept in the slot as its tag: the low ones pick the leaf, the high ones the
 * home slot in it (independent up to depth 23, some 2 billion strings). As the
 * slot holds all a split needs, a split never reads a string again. */
#define RTM_H0 UINT64_C(0x9E3779B97F4A7C15)
#define RTM_H1 UINT64_C(0xBF58476D1CE4E5B9)
#define RTM_H2 UINT64_C(0x94D049BB133111EB)

RTM_INLINE uint64_t rtm_mum(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
    uint64_t lo = a * b;
    uint64_t hi = (a >> 32) * (b >> 32) + (((a >> 32) * (b & 0xFFFFFFFFu)) >> 32) +
                  (((a & 0xFFFFFFFFu) * (b >> 32)) >> 32);
    return lo ^ hi;
#endif
}

RTM_INLINE uint64_t rtm_hash(const void *data, size_t n, uint64_t seed)
{
    const unsigned char *p = (const unsigned char *)data;
    uint64_t a, b, h = seed ^ ((uint64_t)n * RTM_H0);
    if (RTM_LIKELY(n <= 16)) {
        if (n >= 8) {
            a = rtm_load64(p);
            b = rtm_load64(p + n - 8);
        } else if (n >= 4) {
            a = rtm_load32(p);
            b = rtm_load32(p + n - 4);
        } else if (n > 0) {
            a = ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | p[n - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = n;
        while (i > 16) {
            h = rtm_mum(rtm_load64(p) ^ RTM_H1, rtm_load64(p + 8) ^ h);
            p += 16;
            i -= 16;
        }
        a = rtm_load64(p + i - 16);
        b = rtm_load64(p + i - 8);
    }
    return rtm_mum(rtm_mum(a ^ RTM_H1, b ^ h ^ RTM_H2) ^ RTM_H0, h ^ RTM_H2);
}

/* Equal bytes, for short strings without a call. */
RTM_INLINE bool rtm_bytes_eq(const unsigned char *a, const unsigned char *b, size_t n)
{
    if (n <= 16) {
        if (n >= 8)
            return ((rtm_load64(a) ^ rtm_load64(b)) |
                    (rtm_load64(a + n - 8) ^ rtm_load64(b + n - 8))) == 0;
        if (n >= 4)
            return ((rtm_load32(a) ^ rtm_load32(b)) |
                    (rtm_load32(a + n - 4) ^ rtm_load32(b + n - 4))) == 0;
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i]) return false;
        return true;
    }
    /* No call: the lookup that inlines this stays a leaf function. */
    size_t i = 0;
    for (; i + 8 < n; i += 8)
        if (rtm_load64(a + i) != rtm_load64(b + i)) return false;
    return rtm_load64(a + n - 8) == rtm_load64(b + n - 8);
}

/* ---- addressing ------------------------------------------------------------ */

RTM_INLINE uint32_t rtm_dir_index(uint64_t h, uint32_t depth)
{
    return (uint32_t)h & (uint32_t)((UINT64_C(1) << depth) - 1);
}

RTM_INLINE uint32_t rtm_slot_home(uint64_t h)
{
    return (uint32_t)(((uint64_t)(uint32_t)h * RTM_LEAF_SLOTS) >> 32);
}

/* The record at a string offset. Whoever published the slot or id-map entry
 * published the chunk and the table first. */
RTM_INLINE const unsigned char *rtm_rec_at(const rtm_interner *in, uint64_t soff)
{
    rtm_ptrs *c = atomic_load_explicit(&((rtm_interner *)in)->chunks, memory_order_relaxed);
    const unsigned char *base = (const unsigned char *)atomic_load_explicit(
        &c->ptr[soff >> RTM_SOFF_CHUNK_SHIFT], memory_order_relaxed);
    return base + (soff & ((1u << RTM_SOFF_CHUNK_SHIFT) - 1));
}

/* A record's length and bytes. */
RTM_INLINE const unsigned char *rtm_rec_bytes(const unsigned char *rec, size_t *len)
{
    unsigned short1 = rec[4];
    if (RTM_LIKELY(short1 != RTM_REC_LONG)) {
        *len = short1;
        return rec + 5;
    }
    *len = rtm_load32(rec + 5);
    return rec + 9;
}

RTM_INLINE size_t rtm_rec_size(size_t len)
{
    return 4 + (len < RTM_REC_LONG ? 1 : 5) + len + 1;
}

/* ---- the lookup --------------------------------------------------------------
 * Probes one leaf for (h, s, len): the id, or 0. Stops at an empty slot, or
 * after a full turn (only a leaf being reused under a slow reader can look
 * full). Every nonzero slot names a record that is complete and immutable,
 * and the bytes are compared, so a stale leaf can cause a miss, never a
 * wrong id. */
RTM_INLINE rtm_sym rtm_leaf_probe(const rtm_interner *in, rtm_leaf *leaf, uint64_t h,
                                  const unsigned char *s, size_t len)
{
    uint32_t i = rtm_slot_home(h);
    uint64_t tag = h & RTM_SLOT_TAG_MASK;
    for (uint32_t n = 0; n < RTM_LEAF_SLOTS; n++) {
        uint64_t e = atomic_load_explicit(&leaf->slot[i], memory_order_acquire);
        if (e == 0) return 0;
        if ((e & RTM_SLOT_TAG_MASK) == tag) {
            const unsigned char *rec = rtm_rec_at(in, e >> RTM_SLOT_TAG_BITS);
            size_t rlen;
            const unsigned char *bytes = rtm_rec_bytes(rec, &rlen);
            if (rlen == len && rtm_bytes_eq(bytes, s, len)) return rtm_load32(rec);
        }
        if (++i == RTM_LEAF_SLOTS) i = 0;
    }
    return 0;
}

RTM_INLINE rtm_leaf *rtm_leaf_for(rtm_interner *in, uint64_t h)
{
    rtm_dir *d = atomic_load_explicit(&in->dir, memory_order_acquire);
    return atomic_load_explicit(&d->leaf[(uint32_t)h & d->mask], memory_order_acquire);
}

/* ---- across the files ---------------------------------------------------- */

typedef struct rtm_kw_word {
    const char *s;
    unsigned char len;
} rtm_kw_word;

/* What an insert is: an ordinary string (takes the next id), a keyword of the
 * caller's own list (takes the next id while only keywords have ids), or a
 * shipped keyword at its fixed id. */
typedef enum rtm_intern_kind { RTM_INTERN_PLAIN, RTM_INTERN_KEYWORD, RTM_INTERN_FIXED } rtm_intern_kind;

/* interner.c */
rtm_status _rtm_interner_make(rtm_ctx *ctx, int standalone, unsigned sets, rtm_interner **out);
void _rtm_interner_discard(rtm_interner *in);
rtm_sym _rtm_intern_insert(rtm_interner *in, uint64_t h, const char *s, size_t len,
                           rtm_intern_kind kind, rtm_sym fixed, rtm_status *st);
rtm_sym _rtm_interner_fail(rtm_interner *in, rtm_status s, const char *where);
void *_rtm_intern_pages(rtm_interner *in, size_t bytes, rtm_status *why);
void _rtm_intern_unpages(rtm_interner *in, void *p, size_t bytes);

/* intern_table.c: leaves and the directory */
unsigned char *_rtm_table_init(rtm_interner *in, unsigned char *space);
rtm_status _rtm_table_split(rtm_interner *in, rtm_leaf *leaf);
rtm_status _rtm_table_check(rtm_interner *in, uint64_t *slots, uint64_t *held);
void _rtm_table_destroy(rtm_interner *in);
bool _rtm_leaf_is_empty(const rtm_leaf *leaf);

/* intern_store.c: records, chunks, the id map */
void _rtm_store_init(rtm_interner *in, unsigned char *space);
bool _rtm_store_soff_valid(const rtm_interner *in, uint64_t soff);
rtm_status _rtm_store_reserve(rtm_interner *in, size_t len, rtm_intern_kind kind,
                              rtm_sym fixed, rtm_sym *id, uint64_t *soff,
                              unsigned char **rec);
void _rtm_store_publish(rtm_interner *in, rtm_sym id, uint64_t soff, unsigned char *rec,
                        const char *s, size_t len);
uint64_t _rtm_store_soff(const rtm_interner *in, rtm_sym id); /* 0: none */
rtm_status _rtm_store_check(rtm_interner *in, uint64_t *held);
void _rtm_store_destroy(rtm_interner *in);

/* keywords.c */
rtm_status _rtm_kw_parse(const char *const *names, unsigned *sets);
rtm_status _rtm_kw_seed(rtm_interner *in, unsigned sets);

/* For tests: lowers the largest id the interner may hand out, so a test can
 * use up the id space cheaply. RTM_EINVAL if max is below an id handed out. */
rtm_status _rtm_interner_set_max_sym(rtm_interner *in, uint32_t max);

/* For tests: lowers the number of string chunks the interner may hold, so a
 * test can run out of string offsets cheaply. RTM_EINVAL if below those held. */
rtm_status _rtm_interner_set_max_chunks(rtm_interner *in, uint32_t max);

#endif /* RTM_INTERN_H */
