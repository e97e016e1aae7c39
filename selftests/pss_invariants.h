/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pss consistency checker used by the reliability suite (churn, dying,
 * failnth, fuzz, ...), plus the small shared plumbing those tests need:
 * seeded PRNG, time budgets, debug-kernel detection, fd counting.
 *
 * pssi_check(snapfd, opts) reads a whole snapshot back through the raw ABI
 * and verifies what must hold for ANY snapshot, whatever the target did:
 *
 *  framing   every record's rec_len is a multiple of 8 and >= the class's
 *            VER0 size, records fill bytes_written exactly, a variable part
 *            lies inside its record, strings are NUL-terminated there with
 *            name_len == strlen; pos/count/END/next_len/total bookkeeping of
 *            every walk call; ENOSPC reports the exact size needed;
 *  counts    PSS_QUERY_{THREADS,HANDLES,VA_SPACE} count/bytes/max_rec_len
 *            and pss_snapshot_info.nr_* equal what the walks return; classes
 *            not captured answer ENODATA; process nr_threads equals the
 *            thread walk;
 *  threads   tids unique, > 0, belonging to the target (by /proc or by a
 *            caller callback), at most one leader (tid == pid), the CALLER
 *            flag exactly on the capturing thread for a self-capture;
 *  handles   fds unique and >= 0, known flag bits, type < PSS_HT_NR;
 *  vmas      start < end, page aligned (to page_size), sorted and
 *            non-overlapping, known prot/flag bits and name kinds;
 *  process   comm and exe_path NUL-terminated, exe_path_len == strlen, the
 *            pid is the one expected, known mask/flag bits;
 *  contexts  one per thread, in the thread walk's order; a known park;
 *            PSS_THREAD_PARKED and register data exactly on the threads
 *            held, the caller's own thread PSS_PARK_CALLER; the perf
 *            counts of parked, held and not parked threads and the
 *            longest park are the context walk's;
 *  positions a walk restarted from a random saved position returns exactly
 *            the tail of the full walk (byte for byte), pos == total gives
 *            an empty END batch, pos > total gives ERANGE.
 *
 * Everything returns 0 or -1 with a message in pssi_errmsg (thread-local),
 * so it can be used from helper threads that must not use the harness.
 */
#ifndef PSS_INVARIANTS_H
#define PSS_INVARIANTS_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/pss.h>

#include "pss_ioc.h"

#define PSSI_PAGE 4096UL

static __thread char pssi_errmsg[768];

static inline int pssi_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pssi_errmsg, sizeof(pssi_errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

static inline pid_t pssi_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static inline int pssi_pidfd_open(pid_t pid)
{
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
	return (int)syscall(__NR_pidfd_open, pid, 0);
}

/* ------------------------------------------------------------ plumbing */

static inline uint64_t pssi_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The debug kernel: kmemleak present, or not a Debian "-amd64" release. */
static inline bool pssi_is_debug_kernel(void)
{
	struct utsname u;
	size_t l;

	if (access("/sys/kernel/debug/kmemleak", F_OK) == 0)
		return true;
	if (uname(&u))
		return false;
	l = strlen(u.release);
	return !(l > 6 && !strcmp(u.release + l - 6, "-amd64"));
}

/*
 * Seconds a looping test may spend: env NAME, else the default for this
 * kind of kernel, scaled by env PSS_TIME_SCALE (a float, default 1).
 */
static inline double pssi_budget(const char *name, double normal, double debug)
{
	const char *e = getenv(name), *s = getenv("PSS_TIME_SCALE");
	double v = pssi_is_debug_kernel() ? debug : normal;

	if (e && *e)
		v = atof(e);
	else if (s && *s)
		v *= atof(s);
	if (v < 0.05)
		v = 0.05;
	return v;
}

/*
 * Whether a time-sized loop goes on: within its budget, yes; past it, only
 * while it has done fewer than @min iterations, and for at most three more
 * budgets. Under TCG on a loaded host a budget can shrink to a handful of
 * iterations, and a loop that ran twice proves nothing: the caller asserts
 * the minimum afterwards, so a loop that could not reach it fails.
 */
static inline bool pssi_loop_on(uint64_t t0, uint64_t end, unsigned long n,
				unsigned long min)
{
	uint64_t now = pssi_now_ns();

	if (now < end)
		return true;
	return n < min && now < end + 3 * (end - t0);
}

/*
 * Switch the kernel's preemption model (PREEMPT_DYNAMIC kernels, through
 * debugfs) for a test that needs a task to lose the CPU inside the kernel.
 * The current model goes to old ("" if there is no switch); false if the
 * switch is missing or refused.
 */
#define PSSI_PREEMPT_CTL "/sys/kernel/debug/sched/preempt"

static inline bool pssi_set_preempt(const char *mode, char *old, size_t len)
{
	char cur[128];
	const char *a, *b;
	ssize_t n;
	int fd;

	old[0] = '\0';
	fd = open(PSSI_PREEMPT_CTL, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cur, sizeof(cur) - 1);
	close(fd);
	if (n <= 0)
		return false;
	cur[n] = '\0';
	/* "none voluntary (full)": the current one is in parentheses */
	a = strchr(cur, '(');
	b = a ? strchr(a, ')') : NULL;
	if (b)
		snprintf(old, len, "%.*s", (int)(b - a - 1), a + 1);
	fd = open(PSSI_PREEMPT_CTL, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = write(fd, mode, strlen(mode));
	close(fd);
	return n == (ssize_t)strlen(mode);
}

static inline uint64_t pssi_seed(void)
{
	const char *e = getenv("PSS_SEED");

	return e && *e ? strtoull(e, NULL, 0) : 0x9e3779b97f4a7c15ULL;
}

/* xorshift64*: tiny, seedable, good enough */
static inline uint64_t pssi_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x2545f4914f6cdd1dULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static inline uint64_t pssi_rand_below(uint64_t *s, uint64_t n)
{
	return n ? pssi_rand(s) % n : 0;
}

static inline int pssi_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the DIR's own fd */
}

/* Raw capture: returns the snapshot fd or -errno. pidfd >= 0 selects PIDFD. */
static inline int pssi_capture(int dev, pid_t pid, int pidfd, uint64_t facets)
{
	struct pss_capture_args a;
	int r;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.facets = facets;
	if (pidfd >= 0) {
		a.flags = PSS_CAPTURE_PIDFD;
		a.target_pidfd = pidfd;
	} else {
		a.target_pid = pid;
	}
	r = ioctl(dev, PSS_IOC_CAPTURE, &a);
	return r < 0 ? -errno : r;
}

/* Read "Tgid:" of /proc/TID/status; 0 if the task is gone. */
static inline pid_t pssi_tgid_of(pid_t tid)
{
	char path[64], line[256];
	pid_t tgid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Tgid:", 5)) {
			tgid = atoi(line + 5);
			break;
		}
	fclose(f);
	return tgid;
}

