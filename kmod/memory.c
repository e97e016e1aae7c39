// SPDX-License-Identifier: GPL-2.0
/*
 * pss: memory contents (PSS_FACET_MEMORY), copied while the threads are
 * parked.
 *
 * What: each parked thread's user stack (from its stack pointer less the
 * x86-64 red zone, stack_bytes upward, within the VMA holding it), the
 * caller's ranges, and every readable, writable, private mapping (what a
 * core dump needs). Each reason gives a list of spans, clipped to readable
 * VMAs under the mmap lock; the union of the lists becomes one record per
 * page (or part of a page), in address order, each byte once, flagged with
 * every reason that covers it.
 *
 * How it reads: as the core dumper does (get_dump_page()), with
 * get_user_pages_remote(FOLL_DUMP) under the mmap read lock (held as
 * /proc/PID/mem holds it: see pss_mem_get()), a batch of pages at a time,
 * and the page references dropped as soon as the bytes are copied:
 * nothing stays pinned. FOLL_DUMP does not fault in a hole of an
 * anonymous mapping, nor hand out the zero page: such a page reads as
 * zeros, as in a core file, and the target gains neither page tables nor
 * pages. access_remote_vm() (/proc/PID/mem) would fault every hole in, and
 * cannot tell a hole from a page it failed to read. Unlike both, no
 * FOLL_FORCE: only what the target itself may read is copied, so a
 * PROT_NONE page is left out; VM_IO and VM_PFNMAP mappings are never read
 * (device memory can have side effects). A file page beyond the end of
 * its file cannot be read and is left out too.
 *
 * Bounds: the records are counted from the spans and allocated (charged to
 * the snapshot) before the first byte is copied, so a capture that cannot
 * fit fails with ENOBUFS up front; the bytes are charged as they are kept.
 *
 * Cost: this runs while the target is stalled, so a distinct page's bytes
 * are read once, to copy them; content is not hashed (pss_intern() would
 * read every byte once more, and allocate per page). Zeros, whole or part
 * of a page, and holes share one kept page of zeros; a whole page equal to
 * one kept earlier is kept once, found by a fingerprint of a few words and
 * confirmed by memcmp().
 *
 * Pre-copy (PSS_MEMORY_PRECOPY): pss_memory_precopy() copies, before the
 * park and with the target running, the pages of its anonymous private
 * writable mappings, as above, and keeps them by address with the page
 * frame each was read from. Parked, such a page that soft-dirty tracking
 * says was not written since (the caller cleared the bits before), and
 * that is still the same page, is taken from that copy without being read
 * (pss_page_clean()). File-backed pages are always read parked: a write()
 * to the file changes a page-cache page without a soft-dirty bit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/highmem.h>
#include <linux/hugetlb.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/sort.h>
#include "compat.h"
#include "pss.h"

/* The x86-64 ABI's red zone below the stack pointer, live in leaf code. */
#define PSS_RED_ZONE		128

/* Pages asked of get_user_pages_remote() per mmap lock hold. */
#define PSS_MEM_BATCH		32

/* Most slots of the table of whole pages kept (16 bytes each). */
#define PSS_MSEEN_MAX_BITS	16

/* Why a span is copied: the order of the lists. */
enum { PSS_MR_STACK, PSS_MR_RANGE, PSS_MR_WRITABLE, PSS_MR_NR };

static const u32 pss_mr_flag[PSS_MR_NR] = {
	[PSS_MR_STACK]		= PSS_MEMORY_ENTRY_STACK,
	[PSS_MR_RANGE]		= PSS_MEMORY_ENTRY_RANGE,
	[PSS_MR_WRITABLE]	= PSS_MEMORY_ENTRY_WRITABLE,
};

struct pss_mspan {
	unsigned long start, end;
	pid_t tid;			/* PSS_MR_STACK: whose */
};

struct pss_mlist {
	struct pss_mspan *v;
	u32 nr, cap;
};

struct pss_mem {
	struct pss_store *st;
	struct pss_mlist list[PSS_MR_NR];
};

/* A whole page kept, by its fingerprint (pss_mpage_key()). */
struct pss_mseen {
	u64 key;
	const char *s;			/* NULL: empty */
};

/*
 * The copy: each byte read goes to the snapshot (pss_keep()) once per
 * distinct page, the table a cache of the pages kept, one per slot.
 */
struct pss_mcopy {
	struct pss_store *st;
	const char *zeros;		/* PAGE_SIZE zeros and a NUL, or NULL */
	struct pss_mseen *seen;
	u32 seen_bits;
	u64 parked;			/* bytes read (or holes) parked */
};

/* A page copied before the park: where, which page frame, its bytes. */
struct pss_pcpage {
	unsigned long addr;
	unsigned long pfn;
	const char *s;			/* PAGE_SIZE bytes and a NUL, kept */
};

