#!/bin/sh
# run.sh: postern's end-to-end suite.
#
#   tests/e2e/run.sh BUILD_DIR [test_module ...]
#
# Runs every tests/e2e/test_*.py module (or the ones named) against
# BUILD_DIR/pop3d with real clients on loopback ports chosen at run time,
# prints one line per test and ends with "N passed, N failed, N skipped".
# Exits 0 only if no test failed.  Needs python3 (standard library only);
# fetchmail, curl, procmail and socat for the tests that drive them.
set -u
if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [test_module ...]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
exec python3 "$here/lib.py" --run "$@"
