/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pss: every difference between the kernels pss builds for (Debian 6.1 and
 * 6.12) lives here. Differences are probed, not versioned, where a probe is
 * possible: a macro that exists in one version only, or a header grep done
 * by Kbuild (PSS_HAVE_* flags set in the top-level Kbuild file).
 */
#ifndef _PSS_COMPAT_H
#define _PSS_COMPAT_H

#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/percpu_counter.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/spinlock.h>
#include <linux/stacktrace.h>
#include <linux/string.h>
#include <asm/unwind.h>

/*
 * mm->exe_file with a reference. get_mm_exe_file() is not exported.
 * 6.12 allocates files SLAB_TYPESAFE_BY_RCU, so the pointer must be
 * re-checked after taking the reference: the exported get_file_rcu() does
 * that. 6.1's get_file_rcu() is a macro that only bumps a non-zero count.
 */
static inline struct file *pss_get_mm_exe_file(struct mm_struct *mm)
{
	struct file *exe;

	rcu_read_lock();
#ifdef get_file_rcu
	exe = rcu_dereference(mm->exe_file);
	if (exe && !get_file_rcu(exe))
		exe = NULL;
#else
	exe = get_file_rcu(&mm->exe_file);
#endif
	rcu_read_unlock();
	return exe;
}

/*
 * The path a mapping shows in /proc/PID/maps: 6.8+ has backing files
 * (overlayfs) whose user-visible path differs from f_path.
 */
static inline const struct path *pss_file_user_path(struct file *file)
{
#ifdef PSS_HAVE_FILE_USER_PATH
	return file_user_path(file);
#else
	return &file->f_path;
#endif
}

/* The inode /proc/PID/maps shows for a mapping (6.8+: not a backing file's). */
static inline const struct inode *pss_file_user_inode(struct file *file)
{
#ifdef PSS_HAVE_FILE_USER_PATH
	return file_user_inode(file);
#else
	return file_inode(file);
#endif
}

/*
 * A pidfd's struct pid, or NULL if @file is not a pidfd. pidfd_pid() is not
 * exported. 6.9+ pidfds live on pidfs (PID_FS_MAGIC, which only exists
 * there) and keep the pid in the inode's i_private; older ones are anon
 * inodes named "[pidfd]" with the pid in private_data. Either way it lives
 * as long as the file.
 */
static inline struct pid *pss_pidfd_pid(struct file *file)
{
	struct inode *inode = file_inode(file);

#ifdef PID_FS_MAGIC
	if (inode->i_sb->s_magic == PID_FS_MAGIC)
		return inode->i_private;
#else
	if (inode->i_sb->s_magic == ANON_INODE_FS_MAGIC &&
	    !strcmp(file->f_path.dentry->d_name.name, "[pidfd]"))
		return file->private_data;
#endif
	return NULL;
}

/* st_mode as fstat() shows it: pidfs's getattr hides the format bits. */
static inline umode_t pss_stat_mode(struct file *file)
{
	struct inode *inode = file_inode(file);

#ifdef PID_FS_MAGIC
	if (inode->i_sb->s_magic == PID_FS_MAGIC)
		return inode->i_mode & ~S_IFMT;
#endif
	return inode->i_mode;
}

/*
 * Resident pages of @mm in rss counter @member, as exact as the kernel can
 * tell, where get_mm_counter() is only an approximation:
 *
 * 6.2+ (probed: rss_stat is an array of percpu_counters): get_mm_counter()
 * reads only the central count, which lags every CPU's batch behind (a
 * small process often reads 0). percpu_counter_sum() over the exported
 * __percpu_counter_sum() adds every CPU's part: exact when it runs. It takes
 * the counter's lock and walks every CPU, so pss calls it after the cut,
 * outside the capture's spinlocks.
 *
 * 6.1 (SPLIT_RSS_COUNTING): an atomic count in the mm, plus a cache in
 * every task using it (task->rss_stat, folded in every 64 events). The
 * capture adds the caches of the target's threads, read under siglock
 * (pss_task_rss_cache()): exact but for the caches of tasks that share
 * the mm outside the thread group (CLONE_VM without CLONE_THREAD).
 */
#if defined(SPLIT_RSS_COUNTING)
#define PSS_RSS_TASK_CACHE
static inline long pss_mm_counter(struct mm_struct *mm, int member)
{
	return atomic_long_read(&mm->rss_stat.count[member]);
}

static inline long pss_task_rss_cache(struct task_struct *t, int member)
{
	return READ_ONCE(t->rss_stat.count[member]);
}
#elif defined(PSS_HAVE_PERCPU_RSS)
static inline long pss_mm_counter(struct mm_struct *mm, int member)
{
	return percpu_counter_sum(&mm->rss_stat[member]);
}
#else
static inline long pss_mm_counter(struct mm_struct *mm, int member)
{
	return get_mm_counter(mm, member);
}
#endif

/* On a CPU now (or still switching away from it). */
static inline bool pss_task_on_cpu(struct task_struct *t)
{
	return READ_ONCE(t->on_cpu);
}

/*
 * The return addresses on @t's kernel stack, innermost first, without the
 * scheduler's own frames, as /proc/PID/stack lists them: at most @size.
 * 0: @t has no stack any more.
 */
