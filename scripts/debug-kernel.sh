#!/bin/bash
# Build (once) a debug kernel: linux-source-6.12 (or, with the argument 61,
# linux-source-6.1) + tinyconfig + the fragment scripts/debug-kernel.config.
# Cached in $PSS_CACHE/debug-kernel/KEY, where KEY hashes the source version,
# the fragment and this script's recipe, so editing either rebuilds and
# nothing else does. Prints the cache directory on stdout; it holds bzImage
# and build/ (the O= tree the module is built against).
# RECIPE names the build steps below: bump it when they change.
RECIPE=1
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$PSS_CACHE/kernels.env"
case "${1:-612}" in
612)	;;
61)	LINUX_SRC=${LINUX_SRC_61:?no LINUX_SRC_61 in kernels.env: run scripts/setup.sh} ;;
*)	die "usage: debug-kernel.sh [612|61]" ;;
esac

frag="$here/debug-kernel.config"
key=$( (basename "$LINUX_SRC"; echo "recipe $RECIPE"; cat "$frag") | sha256sum | cut -c1-16)
dir="$PSS_CACHE/debug-kernel/$key"
if [ -f "$dir/bzImage" ]; then
	echo "$dir"
	exit 0
fi

log "building the debug kernel from $(basename "$LINUX_SRC") ($key): first run only, ~15 min on 2 cores"
mkdir -p "$dir/build"
start=$(date +%s)
make -s -C "$LINUX_SRC" O="$dir/build" ARCH=x86_64 tinyconfig >/dev/null
"$LINUX_SRC/scripts/kconfig/merge_config.sh" -m -O "$dir/build" \
	"$dir/build/.config" "$frag" >/dev/null
make -s -C "$LINUX_SRC" O="$dir/build" ARCH=x86_64 olddefconfig >/dev/null
# Every line of the fragment must have survived olddefconfig: a silently
# dropped option would leave a check we think we run switched off.
missing=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$frag" | while read -r line; do
	grep -qxF "$line" "$dir/build/.config" || echo "$line"
done || true; grep -E '^# CONFIG_.* is not set' "$frag" | while read -r line; do
	opt=$(echo "$line" | awk '{print $2}')
	if grep -q "^$opt=" "$dir/build/.config"; then echo "$line"; fi
done)
[ -z "$missing" ] || die "debug config options not honoured: $missing"
make -s -C "$LINUX_SRC" O="$dir/build" ARCH=x86_64 -j"$(nproc)" bzImage modules_prepare \
	> "$dir/build.log" 2>&1 || { tail -n 40 "$dir/build.log" >&2; die "debug kernel build failed"; }
# The debug kernel has no modules of its own, so `make modules` would add
# nothing: the symbols an external module links against are vmlinux's.
cp "$dir/build/vmlinux.symvers" "$dir/build/Module.symvers"
cp "$dir/build/arch/x86/boot/bzImage" "$dir/bzImage.tmp"
mv "$dir/bzImage.tmp" "$dir/bzImage"
log "debug kernel built in $(( $(date +%s) - start ))s"
echo "$dir"
