#!/bin/sh
# Runs inside the guest (bench mode of scripts/guest-run.sh): the benchmark
# with the arguments given to guest-run.sh, on the guest's tmpfs.
cd /tmp || exit 1
echo "# PSS-BENCH-BEGIN $(uname -r) cpus=$(nproc) mem=$(awk '/MemTotal/ {print $2}' /proc/meminfo)kB"
if [ -n "${PSS_PERF:-}" ] && [ -x /usr/bin/perf ]; then
	# A profile (PSS_PERF=1, e.g. with --only pss): cpu-clock sampling
	# works under TCG; the module's symbols come from /proc/kallsyms.
	echo 0 > /proc/sys/kernel/kptr_restrict
	echo -1 > /proc/sys/kernel/perf_event_paranoid
	perf record -q -e cpu-clock -F 2999 -g -o /tmp/perf.data -- /bench/pss_bench "$@"
	rc=$?
	echo "# PSS-PERF-BEGIN"
	perf report -i /tmp/perf.data --stdio --no-children --sort sym \
		--percent-limit 0.4 -g none 2>/dev/null | grep -v '^$'
	echo "# PSS-PERF-CALLERS"
	perf report -i /tmp/perf.data --stdio --children --sort sym \
		--percent-limit 2 -g none 2>/dev/null | grep -v '^$' | head -n 80
	# PSS_PERF_PARENT=REGEX: the self time of every function called
	# under a function matching REGEX (say, pss_memory_build), and the
	# pss functions' totals: where the time of that phase goes.
	if [ -n "${PSS_PERF_PARENT:-}" ]; then
		echo "# PSS-PERF-PARENT $PSS_PERF_PARENT"
		perf report -i /tmp/perf.data --stdio --no-children --sort sym \
			-p "$PSS_PERF_PARENT" -x --percent-limit 0.05 -g none \
			2>/dev/null | grep -v '^$'
		echo "# PSS-PERF-PSS-CHILDREN"
		perf report -i /tmp/perf.data --stdio --children --sort sym \
			--percent-limit 0.05 -g none 2>/dev/null | grep ' pss_'
	fi
	# Addresses of the samples in the module, for objdump on the host.
	echo "# PSS-PERF-TEXT $(cat /sys/module/pss/sections/.text 2>/dev/null)"
	perf script -i /tmp/perf.data -G -F ip,sym 2>/dev/null |
		awk '$2 ~ /^pss_/ { print "# PSS-PERF-IP", $1, $2 }' |
		sort | uniq -c | sort -rn | head -n 400
	echo "# PSS-PERF-END"
else
	/bench/pss_bench "$@"
	rc=$?
fi
echo "# PSS-BENCH-EXIT $rc"
exit $rc
