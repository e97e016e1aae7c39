// SPDX-License-Identifier: GPL-2.0
/*
 * pss_bench: the same information about one target process obtained three
 * ways, timed side by side in one run.
 *
 *   full   pss capture of every facet + a walk of every class (raw ioctls,
 *          one big buffer), against procfs read the careful way: stat,
 *          status, exe, maps, fd/ (getdents) + readlink fd/N + fdinfo/N,
 *          task/ (getdents) + task/TID/stat + task/TID/comm; everything
 *          parsed into the same structs in both cases.
 *   vma    VMAs only: pss VA-space capture + walk, a PROCMAP_QUERY loop
 *          (6.11+; names fetched), and parsing /proc/PID/maps.
 *   stall  a churning target times its own mmap/munmap calls while nothing,
 *          back-to-back pss captures, back-to-back /proc/PID/maps reads and
 *          back-to-back PROCMAP_QUERY loops run against it.
 *   tstall the stall of a thread-state capture (context; + kernel stacks;
 *          + stack memory) of a 100- and a 1000-thread target, as the
 *          module reports it and as the target's ticking threads see it,
 *          beside that of eu-stack -p and gdb -p ... 'thread apply all bt'.
 *          `pss stack` makes this capture (+ stack memory) and the VMAs.
 *   dump   the stall of `pss dump --memory all` (the pss tool, /bin/pss)
 *          against gdb's gcore, on a target with 64 and 512 MiB touched,
 *          and the size of the core each writes (not in --smoke).
 *
 * Every syscall this program issues while taking a snapshot goes through a
 * counting wrapper (sc_*), so the syscall counts are counted, not estimated.
 * Each figure is the median of repeated runs, with min and max; the methods
 * of a cell are interleaved in every repetition so drift hits them alike.
 *
 * Output: a human-readable table, and one "#BENCH key=value..." line per
 * figure for scripts/bench.sh (bench/report.py) to turn into results.md.
 *
 *   pss_bench [--smoke] [--parts full,vma,stall,tstall,dump,threads]
 *             [--budget SECONDS]
 *             (a part may also name one cell: full:headline, vma:100000,
 *             stall:10000, tstall:1000, dump:512)
 *             [--stall-secs S] [--tstall-reps N] [--tool-reps N]
 *             [--dump-reps N] [--target PATH] [--pss PATH] [--tmp DIR]
 *             [--only METHOD [--profile-reps N]]   (only pss, procfs,
 *             procmap or maps, and N more untimed runs of it: for a profile,
 *             PSS_PERF=1 scripts/guest-run.sh 612 bench ...; in tstall and
 *             dump, the methods whose name begins with METHOD)
 *
 * --smoke: tiny sizes, few repetitions; exits non-zero on any error (any
 * failing capture, walk framing error, or count mismatch with procfs).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/pss.h>

#include "bench.h"

/* ------------------------------------------------------------ PROCMAP_QUERY */
/* From linux-6.12 include/uapi/linux/fs.h; the build host's headers may lack it. */
struct bench_procmap_query {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};
#define BENCH_PROCMAP_QUERY	_IOWR('f', 17, struct bench_procmap_query)
#define PMQ_VMA_READABLE	0x01
#define PMQ_VMA_WRITABLE	0x02
#define PMQ_VMA_EXECUTABLE	0x04
#define PMQ_VMA_SHARED		0x08
#define PMQ_COVERING_OR_NEXT	0x10

/* ------------------------------------------------------------ counted syscalls */
static unsigned long nsys;

static int sc_openat(int dfd, const char *p, int fl)
{
	nsys++;
	return openat(dfd, p, fl | O_CLOEXEC);
}

static ssize_t sc_read(int fd, void *b, size_t n)
{
	nsys++;
	return read(fd, b, n);
}

static int sc_close(int fd)
{
	nsys++;
	return close(fd);
}

static int sc_ioctl(int fd, unsigned long req, void *arg)
{
	nsys++;
	return ioctl(fd, req, arg);
}

static ssize_t sc_readlinkat(int dfd, const char *p, char *b, size_t n)
{
	nsys++;
	return readlinkat(dfd, p, b, n);
}

static long sc_getdents(int fd, void *b, size_t n)
{
	nsys++;
	return syscall(SYS_getdents64, fd, b, n);
}

/* ------------------------------------------------------------ misc */
static bool smoke, no_pss;
static const char *only_method;	/* --only */
static int profile_reps;		/* --profile-reps: untimed extra runs, with --only */

/*
 * --only in the parts that run their methods themselves (tstall, dump):
 * methods whose name does not begin with it are left out, so "pss" keeps
 * every pss method of a part, "pss+stacks" one.
 */
static bool only_skips(const char *name)
{
	return only_method && strncmp(name, only_method, strlen(only_method));
}
static int errors;
static const char *tmpdir = "/tmp";

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "pss_bench: error: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	errors++;
}

static void fatal(const char *what)
{
	fprintf(stderr, "pss_bench: fatal: %s: %s\n", what, strerror(errno));
	exit(1);
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		fatal("malloc");
	return p;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct stat3 { uint64_t med, min, max; int n; };

static struct stat3 stat3(uint64_t *v, int n)
{
	struct stat3 s = { 0, 0, 0, n };

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), cmp_u64);
	s.min = v[0];
	s.max = v[n - 1];
	s.med = n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

/* ------------------------------------------------------------ parsed structs */
/* What a tool keeps; filled identically from pss records and from procfs. */
struct b_proc {
	int pid, ppid, pgid, sid, nr_threads;
	char state, comm[16];
	unsigned int uid[4], gid[4];
	uint64_t utime, stime, minflt, majflt, start, vsize, rss, hwm, locked;
	long prio, nice;
	const char *exe;
};

struct b_thread {
	int tid, cpu;
	char state, comm[16];
	long prio, nice;
	unsigned int policy, rtprio;
	uint64_t utime, stime, minflt, majflt, start;
};

struct b_fd {
	int fd;
	unsigned int flags;
	uint64_t pos, ino;
	const char *path;
};

struct b_vma {
	uint64_t start, end, pgoff, ino;
	unsigned int prot, shared, maj, min;
	const char *name;
};

/* Output arrays and a string arena, reused across runs (a tool would too). */
static struct b_proc out_proc;
static struct b_thread *out_thr;
static struct b_fd *out_fd;
static struct b_vma *out_vma;
static size_t cap_thr, cap_fd, cap_vma;
static size_t n_thr, n_fd, n_vma;
static size_t n_gate;	/* [vsyscall]: in maps, not in the mm's VMA tree */
static char *arena;
static size_t arena_cap, arena_len;

static void reset_out(void)
{
	n_thr = n_fd = n_vma = n_gate = 0;
	arena_len = 0;
}

static const char *intern(const char *s, size_t len)
{
	char *p;

	if (arena_len + len + 1 > arena_cap) {
		/* grow by chunks; old strings stay valid in the old chunk (leaked
		 * until the next reset: callers size the arena once, warm-up) */
		size_t cap = arena_cap ? arena_cap * 2 : 1 << 20;

		while (cap < len + 1)
			cap *= 2;
		arena = xmalloc(cap);
		arena_cap = cap;
		arena_len = 0;
	}
	p = arena + arena_len;
	memcpy(p, s, len);
	p[len] = 0;
	arena_len += len + 1;
	return p;
}

#define GROW(arr, n, cap) do {						\
	if ((n) >= (cap)) {						\
		(cap) = (cap) ? (cap) * 2 : 1024;			\
		(arr) = realloc((arr), (cap) * sizeof(*(arr)));		\
		if (!(arr))						\
			fatal("realloc");				\
	}								\
} while (0)

/* ------------------------------------------------------------ pss, raw ioctls */
static int pss_dev = -1;
static char *wbuf;
static size_t wbuf_len = 64u << 20;

struct pss_cap_result {
	struct pss_snapshot_info snap;
	struct pss_perf_info perf;
	bool have_perf;
};

static int pss_capture(pid_t pid, uint64_t facets)
{
	struct pss_capture_args a = {
		.size = sizeof(a),
		.facets = facets,
		.target_pid = pid,
	};

	return sc_ioctl(pss_dev, PSS_IOC_CAPTURE, &a);
}

static int pss_query(int snap, uint32_t cls, void *out, uint32_t len)
{
	struct pss_query_args q = {
		.size = sizeof(q),
		.query_class = cls,
		.out_size = len,
		.out = (uintptr_t)out,
	};

	return sc_ioctl(snap, PSS_IOC_QUERY, &q);
}

static void rec_thread(const struct pss_thread_entry *e)
{
	struct b_thread *t;

	GROW(out_thr, n_thr, cap_thr);
	t = &out_thr[n_thr++];
	t->tid = e->tid;
	t->cpu = e->cpu;
	t->state = e->state;
	memcpy(t->comm, e->comm, 16);
	t->prio = e->prio;
	t->nice = e->nice;
	t->policy = e->policy;
	t->rtprio = e->rt_priority;
	t->utime = e->utime_ns;
	t->stime = e->stime_ns;
	t->minflt = e->min_flt;
	t->majflt = e->maj_flt;
	t->start = e->start_boottime_ns;
}

static void rec_handle(const struct pss_handle_entry *e)
{
	struct b_fd *f;

	GROW(out_fd, n_fd, cap_fd);
	f = &out_fd[n_fd++];
	f->fd = e->fd;
	f->flags = e->open_flags;
	f->pos = e->pos;
	f->ino = e->ino;
	f->path = e->name_off ? intern((const char *)e + e->name_off, e->name_len) : NULL;
}

static void rec_vma(const struct pss_vma_entry *e)
{
	struct b_vma *v;

	GROW(out_vma, n_vma, cap_vma);
	v = &out_vma[n_vma++];
	v->start = e->start;
	v->end = e->end;
	v->pgoff = e->pgoff_bytes;
	v->ino = e->ino;
	v->prot = e->prot;
	v->shared = !!(e->flags & PSS_VMA_MAYSHARE);	/* maps' 's' */
	v->maj = e->dev_major;
	v->min = e->dev_minor;
	v->name = e->name_off ? intern((const char *)e + e->name_off, e->name_len) : NULL;
}

/* Time spent inside PSS_IOC_WALK, PSS_IOC_CAPTURE and close(), since reset. */
static uint64_t walk_ioctl_ns, capture_ioctl_ns, close_ns;

