// SPDX-License-Identifier: GPL-2.0
/*
 * pss: the cut - measure, allocate, lock, verify it fits, copy, unlock,
 * retry if the target grew meanwhile.
 *
 * Lock order (lockdep checks it on the debug kernel):
 *
 *   signal->exec_update_lock, read    sleeping, always (dev.c): no exec, so
 *                                     no new mm or credentials, from the
 *                                     permission check to the end of the
 *                                     cut (pss_capture_cut()); dropped
 *                                     before names and records are built
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
 * (files, the exe file, the threads) are taken at the cut; paths are
 * resolved, per-thread fields read and thread and fd records built after
 * unlock (pss_capture_build()), each walk class sized exactly, once; the
 * VMA records copied under the mmap lock are kept as they are. Every lock
 * is taken here (pss_cut()); the facets only copy under them, and
 * allocate, intern names and keep records through store.c.
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
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/time_namespace.h>
#include <linux/timekeeping.h>
#include "pss.h"

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
	/*
	 * Some slack, so a target that grows a little does not cost a try;
	 * little, as the VMA array is kept by the snapshot as it is.
	 */
	want = need + need / 64 + 16;
	if (want < need || check_mul_overflow((size_t)want, esize, &bytes))
		return -ENOBUFS;
	pss_free(&c->store, *buf, (size_t)*cap * esize);
	*buf = NULL;
	*cap = 0;
	n = pss_alloc_raw(&c->store, bytes);
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
	c->nr_vmas = 0;
	pss_files_release(c);
	pss_task_release(c);
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
	memset(c->rss_cache, 0, sizeof(c->rss_cache));
	memset(&c->acct, 0, sizeof(c->acct));
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
	/*
	 * src passed exit_mm() since it was picked: if another thread lives,
	 * the process still has an address space, so pick again (the cut
	 * sees other_live and says -EAGAIN); a zombie really has none.
	 */
	if (!c->mm && !(c->src->flags & PF_KTHREAD))
		c->mm_gone = true;

	/* Always: the process times are summed over the pinned threads. */
	need = max(c->need_threads, pss_threads_estimate(c->leader) + 1);
	err = pss_grow(c, (void **)&c->threads, &c->cap_threads, need,
		       sizeof(*c->threads));
	if (err)
		return err;

	if ((c->facets & PSS_FACET_VA_SPACE) && c->mm) {
		need = max_t(u32, c->need_vmas, READ_ONCE(c->mm->map_count));
		err = pss_grow(c, (void **)&c->vmas, &c->cap_vmas, need,
			       sizeof(*c->vmas));
		if (!err)
			err = pss_grow(c, (void **)&c->vma_refs,
				       &c->cap_vma_refs, need,
				       sizeof(*c->vma_refs));
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
 * One attempt at the cut: the whole lock nest, in the order at the top of
 * this file, one level per function (each lock is taken and released in
 * one place), around the facets' copiers. Each returns 0, -EOVERFLOW (a
 * buffer was too small: need_* says how big), -EAGAIN (src changed under
 * us: pick again), -ESRCH (the leader was reaped), -EINTR, or a hard error.
 */

/*
 * Innermost: siglock. lock_task_sighand() is an inline over an unexported
 * helper, so its RCU-retry loop is written out. The cut is read here, with
 * every lock of the capture held.
 */
