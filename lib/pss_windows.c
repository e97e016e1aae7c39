// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libpsswin: the Windows Process Snapshotting API over libpss.
 *
 * HPSS values index a handle table with a generation count, so a freed or
 * made-up snapshot handle is refused (ERROR_INVALID_HANDLE) rather than
 * dereferenced. HPSSWALK is the marker's address (its memory comes from the
 * caller's PSS_ALLOCATOR), checked by a magic number that is cleared on free.
 *
 * A marker binds to (snapshot, class) at its first walk and keeps a libpss
 * marker for it. Entries are converted into the Windows structs and copied
 * into the caller's buffer; the strings they point to are allocated once
 * per (binding, position) through the marker's allocator and live until
 * PssWalkMarkerFree().
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <sched.h>

#include "pss/libpss_native.h"
#include "pss/processsnapshot.h"

#define NS_PER_FT	100ULL		/* FILETIME ticks are 100 ns */
#define FT_UNIX_EPOCH	116444736000000000ULL	/* 1970-01-01 in FILETIME */
#define NR_WALK_CLASSES	5

/* ------------------------------------------------------ snapshot handles */

struct win_snap {
	struct pss_snapshot *snap;
	__u64 facets;
	__u64 cut_realtime_ns;
	__u64 cut_boottime_ns;
	__u64 count[PSS_WALK_NR_CLASSES];	/* records per native class */
	__u64 live_threads;	/* thread records not PSS_THREAD_EXITING */
	DWORD context_flags;	/* ThreadContextFlags, with THREAD_CONTEXT */
	__s32 pid;
};

struct slot {
	struct win_snap *ws;
	uint32_t gen;
};

/* HPSS = gen << SLOT_BITS | (index + 1): never NULL, never reused */
#define SLOT_BITS	24
#define SLOT_MAX	((1u << SLOT_BITS) - 1)
#define GEN_MASK	(sizeof(uintptr_t) > 4 ? UINT32_MAX : 0xffu)

static pthread_mutex_t tab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *tab;
static size_t tab_len;

static HPSS slot_handle(size_t i, uint32_t gen)
{
	return (HPSS)(((uintptr_t)gen << SLOT_BITS) | (uintptr_t)(i + 1));
}

static DWORD tab_insert(struct win_snap *ws, HPSS *out)
{
	size_t i;

	pthread_mutex_lock(&tab_lock);
	for (i = 0; i < tab_len && tab[i].ws; i++)
		;
	if (i == tab_len) {
		size_t nlen = tab_len ? tab_len * 2 : 16;
		struct slot *n;

		if (nlen > SLOT_MAX)
			nlen = SLOT_MAX;
		n = nlen > tab_len ? realloc(tab, nlen * sizeof(*n)) : NULL;
		if (!n) {
			pthread_mutex_unlock(&tab_lock);
			return ERROR_NOT_ENOUGH_MEMORY;
		}
		memset(n + tab_len, 0, (nlen - tab_len) * sizeof(*n));
		tab = n;
		tab_len = nlen;
	}
	tab[i].ws = ws;
	/* the generation fills the bits of a pointer above the index */
	tab[i].gen = (tab[i].gen + 1) & GEN_MASK;
	if (!tab[i].gen)
		tab[i].gen = 1;
	*out = slot_handle(i, tab[i].gen);
	pthread_mutex_unlock(&tab_lock);
	return ERROR_SUCCESS;
}

/* Find (and with take, remove) the snapshot behind h; NULL if none. */
static struct win_snap *tab_lookup(HPSS h, bool take)
{
	uintptr_t v = (uintptr_t)h;
	size_t i = (v & SLOT_MAX);
	uintptr_t gen = v >> SLOT_BITS;	/* all of it: no truncated match */
	struct win_snap *ws = NULL;

	if (!i)
		return NULL;
	i--;
	pthread_mutex_lock(&tab_lock);
	if (i < tab_len && tab[i].ws && tab[i].gen == gen) {
		ws = tab[i].ws;
		if (take)
			tab[i].ws = NULL;
	}
	pthread_mutex_unlock(&tab_lock);
	return ws;
}

/* ------------------------------------------------------------- helpers */

static DWORD win_error(int err)
{
	switch (err) {
	case 0:
		return ERROR_SUCCESS;
	case -EINVAL:
	case -E2BIG:
	case -ERANGE:
		return ERROR_INVALID_PARAMETER;
	case -EBADF:
	case -EBADFD:
	case -ENOTTY:
		return ERROR_INVALID_HANDLE;
	case -EPERM:
	case -EACCES:
		return ERROR_ACCESS_DENIED;
	case -ENOMEM:
	case -ENOBUFS:
	case -EDQUOT:
	case -EMFILE:
	case -ENFILE:
		return ERROR_NOT_ENOUGH_MEMORY;
	case -ESRCH:
	case -ENODATA:
		return ERROR_NOT_FOUND;
	case -ENOENT:		/* no /dev/pss: the module is not loaded */
		return ERROR_NOT_SUPPORTED;
	case -EAGAIN:
		return ERROR_RETRY;
	default:
		return ERROR_GEN_FAILURE;
	}
}

static FILETIME ft_from_ticks(uint64_t t)
{
	FILETIME ft = {
		.dwLowDateTime = (DWORD)t,
		.dwHighDateTime = (DWORD)(t >> 32),
	};

	return ft;
}

/* a duration */
static FILETIME ft_span(__u64 ns)
{
	return ft_from_ticks(ns / NS_PER_FT);
}

/* a CLOCK_REALTIME instant */
static FILETIME ft_realtime(__u64 ns)
{
	return ft_from_ticks(ns / NS_PER_FT + FT_UNIX_EPOCH);
}

/* a CLOCK_BOOTTIME instant, via the snapshot's cut on both clocks */
static FILETIME ft_boottime(const struct win_snap *ws, __u64 boot_ns)
{
	__u64 ago = ws->cut_boottime_ns > boot_ns ?
		    ws->cut_boottime_ns - boot_ns : 0;

	if (!boot_ns || ago > ws->cut_realtime_ns)
		return ft_from_ticks(0);
	return ft_realtime(ws->cut_realtime_ns - ago);
}

/*
 * Windows priorities (1..31): real-time policies map onto the real-time
 * range 16..31, SCHED_IDLE onto 1, other threads' nice -20..19 onto 14..2
 * around NORMAL's 8.
 */
static int win_priority(__u32 policy, __s32 nice, __u32 rt_priority)
{
	switch (policy) {
	case SCHED_FIFO:
	case SCHED_RR:
		return 16 + (int)(rt_priority > 99 ? 99 : rt_priority) * 15 / 99;
	case SCHED_IDLE:
		return 1;
	default:
		return 8 - nice / 3;
	}
}

static DWORD win_priority_class(__u32 policy, __s32 nice)
{
	if (policy == SCHED_FIFO || policy == SCHED_RR)
		return REALTIME_PRIORITY_CLASS;
	if (policy == SCHED_IDLE || nice >= 15)
		return IDLE_PRIORITY_CLASS;
	if (nice <= -15)
		return HIGH_PRIORITY_CLASS;
	if (nice < 0)
		return ABOVE_NORMAL_PRIORITY_CLASS;
	if (nice > 0)
		return BELOW_NORMAL_PRIORITY_CLASS;
	return NORMAL_PRIORITY_CLASS;
}

