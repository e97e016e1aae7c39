// SPDX-License-Identifier: GPL-2.0
/*
 * Privilege: /dev/pss is a 0666 character device (anyone may open it; the
 * module's policy does the gating). As nobody (uid/gid 65534, no groups, no
 * capabilities): capturing your own process - by 0, by pid, by pidfd, by
 * the tid of another of your threads - is allowed; every other process is
 * EPERM: root's (the parent, pid 1) and another nobody process alike,
 * since the rule is CAP_SYS_PTRACE, not uid equality. Root without
 * CAP_SYS_PTRACE in its effective set is refused too, and allowed again
 * when it raises it. Kernel threads are EPERM even for root. In a new user
 * namespace nobody owns, nobody may capture its own child there only with
 * the userns_capture parameter on, and pid 1 never. A snapshot fd obtained
 * with privilege keeps working after the privilege is dropped (the check
 * is at capture time). The container cases are in security_test.c.
 */
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "pss_invariants.h"
#include "kselftest_harness.h"

#define NOBODY 65534

static int drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -errno;
	return 0;
}

static int capset_effective(uint64_t eff, uint64_t perm)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = (uint32_t)eff;
	d[1].effective = (uint32_t)(eff >> 32);
	d[0].permitted = (uint32_t)perm;
	d[1].permitted = (uint32_t)(perm >> 32);
	d[0].inheritable = 0;
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static int capget_all(uint64_t *eff, uint64_t *perm)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	return 0;
}

/* the pid of some kernel thread other than kthreadd, or 2 */
static pid_t a_kthread(void)
{
	pid_t p;

	for (p = 3; p < 200; p++) {
		char path[64], buf[512];
		int fd;
		ssize_t n;
		char *rp;
		unsigned long flags;

		snprintf(path, sizeof(path), "/proc/%d/stat", p);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		rp = strrchr(buf, ')');
		/* fields after ')': state ppid pgrp session tty tpgid flags */
		if (rp && sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) == 1 &&
		    (flags & 0x00200000))	/* PF_KTHREAD */
			return p;
	}
	return 2;
}

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

TEST(dev_node_is_0666_char_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(PSS_DEVICE_PATH, &st)) TH_LOG("%s: %s", PSS_DEVICE_PATH,
							strerror(errno));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

TEST(kernel_threads_refused_even_for_root)
{
	int dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC), pidfd;
	pid_t kt = a_kthread();

	ASSERT_LE(0, dev);
	ASSERT_EQ(0, geteuid());
	EXPECT_EQ(-EPERM, pssi_capture(dev, 2, -1, 0));
	EXPECT_EQ(-EPERM, pssi_capture(dev, kt, -1, PSS_FACETS_ALL)) TH_LOG("kthread %d", kt);
	pidfd = pssi_pidfd_open(kt);
	if (pidfd >= 0) {
		EXPECT_EQ(-EPERM, pssi_capture(dev, 0, pidfd, PSS_FACETS_ALL));
		close(pidfd);
	}
	close(dev);
}

