/*
 * intern_table.c: the interner's hash table, an extendible hash. A directory
 * indexed by the low bits of the hash points at 4 KiB leaves, each an
 * open-addressing table; a full leaf splits into two by the next hash bit,
 * so growth copies one leaf at a time and the table's memory follows the
 * number of strings leaf by leaf (no doubling spikes, no second table kept).
 * A slot keeps the hash bits that pick both its leaf and its home slot, so a
 * split moves slots without touching the strings.
 *
 * Readers never lock. What makes that safe:
 *  - a split fills two other leaves, publishes them in the directory, and only
 *    then retires the old leaf, untouched, to the spare list; a reader still
 *    in it finds what it held;
 *  - a spare leaf is reused by a later split. Reuse makes its generation odd,
 *    refills it with atomic stores, and makes it even again before publishing
 *    it, so a reader that must trust a miss (rtm_intern_find) checks the
 *    generation and the directory around its probe (find_miss in interner.c);
 *  - a directory is replaced, never changed in size; the old one stays valid
 *    (it is small) until the interner dies.
 * Every slot names a complete, immutable record, and lookups compare bytes, so
 * no interleaving can produce a wrong id; at worst a miss, which rtm_intern
 * settles under the leaf's lock.
 */
#include "intern.h"

#include "../mem/track.h"

/* The leaf every directory entry of an empty interner points at: probing it
 * misses at once, so the fast path needs no NULL test. Never written. */
static rtm_leaf rtm_leaf_empty;

bool _rtm_leaf_is_empty(const rtm_leaf *leaf) { return leaf == &rtm_leaf_empty; }

/* Puts a slot in its probe sequence in a leaf being filled, not yet published.
 * Its home comes from its tag, the hash's low 32 bits. A release store: a
 * slow reader still in this leaf from its previous life may read the slot
 * before the leaf is published, and must then see the record it names. */
static void leaf_place(rtm_leaf *leaf, uint64_t e)
{
    uint32_t i = rtm_slot_home(e);
    while (atomic_load_explicit(&leaf->slot[i], memory_order_relaxed) != 0)
        if (++i == RTM_LEAF_SLOTS) i = 0;
    atomic_store_explicit(&leaf->slot[i], e, memory_order_release);
}

/* ---- leaves ---------------------------------------------------------------- */

/* A leaf to fill: a spare one (made odd, then emptied), or a new one. Under
 * dir_lock. */
static rtm_leaf *leaf_take(rtm_interner *in, rtm_status *why)
{
    rtm_leaf *leaf = in->spare;
    if (leaf != NULL) {
        in->spare = leaf->u.h.next;
        uint32_t g = atomic_load_explicit(&leaf->u.h.gen, memory_order_relaxed);
        atomic_store_explicit(&leaf->u.h.gen, g + 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_release); /* odd before any slot changes */
        for (uint32_t i = 0; i < RTM_LEAF_SLOTS; i++)
            atomic_store_explicit(&leaf->slot[i], 0, memory_order_relaxed);
        return leaf;
    }
    leaf = _rtm_intern_pages(in, RTM_LEAF_BYTES, why);
    if (leaf == NULL) return NULL;
    if (pthread_mutex_init(&leaf->u.h.lock, NULL) != 0) {
        _rtm_intern_unpages(in, leaf, RTM_LEAF_BYTES);
        *why = RTM_ENOMEM;
        return NULL;
    }
    atomic_store_explicit(&leaf->u.h.gen, 1, memory_order_relaxed); /* odd while filled */
    return leaf;
}

/* Gives a leaf nobody can newly reach to the spare list. Under dir_lock. */
static void leaf_give(rtm_interner *in, rtm_leaf *leaf)
{
    leaf->u.h.next = in->spare;
    in->spare = leaf;
}

/* Sets a filled leaf's place and makes its generation even: it may now be
 * published. */
static void leaf_ready(rtm_leaf *leaf, uint32_t depth, uint32_t prefix, uint32_t count)
{
    leaf->u.h.depth = (uint8_t)depth;
    leaf->u.h.prefix = prefix;
    leaf->u.h.count = (uint16_t)count;
    uint32_t g = atomic_load_explicit(&leaf->u.h.gen, memory_order_relaxed);
    atomic_store_explicit(&leaf->u.h.gen, g + 1, memory_order_release);
}

/* ---- the directory ----------------------------------------------------------- */

/* Replaces the directory by one twice its size: entry j and j + half serve
 * the same leaf until one splits. Under dir_lock. */