/*
 * UTF-8 to wchar_t (UTF-32). A byte that is not part of valid UTF-8 maps
 * to U+DC80..U+DCFF (as Python's surrogateescape), so no name is lost or
 * truncated at a bad byte. Writes at most max - 1 characters and a NUL when
 * out is not NULL; returns the length of the whole conversion.
 */
static size_t utf8_to_wcs(const char *s, size_t len, wchar_t *out, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n = 0;

	while (i < len) {
		uint32_t c = p[i], min;
		size_t k, more;

		if (c < 0x80) {
			more = 0;
			min = 0;
		} else if ((c & 0xe0) == 0xc0) {
			more = 1;
			c &= 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			more = 2;
			c &= 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			more = 3;
			c &= 0x07;
			min = 0x10000;
		} else {
			goto bad;
		}
		if (len - i <= more)
			goto bad;
		for (k = 1; k <= more; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				goto bad;
			c = c << 6 | (p[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			goto bad;
		i += more + 1;
		goto put;
bad:
		c = 0xdc00 | p[i];
		i++;
put:
		if (out && n + 1 < max)
			out[n] = (wchar_t)c;
		n++;
	}
	if (out && max)
		out[n < max ? n : max - 1] = L'\0';
	return n;
}

/* ------------------------------------------------------------- markers */

#define MARKER_MAGIC	0x4b4c41575353504eULL	/* "NPSSWALK" */
#define MARKER_DEAD	0xdeadULL

/*
 * Opaque positions: index << POS_SHIFT | (class + 1). 0 is a fresh
 * marker's: the beginning of whatever it walks first.
 */
#define POS_SHIFT	3
#define POS_TAG_MASK	((1u << POS_SHIFT) - 1)

struct chunk {
	struct chunk *next;
	__u64 pad;		/* keep the payload 16-byte aligned */
};

struct image {			/* a file mapped with PROT_EXEC somewhere */
	__u32 dev_major, dev_minor;
	__u64 ino;
	__u64 base, end;
};

struct win_marker {
	__u64 magic;
	PSS_ALLOCATOR al;
	bool custom;
	struct chunk *chunks;	/* everything the walk allocated */

	__u64 index;		/* position: next entry */
	unsigned int tag;	/* class + 1 of the position, 0: none yet */

	/* the binding: which snapshot and class nm walks */
	HPSS bound;
	int bound_class;
	struct win_snap bound_ws;	/* copy: the HPSS may be freed later */
	struct pss_walk_marker *nm;
	__u64 total;
	wchar_t **names;	/* per position, NULL until converted */
	CONTEXT **contexts;	/* per position, NULL until converted */
	struct pss_walk_marker *ctx_nm;	/* PSS_WALK_CONTEXTS, beside nm */
	struct image *images;
	size_t nr_images;
};

static void *raw_alloc(struct win_marker *m, size_t size)
{
	if (!m->custom)
		return malloc(size);
	if (size > UINT32_MAX)
		return NULL;
	return m->al.AllocRoutine(m->al.Context, (DWORD)size);
}

static void raw_free(struct win_marker *m, void *p)
{
	if (!m->custom)
		free(p);
	else
		m->al.FreeRoutine(m->al.Context, p);
}

/* Memory that lives as long as the marker. */
static void *marker_alloc(struct win_marker *m, size_t size)
{
	struct chunk *c;

	if (size > SIZE_MAX - sizeof(*c))
		return NULL;
	c = raw_alloc(m, sizeof(*c) + size);
	if (!c)
		return NULL;
	c->next = m->chunks;
	m->chunks = c;
	return c + 1;
}

/* the libpss marker's buffers come from the same allocator */
static void *shim_alloc(void *ctx, size_t size)
{
	return raw_alloc(ctx, size);
}

static void shim_free(void *ctx, void *p)
{
	raw_free(ctx, p);
}

static struct win_marker *marker_get(HPSSWALK h)
{
	struct win_marker *m = (struct win_marker *)h;

	if (!m || ((uintptr_t)m & 7) || m->magic != MARKER_MAGIC)
		return NULL;
	return m;
}

PSS_API DWORD PssWalkMarkerCreate(const PSS_ALLOCATOR *Allocator,
				  HPSSWALK *WalkMarkerHandle)
{
	struct win_marker tmp = { .custom = false }, *m;

	if (!WalkMarkerHandle)
		return ERROR_INVALID_PARAMETER;
	if (Allocator) {
		if (!Allocator->AllocRoutine || !Allocator->FreeRoutine)
			return ERROR_INVALID_PARAMETER;
		tmp.al = *Allocator;
		tmp.custom = true;
	}
	m = raw_alloc(&tmp, sizeof(*m));
	if (!m)
		return ERROR_NOT_ENOUGH_MEMORY;
	if ((uintptr_t)m & 7) {
		raw_free(&tmp, m);
		return ERROR_INVALID_PARAMETER;
	}
	*m = tmp;
	m->magic = MARKER_MAGIC;
	m->bound_class = -1;
	*WalkMarkerHandle = (HPSSWALK)m;
	return ERROR_SUCCESS;
}

static void marker_unbind(struct win_marker *m)
{
	pss_walk_marker_free(m->nm);	/* its buffers: back to the allocator */
	m->nm = NULL;
	pss_walk_marker_free(m->ctx_nm);
	m->ctx_nm = NULL;
	/* names handed out stay in m->chunks until the marker is freed */
	m->names = NULL;
	m->contexts = NULL;
	m->images = NULL;
	m->nr_images = 0;
	m->bound = NULL;
	m->bound_class = -1;
}

PSS_API DWORD PssWalkMarkerFree(HPSSWALK WalkMarkerHandle)
{
	struct win_marker *m = marker_get(WalkMarkerHandle);
	struct chunk *c, *next;

	if (!m)
		return ERROR_INVALID_HANDLE;
	marker_unbind(m);
	for (c = m->chunks; c; c = next) {
		next = c->next;
		raw_free(m, c);
	}
	m->magic = MARKER_DEAD;
	raw_free(m, m);
	return ERROR_SUCCESS;
}

PSS_API DWORD PssWalkMarkerGetPosition(HPSSWALK WalkMarkerHandle,
				       ULONG_PTR *Position)
{
	struct win_marker *m = marker_get(WalkMarkerHandle);

	if (!m)
		return ERROR_INVALID_HANDLE;
	if (!Position)
		return ERROR_INVALID_PARAMETER;
	*Position = (ULONG_PTR)(m->index << POS_SHIFT) | m->tag;
	return ERROR_SUCCESS;
}

PSS_API DWORD PssWalkMarkerSetPosition(HPSSWALK WalkMarkerHandle,
				       ULONG_PTR Position)
{
	struct win_marker *m = marker_get(WalkMarkerHandle);
	unsigned int tag = Position & POS_TAG_MASK;

	if (!m)
		return ERROR_INVALID_HANDLE;
	/* only values GetPosition can have made */
	if (tag > NR_WALK_CLASSES || (!tag && Position))
		return ERROR_INVALID_PARAMETER;
	m->index = Position >> POS_SHIFT;
	m->tag = tag;
	return ERROR_SUCCESS;
}

PSS_API DWORD PssWalkMarkerSeekToBeginning(HPSSWALK WalkMarkerHandle)
{
	struct win_marker *m = marker_get(WalkMarkerHandle);

	if (!m)
		return ERROR_INVALID_HANDLE;
	m->index = 0;
	return ERROR_SUCCESS;
}

/* --------------------------------------------------------------- walk */

static int native_class(int cls)
{
	switch (cls) {
	case PSS_WALK_VA_SPACE:
		return PSS_NATIVE_WALK_VA_SPACE;
	case PSS_WALK_HANDLES:
		return PSS_NATIVE_WALK_HANDLES;
	case PSS_WALK_THREADS:
	case PSS_WALK_THREAD_NAME:
		return PSS_NATIVE_WALK_THREADS;
	default:
		return -1;
	}
}

static __u64 native_facet(int cls)
{
	switch (cls) {
	case PSS_WALK_VA_SPACE:
		return PSS_FACET_VA_SPACE;
	case PSS_WALK_HANDLES:
		return PSS_FACET_HANDLES;
	default:
		return PSS_FACET_THREADS;
	}
}

static bool vma_has_file(const struct pss_vma_entry *v)
{
	return v->ino || v->dev_major || v->dev_minor;
}

/*
 * ld.so maps an ELF object as several private VMAs of one file, one of them
 * executable: every private VMA of such a file is part of an image
 * (MEM_IMAGE), whose base and size span them all.
 */
static int find_images(struct win_marker *m, struct pss_snapshot *snap)
{
	PSS_OPTS(pss_walk_marker_opts, opts);
	struct pss_allocator pal = { m, shim_alloc, shim_free };
	const struct pss_vma_entry *v;
	struct pss_walk_marker *nm;
	size_t cap = 0, n = 0, i;
	struct image *img = NULL;
	int ret;

	opts.allocator = &pal;
	ret = pss_walk_marker_create(snap, PSS_NATIVE_WALK_VA_SPACE, &opts, &nm);
	if (ret)
		return ret;
	/* pass 1: executable private file mappings */
	for (int pass = 0; pass < 2; pass++) {
		pss_walk_marker_seek_to_beginning(nm);
		pss_for_each_vma(nm, v, ret) {
			if (!vma_has_file(v) || (v->flags & PSS_VMA_MAYSHARE))
				continue;
			for (i = 0; i < n; i++)
				if (img[i].ino == v->ino &&
				    img[i].dev_major == v->dev_major &&
				    img[i].dev_minor == v->dev_minor)
					break;
			if (pass == 1) {
				if (i < n) {
					if (v->start < img[i].base)
						img[i].base = v->start;
					if (v->end > img[i].end)
						img[i].end = v->end;
				}
				continue;
			}
			if (!(v->prot & PSS_PROT_EXEC) || i < n)
				continue;
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct image *ni;

				ni = marker_alloc(m, ncap * sizeof(*ni));
				if (!ni) {
					ret = -ENOMEM;
					break;
				}
				if (n)
					memcpy(ni, img, n * sizeof(*ni));
				img = ni;	/* the old array stays in chunks */
				cap = ncap;
			}
			img[n].dev_major = v->dev_major;
			img[n].dev_minor = v->dev_minor;
			img[n].ino = v->ino;
			img[n].base = v->start;
			img[n].end = v->end;
			n++;
		}
		if (ret)
			break;
	}
	pss_walk_marker_free(nm);
	if (ret)
		return ret;
	m->images = img;
	m->nr_images = n;
	return 0;
}

static DWORD marker_bind(struct win_marker *m, HPSS h,
			 const struct win_snap *ws, int cls)
{
	PSS_OPTS(pss_walk_marker_opts, opts);
	struct pss_allocator pal = { m, shim_alloc, shim_free };
	int ret;

	/* a position of another class means nothing here: start over */
	if (m->tag != (unsigned int)cls + 1) {
		m->index = 0;
		m->tag = cls + 1;
	}
	if (m->nm && m->bound == h && m->bound_class == cls)
		return ERROR_SUCCESS;
	marker_unbind(m);
	opts.allocator = &pal;
	ret = pss_walk_marker_create(ws->snap, native_class(cls), &opts, &m->nm);
	if (ret)
		return win_error(ret);
	m->total = ws->count[native_class(cls)];
	if (cls == PSS_WALK_VA_SPACE) {
		ret = find_images(m, ws->snap);
		if (ret) {
			marker_unbind(m);
			return win_error(ret);
		}
	}
	m->bound = h;
	m->bound_class = cls;
	m->bound_ws = *ws;
	return ERROR_SUCCESS;
}

/* The name at the current position as a wide string, converted once. */
static const wchar_t *marker_name(struct win_marker *m, const char *s,
				  size_t len, WORD *bytes)
{
	wchar_t *w;
	size_t n;

	*bytes = 0;
	if (!s)
		return NULL;
	if (!m->names) {
		if (m->total > SIZE_MAX / sizeof(*m->names))
			return NULL;
		m->names = marker_alloc(m, m->total * sizeof(*m->names) + 1);
		if (!m->names)
			return NULL;
		memset(m->names, 0, m->total * sizeof(*m->names));
	}
	w = m->names[m->index];
	n = utf8_to_wcs(s, len, NULL, 0);
	if (!w) {
		w = marker_alloc(m, (n + 1) * sizeof(wchar_t));
		if (!w)
			return NULL;
		utf8_to_wcs(s, len, w, n + 1);
		m->names[m->index] = w;
	}
	n *= sizeof(wchar_t);
	*bytes = n > UINT16_MAX ? UINT16_MAX : (WORD)n;
	return w;
}

static DWORD map_protect(const struct pss_vma_entry *v)
{
	bool r = v->prot & PSS_PROT_READ, w = v->prot & PSS_PROT_WRITE;
	bool x = v->prot & PSS_PROT_EXEC;
	/* a private writable file mapping is copy-on-write */
	bool cow = w && vma_has_file(v) && !(v->flags & PSS_VMA_MAYSHARE);

	if (x) {
		if (w)
			return cow ? PAGE_EXECUTE_WRITECOPY : PAGE_EXECUTE_READWRITE;
		return r ? PAGE_EXECUTE_READ : PAGE_EXECUTE;
	}
	if (w)
		return cow ? PAGE_WRITECOPY : PAGE_READWRITE;
	return r ? PAGE_READONLY : PAGE_NOACCESS;
}

static const struct image *vma_image(const struct win_marker *m,
				     const struct pss_vma_entry *v)
{
	size_t i;

	if (!vma_has_file(v) || (v->flags & PSS_VMA_MAYSHARE))
		return NULL;
	for (i = 0; i < m->nr_images; i++)
		if (m->images[i].ino == v->ino &&
		    m->images[i].dev_major == v->dev_major &&
		    m->images[i].dev_minor == v->dev_minor)
			return &m->images[i];
	return NULL;
}

static DWORD fill_va(struct win_marker *m, const struct pss_vma_entry *v,
		     PSS_VA_SPACE_ENTRY *e)
{
	const struct image *img = vma_image(m, v);
	const char *name = pss_vma_entry_name(v);

	memset(e, 0, sizeof(*e));
	e->BaseAddress = (void *)(uintptr_t)v->start;
	e->RegionSize = v->end - v->start;
	e->Protect = map_protect(v);
	/* PROT_NONE is how Linux reserves address space (malloc arenas, ld.so) */
	e->State = v->prot ? MEM_COMMIT : MEM_RESERVE;
	if (img) {
		e->Type = MEM_IMAGE;
		e->AllocationBase = (void *)(uintptr_t)img->base;
		e->ImageBase = (void *)(uintptr_t)img->base;
		e->SizeOfImage = (DWORD)(img->end - img->base);
	} else {
		e->Type = vma_has_file(v) || (v->flags & PSS_VMA_MAYSHARE) ?
			  MEM_MAPPED : MEM_PRIVATE;
		e->AllocationBase = e->BaseAddress;
	}
	e->AllocationProtect = e->Protect;
	if (name) {
		e->MappedFileName = marker_name(m, name, v->name_len,
						&e->MappedFileNameLength);
		if (!e->MappedFileName)
			return ERROR_NOT_ENOUGH_MEMORY;
	}
	return ERROR_SUCCESS;
}

/* Windows type names where the object is the same kind of thing. */
static const wchar_t *handle_type_name(__u32 type, PSS_OBJECT_TYPE *ot)
{
	*ot = PSS_OBJECT_TYPE_UNKNOWN;
	switch (type) {
	case PSS_HT_REGULAR:
	case PSS_HT_DIR:
	case PSS_HT_CHR:
	case PSS_HT_BLK:
	case PSS_HT_FIFO:
	case PSS_HT_PIPE:
	case PSS_HT_SOCKET:	/* Windows sockets are File objects too */
	case PSS_HT_SYMLINK:
		return L"File";
	case PSS_HT_PIDFD:
		*ot = PSS_OBJECT_TYPE_PROCESS;
		return L"Process";
	case PSS_HT_EVENTFD:
		*ot = PSS_OBJECT_TYPE_EVENT;
		return L"Event";
	case PSS_HT_MEMFD:
		*ot = PSS_OBJECT_TYPE_SECTION;
		return L"Section";
	case PSS_HT_TIMERFD:
		return L"Timer";
	case PSS_HT_EPOLL:
		return L"epoll";
	case PSS_HT_SIGNALFD:
		return L"signalfd";
	case PSS_HT_INOTIFY:
		return L"inotify";
	case PSS_HT_FANOTIFY:
		return L"fanotify";
	case PSS_HT_USERFAULTFD:
		return L"userfaultfd";
	case PSS_HT_IO_URING:
		return L"io_uring";
	case PSS_HT_ANON:
		return L"anon_inode";
	case PSS_HT_PSS:
		return L"pss";
	default:
		return L"Unknown";
	}
}

static DWORD fill_handle(struct win_marker *m, const struct pss_handle_entry *h,
			 PSS_HANDLE_ENTRY *e)
{
	const char *name = pss_handle_entry_name(h);

	memset(e, 0, sizeof(*e));
	e->Handle = (HANDLE)(intptr_t)h->fd;
	e->CaptureTime = ft_realtime(m->bound_ws.cut_realtime_ns);
	/* inherited across execve() unless close-on-exec */
	e->Attributes = (h->flags & PSS_HANDLE_CLOEXEC) ? 0 : OBJ_INHERIT;
	if (h->flags & PSS_HANDLE_HAS_BASIC) {
		const wchar_t *tn = handle_type_name(h->type, &e->ObjectType);

		e->Flags |= PSS_HANDLE_HAVE_TYPE | PSS_HANDLE_HAVE_BASIC_INFORMATION;
		e->TypeName = tn;
		e->TypeNameLength = (WORD)(wcslen(tn) * sizeof(wchar_t));
		if (h->fmode & PSS_FMODE_READ)
			e->GrantedAccess |= FILE_READ_DATA;
		if (h->fmode & PSS_FMODE_WRITE)
			e->GrantedAccess |= FILE_WRITE_DATA;
		if (h->open_flags & O_APPEND)
			e->GrantedAccess |= FILE_APPEND_DATA;
		/* a memfd's size is the section's size */
		if (h->type == PSS_HT_MEMFD &&
		    (m->bound_ws.facets & PSS_FACET_HANDLE_TYPE_SPECIFIC)) {
			e->Flags |= PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION;
			e->TypeSpecificInformation.Section.MaximumSize.QuadPart =
				(LONGLONG)h->i_size;
		}
	}
	if (name && (h->flags & PSS_HANDLE_HAS_NAME)) {
		e->Flags |= PSS_HANDLE_HAVE_NAME;
		e->ObjectName = marker_name(m, name, h->name_len,
					    &e->ObjectNameLength);
		if (!e->ObjectName)
			return ERROR_NOT_ENOUGH_MEMORY;
	}
	return ERROR_SUCCESS;
}

/*
 * The CONTEXT of a thread from its context entry: NT_PRSTATUS's
 * user_regs_struct and NT_PRFPREG's FXSAVE image (XMM_SAVE_AREA32 is the
 * same layout), the parts the caller asked for that were captured.
 */
enum {	/* struct user_regs_struct (x86-64), in 8-byte words */
	UR_R15, UR_R14, UR_R13, UR_R12, UR_RBP, UR_RBX, UR_R11, UR_R10,
	UR_R9, UR_R8, UR_RAX, UR_RCX, UR_RDX, UR_RSI, UR_RDI, UR_ORIG_RAX,
	UR_RIP, UR_CS, UR_EFLAGS, UR_RSP, UR_SS, UR_FS_BASE, UR_GS_BASE,
	UR_DS, UR_ES, UR_FS, UR_GS, UR_NR
};

/* A register set of a context entry of @len bytes, NULL if absent or bad. */
static const void *ctx_set(const struct pss_context_entry *ce, size_t len,
			   __u32 off, __u32 set_len, size_t *out)
{
	*out = 0;
	if (!set_len || off < sizeof(*ce) || off > len || set_len > len - off)
		return NULL;
	*out = set_len;
	return (const char *)ce + off;
}

/* The layout of Windows' x64 CONTEXT (winnt.h): code reads it by offset. */
_Static_assert(sizeof(XMM_SAVE_AREA32) == 512, "XMM_SAVE_AREA32");
_Static_assert(offsetof(CONTEXT, ContextFlags) == 0x30, "ContextFlags");
_Static_assert(offsetof(CONTEXT, Dr0) == 0x48, "Dr0");
_Static_assert(offsetof(CONTEXT, Rax) == 0x78, "Rax");
_Static_assert(offsetof(CONTEXT, Rip) == 0xf8, "Rip");
_Static_assert(offsetof(CONTEXT, FltSave) == 0x100, "FltSave");
_Static_assert(offsetof(CONTEXT, Xmm0) == 0x1a0, "Xmm0");
_Static_assert(offsetof(CONTEXT, VectorRegister) == 0x300, "VectorRegister");
_Static_assert(sizeof(CONTEXT) == 0x4d0, "CONTEXT");

static void fill_context(CONTEXT *c, const struct pss_context_entry *ce,
			 size_t len, DWORD want)
{
	size_t glen, flen;
	const __u64 *g = ctx_set(ce, len, ce->gregs_off, ce->gregs_len, &glen);
	const void *f = ctx_set(ce, len, ce->fpregs_off, ce->fpregs_len, &flen);
	DWORD have = CONTEXT_AMD64;

	memset(c, 0, sizeof(*c));
	if (ce->elf_machine == EM_X86_64 && g && glen >= UR_NR * 8) {
		have |= CONTEXT_CONTROL | CONTEXT_INTEGER | CONTEXT_SEGMENTS;
		c->Rip = g[UR_RIP];
		c->Rsp = g[UR_RSP];
		c->EFlags = (DWORD)g[UR_EFLAGS];
		c->SegCs = (WORD)g[UR_CS];
		c->SegSs = (WORD)g[UR_SS];
		c->Rax = g[UR_RAX];
		c->Rcx = g[UR_RCX];
		c->Rdx = g[UR_RDX];
		c->Rbx = g[UR_RBX];
		c->Rbp = g[UR_RBP];
		c->Rsi = g[UR_RSI];
		c->Rdi = g[UR_RDI];
		c->R8 = g[UR_R8];
		c->R9 = g[UR_R9];
		c->R10 = g[UR_R10];
		c->R11 = g[UR_R11];
		c->R12 = g[UR_R12];
		c->R13 = g[UR_R13];
		c->R14 = g[UR_R14];
		c->R15 = g[UR_R15];
		c->SegDs = (WORD)g[UR_DS];
		c->SegEs = (WORD)g[UR_ES];
		c->SegFs = (WORD)g[UR_FS];
		c->SegGs = (WORD)g[UR_GS];
		if (f && flen >= sizeof(c->FltSave)) {
			have |= CONTEXT_FLOATING_POINT;
			memcpy(&c->FltSave, f, sizeof(c->FltSave));
			c->MxCsr = c->FltSave.MxCsr;
		}
	}
	/* each part is valid only if asked for: clear the others */
	have &= want | CONTEXT_AMD64;
	if (!(have & (CONTEXT_CONTROL & ~CONTEXT_AMD64)))
		c->Rip = c->Rsp = c->EFlags = c->SegCs = c->SegSs = 0;
	if (!(have & (CONTEXT_INTEGER & ~CONTEXT_AMD64)))
		c->Rax = c->Rcx = c->Rdx = c->Rbx = c->Rbp = c->Rsi = c->Rdi =
		c->R8 = c->R9 = c->R10 = c->R11 = c->R12 = c->R13 = c->R14 =
		c->R15 = 0;
	if (!(have & (CONTEXT_SEGMENTS & ~CONTEXT_AMD64)))
		c->SegDs = c->SegEs = c->SegFs = c->SegGs = 0;
	if (!(have & (CONTEXT_FLOATING_POINT & ~CONTEXT_AMD64))) {
		memset(&c->FltSave, 0, sizeof(c->FltSave));
		c->MxCsr = 0;
	}
	c->ContextFlags = have;
}

/*
 * The CONTEXT of the thread at native position @at, converted once per
 * position into the marker's memory; NULL if the thread was not held.
 */
static DWORD thread_context(struct win_marker *m, __u64 at, CONTEXT **out)
{
	const struct pss_context_entry *ce;
	const void *rec;
	size_t len = 0;
	CONTEXT *c;
	int ret;

	*out = NULL;
	if (!m->contexts) {
		if (m->total > SIZE_MAX / sizeof(*m->contexts))
			return ERROR_NOT_ENOUGH_MEMORY;
		m->contexts = marker_alloc(m, m->total * sizeof(*m->contexts) + 1);
		if (!m->contexts)
			return ERROR_NOT_ENOUGH_MEMORY;
		memset(m->contexts, 0, m->total * sizeof(*m->contexts));
	}
	if (at >= m->total)
		return ERROR_SUCCESS;
	if (m->contexts[at]) {
		*out = m->contexts[at];
		return ERROR_SUCCESS;
	}
	if (!m->ctx_nm) {
		PSS_OPTS(pss_walk_marker_opts, opts);
		struct pss_allocator pal = { m, shim_alloc, shim_free };

		opts.allocator = &pal;
		ret = pss_walk_marker_create(m->bound_ws.snap, PSS_WALK_CONTEXTS,
					     &opts, &m->ctx_nm);
		if (ret)
			return win_error(ret);
	}
	/* one context entry per thread entry, in the same order */
	ret = pss_walk_marker_set_position(m->ctx_nm, at);
	if (!ret)
		ret = pss_walk(m->ctx_nm, &rec, &len);
	if (ret < 0)
		return win_error(ret);
	ce = rec;
	if (ret == 0 || len < sizeof(*ce) || ce->park == PSS_PARK_NONE)
		return ERROR_SUCCESS;
	c = marker_alloc(m, sizeof(*c) + 15);
	if (!c)
		return ERROR_NOT_ENOUGH_MEMORY;
	c = (CONTEXT *)(((uintptr_t)c + 15) & ~(uintptr_t)15);
	fill_context(c, ce, len, m->bound_ws.context_flags);
	m->contexts[at] = c;
	*out = c;
	return ERROR_SUCCESS;
}

static DWORD fill_thread(struct win_marker *m, const struct pss_thread_entry *t,
			 __u64 at, PSS_THREAD_ENTRY *e)
{
	const struct win_snap *ws = &m->bound_ws;
	size_t nwords = 0;
	const __u64 *cpus = pss_thread_entry_cpus(t, &nwords);
	int prio = win_priority(t->policy, t->nice, t->rt_priority);

	memset(e, 0, sizeof(*e));
	e->ExitStatus = STILL_ACTIVE;	/* the walk holds live threads only */
	e->ProcessId = (DWORD)ws->pid;
	e->ThreadId = (DWORD)t->tid;
	if (cpus && nwords)
		e->AffinityMask = (ULONG_PTR)cpus[0];
	e->Priority = prio;
	e->BasePriority = prio;
	e->CreateTime = ft_boottime(ws, t->start_boottime_ns);
	e->KernelTime = ft_span(t->stime_ns);
	e->UserTime = ft_span(t->utime_ns);
	e->CaptureTime = ft_realtime(ws->cut_realtime_ns);
	/* a stopped thread is suspended until SIGCONT / the tracer resumes it */
	if (t->flags & (PSS_THREAD_STOPPED | PSS_THREAD_TRACED) ||
	    t->state == 'T' || t->state == 't')
		e->SuspendCount = 1;
	if (ws->facets & PSS_FACET_THREAD_CONTEXT) {
		DWORD err = thread_context(m, at, &e->ContextRecord);

		if (err)
			return err;
		if (e->ContextRecord)
			e->SizeOfContextRecord = sizeof(CONTEXT);
	}
	return ERROR_SUCCESS;
}

static DWORD fill_thread_name(struct win_marker *m,
			      const struct pss_thread_entry *t,
			      PSS_THREAD_NAME *e)
{
	memset(e, 0, sizeof(*e));
	e->ThreadName = marker_name(m, t->comm, strnlen(t->comm, PSS_COMM_LEN),
				    &e->ThreadNameSize);
	return e->ThreadName ? ERROR_SUCCESS : ERROR_NOT_ENOUGH_MEMORY;
}

/*
 * A thread in do_exit() (PF_EXITING) will never run user code again: it is
 * not live, though the kernel still lists it (pthread_join() returns
 * before it is released). Windows counts such threads; we do not.
 */
static bool thread_gone(const struct pss_thread_entry *t)
{
	return t->flags & PSS_THREAD_EXITING;
}

/*
 * The next entry at or after the marker's position (its native index in
 * *at), without moving the marker: 1, 0 at the end, or -errno.
 */
static int peek(struct win_marker *m, int cls, const void **rec, __u64 *at)
{
	bool threads = native_class(cls) == PSS_NATIVE_WALK_THREADS;
	__u64 pos;
	int ret;

	if (m->index >= m->total)
		return 0;
	if (pss_walk_marker_get_position(m->nm, &pos) || pos != m->index) {
		ret = pss_walk_marker_set_position(m->nm, m->index);
		if (ret)
			return ret;
		pos = m->index;
	}
	for (;; pos++) {
		ret = pss_walk(m->nm, rec, NULL);
		if (ret <= 0)
			return ret;
		if (!threads || !thread_gone(*rec))
			break;
	}
	*at = pos;
	return 1;
}

static size_t walk_entry_size(int cls)
{
	switch (cls) {
	case PSS_WALK_AUXILIARY_PAGES:
		return sizeof(PSS_AUXILIARY_PAGE_ENTRY);
	case PSS_WALK_VA_SPACE:
		return sizeof(PSS_VA_SPACE_ENTRY);
	case PSS_WALK_HANDLES:
		return sizeof(PSS_HANDLE_ENTRY);
	case PSS_WALK_THREADS:
		return sizeof(PSS_THREAD_ENTRY);
	case PSS_WALK_THREAD_NAME:
		return sizeof(PSS_THREAD_NAME);
	default:
		return 0;
	}
}

PSS_API DWORD PssWalkSnapshot(HPSS SnapshotHandle,
			      PSS_WALK_INFORMATION_CLASS InformationClass,
			      HPSSWALK WalkMarkerHandle, void *Buffer,
			      DWORD BufferLength)
{
	int cls = (int)InformationClass;
	size_t esz = walk_entry_size(cls);
	struct win_marker *m = marker_get(WalkMarkerHandle);
	struct win_snap *ws = tab_lookup(SnapshotHandle, false);
	union {
		PSS_VA_SPACE_ENTRY va;
		PSS_HANDLE_ENTRY handle;
		PSS_THREAD_ENTRY thread;
		PSS_THREAD_NAME name;
	} out;
	const void *rec;
	__u64 at = 0, saved;
	DWORD err;
	int ret;

	if (!ws || !m)
		return ERROR_INVALID_HANDLE;
	if (!esz)
		return ERROR_INVALID_PARAMETER;
	/* no memory contents are ever captured: no auxiliary pages */
	if (cls == PSS_WALK_AUXILIARY_PAGES) {
		if (Buffer && BufferLength < esz)
			return ERROR_BAD_LENGTH;
		return ERROR_NO_MORE_ITEMS;
	}
	if (!(ws->facets & native_facet(cls)))
		return ERROR_NOT_FOUND;
	err = marker_bind(m, SnapshotHandle, ws, cls);
	if (err)
		return err;
	if (m->index > m->total)
		return ERROR_INVALID_PARAMETER;
	ret = peek(m, cls, &rec, &at);
	if (ret < 0)
		return win_error(ret);
	if (!Buffer)
		return ret ? ERROR_MORE_DATA : ERROR_NO_MORE_ITEMS;
	if (BufferLength < esz)
		return ERROR_BAD_LENGTH;
	if (!ret)
		return ERROR_NO_MORE_ITEMS;

	/* the entry's names are cached under its position */
	saved = m->index;
	m->index = at;
	switch (cls) {
	case PSS_WALK_VA_SPACE:
		err = fill_va(m, rec, &out.va);
		break;
	case PSS_WALK_HANDLES:
		err = fill_handle(m, rec, &out.handle);
		break;
	case PSS_WALK_THREADS:
		err = fill_thread(m, rec, at, &out.thread);
		break;
	default:
		err = fill_thread_name(m, rec, &out.name);
		break;
	}
	if (err) {
		m->index = saved;	/* a failed walk does not move */
		return err;
	}
	memcpy(Buffer, &out, esz);
	m->index = at + 1;
	return ERROR_SUCCESS;
}

/* -------------------------------------------------------------- query */

static DWORD query_process(const struct win_snap *ws, PSS_PROCESS_INFORMATION *p)
{
	struct pss_process_info *pi;
	int ret;

	pi = malloc(sizeof(*pi));
	if (!pi)
		return ERROR_NOT_ENOUGH_MEMORY;
	ret = pss_query(ws->snap, PSS_QUERY_PROCESS, pi, sizeof(*pi));
	if (ret) {
		free(pi);
		return win_error(ret);
	}
	memset(p, 0, sizeof(*p));
	p->ExitStatus = STILL_ACTIVE;
	if ((pi->flags & PSS_PROC_ZOMBIE) && (pi->mask & PSS_PROC_HAS_EXIT)) {
		int st = pi->exit_code;

		/* as a shell reports it: the exit code, or 128 + signal */
		p->ExitStatus = WIFEXITED(st) ? (DWORD)WEXITSTATUS(st) :
				128 + (DWORD)WTERMSIG(st);
	}
	if (pi->mask & PSS_PROC_HAS_AFFINITY)
		p->AffinityMask = (ULONG_PTR)pi->cpus_allowed[0];
	if (pi->mask & PSS_PROC_HAS_SCHED) {
		p->BasePriority = win_priority(pi->policy, pi->nice,
					       pi->rt_priority);
		p->PriorityClass = win_priority_class(pi->policy, pi->nice);
	}
	p->ProcessId = (DWORD)pi->pid;
	p->ParentProcessId = (DWORD)pi->ppid;
	/* WOW64 is exactly a 32-bit process on a 64-bit kernel */
	if (pi->flags & PSS_PROC_COMPAT)
		p->Flags |= PSS_PROCESS_FLAGS_WOW64;
	if (pi->flags & PSS_PROC_STOPPED)
		p->Flags |= PSS_PROCESS_FLAGS_FROZEN;
	p->CreateTime = ft_boottime(ws, pi->start_boottime_ns);
	if (pi->mask & PSS_PROC_HAS_TIMES) {
		bool ver1 = pi->size >= PSS_PROCESS_INFO_SIZE_VER1;

		/* Windows' process times include exited threads, not children */
		p->KernelTime = ft_span(ver1 ? pi->group_stime_ns :
					pi->stime_ns + pi->dead_stime_ns);
		p->UserTime = ft_span(ver1 ? pi->group_utime_ns :
				      pi->utime_ns + pi->dead_utime_ns);
		p->PageFaultCount = (DWORD)(pi->min_flt + pi->maj_flt);
	}
	if (pi->mask & PSS_PROC_HAS_MM) {
		p->PeakVirtualSize = pi->hiwater_vm_bytes;
		p->VirtualSize = pi->vsize_bytes;
		p->PeakWorkingSetSize = pi->hiwater_rss_bytes;
		p->WorkingSetSize = pi->rss_anon_bytes + pi->rss_file_bytes +
				    pi->rss_shmem_bytes;
		/* commit charge: private writable memory (VmData + VmStk) */
		p->PagefileUsage = pi->data_bytes + pi->stack_bytes;
		p->PrivateUsage = p->PagefileUsage;
	}
	if (pi->mask & PSS_PROC_HAS_EXE)
		utf8_to_wcs(pi->exe_path, pi->exe_path_len, p->ImageFileName,
			    MAX_PATH);
	free(pi);
	return ERROR_SUCCESS;
}

static __u64 us_up(__u64 ns)
{
	return ns / 1000 + (ns % 1000 != 0);
}

static size_t query_size(int cls)
{
	switch (cls) {
	case PSS_QUERY_PROCESS_INFORMATION:
		return sizeof(PSS_PROCESS_INFORMATION);
	case PSS_QUERY_VA_CLONE_INFORMATION:
		return sizeof(PSS_VA_CLONE_INFORMATION);
	case PSS_QUERY_AUXILIARY_PAGES_INFORMATION:
		return sizeof(PSS_AUXILIARY_PAGES_INFORMATION);
	case PSS_QUERY_VA_SPACE_INFORMATION:
		return sizeof(PSS_VA_SPACE_INFORMATION);
	case PSS_QUERY_HANDLE_INFORMATION:
		return sizeof(PSS_HANDLE_INFORMATION);
	case PSS_QUERY_THREAD_INFORMATION:
		return sizeof(PSS_THREAD_INFORMATION);
	case PSS_QUERY_HANDLE_TRACE_INFORMATION:
		return sizeof(PSS_HANDLE_TRACE_INFORMATION);
	case PSS_QUERY_PERFORMANCE_COUNTERS:
		return sizeof(PSS_PERFORMANCE_COUNTERS);
	default:
		return 0;
	}
}

static DWORD clamp_dword(__u64 v)
{
	return v > UINT32_MAX ? UINT32_MAX : (DWORD)v;
}

PSS_API DWORD PssQuerySnapshot(HPSS SnapshotHandle,
			       PSS_QUERY_INFORMATION_CLASS InformationClass,
			       void *Buffer, DWORD BufferLength)
{
	struct win_snap *ws = tab_lookup(SnapshotHandle, false);
	int cls = (int)InformationClass;
	size_t sz = query_size(cls);
	struct pss_perf_info perf;
	int ret;

	if (!ws)
		return ERROR_INVALID_HANDLE;
	if (!sz || !Buffer)
		return ERROR_INVALID_PARAMETER;
	if (BufferLength < sz)
		return ERROR_BAD_LENGTH;

	switch (cls) {
	case PSS_QUERY_PROCESS_INFORMATION:
		return query_process(ws, Buffer);
	case PSS_QUERY_AUXILIARY_PAGES_INFORMATION:
		/* never captured: pss never copies memory contents */
		((PSS_AUXILIARY_PAGES_INFORMATION *)Buffer)->AuxPagesCaptured = 0;
		return ERROR_SUCCESS;
	case PSS_QUERY_VA_SPACE_INFORMATION:
		if (!(ws->facets & PSS_FACET_VA_SPACE))
			return ERROR_NOT_FOUND;
		((PSS_VA_SPACE_INFORMATION *)Buffer)->RegionCount =
			clamp_dword(ws->count[PSS_NATIVE_WALK_VA_SPACE]);
		return ERROR_SUCCESS;
	case PSS_QUERY_HANDLE_INFORMATION:
		if (!(ws->facets & PSS_FACET_HANDLES))
			return ERROR_NOT_FOUND;
		((PSS_HANDLE_INFORMATION *)Buffer)->HandlesCaptured =
			clamp_dword(ws->count[PSS_NATIVE_WALK_HANDLES]);
		return ERROR_SUCCESS;
	case PSS_QUERY_THREAD_INFORMATION: {
		PSS_THREAD_INFORMATION *ti = Buffer;

		if (!(ws->facets & PSS_FACET_THREADS))
			return ERROR_NOT_FOUND;
		/* the live threads at the cut, nothing that has exited */
		ti->ThreadsCaptured = clamp_dword(ws->live_threads);
		ti->ContextLength = ws->facets & PSS_FACET_THREAD_CONTEXT ?
				     sizeof(CONTEXT) : 0;
		return ERROR_SUCCESS;
	}
	case PSS_QUERY_PERFORMANCE_COUNTERS: {
		PSS_PERFORMANCE_COUNTERS *pc = Buffer;

		if (!(ws->facets & PSS_FACET_MEASURE_PERFORMANCE))
			return ERROR_NOT_FOUND;
		ret = pss_query(ws->snap, PSS_QUERY_PERFORMANCE, &perf,
				sizeof(perf));
		if (ret)
			return win_error(ret);
		memset(pc, 0, sizeof(*pc));
		pc->TotalWallClockPeriod = us_up(perf.phase_ns[PSS_PHASE_TOTAL]);
		pc->VaSpaceWallClockPeriod = us_up(perf.phase_ns[PSS_PHASE_VA_SPACE]);
		pc->HandlesWallClockPeriod = us_up(perf.phase_ns[PSS_PHASE_HANDLES]);
		pc->ThreadsWallClockPeriod = us_up(perf.phase_ns[PSS_PHASE_THREADS]);
		return ERROR_SUCCESS;
	}
	default:
		/* VA clones and handle traces are never captured */
		return ERROR_NOT_FOUND;
	}
}

/* ------------------------------------------------ capture, free, dup */

#define CAPTURE_KNOWN (PSS_CAPTURE_VA_CLONE | PSS_CAPTURE_HANDLES |	\
	PSS_CAPTURE_HANDLE_NAME_INFORMATION |				\
	PSS_CAPTURE_HANDLE_BASIC_INFORMATION |				\
	PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION |			\
	PSS_CAPTURE_HANDLE_TRACE | PSS_CAPTURE_THREADS |		\
	PSS_CAPTURE_THREAD_CONTEXT | PSS_CAPTURE_THREAD_CONTEXT_EXTENDED | \
	PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION | \
	PSS_CAPTURE_IPT_TRACE | PSS_CREATE_BREAKAWAY_OPTIONAL |		\
	PSS_CREATE_BREAKAWAY | PSS_CREATE_FORCE_BREAKAWAY |		\
	PSS_CREATE_USE_VM_ALLOCATIONS | PSS_CREATE_MEASURE_PERFORMANCE | \
	PSS_CREATE_RELEASE_SECTION)

static bool is_pseudo_self(HANDLE h)
{
	return h == (HANDLE)(intptr_t)-1;
}

/* HANDLE -> pidfd; -1 if it cannot be one */
static int handle_fd(HANDLE h)
{
	intptr_t v = (intptr_t)h;

	/* NULL is never a handle: a pidfd that is fd 0 must be dup'ed */
	return v <= 0 || v > INT_MAX ? -1 : (int)v;
}

static DWORD win_snap_new(struct pss_snapshot *snap, DWORD context_flags,
			  HPSS *out)
{
	struct pss_snapshot_info si;
	struct pss_process_info *pi;
	struct win_snap *ws;
	DWORD err;
	int ret;

	ws = calloc(1, sizeof(*ws));
	pi = malloc(sizeof(*pi));
	if (!ws || !pi) {
		err = ERROR_NOT_ENOUGH_MEMORY;
		goto fail;
	}
	ret = pss_query(snap, PSS_QUERY_SNAPSHOT, &si, sizeof(si));
	if (!ret)
		ret = pss_query(snap, PSS_QUERY_PROCESS, pi, sizeof(*pi));
	if (ret) {
		err = win_error(ret);
		goto fail;
	}
	ws->snap = snap;
	ws->facets = si.facets;
	ws->cut_realtime_ns = si.cut_realtime_ns;
	ws->cut_boottime_ns = si.cut_boottime_ns;
	ws->count[PSS_NATIVE_WALK_THREADS] = si.nr_threads;
	ws->count[PSS_NATIVE_WALK_HANDLES] = si.nr_handles;
	ws->count[PSS_NATIVE_WALK_VA_SPACE] = si.nr_vmas;
	ws->pid = pi->pid;
	ws->context_flags = context_flags;
	free(pi);
	pi = NULL;
	if (ws->facets & PSS_FACET_THREADS) {
		const struct pss_thread_entry *t;
		struct pss_walk_marker *nm;

		ret = pss_walk_marker_create(snap, PSS_NATIVE_WALK_THREADS, NULL,
					     &nm);
		if (!ret) {
			pss_for_each_thread(nm, t, ret)
				ws->live_threads += !thread_gone(t);
			pss_walk_marker_free(nm);
		}
		if (ret) {
			err = win_error(ret);
			goto fail;
		}
	}
	err = tab_insert(ws, out);
	if (err)
		free(ws);
	return err;
fail:
	free(pi);
	free(ws);
	return err;
}

/* Is h the calling process? Sets *self, returns a Win32 error. */
static DWORD check_self(HANDLE h, bool *self)
{
	struct pss_process_info *pi;
	struct pss_snapshot *snap;
	int fd, ret;

	*self = false;
	if (is_pseudo_self(h)) {
		*self = true;
		return ERROR_SUCCESS;
	}
	fd = handle_fd(h);
	if (fd < 0)
		return ERROR_INVALID_HANDLE;
	/* what the pidfd refers to: capturing oneself is always allowed */
	ret = pss_capture_pidfd(fd, 0, &snap);
	if (ret == -EPERM || ret == -ESRCH)
		return ERROR_SUCCESS;	/* someone else, alive or gone */
	if (ret)
		return win_error(ret);
	pi = malloc(sizeof(*pi));
	if (!pi) {
		pss_snapshot_free(snap);
		return ERROR_NOT_ENOUGH_MEMORY;
	}
	ret = pss_query(snap, PSS_QUERY_PROCESS, pi, sizeof(*pi));
	if (!ret)
		*self = pi->flags & PSS_PROC_SELF;
	free(pi);
	pss_snapshot_free(snap);
	return win_error(ret);
}

/* Snapshots live in the caller's process: h must be that process. */
static DWORD require_self(HANDLE h)
{
	bool self;
	DWORD err = check_self(h, &self);

	if (err)
		return err;
	/* no Linux call puts an fd into another process uninvited */
	return self ? ERROR_SUCCESS : ERROR_NOT_SUPPORTED;
}

PSS_API DWORD PssCaptureSnapshot(HANDLE ProcessHandle,
				 PSS_CAPTURE_FLAGS CaptureFlags,
				 DWORD ThreadContextFlags, HPSS *SnapshotHandle)
{
	DWORD f = (DWORD)CaptureFlags;
	PSS_OPTS(pss_capture_opts, opts);
	struct pss_snapshot *snap;
	DWORD err;
	int ret;

	bool context = f & (PSS_CAPTURE_THREAD_CONTEXT |
			    PSS_CAPTURE_THREAD_CONTEXT_EXTENDED);

	if (!SnapshotHandle || (f & ~(DWORD)CAPTURE_KNOWN))
		return ERROR_INVALID_PARAMETER;
	/* ThreadContextFlags is read only with a context, as on Windows */
	if (context && (ThreadContextFlags & ~(DWORD)(CONTEXT_ALL | CONTEXT_XSTATE)))
		return ERROR_INVALID_PARAMETER;
	/*
	 * A clone needs a fork of another process's address space, which no
	 * exported kernel interface gives a module.
	 */
	if (f & PSS_CAPTURE_VA_CLONE)
		return ERROR_NOT_SUPPORTED;

	if (f & PSS_CAPTURE_THREADS) {
		opts.facets |= PSS_FACET_THREADS;
		/* contexts belong to the thread entries: none without them */
		if (context)
			opts.facets |= PSS_FACET_THREAD_CONTEXT;
	}
	if (f & PSS_CAPTURE_HANDLES) {
		opts.facets |= PSS_FACET_HANDLES;
		if (f & PSS_CAPTURE_HANDLE_NAME_INFORMATION)
			opts.facets |= PSS_FACET_HANDLE_NAME;
		if (f & PSS_CAPTURE_HANDLE_BASIC_INFORMATION)
			opts.facets |= PSS_FACET_HANDLE_BASIC;
		/* the type is a basic field; type detail needs it */
		if (f & PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION)
			opts.facets |= PSS_FACET_HANDLE_BASIC |
				       PSS_FACET_HANDLE_TYPE_SPECIFIC;
	}
	if (f & PSS_CAPTURE_VA_SPACE) {
		opts.facets |= PSS_FACET_VA_SPACE;
		if (f & PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION)
			opts.facets |= PSS_FACET_VA_SPACE_SECTION;
	}
	if (f & PSS_CREATE_MEASURE_PERFORMANCE)
		opts.facets |= PSS_FACET_MEASURE_PERFORMANCE;

	if (!is_pseudo_self(ProcessHandle)) {
		opts.pidfd = handle_fd(ProcessHandle);
		if (opts.pidfd < 0)
			return ERROR_INVALID_HANDLE;
		opts.flags = PSS_CAPTURE_PIDFD;
	}
	ret = pss_capture(&opts, &snap);
	if (ret)
		return win_error(ret);
	err = win_snap_new(snap, context ? ThreadContextFlags : 0,
			   SnapshotHandle);
	if (err)
		pss_snapshot_free(snap);
	return err;
}

PSS_API DWORD PssFreeSnapshot(HANDLE ProcessHandle, HPSS SnapshotHandle)
{
	struct win_snap *ws;
	DWORD err = require_self(ProcessHandle);

	if (err)
		return err;
	ws = tab_lookup(SnapshotHandle, true);
	if (!ws)
		return ERROR_INVALID_HANDLE;
	pss_snapshot_free(ws->snap);
	free(ws);
	return ERROR_SUCCESS;
}

PSS_API DWORD PssDuplicateSnapshot(HANDLE SourceProcessHandle,
				   HPSS SnapshotHandle,
				   HANDLE TargetProcessHandle,
				   HPSS *TargetSnapshotHandle,
				   PSS_DUPLICATE_FLAGS Flags)
{
	struct pss_snapshot *dup;
	struct win_snap *ws, *nws;
	DWORD err;
	int ret;

	if (!TargetSnapshotHandle || ((DWORD)Flags & ~(DWORD)PSS_DUPLICATE_CLOSE_SOURCE))
		return ERROR_INVALID_PARAMETER;
	err = require_self(SourceProcessHandle);
	if (!err)
		err = require_self(TargetProcessHandle);
	if (err)
		return err;
	ws = tab_lookup(SnapshotHandle, false);
	if (!ws)
		return ERROR_INVALID_HANDLE;
	ret = pss_snapshot_dup(ws->snap, &dup);
	if (ret)
		return win_error(ret);
	nws = malloc(sizeof(*nws));
	if (!nws) {
		pss_snapshot_free(dup);
		return ERROR_NOT_ENOUGH_MEMORY;
	}
	*nws = *ws;
	nws->snap = dup;
	err = tab_insert(nws, TargetSnapshotHandle);
	if (err) {
		pss_snapshot_free(dup);
		free(nws);
		return err;
	}
	if (Flags & PSS_DUPLICATE_CLOSE_SOURCE)
		PssFreeSnapshot(GetCurrentProcess(), SnapshotHandle);
	return ERROR_SUCCESS;
}

PSS_API int pss_win_snapshot_fd(HPSS SnapshotHandle)
{
	struct win_snap *ws = tab_lookup(SnapshotHandle, false);

	return ws ? pss_snapshot_fd(ws->snap) : -EINVAL;
}
