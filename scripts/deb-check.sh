#!/bin/bash
# `make deb-check`: build the packages (scripts/deb.sh), unpack all four
# into a throwaway root and check that every file lands where it should;
# run the packaged pss and build a program against the packaged libpss-dev;
# then build the module with DKMS from the pss-dkms package's source for
# both Debian kernels of the rig (as its own version, VERSION-debcheck, so
# no real installation is touched; removed on exit).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "${PSS_CACHE:-/var/cache/pss}/kernels.env"
ok() { echo "ok - deb-check: $*"; }
bad() { echo "not ok - deb-check: $*"; fail=1; }
fail=0

if bash "$top/scripts/deb.sh" >/dev/null; then
	ok "make deb (dpkg-buildpackage, lintian without errors or warnings)"
else
	bad "make deb"
	exit 1
fi
ver=$(sed -n 's/^PSS_VERSION_\(MAJOR\|MINOR\|PATCH\) := //p' "$top/version.mk" | paste -sd.)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
root=$(mktemp -d /tmp/pss-deb-check.XXXXXX)
dver=$ver-debcheck
cleanup() {
	dkms remove -m pss -v "$dver" --all >/dev/null 2>&1 || true
	rm -rf "/usr/src/pss-$dver" "/var/lib/dkms/pss/$dver" "$root"
	rmdir /var/lib/dkms/pss 2>/dev/null || true
}
trap cleanup EXIT

for p in pss-dkms_"$ver"_all libpss0_"$ver"_amd64 libpsswin0_"$ver"_amd64 \
	 libpss-dev_"$ver"_amd64 pss_"$ver"_amd64; do
	if dpkg-deb -x "$top/build/deb/$p.deb" "$root"; then
		ok "unpack $p.deb"
	else
		bad "unpack $p.deb"
	fi
done
for f in usr/bin/pss usr/share/man/man1/pss.1.gz \
	 "usr/lib/$ma/libpss.so.0" "usr/lib/$ma/libpss.so.$ver" "usr/lib/$ma/libpss.so" \
	 "usr/lib/$ma/libpss.a" "usr/lib/$ma/pkgconfig/libpss.pc" usr/include/libpss.h \
	 "usr/lib/$ma/libpsswin.so.0" "usr/lib/$ma/libpsswin.so" "usr/lib/$ma/libpsswin.a" \
	 "usr/lib/$ma/pkgconfig/libpsswin.pc" usr/include/pss/processsnapshot.h \
	 usr/share/man/man3/pss_windows.3.gz \
	 usr/include/libpss/pss.h usr/include/libpss/version.h \
	 usr/share/man/man3/pss_walk.3.gz "usr/src/pss-$ver/dkms.conf" "usr/src/pss-$ver/Kbuild" \
	 "usr/src/pss-$ver/kmod/dev.c" "usr/src/pss-$ver/uapi/linux/pss.h"; do
	[ -e "$root/$f" ] && ok "$f" || bad "$f missing"
done
for f in usr/include/linux lib/modules etc/modules-load.d usr/lib/modules-load.d; do
	[ ! -e "$root/$f" ] && ok "no $f" || bad "$f shipped"
done
grep -q "^PACKAGE_VERSION=\"$ver\"" "$root/usr/src/pss-$ver/dkms.conf" &&
	ok "dkms.conf says $ver" || bad "dkms.conf version"
[ "$(ls "$root/usr/src")" = "pss-$ver" ] && ok "usr/src holds pss-$ver only" ||
	bad "usr/src holds $(ls "$root/usr/src" | tr '\n' ' ')"
# the postinst dh_dkms wrote runs `dkms add/build/install` for this version
dpkg-deb -e "$top/build/deb/pss-dkms_${ver}_all.deb" "$root/DEBIAN-dkms"
grep -q "^DKMS_VERSION=$ver\$" "$root/DEBIAN-dkms/postinst" &&
	ok "pss-dkms postinst registers pss/$ver with DKMS" ||
	bad "pss-dkms postinst: $(grep DKMS_VERSION "$root/DEBIAN-dkms/postinst")"
out=$(LD_LIBRARY_PATH="$root/usr/lib/$ma" "$root/usr/bin/pss" --version 2>&1)
[[ "$out" == "pss $ver "* ]] && ok "pss --version: $out" || bad "pss --version: $out"
printf '#include <libpss.h>\nint main(void) { return pss_library_minor_version() != LIBPSS_MINOR_VERSION; }\n' \
	> "$root/prog.c"
if cc -Wall -Werror -o "$root/prog" "$root/prog.c" -I"$root/usr/include" \
	-L"$root/usr/lib/$ma" -lpss && LD_LIBRARY_PATH="$root/usr/lib/$ma" "$root/prog"; then
	ok "a program builds against libpss-dev and runs with libpss0"
else
	bad "a program against libpss-dev"
fi
printf '#include <pss/processsnapshot.h>\nint main(void) { return PssFreeSnapshot(GetCurrentProcess(), NULL) != ERROR_INVALID_HANDLE; }\n' \
	> "$root/win.c"
if cc -Wall -Werror -o "$root/win" "$root/win.c" -I"$root/usr/include" \
	-L"$root/usr/lib/$ma" -lpsswin -lpss && LD_LIBRARY_PATH="$root/usr/lib/$ma" "$root/win"; then
	ok "a Windows-API program builds against libpss-dev and runs with libpsswin0"
else
	bad "a program against libpsswin"
fi

# DKMS from the package's own source tree
cp -r "$root/usr/src/pss-$ver" "/usr/src/pss-$dver"
sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$dver\"/" "/usr/src/pss-$dver/dkms.conf"
if dkms add -m pss -v "$dver" >/dev/null 2>&1; then
	for k in "$KREL_61" "$KREL_612"; do
		if dkms build -m pss -v "$dver" -k "$k" >"$root/dkms-$k.log" 2>&1; then
			ok "pss-dkms builds for $k"
		else
			tail -n 20 "$root/dkms-$k.log" | sed 's/^/#   /'
			bad "pss-dkms builds for $k"
		fi
	done
else
	bad "dkms add pss/$dver"
fi
exit $fail
