// SPDX-License-Identifier: GPL-2.0
/*
 * The atomic cut: threads, fd table and VMAs of a snapshot are one instant.
 *
 * The target climbs and descends a ladder of levels, one facet at a time, in
 * a fixed causal order: level i is built by making page i of a reserved
 * region readable (M_i), then dup2()ing an fd to BASE_FD + i (F_i), then
 * creating a thread born with the comm "pss-at-i" (T_i); it is torn down in
 * reverse (T_i exits and is joined, F_i is closed, M_i is made PROT_NONE).
 * Every state the target passes through therefore has, with m, f and t the
 * levels each facet shows (each a prefix 0..n-1 of its slots),
 *
 *	m >= f >= t >= m - 1
 *
 * A capture that reads the facets one after another, dropping each lock
 * before taking the next, can see m from before and f, t from after a
 * burst of steps: m < f, or m > t + 1. Every snapshot is checked.
 *
 * To make such a gap observable, not merely possible, the target's
 * stepping thread runs SCHED_FIFO on the capturer's CPU and sleeps a random
 * while between bursts of four steps (a burst always holds a VMA step
 * followed by an fd or thread step). With full kernel preemption (set for
 * the test through /sys/kernel/debug/sched/preempt where the kernel has
 * PREEMPT_DYNAMIC) it preempts the capture wherever the capture is
 * preemptible: a burst that starts during the capture's mmap hold blocks on
 * its VMA step until the capture has released the mmap lock, and then runs
 * to its end before the capture goes on. A capture that still holds the mmap
 * lock while it reads the fd table and threads sees the burst not at all; one
 * that released it first sees half of it. A second pass runs the target on
 * another CPU at full speed (real concurrency, no preemption needed).
 */
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "pss_invariants.h"
#include "kselftest_harness.h"

#define NLEVELS		8
#define BASE_FD		600
#define FACETS		(PSS_FACET_THREADS | PSS_FACET_HANDLES | PSS_FACET_VA_SPACE)

struct at_shared {
	volatile int stop;
	volatile int ready;
	volatile int err;		/* errno of a failed step (target side) */
	uint64_t ladder;		/* address of the NLEVELS-page region */
	volatile unsigned long steps;
	volatile unsigned long bursts;
};

static struct at_shared *sh;
static int null_fd;
static volatile int stop_word[NLEVELS];
static pthread_t level_thread[NLEVELS];

static long futex(volatile int *uaddr, int op, int val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static void *level_fn(void *arg)
{
	volatile int *w = arg;

	while (!*w)
		futex(w, FUTEX_WAIT_PRIVATE, 0);
	return NULL;
}

/* One step of the ladder; the level and direction live in the target. */
static int step(int *level, int *stage, bool *up)
{
	char *page = (char *)(uintptr_t)sh->ladder;
	char comm[16];
	int i, ret = 0;

	if (*up) {
		i = *level;
		switch (*stage) {
		case 0:
			ret = mprotect(page + i * PSSI_PAGE, PSSI_PAGE, PROT_READ);
			break;
		case 1:
			ret = dup2(null_fd, BASE_FD + i) == BASE_FD + i ? 0 : -1;
			break;
		case 2:
			stop_word[i] = 0;
			snprintf(comm, sizeof(comm), "pss-at-%d", i);
			prctl(PR_SET_NAME, comm);
			errno = pthread_create(&level_thread[i], NULL, level_fn,
					       (void *)&stop_word[i]);
			ret = errno ? -1 : 0;
			prctl(PR_SET_NAME, "pss-at-x");
			break;
		}
		if (++*stage == 3) {
			*stage = 0;
			if (++*level == NLEVELS)
				*up = false;
		}
	} else {
		i = *level - 1;
		switch (*stage) {
		case 0:
			stop_word[i] = 1;
			futex(&stop_word[i], FUTEX_WAKE_PRIVATE, 1);
			errno = pthread_join(level_thread[i], NULL);
			ret = errno ? -1 : 0;
			break;
		case 1:
			ret = close(BASE_FD + i);
			break;
		case 2:
			ret = mprotect(page + i * PSSI_PAGE, PSSI_PAGE, PROT_NONE);
			break;
		}
		if (++*stage == 3) {
			*stage = 0;
			if (--*level == 0)
				*up = true;
		}
	}
	if (ret)
		return -errno;
	sh->steps++;
	return 0;
}

/* The target: filler VMAs to lengthen the capture's mmap hold, then climb. */
static int target_main(int cpu, bool rt, unsigned int fillers, unsigned int max_sleep_us,
		       uint64_t seed)
{
	struct sched_param sp = { .sched_priority = 1 };
	int level = 0, stage = 0, ret;
	bool up = true;
	cpu_set_t set;
	unsigned int i;
	char *ladder, *fill;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "pss-at-x");
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return 10;
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0)
		return 9;
	ladder = mmap(NULL, NLEVELS * PSSI_PAGE, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ladder == MAP_FAILED)
		return 11;
	sh->ladder = (uintptr_t)ladder;
	fill = mmap(NULL, 2 * fillers * PSSI_PAGE, PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fill == MAP_FAILED)
		return 12;
	for (i = 0; i < fillers; i++)
		if (mprotect(fill + 2 * i * PSSI_PAGE, PSSI_PAGE, PROT_NONE))
			return 13;
	/* Threads inherit the policy: every T_i is SCHED_FIFO too. */
	if (rt && sched_setscheduler(0, SCHED_FIFO, &sp))
		return 14;
	sh->ready = 1;
	while (!sh->stop) {
		for (i = 0; i < 4; i++) {
			ret = step(&level, &stage, &up);
			if (ret) {
				sh->err = -ret;
				return 15;
			}
		}
		sh->bursts++;
		if (max_sleep_us)
			usleep(pssi_rand_below(&seed, max_sleep_us));
	}
	/* Leave with every level thread joined: exit_group would do, but be tidy. */
	while (level || stage)
		if (step(&level, &stage, &up))
			return 16;
	return 0;
}