TEST(nobody_self_only)
{
	int dev, parent_fd, sib_fd, self_fd, snap, go[2];
	struct pssi_opts o = { .facets = PSS_FACETS_ALL, .self = true,
			       .tid_mode = PSSI_TID_STRICT };
	pid_t parent = getppid(), sib, tid = 0;
	pthread_t th;
	uint64_t eff, perm;

	/* a sibling that is nobody too: same uid, still not ours to capture */
	ASSERT_EQ(0, pipe(go));
	sib = fork();
	ASSERT_LE(0, sib);
	if (sib == 0) {
		char c;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (drop_to_nobody())
			_exit(1);
		close(go[1]);
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	parent_fd = pssi_pidfd_open(parent);
	sib_fd = pssi_pidfd_open(sib);
	ASSERT_LE(0, parent_fd);
	ASSERT_LE(0, sib_fd);

	ASSERT_EQ(0, drop_to_nobody());
	ASSERT_EQ(NOBODY, geteuid());
	ASSERT_EQ(0, capget_all(&eff, &perm));
	ASSERT_EQ(0, eff) TH_LOG("nobody still has capabilities %#llx",
				 (unsigned long long)eff);

	dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, dev) TH_LOG("nobody cannot open %s: %s", PSS_DEVICE_PATH,
				 strerror(errno));

	/* own process: all the ways of naming it */
	ASSERT_EQ(0, pthread_create(&th, NULL, idle, NULL));
	{
		/* find the other thread's tid */
		char path[64];
		DIR *d;
		struct dirent *de;

		snprintf(path, sizeof(path), "/proc/%d/task", getpid());
		while (!tid) {
			d = opendir(path);
			ASSERT_NE(NULL, d);
			while ((de = readdir(d)))
				if (atoi(de->d_name) > 0 && atoi(de->d_name) != getpid())
					tid = atoi(de->d_name);
			closedir(d);
			if (!tid)
				usleep(1000);
		}
	}
	self_fd = pssi_pidfd_open(getpid());
	ASSERT_LE(0, self_fd);
	o.pid = getpid();
	o.caller_tid = pssi_gettid();

	snap = pssi_capture(dev, 0, -1, PSS_FACETS_ALL);
	ASSERT_LE(0, snap) TH_LOG("nobody capturing itself (0): %s", strerror(-snap));
	EXPECT_EQ(0, pssi_check(snap, &o, NULL)) TH_LOG("%s", pssi_errmsg);
	close(snap);
	snap = pssi_capture(dev, getpid(), -1, PSS_FACETS_ALL);
	ASSERT_LE(0, snap) TH_LOG("nobody capturing itself by pid: %s", strerror(-snap));
	close(snap);
	snap = pssi_capture(dev, 0, self_fd, PSS_FACETS_ALL);
	ASSERT_LE(0, snap) TH_LOG("nobody capturing itself by pidfd: %s", strerror(-snap));
	close(snap);
	snap = pssi_capture(dev, tid, -1, PSS_FACET_THREADS);
	ASSERT_LE(0, snap) TH_LOG("nobody capturing itself by another thread's tid %d: %s",
				  tid, strerror(-snap));
	close(snap);

	/* everybody else: EPERM */
	EXPECT_EQ(-EPERM, pssi_capture(dev, parent, -1, 0)) TH_LOG("root parent %d", parent);
	EXPECT_EQ(-EPERM, pssi_capture(dev, 0, parent_fd, PSS_FACETS_ALL));
	EXPECT_EQ(-EPERM, pssi_capture(dev, 1, -1, 0)) TH_LOG("pid 1");
	EXPECT_EQ(-EPERM, pssi_capture(dev, sib, -1, PSS_FACETS_ALL))
		TH_LOG("another nobody process (%d)", sib);
	EXPECT_EQ(-EPERM, pssi_capture(dev, 0, sib_fd, 0));
	EXPECT_EQ(-EPERM, pssi_capture(dev, 2, -1, 0)) TH_LOG("kthreadd");
	EXPECT_EQ(-EPERM, pssi_capture(dev, a_kthread(), -1, 0));

	ASSERT_EQ(1, write(go[1], "q", 1));
	ASSERT_EQ(sib, waitpid(sib, NULL, 0));
	close(go[1]);
	close(parent_fd);
	close(sib_fd);
	close(self_fd);
	close(dev);
}

TEST(root_needs_cap_sys_ptrace)
{
	uint64_t eff, perm;
	int dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC), snap;

	ASSERT_LE(0, dev);
	ASSERT_EQ(0, geteuid());
	ASSERT_EQ(0, capget_all(&eff, &perm));
	if (!(eff & (1ULL << CAP_SYS_PTRACE)))
		SKIP(return, "root without CAP_SYS_PTRACE to start with");
	/* with it: pid 1 is fine */
	snap = pssi_capture(dev, 1, -1, 0);
	ASSERT_LE(0, snap) TH_LOG("root capturing pid 1: %s", strerror(-snap));
	close(snap);
	/* drop it from the effective set: refused, uid 0 or not */
	ASSERT_EQ(0, capset_effective(eff & ~(1ULL << CAP_SYS_PTRACE), perm));
	EXPECT_EQ(-EPERM, pssi_capture(dev, 1, -1, 0));
	EXPECT_EQ(-EPERM, pssi_capture(dev, getppid(), -1, PSS_FACETS_ALL));
	snap = pssi_capture(dev, 0, -1, PSS_FACETS_ALL);
	EXPECT_LE(0, snap) TH_LOG("self without CAP_SYS_PTRACE: %s", strerror(-snap));
	if (snap >= 0)
		close(snap);
	/* raise it again */
	ASSERT_EQ(0, capset_effective(eff, perm));
	snap = pssi_capture(dev, 1, -1, 0);
	EXPECT_LE(0, snap) TH_LOG("after raising CAP_SYS_PTRACE again: %s", strerror(-snap));
	if (snap >= 0)
		close(snap);
	close(dev);
}

