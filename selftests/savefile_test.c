// SPDX-License-Identifier: GPL-2.0
/*
 * Saved snapshot files (libpss pss_snapshot_write_file/_open_file/_read_file
 * and pss --save/--file/diff):
 * - a file read back answers every query and walk byte for byte as the live
 *   snapshot it was written from, and its ELF structure (header, PT_NOTE,
 *   NT_PRPSINFO, NT_FILE against /proc/PID/maps, the PSS notes) is what the
 *   format says;
 * - pss prints the same from the file as from the capture it saved;
 * - truncated, corrupted, foreign, non-ELF and newer files: one precise
 *   error each, from the library and as pss exit codes, never a crash;
 * - pss diff around known changes reports exactly them.
 * /bin/pss (or $PSS_BIN) is the tool under test.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpss.h>

#include "kselftest_harness.h"

#define NALIGN(x)	(((x) + 3) & ~(size_t)3)

static const char *pss_bin(void)
{
	const char *b = getenv("PSS_BIN");

	return b && *b ? b : "/bin/pss";
}

/* ------------------------------------------------------------ target */

/*
 * A forked process, pinned to CPU 0, that does one change per command and
 * answers with a number (an fd, an address, a tid). Its threads run on
 * stacks allocated before any capture, so creating one maps nothing.
 */
enum { C_OPEN = 'o', C_CLOSE = 'c', C_SEEK = 'l', C_MMAP = 'm',
       C_MUNMAP = 'u', C_MPROTECT = 'p', C_THREAD = 't', C_JOIN = 'j',
       C_INFO = 'i' };

struct tinfo {
	int fd_close, fd_seek, fd_map;
	__u64 map_unmap, map_prot;
	int tid_old;
};

#define STK	(256 * 1024)
static char stacks[2][STK] __attribute__((aligned(4096)));
static int thr_pipe[2][2];
static int thr_tid[2];

