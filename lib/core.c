// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libpss: saved snapshot files. The writer turns a snapshot (live or read
 * back) into an ELF core with pss's notes; the reader checks such a file
 * completely, keeps its parts in memory and answers PSS_IOC_QUERY and
 * PSS_IOC_WALK for them with the module's own semantics, so everything
 * above pss_query() and the walk markers cannot tell the two apart.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

#include "internal.h"

#define NOTE_ALIGN(x)	(((x) + 3) & ~(size_t)3)
#define MAX_FILE	(1UL << 30)
#define PAGE_SZ		4096	/* x86-64: NT_FILE offsets are in these */
#define REC_ALIGN8(x)	(((x) + PSS_REC_ALIGN - 1) & ~(size_t)(PSS_REC_ALIGN - 1))

struct file_class {
	bool have;
	unsigned char *recs;	/* the records, back to back, 8-aligned */
	size_t bytes;
	__u64 count;
	__u64 max_rec;
	size_t *off;		/* off[i]: record i; off[count] == bytes */
};

/* Record i of a class, zero-extended or truncated to TYPE. */
#define FIXED_REC(TYPE, VAR, CLS, I)					\
	TYPE VAR;							\
	do {								\
		size_t __l = (CLS)->off[(I) + 1] - (CLS)->off[I];	\
									\
		memset(&VAR, 0, sizeof(VAR));				\
		memcpy(&VAR, (CLS)->recs + (CLS)->off[I],		\
		       __l < sizeof(VAR) ? __l : sizeof(VAR));		\
	} while (0)

struct libpss_file {
	int refs;
	void *info, *proc, *perf, *auxv;
	size_t info_len, proc_len, perf_len, auxv_len;
	struct file_class cls[PSS_WALK_NR_CLASSES];
};

/* --------------------------------------------------------- in memory */

struct libpss_file *libpss__file_get(struct libpss_file *f)
{
	__atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
	return f;
}

static void file_free(struct libpss_file *f)
{
	int i;

	free(f->info);
	free(f->proc);
	free(f->perf);
	free(f->auxv);
	for (i = 0; i < PSS_WALK_NR_CLASSES; i++) {
		free(f->cls[i].recs);
		free(f->cls[i].off);
	}
	free(f);
}

void libpss__file_put(struct libpss_file *f)
{
	if (__atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) == 0)
		file_free(f);
}

static size_t query_min(__u32 qc)
{
	switch (qc) {
	case PSS_QUERY_SNAPSHOT:
		return PSS_SNAPSHOT_INFO_SIZE_VER0;
	case PSS_QUERY_PROCESS:
		return PSS_PROCESS_INFO_SIZE_VER0;
	case PSS_QUERY_THREADS:
	case PSS_QUERY_HANDLES:
	case PSS_QUERY_VA_SPACE:
	case PSS_QUERY_CONTEXTS:
	case PSS_QUERY_KSTACKS:
	case PSS_QUERY_MEMORY:
		return PSS_COUNT_INFO_SIZE_VER0;
	case PSS_QUERY_PERFORMANCE:
		return PSS_PERF_INFO_SIZE_VER0;
	case PSS_QUERY_AUXV:
		return PSS_AUXV_INFO_SIZE_VER0;
	default:
		return 0;
	}
}

/* The walk class a count query describes. */
static __u32 query_walk(__u32 qc)
{
	switch (qc) {
	case PSS_QUERY_THREADS:
		return PSS_WALK_THREADS;
	case PSS_QUERY_HANDLES:
		return PSS_WALK_HANDLES;
	case PSS_QUERY_VA_SPACE:
		return PSS_WALK_VA_SPACE;
	case PSS_QUERY_CONTEXTS:
		return PSS_WALK_CONTEXTS;
	case PSS_QUERY_KSTACKS:
		return PSS_WALK_KSTACKS;
	default:
		return PSS_WALK_MEMORY;
	}
}

/* min(len, have) bytes, the caller's tail zeroed: the module's rule */
static void copy_sized(void *buf, size_t len, const void *src, size_t have)
{
	size_t n = len < have ? len : have;

	memcpy(buf, src, n);
	memset((char *)buf + n, 0, len - n);
}

int libpss__file_query(struct libpss_file *f, __u32 qc, void *buf, size_t len)
{
	struct pss_count_info ci;
	const struct file_class *c;
	size_t min = query_min(qc);

	if (!buf || !min || len < min || len > UINT32_MAX)
		return -EINVAL;
	switch (qc) {
	case PSS_QUERY_SNAPSHOT:
		copy_sized(buf, len, f->info, f->info_len);
		return 0;
	case PSS_QUERY_PROCESS:
		copy_sized(buf, len, f->proc, f->proc_len);
		return 0;
	case PSS_QUERY_PERFORMANCE:
		if (!f->perf)
			return -ENODATA;
		copy_sized(buf, len, f->perf, f->perf_len);
		return 0;
	case PSS_QUERY_AUXV:
		if (!f->auxv)
			return -ENODATA;
		copy_sized(buf, len, f->auxv, f->auxv_len);
		return 0;
	default:
		c = &f->cls[query_walk(qc)];
		if (!c->have)
			return -ENODATA;
		memset(&ci, 0, sizeof(ci));
		ci.size = sizeof(ci);
		ci.count = c->count;
		ci.bytes = c->bytes;
		ci.max_rec_len = c->max_rec;
		copy_sized(buf, len, &ci, sizeof(ci));
		return 0;
	}
}

