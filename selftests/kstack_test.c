// SPDX-License-Identifier: GPL-2.0
/*
 * PSS_FACET_THREAD_KSTACK: a target whose threads are blocked in a pipe
 * read, an eventfd read (as many frames as the pipe's, other functions), a
 * futex wait and a nanosleep (its leader in a pipe read too). Each
 * thread's record names the function it sleeps in and equals, line for
 * line, what /proc/PID/task/TID/stack shows for it; no line is an address;
 * there is one record per thread of the thread walk, in its order, also
 * when the leader has exited; the count query agrees. A self-capture shows
 * the caller inside the module (" [pss]"). With a quiesce (THREAD_CONTEXT)
 * the stacks are read after the release: the blocked threads, held and
 * never woken, still match /proc and are no guess; a thread parked by the
 * quiesce has no frames (NONE, not read); and in a ring of threads that
 * keep moving between a pipe read and a futex wait, a held thread's stack
 * not marked RUNNING is that of the system call its registers were taken
 * in. Without PSS_FACET_THREADS the facet is EINVAL, without CAP_SYS_ADMIN
 * EACCES (root without the capability, and nobody capturing itself).
 */
#include <elf.h>
#include <pthread.h>
#include <sys/user.h>
#include <linux/capability.h>
#include <sys/eventfd.h>
#include <linux/futex.h>

#include "pss_test_util.h"
#include "kselftest_harness.h"

#define NOBODY		65534
#define FACETS		(PSS_FACET_THREADS | PSS_FACET_THREAD_KSTACK)

enum { W_PIPE, W_EVENTFD, W_FUTEX, W_SLEEP, NR_WORKERS };

/* What each worker blocks in: its syscall, and a function /proc shows. */
static const struct {
	long nr;
	const char *func;	/* prefix of one frame's function name */
} expect[NR_WORKERS] = {
	[W_PIPE]	= { SYS_read,		"pipe_read+" },
	[W_EVENTFD]	= { SYS_read,		"eventfd_read+" },
	[W_FUTEX]	= { SYS_futex,		"futex_wait" },
	[W_SLEEP]	= { SYS_nanosleep,	"hrtimer_nanosleep+" },
};

struct ks_shared {
	pid_t tid[NR_WORKERS];
	int ready;
};

static struct ks_shared *g_sh;
static int g_pipe[2], g_efd;
static int g_futex;

static void *worker(void *arg)
{
	long i = (long)arg;
	struct timespec ts = { .tv_sec = 3600 };
	uint64_t v;
	char c;

	g_sh->tid[i] = sys_gettid();
	__atomic_add_fetch(&g_sh->ready, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		switch (i) {
		case W_PIPE:
			if (read(g_pipe[0], &c, 1) < 0 && errno != EINTR)
				_exit(30);
			break;
		case W_EVENTFD:
			if (read(g_efd, &v, sizeof(v)) < 0 && errno != EINTR)
				_exit(31);
			break;
		case W_FUTEX:
			syscall(SYS_futex, &g_futex, FUTEX_WAIT_PRIVATE, 0,
				NULL, NULL, 0);
			break;
		default:
			syscall(SYS_nanosleep, &ts, NULL);
			break;
		}
	}
	return NULL;
}

static int ks_setup(void *shared, void *arg)
{
	pthread_t th;
	long i;

	(void)arg;
	g_sh = shared;
	if (pipe(g_pipe))
		return 10;
	g_efd = eventfd(0, 0);
	if (g_efd < 0)
		return 12;
	for (i = 0; i < NR_WORKERS; i++)
		if (pthread_create(&th, NULL, worker, (void *)i))
			return 11;
	while (__atomic_load_n(&g_sh->ready, __ATOMIC_SEQ_CST) < NR_WORKERS)
		usleep(1000);
	return 0;
}

