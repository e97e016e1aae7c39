/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw-ABI helpers shared by the functional tests (pss_test_util.h) and the
 * reliability suite (pss_invariants.h): one copy of each.
 */
#ifndef PSS_IOC_H
#define PSS_IOC_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/pss.h>

/* Returns 0 or -errno; *ksize (if non-NULL) gets args.kernel_size. */
static inline int ioc_query(int snap, __u32 cls, void *out, __u32 out_size,
			    __u32 *ksize)
{
	struct pss_query_args q;

	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.query_class = cls;
	q.out_size = out_size;
	q.out = (uintptr_t)out;
	if (ioctl(snap, PSS_IOC_QUERY, &q) < 0)
		return -errno;
	if (ksize)
		*ksize = q.kernel_size;
	return 0;
}

/* Minimum record size per class (the VER0 fixed part). */
static inline size_t pss_rec_min(__u32 cls)
{
	switch (cls) {
	case PSS_WALK_THREADS:	return PSS_THREAD_ENTRY_SIZE_VER0;
	case PSS_WALK_HANDLES:	return PSS_HANDLE_ENTRY_SIZE_VER0;
	case PSS_WALK_VA_SPACE:	return PSS_VMA_ENTRY_SIZE_VER0;
	case PSS_WALK_CONTEXTS:	return PSS_CONTEXT_ENTRY_SIZE_VER0;
	case PSS_WALK_KSTACKS:	return PSS_KSTACK_ENTRY_SIZE_VER0;
	case PSS_WALK_MEMORY:	return PSS_MEMORY_ENTRY_SIZE_VER0;
	}
	return 8;
}

/* Classes whose variable part is bytes, not a string (NUL-terminated all the same). */
static inline int pss_rec_binary(__u32 cls)
{
	return cls == PSS_WALK_CONTEXTS || cls == PSS_WALK_MEMORY;
}

#endif /* PSS_IOC_H */
