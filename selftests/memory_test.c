// SPDX-License-Identifier: GPL-2.0
/*
 * PSS_FACET_MEMORY: the memory walk of stopped targets against what the
 * target holds.
 * - stacks: every thread of a stopped multi-threaded target has its stack
 *   from its stack pointer (/proc/PID/task/TID/syscall) less the 128-byte
 *   red zone, stack_bytes up, within its VMA and below the next thread's
 *   stack, under its own tid, and the bytes equal process_vm_readv() of
 *   the same range; threads spinning in user mode have theirs; a
 *   self-capture has the calling thread's stack as it was at the ioctl,
 *   and its sibling's.
 * - ranges: unaligned, overlapping, partly unmapped, over a PROT_NONE page:
 *   exactly the readable bytes asked for, each once.
 * - writable: every private writable mapping, none shared, read-only or
 *   MADV_DONTDUMP; holes read as zeros without being faulted in.
 * - dedup: equal pages (zeros) cost one copy; distinct pages each.
 * - bounds: ENOBUFS under a small max_snapshot_bytes, for bytes and for
 *   the records of holes.
 * - userfaultfd: a registered page not present is left out, not waited
 *   for (its handler is the stopped target).
 * - 32 MiB of distinct pages with the registers, every byte back; costs
 *   logged.
 * - pre-copy (PSS_MEMORY_PRECOPY, after clearing the soft-dirty bits):
 *   consistent while the target writes, zaps, refaults and changes a
 *   mapped file during the capture; equal to the capture without it on a
 *   target changed after the clear; its counters add up.
 * - bad args: one errno per case.
 * - every walk: framing, address order, no overlap, one page per record,
 *   tid only on stack records, and the count query equal to the walk.
 */
#include <pthread.h>
#include <sys/uio.h>
#include <linux/userfaultfd.h>

#include "pss_test_util.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define PARAM_SNAP	"/sys/module/pss/parameters/max_snapshot_bytes"
#define FACETS		(PSS_FACET_THREADS | PSS_FACET_MEMORY)
#define NR_THREADS	4
#define MARK_LEN	256

/* ------------------------------------------------------------- walk */

struct mem_snap {
	char *buf;
	size_t bytes;
	size_t n;
	struct pss_memory_entry **rec;
};

static void mem_free(struct mem_snap *ms)
{
	free(ms->buf);
	free(ms->rec);
	memset(ms, 0, sizeof(*ms));
}

static const unsigned char *mem_data(const struct pss_memory_entry *e)
{
	return (const unsigned char *)e + e->data_off;
}

/*
 * Every rule a memory record obeys: framing (rec_len, the data inside
 * it, NUL after), one page at most, known flags, tid exactly on stack
 * records, zero reserved, strictly increasing addresses with no overlap.
 */
static int mem_check(const struct mem_snap *ms)
{
	unsigned long long prev_end = 0;
	size_t i;

	for (i = 0; i < ms->n; i++) {
		const struct pss_memory_entry *e = ms->rec[i];
		unsigned long long end = e->addr + e->data_len;

		if (e->rec_len % PSS_REC_ALIGN ||
		    e->rec_len < PSS_MEMORY_ENTRY_SIZE_VER0 ||
		    e->data_off < PSS_MEMORY_ENTRY_SIZE_VER0 ||
		    (unsigned long long)e->data_off + e->data_len + 1 > e->rec_len ||
		    mem_data(e)[e->data_len] != '\0') {
			pss_seterr("record %zu: bad framing rec_len %u data %u+%u",
				   i, e->rec_len, e->data_off, e->data_len);
			return -EPROTO;
		}
		if (!e->data_len || e->data_len > PG ||
		    (e->addr / PG) != ((end - 1) / PG)) {
			pss_seterr("record %zu: %#llx+%u not within one page", i,
				   (unsigned long long)e->addr, e->data_len);
			return -EPROTO;
		}
		if (!e->flags || e->flags & ~PSS_MEMORY_FLAGS_ALL || e->reserved ||
		    !!(e->flags & PSS_MEMORY_ENTRY_STACK) != !!e->tid) {
			pss_seterr("record %zu: flags %#x tid %d reserved %u", i,
				   e->flags, e->tid, e->reserved);
			return -EPROTO;
		}
		if (i && e->addr < prev_end) {
			pss_seterr("record %zu at %#llx: before the end %#llx of the last",
				   i, (unsigned long long)e->addr, prev_end);
			return -EPROTO;
		}
		prev_end = end;
	}
	return 0;
}

/* The whole memory walk, checked, and the count query against it. */
static int mem_walk(int snap, struct mem_snap *ms)
{
	size_t cap = 1 << 20, max_len = 0, i, off;
	struct pss_count_info ci;
	__u64 pos = 0;
	int ret;

	memset(ms, 0, sizeof(*ms));
	for (;;) {
		struct pss_walk_args w;
		char *nb;

		nb = realloc(ms->buf, ms->bytes + cap);
		if (!nb)
			return -ENOMEM;
		ms->buf = nb;
		pss_walk_init(&w, PSS_WALK_MEMORY, pos, ms->buf + ms->bytes, cap);
		ret = ioc_walk(snap, &w);
		if (ret) {
			pss_seterr("walk at %llu: %s", (unsigned long long)pos,
				   strerror(-ret));
			return ret;
		}
		ms->bytes += w.bytes_written;
		ms->n += w.count;
		pos = w.pos;
		if (w.out_flags & PSS_WALK_END)
			break;
	}
	ms->rec = calloc(ms->n + 1, sizeof(*ms->rec));
	if (!ms->rec)
		return -ENOMEM;
	for (i = 0, off = 0; i < ms->n; i++) {
		ms->rec[i] = (struct pss_memory_entry *)(ms->buf + off);
		if (ms->rec[i]->rec_len < 8 || off + ms->rec[i]->rec_len > ms->bytes) {
			pss_seterr("record %zu overruns the walk", i);
			return -EPROTO;
		}
		off += ms->rec[i]->rec_len;
		if (ms->rec[i]->rec_len > max_len)
			max_len = ms->rec[i]->rec_len;
	}
	if (off != ms->bytes) {
		pss_seterr("records use %zu of %zu bytes", off, ms->bytes);
		return -EPROTO;
	}
	ret = pss_query_count(snap, PSS_QUERY_MEMORY, &ci);
	if (ret) {
		pss_seterr("count query: %s", strerror(-ret));
		return ret;
	}
	if (ci.count != ms->n || ci.bytes != ms->bytes || ci.max_rec_len != max_len) {
		pss_seterr("count query %llu/%llu/%llu, walk %zu/%zu/%zu",
			   (unsigned long long)ci.count, (unsigned long long)ci.bytes,
			   (unsigned long long)ci.max_rec_len, ms->n, ms->bytes, max_len);
		return -EPROTO;
	}
	return mem_check(ms);
}

/* Merged spans [s[i], e[i]) of the records with any of @mask (and @tid). */
struct spans {
	size_t n;
	unsigned long long s[4096], e[4096];
};

static void mem_spans(const struct mem_snap *ms, __u32 mask, pid_t tid,
		      struct spans *sp)
{
	size_t i;

	sp->n = 0;
	for (i = 0; i < ms->n; i++) {
		const struct pss_memory_entry *r = ms->rec[i];

		if (!(r->flags & mask) || (tid && r->tid != tid))
			continue;
		if (sp->n && sp->e[sp->n - 1] == r->addr) {
			sp->e[sp->n - 1] += r->data_len;
		} else if (sp->n < 4096) {
			sp->s[sp->n] = r->addr;
			sp->e[sp->n] = r->addr + r->data_len;
			sp->n++;
		}
	}
}

/* Bytes of the records inside [a, b). */
static unsigned long long mem_overlap(const struct mem_snap *ms,
				      unsigned long long a, unsigned long long b)
{
	unsigned long long n = 0;
	size_t i;

	for (i = 0; i < ms->n; i++) {
		unsigned long long s = ms->rec[i]->addr;
		unsigned long long e = s + ms->rec[i]->data_len;

		if (s < a)
			s = a;
		if (e > b)
			e = b;
		if (s < e)
			n += e - s;
	}
	return n;
}

/* Copy [a, a + len) out of the records: 0, or -ENOENT if not all there. */
static int mem_read(const struct mem_snap *ms, unsigned long long a, size_t len,
		    unsigned char *out)
{
	unsigned long long b = a + len, got = 0;
	size_t i;

	for (i = 0; i < ms->n; i++) {
		const struct pss_memory_entry *r = ms->rec[i];
		unsigned long long s = r->addr, e = s + r->data_len;

		if (s < a)
			s = a;
		if (e > b)
			e = b;
		if (s >= e)
			continue;
		memcpy(out + (s - a), mem_data(r) + (s - r->addr), e - s);
		got += e - s;
	}
	return got == len ? 0 : -ENOENT;
}

/*
 * The target's bytes at [a, a + len), as process_vm_readv() reads them, or
 * /proc/PID/mem on a kernel built without it (the debug kernels: no
 * CONFIG_CROSS_MEMORY_ATTACH).
 */
