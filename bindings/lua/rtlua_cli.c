/*
 * rtlua_cli.c: the Lua stand-alone protocol (Lua 5.4 manual, section 7).
 *
 * Everything here is observable behaviour of the stock `lua` command, kept
 * exactly: which options exist and where they stop, the `arg` table, the
 * LUA_INIT_5_4 / LUA_INIT chunk, the order -e, -l and -W run in, the script
 * from a file or stdin, the message handler that appends a traceback, the
 * messages ("<progname>: <message>") and the exit status. tests/lua/compat
 * runs the same command lines under both and compares every byte.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction */

#include "rtlua.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lualib.h"

#define RTLUA_DEFAULT_NAME "lua"

const char *rtlua_progname = RTLUA_DEFAULT_NAME;

void rtlua_set_progname(char **argv)
{
    if (argv != NULL && argv[0] != NULL && argv[0][0] != '\0') rtlua_progname = argv[0];
}

/* ---- the command line ----------------------------------------------------- */

/* A size with an optional binary suffix: "65536", "64K", "512M", "2G". */
static int parse_size(const char *s, size_t *out)
{
    if (s == NULL || *s < '0' || *s > '9') return 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if (*end != '\0' || v == 0 || v > (unsigned long long)(SIZE_MAX >> shift)) return 0;
    *out = (size_t)v << shift;
    return 1;
}

/* The value of `--name=value` or `--name value`: NULL when o is not the
 * option `name`; *missing when it is but has no value. */
static const char *option_value(const char *o, const char *name, int argc, char **argv, int *i,
                                int *missing)
{
    size_t n = strlen(name);
    *missing = 0;
    if (strncmp(o, name, n) != 0) return NULL;
    if (o[n] == '=') return o + n + 1;
    if (o[n] != '\0') return NULL;
    if (*i + 1 >= argc || argv[*i + 1][0] == '-') {
        *missing = 1;
        return o;
    }
    return argv[++*i];
}

/* rtlua's own options. Returns 1 if o was one (and takes its value), 0 if o
 * is not one of them; sets a->own_error when it is one with a bad value. */
static int parse_own(rtlua_args *a, int argc, char **argv, int *i)
{
    const char *o = argv[*i];
    const char *v;
    int missing;
    if (strcmp(o, "--help") == 0) {
        a->help = 1;
        return 1;
    }
    if (strcmp(o, "--stats") == 0) {
        a->stats = RTLUA_STATS_TEXT;
        return 1;
    }
    if (strncmp(o, "--stats=", 8) == 0) {
        v = o + 8;
        if (strcmp(v, "text") == 0) a->stats = RTLUA_STATS_TEXT;
        else if (strcmp(v, "json") == 0) a->stats = RTLUA_STATS_JSON;
        else if (strcmp(v, "prometheus") == 0) a->stats = RTLUA_STATS_PROMETHEUS;
        else a->own_error = "'--stats' takes text, json or prometheus";
        return 1;
    }
    if (strncmp(o, "--heap=", 7) == 0) {
        v = o + 7;
        if (strcmp(v, "rtmem") == 0) a->heap = RTLUA_HEAP_RTMEM;
        else if (strcmp(v, "system") == 0) a->heap = RTLUA_HEAP_SYSTEM;
        else a->own_error = "'--heap' takes rtmem or system";
        return 1;
    }
    if ((v = option_value(o, "--limit", argc, argv, i, &missing)) != NULL) {
        if (missing) a->own_error = "'--limit' needs argument";
        else if (!parse_size(v, &a->limit))
            a->own_error = "'--limit' takes a size in bytes, with an optional K, M or G suffix";
        return 1;
    }
    return 0;
}

/* An option letter that must stand alone ("-v", not "-vx"). */
static int alone(const char *o) { return o[2] == '\0'; }

void rtlua_parse_args(int argc, char **argv, rtlua_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (o[0] != '-') { /* the script: options end here */
            a->script = i;
            return;
        }
        switch (o[1]) {
        case '\0': /* "-": the script is stdin */
            a->script = i;
            return;
        case '-':
            if (o[2] == '\0') { /* "--": what follows is the script */
                a->script = i + 1 < argc ? i + 1 : 0;
                return;
            }
            if (!parse_own(a, argc, argv, &i) || a->own_error != NULL) {
                a->bad = i;
                return;
            }
            break;
        case 'E':
            if (!alone(o)) goto bad;
            a->opts |= RTLUA_OPT_NOENV;
            break;
        case 'W':
            if (!alone(o)) goto bad;
            break;
        case 'i':
            if (!alone(o)) goto bad;
            a->opts |= RTLUA_OPT_I | RTLUA_OPT_V; /* -i implies -v */
            break;
        case 'v':
            if (!alone(o)) goto bad;
            a->opts |= RTLUA_OPT_V;
            break;
        case 'e':
        case 'l':
            if (o[1] == 'e') a->opts |= RTLUA_OPT_E_STAT;
            if (alone(o)) { /* the argument is the next word, not an option */
                if (i + 1 >= argc || argv[i + 1][0] == '-') goto bad;
                i++;
            }
            break;
        default:
        bad:
            a->bad = i;
            return;
        }
    }
    a->script = 0;
}

