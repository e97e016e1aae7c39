// SPDX-License-Identifier: GPL-2.0
/*
 * PSS_WALK_HANDLES against a stopped target holding one fd of every type it
 * can create, each recorded by the target itself (fstat, F_GETFL, F_GETFD,
 * lseek, F_GETPIPE_SZ) and cross-checked with /proc/PID/fd and fdinfo:
 * the exact fd set, paths, types, flags, positions, device and inode, socket
 * and pipe detail; and which fields each capture level fills.
 */
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>

#include "pss_test_util.h"

#ifndef F_GETPIPE_SZ
#define F_GETPIPE_SZ	1032
#define F_SETPIPE_SZ	1031
#endif

/* sk_state / socket_state values as the kernel has them */
#define KS_ESTABLISHED	1
#define KS_CLOSE		7
#define KS_LISTEN		10
#define K_SS_UNCONNECTED	1
#define K_SS_CONNECTED		3

#define MAX_FDS		48
#define REG_POS		123
#define REG_SIZE	1000
#define PIPE_SZ		(128 * 1024)

enum kind {
	K_REG = 1, K_DELETED, K_DIR, K_NULL, K_PIPE_R, K_PIPE_W, K_FIFO,
	K_UNIX_STREAM, K_UNIX_DGRAM, K_TCP_LISTEN, K_UDP, K_EVENTFD, K_EPOLL,
	K_TIMERFD, K_SIGNALFD, K_INOTIFY, K_PIDFD, K_MEMFD, K_OPATH_REG,
	K_OPATH_LNK, K_PSS, K_DEV_PSS, K_FANOTIFY, K_USERFAULTFD, K_IO_URING,
	K_NR,
};

static const char *const kind_name[K_NR] = {
	[K_REG] = "regular", [K_DELETED] = "deleted", [K_DIR] = "dir",
	[K_NULL] = "/dev/null", [K_PIPE_R] = "pipe-r", [K_PIPE_W] = "pipe-w",
	[K_FIFO] = "fifo", [K_UNIX_STREAM] = "unix-stream",
	[K_UNIX_DGRAM] = "unix-dgram", [K_TCP_LISTEN] = "tcp-listen",
	[K_UDP] = "udp", [K_EVENTFD] = "eventfd", [K_EPOLL] = "epoll",
	[K_TIMERFD] = "timerfd", [K_SIGNALFD] = "signalfd",
	[K_INOTIFY] = "inotify", [K_PIDFD] = "pidfd", [K_MEMFD] = "memfd",
	[K_OPATH_REG] = "O_PATH", [K_OPATH_LNK] = "O_PATH symlink",
	[K_PSS] = "pss snapshot", [K_DEV_PSS] = "/dev/pss",
	[K_FANOTIFY] = "fanotify", [K_USERFAULTFD] = "userfaultfd",
	[K_IO_URING] = "io_uring",
};

static const __u32 kind_type[K_NR] = {
	[K_REG] = PSS_HT_REGULAR, [K_DELETED] = PSS_HT_REGULAR,
	[K_DIR] = PSS_HT_DIR, [K_NULL] = PSS_HT_CHR, [K_PIPE_R] = PSS_HT_PIPE,
	[K_PIPE_W] = PSS_HT_PIPE, [K_FIFO] = PSS_HT_FIFO,
	[K_UNIX_STREAM] = PSS_HT_SOCKET, [K_UNIX_DGRAM] = PSS_HT_SOCKET,
	[K_TCP_LISTEN] = PSS_HT_SOCKET, [K_UDP] = PSS_HT_SOCKET,
	[K_EVENTFD] = PSS_HT_EVENTFD, [K_EPOLL] = PSS_HT_EPOLL,
	[K_TIMERFD] = PSS_HT_TIMERFD, [K_SIGNALFD] = PSS_HT_SIGNALFD,
	[K_INOTIFY] = PSS_HT_INOTIFY, [K_PIDFD] = PSS_HT_PIDFD,
	[K_MEMFD] = PSS_HT_MEMFD, [K_OPATH_REG] = PSS_HT_REGULAR,
	[K_OPATH_LNK] = PSS_HT_SYMLINK, [K_PSS] = PSS_HT_PSS,
	[K_DEV_PSS] = PSS_HT_CHR, [K_FANOTIFY] = PSS_HT_FANOTIFY,
	[K_USERFAULTFD] = PSS_HT_USERFAULTFD, [K_IO_URING] = PSS_HT_IO_URING,
};

