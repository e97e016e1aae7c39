// SPDX-License-Identifier: GPL-2.0
/*
 * pss: the process and threads facet.
 *
 * Locking: thread membership is read under the target's sighand->siglock
 * (taken irqsave by capture.c, innermost of the capture's locks), which
 * every thread creation and exit takes to link or unlink the thread. Under
 * it (irqs off) only what the cut must fix is read: each thread,
 * referenced, its tid and state, and the group's accounting of reaped
 * threads and children. The rest of each thread (times, faults, switches,
 * scheduling, affinity, comm) is read after the cut from the referenced
 * task: its owner updates it without this lock anyway, so it is a recent
 * value either way. comm is copied without task_lock(), bounded and
 * NUL-terminated: at worst a name being renamed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/math64.h>
#include <linux/cpumask.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/cputime.h>
#include <linux/sched/mm.h>
#include <linux/sched/prio.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/time_namespace.h>
#include <linux/uidgid.h>
#include "compat.h"
#include "pss.h"

static u32 pss_cpus_bytes(void)
{
	return DIV_ROUND_UP(nr_cpu_ids, 64) * sizeof(u64);
}

u32 pss_thread_rec_len(void)
{
	return ALIGN(sizeof(struct pss_thread_entry) + pss_cpus_bytes(),
		     PSS_REC_ALIGN);
}

u32 pss_threads_estimate(struct task_struct *leader)
{
	return READ_ONCE(leader->signal->nr_threads);
}

/* The leader, or the first thread not exiting when the leader is. */
struct task_struct *pss_pick_src(struct task_struct *leader)
{
	struct task_struct *t, *src = leader;

	rcu_read_lock();
	if (READ_ONCE(leader->flags) & PF_EXITING) {
		for_each_thread(leader, t) {
			if (!(READ_ONCE(t->flags) & PF_EXITING)) {
				src = t;
				break;
			}
		}
	}
	get_task_struct(src);
	rcu_read_unlock();
	return src;
}

