// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libpss: accessors for the variable parts of walk records, and names for
 * the ABI's enum values.
 */
#include "internal.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* [off, off + len) inside a record of rec_len bytes, off past the fixed part */
static bool var_ok(__u32 rec_len, size_t fixed, __u32 off, __u64 len)
{
	return off >= fixed && off <= rec_len && len <= rec_len - off;
}

LIBPSS_API const __u64 *pss_thread_entry_cpus(const struct pss_thread_entry *e,
					      size_t *nwords)
{
	if (nwords)
		*nwords = 0;
	if (!e || !e->cpus_off || !e->cpus_len || e->cpus_len % 8 ||
	    e->cpus_off % 8 ||
	    !var_ok(e->rec_len, PSS_THREAD_ENTRY_SIZE_VER0, e->cpus_off,
		    e->cpus_len))
		return NULL;
	if (nwords)
		*nwords = e->cpus_len / 8;
	return (const __u64 *)((const char *)e + e->cpus_off);
}

/* A NUL-terminated string of len chars at off, inside the record. */
static const char *rec_string(const void *rec, __u32 rec_len, size_t fixed,
			      __u32 off, __u32 len)
{
	const char *s = (const char *)rec + off;

	if (!off || !var_ok(rec_len, fixed, off, (__u64)len + 1) || s[len])
		return NULL;
	return s;
}

LIBPSS_API const char *pss_handle_entry_name(const struct pss_handle_entry *e)
{
	if (!e)
		return NULL;
	return rec_string(e, e->rec_len, PSS_HANDLE_ENTRY_SIZE_VER0,
			  e->name_off, e->name_len);
}

LIBPSS_API const char *pss_vma_entry_name(const struct pss_vma_entry *e)
{
	if (!e)
		return NULL;
	return rec_string(e, e->rec_len, PSS_VMA_ENTRY_SIZE_VER0,
			  e->name_off, e->name_len);
}

/* A binary part of off/len inside the record, past its VER0 fixed part. */
static const void *rec_bytes(const void *rec, __u32 rec_len, size_t fixed,
			     __u32 off, __u32 len, size_t *out_len)
{
	if (out_len)
		*out_len = 0;
	if (!off || !len || !var_ok(rec_len, fixed, off, len))
		return NULL;
	if (out_len)
		*out_len = len;
	return (const char *)rec + off;
}

/* A register set: inside the record's variable part (data_off/data_len). */
static const void *ctx_set(const struct pss_context_entry *e, __u32 off,
			   __u32 len, size_t *out_len)
{
	if (out_len)
		*out_len = 0;
	if (!e || !len || off < e->data_off || off > e->rec_len ||
	    (__u64)off + len > (__u64)e->data_off + e->data_len)
		return NULL;
	return rec_bytes(e, e->rec_len, PSS_CONTEXT_ENTRY_SIZE_VER0, off, len,
			 out_len);
}

LIBPSS_API const void *pss_context_entry_gregs(const struct pss_context_entry *e,
					       size_t *len)
{
	return ctx_set(e, e ? e->gregs_off : 0, e ? e->gregs_len : 0, len);
}

LIBPSS_API const void *pss_context_entry_fpregs(const struct pss_context_entry *e,
						size_t *len)
{
	return ctx_set(e, e ? e->fpregs_off : 0, e ? e->fpregs_len : 0, len);
}

LIBPSS_API const void *pss_context_entry_xstate(const struct pss_context_entry *e,
						size_t *len)
{
	return ctx_set(e, e ? e->xstate_off : 0, e ? e->xstate_len : 0, len);
}

LIBPSS_API const char *pss_kstack_entry_text(const struct pss_kstack_entry *e,
					     size_t *len)
{
	const char *s;

	if (len)
		*len = 0;
	if (!e)
		return NULL;
	s = rec_string(e, e->rec_len, PSS_KSTACK_ENTRY_SIZE_VER0, e->text_off,
		       e->text_len);
	if (s && len)
		*len = e->text_len;
	return s;
}

LIBPSS_API const void *pss_memory_entry_data(const struct pss_memory_entry *e,
					     size_t *len)
{
	if (!e) {
		if (len)
			*len = 0;
		return NULL;
	}
	return rec_bytes(e, e->rec_len, PSS_MEMORY_ENTRY_SIZE_VER0, e->data_off,
			 e->data_len, len);
}

LIBPSS_API int pss_auxv_lookup(const struct pss_auxv_info *auxv, __u64 type,
			       __u64 *value)
{
	size_t i, n;

	if (!auxv || !value)
		return -EINVAL;
	n = auxv->len / (2 * sizeof(__u64));
	if (n > PSS_AUXV_WORDS / 2)
		n = PSS_AUXV_WORDS / 2;
	for (i = 0; i < n && auxv->auxv[2 * i]; i++) {
		if (auxv->auxv[2 * i] == type) {
			*value = auxv->auxv[2 * i + 1];
			return 0;
		}
	}
	return -ENOENT;
}

