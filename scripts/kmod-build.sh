#!/bin/bash
# Build pss.ko for the kernel whose build tree is KDIR (default: the running
# kernel's, /lib/modules/$(uname -r)/build) into build/kmod-KERNELRELEASE/,
# from a copy of the sources. Needs only the kernel's headers package and a
# compiler: no apt, no root, no test-rig cache. Prints the module's path.
#
#   KDIR=/lib/modules/6.1.0-26-amd64/build scripts/kmod-build.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
KDIR=${KDIR:-/lib/modules/$(uname -r)/build}

if [ ! -f "$KDIR/Makefile" ]; then
	echo "pss: no kernel build tree at $KDIR: install the headers of that kernel" \
	     "(Debian: linux-headers-$(uname -r)) or set KDIR=" >&2
	exit 1
fi
# A name for the build directory. Under /lib/modules/KREL/build, KREL; else
# the tree's own idea (Debian's 6.1 headers say 6.1.N there, their modules
# say 6.1.0-N-amd64: only the directory name is taken from this).
case $KDIR in
*/lib/modules/*/build|*/lib/modules/*/build/) krel=$(basename "$(dirname "$KDIR")") ;;
*) krel=$(cat "$KDIR/include/config/kernel.release" 2>/dev/null || echo custom) ;;
esac
out=$top/build/kmod-$krel
mkdir -p "$out/kmod" "$out/uapi/linux"
cp "$top"/kmod/*.c "$top"/kmod/*.h "$out/kmod/"
cp "$top/uapi/linux/pss.h" "$out/uapi/linux/"
cp "$top/Kbuild" "$out/"
if ! make -C "$KDIR" M="$out" modules >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	echo "pss: building pss.ko against $KDIR failed (log: $out/build.log)" >&2
	exit 1
fi
echo "$out/pss.ko"
