#!/usr/bin/env bash
# make check: every test, plainly (gcc), a warning-free build with clang,
# then everything again under AddressSanitizer + UBSan, the unit suites
# and the account tests (system users, PAM) of a PAM=1 build, and a short
# fuzz run.  Ends with one line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
log=$(mktemp -d "${TMPDIR:-/tmp}/postern-check.XXXXXX")
total_pass=0 total_fail=0 status=0

tally() {	# tally NAME LOGFILE: add the "N passed, N failed" of a step
	local line p f
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
	if [ -z "$line" ]; then
		echo "== $1: no result line"; total_fail=$((total_fail + 1))
		return
	fi
	p=$(printf '%s' "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
	f=$(printf '%s' "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}

step() {	# step NAME COMMAND...: run, keep the log, count its tests
	local name=$1; shift
	echo "== $name"
	local rc
	set -o pipefail
	"$@" 2>&1 | tee "$log/$name.log"
	rc=$?
	set +o pipefail
	if [ "$rc" -ne 0 ]; then
		status=1; echo "== $name FAILED (exit $rc)"
	fi
}

build() {	# build NAME MAKEARGS...: a build failure is a failed test
	echo "== build $1"; shift
	if ! make -j"$jobs" "$@" check-build; then
		status=1; total_fail=$((total_fail + 1)); return 1
	fi
}

if build gcc; then
	step unit make -s check-unit; tally unit "$log/unit.log"
	step e2e make -s check-e2e; tally e2e "$log/e2e.log"
fi
build clang CC=clang B=build-clang || true
if build sanitizers SANITIZE=1; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
	step unit-san make -s SANITIZE=1 check-unit
	tally unit-san "$log/unit-san.log"
	step e2e-san make -s SANITIZE=1 check-e2e
	tally e2e-san "$log/e2e-san.log"
fi
# PAM=1 (build-pam/): userdb = pam exists; test_accounts logs in through
# the "pop3" PAM service (as root; skipped otherwise).
if build pam PAM=1; then
	step unit-pam make -s PAM=1 check-unit
	tally unit-pam "$log/unit-pam.log"
	step e2e-pam ./tests/e2e/run.sh build-pam test_accounts
	tally e2e-pam "$log/e2e-pam.log"
fi
if [ -x tests/fuzz/build.sh ]; then
	step fuzz ./tests/fuzz/build.sh run "${FUZZ_SECONDS:-10}"
	tally fuzz "$log/fuzz.log"
fi
rm -rf "$log"
echo
[ "$total_fail" -eq 0 ] || status=1
echo "$total_pass passed, $total_fail failed"
exit $status
