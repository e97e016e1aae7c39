// SPDX-License-Identifier: GPL-2.0
/*
 * PSS_QUERY_PROCESS field by field against a stopped target set up in a
 * known state and against its /proc/PID/stat and status; PSS_QUERY_SNAPSHOT,
 * the count classes and PERFORMANCE against the walks and the clocks; and
 * every PSS_IOC_QUERY error path, one per subtest.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/resource.h>

#include "pss_test_util.h"

#define TGT_COMM	"pss-proc-tgt"
#define TGT_NICE	7
#define TGT_THREADS	3	/* leader + 2 */
#define TGT_TOUCH	(4UL << 20)
#define TGT_LOCK	(64UL << 10)

/* If set, exec'd copies of this binary just wait (exe-deleted test). */
__attribute__((constructor)) static void maybe_pause(void)
{
	if (getenv("PSS_TEST_PAUSE"))
		for (;;)
			pause();
}

struct proc_shared {
	int cpu;
	int ok;
};

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int last_allowed_cpu(void)
{
	cpu_set_t set;
	int i, cpu = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			cpu = i;
	return cpu;
}

static int proc_tgt_setup(void *shared, void *arg)
{
	struct proc_shared *sh = shared;
	struct sched_param sp = { .sched_priority = 0 };
	cpu_set_t set;
	pthread_t th;
	char *m, *l;
	size_t i;
	int n;

	sh->cpu = *(int *)arg;
	if (setsid() < 0)
		return 10;
	if (setpriority(PRIO_PROCESS, 0, TGT_NICE))
		return 11;
	if (sched_setscheduler(0, SCHED_BATCH, &sp))
		return 12;
	CPU_ZERO(&set);
	CPU_SET(sh->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return 13;
	if (prctl(PR_SET_NAME, TGT_COMM))
		return 14;
	m = mmap(NULL, TGT_TOUCH, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 15;
	/* one fault per page, not per huge page: the min_flt bound holds */
	madvise(m, TGT_TOUCH, MADV_NOHUGEPAGE);
	for (i = 0; i < TGT_TOUCH; i += 4096)
		m[i] = 1;
	l = mmap(NULL, TGT_LOCK, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (l == MAP_FAILED || mlock(l, TGT_LOCK))
		return 16;
	/* burn ~100 ms of cpu so the times are not all zero */
	while (pss_clock_ns(CLOCK_PROCESS_CPUTIME_ID) < 100000000ULL)
		;
	for (n = 1; n < TGT_THREADS; n++)
		if (pthread_create(&th, NULL, idle_thread, NULL))
			return 17;
	/* distinct ids so a swapped field cannot pass */
	if (setresgid(101, 102, 103) || setresuid(201, 202, 0))
		return 18;
	/* credential changes clear the parent-death signal */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sh->ok = 1;
	return 0;
}

FIXTURE(proc) {
	struct pss_target t;
	int dev;
	int snap;
	struct pss_process_info pi;
	struct pss_proc_stat st;
	int cpu;
};

FIXTURE_SETUP(proc)
{
	char path[64];
	int ret;

	self->snap = -1;
	self->t.pid = -1;
	self->dev = pss_open_dev();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", PSS_DEVICE_PATH, strerror(errno));
	/* pin to the last cpu we may use: not the default mask if > 1 cpu */
	self->cpu = last_allowed_cpu();
	ret = pss_target_start(&self->t, proc_tgt_setup, &self->cpu, 0, true);
	ASSERT_EQ(0, ret) TH_LOG("%s", pss_err);
	self->snap = ioc_capture_pid(self->dev, self->t.pid, PSS_FACETS_ALL);
	ASSERT_LE(0, self->snap) TH_LOG("capture: %s", strerror(-self->snap));
	ASSERT_EQ(0, pss_query_process(self->snap, &self->pi));
	snprintf(path, sizeof(path), "/proc/%d/stat", self->t.pid);
	ASSERT_EQ(0, pss_parse_stat(path, &self->st));
}

FIXTURE_TEARDOWN(proc)
{
	if (self->snap >= 0)
		close(self->snap);
	pss_target_stop(&self->t);
	close(self->dev);
}

TEST_F(proc, size_and_mask)
{
	__u64 want = PSS_PROC_HAS_IDS | PSS_PROC_HAS_EXE | PSS_PROC_HAS_MM |
		     PSS_PROC_HAS_TIMES | PSS_PROC_HAS_SCHED | PSS_PROC_HAS_AFFINITY;

	EXPECT_EQ(sizeof(struct pss_process_info), self->pi.size);
	EXPECT_EQ(want, self->pi.mask & want);
	EXPECT_EQ(0, self->pi.mask & PSS_PROC_HAS_EXIT);
	EXPECT_EQ(0, self->pi.pad0[0] | self->pi.pad0[1] | self->pi.pad0[2]);
	EXPECT_EQ(0, self->pi.pad1);
}

TEST_F(proc, ids)
{
	EXPECT_EQ(self->t.pid, self->pi.pid);
	EXPECT_EQ(getpid(), self->pi.ppid);
	EXPECT_EQ(self->st.f[4], self->pi.ppid);
	/* setsid(): own session and group */
	EXPECT_EQ(self->t.pid, self->pi.pgid);
	EXPECT_EQ(self->t.pid, self->pi.sid);
	EXPECT_EQ(self->st.f[5], self->pi.pgid);
	EXPECT_EQ(self->st.f[6], self->pi.sid);
}

TEST_F(proc, uids_gids)
{
	char *uid = pss_status_field(self->t.pid, "Uid");
	char *gid = pss_status_field(self->t.pid, "Gid");
	unsigned int u[4], g[4];

	ASSERT_NE(NULL, uid);
	ASSERT_NE(NULL, gid);
	ASSERT_EQ(4, sscanf(uid, "%u %u %u %u", &u[0], &u[1], &u[2], &u[3]));
	ASSERT_EQ(4, sscanf(gid, "%u %u %u %u", &g[0], &g[1], &g[2], &g[3]));
	/* what the target set */
	EXPECT_EQ(201, self->pi.ruid);
	EXPECT_EQ(202, self->pi.euid);
	EXPECT_EQ(0, self->pi.suid);
	EXPECT_EQ(202, self->pi.fsuid);
	EXPECT_EQ(101, self->pi.rgid);
	EXPECT_EQ(102, self->pi.egid);
	EXPECT_EQ(103, self->pi.sgid);
	EXPECT_EQ(102, self->pi.fsgid);
	/* and /proc */
	EXPECT_EQ(u[0], self->pi.ruid);
	EXPECT_EQ(u[1], self->pi.euid);
	EXPECT_EQ(u[2], self->pi.suid);
	EXPECT_EQ(u[3], self->pi.fsuid);
	EXPECT_EQ(g[0], self->pi.rgid);
	EXPECT_EQ(g[1], self->pi.egid);
	EXPECT_EQ(g[2], self->pi.sgid);
	EXPECT_EQ(g[3], self->pi.fsgid);
	free(uid);
	free(gid);
}

TEST_F(proc, comm)
{
	ASSERT_EQ(0, self->pi.comm[PSS_COMM_LEN - 1]);
	EXPECT_STREQ(TGT_COMM, self->pi.comm);
	EXPECT_STREQ(self->st.comm, self->pi.comm);
}

TEST_F(proc, exe_path)
{
	char link[PSS_PATH_MAX], mine[PSS_PATH_MAX];

	ASSERT_EQ(0, pss_readlink_fmt(link, sizeof(link), "/proc/%d/exe", self->t.pid));
	ASSERT_EQ(0, pss_readlink_fmt(mine, sizeof(mine), "/proc/self/exe"));
	EXPECT_STREQ(link, self->pi.exe_path);
	EXPECT_STREQ(mine, self->pi.exe_path);
	EXPECT_EQ(strlen(self->pi.exe_path), self->pi.exe_path_len);
	EXPECT_EQ(0, self->pi.flags & PSS_PROC_EXE_DELETED);
}

TEST_F(proc, state_and_flags)
{
	EXPECT_EQ('T', self->pi.state);
	EXPECT_EQ(self->st.state, self->pi.state);
	EXPECT_TRUE(!!(self->pi.flags & PSS_PROC_STOPPED));
	EXPECT_FALSE(!!(self->pi.flags & (PSS_PROC_ZOMBIE | PSS_PROC_TRACED |
					 PSS_PROC_EXITING | PSS_PROC_SELF |
					 PSS_PROC_LEADER_EXITED | PSS_PROC_COMPAT)));
}

TEST_F(proc, nr_threads)
{
	EXPECT_EQ(TGT_THREADS, self->pi.nr_threads);
	EXPECT_EQ(self->st.f[20], self->pi.nr_threads);
}

TEST_F(proc, sched)
{
	EXPECT_EQ(TGT_NICE, self->pi.nice);
	EXPECT_EQ(self->st.f[19], self->pi.nice);
	EXPECT_EQ(self->st.f[18], self->pi.prio);
	EXPECT_EQ(SCHED_BATCH, self->pi.policy);
	EXPECT_EQ(self->st.f[41], self->pi.policy);
	EXPECT_EQ(0, self->pi.rt_priority);
	EXPECT_EQ(self->st.f[40], self->pi.rt_priority);
}

TEST_F(proc, affinity)
{
	int cpu = last_allowed_cpu();
	char *list = pss_status_field(self->t.pid, "Cpus_allowed_list");
	__u64 mask[PSS_CPUMASK_BITS / 64];
	int n;

	ASSERT_NE(NULL, list);
	n = pss_parse_cpulist(list, mask, PSS_CPUMASK_BITS / 64);
	free(list);
	ASSERT_EQ(1, n);
	EXPECT_EQ(1, self->pi.nr_cpus_allowed);
	EXPECT_EQ(0, memcmp(mask, self->pi.cpus_allowed, sizeof(mask)));
	EXPECT_TRUE(!!(self->pi.cpus_allowed[cpu / 64] & (1ULL << (cpu % 64))))
		TH_LOG("pinned to cpu %d", cpu);
}

TEST_F(proc, memory)
{
	long pg = sysconf(_SC_PAGESIZE);
	long long rss = self->st.f[24] * pg;
	__u64 pss_rss = self->pi.rss_anon_bytes + self->pi.rss_file_bytes +
			self->pi.rss_shmem_bytes;
	/* rss counters are per-cpu batched: allow a little drift */
	long long slack = 2LL << 20;

	EXPECT_EQ(self->st.f[23], self->pi.vsize_bytes);
	EXPECT_LE(TGT_TOUCH + TGT_LOCK, self->pi.vsize_bytes);
	EXPECT_LE(TGT_TOUCH - (1UL << 20), self->pi.rss_anon_bytes);
	EXPECT_GT(rss + slack, (long long)pss_rss);
	EXPECT_LT(rss - slack, (long long)pss_rss);
	EXPECT_GT(pss_status_kb(self->t.pid, "RssAnon") + slack,
		  (long long)self->pi.rss_anon_bytes);
	EXPECT_LT(pss_status_kb(self->t.pid, "RssAnon") - slack,
		  (long long)self->pi.rss_anon_bytes);
	EXPECT_LE(self->pi.vsize_bytes, self->pi.hiwater_vm_bytes);
	EXPECT_EQ(pss_status_kb(self->t.pid, "VmPeak"), (long long)self->pi.hiwater_vm_bytes);
	EXPECT_LE(pss_rss - slack, self->pi.hiwater_rss_bytes);
	EXPECT_EQ(TGT_LOCK, self->pi.locked_bytes);
	EXPECT_EQ(pss_status_kb(self->t.pid, "VmLck"), (long long)self->pi.locked_bytes);
	EXPECT_EQ(pss_status_kb(self->t.pid, "VmPin"), (long long)self->pi.pinned_bytes);
	EXPECT_EQ(pss_status_kb(self->t.pid, "VmData"), (long long)self->pi.data_bytes);
	EXPECT_EQ(pss_status_kb(self->t.pid, "VmStk"), (long long)self->pi.stack_bytes);
	EXPECT_LE(pss_status_kb(self->t.pid, "VmExe"), (long long)self->pi.exec_bytes);
	EXPECT_LT(0, self->pi.exec_bytes);
}

TEST_F(proc, times)
{
	long tck = sysconf(_SC_CLK_TCK);
	__u64 tick_ns = 1000000000ULL / tck;
	__u64 now = pss_clock_ns(CLOCK_BOOTTIME);
	__u64 pss_cpu = self->pi.utime_ns + self->pi.stime_ns;
	__u64 proc_cpu = (self->st.f[14] + self->st.f[15]) * tick_ns;
	__u64 slack = 3 * tick_ns + proc_cpu / 10;

	/* the target burnt >= 100 ms */
	EXPECT_LE(90000000ULL, pss_cpu);
	EXPECT_GE(proc_cpu + slack, pss_cpu);
	EXPECT_LE(proc_cpu, pss_cpu + slack);
	EXPECT_GT(now, self->pi.start_boottime_ns);
	EXPECT_EQ(self->st.f[22], (long long)(self->pi.start_boottime_ns / tick_ns));
	EXPECT_LE(self->pi.utime_ns + self->pi.stime_ns,
		  now - self->pi.start_boottime_ns + tick_ns);
	/* >= one fault per touched page */
	EXPECT_LE(TGT_TOUCH / 4096, self->pi.min_flt);
	EXPECT_EQ(self->st.f[10], self->pi.min_flt);
	EXPECT_EQ(self->st.f[12], self->pi.maj_flt);
}

/* Nothing about the target moves between two captures of a stopped target. */
TEST_F(proc, stable_across_captures)
{
	struct pss_process_info again;
	int snap2 = ioc_capture_pid(self->dev, self->t.pid, 0);

	ASSERT_LE(0, snap2);
	ASSERT_EQ(0, pss_query_process(snap2, &again));
	EXPECT_EQ(self->pi.vsize_bytes, again.vsize_bytes);
	EXPECT_EQ(self->pi.start_boottime_ns, again.start_boottime_ns);
	EXPECT_EQ(self->pi.utime_ns + self->pi.stime_ns,
		  again.utime_ns + again.stime_ns);
	EXPECT_EQ(0, memcmp(self->pi.cpus_allowed, again.cpus_allowed,
			    sizeof(again.cpus_allowed)));
	EXPECT_STREQ(self->pi.exe_path, again.exe_path);
	close(snap2);
}

/* ------------------------------------------------ snapshot info, counts */

TEST_F(proc, snapshot_info)
{
	struct pss_snapshot_info si;
	__u64 b[3], a[3];
	struct pss_recs r;
	int snap;

	b[0] = pss_clock_ns(CLOCK_MONOTONIC);
	b[1] = pss_clock_ns(CLOCK_BOOTTIME);
	b[2] = pss_clock_ns(CLOCK_REALTIME);
	snap = ioc_capture_pid(self->dev, self->t.pid, PSS_FACETS_ALL);
	a[0] = pss_clock_ns(CLOCK_MONOTONIC);
	a[1] = pss_clock_ns(CLOCK_BOOTTIME);
	a[2] = pss_clock_ns(CLOCK_REALTIME);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_query_snapshot(snap, &si));
	EXPECT_EQ(sizeof(si), si.size);
	EXPECT_EQ(PSS_ABI_VERSION, si.abi_version);
	EXPECT_EQ(PSS_FACETS_ALL, si.facets);
	EXPECT_LE(b[0], si.cut_ns);
	EXPECT_GE(a[0], si.cut_ns);
	EXPECT_LE(b[1], si.cut_boottime_ns);
	EXPECT_GE(a[1], si.cut_boottime_ns);
	EXPECT_LE(b[2], si.cut_realtime_ns);
	EXPECT_GE(a[2], si.cut_realtime_ns);
	EXPECT_LT(0, si.memory_bytes);
	/* not asked per thread (nor with contexts at all) */
	EXPECT_EQ(0, si.capture_flags);
	/* a stopped target never makes the capture retry */
	EXPECT_EQ(0, si.retries);

	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_THREADS, &r)) TH_LOG("%s", pss_err);
	EXPECT_EQ(r.n, si.nr_threads);
	EXPECT_EQ(TGT_THREADS, si.nr_threads);
	pss_recs_free(&r);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_HANDLES, &r)) TH_LOG("%s", pss_err);
	EXPECT_EQ(r.n, si.nr_handles);
	pss_recs_free(&r);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_VA_SPACE, &r)) TH_LOG("%s", pss_err);
	EXPECT_EQ(r.n, si.nr_vmas);
	pss_recs_free(&r);
	close(snap);
}

