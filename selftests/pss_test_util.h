/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the pss ABI selftests: raw ioctl wrappers (no libpss:
 * these tests pin the kernel ABI itself), a walk-everything helper that
 * checks record framing, a forked target that sets up a known state and
 * stops, and small /proc readers used for cross-checks.
 *
 * Helpers never use the harness macros: they return 0 / -errno (or -EPROTO
 * with a message in pss_err[] for framing violations) and the tests assert.
 */
#ifndef PSS_TEST_UTIL_H
#define PSS_TEST_UTIL_H

#include <ctype.h>
#include <grp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/pss.h>

#include "pss_ioc.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

static char pss_err[512];

static inline void pss_seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pss_err, sizeof(pss_err), fmt, ap);
	va_end(ap);
}

static inline int sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return syscall(__NR_pidfd_open, pid, flags);
}

static inline pid_t sys_gettid(void)
{
	return syscall(SYS_gettid);
}

static inline int pss_open_dev(void)
{
	return open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
}

/* ------------------------------------------------------------ capture */

static inline void pss_capture_init(struct pss_capture_args *a, pid_t pid,
				    __u64 facets)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->facets = facets;
	a->target_pid = pid;
}

/* Returns the snapshot fd or -errno. */
static inline int pss_capture_args(int devfd, struct pss_capture_args *a)
{
	int ret = ioctl(devfd, PSS_IOC_CAPTURE, a);

	return ret < 0 ? -errno : ret;
}

static inline int ioc_capture_pid(int devfd, pid_t pid, __u64 facets)
{
	struct pss_capture_args a;

	pss_capture_init(&a, pid, facets);
	return pss_capture_args(devfd, &a);
}

static inline int ioc_capture_pidfd(int devfd, int pidfd, __u64 facets)
{
	struct pss_capture_args a;

	pss_capture_init(&a, 0, facets);
	a.flags = PSS_CAPTURE_PIDFD;
	a.target_pidfd = pidfd;
	return pss_capture_args(devfd, &a);
}

/* One-shot: open /dev/pss, capture, close /dev/pss. */
static inline int pss_capture1(pid_t pid, __u64 facets)
{
	int dev = pss_open_dev(), ret;

	if (dev < 0)
		return -errno;
	ret = ioc_capture_pid(dev, pid, facets);
	close(dev);
	return ret;
}

/* -------------------------------------------------------------- query */


static inline int pss_query_process(int snap, struct pss_process_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	return ioc_query(snap, PSS_QUERY_PROCESS, pi, sizeof(*pi), NULL);
}

static inline int pss_query_snapshot(int snap, struct pss_snapshot_info *si)
{
	memset(si, 0, sizeof(*si));
	return ioc_query(snap, PSS_QUERY_SNAPSHOT, si, sizeof(*si), NULL);
}

static inline int pss_query_count(int snap, __u32 cls, struct pss_count_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	return ioc_query(snap, cls, ci, sizeof(*ci), NULL);
}

/* --------------------------------------------------------------- walk */

static inline void pss_walk_init(struct pss_walk_args *w, __u32 cls, __u64 pos,
				 void *buf, __u64 len)
{
	memset(w, 0, sizeof(*w));
	w->size = sizeof(*w);
	w->walk_class = cls;
	w->pos = pos;
	w->buf = (uintptr_t)buf;
	w->buf_len = len;
}

static inline int ioc_walk(int snap, struct pss_walk_args *w)
{
	return ioctl(snap, PSS_IOC_WALK, w) < 0 ? -errno : 0;
}


struct pss_recs {
	char *buf;		/* all records, back to back */
	size_t bytes;
	size_t n;
	void **rec;		/* rec[i] points into buf */
	__u64 total;		/* total reported by the kernel */
	unsigned int calls;	/* successful PSS_IOC_WALK calls */
};

