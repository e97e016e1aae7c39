// SPDX-License-Identifier: GPL-2.0
/*
 * pss(1): one capture per target, copied out of the snapshot, and the
 * mapping of libpss errors to messages and exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pss.h"

static bool is_kthread(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long flags = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* after ')': state ppid pgrp session tty_nr tpgid flags */
	for (i = 0; i < 7 && p; i++) {
		p++;
		while (*p == ' ')
			p++;
		if (i == 6)
			flags = strtoul(p, NULL, 10);
		p = strchr(p, ' ');
	}
	return flags & 0x00200000;	/* PF_KTHREAD */
}

/* One line on stderr for a negative errno from libpss; the exit code. */
/*
 * Set while a capture with kernel stacks may fail for them (EOPNOTSUPP,
 * EACCES) and be tried again without: the second attempt speaks.
 */
static bool quiet_unsupported;

static int report(int err, pid_t pid, int pidfd, const char *what)
{
	char who[48];
	int e = -err;

	if (quiet_unsupported && (e == EOPNOTSUPP || e == EACCES))
		return EXIT_UNSUPP;

	if (pidfd >= 0)
		snprintf(who, sizeof(who), "pidfd %d", pidfd);
	else
		snprintf(who, sizeof(who), "PID %d", (int)pid);

	switch (e) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		warnx_("%s: %s: the pss kernel module is not loaded (try 'modprobe pss')",
		       PSS_DEVICE_PATH, strerror(e));
		return EXIT_NOMODULE;
	case ESRCH:
		warnx_("%s: no such process", who);
		return EXIT_NOPROC;
	case EPERM:
	case EACCES:
		if (!strcmp(what, "open"))
			warnx_("%s: permission denied", PSS_DEVICE_PATH);
		else if (pid > 0 && is_kthread(pid))
			warnx_("%s: permission denied: kernel threads cannot be snapshotted",
			       who);
		else
			warnx_("%s: permission denied: snapshotting another process needs CAP_SYS_PTRACE in the initial user namespace",
			       who);
		return EXIT_PERM;
	case EBADF:
	case EBADFD:
		warnx_("%s: not a pidfd (%s)", who, strerror(e));
		return EXIT_FAIL;
	case ENOTTY:
	case EOPNOTSUPP:
	case ENOSYS:
	case EPROTO:
		/* what an older module, or no pss module at all, answers */
		warnx_("%s: unsupported by the loaded pss module (%s)", what,
		       strerror(e));
		return EXIT_UNSUPP;
	case EAGAIN:
		warnx_("%s: the process kept changing during the capture; try again",
		       who);
		return EXIT_FAIL;
	case ENOBUFS:
		warnx_("%s: the snapshot would exceed the module's max_snapshot_bytes",
		       who);
		return EXIT_FAIL;
	case EDQUOT:
		warnx_("%s: snapshots already held use the module's memory quota "
		       "(max_user_bytes, max_total_bytes); close some", who);
		return EXIT_FAIL;
	default:
		/* EINVAL included: a bug here or in the module, never "unsupported" */
		warnx_("%s: %s: %s", who, what, strerror(e));
		return EXIT_FAIL;
	}
}

static int collect(struct pss_snapshot *snap, enum pss_walk_class wc,
		   struct recs *out)
{
	struct pss_walk_marker *m;
	const void *e;
	size_t len, cap = 0;
	int ret;

	ret = pss_walk_marker_create(snap, wc, NULL, &m);
	if (ret < 0)
		return ret;
	while ((ret = pss_walk(m, &e, &len)) == 1) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 64;
			out->v = xrealloc(out->v, cap * sizeof(*out->v));
		}
		out->v[out->n].p = xcalloc(1, len);
		memcpy(out->v[out->n].p, e, len);
		out->v[out->n].len = len;
		out->n++;
	}
	pss_walk_marker_free(m);
	return ret < 0 ? ret : 0;
}

/*
 * Copy what facets asks for out of snap into d. Returns 0 or the negative
 * errno of the query or walk that failed; *what names it.
 */
int snapdata_load(struct pss_snapshot *snap, __u64 facets, struct snapdata *d,
		  const char **what)
{
	int ret;

	*what = "query";
	ret = pss_query(snap, PSS_QUERY_SNAPSHOT, &d->si, sizeof(d->si));
	if (!ret)
		ret = pss_query(snap, PSS_QUERY_PROCESS, &d->pi, sizeof(d->pi));
	if (ret < 0)
		return ret;
	d->pid = d->pi.pid;
	if (facets & PSS_FACET_MEASURE_PERFORMANCE) {
		ret = pss_query(snap, PSS_QUERY_PERFORMANCE, &d->perf,
				sizeof(d->perf));
		if (!ret) {
			d->have_perf = true;
		} else if (ret != -ENODATA) {
			*what = "query performance";
			return ret;
		}
	}
	ret = 0;
	*what = "walk";
	if (facets & PSS_FACET_THREADS) {
		ret = collect(snap, PSS_WALK_THREADS, &d->threads);
		d->have_threads = !ret;
	}
	if (!ret && (facets & PSS_FACET_HANDLES)) {
		ret = collect(snap, PSS_WALK_HANDLES, &d->fds);
		d->have_fds = !ret;
	}
	if (!ret && (facets & PSS_FACET_VA_SPACE)) {
		ret = collect(snap, PSS_WALK_VA_SPACE, &d->maps);
		d->have_maps = !ret;
	}
	if (!ret && (facets & PSS_FACET_THREAD_CONTEXT)) {
		ret = collect(snap, PSS_WALK_CONTEXTS, &d->ctx);
		d->have_ctx = !ret;
	}
	if (!ret && (facets & PSS_FACET_THREAD_KSTACK)) {
		ret = collect(snap, PSS_WALK_KSTACKS, &d->kstacks);
		d->have_kstacks = !ret;
	}
	if (!ret && (facets & PSS_FACET_MEMORY)) {
		ret = collect(snap, PSS_WALK_MEMORY, &d->mem);
		d->have_mem = !ret;
	}
	return ret;
}