TEST_F(proc, snapshot_info_no_facets)
{
	struct pss_snapshot_info si;
	int snap = ioc_capture_pid(self->dev, self->t.pid, 0);

	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_query_snapshot(snap, &si));
	EXPECT_EQ(0, si.facets);
	EXPECT_EQ(0, si.nr_threads);
	EXPECT_EQ(0, si.nr_handles);
	EXPECT_EQ(0, si.nr_vmas);
	close(snap);
}

static void check_counts(struct __test_metadata *_metadata, int snap,
			 __u32 qcls, __u32 wcls)
{
	struct pss_count_info ci;
	struct pss_recs r;
	__u64 max = 0;
	size_t i;

	ASSERT_EQ(0, pss_query_count(snap, qcls, &ci));
	EXPECT_EQ(sizeof(ci), ci.size);
	EXPECT_EQ(0, ci.reserved);
	ASSERT_EQ(0, pss_walk_all(snap, wcls, &r)) TH_LOG("%s", pss_err);
	for (i = 0; i < r.n; i++)
		if (*(__u32 *)r.rec[i] > max)
			max = *(__u32 *)r.rec[i];
	EXPECT_EQ(r.n, ci.count);
	EXPECT_EQ(r.bytes, ci.bytes);
	EXPECT_EQ(max, ci.max_rec_len);
	pss_recs_free(&r);
	/* a buffer of max_rec_len always makes progress */
	ASSERT_EQ(0, pss_walk_all_sz(snap, wcls, ci.max_rec_len ? ci.max_rec_len : 8, &r))
		TH_LOG("%s", pss_err);
	EXPECT_EQ(ci.count, r.n);
	pss_recs_free(&r);
}

