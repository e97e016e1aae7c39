// SPDX-License-Identifier: GPL-2.0
/*
 * pss: the cut - measure, allocate, lock, verify it fits, copy, unlock,
 * retry if the target grew meanwhile.
 *
 * Lock order (lockdep checks it on the debug kernel):
 *
 *   signal->exec_update_lock, read    sleeping, always (dev.c): no exec, so
 *                                     no new mm or credentials, during the
 *                                     permission check and the capture
 *   mmap_read_lock(mm)                sleeping, only with PSS_FACET_VA_SPACE
 *     task_lock(src)                  only with PSS_FACET_HANDLES
 *       files->file_lock              only with PSS_FACET_HANDLES
 *         sighand->siglock, irqsave   always (process info, threads)
 *
 * siglock is hardirq-safe and task_lock/file_lock are not, so siglock must
 * be innermost. task_lock(src) is what keeps src->files from being detached
 * (get_files_struct() is not exported). Everything held together at the
 * moment the cut time is read is what makes the snapshot one instant.
 *
 * Nothing under these locks allocates, sleeps or touches user memory: every
 * buffer is sized and allocated before the locks are taken; if a copy finds
 * more objects than the buffer holds it stops, the locks are dropped, the
 * buffers grow, and the capture retries (at most PSS_MAX_TRIES times, then
 * -EAGAIN). The same holds for the arena of special and anon VMA names
 * (copied under the mmap lock, as they are only stable there). References
 * (files, the exe file) are taken at the cut; paths are resolved and
 * records built after unlock, each walk class sized exactly, once.
 *
 * src is the thread whose mm and fd table are captured: the leader, or the
 * first live thread when the leader has exited but its threads have not
 * (its mm and files are gone then). Threads always share the mm; a thread
 * that unshared its fd table (unshare(CLONE_FILES)) is not represented.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include "pss.h"

/*
 * Every allocation of a capture: memcg-charged, within the budget. A failure
 * is reported as -ENOMEM, so the allocator's own warning is not wanted.
 */
static void *pss_alloc_gfp(struct pss_capture *c, size_t size, gfp_t gfp)
{
	void *p;

	if (size > c->limit || c->used > c->limit - size)
		return ERR_PTR(-ENOBUFS);
	p = kvmalloc(size, gfp | GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!p)
		return ERR_PTR(-ENOMEM);
	c->used += size;
	return p;
}

/* Zeroed. */
void *pss_alloc(struct pss_capture *c, size_t size)
{
	return pss_alloc_gfp(c, size, __GFP_ZERO);
}

/* Not zeroed: for buffers that are written in full before being read. */
void *pss_alloc_raw(struct pss_capture *c, size_t size)
{
	return pss_alloc_gfp(c, size, 0);
}

void pss_free(struct pss_capture *c, void *p, size_t size)
{
	if (!p)
		return;
	kvfree(p);
	c->used -= size;
}

/*
 * Size @wb for exactly @count records of @bytes in all (the sum of
 * pss_rec_size() over them): one allocation each for the index and the
 * data, neither zeroed, as pss_wbuf_add() writes every byte.
 */
int pss_wbuf_alloc(struct pss_capture *c, struct pss_walk_buf *wb, u32 count,
		   size_t bytes)
{
	void *p;

	p = pss_alloc_raw(c, ((size_t)count + 1) * sizeof(*wb->off));
	if (IS_ERR(p))
		return PTR_ERR(p);
	wb->off = p;
	wb->off[0] = 0;
	if (!bytes)
		return 0;
	p = pss_alloc_raw(c, bytes);
	if (IS_ERR(p))
		return PTR_ERR(p);
	wb->data = p;
	wb->cap = bytes;
	return 0;
}

/*
 * Append one record: @fixed_len bytes of @rec, then (if @var) @var_len
 * bytes of @var and a NUL, padded with zeroes to PSS_REC_ALIGN. rec_len,
 * the first field of every record, is set here; the caller has set the
 * offset of the variable part (fixed_len) in the record. pss_wbuf_alloc()
 * sized @wb for every record to come, with the same pss_rec_size().
 */
