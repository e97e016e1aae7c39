// SPDX-License-Identifier: GPL-2.0
/*
 * PSS_WALK_THREADS against a stopped target whose threads each set a known
 * name, nice value and affinity, and against /proc/PID/task/TID/{stat,status};
 * a thread that exited before the cut must not appear. Self-capture marks the
 * calling thread.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include "pss_test_util.h"

#define NR_WORKERS	6
#define LEADER_COMM	"pss-leader"

struct thr_shared {
	int ncpus;
	int cpus[64];		/* cpus we may use */
	pid_t tid[NR_WORKERS];
	int nice[NR_WORKERS];
	int cpu[NR_WORKERS];	/* pinned to */
	pid_t gone_tid;		/* joined before the stop */
	int ready;
};

static struct thr_shared *g_sh;
static pthread_barrier_t g_bar;

static void *worker(void *arg)
{
	long i = (long)arg;
	char name[16];
	cpu_set_t set;

	snprintf(name, sizeof(name), "pss-t%ld", i);
	if (pthread_setname_np(pthread_self(), name))
		_exit(20);
	g_sh->tid[i] = sys_gettid();
	g_sh->nice[i] = 1 + i % 5;
	if (setpriority(PRIO_PROCESS, g_sh->tid[i], g_sh->nice[i]))
		_exit(21);
	g_sh->cpu[i] = g_sh->cpus[i % g_sh->ncpus];
	CPU_ZERO(&set);
	CPU_SET(g_sh->cpu[i], &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		_exit(22);
	pthread_barrier_wait(&g_bar);
	for (;;)
		pause();
	return NULL;
}

static void *short_lived(void *arg)
{
	*(pid_t *)arg = sys_gettid();
	return NULL;
}

static int allowed_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int i, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (i = 0; i < CPU_SETSIZE && n < max; i++)
		if (CPU_ISSET(i, &set))
			cpus[n++] = i;
	return n;
}

static int thr_setup(void *shared, void *arg)
{
	struct thr_shared *sh = shared;
	pthread_t th;
	long i;

	(void)arg;
	g_sh = sh;
	sh->ncpus = allowed_cpus(sh->cpus, 64);
	if (!sh->ncpus)
		return 14;
	if (prctl(PR_SET_NAME, LEADER_COMM))
		return 10;
	if (pthread_create(&th, NULL, short_lived, &sh->gone_tid) ||
	    pthread_join(th, NULL))
		return 11;
	if (pthread_barrier_init(&g_bar, NULL, NR_WORKERS + 1))
		return 12;
	for (i = 0; i < NR_WORKERS; i++)
		if (pthread_create(&th, NULL, worker, (void *)i))
			return 13;
	pthread_barrier_wait(&g_bar);
	sh->ready = 1;
	return 0;
}

FIXTURE(threads) {
	struct pss_target t;
	struct thr_shared *sh;
	int snap;
	struct pss_recs r;
};

FIXTURE_SETUP(threads)
{
	int ret;

	self->snap = -1;
	ret = pss_target_start(&self->t, thr_setup, NULL, sizeof(struct thr_shared), true);
	ASSERT_EQ(0, ret) TH_LOG("%s", pss_err);
	self->sh = self->t.shared;
	ASSERT_EQ(1, self->sh->ready);
	self->snap = pss_capture1(self->t.pid, PSS_FACET_THREADS);
	ASSERT_LE(0, self->snap) TH_LOG("capture: %s", strerror(-self->snap));
	ASSERT_EQ(0, pss_walk_all(self->snap, PSS_WALK_THREADS, &self->r))
		TH_LOG("%s", pss_err);
}

FIXTURE_TEARDOWN(threads)
{
	pss_recs_free(&self->r);
	if (self->snap >= 0)
		close(self->snap);
	pss_target_stop(&self->t);
}

static struct pss_thread_entry *find_tid(struct pss_recs *r, pid_t tid)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		struct pss_thread_entry *e = r->rec[i];

		if (e->tid == tid)
			return e;
	}
	return NULL;
}

static int worker_index(struct thr_shared *sh, pid_t tid)
{
	int i;

	for (i = 0; i < NR_WORKERS; i++)
		if (sh->tid[i] == tid)
			return i;
	return -1;
}

