// SPDX-License-Identifier: GPL-2.0
/*
 * libpss end to end: capture (self, a stopped child by pid and by pidfd),
 * query, walk markers (full walks agree with the counts, interleaved markers,
 * positions, rewind, batch boundaries, custom allocators), duplicate / adopt /
 * fork / SCM_RIGHTS, options size checks and argument errors; the
 * thread-state options, walks and accessors (0.4).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpss.h>

#include "kselftest_harness.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define CORE_FACETS (PSS_FACET_THREADS | PSS_FACET_HANDLES |		\
		     PSS_FACET_HANDLE_NAME | PSS_FACET_HANDLE_BASIC |	\
		     PSS_FACET_VA_SPACE | PSS_FACET_VA_SPACE_SECTION)

#define NR_EXTRA_FDS	300	/* enough handles for many batches */
#define CHILD_THREADS	3
#define CHILD_MARK_FD	77	/* the stopped child's pipe end lives here */

static const enum pss_walk_class all_classes[] = {
	PSS_WALK_THREADS, PSS_WALK_HANDLES, PSS_WALK_VA_SPACE,
};

static int sys_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* One full walk's results. */
struct walk_result {
	__u64 count;
	__u64 bytes;
	__u64 max_len;
	unsigned char *blob;	/* the records back to back */
	size_t *offs;		/* offset of each record in blob */
	struct pss_walk_stats st;
};

static void walk_result_free(struct walk_result *r)
{
	free(r->blob);
	free(r->offs);
	memset(r, 0, sizeof(*r));
}

/* Walk class cls to its end with the given opts; 0 or -errno. */
static int walk_all(struct pss_snapshot *snap, enum pss_walk_class cls,
		    const struct pss_walk_marker_opts *opts,
		    struct walk_result *r)
{
	struct pss_walk_marker *m;
	size_t cap = 0, ocap = 0;
	const void *e;
	size_t len;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = pss_walk_marker_create(snap, cls, opts, &m);
	if (ret)
		return ret;
	while ((ret = pss_walk(m, &e, &len)) == 1) {
		if (len != *(const __u32 *)e) {
			ret = -EPROTO;
			break;
		}
		if (r->bytes + len > cap) {
			cap = (r->bytes + len) * 2;
			r->blob = realloc(r->blob, cap);
		}
		if (r->count == ocap) {
			ocap = ocap ? ocap * 2 : 64;
			r->offs = realloc(r->offs, ocap * sizeof(*r->offs));
		}
		memcpy(r->blob + r->bytes, e, len);
		r->offs[r->count++] = r->bytes;
		r->bytes += len;
		if (len > r->max_len)
			r->max_len = len;
	}
	r->st.sz = sizeof(r->st);
	pss_walk_marker_get_stats(m, &r->st);
	pss_walk_marker_free(m);
	return ret;
}

static __u32 query_for(enum pss_walk_class cls)
{
	return cls == PSS_WALK_THREADS ? PSS_QUERY_THREADS :
	       cls == PSS_WALK_HANDLES ? PSS_QUERY_HANDLES : PSS_QUERY_VA_SPACE;
}

/* ------------------------------------------------------------ self */

FIXTURE(self) {
	struct pss_snapshot *snap;
	int fds[NR_EXTRA_FDS];
	int devnull_fd;
	int long_fd;
};

FIXTURE_SETUP(self)
{
	char name[201];
	int i, ret;

	/*
	 * One handle with a long name before many short ones: its record is
	 * more than twice theirs, so a batch buffer grown for it could hold
	 * two of them - tiny batches must still bring one record per ioctl.
	 */
	memset(name, 'L', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	memcpy(name, "libpss-test-", 12);
	self->long_fd = memfd_create(name, MFD_CLOEXEC);
	ASSERT_LE(0, self->long_fd);
	for (i = 0; i < NR_EXTRA_FDS; i++) {
		self->fds[i] = open("/dev/null", O_RDONLY);
		ASSERT_LE(0, self->fds[i]);
	}
	self->devnull_fd = self->fds[NR_EXTRA_FDS - 1];
	ret = pss_capture_pid(0, CORE_FACETS, &self->snap);
	ASSERT_EQ(0, ret) TH_LOG("pss_capture_pid(0): %s", strerror(-ret));
}

FIXTURE_TEARDOWN(self)
{
	int i;

	pss_snapshot_free(self->snap);
	for (i = 0; i < NR_EXTRA_FDS; i++)
		close(self->fds[i]);
	close(self->long_fd);
}

TEST_F(self, query_snapshot_and_process)
{
	struct pss_snapshot_info si;
	struct pss_process_info *pi;
	char comm[32] = "";
	FILE *f;

	memset(&si, 0xa5, sizeof(si));
	ASSERT_EQ(0, pss_query(self->snap, PSS_QUERY_SNAPSHOT, &si, sizeof(si)));
	EXPECT_EQ(PSS_ABI_VERSION, si.abi_version);
	EXPECT_LE(PSS_SNAPSHOT_INFO_SIZE_VER0, si.size);
	EXPECT_EQ(CORE_FACETS, si.facets);
	EXPECT_LE(1, si.nr_threads);
	EXPECT_LE(NR_EXTRA_FDS, si.nr_handles);
	EXPECT_LE(1, si.nr_vmas);

	pi = calloc(1, sizeof(*pi));
	ASSERT_NE(NULL, pi);
	ASSERT_EQ(0, pss_query(self->snap, PSS_QUERY_PROCESS, pi, sizeof(*pi)));
	EXPECT_EQ(getpid(), pi->pid);
	EXPECT_EQ(getppid(), pi->ppid);
	EXPECT_TRUE(pi->flags & PSS_PROC_SELF);
	EXPECT_EQ(si.nr_threads, pi->nr_threads);
	f = fopen("/proc/self/comm", "r");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
		EXPECT_STREQ(comm, pi->comm);
	}
	free(pi);
}

TEST_F(self, query_older_struct_size)
{
	/* a caller built against the VER0 header: tail must stay untouched */
	unsigned char buf[PSS_SNAPSHOT_INFO_SIZE_VER0 + 16];
	struct pss_snapshot_info si;
	int i;

	memset(buf, 0x5a, sizeof(buf));
	ASSERT_EQ(0, pss_query(self->snap, PSS_QUERY_SNAPSHOT, buf,
			       PSS_SNAPSHOT_INFO_SIZE_VER0));
	for (i = PSS_SNAPSHOT_INFO_SIZE_VER0; i < (int)sizeof(buf); i++)
		ASSERT_EQ(0x5a, buf[i]);
	memcpy(&si, buf, PSS_SNAPSHOT_INFO_SIZE_VER0);
	EXPECT_EQ(PSS_ABI_VERSION, si.abi_version);

	/* a newer caller: the kernel zeroes what it does not know */
	{
		struct {
			struct pss_snapshot_info si;
			__u64 future[4];
		} big;

		memset(&big, 0xff, sizeof(big));
		ASSERT_EQ(0, pss_query(self->snap, PSS_QUERY_SNAPSHOT, &big,
				       sizeof(big)));
		EXPECT_EQ(0, big.future[0]);
		EXPECT_EQ(0, big.future[3]);
		EXPECT_EQ(PSS_ABI_VERSION, big.si.abi_version);
	}
}

TEST_F(self, walk_counts_match_queries)
{
	struct pss_snapshot_info si;
	unsigned int i;

	ASSERT_EQ(0, pss_query(self->snap, PSS_QUERY_SNAPSHOT, &si, sizeof(si)));
	for (i = 0; i < sizeof(all_classes) / sizeof(all_classes[0]); i++) {
		enum pss_walk_class cls = all_classes[i];
		struct pss_count_info ci;
		struct walk_result r;
		__u64 n = ~0ULL;

		ASSERT_EQ(0, pss_count(self->snap, cls, &n));
		ASSERT_EQ(0, pss_query(self->snap, query_for(cls), &ci, sizeof(ci)));
		ASSERT_EQ(0, walk_all(self->snap, cls, NULL, &r))
			TH_LOG("walk %s", pss_walk_class_name(cls));
		EXPECT_EQ(n, r.count) TH_LOG("class %s", pss_walk_class_name(cls));
		EXPECT_EQ(ci.count, r.count);
		EXPECT_EQ(ci.bytes, r.bytes);
		EXPECT_EQ(ci.max_rec_len, r.max_len);
		EXPECT_EQ(n, r.st.total);
		EXPECT_EQ(r.count, r.st.entries);
		if (cls == PSS_WALK_THREADS)
			EXPECT_EQ(si.nr_threads, n);
		if (cls == PSS_WALK_HANDLES)
			EXPECT_EQ(si.nr_handles, n);
		if (cls == PSS_WALK_VA_SPACE)
			EXPECT_EQ(si.nr_vmas, n);
		walk_result_free(&r);
	}
}