struct hfd {
	int fd;
	int kind;
	int getfl;
	int getfd;
	long long pos;		/* lseek(SEEK_CUR), -1 if not seekable */
	int pipe_sz;
	struct stat st;
};

struct h_shared {
	int n;
	struct hfd f[MAX_FDS];
	char dir[64];
	int fail_kinds;		/* bitmask of kinds that could not be made */
};

static void add(struct h_shared *sh, int fd, int kind, bool cloexec)
{
	struct hfd *h;

	if (fd < 0) {
		sh->fail_kinds |= 1 << kind;
		return;
	}
	h = &sh->f[sh->n++];
	if (cloexec)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	else
		fcntl(fd, F_SETFD, 0);
	h->fd = fd;
	h->kind = kind;
	h->getfl = fcntl(fd, F_GETFL);
	h->getfd = fcntl(fd, F_GETFD);
	h->pos = lseek(fd, 0, SEEK_CUR);
	h->pipe_sz = fcntl(fd, F_GETPIPE_SZ);
	fstat(fd, &h->st);
}

static int h_setup(void *shared, void *arg)
{
	struct h_shared *sh = shared;
	char path[128], lnk[128];
	int fd, p[2], sv[2], dev;
	struct sockaddr_in sin;
	sigset_t mask;

	(void)arg;
	mkdir("/tmp", 01777);
	snprintf(sh->dir, sizeof(sh->dir), "/tmp/pss-h-%d", getpid());
	if (mkdir(sh->dir, 0755))
		return 10;

	snprintf(path, sizeof(path), "%s/reg", sh->dir);
	fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0600);
	if (fd < 0 || write(fd, path, 1) != 1 || ftruncate(fd, REG_SIZE) ||
	    lseek(fd, REG_POS, SEEK_SET) != REG_POS)
		return 11;
	add(sh, fd, K_REG, true);

	snprintf(path, sizeof(path), "%s/deleted", sh->dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || unlink(path))
		return 12;
	add(sh, fd, K_DELETED, false);

	add(sh, open("/", O_RDONLY | O_DIRECTORY), K_DIR, true);
	add(sh, open("/dev/null", O_WRONLY), K_NULL, false);

	if (pipe(p))
		return 13;
	fcntl(p[1], F_SETPIPE_SZ, PIPE_SZ);
	add(sh, p[0], K_PIPE_R, false);
	add(sh, p[1], K_PIPE_W, true);

	snprintf(path, sizeof(path), "%s/fifo", sh->dir);
	if (mkfifo(path, 0600))
		return 14;
	add(sh, open(path, O_RDWR | O_NONBLOCK), K_FIFO, false);

	if (!socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		add(sh, sv[0], K_UNIX_STREAM, false);
		add(sh, sv[1], K_UNIX_STREAM, true);
	} else {
		sh->fail_kinds |= 1 << K_UNIX_STREAM;
	}
	add(sh, socket(AF_UNIX, SOCK_DGRAM, 0), K_UNIX_DGRAM, false);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (fd >= 0 && (bind(fd, (void *)&sin, sizeof(sin)) || listen(fd, 4))) {
		close(fd);
		fd = -1;
	}
	add(sh, fd, K_TCP_LISTEN, false);
	add(sh, socket(AF_INET, SOCK_DGRAM, 0), K_UDP, false);

	add(sh, eventfd(3, 0), K_EVENTFD, false);
	add(sh, epoll_create1(0), K_EPOLL, false);
	add(sh, timerfd_create(CLOCK_MONOTONIC, 0), K_TIMERFD, false);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	add(sh, signalfd(-1, &mask, 0), K_SIGNALFD, false);
	add(sh, inotify_init1(0), K_INOTIFY, false);
	add(sh, sys_pidfd_open(getpid(), 0), K_PIDFD, false);
	fd = memfd_create("pss-memfd", 0);
	if (fd >= 0 && ftruncate(fd, 8192))
		return 15;
	add(sh, fd, K_MEMFD, false);

	snprintf(path, sizeof(path), "%s/reg", sh->dir);
	add(sh, open(path, O_PATH), K_OPATH_REG, false);
	snprintf(lnk, sizeof(lnk), "%s/lnk", sh->dir);
	if (symlink(path, lnk))
		return 16;
	add(sh, open(lnk, O_PATH | O_NOFOLLOW), K_OPATH_LNK, true);

	dev = open(PSS_DEVICE_PATH, O_RDONLY);
	if (dev < 0)
		return 17;
	add(sh, ioc_capture_pid(dev, 0, 0), K_PSS, false);
	add(sh, dev, K_DEV_PSS, false);

	/* optional: kernels may be built without these */
	add(sh, fanotify_init(FAN_CLASS_NOTIF, O_RDONLY), K_FANOTIFY, false);