/*
 * What pss_memory_precopy() copied of @mm (grabbed: the pointer stays
 * unique), in address order; the bytes are kept in @st until the capture
 * adopts them.
 */
struct pss_precopy {
	struct pss_store st;
	struct mm_struct *mm;
	struct pss_pcpage *v;
	u32 nr, cap;
	u64 bytes;
};

/* The pre-copy as the parked copy looks it up, page by page, in order. */
struct pss_mreuse {
	const struct pss_precopy *pc;
	struct vm_area_struct *vma;	/* cached, under one mmap lock hold */
	u32 cur;			/* first page not below the last asked */
	u64 reused;			/* bytes */
};

/* Walks the union of the lists, one piece of constant reasons at a time. */
struct pss_msweep {
	u32 idx[PSS_MR_NR];
	unsigned long x;
};

static int pss_mlist_grow(struct pss_mem *m, struct pss_mlist *l, u32 cap)
{
	struct pss_mspan *v;

	if (cap <= l->cap)
		return 0;
	v = pss_alloc_raw(m->st, (size_t)cap * sizeof(*v));
	if (IS_ERR(v))
		return PTR_ERR(v);
	if (l->nr)
		memcpy(v, l->v, (size_t)l->nr * sizeof(*v));
	pss_free(m->st, l->v, (size_t)l->cap * sizeof(*v));
	l->v = v;
	l->cap = cap;
	return 0;
}

static int pss_mlist_add(struct pss_mem *m, int k, unsigned long start,
			 unsigned long end, pid_t tid)
{
	struct pss_mlist *l = &m->list[k];
	int err;

	if (start >= end)
		return 0;
	if (l->nr == l->cap) {
		if (l->cap > U32_MAX / 2)
			return -ENOBUFS;
		err = pss_mlist_grow(m, l, max_t(u32, 16, l->cap * 2));
		if (err)
			return err;
	}
	l->v[l->nr++] = (struct pss_mspan){ start, end, tid };
	return 0;
}

