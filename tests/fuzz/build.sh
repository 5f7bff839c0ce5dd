#!/usr/bin/env bash
# build.sh: builds every tests/fuzz/fuzz_<name>.c as a libFuzzer target
# (clang, -fsanitize=fuzzer,address,undefined) into build/fuzz/, linked
# with the library sources (src/*.c but main.c, as an archive so a target
# pulls in only what it uses).
#
#   tests/fuzz/build.sh              build only
#   tests/fuzz/build.sh run SECONDS  build, then run each target for
#                                    SECONDS on a copy of its corpus
#                                    tests/fuzz/corpus_<name>/
#
# Run mode works in tests/fuzz/work/<name>/ (new inputs, crash-* files)
# and ends with "fuzz: N passed, N failed"; it exits non-zero if a target
# failed to build or found a crash, leak, timeout or UBSan report.
# Environment: FUZZ_CC (default clang), FUZZ_MAX_LEN (default 32768),
# FUZZ_FLAGS (more libFuzzer flags).
#
# Debian 12: needs clang and libclang-rt-14-dev (the sanitizer and
# libFuzzer runtimes; clang-14 only recommends it).
set -eu
cd "$(dirname "$0")/../.."

CC=${FUZZ_CC:-clang}
OUT=build/fuzz
WORK=tests/fuzz/work
CFLAGS=(-std=c99 -g -O1 -fno-omit-frame-pointer -Iinclude -D_GNU_SOURCE
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
	-Wpointer-arith -Wcast-qual -Wformat=2 -Wwrite-strings
	"-fsanitize=address,undefined" -fno-sanitize-recover=all)
LIBS=(-lcrypt -lcrypto -lseccomp)

usage() {
	echo "usage: $0 [run SECONDS]" >&2
	exit 2
}

mode=build secs=0
case $# in
0) ;;
2)	[ "$1" = run ] || usage
	case $2 in ''|*[!0-9]*) usage ;; esac
	mode=run secs=$2 ;;
*)	usage ;;
esac

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "build.sh: no $CC; on Debian 12: apt-get install clang" \
	    "libclang-rt-14-dev" >&2
	exit 1
fi
mkdir -p "$OUT/obj"
probe=$OUT/probe
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *, size_t);' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
    '{ (void)d; (void)n; return 0; }' >"$probe.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined -o "$probe" "$probe.c" \
    2>"$probe.err"; then
	cat "$probe.err" >&2
	echo "build.sh: $CC cannot build libFuzzer targets; on Debian 12:" \
	    "apt-get install libclang-rt-14-dev" >&2
	exit 1
fi
rm -f "$probe" "$probe.c" "$probe.err"

# The library, instrumented for coverage.  A source that does not compile
# (another module mid-edit) is left out with a warning: a target that
# needs it then fails to link, one that does not is still built.
objs=()
for src in src/*.c; do
	case "$src" in src/main.c|src/*_main.c) continue ;; esac
	obj=$OUT/obj/$(basename "$src" .c).o
	if "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer-no-link -c -o "$obj" "$src"; then
		objs+=("$obj")
	else
		echo "build.sh: warning: $src does not compile; left out" >&2
		rm -f "$obj"
	fi
done
rm -f "$OUT/libpostern-fuzz.a"
ar rcs "$OUT/libpostern-fuzz.a" "${objs[@]}"

pass=0 fail=0
built=()
for src in tests/fuzz/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	if "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer -o "$OUT/$name" "$src" \
	    "$OUT/libpostern-fuzz.a" "${LIBS[@]}"; then
		built+=("$name")
		echo "build.sh: built $OUT/$name"
	else
		echo "build.sh: $name: build FAILED" >&2
		fail=$((fail + 1))
	fi
done

if [ "$mode" = build ]; then
	[ "$fail" -eq 0 ]
	exit
fi

for name in "${built[@]}"; do
	short=${name#fuzz_}
	dir=$WORK/$short
	rm -rf "$dir"
	mkdir -p "$dir/corpus"
	if [ -d "tests/fuzz/corpus_$short" ]; then
		cp -R "tests/fuzz/corpus_$short/." "$dir/corpus/"
	else
		echo "build.sh: warning: no tests/fuzz/corpus_$short/" >&2
	fi
	echo "== fuzz $name for ${secs}s"
	# shellcheck disable=SC2086	# FUZZ_FLAGS: several words
	if "$OUT/$name" -max_total_time="$secs" -timeout=25 \
	    -rss_limit_mb=2048 -max_len="${FUZZ_MAX_LEN:-32768}" \
	    -print_final_stats=1 -artifact_prefix="$dir/" \
	    ${FUZZ_FLAGS:-} "$dir/corpus" >"$dir/fuzz.log" 2>&1; then
		tail -n 12 "$dir/fuzz.log" | grep -E '^(stat::|Done|#)' || true
		echo "== fuzz $name: ok"
		pass=$((pass + 1))
	else
		tail -n 60 "$dir/fuzz.log"
		echo "== fuzz $name: FAILED; log and reproducer in $dir/"
		ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* \
		    "$dir"/oom-* 2>/dev/null || true
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
