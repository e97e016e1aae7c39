// SPDX-License-Identifier: GPL-2.0
/*
 * pss diff A B: what changed between two snapshots of a process. Threads are
 * matched by tid, fds by number, mappings by start address; each is added,
 * removed, or changed field by field. Counters that move on their own
 * (times, faults, context switches) are not compared.
 *
 * Exit status as diff(1): 0 equal, 1 different; a failure keeps the code it
 * has in the other commands, except "other failure" (1), which is 9 here.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pss.h"

#define DIFF_FACETS	(PSS_FACET_THREADS | PSS_FACET_HANDLES |	\
			 PSS_FACET_HANDLE_NAME | PSS_FACET_HANDLE_BASIC | \
			 PSS_FACET_VA_SPACE | PSS_FACET_VA_SPACE_SECTION)

struct change {
	const char *kind;	/* "thread", "fd", "map" */
	__u64 id;		/* tid, fd, start */
	const char *what;	/* "added", "removed", "changed" */
	const char *field;	/* changed only */
	char *old, *new;
};

static struct change *chg;
static size_t nchg, capchg;

static void add(const char *kind, __u64 id, const char *what,
		const char *field, const char *old, const char *new)
{
	struct change *c;

	if (nchg == capchg) {
		capchg = capchg ? capchg * 2 : 32;
		chg = xrealloc(chg, capchg * sizeof(*chg));
	}
	c = &chg[nchg++];
	c->kind = kind;
	c->id = id;
	c->what = what;
	c->field = field;
	c->old = old ? xstrdup(old) : NULL;
	c->new = new ? xstrdup(new) : NULL;
}

static void cmp_str(const char *kind, __u64 id, const char *field,
		    const char *a, const char *b)
{
	a = a ? a : "";
	b = b ? b : "";
	if (strcmp(a, b))
		add(kind, id, "changed", field, a, b);
}

static void cmp_num(const char *kind, __u64 id, const char *field,
		    const char *fmt, __u64 a, __u64 b)
{
	char sa[32], sb[32];

	if (a == b)
		return;
	snprintf(sa, sizeof(sa), fmt, a);
	snprintf(sb, sizeof(sb), fmt, b);
	add(kind, id, "changed", field, sa, sb);
}

static void cmp_snum(const char *kind, __u64 id, const char *field,
		     long long a, long long b)
{
	char sa[32], sb[32];

	if (a == b)
		return;
	snprintf(sa, sizeof(sa), "%lld", a);
	snprintf(sb, sizeof(sb), "%lld", b);
	add(kind, id, "changed", field, sa, sb);
}

/* ------------------------------------------------------------ matching */

typedef __u64 (*key_fn)(const struct rec *r);
typedef void (*cmp_fn)(__u64 id, const struct rec *a, const struct rec *b);

static key_fn sort_key;

static int by_key(const void *x, const void *y)
{
	__u64 a = sort_key(*(const struct rec *const *)x);
	__u64 b = sort_key(*(const struct rec *const *)y);

	return a < b ? -1 : a > b;
}

static const struct rec **sorted(const struct recs *r, key_fn key)
{
	const struct rec **v = xcalloc(r->n + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < r->n; i++)
		v[i] = &r->v[i];
	sort_key = key;
	qsort(v, r->n, sizeof(*v), by_key);
	return v;
}

/* A merge of the two sorted lists. */
static void match(const char *kind, const struct recs *a, const struct recs *b,
		  key_fn key, cmp_fn cmp)
{
	const struct rec **va = sorted(a, key), **vb = sorted(b, key);
	size_t i = 0, j = 0;

	while (i < a->n || j < b->n) {
		__u64 ka = i < a->n ? key(va[i]) : 0;
		__u64 kb = j < b->n ? key(vb[j]) : 0;

		if (j == b->n || (i < a->n && ka < kb)) {
			add(kind, ka, "removed", NULL, NULL, NULL);
			i++;
		} else if (i == a->n || kb < ka) {
			add(kind, kb, "added", NULL, NULL, NULL);
			j++;
		} else {
			cmp(ka, va[i++], vb[j++]);
		}
	}
	free(va);
	free(vb);
}