static rtm_status dir_grow(rtm_interner *in, rtm_dir **dp)
{
    rtm_dir *d = *dp, *nd;
    uint32_t depth = d->depth + 1;
    size_t n = (size_t)1 << depth;
    if (depth <= RTM_DIR_SMALL_DEPTH) {
        nd = in->dir_small[depth];
    } else {
        size_t bytes;
        rtm_status why;
        if (rtm_mul_overflow(n, sizeof(rtm_leaf *), &bytes) ||
            rtm_add_overflow(bytes, sizeof(rtm_dir), &bytes))
            return RTM_ENOMEM;
        nd = _rtm_intern_pages(in, bytes, &why);
        if (nd == NULL) return why;
        nd->from_pages = 1;
        nd->bytes = bytes;
    }
    nd->depth = depth;
    nd->mask = (uint32_t)(n - 1);
    nd->prev = d;
    for (size_t i = 0; i < n / 2; i++) {
        rtm_leaf *l = atomic_load_explicit(&d->leaf[i], memory_order_relaxed);
        atomic_store_explicit(&nd->leaf[i], l, memory_order_relaxed);
        atomic_store_explicit(&nd->leaf[i + n / 2], l, memory_order_relaxed);
    }
    atomic_store_explicit(&in->dir, nd, memory_order_release);
    *dp = nd;
    return RTM_OK;
}

/* space: room for the small directories, zeroed. */
unsigned char *_rtm_table_init(rtm_interner *in, unsigned char *space)
{
    for (uint32_t depth = 0; depth <= RTM_DIR_SMALL_DEPTH; depth++) {
        in->dir_small[depth] = (rtm_dir *)(void *)space;
        in->dir_small[depth]->depth = depth;
        in->dir_small[depth]->mask = (1u << depth) - 1;
        space += sizeof(rtm_dir) + (sizeof(rtm_leaf *) << depth);
    }
    rtm_dir *d = in->dir_small[0];
    atomic_store_explicit(&d->leaf[0], &rtm_leaf_empty, memory_order_relaxed);
    atomic_store_explicit(&in->dir, d, memory_order_release);
    return space;
}

/* ---- growth ------------------------------------------------------------------ */

/* The first leaf, in place of the empty one. */
static rtm_status table_first(rtm_interner *in)
{
    rtm_status st = RTM_OK;
    pthread_mutex_lock(&in->dir_lock);
    rtm_dir *d = atomic_load_explicit(&in->dir, memory_order_relaxed);
    if (d->depth == 0 && atomic_load_explicit(&d->leaf[0], memory_order_relaxed) == &rtm_leaf_empty) {
        rtm_leaf *leaf = leaf_take(in, &st);
        if (leaf != NULL) {
            leaf_ready(leaf, 0, 0, 0);
            atomic_store_explicit(&d->leaf[0], leaf, memory_order_release);
        }
    }
    pthread_mutex_unlock(&in->dir_lock);
    return st;
}

/* Splits a full leaf (the caller holds its lock) into two by the next hash
 * bit, or makes the first leaf when given the empty one. On failure nothing
 * changed: the leaf still serves its strings, and a retry may succeed. */
rtm_status _rtm_table_split(rtm_interner *in, rtm_leaf *leaf)
{
    if (leaf == &rtm_leaf_empty) return table_first(in);
    rtm_status st = RTM_OK;
    pthread_mutex_lock(&in->dir_lock);
    rtm_dir *d = atomic_load_explicit(&in->dir, memory_order_relaxed);
    uint32_t depth = leaf->u.h.depth, prefix = leaf->u.h.prefix;
    rtm_leaf *half[2] = {NULL, NULL};
    uint32_t count[2] = {0, 0};
    if (depth >= RTM_DIR_MAX_DEPTH) { /* hundreds of strings share 24 hash bits */
        st = RTM_ELIMIT;
        goto out;
    }
    if (depth == d->depth && (st = dir_grow(in, &d)) != RTM_OK) goto out;
    if ((half[0] = leaf_take(in, &st)) == NULL) goto out;
    if ((half[1] = leaf_take(in, &st)) == NULL) {
        leaf_ready(half[0], 0, 0, 0);
        leaf_give(in, half[0]);
        goto out;
    }
    for (uint32_t i = 0; i < RTM_LEAF_SLOTS; i++) {
        uint64_t e = atomic_load_explicit(&leaf->slot[i], memory_order_relaxed);
        if (e == 0) continue;
        unsigned side = (unsigned)(e >> depth) & 1; /* the tag's next bit */
        leaf_place(half[side], e);
        count[side]++;
    }
    leaf_ready(half[0], depth + 1, prefix, count[0]);
    leaf_ready(half[1], depth + 1, prefix | (1u << depth), count[1]);
    /* The leaf's entries (every 2^depth-th from its prefix) go to the side
     * their next bit names. */
    for (size_t j = prefix; j <= d->mask; j += (size_t)1 << depth)
        atomic_store_explicit(&d->leaf[j], half[(j >> depth) & 1], memory_order_release);
    leaf_give(in, leaf);
out:
    pthread_mutex_unlock(&in->dir_lock);
    return st;
}

