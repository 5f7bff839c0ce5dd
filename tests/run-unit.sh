#!/usr/bin/env bash
# Runs the Check unit suites given as arguments (after the build dir) and
# prints one summary line "unit: N passed, N failed".  Exit 0 only if every
# suite passed.  Check's own per-suite lines ("100%: Checks: ...") stay in
# the output.
set -u
b=$1; shift
pass=0 fail=0 bad=0
for t in "$@"; do
	name=$(basename "$t")
	out=$(CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60} "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed "s/^/[$name] /"
	line=$(printf '%s\n' "$out" | grep -E 'Checks: [0-9]+' | tail -n 1)
	if [ -z "$line" ]; then
		echo "[$name] FAILED: no Check summary (exit $rc)"
		fail=$((fail + 1)); bad=1; continue
	fi
	n=$(printf '%s' "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	f=$(printf '%s' "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
	e=$(printf '%s' "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
	pass=$((pass + n - f - e)); fail=$((fail + f + e))
	[ "$rc" -eq 0 ] || bad=1
done
echo "unit ($b): $pass passed, $fail failed"
[ "$bad" -eq 0 ] && [ "$fail" -eq 0 ]
