/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pss: atomic process snapshots.
 *
 * /dev/pss captures one target process - the process itself, every live
 * thread, its file descriptor table and its address space layout - under the
 * kernel locks that guard them, into an immutable snapshot object returned as
 * a file descriptor. Ioctls on that descriptor query single-instance data and
 * walk multi-instance data in batches.
 *
 * Conventions
 * - Every argument struct starts with __u32 size, set by the caller to the
 *   sizeof() it was compiled with. The kernel accepts smaller (older) structs,
 *   treating missing fields as zero, and larger (newer) structs whose extra
 *   bytes are all zero, up to 4096 bytes in all; otherwise E2BIG. The 4096-
 *   byte ceiling applies to the args of every ioctl: PSS_IOC_VERSION,
 *   PSS_IOC_CAPTURE, PSS_IOC_QUERY and PSS_IOC_WALK. The size
 *   bits of the ioctl numbers are ignored for this reason: only the type,
 *   number and direction match.
 * - Unknown flag bits and non-zero reserved or padding fields: EINVAL.
 * - Output structs of PSS_IOC_QUERY are size-versioned the same way: the
 *   kernel writes min(caller size, kernel size) bytes, zeroes any tail the
 *   caller has beyond that, and reports its own size. Each carries a mask of
 *   the fields it filled.
 * - Ids (pids, tids, uids, gids) are translated into the namespaces of the
 *   caller at capture time; an id with no mapping there reads as 0 (pid) or
 *   the overflow id (uid/gid), as /proc does.
 * - No kernel pointer ever reaches userspace.
 *
 * Atomicity
 * A snapshot is one cut: at one instant the capture holds, together, the
 * target's mmap lock (read), its fd table lock (with task_lock of the task
 * whose table it is) and its signal-hand lock, with its exec_update_lock
 * held around them. What the cut fixes - as it was at that instant
 * (PSS_QUERY_SNAPSHOT reports the instant as cut_ns):
 * - the VMA layout: every VMA's range, protection, flags, offset, backing
 *   file (its identity: dev and ino) and special or anon name;
 * - the fd table: which fds are open, the file each refers to, FD_CLOEXEC;
 *   and (with HANDLE_NAME) which directories are the working and root ones;
 * - the thread list: which threads are alive, their tids and state
 *   letters and the PSS_THREAD_* flags; the process's ids (pid, ppid,
 *   pgid, sid), PSS_PROC_* flags, exit code, memory counters (vsize,
 *   data, stack, exec, locked, pinned, peaks), the accounting of reaped
 *   threads and waited-for children (dead_*, children_*), the leader's
 *   scheduling fields and affinity, and the exe file;
 * - no exec can happen in between, so mm, credentials and exe belong to
 *   one program.
 * What is read outside the cut (each a recent value, not a frozen one):
 * - from references taken at the cut, after the locks are dropped: names
 *   (handle paths, file VMA names, exe_path: a renamed file shows its new
 *   name, but it is the file that was open), cwd_path and root_path, the
 *   VMAs' build-ids (from the page cache), the PSS_HANDLE_DELETED /
 *   PSS_PROC_EXE_DELETED flags and the " (deleted)" suffix, every handle
 *   field beyond fd, FD_CLOEXEC and O_PATH (HANDLE_BASIC and
 *   HANDLE_TYPE_SPECIFIC: type, open flags, mode, position, stat fields,
 *   socket, pipe and anon inode detail), each thread's comm, cpu, times, faults,
 *   context switches, scheduling fields and affinity, the process's times;
 * - just after the cut: the rss counters (their exact sum walks every CPU);
 * - under the siglock but without the locks their owners take: credentials
 *   (uids, gids: an exec cannot change them, a setuid() can) and the
 *   leader's comm;
 * - memory contents, registers and kernel stacks only with the thread-state
 *   facets, while the threads are parked (see "Thread state" below).
 *
 * Names (handle paths, file-backed VMA names, exe_path) are the strings
 * readlink(/proc/PID/fd/N) and /proc/PID/maps show, including the
 * " (deleted)" suffix of an unlinked file.
 *
 * A zombie (every thread exited, not yet reaped) can still be captured: the
 * capture succeeds with process information (PSS_PROC_ZOMBIE, exit_code) and
 * empty thread, handle and VMA facets. A live process is never captured
 * without its address space: a capture that races with the thread it reads
 * the mm through exiting tries again.
 *
 * Times: boot-time clocks (start_boottime_ns, cut_boottime_ns) are in the
 * caller's time namespace, as /proc shows them.
 *
 * Access policy
 * ptrace_may_access() is not exported to modules and the LSM ptrace hook
 * (Yama, SELinux, AppArmor, ...) cannot be consulted, so pss asks for more
 * than ptrace does, never less:
 * - your own process: always allowed (any user);
 * - kernel threads: EPERM, for everybody;
 * - any other process: CAP_SYS_PTRACE in the initial user namespace, AND,
 *   if the target is not dumpable (setuid programs, prctl(PR_SET_DUMPABLE,
 *   0), a privileged process that entered a container), CAP_SYS_PTRACE over
 *   the user namespace its mm was created in (ptrace's own rule).
 * The module parameter userns_capture (default off) relaxes the first part
 * to CAP_SYS_PTRACE over the user namespace owning the target's
 * credentials, as ptrace has it; the dumpability rule still applies. With
 * it on, container root can capture the container's processes - and
 * nothing the LSM ptrace policy would have refused is refused.
 *
 * Kernel memory
 * Every byte of a capture and of the snapshots it leaves is counted against
 * three limits, module parameters readable with PSS_IOC_VERSION:
 * max_snapshot_bytes for one capture (ENOBUFS), max_user_bytes for every
 * capture and open snapshot of one real uid together, and max_total_bytes
 * for all of them (EDQUOT: close snapshots, or raise the limit). Each
 * distinct name (path, VMA name) is stored once per snapshot.
 *
 * Not reported: [vsyscall], a page outside the mm's VMA tree that
 * /proc/PID/maps lists on kernels booted with vsyscall=xonly|emulate (not
 * Debian's default): get_gate_vma() is not exported to modules.
 */
#ifndef _UAPI_LINUX_PSS_H
#define _UAPI_LINUX_PSS_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define PSS_DEVICE_PATH		"/dev/pss"
#define PSS_ABI_VERSION		1

#define PSS_IOC_MAGIC		0xB9

/* ---------------------------------------------------------------- /dev/pss */

/*
 * PSS_IOC_VERSION - what this module speaks.
 *
 * Errors: EFAULT (bad pointer), EINVAL (size < PSS_VERSION_SIZE_VER0),
 * E2BIG (size > 4096, or unknown non-zero trailing bytes).
 */
struct pss_version {
	__u32 size;		/* in: sizeof(struct pss_version) */
	__u32 abi_version;	/* out: PSS_ABI_VERSION */
	__u64 capture_flags;	/* out: every PSS_FACET_* bit understood */
	__u64 query_classes;	/* out: bit n set: query class n exists */
	__u64 walk_classes;	/* out: bit n set: walk class n exists */
	__u64 max_snapshot_bytes; /* out: limit of one capture (ENOBUFS) */
	/* VER1 */
	__u64 max_user_bytes;	/* out: limit of one uid's captures and
				 * snapshots together (EDQUOT)
				 */
	__u64 max_total_bytes;	/* out: limit of all of them (EDQUOT) */
	__u64 user_bytes;	/* out: held now by the caller's uid */
	__u64 total_bytes;	/* out: held now by all */
};

#define PSS_VERSION_SIZE_VER0	40
#define PSS_VERSION_SIZE_VER1	72

/*
 * PSS_IOC_CAPTURE - take a snapshot; returns a new snapshot fd (O_CLOEXEC).
 *
 * The target is target_pidfd when PSS_CAPTURE_PIDFD is set, otherwise the
 * process whose id in the caller's pid namespace is target_pid (0: the
 * caller's own process). A thread id names its whole process.
 *
 * Process information is always captured; the facet flags add the rest.
 * Who may capture what: see "Access policy" at the top of this file.
 *
 * Errors:
 *  EFAULT   args not readable
 *  EINVAL   size too small, unknown flag, non-zero reserved/padding field,
 *           a _NAME/_BASIC/_TYPE_SPECIFIC/_SECTION level without its facet,
 *           target_pid < 0, target_pidfd given without PSS_CAPTURE_PIDFD,
 *           target_pid given with PSS_CAPTURE_PIDFD; a thread-state facet
 *           without PSS_FACET_THREADS; a VER1 field set without its facet
 *           or flag; quiesce_timeout_ms or stack_bytes above its maximum;
 *           PSS_FACET_MEMORY with no or unknown memory_flags;
 *           PSS_CAPTURE_PER_THREAD without PSS_FACET_THREAD_CONTEXT or
 *           with PSS_FACET_MEMORY; nr_ranges 0
 *           or above PSS_MEMORY_RANGES_MAX with PSS_MEMORY_RANGES; a range
 *           of length 0 or that wraps; PSS_MEMORY_PRECOPY without
 *           PSS_MEMORY_WRITABLE
 *  EFAULT   (also) ranges not readable
 *  E2BIG    args larger than known with non-zero unknown bytes
 *  EBADF    PSS_CAPTURE_PIDFD and target_pidfd is not an open fd
 *  EBADFD   PSS_CAPTURE_PIDFD and target_pidfd is not a pidfd
 *  ESRCH    no such process, or it has been reaped (stale pidfd)
 *  EPERM    not allowed to snapshot that process (see "Access policy"),
 *           or it is a kernel thread
 *  EAGAIN   the target kept changing faster than the capture could size its
 *           buffers, or kept exec'ing from threads other than the leader
 *           (bounded retries exhausted: an exec is otherwise followed to
 *           the new leader internally); try again
 *  ENOBUFS  the capture would exceed the module's max_snapshot_bytes
 *  EDQUOT   the caller's uid's captures and snapshots would exceed
 *           max_user_bytes, or all of them max_total_bytes
 *  ENOMEM   out of memory (snapshot memory is charged to the caller's memcg)
 *  EINTR    a fatal signal arrived while waiting for the target's
 *           exec_update_lock or mmap lock, or for its threads to park
 *  EACCES   PSS_FACET_THREAD_KSTACK without CAP_SYS_ADMIN in the initial
 *           user namespace (/proc/PID/stack's rule)
 *  EOPNOTSUPP  PSS_MEMORY_PRECOPY on a kernel without CONFIG_MEM_SOFT_DIRTY
 *  EMFILE, ENFILE  no fd for the snapshot
 */
struct pss_capture_args {
	__u32 size;		/* in: sizeof(struct pss_capture_args) */
	__u32 flags;		/* in: PSS_CAPTURE_PIDFD, _PER_THREAD */
	__u64 facets;		/* in: PSS_FACET_* */
	__s32 target_pid;	/* in: pid, or 0 for self (without PSS_CAPTURE_PIDFD) */
	__s32 target_pidfd;	/* in: pidfd (with PSS_CAPTURE_PIDFD), else 0 */
	__u64 reserved[2];	/* in: must be zero */
	/*
	 * VER1: thread state (see "Thread state" below). Each field must be
	 * zero unless the facet or flag it belongs to is asked for.
	 */
	__u32 quiesce_timeout_ms; /* in: longest wait for the threads to park
				   * (THREAD_CONTEXT, MEMORY); 0: 100 ms;
				   * at most PSS_QUIESCE_TIMEOUT_MAX_MS
				   */
	__u32 stack_bytes;	/* in: PSS_MEMORY_STACKS: bytes of each
				 * parked thread's user stack kept, from its
				 * stack pointer less the red zone, upward;
				 * 0: PSS_STACK_BYTES_DEFAULT; at most
				 * PSS_STACK_BYTES_MAX
				 */
	__u32 memory_flags;	/* in: with PSS_FACET_MEMORY: PSS_MEMORY_ */
	__u32 nr_ranges;	/* in: entries at ranges (PSS_MEMORY_RANGES),
				 * 1..PSS_MEMORY_RANGES_MAX
				 */
	__u64 ranges;		/* in: user pointer to struct
				 * pss_memory_range[nr_ranges]
				 */
};

#define PSS_CAPTURE_ARGS_SIZE_VER0	40
#define PSS_CAPTURE_ARGS_SIZE_VER1	64

#define PSS_QUIESCE_TIMEOUT_DEFAULT_MS	100
#define PSS_QUIESCE_TIMEOUT_MAX_MS	10000
#define PSS_STACK_BYTES_DEFAULT		(64 << 10)
#define PSS_STACK_BYTES_MAX		(8 << 20)
#define PSS_MEMORY_RANGES_MAX		64

/* pss_capture_args.memory_flags: what PSS_FACET_MEMORY copies */
#define PSS_MEMORY_STACKS	_BITUL(0)	/* each parked thread's stack */
#define PSS_MEMORY_RANGES	_BITUL(1)	/* the caller's ranges */
#define PSS_MEMORY_WRITABLE	_BITUL(2)	/* every readable, writable,
						 * private mapping but
						 * MADV_DONTDUMP ones (what a
						 * core dump needs)
						 */
#define PSS_MEMORY_PRECOPY	_BITUL(3)	/* with WRITABLE: copy first
						 * while the target runs
						 * (see below)
						 */
#define PSS_MEMORY_FLAGS_ALL	(_BITUL(4) - 1)

/*
 * PSS_MEMORY_PRECOPY: the same memory as without it, in a shorter stall.
 * Before the threads are parked, with the target running, the pages of its
 * anonymous private writable mappings are copied; then, parked, each such
 * page not written since (its soft-dirty bit, see
 * Documentation/admin-guide/mm/soft-dirty.rst, is still clear, and it is
 * still the page copied) is taken from that copy instead of read again.
 * The caller clears the bits first by writing "4" to /proc/PID/clear_refs:
 * without that every page the target ever wrote is soft-dirty and read
 * again, as without the flag (correct, only slower). File-backed mappings
 * are always read while parked. A page copied first but written since is
 * kept until the snapshot is freed: the snapshot holds at most twice the
 * memory copied, charged as the rest (ENOBUFS, EDQUOT). pss_perf_info
 * reports the bytes copied first, taken from that copy, and read parked.
 * Errors: EINVAL without PSS_MEMORY_WRITABLE; EOPNOTSUPP on a kernel
 * without CONFIG_MEM_SOFT_DIRTY.
 */

/* A range of the target's memory to copy (PSS_MEMORY_RANGES). */
struct pss_memory_range {
	__u64 start;		/* user address; need not be page aligned */
	__u64 len;		/* bytes, > 0; start + len must not wrap */
};

/* pss_capture_args.flags */
#define PSS_CAPTURE_PIDFD		_BITUL(0)
#define PSS_CAPTURE_PER_THREAD		_BITUL(1)	/* hold each thread only
							 * for its own registers:
							 * see "Thread state"
							 */
#define PSS_CAPTURE_FLAGS_ALL		(PSS_CAPTURE_PIDFD | \
					 PSS_CAPTURE_PER_THREAD)

/* pss_capture_args.facets (process information is always captured) */
#define PSS_FACET_THREADS		_BITULL(0)
#define PSS_FACET_HANDLES		_BITULL(1)	/* fd numbers and flags */
#define PSS_FACET_HANDLE_NAME		_BITULL(2)	/* + paths */
#define PSS_FACET_HANDLE_BASIC		_BITULL(3)	/* + type, mode, pos, dev, ino */
#define PSS_FACET_HANDLE_TYPE_SPECIFIC	_BITULL(4)	/* + socket/pipe/... detail */
#define PSS_FACET_VA_SPACE		_BITULL(5)	/* VMA ranges, prot, flags,
							 * offset, backing dev/ino
							 */
#define PSS_FACET_VA_SPACE_SECTION	_BITULL(6)	/* + names, build-ids */
#define PSS_FACET_MEASURE_PERFORMANCE	_BITULL(7)	/* phase timings */
/* Every facet taken without stopping the target (ABI 1's whole set). */
#define PSS_FACETS_ALL			(_BITULL(8) - 1)
/* Historical name: the capture flags are the facets. */
#define PSS_CAPTURE_FLAGS_SUPPORTED	PSS_FACETS_ALL
/*
 * Thread state (each needs PSS_FACET_THREADS). THREAD_CONTEXT and MEMORY
 * park the target's threads for the capture: see "Thread state" below.
 */
#define PSS_FACET_THREAD_CONTEXT	_BITULL(8)	/* registers, auxv */
#define PSS_FACET_THREAD_KSTACK		_BITULL(9)	/* kernel stacks */
#define PSS_FACET_MEMORY		_BITULL(10)	/* memory contents */
#define PSS_FACETS_THREAD_STATE		(PSS_FACET_THREAD_CONTEXT | \
					 PSS_FACET_THREAD_KSTACK | \
					 PSS_FACET_MEMORY)
