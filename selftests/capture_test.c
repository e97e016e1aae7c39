// SPDX-License-Identifier: GPL-2.0
/*
 * PSS_IOC_CAPTURE: every documented error path, one per subtest, and the
 * ways to name a target (self, pid, thread id, pidfd, zombie), and what the
 * returned snapshot fd is (O_CLOEXEC anon inode "[pss]").
 */
#include <pthread.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <linux/capability.h>

#include "pss_test_util.h"

FIXTURE(capture) {
	int dev;
};

FIXTURE_SETUP(capture)
{
	self->dev = pss_open_dev();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", PSS_DEVICE_PATH, strerror(errno));
}

FIXTURE_TEARDOWN(capture)
{
	close(self->dev);
}

/* ------------------------------------------------ EINVAL table */

/*
 * Each variant starts from a valid self-capture of all facets and breaks
 * exactly one thing.
 */
FIXTURE(capture_inval) {
	int dev;
};

FIXTURE_VARIANT(capture_inval) {
	__u32 size;		/* 0: sizeof */
	__u32 flags;
	__u64 facets;
	__s32 target_pid;
	__s32 target_pidfd;
	__u64 reserved0, reserved1;
	int err;
};

FIXTURE_SETUP(capture_inval)
{
	self->dev = pss_open_dev();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", PSS_DEVICE_PATH, strerror(errno));
}

FIXTURE_TEARDOWN(capture_inval)
{
	close(self->dev);
}

FIXTURE_VARIANT_ADD(capture_inval, size_zero) {
	.size = 0xffffffff, /* sentinel for 0, see test */
	.facets = PSS_FACETS_ALL, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, size_4) {
	.size = 4, .facets = PSS_FACETS_ALL, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, size_ver0_minus_1) {
	.size = PSS_CAPTURE_ARGS_SIZE_VER0 - 1, .facets = PSS_FACETS_ALL, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, size_ver0_minus_8) {
	.size = PSS_CAPTURE_ARGS_SIZE_VER0 - 8, .facets = PSS_FACETS_ALL, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, flag_bit1) {
	.flags = 1U << 1, .facets = PSS_FACETS_ALL, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, flag_bit31) {
	.flags = 1U << 31, .facets = PSS_FACETS_ALL, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, facet_bit11) {
	/* the first bit beyond the thread-state facets */
	.facets = PSS_FACETS_ALL | (PSS_FACETS_KNOWN + 1), .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, facet_bit63) {
	.facets = 1ULL << 63, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, facet_bit32_only) {
	.facets = 1ULL << 32, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, reserved0) {
	.facets = PSS_FACETS_ALL, .reserved0 = 1, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, reserved1) {
	.facets = PSS_FACETS_ALL, .reserved1 = 1ULL << 63, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, handle_name_without_handles) {
	.facets = PSS_FACET_HANDLE_NAME, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, handle_basic_without_handles) {
	.facets = PSS_FACET_HANDLE_BASIC | PSS_FACET_THREADS, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, handle_type_specific_without_handles) {
	.facets = PSS_FACET_HANDLE_TYPE_SPECIFIC | PSS_FACET_VA_SPACE, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, section_without_va_space) {
	.facets = PSS_FACET_VA_SPACE_SECTION | PSS_FACET_HANDLES, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, negative_pid) {
	.facets = PSS_FACETS_ALL, .target_pid = -1, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, int_min_pid) {
	.facets = PSS_FACETS_ALL, .target_pid = INT_MIN, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_inval, pidfd_without_flag) {
	.facets = PSS_FACETS_ALL, .target_pidfd = 1, .err = EINVAL,
};

TEST_F(capture_inval, rejected)
{
	struct pss_capture_args a;
	int ret;

	pss_capture_init(&a, variant->target_pid, variant->facets);
	if (variant->size == 0xffffffff)
		a.size = 0;
	else if (variant->size)
		a.size = variant->size;
	a.flags = variant->flags;
	a.target_pidfd = variant->target_pidfd;
	a.reserved[0] = variant->reserved0;
	a.reserved[1] = variant->reserved1;
	ret = pss_capture_args(self->dev, &a);
	if (ret >= 0)
		close(ret);
	EXPECT_EQ(-variant->err, ret) TH_LOG("got %d (%s)", ret,
					     ret < 0 ? strerror(-ret) : "success");
}

/* The same args minus the one broken thing succeed: the table is honest. */
TEST_F(capture, baseline_all_facets_self)
{
	int snap = ioc_capture_pid(self->dev, 0, PSS_FACETS_ALL);

	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	close(snap);
}

/* ------------------------------------------------ VER1: thread state */

/*
 * Each variant breaks exactly one rule of the VER1 fields (quiesce timeout,
 * stack bytes, memory flags and ranges); the rest is a valid capture of
 * the caller's own process. ranges names which array args.ranges points
 * to: none, a valid one, or one broken in one way.
 */
enum ranges_kind {
	R_NONE,		/* ranges = 0 */
	R_VALID,	/* PSS_MEMORY_RANGES_MAX readable, valid ranges */
	R_LEN0,		/* the last range has length 0 */
	R_WRAPS,	/* the last range wraps around the address space */
	R_BEYOND,	/* the last range lies beyond any user address space */
	R_UNMAPPED,	/* the pointer points at an unmapped page */
	R_STRADDLE,	/* the last entry lies on an unmapped page */
};

FIXTURE(capture_ver1) {
	int dev;
	char *map;			/* two pages; the second unmapped */
	struct pss_memory_range *ranges;
};

