// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libpss: walk markers. A marker is a cursor (a plain record index) over one
 * walk class of one snapshot, plus a batch buffer: records are fetched with
 * one PSS_IOC_WALK per batch and handed out one by one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define REC_ALIGN	PSS_REC_ALIGN
#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((size_t)(a) - 1))
/* ENOSPC answers in a row before we call the kernel inconsistent */
#define MAX_FETCH_TRIES	4

struct pss_walk_marker {
	struct pss_snapshot *snap;	/* a reference of our own */
	struct pss_allocator al;	/* copy; default: malloc/free */
	__u32 walk_class;
	__u32 min_rec;			/* VER0 size of the class's record */
	size_t batch_bytes;
	__u64 total;			/* records in the class */
	__u64 pos;			/* index of the next entry handed out */

	unsigned char *buf;		/* batch buffer */
	size_t cap;

	/* the batch in buf, valid when have_batch */
	bool have_batch;
	bool batch_end;			/* the kernel set PSS_WALK_END */
	__u64 batch_start;		/* index of the first record in buf */
	__u32 batch_count;
	__u32 cur_idx;			/* pos == batch_start + cur_idx */
	size_t cur_off;			/* offset of record cur_idx in buf */
	__u32 next_len;			/* size of the record at the fetch
					 * position when known, else 0 */

	__u64 st_ioctls, st_batches, st_enospc, st_entries;
};

static void *default_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void default_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

static const struct pss_allocator default_allocator = {
	.ctx = NULL,
	.alloc = default_alloc,
	.free = default_free,
};

static __u32 class_min_rec(__u32 walk_class)
{
	switch (walk_class) {
	case PSS_WALK_THREADS:
		return PSS_THREAD_ENTRY_SIZE_VER0;
	case PSS_WALK_HANDLES:
		return PSS_HANDLE_ENTRY_SIZE_VER0;
	case PSS_WALK_VA_SPACE:
		return PSS_VMA_ENTRY_SIZE_VER0;
	case PSS_WALK_CONTEXTS:
		return PSS_CONTEXT_ENTRY_SIZE_VER0;
	case PSS_WALK_KSTACKS:
		return PSS_KSTACK_ENTRY_SIZE_VER0;
	case PSS_WALK_MEMORY:
		return PSS_MEMORY_ENTRY_SIZE_VER0;
	default:
		return 0;
	}
}

static void *al_alloc(const struct pss_allocator *al, size_t size, int *err)
{
	void *p = al->alloc(al->ctx, size);

	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	if ((uintptr_t)p & (REC_ALIGN - 1)) {
		/* records hold __u64 fields: we promise aligned entries */
		al->free(al->ctx, p);
		*err = -EINVAL;
		return NULL;
	}
	return p;
}

LIBPSS_API int pss_walk_marker_create(struct pss_snapshot *snap,
				      enum pss_walk_class walk_class,
				      const struct pss_walk_marker_opts *opts,
				      struct pss_walk_marker **marker)
{
	const struct pss_allocator *al;
	struct pss_walk_marker *m;
	size_t batch;
	__u32 min_rec;
	__u64 total;
	int err = 0;

	if (!snap || !marker || !OPTS_VALID(opts))
		return -EINVAL;
	min_rec = class_min_rec(walk_class);
	if (!min_rec)
		return -EINVAL;
	al = OPTS_GET(opts, allocator, NULL);
	if (!al)
		al = &default_allocator;
	else if (!al->alloc || !al->free)
		return -EINVAL;
	batch = OPTS_GET(opts, batch_bytes, 0);
	if (!batch)
		batch = PSS_WALK_DEFAULT_BATCH_BYTES;

	/* the snapshot is immutable: its record count is fixed */
	err = pss_count(snap, walk_class, &total);
	if (err)
		return err;

	m = al_alloc(al, sizeof(*m), &err);
	if (!m)
		return err;
	memset(m, 0, sizeof(*m));
	m->al = *al;
	m->snap = snap;
	m->walk_class = walk_class;
	m->min_rec = min_rec;
	m->batch_bytes = batch;
	m->total = total;
	libpss__snapshot_get(snap);
	*marker = m;
	return 0;
}

LIBPSS_API void pss_walk_marker_free(struct pss_walk_marker *m)
{
	struct pss_allocator al;

	if (!m)
		return;
	al = m->al;
	if (m->buf)
		al.free(al.ctx, m->buf);
	libpss__snapshot_put(m->snap);
	al.free(al.ctx, m);
}