#define PSS_FACETS_KNOWN		(PSS_FACETS_ALL | PSS_FACETS_THREAD_STATE)

/* ----------------------------------------------------------- snapshot fd */

/*
 * PSS_IOC_QUERY - copy one single-instance item out of the snapshot.
 *
 * Writes min(out_size, kernel's size) bytes of the class's struct to out,
 * zeroes the rest of the caller's buffer, and sets args.kernel_size.
 *
 * Errors:
 *  EFAULT   args or out not accessible
 *  EINVAL   bad args size, non-zero flags/reserved, unknown class,
 *           out_size < the class's VER0 size
 *  E2BIG    args larger than known with non-zero unknown bytes
 *  ENODATA  the class's facet was not captured in this snapshot
 *  ENOTTY   not a snapshot fd / unknown ioctl
 */
struct pss_query_args {
	__u32 size;		/* in: sizeof(struct pss_query_args) */
	__u32 query_class;	/* in: PSS_QUERY_* */
	__u32 flags;		/* in: must be zero */
	__u32 out_size;		/* in: bytes at out */
	__u64 out;		/* in: user pointer to the class's struct */
	__u32 kernel_size;	/* out: the kernel's size of that struct */
	__u32 reserved;		/* in: must be zero */
};

#define PSS_QUERY_ARGS_SIZE_VER0	32

