/*
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
#define RTM_KW_COUNT 142u

/* The sets, in id order: the names rtm_config.keywords takes, and their
 * indices for rtm_keyword_flags. */
#define RTM_KWSET_PYTHON 0u /* "python" */
#define RTM_KWSET_LUA 1u /* "lua" */
#define RTM_KWSET_C 2u /* "c" */
#define RTM_KWSET_JAVASCRIPT 3u /* "javascript" */
#define RTM_KWSET_RUST 4u /* "rust" */
#define RTM_KWSET_COUNT 5u

/* python: Python 3.11: keyword.kwlist (hard), then keyword.softkwlist (soft). 38 words. */
#define RTM_KW_PYTHON_FALSE 1u
#define RTM_KW_PYTHON_NONE 2u
#define RTM_KW_PYTHON_TRUE 3u
#define RTM_KW_PYTHON_AND 4u
#define RTM_KW_PYTHON_AS 5u
#define RTM_KW_PYTHON_ASSERT 6u
#define RTM_KW_PYTHON_ASYNC 7u
#define RTM_KW_PYTHON_AWAIT 8u
#define RTM_KW_PYTHON_BREAK 9u
#define RTM_KW_PYTHON_CLASS 10u
#define RTM_KW_PYTHON_CONTINUE 11u
#define RTM_KW_PYTHON_DEF 12u
#define RTM_KW_PYTHON_DEL 13u
#define RTM_KW_PYTHON_ELIF 14u
#define RTM_KW_PYTHON_ELSE 15u
#define RTM_KW_PYTHON_EXCEPT 16u
#define RTM_KW_PYTHON_FINALLY 17u
#define RTM_KW_PYTHON_FOR 18u
#define RTM_KW_PYTHON_FROM 19u
#define RTM_KW_PYTHON_GLOBAL 20u
#define RTM_KW_PYTHON_IF 21u
#define RTM_KW_PYTHON_IMPORT 22u
#define RTM_KW_PYTHON_IN 23u
#define RTM_KW_PYTHON_IS 24u
#define RTM_KW_PYTHON_LAMBDA 25u
#define RTM_KW_PYTHON_NONLOCAL 26u
#define RTM_KW_PYTHON_NOT 27u
#define RTM_KW_PYTHON_OR 28u
#define RTM_KW_PYTHON_PASS 29u
#define RTM_KW_PYTHON_RAISE 30u
#define RTM_KW_PYTHON_RETURN 31u
#define RTM_KW_PYTHON_TRY 32u
#define RTM_KW_PYTHON_WHILE 33u
#define RTM_KW_PYTHON_WITH 34u
#define RTM_KW_PYTHON_YIELD 35u
#define RTM_KW_PYTHON_UNDERSCORE 36u
#define RTM_KW_PYTHON_CASE 37u
#define RTM_KW_PYTHON_MATCH 38u

/* lua: Lua 5.4: the 22 reserved words of the manual, section 3.1. 22 words. */
#define RTM_KW_LUA_AND 4u
#define RTM_KW_LUA_BREAK 9u
#define RTM_KW_LUA_DO 39u
#define RTM_KW_LUA_ELSE 15u
#define RTM_KW_LUA_ELSEIF 40u
#define RTM_KW_LUA_END 41u
#define RTM_KW_LUA_FALSE 42u
#define RTM_KW_LUA_FOR 18u
#define RTM_KW_LUA_FUNCTION 43u
#define RTM_KW_LUA_GOTO 44u
#define RTM_KW_LUA_IF 21u
#define RTM_KW_LUA_IN 23u
#define RTM_KW_LUA_LOCAL 45u
#define RTM_KW_LUA_NIL 46u
#define RTM_KW_LUA_NOT 27u
#define RTM_KW_LUA_OR 28u
#define RTM_KW_LUA_REPEAT 47u
#define RTM_KW_LUA_RETURN 31u
#define RTM_KW_LUA_THEN 48u
#define RTM_KW_LUA_TRUE 49u
#define RTM_KW_LUA_UNTIL 50u
#define RTM_KW_LUA_WHILE 33u