#ifdef PSS_HAVE_STACK_TRACE_SAVE_TSK
/* Exported (6.12): it holds a stack reference while it walks. */
static inline unsigned int pss_save_kstack(struct task_struct *t,
					   unsigned long *store,
					   unsigned int size)
{
	return stack_trace_save_tsk(t, store, size, 0);
}
#else
/*
 * Not exported (6.1): walk with the exported x86 unwinder, as the kernel's
 * arch_stack_walk() does, with no stack reference (put_task_stack() is not
 * exported either).
 *
 * Why the stack cannot be freed under the walk: a thread's stack is freed
 * only when its last reference goes, and its own reference is dropped only
 * by finish_task_switch() after its final schedule in do_task_dead(). It
 * is not RCU-protected: free_thread_stack() first hands a vmalloc'd stack
 * to a per-CPU cache, from which the next fork takes it, and may vfree()
 * it there (memcg charge failure, CPU hotplug) with no grace period. But
 * do_exit() calls exit_task_namespaces() before do_task_dead(), and that
 * clears t->nsproxy under task_lock(t). So, with task_lock(t) held and
 * t->nsproxy seen non-NULL, @t cannot get past exit_task_namespaces() and
 * its stack stays allocated until the unlock. A thread already past it
 * is about to die: reported with no stack. The unwinder takes no lock and
 * does not sleep; it bounds every read by @t's stack (get_stack_info())
 * and reads another task's stack unchecked by KASAN (READ_ONCE_NOCHECK),
 * so a stack that changes under it (@t running) gives a guess, not a
 * fault.
 *
 * The scheduler's frames: /proc/PID/stack leaves out in_sched_functions(),
 * which is not exported: the exported in_lock_functions() (.spinlock.text)
 * and .sched.text, whose bounds are not exported. x86 links .sched.text,
 * then .cpuidle.text, then .spinlock.text, and __schedule() is the first
 * function of .sched.text (kernel/sched/core.c is the first object with
 * __sched code). A thread off the CPU was switched out at one address
 * in __schedule(), the first return address of its walk
 * (@switch_site): from there to the start of .spinlock.text (found by
 * bisecting in_lock_functions() up to _raw_spin_lock()) is scheduler (or
 * idle loop, never on a thread's stack) code. A running thread's first
 * address is anything: its walk only drops the lock functions.
 */
static inline unsigned long pss_lock_text_start(unsigned long lo)
{
	unsigned long hi = (unsigned long)_raw_spin_lock;

	if (lo >= hi || in_lock_functions(lo))
		return 0;
	while (hi - lo > 1) {
		unsigned long mid = lo + (hi - lo) / 2;

		if (in_lock_functions(mid))
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

static inline unsigned int pss_save_kstack(struct task_struct *t,
					   unsigned long *store,
					   unsigned int size)
{
	unsigned long addr, switch_site = 0, sched_end = 0;
	struct unwind_state state;
	unsigned int n = 0;
	bool off_cpu;

	task_lock(t);
	if (!t->nsproxy) {
		task_unlock(t);
		return 0;
	}
	off_cpu = t != current && !pss_task_on_cpu(t);
	for (unwind_start(&state, t, NULL, NULL); !unwind_done(&state) &&
	     n < size; unwind_next_frame(&state)) {
		addr = unwind_get_return_address(&state);
		if (!addr)
			break;
		if (off_cpu && !switch_site) {
			switch_site = addr;
			sched_end = pss_lock_text_start(addr);
		}
		if (in_lock_functions(addr) ||
		    (addr >= switch_site && addr < sched_end))
			continue;
		store[n++] = addr;
	}
	task_unlock(t);
	return n;
}
#endif

/*
 * Withdraw @work from @t's pending task_works: true if it was still
 * there (it will not run), false if task_work_run() has taken it (it runs
 * or ran). task_work_cancel() is not exported to modules; this is its
 * protocol, the same on every kernel this builds for: task_work_run()
 * detaches the whole list with a cmpxchg and then takes and drops pi_lock
 * before running it, so a list walked under pi_lock is not being run, and
 * an entry unlinked here is never seen by it.
 */
static inline bool pss_task_work_cancel(struct task_struct *t,
					struct callback_head *work)
{
	struct callback_head **pprev = &t->task_works;
	struct callback_head *w;
	unsigned long flags;

	raw_spin_lock_irqsave(&t->pi_lock, flags);
	w = READ_ONCE(*pprev);
	while (w) {
		if (w != work) {
			pprev = &w->next;
			w = READ_ONCE(*pprev);
		} else if (try_cmpxchg(pprev, &w, w->next)) {
			break;
		}
	}
	raw_spin_unlock_irqrestore(&t->pi_lock, flags);
	return w == work;
}

/*
 * Threads of a user process that never run in user mode (io_uring
 * workers; on newer kernels every user worker, vhost's too): no user state
 * to park or read, as the core dumper skips them.
 */
#ifdef PF_USER_WORKER
#define PSS_PF_NO_USER		(PF_IO_WORKER | PF_USER_WORKER)
#else
#define PSS_PF_NO_USER		PF_IO_WORKER
#endif

/*
 * get_user_pages_remote() without its vmas argument, which 6.5 removed (and
 * added get_user_page_vma_remote(), the probe).
 */
static inline long pss_get_user_pages_remote(struct mm_struct *mm,
					     unsigned long start,
					     unsigned long nr_pages,
					     unsigned int gup_flags,
					     struct page **pages, int *locked)
{
#ifdef PSS_GUP_REMOTE_NO_VMAS
	return get_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     locked);
#else
	return get_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, locked);
#endif
}

#endif /* _PSS_COMPAT_H */
