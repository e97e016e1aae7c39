// SPDX-License-Identifier: GPL-2.0
/*
 * pss: the /dev/pss door - version, and capture: argument checks, target
 * resolution, the access policy, and the new snapshot fd.
 *
 * Locking: the target's exec_update_lock (read) is held from the access
 * check to the end of the cut, so that the credentials and the mm checked
 * are the ones captured; the rest of the capture's lock order is in
 * capture.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>
#include "compat.h"
#include "pss.h"

static bool userns_capture;
module_param(userns_capture, bool, 0644);
MODULE_PARM_DESC(userns_capture,
		 "Let CAP_SYS_PTRACE over a target's user namespace suffice (default: the initial namespace's). Bypasses the LSM ptrace policy (Yama, SELinux, AppArmor), which pss cannot consult");

#define PSS_QUERY_CLASSES	GENMASK_ULL(PSS_QUERY_NR_CLASSES - 1, 0)
#define PSS_WALK_CLASSES	GENMASK_ULL(PSS_WALK_NR_CLASSES - 1, 0)
#define PSS_FACET_HANDLE_LEVELS	(PSS_FACET_HANDLE_NAME | \
				 PSS_FACET_HANDLE_BASIC | \
				 PSS_FACET_HANDLE_TYPE_SPECIFIC)

static void pss_build_check_abi(void)
{
	BUILD_BUG_ON(sizeof(struct pss_version) != PSS_VERSION_SIZE_VER1);
	BUILD_BUG_ON(sizeof(struct pss_capture_args) !=
		     PSS_CAPTURE_ARGS_SIZE_VER1);
	BUILD_BUG_ON(offsetof(struct pss_capture_args, quiesce_timeout_ms) !=
		     PSS_CAPTURE_ARGS_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pss_context_entry) !=
		     PSS_CONTEXT_ENTRY_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pss_kstack_entry) !=
		     PSS_KSTACK_ENTRY_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pss_memory_entry) !=
		     PSS_MEMORY_ENTRY_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pss_auxv_info) != PSS_AUXV_INFO_SIZE_VER0);
	BUILD_BUG_ON(offsetof(struct pss_perf_info, stall_ns) !=
		     PSS_PERF_INFO_SIZE_VER0);
	BUILD_BUG_ON(offsetof(struct pss_perf_info, memory_precopy_bytes) !=
		     PSS_PERF_INFO_SIZE_VER1);
	BUILD_BUG_ON(sizeof(struct pss_perf_info) != PSS_PERF_INFO_SIZE_VER2);
	BUILD_BUG_ON(offsetof(struct pss_context_entry, data_off) !=
		     PSS_REC_NAME_AT);
	BUILD_BUG_ON(offsetof(struct pss_kstack_entry, text_off) !=
		     PSS_REC_NAME_AT);
	BUILD_BUG_ON(offsetof(struct pss_memory_entry, data_off) !=
		     PSS_REC_NAME_AT);
	BUILD_BUG_ON(PSS_QUERY_NR_CLASSES > 64 || PSS_WALK_NR_CLASSES > 64);
	BUILD_BUG_ON(sizeof(struct pss_query_args) != PSS_QUERY_ARGS_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pss_walk_args) != PSS_WALK_ARGS_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pss_snapshot_info) !=
		     PSS_SNAPSHOT_INFO_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pss_process_info) !=
		     PSS_PROCESS_INFO_SIZE_VER2);
	BUILD_BUG_ON(offsetof(struct pss_process_info, cwd_path_len) !=
		     PSS_PROCESS_INFO_SIZE_VER1);
	BUILD_BUG_ON(offsetof(struct pss_version, max_user_bytes) !=
		     PSS_VERSION_SIZE_VER0);
	BUILD_BUG_ON(offsetof(struct pss_process_info, group_utime_ns) !=
		     PSS_PROCESS_INFO_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pss_count_info) != PSS_COUNT_INFO_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pss_thread_entry) !=
		     PSS_THREAD_ENTRY_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pss_handle_entry) !=
		     PSS_HANDLE_ENTRY_SIZE_VER1);
	BUILD_BUG_ON(offsetof(struct pss_handle_entry, detail_mask) !=
		     PSS_HANDLE_ENTRY_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pss_vma_entry) != PSS_VMA_ENTRY_SIZE_VER1);
	BUILD_BUG_ON(offsetof(struct pss_vma_entry, build_id_state) !=
		     PSS_VMA_ENTRY_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pss_handle_socket) != 32);
	BUILD_BUG_ON(sizeof(struct pss_handle_pipe) != 32);
	/* Records are stepped by rec_len; the fixed parts keep alignment. */
	BUILD_BUG_ON(sizeof(struct pss_thread_entry) % PSS_REC_ALIGN);
	BUILD_BUG_ON(sizeof(struct pss_handle_entry) % PSS_REC_ALIGN);
	BUILD_BUG_ON(sizeof(struct pss_vma_entry) % PSS_REC_ALIGN);
	BUILD_BUG_ON(PSS_PATH_MAX != PATH_MAX);
	/* The walk frames every named record the same way. */
	BUILD_BUG_ON(offsetof(struct pss_handle_entry, name_off) !=
		     PSS_REC_NAME_AT);
	BUILD_BUG_ON(offsetof(struct pss_handle_entry, name_len) !=
		     PSS_REC_NAME_AT + 4);
	BUILD_BUG_ON(offsetof(struct pss_vma_entry, name_off) !=
		     PSS_REC_NAME_AT);
	BUILD_BUG_ON(offsetof(struct pss_vma_entry, name_len) !=
		     PSS_REC_NAME_AT + 4);
	BUILD_BUG_ON(PSS_QUERY_NR_CLASSES > 64 || PSS_WALK_NR_CLASSES > 64);
}