static int pss_mspan_cmp(const void *a, const void *b)
{
	const struct pss_mspan *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/*
 * Sort a list and make it disjoint for the sweep: spans of one reason that
 * overlap or touch become one. A stack span overlapping the next one is
 * a window (sp + stack_bytes) running on into the stack of the thread
 * above it, in one VMA: it ends where that thread's stack begins, so that
 * each stack byte is the thread's that uses it.
 */
static void pss_mlist_normalize(struct pss_mlist *l, bool stacks)
{
	u32 i, n = 0;

	if (!l->nr)
		return;
	sort(l->v, l->nr, sizeof(*l->v), pss_mspan_cmp, NULL);
	for (i = 1; i < l->nr; i++) {
		struct pss_mspan *last = &l->v[n], *cur = &l->v[i];

		if (cur->start > last->end ||
		    (stacks && cur->start == last->end)) {
			l->v[++n] = *cur;
		} else if (!stacks) {
			last->end = max(last->end, cur->end);
		} else if (cur->start > last->start) {
			last->end = cur->start;
			l->v[++n] = *cur;
		}
		/* else: two stacks from one address: the first keeps it */
	}
	l->nr = n + 1;
}

/*
 * The next piece [*start, *end) of the union in which the set of reasons
 * (*flags) does not change; false past the last one.
 */
static bool pss_sweep_next(const struct pss_mem *m, struct pss_msweep *s,
			   unsigned long *start, unsigned long *end,
			   u32 *flags, pid_t *tid)
{
	for (;;) {
		unsigned long x = s->x, next = ULONG_MAX;
		bool more = false;
		int k;

		*flags = 0;
		*tid = 0;
		for (k = 0; k < PSS_MR_NR; k++) {
			const struct pss_mlist *l = &m->list[k];
			const struct pss_mspan *sp;

			while (s->idx[k] < l->nr && l->v[s->idx[k]].end <= x)
				s->idx[k]++;
			if (s->idx[k] == l->nr)
				continue;
			more = true;
			sp = &l->v[s->idx[k]];
			if (sp->start <= x) {
				*flags |= pss_mr_flag[k];
				next = min(next, sp->end);
				if (k == PSS_MR_STACK)
					*tid = sp->tid;
			} else {
				next = min(next, sp->start);
			}
		}
		if (!more)
			return false;
		s->x = next;
		if (*flags) {
			*start = x;
			*end = next;
			return true;
		}
	}
}

/*
 * Whether a piece starting at @a joins the record before it (which ends
 * at @prev_end, @prev_tid's): when it continues it inside one page, and
 * is not another thread's stack.
 */
static bool pss_mem_joins(unsigned long prev_end, pid_t prev_tid,
			  unsigned long a, pid_t tid)
{
	return a == prev_end && offset_in_page(a) &&
	       (!tid || !prev_tid || tid == prev_tid);
}

/* The records the union makes: one per page it touches, or part of one. */
static u64 pss_mem_count(const struct pss_mem *m)
{
	struct pss_msweep s = {};
	unsigned long a, b, prev_end = 0;
	pid_t tid, prev_tid = 0;
	u64 n = 0;
	u32 flags;

	while (pss_sweep_next(m, &s, &a, &b, &flags, &tid)) {
		n += ((b - 1) >> PAGE_SHIFT) - (a >> PAGE_SHIFT) + 1;
		if (pss_mem_joins(prev_end, prev_tid, a, tid)) {
			n--;
			prev_tid = prev_tid ?: tid;
		} else {
			prev_tid = tid;
		}
		/* the last page's record is this piece's alone */
		if ((b - 1) >> PAGE_SHIFT != a >> PAGE_SHIFT)
			prev_tid = tid;
		prev_end = b;
	}
	return n;
}

/*
 * Write the records pss_mem_count() counted (@nr) into @recs: address,
 * length (in data_len until the bytes are read), reasons and tid. Returns
 * how many it wrote: @nr, unless the two disagree (a bug).
 */
static u32 pss_mem_layout(const struct pss_mem *m,
			  struct pss_memory_entry *recs, u32 nr)
{
	struct pss_memory_entry *last = NULL;
	struct pss_msweep s = {};
	unsigned long a, b, p, q, prev_end = 0;
	u32 flags, n;
	pid_t tid;

	while (pss_sweep_next(m, &s, &a, &b, &flags, &tid)) {
		for (p = a; p < b; p = q) {
			q = min(b, (p & PAGE_MASK) + PAGE_SIZE);
			if (last &&
			    pss_mem_joins(prev_end, last->tid, p, tid)) {
				last->data_len += q - p;
				last->flags |= flags;
				if (!last->tid)
					last->tid = tid;
			} else {
				last = last ? last + 1 : recs;
				if (WARN_ON_ONCE(last == recs + nr))
					return nr;
				memset(last, 0, sizeof(*last));
				last->addr = p;
				last->data_len = q - p;
				last->flags = flags;
				last->tid = tid;
			}
			prev_end = q;
		}
	}
	n = last ? last + 1 - recs : 0;
	WARN_ON_ONCE(n != nr);
	return n;
}

/* Memory pss reads: what the target may read, and no device memory. */
static bool pss_vma_readable(const struct vm_area_struct *vma)
{
	return (vma->vm_flags & VM_READ) &&
	       !(vma->vm_flags & (VM_IO | VM_PFNMAP));
}

/* PSS_MEMORY_WRITABLE: private writable memory a core dump would keep. */
static bool pss_vma_writable(const struct vm_area_struct *vma)
{
	return pss_vma_readable(vma) && (vma->vm_flags & VM_WRITE) &&
	       !(vma->vm_flags & (VM_MAYSHARE | VM_DONTDUMP));
}

/*
 * What the pre-copy copies: anonymous memory only (no file, no
 * vm_operations: vma_is_anonymous(), which takes no const), whose every
 * write sets a soft-dirty bit; not hugetlb (is_vm_hugetlb_page() takes no
 * const on 6.1), whose bits pss does not read.
 */
static bool pss_vma_precopy(const struct vm_area_struct *vma)
{
	return pss_vma_writable(vma) && !vma->vm_file && !vma->vm_ops &&
	       !(vma->vm_flags & VM_HUGETLB);
}

/*
 * The user stack pointer of @t, from the user registers saved on its
 * kernel stack. A thread killed out of its park may exit meanwhile and its
 * kernel stack be freed (after an RCU grace period, or into a cache of
 * stacks that stay mapped): read t->stack once, under RCU, and find the
 * registers at the offset they have on every thread's stack (the
 * caller's). At worst the value is stale; nothing is read from freed
 * memory.
 */
static bool pss_user_sp(struct task_struct *t, unsigned long *sp)
{
	unsigned long off = (unsigned long)task_pt_regs(current) -
			    (unsigned long)task_stack_page(current);
	void *stack;
	bool ok = false;

	if (t == current) {
		*sp = user_stack_pointer(task_pt_regs(current));
		return true;
	}
	rcu_read_lock();
	if (!(READ_ONCE(t->flags) & PF_EXITING)) {
		stack = READ_ONCE(t->stack);
		if (stack) {
			*sp = user_stack_pointer((struct pt_regs *)(stack +
								    off));
			ok = true;
		}
	}
	rcu_read_unlock();
	return ok;
}

/* Under the mmap lock: each parked thread's stack, within its VMA. */
static int pss_mem_stacks(struct pss_capture *c, struct pss_mem *m)
{
	struct vm_area_struct *vma;
	unsigned long sp, lo, hi;
	int err;
	u32 i;

	for (i = 0; i < c->nr_threads; i++) {
		struct pss_raw_thread *t = &c->threads[i];

		if (!t->live || t->park == PSS_PARK_NONE ||
		    !pss_user_sp(t->task, &sp))
			continue;
		vma = vma_lookup(c->mm, sp);
		if (!vma || !pss_vma_readable(vma))
			continue;
		lo = sp - min_t(unsigned long, sp - vma->vm_start,
				PSS_RED_ZONE);
		hi = lo + min_t(unsigned long, vma->vm_end - lo,
				c->stack_bytes);
		err = pss_mlist_add(m, PSS_MR_STACK, lo, hi, t->tid);
		if (err)
			return err;
	}
	return 0;
}

/* Under the mmap lock: the caller's ranges, clipped to readable VMAs. */
static int pss_mem_ranges(struct pss_capture *c, struct pss_mem *m)
{
	struct vm_area_struct *vma;
	int err;
	u32 i;

	for (i = 0; i < c->nr_ranges; i++) {
		unsigned long start = c->ranges[i].start;
		unsigned long end = start + c->ranges[i].len;	/* dev.c: no wrap */

		for (vma = find_vma(c->mm, start); vma && vma->vm_start < end;
		     vma = find_vma(c->mm, vma->vm_end)) {
			if (!pss_vma_readable(vma))
				continue;
			err = pss_mlist_add(m, PSS_MR_RANGE,
					    max(start, vma->vm_start),
					    min(end, vma->vm_end), 0);
			if (err)
				return err;
		}
	}
	return 0;
}

/* Under the mmap lock: every private writable mapping. */
static int pss_mem_writable(struct pss_capture *c, struct pss_mem *m)
{
	VMA_ITERATOR(vmi, c->mm, 0);
	struct vm_area_struct *vma;
	int err;

	for_each_vma(vmi, vma) {
		if (!pss_vma_writable(vma))
			continue;
		err = pss_mlist_add(m, PSS_MR_WRITABLE, vma->vm_start,
				    vma->vm_end, 0);
		if (err)
			return err;
	}
	return 0;
}

static int pss_mem_spans(struct pss_capture *c, struct pss_mem *m)
{
	int err = 0;

	/* Sized before the lock; the ranges, and a grown mm, grow under it. */
	if (c->memory_flags & PSS_MEMORY_STACKS)
		err = pss_mlist_grow(m, &m->list[PSS_MR_STACK],
				     c->nr_threads);
	if (!err && (c->memory_flags & PSS_MEMORY_WRITABLE))
		err = pss_mlist_grow(m, &m->list[PSS_MR_WRITABLE],
				     READ_ONCE(c->mm->map_count) + 1);
	if (err)
		return err;
	if (mmap_read_lock_killable(c->mm))
		return -EINTR;
	if (c->memory_flags & PSS_MEMORY_STACKS)
		err = pss_mem_stacks(c, m);
	if (!err && (c->memory_flags & PSS_MEMORY_RANGES))
		err = pss_mem_ranges(c, m);
	if (!err && (c->memory_flags & PSS_MEMORY_WRITABLE))
		err = pss_mem_writable(c, m);
	mmap_read_unlock(c->mm);
	pss_mlist_normalize(&m->list[PSS_MR_STACK], true);
	pss_mlist_normalize(&m->list[PSS_MR_RANGE], false);
	pss_mlist_normalize(&m->list[PSS_MR_WRITABLE], false);
	return err;
}

/*
 * Under the mmap lock, for a page of @vma (or of none) that
 * get_user_pages_remote(FOLL_DUMP) failed with -EFAULT: true if it is a
 * hole that reads as zeros (where FOLL_DUMP declines to fault: anonymous
 * memory, or a mapping with no fault handler, or hugetlb), false if it
 * cannot be read at all.
 */
static bool pss_mem_hole(struct vm_area_struct *vma)
{
	return vma && pss_vma_readable(vma) &&
	       (vma_is_anonymous(vma) || is_vm_hugetlb_page(vma) ||
		!vma->vm_ops->fault);
}

/* How many of the next pages (from record @i on) to ask for in one go. */
static u32 pss_mem_batch(const struct pss_memory_entry *recs, u32 nr, u32 i)
{
	unsigned long page = recs[i].addr & PAGE_MASK;
	u32 n = 1;

	for (i++; i < nr && n < PSS_MEM_BATCH; i++) {
		unsigned long p = recs[i].addr & PAGE_MASK;

		if (p == page)
			continue;
		if (p != page + PAGE_SIZE)
			break;
		page = p;
		n++;
	}
	return n;
}

/*
 * Read the pages of a batch: @pages gets what get_user_pages_remote() gave
 * (the return value, possibly 0); if that is 0, *@hole says whether the
 * first page is a hole (zeros) or cannot be read (left out).
 *
 * FOLL_DUMP as get_dump_page() asks, with the mmap read lock held (by the
 * caller) throughout as /proc/PID/mem holds it (no @locked, no retry).
 * A fault in a range registered with userfaultfd would wait for its
 * handler, or fail with a warning where it may not wait; the dumper is
 * spared by handle_userfault() giving up on a PF_DUMPCORE task, pss is
 * not, and the handler may be one of the threads parked for this capture.
 * There only what is present is read (FOLL_NOFAULT): the rest is left out.
 */
static long pss_mem_get(struct mm_struct *mm, unsigned long first, u32 n,
			struct page **pages, bool *hole)
{
	unsigned int flags = FOLL_DUMP;
	struct vm_area_struct *vma;
	long got;

	/* not mmap_assert_locked(): 6.1 does not export its dump_mm() */
	lockdep_assert_held(&mm->mmap_lock);
	*hole = false;
	vma = vma_lookup(mm, first);
	if (vma) {
		n = min_t(unsigned long, n, (vma->vm_end - first) >> PAGE_SHIFT);
		if (vma->vm_flags & (VM_UFFD_MISSING | VM_UFFD_MINOR))
			flags |= FOLL_NOFAULT;
	}
	got = pss_get_user_pages_remote(mm, first, n, flags, pages, NULL);
	if (got == -EFAULT)
		*hole = pss_mem_hole(vma);
	switch (got) {
	case -ENOMEM:
		return -ENOMEM;
	case -EINTR:
	case -ERESTARTSYS:
		return -EINTR;
	}
	return max(got, 0L);	/* other errors: left out */
}

/*
 * @len zeros, kept: the tail of one kept page of zeros (and its NUL), so
 * zeros of any length cost nothing more.
 */
static int pss_mcopy_zeros(struct pss_mcopy *mc, u32 len,
			   struct pss_name *name)
{
	if (!mc->zeros) {
		char *z = pss_keep(mc->st, PAGE_SIZE + 1);

		if (IS_ERR(z))
			return PTR_ERR(z);
		memset(z, 0, PAGE_SIZE + 1);
		mc->zeros = z;
	}
	name->s = mc->zeros + PAGE_SIZE - len;
	name->len = len;
	name->kind = PSS_NAME_STR;
	return 0;
}

/*
 * A fingerprint of a whole page: eight words spread over it, each in
 * another cache line and at another offset in it. Zero if the words are.
 */
static u64 pss_mpage_key(const void *page)
{
	const u64 *w = page;
	u64 h = 0;
	int i;

	for (i = 0; i < 8; i++)
		h = (h + w[i * (PAGE_SIZE / 64 + 1)]) * GOLDEN_RATIO_64;
	return h;
}

/*
 * Whether a whole page is zeros: eight words a test, which under TCG is
 * several times faster than memchr_inv()'s test a word (thread stacks are
 * mostly such pages).
 */
static bool pss_mpage_zero(const void *page)
{
	const u64 *w = page;
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / 8; i += 8)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] |
		    w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return false;
	return true;
}

