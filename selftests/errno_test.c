// SPDX-License-Identifier: GPL-2.0
/*
 * Documented errnos that need a situation, not just a bad argument:
 *
 *  E2BIG   args of 4097 bytes (zero tail) for VERSION, QUERY and WALK,
 *          against 4096 accepted: the ceiling is the same for every ioctl
 *  ENFILE  no struct file left for the snapshot (fs.file-max reached by a
 *          caller without CAP_SYS_ADMIN); EMFILE is in capture_test
 *  retries the capture's resize-and-retry path: a target that grows its fd
 *          table and VMA list by hundreds at once must, within a bounded
 *          number of captures, yield a snapshot with retries > 0
 *  EINTR   a capture waiting for the target's mmap lock behind a writer (a
 *          fork of the target copying thousands of VMAs holds it for write)
 *          dies of SIGKILL while that writer still holds the lock
 *
 * EAGAIN itself (retries exhausted) is not forced: each try sizes its
 * buffers to the count the failed try found plus an eighth, and never
 * shrinks them, so eight failures in a row need a target that outgrows its
 * own size by an eighth between the sizing and the lock, eight times in a
 * row - a race userspace cannot win on demand.
 */
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "pss_invariants.h"
#include "kselftest_harness.h"

#define FILE_MAX	"/proc/sys/fs/file-max"

FIXTURE(errs) {
	int dev;
	int fds0;
};

FIXTURE_SETUP(errs)
{
	self->dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", PSS_DEVICE_PATH, strerror(errno));
	self->fds0 = pssi_count_fds();
}

FIXTURE_TEARDOWN(errs)
{
	close(self->dev);
}

/* ------------------------------------------------------------ E2BIG */

/* A page-aligned 8 KiB zeroed buffer: args of any size up to 4097 fit. */
static char big_args[8192] __attribute__((aligned(4096)));

static int ioctl_sized(int fd, unsigned long cmd, const void *args, size_t len,
		       uint32_t size)
{
	memset(big_args, 0, sizeof(big_args));
	memcpy(big_args, args, len);
	memcpy(big_args, &size, sizeof(size));
	return ioctl(fd, cmd, big_args) < 0 ? -errno : 0;
}

TEST_F(errs, version_4096_ok_4097_e2big)
{
	struct pss_version v = { .size = sizeof(v) };

	EXPECT_EQ(0, ioctl_sized(self->dev, PSS_IOC_VERSION, &v, sizeof(v), 4096));
	EXPECT_EQ(PSS_ABI_VERSION, ((struct pss_version *)big_args)->abi_version);
	EXPECT_EQ(-E2BIG, ioctl_sized(self->dev, PSS_IOC_VERSION, &v, sizeof(v), 4097));
	EXPECT_EQ(-E2BIG, ioctl_sized(self->dev, PSS_IOC_VERSION, &v, sizeof(v),
				      UINT32_MAX));
}

TEST_F(errs, query_4096_ok_4097_e2big)
{
	struct pss_snapshot_info si;
	struct pss_query_args q;
	int snap = pssi_capture(self->dev, 0, -1, 0);

	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	memset(&q, 0, sizeof(q));
	q.query_class = PSS_QUERY_SNAPSHOT;
	q.out_size = sizeof(si);
	q.out = (uintptr_t)&si;
	memset(&si, 0, sizeof(si));
	EXPECT_EQ(0, ioctl_sized(snap, PSS_IOC_QUERY, &q, sizeof(q), 4096));
	EXPECT_EQ(PSS_ABI_VERSION, si.abi_version);
	EXPECT_EQ(sizeof(si), ((struct pss_query_args *)big_args)->kernel_size);
	memset(&si, 0, sizeof(si));
	EXPECT_EQ(-E2BIG, ioctl_sized(snap, PSS_IOC_QUERY, &q, sizeof(q), 4097));
	EXPECT_EQ(0, si.abi_version) TH_LOG("a refused query wrote its output");
	close(snap);
}

TEST_F(errs, walk_4096_ok_4097_e2big)
{
	struct pss_walk_args w, *out = (void *)big_args;
	char buf[4096];
	int snap = pssi_capture(self->dev, 0, -1, PSS_FACET_THREADS);

	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	memset(&w, 0, sizeof(w));
	w.walk_class = PSS_WALK_THREADS;
	w.buf = (uintptr_t)buf;
	w.buf_len = sizeof(buf);
	EXPECT_EQ(0, ioctl_sized(snap, PSS_IOC_WALK, &w, sizeof(w), 4096));
	EXPECT_EQ(1, out->count);
	EXPECT_EQ(1, out->total);
	EXPECT_EQ(-E2BIG, ioctl_sized(snap, PSS_IOC_WALK, &w, sizeof(w), 4097));
	EXPECT_EQ(0, out->count) TH_LOG("a refused walk wrote its results");
	close(snap);
}