static int readv_target(pid_t pid, unsigned long long a, size_t len, void *out)
{
	struct iovec l = { out, len }, r = { (void *)(uintptr_t)a, len };
	char path[64];
	ssize_t n;
	int fd;

	n = process_vm_readv(pid, &l, 1, &r, 1, 0);
	if (n >= 0 || errno != ENOSYS)
		return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, out, len, a);
	close(fd);
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

/* ---------------------------------------------------------- capture */

/* The park's timeout for the captures of a test (0: the default). */
static __u32 quiesce_ms;

static int capture_mem(pid_t pid, __u64 facets, __u32 mflags, __u32 stack_bytes,
		       const struct pss_memory_range *r, __u32 nr)
{
	struct pss_capture_args a;
	int dev = pss_open_dev(), ret;

	if (dev < 0)
		return -errno;
	pss_capture_init(&a, pid, facets);
	a.quiesce_timeout_ms = quiesce_ms;
	a.memory_flags = mflags;
	a.stack_bytes = stack_bytes;
	a.nr_ranges = nr;
	a.ranges = (uintptr_t)r;
	ret = pss_capture_args(dev, &a);
	close(dev);
	return ret;
}

static unsigned long long snap_bytes(int snap)
{
	struct pss_snapshot_info si;

	return pss_query_snapshot(snap, &si) ? 0 : si.memory_bytes;
}

static int write_param(const char *path, unsigned long long val)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CLOEXEC), len, ok;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%llu", val);
	ok = write(fd, buf, len) == len;
	close(fd);
	return ok ? 0 : -EIO;
}

static unsigned long long read_param(const char *path)
{
	char *s = pss_read_file(path, NULL);
	unsigned long long v = s ? strtoull(s, NULL, 0) : 0;

	free(s);
	return v;
}

/* -------------------------------------------------- threaded target */

struct mt_shared {
	pid_t tid[NR_THREADS + 1];	/* [0]: the main thread */
	unsigned long mark[NR_THREADS + 1]; /* each thread's mark, on its stack */
	int started;
};

static void fill_mark(unsigned char *p, int idx)
{
	int i;

	for (i = 0; i < MARK_LEN; i++)
		p[i] = (unsigned char)(0x5a ^ (idx * 37) ^ (i * 11));
}

struct mt_arg {
	struct mt_shared *sh;
	int idx;
	bool spin;
};

static void *mt_thread(void *p)
{
	struct mt_arg *a = p;
	volatile unsigned char mark[MARK_LEN];
	volatile unsigned long n = 0;

	fill_mark((unsigned char *)mark, a->idx);
	a->sh->mark[a->idx] = (unsigned long)mark;
	a->sh->tid[a->idx] = sys_gettid();
	__atomic_add_fetch(&a->sh->started, 1, __ATOMIC_SEQ_CST);
	if (a->spin)
		for (;;)
			n++;		/* in user mode: parked by pss */
	for (;;)
		pause();
	return NULL;
}

/*
 * The main thread, NR_THREADS - 2 threads on pthread stacks, and two on
 * stacks of their own, one right above the other in one VMA, under a
 * readable page of another VMA: the stack kept must end at its VMA, not
 * run on into that page, and the lower thread's must end where the upper
 * one's begins (in one page: two records). @arg: spin in user mode
 * instead of sleeping.
 */
static int mt_target_setup(void *shared, void *arg)
{
	static struct mt_arg args[NR_THREADS + 1];
	static volatile unsigned char mark[MARK_LEN];
	struct mt_shared *sh = shared;
	pthread_attr_t attr;
	pthread_t t;
	char *stack;
	int i;

	fill_mark((unsigned char *)mark, 0);
	sh->tid[0] = sys_gettid();
	stack = mmap(NULL, 33 * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED || mprotect(stack + 32 * PG, PG, PROT_READ))
		return 4;
	for (i = 1; i <= NR_THREADS; i++) {
		args[i].sh = sh;
		args[i].idx = i;
		args[i].spin = arg;
		if (pthread_attr_init(&attr))
			return 3;
		if (i >= NR_THREADS - 1 &&
		    pthread_attr_setstack(&attr, stack + (i - NR_THREADS + 1) * 16 * PG,
					  16 * PG))
			return 3;
		if (pthread_create(&t, &attr, mt_thread, &args[i]))
			return 3;
		pthread_attr_destroy(&attr);
	}
	while (__atomic_load_n(&sh->started, __ATOMIC_SEQ_CST) < NR_THREADS)
		usleep(1000);
	return 0;
}

/* The user stack pointer of a stopped thread: the syscall file's "sp". */
static unsigned long long thread_sp(pid_t pid, pid_t tid)
{
	char *s = pss_read_fmt(NULL, "/proc/%d/task/%d/syscall", pid, tid), *p;
	unsigned long long sp = 0;

	if (!s)
		return 0;
	p = strrchr(s, ' ');		/* " pc" */
	if (p) {
		*p = '\0';
		p = strrchr(s, ' ');	/* " sp" */
		if (p)
			sp = strtoull(p + 1, NULL, 16);
	}
	free(s);
	return sp;
}

/* The VMA of @pid holding @addr, from /proc/PID/maps. */
static int vma_of(pid_t pid, unsigned long long addr, unsigned long long *s,
		  unsigned long long *e, char perms[5])
{
	char *maps = pss_read_fmt(NULL, "/proc/%d/maps", pid), *line, *save = NULL;
	int ret = -ENOENT;

	if (!maps)
		return -errno;
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%llx-%llx %4s", s, e, perms) != 3)
			continue;
		if (*s <= addr && addr < *e) {
			ret = 0;
			break;
		}
	}
	free(maps);
	return ret;
}

FIXTURE(mt) {
	struct pss_target t;
	struct mt_shared *sh;
};

FIXTURE_SETUP(mt)
{
	ASSERT_EQ(0, pss_target_start(&self->t, mt_target_setup, NULL, 0, true))
		TH_LOG("%s", pss_err);
	self->sh = self->t.shared;
}

FIXTURE_TEARDOWN(mt)
{
	pss_target_stop(&self->t);
}

/*
 * Every thread's stack: from sp - 128 up stack_bytes, clipped to its VMA,
 * under its tid, bytes equal to process_vm_readv(), its mark inside.
 */
static void check_stacks(struct __test_metadata *_metadata, pid_t pid,
			 const struct mt_shared *sh, __u32 stack_bytes)
{
	unsigned long long los[NR_THREADS + 1], his[NR_THREADS + 1];
	unsigned char *want, *got;
	struct spans sp;
	struct mem_snap ms;
	int snap, i, j;

	snap = capture_mem(pid, FACETS, PSS_MEMORY_STACKS, stack_bytes, NULL, 0);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, mem_walk(snap, &ms)) TH_LOG("%s", pss_err);
	close(snap);
	if (!stack_bytes)
		stack_bytes = PSS_STACK_BYTES_DEFAULT;
	want = malloc(stack_bytes);
	got = malloc(stack_bytes);
	ASSERT_TRUE(want && got);
	for (i = 0; i <= NR_THREADS; i++) {
		unsigned long long sptr = thread_sp(pid, sh->tid[i]), vs, ve;
		char perms[5];

		ASSERT_NE(0, sptr) TH_LOG("no sp for thread %d", sh->tid[i]);
		ASSERT_EQ(0, vma_of(pid, sptr, &vs, &ve, perms));
		los[i] = sptr - 128 < vs ? vs : sptr - 128;
		his[i] = los[i] + stack_bytes > ve ? ve : los[i] + stack_bytes;
	}
	/* a window running on into the stack of the thread above ends there */
	for (i = 0; i <= NR_THREADS; i++)
		for (j = 0; j <= NR_THREADS; j++)
			if (los[j] > los[i] && los[j] < his[i])
				his[i] = los[j];
	/* the two own stacks: the lower one's window reaches the upper one */
	if (stack_bytes >= 16 * PG)
		ASSERT_EQ(los[NR_THREADS], his[NR_THREADS - 1]);
	for (i = 0; i <= NR_THREADS; i++) {
		unsigned long long sptr = thread_sp(pid, sh->tid[i]), lo = los[i], hi = his[i];
		mem_spans(&ms, PSS_MEMORY_ENTRY_STACK, sh->tid[i], &sp);
		ASSERT_EQ(1, sp.n) TH_LOG("thread %d (sp %#llx): %zu stack spans",
					  sh->tid[i], sptr, sp.n);
		EXPECT_EQ(lo, sp.s[0]) TH_LOG("thread %d: sp %#llx", sh->tid[i], sptr);
		EXPECT_EQ(hi, sp.e[0]) TH_LOG("thread %d: sp %#llx", sh->tid[i], sptr);
		ASSERT_EQ(0, mem_read(&ms, lo, hi - lo, got));
		ASSERT_EQ(0, readv_target(pid, lo, hi - lo, want));
		EXPECT_EQ(0, memcmp(want, got, hi - lo))
			TH_LOG("thread %d: captured stack differs from process_vm_readv", sh->tid[i]);
		/* a thread's mark is in its own stack (the main thread's is static) */
		if (i) {
			unsigned char mark[MARK_LEN];

			fill_mark(mark, i);
			ASSERT_LE(lo, sh->mark[i]);
			ASSERT_GE(hi, sh->mark[i] + MARK_LEN) TH_LOG("mark beyond the stack kept");
			EXPECT_EQ(0, memcmp(mark, got + (sh->mark[i] - lo), MARK_LEN));
		}
	}
	/* nothing but stacks, and only of these threads */
	for (size_t k = 0; k < ms.n; k++) {
		EXPECT_EQ(PSS_MEMORY_ENTRY_STACK, ms.rec[k]->flags);
		for (j = 0; j <= NR_THREADS; j++)
			if (ms.rec[k]->tid == sh->tid[j])
				break;
		EXPECT_GE(NR_THREADS, j) TH_LOG("record of tid %d", ms.rec[k]->tid);
	}
	free(want);
	free(got);
	mem_free(&ms);
}

