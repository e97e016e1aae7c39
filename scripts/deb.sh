#!/bin/bash
# `make deb`: build the Debian packages pss-dkms, libpss0, libpsswin0,
# libpss-dev and pss with dpkg-buildpackage from a clean copy of the tree
# (git ls-files) under
# build/deb/pss-VERSION/, packaging/debian/ becoming debian/, then run
# lintian on the result. The .deb files are left in build/deb/. Installs
# debhelper, dh-dkms and lintian with apt-get if they are missing.
# Exits non-zero if the build fails or lintian reports an error or warning.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
log() { printf 'pss: %s\n' "$*" >&2; }
die() { printf 'pss: error: %s\n' "$*" >&2; exit 1; }

need=()
for p in debhelper dh-dkms lintian dpkg-dev fakeroot libsmartcols-dev libdw-dev pkgconf; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${need[@]}"; } >/dev/null 2>&1 ||
		die "cannot install ${need[*]}"
fi

ver=$(sed -n 's/^PSS_VERSION_\(MAJOR\|MINOR\|PATCH\) := //p' "$top/version.mk" | paste -sd.)
out=$top/build/deb
src=$out/pss-$ver
rm -rf "$out"
mkdir -p "$src"
(cd "$top" && git ls-files -z | xargs -0 cp --parents -t "$src")
cp -r "$top/packaging/debian" "$src/debian"
# the changelog carries version.mk's version; date and author of HEAD, so
# the same commit builds the same packages
{
	echo "pss ($ver) unstable; urgency=medium"
	echo
	echo "  * Built from commit $(git -C "$top" rev-parse --short HEAD)."
	echo
	echo " -- $(sed -n 's/^Maintainer: //p' "$src/debian/control")  $(git -C "$top" log -1 --format=%aD)"
} > "$src/debian/changelog"

log "dpkg-buildpackage pss $ver (log: $out/build.log)"
if ! (cd "$src" && dpkg-buildpackage -us -uc) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	die "dpkg-buildpackage failed"
fi
ls "$out"/*.deb

changes=$(ls "$out"/pss_"$ver"_*.changes)
log "lintian $(basename "$changes")"
if ! lintian --fail-on error,warning --info "$changes" >"$out/lintian.log" 2>&1; then
	cat "$out/lintian.log" >&2
	die "lintian reported errors or warnings"
fi
if [ -s "$out/lintian.log" ]; then
	sed 's/^/pss: lintian: /' "$out/lintian.log" >&2
fi
