// SPDX-License-Identifier: GPL-2.0
/*
 * pss: register contexts of the held threads and the process's auxv
 * (PSS_FACET_THREAD_CONTEXT).
 *
 * Read through the regset interface, as ptrace's PTRACE_GETREGSET and the
 * core dumper read them, so each set is in its ELF core note's layout:
 * NT_PRSTATUS (pr_reg), NT_PRFPREG and NT_X86_XSTATE of the thread's view
 * (64-bit, or 32-bit for a compat process). Only threads the quiesce held
 * (pss_quiesce_settle()) are read: their user registers are saved in the
 * kernel and cannot change until they return to user mode, where they
 * park; the caller's own are its state at the ioctl.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/elf.h>
#include <linux/mm_types.h>
#include <linux/regset.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include "pss.h"

/* The core-note register sets, in the order a record keeps them. */
static const unsigned int pss_ctx_notes[] = {
	NT_PRSTATUS, NT_PRFPREG, NT_X86_XSTATE,
};

static const struct user_regset *
pss_find_regset(const struct user_regset_view *view, unsigned int note)
{
	unsigned int i;

	for (i = 0; i < view->n; i++)
		if (view->regsets[i].core_note_type == note)
			return &view->regsets[i];
	return NULL;
}

/*
 * Copy @t's register sets back to back into @buf (@cap bytes), each at an
 * 8-byte aligned offset; their places in *@e. Returns the bytes used.
 */
static u32 pss_read_context(struct task_struct *t, struct pss_context_entry *e,
			    char *buf, u32 cap)
{
	const struct user_regset_view *view = task_user_regset_view(t);
	u32 *off[] = { &e->gregs_off, &e->fpregs_off, &e->xstate_off };
	u32 *len[] = { &e->gregs_len, &e->fpregs_len, &e->xstate_len };
	u32 used = 0;
	unsigned int i;

	e->elf_machine = view->e_machine;
	for (i = 0; i < ARRAY_SIZE(pss_ctx_notes); i++) {
		const struct user_regset *rs =
			pss_find_regset(view, pss_ctx_notes[i]);
		u32 size;
		int n;

		if (!rs || (rs->active && rs->active(t, rs) <= 0))
			continue;
		size = rs->n * rs->size;
		if (!size || size > cap - used)
			continue;
		n = regset_get(t, rs, size, buf + used);
		if (n <= 0)
			continue;
		*off[i] = sizeof(*e) + used;
		*len[i] = n;
		used = ALIGN(used + n, 8);
	}
	return used;
}

/* The largest the sets of any view can be: the scratch buffer's size. */
static u32 pss_context_max(struct task_struct *t)
{
	const struct user_regset_view *view = task_user_regset_view(t);
	u32 sum = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pss_ctx_notes); i++) {
		const struct user_regset *rs =
			pss_find_regset(view, pss_ctx_notes[i]);

		if (rs)
			sum += ALIGN(rs->n * rs->size, 8);
	}
	return sum;
}

/* NT_AUXV: the vector the kernel saved at exec (mm->saved_auxv). */
static int pss_auxv_build(struct pss_capture *c)
{
	struct pss_auxv_info *ai;
	u32 n = 0;

	ai = pss_keep(&c->store, sizeof(*ai));
	if (IS_ERR(ai))
		return PTR_ERR(ai);
	memset(ai, 0, sizeof(*ai));
	ai->size = sizeof(*ai);
	BUILD_BUG_ON(ARRAY_SIZE(c->mm->saved_auxv) > PSS_AUXV_WORDS);
	if (c->mm && !c->mm_gone) {
		/* Pairs up to and including AT_NULL; fixed since exec. */
		while (n + 2 <= ARRAY_SIZE(c->mm->saved_auxv)) {
			ai->auxv[n] = c->mm->saved_auxv[n];
			ai->auxv[n + 1] = c->mm->saved_auxv[n + 1];
			n += 2;
			if (ai->auxv[n - 2] == AT_NULL)
				break;
		}
	}
	ai->len = n * sizeof(ai->auxv[0]);
	c->snap->auxv = ai;
	return 0;
}

/*
 * One record per live thread, in the thread walk's order: the register
 * sets of the held ones, nothing (PSS_PARK_NONE) for the others.
 */
int pss_context_build(struct pss_capture *c)
{
	struct pss_walk_buf *wb = &c->snap->walk[PSS_WALK_CONTEXTS];
	u32 i, live = 0, cap = 0;
	char *buf = NULL;
	int err;

	err = pss_auxv_build(c);
	if (err)
		return err;
	for (i = 0; i < c->nr_threads; i++) {
		if (!c->threads[i].live)
			continue;
		live++;
		if (c->threads[i].park != PSS_PARK_NONE)
			cap = max(cap, pss_context_max(c->threads[i].task));
	}
	err = pss_wbuf_alloc(&c->store, wb, live, sizeof(struct pss_context_entry),
			     true);
	if (err)
		return err;
	if (cap) {
		buf = kvmalloc(cap, GFP_KERNEL_ACCOUNT);
		if (!buf)
			return -ENOMEM;
	}
	for (i = 0; i < c->nr_threads && !err; i++) {
		const struct pss_raw_thread *r = &c->threads[i];
		struct pss_context_entry *e;
		struct pss_name data = {};
		u32 used = 0;

		if (!r->live)
			continue;
		e = pss_wbuf_slot(wb);
		memset(e, 0, sizeof(*e));
		e->tid = r->tid;
		e->park = r->park;
		if (r->park != PSS_PARK_NONE)
			used = pss_read_context(r->task, e, buf, cap);
		if (used)
			err = pss_intern(&c->store, buf, used, &data);
		pss_wbuf_add(wb, e, used ? &data : NULL);
	}
	kvfree(buf);
	return err;
}

/* After the release: each parked thread's time in the park. */
void pss_context_finish(struct pss_capture *c)
{
	struct pss_walk_buf *wb = &c->snap->walk[PSS_WALK_CONTEXTS];
	struct pss_context_entry *e = wb->recs;
	u32 i;

	for (i = 0; i < c->nr_threads; i++) {
		if (!c->threads[i].live)
			continue;
		if (e->park == PSS_PARK_WAITED)
			e->park_ns = pss_quiesce_park_ns(c->quiesce,
							 c->threads[i].task);
		e++;
	}
}
