/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pss: internal interfaces between the device, the capture and the facets.
 */
#ifndef _PSS_INTERNAL_H
#define _PSS_INTERNAL_H

#include <linux/align.h>
#include <linux/minmax.h>
#include <linux/mm_types.h>
#include <linux/path.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>
#include <linux/types.h>
#include <linux/pss.h>

struct file;
struct path;
struct mm_struct;
struct task_struct;
struct files_struct;
struct sighand_struct;

/* Where every named walk record keeps name_off and name_len. */
#define PSS_REC_NAME_AT		8

/* Largest args struct accepted (its tail must be zero): E2BIG beyond. */
#define PSS_ARGS_MAX		4096

/* The capture gives up with -EAGAIN after this many tries. */
#define PSS_MAX_TRIES		8

/* Longest special or anon VMA name kept: "[anon_shmem:" + 79 + "]" + NUL. */
#define PSS_VMA_NAME_MAX	96

/* First size of the VMA name arena (special and anon names), in bytes. */
#define PSS_VNAMES_MIN		1024

/* Buckets of the name intern table (sized per capture), path cache slots. */
#define PSS_INTERN_MIN_BITS	6
#define PSS_INTERN_MAX_BITS	16
#define PSS_PATH_CACHE_BITS	10	/* at most */

struct pss_account;
struct pss_arena_chunk;
struct pss_intern_ent;
struct pss_path_ent;
struct pss_precopy;

/* How a record's name is kept (pss_name.kind). */
enum pss_name_kind {
	PSS_NAME_STR,		/* s: interned, NUL-terminated, or NULL: none */
	PSS_NAME_SOCKET,	/* "socket:[ino]", written by the walk */
	PSS_NAME_PIPE,		/* "pipe:[ino]", written by the walk */
};

/*
 * A record's name: interned (see pss_intern()), or, for the names the
 * kernel makes of an inode number and are unique per fd (sockets, pipes),
 * only that number: the walk writes them, the snapshot keeps no string.
 */
struct pss_name {
	union {
		const char *s;
		unsigned long ino;
	};
	u32 len;		/* strlen() of the name */
	u8 kind;		/* enum pss_name_kind */
};

static inline bool pss_name_present(const struct pss_name *n)
{
	return n->kind != PSS_NAME_STR || n->s;
}

/*
 * Memory of one capture (store.c): its charge, the names it interned, its
 * caches. Handed to the snapshot by pss_store_finish().
 */
struct pss_store {
	struct pss_account *account;	/* referenced: the caller's uid */
	size_t limit;			/* max_snapshot_bytes */
	size_t used;			/* bytes allocated (and charged) now */
	struct pss_intern_ent **intern;	/* content -> name */
	u32 intern_bits;		/* 2^intern_bits buckets */
	struct pss_path_ent *pcache;	/* (mnt, dentry) -> name */
	u32 pcache_bits;
	char *scratch;			/* PATH_MAX, for d_path() */
	struct pss_arena_chunk *names;		/* interned names: kept */
	struct pss_arena_chunk *scratch_arena;	/* intern entries: freed */
};

struct pss_walk_buf;

/*
 * A class whose records frame themselves: the walk asks each record's
 * rec_len and has write() lay it out (fixed part, name, NUL, padding),
 * names and shared fields from the class's side table.
 */
struct pss_rec_ops {
	u32 (*rec_len)(const struct pss_walk_buf *wb, const void *rec);
	void (*write)(const struct pss_walk_buf *wb, void *dst,
		      const void *rec, u32 rec_len);
};

/*
 * One walk class: count records of rec_size stored bytes each and, for
 * named classes, each record's interned name. The walk writes each record
 * as its user_fixed stored bytes, then rec_len, name_off and name_len, the
 * name, its NUL and zero padding: names are kept once per snapshot, records
 * are framed on the way out. Or, with ops, the records frame themselves
 * from what they and the class's side table hold.
 */