TEST_F(self, walk_records_are_sane)
{
	struct walk_result r;
	bool seen_devnull = false, seen_caller = false;
	__u64 i, prev_end = 0;
	int prev_fd = -1;

	ASSERT_EQ(0, walk_all(self->snap, PSS_WALK_THREADS, NULL, &r));
	for (i = 0; i < r.count; i++) {
		const struct pss_thread_entry *t = (void *)(r.blob + r.offs[i]);

		EXPECT_EQ(0, t->rec_len % PSS_REC_ALIGN);
		EXPECT_LE(PSS_THREAD_ENTRY_SIZE_VER0, t->rec_len);
		if (t->flags & PSS_THREAD_CALLER) {
			seen_caller = true;
			EXPECT_EQ(gettid(), t->tid);
		}
	}
	EXPECT_TRUE(seen_caller);
	walk_result_free(&r);

	ASSERT_EQ(0, walk_all(self->snap, PSS_WALK_HANDLES, NULL, &r));
	for (i = 0; i < r.count; i++) {
		const struct pss_handle_entry *h = (void *)(r.blob + r.offs[i]);

		EXPECT_LT(prev_fd, h->fd);	/* fd order */
		prev_fd = h->fd;
		if (h->fd == self->devnull_fd) {
			seen_devnull = true;
			ASSERT_NE(NULL, pss_handle_entry_name(h));
			EXPECT_STREQ("/dev/null", pss_handle_entry_name(h));
			EXPECT_EQ(PSS_HT_CHR, h->type);
			EXPECT_STREQ("chr", pss_handle_type_name(h->type));
		}
	}
	EXPECT_TRUE(seen_devnull);
	walk_result_free(&r);

	ASSERT_EQ(0, walk_all(self->snap, PSS_WALK_VA_SPACE, NULL, &r));
	for (i = 0; i < r.count; i++) {
		const struct pss_vma_entry *v = (void *)(r.blob + r.offs[i]);

		EXPECT_LT(v->start, v->end);
		EXPECT_LE(prev_end, v->start);	/* address order */
		prev_end = v->end;
		if (v->name_len)
			EXPECT_NE(NULL, pss_vma_entry_name(v));
	}
	walk_result_free(&r);
}

TEST_F(self, markers_interleaved)
{
	struct pss_walk_marker *m[3];
	struct walk_result ref;
	__u64 i;
	int k;

	ASSERT_EQ(0, walk_all(self->snap, PSS_WALK_HANDLES, NULL, &ref));
	ASSERT_LE(NR_EXTRA_FDS, ref.count);
	for (k = 0; k < 3; k++) {
		PSS_OPTS(pss_walk_marker_opts, o, .batch_bytes = k == 0 ? 1 : 4096 * k);

		ASSERT_EQ(0, pss_walk_marker_create(self->snap, PSS_WALK_HANDLES, &o, &m[k]));
	}
	/* marker k advances k+1 steps per round; all see the reference order */
	{
		__u64 at[3] = { 0, 0, 0 };
		bool done[3] = { false, false, false };

		while (!done[0] || !done[1] || !done[2]) {
			for (k = 0; k < 3; k++) {
				int s;

				for (s = 0; s <= k && !done[k]; s++) {
					const void *e;
					size_t len;
					int ret = pss_walk(m[k], &e, &len);

					ASSERT_LE(0, ret);
					if (!ret) {
						EXPECT_EQ(NULL, e);
						EXPECT_EQ(ref.count, at[k]);
						done[k] = true;
						break;
					}
					i = at[k]++;
					ASSERT_GT(ref.count, i);
					ASSERT_EQ(0, memcmp(ref.blob + ref.offs[i], e, len));
				}
			}
		}
	}
	for (k = 0; k < 3; k++)
		pss_walk_marker_free(m[k]);
	walk_result_free(&ref);
}

TEST_F(self, positions_round_trip)
{
	struct pss_walk_marker *m, *m2;
	struct walk_result ref;
	const void *e;
	size_t len;
	__u64 pos, saved, i;

	ASSERT_EQ(0, walk_all(self->snap, PSS_WALK_HANDLES, NULL, &ref));
	ASSERT_LE(10, ref.count);
	ASSERT_EQ(0, pss_walk_marker_create(self->snap, PSS_WALK_HANDLES, NULL, &m));
	ASSERT_EQ(0, pss_walk_marker_get_position(m, &pos));
	EXPECT_EQ(0, pos);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(1, pss_walk(m, &e, &len));
	ASSERT_EQ(0, pss_walk_marker_get_position(m, &saved));
	EXPECT_EQ(5, saved);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, pss_walk(m, &e, &len));
	ASSERT_EQ(0, pss_walk_marker_set_position(m, saved));
	ASSERT_EQ(0, pss_walk_marker_get_position(m, &pos));
	EXPECT_EQ(saved, pos);
	ASSERT_EQ(1, pss_walk(m, &e, &len));
	EXPECT_EQ(0, memcmp(ref.blob + ref.offs[5], e, len));

	/* a position saved on one marker works on another */
	ASSERT_EQ(0, pss_walk_marker_create(self->snap, PSS_WALK_HANDLES, NULL, &m2));
	ASSERT_EQ(0, pss_walk_marker_set_position(m2, ref.count - 2));
	ASSERT_EQ(1, pss_walk(m2, &e, &len));
	EXPECT_EQ(0, memcmp(ref.blob + ref.offs[ref.count - 2], e, len));
	ASSERT_EQ(1, pss_walk(m2, &e, &len));
	EXPECT_EQ(0, pss_walk(m2, &e, &len));
	EXPECT_EQ(NULL, e);
	EXPECT_EQ(0, pss_walk(m2, &e, &len));	/* stays at the end */

	/* backwards, across batches, every index */
	for (i = ref.count; i-- > 0;) {
		ASSERT_EQ(0, pss_walk_marker_set_position(m, i));
		ASSERT_EQ(1, pss_walk(m, &e, &len));
		ASSERT_EQ(0, memcmp(ref.blob + ref.offs[i], e, len));
	}

	/* the end is a valid position; past it is ERANGE and changes nothing */
	ASSERT_EQ(0, pss_walk_marker_set_position(m, ref.count));
	EXPECT_EQ(0, pss_walk(m, &e, &len));
	ASSERT_EQ(0, pss_walk_marker_set_position(m, 3));
	EXPECT_EQ(-ERANGE, pss_walk_marker_set_position(m, ref.count + 1));
	EXPECT_EQ(-ERANGE, pss_walk_marker_set_position(m, ~0ULL));
	ASSERT_EQ(0, pss_walk_marker_get_position(m, &pos));
	EXPECT_EQ(3, pos);
	ASSERT_EQ(1, pss_walk(m, &e, &len));
	EXPECT_EQ(0, memcmp(ref.blob + ref.offs[3], e, len));

	pss_walk_marker_free(m2);
	pss_walk_marker_free(m);
	walk_result_free(&ref);
}

TEST_F(self, seek_to_beginning)
{
	unsigned int c;

	for (c = 0; c < sizeof(all_classes) / sizeof(all_classes[0]); c++) {
		struct pss_walk_marker *m;
		const void *e, *first;
		unsigned char firstbuf[8192];
		size_t len, flen;
		__u64 n = 0, n2 = 0, pos;

		ASSERT_EQ(0, pss_walk_marker_create(self->snap, all_classes[c], NULL, &m));
		ASSERT_EQ(1, pss_walk(m, &first, &flen));
		ASSERT_GE(sizeof(firstbuf), flen);
		memcpy(firstbuf, first, flen);
		n = 1;
		while (pss_walk(m, &e, &len) == 1)
			n++;
		ASSERT_EQ(0, pss_walk(m, &e, &len));
		ASSERT_EQ(0, pss_walk_marker_seek_to_beginning(m));
		ASSERT_EQ(0, pss_walk_marker_get_position(m, &pos));
		EXPECT_EQ(0, pos);
		ASSERT_EQ(1, pss_walk(m, &e, &len));
		ASSERT_EQ(flen, len);
		EXPECT_EQ(0, memcmp(firstbuf, e, len));
		n2 = 1;
		while (pss_walk(m, &e, &len) == 1)
			n2++;
		EXPECT_EQ(n, n2);
		pss_walk_marker_free(m);
	}
}

TEST_F(self, tiny_batches_one_entry_per_ioctl)
{
	unsigned int c;

	for (c = 0; c < sizeof(all_classes) / sizeof(all_classes[0]); c++) {
		PSS_OPTS(pss_walk_marker_opts, tiny, .batch_bytes = 1);
		struct walk_result ref, r;
		__u64 i;

		ASSERT_EQ(0, walk_all(self->snap, all_classes[c], NULL, &ref));
		ASSERT_EQ(0, walk_all(self->snap, all_classes[c], &tiny, &r));
		ASSERT_EQ(ref.count, r.count);
		ASSERT_EQ(ref.bytes, r.bytes);
		EXPECT_EQ(0, memcmp(ref.blob, r.blob, r.bytes));
		for (i = 0; i < r.count; i++)
			ASSERT_EQ(ref.offs[i], r.offs[i]);
		/* one record per successful ioctl; ENOSPC only to learn sizes */
		EXPECT_EQ(r.count, r.st.batches) TH_LOG("class %s", pss_walk_class_name(all_classes[c]));
		EXPECT_EQ(r.count + r.st.enospc, r.st.ioctls);
		EXPECT_LE(1, r.st.enospc);	/* the first record never fits 8 bytes */
		EXPECT_GE(r.st.buf_size, r.max_len);
		walk_result_free(&ref);
		walk_result_free(&r);
	}
}

