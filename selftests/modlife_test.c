// SPDX-License-Identifier: GPL-2.0
/*
 * Module lifetime: rmmod (delete_module("pss", O_NONBLOCK)) is refused
 * while anything holds the module - an open /dev/pss, a snapshot fd, a
 * snapshot fd held only by a child, one only in flight in an SCM_RIGHTS
 * message - and succeeds once the last one is gone; finit_module("/pss.ko")
 * brings it (and /dev/pss) back. Load/unload loops with and without open
 * snapshots, and a loop where another thread opens /dev/pss and captures
 * while the module comes and goes.
 *
 * Every test leaves the module LOADED (the teardown reloads it if needed):
 * later tests and the guest runner's final rmmod rely on it.
 *
 * Env: PSS_MODLIFE_SECS bounds the loops (default 5 s, 15 s on the debug
 * kernel); PSS_KO overrides the module path (default /pss.ko).
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "pss_invariants.h"
#include "kselftest_harness.h"

static const char *ko_path(void)
{
	const char *e = getenv("PSS_KO");

	return e && *e ? e : "/pss.ko";
}

static bool mod_loaded(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/modules", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "pss ", 4))
			found = true;
	fclose(f);
	return found;
}

static int mod_unload(void)
{
	return syscall(SYS_delete_module, "pss", O_NONBLOCK) ? -errno : 0;
}

/* Deferred fput (task work, delayed_fput) may lag a close: retry a while. */
static int mod_unload_retry(void)
{
	int i, r = 0;

	for (i = 0; i < 300; i++) {
		r = mod_unload();
		if (r != -EAGAIN && r != -EBUSY)
			return r;
		usleep(10000);
	}
	return r;
}

static int mod_load(void)
{
	int fd = open(ko_path(), O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return r;
}

static bool refused(int r)
{
	return r == -EAGAIN || r == -EBUSY;	/* EWOULDBLOCK == EAGAIN */
}

static int capture_self(int facets)
{
	int dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC), snap;

	if (dev < 0)
		return -errno;
	snap = pssi_capture(dev, 0, -1, facets);
	close(dev);
	return snap;
}

static double budget(void)
{
	return pssi_budget("PSS_MODLIFE_SECS", 5, 15);
}

FIXTURE(modlife) {
	int fds0;
};

FIXTURE_SETUP(modlife)
{
	if (access(ko_path(), R_OK))
		SKIP(return, "no %s to reload the module from", ko_path());
	if (!mod_loaded()) {
		ASSERT_EQ(0, mod_load()) TH_LOG("the module must be loaded to start");
	}
	self->fds0 = pssi_count_fds();
}

FIXTURE_TEARDOWN(modlife)
{
	if (!mod_loaded() && mod_load())
		fprintf(stderr, "# FATAL: could not reload %s: %s\n", ko_path(),
			strerror(errno));
}

static void expect_node(struct __test_metadata *_metadata, bool present)
{
	struct stat st;
	int r = stat(PSS_DEVICE_PATH, &st);

	if (present) {
		ASSERT_EQ(0, r) TH_LOG("%s missing after load", PSS_DEVICE_PATH);
		EXPECT_TRUE(S_ISCHR(st.st_mode));
		EXPECT_EQ(0666, st.st_mode & 07777);
	} else {
		EXPECT_NE(0, r) TH_LOG("%s still there after unload", PSS_DEVICE_PATH);
	}
}

