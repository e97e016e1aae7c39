#!/bin/bash
# Build pss.ko for one kernel (61, 612 or debug) with W=1 into build/mod-TAG/,
# from a copy of the sources so that builds for several kernels never share
# object files. Any compiler warning fails the build. With SPARSE=1 the build
# also runs sparse (C=2) and any sparse warning fails it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
TAG=${1:?usage: build-module.sh 61|612|debug}
. "$here/kernel-env.sh"

out=$top/build/mod-$TAG
mkdir -p "$out"
exec 8>"$out.lock"	# concurrent builds for one kernel share $out
flock 8
rsync -a --delete --include='*/' --include='*.c' --include='*.h' --exclude='*' \
	"$top/kmod/" "$out/kmod/"
rsync -a --delete "$top/uapi/" "$out/uapi/"
cp "$top/Kbuild" "$out/Kbuild"

extra=()
[ "${SPARSE:-0}" = 1 ] && extra=(C=2 CHECK="sparse -Wno-unknown-attribute")
log=$out/build.log
if ! make "${KBUILD_ARGS[@]}" M="$out" W=1 "${extra[@]}" modules >"$log" 2>&1; then
	cat "$log" >&2
	die "module build failed for $TAG"
fi
# W=1 warnings and sparse findings both go to the log; either fails the build.
if grep -E 'warning:|error:|sparse:' "$log" >&2; then
	die "module build for $TAG has warnings (see above)"
fi
echo "$out/pss.ko"
