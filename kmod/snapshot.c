// SPDX-License-Identifier: GPL-2.0
/*
 * pss: the snapshot object behind a snapshot fd.
 *
 * Locking: none. A snapshot is complete and immutable before its fd is
 * installed, and freed only by the last fput(), so queries and walks from
 * any number of threads read it without locks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "pss.h"

static int pss_snapshot_release(struct inode *inode, struct file *file)
{
	pss_store_free_snapshot(file->private_data);
	return 0;
}

/* Read a size-first args struct: VER0 at least, unknown tail all zero. */
static int pss_get_args(void *dst, size_t ksize, size_t ver0,
			void __user *uarg, u32 *usizep)
{
	u32 usize;
	int err;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < ver0)
		return -EINVAL;
	if (usize > PSS_ARGS_MAX)	/* bounded like clone3() */
		return -E2BIG;
	err = copy_struct_from_user(dst, ksize, uarg, usize);
	if (err)
		return err;
	*usizep = usize;
	return 0;
}

static const u64 pss_query_facet[PSS_QUERY_NR_CLASSES] = {
	[PSS_QUERY_THREADS]	= PSS_FACET_THREADS,
	[PSS_QUERY_HANDLES]	= PSS_FACET_HANDLES,
	[PSS_QUERY_VA_SPACE]	= PSS_FACET_VA_SPACE,
	[PSS_QUERY_PERFORMANCE]	= PSS_FACET_MEASURE_PERFORMANCE,
	[PSS_QUERY_AUXV]	= PSS_FACET_THREAD_CONTEXT,
	[PSS_QUERY_CONTEXTS]	= PSS_FACET_THREAD_CONTEXT,
	[PSS_QUERY_KSTACKS]	= PSS_FACET_THREAD_KSTACK,
	[PSS_QUERY_MEMORY]	= PSS_FACET_MEMORY,
};

/* The walk class a count query describes. */
static const u8 pss_query_walk[PSS_QUERY_NR_CLASSES] = {
	[PSS_QUERY_THREADS]	= PSS_WALK_THREADS,
	[PSS_QUERY_HANDLES]	= PSS_WALK_HANDLES,
	[PSS_QUERY_VA_SPACE]	= PSS_WALK_VA_SPACE,
	[PSS_QUERY_CONTEXTS]	= PSS_WALK_CONTEXTS,
	[PSS_QUERY_KSTACKS]	= PSS_WALK_KSTACKS,
	[PSS_QUERY_MEMORY]	= PSS_WALK_MEMORY,
};

static const u32 pss_query_ver0[PSS_QUERY_NR_CLASSES] = {
	[PSS_QUERY_SNAPSHOT]	= PSS_SNAPSHOT_INFO_SIZE_VER0,
	[PSS_QUERY_PROCESS]	= PSS_PROCESS_INFO_SIZE_VER0,
	[PSS_QUERY_THREADS]	= PSS_COUNT_INFO_SIZE_VER0,
	[PSS_QUERY_HANDLES]	= PSS_COUNT_INFO_SIZE_VER0,
	[PSS_QUERY_VA_SPACE]	= PSS_COUNT_INFO_SIZE_VER0,
	[PSS_QUERY_PERFORMANCE]	= PSS_PERF_INFO_SIZE_VER0,
	[PSS_QUERY_AUXV]	= PSS_AUXV_INFO_SIZE_VER0,
	[PSS_QUERY_CONTEXTS]	= PSS_COUNT_INFO_SIZE_VER0,
	[PSS_QUERY_KSTACKS]	= PSS_COUNT_INFO_SIZE_VER0,
	[PSS_QUERY_MEMORY]	= PSS_COUNT_INFO_SIZE_VER0,
};