TEST_F(threads, tid_set_equals_proc_task)
{
	int *tids = NULL;
	size_t n, i;

	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task", self->t.pid);
	ASSERT_EQ(0, pss_list_dir_ints(path, &tids, &n));
	EXPECT_EQ(NR_WORKERS + 1, n);
	ASSERT_EQ(n, self->r.n);
	for (i = 0; i < n; i++)
		EXPECT_NE(NULL, find_tid(&self->r, tids[i])) TH_LOG("tid %d missing", tids[i]);
	/* and unique: n distinct /proc tids all found in n records */
	for (i = 0; i < self->r.n; i++) {
		struct pss_thread_entry *e = self->r.rec[i];

		EXPECT_TRUE(e->tid == self->t.pid || worker_index(self->sh, e->tid) >= 0)
			TH_LOG("unexpected tid %d", e->tid);
	}
	free(tids);
}

TEST_F(threads, exited_thread_absent)
{
	ASSERT_NE(0, self->sh->gone_tid);
	EXPECT_EQ(NULL, find_tid(&self->r, self->sh->gone_tid));
}

TEST_F(threads, names)
{
	size_t i;

	for (i = 0; i < self->r.n; i++) {
		struct pss_thread_entry *e = self->r.rec[i];
		struct pss_proc_stat st;
		char path[64], want[16];
		int w = worker_index(self->sh, e->tid);

		ASSERT_EQ(0, e->comm[PSS_COMM_LEN - 1]);
		if (e->tid == self->t.pid)
			snprintf(want, sizeof(want), "%s", LEADER_COMM);
		else
			snprintf(want, sizeof(want), "pss-t%d", w);
		EXPECT_STREQ(want, e->comm);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", self->t.pid, e->tid);
		ASSERT_EQ(0, pss_parse_stat(path, &st));
		EXPECT_STREQ(st.comm, e->comm);
	}
}

TEST_F(threads, leader_flag_exactly_once)
{
	size_t i, leaders = 0;

	for (i = 0; i < self->r.n; i++) {
		struct pss_thread_entry *e = self->r.rec[i];

		if (e->flags & PSS_THREAD_LEADER) {
			leaders++;
			EXPECT_EQ(self->t.pid, e->tid);
		}
		EXPECT_EQ(0, e->flags & (PSS_THREAD_CALLER | PSS_THREAD_EXITING |
					 PSS_THREAD_TRACED));
	}
	EXPECT_EQ(1, leaders);
}

TEST_F(threads, state_stopped)
{
	size_t i;

	for (i = 0; i < self->r.n; i++) {
		struct pss_thread_entry *e = self->r.rec[i];
		struct pss_proc_stat st;
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", self->t.pid, e->tid);
		ASSERT_EQ(0, pss_parse_stat(path, &st));
		EXPECT_EQ('T', e->state) TH_LOG("tid %d", e->tid);
		EXPECT_EQ(st.state, e->state) TH_LOG("tid %d", e->tid);
		EXPECT_TRUE(!!(e->flags & PSS_THREAD_STOPPED)) TH_LOG("tid %d", e->tid);
	}
}

TEST_F(threads, sched_fields)
{
	size_t i;

	for (i = 0; i < self->r.n; i++) {
		struct pss_thread_entry *e = self->r.rec[i];
		int w = worker_index(self->sh, e->tid);
		struct pss_proc_stat st;
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", self->t.pid, e->tid);
		ASSERT_EQ(0, pss_parse_stat(path, &st));
		EXPECT_EQ(w >= 0 ? self->sh->nice[w] : 0, e->nice) TH_LOG("tid %d", e->tid);
		EXPECT_EQ(st.f[19], e->nice);
		EXPECT_EQ(st.f[18], e->prio) TH_LOG("tid %d", e->tid);
		EXPECT_EQ(SCHED_OTHER, e->policy);
		EXPECT_EQ(st.f[41], e->policy);
		EXPECT_EQ(st.f[40], e->rt_priority);
		EXPECT_EQ(st.f[39], e->cpu) TH_LOG("tid %d", e->tid);
		EXPECT_EQ(0, e->pad0[0] | e->pad0[1] | e->pad0[2] | e->pad1);
	}
}