/*
 * Keep the @len bytes at @src as @name: the bytes and a NUL, as the walk
 * writes a name. Zeros and whole pages seen before are not kept again.
 */
static int pss_mcopy_keep(struct pss_mcopy *mc, const char *src, u32 len,
			  struct pss_name *name)
{
	struct pss_mseen *slot = NULL;
	char *dst;

	if (len == PAGE_SIZE) {
		u64 key = pss_mpage_key(src);

		if (!key && pss_mpage_zero(src))
			return pss_mcopy_zeros(mc, len, name);
		if (mc->seen) {
			slot = &mc->seen[hash_64(key, mc->seen_bits)];
			if (slot->s && slot->key == key &&
			    !memcmp(slot->s, src, len)) {
				name->s = slot->s;
				name->len = len;
				name->kind = PSS_NAME_STR;
				return 0;
			}
			slot->key = key;
			slot->s = NULL;
		}
	} else if (!memchr_inv(src, 0, len)) {
		return pss_mcopy_zeros(mc, len, name);
	}
	dst = pss_keep(mc->st, (size_t)len + 1);
	if (IS_ERR(dst))
		return PTR_ERR(dst);
	memcpy(dst, src, len);
	dst[len] = '\0';
	if (slot)
		slot->s = dst;
	name->s = dst;
	name->len = len;
	name->kind = PSS_NAME_STR;
	return 0;
}

