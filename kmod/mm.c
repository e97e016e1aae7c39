// SPDX-License-Identifier: GPL-2.0
/*
 * pss: the address space facet.
 *
 * Locking: the VMA layout is copied under mmap_read_lock(mm) (taken first
 * and killable, see capture.c): mmap, munmap, mprotect, mremap and brk all
 * take it for write. Page faults may run meanwhile under per-VMA locks but
 * do not change the layout. Backing files are pinned with get_file() under
 * the lock and their paths resolved after unlock; the names the kernel
 * gives to other VMAs (vm_ops->name(), anon names) are copied under the
 * lock, since they are only stable while it is held, into an arena sized
 * before it (a name that does not fit makes the try fail with -EOVERFLOW
 * and the next one size the arena exactly); [heap] and [stack] are static.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/kdev_t.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/string.h>
#include "buildid.h"
#include "compat.h"
#include "pss.h"

/*
 * Under the mmap lock: format a name into the name arena, or (if it does
 * not fit) only count its size, so the next try sizes the arena exactly.
 * Truncated to PSS_VMA_NAME_MAX - 1 bytes, as before the arena.
 */
static void pss_set_name(struct pss_capture *c, struct pss_vma_rec *r,
			 struct pss_vma_ref *ref, u32 kind, const char *fmt,
			 const char *name)
{
	u32 room = min_t(u32, c->cap_vnames - c->nr_vnames, PSS_VMA_NAME_MAX);
	char *dst = room ? c->vnames + c->nr_vnames : NULL;
	int len = snprintf(dst, room, fmt, name);

	len = min_t(int, len, PSS_VMA_NAME_MAX - 1);
	r->name_kind = kind;
	c->want_vnames += len + 1;
	if (len + 1 > room)
		return;		/* -EOVERFLOW at the end of the copy */
	ref->name = dst;
	ref->name_len = len;
	c->nr_vnames += len + 1;
}

static void pss_set_static_name(struct pss_vma_rec *r, struct pss_vma_ref *ref,
				u32 kind, const char *name, u32 len)
{
	r->name_kind = kind;
	ref->name = name;
	ref->name_len = len;
}

/* The name /proc/PID/maps would show, as in get_vma_name(). */
static void pss_copy_vma_name(struct pss_capture *c, struct pss_vma_rec *r,
			      struct pss_vma_ref *ref,
			      struct vm_area_struct *vma)
{
	struct anon_vma_name *anon = NULL;
	const char *name;

#ifdef CONFIG_ANON_VMA_NAME
#ifdef PSS_ANON_NAME_IN_UNION
	/* Shares a union with the file rmap node: anonymous VMAs only. */
	if (!vma->vm_file)
		anon = vma->anon_name;
#else
	anon = vma->anon_name;
#endif
#endif
	if (vma->vm_file) {
		if (anon)
			pss_set_name(c, r, ref, PSS_VMA_NAME_ANON_SHMEM,
				     "[anon_shmem:%s]", anon->name);
		else
			r->name_kind = PSS_VMA_NAME_FILE;
		return;
	}
	if (vma->vm_ops && vma->vm_ops->name) {
		name = vma->vm_ops->name(vma);
		if (name) {
			pss_set_name(c, r, ref, PSS_VMA_NAME_SPECIAL, "%s",
				     name);
			return;
		}
	}
	if (vma->vm_start <= c->brk && vma->vm_end >= c->start_brk) {
		pss_set_static_name(r, ref, PSS_VMA_NAME_HEAP, "[heap]", 6);
		return;
	}
	if (vma->vm_start <= c->start_stack &&
	    vma->vm_end >= c->start_stack) {
		pss_set_static_name(r, ref, PSS_VMA_NAME_STACK, "[stack]",
				    7);
		return;
	}
	if (anon)
		pss_set_name(c, r, ref, PSS_VMA_NAME_ANON, "[anon:%s]",
			     anon->name);
}