/* c: C23 (ISO/IEC 9899:2024, 6.4.1): the keywords, then the alternative spellings. 59 words. */
#define RTM_KW_C_ALIGNAS 51u
#define RTM_KW_C_ALIGNOF 52u
#define RTM_KW_C_AUTO 53u
#define RTM_KW_C_BOOL 54u
#define RTM_KW_C_BREAK 9u
#define RTM_KW_C_CASE 37u
#define RTM_KW_C_CHAR 55u
#define RTM_KW_C_CONST 56u
#define RTM_KW_C_CONSTEXPR 57u
#define RTM_KW_C_CONTINUE 11u
#define RTM_KW_C_DEFAULT 58u
#define RTM_KW_C_DO 39u
#define RTM_KW_C_DOUBLE 59u
#define RTM_KW_C_ELSE 15u
#define RTM_KW_C_ENUM 60u
#define RTM_KW_C_EXTERN 61u
#define RTM_KW_C_FALSE 42u
#define RTM_KW_C_FLOAT 62u
#define RTM_KW_C_FOR 18u
#define RTM_KW_C_GOTO 44u
#define RTM_KW_C_IF 21u
#define RTM_KW_C_INLINE 63u
#define RTM_KW_C_INT 64u
#define RTM_KW_C_LONG 65u
#define RTM_KW_C_NULLPTR 66u
#define RTM_KW_C_REGISTER 67u
#define RTM_KW_C_RESTRICT 68u
#define RTM_KW_C_RETURN 31u
#define RTM_KW_C_SHORT 69u
#define RTM_KW_C_SIGNED 70u
#define RTM_KW_C_SIZEOF 71u
#define RTM_KW_C_STATIC 72u
#define RTM_KW_C_STATIC_ASSERT 73u
#define RTM_KW_C_STRUCT 74u
#define RTM_KW_C_SWITCH 75u
#define RTM_KW_C_THREAD_LOCAL 76u
#define RTM_KW_C_TRUE 49u
#define RTM_KW_C_TYPEDEF 77u
#define RTM_KW_C_TYPEOF 78u
#define RTM_KW_C_TYPEOF_UNQUAL 79u
#define RTM_KW_C_UNION 80u
#define RTM_KW_C_UNSIGNED 81u
#define RTM_KW_C_VOID 82u
#define RTM_KW_C_VOLATILE 83u
#define RTM_KW_C_WHILE 33u
#define RTM_KW_C__ATOMIC 84u
#define RTM_KW_C__BITINT 85u
#define RTM_KW_C__COMPLEX 86u
#define RTM_KW_C__DECIMAL128 87u
#define RTM_KW_C__DECIMAL32 88u
#define RTM_KW_C__DECIMAL64 89u
#define RTM_KW_C__GENERIC 90u
#define RTM_KW_C__IMAGINARY 91u
#define RTM_KW_C__NORETURN 92u
#define RTM_KW_C__ALIGNAS 93u
#define RTM_KW_C__ALIGNOF 94u
#define RTM_KW_C__BOOL 95u
#define RTM_KW_C__STATIC_ASSERT 96u
#define RTM_KW_C__THREAD_LOCAL 97u

