/*
 * pool_id.c: the process-wide registry of pool identities.
 *
 * One entry per pool identity, for the life of the process: the live pool
 * holding it (so RTM_SCOPED can find a handle's pool), and the first
 * generation its next holder may use. Identities are reused last-in first-out
 * once their pool is destroyed, unless their generations are half spent: a
 * new holder starts above every generation the old one handed out, so an old
 * handle can never match (pool.h, rtmem.h). The table (4 MiB of address
 * space, touched only as identities are used) comes from the OS on the first
 * rtm_pool_new and is never freed, like the page map.
 */
#include "pool.h"

typedef struct id_entry {
    _Atomic(rtm_pool *) pool;
    uint32_t floor;
    uint32_t next_free; /* 0 ends the stack */
} id_entry;

static pthread_mutex_t ids_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(id_entry *) ids;
static uint32_t ids_fresh = 1;  /* the next identity never used; 0 is never one */
static uint32_t ids_free;       /* top of the stack of reusable identities */
static uint32_t ids_live;
static uint32_t ids_cap = RTM_POOL_ID_MAX;

#define IDS_BYTES ((size_t)(RTM_POOL_ID_MAX + 1) * sizeof(id_entry))

/* Takes an identity and the generation its pool starts at. */
rtm_status _rtm_pool_id_take(uint32_t *id, uint32_t *floor)
{
    rtm_status s = RTM_OK;
    pthread_mutex_lock(&ids_lock);
    id_entry *e = atomic_load_explicit(&ids, memory_order_relaxed);
    if (e == NULL) {
        e = rtm_page_source_os()->reserve(NULL, IDS_BYTES, RTM_OS_PAGE);
        if (e == NULL) s = RTM_ENOMEM;
        else atomic_store_explicit(&ids, e, memory_order_release);
    }
    if (s == RTM_OK && ids_live >= ids_cap) s = RTM_ELIMIT;
    if (s == RTM_OK) {
        if (ids_free != 0) {
            *id = ids_free;
            ids_free = e[*id].next_free;
        } else if (ids_fresh <= RTM_POOL_ID_MAX) {
            *id = ids_fresh++;
        } else {
            s = RTM_ELIMIT; /* every identity live or spent */
        }
    }
    if (s == RTM_OK) {
        *floor = e[*id].floor;
        ids_live++;
    }
    pthread_mutex_unlock(&ids_lock);
    return s;
}

void _rtm_pool_id_publish(uint32_t id, rtm_pool *p)
{
    id_entry *e = atomic_load_explicit(&ids, memory_order_acquire);
    atomic_store_explicit(&e[id].pool, p, memory_order_release);
}

/* Gives an identity back; floor: past every generation its pool used. */
void _rtm_pool_id_give(uint32_t id, uint32_t floor)
{
    pthread_mutex_lock(&ids_lock);
    id_entry *e = atomic_load_explicit(&ids, memory_order_relaxed);
    atomic_store_explicit(&e[id].pool, NULL, memory_order_release);
    e[id].floor = floor;
    if (floor <= RTM_GEN_REUSE) {
        e[id].next_free = ids_free;
        ids_free = id;
    }
    ids_live--;
    pthread_mutex_unlock(&ids_lock);
}

rtm_pool *_rtm_pool_id_pool(uint32_t id)
{
    id_entry *e = atomic_load_explicit(&ids, memory_order_acquire);
    if (e == NULL || id == 0) return NULL;
    return atomic_load_explicit(&e[id].pool, memory_order_acquire);
}

uint32_t _rtm_pool_ids_cap(uint32_t cap)
{
    pthread_mutex_lock(&ids_lock);
    uint32_t old = ids_cap;
    ids_cap = cap ? cap : RTM_POOL_ID_MAX;
    pthread_mutex_unlock(&ids_lock);
    return old;
}

uint32_t _rtm_pool_ranges_cap(rtm_pool *p, uint32_t cap)
{
    uint32_t old = p->max_ranges;
    p->max_ranges = cap;
    return old;
}