/* ------------------------------------------------------------ records */

static inline uint64_t pssi_facet_of(uint32_t cls)
{
	switch (cls) {
	case PSS_WALK_THREADS:	return PSS_FACET_THREADS;
	case PSS_WALK_HANDLES:	return PSS_FACET_HANDLES;
	case PSS_WALK_VA_SPACE:	return PSS_FACET_VA_SPACE;
	case PSS_WALK_CONTEXTS:	return PSS_FACET_THREAD_CONTEXT;
	case PSS_WALK_KSTACKS:	return PSS_FACET_THREAD_KSTACK;
	case PSS_WALK_MEMORY:	return PSS_FACET_MEMORY;
	}
	return 0;
}

struct pssi_recs {
	char *buf;		/* all records back to back */
	size_t bytes;
	size_t n;
	size_t *off;		/* off[i]: record i; off[n] = bytes */
	uint64_t total;
	uint32_t max_len;
	unsigned int calls;
};

static inline void pssi_recs_free(struct pssi_recs *r)
{
	free(r->buf);
	free(r->off);
	memset(r, 0, sizeof(*r));
}

static inline const void *pssi_rec(const struct pssi_recs *r, size_t i)
{
	return r->buf + r->off[i];
}

/* Framing of one batch (see the header comment). */
static inline int pssi_check_batch(uint32_t cls, const char *b, uint64_t bytes,
				   uint32_t count, uint64_t first)
{
	uint64_t off = 0;
	uint32_t i;

	for (i = 0; i < count; i++) {
		const uint32_t *h = (const uint32_t *)(b + off);
		uint32_t len, voff, vlen;

		if (off + 16 > bytes)
			return pssi_fail("class %u rec %" PRIu64 ": starts at %" PRIu64
					 " past bytes_written %" PRIu64, cls,
					 first + i, off, bytes);
		len = h[0];
		voff = h[2];
		vlen = h[3];
		if (len % PSS_REC_ALIGN || len < pss_rec_min(cls) || off + len > bytes)
			return pssi_fail("class %u rec %" PRIu64 ": bad rec_len %u (off %"
					 PRIu64 ", bytes %" PRIu64 ")", cls, first + i,
					 len, off, bytes);
		if (voff) {
			enum pss_var_kind kind = pss_rec_var_kind(cls);
			uint64_t need = (uint64_t)voff + vlen + (kind != PSS_VAR_WORDS);

			if (voff < pss_rec_min(cls) || need > len)
				return pssi_fail("class %u rec %" PRIu64 ": variable part %u+%u"
						 " outside rec_len %u", cls, first + i,
						 voff, vlen, len);
			if (kind == PSS_VAR_WORDS) {
				if (vlen % 8 || voff % 8)
					return pssi_fail("thread rec %" PRIu64 ": cpus %u+%u"
							 " not in u64 words", first + i,
							 voff, vlen);
			} else if (kind == PSS_VAR_BYTES) {
				/* register sets and memory: any bytes, then NUL */
				if (b[off + voff + vlen] != '\0')
					return pssi_fail("class %u rec %" PRIu64 ": bytes at"
							 " %u+%u without their NUL", cls,
							 first + i, voff, vlen);
			} else if (b[off + voff + vlen] != '\0' ||
				   strnlen(b + off + voff, vlen) != vlen) {
				return pssi_fail("class %u rec %" PRIu64 ": string at %u is"
						 " not %u chars + NUL", cls, first + i,
						 voff, vlen);
			}
		} else if (vlen) {
			return pssi_fail("class %u rec %" PRIu64 ": len %u without offset",
					 cls, first + i, vlen);
		}
		off += len;
	}
	if (off != bytes)
		return pssi_fail("class %u: %u records use %" PRIu64 " bytes, "
				 "bytes_written %" PRIu64, cls, count, off, bytes);
	return 0;
}

/*
 * Walk cls from pos with a first buffer of bufsz bytes (grown to next_len on
 * ENOSPC), appending to r. Returns 0, -1 (violation, pssi_errmsg) or -errno
 * of an unexpected walk failure (also with pssi_errmsg).
 */