/*
 * Whether the page at @addr of @vma is still page frame @pfn and was not
 * written since its soft-dirty bit was cleared: present with the bit
 * clear, in a VMA whose bit was cleared too (a VMA made or grown since has
 * VM_SOFTDIRTY). Anything else is not clean: no entry, a leaf above the
 * pmd, another page frame (zapped, then faulted in again by a read: the
 * zero page is mapped without a soft-dirty bit), and every swap or
 * migration entry: there is no frame to compare, and mremap() moving a
 * whole pte table (move_normal_pmd()) keeps the bits of swap entries
 * clear at an address whose pre-copied page was another.
 *
 * walk_page_range() and pte_offset_map() are not exported: this is a
 * read-only walk as GUP-fast does it, each level read once and decided on
 * its local copy, no table written. The tables it reads stay tables: the
 * caller holds the mmap read lock under which it found @vma, and a VMA's
 * tables are freed only with the write lock held (munmap, exit, collapse
 * of anonymous memory) or, where they are not (a pte table retracted from
 * a file mapping, 6.6+), after an RCU grace period.
 */
static bool pss_page_clean(struct vm_area_struct *vma, unsigned long addr,
			   unsigned long pfn)
{
	pgd_t *pgdp, pgd;
	p4d_t *p4dp, p4d;
	pud_t *pudp, pud;
	pmd_t *pmdp, pmd;
	pte_t pte;
	bool clean = false;

	lockdep_assert_held(&vma->vm_mm->mmap_lock);
	if (vma->vm_flags & VM_SOFTDIRTY)
		return false;
	rcu_read_lock();
	pgdp = pgd_offset(vma->vm_mm, addr);
	pgd = READ_ONCE(*pgdp);
	if (pgd_none(pgd) || pgd_bad(pgd))
		goto out;
	p4dp = p4d_offset_lockless(pgdp, pgd, addr);
	p4d = READ_ONCE(*p4dp);
	if (!p4d_present(p4d) || p4d_bad(p4d))
		goto out;
	pudp = pud_offset_lockless(p4dp, p4d, addr);
	pud = READ_ONCE(*pudp);
	if (!pud_present(pud) || pud_leaf(pud) || pud_bad(pud))
		goto out;
	pmdp = pmd_offset_lockless(pudp, pud, addr);
	pmd = READ_ONCE(*pmdp);		/* one word: no pmdp_get_lockless() */
	if (!pmd_present(pmd))
		goto out;
	if (pmd_trans_huge(pmd)) {
		clean = !pmd_soft_dirty(pmd) &&
			pmd_pfn(pmd) + ((addr & ~PMD_MASK) >> PAGE_SHIFT) == pfn;
		goto out;
	}
	if (pmd_leaf(pmd) || pmd_bad(pmd))
		goto out;
	pte = ptep_get(pte_offset_kernel(&pmd, addr));
	clean = pte_present(pte) && !pte_soft_dirty(pte) && pte_pfn(pte) == pfn;
out:
	rcu_read_unlock();
	return clean;
}