enum pss_query_class {
	PSS_QUERY_SNAPSHOT	= 0,	/* struct pss_snapshot_info */
	PSS_QUERY_PROCESS	= 1,	/* struct pss_process_info */
	PSS_QUERY_THREADS	= 2,	/* struct pss_count_info (needs THREADS) */
	PSS_QUERY_HANDLES	= 3,	/* struct pss_count_info (needs HANDLES) */
	PSS_QUERY_VA_SPACE	= 4,	/* struct pss_count_info (needs VA_SPACE) */
	PSS_QUERY_PERFORMANCE	= 5,	/* struct pss_perf_info (MEASURE_PERFORMANCE) */
	PSS_QUERY_AUXV		= 6,	/* struct pss_auxv_info (THREAD_CONTEXT) */
	PSS_QUERY_CONTEXTS	= 7,	/* struct pss_count_info (THREAD_CONTEXT) */
	PSS_QUERY_KSTACKS	= 8,	/* struct pss_count_info (THREAD_KSTACK) */
	PSS_QUERY_MEMORY	= 9,	/* struct pss_count_info (MEMORY) */
	PSS_QUERY_NR_CLASSES,
};

/*
 * PSS_IOC_WALK - copy whole entries of one multi-instance class, starting at
 * index pos, into buf. Entries are variable-length records (see rec_len);
 * as many whole records as fit are written.
 *
 * On success: count records written, bytes_written bytes used, pos advanced
 * past them, PSS_WALK_END set in out_flags when pos reached the end (the
 * last call of a walk both returns records and sets it; a call at the end
 * returns count 0 and sets it), total = entries in the class, next_len = the
 * size of the record now at pos (0 at the end).
 * If buf_len cannot hold the record at pos, the call fails with ENOSPC and
 * still writes back next_len (and total): the exact size needed.
 *
 * Errors:
 *  EFAULT   args or buf not accessible
 *  EINVAL   bad args size, non-zero flags/reserved, unknown class
 *  E2BIG    args larger than known with non-zero unknown bytes
 *  ERANGE   pos > total
 *  ENOSPC   buf_len smaller than the record at pos (next_len says how big)
 *  ENODATA  the class's facet was not captured in this snapshot
 *  ENOTTY   not a snapshot fd / unknown ioctl
 */
struct pss_walk_args {
	__u32 size;		/* in: sizeof(struct pss_walk_args) */
	__u32 walk_class;	/* in: PSS_WALK_* */
	__u32 flags;		/* in: must be zero */
	__u32 out_flags;	/* out: PSS_WALK_END */
	__u64 pos;		/* in: first index wanted; out: next index */
	__u64 buf;		/* in: user pointer */
	__u64 buf_len;		/* in: bytes at buf */
	__u64 bytes_written;	/* out */
	__u32 count;		/* out: records written */
	__u32 next_len;		/* out: size of the record at the new pos */
	__u64 total;		/* out: records in the class */
};

#define PSS_WALK_ARGS_SIZE_VER0		64

#define PSS_WALK_END		_BITUL(0)

enum pss_walk_class {
	PSS_WALK_THREADS	= 0,	/* struct pss_thread_entry */
	PSS_WALK_HANDLES	= 1,	/* struct pss_handle_entry */
	PSS_WALK_VA_SPACE	= 2,	/* struct pss_vma_entry */
	PSS_WALK_CONTEXTS	= 3,	/* struct pss_context_entry */
	PSS_WALK_KSTACKS	= 4,	/* struct pss_kstack_entry */
	PSS_WALK_MEMORY		= 5,	/* struct pss_memory_entry */
	PSS_WALK_NR_CLASSES,
};

