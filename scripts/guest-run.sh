#!/bin/bash
# Boot one kernel (61, 612 or debug) under QEMU (TCG) with an initramfs holding
# busybox, pss.ko for that kernel, the static selftests, gdb and elfutils
# (scripts/guest-tools.sh), then either run
# tests, the demo, or give a shell.
#
#   guest-run.sh TAG test [TEST...]   results (TAP) on stdout; exit 0 only if
#                                     every test passed, the guest finished
#                                     and the console shows no kernel splat
#   guest-run.sh TAG demo             the demo's output on stdout
#   guest-run.sh TAG bench [ARGS]     bench/run.sh ARGS in the guest
#   guest-run.sh TAG shell            interactive shell on the serial console
#
# The console log of the last run is kept in build/guest-TAG/console.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
TAG=${1:?usage: guest-run.sh 61|612|debug test|demo|shell [TEST...]}
MODE=${2:-test}
shift 2 || shift $#
. "$here/kernel-env.sh"

work=$top/build/guest-$TAG
[ "$MODE" = bench ] && work+=-bench
mkdir -p "$work"
# Runs on one kernel share build/guest-TAG: one at a time.
exec 9>"$work.lock"
flock 9
ko=$("$here/build-module.sh" "$TAG")
root=$work/root
rm -rf "$root" && mkdir -p "$root"/{bin,sbin,usr/bin,proc,sys,dev,tmp,tests,etc}
cp /bin/busybox "$root/bin/busybox"
cp "$here/guest-init.sh" "$root/init" && chmod 755 "$root/init"
cp "$ko" "$root/pss.ko"
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"