/* ---- check and destroy ---------------------------------------------------------- */

/* Verifies every leaf reachable from the directory: its entries, its count,
 * and that each slot's string hashes to this leaf and this tag, can be found
 * from its home slot, and is the one its id names. Adds the slots to *slots,
 * and the table's page bytes to *held. Needs no concurrent insert. */
rtm_status _rtm_table_check(rtm_interner *in, uint64_t *slots, uint64_t *held)
{
    rtm_dir *d = atomic_load_explicit(&in->dir, memory_order_acquire);
    if (d->mask != (UINT64_C(1) << d->depth) - 1) return RTM_EINVAL;
    for (size_t j = 0; j <= d->mask; j++) {
        rtm_leaf *leaf = atomic_load_explicit(&d->leaf[j], memory_order_relaxed);
        if (leaf == &rtm_leaf_empty) {
            if (d->depth != 0) return RTM_EINVAL;
            continue;
        }
        uint32_t depth = leaf->u.h.depth;
        if (depth > d->depth || (atomic_load(&leaf->u.h.gen) & 1)) return RTM_EINVAL;
        if (rtm_dir_index(j, depth) != leaf->u.h.prefix) return RTM_EINVAL;
        if (j != leaf->u.h.prefix) continue; /* a leaf is checked at its first entry */
        uint32_t used = 0;
        for (uint32_t i = 0; i < RTM_LEAF_SLOTS; i++) {
            uint64_t e = atomic_load_explicit(&leaf->slot[i], memory_order_relaxed);
            if (e == 0) continue;
            used++;
            uint64_t soff = e >> RTM_SLOT_TAG_BITS;
            if (!_rtm_store_soff_valid(in, soff)) return RTM_EINVAL;
            const unsigned char *rec = rtm_rec_at(in, soff);
            size_t len;
            const unsigned char *bytes = rtm_rec_bytes(rec, &len);
            uint64_t h = rtm_hash(bytes, len, in->seed);
            if ((h & RTM_SLOT_TAG_MASK) != (e & RTM_SLOT_TAG_MASK)) return RTM_EINVAL;
            if (rtm_dir_index(h, depth) != leaf->u.h.prefix) return RTM_EINVAL;
            for (uint32_t p = rtm_slot_home(h); p != i; p = p + 1 == RTM_LEAF_SLOTS ? 0 : p + 1)
                if (atomic_load_explicit(&leaf->slot[p], memory_order_relaxed) == 0)
                    return RTM_EINVAL; /* unreachable from its home slot */
            if (_rtm_store_soff(in, rtm_load32(rec)) != soff) return RTM_EINVAL;
        }
        if (used != leaf->u.h.count || used > RTM_LEAF_MAX_COUNT) return RTM_EINVAL;
        *slots += used;
        *held += RTM_LEAF_BYTES;
    }
    for (rtm_leaf *l = in->spare; l != NULL; l = l->u.h.next) *held += RTM_LEAF_BYTES;
    for (rtm_dir *p = d; p != NULL; p = p->prev)
        if (p->from_pages) *held += _rtm_pages_round(p->bytes);
    return RTM_OK;
}

static void leaf_free(rtm_interner *in, rtm_leaf *leaf)
{
    pthread_mutex_destroy(&leaf->u.h.lock);
    _rtm_intern_unpages(in, leaf, RTM_LEAF_BYTES);
}

/* Releases every leaf and directory. Nobody may use the interner any more. */
void _rtm_table_destroy(rtm_interner *in)
{
    rtm_dir *d = atomic_load_explicit(&in->dir, memory_order_relaxed);
    if (d == NULL) return;
    /* Every live leaf once (at its first entry) onto the spare list, then
     * the list: a leaf is freed only when no entry is left to read. */
    for (size_t j = 0; j <= d->mask; j++) {
        rtm_leaf *leaf = atomic_load_explicit(&d->leaf[j], memory_order_relaxed);
        if (leaf != &rtm_leaf_empty && j == leaf->u.h.prefix) leaf_give(in, leaf);
    }
    while (in->spare != NULL) {
        rtm_leaf *leaf = in->spare;
        in->spare = leaf->u.h.next;
        leaf_free(in, leaf);
    }
    while (d != NULL) {
        rtm_dir *prev = d->prev;
        if (d->from_pages) _rtm_intern_unpages(in, d, d->bytes);
        d = prev;
    }
    atomic_store_explicit(&in->dir, NULL, memory_order_relaxed);
}