/*
 * Under the mmap read lock: the bytes pre-copied of the page at @page, if
 * it is clean (pss_page_clean()), else NULL. Pages are asked in address
 * order (a page again at most).
 */
static const char *pss_mreuse_page(struct pss_mreuse *ru,
				   struct mm_struct *mm, unsigned long page)
{
	const struct pss_precopy *pc = ru->pc;
	const struct pss_pcpage *pp;

	while (ru->cur < pc->nr && pc->v[ru->cur].addr < page)
		ru->cur++;
	if (ru->cur == pc->nr || pc->v[ru->cur].addr != page)
		return NULL;
	pp = &pc->v[ru->cur];
	if (!ru->vma || page < ru->vma->vm_start || page >= ru->vma->vm_end)
		ru->vma = vma_lookup(mm, page);
	if (!ru->vma || !pss_vma_precopy(ru->vma) ||
	    !pss_page_clean(ru->vma, page, pp->pfn))
		return NULL;
	return pp->s;
}

/*
 * Under the mmap read lock: of the @n pages from record @i's on, the
 * first run that is all pre-copied and clean (@kept[k] their bytes) or
 * all not; returns its length. A page is taken from the pre-copy only
 * for its WRITABLE records (spans of whole VMAs: every record of such a
 * page has the reason).
 */
static u32 pss_mem_reuse(struct pss_mreuse *ru, struct mm_struct *mm,
			 const struct pss_memory_entry *recs, u32 nr, u32 i,
			 u32 n, const char **kept)
{
	unsigned long first = recs[i].addr & PAGE_MASK;
	u32 k;

	kept[0] = NULL;
	if (!ru)
		return n;
	ru->vma = NULL;			/* from an earlier lock hold */
	for (k = 0; k < n; k++) {
		unsigned long page = first + k * PAGE_SIZE;
		const char *s = NULL;

		while (i < nr && recs[i].addr < page)
			i++;
		if (i < nr && (recs[i].flags & PSS_MEMORY_ENTRY_WRITABLE))
			s = pss_mreuse_page(ru, mm, page);
		if (k && !s != !kept[0])
			break;
		kept[k] = s;
	}
	return k;
}