static void *thr(void *arg)
{
	long i = (long)arg;
	char c;

	__atomic_store_n(&thr_tid[i], (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	while (read(thr_pipe[i][0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static pthread_t start_thread(long i)
{
	pthread_attr_t at;
	pthread_t t;

	pthread_attr_init(&at);
	pthread_attr_setstack(&at, stacks[i], STK);
	if (pthread_create(&t, &at, thr, (void *)i))
		_exit(3);
	while (!__atomic_load_n(&thr_tid[i], __ATOMIC_SEQ_CST))
		sched_yield();
	return t;
}

static void *map_memfd(const char *name, int prot, int *fdp)
{
	int fd = memfd_create(name, 0);
	void *p;

	if (fd < 0 || ftruncate(fd, 3 * 4096))
		_exit(4);
	p = mmap(NULL, 3 * 4096, prot, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		_exit(5);
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return p;
}

static void target_main(int cmd, int ans)
{
	struct tinfo ti;
	pthread_t t0 = 0, t1;
	void *pu, *pp, *pm;
	cpu_set_t cs;
	__u64 v;
	char c;

	CPU_ZERO(&cs);
	CPU_SET(0, &cs);
	sched_setaffinity(0, sizeof(cs), &cs);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(&ti, 0, sizeof(ti));
	ti.fd_close = open("/dev/zero", O_RDONLY);
	ti.fd_seek = memfd_create("seek", 0);
	pu = map_memfd("unmap", PROT_READ, NULL);
	pp = map_memfd("prot", PROT_READ | PROT_WRITE, NULL);
	ti.map_unmap = (uintptr_t)pu;
	ti.map_prot = (uintptr_t)pp;
	ti.fd_map = memfd_create("mapme", 0);
	if (ftruncate(ti.fd_map, 4096))
		_exit(6);
	/* both threads' pipes now: a later pipe() would be an fd change */
	if (pipe(thr_pipe[0]) || pipe(thr_pipe[1]))
		_exit(6);
	t0 = start_thread(0);
	ti.tid_old = thr_tid[0];

	for (;;) {
		if (read(cmd, &c, 1) != 1)
			_exit(0);
		v = 0;
		switch (c) {
		case C_INFO:
			if (write(ans, &ti, sizeof(ti)) != sizeof(ti))
				_exit(7);
			continue;
		case C_OPEN:
			v = (__u64)open("/dev/null", O_RDONLY);
			break;
		case C_CLOSE:
			v = (__u64)close(ti.fd_close);
			break;
		case C_SEEK:
			v = (__u64)lseek(ti.fd_seek, 100, SEEK_SET);
			break;
		case C_MMAP:
			pm = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, ti.fd_map, 0);
			v = (uintptr_t)pm;
			break;
		case C_MUNMAP:
			v = (__u64)munmap(pu, 3 * 4096);
			break;
		case C_MPROTECT:
			v = (__u64)mprotect(pp, 3 * 4096, PROT_READ);
			break;
		case C_THREAD:
			t1 = start_thread(1);
			(void)t1;
			v = (__u64)thr_tid[1];
			break;
		case C_JOIN:
			if (write(thr_pipe[0][1], "x", 1) != 1 ||
			    pthread_join(t0, NULL))
				_exit(8);
			break;
		}
		if (write(ans, &v, sizeof(v)) != sizeof(v))
			_exit(9);
	}
}

struct target {
	pid_t pid;
	int cmd, ans;
};

static int target_start(struct target *t)
{
	int c[2], a[2];

	if (pipe2(c, O_CLOEXEC) || pipe2(a, O_CLOEXEC))
		return -1;
	t->pid = fork();
	if (t->pid < 0)
		return -1;
	if (!t->pid) {
		close(c[1]);
		close(a[0]);
		target_main(c[0], a[1]);
		_exit(0);
	}
	close(c[0]);
	close(a[1]);
	t->cmd = c[1];
	t->ans = a[0];
	return 0;
}

static __u64 target_do(struct target *t, char c)
{
	__u64 v = ~0ULL;

	if (write(t->cmd, &c, 1) != 1 || read(t->ans, &v, sizeof(v)) != sizeof(v))
		return ~0ULL;
	return v;
}

static int target_info(struct target *t, struct tinfo *ti)
{
	char c = C_INFO;

	if (write(t->cmd, &c, 1) != 1 ||
	    read(t->ans, ti, sizeof(*ti)) != sizeof(*ti))
		return -1;
	return 0;
}

/* Every thread of the target asleep in read(): its state letters settle. */
static void target_settle(pid_t pid)
{
	char path[384], buf[512], *p;
	int tries, fd, all;

	for (tries = 0; tries < 10000; tries++) {
		struct dirent *de;
		DIR *d;

		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		d = opendir(path);
		all = 1;
		while (d && (de = readdir(d))) {
			ssize_t n;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", pid,
				 de->d_name);
			fd = open(path, O_RDONLY);
			if (fd < 0)
				continue;
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			buf[n > 0 ? n : 0] = 0;
			p = strrchr(buf, ')');
			if (!p || p[2] != 'S')
				all = 0;
		}
		if (d)
			closedir(d);
		if (all)
			return;
		usleep(1000);
	}
}

static void target_stop(struct target *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
	}
	close(t->cmd);
	close(t->ans);
}

/* ------------------------------------------------------------ helpers */

static int memfd_with(const void *p, size_t len)
{
	int fd = memfd_create("snapfile", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (len && write(fd, p, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* The library's answer for these bytes as a file. */
static int read_bytes(const void *p, size_t len)
{
	struct pss_snapshot *s = NULL;
	int fd = memfd_with(p, len), err;

	if (fd < 0)
		return -errno;
	err = pss_snapshot_read_file(fd, &s);
	close(fd);
	pss_snapshot_free(s);
	return err;
}

static unsigned char *slurp_fd(int fd, size_t *len)
{
	unsigned char *p = NULL;
	size_t cap = 0;
	ssize_t n;

	*len = 0;
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		if (cap - *len < 4096) {
			cap = cap ? cap * 2 : 65536;
			p = realloc(p, cap);
			if (!p)
				abort();
		}
		n = read(fd, p + *len, cap - *len);
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	return p;
}

struct run {
	int status;
	char *out, *err;
	size_t outlen, errlen;
};

/* pss with argv (NULL-terminated, argv[0] ignored); stdout/stderr kept. */
static void run_pss(struct run *r, const char **argv)
{
	int o = memfd_create("out", 0), e = memfd_create("err", 0), st;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	pid = fork();
	if (pid == 0) {
		dup2(o, 1);
		dup2(e, 2);
		argv[0] = "pss";
		execv(pss_bin(), (char *const *)argv);
		_exit(127);
	}
	if (pid > 0 && waitpid(pid, &st, 0) == pid)
		r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = (char *)slurp_fd(o, &r->outlen);
	r->out[r->outlen] = 0;
	r->err = (char *)slurp_fd(e, &r->errlen);
	r->err[r->errlen] = 0;
	close(o);
	close(e);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* ------------------------------------------------------------ comparing */

static const size_t qmin[PSS_QUERY_NR_CLASSES] = {
	[PSS_QUERY_SNAPSHOT] = PSS_SNAPSHOT_INFO_SIZE_VER0,
	[PSS_QUERY_PROCESS] = PSS_PROCESS_INFO_SIZE_VER0,
	[PSS_QUERY_THREADS] = PSS_COUNT_INFO_SIZE_VER0,
	[PSS_QUERY_HANDLES] = PSS_COUNT_INFO_SIZE_VER0,
	[PSS_QUERY_VA_SPACE] = PSS_COUNT_INFO_SIZE_VER0,
	[PSS_QUERY_PERFORMANCE] = PSS_PERF_INFO_SIZE_VER0,
};

static const size_t qsize[PSS_QUERY_NR_CLASSES] = {
	[PSS_QUERY_SNAPSHOT] = sizeof(struct pss_snapshot_info),
	[PSS_QUERY_PROCESS] = sizeof(struct pss_process_info),
	[PSS_QUERY_THREADS] = sizeof(struct pss_count_info),
	[PSS_QUERY_HANDLES] = sizeof(struct pss_count_info),
	[PSS_QUERY_VA_SPACE] = sizeof(struct pss_count_info),
	[PSS_QUERY_PERFORMANCE] = sizeof(struct pss_perf_info),
};

/* Same answer (return and bytes) for every class at several lengths. */
static int same_queries(struct pss_snapshot *a, struct pss_snapshot *b,
			char *why, size_t whylen)
{
	/* larger than any query struct, with room past it (process info is ~12 KiB) */
	static unsigned char ba[65536], bb[65536];
	int qc, k;

	for (qc = 0; qc < PSS_QUERY_NR_CLASSES; qc++) {
		size_t lens[] = { qmin[qc] - 8, qmin[qc], qsize[qc],
				  qsize[qc] + 64 };

		for (k = 0; k < 4; k++) {
			int ra, rb;

			memset(ba, 0xa5, sizeof(ba));
			memset(bb, 0xa5, sizeof(bb));
			ra = pss_query(a, qc, ba, lens[k]);
			rb = pss_query(b, qc, bb, lens[k]);
			if (ra != rb || memcmp(ba, bb, sizeof(ba))) {
				snprintf(why, whylen, "query %d len %zu: %d vs %d%s",
					 qc, lens[k], ra, rb,
					 ra == rb ? " (bytes differ)" : "");
				return -1;
			}
		}
	}
	return 0;
}

/* Same records, same walk answers, at a batch size of bb bytes. */
static int same_walks(struct pss_snapshot *a, struct pss_snapshot *b,
		      size_t bb, char *why, size_t whylen)
{
	int wc;

	for (wc = 0; wc < PSS_WALK_NR_CLASSES; wc++) {
		PSS_OPTS(pss_walk_marker_opts, o, .batch_bytes = bb);
		struct pss_walk_marker *ma = NULL, *mb = NULL;
		int ra, rb, n = 0;

		ra = pss_walk_marker_create(a, wc, &o, &ma);
		rb = pss_walk_marker_create(b, wc, &o, &mb);
		if (ra != rb) {
			snprintf(why, whylen, "marker %d: %d vs %d", wc, ra, rb);
			goto fail;
		}
		if (ra)
			continue;
		for (;;) {
			const void *ea, *eb;
			unsigned char ca[8192], cb[8192];
			size_t la = 0, lb = 0;

			if (n % 3 == 2) {
				/* the copying walk, with a too small buffer first */
				ra = pss_walk_copy(ma, ca, 8, &la);
				rb = pss_walk_copy(mb, cb, 8, &lb);
				if (ra != rb || la != lb)
					break;
				ra = pss_walk_copy(ma, ca, sizeof(ca), &la);
				rb = pss_walk_copy(mb, cb, sizeof(cb), &lb);
				if (ra != rb || la != lb ||
				    (ra == 1 && memcmp(ca, cb, la)))
					break;
			} else if (wc == PSS_WALK_THREADS) {
				const struct pss_thread_entry *ta, *tb;

				ra = pss_walk_thread(ma, &ta, &la);
				rb = pss_walk_thread(mb, &tb, &lb);
				ea = ta;
				eb = tb;
				if (ra != rb || la != lb ||
				    (ra == 1 && memcmp(ea, eb, la)))
					break;
			} else {
				ra = pss_walk(ma, &ea, &la);
				rb = pss_walk(mb, &eb, &lb);
				if (ra != rb || la != lb ||
				    (ra == 1 && memcmp(ea, eb, la)))
					break;
			}
			if (ra != 1)
				break;
			n++;
		}
		if (ra != 0 || rb != 0) {
			snprintf(why, whylen, "walk %d rec %d: %d vs %d", wc, n,
				 ra, rb);
			goto fail;
		}
		/* back to a position inside and past the end */
		if (pss_walk_marker_set_position(ma, n / 2) !=
		    pss_walk_marker_set_position(mb, n / 2) ||
		    pss_walk_marker_set_position(ma, n + 1) !=
		    pss_walk_marker_set_position(mb, n + 1)) {
			snprintf(why, whylen, "set_position %d", wc);
			goto fail;
		}
		pss_walk_marker_free(ma);
		pss_walk_marker_free(mb);
		continue;
fail:
		pss_walk_marker_free(ma);
		pss_walk_marker_free(mb);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ ELF */

struct note {
	size_t off;		/* of the header, in the file */
	Elf64_Nhdr nh;
	const char *name;
	const unsigned char *desc;
};

/*
 * Our own reading of the file's ELF structure: the header, exactly one
 * PT_NOTE and no PT_LOAD, every note inside it. Returns the number of
 * notes (up to max), or -1 with why set.
 */
static int elf_notes(const unsigned char *p, size_t len, struct note *nv,
		     int max, char *why, size_t whylen)
{
	const Elf64_Ehdr *eh = (const void *)p;
	const Elf64_Phdr *ph;
	size_t off, end;
	int n = 0;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_type != ET_CORE ||
	    eh->e_machine != EM_X86_64 || eh->e_version != EV_CURRENT ||
	    eh->e_ehsize != sizeof(*eh) || eh->e_phentsize != sizeof(*ph) ||
	    eh->e_phnum != 1 || eh->e_phoff != sizeof(*eh) || eh->e_shnum) {
		snprintf(why, whylen, "ELF header");
		return -1;
	}
	ph = (const void *)(p + eh->e_phoff);
	if (ph->p_type != PT_NOTE || ph->p_offset + ph->p_filesz != len) {
		snprintf(why, whylen, "program header: type %u, %llu + %llu != %zu",
			 ph->p_type, (unsigned long long)ph->p_offset,
			 (unsigned long long)ph->p_filesz, len);
		return -1;
	}
	off = ph->p_offset;
	end = off + ph->p_filesz;
	while (off < end && n < max) {
		struct note *no = &nv[n++];

		no->off = off;
		memcpy(&no->nh, p + off, sizeof(no->nh));
		no->name = (const char *)p + off + sizeof(no->nh);
		no->desc = p + off + sizeof(no->nh) + NALIGN(no->nh.n_namesz);
		off += sizeof(no->nh) + NALIGN(no->nh.n_namesz) +
		       NALIGN(no->nh.n_descsz);
		if (off > end || !no->nh.n_namesz ||
		    no->name[no->nh.n_namesz - 1]) {
			snprintf(why, whylen, "note %d at %zu overruns", n, no->off);
			return -1;
		}
	}
	return n;
}

static const struct note *find_note(const struct note *nv, int n,
				    const char *name, __u32 type)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(nv[i].name, name) && nv[i].nh.n_type == type)
			return &nv[i];
	return NULL;
}

/*
 * NT_FILE as fill_files_note() writes it, checked against the target's
 * /proc/PID/maps: every mapping with an inode, in order, start, end,
 * offset in pages, path.
 */
static int check_nt_file(const struct note *no, pid_t pid, char *why,
			 size_t whylen)
{
	const __u64 *w = (const void *)no->desc;
	char path[64], line[4352];
	const char *names;
	__u64 count, i = 0;
	FILE *f;

	if (!no || no->nh.n_descsz < 16) {
		snprintf(why, whylen, "no NT_FILE");
		return -1;
	}
	count = w[0];
	if (w[1] != 4096 || 16 + count * 24 > no->nh.n_descsz) {
		snprintf(why, whylen, "NT_FILE header %llu %llu",
			 (unsigned long long)w[0], (unsigned long long)w[1]);
		return -1;
	}
	names = (const char *)no->desc + 16 + count * 24;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long s, e, o, ino;
		char perms[8], dev[16];
		int pos = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %15s %llu %n", &s, &e, perms,
			   &o, dev, &ino, &pos) < 6 || !ino)
			continue;
		line[strcspn(line, "\n")] = 0;
		if (i >= count || w[2 + 3 * i] != s || w[3 + 3 * i] != e ||
		    w[4 + 3 * i] != o / 4096 || strcmp(names, line + pos)) {
			snprintf(why, whylen, "NT_FILE entry %llu: maps says %.160s",
				 (unsigned long long)i, line);
			fclose(f);
			return -1;
		}
		names += strlen(names) + 1;
		i++;
	}
	if (f)
		fclose(f);
	if (i != count || names != (const char *)no->desc + no->nh.n_descsz) {
		snprintf(why, whylen, "NT_FILE: %llu entries, maps has %llu",
			 (unsigned long long)count, (unsigned long long)i);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ fixture */

FIXTURE(savefile) {
	struct target t;
	struct tinfo ti;
	struct pss_snapshot *live;
	unsigned char *file;
	size_t len;
};

FIXTURE_SETUP(savefile)
{
	int fd;

	memset(self, 0, sizeof(*self));
	ASSERT_EQ(0, target_start(&self->t));
	ASSERT_EQ(0, target_info(&self->t, &self->ti));
	target_settle(self->t.pid);
	ASSERT_EQ(0, pss_capture_pid(self->t.pid, PSS_FACETS_ALL, &self->live));
	fd = memfd_create("snap", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pss_snapshot_write_file(self->live, fd, 0));
	self->file = slurp_fd(fd, &self->len);
	close(fd);
	ASSERT_LT(sizeof(Elf64_Ehdr), self->len);
}

FIXTURE_TEARDOWN(savefile)
{
	pss_snapshot_free(self->live);
	free(self->file);
	target_stop(&self->t);
}

/* Every query and walk of the file is the live snapshot's, byte for byte. */
TEST_F(savefile, read_back_identical)
{
	struct pss_snapshot *fs = NULL, *dup = NULL;
	char why[256] = "";
	size_t batches[] = { 1, 200, 4096, PSS_WALK_DEFAULT_BATCH_BYTES };
	size_t i;
	int fd;

	fd = memfd_with(self->file, self->len);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pss_snapshot_read_file(fd, &fs));
	close(fd);
	ASSERT_EQ(0, same_queries(self->live, fs, why, sizeof(why))) TH_LOG("%s", why);
	for (i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
		size_t bb = batches[i];

		ASSERT_EQ(0, same_walks(self->live, fs, bb, why, sizeof(why)))
			TH_LOG("batch %zu: %s", bb, why);
	}

	/* a dup outlives the original and answers the same */
	ASSERT_EQ(0, pss_snapshot_dup(fs, &dup));
	pss_snapshot_free(fs);
	ASSERT_EQ(0, same_queries(self->live, dup, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(0, same_walks(self->live, dup, 4096, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(-EOPNOTSUPP, pss_snapshot_fd(dup));

	/* and written again, the same file */
	fd = memfd_create("again", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pss_snapshot_write_file(dup, fd, 0));
	{
		size_t l2;
		unsigned char *p2 = slurp_fd(fd, &l2);

		ASSERT_EQ(self->len, l2);
		ASSERT_EQ(0, memcmp(self->file, p2, l2));
		free(p2);
	}
	close(fd);
	ASSERT_EQ(-EINVAL, pss_snapshot_write_file(dup, 1, 1));
	pss_snapshot_free(dup);
}

/* A capture without facets: the file answers ENODATA where live does. */
TEST_F(savefile, read_back_no_facets)
{
	struct pss_snapshot *l = NULL, *fs = NULL;
	char why[256] = "";
	unsigned char *p;
	size_t len;
	int fd;

	ASSERT_EQ(0, pss_capture_pid(self->t.pid, PSS_FACET_HANDLES, &l));
	fd = memfd_create("nofacets", MFD_CLOEXEC);
	ASSERT_EQ(0, pss_snapshot_write_file(l, fd, 0));
	p = slurp_fd(fd, &len);
	close(fd);
	fd = memfd_with(p, len);
	ASSERT_EQ(0, pss_snapshot_read_file(fd, &fs));
	close(fd);
	ASSERT_EQ(0, same_queries(l, fs, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(0, same_walks(l, fs, 4096, why, sizeof(why))) TH_LOG("%s", why);
	{
		struct pss_count_info ci;

		ASSERT_EQ(-ENODATA, pss_query(fs, PSS_QUERY_THREADS, &ci, sizeof(ci)));
	}
	free(p);
	pss_snapshot_free(fs);
	pss_snapshot_free(l);
}

/* The ELF structure, by our own reading. */
TEST_F(savefile, elf_layout)
{
	struct pss_process_info pi;
	struct note nv[32];
	const struct note *no;
	const struct elf_prpsinfo *ps;
	const struct pss_file_version *v;
	char why[256] = "";
	int n, i;

	n = elf_notes(self->file, self->len, nv, 32, why, sizeof(why));
	ASSERT_LT(0, n) TH_LOG("%s", why);
	ASSERT_EQ(0, pss_query(self->live, PSS_QUERY_PROCESS, &pi, sizeof(pi)));

	no = find_note(nv, n, "CORE", NT_PRPSINFO);
	ASSERT_NE(NULL, no);
	ASSERT_EQ(sizeof(*ps), no->nh.n_descsz);
	ps = (const void *)no->desc;
	EXPECT_EQ(self->t.pid, ps->pr_pid);
	EXPECT_EQ(getpid(), ps->pr_ppid);
	EXPECT_EQ('S', ps->pr_sname);
	EXPECT_EQ(1, ps->pr_state);
	EXPECT_EQ(0, memcmp(ps->pr_fname, pi.comm, sizeof(ps->pr_fname)));
	EXPECT_EQ(getuid(), ps->pr_uid);

	ASSERT_EQ(0, check_nt_file(find_note(nv, n, "CORE", NT_FILE), self->t.pid,
				   why, sizeof(why))) TH_LOG("%s", why);

	no = find_note(nv, n, PSS_NOTE_NAME, PSS_NT_VERSION);
	ASSERT_NE(NULL, no);
	v = (const void *)no->desc;
	EXPECT_EQ(PSS_FILE_VERSION, v->version);
	EXPECT_EQ(sizeof(*v), v->size);
	/* one note per part, each once */
	for (i = PSS_NT_SNAPSHOT; i <= PSS_NT_PERFORMANCE; i++)
		EXPECT_NE(NULL, find_note(nv, n, PSS_NOTE_NAME, i)) TH_LOG("type %d", i);
	for (i = 0; i < PSS_WALK_NR_CLASSES; i++) {
		static const __u32 count_query[PSS_WALK_NR_CLASSES] = {
			[PSS_WALK_THREADS] = PSS_QUERY_THREADS,
			[PSS_WALK_HANDLES] = PSS_QUERY_HANDLES,
			[PSS_WALK_VA_SPACE] = PSS_QUERY_VA_SPACE,
			[PSS_WALK_CONTEXTS] = PSS_QUERY_CONTEXTS,
			[PSS_WALK_KSTACKS] = PSS_QUERY_KSTACKS,
			[PSS_WALK_MEMORY] = PSS_QUERY_MEMORY,
		};
		struct pss_count_info ci;
		int err;

		/* a class the capture has: its note; one it has not: none */
		no = find_note(nv, n, PSS_NOTE_NAME, PSS_NT_WALK + i);
		err = pss_query(self->live, count_query[i], &ci, sizeof(ci));
		if (err == -ENODATA) {
			EXPECT_EQ(NULL, no) TH_LOG("walk %d not captured, but saved", i);
			continue;
		}
		ASSERT_EQ(0, err);
		ASSERT_NE(NULL, no);
		EXPECT_EQ(ci.bytes, no->nh.n_descsz);
	}
	no = find_note(nv, n, PSS_NOTE_NAME, PSS_NT_PROCESS);
	ASSERT_NE(NULL, no);
	EXPECT_EQ(sizeof(pi), no->nh.n_descsz);
	EXPECT_EQ(0, memcmp(no->desc, &pi, sizeof(pi)));
}

/* Cut short anywhere that matters: damaged, never accepted. */
TEST_F(savefile, truncated)
{
	struct note nv[32];
	char why[256] = "";
	size_t cuts[512], nc = 0, k;
	int n, i;

	n = elf_notes(self->file, self->len, nv, 32, why, sizeof(why));
	ASSERT_LT(0, n) TH_LOG("%s", why);
	ASSERT_EQ(-ENOEXEC, read_bytes(self->file, 0));
	for (k = 1; k <= 130; k++)
		cuts[nc++] = k;
	for (i = 0; i < n; i++) {
		size_t o = nv[i].off, d = NALIGN(nv[i].nh.n_namesz);

		cuts[nc++] = o - 1;
		cuts[nc++] = o + 4;
		cuts[nc++] = o + 12;
		cuts[nc++] = o + 12 + d;
		cuts[nc++] = o + 12 + d + nv[i].nh.n_descsz / 2;
		cuts[nc++] = o + 12 + d + nv[i].nh.n_descsz;
	}
	cuts[nc++] = self->len - 1;
	for (k = 0; k < nc; k++) {
		if (cuts[k] >= self->len)
			continue;
		ASSERT_EQ(-EBADMSG, read_bytes(self->file, cuts[k]))
			TH_LOG("cut at %zu of %zu", cuts[k], self->len);
	}
	/* and whole, fine */
	ASSERT_EQ(0, read_bytes(self->file, self->len));
}

/* Note sizes that lie, records that lie, counts that lie. */
TEST_F(savefile, corrupted)
{
	struct note nv[32];
	char why[256] = "";
	unsigned char *p = malloc(self->len + 64);
	int n, i, k;

	n = elf_notes(self->file, self->len, nv, 32, why, sizeof(why));
	ASSERT_LT(0, n) TH_LOG("%s", why);
	for (i = 0; i < n; i++) {
		__u32 sizes[] = { 0xffffffffu, nv[i].nh.n_descsz + 4,
				  0x7ffffff0u, nv[i].nh.n_namesz + 0x10000 };

		for (k = 0; k < 4; k++) {
			Elf64_Nhdr nh = nv[i].nh;

			memcpy(p, self->file, self->len);
			if (k == 3)
				nh.n_namesz = sizes[k];
			else
				nh.n_descsz = sizes[k];
			memcpy(p + nv[i].off, &nh, sizeof(nh));
			ASSERT_EQ(-EBADMSG, read_bytes(p, self->len))
				TH_LOG("note %d (%s %u) size %#x", i, nv[i].name,
				       nv[i].nh.n_type, sizes[k]);
		}
	}
	for (i = 0; i < n; i++) {
		__u32 bad[] = { 0, 4, 0xfffffff8u };

		if (strcmp(nv[i].name, PSS_NOTE_NAME) ||
		    nv[i].nh.n_type < PSS_NT_WALK || !nv[i].nh.n_descsz)
			continue;
		/* the first record's rec_len */
		for (k = 0; k < 3; k++) {
			memcpy(p, self->file, self->len);
			memcpy(p + (nv[i].desc - self->file), &bad[k], 4);
			ASSERT_EQ(-EBADMSG, read_bytes(p, self->len))
				TH_LOG("class %u rec_len %#x", nv[i].nh.n_type, bad[k]);
		}
	}
	{
		const struct note *no = find_note(nv, n, PSS_NOTE_NAME, PSS_NT_SNAPSHOT);
		struct pss_snapshot_info si;

		ASSERT_NE(NULL, no);
		memcpy(p, self->file, self->len);
		memcpy(&si, no->desc, sizeof(si));
		si.nr_vmas++;
		memcpy(p + (no->desc - self->file), &si, sizeof(si));
		EXPECT_EQ(-EBADMSG, read_bytes(p, self->len));
		/* a size field below VER0 */
		memcpy(p, self->file, self->len);
		si.nr_vmas--;
		si.size = 8;
		memcpy(p + (no->desc - self->file), &si, sizeof(si));
		EXPECT_EQ(-EBADMSG, read_bytes(p, self->len));
	}
	free(p);
}

/* A file from a newer pss: its own error, and exit code 8 from pss. */
TEST_F(savefile, newer_version)
{
	const char *path = "/tmp/savefile_newer.core";
	struct note nv[32];
	const struct note *no;
	char why[256] = "";
	unsigned char *p = malloc(self->len);
	__u32 ver = PSS_FILE_VERSION + 1;
	const char *argv[] = { "pss", "show", "--file", path, NULL };
	struct run r;
	int n, fd;

	n = elf_notes(self->file, self->len, nv, 32, why, sizeof(why));
	ASSERT_LT(0, n) TH_LOG("%s", why);
	no = find_note(nv, n, PSS_NOTE_NAME, PSS_NT_VERSION);
	ASSERT_NE(NULL, no);
	memcpy(p, self->file, self->len);
	memcpy(p + (no->desc - self->file) + 4, &ver, 4);
	ASSERT_EQ(-EPROTONOSUPPORT, read_bytes(p, self->len));
	/* the same version, a longer version struct: fine */
	memcpy(p, self->file, self->len);
	ASSERT_EQ(0, read_bytes(p, self->len));

	memcpy(p + (no->desc - self->file) + 4, &ver, 4);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)self->len, write(fd, p, self->len));
	close(fd);
	run_pss(&r, argv);
	EXPECT_EQ(8, r.status) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "newer pss")) TH_LOG("stderr: %s", r.err);
	EXPECT_EQ(0, r.outlen);
	run_free(&r);
	unlink(path);
	free(p);
}

/* A minimal core of someone else's, written by hand: one unknown note. */
static size_t foreign_core(unsigned char *p, int cls, int data, int machine)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	Elf64_Nhdr nh = { .n_namesz = 5, .n_descsz = 8, .n_type = 0x1234 };
	size_t off = 0;

	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = cls;
	eh.e_ident[EI_DATA] = data;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = machine;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	memset(&ph, 0, sizeof(ph));
	ph.p_type = PT_NOTE;
	ph.p_offset = sizeof(eh) + sizeof(ph);
	ph.p_filesz = sizeof(nh) + 8 + 8;
	memcpy(p + off, &eh, sizeof(eh));
	off += sizeof(eh);
	memcpy(p + off, &ph, sizeof(ph));
	off += sizeof(ph);
	memcpy(p + off, &nh, sizeof(nh));
	off += sizeof(nh);
	memcpy(p + off, "CORE\0\0\0\0" "12345678", 16);
	return off + 16;
}

static void write_file(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd >= 0) {
		if (write(fd, p, len) != (ssize_t)len)
			unlink(path);
		close(fd);
	}
}

TEST(foreign_files)
{
	const char *path = "/tmp/savefile_foreign";
	const char *argv[] = { "pss", "maps", "--file", path, NULL };
	unsigned char p[512];
	struct run r;
	size_t len;

	len = foreign_core(p, ELFCLASS64, ELFDATA2LSB, EM_X86_64);
	ASSERT_EQ(-ENOMSG, read_bytes(p, len));
	write_file(path, p, len);
	run_pss(&r, argv);
	EXPECT_EQ(7, r.status) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "not a pss snapshot")) TH_LOG("stderr: %s", r.err);
	run_free(&r);

	len = foreign_core(p, ELFCLASS32, ELFDATA2LSB, EM_X86_64);
	EXPECT_EQ(-ENOMSG, read_bytes(p, len));
	len = foreign_core(p, ELFCLASS64, ELFDATA2MSB, EM_X86_64);
	EXPECT_EQ(-ENOMSG, read_bytes(p, len));
	len = foreign_core(p, ELFCLASS64, ELFDATA2LSB, EM_AARCH64);
	EXPECT_EQ(-ENOMSG, read_bytes(p, len));

	/* not ELF at all */
	memcpy(p, "hello, world\n", 13);
	EXPECT_EQ(-ENOEXEC, read_bytes(p, 13));
	write_file(path, p, 13);
	run_pss(&r, argv);
	EXPECT_EQ(7, r.status) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "not ELF")) TH_LOG("stderr: %s", r.err);
	run_free(&r);

	/* a damaged one is told apart, and a missing one is not "bad" */
	len = foreign_core(p, ELFCLASS64, ELFDATA2LSB, EM_X86_64);
	write_file(path, p, 70);
	run_pss(&r, argv);
	EXPECT_EQ(7, r.status) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "damaged")) TH_LOG("stderr: %s", r.err);
	run_free(&r);
	unlink(path);
	run_pss(&r, argv);
	EXPECT_EQ(1, r.status) TH_LOG("stderr: %s", r.err);
	run_free(&r);

	{
		struct pss_snapshot *s = NULL;

		EXPECT_EQ(-ENOENT, pss_snapshot_open_file(path, &s));
		EXPECT_EQ(-EBADF, pss_snapshot_read_file(-1, &s));
		EXPECT_EQ(-EINVAL, pss_snapshot_open_file(NULL, &s));
		EXPECT_EQ(NULL, s);
	}
}

