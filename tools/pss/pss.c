// SPDX-License-Identifier: GPL-2.0
/*
 * pss - ps, lsof and pmap views of one atomic process snapshot.
 *
 *   pss show PID        process summary (process facet and counts)
 *   pss threads PID     one row per thread (like ps -L)
 *   pss fds PID         one row per open fd (like lsof -p)
 *   pss maps PID        one row per mapping (like pmap -x, /proc/PID/maps)
 *   pss snapshot PID    all of the above from ONE capture; --json: one
 *                       JSON document (schema in pss(1))
 *
 * Tables are libsmartcols tables, so the options behave as in lsblk and
 * findmnt. Exit codes (also in pss(1) and --help):
 *   0 success, 1 other failure, 2 usage error, 3 pss module not loaded,
 *   4 no such process, 5 permission denied, 6 unsupported by the module.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <libsmartcols.h>

#include "libpss.h"

#ifndef PSS_TOOL_VERSION
#define PSS_TOOL_VERSION "0.1.0"
#endif

/* Output JSON document version (pss snapshot --json: "pss_json_version"). */
#define PSS_JSON_VERSION 1

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum {
	EXIT_OK		= 0,
	EXIT_FAIL	= 1,	/* anything else (ENOMEM, EAGAIN, ENOBUFS, ...) */
	EXIT_USAGE	= 2,	/* bad option, argument or column name */
	EXIT_NOMODULE	= 3,	/* /dev/pss missing: module not loaded */
	EXIT_NOPROC	= 4,	/* no such process */
	EXIT_PERM	= 5,	/* permission denied (or a kernel thread) */
	EXIT_UNSUPP	= 6,	/* the module does not support the request */
};

/* ------------------------------------------------------------ options */

enum view { V_SHOW, V_THREADS, V_FDS, V_MAPS, V_SNAPSHOT, V_NR };

static const char *const view_names[V_NR] = {
	[V_SHOW] = "show", [V_THREADS] = "threads", [V_FDS] = "fds",
	[V_MAPS] = "maps", [V_SNAPSHOT] = "snapshot",
};

static struct {
	const char *output;	/* -o */
	bool output_all;
	bool list_columns;
	bool noheadings;
	bool raw;
	bool json;
	bool bytes;
	bool pidfd;
} opt;

static const char *prog = "pss";

static void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warnx_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((noreturn)) usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try '%s --help')\n", prog);
	exit(EXIT_USAGE);
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p) {
		warnx_("out of memory");
		exit(EXIT_FAIL);
	}
	return p;
}

static void *xrealloc(void *p, size_t sz)
{
	p = realloc(p, sz ? sz : 1);
	if (!p) {
		warnx_("out of memory");
		exit(EXIT_FAIL);
	}
	return p;
}

/* ------------------------------------------------------------ data */

struct rec {
	void *p;		/* a private copy of the record */
	size_t len;
};

struct recs {
	struct rec *v;
	size_t n;
};

struct snapdata {
	pid_t pid;
	struct pss_snapshot_info si;
	struct pss_process_info pi;
	struct pss_perf_info perf;
	bool have_perf;
	bool have_threads, have_fds, have_maps;
	struct recs threads, fds, maps;
};

/* A record, zero-extended (older kernel) or truncated (newer) to our size. */
#define FIXED(TYPE, VAR, REC)						\
	TYPE VAR;							\
	do {								\
		memset(&VAR, 0, sizeof(VAR));				\
		memcpy(&VAR, (REC)->p, (REC)->len < sizeof(VAR) ?	\
		       (REC)->len : sizeof(VAR));			\
	} while (0)

static int die_errno(int err, const struct snapdata *d, const char *what);

static int read_kthread_flag(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long flags = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	/* after ')': state ppid pgrp session tty_nr tpgid flags */
	for (i = 0; i < 7 && p; i++) {
		while (*p == ' ')
			p++;
		if (i == 6)
			flags = strtoul(p, NULL, 10);
		p = strchr(p, ' ');
	}
	return (flags & 0x00200000) != 0;	/* PF_KTHREAD */
}

/*
 * Map a negative errno from libpss to one line on stderr and an exit code.
 */
static int die_errno(int err, const struct snapdata *d, const char *what)
{
	int e = -err;
	pid_t pid = d ? d->pid : 0;

	switch (e) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		warnx_("%s: %s: the pss kernel module is not loaded (try 'modprobe pss')",
		       PSS_DEVICE_PATH, strerror(e));
		return EXIT_NOMODULE;
	case ESRCH:
		warnx_("PID %d: no such process", (int)pid);
		return EXIT_NOPROC;
	case EPERM:
	case EACCES:
		if (what && !strcmp(what, "open"))
			warnx_("%s: permission denied", PSS_DEVICE_PATH);
		else if (pid > 0 && read_kthread_flag(pid))
			warnx_("PID %d: permission denied: kernel threads cannot be snapshotted",
			       (int)pid);
		else
			warnx_("PID %d: permission denied: snapshotting another process needs CAP_SYS_PTRACE",
			       (int)pid);
		return EXIT_PERM;
	case ENOTTY:
	case EOPNOTSUPP:
	case ENOSYS:
	case EINVAL:
	case E2BIG:
	case EPROTO:
		warnx_("%s: unsupported by the loaded pss module (%s)",
		       what ? what : "request", strerror(e));
		return EXIT_UNSUPP;
	case EAGAIN:
		warnx_("PID %d: the process kept changing during the capture; try again",
		       (int)pid);
		return EXIT_FAIL;
	case ENOBUFS:
		warnx_("PID %d: the snapshot would exceed the module's size limit (max_snapshot_bytes)",
		       (int)pid);
		return EXIT_FAIL;
	default:
		warnx_("%s: %s", what ? what : "pss", strerror(e));
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
	out->v = NULL;
	out->n = 0;
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

static pid_t parse_pid(const char *s)
{
	char *end;
	long v;

	if (!strcmp(s, "self"))
		return getpid();
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT32_MAX)
		usage_error("invalid PID '%s'", s);
	return (pid_t)v;
}

/* Capture PID with the facets of the view; exits with the right code. */
static void capture(pid_t pid, __u64 facets, struct snapdata *d)
{
	struct pss_snapshot *snap = NULL;
	int ret, pidfd = -1;

	memset(d, 0, sizeof(*d));
	d->pid = pid;

	if (opt.pidfd) {
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pidfd < 0) {
			if (errno == ESRCH)
				exit(die_errno(-ESRCH, d, "pidfd_open"));
			warnx_("pidfd_open(%d): %s", (int)pid, strerror(errno));
			exit(errno == ENOSYS ? EXIT_UNSUPP : EXIT_FAIL);
		}
		ret = pss_capture_pidfd(pidfd, facets, &snap);
	} else {
		ret = pss_capture_pid(pid, facets, &snap);
	}
	if (pidfd >= 0)
		close(pidfd);
	if (ret < 0) {
		/* tell "module not loaded" apart from "no permission on it" */
		if (ret == -EACCES && access(PSS_DEVICE_PATH, R_OK) != 0)
			exit(die_errno(ret, d, "open"));
		exit(die_errno(ret, d, "capture"));
	}

	ret = pss_query(snap, PSS_QUERY_SNAPSHOT, &d->si, sizeof(d->si));
	if (!ret)
		ret = pss_query(snap, PSS_QUERY_PROCESS, &d->pi, sizeof(d->pi));
	if (ret < 0)
		exit(die_errno(ret, d, "query"));
	if (facets & PSS_FACET_MEASURE_PERFORMANCE) {
		ret = pss_query(snap, PSS_QUERY_PERFORMANCE, &d->perf,
				sizeof(d->perf));
		if (!ret)
			d->have_perf = true;
		else if (ret != -ENODATA)
			exit(die_errno(ret, d, "query performance"));
	}
	if (facets & PSS_FACET_THREADS) {
		ret = collect(snap, PSS_WALK_THREADS, &d->threads);
		if (ret < 0)
			exit(die_errno(ret, d, "walk threads"));
		d->have_threads = true;
	}
	if (facets & PSS_FACET_HANDLES) {
		ret = collect(snap, PSS_WALK_HANDLES, &d->fds);
		if (ret < 0)
			exit(die_errno(ret, d, "walk fds"));
		d->have_fds = true;
	}
	if (facets & PSS_FACET_VA_SPACE) {
		ret = collect(snap, PSS_WALK_VA_SPACE, &d->maps);
		if (ret < 0)
			exit(die_errno(ret, d, "walk maps"));
		d->have_maps = true;
	}
	pss_snapshot_free(snap);
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

/* ------------------------------------------------------------ formatting */

struct buf {
	char s[8192];
};

static const char *fmt_u64(struct buf *b, __u64 v)
{
	snprintf(b->s, sizeof(b->s), "%" PRIu64, (uint64_t)v);
	return b->s;
}