TEST_F(proc, count_threads)
{
	check_counts(_metadata, self->snap, PSS_QUERY_THREADS, PSS_WALK_THREADS);
}

TEST_F(proc, count_handles)
{
	check_counts(_metadata, self->snap, PSS_QUERY_HANDLES, PSS_WALK_HANDLES);
}

TEST_F(proc, count_va_space)
{
	check_counts(_metadata, self->snap, PSS_QUERY_VA_SPACE, PSS_WALK_VA_SPACE);
}

TEST_F(proc, performance)
{
	struct pss_perf_info pf;
	int i;

	memset(&pf, 0xa5, sizeof(pf));
	ASSERT_EQ(0, ioc_query(self->snap, PSS_QUERY_PERFORMANCE, &pf, sizeof(pf), NULL));
	EXPECT_EQ(sizeof(pf), pf.size);
	EXPECT_EQ(0, pf.reserved);
	EXPECT_LT(0, pf.phase_ns[PSS_PHASE_TOTAL]);
	/* nothing takes a minute */
	EXPECT_GT(60000000000ULL, pf.phase_ns[PSS_PHASE_TOTAL]);
	for (i = 1; i < PSS_PHASE_NR; i++)
		EXPECT_GE(pf.phase_ns[PSS_PHASE_TOTAL], pf.phase_ns[i]) TH_LOG("phase %d", i);
	for (i = 0; i < PSS_LOCK_NR; i++)
		EXPECT_GE(pf.phase_ns[PSS_PHASE_TOTAL], pf.lock_held_ns[i]) TH_LOG("lock %d", i);
	/* all three locks were taken for an all-facets capture */
	EXPECT_LT(0, pf.lock_held_ns[PSS_LOCK_MMAP]);
	EXPECT_LT(0, pf.lock_held_ns[PSS_LOCK_FILES]);
	EXPECT_LT(0, pf.lock_held_ns[PSS_LOCK_SIGHAND]);
	/* unused slots are zero, not garbage */
	EXPECT_EQ(0, pf.phase_ns[7]);
	EXPECT_EQ(0, pf.lock_held_ns[3]);
}

