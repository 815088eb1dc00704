/* fuzz_intern.c: an interner fed strings cut from the fuzzer's bytes (any
 * bytes, NULs included, lengths 0 to 300, many repeats, keywords among them),
 * checked against a plain list of what went in: one id per distinct string,
 * the same id on every later sight, rtm_sym_str giving the bytes back,
 * rtm_intern_find agreeing and never inserting, a keyword keeping its fixed
 * id. Sometimes under a context limit, where an insert may fail with
 * RTM_ELIMIT but a string already present must still be found.
 *
 * Built with clang's libFuzzer in the ASan build (fuzz.cmake). */
#include "rtmem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEEN 4096

typedef struct seen {
    const uint8_t *s;
    size_t len;
    rtm_sym id;
} seen;

static seen list[MAX_SEEN];

static void fail(const char *what, size_t len)
{
    fprintf(stderr, "fuzz_intern: %s (a string of %zu bytes)\n", what, len);
    abort();
}

static rtm_sym known(const uint8_t *s, size_t len, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].len == len && memcmp(list[i].s, s, len) == 0) return list[i].id;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    /* the first byte picks the setting: keyword sets, and a tight limit */
    unsigned mode = data[0];
    data++, size--;
    const char *const lua[] = {"lua", NULL}, *const python[] = {"python", "c", NULL};
    rtm_config cfg = {0, (mode & 1) ? lua : (mode & 2) ? python : NULL, NULL, 0};
    if (mode & 4) cfg.limit_bytes = 64u << 10; /* room for a few hundred short strings */
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    if (ctx == NULL) return 0; /* a limit below the seeded interner: fine */
    rtm_interner *in = rtm_ctx_interner(ctx);
    if (in == NULL) fail("no interner", 0);
    if ((mode & 1) && rtm_intern_find(in, "while", 5) != RTM_KW_LUA_WHILE) fail("keyword id", 5);

    size_t n = 0, pos = 0;
    while (pos < size && n < MAX_SEEN) {
        /* a length byte, then that many bytes (what is left, at the end);
         * a length byte >= 200 repeats an earlier string instead */
        unsigned l = data[pos++];
        const uint8_t *s;
        size_t len;
        if (l >= 200 && n > 0) {
            seen *e = &list[(l - 200) % n];
            s = e->s, len = e->len;
        } else {
            len = l % 40 == 39 ? 300 : l % 40;
            if (len > size - pos) len = size - pos;
            s = data + pos;
            pos += len;
        }
        rtm_sym before = known(s, len, n), found = rtm_intern_find(in, (const char *)s, len);
        if (before == 0 && found != 0) {
            /* only a seeded keyword is there without having gone in */
            if (cfg.keywords == NULL || found > RTM_KW_COUNT) fail("find before", len);
            before = found;
            list[n++] = (seen){s, len, found};
        } else if (found != before) {
            fail("find before", len);
        }
        rtm_sym id = 0;
        rtm_status st = rtm_intern_ex(in, (const char *)s, len, &id);
        if (st != RTM_OK) {
            if (before != 0) fail("a present string not found", len);
            if (!(mode & 4) || st != RTM_ELIMIT || id != 0) fail("status", len);
            if (rtm_intern_find(in, (const char *)s, len) != 0) fail("half inserted", len);
            continue;
        }
        if (before != 0 && id != before) fail("a second id", len);
        if (before == 0) {
            if (id == 0) fail("id 0", len);
            for (size_t i = 0; i < n; i++)
                if (list[i].id == id) fail("an id given twice", len);
            list[n++] = (seen){s, len, id};
        }
        size_t back_len = 0;
        const char *back = rtm_sym_str(in, id, &back_len);
        if (back == NULL || back_len != len || memcmp(back, s, len) != 0 || back[len] != '\0')
            fail("the bytes back", len);
    }
    /* every string is still there, with its id and bytes */
    for (size_t i = 0; i < n; i++) {
        if (rtm_intern_find(in, (const char *)list[i].s, list[i].len) != list[i].id)
            fail("find after", list[i].len);
        size_t back_len;
        const char *back = rtm_sym_str(in, list[i].id, &back_len);
        if (back == NULL || back_len != list[i].len || memcmp(back, list[i].s, back_len) != 0)
            fail("bytes after", list[i].len);
    }
    if (rtm_ctx_check(ctx) != RTM_OK) fail("context check", 0);
    rtm_ctx_destroy(ctx);
    return 0;
}
