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

struct file_class {
	bool have;
	unsigned char *recs;	/* the records, back to back, 8-aligned */
	size_t bytes;
	__u64 count;
	__u64 max_rec;
	size_t *off;		/* off[i]: record i; off[count] == bytes */
};

struct libpss_file {
	int refs;
	void *info, *proc, *perf;
	size_t info_len, proc_len, perf_len;
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
		return PSS_COUNT_INFO_SIZE_VER0;
	case PSS_QUERY_PERFORMANCE:
		return PSS_PERF_INFO_SIZE_VER0;
	default:
		return 0;
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
	default:
		c = &f->cls[qc - PSS_QUERY_THREADS];
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
	if (ret == -ENODATA)
		return 0;	/* not captured: no note */
	if (ret < 0)
		return ret;
	c->have = true;
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

LIBPSS_API int pss_snapshot_write_file(struct pss_snapshot *snap, int fd,
				       unsigned int flags)
{
	struct pss_snapshot_info si;
	struct pss_process_info pi;
	struct pss_perf_info perf;
	struct file_class cls[PSS_WALK_NR_CLASSES];
	struct pss_file_version ver;
	struct buf notes = { 0 }, out = { 0 };
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	bool have_perf;
	int i, err;

	if (!snap || flags)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	memset(cls, 0, sizeof(cls));
	err = pss_query(snap, PSS_QUERY_SNAPSHOT, &si, sizeof(si));
	if (!err)
		err = pss_query(snap, PSS_QUERY_PROCESS, &pi, sizeof(pi));
	if (err)
		return err;
	err = pss_query(snap, PSS_QUERY_PERFORMANCE, &perf, sizeof(perf));
	if (err && err != -ENODATA)
		return err;
	have_perf = !err;
	for (i = 0, err = 0; i < PSS_WALK_NR_CLASSES && !err; i++)
		err = collect(snap, i, &cls[i]);
	if (err)
		goto out;

	memset(&ver, 0, sizeof(ver));
	ver.size = sizeof(ver);
	ver.version = PSS_FILE_VERSION;
	snprintf(ver.writer, sizeof(ver.writer), "libpss %s",
		 pss_library_version());

	/* what eu-readelf and gdb look for first, then ours */
	note_prpsinfo(&notes, &pi);
	if (cls[PSS_WALK_VA_SPACE].have)
		note_files(&notes, &cls[PSS_WALK_VA_SPACE]);
	note_add(&notes, PSS_NOTE_NAME, PSS_NT_VERSION, &ver, sizeof(ver));
	note_add(&notes, PSS_NOTE_NAME, PSS_NT_SNAPSHOT, &si, sizeof(si));
	note_add(&notes, PSS_NOTE_NAME, PSS_NT_PROCESS, &pi, sizeof(pi));
	if (have_perf)
		note_add(&notes, PSS_NOTE_NAME, PSS_NT_PERFORMANCE, &perf,
			 sizeof(perf));
	for (i = 0; i < PSS_WALK_NR_CLASSES; i++)
		if (cls[i].have)
			note_add(&notes, PSS_NOTE_NAME, PSS_NT_WALK + i,
				 cls[i].recs, cls[i].bytes);
	err = notes.err;
	if (err)
		goto out;

	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	/* no PT_LOAD: memory is not captured (yet) */
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
	for (i = 0; i < PSS_WALK_NR_CLASSES; i++) {
		free(cls[i].recs);
		free(cls[i].off);
	}
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
		       size_t len, bool *have_ver)
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
	const __u64 *n[PSS_WALK_NR_CLASSES] = {
		&si.nr_threads, &si.nr_handles, &si.nr_vmas,
	};
	int i;

	copy_sized(&si, sizeof(si), f->info, f->info_len);
	for (i = 0; i < PSS_WALK_NR_CLASSES; i++)
		if (*n[i] != (f->cls[i].have ? f->cls[i].count : 0))
			return -EBADMSG;
	return 0;
}

static int parse(const unsigned char *p, size_t len, struct libpss_file *f)
{
	Elf64_Ehdr eh;
	bool have_ver = false;
	size_t i;
	int err;

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
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
	    (size_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return -EBADMSG;
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, p + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE)
			continue;
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			return -EBADMSG;
		err = parse_notes(f, p + ph.p_offset, ph.p_filesz, &have_ver);
		if (err)
			return err;
	}
	if (!have_ver) {
		/* PSS parts without their version note: damaged, not foreign */
		if (f->info || f->proc || f->perf)
			return -EBADMSG;
		for (i = 0; i < PSS_WALK_NR_CLASSES; i++)
			if (f->cls[i].have)
				return -EBADMSG;
		return -ENOMSG;
	}
	if (!f->info || !f->proc)
		return -EBADMSG;
	return check_counts(f);
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