/* javascript: ECMAScript 2023 (12.7.2): ReservedWord, then the words reserved in strict mode code (soft). 46 words. */
#define RTM_KW_JAVASCRIPT_AWAIT 8u
#define RTM_KW_JAVASCRIPT_BREAK 9u
#define RTM_KW_JAVASCRIPT_CASE 37u
#define RTM_KW_JAVASCRIPT_CATCH 98u
#define RTM_KW_JAVASCRIPT_CLASS 10u
#define RTM_KW_JAVASCRIPT_CONST 56u
#define RTM_KW_JAVASCRIPT_CONTINUE 11u
#define RTM_KW_JAVASCRIPT_DEBUGGER 99u
#define RTM_KW_JAVASCRIPT_DEFAULT 58u
#define RTM_KW_JAVASCRIPT_DELETE 100u
#define RTM_KW_JAVASCRIPT_DO 39u
#define RTM_KW_JAVASCRIPT_ELSE 15u
#define RTM_KW_JAVASCRIPT_ENUM 60u
#define RTM_KW_JAVASCRIPT_EXPORT 101u
#define RTM_KW_JAVASCRIPT_EXTENDS 102u
#define RTM_KW_JAVASCRIPT_FALSE 42u
#define RTM_KW_JAVASCRIPT_FINALLY 17u
#define RTM_KW_JAVASCRIPT_FOR 18u
#define RTM_KW_JAVASCRIPT_FUNCTION 43u
#define RTM_KW_JAVASCRIPT_IF 21u
#define RTM_KW_JAVASCRIPT_IMPORT 22u
#define RTM_KW_JAVASCRIPT_IN 23u
#define RTM_KW_JAVASCRIPT_INSTANCEOF 103u
#define RTM_KW_JAVASCRIPT_NEW 104u
#define RTM_KW_JAVASCRIPT_NULL 105u
#define RTM_KW_JAVASCRIPT_RETURN 31u
#define RTM_KW_JAVASCRIPT_SUPER 106u
#define RTM_KW_JAVASCRIPT_SWITCH 75u
#define RTM_KW_JAVASCRIPT_THIS 107u
#define RTM_KW_JAVASCRIPT_THROW 108u
#define RTM_KW_JAVASCRIPT_TRUE 49u
#define RTM_KW_JAVASCRIPT_TRY 32u
#define RTM_KW_JAVASCRIPT_TYPEOF 78u
#define RTM_KW_JAVASCRIPT_VAR 109u
#define RTM_KW_JAVASCRIPT_VOID 82u
#define RTM_KW_JAVASCRIPT_WHILE 33u
#define RTM_KW_JAVASCRIPT_WITH 34u
#define RTM_KW_JAVASCRIPT_YIELD 35u
#define RTM_KW_JAVASCRIPT_LET 110u
#define RTM_KW_JAVASCRIPT_STATIC 72u
#define RTM_KW_JAVASCRIPT_IMPLEMENTS 111u
#define RTM_KW_JAVASCRIPT_INTERFACE 112u
#define RTM_KW_JAVASCRIPT_PACKAGE 113u
#define RTM_KW_JAVASCRIPT_PRIVATE 114u
#define RTM_KW_JAVASCRIPT_PROTECTED 115u
#define RTM_KW_JAVASCRIPT_PUBLIC 116u

/* rust: Rust, edition 2021: the strict keywords, then the reserved keywords. 52 words. */
#define RTM_KW_RUST_UNDERSCORE 36u
#define RTM_KW_RUST_AS 5u
#define RTM_KW_RUST_ASYNC 7u
#define RTM_KW_RUST_AWAIT 8u
#define RTM_KW_RUST_BREAK 9u
#define RTM_KW_RUST_CONST 56u
#define RTM_KW_RUST_CONTINUE 11u
#define RTM_KW_RUST_CRATE 117u
#define RTM_KW_RUST_DYN 118u
#define RTM_KW_RUST_ELSE 15u
#define RTM_KW_RUST_ENUM 60u
#define RTM_KW_RUST_EXTERN 61u
#define RTM_KW_RUST_FALSE 42u
#define RTM_KW_RUST_FN 119u
#define RTM_KW_RUST_FOR 18u
#define RTM_KW_RUST_IF 21u
#define RTM_KW_RUST_IMPL 120u
#define RTM_KW_RUST_IN 23u
#define RTM_KW_RUST_LET 110u
#define RTM_KW_RUST_LOOP 121u
#define RTM_KW_RUST_MATCH 38u
#define RTM_KW_RUST_MOD 122u
#define RTM_KW_RUST_MOVE 123u
#define RTM_KW_RUST_MUT 124u
#define RTM_KW_RUST_PUB 125u
#define RTM_KW_RUST_REF 126u
#define RTM_KW_RUST_RETURN 31u
#define RTM_KW_RUST_SELF 127u
#define RTM_KW_RUST_SELF_TYPE 128u
#define RTM_KW_RUST_STATIC 72u
#define RTM_KW_RUST_STRUCT 74u
#define RTM_KW_RUST_SUPER 106u
#define RTM_KW_RUST_TRAIT 129u
#define RTM_KW_RUST_TRUE 49u
#define RTM_KW_RUST_TYPE 130u
#define RTM_KW_RUST_UNSAFE 131u
#define RTM_KW_RUST_USE 132u
#define RTM_KW_RUST_WHERE 133u
#define RTM_KW_RUST_WHILE 33u
#define RTM_KW_RUST_ABSTRACT 134u
#define RTM_KW_RUST_BECOME 135u
#define RTM_KW_RUST_BOX 136u
#define RTM_KW_RUST_DO 39u
#define RTM_KW_RUST_FINAL 137u
#define RTM_KW_RUST_MACRO 138u
#define RTM_KW_RUST_OVERRIDE 139u
#define RTM_KW_RUST_PRIV 140u
#define RTM_KW_RUST_TRY 32u
#define RTM_KW_RUST_TYPEOF 78u
#define RTM_KW_RUST_UNSIZED 141u
#define RTM_KW_RUST_VIRTUAL 142u
#define RTM_KW_RUST_YIELD 35u