/* Walk one class to the end, converting each record. 0 or -errno. */
static int pss_walk_all(int snap, uint32_t cls)
{
	struct pss_walk_args w = { .size = sizeof(w), .walk_class = cls };

	for (;;) {
		size_t off = 0;

		uint64_t t0 = now_ns();
		int r;

		w.buf = (uintptr_t)wbuf;
		w.buf_len = wbuf_len;
		r = sc_ioctl(snap, PSS_IOC_WALK, &w);
		walk_ioctl_ns += now_ns() - t0;
		if (r)
			return -errno;
		for (uint32_t i = 0; i < w.count; i++) {
			const void *r = wbuf + off;
			uint32_t len = *(const uint32_t *)r;

			if (len < 8 || len % PSS_REC_ALIGN || off + len > w.bytes_written) {
				fail("walk class %u: bad rec_len %u at offset %zu", cls, len, off);
				return -EPROTO;
			}
			if (cls == PSS_WALK_THREADS)
				rec_thread(r);
			else if (cls == PSS_WALK_HANDLES)
				rec_handle(r);
			else
				rec_vma(r);
			off += len;
		}
		if (w.out_flags & PSS_WALK_END)
			return 0;
		if (!w.count) {
			fail("walk class %u: no progress and no end (pos %llu)", cls,
			     (unsigned long long)w.pos);
			return -EPROTO;
		}
	}
}

static void proc_from_pss(const struct pss_process_info *p)
{
	out_proc.pid = p->pid;
	out_proc.ppid = p->ppid;
	out_proc.pgid = p->pgid;
	out_proc.sid = p->sid;
	out_proc.nr_threads = p->nr_threads;
	out_proc.state = p->state;
	memcpy(out_proc.comm, p->comm, 16);
	out_proc.uid[0] = p->ruid; out_proc.uid[1] = p->euid;
	out_proc.uid[2] = p->suid; out_proc.uid[3] = p->fsuid;
	out_proc.gid[0] = p->rgid; out_proc.gid[1] = p->egid;
	out_proc.gid[2] = p->sgid; out_proc.gid[3] = p->fsgid;
	out_proc.utime = p->utime_ns;
	out_proc.stime = p->stime_ns;
	out_proc.minflt = p->min_flt;
	out_proc.majflt = p->maj_flt;
	out_proc.start = p->start_boottime_ns;
	out_proc.vsize = p->vsize_bytes;
	out_proc.rss = p->rss_anon_bytes + p->rss_file_bytes + p->rss_shmem_bytes;
	out_proc.hwm = p->hiwater_rss_bytes;
	out_proc.locked = p->locked_bytes;
	out_proc.prio = p->prio;
	out_proc.nice = p->nice;
	out_proc.exe = intern(p->exe_path, p->exe_path_len);
}

static struct pss_process_info pinfo;

#define FACETS_FULL	(PSS_FACET_THREADS | PSS_FACET_HANDLES | PSS_FACET_HANDLE_NAME | \
			 PSS_FACET_HANDLE_BASIC | PSS_FACET_HANDLE_TYPE_SPECIFIC | \
			 PSS_FACET_VA_SPACE | PSS_FACET_VA_SPACE_SECTION)
#define FACETS_VMA	(PSS_FACET_VA_SPACE | PSS_FACET_VA_SPACE_SECTION)

/*
 * One full snapshot: capture, query the process, walk every class, close.
 * With res, also query SNAPSHOT and PERFORMANCE (not in the timed path).
 */
static int pss_full(pid_t pid, uint64_t facets, struct pss_cap_result *res)
{
	int snap, err = 0;

	uint64_t t0;

	reset_out();
	t0 = now_ns();
	snap = pss_capture(pid, facets);
	capture_ioctl_ns += now_ns() - t0;
	if (snap < 0)
		return -errno;
	/*
	 * VMA-only asks for nothing else, like the PROCMAP_QUERY loop, and
	 * threads-only for nothing else, like the reader of task/N/stat
	 */
	if ((facets & ~PSS_FACET_MEASURE_PERFORMANCE) != FACETS_VMA &&
	    (facets & ~PSS_FACET_MEASURE_PERFORMANCE) != PSS_FACET_THREADS) {
		if (pss_query(snap, PSS_QUERY_PROCESS, &pinfo, sizeof(pinfo))) {
			err = -errno;
			goto out;
		}
		proc_from_pss(&pinfo);
	}
	if (facets & PSS_FACET_THREADS && (err = pss_walk_all(snap, PSS_WALK_THREADS)))
		goto out;
	if (facets & PSS_FACET_HANDLES && (err = pss_walk_all(snap, PSS_WALK_HANDLES)))
		goto out;
	if (facets & PSS_FACET_VA_SPACE && (err = pss_walk_all(snap, PSS_WALK_VA_SPACE)))
		goto out;
	if (res) {
		if (pss_query(snap, PSS_QUERY_SNAPSHOT, &res->snap, sizeof(res->snap))) {
			err = -errno;
			goto out;
		}
		res->have_perf = !pss_query(snap, PSS_QUERY_PERFORMANCE, &res->perf,
					    sizeof(res->perf));
	}
out:
	t0 = now_ns();
	sc_close(snap);
	close_ns += now_ns() - t0;
	return err;
}


/* ------------------------------------------------------------ procfs */
static char *rbuf;
static size_t rbuf_len = 64 * 1024;	/* per read(): a generous stdio-like buffer */

/*
 * Read a small procfs file whole. Like procps, a short read ends it (these
 * files are produced in one go); a full buffer means read on. Returns length.
 */
static ssize_t read_small(int dfd, const char *name, char *buf, size_t len)
{
	int fd = sc_openat(dfd, name, O_RDONLY);
	ssize_t r, n = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		r = sc_read(fd, buf + n, len - 1 - n);
		if (r <= 0)
			break;
		n += r;
		if ((size_t)n == len - 1 || (size_t)r < len - 1 - (n - r))
			break;	/* full (truncated), or short: the whole file */
	}
	sc_close(fd);
	if (r < 0)
		return -errno;
	buf[n] = 0;
	return n;
}

static const char *skip_field(const char *p)
{
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	return p;
}

/* /proc/PID/stat or task/TID/stat: f[3..52] are fields 3.. (1-based, proc(5)). */
static int parse_stat(const char *buf, char *comm, char *state, uint64_t *f, int nf)
{
	const char *l = strchr(buf, '('), *r = strrchr(buf, ')'), *p;
	size_t cl;

	if (!l || !r || r < l)
		return -1;
	cl = r - l - 1;
	if (cl > 15)
		cl = 15;
	memcpy(comm, l + 1, cl);
	comm[cl] = 0;
	p = r + 2;
	*state = *p;
	p = skip_field(p);
	for (int i = 4; i < nf && *p; i++) {
		char *e;

		f[i] = strtoll(p, &e, 10);
		p = e;
		while (*p == ' ')
			p++;
	}
	return 0;
}

static uint64_t status_num(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return strtoull(p, NULL, 10);
}

static void parse_status(const char *buf)
{
	for (const char *p = buf; p && *p; ) {
		const char *nl = strchr(p, '\n');

		if (!strncmp(p, "Uid:", 4) || !strncmp(p, "Gid:", 4)) {
			unsigned int *d = p[0] == 'U' ? out_proc.uid : out_proc.gid;
			char *e = (char *)p + 4;

			for (int i = 0; i < 4; i++)
				d[i] = strtoul(e, &e, 10);
		} else if (!strncmp(p, "VmHWM:", 6)) {
			out_proc.hwm = status_num(p + 6) * 1024;
		} else if (!strncmp(p, "VmLck:", 6)) {
			out_proc.locked = status_num(p + 6) * 1024;
		} else if (!strncmp(p, "VmRSS:", 6)) {
			out_proc.rss = status_num(p + 6) * 1024;
		} else if (!strncmp(p, "Threads:", 8)) {
			out_proc.nr_threads = status_num(p + 8);
		}
		p = nl ? nl + 1 : NULL;
	}
}

static uint64_t hex(const char **pp)
{
	const char *p = *pp;
	uint64_t v = 0;

	for (;; p++) {
		unsigned int c = (unsigned char)*p, d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			break;
		v = v << 4 | d;
	}
	*pp = p;
	return v;
}

/* One maps line (without its '\n'). */
static void parse_maps_line(const char *p, const char *end)
{
	struct b_vma *v;

	GROW(out_vma, n_vma, cap_vma);
	v = &out_vma[n_vma++];
	v->start = hex(&p); p++;
	v->end = hex(&p); p++;
	v->prot = (p[0] == 'r') | (p[1] == 'w') << 1 | (p[2] == 'x') << 2;
	v->shared = p[3] == 's';
	p += 5;
	v->pgoff = hex(&p); p++;
	v->maj = hex(&p); p++;
	v->min = hex(&p); p++;
	v->ino = 0;
	while (*p >= '0' && *p <= '9')
		v->ino = v->ino * 10 + (*p++ - '0');
	while (p < end && *p == ' ')
		p++;
	v->name = p < end ? intern(p, end - p) : NULL;
	if (v->name && !strcmp(v->name, "[vsyscall]"))
		n_gate++;
}

/* Read and parse /proc/PID/maps through dfd (the /proc/PID directory). */
static int procfs_maps(int dfd)
{
	int fd = sc_openat(dfd, "maps", O_RDONLY);
	size_t have = 0;
	ssize_t r;

	if (fd < 0)
		return -errno;
	/* Parse complete lines as they arrive; carry the partial one over. */
	while ((r = sc_read(fd, rbuf + have, rbuf_len - have)) > 0) {
		char *p = rbuf, *end = rbuf + have + r, *nl;

		while ((nl = memchr(p, '\n', end - p))) {
			parse_maps_line(p, nl);
			p = nl + 1;
		}
		have = end - p;
		memmove(rbuf, p, have);
	}
	sc_close(fd);
	return r < 0 ? -errno : 0;
}

static char *dents;
static size_t dents_len = 64 * 1024;

/* Enumerate the numeric entries of an open directory; cb(name) for each. */
static int for_each_num(int dirfd, int (*cb)(int dfd, const char *name, void *arg), int cbdfd,
			void *arg)
{
	long n;

	while ((n = sc_getdents(dirfd, dents, dents_len)) > 0) {
		for (long off = 0; off < n; ) {
			struct { uint64_t ino; int64_t off; unsigned short reclen;
				 unsigned char type; char name[]; } *d = (void *)(dents + off);
			int err;

			off += d->reclen;
			if (!isdigit((unsigned char)d->name[0]))
				continue;
			err = cb(cbdfd, d->name, arg);
			if (err)
				return err;
		}
	}
	return n < 0 ? -errno : 0;
}

static char small[8192];

