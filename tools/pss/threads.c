// SPDX-License-Identifier: GPL-2.0
/*
 * pss threads: one row per live thread at the cut, like ps -L.
 */
#include <libsmartcols.h>

#include "pss.h"

#define T(c, VAR) FIXED(struct pss_thread_entry, VAR, (c)->r)

#define CELL(NAME, S, EXPR)						\
static void NAME(const struct rowctx *c, struct val *v)		\
{									\
	T(c, t);							\
	S(v, EXPR);							\
}

CELL(c_tid, v_int, t.tid)
CELL(c_psr, v_int, t.cpu)
CELL(c_utime, v_secs, t.utime_ns)
CELL(c_stime, v_secs, t.stime_ns)
CELL(c_time, v_secs, t.utime_ns + t.stime_ns)
CELL(c_pri, v_int, t.prio)
CELL(c_ni, v_int, t.nice)
CELL(c_policy, v_str, policy_name(t.policy))
CELL(c_rtprio, v_uint, t.rt_priority)
CELL(c_nvcsw, v_uint, t.nvcsw)
CELL(c_nivcsw, v_uint, t.nivcsw)
CELL(c_minflt, v_uint, t.min_flt)
CELL(c_majflt, v_uint, t.maj_flt)

static void c_pid(const struct rowctx *c, struct val *v)
{
	v_int(v, c->d->pid);
}

static void c_comm(const struct rowctx *c, struct val *v)
{
	T(c, t);
	v_strn(v, t.comm, PSS_COMM_LEN);
}

static void c_state(const struct rowctx *c, struct val *v)
{
	T(c, t);
	v->buf[0] = t.state ? t.state : '?';
	v->buf[1] = '\0';
	v_str(v, v->buf);
}

static void c_start(const struct rowctx *c, struct val *v)
{
	T(c, t);
	v_start(v, c->d, t.start_boottime_ns);
}

static void c_affinity(const struct rowctx *c, struct val *v)
{
	const __u64 *cpus;
	size_t nw;

	cpus = pss_thread_entry_cpus(c->r->p, &nw);
	if (cpus)
		v_cpus(v, cpus, nw);
}

static const struct bitname thread_flag_names[] = {
	{ PSS_THREAD_LEADER, "leader" },   { PSS_THREAD_EXITING, "exiting" },
	{ PSS_THREAD_STOPPED, "stopped" }, { PSS_THREAD_TRACED, "traced" },
	{ PSS_THREAD_CALLER, "caller" },
};

static void c_flags(const struct rowctx *c, struct val *v)
{
	T(c, t);
	v_bits(v, t.flags, thread_flag_names, ARRAY_SIZE(thread_flag_names));
}

#define R SCOLS_FL_RIGHT

static const struct column thread_cols[] = {
	{ "PID", 5, R, CT_NUM, "process id", c_pid },
	{ "TID", 5, R, CT_NUM, "thread id", c_tid },
	{ "COMM", 10, 0, CT_STR, "thread name", c_comm },
	{ "STATE", 1, 0, CT_STR, "state letter (R, S, D, T, Z, ...)", c_state },
	{ "PSR", 3, R, CT_NUM, "processor it last ran on (ps's PSR)", c_psr },
	{ "UTIME", 6, R, CT_NUM, "user cpu time, seconds", c_utime },
	{ "STIME", 6, R, CT_NUM, "system cpu time, seconds", c_stime },
	{ "TIME", 6, R, CT_NUM, "user + system cpu time, seconds", c_time },
	{ "START", 6, R, CT_STR, "start time on the wall clock (as ps; JSON: ISO 8601, UTC)", c_start },
	{ "PRI", 3, R, CT_NUM, "kernel priority", c_pri },
	{ "NI", 3, R, CT_NUM, "nice value", c_ni },
	{ "POLICY", 5, 0, CT_STR, "scheduling policy", c_policy },
	{ "RTPRIO", 3, R, CT_NUM, "real-time priority", c_rtprio },
	{ "NVCSW", 5, R, CT_NUM, "voluntary context switches", c_nvcsw },
	{ "NIVCSW", 5, R, CT_NUM, "involuntary context switches", c_nivcsw },
	{ "MINFLT", 5, R, CT_NUM, "minor page faults", c_minflt },
	{ "MAJFLT", 5, R, CT_NUM, "major page faults", c_majflt },
	{ "AFFINITY", 5, 0, CT_STR, "cpus the thread may run on, as a list (0-3,8)", c_affinity },
	{ "FLAGS", 6, 0, CT_ARRAY, "leader, exiting, stopped, traced, caller", c_flags },
};

static const char *const thread_default[] = {
	"TID", "COMM", "STATE", "PSR", "TIME", "PRI", "NI", "POLICY", "NVCSW",
	"NIVCSW", "AFFINITY", "FLAGS",
};

const struct viewdef view_threads = {
	.name = "threads", .table = "threads",
	.cols = thread_cols, .ncols = ARRAY_SIZE(thread_cols),
	.defcols = thread_default, .ndef = ARRAY_SIZE(thread_default),
	.facets = PSS_FACET_THREADS,
};