/* ------------------------------------------------ exe deleted, self */

TEST(exe_deleted)
{
	struct pss_process_info pi;
	char src[PSS_PATH_MAX], dst[] = "/tmp/pss-exe-XXXXXX", link[PSS_PATH_MAX];
	char *argv[] = { dst, NULL };
	char *envp[] = { "PSS_TEST_PAUSE=1", NULL };
	size_t len;
	char *img;
	int fd, snap, status;
	pid_t pid;

	mkdir("/tmp", 01777);
	ASSERT_EQ(0, pss_readlink_fmt(src, sizeof(src), "/proc/self/exe"));
	img = pss_read_file(src, &len);
	ASSERT_NE(NULL, img);
	fd = mkstemp(dst);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)len, write(fd, img, len));
	free(img);
	ASSERT_EQ(0, fchmod(fd, 0755));
	close(fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execve(dst, argv, envp);
		_exit(127);
	}
	/* wait for the exec to have happened */
	for (;;) {
		if (!pss_readlink_fmt(link, sizeof(link), "/proc/%d/exe", pid) &&
		    !strcmp(link, dst))
			break;
		ASSERT_EQ(0, waitpid(pid, &status, WNOHANG));
		usleep(1000);
	}
	ASSERT_EQ(0, unlink(dst));
	snap = pss_capture1(pid, 0);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	ASSERT_EQ(0, pss_readlink_fmt(link, sizeof(link), "/proc/%d/exe", pid));
	EXPECT_TRUE(!!(pi.flags & PSS_PROC_EXE_DELETED));
	EXPECT_STREQ(link, pi.exe_path);
	EXPECT_EQ(strlen(link), pi.exe_path_len);
	close(snap);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

