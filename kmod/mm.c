// SPDX-License-Identifier: GPL-2.0
/*
 * pss: the address space facet.
 *
 * Locking: the VMA layout is copied under mmap_read_lock(mm) (taken first
 * and killable, see capture.c): mmap, munmap, mprotect, mremap and brk all
 * take it for write. Page faults may run meanwhile under per-VMA locks but
 * do not change the layout. Backing files are pinned with get_file() under
 * the lock and their paths resolved after unlock; the names the kernel
 * gives to other VMAs ([heap], [stack], vm_ops->name(), anon names) are
 * copied under the lock, since they are only stable while it is held.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/kdev_t.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/string.h>
#include "compat.h"
#include "pss.h"

static void pss_set_name(struct pss_raw_vma *r, u32 kind, const char *fmt,
			 const char *name)
{
	int len = snprintf(r->name, sizeof(r->name), fmt, name);

	r->name_kind = kind;
	r->name_len = min_t(int, len, sizeof(r->name) - 1);
}

/* The name /proc/PID/maps would show, as in get_vma_name(). */
static void pss_copy_vma_name(struct pss_capture *c, struct pss_raw_vma *r,
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
			pss_set_name(r, PSS_VMA_NAME_ANON_SHMEM,
				     "[anon_shmem:%s]", anon->name);
		} else {
			r->name_kind = PSS_VMA_NAME_FILE;
			r->file = get_file(vma->vm_file);
		}
		return;
	}
	if (vma->vm_ops && vma->vm_ops->name) {
		name = vma->vm_ops->name(vma);
		if (name) {
			pss_set_name(r, PSS_VMA_NAME_SPECIAL, "%s", name);
			return;
		}
	}
	if (vma->vm_start <= c->brk && vma->vm_end >= c->start_brk) {
		pss_set_name(r, PSS_VMA_NAME_HEAP, "%s", "[heap]");
		return;
	}
	if (vma->vm_start <= c->start_stack &&
	    vma->vm_end >= c->start_stack) {
		pss_set_name(r, PSS_VMA_NAME_STACK, "%s", "[stack]");
		return;
	}
	if (anon)
		pss_set_name(r, PSS_VMA_NAME_ANON, "[anon:%s]", anon->name);
}

/* Under mmap_read_lock(c->mm): copy every VMA, pin backing files. */
int pss_mm_copy_locked(struct pss_capture *c)
{
	VMA_ITERATOR(vmi, c->mm, 0);
	bool section = c->facets & PSS_FACET_VA_SPACE_SECTION;
	struct mm_struct *mm = c->mm;
	struct vm_area_struct *vma;
	u32 n = 0;

	c->brk = mm->brk;
	c->start_brk = mm->start_brk;
	c->start_stack = mm->start_stack;

	for_each_vma(vmi, vma) {
		struct pss_raw_vma *r;
		struct file *file = vma->vm_file;

		if (n >= c->cap_vmas) {
			n++;		/* just count: the buffer grows */
			continue;
		}
		r = &c->vmas[n];
		memset(r, 0, sizeof(*r));
		r->start = vma->vm_start;
		r->end = vma->vm_end;
		r->vm_flags = vma->vm_flags;
		r->pgoff = vma->vm_pgoff;
		r->page_size = vma_kernel_pagesize(vma);
		if (file) {
			struct inode *inode = file_inode(file);

			r->has_file = true;
			r->dev = inode->i_sb->s_dev;
			r->ino = inode->i_ino;
			r->deleted = d_unlinked(file->f_path.dentry);
		}
		if (section)
			pss_copy_vma_name(c, r, vma);
		c->nr_vmas = ++n;
	}
	if (n > c->cap_vmas) {
		c->need_vmas = n;
		return -EOVERFLOW;
	}
	return 0;
}

void pss_mm_release(struct pss_capture *c)
{
	u32 i;

	for (i = 0; i < c->nr_vmas; i++)
		if (c->vmas[i].file)
			fput(c->vmas[i].file);
	c->nr_vmas = 0;
}