int libpss__file_walk(struct libpss_file *f, struct pss_walk_args *a)
{
	const struct file_class *c;
	__u64 pos, end;
	size_t room;

	if (a->walk_class >= PSS_WALK_NR_CLASSES || a->flags)
		return -EINVAL;
	c = &f->cls[a->walk_class];
	if (!c->have)
		return -ENODATA;
	a->total = c->count;
	a->out_flags = 0;
	a->count = 0;
	a->bytes_written = 0;
	pos = a->pos;
	if (pos > c->count)
		return -ERANGE;
	/* as many whole records as fit, at least the one at pos or ENOSPC */
	room = a->buf_len;
	for (end = pos; end < c->count; end++)
		if (c->off[end + 1] - c->off[pos] > room)
			break;
	if (end == pos && pos < c->count) {
		a->next_len = (__u32)(c->off[pos + 1] - c->off[pos]);
		return -ENOSPC;
	}
	memcpy((void *)(uintptr_t)a->buf, c->recs + c->off[pos],
	       c->off[end] - c->off[pos]);
	a->bytes_written = c->off[end] - c->off[pos];
	a->count = (__u32)(end - pos);
	a->pos = end;
	a->next_len = end < c->count ?
		(__u32)(c->off[end + 1] - c->off[end]) : 0;
	if (end == c->count)
		a->out_flags |= PSS_WALK_END;
	return 0;
}

/* --------------------------------------------------------- writer */

struct buf {
	unsigned char *p;
	size_t len, cap;
	int err;
};

static void *buf_room(struct buf *b, size_t n)
{
	void *r;

	if (b->err)
		return NULL;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *np;

		while (cap - b->len < n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->p = np;
		b->cap = cap;
	}
	r = b->p + b->len;
	memset(r, 0, n);
	b->len += n;
	return r;
}

static void buf_add(struct buf *b, const void *data, size_t n)
{
	void *p = buf_room(b, n);

	if (p && n)
		memcpy(p, data, n);
}

/* One note: header, name and descriptor, each padded to 4 bytes. */
static void note_add(struct buf *b, const char *name, __u32 type,
		     const void *desc, size_t len)
{
	Elf64_Nhdr nh;
	size_t nl = strlen(name) + 1;

	if (len > UINT32_MAX) {
		b->err = -EFBIG;
		return;
	}
	nh.n_namesz = (Elf64_Word)nl;
	nh.n_descsz = (Elf64_Word)len;
	nh.n_type = type;
	buf_add(b, &nh, sizeof(nh));
	buf_add(b, name, nl);
	buf_room(b, NOTE_ALIGN(nl) - nl);
	buf_add(b, desc, len);
	buf_room(b, NOTE_ALIGN(len) - len);
}

/* As fill_psinfo() in fs/binfmt_elf.c, from what the snapshot has. */
static void note_prpsinfo(struct buf *b, const struct pss_process_info *pi)
{
	static const char states[] = "RSDTZW";
	struct elf_prpsinfo ps;
	const char *s;

	memset(&ps, 0, sizeof(ps));
	s = pi->state ? strchr(states, pi->state) : NULL;
	ps.pr_state = s ? (char)(s - states) : 0;
	ps.pr_sname = s ? pi->state : '.';
	ps.pr_zomb = pi->state == 'Z';
	ps.pr_nice = (char)pi->nice;
	ps.pr_uid = pi->ruid;
	ps.pr_gid = pi->rgid;
	ps.pr_pid = pi->pid;
	ps.pr_ppid = pi->ppid;
	ps.pr_pgrp = pi->pgid;
	ps.pr_sid = pi->sid;
	memcpy(ps.pr_fname, pi->comm, sizeof(ps.pr_fname));
	/* the command line is not captured: the exe path stands in for it */
	memcpy(ps.pr_psargs, pi->exe_path,
	       strnlen(pi->exe_path, sizeof(ps.pr_psargs) - 1));
	note_add(b, "CORE", NT_PRPSINFO, &ps, sizeof(ps));
}

/* As fill_files_note(): every file-backed mapping, pgoff in pages. */
static void note_files(struct buf *b, const struct file_class *c)
{
	struct buf d = { 0 };
	size_t names = 0;
	__u64 i, n = 0, hdr[2];
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < c->count; i++) {
			const struct pss_vma_entry *v =
				(const void *)(c->recs + c->off[i]);
			const char *name = pss_vma_entry_name(v);
			__u64 t[3];

			if (v->name_kind != PSS_VMA_NAME_FILE || !name)
				continue;
			if (pass == 0) {
				t[0] = v->start;
				t[1] = v->end;
				t[2] = v->pgoff_bytes / PAGE_SZ;
				buf_add(&d, t, sizeof(t));
				n++;
			} else {
				buf_add(&d, name, strlen(name) + 1);
				names++;
			}
		}
	}
	hdr[0] = n;
	hdr[1] = PAGE_SZ;
	if (!d.err && n) {
		struct buf all = { 0 };

		buf_add(&all, hdr, sizeof(hdr));
		buf_add(&all, d.p, d.len);
		if (!all.err)
			note_add(b, "CORE", NT_FILE, all.p, all.len);
		else
			b->err = all.err;
		free(all.p);
	} else if (d.err) {
		b->err = d.err;
	}
	free(d.p);
}

