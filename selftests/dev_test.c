// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/pss door itself: the node exists with the mode the module gives
 * it, the version ioctl answers and checks its size, and ioctls it does not
 * know get ENOTTY.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/pss.h>

#include "kselftest_harness.h"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", PSS_DEVICE_PATH, strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST_F(dev, node_is_char_device_0666)
{
	struct stat st;

	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 07777);
	/* misc devices live on major 10 */
	EXPECT_EQ(10, major(st.st_rdev));
}

TEST_F(dev, version)
{
	struct pss_version ver;

	memset(&ver, 0xa5, sizeof(ver));
	ver.size = sizeof(ver);
	ver.abi_version = 0;
	ver.capture_flags = 0;
	ver.query_classes = 0;
	ver.walk_classes = 0;
	ver.max_snapshot_bytes = 0;
	ASSERT_EQ(0, ioctl(self->fd, PSS_IOC_VERSION, &ver));
	EXPECT_EQ(PSS_ABI_VERSION, ver.abi_version);
	EXPECT_EQ(sizeof(ver), ver.size);
	/* exactly what this header knows: no more, no less */
	EXPECT_EQ(PSS_FACETS_KNOWN, ver.capture_flags);
	EXPECT_EQ((1ULL << PSS_QUERY_NR_CLASSES) - 1, ver.query_classes);
	EXPECT_EQ((1ULL << PSS_WALK_NR_CLASSES) - 1, ver.walk_classes);
	EXPECT_NE(0, ver.max_snapshot_bytes);
}

/* PSS_FACET_MEMORY needs memory_flags: the stacks, the cheapest. */
static int capture_self(int dev, __u64 facets)
{
	struct pss_capture_args a = { .size = sizeof(a), .facets = facets };
	int ret;

	if (facets & PSS_FACET_MEMORY)
		a.memory_flags = PSS_MEMORY_STACKS;
	ret = ioctl(dev, PSS_IOC_CAPTURE, &a);
	return ret < 0 ? -errno : ret;
}

/*
 * What VERSION reports is what the module does: every reported capture
 * flag is accepted and the first bit beyond them is not; every reported
 * query and walk class answers, the first class beyond them is unknown.
 */
TEST_F(dev, version_matches_behaviour)
{
	struct pss_version ver = { .size = sizeof(ver) };
	char buf[1 << 16];
	unsigned int bit;
	int snap;

	ASSERT_EQ(0, ioctl(self->fd, PSS_IOC_VERSION, &ver));
	snap = capture_self(self->fd, ver.capture_flags);
	ASSERT_LE(0, snap) TH_LOG("capture with every reported flag: %s", strerror(-snap));
	{
		struct pss_snapshot_info si = { 0 };
		struct pss_query_args q = { .size = sizeof(q),
					    .query_class = PSS_QUERY_SNAPSHOT,
					    .out_size = sizeof(si), .out = (uintptr_t)&si };

		ASSERT_EQ(0, ioctl(snap, PSS_IOC_QUERY, &q));
		EXPECT_EQ(ver.capture_flags, si.facets);
		close(snap);
	}
	snap = capture_self(self->fd, ver.capture_flags & PSS_FACETS_ALL);
	ASSERT_LE(0, snap) TH_LOG("capture with every flag that parks nobody: %s",
				  strerror(-snap));
	for (bit = 0; bit < 64; bit++) {
		struct pss_query_args q = { .size = sizeof(q), .query_class = bit,
					    .out_size = sizeof(buf), .out = (uintptr_t)buf };
		struct pss_walk_args w = { .size = sizeof(w), .walk_class = bit,
					   .buf = (uintptr_t)buf, .buf_len = sizeof(buf) };
		int qr = ioctl(snap, PSS_IOC_QUERY, &q) ? errno : 0;
		int wr = ioctl(snap, PSS_IOC_WALK, &w) ? errno : 0;

		EXPECT_EQ(!!(ver.query_classes & (1ULL << bit)), qr != EINVAL)
			TH_LOG("query class %u: %s", bit, strerror(qr));
		EXPECT_EQ(!!(ver.walk_classes & (1ULL << bit)), wr != EINVAL)
			TH_LOG("walk class %u: %s", bit, strerror(wr));
		if (ver.capture_flags & (1ULL << bit))
			continue;
		EXPECT_EQ(-EINVAL, capture_self(self->fd, ver.capture_flags | 1ULL << bit))
			TH_LOG("capture flag %u, not reported", bit);
	}
	close(snap);
}

/* The per-snapshot limit VERSION reports is the module's parameter. */
TEST_F(dev, version_max_snapshot_bytes)
{
	struct pss_version ver = { .size = sizeof(ver) };
	char txt[32] = "";
	int fd = open("/sys/module/pss/parameters/max_snapshot_bytes", O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("no max_snapshot_bytes module parameter");
	ASSERT_LT(0, read(fd, txt, sizeof(txt) - 1));
	close(fd);
	ASSERT_EQ(0, ioctl(self->fd, PSS_IOC_VERSION, &ver));
	EXPECT_EQ(strtoull(txt, NULL, 0), ver.max_snapshot_bytes);
}

TEST_F(dev, version_size_too_small)
{
	struct pss_version ver = { .size = PSS_VERSION_SIZE_VER0 - 1 };

	EXPECT_EQ(-1, ioctl(self->fd, PSS_IOC_VERSION, &ver));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, version_unknown_trailing_bytes)
{
	struct {
		struct pss_version ver;
		__u64 future;
	} big = { .ver.size = sizeof(big), .future = 1 };

	EXPECT_EQ(-1, ioctl(self->fd, PSS_IOC_VERSION, &big));
	EXPECT_EQ(E2BIG, errno);
	/* zero trailing bytes are what an old kernel must accept */
	big.future = 0;
	EXPECT_EQ(0, ioctl(self->fd, PSS_IOC_VERSION, &big));
	EXPECT_EQ(PSS_ABI_VERSION, big.ver.abi_version);
}

TEST_F(dev, version_bad_pointer)
{
	EXPECT_EQ(-1, ioctl(self->fd, PSS_IOC_VERSION, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, unknown_ioctl_enotty)
{
	int dummy = 0;

	EXPECT_EQ(-1, ioctl(self->fd, _IOR(PSS_IOC_MAGIC, 0x7f, int), &dummy));
	EXPECT_EQ(ENOTTY, errno);
	/* another subsystem's magic */
	EXPECT_EQ(-1, ioctl(self->fd, _IOR('T', 0x01, int), &dummy));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_HARNESS_MAIN