FIXTURE_VARIANT(capture_ver1) {
	__u32 flags;
	__u64 facets;
	__u32 quiesce_timeout_ms;
	__u32 stack_bytes;
	__u32 memory_flags;
	__u32 nr_ranges;
	enum ranges_kind ranges;
	int err;		/* 0: accepted */
};

FIXTURE_SETUP(capture_ver1)
{
	long pg = sysconf(_SC_PAGESIZE);
	int i;

	self->dev = pss_open_dev();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", PSS_DEVICE_PATH, strerror(errno));
	self->map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_EQ(0, munmap(self->map + pg, pg));
	/* the whole array ends where the mapping does */
	self->ranges = (void *)(self->map + pg -
				PSS_MEMORY_RANGES_MAX * sizeof(*self->ranges));
	for (i = 0; i < PSS_MEMORY_RANGES_MAX; i++) {
		self->ranges[i].start = (uintptr_t)self->map + i;
		self->ranges[i].len = 1 + i;
	}
}

FIXTURE_TEARDOWN(capture_ver1)
{
	munmap(self->map, sysconf(_SC_PAGESIZE));
	close(self->dev);
}

#define CTX	(PSS_FACET_THREADS | PSS_FACET_THREAD_CONTEXT)
#define MEM	(PSS_FACET_THREADS | PSS_FACET_MEMORY)

/* pss_check_thread_state(): a thread-state facet needs the thread walk */
FIXTURE_VARIANT_ADD(capture_ver1, context_without_threads) {
	.facets = PSS_FACET_THREAD_CONTEXT, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, kstack_without_threads) {
	.facets = PSS_FACET_THREAD_KSTACK | PSS_FACET_HANDLES, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, memory_without_threads) {
	.facets = PSS_FACET_MEMORY | PSS_FACET_VA_SPACE,
	.memory_flags = PSS_MEMORY_STACKS, .err = EINVAL,
};
/* quiesce_timeout_ms: only with a facet that parks, at most the maximum */
FIXTURE_VARIANT_ADD(capture_ver1, quiesce_without_parking_facet) {
	.facets = PSS_FACETS_ALL, .quiesce_timeout_ms = 10, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, quiesce_with_kstack_only) {
	/* kernel stacks are read without parking anyone */
	.facets = PSS_FACET_THREADS | PSS_FACET_THREAD_KSTACK,
	.quiesce_timeout_ms = 10, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, quiesce_above_max) {
	.facets = CTX, .quiesce_timeout_ms = PSS_QUIESCE_TIMEOUT_MAX_MS + 1,
	.err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, quiesce_u32_max) {
	.facets = MEM, .memory_flags = PSS_MEMORY_STACKS,
	.quiesce_timeout_ms = 0xffffffff, .err = EINVAL,
};
/* memory_flags: exactly with PSS_FACET_MEMORY, at least one, known ones */
FIXTURE_VARIANT_ADD(capture_ver1, memory_flags_without_memory) {
	.facets = CTX, .memory_flags = PSS_MEMORY_STACKS, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, memory_without_memory_flags) {
	.facets = MEM, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, memory_flag_unknown) {
	.facets = MEM, .memory_flags = PSS_MEMORY_STACKS | (PSS_MEMORY_FLAGS_ALL + 1),
	.err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, memory_flag_bit31) {
	.facets = MEM, .memory_flags = 1U << 31, .err = EINVAL,
};
/* stack_bytes: only with PSS_MEMORY_STACKS, at most the maximum */
FIXTURE_VARIANT_ADD(capture_ver1, stack_bytes_without_memory) {
	.facets = CTX, .stack_bytes = 4096, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, stack_bytes_without_stacks_flag) {
	.facets = MEM, .memory_flags = PSS_MEMORY_RANGES, .nr_ranges = 1,
	.ranges = R_VALID, .stack_bytes = 4096, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, stack_bytes_above_max) {
	.facets = MEM, .memory_flags = PSS_MEMORY_STACKS,
	.stack_bytes = PSS_STACK_BYTES_MAX + 1, .err = EINVAL,
};
/* nr_ranges and ranges: exactly with PSS_MEMORY_RANGES, 1..the maximum */
FIXTURE_VARIANT_ADD(capture_ver1, ranges_flag_nr_zero) {
	.facets = MEM, .memory_flags = PSS_MEMORY_RANGES, .ranges = R_VALID,
	.err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, nr_ranges_above_max) {
	.facets = MEM, .memory_flags = PSS_MEMORY_RANGES,
	.nr_ranges = PSS_MEMORY_RANGES_MAX + 1, .ranges = R_VALID, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, nr_ranges_without_ranges_flag) {
	.facets = MEM, .memory_flags = PSS_MEMORY_STACKS, .nr_ranges = 1,
	.err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, ranges_pointer_without_ranges_flag) {
	.facets = MEM, .memory_flags = PSS_MEMORY_STACKS, .ranges = R_VALID,
	.err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, nr_ranges_without_memory) {
	.facets = PSS_FACETS_ALL, .nr_ranges = 1, .err = EINVAL,
};
/* pss_get_ranges(): each range's length and end */
FIXTURE_VARIANT_ADD(capture_ver1, range_len_zero) {
	.facets = MEM, .memory_flags = PSS_MEMORY_RANGES,
	.nr_ranges = PSS_MEMORY_RANGES_MAX, .ranges = R_LEN0, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, range_wraps) {
	.facets = MEM, .memory_flags = PSS_MEMORY_RANGES,
	.nr_ranges = PSS_MEMORY_RANGES_MAX, .ranges = R_WRAPS, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, range_beyond_user_space) {
	.facets = MEM, .memory_flags = PSS_MEMORY_RANGES,
	.nr_ranges = PSS_MEMORY_RANGES_MAX, .ranges = R_BEYOND, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, ranges_unmapped) {
	.facets = MEM, .memory_flags = PSS_MEMORY_RANGES, .nr_ranges = 1,
	.ranges = R_UNMAPPED, .err = EFAULT,
};
FIXTURE_VARIANT_ADD(capture_ver1, ranges_straddle_unmapped) {
	.facets = MEM, .memory_flags = PSS_MEMORY_RANGES,
	.nr_ranges = PSS_MEMORY_RANGES_MAX, .ranges = R_STRADDLE, .err = EFAULT,
};
/* PSS_CAPTURE_PER_THREAD: registers only, without memory */
FIXTURE_VARIANT_ADD(capture_ver1, per_thread_without_thread_state) {
	.flags = PSS_CAPTURE_PER_THREAD, .facets = PSS_FACETS_ALL, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, per_thread_with_kstack_only) {
	.flags = PSS_CAPTURE_PER_THREAD,
	.facets = PSS_FACET_THREADS | PSS_FACET_THREAD_KSTACK, .err = EINVAL,
};
FIXTURE_VARIANT_ADD(capture_ver1, per_thread_with_memory) {
	.flags = PSS_CAPTURE_PER_THREAD, .facets = CTX | PSS_FACET_MEMORY,
	.memory_flags = PSS_MEMORY_STACKS, .err = EINVAL,
};
/* each bound itself is accepted: the rules above are exact */
FIXTURE_VARIANT_ADD(capture_ver1, ok_per_thread) {
	.flags = PSS_CAPTURE_PER_THREAD,
	.facets = CTX | PSS_FACET_THREAD_KSTACK, .quiesce_timeout_ms = 1,
};
FIXTURE_VARIANT_ADD(capture_ver1, ok_quiesce_max) {
	.facets = CTX, .quiesce_timeout_ms = PSS_QUIESCE_TIMEOUT_MAX_MS,
};
FIXTURE_VARIANT_ADD(capture_ver1, ok_quiesce_with_memory) {
	.facets = MEM, .memory_flags = PSS_MEMORY_STACKS, .quiesce_timeout_ms = 1,
};
FIXTURE_VARIANT_ADD(capture_ver1, ok_stack_bytes_max) {
	.facets = MEM, .memory_flags = PSS_MEMORY_STACKS,
	.stack_bytes = PSS_STACK_BYTES_MAX,
};
FIXTURE_VARIANT_ADD(capture_ver1, ok_ranges_max) {
	.facets = MEM, .memory_flags = PSS_MEMORY_RANGES | PSS_MEMORY_STACKS,
	.nr_ranges = PSS_MEMORY_RANGES_MAX, .ranges = R_VALID, .stack_bytes = 1,
};
FIXTURE_VARIANT_ADD(capture_ver1, ok_every_memory_flag) {
	.facets = MEM | PSS_FACET_THREAD_CONTEXT | PSS_FACET_THREAD_KSTACK,
	/* PRECOPY needs soft-dirty tracking, which debug kernels lack: memory_test */
	.memory_flags = PSS_MEMORY_FLAGS_ALL & ~PSS_MEMORY_PRECOPY, .nr_ranges = 1,
	.ranges = R_VALID,
};
FIXTURE_VARIANT_ADD(capture_ver1, ok_kstack) {
	.facets = PSS_FACET_THREADS | PSS_FACET_THREAD_KSTACK,
};