static int collect(struct pss_snapshot *snap, __u32 wc, struct file_class *c)
{
	struct pss_walk_marker *m;
	struct buf b = { 0 };
	size_t cap = 0;
	const void *e;
	size_t len;
	int ret;

	ret = pss_walk_marker_create(snap, wc, NULL, &m);
	/* not captured, or (EINVAL) a class older modules do not have */
	if (ret == -ENODATA || (ret == -EINVAL && wc >= PSS_WALK_CONTEXTS))
		return 0;
	if (ret < 0)
		return ret;
	c->have = true;
	c->off = malloc(sizeof(*c->off));
	cap = 1;
	if (!c->off) {
		pss_walk_marker_free(m);
		return -ENOMEM;
	}
	while ((ret = pss_walk(m, &e, &len)) == 1) {
		if (c->count + 1 >= cap) {
			size_t *no;

			cap = cap ? cap * 2 : 64;
			no = realloc(c->off, cap * sizeof(*no));
			if (!no) {
				ret = -ENOMEM;
				break;
			}
			c->off = no;
		}
		c->off[c->count++] = b.len;
		buf_add(&b, e, len);
		if (len > c->max_rec)
			c->max_rec = len;
	}
	pss_walk_marker_free(m);
	if (!ret && b.err)
		ret = b.err;
	if (!ret)
		c->off[c->count] = b.len;
	c->recs = b.p;
	c->bytes = b.len;
	return ret;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* What both writers take from the snapshot. */
struct gathered {
	struct pss_snapshot_info si;
	struct pss_process_info pi;
	struct pss_perf_info perf;
	struct pss_auxv_info auxv;
	bool have_perf, have_auxv;
	struct file_class cls[PSS_WALK_NR_CLASSES];
};

static void gathered_free(struct gathered *g)
{
	int i;

	for (i = 0; i < PSS_WALK_NR_CLASSES; i++) {
		free(g->cls[i].recs);
		free(g->cls[i].off);
	}
}

/* Queries, and every walk class but skip (-1: none). */
static int gather(struct pss_snapshot *snap, struct gathered *g, int skip)
{
	int i, err;

	memset(g, 0, sizeof(*g));
	err = pss_query(snap, PSS_QUERY_SNAPSHOT, &g->si, sizeof(g->si));
	if (!err)
		err = pss_query(snap, PSS_QUERY_PROCESS, &g->pi, sizeof(g->pi));
	if (err)
		return err;
	err = pss_query(snap, PSS_QUERY_PERFORMANCE, &g->perf, sizeof(g->perf));
	if (err && err != -ENODATA)
		return err;
	g->have_perf = !err;
	err = pss_query(snap, PSS_QUERY_AUXV, &g->auxv, sizeof(g->auxv));
	/* EINVAL: a module from before thread state knows no such class */
	if (err && err != -ENODATA && err != -EINVAL)
		return err;
	g->have_auxv = !err;
	for (i = 0, err = 0; i < PSS_WALK_NR_CLASSES && !err; i++)
		if (i != skip)
			err = collect(snap, i, &g->cls[i]);
	return err;
}

/* PSS_NT_VERSION and the parts of the snapshot, each its own note. */
static void notes_pss(struct buf *notes, const struct gathered *g)
{
	struct pss_file_version ver;
	int i;

	memset(&ver, 0, sizeof(ver));
	ver.size = sizeof(ver);
	ver.version = PSS_FILE_VERSION;
	snprintf(ver.writer, sizeof(ver.writer), "libpss %s",
		 pss_library_version());
	note_add(notes, PSS_NOTE_NAME, PSS_NT_VERSION, &ver, sizeof(ver));
	note_add(notes, PSS_NOTE_NAME, PSS_NT_SNAPSHOT, &g->si, sizeof(g->si));
	note_add(notes, PSS_NOTE_NAME, PSS_NT_PROCESS, &g->pi, sizeof(g->pi));
	if (g->have_perf)
		note_add(notes, PSS_NOTE_NAME, PSS_NT_PERFORMANCE, &g->perf,
			 sizeof(g->perf));
	if (g->have_auxv)
		note_add(notes, PSS_NOTE_NAME, PSS_NT_AUXV, &g->auxv,
			 sizeof(g->auxv));
	for (i = 0; i < PSS_WALK_NR_CLASSES; i++)
		if (g->cls[i].have)
			note_add(notes, PSS_NOTE_NAME, PSS_NT_WALK + i,
				 g->cls[i].recs, g->cls[i].bytes);
}

static void elf_header(Elf64_Ehdr *eh, size_t phnum)
{
	memset(eh, 0, sizeof(*eh));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = phnum;
}

LIBPSS_API int pss_snapshot_write_file(struct pss_snapshot *snap, int fd,
				       unsigned int flags)
{
	struct buf notes = { 0 }, out = { 0 };
	struct gathered g;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int err;

	if (!snap || flags)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	err = gather(snap, &g, -1);
	if (err)
		goto out;

	/* what eu-readelf and gdb look for first, then ours */
	note_prpsinfo(&notes, &g.pi);
	if (g.cls[PSS_WALK_VA_SPACE].have)
		note_files(&notes, &g.cls[PSS_WALK_VA_SPACE]);
	notes_pss(&notes, &g);
	err = notes.err;
	if (err)
		goto out;

	/* no PT_LOAD: captured memory stays in its walk note */
	elf_header(&eh, 1);
	memset(&ph, 0, sizeof(ph));
	ph.p_type = PT_NOTE;
	ph.p_offset = sizeof(eh) + sizeof(ph);
	ph.p_filesz = notes.len;
	ph.p_align = 4;

	buf_add(&out, &eh, sizeof(eh));
	buf_add(&out, &ph, sizeof(ph));
	buf_add(&out, notes.p, notes.len);
	err = out.err;
	if (!err)
		err = write_all(fd, out.p, out.len);
out:
	free(notes.p);
	free(out.p);
	gathered_free(&g);
	return err;
}

/* --------------------------------------------------------- core writer */

/* A PT_LOAD being laid out: memsz bytes at vaddr, the first filesz in the file. */
struct seg {
	__u64 vaddr, memsz, filesz, off;
	__u32 flags;
};

struct segs {
	struct seg *v;
	size_t n, cap;
};

static int seg_add(struct segs *s, __u64 vaddr, __u64 memsz, bool data,
		   __u32 flags)
{
	struct seg *ns;

	if (!memsz)
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		ns = realloc(s->v, s->cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		s->v = ns;
	}
	ns = &s->v[s->n++];
	memset(ns, 0, sizeof(*ns));
	ns->vaddr = vaddr;
	ns->memsz = memsz;
	ns->filesz = data ? memsz : 0;
	ns->flags = flags;
	return 0;
}

/* A stretch of contiguous copied memory. */
struct run {
	__u64 start, end;
};

/*
 * The memory walk's records without their bytes (the index note), and the
 * contiguous runs they cover. Records come in address order, each byte once.
 */
static int memory_index(struct pss_snapshot *snap, struct file_class *idx,
			struct run **runs, size_t *nruns)
{
	struct pss_walk_marker *m;
	const struct pss_memory_entry *e;
	struct buf b = { 0 };
	size_t cap = 0, rcap = 0, len;
	struct run *r = NULL;
	size_t nr = 0;
	int ret;

	*runs = NULL;
	*nruns = 0;
	ret = pss_walk_marker_create(snap, PSS_WALK_MEMORY, NULL, &m);
	if (ret == -ENODATA || ret == -EINVAL)
		return 0;	/* not captured (EINVAL: an older module) */
	if (ret < 0)
		return ret;
	idx->have = true;
	while ((ret = pss_walk_memory(m, &e, &len)) == 1) {
		struct pss_memory_entry h;
		size_t fixed = e->data_off;
		__u64 end = e->addr + e->data_len;

		if (!pss_memory_entry_data(e, NULL) || end < e->addr ||
		    (nr && e->addr < r[nr - 1].end)) {
			ret = -EPROTO;
			break;
		}
		if (idx->count + 1 >= cap) {
			size_t *no;

			cap = cap ? cap * 2 : 256;
			no = realloc(idx->off, cap * sizeof(*no));
			if (!no) {
				ret = -ENOMEM;
				break;
			}
			idx->off = no;
		}
		if (fixed > len)
			fixed = len;
		idx->off[idx->count++] = b.len;
		/* the fixed part, as the kernel sent it: bytes elsewhere */
		buf_add(&b, e, fixed);
		buf_room(&b, REC_ALIGN8(fixed) - fixed);
		if (!b.err) {
			/* rec_len: the fixed part alone; data_off 0: not here */
			memcpy(&h, b.p + idx->off[idx->count - 1], sizeof(h));
			h.rec_len = (__u32)REC_ALIGN8(fixed);
			h.data_off = 0;
			memcpy(b.p + idx->off[idx->count - 1], &h,
			       offsetof(struct pss_memory_entry, data_len));
		}
		if (nr && r[nr - 1].end == e->addr) {
			r[nr - 1].end = end;
			continue;
		}
		if (nr == rcap) {
			struct run *nrp;

			rcap = rcap ? rcap * 2 : 64;
			nrp = realloc(r, rcap * sizeof(*nrp));
			if (!nrp) {
				ret = -ENOMEM;
				break;
			}
			r = nrp;
		}
		r[nr].start = e->addr;
		r[nr].end = end;
		nr++;
	}
	pss_walk_marker_free(m);
	if (!ret && b.err)
		ret = b.err;
	idx->recs = b.p;
	idx->bytes = b.len;
	if (idx->off)
		idx->off[idx->count] = b.len;
	if (ret) {
		free(r);
		return ret;
	}
	*runs = r;
	*nruns = nr;
	return 0;
}

/*
 * One PT_LOAD per mapping, split where the runs of copied memory begin
 * and end: the copied parts carry their bytes, the rest none. Every run
 * must lie in a mapping of the same snapshot.
 */
static int lay_out(const struct file_class *vmas, const struct run *runs,
		   size_t nruns, struct segs *s)
{
	size_t r = 0;
	__u64 i, done = runs && nruns ? runs[0].start : 0;
	int err = 0;

	for (i = 0; i < vmas->count && !err; i++) {
		const struct pss_vma_entry *v =
			(const void *)(vmas->recs + vmas->off[i]);
		__u32 fl = (v->prot & PSS_PROT_READ ? PF_R : 0) |
			   (v->prot & PSS_PROT_WRITE ? PF_W : 0) |
			   (v->prot & PSS_PROT_EXEC ? PF_X : 0);
		__u64 cur = v->start;

		if (r < nruns && done < v->start)
			return -EPROTO;	/* copied memory outside every mapping */
		while (r < nruns && done < v->end && !err) {
			__u64 a = done > v->start ? done : v->start;
			__u64 b = runs[r].end < v->end ? runs[r].end : v->end;

			err = seg_add(s, cur, a - cur, false, fl);
			if (!err)
				err = seg_add(s, a, b - a, true, fl);
			cur = b;
			done = b;
			if (done == runs[r].end && ++r < nruns)
				done = runs[r].start;
		}
		if (!err)
			err = seg_add(s, cur, v->end - cur, false, fl);
	}
	if (!err && r < nruns)
		err = -EPROTO;
	return err;
}

/* elf_prstatus.pr_reg is the regset's user_regs_struct: same size. */
static void note_thread(struct buf *b, const struct gathered *g,
			const struct pss_context_entry *c, int *err)
{
	const struct file_class *tc = &g->cls[PSS_WALK_THREADS];
	struct elf_prstatus st;
	const void *regs;
	size_t len;
	__u64 i;

	memset(&st, 0, sizeof(st));
	st.pr_pid = c->tid;
	st.pr_ppid = g->pi.ppid;
	st.pr_pgrp = g->pi.pgid;
	st.pr_sid = g->pi.sid;
	for (i = 0; tc->have && i < tc->count; i++) {
		FIXED_REC(struct pss_thread_entry, t, tc, i);

		if (t.tid != c->tid)
			continue;
		st.pr_utime.tv_sec = (time_t)(t.utime_ns / 1000000000);
		st.pr_utime.tv_usec = (suseconds_t)(t.utime_ns % 1000000000 / 1000);
		st.pr_stime.tv_sec = (time_t)(t.stime_ns / 1000000000);
		st.pr_stime.tv_usec = (suseconds_t)(t.stime_ns % 1000000000 / 1000);
		break;
	}
	regs = pss_context_entry_gregs(c, &len);
	if (regs) {
		if (len != sizeof(st.pr_reg)) {
			*err = -EPROTO;
			return;
		}
		memcpy(&st.pr_reg, regs, len);
	}
	note_add(b, "CORE", NT_PRSTATUS, &st, sizeof(st));
}

static void note_thread_fp(struct buf *b, const struct pss_context_entry *c)
{
	const void *p;
	size_t len;

	p = pss_context_entry_fpregs(c, &len);
	if (p)
		note_add(b, "CORE", NT_PRFPREG, p, len);
	p = pss_context_entry_xstate(c, &len);
	if (p)
		note_add(b, "LINUX", NT_X86_XSTATE, p, len);
}

/* Zeroes up to file offset to, then len bytes; through a 1 MiB buffer. */
struct out {
	int fd;
	__u64 pos;
	struct buf b;
};

static int out_flush(struct out *o)
{
	int err = o->b.err ? o->b.err : write_all(o->fd, o->b.p, o->b.len);

	o->b.len = 0;
	return err;
}

static int out_put(struct out *o, __u64 to, const void *p, size_t len)
{
	int err = 0;

	if (to < o->pos)
		return -EPROTO;
	while (!err && (to > o->pos || len)) {
		size_t room, n;

		if (o->b.len >= (1 << 20))
			err = out_flush(o);
		if (err)
			break;
		room = (1 << 20) - o->b.len;
		if (to > o->pos) {
			n = to - o->pos < room ? (size_t)(to - o->pos) : room;
			buf_room(&o->b, n);
		} else {
			n = len < room ? len : room;
			buf_add(&o->b, p, n);
			p = (const char *)p + n;
			len -= n;
		}
		o->pos += n;
		err = o->b.err;
	}
	return err;
}

/* The copied bytes, walked a second time, each at its PT_LOAD's place. */
static int write_memory(struct pss_snapshot *snap, const struct file_class *idx,
			const struct segs *s, struct out *o)
{
	struct pss_walk_marker *m;
	const struct pss_memory_entry *e;
	size_t k = 0, len;
	__u64 n = 0;
	int ret;

	if (!idx->have || !idx->count)
		return 0;
	ret = pss_walk_marker_create(snap, PSS_WALK_MEMORY, NULL, &m);
	if (ret < 0)
		return ret;
	while ((ret = pss_walk_memory(m, &e, &len)) == 1) {
		const void *data = pss_memory_entry_data(e, &len);
		struct pss_memory_entry h;

		if (n < idx->count)
			memcpy(&h, idx->recs + idx->off[n], sizeof(h));
		if (!data || n >= idx->count || h.addr != e->addr ||
		    h.data_len != len) {
			ret = -EPROTO;	/* not the walk we laid out */
			break;
		}
		n++;
		while (k < s->n && (!s->v[k].filesz ||
				    s->v[k].vaddr + s->v[k].filesz <= e->addr))
			k++;
		if (k == s->n || e->addr < s->v[k].vaddr) {
			ret = -EPROTO;
			break;
		}
		ret = out_put(o, s->v[k].off + (e->addr - s->v[k].vaddr),
			      data, len);
		if (ret)
			break;
	}
	pss_walk_marker_free(m);
	return ret < 0 ? ret : 0;
}

LIBPSS_API int pss_snapshot_write_core(struct pss_snapshot *snap, int fd,
				       unsigned int flags)
{
	struct file_class idx;
	struct buf notes = { 0 }, hdr = { 0 };
	struct segs s = { 0 };
	struct gathered g;
	struct run *runs = NULL;
	struct out o = { .fd = fd };
	const struct file_class *cc;
	size_t nruns = 0, phnum, i, lead = 0;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	Elf64_Shdr sh;
	__u64 off;
	int err;

	if (!snap || flags)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	memset(&idx, 0, sizeof(idx));
	err = gather(snap, &g, PSS_WALK_MEMORY);
	if (err)
		goto out;
	err = -EOPNOTSUPP;
	if (g.pi.flags & PSS_PROC_COMPAT)
		goto out;	/* an ELFCLASS32 core: not written */
	err = -ENODATA;
	if (!g.cls[PSS_WALK_VA_SPACE].have)
		goto out;
	err = memory_index(snap, &idx, &runs, &nruns);
	if (!err)
		err = lay_out(&g.cls[PSS_WALK_VA_SPACE], runs, nruns, &s);
	if (err)
		goto out;

	/* the kernel's order: the first thread's notes around the process's */
	cc = &g.cls[PSS_WALK_CONTEXTS];
	for (i = 0; cc->have && i < cc->count; i++) {
		FIXED_REC(struct pss_context_entry, c, cc, i);

		if (c.tid == g.pi.pid) {
			lead = i;
			break;
		}
	}
	if (cc->have && cc->count) {
		const struct pss_context_entry *c =
			(const void *)(cc->recs + cc->off[lead]);

		note_thread(&notes, &g, c, &err);
	}
	note_prpsinfo(&notes, &g.pi);
	if (g.have_auxv && g.auxv.len <= sizeof(g.auxv.auxv))
		note_add(&notes, "CORE", NT_AUXV, g.auxv.auxv, g.auxv.len);
	note_files(&notes, &g.cls[PSS_WALK_VA_SPACE]);
	for (i = 0; cc->have && i < cc->count && !err; i++) {
		const struct pss_context_entry *c =
			(const void *)(cc->recs + cc->off[i]);

		if (i != lead)
			note_thread(&notes, &g, c, &err);
		note_thread_fp(&notes, c);
	}
	notes_pss(&notes, &g);
	if (idx.have)
		note_add(&notes, PSS_NOTE_NAME, PSS_NT_MEMORY_INDEX, idx.recs,
			 idx.bytes);
	if (!err)
		err = notes.err;
	if (err)
		goto out;

	/* headers, notes, then each PT_LOAD's bytes at an offset congruent to its address */
	phnum = 1 + s.n;
	off = sizeof(eh) + phnum * sizeof(ph);
	if (phnum >= PN_XNUM)
		off += sizeof(sh);	/* the real count in section 0's sh_info */
	off += notes.len;
	for (i = 0; i < s.n; i++) {
		if (s.v[i].filesz)
			off += (s.v[i].vaddr - off) & (PAGE_SZ - 1);
		s.v[i].off = off;
		off += s.v[i].filesz;
	}

	elf_header(&eh, phnum < PN_XNUM ? phnum : PN_XNUM);
	if (phnum >= PN_XNUM) {
		eh.e_shoff = sizeof(eh) + phnum * sizeof(ph);
		eh.e_shentsize = sizeof(sh);
		eh.e_shnum = 1;
	}
	buf_add(&hdr, &eh, sizeof(eh));
	memset(&ph, 0, sizeof(ph));
	ph.p_type = PT_NOTE;
	ph.p_offset = sizeof(eh) + phnum * sizeof(ph) +
		      (phnum >= PN_XNUM ? sizeof(sh) : 0);
	ph.p_filesz = notes.len;
	ph.p_align = 4;
	buf_add(&hdr, &ph, sizeof(ph));
	for (i = 0; i < s.n; i++) {
		memset(&ph, 0, sizeof(ph));
		ph.p_type = PT_LOAD;
		ph.p_flags = s.v[i].flags;
		ph.p_offset = s.v[i].off;
		ph.p_vaddr = s.v[i].vaddr;
		ph.p_filesz = s.v[i].filesz;
		ph.p_memsz = s.v[i].memsz;
		ph.p_align = PAGE_SZ;
		buf_add(&hdr, &ph, sizeof(ph));
	}
	if (phnum >= PN_XNUM) {
		memset(&sh, 0, sizeof(sh));
		sh.sh_info = (Elf64_Word)phnum;
		buf_add(&hdr, &sh, sizeof(sh));
	}
	err = hdr.err;
	if (!err)
		err = out_put(&o, 0, hdr.p, hdr.len);
	if (!err)
		err = out_put(&o, o.pos, notes.p, notes.len);
	if (!err)
		err = write_memory(snap, &idx, &s, &o);
	if (!err)
		err = out_flush(&o);
out:
	free(o.b.p);
	free(hdr.p);
	free(notes.p);
	free(s.v);
	free(runs);
	free(idx.recs);
	free(idx.off);
	gathered_free(&g);
	return err;
}

/* --------------------------------------------------------- reader */

static __u32 class_min(__u32 wc)
{
	switch (wc) {
	case PSS_WALK_THREADS:
		return PSS_THREAD_ENTRY_SIZE_VER0;
	case PSS_WALK_HANDLES:
		return PSS_HANDLE_ENTRY_SIZE_VER0;
	case PSS_WALK_CONTEXTS:
		return PSS_CONTEXT_ENTRY_SIZE_VER0;
	case PSS_WALK_KSTACKS:
		return PSS_KSTACK_ENTRY_SIZE_VER0;
	case PSS_WALK_MEMORY:
		return PSS_MEMORY_ENTRY_SIZE_VER0;
	default:
		return PSS_VMA_ENTRY_SIZE_VER0;
	}
}

/* A struct note: at least its VER0 size, its size field no smaller. */
static int take_struct(void **dst, size_t *dlen, const void *desc,
		       size_t len, size_t ver0)
{
	__u32 size;

	if (*dst || len < ver0)
		return -EBADMSG;
	memcpy(&size, desc, sizeof(size));
	if (size < ver0)
		return -EBADMSG;
	*dst = malloc(len);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, desc, len);
	*dlen = len;
	return 0;
}

