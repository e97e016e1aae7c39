// SPDX-License-Identifier: GPL-2.0
/*
 * PSS_IOC_WALK: every error path one per subtest, the exact-size protocol
 * (ENOSPC + next_len), batching of big targets (1000+ VMAs and fds in a
 * handful of calls, records never split, pos/count/bytes/END consistent),
 * restartable positions, and snapshot lifetime (dup, fork, a dead target,
 * module unload refused while a snapshot is open).
 */
#include <sys/resource.h>
#include <sys/syscall.h>

#include "pss_test_util.h"

static const __u32 all_classes[] = {
	PSS_WALK_THREADS, PSS_WALK_HANDLES, PSS_WALK_VA_SPACE,
};

static int raw_walk(int fd, struct pss_walk_args *w)
{
	return ioctl(fd, PSS_IOC_WALK, w) < 0 ? -errno : 0;
}

FIXTURE(walk) {
	int snap;		/* self, all facets */
	int bare;		/* self, no facets */
	char *buf;
	size_t len;
};

FIXTURE_SETUP(walk)
{
	self->snap = pss_capture1(0, PSS_FACETS_ALL);
	ASSERT_LE(0, self->snap) TH_LOG("capture: %s", strerror(-self->snap));
	self->bare = pss_capture1(0, 0);
	ASSERT_LE(0, self->bare) TH_LOG("capture: %s", strerror(-self->bare));
	self->len = 1 << 20;
	self->buf = malloc(self->len);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(walk)
{
	close(self->snap);
	close(self->bare);
	free(self->buf);
}

TEST_F(walk, baseline_every_class)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		struct pss_walk_args w;

		pss_walk_init(&w, all_classes[i], 0, self->buf, self->len);
		ASSERT_EQ(0, raw_walk(self->snap, &w)) TH_LOG("class %u", all_classes[i]);
		EXPECT_LT(0, w.total) TH_LOG("class %u", all_classes[i]);
		EXPECT_EQ(w.total, w.count);
		EXPECT_EQ(w.total, w.pos);
		EXPECT_EQ(PSS_WALK_END, w.out_flags);
		EXPECT_EQ(0, w.next_len);
		EXPECT_EQ(0, pss_check_batch(all_classes[i], self->buf, w.bytes_written, w.count))
			TH_LOG("%s", pss_err);
	}
}

TEST_F(walk, bad_class)
{
	struct pss_walk_args w;

	pss_walk_init(&w, PSS_WALK_NR_CLASSES, 0, self->buf, self->len);
	EXPECT_EQ(-EINVAL, raw_walk(self->snap, &w));
}

TEST_F(walk, bad_class_huge)
{
	struct pss_walk_args w;

	pss_walk_init(&w, 0x80000000, 0, self->buf, self->len);
	EXPECT_EQ(-EINVAL, raw_walk(self->snap, &w));
}

TEST_F(walk, flags_nonzero)
{
	struct pss_walk_args w;

	pss_walk_init(&w, PSS_WALK_THREADS, 0, self->buf, self->len);
	w.flags = 1;
	EXPECT_EQ(-EINVAL, raw_walk(self->snap, &w));
}

TEST_F(walk, flags_high_bit)
{
	struct pss_walk_args w;

	pss_walk_init(&w, PSS_WALK_THREADS, 0, self->buf, self->len);
	w.flags = 1U << 31;
	EXPECT_EQ(-EINVAL, raw_walk(self->snap, &w));
}

TEST_F(walk, args_size_zero)
{
	struct pss_walk_args w;

	pss_walk_init(&w, PSS_WALK_THREADS, 0, self->buf, self->len);
	w.size = 0;
	EXPECT_EQ(-EINVAL, raw_walk(self->snap, &w));
}

TEST_F(walk, args_size_too_small)
{
	struct pss_walk_args w;

	pss_walk_init(&w, PSS_WALK_THREADS, 0, self->buf, self->len);
	w.size = PSS_WALK_ARGS_SIZE_VER0 - 8;
	EXPECT_EQ(-EINVAL, raw_walk(self->snap, &w));
}

TEST_F(walk, args_trailing_nonzero_e2big)
{
	struct {
		struct pss_walk_args w;
		__u64 future;
	} big;

	memset(&big, 0, sizeof(big));
	pss_walk_init(&big.w, PSS_WALK_THREADS, 0, self->buf, self->len);
	big.w.size = sizeof(big);
	big.future = 1;
	EXPECT_EQ(-E2BIG, raw_walk(self->snap, &big.w));
}