/*
 * Every walk record starts with rec_len (whole record, a multiple of 8:
 * step to the next record by it, never by sizeof) and, for records with a
 * variable part, the offset and length of that part from the record's
 * start. Strings are NUL-terminated; their _len excludes the NUL. New fields
 * are appended before the variable part, so records from a newer kernel
 * still parse.
 */
#define PSS_REC_ALIGN		8

/* ---------------------------------------------------- query structs */

struct pss_snapshot_info {
	__u32 size;		/* kernel's sizeof() */
	__u32 abi_version;
	__u64 facets;		/* PSS_FACET_* captured */
	__u64 cut_realtime_ns;	/* CLOCK_REALTIME at the cut */
	__u64 cut_boottime_ns;	/* CLOCK_BOOTTIME at the cut */
	__u64 cut_ns;		/* CLOCK_MONOTONIC at the cut */
	__u64 nr_threads;	/* records in each walk class (0 if not captured) */
	__u64 nr_handles;
	__u64 nr_vmas;
	__u64 memory_bytes;	/* kernel memory the snapshot holds */
	__u32 retries;		/* times the capture re-sized its buffers */
	__u32 capture_flags;	/* PSS_CAPTURE_PER_THREAD if asked */
};

#define PSS_SNAPSHOT_INFO_SIZE_VER0	80

/* pss_process_info.mask: which groups of fields were filled */
#define PSS_PROC_HAS_IDS	_BITULL(0)	/* pid..sid, uid/gid sets */
#define PSS_PROC_HAS_EXE	_BITULL(1)	/* exe_path */
#define PSS_PROC_HAS_MM		_BITULL(2)	/* vsize..pinned, a live mm */
#define PSS_PROC_HAS_TIMES	_BITULL(3)	/* utime..faults */
#define PSS_PROC_HAS_SCHED	_BITULL(4)	/* prio, nice, policy */
#define PSS_PROC_HAS_EXIT	_BITULL(5)	/* exit_code (zombie) */
#define PSS_PROC_HAS_AFFINITY	_BITULL(6)	/* cpus_allowed */
#define PSS_PROC_HAS_FS		_BITULL(7)	/* VER2: cwd_path, root_path */

/* pss_process_info.flags */
#define PSS_PROC_ZOMBIE		_BITUL(0)	/* every thread has exited */
#define PSS_PROC_STOPPED	_BITUL(1)	/* group stop in effect */
#define PSS_PROC_TRACED		_BITUL(2)	/* leader is ptrace-stopped */
#define PSS_PROC_COMPAT		_BITUL(3)	/* 32-bit process */
#define PSS_PROC_EXITING	_BITUL(4)	/* group exit under way */
#define PSS_PROC_LEADER_EXITED	_BITUL(5)	/* leader dead, threads live */
#define PSS_PROC_SELF		_BITUL(6)	/* the caller's own process */
#define PSS_PROC_EXE_DELETED	_BITUL(7)	/* exe_path ends " (deleted)" */

#define PSS_COMM_LEN		16
#define PSS_PATH_MAX		4096
#define PSS_CPUMASK_BITS	1024	/* bits of affinity kept in fixed fields */

struct pss_process_info {
	__u32 size;		/* kernel's sizeof() */
	__u32 flags;		/* PSS_PROC_* */
	__u64 mask;		/* PSS_PROC_HAS_* */
	__s32 pid;		/* thread group id */
	__s32 ppid;		/* real parent's tgid */
	__s32 pgid;
	__s32 sid;
	__u32 ruid, euid, suid, fsuid;
	__u32 rgid, egid, sgid, fsgid;
	char comm[PSS_COMM_LEN];
	char state;		/* leader's state letter as in /proc/PID/stat */
	__u8 pad0[3];
	__u32 nr_threads;	/* live threads at the cut */
	__u64 start_boottime_ns; /* process start, CLOCK_BOOTTIME */
	__u64 utime_ns;		/* sum over the threads at the cut (an
				 * exited leader not yet reaped included);
				 * /proc/PID/stat's utime is group_utime_ns
				 */
	__u64 stime_ns;
	__u64 dead_utime_ns;	/* reaped threads plus waited-for children
				 * (kept for old callers: the same facts
				 * apart are group_* and children_*)
				 */
	__u64 dead_stime_ns;
	__u64 min_flt;		/* live threads + reaped threads */
	__u64 maj_flt;
	__s32 prio;		/* leader: /proc/PID/stat's value, kernel
				 * prio - 100 (0..39 normal, -2..-100 RT)
				 */
	__s32 nice;
	__u32 policy;		/* SCHED_* */
	__u32 rt_priority;
	__u64 vsize_bytes;
	__u64 rss_anon_bytes;
	__u64 rss_file_bytes;
	__u64 rss_shmem_bytes;
	__u64 hiwater_rss_bytes; /* peak rss */
	__u64 hiwater_vm_bytes;	/* peak vsize */
	__u64 locked_bytes;
	__u64 pinned_bytes;
	__u64 data_bytes, stack_bytes;
	__u64 exec_bytes;	/* executable mappings: VmExe + VmLib */
	__s32 exit_code;	/* wait status-style code, with PSS_PROC_HAS_EXIT */
	__u32 exe_path_len;	/* strlen(exe_path) */
	__u32 nr_cpus_allowed;	/* CPUs in the leader's affinity */
	__u32 pad1;
	__u64 cpus_allowed[PSS_CPUMASK_BITS / 64]; /* leader's affinity */
	char exe_path[PSS_PATH_MAX];
	/*
	 * VER1: /proc's own accounting, field by field (check kernel_size:
	 * a VER0 kernel does not fill these).
	 */
	__u64 group_utime_ns;	/* /proc/PID/stat utime: every thread of
				 * the group, live and reaped (HAS_TIMES)
				 */
	__u64 group_stime_ns;	/* /proc/PID/stat stime */
	__u64 children_utime_ns; /* cutime: waited-for children (HAS_TIMES) */
	__u64 children_stime_ns; /* cstime */
	__u64 children_min_flt;	/* cminflt (HAS_TIMES) */
	__u64 children_maj_flt;	/* cmajflt */
	__u64 vm_exe_bytes;	/* /proc/PID/status VmExe (HAS_MM) */
	__u64 vm_lib_bytes;	/* VmLib (HAS_MM) */
	/*
	 * VER2 (HAS_FS, captured with PSS_FACET_HANDLE_NAME): the working
	 * and root directories, lsof's cwd and rtd. Which directories is
	 * fixed at the cut (read under the fd table's locks); their names
	 * are resolved after it, with the rules of handle paths: the
	 * strings readlink(/proc/PID/cwd) and readlink(/proc/PID/root) give
	 * the caller, " (deleted)" included.
	 */
	__u32 cwd_path_len;	/* strlen(cwd_path) */
	__u32 root_path_len;	/* strlen(root_path) */
	char cwd_path[PSS_PATH_MAX];
	char root_path[PSS_PATH_MAX];
};

#define PSS_PROCESS_INFO_SIZE_VER0	(392 + PSS_PATH_MAX)
#define PSS_PROCESS_INFO_SIZE_VER1	(456 + PSS_PATH_MAX)
#define PSS_PROCESS_INFO_SIZE_VER2	(464 + 3 * PSS_PATH_MAX)