void pss_wbuf_add(struct pss_walk_buf *wb, const void *rec, u32 fixed_len,
		  const char *var, u32 var_len)
{
	size_t need = pss_rec_size(fixed_len, var, var_len);
	size_t used = fixed_len;
	u32 rec_len = need;
	void *dst;

	if (WARN_ON_ONCE(wb->cap - wb->len < need))
		return;
	dst = wb->data + wb->len;
	memcpy(dst, rec, fixed_len);
	memcpy(dst, &rec_len, sizeof(rec_len));
	if (var) {
		memcpy(dst + fixed_len, var, var_len);
		used += var_len;
	}
	memset(dst + used, 0, need - used);	/* the NUL and the padding */
	wb->off[wb->count++] = wb->len;
	wb->len += need;
	wb->off[wb->count] = wb->len;
	wb->max_rec_len = max(wb->max_rec_len, rec_len);
}

/* Copy @len bytes of @s and a NUL into the capture's path arena. */
static char *pss_arena_store(struct pss_capture *c, const char *s, u32 len)
{
	struct pss_arena_chunk *a = c->arena;
	char *dst;

	if (!a || a->size - a->used < (size_t)len + 1) {
		size_t size = max_t(size_t, SZ_64K,
				    sizeof(*a) + (size_t)len + 1);

		a = pss_alloc_raw(c, size);
		if (IS_ERR(a))
			return ERR_CAST(a);
		a->next = c->arena;
		a->size = size;
		a->used = sizeof(*a);
		c->arena = a;
	}
	dst = (char *)a + a->used;
	memcpy(dst, s, len);
	dst[len] = '\0';
	a->used += (size_t)len + 1;
	return dst;
}

static void pss_arena_free(struct pss_capture *c)
{
	struct pss_arena_chunk *a, *next;

	for (a = c->arena; a; a = next) {
		next = a->next;
		pss_free(c, a, a->size);
	}
	c->arena = NULL;
}

/*
 * The path d_path() gives for @path, as readlink and /proc/PID/maps show it,
 * kept in the arena for the rest of the capture and cached by (mnt, dentry):
 * a file open many times, dup()ed fds, both ends of a pipe and a file mapped
 * many times resolve once. @cache: worth a slot (the caller expects the
 * dentry again); a one-off does not evict one that repeats. @out->s is NULL
 * if the path has no name. The caller times the resolution as a whole.
 */
int pss_resolve_path(struct pss_capture *c, const struct path *path,
		     bool cache, struct pss_name *out)
{
	struct pss_name_cache_ent *e;
	const char *p;
	char *s;

	if (!c->ncache) {
		c->ncache = pss_alloc(c, sizeof(*c->ncache) <<
				      PSS_NAME_CACHE_BITS);
		if (IS_ERR(c->ncache)) {
			int err = PTR_ERR(c->ncache);

			c->ncache = NULL;
			return err;
		}
	}
	e = &c->ncache[hash_ptr(path->dentry, PSS_NAME_CACHE_BITS)];
	if (e->dentry == path->dentry && e->mnt == path->mnt) {
		out->s = e->s;
		out->len = e->len;
		return 0;
	}
	out->s = NULL;
	out->len = 0;
	p = d_path(path, c->scratch, PATH_MAX);
	if (IS_ERR(p))
		return 0;	/* no name: not cached, rare */
	out->len = strlen(p);
	s = pss_arena_store(c, p, out->len);
	if (IS_ERR(s))
		return PTR_ERR(s);
	out->s = s;
	if (cache) {
		e->mnt = path->mnt;
		e->dentry = path->dentry;
		e->s = s;
		e->len = out->len;
	}
	return 0;
}

/*
 * Grow @*buf (contents are not kept, nor zeroed: every element used is
 * written under the locks) to hold @need elements of @esize.
 */
static int pss_grow(struct pss_capture *c, void **buf, u32 *cap, u32 need,
		    size_t esize)
{
	u32 want;
	size_t bytes;
	void *n;

	if (need <= *cap)
		return 0;
	/* Some slack, so a target that grows a little does not cost a try. */
	want = need + need / 8 + 8;
	if (want < need || check_mul_overflow((size_t)want, esize, &bytes))
		return -ENOBUFS;
	pss_free(c, *buf, (size_t)*cap * esize);
	*buf = NULL;
	*cap = 0;
	n = pss_alloc_raw(c, bytes);
	if (IS_ERR(n))
		return PTR_ERR(n);
	*buf = n;
	*cap = want;
	return 0;
}

