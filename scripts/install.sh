#!/bin/bash
# `make install`: install pss. Honours PREFIX (default /usr/local), DESTDIR
# and KDIR; needs no apt, no network and no root beyond writing DESTDIR.
#
#   the module   pss.ko built against KDIR (default: the running kernel's
#                /lib/modules/$(uname -r)/build), installed by the kernel's
#                modules_install to $DESTDIR/lib/modules/KREL/updates/ (DKMS
#                uses updates/dkms: the same depmod priority). Signed if the
#                kernel's build tree is set up to sign. depmod runs only for
#                an install to the real root. SKIP_MODULE=1 leaves it out.
#   libpss       make -C lib install (.so + soname links, .a, libpss.h,
#                libpss/pss.h, libpss/version.h, libpss.pc)
#   the tool     $BINDIR/pss
#   man pages    $MANDIR/man1/pss.1, $MANDIR/man3/pss_*.3
#   boot load    only with LOAD_AT_BOOT=1: $MODULESLOADDIR/pss.conf
#   DKMS source  with WITH_DKMS=1: $DESTDIR/usr/src/pss-VERSION (then
#                `dkms install pss/VERSION` builds it for every kernel)
#
# /dev/pss's mode is set by the module itself (kmod/dev.c): no udev rule.
# With PREFIX=/usr the modules-load entry goes to /usr/lib/modules-load.d (a
# package's place), otherwise to /etc/modules-load.d (the administrator's).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
log() { printf 'pss: %s\n' "$*" >&2; }

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
BINDIR=${BINDIR:-$PREFIX/bin}
MANDIR=${MANDIR:-$PREFIX/share/man}
if [ "$PREFIX" = /usr ]; then
	MODULESLOADDIR=${MODULESLOADDIR:-/usr/lib/modules-load.d}
else
	MODULESLOADDIR=${MODULESLOADDIR:-/etc/modules-load.d}
fi
VERSION=$(sed -n 's/^PSS_VERSION_\(MAJOR\|MINOR\|PATCH\) := //p' version.mk | paste -sd.)
export PREFIX DESTDIR

# --- the module ----------------------------------------------------------
if [ "${SKIP_MODULE:-0}" != 1 ]; then
	KDIR=${KDIR:-/lib/modules/$(uname -r)/build}
	ko=$(KDIR="$KDIR" bash scripts/kmod-build.sh)
	depmod=()
	# depmod only makes sense on the real root; a staged install leaves it
	# to the package's postinst.
	[ -n "$DESTDIR" ] && depmod=(DEPMOD=true)
	make -s -C "$KDIR" M="$(dirname "$ko")" INSTALL_MOD_PATH="$DESTDIR" \
		INSTALL_MOD_DIR=updates "${depmod[@]}" modules_install
	log "installed pss.ko for $(modinfo -F vermagic "$ko" | cut -d' ' -f1) under ${DESTDIR}/lib/modules/*/updates"
fi

# --- libpss and the tool ------------------------------------------------
make -s -C lib install PREFIX="$PREFIX" DESTDIR="$DESTDIR"
make -s -C tools/pss install PREFIX="$PREFIX" BINDIR="$BINDIR" DESTDIR="$DESTDIR"

# --- man pages (the version filled in) -------------------------------------
install -d "$DESTDIR$MANDIR/man1" "$DESTDIR$MANDIR/man3"
for m in man/*.1 man/*.3; do
	sec=${m##*.}
	sed "s/@VERSION@/$VERSION/g" "$m" > "$DESTDIR$MANDIR/man$sec/$(basename "$m")"
	chmod 0644 "$DESTDIR$MANDIR/man$sec/$(basename "$m")"
done

# --- loading at boot: opt-in ------------------------------------------------
if [ "${LOAD_AT_BOOT:-0}" = 1 ]; then
	install -D -m 0644 packaging/modules-load.d/pss.conf \
		"$DESTDIR$MODULESLOADDIR/pss.conf"
fi

# --- DKMS source tree -----------------------------------------------------
if [ "${WITH_DKMS:-0}" = 1 ]; then
	src=$DESTDIR/usr/src/pss-$VERSION
	install -d "$src/kmod" "$src/uapi/linux"
	sed "s/@VERSION@/$VERSION/" dkms.conf > "$src/dkms.conf"
	install -m 0644 Kbuild "$src/"
	install -m 0644 kmod/*.c kmod/*.h "$src/kmod/"
	install -m 0644 uapi/linux/pss.h "$src/uapi/linux/"
	log "installed the DKMS source tree $src (dkms install pss/$VERSION)"
fi
log "installed pss $VERSION into ${DESTDIR:-/} (PREFIX=$PREFIX)"
