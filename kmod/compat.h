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
#include <linux/string.h>

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

#endif /* _PSS_COMPAT_H */
