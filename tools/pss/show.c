// SPDX-License-Identifier: GPL-2.0
/*
 * pss show: one row per process, from the process facet and the counts.
 * Column names are ps's where ps has one.
 */
#include <pwd.h>

#include <libsmartcols.h>

#include "pss.h"

#define P(c)	(&(c)->d->pi)
#define HAS(c, m) (P(c)->mask & PSS_PROC_HAS_##m)

/* a cell of field F guarded by mask group M, through setter S */
#define CELL(NAME, M, S, EXPR)						\
static void NAME(const struct rowctx *c, struct val *v)		\
{									\
	const struct pss_process_info *p = P(c);			\
									\
	(void)p;							\
	if (HAS(c, M))							\
		S(v, EXPR);						\
}

static void c_pid(const struct rowctx *c, struct val *v) { v_int(v, P(c)->pid); }
static void c_nthreads(const struct rowctx *c, struct val *v) { v_uint(v, P(c)->nr_threads); }
CELL(c_ppid, IDS, v_int, p->ppid)
CELL(c_pgid, IDS, v_int, p->pgid)
CELL(c_sid, IDS, v_int, p->sid)
CELL(c_ruid, IDS, v_uint, p->ruid)
CELL(c_euid, IDS, v_uint, p->euid)
CELL(c_suid, IDS, v_uint, p->suid)
CELL(c_fsuid, IDS, v_uint, p->fsuid)
CELL(c_rgid, IDS, v_uint, p->rgid)
CELL(c_egid, IDS, v_uint, p->egid)
CELL(c_sgid, IDS, v_uint, p->sgid)
CELL(c_fsgid, IDS, v_uint, p->fsgid)
CELL(c_vsz, MM, v_size, p->vsize_bytes)
CELL(c_rss, MM, v_size, p->rss_anon_bytes + p->rss_file_bytes + p->rss_shmem_bytes)
CELL(c_rssanon, MM, v_size, p->rss_anon_bytes)
CELL(c_rssfile, MM, v_size, p->rss_file_bytes)
CELL(c_rssshmem, MM, v_size, p->rss_shmem_bytes)
CELL(c_hwm, MM, v_size, p->hiwater_rss_bytes)
CELL(c_vmpeak, MM, v_size, p->hiwater_vm_bytes)
CELL(c_locked, MM, v_size, p->locked_bytes)
CELL(c_pinned, MM, v_size, p->pinned_bytes)
CELL(c_data, MM, v_size, p->data_bytes)
CELL(c_stack, MM, v_size, p->stack_bytes)
/*
 * /proc's own accounting came with PSS_PROCESS_INFO_SIZE_VER1; an older
 * module fills none of it (its tail reads zero), so those cells are empty
 * and the times fall back to the live threads'.
 */
#define VER1(c)	(P(c)->size >= PSS_PROCESS_INFO_SIZE_VER1)
#define CELL1(NAME, M, S, EXPR)						static void NAME(const struct rowctx *c, struct val *v)		{										const struct pss_process_info *p = P(c);													if (HAS(c, M) && VER1(c))							S(v, EXPR);						}

CELL(c_text, MM, v_size, p->exec_bytes)
CELL1(c_vmexe, MM, v_size, p->vm_exe_bytes)
CELL1(c_vmlib, MM, v_size, p->vm_lib_bytes)
CELL(c_utime, TIMES, v_secs, VER1(c) ? p->group_utime_ns : p->utime_ns)
CELL(c_stime, TIMES, v_secs, VER1(c) ? p->group_stime_ns : p->stime_ns)
CELL(c_time, TIMES, v_secs, VER1(c) ? p->group_utime_ns + p->group_stime_ns :
     p->utime_ns + p->stime_ns)
CELL1(c_cutime, TIMES, v_secs, p->children_utime_ns)
CELL1(c_cstime, TIMES, v_secs, p->children_stime_ns)
CELL1(c_cminflt, TIMES, v_uint, p->children_min_flt)
CELL1(c_cmajflt, TIMES, v_uint, p->children_maj_flt)
CELL(c_minflt, TIMES, v_uint, p->min_flt)
CELL(c_majflt, TIMES, v_uint, p->maj_flt)
CELL(c_pri, SCHED, v_int, p->prio)
CELL(c_ni, SCHED, v_int, p->nice)
CELL(c_policy, SCHED, v_str, policy_name(p->policy))
CELL(c_rtprio, SCHED, v_uint, p->rt_priority)
CELL(c_ncpus, AFFINITY, v_uint, p->nr_cpus_allowed)
CELL(c_exit, EXIT, v_int, p->exit_code)