static inline int pssi_walk_from(int snap, uint32_t cls, uint64_t pos,
				 size_t bufsz, struct pssi_recs *r)
{
	size_t cap = r->bytes;
	char *tmp;
	bool first = true;
	uint32_t expect_len = 0;

	if (bufsz < 8)
		bufsz = 8;
	tmp = malloc(bufsz);
	if (!tmp)
		return pssi_fail("malloc %zu", bufsz);
	for (;;) {
		struct pss_walk_args w;
		int ret;

		memset(&w, 0, sizeof(w));
		w.size = sizeof(w);
		w.walk_class = cls;
		w.pos = pos;
		w.buf = (uintptr_t)tmp;
		w.buf_len = bufsz;
		ret = ioctl(snap, PSS_IOC_WALK, &w) < 0 ? -errno : 0;
		if (ret == -ENOSPC) {
			if (w.next_len <= bufsz) {
				free(tmp);
				return pssi_fail("class %u pos %" PRIu64 ": ENOSPC with "
						 "next_len %u <= buf_len %zu", cls, pos,
						 w.next_len, bufsz);
			}
			if (w.next_len % PSS_REC_ALIGN || w.next_len < pss_rec_min(cls)) {
				free(tmp);
				return pssi_fail("class %u pos %" PRIu64 ": ENOSPC next_len %u"
						 " not a record size", cls, pos, w.next_len);
			}
			if (expect_len && w.next_len != expect_len) {
				free(tmp);
				return pssi_fail("class %u pos %" PRIu64 ": ENOSPC next_len %u,"
						 " previous call said %u", cls, pos,
						 w.next_len, expect_len);
			}
			expect_len = w.next_len;
			bufsz = w.next_len;
			free(tmp);
			tmp = malloc(bufsz);
			if (!tmp)
				return pssi_fail("malloc %zu", bufsz);
			continue;
		}
		if (ret) {
			free(tmp);
			pssi_fail("walk class %u pos %" PRIu64 " buf_len %zu: %s", cls,
				  pos, bufsz, strerror(-ret));
			return ret;
		}
		if (!first || r->calls) {
			if (w.total != r->total) {
				free(tmp);
				return pssi_fail("class %u: total changed %" PRIu64 " -> %"
						 PRIu64, cls, r->total, (uint64_t)w.total);
			}
		}
		first = false;
		r->calls++;
		r->total = w.total;
		if (w.pos != pos + w.count || w.pos > w.total) {
			free(tmp);
			return pssi_fail("class %u: pos %" PRIu64 " + count %u != new pos %"
					 PRIu64 " (total %" PRIu64 ")", cls, pos, w.count,
					 (uint64_t)w.pos, (uint64_t)w.total);
		}
		if (w.bytes_written > bufsz) {
			free(tmp);
			return pssi_fail("class %u: bytes_written %" PRIu64 " > buf_len %zu",
					 cls, (uint64_t)w.bytes_written, bufsz);
		}
		if (w.out_flags & ~PSS_WALK_END) {
			free(tmp);
			return pssi_fail("class %u: unknown out_flags %#x", cls, w.out_flags);
		}
		if (!!(w.out_flags & PSS_WALK_END) != (w.pos == w.total)) {
			free(tmp);
			return pssi_fail("class %u: END %u but pos %" PRIu64 " total %" PRIu64,
					 cls, w.out_flags, (uint64_t)w.pos,
					 (uint64_t)w.total);
		}
		if ((w.pos == w.total) != (w.next_len == 0)) {
			free(tmp);
			return pssi_fail("class %u: next_len %u at pos %" PRIu64 " of %" PRIu64,
					 cls, w.next_len, (uint64_t)w.pos,
					 (uint64_t)w.total);
		}
		if (!w.count && !(w.out_flags & PSS_WALK_END)) {
			free(tmp);
			return pssi_fail("class %u: no progress at pos %" PRIu64 " buf %zu",
					 cls, pos, bufsz);
		}
		if (pssi_check_batch(cls, tmp, w.bytes_written, w.count, pos)) {
			free(tmp);
			return -1;
		}
		/* next_len must be the size of the record that comes next */
		if (w.count && expect_len && *(const uint32_t *)tmp != expect_len) {
			uint32_t got = *(const uint32_t *)tmp;

			free(tmp);
			return pssi_fail("class %u pos %" PRIu64 ": next_len said %u, record"
					 " is %u", cls, pos, expect_len, got);
		}
		expect_len = w.next_len;
		if (w.next_len && w.bytes_written + w.next_len <= bufsz) {
			free(tmp);
			return pssi_fail("class %u: stopped at pos %" PRIu64 " though "
					 "next_len %u fit", cls, (uint64_t)w.pos, w.next_len);
		}
		if (r->bytes + w.bytes_written > cap) {
			char *nb;

			cap = (r->bytes + w.bytes_written) * 2 + 64;
			nb = realloc(r->buf, cap);
			if (!nb) {
				free(tmp);
				return pssi_fail("realloc %zu", cap);
			}
			r->buf = nb;
		}
		if (w.bytes_written)
			memcpy(r->buf + r->bytes, tmp, w.bytes_written);
		r->bytes += w.bytes_written;
		r->n += w.count;
		pos = w.pos;
		if (w.out_flags & PSS_WALK_END)
			break;
		if (r->calls > 10000000) {
			free(tmp);
			return pssi_fail("class %u: walk does not end", cls);
		}
	}
	free(tmp);
	return 0;
}

/* Index r->off[] and compute max_len. */
static inline int pssi_index(struct pssi_recs *r)
{
	size_t i, pos = 0;

	r->off = calloc(r->n + 1, sizeof(size_t));
	if (!r->off)
		return pssi_fail("calloc");
	r->max_len = 0;
	for (i = 0; i < r->n; i++) {
		uint32_t len = *(const uint32_t *)(r->buf + pos);

		r->off[i] = pos;
		if (len > r->max_len)
			r->max_len = len;
		pos += len;
	}
	r->off[r->n] = pos;
	if (pos != r->bytes)
		return pssi_fail("records sum %zu != bytes %zu", pos, r->bytes);
	return 0;
}

/* ------------------------------------------------------------ checker */

enum pssi_tid_mode {
	PSSI_TID_NONE = 0,	/* don't check membership */
	PSSI_TID_PROC,		/* live tids must have Tgid == pid in /proc */
	PSSI_TID_STRICT,	/* every tid must be in /proc/PID/task now */
};

struct pssi_opts {
	pid_t pid;		/* target's pid as the caller sees it (0: unknown) */
	uint64_t facets;	/* facets requested (checked against the snapshot) */
	enum pssi_tid_mode tid_mode;
	/* optional: return true if tid belongs (or belonged) to the target */
	bool (*tid_ok)(pid_t tid, void *ctx);
	void *ctx;
	bool self;		/* a self-capture: caller_tid has PSS_THREAD_CALLER */
	pid_t caller_tid;
	bool zero_ids;		/* target invisible in the caller's pidns: ids 0 */
	bool no_nr_threads;	/* don't compare process nr_threads to the walk */
	unsigned int restore_checks; /* random restart positions per class (2) */
	uint64_t *rng;		/* for buffer sizes / positions (NULL: fixed) */
};