/* First field of /proc/PID/task/TID/syscall: -2 "running", -1 unreadable. */
static long thread_syscall(pid_t pid, pid_t tid)
{
	char *s = pss_read_fmt(NULL, "/proc/%d/task/%d/syscall", pid, tid);
	long nr;

	if (!s)
		return -1;
	nr = strncmp(s, "running", 7) ? strtol(s, NULL, 10) : -2;
	free(s);
	return nr;
}

static char thread_state(pid_t pid, pid_t tid)
{
	char *s = pss_read_fmt(NULL, "/proc/%d/task/%d/stat", pid, tid);
	char *p = s ? strrchr(s, ')') : NULL;
	char st = p && p[1] ? p[2] : '?';

	free(s);
	return st;
}

/*
 * /proc/PID/task/TID/stack without its "[<0>] " prefixes: the text a
 * kstack record must hold.
 */
static char *proc_stack(pid_t pid, pid_t tid)
{
	char *s = pss_read_fmt(NULL, "/proc/%d/task/%d/stack", pid, tid);
	char *out, *p, *q;

	if (!s)
		return NULL;
	out = calloc(1, strlen(s) + 1);
	for (p = s, q = out; out && *p; ) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);

		if (!strncmp(p, "[<0>] ", 6)) {
			p += 6;
			n -= 6;
		}
		memcpy(q, p, n);
		q += n;
		p += n;
	}
	free(s);
	return out;
}

/* Wait until @tid sleeps in syscall @nr with @func on its stack. */
static int wait_blocked(pid_t pid, pid_t tid, long nr, const char *func)
{
	int i;

	for (i = 0; i < 5000; i++) {
		char *st;
		bool in;

		if (thread_syscall(pid, tid) == nr &&
		    thread_state(pid, tid) == 'S') {
			st = proc_stack(pid, tid);
			in = st && strstr(st, func);
			free(st);
			if (in)
				return 0;
		}
		usleep(2000);
	}
	pss_seterr("thread %d did not block in syscall %ld (%s)", tid, nr, func);
	return -ETIMEDOUT;
}

/*
 * Every line "function+0xoff/0xsize" with an optional " [module]", or "?":
 * nothing that could be an address. Returns the number of lines, or -1.
 */
static int check_lines(const char *text, char *why, size_t whylen)
{
	const char *p = text;
	int n = 0;

	while (*p) {
		const char *nl = strchr(p, '\n'), *q = p;

		if (!nl) {
			snprintf(why, whylen, "no newline after \"%s\"", p);
			return -1;
		}
		n++;
		if (nl - p == 1 && *p == '?') {
			p = nl + 1;
			continue;
		}
		if (!(isalpha((unsigned char)*q) || *q == '_'))
			goto bad;
		while (q < nl && *q != '+' && *q != ' ')
			q++;
		if (strncmp(q, "+0x", 3))
			goto bad;
		for (q += 3; q < nl && isxdigit((unsigned char)*q); q++)
			;
		if (strncmp(q, "/0x", 3))
			goto bad;
		for (q += 3; q < nl && isxdigit((unsigned char)*q); q++)
			;
		if (q < nl && (strncmp(q, " [", 2) || nl[-1] != ']' ||
			       memchr(q + 2, ' ', nl - q - 2)))
			goto bad;
		p = nl + 1;
		continue;
bad:
		snprintf(why, whylen, "line %d \"%.*s\"", n, (int)(nl - p), p);
		return -1;
	}
	return n;
}

struct ks_walks {
	struct pss_recs th, ks;
};

static int walk_both(int snap, struct ks_walks *w)
{
	int ret = pss_walk_all(snap, PSS_WALK_THREADS, &w->th);

	if (!ret)
		ret = pss_walk_all(snap, PSS_WALK_KSTACKS, &w->ks);
	return ret;
}

static void free_both(struct ks_walks *w)
{
	pss_recs_free(&w->th);
	pss_recs_free(&w->ks);
}

FIXTURE(kstack) {
	struct pss_target t;
	struct ks_shared *sh;
	int snap;
	struct ks_walks w;
};