/* PSS_QUERY_THREADS, _HANDLES, _VA_SPACE */
struct pss_count_info {
	__u32 size;		/* kernel's sizeof() */
	__u32 reserved;
	__u64 count;		/* records the matching walk returns */
	__u64 bytes;		/* total size of those records */
	__u64 max_rec_len;	/* largest record: a buffer this big always works */
};

#define PSS_COUNT_INFO_SIZE_VER0	32

enum pss_phase {
	PSS_PHASE_TOTAL		= 0,	/* whole ioctl */
	PSS_PHASE_ALLOC		= 1,	/* sizing and allocation before the cut */
	PSS_PHASE_VA_SPACE	= 2,	/* VMA copy under the mmap lock */
	PSS_PHASE_HANDLES	= 3,	/* fd table copy under file_lock */
	PSS_PHASE_THREADS	= 4,	/* thread copy under siglock */
	PSS_PHASE_NAMES		= 5,	/* path resolution after the cut */
	PSS_PHASE_BUILD		= 6,	/* building records */
	PSS_PHASE_QUIESCE	= 7,	/* parking the threads: from the first
					 * request to the last thread parked
					 * (or the timeout)
					 */
	PSS_PHASE_NR		= 8,
};

enum pss_lock_id {
	PSS_LOCK_MMAP		= 0,	/* mm->mmap_lock, read */
	PSS_LOCK_FILES		= 1,	/* task_lock + files->file_lock */
	PSS_LOCK_SIGHAND	= 2,	/* sighand->siglock */
	PSS_LOCK_NR		= 4,
};

struct pss_perf_info {
	__u32 size;		/* kernel's sizeof() */
	__u32 reserved;
	__u64 phase_ns[PSS_PHASE_NR];	/* wall time of each phase (TOTAL
					 * at least 1)
					 */
	__u64 lock_held_ns[PSS_LOCK_NR]; /* how long each lock was held:
					  * 0 not taken; at least 1 if taken
					  * (a hold shorter than the clock's
					  * resolution reads 1)
					  */
	/* VER1: the stall (THREAD_CONTEXT, MEMORY; else zero) */
	__u64 stall_ns;		/* from the first thread parked to the
				 * release: the longest any thread of the
				 * target was held (PER_THREAD: the
				 * longest one thread was)
				 */
	__u64 park_max_ns;	/* longest single thread's park */
	__u32 nr_parked;	/* threads parked by pss (PSS_PARK_WAITED) */
	__u32 nr_held;		/* threads stopped or blocked in the kernel
				 * throughout (PSS_PARK_STOPPED, _BLOCKED)
				 */
	__u32 nr_not_parked;	/* threads with no user context
				 * (PSS_PARK_NONE)
				 */
	__u32 reserved1;
	/* VER2: PSS_FACET_MEMORY (else zero) */
	__u64 memory_precopy_bytes;	/* PSS_MEMORY_PRECOPY: pages copied
					 * before the park
					 */
	__u64 memory_reused_bytes;	/* of those, bytes kept: clean when
					 * parked
					 */
	__u64 memory_parked_bytes;	/* bytes read (or found to be holes)
					 * while parked
					 */
};

#define PSS_PERF_INFO_SIZE_VER0		104
#define PSS_PERF_INFO_SIZE_VER1		136
#define PSS_PERF_INFO_SIZE_VER2		160

/* ---------------------------------------------------- walk records */

/*
 * The thread walk holds the live threads at the cut: a leader that has
 * exited while other threads live (PSS_PROC_LEADER_EXITED, exited but not
 * reaped) is not in it, though its times count in the process sums.
 */
#define PSS_THREAD_LEADER	_BITUL(0)	/* the thread group leader */
#define PSS_THREAD_EXITING	_BITUL(1)	/* PF_EXITING set */
#define PSS_THREAD_STOPPED	_BITUL(2)	/* stopped: group stop ('T') */
#define PSS_THREAD_TRACED	_BITUL(3)
#define PSS_THREAD_CALLER	_BITUL(4)	/* the thread that captured */
#define PSS_THREAD_PARKED	_BITUL(5)	/* its user state was held still
						 * for the capture: a context
						 * entry with park != NONE
						 */

struct pss_thread_entry {
	__u32 rec_len;
	__u32 flags;		/* PSS_THREAD_* */
	__u32 cpus_off;		/* affinity bitmap: offset from record start */
	__u32 cpus_len;		/* ... and its length in bytes (n * 8) */
	__s32 tid;
	__s32 cpu;		/* cpu it last ran on */
	char comm[PSS_COMM_LEN];
	char state;		/* state letter as in /proc/PID/task/TID/stat */
	__u8 pad0[3];
	__s32 prio;
	__s32 nice;
	__u32 policy;
	__u32 rt_priority;
	__u32 pad1;
	__u64 utime_ns;
	__u64 stime_ns;
	__u64 start_boottime_ns;
	__u64 nvcsw;
	__u64 nivcsw;
	__u64 min_flt;
	__u64 maj_flt;
	/* variable part: __u64 cpus[cpus_len / 8] at cpus_off */
};

#define PSS_THREAD_ENTRY_SIZE_VER0	120

enum pss_handle_type {
	PSS_HT_UNKNOWN = 0,
	PSS_HT_REGULAR,
	PSS_HT_DIR,
	PSS_HT_CHR,
	PSS_HT_BLK,
	PSS_HT_FIFO,		/* a named pipe */
	PSS_HT_PIPE,		/* an anonymous pipe */
	PSS_HT_SOCKET,
	PSS_HT_SYMLINK,		/* O_PATH on a symlink */
	PSS_HT_MEMFD,
	PSS_HT_EVENTFD,
	PSS_HT_EPOLL,
	PSS_HT_TIMERFD,
	PSS_HT_SIGNALFD,
	PSS_HT_INOTIFY,
	PSS_HT_FANOTIFY,
	PSS_HT_PIDFD,
	PSS_HT_USERFAULTFD,
	PSS_HT_IO_URING,
	PSS_HT_ANON,		/* another anon inode; name says which */
	PSS_HT_PSS,		/* a pss snapshot */
	PSS_HT_NR,
};

/* pss_handle_entry.flags */
#define PSS_HANDLE_CLOEXEC	_BITUL(0)	/* FD_CLOEXEC */
#define PSS_HANDLE_DELETED	_BITUL(1)	/* the file was unlinked */
#define PSS_HANDLE_HAS_NAME	_BITUL(2)	/* name filled (HANDLE_NAME) */
#define PSS_HANDLE_HAS_BASIC	_BITUL(3)	/* basic fields filled */
#define PSS_HANDLE_HAS_SOCKET	_BITUL(4)	/* u.socket filled */
#define PSS_HANDLE_HAS_PIPE	_BITUL(5)	/* u.pipe filled */
#define PSS_HANDLE_PATH_ONLY	_BITUL(6)	/* O_PATH descriptor */
#define PSS_HANDLE_HAS_DETAIL	_BITUL(7)	/* VER1: detail_mask and d valid */

/* pss_handle_entry.fmode */
#define PSS_FMODE_READ		_BITUL(0)
#define PSS_FMODE_WRITE		_BITUL(1)