/* ---- messages --------------------------------------------------------------- */

void rtlua_message(const char *pname, const char *msg)
{
    if (pname != NULL) fprintf(stderr, "%s: ", pname);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
}

static void usage_lines(FILE *f, int own)
{
    fprintf(f,
            "usage: %s [options] [script [args]]\n"
            "Available options are:\n"
            "  -e stat   execute string 'stat'\n"
            "  -i        enter interactive mode after executing 'script'\n"
            "  -l mod    require library 'mod' into global 'mod'\n"
            "  -l g=mod  require library 'mod' into global 'g'\n"
            "  -v        show version information\n"
            "  -E        ignore environment variables\n"
            "  -W        turn warnings on\n"
            "  --        stop handling options\n"
            "  -         stop handling options and execute stdin\n",
            rtlua_progname);
    if (own)
        fputs("rtlua's own options (before the script):\n"
              "  --limit BYTES     cap the memory the Lua state may hold (K, M, G suffixes);\n"
              "                    past it, allocations fail with \"not enough memory\"\n"
              "  --stats[=FORMAT]  print the memory stats to stderr on exit:\n"
              "                    text (the default), json or prometheus\n"
              "  --heap=HEAP       rtmem (the default): Lua allocates from an rtmem context;\n"
              "                    system: from the C library's realloc and free\n"
              "  --help            show this help\n"
              "Environment: RTM_CTX_DEBUG=1 makes the context check every free.\n",
              f);
    fflush(f);
}

void rtlua_print_usage(const char *badoption, const char *own_error)
{
    fprintf(stderr, "%s: ", rtlua_progname);
    if (own_error != NULL) fprintf(stderr, "%s\n", own_error);
    else if (badoption[1] == 'e' || badoption[1] == 'l')
        fprintf(stderr, "'%s' needs argument\n", badoption);
    else fprintf(stderr, "unrecognized option '%s'\n", badoption);
    usage_lines(stderr, own_error != NULL);
}

void rtlua_print_help(void) { usage_lines(stdout, 1); }

static void print_version(void)
{
    fputs(LUA_COPYRIGHT "\n", stdout);
    fflush(stdout);
}

/* ---- running chunks ----------------------------------------------------------- */

int rtlua_report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        rtlua_message(rtlua_progname, msg != NULL ? msg : "(null)"); /* as the stock one prints it */
        lua_pop(L, 1);
    }
    return status;
}

/* The message handler: a string (or a number) gets a traceback; another value
 * its __tostring, or a note of its type. */
static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Ctrl-C while Lua code runs: the signal handler may only set a hook; the
 * hook, called at the next instruction, raises the error. */
