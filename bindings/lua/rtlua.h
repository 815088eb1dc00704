/*
 * rtlua.h: what the files of rtlua, the reference embedding, share.
 *
 * rtlua is a drop-in for the stock `lua` command (Lua 5.4 manual, section 7,
 * "Lua Stand-alone"): the same options, `arg` table, LUA_INIT handling,
 * messages and exit codes. What differs is where its memory comes from: the
 * state is made with lua_newstate(rtm_lua_alloc, ctx), so every byte Lua
 * allocates comes from one rtmem context. Its own options (all spelled
 * `--name`, which the stock command rejects, so no stock command line changes
 * meaning) select the heap, a memory limit and stats on exit.
 *
 *   rtlua_main.c   the host: own options, the allocator, the state, stats
 *   rtlua_cli.c    the stand-alone protocol: options, `arg`, LUA_INIT, -e/-l,
 *                  the script, messages and tracebacks
 *   rtlua_repl.c   the interactive loop (-i, or a terminal on stdin)
 * The `rtmem` module (lrtmem*.c) is built in and preloaded, so `require
 * "rtmem"` works and rtmem.current() is the interpreter's own context.
 */
#ifndef RTLUA_H
#define RTLUA_H

#include <stddef.h>

#include "lua.h"

/* What the Lua part of the command line asks for. */
#define RTLUA_OPT_E_STAT 1u   /* -e seen */
#define RTLUA_OPT_I 2u        /* -i */
#define RTLUA_OPT_V 4u        /* -v (and -i) */
#define RTLUA_OPT_NOENV 8u    /* -E */

/* rtlua's own: where Lua's memory comes from, and stats on exit. */
typedef enum rtlua_heap { RTLUA_HEAP_RTMEM = 0, RTLUA_HEAP_SYSTEM } rtlua_heap;
typedef enum rtlua_stats {
    RTLUA_STATS_NONE = 0,
    RTLUA_STATS_TEXT,
    RTLUA_STATS_JSON,
    RTLUA_STATS_PROMETHEUS
} rtlua_stats;

typedef struct rtlua_args {
    unsigned opts;       /* RTLUA_OPT_* */
    int script;          /* index in argv of the script ("-" for stdin), 0: none */
    int bad;             /* index of a bad option, 0: the command line is good */
    int help;            /* --help: print the full usage and exit */
    /* rtlua's own options */
    rtlua_heap heap;
    rtlua_stats stats;
    size_t limit;        /* --limit BYTES, 0: none */
    const char *own_error; /* why an own option is bad (with bad set), else NULL */
} rtlua_args;

/* Reads the command line into *a. Stops at the script, `--` or `-`, like the
 * stock command; rtlua's own `--name` options may appear anywhere before that
 * point. Never fails: a bad option is reported through a->bad. */
void rtlua_parse_args(int argc, char **argv, rtlua_args *a);

/* Prints "<progname>: <what>" and the usage (the stock text; with own = 1
 * also rtlua's options) to stderr, or to stdout for --help. */
void rtlua_print_usage(const char *badoption, const char *own_error);
void rtlua_print_help(void);

/* The program name used in messages: argv[0] unless empty; "lua" before
 * rtlua_set_progname and while the interactive loop runs (NULL then). */
extern const char *rtlua_progname;
void rtlua_set_progname(char **argv);

/* Prints "<progname>: msg" (or just msg when pname is NULL) to stderr. */
void rtlua_message(const char *pname, const char *msg);

/* Reports a failed status: prints the message on top of the stack and pops it.
 * Returns status. */
int rtlua_report(lua_State *L, int status);

/* Calls the function under its narg arguments with the traceback message
 * handler, Ctrl-C turned into a Lua error while it runs. */
int rtlua_docall(lua_State *L, int narg, int nres);

/* What the protected main needs. */
typedef struct rtlua_run {
    int argc;
    char **argv;
    rtlua_args args;
    void (*open_extra)(lua_State *L); /* after the standard libraries, or NULL */
} rtlua_run;

/* The body of the program, run in protected mode with two arguments: argc
 * (an integer) and the rtlua_run (a light userdata). Returns true when everything ran without an
 * error; errors have been reported. */
int rtlua_pmain(lua_State *L);

/* The interactive loop. */
void rtlua_repl(lua_State *L);

#endif /* RTLUA_H */
