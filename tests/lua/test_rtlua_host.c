/*
 * test_rtlua_host.c: rtlua's own behaviour, beyond what it shares with the
 * stock command (tests/lua/compat.sh checks that): the memory limit, the
 * stats on exit, the heap choice and its own options. Each test runs the
 * rtlua given as the first argument and checks its stdout, stderr and exit
 * status exactly.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *rtlua_path;

typedef struct result {
    char out[65536];
    char err[65536];
    int status; /* the exit status, or 128 + the signal */
} result;

static void slurp(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    lseek(fd, 0, SEEK_SET);
    ssize_t r;
    while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0) n += (size_t)r;
    buf[n] = '\0';
    close(fd);
}

static int temp_fd(void)
{
    char name[] = "/tmp/rtlua-test-XXXXXX"; /* a scratch file, unlinked at once */
    int fd = mkstemp(name);
    ck_assert_int_ge(fd, 0);
    unlink(name);
    return fd;
}

/* Runs rtlua (as argv[0] "rtlua") with args, NULL-terminated; stdin from
 * input (may be NULL: empty). extra_env: "NAME=value" or NULL. */
static void run_env(result *r, const char *input, const char *extra_env, const char *const *args)
{
    int in = temp_fd(), out = temp_fd(), err = temp_fd();
    if (input != NULL) ck_assert_int_eq(write(in, input, strlen(input)), (ssize_t)strlen(input));
    lseek(in, 0, SEEK_SET);
    const char *argv[64];
    int n = 0;
    argv[n++] = "rtlua";
    for (; args[n - 1] != NULL && n < 63; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        unsetenv("LUA_INIT");
        unsetenv("LUA_INIT_5_4");
        if (extra_env != NULL) putenv((char *)extra_env);
        execv(rtlua_path, (char *const *)argv);
        _exit(127);
    }
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    close(in);
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
}

#define RUN(r, ...) run_env((r), NULL, NULL, (const char *const[]){__VA_ARGS__, NULL})

/* A script that allocates without bound: strings kept in a table. */
#define HOG "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(200) .. i end"

/* ---- the limit ---------------------------------------------------------------- */

START_TEST(limit_uncaught_is_lua_memory_error)
{
    static result r;
    RUN(&r, "--limit", "8M", "-e", "print('start')", "-e", HOG, "-e", "print('not reached')");
    ck_assert_str_eq(r.out, "start\n");
    /* Lua's memory error: no traceback (the message handler is not called
     * for it), the stock command's exit status */
    ck_assert_str_eq(r.err, "rtlua: not enough memory\n");
    ck_assert_int_eq(r.status, 1);
}
END_TEST

START_TEST(limit_in_script_file)
{
    static result r;
    char path[] = "/tmp/rtlua-hog-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *src = "print('script')\n" HOG "\n";
    ck_assert_int_eq(write(fd, src, strlen(src)), (ssize_t)strlen(src));
    close(fd);
    RUN(&r, "--limit=6M", path, "arg1");
    unlink(path);
    ck_assert_str_eq(r.out, "script\n");
    ck_assert_str_eq(r.err, "rtlua: not enough memory\n");
    ck_assert_int_eq(r.status, 1);
}
END_TEST