static lua_State *volatile interrupted_state;

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void set_sigint(void (*handler)(int))
{
    struct sigaction sa;
    sa.sa_handler = handler;
    sa.sa_flags = 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

static void on_sigint(int sig)
{
    (void)sig;
    set_sigint(SIG_DFL); /* a second Ctrl-C ends the process */
    lua_sethook(interrupted_state, interrupt_hook,
                LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

int rtlua_docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg; /* the function */
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    interrupted_state = L;
    set_sigint(on_sigint);
    int status = lua_pcall(L, narg, nres, base);
    set_sigint(SIG_DFL);
    lua_remove(L, base);
    return status;
}

static int dochunk(lua_State *L, int status)
{
    if (status == LUA_OK) status = rtlua_docall(L, 0, 0);
    return rtlua_report(L, status);
}

static int dofile(lua_State *L, const char *name) { return dochunk(L, luaL_loadfile(L, name)); }

static int dostring(lua_State *L, const char *s, const char *name)
{
    return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l mod, -l g=mod: global g (or mod) = require(mod). */
static int dolibrary(lua_State *L, const char *spec)
{
    const char *eq = strchr(spec, '=');
    const char *mod = eq != NULL ? eq + 1 : spec;
    size_t glen = eq != NULL ? (size_t)(eq - spec) : strlen(spec);
    lua_getglobal(L, "require");
    lua_pushstring(L, mod);
    int status = rtlua_docall(L, 1, 1);
    if (status == LUA_OK) { /* _G[g] = the module, as lua_setglobal would */
        lua_pushglobaltable(L);
        lua_pushlstring(L, spec, glen);
        lua_pushvalue(L, -3);
        lua_settable(L, -3);
        lua_pop(L, 2);
    }
    return rtlua_report(L, status);
}

/* The `arg` table: the script at 0, its arguments at 1.., the interpreter
 * and its options at negative indices. Without a script, argv[0] is at 0. */
static void create_arg_table(lua_State *L, int argc, char **argv, int script)
{
    lua_createtable(L, argc - script - 1 > 0 ? argc - script - 1 : 0, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, (lua_Integer)i - script);
    }
    lua_setglobal(L, "arg");
}

/* LUA_INIT_5_4, else LUA_INIT: a chunk, or "@file". */
static int run_init(lua_State *L)
{
    const char *name = "=LUA_INIT_" LUA_VERSION_MAJOR "_" LUA_VERSION_MINOR;
    const char *init = getenv(name + 1);
    if (init == NULL) {
        name = "=LUA_INIT";
        init = getenv(name + 1);
    }
    if (init == NULL) return LUA_OK;
    if (init[0] == '@') return dofile(L, init + 1);
    return dostring(L, init, name);
}

/* -e, -l and -W, in the order given, up to the script. */
static int run_options(lua_State *L, char **argv, int end)
{
    for (int i = 1; i < end; i++) {
        const char *o = argv[i];
        if (o[0] != '-') continue;
        int status = LUA_OK;
        switch (o[1]) {
        case 'e':
        case 'l': {
            const char *v = o[2] != '\0' ? o + 2 : argv[++i];
            status = o[1] == 'e' ? dostring(L, v, "=(command line)") : dolibrary(L, v);
            break;
        }
        case 'W':
            lua_warning(L, "@on", 0);
            break;
        case '-': /* rtlua's own: skip the value of a two-word option */
            if (strcmp(o, "--limit") == 0) i++;
            break;
        default:
            break;
        }
        if (status != LUA_OK) return 0;
    }
    return 1;
}

/* Pushes arg[1..n] for the script; returns n. */
static int push_script_args(lua_State *L)
{
    if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
    int n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
    lua_remove(L, -n - 1); /* the table */
    return n;
}

static int run_script(lua_State *L, char **argv, int script)
{
    const char *fname = argv[script];
    if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0) fname = NULL; /* stdin */
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = push_script_args(L);
        status = rtlua_docall(L, n, LUA_MULTRET);
    }
    return rtlua_report(L, status);
}

int rtlua_pmain(lua_State *L)
{
    /* Two arguments, the count and the rest, as the stock command passes
     * argc and argv: the script then starts at the same stack depth, and a
     * stack overflow's traceback skips the same number of levels. */
    int argc = (int)lua_tointeger(L, 1);
    const rtlua_run *run = (const rtlua_run *)lua_touserdata(L, 2);
    char **argv = run->argv;
    const rtlua_args *a = &run->args;
    luaL_checkversion(L);
    if (a->opts & RTLUA_OPT_V) print_version();
    if (a->opts & RTLUA_OPT_NOENV) {
        lua_pushboolean(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
    }
    lua_gc(L, LUA_GCSTOP); /* no collection while the libraries load */
    luaL_openlibs(L);
    if (run->open_extra != NULL) run->open_extra(L);
    create_arg_table(L, argc, argv, a->script);
    lua_gc(L, LUA_GCRESTART);
    lua_gc(L, LUA_GCGEN, 0, 0); /* the stock command runs the generational mode */
    if (!(a->opts & RTLUA_OPT_NOENV) && run_init(L) != LUA_OK) return 0;
    if (!run_options(L, argv, a->script > 0 ? a->script : argc)) return 0;
    if (a->script > 0 && run_script(L, argv, a->script) != LUA_OK) return 0;
    if (a->opts & RTLUA_OPT_I) {
        rtlua_repl(L);
    } else if (a->script == 0 && !(a->opts & (RTLUA_OPT_E_STAT | RTLUA_OPT_V))) {
        if (isatty(STDIN_FILENO)) {
            print_version();
            rtlua_repl(L);
        } else if (dofile(L, NULL) != LUA_OK) {
            return 0;
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}