static int fd_cb(int dfd, const char *name, void *arg)
{
	char path[64], link[PATH_MAX];
	struct b_fd *f;
	ssize_t n;
	int fddir = *(int *)arg;

	GROW(out_fd, n_fd, cap_fd);
	f = &out_fd[n_fd];
	f->fd = atoi(name);
	n = sc_readlinkat(fddir, name, link, sizeof(link));
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;	/* closed meanwhile */
	f->path = intern(link, n);
	snprintf(path, sizeof(path), "fdinfo/%s", name);
	n = read_small(dfd, path, small, sizeof(small));
	if (n < 0)
		return n == -ENOENT ? 0 : (int)n;
	f->pos = f->flags = 0;
	f->ino = 0;
	for (const char *p = small; p && *p; ) {
		if (!strncmp(p, "pos:", 4))
			f->pos = status_num(p + 4);
		else if (!strncmp(p, "flags:", 6))
			f->flags = strtoul(p + 6, NULL, 8);
		else if (!strncmp(p, "ino:", 4))
			f->ino = status_num(p + 4);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	n_fd++;
	return 0;
}

/* What a runtime-metrics agent reads per thread: task/TID/stat, no more. */
static int task_stat_cb(int dfd, const char *name, void *arg)
{
	char path[64];
	uint64_t f[48] = { 0 };
	struct b_thread *t;
	ssize_t n;

	(void)arg;
	GROW(out_thr, n_thr, cap_thr);
	t = &out_thr[n_thr];
	t->tid = atoi(name);
	snprintf(path, sizeof(path), "task/%s/stat", name);
	n = read_small(dfd, path, small, sizeof(small));
	if (n < 0)
		return n == -ENOENT ? 0 : (int)n;
	if (parse_stat(small, t->comm, &t->state, f, 42))
		return -EPROTO;
	t->minflt = f[10]; t->majflt = f[12];
	t->utime = f[14]; t->stime = f[15];
	t->prio = f[18]; t->nice = f[19];
	t->start = f[22]; t->cpu = f[39];
	t->rtprio = f[40]; t->policy = f[41];
	n_thr++;
	return 0;
}

/* The careful reader: stat, then comm again, untruncated by ')' games. */
static int task_cb(int dfd, const char *name, void *arg)
{
	char path[64];
	struct b_thread *t;
	size_t before = n_thr;
	ssize_t n;
	int err = task_stat_cb(dfd, name, arg);

	if (err || n_thr == before)
		return err;	/* gone meanwhile: not counted */
	t = &out_thr[n_thr - 1];
	snprintf(path, sizeof(path), "task/%s/comm", name);
	n = read_small(dfd, path, small, sizeof(small));
	if (n < 0) {
		n_thr--;
		return n == -ENOENT ? 0 : (int)n;
	}
	if (n && small[n - 1] == '\n')
		small[--n] = 0;
	memcpy(t->comm, small, n > 15 ? 15 : n);
	t->comm[n > 15 ? 15 : n] = 0;
	return 0;
}

/* The caller's own threads through /proc/self/task/{*}/stat. */
static int procfs_self_threads(void)
{
	int dfd, sub, err;

	reset_out();
	dfd = sc_openat(AT_FDCWD, "/proc/self", O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return -errno;
	sub = sc_openat(dfd, "task", O_RDONLY | O_DIRECTORY);
	if (sub < 0) {
		err = -errno;
		sc_close(dfd);
		return err;
	}
	err = for_each_num(sub, task_stat_cb, dfd, NULL);
	sc_close(sub);
	sc_close(dfd);
	return err;
}

/* The careful procfs equivalent of a full pss snapshot. */
static int procfs_full(pid_t pid)
{
	char path[64], link[PATH_MAX];
	uint64_t f[48] = { 0 };
	int dfd, sub, err = 0;
	ssize_t n;

	reset_out();
	snprintf(path, sizeof(path), "/proc/%d", pid);
	dfd = sc_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return -errno;
	n = read_small(dfd, "stat", small, sizeof(small));
	if (n < 0 || parse_stat(small, out_proc.comm, &out_proc.state, f, 42)) {
		err = n < 0 ? (int)n : -EPROTO;
		goto out;
	}
	out_proc.pid = pid;
	out_proc.ppid = f[4]; out_proc.pgid = f[5]; out_proc.sid = f[6];
	out_proc.minflt = f[10]; out_proc.majflt = f[12];
	out_proc.utime = f[14]; out_proc.stime = f[15];
	out_proc.prio = f[18]; out_proc.nice = f[19];
	out_proc.start = f[22]; out_proc.vsize = f[23];
	n = read_small(dfd, "status", small, sizeof(small));
	if (n < 0) {
		err = n;
		goto out;
	}
	parse_status(small);
	n = sc_readlinkat(dfd, "exe", link, sizeof(link));
	out_proc.exe = n > 0 ? intern(link, n) : NULL;
	if ((err = procfs_maps(dfd)))
		goto out;

	sub = sc_openat(dfd, "fd", O_RDONLY | O_DIRECTORY);
	if (sub < 0) {
		err = -errno;
		goto out;
	}
	err = for_each_num(sub, fd_cb, dfd, &sub);
	sc_close(sub);
	if (err)
		goto out;

	sub = sc_openat(dfd, "task", O_RDONLY | O_DIRECTORY);
	if (sub < 0) {
		err = -errno;
		goto out;
	}
	err = for_each_num(sub, task_cb, dfd, NULL);
	sc_close(sub);
out:
	sc_close(dfd);
	return err;
}

/* VMA only, by parsing /proc/PID/maps. */
static int procfs_vma(pid_t pid)
{
	char path[64];
	int dfd, err;

	reset_out();
	snprintf(path, sizeof(path), "/proc/%d", pid);
	dfd = sc_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return -errno;
	err = procfs_maps(dfd);
	sc_close(dfd);
	return err;
}

/* VMA only, by a PROCMAP_QUERY loop with names. -ENOTTY: not this kernel. */
static int procmap_vma(pid_t pid)
{
	static char name[PATH_MAX];
	char path[64];
	struct bench_procmap_query q;
	uint64_t addr = 0;
	int fd, err = 0;

	reset_out();
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = sc_openat(AT_FDCWD, path, O_RDONLY);
	if (fd < 0)
		return -errno;
	for (;;) {
		struct b_vma *v;

		memset(&q, 0, sizeof(q));
		q.size = sizeof(q);
		q.query_flags = PMQ_COVERING_OR_NEXT;
		q.query_addr = addr;
		q.vma_name_addr = (uintptr_t)name;
		q.vma_name_size = sizeof(name);
		if (sc_ioctl(fd, BENCH_PROCMAP_QUERY, &q)) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
		GROW(out_vma, n_vma, cap_vma);
		v = &out_vma[n_vma++];
		v->start = q.vma_start;
		v->end = q.vma_end;
		v->pgoff = q.vma_offset;
		v->ino = q.inode;
		v->maj = q.dev_major;
		v->min = q.dev_minor;
		v->prot = (q.vma_flags & PMQ_VMA_READABLE ? 1 : 0) |
			  (q.vma_flags & PMQ_VMA_WRITABLE ? 2 : 0) |
			  (q.vma_flags & PMQ_VMA_EXECUTABLE ? 4 : 0);
		v->shared = !!(q.vma_flags & PMQ_VMA_SHARED);
		v->name = q.vma_name_size ? intern(name, q.vma_name_size - 1) : NULL;
		addr = q.vma_end;
	}
	sc_close(fd);
	return err;
}

/* ------------------------------------------------------------ the target */
struct target {
	pid_t pid;
	int T, F, V;
	bool churn;
	int stats_fd;
	struct churn_stats *stats;
	int tick_fd;		/* -k: the tick area (thread-state stall) */
	struct tick_area *ticks;
	size_t ticks_len;
};

/* Set by cell_tstall() for the next start_target(): tick mode. */
static int tick_period_us, tick_spinners;
/* Set by cell_dump() for the next start_target(): MiB of touched memory. */
static int target_mib;

static char target_path[PATH_MAX];

static void raise_limits(int F, int V)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < (rlim_t)F + 512) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)F + 512;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			fail("setrlimit(RLIMIT_NOFILE, %d): %s (need root)", F + 512,
			     strerror(errno));
	} else if (rl.rlim_cur < (rlim_t)F + 512) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (V > 60000) {
		FILE *f = fopen("/proc/sys/vm/max_map_count", "r+");
		long cur = 0;

		if (f && fscanf(f, "%ld", &cur) == 1 && cur < V + 20000) {
			rewind(f);
			fprintf(f, "%d\n", V + 20000);
		}
		if (!f || fclose(f))
			fail("raising vm.max_map_count to %d: %s", V + 20000, strerror(errno));
	}
}

static int start_target(struct target *t, int T, int F, int V, bool churn)
{
	char a_t[16], a_f[16], a_v[16], a_s[16], a_r[16], a_k[16], a_p[16], a_n[16], a_m[16];
	int rp[2];
	char c;
	pid_t pid;

	memset(t, 0, sizeof(*t));
	t->T = T; t->F = F; t->V = V; t->churn = churn; t->stats_fd = -1; t->tick_fd = -1;
	raise_limits(F, V);
	if (tick_period_us) {
		t->ticks_len = sizeof(struct tick_area) + T * sizeof(struct tick_slot);
		t->tick_fd = memfd_create("pss-bench-ticks", 0);
		if (t->tick_fd < 0 || ftruncate(t->tick_fd, t->ticks_len))
			fatal("memfd");
		t->ticks = mmap(NULL, t->ticks_len, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_POPULATE, t->tick_fd, 0);
		if (t->ticks == MAP_FAILED)
			fatal("mmap ticks");
	}
	if (churn) {
		t->stats_fd = memfd_create("pss-bench-stats", 0);
		if (t->stats_fd < 0 || ftruncate(t->stats_fd, sizeof(struct churn_stats)))
			fatal("memfd");
		t->stats = mmap(NULL, sizeof(struct churn_stats), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_POPULATE, t->stats_fd, 0);
		if (t->stats == MAP_FAILED)
			fatal("mmap stats");
	}
	if (pipe(rp))
		fatal("pipe");
	snprintf(a_t, sizeof(a_t), "%d", T);
	snprintf(a_f, sizeof(a_f), "%d", F);
	snprintf(a_v, sizeof(a_v), "%d", V);
	snprintf(a_s, sizeof(a_s), "%d", t->stats_fd);
	snprintf(a_r, sizeof(a_r), "%d", rp[1]);
	snprintf(a_k, sizeof(a_k), "%d", t->tick_fd);
	snprintf(a_p, sizeof(a_p), "%d", tick_period_us);
	snprintf(a_n, sizeof(a_n), "%d", tick_spinners);
	snprintf(a_m, sizeof(a_m), "%d", target_mib);
	pid = fork();
	if (pid < 0)
		fatal("fork");
	if (!pid) {
		char *argv[24] = { target_path, "-t", a_t, "-f", a_f, "-v", a_v,
				   "-r", a_r, "-d", (char *)tmpdir };
		int i = 11;

		close(rp[0]);
		if (pss_dev >= 0)
			close(pss_dev);
		if (churn) {
			argv[i++] = "-c";
			argv[i++] = "-s";
			argv[i++] = a_s;
		}
		if (t->tick_fd >= 0) {
			argv[i++] = "-k";
			argv[i++] = a_k;
			argv[i++] = "-p";
			argv[i++] = a_p;
			argv[i++] = "-n";
			argv[i++] = a_n;
		}
		if (target_mib) {
			argv[i++] = "-m";
			argv[i++] = a_m;
		}
		argv[i] = NULL;
		execv(target_path, argv);
		_exit(127);
	}
	close(rp[1]);
	if (read(rp[0], &c, 1) != 1) {
		int st;

		close(rp[0]);
		waitpid(pid, &st, 0);
		fail("target T=%d F=%d V=%d did not start (status %#x)", T, F, V, st);
		return -1;
	}
	close(rp[0]);
	t->pid = pid;
	return 0;
}