TEST_F(self, large_batches_few_ioctls)
{
	unsigned int c;

	for (c = 0; c < sizeof(all_classes) / sizeof(all_classes[0]); c++) {
		PSS_OPTS(pss_walk_marker_opts, big, .batch_bytes = 4 << 20);
		PSS_OPTS(pss_walk_marker_opts, mid, .batch_bytes = 2048);
		struct walk_result r, r2;

		ASSERT_EQ(0, walk_all(self->snap, all_classes[c], &big, &r));
		ASSERT_GT(4 << 20, r.bytes);
		EXPECT_EQ(1, r.st.ioctls) TH_LOG("class %s", pss_walk_class_name(all_classes[c]));
		EXPECT_EQ(1, r.st.batches);
		EXPECT_EQ(0, r.st.enospc);

		/* medium batches: each full except for records that do not fit */
		ASSERT_EQ(0, walk_all(self->snap, all_classes[c], &mid, &r2));
		EXPECT_EQ(r.count, r2.count);
		EXPECT_EQ(0, memcmp(r.blob, r2.blob, r.bytes));
		EXPECT_LE(r2.bytes / 2048, r2.st.batches);
		EXPECT_GE(r2.bytes / 2048 + 1 + r2.count / 2, r2.st.batches);
		if (all_classes[c] == PSS_WALK_HANDLES) {
			/* 300 fds of >= 112 bytes cannot fit in one 2 KiB batch */
			EXPECT_LT(1, r2.st.batches);
		}
		walk_result_free(&r);
		walk_result_free(&r2);
	}
}

/* ------------------------------------------------------------ allocator */

#define MAX_TRACKED 64
struct counting_alloc {
	int allocs, frees, fail_after;	/* fail_after < 0: never fail */
	bool misalign;
	void *live[MAX_TRACKED];
	void *raw[MAX_TRACKED];
	int bad_frees;
};

static void *ca_alloc(void *ctx, size_t size)
{
	struct counting_alloc *ca = ctx;
	unsigned char *p;
	int i;

	if (ca->fail_after >= 0 && ca->allocs >= ca->fail_after)
		return NULL;
	p = malloc(size + 16);
	if (!p)
		return NULL;
	ca->allocs++;
	for (i = 0; i < MAX_TRACKED; i++) {
		if (!ca->live[i]) {
			ca->raw[i] = p;
			ca->live[i] = p + (ca->misalign ? 4 : 0);
			return ca->live[i];
		}
	}
	abort();
}

static void ca_free(void *ctx, void *ptr)
{
	struct counting_alloc *ca = ctx;
	int i;

	ca->frees++;
	for (i = 0; i < MAX_TRACKED; i++) {
		if (ca->live[i] == ptr) {
			free(ca->raw[i]);
			ca->live[i] = NULL;
			return;
		}
	}
	ca->bad_frees++;
}

static int ca_live(const struct counting_alloc *ca)
{
	int i, n = 0;

	for (i = 0; i < MAX_TRACKED; i++)
		n += !!ca->live[i];
	return n;
}

TEST_F(self, custom_allocator_used_and_all_freed)
{
	struct counting_alloc ca = { .fail_after = -1 };
	struct pss_allocator al = { .ctx = &ca, .alloc = ca_alloc, .free = ca_free };
	PSS_OPTS(pss_walk_marker_opts, o, .allocator = &al, .batch_bytes = 1);
	struct walk_result r;
	__u64 n;

	ASSERT_EQ(0, pss_count(self->snap, PSS_WALK_HANDLES, &n));
	ASSERT_EQ(0, walk_all(self->snap, PSS_WALK_HANDLES, &o, &r));
	EXPECT_EQ(n, r.count);
	/* the marker itself and at least one batch buffer */
	EXPECT_LE(2, ca.allocs);
	/* the buffer grew at least once (8 bytes never hold a record) */
	EXPECT_LE(3, ca.allocs);
	EXPECT_EQ(ca.allocs, ca.frees);
	EXPECT_EQ(0, ca_live(&ca));
	EXPECT_EQ(0, ca.bad_frees);
	walk_result_free(&r);
}

TEST_F(self, custom_allocator_live_while_marker_lives)
{
	struct counting_alloc ca = { .fail_after = -1 };
	struct pss_allocator al = { .ctx = &ca, .alloc = ca_alloc, .free = ca_free };
	PSS_OPTS(pss_walk_marker_opts, o, .allocator = &al);
	struct pss_walk_marker *m;
	const void *e;
	size_t len;

	ASSERT_EQ(0, pss_walk_marker_create(self->snap, PSS_WALK_VA_SPACE, &o, &m));
	EXPECT_EQ(1, ca.allocs);		/* the marker; buffer is lazy */
	ASSERT_EQ(1, pss_walk(m, &e, &len));
	EXPECT_EQ(2, ca.allocs);
	EXPECT_EQ(2, ca_live(&ca));
	pss_walk_marker_free(m);
	EXPECT_EQ(0, ca_live(&ca));
	EXPECT_EQ(2, ca.frees);
	EXPECT_EQ(0, ca.bad_frees);
}

TEST_F(self, custom_allocator_failures)
{
	struct counting_alloc ca = { .fail_after = 0 };
	struct pss_allocator al = { .ctx = &ca, .alloc = ca_alloc, .free = ca_free };
	struct pss_allocator half = { .ctx = &ca, .alloc = ca_alloc };
	PSS_OPTS(pss_walk_marker_opts, o, .allocator = &al);
	PSS_OPTS(pss_walk_marker_opts, ho, .allocator = &half);
	struct pss_walk_marker *m = NULL;
	const void *e;
	size_t len;
	__u64 pos;

	EXPECT_EQ(-EINVAL, pss_walk_marker_create(self->snap, PSS_WALK_THREADS, &ho, &m));
	/* the marker allocation fails */
	EXPECT_EQ(-ENOMEM, pss_walk_marker_create(self->snap, PSS_WALK_THREADS, &o, &m));
	EXPECT_EQ(NULL, m);
	/* the batch buffer allocation fails: error, position unchanged */
	ca.fail_after = 1;
	ASSERT_EQ(0, pss_walk_marker_create(self->snap, PSS_WALK_THREADS, &o, &m));
	EXPECT_EQ(-ENOMEM, pss_walk(m, &e, &len));
	EXPECT_EQ(NULL, e);
	ASSERT_EQ(0, pss_walk_marker_get_position(m, &pos));
	EXPECT_EQ(0, pos);
	/* ... and recovers once memory is back */
	ca.fail_after = -1;
	EXPECT_EQ(1, pss_walk(m, &e, &len));
	pss_walk_marker_free(m);
	EXPECT_EQ(0, ca_live(&ca));
	EXPECT_EQ(0, ca.bad_frees);

	/* memory not aligned for records is refused, and given back */
	ca.misalign = true;
	EXPECT_EQ(-EINVAL, pss_walk_marker_create(self->snap, PSS_WALK_THREADS, &o, &m));
	EXPECT_EQ(0, ca_live(&ca));
}

/* ------------------------------------------------------------ lifetime */

TEST_F(self, marker_outlives_snapshot_handle)
{
	struct pss_walk_marker *m;
	struct walk_result ref;
	const void *e;
	size_t len;
	__u64 n = 0;

	ASSERT_EQ(0, walk_all(self->snap, PSS_WALK_HANDLES, NULL, &ref));
	ASSERT_EQ(0, pss_walk_marker_create(self->snap, PSS_WALK_HANDLES, NULL, &m));
	pss_snapshot_free(self->snap);
	self->snap = NULL;
	while (pss_walk(m, &e, &len) == 1) {
		ASSERT_EQ(0, memcmp(ref.blob + ref.offs[n], e, len));
		n++;
	}
	EXPECT_EQ(ref.count, n);
	pss_walk_marker_free(m);
	walk_result_free(&ref);
}

