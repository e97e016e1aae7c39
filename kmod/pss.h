/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pss: internal interfaces between the device, the capture and the facets.
 */
#ifndef _PSS_INTERNAL_H
#define _PSS_INTERNAL_H

#include <linux/align.h>
#include <linux/minmax.h>
#include <linux/mm_types.h>
#include <linux/timekeeping.h>
#include <linux/types.h>
#include <linux/pss.h>

struct file;
struct path;
struct mm_struct;
struct task_struct;
struct files_struct;

/* Largest args struct accepted (its tail must be zero): E2BIG beyond. */
#define PSS_ARGS_MAX		4096

/* The capture gives up with -EAGAIN after this many tries. */
#define PSS_MAX_TRIES		8

/* Longest special or anon VMA name kept: "[anon_shmem:" + 79 + "]" + NUL. */
#define PSS_VMA_NAME_MAX	96

/* First size of the VMA name arena (special and anon names), in bytes. */
#define PSS_VNAMES_MIN		1024

/* Paths resolved in one capture, cached by (mnt, dentry): 2^bits slots. */
#define PSS_NAME_CACHE_BITS	10

/*
 * One walk class: its records back to back, in their final uapi form, and
 * an index of where each starts (off[count] is the end), so a walk is a
 * bounded scan of the index and one copy_to_user(). Sized exactly, once,
 * by pss_wbuf_alloc() (the thread class: in place, see pss_task_build()).
 */
struct pss_walk_buf {
	void *data;
	size_t len;		/* bytes used */
	size_t cap;		/* bytes allocated */
	size_t *off;		/* count + 1 entries */
	u64 count;
	u32 max_rec_len;
};

/* The snapshot: immutable once its fd exists, so readers take no locks. */
struct pss_snapshot {
	u64 facets;
	struct pss_snapshot_info info;
	struct pss_perf_info perf;
	struct pss_process_info *proc;
	struct pss_walk_buf walk[PSS_WALK_NR_CLASSES];
};

/*
 * A VMA as copied under the mmap lock: every field is written there (no
 * memset), and names live out of line, so the copy stays small.
 */
struct pss_raw_vma {
	unsigned long start, end;
	unsigned long vm_flags;
	unsigned long pgoff;
	struct file *file;	/* pinned (VA_SPACE_SECTION) */
	const char *name;	/* NUL-terminated: static, in c->vnames, or
				 * (after unlock) the resolved path
				 */
	u64 page_size;
	u64 ino;
	u32 dev;
	u32 name_kind;
	u32 name_len;
	bool has_file;
	bool deleted;
};

/* A resolved name: into the name arena, or NULL. */
struct pss_name {
	const char *s;
	u32 len;
};

/* One slot of the per-capture path cache. */
struct pss_name_cache_ent {
	const void *mnt, *dentry;	/* the key, compared only */
	const char *s;
	u32 len;
};

/* A chunk of the per-capture arena holding resolved paths. */
struct pss_arena_chunk {
	struct pss_arena_chunk *next;
	size_t size, used;		/* size: of the whole allocation */
	char data[];
};

/* An fd as copied under files->file_lock. */
struct pss_raw_fd {
	struct file *file;	/* pinned */
	int fd;
	bool cloexec;
};

/* State of one capture ioctl. */
struct pss_capture {
	/* In. */
	u64 facets;
	struct task_struct *leader;	/* referenced */
	struct pid_namespace *pid_ns;	/* the caller's */
	struct user_namespace *user_ns;	/* the caller's */
	size_t limit;			/* max_snapshot_bytes */
	size_t used;			/* bytes allocated now */

	/* Per try. */
	struct task_struct *src;	/* referenced: whose mm and files */
	struct mm_struct *mm;		/* mmget() of src's mm, or NULL */
	bool mm_gone;			/* src dropped its mm: VA facet empty */
	bool files_gone;		/* src dropped its files: fds empty */
	bool other_live;		/* a live thread other than src exists */

	struct pss_raw_vma *vmas;
	u32 nr_vmas, cap_vmas, need_vmas;

	char *vnames;			/* special and anon VMA names */
	u32 nr_vnames, cap_vnames, need_vnames, want_vnames;

	struct pss_raw_fd *fds;
	u32 nr_fds, cap_fds, need_fds;

	void *threads;			/* final thread records */
	u32 nr_threads, cap_threads, need_threads;
	u32 thread_rec_len;

	struct file *exe_file;		/* pinned at the cut */
	unsigned long brk, start_brk, start_stack;
	long rss_cache[NR_MM_COUNTERS];	/* per-thread rss caches (6.1) */

	char *scratch;			/* PATH_MAX, for d_path() */
	struct pss_name_cache_ent *ncache;	/* lazily, 2^bits slots */
	struct pss_arena_chunk *arena;		/* resolved paths */
	u64 names_ns;			/* time spent resolving paths */
	struct pss_snapshot *snap;
	u32 tries;
};

/*
 * Nanoseconds since @t for a lock held (or a capture running) since then:
 * at least 1, so a lock taken reads non-zero on a guest whose clock is
 * coarser than the hold, and the total is never below a lock's hold.
 */
static inline u64 pss_held_ns(u64 t)
{
	return max_t(u64, ktime_get_ns() - t, 1);
}

/* Bytes one walk record takes: fixed part, then name and NUL, aligned. */
static inline size_t pss_rec_size(u32 fixed_len, const char *var, u32 var_len)
{
	size_t need = fixed_len;

	if (var)
		need += (size_t)var_len + 1;
	return ALIGN(need, PSS_REC_ALIGN);
}

/* capture.c */
void *pss_alloc(struct pss_capture *c, size_t size);
void *pss_alloc_raw(struct pss_capture *c, size_t size);
void pss_free(struct pss_capture *c, void *p, size_t size);
int pss_wbuf_alloc(struct pss_capture *c, struct pss_walk_buf *wb, u32 count,
		   size_t bytes);
void pss_wbuf_add(struct pss_walk_buf *wb, const void *rec, u32 fixed_len,
		  const char *var, u32 var_len);
int pss_resolve_path(struct pss_capture *c, const struct path *path,
		     bool cache, struct pss_name *out);
int pss_capture(struct pss_capture *c, struct pss_snapshot **snapp);

/* snapshot.c */
void pss_snapshot_free(struct pss_snapshot *snap);
int pss_snapshot_install(struct pss_snapshot *snap);
bool pss_is_snapshot_file(struct file *file);

/* task.c */
u32 pss_thread_rec_len(void);
u32 pss_threads_estimate(struct task_struct *leader);
struct task_struct *pss_pick_src(struct task_struct *leader);
int pss_task_cut(struct pss_capture *c);
int pss_task_build(struct pss_capture *c);
void pss_task_rss(struct pss_capture *c);

/* files.c */
u32 pss_files_estimate(struct task_struct *src);
int pss_files_copy_locked(struct pss_capture *c, struct files_struct *files);
int pss_files_build(struct pss_capture *c);
void pss_files_release(struct pss_capture *c);

/* mm.c */
int pss_mm_copy_locked(struct pss_capture *c);
int pss_mm_build(struct pss_capture *c);
void pss_mm_release(struct pss_capture *c);

#endif /* _PSS_INTERNAL_H */