static void stop_target(struct target *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
	}
	if (t->stats && t->stats != MAP_FAILED)
		munmap(t->stats, sizeof(struct churn_stats));
	if (t->stats_fd >= 0)
		close(t->stats_fd);
	if (t->ticks && t->ticks != MAP_FAILED)
		munmap(t->ticks, t->ticks_len);
	if (t->tick_fd >= 0)
		close(t->tick_fd);
	t->pid = 0;
}

/* ------------------------------------------------------------ cells */
#define MAXREPS		64
#define MAXMETH		3

struct method {
	const char *name;
	int (*run)(pid_t pid);
	bool skip;		/* unsupported here (ENOTTY) */
	uint64_t t[MAXREPS];
	int n;
	unsigned long syscalls;
	size_t nthr, nfd, nvma, ngate;
};

static int m_pss_full(pid_t pid) { return pss_full(pid, FACETS_FULL, NULL); }
static int m_procfs_full(pid_t pid) { return procfs_full(pid); }
static int m_pss_vma(pid_t pid) { return pss_full(pid, FACETS_VMA, NULL); }
static int m_procmap_vma(pid_t pid) { return procmap_vma(pid); }
static int m_maps_vma(pid_t pid) { return procfs_vma(pid); }
static int m_pss_self_threads(pid_t pid) { (void)pid; return pss_full(0, PSS_FACET_THREADS, NULL); }
static int m_procfs_self_threads(pid_t pid) { (void)pid; return procfs_self_threads(); }

static double budget_s = 6;
static int min_reps = 7, max_reps = 31;

static int run_method_once(struct method *m, pid_t pid, uint64_t *ns)
{
	unsigned long s0 = nsys;
	uint64_t t0 = now_ns();
	int err = m->run(pid);

	*ns = now_ns() - t0;
	m->syscalls = nsys - s0;
	m->nthr = n_thr;
	m->nfd = n_fd;
	m->nvma = n_vma;
	m->ngate = n_gate;
	return err;
}

/* Warm up, pick a repetition count within the budget, run interleaved. */
static void run_cell(struct method *ms, int nm, pid_t pid)
{
	uint64_t per_rep = 0, ns = 0;
	int reps;

	for (int i = 0; i < nm; i++) {
		int err;

		/* --only: the other methods of the cell are left out */
		if (only_skips(ms[i].name)) {
			ms[i].skip = true;
			continue;
		}
		err = no_pss && (ms[i].run == m_pss_full || ms[i].run == m_pss_vma) ? 0 :
			  run_method_once(&ms[i], pid, &ns);

		ms[i].n = 0;
		if (no_pss && (ms[i].run == m_pss_full || ms[i].run == m_pss_vma)) {
			ms[i].skip = true;
			continue;
		}
		if (err == -ENOTTY && ms[i].run == m_procmap_vma) {
			ms[i].skip = true;
			continue;
		}
		if (err) {
			fail("%s on pid %d: %s", ms[i].name, pid, strerror(-err));
			ms[i].skip = true;
			continue;
		}
		per_rep += ns;
	}
	reps = smoke ? 3 : (int)(budget_s * 1e9 / (per_rep ? per_rep : 1));
	if (!smoke) {
		if (reps < min_reps)
			reps = min_reps;
		if (reps > max_reps)
			reps = max_reps;
	}
	for (int r = 0; r < reps; r++) {
		for (int i = 0; i < nm; i++) {
			/* alternate the order so neither method always goes first */
			struct method *m = &ms[r & 1 ? nm - 1 - i : i];
			int err;

			if (m->skip)
				continue;
			err = run_method_once(m, pid, &ns);
			if (err) {
				fail("%s on pid %d: %s", m->name, pid, strerror(-err));
				m->skip = true;
				continue;
			}
			m->t[m->n++] = ns;
		}
	}
	/* --only ... --profile-reps N: more samples for a profile, untimed */
	for (int r = 0; only_method && r < profile_reps; r++)
		for (int i = 0; i < nm; i++)
			if (!ms[i].skip)
				run_method_once(&ms[i], pid, &ns);
}

static void print_method(const char *kind, const struct target *t, const char *label,
			 struct method *m, size_t objs)
{
	struct stat3 s;

	if (m->skip || !m->n) {
		printf("#BENCH kind=%s label=%s T=%d F=%d V=%d method=%s status=n/a\n",
		       kind, label, t->T, t->F, t->V, m->name);
		return;
	}
	s = stat3(m->t, m->n);
	printf("#BENCH kind=%s label=%s T=%d F=%d V=%d method=%s reps=%d med_ns=%llu min_ns=%llu "
	       "max_ns=%llu syscalls=%lu threads=%zu fds=%zu vmas=%zu objs=%zu\n",
	       kind, label, t->T, t->F, t->V, m->name, s.n, (unsigned long long)s.med,
	       (unsigned long long)s.min, (unsigned long long)s.max, m->syscalls,
	       m->nthr, m->nfd, m->nvma, objs);
	printf("  %-8s %-10s %12.1f us  (min %10.1f, max %10.1f, n=%2d)  %7lu syscalls  "
	       "%6zu thr %6zu fd %7zu vma  %8.1f ns/object\n",
	       kind, m->name, s.med / 1e3, s.min / 1e3, s.max / 1e3, s.n, m->syscalls,
	       m->nthr, m->nfd, m->nvma, objs ? (double)s.med / objs : 0.0);
}

/* Capture with MEASURE_PERFORMANCE a few times: phases, locks, memory. */
static void perf_cell(const char *kind, const char *label, const struct target *t,
		      uint64_t facets, int n)
{
	uint64_t ph[PSS_PHASE_NR][MAXREPS], lk[PSS_LOCK_NR][MAXREPS], wk[MAXREPS];
	uint64_t cp[MAXREPS], cl[MAXREPS];
	struct pss_cap_result res;
	uint64_t mem = 0, objs = 0, retries = 0;
	int got = 0;

	if (n > MAXREPS)
		n = MAXREPS;
	for (int i = 0; i < n; i++) {
		int err;

		memset(&res, 0, sizeof(res));
		walk_ioctl_ns = capture_ioctl_ns = close_ns = 0;
		err = pss_full(t->pid, facets | PSS_FACET_MEASURE_PERFORMANCE, &res);
		if (err) {
			fail("pss capture with MEASURE_PERFORMANCE: %s", strerror(-err));
			return;
		}
		mem = res.snap.memory_bytes;
		objs = res.snap.nr_threads + res.snap.nr_handles + res.snap.nr_vmas;
		retries += res.snap.retries;
		if (!res.have_perf)
			continue;
		for (int p = 0; p < PSS_PHASE_NR; p++)
			ph[p][got] = res.perf.phase_ns[p];
		for (int l = 0; l < PSS_LOCK_NR; l++)
			lk[l][got] = res.perf.lock_held_ns[l];
		wk[got] = walk_ioctl_ns;
		cp[got] = capture_ioctl_ns;
		cl[got] = close_ns;
		got++;
	}
	printf("#BENCH kind=perf of=%s label=%s T=%d F=%d V=%d mem_bytes=%llu objs=%llu retries=%llu "
	       "perf_n=%d", kind, label, t->T, t->F, t->V, (unsigned long long)mem,
	       (unsigned long long)objs, (unsigned long long)retries, got);
	if (got) {
		static const char *const pn[] = { "total", "alloc", "va", "handles", "threads",
						   "names", "build", "p7" };
		static const char *const ln[] = { "mmap", "files", "sighand", "l3" };

		for (int p = 0; p < 7; p++) {
			struct stat3 s = stat3(ph[p], got);

			printf(" ph_%s=%llu", pn[p], (unsigned long long)s.med);
		}
		for (int l = 0; l < 3; l++) {
			struct stat3 s = stat3(lk[l], got);

			printf(" lock_%s_med=%llu lock_%s_max=%llu", ln[l], (unsigned long long)s.med,
			       ln[l], (unsigned long long)s.max);
		}
		printf(" walk_ioctls=%llu capture_ioctl=%llu close=%llu",
		       (unsigned long long)stat3(wk, got).med,
		       (unsigned long long)stat3(cp, got).med,
		       (unsigned long long)stat3(cl, got).med);
	}
	printf("\n");
	printf("  %-8s memory %llu bytes for %llu objects = %.1f bytes/object\n", kind,
	       (unsigned long long)mem, (unsigned long long)objs, objs ? (double)mem / objs : 0.0);
}

static bool check_counts(const char *what, struct method *a, struct method *b)
{
	if (a->skip || b->skip || !a->n || !b->n)
		return true;
	/* b is procfs: its maps may show the [vsyscall] gate, not a VMA */
	if (a->nthr != b->nthr || a->nfd != b->nfd ||
	    (a->nvma != b->nvma && a->nvma + b->ngate != b->nvma)) {
		fail("%s: %s saw %zu threads %zu fds %zu vmas, %s saw %zu %zu %zu", what,
		     a->name, a->nthr, a->nfd, a->nvma, b->name, b->nthr, b->nfd, b->nvma);
		return false;
	}
	return true;
}

static void cell_full(const char *label, int T, int F, int V)
{
	struct method ms[2] = {
		{ .name = "pss", .run = m_pss_full },
		{ .name = "procfs", .run = m_procfs_full },
	};
	struct target t;

	if (start_target(&t, T, F, V, false))
		return;
	printf("== full snapshot %s: T=%d F=%d V=%d (pid %d)\n", label, T, F, V, t.pid);
	fflush(stdout);
	run_cell(ms, 2, t.pid);
	check_counts("full", &ms[0], &ms[1]);
	for (int i = 0; i < 2; i++)
		print_method("full", &t, label, &ms[i], ms[i].nthr + ms[i].nfd + ms[i].nvma);
	if (!ms[0].skip)
		perf_cell("full", label, &t, FACETS_FULL, smoke ? 2 : 7);
	fflush(stdout);
	stop_target(&t);
}