/* X-macros: X(constant, "word", flags) for every word of a set, in order.
 * For example, a table of names:
 *   #define NAME(k, w, f) [k] = w,
 *   static const char *const names[RTM_KW_COUNT + 1] = { RTM_KEYWORDS_LUA(NAME) };
 */
#define RTM_KEYWORDS_PYTHON(X) \
    X(RTM_KW_PYTHON_FALSE, "False", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_NONE, "None", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_TRUE, "True", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_AND, "and", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_AS, "as", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_ASSERT, "assert", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_ASYNC, "async", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_AWAIT, "await", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_BREAK, "break", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_CLASS, "class", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_CONTINUE, "continue", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_DEF, "def", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_DEL, "del", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_ELIF, "elif", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_ELSE, "else", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_EXCEPT, "except", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_FINALLY, "finally", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_FOR, "for", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_FROM, "from", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_GLOBAL, "global", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_IF, "if", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_IMPORT, "import", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_IN, "in", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_IS, "is", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_LAMBDA, "lambda", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_NONLOCAL, "nonlocal", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_NOT, "not", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_OR, "or", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_PASS, "pass", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_RAISE, "raise", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_RETURN, "return", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_TRY, "try", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_WHILE, "while", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_WITH, "with", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_YIELD, "yield", RTM_KW_HARD) \
    X(RTM_KW_PYTHON_UNDERSCORE, "_", RTM_KW_SOFT) \
    X(RTM_KW_PYTHON_CASE, "case", RTM_KW_SOFT) \
    X(RTM_KW_PYTHON_MATCH, "match", RTM_KW_SOFT)
#define RTM_KEYWORDS_LUA(X) \
    X(RTM_KW_LUA_AND, "and", RTM_KW_HARD) \
    X(RTM_KW_LUA_BREAK, "break", RTM_KW_HARD) \
    X(RTM_KW_LUA_DO, "do", RTM_KW_HARD) \
    X(RTM_KW_LUA_ELSE, "else", RTM_KW_HARD) \
    X(RTM_KW_LUA_ELSEIF, "elseif", RTM_KW_HARD) \
    X(RTM_KW_LUA_END, "end", RTM_KW_HARD) \
    X(RTM_KW_LUA_FALSE, "false", RTM_KW_HARD) \
    X(RTM_KW_LUA_FOR, "for", RTM_KW_HARD) \
    X(RTM_KW_LUA_FUNCTION, "function", RTM_KW_HARD) \
    X(RTM_KW_LUA_GOTO, "goto", RTM_KW_HARD) \
    X(RTM_KW_LUA_IF, "if", RTM_KW_HARD) \
    X(RTM_KW_LUA_IN, "in", RTM_KW_HARD) \
    X(RTM_KW_LUA_LOCAL, "local", RTM_KW_HARD) \
    X(RTM_KW_LUA_NIL, "nil", RTM_KW_HARD) \
    X(RTM_KW_LUA_NOT, "not", RTM_KW_HARD) \
    X(RTM_KW_LUA_OR, "or", RTM_KW_HARD) \
    X(RTM_KW_LUA_REPEAT, "repeat", RTM_KW_HARD) \
    X(RTM_KW_LUA_RETURN, "return", RTM_KW_HARD) \
    X(RTM_KW_LUA_THEN, "then", RTM_KW_HARD) \
    X(RTM_KW_LUA_TRUE, "true", RTM_KW_HARD) \
    X(RTM_KW_LUA_UNTIL, "until", RTM_KW_HARD) \
    X(RTM_KW_LUA_WHILE, "while", RTM_KW_HARD)