TEST_F(mt, stacks_default_size)
{
	check_stacks(_metadata, self->t.pid, self->sh, 0);
}

TEST_F(mt, stacks_small_size)
{
	check_stacks(_metadata, self->t.pid, self->sh, 8192);
}

/* stack_bytes beyond the top of a thread's stack: clipped to its VMA */
TEST_F(mt, stacks_clipped_to_vma)
{
	check_stacks(_metadata, self->t.pid, self->sh, PSS_STACK_BYTES_MAX);
}

/*
 * A running target, its threads spinning in user mode (parked by pss) or
 * asleep (the main thread, in read()): each thread's stack, under its tid,
 * holds its mark.
 */
TEST(stacks_of_running_threads)
{
	struct pss_target t;
	struct mt_shared *sh;
	struct mem_snap ms;
	struct spans sp;
	int snap, i;

	ASSERT_EQ(0, pss_target_start(&t, mt_target_setup, (void *)1, 0, false))
		TH_LOG("%s", pss_err);
	sh = t.shared;
	quiesce_ms = 5000;
	snap = capture_mem(t.pid, FACETS, PSS_MEMORY_STACKS, 0, NULL, 0);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, mem_walk(snap, &ms)) TH_LOG("%s", pss_err);
	close(snap);
	for (i = 0; i <= NR_THREADS; i++) {
		unsigned char mark[MARK_LEN], got[MARK_LEN];

		mem_spans(&ms, PSS_MEMORY_ENTRY_STACK, sh->tid[i], &sp);
		EXPECT_EQ(1, sp.n) TH_LOG("thread %d: %zu stack spans", sh->tid[i], sp.n);
		if (!i || sp.n != 1)
			continue;
		fill_mark(mark, i);
		ASSERT_EQ(0, mem_read(&ms, sh->mark[i], MARK_LEN, got))
			TH_LOG("thread %d: mark not in the stack kept", sh->tid[i]);
		EXPECT_EQ(0, memcmp(mark, got, MARK_LEN));
	}
	mem_free(&ms);
	pss_target_stop(&t);
}

/* A sibling of the caller: its mark on its stack, then blocked in read(). */
struct sib {
	int fd;
	pid_t tid;
	unsigned long mark;
	int ready;
};

