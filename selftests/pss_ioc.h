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

/* The count query (struct pss_count_info) that describes a walk class. */
static inline __u32 pss_walk_query(__u32 cls)
{
	switch (cls) {
	case PSS_WALK_THREADS:	return PSS_QUERY_THREADS;
	case PSS_WALK_HANDLES:	return PSS_QUERY_HANDLES;
	case PSS_WALK_VA_SPACE:	return PSS_QUERY_VA_SPACE;
	case PSS_WALK_CONTEXTS:	return PSS_QUERY_CONTEXTS;
	case PSS_WALK_KSTACKS:	return PSS_QUERY_KSTACKS;
	case PSS_WALK_MEMORY:	return PSS_QUERY_MEMORY;
	}
	return PSS_QUERY_NR_CLASSES;
}

/*
 * What a record's variable part (offset and length at 8 and 12) holds: a
 * NUL-terminated string, the thread walk's cpu words, or bytes (register
 * sets, memory) whose NUL the walk still appends but which may hold NULs.
 */
enum pss_var_kind { PSS_VAR_STRING, PSS_VAR_WORDS, PSS_VAR_BYTES };

static inline enum pss_var_kind pss_rec_var_kind(__u32 cls)
{
	switch (cls) {
	case PSS_WALK_THREADS:	return PSS_VAR_WORDS;
	case PSS_WALK_CONTEXTS:
	case PSS_WALK_MEMORY:	return PSS_VAR_BYTES;
	}
	return PSS_VAR_STRING;
}

/* Classes whose variable part is bytes, not a string (NUL-terminated all
 * the same).
 */
static inline int pss_rec_binary(__u32 cls)
{
	return pss_rec_var_kind(cls) == PSS_VAR_BYTES;
}

#endif /* PSS_IOC_H */