TEST(self_capture_running)
{
	struct pss_process_info pi;
	char link[PSS_PATH_MAX];
	int snap = pss_capture1(0, 0);

	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	ASSERT_EQ(0, pss_readlink_fmt(link, sizeof(link), "/proc/self/exe"));
	EXPECT_EQ(getpid(), pi.pid);
	EXPECT_EQ(getppid(), pi.ppid);
	EXPECT_EQ(getpgrp(), pi.pgid);
	EXPECT_EQ(getsid(0), pi.sid);
	EXPECT_EQ(getuid(), pi.ruid);
	EXPECT_EQ(geteuid(), pi.euid);
	EXPECT_EQ(getgid(), pi.rgid);
	EXPECT_EQ('R', pi.state);
	EXPECT_EQ(1, pi.nr_threads);
	EXPECT_STREQ(link, pi.exe_path);
	EXPECT_TRUE(!!(pi.flags & PSS_PROC_SELF));
	EXPECT_FALSE(!!(pi.flags & PSS_PROC_STOPPED));
	close(snap);
}

/* ------------------------------------------------ query errors */

FIXTURE(query) {
	int snap;		/* self, all facets */
	int bare;		/* self, no facets */
};

FIXTURE_SETUP(query)
{
	self->snap = pss_capture1(0, PSS_FACETS_ALL);
	ASSERT_LE(0, self->snap) TH_LOG("capture: %s", strerror(-self->snap));
	self->bare = pss_capture1(0, 0);
	ASSERT_LE(0, self->bare) TH_LOG("capture: %s", strerror(-self->bare));
}

FIXTURE_TEARDOWN(query)
{
	close(self->snap);
	close(self->bare);
}

static char qbuf[2 * sizeof(struct pss_process_info)];

static int raw_query(int snap, struct pss_query_args *q)
{
	return ioctl(snap, PSS_IOC_QUERY, q) < 0 ? -errno : 0;
}

static void query_init(struct pss_query_args *q, __u32 cls)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->query_class = cls;
	q->out = (uintptr_t)qbuf;
	q->out_size = sizeof(struct pss_process_info);
}

/* The facet each query class needs (0: every snapshot answers it). */
static const __u64 query_facet[PSS_QUERY_NR_CLASSES] = {
	[PSS_QUERY_THREADS]	= PSS_FACET_THREADS,
	[PSS_QUERY_HANDLES]	= PSS_FACET_HANDLES,
	[PSS_QUERY_VA_SPACE]	= PSS_FACET_VA_SPACE,
	[PSS_QUERY_PERFORMANCE]	= PSS_FACET_MEASURE_PERFORMANCE,
	[PSS_QUERY_AUXV]	= PSS_FACET_THREAD_CONTEXT,
	[PSS_QUERY_CONTEXTS]	= PSS_FACET_THREAD_CONTEXT,
	[PSS_QUERY_KSTACKS]	= PSS_FACET_THREAD_KSTACK,
	[PSS_QUERY_MEMORY]	= PSS_FACET_MEMORY,
};

/* Every class answers a snapshot of every facet. */
TEST_F(query, baseline_every_class)
{
	int dev = pss_open_dev(), snap;
	struct pss_query_args q;
	__u64 facets;
	__u32 c;

	ASSERT_LE(0, dev);
	facets = PSS_FACETS_ALL | PSS_FACETS_THREAD_STATE;
	snap = pss_capture_ts(dev, 0, facets);
	close(dev);
	ASSERT_LE(0, snap) TH_LOG("capture %#llx: %s", (unsigned long long)facets,
				  strerror(-snap));
	for (c = 0; c < PSS_QUERY_NR_CLASSES; c++) {
		query_init(&q, c);
		if ((facets & query_facet[c]) != query_facet[c]) {
			EXPECT_EQ(-ENODATA, raw_query(snap, &q)) TH_LOG("class %u", c);
			continue;
		}
		EXPECT_EQ(0, raw_query(snap, &q)) TH_LOG("class %u", c);
		EXPECT_LE(8, q.kernel_size);
		EXPECT_EQ(q.kernel_size, *(__u32 *)qbuf) TH_LOG("class %u", c);
	}
	close(snap);
}