static void pss_copy_comm(char *dst, struct task_struct *t)
{
	char buf[TASK_COMM_LEN];

	BUILD_BUG_ON(TASK_COMM_LEN != PSS_COMM_LEN);
	memcpy(buf, t->comm, sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	strscpy_pad(dst, buf, PSS_COMM_LEN);
}

/* CLOCK_BOOTTIME @ns as the caller's time namespace reads it, as /proc does. */
static u64 pss_boottime(u64 ns)
{
	return timens_add_boottime_ns(ns);
}

/* After the cut, from a referenced task: the record of one live thread. */
static void pss_fill_thread(struct pss_thread_entry *e, u32 rec_len,
			    const struct pss_raw_thread *r, u64 ut, u64 st)
{
	struct task_struct *t = r->task;
	u32 cpus_bytes = pss_cpus_bytes();

	memset(e, 0, rec_len);
	e->flags = r->flags | (r->park ? PSS_THREAD_PARKED : 0);
	e->cpus_off = sizeof(*e);
	e->cpus_len = cpus_bytes;
	e->tid = r->tid;
	e->state = r->state;
	e->cpu = task_cpu(t);
	pss_copy_comm(e->comm, t);
	e->prio = t->prio - MAX_RT_PRIO;
	e->nice = task_nice(t);
	e->policy = t->policy;
	e->rt_priority = t->rt_priority;
	e->utime_ns = ut;
	e->stime_ns = st;
	e->start_boottime_ns = pss_boottime(t->start_boottime);
	e->nvcsw = t->nvcsw;
	e->nivcsw = t->nivcsw;
	e->min_flt = t->min_flt;
	e->maj_flt = t->maj_flt;
	bitmap_to_arr64((u64 *)((char *)e + e->cpus_off),
			cpumask_bits(&t->cpus_mask), nr_cpu_ids);
}

static void pss_fill_ids(struct pss_capture *c, struct pss_process_info *pi)
{
	struct task_struct *leader = c->leader;
	const struct cred *cred;

	pi->pid = __task_pid_nr_ns(leader, PIDTYPE_TGID, c->pid_ns);
	rcu_read_lock();
	if (pid_alive(leader))
		pi->ppid = __task_pid_nr_ns(rcu_dereference(leader->real_parent),
					    PIDTYPE_TGID, c->pid_ns);
	cred = __task_cred(leader);
	pi->ruid = from_kuid_munged(c->user_ns, cred->uid);
	pi->euid = from_kuid_munged(c->user_ns, cred->euid);
	pi->suid = from_kuid_munged(c->user_ns, cred->suid);
	pi->fsuid = from_kuid_munged(c->user_ns, cred->fsuid);
	pi->rgid = from_kgid_munged(c->user_ns, cred->gid);
	pi->egid = from_kgid_munged(c->user_ns, cred->egid);
	pi->sgid = from_kgid_munged(c->user_ns, cred->sgid);
	pi->fsgid = from_kgid_munged(c->user_ns, cred->fsgid);
	rcu_read_unlock();
	pi->pgid = __task_pid_nr_ns(leader, PIDTYPE_PGID, c->pid_ns);
	pi->sid = __task_pid_nr_ns(leader, PIDTYPE_SID, c->pid_ns);
	pi->mask |= PSS_PROC_HAS_IDS;
}

/* Under siglock; rss is read after the cut, by pss_task_rss(). */
static void pss_fill_mm(struct pss_process_info *pi, struct mm_struct *mm)
{
	unsigned long total_vm = READ_ONCE(mm->total_vm);
	u64 text;

	pi->vsize_bytes = (u64)total_vm << PAGE_SHIFT;
	pi->hiwater_vm_bytes = (u64)max(READ_ONCE(mm->hiwater_vm),
					total_vm) << PAGE_SHIFT;
	pi->locked_bytes = (u64)READ_ONCE(mm->locked_vm) << PAGE_SHIFT;
	pi->pinned_bytes = (u64)atomic64_read(&mm->pinned_vm) << PAGE_SHIFT;
	pi->data_bytes = (u64)READ_ONCE(mm->data_vm) << PAGE_SHIFT;
	pi->stack_bytes = (u64)READ_ONCE(mm->stack_vm) << PAGE_SHIFT;
	pi->exec_bytes = (u64)READ_ONCE(mm->exec_vm) << PAGE_SHIFT;
	/* VmExe and VmLib as task_mem() splits exec_vm. */
	text = PAGE_ALIGN(READ_ONCE(mm->end_code)) -
		(READ_ONCE(mm->start_code) & PAGE_MASK);
	pi->vm_exe_bytes = text;
	pi->vm_lib_bytes = pi->exec_bytes > text ? pi->exec_bytes - text : 0;
	pi->mask |= PSS_PROC_HAS_MM;
}

/* The flags of a thread's record that the cut fixes. */
static u32 pss_thread_flags(struct pss_capture *c, struct task_struct *t)
{
	u32 flags = 0;

	if (t == c->leader)
		flags |= PSS_THREAD_LEADER;
	if (t->flags & PF_EXITING)
		flags |= PSS_THREAD_EXITING;
	if (READ_ONCE(t->__state) & __TASK_STOPPED)
		flags |= PSS_THREAD_STOPPED;
	if (task_is_traced(t))
		flags |= PSS_THREAD_TRACED;
	if (t == current)
		flags |= PSS_THREAD_CALLER;
	return flags;
}

/*
 * Under siglock (the innermost lock of the cut, see capture.c): the thread
 * list (each thread referenced), process info and the group's accounting.
 * Returns -EOVERFLOW when the threads do not fit,
 * -EAGAIN when src exec'd since its mm was taken.
 */
int pss_task_copy_locked(struct pss_capture *c, struct sighand_struct *sighand)
{
	struct task_struct *leader = c->leader, *t;
	struct signal_struct *sig = leader->signal;
	struct pss_process_info *pi = c->snap->proc;
	struct pss_group_acct *acct = &c->acct;
	struct mm_struct *cur_mm;
	u32 n = 0, live = 0;

	lockdep_assert_held(&sighand->siglock);
	if (c->mm) {
		cur_mm = READ_ONCE(c->src->mm);
		if (cur_mm && cur_mm != c->mm)
			return -EAGAIN;		/* exec */
		if (!cur_mm)
			c->mm_gone = true;
	}

	rcu_read_lock();
	for_each_thread(leader, t) {
		acct->live_min_flt += t->min_flt;
		acct->live_maj_flt += t->maj_flt;
		if (n < c->cap_threads) {
			struct pss_raw_thread *r = &c->threads[n];

			r->task = t;
			get_task_struct(t);
			r->tid = __task_pid_nr_ns(t, PIDTYPE_PID, c->pid_ns);
			r->flags = pss_thread_flags(c, t);
			r->state = task_state_to_char(t);
			/* the array is not zeroed; the quiesce sets these */
			r->park = PSS_PARK_NONE;
			r->park_ns = 0;
			/* An exited leader: not a live thread. */
			r->live = !t->exit_state;
			c->nr_threads = n + 1;
		}
		n++;
		if (t->exit_state)
			continue;
		live++;
#ifdef PSS_RSS_TASK_CACHE
		if (c->mm && READ_ONCE(t->mm) == c->mm) {
			int i;

			for (i = 0; i < NR_MM_COUNTERS; i++)
				c->rss_cache[i] += pss_task_rss_cache(t, i);
		}
#endif
		if (t != c->src && !(t->flags & PF_EXITING))
			c->other_live = true;
	}
	rcu_read_unlock();
	if (n > c->cap_threads) {
		c->need_threads = n;
		return -EOVERFLOW;
	}

	/* What /proc/PID/stat adds to the live threads: see task_build. */
	acct->dead_utime = sig->utime;
	acct->dead_stime = sig->stime;
	acct->dead_rtime = sig->sum_sched_runtime;
	acct->cutime = sig->cutime;
	acct->cstime = sig->cstime;
	acct->min_flt = sig->min_flt;
	acct->maj_flt = sig->maj_flt;
	acct->cmin_flt = sig->cmin_flt;
	acct->cmaj_flt = sig->cmaj_flt;

	/* pi was zeroed before the locks (pss_capture_init(), each retry). */
	pi->size = sizeof(*pi);
	pss_fill_ids(c, pi);
	pss_copy_comm(pi->comm, leader);
	pi->state = task_state_to_char(leader);
	pi->nr_threads = live;
	pi->start_boottime_ns = pss_boottime(leader->start_boottime);
	pi->prio = leader->prio - MAX_RT_PRIO;
	pi->nice = task_nice(leader);
	pi->policy = leader->policy;
	pi->rt_priority = leader->rt_priority;
	pi->mask |= PSS_PROC_HAS_SCHED;
	bitmap_to_arr64(pi->cpus_allowed, cpumask_bits(&leader->cpus_mask),
			min_t(unsigned int, nr_cpu_ids, PSS_CPUMASK_BITS));
	pi->nr_cpus_allowed = cpumask_weight(&leader->cpus_mask);
	pi->mask |= PSS_PROC_HAS_AFFINITY;

	if (!live)
		pi->flags |= PSS_PROC_ZOMBIE;
	else if (leader->exit_state)
		pi->flags |= PSS_PROC_LEADER_EXITED;
	if (sig->flags & SIGNAL_STOP_STOPPED)
		pi->flags |= PSS_PROC_STOPPED;
	if (task_is_traced(leader))
		pi->flags |= PSS_PROC_TRACED;
#ifdef TIF_ADDR32
	if (test_tsk_thread_flag(leader, TIF_ADDR32))
		pi->flags |= PSS_PROC_COMPAT;
#endif
	if (sig->flags & SIGNAL_GROUP_EXIT)
		pi->flags |= PSS_PROC_EXITING;
	if (same_thread_group(leader, current))
		pi->flags |= PSS_PROC_SELF;
	if (!live && leader->exit_state) {
		pi->exit_code = leader->exit_code;
		pi->mask |= PSS_PROC_HAS_EXIT;
	}

	if (c->mm && !c->mm_gone) {
		pss_fill_mm(pi, c->mm);
		c->exe_file = pss_get_mm_exe_file(c->mm);
	}
	return 0;
}

/*
 * Right after the cut, with no lock held: the rss counters. They are not
 * part of the layout the cut freezes (page faults update them under no
 * lock pss takes) and their exact sum may walk every CPU (see
 * pss_mm_counter()), so they are read here rather than under siglock.
 */
void pss_task_rss(struct pss_capture *c)
{
	struct pss_process_info *pi = c->snap->proc;
	unsigned long rss[NR_MM_COUNTERS], sum;
	int i;

	if (!c->mm || c->mm_gone)
		return;
	for (i = 0; i < NR_MM_COUNTERS; i++) {
		long v = pss_mm_counter(c->mm, i) + c->rss_cache[i];

		rss[i] = max(v, 0L);
	}
	sum = rss[MM_ANONPAGES] + rss[MM_FILEPAGES] + rss[MM_SHMEMPAGES];
	pi->rss_anon_bytes = (u64)rss[MM_ANONPAGES] << PAGE_SHIFT;
	pi->rss_file_bytes = (u64)rss[MM_FILEPAGES] << PAGE_SHIFT;
	pi->rss_shmem_bytes = (u64)rss[MM_SHMEMPAGES] << PAGE_SHIFT;
	pi->hiwater_rss_bytes = (u64)max(READ_ONCE(c->mm->hiwater_rss),
					 sum) << PAGE_SHIFT;
}

/*
 * utime and stime of a raw tick split scaled to the runtime, as
 * cputime_adjust() does for /proc (without its monotonic clamp, which
 * needs state pss does not keep).
 */
static void pss_cputime_scale(u64 utime, u64 stime, u64 rtime, u64 *ut,
			      u64 *st)
{
	if (!stime) {
		*ut = rtime;
		*st = 0;
	} else if (!utime) {
		*ut = 0;
		*st = rtime;
	} else {
		*st = mul_u64_u64_div_u64(stime, rtime, stime + utime);
		*ut = rtime - min(*st, rtime);
	}
}

/* The pinned threads: the process times, and the thread walk class. */
static int pss_threads_build(struct pss_capture *c)
{
	struct pss_walk_buf *wb = &c->snap->walk[PSS_WALK_THREADS];
	struct pss_process_info *pi = c->snap->proc;
	struct pss_group_acct *acct = &c->acct;
	bool want = c->facets & PSS_FACET_THREADS;
	u32 rec_len = pss_thread_rec_len();
	u64 ut_sum = 0, st_sum = 0, ut, st;
	u32 i, live = 0;
	int err;

	for (i = 0; i < c->nr_threads; i++)
		live += c->threads[i].live;
	if (want) {
		err = pss_wbuf_alloc(&c->store, wb, live, rec_len, false);
		if (err)
			return err;
	}
	for (i = 0; i < c->nr_threads; i++) {
		const struct pss_raw_thread *r = &c->threads[i];

		task_cputime_adjusted(r->task, &ut, &st);
		ut_sum += ut;
		st_sum += st;
		if (want && r->live) {
			struct pss_thread_entry *e = pss_wbuf_slot(wb);

			pss_fill_thread(e, rec_len, r, ut, st);
			pss_wbuf_add(wb, e, NULL);
		}
		/* The last use of the thread: let it go while it is at hand. */
		put_task_struct(r->task);
		c->threads[i].task = NULL;
		cond_resched();
	}
	c->nr_threads = 0;

	pi->utime_ns = ut_sum;
	pi->stime_ns = st_sum;
	pi->dead_utime_ns = acct->dead_utime + acct->cutime;
	pi->dead_stime_ns = acct->dead_stime + acct->cstime;
	pss_cputime_scale(acct->dead_utime, acct->dead_stime, acct->dead_rtime,
			  &ut, &st);
	pi->group_utime_ns = ut_sum + ut;
	pi->group_stime_ns = st_sum + st;
	pi->children_utime_ns = acct->cutime;
	pi->children_stime_ns = acct->cstime;
	pi->min_flt = acct->min_flt + acct->live_min_flt;
	pi->maj_flt = acct->maj_flt + acct->live_maj_flt;
	pi->children_min_flt = acct->cmin_flt;
	pi->children_maj_flt = acct->cmaj_flt;
	pi->mask |= PSS_PROC_HAS_TIMES;
	return 0;
}

/* After unlock: the exe path, the process times and the thread records. */
int pss_task_build(struct pss_capture *c)
{
	struct pss_process_info *pi = c->snap->proc;
	u64 t = ktime_get_ns();

	if (c->exe_file) {
		const struct path *path = &c->exe_file->f_path;
		char *p;

		p = d_path(path, pi->exe_path, sizeof(pi->exe_path));
		if (!IS_ERR(p)) {
			pi->exe_path_len = strlen(p);
			memmove(pi->exe_path, p, pi->exe_path_len + 1);
			memset(pi->exe_path + pi->exe_path_len + 1, 0,
			       sizeof(pi->exe_path) - pi->exe_path_len - 1);
			pi->mask |= PSS_PROC_HAS_EXE;
			if (d_unlinked(path->dentry))
				pi->flags |= PSS_PROC_EXE_DELETED;
		} else {
			memset(pi->exe_path, 0, sizeof(pi->exe_path));
		}
	}
	c->names_ns += ktime_get_ns() - t;
	return pss_threads_build(c);
}

/* Drop the references the cut took on the threads the build has not. */
void pss_task_release(struct pss_capture *c)
{
	u32 i;

	for (i = 0; i < c->nr_threads; i++)
		if (c->threads[i].task)
			put_task_struct(c->threads[i].task);
	c->nr_threads = 0;
}
