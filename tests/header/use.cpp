// use.cpp: the public header, included alone and used as a C++ program
// would, compiled as C++11 and C++17 by tests/header.cmake. The check then
// reads the object's symbols: the calls must reach the unmangled C names.
#include <rtmem.h>
#include <rtmem.h>

struct node {
    node *left, *right;
    double value;
};

node *new_node(rtm_arena *a)
{
    return RTM_ARENA_NEW(a, node);
}

node *new_leased_node(rtm_arena *a)
{
    rtm_arena_lease l = rtm_arena_lease_begin(a);
    node *n = RTM_LEASE_NEW(&l, node);
    rtm_arena_lease_end(&l);
    return n;
}

// The pool's handle helpers (RTM_SCOPED is C only: C++ has destructors).
bool handle_moved(rtm_pool *p)
{
    rtm_handle none = RTM_HANDLE_NULL;
    rtm_handle h = rtm_pool_acquire(p);
    rtm_handle kept = rtm_handle_take(&h);
    return rtm_handle_is_null(none) && rtm_handle_is_null(h) && !rtm_handle_is_null(kept);
}

int main()
{
    rtm_config cfg = {0, nullptr, nullptr, RTM_CTX_DEBUG};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    if (ctx == nullptr) return 1;
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    rtm_ctx_destroy(ctx);
    return st.version == RTM_STATS_VERSION ? 0 : 1;
}
