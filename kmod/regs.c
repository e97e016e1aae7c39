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
#include <asm/fpu/types.h>
#include "pss.h"

/* The core-note register sets, in the order a record keeps them. */
enum { PSS_CTX_GREGS, PSS_CTX_FPREGS, PSS_CTX_XSTATE, PSS_CTX_NR };

static const unsigned int pss_ctx_notes[PSS_CTX_NR] = {
	NT_PRSTATUS, NT_PRFPREG, NT_X86_XSTATE,
};

/* A regset view's core-note sets, found once per capture and view. */
struct pss_ctx_view {
	const struct user_regset_view *view;
	const struct user_regset *rs[PSS_CTX_NR];
	u32 max;			/* the most they can take */
	bool fp_in_xstate;		/* see pss_fpregs_from_xstate() */
};

static u32 pss_set_size(const struct user_regset *rs)
{
	return rs ? rs->n * rs->size : 0;
}

static void pss_ctx_view_init(struct pss_ctx_view *cv,
			      const struct user_regset_view *view)
{
	unsigned int i, j;

	cv->view = view;
	cv->max = 0;
	for (i = 0; i < PSS_CTX_NR; i++) {
		cv->rs[i] = NULL;
		for (j = 0; j < view->n; j++) {
			if (view->regsets[j].core_note_type == pss_ctx_notes[i]) {
				cv->rs[i] = &view->regsets[j];
				cv->max += ALIGN(pss_set_size(cv->rs[i]), 8);
				break;
			}
		}
	}
	cv->fp_in_xstate = view->e_machine == EM_X86_64 &&
		pss_set_size(cv->rs[PSS_CTX_FPREGS]) ==
			sizeof(struct fxregs_state) &&
		pss_set_size(cv->rs[PSS_CTX_XSTATE]) >
			offsetof(struct xregs_state, header) +
			sizeof(struct xstate_header);
}

/*
 * The 64-bit view's NT_PRFPREG from its NT_X86_XSTATE image @x (@n bytes)
 * into @fp, saving a regset read per thread under the park: the kernel
 * makes both with copy_xstate_to_uabi_buf() (XSTATE_COPY_FX, _XSAVE) from
 * the same state, so the FP/SSE set is the image's legacy area with the
 * 96 bytes past the XMM registers zeroed. Except MXCSR when SSE is not in
 * use and AVX is: the image has the thread's, the FX copy the init value.
 * False: that case, for a regset read.
 */
static bool pss_fpregs_from_xstate(char *fp, const char *x, int n)
{
	const size_t legacy = offsetof(struct fxregs_state, padding);
	u64 xfeatures;

	if (n < offsetof(struct xregs_state, header) + sizeof(xfeatures))
		return false;
	memcpy(&xfeatures, x + offsetof(struct xregs_state, header),
	       sizeof(xfeatures));
	if (!(xfeatures & XFEATURE_MASK_SSE) && (xfeatures & XFEATURE_MASK_YMM))
		return false;
	memcpy(fp, x, legacy);
	memset(fp + legacy, 0, sizeof(struct fxregs_state) - legacy);
	return true;
}

/*
 * Set @i of @t at @buf + *@used, at most @room bytes; its place in *@e.
 * Returns its length, 0 if not read.
 */
static int pss_read_set(struct task_struct *t, const struct pss_ctx_view *cv,
			unsigned int i, struct pss_context_entry *e,
			char *buf, u32 used, u32 room)
{
	u32 *off[] = { &e->gregs_off, &e->fpregs_off, &e->xstate_off };
	u32 *len[] = { &e->gregs_len, &e->fpregs_len, &e->xstate_len };
	const struct user_regset *rs = cv->rs[i];
	u32 size = pss_set_size(rs);
	int n;

	if (!size || size > room || (rs->active && rs->active(t, rs) <= 0))
		return 0;
	n = regset_get(t, rs, size, buf + used);
	if (n <= 0)
		return 0;
	*off[i] = sizeof(*e) + used;
	*len[i] = n;
	return n;
}

/*
 * Copy @t's register sets back to back into @buf (@cv->max bytes), each
 * at an 8-byte aligned offset; their places in *@e. Returns the bytes
 * used.
 */
static u32 pss_read_context(struct task_struct *t,
			    const struct pss_ctx_view *cv,
			    struct pss_context_entry *e, char *buf)
{
	const u32 fp_size = sizeof(struct fxregs_state);
	u32 used;
	unsigned int i;
	int n;

	e->elf_machine = cv->view->e_machine;
	used = ALIGN(pss_read_set(t, cv, PSS_CTX_GREGS, e, buf, 0, cv->max), 8);
	if (cv->fp_in_xstate) {
		/* The image first, past the room its legacy area will take. */
		n = pss_read_set(t, cv, PSS_CTX_XSTATE, e, buf, used + fp_size,
				 cv->max - used - fp_size);
		if (n > 0 && pss_fpregs_from_xstate(buf + used,
						    buf + used + fp_size, n)) {
			e->fpregs_off = sizeof(*e) + used;
			e->fpregs_len = fp_size;
			return ALIGN(used + fp_size + n, 8);
		}
		e->xstate_off = 0;
		e->xstate_len = 0;
	}
	for (i = PSS_CTX_FPREGS; i < PSS_CTX_NR; i++)
		used = ALIGN(used + pss_read_set(t, cv, i, e, buf, used,
						 cv->max - used), 8);
	return used;
}

