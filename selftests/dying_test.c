// SPDX-License-Identifier: GPL-2.0
/*
 * Dying and changing targets. While captures run in a loop, the target
 * exits (every way: exit_group from any thread, leader exiting first),
 * execs (from the leader or another thread, multi-threaded), becomes a
 * zombie, is SIGKILLed: every capture either succeeds with a snapshot that
 * passes the invariants or fails with ESRCH once the target is reaped -
 * nothing else, except EAGAIN where the header documents it (an exec by a
 * non-leader thread during the capture); once the target is reaped its
 * pidfd is stale and capture says ESRCH. The caller is
 * SIGKILLed in the middle of captures (no hang, no leak: the guest runner
 * checks kmemleak and hung tasks). A multi-threaded process captures itself
 * while it churns. Processes sharing an fd table (CLONE_FILES) or an mm
 * (CLONE_VM) show the same table / layout. A target in another pid
 * namespace shows ids as the caller sees them.
 *
 * Loop length per looping test: env PSS_DYING_SECS (default 4 s, 10 s on
 * the debug kernel), seed PSS_SEED.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "pss_invariants.h"
#include "kselftest_harness.h"

#define EXEC_ENV	"PSS_DYING_EXEC_HOPS"
#define EXEC_FROM_THREAD "PSS_DYING_EXEC_FROM_THREAD"

static double budget(void)
{
	return pssi_budget("PSS_DYING_SECS", 4, 10);
}

/* ------------------------------------------------------------ exec hops */

static void *hop_thread(void *arg)
{
	long mode = (long)arg;
	char *env;

	if (mode == 1) {
		/* exec from a non-leader thread: de_thread() makes it the leader */
		env = getenv(EXEC_ENV);
		if (env && atoi(env) > 0) {
			char n[16];

			snprintf(n, sizeof(n), "%d", atoi(env) - 1);
			setenv(EXEC_ENV, n, 1);
			execl("/proc/self/exe", "pss-exec-hop", (char *)NULL);
		}
		_exit(0);
	}
	for (;;)
		usleep(1000);
	return NULL;
}

/*
 * A re-executed copy of this binary with EXEC_ENV set: start threads, open
 * fds, map memory, then exec again (from the leader or a thread) or exit.
 */
