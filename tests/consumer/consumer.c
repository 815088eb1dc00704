/* consumer.c: a program outside the tree, built against an installed rtmem
 * both ways (tests/install.cmake): with find_package(rtmem) and with
 * pkg-config, shared and static. It makes a context, prints its stats as
 * JSON and destroys it. */
#include <rtmem.h>

#include <stdio.h>

int main(void)
{
    rtm_ctx *ctx = rtm_ctx_new(NULL);
    if (ctx == NULL) {
        fprintf(stderr, "consumer: rtm_ctx_new failed\n");
        return 1;
    }
    int rc = rtm_stats_write(ctx, stdout, RTM_STATS_JSON);
    rtm_status check = rtm_ctx_check(ctx);
    rtm_ctx_destroy(ctx);
    if (rc != 0 || check != RTM_OK) {
        fprintf(stderr, "consumer: stats %d, check %s\n", rc, rtm_status_str(check));
        return 1;
    }
    return 0;
}