TEST_F(self, dup_survives_free_of_original)
{
	struct pss_snapshot *dup;
	struct pss_snapshot_info a, b;
	struct walk_result r1, r2;
	int fd;

	ASSERT_EQ(0, pss_query(self->snap, PSS_QUERY_SNAPSHOT, &a, sizeof(a)));
	ASSERT_EQ(0, walk_all(self->snap, PSS_WALK_VA_SPACE, NULL, &r1));
	ASSERT_EQ(0, pss_snapshot_dup(self->snap, &dup));
	fd = pss_snapshot_fd(dup);
	ASSERT_LE(0, fd);
	EXPECT_NE(pss_snapshot_fd(self->snap), fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	pss_snapshot_free(self->snap);
	self->snap = NULL;
	ASSERT_EQ(0, pss_query(dup, PSS_QUERY_SNAPSHOT, &b, sizeof(b)));
	/* the same immutable snapshot: the same cut */
	EXPECT_EQ(a.cut_ns, b.cut_ns);
	EXPECT_EQ(a.nr_vmas, b.nr_vmas);
	ASSERT_EQ(0, walk_all(dup, PSS_WALK_VA_SPACE, NULL, &r2));
	ASSERT_EQ(r1.bytes, r2.bytes);
	EXPECT_EQ(0, memcmp(r1.blob, r2.blob, r1.bytes));
	pss_snapshot_free(dup);
	walk_result_free(&r1);
	walk_result_free(&r2);
}

TEST_F(self, dup_works_across_fork)
{
	struct pss_snapshot *dup;
	struct walk_result ref;
	pid_t pid;
	int st;

	ASSERT_EQ(0, walk_all(self->snap, PSS_WALK_THREADS, NULL, &ref));
	ASSERT_EQ(0, pss_snapshot_dup(self->snap, &dup));
	pss_snapshot_free(self->snap);
	self->snap = NULL;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct walk_result r;
		struct pss_process_info *pi = calloc(1, sizeof(*pi));

		if (!pi || pss_query(dup, PSS_QUERY_PROCESS, pi, sizeof(*pi)))
			_exit(2);
		/* the parent's snapshot, not the child's process */
		if (pi->pid != getppid())
			_exit(3);
		if (walk_all(dup, PSS_WALK_THREADS, NULL, &r))
			_exit(4);
		if (r.bytes != ref.bytes || memcmp(r.blob, ref.blob, r.bytes))
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	pss_snapshot_free(dup);
	walk_result_free(&ref);
}

/*
 * The exec'd side of dup_works_across_exec: before the harness starts, a
 * process started with LIBPSS_TEST_ADOPT_FD=fd:count adopts that fd, walks
 * its handles and exits 0 if it finds count of them.
 */
__attribute__((constructor)) static void adopt_after_exec(void)
{
	const char *env = getenv("LIBPSS_TEST_ADOPT_FD");
	struct pss_snapshot *s;
	unsigned long long want;
	__u64 n = 0;
	const void *e;
	struct pss_walk_marker *m;
	int fd;

	if (!env)
		return;
	if (sscanf(env, "%d:%llu", &fd, &want) != 2)
		_exit(10);
	if (pss_snapshot_from_fd(fd, &s))
		_exit(11);
	if (pss_walk_marker_create(s, PSS_WALK_HANDLES, NULL, &m))
		_exit(12);
	pss_snapshot_free(s);
	while (pss_walk(m, &e, NULL) == 1)
		n++;
	pss_walk_marker_free(m);
	_exit(n == want ? 0 : 13);
}

TEST_F(self, dup_works_across_exec)
{
	struct pss_snapshot *dup;
	char env[64];
	__u64 n;
	pid_t pid;
	int st, fd;

	if (access("/proc/self/exe", X_OK))
		SKIP(return, "no /proc/self/exe");
	ASSERT_EQ(0, pss_count(self->snap, PSS_WALK_HANDLES, &n));
	ASSERT_EQ(0, pss_snapshot_dup(self->snap, &dup));
	fd = pss_snapshot_fd(dup);
	/* the original handle's fd is CLOEXEC and must not leak into exec */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *argv[] = { "libpss_test", NULL };

		if (fcntl(fd, F_SETFD, 0))
			_exit(20);
		snprintf(env, sizeof(env), "LIBPSS_TEST_ADOPT_FD=%d:%llu", fd,
			 (unsigned long long)n);
		putenv(env);
		execv("/proc/self/exe", argv);
		_exit(21);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	/* the parent's handles are unaffected */
	EXPECT_EQ(0, pss_query(dup, PSS_QUERY_SNAPSHOT, &(struct pss_snapshot_info){ 0 },
			       sizeof(struct pss_snapshot_info)));
	pss_snapshot_free(dup);
}

static int send_fd(int sock, int fd)
{
	char data = 'p';
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char data;
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

TEST_F(self, scm_rights_adopt_in_other_process)
{
	struct walk_result ref;
	int sv[2], st;
	pid_t pid;

	ASSERT_EQ(0, walk_all(self->snap, PSS_WALK_HANDLES, NULL, &ref));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pss_snapshot *got;
		struct walk_result r;
		int fd;

		/* forget everything inherited: only the socket brings it */
		pss_snapshot_free(self->snap);
		close(sv[0]);
		fd = recv_fd(sv[1]);
		if (fd < 0)
			_exit(2);
		if (pss_snapshot_from_fd(fd, &got))
			_exit(3);
		if (pss_snapshot_fd(got) != fd)
			_exit(4);
		if (walk_all(got, PSS_WALK_HANDLES, NULL, &r))
			_exit(5);
		if (r.count != ref.count || memcmp(r.blob, ref.blob, r.bytes))
			_exit(6);
		pss_snapshot_free(got);
		/* the handle owned the fd */
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			_exit(7);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, send_fd(sv[0], pss_snapshot_fd(self->snap)));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	close(sv[0]);
	walk_result_free(&ref);
}

TEST_F(self, adopt_validates_fd)
{
	struct pss_snapshot *s = (struct pss_snapshot *)0x1;
	int fd;

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOTTY, pss_snapshot_from_fd(fd, &s));
	EXPECT_EQ((struct pss_snapshot *)0x1, s);	/* untouched */
	/* on failure the caller still owns the fd */
	EXPECT_LE(0, fcntl(fd, F_GETFD));
	close(fd);
	EXPECT_EQ(-EBADF, pss_snapshot_from_fd(fd, &s));
	EXPECT_EQ(-EBADF, pss_snapshot_from_fd(-1, &s));
	EXPECT_EQ(-EINVAL, pss_snapshot_from_fd(pss_snapshot_fd(self->snap), NULL));

	/* a raw dup of a real snapshot fd adopts fine */
	fd = fcntl(pss_snapshot_fd(self->snap), F_DUPFD_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pss_snapshot_from_fd(fd, &s));
	EXPECT_EQ(fd, pss_snapshot_fd(s));
	pss_snapshot_free(s);
}

/* Many threads sharing one snapshot, one marker each. */
struct thr_arg {
	struct pss_snapshot *snap;
	enum pss_walk_class cls;
	__u64 expect;
	int rounds;
	int result;
};

static void *thr_walk(void *p)
{
	struct thr_arg *a = p;
	int i;

	a->result = 0;
	for (i = 0; i < a->rounds && !a->result; i++) {
		PSS_OPTS(pss_walk_marker_opts, o, .batch_bytes = (size_t)(i % 3) * 700 + 1);
		struct walk_result r;
		struct pss_count_info ci;

		if (pss_query(a->snap, query_for(a->cls), &ci, sizeof(ci)))
			a->result = 1;
		else if (walk_all(a->snap, a->cls, &o, &r))
			a->result = 2;
		else if (r.count != a->expect || r.count != ci.count)
			a->result = 3;
		walk_result_free(&r);
	}
	return NULL;
}

TEST_F(self, threads_share_one_snapshot)
{
	struct thr_arg args[6];
	pthread_t th[6];
	int i;

	for (i = 0; i < 6; i++) {
		args[i].snap = self->snap;
		args[i].cls = all_classes[i % 3];
		args[i].rounds = 20;
		ASSERT_EQ(0, pss_count(self->snap, args[i].cls, &args[i].expect));
	}
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, thr_walk, &args[i]));
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		EXPECT_EQ(0, args[i].result) TH_LOG("thread %d", i);
	}
}

/* ------------------------------------------------------------ opts */

/* The typed walks and pss_for_each_*() hand out what pss_walk() does. */
TEST_F(self, typed_walks_and_for_each)
{
	static const __u32 classes[] = {
		PSS_WALK_THREADS, PSS_WALK_HANDLES, PSS_WALK_VA_SPACE,
	};
	const struct pss_thread_entry *t;
	const struct pss_handle_entry *h;
	const struct pss_vma_entry *v;
	struct pss_walk_marker *m, *ref;
	const void *e;
	size_t i, len, rlen;
	__u64 count, n;
	int ret;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pss_count(self->snap, classes[i], &count));
		ASSERT_EQ(0, pss_walk_marker_create(self->snap, classes[i], NULL, &m));
		ASSERT_EQ(0, pss_walk_marker_create(self->snap, classes[i], NULL, &ref));
		n = 0;
		for (;;) {
			const void *got = NULL;

			ret = pss_walk(ref, &e, &rlen);
			if (classes[i] == PSS_WALK_THREADS) {
				EXPECT_EQ(ret, pss_walk_thread(m, &t, &len));
				got = t;
				EXPECT_EQ(-EINVAL, pss_walk_vma(m, &v, NULL));
			} else if (classes[i] == PSS_WALK_HANDLES) {
				EXPECT_EQ(ret, pss_walk_handle(m, &h, &len));
				got = h;
				EXPECT_EQ(-EINVAL, pss_walk_thread(m, &t, NULL));
			} else {
				EXPECT_EQ(ret, pss_walk_vma(m, &v, &len));
				got = v;
				EXPECT_EQ(-EINVAL, pss_walk_handle(m, &h, NULL));
			}
			if (ret != 1)
				break;
			ASSERT_NE(NULL, got);
			EXPECT_EQ(rlen, len);
			EXPECT_EQ(0, memcmp(e, got, len));
			n++;
		}
		EXPECT_EQ(0, ret);
		EXPECT_EQ(count, n);
		pss_walk_marker_free(m);
		pss_walk_marker_free(ref);
	}

	ASSERT_EQ(0, pss_count(self->snap, PSS_WALK_VA_SPACE, &count));
	ASSERT_EQ(0, pss_walk_marker_create(self->snap, PSS_WALK_VA_SPACE, NULL, &m));
	n = 0;
	pss_for_each_vma(m, v, ret) {
		EXPECT_LT(v->start, v->end);
		n++;
	}
	EXPECT_EQ(0, ret);
	EXPECT_EQ(count, n);
	pss_walk_marker_free(m);

	ASSERT_EQ(0, pss_walk_marker_create(self->snap, PSS_WALK_HANDLES, NULL, &m));
	n = 0;
	pss_for_each_handle(m, h, ret)
		n += h->fd == self->devnull_fd;
	EXPECT_EQ(0, ret);
	EXPECT_EQ(1, n);
	pss_walk_marker_free(m);

	ASSERT_EQ(0, pss_walk_marker_create(self->snap, PSS_WALK_THREADS, NULL, &m));
	n = 0;
	pss_for_each_thread(m, t, ret)
		n += t->tid == (pid_t)syscall(SYS_gettid);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(1, n);
	pss_walk_marker_free(m);
}