static inline void pss_recs_free(struct pss_recs *r)
{
	free(r->buf);
	free(r->rec);
	memset(r, 0, sizeof(*r));
}

/*
 * Check one batch's framing: count records fill exactly bytes_written, each
 * rec_len is a multiple of 8 and at least the VER0 size, and a variable part
 * (off, len) lies inside its record.
 */
static inline int pss_check_batch(__u32 cls, const char *b, __u64 bytes,
				  __u32 count)
{
	__u64 off = 0;
	__u32 i;

	for (i = 0; i < count; i++) {
		const __u32 *h = (const __u32 *)(b + off);
		__u32 len, voff, vlen;

		if (off + 16 > bytes) {
			pss_seterr("record %u starts at %llu past bytes_written %llu",
				   i, (unsigned long long)off, (unsigned long long)bytes);
			return -EPROTO;
		}
		len = h[0];
		voff = h[2];
		vlen = h[3];
		if (len % PSS_REC_ALIGN || len < pss_rec_min(cls) ||
		    off + len > bytes) {
			pss_seterr("record %u: bad rec_len %u at %llu (bytes %llu)",
				   i, len, (unsigned long long)off,
				   (unsigned long long)bytes);
			return -EPROTO;
		}
		if (voff) {
			/* strings and bytes carry a NUL beyond len; cpus do not */
			enum pss_var_kind kind = pss_rec_var_kind(cls);
			__u64 need = (__u64)voff + vlen + (kind != PSS_VAR_WORDS);

			if (voff < pss_rec_min(cls) || need > len) {
				pss_seterr("record %u: variable part %u+%u outside rec_len %u",
					   i, voff, vlen, len);
				return -EPROTO;
			}
			if (kind != PSS_VAR_WORDS &&
			    (b[off + voff + vlen] != '\0' ||
			     (kind == PSS_VAR_STRING &&
			      strnlen(b + off + voff, vlen) != vlen))) {
				pss_seterr("record %u: string at %u not %u chars + NUL",
					   i, voff, vlen);
				return -EPROTO;
			}
		} else if (vlen) {
			pss_seterr("record %u: len %u with no offset", i, vlen);
			return -EPROTO;
		}
		off += len;
	}
	if (off != bytes) {
		pss_seterr("%u records use %llu bytes, bytes_written %llu", count,
			   (unsigned long long)off, (unsigned long long)bytes);
		return -EPROTO;
	}
	return 0;
}

/*
 * Walk a whole class from pos 0 with a buffer of bufsz bytes (0: 64 KiB),
 * growing it on ENOSPC to exactly next_len. Checks framing and the
 * pos/count/END/total bookkeeping of every call.
 */