struct pssi_snap {
	struct pss_snapshot_info si;
	struct pss_process_info pi;
	bool have[PSS_WALK_NR_CLASSES];
	struct pssi_recs r[PSS_WALK_NR_CLASSES];
	unsigned int unverified_tids;	/* gone before membership check */
	struct pss_perf_info pf;	/* MEASURE_PERFORMANCE, else zero */
	uint32_t pf_size;		/* the kernel's size of pf */
};

/* The facets that park the target's threads for the capture. */
#define PSSI_PARK_FACETS	(PSS_FACET_THREAD_CONTEXT | PSS_FACET_MEMORY)

static inline void pssi_snap_free(struct pssi_snap *s)
{
	int c;

	for (c = 0; c < PSS_WALK_NR_CLASSES; c++)
		pssi_recs_free(&s->r[c]);
}

static inline size_t pssi_pick_bufsz(uint64_t *rng, uint32_t cls, uint32_t max_len)
{
	if (!rng)
		return 65536;
	switch (pssi_rand_below(rng, 6)) {
	case 0:		return pss_rec_min(cls);	/* forces ENOSPC growth */
	case 1:		return max_len ? max_len : 8;	/* exactly one maximal record */
	case 2:		return 1 + pssi_rand_below(rng, 4096);
	case 3:		return 8 + pssi_rand_below(rng, 1024);
	case 4:		return 1 << 20;
	default:	return 65536;
	}
}

static inline int pssi_cmp_s32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? -1 : x > y;
}

static inline int pssi_check_threads(struct pssi_snap *s, const struct pssi_opts *o)
{
	struct pssi_recs *r = &s->r[PSS_WALK_THREADS];
	int32_t *tids;
	size_t i, leaders = 0, callers = 0;

	tids = calloc(r->n + 1, sizeof(*tids));
	if (!tids)
		return pssi_fail("calloc");
	for (i = 0; i < r->n; i++) {
		const struct pss_thread_entry *t = pssi_rec(r, i);

		tids[i] = t->tid;
		if (t->flags & ~(uint32_t)(PSS_THREAD_LEADER | PSS_THREAD_EXITING |
					   PSS_THREAD_STOPPED | PSS_THREAD_TRACED |
					   PSS_THREAD_CALLER | PSS_THREAD_PARKED)) {
			free(tids);
			return pssi_fail("thread %d: unknown flags %#x", t->tid, t->flags);
		}
		if ((t->flags & PSS_THREAD_PARKED) && !(s->si.facets & PSSI_PARK_FACETS)) {
			free(tids);
			return pssi_fail("thread %d PARKED by a capture that parks nobody"
					 " (facets %#" PRIx64 ")", t->tid,
					 (uint64_t)s->si.facets);
		}
		if (memchr(t->comm, 0, sizeof(t->comm)) == NULL) {
			free(tids);
			return pssi_fail("thread %d: comm not NUL-terminated", t->tid);
		}
		if (o->zero_ids ? t->tid != 0 : t->tid <= 0) {
			free(tids);
			return pssi_fail("thread rec %zu: tid %d (zero_ids %d)", i, t->tid,
					 o->zero_ids);
		}
		if (t->cpu < 0) {
			free(tids);
			return pssi_fail("thread %d: cpu %d", t->tid, t->cpu);
		}
		if (t->flags & PSS_THREAD_LEADER) {
			leaders++;
			if (o->pid && !o->zero_ids && t->tid != o->pid) {
				free(tids);
				return pssi_fail("leader tid %d != pid %d", t->tid, o->pid);
			}
		}
		if (t->flags & PSS_THREAD_CALLER) {
			callers++;
			if (!o->self) {
				free(tids);
				return pssi_fail("thread %d flagged CALLER in a foreign capture",
						 t->tid);
			}
			if (o->caller_tid && t->tid != o->caller_tid) {
				free(tids);
				return pssi_fail("CALLER on tid %d, capturing thread is %d",
						 t->tid, o->caller_tid);
			}
		}
	}
	if (leaders > 1) {
		free(tids);
		return pssi_fail("%zu leaders", leaders);
	}
	if (o->self && o->caller_tid && callers != 1) {
		free(tids);
		return pssi_fail("self-capture: %zu CALLER threads (want 1)", callers);
	}
	if (!o->zero_ids) {
		qsort(tids, r->n, sizeof(*tids), pssi_cmp_s32);
		for (i = 1; i < r->n; i++)
			if (tids[i] == tids[i - 1]) {
				int32_t d = tids[i];

				free(tids);
				return pssi_fail("tid %d appears twice", d);
			}
	}
	free(tids);

	if (o->zero_ids || !o->pid)
		return 0;
	for (i = 0; i < r->n; i++) {
		const struct pss_thread_entry *t = pssi_rec(r, i);
		char path[64];
		pid_t tg;

		if (o->tid_ok) {
			if (o->tid_ok(t->tid, o->ctx))
				continue;
			return pssi_fail("tid %d never belonged to target %d", t->tid,
					 o->pid);
		}
		switch (o->tid_mode) {
		case PSSI_TID_NONE:
			break;
		case PSSI_TID_STRICT:
			snprintf(path, sizeof(path), "/proc/%d/task/%d", o->pid, t->tid);
			if (access(path, F_OK))
				return pssi_fail("tid %d not in /proc/%d/task", t->tid, o->pid);
			break;
		case PSSI_TID_PROC:
			tg = pssi_tgid_of(t->tid);
			if (!tg)
				s->unverified_tids++;
			else if (tg != o->pid)
				return pssi_fail("tid %d has Tgid %d, target is %d", t->tid,
						 tg, o->pid);
			break;
		}
	}
	return 0;
}