static int pss_cut_threads(struct pss_capture *c)
{
	struct pss_snapshot_info *info = &c->snap->info;
	struct pss_perf_info *perf = &c->snap->perf;
	struct sighand_struct *sighand;
	unsigned long flags;
	u64 t;
	int err;

	for (;;) {
		rcu_read_lock();
		sighand = rcu_dereference(c->leader->sighand);
		if (!sighand) {
			rcu_read_unlock();
			return -ESRCH;
		}
		spin_lock_irqsave(&sighand->siglock, flags);
		/* de_thread() may have switched it meanwhile. */
		if (likely(sighand == rcu_access_pointer(c->leader->sighand)))
			break;
		spin_unlock_irqrestore(&sighand->siglock, flags);
		rcu_read_unlock();
	}
	rcu_read_unlock();	/* siglock pins sighand now */

	t = ktime_get_ns();
	err = pss_task_copy_locked(c, sighand);
	if (!err) {
		info->cut_ns = ktime_get_ns();
		info->cut_realtime_ns = ktime_get_real_ns();
		info->cut_boottime_ns =
			timens_add_boottime_ns(ktime_get_boottime_ns());
		perf->phase_ns[PSS_PHASE_THREADS] = info->cut_ns - t;
	}
	spin_unlock_irqrestore(&sighand->siglock, flags);
	perf->lock_held_ns[PSS_LOCK_SIGHAND] = pss_held_ns(t);
	return err;
}

/* task_lock(src) keeps src->files attached; file_lock freezes the table. */
static int pss_cut_files(struct pss_capture *c)
{
	struct pss_perf_info *perf = &c->snap->perf;
	struct files_struct *files;
	u64 t;
	int err;

	if (!(c->facets & PSS_FACET_HANDLES))
		return pss_cut_threads(c);

	task_lock(c->src);
	files = c->src->files;
	if (files) {
		spin_lock(&files->file_lock);
		t = ktime_get_ns();
		err = pss_files_copy_locked(c, files);
		perf->phase_ns[PSS_PHASE_HANDLES] = ktime_get_ns() - t;
		if (!err)
			err = pss_cut_threads(c);
		spin_unlock(&files->file_lock);
		perf->lock_held_ns[PSS_LOCK_FILES] = pss_held_ns(t);
	} else {
		c->files_gone = true;
		err = pss_cut_threads(c);
	}
	task_unlock(c->src);
	return err;
}

/* Outermost of the cut: the mmap lock, killable. */
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

/* Free the capture's own buffers; the snapshot keeps what it holds. */
static void pss_capture_cleanup(struct pss_capture *c)
{
	struct pss_store *st = &c->store;

	pss_try_reset(c);
	pss_free(st, c->vmas, (size_t)c->cap_vmas * sizeof(*c->vmas));
	pss_free(st, c->vma_refs,
		 (size_t)c->cap_vma_refs * sizeof(*c->vma_refs));
	c->vma_refs = NULL;
	pss_free(st, c->vnames, c->cap_vnames);
	pss_free(st, c->fds, (size_t)c->cap_fds * sizeof(*c->fds));
	pss_free(st, c->threads, (size_t)c->cap_threads * sizeof(*c->threads));
	c->vmas = NULL;
	c->vnames = NULL;
	c->fds = NULL;
	c->threads = NULL;
}

/*
 * Set up a capture of @leader's process (referenced by the caller for the
 * capture's lifetime): the snapshot to fill and the caller's charge.
 */
int pss_capture_init(struct pss_capture *c, u64 facets,
		     struct task_struct *leader)
{
	struct pss_snapshot *snap;
	int err;

	memset(c, 0, sizeof(*c));
	c->facets = facets;
	c->leader = leader;
	c->pid_ns = task_active_pid_ns(current);
	c->user_ns = current_user_ns();
	err = pss_store_init(&c->store);
	if (err)
		return err;
	snap = pss_alloc(&c->store, sizeof(*snap));
	if (IS_ERR(snap)) {
		pss_store_finish(&c->store, NULL);
		return PTR_ERR(snap);
	}
	c->snap = snap;
	snap->facets = facets;
	snap->proc = pss_alloc(&c->store, sizeof(*snap->proc));
	if (IS_ERR(snap->proc)) {
		err = PTR_ERR(snap->proc);
		snap->proc = NULL;
		pss_capture_abort(c);
		return err;
	}
	return 0;
}