static const char *fmt_s64(struct buf *b, long long v)
{
	snprintf(b->s, sizeof(b->s), "%lld", v);
	return b->s;
}

static const char *fmt_hex(struct buf *b, __u64 v)
{
	snprintf(b->s, sizeof(b->s), "0x%" PRIx64, (uint64_t)v);
	return b->s;
}

/* Sizes: human readable (as lsblk) unless -b, or always bytes if @bytes. */
static const char *fmt_size(struct buf *b, __u64 v)
{
	static const char units[] = "BKMGTPE";
	unsigned int exp = 0;
	double d;

	if (opt.bytes)
		return fmt_u64(b, v);
	while (exp < sizeof(units) - 2 && v >= (1ULL << (10 * (exp + 1))))
		exp++;
	if (!exp) {
		snprintf(b->s, sizeof(b->s), "%" PRIu64 "B", (uint64_t)v);
		return b->s;
	}
	d = (double)v / (double)(1ULL << (10 * exp));
	if ((double)(__u64)(d + 0.05) == (double)(__u64)d &&
	    d - (double)(__u64)d < 0.05)
		snprintf(b->s, sizeof(b->s), "%.0f%c", d, units[exp]);
	else
		snprintf(b->s, sizeof(b->s), "%.1f%c", d, units[exp]);
	return b->s;
}

/* Nanoseconds as seconds with 2 decimals (a JSON number too). */
static const char *fmt_secs(struct buf *b, __u64 ns)
{
	snprintf(b->s, sizeof(b->s), "%" PRIu64 ".%02" PRIu64,
		 (uint64_t)(ns / 1000000000ULL),
		 (uint64_t)(ns % 1000000000ULL / 10000000ULL));
	return b->s;
}

static const char *fmt_dev(struct buf *b, __u32 maj, __u32 min)
{
	snprintf(b->s, sizeof(b->s), "%u:%u", maj, min);
	return b->s;
}

/* A cpu bitmap as a list: "0-3,8". */
static const char *fmt_cpus(struct buf *b, const __u64 *w, size_t nwords)
{
	size_t n = 0, bits = nwords * 64, i;
	char *s = b->s;

	s[0] = '\0';
	for (i = 0; i < bits; i++) {
		size_t j;

		if (!(w[i / 64] & (1ULL << (i % 64))))
			continue;
		j = i;
		while (j + 1 < bits && (w[(j + 1) / 64] & (1ULL << ((j + 1) % 64))))
			j++;
		if (n + 32 >= sizeof(b->s))
			break;
		if (j == i)
			n += snprintf(s + n, sizeof(b->s) - n, "%s%zu", n ? "," : "", i);
		else
			n += snprintf(s + n, sizeof(b->s) - n, "%s%zu-%zu", n ? "," : "", i, j);
		i = j;
	}
	return s;
}

static const char *policy_name(__u32 policy)
{
	switch (policy) {
	case 0: return "other";
	case 1: return "fifo";
	case 2: return "rr";
	case 3: return "batch";
	case 5: return "idle";
	case 6: return "deadline";
	default: return "unknown";
	}
}

static const char *family_name(unsigned int f, struct buf *b)
{
	switch (f) {
	case 1: return "unix";
	case 2: return "inet";
	case 10: return "inet6";
	case 16: return "netlink";
	case 17: return "packet";
	case 40: return "vsock";
	default:
		snprintf(b->s, sizeof(b->s), "af%u", f);
		return b->s;
	}
}

static const char *socktype_name(unsigned int t, struct buf *b)
{
	switch (t) {
	case 1: return "stream";
	case 2: return "dgram";
	case 3: return "raw";
	case 4: return "rdm";
	case 5: return "seqpacket";
	case 6: return "dccp";
	case 10: return "packet";
	default:
		snprintf(b->s, sizeof(b->s), "type%u", t);
		return b->s;
	}
}

static const char *proto_name(unsigned int family, unsigned int p, struct buf *b)
{
	if (family == 2 || family == 10) {
		switch (p) {
		case 0: return "ip";
		case 1: return "icmp";
		case 6: return "tcp";
		case 17: return "udp";
		case 58: return "icmpv6";
		case 132: return "sctp";
		case 136: return "udplite";
		case 255: return "raw";
		}
	}
	snprintf(b->s, sizeof(b->s), "%u", p);
	return b->s;
}

static const char *sk_state_name(unsigned int s)
{
	static const char *const names[] = {
		[0] = "unknown", [1] = "established", [2] = "syn_sent",
		[3] = "syn_recv", [4] = "fin_wait1", [5] = "fin_wait2",
		[6] = "time_wait", [7] = "close", [8] = "close_wait",
		[9] = "last_ack", [10] = "listen", [11] = "closing",
		[12] = "new_syn_recv",
	};

	return s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

static const char *ss_state_name(unsigned int s)
{
	static const char *const names[] = {
		"free", "unconnected", "connecting", "connected", "disconnecting",
	};

	return s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

struct bitname {
	__u64 bit;
	const char *name;
};

static const char *fmt_bits(struct buf *b, __u64 v, const struct bitname *t,
			    size_t n)
{
	size_t i, len = 0;

	b->s[0] = '\0';
	for (i = 0; i < n; i++)
		if (v & t[i].bit)
			len += snprintf(b->s + len, sizeof(b->s) - len, "%s%s",
					len ? "," : "", t[i].name);
	return b->s;
}

static const struct bitname proc_flag_names[] = {
	{ PSS_PROC_ZOMBIE, "zombie" },	{ PSS_PROC_STOPPED, "stopped" },
	{ PSS_PROC_TRACED, "traced" },	{ PSS_PROC_COMPAT, "compat" },
	{ PSS_PROC_EXITING, "exiting" },
	{ PSS_PROC_LEADER_EXITED, "leader_exited" },
	{ PSS_PROC_SELF, "self" },	{ PSS_PROC_EXE_DELETED, "exe_deleted" },
};

static const struct bitname thread_flag_names[] = {
	{ PSS_THREAD_LEADER, "leader" },   { PSS_THREAD_EXITING, "exiting" },
	{ PSS_THREAD_STOPPED, "stopped" }, { PSS_THREAD_TRACED, "traced" },
	{ PSS_THREAD_CALLER, "caller" },
};

static const struct bitname vma_flag_names[] = {
	{ PSS_VMA_SHARED, "shared" },	{ PSS_VMA_GROWSDOWN, "growsdown" },
	{ PSS_VMA_LOCKED, "locked" },	{ PSS_VMA_HUGETLB, "hugetlb" },
	{ PSS_VMA_IO, "io" },		{ PSS_VMA_PFNMAP, "pfnmap" },
	{ PSS_VMA_DONTDUMP, "dontdump" }, { PSS_VMA_DONTFORK, "dontfork" },
	{ PSS_VMA_WIPEONFORK, "wipeonfork" }, { PSS_VMA_MAYSHARE, "mayshare" },
	{ PSS_VMA_DELETED, "deleted" },	{ PSS_VMA_ACCOUNT, "account" },
	{ PSS_VMA_NORESERVE, "noreserve" }, { PSS_VMA_MERGEABLE, "mergeable" },
	{ PSS_VMA_HUGEPAGE, "hugepage" }, { PSS_VMA_NOHUGEPAGE, "nohugepage" },
};

/* fd status flags (F_GETFL) that are worth showing, lower case. */
static const char *fmt_open_flags(struct buf *b, __u32 f, __u32 hflags)
{
	size_t len = 0;

#define ADD(cond, name) do { if (cond) len += snprintf(b->s + len,		\
		sizeof(b->s) - len, "%s%s", len ? "," : "", name); } while (0)
	b->s[0] = '\0';
	if (f & O_PATH) {
		ADD(1, "path");
	} else {
		switch (f & O_ACCMODE) {
		case O_RDONLY: ADD(1, "rdonly"); break;
		case O_WRONLY: ADD(1, "wronly"); break;
		default: ADD(1, "rdwr"); break;
		}
	}
	ADD(hflags & PSS_HANDLE_CLOEXEC, "cloexec");
	ADD(f & O_APPEND, "append");
	ADD(f & O_NONBLOCK, "nonblock");
	ADD((f & O_SYNC) == O_SYNC, "sync");
	ADD((f & O_SYNC) != O_SYNC && (f & O_DSYNC), "dsync");
	ADD(f & O_ASYNC, "async");
	ADD(f & O_DIRECT, "direct");
	ADD(f & O_NOATIME, "noatime");
	ADD(f & O_NOFOLLOW, "nofollow");
#undef ADD
	return b->s;
}