static const char *const handle_types[PSS_HT_NR] = {
	[PSS_HT_UNKNOWN]	= "unknown",
	[PSS_HT_REGULAR]	= "regular",
	[PSS_HT_DIR]		= "dir",
	[PSS_HT_CHR]		= "chr",
	[PSS_HT_BLK]		= "blk",
	[PSS_HT_FIFO]		= "fifo",
	[PSS_HT_PIPE]		= "pipe",
	[PSS_HT_SOCKET]		= "socket",
	[PSS_HT_SYMLINK]	= "symlink",
	[PSS_HT_MEMFD]		= "memfd",
	[PSS_HT_EVENTFD]	= "eventfd",
	[PSS_HT_EPOLL]		= "epoll",
	[PSS_HT_TIMERFD]	= "timerfd",
	[PSS_HT_SIGNALFD]	= "signalfd",
	[PSS_HT_INOTIFY]	= "inotify",
	[PSS_HT_FANOTIFY]	= "fanotify",
	[PSS_HT_PIDFD]		= "pidfd",
	[PSS_HT_USERFAULTFD]	= "userfaultfd",
	[PSS_HT_IO_URING]	= "io_uring",
	[PSS_HT_ANON]		= "anon",
	[PSS_HT_PSS]		= "pss",
};

static const char *lookup(const char *const *tab, size_t n, __u64 v)
{
	if (v < n && tab[v])
		return tab[v];
	return "unknown";
}

LIBPSS_API const char *pss_handle_type_name(__u32 type)
{
	return lookup(handle_types, ARRAY_SIZE(handle_types), type);
}

LIBPSS_API const char *pss_state_name(char state)
{
	/* the letters of fs/proc/array.c's task_state_array */
	switch (state) {
	case 'R': return "running";
	case 'S': return "sleeping";
	case 'D': return "disk sleep";
	case 'T': return "stopped";
	case 't': return "tracing stop";
	case 'X': return "dead";
	case 'Z': return "zombie";
	case 'P': return "parked";
	case 'I': return "idle";
	default:  return "unknown";
	}
}

static const char *const vma_name_kinds[] = {
	[PSS_VMA_NAME_NONE]		= "none",
	[PSS_VMA_NAME_FILE]		= "file",
	[PSS_VMA_NAME_HEAP]		= "heap",
	[PSS_VMA_NAME_STACK]		= "stack",
	[PSS_VMA_NAME_SPECIAL]		= "special",
	[PSS_VMA_NAME_ANON]		= "anon",
	[PSS_VMA_NAME_ANON_SHMEM]	= "anon_shmem",
};

LIBPSS_API const char *pss_vma_name_kind_name(__u32 kind)
{
	return lookup(vma_name_kinds, ARRAY_SIZE(vma_name_kinds), kind);
}

static const char *const walk_classes[PSS_WALK_NR_CLASSES] = {
	[PSS_WALK_THREADS]	= "threads",
	[PSS_WALK_HANDLES]	= "handles",
	[PSS_WALK_VA_SPACE]	= "va_space",
	[PSS_WALK_CONTEXTS]	= "contexts",
	[PSS_WALK_KSTACKS]	= "kstacks",
	[PSS_WALK_MEMORY]	= "memory",
};

LIBPSS_API const char *pss_walk_class_name(__u32 walk_class)
{
	return lookup(walk_classes, ARRAY_SIZE(walk_classes), walk_class);
}

static const char *const query_classes[PSS_QUERY_NR_CLASSES] = {
	[PSS_QUERY_SNAPSHOT]	= "snapshot",
	[PSS_QUERY_PROCESS]	= "process",
	[PSS_QUERY_THREADS]	= "threads",
	[PSS_QUERY_HANDLES]	= "handles",
	[PSS_QUERY_VA_SPACE]	= "va_space",
	[PSS_QUERY_PERFORMANCE]	= "performance",
	[PSS_QUERY_AUXV]	= "auxv",
	[PSS_QUERY_CONTEXTS]	= "contexts",
	[PSS_QUERY_KSTACKS]	= "kstacks",
	[PSS_QUERY_MEMORY]	= "memory",
};

LIBPSS_API const char *pss_query_class_name(__u32 query_class)
{
	return lookup(query_classes, ARRAY_SIZE(query_classes), query_class);
}

LIBPSS_API const char *pss_facet_name(__u64 facet)
{
	switch (facet) {
	case PSS_FACET_THREADS:			return "threads";
	case PSS_FACET_HANDLES:			return "handles";
	case PSS_FACET_HANDLE_NAME:		return "handle_name";
	case PSS_FACET_HANDLE_BASIC:		return "handle_basic";
	case PSS_FACET_HANDLE_TYPE_SPECIFIC:	return "handle_type_specific";
	case PSS_FACET_VA_SPACE:		return "va_space";
	case PSS_FACET_VA_SPACE_SECTION:	return "va_space_section";
	case PSS_FACET_MEASURE_PERFORMANCE:	return "measure_performance";
	case PSS_FACET_THREAD_CONTEXT:		return "thread_context";
	case PSS_FACET_THREAD_KSTACK:		return "thread_kstack";
	case PSS_FACET_MEMORY:			return "memory";
	default:				return "unknown";
	}
}

static const char *const parks[] = {
	[PSS_PARK_NONE]		= "none",
	[PSS_PARK_WAITED]	= "waited",
	[PSS_PARK_STOPPED]	= "stopped",
	[PSS_PARK_BLOCKED]	= "blocked",
	[PSS_PARK_CALLER]	= "caller",
};

LIBPSS_API const char *pss_park_name(__u32 park)
{
	return lookup(parks, ARRAY_SIZE(parks), park);
}

LIBPSS_API const char *pss_library_version(void)
{
	return LIBPSS_VERSION;
}

LIBPSS_API __u32 pss_library_major_version(void)
{
	return LIBPSS_MAJOR_VERSION;
}

LIBPSS_API __u32 pss_library_minor_version(void)
{
	return LIBPSS_MINOR_VERSION;
}