struct pss_walk_buf {
	void *recs;
	struct pss_name *names;	/* NULL: the class has no names */
	const struct pss_rec_ops *ops;	/* or: records frame themselves */
	void *side;		/* with ops: what the records refer to */
	u64 count;
	u64 bytes;		/* sum of rec_len */
	u32 rec_size;
	u32 user_fixed;
	u32 max_rec_len;
};

/* The snapshot: immutable once its fd exists, so readers take no locks. */
struct pss_snapshot {
	u64 facets;
	struct pss_snapshot_info info;
	struct pss_perf_info perf;
	struct pss_process_info *proc;
	struct pss_walk_buf walk[PSS_WALK_NR_CLASSES];
	struct pss_auxv_info *auxv;	/* THREAD_CONTEXT, else NULL */
	struct pss_arena_chunk *names;	/* every name the records refer to */
	struct pss_account *account;	/* charged for all of the above */
	size_t charged;
};

/*
 * A VMA as the snapshot keeps it: written under the mmap lock, every field
 * (no memset), and kept as it is. What VMAs share (a file's path, inode
 * and build-id, a special or anon name) is in the class's side table
 * (struct pss_vma_side), once; the walk makes the uapi record of both.
 */
struct pss_vma_rec {
	u64 start, end;
	u64 pgoff;		/* pages */
	u32 flags;		/* PSS_VMA_*, but DELETED (a file's) */
	u32 side;		/* 1 + index in the side table, 0: none */
	u8 name_kind;
	u8 page_shift;
	u8 prot;		/* PSS_PROT_* */
	bool has_file;
};

/* What VMAs share: a mapped file, a name. */
struct pss_vma_side {
	struct pss_name name;	/* interned, or s == NULL */
	u64 ino;
	const u8 *build_id;	/* interned (VA_SPACE_SECTION), or NULL */
	u32 dev;
	bool deleted;
	u8 build_id_state;	/* enum pss_build_id_state */
	u8 build_id_len;
};

/* What the build needs of a VMA besides its record; dropped after it. */
struct pss_vma_ref {
	struct file *file;	/* pinned, or NULL: pinned by the VMA before */
	const char *name;	/* NUL-terminated: static or in c->vnames */
	u32 name_len;
};

/*
 * An fd as the snapshot keeps it: the fields every fd has, and of the rest
 * of its uapi record (position, size, socket or pipe fields, detail) only
 * the words that are not zero, apart. Its name is an entry of the class's
 * side table, or, for a socket or pipe, made of ino by the walk.
 */
struct pss_fd_rec {
	u64 ino;
	const u64 *more;	/* the non-zero words of the tail, or NULL */
	s32 fd;
	u32 flags;		/* PSS_HANDLE_* */
	u32 open_flags;
	u32 dev, rdev;		/* dev_t */
	u32 more_map;		/* which words of the tail more holds */
	u32 name;		/* 1 + side table index, 0, or PSS_FD_NAME_* */
	u16 i_mode;
	u8 type;		/* enum pss_handle_type */
	u8 fmode;
};

/* pss_fd_rec.name of a socket's or pipe's name: "socket:[ino]"... */
#define PSS_FD_NAME_SOCKET	U32_MAX
#define PSS_FD_NAME_PIPE	(U32_MAX - 1)

/* An fd as copied under files->file_lock. */
struct pss_raw_fd {
	struct file *file;	/* pinned */
	int fd;
	bool cloexec;
};

/* A live thread as seen under siglock; the rest is read after the cut. */
struct pss_raw_thread {
	struct task_struct *task;	/* referenced */
	pid_t tid;
	u32 flags;			/* PSS_THREAD_* known at the cut */
	char state;			/* state letter at the cut */
	bool live;			/* false: an exited leader, not yet
					 * reaped: in the times, not a record
					 */
	u8 park;			/* enum pss_park, from
					 * pss_quiesce_settle() (after the cut)
					 */
	u64 park_ns;			/* PSS_PARK_WAITED: time parked */
	unsigned long nsw;		/* held: its context switches then */
};

/* Context switches of @t: it ran if they changed (or it is on a CPU). */
static inline unsigned long pss_task_nsw(struct task_struct *t)
{
	return READ_ONCE(t->nvcsw) + READ_ONCE(t->nivcsw);
}