static void __attribute__((constructor)) exec_hop(void)
{
	char *env = getenv(EXEC_ENV), n[16];
	uint64_t rng = pssi_now_ns();
	pthread_t t;
	int i, hops;

	if (!env)
		return;
	hops = atoi(env);
	for (i = 0; i < 3; i++)
		pthread_create(&t, NULL, hop_thread, NULL);
	for (i = 0; i < 8; i++)
		(void)!eventfd(0, 0);
	for (i = 0; i < 8; i++)
		mmap(NULL, PSSI_PAGE * (i + 1), i & 1 ? PROT_READ : PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	usleep(pssi_rand_below(&rng, 3000));
	if (hops <= 0)
		_exit(0);
	if (getenv(EXEC_FROM_THREAD) || pssi_rand_below(&rng, 2)) {
		pthread_create(&t, NULL, hop_thread, (void *)1L);
		for (;;)
			pause();
	}
	snprintf(n, sizeof(n), "%d", hops - 1);
	setenv(EXEC_ENV, n, 1);
	execl("/proc/self/exe", "pss-exec-hop", (char *)NULL);
	_exit(99);
}

/* ------------------------------------------------------------ targets */

struct big {
	int threads, fds, vmas;
	int exit_after_us;	/* < 0: live until killed */
	int how;		/* exit mode, see target_body() */
	int mprotect_churn;	/* a thread hammering the mmap lock */
};

static void *sleepy(void *arg)
{
	long exit_us = (long)arg;

	if (exit_us > 0) {
		usleep(exit_us);
		_exit(3);	/* exit_group from a non-leader thread */
	}
	for (;;)
		pause();
	return NULL;
}

static void *mprotect_churner(void *arg)
{
	char *a = mmap(NULL, 256 * PSSI_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int i = 0;

	(void)arg;
	if (a == MAP_FAILED)
		return NULL;
	for (;; i++) {
		mprotect(a + (i % 128) * 2 * PSSI_PAGE, PSSI_PAGE,
			 i & 1 ? PROT_READ : PROT_READ | PROT_WRITE);
		if (!(i % 64)) {
			munmap(a + 255 * PSSI_PAGE, PSSI_PAGE);
			mmap(a + 255 * PSSI_PAGE, PSSI_PAGE, PROT_READ,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		}
	}
	return NULL;
}

/*
 * how: 0 leader exit_group after exit_after_us; 1 a thread calls exit();
 * 2 the leader pthread_exit()s first, a thread exits the group later.
 */
static int target_body(const struct big *b, int ready_fd)
{
	pthread_attr_t at;
	pthread_t t;
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 * 1024);
	for (i = 0; i < b->threads; i++) {
		long ex = (b->how == 1 || b->how == 2) && i == 0 && b->exit_after_us >= 0 ?
			  b->exit_after_us + 1 : 0;

		if (pthread_create(&t, &at, sleepy, (void *)ex))
			return 10;
	}
	if (b->mprotect_churn && pthread_create(&t, &at, mprotect_churner, NULL))
		return 11;
	for (i = 0; i < b->fds; i++)
		if (eventfd(0, 0) < 0 && open("/dev/null", O_RDONLY) < 0)
			break;
	for (i = 0; i < b->vmas; i++)
		if (mmap(NULL, PSSI_PAGE, i & 1 ? PROT_READ : PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			break;
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "r", 1);
		close(ready_fd);
	}
	if (b->exit_after_us < 0)
		for (;;)
			pause();
	if (b->how == 2)
		pthread_exit(NULL);	/* leader first; threads live on */
	if (b->how == 1)
		for (;;)
			pause();
	usleep(b->exit_after_us);
	_exit(5);
}

static pid_t spawn(const struct big *b, int *pidfd, bool wait_ready)
{
	int p[2] = { -1, -1 };
	pid_t pid;
	char c;

	if (wait_ready && pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(target_body(b, p[1]));
	}
	if (wait_ready) {
		close(p[1]);
		/* a target that died during setup is seen by the capture loop */
		if (pid > 0)
			(void)!read(p[0], &c, 1);
		close(p[0]);
	}
	*pidfd = pid > 0 ? pssi_pidfd_open(pid) : -1;
	return pid;
}

/* "tid:state(comm) ..." of every thread of pid, for failure messages */
static void task_states(pid_t pid, char *out, size_t len)
{
	char path[64];
	struct dirent *de;
	size_t l = 0;
	DIR *d;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d) {
		snprintf(out, len, "(no %s)", path);
		return;
	}
	while ((de = readdir(d)) && l + 48 < len) {
		struct pss_proc_stat_lite { char comm[32]; char state; } st;
		char sp[400], buf[256], *o, *c;
		int fd;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(sp, sizeof(sp), "/proc/%d/task/%.32s/stat", pid, de->d_name);
		fd = open(sp, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		o = strchr(buf, '(');
		c = strrchr(buf, ')');
		if (!o || !c || c < o)
			continue;
		snprintf(st.comm, sizeof(st.comm), "%.*s", (int)(c - o - 1), o + 1);
		st.state = c[2];
		l += snprintf(out + l, len - l, "%s:%c(%s) ", de->d_name, st.state, st.comm);
	}
	closedir(d);
}

struct loop_stats {
	unsigned long ok, esrch, zombies, targets, exec_seen, eagain;
	char msg[1100];
};

/*
 * Capture pid (by pidfd or pid, alternating) in a loop until it has been
 * reaped: success must pass the invariants, the only error is ESRCH - and
 * only once the target is a zombie-reaped or reaped. Reaps the target itself.
 * Returns 0 or -1 with st->msg.
 */
static int capture_until_gone(int dev, pid_t pid, int pidfd, uint64_t *rng,
			      struct loop_stats *st, bool exec_eagain)
{
	bool reaped = false;
	int status, i, eagain_row = 0;

	for (i = 0;; i++) {
		bool by_pidfd = (i & 1) || reaped;
		uint64_t r = pssi_rand_below(rng, 3);
		uint64_t facets = r == 0 ? PSS_FACETS_ALL :
				  r == 1 ? (PSS_FACET_THREADS | PSS_FACET_HANDLES |
					    PSS_FACET_VA_SPACE) :
				  /* thread state: parked threads die too */
				  PSS_FACETS_ALL | PSS_FACETS_THREAD_STATE;
		struct pssi_opts o = {
			.pid = pid, .facets = facets, .tid_mode = PSSI_TID_PROC,
			.rng = rng, .restore_checks = 1,
		};
		struct pssi_snap s;
		int snap;

		if (!reaped && waitpid(pid, &status, WNOHANG) == pid)
			reaped = true;
		snap = pssi_capture_ts(dev, pid, by_pidfd ? pidfd : -1, facets);
		if (snap == -ESRCH) {
			st->esrch++;
			if (!reaped) {
				/* must be on its way out: reaped by nobody else */
				if (waitpid(pid, &status, 0) != pid) {
					snprintf(st->msg, sizeof(st->msg),
						 "ESRCH for a live, unreaped target %d", pid);
					return -1;
				}
				/* ESRCH before the reap is only allowed by pid lookup
				 * racing the exit (pid detached at release) - a zombie
				 * is still capturable, so flag it. */
				snprintf(st->msg, sizeof(st->msg),
					 "ESRCH (%s) for target %d before it was reaped",
					 by_pidfd ? "pidfd" : "pid", pid);
				return -1;
			}
			break;
		}
		if (snap == -EAGAIN && exec_eagain && !reaped) {
			/*
			 * Documented: "a thread other than the leader exec'd
			 * during the capture; try again" - and trying again
			 * must work once the exec is through.
			 */
			st->eagain++;
			if (++eagain_row < 1000)
				continue;
		}
		eagain_row = 0;
		if (snap < 0) {
			char states[512];

			task_states(pid, states, sizeof(states));
			snprintf(st->msg, sizeof(st->msg), "capture #%d of %s target %d (%s, "
				 "facets %#llx): %s; threads now: %s", i,
				 reaped ? "reaped" : "live/dying", pid,
				 by_pidfd ? "pidfd" : "pid", (unsigned long long)facets,
				 strerror(-snap), states);
			return -1;
		}
		if (reaped) {
			close(snap);
			snprintf(st->msg, sizeof(st->msg),
				 "capture of reaped target %d by pidfd succeeded", pid);
			return -1;
		}
		if (pssi_check(snap, &o, &s)) {
			snprintf(st->msg, sizeof(st->msg), "target %d: %s", pid, pssi_errmsg);
			pssi_snap_free(&s);
			close(snap);
			return -1;
		}
		st->ok++;
		if (s.pi.flags & PSS_PROC_ZOMBIE)
			st->zombies++;
		if (strstr(s.pi.comm, "exe") || strstr(s.pi.comm, "pss-exec"))
			st->exec_seen++;
		pssi_snap_free(&s);
		close(snap);
		if (i > 1000000) {
			snprintf(st->msg, sizeof(st->msg), "target %d never went away", pid);
			return -1;
		}
	}
	return 0;
}

FIXTURE(dying) {
	int dev;
	uint64_t rng;
	int fds0;
};

FIXTURE_SETUP(dying)
{
	self->fds0 = pssi_count_fds();
	self->dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", PSS_DEVICE_PATH, strerror(errno));
	self->rng = pssi_seed();
	PSSI_LOG("seed %#llx (PSS_SEED), budget %.1f s (PSS_DYING_SECS)",
		 (unsigned long long)self->rng, budget());
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

FIXTURE_TEARDOWN(dying)
{
	close(self->dev);
	/* no child may be left behind: kill the process group's stragglers */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void close_pidfd(int *pidfd)
{
	if (*pidfd >= 0)
		close(*pidfd);
	*pidfd = -1;
}

TEST_F_TIMEOUT(dying, exits_during_capture, 600)
{
	uint64_t end = pssi_now_ns() + budget() * 1e9, t0 = pssi_now_ns();
	struct loop_stats st;

	memset(&st, 0, sizeof(st));
	while (pssi_loop_on(t0, end, st.targets, 10)) {
		struct big b = {
			.threads = 1 + pssi_rand_below(&self->rng, 6),
			.fds = pssi_rand_below(&self->rng, 32),
			.vmas = pssi_rand_below(&self->rng, 32),
			.exit_after_us = pssi_rand_below(&self->rng, 5000),
			.how = pssi_rand_below(&self->rng, 3),
		};
		int pidfd;
		pid_t pid = spawn(&b, &pidfd, pssi_rand_below(&self->rng, 2));

		ASSERT_LT(0, pid);
		ASSERT_LE(0, pidfd);
		st.targets++;
		ASSERT_EQ(0, capture_until_gone(self->dev, pid, pidfd, &self->rng, &st, false))
			TH_LOG("%s (exit mode %d, %d threads)", st.msg, b.how, b.threads);
		close_pidfd(&pidfd);
	}
	PSSI_LOG("exits: %lu targets, %lu good captures (%lu of zombies), %lu ESRCH, %.1f s",
		 st.targets, st.ok, st.zombies, st.esrch, (pssi_now_ns() - t0) / 1e9);
	EXPECT_LE(10, st.targets);
	EXPECT_LT(0, st.ok);
	EXPECT_EQ(self->fds0 + 1, pssi_count_fds());
}

TEST_F_TIMEOUT(dying, execs_during_capture, 600)
{
	uint64_t end = pssi_now_ns() + budget() * 1e9, t0 = pssi_now_ns();
	struct loop_stats st;

	memset(&st, 0, sizeof(st));
	while (pssi_loop_on(t0, end, st.targets, 3)) {
		int pidfd;
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			setenv(EXEC_ENV, "4", 1);
			execl("/proc/self/exe", "pss-exec-hop", (char *)NULL);
			_exit(98);
		}
		pidfd = pssi_pidfd_open(pid);
		ASSERT_LE(0, pidfd);
		st.targets++;
		ASSERT_EQ(0, capture_until_gone(self->dev, pid, pidfd, &self->rng, &st, true))
			TH_LOG("%s", st.msg);
		close_pidfd(&pidfd);
	}
	PSSI_LOG("execs: %lu targets (5 images each), %lu good captures (%lu of a hop "
		 "image, %lu of zombies), %lu ESRCH, %lu EAGAIN (documented for an exec "
		 "by a non-leader thread), %.1f s", st.targets, st.ok, st.exec_seen,
		 st.zombies, st.esrch, st.eagain, (pssi_now_ns() - t0) / 1e9);
	EXPECT_LE(3, st.targets);
	EXPECT_LT(0, st.ok);
	EXPECT_EQ(self->fds0 + 1, pssi_count_fds());
}

/*
 * Every exec from a non-leader thread (de_thread(): the exec'ing thread
 * takes over the leader's pid, the old leader task is released). The
 * process never stops existing under its pid: a capture succeeds, or
 * fails with EAGAIN (documented for exactly this case: try again - and
 * the retry must get through, no more than 1000 in a row), or ESRCH once
 * the target is reaped. Never ESRCH before.
 */
TEST_F_TIMEOUT(dying, execs_from_thread_during_capture, 600)
{
	uint64_t end = pssi_now_ns() + budget() * 1e9, t0 = pssi_now_ns();
	struct loop_stats st;

	memset(&st, 0, sizeof(st));
	while (pssi_loop_on(t0, end, st.targets, 2)) {
		int pidfd;
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			setenv(EXEC_ENV, "6", 1);
			setenv(EXEC_FROM_THREAD, "1", 1);
			execl("/proc/self/exe", "pss-exec-hop", (char *)NULL);
			_exit(98);
		}
		pidfd = pssi_pidfd_open(pid);
		ASSERT_LE(0, pidfd);
		st.targets++;
		ASSERT_EQ(0, capture_until_gone(self->dev, pid, pidfd, &self->rng, &st, true))
			TH_LOG("%s", st.msg);
		close_pidfd(&pidfd);
	}
	PSSI_LOG("execs from threads: %lu targets (7 images each), %lu good captures, "
		 "%lu ESRCH, %lu EAGAIN (documented), %.1f s", st.targets, st.ok, st.esrch,
		 st.eagain, (pssi_now_ns() - t0) / 1e9);
	EXPECT_LE(2, st.targets);
	EXPECT_LT(0, st.ok);
	EXPECT_EQ(self->fds0 + 1, pssi_count_fds());
}

TEST_F(dying, zombie)
{
	static const struct { int how; int code; int sig; } cases[] = {
		{ 0, 7, 0 }, { 1, 0, SIGKILL }, { 2, 0, SIGTERM },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pssi_opts o = { .facets = PSS_FACETS_ALL, .tid_mode = PSSI_TID_NONE };
		struct pssi_snap s;
		siginfo_t si;
		int pidfd, snap, status;
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			if (cases[i].sig)
				for (;;)
					pause();
			_exit(cases[i].code);
		}
		pidfd = pssi_pidfd_open(pid);
		ASSERT_LE(0, pidfd);
		if (cases[i].sig)
			kill(pid, cases[i].sig);
		memset(&si, 0, sizeof(si));
		ASSERT_EQ(0, waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
		o.pid = pid;
		snap = pssi_capture(self->dev, 0, pidfd, PSS_FACETS_ALL);
		ASSERT_LE(0, snap) TH_LOG("capture of zombie %d: %s", pid, strerror(-snap));
		EXPECT_EQ(0, pssi_check(snap, &o, &s)) TH_LOG("zombie: %s", pssi_errmsg);
		EXPECT_TRUE(s.pi.flags & PSS_PROC_ZOMBIE) TH_LOG("flags %#x", s.pi.flags);
		EXPECT_FALSE(s.pi.mask & PSS_PROC_HAS_MM) TH_LOG("zombie with an mm");
		EXPECT_EQ(0, s.si.nr_vmas);
		EXPECT_EQ(0, s.si.nr_handles);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(s.pi.mask & PSS_PROC_HAS_EXIT) TH_LOG("mask %#llx",
							(unsigned long long)s.pi.mask);
		if (s.pi.mask & PSS_PROC_HAS_EXIT) {
			EXPECT_EQ(status, s.pi.exit_code)
				TH_LOG("case %u: wait status %#x, snapshot exit_code %#x", i,
				       status, s.pi.exit_code);
		}
		pssi_snap_free(&s);
		close(snap);
		/* reaped: the pidfd is stale, the pid is gone */
		EXPECT_EQ(-ESRCH, pssi_capture(self->dev, 0, pidfd, PSS_FACETS_ALL));
		EXPECT_EQ(-ESRCH, pssi_capture(self->dev, pid, -1, 0));
		close(pidfd);
	}
}

struct killer {
	pid_t pid;
	unsigned int delay_us;
};

static void *killer_fn(void *arg)
{
	struct killer *k = arg;

	usleep(k->delay_us);
	kill(k->pid, SIGKILL);
	return NULL;
}

TEST_F_TIMEOUT(dying, sigkilled_during_capture, 600)
{
	uint64_t end = pssi_now_ns() + budget() * 1e9, t0 = pssi_now_ns();
	struct loop_stats st;
	bool dbg = pssi_is_debug_kernel();

	memset(&st, 0, sizeof(st));
	while (pssi_loop_on(t0, end, st.targets, 4)) {
		struct big b = {
			.threads = 4 + pssi_rand_below(&self->rng, dbg ? 12 : 28),
			.fds = 64 + pssi_rand_below(&self->rng, dbg ? 128 : 448),
			.vmas = 64 + pssi_rand_below(&self->rng, dbg ? 256 : 960),
			.exit_after_us = -1,
			.mprotect_churn = pssi_rand_below(&self->rng, 2),
		};
		struct killer k;
		pthread_t th;
		int pidfd;
		pid_t pid = spawn(&b, &pidfd, true);

		ASSERT_LT(0, pid);
		ASSERT_LE(0, pidfd);
		k.pid = pid;
		k.delay_us = pssi_rand_below(&self->rng, dbg ? 60000 : 15000);
		ASSERT_EQ(0, pthread_create(&th, NULL, killer_fn, &k));
		st.targets++;
		EXPECT_EQ(0, capture_until_gone(self->dev, pid, pidfd, &self->rng, &st, false))
			TH_LOG("%s", st.msg);
		pthread_join(th, NULL);
		close_pidfd(&pidfd);
		if (st.msg[0])
			break;
	}
	PSSI_LOG("sigkill: %lu big targets, %lu good captures (%lu of zombies), "
		 "%lu ESRCH, %.1f s", st.targets, st.ok, st.zombies, st.esrch,
		 (pssi_now_ns() - t0) / 1e9);
	EXPECT_LE(4, st.targets);
	EXPECT_LT(0, st.ok);
	EXPECT_EQ(self->fds0 + 1, pssi_count_fds());
}

TEST_F_TIMEOUT(dying, caller_sigkilled_during_capture, 600)
{
	uint64_t end = pssi_now_ns() + budget() * 1e9, t0 = pssi_now_ns();
	bool dbg = pssi_is_debug_kernel();
	struct big b = {
		.threads = dbg ? 16 : 32, .fds = dbg ? 256 : 512, .vmas = dbg ? 512 : 1024,
		.exit_after_us = -1, .mprotect_churn = 1,
	};
	struct pssi_opts o = { .facets = PSS_FACETS_ALL, .tid_mode = PSSI_TID_STRICT };
	unsigned long kills = 0, signaled = 0;
	int pidfd, snap, status;
	pid_t target = spawn(&b, &pidfd, true);

	ASSERT_LT(0, target);
	ASSERT_LE(0, pidfd);
	while (pssi_loop_on(t0, end, kills, 5)) {
		pid_t cap = fork();

		ASSERT_LE(0, cap);
		if (cap == 0) {
			int dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
			uint64_t rng = self->rng ^ getpid();

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;) {
				int sn = pssi_capture(dev, target,
						      pssi_rand_below(&rng, 2) ? pidfd : -1,
						      PSS_FACETS_ALL);
				struct pssi_snap s;

				if (sn < 0)
					_exit(20);
				/* walk it too: killed mid-walk as well */
				pssi_load(sn, &o, &s);
				pssi_snap_free(&s);
				if (pssi_rand_below(&rng, 2))
					close(sn);	/* else leak it to exit */
			}
		}
		usleep(pssi_rand_below(&self->rng, dbg ? 80000 : 20000));
		ASSERT_EQ(0, kill(cap, SIGKILL));
		ASSERT_EQ(cap, waitpid(cap, &status, 0));
		kills++;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			signaled++;
		else
			ASSERT_TRUE(0) TH_LOG("capturer ended on its own: status %#x", status);
	}
	/* the target is unharmed and still captures consistently */
	o.pid = target;
	snap = pssi_capture(self->dev, 0, pidfd, PSS_FACETS_ALL);
	ASSERT_LE(0, snap) TH_LOG("capture after the kills: %s", strerror(-snap));
	EXPECT_EQ(0, pssi_check(snap, &o, NULL)) TH_LOG("%s", pssi_errmsg);
	close(snap);
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	close(pidfd);
	PSSI_LOG("caller killed: %lu capturers SIGKILLed mid-loop, %.1f s", kills,
		 (pssi_now_ns() - t0) / 1e9);
	EXPECT_LE(5, kills);
	EXPECT_EQ(kills, signaled);
	EXPECT_EQ(self->fds0 + 1, pssi_count_fds());
}

/* ------------------------------------------------------------ self */

struct selfmt {
	volatile int stop;
	uint64_t seed;
	int dev;
	unsigned long captures;
	int failed;
	char msg[1100];
};

static void *nop_thread(void *arg)
{
	return arg;
}

static void *self_churn(void *arg)
{
	struct selfmt *m = arg;
	uint64_t rng = m->seed ^ pssi_gettid();

	while (!m->stop) {
		switch (pssi_rand_below(&rng, 3)) {
		case 0: {
			int fd = eventfd(0, EFD_CLOEXEC);

			if (fd >= 0)
				close(fd);
			break;
		}
		case 1: {
			void *a = mmap(NULL, PSSI_PAGE * 4, PROT_READ,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (a != MAP_FAILED)
				munmap(a, PSSI_PAGE * 4);
			break;
		}
		default: {
			pthread_t t;

			if (!pthread_create(&t, NULL, nop_thread, NULL))
				pthread_join(t, NULL);
		}
		}
	}
	return NULL;
}

static void *self_capturer(void *arg)
{
	struct selfmt *m = arg;
	uint64_t rng = m->seed ^ (pssi_gettid() * 7919ULL);

	while (!m->stop && !m->failed) {
		struct pssi_opts o = {
			.pid = getpid(), .facets = PSS_FACETS_ALL, .tid_mode = PSSI_TID_PROC,
			.self = true, .caller_tid = pssi_gettid(), .rng = &rng,
			.restore_checks = 1,
		};
		int snap = pssi_capture(m->dev, pssi_rand_below(&rng, 2) ? 0 : getpid(), -1,
					PSS_FACETS_ALL);

		if (snap == -EAGAIN)
			continue;
		if (snap < 0) {
			snprintf(m->msg, sizeof(m->msg), "self-capture: %s", strerror(-snap));
			m->failed = 1;
			break;
		}
		if (pssi_check(snap, &o, NULL)) {
			snprintf(m->msg, sizeof(m->msg), "self-capture: %s", pssi_errmsg);
			m->failed = 1;
		}
		__atomic_add_fetch(&m->captures, 1, __ATOMIC_RELAXED);
		close(snap);
	}
	return NULL;
}

TEST_F_TIMEOUT(dying, self_capture_multithreaded, 600)
{
	struct selfmt m = { .seed = self->rng, .dev = self->dev };
	pthread_t ch[4], cap[2];
	double secs = budget();
	int i;

	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_create(&ch[i], NULL, self_churn, &m));
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_create(&cap[i], NULL, self_capturer, &m));
	}
	usleep(secs * 1e6);
	for (i = 0; i < 300 && __atomic_load_n(&m.captures, __ATOMIC_RELAXED) < 20 &&
		    !m.failed; i++)
		usleep(secs * 1e4);
	m.stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(cap[i], NULL);
	for (i = 0; i < 4; i++)
		pthread_join(ch[i], NULL);
	PSSI_LOG("self: %lu self-captures by 2 threads while 4 threads churn",
		 m.captures);
	EXPECT_EQ(0, m.failed) TH_LOG("%s", m.msg);
	EXPECT_LE(20, m.captures);
	EXPECT_EQ(self->fds0 + 1, pssi_count_fds());
}