TEST_F(walk, args_trailing_zero_ok)
{
	struct {
		struct pss_walk_args w;
		__u64 future[2];
	} big;

	memset(&big, 0, sizeof(big));
	pss_walk_init(&big.w, PSS_WALK_THREADS, 0, self->buf, self->len);
	big.w.size = sizeof(big);
	EXPECT_EQ(0, raw_walk(self->snap, &big.w));
	EXPECT_EQ(1, big.w.count);
	EXPECT_EQ(0, big.future[0] | big.future[1]);
}

TEST_F(walk, args_bad_pointer)
{
	EXPECT_EQ(-1, ioctl(self->snap, PSS_IOC_WALK, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(walk, buf_bad_pointer)
{
	struct pss_walk_args w;

	pss_walk_init(&w, PSS_WALK_VA_SPACE, 0, (void *)8, self->len);
	EXPECT_EQ(-EFAULT, raw_walk(self->snap, &w));
}

TEST_F(walk, buf_readonly)
{
	void *ro = mmap(NULL, 65536, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pss_walk_args w;

	ASSERT_NE(MAP_FAILED, ro);
	pss_walk_init(&w, PSS_WALK_VA_SPACE, 0, ro, 65536);
	EXPECT_EQ(-EFAULT, raw_walk(self->snap, &w));
	munmap(ro, 65536);
}

/* buf_len says more than is mapped: the record that lands there faults. */
TEST_F(walk, buf_partly_unmapped)
{
	char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pss_walk_args w;

	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, munmap(m + 4096, 4096));
	/* 8 mapped bytes, then a hole */
	pss_walk_init(&w, PSS_WALK_VA_SPACE, 0, m + 4096 - 8, 1 << 20);
	EXPECT_EQ(-EFAULT, raw_walk(self->snap, &w));
	munmap(m, 4096);
}

TEST_F(walk, pos_beyond_total_erange)
{
	struct pss_walk_args w;
	__u64 total;

	pss_walk_init(&w, PSS_WALK_HANDLES, 0, self->buf, self->len);
	ASSERT_EQ(0, raw_walk(self->snap, &w));
	total = w.total;
	pss_walk_init(&w, PSS_WALK_HANDLES, total + 1, self->buf, self->len);
	EXPECT_EQ(-ERANGE, raw_walk(self->snap, &w));
}

TEST_F(walk, pos_huge_erange)
{
	struct pss_walk_args w;

	pss_walk_init(&w, PSS_WALK_VA_SPACE, ~0ULL, self->buf, self->len);
	EXPECT_EQ(-ERANGE, raw_walk(self->snap, &w));
}

TEST_F(walk, pos_2_32_erange)
{
	struct pss_walk_args w;

	/* a pos truncated to 32 bits would be 0 and succeed */
	pss_walk_init(&w, PSS_WALK_THREADS, 1ULL << 32, self->buf, self->len);
	EXPECT_EQ(-ERANGE, raw_walk(self->snap, &w));
}

TEST_F(walk, pos_at_total_is_end)
{
	struct pss_walk_args w;
	size_t i;

	for (i = 0; i < 3; i++) {
		__u64 total;

		pss_walk_init(&w, all_classes[i], 0, self->buf, 0);
		w.buf = 0;
		/* learn total from the ENOSPC answer */
		ASSERT_EQ(-ENOSPC, raw_walk(self->snap, &w));
		total = w.total;
		ASSERT_LT(0, total);
		memset(self->buf, 0xa5, 64);
		pss_walk_init(&w, all_classes[i], total, self->buf, self->len);
		ASSERT_EQ(0, raw_walk(self->snap, &w));
		EXPECT_EQ(0, w.count);
		EXPECT_EQ(0, w.bytes_written);
		EXPECT_EQ(total, w.pos);
		EXPECT_EQ(total, w.total);
		EXPECT_EQ(PSS_WALK_END, w.out_flags);
		EXPECT_EQ(0, w.next_len);
		EXPECT_EQ((char)0xa5, self->buf[0]);
	}
}

/* At the end even an empty buffer is fine: nothing needs room. */
TEST_F(walk, pos_at_total_zero_buffer)
{
	struct pss_walk_args w;

	pss_walk_init(&w, PSS_WALK_THREADS, 1, NULL, 0);
	EXPECT_EQ(0, raw_walk(self->snap, &w));
	EXPECT_EQ(PSS_WALK_END, w.out_flags);
	EXPECT_EQ(0, w.count);
}

TEST_F(walk, enospc_exact_next_len)
{
	struct pss_walk_args w;
	__u32 need;
	size_t i;

	for (i = 0; i < 3; i++) {
		__u32 cls = all_classes[i];

		pss_walk_init(&w, cls, 0, NULL, 0);
		ASSERT_EQ(-ENOSPC, raw_walk(self->snap, &w)) TH_LOG("class %u", cls);
		need = w.next_len;
		ASSERT_LE(pss_rec_min(cls), need) TH_LOG("class %u", cls);
		EXPECT_EQ(0, need % PSS_REC_ALIGN);
		EXPECT_EQ(0, w.pos);
		EXPECT_LT(0, w.total);
		EXPECT_EQ(0, w.count);

		/* one byte short */
		memset(self->buf, 0xa5, need + 8);
		pss_walk_init(&w, cls, 0, self->buf, need - 1);
		ASSERT_EQ(-ENOSPC, raw_walk(self->snap, &w));
		EXPECT_EQ(need, w.next_len);
		EXPECT_EQ(0, w.pos);
		/* nothing was written on failure */
		EXPECT_EQ((char)0xa5, self->buf[0]);

		/* exactly enough */
		pss_walk_init(&w, cls, 0, self->buf, need);
		ASSERT_EQ(0, raw_walk(self->snap, &w)) TH_LOG("class %u", cls);
		EXPECT_EQ(1, w.count);
		EXPECT_EQ(need, w.bytes_written);
		EXPECT_EQ(need, *(__u32 *)self->buf);
		EXPECT_EQ(1, w.pos);
		EXPECT_EQ((char)0xa5, self->buf[need]);
		EXPECT_EQ(w.pos == w.total, !!(w.out_flags & PSS_WALK_END));
	}
}

TEST_F(walk, enospc_mid_walk)
{
	struct pss_recs r;
	struct pss_walk_args w;
	__u32 len1;

	ASSERT_EQ(0, pss_walk_all(self->snap, PSS_WALK_VA_SPACE, &r)) TH_LOG("%s", pss_err);
	ASSERT_LE(2, r.n);
	len1 = *(__u32 *)r.rec[1];
	pss_walk_init(&w, PSS_WALK_VA_SPACE, 1, self->buf, len1 - 8);
	EXPECT_EQ(-ENOSPC, raw_walk(self->snap, &w));
	EXPECT_EQ(len1, w.next_len);
	EXPECT_EQ(1, w.pos);
	EXPECT_EQ(r.n, w.total);
	pss_recs_free(&r);
}

TEST_F(walk, records_never_split)
{
	struct pss_recs r;
	struct pss_walk_args w;
	__u32 l0, l1;

	ASSERT_EQ(0, pss_walk_all(self->snap, PSS_WALK_VA_SPACE, &r)) TH_LOG("%s", pss_err);
	ASSERT_LE(3, r.n);
	l0 = *(__u32 *)r.rec[0];
	l1 = *(__u32 *)r.rec[1];
	memset(self->buf, 0xa5, l0 + l1 + 8);
	pss_walk_init(&w, PSS_WALK_VA_SPACE, 0, self->buf, l0 + l1 - 1);
	ASSERT_EQ(0, raw_walk(self->snap, &w));
	EXPECT_EQ(1, w.count);
	EXPECT_EQ(l0, w.bytes_written);
	EXPECT_EQ(1, w.pos);
	EXPECT_EQ(l1, w.next_len);
	EXPECT_EQ(0, w.out_flags);
	EXPECT_EQ(0, memcmp(self->buf, r.rec[0], l0));
	/* the bytes after the one record are untouched */
	EXPECT_EQ((char)0xa5, self->buf[l0]);
	EXPECT_EQ((char)0xa5, self->buf[l0 + l1 - 2]);
	pss_recs_free(&r);
}

/* Any saved position resumes to the very same bytes. */
TEST_F(walk, positions_restartable)
{
	struct pss_recs r;
	size_t i;

	ASSERT_EQ(0, pss_walk_all(self->snap, PSS_WALK_VA_SPACE, &r)) TH_LOG("%s", pss_err);
	for (i = 0; i < r.n; i++) {
		struct pss_walk_args w;
		size_t off = (char *)r.rec[i] - r.buf;

		pss_walk_init(&w, PSS_WALK_VA_SPACE, i, self->buf, self->len);
		ASSERT_EQ(0, raw_walk(self->snap, &w));
		EXPECT_EQ(r.n - i, w.count);
		EXPECT_EQ(r.bytes - off, w.bytes_written);
		EXPECT_EQ(0, memcmp(self->buf, r.rec[i], w.bytes_written)) TH_LOG("pos %zu", i);
	}
	pss_recs_free(&r);
}

/* The snapshot is immutable: walking again gives identical bytes. */
TEST_F(walk, repeatable)
{
	struct pss_recs a, b;
	size_t i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pss_walk_all(self->snap, all_classes[i], &a)) TH_LOG("%s", pss_err);
		/* a very different batch size */
		ASSERT_EQ(0, pss_walk_all_sz(self->snap, all_classes[i], 8, &b)) TH_LOG("%s", pss_err);
		EXPECT_EQ(a.n, b.n);
		ASSERT_EQ(a.bytes, b.bytes);
		EXPECT_EQ(0, memcmp(a.buf, b.buf, a.bytes));
		pss_recs_free(&a);
		pss_recs_free(&b);
	}
}

TEST_F(walk, bytes_after_written_untouched)
{
	struct pss_walk_args w;
	size_t i;

	memset(self->buf, 0x5a, self->len);
	pss_walk_init(&w, PSS_WALK_HANDLES, 0, self->buf, self->len);
	ASSERT_EQ(0, raw_walk(self->snap, &w));
	for (i = w.bytes_written; i < w.bytes_written + 4096; i++)
		if (self->buf[i] != 0x5a)
			break;
	EXPECT_EQ(w.bytes_written + 4096, i);
}

TEST_F(walk, no_threads_facet_enodata)
{
	struct pss_walk_args w;

	pss_walk_init(&w, PSS_WALK_THREADS, 0, self->buf, self->len);
	EXPECT_EQ(-ENODATA, raw_walk(self->bare, &w));
}

TEST_F(walk, no_handles_facet_enodata)
{
	struct pss_walk_args w;

	pss_walk_init(&w, PSS_WALK_HANDLES, 0, self->buf, self->len);
	EXPECT_EQ(-ENODATA, raw_walk(self->bare, &w));
}

TEST_F(walk, no_va_space_facet_enodata)
{
	struct pss_walk_args w;

	pss_walk_init(&w, PSS_WALK_VA_SPACE, 0, self->buf, self->len);
	EXPECT_EQ(-ENODATA, raw_walk(self->bare, &w));
}

TEST_F(walk, other_facets_enodata)
{
	struct pss_walk_args w;
	int snap = pss_capture1(0, PSS_FACET_THREADS);

	ASSERT_LE(0, snap);
	pss_walk_init(&w, PSS_WALK_THREADS, 0, self->buf, self->len);
	EXPECT_EQ(0, raw_walk(snap, &w));
	pss_walk_init(&w, PSS_WALK_VA_SPACE, 0, self->buf, self->len);
	EXPECT_EQ(-ENODATA, raw_walk(snap, &w));
	close(snap);
}

TEST_F(walk, on_dev_enotty)
{
	struct pss_walk_args w;
	int dev = pss_open_dev();

	ASSERT_LE(0, dev);
	pss_walk_init(&w, PSS_WALK_THREADS, 0, self->buf, self->len);
	EXPECT_EQ(-ENOTTY, raw_walk(dev, &w));
	close(dev);
}

TEST_F(walk, on_other_file_enotty)
{
	struct pss_walk_args w;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, fd);
	pss_walk_init(&w, PSS_WALK_THREADS, 0, self->buf, self->len);
	EXPECT_EQ(-ENOTTY, raw_walk(fd, &w));
	close(fd);
}