/* Records of one walk class: every rec_len sane, exactly filling desc. */
static int take_class(struct file_class *c, __u32 wc, const void *desc,
		      size_t len)
{
	__u32 min = class_min(wc);
	size_t off = 0, cap = 16;

	if (c->have)
		return -EBADMSG;
	c->have = true;
	c->recs = malloc(len ? len : 1);
	c->off = malloc(cap * sizeof(*c->off));
	if (!c->recs || !c->off)
		return -ENOMEM;
	memcpy(c->recs, desc, len);
	while (off < len) {
		__u32 rl;

		if (len - off < sizeof(rl))
			return -EBADMSG;
		memcpy(&rl, c->recs + off, sizeof(rl));
		if (rl < min || rl % PSS_REC_ALIGN || rl > len - off)
			return -EBADMSG;
		if (c->count + 1 >= cap) {
			size_t *no = realloc(c->off, cap * 2 * sizeof(*no));

			if (!no)
				return -ENOMEM;
			c->off = no;
			cap *= 2;
		}
		c->off[c->count++] = off;
		if (rl > c->max_rec)
			c->max_rec = rl;
		off += rl;
	}
	c->off[c->count] = off;
	c->bytes = len;
	return 0;
}

static int parse_notes(struct libpss_file *f, const unsigned char *p,
		       size_t len, bool *have_ver, const unsigned char **index,
		       size_t *index_len)
{
	size_t off = 0;
	int err;

	while (off < len) {
		Elf64_Nhdr nh;
		const char *name;
		const unsigned char *desc;
		size_t nsz, dsz;

		if (len - off < sizeof(nh))
			return -EBADMSG;
		memcpy(&nh, p + off, sizeof(nh));
		off += sizeof(nh);
		nsz = NOTE_ALIGN((size_t)nh.n_namesz);
		dsz = NOTE_ALIGN((size_t)nh.n_descsz);
		if (nsz > len - off || dsz > len - off - nsz)
			return -EBADMSG;
		name = (const char *)p + off;
		desc = p + off + nsz;
		off += nsz + dsz;
		if (nh.n_namesz != sizeof(PSS_NOTE_NAME) ||
		    memcmp(name, PSS_NOTE_NAME, sizeof(PSS_NOTE_NAME)))
			continue;	/* CORE and others: not ours */

		switch (nh.n_type) {
		case PSS_NT_VERSION: {
			struct pss_file_version v;

			if (*have_ver || nh.n_descsz < 8)
				return -EBADMSG;
			memset(&v, 0, sizeof(v));
			memcpy(&v, desc, 8);
			if (!v.version || v.size < 8)
				return -EBADMSG;
			if (v.version > PSS_FILE_VERSION)
				return -EPROTONOSUPPORT;
			*have_ver = true;
			break;
		}
		case PSS_NT_SNAPSHOT:
			err = take_struct(&f->info, &f->info_len, desc,
					  nh.n_descsz,
					  PSS_SNAPSHOT_INFO_SIZE_VER0);
			if (err)
				return err;
			break;
		case PSS_NT_PROCESS:
			err = take_struct(&f->proc, &f->proc_len, desc,
					  nh.n_descsz,
					  PSS_PROCESS_INFO_SIZE_VER0);
			if (err)
				return err;
			break;
		case PSS_NT_PERFORMANCE:
			err = take_struct(&f->perf, &f->perf_len, desc,
					  nh.n_descsz, PSS_PERF_INFO_SIZE_VER0);
			if (err)
				return err;
			break;
		case PSS_NT_AUXV:
			err = take_struct(&f->auxv, &f->auxv_len, desc,
					  nh.n_descsz, PSS_AUXV_INFO_SIZE_VER0);
			if (err)
				return err;
			break;
		case PSS_NT_MEMORY_INDEX:
			if (*index)
				return -EBADMSG;
			*index = desc;
			*index_len = nh.n_descsz;
			break;
		default:
			if (nh.n_type >= PSS_NT_WALK &&
			    nh.n_type < PSS_NT_WALK + PSS_WALK_NR_CLASSES) {
				__u32 wc = nh.n_type - PSS_NT_WALK;

				err = take_class(&f->cls[wc], wc, desc,
						 nh.n_descsz);
				if (err)
					return err;
			}
			/* other PSS notes: from a newer, compatible pss */
			break;
		}
	}
	return 0;
}