/*
 * Copy the bytes of the @nr records at @recs, in order, into the walk
 * buffer whose records they are: each record is added (pss_wbuf_add())
 * with its bytes kept, or dropped if its page cannot be read, so the
 * buffer's count trails the record being read. With @ru, pages clean
 * since the pre-copy are taken from it.
 */
static int pss_mem_read(struct pss_capture *c, struct pss_mcopy *mc,
			struct pss_walk_buf *wb,
			struct pss_memory_entry *recs, u32 nr,
			struct pss_mreuse *ru)
{
	struct page *pages[PSS_MEM_BATCH];
	const char *kept[PSS_MEM_BATCH];
	int err = 0;
	u32 i = 0;

	while (i < nr) {
		unsigned long first = recs[i].addr & PAGE_MASK, end;
		u32 n = pss_mem_batch(recs, nr, i);
		bool hole = false;
		long got, k;

		if (mmap_read_lock_killable(c->mm))
			return -EINTR;
		n = pss_mem_reuse(ru, c->mm, recs, nr, i, n, kept);
		got = kept[0] ? n : pss_mem_get(c->mm, first, n, pages, &hole);
		mmap_read_unlock(c->mm);
		if (got < 0)
			return got;
		/* The pages got, or else the one page that failed. */
		end = first + (got ?: 1) * PAGE_SIZE;
		for (; !err && i < nr && recs[i].addr < end; i++) {
			struct pss_memory_entry e = recs[i];
			u32 off = offset_in_page(e.addr);
			struct pss_name name;
			char *kaddr;

			k = (e.addr - first) >> PAGE_SHIFT;
			if (kept[0] && e.data_len == PAGE_SIZE) {
				name.s = kept[k];
				name.len = PAGE_SIZE;
				name.kind = PSS_NAME_STR;
			} else if (kept[0]) {
				err = pss_mcopy_keep(mc, kept[k] + off,
						     e.data_len, &name);
			} else if (got) {
				kaddr = kmap_local_page(pages[k]);
				err = pss_mcopy_keep(mc, kaddr + off,
						     e.data_len, &name);
				kunmap_local(kaddr);
			} else if (hole) {
				err = pss_mcopy_zeros(mc, e.data_len, &name);
			} else {
				continue;
			}
			if (kept[0])
				ru->reused += e.data_len;
			else
				mc->parked += e.data_len;
			e.data_off = 0;
			e.data_len = 0;
			if (!err)
				pss_wbuf_add(wb, &e, &name);
		}
		for (k = 0; !kept[0] && k < got; k++)
			put_page(pages[k]);
		if (err)
			return err;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/* The spans of the VMAs the pre-copy copies, and how many pages they have. */
static int pss_precopy_spans(struct mm_struct *mm, struct pss_mem *m,
			     u64 *pages)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct pss_mlist *l = &m->list[PSS_MR_WRITABLE];
	struct vm_area_struct *vma;
	int err;

	err = pss_mlist_grow(m, l, READ_ONCE(mm->map_count) + 1);
	if (err)
		return err;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	for_each_vma(vmi, vma) {
		if (!pss_vma_precopy(vma))
			continue;
		err = pss_mlist_add(m, PSS_MR_WRITABLE, vma->vm_start,
				    vma->vm_end, 0);
		if (err)
			break;
		*pages += vma_pages(vma);
	}
	mmap_read_unlock(mm);
	pss_mlist_normalize(l, false);
	return err;
}

/*
 * PSS_MEMORY_PRECOPY, before the park, with the target running: copy the
 * pages of @mm's anonymous private writable mappings (pss_vma_precopy())
 * as the parked copy does, and keep them by address. NULL if there is
 * nothing to keep; a copy cut short by the bounds (ENOBUFS, EDQUOT) or by
 * memory keeps what it has: the rest is read parked.
 */
struct pss_precopy *pss_memory_precopy(struct mm_struct *mm)
{
	struct page *pages[PSS_MEM_BATCH];
	struct pss_mcopy mc = {};
	struct pss_mlist *l;
	struct pss_precopy *pc;
	struct pss_mem m = {};
	u32 j, seen_bits = 0;
	u64 total = 0;
	int err;

	pc = kzalloc(sizeof(*pc), GFP_KERNEL_ACCOUNT);
	if (!pc)
		return ERR_PTR(-ENOMEM);
	err = pss_store_init(&pc->st);
	if (err) {
		kfree(pc);
		return ERR_PTR(err);
	}
	mmgrab(mm);
	pc->mm = mm;
	m.st = &pc->st;
	mc.st = &pc->st;
	l = &m.list[PSS_MR_WRITABLE];

	err = pss_precopy_spans(mm, &m, &total);
	if (err)
		goto out;
	seen_bits = clamp_t(u32, order_base_2(total), 6, PSS_MSEEN_MAX_BITS);
	mc.seen = pss_alloc(&pc->st, sizeof(*mc.seen) << seen_bits);
	if (IS_ERR(mc.seen))
		mc.seen = NULL;
	mc.seen_bits = seen_bits;