/* ------------------------------------------------------------ the tool */

/* pss VIEW PID --save F prints from the capture it saved; --file F the same. */
TEST_F(savefile, tool_same_output)
{
	static const char *const views[][3] = {
		{ "snapshot", "--json", NULL }, { "snapshot", NULL, NULL },
		{ "show", "-J", NULL }, { "threads", "--output-all", NULL },
		{ "fds", "-J", NULL }, { "maps", "--raw", NULL },
		{ "maps", NULL, NULL },
	};
	const char *path = "/tmp/savefile_tool.core";
	char pid[16];
	size_t i;

	snprintf(pid, sizeof(pid), "%d", self->t.pid);
	for (i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		const char *a1[8] = { "pss", views[i][0] }, *a2[8] = { "pss", views[i][0] };
		int n1 = 2, n2 = 2;
		struct run live, file;

		if (views[i][1]) {
			a1[n1++] = views[i][1];
			a2[n2++] = views[i][1];
		}
		a1[n1++] = "--save";
		a1[n1++] = path;
		a1[n1++] = pid;
		a2[n2++] = "--file";
		a2[n2++] = path;
		unlink(path);
		run_pss(&live, a1);
		ASSERT_EQ(0, live.status) TH_LOG("%s: %s", views[i][0], live.err);
		run_pss(&file, a2);
		ASSERT_EQ(0, file.status) TH_LOG("%s: %s", views[i][0], file.err);
		ASSERT_LT(100, live.outlen);
		EXPECT_STREQ(live.out, file.out) TH_LOG("%s %s", views[i][0],
							views[i][1] ? views[i][1] : "");
		run_free(&live);
		run_free(&file);
	}
	unlink(path);
}

