#!/usr/bin/env bash
# run.sh: the interpreter benchmark. Runs each program under every contender,
# alternating programs and contenders, and reports per program the median
# wall time, the instruction count under callgrind (one run, a smaller input:
# the stable figure) and the median peak RSS, each with its ratio to stock.
#
#   bench/lua/run.sh PATH-TO-RTLUA [RUNS]
#
# Contenders:
#   lua5.4          Debian's stock interpreter (glibc malloc via realloc)
#   rtlua           rtlua, the state allocating from an rtmem context
#   rtlua-glibc     rtlua --heap=system: the same host on glibc realloc (the
#                   control: any gap to lua5.4 is the build, not the heap)
#   rtlua-mimalloc  rtlua --heap=system under LD_PRELOAD of libmimalloc
#   rtlua-jemalloc  rtlua --heap=system under LD_PRELOAD of libjemalloc
# Environment: PROGRAMS="binary_trees ..." to pick programs; NO_CALLGRIND=1.
set -u
rtlua=${1:?usage: run.sh PATH-TO-RTLUA [RUNS]}
runs=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
stock=$(command -v lua5.4) || { echo "run.sh: lua5.4 not found" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time not found (apt-get install time)" >&2; exit 2; }

# program, input for the timed runs, input for callgrind
programs=${PROGRAMS:-"binary_trees string_pieces table_churn closures numeric"}
declare -A size=([binary_trees]=14 [string_pieces]=20000 [table_churn]=300000 [closures]=300000 [numeric]=1000000)
declare -A small=([binary_trees]=8 [string_pieces]=250 [table_churn]=4000 [closures]=2500 [numeric]=5000)

find_lib() {
    local name=$1 d
    for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
        if [ -e "$d/$name" ]; then echo "$d/$name"; return; fi
    done
}
mimalloc=$(find_lib libmimalloc.so.2)
[ -n "$mimalloc" ] || mimalloc=$(find_lib libmimalloc.so)
jemalloc=$(find_lib libjemalloc.so.2)
[ -n "$jemalloc" ] || jemalloc=$(find_lib libjemalloc.so)

contenders=(lua5.4 rtlua rtlua-glibc)
[ -n "$mimalloc" ] && contenders+=(rtlua-mimalloc)
[ -n "$jemalloc" ] && contenders+=(rtlua-jemalloc)

# cmd CONTENDER [WRAPPER...]: the command words (env, the wrapper such as
# valgrind, the interpreter and its options)
cmd() {
    local c=$1
    shift
    case $c in
    lua5.4) echo "env $* $stock" ;;
    rtlua) echo "env $* $rtlua" ;;
    rtlua-glibc) echo "env $* $rtlua --heap=system" ;;
    rtlua-mimalloc) echo "env LD_PRELOAD=$mimalloc $* $rtlua --heap=system" ;;
    rtlua-jemalloc) echo "env LD_PRELOAD=$jemalloc $* $rtlua --heap=system" ;;
    esac
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# the machine line
model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
echo "machine: ${model:-unknown}, $(nproc) cores online, $(uname -sr)"
echo "lua5.4: $($stock -v 2>&1 | head -1)"
echo "runs: $runs per program and contender, alternated; medians"
echo

# check that every contender gives the same output before timing anything
for p in $programs; do
    ref=""
    for c in "${contenders[@]}"; do
        # shellcheck disable=SC2046
        out=$($(cmd "$c") "$here/$p.lua" "${small[$p]}" 2>&1) || { echo "run.sh: $c failed on $p" >&2; exit 1; }
        if [ -z "$ref" ]; then ref=$out
        elif [ "$out" != "$ref" ]; then echo "run.sh: $c prints something else on $p" >&2; exit 1; fi
    done
done

# timed runs: for each round, every program, contenders in a rotated order
for ((r = 0; r < runs; r++)); do
    for p in $programs; do
        n=${#contenders[@]}
        for ((k = 0; k < n; k++)); do
            c=${contenders[$(((k + r) % n))]}
            t0=$EPOCHREALTIME
            # shellcheck disable=SC2046
            /usr/bin/time -f "%M %U %S" -o "$work/rss" $(cmd "$c") "$here/$p.lua" "${size[$p]}" >/dev/null
            t1=$EPOCHREALTIME
            echo "$(echo "$t0 $t1" | awk '{printf "%.1f", ($2 - $1) * 1000}')" >>"$work/$p.$c.ms"
            tail -1 "$work/rss" | awk '{print $1}' >>"$work/$p.$c.kb"
            tail -1 "$work/rss" | awk '{printf "%.0f\n", ($2 + $3) * 1000}' >>"$work/$p.$c.cpu"
        done
    done
done

median() { sort -n "$1" | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

instructions() {
    local c=$1 p=$2
    # shellcheck disable=SC2046
    $(cmd "$c" valgrind --tool=callgrind --callgrind-out-file=/dev/null) "$here/$p.lua" "${small[$p]}" 2>&1 >/dev/null |
        awk '/Collected :/ {print $4}'
}

printf "%-14s %-15s %8s %6s %8s %6s %13s %6s %8s %6s\n" program contender "wall ms" ratio "cpu ms" ratio instructions ratio "RSS MiB" ratio
for p in $programs; do
    base_ms=$(median "$work/$p.lua5.4.ms")
    base_kb=$(median "$work/$p.lua5.4.kb")
    base_cpu=$(median "$work/$p.lua5.4.cpu")
    base_ir=""
    for c in "${contenders[@]}"; do
        ms=$(median "$work/$p.$c.ms")
        kb=$(median "$work/$p.$c.kb")
        cpu=$(median "$work/$p.$c.cpu")
        if [ -z "${NO_CALLGRIND:-}" ]; then
            ir=$(instructions "$c" "$p")
            [ "$c" = lua5.4 ] && base_ir=$ir
        else
            ir=0; base_ir=1
        fi
        awk -v p="$p" -v c="$c" -v ms="$ms" -v bms="$base_ms" -v ir="$ir" -v bir="$base_ir" \
            -v kb="$kb" -v bkb="$base_kb" -v cpu="$cpu" -v bcpu="$base_cpu" 'BEGIN {
            printf "%-14s %-15s %8.1f %6.2f %8d %6.2f %13d %6.3f %8.1f %6.2f\n", p, c, ms, ms / bms,
                   cpu, (bcpu > 0 ? cpu / bcpu : 0), ir, (bir > 0 ? ir / bir : 0), kb / 1024, kb / bkb }'
    done
done
echo
echo "ratios are to lua5.4 in the same run (below 1: faster, fewer, smaller); wall and cpu"
echo "(user + sys, 10 ms resolution) are medians; on a loaded machine trust cpu over wall."
echo "instructions: one callgrind run on the small input (${small[binary_trees]} for binary_trees)."