#ifdef SYS_userfaultfd
	add(sh, syscall(SYS_userfaultfd, 0), K_USERFAULTFD, false);
#endif
#ifdef SYS_io_uring_setup
	{
		char params[120];	/* struct io_uring_params */

		memset(params, 0, sizeof(params));
		add(sh, syscall(SYS_io_uring_setup, 4, params), K_IO_URING, false);
	}
#endif
	return 0;
}

static const struct hfd *find_hfd(const struct h_shared *sh, int fd)
{
	int i;

	for (i = 0; i < sh->n; i++)
		if (sh->f[i].fd == fd)
			return &sh->f[i];
	return NULL;
}

static const struct hfd *find_kind(const struct h_shared *sh, int kind)
{
	int i;

	for (i = 0; i < sh->n; i++)
		if (sh->f[i].kind == kind)
			return &sh->f[i];
	return NULL;
}

static struct pss_handle_entry *find_rec(struct pss_recs *r, int fd)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		struct pss_handle_entry *e = r->rec[i];

		if (e->fd == fd)
			return e;
	}
	return NULL;
}

static void rm_dir(const char *dir)
{
	char path[128];
	static const char *const names[] = { "reg", "fifo", "lnk", "deleted" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* ------------------------------------------------ levels */

FIXTURE(handles) {
	struct pss_target t;
	struct h_shared *sh;
	int snap;
	struct pss_recs r;
};

FIXTURE_VARIANT(handles) {
	__u64 facets;
};

FIXTURE_VARIANT_ADD(handles, all) {
	.facets = PSS_FACET_HANDLES | PSS_FACET_HANDLE_NAME |
		  PSS_FACET_HANDLE_BASIC | PSS_FACET_HANDLE_TYPE_SPECIFIC,
};
FIXTURE_VARIANT_ADD(handles, bare) {
	.facets = PSS_FACET_HANDLES,
};
FIXTURE_VARIANT_ADD(handles, name) {
	.facets = PSS_FACET_HANDLES | PSS_FACET_HANDLE_NAME,
};
FIXTURE_VARIANT_ADD(handles, basic) {
	.facets = PSS_FACET_HANDLES | PSS_FACET_HANDLE_BASIC,
};
FIXTURE_VARIANT_ADD(handles, type_specific) {
	.facets = PSS_FACET_HANDLES | PSS_FACET_HANDLE_TYPE_SPECIFIC,
};

FIXTURE_SETUP(handles)
{
	int ret;

	self->snap = -1;
	ret = pss_target_start(&self->t, h_setup, NULL, sizeof(struct h_shared), true);
	ASSERT_EQ(0, ret) TH_LOG("%s", pss_err);
	self->sh = self->t.shared;
	self->snap = pss_capture1(self->t.pid, variant->facets);
	ASSERT_LE(0, self->snap) TH_LOG("capture: %s", strerror(-self->snap));
	ASSERT_EQ(0, pss_walk_all(self->snap, PSS_WALK_HANDLES, &self->r))
		TH_LOG("%s", pss_err);
}

FIXTURE_TEARDOWN(handles)
{
	pss_recs_free(&self->r);
	if (self->snap >= 0)
		close(self->snap);
	if (self->sh)
		rm_dir(self->sh->dir);
	pss_target_stop(&self->t);
}

#define HAS(v, f)	(!!((v)->facets & (f)))

TEST_F(handles, fd_set_equals_proc)
{
	char path[64];
	size_t n, i;
	int *fds = NULL;

	snprintf(path, sizeof(path), "/proc/%d/fd", self->t.pid);
	ASSERT_EQ(0, pss_list_dir_ints(path, &fds, &n));
	EXPECT_EQ(n, self->r.n);
	for (i = 0; i < n; i++)
		EXPECT_NE(NULL, find_rec(&self->r, fds[i])) TH_LOG("fd %d missing", fds[i]);
	/* every fd the target made is there; records are unique */
	for (i = 0; i < (size_t)self->sh->n; i++)
		EXPECT_NE(NULL, find_rec(&self->r, self->sh->f[i].fd))
			TH_LOG("%s fd %d missing", kind_name[self->sh->f[i].kind],
			       self->sh->f[i].fd);
	for (i = 1; i < self->r.n; i++) {
		struct pss_handle_entry *a = self->r.rec[i - 1], *b = self->r.rec[i];

		/* fd order, as the fd table has them */
		EXPECT_LT(a->fd, b->fd);
	}
	free(fds);
}

/*
 * A level not asked for leaves its fields zero in every record: checked
 * wherever a test of that level's fields would otherwise have nothing to do.
 */
static void expect_no_names(struct __test_metadata *_metadata, const struct pss_recs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct pss_handle_entry *e = r->rec[i];

		EXPECT_EQ(0, e->name_off) TH_LOG("fd %d", e->fd);
		EXPECT_EQ(0, e->name_len) TH_LOG("fd %d", e->fd);
		EXPECT_EQ(0, e->flags & PSS_HANDLE_HAS_NAME) TH_LOG("fd %d", e->fd);
	}
}

static void expect_no_basic(struct __test_metadata *_metadata, const struct pss_recs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct pss_handle_entry *e = r->rec[i];

		EXPECT_EQ(0, e->flags & PSS_HANDLE_HAS_BASIC) TH_LOG("fd %d", e->fd);
		EXPECT_EQ(PSS_HT_UNKNOWN, e->type) TH_LOG("fd %d", e->fd);
		EXPECT_EQ(0, e->open_flags | e->fmode | e->i_mode) TH_LOG("fd %d", e->fd);
		EXPECT_EQ(0, e->dev_major | e->dev_minor | e->rdev_major | e->rdev_minor)
			TH_LOG("fd %d", e->fd);
		EXPECT_EQ(0, e->ino | e->pos | e->i_size) TH_LOG("fd %d", e->fd);
	}
}