struct pss_handle_socket {
	__u16 family;		/* AF_* */
	__u16 type;		/* SOCK_* */
	__u16 protocol;		/* IPPROTO_* / family specific */
	__u8 state;		/* sk_state: TCP_* for inet, as /proc/net shows */
	__u8 sock_state;	/* SS_* (socket level) */
	__u64 reserved[3];
};

struct pss_handle_pipe {
	__u32 buf_size;		/* capacity in bytes (F_GETPIPE_SZ) */
	__u32 readers;
	__u32 writers;
	__u32 reserved0;
	__u64 reserved[2];
};

/*
 * VER1 handle detail (HANDLE_TYPE_SPECIFIC), read after the cut from the file
 * pinned at it, each field the value the kernel's own view of that file
 * (/proc/net/..., /proc/PID/fdinfo/N, getsockname()) gives at the moment
 * it is read. pss_handle_entry.detail_mask says which were filled; which
 * member of d is meant follows from type (and for sockets, socket.family).
 */
#define PSS_HD_SOCK_LOCAL	_BITULL(0)	/* sock local address (getsockname) */
#define PSS_HD_SOCK_REMOTE	_BITULL(1)	/* sock remote address (getpeername;
						 * unset: not connected)
						 */
#define PSS_HD_SOCK_QUEUES	_BITULL(2)	/* sock.rx_queue, sock.tx_queue */
#define PSS_HD_SOCK_PEER	_BITULL(3)	/* sock.un.peer_ino */
#define PSS_HD_EVENTFD		_BITULL(8)	/* d.eventfd */
#define PSS_HD_TIMERFD		_BITULL(9)	/* d.timerfd */
#define PSS_HD_SIGNALFD		_BITULL(10)	/* d.signalfd */
#define PSS_HD_INOTIFY		_BITULL(11)	/* d.inotify */
#define PSS_HD_EPOLL		_BITULL(12)	/* d.epoll */
#define PSS_HD_PIDFD		_BITULL(13)	/* d.pidfd */
#define PSS_HD_MEMFD		_BITULL(14)	/* d.memfd */
#define PSS_HD_TTY		_BITULL(15)	/* d.tty */
#define PSS_HD_TRUNCATED	_BITULL(31)	/* a list (inotify watches, epoll
						 * targets) had more entries
						 * than the kernel's text
						 * buffer held: counts are a
						 * lower bound
						 */

/*
 * Sockets. Queues as /proc/net shows them: TCP: rx = the accept backlog
 * when listening, else bytes not yet read (rcv_nxt - copied_seq), tx =
 * bytes not yet acked (write_seq - snd_una);
 * UDP: rx = receive memory less the forward deficit, tx = send memory
 * (as udp and udp6 show); unix listen: backlog and its limit; unix
 * otherwise: SIOCINQ and SIOCOUTQ; other families: receive and send
 * memory in use.
 */
struct pss_handle_sock_inet {	/* AF_INET, AF_INET6 */
	__u8 local_addr[16];	/* network order: AF_INET in the first 4 */
	__u8 remote_addr[16];	/* zero unless PSS_HD_SOCK_REMOTE */
	__u16 local_port;	/* host order */
	__u16 remote_port;
	__u32 reserved;
};

struct pss_handle_sock_unix {	/* AF_UNIX */
	__u64 peer_ino;		/* inode of the peer socket (connected) */
	__u32 path_len;		/* bytes of path; 0: unnamed */
	__u32 reserved;
	char path[108];		/* sun_path: path[0] == 0 is an abstract
				 * name of path_len bytes (NULs included),
				 * else a NUL-terminated file name
				 */
	__u32 reserved1;
};

struct pss_handle_sock_netlink { /* AF_NETLINK (protocol is socket.protocol) */
	__u32 portid;		/* nl_pid */
	__u32 groups;		/* nl_groups: the first 32 */
};

struct pss_handle_sock_packet {	/* AF_PACKET */
	__u16 protocol;		/* ETH_P_*, host order */
	__u16 reserved;
	__s32 ifindex;		/* bound interface, 0: any */
};

struct pss_handle_sock_detail {
	__u32 rx_queue;		/* PSS_HD_SOCK_QUEUES, see above */
	__u32 tx_queue;
	union {
		struct pss_handle_sock_inet in;
		struct pss_handle_sock_unix un;
		struct pss_handle_sock_netlink nl;
		struct pss_handle_sock_packet pkt;
		__u64 raw[16];
	};
};

/* fdinfo's eventfd-count, eventfd-id, eventfd-semaphore */
struct pss_handle_eventfd {
	__u64 count;
	__u32 id;
	__u32 semaphore;	/* EFD_SEMAPHORE (0 where fdinfo omits it) */
};

/* fdinfo's timerfd fields */
struct pss_handle_timerfd {
	__s32 clockid;		/* CLOCK_* */
	__u32 settime_flags;	/* TFD_TIMER_* */
	__u64 ticks;		/* expirations not yet read */
	__u64 value_ns;		/* time to the next expiry; 0: disarmed */
	__u64 interval_ns;
};

/* fdinfo's sigmask: the signals the signalfd accepts (bit n-1: signal n) */
struct pss_handle_signalfd {
	__u64 sigmask;
};

#define PSS_INOTIFY_LISTED	5
#define PSS_EPOLL_LISTED	30

struct pss_handle_inotify_watch {
	__s32 wd;
	__u32 mask;		/* IN_* */
	__u32 sdev;		/* the kernel's dev_t as fdinfo prints it:
				 * major << 20 | minor
				 */
	__u32 reserved;
	__u64 ino;
};

struct pss_handle_inotify {
	__u32 nr_watches;	/* watches (fdinfo's "inotify wd:" lines) */
	__u32 nr_listed;	/* the first min(nr_watches, 5) of them */
	struct pss_handle_inotify_watch watch[PSS_INOTIFY_LISTED];
};

struct pss_handle_epoll {
	__u32 nr_targets;	/* registered fds (fdinfo's "tfd:" lines) */
	__u32 nr_listed;	/* the first min(nr_targets, 30), in
				 * fdinfo's order
				 */
	__s32 tfd[PSS_EPOLL_LISTED];	/* their fd numbers */
};

struct pss_handle_pidfd {
	__s32 pid;		/* as fdinfo's Pid:, in the caller's pid
				 * namespace: 0 if not visible there, -1
				 * once the process has exited
				 */
	__u32 reserved;
};

struct pss_handle_memfd {
	__u32 seals;		/* as fcntl(F_GET_SEALS): tmpfs and
				 * hugetlbfs memfds
				 */
	__u32 reserved;
};

struct pss_handle_tty {
	__s32 index;		/* /dev/pts/N's N: a pty master's fdinfo
				 * tty-index, or a pts slave's number
				 */
	__u32 reserved;
};