#define RTM_KEYWORDS_C(X) \
    X(RTM_KW_C_ALIGNAS, "alignas", RTM_KW_HARD) \
    X(RTM_KW_C_ALIGNOF, "alignof", RTM_KW_HARD) \
    X(RTM_KW_C_AUTO, "auto", RTM_KW_HARD) \
    X(RTM_KW_C_BOOL, "bool", RTM_KW_HARD) \
    X(RTM_KW_C_BREAK, "break", RTM_KW_HARD) \
    X(RTM_KW_C_CASE, "case", RTM_KW_HARD) \
    X(RTM_KW_C_CHAR, "char", RTM_KW_HARD) \
    X(RTM_KW_C_CONST, "const", RTM_KW_HARD) \
    X(RTM_KW_C_CONSTEXPR, "constexpr", RTM_KW_HARD) \
    X(RTM_KW_C_CONTINUE, "continue", RTM_KW_HARD) \
    X(RTM_KW_C_DEFAULT, "default", RTM_KW_HARD) \
    X(RTM_KW_C_DO, "do", RTM_KW_HARD) \
    X(RTM_KW_C_DOUBLE, "double", RTM_KW_HARD) \
    X(RTM_KW_C_ELSE, "else", RTM_KW_HARD) \
    X(RTM_KW_C_ENUM, "enum", RTM_KW_HARD) \
    X(RTM_KW_C_EXTERN, "extern", RTM_KW_HARD) \
    X(RTM_KW_C_FALSE, "false", RTM_KW_HARD) \
    X(RTM_KW_C_FLOAT, "float", RTM_KW_HARD) \
    X(RTM_KW_C_FOR, "for", RTM_KW_HARD) \
    X(RTM_KW_C_GOTO, "goto", RTM_KW_HARD) \
    X(RTM_KW_C_IF, "if", RTM_KW_HARD) \
    X(RTM_KW_C_INLINE, "inline", RTM_KW_HARD) \
    X(RTM_KW_C_INT, "int", RTM_KW_HARD) \
    X(RTM_KW_C_LONG, "long", RTM_KW_HARD) \
    X(RTM_KW_C_NULLPTR, "nullptr", RTM_KW_HARD) \
    X(RTM_KW_C_REGISTER, "register", RTM_KW_HARD) \
    X(RTM_KW_C_RESTRICT, "restrict", RTM_KW_HARD) \
    X(RTM_KW_C_RETURN, "return", RTM_KW_HARD) \
    X(RTM_KW_C_SHORT, "short", RTM_KW_HARD) \
    X(RTM_KW_C_SIGNED, "signed", RTM_KW_HARD) \
    X(RTM_KW_C_SIZEOF, "sizeof", RTM_KW_HARD) \
    X(RTM_KW_C_STATIC, "static", RTM_KW_HARD) \
    X(RTM_KW_C_STATIC_ASSERT, "static_assert", RTM_KW_HARD) \
    X(RTM_KW_C_STRUCT, "struct", RTM_KW_HARD) \
    X(RTM_KW_C_SWITCH, "switch", RTM_KW_HARD) \
    X(RTM_KW_C_THREAD_LOCAL, "thread_local", RTM_KW_HARD) \
    X(RTM_KW_C_TRUE, "true", RTM_KW_HARD) \
    X(RTM_KW_C_TYPEDEF, "typedef", RTM_KW_HARD) \
    X(RTM_KW_C_TYPEOF, "typeof", RTM_KW_HARD) \
    X(RTM_KW_C_TYPEOF_UNQUAL, "typeof_unqual", RTM_KW_HARD) \
    X(RTM_KW_C_UNION, "union", RTM_KW_HARD) \
    X(RTM_KW_C_UNSIGNED, "unsigned", RTM_KW_HARD) \
    X(RTM_KW_C_VOID, "void", RTM_KW_HARD) \
    X(RTM_KW_C_VOLATILE, "volatile", RTM_KW_HARD) \
    X(RTM_KW_C_WHILE, "while", RTM_KW_HARD) \
    X(RTM_KW_C__ATOMIC, "_Atomic", RTM_KW_HARD) \
    X(RTM_KW_C__BITINT, "_BitInt", RTM_KW_HARD) \
    X(RTM_KW_C__COMPLEX, "_Complex", RTM_KW_HARD) \
    X(RTM_KW_C__DECIMAL128, "_Decimal128", RTM_KW_HARD) \
    X(RTM_KW_C__DECIMAL32, "_Decimal32", RTM_KW_HARD) \
    X(RTM_KW_C__DECIMAL64, "_Decimal64", RTM_KW_HARD) \
    X(RTM_KW_C__GENERIC, "_Generic", RTM_KW_HARD) \
    X(RTM_KW_C__IMAGINARY, "_Imaginary", RTM_KW_HARD) \
    X(RTM_KW_C__NORETURN, "_Noreturn", RTM_KW_HARD) \
    X(RTM_KW_C__ALIGNAS, "_Alignas", RTM_KW_HARD) \
    X(RTM_KW_C__ALIGNOF, "_Alignof", RTM_KW_HARD) \
    X(RTM_KW_C__BOOL, "_Bool", RTM_KW_HARD) \
    X(RTM_KW_C__STATIC_ASSERT, "_Static_assert", RTM_KW_HARD) \
    X(RTM_KW_C__THREAD_LOCAL, "_Thread_local", RTM_KW_HARD)