static void expect_no_type_specific(struct __test_metadata *_metadata,
				    const struct pss_recs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct pss_handle_entry *e = r->rec[i];

		EXPECT_EQ(0, e->flags & (PSS_HANDLE_HAS_SOCKET | PSS_HANDLE_HAS_PIPE))
			TH_LOG("fd %d", e->fd);
		EXPECT_EQ(0, e->u.raw[0] | e->u.raw[1] | e->u.raw[2] | e->u.raw[3])
			TH_LOG("fd %d", e->fd);
	}
}

TEST_F(handles, cloexec_every_level)
{
	size_t i;

	for (i = 0; i < self->r.n; i++) {
		struct pss_handle_entry *e = self->r.rec[i];
		const struct hfd *h = find_hfd(self->sh, e->fd);
		char path[64], *info, *p;
		unsigned long fl;

		if (h) {
			EXPECT_EQ(!!(h->getfd & FD_CLOEXEC), !!(e->flags & PSS_HANDLE_CLOEXEC))
				TH_LOG("%s fd %d", kind_name[h->kind], e->fd);
		}
		/* fdinfo flags carry O_CLOEXEC for close-on-exec fds */
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", self->t.pid, e->fd);
		info = pss_read_file(path, NULL);
		ASSERT_NE(NULL, info);
		p = strstr(info, "flags:");
		ASSERT_NE(NULL, p);
		fl = strtoul(p + 6, NULL, 8);
		EXPECT_EQ(!!(fl & O_CLOEXEC), !!(e->flags & PSS_HANDLE_CLOEXEC))
			TH_LOG("fd %d", e->fd);
		free(info);
	}
}

