/* test_intern_keywords.c: the keyword sets of the interner: each set's words
 * at their constant ids with their flags, ids that do not depend on which
 * sets were asked for, the python and lua sets against lists written
 * independently (Python's own keyword module, the Lua manual), unknown set
 * names, and a caller's own keywords. */
#include "support.h"

#include <stdio.h>

#ifndef RTM_TEST_DATA_DIR
#  error "RTM_TEST_DATA_DIR must name tests/data (tests/intern.cmake sets it)"
#endif

static rtm_ctx *ctx_with(const char *const *kw, const rtm_page_source *ps, size_t limit)
{
    rtm_config cfg = {limit, kw, ps, RTM_CTX_DEBUG};
    return rtm_ctx_new(&cfg);
}

static void assert_sym_is(rtm_interner *in, rtm_sym sym, const char *s, size_t len)
{
    size_t n = 99;
    const char *p = rtm_sym_str(in, sym, &n);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(n, len);
    ck_assert_int_eq(memcmp(p, s, len), 0);
    ck_assert_int_eq(p[len], '\0');
}

/* ---- keywords ------------------------------------------------------------------------ */

typedef struct kw_entry {
    rtm_sym id;
    const char *word;
    unsigned flags;
} kw_entry;

#define KW_ENTRY(k, w, f) {k, w, f},
static const kw_entry python_kw[] = {RTM_KEYWORDS_PYTHON(KW_ENTRY)};
static const kw_entry lua_kw[] = {RTM_KEYWORDS_LUA(KW_ENTRY)};
static const kw_entry c_kw[] = {RTM_KEYWORDS_C(KW_ENTRY)};
static const kw_entry js_kw[] = {RTM_KEYWORDS_JAVASCRIPT(KW_ENTRY)};
static const kw_entry rust_kw[] = {RTM_KEYWORDS_RUST(KW_ENTRY)};
#undef KW_ENTRY

static const struct {
    const char *name;
    unsigned set;
    const kw_entry *words;
    size_t n;
} kw_sets[] = {
    {"python", RTM_KWSET_PYTHON, python_kw, sizeof python_kw / sizeof python_kw[0]},
    {"lua", RTM_KWSET_LUA, lua_kw, sizeof lua_kw / sizeof lua_kw[0]},
    {"c", RTM_KWSET_C, c_kw, sizeof c_kw / sizeof c_kw[0]},
    {"javascript", RTM_KWSET_JAVASCRIPT, js_kw, sizeof js_kw / sizeof js_kw[0]},
    {"rust", RTM_KWSET_RUST, rust_kw, sizeof rust_kw / sizeof rust_kw[0]},
};

static size_t set_size(unsigned set)
{
    size_t n = 0;
    for (rtm_sym id = 1; id <= RTM_KW_COUNT; id++) n += rtm_keyword_flags(set, id) != 0;
    return n;
}

/* Each set alone: its words at their constants with their flags, nothing else
 * of the range handed out. */
START_TEST(keyword_sets_each)
{
    ck_assert_uint_eq(sizeof kw_sets / sizeof kw_sets[0], RTM_KWSET_COUNT);
    for (size_t k = 0; k < RTM_KWSET_COUNT; k++) {
        ck_assert_int_eq(rtm_keyword_set_find(kw_sets[k].name), (int)kw_sets[k].set);
        rtm_ctx *ctx = ctx_with((const char *const[]){kw_sets[k].name, NULL}, NULL, 0);
        ck_assert_ptr_nonnull(ctx);
        rtm_interner *in = rtm_ctx_interner(ctx);
        ck_assert_uint_eq(set_size(kw_sets[k].set), kw_sets[k].n);
        for (size_t i = 0; i < kw_sets[k].n; i++) {
            const kw_entry *e = &kw_sets[k].words[i];
            size_t len = strlen(e->word);
            ck_assert_uint_ge(e->id, 1);
            ck_assert_uint_le(e->id, RTM_KW_COUNT);
            ck_assert_uint_eq(rtm_intern_find(in, e->word, len), e->id);
            ck_assert_uint_eq(rtm_intern(in, e->word, len), e->id);
            ck_assert_uint_eq(rtm_keyword_flags(kw_sets[k].set, e->id), e->flags);
            ck_assert(rtm_sym_is_keyword(in, e->id));
            assert_sym_is(in, e->id, e->word, len);
        }
        size_t held = 0;
        for (rtm_sym id = 1; id <= RTM_KW_COUNT; id++) {
            const char *p = rtm_sym_str(in, id, NULL);
            if (rtm_keyword_flags(kw_sets[k].set, id)) {
                ck_assert_ptr_nonnull(p);
                held++;
            } else {
                ck_assert_ptr_null(p); /* another set's id: never handed out here */
                ck_assert(!rtm_sym_is_keyword(in, id));
            }
        }
        ck_assert_uint_eq(held, kw_sets[k].n);
        rtm_stats st;
        rtm_ctx_stats(ctx, &st);
        ck_assert_uint_eq(st.intern_strings, kw_sets[k].n);
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
        rtm_ctx_destroy(ctx);
    }
}
END_TEST