FIXTURE_SETUP(kstack)
{
	int i, ret;

	self->snap = -1;
	memset(&self->w, 0, sizeof(self->w));
	ret = pss_target_start(&self->t, ks_setup, NULL,
			       sizeof(struct ks_shared), false);
	ASSERT_EQ(0, ret) TH_LOG("%s", pss_err);
	self->sh = self->t.shared;
	/* The leader blocks reading the hold pipe. */
	ASSERT_EQ(0, wait_blocked(self->t.pid, self->t.pid, SYS_read,
				  "pipe_read+")) TH_LOG("%s", pss_err);
	for (i = 0; i < NR_WORKERS; i++)
		ASSERT_EQ(0, wait_blocked(self->t.pid, self->sh->tid[i],
					  expect[i].nr, expect[i].func))
			TH_LOG("%s", pss_err);
	self->snap = pss_capture1(self->t.pid, FACETS);
	ASSERT_LE(0, self->snap) TH_LOG("capture: %s", strerror(-self->snap));
	ASSERT_EQ(0, walk_both(self->snap, &self->w)) TH_LOG("%s", pss_err);
}

FIXTURE_TEARDOWN(kstack)
{
	free_both(&self->w);
	if (self->snap >= 0)
		close(self->snap);
	pss_target_stop(&self->t);
}

static const char *ks_text(const struct pss_kstack_entry *e)
{
	return e->text_off ? (const char *)e + e->text_off : "";
}

/* One record per thread record, same tids, same order. */
TEST_F(kstack, one_per_thread_in_order)
{
	size_t i;

	ASSERT_EQ(NR_WORKERS + 1, self->w.th.n);
	ASSERT_EQ(self->w.th.n, self->w.ks.n);
	for (i = 0; i < self->w.ks.n; i++) {
		const struct pss_thread_entry *th = self->w.th.rec[i];
		const struct pss_kstack_entry *ks = self->w.ks.rec[i];

		EXPECT_EQ(th->tid, ks->tid) TH_LOG("record %zu", i);
	}
}

/*
 * Each blocked thread: not running, not truncated, frames as /proc shows
 * them (offsets too: the thread has not moved), with the function it
 * sleeps in, every line a symbol.
 */
TEST_F(kstack, blocked_threads_match_proc)
{
	size_t i;
	int k;

	for (i = 0; i < self->w.ks.n; i++) {
		const struct pss_kstack_entry *e = self->w.ks.rec[i];
		const char *text = ks_text(e);
		char why[256] = "";
		const char *func;
		char *proc;
		int lines;

		EXPECT_EQ(0, e->flags) TH_LOG("tid %d flags %#x", e->tid, e->flags);
		ASSERT_LT(0, e->nr_frames) TH_LOG("tid %d", e->tid);
		EXPECT_EQ(strlen(text), e->text_len);
		lines = check_lines(text, why, sizeof(why));
		EXPECT_EQ((int)e->nr_frames, lines)
			TH_LOG("tid %d: %s in\n%s", e->tid, why, text);
		proc = proc_stack(self->t.pid, e->tid);
		ASSERT_NE(NULL, proc);
		EXPECT_STREQ(proc, text) TH_LOG("tid %d", e->tid);
		free(proc);

		for (k = 0; k < NR_WORKERS; k++)
			if (self->sh->tid[k] == e->tid)
				break;
		/* The leader blocks in a pipe read too. */
		func = k < NR_WORKERS ? expect[k].func : "pipe_read+";
		EXPECT_NE(NULL, strstr(text, func)) TH_LOG("%s:\n%s", func, text);
	}
}

/*
 * With THREAD_CONTEXT the threads are parked or held, and their stacks
 * read after the release. The blocked threads were held and have not run
 * since: each stack is exact (no flag) and the one /proc shows.
 */