tests=("$@")
if [ "$MODE" = test ] && [ ${#tests[@]} = 0 ]; then
	for t in "$top"/selftests/*_test; do [ -x "$t" ] && tests+=("$(basename "$t")"); done
fi
for t in "$top"/selftests/*_test; do [ -x "$t" ] && cp "$t" "$root/tests/"; done
[ "$MODE" = test ] && for t in "${tests[@]}"; do
	[ -x "$root/tests/$t" ] || die "no test binary selftests/$t (make selftests?)"
done
if [ -x "$top/tools/pss/pss" ]; then
	cp "$top/tools/pss/pss" "$root/bin/pss"
	# pss links libsmartcols and libc dynamically: carry them and ld.so.
	for l in $(ldd "$top/tools/pss/pss" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$l")" && cp -L "$l" "$root$l"
	done
fi
[ -f "$here/demo-guest.sh" ] && cp "$here/demo-guest.sh" "$root/demo.sh" && chmod 755 "$root/demo.sh"
if [ -x "$top/bench/pss_bench" ]; then
	mkdir -p "$root/bench"
	cp "$top/bench/pss_bench" "$top/bench/pss_target" "$top/bench/run.sh" "$root/bench/"
fi
[ "$MODE" = bench ] && GUEST_MEM=${BENCH_MEM:-2048}
# PSS_PERF=1: a profile of the bench (bench/run.sh): perf and its libraries.
if [ "$MODE" = bench ] && [ -n "${PSS_PERF:-}" ]; then
	[ -x /usr/bin/perf ] || die "PSS_PERF needs perf (apt-get install linux-perf)"
	cp /usr/bin/perf "$root/usr/bin/perf"
	for l in $(ldd /usr/bin/perf | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$l")" && cp -L "$l" "$root$l"
	done
fi
{
	echo "MODE=$MODE"
	echo "TESTS=\"${tests[*]}\""
	# Seeds and time budgets (PSS_SEED, PSS_FUZZ_SECS, ...) reach the guest,
	# so a failure seen here can be replayed there.
	env | grep -E '^PSS_[A-Z0-9_]+=' | grep -v '^PSS_CACHE=' |
		sed -E "s/^([^=]+)=(.*)$/export \1='\2'/" || true
} > "$root/guest.conf"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initramfs.cpio.gz"
# gdb and elfutils with their libraries: a cached archive of its own after
# this run's (the kernel unpacks concatenated archives in turn).
tools=$("$here/guest-tools.sh")
cat "$tools" >> "$work/initramfs.cpio.gz"

append="console=ttyS0 loglevel=5 panic=-1 oops=panic panic_on_warn=1 rdinit=/init"
append+=" softlockup_panic=0 hung_task_panic=0 nokaslr"
# A CPU with XSAVE and AVX, so register contexts carry an xstate.
qemu=(qemu-system-x86_64 -accel tcg,thread=multi -smp 2 -m "$GUEST_MEM" -no-reboot
	-cpu "${GUEST_CPU:-qemu64,+xsave,+xsaveopt,+avx,+avx2,+fma,+sse4.1,+sse4.2,+ssse3}"
	-kernel "$IMAGE" -initrd "$work/initramfs.cpio.gz" -append "$append")

if [ "$MODE" = shell ]; then
	exec "${qemu[@]}" -nographic -serial mon:stdio
fi

console=$work/console.log results=$work/results.log
# Under multi-threaded TCG, QEMU 7.2 occasionally loses a race with the
# kernel's live text patching (int3-based text_poke) and the guest oopses
# while still booting - seen once in dozens of boots, on an untainted kernel.
# Only a guest whose /init never ran (no PSS-GUEST-BEGIN) and whose console
# never mentions pss is booted once more: anything later - a crash in
# insmod, in module init, in a test - is a failure, never a retry. The
# failed console is kept and scanned for splats like the other one; the
# one splat it may hold is that race's own: an untainted int3 oops of
# PID 1 still in the kernel's initcalls (swapper/0), before any /init.
rm -f "$work/console.boot-failure.log"
for attempt in 1 2; do
	: > "$console"; : > "$results"
	start=$(date +%s.%N)
	rc=0
	timeout -k 10 "$GUEST_TIMEOUT" "${qemu[@]}" -display none -monitor none \
		-serial "file:$console" -serial "file:$results" </dev/null || rc=$?
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	tr -d '\r' < "$results" > "$results.tmp" && mv "$results.tmp" "$results"
	grep -q '^PSS-GUEST-BEGIN' "$results" && break
	grep -qw pss "$console" && break
	[ "$attempt" = 2 ] && break
	cp "$console" "$work/console.boot-failure.log"
	echo "# guest $TAG died before its /init ran (boot failure, console in" \
		"$work/console.boot-failure.log); booting it once more"
done
cat "$results"
printf '# guest %s (%s): %.1f s\n' "$TAG" "$KREL" "$secs"
{ [ "$MODE" = demo ] || [ "$MODE" = bench ]; } && exit $rc

fail=0
if [ $rc = 124 ] || [ $rc = 137 ]; then
	echo "# GUEST-FAIL guest $TAG timed out after ${GUEST_TIMEOUT}s"; fail=1
fi
if ! grep -q '^PSS-GUEST-DONE' "$results"; then
	echo "# GUEST-FAIL guest $TAG never finished (crash, panic or timeout); console tail:"
	tail -n 40 "$console" | sed 's/^/#> /'; fail=1
fi
# Kernel splats in every console kept, whatever the tests said.
splat='BUG:|WARNING:|KASAN:|UBSAN:|Oops|Kernel panic|general protection fault'
splat+='|possible (circular|recursive) locking|inconsistent lock state|lock held when returning'
splat+='|suspicious RCU usage|bad unlock balance|scheduling while atomic|sleeping function called from invalid context'
splat+='|hung task|blocked for more than|soft lockup|rcu_sched self-detected stall|rcu: INFO:'
splat+='|unreferenced object|kmemleak: .*suspected memory leak|Call Trace:|list_(add|del) corruption'
: > "$work/splats.log"
tcg_race() { # CONSOLE: the boot race above, and nothing else
	local first
	first=$(grep -m1 -A1 -E "$splat" "$1")
	grep -q 'Oops: int3: ' <<< "$first" &&
	grep -qE 'PID: 1 Comm: swapper/[0-9]+ Not tainted ' <<< "$first" &&
	! grep -E "$splat" "$1" |
		grep -qvE 'Oops: int3: |Call Trace:|Kernel panic - not syncing'
}
for c in "$console" "$work/console.boot-failure.log"; do
	[ -f "$c" ] || continue
	grep -nE "$splat" "$c" > "$work/splats.one" || continue
	if [ "$c" != "$console" ] && tcg_race "$c"; then
		echo "# guest $TAG: boot failure was the TCG int3 race before /init" \
			"($(grep -m1 'RIP:' "$c" | sed 's/^\[[^]]*\] //'))"
		continue
	fi
	sed "s|^|$(basename "$c"):|" "$work/splats.one" >> "$work/splats.log"
	echo "# GUEST-FAIL kernel splat in the $TAG console $(basename "$c"):"
	sed 's/^/#> /' "$work/splats.one" | head -n 20
	grep -nE -A 30 "$splat" "$c" | head -n 80 | sed 's/^/#> /'
	fail=1
done
rm -f "$work/splats.one"
# Each binary's own output, so a crash is seen whatever the others did.
# (Into a variable: grep -q closing a pipe early fails it under pipefail.)
section() { # TEST
	awk -v t="$1" '$0 == "# PSS-TEST " t { on = 1; next }
		$0 ~ "^# PSS-TEST-EXIT " t " " { on = 0 } on' "$results"
}
for t in "${tests[@]}"; do
	code=$(sed -n "s/^# PSS-TEST-EXIT $t \([0-9]*\)$/\1/p" "$results")
	if [ -z "$code" ]; then
		echo "# GUEST-FAIL $t did not run to completion"; fail=1
	elif [ "$code" -ge 128 ]; then
		echo "# GUEST-FAIL $t killed by signal $((code - 128))"; fail=1
	elif [ "$code" = 1 ]; then
		# KSFT_FAIL: only with a "not ok" of its own and its totals line
		out=$(section "$t")
		if ! grep -q '^not ok' <<< "$out" || ! grep -q '^# Totals:' <<< "$out"; then
			echo "# GUEST-FAIL $t exited 1 without reporting a failure"; fail=1
		fi
	elif [ "$code" = 0 ]; then
		# the harness prints its totals last: an exit 0 without them
		# is not the harness finishing
		grep -q '^# Totals:' <<< "$(section "$t")" ||
			{ echo "# GUEST-FAIL $t exited 0 without its totals line"; fail=1; }
	elif [ "$code" != 4 ]; then
		# 4 is KSFT_SKIP: every test in the binary skipped
		echo "# GUEST-FAIL $t exited $code"; fail=1
	fi
done
grep -q '^not ok' "$results" && fail=1
exit $fail