static void *self_idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/*
 * The runtime-metrics case: a process reading its own threads (as .NET and
 * APM agents do with PSS on Windows), T threads in all.
 */
static void cell_self_threads(int T)
{
	struct method ms[2] = {
		{ .name = "pss", .run = m_pss_self_threads },
		{ .name = "procfs", .run = m_procfs_self_threads },
	};
	static pthread_t th[1024];
	struct target t = { .pid = getpid(), .T = T };
	char label[32];
	int i;

	snprintf(label, sizeof(label), "self%d", T);
	for (i = 0; i < T - 1 && i < 1024; i++)
		if (pthread_create(&th[i], NULL, self_idle, NULL)) {
			fail("pthread_create: %s", strerror(errno));
			break;
		}
	printf("== threads of the caller itself: T=%d (pid %d)\n", T, t.pid);
	fflush(stdout);
	run_cell(ms, 2, 0);
	if (ms[0].nthr != ms[1].nthr && !ms[0].skip)
		fail("self threads: pss saw %zu, procfs %zu", ms[0].nthr, ms[1].nthr);
	for (i = 0; i < 2; i++)
		print_method("threads", &t, label, &ms[i], ms[i].nthr);
	if (!ms[0].skip)
		perf_cell("threads", label, &t, PSS_FACET_THREADS, 15);
	fflush(stdout);
	/* the threads stay parked in pause() until the benchmark exits */
}

static void cell_vma(int V)
{
	struct method ms[3] = {
		{ .name = "pss", .run = m_pss_vma },
		{ .name = "procmap", .run = m_procmap_vma },
		{ .name = "maps", .run = m_maps_vma },
	};
	struct target t;
	char label[32];

	snprintf(label, sizeof(label), "V%d", V);
	if (start_target(&t, 1, 10, V, false))
		return;
	printf("== VMA only: V=%d (pid %d)\n", V, t.pid);
	fflush(stdout);
	run_cell(ms, 3, t.pid);
	check_counts("vma pss/maps", &ms[0], &ms[2]);
	check_counts("vma procmap/maps", &ms[1], &ms[2]);
	for (int i = 0; i < 3; i++)
		print_method("vma", &t, label, &ms[i], ms[i].nvma);
	if (!ms[0].skip)
		perf_cell("vma", label, &t, FACETS_VMA, smoke ? 2 : 7);
	fflush(stdout);
	stop_target(&t);
}

/* ------------------------------------------------------------ stall */
static void churn_reset(struct churn_stats *s)
{
	uint32_t g = __atomic_add_fetch(&s->cmd_gen, 1, __ATOMIC_RELEASE);
	uint64_t t0 = now_ns();

	while (__atomic_load_n(&s->ack_gen, __ATOMIC_ACQUIRE) != g) {
		if (now_ns() - t0 > 10ull * 1000000000) {
			fail("churn thread does not answer");
			return;
		}
		usleep(1000);
	}
}

static uint32_t *sample_copy;

static void stall_phase(struct target *t, const char *reader, double secs)
{
	struct churn_stats *s = t->stats;
	uint64_t end, reads = 0, lock_max = 0, nsamp, sum, maxns, t0;
	uint64_t lock_all[4096];
	int nlock = 0;
	bool unsupported = false;

	churn_reset(s);
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	while (now_ns() < end) {
		int err = 0;

		if (!strcmp(reader, "none")) {
			usleep(10000);
			continue;
		} else if (!strcmp(reader, "pss")) {
			struct pss_cap_result res;

			memset(&res, 0, sizeof(res));
			err = pss_full(t->pid, FACETS_FULL | PSS_FACET_MEASURE_PERFORMANCE, &res);
			if (!err && res.have_perf) {
				uint64_t l = res.perf.lock_held_ns[PSS_LOCK_MMAP];

				if (l > lock_max)
					lock_max = l;
				if (nlock < 4096)
					lock_all[nlock++] = l;
			}
		} else if (!strcmp(reader, "maps")) {
			err = procfs_vma(t->pid);
		} else {
			err = procmap_vma(t->pid);
			if (err == -ENOTTY) {
				unsupported = true;
				break;
			}
		}
		if (err) {
			fail("stall reader %s: %s", reader, strerror(-err));
			break;
		}
		reads++;
	}
	/* Copy out the samples as they stand. */
	nsamp = __atomic_load_n(&s->nr_samples, __ATOMIC_ACQUIRE);
	maxns = s->max_ns;
	sum = s->sum_ns;
	if (unsupported) {
		printf("#BENCH kind=stall V=%d T=%d F=%d reader=%s status=n/a\n", t->V, t->T, t->F,
		       reader);
		return;
	}
	{
		uint64_t n = nsamp < CHURN_MAX_SAMPLES ? nsamp : CHURN_MAX_SAMPLES;
		uint64_t p50 = 0, p99 = 0, p999 = 0;
		struct stat3 ls = stat3(lock_all, nlock);

		memcpy(sample_copy, s->samples, n * sizeof(uint32_t));
		qsort(sample_copy, n, sizeof(uint32_t), cmp_u32);
		if (n) {
			p50 = sample_copy[n / 2];
			p99 = sample_copy[(n * 99) / 100];
			p999 = sample_copy[(n * 999) / 1000];
		}
		printf("#BENCH kind=stall V=%d T=%d F=%d reader=%s secs=%.2f reads=%llu ops=%llu "
		       "p50_ns=%llu p99_ns=%llu p999_ns=%llu max_ns=%llu mean_ns=%llu "
		       "lock_mmap_med=%llu lock_mmap_max=%llu\n",
		       t->V, t->T, t->F, reader, (now_ns() - t0) / 1e9, (unsigned long long)reads,
		       (unsigned long long)nsamp, (unsigned long long)p50, (unsigned long long)p99,
		       (unsigned long long)p999, (unsigned long long)maxns,
		       (unsigned long long)(nsamp ? sum / nsamp : 0), (unsigned long long)ls.med,
		       (unsigned long long)lock_max);
		printf("  stall V=%-6d reader=%-7s reads=%6llu  target ops=%8llu  p50 %8.1f us  "
		       "p99 %8.1f us  worst %9.1f us%s", t->V, reader, (unsigned long long)reads,
		       (unsigned long long)nsamp, p50 / 1e3, p99 / 1e3, maxns / 1e3,
		       lock_max ? "  (pss: mmap lock held max" : "");
		if (lock_max)
			printf(" %.1f us)\n", lock_max / 1e3);
		else
			printf("\n");
		if (!nsamp)
			fail("stall: the churn thread recorded nothing during %s", reader);
	}
	fflush(stdout);
}

static void cell_stall(int T, int F, int V, double secs)
{
	static const char *const readers[] = { "none", "pss", "maps", "procmap" };
	struct target t;

	if (start_target(&t, T, F, V, true))
		return;
	printf("== stall: churning target T=%d F=%d V=%d (pid %d), %.1f s per reader\n",
	       T, F, V, t.pid, secs);
	fflush(stdout);
	for (unsigned int i = 0; i < sizeof(readers) / sizeof(readers[0]); i++)
		if (!no_pss || strcmp(readers[i], "pss"))
			stall_phase(&t, readers[i], secs);
	stop_target(&t);
}

/* ------------------------------------------------------------ thread-state stall */
/*
 * How long a capture of thread state stops the target, against the ptrace
 * tools an operator would otherwise run. The target's threads tick into a
 * shared area (pss_target -k): all but one sleep to the next multiple of a
 * period and note how late they woke, one spins on the clock. Per window:
 * start the window, run one capture or one tool, wait two periods so every
 * thread that was held has woken and noted it, then read the worst lateness
 * or gap of any thread (the thread hiccup) and the longest time no thread
 * of the target took a timestamp at all (the process hiccup). Windows with
 * nothing run ("none") are the baseline. A capture also takes one of the
 * guest's CPUs from the target for its duration: "busy" windows spin in
 * the benchmark as long as the last pss-ctx capture took, to tell that
 * apart from the stall. The methods are interleaved.
 */
enum { TS_NONE, TS_BUSY, TS_PSS_CTX, TS_PSS, TS_PSS_MEM, TS_PSS_EACH, TS_EUSTACK, TS_GDB,
       TS_NR };
static const char *const ts_name[TS_NR] = { "none", "busy", "pss-ctx", "pss", "pss+stacks",
					    "pss-each", "eu-stack", "gdb" };

struct ts_method {
	bool skip;
	const char *why;	/* why skipped */
	int n;
	uint64_t wall[MAXREPS], thr[MAXREPS], typ[MAXREPS], proc[MAXREPS];
	/* pss: the module's own account (PSS_QUERY_PERFORMANCE VER1) */
	uint64_t stall[MAXREPS], park[MAXREPS], quiesce[MAXREPS], total[MAXREPS];
	uint32_t parked, held, not_parked, seen;
	uint64_t mem_bytes;
};

/* Start a window: every thread acknowledged, the process gap cleared. */
static int tick_window(struct target *t)
{
	struct tick_area *a = t->ticks;
	uint32_t g = __atomic_add_fetch(&a->cmd_gen, 1, __ATOMIC_RELEASE);
	uint32_t n = __atomic_load_n(&a->nr_threads, __ATOMIC_ACQUIRE);
	uint64_t t0 = now_ns();

	for (uint32_t i = 0; i < n; i++)
		while (__atomic_load_n(&a->slot[i].ack_gen, __ATOMIC_ACQUIRE) != g) {
			if (now_ns() - t0 > 30ull * 1000000000) {
				fail("tstall: thread %u of the target does not tick", i);
				return -1;
			}
			usleep(1000);
		}
	__atomic_store_n(&a->proc_max_ns, 0, __ATOMIC_RELEASE);
	return 0;
}

/*
 * The window's worst tick of any thread (thr), the median over the threads
 * of each one's worst (typ: what a typical thread went through, robust to
 * one thread the guest happened to stall; eu-stack holds every thread once,
 * one at a time), and the process-wide gap (proc).
 */
static void tick_read(struct target *t, uint64_t *thr, uint64_t *typ, uint64_t *proc)
{
	struct tick_area *a = t->ticks;
	uint32_t n = __atomic_load_n(&a->nr_threads, __ATOMIC_ACQUIRE);
	uint64_t *v = xmalloc((n ? n : 1) * sizeof(*v));

	for (uint32_t i = 0; i < n; i++)
		v[i] = __atomic_load_n(&a->slot[i].max_ns, __ATOMIC_ACQUIRE);
	qsort(v, n, sizeof(*v), cmp_u64);
	*thr = n ? v[n - 1] : 0;
	*typ = n ? v[n / 2] : 0;
	*proc = __atomic_load_n(&a->proc_max_ns, __ATOMIC_ACQUIRE);
	free(v);
}