/* Bounded like clone3(): no scan of gigabytes for a zeroed tail. */
static int pss_get_usize(void __user *uarg, u32 ver0, u32 *usizep)
{
	if (get_user(*usizep, (u32 __user *)uarg))
		return -EFAULT;
	if (*usizep < ver0)
		return -EINVAL;
	return *usizep > PSS_ARGS_MAX ? -E2BIG : 0;
}

static long pss_ioctl_version(void __user *uarg)
{
	struct pss_version ver;
	u32 usize;
	int err;

	err = pss_get_usize(uarg, PSS_VERSION_SIZE_VER0, &usize);
	if (err)
		return err;
	err = copy_struct_from_user(&ver, sizeof(ver), uarg, usize);
	if (err)
		return err;
	memset(&ver, 0, sizeof(ver));
	ver.size = sizeof(ver);
	ver.abi_version = PSS_ABI_VERSION;
	ver.capture_flags = PSS_FACETS_KNOWN;
	ver.query_classes = PSS_QUERY_CLASSES;
	ver.walk_classes = PSS_WALK_CLASSES;
	pss_store_limits(&ver);
	if (copy_to_user(uarg, &ver, min_t(size_t, usize, sizeof(ver))))
		return -EFAULT;
	return 0;
}

/* The struct pid the caller names, referenced. */
static struct pid *pss_target_pid(const struct pss_capture_args *args)
{
	struct pid *pid;
	struct file *file;

	if (!(args->flags & PSS_CAPTURE_PIDFD)) {
		if (!args->target_pid)
			return get_task_pid(current, PIDTYPE_TGID);
		pid = find_get_pid(args->target_pid);	/* caller's pid ns */
		return pid ?: ERR_PTR(-ESRCH);
	}
	file = fget(args->target_pidfd);
	if (!file)
		return ERR_PTR(-EBADF);
	pid = pss_pidfd_pid(file);
	pid = pid ? get_pid(pid) : ERR_PTR(-EBADFD);
	fput(file);
	return pid;
}

/*
 * The target process's group leader, referenced. A thread id names its
 * process. Reaped: -ESRCH. The thread and its leader are looked up in one
 * RCU section: a task found through its pid is not yet released, so its
 * signal struct, and through it the leader's pid, are still there.
 */
static struct task_struct *pss_target(const struct pss_capture_args *args)
{
	struct task_struct *task, *leader = NULL;
	struct pid *pid;

	pid = pss_target_pid(args);
	if (IS_ERR(pid))
		return ERR_CAST(pid);
	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_PID);
	if (task)
		leader = pid_task(task_tgid(task), PIDTYPE_TGID);
	if (leader)
		get_task_struct(leader);
	rcu_read_unlock();
	put_pid(pid);
	return leader ?: ERR_PTR(-ESRCH);	/* reaped: stale pid or pidfd */
}

/*
 * ptrace's rule for a process that is not dumpable (setuid, or marked so
 * by prctl, as a privileged process entering a container is): the caller
 * also needs CAP_SYS_PTRACE over the user namespace its mm was made in.
 * Threads share one mm; the first thread that still has it is asked.
 */