/* Drop what one try pinned, keep the buffers for the next one. */
static void pss_try_reset(struct pss_capture *c)
{
	pss_mm_release(c);
	pss_files_release(c);
	if (c->exe_file) {
		fput(c->exe_file);
		c->exe_file = NULL;
	}
	if (c->mm) {
		mmput(c->mm);
		c->mm = NULL;
	}
	if (c->src) {
		put_task_struct(c->src);
		c->src = NULL;
	}
	c->nr_threads = 0;
	memset(c->rss_cache, 0, sizeof(c->rss_cache));
	c->mm_gone = false;
	c->files_gone = false;
	c->other_live = false;
}

/* Measure (lockless estimates, exact counts from a failed try) and allocate. */
static int pss_try_prepare(struct pss_capture *c)
{
	u32 need;
	int err;

	c->src = pss_pick_src(c->leader);
	c->mm = get_task_mm(c->src);

	if (c->facets & PSS_FACET_THREADS) {
		need = max(c->need_threads, pss_threads_estimate(c->leader));
		err = pss_grow(c, &c->threads, &c->cap_threads, need,
			       c->thread_rec_len);
		if (err)
			return err;
	}

	if ((c->facets & PSS_FACET_VA_SPACE) && c->mm) {
		need = max_t(u32, c->need_vmas, READ_ONCE(c->mm->map_count));
		err = pss_grow(c, (void **)&c->vmas, &c->cap_vmas, need,
			       sizeof(*c->vmas));
		if (err)
			return err;
		if (c->facets & PSS_FACET_VA_SPACE_SECTION) {
			need = max_t(u32, c->need_vnames, PSS_VNAMES_MIN);
			err = pss_grow(c, (void **)&c->vnames, &c->cap_vnames,
				       need, 1);
			if (err)
				return err;
		}
	}

	if (c->facets & PSS_FACET_HANDLES) {
		need = max(c->need_fds, pss_files_estimate(c->src));
		err = pss_grow(c, (void **)&c->fds, &c->cap_fds, need,
			       sizeof(*c->fds));
		if (err)
			return err;
	}
	return 0;
}

/*
 * One attempt at the cut, one lock level per function so that every lock is
 * taken and released in one place. Each returns 0, -EOVERFLOW (a buffer was
 * too small: need_* says how big), -EAGAIN (src changed under us: pick
 * again), or a hard error.
 */
static int pss_cut_files(struct pss_capture *c)
{
	struct pss_perf_info *perf = &c->snap->perf;
	struct files_struct *files;
	u64 t;
	int err;

	if (!(c->facets & PSS_FACET_HANDLES))
		return pss_task_cut(c);

	task_lock(c->src);
	files = c->src->files;
	if (files) {
		spin_lock(&files->file_lock);
		t = ktime_get_ns();
		err = pss_files_copy_locked(c, files);
		perf->phase_ns[PSS_PHASE_HANDLES] = ktime_get_ns() - t;
		if (!err)
			err = pss_task_cut(c);
		spin_unlock(&files->file_lock);
		perf->lock_held_ns[PSS_LOCK_FILES] = pss_held_ns(t);
	} else {
		c->files_gone = true;
		err = pss_task_cut(c);
	}
	task_unlock(c->src);
	return err;
}

static int pss_cut(struct pss_capture *c)
{
	struct pss_perf_info *perf = &c->snap->perf;
	u64 t;
	int err;

	if (!(c->facets & PSS_FACET_VA_SPACE) || !c->mm)
		return pss_cut_files(c);

	if (mmap_read_lock_killable(c->mm))
		return -EINTR;
	t = ktime_get_ns();
	err = pss_mm_copy_locked(c);
	perf->phase_ns[PSS_PHASE_VA_SPACE] = ktime_get_ns() - t;
	if (!err)
		err = pss_cut_files(c);
	mmap_read_unlock(c->mm);
	perf->lock_held_ns[PSS_LOCK_MMAP] = pss_held_ns(t);
	return err;
}