TEST_F(handles, level_flags)
{
	size_t i;

	for (i = 0; i < self->r.n; i++) {
		struct pss_handle_entry *e = self->r.rec[i];
		const struct hfd *h = find_hfd(self->sh, e->fd);

		EXPECT_EQ(HAS(variant, PSS_FACET_HANDLE_NAME), !!(e->flags & PSS_HANDLE_HAS_NAME))
			TH_LOG("fd %d flags %#x", e->fd, e->flags);
		EXPECT_EQ(HAS(variant, PSS_FACET_HANDLE_BASIC), !!(e->flags & PSS_HANDLE_HAS_BASIC))
			TH_LOG("fd %d flags %#x", e->fd, e->flags);
		if (!HAS(variant, PSS_FACET_HANDLE_NAME)) {
			EXPECT_EQ(0, e->name_off);
			EXPECT_EQ(0, e->name_len);
		}
		if (!HAS(variant, PSS_FACET_HANDLE_TYPE_SPECIFIC)) {
			EXPECT_EQ(0, e->flags & (PSS_HANDLE_HAS_SOCKET | PSS_HANDLE_HAS_PIPE));
		} else if (h) {
			bool sock = kind_type[h->kind] == PSS_HT_SOCKET;
			bool pipe = kind_type[h->kind] == PSS_HT_PIPE ||
				    kind_type[h->kind] == PSS_HT_FIFO;

			EXPECT_EQ(sock, !!(e->flags & PSS_HANDLE_HAS_SOCKET))
				TH_LOG("%s fd %d", kind_name[h->kind], e->fd);
			EXPECT_EQ(pipe, !!(e->flags & PSS_HANDLE_HAS_PIPE))
				TH_LOG("%s fd %d", kind_name[h->kind], e->fd);
		}
		EXPECT_EQ(sizeof(*e), e->fixed_len);
	}
}

TEST_F(handles, names_equal_readlink)
{
	size_t i;

	if (!HAS(variant, PSS_FACET_HANDLE_NAME)) {
		expect_no_names(_metadata, &self->r);
		return;
	}
	for (i = 0; i < self->r.n; i++) {
		struct pss_handle_entry *e = self->r.rec[i];
		char link[PSS_PATH_MAX];

		ASSERT_EQ(0, pss_readlink_fmt(link, sizeof(link), "/proc/%d/fd/%d",
					      self->t.pid, e->fd));
		ASSERT_NE(NULL, pss_rec_name(e)) TH_LOG("fd %d (%s) has no name", e->fd, link);
		EXPECT_STREQ(link, pss_rec_name(e)) TH_LOG("fd %d", e->fd);
		EXPECT_EQ(strlen(link), e->name_len);
	}
}

TEST_F(handles, types)
{
	int i;

	if (!HAS(variant, PSS_FACET_HANDLE_BASIC)) {
		expect_no_basic(_metadata, &self->r);
		return;
	}
	for (i = 0; i < self->sh->n; i++) {
		const struct hfd *h = &self->sh->f[i];
		struct pss_handle_entry *e = find_rec(&self->r, h->fd);

		ASSERT_NE(NULL, e);
		EXPECT_EQ(kind_type[h->kind], e->type) TH_LOG("%s fd %d", kind_name[h->kind], h->fd);
	}
	for (i = 1; i < K_NR; i++)
		if (self->sh->fail_kinds & (1 << i))
			TH_LOG("target could not create %s: not checked", kind_name[i]);
}