/* ------------------------------------------------------------ threads */

static __u64 thread_key(const struct rec *r)
{
	FIXED(struct pss_thread_entry, e, r);
	return (__u64)(__u32)e.tid;
}

static void thread_cmp(__u64 id, const struct rec *ra, const struct rec *rb)
{
	FIXED(struct pss_thread_entry, a, ra);
	FIXED(struct pss_thread_entry, b, rb);
	char sa[2] = { a.state, 0 }, sb[2] = { b.state, 0 };
	char ca[PSS_COMM_LEN + 1] = "", cb[PSS_COMM_LEN + 1] = "";

	memcpy(ca, a.comm, PSS_COMM_LEN);
	memcpy(cb, b.comm, PSS_COMM_LEN);
	cmp_str("thread", id, "state", sa, sb);
	cmp_str("thread", id, "comm", ca, cb);
	/* who captured is not a property of the thread */
	cmp_num("thread", id, "flags", "0x%" PRIx64,
		a.flags & ~PSS_THREAD_CALLER, b.flags & ~PSS_THREAD_CALLER);
	cmp_snum("thread", id, "cpu", a.cpu, b.cpu);
	cmp_snum("thread", id, "prio", a.prio, b.prio);
	cmp_snum("thread", id, "nice", a.nice, b.nice);
	cmp_num("thread", id, "policy", "%" PRIu64, a.policy, b.policy);
	cmp_num("thread", id, "rt_priority", "%" PRIu64, a.rt_priority,
		b.rt_priority);
}

/* ------------------------------------------------------------ fds */

static __u64 fd_key(const struct rec *r)
{
	FIXED(struct pss_handle_entry, e, r);
	return (__u64)(__u32)e.fd;
}

static void fd_cmp(__u64 id, const struct rec *ra, const struct rec *rb)
{
	FIXED(struct pss_handle_entry, a, ra);
	FIXED(struct pss_handle_entry, b, rb);

	cmp_str("fd", id, "name", pss_handle_entry_name(ra->p),
		pss_handle_entry_name(rb->p));
	cmp_str("fd", id, "type", pss_handle_type_name(a.type),
		pss_handle_type_name(b.type));
	cmp_num("fd", id, "flags", "0%" PRIo64, a.open_flags, b.open_flags);
	cmp_num("fd", id, "cloexec", "%" PRIu64,
		!!(a.flags & PSS_HANDLE_CLOEXEC), !!(b.flags & PSS_HANDLE_CLOEXEC));
	cmp_num("fd", id, "pos", "%" PRIu64, a.pos, b.pos);
	cmp_num("fd", id, "dev", "0x%" PRIx64,
		((__u64)a.dev_major << 32) | a.dev_minor,
		((__u64)b.dev_major << 32) | b.dev_minor);
	cmp_num("fd", id, "inode", "%" PRIu64, a.ino, b.ino);
}

/* ------------------------------------------------------------ maps */

static __u64 map_key(const struct rec *r)
{
	FIXED(struct pss_vma_entry, e, r);
	return e.start;
}

static void perms(char *s, const struct pss_vma_entry *e)
{
	s[0] = e->prot & PSS_PROT_READ ? 'r' : '-';
	s[1] = e->prot & PSS_PROT_WRITE ? 'w' : '-';
	s[2] = e->prot & PSS_PROT_EXEC ? 'x' : '-';
	s[3] = e->flags & PSS_VMA_MAYSHARE ? 's' : 'p';
	s[4] = '\0';
}

static void map_cmp(__u64 id, const struct rec *ra, const struct rec *rb)
{
	FIXED(struct pss_vma_entry, a, ra);
	FIXED(struct pss_vma_entry, b, rb);
	char pa[5], pb[5];

	perms(pa, &a);
	perms(pb, &b);
	cmp_num("map", id, "end", "0x%" PRIx64, a.end, b.end);
	cmp_str("map", id, "perms", pa, pb);
	cmp_str("map", id, "name", pss_vma_entry_name(ra->p),
		pss_vma_entry_name(rb->p));
	cmp_num("map", id, "offset", "0x%" PRIx64, a.pgoff_bytes, b.pgoff_bytes);
	cmp_num("map", id, "inode", "%" PRIu64, a.ino, b.ino);
}

