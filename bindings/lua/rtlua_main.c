/*
 * rtlua_main.c: the host. It makes the allocator and the state, sets the
 * panic and warning functions the stock state gets from luaL_newstate, runs
 * the stand-alone protocol (rtlua_cli.c) in protected mode, and prints the
 * context's stats on exit when asked.
 *
 * The allocator is the heart of it: lua_newstate(rtm_lua_alloc, ctx), so
 * every byte the state allocates comes from one rtmem context, counted per
 * Lua type, within the --limit if one is given.
 *
 * Out of memory. When rtm_lua_alloc returns NULL (the limit, or the page
 * source refused), Lua's own allocator wrapper (lmem.c) runs a full
 * emergency collection and retries once before raising "not enough memory".
 * That is the collection step of rtmem's out-of-memory ladder already, at
 * the one place it is safe: the context's collect hook runs inside an
 * allocation, where lua_gc must not be called. So rtlua sets no collect
 * hook; the ladder is: rtmem fails cleanly, Lua collects and retries, then
 * the script gets the ordinary memory error, which pcall can catch.
 */
#include "rtlua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "rtmem.h"
#include "rtmem_lua.h"

/* The one host of the process: static so the exit handler (os.exit skips
 * main's return) and leak checkers can reach the state. */
typedef enum warn_mode { WARN_OFF, WARN_ON, WARN_CONTINUED } warn_mode;

static struct host {
    rtm_ctx *ctx;
    lua_State *L;
    rtlua_stats stats;
    int stats_done;
    warn_mode warn;
} host;

/* ---- the system heap (--heap=system) ------------------------------------------ */

/* The C library's realloc and free, as luaL_newstate's allocator does: the
 * baseline for runs under LD_PRELOAD of another malloc. */
static void *system_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

/* ---- what luaL_newstate sets ---------------------------------------------------- */

static int on_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL) msg = "error object is not a string";
    fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n", msg);
    fflush(stderr);
    return 0; /* Lua aborts */
}

/* Warnings start off. "@on" and "@off" (a whole message starting with '@')
 * switch them; a message sent in pieces (tocont) is printed as one line. */
static void on_warning(void *ud, const char *msg, int tocont)
{
    struct host *h = (struct host *)ud;
    if (h->warn == WARN_CONTINUED) { /* the next piece: no control, no header */
        fputs(msg, stderr);
        if (!tocont) {
            fputs("\n", stderr);
            h->warn = WARN_ON;
        }
        fflush(stderr);
        return;
    }
    if (!tocont && msg[0] == '@') { /* a control message; unknown ones are ignored */
        if (strcmp(msg + 1, "on") == 0) h->warn = WARN_ON;
        else if (strcmp(msg + 1, "off") == 0) h->warn = WARN_OFF;
        return;
    }
    if (h->warn == WARN_OFF) return;
    fprintf(stderr, "Lua warning: %s", msg);
    if (tocont) h->warn = WARN_CONTINUED;
    else fputs("\n", stderr);
    fflush(stderr);
}

/* ---- stats on exit -------------------------------------------------------------- */

static void print_bytes(FILE *f, uint64_t b)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0) fprintf(f, "%llu B", (unsigned long long)b);
    else fprintf(f, "%.1f %s", v, unit[u]);
}

static void print_stats_text(const rtm_ctx *ctx, FILE *f)
{
    static const char *const tag[RTM_LUA_TAGS] = {"none", "boolean", "lightuserdata",
                                                  "number", "string", "table", "function",
                                                  "userdata", "thread", "other"};
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    fprintf(f, "rtlua: memory of the Lua state (rtmem context)\n");
    fprintf(f, "  pages      held ");
    print_bytes(f, st.page_bytes);
    fprintf(f, ", peak ");
    print_bytes(f, st.page_bytes_peak);
    fprintf(f, "; %llu reserves, %llu releases, %llu refused\n",
            (unsigned long long)st.page_reserves, (unsigned long long)st.page_releases,
            (unsigned long long)st.page_failures);
    fprintf(f, "  limit      ");
    if (st.limit_bytes == 0) fprintf(f, "none");
    else print_bytes(f, st.limit_bytes);
    fprintf(f, "; %llu requests refused by it\n", (unsigned long long)st.limit_hits);
    fprintf(f, "  heap       in use ");
    print_bytes(f, st.heap_bytes_in_use);
    fprintf(f, " in %llu blocks, peak ", (unsigned long long)st.heap_blocks_in_use);
    print_bytes(f, st.heap_bytes_peak);
    fprintf(f, "\n             %llu allocs, %llu frees, %llu reallocs (%llu in place)\n",
            (unsigned long long)st.heap_allocs, (unsigned long long)st.heap_frees,
            (unsigned long long)st.heap_reallocs, (unsigned long long)st.heap_reallocs_in_place);
    fprintf(f, "  large      %llu blocks, ", (unsigned long long)st.heap_large_blocks);
    print_bytes(f, st.heap_large_bytes);
    fprintf(f, "\n  errors     %llu failing calls, %llu bad frees\n",
            (unsigned long long)st.errors, (unsigned long long)st.heap_bad_frees);
    fprintf(f, "  Lua allocs");
    for (int i = 0; i < RTM_LUA_TAGS; i++)
        if (st.lua_allocs_by_tag[i] != 0)
            fprintf(f, " %s %llu", tag[i], (unsigned long long)st.lua_allocs_by_tag[i]);
    fprintf(f, "\n");
    if (st.classes[0].block_size != 0) {
        fprintf(f, "  %10s %12s %12s %10s %6s\n", "class", "allocs", "frees", "live", "pages");
        for (int i = 0; i < RTM_HEAP_CLASSES && st.classes[i].block_size != 0; i++) {
            const rtm_class_stats *c = &st.classes[i];
            if (c->allocs == 0 && c->pages == 0) continue;
            fprintf(f, "  %10llu %12llu %12llu %10llu %6llu\n",
                    (unsigned long long)c->block_size, (unsigned long long)c->allocs,
                    (unsigned long long)c->frees, (unsigned long long)c->live_blocks,
                    (unsigned long long)c->pages);
        }
    }
}