START_TEST(limit_caught_by_pcall_and_carries_on)
{
    static result r;
    RUN(&r, "--limit", "8M", "-e",
        "for round = 1, 5 do\n"
        "  local ok, e = pcall(function() " HOG " end)\n"
        "  collectgarbage()\n"
        "  print(round, ok, e)\n"
        "end\n"
        "local parts = {}\n"
        "for i = 1, 1000 do parts[i] = tostring(i) end\n"
        "print(#table.concat(parts), 'carried on')");
    ck_assert_str_eq(r.out, "1\tfalse\tnot enough memory\n"
                            "2\tfalse\tnot enough memory\n"
                            "3\tfalse\tnot enough memory\n"
                            "4\tfalse\tnot enough memory\n"
                            "5\tfalse\tnot enough memory\n"
                            "2893\tcarried on\n");
    ck_assert_str_eq(r.err, "");
    ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(limit_in_coroutine_and_one_big_block)
{
    static result r;
    RUN(&r, "--limit", "8M", "-e",
        "local co = coroutine.create(function() " HOG " end)\n"
        "print(coroutine.resume(co))\n"
        "print(coroutine.status(co))\n"
        "co = nil collectgarbage()\n"
        "print(pcall(string.rep, 'x', 64 * 1024 * 1024))\n"
        "print(#string.rep('x', 1024 * 1024))");
    ck_assert_str_eq(r.out, "false\tnot enough memory\n"
                            "dead\n"
                            "false\tnot enough memory\n"
                            "1048576\n");
    ck_assert_str_eq(r.err, "");
    ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(limit_too_small_for_the_state)
{
    static result r;
    RUN(&r, "--limit", "4K", "-e", "print('never')");
    ck_assert_str_eq(r.out, "");
    ck_assert_str_eq(r.err, "rtlua: cannot create state: not enough memory\n");
    ck_assert_int_eq(r.status, 1);
}
END_TEST

START_TEST(limit_stats_count_refusals)
{
    static result r;
    RUN(&r, "--limit", "8M", "--stats=json", "-e", "print(pcall(function() " HOG " end))");
    ck_assert_str_eq(r.out, "false\tnot enough memory\n");
    ck_assert_ptr_nonnull(strstr(r.err, "\"limit_bytes\": 8388608"));
    ck_assert_ptr_null(strstr(r.err, "\"limit_hits\": 0,"));
    ck_assert_ptr_nonnull(strstr(r.err, "\"heap_bytes_in_use\": 0,"));
    ck_assert_int_eq(r.status, 0);
}
END_TEST

/* ---- stats on exit ------------------------------------------------------------------ */

START_TEST(stats_text)
{
    static result r;
    RUN(&r, "--stats", "-e", "local t = {} for i = 1, 1000 do t[i] = {tostring(i)} end print(#t)");
    ck_assert_str_eq(r.out, "1000\n");
    ck_assert_ptr_nonnull(strstr(r.err, "rtlua: memory of the Lua state (rtmem context)\n"));
    /* printed after lua_close: the state gave back every block */
    ck_assert_ptr_nonnull(strstr(r.err, "  heap       in use 0 B in 0 blocks, peak "));
    ck_assert_ptr_nonnull(strstr(r.err, "  errors     0 failing calls, 0 bad frees\n"));
    ck_assert_ptr_nonnull(strstr(r.err, " table "));
    ck_assert_ptr_nonnull(strstr(r.err, " string "));
    ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(stats_json_balances)
{
    static result r;
    RUN(&r, "--stats=json", "-e", "local s = {} for i = 1, 5000 do s[i] = ('k'):rep(i % 40) .. i end");
    ck_assert_str_eq(r.out, "");
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(r.err[0], '{');
    ck_assert_ptr_nonnull(strstr(r.err, "\"heap_bytes_in_use\": 0,"));
    ck_assert_ptr_nonnull(strstr(r.err, "\"heap_blocks_in_use\": 0,"));
    ck_assert_ptr_nonnull(strstr(r.err, "\"heap_bad_frees\": 0,"));
    ck_assert_ptr_nonnull(strstr(r.err, "\"lua_allocs_by_tag\": {"));
    /* every allocation was freed: allocs == frees */
    unsigned long long allocs = 0, frees = 0;
    const char *a = strstr(r.err, "\"heap_allocs\": ");
    const char *f = strstr(r.err, "\"heap_frees\": ");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(f);
    sscanf(a, "\"heap_allocs\": %llu", &allocs);
    sscanf(f, "\"heap_frees\": %llu", &frees);
    ck_assert_uint_gt(allocs, 5000);
    ck_assert_uint_eq(allocs, frees);
    /* the document ends where it should */
    size_t n = strlen(r.err);
    ck_assert_uint_gt(n, 4);
    ck_assert_str_eq(r.err + n - 4, "}\n}\n");
}
END_TEST

START_TEST(stats_prometheus)
{
    static result r;
    RUN(&r, "--stats=prometheus", "-e", "x = {}");
    ck_assert_ptr_nonnull(strstr(r.err, "# TYPE rtmem_heap_allocs gauge\nrtmem_heap_allocs "));
    ck_assert_ptr_nonnull(strstr(r.err, "rtmem_lua_allocs{tag=\"table\"} "));
    ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(stats_after_os_exit)
{
    static result r;
    /* os.exit leaves without returning to main: the stats still come */
    RUN(&r, "--stats", "-e", "io.write('x') os.exit(3)");
    ck_assert_str_eq(r.out, "x");
    ck_assert_ptr_nonnull(strstr(r.err, "rtlua: memory of the Lua state"));
    ck_assert_int_eq(r.status, 3);
    /* closing the state first: everything was given back */
    RUN(&r, "--stats=json", "-e", "x = {} os.exit(true, true)");
    ck_assert_ptr_nonnull(strstr(r.err, "\"heap_bytes_in_use\": 0,"));
    ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(stats_on_error_exit)
{
    static result r;
    RUN(&r, "--stats=json", "-e", "error('boom')");
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "rtlua: (command line):1: boom\nstack traceback:\n"));
    ck_assert_ptr_nonnull(strstr(r.err, "\"heap_bytes_in_use\": 0,"));
}
END_TEST

/* ---- the heap choice, debug mode ------------------------------------------------------ */

START_TEST(heap_system)
{
    static result r;
    RUN(&r, "--heap=system", "-e", "local t = {} for i = 1, 1e4 do t[i] = i .. '' end print(#t)");
    ck_assert_str_eq(r.out, "10000\n");
    ck_assert_str_eq(r.err, "");
    ck_assert_int_eq(r.status, 0);
    RUN(&r, "--heap=rtmem", "-e", "print('rtmem')");
    ck_assert_str_eq(r.out, "rtmem\n");
    ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(heap_system_refuses_limit_and_stats)
{
    static result r;
    RUN(&r, "--heap=system", "--limit", "1M", "-e", "print(1)");
    ck_assert_str_eq(r.out, "");
    ck_assert_str_eq(r.err, "rtlua: '--limit' and '--stats' need the rtmem heap\n");
    ck_assert_int_eq(r.status, 1);
    RUN(&r, "--stats", "--heap=system", "-e", "print(1)");
    ck_assert_str_eq(r.err, "rtlua: '--limit' and '--stats' need the rtmem heap\n");
    ck_assert_int_eq(r.status, 1);
}
END_TEST

START_TEST(debug_context)
{
    static result r;
    run_env(&r, NULL, "RTM_CTX_DEBUG=1",
            (const char *const[]){"--stats=json", "-e",
                                  "local t = {} for i = 1, 2e4 do t[i] = {i, tostring(i)} end "
                                  "t = nil collectgarbage() print('ok')",
                                  NULL});
    ck_assert_str_eq(r.out, "ok\n");
    ck_assert_ptr_nonnull(strstr(r.err, "\"heap_bad_frees\": 0,"));
    ck_assert_ptr_nonnull(strstr(r.err, "\"errors\": 0,"));
    ck_assert_int_eq(r.status, 0);
}
END_TEST

/* ---- own options ------------------------------------------------------------------------ */

START_TEST(help)
{
    static result r;
    RUN(&r, "--help");
    ck_assert_ptr_nonnull(strstr(r.out, "usage: rtlua [options] [script [args]]\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "  --limit BYTES "));
    ck_assert_ptr_nonnull(strstr(r.out, "  --stats[=FORMAT] "));
    ck_assert_ptr_nonnull(strstr(r.out, "  --heap=HEAP "));
    ck_assert_str_eq(r.err, "");
    ck_assert_int_eq(r.status, 0);
}
END_TEST

static void expect_own_error(const char *const *args, const char *message)
{
    static result r;
    run_env(&r, NULL, NULL, args);
    ck_assert_str_eq(r.out, "");
    char head[256];
    snprintf(head, sizeof head, "rtlua: %s\nusage: rtlua [options] [script [args]]\n", message);
    ck_assert_msg(strncmp(r.err, head, strlen(head)) == 0, "stderr: %s", r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "  --limit BYTES "));
    ck_assert_int_eq(r.status, 1);
}

START_TEST(bad_own_options)
{
    const char *size_msg = "'--limit' takes a size in bytes, with an optional K, M or G suffix";
    expect_own_error((const char *const[]){"--limit", NULL}, "'--limit' needs argument");
    expect_own_error((const char *const[]){"--limit", "-e", "x=1", NULL}, "'--limit' needs argument");
    expect_own_error((const char *const[]){"--limit", "abc", NULL}, size_msg);
    expect_own_error((const char *const[]){"--limit", "0", NULL}, size_msg);
    expect_own_error((const char *const[]){"--limit=12X", NULL}, size_msg);
    expect_own_error((const char *const[]){"--limit=", NULL}, size_msg);
    expect_own_error((const char *const[]){"--limit=99999999999999999999G", NULL}, size_msg);
    expect_own_error((const char *const[]){"--limit=17179869184G", NULL}, size_msg);
    expect_own_error((const char *const[]){"--stats=xml", NULL}, "'--stats' takes text, json or prometheus");
    expect_own_error((const char *const[]){"--heap=", NULL}, "'--heap' takes rtmem or system");
    expect_own_error((const char *const[]){"--heap=jemalloc", NULL}, "'--heap' takes rtmem or system");
}
END_TEST

START_TEST(unknown_long_option_is_stock_error)
{
    static result r;
    RUN(&r, "--limits", "5");
    ck_assert_ptr_nonnull(strstr(r.err, "rtlua: unrecognized option '--limits'\n"));
    ck_assert_ptr_null(strstr(r.err, "--limit BYTES")); /* the stock usage, as lua5.4 prints it */
    ck_assert_int_eq(r.status, 1);
}
END_TEST

START_TEST(own_options_after_script_are_arguments)
{
    static result r;
    RUN(&r, "-e", "print(#arg, arg[0], arg[1])", "-", "--stats", "--limit", "1");
    /* "-" is the script (empty stdin), the rest its arguments: no stats */
    ck_assert_str_eq(r.out, "3\t-\t--stats\n");
    ck_assert_str_eq(r.err, "");
    ck_assert_int_eq(r.status, 0);
    run_env(&r, "print(...)", NULL, (const char *const[]){"-", "--stats", "--heap=x", NULL});
    ck_assert_str_eq(r.out, "--stats\t--heap=x\n");
    ck_assert_str_eq(r.err, "");
    ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(own_options_in_arg_table)
{
    static result r;
    /* no script: the interpreter at 0, its options (rtlua's own too) after */
    RUN(&r, "--limit", "64M", "--stats=json", "-e", "print(arg[0], arg[1], arg[2], arg[3], arg[4])");
    ck_assert_str_eq(r.out, "rtlua\t--limit\t64M\t--stats=json\t-e\n");
    ck_assert_ptr_nonnull(strstr(r.err, "\"limit_bytes\": 67108864,"));
    ck_assert_int_eq(r.status, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("rtlua");
    TCase *limit = tcase_create("limit");
    tcase_set_timeout(limit, 120);
    tcase_add_test(limit, limit_uncaught_is_lua_memory_error);
    tcase_add_test(limit, limit_in_script_file);
    tcase_add_test(limit, limit_caught_by_pcall_and_carries_on);
    tcase_add_test(limit, limit_in_coroutine_and_one_big_block);
    tcase_add_test(limit, limit_too_small_for_the_state);
    tcase_add_test(limit, limit_stats_count_refusals);
    suite_add_tcase(s, limit);
    TCase *stats = tcase_create("stats");
    tcase_set_timeout(stats, 60);
    tcase_add_test(stats, stats_text);
    tcase_add_test(stats, stats_json_balances);
    tcase_add_test(stats, stats_prometheus);
    tcase_add_test(stats, stats_after_os_exit);
    tcase_add_test(stats, stats_on_error_exit);
    suite_add_tcase(s, stats);
    TCase *heap = tcase_create("heap");
    tcase_set_timeout(heap, 60);
    tcase_add_test(heap, heap_system);
    tcase_add_test(heap, heap_system_refuses_limit_and_stats);
    tcase_add_test(heap, debug_context);
    suite_add_tcase(s, heap);
    TCase *opts = tcase_create("options");
    tcase_set_timeout(opts, 60);
    tcase_add_test(opts, help);
    tcase_add_test(opts, bad_own_options);
    tcase_add_test(opts, unknown_long_option_is_stock_error);
    tcase_add_test(opts, own_options_after_script_are_arguments);
    tcase_add_test(opts, own_options_in_arg_table);
    suite_add_tcase(s, opts);
    return s;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-RTLUA\n", argv[0]);
        return 2;
    }
    rtlua_path = argv[1];
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