/*
 * Capture pid (or the process of pidfd, if pidfd >= 0) with facets into d;
 * with opt.save, also write the snapshot to that file.
 * Returns EXIT_OK, or the exit code after one line on stderr.
 */
int capture(pid_t pid, int pidfd, __u64 facets, struct snapdata *d)
{
	PSS_OPTS(pss_capture_opts, o, .facets = facets);

	return capture_opts(pid, pidfd, &o, facets, d, NULL);
}

/*
 * capture() with every capture option in o (its pid, pidfd and flags are
 * set here), loading the facets of load into d. With snapp, the snapshot
 * is kept there for the caller to free, on success.
 */
int capture_opts(pid_t pid, int pidfd, struct pss_capture_opts *o,
		 __u64 load, struct snapdata *d, struct pss_snapshot **snapp)
{
	struct pss_snapshot *snap = NULL;
	__u64 facets = load;
	const char *what;
	int ret, own = -1, code = EXIT_OK;

	memset(d, 0, sizeof(*d));
	d->pid = pid;

	if (pidfd < 0 && opt.pidfd) {
		own = (int)syscall(SYS_pidfd_open, pid, 0);
		if (own < 0) {
			if (errno == ESRCH || errno == ENOSYS)
				return report(-errno, pid, -1, "pidfd_open");
			warnx_("pidfd_open(%d): %s", (int)pid, strerror(errno));
			return EXIT_FAIL;
		}
		pidfd = own;
	}
	if (pidfd >= 0) {
		o->flags = PSS_CAPTURE_PIDFD;
		o->pidfd = pidfd;
		o->pid = 0;
	} else {
		o->flags = 0;
		o->pidfd = 0;
		o->pid = pid;
	}
	ret = pss_capture(o, &snap);
	if (own >= 0)
		close(own);
	if (ret < 0) {
		/* tell "module not loaded" apart from "no permission on it" */
		if (ret == -EACCES && access(PSS_DEVICE_PATH, R_OK) != 0)
			return report(ret, pid, -1, "open");
		return report(ret, pid, own >= 0 ? -1 : pidfd, "capture");
	}

	ret = snapdata_load(snap, facets, d, &what);
	if (ret < 0) {
		code = report(ret, pid, pidfd, what);
		goto out;
	}
	if (opt.save)
		code = file_save(snap, opt.save);
out:
	if (snapp && code == EXIT_OK)
		*snapp = snap;
	else
		pss_snapshot_free(snap);
	return code;
}

static void free_recs(struct recs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i].p);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

void snapdata_free(struct snapdata *d)
{
	free_recs(&d->threads);
	free_recs(&d->fds);
	free_recs(&d->maps);
	free_recs(&d->ctx);
	free_recs(&d->kstacks);
	free_recs(&d->mem);
	free_recs(&d->frames);
}

/*
 * capture_opts() with the kernel stacks if the module gives them: they need
 * CAP_SYS_ADMIN (EACCES, as /proc/PID/stack), and a module may not have
 * them (EOPNOTSUPP, or not in PSS_IOC_VERSION's capture flags). *kstacks
 * says whether they are in the capture.
 */
int capture_try_kstacks(pid_t pid, int pidfd, struct pss_capture_opts *o,
			__u64 load, struct snapdata *d, struct pss_snapshot **snapp,
			bool *kstacks)
{
	struct pss_version ver;
	int code;

	memset(&ver, 0, sizeof(ver));
	if (geteuid() != 0 ||
	    (!pss_get_version(&ver, sizeof(ver)) &&
	     !(ver.capture_flags & PSS_FACET_THREAD_KSTACK)))
		o->facets &= ~PSS_FACET_THREAD_KSTACK;
	if (o->facets & PSS_FACET_THREAD_KSTACK) {
		quiet_unsupported = true;
		code = capture_opts(pid, pidfd, o, load, d, snapp);
		quiet_unsupported = false;
		if (code != EXIT_UNSUPP) {
			*kstacks = code == EXIT_OK;
			return code;
		}
		o->facets &= ~PSS_FACET_THREAD_KSTACK;
	}
	*kstacks = false;
	return capture_opts(pid, pidfd, o, load & ~PSS_FACET_THREAD_KSTACK, d,
			    snapp);
}