/* A keyword's id does not depend on the other sets asked for; a word of a set
 * not asked for is an ordinary string. */
START_TEST(keyword_ids_fixed_across_configs)
{
    ck_assert_uint_eq(RTM_KW_PYTHON_IF, RTM_KW_LUA_IF);
    ck_assert_uint_eq(RTM_KW_LUA_IF, RTM_KW_C_IF);
    ck_assert_uint_eq(RTM_KW_C_IF, RTM_KW_JAVASCRIPT_IF);
    ck_assert_uint_eq(RTM_KW_JAVASCRIPT_IF, RTM_KW_RUST_IF);
    ck_assert_uint_ne(RTM_KW_RUST_SELF, RTM_KW_RUST_SELF_TYPE);
    ck_assert_uint_ne(RTM_KW_PYTHON_FALSE, RTM_KW_C_FALSE);
    rtm_ctx *lua = ctx_with((const char *const[]){"lua", NULL}, NULL, 0);
    rtm_ctx *both = ctx_with((const char *const[]){"rust", "python", "lua", NULL}, NULL, 0);
    rtm_ctx *none = ctx_with(NULL, NULL, 0);
    rtm_interner *il = rtm_ctx_interner(lua), *ib = rtm_ctx_interner(both), *in0 = rtm_ctx_interner(none);
    ck_assert_uint_eq(rtm_intern(il, "local", 5), RTM_KW_LUA_LOCAL);
    ck_assert_uint_eq(rtm_intern(ib, "local", 5), RTM_KW_LUA_LOCAL);
    ck_assert_uint_eq(rtm_intern(ib, "if", 2), RTM_KW_PYTHON_IF);
    ck_assert_uint_eq(rtm_intern(ib, "match", 5), RTM_KW_PYTHON_MATCH);
    ck_assert_uint_eq(rtm_intern(ib, "match", 5), RTM_KW_RUST_MATCH);
    /* flags are per set: soft in Python, hard in Rust */
    ck_assert_uint_eq(rtm_keyword_flags(RTM_KWSET_PYTHON, RTM_KW_PYTHON_MATCH), RTM_KW_SOFT);
    ck_assert_uint_eq(rtm_keyword_flags(RTM_KWSET_RUST, RTM_KW_RUST_MATCH), RTM_KW_HARD);
    ck_assert_uint_eq(rtm_keyword_flags(RTM_KWSET_RUST, RTM_KW_RUST_BECOME),
                      RTM_KW_HARD | RTM_KW_RESERVED);
    ck_assert_uint_eq(rtm_keyword_flags(RTM_KWSET_JAVASCRIPT, RTM_KW_JAVASCRIPT_LET), RTM_KW_SOFT);
    ck_assert_uint_eq(rtm_keyword_flags(RTM_KWSET_LUA, RTM_KW_PYTHON_DEF), 0);
    ck_assert_uint_eq(rtm_keyword_flags(RTM_KWSET_COUNT, RTM_KW_LUA_LOCAL), 0);
    ck_assert_uint_eq(rtm_keyword_flags(RTM_KWSET_LUA, 0), 0);
    ck_assert_uint_eq(rtm_keyword_flags(RTM_KWSET_LUA, RTM_KW_COUNT + 1), 0);
    /* Not seeded: an ordinary id above the range, and not a keyword. */
    rtm_sym def = rtm_intern(il, "def", 3);
    ck_assert_uint_gt(def, RTM_KW_COUNT);
    ck_assert(!rtm_sym_is_keyword(il, def));
    ck_assert_uint_eq(rtm_intern(in0, "if", 2), RTM_KW_COUNT + 1);
    ck_assert(!rtm_sym_is_keyword(in0, RTM_KW_PYTHON_IF));
    rtm_ctx_destroy(lua);
    rtm_ctx_destroy(both);
    rtm_ctx_destroy(none);
}
END_TEST