TEST_F(kstack, held_threads_after_release)
{
	struct pss_capture_args a;
	struct ks_walks w = { 0 };
	struct pss_recs cr;
	size_t i;
	int dev, snap;

	dev = pss_open_dev();
	ASSERT_LE(0, dev);
	pss_capture_init(&a, self->t.pid, FACETS | PSS_FACET_THREAD_CONTEXT);
	a.quiesce_timeout_ms = PSS_QUIESCE_TIMEOUT_MAX_MS;
	snap = pss_capture_args(dev, &a);
	close(dev);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, walk_both(snap, &w)) TH_LOG("%s", pss_err);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_CONTEXTS, &cr))
		TH_LOG("%s", pss_err);
	ASSERT_EQ(NR_WORKERS + 1, w.ks.n);
	ASSERT_EQ(w.ks.n, cr.n);
	for (i = 0; i < w.ks.n; i++) {
		const struct pss_kstack_entry *e = w.ks.rec[i];
		const struct pss_context_entry *c = cr.rec[i];
		char *proc;

		ASSERT_EQ(c->tid, e->tid);
		EXPECT_EQ(PSS_PARK_BLOCKED, c->park) TH_LOG("tid %d", e->tid);
		EXPECT_EQ(0, e->flags) TH_LOG("tid %d flags %#x", e->tid,
					      e->flags);
		proc = proc_stack(self->t.pid, e->tid);
		ASSERT_NE(NULL, proc);
		EXPECT_STREQ(proc, ks_text(e)) TH_LOG("tid %d", e->tid);
		free(proc);
	}
	pss_recs_free(&cr);
	free_both(&w);
	close(snap);
}

TEST_F(kstack, count_query)
{
	struct pss_count_info ci;
	struct pss_snapshot_info si;

	ASSERT_EQ(0, pss_query_count(self->snap, PSS_QUERY_KSTACKS, &ci));
	EXPECT_EQ(self->w.ks.n, ci.count);
	EXPECT_EQ(self->w.th.n, ci.count);
	ASSERT_EQ(0, pss_query_snapshot(self->snap, &si));
	EXPECT_NE(0, si.facets & PSS_FACET_THREAD_KSTACK);
}

/* Without THREAD_KSTACK the class is not there. */
TEST_F(kstack, not_captured_is_enodata)
{
	struct pss_count_info ci;
	struct pss_recs r;
	int snap = pss_capture1(self->t.pid, PSS_FACET_THREADS);

	ASSERT_LE(0, snap);
	EXPECT_EQ(-ENODATA, pss_query_count(snap, PSS_QUERY_KSTACKS, &ci));
	EXPECT_EQ(-ENODATA, pss_walk_all(snap, PSS_WALK_KSTACKS, &r));
	close(snap);
}

TEST(needs_threads_facet)
{
	EXPECT_EQ(-EINVAL, pss_capture1(0, PSS_FACET_THREAD_KSTACK));
	EXPECT_EQ(-EINVAL, pss_capture1(0, PSS_FACET_THREAD_KSTACK |
					   PSS_FACET_VA_SPACE));
}

/*
 * The caller's own thread: read while it runs the ioctl, so not a guess;
 * its innermost frames are the module's.
 */
TEST(self_capture)
{
	struct ks_walks w = { 0 };
	const struct pss_kstack_entry *e = NULL;
	char why[256] = "";
	pid_t me = sys_gettid();
	size_t i;
	int snap;

	snap = pss_capture1(0, FACETS);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, walk_both(snap, &w)) TH_LOG("%s", pss_err);
	for (i = 0; i < w.ks.n; i++)
		if (((const struct pss_kstack_entry *)w.ks.rec[i])->tid == me)
			e = w.ks.rec[i];
	ASSERT_NE(NULL, e);
	EXPECT_EQ(0, e->flags);
	EXPECT_EQ((int)e->nr_frames, check_lines(ks_text(e), why, sizeof(why)))
		TH_LOG("%s", why);
	EXPECT_NE(NULL, strstr(ks_text(e), " [pss]\n")) TH_LOG("%s", ks_text(e));
	free_both(&w);
	close(snap);
}

static void *sleeper(void *arg)
{
	struct timespec ts = { .tv_sec = 3600 };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	__atomic_store_n((pid_t *)arg, sys_gettid(), __ATOMIC_SEQ_CST);
	for (;;)
		syscall(SYS_nanosleep, &ts, NULL);
	return NULL;
}

