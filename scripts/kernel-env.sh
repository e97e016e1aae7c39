# Sourced with TAG set (61, 612, debug or debug61): sets KREL, KBUILD_ARGS (for
# `make -C ...` of an external module), IMAGE (what QEMU boots), GUEST_MEM and
# GUEST_TIMEOUT. Requires scripts/setup.sh (and for debug, debug-kernel.sh) to
# have run.
. "$PSS_CACHE/kernels.env"
case "$TAG" in
61)
	KREL=$KREL_61
	KBUILD_ARGS=(-C "$KDIR_61")
	IMAGE=$PSS_CACHE/kernels/$KREL_61/vmlinuz
	GUEST_MEM=1024
	GUEST_TIMEOUT=${GUEST_TIMEOUT:-600}
	;;
612)
	KREL=$KREL_612
	KBUILD_ARGS=(-C "$KDIR_612")
	IMAGE=$PSS_CACHE/kernels/$KREL_612/vmlinuz
	GUEST_MEM=1024
	GUEST_TIMEOUT=${GUEST_TIMEOUT:-600}
	;;
debug|debug61)
	if [ "$TAG" = debug ]; then
		dbg=$("$(dirname "${BASH_SOURCE[0]}")/debug-kernel.sh" 612)
		src=$LINUX_SRC
	else
		dbg=$("$(dirname "${BASH_SOURCE[0]}")/debug-kernel.sh" 61)
		src=$LINUX_SRC_61
	fi
	KREL=$(cat "$dbg/build/include/config/kernel.release")
	KBUILD_ARGS=(-C "$src" O="$dbg/build")
	IMAGE=$dbg/bzImage
	GUEST_MEM=2048
	GUEST_TIMEOUT=${GUEST_TIMEOUT:-1500}
	;;
*)
	die "unknown kernel '$TAG' (one of: 61 612 debug debug61)"
	;;
esac
