# gen_keywords.cmake: generates the keyword header and tables from
# keywords.txt. Plain CMake, so neither a developer nor CI needs another tool.
#
#   cmake -P runtime/intern/gen_keywords.cmake
#       rewrites include/rtmem_keywords.h and runtime/intern/keywords_table.h
#   cmake -DCHECK=ON -DOUT_DIR=<scratch dir> -P runtime/intern/gen_keywords.cmake
#       generates into the scratch dir and fails if the committed files differ
#       (the ctest intern_keywords_generated)
#
# The rules for ids are written at the top of keywords.txt.

cmake_minimum_required(VERSION 3.20)

set(root "${CMAKE_CURRENT_LIST_DIR}/../..")
set(data "${CMAKE_CURRENT_LIST_DIR}/keywords.txt")
set(header_rel "include/rtmem_keywords.h")
set(table_rel "runtime/intern/keywords_table.h")

# ---- parse --------------------------------------------------------------------
file(STRINGS "${data}" lines ENCODING UTF-8)
set(sets "")          # set names, in order
set(vocab "")         # every distinct word, index = id - 1
set(cur "")
foreach(line IN LISTS lines)
  string(STRIP "${line}" line)
  if(line STREQUAL "" OR line MATCHES "^#")
    continue()
  endif()
  if(line MATCHES "^set +([a-z0-9_]+) +(.+)$")
    set(cur "${CMAKE_MATCH_1}")
    if("${cur}" IN_LIST sets)
      message(FATAL_ERROR "keywords.txt: set '${cur}' appears twice")
    endif()
    list(APPEND sets "${cur}")
    set(desc_${cur} "${CMAKE_MATCH_2}")
    set(words_${cur} "")
    set(consts_${cur} "")
    continue()
  endif()
  if(cur STREQUAL "")
    message(FATAL_ERROR "keywords.txt: a word before any 'set' line: ${line}")
  endif()
  string(REGEX REPLACE " +" ";" fields "${line}")
  list(POP_FRONT fields word)
  if(NOT word MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "keywords.txt: '${word}' is not an identifier-like word")
  endif()
  set(flags "RTM_KW_HARD")
  string(TOUPPER "${word}" suffix)
  foreach(f IN LISTS fields)
    if(f STREQUAL "soft")
      set(flags "RTM_KW_SOFT")
    elseif(f STREQUAL "reserved")
      set(flags "RTM_KW_HARD | RTM_KW_RESERVED")
    elseif(f MATCHES "^name=([A-Z0-9_]+)$")
      set(suffix "${CMAKE_MATCH_1}")
    else()
      message(FATAL_ERROR "keywords.txt: unknown field '${f}' for '${word}'")
    endif()
  endforeach()
  if("${word}" IN_LIST words_${cur})
    message(FATAL_ERROR "keywords.txt: '${word}' twice in set '${cur}'")
  endif()
  string(TOUPPER "${cur}" set_upper)
  set(const "RTM_KW_${set_upper}_${suffix}")
  if("${const}" IN_LIST consts_${cur})
    message(FATAL_ERROR "keywords.txt: two words of '${cur}' make ${const}; give one a name=")
  endif()
  list(FIND vocab "${word}" index)
  if(index EQUAL -1)
    list(LENGTH vocab index)
    list(APPEND vocab "${word}")
  endif()
  math(EXPR id "${index} + 1")
  list(APPEND words_${cur} "${word}")
  list(APPEND consts_${cur} "${const}")
  set(flag_${cur}_${id} "${flags}")
  set(const_${cur}_${word} "${const}")
endforeach()
list(LENGTH vocab count)
list(LENGTH sets nsets)
if(nsets GREATER 8)
  message(FATAL_ERROR "keywords.txt: at most 8 sets (a set mask is one byte)")
endif()