static bool pss_may_read_mm(struct task_struct *leader)
{
	struct mm_struct *mm = NULL;
	struct task_struct *t;
	bool ok;

	rcu_read_lock();
	for_each_thread(leader, t) {
		mm = get_task_mm(t);
		if (mm)
			break;
	}
	rcu_read_unlock();
	if (!mm)
		return true;	/* no address space left to read */
	ok = get_dumpable(mm) == SUID_DUMP_USER ||
	     ns_capable(mm->user_ns, CAP_SYS_PTRACE);
	mmput(mm);
	return ok;
}

/*
 * The access policy. ptrace_may_access() is not exported and the LSM
 * ptrace hook cannot be consulted, so pss asks for more than ptrace does:
 * kernel threads are refused; the caller's own process is allowed; any
 * other needs CAP_SYS_PTRACE in the initial user namespace (or, with
 * userns_capture, over the user namespace owning its credentials), and
 * ptrace's dumpability rule. Checked under exec_update_lock, so neither
 * the credentials nor the mm can change by exec (setuid) before the cut.
 */
static int pss_may_capture(struct task_struct *leader)
{
	struct user_namespace *ns;
	bool ok;

	lockdep_assert_held(&leader->signal->exec_update_lock);
	if (leader->flags & PF_KTHREAD)
		return -EPERM;
	if (same_thread_group(leader, current))
		return 0;
	if (READ_ONCE(userns_capture)) {
		rcu_read_lock();
		ns = get_user_ns(__task_cred(leader)->user_ns);
		rcu_read_unlock();
		ok = ns_capable(ns, CAP_SYS_PTRACE);
		put_user_ns(ns);
	} else {
		ok = capable(CAP_SYS_PTRACE);
	}
	if (!ok || !pss_may_read_mm(leader))
		return -EPERM;
	return 0;
}

/*
 * The current leader of @old's process once @old, its former leader, has
 * been reaped; NULL if the process is gone (or @old is still its leader).
 * The pid of a thread group follows its leader through de_thread().
 */
static struct task_struct *pss_new_leader(struct task_struct *old)
{
	struct task_struct *t;

	rcu_read_lock();
	t = pid_task(task_tgid(old), PIDTYPE_TGID);
	if (t == old)
		t = NULL;
	if (t)
		get_task_struct(t);
	rcu_read_unlock();
	return t;
}

/* The VER1 fields: each only with its facet or flag, within its bounds. */
static int pss_check_thread_state(const struct pss_capture_args *args)
{
	bool park = args->facets &
		    (PSS_FACET_THREAD_CONTEXT | PSS_FACET_MEMORY);
	bool mem = args->facets & PSS_FACET_MEMORY;
	u32 mflags = args->memory_flags;

	if ((args->facets & PSS_FACETS_THREAD_STATE) &&
	    !(args->facets & PSS_FACET_THREADS))
		return -EINVAL;
	if (args->quiesce_timeout_ms &&
	    (!park || args->quiesce_timeout_ms > PSS_QUIESCE_TIMEOUT_MAX_MS))
		return -EINVAL;
	if (mem ? !mflags || mflags & ~PSS_MEMORY_FLAGS_ALL : mflags)
		return -EINVAL;
	/* Per thread: registers only; memory needs every thread at once. */
	if ((args->flags & PSS_CAPTURE_PER_THREAD) &&
	    (!(args->facets & PSS_FACET_THREAD_CONTEXT) || mem))
		return -EINVAL;
	if ((mflags & PSS_MEMORY_PRECOPY) && !(mflags & PSS_MEMORY_WRITABLE))
		return -EINVAL;
	if ((mflags & PSS_MEMORY_PRECOPY) && !IS_ENABLED(CONFIG_MEM_SOFT_DIRTY))
		return -EOPNOTSUPP;
	if (args->stack_bytes && (!(mflags & PSS_MEMORY_STACKS) ||
				  args->stack_bytes > PSS_STACK_BYTES_MAX))
		return -EINVAL;
	if (mflags & PSS_MEMORY_RANGES) {
		if (!args->nr_ranges ||
		    args->nr_ranges > PSS_MEMORY_RANGES_MAX)
			return -EINVAL;
	} else if (args->nr_ranges || args->ranges) {
		return -EINVAL;
	}
	/* /proc/PID/stack's rule: the unwinder's view is for the admin. */
	if ((args->facets & PSS_FACET_THREAD_KSTACK) &&
	    !capable(CAP_SYS_ADMIN))
		return -EACCES;
	return 0;
}