TEST_F(modlife, refused_while_snapshot_open)
{
	struct pssi_opts o = { .pid = getpid(), .facets = PSS_FACETS_ALL, .self = true,
			       .caller_tid = 0, .tid_mode = PSSI_TID_STRICT };
	int snap = capture_self(PSS_FACETS_ALL), r;

	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	r = mod_unload();
	EXPECT_TRUE(refused(r)) TH_LOG("delete_module with a snapshot open: %s",
				       r ? strerror(-r) : "succeeded");
	ASSERT_TRUE(mod_loaded());
	/* the snapshot is intact and usable */
	EXPECT_EQ(0, pssi_check(snap, &o, NULL)) TH_LOG("%s", pssi_errmsg);
	close(snap);
	ASSERT_EQ(0, mod_unload_retry());
	EXPECT_FALSE(mod_loaded());
	expect_node(_metadata, false);
	ASSERT_EQ(0, mod_load());
	expect_node(_metadata, true);
	snap = capture_self(PSS_FACETS_ALL);
	ASSERT_LE(0, snap) TH_LOG("capture after reload: %s", strerror(-snap));
	EXPECT_EQ(0, pssi_check(snap, &o, NULL)) TH_LOG("%s", pssi_errmsg);
	close(snap);
	EXPECT_EQ(self->fds0, pssi_count_fds());
}

TEST_F(modlife, refused_while_dev_open)
{
	int dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC), r;

	ASSERT_LE(0, dev);
	r = mod_unload();
	EXPECT_TRUE(refused(r)) TH_LOG("delete_module with /dev/pss open: %s",
				       r ? strerror(-r) : "succeeded");
	close(dev);
	ASSERT_EQ(0, mod_unload_retry());
	ASSERT_EQ(0, mod_load());
	expect_node(_metadata, true);
}

TEST_F(modlife, refused_while_child_holds_snapshot)
{
	int snap = capture_self(PSS_FACET_THREADS), go[2], status, r;
	pid_t pid;
	char c;

	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pss_snapshot_info si;

		close(go[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		(void)!read(go[0], &c, 1);
		/* still ours, still valid */
		_exit(ioc_query(snap, PSS_QUERY_SNAPSHOT, &si, sizeof(si), NULL) ? 1 : 0);
	}
	close(go[0]);
	close(snap);
	r = mod_unload();
	EXPECT_TRUE(refused(r)) TH_LOG("delete_module while a child holds a snapshot: %s",
				       r ? strerror(-r) : "succeeded");
	ASSERT_EQ(1, write(go[1], "g", 1));
	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child's query on the inherited snapshot failed: %#x", status);
	ASSERT_EQ(0, mod_unload_retry());
	ASSERT_EQ(0, mod_load());
}

TEST_F(modlife, refused_while_in_flight_scm_rights)
{
	int sv[2], snap = capture_self(0), r;
	char cbuf[CMSG_SPACE(sizeof(int))], b = 'x';
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	ASSERT_LE(0, snap);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &snap, sizeof(int));
	ASSERT_EQ(1, sendmsg(sv[0], &m, 0));
	close(snap);
	/* only the queued message holds it now */
	r = mod_unload();
	EXPECT_TRUE(refused(r)) TH_LOG("delete_module with a snapshot in flight: %s",
				       r ? strerror(-r) : "succeeded");
	close(sv[0]);
	close(sv[1]);	/* the unread message and its file go away */
	ASSERT_EQ(0, mod_unload_retry());
	ASSERT_EQ(0, mod_load());
	EXPECT_EQ(self->fds0, pssi_count_fds());
}

TEST_F_TIMEOUT(modlife, load_unload_loop, 600)
{
	struct pssi_opts o = { .pid = getpid(), .facets = PSS_FACETS_ALL, .self = true };
	uint64_t end = pssi_now_ns() + budget() * 1e9, t0 = pssi_now_ns();
	uint64_t rng = pssi_seed();
	unsigned long cycles = 0, with_snap = 0;

	PSSI_LOG("seed %#llx, budget %.1f s (PSS_MODLIFE_SECS)", (unsigned long long)rng,
		 budget());
	while (pssi_loop_on(t0, end, cycles, 5)) {
		int snap = -1, r;

		if (pssi_rand_below(&rng, 2)) {
			snap = capture_self(PSS_FACETS_ALL);
			ASSERT_LE(0, snap) TH_LOG("capture in cycle %lu: %s", cycles,
						  strerror(-snap));
			r = mod_unload();
			ASSERT_TRUE(refused(r)) TH_LOG("cycle %lu: unload with a snapshot: %s",
						       cycles, r ? strerror(-r) : "succeeded");
			ASSERT_EQ(0, pssi_check(snap, &o, NULL)) TH_LOG("%s", pssi_errmsg);
			close(snap);
			with_snap++;
		}
		r = mod_unload_retry();
		ASSERT_EQ(0, r) TH_LOG("cycle %lu: unload: %s", cycles, strerror(-r));
		r = mod_load();
		ASSERT_EQ(0, r) TH_LOG("cycle %lu: load: %s", cycles, strerror(-r));
		cycles++;
	}
	PSSI_LOG("modlife: %lu unload/load cycles (%lu with an open snapshot refused "
		 "first), %.1f s", cycles, with_snap, (pssi_now_ns() - t0) / 1e9);
	EXPECT_LE(5, cycles);
	EXPECT_EQ(self->fds0, pssi_count_fds());
}