TEST_F(capture_ver1, checked)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct pss_memory_range *last = &self->ranges[PSS_MEMORY_RANGES_MAX - 1];
	struct pss_capture_args a;
	int ret;

	pss_capture_init(&a, 0, variant->facets);
	a.flags = variant->flags;
	a.quiesce_timeout_ms = variant->quiesce_timeout_ms;
	a.stack_bytes = variant->stack_bytes;
	a.memory_flags = variant->memory_flags;
	a.nr_ranges = variant->nr_ranges;
	switch (variant->ranges) {
	case R_NONE:
		break;
	case R_LEN0:
		last->len = 0;
		a.ranges = (uintptr_t)self->ranges;
		break;
	case R_WRAPS:
		last->start = ~0ULL - 4095;
		last->len = 8192;
		a.ranges = (uintptr_t)self->ranges;
		break;
	case R_BEYOND:
		/* above 57-bit user space too, and no wrap */
		last->start = 1ULL << 62;
		last->len = 4096;
		a.ranges = (uintptr_t)self->ranges;
		break;
	case R_UNMAPPED:
		a.ranges = (uintptr_t)self->map + pg;
		break;
	case R_STRADDLE:
		/* the same count, one entry later: the last one unmapped */
		a.ranges = (uintptr_t)(self->ranges + 1);
		break;
	case R_VALID:
		a.ranges = (uintptr_t)self->ranges;
		break;
	}
	ret = pss_capture_args(self->dev, &a);
	if (ret >= 0)
		close(ret);
	if (variant->err) {
		EXPECT_EQ(-variant->err, ret) TH_LOG("got %d (%s)", ret,
						     ret < 0 ? strerror(-ret) : "success");
		return;
	}
	EXPECT_LE(0, ret) TH_LOG("%s", strerror(-ret));
}