	for (j = 0; !err && j < l->nr; j++) {
		unsigned long addr = l->v[j].start;

		while (!err && addr < l->v[j].end) {
			u32 n = min_t(unsigned long, PSS_MEM_BATCH,
				      (l->v[j].end - addr) >> PAGE_SHIFT);
			bool hole;
			long got, k;

			if (mmap_read_lock_killable(mm)) {
				err = -EINTR;
				break;
			}
			got = pss_mem_get(mm, addr, n, pages, &hole);
			mmap_read_unlock(mm);
			if (got < 0) {
				err = got;
				break;
			}
			for (k = 0; !err && k < got; k++) {
				struct pss_name name;
				char *kaddr;

				err = pss_array_grow(&pc->st, (void **)&pc->v,
						     &pc->cap, pc->nr + 1,
						     sizeof(*pc->v));
				if (err)
					break;
				kaddr = kmap_local_page(pages[k]);
				err = pss_mcopy_keep(&mc, kaddr, PAGE_SIZE,
						     &name);
				kunmap_local(kaddr);
				if (err)
					break;
				pc->v[pc->nr++] = (struct pss_pcpage){
					addr + k * PAGE_SIZE,
					page_to_pfn(pages[k]), name.s };
				pc->bytes += PAGE_SIZE;
			}
			for (k = 0; k < got; k++)
				put_page(pages[k]);
			addr += (got ?: 1) * PAGE_SIZE;
			if (!err && fatal_signal_pending(current))
				err = -EINTR;
			cond_resched();
		}
	}
	/* Out of bounds or memory: keep what was copied, read the rest parked. */
	if (err == -ENOBUFS || err == -EDQUOT || err == -ENOMEM)
		err = 0;
out:
	pss_free(&pc->st, mc.seen, sizeof(*mc.seen) << seen_bits);
	pss_free(&pc->st, l->v, (size_t)l->cap * sizeof(*l->v));
	if (err || !pc->nr) {
		pss_precopy_free(pc);
		return err ? ERR_PTR(err) : NULL;
	}
	return pc;
}

/* Free what a pre-copy holds: its kept bytes unless a capture adopted them. */
void pss_precopy_free(struct pss_precopy *pc)
{
	if (!pc)
		return;
	pss_free(&pc->st, pc->v, (size_t)pc->cap * sizeof(*pc->v));
	pss_store_finish(&pc->st, NULL);
	mmdrop(pc->mm);
	kfree(pc);
}

/*
 * PSS_FACET_MEMORY, after the cut with no lock held, while the target's
 * threads are parked: the records of the memory walk, with their bytes.
 */
int pss_memory_build(struct pss_capture *c)
{
	struct pss_walk_buf *wb = &c->snap->walk[PSS_WALK_MEMORY];
	struct pss_mem m = { .st = &c->store };
	struct pss_mcopy mc = { .st = &c->store };
	struct pss_mreuse ru = { .pc = c->precopy };
	u64 count = 0;
	int err, k;

	/* A pre-copy of another mm (an exec since) is of no use. */
	if (ru.pc && (!c->mm || ru.pc->mm != c->mm))
		ru.pc = NULL;
	if (ru.pc) {
		pss_store_adopt(&c->store, &c->precopy->st);
		c->snap->perf.memory_precopy_bytes = ru.pc->bytes;
	}

	if (c->mm) {
		err = pss_mem_spans(c, &m);
		if (err)
			goto out;
		count = pss_mem_count(&m);
	}
	/* Every record is charged before a byte is copied. */
	err = count > U32_MAX ? -ENOBUFS :
	      pss_wbuf_alloc(&c->store, wb, count,
			     sizeof(struct pss_memory_entry), true);
	if (err || !count)
		goto out;
	count = pss_mem_layout(&m, wb->recs, count);
	/* A slot a page, or fewer; without the table, no such dedup. */
	mc.seen_bits = clamp_t(u32, order_base_2(count), 6, PSS_MSEEN_MAX_BITS);
	mc.seen = pss_alloc(&c->store, sizeof(*mc.seen) << mc.seen_bits);
	if (IS_ERR(mc.seen))
		mc.seen = NULL;
	err = pss_mem_read(c, &mc, wb, wb->recs, count, ru.pc ? &ru : NULL);
	pss_free(&c->store, mc.seen, sizeof(*mc.seen) << mc.seen_bits);
	c->snap->perf.memory_reused_bytes = ru.reused;
	c->snap->perf.memory_parked_bytes = mc.parked;
out:
	for (k = 0; k < PSS_MR_NR; k++)
		pss_free(&c->store, m.list[k].v,
			 (size_t)m.list[k].cap * sizeof(*m.list[k].v));
	return err;
}