struct pss_handle_entry {
	__u32 rec_len;
	__u32 flags;		/* PSS_HANDLE_* */
	__u32 name_off;		/* path, offset from record start (0: none) */
	__u32 name_len;		/* strlen(path) */
	__s32 fd;
	__u32 type;		/* enum pss_handle_type (BASIC) */
	__u32 open_flags;	/* O_* as fcntl(F_GETFL) (BASIC) */
	__u32 fmode;		/* PSS_FMODE_* (BASIC) */
	__u32 i_mode;		/* st_mode as fstat() reports it (BASIC) */
	__u32 dev_major, dev_minor;	/* st_dev (BASIC) */
	__u32 rdev_major, rdev_minor;	/* st_rdev (BASIC) */
	__u32 fixed_len;	/* size of the fixed part; 0 from a VER0
				 * kernel (then 112: nothing past u)
				 */
	__u64 ino;		/* (BASIC) */
	__u64 pos;		/* file position (BASIC) */
	__u64 i_size;		/* (BASIC) */
	union {			/* (TYPE_SPECIFIC) */
		struct pss_handle_socket socket;
		struct pss_handle_pipe pipe;
		__u64 raw[4];
	} u;
	/*
	 * VER1 (TYPE_SPECIFIC): valid only with PSS_HANDLE_HAS_DETAIL; a
	 * VER0 kernel's name may start here.
	 */
	__u64 detail_mask;	/* PSS_HD_* */
	union {
		struct pss_handle_sock_detail sock;	/* type SOCKET */
		struct pss_handle_eventfd eventfd;
		struct pss_handle_timerfd timerfd;
		struct pss_handle_signalfd signalfd;
		struct pss_handle_inotify inotify;
		struct pss_handle_epoll epoll;
		struct pss_handle_pidfd pidfd;
		struct pss_handle_memfd memfd;
		struct pss_handle_tty tty;		/* type CHR */
		__u64 raw[17];
	} d;
	/* variable part: char name[name_len + 1] at name_off */
};

#define PSS_HANDLE_ENTRY_SIZE_VER0	112
#define PSS_HANDLE_ENTRY_SIZE_VER1	256

/* pss_vma_entry.prot */
#define PSS_PROT_READ		_BITUL(0)
#define PSS_PROT_WRITE		_BITUL(1)
#define PSS_PROT_EXEC		_BITUL(2)

/* pss_vma_entry.flags */
#define PSS_VMA_SHARED		_BITUL(0)	/* VM_SHARED: shared and writable
						 * now or later; NOT maps' 's'
						 */
#define PSS_VMA_GROWSDOWN	_BITUL(1)
#define PSS_VMA_LOCKED		_BITUL(2)	/* mlock */
#define PSS_VMA_HUGETLB		_BITUL(3)
#define PSS_VMA_IO		_BITUL(4)
#define PSS_VMA_PFNMAP		_BITUL(5)
#define PSS_VMA_DONTDUMP	_BITUL(6)
#define PSS_VMA_DONTFORK	_BITUL(7)
#define PSS_VMA_WIPEONFORK	_BITUL(8)
#define PSS_VMA_MAYSHARE	_BITUL(9)	/* VM_MAYSHARE: MAP_SHARED, the
						 * 's' in maps
						 */
#define PSS_VMA_DELETED		_BITUL(10)	/* backing file unlinked */
#define PSS_VMA_ACCOUNT		_BITUL(11)	/* counted as committed memory */
#define PSS_VMA_NORESERVE	_BITUL(12)
#define PSS_VMA_MERGEABLE	_BITUL(13)	/* KSM */
#define PSS_VMA_HUGEPAGE	_BITUL(14)	/* MADV_HUGEPAGE */
#define PSS_VMA_NOHUGEPAGE	_BITUL(15)
#define PSS_VMA_HAS_BUILD_ID	_BITUL(16)	/* VER1: build_id_state valid */

/*
 * pss_vma_entry.build_id_state (VER1, VA_SPACE_SECTION, file-backed VMAs):
 * the GNU build-id (the NT_GNU_BUILD_ID note of a PT_NOTE segment) of the
 * mapped file, read after the cut from the page cache only: pss never
 * starts or waits for I/O for it, and says so rather than guess. Each
 * distinct file is parsed once per snapshot.
 */
enum pss_build_id_state {
	PSS_BUILD_ID_NONE = 0,		/* not looked for: no file, or an
					 * anon_shmem name
					 */
	PSS_BUILD_ID_FOUND,		/* build_id[build_id_len] */
	PSS_BUILD_ID_NOT_ELF,		/* no ELF header (or a malformed one) */
	PSS_BUILD_ID_NO_NOTE,		/* ELF without a GNU build-id note */
	PSS_BUILD_ID_NOT_CACHED,	/* a page it needed was not in the page
					 * cache (or not up to date)
					 */
	PSS_BUILD_ID_TOO_LONG,		/* the note's id exceeds 32 bytes */
};

#define PSS_BUILD_ID_MAX	32

enum pss_vma_name_kind {
	PSS_VMA_NAME_NONE = 0,	/* anonymous, no name */
	PSS_VMA_NAME_FILE,	/* path of the backing file */
	PSS_VMA_NAME_HEAP,	/* "[heap]" */
	PSS_VMA_NAME_STACK,	/* "[stack]" */
	PSS_VMA_NAME_SPECIAL,	/* "[vdso]", "[vvar]", ... from the kernel */
	PSS_VMA_NAME_ANON,	/* "[anon:NAME]" from PR_SET_VMA_ANON_NAME */
	PSS_VMA_NAME_ANON_SHMEM, /* "[anon_shmem:NAME]" */
};

struct pss_vma_entry {
	__u32 rec_len;
	__u32 flags;		/* PSS_VMA_* */
	__u32 name_off;		/* name, offset from record start (0: none) */
	__u32 name_len;		/* strlen(name); needs VA_SPACE_SECTION */
	__u64 start;
	__u64 end;
	__u32 prot;		/* PSS_PROT_* */
	__u32 name_kind;	/* enum pss_vma_name_kind */
	__u64 pgoff_bytes;	/* file offset of start; 0 for anonymous
				 * VMAs, as in maps
				 */
	__u32 dev_major, dev_minor;	/* backing inode's st_dev */
	__u64 ino;
	__u64 page_size;	/* kernel page size backing the VMA */
	/*
	 * VER1: valid only with PSS_VMA_HAS_BUILD_ID (a VER0 kernel's name
	 * may start here).
	 */
	__u32 build_id_state;	/* enum pss_build_id_state */
	__u32 build_id_len;	/* bytes of build_id (FOUND) */
	__u8 build_id[PSS_BUILD_ID_MAX];
	/* variable part: char name[name_len + 1] at name_off */
};

#define PSS_VMA_ENTRY_SIZE_VER0		72
#define PSS_VMA_ENTRY_SIZE_VER1		112

/* ---------------------------------------------------- ioctl numbers */

#define PSS_IOC_VERSION	_IOWR(PSS_IOC_MAGIC, 0x00, struct pss_version)
#define PSS_IOC_CAPTURE	_IOW(PSS_IOC_MAGIC, 0x01, struct pss_capture_args)
#define PSS_IOC_QUERY	_IOWR(PSS_IOC_MAGIC, 0x10, struct pss_query_args)
#define PSS_IOC_WALK	_IOWR(PSS_IOC_MAGIC, 0x11, struct pss_walk_args)

/* ---------------------------------------------------- thread state */