TEST_F(query, bad_class)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_NR_CLASSES);
	EXPECT_EQ(-EINVAL, raw_query(self->snap, &q));
}

TEST_F(query, bad_class_huge)
{
	struct pss_query_args q;

	query_init(&q, 0xffffffff);
	EXPECT_EQ(-EINVAL, raw_query(self->snap, &q));
}

TEST_F(query, flags_nonzero)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_PROCESS);
	q.flags = 1;
	EXPECT_EQ(-EINVAL, raw_query(self->snap, &q));
}

TEST_F(query, reserved_nonzero)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_PROCESS);
	q.reserved = 1;
	EXPECT_EQ(-EINVAL, raw_query(self->snap, &q));
}

TEST_F(query, args_size_zero)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_PROCESS);
	q.size = 0;
	EXPECT_EQ(-EINVAL, raw_query(self->snap, &q));
}

TEST_F(query, args_size_too_small)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_PROCESS);
	q.size = PSS_QUERY_ARGS_SIZE_VER0 - 1;
	EXPECT_EQ(-EINVAL, raw_query(self->snap, &q));
}

TEST_F(query, args_trailing_nonzero_e2big)
{
	struct {
		struct pss_query_args q;
		__u64 future;
	} big;

	memset(&big, 0, sizeof(big));
	query_init(&big.q, PSS_QUERY_PROCESS);
	big.q.size = sizeof(big);
	big.future = 1;
	EXPECT_EQ(-E2BIG, raw_query(self->snap, &big.q));
}

TEST_F(query, args_trailing_zero_ok)
{
	struct {
		struct pss_query_args q;
		__u64 future[4];
	} big;

	memset(&big, 0, sizeof(big));
	query_init(&big.q, PSS_QUERY_PROCESS);
	big.q.size = sizeof(big);
	EXPECT_EQ(0, raw_query(self->snap, &big.q));
	EXPECT_EQ(sizeof(struct pss_process_info), big.q.kernel_size);
}

TEST_F(query, args_bad_pointer)
{
	EXPECT_EQ(-1, ioctl(self->snap, PSS_IOC_QUERY, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(query, out_bad_pointer)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_PROCESS);
	q.out = 8;
	EXPECT_EQ(-EFAULT, raw_query(self->snap, &q));
}

TEST_F(query, out_null)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_SNAPSHOT);
	q.out = 0;
	EXPECT_EQ(-EFAULT, raw_query(self->snap, &q));
}

TEST_F(query, out_readonly)
{
	void *ro = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pss_query_args q;

	ASSERT_NE(MAP_FAILED, ro);
	query_init(&q, PSS_QUERY_PROCESS);
	q.out = (uintptr_t)ro;
	EXPECT_EQ(-EFAULT, raw_query(self->snap, &q));
	munmap(ro, 8192);
}

TEST_F(query, out_size_zero)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_PROCESS);
	q.out_size = 0;
	EXPECT_EQ(-EINVAL, raw_query(self->snap, &q));
}

TEST_F(query, out_size_below_ver0_process)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_PROCESS);
	q.out_size = PSS_PROCESS_INFO_SIZE_VER0 - 1;
	EXPECT_EQ(-EINVAL, raw_query(self->snap, &q));
}

TEST_F(query, out_size_below_ver0_snapshot)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_SNAPSHOT);
	q.out_size = PSS_SNAPSHOT_INFO_SIZE_VER0 - 8;
	EXPECT_EQ(-EINVAL, raw_query(self->snap, &q));
}

TEST_F(query, out_size_below_ver0_count)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_THREADS);
	q.out_size = PSS_COUNT_INFO_SIZE_VER0 - 1;
	EXPECT_EQ(-EINVAL, raw_query(self->snap, &q));
}

TEST_F(query, out_size_below_ver0_perf)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_PERFORMANCE);
	q.out_size = PSS_PERF_INFO_SIZE_VER0 - 1;
	EXPECT_EQ(-EINVAL, raw_query(self->snap, &q));
}

TEST_F(query, out_size_exact_ver0)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_SNAPSHOT);
	q.out_size = PSS_SNAPSHOT_INFO_SIZE_VER0;
	EXPECT_EQ(0, raw_query(self->snap, &q));
}

/* A newer caller's bigger struct: its tail is zeroed, kernel_size says ours. */
TEST_F(query, out_size_bigger_tail_zeroed)
{
	struct pss_query_args q;
	size_t ks = sizeof(struct pss_process_info), i;
	bool tail_zero = true;

	memset(qbuf, 0xa5, sizeof(qbuf));
	query_init(&q, PSS_QUERY_PROCESS);
	q.out_size = ks + 64;
	ASSERT_EQ(0, raw_query(self->snap, &q));
	EXPECT_EQ(ks, q.kernel_size);
	EXPECT_EQ(ks, ((struct pss_process_info *)qbuf)->size);
	for (i = ks; i < ks + 64; i++)
		if (qbuf[i])
			tail_zero = false;
	EXPECT_TRUE(tail_zero);
	/* and not one byte beyond out_size */
	EXPECT_EQ((char)0xa5, qbuf[ks + 64]);
}