/* Give up a capture that was set up: free everything, keep nothing. */
void pss_capture_abort(struct pss_capture *c)
{
	pss_capture_cleanup(c);
	pss_store_finish(&c->store, c->snap);
	pss_store_free_snapshot(c->snap);
	c->snap = NULL;
}

/*
 * The cut, retried until the buffers fit: with the target's
 * exec_update_lock held for read (by dev.c, across the permission check),
 * so that no exec replaces the mm or credentials meanwhile. On success the
 * capture holds references to everything it needs to build the snapshot,
 * and the lock may be dropped.
 */
int pss_capture_cut(struct pss_capture *c)
{
	struct pss_perf_info *perf = &c->snap->perf;
	u64 t;
	int err;

	lockdep_assert_held(&c->leader->signal->exec_update_lock);
	for (c->tries = 0;; c->tries++) {
		if (c->tries == PSS_MAX_TRIES)
			return -EAGAIN;
		t = ktime_get_ns();
		err = pss_try_prepare(c);
		perf->phase_ns[PSS_PHASE_ALLOC] += ktime_get_ns() - t;
		if (err)
			return err;
		err = pss_capture_once(c);
		if (!err)
			return 0;
		if (err != -EOVERFLOW && err != -EAGAIN)
			return err;
		pss_try_reset(c);
		/* Not under siglock, where it would be 13 KiB with irqs off. */
		memset(c->snap->proc, 0, sizeof(*c->snap->proc));
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
}

/*
 * After the cut, with no lock held: names, per-thread fields and records,
 * from the references taken at the cut. Consumes the capture: on success
 * *@snapp is the finished snapshot, on failure everything is freed.
 */
int pss_capture_build(struct pss_capture *c, struct pss_snapshot **snapp)
{
	struct pss_snapshot *snap = c->snap;
	u64 t = ktime_get_ns();
	int err;

	/*
	 * Registers and memory first, while the threads are parked; then
	 * release them: kernel stacks (see kstack.c), names and records do
	 * not need the target held.
	 */
	/* Before the first name (kernel stacks are interned too). */
	pss_intern_expect(&c->store, c->nr_vmas + c->nr_fds + c->nr_threads);
	err = c->quiesce ? pss_quiesce_settle(c) : 0;
	if (!err && (c->facets & PSS_FACET_THREAD_CONTEXT))
		err = pss_context_build(c);
	if (!err && (c->facets & PSS_FACET_MEMORY))
		err = pss_memory_build(c);
	if (c->quiesce)
		pss_quiesce_release(c->quiesce, &snap->perf);
	if (!err && (c->facets & PSS_FACET_THREAD_CONTEXT))
		err = pss_context_finish(c);
	if (!err && (c->facets & PSS_FACET_THREAD_KSTACK))
		err = pss_kstack_build(c);
	if (err) {
		pss_capture_abort(c);
		return err;
	}

	pss_task_rss(c);
	err = pss_task_build(c);
	if (!err)
		err = pss_mm_build(c);
	if (!err)
		err = pss_files_build(c);
	snap->perf.phase_ns[PSS_PHASE_NAMES] = c->names_ns;
	snap->perf.phase_ns[PSS_PHASE_BUILD] = ktime_get_ns() - t -
		c->names_ns;
	if (err) {
		pss_capture_abort(c);
		return err;
	}

	pss_capture_cleanup(c);
	pss_store_finish(&c->store, snap);
	snap->info.size = sizeof(snap->info);
	snap->info.abi_version = PSS_ABI_VERSION;
	snap->info.facets = c->facets;
	snap->info.retries = c->tries;
	snap->info.nr_threads = snap->walk[PSS_WALK_THREADS].count;
	snap->info.nr_handles = snap->walk[PSS_WALK_HANDLES].count;
	snap->info.nr_vmas = snap->walk[PSS_WALK_VA_SPACE].count;
	snap->info.memory_bytes = snap->charged;
	snap->perf.size = sizeof(snap->perf);
	c->snap = NULL;
	*snapp = snap;
	return 0;
}