/*
 * One capture of thread context (TS_PSS_CTX), + kernel stacks (TS_PSS),
 * + each thread's stack memory (TS_PSS_MEM); TS_PSS_EACH is TS_PSS with
 * PSS_CAPTURE_PER_THREAD (no two threads held together, as eu-stack).
 */
static int ts_pss(struct target *t, int which, struct ts_method *m)
{
	struct pss_capture_args a = {
		.size = sizeof(a),
		.facets = PSS_FACET_THREADS | PSS_FACET_THREAD_CONTEXT |
			  PSS_FACET_MEASURE_PERFORMANCE,
		.target_pid = t->pid,
		/* long enough that every thread parks under TCG: the stall
		 * compared is that of a complete capture, as gdb's is */
		.quiesce_timeout_ms = 2000,
	};
	struct pss_perf_info perf;
	struct pss_snapshot_info si;
	struct pss_count_info ci;
	int snap, err = 0;
	uint64_t t0;

	if (which != TS_PSS_CTX)
		a.facets |= PSS_FACET_THREAD_KSTACK;
	/* as pss, each thread held only for its own registers */
	if (which == TS_PSS_EACH)
		a.flags = PSS_CAPTURE_PER_THREAD;
	if (which == TS_PSS_MEM) {
		a.facets |= PSS_FACET_MEMORY;
		a.memory_flags = PSS_MEMORY_STACKS;	/* stack_bytes 0: the default */
	}
	t0 = now_ns();
	snap = ioctl(pss_dev, PSS_IOC_CAPTURE, &a);
	m->wall[m->n] = now_ns() - t0;
	if (snap < 0)
		return -errno;
	memset(&perf, 0, sizeof(perf));
	if (pss_query(snap, PSS_QUERY_PERFORMANCE, &perf, sizeof(perf)) ||
	    pss_query(snap, PSS_QUERY_SNAPSHOT, &si, sizeof(si)) ||
	    pss_query(snap, PSS_QUERY_CONTEXTS, &ci, sizeof(ci))) {
		err = -errno;
		goto out;
	}
	if (perf.size < PSS_PERF_INFO_SIZE_VER1) {
		err = -EOPNOTSUPP;
		goto out;
	}
	m->stall[m->n] = perf.stall_ns;
	m->park[m->n] = perf.park_max_ns;
	m->quiesce[m->n] = perf.phase_ns[PSS_PHASE_QUIESCE];
	m->total[m->n] = perf.phase_ns[PSS_PHASE_TOTAL];
	m->parked = perf.nr_parked;
	m->held = perf.nr_held;
	m->not_parked = perf.nr_not_parked;
	m->seen = ci.count;
	m->mem_bytes = si.memory_bytes;
	if (ci.count != (uint64_t)t->T)
		fail("tstall %s: %llu thread contexts for %d threads", ts_name[which],
		     (unsigned long long)ci.count, t->T);
out:
	close(snap);
	return err;
}

/*
 * Run a ptrace tool on the target, its output counted (one line per thread
 * it reports: "TID n:" for eu-stack, "Thread n (... (LWP n) ...):" for gdb).
 */
static int ts_tool(struct target *t, int which, struct ts_method *m)
{
	char pid[16], line[512];
	int p[2], st, seen = 0;
	uint64_t t0;
	pid_t c;
	FILE *f;

	snprintf(pid, sizeof(pid), "%d", t->pid);
	if (pipe(p))
		fatal("pipe");
	t0 = now_ns();
	c = fork();
	if (c < 0)
		fatal("fork");
	if (!c) {
		int null = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		dup2(null, 2);
		close(p[0]);
		close(p[1]);
		if (which == TS_EUSTACK)
			execlp("eu-stack", "eu-stack", "-p", pid, (char *)NULL);
		else
			execlp("gdb", "gdb", "-nx", "-batch", "-p", pid,
			       "-ex", "thread apply all bt", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	if (!f)
		fatal("fdopen");
	while (fgets(line, sizeof(line), f))
		seen += which == TS_EUSTACK ? !strncmp(line, "TID ", 4) :
			!strncmp(line, "Thread ", 7) && strstr(line, "(LWP ");
	fclose(f);
	if (waitpid(c, &st, 0) < 0)
		fatal("waitpid");
	m->wall[m->n] = now_ns() - t0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return -ENOENT;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail("tstall: %s -p %d: status %#x", ts_name[which], t->pid, st);
	if (seen != t->T)
		fail("tstall: %s reported %d threads of %d", ts_name[which], seen, t->T);
	m->seen = seen;
	return 0;
}

/* base_*: the baseline's worst ticks, over a window of nothing base_win_ns long */
static void ts_print(const struct target *t, int i, struct ts_method *m, uint64_t base_thr,
		     uint64_t base_typ, uint64_t base_proc, uint64_t base_win)
{
	struct stat3 w, th, ty, pr, sl, pk, q, tot;

	if (m->skip || !m->n) {
		printf("#BENCH kind=tstall T=%d method=%s status=n/a why=%s\n", t->T, ts_name[i],
		       m->why ? m->why : "none");
		printf("  tstall T=%-5d %-10s n/a (%s)\n", t->T, ts_name[i], m->why ? m->why : "?");
		return;
	}
	w = stat3(m->wall, m->n);
	th = stat3(m->thr, m->n);
	ty = stat3(m->typ, m->n);
	pr = stat3(m->proc, m->n);
	printf("#BENCH kind=tstall T=%d method=%s reps=%d period_ns=%llu wall_med_ns=%llu "
	       "wall_min_ns=%llu wall_max_ns=%llu thr_med_ns=%llu thr_min_ns=%llu thr_max_ns=%llu "
	       "typ_med_ns=%llu typ_min_ns=%llu typ_max_ns=%llu "
	       "proc_med_ns=%llu proc_min_ns=%llu proc_max_ns=%llu base_thr_ns=%llu base_typ_ns=%llu "
	       "base_proc_ns=%llu base_win_ns=%llu seen=%u",
	       t->T, ts_name[i], m->n, (unsigned long long)t->ticks->period_ns,
	       (unsigned long long)w.med, (unsigned long long)w.min, (unsigned long long)w.max,
	       (unsigned long long)th.med, (unsigned long long)th.min, (unsigned long long)th.max,
	       (unsigned long long)ty.med, (unsigned long long)ty.min, (unsigned long long)ty.max,
	       (unsigned long long)pr.med, (unsigned long long)pr.min, (unsigned long long)pr.max,
	       (unsigned long long)base_thr, (unsigned long long)base_typ,
	       (unsigned long long)base_proc, (unsigned long long)base_win, m->seen);
	if (i >= TS_PSS_CTX && i <= TS_PSS_EACH) {
		sl = stat3(m->stall, m->n);
		pk = stat3(m->park, m->n);
		q = stat3(m->quiesce, m->n);
		tot = stat3(m->total, m->n);
		printf(" stall_med_ns=%llu stall_max_ns=%llu park_med_ns=%llu park_max_ns=%llu "
		       "quiesce_med_ns=%llu capture_med_ns=%llu parked=%u held=%u not_parked=%u "
		       "mem_bytes=%llu",
		       (unsigned long long)sl.med, (unsigned long long)sl.max,
		       (unsigned long long)pk.med, (unsigned long long)pk.max,
		       (unsigned long long)q.med, (unsigned long long)tot.med, m->parked, m->held,
		       m->not_parked, (unsigned long long)m->mem_bytes);
	}
	printf("\n");
	printf("  tstall T=%-5d %-10s n=%2d  wall %10.1f us  hiccup: worst thread %10.1f us "
	       "typical %10.1f us  process %10.1f us", t->T, ts_name[i], m->n, w.med / 1e3,
	       th.med / 1e3, ty.med / 1e3, pr.med / 1e3);
	if (i >= TS_PSS_CTX && i <= TS_PSS_EACH)
		printf("  stall %8.1f us  longest park %8.1f us  (parked %u held %u not %u)",
		       stat3(m->stall, m->n).med / 1e3, stat3(m->park, m->n).med / 1e3, m->parked,
		       m->held, m->not_parked);
	printf("\n");
}

static void cell_tstall(int T, int reps, int tool_reps)
{
	struct ts_method ms[TS_NR];
	struct target t;
	uint64_t settle_us, base_thr = 0, base_typ = 0, base_proc = 0;
	uint64_t long_win[TS_NR] = { 0 }, long_thr[TS_NR] = { 0 }, long_typ[TS_NR] = { 0 };
	uint64_t long_proc[TS_NR] = { 0 };

	memset(ms, 0, sizeof(ms));
	/* 5,000 wake-ups a second whatever T: busy, not saturated under TCG */
	tick_period_us = T * 200 < 10000 ? 10000 : T * 200;
	tick_spinners = 1;
	if (start_target(&t, T, 10, 10, false)) {
		tick_period_us = 0;
		return;
	}
	tick_period_us = 0;
	settle_us = 2 * t.ticks->period_ns / 1000 + 20000;
	printf("== thread-state stall: T=%d ticking threads (1 spinning, the rest waking every "
	       "%.0f ms) (pid %d)\n", T, t.ticks->period_ns / 1e6, t.pid);
	fflush(stdout);
	for (int i = TS_PSS_CTX; no_pss && i <= TS_PSS_EACH; i++) {
		ms[i].skip = true;
		ms[i].why = "no-pss";
	}
	for (int i = 0; i < TS_NR; i++) {
		if (only_skips(ts_name[i])) {
			ms[i].skip = true;
			ms[i].why = "only";
		}
	}
	if (reps > MAXREPS)
		reps = MAXREPS;
	for (int r = 0; r < reps; r++) {
		for (int i = 0; i < TS_NR; i++) {
			struct ts_method *m = &ms[r & 1 ? TS_NR - 1 - i : i];
			int which = m - ms, err = 0;

			if (m->skip || ((which == TS_EUSTACK || which == TS_GDB) && r >= tool_reps))
				continue;
			if (tick_window(&t))
				goto out;
			switch (which) {
			case TS_NONE:
				/* as long as a capture: the baseline's window is no shorter */
				m->wall[m->n] = 0;
				usleep(20000);
				break;
			case TS_BUSY: {
				struct ts_method *c = &ms[TS_PSS_CTX];
				uint64_t len = c->n ? c->wall[c->n - 1] : 20000000, t0 = now_ns();

				while (now_ns() - t0 < len)
					;
				m->wall[m->n] = now_ns() - t0;
				break;
			}
			case TS_PSS_CTX:
			case TS_PSS:
			case TS_PSS_MEM:
			case TS_PSS_EACH:
				err = ts_pss(&t, which, m);
				break;
			default:
				err = ts_tool(&t, which, m);
				break;
			}
			usleep(settle_us);
			if (err) {
				m->skip = true;
				m->why = err == -EOPNOTSUPP ? "EOPNOTSUPP" :
					 err == -ENOENT ? "not-installed" : "error";
				if (err != -EOPNOTSUPP && err != -ENOENT)
					fail("tstall %s: %s", ts_name[which], strerror(-err));
				continue;
			}
			tick_read(&t, &m->thr[m->n], &m->typ[m->n], &m->proc[m->n]);
			m->n++;
		}
	}
	/* --only pss... --profile-reps N: more captures for a profile, untimed */
	for (int i = TS_PSS_CTX; only_method && i <= TS_PSS_EACH; i++) {
		struct ts_method scratch;

		if (ms[i].skip)
			continue;
		for (int r = 0; r < profile_reps; r++) {
			memset(&scratch, 0, sizeof(scratch));
			if (ts_pss(&t, i, &scratch))
				break;
			usleep(settle_us);
		}
	}
	if (ms[TS_NONE].n) {
		base_thr = stat3(ms[TS_NONE].thr, ms[TS_NONE].n).med;
		base_typ = stat3(ms[TS_NONE].typ, ms[TS_NONE].n).med;
		base_proc = stat3(ms[TS_NONE].proc, ms[TS_NONE].n).med;
	}
	/*
	 * A tool's window lasts seconds, and the worst tick of a longer
	 * window is worse: each tool's baseline is the median of windows of
	 * nothing as long as its median run (one window alone can catch the
	 * host descheduling the guest for a second).
	 */
	for (int i = TS_EUSTACK; i <= TS_GDB; i++) {
		uint64_t thr[MAXREPS], typ[MAXREPS], proc[MAXREPS];
		/* as many windows of nothing as runs, three at least */
		int wins = smoke ? 1 : tool_reps < 3 ? 3 : tool_reps > MAXREPS ? MAXREPS : tool_reps;
		int n = 0;

		if (ms[i].skip || !ms[i].n)
			continue;
		long_win[i] = stat3(ms[i].wall, ms[i].n).med;
		for (int r = 0; r < wins; r++) {
			if (tick_window(&t))
				break;
			usleep(long_win[i] / 1000 + settle_us);
			tick_read(&t, &thr[n], &typ[n], &proc[n]);
			n++;
		}
		long_thr[i] = stat3(thr, n).med;
		long_typ[i] = stat3(typ, n).med;
		long_proc[i] = stat3(proc, n).med;
	}
	for (int i = 0; i < TS_NR; i++) {
		bool tool = i == TS_EUSTACK || i == TS_GDB;

		ts_print(&t, i, &ms[i], tool ? long_thr[i] : base_thr, tool ? long_typ[i] : base_typ,
			 tool ? long_proc[i] : base_proc,
			 (tool ? long_win[i] : 20000000) + settle_us * 1000);
	}
out:
	fflush(stdout);
	stop_target(&t);
}

/* ------------------------------------------------------------ dump stall */
/*
 * pss dump --memory all against gdb's gcore on a target with MIB MiB of
 * touched memory and 4 ticking threads (pss_target -k -m, one spinner).
 * Both run as an operator runs them, as child processes, one per window,
 * and write their core into the guest's tmpfs; its size is noted and the
 * file removed at once. The target's hiccup is measured as tstall's; pss's
 * own account of its stall is the summary line `pss dump` prints
 * (PSS_QUERY_PERFORMANCE stall_ns). A run takes seconds, so each method's
 * baseline is windows of nothing as long as its median run.
 */
/* pss-noprecopy: pss dump --no-precopy, the whole copy in the stall */
enum { DS_PSS, DS_GCORE, DS_NOPRE, DS_NR };
static const char *const ds_name[DS_NR] = { "pss-dump", "gcore", "pss-noprecopy" };
static char pss_path[PATH_MAX] = "/bin/pss";

struct ds_method {
	bool skip;
	const char *why;
	int n;
	uint64_t wall[MAXREPS], thr[MAXREPS], typ[MAXREPS], proc[MAXREPS];
	uint64_t stall[MAXREPS], capture[MAXREPS], file[MAXREPS];
	uint64_t precopy[MAXREPS], reused[MAXREPS], parked[MAXREPS];
};

/*
 * Run argv with its stdout in out (NUL-terminated, the rest dropped) and
 * its stderr kept or dropped; *ns its wall time. Returns its wait status.
 */
static int run_child(char *const argv[], bool keep_stderr, char *out, size_t outlen,
		     uint64_t *ns)
{
	char scratch[4096];
	size_t len = 0;
	int p[2], st;
	uint64_t t0;
	ssize_t r;
	pid_t c;

	if (pipe(p))
		fatal("pipe");
	t0 = now_ns();
	c = fork();
	if (c < 0)
		fatal("fork");
	if (!c) {
		int null = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		if (!keep_stderr)
			dup2(null, 2);
		close(p[0]);
		close(p[1]);
		if (pss_dev >= 0)
			close(pss_dev);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], scratch, sizeof(scratch))) != 0) {
		size_t k;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		k = (size_t)r < outlen - 1 - len ? (size_t)r : outlen - 1 - len;
		memcpy(out + len, scratch, k);
		len += k;
	}
	out[len] = 0;
	close(p[0]);
	if (waitpid(c, &st, 0) < 0)
		fatal("waitpid");
	*ns = now_ns() - t0;
	return st;
}