/* read/write/mmap on a snapshot: not a thing, and nothing crashes */
TEST_F(walk, no_read_write_mmap)
{
	char c;

	EXPECT_EQ(-1, read(self->snap, &c, 1));
	EXPECT_EQ(-1, write(self->snap, &c, 1));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->snap, 0));
}

/* ------------------------------------------------ batching */

#define BIG_VMAS	1000
#define BIG_FDS		1000

static int big_tgt_setup(void *shared, void *arg)
{
	struct rlimit rl = { BIG_FDS + 64, BIG_FDS + 64 };
	long pg = sysconf(_SC_PAGESIZE);
	char *m;
	int i, null;

	(void)shared;
	(void)arg;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return 10;
	null = open("/dev/null", O_RDONLY);
	if (null < 0)
		return 11;
	for (i = 0; i < BIG_FDS; i++)
		if (dup(null) < 0)
			return 12;
	/* alternate protections so no two neighbours merge */
	m = mmap(NULL, 2 * BIG_VMAS * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 13;
	for (i = 0; i < 2 * BIG_VMAS; i += 2)
		if (mprotect(m + i * pg, pg, PROT_READ | PROT_WRITE))
			return 14;
	return 0;
}

FIXTURE(big) {
	struct pss_target t;
	int snap;
};

FIXTURE_SETUP(big)
{
	ASSERT_EQ(0, pss_target_start(&self->t, big_tgt_setup, NULL, 0, true)) TH_LOG("%s", pss_err);
	self->snap = pss_capture1(self->t.pid, PSS_FACETS_ALL);
	ASSERT_LE(0, self->snap) TH_LOG("capture: %s", strerror(-self->snap));
}

FIXTURE_TEARDOWN(big)
{
	if (self->snap >= 0)
		close(self->snap);
	pss_target_stop(&self->t);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

TEST_F_TIMEOUT(big, one_call_with_big_buffer, 120)
{
	struct pss_recs r;
	size_t nfd, nmaps;
	char *maps, path[64];
	int *fds = NULL;

	snprintf(path, sizeof(path), "/proc/%d/fd", self->t.pid);
	ASSERT_EQ(0, pss_list_dir_ints(path, &fds, &nfd));
	free(fds);
	maps = pss_read_fmt(NULL, "/proc/%d/maps", self->t.pid);
	ASSERT_NE(NULL, maps);
	nmaps = count_lines(maps);
	free(maps);

	ASSERT_EQ(0, pss_walk_all_sz(self->snap, PSS_WALK_HANDLES, 4 << 20, &r))
		TH_LOG("%s", pss_err);
	EXPECT_LE(BIG_FDS + 1, r.n);
	EXPECT_EQ(nfd, r.n);
	EXPECT_EQ(1, r.calls);
	pss_recs_free(&r);

	ASSERT_EQ(0, pss_walk_all_sz(self->snap, PSS_WALK_VA_SPACE, 4 << 20, &r))
		TH_LOG("%s", pss_err);
	EXPECT_LE(2 * BIG_VMAS, r.n);
	EXPECT_EQ(nmaps, r.n);
	EXPECT_EQ(1, r.calls);
	pss_recs_free(&r);
}

TEST_F_TIMEOUT(big, small_batches_consistent, 120)
{
	struct pss_recs whole, r;
	size_t i;

	for (i = 1; i < 3; i++) {
		__u32 cls = all_classes[i];

		ASSERT_EQ(0, pss_walk_all_sz(self->snap, cls, 4 << 20, &whole)) TH_LOG("%s", pss_err);
		/* 4 KiB batches: many calls, same bytes, framing checked per call */
		ASSERT_EQ(0, pss_walk_all_sz(self->snap, cls, 4096, &r)) TH_LOG("%s", pss_err);
		EXPECT_EQ(whole.n, r.n);
		ASSERT_EQ(whole.bytes, r.bytes);
		EXPECT_EQ(0, memcmp(whole.buf, r.buf, r.bytes));
		/* every call but the last filled the buffer as far as whole records go */
		EXPECT_GE((r.bytes + 4095) / 4096 * 2 + 1, r.calls);
		EXPECT_LE(r.bytes / 4096, r.calls);
		pss_recs_free(&whole);
		pss_recs_free(&r);
	}
}

TEST_F_TIMEOUT(big, counts_match, 120)
{
	struct pss_snapshot_info si;
	struct pss_count_info ci;

	ASSERT_EQ(0, pss_query_snapshot(self->snap, &si));
	ASSERT_EQ(0, pss_query_count(self->snap, PSS_QUERY_HANDLES, &ci));
	EXPECT_EQ(si.nr_handles, ci.count);
	EXPECT_LE(BIG_FDS + 1, ci.count);
	ASSERT_EQ(0, pss_query_count(self->snap, PSS_QUERY_VA_SPACE, &ci));
	EXPECT_EQ(si.nr_vmas, ci.count);
	EXPECT_LE(2 * BIG_VMAS, ci.count);
}

/* ------------------------------------------------ lifetime */

TEST(dup_survives_close)
{
	struct pss_process_info pi;
	struct pss_recs a, b;
	int snap = pss_capture1(0, PSS_FACETS_ALL), d;

	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_VA_SPACE, &a)) TH_LOG("%s", pss_err);
	d = dup(snap);
	ASSERT_LE(0, d);
	ASSERT_EQ(0, close(snap));
	ASSERT_EQ(0, pss_query_process(d, &pi));
	EXPECT_EQ(getpid(), pi.pid);
	ASSERT_EQ(0, pss_walk_all(d, PSS_WALK_VA_SPACE, &b)) TH_LOG("%s", pss_err);
	ASSERT_EQ(a.bytes, b.bytes);
	EXPECT_EQ(0, memcmp(a.buf, b.buf, a.bytes));
	pss_recs_free(&a);
	pss_recs_free(&b);
	close(d);
}

