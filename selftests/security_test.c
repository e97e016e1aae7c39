// SPDX-License-Identifier: GPL-2.0
/*
 * Security and bounds: /dev/pss is open to every local user.
 *
 * - container_*: root of a user namespace ("container root") against host
 *   processes that entered its namespace with setns(), one dumpable, one
 *   not (prctl(PR_SET_DUMPABLE, 0), as runc exec does): by default both are
 *   EPERM; with userns_capture the dumpable one is allowed and the other
 *   is still EPERM (its mm belongs to the initial namespace); host root is
 *   allowed both.
 * - tid_of_exiting_threads: capture by the tid of a thread that exits with
 *   its whole process, thousands of times (KASAN on the debug kernel).
 * - live_process_has_mm: a process whose leader exits while a thread
 *   lives is never captured without its address space.
 * - names_once: one file with a 3.8 KiB path mapped 20,000 times costs one
 *   copy of the path, not 20,000.
 * - limits: PSS_IOC_VERSION reports the parameters; max_snapshot_bytes
 *   gives ENOBUFS; max_user_bytes and max_total_bytes give EDQUOT, count
 *   held snapshots, and are per uid / global.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "pss_invariants.h"
#include "kselftest_harness.h"

#define PARAM(name) "/sys/module/pss/parameters/" name
#define NOBODY 65534

static int write_param(const char *path, unsigned long long val)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CLOEXEC), len, ok;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%llu", val);
	ok = write(fd, buf, len) == len;
	close(fd);
	return ok ? 0 : -EIO;
}

static int write_param_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -EIO;
}

static unsigned long long read_param(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	(void)!read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return strtoull(buf, NULL, 0);
}

static int get_version(int dev, struct pss_version *v)
{
	memset(v, 0, sizeof(*v));
	v->size = sizeof(*v);
	return ioctl(dev, PSS_IOC_VERSION, v) ? -errno : 0;
}

/* ------------------------------------------------------- containers */

/* A child that waits for a byte on @fd (or its parent's death), then exits. */
static pid_t spawn_waiter(int fd, int (*setup)(void *), void *arg, int ready)
{
	pid_t p = fork();
	char c = 0;

	if (p)
		return p;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (setup && setup(arg))
		c = 1;
	(void)!write(ready, &c, 1);
	(void)!read(fd, &c, 1);
	_exit(0);
}

struct enter_ns {
	const char *ns_path;
	bool nondumpable;
};

/* A host process entering a container's user namespace, runc-exec style. */
static int enter_userns(void *arg)
{
	const struct enter_ns *e = arg;
	int fd;

	if (e->nondumpable && prctl(PR_SET_DUMPABLE, 0))
		return -1;
	fd = open(e->ns_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWUSER))
		return -1;
	close(fd);
	return 0;
}

/*
 * Container root: a process that unshared its user namespace (full
 * capabilities there, none in the initial one). It tells the parent
 * (@ready) once the namespace exists, reads the two target pids (@go),
 * captures each. Exit status: bit 0 set if the first was allowed, bit 1
 * if the second was; 0x80 on anything but success or EPERM.
 */
static int container_root(int go, int ready)
{
	int dev, snap, res = 0, i;
	pid_t pids[2];

	dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	if (dev < 0 || unshare(CLONE_NEWUSER))
		return 0x80;
	(void)!write(ready, "u", 1);
	if (read(go, pids, sizeof(pids)) != sizeof(pids))
		return 0x80;
	for (i = 0; i < 2; i++) {
		snap = pssi_capture(dev, pids[i], -1, PSS_FACETS_ALL);
		if (snap >= 0) {
			res |= 1 << i;
			close(snap);
		} else if (snap != -EPERM) {
			fprintf(stderr, "# container root capturing %d: %s\n",
				pids[i], strerror(-snap));
			res |= 0x80;
		}
	}
	return res;
}

struct scene {
	int verdict;		/* container root's bits: 1 N allowed, 2 D */
	int root_n, root_d;	/* host root capturing N, D: 0 or -errno */
};

/*
 * A container root C, a host process N that entered C's user namespace
 * non-dumpable and D that entered it dumpable; C captures N and D, and so
 * does host root (this test).
 */
