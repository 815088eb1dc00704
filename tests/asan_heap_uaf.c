/*
 * asan_heap_uaf.c: touches freed rtmem heap memory, on purpose. Registered
 * only in the ASan build (and under Valgrind with RTM_VALGRIND): its test
 * passes when the tool reports the access, as it would for malloc'd memory.
 *
 *   small   write into a freed small block
 *   large   write into a freed large block (its span waits in the cache)
 *   tail    write past the size of a live block, inside its size class
 *   shrunk  write past the new size of a block shrunk in place by realloc
 */
#include "rtmem.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "small";
    rtm_ctx *ctx = rtm_ctx_new(NULL);
    if (ctx == NULL) return 2;
    size_t size = strcmp(mode, "large") == 0 ? 100000 : 20; /* 20: a 24-byte class */
    char *keep = rtm_alloc(ctx, size); /* keeps the page in use */
    volatile char *p = rtm_alloc(ctx, size);
    if (keep == NULL || p == NULL) return 2;
    memset((char *)p, 1, size);
    if (strcmp(mode, "tail") == 0) {
        p[size + 1] = 2; /* byte 21 of a 24-byte block: not the caller's */
    } else if (strcmp(mode, "shrunk") == 0) {
        char *q = rtm_realloc(ctx, (char *)p, size, 18); /* same class: in place */
        q[19] = 2;
    } else {
        rtm_free(ctx, (char *)p, size);
        p[size / 2] = 2; /* the use after free */
    }
    puts("no report");
    rtm_free(ctx, keep, size);
    rtm_ctx_destroy(ctx);
    return 0;
}
