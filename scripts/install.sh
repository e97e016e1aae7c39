#!/bin/bash
# `make install`: install pss. Honours PREFIX (default /usr/local) and DESTDIR.
#
#   the module   pss.ko for KERNEL (61, 612 or debug; default 612) through the
#                kernel's modules_install (INSTALL_MOD_PATH=$DESTDIR,
#                INSTALL_MOD_DIR=extra); SKIP_MODULE=1 leaves it out
#   libpss       make -C lib install (.so + soname links, .a, libpss.h,
#                linux/pss.h, libpss.pc)
#   the tool     $BINDIR/pss
#   man pages    $MANDIR/man1/pss.1, $MANDIR/man3/pss_*.3
#   udev rule    $UDEVRULESDIR/60-pss.rules        (/dev/pss mode 0666)
#   modules-load $MODULESLOADDIR/pss.conf
#   DKMS source  with WITH_DKMS=1: $DESTDIR/usr/src/pss-VERSION (then
#                `dkms install pss/VERSION` builds it for every kernel)
#
# With PREFIX=/usr the udev rule and modules-load entry go to /usr/lib/...
# (a package's place), otherwise to /etc/... (the administrator's).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
cd "$top"

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
BINDIR=${BINDIR:-$PREFIX/bin}
MANDIR=${MANDIR:-$PREFIX/share/man}
if [ "$PREFIX" = /usr ]; then
	UDEVRULESDIR=${UDEVRULESDIR:-/usr/lib/udev/rules.d}
	MODULESLOADDIR=${MODULESLOADDIR:-/usr/lib/modules-load.d}
else
	UDEVRULESDIR=${UDEVRULESDIR:-/etc/udev/rules.d}
	MODULESLOADDIR=${MODULESLOADDIR:-/etc/modules-load.d}
fi
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
export PREFIX DESTDIR

# --- the module ----------------------------------------------------------
if [ "${SKIP_MODULE:-0}" != 1 ]; then
	TAG=${KERNEL:-612}
	ko=$(bash "$here/build-module.sh" "$TAG")
	. "$here/kernel-env.sh"
	depmod=()
	# depmod only makes sense on the real root; a staged install leaves it
	# to the package's postinst.
	[ -n "$DESTDIR" ] && depmod=(DEPMOD=true)
	make -s "${KBUILD_ARGS[@]}" M="$(dirname "$ko")" INSTALL_MOD_PATH="$DESTDIR" \
		INSTALL_MOD_DIR=extra CONFIG_MODULE_SIG_ALL= "${depmod[@]}" modules_install
	log "installed pss.ko for $KREL under ${DESTDIR}/lib/modules/$KREL/extra"
fi

# --- libpss and the tool ------------------------------------------------
make -s -C lib install PREFIX="$PREFIX" DESTDIR="$DESTDIR"
make -s -C tools/pss install PREFIX="$PREFIX" BINDIR="$BINDIR" DESTDIR="$DESTDIR"

# --- man pages ------------------------------------------------------------
install -d "$DESTDIR$MANDIR/man1" "$DESTDIR$MANDIR/man3"
install -m 0644 man/*.1 "$DESTDIR$MANDIR/man1/"
install -m 0644 man/*.3 "$DESTDIR$MANDIR/man3/"

# --- udev, modules-load ---------------------------------------------------
install -D -m 0644 packaging/udev/60-pss.rules "$DESTDIR$UDEVRULESDIR/60-pss.rules"
install -D -m 0644 packaging/modules-load.d/pss.conf "$DESTDIR$MODULESLOADDIR/pss.conf"

# --- DKMS source tree -----------------------------------------------------
if [ "${WITH_DKMS:-0}" = 1 ]; then
	src=$DESTDIR/usr/src/pss-$VERSION
	install -d "$src/kmod" "$src/uapi/linux"
	install -m 0644 dkms.conf Kbuild "$src/"
	install -m 0644 kmod/*.c kmod/*.h "$src/kmod/"
	install -m 0644 uapi/linux/pss.h "$src/uapi/linux/"
	log "installed the DKMS source tree $src (dkms install pss/$VERSION)"
fi
log "installed pss $VERSION into ${DESTDIR:-/} (PREFIX=$PREFIX)"