static long pss_ioctl_query(struct pss_snapshot *snap, void __user *uarg)
{
	struct pss_query_args args;
	struct pss_count_info count;
	const struct pss_walk_buf *wb;
	const void *src;
	void __user *out;
	u32 usize, ksize;
	int err;

	err = pss_get_args(&args, sizeof(args), PSS_QUERY_ARGS_SIZE_VER0,
			   uarg, &usize);
	if (err)
		return err;
	if (args.flags || args.reserved ||
	    args.query_class >= PSS_QUERY_NR_CLASSES)
		return -EINVAL;
	if (args.out_size < pss_query_ver0[args.query_class])
		return -EINVAL;
	if ((pss_query_facet[args.query_class] & snap->facets) !=
	    pss_query_facet[args.query_class])
		return -ENODATA;

	switch (args.query_class) {
	case PSS_QUERY_SNAPSHOT:
		src = &snap->info;
		ksize = sizeof(snap->info);
		break;
	case PSS_QUERY_PROCESS:
		src = snap->proc;
		ksize = sizeof(*snap->proc);
		break;
	case PSS_QUERY_PERFORMANCE:
		src = &snap->perf;
		ksize = sizeof(snap->perf);
		break;
	case PSS_QUERY_AUXV:
		src = snap->auxv;
		ksize = sizeof(*snap->auxv);
		break;
	default:
		wb = &snap->walk[pss_query_walk[args.query_class]];
		memset(&count, 0, sizeof(count));
		count.size = sizeof(count);
		count.count = wb->count;
		count.bytes = wb->bytes;
		count.max_rec_len = wb->max_rec_len;
		src = &count;
		ksize = sizeof(count);
		break;
	}

	out = u64_to_user_ptr(args.out);
	if (copy_to_user(out, src, min(args.out_size, ksize)))
		return -EFAULT;
	if (args.out_size > ksize &&
	    clear_user(out + ksize, args.out_size - ksize))
		return -EFAULT;
	args.kernel_size = ksize;
	if (copy_to_user(uarg, &args, min_t(size_t, usize, sizeof(args))))
		return -EFAULT;
	return 0;
}

static const u64 pss_walk_facet[PSS_WALK_NR_CLASSES] = {
	[PSS_WALK_THREADS]	= PSS_FACET_THREADS,
	[PSS_WALK_HANDLES]	= PSS_FACET_HANDLES,
	[PSS_WALK_VA_SPACE]	= PSS_FACET_VA_SPACE,
	[PSS_WALK_CONTEXTS]	= PSS_FACET_THREAD_CONTEXT,
	[PSS_WALK_KSTACKS]	= PSS_FACET_THREAD_KSTACK,
	[PSS_WALK_MEMORY]	= PSS_FACET_MEMORY,
};

/* Bytes gathered before each copy_to_user() of a framed walk. */
#define PSS_WALK_BOUNCE		SZ_16K

/* Where one walk ioctl stops. */
struct pss_walk_span {
	u64 end;		/* first record not written */
	u64 bytes;		/* bytes written */
	u32 next_len;		/* rec_len of record end, 0 at the end */
};

/*
 * Records from @pos to @ubuf, as many whole ones as fit in @buf_len: a
 * class stored as written is one copy; the others are framed in a bounce
 * buffer - the fixed part as stored, rec_len, the name's offset and length
 * (at the same place in every named record: see pss_build_check_abi()),
 * the name, its NUL and zero padding, or as the class's ops lay them out -
 * in one pass, so a batch costs few user copies and each record's length
 * is asked once.
 */
static int pss_walk_copy(const struct pss_walk_buf *wb, u64 pos,
			 char __user *ubuf, u64 buf_len,
			 struct pss_walk_span *sp)
{
	size_t cap, used = 0;
	char *bounce;
	u32 len;
	u64 i;

	sp->end = pos;
	sp->bytes = 0;
	sp->next_len = 0;
	if (pos == wb->count)
		return 0;
	len = pss_wbuf_rec_len(wb, pos);
	if (!wb->names && !wb->ops) {
		/* Records of one length, as stored: no need to look at each. */
		sp->end = pos + min_t(u64, wb->count - pos, buf_len / len);
		sp->bytes = (sp->end - pos) * len;
		sp->next_len = sp->end < wb->count ? len : 0;
		if (copy_to_user(ubuf, wb->recs + pos * wb->rec_size,
				 sp->bytes))
			return -EFAULT;
		return 0;
	}
	if (len > buf_len) {
		sp->next_len = len;
		return 0;
	}
	/* No bigger than the class: with init_on_alloc it is all cleared. */
	cap = min_t(u64, min_t(u64, buf_len, PSS_WALK_BOUNCE), wb->bytes);
	cap = max_t(size_t, cap, wb->max_rec_len);
	bounce = kvmalloc(cap, GFP_KERNEL_ACCOUNT);
	if (!bounce)
		return -ENOMEM;
	for (i = pos; i < wb->count; i++) {
		const struct pss_name *name = wb->names ? &wb->names[i] : NULL;
		const void *rec = wb->recs + i * wb->rec_size;
		u32 fill = wb->user_fixed;
		char *dst;

		if (i > pos)
			len = pss_wbuf_rec_len(wb, i);
		if (sp->bytes + len > buf_len) {
			sp->next_len = len;
			break;
		}
		if (cap - used < len) {
			if (copy_to_user(ubuf, bounce, used))
				goto fault;
			ubuf += used;
			used = 0;
		}
		dst = bounce + used;
		used += len;
		sp->bytes += len;
		if (wb->ops) {
			wb->ops->write(wb, dst, rec, len);
			continue;
		}
		memcpy(dst, rec, fill);
		memcpy(dst, &len, sizeof(len));
		if (name && pss_name_present(name)) {
			u32 frame[2] = { fill, name->len };	/* name_off, _len */

			memcpy(dst + PSS_REC_NAME_AT, frame, sizeof(frame));
			pss_name_write(dst + fill, name);
			fill += name->len + 1;
		}
		memset(dst + fill, 0, len - fill);
	}
	sp->end = i;
	if (used && copy_to_user(ubuf, bounce, used))
		goto fault;
	kvfree(bounce);
	return 0;
fault:
	kvfree(bounce);
	return -EFAULT;
}