static const char *fmode_str(__u32 fmode)
{
	switch (fmode & (PSS_FMODE_READ | PSS_FMODE_WRITE)) {
	case PSS_FMODE_READ: return "r";
	case PSS_FMODE_WRITE: return "w";
	case PSS_FMODE_READ | PSS_FMODE_WRITE: return "rw";
	default: return "-";
	}
}

static const char *fmt_perms(struct buf *b, const struct pss_vma_entry *v)
{
	snprintf(b->s, sizeof(b->s), "%c%c%c%c",
		 v->prot & PSS_PROT_READ ? 'r' : '-',
		 v->prot & PSS_PROT_WRITE ? 'w' : '-',
		 v->prot & PSS_PROT_EXEC ? 'x' : '-',
		 v->flags & PSS_VMA_SHARED ? 's' : 'p');
	return b->s;
}

/* type-specific detail of one fd, e.g. "unix stream listen" */
static const char *fmt_fd_detail(struct buf *b, const struct pss_handle_entry *h)
{
	struct buf t1, t2, t3;

	b->s[0] = '\0';
	if (h->flags & PSS_HANDLE_HAS_SOCKET) {
		const struct pss_handle_socket *s = &h->u.socket;

		snprintf(b->s, sizeof(b->s), "%s %s", family_name(s->family, &t1),
			 socktype_name(s->type, &t2));
		if (s->family == 2 || s->family == 10 || s->protocol)
			snprintf(b->s + strlen(b->s), sizeof(b->s) - strlen(b->s),
				 " %s", proto_name(s->family, s->protocol, &t3));
		snprintf(b->s + strlen(b->s), sizeof(b->s) - strlen(b->s), " %s",
			 s->family == 1 && s->state == 7 ?
			 ss_state_name(s->sock_state) : sk_state_name(s->state));
	} else if (h->flags & PSS_HANDLE_HAS_PIPE) {
		snprintf(b->s, sizeof(b->s), "size=%u readers=%u writers=%u",
			 h->u.pipe.buf_size, h->u.pipe.readers, h->u.pipe.writers);
	}
	return b->s;
}

static const char *user_name(struct buf *b, __u32 uid)
{
	struct passwd *pw = getpwuid(uid);

	if (pw && pw->pw_name)
		snprintf(b->s, sizeof(b->s), "%s", pw->pw_name);
	else
		snprintf(b->s, sizeof(b->s), "%u", uid);
	return b->s;
}

/* ------------------------------------------------------------ columns */

struct colinfo {
	const char *name;
	double whint;
	int flags;		/* SCOLS_FL_* */
	int json;		/* SCOLS_JSON_* */
	bool size;		/* a size: a JSON number only with -b */
	const char *help;
};

#define R SCOLS_FL_RIGHT

#define N SCOLS_JSON_NUMBER
#define S SCOLS_JSON_STRING
#define B SCOLS_JSON_BOOLEAN

enum {
	P_PID, P_PPID, P_PGID, P_SID, P_USER, P_RUID, P_EUID, P_SUID, P_FSUID,
	P_RGID, P_EGID, P_SGID, P_FSGID, P_STATE, P_FLAGS, P_NTHREADS, P_NFDS,
	P_NMAPS, P_VSZ, P_RSS, P_RSSANON, P_RSSFILE, P_RSSSHMEM, P_HWM, P_VMPEAK,
	P_LOCKED, P_PINNED, P_DATA, P_STACK, P_EXEC, P_START, P_UTIME, P_STIME,
	P_TIME, P_MINFLT, P_MAJFLT, P_PRI, P_NI, P_POLICY, P_RTPRIO, P_CPUS,
	P_NCPUS, P_EXIT, P_COMM, P_EXE,
};

static const struct colinfo show_cols[] = {
	[P_PID]      = { "PID", 5, R, N, 0, "process id" },
	[P_PPID]     = { "PPID", 5, R, N, 0, "parent process id" },
	[P_PGID]     = { "PGID", 5, R, N, 0, "process group id" },
	[P_SID]      = { "SID", 5, R, N, 0, "session id" },
	[P_USER]     = { "USER", 8, 0, S, 0, "effective user name" },
	[P_RUID]     = { "RUID", 5, R, N, 0, "real user id" },
	[P_EUID]     = { "EUID", 5, R, N, 0, "effective user id" },
	[P_SUID]     = { "SUID", 5, R, N, 0, "saved user id" },
	[P_FSUID]    = { "FSUID", 5, R, N, 0, "filesystem user id" },
	[P_RGID]     = { "RGID", 5, R, N, 0, "real group id" },
	[P_EGID]     = { "EGID", 5, R, N, 0, "effective group id" },
	[P_SGID]     = { "SGID", 5, R, N, 0, "saved group id" },
	[P_FSGID]    = { "FSGID", 5, R, N, 0, "filesystem group id" },
	[P_STATE]    = { "STATE", 1, 0, S, 0, "state letter of the leader (R, S, D, T, Z, ...)" },
	[P_FLAGS]    = { "FLAGS", 6, 0, S, 0, "zombie, stopped, traced, compat, exiting, leader_exited, self, exe_deleted" },
	[P_NTHREADS] = { "THREADS", 3, R, N, 0, "live threads at the cut" },
	[P_NFDS]     = { "FDS", 3, R, N, 0, "open file descriptors at the cut" },
	[P_NMAPS]    = { "MAPS", 3, R, N, 0, "memory mappings (VMAs) at the cut" },
	[P_VSZ]      = { "VSZ", 6, R, N, 1, "virtual memory size" },
	[P_RSS]      = { "RSS", 6, R, N, 1, "resident set size (anon + file + shmem)" },
	[P_RSSANON]  = { "RSS-ANON", 6, R, N, 1, "resident anonymous memory" },
	[P_RSSFILE]  = { "RSS-FILE", 6, R, N, 1, "resident file-backed memory" },
	[P_RSSSHMEM] = { "RSS-SHMEM", 6, R, N, 1, "resident shared memory" },
	[P_HWM]      = { "RSS-PEAK", 6, R, N, 1, "peak resident set size" },
	[P_VMPEAK]   = { "VSZ-PEAK", 6, R, N, 1, "peak virtual memory size" },
	[P_LOCKED]   = { "LOCKED", 6, R, N, 1, "mlocked memory" },
	[P_PINNED]   = { "PINNED", 6, R, N, 1, "pinned memory" },
	[P_DATA]     = { "DATA", 6, R, N, 1, "data + anonymous memory size" },
	[P_STACK]    = { "STACK", 6, R, N, 1, "stack size" },
	[P_EXEC]     = { "TEXT", 6, R, N, 1, "executable mappings size" },
	[P_START]    = { "START", 6, R, N, 0, "start time, seconds since boot" },
	[P_UTIME]    = { "UTIME", 6, R, N, 0, "user cpu time of live threads, seconds" },
	[P_STIME]    = { "STIME", 6, R, N, 0, "system cpu time of live threads, seconds" },
	[P_TIME]     = { "TIME", 6, R, N, 0, "user + system cpu time, seconds" },
	[P_MINFLT]   = { "MINFLT", 6, R, N, 0, "minor page faults" },
	[P_MAJFLT]   = { "MAJFLT", 6, R, N, 0, "major page faults" },
	[P_PRI]      = { "PRI", 3, R, N, 0, "kernel priority (as /proc/PID/stat)" },
	[P_NI]       = { "NI", 3, R, N, 0, "nice value" },
	[P_POLICY]   = { "POLICY", 5, 0, S, 0, "scheduling policy" },
	[P_RTPRIO]   = { "RTPRIO", 3, R, N, 0, "real-time priority" },
	[P_CPUS]     = { "AFFINITY", 5, 0, S, 0, "cpus the leader may run on" },
	[P_NCPUS]    = { "NCPUS", 3, R, N, 0, "number of cpus in the affinity" },
	[P_EXIT]     = { "EXIT", 4, R, N, 0, "exit code (zombies)" },
	[P_COMM]     = { "COMM", 10, 0, S, 0, "command name" },
	[P_EXE]      = { "EXE", 20, 0, S, 0, "executable path" },
};

static const int show_default[] = {
	P_PID, P_PPID, P_USER, P_STATE, P_NTHREADS, P_NFDS, P_NMAPS, P_VSZ,
	P_RSS, P_TIME, P_COMM, P_EXE,
};

enum {
	TH_TID, TH_COMM, TH_STATE, TH_CPU, TH_UTIME, TH_STIME, TH_TIME,
	TH_START, TH_PRI, TH_NI, TH_POLICY, TH_RTPRIO, TH_NVCSW, TH_NIVCSW,
	TH_MINFLT, TH_MAJFLT, TH_AFFINITY, TH_FLAGS,
};