/* /proc/PID/stack's rule: kernel stacks need CAP_SYS_ADMIN, the rest not. */
TEST_F(capture, kstack_without_cap_sys_admin_eacces)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct __user_cap_header_struct h = {
			.version = _LINUX_CAPABILITY_VERSION_3,
		};
		struct __user_cap_data_struct d[2];
		struct pss_capture_args a;
		int ret;

		if (syscall(SYS_capget, &h, d))
			_exit(10);
		d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
		if (syscall(SYS_capset, &h, d))
			_exit(11);
		pss_capture_init(&a, 0, PSS_FACET_THREADS | PSS_FACET_THREAD_KSTACK);
		ret = pss_capture_args(self->dev, &a);
		if (ret != -EACCES)
			_exit(12);
		/* the same without kernel stacks: nothing else needs it */
		pss_capture_init(&a, 0, PSS_FACETS_ALL);
		ret = pss_capture_args(self->dev, &a);
		if (ret < 0)
			_exit(13);
		pss_capture_init(&a, 0, PSS_FACET_THREADS | PSS_FACET_THREAD_CONTEXT);
		ret = pss_capture_args(self->dev, &a);
		_exit(ret >= 0 ? 0 : 14);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("10/11: capget/capset; 12: KSTACK without CAP_SYS_ADMIN not EACCES;"
		       " 13: every other facet refused; 14: CONTEXT refused");
}

/* An old caller's 40-byte args: whatever lies beyond them is not read. */
TEST_F(capture, ver0_size_ignores_ver1_bytes)
{
	struct pss_capture_args a;
	int snap;

	pss_capture_init(&a, 0, PSS_FACETS_ALL);
	a.size = PSS_CAPTURE_ARGS_SIZE_VER0;
	a.quiesce_timeout_ms = 0xffffffff;
	a.memory_flags = 0xffffffff;
	a.ranges = 1;
	snap = pss_capture_args(self->dev, &a);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	close(snap);
	/* the same bytes inside the size are read and refused */
	a.size = PSS_CAPTURE_ARGS_SIZE_VER1;
	EXPECT_EQ(-EINVAL, pss_capture_args(self->dev, &a));
}

/* ------------------------------------------------ sizes */

TEST_F(capture, trailing_nonzero_e2big)
{
	struct {
		struct pss_capture_args a;
		__u64 future[3];
	} big;
	int ret;

	memset(&big, 0, sizeof(big));
	pss_capture_init(&big.a, 0, 0);
	big.a.size = sizeof(big);
	big.future[2] = 1;
	ret = pss_capture_args(self->dev, &big.a);
	EXPECT_EQ(-E2BIG, ret);
	if (ret >= 0)
		close(ret);
}

TEST_F(capture, trailing_nonzero_one_byte_e2big)
{
	union {
		struct pss_capture_args a;
		__u8 raw[sizeof(struct pss_capture_args) + 1];
	} big;
	int ret;

	memset(&big, 0, sizeof(big));
	pss_capture_init(&big.a, 0, 0);
	big.a.size = sizeof(big.a) + 1;
	big.raw[sizeof(big.a)] = 0x80;
	ret = pss_capture_args(self->dev, &big.a);
	EXPECT_EQ(-E2BIG, ret);
	if (ret >= 0)
		close(ret);
}

TEST_F(capture, trailing_zero_accepted)
{
	struct {
		struct pss_capture_args a;
		__u64 future[64];
	} big;
	int snap;

	memset(&big, 0, sizeof(big));
	pss_capture_init(&big.a, 0, PSS_FACET_THREADS);
	big.a.size = sizeof(big);
	snap = pss_capture_args(self->dev, &big.a);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	close(snap);
}

/* Documented ceiling: args up to 4096 bytes in all; beyond, E2BIG. */
TEST_F(capture, size_4096_zero_tail_accepted)
{
	struct pss_capture_args *a = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int snap;

	ASSERT_NE(MAP_FAILED, a);
	pss_capture_init(a, 0, 0);
	a->size = 4096;
	snap = pss_capture_args(self->dev, a);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	close(snap);
	munmap(a, 8192);
}

TEST_F(capture, size_4097_e2big)
{
	struct pss_capture_args *a = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret;

	ASSERT_NE(MAP_FAILED, a);
	pss_capture_init(a, 0, 0);
	a->size = 4097;		/* all zero beyond the struct */
	ret = pss_capture_args(self->dev, a);
	EXPECT_EQ(-E2BIG, ret);
	if (ret >= 0)
		close(ret);
	munmap(a, 8192);
}

TEST_F(capture, size_huge_e2big)
{
	struct pss_capture_args a;
	int ret;

	pss_capture_init(&a, 0, 0);
	a.size = 0xffffffff;
	ret = pss_capture_args(self->dev, &a);
	EXPECT_EQ(-E2BIG, ret);
	if (ret >= 0)
		close(ret);
}

/* Args whose size field points past the end of a mapping: EFAULT. */
TEST_F(capture, size_beyond_mapping_efault)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pss_capture_args *a;
	int ret;

	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, munmap(m + pg, pg));
	a = (void *)(m + pg - sizeof(*a));
	pss_capture_init(a, 0, 0);
	a->size = sizeof(*a) + 64;	/* the extra 64 bytes are unmapped */
	ret = pss_capture_args(self->dev, a);
	EXPECT_EQ(-EFAULT, ret);
	if (ret >= 0)
		close(ret);
	munmap(m, pg);
}