# ---- the public header ----------------------------------------------------------
set(h "/*
 * rtmem_keywords.h: the ids of the keywords rtmem ships, fixed at compile
 * time, so a parser can switch on a symbol.
 *
 * GENERATED from runtime/intern/keywords.txt by runtime/intern/gen_keywords.cmake.
 * Do not edit: edit keywords.txt and run `cmake -P runtime/intern/gen_keywords.cmake`.
 * Included by rtmem.h; it also stands alone (it needs nothing else).
 *
 * Ids 1..RTM_KW_COUNT belong to these words in every interner. An interner
 * seeded with a set holds each word of that set at exactly its id here; the
 * ids of the sets it was not seeded with are never handed out (interning one
 * of their words there gives an ordinary id above the range). A word in
 * several sets has a single id, so RTM_KW_PYTHON_IF == RTM_KW_LUA_IF: a
 * symbol has one id per interner, whatever the sets.
 */
#ifndef RTMEM_KEYWORDS_H
#define RTMEM_KEYWORDS_H

/* Keyword flags, per set (rtm_keyword_flags). */
#define RTM_KW_HARD 1u     /* never a name */
#define RTM_KW_SOFT 2u     /* contextual: a keyword only in some positions or modes */
#define RTM_KW_RESERVED 4u /* reserved for future use (always with RTM_KW_HARD) */

/* The reserved id range is 1..RTM_KW_COUNT. */
#define RTM_KW_COUNT ${count}u

/* The sets, in id order: the names rtm_config.keywords takes, and their
 * indices for rtm_keyword_flags. */
")
set(i 0)
foreach(s IN LISTS sets)
  string(TOUPPER "${s}" su)
  string(APPEND h "#define RTM_KWSET_${su} ${i}u /* \"${s}\" */\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND h "#define RTM_KWSET_COUNT ${nsets}u\n")

foreach(s IN LISTS sets)
  list(LENGTH words_${s} n)
  string(APPEND h "\n/* ${s}: ${desc_${s}}. ${n} words. */\n")
  foreach(w IN LISTS words_${s})
    list(FIND vocab "${w}" index)
    math(EXPR id "${index} + 1")
    string(APPEND h "#define ${const_${s}_${w}} ${id}u\n")
  endforeach()
endforeach()

string(APPEND h "
/* X-macros: X(constant, \"word\", flags) for every word of a set, in order.
 * For example, a table of names:
 *   #define NAME(k, w, f) [k] = w,
 *   static const char *const names[RTM_KW_COUNT + 1] = { RTM_KEYWORDS_LUA(NAME) };
 */
")
foreach(s IN LISTS sets)
  string(TOUPPER "${s}" su)
  string(APPEND h "#define RTM_KEYWORDS_${su}(X)")
  foreach(w IN LISTS words_${s})
    list(FIND vocab "${w}" index)
    math(EXPR id "${index} + 1")
    string(APPEND h " \\\n    X(${const_${s}_${w}}, \"${w}\", ${flag_${s}_${id}})")
  endforeach()
  string(APPEND h "\n")
endforeach()
string(APPEND h "\n#endif /* RTMEM_KEYWORDS_H */\n")

# ---- the internal tables --------------------------------------------------------
set(t "/*
 * keywords_table.h: the keyword vocabulary and the per-set flags, for
 * keywords.c only.
 *
 * GENERATED from runtime/intern/keywords.txt by runtime/intern/gen_keywords.cmake.
 * Do not edit.
 */

/* The set names, by RTM_KWSET_* index. */
static const char *const rtm_kwset_names[RTM_KWSET_COUNT] = {
")
foreach(s IN LISTS sets)
  string(APPEND t "    \"${s}\",\n")
endforeach()
string(APPEND t "};

/* Every word, by id (0 unused). */
static const rtm_kw_word rtm_kw_words[RTM_KW_COUNT + 1] = {
    {\"\", 0},
")
set(id 0)
foreach(w IN LISTS vocab)
  math(EXPR id "${id} + 1")
  string(LENGTH "${w}" len)
  string(APPEND t "    {\"${w}\", ${len}}, /* ${id} */\n")
endforeach()
string(APPEND t "};

/* The flags of every id in every set; 0: not in the set. */
static const unsigned char rtm_kw_flags[RTM_KWSET_COUNT][RTM_KW_COUNT + 1] = {
")
foreach(s IN LISTS sets)
  string(APPEND t "    { /* ${s} */\n        0,")
  set(col 1)
  foreach(id RANGE 1 ${count})
    if(DEFINED flag_${s}_${id})
      set(f "${flag_${s}_${id}}")
      if(f STREQUAL "RTM_KW_HARD")
        set(v 1)
      elseif(f STREQUAL "RTM_KW_SOFT")
        set(v 2)
      else()
        set(v 5)
      endif()
    else()
      set(v 0)
    endif()
    if(col EQUAL 16)
      string(APPEND t "\n       ")
      set(col 0)
    endif()
    string(APPEND t " ${v},")
    math(EXPR col "${col} + 1")
  endforeach()
  string(APPEND t "\n    },\n")
endforeach()
string(APPEND t "};\n")

# ---- write or check -------------------------------------------------------------
if(CHECK)
  if(NOT OUT_DIR)
    message(FATAL_ERROR "CHECK needs OUT_DIR, a scratch directory")
  endif()
  file(WRITE "${OUT_DIR}/rtmem_keywords.h" "${h}")
  file(WRITE "${OUT_DIR}/keywords_table.h" "${t}")
  set(stale "")
  foreach(pair "rtmem_keywords.h=${header_rel}" "keywords_table.h=${table_rel}")
    string(REPLACE "=" ";" pair "${pair}")
    list(GET pair 0 fresh)
    list(GET pair 1 committed)
    file(READ "${OUT_DIR}/${fresh}" a)
    if(EXISTS "${root}/${committed}")
      file(READ "${root}/${committed}" b)
    else()
      set(b "")
    endif()
    if(NOT a STREQUAL b)
      list(APPEND stale "${committed}")
    endif()
  endforeach()
  if(stale)
    message(FATAL_ERROR "out of date with keywords.txt: ${stale}\n"
                        "regenerate with: cmake -P runtime/intern/gen_keywords.cmake")
  endif()
  message(STATUS "keyword files match keywords.txt (${count} words, ${nsets} sets)")
else()
  file(WRITE "${root}/${header_rel}" "${h}")
  file(WRITE "${root}/${table_rel}" "${t}")
  message(STATUS "wrote ${header_rel} and ${table_rel} (${count} words, ${nsets} sets)")
endif()