/* Times and faults of the thread group, read under siglock at the cut. */
struct pss_group_acct {
	u64 dead_utime, dead_stime, dead_rtime;	/* reaped threads, raw */
	u64 cutime, cstime;			/* waited-for children */
	u64 min_flt, maj_flt;			/* reaped threads */
	u64 cmin_flt, cmaj_flt;			/* waited-for children */
	u64 live_min_flt, live_maj_flt;		/* threads at the cut */
};

/* State of one capture ioctl. */
struct pss_capture {
	/* In. */
	u64 facets;
	struct task_struct *leader;	/* referenced */
	struct pid_namespace *pid_ns;	/* the caller's */
	struct user_namespace *user_ns;	/* the caller's */
	struct pss_store store;

	/* Per try. */
	struct task_struct *src;	/* referenced: whose mm and files */
	struct mm_struct *mm;		/* mmget() of src's mm, or NULL */
	bool mm_gone;			/* src dropped its mm: VA facet empty */
	bool files_gone;		/* src dropped its files: fds empty */
	bool other_live;		/* a live thread other than src exists */

	struct pss_vma_rec *vmas;	/* become the VA_SPACE class */
	struct pss_vma_ref *vma_refs;
	u32 nr_vmas, cap_vmas, cap_vma_refs, need_vmas;

	char *vnames;			/* special and anon VMA names */
	u32 nr_vnames, cap_vnames, need_vnames, want_vnames;

	struct pss_raw_fd *fds;
	u32 nr_fds, cap_fds, need_fds;
	struct path fs_root, fs_pwd;	/* referenced at the cut (files.c) */

	struct pss_raw_thread *threads;	/* the live threads at the cut */
	u32 nr_threads, cap_threads, need_threads;
	struct pss_group_acct acct;

	struct file *exe_file;		/* pinned at the cut */
	unsigned long brk, start_brk, start_stack;
	long rss_cache[NR_MM_COUNTERS];	/* per-thread rss caches (6.1) */

