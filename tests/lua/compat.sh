#!/usr/bin/env bash
# compat.sh: runs the same command lines under the stock lua5.4 and under
# rtlua and compares, byte for byte, what each writes to stdout and stderr
# and its exit status.
#
#   compat.sh STOCK RTLUA [GROUP]
#
# GROUP: scripts (every compat/*.lua as a script), cli (options, errors, the
# arg table, stdin, LUA_INIT, -l, -W, -i, os.exit), or all (the default).
# Both run as `lua` (bash's exec -a), so messages carry the same program
# name; in a scratch directory holding a copy of compat/, with the Lua
# environment variables cleared. RTLUA may carry options ("rtlua --limit=1G").
set -u
stock=$1
rtlua=$2
group=${3:-all}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here"/compat/* "$work"/
cd "$work" || exit 2
unset LUA_INIT LUA_INIT_5_4 LUA_PATH LUA_PATH_5_4 LUA_CPATH LUA_CPATH_5_4
export INPUTRC=/dev/null TERM=dumb

failures=0
cases=0

# run OUTPREFIX STDIN INTERP ARGS...: the interpreter as `lua`, with the
# case's environment (CASE_ENV, "NAME=value" words).
run() {
    local out=$1 input=$2 interp=$3
    shift 3
    (
        for kv in ${CASE_ENV:-}; do export "${kv?}"; done
        # shellcheck disable=SC2086 # RTLUA may carry its own options
        exec -a lua $interp "$@"
    ) <"$input" >"$out.out" 2>"$out.err"
    echo $? >"$out.rc"
}

# check NAME STDIN ARGS...: one case.
check() {
    local name=$1 input=$2
    shift 2
    cases=$((cases + 1))
    run "$work/.stock" "$input" "$stock" "$@"
    run "$work/.rtlua" "$input" "$rtlua" "$@"
    local bad=0 part
    for part in out err rc; do
        if ! cmp -s "$work/.stock.$part" "$work/.rtlua.$part"; then
            if [ $bad -eq 0 ]; then echo "FAIL $name: lua $*"; fi
            bad=1
            echo "--- $part: stock (<) vs rtlua (>)"
            diff "$work/.stock.$part" "$work/.rtlua.$part" | head -40
        fi
    done
    if [ $bad -ne 0 ]; then failures=$((failures + 1)); fi
    return 0
}

# check_interrupt NAME ARGS...: Ctrl-C (SIGINT) once the chunk has printed
# "ready": the stock command turns it into the error "interrupted!".
check_interrupt() {
    local name=$1
    shift
    cases=$((cases + 1))
    local who bad=0 part
    for who in stock rtlua; do
        local interp
        if [ $who = stock ]; then interp=$stock; else interp=$rtlua; fi
        : >"$work/.$who.out"
        # shellcheck disable=SC2086
        (exec -a lua $interp "$@") </dev/null >"$work/.$who.out" 2>"$work/.$who.err" &
        local pid=$! tries=0
        until grep -q ready "$work/.$who.out" 2>/dev/null || [ $tries -ge 200 ]; do
            sleep 0.05
            tries=$((tries + 1))
        done
        kill -INT $pid 2>/dev/null
        wait $pid
        echo $? >"$work/.$who.rc"
    done
    for part in out err rc; do
        if ! cmp -s "$work/.stock.$part" "$work/.rtlua.$part"; then
            if [ $bad -eq 0 ]; then echo "FAIL $name: lua $*"; fi
            bad=1
            echo "--- $part: stock (<) vs rtlua (>)"
            diff "$work/.stock.$part" "$work/.rtlua.$part" | head -40
        fi
    done
    if [ $bad -ne 0 ]; then failures=$((failures + 1)); fi
    return 0
}

N=/dev/null

# input NAME TEXT: a file holding TEXT (printf format), for a case's stdin.
input() {
    printf "$2" >"$work/$1.in"
    echo "$work/$1.in"
}

# rtlua run with its own options ("rtlua --limit=256M") has them in arg[-n]:
# the cases printing the whole arg table are then left out.
own_options=0
case $rtlua in *" "*) own_options=1 ;; esac

