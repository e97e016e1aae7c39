// SPDX-License-Identifier: GPL-2.0
/*
 * pss: the /dev/pss door.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <linux/pss.h>

static long pss_ioctl_version(void __user *uarg)
{
	struct pss_version ver = { .size = sizeof(ver) };
	u32 usize;
	int err;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < PSS_VERSION_SIZE_VER0)
		return -EINVAL;
	err = copy_struct_from_user(&ver, sizeof(ver), uarg, usize);
	if (err)
		return err;
	ver.size = sizeof(ver);
	ver.abi_version = PSS_ABI_VERSION;
	if (copy_to_user(uarg, &ver, min_t(size_t, usize, sizeof(ver))))
		return -EFAULT;
	return 0;
}

static long pss_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (_IOC_TYPE(cmd) != PSS_IOC_MAGIC)
		return -ENOTTY;
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(PSS_IOC_VERSION):
		return pss_ioctl_version((void __user *)arg);
	}
	return -ENOTTY;
}

static const struct file_operations pss_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= pss_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice pss_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "pss",
	.fops	= &pss_dev_fops,
	.mode	= 0666,
};

module_misc_device(pss_miscdev);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pss: atomic process snapshots");