/*
 * The leader has exited (a zombie until its threads do): it is not in the
 * thread walk, so not in the kstack walk either.
 */
TEST(exited_leader)
{
	struct ks_walks w = { 0 };
	pid_t pid, tids[2] = { 0 };
	int pfd[2], snap, i;
	size_t k;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pthread_t th;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (i = 0; i < 2; i++)
			if (pthread_create(&th, NULL, sleeper, &tids[i]))
				_exit(1);
		while (!__atomic_load_n(&tids[0], __ATOMIC_SEQ_CST) ||
		       !__atomic_load_n(&tids[1], __ATOMIC_SEQ_CST))
			usleep(1000);
		if (write(pfd[1], tids, sizeof(tids)) != sizeof(tids))
			_exit(2);
		pthread_exit(NULL);
	}
	close(pfd[1]);
	ASSERT_EQ(sizeof(tids), read(pfd[0], tids, sizeof(tids)));
	close(pfd[0]);
	for (i = 0; i < 100000 && thread_state(pid, pid) != 'Z'; i++)
		usleep(1000);
	ASSERT_EQ('Z', thread_state(pid, pid));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, wait_blocked(pid, tids[i], SYS_nanosleep,
					  "hrtimer_nanosleep+"))
			TH_LOG("%s", pss_err);

	snap = pss_capture1(pid, FACETS);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, walk_both(snap, &w)) TH_LOG("%s", pss_err);
	EXPECT_EQ(2, w.th.n);
	ASSERT_EQ(w.th.n, w.ks.n);
	for (k = 0; k < w.ks.n; k++) {
		const struct pss_kstack_entry *e = w.ks.rec[k];

		EXPECT_EQ(((const struct pss_thread_entry *)w.th.rec[k])->tid,
			  e->tid);
		EXPECT_NE(NULL, strstr(ks_text(e), "hrtimer_nanosleep+"))
			TH_LOG("%s", ks_text(e));
	}
	free_both(&w);
	close(snap);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void *spinner(void *arg)
{
	__atomic_store_n((pid_t *)arg, sys_gettid(), __ATOMIC_SEQ_CST);
	for (;;)
		__asm__ volatile("" ::: "memory");
	return NULL;
}

static int spin_setup(void *shared, void *arg)
{
	pthread_t th;

	(void)arg;
	if (pthread_create(&th, NULL, spinner, shared))
		return 10;
	while (!__atomic_load_n((pid_t *)shared, __ATOMIC_SEQ_CST))
		usleep(1000);
	return 0;
}

/*
 * With THREAD_CONTEXT a thread spinning in user mode is parked by the
 * module on its way back to user mode (PSS_PARK_WAITED). Its stack then is
 * the park, which says nothing of the thread, and once released it runs:
 * its record has no frames (NONE), and is no guess.
 */
TEST(parked_spinner)
{
	struct pss_capture_args a;
	struct ks_walks w = { 0 };
	const struct pss_kstack_entry *e = NULL;
	const struct pss_context_entry *ctx = NULL;
	struct pss_target t;
	struct pss_recs cr;
	pid_t tid;
	size_t i;
	int dev, snap;

	ASSERT_EQ(0, pss_target_start(&t, spin_setup, NULL, 0, false))
		TH_LOG("%s", pss_err);
	tid = *(pid_t *)t.shared;
	dev = pss_open_dev();
	ASSERT_LE(0, dev);
	pss_capture_init(&a, t.pid, FACETS | PSS_FACET_THREAD_CONTEXT);
	a.quiesce_timeout_ms = PSS_QUIESCE_TIMEOUT_MAX_MS;
	snap = pss_capture_args(dev, &a);
	close(dev);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, walk_both(snap, &w)) TH_LOG("%s", pss_err);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_CONTEXTS, &cr))
		TH_LOG("%s", pss_err);
	ASSERT_EQ(w.ks.n, cr.n);
	for (i = 0; i < w.ks.n; i++) {
		const struct pss_kstack_entry *k = w.ks.rec[i];
		const struct pss_context_entry *c = cr.rec[i];

		EXPECT_EQ(c->tid, k->tid);
		if (k->tid == tid) {
			e = k;
			ctx = c;
		}
	}
	ASSERT_NE(NULL, e);
	ASSERT_EQ(PSS_PARK_WAITED, ctx->park);
	EXPECT_EQ(PSS_KSTACK_NONE, e->flags) TH_LOG("%s", ks_text(e));
	EXPECT_EQ(0, e->nr_frames);
	EXPECT_EQ(0, e->text_len);
	pss_recs_free(&cr);
	free_both(&w);
	close(snap);
	pss_target_stop(&t);
}

