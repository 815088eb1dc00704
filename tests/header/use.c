/* use.c: the public header, included alone and used as a C program would,
 * compiled as C99 and C11 with -pedantic by tests/header.cmake. */
#include <rtmem.h>
#include <rtmem.h> /* twice: the include guard works */

struct node {
    struct node *left, *right;
    double value;
};

/* The typed macros must expand in every language, not only parse. */
struct node *new_node(rtm_arena *a)
{
    return RTM_ARENA_NEW(a, struct node);
}

struct node *new_leased_node(rtm_arena *a)
{
    rtm_arena_lease l = rtm_arena_lease_begin(a);
    struct node *n = RTM_LEASE_NEW(&l, struct node);
    rtm_arena_lease_end(&l);
    return n;
}

/* The pool macros: the null handle, moving a handle, RAII (GNU C only). */
int scoped_handle(rtm_pool *p)
{
    rtm_handle none = RTM_HANDLE_NULL;
#ifdef RTM_SCOPED
    RTM_SCOPED(p) rtm_handle h = rtm_pool_acquire(p);
    rtm_handle kept = rtm_handle_take(&h);
#else
    rtm_handle kept = rtm_pool_acquire(p);
#endif
    return rtm_handle_is_null(none) && !rtm_handle_is_null(kept);
}

int main(void)
{
    rtm_config cfg = {0, NULL, NULL, RTM_CTX_DEBUG};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    rtm_stats st;
    if (ctx == NULL) return 1;
    rtm_ctx_stats(ctx, &st); /* static inline in the header */
    rtm_ctx_destroy(ctx);
    return st.version == RTM_STATS_VERSION ? 0 : 1;
}