static void print_stats(void)
{
    if (host.ctx == NULL || host.stats == RTLUA_STATS_NONE || host.stats_done) return;
    host.stats_done = 1;
    fflush(stdout);
    switch (host.stats) {
    case RTLUA_STATS_TEXT: print_stats_text(host.ctx, stderr); break;
    case RTLUA_STATS_JSON: rtm_stats_write(host.ctx, stderr, RTM_STATS_JSON); break;
    case RTLUA_STATS_PROMETHEUS: rtm_stats_write(host.ctx, stderr, RTM_STATS_PROMETHEUS); break;
    case RTLUA_STATS_NONE: break;
    }
    fflush(stderr);
}

/* os.exit ends the process without returning to main: the stats are printed
 * from here then (of a state still open unless os.exit was asked to close
 * it). The context is left to the process's end, as the state is. */
static void print_stats_at_exit(void) { print_stats(); }

/* ---- main ------------------------------------------------------------------------ */

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

static lua_State *new_state(const rtlua_args *a)
{
    if (a->heap == RTLUA_HEAP_SYSTEM) return lua_newstate(system_alloc, NULL);
    rtm_config cfg = {0};
    cfg.limit_bytes = a->limit;
    cfg.flags = env_flag("RTM_CTX_DEBUG") ? RTM_CTX_DEBUG : 0u;
    host.ctx = rtm_ctx_new(&cfg);
    if (host.ctx == NULL) return NULL;
    return lua_newstate(rtm_lua_alloc, host.ctx);
}

int main(int argc, char **argv)
{
    rtlua_run run;
    run.argc = argc;
    run.argv = argv;
    run.open_extra = rtmem_lua_preload; /* require "rtmem" finds it built in */
    rtlua_set_progname(argv);
    rtlua_parse_args(argc, argv, &run.args);
    if (run.args.help) {
        rtlua_print_help();
        return EXIT_SUCCESS;
    }
    if (run.args.bad != 0) {
        rtlua_print_usage(argv[run.args.bad], run.args.own_error);
        return EXIT_FAILURE;
    }
    if (run.args.heap == RTLUA_HEAP_SYSTEM && (run.args.limit != 0 || run.args.stats)) {
        rtlua_message(rtlua_progname, "'--limit' and '--stats' need the rtmem heap");
        return EXIT_FAILURE;
    }

    lua_State *L = host.L = new_state(&run.args);
    if (L == NULL) {
        rtlua_message(argv[0], "cannot create state: not enough memory");
        rtm_ctx_destroy(host.ctx);
        return EXIT_FAILURE;
    }
    lua_atpanic(L, on_panic);
    host.warn = WARN_OFF;
    lua_setwarnf(L, on_warning, &host);
    host.stats = run.args.stats;
    if (host.stats != RTLUA_STATS_NONE) atexit(print_stats_at_exit);

    lua_pushcfunction(L, rtlua_pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, &run);
    int status = lua_pcall(L, 2, 1, 0);
    int ok = lua_toboolean(L, -1);
    rtlua_report(L, status);
    lua_close(L);
    host.L = NULL;
    print_stats(); /* after the close: what the state leaves behind, if anything */
    rtm_ctx_destroy(host.ctx);
    host.ctx = NULL;
    return ok && status == LUA_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