static inline int pssi_check_handles(struct pssi_snap *s)
{
	struct pssi_recs *r = &s->r[PSS_WALK_HANDLES];
	int32_t *fds;
	size_t i;

	fds = calloc(r->n + 1, sizeof(*fds));
	if (!fds)
		return pssi_fail("calloc");
	for (i = 0; i < r->n; i++) {
		const struct pss_handle_entry *h = pssi_rec(r, i);

		fds[i] = h->fd;
		if (h->fd < 0) {
			free(fds);
			return pssi_fail("handle rec %zu: fd %d", i, h->fd);
		}
		if (h->flags & ~(uint32_t)(_BITUL(8) - 1)) {	/* to HAS_DETAIL */
			free(fds);
			return pssi_fail("fd %d: unknown flags %#x", h->fd, h->flags);
		}
		if ((h->flags & PSS_HANDLE_HAS_BASIC) && h->type >= PSS_HT_NR) {
			free(fds);
			return pssi_fail("fd %d: type %u", h->fd, h->type);
		}
		if ((h->flags & PSS_HANDLE_HAS_NAME) && !h->name_off && h->name_len) {
			free(fds);
			return pssi_fail("fd %d: HAS_NAME, no name_off", h->fd);
		}
		if (h->fmode & ~(uint32_t)(PSS_FMODE_READ | PSS_FMODE_WRITE)) {
			free(fds);
			return pssi_fail("fd %d: unknown fmode %#x", h->fd, h->fmode);
		}
	}
	qsort(fds, r->n, sizeof(*fds), pssi_cmp_s32);
	for (i = 1; i < r->n; i++)
		if (fds[i] == fds[i - 1]) {
			int32_t d = fds[i];

			free(fds);
			return pssi_fail("fd %d appears twice", d);
		}
	free(fds);
	return 0;
}

static inline int pssi_check_vmas(struct pssi_snap *s)
{
	struct pssi_recs *r = &s->r[PSS_WALK_VA_SPACE];
	uint64_t prev_end = 0;
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct pss_vma_entry *v = pssi_rec(r, i);
		uint64_t ps = v->page_size ? v->page_size : PSSI_PAGE;

		if (v->start >= v->end)
			return pssi_fail("vma %zu: start %#" PRIx64 " >= end %#" PRIx64, i,
					 (uint64_t)v->start, (uint64_t)v->end);
		if (ps < PSSI_PAGE || (ps & (ps - 1)))
			return pssi_fail("vma %#" PRIx64 ": page_size %" PRIu64,
					 (uint64_t)v->start, ps);
		if (v->start % ps || v->end % ps)
			return pssi_fail("vma %#" PRIx64 "-%#" PRIx64 " not aligned to %" PRIu64,
					 (uint64_t)v->start, (uint64_t)v->end, ps);
		if (i && v->start < prev_end)
			return pssi_fail("vma %zu %#" PRIx64 "-%#" PRIx64 " overlaps/unsorted"
					 " (previous ends %#" PRIx64 ")", i,
					 (uint64_t)v->start, (uint64_t)v->end, prev_end);
		if (v->prot & ~(uint32_t)(PSS_PROT_READ | PSS_PROT_WRITE | PSS_PROT_EXEC))
			return pssi_fail("vma %#" PRIx64 ": prot %#x", (uint64_t)v->start,
					 v->prot);
		if (v->flags & ~(uint32_t)(_BITUL(17) - 1))	/* to HAS_BUILD_ID */
			return pssi_fail("vma %#" PRIx64 ": unknown flags %#x",
					 (uint64_t)v->start, v->flags);
		if (v->name_kind > PSS_VMA_NAME_ANON_SHMEM)
			return pssi_fail("vma %#" PRIx64 ": name_kind %u",
					 (uint64_t)v->start, v->name_kind);
		if (v->pgoff_bytes % PSSI_PAGE)
			return pssi_fail("vma %#" PRIx64 ": pgoff_bytes %#" PRIx64,
					 (uint64_t)v->start, (uint64_t)v->pgoff_bytes);
		prev_end = v->end;
	}
	return 0;
}

static inline int pssi_check_process(struct pssi_snap *s, const struct pssi_opts *o)
{
	const struct pss_process_info *p = &s->pi;

	if (p->size < PSS_PROCESS_INFO_SIZE_VER0)
		return pssi_fail("process info size %u", p->size);
	if (p->mask & ~(uint64_t)(_BITULL(8) - 1))	/* to HAS_FS */
		return pssi_fail("process mask %#" PRIx64, (uint64_t)p->mask);
	if (p->flags & ~(uint32_t)(_BITUL(8) - 1))
		return pssi_fail("process flags %#x", p->flags);
	if (!memchr(p->comm, 0, sizeof(p->comm)))
		return pssi_fail("process comm not NUL-terminated");
	if (!memchr(p->exe_path, 0, sizeof(p->exe_path)))
		return pssi_fail("exe_path not NUL-terminated");
	if (p->exe_path_len != strlen(p->exe_path))
		return pssi_fail("exe_path_len %u != strlen %zu ('%s')", p->exe_path_len,
				 strlen(p->exe_path), p->exe_path);
	if ((p->mask & PSS_PROC_HAS_IDS) && o->pid && !o->zero_ids && p->pid != o->pid)
		return pssi_fail("process pid %d, expected %d", p->pid, o->pid);
	if ((p->mask & PSS_PROC_HAS_IDS) && o->zero_ids && p->pid != 0)
		return pssi_fail("process pid %d, expected 0 (outside our pidns)", p->pid);
	if (o->self && !(p->flags & PSS_PROC_SELF))
		return pssi_fail("self-capture without PSS_PROC_SELF");
	if (!o->self && (p->flags & PSS_PROC_SELF))
		return pssi_fail("foreign capture has PSS_PROC_SELF");
	if (s->have[PSS_WALK_THREADS] && !o->no_nr_threads &&
	    p->nr_threads != s->r[PSS_WALK_THREADS].n)
		return pssi_fail("process nr_threads %u, thread walk %zu", p->nr_threads,
				 s->r[PSS_WALK_THREADS].n);
	return 0;
}

