#!/bin/bash
# `make check`: set up what is missing, run the static checks (checkpatch
# --strict, sparse, W=1, -Werror userspace), then the selftests in a guest of
# every kernel given (default: 61 612 debug debug61). Ends with one line
# "N passed, N failed, N skipped" and exits non-zero on any failure.
#
# Each static check counts as one test; each TAP result from a guest counts
# as one; a guest that crashes, hangs or prints a kernel splat counts as a
# failure of its own.
# The body is one compound command, read whole before it runs, so editing
# this file during a long check cannot change the running check.
{
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
cd "$top"
mkdir -p build

kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(61 612 debug debug61)
pass=0 fail=0 skip=0
t0=$(date +%s)
result() { # result ok|fail NAME
	if [ "$1" = ok ]; then pass=$((pass + 1)); echo "ok - $2"
	else fail=$((fail + 1)); echo "not ok - $2"; fi
}

bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
. "$PSS_CACHE/kernels.env"

# --- static checks -------------------------------------------------------
kfiles=$(ls kmod/*.c kmod/*.h uapi/linux/*.h 2>/dev/null)
if out=$("$LINUX_SRC/scripts/checkpatch.pl" --strict --no-tree --quiet \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f $kfiles 2>&1) && [ -z "$out" ]; then
	result ok "checkpatch --strict (kmod/, uapi/)"
else
	echo "$out" | sed 's/^/#   /'
	result fail "checkpatch --strict (kmod/, uapi/)"
fi

for k in "${kernels[@]}"; do
	sparse=0
	case $k in debug*) ;; *) sparse=1 ;; esac
	if SPARSE=$sparse bash scripts/build-module.sh "$k" >/dev/null 2>build/check-build-$k.log; then
		result ok "module build $k (W=1$([ $sparse = 1 ] && echo ', sparse'))"
	else
		sed 's/^/#   /' build/check-build-$k.log | tail -n 30
		result fail "module build $k (W=1$([ $sparse = 1 ] && echo ', sparse'))"
	fi
done

if make -s -C lib >build/check-lib.log 2>&1 && make -s -C selftests >>build/check-lib.log 2>&1 &&
	make -s -C tools/pss >>build/check-lib.log 2>&1 && make -s -C bench >>build/check-lib.log 2>&1; then
	result ok "userspace build (-Wall -Wextra -Werror)"
else
	sed 's/^/#   /' build/check-lib.log | tail -n 30
	result fail "userspace build (-Wall -Wextra -Werror)"
fi

if make -s -C lib check-abi > build/check-libabi.log 2>&1; then
	result ok "libpss exported ABI matches map and header"
else
	sed 's/^/#> /' build/check-libabi.log | tail -n 30
	result fail "libpss exported ABI matches map and header"
fi

if bash scripts/dkms-check.sh > build/check-dkms.log 2>&1; then
	result ok "dkms build (6.1, 6.12)"
else
	sed 's/^/#> /' build/check-dkms.log | tail -n 40
	result fail "dkms build (6.1, 6.12)"
fi

# --- install and packages --------------------------------------------------
# What a user of the README does on a machine that is not the rig: a staged
# `make install` as nobody, and the Debian packages (lintian-clean, every
# file where it belongs, DKMS building the packaged module for both kernels).
for c in "bench/report.py on cut-short and broken logs:python3 bench/test_report.py" \
	 "make install as nobody into a DESTDIR:bash scripts/install-check.sh" \
	 "make deb, lintian, package contents, DKMS from the package:bash scripts/deb-check.sh"; do
	name=${c%%:*} cmd=${c#*:}
	log=build/check-$(echo "${cmd##* }" | tr -c 'a-z0-9\n' '-').log
	if $cmd > "$log" 2>&1; then
		result ok "$name"
	else
		grep -E '^not ok|error|Error|FAIL' "$log" | sed 's/^/#> /' | tail -n 30
		result fail "$name"
	fi
done

# --- the suite on every kernel ---------------------------------------------
# Two lanes, so the 2 cores stay busy, balanced: each debug guest (KASAN
# under TCG, ~15 minutes) in a lane of its own, a Debian guest (~3 minutes)
# before each.
# The reliability tests size their loops by time, not by count, so sharing
# the cores makes them do less, not take longer. On the Debian kernels they
# run at half their budget (PSS_TIME_SCALE) unless the caller set one: the
# debug kernel is where they matter most.
run_guest() { # TAG
	local scale=${PSS_TIME_SCALE:-}
	if [ -z "$scale" ]; then case $1 in debug*) ;; *) scale=0.5 ;; esac; fi
	PSS_TIME_SCALE=${scale:-1} bash scripts/guest-run.sh "$1" test > "build/check-guest-$1.log" 2>&1
	echo $? > "build/check-guest-$1.rc"
}
lane_a=() lane_b=()
for k in "${kernels[@]}"; do
	case $k in 61|debug) lane_a+=("$k") ;; *) lane_b+=("$k") ;; esac
done
( for k in "${lane_a[@]}"; do run_guest "$k"; done ) &
( for k in "${lane_b[@]}"; do run_guest "$k"; done ) &
wait

for k in "${kernels[@]}"; do
	echo "# ---- guest $k"
	log=build/check-guest-$k.log
	grc=$(cat "build/check-guest-$k.rc" 2>/dev/null) || grc=1
	[ -f "$log" ] || echo "# GUEST-FAIL no log from the $k guest" > "$log"
	p=$(grep -cE '^ok [0-9]+ ' "$log")
	s=$(grep -cE '^ok [0-9]+ .*# SKIP' "$log")
	f=$(grep -cE '^not ok [0-9]+ ' "$log")
	pass=$((pass + p - s)); skip=$((skip + s)); fail=$((fail + f))
	grep -E '^not ok|^# GUEST-FAIL|^#> |^# guest |^# [A-Za-z0-9_]+\.[ch]:[0-9]+:' "build/check-guest-$k.log"
	grep -E '^ok [0-9]+ .*# SKIP' "build/check-guest-$k.log" | sed "s/^/# [$k] /"
	# A guest-level failure (splat, timeout, crash) not already a "not ok".
	if [ "$grc" != 0 ] && grep -q '^# GUEST-FAIL' "$log"; then
		result fail "guest $k: clean run (no splat, finished in time)"
	elif [ "$grc" != 0 ] && [ "$f" -eq 0 ]; then
		result fail "guest $k: runner exited $grc"
	else
		result ok "guest $k: clean run (no splat, finished in time)"
	fi
done

echo "# make check took $(( $(date +%s) - t0 ))s"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
exit
}