/*
 * pss_walk_copy(): entries copied out survive later walks, the marker and
 * the snapshot; a short buffer is -ENOSPC with the size needed and does
 * not move the marker. Tiny batches make every step a new ioctl, so a
 * copy that pointed into the batch buffer would be overwritten.
 */
TEST_F(self, walk_copy_outlives_the_walk)
{
	PSS_OPTS(pss_walk_marker_opts, tiny, .batch_bytes = 1);
	struct pss_walk_marker *m;
	__u64 count, pos, i;
	void **copies;
	char **names;
	const void *e;
	size_t len, need;

	ASSERT_EQ(0, pss_count(self->snap, PSS_WALK_HANDLES, &count));
	ASSERT_LT(10, count);
	copies = calloc(count, sizeof(*copies));
	names = calloc(count, sizeof(*names));
	ASSERT_NE(NULL, copies);
	ASSERT_NE(NULL, names);
	ASSERT_EQ(0, pss_walk_marker_create(self->snap, PSS_WALK_HANDLES, &tiny, &m));
	for (i = 0; i < count; i++) {
		char small[8];

		ASSERT_EQ(0, pss_walk_marker_get_position(m, &pos));
		EXPECT_EQ(-ENOSPC, pss_walk_copy(m, small, sizeof(small), &need));
		EXPECT_LT(sizeof(small), need);
		ASSERT_EQ(0, pss_walk_marker_get_position(m, &pos));
		EXPECT_EQ(i, pos);	/* did not move */
		copies[i] = aligned_alloc(8, (need + 7) & ~(size_t)7);
		ASSERT_NE(NULL, copies[i]);
		ASSERT_EQ(1, pss_walk_copy(m, copies[i], need, &len));
		EXPECT_EQ(need, len);
		names[i] = strdup(pss_handle_entry_name(copies[i]) ?: "");
	}
	EXPECT_EQ(0, pss_walk_copy(m, copies[0], 0, &len));
	EXPECT_EQ(-EINVAL, pss_walk_copy(m, NULL, 8, &len));

	/* the same entries again, through pss_walk() */
	ASSERT_EQ(0, pss_walk_marker_seek_to_beginning(m));
	for (i = 0; i < count; i++) {
		ASSERT_EQ(1, pss_walk(m, &e, &len));
		EXPECT_EQ(0, memcmp(e, copies[i], len)) TH_LOG("entry %llu",
							    (unsigned long long)i);
	}
	pss_walk_marker_free(m);
	pss_snapshot_free(self->snap);
	self->snap = NULL;
	for (i = 0; i < count; i++) {
		const char *n = pss_handle_entry_name(copies[i]);

		EXPECT_STREQ(names[i], n ? n : "");
		free(copies[i]);
		free(names[i]);
	}
	free(copies);
	free(names);
}

TEST_F(self, opts_unknown_trailing_bytes)
{
	struct {
		struct pss_capture_opts o;
		__u64 future;
	} cbig;
	struct {
		struct pss_walk_marker_opts o;
		__u64 future;
	} mbig;
	struct pss_snapshot *s = NULL;
	struct pss_walk_marker *m = NULL;

	memset(&cbig, 0, sizeof(cbig));
	cbig.o.sz = sizeof(cbig);
	cbig.o.dev_fd = -1;	/* filled by hand: "no /dev/pss fd" is -1 */
	cbig.future = 1;
	EXPECT_EQ(-EINVAL, pss_capture(&cbig.o, &s));
	EXPECT_EQ(NULL, s);
	cbig.future = 0;	/* zero unknown bytes: fine */
	ASSERT_EQ(0, pss_capture(&cbig.o, &s));
	pss_snapshot_free(s);
	/* sz must at least cover itself */
	cbig.o.sz = 4;
	EXPECT_EQ(-EINVAL, pss_capture(&cbig.o, &s));

	memset(&mbig, 0, sizeof(mbig));
	mbig.o.sz = sizeof(mbig);
	mbig.future = 1ULL << 63;
	EXPECT_EQ(-EINVAL, pss_walk_marker_create(self->snap, PSS_WALK_THREADS, &mbig.o, &m));
	EXPECT_EQ(NULL, m);
	mbig.future = 0;
	ASSERT_EQ(0, pss_walk_marker_create(self->snap, PSS_WALK_THREADS, &mbig.o, &m));
	pss_walk_marker_free(m);
}

TEST_F(self, opts_older_smaller_struct)
{
	/* an old caller that only knew sz and facets: the rest reads as 0 */
	struct pss_capture_opts o;
	struct pss_snapshot *s;
	struct pss_process_info *pi = calloc(1, sizeof(*pi));
	struct pss_snapshot_info si;

	ASSERT_NE(NULL, pi);
	memset(&o, 0xff, sizeof(o));	/* garbage beyond sz is ignored */
	o.sz = offsetof(struct pss_capture_opts, facets) + sizeof(o.facets);
	o.facets = PSS_FACET_THREADS;
	ASSERT_EQ(0, pss_capture(&o, &s));
	ASSERT_EQ(0, pss_query(s, PSS_QUERY_PROCESS, pi, sizeof(*pi)));
	EXPECT_EQ(getpid(), pi->pid);	/* pid read as 0: self */
	ASSERT_EQ(0, pss_query(s, PSS_QUERY_SNAPSHOT, &si, sizeof(si)));
	EXPECT_EQ(PSS_FACET_THREADS, si.facets);
	pss_snapshot_free(s);
	free(pi);
}

TEST_F(self, stats_size_versioned)
{
	struct {
		struct pss_walk_stats st;
		__u64 future;
	} big;
	struct pss_walk_marker *m;
	size_t small_sz = offsetof(struct pss_walk_stats, batches);
	struct pss_walk_stats small;

	ASSERT_EQ(0, pss_walk_marker_create(self->snap, PSS_WALK_THREADS, NULL, &m));
	memset(&big, 0xff, sizeof(big));
	big.st.sz = sizeof(big);
	ASSERT_EQ(0, pss_walk_marker_get_stats(m, &big.st));
	EXPECT_EQ(0, big.future);
	EXPECT_EQ(0, big.st.ioctls);
	EXPECT_EQ(sizeof(big), big.st.sz);
	memset(&small, 0xff, sizeof(small));
	small.sz = small_sz;
	ASSERT_EQ(0, pss_walk_marker_get_stats(m, &small));
	EXPECT_EQ(0, small.ioctls);
	EXPECT_EQ(~0ULL, small.batches);	/* beyond sz: untouched */
	small.sz = 2;
	EXPECT_EQ(-EINVAL, pss_walk_marker_get_stats(m, &small));
	pss_walk_marker_free(m);
}

/* ------------------------------------------------------------ errors */

