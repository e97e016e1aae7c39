// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A userspace stand-in for the pss module, for exercising libpss on a host
 * without the module (make -C lib mock-check). Linked into a test binary
 * with -Wl,--wrap=open,--wrap=ioctl: open("/dev/pss") yields a memfd, and
 * PSS_IOC_* on known memfds is answered from /proc, following the
 * semantics documented in <linux/pss.h> (sizes, ENOSPC/next_len, END,
 * ERANGE, ENODATA, EINVAL/E2BIG). Everything else goes to the real calls.
 *
 * It is not atomic and not complete; it exists to test the library's
 * protocol handling (batching, positions, growth, sizes), not the kernel.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/pss.h>

int __real_open(const char *path, int flags, ...);
int __real_ioctl(int fd, unsigned long req, ...);

#define MAX_OBJS	256
#define ALIGN8(x)	(((x) + 7) & ~(size_t)7)

struct recs {
	unsigned char *buf;
	size_t bytes, cap;
	size_t *offs;
	__u64 count, max;
};

struct snap {
	ino_t ino;		/* of its memfd */
	__u64 facets;
	__u64 cut_ns;
	struct pss_process_info pi;
	struct recs r[PSS_WALK_NR_CLASSES];
};

static struct snap *snaps[MAX_OBJS];
static void save_snap(int fd, const struct snap *s);

static ino_t fd_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* 1: a mock /dev/pss, 2: a mock snapshot, 0: anything else */
static int mock_kind(int fd)
{
	char p[64], l[256];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, l, sizeof(l) - 1);
	if (n < 0)
		return 0;
	l[n] = 0;
	if (!strncmp(l, "/memfd:pss-dev", 14))
		return 1;
	if (!strncmp(l, "/memfd:pss-snap", 15))
		return 2;
	return 0;
}

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = va_arg(ap, mode_t);
	va_end(ap);
	if (strcmp(path, PSS_DEVICE_PATH))
		return __real_open(path, flags, mode);
	fd = memfd_create("pss-dev", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	return fd;
}

static void rec_add(struct recs *r, const void *fixed, size_t fixed_len,
		    const void *var, size_t var_len)
{
	size_t len = ALIGN8(fixed_len + var_len);

	if (r->bytes + len > r->cap) {
		r->cap = (r->bytes + len) * 2;
		r->buf = realloc(r->buf, r->cap);
	}
	r->offs = realloc(r->offs, (r->count + 1) * sizeof(*r->offs));
	memset(r->buf + r->bytes, 0, len);
	memcpy(r->buf + r->bytes, fixed, fixed_len);
	memcpy(r->buf + r->bytes, &len, 4);	/* rec_len */
	if (var_len)
		memcpy(r->buf + r->bytes + fixed_len, var, var_len);
	r->offs[r->count++] = r->bytes;
	r->bytes += len;
	if (len > r->max)
		r->max = len;
}

static char *slurp(const char *path, size_t *lenp)
{
	char *b = NULL;
	size_t n = 0, cap = 0;
	ssize_t k;
	int fd = __real_open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	for (;;) {
		if (cap - n < 4096)
			b = realloc(b, cap += 65536);
		k = read(fd, b + n, cap - n - 1);
		if (k <= 0)
			break;
		n += k;
	}
	close(fd);
	b[n] = 0;
	if (lenp)
		*lenp = n;
	return b;
}

/* state letter and comm from .../stat */
static int parse_stat(const char *path, char *comm, char *state, int *ppid)
{
	char *s = slurp(path, NULL), *l, *r;

	if (!s)
		return -1;
	l = strchr(s, '(');
	r = strrchr(s, ')');
	if (!l || !r) {
		free(s);
		return -1;
	}
	*r = 0;
	snprintf(comm, PSS_COMM_LEN, "%s", l + 1);
	*state = r[2];
	if (ppid)
		*ppid = atoi(r + 4);
	free(s);
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int list_dir_ints(const char *path, int **out)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0, *v = NULL;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		v = realloc(v, (n + 1) * sizeof(*v));
		v[n++] = atoi(de->d_name);
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_int);
	*out = v;
	return n;
}

