// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failure, systematically: for n = 1, 2, 3, ... arm
 * /proc/self/task/TID/fail-nth with n (Documentation/fault-injection/
 * fault-injection.rst: the n-th fault site the task hits fails; reading the
 * file back gives 0 once the fault was injected, the remaining count if
 * not), capture, read it back. Until a capture completes without the fault
 * being injected, every capture that fails must fail cleanly: an
 * acceptable errno (ENOMEM; EFAULT only when fail_usercopy exists), no fd
 * left behind, a fault that was really injected (no failure without one).
 * A capture that survives an injected fault must still pass the invariants.
 * The sweep must reach the end - a capture with no fault left to inject -
 * within its budget, or the test fails: every site, in order, is the claim.
 * The child target's anon VMA names overflow the capture's first name
 * arena, so every capture with names retries once, and the sweep covers
 * the retry path's allocations as well. The same for query and walk on a
 * finished snapshot (with fail_usercopy, their copy-outs are sites too).
 * kmemleak is checked by the guest runner after the suite.
 *
 * failslab and fail_page_alloc ignore sleepable allocations by default;
 * the fixture turns that off (and every fail* verbose knob down, so no
 * stack dumps reach the console) and restores the knobs afterwards.
 * SKIPs where the kernel has no fail-nth (CONFIG_FAULT_INJECTION unset).
 *
 * Env: PSS_FAILNTH_SECS bounds each variant's loop (default 60 s, 120 s on
 * the debug kernel); PSS_FAILNTH_MAX bounds n (default 100000).
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include "pss_invariants.h"
#include "kselftest_harness.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA		0x53564d41
#define PR_SET_VMA_ANON_NAME	0
#endif

#define DBG "/sys/kernel/debug/"
#define NAMED_VMAS	40

struct knob {
	const char *path;
	const char *value;
	char saved[64];
	bool set;
};

static struct knob knobs[] = {
	{ .path = DBG "failslab/ignore-gfp-wait", .value = "N" },
	{ .path = DBG "fail_page_alloc/ignore-gfp-wait", .value = "N" },
	{ .path = DBG "fail_page_alloc/min-order", .value = "0" },
	{ .path = DBG "failslab/verbose", .value = "0" },
	{ .path = DBG "fail_page_alloc/verbose", .value = "0" },
	{ .path = DBG "fail_futex/verbose", .value = "0" },
	{ .path = DBG "fail_usercopy/verbose", .value = "0" },
	{ .path = DBG "fail_make_request/verbose", .value = "0" },
	{ .path = DBG "fail_io_timeout/verbose", .value = "0" },
	{ .path = DBG "fail_function/verbose", .value = "0" },
	{ .path = DBG "fail_skb_realloc/verbose", .value = "0" },
};

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int write_small(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, v, strlen(v));
	close(fd);
	return n == (ssize_t)strlen(v) ? 0 : -1;
}

static void knobs_set(void)
{
	size_t i;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		knobs[i].set = false;
		if (read_small(knobs[i].path, knobs[i].saved, sizeof(knobs[i].saved)))
			continue;
		if (!write_small(knobs[i].path, knobs[i].value))
			knobs[i].set = true;
	}
}

static void knobs_restore(void)
{
	size_t i;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (knobs[i].set)
			write_small(knobs[i].path, knobs[i].saved);
}

/* fail-nth of this thread */
static int nth_fd = -1;

static int nth_open(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", pssi_gettid());
	nth_fd = open(path, O_RDWR | O_CLOEXEC);
	return nth_fd;
}

static void nth_arm(unsigned int n)
{
	char b[16];
	int l = snprintf(b, sizeof(b), "%u", n);

	if (pwrite(nth_fd, b, l, 0) != l)
		abort();
}

/*
 * Remaining count: 0 = the fault was injected. With fail_usercopy, reading
 * and writing fail-nth are fault sites themselves: a read that fails with
 * EFAULT was the n-th site (the count stood at 1, nothing before used it),
 * and a disarming write that fails with EFAULT has used the count up.
 */