TEST_F(self, invalid_arguments)
{
	struct pss_snapshot *s = NULL, *noth = NULL;
	struct pss_walk_marker *m = NULL;
	struct pss_snapshot_info si;
	struct pss_count_info ci;
	const void *e;
	size_t len;
	__u64 n;
	int fd;

	/* capture */
	EXPECT_EQ(-EINVAL, pss_capture(NULL, NULL));
	{
		PSS_OPTS(pss_capture_opts, both, .flags = PSS_CAPTURE_PIDFD,
			 .pid = getpid(), .pidfd = 3);
		PSS_OPTS(pss_capture_opts, stray, .pidfd = 3);
		PSS_OPTS(pss_capture_opts, negdev, .dev_fd = -2);

		EXPECT_EQ(-EINVAL, pss_capture(&both, &s));
		EXPECT_EQ(-EINVAL, pss_capture(&stray, &s));
		EXPECT_EQ(-EBADF, pss_capture(&negdev, &s));
	}
	EXPECT_EQ(-EBADF, pss_capture_pidfd(-1, 0, &s));
	EXPECT_EQ(-EINVAL, pss_capture_pid(-1, 0, &s));
	EXPECT_EQ(-EINVAL, pss_capture_pid(0, 1ULL << 62, &s));	/* unknown facet */
	EXPECT_EQ(-EINVAL, pss_capture_pid(0, PSS_FACET_HANDLE_NAME, &s)); /* level w/o facet */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADFD, pss_capture_pidfd(fd, 0, &s));
	close(fd);
	EXPECT_EQ(NULL, s);

	/* query */
	EXPECT_EQ(-EINVAL, pss_query(NULL, PSS_QUERY_SNAPSHOT, &si, sizeof(si)));
	EXPECT_EQ(-EINVAL, pss_query(self->snap, PSS_QUERY_SNAPSHOT, NULL, sizeof(si)));
	EXPECT_EQ(-EINVAL, pss_query(self->snap, PSS_QUERY_SNAPSHOT, &si, (size_t)UINT32_MAX + 1));
	EXPECT_EQ(-EINVAL, pss_query(self->snap, PSS_QUERY_NR_CLASSES, &si, sizeof(si)));
	EXPECT_EQ(-EINVAL, pss_query(self->snap, PSS_QUERY_SNAPSHOT, &si, 4));
	EXPECT_EQ(-EFAULT, pss_query(self->snap, PSS_QUERY_SNAPSHOT, (void *)8, sizeof(si)));
	/* this snapshot has no performance facet */
	{
		struct pss_perf_info pf;

		EXPECT_EQ(-ENODATA, pss_query(self->snap, PSS_QUERY_PERFORMANCE, &pf, sizeof(pf)));
	}
	EXPECT_EQ(-EINVAL, pss_count(NULL, PSS_WALK_THREADS, &n));
	EXPECT_EQ(-EINVAL, pss_count(self->snap, PSS_WALK_THREADS, NULL));
	EXPECT_EQ(-EINVAL, pss_count(self->snap, PSS_WALK_NR_CLASSES, &n));

	/* facets not captured */
	ASSERT_EQ(0, pss_capture_pid(0, 0, &noth));
	EXPECT_EQ(-ENODATA, pss_count(noth, PSS_WALK_THREADS, &n));
	EXPECT_EQ(-ENODATA, pss_query(noth, PSS_QUERY_HANDLES, &ci, sizeof(ci)));
	EXPECT_EQ(-ENODATA, pss_walk_marker_create(noth, PSS_WALK_VA_SPACE, NULL, &m));
	EXPECT_EQ(NULL, m);
	pss_snapshot_free(noth);

	/* markers */
	EXPECT_EQ(-EINVAL, pss_walk_marker_create(NULL, PSS_WALK_THREADS, NULL, &m));
	EXPECT_EQ(-EINVAL, pss_walk_marker_create(self->snap, PSS_WALK_THREADS, NULL, NULL));
	EXPECT_EQ(-EINVAL, pss_walk_marker_create(self->snap, PSS_WALK_NR_CLASSES, NULL, &m));
	EXPECT_EQ(-EINVAL, pss_walk_marker_create(self->snap, (enum pss_walk_class)-1, NULL, &m));
	EXPECT_EQ(NULL, m);
	EXPECT_EQ(-EINVAL, pss_walk(NULL, &e, &len));
	ASSERT_EQ(0, pss_walk_marker_create(self->snap, PSS_WALK_THREADS, NULL, &m));
	EXPECT_EQ(-EINVAL, pss_walk(m, NULL, &len));
	EXPECT_EQ(1, pss_walk(m, &e, NULL));	/* len is optional */
	EXPECT_EQ(-EINVAL, pss_walk_marker_get_position(NULL, &n));
	EXPECT_EQ(-EINVAL, pss_walk_marker_get_position(m, NULL));
	EXPECT_EQ(-EINVAL, pss_walk_marker_set_position(NULL, 0));
	EXPECT_EQ(-EINVAL, pss_walk_marker_seek_to_beginning(NULL));
	EXPECT_EQ(-EINVAL, pss_walk_marker_get_stats(NULL, NULL));
	pss_walk_marker_free(m);
	pss_walk_marker_free(NULL);	/* no-op */

	/* sharing */
	EXPECT_EQ(-EINVAL, pss_snapshot_dup(NULL, &s));
	EXPECT_EQ(-EINVAL, pss_snapshot_dup(self->snap, NULL));
	EXPECT_EQ(-EINVAL, pss_snapshot_fd(NULL));
	pss_snapshot_free(NULL);	/* no-op */

	/* version */
	{
		struct pss_version v;

		EXPECT_EQ(-EINVAL, pss_get_version(NULL, sizeof(v)));
		EXPECT_EQ(-EINVAL, pss_get_version(&v, PSS_VERSION_SIZE_VER0 - 1));
	}
}

TEST(capture_dead_pid_esrch)
{
	struct pss_snapshot *s = NULL;
	int pidfd, st;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(0);
	pidfd = sys_pidfd_open(pid);
	ASSERT_LE(0, pidfd);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	/* reaped: both the pid and the (now stale) pidfd are gone */
	EXPECT_EQ(-ESRCH, pss_capture_pid(pid, 0, &s));
	EXPECT_EQ(-ESRCH, pss_capture_pidfd(pidfd, 0, &s));
	EXPECT_EQ(NULL, s);
	close(pidfd);
}

TEST(capture_kernel_thread_eperm)
{
	struct pss_snapshot *s = NULL;

	/* kthreadd is pid 2 in the initial pid namespace */
	if (getpid() == 1 || access("/proc/2/comm", R_OK))
		SKIP(return, "no kthreadd visible");
	EXPECT_EQ(-EPERM, pss_capture_pid(2, 0, &s));
	EXPECT_EQ(NULL, s);
}

TEST(version)
{
	struct pss_version v;
	struct {
		struct pss_version v;
		__u64 future[2];
	} big;

	ASSERT_EQ(0, pss_get_version(&v, sizeof(v)));
	EXPECT_EQ(PSS_ABI_VERSION, v.abi_version);
	EXPECT_EQ(PSS_CAPTURE_FLAGS_ALL, v.capture_flags & PSS_CAPTURE_FLAGS_ALL);
	EXPECT_TRUE(v.walk_classes & (1ULL << PSS_WALK_HANDLES));
	EXPECT_TRUE(v.query_classes & (1ULL << PSS_QUERY_SNAPSHOT));
	memset(&big, 0xff, sizeof(big));
	ASSERT_EQ(0, pss_get_version(&big.v, sizeof(big)));
	EXPECT_EQ(PSS_ABI_VERSION, big.v.abi_version);
	EXPECT_EQ(0, big.future[0]);
}

TEST(dev_fd_opt_is_used_and_kept)
{
	struct pss_snapshot *s;
	int dfd = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, dfd);
	{
		PSS_OPTS(pss_capture_opts, o, .dev_fd = dfd, .facets = PSS_FACET_THREADS);

		ASSERT_EQ(0, pss_capture(&o, &s));
	}
	pss_snapshot_free(s);
	EXPECT_LE(0, fcntl(dfd, F_GETFD));	/* still ours, still open */
	close(dfd);
	{
		/* a non-pss fd as dev_fd: the capture ioctl is refused */
		int nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		PSS_OPTS(pss_capture_opts, o, .dev_fd = nfd);

		ASSERT_LT(0, nfd);
		EXPECT_EQ(-ENOTTY, pss_capture(&o, &s));
		close(nfd);
	}
}

/*
 * .dev_fd is a descriptor from 0 up; -1 (the PSS_OPTS default) opens
 * /dev/pss per call. A daemon whose fd 0 is something else must still get
 * a capture by default, and fd 0 must be usable when it is /dev/pss.
 */
TEST(dev_fd_zero_is_a_descriptor)
{
	struct pss_snapshot *s = NULL;
	int saved = fcntl(0, F_DUPFD_CLOEXEC, 3), nul, dev;

	ASSERT_LE(3, saved);
	nul = open("/dev/null", O_RDONLY);
	ASSERT_LE(0, nul);
	ASSERT_EQ(0, dup2(nul, 0));
	{
		PSS_OPTS(pss_capture_opts, dflt, .facets = PSS_FACET_THREADS);
		PSS_OPTS(pss_capture_opts, zero, .dev_fd = 0);

		EXPECT_EQ(-1, dflt.dev_fd);
		EXPECT_EQ(0, pss_capture(&dflt, &s));	/* opened /dev/pss */
		pss_snapshot_free(s);
		s = NULL;
		/* fd 0 is /dev/null: used, so the capture ioctl is refused */
		EXPECT_EQ(-ENOTTY, pss_capture(&zero, &s));
		EXPECT_EQ(NULL, s);

		dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, dev);
		ASSERT_EQ(0, dup2(dev, 0));
		close(dev);
		EXPECT_EQ(0, pss_capture(&zero, &s));	/* fd 0 is /dev/pss now */
		pss_snapshot_free(s);
	}
	dup2(saved, 0);
	close(saved);
	close(nul);
}

TEST(library_version)
{
	char want[32];

	EXPECT_EQ(LIBPSS_MAJOR_VERSION, pss_library_major_version());
	EXPECT_EQ(LIBPSS_MINOR_VERSION, pss_library_minor_version());
	EXPECT_STREQ(LIBPSS_VERSION, pss_library_version());
	snprintf(want, sizeof(want), "%u.%u.", pss_library_major_version(),
		 pss_library_minor_version());
	EXPECT_EQ(0, strncmp(pss_library_version(), want, strlen(want)));
}

TEST(string_helpers)
{
	EXPECT_STREQ("regular", pss_handle_type_name(PSS_HT_REGULAR));
	EXPECT_STREQ("socket", pss_handle_type_name(PSS_HT_SOCKET));
	EXPECT_STREQ("pss", pss_handle_type_name(PSS_HT_PSS));
	EXPECT_STREQ("unknown", pss_handle_type_name(PSS_HT_NR));
	EXPECT_STREQ("unknown", pss_handle_type_name(~0U));
	EXPECT_STREQ("running", pss_state_name('R'));
	EXPECT_STREQ("stopped", pss_state_name('T'));
	EXPECT_STREQ("tracing stop", pss_state_name('t'));
	EXPECT_STREQ("zombie", pss_state_name('Z'));
	EXPECT_STREQ("unknown", pss_state_name('?'));
	EXPECT_STREQ("heap", pss_vma_name_kind_name(PSS_VMA_NAME_HEAP));
	EXPECT_STREQ("unknown", pss_vma_name_kind_name(1000));
	EXPECT_STREQ("va_space", pss_walk_class_name(PSS_WALK_VA_SPACE));
	EXPECT_STREQ("unknown", pss_walk_class_name(PSS_WALK_NR_CLASSES));
	EXPECT_STREQ("performance", pss_query_class_name(PSS_QUERY_PERFORMANCE));
	EXPECT_STREQ("unknown", pss_query_class_name(PSS_QUERY_NR_CLASSES));
	EXPECT_STREQ("handle_name", pss_facet_name(PSS_FACET_HANDLE_NAME));
	EXPECT_STREQ("unknown", pss_facet_name(PSS_FACET_THREADS | PSS_FACET_HANDLES));
}