TEST_F(capture, bad_pointer_efault)
{
	int ret = ioctl(self->dev, PSS_IOC_CAPTURE, (void *)8);

	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(capture, null_pointer_efault)
{
	int ret = ioctl(self->dev, PSS_IOC_CAPTURE, NULL);

	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(capture, prot_none_pointer_efault)
{
	void *m = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret;

	ASSERT_NE(MAP_FAILED, m);
	ret = ioctl(self->dev, PSS_IOC_CAPTURE, m);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);
	munmap(m, 4096);
}

/* The ioctl size bits are ignored: a caller built with a bigger struct works. */
TEST_F(capture, ioctl_size_bits_ignored)
{
	struct {
		struct pss_capture_args a;
		__u64 future[2];
	} big;
	int snap;

	memset(&big, 0, sizeof(big));
	pss_capture_init(&big.a, 0, 0);
	big.a.size = sizeof(big);
	snap = ioctl(self->dev, _IOW(PSS_IOC_MAGIC, 0x01, big), &big);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(errno));
	close(snap);
}

/* ------------------------------------------------ targets that fail */

TEST_F(capture, pid_int_max_esrch)
{
	int ret = ioc_capture_pid(self->dev, INT_MAX, 0);

	EXPECT_EQ(-ESRCH, ret);
	if (ret >= 0)
		close(ret);
}

TEST_F(capture, reaped_pid_esrch)
{
	pid_t pid = fork();
	int ret;

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	/* pid reuse within these microseconds would need a full pid wrap */
	ret = ioc_capture_pid(self->dev, pid, PSS_FACET_THREADS);
	EXPECT_EQ(-ESRCH, ret);
	if (ret >= 0)
		close(ret);
}

TEST_F(capture, pidfd_not_a_pidfd_ebadfd)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int ret;

	ASSERT_LE(0, null);
	ret = ioc_capture_pidfd(self->dev, null, 0);
	EXPECT_EQ(-EBADFD, ret);
	if (ret >= 0)
		close(ret);
	close(null);
}

TEST_F(capture, pidfd_is_dev_pss_ebadfd)
{
	int ret = ioc_capture_pidfd(self->dev, self->dev, 0);

	EXPECT_EQ(-EBADFD, ret);
	if (ret >= 0)
		close(ret);
}

TEST_F(capture, pidfd_closed_fd_ebadf)
{
	int fd = dup(self->dev), ret;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	ret = ioc_capture_pidfd(self->dev, fd, 0);
	EXPECT_EQ(-EBADF, ret);
	if (ret >= 0)
		close(ret);
}

TEST_F(capture, pidfd_negative_ebadf)
{
	int ret = ioc_capture_pidfd(self->dev, -1, 0);

	EXPECT_EQ(-EBADF, ret);
	if (ret >= 0)
		close(ret);
}

TEST_F(capture, pid_with_pidfd_flag_einval)
{
	int pidfd = sys_pidfd_open(getpid(), 0), ret;
	struct pss_capture_args a;

	ASSERT_LE(0, pidfd) TH_LOG("pidfd_open: %s", strerror(errno));
	pss_capture_init(&a, getpid(), 0);
	a.flags = PSS_CAPTURE_PIDFD;
	a.target_pidfd = pidfd;
	ret = pss_capture_args(self->dev, &a);
	EXPECT_EQ(-EINVAL, ret);
	if (ret >= 0)
		close(ret);
	close(pidfd);
}

TEST_F(capture, stale_pidfd_esrch)
{
	pid_t pid = fork();
	int pidfd, ret;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	pidfd = sys_pidfd_open(pid, 0);
	ASSERT_LE(0, pidfd) TH_LOG("pidfd_open: %s", strerror(errno));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	ret = ioc_capture_pidfd(self->dev, pidfd, PSS_FACETS_ALL);
	EXPECT_EQ(-ESRCH, ret);
	if (ret >= 0)
		close(ret);
	close(pidfd);
}

static bool is_kthreadd(pid_t pid)
{
	struct pss_proc_stat st;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	return !pss_parse_stat(path, &st) && !strcmp(st.comm, "kthreadd");
}

TEST_F(capture, kernel_thread_eperm)
{
	int ret;

	if (!is_kthreadd(2))
		SKIP(return, "pid 2 is not kthreadd here (pid namespace?)");
	ret = ioc_capture_pid(self->dev, 2, 0);
	EXPECT_EQ(-EPERM, ret);
	if (ret >= 0)
		close(ret);
}

TEST_F(capture, kernel_thread_by_pidfd_eperm)
{
	int pidfd, ret;

	if (!is_kthreadd(2))
		SKIP(return, "pid 2 is not kthreadd here (pid namespace?)");
	pidfd = sys_pidfd_open(2, 0);
	if (pidfd < 0)
		SKIP(return, "pidfd_open(2): %s", strerror(errno));
	ret = ioc_capture_pidfd(self->dev, pidfd, PSS_FACETS_ALL);
	EXPECT_EQ(-EPERM, ret);
	if (ret >= 0)
		close(ret);
	close(pidfd);
}

/* ------------------------------------------------ unprivileged */

static int drop_to_nobody(void)
{
	if (setgroups(0, NULL))
		return -errno;
	if (setresgid(65534, 65534, 65534))
		return -errno;
	if (setresuid(65534, 65534, 65534))
		return -errno;
	return 0;
}