/* As many whole records from pos as fit in buf. */
static long pss_ioctl_walk(struct pss_snapshot *snap, void __user *uarg)
{
	const struct pss_walk_buf *wb;
	struct pss_walk_args args;
	struct pss_walk_span sp;
	u32 usize;
	int err;

	err = pss_get_args(&args, sizeof(args), PSS_WALK_ARGS_SIZE_VER0,
			   uarg, &usize);
	if (err)
		return err;
	/* out_flags and the other out fields are ignored on input. */
	if (args.flags || args.walk_class >= PSS_WALK_NR_CLASSES)
		return -EINVAL;
	if (!(snap->facets & pss_walk_facet[args.walk_class]))
		return -ENODATA;
	wb = &snap->walk[args.walk_class];
	if (args.pos > wb->count)
		return -ERANGE;

	err = pss_walk_copy(wb, args.pos, u64_to_user_ptr(args.buf),
			    args.buf_len, &sp);
	if (err)
		return err;
	args.count = sp.end - args.pos;
	args.bytes_written = sp.bytes;
	args.pos = sp.end;
	args.total = wb->count;
	args.next_len = sp.next_len;
	args.out_flags = sp.end == wb->count ? PSS_WALK_END : 0;
	if (copy_to_user(uarg, &args, min_t(size_t, usize, sizeof(args))))
		return -EFAULT;
	/* Not even one record fits: say so, and how much it needs. */
	return args.count || sp.end == wb->count ? 0 : -ENOSPC;
}

static long pss_snapshot_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	struct pss_snapshot *snap = file->private_data;
	void __user *uarg = (void __user *)arg;

	/* Sizes are versioned by the structs themselves: ignore _IOC_SIZE. */
	if (_IOC_TYPE(cmd) != PSS_IOC_MAGIC)
		return -ENOTTY;
	if (_IOC_NR(cmd) == _IOC_NR(PSS_IOC_QUERY) &&
	    _IOC_DIR(cmd) == _IOC_DIR(PSS_IOC_QUERY))
		return pss_ioctl_query(snap, uarg);
	if (_IOC_NR(cmd) == _IOC_NR(PSS_IOC_WALK) &&
	    _IOC_DIR(cmd) == _IOC_DIR(PSS_IOC_WALK))
		return pss_ioctl_walk(snap, uarg);
	return -ENOTTY;
}

static const struct file_operations pss_snapshot_fops = {
	.owner		= THIS_MODULE,
	.release	= pss_snapshot_release,
	.unlocked_ioctl	= pss_snapshot_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

bool pss_is_snapshot_file(struct file *file)
{
	return file->f_op == &pss_snapshot_fops;
}

/*
 * Give @snap an fd. Nothing can fail after fd_install(), so an fd is never
 * seen half made; on failure @snap is freed.
 */
int pss_snapshot_install(struct pss_snapshot *snap)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pss_store_free_snapshot(snap);
		return fd;
	}
	file = anon_inode_getfile("[pss]", &pss_snapshot_fops, snap,
				  O_RDONLY | O_CLOEXEC);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		pss_store_free_snapshot(snap);
		return PTR_ERR(file);
	}
	fd_install(fd, file);
	return fd;
}