/* Walk again from a random saved position; must equal the original tail. */
static inline int pssi_check_restore(int snap, uint32_t cls, struct pssi_recs *r,
				     uint64_t *rng)
{
	struct pssi_recs t;
	struct pss_walk_args w;
	uint64_t pos = rng ? pssi_rand_below(rng, r->n + 1) : r->n / 2;
	char dummy[8];
	int ret;

	memset(&t, 0, sizeof(t));
	t.total = r->total;
	t.calls = 1;	/* compare total from the first call on */
	ret = pssi_walk_from(snap, cls, pos,
			     pssi_pick_bufsz(rng, cls, r->max_len), &t);
	if (ret) {
		pssi_recs_free(&t);
		return ret;
	}
	if (t.n != r->n - pos || t.bytes != r->bytes - r->off[pos] ||
	    memcmp(t.buf, r->buf + r->off[pos], t.bytes)) {
		pssi_recs_free(&t);
		return pssi_fail("class %u: walk restarted at %" PRIu64 " differs from "
				 "the original tail (%zu recs/%zu bytes vs %zu/%zu)",
				 cls, pos, t.n, t.bytes, r->n - (size_t)pos,
				 r->bytes - r->off[pos]);
	}
	pssi_recs_free(&t);

	/* pos == total: END, nothing; pos > total: ERANGE */
	memset(&w, 0, sizeof(w));
	w.size = sizeof(w);
	w.walk_class = cls;
	w.pos = r->total;
	w.buf = (uintptr_t)dummy;
	w.buf_len = sizeof(dummy);
	if (ioctl(snap, PSS_IOC_WALK, &w))
		return pssi_fail("class %u: walk at pos == total: %s", cls,
				 strerror(errno));
	if (w.count || w.bytes_written || !(w.out_flags & PSS_WALK_END) || w.next_len)
		return pssi_fail("class %u: walk at end: count %u bytes %" PRIu64
				 " flags %#x next_len %u", cls, w.count,
				 (uint64_t)w.bytes_written, w.out_flags, w.next_len);
	w.pos = r->total + 1;
	errno = 0;
	if (ioctl(snap, PSS_IOC_WALK, &w) != -1 || errno != ERANGE)
		return pssi_fail("class %u: walk at total+1: %s (want ERANGE)", cls,
				 strerror(errno));
	return 0;
}

/*
 * Load (query + walk) a snapshot into s, checking framing and counts.
 * Returns 0 or -1 (pssi_errmsg says why).
 */
static inline int pssi_load(int snap, const struct pssi_opts *o, struct pssi_snap *s)
{
	uint32_t ksize = 0;
	int c, ret;

	memset(s, 0, sizeof(*s));
	ret = ioc_query(snap, PSS_QUERY_SNAPSHOT, &s->si, sizeof(s->si), &ksize);
	if (ret)
		return pssi_fail("query SNAPSHOT: %s", strerror(-ret));
	if (s->si.size < PSS_SNAPSHOT_INFO_SIZE_VER0 || ksize != s->si.size)
		return pssi_fail("snapshot info size %u, kernel_size %u", s->si.size, ksize);
	if (s->si.abi_version != PSS_ABI_VERSION)
		return pssi_fail("snapshot abi_version %u", s->si.abi_version);
	if (o->facets != UINT64_MAX && s->si.facets != o->facets)
		return pssi_fail("snapshot facets %#" PRIx64 ", requested %#" PRIx64,
				 (uint64_t)s->si.facets, o->facets);
	/* per thread: only with contexts, never with memory (the ioctl's rule) */
	if ((s->si.capture_flags & ~(uint32_t)PSS_CAPTURE_PER_THREAD) ||
	    ((s->si.capture_flags & PSS_CAPTURE_PER_THREAD) &&
	     (!(s->si.facets & PSS_FACET_THREAD_CONTEXT) ||
	      (s->si.facets & PSS_FACET_MEMORY))))
		return pssi_fail("snapshot capture_flags %#x with facets %#" PRIx64,
				 s->si.capture_flags, (uint64_t)s->si.facets);
	if (s->si.facets & ~(uint64_t)PSS_FACETS_KNOWN)
		return pssi_fail("snapshot facets %#" PRIx64 " has unknown bits",
				 (uint64_t)s->si.facets);
	ret = ioc_query(snap, PSS_QUERY_PROCESS, &s->pi, sizeof(s->pi), NULL);
	if (ret)
		return pssi_fail("query PROCESS: %s", strerror(-ret));

	for (c = 0; c < PSS_WALK_NR_CLASSES; c++) {
		static const uint32_t qcls[PSS_WALK_NR_CLASSES] = {
			PSS_QUERY_THREADS, PSS_QUERY_HANDLES, PSS_QUERY_VA_SPACE,
			PSS_QUERY_CONTEXTS, PSS_QUERY_KSTACKS, PSS_QUERY_MEMORY,
		};
		/* records expected: one per thread for contexts and kernel
		 * stacks; memory: any (UINT64_MAX)
		 */
		const uint64_t nr[PSS_WALK_NR_CLASSES] = {
			s->si.nr_threads, s->si.nr_handles, s->si.nr_vmas,
			s->si.nr_threads, s->si.nr_threads, UINT64_MAX,
		};
		struct pss_count_info ci;
		struct pss_walk_args w;
		char dummy[8];

		memset(&ci, 0, sizeof(ci));
		ret = ioc_query(snap, qcls[c], &ci, sizeof(ci), NULL);
		s->have[c] = !!(s->si.facets & pssi_facet_of(c));
		if (!s->have[c]) {
			if (ret != -ENODATA)
				return pssi_fail("query class %u of an uncaptured facet: %s "
						 "(want ENODATA)", qcls[c],
						 ret ? strerror(-ret) : "success");
			memset(&w, 0, sizeof(w));
			w.size = sizeof(w);
			w.walk_class = c;
			w.buf = (uintptr_t)dummy;
			w.buf_len = sizeof(dummy);
			errno = 0;
			if (ioctl(snap, PSS_IOC_WALK, &w) != -1 || errno != ENODATA)
				return pssi_fail("walk class %d of an uncaptured facet: %s "
						 "(want ENODATA)", c, strerror(errno));
			if (c <= PSS_WALK_VA_SPACE && nr[c])
				return pssi_fail("snapshot nr[%d] = %" PRIu64 " without facet",
						 c, nr[c]);
			continue;
		}
		if (ret)
			return pssi_fail("query class %u: %s", qcls[c], strerror(-ret));
		ret = pssi_walk_from(snap, c, 0, pssi_pick_bufsz(o->rng, c, ci.max_rec_len),
				     &s->r[c]);
		if (ret)
			return -1;
		if (pssi_index(&s->r[c]))
			return -1;
		if (s->r[c].n != s->r[c].total || ci.count != s->r[c].n ||
		    ci.bytes != s->r[c].bytes || ci.max_rec_len != s->r[c].max_len ||
		    (nr[c] != UINT64_MAX && nr[c] != s->r[c].n))
			return pssi_fail("class %d: walked %zu recs %zu bytes max %u, walk "
					 "total %" PRIu64 ", query count %" PRIu64 " bytes %"
					 PRIu64 " max %" PRIu64 ", snapshot nr %" PRIu64,
					 c, s->r[c].n, s->r[c].bytes, s->r[c].max_len,
					 s->r[c].total, (uint64_t)ci.count,
					 (uint64_t)ci.bytes, (uint64_t)ci.max_rec_len, nr[c]);
	}

	if (s->si.facets & PSS_FACET_MEASURE_PERFORMANCE) {
		struct pss_perf_info pf;
		int i;

		memset(&pf, 0, sizeof(pf));
		ret = ioc_query(snap, PSS_QUERY_PERFORMANCE, &pf, sizeof(pf), &s->pf_size);
		if (ret)
			return pssi_fail("query PERFORMANCE: %s", strerror(-ret));
		s->pf = pf;
		if (s->pf_size >= PSS_PERF_INFO_SIZE_VER1 && !(s->si.facets & PSSI_PARK_FACETS) &&
		    (pf.stall_ns || pf.park_max_ns || pf.nr_parked || pf.nr_held ||
		     pf.nr_not_parked || pf.phase_ns[PSS_PHASE_QUIESCE]))
			return pssi_fail("perf: stall %" PRIu64 " park_max %" PRIu64
					 " parked/held/not %u/%u/%u quiesce %" PRIu64
					 " ns without a parking facet",
					 (uint64_t)pf.stall_ns, (uint64_t)pf.park_max_ns,
					 pf.nr_parked, pf.nr_held, pf.nr_not_parked,
					 (uint64_t)pf.phase_ns[PSS_PHASE_QUIESCE]);
		if (pf.reserved || pf.reserved1)
			return pssi_fail("perf: reserved fields %u %u", pf.reserved,
					 pf.reserved1);
		for (i = 1; i < PSS_PHASE_NR; i++)
			if (pf.phase_ns[i] > pf.phase_ns[PSS_PHASE_TOTAL])
				return pssi_fail("phase %d took %" PRIu64 " ns > total %"
						 PRIu64, i, (uint64_t)pf.phase_ns[i],
						 (uint64_t)pf.phase_ns[0]);
		for (i = 0; i < PSS_LOCK_NR; i++)
			if (pf.lock_held_ns[i] > pf.phase_ns[PSS_PHASE_TOTAL])
				return pssi_fail("lock %d held %" PRIu64 " ns > total %" PRIu64,
						 i, (uint64_t)pf.lock_held_ns[i],
						 (uint64_t)pf.phase_ns[0]);
	} else {
		struct pss_perf_info pf;

		ret = ioc_query(snap, PSS_QUERY_PERFORMANCE, &pf, sizeof(pf), NULL);
		if (ret != -ENODATA)
			return pssi_fail("query PERFORMANCE without the facet: %s "
					 "(want ENODATA)", ret ? strerror(-ret) : "success");
	}
	return 0;
}