/* ------------------------------------------------------------ main */

static bool is_pid(const char *s)
{
	if (!strcmp(s, "self"))
		return true;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* A saved file, or one capture of a live PID. */
static int load(const char *arg, struct snapdata *d)
{
	int r;

	if (is_pid(arg)) {
		long v = strcmp(arg, "self") ? strtol(arg, NULL, 10) : (long)getpid();

		if (v <= 0 || v > INT32_MAX)
			usage_error("invalid PID '%s'", arg);
		r = capture((pid_t)v, -1, DIFF_FACETS, d);
	} else {
		r = file_load(arg, DIFF_FACETS, d);
	}
	return r == EXIT_FAIL ? EXIT_TROUBLE : r;
}

static void id_text(char *buf, size_t len, const struct change *c)
{
	if (!strcmp(c->kind, "map"))
		snprintf(buf, len, "0x%" PRIx64, (uint64_t)c->id);
	else
		snprintf(buf, len, "%" PRIu64, (uint64_t)c->id);
}

static void print_table(void)
{
	char id[32];
	size_t i;

	if (!opt.noheadings && nchg)
		printf("%-7s %-18s %-8s %-12s %s\n", "KIND", "ID", "CHANGE",
		       "FIELD", "OLD -> NEW");
	for (i = 0; i < nchg; i++) {
		const struct change *c = &chg[i];

		id_text(id, sizeof(id), c);
		if (c->field)
			printf("%-7s %-18s %-8s %-12s %s -> %s\n", c->kind, id,
			       c->what, c->field, c->old, c->new);
		else
			printf("%-7s %-18s %s\n", c->kind, id, c->what);
	}
}

static void print_json(const char *a, const char *b)
{
	struct json j = { .f = stdout, .depth = 0, .first = true };
	char id[32];
	size_t i;

	j_open(&j, NULL, '{');
	j_u64(&j, "pss_json_version", PSS_JSON_VERSION);
	j_str(&j, "a", a);
	j_str(&j, "b", b);
	j_open(&j, "changes", '[');
	for (i = 0; i < nchg; i++) {
		const struct change *c = &chg[i];

		j_open(&j, NULL, '{');
		j_str(&j, "kind", c->kind);
		if (!strcmp(c->kind, "map")) {
			/* addresses exceed 2^53: a string, as in maps -J */
			id_text(id, sizeof(id), c);
			j_str(&j, "id", id);
		} else {
			j_u64(&j, "id", c->id);
		}
		j_str(&j, "change", c->what);
		if (c->field) {
			j_str(&j, "field", c->field);
			j_str(&j, "old", c->old);
			j_str(&j, "new", c->new);
		}
		j_close(&j, '}');
	}
	j_close(&j, ']');
	j_close(&j, '}');
	fputc('\n', stdout);
}

int diff_main(const char *a, const char *b)
{
	struct snapdata da, db;
	int r;
	size_t i;

	r = load(a, &da);
	if (r != EXIT_OK)
		return r;
	r = load(b, &db);
	if (r != EXIT_OK) {
		snapdata_free(&da);
		return r;
	}
	match("thread", &da.threads, &db.threads, thread_key, thread_cmp);
	match("fd", &da.fds, &db.fds, fd_key, fd_cmp);
	match("map", &da.maps, &db.maps, map_key, map_cmp);
	if (opt.json)
		print_json(a, b);
	else
		print_table();
	r = nchg ? 1 : EXIT_OK;
	for (i = 0; i < nchg; i++) {
		free(chg[i].old);
		free(chg[i].new);
	}
	free(chg);
	snapdata_free(&da);
	snapdata_free(&db);
	return r;
}
