#!/bin/bash
# Verify that dkms.conf builds pss.ko with `dkms build` for both Debian
# kernels (KREL_61 and KREL_612 from $PSS_CACHE/kernels.env). Installs dkms
# with apt-get if it is missing. Works on a private copy of the sources under
# a version of its own (VERSION-dkmscheck), so it never touches a real
# installation of pss, and removes everything it added (dkms remove, the
# /usr/src tree) on every exit. Prints one "ok"/"not ok" line per kernel and
# exits non-zero if any build failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
. "$PSS_CACHE/kernels.env"

if ! command -v dkms >/dev/null 2>&1; then
	log "installing dkms"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends dkms; } >/dev/null 2>&1 ||
		die "cannot install dkms"
fi

base=$(sed -n 's/^PSS_VERSION_\(MAJOR\|MINOR\|PATCH\) := //p' "$top/version.mk" | paste -sd.)
[ -n "$base" ] || die "no version in version.mk"
ver=$base-dkmscheck
src=/usr/src/pss-$ver
logdir=$top/build/dkms-check
mkdir -p "$logdir"

cleanup() {
	dkms remove -m pss -v "$ver" --all >/dev/null 2>&1 || true
	rm -rf "$src" "/var/lib/dkms/pss/$ver"
	rmdir /var/lib/dkms/pss 2>/dev/null || true
}
trap cleanup EXIT
cleanup

mkdir -p "$src/kmod" "$src/uapi/linux"
sed "s/@VERSION@/$ver/" "$top/dkms.conf" > "$src/dkms.conf"
cp "$top/Kbuild" "$src/"
cp "$top"/kmod/*.c "$top"/kmod/*.h "$src/kmod/"
cp "$top/uapi/linux/pss.h" "$src/uapi/linux/"

if ! dkms add -m pss -v "$ver" >"$logdir/add.log" 2>&1; then
	sed 's/^/#   /' "$logdir/add.log"
	echo "not ok - dkms add pss/$ver"
	exit 1
fi

fail=0
for k in "$KREL_61" "$KREL_612"; do
	if dkms build -m pss -v "$ver" -k "$k" >"$logdir/build-$k.log" 2>&1 &&
	   ko=$(find "/var/lib/dkms/pss/$ver/$k" -name 'pss.ko*' | head -n1) && [ -n "$ko" ] &&
	   modinfo -F vermagic "$ko" | grep -q "^$k "; then
		echo "ok - dkms build pss for $k"
	else
		sed 's/^/#   /' "$logdir/build-$k.log" | tail -n 30
		make_log=/var/lib/dkms/pss/$ver/build/make.log
		[ -f "$make_log" ] && tail -n 30 "$make_log" | sed 's/^/#   /'
		echo "not ok - dkms build pss for $k"
		fail=1
	fi
done
# a kernel the code does not support is skipped, not built (and failed)
for k in 5.10.0-99-amd64 6.13.0-99-amd64; do
	out=$(dkms build -m pss -v "$ver" -k "$k" 2>&1)
	if grep -q 'BUILD_EXCLUSIVE' <<<"$out"; then
		echo "ok - dkms skips pss for $k (BUILD_EXCLUSIVE)"
	else
		sed 's/^/#   /' <<<"$out" | tail -n 5
		echo "not ok - dkms skips pss for $k"
		fail=1
	fi
done
exit $fail