/* The counts the snapshot info announces are the records we hold. */
static int check_counts(const struct libpss_file *f)
{
	struct pss_snapshot_info si;
	const __u64 *n[] = { &si.nr_threads, &si.nr_handles, &si.nr_vmas };
	const struct file_class *t = &f->cls[PSS_WALK_THREADS];
	int i;

	copy_sized(&si, sizeof(si), f->info, f->info_len);
	for (i = 0; i < 3; i++)
		if (*n[i] != (f->cls[i].have ? f->cls[i].count : 0))
			return -EBADMSG;
	/* contexts and kernel stacks: one per thread of the thread walk */
	for (i = PSS_WALK_CONTEXTS; i <= PSS_WALK_KSTACKS; i++)
		if (f->cls[i].have && (!t->have || f->cls[i].count != t->count))
			return -EBADMSG;
	return 0;
}

struct load {
	__u64 vaddr, filesz, off;
};

static int load_cmp(const void *a, const void *b)
{
	const struct load *x = a, *y = b;

	return (x->vaddr > y->vaddr) - (x->vaddr < y->vaddr);
}

/* The PT_LOAD holding [addr, addr + n) in the file, or NULL. */
static const struct load *load_find(const struct load *l, size_t nl,
				    __u64 addr, __u64 n)
{
	size_t lo = 0, hi = nl;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l[mid].vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	l += lo - 1;
	if (addr - l->vaddr > l->filesz || n > l->filesz - (addr - l->vaddr))
		return NULL;
	return l;
}

