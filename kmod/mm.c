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
		if (anon) {
			pss_set_name(c, r, ref, PSS_VMA_NAME_ANON_SHMEM,
				     "[anon_shmem:%s]", anon->name);
		} else {
			r->name_kind = PSS_VMA_NAME_FILE;
			ref->file = get_file(vma->vm_file);
		}
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

/* Under mmap_read_lock(c->mm): copy every VMA, pin backing files. */
int pss_mm_copy_locked(struct pss_capture *c)
{
	VMA_ITERATOR(vmi, c->mm, 0);
	bool section = c->facets & PSS_FACET_VA_SPACE_SECTION;
	struct mm_struct *mm = c->mm;
	struct vm_area_struct *vma;
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
	c->nr_vma_files = 0;
	c->nr_vma_named = 0;

	for_each_vma(vmi, vma) {
		struct file *file = vma->vm_file;
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
		r->vm_flags = vma->vm_flags;
		r->pgoff = vma->vm_pgoff;
		r->page_shift = ilog2(vma_kernel_pagesize(vma));
		r->name_kind = PSS_VMA_NAME_NONE;
		r->has_file = file;
		ref->file = NULL;
		ref->name = NULL;
		ref->name_len = 0;
		if (file) {
			const struct inode *inode = pss_file_user_inode(file);

			r->dev = inode->i_sb->s_dev;
			r->ino = inode->i_ino;
			r->deleted = d_unlinked(file->f_path.dentry);
		} else {
			r->dev = 0;
			r->ino = 0;
			r->deleted = false;
		}
		if (section) {
			pss_copy_vma_name(c, r, ref, vma);
			c->nr_vma_files += !!ref->file;
			c->nr_vma_named += ref->file || ref->name;
		}
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

/* Branch-free: this runs for every VMA of every walk. */
static u32 pss_vma_flags(unsigned long vm_flags, bool deleted)
{
#define PSS_VM(vm, pss)	((vm_flags & (vm)) ? (pss) : 0)
	return (deleted ? PSS_VMA_DELETED : 0) |
		PSS_VM(VM_SHARED, PSS_VMA_SHARED) |
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

/* At walk time: the uapi record of a VMA as the snapshot keeps it. */
void pss_vma_format(void *dst, const void *rec)
{
	const struct pss_vma_rec *r = rec;
	struct pss_vma_entry *e = dst;

	/*
	 * Every field, no memset (the bounce buffer is not zeroed): a field
	 * added to the record must be set here too.
	 */
	BUILD_BUG_ON(sizeof(*e) != PSS_VMA_ENTRY_SIZE_VER1);
	e->flags = pss_vma_flags(r->vm_flags, r->deleted);
	e->name_off = 0;
	e->name_len = 0;
	e->start = r->start;
	e->end = r->end;
	e->prot = (r->vm_flags & VM_READ ? PSS_PROT_READ : 0) |
		  (r->vm_flags & VM_WRITE ? PSS_PROT_WRITE : 0) |
		  (r->vm_flags & VM_EXEC ? PSS_PROT_EXEC : 0);
	e->name_kind = r->name_kind;
	/* As /proc/PID/maps: an offset only for file mappings. */
	e->pgoff_bytes = r->has_file ? r->pgoff << PAGE_SHIFT : 0;
	e->dev_major = MAJOR(r->dev);
	e->dev_minor = MINOR(r->dev);
	e->ino = r->ino;
	e->page_size = 1ULL << r->page_shift;
	e->build_id_state = r->build_id_state;
	e->build_id_len = r->build_id_len;
	memset(e->build_id, 0, sizeof(e->build_id));
	if (r->build_id_state != PSS_BUILD_ID_NONE)
		e->flags |= PSS_VMA_HAS_BUILD_ID;
	if (r->build_id)
		memcpy(e->build_id, r->build_id, r->build_id_len);
}

/*
 * After unlock, in one pass over the VMAs: intern each one's name (backing
 * files' paths resolved, see pss_resolve_path()), read its build-id, drop
 * its file; then make the records copied under the lock the walk class as
 * they are.
 */
int pss_mm_build(struct pss_capture *c)
{
	struct pss_walk_buf *wb = &c->snap->walk[PSS_WALK_VA_SPACE];
	struct pss_name *names = NULL;
	size_t names_size = (size_t)c->nr_vmas * sizeof(*names);
	struct pss_buildid bid;
	int err = 0;
	u32 i;

	if (!(c->facets & PSS_FACET_VA_SPACE))
		return 0;
	if (c->mm_gone) {
		pss_mm_release(c);	/* the process dropped it: empty */
		c->nr_vmas = 0;
	}
	/* A class without names (all anonymous) frames its records faster. */
	if (c->nr_vmas && c->nr_vma_named) {
		names = pss_alloc_raw(&c->store, names_size);
		if (IS_ERR(names))
			return PTR_ERR(names);
	}
	/* Sized by the files mapped, not the VMAs: most have none. */
	err = pss_buildid_init(&bid, &c->store, c->nr_vma_files);
	if (err) {
		pss_free(&c->store, names, names_size);
		return err;
	}

	for (i = 0; i < c->nr_vmas && !err; i++) {
		struct pss_vma_ref *ref = &c->vma_refs[i];
		struct pss_vma_rec *r = &c->vmas[i];

		r->build_id = NULL;
		r->build_id_state = PSS_BUILD_ID_NONE;
		r->build_id_len = 0;
		if (!names)
			continue;
		names[i].s = NULL;
		names[i].len = 0;
		names[i].kind = PSS_NAME_STR;
		if (ref->file) {
			u64 t = ktime_get_ns();

			err = pss_resolve_path(&c->store,
					       pss_file_user_path(ref->file),
					       &names[i]);
			c->names_ns += ktime_get_ns() - t;
			if (!err && !names[i].s)
				r->name_kind = PSS_VMA_NAME_NONE;
			if (!err)
				err = pss_buildid_get(&bid, ref->file, r);
			fput(ref->file);
			ref->file = NULL;
		} else if (ref->name) {
			err = pss_intern(&c->store, ref->name, ref->name_len,
					 &names[i]);
		}
		cond_resched();
	}
	pss_buildid_fini(&bid);
	if (err) {
		pss_free(&c->store, names, names_size);
		return err;
	}
	pss_wbuf_adopt(wb, c->vmas, c->nr_vmas, sizeof(*c->vmas),
		       sizeof(struct pss_vma_entry), pss_vma_format, names);
	/* The snapshot has the records now: the capture frees no more. */
	c->vmas = NULL;
	c->nr_vmas = 0;
	return 0;
}