/* Make buf hold at least want bytes; the old contents are dropped. */
static int grow(struct pss_walk_marker *m, size_t want)
{
	unsigned char *nbuf;
	int err = 0;

	nbuf = al_alloc(&m->al, want, &err);
	if (!nbuf)
		return err;
	if (m->buf)
		m->al.free(m->al.ctx, m->buf);
	m->buf = nbuf;
	m->cap = want;
	return 0;
}

static __u32 rec_len_at(const unsigned char *p)
{
	__u32 len;

	memcpy(&len, p, sizeof(len));
	return len;
}

/* Check the kernel's answer before handing any of it out. */
static int check_batch(const struct pss_walk_marker *m,
		       const struct pss_walk_args *a, size_t buf_len)
{
	size_t off = 0;
	__u32 i;

	if (a->bytes_written > buf_len || a->total != m->total ||
	    a->pos != m->pos + a->count)
		return -EPROTO;
	/* END exactly when the new position is the end */
	if (!!(a->out_flags & PSS_WALK_END) != (a->pos == m->total))
		return -EPROTO;
	for (i = 0; i < a->count; i++) {
		__u32 len;

		if (a->bytes_written - off < sizeof(__u32))
			return -EPROTO;
		len = rec_len_at(m->buf + off);
		if (len < m->min_rec || len % REC_ALIGN ||
		    len > a->bytes_written - off)
			return -EPROTO;
		off += len;
	}
	if (off != a->bytes_written)
		return -EPROTO;
	return 0;
}

/* Fetch the batch that starts at m->pos. */
static int fetch(struct pss_walk_marker *m)
{
	struct pss_walk_args a;
	size_t want;
	int tries, ret;

	m->have_batch = false;
	for (tries = 0; tries < MAX_FETCH_TRIES; tries++) {
		want = m->batch_bytes;
		if (want < m->next_len)
			want = m->next_len;
		want = ALIGN_UP(want, REC_ALIGN);
		if (want > m->cap) {
			ret = grow(m, want);
			if (ret)
				return ret;
		}

		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.walk_class = m->walk_class;
		a.pos = m->pos;
		a.buf = (__u64)(uintptr_t)m->buf;
		a.buf_len = want;
		m->st_ioctls++;
		if (m->snap->file)
			ret = libpss__file_walk(m->snap->file, &a);
		else
			ret = libpss__ioctl(m->snap->fd, PSS_IOC_WALK, &a);
		if (ret == -ENOSPC) {
			m->st_enospc++;
			/* next_len is the exact size the record at pos needs */
			if (a.next_len <= want)
				return -EPROTO;
			m->next_len = a.next_len;
			continue;
		}
		if (ret < 0)
			return ret;

		ret = check_batch(m, &a, want);
		if (ret)
			return ret;
		if (!a.count && !(a.out_flags & PSS_WALK_END))
			return -EPROTO;	/* no progress and not at the end */
		if (a.count)
			m->st_batches++;
		m->have_batch = true;
		m->batch_end = a.out_flags & PSS_WALK_END;
		m->batch_start = m->pos;
		m->batch_count = a.count;
		m->cur_idx = 0;
		m->cur_off = 0;
		m->next_len = a.next_len;
		return 0;
	}
	return -EPROTO;
}

LIBPSS_API int pss_walk(struct pss_walk_marker *m, const void **entry,
			size_t *len)
{
	const unsigned char *rec;
	__u32 rl;
	int err;

	if (!m || !entry)
		return -EINVAL;
	*entry = NULL;
	if (len)
		*len = 0;

	if (!m->have_batch || m->cur_idx == m->batch_count) {
		if (m->pos >= m->total ||
		    (m->have_batch && m->batch_end))
			return 0;
		err = fetch(m);
		if (err)
			return err;
		if (!m->batch_count)
			return 0;
	}

	rec = m->buf + m->cur_off;
	rl = rec_len_at(rec);
	m->cur_idx++;
	m->cur_off += rl;
	m->pos++;
	m->st_entries++;
	*entry = rec;
	if (len)
		*len = rl;
	return 1;
}

static int walk_class(struct pss_walk_marker *m, __u32 wc, const void **e,
		      size_t *len)
{
	if (!m || !e)
		return -EINVAL;
	if (m->walk_class != wc) {
		*e = NULL;
		return -EINVAL;
	}
	return pss_walk(m, e, len);
}

LIBPSS_API int pss_walk_thread(struct pss_walk_marker *m,
			       const struct pss_thread_entry **entry, size_t *len)
{
	const void *e = NULL;
	int ret = walk_class(m, PSS_WALK_THREADS, entry ? &e : NULL, len);

	if (entry)
		*entry = e;
	return ret;
}