static int pss_capture_once(struct pss_capture *c)
{
	int err = pss_cut(c);

	if (err)
		return err;
	/* A thread or fd table that src dropped meanwhile: pick another. */
	if ((c->mm_gone || c->files_gone) && c->other_live)
		return -EAGAIN;
	return 0;
}

static void pss_capture_cleanup(struct pss_capture *c)
{
	pss_try_reset(c);
	pss_free(c, c->vmas, (size_t)c->cap_vmas * sizeof(*c->vmas));
	pss_free(c, c->vnames, c->cap_vnames);
	pss_free(c, c->fds, (size_t)c->cap_fds * sizeof(*c->fds));
	pss_free(c, c->threads, (size_t)c->cap_threads * c->thread_rec_len);
	pss_free(c, c->scratch, PATH_MAX);
	pss_free(c, c->ncache, sizeof(*c->ncache) << PSS_NAME_CACHE_BITS);
	pss_arena_free(c);
	c->vnames = NULL;
	c->ncache = NULL;
	c->vmas = NULL;
	c->fds = NULL;
	c->threads = NULL;
	c->scratch = NULL;
}

static u64 pss_wbuf_bytes(const struct pss_walk_buf *wb)
{
	return wb->off ? wb->cap + (wb->count + 1) * sizeof(*wb->off) : 0;
}

int pss_capture(struct pss_capture *c, struct pss_snapshot **snapp)
{
	u64 t_start = ktime_get_ns(), t;
	struct pss_snapshot *snap;
	int err, i;

	snap = pss_alloc(c, sizeof(*snap));
	if (IS_ERR(snap))
		return PTR_ERR(snap);
	c->snap = snap;
	snap->facets = c->facets;
	snap->proc = pss_alloc(c, sizeof(*snap->proc));
	if (IS_ERR(snap->proc)) {
		err = PTR_ERR(snap->proc);
		snap->proc = NULL;
		goto out;
	}
	c->scratch = pss_alloc(c, PATH_MAX);
	if (IS_ERR(c->scratch)) {
		err = PTR_ERR(c->scratch);
		c->scratch = NULL;
		goto out;
	}
	c->thread_rec_len = pss_thread_rec_len();

	for (c->tries = 0;; c->tries++) {
		if (c->tries == PSS_MAX_TRIES) {
			err = -EAGAIN;
			goto out;
		}
		t = ktime_get_ns();
		err = pss_try_prepare(c);
		snap->perf.phase_ns[PSS_PHASE_ALLOC] += ktime_get_ns() - t;
		if (err)
			goto out;
		err = pss_capture_once(c);
		if (!err)
			break;
		if (err != -EOVERFLOW && err != -EAGAIN)
			goto out;
		pss_try_reset(c);
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			goto out;
		}
		cond_resched();
	}

	t = ktime_get_ns();
	pss_task_rss(c);
	err = pss_task_build(c);
	if (!err)
		err = pss_mm_build(c);
	if (!err)
		err = pss_files_build(c);
	snap->perf.phase_ns[PSS_PHASE_NAMES] = c->names_ns;
	snap->perf.phase_ns[PSS_PHASE_BUILD] = ktime_get_ns() - t -
		c->names_ns;
	if (err)
		goto out;

	snap->info.size = sizeof(snap->info);
	snap->info.abi_version = PSS_ABI_VERSION;
	snap->info.facets = c->facets;
	snap->info.retries = c->tries;
	snap->info.nr_threads = snap->walk[PSS_WALK_THREADS].count;
	snap->info.nr_handles = snap->walk[PSS_WALK_HANDLES].count;
	snap->info.nr_vmas = snap->walk[PSS_WALK_VA_SPACE].count;
	snap->info.memory_bytes = sizeof(*snap) + sizeof(*snap->proc);
	for (i = 0; i < PSS_WALK_NR_CLASSES; i++)
		snap->info.memory_bytes += pss_wbuf_bytes(&snap->walk[i]);
	snap->perf.size = sizeof(snap->perf);
	snap->perf.phase_ns[PSS_PHASE_TOTAL] = pss_held_ns(t_start);
out:
	pss_capture_cleanup(c);
	if (err) {
		pss_snapshot_free(snap);
		return err;
	}
	*snapp = snap;
	return 0;
}