/*
 * pss dump's summary line: "..., N bytes of memory, stall X ms, capture Y
 * ms[, P bytes pre-copied, R reused, K read parked]" (the tail: 0 if absent)
 */
static int ds_parse(const char *out, struct ds_method *m)
{
	const char *q = strstr(out, "not parked), ");
	unsigned long long bytes, pre = 0, reu = 0, park = 0;
	double s, c;

	if (!q || sscanf(q, "not parked), %llu bytes of memory, stall %lf ms, capture %lf ms, "
			 "%llu bytes pre-copied, %llu reused, %llu read parked",
			 &bytes, &s, &c, &pre, &reu, &park) < 3)
		return -1;
	m->stall[m->n] = (uint64_t)(s * 1e6);
	m->capture[m->n] = (uint64_t)(c * 1e6);
	m->precopy[m->n] = pre;
	m->reused[m->n] = reu;
	m->parked[m->n] = park;
	return 0;
}

static int ds_run(struct target *t, int which, struct ds_method *m, int mib)
{
	char pid[16], path[PATH_MAX], gc[PATH_MAX + 8], out[4096];
	char *pss_argv[] = { pss_path, "dump", "--memory", "all", "--timeout", "2000",
			     "-o", path, pid, NULL, NULL };
	char *gdb_argv[] = { "gdb", "-nx", "-batch", "-p", pid, "-ex", gc, NULL };
	struct stat sb;
	int st;

	snprintf(pid, sizeof(pid), "%d", t->pid);
	snprintf(path, sizeof(path), "%s/pss-bench-core", tmpdir);
	snprintf(gc, sizeof(gc), "gcore %s", path);
	unlink(path);
	if (which == DS_NOPRE)
		pss_argv[9] = "--no-precopy";
	st = run_child(which == DS_GCORE ? gdb_argv : pss_argv, which != DS_GCORE, out,
		       sizeof(out), &m->wall[m->n]);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return -ENOENT;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fail("dump: %s of pid %d: status %#x", ds_name[which], t->pid, st);
		unlink(path);
		return -EIO;
	}
	if (stat(path, &sb)) {
		fail("dump: %s wrote no %s", ds_name[which], path);
		return -EIO;
	}
	unlink(path);
	m->file[m->n] = sb.st_size;
	/* every touched byte must be in the core: it is what is timed */
	if ((uint64_t)sb.st_size < (uint64_t)mib << 20)
		fail("dump: %s wrote %lld bytes for %d MiB", ds_name[which],
		     (long long)sb.st_size, mib);
	if (which != DS_GCORE && ds_parse(out, m)) {
		fail("dump: no stall in pss dump's output: %.200s", out);
		return -EIO;
	}
	return 0;
}

/* A snapshot holds the copied memory: raise the module's cap to fit. */
static void ds_raise_cap(int mib)
{
	const char *p = "/sys/module/pss/parameters/max_snapshot_bytes";
	unsigned long long cur = 0, want = ((unsigned long long)mib + 256) << 20;
	FILE *f = fopen(p, "r+");

	if (f && fscanf(f, "%llu", &cur) == 1 && cur < want) {
		rewind(f);
		fprintf(f, "%llu\n", want);
	}
	if (!f || fclose(f))
		fail("raising %s to %llu: %s", p, want, strerror(errno));
}