/*
 * A core's memory: the index note's records get their bytes back from the
 * PT_LOADs, giving the records PSS_IOC_WALK returned (the fixed part, the
 * bytes, a NUL and padding, as the module frames every variable part).
 */
static int take_index(struct file_class *c, const unsigned char *p, size_t len,
		      const struct load *l, size_t nl,
		      const unsigned char *idx, size_t idx_len)
{
	struct buf b = { 0 };
	size_t off = 0;
	int err;

	if (c->have)
		return -EBADMSG;	/* a walk note and an index */
	while (off < idx_len) {
		struct pss_memory_entry h;
		const struct load *ld;
		unsigned char *r;
		size_t full;
		__u32 rl;

		if (idx_len - off < sizeof(h)) {
			free(b.p);
			return -EBADMSG;
		}
		memcpy(&h, idx + off, sizeof(h));
		rl = h.rec_len;
		if (rl < sizeof(h) || rl % PSS_REC_ALIGN || rl > idx_len - off ||
		    h.data_off || !h.data_len || h.data_len > (1U << 20) ||
		    !(ld = load_find(l, nl, h.addr, h.data_len)) ||
		    ld->off + (h.addr - ld->vaddr) + h.data_len > len) {
			free(b.p);
			return -EBADMSG;
		}
		/* framed as the module frames a variable part: NUL-terminated */
		full = REC_ALIGN8((size_t)rl + h.data_len + 1);
		r = buf_room(&b, full);
		if (!r) {
			free(b.p);
			return b.err;
		}
		memcpy(r, idx + off, rl);
		h.rec_len = (__u32)full;
		h.data_off = rl;
		memcpy(r, &h, offsetof(struct pss_memory_entry, data_len));
		memcpy(r + rl, p + ld->off + (h.addr - ld->vaddr), h.data_len);
		off += rl;
	}
	err = take_class(c, PSS_WALK_MEMORY, b.p, b.len);
	free(b.p);
	return err;
}