static void *sib_thread(void *p)
{
	struct sib *sb = p;
	volatile unsigned char mark[MARK_LEN];
	char c;

	fill_mark((unsigned char *)mark, 7);
	sb->mark = (unsigned long)mark;
	sb->tid = sys_gettid();
	__atomic_store_n(&sb->ready, 1, __ATOMIC_SEQ_CST);
	while (read(sb->fd, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/*
 * Self-capture: the calling thread's stack as it was at the ioctl (a mark
 * in this frame is in it, under this thread's tid), and a sibling's, held
 * in the kernel meanwhile, under its tid.
 */
TEST(self_stack)
{
	volatile unsigned char mark[MARK_LEN];
	unsigned char got[MARK_LEN], want[MARK_LEN];
	unsigned long long a = (unsigned long)mark;
	struct sib sb = { 0 };
	struct mem_snap ms;
	struct spans sp;
	int snap, p[2];
	pthread_t th;

	ASSERT_EQ(0, pipe(p));
	sb.fd = p[0];
	ASSERT_EQ(0, pthread_create(&th, NULL, sib_thread, &sb));
	while (!__atomic_load_n(&sb.ready, __ATOMIC_SEQ_CST))
		usleep(1000);
	fill_mark((unsigned char *)mark, 9);
	snap = capture_mem(0, FACETS, PSS_MEMORY_STACKS, 0, NULL, 0);
	ASSERT_EQ(1, write(p[1], "x", 1));
	pthread_join(th, NULL);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, mem_walk(snap, &ms)) TH_LOG("%s", pss_err);
	close(snap);
	mem_spans(&ms, PSS_MEMORY_ENTRY_STACK, sys_gettid(), &sp);
	ASSERT_EQ(1, sp.n);
	EXPECT_LE(sp.s[0], a);
	EXPECT_GE(sp.e[0], a + MARK_LEN);
	ASSERT_EQ(0, mem_read(&ms, a, MARK_LEN, got));
	EXPECT_EQ(0, memcmp((const void *)mark, got, MARK_LEN));
	/* the sibling */
	mem_spans(&ms, PSS_MEMORY_ENTRY_STACK, sb.tid, &sp);
	ASSERT_EQ(1, sp.n);
	ASSERT_EQ(0, mem_read(&ms, sb.mark, MARK_LEN, got));
	fill_mark(want, 7);
	EXPECT_EQ(0, memcmp(want, got, MARK_LEN));
	mem_free(&ms);
	close(p[0]);
	close(p[1]);
}

/* ------------------------------------------------------- map target */

enum { M_A, M_NONE, M_HOLE, M_PRIV, M_SHARED, M_RO, M_DONTDUMP, M_ZERO,
       M_DISTINCT, M_UNTOUCHED, M_BIG, M_SAME, M_SPARSE, M_NR };

/* of M_ZERO, M_DISTINCT, M_UNTOUCHED, M_SAME, M_SPARSE */
#define M_PAGES		64

struct map_shared {
	unsigned long addr[M_NR];
	unsigned long len[M_NR];
};

static unsigned char pat(unsigned long addr, int kind)
{
	return (unsigned char)((addr * 131) ^ (addr >> 12) ^ (kind * 71) ^ 0xa5);
}

static void fill(unsigned char *p, unsigned long len, int kind)
{
	unsigned long i;

	for (i = 0; i < len; i++)
		p[i] = pat((unsigned long)(p + i), kind);
}

static int map_target_setup(void *shared, void *arg)
{
	struct map_shared *sh = shared;
	unsigned char *p;
	unsigned long i;

	(void)arg;
#define MAP(k, n, prot, flags) do {						\
		p = mmap(NULL, (n) * PG, (prot), (flags) | MAP_ANONYMOUS, -1, 0); \
		if (p == MAP_FAILED)						\
			return 3;						\
		sh->addr[k] = (unsigned long)p;					\
		sh->len[k] = (n) * PG;						\
	} while (0)
	MAP(M_A, 4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	fill(p, 4 * PG, M_A);
	/* 3 pages, the middle one PROT_NONE */
	MAP(M_NONE, 3, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	fill(p, 3 * PG, M_NONE);
	if (mprotect(p + PG, PG, PROT_NONE))
		return 4;
	/* 3 pages, the middle one unmapped */
	MAP(M_HOLE, 3, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	fill(p, 3 * PG, M_HOLE);
	if (munmap(p + PG, PG))
		return 5;
	MAP(M_PRIV, 3, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	fill(p, 3 * PG, M_PRIV);
	MAP(M_SHARED, 3, PROT_READ | PROT_WRITE, MAP_SHARED);
	fill(p, 3 * PG, M_SHARED);
	MAP(M_RO, 2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	fill(p, 2 * PG, M_RO);
	if (mprotect(p, 2 * PG, PROT_READ))
		return 6;
	MAP(M_DONTDUMP, 2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	fill(p, 2 * PG, M_DONTDUMP);
	if (madvise(p, 2 * PG, MADV_DONTDUMP))
		return 7;
	/* written, then zeroed: real pages, all zero */
	MAP(M_ZERO, M_PAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	for (i = 0; i < M_PAGES; i++) {
		p[i * PG] = 1;
		p[i * PG] = 0;
	}
	MAP(M_DISTINCT, M_PAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	fill(p, M_PAGES * PG, M_DISTINCT);
	/* never touched: holes */
	MAP(M_UNTOUCHED, M_PAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
	MAP(M_BIG, (1UL << 30) / PG, PROT_READ, MAP_PRIVATE | MAP_NORESERVE);
	/* one page's bytes over and over; in the second half one byte differs */
	MAP(M_SAME, M_PAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	fill(p, PG, M_SAME);
	for (i = 1; i < M_PAGES; i++)
		memcpy(p + i * PG, p, PG);
	for (i = M_PAGES / 2; i < M_PAGES; i++)
		p[i * PG + 100] ^= (unsigned char)i;
	/* zeros but for one byte a page, each at another offset */
	MAP(M_SPARSE, M_PAGES, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	for (i = 0; i < M_PAGES; i++)
		p[i * PG + (i * 67 + 13) % PG] = (unsigned char)(i + 1);
#undef MAP
	return 0;
}

FIXTURE(maps) {
	struct pss_target t;
	struct map_shared *sh;
	unsigned long long snap_max;
};

FIXTURE_SETUP(maps)
{
	ASSERT_EQ(0, pss_target_start(&self->t, map_target_setup, NULL, 0, true))
		TH_LOG("%s", pss_err);
	self->sh = self->t.shared;
	self->snap_max = read_param(PARAM_SNAP);
	ASSERT_NE(0, self->snap_max);
}

FIXTURE_TEARDOWN(maps)
{
	write_param(PARAM_SNAP, self->snap_max);
	pss_target_stop(&self->t);
}

static int capture_ranges(pid_t pid, const struct pss_memory_range *r, __u32 nr,
			  struct mem_snap *ms)
{
	int snap = capture_mem(pid, FACETS, PSS_MEMORY_RANGES, 0, r, nr), ret;

	if (snap < 0) {
		pss_seterr("capture: %s", strerror(-snap));
		return snap;
	}
	ret = mem_walk(snap, ms);
	close(snap);
	return ret;
}

/* The records equal the spans given, and the target's bytes there. */
static void expect_spans(struct __test_metadata *_metadata, pid_t pid,
			 const struct mem_snap *ms, const unsigned long long *s,
			 const unsigned long long *e, size_t n)
{
	struct spans sp;
	size_t i;

	mem_spans(ms, PSS_MEMORY_ENTRY_RANGE, 0, &sp);
	ASSERT_EQ(n, sp.n);
	for (i = 0; i < n; i++) {
		unsigned char *want = malloc(e[i] - s[i]), *got = malloc(e[i] - s[i]);

		EXPECT_EQ(s[i], sp.s[i]) TH_LOG("span %zu", i);
		EXPECT_EQ(e[i], sp.e[i]) TH_LOG("span %zu", i);
		ASSERT_EQ(0, mem_read(ms, s[i], e[i] - s[i], got));
		ASSERT_EQ(0, readv_target(pid, s[i], e[i] - s[i], want));
		EXPECT_EQ(0, memcmp(want, got, e[i] - s[i])) TH_LOG("span %zu bytes", i);
		free(want);
		free(got);
	}
	for (i = 0; i < ms->n; i++)
		EXPECT_EQ(PSS_MEMORY_ENTRY_RANGE, ms->rec[i]->flags);
}

/* Unaligned start and length: records of the parts of pages asked for. */
TEST_F(maps, ranges_unaligned)
{
	unsigned long long a = self->sh->addr[M_A];
	struct pss_memory_range r[] = { { a + 100, 2 * PG + 50 } };
	unsigned long long s[] = { a + 100 }, e[] = { a + 2 * PG + 150 };
	struct mem_snap ms;

	ASSERT_EQ(0, capture_ranges(self->t.pid, r, 1, &ms)) TH_LOG("%s", pss_err);
	expect_spans(_metadata, self->t.pid, &ms, s, e, 1);
	/* one record per page touched: its first and last are partial */
	ASSERT_EQ(3, ms.n);
	EXPECT_EQ(PG - 100, ms.rec[0]->data_len);
	EXPECT_EQ(PG, ms.rec[1]->data_len);
	EXPECT_EQ(150, ms.rec[2]->data_len);
	mem_free(&ms);
}

/* Overlapping ranges give each byte once; two in one page two records. */
TEST_F(maps, ranges_overlap_once)
{
	unsigned long long a = self->sh->addr[M_A];
	struct pss_memory_range r[] = {
		{ a + PG + 100, 1000 }, { a + 10, 200 }, { a + 100, 300 },
		{ a + PG + 500, 2000 }, { a + PG + 3000, 10 },
	};
	unsigned long long s[] = { a + 10, a + PG + 100, a + PG + 3000 };
	unsigned long long e[] = { a + 400, a + PG + 2500, a + PG + 3010 };
	struct mem_snap ms;

	ASSERT_EQ(0, capture_ranges(self->t.pid, r, 5, &ms)) TH_LOG("%s", pss_err);
	expect_spans(_metadata, self->t.pid, &ms, s, e, 3);
	EXPECT_EQ(3, ms.n);
	mem_free(&ms);
}

/* A PROT_NONE page inside a range is left out. */
TEST_F(maps, ranges_prot_none_left_out)
{
	unsigned long long a = self->sh->addr[M_NONE];
	struct pss_memory_range r[] = { { a + 8, 3 * PG - 16 } };
	unsigned long long s[] = { a + 8, a + 2 * PG };
	unsigned long long e[] = { a + PG, a + 3 * PG - 8 };
	struct mem_snap ms;

	ASSERT_EQ(0, capture_ranges(self->t.pid, r, 1, &ms)) TH_LOG("%s", pss_err);
	expect_spans(_metadata, self->t.pid, &ms, s, e, 2);
	EXPECT_EQ(0, mem_overlap(&ms, a + PG, a + 2 * PG));
	mem_free(&ms);
}

/* A range partly unmapped: the mapped parts only. */
TEST_F(maps, ranges_partly_unmapped)
{
	unsigned long long a = self->sh->addr[M_HOLE];
	struct pss_memory_range r[] = { { a, 3 * PG } };
	unsigned long long s[] = { a, a + 2 * PG };
	unsigned long long e[] = { a + PG, a + 3 * PG };
	struct mem_snap ms;

	ASSERT_EQ(0, capture_ranges(self->t.pid, r, 1, &ms)) TH_LOG("%s", pss_err);
	expect_spans(_metadata, self->t.pid, &ms, s, e, 2);
	mem_free(&ms);
}

/* A range over nothing mapped: a snapshot with no records. */
TEST_F(maps, ranges_unmapped_empty)
{
	unsigned long long a = self->sh->addr[M_HOLE];
	struct pss_memory_range r[] = { { a + PG, PG } };
	struct mem_snap ms;

	ASSERT_EQ(0, capture_ranges(self->t.pid, r, 1, &ms)) TH_LOG("%s", pss_err);
	EXPECT_EQ(0, ms.n);
	mem_free(&ms);
}

/* Is the page at @addr of @pid present (/proc/PID/pagemap bit 63)? */
static int page_present(pid_t pid, unsigned long long addr)
{
	char path[64];
	__u64 ent;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, &ent, sizeof(ent), (addr / PG) * sizeof(ent)) != sizeof(ent)) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return !!(ent >> 63);
}

/*
 * WRITABLE: the private writable mapping with its pattern, every byte of
 * every anonymous private writable VMA; no shared, read-only or
 * MADV_DONTDUMP byte; untouched pages read as zeros and stay unmapped.
 */
TEST_F(maps, writable)
{
	const struct map_shared *sh = self->sh;
	unsigned long long ps = sh->addr[M_PRIV], u = sh->addr[M_UNTOUCHED];
	unsigned char *got = malloc(M_PAGES * PG), *want = malloc(3 * PG);
	char *maps, *line, *save = NULL;
	struct mem_snap ms;
	int snap, i, n, anon = 0;

	ASSERT_TRUE(got && want);
	for (i = 0; i < M_PAGES; i++)
		ASSERT_EQ(0, page_present(self->t.pid, u + i * PG));
	snap = capture_mem(self->t.pid, FACETS, PSS_MEMORY_WRITABLE, 0, NULL, 0);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, mem_walk(snap, &ms)) TH_LOG("%s", pss_err);
	close(snap);

	ASSERT_EQ(0, mem_read(&ms, ps, 3 * PG, got));
	for (i = 0; i < (int)(3 * PG); i++)
		want[i] = pat(ps + i, M_PRIV);
	EXPECT_EQ(0, memcmp(want, got, 3 * PG));
	EXPECT_EQ(0, mem_overlap(&ms, sh->addr[M_SHARED], sh->addr[M_SHARED] + sh->len[M_SHARED]));
	EXPECT_EQ(0, mem_overlap(&ms, sh->addr[M_RO], sh->addr[M_RO] + sh->len[M_RO]));
	EXPECT_EQ(0, mem_overlap(&ms, sh->addr[M_DONTDUMP],
				 sh->addr[M_DONTDUMP] + sh->len[M_DONTDUMP]));
	/* holes: zeros, and not faulted in by the capture */
	ASSERT_EQ(0, mem_read(&ms, u, M_PAGES * PG, got));
	for (i = 0, n = 0; i < (int)(M_PAGES * PG); i++)
		n += got[i] != 0;
	EXPECT_EQ(0, n) TH_LOG("%d bytes of untouched pages not zero", n);
	for (i = 0, n = 0; i < M_PAGES; i++)
		n += page_present(self->t.pid, u + i * PG) != 0;
	EXPECT_EQ(0, n) TH_LOG("%d untouched pages present after the capture", n);

	/* every anonymous rw-p VMA (no DONTDUMP here but M_DONTDUMP's) whole */
	maps = pss_read_fmt(NULL, "/proc/%d/maps", self->t.pid);
	ASSERT_NE(NULL, maps);
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long s, e, ino;
		char perms[5];
		int n = 0;

		if (sscanf(line, "%llx-%llx %4s %*x %*x:%*x %llu %n", &s, &e, perms, &ino, &n) < 4)
			continue;
		if (strcmp(perms, "rw-p") || ino || s == sh->addr[M_DONTDUMP])
			continue;
		anon++;
		EXPECT_EQ(e - s, mem_overlap(&ms, s, e)) TH_LOG("%s", line);
	}
	EXPECT_LT(3, anon);
	for (size_t k = 0; k < ms.n; k++)
		EXPECT_EQ(PSS_MEMORY_ENTRY_WRITABLE, ms.rec[k]->flags);
	free(maps);
	free(got);
	free(want);
	mem_free(&ms);
}

/* Reasons OR'ed: a range inside writable memory is one record per page. */
TEST_F(maps, reasons_ored)
{
	unsigned long long a = self->sh->addr[M_PRIV];
	struct pss_memory_range r[] = { { a + PG + 10, 20 } };
	struct mem_snap ms;
	size_t i, n = 0;
	int snap;

	snap = capture_mem(self->t.pid, FACETS, PSS_MEMORY_WRITABLE | PSS_MEMORY_RANGES,
			   0, r, 1);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, mem_walk(snap, &ms)) TH_LOG("%s", pss_err);
	close(snap);
	for (i = 0; i < ms.n; i++) {
		const struct pss_memory_entry *e = ms.rec[i];

		if (e->addr == a + PG) {
			n++;
			EXPECT_EQ(PSS_MEMORY_ENTRY_WRITABLE | PSS_MEMORY_ENTRY_RANGE, e->flags);
			EXPECT_EQ(PG, e->data_len);
		} else {
			EXPECT_EQ(PSS_MEMORY_ENTRY_WRITABLE, e->flags)
				TH_LOG("%#llx", (unsigned long long)e->addr);
		}
	}
	EXPECT_EQ(1, n);
	mem_free(&ms);
}

/*
 * Equal pages are kept once: 64 zero pages cost far less than their
 * bytes, 64 distinct pages at least theirs.
 */
TEST_F(maps, zero_pages_dedup)
{
	struct pss_memory_range one = { self->sh->addr[M_A], 1 };
	struct pss_memory_range zero = { self->sh->addr[M_ZERO], M_PAGES * PG };
	struct pss_memory_range dist = { self->sh->addr[M_DISTINCT], M_PAGES * PG };
	unsigned long long base, z, d;
	int s0, s1, s2;

	s0 = capture_mem(self->t.pid, FACETS, PSS_MEMORY_RANGES, 0, &one, 1);
	s1 = capture_mem(self->t.pid, FACETS, PSS_MEMORY_RANGES, 0, &zero, 1);
	s2 = capture_mem(self->t.pid, FACETS, PSS_MEMORY_RANGES, 0, &dist, 1);
	ASSERT_LE(0, s0);
	ASSERT_LE(0, s1);
	ASSERT_LE(0, s2);
	base = snap_bytes(s0);
	z = snap_bytes(s1);
	d = snap_bytes(s2);
	TH_LOG("memory_bytes: 1 byte %llu, %lu zero pages %llu, %lu distinct pages %llu",
	       base, M_PAGES, z, M_PAGES, d);
	EXPECT_LT(z - base, M_PAGES * PG / 4);
	EXPECT_GE(d - base, M_PAGES * PG);
	{
		struct mem_snap ms;

		ASSERT_EQ(0, mem_walk(s1, &ms)) TH_LOG("%s", pss_err);
		EXPECT_EQ(M_PAGES, ms.n);
		size_t nz = 0;

		for (size_t i = 0; i < ms.n; i++)
			for (size_t k = 0; k < ms.rec[i]->data_len; k++)
				nz += mem_data(ms.rec[i])[k] != 0;
		EXPECT_EQ(0, nz);
		mem_free(&ms);
	}
	close(s0);
	close(s1);
	close(s2);
}

/*
 * Equal pages that are not zeros are kept once too, and pages that differ
 * in one byte only are each kept, with their own bytes.
 */
TEST_F(maps, equal_pages_dedup)
{
	struct pss_memory_range one = { self->sh->addr[M_A], 1 };
	struct pss_memory_range same = { self->sh->addr[M_SAME], M_PAGES * PG };
	struct pss_memory_range dist = { self->sh->addr[M_DISTINCT], M_PAGES * PG };
	unsigned char *want = malloc(M_PAGES * PG), *got = malloc(M_PAGES * PG);
	unsigned long long base, b, d;
	struct mem_snap ms;
	unsigned long i;
	int s0, s1, s2;

	ASSERT_TRUE(want && got);
	s0 = capture_mem(self->t.pid, FACETS, PSS_MEMORY_RANGES, 0, &one, 1);
	s1 = capture_mem(self->t.pid, FACETS, PSS_MEMORY_RANGES, 0, &same, 1);
	s2 = capture_mem(self->t.pid, FACETS, PSS_MEMORY_RANGES, 0, &dist, 1);
	ASSERT_LE(0, s0);
	ASSERT_LE(0, s1);
	ASSERT_LE(0, s2);
	base = snap_bytes(s0);
	b = snap_bytes(s1);
	d = snap_bytes(s2);
	TH_LOG("memory_bytes: 1 byte %llu, %lu pages, half of them equal, %llu; %lu distinct %llu",
	       base, M_PAGES, b, M_PAGES, d);
	/*
	 * Against as many distinct pages, in the same chunks of kept bytes
	 * (a 64 KiB chunk holds 15 pages): about half.
	 */
	EXPECT_GE(b - base, M_PAGES / 2 * PG);
	EXPECT_LT(b - base, (d - base) * 3 / 4);
	ASSERT_EQ(0, mem_walk(s1, &ms)) TH_LOG("%s", pss_err);
	EXPECT_EQ(M_PAGES, ms.n);
	ASSERT_EQ(0, mem_read(&ms, same.start, M_PAGES * PG, got));
	ASSERT_EQ(0, readv_target(self->t.pid, same.start, M_PAGES * PG, want));
	for (i = 0; i < M_PAGES; i++) {
		EXPECT_EQ(0, memcmp(want + i * PG, got + i * PG, PG))
			TH_LOG("page %lu", i);
	}
	mem_free(&ms);
	free(want);
	free(got);
	close(s0);
	close(s1);
	close(s2);
}

/* Pages of zeros but for one byte are not taken for zeros. */
TEST_F(maps, sparse_pages)
{
	struct pss_memory_range r = { self->sh->addr[M_SPARSE], M_PAGES * PG };
	unsigned char *want = malloc(M_PAGES * PG), *got = malloc(M_PAGES * PG);
	struct mem_snap ms;
	unsigned long i;

	ASSERT_TRUE(want && got);
	ASSERT_EQ(0, capture_ranges(self->t.pid, &r, 1, &ms)) TH_LOG("%s", pss_err);
	EXPECT_EQ(M_PAGES, ms.n);
	ASSERT_EQ(0, mem_read(&ms, r.start, M_PAGES * PG, got));
	ASSERT_EQ(0, readv_target(self->t.pid, r.start, M_PAGES * PG, want));
	for (i = 0; i < M_PAGES; i++) {
		EXPECT_EQ(0, memcmp(want + i * PG, got + i * PG, PG))
			TH_LOG("page %lu", i);
	}
	mem_free(&ms);
	free(want);
	free(got);
}

/* Memory is charged: a small max_snapshot_bytes gives ENOBUFS. */
TEST_F(maps, enobufs)
{
	struct pss_memory_range one = { self->sh->addr[M_A], 1 };
	struct pss_memory_range dist = { self->sh->addr[M_DISTINCT], M_PAGES * PG };
	unsigned long long base;
	int snap;

	snap = capture_mem(self->t.pid, FACETS, PSS_MEMORY_RANGES, 0, &one, 1);
	ASSERT_LE(0, snap);
	base = snap_bytes(snap);
	close(snap);
	/* room for the records, not for the bytes */
	ASSERT_EQ(0, write_param(PARAM_SNAP, base + M_PAGES * PG / 2));
	snap = capture_mem(self->t.pid, FACETS, PSS_MEMORY_RANGES, 0, &dist, 1);
	EXPECT_EQ(-ENOBUFS, snap);
	if (snap >= 0)
		close(snap);
	/* not even for the records of 1 GiB of holes, which cost no bytes */
	{
		struct pss_memory_range all = { self->sh->addr[M_BIG], self->sh->len[M_BIG] };

		ASSERT_EQ(0, write_param(PARAM_SNAP, base + 4096));
		snap = capture_mem(self->t.pid, FACETS, PSS_MEMORY_RANGES, 0, &all, 1);
		EXPECT_EQ(-ENOBUFS, snap);
		if (snap >= 0)
			close(snap);
	}
	/* and with the limit back, the same capture works */
	ASSERT_EQ(0, write_param(PARAM_SNAP, self->snap_max));
	snap = capture_mem(self->t.pid, FACETS, PSS_MEMORY_RANGES, 0, &dist, 1);
	EXPECT_LE(0, snap);
	if (snap >= 0)
		close(snap);
}

/* Everything at once: reasons per record, order, the count query. */
TEST_F(maps, all_reasons)
{
	struct pss_memory_range r[] = {
		{ self->sh->addr[M_SHARED] + 5, 100 },
		{ self->sh->addr[M_RO], PG },
	};
	struct mem_snap ms;
	int snap;

	/* every reason a record has (PRECOPY is not one: see precopy_*) */
	snap = capture_mem(self->t.pid, FACETS, PSS_MEMORY_FLAGS_ALL & ~PSS_MEMORY_PRECOPY,
			   0, r, 2);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, mem_walk(snap, &ms)) TH_LOG("%s", pss_err);
	close(snap);
	EXPECT_EQ(100, mem_overlap(&ms, self->sh->addr[M_SHARED],
				   self->sh->addr[M_SHARED] + self->sh->len[M_SHARED]));
	EXPECT_EQ(PG, mem_overlap(&ms, self->sh->addr[M_RO],
				  self->sh->addr[M_RO] + self->sh->len[M_RO]));
	mem_free(&ms);
}

/*
 * What pss dump asks for (registers, stacks, all private writable memory)
 * of a target with 32 MiB of distinct pages: every byte of them comes back,
 * and the cost is logged (not asserted: speed belongs to make bench).
 */
#define BIG_PAGES	8192

static int big_target_setup(void *shared, void *arg)
{
	unsigned long *p = mmap(NULL, BIG_PAGES * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long i;

	(void)arg;
	if (p == MAP_FAILED)
		return 3;
	for (i = 0; i < BIG_PAGES * PG / sizeof(*p); i++)
		p[i] = (unsigned long)&p[i] * 0x9e3779b97f4a7c15UL;
	((unsigned long **)shared)[0] = p;
	/* and 64 MiB never touched: holes, read as zeros */
	p = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return 4;
	((unsigned long **)shared)[1] = p;
	return 0;
}

TEST(writable_32m)
{
	struct pss_capture_args a;
	struct pss_perf_info perf;
	struct pss_target t;
	struct mem_snap ms;
	unsigned long long copied = 0, t0, t1, i, bad = 0;
	unsigned long *want;
	struct timespec ts;
	int dev, snap;

	ASSERT_EQ(0, pss_target_start(&t, big_target_setup, NULL, 0, true))
		TH_LOG("%s", pss_err);
	want = malloc(BIG_PAGES * PG);
	ASSERT_NE(NULL, want);
	dev = pss_open_dev();
	ASSERT_LE(0, dev);
	pss_capture_init(&a, t.pid, FACETS | PSS_FACET_THREAD_CONTEXT |
			 PSS_FACET_MEASURE_PERFORMANCE);
	a.memory_flags = PSS_MEMORY_STACKS | PSS_MEMORY_WRITABLE;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	snap = pss_capture_args(dev, &a);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	close(dev);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, mem_walk(snap, &ms)) TH_LOG("%s", pss_err);
	memset(&perf, 0, sizeof(perf));
	ASSERT_EQ(0, ioc_query(snap, PSS_QUERY_PERFORMANCE, &perf, sizeof(perf), NULL));
	for (i = 0; i < ms.n; i++)
		copied += ms.rec[i]->data_len;
	TH_LOG("%zu records, %llu bytes of memory, memory_bytes %llu, ioctl %llu us (in the module %llu us, quiesce %llu us, build %llu us), stall %llu us",
	       ms.n, copied, snap_bytes(snap), (t1 - t0) / 1000,
	       (unsigned long long)perf.phase_ns[PSS_PHASE_TOTAL] / 1000,
	       (unsigned long long)perf.phase_ns[PSS_PHASE_QUIESCE] / 1000,
	       (unsigned long long)perf.phase_ns[PSS_PHASE_BUILD] / 1000,
	       (unsigned long long)perf.stall_ns / 1000);
	{
		unsigned long *p = ((unsigned long **)t.shared)[0];

		ASSERT_EQ(0, mem_read(&ms, (uintptr_t)p, BIG_PAGES * PG, (unsigned char *)want));
		for (i = 0; i < BIG_PAGES * PG / sizeof(*p); i++)
			bad += want[i] != (unsigned long)&p[i] * 0x9e3779b97f4a7c15UL;
		EXPECT_EQ(0, bad);
	}
	close(snap);
	mem_free(&ms);
	{
		struct pss_memory_range r = { (uintptr_t)((unsigned long **)t.shared)[1], 64 << 20 };

		clock_gettime(CLOCK_MONOTONIC, &ts);
		t0 = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
		snap = capture_mem(t.pid, FACETS, PSS_MEMORY_RANGES, 0, &r, 1);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t1 = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
		ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
		ASSERT_EQ(0, mem_walk(snap, &ms)) TH_LOG("%s", pss_err);
		EXPECT_EQ((64 << 20) / PG, ms.n);
		TH_LOG("64 MiB of holes: %zu records, memory_bytes %llu, ioctl %llu us",
		       ms.n, snap_bytes(snap), (t1 - t0) / 1000);
		close(snap);
		mem_free(&ms);
	}
	free(want);
	pss_target_stop(&t);
}

/* ---------------------------------------------------------- pre-copy */

/*
 * PSS_MEMORY_PRECOPY: the caller resets the target's soft-dirty bits
 * first, as pss dump does. 0, or -errno.
 */
static int clear_refs(pid_t pid)
{
	char path[64];
	int fd, ok;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ok = write(fd, "4", 1) == 1;
	close(fd);
	return ok ? 0 : -errno;
}

/* A capture of @pid's memory with its perf info in *@pf: the fd, or -errno. */
static int capture_pf(pid_t pid, __u32 mflags, struct pss_perf_info *pf)
{
	int snap = capture_mem(pid, FACETS | PSS_FACET_MEASURE_PERFORMANCE, mflags, 0,
			       NULL, 0);

	memset(pf, 0, sizeof(*pf));
	if (snap >= 0 && ioc_query(snap, PSS_QUERY_PERFORMANCE, pf, sizeof(*pf), NULL)) {
		close(snap);
		return -EPROTO;
	}
	return snap;
}

/* Bytes of all the records. */
static unsigned long long mem_total(const struct mem_snap *ms)
{
	unsigned long long n = 0;
	size_t i;

	for (i = 0; i < ms->n; i++)
		n += ms->rec[i]->data_len;
	return n;
}

#define PC_BUF		(16UL << 20)
#define PC_TRIES	30

/*
 * A target rewriting pages while it is captured. Each round r of its loop
 * writes r to A (the buffer's first page), to Z, zaps Y (MADV_DONTNEED)
 * and reads it back (the zero page is mapped, its soft-dirty bit clear),
 * writes r into a file whose page F maps privately unwritten (page cache:
 * no soft-dirty bit), r to Y, zaps Z, writes r to B (the buffer's last
 * page). Wherever the park stops it, the memory holds B in {A, A - 1},
 * Z in {0, A}, Y in {0, A, A - 1}, F in {A, A - 1}.
 */
struct pc_shared {
	unsigned long buf, f;
	int fd;
};

static void *pc_loop(void *p)
{
	struct pc_shared *sh = p;
	volatile unsigned long *a = (void *)sh->buf, *z = (void *)(sh->buf + PG);
	volatile unsigned long *y = (void *)(sh->buf + 2 * PG);
	volatile unsigned long *b = (void *)(sh->buf + PC_BUF - PG);
	unsigned long r;

	for (r = 1;; r++) {
		*a = r;
		*z = r;
		madvise((void *)y, PG, MADV_DONTNEED);
		(void)*y;
		/* twice: the park lands as often with Y the zero page as not */
		if (pwrite(sh->fd, &r, sizeof(r), 0) != sizeof(r) ||
		    pwrite(sh->fd, &r, sizeof(r), 0) != sizeof(r))
			abort();
		*y = r;
		madvise((void *)z, PG, MADV_DONTNEED);
		*b = r;
	}
	return NULL;
}

static int pc_target_setup(void *shared, void *arg)
{
	struct pc_shared *sh = shared;
	unsigned long *p, i, zero = 0;
	pthread_t t;

	(void)arg;
	p = mmap(NULL, PC_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 3;
	for (i = 0; i < PC_BUF / sizeof(*p); i += PG / sizeof(*p))
		p[i] = ~i;
	sh->buf = (unsigned long)p;
	sh->fd = memfd_create("pss-precopy", 0);
	if (sh->fd < 0 || pwrite(sh->fd, &zero, sizeof(zero), PG - sizeof(zero)) < 0)
		return 4;
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, sh->fd, 0);
	if (p == MAP_FAILED)
		return 5;
	(void)*(volatile unsigned long *)p;	/* mapped, unwritten */
	sh->f = (unsigned long)p;
	if (pthread_create(&t, NULL, pc_loop, sh))
		return 6;
	while (*(volatile unsigned long *)(sh->buf + PC_BUF - PG) < 2)
		usleep(1000);
	return 0;
}

/*
 * The pre-copy reads the buffer's first pages long before the park (the
 * rest of 16 MiB is in between): a page taken from it though written,
 * zapped or changed through its file since would hold an older round.
 * Taking every page from the pre-copy breaks B; a zapped page (no pte)
 * taken as clean breaks Z; the zero page taken as the frame pre-copied
 * breaks Y; a file mapping pre-copied breaks F. Where the park lands is
 * chance: several captures.
 */
TEST(precopy_consistent_under_writes)
{
	unsigned long a, b, z, y, f;
	struct pss_perf_info pf;
	struct pc_shared *sh;
	struct pss_target t;
	struct mem_snap ms;
	int snap, k;

	ASSERT_EQ(0, pss_target_start(&t, pc_target_setup, NULL, 0, false))
		TH_LOG("%s", pss_err);
	sh = t.shared;
	quiesce_ms = 5000;
	for (k = 0; k < PC_TRIES; k++) {
		ASSERT_EQ(0, clear_refs(t.pid));
		snap = capture_pf(t.pid, PSS_MEMORY_STACKS | PSS_MEMORY_WRITABLE |
				  PSS_MEMORY_PRECOPY, &pf);
		if (snap == -EOPNOTSUPP) {
			pss_target_stop(&t);
			SKIP(return, "no soft-dirty tracking (CONFIG_MEM_SOFT_DIRTY)");
		}
		ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
		ASSERT_EQ(0, mem_walk(snap, &ms)) TH_LOG("%s", pss_err);
		close(snap);
		ASSERT_EQ(0, mem_read(&ms, sh->buf, sizeof(a), (unsigned char *)&a));
		ASSERT_EQ(0, mem_read(&ms, sh->buf + PG, sizeof(z), (unsigned char *)&z));
		ASSERT_EQ(0, mem_read(&ms, sh->buf + 2 * PG, sizeof(y), (unsigned char *)&y));
		ASSERT_EQ(0, mem_read(&ms, sh->buf + PC_BUF - PG, sizeof(b),
				      (unsigned char *)&b));
		ASSERT_EQ(0, mem_read(&ms, sh->f, sizeof(f), (unsigned char *)&f));
		mem_free(&ms);
		/* not vacuous: most of the buffer came from the pre-copy */
		EXPECT_LT(PC_BUF / 2, pf.memory_reused_bytes)
			TH_LOG("pre-copied %llu, reused %llu",
			       (unsigned long long)pf.memory_precopy_bytes,
			       (unsigned long long)pf.memory_reused_bytes);
		EXPECT_TRUE(b == a || b == a - 1) TH_LOG("try %d: A %lu B %lu", k, a, b);
		EXPECT_TRUE(z == 0 || z == a) TH_LOG("try %d: A %lu Z %lu", k, a, z);
		EXPECT_TRUE(y == 0 || y == a || y == a - 1) TH_LOG("try %d: A %lu Y %lu", k, a, y);
		EXPECT_TRUE(f == a || f == a - 1) TH_LOG("try %d: A %lu F %lu", k, a, f);
	}
	pss_target_stop(&t);
}

/*
 * A quiet target, changed after its soft-dirty bits were cleared: pages
 * zapped, rewritten, a file's private mapping written and not, the file
 * changed under it, a region mremap()ed, one mapped anew and half
 * touched. The capture with PSS_MEMORY_PRECOPY must equal the one
 * without, record for record, byte for byte (nothing changes between its
 * pre-copy and its park: this checks what the reuse hands over - the
 * page, its offset, the records that split it - not which pages are
 * clean, which precopy_consistent_under_writes does).
 */
struct pq_shared {
	unsigned char *r1, *f, *m;	/* 48, 8 and 16 pages */
	int go, done, fd;
};

static void *pq_phase2(void *p)
{
	struct pq_shared *sh = p;
	unsigned char *n, buf[4 * PG];

	while (!__atomic_load_n(&sh->go, __ATOMIC_SEQ_CST))
		usleep(1000);
	madvise(sh->r1 + 16 * PG, 8 * PG, MADV_DONTNEED);	/* zapped */
	fill(sh->r1 + 32 * PG, 4 * PG, 9);			/* rewritten */
	fill(buf, sizeof(buf), 10);				/* the file */
	if (pwrite(sh->fd, buf, sizeof(buf), 2 * PG) != sizeof(buf))
		abort();
	n = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (n == MAP_FAILED || mremap(sh->m, 16 * PG, 16 * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
				      n) == MAP_FAILED)
		abort();
	/* where m was, anew: VM_SOFTDIRTY; two pages written, one read */
	n = mmap(sh->m, 8 * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (n == MAP_FAILED)
		abort();
	fill(n, 2 * PG, 11);
	(void)*(volatile unsigned char *)(n + 4 * PG);
	__atomic_store_n(&sh->done, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return NULL;
}

static int pq_target_setup(void *shared, void *arg)
{
	struct pq_shared *sh = shared;
	pthread_t t;
	int i;

	(void)arg;
	sh->r1 = mmap(NULL, 48 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sh->m = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sh->fd = memfd_create("pss-precopy-eq", 0);
	if (sh->r1 == MAP_FAILED || sh->m == MAP_FAILED || sh->fd < 0 ||
	    ftruncate(sh->fd, 8 * PG))
		return 3;
	sh->f = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, sh->fd, 0);
	if (sh->f == MAP_FAILED)
		return 4;
	fill(sh->r1, 48 * PG, 1);
	fill(sh->m, 16 * PG, 3);
	for (i = 0; i < 8; i++)		/* 0, 1 written; the rest mapped, unwritten */
		if (i < 2)
			fill(sh->f + i * PG, PG, 2);
		else
			(void)*(volatile unsigned char *)(sh->f + i * PG);
	return pthread_create(&t, NULL, pq_phase2, sh) ? 5 : 0;
}

static void expect_same_memory(struct __test_metadata *_metadata,
			       const struct mem_snap *x, const struct mem_snap *y)
{
	size_t i, bad = 0;

	ASSERT_EQ(x->n, y->n);
	for (i = 0; i < x->n; i++) {
		const struct pss_memory_entry *p = x->rec[i], *q = y->rec[i];

		if (p->addr != q->addr || p->flags != q->flags || p->tid != q->tid ||
		    p->data_len != q->data_len ||
		    memcmp(mem_data(p), mem_data(q), p->data_len)) {
			if (!bad++)
				TH_LOG("record %zu: %#llx+%u %#x differs from %#llx+%u %#x", i,
				       (unsigned long long)p->addr, p->data_len, p->flags,
				       (unsigned long long)q->addr, q->data_len, q->flags);
		}
	}
	EXPECT_EQ(0, bad);
}

TEST(precopy_equals_plain)
{
	struct pss_perf_info pf;
	struct pq_shared *sh;
	struct pss_target t;
	struct mem_snap pre, plain;
	__u32 mf = PSS_MEMORY_STACKS | PSS_MEMORY_WRITABLE;
	int snap;

	ASSERT_EQ(0, pss_target_start(&t, pq_target_setup, NULL, 0, false))
		TH_LOG("%s", pss_err);
	sh = t.shared;
	ASSERT_EQ(0, clear_refs(t.pid));
	__atomic_store_n(&sh->go, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&sh->done, __ATOMIC_SEQ_CST))
		usleep(1000);
	snap = capture_pf(t.pid, mf | PSS_MEMORY_PRECOPY, &pf);
	if (snap == -EOPNOTSUPP) {
		pss_target_stop(&t);
		SKIP(return, "no soft-dirty tracking (CONFIG_MEM_SOFT_DIRTY)");
	}
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, mem_walk(snap, &pre)) TH_LOG("%s", pss_err);
	close(snap);
	EXPECT_LT(0, pf.memory_reused_bytes);
	snap = capture_mem(t.pid, FACETS, mf, 0, NULL, 0);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, mem_walk(snap, &plain)) TH_LOG("%s", pss_err);
	close(snap);
	expect_same_memory(_metadata, &pre, &plain);
	mem_free(&pre);
	mem_free(&plain);
	pss_target_stop(&t);
}

/*
 * The counters: every byte of the memory walk was either reused or read
 * parked; without PRECOPY nothing is pre-copied. On a fresh (stopped)
 * target every VMA is soft-dirty: nothing is reused. Once its bits are
 * cleared, all it pre-copied is reused (nothing runs to dirty it; 90%:
 * khugepaged or compaction may move a page meanwhile).
 */
TEST_F(maps, precopy_counters)
{
	__u32 mf = PSS_MEMORY_STACKS | PSS_MEMORY_WRITABLE;
	struct pss_perf_info pf;
	struct mem_snap ms;
	int snap;

	snap = capture_pf(self->t.pid, mf, &pf);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, mem_walk(snap, &ms)) TH_LOG("%s", pss_err);
	close(snap);
	EXPECT_EQ(0, pf.memory_precopy_bytes);
	EXPECT_EQ(0, pf.memory_reused_bytes);
	EXPECT_EQ(mem_total(&ms), pf.memory_parked_bytes);
	mem_free(&ms);

	snap = capture_pf(self->t.pid, mf | PSS_MEMORY_PRECOPY, &pf);
	if (snap == -EOPNOTSUPP)
		SKIP(return, "no soft-dirty tracking (CONFIG_MEM_SOFT_DIRTY)");
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, mem_walk(snap, &ms)) TH_LOG("%s", pss_err);
	close(snap);
	EXPECT_LT(M_PAGES * PG, pf.memory_precopy_bytes);
	EXPECT_EQ(0, pf.memory_reused_bytes);
	EXPECT_EQ(mem_total(&ms), pf.memory_parked_bytes);
	mem_free(&ms);

	ASSERT_EQ(0, clear_refs(self->t.pid));
	snap = capture_pf(self->t.pid, mf | PSS_MEMORY_PRECOPY, &pf);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, mem_walk(snap, &ms)) TH_LOG("%s", pss_err);
	close(snap);
	TH_LOG("pre-copied %llu, reused %llu, parked %llu of %llu bytes",
	       (unsigned long long)pf.memory_precopy_bytes,
	       (unsigned long long)pf.memory_reused_bytes,
	       (unsigned long long)pf.memory_parked_bytes, mem_total(&ms));
	EXPECT_LT(M_PAGES * PG, pf.memory_precopy_bytes);
	EXPECT_GE(pf.memory_precopy_bytes, pf.memory_reused_bytes);
	EXPECT_LE(pf.memory_precopy_bytes * 9 / 10, pf.memory_reused_bytes);
	EXPECT_EQ(mem_total(&ms), pf.memory_reused_bytes + pf.memory_parked_bytes);
	mem_free(&ms);
}

/*
 * A page of shared memory registered with userfaultfd (missing mode) and
 * never touched: reading it would wait for the handler, and the handler is
 * the stopped (or parked) target. The capture must not wait: the page
 * cannot be read and is left out.
 */
static int uffd_target_setup(void *shared, void *arg)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	int fd = memfd_create("pss-uffd", MFD_CLOEXEC), uffd;
	char *p;

	(void)arg;
	if (fd < 0 || ftruncate(fd, 2 * PG))
		return 3;
	p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 4;
	p[0] = 1;		/* the first page is there, the second is not */
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		return 5;
	reg.range.start = (uintptr_t)p;
	reg.range.len = 2 * PG;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		return 6;
	*(char **)shared = p;
	return 0;
}

TEST(userfaultfd_not_waited_for)
{
	struct pss_memory_range r;
	struct pss_target t;
	struct mem_snap ms;
	int uffd, snap;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0 && errno == ENOSYS)
		SKIP(return, "no userfaultfd in this kernel");
	ASSERT_LE(0, uffd);
	close(uffd);
	ASSERT_EQ(0, pss_target_start(&t, uffd_target_setup, NULL, 0, true))
		TH_LOG("%s", pss_err);
	r.start = (uintptr_t)*(char **)t.shared;
	r.len = 2 * PG;
	snap = capture_mem(t.pid, FACETS, PSS_MEMORY_RANGES, 0, &r, 1);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, mem_walk(snap, &ms)) TH_LOG("%s", pss_err);
	close(snap);
	ASSERT_EQ(1, ms.n);
	EXPECT_EQ(r.start, ms.rec[0]->addr);
	EXPECT_EQ(1, mem_data(ms.rec[0])[0]);
	mem_free(&ms);
	pss_target_stop(&t);
}