TEST_F(handles, basic_equals_fstat)
{
	int i;

	if (!HAS(variant, PSS_FACET_HANDLE_BASIC)) {
		expect_no_basic(_metadata, &self->r);
		return;
	}
	for (i = 0; i < self->sh->n; i++) {
		const struct hfd *h = &self->sh->f[i];
		struct pss_handle_entry *e = find_rec(&self->r, h->fd);

		ASSERT_NE(NULL, e);
		EXPECT_EQ(h->st.st_mode, e->i_mode) TH_LOG("%s fd %d", kind_name[h->kind], h->fd);
		EXPECT_EQ(major(h->st.st_dev), e->dev_major) TH_LOG("%s", kind_name[h->kind]);
		EXPECT_EQ(minor(h->st.st_dev), e->dev_minor) TH_LOG("%s", kind_name[h->kind]);
		EXPECT_EQ(h->st.st_ino, e->ino) TH_LOG("%s", kind_name[h->kind]);
		EXPECT_EQ(major(h->st.st_rdev), e->rdev_major) TH_LOG("%s", kind_name[h->kind]);
		EXPECT_EQ(minor(h->st.st_rdev), e->rdev_minor) TH_LOG("%s", kind_name[h->kind]);
		if (S_ISREG(h->st.st_mode)) {
			EXPECT_EQ(h->st.st_size, (off_t)e->i_size) TH_LOG("%s", kind_name[h->kind]);
		}
	}
}

/* Descriptors the target inherited: checked against the parent's view. */
TEST_F(handles, basic_equals_proc_stat_for_all)
{
	size_t i;

	if (!HAS(variant, PSS_FACET_HANDLE_BASIC)) {
		expect_no_basic(_metadata, &self->r);
		return;
	}
	for (i = 0; i < self->r.n; i++) {
		struct pss_handle_entry *e = self->r.rec[i];
		char path[64];
		struct stat st;

		if (find_hfd(self->sh, e->fd))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", self->t.pid, e->fd);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_EQ(st.st_ino, e->ino) TH_LOG("fd %d", e->fd);
		EXPECT_EQ(st.st_mode, e->i_mode) TH_LOG("fd %d", e->fd);
		EXPECT_EQ(makedev(e->dev_major, e->dev_minor), st.st_dev);
	}
}

TEST_F(handles, open_flags_and_fmode)
{
	int i;

	if (!HAS(variant, PSS_FACET_HANDLE_BASIC)) {
		expect_no_basic(_metadata, &self->r);
		return;
	}
	for (i = 0; i < self->sh->n; i++) {
		const struct hfd *h = &self->sh->f[i];
		struct pss_handle_entry *e = find_rec(&self->r, h->fd);
		__u32 want = 0;

		ASSERT_NE(NULL, e);
		EXPECT_EQ((__u32)h->getfl, e->open_flags)
			TH_LOG("%s fd %d: %#o vs %#o", kind_name[h->kind], h->fd,
			       h->getfl, e->open_flags);
		if (!(h->getfl & O_PATH)) {
			if ((h->getfl & O_ACCMODE) != O_WRONLY)
				want |= PSS_FMODE_READ;
			if ((h->getfl & O_ACCMODE) != O_RDONLY)
				want |= PSS_FMODE_WRITE;
		}
		EXPECT_EQ(want, e->fmode) TH_LOG("%s fd %d", kind_name[h->kind], h->fd);
		EXPECT_EQ(!!(h->getfl & O_PATH), !!(e->flags & PSS_HANDLE_PATH_ONLY))
			TH_LOG("%s fd %d", kind_name[h->kind], h->fd);
	}
}

TEST_F(handles, positions)
{
	size_t i;

	if (!HAS(variant, PSS_FACET_HANDLE_BASIC)) {
		expect_no_basic(_metadata, &self->r);
		return;
	}
	for (i = 0; i < self->r.n; i++) {
		struct pss_handle_entry *e = self->r.rec[i];
		const struct hfd *h = find_hfd(self->sh, e->fd);
		char path[64], *info, *p;

		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", self->t.pid, e->fd);
		info = pss_read_file(path, NULL);
		ASSERT_NE(NULL, info);
		p = strstr(info, "pos:");
		ASSERT_NE(NULL, p);
		EXPECT_EQ(strtoull(p + 4, NULL, 10), e->pos) TH_LOG("fd %d", e->fd);
		free(info);
		if (h && h->pos >= 0) {
			EXPECT_EQ((__u64)h->pos, e->pos) TH_LOG("%s", kind_name[h->kind]);
		}
	}
	EXPECT_EQ(REG_POS, find_rec(&self->r, find_kind(self->sh, K_REG)->fd)->pos);
}