/* Reads a test data file's words: those after `[section]` up to the next
 * section (all words when section is NULL), skipping # comments. */
static size_t read_words(const char *file, const char *section, char words[][32], size_t cap)
{
    char path[512], line[256];
    snprintf(path, sizeof path, "%s/%s", RTM_TEST_DATA_DIR, file);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t n = 0;
    bool in_section = section == NULL;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        if (line[0] == '[') {
            in_section = section && strncmp(line + 1, section, strlen(section)) == 0;
            continue;
        }
        if (!in_section) continue;
        for (char *w = strtok(line, " \t\r\n"); w; w = strtok(NULL, " \t\r\n")) {
            ck_assert_uint_lt(n, cap);
            snprintf(words[n++], 32, "%s", w);
        }
    }
    fclose(f);
    return n;
}

/* Python's own keyword.kwlist and keyword.softkwlist, as the interpreter wrote
 * them: exactly the python set, with the right flags. */
START_TEST(python_set_matches_python)
{
    char hard[64][32], soft[16][32];
    size_t nh = read_words("python311_keywords.txt", "kwlist", hard, 64);
    size_t ns = read_words("python311_keywords.txt", "softkwlist", soft, 16);
    ck_assert_uint_eq(nh, 35);
    ck_assert_uint_eq(ns, 3);
    rtm_ctx *ctx = ctx_with((const char *const[]){"python", NULL}, NULL, 0);
    rtm_interner *in = rtm_ctx_interner(ctx);
    for (size_t i = 0; i < nh + ns; i++) {
        const char *w = i < nh ? hard[i] : soft[i - nh];
        rtm_sym id = rtm_intern_find(in, w, strlen(w));
        ck_assert_msg(id != 0 && id <= RTM_KW_COUNT, "%s is not a seeded keyword", w);
        ck_assert_uint_eq(rtm_keyword_flags(RTM_KWSET_PYTHON, id), i < nh ? RTM_KW_HARD : RTM_KW_SOFT);
    }
    ck_assert_uint_eq(set_size(RTM_KWSET_PYTHON), nh + ns); /* and nothing else */
    ck_assert_uint_eq(rtm_intern_find(in, "def", 3), RTM_KW_PYTHON_DEF);
    ck_assert_uint_eq(rtm_intern_find(in, "_", 1), RTM_KW_PYTHON_UNDERSCORE);
    rtm_ctx_destroy(ctx);
}
END_TEST

/* The Lua 5.4 manual's list (section 3.1): exactly the lua set. */
START_TEST(lua_set_matches_manual)
{
    char words[64][32];
    size_t n = read_words("lua54_reserved.txt", NULL, words, 64);
    ck_assert_uint_eq(n, 22);
    rtm_ctx *ctx = ctx_with((const char *const[]){"lua", NULL}, NULL, 0);
    rtm_interner *in = rtm_ctx_interner(ctx);
    for (size_t i = 0; i < n; i++) {
        rtm_sym id = rtm_intern_find(in, words[i], strlen(words[i]));
        ck_assert_msg(id != 0 && id <= RTM_KW_COUNT, "%s is not a seeded keyword", words[i]);
        ck_assert_uint_eq(rtm_keyword_flags(RTM_KWSET_LUA, id), RTM_KW_HARD);
    }
    ck_assert_uint_eq(set_size(RTM_KWSET_LUA), n);
    rtm_ctx_destroy(ctx);
}
END_TEST

