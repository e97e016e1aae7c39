// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/pss door itself: the node exists with the mode the module gives
 * it, the version ioctl answers and checks its size, and ioctls it does not
 * know get ENOTTY.
 */
#include <errno.h>
#include <fcntl.h>
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