static void cell_dump(int mib, int reps)
{
	struct ds_method ms[DS_NR];
	uint64_t settle_us, base_thr[DS_NR], base_typ[DS_NR], base_proc[DS_NR], base_win[DS_NR];
	struct target t;

	memset(ms, 0, sizeof(ms));
	if (!no_pss)
		ds_raise_cap(mib);
	tick_period_us = 10000;
	tick_spinners = 1;
	target_mib = mib;
	if (start_target(&t, 4, 10, 10, false)) {
		tick_period_us = target_mib = 0;
		return;
	}
	tick_period_us = target_mib = 0;
	settle_us = 2 * t.ticks->period_ns / 1000 + 20000;
	printf("== dump stall: %d MiB touched, 4 ticking threads (pid %d)\n", mib, t.pid);
	fflush(stdout);
	if (no_pss) {
		ms[DS_PSS].skip = ms[DS_NOPRE].skip = true;
		ms[DS_PSS].why = ms[DS_NOPRE].why = "no-pss";
	}
	for (int i = 0; i < DS_NR; i++) {
		if (only_skips(ds_name[i])) {
			ms[i].skip = true;
			ms[i].why = "only";
		}
	}
	if (reps > MAXREPS)
		reps = MAXREPS;
	for (int r = 0; r < reps; r++) {
		for (int i = 0; i < DS_NR; i++) {
			struct ds_method *m = &ms[r & 1 ? DS_NR - 1 - i : i];
			int which = m - ms, err;

			if (m->skip)
				continue;
			if (tick_window(&t))
				goto out;
			err = ds_run(&t, which, m, mib);
			usleep(settle_us);
			if (err) {
				m->skip = true;
				m->why = err == -ENOENT ? "not-installed" : "error";
				continue;
			}
			tick_read(&t, &m->thr[m->n], &m->typ[m->n], &m->proc[m->n]);
			m->n++;
		}
	}
	/* --only ... --profile-reps N: more samples for a profile, untimed */
	for (int r = 0; only_method && r < profile_reps; r++) {
		for (int i = 0; i < DS_NR; i++) {
			struct ds_method *m = &ms[i];

			if (!m->skip && m->n < MAXREPS)
				ds_run(&t, i, m, mib);
		}
	}
	for (int i = 0; i < DS_NR; i++) {
		struct ds_method *m = &ms[i];
		uint64_t thr[2], typ[2], proc[2];
		struct stat3 w, th, ty, pr, sl, ca, fi;
		int n = 0;

		if (m->skip || !m->n) {
			printf("#BENCH kind=dump MiB=%d method=%s status=n/a why=%s\n", mib,
			       ds_name[i], m->why ? m->why : "none");
			printf("  dump %4d MiB %-9s n/a (%s)\n", mib, ds_name[i],
			       m->why ? m->why : "?");
			continue;
		}
		w = stat3(m->wall, m->n);
		base_win[i] = w.med + settle_us * 1000;
		for (int r = 0; r < 2; r++) {
			if (tick_window(&t))
				break;
			usleep(w.med / 1000 + settle_us);
			tick_read(&t, &thr[n], &typ[n], &proc[n]);
			n++;
		}
		base_thr[i] = n ? stat3(thr, n).med : 0;
		base_typ[i] = n ? stat3(typ, n).med : 0;
		base_proc[i] = n ? stat3(proc, n).med : 0;
		th = stat3(m->thr, m->n);
		ty = stat3(m->typ, m->n);
		pr = stat3(m->proc, m->n);
		fi = stat3(m->file, m->n);
		printf("#BENCH kind=dump MiB=%d method=%s T=%d reps=%d period_ns=%llu "
		       "wall_med_ns=%llu wall_min_ns=%llu wall_max_ns=%llu thr_med_ns=%llu "
		       "thr_max_ns=%llu typ_med_ns=%llu typ_max_ns=%llu proc_med_ns=%llu "
		       "proc_max_ns=%llu base_thr_ns=%llu base_typ_ns=%llu base_proc_ns=%llu "
		       "base_win_ns=%llu file_bytes=%llu",
		       mib, ds_name[i], t.T, m->n, (unsigned long long)t.ticks->period_ns,
		       (unsigned long long)w.med, (unsigned long long)w.min,
		       (unsigned long long)w.max, (unsigned long long)th.med,
		       (unsigned long long)th.max, (unsigned long long)ty.med,
		       (unsigned long long)ty.max, (unsigned long long)pr.med,
		       (unsigned long long)pr.max, (unsigned long long)base_thr[i],
		       (unsigned long long)base_typ[i], (unsigned long long)base_proc[i],
		       (unsigned long long)base_win[i], (unsigned long long)fi.med);
		if (i != DS_GCORE) {
			sl = stat3(m->stall, m->n);
			ca = stat3(m->capture, m->n);
			printf(" stall_med_ns=%llu stall_max_ns=%llu capture_med_ns=%llu"
			       " precopy_med_bytes=%llu reused_med_bytes=%llu parked_med_bytes=%llu",
			       (unsigned long long)sl.med, (unsigned long long)sl.max,
			       (unsigned long long)ca.med,
			       (unsigned long long)stat3(m->precopy, m->n).med,
			       (unsigned long long)stat3(m->reused, m->n).med,
			       (unsigned long long)stat3(m->parked, m->n).med);
		}
		printf("\n");
		printf("  dump %4d MiB %-9s n=%2d  wall %10.1f ms  file %6.1f MiB  hiccup: worst "
		       "thread %10.1f ms  process %10.1f ms (baseline %.1f / %.1f ms)",
		       mib, ds_name[i], m->n, w.med / 1e6, fi.med / 1048576.0, th.med / 1e6,
		       pr.med / 1e6, base_thr[i] / 1e6, base_proc[i] / 1e6);
		if (i != DS_GCORE)
			printf("  stall %.1f ms  capture %.1f ms  pre-copied %.1f MiB reused %.1f MiB "
			       "read parked %.1f MiB", stat3(m->stall, m->n).med / 1e6,
			       stat3(m->capture, m->n).med / 1e6,
			       stat3(m->precopy, m->n).med / 1048576.0,
			       stat3(m->reused, m->n).med / 1048576.0,
			       stat3(m->parked, m->n).med / 1048576.0);
		printf("\n");
	}
out:
	fflush(stdout);
	stop_target(&t);
}

/* ------------------------------------------------------------ main */
static bool want(const char *parts, const char *p)
{
	const char *s = strstr(parts, p);
	size_t l = strlen(p);

	return s && (s == parts || s[-1] == ',') && (s[l] == 0 || s[l] == ',');
}

int main(int argc, char **argv)
{
	const char *parts = "full,vma,stall,tstall,dump,threads";
	double stall_secs = 3;
	int tstall_reps = 25, tool_reps = 3, dump_reps = 3;
	struct utsname u;
	struct pss_version ver = { .size = sizeof(ver) };
	time_t now = time(NULL);
	char date[64];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke"))
			smoke = true;
		else if (!strcmp(argv[i], "--no-pss"))	/* procfs paths only, for testing */
			no_pss = true;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)	/* one method, for perf */
			only_method = argv[++i];
		else if (!strcmp(argv[i], "--profile-reps") && i + 1 < argc)
			profile_reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--parts") && i + 1 < argc)
			parts = argv[++i];
		else if (!strcmp(argv[i], "--budget") && i + 1 < argc)
			budget_s = atof(argv[++i]);
		else if (!strcmp(argv[i], "--stall-secs") && i + 1 < argc)
			stall_secs = atof(argv[++i]);
		else if (!strcmp(argv[i], "--tstall-reps") && i + 1 < argc)
			tstall_reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--tool-reps") && i + 1 < argc)
			tool_reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--dump-reps") && i + 1 < argc)
			dump_reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--pss") && i + 1 < argc)
			snprintf(pss_path, sizeof(pss_path), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--target") && i + 1 < argc)
			snprintf(target_path, sizeof(target_path), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--tmp") && i + 1 < argc)
			tmpdir = argv[++i];
		else {
			fprintf(stderr, "usage: pss_bench [--smoke] "
				"[--parts full,vma,stall,tstall,dump,threads] "
				"[--budget S] [--stall-secs S] [--tstall-reps N] [--tool-reps N] "
				"[--dump-reps N] [--target PATH] [--pss PATH] [--tmp DIR]\n");
			return 2;
		}
	}
	if (!target_path[0]) {
		char self[PATH_MAX - 16];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		char *slash;

		if (n < 0)
			fatal("/proc/self/exe");
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash)
			*slash = 0;
		snprintf(target_path, sizeof(target_path), "%s/pss_target", self);
	}
	if (access(target_path, X_OK))
		fatal(target_path);
	setvbuf(stdout, NULL, _IOLBF, 0);

	wbuf = xmalloc(wbuf_len);
	memset(wbuf, 0, wbuf_len);	/* fault it in outside the timed path */
	rbuf = xmalloc(rbuf_len);
	dents = xmalloc(dents_len);
	sample_copy = xmalloc(CHURN_MAX_SAMPLES * sizeof(uint32_t));
	intern("", 0);

	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	pss_dev = no_pss ? -1 : open(PSS_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (pss_dev < 0 && !no_pss)
		fatal(PSS_DEVICE_PATH);
	if (!no_pss && ioctl(pss_dev, PSS_IOC_VERSION, &ver))
		fail("PSS_IOC_VERSION: %s", strerror(errno));
	printf("#BENCH kind=env kernel=%s machine=%s cpus=%ld date=%s abi=%u smoke=%d budget=%.1f\n",
	       u.release, u.machine, sysconf(_SC_NPROCESSORS_ONLN), date, ver.abi_version,
	       smoke, budget_s);
	printf("pss_bench on %s (%ld cpus), %s; times are median (min, max) per snapshot\n",
	       u.release, sysconf(_SC_NPROCESSORS_ONLN), date);

	if (smoke) {
		if (want(parts, "full"))
			cell_full("smoke", 4, 20, 50);
		if (want(parts, "vma"))
			cell_vma(50);
		if (want(parts, "stall"))
			cell_stall(3, 10, 50, 0.3);
		if (want(parts, "tstall"))
			cell_tstall(4, 1, 1);
	} else {
		static const int Ts[] = { 10, 100, 1000 }, Fs[] = { 10, 1000, 10000 };
		static const int Vs[] = { 10, 1000, 10000, 100000 };
		static const int vma_Vs[] = { 10, 100, 1000, 3000, 10000, 30000, 100000 };
		char key[96], label[64];

		/* the whole grid: 3 x 3 x 4 cells, each named TnFnVn */
		for (unsigned int a = 0; a < 3; a++)
			for (unsigned int b = 0; b < 3; b++)
				for (unsigned int c = 0; c < 4; c++) {
					snprintf(label, sizeof(label), "T%dF%dV%d", Ts[a], Fs[b], Vs[c]);
					snprintf(key, sizeof(key), "full:%s", label);
					if (want(parts, "full") || want(parts, key))
						cell_full(label, Ts[a], Fs[b], Vs[c]);
				}
		/* a server-like process: a thread pool, a few hundred connections
		 * and files, a few thousand mappings */
		if (want(parts, "full") || want(parts, "full:realistic"))
			cell_full("realistic", 64, 300, 1500);
		for (unsigned int i = 0; i < sizeof(vma_Vs) / sizeof(vma_Vs[0]); i++) {
			int v = vma_Vs[i];

			snprintf(key, sizeof(key), "vma:%d", v);
			if (want(parts, "vma") || want(parts, key))
				cell_vma(v);
		}
		for (int v = 1000; v <= 100000; v *= 10) {
			snprintf(key, sizeof(key), "stall:%d", v);
			if (want(parts, "stall") || want(parts, key))
				cell_stall(4, 100, v, stall_secs);
		}
		for (int n = 100; n <= 1000; n *= 10) {
			snprintf(key, sizeof(key), "tstall:%d", n);
			if (want(parts, "tstall") || want(parts, key))
				cell_tstall(n, tstall_reps, tool_reps);
		}
		/* not in --smoke: it copies hundreds of MiB, seconds under TCG */
		for (int mib = 64; mib <= 512; mib *= 8) {
			snprintf(key, sizeof(key), "dump:%d", mib);
			if (want(parts, "dump") || want(parts, key))
				cell_dump(mib, dump_reps);
		}
	}
	/* last: it leaves the caller with parked threads */
	if (!smoke && (want(parts, "threads") || want(parts, "threads:self64")))
		cell_self_threads(64);
	printf("#BENCH kind=done errors=%d\n", errors);
	if (errors)
		fprintf(stderr, "pss_bench: %d error(s)\n", errors);
	return errors ? 1 : 0;
}