TEST(fork_child_walks_parent_snapshot)
{
	struct pss_recs a;
	int snap = pss_capture1(0, PSS_FACETS_ALL), status;
	pid_t parent = getpid(), pid;

	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_HANDLES, &a)) TH_LOG("%s", pss_err);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pss_process_info pi;
		struct pss_recs b;

		if (pss_query_process(snap, &pi) || pi.pid != parent)
			_exit(1);
		if (pss_walk_all(snap, PSS_WALK_HANDLES, &b))
			_exit(2);
		if (b.bytes != a.bytes || memcmp(a.buf, b.buf, a.bytes))
			_exit(3);
		_exit(0);
	}
	/* the parent closes its copy; the child's still works */
	close(snap);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	pss_recs_free(&a);
}

static int idle_setup(void *shared, void *arg)
{
	(void)shared;
	(void)arg;
	return 0;
}

TEST(outlives_target)
{
	struct pss_snapshot_info before, after;
	struct pss_process_info pi;
	struct pss_target t;
	struct pss_recs r;
	pid_t pid;
	int snap;

	ASSERT_EQ(0, pss_target_start(&t, idle_setup, NULL, 0, false)) TH_LOG("%s", pss_err);
	pid = t.pid;
	snap = pss_capture1(pid, PSS_FACETS_ALL);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_query_snapshot(snap, &before));
	pss_target_stop(&t);	/* SIGKILL + reap */
	ASSERT_EQ(-1, kill(pid, 0));
	ASSERT_EQ(0, pss_query_snapshot(snap, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	EXPECT_EQ(pid, pi.pid);
	EXPECT_FALSE(!!(pi.flags & PSS_PROC_ZOMBIE));
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_VA_SPACE, &r)) TH_LOG("%s", pss_err);
	EXPECT_EQ(before.nr_vmas, r.n);
	EXPECT_LT(0, r.n);
	pss_recs_free(&r);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_HANDLES, &r)) TH_LOG("%s", pss_err);
	EXPECT_EQ(before.nr_handles, r.n);
	pss_recs_free(&r);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_THREADS, &r)) TH_LOG("%s", pss_err);
	EXPECT_EQ(1, r.n);
	pss_recs_free(&r);
	close(snap);
}

