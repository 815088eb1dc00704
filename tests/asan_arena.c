/* asan_arena.c: uses memory rtmem has taken back, so that AddressSanitizer
 * must report it. Run by ctest in the RTM_SANITIZE=address build only, which
 * expects "use-after-poison" in the output:
 *   rewind  a block allocated after a mark, used after rewinding to it
 *   reset   a block used after its arena was reset
 *   lease   a block made through a lease, used after a rewind
 *   buf     a buffer's byte just past its length
 * Exits 0 only if nothing was reported (which makes the test fail). */
#include "rtmem.h"

#include <stdio.h>
#include <string.h>

static volatile char sink;

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "rewind";
    rtm_ctx *ctx = rtm_ctx_new(NULL);
    if (ctx == NULL) return 2;
    rtm_arena *a = rtm_arena_new(ctx);
    rtm_buf *b = rtm_buf_new(ctx, 32);
    if (a == NULL || b == NULL) return 2;
    char *keep = rtm_arena_alloc(a, 16, 8);
    memset(keep, 1, 16);
    volatile char *victim = NULL;
    if (strcmp(mode, "rewind") == 0) {
        rtm_arena_mark m = rtm_arena_save(a);
        char *tmp = rtm_arena_alloc(a, 64, 8);
        memset(tmp, 2, 64);
        rtm_arena_rewind(a, m);
        victim = tmp + 8;
    } else if (strcmp(mode, "reset") == 0) {
        char *node = rtm_arena_alloc(a, 40, 8);
        memset(node, 3, 40);
        rtm_arena_reset(a);
        victim = node;
    } else if (strcmp(mode, "lease") == 0) {
        rtm_arena_mark m = rtm_arena_save(a);
        rtm_arena_lease l = rtm_arena_lease_begin(a);
        char *tmp = rtm_arena_lease_alloc(&l, 32, 8);
        memset(tmp, 4, 32);
        rtm_arena_lease_end(&l);
        rtm_arena_rewind(a, m);
        victim = tmp;
    } else if (strcmp(mode, "buf") == 0) {
        rtm_buf_append(b, "abc", 3);
        victim = (char *)rtm_buf_data(b) + 3;
    } else {
        return 2;
    }
    fprintf(stderr, "touching %p (%s)\n", (void *)victim, mode);
    sink = *victim; /* ASan must stop here */
    rtm_ctx_destroy(ctx);
    return 0;
}