static void build_threads(struct snap *s, int pid)
{
	char path[128];
	int *tids, n, i;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	n = list_dir_ints(path, &tids);
	for (i = 0; i < n; i++) {
		struct pss_thread_entry t;
		__u64 cpus[2] = { 3, 0 };

		memset(&t, 0, sizeof(t));
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tids[i]);
		if (parse_stat(path, t.comm, &t.state, NULL))
			continue;
		t.tid = tids[i];
		if (t.tid == pid)
			t.flags |= PSS_THREAD_LEADER;
		if (pid == getpid() && t.tid == gettid())
			t.flags |= PSS_THREAD_CALLER;
		t.cpus_off = sizeof(t);
		t.cpus_len = sizeof(cpus);
		rec_add(&s->r[PSS_WALK_THREADS], &t, sizeof(t), cpus, sizeof(cpus));
	}
	free(tids);
}

static void build_handles(struct snap *s, int pid)
{
	char path[128], link[PSS_PATH_MAX];
	int *fds, n, i;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	n = list_dir_ints(path, &fds);
	for (i = 0; i < n; i++) {
		struct pss_handle_entry h;
		struct stat st;
		ssize_t ln;
		char *info, *f;

		memset(&h, 0, sizeof(h));
		h.fd = fds[i];
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fds[i]);
		ln = readlink(path, link, sizeof(link) - 1);
		if (ln < 0 || stat(path, &st))
			continue;
		link[ln] = 0;
		h.flags = PSS_HANDLE_HAS_BASIC;
		h.i_mode = st.st_mode;
		h.ino = st.st_ino;
		if (S_ISCHR(st.st_mode))
			h.type = PSS_HT_CHR;
		else if (S_ISREG(st.st_mode))
			h.type = !strncmp(link, "/memfd:", 7) ? PSS_HT_MEMFD : PSS_HT_REGULAR;
		else if (S_ISDIR(st.st_mode))
			h.type = PSS_HT_DIR;
		else if (S_ISFIFO(st.st_mode))
			h.type = !strncmp(link, "pipe:", 5) ? PSS_HT_PIPE : PSS_HT_FIFO;
		else if (S_ISSOCK(st.st_mode))
			h.type = PSS_HT_SOCKET;
		else if (strstr(link, "pidfd"))
			h.type = PSS_HT_PIDFD;
		else
			h.type = PSS_HT_ANON;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fds[i]);
		info = slurp(path, NULL);
		if (info && (f = strstr(info, "flags:"))) {
			unsigned long fl = strtoul(f + 6, NULL, 8);

			h.open_flags = fl & ~O_CLOEXEC;
			if (fl & O_CLOEXEC)
				h.flags |= PSS_HANDLE_CLOEXEC;
		}
		free(info);
		if (s->facets & PSS_FACET_HANDLE_NAME) {
			h.flags |= PSS_HANDLE_HAS_NAME;
			h.name_off = sizeof(h);
			h.name_len = ln;
			rec_add(&s->r[PSS_WALK_HANDLES], &h, sizeof(h), link, ln + 1);
		} else {
			rec_add(&s->r[PSS_WALK_HANDLES], &h, sizeof(h), NULL, 0);
		}
	}
	free(fds);
}

static void build_vmas(struct snap *s, int pid)
{
	char path[128], *maps, *line, *save = NULL;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = slurp(path, NULL);
	if (!maps)
		return;
	for (line = strtok_r(maps, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct pss_vma_entry v;
		unsigned long long a, b, off, ino;
		unsigned int maj, min;
		char perms[8];
		int consumed = 0;
		const char *name;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &a, &b,
			   perms, &off, &maj, &min, &ino, &consumed) < 7)
			continue;
		memset(&v, 0, sizeof(v));
		v.start = a;
		v.end = b;
		v.prot = (perms[0] == 'r' ? PSS_PROT_READ : 0) |
			 (perms[1] == 'w' ? PSS_PROT_WRITE : 0) |
			 (perms[2] == 'x' ? PSS_PROT_EXEC : 0);
		if (perms[3] == 's')
			v.flags |= PSS_VMA_SHARED;
		v.pgoff_bytes = off;
		v.dev_major = maj;
		v.dev_minor = min;
		v.ino = ino;
		v.page_size = 4096;
		name = line + consumed;
		if (*name && (s->facets & PSS_FACET_VA_SPACE_SECTION)) {
			v.name_kind = *name == '/' ? PSS_VMA_NAME_FILE :
				      !strcmp(name, "[heap]") ? PSS_VMA_NAME_HEAP :
				      !strcmp(name, "[stack]") ? PSS_VMA_NAME_STACK :
				      PSS_VMA_NAME_SPECIAL;
			v.name_off = sizeof(v);
			v.name_len = strlen(name);
			rec_add(&s->r[PSS_WALK_VA_SPACE], &v, sizeof(v), name,
				v.name_len + 1);
		} else {
			rec_add(&s->r[PSS_WALK_VA_SPACE], &v, sizeof(v), NULL, 0);
		}
	}
	free(maps);
}