/* -------------------------------------------------------- bad input */

static int capture_raw(__u64 facets, __u32 mflags, __u32 stack_bytes,
		       __u64 ranges, __u32 nr)
{
	struct pss_capture_args a;
	int dev = pss_open_dev(), ret;

	if (dev < 0)
		return -errno;
	pss_capture_init(&a, 0, facets);
	a.memory_flags = mflags;
	a.stack_bytes = stack_bytes;
	a.ranges = ranges;
	a.nr_ranges = nr;
	ret = pss_capture_args(dev, &a);
	close(dev);
	if (ret >= 0)
		close(ret);
	return ret < 0 ? ret : 0;
}

static struct pss_memory_range good_range[PSS_MEMORY_RANGES_MAX + 1];

static __u64 good(void)
{
	int i;

	for (i = 0; i <= PSS_MEMORY_RANGES_MAX; i++) {
		good_range[i].start = (uintptr_t)&good_range[0];
		good_range[i].len = 8;
	}
	return (uintptr_t)good_range;
}

/* the baseline the bad cases differ from by one field each */
TEST(args_good)
{
	EXPECT_EQ(0, capture_raw(FACETS, PSS_MEMORY_RANGES, 0, good(), 1));
	EXPECT_EQ(0, capture_raw(FACETS, PSS_MEMORY_RANGES, 0, good(),
				 PSS_MEMORY_RANGES_MAX));
	EXPECT_EQ(0, capture_raw(FACETS, PSS_MEMORY_STACKS, PSS_STACK_BYTES_MAX, 0, 0));
}

