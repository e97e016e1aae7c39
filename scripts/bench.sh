#!/bin/bash
# `make bench`: build the benchmark statically, run it in a guest of each
# kernel (Debian 6.12 first: every figure; then Debian 6.1, where procfs is
# the only peer - PROCMAP_QUERY appeared in 6.11), print the table and write
# bench/results.md and the plot bench/cost.svg. The thread-state stall part
# (tstall) runs eu-stack and gdb in the guest: scripts/guest-tools.sh
# carries them. The dump part runs the pss tool (/bin/pss, built here)
# and gdb's gcore on a target with up to 512 MiB touched: the guest then
# holds that memory three times (the target, the snapshot, the core in
# tmpfs), hence 3 GiB by default.
#
#   bench.sh [KERNEL...]          default: 612 61
#   BENCH_ARGS="--budget 6"       passed to pss_bench on the primary kernel
#   BENCH_ARGS_SECONDARY=...      passed on the other kernels
#                                 (--parts tstall: only the stall of thread
#                                 state; --parts dump: pss dump vs gcore;
#                                 see pss_bench.c for the parts)
#   BENCH_MEM=3072                guest memory (MiB)
#
# Guest logs are kept in build/bench-TAG.log. Takes about 20-25 minutes on a
# 2-core machine (QEMU TCG). Exits non-zero if a guest run failed or the
# benchmark reported an error.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
cd "$top"

kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(612 61)
primary_args=${BENCH_ARGS:---budget 8 --stall-secs 4}
secondary_args=${BENCH_ARGS_SECONDARY:---budget 3 --stall-secs 2}

make -s -C bench
make -s -C lib
make -s -C tools/pss
export BENCH_MEM=${BENCH_MEM:-3072}
command -v python3 >/dev/null || die "python3 is needed for the report (scripts/setup.sh installs it)"

# The rig's bench mode: guest-run.sh copies bench/{pss_bench,pss_target,run.sh}
# into the initramfs and guest-init.sh runs /bench/run.sh with the arguments.
runner=$here/guest-run.sh
grep -q '^bench)' "$here/guest-init.sh" || die "scripts/guest-init.sh has no bench mode"

export GUEST_TIMEOUT=${GUEST_TIMEOUT:-1800}
mkdir -p build
logs=()
rc=0
first=1
for k in "${kernels[@]}"; do
	args=$primary_args
	[ $first = 1 ] || args=$secondary_args
	first=0
	log=build/bench-$k.log
	log "bench on $k: pss_bench $args (log: $log)"
	# shellcheck disable=SC2086
	if ! bash "$runner" "$k" bench $args > "$log" 2>&1; then
		rc=1
	fi
	grep -v '^#BENCH' "$log" || true
	grep -q '^# PSS-BENCH-EXIT 0' "$log" || { log "bench on $k did not finish cleanly"; rc=1; }
	logs+=("$log")
done

python3 bench/report.py --md bench/results.md --svg bench/cost.svg "${logs[@]}"
log "wrote bench/results.md and bench/cost.svg"
exit $rc