TEST_F(query, out_size_bigger_tail_zeroed_count)
{
	struct pss_query_args q;
	size_t i;
	bool tail_zero = true;

	memset(qbuf, 0xa5, sizeof(qbuf));
	query_init(&q, PSS_QUERY_THREADS);
	q.out_size = sizeof(struct pss_count_info) + 24;
	ASSERT_EQ(0, raw_query(self->snap, &q));
	EXPECT_EQ(sizeof(struct pss_count_info), q.kernel_size);
	for (i = sizeof(struct pss_count_info); i < q.out_size; i++)
		if (qbuf[i])
			tail_zero = false;
	EXPECT_TRUE(tail_zero);
	EXPECT_EQ((char)0xa5, qbuf[q.out_size]);
}

TEST_F(query, no_threads_facet_enodata)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_THREADS);
	EXPECT_EQ(-ENODATA, raw_query(self->bare, &q));
}

TEST_F(query, no_handles_facet_enodata)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_HANDLES);
	EXPECT_EQ(-ENODATA, raw_query(self->bare, &q));
}

TEST_F(query, no_va_space_facet_enodata)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_VA_SPACE);
	EXPECT_EQ(-ENODATA, raw_query(self->bare, &q));
}

TEST_F(query, no_performance_facet_enodata)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_PERFORMANCE);
	EXPECT_EQ(-ENODATA, raw_query(self->bare, &q));
}

TEST_F(query, bare_snapshot_has_process_and_snapshot)
{
	struct pss_query_args q;

	query_init(&q, PSS_QUERY_PROCESS);
	EXPECT_EQ(0, raw_query(self->bare, &q));
	query_init(&q, PSS_QUERY_SNAPSHOT);
	EXPECT_EQ(0, raw_query(self->bare, &q));
}

TEST_F(query, not_a_snapshot_fd_enotty)
{
	struct pss_query_args q;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, fd);
	query_init(&q, PSS_QUERY_PROCESS);
	EXPECT_EQ(-ENOTTY, raw_query(fd, &q));
	close(fd);
}

TEST_F(query, unknown_ioctl_on_snapshot_enotty)
{
	int dummy = 0;

	EXPECT_EQ(-1, ioctl(self->snap, _IOWR(PSS_IOC_MAGIC, 0x1f, int), &dummy));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->snap, PSS_IOC_VERSION, &dummy));
	EXPECT_EQ(ENOTTY, errno);
}

/* ------------------------------------------------ traced, leader exited */

static int idle_tgt(void *shared, void *arg)
{
	(void)shared;
	(void)arg;
	return 0;
}

TEST(traced_target)
{
	struct pss_process_info pi;
	struct pss_proc_stat st;
	struct pss_target t;
	char path[64];
	int status, snap;

	ASSERT_EQ(0, pss_target_start(&t, idle_tgt, NULL, 0, false)) TH_LOG("%s", pss_err);
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, t.pid, 0, 0));
	ASSERT_EQ(0, ptrace(PTRACE_INTERRUPT, t.pid, 0, 0));
	ASSERT_EQ(t.pid, waitpid(t.pid, &status, __WALL));
	ASSERT_TRUE(WIFSTOPPED(status));
	snap = pss_capture1(t.pid, 0);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	snprintf(path, sizeof(path), "/proc/%d/stat", t.pid);
	ASSERT_EQ(0, pss_parse_stat(path, &st));
	EXPECT_EQ('t', st.state);
	EXPECT_EQ(st.state, pi.state);
	EXPECT_TRUE(!!(pi.flags & PSS_PROC_TRACED));
	close(snap);
	pss_target_stop(&t);
}

static int g_ready_fd;

static void *survivor(void *arg)
{
	char c = 1;

	(void)arg;
	if (write(g_ready_fd, &c, 1) != 1)
		_exit(3);
	for (;;)
		pause();
	return NULL;
}