#define RTM_KEYWORDS_JAVASCRIPT(X) \
    X(RTM_KW_JAVASCRIPT_AWAIT, "await", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_BREAK, "break", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_CASE, "case", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_CATCH, "catch", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_CLASS, "class", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_CONST, "const", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_CONTINUE, "continue", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_DEBUGGER, "debugger", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_DEFAULT, "default", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_DELETE, "delete", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_DO, "do", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_ELSE, "else", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_ENUM, "enum", RTM_KW_HARD | RTM_KW_RESERVED) \
    X(RTM_KW_JAVASCRIPT_EXPORT, "export", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_EXTENDS, "extends", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_FALSE, "false", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_FINALLY, "finally", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_FOR, "for", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_FUNCTION, "function", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_IF, "if", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_IMPORT, "import", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_IN, "in", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_INSTANCEOF, "instanceof", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_NEW, "new", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_NULL, "null", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_RETURN, "return", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_SUPER, "super", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_SWITCH, "switch", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_THIS, "this", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_THROW, "throw", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_TRUE, "true", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_TRY, "try", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_TYPEOF, "typeof", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_VAR, "var", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_VOID, "void", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_WHILE, "while", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_WITH, "with", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_YIELD, "yield", RTM_KW_HARD) \
    X(RTM_KW_JAVASCRIPT_LET, "let", RTM_KW_SOFT) \
    X(RTM_KW_JAVASCRIPT_STATIC, "static", RTM_KW_SOFT) \
    X(RTM_KW_JAVASCRIPT_IMPLEMENTS, "implements", RTM_KW_SOFT) \
    X(RTM_KW_JAVASCRIPT_INTERFACE, "interface", RTM_KW_SOFT) \
    X(RTM_KW_JAVASCRIPT_PACKAGE, "package", RTM_KW_SOFT) \
    X(RTM_KW_JAVASCRIPT_PRIVATE, "private", RTM_KW_SOFT) \
    X(RTM_KW_JAVASCRIPT_PROTECTED, "protected", RTM_KW_SOFT) \
    X(RTM_KW_JAVASCRIPT_PUBLIC, "public", RTM_KW_SOFT)