/*
 * Thread state: PSS_FACET_THREAD_CONTEXT, _THREAD_KSTACK, _MEMORY.
 *
 * Quiesce. A capture with THREAD_CONTEXT or MEMORY first parks every thread
 * of the target other than the caller: it asks each to stop at its next
 * return to user mode (task_work, TWA_RESUME: no signal is sent, a thread
 * blocked in a system call is not woken, and one running in user mode is
 * made to enter the kernel by an inter-processor interrupt), then waits,
 * at most quiesce_timeout_ms, until every thread is parked there, or is
 * stopped or traced, or sleeps in the kernel (its user registers cannot
 * change before it returns, and on its way back it parks). Then the cut,
 * the registers and the memory are taken, and every thread is released
 * before the kernel stacks, names and records. A parked thread waits killably:
 * SIGKILL (of the target, or an exec's de_thread()) ends its park at once;
 * the caller being killed releases every thread (EINTR). A thread asked to
 * park that had not reached the park point when the capture ended will not
 * park later: the request is withdrawn. Each thread's park is reported in
 * its context entry, the stall in pss_perf_info.
 * What the target can see: threads that spent up to the stall in the
 * kernel; a blocked system call is not interrupted and returns as it
 * would have (no EINTR, no restart).
 * A thread sleeping in the kernel that wakes up during the capture is
 * reported as it was when it parked (its registers re-read), but memory
 * it wrote on its way out (a read() completing) may be in the copy.
 * A thread that was neither parked nor held (running in the kernel all the
 * time, exiting) is PSS_PARK_NONE: no user context.
 * The caller's own thread in a self-capture: its user state at the ioctl
 * (PSS_PARK_CALLER).
 *
 * Per thread (PSS_CAPTURE_PER_THREAD, THREAD_CONTEXT without MEMORY): the
 * threads are asked as above, but none waits for the others. A thread that
 * parks reads its own registers there and goes on at once (PSS_PARK_WAITED,
 * park_ns the time that took); one asleep in the kernel is read where it
 * sleeps (PSS_PARK_BLOCKED, _STOPPED) and, should it wake meanwhile, waits
 * at its park only until that read is done. Each register set is a true
 * state of its thread, as a ptrace tool stopping one thread at a time gets
 * them, but the sets are not of one instant: a thread may run between the
 * reads of two others. The cut (thread list, fds, VMAs) is one instant as
 * always. stall_ns is then the longest time one thread was held: in its
 * park (park_max_ns), or asleep and woken while it was being read (it
 * waits for that read to end); no two threads are held together.
 *
 * Kernel stacks (THREAD_KSTACK) are read after the cut for every thread of
 * the thread walk, symbolised in the kernel as /proc/PID/stack shows them
 * ("function+0xoff/0xsize", " [module]"): no address is reported. Like
 * /proc/PID/stack they need CAP_SYS_ADMIN in the initial user namespace.
 * The stack of a thread running on a CPU is a guess (PSS_KSTACK_RUNNING).
 * After a quiesce they are read after the release: a thread parked by pss
 * has none (PSS_KSTACK_NONE: it was returning to user mode), and the stack
 * of one held asleep that has run since is a guess too.
 */

/* pss_context_entry.park: how the thread's user state was held */
enum pss_park {
	PSS_PARK_NONE		= 0,	/* not held: no register data */
	PSS_PARK_WAITED		= 1,	/* parked by pss on return to user mode */
	PSS_PARK_STOPPED	= 2,	/* stopped or ptrace-stopped throughout */
	PSS_PARK_BLOCKED	= 3,	/* asleep in the kernel throughout */
	PSS_PARK_CALLER		= 4,	/* the capturing thread, at the ioctl */
};

/*
 * One per thread of the thread walk, in the same order. The register data
 * is in the layouts of the ELF core notes of the thread's regset view
 * (64-bit, or 32-bit for a PSS_PROC_COMPAT process), ready for a core
 * writer: gregs is NT_PRSTATUS's pr_reg (struct user_regs_struct), fpregs
 * NT_PRFPREG (struct user_i387_struct), xstate NT_X86_XSTATE (the XSAVE
 * image, xstate_len bytes: the CPU's size). Offsets count from the
 * record's start; a length of 0 means not captured.
 */
struct pss_context_entry {
	__u32 rec_len;
	__u32 flags;		/* reserved, 0 */
	__u32 data_off;		/* the three sets, back to back */
	__u32 data_len;
	__s32 tid;
	__u32 park;		/* enum pss_park */
	__u64 park_ns;		/* PSS_PARK_WAITED: time parked */
	__u32 gregs_off, gregs_len;
	__u32 fpregs_off, fpregs_len;
	__u32 xstate_off, xstate_len;
	__u32 elf_machine;	/* EM_X86_64 or EM_386 */
	__u32 reserved;
};

#define PSS_CONTEXT_ENTRY_SIZE_VER0	64

/* PSS_QUERY_AUXV: the process's auxiliary vector (NT_AUXV) */
#define PSS_AUXV_WORDS		128

struct pss_auxv_info {
	__u32 size;		/* kernel's sizeof() */
	__u32 len;		/* bytes of auxv used, AT_NULL pair included */
	__u64 auxv[PSS_AUXV_WORDS]; /* (type, value) pairs as NT_AUXV */
};

#define PSS_AUXV_INFO_SIZE_VER0		(8 + 8 * PSS_AUXV_WORDS)

/* pss_kstack_entry.flags */
#define PSS_KSTACK_RUNNING	_BITUL(0)	/* ran while read (or since it
						 * was held): a guess
						 */
#define PSS_KSTACK_TRUNCATED	_BITUL(1)	/* more frames than kept */
#define PSS_KSTACK_NONE		_BITUL(2)	/* no frames: exited, parked,
						 * or (with RUNNING) in user
						 * mode
						 */

#define PSS_KSTACK_MAX_FRAMES	64

/* One per thread of the thread walk, in the same order. */
struct pss_kstack_entry {
	__u32 rec_len;
	__u32 flags;		/* PSS_KSTACK_* */
	__u32 text_off;		/* frames, innermost first, one per line:
				 * "function+0x1f/0x90\n" (" [module]"
				 * before the newline for a module)
				 */
	__u32 text_len;
	__s32 tid;
	__u32 nr_frames;
};

#define PSS_KSTACK_ENTRY_SIZE_VER0	24

/*
 * PSS_WALK_MEMORY: the copied memory, one record per page (or the part of
 * it asked for), in address order, each byte once; the parts of one page
 * kept for two threads' stacks are two records. Memory is read as a core
 * dump reads it: anonymous memory never touched reads as zeros (and is
 * not faulted in); a page that could not be read (not mapped, PROT_NONE,
 * a guard page, I/O memory, a file page beyond the end of its file) is
 * left out. A thread's stack ends at its VMA, and where the stack of the
 * thread above it in the same VMA begins.
 */
#define PSS_MEMORY_ENTRY_STACK	PSS_MEMORY_STACKS	/* why it was copied */
#define PSS_MEMORY_ENTRY_RANGE	PSS_MEMORY_RANGES
#define PSS_MEMORY_ENTRY_WRITABLE PSS_MEMORY_WRITABLE

struct pss_memory_entry {
	__u32 rec_len;
	__u32 flags;		/* PSS_MEMORY_ENTRY_* */
	__u32 data_off;		/* the bytes, from the record's start */
	__u32 data_len;		/* bytes copied, 1..page size */
	__u64 addr;		/* user address of the first byte */
	__s32 tid;		/* PSS_MEMORY_ENTRY_STACK: whose stack */
	__u32 reserved;
};

#define PSS_MEMORY_ENTRY_SIZE_VER0	32

#endif /* _UAPI_LINUX_PSS_H */