/* Snapshot fds do not leak across exec. */
TEST(snapshot_closed_on_exec_flag)
{
	int snap = pss_capture1(0, 0);

	ASSERT_LE(0, snap);
	EXPECT_EQ(FD_CLOEXEC, fcntl(snap, F_GETFD) & FD_CLOEXEC);
	close(snap);
}

/*
 * The snapshot fd pins the module: with /dev/pss closed and only a
 * snapshot open, unloading must be refused. If it were not, closing the
 * snapshot afterwards would run freed code.
 */
TEST(rmmod_refused_while_snapshot_open)
{
	struct pss_process_info pi;
	struct stat st;
	int dev, snap, ret;

	if (geteuid() != 0)
		SKIP(return, "needs CAP_SYS_MODULE");
	if (stat("/sys/module/pss", &st))
		SKIP(return, "no /sys/module/pss");
	if (stat("/sys/module/pss/initstate", &st))
		SKIP(return, "pss is built in");
	dev = pss_open_dev();
	ASSERT_LE(0, dev);
	snap = ioc_capture_pid(dev, 0, PSS_FACETS_ALL);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, close(dev));
	ret = syscall(SYS_delete_module, "pss", O_NONBLOCK);
	ASSERT_EQ(-1, ret) TH_LOG("the module unloaded under an open snapshot!");
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY) TH_LOG("errno %d", errno);
	/* and the snapshot is still fine */
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	EXPECT_EQ(getpid(), pi.pid);
	close(snap);
}

TEST_HARNESS_MAIN