TEST_F(threads, affinity)
{
	size_t i;

	for (i = 0; i < self->r.n; i++) {
		struct pss_thread_entry *e = self->r.rec[i];
		int w = worker_index(self->sh, e->tid);
		__u64 want[PSS_CPUMASK_BITS / 64];
		const __u64 *cpus;
		char path[80], *buf, *p;
		size_t words, k;

		ASSERT_NE(0, e->cpus_off) TH_LOG("tid %d has no cpu mask", e->tid);
		ASSERT_EQ(0, e->cpus_len % 8);
		ASSERT_LT(0, e->cpus_len);
		cpus = (const __u64 *)((const char *)e + e->cpus_off);
		words = e->cpus_len / 8;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", self->t.pid, e->tid);
		buf = pss_read_file(path, NULL);
		ASSERT_NE(NULL, buf);
		p = strstr(buf, "Cpus_allowed_list:");
		ASSERT_NE(NULL, p);
		p += strlen("Cpus_allowed_list:");
		while (*p == '\t' || *p == ' ')
			p++;
		ASSERT_LT(0, pss_parse_cpulist(p, want, PSS_CPUMASK_BITS / 64));
		free(buf);
		for (k = 0; k < PSS_CPUMASK_BITS / 64; k++)
			EXPECT_EQ(want[k], k < words ? cpus[k] : 0)
				TH_LOG("tid %d word %zu", e->tid, k);
		if (w >= 0) {
			int c = self->sh->cpu[w];

			ASSERT_LT((size_t)c / 64, words);
			EXPECT_EQ(1ULL << (c % 64), cpus[c / 64]);
		}
	}
}

TEST_F(threads, times_faults_switches)
{
	long tck = sysconf(_SC_CLK_TCK);
	__u64 tick_ns = 1000000000ULL / tck;
	__u64 now = pss_clock_ns(CLOCK_BOOTTIME);
	size_t i;

	for (i = 0; i < self->r.n; i++) {
		struct pss_thread_entry *e = self->r.rec[i];
		struct pss_proc_stat st;
		char path[80];
		char *buf, *p;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", self->t.pid, e->tid);
		ASSERT_EQ(0, pss_parse_stat(path, &st));
		EXPECT_EQ(st.f[22], (long long)(e->start_boottime_ns / tick_ns));
		EXPECT_GT(now, e->start_boottime_ns);
		EXPECT_GE(now - e->start_boottime_ns + tick_ns, e->utime_ns + e->stime_ns);
		EXPECT_EQ(st.f[10], e->min_flt) TH_LOG("tid %d", e->tid);
		EXPECT_EQ(st.f[12], e->maj_flt);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", self->t.pid, e->tid);
		buf = pss_read_file(path, NULL);
		ASSERT_NE(NULL, buf);
		p = strstr(buf, "\nvoluntary_ctxt_switches:");
		ASSERT_NE(NULL, p);
		EXPECT_EQ(strtoull(p + 25, NULL, 10), e->nvcsw) TH_LOG("tid %d", e->tid);
		p = strstr(buf, "\nnonvoluntary_ctxt_switches:");
		ASSERT_NE(NULL, p);
		EXPECT_EQ(strtoull(p + 28, NULL, 10), e->nivcsw) TH_LOG("tid %d", e->tid);
		free(buf);
	}
}

TEST_F(threads, leader_started_first)
{
	struct pss_thread_entry *leader = find_tid(&self->r, self->t.pid);
	size_t i;

	ASSERT_NE(NULL, leader);
	for (i = 0; i < self->r.n; i++) {
		struct pss_thread_entry *e = self->r.rec[i];

		EXPECT_LE(leader->start_boottime_ns, e->start_boottime_ns);
	}
}

TEST_F(threads, process_nr_threads_matches)
{
	struct pss_process_info pi;
	struct pss_count_info ci;

	ASSERT_EQ(0, pss_query_process(self->snap, &pi));
	EXPECT_EQ(self->r.n, pi.nr_threads);
	ASSERT_EQ(0, pss_query_count(self->snap, PSS_QUERY_THREADS, &ci));
	EXPECT_EQ(self->r.n, ci.count);
}

/* ------------------------------------------------ self capture */

struct self_ctx {
	pthread_barrier_t bar;
	pid_t tids[4];
	int snap;
};

static struct self_ctx g_self;

static void *self_waiter(void *arg)
{
	long i = (long)arg;

	g_self.tids[i] = sys_gettid();
	pthread_barrier_wait(&g_self.bar);
	/* wait for the capture, then return */
	pthread_barrier_wait(&g_self.bar);
	return NULL;
}

static void *self_capturer(void *arg)
{
	long i = (long)arg;

	g_self.tids[i] = sys_gettid();
	pthread_barrier_wait(&g_self.bar);
	g_self.snap = pss_capture1(0, PSS_FACET_THREADS);
	pthread_barrier_wait(&g_self.bar);
	return NULL;
}