TEST(leader_exited)
{
	struct pss_process_info pi;
	struct pss_proc_stat st;
	struct pss_recs r;
	int p[2], snap, tries;
	char path[64], c;
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pthread_t th;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		g_ready_fd = p[1];
		if (pthread_create(&th, NULL, survivor, NULL))
			_exit(2);
		pthread_exit(NULL);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (tries = 0; tries < 5000; tries++) {
		ASSERT_EQ(0, pss_parse_stat(path, &st));
		if (st.state == 'Z')
			break;
		usleep(1000);
	}
	ASSERT_EQ('Z', st.state);
	/*
	 * The survivor signals readiness just before pause(): wait until it is
	 * asleep there, or the capture can catch it still running.
	 */
	{
		int *tids = NULL;
		size_t n = 0, k;

		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		ASSERT_EQ(0, pss_list_dir_ints(path, &tids, &n));
		for (k = 0; k < n; k++) {
			if (tids[k] == pid)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tids[k]);
			for (tries = 0; tries < 5000; tries++) {
				ASSERT_EQ(0, pss_parse_stat(path, &st));
				if (st.state == 'S')
					break;
				usleep(1000);
			}
		}
		free(tids);
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		ASSERT_EQ(0, pss_parse_stat(path, &st));
	}
	snap = pss_capture1(pid, PSS_FACET_THREADS);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	EXPECT_EQ(pid, pi.pid);
	EXPECT_TRUE(!!(pi.flags & PSS_PROC_LEADER_EXITED));
	EXPECT_FALSE(!!(pi.flags & PSS_PROC_ZOMBIE));
	EXPECT_EQ(st.state, pi.state);
	/* the exited leader is not a live thread: one thread, the survivor */
	EXPECT_EQ(1, pi.nr_threads);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_THREADS, &r)) TH_LOG("%s", pss_err);
	ASSERT_EQ(1, r.n);
	{
		struct pss_thread_entry *e = r.rec[0];
		int *tids = NULL;
		size_t n = 0;

		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		ASSERT_EQ(0, pss_list_dir_ints(path, &tids, &n));
		/* /proc lists the zombie leader and the survivor */
		ASSERT_EQ(2, n);
		EXPECT_EQ(tids[0] == pid ? tids[1] : tids[0], e->tid);
		EXPECT_NE(pid, e->tid);
		EXPECT_EQ('S', e->state);
		EXPECT_EQ(0, e->flags) TH_LOG("flags %#x", e->flags);
		free(tids);
	}
	pss_recs_free(&r);
	close(snap);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * Ids are translated into the caller's user namespace. The target sets
 * distinct raw ids, enters a new user namespace whose maps (written by us,
 * outside) cover some of them, and captures itself from inside: mapped ids
 * read as their inside values, unmapped ones as the overflow id - which the
 * test sets to 60123 for the while, so neither a raw id nor a hard-coded
 * 65534 can pass for it.
 */
#define UNS_OVERFLOW	60123

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return ret;
}

static int read_int_file(const char *path)
{
	char *s = pss_read_file(path, NULL);
	int v = s ? atoi(s) : -1;

	free(s);
	return v;
}

TEST(uid_gid_in_user_namespace)
{
	int ready[2], go[2], res[2], status, snap, ovu, ovg;
	struct pss_process_info pi, inside;
	char path[64], c;
	pid_t pid;

	ovu = read_int_file("/proc/sys/kernel/overflowuid");
	ovg = read_int_file("/proc/sys/kernel/overflowgid");
	ASSERT_LT(0, ovu);
	ASSERT_LT(0, ovg);
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(res, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int sn;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setgroups(0, NULL) || setresgid(1000, 4000, 3000) ||
		    setresuid(1000, 2000, 3000))
			_exit(10);
		if (unshare(CLONE_NEWUSER))
			_exit(11);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(12);
		sn = pss_capture1(0, 0);
		if (sn < 0 || pss_query_process(sn, &inside))
			_exit(13);
		if (write(res[1], &inside, sizeof(inside)) != sizeof(inside))
			_exit(14);
		(void)!read(go[0], &c, 1);	/* until we have looked at it */
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* outside: the raw ids */
	snap = pss_capture1(pid, 0);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	close(snap);
	EXPECT_EQ(1000, pi.ruid);
	EXPECT_EQ(2000, pi.euid);
	EXPECT_EQ(3000, pi.suid);
	EXPECT_EQ(2000, pi.fsuid);
	EXPECT_EQ(1000, pi.rgid);
	EXPECT_EQ(4000, pi.egid);
	EXPECT_EQ(3000, pi.sgid);
	EXPECT_EQ(4000, pi.fsgid);
	/* inside: 1000 -> 0, 2000 -> 5, 4000 -> 7; 3000 unmapped */
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	ASSERT_EQ(0, write_str(path, "0 1000 1\n5 2000 1\n"));
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	ASSERT_EQ(0, write_str(path, "0 1000 1\n7 4000 1\n"));
	ASSERT_EQ(0, write_str("/proc/sys/kernel/overflowuid", "60123"));
	ASSERT_EQ(0, write_str("/proc/sys/kernel/overflowgid", "60123"));
	EXPECT_EQ(1, write(go[1], "g", 1));
	memset(&inside, 0, sizeof(inside));
	EXPECT_EQ(sizeof(inside), read(res[0], &inside, sizeof(inside)));
	snprintf(path, sizeof(path), "%d", ovu);
	EXPECT_EQ(0, write_str("/proc/sys/kernel/overflowuid", path));
	snprintf(path, sizeof(path), "%d", ovg);
	EXPECT_EQ(0, write_str("/proc/sys/kernel/overflowgid", path));
	EXPECT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("target in the user namespace: status %#x", status);
	EXPECT_EQ(0, inside.ruid);
	EXPECT_EQ(5, inside.euid);
	EXPECT_EQ(UNS_OVERFLOW, inside.suid);
	EXPECT_EQ(5, inside.fsuid);
	EXPECT_EQ(0, inside.rgid);
	EXPECT_EQ(7, inside.egid);
	EXPECT_EQ(UNS_OVERFLOW, inside.sgid);
	EXPECT_EQ(7, inside.fsgid);
	/* the pid namespace did not change: pids are not translated away */
	EXPECT_EQ(pid, inside.pid);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	close(res[0]);
	close(res[1]);
}

TEST_HARNESS_MAIN