struct racer {
	volatile int stop;
	unsigned long opens, enoent, captures;
	int failed;
	char msg[256];
};

static void *open_capture_racer(void *arg)
{
	struct racer *r = arg;

	while (!r->stop) {
		int dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC), snap;
		struct pss_snapshot_info si;

		if (dev < 0) {
			if (errno == ENOENT || errno == ENODEV || errno == ENXIO) {
				r->enoent++;
				continue;
			}
			snprintf(r->msg, sizeof(r->msg), "open: %s", strerror(errno));
			r->failed = 1;
			return NULL;
		}
		r->opens++;
		snap = pssi_capture(dev, 0, -1, PSS_FACET_THREADS | PSS_FACET_HANDLES);
		close(dev);
		if (snap < 0) {
			snprintf(r->msg, sizeof(r->msg), "capture on an open /dev/pss: %s",
				 strerror(-snap));
			r->failed = 1;
			return NULL;
		}
		if (ioc_query(snap, PSS_QUERY_SNAPSHOT, &si, sizeof(si), NULL)) {
			snprintf(r->msg, sizeof(r->msg), "query: %s", strerror(errno));
			r->failed = 1;
			close(snap);
			return NULL;
		}
		r->captures++;
		close(snap);
	}
	return NULL;
}

TEST_F_TIMEOUT(modlife, unload_races_open_and_capture, 600)
{
	uint64_t t0 = pssi_now_ns(), end = t0 + budget() * 1e9;
	unsigned long unloads = 0, refusals = 0, tries = 0;
	struct racer rc;
	pthread_t th;

	memset(&rc, 0, sizeof(rc));
	ASSERT_EQ(0, pthread_create(&th, NULL, open_capture_racer, &rc));
	while (pssi_loop_on(t0, end, unloads, 3) && !rc.failed) {
		int r = mod_unload();

		tries++;
		if (r == 0) {
			unloads++;
			usleep(1000);
			r = mod_load();
			if (r) {
				rc.stop = 1;
				pthread_join(th, NULL);
				ASSERT_EQ(0, r) TH_LOG("reload: %s", strerror(-r));
			}
		} else {
			if (!refused(r)) {
				rc.stop = 1;
				pthread_join(th, NULL);
				ASSERT_TRUE(refused(r)) TH_LOG("unload: %s", strerror(-r));
			}
			refusals++;
		}
	}
	rc.stop = 1;
	pthread_join(th, NULL);
	if (!mod_loaded()) {
		ASSERT_EQ(0, mod_load());
	}
	PSSI_LOG("race: %lu unload attempts, %lu unloads, %lu refused; racer %lu opens "
		 "(%lu found no node), %lu captures", tries, unloads, refusals, rc.opens,
		 rc.enoent, rc.captures);
	EXPECT_EQ(0, rc.failed) TH_LOG("%s", rc.msg);
	/* the race is only a race if unloads really happened in it */
	EXPECT_LE(3, unloads);
	EXPECT_LT(0, rc.captures);
	EXPECT_EQ(self->fds0, pssi_count_fds());
}

TEST_HARNESS_MAIN
