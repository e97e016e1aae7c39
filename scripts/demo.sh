#!/bin/bash
# `make demo`: build what the demo needs (module for KERNEL, libpss, the
# selftests - the demo's multi-threaded target lives in selftests/
# pss_tool_test - and the pss tool), then boot a KERNEL guest that runs
# scripts/demo-guest.sh as /demo.sh: every pss view, pss stack, and a core
# written by pss dump read by gdb (the guest carries gdb and elfutils:
# scripts/guest-tools.sh). The demo's output goes to stdout.
#
#   demo.sh KERNEL      KERNEL: 61, 612 or debug
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
KERNEL=${1:?usage: demo.sh 61|612|debug}
cd "$top"

bash scripts/setup.sh
bash scripts/build-module.sh "$KERNEL" >/dev/null
make -s -C lib
make -s -C selftests
make -s -C tools/pss
make -s -C bench	# its target: a thread pss must park, for pss stack
exec bash scripts/guest-run.sh "$KERNEL" demo