TEST(einval_flags_unknown)
{
	EXPECT_EQ(-EINVAL, capture_raw(FACETS, PSS_MEMORY_STACKS | (PSS_MEMORY_FLAGS_ALL + 1),
				       0, 0, 0));
}

TEST(einval_precopy_without_writable)
{
	EXPECT_EQ(-EINVAL, capture_raw(FACETS, PSS_MEMORY_STACKS | PSS_MEMORY_PRECOPY, 0, 0, 0));
}

TEST(einval_flags_none)
{
	EXPECT_EQ(-EINVAL, capture_raw(FACETS, 0, 0, 0, 0));
}

TEST(einval_flags_without_facet)
{
	EXPECT_EQ(-EINVAL, capture_raw(PSS_FACET_THREADS, PSS_MEMORY_STACKS, 0, 0, 0));
}

TEST(einval_memory_without_threads)
{
	EXPECT_EQ(-EINVAL, capture_raw(PSS_FACET_MEMORY, PSS_MEMORY_STACKS, 0, 0, 0));
}

TEST(einval_ranges_without_flag)
{
	EXPECT_EQ(-EINVAL, capture_raw(FACETS, PSS_MEMORY_STACKS, 0, good(), 1));
}

TEST(einval_nr_ranges_zero)
{
	EXPECT_EQ(-EINVAL, capture_raw(FACETS, PSS_MEMORY_RANGES, 0, good(), 0));
}

