#!/bin/bash
# Prove that `make install` works as the README says on a machine that is
# not the test rig: from a clean copy of the tree (git ls-files), as the
# unprivileged user nobody, staged into a throwaway DESTDIR, against a
# kernel build tree given by KDIR (default: the rig's Debian 6.12 headers,
# standing in for "the running kernel"). Then checks where every file
# landed and builds and runs a program against the staged libpss.
# Prints ok/not ok lines; exits non-zero on any failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
KDIR=${KDIR:-$(ls -d /lib/modules/*+deb12-amd64/build 2>/dev/null | tail -n1)}
[ -n "$KDIR" ] && [ -f "$KDIR/Makefile" ] || { echo "not ok - install-check: no KDIR"; exit 1; }
krel=$(basename "$(dirname "$KDIR")")	# KDIR is /lib/modules/KREL/build

work=$(mktemp -d /tmp/pss-install-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
mkdir "$work/src" "$work/stage"
(cd "$top" && git ls-files -z | xargs -0 cp --parents -t "$work/src")
chown -R nobody:nogroup "$work/src" "$work/stage"
fail=0
ok() { echo "ok - install-check: $*"; }
bad() { echo "not ok - install-check: $*"; fail=1; }

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$work" "$@"; }
if as_nobody make -s -C "$work/src" install DESTDIR="$work/stage" PREFIX=/usr \
		KDIR="$KDIR" >"$work/install.log" 2>&1; then
	ok "make install as nobody into a DESTDIR"
else
	sed 's/^/#   /' "$work/install.log" | tail -n 20
	bad "make install as nobody into a DESTDIR"
fi

s=$work/stage
ver=$(sed -n 's/^PSS_VERSION_\(MAJOR\|MINOR\|PATCH\) := //p' "$top/version.mk" | paste -sd.)
for f in usr/bin/pss usr/lib/libpss.so.0 usr/lib/libpss.so usr/lib/libpss.a \
	 usr/include/libpss.h usr/include/libpss/pss.h usr/include/libpss/version.h \
	 usr/lib/pkgconfig/libpss.pc usr/share/man/man1/pss.1 \
	 usr/share/man/man3/pss_walk.3; do
	[ -e "$s/$f" ] && ok "$f" || bad "$f missing"
done
for f in usr/include/linux etc usr/lib/modules-load.d usr/lib/udev "lib/modules/$krel/extra"; do
	[ ! -e "$s/$f" ] && ok "no $f" || bad "$f installed"
done
grep -q '@VERSION@' "$s"/usr/share/man/man*/* && bad "@VERSION@ left in a man page" ||
	ok "man pages carry $ver"
# the kernel's modules_install may compress it (Debian: pss.ko.xz)
ko=$(ls "$s/lib/modules/$krel/updates/"pss.ko* 2>/dev/null | head -n1)
[ -n "$ko" ] && modinfo -F vermagic "$ko" | grep -q "^$krel " &&
	ok "lib/modules/$krel/updates/$(basename "$ko") for $krel" ||
	bad "pss.ko missing from lib/modules/$krel/updates, or not for $krel"

cat > "$work/prog.c" <<'PROG'
#include <stdio.h>
#include <string.h>
#include <libpss.h>

int main(void)
{
	PSS_OPTS(pss_capture_opts, o, .facets = PSS_FACET_VA_SPACE);

	if (o.dev_fd != -1 || strcmp(pss_library_version(), LIBPSS_VERSION))
		return 1;
	printf("%s %d\n", pss_library_version(), PSS_ABI_VERSION);
	return 0;
}
PROG
pc=$(PKG_CONFIG_SYSROOT_DIR="$s" PKG_CONFIG_LIBDIR="$s/usr/lib/pkgconfig" \
	pkg-config --cflags --libs libpss)
if cc -Wall -Wextra -Werror -o "$work/prog" "$work/prog.c" $pc 2>"$work/cc.log" &&
   out=$(LD_LIBRARY_PATH="$s/usr/lib" "$work/prog") && [ "${out%% *}" = "$ver" ]; then
	ok "a program builds with pkg-config libpss and runs ($out)"
else
	sed 's/^/#   /' "$work/cc.log"
	bad "a program against the staged libpss"
fi
exit $fail