/*
 * Run fn in a child that has dropped to uid/gid 65534 (no capabilities)
 * with /dev/pss opened before the drop; the child's exit code is the result
 * (the errno of the capture, 0 for success, 100+ for setup failures).
 */
static int run_unprivileged(int dev, pid_t target, bool by_pidfd)
{
	int status, pidfd = -1;
	pid_t pid;

	if (by_pidfd) {
		pidfd = sys_pidfd_open(target, 0);
		if (pidfd < 0)
			return 101;
	}
	pid = fork();
	if (pid < 0)
		return 102;
	if (pid == 0) {
		int snap;

		if (drop_to_nobody())
			_exit(103);
		if (by_pidfd)
			snap = ioc_capture_pidfd(dev, pidfd, PSS_FACETS_ALL);
		else
			snap = ioc_capture_pid(dev, target ? target : getpid(),
					       PSS_FACETS_ALL);
		if (snap >= 0) {
			struct pss_process_info pi;

			if (pss_query_process(snap, &pi))
				_exit(104);
			/* self: the snapshot is of this very process */
			if (!target && pi.pid != getpid())
				_exit(105);
			_exit(0);
		}
		_exit(-snap);
	}
	if (pidfd >= 0)
		close(pidfd);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 106;
	return WEXITSTATUS(status);
}

TEST_F(capture, unprivileged_self_ok)
{
	if (getuid() != 0)
		SKIP(return, "needs root to drop privileges");
	EXPECT_EQ(0, run_unprivileged(self->dev, 0, false));
}

