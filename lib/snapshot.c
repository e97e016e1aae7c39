// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libpss: capture, query, duplicate, adopt and free snapshots.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

bool libpss__opts_valid(const void *opts, size_t user_sz, size_t lib_sz)
{
	const unsigned char *p = opts;
	size_t i;

	if (user_sz < sizeof(size_t))
		return false;
	/* a newer caller's fields we do not know must be unused (zero) */
	for (i = lib_sz; i < user_sz; i++)
		if (p[i])
			return false;
	return true;
}

int libpss__ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

static void close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

int libpss__snapshot_new(int fd, struct libpss_file *file,
			 struct pss_snapshot **snap)
{
	struct pss_snapshot *s = malloc(sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->fd = fd;
	s->refs = 1;
	s->file = file;
	*snap = s;
	return 0;
}

static int snapshot_new(int fd, struct pss_snapshot **snap)
{
	return libpss__snapshot_new(fd, NULL, snap);
}

void libpss__snapshot_get(struct pss_snapshot *snap)
{
	__atomic_add_fetch(&snap->refs, 1, __ATOMIC_RELAXED);
}

void libpss__snapshot_put(struct pss_snapshot *snap)
{
	if (__atomic_sub_fetch(&snap->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		if (snap->file)
			libpss__file_put(snap->file);
		else
			close_keep_errno(snap->fd);
		free(snap);
	}
}

/*
 * pss_capture@@LIBPSS_0.2: .dev_fd -1 is "none", 0 is a descriptor.
 * pss_capture@LIBPSS_0.1 (binaries built against libpss 0.1, where
 * PSS_OPTS() left .dev_fd 0 for "none") is capture_0_1() below, so they
 * keep working unchanged.
 */
__asm__(".symver capture_0_2, pss_capture@@LIBPSS_0.2");
__asm__(".symver capture_0_1, pss_capture@LIBPSS_0.1");

LIBPSS_API int capture_0_2(const struct pss_capture_opts *opts,
			   struct pss_snapshot **snap);
LIBPSS_API int capture_0_1(const struct pss_capture_opts *opts,
			   struct pss_snapshot **snap);

LIBPSS_API int capture_0_2(const struct pss_capture_opts *opts,
			   struct pss_snapshot **snap)
{
	struct pss_capture_args args;
	__u32 flags;
	__s32 pid, pidfd, dev_fd;
	int dfd, fd, err;

	if (!snap || !OPTS_VALID(opts))
		return -EINVAL;

	flags = OPTS_GET(opts, flags, 0);
	pid = OPTS_GET(opts, pid, 0);
	pidfd = OPTS_GET(opts, pidfd, 0);
	dev_fd = OPTS_GET(opts, dev_fd, -1);

	/* exactly one way of naming the target */
	if ((flags & PSS_CAPTURE_PIDFD) ? pid != 0 : pidfd != 0)
		return -EINVAL;
	if (dev_fd < -1)
		return -EBADF;

	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	args.flags = flags;
	args.facets = OPTS_GET(opts, facets, 0);
	args.target_pid = pid;
	args.target_pidfd = pidfd;
	args.quiesce_timeout_ms = OPTS_GET(opts, quiesce_timeout_ms, 0);
	args.stack_bytes = OPTS_GET(opts, stack_bytes, 0);
	args.memory_flags = OPTS_GET(opts, memory_flags, 0);
	args.nr_ranges = OPTS_GET(opts, nr_ranges, 0);
	args.ranges = (__u64)(uintptr_t)OPTS_GET(opts, ranges, NULL);
	/* the kernel would say EFAULT: a NULL array is the caller's mistake */
	if (args.nr_ranges && !args.ranges)
		return -EINVAL;

	if (dev_fd >= 0) {
		dfd = dev_fd;
	} else {
		dfd = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		if (dfd < 0)
			return -errno;
	}

	fd = libpss__ioctl(dfd, PSS_IOC_CAPTURE, &args);
	if (dfd != dev_fd)
		close_keep_errno(dfd);
	if (fd < 0)
		return fd;

	err = snapshot_new(fd, snap);
	if (err)
		close_keep_errno(fd);
	return err;
}

LIBPSS_API int capture_0_1(const struct pss_capture_opts *opts,
			   struct pss_snapshot **snap)
{
	struct pss_capture_opts o;

	if (!OPTS_HAS(opts, dev_fd) || opts->dev_fd)
		return capture_0_2(opts, snap);
	if (!OPTS_VALID(opts))
		return -EINVAL;
	/* a 0.1 caller's struct may be shorter than ours: the rest is zero */
	memset(&o, 0, sizeof(o));
	memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	o.sz = sizeof(o);
	o.dev_fd = -1;
	return capture_0_2(&o, snap);
}

LIBPSS_API int pss_capture_pid(pid_t pid, __u64 facets,
			       struct pss_snapshot **snap)
{
	PSS_OPTS(pss_capture_opts, opts, .facets = facets, .pid = pid);

	return capture_0_2(&opts, snap);
}

LIBPSS_API int pss_capture_pidfd(int pidfd, __u64 facets,
				 struct pss_snapshot **snap)
{
	PSS_OPTS(pss_capture_opts, opts, .facets = facets,
		 .flags = PSS_CAPTURE_PIDFD, .pidfd = pidfd);

	if (pidfd < 0)
		return -EBADF;
	return capture_0_2(&opts, snap);
}

LIBPSS_API void pss_snapshot_free(struct pss_snapshot *snap)
{
	if (snap)
		libpss__snapshot_put(snap);
}

static int query_fd(int fd, __u32 query_class, void *buf, size_t len)
{
	struct pss_query_args args;
	int ret;

	if (!buf || len > UINT32_MAX)
		return -EINVAL;
	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	args.query_class = query_class;
	args.out_size = (__u32)len;
	args.out = (__u64)(uintptr_t)buf;
	ret = libpss__ioctl(fd, PSS_IOC_QUERY, &args);
	return ret < 0 ? ret : 0;
}

LIBPSS_API int pss_query(struct pss_snapshot *snap,
			 enum pss_query_class query_class,
			 void *buf, size_t len)
{
	if (!snap)
		return -EINVAL;
	if (snap->file)
		return libpss__file_query(snap->file, query_class, buf, len);
	return query_fd(snap->fd, query_class, buf, len);
}

static int walk_to_query_class(__u32 walk_class)
{
	switch (walk_class) {
	case PSS_WALK_THREADS:
		return PSS_QUERY_THREADS;
	case PSS_WALK_HANDLES:
		return PSS_QUERY_HANDLES;
	case PSS_WALK_VA_SPACE:
		return PSS_QUERY_VA_SPACE;
	case PSS_WALK_CONTEXTS:
		return PSS_QUERY_CONTEXTS;
	case PSS_WALK_KSTACKS:
		return PSS_QUERY_KSTACKS;
	case PSS_WALK_MEMORY:
		return PSS_QUERY_MEMORY;
	default:
		return -EINVAL;
	}
}

LIBPSS_API int pss_count(struct pss_snapshot *snap,
			 enum pss_walk_class walk_class, __u64 *count)
{
	struct pss_count_info info;
	int qc, err;

	if (!snap || !count)
		return -EINVAL;
	qc = walk_to_query_class(walk_class);
	if (qc < 0)
		return qc;
	err = pss_query(snap, qc, &info, sizeof(info));
	if (err)
		return err;
	*count = info.count;
	return 0;
}

LIBPSS_API int pss_snapshot_dup(struct pss_snapshot *snap,
				struct pss_snapshot **dup)
{
	int fd, err;

	if (!snap || !dup)
		return -EINVAL;
	if (snap->file) {
		/* immutable records in memory: share them */
		err = libpss__snapshot_new(-1, libpss__file_get(snap->file), dup);
		if (err)
			libpss__file_put(snap->file);
		return err;
	}
	fd = fcntl(snap->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = snapshot_new(fd, dup);
	if (err)
		close_keep_errno(fd);
	return err;
}

LIBPSS_API int pss_snapshot_fd(const struct pss_snapshot *snap)
{
	if (!snap)
		return -EINVAL;
	/* a snapshot read from a file has no kernel object behind it */
	return snap->file ? -EOPNOTSUPP : snap->fd;
}

LIBPSS_API int pss_snapshot_from_fd(int fd, struct pss_snapshot **snap)
{
	struct pss_snapshot_info info;
	int err;

	if (!snap)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	err = query_fd(fd, PSS_QUERY_SNAPSHOT, &info, sizeof(info));
	if (err)
		return err;
	if (info.size < PSS_SNAPSHOT_INFO_SIZE_VER0)
		return -EPROTO;
	return snapshot_new(fd, snap);
}

LIBPSS_API int pss_get_version(struct pss_version *ver, size_t len)
{
	int fd, ret;

	if (!ver || len < PSS_VERSION_SIZE_VER0 || len > UINT32_MAX)
		return -EINVAL;
	fd = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(ver, 0, len);
	ver->size = (__u32)len;
	ret = libpss__ioctl(fd, PSS_IOC_VERSION, ver);
	close_keep_errno(fd);
	return ret < 0 ? ret : 0;
}
