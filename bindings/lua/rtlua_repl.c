/*
 * rtlua_repl.c: the interactive loop, as the stock command runs it.
 *
 * A line is first tried as an expression ("return <line>;") and its values
 * printed; failing that, as a statement, reading continuation lines while
 * the only complaint is an unexpected end of input. The prompts are the
 * globals _PROMPT and _PROMPT2 when they are strings (or numbers). Errors are
 * printed without the program name. With readline (as Debian's lua5.4 is
 * built), lines go to its history.
 */
#include "rtlua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"

#define MAX_INPUT_LINE 512 /* without readline: longer lines arrive in pieces */
#define EOF_MARK "<eof>"
#define PROMPT "> "
#define PROMPT2 ">> "

#ifdef RTLUA_USE_READLINE
#include <readline/history.h>
#include <readline/readline.h>

static void input_init(void) { rl_readline_name = "lua"; }

/* The line without its newline, to free with input_free, or NULL at the end. */
static char *input_read(const char *prompt, char *buf)
{
    (void)buf;
    return readline(prompt);
}
static void input_free(char *line) { free(line); }
static void input_remember(const char *line) { add_history(line); }

#else

static void input_init(void) {}

static char *input_read(const char *prompt, char *buf)
{
    fputs(prompt, stdout);
    fflush(stdout);
    return fgets(buf, MAX_INPUT_LINE, stdin);
}
static void input_free(char *line) { (void)line; }
static void input_remember(const char *line) { (void)line; }

#endif

static const char *prompt_for(lua_State *L, int first)
{
    lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2");
    const char *p = lua_tostring(L, -1);
    return p != NULL ? p : first ? PROMPT : PROMPT2;
}

/* Reads a line and pushes it; 0 at the end of input. A first line starting
 * with '=' means "return" (kept from Lua 5.2). At the end of input the
 * prompt's global stays on the stack: the stock command then reports it as
 * the error of an unfinished statement ("(null)" when _PROMPT2 is unset),
 * and so does rtlua, to stay byte-for-byte the same. */
static int push_line(lua_State *L, int first)
{
    char buf[MAX_INPUT_LINE];
    char *line = input_read(prompt_for(L, first), buf);
    if (line == NULL) return 0;
    lua_pop(L, 1); /* the prompt */
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
    if (first && line[0] == '=') lua_pushfstring(L, "return %s", line + 1);
    else lua_pushlstring(L, line, len);
    input_free(line);
    return 1;
}

/* The line on top as an expression: on success, replaces it by the chunk. */
static int try_expression(lua_State *L)
{
    const char *line = lua_tostring(L, -1);
    const char *expr = lua_pushfstring(L, "return %s;", line);
    int status = luaL_loadbuffer(L, expr, strlen(expr), "=stdin");
    if (status == LUA_OK) {
        lua_remove(L, -2); /* the "return" text */
        if (line[0] != '\0') input_remember(line);
    } else {
        lua_pop(L, 2); /* the message and the "return" text */
    }
    return status;
}

/* A syntax error whose complaint is the end of the input: read more. */
static int incomplete(lua_State *L, int status)
{
    if (status != LUA_ERRSYNTAX) return 0;
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    size_t mark = sizeof EOF_MARK - 1;
    if (len < mark || strcmp(msg + len - mark, EOF_MARK) != 0) return 0;
    lua_pop(L, 1);
    return 1;
}

/* The text at index 1 as a statement, with continuation lines. */
static int try_statement(lua_State *L)
{
    for (;;) {
        size_t len;
        const char *text = lua_tolstring(L, 1, &len);
        int status = luaL_loadbuffer(L, text, len, "=stdin");
        if (!incomplete(L, status) || !push_line(L, 0)) {
            input_remember(text);
            return status;
        }
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3); /* text, "\n", next line */
    }
}

/* Reads and compiles one input; -1 at the end. Leaves the chunk or message. */
static int read_input(lua_State *L)
{
    lua_settop(L, 0);
    if (!push_line(L, 1)) return -1;
    int status = try_expression(L);
    if (status != LUA_OK) status = try_statement(L);
    lua_remove(L, 1); /* the text */
    return status;
}

/* Prints whatever the chunk returned, with the global print. */
static void print_results(lua_State *L)
{
    int n = lua_gettop(L);
    if (n == 0) return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK)
        rtlua_message(rtlua_progname, lua_pushfstring(L, "error calling 'print' (%s)",
                                                      lua_tostring(L, -1)));
}

void rtlua_repl(lua_State *L)
{
    const char *name = rtlua_progname;
    rtlua_progname = NULL; /* interactive errors carry no program name */
    input_init();
    int status;
    while ((status = read_input(L)) != -1) {
        if (status == LUA_OK) status = rtlua_docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK) print_results(L);
        else rtlua_report(L, status);
    }
    lua_settop(L, 0);
    fputs("\n", stdout);
    fflush(stdout);
    rtlua_progname = name;
}