/* The levels one facet shows: n slots present, and they must be 0..n-1. */
struct seen {
	int n;
	unsigned int mask;
};

static int seen_add(struct seen *s, int i)
{
	if (i < 0 || i >= NLEVELS || (s->mask & (1u << i)))
		return -1;
	s->mask |= 1u << i;
	s->n++;
	return 0;
}

static bool seen_prefix(const struct seen *s)
{
	return s->mask == (1u << s->n) - 1;
}

/* Check one snapshot against the ladder; 0, or -1 with a message. */
static int check_cut(int snap, pid_t pid, int *mp, int *fp, int *tp)
{
	struct pssi_opts o = { .pid = pid, .facets = FACETS };
	struct seen m = { 0 }, f = { 0 }, t = { 0 };
	struct pssi_snap s;
	size_t i;
	int ret = -1;

	if (pssi_check(snap, &o, &s))
		goto out;
	for (i = 0; i < NLEVELS; i++) {
		const struct pss_vma_entry *v = pssi_find_vma(&s, sh->ladder + i * PSSI_PAGE);

		if (!v) {
			pssi_fail("ladder page %zu in no VMA", i);
			goto out;
		}
		if (v->prot & PSS_PROT_READ)
			seen_add(&m, i);
	}
	for (i = 0; i < s.r[PSS_WALK_HANDLES].n; i++) {
		const struct pss_handle_entry *h = pssi_rec(&s.r[PSS_WALK_HANDLES], i);

		if (h->fd >= BASE_FD && h->fd < BASE_FD + NLEVELS &&
		    seen_add(&f, h->fd - BASE_FD)) {
			pssi_fail("fd %d twice", h->fd);
			goto out;
		}
	}
	for (i = 0; i < s.r[PSS_WALK_THREADS].n; i++) {
		const struct pss_thread_entry *th = pssi_rec(&s.r[PSS_WALK_THREADS], i);
		int lvl;

		/*
		 * A thread past exit_signals() has left its level; the leader
		 * wears a level's comm while it creates that level's thread.
		 */
		if ((th->flags & PSS_THREAD_EXITING) || th->tid == pid)
			continue;
		if (sscanf(th->comm, "pss-at-%d", &lvl) != 1)
			continue;
		if (seen_add(&t, lvl)) {
			pssi_fail("two live threads of level %d", lvl);
			goto out;
		}
	}
	*mp = m.n;
	*fp = f.n;
	*tp = t.n;
	if (!seen_prefix(&m) || !seen_prefix(&f) || !seen_prefix(&t)) {
		pssi_fail("levels not a prefix: vmas %#x fds %#x threads %#x",
			  m.mask, f.mask, t.mask);
		goto out;
	}
	if (!(m.n >= f.n && f.n >= t.n && t.n >= m.n - 1)) {
		pssi_fail("no real state: vmas at level %d, fds %d, threads %d "
			  "(every state has vmas >= fds >= threads >= vmas - 1)",
			  m.n, f.n, t.n);
		goto out;
	}
	ret = 0;
out:
	pssi_snap_free(&s);
	return ret;
}