static inline int pss_walk_all_sz(int snap, __u32 cls, size_t bufsz,
				  struct pss_recs *r)
{
	size_t cap = 0, i;
	char *tmp;
	__u64 pos = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!bufsz)
		bufsz = 65536;
	tmp = malloc(bufsz);
	if (!tmp)
		return -ENOMEM;
	for (;;) {
		struct pss_walk_args w;

		pss_walk_init(&w, cls, pos, tmp, bufsz);
		ret = ioc_walk(snap, &w);
		if (ret == -ENOSPC) {
			if (w.next_len <= bufsz || w.pos != pos) {
				pss_seterr("ENOSPC with next_len %u <= buf %zu or pos moved %llu->%llu",
					   w.next_len, bufsz, (unsigned long long)pos,
					   (unsigned long long)w.pos);
				ret = -EPROTO;
				goto err;
			}
			bufsz = w.next_len;
			free(tmp);
			tmp = malloc(bufsz);
			if (!tmp) {
				ret = -ENOMEM;
				goto err;
			}
			continue;
		}
		if (ret) {
			pss_seterr("walk class %u pos %llu: %s", cls,
				   (unsigned long long)pos, strerror(-ret));
			goto err;
		}
		r->calls++;
		if (r->calls > 1 && w.total != r->total) {
			pss_seterr("total changed %llu -> %llu",
				   (unsigned long long)r->total,
				   (unsigned long long)w.total);
			ret = -EPROTO;
			goto err;
		}
		r->total = w.total;
		if (w.pos != pos + w.count) {
			pss_seterr("pos %llu + count %u != new pos %llu",
				   (unsigned long long)pos, w.count,
				   (unsigned long long)w.pos);
			ret = -EPROTO;
			goto err;
		}
		if (w.bytes_written > bufsz) {
			pss_seterr("bytes_written %llu > buf_len %zu",
				   (unsigned long long)w.bytes_written, bufsz);
			ret = -EPROTO;
			goto err;
		}
		ret = pss_check_batch(cls, tmp, w.bytes_written, w.count);
		if (ret)
			goto err;
		if (!!(w.out_flags & PSS_WALK_END) != (w.pos == w.total)) {
			pss_seterr("END flag %u but pos %llu total %llu",
				   w.out_flags, (unsigned long long)w.pos,
				   (unsigned long long)w.total);
			ret = -EPROTO;
			goto err;
		}
		if (w.out_flags & ~PSS_WALK_END) {
			pss_seterr("unknown out_flags %#x", w.out_flags);
			ret = -EPROTO;
			goto err;
		}
		if ((w.pos == w.total) != (w.next_len == 0)) {
			pss_seterr("next_len %u at pos %llu of %llu", w.next_len,
				   (unsigned long long)w.pos,
				   (unsigned long long)w.total);
			ret = -EPROTO;
			goto err;
		}
		if (!w.count && !(w.out_flags & PSS_WALK_END)) {
			pss_seterr("no progress at pos %llu, buf %zu, next_len %u",
				   (unsigned long long)pos, bufsz, w.next_len);
			ret = -EPROTO;
			goto err;
		}
		if (w.bytes_written) {
			if (r->bytes + w.bytes_written > cap) {
				char *nb;

				cap = (r->bytes + w.bytes_written) * 2;
				nb = realloc(r->buf, cap);
				if (!nb) {
					ret = -ENOMEM;
					goto err;
				}
				r->buf = nb;
			}
			memcpy(r->buf + r->bytes, tmp, w.bytes_written);
			r->bytes += w.bytes_written;
		}
		r->n += w.count;
		pos = w.pos;
		if (w.out_flags & PSS_WALK_END)
			break;
		if (r->calls > 1000000) {
			pss_seterr("walk does not end");
			ret = -EPROTO;
			goto err;
		}
	}
	free(tmp);
	if (r->n != r->total) {
		pss_seterr("walked %zu records, total %llu", r->n,
			   (unsigned long long)r->total);
		pss_recs_free(r);
		return -EPROTO;
	}
	r->rec = calloc(r->n + 1, sizeof(void *));
	if (!r->rec) {
		pss_recs_free(r);
		return -ENOMEM;
	}
	for (i = 0, pos = 0; i < r->n; i++) {
		r->rec[i] = r->buf + pos;
		pos += *(__u32 *)(r->buf + pos);
	}
	return 0;
err:
	free(tmp);
	pss_recs_free(r);
	return ret;
}

static inline int pss_walk_all(int snap, __u32 cls, struct pss_recs *r)
{
	return pss_walk_all_sz(snap, cls, 0, r);
}

static inline const char *pss_rec_name(const void *rec)
{
	const __u32 *h = rec;

	return h[2] ? (const char *)rec + h[2] : NULL;
}

/* ------------------------------------------------------------- target */

/*
 * A forked target. setup() runs in the child with a MAP_SHARED scratch area
 * (shared, shared_size bytes) to report what it built; a non-zero return
 * makes the child exit with that code. Then the child either stops itself
 * (raise(SIGSTOP): a frozen target for /proc comparisons) or blocks reading
 * a pipe until the parent releases it.
 */
typedef int (*pss_setup_fn)(void *shared, void *arg);

