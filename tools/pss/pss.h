/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pss(1) internals: the options, the captured data and the column model.
 *
 * Every view (show, threads, fds, maps) is one table of struct column. A
 * column's cell function produces a typed value (struct val) once; the
 * table, raw and pairs output, --sort, --list-columns, the view's -J and
 * the snapshot --json document are all derived from that value and the
 * column's name, so a fact has one spelling and one JSON type everywhere.
 */
#ifndef PSS_TOOL_H
#define PSS_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "libpss.h"

#ifndef PSS_TOOL_VERSION
#define PSS_TOOL_VERSION "unknown"
#endif

/* pss snapshot --json: "pss_json_version" */
#define PSS_JSON_VERSION 2

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum {
	EXIT_OK		= 0,
	EXIT_FAIL	= 1,	/* anything else (ENOMEM, EAGAIN, EINVAL, ...) */
	EXIT_USAGE	= 2,	/* bad option, argument or column name */
	EXIT_NOMODULE	= 3,	/* /dev/pss missing: module not loaded */
	EXIT_NOPROC	= 4,	/* no such process */
	EXIT_PERM	= 5,	/* permission denied (or a kernel thread) */
	EXIT_UNSUPP	= 6,	/* the module does not know the request */
	EXIT_BADFILE	= 7,	/* --file: not a pss snapshot, or damaged */
	EXIT_NEWFILE	= 8,	/* --file: written by a newer pss */
	EXIT_TROUBLE	= 9,	/* diff: the failures that are 1 elsewhere */
};

enum view { V_SHOW, V_THREADS, V_FDS, V_MAPS, V_SNAPSHOT, V_DIFF, V_STACK, V_DUMP,
	    V_NR };

struct options {
	const char *output;	/* -o */
	const char *sort;	/* --sort */
	bool output_all;
	bool list_columns;
	bool noheadings;
	bool raw;
	bool json;
	bool pairs;
	bool bytes;
	bool pidfd;		/* --pidfd: pidfd_open() each PID */
	int pidfd_arg;		/* --pidfd=FD: an inherited pidfd, else -1 */
	const char *file;	/* --file: a saved snapshot instead of a PID */
	const char *save;	/* --save: write the capture to this file */
	const char *memory;	/* dump --memory: stacks, writable, all */
	__u32 timeout_ms;	/* stack, dump --timeout: quiesce bound, 0: default */
	bool no_precopy;	/* dump --no-precopy */
};

extern struct options opt;
extern const char *prog;

/* ------------------------------------------------------------ data */

struct rec {
	void *p;		/* a private copy of the record */
	size_t len;
};

struct recs {
	struct rec *v;
	size_t n;
};

struct snapdata {
	pid_t pid;
	struct pss_snapshot_info si;
	struct pss_process_info pi;
	struct pss_perf_info perf;
	bool have_perf;
	bool have_threads, have_fds, have_maps;
	struct recs threads, fds, maps;
	/* thread state (pss stack) */
	bool have_ctx, have_kstacks, have_mem;
	struct recs ctx, kstacks, mem;
	struct recs frames;	/* struct frame: pss stack's rows */
};

/* A record, zero-extended (older kernel) or truncated (newer) to our size. */
#define FIXED(TYPE, VAR, REC)						\
	TYPE VAR;							\
	do {								\
		memset(&VAR, 0, sizeof(VAR));				\
		memcpy(&VAR, (REC)->p, (REC)->len < sizeof(VAR) ?	\
		       (REC)->len : sizeof(VAR));			\
	} while (0)

/* capture.c */
int capture(pid_t pid, int pidfd, __u64 facets, struct snapdata *d);
/* the same with the thread-state options; *snapp keeps the snapshot */
int capture_opts(pid_t pid, int pidfd, struct pss_capture_opts *o,
		 __u64 load, struct snapdata *d, struct pss_snapshot **snapp);
int capture_try_kstacks(pid_t pid, int pidfd, struct pss_capture_opts *o,
			__u64 load, struct snapdata *d, struct pss_snapshot **snapp,
			bool *kstacks);
int snapdata_load(struct pss_snapshot *snap, __u64 facets, struct snapdata *d,
		  const char **what);
void snapdata_free(struct snapdata *d);

/* file.c: saved snapshots */
int file_write_atomic(struct pss_snapshot *snap, const char *path,
		      int (*write)(struct pss_snapshot *, int, unsigned int),
		      bool sync);
int file_save(struct pss_snapshot *snap, const char *path);
int file_load(const char *path, __u64 facets, struct snapdata *d);

/* diff.c */
int diff_main(const char *a, const char *b);

/* stack.c: pss stack's rows, one per frame */
struct frame {
	pid_t tid;
	__u32 park;		/* enum pss_park, or PSS_PARK_NONE */
	bool kernel;
	bool has_pc;
	int n;			/* frame number within its kind */
	__u64 pc;
	__u64 off;		/* pc - function start (has_off) */
	bool has_off;
	__u32 kflags;		/* PSS_KSTACK_* of the thread (kernel rows) */
	char *function;		/* NULL: not symbolised */
	char *symbol;		/* "function+0xoff", or the kernel's line */
	char *module;		/* user: the mapped file; kernel: the module */
};

extern const struct viewdef view_stack;
#define PSS_STACK_FACETS (PSS_FACET_THREADS | PSS_FACET_THREAD_CONTEXT | \
			  PSS_FACET_THREAD_KSTACK | PSS_FACET_MEMORY | \
			  PSS_FACET_VA_SPACE | PSS_FACET_VA_SPACE_SECTION)