FIXTURE(atomic) {
	pid_t pid;
	char old_preempt[32];
	cpu_set_t old_affinity;
};

FIXTURE_SETUP(atomic)
{
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));
	self->pid = -1;
	self->old_preempt[0] = '\0';
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(self->old_affinity),
				       &self->old_affinity));
}

FIXTURE_TEARDOWN(atomic)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	if (self->old_preempt[0]) {
		char ignored[32];

		pssi_set_preempt(self->old_preempt, ignored, sizeof(ignored));
	}
	sched_setaffinity(0, sizeof(self->old_affinity), &self->old_affinity);
	munmap(sh, sizeof(*sh));
}

FIXTURE_VARIANT(atomic) {
	bool same_cpu;		/* target SCHED_FIFO on our CPU, bursts and sleeps */
};

FIXTURE_VARIANT_ADD(atomic, preempting) {
	.same_cpu = true,
};

FIXTURE_VARIANT_ADD(atomic, concurrent) {
	.same_cpu = false,
};

TEST_F_TIMEOUT(atomic, one_instant, 900)
{
	bool dbg = pssi_is_debug_kernel();
	unsigned int captures = dbg ? 300 : 1000, fillers = dbg ? 300 : 1500;
	unsigned int n, straddled = 0, eagain = 0;
	unsigned long steps0;
	uint64_t seed = pssi_seed();
	cpu_set_t set;
	int dev, status, ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (!variant->same_cpu && ncpu < 2)
		SKIP(return, "one CPU: no second CPU for a concurrent target");
	dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, dev);
	if (variant->same_cpu) {
		if (pssi_set_preempt("full", self->old_preempt, sizeof(self->old_preempt)))
			PSSI_LOG("preemption: full (was %s)", self->old_preempt);
		else
			PSSI_LOG("no %s: the kernel's own preemption model", PSSI_PREEMPT_CTL);
	}
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));

	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (self->pid == 0)
		_exit(target_main(variant->same_cpu ? 0 : 1, variant->same_cpu, fillers,
				  variant->same_cpu ? 2000 : 0, seed));
	while (!sh->ready) {
		ASSERT_EQ(0, waitpid(self->pid, &status, WNOHANG))
			TH_LOG("target died during setup: status %#x", status);
		usleep(1000);
	}
	steps0 = sh->steps;
	for (n = 0; n < captures; n++) {
		int snap = pssi_capture(dev, self->pid, -1, FACETS), m, f, t;

		if (snap == -EAGAIN) {
			eagain++;
			ASSERT_GT(1000, eagain) TH_LOG("EAGAIN %u times", eagain);
			n--;
			continue;
		}
		ASSERT_LE(0, snap) TH_LOG("capture %u: %s", n, strerror(-snap));
		ASSERT_EQ(0, check_cut(snap, self->pid, &m, &f, &t))
			TH_LOG("capture %u of %u (target at step %lu): %s", n, captures,
			       sh->steps, pssi_errmsg);
		if (m != t)
			straddled++;
		close(snap);
	}
	sh->stop = 1;
	ASSERT_EQ(self->pid, waitpid(self->pid, &status, 0));
	self->pid = -1;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("target exit status %#x, step errno %d", status, sh->err);
	PSSI_LOG("%u captures, %u mid-level (m != t), %u EAGAIN; target %lu steps "
		 "in %lu bursts meanwhile", captures, straddled, eagain,
		 sh->steps - steps0, sh->bursts);
	/*
	 * The target must really have moved while we captured, through many
	 * levels: otherwise every snapshot passes trivially.
	 */
	EXPECT_LE(captures, sh->steps - steps0);
	close(dev);
}

TEST_HARNESS_MAIN
