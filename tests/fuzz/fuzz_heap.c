/* fuzz_heap.c: the heap driven by the fuzzer's bytes (alloc, calloc,
 * realloc up and down across classes and into large blocks, free, trim, and
 * in RTM_CTX_DEBUG contexts double frees, wrong sizes and interior pointers;
 * foreign pointers in every context), against a model of the live blocks:
 * every block keeps its bytes, a calloc'ed block reads zero, every bad free
 * gets its exact status and changes nothing, bytes in use are exact after
 * each step, and the context checks out every 16 steps and at the end.
 * Sometimes under a limit.
 *
 * Built with clang's libFuzzer in the ASan build (fuzz.cmake). */
#include "rtmem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64

typedef struct block {
    unsigned char *p;
    size_t size;
    unsigned char fill;
} block;

static void fail(const char *what, size_t size)
{
    fprintf(stderr, "fuzz_heap: %s (a block of %zu bytes)\n", what, size);
    abort();
}

static size_t size_of(unsigned a, unsigned b)
{
    switch (a % 4) {
    case 0: return 1 + b % 64;                     /* the smallest classes */
    case 1: return 1 + (size_t)b * 32;             /* up to 8 KiB: every class */
    case 2: return 8192 + (size_t)b * 512;         /* just past: large blocks */
    default: return (size_t)1 + ((size_t)b << 10); /* up to 256 KiB */
    }
}

/* Every byte of a small block; of a large one both ends and a sample (a
 * whole check per step would make each input take seconds under ASan). */
static void check_bytes(const block *b)
{
    size_t step = b->size <= 8192 ? 1 : 509;
    for (size_t i = 0; i < b->size; i += (i < 256 || b->size - i <= 256) ? 1 : step)
        if (b->p[i] != b->fill) fail("a byte changed", b->size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 1) return 0;
    unsigned mode = data[0];
    rtm_config cfg = {(mode & 2) ? (size_t)4 << 20 : 0, NULL, NULL, (mode & 1) ? RTM_CTX_DEBUG : 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    if (ctx == NULL) fail("no context", 0);
    int debug = (mode & 1) != 0;
    block live[SLOTS] = {{0}};
    size_t in_use = 0;
    /* each block, and each block after a realloc, gets the next fill byte,
     * so the stale bytes of a recycled block never pass for a copied one */
    unsigned char serial = 0;
    static unsigned char stack_bytes[64];

    for (size_t pos = 1; pos + 3 <= n; pos += 3) {
        unsigned op = data[pos], a = data[pos + 1], c = data[pos + 2];
        block *b = &live[op % SLOTS];
        rtm_ctx_clear_error(ctx);
        switch ((op / SLOTS) % 4) {
        case 0: /* allocate into an empty slot (calloc on odd a), else free it */
            if (b->p == NULL) {
                size_t size = size_of(a, c);
                b->p = (a & 8) ? rtm_calloc(ctx, 1, size) : rtm_alloc(ctx, size);
                if (b->p == NULL) {
                    if (rtm_ctx_error(ctx) != RTM_ELIMIT || cfg.limit_bytes == 0) fail("alloc", size);
                    break;
                }
                if (a & 8) {
                    block zero = {b->p, size, 0};
                    check_bytes(&zero);
                }
                b->size = size;
                b->fill = ++serial ? serial : ++serial;
                memset(b->p, b->fill, size);
                in_use += size;
            } else {
                check_bytes(b);
                if (rtm_free_checked(ctx, b->p, b->size) != RTM_OK) fail("free", b->size);
                in_use -= b->size;
                b->p = NULL;
            }
            break;
        case 1: /* realloc a live block (a shrink must never fail) */
            if (b->p != NULL) {
                check_bytes(b);
                size_t size = size_of(a, c);
                unsigned char *q = rtm_realloc(ctx, b->p, b->size, size);
                if (q == NULL) {
                    if (size <= b->size || rtm_ctx_error(ctx) != RTM_ELIMIT) fail("realloc", size);
                    break; /* the old block stays, untouched */
                }
                size_t keep = size < b->size ? size : b->size;
                block kept = {q, keep, b->fill};
                check_bytes(&kept);
                b->fill = ++serial ? serial : ++serial;
                memset(q, b->fill, size);
                in_use = in_use - b->size + size;
                b->p = q;
                b->size = size;
            }
            break;
        case 2: /* a bad free: never a change */
            if (b->p != NULL && debug) {
                rtm_status want = RTM_EINVAL, got;
                if (a % 3 == 0) got = rtm_free_checked(ctx, b->p, b->size + 1 + c % 16); /* wrong size */
                else if (a % 3 == 1 && b->size > 1) got = rtm_free_checked(ctx, b->p + 1, b->size - 1);
                else got = want = RTM_OK; /* no bad free this time */
                if (got != want) fail("a bad free's status", b->size);
                if (got == RTM_EINVAL && rtm_ctx_error(ctx) != RTM_EINVAL) fail("not recorded", b->size);
                check_bytes(b);
            } else if (b->p == NULL && debug && a % 2 == 0) {
                /* a double free of the slot's last block is ESTALE: make one */
                size_t size = size_of(a, c);
                unsigned char *p = rtm_alloc(ctx, size);
                if (p == NULL) break;
                if (rtm_free_checked(ctx, p, size) != RTM_OK) fail("free", size);
                rtm_status st = rtm_free_checked(ctx, p, size);
                /* a large block's pages are gone: EFOREIGN; a small block ESTALE */
                if (st != RTM_ESTALE && st != RTM_EFOREIGN) fail("double free", size);
            } else {
                if (rtm_free_checked(ctx, stack_bytes, sizeof stack_bytes) != RTM_EFOREIGN)
                    fail("a foreign pointer", sizeof stack_bytes);
                if (rtm_free_checked(ctx, &in_use, sizeof in_use) != RTM_EFOREIGN)
                    fail("a stack pointer", sizeof in_use);
            }
            break;
        default:
            if (a % 8 == 0) rtm_ctx_trim(ctx);
            break;
        }
        rtm_stats st;
        rtm_ctx_stats(ctx, &st);
        if (st.heap_bytes_in_use != in_use) fail("bytes in use", in_use);
        if (cfg.limit_bytes != 0 && st.page_bytes > cfg.limit_bytes) fail("past the limit", in_use);
        if (pos % 48 == 1 && rtm_ctx_check(ctx) != RTM_OK) fail("context check", 0); /* a walk */
    }
    if (rtm_ctx_check(ctx) != RTM_OK) fail("context check", 0);
    for (size_t i = 0; i < SLOTS; i++)
        if (live[i].p != NULL) {
            check_bytes(&live[i]);
            rtm_free(ctx, live[i].p, live[i].size);
        }
    rtm_ctx_destroy(ctx);
    return 0;
}