TEST(einval_nr_ranges_above_max)
{
	EXPECT_EQ(-EINVAL, capture_raw(FACETS, PSS_MEMORY_RANGES, 0, good(),
				       PSS_MEMORY_RANGES_MAX + 1));
}

TEST(einval_range_len_zero)
{
	__u64 r = good();

	good_range[1].len = 0;
	EXPECT_EQ(-EINVAL, capture_raw(FACETS, PSS_MEMORY_RANGES, 0, r, 2));
}

TEST(einval_range_wraps)
{
	__u64 r = good();

	good_range[0].start = ~0ULL - 100;
	good_range[0].len = 200;
	EXPECT_EQ(-EINVAL, capture_raw(FACETS, PSS_MEMORY_RANGES, 0, r, 1));
}

TEST(einval_stack_bytes_without_stacks)
{
	EXPECT_EQ(-EINVAL, capture_raw(FACETS, PSS_MEMORY_WRITABLE, 4096, 0, 0));
}

TEST(einval_stack_bytes_above_max)
{
	EXPECT_EQ(-EINVAL, capture_raw(FACETS, PSS_MEMORY_STACKS,
				       PSS_STACK_BYTES_MAX + 4096, 0, 0));
}

TEST(efault_ranges_pointer)
{
	EXPECT_EQ(-EFAULT, capture_raw(FACETS, PSS_MEMORY_RANGES, 0, 8, 1));
}

TEST(efault_ranges_pointer_unmapped_tail)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pss_memory_range *r;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + PG, PG));
	/* the first entry readable, the second across the end of the mapping */
	r = (struct pss_memory_range *)(p + PG - sizeof(*r));
	r->start = (uintptr_t)p;
	r->len = 8;
	EXPECT_EQ(-EFAULT, capture_raw(FACETS, PSS_MEMORY_RANGES, 0, (uintptr_t)r, 2));
	munmap(p, PG);
}

TEST_HARNESS_MAIN