struct pss_target {
	pid_t pid;
	int pidfd;
	int release_fd;		/* write end the child blocks on (-1: stopped) */
	void *shared;
	size_t shared_size;
};

/*
 * waitpid(WUNTRACED) reports a group stop once every thread has set
 * TASK_STOPPED, which is before the last of them has scheduled out: a
 * preempted thread can still run, and its times and switch counts still
 * move. /proc/PID/task/TID/syscall goes through wait_task_inactive(), which
 * returns only when the thread is off the CPU and dequeued ("running" if it
 * gave up), so reading it for every thread settles the target.
 */
static inline int pss_target_settle(pid_t pid)
{
	char path[300], buf[128];
	struct dirent *d;
	int tries = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		ssize_t n;
		int fd;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/syscall", pid,
			 d->d_name);
		for (;;) {
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				break;
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n <= 0 || strncmp(buf, "running", 7))
				break;
			if (++tries > 1000) {
				closedir(dir);
				return -ETIMEDOUT;
			}
			usleep(1000);
		}
	}
	closedir(dir);
	return 0;
}

static inline int pss_target_start(struct pss_target *t, pss_setup_fn fn,
				   void *arg, size_t shared_size, bool stop)
{
	int ready[2], hold[2];
	char c = 0;
	pid_t pid;
	int status;

	memset(t, 0, sizeof(*t));
	t->pid = -1;
	t->pidfd = -1;
	t->release_fd = -1;
	t->shared_size = shared_size ? shared_size : 4096;
	t->shared = mmap(NULL, t->shared_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t->shared == MAP_FAILED)
		return -errno;
	if (pipe2(ready, O_CLOEXEC) || pipe2(hold, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int ret = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		close(hold[1]);
		if (fn)
			ret = fn(t->shared, arg);
		if (ret)
			_exit(ret & 0xff ? ret & 0xff : 1);
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		close(ready[1]);
		if (stop) {
			close(hold[0]);
			raise(SIGSTOP);
			for (;;)
				pause();
		}
		while (read(hold[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	t->pid = pid;
	if (read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		close(hold[1]);
		waitpid(pid, &status, 0);
		pss_seterr("target setup failed: status %#x (exit %d)", status,
			   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		t->pid = -1;
		return -ECHILD;
	}
	close(ready[0]);
	if (stop) {
		close(hold[1]);
		if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status)) {
			pss_seterr("target did not stop: status %#x", status);
			return -ECHILD;
		}
		if (pss_target_settle(pid)) {
			pss_seterr("target's threads did not leave the CPU");
			return -ETIMEDOUT;
		}
	} else {
		t->release_fd = hold[1];
	}
	t->pidfd = sys_pidfd_open(pid, 0);
	if (t->pidfd >= 0)
		fcntl(t->pidfd, F_SETFD, FD_CLOEXEC);
	return 0;
}

static inline void pss_target_stop(struct pss_target *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		t->pid = -1;
	}
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
	if (t->release_fd >= 0)
		close(t->release_fd);
	t->release_fd = -1;
	if (t->shared && t->shared != MAP_FAILED)
		munmap(t->shared, t->shared_size);
	t->shared = NULL;
}

/* -------------------------------------------------------------- /proc */

/* Read a whole (small) file into a malloc'd NUL-terminated buffer. */
static inline char *pss_read_file(const char *path, size_t *lenp)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb = realloc(buf, cap * 2 + 1);

			if (!nb) {
				free(buf);
				close(fd);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

static inline char *pss_read_fmt(size_t *lenp, const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return pss_read_file(path, lenp);
}

/* /proc/PID/stat (or task/TID/stat): comm and fields 3.. as text */
struct pss_proc_stat {
	char comm[64];
	char state;
	long long f[64];	/* f[n] = field n (1-based as in proc(5)); f[3] unused */
};

static inline int pss_parse_stat(const char *path, struct pss_proc_stat *st)
{
	char *buf = pss_read_file(path, NULL), *open_p, *close_p, *p;
	int n;

	if (!buf)
		return -errno;
	memset(st, 0, sizeof(*st));
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p < open_p) {
		free(buf);
		return -EPROTO;
	}
	st->f[1] = atoll(buf);
	snprintf(st->comm, sizeof(st->comm), "%.*s", (int)(close_p - open_p - 1),
		 open_p + 1);
	p = close_p + 2;
	st->state = *p;
	p++;
	for (n = 4; n < 64 && *p; n++) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			break;
		st->f[n] = strtoll(p, &p, 10);
	}
	free(buf);
	return 0;
}

/* Value text after "Key:" in a /proc status-like file; malloc'd, or NULL. */
static inline char *pss_status_field(pid_t pid, const char *key)
{
	char *buf = pss_read_fmt(NULL, "/proc/%d/status", pid), *line, *ret = NULL;
	size_t klen = strlen(key);

	if (!buf)
		return NULL;
	for (line = buf; line && *line; ) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			char *v = line + klen + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			ret = strdup(v);
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(buf);
	return ret;
}

/* "VmRSS:   1234 kB" -> bytes; -1 if absent */
static inline long long pss_status_kb(pid_t pid, const char *key)
{
	char *v = pss_status_field(pid, key);
	long long kb;

	if (!v)
		return -1;
	kb = atoll(v);
	free(v);
	return kb * 1024;
}

/* Numeric directory entries of a /proc dir (task/ or fd/), sorted. */
static inline int pss_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

static inline int pss_list_dir_ints(const char *path, int **out, size_t *n)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t cap = 64;
	int *v;

	*n = 0;
	if (!d)
		return -errno;
	v = malloc(cap * sizeof(*v));
	while (v && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (*n == cap) {
			int *nv = realloc(v, cap * 2 * sizeof(*v));

			if (!nv) {
				free(v);
				v = NULL;
				break;
			}
			v = nv;
			cap *= 2;
		}
		v[(*n)++] = atoi(de->d_name);
	}
	closedir(d);
	if (!v)
		return -ENOMEM;
	qsort(v, *n, sizeof(*v), pss_cmp_int);
	*out = v;
	return 0;
}

static inline int pss_readlink_fmt(char *buf, size_t len, const char *fmt, ...)
{
	char path[256];
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static inline __u64 pss_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* cpu list text "0-3,5" -> bitmap in u64 words; returns bits set */
static inline int pss_parse_cpulist(const char *s, __u64 *mask, size_t words)
{
	int nset = 0;

	memset(mask, 0, words * 8);
	while (s && *s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b = a, i;

		if (end == s)
			return -EPROTO;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (i = a; i <= b; i++) {
			if ((size_t)i / 64 < words) {
				mask[i / 64] |= 1ULL << (i % 64);
				nset++;
			}
		}
		s = *end == ',' ? end + 1 : end;
	}
	return nset;
}

/* ------------------------------------------------------- thread state */

/*
 * Capture @pid (0: self) with @facets; PSS_FACET_MEMORY gets the stacks
 * (memory_flags must name something). Returns the snapshot fd or -errno.
 */
static inline int pss_capture_ts(int devfd, pid_t pid, __u64 facets)
{
	struct pss_capture_args a;

	pss_capture_init(&a, pid, facets);
	if (facets & PSS_FACET_MEMORY)
		a.memory_flags = PSS_MEMORY_STACKS;
	return pss_capture_args(devfd, &a);
}

/*
 * The harness is written for the kernel's -Wall, not -Wextra: its TEST_F()
 * expansions leave `variant` unused, its setjmp() trips -Wclobbered and its
 * EXPECT_EQ(0, unsigned) -Wsign-compare; -Werror would make those fatal.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wclobbered"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"

#endif /* PSS_TEST_UTIL_H */
