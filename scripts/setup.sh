#!/bin/bash
# Install from Debian's archive whatever pss needs and is missing: build tools, QEMU,
# busybox, sparse, elfutils, the Debian 6.1 and newest 6.12 kernel headers, linux-source-6.12
# and linux-source-6.1 (the two debug kernels), and the two Debian kernel images (unpacked into the cache, not installed as the
# host's kernels: the guests boot them, the host never does).
# gdb-minimal is unpacked into the cache too, for the guests (scripts/guest-tools.sh).
#
# Idempotent and quiet when nothing is missing. Prints the cache paths it settled on
# to $PSS_CACHE/kernels.env for the other scripts.
set -euo pipefail

. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "setup needs root (it installs Debian packages)"

BASE_PKGS="build-essential bc bison flex libelf-dev libssl-dev cpio kmod xz-utils zstd
	qemu-system-x86 busybox-static sparse python3 rsync pkg-config libsmartcols-dev libdw-dev file"
# The debuggers the guests carry (scripts/guest-tools.sh): elfutils, and the
# libraries of gdb-minimal, which is unpacked into the cache below.
BASE_PKGS+=" elfutils libdw1 libelf1 libdebuginfod1 libexpat1 libgmp10 libipt2 liblzma5
	libreadline8 libstdc++6 libtinfo6 libxxhash0 libzstd1 zlib1g"

missing=()
for p in $BASE_PKGS; do
	pkg_installed "$p" || missing+=("$p")
done

apt_fresh=0
apt_update_once() { # unless the package lists are less than a day old
	[ $apt_fresh = 1 ] && return
	[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ] ||
		apt-get update -qq
	apt_fresh=1
}
# Lists a day old can name packages a security update has since replaced:
# on failure, refresh the lists and try once more.
apt_retry() {
	"$@" && return
	log "retrying after apt-get update: $*"
	apt-get update -qq && "$@"
}

# The newest 6.12 line offered for bookworm; the name moves with security updates.
apt_update_once
v612=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
	sed -n 's/^linux-headers-\(6\.12\.[0-9]*+deb12\)-amd64 .*/\1/p' | sort -V | tail -n1)
[ -n "$v612" ] || die "no linux-headers-6.12.*+deb12-amd64 in the archive (apt-get update?)"
# The 6.1 LTS line: whatever linux-headers-amd64 currently points at.
v61=$(apt-cache depends linux-headers-amd64 2>/dev/null |
	sed -n 's/^ *Depends: linux-headers-\(6\.1\.[0-9.-]*\)-amd64$/\1/p' | head -n1)
[ -n "$v61" ] || die "cannot resolve linux-headers-amd64 to a 6.1 package"

for p in "linux-headers-$v61-amd64" "linux-headers-$v612-amd64" linux-source-6.12 \
	linux-source-6.1; do
	pkg_installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	log "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt_retry apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

# Kernel images: unpack the .deb into the cache; only vmlinuz and modules are needed.
unpack_kernel() { # $1 = kernel release, $2 = package name
	local krel=$1 pkg=$2 dir="$PSS_CACHE/kernels/$1"
	[ -f "$dir/vmlinuz" ] && return
	log "fetching kernel image $pkg"
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
	(cd "$dir.tmp" && apt_retry apt-get download -qq -o APT::Sandbox::User=root "$pkg" >/dev/null &&
		dpkg-deb -x ./*.deb root && rm -f ./*.deb)
	cp "$dir.tmp/root/boot/vmlinuz-$krel" "$dir.tmp/vmlinuz"
	mv "$dir.tmp/root/lib/modules/$krel" "$dir.tmp/modules" 2>/dev/null ||
		mv "$dir.tmp/root/usr/lib/modules/$krel" "$dir.tmp/modules"
	rm -rf "$dir.tmp/root"
	rm -rf "$dir" && mv "$dir.tmp" "$dir"
}
unpack_kernel "$v61-amd64" "linux-image-$v61-amd64-unsigned"
unpack_kernel "$v612-amd64" "linux-image-$v612-amd64-unsigned"

# gdb for the guests: gdb-minimal (no Python) conflicts with the gdb package,
# so it is unpacked into the cache, never installed on the host.
gdbm_ver=$(apt-cache policy gdb-minimal | sed -n 's/^ *Candidate: //p')
case $gdbm_ver in ""|"(none)") die "no gdb-minimal in the archive" ;; esac
gdbm=$PSS_CACHE/tools/gdb-minimal
if [ "$(cat "$gdbm/.version" 2>/dev/null)" != "$gdbm_ver" ]; then
	log "fetching gdb-minimal $gdbm_ver"
	rm -rf "$gdbm.tmp" && mkdir -p "$gdbm.tmp"
	(cd "$gdbm.tmp" && apt_retry apt-get download -qq -o APT::Sandbox::User=root \
		"gdb-minimal=$gdbm_ver" >/dev/null && dpkg-deb -x ./*.deb . && rm -f ./*.deb)
	echo "$gdbm_ver" > "$gdbm.tmp/.version"
	rm -rf "$gdbm" && mv "$gdbm.tmp" "$gdbm"
fi

# linux-source-6.* ship a tarball; unpack each once into the cache (the debug
# kernels; from 6.12 also the kselftest harness headers and checkpatch.pl).
unpack_source() { # $1 = 6.12 or 6.1; prints the unpacked tree
	local src_tar src_ver src_dir stamp
	src_tar=$(ls /usr/src/linux-source-"$1".tar.* 2>/dev/null | sort -V | tail -n1)
	[ -n "$src_tar" ] || die "linux-source-$1 tarball not found in /usr/src"
	src_ver=$(basename "$src_tar" | sed 's/^linux-source-\(.*\)\.tar\..*/\1/')
	src_dir="$PSS_CACHE/src/linux-source-$src_ver"
	stamp="$src_dir/.pss-unpacked-$(stat -c %Y "$src_tar")"
	if [ ! -f "$stamp" ]; then
		log "unpacking $(basename "$src_tar")"
		rm -rf "$src_dir" && mkdir -p "$PSS_CACHE/src"
		tar -C "$PSS_CACHE/src" -xf "$src_tar"
		touch "$stamp"
	fi
	echo "$src_dir"
}
src_dir=$(unpack_source 6.12)
src_dir_61=$(unpack_source 6.1)

cat > "$PSS_CACHE/kernels.env.tmp" <<EOT
# written by scripts/setup.sh
KREL_61=$v61-amd64
KREL_612=$v612-amd64
KDIR_61=/usr/src/linux-headers-$v61-amd64
KDIR_612=/usr/src/linux-headers-$v612-amd64
LINUX_SRC=$src_dir
LINUX_SRC_61=$src_dir_61
EOT
mv "$PSS_CACHE/kernels.env.tmp" "$PSS_CACHE/kernels.env"