static const struct colinfo thread_cols[] = {
	[TH_TID]      = { "TID", 5, R, N, 0, "thread id" },
	[TH_COMM]     = { "COMM", 10, 0, S, 0, "thread name" },
	[TH_STATE]    = { "STATE", 1, 0, S, 0, "state letter (R, S, D, T, Z, ...)" },
	[TH_CPU]      = { "CPU", 3, R, N, 0, "cpu it last ran on" },
	[TH_UTIME]    = { "UTIME", 6, R, N, 0, "user cpu time, seconds" },
	[TH_STIME]    = { "STIME", 6, R, N, 0, "system cpu time, seconds" },
	[TH_TIME]     = { "TIME", 6, R, N, 0, "user + system cpu time, seconds" },
	[TH_START]    = { "START", 6, R, N, 0, "start time, seconds since boot" },
	[TH_PRI]      = { "PRI", 3, R, N, 0, "kernel priority" },
	[TH_NI]       = { "NI", 3, R, N, 0, "nice value" },
	[TH_POLICY]   = { "POLICY", 5, 0, S, 0, "scheduling policy" },
	[TH_RTPRIO]   = { "RTPRIO", 3, R, N, 0, "real-time priority" },
	[TH_NVCSW]    = { "NVCSW", 5, R, N, 0, "voluntary context switches" },
	[TH_NIVCSW]   = { "NIVCSW", 5, R, N, 0, "involuntary context switches" },
	[TH_MINFLT]   = { "MINFLT", 5, R, N, 0, "minor page faults" },
	[TH_MAJFLT]   = { "MAJFLT", 5, R, N, 0, "major page faults" },
	[TH_AFFINITY] = { "AFFINITY", 5, 0, S, 0, "cpus the thread may run on" },
	[TH_FLAGS]    = { "FLAGS", 6, 0, S, 0, "leader, exiting, stopped, traced, caller" },
};

static const int thread_default[] = {
	TH_TID, TH_COMM, TH_STATE, TH_CPU, TH_TIME, TH_PRI, TH_NI, TH_POLICY,
	TH_NVCSW, TH_NIVCSW, TH_AFFINITY, TH_FLAGS,
};

enum {
	FD_FD, FD_TYPE, FD_MODE, FD_FLAGS, FD_OFLAGS, FD_POS, FD_DEVICE,
	FD_RDEV, FD_INODE, FD_SIZE, FD_IMODE, FD_DELETED, FD_DETAIL, FD_NAME,
};

static const struct colinfo fd_cols[] = {
	[FD_FD]      = { "FD", 3, R, N, 0, "file descriptor number" },
	[FD_TYPE]    = { "TYPE", 6, 0, S, 0, "regular, dir, chr, blk, fifo, pipe, socket, eventfd, epoll, ..." },
	[FD_MODE]    = { "MODE", 2, 0, S, 0, "opened for r, w or rw" },
	[FD_FLAGS]   = { "FLAGS", 10, 0, S, 0, "access mode and status flags (rdonly, cloexec, nonblock, append, ...)" },
	[FD_OFLAGS]  = { "OFLAGS", 6, R, S, 0, "raw F_GETFL flags, octal" },
	[FD_POS]     = { "POS", 5, R, N, 0, "file position" },
	[FD_DEVICE]  = { "DEVICE", 5, 0, S, 0, "device of the inode, MAJ:MIN" },
	[FD_RDEV]    = { "RDEV", 5, 0, S, 0, "device it is (chr/blk), MAJ:MIN" },
	[FD_INODE]   = { "INODE", 5, R, N, 0, "inode number" },
	[FD_SIZE]    = { "SIZE", 5, R, N, 1, "inode size" },
	[FD_IMODE]   = { "IMODE", 6, R, S, 0, "inode mode, octal" },
	[FD_DELETED] = { "DELETED", 1, R, B, 0, "1 if the file was unlinked, else 0" },
	[FD_DETAIL]  = { "DETAIL", 12, 0, S, 0, "socket family/type/protocol/state, pipe size/readers/writers" },
	[FD_NAME]    = { "NAME", 20, 0, S, 0, "path, or the kernel's name for it" },
};

static const int fd_default[] = {
	FD_FD, FD_TYPE, FD_MODE, FD_FLAGS, FD_POS, FD_DEVICE, FD_INODE,
	FD_DETAIL, FD_NAME,
};

enum {
	M_START, M_END, M_SIZE, M_PERMS, M_FLAGS, M_OFFSET, M_DEVICE, M_INODE,
	M_PAGESIZE, M_KIND, M_NAME,
};

static const struct colinfo map_cols[] = {
	[M_START]    = { "START", 12, R, S, 0, "start address, hex" },
	[M_END]      = { "END", 12, R, S, 0, "end address (exclusive), hex" },
	[M_SIZE]     = { "SIZE", 6, R, N, 1, "size of the mapping" },
	[M_PERMS]    = { "PERMS", 4, 0, S, 0, "r/w/x and s(hared)/p(rivate), as /proc/PID/maps" },
	[M_FLAGS]    = { "FLAGS", 6, 0, S, 0, "growsdown, locked, hugetlb, io, pfnmap, dontdump, ..." },
	[M_OFFSET]   = { "OFFSET", 6, R, S, 0, "file offset of the start, hex" },
	[M_DEVICE]   = { "DEVICE", 5, 0, S, 0, "device of the backing inode, MAJ:MIN" },
	[M_INODE]    = { "INODE", 5, R, N, 0, "backing inode number" },
	[M_PAGESIZE] = { "PAGESIZE", 4, R, N, 1, "kernel page size of the mapping" },
	[M_KIND]     = { "KIND", 4, 0, S, 0, "none, file, heap, stack, special, anon, anon_shmem" },
	[M_NAME]     = { "NAME", 20, 0, S, 0, "backing file path or [heap], [stack], [vdso], [anon:NAME]" },
};

static const int map_default[] = {
	M_START, M_END, M_SIZE, M_PERMS, M_OFFSET, M_DEVICE, M_INODE, M_NAME,
};

#undef R

#undef N
#undef S
#undef B

struct viewdef {
	const char *table_name;	/* JSON member */
	const struct colinfo *cols;
	size_t ncols;
	const int *defcols;
	size_t ndef;
	__u64 facets;
};

static const struct viewdef views[V_NR] = {
	[V_SHOW] = { "processes", show_cols, ARRAY_SIZE(show_cols),
		     show_default, ARRAY_SIZE(show_default),
		     PSS_FACET_THREADS | PSS_FACET_HANDLES | PSS_FACET_VA_SPACE },
	[V_THREADS] = { "threads", thread_cols, ARRAY_SIZE(thread_cols),
			thread_default, ARRAY_SIZE(thread_default),
			PSS_FACET_THREADS },
	[V_FDS] = { "fds", fd_cols, ARRAY_SIZE(fd_cols),
		    fd_default, ARRAY_SIZE(fd_default),
		    PSS_FACET_HANDLES | PSS_FACET_HANDLE_NAME |
		    PSS_FACET_HANDLE_BASIC | PSS_FACET_HANDLE_TYPE_SPECIFIC },
	[V_MAPS] = { "maps", map_cols, ARRAY_SIZE(map_cols),
		     map_default, ARRAY_SIZE(map_default),
		     PSS_FACET_VA_SPACE | PSS_FACET_VA_SPACE_SECTION },
};

static int column_by_name(const struct viewdef *v, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < v->ncols; i++)
		if (strlen(v->cols[i].name) == len &&
		    !strncasecmp(v->cols[i].name, name, len))
			return (int)i;
	return -1;
}

/* The columns to print: -o LIST, -o +LIST (defaults + LIST), --output-all. */
static size_t select_columns(const struct viewdef *v, int *ids, size_t max)
{
	const char *s = opt.output, *p;
	size_t n = 0, i;

	if (opt.output_all) {
		for (i = 0; i < v->ncols && n < max; i++)
			ids[n++] = (int)i;
		return n;
	}
	if (!s || *s == '+') {
		for (i = 0; i < v->ndef && n < max; i++)
			ids[n++] = v->defcols[i];
		if (!s)
			return n;
		s++;
	}
	while (*s) {
		size_t len;
		int id;

		p = strchr(s, ',');
		len = p ? (size_t)(p - s) : strlen(s);
		if (len) {
			id = column_by_name(v, s, len);
			if (id < 0)
				usage_error("unknown column '%.*s' for '%s' (see --list-columns)",
					    (int)len, s, v->table_name);
			if (n >= max)
				usage_error("too many columns");
			ids[n++] = id;
		}
		s += len;
		if (*s == ',')
			s++;
	}
	if (!n)
		usage_error("no columns selected");
	return n;
}

