#!/bin/bash
# Print the path of a gzipped cpio archive holding the debuggers the guests
# carry beside busybox: gdb (Debian's gdb-minimal: no Python, so no Python
# runtime to carry; setup.sh unpacks it into the cache, as it conflicts with
# the host's gdb package), eu-stack, eu-readelf, eu-addr2line and eu-unstrip
# (elfutils), libdw and libelf, glibc's libthread_db (which gdb dlopens, so
# ldd never names it) and every shared library they load.
#
# guest-run.sh appends it to each run's own small archive: the kernel
# unpacks concatenated archives in turn. It is built once per set of inputs
# (this script, the binaries and every library's size and mtime) into
# $PSS_CACHE/guest-tools/ and reused, so a warm run only pays the copy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

gdb=$PSS_CACHE/tools/gdb-minimal/usr/bin/gdb
[ -x "$gdb" ] || die "no $gdb (run scripts/setup.sh)"
bins=("$gdb" /usr/bin/eu-stack /usr/bin/eu-readelf /usr/bin/eu-addr2line /usr/bin/eu-unstrip)
for b in "${bins[@]}"; do
	[ -x "$b" ] || die "no $b (run scripts/setup.sh)"
done

# Every library by the path ld.so resolves it to in the guest (no
# ld.so.cache there: the multiarch paths are the loader's defaults).
libs() {
	local b out
	for b in "${bins[@]}"; do
		out=$(ldd "$b") || die "ldd $b failed"
		grep -q 'not found' <<< "$out" &&
			die "$b: $(grep 'not found' <<< "$out" | head -n1) (run scripts/setup.sh)"
		grep -o '/[^ ]*' <<< "$out"
	done
	# gdb dlopens libthread_db from the target's libc directory.
	echo /lib/x86_64-linux-gnu/libthread_db.so.1
}
mapfile -t files < <(libs | sort -u)

key=$({ sha256sum "$0"; for f in "${bins[@]}" "${files[@]}"; do
	stat -L -c '%n %s %Y' "$f"; done; } | sha256sum | cut -c1-16)
cache=$PSS_CACHE/guest-tools
out=$cache/tools-$key.cpio.gz
if [ ! -f "$out" ]; then
	mkdir -p "$cache"
	exec 8>"$cache/.lock"
	flock 8
	if [ ! -f "$out" ]; then
		tmp=$(mktemp -d "$cache/build.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT
		root=$tmp/root
		mkdir -p "$root/usr/bin" "$root/usr/share/gdb"
		cp "$gdb" "$root/usr/bin/gdb"
		for b in "${bins[@]:1}"; do cp "$b" "$root/usr/bin/"; done
		for f in "${files[@]}"; do
			mkdir -p "$root$(dirname "$f")" && cp -L "$f" "$root$f"
		done
		(cd "$root" && find . | sort | cpio -o -H newc --quiet | gzip -1) > "$tmp/out"
		mv "$tmp/out" "$out"
		# Older archives of this cache are of inputs that are gone.
		find "$cache" -maxdepth 1 -name 'tools-*.cpio.gz' ! -name "$(basename "$out")" \
			-mtime +7 -delete
	fi
fi
echo "$out"
