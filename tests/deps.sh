#!/bin/bash
# deps.sh: makes sure the build and test dependencies of postern are
# installed on a Debian 12 machine.  Installed already: does nothing (no
# network).  Missing and root: apt-get update once, then install them.
# Missing and not root: says what to run and exits 1.
set -eu

PACKAGES="
	gcc make pkg-config
	libcrypt-dev libssl-dev libpam0g-dev libseccomp-dev
	check libsubunit-dev
	clang libclang-rt-14-dev
	fetchmail getmail6 procmail curl socat python3 strace
	systemd
"

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: no dpkg-query: not a Debian system; install by hand:" \
	    $PACKAGES >&2
	exit 1
fi

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
missing=${missing# }

if [ -z "$missing" ]; then
	echo "deps.sh: all build and test packages are installed"
	exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: $missing" >&2
	echo "deps.sh: as root, run:  $cmd" >&2
	exit 1
fi

echo "deps.sh: installing missing packages: $missing"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    $missing
echo "deps.sh: installed $missing"