static struct libscols_table *new_table(const struct viewdef *v,
					const int *ids, size_t n)
{
	struct libscols_table *tb = scols_new_table();
	size_t i;

	if (!tb) {
		warnx_("out of memory");
		exit(EXIT_FAIL);
	}
	scols_table_enable_raw(tb, opt.raw);
	scols_table_enable_json(tb, opt.json);
	scols_table_enable_noheadings(tb, opt.noheadings);
	scols_table_set_name(tb, v->table_name);
	for (i = 0; i < n; i++) {
		const struct colinfo *ci = &v->cols[ids[i]];
		struct libscols_column *cl;

		cl = scols_table_new_column(tb, ci->name, ci->whint, ci->flags);
		if (!cl) {
			warnx_("out of memory");
			exit(EXIT_FAIL);
		}
		if (opt.json) {
			int jt = ci->json;

			if (ci->size && !opt.bytes)
				jt = SCOLS_JSON_STRING;
			scols_column_set_json_type(cl, jt);
		}
	}
	return tb;
}

static void set_cell(struct libscols_line *ln, size_t i, const char *s)
{
	if (s && *s && scols_line_set_data(ln, i, s)) {
		warnx_("out of memory");
		exit(EXIT_FAIL);
	}
}

/* ------------------------------------------------------------ rows */

static const char *show_cell(int id, const struct snapdata *d, struct buf *b)
{
	const struct pss_process_info *p = &d->pi;
	bool ids = p->mask & PSS_PROC_HAS_IDS, mm = p->mask & PSS_PROC_HAS_MM;
	bool tm = p->mask & PSS_PROC_HAS_TIMES, sc = p->mask & PSS_PROC_HAS_SCHED;

	switch (id) {
	case P_PID: return fmt_s64(b, p->pid);
	case P_PPID: return ids ? fmt_s64(b, p->ppid) : NULL;
	case P_PGID: return ids ? fmt_s64(b, p->pgid) : NULL;
	case P_SID: return ids ? fmt_s64(b, p->sid) : NULL;
	case P_USER: return ids ? user_name(b, p->euid) : NULL;
	case P_RUID: return ids ? fmt_u64(b, p->ruid) : NULL;
	case P_EUID: return ids ? fmt_u64(b, p->euid) : NULL;
	case P_SUID: return ids ? fmt_u64(b, p->suid) : NULL;
	case P_FSUID: return ids ? fmt_u64(b, p->fsuid) : NULL;
	case P_RGID: return ids ? fmt_u64(b, p->rgid) : NULL;
	case P_EGID: return ids ? fmt_u64(b, p->egid) : NULL;
	case P_SGID: return ids ? fmt_u64(b, p->sgid) : NULL;
	case P_FSGID: return ids ? fmt_u64(b, p->fsgid) : NULL;
	case P_STATE:
		snprintf(b->s, sizeof(b->s), "%c", p->state ? p->state : '?');
		return b->s;
	case P_FLAGS:
		return fmt_bits(b, p->flags, proc_flag_names, ARRAY_SIZE(proc_flag_names));
	case P_NTHREADS: return fmt_u64(b, p->nr_threads);
	case P_NFDS:
		return d->si.facets & PSS_FACET_HANDLES ? fmt_u64(b, d->si.nr_handles) : NULL;
	case P_NMAPS:
		return d->si.facets & PSS_FACET_VA_SPACE ? fmt_u64(b, d->si.nr_vmas) : NULL;
	case P_VSZ: return mm ? fmt_size(b, p->vsize_bytes) : NULL;
	case P_RSS:
		return mm ? fmt_size(b, p->rss_anon_bytes + p->rss_file_bytes +
				     p->rss_shmem_bytes) : NULL;
	case P_RSSANON: return mm ? fmt_size(b, p->rss_anon_bytes) : NULL;
	case P_RSSFILE: return mm ? fmt_size(b, p->rss_file_bytes) : NULL;
	case P_RSSSHMEM: return mm ? fmt_size(b, p->rss_shmem_bytes) : NULL;
	case P_HWM: return mm ? fmt_size(b, p->hiwater_rss_bytes) : NULL;
	case P_VMPEAK: return mm ? fmt_size(b, p->hiwater_vm_bytes) : NULL;
	case P_LOCKED: return mm ? fmt_size(b, p->locked_bytes) : NULL;
	case P_PINNED: return mm ? fmt_size(b, p->pinned_bytes) : NULL;
	case P_DATA: return mm ? fmt_size(b, p->data_bytes) : NULL;
	case P_STACK: return mm ? fmt_size(b, p->stack_bytes) : NULL;
	case P_EXEC: return mm ? fmt_size(b, p->exec_bytes) : NULL;
	case P_START: return tm ? fmt_secs(b, p->start_boottime_ns) : NULL;
	case P_UTIME: return tm ? fmt_secs(b, p->utime_ns) : NULL;
	case P_STIME: return tm ? fmt_secs(b, p->stime_ns) : NULL;
	case P_TIME: return tm ? fmt_secs(b, p->utime_ns + p->stime_ns) : NULL;
	case P_MINFLT: return tm ? fmt_u64(b, p->min_flt) : NULL;
	case P_MAJFLT: return tm ? fmt_u64(b, p->maj_flt) : NULL;
	case P_PRI: return sc ? fmt_s64(b, p->prio) : NULL;
	case P_NI: return sc ? fmt_s64(b, p->nice) : NULL;
	case P_POLICY: return sc ? policy_name(p->policy) : NULL;
	case P_RTPRIO: return sc ? fmt_u64(b, p->rt_priority) : NULL;
	case P_CPUS:
		return p->mask & PSS_PROC_HAS_AFFINITY ?
			fmt_cpus(b, p->cpus_allowed, ARRAY_SIZE(p->cpus_allowed)) : NULL;
	case P_NCPUS:
		return p->mask & PSS_PROC_HAS_AFFINITY ? fmt_u64(b, p->nr_cpus_allowed) : NULL;
	case P_EXIT:
		return p->mask & PSS_PROC_HAS_EXIT ? fmt_s64(b, p->exit_code) : NULL;
	case P_COMM:
		snprintf(b->s, sizeof(b->s), "%.*s", PSS_COMM_LEN, p->comm);
		return b->s;
	case P_EXE:
		if (!(p->mask & PSS_PROC_HAS_EXE))
			return NULL;
		snprintf(b->s, sizeof(b->s), "%.*s", PSS_PATH_MAX, p->exe_path);
		return b->s;
	}
	return NULL;
}

static const char *thread_cell(int id, const struct rec *r, struct buf *b)
{
	FIXED(struct pss_thread_entry, t, r);
	const __u64 *cpus;
	size_t nw;

	switch (id) {
	case TH_TID: return fmt_s64(b, t.tid);
	case TH_COMM:
		snprintf(b->s, sizeof(b->s), "%.*s", PSS_COMM_LEN, t.comm);
		return b->s;
	case TH_STATE:
		snprintf(b->s, sizeof(b->s), "%c", t.state ? t.state : '?');
		return b->s;
	case TH_CPU: return fmt_s64(b, t.cpu);
	case TH_UTIME: return fmt_secs(b, t.utime_ns);
	case TH_STIME: return fmt_secs(b, t.stime_ns);
	case TH_TIME: return fmt_secs(b, t.utime_ns + t.stime_ns);
	case TH_START: return fmt_secs(b, t.start_boottime_ns);
	case TH_PRI: return fmt_s64(b, t.prio);
	case TH_NI: return fmt_s64(b, t.nice);
	case TH_POLICY: return policy_name(t.policy);
	case TH_RTPRIO: return fmt_u64(b, t.rt_priority);
	case TH_NVCSW: return fmt_u64(b, t.nvcsw);
	case TH_NIVCSW: return fmt_u64(b, t.nivcsw);
	case TH_MINFLT: return fmt_u64(b, t.min_flt);
	case TH_MAJFLT: return fmt_u64(b, t.maj_flt);
	case TH_AFFINITY:
		cpus = pss_thread_entry_cpus(r->p, &nw);
		return cpus ? fmt_cpus(b, cpus, nw) : NULL;
	case TH_FLAGS:
		return fmt_bits(b, t.flags, thread_flag_names, ARRAY_SIZE(thread_flag_names));
	}
	return NULL;
}