static int parse(const unsigned char *p, size_t len, struct libpss_file *f)
{
	const unsigned char *index = NULL;
	size_t index_len = 0, nl = 0, phnum;
	struct load *loads = NULL;
	Elf64_Ehdr eh;
	bool have_ver = false;
	size_t i;
	int err = 0;

	if (len < SELFMAG)
		return len && !memcmp(p, ELFMAG, len) ? -EBADMSG : -ENOEXEC;
	if (memcmp(p, ELFMAG, SELFMAG))
		return -ENOEXEC;
	if (len < sizeof(eh))
		return len <= EI_CLASS || p[EI_CLASS] == ELFCLASS64 ?
			-EBADMSG : -ENOMSG;
	memcpy(&eh, p, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_type != ET_CORE ||
	    eh.e_machine != EM_X86_64)
		return -ENOMSG;
	phnum = eh.e_phnum;
	if (phnum == PN_XNUM) {
		Elf64_Shdr sh;

		/* more headers than e_phnum holds: section 0 has the count */
		if (eh.e_shoff > len || len - eh.e_shoff < sizeof(sh))
			return -EBADMSG;
		memcpy(&sh, p + eh.e_shoff, sizeof(sh));
		phnum = sh.sh_info;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
	    phnum > (len - eh.e_phoff) / sizeof(Elf64_Phdr))
		return -EBADMSG;
	loads = calloc(phnum ? phnum : 1, sizeof(*loads));
	if (!loads)
		return -ENOMEM;
	for (i = 0; i < phnum && !err; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, p + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE && ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset) {
			err = -EBADMSG;
			break;
		}
		if (ph.p_type == PT_LOAD) {
			if (ph.p_filesz) {
				loads[nl].vaddr = ph.p_vaddr;
				loads[nl].filesz = ph.p_filesz;
				loads[nl].off = ph.p_offset;
				nl++;
			}
			continue;
		}
		err = parse_notes(f, p + ph.p_offset, ph.p_filesz, &have_ver,
				  &index, &index_len);
	}
	if (err)
		goto out;
	if (!have_ver) {
		/* PSS parts without their version note: damaged, not foreign */
		err = -EBADMSG;
		if (f->info || f->proc || f->perf || f->auxv || index)
			goto out;
		for (i = 0; i < PSS_WALK_NR_CLASSES; i++)
			if (f->cls[i].have)
				goto out;
		err = -ENOMSG;
		goto out;
	}
	err = -EBADMSG;
	if (!f->info || !f->proc)
		goto out;
	if (index) {
		qsort(loads, nl, sizeof(*loads), load_cmp);
		err = take_index(&f->cls[PSS_WALK_MEMORY], p, len, loads, nl,
				 index, index_len);
		if (err)
			goto out;
	}
	err = check_counts(f);