static unsigned int nth_read_disarm(void)
{
	char b[16] = "";
	ssize_t r = pread(nth_fd, b, sizeof(b) - 1, 0);
	unsigned int left;

	if (r > 0)
		left = strtoul(b, NULL, 10);
	else if (r < 0 && errno == EFAULT)
		left = 1;
	else
		abort();
	if (pwrite(nth_fd, "0", 1, 0) != 1 &&
	    (errno != EFAULT || pwrite(nth_fd, "0", 1, 0) != 1))
		abort();
	return left;
}

static bool usercopy_injection;

static bool acceptable(int err)
{
	return err == ENOMEM || (usercopy_injection && err == EFAULT);
}

/* ------------------------------------------------------------ target */

static void *idle_thread(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "pss-fn-idle");
	for (;;)
		pause();
	return NULL;
}

/* a target with a bit of everything: threads, fds of many types, mappings */
static int target_setup(void)
{
	pthread_t t;
	int i, p[2], s[2], fd;
	char *a;

	for (i = 0; i < 3; i++)
		if (pthread_create(&t, NULL, idle_thread, NULL))
			return 1;
	if (pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, s))
		return 2;
	if (socket(AF_INET, SOCK_STREAM, 0) < 0 || eventfd(0, 0) < 0 ||
	    open("/", O_RDONLY | O_DIRECTORY) < 0 || open("/dev/null", O_RDWR) < 0)
		return 3;
	fd = open("/tmp/pss-failnth-file", O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 4 * PSSI_PAGE))
		return 4;
	a = mmap(NULL, 4 * PSSI_PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED)
		return 5;
	a = mmap(NULL, 8 * PSSI_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return 6;
	prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, a, 4 * PSSI_PAGE, "pss-failnth");
	mprotect(a + 4 * PSSI_PAGE, PSSI_PAGE, PROT_READ);
	/* enough records that the buffers outgrow a page (kvmalloc -> vmalloc) */
	for (i = 0; i < 80; i++)
		if (open(i & 1 ? "/tmp/pss-failnth-file" : "/dev/null", O_RDONLY) < 0)
			return 7;
	for (i = 0; i < 150; i++)
		if (mmap(NULL, PSSI_PAGE, i & 1 ? PROT_READ : PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			return 8;
	for (i = 0; i < 12; i++)
		if (pthread_create(&t, NULL, idle_thread, NULL))
			return 9;
	/*
	 * Anon names that outgrow the capture's first VMA-name arena
	 * (PSS_VNAMES_MIN, 1 KiB): every capture with VA_SPACE_SECTION
	 * overflows it once and retries, so the sweep below walks through
	 * the retry path's allocations too, deterministically. (Where the
	 * kernel has no ANON_VMA_NAME, the names are refused and nothing
	 * retries: the reference says so.)
	 */
	for (i = 0; i < NAMED_VMAS; i++) {
		char name[80];

		a = mmap(NULL, PSSI_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a == MAP_FAILED)
			return 10;
		snprintf(name, sizeof(name), "pss-failnth-retry-path-%02d-"
			 "padding-the-name-out-to-sixty-odd-bytes", i);
		prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, a, PSSI_PAGE, name);
	}
	return 0;
}