/* Copy and check the caller's memory ranges (PSS_MEMORY_RANGES). */
static struct pss_memory_range *
pss_get_ranges(const struct pss_capture_args *args)
{
	struct pss_memory_range *r;
	u32 i;

	if (!(args->memory_flags & PSS_MEMORY_RANGES))
		return NULL;
	r = memdup_array_user(u64_to_user_ptr(args->ranges), args->nr_ranges,
			      sizeof(*r));
	if (IS_ERR(r))
		return r;
	for (i = 0; i < args->nr_ranges; i++) {
		if (!r[i].len || r[i].start + r[i].len < r[i].start ||
		    r[i].start + r[i].len > TASK_SIZE_MAX) {
			kfree(r);
			return ERR_PTR(-EINVAL);
		}
	}
	return r;
}

/*
 * Park the target's threads for the thread-state facets, after checking
 * that the caller may capture it at all: nobody stops a process they may
 * not read. The check is repeated under the lock at the cut.
 */
static struct pss_quiesce *pss_park(struct task_struct *leader,
				    const struct pss_capture_args *args,
				    const struct pss_park_reader *rd,
				    u64 *phase_ns)
{
	struct rw_semaphore *exec_lock = &leader->signal->exec_update_lock;
	u32 timeout = args->quiesce_timeout_ms ?:
		      PSS_QUIESCE_TIMEOUT_DEFAULT_MS;
	int err;

	if (!(args->facets & (PSS_FACET_THREAD_CONTEXT | PSS_FACET_MEMORY)))
		return NULL;
	err = down_read_killable(exec_lock);
	if (err)
		return ERR_PTR(err);
	err = pss_may_capture(leader);
	up_read(exec_lock);
	if (err)
		return ERR_PTR(err);
	return pss_quiesce_start(leader, timeout, rd, phase_ns);
}

/*
 * PSS_MEMORY_PRECOPY: copy the target's anonymous memory while it runs,
 * before the park, once the caller is known to be allowed to capture it:
 * nobody copies memory of a process they may not read. The mm is the one
 * checked (taken under exec_update_lock); the capture uses the copy only
 * if it captures that mm.
 */
static struct pss_precopy *pss_precopy(struct task_struct *leader,
				       const struct pss_capture_args *args)
{
	struct rw_semaphore *exec_lock = &leader->signal->exec_update_lock;
	struct pss_precopy *pc;
	struct task_struct *src;
	struct mm_struct *mm;
	int err;

	if (!(args->facets & PSS_FACET_MEMORY) ||
	    !(args->memory_flags & PSS_MEMORY_PRECOPY))
		return NULL;
	err = down_read_killable(exec_lock);
	if (err)
		return ERR_PTR(err);
	err = pss_may_capture(leader);
	if (err) {
		up_read(exec_lock);
		return ERR_PTR(err);
	}
	src = pss_pick_src(leader);
	mm = get_task_mm(src);
	put_task_struct(src);
	up_read(exec_lock);
	if (!mm)
		return NULL;
	pc = pss_memory_precopy(mm);
	mmput(mm);
	return pc;
}