TEST_F(handles, deleted_flag)
{
	size_t i;

	for (i = 0; i < self->r.n; i++) {
		struct pss_handle_entry *e = self->r.rec[i];
		const struct hfd *h = find_hfd(self->sh, e->fd);

		if (!h || h->kind == K_MEMFD)
			continue;	/* memfds were never linked: either way */
		EXPECT_EQ(h->kind == K_DELETED, !!(e->flags & PSS_HANDLE_DELETED))
			TH_LOG("%s fd %d", kind_name[h->kind], e->fd);
	}
}

TEST_F(handles, deleted_name)
{
	const struct hfd *h = find_kind(self->sh, K_DELETED);
	struct pss_handle_entry *e;
	char want[128];

	if (!HAS(variant, PSS_FACET_HANDLE_NAME)) {
		expect_no_names(_metadata, &self->r);
		return;
	}
	ASSERT_NE(NULL, h);
	e = find_rec(&self->r, h->fd);
	ASSERT_NE(NULL, e);
	snprintf(want, sizeof(want), "%s/deleted (deleted)", self->sh->dir);
	EXPECT_STREQ(want, pss_rec_name(e));
}

TEST_F(handles, regular_name)
{
	const struct hfd *h = find_kind(self->sh, K_REG);
	struct pss_handle_entry *e;
	char want[128];

	if (!HAS(variant, PSS_FACET_HANDLE_NAME)) {
		expect_no_names(_metadata, &self->r);
		return;
	}
	ASSERT_NE(NULL, h);
	e = find_rec(&self->r, h->fd);
	ASSERT_NE(NULL, e);
	snprintf(want, sizeof(want), "%s/reg", self->sh->dir);
	EXPECT_STREQ(want, pss_rec_name(e));
	e = find_rec(&self->r, find_kind(self->sh, K_OPATH_REG)->fd);
	EXPECT_STREQ(want, pss_rec_name(e));
}

TEST_F(handles, pipe_detail)
{
	static const int kinds[] = { K_PIPE_R, K_PIPE_W, K_FIFO };
	size_t i;

	if (!HAS(variant, PSS_FACET_HANDLE_TYPE_SPECIFIC)) {
		expect_no_type_specific(_metadata, &self->r);
		return;
	}
	for (i = 0; i < 3; i++) {
		const struct hfd *h = find_kind(self->sh, kinds[i]);
		struct pss_handle_entry *e;

		ASSERT_NE(NULL, h);
		e = find_rec(&self->r, h->fd);
		ASSERT_NE(NULL, e);
		ASSERT_TRUE(!!(e->flags & PSS_HANDLE_HAS_PIPE));
		EXPECT_EQ((__u32)h->pipe_sz, e->u.pipe.buf_size) TH_LOG("%s", kind_name[h->kind]);
		EXPECT_EQ(1, e->u.pipe.readers) TH_LOG("%s", kind_name[h->kind]);
		EXPECT_EQ(1, e->u.pipe.writers) TH_LOG("%s", kind_name[h->kind]);
		EXPECT_EQ(0, e->u.pipe.reserved0);
		EXPECT_EQ(0, e->u.pipe.reserved[0] | e->u.pipe.reserved[1]);
	}
	EXPECT_EQ(PIPE_SZ, find_kind(self->sh, K_PIPE_W)->pipe_sz);
}

static void check_socket(struct __test_metadata *_metadata, FIXTURE_DATA(handles) *self,
			 const FIXTURE_VARIANT(handles) *variant, int kind,
			 int family, int type, int proto, int state, int sock_state)
{
	const struct hfd *h = find_kind(self->sh, kind);
	struct pss_handle_entry *e;

	if (!HAS(variant, PSS_FACET_HANDLE_TYPE_SPECIFIC)) {
		expect_no_type_specific(_metadata, &self->r);
		return;
	}
	if (!h)
		SKIP(return, "this kernel could not create a %s socket", kind_name[kind]);
	e = find_rec(&self->r, h->fd);
	ASSERT_NE(NULL, e);
	ASSERT_TRUE(!!(e->flags & PSS_HANDLE_HAS_SOCKET));
	EXPECT_EQ(family, e->u.socket.family);
	EXPECT_EQ(type, e->u.socket.type);
	EXPECT_EQ(proto, e->u.socket.protocol);
	EXPECT_EQ(state, e->u.socket.state);
	EXPECT_EQ(sock_state, e->u.socket.sock_state);
	EXPECT_EQ(0, e->u.socket.reserved[0] | e->u.socket.reserved[1] |
		     e->u.socket.reserved[2]);
}