TEST(record_accessors_bounds)
{
	/* hand-made records: the accessors must not trust offsets blindly */
	union {
		struct pss_handle_entry h;
		struct pss_vma_entry v;
		struct pss_thread_entry t;
		unsigned char raw[256];
	} u;
	size_t nw = 99;

	memset(&u, 0, sizeof(u));
	u.h.rec_len = PSS_HANDLE_ENTRY_SIZE_VER0 + 16;
	u.h.name_off = PSS_HANDLE_ENTRY_SIZE_VER0;
	u.h.name_len = 9;
	memcpy(u.raw + PSS_HANDLE_ENTRY_SIZE_VER0, "/dev/null", 10);
	EXPECT_STREQ("/dev/null", pss_handle_entry_name(&u.h));
	memset(u.raw + PSS_HANDLE_ENTRY_SIZE_VER0 + 10, 'x', 6);
	u.h.name_len = 15;	/* byte 15 is inside, but not a NUL */
	EXPECT_EQ(NULL, pss_handle_entry_name(&u.h));
	u.h.name_len = 16;	/* NUL past rec_len */
	EXPECT_EQ(NULL, pss_handle_entry_name(&u.h));
	u.h.name_len = 9;
	u.h.name_off = 8;	/* inside the fixed part */
	EXPECT_EQ(NULL, pss_handle_entry_name(&u.h));
	u.h.name_off = 0;	/* none */
	EXPECT_EQ(NULL, pss_handle_entry_name(&u.h));

	memset(&u, 0, sizeof(u));
	u.t.rec_len = PSS_THREAD_ENTRY_SIZE_VER0 + 16;
	u.t.cpus_off = PSS_THREAD_ENTRY_SIZE_VER0;
	u.t.cpus_len = 16;
	EXPECT_EQ((const __u64 *)(u.raw + PSS_THREAD_ENTRY_SIZE_VER0),
		  pss_thread_entry_cpus(&u.t, &nw));
	EXPECT_EQ(2, nw);
	u.t.cpus_len = 24;
	EXPECT_EQ(NULL, pss_thread_entry_cpus(&u.t, &nw));
	EXPECT_EQ(0, nw);

	memset(&u, 0, sizeof(u));
	u.v.rec_len = PSS_VMA_ENTRY_SIZE_VER0 + 8;
	u.v.name_off = PSS_VMA_ENTRY_SIZE_VER0;
	u.v.name_len = 6;
	memcpy(u.raw + PSS_VMA_ENTRY_SIZE_VER0, "[heap]", 7);
	EXPECT_STREQ("[heap]", pss_vma_entry_name(&u.v));
	EXPECT_TRUE(PSS_ENTRY_HAS(&u.v, PSS_VMA_ENTRY_SIZE_VER0, page_size));
	EXPECT_FALSE(PSS_ENTRY_HAS(&u.v, PSS_VMA_ENTRY_SIZE_VER0 - 8, page_size));
}

TEST(thread_state_names)
{
	EXPECT_STREQ("none", pss_park_name(PSS_PARK_NONE));
	EXPECT_STREQ("waited", pss_park_name(PSS_PARK_WAITED));
	EXPECT_STREQ("stopped", pss_park_name(PSS_PARK_STOPPED));
	EXPECT_STREQ("blocked", pss_park_name(PSS_PARK_BLOCKED));
	EXPECT_STREQ("caller", pss_park_name(PSS_PARK_CALLER));
	EXPECT_STREQ("unknown", pss_park_name(PSS_PARK_CALLER + 1));
	EXPECT_STREQ("contexts", pss_walk_class_name(PSS_WALK_CONTEXTS));
	EXPECT_STREQ("kstacks", pss_walk_class_name(PSS_WALK_KSTACKS));
	EXPECT_STREQ("memory", pss_walk_class_name(PSS_WALK_MEMORY));
	EXPECT_STREQ("auxv", pss_query_class_name(PSS_QUERY_AUXV));
	EXPECT_STREQ("memory", pss_query_class_name(PSS_QUERY_MEMORY));
	EXPECT_STREQ("thread_context", pss_facet_name(PSS_FACET_THREAD_CONTEXT));
	EXPECT_STREQ("thread_kstack", pss_facet_name(PSS_FACET_THREAD_KSTACK));
	EXPECT_STREQ("memory", pss_facet_name(PSS_FACET_MEMORY));
}

TEST(thread_state_accessors_bounds)
{
	union {
		struct pss_context_entry c;
		struct pss_kstack_entry k;
		struct pss_memory_entry m;
		unsigned char raw[512];
	} u;
	struct pss_auxv_info ax;
	__u64 val = 7;
	size_t len = 99;

	/* three sets inside data_off/data_len, each found, then pushed out */
	memset(&u, 0, sizeof(u));
	u.c.rec_len = 64 + 3 * 64;
	u.c.data_off = 64;
	u.c.data_len = 3 * 64;
	u.c.gregs_off = 64;
	u.c.gregs_len = 64;
	u.c.fpregs_off = 128;
	u.c.fpregs_len = 64;
	u.c.xstate_off = 192;
	u.c.xstate_len = 64;
	EXPECT_EQ(u.raw + 64, pss_context_entry_gregs(&u.c, &len));
	EXPECT_EQ(64, len);
	EXPECT_EQ(u.raw + 128, pss_context_entry_fpregs(&u.c, &len));
	EXPECT_EQ(u.raw + 192, pss_context_entry_xstate(&u.c, &len));
	u.c.xstate_len = 65;	/* past data_len (and rec_len) */
	EXPECT_EQ(NULL, pss_context_entry_xstate(&u.c, &len));
	EXPECT_EQ(0, len);
	u.c.gregs_off = 32;	/* inside the fixed part */
	EXPECT_EQ(NULL, pss_context_entry_gregs(&u.c, &len));
	u.c.fpregs_len = 0;	/* not captured */
	EXPECT_EQ(NULL, pss_context_entry_fpregs(&u.c, &len));
	EXPECT_EQ(NULL, pss_context_entry_gregs(NULL, &len));

	memset(&u, 0, sizeof(u));
	u.k.rec_len = 24 + 16;
	u.k.text_off = 24;
	u.k.text_len = 10;
	memcpy(u.raw + 24, "f+0x1/0x2\n", 11);
	EXPECT_STREQ("f+0x1/0x2\n", pss_kstack_entry_text(&u.k, &len));
	EXPECT_EQ(10, len);
	u.k.text_len = 16;	/* its NUL would be past rec_len */
	EXPECT_EQ(NULL, pss_kstack_entry_text(&u.k, NULL));

	memset(&u, 0, sizeof(u));
	u.m.rec_len = 32 + 8;
	u.m.data_off = 32;
	u.m.data_len = 8;
	EXPECT_EQ(u.raw + 32, pss_memory_entry_data(&u.m, &len));
	EXPECT_EQ(8, len);
	u.m.data_len = 9;
	EXPECT_EQ(NULL, pss_memory_entry_data(&u.m, &len));
	EXPECT_EQ(0, len);

	memset(&ax, 0, sizeof(ax));
	ax.auxv[0] = 6;		/* AT_PAGESZ */
	ax.auxv[1] = 4096;
	ax.auxv[2] = 33;	/* AT_SYSINFO_EHDR */
	ax.auxv[3] = 0x1000;
	ax.len = 6 * sizeof(__u64);	/* AT_NULL included */
	EXPECT_EQ(0, pss_auxv_lookup(&ax, 33, &val));
	EXPECT_EQ(0x1000, val);
	EXPECT_EQ(-ENOENT, pss_auxv_lookup(&ax, 25, &val));
	ax.len = 2 * sizeof(__u64);	/* the second pair is past len */
	EXPECT_EQ(-ENOENT, pss_auxv_lookup(&ax, 33, &val));
	EXPECT_EQ(-EINVAL, pss_auxv_lookup(NULL, 33, &val));
}

/*
 * The thread-state options reach the kernel: a range over a buffer of ours
 * comes back byte for byte in the memory walk, and the caller's own context
 * is there; a 0.3-sized opts struct with garbage past its end captures.
 */
