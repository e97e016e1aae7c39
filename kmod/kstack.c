// SPDX-License-Identifier: GPL-2.0
/*
 * pss: kernel stacks of the threads (PSS_FACET_THREAD_KSTACK).
 *
 * One record per thread of the thread walk, in its order, read after the
 * cut from the threads it referenced, and after a quiesce's release: a
 * thread it held asleep keeps its stack while it stays asleep, which its
 * context switches tell (one that ran since is a guess), and a thread it
 * parked was on its way back to user mode, in the park: it has no kernel
 * frames of its own and is not read. The frames are symbolised here, as
 * /proc/PID/stack prints them, and interned: threads blocked at the same
 * place share one copy of the text. No address reaches the caller: a
 * return address that names no symbol (a module unloaded since) is "?".
 */
#include <linux/kallsyms.h>
#include <linux/ctype.h>
#include <linux/jhash.h>
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include "compat.h"
#include "pss.h"

/* The longest line: a symbol, its offset one more than sprint_symbol()'s. */
#define PSS_KSTACK_LINE_MAX	(KSYM_SYMBOL_LEN + 2)

/* Stacks already symbolised in this capture: a small hashed cache. */
#define PSS_KSTACK_SEEN		16

struct pss_kstack_seen {
	u32 n;				/* 0: empty */
	struct pss_name name;
	unsigned long addrs[PSS_KSTACK_MAX_FRAMES];
};

struct pss_kstack_scratch {
	struct pss_kstack_seen seen[PSS_KSTACK_SEEN];
	unsigned long addrs[PSS_KSTACK_MAX_FRAMES + 1];
	char sym[KSYM_SYMBOL_LEN];
	char text[PSS_KSTACK_MAX_FRAMES * PSS_KSTACK_LINE_MAX];
};

/*
 * One frame as %pB prints it (sprint_backtrace(), not exported): the
 * symbol of @addr - 1, since a return address may be just past the end of
 * a function whose last instruction is a call, with the offset of @addr.
 * Returns the bytes written to @buf, newline included.
 */
static int pss_kstack_line(char *buf, char *sym, unsigned long addr)
{
	unsigned long off = 0;
	char *plus, *p;

	sprint_symbol(sym, addr - 1);
	/* No symbol: sprint_symbol() printed the address itself. */
	if (!strncmp(sym, "0x", 2))
		return sprintf(buf, "?\n");
	plus = strchr(sym, '+');
	if (!plus || strncmp(plus, "+0x", 3))
		return sprintf(buf, "?\n");
	for (p = plus + 3; isxdigit(*p); p++)
		off = (off << 4) | hex_to_bin(*p);
	*plus = '\0';
	return sprintf(buf, "%s+%#lx%s\n", sym, off + 1, p);
}

/*
 * @t's return addresses into @s->addrs; sets @e's flags and nr_frames
 * (0: no frames). @held: @t's context switches when the quiesce held it
 * (NULL: it did not).
 */
static void pss_kstack_read(struct task_struct *t, const unsigned long *held,
			    struct pss_kstack_scratch *s,
			    struct pss_kstack_entry *e)
{
	unsigned long nsw = pss_task_nsw(t);
	bool on_cpu = t != current && pss_task_on_cpu(t);
	unsigned int n;

	n = pss_save_kstack(t, s->addrs, ARRAY_SIZE(s->addrs));
	/*
	 * On a CPU before or after, or switched meanwhile: the stack moved
	 * while it was read; switched since it was held: it is not the
	 * stack the thread had then.
	 */
	if (t != current &&
	    (on_cpu || pss_task_on_cpu(t) || nsw != pss_task_nsw(t) ||
	     (held && nsw != *held)))
		e->flags |= PSS_KSTACK_RUNNING;
	if (n > PSS_KSTACK_MAX_FRAMES) {
		e->flags |= PSS_KSTACK_TRUNCATED;
		n = PSS_KSTACK_MAX_FRAMES;
	}
	/* Exited, or running in user mode (then RUNNING too). */
	if (!n)
		e->flags |= PSS_KSTACK_NONE;
	e->nr_frames = n;
}

/*
 * The interned text of the @n frames in @s->addrs. The threads of a pool
 * block at the same place: a stack seen before is not symbolised again.
 */
static int pss_kstack_text(struct pss_store *st, struct pss_kstack_scratch *s,
			   u32 n, struct pss_name *name)
{
	size_t bytes = n * sizeof(s->addrs[0]);
	struct pss_kstack_seen *seen;
	u32 i, len = 0;
	int err;

	seen = &s->seen[jhash(s->addrs, bytes, n) % PSS_KSTACK_SEEN];
	if (seen->n == n && !memcmp(seen->addrs, s->addrs, bytes)) {
		*name = seen->name;
		return 0;
	}
	for (i = 0; i < n; i++)
		len += pss_kstack_line(s->text + len, s->sym, s->addrs[i]);
	err = pss_intern(st, s->text, len, name);
	if (err)
		return err;
	seen->n = n;
	memcpy(seen->addrs, s->addrs, bytes);
	seen->name = *name;
	return 0;
}

/* Held asleep by the quiesce: its stack is that of the capture's instant. */
static bool pss_kstack_held(const struct pss_raw_thread *r)
{
	return r->park == PSS_PARK_BLOCKED || r->park == PSS_PARK_STOPPED;
}

int pss_kstack_build(struct pss_capture *c)
{
	struct pss_walk_buf *wb = &c->snap->walk[PSS_WALK_KSTACKS];
	struct pss_kstack_scratch *s;
	u32 i, live = 0;
	int err;

	for (i = 0; i < c->nr_threads; i++)
		live += c->threads[i].live;
	err = pss_wbuf_alloc(&c->store, wb, live, sizeof(struct pss_kstack_entry),
			     true);
	if (err || !live)
		return err;
	s = pss_alloc(&c->store, sizeof(*s));
	if (IS_ERR(s))
		return PTR_ERR(s);

	/* The thread walk's records: the live threads, in cut order. */
	for (i = 0; i < c->nr_threads; i++) {
		const struct pss_raw_thread *r = &c->threads[i];
		struct pss_kstack_entry *e;
		struct pss_name name;

		if (!r->live)
			continue;
		e = pss_wbuf_slot(wb);
		memset(e, 0, sizeof(*e));
		e->tid = r->tid;
		if (r->park == PSS_PARK_WAITED)
			e->flags = PSS_KSTACK_NONE;
		else
			pss_kstack_read(r->task, pss_kstack_held(r) ?
					&r->nsw : NULL, s, e);
		if (e->nr_frames) {
			err = pss_kstack_text(&c->store, s, e->nr_frames,
					      &name);
			if (err)
				break;
		}
		pss_wbuf_add(wb, e, e->nr_frames ? &name : NULL);
		cond_resched();
	}
	pss_free(&c->store, s, sizeof(*s));
	return err;
}