/*
 * A ring of threads that never stop moving: each takes a token from its
 * pipe (read: pipe_read), gives one to the next thread's futex counter,
 * takes one from its own (futex wait), gives one to the next pipe.
 */
#define RING		8
#define RING_CAPTURES	60

struct ring {
	pid_t tid[RING];
	int ready;
	int pipe[RING][2];
	int fut[RING];
};

static struct ring *g_ring;

static void *ring_worker(void *arg)
{
	long i = (long)arg, next = (i + 1) % RING;
	struct ring *r = g_ring;
	char c = 0;
	int v;

	r->tid[i] = sys_gettid();
	__atomic_add_fetch(&r->ready, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		if (read(r->pipe[i][0], &c, 1) != 1)
			_exit(40);
		__atomic_add_fetch(&r->fut[next], 1, __ATOMIC_SEQ_CST);
		syscall(SYS_futex, &r->fut[next], FUTEX_WAKE_PRIVATE, 1,
			NULL, NULL, 0);
		for (;;) {
			v = __atomic_load_n(&r->fut[i], __ATOMIC_SEQ_CST);
			if (v && __atomic_compare_exchange_n(&r->fut[i], &v,
					v - 1, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST))
				break;
			if (!v)
				syscall(SYS_futex, &r->fut[i],
					FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
		}
		if (write(r->pipe[next][1], &c, 1) != 1)
			_exit(41);
	}
	return NULL;
}

static int ring_setup(void *shared, void *arg)
{
	pthread_t th;
	long i;

	(void)arg;
	g_ring = shared;
	for (i = 0; i < RING; i++)
		if (pipe(g_ring->pipe[i]) || write(g_ring->pipe[i][1], "x", 1) != 1)
			return 10;
	for (i = 0; i < RING; i++)
		if (pthread_create(&th, NULL, ring_worker, (void *)i))
			return 11;
	while (__atomic_load_n(&g_ring->ready, __ATOMIC_SEQ_CST) < RING)
		usleep(1000);
	return 0;
}

/*
 * The stacks of a quiesce's capture are read after the release, and the
 * ring's threads move on at once: a held thread's stack that is not marked
 * RUNNING must still be the one of the system call its registers (taken
 * under the park) were in. A parked thread has no frames. Over many
 * captures some held threads are checked; how many moved is only logged.
 * Every other capture is per thread, where a thread found asleep is read
 * at once and may move on long before the stacks are read.
 */
TEST(moving_threads_after_release)
{
	unsigned int checked = 0, moved = 0, parked = 0, checked_each = 0;
	struct pss_capture_args a;
	struct pss_target t;
	int dev, n;

	ASSERT_EQ(0, pss_target_start(&t, ring_setup, NULL,
				      sizeof(struct ring), false))
		TH_LOG("%s", pss_err);
	dev = pss_open_dev();
	ASSERT_LE(0, dev);
	for (n = 0; n < RING_CAPTURES; n++) {
		struct ks_walks w = { 0 };
		struct pss_recs cr;
		size_t i;
		int snap;

		pss_capture_init(&a, t.pid, FACETS | PSS_FACET_THREAD_CONTEXT);
		a.quiesce_timeout_ms = PSS_QUIESCE_TIMEOUT_MAX_MS;
		/* every other one per thread: each read when found asleep */
		a.flags = n & 1 ? PSS_CAPTURE_PER_THREAD : 0;
		snap = pss_capture_args(dev, &a);
		ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
		ASSERT_EQ(0, walk_both(snap, &w)) TH_LOG("%s", pss_err);
		ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_CONTEXTS, &cr))
			TH_LOG("%s", pss_err);
		ASSERT_EQ(w.ks.n, cr.n);
		for (i = 0; i < w.ks.n; i++) {
			const struct pss_kstack_entry *e = w.ks.rec[i];
			const struct pss_context_entry *c = cr.rec[i];
			const struct user_regs_struct *g;
			const char *func;

			ASSERT_EQ(c->tid, e->tid);
			if (c->park == PSS_PARK_WAITED) {
				EXPECT_EQ(PSS_KSTACK_NONE, e->flags)
					TH_LOG("tid %d:\n%s", e->tid,
					       ks_text(e));
				EXPECT_EQ(0, e->nr_frames);
				parked++;
				continue;
			}
			if (c->park != PSS_PARK_BLOCKED)
				continue;
			if (e->flags & PSS_KSTACK_RUNNING) {
				moved++;
				continue;
			}
			ASSERT_EQ(EM_X86_64, c->elf_machine);
			ASSERT_LE(sizeof(*g), c->gregs_len);
			g = (const void *)((const char *)c + c->gregs_off);
			if (g->orig_rax == SYS_read)
				func = "pipe_read+";
			else if (g->orig_rax == SYS_futex)
				func = "futex_wait";
			else
				continue;
			checked++;
			checked_each += !!a.flags;
			EXPECT_NE(NULL, strstr(ks_text(e), func))
				TH_LOG("capture %d tid %d: held in syscall %lld, not RUNNING, flags %#x, but:\n%s",
				       n, e->tid, (long long)g->orig_rax,
				       e->flags, ks_text(e));
		}
		pss_recs_free(&cr);
		free_both(&w);
		close(snap);
	}
	close(dev);
	TH_LOG("held and checked %u (%u per thread), held and moved %u, parked %u",
	       checked, checked_each, moved, parked);
	EXPECT_LT(0, checked);
	EXPECT_LT(0, checked_each);
	pss_target_stop(&t);
}