TEST(snapshot_survives_privilege_drop)
{
	struct pssi_opts o = { .pid = 1, .facets = PSS_FACETS_ALL };
	int dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC), snap;

	ASSERT_LE(0, dev);
	snap = pssi_capture(dev, 1, -1, PSS_FACETS_ALL);
	ASSERT_LE(0, snap) TH_LOG("root capturing pid 1: %s", strerror(-snap));
	ASSERT_EQ(0, drop_to_nobody());
	/* the fd is the permission: query and walk still work */
	EXPECT_EQ(0, pssi_check(snap, &o, NULL)) TH_LOG("%s", pssi_errmsg);
	EXPECT_EQ(-EPERM, pssi_capture(dev, 1, -1, 0));
	close(snap);
	close(dev);
}

#define USERNS_PARAM "/sys/module/pss/parameters/userns_capture"

static int write_param(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -EIO;
}

/*
 * As nobody, in a new user namespace: capture our own child there, and pid
 * 1. Exit status: 0 if both results are as expected (@child_ok: the child
 * is allowed), 1 + a message on stderr otherwise.
 */
static int nobody_userns_run(bool child_ok)
{
	int dev, snap, go[2], ready[2], status, bad = 0;
	pid_t child;

	if (drop_to_nobody())
		return 2;
	dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	if (dev < 0)
		return 2;
	if (unshare(CLONE_NEWUSER))
		return 4;	/* KSFT_SKIP */
	if (pipe(go) || pipe(ready))
		return 2;
	child = fork();
	if (child < 0)
		return 2;
	if (child == 0) {
		char c;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/*
		 * Changing uid made us non-dumpable (fs.suid_dumpable=0), and
		 * the mm still belongs to the initial namespace: only a
		 * dumpable child is ptrace's (and so pss's) to read.
		 */
		prctl(PR_SET_DUMPABLE, 1);
		(void)!write(ready[1], "r", 1);
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	{
		char c;

		(void)!read(ready[0], &c, 1);	/* the child is dumpable */
	}
	snap = pssi_capture(dev, child, -1, PSS_FACETS_ALL);
	if (child_ok && snap >= 0) {
		struct pssi_opts o = { .pid = child, .facets = PSS_FACETS_ALL,
				       .tid_mode = PSSI_TID_STRICT };
		struct pssi_snap s;

		if (pssi_check(snap, &o, &s)) {
			fprintf(stderr, "# child snapshot: %s\n", pssi_errmsg);
			bad = 1;
		} else if (s.pi.euid != NOBODY) {
			/* no uid mapping was written: the overflow id */
			fprintf(stderr, "# child euid %u\n", s.pi.euid);
			bad = 1;
		}
		pssi_snap_free(&s);
	} else if (child_ok || snap != -EPERM) {
		fprintf(stderr, "# capturing our child in our user namespace: %s (want %s)\n",
			snap < 0 ? strerror(-snap) : "allowed",
			child_ok ? "allowed" : "EPERM");
		bad = 1;
	}
	if (snap >= 0)
		close(snap);
	snap = pssi_capture(dev, 1, -1, 0);
	if (snap != -EPERM) {
		fprintf(stderr, "# pid 1 belongs to the initial user namespace: %d\n", snap);
		bad = 1;
	}
	if (snap >= 0)
		close(snap);
	(void)!write(go[1], "q", 1);
	waitpid(child, &status, 0);
	close(dev);
	return bad;
}

static int nobody_userns(bool child_ok)
{
	int status;
	pid_t p = fork();

	if (p < 0)
		return -1;
	if (p == 0)
		_exit(nobody_userns_run(child_ok));
	if (waitpid(p, &status, 0) != p || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST(nobody_in_own_user_namespace)
{
	int ret;

	/* default policy: CAP_SYS_PTRACE over a child namespace is not enough */
	ASSERT_EQ(0, write_param(USERNS_PARAM, "N"));
	ret = nobody_userns(false);
	if (ret == 4)
		SKIP(return, "unshare(CLONE_NEWUSER) as nobody refused");
	EXPECT_EQ(0, ret);
	/* userns_capture: it is, for a dumpable process of that namespace */
	ASSERT_EQ(0, write_param(USERNS_PARAM, "Y"));
	ret = nobody_userns(true);
	ASSERT_EQ(0, write_param(USERNS_PARAM, "N"));
	EXPECT_EQ(0, ret);
}

TEST_HARNESS_MAIN