static int pid_of_pidfd(int pidfd)
{
	char p[64], l[128], *info, *f;
	ssize_t n;
	int pid;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", pidfd);
	n = readlink(p, l, sizeof(l) - 1);
	if (n < 0)
		return -EBADF;
	l[n] = 0;
	if (!strstr(l, "pidfd"))
		return -EBADFD;
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", pidfd);
	info = slurp(p, NULL);
	if (!info || !(f = strstr(info, "Pid:"))) {
		free(info);
		return -EBADFD;
	}
	pid = atoi(f + 4);
	free(info);
	return pid <= 0 ? -ESRCH : pid;
}

static int trailing_nonzero(const void *p, size_t known, size_t size)
{
	const unsigned char *c = p;

	for (; known < size; known++)
		if (c[known])
			return 1;
	return 0;
}

static int do_capture(struct pss_capture_args *a)
{
	struct timespec ts;
	struct snap *s;
	char path[64];
	int pid, fd, i;

	if (a->size < PSS_CAPTURE_ARGS_SIZE_VER0)
		return -EINVAL;
	if (trailing_nonzero(a, sizeof(*a), a->size))
		return -E2BIG;
	if ((a->flags & ~PSS_CAPTURE_FLAGS_ALL) || (a->facets & ~PSS_FACETS_ALL) ||
	    a->reserved[0] || a->reserved[1])
		return -EINVAL;
	if ((a->facets & (PSS_FACET_HANDLE_NAME | PSS_FACET_HANDLE_BASIC |
			  PSS_FACET_HANDLE_TYPE_SPECIFIC)) &&
	    !(a->facets & PSS_FACET_HANDLES))
		return -EINVAL;
	if ((a->facets & PSS_FACET_VA_SPACE_SECTION) &&
	    !(a->facets & PSS_FACET_VA_SPACE))
		return -EINVAL;
	if (a->flags & PSS_CAPTURE_PIDFD) {
		pid = pid_of_pidfd(a->target_pidfd);
		if (pid < 0)
			return pid;
	} else {
		if (a->target_pid < 0 || a->target_pidfd)
			return -EINVAL;
		pid = a->target_pid ? a->target_pid : getpid();
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (access(path, R_OK))
		return -ESRCH;
	if (pid == 2)
		return -EPERM;

	s = calloc(1, sizeof(*s));
	s->facets = a->facets;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->cut_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	s->pi.size = sizeof(s->pi);
	s->pi.pid = pid;
	parse_stat(path, s->pi.comm, &s->pi.state, &s->pi.ppid);
	if (pid == getpid())
		s->pi.flags |= PSS_PROC_SELF;
	if (s->pi.state == 'T')
		s->pi.flags |= PSS_PROC_STOPPED;
	s->pi.mask = PSS_PROC_HAS_IDS;
	if (a->facets & PSS_FACET_THREADS)
		build_threads(s, pid);
	{
		/* nr_threads regardless of the facet */
		int *tids, n;

		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		n = list_dir_ints(path, &tids);
		s->pi.nr_threads = n > 0 ? n : 0;
		free(tids);
	}
	if (a->facets & PSS_FACET_HANDLES)
		build_handles(s, pid);
	if (a->facets & PSS_FACET_VA_SPACE)
		build_vmas(s, pid);

	fd = memfd_create("pss-snap", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	s->ino = fd_ino(fd);
	save_snap(fd, s);
	for (i = 0; i < MAX_OBJS; i++) {
		if (!snaps[i] || snaps[i]->ino == s->ino) {
			snaps[i] = s;	/* a reused inode number: replace */
			return fd;
		}
	}
	close(fd);
	return -ENOMEM;
}

/*
 * The snapshot also lives in its memfd, so that it survives exec: a process
 * that inherits the fd but not our table loads it from there.
 */
static void save_snap(int fd, const struct snap *s)
{
	int w;

	if (write(fd, s, sizeof(*s)) != sizeof(*s))
		return;
	for (w = 0; w < PSS_WALK_NR_CLASSES; w++) {
		if (write(fd, s->r[w].buf, s->r[w].bytes) < 0 ||
		    write(fd, s->r[w].offs, s->r[w].count * sizeof(size_t)) < 0)
			return;
	}
}

static struct snap *load_snap(int fd)
{
	struct snap *s = calloc(1, sizeof(*s));
	off_t off = sizeof(*s);
	int w;

	if (pread(fd, s, sizeof(*s), 0) != sizeof(*s)) {
		free(s);
		return NULL;
	}
	for (w = 0; w < PSS_WALK_NR_CLASSES; w++) {
		struct recs *r = &s->r[w];

		r->buf = malloc(r->bytes + 1);
		r->offs = malloc(r->count * sizeof(size_t) + 1);
		r->cap = r->bytes;
		if (pread(fd, r->buf, r->bytes, off) != (ssize_t)r->bytes)
			return NULL;
		off += r->bytes;
		if (pread(fd, r->offs, r->count * sizeof(size_t), off) !=
		    (ssize_t)(r->count * sizeof(size_t)))
			return NULL;
		off += r->count * sizeof(size_t);
	}
	s->ino = fd_ino(fd);
	return s;
}

static const __u64 walk_facet[PSS_WALK_NR_CLASSES] = {
	[PSS_WALK_THREADS] = PSS_FACET_THREADS,
	[PSS_WALK_HANDLES] = PSS_FACET_HANDLES,
	[PSS_WALK_VA_SPACE] = PSS_FACET_VA_SPACE,
};

static int copy_out(struct pss_query_args *a, const void *src, __u32 ksize)
{
	void *out = (void *)(uintptr_t)a->out;

	if (a->out < 4096)
		return -EFAULT;
	memset(out, 0, a->out_size);
	memcpy(out, src, a->out_size < ksize ? a->out_size : ksize);
	a->kernel_size = ksize;
	return 0;
}

static int do_query(struct snap *s, struct pss_query_args *a)
{
	static const __u32 ver0[PSS_QUERY_NR_CLASSES] = {
		PSS_SNAPSHOT_INFO_SIZE_VER0, PSS_PROCESS_INFO_SIZE_VER0,
		PSS_COUNT_INFO_SIZE_VER0, PSS_COUNT_INFO_SIZE_VER0,
		PSS_COUNT_INFO_SIZE_VER0, PSS_PERF_INFO_SIZE_VER0,
	};

	if (a->size < PSS_QUERY_ARGS_SIZE_VER0)
		return -EINVAL;
	if (trailing_nonzero(a, sizeof(*a), a->size))
		return -E2BIG;
	if (a->flags || a->reserved || a->query_class >= PSS_QUERY_NR_CLASSES ||
	    a->out_size < ver0[a->query_class])
		return -EINVAL;
	switch (a->query_class) {
	case PSS_QUERY_SNAPSHOT: {
		struct pss_snapshot_info si = {
			.size = sizeof(si), .abi_version = PSS_ABI_VERSION,
			.facets = s->facets, .cut_ns = s->cut_ns,
			.nr_threads = s->r[PSS_WALK_THREADS].count,
			.nr_handles = s->r[PSS_WALK_HANDLES].count,
			.nr_vmas = s->r[PSS_WALK_VA_SPACE].count,
		};
		return copy_out(a, &si, sizeof(si));
	}
	case PSS_QUERY_PROCESS:
		return copy_out(a, &s->pi, sizeof(s->pi));
	case PSS_QUERY_THREADS:
	case PSS_QUERY_HANDLES:
	case PSS_QUERY_VA_SPACE: {
		int w = a->query_class - PSS_QUERY_THREADS;
		struct pss_count_info ci = {
			.size = sizeof(ci), .count = s->r[w].count,
			.bytes = s->r[w].bytes, .max_rec_len = s->r[w].max,
		};

		if (!(s->facets & walk_facet[w]))
			return -ENODATA;
		return copy_out(a, &ci, sizeof(ci));
	}
	case PSS_QUERY_PERFORMANCE: {
		struct pss_perf_info pf = { .size = sizeof(pf) };

		if (!(s->facets & PSS_FACET_MEASURE_PERFORMANCE))
			return -ENODATA;
		return copy_out(a, &pf, sizeof(pf));
	}
	}
	return -EINVAL;
}

static int do_walk(struct snap *s, struct pss_walk_args *a)
{
	struct recs *r;
	__u64 pos, used = 0;
	unsigned char *buf = (void *)(uintptr_t)a->buf;

	if (a->size < PSS_WALK_ARGS_SIZE_VER0)
		return -EINVAL;
	if (trailing_nonzero(a, sizeof(*a), a->size))
		return -E2BIG;
	if (a->flags || a->walk_class >= PSS_WALK_NR_CLASSES)
		return -EINVAL;
	if (!(s->facets & walk_facet[a->walk_class]))
		return -ENODATA;
	r = &s->r[a->walk_class];
	if (a->pos > r->count)
		return -ERANGE;
	a->total = r->count;
	a->count = 0;
	a->bytes_written = 0;
	a->out_flags = 0;
	pos = a->pos;
	while (pos < r->count) {
		size_t off = r->offs[pos];
		__u32 len;

		memcpy(&len, r->buf + off, 4);
		if (used + len > a->buf_len)
			break;
		memcpy(buf + used, r->buf + off, len);
		used += len;
		pos++;
		a->count++;
	}
	a->next_len = 0;
	if (pos < r->count)
		memcpy(&a->next_len, r->buf + r->offs[pos], 4);
	if (!a->count && pos < r->count)
		return -ENOSPC;
	a->pos = pos;
	a->bytes_written = used;
	if (pos == r->count)
		a->out_flags |= PSS_WALK_END;
	return 0;
}

static int do_version(struct pss_version *v)
{
	__u32 size = v->size;

	if (size < PSS_VERSION_SIZE_VER0)
		return -EINVAL;
	if (trailing_nonzero(v, sizeof(*v), size))
		return -E2BIG;
	v->abi_version = PSS_ABI_VERSION;
	v->capture_flags = PSS_CAPTURE_FLAGS_ALL;
	v->query_classes = (1ULL << PSS_QUERY_NR_CLASSES) - 1;
	v->walk_classes = (1ULL << PSS_WALK_NR_CLASSES) - 1;
	v->max_snapshot_bytes = 64 << 20;
	return 0;
}

static int ret_errno(int r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	ino_t ino;
	int i, kind;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	kind = _IOC_TYPE(req) == PSS_IOC_MAGIC ? mock_kind(fd) : 0;
	if (!kind)
		return __real_ioctl(fd, req, arg);
	if ((uintptr_t)arg < 4096)
		return ret_errno(-EFAULT);
	if (kind == 1) {
		if (_IOC_NR(req) == _IOC_NR(PSS_IOC_VERSION))
			return ret_errno(do_version(arg));
		if (_IOC_NR(req) == _IOC_NR(PSS_IOC_CAPTURE))
			return ret_errno(do_capture(arg));
		return ret_errno(-ENOTTY);
	}
	ino = fd_ino(fd);
	for (i = 0; i < MAX_OBJS; i++) {
		if (snaps[i] && snaps[i]->ino == ino) {
			if (_IOC_NR(req) == _IOC_NR(PSS_IOC_QUERY))
				return ret_errno(do_query(snaps[i], arg));
			if (_IOC_NR(req) == _IOC_NR(PSS_IOC_WALK))
				return ret_errno(do_walk(snaps[i], arg));
			return ret_errno(-ENOTTY);
		}
	}
	for (i = 0; i < MAX_OBJS; i++) {
		if (!snaps[i]) {
			snaps[i] = load_snap(fd);
			if (snaps[i])
				return __wrap_ioctl(fd, req, arg);
			break;
		}
	}
	return ret_errno(-ENOTTY);
}