/* Branch-free: this runs for every VMA, under the mmap lock. */
static u32 pss_vma_flags(unsigned long vm_flags)
{
#define PSS_VM(vm, pss)	((vm_flags & (vm)) ? (pss) : 0)
	return PSS_VM(VM_SHARED, PSS_VMA_SHARED) |
		PSS_VM(VM_GROWSDOWN, PSS_VMA_GROWSDOWN) |
		PSS_VM(VM_LOCKED, PSS_VMA_LOCKED) |
		PSS_VM(VM_HUGETLB, PSS_VMA_HUGETLB) |
		PSS_VM(VM_IO, PSS_VMA_IO) |
		PSS_VM(VM_PFNMAP, PSS_VMA_PFNMAP) |
		PSS_VM(VM_DONTDUMP, PSS_VMA_DONTDUMP) |
		PSS_VM(VM_DONTCOPY, PSS_VMA_DONTFORK) |
		PSS_VM(VM_WIPEONFORK, PSS_VMA_WIPEONFORK) |
		PSS_VM(VM_MAYSHARE, PSS_VMA_MAYSHARE) |
		PSS_VM(VM_ACCOUNT, PSS_VMA_ACCOUNT) |
		PSS_VM(VM_NORESERVE, PSS_VMA_NORESERVE) |
		PSS_VM(VM_MERGEABLE, PSS_VMA_MERGEABLE) |
		PSS_VM(VM_HUGEPAGE, PSS_VMA_HUGEPAGE) |
		PSS_VM(VM_NOHUGEPAGE, PSS_VMA_NOHUGEPAGE);
#undef PSS_VM
}

/*
 * Under mmap_read_lock(c->mm): copy every VMA, pin backing files. A file
 * is pinned once per run of VMAs that map it (a library's text, data and
 * relro are one run); its inode is read after the cut, from the pin.
 */
int pss_mm_copy_locked(struct pss_capture *c)
{
	VMA_ITERATOR(vmi, c->mm, 0);
	bool section = c->facets & PSS_FACET_VA_SPACE_SECTION;
	struct mm_struct *mm = c->mm;
	struct vm_area_struct *vma;
	struct file *prev_file = NULL;
	u32 n = 0;

	/*
	 * Not mmap_assert_locked(): under CONFIG_DEBUG_VM it calls dump_mm(),
	 * which 6.1 does not export.
	 */
	lockdep_assert_held(&mm->mmap_lock);
	c->brk = mm->brk;
	c->start_brk = mm->start_brk;
	c->start_stack = mm->start_stack;
	c->nr_vnames = 0;
	c->want_vnames = 0;

	for_each_vma(vmi, vma) {
		unsigned long vm_flags = vma->vm_flags;
		struct pss_vma_ref *ref;
		struct pss_vma_rec *r;

		if (n >= c->cap_vmas) {
			n++;		/* just count: the buffer grows */
			continue;
		}
		/* Every field, no memset: this is the mmap lock's hold. */
		r = &c->vmas[n];
		ref = &c->vma_refs[n];
		r->start = vma->vm_start;
		r->end = vma->vm_end;
		r->pgoff = vma->vm_pgoff;
		r->flags = pss_vma_flags(vm_flags);
		r->prot = (vm_flags & VM_READ ? PSS_PROT_READ : 0) |
			  (vm_flags & VM_WRITE ? PSS_PROT_WRITE : 0) |
			  (vm_flags & VM_EXEC ? PSS_PROT_EXEC : 0);
		r->page_shift = ilog2(vma_kernel_pagesize(vma));
		r->name_kind = PSS_VMA_NAME_NONE;
		r->has_file = vma->vm_file;
		r->side = 0;
		ref->file = NULL;
		ref->name = NULL;
		ref->name_len = 0;
		if (vma->vm_file != prev_file && vma->vm_file)
			ref->file = get_file(vma->vm_file);
		prev_file = vma->vm_file;
		if (section)
			pss_copy_vma_name(c, r, ref, vma);
		c->nr_vmas = ++n;
	}
	if (n > c->cap_vmas) {
		c->need_vmas = n;
		return -EOVERFLOW;
	}
	if (c->want_vnames > c->cap_vnames) {
		c->need_vnames = c->want_vnames;
		return -EOVERFLOW;
	}
	return 0;
}