TEST(capture_opts_thread_state)
{
	const size_t len = 3 * 4096 + 100;
	unsigned char *buf = malloc(len);
	struct pss_memory_range r;
	PSS_OPTS(pss_capture_opts, o,
		 .facets = PSS_FACET_THREADS | PSS_FACET_THREAD_CONTEXT |
			   PSS_FACET_MEMORY,
		 .memory_flags = PSS_MEMORY_RANGES, .nr_ranges = 1, .ranges = &r);
	const struct pss_context_entry *c;
	const struct pss_memory_entry *m;
	struct pss_walk_marker *w;
	struct pss_auxv_info ax;
	struct pss_snapshot *s;
	size_t i, got = 0, dlen;
	__u64 pagesz = 0;
	bool mine = false;
	int ret;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	r.start = (uintptr_t)buf + 50;	/* not page aligned at either end */
	r.len = len - 60;

	o.nr_ranges = 1;
	o.ranges = NULL;
	EXPECT_EQ(-EINVAL, pss_capture(&o, &s));
	o.ranges = &r;
	ASSERT_EQ(0, pss_capture(&o, &s));

	ASSERT_EQ(0, pss_walk_marker_create(s, PSS_WALK_MEMORY, NULL, &w));
	pss_for_each_memory(w, m, ret) {
		const unsigned char *d = pss_memory_entry_data(m, &dlen);

		ASSERT_NE(NULL, d);
		EXPECT_TRUE(m->flags & PSS_MEMORY_ENTRY_RANGE);
		ASSERT_GE(m->addr, r.start);
		ASSERT_LE(m->addr + dlen, r.start + r.len);
		EXPECT_EQ(0, memcmp(d, (void *)(uintptr_t)m->addr, dlen));
		got += dlen;
	}
	EXPECT_EQ(0, ret);
	EXPECT_EQ(r.len, got);
	/* the typed walk of another class refuses the marker */
	EXPECT_EQ(-EINVAL, pss_walk_context(w, &c, NULL));
	pss_walk_marker_free(w);

	ASSERT_EQ(0, pss_walk_marker_create(s, PSS_WALK_CONTEXTS, NULL, &w));
	pss_for_each_context(w, c, ret) {
		if (c->tid != (pid_t)syscall(SYS_gettid))
			continue;
		mine = true;
		EXPECT_EQ(PSS_PARK_CALLER, c->park);
		EXPECT_NE(NULL, pss_context_entry_gregs(c, NULL));
	}
	EXPECT_EQ(0, ret);
	EXPECT_TRUE(mine);
	pss_walk_marker_free(w);

	ASSERT_EQ(0, pss_query(s, PSS_QUERY_AUXV, &ax, sizeof(ax)));
	EXPECT_EQ(0, pss_auxv_lookup(&ax, 6 /* AT_PAGESZ */, &pagesz));
	EXPECT_EQ((__u64)sysconf(_SC_PAGESIZE), pagesz);
	pss_snapshot_free(s);

	/* a 0.3 caller: the struct ended at dev_fd */
	memset(&o, 0xff, sizeof(o));
	o.sz = offsetof(struct pss_capture_opts, dev_fd) + sizeof(o.dev_fd);
	o.facets = PSS_FACET_THREADS;
	o.flags = 0;
	o.pid = 0;
	o.pidfd = 0;
	o.dev_fd = -1;
	ASSERT_EQ(0, pss_capture(&o, &s));
	EXPECT_EQ(-ENODATA, pss_walk_marker_create(s, PSS_WALK_MEMORY, NULL, &w));
	pss_snapshot_free(s);
	free(buf);
}

/* ------------------------------------------------------------ stopped child */

static void *child_thread(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "pss-t%ld", (long)(uintptr_t)arg);
	pthread_setname_np(pthread_self(), name);
	for (;;)
		pause();
	return NULL;
}

FIXTURE(child) {
	pid_t pid;
	int pidfd;
};

FIXTURE_SETUP(child)
{
	int ready[2], st;
	char c;

	ASSERT_EQ(0, pipe(ready));
	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (self->pid == 0) {
		pthread_t t;
		long i;

		close(ready[0]);
		if (dup2(ready[1], CHILD_MARK_FD) != CHILD_MARK_FD)
			_exit(1);
		for (i = 0; i < CHILD_THREADS; i++)
			if (pthread_create(&t, NULL, child_thread, (void *)(uintptr_t)i))
				_exit(1);
		/* give the threads time to name themselves */
		usleep(100 * 1000);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		raise(SIGSTOP);
		for (;;)
			pause();
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);
	ASSERT_EQ(self->pid, waitpid(self->pid, &st, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(st));
	self->pidfd = sys_pidfd_open(self->pid);
	ASSERT_LE(0, self->pidfd);
}

FIXTURE_TEARDOWN(child)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	if (self->pidfd >= 0)
		close(self->pidfd);
}

static void check_child_snapshot(struct __test_metadata *_metadata,
				 struct pss_snapshot *s, pid_t pid)
{
	struct pss_process_info *pi = calloc(1, sizeof(*pi));
	struct walk_result r;
	bool leader = false, mark = false;
	int named = 0;
	__u64 i, n;

	ASSERT_NE(NULL, pi);
	ASSERT_EQ(0, pss_query(s, PSS_QUERY_PROCESS, pi, sizeof(*pi)));
	EXPECT_EQ(pid, pi->pid);
	EXPECT_EQ(getpid(), pi->ppid);
	EXPECT_FALSE(pi->flags & PSS_PROC_SELF);
	EXPECT_TRUE(pi->flags & PSS_PROC_STOPPED);
	EXPECT_EQ(CHILD_THREADS + 1, pi->nr_threads);

	ASSERT_EQ(0, pss_count(s, PSS_WALK_THREADS, &n));
	EXPECT_EQ(CHILD_THREADS + 1, n);
	ASSERT_EQ(0, walk_all(s, PSS_WALK_THREADS, NULL, &r));
	EXPECT_EQ(n, r.count);
	for (i = 0; i < r.count; i++) {
		const struct pss_thread_entry *t = (void *)(r.blob + r.offs[i]);

		if (t->flags & PSS_THREAD_LEADER) {
			leader = true;
			EXPECT_EQ(pid, t->tid);
		}
		EXPECT_FALSE(t->flags & PSS_THREAD_CALLER);
		if (!strncmp(t->comm, "pss-t", 5))
			named++;
		EXPECT_STREQ("stopped", pss_state_name(t->state));
	}
	EXPECT_TRUE(leader);
	EXPECT_EQ(CHILD_THREADS, named);
	walk_result_free(&r);

	ASSERT_EQ(0, walk_all(s, PSS_WALK_HANDLES, NULL, &r));
	ASSERT_EQ(0, pss_count(s, PSS_WALK_HANDLES, &n));
	EXPECT_EQ(n, r.count);
	for (i = 0; i < r.count; i++) {
		const struct pss_handle_entry *h = (void *)(r.blob + r.offs[i]);

		if (h->fd == CHILD_MARK_FD) {
			mark = true;
			EXPECT_EQ(PSS_HT_PIPE, h->type);
			EXPECT_FALSE(h->flags & PSS_HANDLE_CLOEXEC);
		}
	}
	EXPECT_TRUE(mark);
	walk_result_free(&r);

	ASSERT_EQ(0, walk_all(s, PSS_WALK_VA_SPACE, NULL, &r));
	ASSERT_EQ(0, pss_count(s, PSS_WALK_VA_SPACE, &n));
	EXPECT_EQ(n, r.count);
	EXPECT_LE(3, r.count);	/* text, stack, vdso at least */
	walk_result_free(&r);
	free(pi);
}

TEST_F(child, capture_by_pid)
{
	struct pss_snapshot *s;

	ASSERT_EQ(0, pss_capture_pid(self->pid, CORE_FACETS, &s));
	check_child_snapshot(_metadata, s, self->pid);
	pss_snapshot_free(s);
}

TEST_F(child, capture_by_pidfd)
{
	struct pss_snapshot *s;

	ASSERT_EQ(0, pss_capture_pidfd(self->pidfd, CORE_FACETS, &s));
	check_child_snapshot(_metadata, s, self->pid);
	pss_snapshot_free(s);
}

TEST_F(child, capture_opts_pidfd_and_tiny_batches)
{
	PSS_OPTS(pss_capture_opts, o, .flags = PSS_CAPTURE_PIDFD,
		 .pidfd = self->pidfd, .facets = CORE_FACETS);
	PSS_OPTS(pss_walk_marker_opts, tiny, .batch_bytes = 1);
	struct walk_result a, b;
	struct pss_snapshot *s;

	ASSERT_EQ(0, pss_capture(&o, &s));
	ASSERT_EQ(0, walk_all(s, PSS_WALK_THREADS, &tiny, &a));
	ASSERT_EQ(0, walk_all(s, PSS_WALK_THREADS, NULL, &b));
	EXPECT_EQ(CHILD_THREADS + 1, a.count);
	EXPECT_EQ(a.count, a.st.batches);
	EXPECT_EQ(1, b.st.batches);
	ASSERT_EQ(a.bytes, b.bytes);
	EXPECT_EQ(0, memcmp(a.blob, b.blob, a.bytes));
	walk_result_free(&a);
	walk_result_free(&b);
	pss_snapshot_free(s);
}

TEST_F(child, snapshot_outlives_target)
{
	struct pss_snapshot *s;
	struct walk_result r;

	ASSERT_EQ(0, pss_capture_pid(self->pid, CORE_FACETS, &s));
	kill(self->pid, SIGKILL);
	ASSERT_EQ(self->pid, waitpid(self->pid, NULL, 0));
	self->pid = 0;
	/* the snapshot is immutable: still all there after the target died */
	ASSERT_EQ(0, walk_all(s, PSS_WALK_THREADS, NULL, &r));
	EXPECT_EQ(CHILD_THREADS + 1, r.count);
	walk_result_free(&r);
	EXPECT_EQ(-ESRCH, pss_capture_pidfd(self->pidfd, 0, &(struct pss_snapshot *){ NULL }));
	pss_snapshot_free(s);
}

TEST_HARNESS_MAIN