/*
 * Register contexts (THREAD_CONTEXT): one per thread of the thread walk, in
 * its order; the park a known kind, PSS_THREAD_PARKED exactly on the
 * threads held, register data exactly on them, inside the record; the
 * caller's own thread PSS_PARK_CALLER. With the parking facets and
 * MEASURE_PERFORMANCE, the perf counts are the context walk's, a stall
 * when a thread was parked, at least the longest park.
 */
static inline int pssi_check_contexts(struct pssi_snap *s, const struct pssi_opts *o)
{
	const struct pssi_recs *r = &s->r[PSS_WALK_CONTEXTS], *t = &s->r[PSS_WALK_THREADS];
	unsigned int n[PSS_PARK_CALLER + 1] = { 0 };
	uint64_t park_max = 0;
	size_t i;

	if (!s->have[PSS_WALK_THREADS] || r->n != t->n)
		return pssi_fail("%zu contexts for %zu threads", r->n, t->n);
	for (i = 0; i < r->n; i++) {
		const struct pss_context_entry *c = pssi_rec(r, i);
		const struct pss_thread_entry *te = pssi_rec(t, i);
		const uint32_t set[3][2] = {
			{ c->gregs_off, c->gregs_len }, { c->fpregs_off, c->fpregs_len },
			{ c->xstate_off, c->xstate_len },
		};
		bool caller = te->flags & PSS_THREAD_CALLER;
		int k;

		if (c->tid != te->tid)
			return pssi_fail("context %zu: tid %d, thread walk's %d", i, c->tid,
					 te->tid);
		if (c->flags || c->reserved)
			return pssi_fail("context %d: flags %#x reserved %#x", c->tid, c->flags,
					 c->reserved);
		if (c->park > PSS_PARK_CALLER)
			return pssi_fail("context %d: park %u", c->tid, c->park);
		n[c->park]++;
		if (!!(te->flags & PSS_THREAD_PARKED) != (c->park != PSS_PARK_NONE))
			return pssi_fail("thread %d: flags %#x, park %u", c->tid, te->flags,
					 c->park);
		if (caller != (c->park == PSS_PARK_CALLER))
			return pssi_fail("thread %d: flags %#x (caller %d), park %u", c->tid,
					 te->flags, caller, c->park);
		if (c->park != PSS_PARK_WAITED && c->park_ns)
			return pssi_fail("context %d: park %u with park_ns %" PRIu64, c->tid,
					 c->park, (uint64_t)c->park_ns);
		if (c->park_ns > park_max)
			park_max = c->park_ns;
		if (c->park == PSS_PARK_NONE) {
			if (c->data_len || c->gregs_len || c->fpregs_len || c->xstate_len ||
			    c->elf_machine)
				return pssi_fail("context %d not parked has data %u (gregs %u"
						 " fpregs %u xstate %u machine %u)", c->tid,
						 c->data_len, c->gregs_len, c->fpregs_len,
						 c->xstate_len, c->elf_machine);
			continue;
		}
		if (!c->gregs_len || (c->elf_machine != 62 && c->elf_machine != 3))
			return pssi_fail("context %d parked (%u) gregs_len %u machine %u",
					 c->tid, c->park, c->gregs_len, c->elf_machine);
		for (k = 0; k < 3; k++)
			if (set[k][1] && (set[k][0] < c->data_off ||
					  (uint64_t)set[k][0] + set[k][1] >
					  (uint64_t)c->data_off + c->data_len))
				return pssi_fail("context %d: set %d at %u+%u outside data"
						 " %u+%u", c->tid, k, set[k][0], set[k][1],
						 c->data_off, c->data_len);
	}
	if (o->self && o->caller_tid && n[PSS_PARK_CALLER] != 1)
		return pssi_fail("self-capture: %u CALLER contexts", n[PSS_PARK_CALLER]);
	if (!(s->si.facets & PSS_FACET_MEASURE_PERFORMANCE) ||
	    s->pf_size < PSS_PERF_INFO_SIZE_VER1)
		return 0;
	/* the caller's own thread counts as held: its state cannot move */
	if (s->pf.nr_parked != n[PSS_PARK_WAITED] ||
	    s->pf.nr_held != n[PSS_PARK_STOPPED] + n[PSS_PARK_BLOCKED] +
			     n[PSS_PARK_CALLER] ||
	    s->pf.nr_not_parked != n[PSS_PARK_NONE])
		return pssi_fail("perf parked/held/not parked %u/%u/%u, contexts %u/%u/%u"
				 " (caller %u)", s->pf.nr_parked, s->pf.nr_held,
				 s->pf.nr_not_parked, n[PSS_PARK_WAITED],
				 n[PSS_PARK_STOPPED] + n[PSS_PARK_BLOCKED],
				 n[PSS_PARK_NONE], n[PSS_PARK_CALLER]);
	/* a thread that parked may have died before the cut: >=, not == */
	if (s->pf.park_max_ns < park_max || s->pf.stall_ns < s->pf.park_max_ns ||
	    (n[PSS_PARK_WAITED] && !s->pf.stall_ns))
		return pssi_fail("perf park_max %" PRIu64 " (contexts' longest %" PRIu64
				 "), stall %" PRIu64, (uint64_t)s->pf.park_max_ns, park_max,
				 (uint64_t)s->pf.stall_ns);
	return 0;
}