static const char *fd_cell(int id, const struct rec *r, struct buf *b)
{
	FIXED(struct pss_handle_entry, h, r);
	bool basic = h.flags & PSS_HANDLE_HAS_BASIC;
	const char *name;

	switch (id) {
	case FD_FD: return fmt_s64(b, h.fd);
	case FD_TYPE: return basic ? pss_handle_type_name(h.type) : NULL;
	case FD_MODE: return basic ? fmode_str(h.fmode) : NULL;
	case FD_FLAGS:
		if (!basic)
			return h.flags & PSS_HANDLE_CLOEXEC ? "cloexec" : NULL;
		return fmt_open_flags(b, h.open_flags, h.flags);
	case FD_OFLAGS:
		if (!basic)
			return NULL;
		snprintf(b->s, sizeof(b->s), "0%o", h.open_flags);
		return b->s;
	case FD_POS: return basic ? fmt_u64(b, h.pos) : NULL;
	case FD_DEVICE: return basic ? fmt_dev(b, h.dev_major, h.dev_minor) : NULL;
	case FD_RDEV:
		if (!basic || !(S_ISCHR(h.i_mode) || S_ISBLK(h.i_mode)))
			return NULL;
		return fmt_dev(b, h.rdev_major, h.rdev_minor);
	case FD_INODE: return basic ? fmt_u64(b, h.ino) : NULL;
	case FD_SIZE: return basic ? fmt_size(b, h.i_size) : NULL;
	case FD_IMODE:
		if (!basic)
			return NULL;
		snprintf(b->s, sizeof(b->s), "0%o", h.i_mode);
		return b->s;
	case FD_DELETED:
		return h.flags & PSS_HANDLE_DELETED ? "1" : "0";
	case FD_DETAIL: return fmt_fd_detail(b, &h);
	case FD_NAME:
		name = pss_handle_entry_name(r->p);
		return name;
	}
	return NULL;
}

static const char *map_cell(int id, const struct rec *r, struct buf *b)
{
	FIXED(struct pss_vma_entry, v, r);

	switch (id) {
	case M_START: return fmt_hex(b, v.start);
	case M_END: return fmt_hex(b, v.end);
	case M_SIZE: return fmt_size(b, v.end - v.start);
	case M_PERMS: return fmt_perms(b, &v);
	case M_FLAGS:
		return fmt_bits(b, v.flags & ~(__u64)PSS_VMA_SHARED, vma_flag_names,
				ARRAY_SIZE(vma_flag_names));
	case M_OFFSET: return fmt_hex(b, v.pgoff_bytes);
	case M_DEVICE: return fmt_dev(b, v.dev_major, v.dev_minor);
	case M_INODE: return fmt_u64(b, v.ino);
	case M_PAGESIZE: return v.page_size ? fmt_size(b, v.page_size) : NULL;
	case M_KIND: return pss_vma_name_kind_name(v.name_kind);
	case M_NAME: return pss_vma_entry_name(r->p);
	}
	return NULL;
}