START_TEST(keyword_set_unknown)
{
    ck_assert_int_eq(rtm_keyword_set_find("cobol"), -1);
    ck_assert_int_eq(rtm_keyword_set_find(NULL), -1);
    ck_assert_int_eq(rtm_keyword_set_find("Python"), -1);
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    ck_assert_ptr_null(ctx_with((const char *const[]){"lua", "cobol", NULL}, &tp.source, 0));
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0); /* nothing left behind */
    ck_assert_ptr_null(rtm_interner_new((const char *const[]){"cobol", NULL}));
    rtm_interner *in = (rtm_interner *)&tp; /* anything but NULL: it must be cleared */
    ck_assert_int_eq(rtm_interner_new_ex((const char *const[]){"cobol", NULL}, &in), RTM_EINVAL);
    ck_assert_ptr_null(in);
    ck_assert_int_eq(rtm_interner_new_ex(NULL, NULL), RTM_EINVAL);
    ck_assert_int_eq(rtm_interner_new_ex((const char *const[]){"rust", NULL}, &in), RTM_OK);
    ck_assert_uint_eq(rtm_intern_find(in, "fn", 2), RTM_KW_RUST_FN);
    rtm_interner_destroy(in);
}
END_TEST

START_TEST(custom_keywords)
{
    rtm_ctx *ctx = ctx_with((const char *const[]){"lua", NULL}, NULL, 0);
    rtm_interner *in = rtm_ctx_interner(ctx);
    static const char *const mine[] = {"fn", "local", "let", "fn", "yield", NULL};
    ck_assert_int_eq(rtm_interner_add_keywords(in, mine), RTM_OK);
    /* New words take the next ids in order; a seeded one and a repeat keep theirs. */
    ck_assert_uint_eq(rtm_intern_find(in, "fn", 2), RTM_KW_COUNT + 1);
    ck_assert_uint_eq(rtm_intern_find(in, "local", 5), RTM_KW_LUA_LOCAL);
    ck_assert_uint_eq(rtm_intern_find(in, "let", 3), RTM_KW_COUNT + 2);
    ck_assert_uint_eq(rtm_intern_find(in, "yield", 5), RTM_KW_COUNT + 3);
    ck_assert_int_eq(rtm_interner_add_keywords(in, (const char *const[]){"loop", NULL}), RTM_OK);
    ck_assert_uint_eq(rtm_intern_find(in, "loop", 4), RTM_KW_COUNT + 4);
    for (rtm_sym s = RTM_KW_COUNT + 1; s <= RTM_KW_COUNT + 4; s++) ck_assert(rtm_sym_is_keyword(in, s));
    ck_assert(rtm_sym_is_keyword(in, RTM_KW_LUA_LOCAL));
    /* Empty words are refused, before anything is added. */
    ck_assert_int_eq(rtm_interner_add_keywords(in, (const char *const[]){"ok", "", NULL}), RTM_EINVAL);
    ck_assert_uint_eq(rtm_intern_find(in, "ok", 2), 0);
    ck_assert_int_eq(rtm_interner_add_keywords(in, NULL), RTM_EINVAL);
    ck_assert_int_eq(rtm_interner_error(in), RTM_EINVAL);
    /* Once an ordinary string has an id, keywords can no longer come first. */
    rtm_sym plain = rtm_intern(in, "x", 1);
    ck_assert_uint_eq(plain, RTM_KW_COUNT + 5);
    ck_assert(!rtm_sym_is_keyword(in, plain));
    ck_assert_int_eq(rtm_interner_add_keywords(in, (const char *const[]){"late", NULL}), RTM_EINVAL);
    ck_assert_uint_eq(rtm_intern_find(in, "late", 4), 0);
    ck_assert_int_eq(rtm_interner_add_keywords(NULL, mine), RTM_EINVAL);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}
END_TEST

static Suite *intern_keywords_suite(void)
{
    Suite *s = suite_create("intern_keywords");
    TCase *kw = tcase_create("keywords");
    tcase_add_test(kw, keyword_sets_each);
    tcase_add_test(kw, keyword_ids_fixed_across_configs);
    tcase_add_test(kw, python_set_matches_python);
    tcase_add_test(kw, lua_set_matches_manual);
    tcase_add_test(kw, keyword_set_unknown);
    tcase_add_test(kw, custom_keywords);
    suite_add_tcase(s, kw);
    return s;
}

RTM_TEST_MAIN(intern_keywords_suite)