/* fill d->frames from d's contexts, kernel stacks, memory and maps */
void stack_unwind(struct snapdata *d);
/* capture for pss stack (stacks copied, threads parked) and unwind */
int stack_capture(pid_t pid, int pidfd, struct snapdata *d);

/* dump.c */
int dump_main(pid_t pid, int pidfd);

/* ------------------------------------------------------------ values */

enum vtype {
	VT_NONE,	/* not captured: empty cell, JSON null */
	VT_INT,		/* i */
	VT_UINT,	/* u */
	VT_SIZE,	/* u bytes: "4K" unless -b; JSON number of bytes */
	VT_SECS,	/* u ns: "1.25" seconds; JSON number of seconds */
	VT_TIME,	/* u ns since the Epoch: as ps START; JSON ISO 8601 */
	VT_OCT,		/* u: "0644"; JSON number */
	VT_HEX,		/* u: "0x7f00"; JSON string (addresses exceed 2^53) */
	VT_BOOL,	/* u: "1"/"0"; JSON true/false */
	VT_STR,		/* s: a byte string; JSON escaping in pss(1) */
	VT_FLAGS,	/* s: "a,b,c"; JSON array of strings */
};

struct val {
	enum vtype t;
	long long i;
	__u64 u;
	const char *s;
	char *dyn;		/* owned storage s may point into */
	char buf[64];		/* short storage s may point into */
};

void val_free(struct val *v);
/* text as the table shows it; NULL for VT_NONE. Uses v->buf or v->dyn. */
const char *val_text(struct val *v);
int val_cmp(const struct val *a, const struct val *b);

/* ------------------------------------------------------------ columns */

/* The JSON type of a column, as --list-columns shows it. */
enum ctype { CT_NUM, CT_STR, CT_BOOL, CT_ARRAY };

struct rowctx {
	const struct snapdata *d;
	const struct rec *r;	/* NULL in show */
};

struct column {
	const char *name;	/* header; lower case: the JSON key */
	double whint;
	int flags;		/* SCOLS_FL_* */
	enum ctype ct;
	const char *help;
	void (*cell)(const struct rowctx *c, struct val *v);
};

struct viewdef {
	const char *name;	/* command */
	const char *table;	/* JSON member holding the rows */
	const struct column *cols;
	size_t ncols;
	const char *const *defcols;
	size_t ndef;
	__u64 facets;
};

extern const struct viewdef view_show, view_threads, view_fds, view_maps;
extern const struct viewdef *const views[V_NR];

/* Value setters for cell functions. */
static inline void v_int(struct val *v, long long x) { v->t = VT_INT; v->i = x; }
static inline void v_uint(struct val *v, __u64 x) { v->t = VT_UINT; v->u = x; }
static inline void v_size(struct val *v, __u64 x) { v->t = VT_SIZE; v->u = x; }
static inline void v_secs(struct val *v, __u64 ns) { v->t = VT_SECS; v->u = ns; }
static inline void v_oct(struct val *v, __u64 x) { v->t = VT_OCT; v->u = x; }
static inline void v_hex(struct val *v, __u64 x) { v->t = VT_HEX; v->u = x; }
static inline void v_bool(struct val *v, bool x) { v->t = VT_BOOL; v->u = x; }
static inline void v_str(struct val *v, const char *s)
{
	if (s) {
		v->t = VT_STR;
		v->s = s;
	}
}

void v_strn(struct val *v, const char *s, size_t max);	/* copies */
void v_dev(struct val *v, __u32 maj, __u32 min);
void v_cpus(struct val *v, const __u64 *w, size_t nwords);
void v_start(struct val *v, const struct snapdata *d, __u64 start_boottime_ns);

struct bitname {
	__u64 bit;
	const char *name;
};

/* VT_FLAGS from a bit table; and an empty list to append to */
void v_bits(struct val *v, __u64 bits, const struct bitname *t, size_t n);
void v_flags_init(struct val *v);
void v_flags_add(struct val *v, const char *name);

/* ------------------------------------------------------------ output */

/* output.c */
int column_by_name(const struct viewdef *v, const char *name, size_t len);
size_t select_columns(const struct viewdef *v, int *ids, size_t max, bool pid_col);
/* the rows of v over the snapshots ds, in --sort order (free() them) */
size_t gather_rows(const struct viewdef *v, struct snapdata *const *ds,
		   size_t nd, struct rowctx **rows);
int print_view(const struct viewdef *v, struct snapdata *const *ds, size_t nd);
int list_columns(int vw);

/* json.c */
struct json {
	FILE *f;
	int depth;
	bool first;		/* no member written yet at this level */
};

void json_string(FILE *f, const char *s, size_t maxlen);
void j_open(struct json *j, const char *key, char c);
void j_close(struct json *j, char c);
void j_key(struct json *j, const char *key);
void j_u64(struct json *j, const char *k, __u64 v);
void j_str(struct json *j, const char *k, const char *s);
void j_val(struct json *j, const char *k, struct val *v);
/* the rows of a view as objects keyed by the columns' JSON keys */
void j_rows(struct json *j, const struct viewdef *v, const int *ids, size_t n,
	    const struct rowctx *rows, size_t nrows);
void json_key_of(const char *name, char *buf, size_t len);

/* snapshot.c */
int print_snapshot_json(struct snapdata *const *ds, size_t nd);

/* util */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void __attribute__((noreturn)) usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t sz);
char *xstrdup(const char *s);

/* fmt.c: names shared by the views */
const char *fmt_size(char *buf, size_t len, __u64 v);
const char *policy_name(__u32 policy);

#endif /* PSS_TOOL_H */