void pss_mm_release(struct pss_capture *c)
{
	u32 i;

	for (i = 0; i < c->nr_vmas; i++) {
		if (c->vma_refs[i].file) {
			fput(c->vma_refs[i].file);
			c->vma_refs[i].file = NULL;
		}
		cond_resched();
	}
}

/* The side entry of @r, or NULL. */
static const struct pss_vma_side *pss_vma_side_of(const struct pss_walk_buf *wb,
						  const struct pss_vma_rec *r)
{
	const struct pss_vma_side *side = wb->side;

	return r->side ? &side[r->side - 1] : NULL;
}

static u32 pss_vma_rec_len(const struct pss_walk_buf *wb, const void *rec)
{
	const struct pss_vma_side *sd = pss_vma_side_of(wb, rec);
	u32 len = sizeof(struct pss_vma_entry);

	if (sd && sd->name.s)
		len += sd->name.len + 1;
	return ALIGN(len, PSS_REC_ALIGN);
}

/* At walk time: the uapi record of a VMA, its name and padding. */
static void pss_vma_write(const struct pss_walk_buf *wb, void *dst,
			  const void *rec, u32 rec_len)
{
	const struct pss_vma_rec *r = rec;
	const struct pss_vma_side *sd = pss_vma_side_of(wb, r);
	struct pss_vma_entry *e = dst;
	u32 fill = sizeof(*e);

	/*
	 * Every field, no memset (the bounce buffer is not zeroed): a field
	 * added to the record must be set here too.
	 */
	BUILD_BUG_ON(sizeof(*e) != PSS_VMA_ENTRY_SIZE_VER1);
	e->rec_len = rec_len;
	e->flags = r->flags;
	e->name_off = 0;
	e->name_len = 0;
	e->start = r->start;
	e->end = r->end;
	e->prot = r->prot;
	e->name_kind = r->name_kind;
	/* As /proc/PID/maps: an offset only for file mappings. */
	e->pgoff_bytes = r->has_file ? r->pgoff << PAGE_SHIFT : 0;
	e->dev_major = 0;
	e->dev_minor = 0;
	e->ino = 0;
	e->page_size = 1ULL << r->page_shift;
	e->build_id_state = PSS_BUILD_ID_NONE;
	e->build_id_len = 0;
	memset(e->build_id, 0, sizeof(e->build_id));
	if (sd) {
		if (sd->deleted)
			e->flags |= PSS_VMA_DELETED;
		e->dev_major = MAJOR(sd->dev);
		e->dev_minor = MINOR(sd->dev);
		e->ino = sd->ino;
		e->build_id_state = sd->build_id_state;
		if (sd->build_id_state != PSS_BUILD_ID_NONE)
			e->flags |= PSS_VMA_HAS_BUILD_ID;
		if (sd->build_id) {
			e->build_id_len = sd->build_id_len;
			memcpy(e->build_id, sd->build_id, sd->build_id_len);
		}
		if (sd->name.s) {
			e->name_off = fill;
			e->name_len = sd->name.len;
			memcpy((char *)dst + fill, sd->name.s, sd->name.len + 1);
			fill += sd->name.len + 1;
		}
	}
	/* A file that has no path (a failed d_path()) has no name either. */
	if (r->name_kind == PSS_VMA_NAME_FILE && !e->name_len)
		e->name_kind = PSS_VMA_NAME_NONE;
	memset((char *)dst + fill, 0, rec_len - fill);
}

static const struct pss_rec_ops pss_vma_ops = {
	.rec_len	= pss_vma_rec_len,
	.write		= pss_vma_write,
};

/* What one side entry is made of, while the VMAs are read. */
struct pss_vma_key {
	struct file *file;	/* pinned by c->vma_refs, or NULL */
	struct pss_name name;	/* a special or anon name, or s == NULL */
};