static void c_user(const struct rowctx *c, struct val *v)
{
	struct passwd *pw;

	if (!HAS(c, IDS))
		return;
	pw = getpwuid(P(c)->euid);
	if (pw && pw->pw_name) {
		v_strn(v, pw->pw_name, SIZE_MAX);
	} else {
		v_uint(v, P(c)->euid);
		v_str(v, val_text(v));	/* the id, still a string */
	}
}

static void c_state(const struct rowctx *c, struct val *v)
{
	v->buf[0] = P(c)->state ? P(c)->state : '?';
	v->buf[1] = '\0';
	v_str(v, v->buf);
}

static const struct bitname proc_flag_names[] = {
	{ PSS_PROC_ZOMBIE, "zombie" },	{ PSS_PROC_STOPPED, "stopped" },
	{ PSS_PROC_TRACED, "traced" },	{ PSS_PROC_COMPAT, "compat" },
	{ PSS_PROC_EXITING, "exiting" },
	{ PSS_PROC_LEADER_EXITED, "leader_exited" },
	{ PSS_PROC_SELF, "self" },	{ PSS_PROC_EXE_DELETED, "exe_deleted" },
};

static void c_flags(const struct rowctx *c, struct val *v)
{
	v_bits(v, P(c)->flags, proc_flag_names, ARRAY_SIZE(proc_flag_names));
}

static void c_nfds(const struct rowctx *c, struct val *v)
{
	if (c->d->si.facets & PSS_FACET_HANDLES)
		v_uint(v, c->d->si.nr_handles);
}

static void c_nmaps(const struct rowctx *c, struct val *v)
{
	if (c->d->si.facets & PSS_FACET_VA_SPACE)
		v_uint(v, c->d->si.nr_vmas);
}

static void c_start(const struct rowctx *c, struct val *v)
{
	if (HAS(c, TIMES))
		v_start(v, c->d, P(c)->start_boottime_ns);
}

static void c_cpus(const struct rowctx *c, struct val *v)
{
	if (HAS(c, AFFINITY))
		v_cpus(v, P(c)->cpus_allowed, ARRAY_SIZE(P(c)->cpus_allowed));
}

static void c_comm(const struct rowctx *c, struct val *v)
{
	v_strn(v, P(c)->comm, PSS_COMM_LEN);
}

static void c_exe(const struct rowctx *c, struct val *v)
{
	if (HAS(c, EXE))
		v_strn(v, P(c)->exe_path, PSS_PATH_MAX);
}

/* lsof's cwd and rtd: fixed at the cut, named as readlink(/proc/PID/cwd) */
static void c_cwd(const struct rowctx *c, struct val *v)
{
	if (HAS(c, FS))
		v_strn(v, P(c)->cwd_path, PSS_PATH_MAX);
}

static void c_root(const struct rowctx *c, struct val *v)
{
	if (HAS(c, FS))
		v_strn(v, P(c)->root_path, PSS_PATH_MAX);
}

#define R SCOLS_FL_RIGHT

