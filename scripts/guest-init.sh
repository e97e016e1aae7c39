#!/bin/busybox sh
# /init of every pss guest. Kernel messages go to the console (ttyS0); results
# go to ttyS1 so a printk can never split a TAP line. guest.conf sets MODE
# (test, demo or shell) and TESTS.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/tests
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /tmp /run
mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
. /guest.conf

if [ "$MODE" = shell ]; then
	out=/dev/console
else
	out=/dev/ttyS1
fi
exec 3>"$out"
say() { echo "$*" >&3; }

say "PSS-GUEST-BEGIN kernel=$(uname -r) cpus=$(nproc)"
kmemleak=/sys/kernel/debug/kmemleak
[ -e $kmemleak ] && echo clear > $kmemleak

n=0
tap() { # tap ok|not-ok description
	n=$((n + 1))
	if [ "$1" = ok ]; then say "ok $n guest.$2"; else say "not ok $n guest.$2"; fi
}

if insmod /pss.ko; then tap ok insmod; else tap not-ok insmod; fi
[ -c /dev/pss ] || mdev -s

case "$MODE" in
test)
	for t in $TESTS; do
		say "# PSS-TEST $t"
		t0=$(cut -d' ' -f1 /proc/uptime)
		( cd /tmp && /tests/$t ) >&3 2>&3
		rc=$?
		say "# PSS-TEST-TIME $t $(awk -v a="$t0" '{ printf "%.1f", $1 - a }' /proc/uptime) s"
		say "# PSS-TEST-EXIT $t $rc"
	done
	# Keep the benchmark from rotting: tiny sizes, any error fails.
	if [ -x /bench/pss_bench ]; then
		( cd /tmp && /bench/pss_bench --smoke ) > /tmp/bench-smoke.log 2>&1; rc=$?
		sed 's/^/# /' /tmp/bench-smoke.log >&3
		if [ $rc = 0 ]; then tap ok bench_smoke; else tap not-ok bench_smoke; fi
	fi
	;;
bench)
	/bench/run.sh $TESTS >&3 2>&3
	;;
demo)
	/demo.sh >&3 2>&3
	;;
shell)
	echo "pss guest shell: the module is loaded, tests are in /tests; 'reboot -f' leaves"
	setsid cttyhack sh
	;;
esac

if [ -e $kmemleak ]; then
	# kmemleak skips objects younger than 5 s (MSECS_MIN_AGE): wait past
	# that so leaks from the last test count, then two scans, as an object
	# is reported only once it has looked unreferenced in a full scan.
	sleep 6
	echo scan > $kmemleak; sleep 1; echo scan > $kmemleak
	leaks=$(cat $kmemleak)
	# Objects the kernel allocated while booting, as pid 0 before /init
	# ran (6.1's early ACPI caches), cannot be pss's: they are shown, not
	# counted. Any other object fails the run.
	ours=$(echo "$leaks" | awk '/^  comm / && !/^  comm "swapper\/0", pid 0,/ { n++ }
		END { print n + 0 }')
	if [ "$ours" != 0 ]; then
		echo "$leaks" > /dev/console
		tap not-ok kmemleak_clean
	else
		if [ -n "$leaks" ]; then
			say "# kmemleak: only objects of the booting kernel (pid 0):"
			echo "$leaks" | sed 's/^/#   /' >&3
		fi
		tap ok kmemleak_clean
	fi
fi

if grep -q '^pss ' /proc/modules; then
	if rmmod pss; then tap ok rmmod; else tap not-ok rmmod; fi
	[ -e /dev/pss ] && tap not-ok dev_node_removed || tap ok dev_node_removed
fi
say "PSS-GUEST-DONE"
sync
reboot -f