static int capset_effective(uint64_t eff, uint64_t perm)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = (uint32_t)eff;
	d[1].effective = (uint32_t)(eff >> 32);
	d[0].permitted = (uint32_t)perm;
	d[1].permitted = (uint32_t)(perm >> 32);
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/*
 * In a child: @drop() the privilege, then capture @pid: THREADS alone
 * succeeds, with THREAD_KSTACK it is EACCES. Exit code 0 when both hold.
 */
static int privless_child(pid_t pid, int (*drop)(void))
{
	int snap;

	if (drop())
		return 10;
	snap = pss_capture1(pid, PSS_FACET_THREADS);
	if (snap < 0)
		return 11;
	close(snap);
	snap = pss_capture1(pid, FACETS);
	if (snap >= 0)
		return 12;
	return snap == -EACCES ? 0 : 13;
}

static int drop_sys_admin(void)
{
	uint64_t all = (1ULL << (CAP_LAST_CAP + 1)) - 1;

	return capset_effective(all & ~(1ULL << CAP_SYS_ADMIN), all);
}

static int drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -errno;
	return 0;
}

static int run_child(pid_t target, int (*drop)(void))
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(privless_child(target, drop));
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Root without CAP_SYS_ADMIN (still with CAP_SYS_PTRACE) capturing another process. */
TEST_F(kstack, eacces_without_cap_sys_admin)
{
	EXPECT_EQ(0, run_child(self->t.pid, drop_sys_admin));
}

/* Nobody capturing itself: allowed, but not its kernel stacks. */
TEST(eacces_as_nobody_self)
{
	EXPECT_EQ(0, run_child(0, drop_to_nobody));
}

TEST_HARNESS_MAIN