/*
 * PSS_CAPTURE_PER_THREAD: each thread's sets are read by the quiesce as
 * soon as it parks or is found held (pss_park_reader), into a slot of its
 * own; pss_context_build() then copies them into the snapshot.
 */
struct pss_ctx_reader {
	struct pss_park_reader rd;
	struct pss_ctx_view cv;		/* the leader's view */
};

struct pss_ctx_slot {
	struct pss_context_entry e;	/* the sets' places and the machine */
	u32 len;			/* bytes at data */
	char data[];
};

static bool pss_ctx_read_slot(const struct pss_park_reader *rd,
			      struct task_struct *t, void *slot)
{
	const struct pss_ctx_reader *cr =
		container_of(rd, struct pss_ctx_reader, rd);
	const struct user_regset_view *view = task_user_regset_view(t);
	struct pss_ctx_slot *s = slot;
	struct pss_ctx_view cv;

	/* A thread in another mode than the leader (a far jump to 32-bit). */
	if (view != cr->cv.view) {
		pss_ctx_view_init(&cv, view);
		if (cv.max > cr->cv.max)
			return false;
	}
	memset(&s->e, 0, sizeof(s->e));
	s->len = pss_read_context(t, view == cr->cv.view ? &cr->cv : &cv,
				  &s->e, s->data);
	return true;
}

struct pss_park_reader *pss_context_reader_new(struct task_struct *leader)
{
	struct pss_ctx_reader *cr = kzalloc(sizeof(*cr), GFP_KERNEL_ACCOUNT);

	if (!cr)
		return ERR_PTR(-ENOMEM);
	pss_ctx_view_init(&cr->cv, task_user_regset_view(leader));
	cr->rd.slot_size = ALIGN(sizeof(struct pss_ctx_slot) + cr->cv.max, 8);
	cr->rd.read = pss_ctx_read_slot;
	return &cr->rd;
}

void pss_context_reader_free(struct pss_park_reader *rd)
{
	if (!IS_ERR_OR_NULL(rd))
		kfree(container_of(rd, struct pss_ctx_reader, rd));
}

/* A thread's sets as the quiesce read them into @s: into @e and @buf. */
static u32 pss_ctx_from_slot(const struct pss_ctx_slot *s,
			     struct pss_context_entry *e, char *buf)
{
	e->elf_machine = s->e.elf_machine;
	e->gregs_off = s->e.gregs_off;
	e->gregs_len = s->e.gregs_len;
	e->fpregs_off = s->e.fpregs_off;
	e->fpregs_len = s->e.fpregs_len;
	e->xstate_off = s->e.xstate_off;
	e->xstate_len = s->e.xstate_len;
	memcpy(buf, s->data, s->len);
	return s->len;
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
 * sets of the held ones, nothing (PSS_PARK_NONE) for the others. They are
 * read straight into the snapshot's memory, not interned: no two threads
 * have the same registers, and hashing them would only lengthen the park.
 */
int pss_context_build(struct pss_capture *c)
{
	struct pss_walk_buf *wb = &c->snap->walk[PSS_WALK_CONTEXTS];
	struct pss_ctx_view cv = {};
	u32 i, live = 0;
	int err;

	for (i = 0; i < c->nr_threads; i++)
		live += c->threads[i].live;
	err = pss_wbuf_alloc(&c->store, wb, live, sizeof(struct pss_context_entry),
			     true);
	if (err)
		return err;
	for (i = 0; i < c->nr_threads; i++) {
		const struct pss_raw_thread *r = &c->threads[i];
		const struct user_regset_view *view;
		struct pss_name data = { .kind = PSS_NAME_STR };
		struct pss_context_entry *e;
		char *buf;

		if (!r->live)
			continue;
		e = pss_wbuf_slot(wb);
		memset(e, 0, sizeof(*e));
		e->tid = r->tid;
		e->park = r->park;
		if (r->park != PSS_PARK_NONE && c->per_thread &&
		    r->park != PSS_PARK_CALLER) {
			const struct pss_ctx_slot *s =
				pss_quiesce_slot(c->quiesce, r->task);

			if (WARN_ON_ONCE(!s))
				return -EINVAL;
			buf = pss_keep(&c->store, s->len + 1);
			if (IS_ERR(buf))
				return PTR_ERR(buf);
			data.len = pss_ctx_from_slot(s, e, buf);
			buf[data.len] = '\0';
			data.s = buf;
		} else if (r->park != PSS_PARK_NONE) {
			view = task_user_regset_view(r->task);
			if (view != cv.view)
				pss_ctx_view_init(&cv, view);
			/* The walk copies a record's data with a NUL after it. */
			buf = pss_keep(&c->store, cv.max + 1);
			if (IS_ERR(buf))
				return PTR_ERR(buf);
			data.len = pss_read_context(r->task, &cv, e, buf);
			buf[data.len] = '\0';
			data.s = buf;
		}
		pss_wbuf_add(wb, e, data.len ? &data : NULL);
	}
	return 0;
}

/*
 * After the release: each parked thread's time in the park, and the auxv
 * (fixed since exec: it needs no thread held).
 */
int pss_context_finish(struct pss_capture *c)
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
	return pss_auxv_build(c);
}