out:
	free(loads);
	return err;
}

static int read_all(int fd, unsigned char **out, size_t *outlen)
{
	unsigned char *p = NULL, *np;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (cap - len < 65536) {
			if (cap >= MAX_FILE) {
				free(p);
				return -EFBIG;
			}
			cap = cap ? cap * 2 : 65536;
			np = realloc(p, cap);
			if (!np) {
				free(p);
				return -ENOMEM;
			}
			p = np;
		}
		n = read(fd, p + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			free(p);
			return (int)n;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	*out = p;
	*outlen = len;
	return 0;
}

LIBPSS_API int pss_snapshot_read_file(int fd, struct pss_snapshot **snap)
{
	struct libpss_file *f;
	unsigned char *p = NULL;
	size_t len = 0;
	int err;

	if (!snap)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	err = read_all(fd, &p, &len);
	if (err)
		return err;
	f = calloc(1, sizeof(*f));
	if (!f) {
		free(p);
		return -ENOMEM;
	}
	f->refs = 1;
	err = parse(p, len, f);
	free(p);
	if (!err)
		err = libpss__snapshot_new(-1, f, snap);
	if (err)
		file_free(f);
	return err;
}

LIBPSS_API int pss_snapshot_open_file(const char *path,
				      struct pss_snapshot **snap)
{
	int fd, err, saved;

	if (!path || !snap)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = pss_snapshot_read_file(fd, snap);
	saved = errno;
	close(fd);
	errno = saved;
	return err;
}