/*
 * The whole check. s may be NULL (loaded and freed internally); otherwise
 * the caller gets the loaded snapshot and must pssi_snap_free() it (also on
 * failure).
 */
static inline int pssi_check(int snap, const struct pssi_opts *o, struct pssi_snap *out)
{
	struct pssi_snap local, *s = out ? out : &local;
	unsigned int k, nrest = o->restore_checks ? o->restore_checks : 2;
	int c, ret;

	ret = pssi_load(snap, o, s);
	if (!ret)
		ret = pssi_check_process(s, o);
	if (!ret && s->have[PSS_WALK_THREADS])
		ret = pssi_check_threads(s, o);
	if (!ret && s->have[PSS_WALK_HANDLES])
		ret = pssi_check_handles(s);
	if (!ret && s->have[PSS_WALK_VA_SPACE])
		ret = pssi_check_vmas(s);
	if (!ret && s->have[PSS_WALK_CONTEXTS])
		ret = pssi_check_contexts(s, o);
	for (c = 0; !ret && c < PSS_WALK_NR_CLASSES; c++)
		for (k = 0; !ret && s->have[c] && k < nrest; k++)
			ret = pssi_check_restore(snap, c, &s->r[c], o->rng);
	if (!out)
		pssi_snap_free(s);
	return ret ? -1 : 0;
}

/* Find a record by key in a loaded snapshot. */
static inline const struct pss_handle_entry *pssi_find_fd(const struct pssi_snap *s, int fd)
{
	const struct pssi_recs *r = &s->r[PSS_WALK_HANDLES];
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct pss_handle_entry *h = pssi_rec(r, i);

		if (h->fd == fd)
			return h;
	}
	return NULL;
}

static inline const struct pss_thread_entry *pssi_find_tid(const struct pssi_snap *s, pid_t tid)
{
	const struct pssi_recs *r = &s->r[PSS_WALK_THREADS];
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct pss_thread_entry *t = pssi_rec(r, i);

		if (t->tid == tid)
			return t;
	}
	return NULL;
}

static inline const struct pss_vma_entry *pssi_find_vma(const struct pssi_snap *s,
							 uint64_t addr)
{
	const struct pssi_recs *r = &s->r[PSS_WALK_VA_SPACE];
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct pss_vma_entry *v = pssi_rec(r, i);

		if (v->start <= addr && addr < v->end)
			return v;
	}
	return NULL;
}

static inline const char *pssi_rec_name(const void *rec)
{
	const uint32_t *h = rec;

	return h[2] ? (const char *)rec + h[2] : NULL;
}

#define PSSI_LOG(fmt, ...) fprintf(stderr, "# " fmt "\n", ##__VA_ARGS__)

/*
 * A capture that may ask for thread state: PSS_FACET_MEMORY gets the
 * stacks (memory_flags must name something), the rest the defaults.
 */
static inline int pssi_capture_ts(int dev, pid_t pid, int pidfd, uint64_t facets)
{
	struct pss_capture_args a;
	int r;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.facets = facets;
	if (facets & PSS_FACET_MEMORY)
		a.memory_flags = PSS_MEMORY_STACKS;
	if (pidfd >= 0) {
		a.flags = PSS_CAPTURE_PIDFD;
		a.target_pidfd = pidfd;
	} else {
		a.target_pid = pid;
	}
	r = ioctl(dev, PSS_IOC_CAPTURE, &a);
	return r < 0 ? -errno : r;
}

#endif /* PSS_INVARIANTS_H */