static int container_scene(struct scene *sc)
{
	int c_go[2], c_ready[2], w_go[2], w_ready[2], status, dev, snap;
	struct enter_ns en = { .nondumpable = true }, ed = { .nondumpable = false };
	char path[64], c, c2;
	pid_t cr, n, d, pids[2];

	if (pipe(c_go) || pipe(c_ready) || pipe(w_go) || pipe(w_ready))
		return -1;
	cr = fork();
	if (cr < 0)
		return -1;
	if (cr == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(container_root(c_go[0], c_ready[1]));
	}
	if (read(c_ready[0], &c, 1) != 1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", cr);
	en.ns_path = path;
	ed.ns_path = path;
	n = spawn_waiter(w_go[0], enter_userns, &en, w_ready[1]);
	d = spawn_waiter(w_go[0], enter_userns, &ed, w_ready[1]);
	if (n < 0 || d < 0 || read(w_ready[0], &c, 1) != 1 ||
	    read(w_ready[0], &c2, 1) != 1 || c || c2)
		return -1;
	pids[0] = n;
	pids[1] = d;
	if (write(c_go[1], pids, sizeof(pids)) != sizeof(pids))
		return -1;
	if (waitpid(cr, &status, 0) != cr || !WIFEXITED(status))
		return -1;
	sc->verdict = WEXITSTATUS(status);

	dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	snap = pssi_capture(dev, n, -1, PSS_FACETS_ALL);
	sc->root_n = snap < 0 ? snap : 0;
	if (snap >= 0)
		close(snap);
	snap = pssi_capture(dev, d, -1, PSS_FACETS_ALL);
	sc->root_d = snap < 0 ? snap : 0;
	if (snap >= 0)
		close(snap);
	close(dev);
	(void)!write(w_go[1], "qq", 2);
	waitpid(n, NULL, 0);
	waitpid(d, NULL, 0);
	close(c_go[0]); close(c_go[1]); close(c_ready[0]); close(c_ready[1]);
	close(w_go[0]); close(w_go[1]); close(w_ready[0]); close(w_ready[1]);
	return 0;
}

TEST(container_root_default_policy)
{
	struct scene sc;

	ASSERT_EQ(0, write_param_str(PARAM("userns_capture"), "N"));
	ASSERT_EQ(0, container_scene(&sc));
	/* CAP_SYS_PTRACE over a child namespace is not enough: neither */
	EXPECT_EQ(0, sc.verdict) TH_LOG("container root: non-dumpable %s, dumpable %s",
					sc.verdict & 1 ? "allowed" : "refused",
					sc.verdict & 2 ? "allowed" : "refused");
	EXPECT_EQ(0, sc.root_n);
	EXPECT_EQ(0, sc.root_d);
}

TEST(container_root_userns_capture)
{
	struct scene sc;
	int ret;

	ASSERT_EQ(0, write_param_str(PARAM("userns_capture"), "Y"));
	ret = container_scene(&sc);
	ASSERT_EQ(0, write_param_str(PARAM("userns_capture"), "N"));
	ASSERT_EQ(0, ret);
	/* the dumpable one only: the other's mm is the initial namespace's */
	EXPECT_EQ(2, sc.verdict) TH_LOG("container root: non-dumpable %s, dumpable %s",
					sc.verdict & 1 ? "allowed" : "refused",
					sc.verdict & 2 ? "allowed" : "refused");
	EXPECT_EQ(0, sc.root_n);
	EXPECT_EQ(0, sc.root_d);
}

/* An unprivileged user gets EPERM for another process, even its own uid's. */
TEST(unprivileged_other_process)
{
	int go[2], status;
	pid_t sib, p;

	ASSERT_EQ(0, pipe(go));
	sib = fork();
	ASSERT_LE(0, sib);
	if (sib == 0) {
		char c;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(1);
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	p = fork();
	ASSERT_LE(0, p);
	if (p == 0) {
		int dev;

		if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(10);
		dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		if (dev < 0)
			_exit(11);
		/* the same uid, dumpable: still not ours */
		if (pssi_capture(dev, sib, -1, 0) != -EPERM)
			_exit(12);
		if (pssi_capture(dev, getppid(), -1, 0) != -EPERM)
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(p, waitpid(p, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(1, write(go[1], "q", 1));
	waitpid(sib, NULL, 0);
}

/* ------------------------------------------------ target resolution */

/* Tests that need more than the harness's 30 s on a debug kernel. */
FIXTURE(slow) {
	int dev;
};

FIXTURE_SETUP(slow)
{
	self->dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(slow)
{
	close(self->dev);
}

static void *report_and_exit(void *arg)
{
	int fd = *(int *)arg;
	pid_t tid = pssi_gettid();

	(void)!write(fd, &tid, sizeof(tid));
	return NULL;
}

/*
 * Capture by the tid of a thread that exits with its whole process, both
 * it and its leader released as they exit (SIGCHLD ignored: nobody waits),
 * racing with the capture's lookup. Before the fix the capture read the
 * dead thread's group_leader with nothing keeping the leader alive: KASAN
 * on the debug kernel. Every result must be a snapshot of that process or
 * ESRCH.
 */
TEST_F_TIMEOUT(slow, tid_of_exiting_threads, 300)
{
	int dev = self->dev, i, n = 1000;
	int ok = 0, gone = 0;

	ASSERT_NE(SIG_ERR, signal(SIGCHLD, SIG_IGN));
	for (i = 0; i < n; i++) {
		int p[2], snap;
		pid_t child, tid;

		ASSERT_EQ(0, pipe(p));
		child = fork();
		ASSERT_LE(0, child);
		if (child == 0) {
			pthread_t th;

			pthread_create(&th, NULL, report_and_exit, &p[1]);
			pthread_join(th, NULL);
			_exit(0);
		}
		close(p[1]);
		ASSERT_EQ(sizeof(tid), read(p[0], &tid, sizeof(tid)));
		close(p[0]);
		snap = pssi_capture(dev, tid, -1, PSS_FACETS_ALL);
		if (snap >= 0) {
			struct pss_process_info pi;

			ASSERT_EQ(0, ioc_query(snap, PSS_QUERY_PROCESS, &pi, sizeof(pi), NULL));
			EXPECT_EQ(child, pi.pid);
			close(snap);
			ok++;
		} else {
			ASSERT_EQ(-ESRCH, snap);
			gone++;
		}
	}
	signal(SIGCHLD, SIG_DFL);
	PSSI_LOG("%d captures by a dying tid: %d snapshots, %d ESRCH", n, ok, gone);
}

static void *linger(void *arg)
{
	(void)arg;
	usleep(20000);
	return NULL;
}

/*
 * A process whose leader exits (pthread_exit) while another thread lives
 * still has its address space: a capture must never show a thread that is
 * not exiting in a process without one. (Once every thread is exiting, the
 * mm may be gone before the last one is a zombie: that is not a live
 * process any more.)
 */
TEST_F_TIMEOUT(slow, live_process_has_mm, 300)
{
	int dev = self->dev, i, j;
	int seen = 0;

	for (i = 0; i < 200; i++) {
		pid_t child = fork();

		ASSERT_LE(0, child);
		if (child == 0) {
			pthread_t th;

			pthread_create(&th, NULL, linger, NULL);
			pthread_exit(NULL);
		}
		for (j = 0; j < 20; j++) {
			const uint64_t facets = PSS_FACET_VA_SPACE | PSS_FACET_THREADS;
			struct pssi_opts o = { .facets = facets, .no_nr_threads = true };
			struct pssi_snap sn;
			struct pss_process_info pi;
			int snap = pssi_capture(dev, child, -1, facets);
			size_t k, running = 0;

			if (snap < 0) {
				ASSERT_EQ(-ESRCH, snap);
				break;
			}
			memset(&sn, 0, sizeof(sn));
			ASSERT_EQ(0, pssi_load(snap, &o, &sn)) TH_LOG("%s", pssi_errmsg);
			close(snap);
			pi = sn.pi;
			for (k = 0; k < sn.r[PSS_WALK_THREADS].n; k++)
				if (!(((const struct pss_thread_entry *)
				       pssi_rec(&sn.r[PSS_WALK_THREADS], k))->flags &
				      PSS_THREAD_EXITING))
					running++;
			pssi_snap_free(&sn);
			if (pi.flags & PSS_PROC_ZOMBIE)
				break;
			if (!running)
				continue;
			seen++;
			ASSERT_TRUE(pi.mask & PSS_PROC_HAS_MM)
				TH_LOG("process %d with %zu threads not exiting, flags %#x, has no mm",
				       child, running, pi.flags);
		}
		waitpid(child, NULL, 0);
	}
	PSSI_LOG("%d captures of live processes whose leader was exiting", seen);
}

/* ---------------------------------------------------------- memory */

/*
 * One file whose path is 3.8 KiB, mapped @n times (each mapping at offset
 * 0, so no two merge): the snapshot keeps the path once.
 */
/* Mapping 20,000 VMAs takes long under KASAN: more than the default 30 s. */
TEST_F_TIMEOUT(slow, names_once, 300)
{
	const int n = 20000, depth = 15;
	char comp[255], path[4096] = "/tmp";
	struct pss_snapshot_info si;
	struct pss_count_info ci;
	int fd, i, dev, snap;
	size_t len;

	memset(comp, 'd', sizeof(comp) - 1);
	comp[sizeof(comp) - 1] = '\0';
	for (i = 0; i < depth; i++) {
		len = strlen(path);
		snprintf(path + len, sizeof(path) - len, "/%s", comp);
		ASSERT_EQ(0, mkdir(path, 0700) && errno != EEXIST ? -1 : 0);
	}
	len = strlen(path);
	snprintf(path + len, sizeof(path) - len, "/f");
	len = strlen(path);
	ASSERT_LT(3800, len);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4096));
	for (i = 0; i < n; i++)
		ASSERT_NE(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0));
	dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, dev);
	snap = pssi_capture(dev, 0, -1, PSS_FACET_VA_SPACE | PSS_FACET_VA_SPACE_SECTION);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, ioc_query(snap, PSS_QUERY_SNAPSHOT, &si, sizeof(si), NULL));
	ASSERT_EQ(0, ioc_query(snap, PSS_QUERY_VA_SPACE, &ci, sizeof(ci), NULL));
	EXPECT_LE(n, ci.count);
	/* the walk still writes the name into every record */
	EXPECT_LE((uint64_t)n * (sizeof(struct pss_vma_entry) + len + 1), ci.bytes);
	/*
	 * Kept: a fixed record and a name reference per VMA, the name once,
	 * and some slack for the other VMAs' names and allocation rounding.
	 */
	EXPECT_GT((uint64_t)si.nr_vmas * 128 + (1 << 20), si.memory_bytes)
		TH_LOG("%llu bytes of kernel memory for %llu VMAs",
		       (unsigned long long)si.memory_bytes,
		       (unsigned long long)si.nr_vmas);
	PSSI_LOG("%llu VMAs, %llu bytes to walk, %llu bytes of kernel memory",
		 (unsigned long long)si.nr_vmas, (unsigned long long)ci.bytes,
		 (unsigned long long)si.memory_bytes);
	close(snap);
	close(dev);
	close(fd);
}

/* The bytes one self-capture of @facets holds, measured. */
static uint64_t snapshot_bytes(int dev, uint64_t facets)
{
	struct pss_snapshot_info si;
	int snap = pssi_capture(dev, 0, -1, facets);

	if (snap < 0 || ioc_query(snap, PSS_QUERY_SNAPSHOT, &si, sizeof(si), NULL))
		return 0;
	close(snap);
	return si.memory_bytes;
}

FIXTURE(limits) {
	unsigned long long snap_max, user_max, total_max;
	int dev;
};

FIXTURE_SETUP(limits)
{
	self->snap_max = read_param(PARAM("max_snapshot_bytes"));
	self->user_max = read_param(PARAM("max_user_bytes"));
	self->total_max = read_param(PARAM("max_total_bytes"));
	ASSERT_NE(0, self->snap_max);
	ASSERT_NE(0, self->user_max);
	ASSERT_NE(0, self->total_max);
	self->dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	{
		struct pss_version v;

		ASSERT_EQ(0, get_version(self->dev, &v));
		PSSI_LOG("held now: %llu bytes by this uid, %llu in all",
			 (unsigned long long)v.user_bytes,
			 (unsigned long long)v.total_bytes);
	}
}

FIXTURE_TEARDOWN(limits)
{
	write_param(PARAM("max_snapshot_bytes"), self->snap_max);
	write_param(PARAM("max_user_bytes"), self->user_max);
	write_param(PARAM("max_total_bytes"), self->total_max);
	close(self->dev);
}

/*
 * Every failed capture gives back every byte it charged: sweep
 * max_snapshot_bytes over the sizes a capture passes through, so that each
 * allocation in turn is the one that fails, and after each attempt the
 * bytes held are what they were before.
 */
TEST_F(limits, failures_leave_no_charge)
{
	uint64_t one = snapshot_bytes(self->dev, PSS_FACETS_ALL), limit;
	struct pss_version v0, v;
	int snap, fails = 0;

	ASSERT_NE(0, one);
	ASSERT_EQ(0, get_version(self->dev, &v0));
	for (limit = 1024; limit < one * 4; limit += limit / 16) {
		ASSERT_EQ(0, write_param(PARAM("max_snapshot_bytes"), limit));
		snap = pssi_capture(self->dev, 0, -1, PSS_FACETS_ALL);
		if (snap >= 0)
			close(snap);
		else
			ASSERT_EQ(-ENOBUFS, snap) TH_LOG("limit %llu", (unsigned long long)limit);
		fails += snap < 0;
		ASSERT_EQ(0, get_version(self->dev, &v));
		ASSERT_EQ(v0.total_bytes, v.total_bytes)
			TH_LOG("capture with limit %llu (%s) left %lld bytes charged",
			       (unsigned long long)limit, snap < 0 ? "failed" : "succeeded",
			       (long long)(v.total_bytes - v0.total_bytes));
		ASSERT_EQ(v0.user_bytes, v.user_bytes);
	}
	EXPECT_LT(5, fails);
	/* the same through EDQUOT */
	ASSERT_EQ(0, write_param(PARAM("max_snapshot_bytes"), self->snap_max));
	for (limit = v0.user_bytes + 1024; limit < v0.user_bytes + one * 4; limit += limit / 16) {
		ASSERT_EQ(0, write_param(PARAM("max_user_bytes"), limit));
		snap = pssi_capture(self->dev, 0, -1, PSS_FACETS_ALL);
		if (snap >= 0)
			close(snap);
		else
			ASSERT_EQ(-EDQUOT, snap);
		ASSERT_EQ(0, get_version(self->dev, &v));
		ASSERT_EQ(v0.total_bytes, v.total_bytes)
			TH_LOG("capture with user limit %llu left %lld bytes charged",
			       (unsigned long long)limit,
			       (long long)(v.total_bytes - v0.total_bytes));
	}
}

TEST_F(limits, version_reports_parameters)
{
	struct pss_version v;

	ASSERT_EQ(0, get_version(self->dev, &v));
	EXPECT_EQ(self->snap_max, v.max_snapshot_bytes);
	EXPECT_EQ(self->user_max, v.max_user_bytes);
	EXPECT_EQ(self->total_max, v.max_total_bytes);
	ASSERT_EQ(0, write_param(PARAM("max_snapshot_bytes"), 123456789));
	ASSERT_EQ(0, write_param(PARAM("max_user_bytes"), 223456789));
	ASSERT_EQ(0, write_param(PARAM("max_total_bytes"), 323456789));
	ASSERT_EQ(0, get_version(self->dev, &v));
	EXPECT_EQ(123456789, v.max_snapshot_bytes);
	EXPECT_EQ(223456789, v.max_user_bytes);
	EXPECT_EQ(323456789, v.max_total_bytes);
	/* an old caller's VER0 struct: its size, nothing beyond it touched */
	{
		char buf[PSS_VERSION_SIZE_VER1];
		struct pss_version *o = (struct pss_version *)buf;

		memset(buf, 0xa5, sizeof(buf));
		memset(buf, 0, PSS_VERSION_SIZE_VER0);
		o->size = PSS_VERSION_SIZE_VER0;
		ASSERT_EQ(0, ioctl(self->dev, PSS_IOC_VERSION, buf));
		EXPECT_EQ(123456789, o->max_snapshot_bytes);
		for (size_t i = PSS_VERSION_SIZE_VER0; i < sizeof(buf); i++)
			ASSERT_EQ(0xa5, (unsigned char)buf[i]);
	}
}

TEST_F(limits, enobufs_per_snapshot)
{
	uint64_t need = snapshot_bytes(self->dev, PSS_FACETS_ALL);
	int snap;

	ASSERT_NE(0, need);
	ASSERT_EQ(0, write_param(PARAM("max_snapshot_bytes"), need / 2));
	EXPECT_EQ(-ENOBUFS, pssi_capture(self->dev, 0, -1, PSS_FACETS_ALL));
	EXPECT_EQ(-ENOBUFS, pssi_capture(self->dev, 1, -1, PSS_FACETS_ALL));
	ASSERT_EQ(0, write_param(PARAM("max_snapshot_bytes"), 4096));
	EXPECT_EQ(-ENOBUFS, pssi_capture(self->dev, 0, -1, 0));
	ASSERT_EQ(0, write_param(PARAM("max_snapshot_bytes"), self->snap_max));
	snap = pssi_capture(self->dev, 0, -1, PSS_FACETS_ALL);
	EXPECT_LE(0, snap);
	close(snap);
}

/* Capture ourselves and keep the snapshots until one is refused. */
static int hold_until_refused(int dev, int *held, int max, int *nheld)
{
	int snap;

	for (*nheld = 0; *nheld < max; ) {
		snap = pssi_capture(dev, 0, -1, PSS_FACETS_ALL);
		if (snap < 0)
			return snap;
		held[(*nheld)++] = snap;
	}
	return 0;
}

/* In a child as nobody: a self-capture's result (0 or -errno). */
static int nobody_capture(int dev)
{
	int status;
	pid_t p = fork();

	if (p < 0)
		return -EAGAIN;
	if (p == 0) {
		int s;

		if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(255);
		s = pssi_capture(dev, 0, -1, PSS_FACETS_ALL);
		_exit(s >= 0 ? 0 : -s);
	}
	if (waitpid(p, &status, 0) != p || !WIFEXITED(status))
		return -EAGAIN;
	return -WEXITSTATUS(status);
}

/*
 * max_user_bytes: root holds snapshots until EDQUOT; what it holds counts
 * (closing one makes room for exactly one more); nobody, another uid, is
 * not affected; nothing held, the quota is whole again.
 */
TEST_F(limits, edquot_per_user)
{
	uint64_t one = snapshot_bytes(self->dev, PSS_FACETS_ALL);
	int held[32], nheld, snap;
	struct pss_version v;

	ASSERT_NE(0, one);
	ASSERT_EQ(0, write_param(PARAM("max_user_bytes"), one * 8));
	EXPECT_EQ(-EDQUOT, hold_until_refused(self->dev, held, 32, &nheld));
	EXPECT_LE(1, nheld);
	ASSERT_EQ(0, get_version(self->dev, &v));
	EXPECT_LE(nheld * one, v.user_bytes);
	EXPECT_GE(one * 8, v.user_bytes);
	EXPECT_EQ(0, nobody_capture(self->dev)) TH_LOG("nobody refused while root is at its quota");
	/* closing one gives its bytes back: one more fits, not two */
	close(held[--nheld]);
	snap = pssi_capture(self->dev, 0, -1, PSS_FACETS_ALL);
	EXPECT_LE(0, snap) TH_LOG("after closing a snapshot: %s", strerror(-snap));
	if (snap >= 0)
		held[nheld++] = snap;
	EXPECT_EQ(-EDQUOT, pssi_capture(self->dev, 0, -1, PSS_FACETS_ALL));
	while (nheld)
		close(held[--nheld]);
	ASSERT_EQ(0, get_version(self->dev, &v));
	EXPECT_EQ(0, v.user_bytes);
	snap = pssi_capture(self->dev, 0, -1, PSS_FACETS_ALL);
	EXPECT_LE(0, snap) TH_LOG("every snapshot closed: %s", strerror(-snap));
	if (snap >= 0)
		close(snap);
}

/* max_total_bytes: root's snapshots leave no room for nobody's either. */
TEST_F(limits, edquot_total)
{
	uint64_t one = snapshot_bytes(self->dev, PSS_FACETS_ALL);
	int held[32], nheld;

	ASSERT_NE(0, one);
	ASSERT_EQ(0, write_param(PARAM("max_total_bytes"), one * 8));
	EXPECT_EQ(-EDQUOT, hold_until_refused(self->dev, held, 32, &nheld));
	EXPECT_LE(1, nheld);
	EXPECT_EQ(-EDQUOT, nobody_capture(self->dev));
	close(held[--nheld]);
	EXPECT_EQ(0, nobody_capture(self->dev)) TH_LOG("root closed one, nobody still refused");
	while (nheld)
		close(held[--nheld]);
}

TEST_HARNESS_MAIN