TEST_F(capture, unprivileged_self_pid0_ok)
{
	int status;
	pid_t pid;

	if (getuid() != 0)
		SKIP(return, "needs root to drop privileges");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pss_process_info pi;
		int snap;

		if (drop_to_nobody())
			_exit(103);
		snap = ioc_capture_pid(self->dev, 0, PSS_FACETS_ALL);
		if (snap < 0)
			_exit(-snap);
		if (pss_query_process(snap, &pi) || pi.pid != getpid() ||
		    pi.euid != 65534 || !(pi.flags & PSS_PROC_SELF))
			_exit(104);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(capture, unprivileged_other_root_process_eperm)
{
	if (getuid() != 0)
		SKIP(return, "needs root to drop privileges");
	/* our own (root) process, seen from the dropped child */
	EXPECT_EQ(EPERM, run_unprivileged(self->dev, getpid(), false));
}

TEST_F(capture, unprivileged_other_by_pidfd_eperm)
{
	if (getuid() != 0)
		SKIP(return, "needs root to drop privileges");
	EXPECT_EQ(EPERM, run_unprivileged(self->dev, getpid(), true));
}

TEST_F(capture, unprivileged_init_eperm)
{
	if (getuid() != 0)
		SKIP(return, "needs root to drop privileges");
	EXPECT_EQ(EPERM, run_unprivileged(self->dev, 1, false));
}

/*
 * Documented policy: any target other than yourself needs CAP_SYS_PTRACE,
 * even one running as the same uid.
 */
static int drop_and_wait(void *shared, void *arg)
{
	(void)shared;
	(void)arg;
	return drop_to_nobody() ? 1 : 0;
}

TEST_F(capture, unprivileged_same_uid_other_process_eperm)
{
	struct pss_target t;
	int ret;

	if (getuid() != 0)
		SKIP(return, "needs root to drop privileges");
	ret = pss_target_start(&t, drop_and_wait, NULL, 0, false);
	ASSERT_EQ(0, ret) TH_LOG("%s", pss_err);
	EXPECT_EQ(EPERM, run_unprivileged(self->dev, t.pid, false));
	pss_target_stop(&t);
}

/* ------------------------------------------------ successes */

static void check_snapshot_fd(struct __test_metadata *_metadata, int snap)
{
	char link[256];
	struct stat st;
	int fl;

	fl = fcntl(snap, F_GETFD);
	ASSERT_LE(0, fl);
	EXPECT_TRUE(!!(fl & FD_CLOEXEC));
	ASSERT_EQ(0, pss_readlink_fmt(link, sizeof(link), "/proc/self/fd/%d", snap));
	EXPECT_STREQ("anon_inode:[pss]", link);
	ASSERT_EQ(0, fstat(snap, &st));
	/* anon inodes are neither regular files nor devices */
	EXPECT_FALSE(S_ISREG(st.st_mode));
	EXPECT_FALSE(S_ISCHR(st.st_mode));
	fl = fcntl(snap, F_GETFL);
	ASSERT_LE(0, fl);
	EXPECT_EQ(O_RDONLY, fl & O_ACCMODE);
}

TEST_F(capture, self_pid0)
{
	struct pss_process_info pi;
	int snap = ioc_capture_pid(self->dev, 0, 0);

	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	check_snapshot_fd(_metadata, snap);
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	EXPECT_EQ(getpid(), pi.pid);
	EXPECT_EQ(getppid(), pi.ppid);
	EXPECT_TRUE(!!(pi.flags & PSS_PROC_SELF));
	EXPECT_FALSE(!!(pi.flags & PSS_PROC_ZOMBIE));
	EXPECT_EQ('R', pi.state);
	close(snap);
}

TEST_F(capture, self_by_getpid)
{
	struct pss_process_info pi;
	int snap = ioc_capture_pid(self->dev, getpid(), PSS_FACETS_ALL);

	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	EXPECT_EQ(getpid(), pi.pid);
	EXPECT_TRUE(!!(pi.flags & PSS_PROC_SELF));
	close(snap);
}

TEST_F(capture, self_by_pidfd)
{
	struct pss_process_info pi;
	int pidfd = sys_pidfd_open(getpid(), 0), snap;

	ASSERT_LE(0, pidfd) TH_LOG("pidfd_open: %s", strerror(errno));
	snap = ioc_capture_pidfd(self->dev, pidfd, PSS_FACETS_ALL);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	EXPECT_EQ(getpid(), pi.pid);
	EXPECT_TRUE(!!(pi.flags & PSS_PROC_SELF));
	close(snap);
	close(pidfd);
}

static int noop_setup(void *shared, void *arg)
{
	(void)shared;
	(void)arg;
	return 0;
}

TEST_F(capture, child_by_pid)
{
	struct pss_process_info pi;
	struct pss_target t;
	int snap;

	ASSERT_EQ(0, pss_target_start(&t, noop_setup, NULL, 0, true)) TH_LOG("%s", pss_err);
	snap = ioc_capture_pid(self->dev, t.pid, PSS_FACETS_ALL);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	check_snapshot_fd(_metadata, snap);
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	EXPECT_EQ(t.pid, pi.pid);
	EXPECT_EQ(getpid(), pi.ppid);
	EXPECT_FALSE(!!(pi.flags & PSS_PROC_SELF));
	EXPECT_TRUE(!!(pi.flags & PSS_PROC_STOPPED));
	EXPECT_EQ('T', pi.state);
	close(snap);
	pss_target_stop(&t);
}

TEST_F(capture, child_by_pidfd)
{
	struct pss_process_info pi;
	struct pss_target t;
	int snap;

	ASSERT_EQ(0, pss_target_start(&t, noop_setup, NULL, 0, false)) TH_LOG("%s", pss_err);
	ASSERT_LE(0, t.pidfd) TH_LOG("pidfd_open: %s", strerror(errno));
	snap = ioc_capture_pidfd(self->dev, t.pidfd, PSS_FACETS_ALL);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	EXPECT_EQ(t.pid, pi.pid);
	EXPECT_FALSE(!!(pi.flags & PSS_PROC_SELF));
	EXPECT_FALSE(!!(pi.flags & PSS_PROC_STOPPED));
	close(snap);
	pss_target_stop(&t);
}

/* With PSS_CAPTURE_PIDFD, target_pid (0 = self) is not what is captured. */
TEST_F(capture, pidfd_wins_over_pid_field_zero)
{
	struct pss_process_info pi;
	struct pss_target t;
	int snap;

	ASSERT_EQ(0, pss_target_start(&t, noop_setup, NULL, 0, false)) TH_LOG("%s", pss_err);
	/* target_pid 0 would mean "self" without the flag */
	snap = ioc_capture_pidfd(self->dev, t.pidfd, 0);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	EXPECT_EQ(t.pid, pi.pid);
	close(snap);
	pss_target_stop(&t);
}

static void *sleeper(void *arg)
{
	pid_t *tid = arg;

	__atomic_store_n(tid, sys_gettid(), __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return NULL;
}

TEST_F(capture, thread_id_names_whole_process)
{
	struct pss_process_info pi;
	pthread_t th;
	pid_t tid = 0;
	int snap;

	ASSERT_EQ(0, pthread_create(&th, NULL, sleeper, &tid));
	while (!__atomic_load_n(&tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	ASSERT_NE(getpid(), tid);
	snap = ioc_capture_pid(self->dev, tid, PSS_FACET_THREADS);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	EXPECT_EQ(getpid(), pi.pid);
	EXPECT_EQ(2, pi.nr_threads);
	EXPECT_TRUE(!!(pi.flags & PSS_PROC_SELF));
	close(snap);
}

TEST_F(capture, every_facet_combination)
{
	__u64 f;

	/* all 256 facet sets; the invalid ones are exactly the orphan levels */
	for (f = 0; f <= PSS_FACETS_ALL; f++) {
		bool bad = ((f & (PSS_FACET_HANDLE_NAME | PSS_FACET_HANDLE_BASIC |
				  PSS_FACET_HANDLE_TYPE_SPECIFIC)) &&
			    !(f & PSS_FACET_HANDLES)) ||
			   ((f & PSS_FACET_VA_SPACE_SECTION) &&
			    !(f & PSS_FACET_VA_SPACE));
		struct pss_snapshot_info si;
		int snap = ioc_capture_pid(self->dev, 0, f);

		if (bad) {
			EXPECT_EQ(-EINVAL, snap) TH_LOG("facets %#llx", (unsigned long long)f);
			if (snap >= 0)
				close(snap);
			continue;
		}
		ASSERT_LE(0, snap) TH_LOG("facets %#llx: %s", (unsigned long long)f,
					  strerror(-snap));
		ASSERT_EQ(0, pss_query_snapshot(snap, &si));
		EXPECT_EQ(f, si.facets);
		close(snap);
	}
}

/* ------------------------------------------------ zombie */

TEST_F(capture, zombie_target)
{
	struct pss_process_info pi;
	siginfo_t si;
	pid_t pid = fork();
	int snap;

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(42);
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(0, waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	snap = ioc_capture_pid(self->dev, pid, 0);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	EXPECT_EQ(pid, pi.pid);
	EXPECT_TRUE(!!(pi.flags & PSS_PROC_ZOMBIE));
	EXPECT_EQ('Z', pi.state);
	EXPECT_TRUE(!!(pi.mask & PSS_PROC_HAS_EXIT));
	EXPECT_TRUE(WIFEXITED(pi.exit_code)) TH_LOG("exit_code %#x", pi.exit_code);
	EXPECT_EQ(42, WEXITSTATUS(pi.exit_code));
	EXPECT_FALSE(!!(pi.mask & PSS_PROC_HAS_MM));
	close(snap);
	waitpid(pid, NULL, 0);
}

TEST_F(capture, zombie_killed_by_signal)
{
	struct pss_process_info pi;
	siginfo_t si;
	pid_t pid = fork();
	int snap;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	ASSERT_EQ(0, kill(pid, SIGTERM));
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(0, waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	snap = ioc_capture_pid(self->dev, pid, 0);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	EXPECT_TRUE(!!(pi.flags & PSS_PROC_ZOMBIE));
	EXPECT_TRUE(!!(pi.mask & PSS_PROC_HAS_EXIT));
	EXPECT_TRUE(WIFSIGNALED(pi.exit_code)) TH_LOG("exit_code %#x", pi.exit_code);
	EXPECT_EQ(SIGTERM, WTERMSIG(pi.exit_code));
	close(snap);
	waitpid(pid, NULL, 0);
}

/* A zombie has no mm and no fd table: facets succeed and are empty. */
TEST_F(capture, zombie_all_facets_empty)
{
	struct pss_snapshot_info si;
	struct pss_recs r;
	siginfo_t wsi;
	pid_t pid = fork();
	int snap;

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(3);
	ASSERT_EQ(0, waitid(P_PID, pid, &wsi, WEXITED | WNOWAIT));
	snap = ioc_capture_pid(self->dev, pid, PSS_FACETS_ALL);
	ASSERT_LE(0, snap) TH_LOG("%s", strerror(-snap));
	ASSERT_EQ(0, pss_query_snapshot(snap, &si));
	EXPECT_EQ(PSS_FACETS_ALL, si.facets);
	EXPECT_EQ(0, si.nr_handles);
	EXPECT_EQ(0, si.nr_vmas);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_HANDLES, &r)) TH_LOG("%s", pss_err);
	EXPECT_EQ(0, r.n);
	pss_recs_free(&r);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_VA_SPACE, &r)) TH_LOG("%s", pss_err);
	EXPECT_EQ(0, r.n);
	pss_recs_free(&r);
	close(snap);
	waitpid(pid, NULL, 0);
}

/* ------------------------------------------------ fd plumbing */

TEST_F(capture, snapshot_fd_is_not_dev)
{
	int snap = ioc_capture_pid(self->dev, 0, 0), ret;
	struct pss_capture_args a;

	ASSERT_LE(0, snap);
	/* capture on a snapshot fd is not a thing */
	pss_capture_init(&a, 0, 0);
	ret = ioctl(snap, PSS_IOC_CAPTURE, &a);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOTTY, errno);
	if (ret >= 0)
		close(ret);
	close(snap);
}

TEST_F(capture, query_on_dev_enotty)
{
	struct pss_process_info pi;
	struct pss_query_args q = {
		.size = sizeof(q), .query_class = PSS_QUERY_PROCESS,
		.out_size = sizeof(pi), .out = (uintptr_t)&pi,
	};

	EXPECT_EQ(-1, ioctl(self->dev, PSS_IOC_QUERY, &q));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(capture, emfile)
{
	struct rlimit rl;
	int snap;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_cur = 16;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	/* fill the table up to the tiny limit */
	while (dup(self->dev) >= 0)
		;
	ASSERT_EQ(EMFILE, errno);
	snap = ioc_capture_pid(self->dev, 0, 0);
	EXPECT_EQ(-EMFILE, snap);
	if (snap >= 0)
		close(snap);
}

/*
 * A snapshot pins nothing once the capture returns: a filesystem whose file
 * the caller had open and mapped at the cut unmounts while the snapshot is
 * open, and the snapshot still names that file, as an fd and as a VMA.
 */
TEST(snapshot_pins_no_mount)
{
	char dir[] = "/tmp/pss-mnt-XXXXXX", path[64];
	struct pss_recs h = { }, v = { };
	int snap, fd, dfd, fds = 0, vmas = 0;
	size_t i;
	void *map;

	if (geteuid() != 0)
		SKIP(return, "needs CAP_SYS_ADMIN to mount a tmpfs");
	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, mount("tmpfs", dir, "tmpfs", 0, "size=1m"))
		TH_LOG("mount: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/held", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4096));
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, dfd);

	snap = pss_capture1(0, PSS_FACETS_ALL);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(errno));
	ASSERT_EQ(0, munmap(map, 4096));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(dfd));
	EXPECT_EQ(0, umount2(dir, 0))
		TH_LOG("umount with a snapshot open: %s", strerror(errno));

	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_HANDLES, &h));
	for (i = 0; i < h.n; i++) {
		const char *name = pss_rec_name(h.rec[i]);

		fds += name && (!strcmp(name, path) || !strcmp(name, dir));
	}
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_VA_SPACE, &v));
	for (i = 0; i < v.n; i++) {
		const char *name = pss_rec_name(v.rec[i]);

		vmas += name && !strcmp(name, path);
	}
	EXPECT_EQ(2, fds) TH_LOG("the file and its directory, as fds");
	EXPECT_EQ(1, vmas) TH_LOG("the file, as a VMA");
	pss_recs_free(&h);
	pss_recs_free(&v);
	close(snap);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

TEST_HARNESS_MAIN