/* ------------------------------------------------------------ sharing */

struct cf_child {
	int cmd, reply;		/* pipe fds (shared table) */
};

static int clone_files_child(void *arg)
{
	struct cf_child *c = arg;
	char cmd;
	int fd;

	while (read(c->cmd, &cmd, 1) == 1) {
		if (cmd == 'q')
			break;
		if (cmd == 'o') {
			fd = open("/dev/null", O_RDONLY);
			if (write(c->reply, &fd, sizeof(fd)) != sizeof(fd))
				break;
		}
	}
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int fd_set_of(const struct pssi_snap *s, int *out, int max)
{
	const struct pssi_recs *r = &s->r[PSS_WALK_HANDLES];
	int n = 0;
	size_t i;

	for (i = 0; i < r->n && n < max; i++)
		out[n++] = ((const struct pss_handle_entry *)pssi_rec(r, i))->fd;
	qsort(out, n, sizeof(int), cmp_int);
	return n;
}

TEST_F(dying, clone_files_shared_table)
{
	const uint64_t F = PSS_FACET_HANDLES | PSS_FACET_HANDLE_BASIC;
	struct pssi_opts o = { .facets = F };
	int cmdp[2], repp[2], sc, sp, fd, i, nc, np, *cs, *ps, extra = -1, nextra = 0;
	struct pssi_snap c, p;
	struct cf_child arg;
	char *stack;
	pid_t pid;

	ASSERT_EQ(0, pipe2(cmdp, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(repp, O_CLOEXEC));
	arg.cmd = cmdp[0];
	arg.reply = repp[1];
	stack = mmap(NULL, 256 * 1024, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	ASSERT_NE(MAP_FAILED, stack);
	pid = clone(clone_files_child, stack + 256 * 1024, CLONE_FILES | SIGCHLD, &arg);
	ASSERT_LT(0, pid) TH_LOG("clone: %s", strerror(errno));

	/* child first, then us: same table plus the child's snapshot fd */
	sc = pssi_capture(self->dev, pid, -1, F);
	ASSERT_LE(0, sc) TH_LOG("capture child: %s", strerror(-sc));
	sp = pssi_capture(self->dev, 0, -1, F);
	ASSERT_LE(0, sp) TH_LOG("capture self: %s", strerror(-sp));
	o.pid = pid;
	ASSERT_EQ(0, pssi_check(sc, &o, &c)) TH_LOG("child: %s", pssi_errmsg);
	o.pid = getpid();
	o.self = true;
	ASSERT_EQ(0, pssi_check(sp, &o, &p)) TH_LOG("self: %s", pssi_errmsg);
	cs = calloc(4096, sizeof(int));
	ps = calloc(4096, sizeof(int));
	ASSERT_TRUE(cs && ps);
	nc = fd_set_of(&c, cs, 4096);
	np = fd_set_of(&p, ps, 4096);
	for (i = 0; i < np; i++)
		if (!bsearch(&ps[i], cs, nc, sizeof(int), cmp_int)) {
			extra = ps[i];
			nextra++;
		}
	EXPECT_EQ(nc + 1, np) TH_LOG("child table %d fds, ours %d", nc, np);
	EXPECT_EQ(1, nextra);
	EXPECT_EQ(sc, extra) TH_LOG("the only fd we have that the child's snapshot "
				    "lacks should be that snapshot (%d), got %d", sc, extra);
	EXPECT_EQ(NULL, pssi_find_fd(&c, sc));
	pssi_snap_free(&c);
	pssi_snap_free(&p);
	close(sp);

	/* the child opens an fd: it is in our table and our next snapshot */
	ASSERT_EQ(1, write(cmdp[1], "o", 1));
	ASSERT_EQ(sizeof(fd), read(repp[0], &fd, sizeof(fd)));
	ASSERT_LE(0, fd);
	sp = pssi_capture(self->dev, 0, -1, F);
	ASSERT_LE(0, sp);
	ASSERT_EQ(0, pssi_check(sp, &o, &p)) TH_LOG("self: %s", pssi_errmsg);
	EXPECT_NE(NULL, pssi_find_fd(&p, fd)) TH_LOG("fd %d opened by the child", fd);
	if (pssi_find_fd(&p, fd)) {
		EXPECT_EQ(PSS_HT_CHR, pssi_find_fd(&p, fd)->type);
	}
	pssi_snap_free(&p);
	close(sp);
	close(sc);
	close(fd);

	/* churn the shared table from the child while capturing both */
	{
		uint64_t t0 = pssi_now_ns(), end = t0 + budget() * 1e9 / 2;
		unsigned long n = 0;

		while (pssi_loop_on(t0, end, n, 10)) {
			int s1;

			ASSERT_EQ(1, write(cmdp[1], "o", 1));
			o.pid = n & 1 ? getpid() : pid;
			o.self = n & 1;
			s1 = pssi_capture(self->dev, o.pid, -1, F);
			ASSERT_LE(0, s1) TH_LOG("capture: %s", strerror(-s1));
			ASSERT_EQ(sizeof(fd), read(repp[0], &fd, sizeof(fd)));
			EXPECT_EQ(0, pssi_check(s1, &o, NULL)) TH_LOG("%s", pssi_errmsg);
			close(fd);
			close(s1);
			n++;
		}
		PSSI_LOG("clone_files: %lu captures of a shared table under change", n);
		EXPECT_LE(10, n);
	}
	ASSERT_EQ(1, write(cmdp[1], "q", 1));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	free(cs);
	free(ps);
	close(cmdp[0]);
	close(cmdp[1]);
	close(repp[0]);
	close(repp[1]);
	munmap(stack, 256 * 1024);
	EXPECT_EQ(self->fds0 + 1, pssi_count_fds());
}

struct cv_child {
	volatile int stop;
	volatile int churn;
	volatile unsigned long ops;
	char *area;		/* 64 pages reserved for the child's churn */
};

static int clone_vm_child(void *arg)
{
	struct cv_child *c = arg;
	unsigned long i = 0;

	while (!c->stop) {
		if (!c->churn) {
			usleep(1000);
			continue;
		}
		/* only MAP_FIXED inside our own reserved area */
		mprotect(c->area + (i % 32) * 2 * PSSI_PAGE, PSSI_PAGE,
			 i & 1 ? PROT_READ : PROT_NONE);
		if (!(i % 16)) {
			munmap(c->area + 63 * PSSI_PAGE, PSSI_PAGE);
			mmap(c->area + 63 * PSSI_PAGE, PSSI_PAGE, PROT_READ,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		}
		c->ops++;
		i++;
	}
	return 0;
}

static bool same_vma(const struct pss_vma_entry *a, const struct pss_vma_entry *b)
{
	const char *na = pssi_rec_name(a), *nb = pssi_rec_name(b);

	return a->start == b->start && a->end == b->end && a->prot == b->prot &&
	       a->flags == b->flags && a->name_kind == b->name_kind &&
	       a->ino == b->ino && !!na == !!nb && (!na || !strcmp(na, nb));
}

TEST_F(dying, clone_vm_shared_mm)
{
	const uint64_t F = PSS_FACET_VA_SPACE | PSS_FACET_VA_SPACE_SECTION |
			   PSS_FACET_THREADS;
	struct pssi_opts o = { .facets = F, .tid_mode = PSSI_TID_STRICT };
	struct cv_child *arg;
	struct pssi_snap c, p;
	int sc, sp, status;
	size_t i;
	char *stack;
	pid_t pid;

	arg = mmap(NULL, PSSI_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	ASSERT_NE(MAP_FAILED, arg);
	arg->area = mmap(NULL, 64 * PSSI_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	ASSERT_NE(MAP_FAILED, arg->area);
	stack = mmap(NULL, 256 * 1024, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	ASSERT_NE(MAP_FAILED, stack);
	pid = clone(clone_vm_child, stack + 256 * 1024, CLONE_VM | SIGCHLD, arg);
	ASSERT_LT(0, pid) TH_LOG("clone: %s", strerror(errno));

	/* both captures before any allocation: the layouts must be identical */
	sc = pssi_capture(self->dev, pid, -1, F);
	sp = pssi_capture(self->dev, 0, -1, F);
	ASSERT_LE(0, sc) TH_LOG("capture child: %s", strerror(-sc));
	ASSERT_LE(0, sp) TH_LOG("capture self: %s", strerror(-sp));
	o.pid = pid;
	ASSERT_EQ(0, pssi_check(sc, &o, &c)) TH_LOG("child: %s", pssi_errmsg);
	o.pid = getpid();
	o.self = true;
	ASSERT_EQ(0, pssi_check(sp, &o, &p)) TH_LOG("self: %s", pssi_errmsg);
	ASSERT_EQ(c.r[PSS_WALK_VA_SPACE].n, p.r[PSS_WALK_VA_SPACE].n);
	for (i = 0; i < c.r[PSS_WALK_VA_SPACE].n; i++) {
		const struct pss_vma_entry *a = pssi_rec(&c.r[PSS_WALK_VA_SPACE], i);
		const struct pss_vma_entry *b = pssi_rec(&p.r[PSS_WALK_VA_SPACE], i);

		EXPECT_TRUE(same_vma(a, b)) TH_LOG("vma %zu: %#llx-%#llx vs %#llx-%#llx", i,
						   (unsigned long long)a->start,
						   (unsigned long long)a->end,
						   (unsigned long long)b->start,
						   (unsigned long long)b->end);
	}
	if ((c.pi.mask & PSS_PROC_HAS_MM) && (p.pi.mask & PSS_PROC_HAS_MM)) {
		EXPECT_EQ(c.pi.vsize_bytes, p.pi.vsize_bytes);
	}
	/* separate processes: one thread each, different pids */
	EXPECT_EQ(1, c.r[PSS_WALK_THREADS].n);
	EXPECT_EQ(pid, c.pi.pid);
	pssi_snap_free(&c);
	pssi_snap_free(&p);
	close(sc);
	close(sp);

	/* the child churns the shared mm; capture both */
	arg->churn = 1;
	{
		uint64_t t0 = pssi_now_ns(), end = t0 + budget() * 1e9 / 2;
		unsigned long n = 0;

		while (pssi_loop_on(t0, end, n, 20)) {
			int s1;

			o.pid = n & 1 ? getpid() : pid;
			o.self = n & 1;
			s1 = pssi_capture(self->dev, o.pid, -1, F);
			if (s1 == -EAGAIN)
				continue;
			ASSERT_LE(0, s1) TH_LOG("capture: %s", strerror(-s1));
			EXPECT_EQ(0, pssi_check(s1, &o, NULL)) TH_LOG("%s", pssi_errmsg);
			close(s1);
			n++;
		}
		PSSI_LOG("clone_vm: %lu captures of a shared mm under change (%lu child ops)",
			 n, arg->ops);
		EXPECT_LE(20, n);
	}
	arg->stop = 1;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	munmap(stack, 256 * 1024);
	munmap(arg->area, 64 * PSSI_PAGE);
	munmap(arg, PSSI_PAGE);
	EXPECT_EQ(self->fds0 + 1, pssi_count_fds());
}

/* ------------------------------------------------------------ pid ns */

static void *ns_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/*
 * Runs as pid 1 of a new pid namespace. Reports problems as text on out_fd
 * (nothing written: all good).
 */
static int ns_init(int out_fd, int outer_pidfd, int go_fd)
{
	char msg[1100] = "";
	struct pssi_opts o = { .facets = PSS_FACETS_ALL };
	struct pssi_snap s;
	pthread_t t;
	int dev, snap;
	pid_t child;
	char c;

	dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	if (dev < 0)
		return 10;
	child = fork();
	if (child == 0) {
		close(out_fd);
		close(go_fd);
		for (;;)
			pause();
	}
	if (pthread_create(&t, NULL, ns_thread, NULL))
		return 11;
	if (getpid() != 1 || child != 2) {
		snprintf(msg, sizeof(msg), "ns pids: init %d child %d", getpid(), child);
		goto out;
	}
	/* self, as seen inside: pid 1, two threads, leader tid 1 */
	snap = pssi_capture(dev, 0, -1, PSS_FACETS_ALL);
	o.pid = 1;
	o.self = true;
	o.caller_tid = 1;
	if (snap < 0 || pssi_check(snap, &o, &s)) {
		snprintf(msg, sizeof(msg), "ns self-capture: %s",
			 snap < 0 ? strerror(-snap) : pssi_errmsg);
		goto out;
	}
	if (s.pi.pid != 1 || s.pi.ppid != 0 || s.r[PSS_WALK_THREADS].n != 2) {
		snprintf(msg, sizeof(msg), "ns self: pid %d ppid %d threads %zu "
			 "(want 1, 0, 2)", s.pi.pid, s.pi.ppid, s.r[PSS_WALK_THREADS].n);
		goto out;
	}
	pssi_snap_free(&s);
	close(snap);
	/* our child by its ns pid */
	snap = pssi_capture(dev, 2, -1, PSS_FACETS_ALL);
	o.pid = 2;
	o.self = false;
	o.caller_tid = 0;
	if (snap < 0 || pssi_check(snap, &o, &s)) {
		snprintf(msg, sizeof(msg), "ns child capture: %s",
			 snap < 0 ? strerror(-snap) : pssi_errmsg);
		goto out;
	}
	if (s.pi.pid != 2 || s.pi.ppid != 1) {
		snprintf(msg, sizeof(msg), "ns child: pid %d ppid %d (want 2, 1)",
			 s.pi.pid, s.pi.ppid);
		goto out;
	}
	pssi_snap_free(&s);
	close(snap);
	/* the outer test process by pidfd: it has no id here, every id reads 0 */
	snap = pssi_capture(dev, 0, outer_pidfd, PSS_FACET_THREADS);
	o.facets = PSS_FACET_THREADS;
	o.pid = 0;
	o.zero_ids = true;
	if (snap < 0 || pssi_check(snap, &o, &s)) {
		snprintf(msg, sizeof(msg), "capture of the outer process by pidfd: %s",
			 snap < 0 ? strerror(-snap) : pssi_errmsg);
		goto out;
	}
	if (s.pi.pid || s.pi.ppid || s.pi.pgid || s.pi.sid) {
		snprintf(msg, sizeof(msg), "outer process: pid %d ppid %d pgid %d sid %d "
			 "(want all 0)", s.pi.pid, s.pi.ppid, s.pi.pgid, s.pi.sid);
		goto out;
	}
	pssi_snap_free(&s);
	close(snap);
	/* an outer pid number means nothing here (or someone else) */
out:
	if (msg[0])
		(void)!write(out_fd, msg, strlen(msg));
	close(out_fd);
	/* wait for the outside to finish looking at us */
	(void)!read(go_fd, &c, 1);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return 0;
}

TEST_F(dying, other_pid_namespace)
{
	int res[2], go[2], info[2], outer, snap, status;
	struct pssi_opts o = { .facets = PSS_FACETS_ALL, .tid_mode = PSSI_TID_STRICT };
	struct pssi_snap s;
	char msg[1200];
	pid_t mid, init_pid = 0, inner_child;
	ssize_t n;

	outer = pssi_pidfd_open(getpid());
	ASSERT_LE(0, outer);
	ASSERT_EQ(0, pipe2(res, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(info, O_CLOEXEC));
	mid = fork();
	ASSERT_LE(0, mid);
	if (mid == 0) {
		pid_t p;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWPID))
			_exit(4);
		p = fork();
		if (p == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(res[0]);
			close(go[1]);
			close(info[0]);
			close(info[1]);
			_exit(ns_init(res[1], outer, go[0]));
		}
		close(res[0]);
		close(res[1]);
		close(go[0]);
		close(go[1]);
		(void)!write(info[1], &p, sizeof(p));
		waitpid(p, &status, 0);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 50);
	}
	close(res[1]);
	close(go[0]);
	close(info[1]);
	if (read(info[0], &init_pid, sizeof(init_pid)) != sizeof(init_pid)) {
		waitpid(mid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 4)
			SKIP(return, "unshare(CLONE_NEWPID) not possible");
		ASSERT_TRUE(0) TH_LOG("middle process failed: status %#x", status);
	}
	n = read(res[0], msg, sizeof(msg) - 1);	/* EOF when the init is done */
	ASSERT_LE(0, n);
	msg[n < 0 ? 0 : n] = '\0';
	EXPECT_EQ(0, n) TH_LOG("inside the namespace: %s", msg);

	/* from out here: the init has its global pid and ppid, tids are global */
	snap = pssi_capture(self->dev, init_pid, -1, PSS_FACETS_ALL);
	ASSERT_LE(0, snap) TH_LOG("capture ns init %d: %s", init_pid, strerror(-snap));
	o.pid = init_pid;
	EXPECT_EQ(0, pssi_check(snap, &o, &s)) TH_LOG("%s", pssi_errmsg);
	EXPECT_EQ(init_pid, s.pi.pid);
	EXPECT_EQ(mid, s.pi.ppid);
	EXPECT_EQ(2, s.r[PSS_WALK_THREADS].n);
	pssi_snap_free(&s);
	close(snap);
	/* its child (pid 2 inside) by its global pid: ppid is the init's global pid */
	inner_child = 0;
	{
		char path[64], *buf;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", init_pid, init_pid);
		f = fopen(path, "re");
		if (f) {
			buf = calloc(1, 256);
			if (buf && fgets(buf, 256, f))
				inner_child = atoi(buf);
			free(buf);
			fclose(f);
		}
	}
	if (inner_child > 0) {
		snap = pssi_capture(self->dev, inner_child, -1, PSS_FACET_THREADS);
		ASSERT_LE(0, snap);
		o.pid = inner_child;
		o.facets = PSS_FACET_THREADS;
		EXPECT_EQ(0, pssi_check(snap, &o, &s)) TH_LOG("%s", pssi_errmsg);
		EXPECT_EQ(init_pid, s.pi.ppid);
		EXPECT_EQ(inner_child, s.pi.pid);
		pssi_snap_free(&s);
		close(snap);
	} else {
		PSSI_LOG("no /proc/PID/task/TID/children: inner child not checked");
	}
	close(go[1]);
	ASSERT_EQ(mid, waitpid(mid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("ns init exit status %#x", status);
	close(res[0]);
	close(info[0]);
	close(outer);
	EXPECT_EQ(self->fds0 + 1, pssi_count_fds());
}

TEST_HARNESS_MAIN