/* ------------------------------------------------------------ ENFILE */

static int drop_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[cap / 32].effective &= ~(1u << (cap % 32));
	return syscall(SYS_capset, &h, d);
}

static long read_long(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atol(buf) : -1;
}

static int write_long(const char *path, long v)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CLOEXEC), len, ret;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld", v);
	ret = write(fd, buf, len) == len ? 0 : -errno;
	close(fd);
	return ret;
}

TEST_F(errs, enfile)
{
	int go[2], ready[2], status;
	long file_max = read_long(FILE_MAX);
	char c;
	pid_t pid;

	ASSERT_LT(0, file_max);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int snap;

		/* Only CAP_SYS_ADMIN may go past file-max. */
		if (drop_cap(CAP_SYS_ADMIN))
			_exit(10);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(11);
		snap = pssi_capture(self->dev, 0, -1, PSS_FACET_THREADS);
		_exit(snap == -ENFILE ? 0 : snap >= 0 ? 12 : 20 + (-snap & 0xff) % 200);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* 0: no new file for anyone without CAP_SYS_ADMIN, until restored */
	ASSERT_EQ(0, write_long(FILE_MAX, 0));
	EXPECT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, write_long(FILE_MAX, file_max));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("capture at file-max: status %#x (exit 12: it succeeded; 20+n: errno n)",
		       status);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
	/* the fd the capture reserved before failing went back */
	EXPECT_EQ(self->fds0, pssi_count_fds());
}

/* ------------------------------------------------------------ retries */

#define BURST		400
#define BURST_FD0	1000
#define FILLERS		3000

/*
 * Grows the fd table by BURST at once, then shrinks it, sleeping a random
 * while between: SCHED_FIFO on the capturer's CPU, so a wake-up during a
 * capture's long (preemptible) VMA copy grows the table between the
 * capture's sizing of its fd buffer and its copy of the table.
 */
static void *grower(void *arg)
{
	struct sched_param sp = { .sched_priority = 1 };
	uint64_t rng = (uintptr_t)arg;
	int i, null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	bool grown = false;

	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		return NULL;
	for (;;) {
		usleep(pssi_rand_below(&rng, 1500));
		for (i = 0; i < BURST; i++)
			if (grown)
				close(BURST_FD0 + i);
			else
				dup2(null, BURST_FD0 + i);
		grown = !grown;
	}
	return NULL;
}

TEST_F_TIMEOUT(errs, retry_path_reached, 600)
{
	unsigned int n, eagain = 0, with_retries = 0, max_retries = 0;
	struct rlimit rl = { 4096, 4096 };
	cpu_set_t old, cpu0;
	char old_preempt[32];
	int status;
	pid_t pid;

	if (pssi_set_preempt("full", old_preempt, sizeof(old_preempt)))
		PSSI_LOG("preemption: full (was %s)", old_preempt);
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(old), &old));
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpu0), &cpu0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *area = mmap(NULL, 2 * FILLERS * PSSI_PAGE, PROT_READ,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pthread_t t;
		int i;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (area == MAP_FAILED || setrlimit(RLIMIT_NOFILE, &rl))
			_exit(1);
		/* a long VMA copy: the window the grower lands in */
		for (i = 0; i < FILLERS; i++)
			if (mprotect(area + 2 * i * PSSI_PAGE, PSSI_PAGE, PROT_NONE))
				_exit(2);
		if (pthread_create(&t, NULL, grower, (void *)(uintptr_t)pssi_seed()))
			_exit(3);
		for (;;)
			pause();
	}
	/*
	 * Bounded by a count, not a time: a capture that lands on a growing
	 * target retries; in thousands of captures some must.
	 */
	for (n = 0; n < 2000 && with_retries < 3; n++) {
		struct pssi_opts o = {
			.pid = pid, .facets = PSS_FACET_HANDLES | PSS_FACET_VA_SPACE |
			PSS_FACET_THREADS,
		};
		struct pssi_snap s;
		int snap = pssi_capture(self->dev, pid, -1, o.facets);

		if (snap == -EAGAIN) {
			eagain++;
			continue;
		}
		ASSERT_LE(0, snap) TH_LOG("capture %u: %s", n, strerror(-snap));
		ASSERT_EQ(0, pssi_check(snap, &o, &s)) TH_LOG("capture %u: %s", n,
							      pssi_errmsg);
		if (s.si.retries) {
			with_retries++;
			if (s.si.retries > max_retries)
				max_retries = s.si.retries;
		}
		pssi_snap_free(&s);
		close(snap);
	}
	ASSERT_EQ(0, waitpid(pid, &status, WNOHANG)) TH_LOG("target died: %#x", status);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	sched_setaffinity(0, sizeof(old), &old);
	if (old_preempt[0]) {
		char ignored[32];

		pssi_set_preempt(old_preempt, ignored, sizeof(ignored));
	}
	PSSI_LOG("%u captures: %u with retries (most %u), %u EAGAIN", n, with_retries,
		 max_retries, eagain);
	EXPECT_LE(3, with_retries + eagain);
	EXPECT_EQ(self->fds0, pssi_count_fds());
}