	/* Thread state (capture args VER1), checked by dev.c. */
	struct pss_quiesce *quiesce;	/* the park, or NULL (dev.c owns it) */
	bool per_thread;		/* PSS_CAPTURE_PER_THREAD */
	u32 stack_bytes;		/* PSS_MEMORY_STACKS, page aligned */
	u32 memory_flags;		/* PSS_MEMORY_* */
	u32 nr_ranges;
	const struct pss_memory_range *ranges;	/* kernel copy (dev.c's) */
	struct pss_precopy *precopy;	/* PSS_MEMORY_PRECOPY (dev.c's), or NULL */

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

/*
 * The frame the walk gives record @i: fixed part, name, NUL, padding.
 * Inline: the walk asks it twice per record.
 */
static inline u32 pss_wbuf_rec_len(const struct pss_walk_buf *wb, u64 i)
{
	u32 len = wb->user_fixed;

	if (wb->ops)
		return wb->ops->rec_len(wb, wb->recs + i * wb->rec_size);

	if (wb->names && pss_name_present(&wb->names[i]))
		len += wb->names[i].len + 1;
	return ALIGN(len, PSS_REC_ALIGN);
}

/* store.c: memory, records and names; calls nothing above it */
void pss_store_limits(struct pss_version *ver);
int pss_store_init(struct pss_store *st);
void *pss_alloc(struct pss_store *st, size_t size);
void *pss_alloc_raw(struct pss_store *st, size_t size);
void pss_free(struct pss_store *st, void *p, size_t size);
void pss_intern_expect(struct pss_store *st, u32 n);
int pss_intern(struct pss_store *st, const char *s, u32 len,
	       struct pss_name *out);
int pss_resolve_path(struct pss_store *st, const struct path *path,
		     struct pss_name *out);
int pss_wbuf_alloc(struct pss_store *st, struct pss_walk_buf *wb, u32 count,
		   u32 rec_size, bool named);
void pss_wbuf_adopt_ops(struct pss_walk_buf *wb, void *recs, u32 count,
			u32 rec_size, const struct pss_rec_ops *ops,
			void *side);
void *pss_wbuf_slot(struct pss_walk_buf *wb);
void *pss_keep(struct pss_store *st, size_t len);
void pss_store_adopt(struct pss_store *to, struct pss_store *from);
void pss_wbuf_add(struct pss_walk_buf *wb, const void *rec,
		  const struct pss_name *name);
void pss_name_synth(struct pss_name *out, u8 kind, unsigned long ino);

/* A scratch map from a pair of pointers to an index (store.c). */
struct pss_ptrmap {
	struct pss_ptrmap_slot *slots;
	u32 bits, nr;
};

void pss_ptrmap_init(struct pss_ptrmap *m);
int pss_ptrmap_get(struct pss_store *st, struct pss_ptrmap *m,
		   const void *k1, const void *k2, u32 **val);
int pss_array_grow(struct pss_store *st, void **arr, u32 *cap, u32 need,
		   size_t esize);
void pss_ptrmap_fini(struct pss_store *st, struct pss_ptrmap *m);
void pss_name_write(char *dst, const struct pss_name *n);
void pss_store_finish(struct pss_store *st, struct pss_snapshot *snap);
void pss_store_free_snapshot(struct pss_snapshot *snap);

/* capture.c */
int pss_capture_init(struct pss_capture *c, u64 facets,
		     struct task_struct *leader);
int pss_capture_cut(struct pss_capture *c);
int pss_capture_build(struct pss_capture *c, struct pss_snapshot **snapp);
void pss_capture_abort(struct pss_capture *c);

/*
 * quiesce.c: park the target's threads for the thread-state facets.
 * start() before the cut (no lock held), settle() after it (sets each
 * c->threads[i].park), release() as soon as registers and memory are
 * copied, end() always (withdraws the requests that did not park, frees).
 */
struct pss_park_reader;
struct pss_quiesce *pss_quiesce_start(struct task_struct *leader,
				      u32 timeout_ms,
				      const struct pss_park_reader *rd,
				      u64 *phase_ns);
int pss_quiesce_settle(struct pss_capture *c);
const void *pss_quiesce_slot(struct pss_quiesce *q, struct task_struct *task);
u64 pss_quiesce_park_ns(struct pss_quiesce *q, struct task_struct *task);
void pss_quiesce_release(struct pss_quiesce *q, struct pss_perf_info *perf);
void pss_quiesce_end(struct pss_quiesce *q);

/*
 * PSS_CAPTURE_PER_THREAD: what the quiesce reads of each thread as soon as
 * it is parked or found held, into that thread's slot of slot_size bytes;
 * read() may run in the thread itself (@t == current), in its park; it
 * must not sleep: the thread is held while it runs.
 */
struct pss_park_reader {
	u32 slot_size;
	bool (*read)(const struct pss_park_reader *rd, struct task_struct *t,
		     void *slot);	/* false: nothing read */
};

/* regs.c: THREAD_CONTEXT, while parked */
struct pss_park_reader *pss_context_reader_new(struct task_struct *leader);
void pss_context_reader_free(struct pss_park_reader *rd);
int pss_context_build(struct pss_capture *c);
int pss_context_finish(struct pss_capture *c);

/* kstack.c: THREAD_KSTACK */
int pss_kstack_build(struct pss_capture *c);

/* memory.c: MEMORY, while parked; precopy before the park */
int pss_memory_build(struct pss_capture *c);
struct pss_precopy *pss_memory_precopy(struct mm_struct *mm);
void pss_precopy_free(struct pss_precopy *pc);

/* snapshot.c */
int pss_snapshot_install(struct pss_snapshot *snap);
bool pss_is_snapshot_file(struct file *file);

/* task.c */
u32 pss_thread_rec_len(void);
u32 pss_threads_estimate(struct task_struct *leader);
struct task_struct *pss_pick_src(struct task_struct *leader);
int pss_task_copy_locked(struct pss_capture *c, struct sighand_struct *sighand);
int pss_task_build(struct pss_capture *c);
void pss_task_release(struct pss_capture *c);
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