LIBPSS_API int pss_walk_handle(struct pss_walk_marker *m,
			       const struct pss_handle_entry **entry, size_t *len)
{
	const void *e = NULL;
	int ret = walk_class(m, PSS_WALK_HANDLES, entry ? &e : NULL, len);

	if (entry)
		*entry = e;
	return ret;
}

LIBPSS_API int pss_walk_vma(struct pss_walk_marker *m,
			    const struct pss_vma_entry **entry, size_t *len)
{
	const void *e = NULL;
	int ret = walk_class(m, PSS_WALK_VA_SPACE, entry ? &e : NULL, len);

	if (entry)
		*entry = e;
	return ret;
}

LIBPSS_API int pss_walk_context(struct pss_walk_marker *m,
				const struct pss_context_entry **entry,
				size_t *len)
{
	const void *e = NULL;
	int ret = walk_class(m, PSS_WALK_CONTEXTS, entry ? &e : NULL, len);

	if (entry)
		*entry = e;
	return ret;
}

LIBPSS_API int pss_walk_kstack(struct pss_walk_marker *m,
			       const struct pss_kstack_entry **entry,
			       size_t *len)
{
	const void *e = NULL;
	int ret = walk_class(m, PSS_WALK_KSTACKS, entry ? &e : NULL, len);

	if (entry)
		*entry = e;
	return ret;
}

LIBPSS_API int pss_walk_memory(struct pss_walk_marker *m,
			       const struct pss_memory_entry **entry,
			       size_t *len)
{
	const void *e = NULL;
	int ret = walk_class(m, PSS_WALK_MEMORY, entry ? &e : NULL, len);

	if (entry)
		*entry = e;
	return ret;
}

LIBPSS_API int pss_walk_copy(struct pss_walk_marker *m, void *buf,
			     size_t buf_len, size_t *len)
{
	const void *e;
	size_t rl;
	__u64 pos;
	int ret;

	if (len)
		*len = 0;
	if (!m || (!buf && buf_len))
		return -EINVAL;
	pos = m->pos;
	ret = pss_walk(m, &e, &rl);
	if (ret != 1)
		return ret;
	if (rl > buf_len) {
		/* step back: the entry is still in the batch, no ioctl */
		m->pos = pos;
		m->cur_idx--;
		m->cur_off -= rl;
		m->st_entries--;
		if (len)
			*len = rl;
		return -ENOSPC;
	}
	memcpy(buf, e, rl);
	if (len)
		*len = rl;
	return 1;
}

LIBPSS_API int pss_walk_marker_get_position(const struct pss_walk_marker *m,
					    __u64 *pos)
{
	if (!m || !pos)
		return -EINVAL;
	*pos = m->pos;
	return 0;
}

LIBPSS_API int pss_walk_marker_set_position(struct pss_walk_marker *m,
					    __u64 pos)
{
	if (!m)
		return -EINVAL;
	if (pos > m->total)
		return -ERANGE;
	if (pos == m->pos)
		return 0;
	if (m->have_batch && pos >= m->batch_start &&
	    pos <= m->batch_start + m->batch_count) {
		/* still inside the batch we hold: no ioctl needed */
		__u32 idx = (__u32)(pos - m->batch_start), i;
		size_t off = 0;

		for (i = 0; i < idx; i++)
			off += rec_len_at(m->buf + off);
		m->cur_idx = idx;
		m->cur_off = off;
	} else {
		m->have_batch = false;
		m->next_len = 0;	/* size at the new position unknown */
	}
	m->pos = pos;
	return 0;
}

LIBPSS_API int pss_walk_marker_seek_to_beginning(struct pss_walk_marker *m)
{
	return pss_walk_marker_set_position(m, 0);
}

LIBPSS_API int pss_walk_marker_get_stats(const struct pss_walk_marker *m,
					 struct pss_walk_stats *stats)
{
	struct pss_walk_stats st;
	size_t usz;

	if (!m || !stats || stats->sz < sizeof(size_t))
		return -EINVAL;
	usz = stats->sz;
	memset(&st, 0, sizeof(st));
	st.sz = usz;
	st.ioctls = m->st_ioctls;
	st.batches = m->st_batches;
	st.enospc = m->st_enospc;
	st.entries = m->st_entries;
	st.buf_size = m->cap;
	st.total = m->total;
	if (usz <= sizeof(st)) {
		memcpy(stats, &st, usz);
	} else {
		memcpy(stats, &st, sizeof(st));
		memset((unsigned char *)stats + sizeof(st), 0,
		       usz - sizeof(st));
	}
	return 0;
}