static u32 pss_vma_flags(unsigned long vm_flags, bool deleted)
{
	static const struct {
		unsigned long vm;
		u32 pss;
	} map[] = {
		{ VM_SHARED,		PSS_VMA_SHARED },
		{ VM_GROWSDOWN,		PSS_VMA_GROWSDOWN },
		{ VM_LOCKED,		PSS_VMA_LOCKED },
		{ VM_HUGETLB,		PSS_VMA_HUGETLB },
		{ VM_IO,		PSS_VMA_IO },
		{ VM_PFNMAP,		PSS_VMA_PFNMAP },
		{ VM_DONTDUMP,		PSS_VMA_DONTDUMP },
		{ VM_DONTCOPY,		PSS_VMA_DONTFORK },
		{ VM_WIPEONFORK,	PSS_VMA_WIPEONFORK },
		{ VM_MAYSHARE,		PSS_VMA_MAYSHARE },
		{ VM_ACCOUNT,		PSS_VMA_ACCOUNT },
		{ VM_NORESERVE,		PSS_VMA_NORESERVE },
		{ VM_MERGEABLE,		PSS_VMA_MERGEABLE },
		{ VM_HUGEPAGE,		PSS_VMA_HUGEPAGE },
		{ VM_NOHUGEPAGE,	PSS_VMA_NOHUGEPAGE },
	};
	u32 flags = deleted ? PSS_VMA_DELETED : 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i].vm && (vm_flags & map[i].vm))
			flags |= map[i].pss;
	return flags;
}

/* After unlock: one record per VMA; consecutive VMAs of a file share a name. */
int pss_mm_build(struct pss_capture *c)
{
	struct pss_walk_buf *wb = &c->snap->walk[PSS_WALK_VA_SPACE];
	struct file *prev_file = NULL;
	const char *prev_name = NULL;
	u32 prev_len = 0, i;
	u64 names_ns = 0, t;
	int err;

	if (!(c->facets & PSS_FACET_VA_SPACE))
		return 0;
	if (c->mm_gone)
		pss_mm_release(c);	/* the process dropped it: empty */
	err = pss_wbuf_init(c, wb, c->nr_vmas,
			    (size_t)c->nr_vmas * sizeof(struct pss_vma_entry));
	if (err)
		return err;

	for (i = 0; i < c->nr_vmas; i++) {
		struct pss_raw_vma *r = &c->vmas[i];
		struct pss_vma_entry e;
		const char *name = NULL;
		u32 name_len = 0;

		memset(&e, 0, sizeof(e));
		e.flags = pss_vma_flags(r->vm_flags, r->deleted);
		e.start = r->start;
		e.end = r->end;
		if (r->vm_flags & VM_READ)
			e.prot |= PSS_PROT_READ;
		if (r->vm_flags & VM_WRITE)
			e.prot |= PSS_PROT_WRITE;
		if (r->vm_flags & VM_EXEC)
			e.prot |= PSS_PROT_EXEC;
		e.name_kind = r->name_kind;
		/* As /proc/PID/maps: an offset only for file mappings. */
		if (r->has_file)
			e.pgoff_bytes = (u64)r->pgoff << PAGE_SHIFT;
		e.dev_major = MAJOR(r->dev);
		e.dev_minor = MINOR(r->dev);
		e.ino = r->ino;
		e.page_size = r->page_size;

		if (r->file && r->file == prev_file) {
			name = prev_name;
			name_len = prev_len;
		} else if (r->file) {
			t = ktime_get_ns();
			name = d_path(pss_file_user_path(r->file), c->scratch,
				      PATH_MAX);
			names_ns += ktime_get_ns() - t;
			if (IS_ERR(name))
				name = NULL;
			else
				name_len = strlen(name);
			prev_file = r->file;
			prev_name = name;
			prev_len = name_len;
		} else if (r->name_kind != PSS_VMA_NAME_NONE) {
			name = r->name;
			name_len = r->name_len;
		}
		if (r->file && !name)
			e.name_kind = PSS_VMA_NAME_NONE;
		if (name) {
			e.name_off = sizeof(e);
			e.name_len = name_len;
		}
		err = pss_wbuf_add(c, wb, &e, sizeof(e), name, name_len);
		if (err)
			return err;
	}
	c->snap->perf.phase_ns[PSS_PHASE_NAMES] += names_ns;
	return 0;
}