static long pss_ioctl_capture(void __user *uarg)
{
	struct task_struct *leader, *next;
	struct pss_capture_args args;
	struct pss_snapshot *snap;
	struct rw_semaphore *exec_lock;
	struct pss_memory_range *ranges;
	struct pss_park_reader *rd = NULL;
	struct pss_quiesce *quiesce;
	struct pss_precopy *precopy;
	struct pss_capture c;
	u64 t0 = ktime_get_ns(), quiesce_ns = 0;
	u32 usize;
	int err, tries;

	err = pss_get_usize(uarg, PSS_CAPTURE_ARGS_SIZE_VER0, &usize);
	if (err)
		return err;
	err = copy_struct_from_user(&args, sizeof(args), uarg, usize);
	if (err)
		return err;
	if (args.flags & ~PSS_CAPTURE_FLAGS_ALL ||
	    args.facets & ~PSS_FACETS_KNOWN ||
	    args.reserved[0] || args.reserved[1])
		return -EINVAL;
	err = pss_check_thread_state(&args);
	if (err)
		return err;
	if ((args.facets & PSS_FACET_HANDLE_LEVELS) &&
	    !(args.facets & PSS_FACET_HANDLES))
		return -EINVAL;
	if ((args.facets & PSS_FACET_VA_SPACE_SECTION) &&
	    !(args.facets & PSS_FACET_VA_SPACE))
		return -EINVAL;
	if (args.flags & PSS_CAPTURE_PIDFD) {
		if (args.target_pid)
			return -EINVAL;
	} else if (args.target_pid < 0 || args.target_pidfd) {
		return -EINVAL;
	}

	ranges = pss_get_ranges(&args);
	if (IS_ERR(ranges))
		return PTR_ERR(ranges);
	leader = pss_target(&args);
	if (IS_ERR(leader)) {
		kfree(ranges);
		return PTR_ERR(leader);
	}
	precopy = pss_precopy(leader, &args);
	if (IS_ERR(precopy)) {
		put_task_struct(leader);
		kfree(ranges);
		return PTR_ERR(precopy);
	}
	if (args.flags & PSS_CAPTURE_PER_THREAD)
		rd = pss_context_reader_new(leader);
	quiesce = IS_ERR(rd) ? ERR_CAST(rd) :
		  pss_park(leader, &args, rd, &quiesce_ns);
	if (IS_ERR(quiesce)) {
		pss_context_reader_free(rd);
		pss_precopy_free(precopy);
		put_task_struct(leader);
		kfree(ranges);
		return PTR_ERR(quiesce);
	}

	for (tries = 0;; tries++) {
		err = pss_capture_init(&c, args.facets, leader);
		if (err)
			break;
		c.quiesce = quiesce;
		c.per_thread = args.flags & PSS_CAPTURE_PER_THREAD;
		c.memory_flags = args.memory_flags;
		c.stack_bytes = PAGE_ALIGN(args.stack_bytes ?:
					   PSS_STACK_BYTES_DEFAULT);
		c.ranges = ranges;
		c.nr_ranges = ranges ? args.nr_ranges : 0;
		c.precopy = precopy;
		c.snap->perf.phase_ns[PSS_PHASE_QUIESCE] = quiesce_ns;
		/* Outermost lock: no exec (new mm, new creds) until the cut. */
		exec_lock = &leader->signal->exec_update_lock;
		err = down_read_killable(exec_lock);
		if (!err) {
			err = pss_may_capture(leader);
			if (!err)
				err = pss_capture_cut(&c);
			up_read(exec_lock);
		}
		if (!err) {
			err = pss_capture_build(&c, &snap);
			break;
		}
		pss_capture_abort(&c);
		if (err != -ESRCH)
			break;
		/*
		 * A leader reaped while its process lives was replaced by an
		 * exec in another thread (de_thread()): the process changed,
		 * not vanished. Follow it to the new leader (the exec'ing
		 * thread), checking access again, within the retry budget.
		 */
		next = pss_new_leader(leader);
		if (!next)
			break;			/* really gone: -ESRCH */
		put_task_struct(leader);
		leader = next;
		if (tries + 1 == PSS_MAX_TRIES) {
			err = -EAGAIN;
			break;
		}
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
	}
	/* No read of the reader's after this. */
	pss_quiesce_end(quiesce);
	pss_context_reader_free(rd);
	pss_precopy_free(precopy);
	put_task_struct(leader);
	kfree(ranges);
	if (err)
		return err;
	snap->info.capture_flags = args.flags & PSS_CAPTURE_PER_THREAD;
	if (!(snap->facets & PSS_FACET_MEASURE_PERFORMANCE))
		memset(&snap->perf, 0, sizeof(snap->perf));
	else
		snap->perf.phase_ns[PSS_PHASE_TOTAL] = pss_held_ns(t0);
	return pss_snapshot_install(snap);
}

static long pss_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	/* Sizes are versioned by the structs themselves: ignore _IOC_SIZE. */
	if (_IOC_TYPE(cmd) != PSS_IOC_MAGIC)
		return -ENOTTY;
	if (_IOC_NR(cmd) == _IOC_NR(PSS_IOC_VERSION) &&
	    _IOC_DIR(cmd) == _IOC_DIR(PSS_IOC_VERSION))
		return pss_ioctl_version(uarg);
	if (_IOC_NR(cmd) == _IOC_NR(PSS_IOC_CAPTURE) &&
	    _IOC_DIR(cmd) == _IOC_DIR(PSS_IOC_CAPTURE))
		return pss_ioctl_capture(uarg);
	return -ENOTTY;
}

static const struct file_operations pss_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= pss_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice pss_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "pss",
	.fops	= &pss_dev_fops,
	.mode	= 0666,
};

static int __init pss_init(void)
{
	pss_build_check_abi();
	return misc_register(&pss_miscdev);
}

static void __exit pss_exit(void)
{
	misc_deregister(&pss_miscdev);
}

module_init(pss_init);
module_exit(pss_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pss: atomic process snapshots");