#define RTM_KEYWORDS_RUST(X) \
    X(RTM_KW_RUST_UNDERSCORE, "_", RTM_KW_HARD) \
    X(RTM_KW_RUST_AS, "as", RTM_KW_HARD) \
    X(RTM_KW_RUST_ASYNC, "async", RTM_KW_HARD) \
    X(RTM_KW_RUST_AWAIT, "await", RTM_KW_HARD) \
    X(RTM_KW_RUST_BREAK, "break", RTM_KW_HARD) \
    X(RTM_KW_RUST_CONST, "const", RTM_KW_HARD) \
    X(RTM_KW_RUST_CONTINUE, "continue", RTM_KW_HARD) \
    X(RTM_KW_RUST_CRATE, "crate", RTM_KW_HARD) \
    X(RTM_KW_RUST_DYN, "dyn", RTM_KW_HARD) \
    X(RTM_KW_RUST_ELSE, "else", RTM_KW_HARD) \
    X(RTM_KW_RUST_ENUM, "enum", RTM_KW_HARD) \
    X(RTM_KW_RUST_EXTERN, "extern", RTM_KW_HARD) \
    X(RTM_KW_RUST_FALSE, "false", RTM_KW_HARD) \
    X(RTM_KW_RUST_FN, "fn", RTM_KW_HARD) \
    X(RTM_KW_RUST_FOR, "for", RTM_KW_HARD) \
    X(RTM_KW_RUST_IF, "if", RTM_KW_HARD) \
    X(RTM_KW_RUST_IMPL, "impl", RTM_KW_HARD) \
    X(RTM_KW_RUST_IN, "in", RTM_KW_HARD) \
    X(RTM_KW_RUST_LET, "let", RTM_KW_HARD) \
    X(RTM_KW_RUST_LOOP, "loop", RTM_KW_HARD) \
    X(RTM_KW_RUST_MATCH, "match", RTM_KW_HARD) \
    X(RTM_KW_RUST_MOD, "mod", RTM_KW_HARD) \
    X(RTM_KW_RUST_MOVE, "move", RTM_KW_HARD) \
    X(RTM_KW_RUST_MUT, "mut", RTM_KW_HARD) \
    X(RTM_KW_RUST_PUB, "pub", RTM_KW_HARD) \
    X(RTM_KW_RUST_REF, "ref", RTM_KW_HARD) \
    X(RTM_KW_RUST_RETURN, "return", RTM_KW_HARD) \
    X(RTM_KW_RUST_SELF, "self", RTM_KW_HARD) \
    X(RTM_KW_RUST_SELF_TYPE, "Self", RTM_KW_HARD) \
    X(RTM_KW_RUST_STATIC, "static", RTM_KW_HARD) \
    X(RTM_KW_RUST_STRUCT, "struct", RTM_KW_HARD) \
    X(RTM_KW_RUST_SUPER, "super", RTM_KW_HARD) \
    X(RTM_KW_RUST_TRAIT, "trait", RTM_KW_HARD) \
    X(RTM_KW_RUST_TRUE, "true", RTM_KW_HARD) \
    X(RTM_KW_RUST_TYPE, "type", RTM_KW_HARD) \
    X(RTM_KW_RUST_UNSAFE, "unsafe", RTM_KW_HARD) \
    X(RTM_KW_RUST_USE, "use", RTM_KW_HARD) \
    X(RTM_KW_RUST_WHERE, "where", RTM_KW_HARD) \
    X(RTM_KW_RUST_WHILE, "while", RTM_KW_HARD) \
    X(RTM_KW_RUST_ABSTRACT, "abstract", RTM_KW_HARD | RTM_KW_RESERVED) \
    X(RTM_KW_RUST_BECOME, "become", RTM_KW_HARD | RTM_KW_RESERVED) \
    X(RTM_KW_RUST_BOX, "box", RTM_KW_HARD | RTM_KW_RESERVED) \
    X(RTM_KW_RUST_DO, "do", RTM_KW_HARD | RTM_KW_RESERVED) \
    X(RTM_KW_RUST_FINAL, "final", RTM_KW_HARD | RTM_KW_RESERVED) \
    X(RTM_KW_RUST_MACRO, "macro", RTM_KW_HARD | RTM_KW_RESERVED) \
    X(RTM_KW_RUST_OVERRIDE, "override", RTM_KW_HARD | RTM_KW_RESERVED) \
    X(RTM_KW_RUST_PRIV, "priv", RTM_KW_HARD | RTM_KW_RESERVED) \
    X(RTM_KW_RUST_TRY, "try", RTM_KW_HARD | RTM_KW_RESERVED) \
    X(RTM_KW_RUST_TYPEOF, "typeof", RTM_KW_HARD | RTM_KW_RESERVED) \
    X(RTM_KW_RUST_UNSIZED, "unsized", RTM_KW_HARD | RTM_KW_RESERVED) \
    X(RTM_KW_RUST_VIRTUAL, "virtual", RTM_KW_HARD | RTM_KW_RESERVED) \
    X(RTM_KW_RUST_YIELD, "yield", RTM_KW_HARD | RTM_KW_RESERVED)

#endif /* RTMEM_KEYWORDS_H */