/* ------------------------------------------------------------ EINTR */

#define FORK_VMAS	20000

struct fork_state {
	volatile int in_fork;
	volatile unsigned long forks;
	volatile int ready;
};

/* The target: FORK_VMAS populated VMAs, and a thread that forks non-stop. */
static void *forker(void *arg)
{
	struct fork_state *fs = arg;

	for (;;) {
		pid_t c;

		fs->in_fork = 1;
		c = fork();
		if (c == 0)
			_exit(0);
		fs->in_fork = 0;
		fs->forks++;
		if (c > 0)
			waitpid(c, NULL, 0);
	}
	return NULL;
}

static int fork_target(struct fork_state *fs)
{
	char *a = mmap(NULL, 2 * FORK_VMAS * PSSI_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	pthread_t t;
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (a == MAP_FAILED)
		return 1;
	for (i = 0; i < FORK_VMAS; i++)
		if (mprotect(a + 2 * i * PSSI_PAGE, PSSI_PAGE, PROT_READ))
			return 2;
	if (pthread_create(&t, NULL, forker, fs))
		return 3;
	fs->ready = 1;
	for (;;)
		pause();
}

/* 'D' (TASK_KILLABLE reads as D) inside ioctl(2): blocked in the capture. */
static bool read_proc(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

static bool blocked_in_ioctl(pid_t pid)
{
	char buf[512], *p;

	if (!read_proc(pid, "stat", buf, sizeof(buf)))
		return false;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] != 'D')
		return false;
	return read_proc(pid, "syscall", buf, sizeof(buf)) && atoi(buf) == SYS_ioctl;
}

TEST_F_TIMEOUT(errs, eintr_behind_mmap_writer, 600)
{
	struct fork_state *fs;
	unsigned int tries, conclusive = 0, late = 0;
	pid_t target;
	int status;

	fs = mmap(NULL, sizeof(*fs), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_NE(MAP_FAILED, fs);
	memset(fs, 0, sizeof(*fs));
	target = fork();
	ASSERT_LE(0, target);
	if (target == 0)
		_exit(fork_target(fs));
	while (!fs->ready) {
		ASSERT_EQ(0, waitpid(target, &status, WNOHANG))
			TH_LOG("target setup failed: %#x", status);
		usleep(1000);
	}

	for (tries = 0; tries < 60 && conclusive < 3; tries++) {
		unsigned long f0, f1;
		unsigned int spins;
		pid_t cap = fork();

		ASSERT_LE(0, cap);
		if (cap == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;) {
				int snap = pssi_capture(self->dev, target, -1,
							PSS_FACET_VA_SPACE);

				if (snap < 0)
					_exit(30);
				close(snap);
			}
		}
		/* Catch the capturer asleep in the ioctl while a fork holds the lock. */
		for (spins = 0; spins < 30000; spins++) {
			if (fs->in_fork && blocked_in_ioctl(cap))
				break;
			usleep(100);
		}
		f0 = fs->forks;
		ASSERT_EQ(0, kill(cap, SIGKILL));
		ASSERT_EQ(cap, waitpid(cap, &status, 0));
		f1 = fs->forks;
		ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			TH_LOG("capturer status %#x", status);
		if (spins == 30000)
			continue;
		/*
		 * The fork that held the mmap lock had not finished when the
		 * capturer was reaped: the wait for the lock was killable.
		 * (A fork that finished meanwhile proves nothing either way.)
		 */
		if (f1 == f0 && fs->in_fork)
			conclusive++;
		else
			late++;
	}
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	PSSI_LOG("%u kills: %u while the writer still held the lock, %u after it let go",
		 tries, conclusive, late);
	EXPECT_LE(3, conclusive);
	munmap(fs, sizeof(*fs));
	EXPECT_EQ(self->fds0, pssi_count_fds());
}

TEST_HARNESS_MAIN