static const struct column show_cols[] = {
	{ "PID", 5, R, CT_NUM, "process id", c_pid },
	{ "PPID", 5, R, CT_NUM, "parent process id", c_ppid },
	{ "PGID", 5, R, CT_NUM, "process group id", c_pgid },
	{ "SID", 5, R, CT_NUM, "session id", c_sid },
	{ "USER", 8, 0, CT_STR, "effective user name (the id if it has no name)", c_user },
	{ "RUID", 5, R, CT_NUM, "real user id", c_ruid },
	{ "EUID", 5, R, CT_NUM, "effective user id", c_euid },
	{ "SUID", 5, R, CT_NUM, "saved user id", c_suid },
	{ "FSUID", 5, R, CT_NUM, "filesystem user id", c_fsuid },
	{ "RGID", 5, R, CT_NUM, "real group id", c_rgid },
	{ "EGID", 5, R, CT_NUM, "effective group id", c_egid },
	{ "SGID", 5, R, CT_NUM, "saved group id", c_sgid },
	{ "FSGID", 5, R, CT_NUM, "filesystem group id", c_fsgid },
	{ "STATE", 1, 0, CT_STR, "state letter of the leader (R, S, D, T, Z, ...)", c_state },
	{ "FLAGS", 6, 0, CT_ARRAY, "zombie, stopped, traced, compat, exiting, leader_exited, self, exe_deleted", c_flags },
	{ "THREADS", 3, R, CT_NUM, "live threads at the cut", c_nthreads },
	{ "FDS", 3, R, CT_NUM, "open file descriptors at the cut", c_nfds },
	{ "MAPS", 3, R, CT_NUM, "memory mappings (VMAs) at the cut", c_nmaps },
	{ "VSZ", 6, R, CT_NUM, "virtual memory size", c_vsz },
	{ "RSS", 6, R, CT_NUM, "resident set size (anon + file + shmem)", c_rss },
	{ "RSS-ANON", 6, R, CT_NUM, "resident anonymous memory", c_rssanon },
	{ "RSS-FILE", 6, R, CT_NUM, "resident file-backed memory", c_rssfile },
	{ "RSS-SHMEM", 6, R, CT_NUM, "resident shared memory", c_rssshmem },
	{ "RSS-PEAK", 6, R, CT_NUM, "peak resident set size", c_hwm },
	{ "VSZ-PEAK", 6, R, CT_NUM, "peak virtual memory size", c_vmpeak },
	{ "LOCKED", 6, R, CT_NUM, "mlocked memory", c_locked },
	{ "PINNED", 6, R, CT_NUM, "pinned memory", c_pinned },
	{ "DATA", 6, R, CT_NUM, "data + anonymous memory size", c_data },
	{ "STACK", 6, R, CT_NUM, "stack size", c_stack },
	{ "TEXT", 6, R, CT_NUM, "executable mappings size (VmExe + VmLib)", c_text },
	{ "VMEXE", 6, R, CT_NUM, "program text size (/proc VmExe)", c_vmexe },
	{ "VMLIB", 6, R, CT_NUM, "other executable mappings (/proc VmLib)", c_vmlib },
	{ "START", 6, R, CT_STR, "start time on the wall clock (as ps; JSON: ISO 8601, UTC)", c_start },
	{ "UTIME", 6, R, CT_NUM, "user cpu time of every thread, live and reaped, seconds (as ps)", c_utime },
	{ "STIME", 6, R, CT_NUM, "system cpu time of every thread, live and reaped, seconds", c_stime },
	{ "TIME", 6, R, CT_NUM, "user + system cpu time of every thread, live and reaped, seconds", c_time },
	{ "CUTIME", 6, R, CT_NUM, "user cpu time of waited-for children, seconds", c_cutime },
	{ "CSTIME", 6, R, CT_NUM, "system cpu time of waited-for children, seconds", c_cstime },
	{ "MINFLT", 6, R, CT_NUM, "minor page faults", c_minflt },
	{ "MAJFLT", 6, R, CT_NUM, "major page faults", c_majflt },
	{ "CMINFLT", 6, R, CT_NUM, "minor page faults of waited-for children", c_cminflt },
	{ "CMAJFLT", 6, R, CT_NUM, "major page faults of waited-for children", c_cmajflt },
	{ "PRI", 3, R, CT_NUM, "kernel priority (as /proc/PID/stat)", c_pri },
	{ "NI", 3, R, CT_NUM, "nice value", c_ni },
	{ "POLICY", 5, 0, CT_STR, "scheduling policy", c_policy },
	{ "RTPRIO", 3, R, CT_NUM, "real-time priority", c_rtprio },
	{ "AFFINITY", 5, 0, CT_STR, "cpus the leader may run on, as a list (0-3,8)", c_cpus },
	{ "NCPUS", 3, R, CT_NUM, "number of cpus in the affinity", c_ncpus },
	{ "EXIT", 4, R, CT_NUM, "exit code (zombies)", c_exit },
	{ "COMM", 10, 0, CT_STR, "command name", c_comm },
	{ "EXE", 20, 0, CT_STR, "executable path", c_exe },
	{ "CWD", 20, 0, CT_STR, "working directory (lsof's cwd)", c_cwd },
	{ "ROOT", 10, 0, CT_STR, "root directory (lsof's rtd)", c_root },
};

static const char *const show_default[] = {
	"PID", "PPID", "USER", "STATE", "THREADS", "FDS", "MAPS", "VSZ", "RSS",
	"TIME", "COMM", "EXE",
};

const struct viewdef view_show = {
	.name = "show", .table = "processes",
	.cols = show_cols, .ncols = ARRAY_SIZE(show_cols),
	.defcols = show_default, .ndef = ARRAY_SIZE(show_default),
	/* HANDLE_NAME: the directories are taken with the fd table's names */
	.facets = PSS_FACET_THREADS | PSS_FACET_HANDLES |
		  PSS_FACET_HANDLE_NAME | PSS_FACET_VA_SPACE,
};