TEST(self_capture_marks_caller)
{
	pthread_t th[3];
	struct pss_recs r;
	size_t i, callers = 0, leaders = 0;
	long k;

	ASSERT_EQ(0, pthread_barrier_init(&g_self.bar, NULL, 4));
	g_self.tids[0] = sys_gettid();
	ASSERT_EQ(0, pthread_create(&th[0], NULL, self_waiter, (void *)1L));
	ASSERT_EQ(0, pthread_create(&th[1], NULL, self_capturer, (void *)2L));
	ASSERT_EQ(0, pthread_create(&th[2], NULL, self_waiter, (void *)3L));
	pthread_barrier_wait(&g_self.bar);
	pthread_barrier_wait(&g_self.bar);
	for (k = 0; k < 3; k++)
		pthread_join(th[k], NULL);
	ASSERT_LE(0, g_self.snap) TH_LOG("capture: %s", strerror(-g_self.snap));
	ASSERT_EQ(0, pss_walk_all(g_self.snap, PSS_WALK_THREADS, &r)) TH_LOG("%s", pss_err);
	/* the snapshot still has the 4 threads that were live at the cut */
	ASSERT_EQ(4, r.n);
	for (i = 0; i < r.n; i++) {
		struct pss_thread_entry *e = r.rec[i];
		bool known = false;

		for (k = 0; k < 4; k++)
			if (g_self.tids[k] == e->tid)
				known = true;
		EXPECT_TRUE(known) TH_LOG("tid %d", e->tid);
		if (e->flags & PSS_THREAD_CALLER) {
			callers++;
			EXPECT_EQ(g_self.tids[2], e->tid);
			EXPECT_EQ('R', e->state);
		}
		if (e->flags & PSS_THREAD_LEADER) {
			leaders++;
			EXPECT_EQ(getpid(), e->tid);
		}
		EXPECT_FALSE(!!(e->flags & PSS_THREAD_STOPPED));
	}
	EXPECT_EQ(1, callers);
	EXPECT_EQ(1, leaders);
	pss_recs_free(&r);
	close(g_self.snap);
}

TEST(self_capture_single_thread)
{
	struct pss_thread_entry *e;
	cpu_set_t old, one;
	struct pss_recs r;
	char comm[32];
	int snap, cpu, i;

	ASSERT_EQ(0, prctl(PR_GET_NAME, comm));
	/*
	 * Pinned, the capturing thread's cpu is known, not raced: the highest
	 * allowed one, so a module that reports 0 is caught on any SMP guest.
	 */
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(old), &old));
	for (cpu = -1, i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &old))
			cpu = i;
	ASSERT_LE(0, cpu);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	ASSERT_EQ(cpu, sched_getcpu());
	snap = pss_capture1(0, PSS_FACET_THREADS);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(old), &old));
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_THREADS, &r)) TH_LOG("%s", pss_err);
	ASSERT_EQ(1, r.n);
	e = r.rec[0];
	EXPECT_EQ(getpid(), e->tid);
	EXPECT_EQ(PSS_THREAD_LEADER | PSS_THREAD_CALLER, e->flags);
	EXPECT_STREQ(comm, e->comm);
	EXPECT_EQ('R', e->state);
	EXPECT_EQ(cpu, e->cpu);
	pss_recs_free(&r);
	close(snap);
}

/* A non-leader thread sees the leader flag on the leader, caller on itself. */
static void *lone_capturer(void *arg)
{
	*(int *)arg = pss_capture1(0, PSS_FACET_THREADS);
	return NULL;
}

TEST(capture_from_non_leader_after_leader_waits)
{
	struct pss_recs r;
	pthread_t th;
	int snap = -1;
	size_t i;

	ASSERT_EQ(0, pthread_create(&th, NULL, lone_capturer, &snap));
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_THREADS, &r)) TH_LOG("%s", pss_err);
	ASSERT_EQ(2, r.n);
	for (i = 0; i < r.n; i++) {
		struct pss_thread_entry *e = r.rec[i];

		if (e->tid == getpid()) {
			EXPECT_EQ(PSS_THREAD_LEADER, e->flags);
		} else {
			EXPECT_EQ(PSS_THREAD_CALLER, e->flags & ~PSS_THREAD_EXITING);
		}
	}
	pss_recs_free(&r);
	close(snap);
}

TEST_HARNESS_MAIN