static int print_view(enum view vw, const struct snapdata *d)
{
	const struct viewdef *v = &views[vw];
	int ids[64];
	size_t n = select_columns(v, ids, ARRAY_SIZE(ids)), i, k;
	struct libscols_table *tb = new_table(v, ids, n);
	const struct recs *rs = NULL;
	struct buf *b = xcalloc(1, sizeof(*b));
	int ret;

	switch (vw) {
	case V_THREADS: rs = &d->threads; break;
	case V_FDS: rs = &d->fds; break;
	case V_MAPS: rs = &d->maps; break;
	default: break;
	}

	if (vw == V_SHOW) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		if (!ln)
			exit(EXIT_FAIL);
		for (i = 0; i < n; i++)
			set_cell(ln, i, show_cell(ids[i], d, b));
	} else {
		for (k = 0; k < rs->n; k++) {
			struct libscols_line *ln = scols_table_new_line(tb, NULL);

			if (!ln)
				exit(EXIT_FAIL);
			for (i = 0; i < n; i++) {
				const char *s = NULL;

				if (vw == V_THREADS)
					s = thread_cell(ids[i], &rs->v[k], b);
				else if (vw == V_FDS)
					s = fd_cell(ids[i], &rs->v[k], b);
				else
					s = map_cell(ids[i], &rs->v[k], b);
				set_cell(ln, i, s);
			}
		}
	}
	ret = scols_print_table(tb);
	scols_unref_table(tb);
	free(b);
	if (ret) {
		warnx_("cannot print the table: %s", strerror(ret < 0 ? -ret : ret));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* ------------------------------------------------------------ JSON */

struct json {
	FILE *f;
	int depth;
	bool first;		/* no member written yet at this depth */
};

static void j_str(struct json *j, const char *s, size_t maxlen)
{
	size_t i;

	fputc('"', j->f);
	for (i = 0; i < maxlen && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': fputs("\\\"", j->f); break;
		case '\\': fputs("\\\\", j->f); break;
		case '\n': fputs("\\n", j->f); break;
		case '\t': fputs("\\t", j->f); break;
		case '\r': fputs("\\r", j->f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(j->f, "\\u%04x", c);
			else
				fputc(c, j->f);
		}
	}
	fputc('"', j->f);
}

static void j_indent(struct json *j)
{
	int i;

	fputc('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Start a member ("key": ) or an array element (key NULL). */
static void j_key(struct json *j, const char *key)
{
	if (!j->first)
		fputc(',', j->f);
	j->first = false;
	j_indent(j);
	if (key) {
		j_str(j, key, SIZE_MAX);
		fputs(": ", j->f);
	}
}

static void j_open(struct json *j, const char *key, char c)
{
	if (j->depth || key)
		j_key(j, key);
	fputc(c, j->f);
	j->depth++;
	j->first = true;
}

static void j_close(struct json *j, char c)
{
	bool empty = j->first;

	j->depth--;
	if (!empty)
		j_indent(j);
	fputc(c, j->f);
	j->first = false;
}

static void j_u64(struct json *j, const char *k, __u64 v)
{
	j_key(j, k);
	fprintf(j->f, "%" PRIu64, (uint64_t)v);
}

static void j_s64(struct json *j, const char *k, long long v)
{
	j_key(j, k);
	fprintf(j->f, "%lld", v);
}

static void j_bool(struct json *j, const char *k, bool v)
{
	j_key(j, k);
	fputs(v ? "true" : "false", j->f);
}

static void j_null(struct json *j, const char *k)
{
	j_key(j, k);
	fputs("null", j->f);
}

static void j_string(struct json *j, const char *k, const char *s, size_t max)
{
	j_key(j, k);
	if (s)
		j_str(j, s, max);
	else
		fputs("null", j->f);
}

static void j_hex(struct json *j, const char *k, __u64 v)
{
	char s[32];

	snprintf(s, sizeof(s), "0x%" PRIx64, (uint64_t)v);
	j_string(j, k, s, sizeof(s));
}

static void j_flags(struct json *j, const char *k, __u64 v,
		    const struct bitname *t, size_t n)
{
	size_t i;

	j_open(j, k, '[');
	for (i = 0; i < n; i++)
		if (v & t[i].bit)
			j_string(j, NULL, t[i].name, SIZE_MAX);
	j_close(j, ']');
}

static void j_cpus(struct json *j, const char *k, const __u64 *w, size_t nw)
{
	struct buf *b;

	if (!w) {
		j_null(j, k);
		return;
	}
	b = xcalloc(1, sizeof(*b));
	j_string(j, k, fmt_cpus(b, w, nw), SIZE_MAX);
	free(b);
}

static void j_state(struct json *j, char state)
{
	char s[2] = { state ? state : '?', 0 };

	j_string(j, "state", s, 1);
	j_string(j, "state_name", pss_state_name(state), SIZE_MAX);
}

static void json_process(struct json *j, const struct snapdata *d)
{
	const struct pss_process_info *p = &d->pi;
	bool ids = p->mask & PSS_PROC_HAS_IDS, mm = p->mask & PSS_PROC_HAS_MM;
	bool tm = p->mask & PSS_PROC_HAS_TIMES, sc = p->mask & PSS_PROC_HAS_SCHED;

#define U(k, cond, v) do { if (cond) j_u64(j, k, v); else j_null(j, k); } while (0)
#define I(k, cond, v) do { if (cond) j_s64(j, k, v); else j_null(j, k); } while (0)
	j_open(j, "process", '{');
	j_s64(j, "pid", p->pid);
	I("ppid", ids, p->ppid);
	I("pgid", ids, p->pgid);
	I("sid", ids, p->sid);
	U("ruid", ids, p->ruid);
	U("euid", ids, p->euid);
	U("suid", ids, p->suid);
	U("fsuid", ids, p->fsuid);
	U("rgid", ids, p->rgid);
	U("egid", ids, p->egid);
	U("sgid", ids, p->sgid);
	U("fsgid", ids, p->fsgid);
	j_string(j, "comm", p->comm, PSS_COMM_LEN);
	j_string(j, "exe", p->mask & PSS_PROC_HAS_EXE ? p->exe_path : NULL,
		 PSS_PATH_MAX);
	j_state(j, p->state);
	j_flags(j, "flags", p->flags, proc_flag_names, ARRAY_SIZE(proc_flag_names));
	j_u64(j, "nr_threads", p->nr_threads);
	U("start_boottime_ns", tm, p->start_boottime_ns);
	U("utime_ns", tm, p->utime_ns);
	U("stime_ns", tm, p->stime_ns);
	U("dead_utime_ns", tm, p->dead_utime_ns);
	U("dead_stime_ns", tm, p->dead_stime_ns);
	U("min_flt", tm, p->min_flt);
	U("maj_flt", tm, p->maj_flt);
	I("prio", sc, p->prio);
	I("nice", sc, p->nice);
	if (sc)
		j_string(j, "policy", policy_name(p->policy), SIZE_MAX);
	else
		j_null(j, "policy");
	U("rt_priority", sc, p->rt_priority);
	U("vsize_bytes", mm, p->vsize_bytes);
	U("rss_bytes", mm, p->rss_anon_bytes + p->rss_file_bytes + p->rss_shmem_bytes);
	U("rss_anon_bytes", mm, p->rss_anon_bytes);
	U("rss_file_bytes", mm, p->rss_file_bytes);
	U("rss_shmem_bytes", mm, p->rss_shmem_bytes);
	U("hiwater_rss_bytes", mm, p->hiwater_rss_bytes);
	U("hiwater_vm_bytes", mm, p->hiwater_vm_bytes);
	U("locked_bytes", mm, p->locked_bytes);
	U("pinned_bytes", mm, p->pinned_bytes);
	U("data_bytes", mm, p->data_bytes);
	U("stack_bytes", mm, p->stack_bytes);
	U("exec_bytes", mm, p->exec_bytes);
	I("exit_code", p->mask & PSS_PROC_HAS_EXIT, p->exit_code);
	U("nr_cpus_allowed", p->mask & PSS_PROC_HAS_AFFINITY, p->nr_cpus_allowed);
	j_cpus(j, "cpus_allowed", p->mask & PSS_PROC_HAS_AFFINITY ?
	       p->cpus_allowed : NULL, ARRAY_SIZE(p->cpus_allowed));
	j_close(j, '}');
#undef U
#undef I
}

static void json_threads(struct json *j, const struct snapdata *d)
{
	size_t k, nw;

	if (!d->have_threads) {
		j_null(j, "threads");
		return;
	}
	j_open(j, "threads", '[');
	for (k = 0; k < d->threads.n; k++) {
		const struct rec *r = &d->threads.v[k];
		FIXED(struct pss_thread_entry, t, r);
		const __u64 *cpus = pss_thread_entry_cpus(r->p, &nw);

		j_open(j, NULL, '{');
		j_s64(j, "tid", t.tid);
		j_string(j, "comm", t.comm, PSS_COMM_LEN);
		j_state(j, t.state);
		j_flags(j, "flags", t.flags, thread_flag_names,
			ARRAY_SIZE(thread_flag_names));
		j_s64(j, "cpu", t.cpu);
		j_u64(j, "utime_ns", t.utime_ns);
		j_u64(j, "stime_ns", t.stime_ns);
		j_u64(j, "start_boottime_ns", t.start_boottime_ns);
		j_s64(j, "prio", t.prio);
		j_s64(j, "nice", t.nice);
		j_string(j, "policy", policy_name(t.policy), SIZE_MAX);
		j_u64(j, "rt_priority", t.rt_priority);
		j_u64(j, "nvcsw", t.nvcsw);
		j_u64(j, "nivcsw", t.nivcsw);
		j_u64(j, "min_flt", t.min_flt);
		j_u64(j, "maj_flt", t.maj_flt);
		j_cpus(j, "cpus_allowed", cpus, nw);
		j_close(j, '}');
	}
	j_close(j, ']');
}

static void json_fds(struct json *j, const struct snapdata *d)
{
	struct buf *b = xcalloc(1, sizeof(*b));
	size_t k;

	if (!d->have_fds) {
		j_null(j, "fds");
		free(b);
		return;
	}
	j_open(j, "fds", '[');
	for (k = 0; k < d->fds.n; k++) {
		const struct rec *r = &d->fds.v[k];
		FIXED(struct pss_handle_entry, h, r);
		bool basic = h.flags & PSS_HANDLE_HAS_BASIC;

		j_open(j, NULL, '{');
		j_s64(j, "fd", h.fd);
		j_string(j, "type", basic ? pss_handle_type_name(h.type) : NULL,
			 SIZE_MAX);
		j_bool(j, "cloexec", h.flags & PSS_HANDLE_CLOEXEC);
		j_bool(j, "deleted", h.flags & PSS_HANDLE_DELETED);
		j_bool(j, "path_only", h.flags & PSS_HANDLE_PATH_ONLY);
		j_string(j, "mode", basic ? fmode_str(h.fmode) : NULL, SIZE_MAX);
		if (basic) {
			j_u64(j, "open_flags", h.open_flags);
			j_string(j, "flags", fmt_open_flags(b, h.open_flags, h.flags),
				 SIZE_MAX);
			j_u64(j, "pos", h.pos);
			j_u64(j, "dev_major", h.dev_major);
			j_u64(j, "dev_minor", h.dev_minor);
			j_u64(j, "rdev_major", h.rdev_major);
			j_u64(j, "rdev_minor", h.rdev_minor);
			j_u64(j, "ino", h.ino);
			j_u64(j, "i_mode", h.i_mode);
			j_u64(j, "size", h.i_size);
		} else {
			static const char *const keys[] = {
				"open_flags", "flags", "pos", "dev_major",
				"dev_minor", "rdev_major", "rdev_minor", "ino",
				"i_mode", "size",
			};
			size_t i;

			for (i = 0; i < ARRAY_SIZE(keys); i++)
				j_null(j, keys[i]);
		}
		j_string(j, "path", pss_handle_entry_name(r->p), SIZE_MAX);
		if (h.flags & PSS_HANDLE_HAS_SOCKET) {
			const struct pss_handle_socket *s = &h.u.socket;
			struct buf t;

			j_open(j, "socket", '{');
			j_string(j, "family", family_name(s->family, &t), SIZE_MAX);
			j_string(j, "type", socktype_name(s->type, &t), SIZE_MAX);
			j_u64(j, "protocol", s->protocol);
			j_string(j, "state", sk_state_name(s->state), SIZE_MAX);
			j_string(j, "sock_state", ss_state_name(s->sock_state), SIZE_MAX);
			j_close(j, '}');
		} else {
			j_null(j, "socket");
		}
		if (h.flags & PSS_HANDLE_HAS_PIPE) {
			j_open(j, "pipe", '{');
			j_u64(j, "buf_size", h.u.pipe.buf_size);
			j_u64(j, "readers", h.u.pipe.readers);
			j_u64(j, "writers", h.u.pipe.writers);
			j_close(j, '}');
		} else {
			j_null(j, "pipe");
		}
		j_close(j, '}');
	}
	j_close(j, ']');
	free(b);
}

static void json_maps(struct json *j, const struct snapdata *d)
{
	struct buf b;
	size_t k;

	if (!d->have_maps) {
		j_null(j, "maps");
		return;
	}
	j_open(j, "maps", '[');
	for (k = 0; k < d->maps.n; k++) {
		const struct rec *r = &d->maps.v[k];
		FIXED(struct pss_vma_entry, v, r);

		j_open(j, NULL, '{');
		j_hex(j, "start", v.start);
		j_hex(j, "end", v.end);
		j_u64(j, "size", v.end - v.start);
		j_string(j, "perms", fmt_perms(&b, &v), SIZE_MAX);
		j_bool(j, "shared", v.flags & PSS_VMA_SHARED);
		j_flags(j, "flags", v.flags & ~(__u64)PSS_VMA_SHARED,
			vma_flag_names, ARRAY_SIZE(vma_flag_names));
		j_hex(j, "offset", v.pgoff_bytes);
		j_u64(j, "dev_major", v.dev_major);
		j_u64(j, "dev_minor", v.dev_minor);
		j_u64(j, "ino", v.ino);
		j_u64(j, "page_size", v.page_size);
		j_string(j, "kind", pss_vma_name_kind_name(v.name_kind), SIZE_MAX);
		j_string(j, "name", pss_vma_entry_name(r->p), SIZE_MAX);
		j_close(j, '}');
	}
	j_close(j, ']');
}

static void json_performance(struct json *j, const struct snapdata *d)
{
	static const char *const phases[] = {
		[PSS_PHASE_TOTAL] = "total_ns", [PSS_PHASE_ALLOC] = "alloc_ns",
		[PSS_PHASE_VA_SPACE] = "va_space_ns",
		[PSS_PHASE_HANDLES] = "handles_ns",
		[PSS_PHASE_THREADS] = "threads_ns",
		[PSS_PHASE_NAMES] = "names_ns", [PSS_PHASE_BUILD] = "build_ns",
	};
	static const char *const locks[] = {
		[PSS_LOCK_MMAP] = "mmap_lock_ns",
		[PSS_LOCK_FILES] = "files_lock_ns",
		[PSS_LOCK_SIGHAND] = "sighand_lock_ns",
	};
	size_t i;

	if (!d->have_perf) {
		j_null(j, "performance");
		return;
	}
	j_open(j, "performance", '{');
	for (i = 0; i < ARRAY_SIZE(phases); i++)
		j_u64(j, phases[i], d->perf.phase_ns[i]);
	j_open(j, "lock_held", '{');
	for (i = 0; i < ARRAY_SIZE(locks); i++)
		j_u64(j, locks[i], d->perf.lock_held_ns[i]);
	j_close(j, '}');
	j_close(j, '}');
}

static void json_snapshot_info(struct json *j, const struct snapdata *d)
{
	__u64 f;

	j_open(j, "snapshot", '{');
	j_u64(j, "abi_version", d->si.abi_version);
	j_open(j, "facets", '[');
	for (f = 1; f && f <= PSS_FACETS_ALL; f <<= 1)
		if (d->si.facets & f)
			j_string(j, NULL, pss_facet_name(f), SIZE_MAX);
	j_close(j, ']');
	j_u64(j, "cut_realtime_ns", d->si.cut_realtime_ns);
	j_u64(j, "cut_boottime_ns", d->si.cut_boottime_ns);
	j_u64(j, "cut_monotonic_ns", d->si.cut_ns);
	j_u64(j, "nr_threads", d->si.nr_threads);
	j_u64(j, "nr_fds", d->si.nr_handles);
	j_u64(j, "nr_maps", d->si.nr_vmas);
	j_u64(j, "memory_bytes", d->si.memory_bytes);
	j_u64(j, "retries", d->si.retries);
	j_close(j, '}');
}

static int print_json_snapshot(const struct snapdata *d)
{
	struct json j = { .f = stdout, .depth = 0, .first = true };

	j_open(&j, NULL, '{');
	j_u64(&j, "pss_json_version", PSS_JSON_VERSION);
	j_string(&j, "tool_version", PSS_TOOL_VERSION, SIZE_MAX);
	json_snapshot_info(&j, d);
	json_process(&j, d);
	json_threads(&j, d);
	json_fds(&j, d);
	json_maps(&j, d);
	json_performance(&j, d);
	j_close(&j, '}');
	fputc('\n', stdout);
	return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
}

/* ------------------------------------------------------------ misc */

static int list_columns(int vw)
{
	struct libscols_table *tb = scols_new_table();
	int v, ret;
	size_t i;

	if (!tb)
		return EXIT_FAIL;
	scols_table_enable_raw(tb, opt.raw);
	scols_table_enable_json(tb, opt.json);
	scols_table_enable_noheadings(tb, opt.noheadings);
	scols_table_set_name(tb, "columns");
	if (vw < 0 || vw == V_SNAPSHOT)
		scols_table_new_column(tb, "VIEW", 0, 0);
	scols_table_new_column(tb, "NAME", 0, 0);
	scols_table_new_column(tb, "DESCRIPTION", 0, SCOLS_FL_WRAP);
	for (v = 0; v <= V_MAPS; v++) {
		if (vw >= 0 && vw != V_SNAPSHOT && v != vw)
			continue;
		for (i = 0; i < views[v].ncols; i++) {
			struct libscols_line *ln = scols_table_new_line(tb, NULL);
			size_t c = 0;

			if (!ln)
				return EXIT_FAIL;
			if (vw < 0 || vw == V_SNAPSHOT)
				set_cell(ln, c++, view_names[v]);
			set_cell(ln, c++, views[v].cols[i].name);
			set_cell(ln, c, views[v].cols[i].help);
		}
	}
	ret = scols_print_table(tb);
	scols_unref_table(tb);
	return ret ? EXIT_FAIL : EXIT_OK;
}

static void usage(void)
{
	printf(
"Usage:\n"
" %1$s show PID          process summary (process information and counts)\n"
" %1$s threads PID       threads, like ps -L\n"
" %1$s fds PID           open file descriptors, like lsof -p\n"
" %1$s maps PID          memory mappings, like pmap -x\n"
" %1$s snapshot PID      all four views from one capture (--json: one document)\n"
"\n"
"Every command takes ONE atomic snapshot of the process through /dev/pss.\n"
"PID may be 'self'.\n"
"\n"
"Options:\n"
"     --pidfd            name the target through a pidfd (pidfd_open), race-free\n"
" -o, --output LIST      columns to print (+LIST: add to the defaults)\n"
"     --output-all       print every column\n"
"     --list-columns     list the columns of the command (all without one)\n"
" -n, --noheadings       don't print headings\n"
" -r, --raw              raw output (no alignment, escaped cells)\n"
" -J, --json             JSON output\n"
" -b, --bytes            sizes in bytes rather than human readable\n"
" -h, --help             this help\n"
" -V, --version          version\n"
"\n"
"Exit status:\n"
" 0 success              1 other failure         2 usage error\n"
" 3 module not loaded    4 no such process       5 permission denied\n"
" 6 unsupported by the loaded module\n"
"\n"
"See pss(1).\n", prog);
}

int main(int argc, char **argv)
{
	enum { OPT_OUTPUT_ALL = 256, OPT_LIST_COLUMNS, OPT_PIDFD };
	static const struct option longopts[] = {
		{ "output",	  required_argument, NULL, 'o' },
		{ "output-all",	  no_argument,	     NULL, OPT_OUTPUT_ALL },
		{ "list-columns", no_argument,	     NULL, OPT_LIST_COLUMNS },
		{ "noheadings",	  no_argument,	     NULL, 'n' },
		{ "raw",	  no_argument,	     NULL, 'r' },
		{ "json",	  no_argument,	     NULL, 'J' },
		{ "bytes",	  no_argument,	     NULL, 'b' },
		{ "pidfd",	  no_argument,	     NULL, OPT_PIDFD },
		{ "help",	  no_argument,	     NULL, 'h' },
		{ "version",	  no_argument,	     NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct snapdata d;
	int c, vw = -1, i, ret;
	const char *pidarg;
	pid_t pid;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:nrJbhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': opt.output = optarg; break;
		case OPT_OUTPUT_ALL: opt.output_all = true; break;
		case OPT_LIST_COLUMNS: opt.list_columns = true; break;
		case 'n': opt.noheadings = true; break;
		case 'r': opt.raw = true; break;
		case 'J': opt.json = true; break;
		case 'b': opt.bytes = true; break;
		case OPT_PIDFD: opt.pidfd = true; break;
		case 'h': usage(); return EXIT_OK;
		case 'V':
			printf("pss %s (libpss %d.%d, pss ABI %d)\n", PSS_TOOL_VERSION,
			       LIBPSS_MAJOR_VERSION, LIBPSS_MINOR_VERSION,
			       PSS_ABI_VERSION);
			return EXIT_OK;
		case ':':
			usage_error("option '%s' requires an argument", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("invalid option -- '%c'", optopt);
			usage_error("unrecognized option '%s'", argv[optind - 1]);
		}
	}
	if (opt.raw && opt.json)
		usage_error("--raw and --json are mutually exclusive");

	if (optind < argc) {
		for (i = 0; i < V_NR; i++)
			if (!strcmp(argv[optind], view_names[i]))
				vw = i;
		if (vw < 0)
			usage_error("unknown command '%s'", argv[optind]);
		optind++;
	}
	if (opt.list_columns)
		return list_columns(vw);
	if (vw < 0)
		usage_error("no command given");
	if (optind >= argc)
		usage_error("%s: no PID given", view_names[vw]);
	pidarg = argv[optind++];
	if (optind < argc)
		usage_error("%s: unexpected argument '%s'", view_names[vw], argv[optind]);
	pid = parse_pid(pidarg);

	if (vw == V_SNAPSHOT) {
		if (opt.output || opt.output_all)
			usage_error("snapshot: -o/--output-all apply to show, threads, fds and maps");
		capture(pid, PSS_FACETS_ALL, &d);
		if (opt.json) {
			ret = print_json_snapshot(&d);
		} else {
			ret = print_view(V_SHOW, &d);
			for (i = V_THREADS; i <= V_MAPS && !ret; i++) {
				if (!opt.raw)
					printf("\n");
				ret = print_view(i, &d);
			}
		}
	} else {
		/* validate -o before touching the kernel */
		int ids[64];

		select_columns(&views[vw], ids, ARRAY_SIZE(ids));
		capture(pid, views[vw].facets, &d);
		ret = print_view(vw, &d);
	}
	free_recs(&d.threads);
	free_recs(&d.fds);
	free_recs(&d.maps);
	if (!ret && (fflush(stdout) || ferror(stdout))) {
		warnx_("write error: %s", strerror(errno));
		ret = EXIT_FAIL;
	}
	return ret;
}
