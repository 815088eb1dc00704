/*
 * keywords.c: the keyword sets rtmem ships (keywords.txt, through the
 * generated keywords_table.h), seeding an interner with them at their fixed
 * ids, and a caller's own keywords.
 */
#include "intern.h"

#include "keywords_table.h"

int rtm_keyword_set_find(const char *name)
{
    if (name == NULL) return -1;
    for (unsigned i = 0; i < RTM_KWSET_COUNT; i++)
        if (strcmp(rtm_kwset_names[i], name) == 0) return (int)i;
    return -1;
}

unsigned rtm_keyword_flags(unsigned set, rtm_sym sym)
{
    if (set >= RTM_KWSET_COUNT || sym == 0 || sym > RTM_KW_COUNT) return 0;
    return rtm_kw_flags[set][sym];
}

/* The mask of the named sets; RTM_EINVAL for a name that is not one. */
rtm_status _rtm_kw_parse(const char *const *names, unsigned *sets)
{
    *sets = 0;
    if (names == NULL) return RTM_OK;
    for (; *names != NULL; names++) {
        int i = rtm_keyword_set_find(*names);
        if (i < 0) return RTM_EINVAL;
        *sets |= 1u << i;
    }
    return RTM_OK;
}

/* Interns every word of the sets in the mask at its fixed id, in id order,
 * before the interner is shared. */
rtm_status _rtm_kw_seed(rtm_interner *in, unsigned sets)
{
    for (rtm_sym id = 1; id <= RTM_KW_COUNT; id++) {
        bool wanted = false;
        for (unsigned s = 0; s < RTM_KWSET_COUNT; s++)
            if ((sets >> s & 1) && rtm_kw_flags[s][id] != 0) wanted = true;
        if (!wanted) continue;
        const rtm_kw_word *w = &rtm_kw_words[id];
        rtm_status st;
        uint64_t h = rtm_hash(w->s, w->len, in->seed);
        rtm_sym sym = _rtm_intern_insert(in, h, w->s, w->len, RTM_INTERN_FIXED, id, &st);
        if (sym == 0) return st;
        rtm_assert(sym == id);
        in->kw_present[id >> 6] |= UINT64_C(1) << (id & 63);
    }
    return RTM_OK;
}

rtm_status rtm_interner_add_keywords(rtm_interner *in, const char *const *words)
{
    static const char where[] = "rtm_interner_add_keywords";
    if (in == NULL) return RTM_EINVAL;
    if (words == NULL) return _rtm_interner_fail(in, RTM_EINVAL, where), RTM_EINVAL;
    for (const char *const *w = words; *w != NULL; w++)
        if ((*w)[0] == '\0' || strlen(*w) > RTM_INTERN_MAX_LEN)
            return _rtm_interner_fail(in, RTM_EINVAL, where), RTM_EINVAL;
    if (atomic_load(&in->kw_last) + 1 != atomic_load(&in->next_id)) /* too late */
        return _rtm_interner_fail(in, RTM_EINVAL, where), RTM_EINVAL;
    for (; *words != NULL; words++) {
        size_t len = strlen(*words);
        rtm_status st;
        uint64_t h = rtm_hash(*words, len, in->seed);
        rtm_sym sym = _rtm_intern_insert(in, h, *words, len, RTM_INTERN_KEYWORD, 0, &st);
        if (sym == 0) return _rtm_interner_fail(in, st, where), st;
        if (!rtm_sym_is_keyword(in, sym)) /* an ordinary string slipped in meanwhile */
            return _rtm_interner_fail(in, RTM_EINVAL, where), RTM_EINVAL;
    }
    return RTM_OK;
}