/* ------------------------------------------------------------ diff */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The table's rows with spacing and the arrow squeezed out, sorted. */
static size_t table_rows(char *out, char **rows, size_t max)
{
	size_t n = 0;
	char *line, *save = NULL;

	for (line = strtok_r(out, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		char *w, *s2 = NULL, buf[512] = "";

		if (!strncmp(line, "KIND", 4))
			continue;
		for (w = strtok_r(line, " ", &s2); w; w = strtok_r(NULL, " ", &s2)) {
			if (!strcmp(w, "->"))
				continue;
			if (*buf)
				strcat(buf, " ");
			strncat(buf, w, sizeof(buf) - strlen(buf) - 2);
		}
		rows[n++] = strdup(buf);
	}
	qsort(rows, n, sizeof(*rows), cmp_str);
	return n;
}

static void save_snap(struct target *t, const char *path)
{
	char pid[16];
	const char *argv[] = { "pss", "snapshot", "--save", path, pid, NULL };
	struct run r;

	target_settle(t->pid);
	snprintf(pid, sizeof(pid), "%d", t->pid);
	run_pss(&r, argv);
	if (r.status)
		fprintf(stderr, "# pss snapshot --save: %d %s\n", r.status, r.err);
	run_free(&r);
}

TEST_F(savefile, diff_known_changes)
{
	const char *a = "/tmp/savefile_a.core", *b = "/tmp/savefile_b.core";
	char *exp[16], *got[64], pid[16];
	size_t ne = 0, ng, i;
	__u64 fd_new, map_new, tid_new;
	struct run r;
	const char *same[] = { "pss", "diff", a, a, NULL };
	const char *d[] = { "pss", "diff", a, b, NULL };
	const char *dj[] = { "pss", "diff", "-J", a, b, NULL };
	const char *dl[] = { "pss", "diff", b, pid, NULL };
	const char *bad[] = { "pss", "diff", a, "/nonexistent/x", NULL };

	save_snap(&self->t, a);
	run_pss(&r, same);
	EXPECT_EQ(0, r.status) TH_LOG("%s%s", r.out, r.err);
	EXPECT_EQ(0, r.outlen) TH_LOG("%s", r.out);
	run_free(&r);

	fd_new = target_do(&self->t, C_OPEN);
	ASSERT_EQ(0, target_do(&self->t, C_CLOSE));
	ASSERT_EQ(100, target_do(&self->t, C_SEEK));
	map_new = target_do(&self->t, C_MMAP);
	ASSERT_EQ(0, target_do(&self->t, C_MUNMAP));
	ASSERT_EQ(0, target_do(&self->t, C_MPROTECT));
	tid_new = target_do(&self->t, C_THREAD);
	ASSERT_EQ(0, target_do(&self->t, C_JOIN));
	save_snap(&self->t, b);

#define E(...) do { char _b[256]; snprintf(_b, sizeof(_b), __VA_ARGS__); \
		    exp[ne++] = strdup(_b); } while (0)
	E("fd %llu added", (unsigned long long)fd_new);
	E("fd %d removed", self->ti.fd_close);
	E("fd %d changed pos 0 100", self->ti.fd_seek);
	E("map 0x%llx added", (unsigned long long)map_new);
	E("map 0x%llx removed", (unsigned long long)self->ti.map_unmap);
	E("map 0x%llx changed perms rw-p r--p", (unsigned long long)self->ti.map_prot);
	E("thread %llu added", (unsigned long long)tid_new);
	E("thread %d removed", self->ti.tid_old);
#undef E
	qsort(exp, ne, sizeof(*exp), cmp_str);

	run_pss(&r, d);
	EXPECT_EQ(1, r.status) TH_LOG("%s", r.err);
	ng = table_rows(r.out, got, 64);
	for (i = 0; i < ne || i < ng; i++)
		EXPECT_STREQ(i < ne ? exp[i] : "(none)", i < ng ? got[i] : "(none)");
	for (i = 0; i < ng; i++)
		free(got[i]);
	run_free(&r);

	/* the same in JSON: as many changes, each named */
	run_pss(&r, dj);
	EXPECT_EQ(1, r.status) TH_LOG("%s", r.err);
	{
		size_t k = 0;
		char *s = r.out;

		while ((s = strstr(s, "\"kind\":"))) {
			k++;
			s++;
		}
		EXPECT_EQ(ne, k) TH_LOG("%s", r.out);
		EXPECT_NE(NULL, strstr(r.out, "\"field\": \"pos\"")) TH_LOG("%s", r.out);
	}
	run_free(&r);

	/* B against the live process it was saved from: nothing changed */
	snprintf(pid, sizeof(pid), "%d", self->t.pid);
	target_settle(self->t.pid);
	run_pss(&r, dl);
	EXPECT_EQ(0, r.status) TH_LOG("%s%s", r.out, r.err);
	run_free(&r);

	run_pss(&r, bad);
	EXPECT_EQ(9, r.status) TH_LOG("%s", r.err);
	run_free(&r);

	for (i = 0; i < ne; i++)
		free(exp[i]);
	unlink(a);
	unlink(b);
}

TEST_HARNESS_MAIN
