#!/bin/sh
# Runs inside the guest (bench mode of scripts/guest-run.sh): the benchmark
# with the arguments given to guest-run.sh, on the guest's tmpfs.
cd /tmp || exit 1
echo "# PSS-BENCH-BEGIN $(uname -r) cpus=$(nproc) mem=$(awk '/MemTotal/ {print $2}' /proc/meminfo)kB"
/bench/pss_bench "$@"
rc=$?
echo "# PSS-BENCH-EXIT $rc"
exit $rc
