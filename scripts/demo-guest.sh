#!/bin/sh
# The pss demo, run inside a guest as /demo.sh (scripts/guest-run.sh TAG demo).
# Busybox, gdb and elfutils (scripts/guest-tools.sh), plus /bin/pss and the
# selftest binaries in /tests. Starts a few real programs and shows every
# pss view of them, then every thread's backtrace (pss stack) and an ELF
# core (pss dump) that gdb reads back:
#   - a multi-threaded program with named threads, a regular file, a pipe,
#     an eventfd, an epoll fd, a unix socketpair, a listening TCP socket, a
#     memfd and named/shared/PROT_NONE mappings (/tests/pss_tool_test --target,
#     the same target the tool's selftest checks field by field)
#   - a shell pipeline: sleep | cat
#   - busybox httpd listening on a TCP port, and nc listening on another
export PATH=/bin:/sbin:/usr/bin:/tests
# the serial console reports no size: give the tables room
export COLUMNS=${COLUMNS:-160}
PSS=${PSS:-/bin/pss}

run() { # run CMD...: echo it, run it, show a non-zero exit status
	echo
	echo "\$ $*"
	"$@"
	rc=$?
	[ $rc = 0 ] || echo "[exit status $rc]"
	return 0
}

if [ ! -x "$PSS" ]; then
	echo "demo: $PSS is missing (build it: make -C tools/pss)"
	exit 1
fi
if ! "$PSS" --version >/dev/null 2>&1; then
	echo "demo: $PSS does not run here; its shared libraries must be in the"
	echo "      initramfs (see tools/pss/Makefile print-libs):"
	"$PSS" --version
	exit 1
fi

ip link set lo up 2>/dev/null
echo "demo: pss on $(uname -r), $(nproc) cpus"
run "$PSS" --version

# --- the programs ----------------------------------------------------------
target=
if [ -x /tests/pss_tool_test ]; then
	/tests/pss_tool_test --target > /tmp/target.out 2>&1 &
	target=$!
	i=0
	while ! grep -q '^ready' /tmp/target.out 2>/dev/null && [ $i -lt 100 ]; do
		usleep 100000; i=$((i + 1))
	done
fi
sleep 3600 | cat > /dev/null &
cat_pid=$!
mkdir -p /tmp/www && echo "hello from pss demo" > /tmp/www/index.html
httpd -f -p 8080 -h /tmp/www &
httpd_pid=$!
nc -l -p 7777 > /dev/null < /dev/null &
nc_pid=$!
usleep 300000
sleep_pid=$(pidof sleep | cut -d' ' -f1)

echo
echo "demo: programs: target=$target (multi-threaded), pipeline sleep=$sleep_pid | cat=$cat_pid,"
echo "      httpd=$httpd_pid (tcp :8080), nc=$nc_pid (tcp :7777)"

# --- pss show ---------------------------------------------------------------
for p in $target $sleep_pid $cat_pid $httpd_pid $nc_pid 1; do
	run "$PSS" show "$p"
done
run "$PSS" show --pidfd -o PID,COMM,THREADS,FDS,MAPS,RSS-ANON,RSS-FILE,AFFINITY,POLICY "$target"

# --- pss threads ------------------------------------------------------------
[ -n "$target" ] && run "$PSS" threads "$target"
run "$PSS" threads -o TID,COMM,STATE,PSR,UTIME,STIME,START,PRI,NI,MINFLT,FLAGS 1

# --- pss fds ------------------------------------------------------------------
for p in $target $cat_pid $httpd_pid $nc_pid; do
	run "$PSS" fds "$p"
done

# --- pss maps -----------------------------------------------------------------
[ -n "$target" ] && run "$PSS" maps "$target"
[ -n "$target" ] && run "$PSS" maps -o +FLAGS,KIND,PAGESIZE "$target"
run "$PSS" maps "$cat_pid"

# --- pss stack: every thread's kernel and user backtrace, one capture ---------
[ -n "$target" ] && run "$PSS" stack "$target"
# The benchmark's target (make -C bench), if built: 4 threads, one spinning
# in user mode (pss parks it), three waking every 10 ms (tick area: -k FD).
if [ -x /bench/pss_target ]; then
	dd if=/dev/zero of=/tmp/ticks bs=4096 count=1 2>/dev/null
	/bench/pss_target -t 4 -k 3 -n 1 3<>/tmp/ticks &
	ticker=$!
	usleep 500000
	run "$PSS" stack -o TID,COMM,PARK,KIND,FRAME,SYMBOL "$ticker"
	kill $ticker
fi

# --- pss dump: an ELF core from the same kind of capture, read by gdb ----------
if [ -n "$target" ]; then
	run "$PSS" dump -o /tmp/core.target "$target"
	run ls -l /tmp/core.target
	# the process is still running: the core is of the instant of the capture
	run gdb -nx -batch /tests/pss_tool_test /tmp/core.target \
		-ex 'info threads' -ex 'thread apply all bt'
	rm -f /tmp/core.target
fi

# --- pss snapshot --json ------------------------------------------------------
run "$PSS" snapshot --json "$cat_pid"

# --- other output modes and the errors ---------------------------------------
run "$PSS" fds -r -o FD,TYPE,DETAIL "$nc_pid"
run "$PSS" threads -J "$cat_pid"
run "$PSS" show 999999
run su -s /bin/sh nobody -c "$PSS show 1"
run "$PSS" show 2
run "$PSS" maps --output NOSUCH 1

kill $target $cat_pid $sleep_pid $httpd_pid $nc_pid 2>/dev/null
wait 2>/dev/null
echo
echo "demo: done"
exit 0