scripts() {
    local f
    for f in "$here"/compat/*.lua; do
        f=$(basename "$f")
        if [ $own_options = 1 ] && [ "$f" = args.lua ]; then continue; fi
        check "script $f" $N "$f"
    done
    [ $own_options = 1 ] || check "args" $N args.lua a "b c" "" -x --
    check "warn -W" $N -W warn.lua
    check "stdin lines" repl_input.txt stdin_lines.lua
    printf 'first line\n  42.5 tail\nmore\n' >"$work/numbers.txt"
    check "stdin numbers" "$work/numbers.txt" stdin_lines.lua
}

cli() {
    # versions and plain chunks
    check "-v" $N -v
    check "-v -v" $N -v -v
    check "-e" $N -e "print(1, 'one')"
    check "-e twice" $N -e "x = 2" -e "print(x * 21)"
    check "-e glued" $N "-eprint('glued')"
    check "-e -v order" $N -e "print('e')" -v
    check "-e then script" $N -e "print('e first')" args.lua 1 2
    check "script then -e is an argument" $N args.lua -e "print(1)"
    # bad command lines: usage and status 1
    local o
    for o in -x -e -l --x -vx -Ex -Wx -ix -- - -i- ---; do
        check "bad option $o" $N "$o" -e "print('not run')"
    done
    check "-e needs argument (end)" $N -e
    check "-l needs argument (end)" $N -l
    check "-e then option" $N -e -v
    check "-v then bad" $N -v -z
    check "bad after script" $N args.lua -z
    # errors
    check "error string" $N -e "error('boom')"
    check "error level 0" $N -e "error('boom', 0)"
    check "error table" $N -e "error({})"
    check "error __tostring" $N -e "error(setmetatable({}, {__tostring = function() return 'TS' end}))"
    check "error __tostring not string" $N -e "error(setmetatable({}, {__tostring = function() return 1 end}))"
    check "error number" $N -e "error(12)"
    check "error nil" $N -e "error()"
    check "error in -e stops the rest" $N -e "error('first')" -e "print('second')"
    check "runtime error" $N -e "local t = nil; print(t.x)"
    check "stack overflow" $N -e "local function f() return 1 + f() end f()"
    check "syntax error -e" $N -e "x ="
    check "syntax error -e string" $N -e "x = 'unfinished"
    check "syntax error file" $N syntax_error.lua
    check "syntax error stdin" syntax_error.lua -
    check "traceback" $N traceback.lua
    check "error object script" $N returns_error_object.lua
    check "no such script" $N no_such_file.lua
    check "script is a directory" $N /
    check "arg not a table" $N -e "arg = nil" args.lua
    check "arg table replaced" $N -e "arg = {'p', 'q'}" args.lua 1 2 3
    check "arg has holes" $N -e "arg = {n = 1}" args.lua x
    # os.exit and the exit status
    local e
    for e in "" true false 0 1 3 255 256 -1 "0, true" "7, true" "false, true" "true, false"; do
        check "os.exit($e)" $N -e "io.write('out ') os.exit($e)"
    done
    check "os.exit in script" $N exit_buffered.lua 9
    check "os.exit 0 buffered" $N exit_buffered.lua
    check "os.exit with close runs finalizers" $N -e "setmetatable({}, {__gc = function() print('gc') end}) os.exit(4, true)"
    check "os.exit without close skips them" $N -e "setmetatable({}, {__gc = function() print('gc') end}) os.exit(4)"
    check "finalizer at normal end" $N -e "setmetatable({}, {__gc = function() print('gc at close') end})"
    check "error in finalizer at close" $N -W -e "setmetatable({}, {__gc = function() error('gc error') end})"
    # the arg table and scripts on stdin
    check "arg without script" $N -e "for i = -1, 3 do print(i, arg[i]) end" --
    check "-- then script" $N -- args.lua x
    check "-- then nothing" args.lua --
    check "-- then -" $N -- - x
    check "- is stdin" args.lua - a b
    check "stdin without options" args.lua
    check "stdin after -e" args.lua -e "print('e')" -
    check "-e alone does not read stdin" args.lua -e "print('only e')"
    check "-v alone does not read stdin" args.lua -v
    check "-E and -W before stdin" args.lua -E -W -
    check "script varargs" $N args.lua "" " " "two words"
    # LUA_INIT
    CASE_ENV="LUA_INIT=print('init')" check "LUA_INIT" $N -e "print('e')"
    CASE_ENV="LUA_INIT_5_4=print('init54') LUA_INIT=print('init')" check "LUA_INIT_5_4 first" $N -e "print('e')"
    CASE_ENV="LUA_INIT=error('ie')" check "LUA_INIT error" $N -e "print('not run')"
    CASE_ENV="LUA_INIT_5_4=error('ie54')" check "LUA_INIT_5_4 error" $N -e "print('not run')"
    CASE_ENV="LUA_INIT=x=" check "LUA_INIT syntax" $N -e "print('not run')"
    CASE_ENV="LUA_INIT=@compatmod.lua" check "LUA_INIT file" $N -e "print('e')"
    CASE_ENV="LUA_INIT=@no_such_init.lua" check "LUA_INIT missing file" $N -e "print('not run')"
    CASE_ENV="LUA_INIT=print('init')" check "-E ignores LUA_INIT" $N -E -e "print('e')"
    CASE_ENV="LUA_PATH=/nowhere/?.lua" check "-E ignores LUA_PATH" $N -E -l compatmod -e "print(compatmod.hello())"
    CASE_ENV="LUA_PATH=/nowhere/?.lua" check "LUA_PATH used" $N -l compatmod
    # -l
    check "-l module" $N -l compatmod -e "print(compatmod.hello())"
    check "-l glued" $N -lcompatmod -e "print(compatmod.name)"
    check "-l g=mod" $N -l cm=compatmod -e "print(cm.hello(), compatmod)"
    check "-l stdlib" $N -l string -e "print(string.upper('s'))"
    check "-l missing" $N -l no_such_module
    check "-l order" $N -e "print('before')" -l compatmod -e "print('after')"
    check "-l error" $N -l syntax_error
    # warnings
    check "warn off" $N warn.lua
    check "-W" $N -W -e "warn('hello', ' ', 'world')"
    check "-W after -e" $N -e "warn('not shown')" -W -e "warn('shown')"
    check "warn @on in pieces" $N -e "warn('@on') warn('@', 'off') warn('still on')"
    check "warn off then piece" $N -e "warn('x', '@on') warn('after')"
    check "warn bad arg" $N -e "warn()"
    check "-W gc error" $N -W -e "setmetatable({}, {__gc = function() error('g') end}) collectgarbage()"
    # interactive mode with piped input (readline echoes, as in Debian's);
    # skipped when rtlua was built without readline (RTLUA_READLINE=0)
    if [ "${RTLUA_READLINE:-1}" = 0 ]; then
        echo "skipped: the -i cases (rtlua built without readline)"
    else
    check "-i" repl_input.txt -i
    check "-i after script" repl_input.txt -i args.lua q
    check "-i with -e" repl_input.txt -e "x = 1" -i
    check "-i unfinished at eof" "$(input unfinished 'for i = 1, 2 do\n')" -i
    check "-i unfinished, _PROMPT2" "$(input prompt2 '_PROMPT2 = "P2"\nfor i = 1, 2 do\n')" -i
    check "-i print replaced" "$(input print 'print = nil\n1\nprint = 1\n2\n')" -i
    check "-i long line" "$(input long "return \"$(printf '%0600d' 7)\"\n")" -i
    check "-i empty lines" "$(input empty '\n\n\nprint(1)\n\n')" -i
    fi
    # Ctrl-C
    check_interrupt "interrupt a loop" -e "io.write('ready\\n') io.flush() while true do end"
    check_interrupt "interrupt inside pcall" -e "io.write('ready\\n') io.flush() print(pcall(function() while true do end end)) print('after')"
    # memory errors the library raises itself
    check "string too large" $N -e "print(pcall(string.rep, 'x', 1 << 50))"
    check "table overflow" $N -e "print(pcall(table.concat, {}, '', 1, math.maxinteger))"
}

case $group in
scripts) scripts ;;
cli) cli ;;
all) scripts; cli ;;
*) echo "compat.sh: unknown group '$group'" >&2; exit 2 ;;
esac

echo "compat $group: $cases cases, $failures failed"
[ $failures -eq 0 ]