TEST_F(handles, socket_unix_stream)
{
	check_socket(_metadata, self, variant, K_UNIX_STREAM, AF_UNIX, SOCK_STREAM, 0,
		     KS_ESTABLISHED, K_SS_CONNECTED);
}

TEST_F(handles, socket_unix_dgram)
{
	check_socket(_metadata, self, variant, K_UNIX_DGRAM, AF_UNIX, SOCK_DGRAM, 0,
		     KS_CLOSE, K_SS_UNCONNECTED);
}

TEST_F(handles, socket_tcp_listen)
{
	check_socket(_metadata, self, variant, K_TCP_LISTEN, AF_INET, SOCK_STREAM,
		     IPPROTO_TCP, KS_LISTEN, K_SS_UNCONNECTED);
}

TEST_F(handles, socket_udp)
{
	check_socket(_metadata, self, variant, K_UDP, AF_INET, SOCK_DGRAM,
		     IPPROTO_UDP, KS_CLOSE, K_SS_UNCONNECTED);
}

/* Type-specific detail only where there is some: zero elsewhere. */
TEST_F(handles, union_zero_for_others)
{
	size_t i;

	for (i = 0; i < self->r.n; i++) {
		struct pss_handle_entry *e = self->r.rec[i];

		if (e->flags & (PSS_HANDLE_HAS_SOCKET | PSS_HANDLE_HAS_PIPE))
			continue;
		EXPECT_EQ(0, e->u.raw[0] | e->u.raw[1] | e->u.raw[2] | e->u.raw[3])
			TH_LOG("fd %d", e->fd);
	}
}

TEST_F(handles, count_matches)
{
	struct pss_snapshot_info si;
	struct pss_count_info ci;

	ASSERT_EQ(0, pss_query_snapshot(self->snap, &si));
	EXPECT_EQ(variant->facets, si.facets);
	EXPECT_EQ(self->r.n, si.nr_handles);
	ASSERT_EQ(0, pss_query_count(self->snap, PSS_QUERY_HANDLES, &ci));
	EXPECT_EQ(self->r.n, ci.count);
	EXPECT_EQ(self->r.bytes, ci.bytes);
}

/* ------------------------------------------------ self capture */

TEST(self_capture_sees_new_fd_and_not_closed_one)
{
	struct pss_handle_entry *e;
	struct pss_recs r;
	int a, b, snap, dev;

	dev = pss_open_dev();
	ASSERT_LE(0, dev);
	a = open("/dev/null", O_RDONLY);
	b = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, close(a));
	snap = ioc_capture_pid(dev, 0, PSS_FACET_HANDLES | PSS_FACET_HANDLE_NAME |
			       PSS_FACET_HANDLE_BASIC);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_HANDLES, &r)) TH_LOG("%s", pss_err);
	EXPECT_EQ(NULL, find_rec(&r, a));
	e = find_rec(&r, b);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(PSS_HT_DIR, e->type);
	EXPECT_STREQ("/", pss_rec_name(e));
	EXPECT_TRUE(!!(e->flags & PSS_HANDLE_CLOEXEC));
	/* the snapshot fd itself is installed after the cut */
	EXPECT_EQ(NULL, find_rec(&r, snap));
	pss_recs_free(&r);
	close(snap);
	close(b);
	close(dev);
}

/* A high, sparse fd number shows with its own number. */
TEST(sparse_high_fd)
{
	struct pss_recs r;
	int fd, snap;

	fd = dup2(0, 777);
	if (fd < 0)
		SKIP(return, "dup2: %s", strerror(errno));
	snap = pss_capture1(0, PSS_FACET_HANDLES);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_HANDLES, &r)) TH_LOG("%s", pss_err);
	EXPECT_NE(NULL, find_rec(&r, 777));
	EXPECT_EQ(NULL, find_rec(&r, 776));
	pss_recs_free(&r);
	close(snap);
	close(fd);
}

TEST_HARNESS_MAIN