/* One side entry, from its key: inode, path and build-id of a file. */
static int pss_vma_side_fill(struct pss_capture *c, struct pss_buildid *bid,
			     struct pss_vma_side *sd,
			     const struct pss_vma_key *k)
{
	const struct inode *inode;
	int err = 0;

	memset(sd, 0, sizeof(*sd));
	sd->name = k->name;
	if (!k->file)
		return 0;
	inode = pss_file_user_inode(k->file);
	sd->dev = inode->i_sb->s_dev;
	sd->ino = inode->i_ino;
	sd->deleted = d_unlinked(k->file->f_path.dentry);
	if (!(c->facets & PSS_FACET_VA_SPACE_SECTION))
		return 0;
	if (!sd->name.s) {
		u64 t = ktime_get_ns();

		err = pss_resolve_path(&c->store,
				       pss_file_user_path(k->file), &sd->name);
		c->names_ns += ktime_get_ns() - t;
	}
	if (!err)
		err = pss_buildid_get(bid, k->file, sd);
	return err;
}

/*
 * After unlock: give each VMA its side entry - one per distinct (file,
 * name) the VMAs have, made once - then drop the files and make the
 * records copied under the lock the walk class as they are.
 */
int pss_mm_build(struct pss_capture *c)
{
	struct pss_walk_buf *wb = &c->snap->walk[PSS_WALK_VA_SPACE];
	struct pss_vma_side *side = NULL;
	struct pss_vma_key *keys = NULL;
	struct file *file = NULL;
	u32 nside = 0, cap_keys = 0, i;
	struct pss_ptrmap map;
	struct pss_buildid bid;
	int err = 0;

	if (!(c->facets & PSS_FACET_VA_SPACE))
		return 0;
	if (c->mm_gone) {
		pss_mm_release(c);	/* the process dropped it: empty */
		c->nr_vmas = 0;
	}

	/* The keys: a run of VMAs of one file has one pin, on its first. */
	pss_ptrmap_init(&map);
	for (i = 0; i < c->nr_vmas && !err; i++) {
		const struct pss_vma_ref *ref = &c->vma_refs[i];
		struct pss_vma_rec *r = &c->vmas[i];
		struct pss_name name = { };
		u32 *slot;

		if (ref->file)
			file = ref->file;
		if (ref->name)
			err = pss_intern(&c->store, ref->name, ref->name_len,
					 &name);
		if (err || (!r->has_file && !name.s))
			continue;
		err = pss_ptrmap_get(&c->store, &map, r->has_file ? file : NULL,
				     name.s, &slot);
		if (!err && *slot == U32_MAX) {
			err = pss_array_grow(&c->store, (void **)&keys,
					     &cap_keys, nside + 1,
					     sizeof(*keys));
			if (err)
				break;
			keys[nside].file = r->has_file ? file : NULL;
			keys[nside].name = name;
			*slot = nside++;
		}
		if (!err)
			r->side = *slot + 1;
	}
	pss_ptrmap_fini(&c->store, &map);

	if (!err && nside) {
		side = pss_alloc_raw(&c->store, (size_t)nside * sizeof(*side));
		if (IS_ERR(side)) {
			err = PTR_ERR(side);
			side = NULL;
		}
	}
	if (!err)
		err = pss_buildid_init(&bid, &c->store,
				       c->facets & PSS_FACET_VA_SPACE_SECTION ?
				       nside : 0);
	if (!err) {
		for (i = 0; i < nside && !err; i++) {
			err = pss_vma_side_fill(c, &bid, &side[i], &keys[i]);
			cond_resched();
		}
		pss_buildid_fini(&bid);
	}
	if (keys)
		pss_free(&c->store, keys, (size_t)cap_keys * sizeof(*keys));
	if (err) {
		if (side)
			pss_free(&c->store, side, (size_t)nside * sizeof(*side));
		return err;
	}
	pss_mm_release(c);
	pss_wbuf_adopt_ops(wb, c->vmas, c->nr_vmas, sizeof(*c->vmas),
			   &pss_vma_ops, side);
	/* The snapshot has the records now: the capture frees no more. */
	c->vmas = NULL;
	c->nr_vmas = 0;
	return 0;
}