static pid_t target_start(int *pidfd)
{
	int ready[2];
	pid_t pid;
	char c = 0;

	if (pipe2(ready, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		c = target_setup();
		(void)!write(ready[1], &c, 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (pid < 0 || read(ready[0], &c, 1) != 1 || c) {
		close(ready[0]);
		return -1;
	}
	close(ready[0]);
	*pidfd = pssi_pidfd_open(pid);
	return pid;
}

/*
 * A snapshot of the (unchanging) target taken under fault injection against
 * the reference: same facets, same threads, same fds with the same names,
 * same VMAs with the same names (VMAs only for a child: our own layout moves
 * as the checker allocates). 0 or -1 with pssi_errmsg.
 */
static int same_as_ref(const struct pssi_snap *r, const struct pssi_snap *s, bool vmas)
{
	size_t i;

	if (r->si.facets != s->si.facets || r->si.nr_threads != s->si.nr_threads ||
	    r->si.nr_handles != s->si.nr_handles ||
	    (vmas && r->si.nr_vmas != s->si.nr_vmas))
		return pssi_fail("counts threads/handles/vmas %llu/%llu/%llu, reference "
				 "%llu/%llu/%llu",
				 (unsigned long long)s->si.nr_threads,
				 (unsigned long long)s->si.nr_handles,
				 (unsigned long long)s->si.nr_vmas,
				 (unsigned long long)r->si.nr_threads,
				 (unsigned long long)r->si.nr_handles,
				 (unsigned long long)r->si.nr_vmas);
	if (r->pi.mask != s->pi.mask || strcmp(r->pi.exe_path, s->pi.exe_path))
		return pssi_fail("process mask %#llx exe '%s', reference %#llx '%s'",
				 (unsigned long long)s->pi.mask, s->pi.exe_path,
				 (unsigned long long)r->pi.mask, r->pi.exe_path);
	for (i = 0; i < s->r[PSS_WALK_HANDLES].n; i++) {
		const struct pss_handle_entry *h = pssi_rec(&s->r[PSS_WALK_HANDLES], i);
		const struct pss_handle_entry *g = pssi_find_fd(r, h->fd);
		const char *hn = pssi_rec_name(h), *gn = g ? pssi_rec_name(g) : NULL;

		if (!g)
			return pssi_fail("fd %d not in the reference", h->fd);
		if (h->flags != g->flags || h->type != g->type || !!hn != !!gn ||
		    (hn && strcmp(hn, gn)))
			return pssi_fail("fd %d: flags %#x type %u name '%s', reference "
					 "%#x %u '%s'", h->fd, h->flags, h->type,
					 hn ? hn : "(none)", g->flags, g->type,
					 gn ? gn : "(none)");
	}
	for (i = 0; vmas && i < s->r[PSS_WALK_VA_SPACE].n; i++) {
		const struct pss_vma_entry *v = pssi_rec(&s->r[PSS_WALK_VA_SPACE], i);
		const struct pss_vma_entry *w = pssi_rec(&r->r[PSS_WALK_VA_SPACE], i);
		const char *vn = pssi_rec_name(v), *wn = pssi_rec_name(w);

		if (v->start != w->start || v->end != w->end || v->flags != w->flags ||
		    v->name_kind != w->name_kind || !!vn != !!wn || (vn && strcmp(vn, wn)))
			return pssi_fail("vma %#llx-%#llx kind %u name '%s', reference "
					 "%#llx-%#llx %u '%s'",
					 (unsigned long long)v->start,
					 (unsigned long long)v->end, v->name_kind,
					 vn ? vn : "(none)", (unsigned long long)w->start,
					 (unsigned long long)w->end, w->name_kind,
					 wn ? wn : "(none)");
	}
	return 0;
}

static size_t named_vmas(const struct pssi_snap *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->r[PSS_WALK_VA_SPACE].n; i++) {
		const struct pss_vma_entry *v = pssi_rec(&s->r[PSS_WALK_VA_SPACE], i);
		const char *name = pssi_rec_name(v);

		if (name && strstr(name, "pss-failnth-retry-path-"))
			n++;
	}
	return n;
}

/* ------------------------------------------------------------ fixture */

static void teardown_common(int dev, pid_t pid, int pidfd)
{
	if (nth_fd >= 0) {
		(void)!pwrite(nth_fd, "0", 1, 0);
		close(nth_fd);
		nth_fd = -1;
	}
	knobs_restore();
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (pidfd >= 0)
		close(pidfd);
	if (dev >= 0)
		close(dev);
	unlink("/tmp/pss-failnth-file");
}

FIXTURE(failnth) {
	int dev;
	pid_t pid;
	int pidfd;
	double secs;
	unsigned int max_n;
	uint64_t facets;	/* the variant's, and the thread state built */
};

FIXTURE_VARIANT(failnth) {
	bool self;		/* capture ourselves (else a child target) */
	bool by_pidfd;
	uint64_t facets;
	bool thread_state;	/* + every thread-state facet */
};

FIXTURE_VARIANT_ADD(failnth, child_all) {
	.facets = PSS_FACETS_ALL,
};

FIXTURE_VARIANT_ADD(failnth, child_all_pidfd) {
	.by_pidfd = true,
	.facets = PSS_FACETS_ALL,
};

FIXTURE_VARIANT_ADD(failnth, self_all) {
	.self = true,
	.facets = PSS_FACETS_ALL,
};

FIXTURE_VARIANT_ADD(failnth, child_threads) {
	.facets = PSS_FACET_THREADS,
};

FIXTURE_VARIANT_ADD(failnth, child_handles_named) {
	.facets = PSS_FACET_HANDLES | PSS_FACET_HANDLE_NAME,
};

FIXTURE_VARIANT_ADD(failnth, child_va_section) {
	.facets = PSS_FACET_VA_SPACE | PSS_FACET_VA_SPACE_SECTION,
};

FIXTURE_VARIANT_ADD(failnth, child_process_only) {
	.facets = 0,
};

/* the park, the registers, the stacks and memory: their allocations too */
FIXTURE_VARIANT_ADD(failnth, child_thread_state) {
	.facets = PSS_FACET_THREADS | PSS_FACET_MEASURE_PERFORMANCE,
	.thread_state = true,
};

FIXTURE_VARIANT_ADD(failnth, self_thread_state) {
	.self = true,
	.facets = PSS_FACET_THREADS | PSS_FACET_MEASURE_PERFORMANCE,
	.thread_state = true,
};

FIXTURE_SETUP(failnth)
{
	const char *e = getenv("PSS_FAILNTH_MAX");

	self->dev = -1;
	self->pid = -1;
	self->pidfd = -1;
	if (nth_open() < 0)
		SKIP(return, "no /proc/self/task/TID/fail-nth (CONFIG_FAULT_INJECTION off)");
	if (access(DBG "failslab", F_OK))
		PSSI_LOG("warning: no " DBG "failslab: sleepable slab allocations "
			 "will not be failed");
	usercopy_injection = !access(DBG "fail_usercopy", F_OK);
	self->dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", PSS_DEVICE_PATH, strerror(errno));
	self->secs = pssi_budget("PSS_FAILNTH_SECS", 60, 120);
	self->max_n = e && *e ? strtoul(e, NULL, 0) : 100000;
	self->facets = variant->facets;
	if (variant->thread_state)
		self->facets |= PSS_FACETS_THREAD_STATE;
	if (!variant->self) {
		self->pid = target_start(&self->pidfd);
		ASSERT_LT(0, self->pid);
		ASSERT_LE(0, self->pidfd);
	}
	knobs_set();
}

FIXTURE_TEARDOWN(failnth)
{
	teardown_common(self->dev, self->pid, self->pidfd);
}

TEST_F_TIMEOUT(failnth, capture, 1200)
{
	uint64_t end = pssi_now_ns() + self->secs * 1e9, t0 = pssi_now_ns();
	pid_t want_pid = variant->self ? getpid() : self->pid;
	unsigned long injected_failed = 0, injected_survived = 0, enomem = 0;
	struct pssi_snap ref;
	unsigned int n, left = 1;
	int fds0, fds;
	bool done = false;

	/* the reference: the same capture without fault injection */
	{
		struct pssi_opts o = {
			.pid = want_pid, .facets = self->facets,
			.tid_mode = PSSI_TID_STRICT, .self = variant->self,
			.caller_tid = variant->self ? pssi_gettid() : 0,
		};
		int snap = variant->self ? pssi_capture_ts(self->dev, 0, -1, self->facets) :
			   pssi_capture_ts(self->dev, self->pid, -1, self->facets);

		ASSERT_LE(0, snap) TH_LOG("reference capture: %s", strerror(-snap));
		ASSERT_EQ(0, pssi_check(snap, &o, &ref)) TH_LOG("reference: %s", pssi_errmsg);
		close(snap);
	}
	if (!variant->self && (self->facets & PSS_FACET_VA_SPACE_SECTION) &&
	    named_vmas(&ref) >= NAMED_VMAS) {
		/* the names overflow the first arena: one retry, every time */
		EXPECT_EQ(1, ref.si.retries);
	}
	fds0 = pssi_count_fds();
	for (n = 1; n <= self->max_n && pssi_now_ns() < end; n++) {
		int snap, err;

		nth_arm(n);
		snap = variant->by_pidfd ?
		       pssi_capture_ts(self->dev, 0, self->pidfd, self->facets) :
		       pssi_capture_ts(self->dev, variant->self ? 0 : self->pid, -1,
				    self->facets);
		left = nth_read_disarm();
		if (snap < 0) {
			err = -snap;
			ASSERT_TRUE(acceptable(err))
				TH_LOG("fail-nth %u: capture failed with %s (injected: %s)",
				       n, strerror(err), left ? "no" : "yes");
			ASSERT_EQ(0, left)
				TH_LOG("fail-nth %u: capture failed (%s) without the fault "
				       "being injected", n, strerror(err));
			fds = pssi_count_fds();
			ASSERT_EQ(fds0, fds)
				TH_LOG("fail-nth %u: %d fds after a failed capture, %d before",
				       n, fds, fds0);
			injected_failed++;
			if (err == ENOMEM)
				enomem++;
			continue;
		}
		{
			struct pssi_opts o = {
				.pid = want_pid, .facets = self->facets,
				.tid_mode = PSSI_TID_STRICT, .self = variant->self,
				.caller_tid = variant->self ? pssi_gettid() : 0,
			};
			struct pssi_snap s;
			int same;

			ASSERT_EQ(0, pssi_check(snap, &o, &s))
				TH_LOG("fail-nth %u (injected: %s): %s", n,
				       left ? "no" : "yes", pssi_errmsg);
			/* surviving a fault must not mean silently losing data */
			same = same_as_ref(&ref, &s, !variant->self);
			pssi_snap_free(&s);
			ASSERT_EQ(0, same)
				TH_LOG("fail-nth %u (injected: %s): snapshot differs from "
				       "the reference: %s", n, left ? "no" : "yes",
				       pssi_errmsg);
		}
		close(snap);
		ASSERT_EQ(fds0, pssi_count_fds());
		if (left) {
			done = true;	/* ran to completion without hitting fault n */
			break;
		}
		injected_survived++;
	}
	PSSI_LOG("capture facets %#llx of %s%s: %u fault sites covered (%lu failed "
		 "cleanly, %lu ENOMEM, %lu survived a fault), %s, %.1f s",
		 (unsigned long long)self->facets, variant->self ? "self" : "a child",
		 variant->by_pidfd ? " by pidfd" : "", done ? n - 1 : n,
		 injected_failed, enomem, injected_survived,
		 done ? "complete" : "INCOMPLETE (budget or PSS_FAILNTH_MAX)",
		 (pssi_now_ns() - t0) / 1e9);
	/* a capture has allocations to fail: at least the snapshot itself */
	EXPECT_LT(0, injected_failed);
	/* every site, or the sweep proved less than it claims */
	EXPECT_TRUE(done) TH_LOG("stopped at fault %u of an unknown number (budget "
				 "PSS_FAILNTH_SECS or PSS_FAILNTH_MAX)", n);
	pssi_snap_free(&ref);
}

/*
 * The tests below run once, against one child target: a fixture of their
 * own, so the variants above do not each report them skipped.
 */
FIXTURE(failnth1) {
	int dev;
	pid_t pid;
	int pidfd;
	double secs;
};

FIXTURE_SETUP(failnth1)
{
	self->dev = -1;
	self->pid = -1;
	self->pidfd = -1;
	if (nth_open() < 0)
		SKIP(return, "no /proc/self/task/TID/fail-nth (CONFIG_FAULT_INJECTION off)");
	usercopy_injection = !access(DBG "fail_usercopy", F_OK);
	self->dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", PSS_DEVICE_PATH, strerror(errno));
	self->secs = pssi_budget("PSS_FAILNTH_SECS", 60, 120);
	self->pid = target_start(&self->pidfd);
	ASSERT_LT(0, self->pid);
	ASSERT_LE(0, self->pidfd);
	knobs_set();
}

FIXTURE_TEARDOWN(failnth1)
{
	teardown_common(self->dev, self->pid, self->pidfd);
}

/* a target whose tables jump by hundreds of entries: the capture retries */
static void *burst_thread(void *arg)
{
	static int fds[300];
	static void *maps[300];
	int i;

	(void)arg;
	for (;;) {
		for (i = 0; i < 300; i++)
			fds[i] = open("/dev/null", O_RDONLY);
		for (i = 0; i < 300; i++)
			maps[i] = mmap(NULL, PSSI_PAGE, i & 1 ? PROT_READ : PROT_NONE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		sched_yield();
		for (i = 0; i < 300; i++) {
			if (fds[i] >= 0)
				close(fds[i]);
			if (maps[i] != MAP_FAILED)
				munmap(maps[i], PSSI_PAGE);
		}
	}
	return NULL;
}

/*
 * Fault n of captures of a target that keeps resizing (so allocation
 * failures land in the grow-and-retry path too). Not deterministic: runs
 * n = 1..150 (several times a stable capture's site count) and allows EAGAIN (the
 * target does keep changing); a failure still needs an injected fault
 * (ENOMEM) or to be EAGAIN, and leaves no fd.
 */
TEST_F_TIMEOUT(failnth1, capture_resizing_target, 600)
{
	uint64_t end = pssi_now_ns() + self->secs * 1e9 / 2, t0 = pssi_now_ns();
	unsigned long failed = 0, survived = 0, clean = 0, eagain = 0, retries = 0;
	unsigned int n, left;
	int fds0, ready[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pthread_t t;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (pthread_create(&t, NULL, burst_thread, NULL))
			_exit(1);
		(void)!write(ready[1], "r", 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);
	fds0 = pssi_count_fds();
	for (n = 1; n <= 150 && pssi_now_ns() < end; n++) {
		struct pssi_opts o = { .pid = pid, .facets = PSS_FACETS_ALL,
				       .tid_mode = PSSI_TID_PROC };
		struct pssi_snap s;
		int snap;

		nth_arm(n);
		snap = pssi_capture(self->dev, pid, -1, PSS_FACETS_ALL);
		left = nth_read_disarm();
		if (snap < 0) {
			if (snap == -EAGAIN) {
				eagain++;
			} else {
				ASSERT_TRUE(acceptable(-snap) && !left)
					TH_LOG("fail-nth %u: %s (injected: %s)", n,
					       strerror(-snap), left ? "no" : "yes");
				failed++;
			}
			ASSERT_EQ(fds0, pssi_count_fds()) TH_LOG("fail-nth %u", n);
			continue;
		}
		ASSERT_EQ(0, pssi_check(snap, &o, &s))
			TH_LOG("fail-nth %u (injected: %s): %s", n, left ? "no" : "yes",
			       pssi_errmsg);
		retries += s.si.retries;
		pssi_snap_free(&s);
		close(snap);
		ASSERT_EQ(fds0, pssi_count_fds());
		if (left)
			clean++;
		else
			survived++;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	PSSI_LOG("resizing target: n = 1..%u: %lu failed cleanly, %lu survived a fault, "
		 "%lu without injection, %lu EAGAIN, %lu internal retries, %.1f s",
		 n - 1, failed, survived, clean, eagain, retries,
		 (pssi_now_ns() - t0) / 1e9);
	EXPECT_LT(0, failed);
}

/* The facet a query class needs (0: always there). */
static uint64_t query_facet(uint32_t cls)
{
	switch (cls) {
	case PSS_QUERY_SNAPSHOT:
	case PSS_QUERY_PROCESS:		return 0;
	case PSS_QUERY_PERFORMANCE:	return PSS_FACET_MEASURE_PERFORMANCE;
	case PSS_QUERY_AUXV:		return PSS_FACET_THREAD_CONTEXT;
	}
	return pssi_facet_of(cls == PSS_QUERY_THREADS ? PSS_WALK_THREADS :
			     cls == PSS_QUERY_HANDLES ? PSS_WALK_HANDLES :
			     cls == PSS_QUERY_VA_SPACE ? PSS_WALK_VA_SPACE :
			     cls == PSS_QUERY_CONTEXTS ? PSS_WALK_CONTEXTS :
			     cls == PSS_QUERY_KSTACKS ? PSS_WALK_KSTACKS : PSS_WALK_MEMORY);
}

/* Every query and walk class of a snapshot of every facet. */
TEST_F_TIMEOUT(failnth1, query_and_walk, 600)
{
	static union {
		struct pss_process_info pi;
		char raw[8192];
	} out;
	static char buf[1 << 16];
	unsigned int n, left, sites = 0, c;
	uint64_t facets = PSS_FACETS_ALL | PSS_FACETS_THREAD_STATE;
	int snap, fds0, r;

	snap = pssi_capture_ts(self->dev, self->pid, -1, facets);
	ASSERT_LE(0, snap);
	fds0 = pssi_count_fds();
	for (c = 0; c < PSS_QUERY_NR_CLASSES; c++) {
		if ((facets & query_facet(c)) != query_facet(c)) {
			EXPECT_EQ(-ENODATA, ioc_query(snap, c, &out, sizeof(out), NULL))
				TH_LOG("query %u of facets %#llx", c, (unsigned long long)facets);
			continue;
		}
		for (n = 1; n < 10000; n++) {
			nth_arm(n);
			r = ioc_query(snap, c, &out, sizeof(out), NULL);
			left = nth_read_disarm();
			if (r) {
				ASSERT_TRUE(!left && acceptable(-r))
					TH_LOG("query %u, fail-nth %u: %s (injected %s)",
					       c, n, strerror(-r), left ? "no" : "yes");
			}
			if (left)
				break;
			sites++;
		}
	}
	for (c = 0; c < PSS_WALK_NR_CLASSES; c++) {
		if (!(facets & pssi_facet_of(c))) {
			struct pss_walk_args w = {
				.size = sizeof(w), .walk_class = c,
				.buf = (uintptr_t)buf, .buf_len = sizeof(buf),
			};

			EXPECT_EQ(-1, ioctl(snap, PSS_IOC_WALK, &w));
			EXPECT_EQ(ENODATA, errno) TH_LOG("walk %u of facets %#llx", c,
							 (unsigned long long)facets);
			continue;
		}
		for (n = 1; n < 10000; n++) {
			struct pss_walk_args w;

			memset(&w, 0, sizeof(w));
			w.size = sizeof(w);
			w.walk_class = c;
			w.buf = (uintptr_t)buf;
			w.buf_len = sizeof(buf);
			nth_arm(n);
			r = ioctl(snap, PSS_IOC_WALK, &w) ? -errno : 0;
			left = nth_read_disarm();
			if (r) {
				ASSERT_TRUE(!left && acceptable(-r))
					TH_LOG("walk %u, fail-nth %u: %s (injected %s)",
					       c, n, strerror(-r), left ? "no" : "yes");
			}
			if (left)
				break;
			sites++;
		}
	}
	/* the snapshot is intact */
	{
		struct pssi_opts o = { .pid = self->pid, .facets = facets,
				       .tid_mode = PSSI_TID_STRICT };

		EXPECT_EQ(0, pssi_check(snap, &o, NULL)) TH_LOG("%s", pssi_errmsg);
	}
	EXPECT_EQ(fds0, pssi_count_fds());
	close(snap);
	PSSI_LOG("query/walk: %u fault sites covered", sites);
	/* with fail_usercopy every copy-out is a site that must fail cleanly */
	if (usercopy_injection) {
		EXPECT_LT(0, sites);
	}
}

TEST_HARNESS_MAIN
