// SPDX-License-Identifier: GPL-2.0
/*
 * pss: park the target's threads for the thread-state facets.
 *
 * Every thread but the caller is asked to stop at its next return to user
 * mode: a task_work queued with TWA_RESUME (TIF_NOTIFY_RESUME, no signal:
 * a thread blocked in a system call is not woken, so nothing it waits in
 * returns EINTR), and kick_process() so that a thread running in user mode
 * enters the kernel now. The capture then waits until each thread is
 *
 *   parked     in pss_park_fn(), sleeping killably until released;
 *   held       asleep in the kernel (blocked, stopped or traced) and off
 *              its CPU: its user registers are saved and cannot change
 *              before it returns, and on its way back it parks;
 *
 * or the timeout passes (the rest are reported PSS_PARK_NONE). A park
 * request that has not run when the capture ends is withdrawn, so that no
 * thread parks after the capture and no request outlives the module.
 *
 * Per thread (a reader given, PSS_CAPTURE_PER_THREAD): nobody waits for
 * the others. Whoever claims a thread first reads it into its slot: the
 * thread itself in its park, which then goes on at once, or the capture
 * when it finds the thread held, while the thread, should it wake, waits
 * at its park for that read only (its pt_regs are on its kernel stack).
 * Once the capture closes the claims, no read starts any more.
 *
 * Lifetime: each queued request holds a reference to the quiesce and to
 * the module; whoever retires the request - pss_park_fn() when it runs,
 * pss_quiesce_end() when it withdraws it - drops both. Tasks are
 * referenced by the quiesce until pss_quiesce_end().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bsearch.h>
#include <linux/module.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/task_work.h>
#include <linux/wait.h>
#include "compat.h"
#include "pss.h"

struct pss_quiesce;

/* pss_park_req.claim, PER_THREAD: who reads the thread */
enum {
	PSS_CLAIM_NONE,
	PSS_CLAIM_SELF,		/* the thread, in its park */
	PSS_CLAIM_CAPTURE,	/* the capture, the thread held */
	PSS_CLAIM_CLOSED,	/* nobody: too late, or exiting */
};

struct pss_park_req {
	struct callback_head work;
	struct pss_quiesce *q;
	struct task_struct *task;	/* referenced until pss_quiesce_end() */
	u64 arrived_ns;			/* when it parked */
	bool queued;			/* a request is out (not withdrawn) */
	bool arrived;			/* it is in pss_park_fn() */
	bool leaving;			/* past its park, maybe exiting */
	char state;			/* its state letter when asked */
	/* PER_THREAD */
	atomic_t claim;			/* PSS_CLAIM_* */
	bool read_done;			/* slot and read_* written (release) */
	u8 read_how;			/* enum pss_park of the read */
	u64 read_ns;			/* how long the read held it */
	bool read_woke;			/* read asleep, but it woke meanwhile */
	unsigned long read_nsw;		/* its context switches before */
	void *slot;			/* the reader's, of its own */
};

struct pss_quiesce {
	refcount_t ref;
	wait_queue_head_t arrive_wq;	/* the capture waits for arrivals */
	wait_queue_head_t release_wq;	/* parked threads wait for release */
	bool reading;			/* settled: the capture reads threads */
	bool released;
	u64 release_ns;
	u64 deadline_ns;
	u32 nr, cap;
	u32 nr_sorted;			/* park[0..nr_sorted) in by_task */
	u32 pending_hint;		/* see pss_quiesce_ready() */
	const struct pss_park_reader *rd; /* PER_THREAD: reads each thread */
	char *slots;			/* PER_THREAD: one per request */
	struct pss_park_req **by_task;	/* sorted by task */
	struct pss_park_req park[];		/* never moved: linked in task_works */
};

/*
 * A thread that parked published arrived_ns before arrived (release);
 * readers acquire arrived before reading arrived_ns.
 */
static bool pss_park_arrived(const struct pss_park_req *p)
{
	/* Pairs with the release in pss_park_fn(). */
	return smp_load_acquire(&p->arrived);
}

static bool pss_quiesce_released(struct pss_quiesce *q)
{
	/* Pairs with the release in pss_quiesce_release(). */
	return smp_load_acquire(&q->released);
}

static void pss_quiesce_put(struct pss_quiesce *q)
{
	if (refcount_dec_and_test(&q->ref)) {
		kvfree(q->slots);
		kvfree(q->by_task);
		kvfree(q);
	}
}

static bool pss_park_read_done(const struct pss_park_req *p)
{
	/* Pairs with the release in pss_park_read(). */
	return smp_load_acquire(&p->read_done);
}

/* PER_THREAD: read @p's thread into its slot, once claimed. */
static void pss_park_read(struct pss_quiesce *q, struct pss_park_req *p,
			  u8 how)
{
	u64 t0 = ktime_get_ns();

	p->read_how = q->rd->read(q->rd, p->task, p->slot) ? how :
		      PSS_PARK_NONE;
	p->read_ns = pss_held_ns(t0);
	/* The slot and read_* first: see pss_park_read_done(). */
	smp_store_release(&p->read_done, true);
}

/*
 * PER_THREAD, in the park: read our own registers and go on, unless the
 * capture claimed us asleep and is reading us: then our pt_regs, on our
 * kernel stack, must stay until it is done (a short, bounded wait).
 */
static void pss_park_each(struct pss_quiesce *q, struct pss_park_req *p)
{
	bool exiting = current->flags & PF_EXITING;
	int old = atomic_cmpxchg(&p->claim, PSS_CLAIM_NONE,
				 exiting ? PSS_CLAIM_CLOSED : PSS_CLAIM_SELF);

	if (old == PSS_CLAIM_CAPTURE) {
		wait_event(q->release_wq, pss_park_read_done(p));
		return;
	}
	if (old != PSS_CLAIM_NONE || exiting)
		return;
	pss_park_read(q, p, PSS_PARK_WAITED);
	wake_up(&q->arrive_wq);
}

/* The park point: runs in the target's thread on its way to user mode. */
static void pss_park_fn(struct callback_head *work)
{
	struct pss_park_req *p = container_of(work, struct pss_park_req, work);
	struct pss_quiesce *q = p->q;

	if (q->rd) {
		pss_park_each(q, p);
		goto out;
	}
	/* An exiting thread has no user state left to hold. */
	if (!(current->flags & PF_EXITING)) {
		p->arrived_ns = ktime_get_ns();
		/* arrived_ns first: see pss_park_arrived() */
		smp_store_release(&p->arrived, true);
		wake_up(&q->arrive_wq);
		/* Killable: SIGKILL (or an exec's de_thread()) ends the park. */
		wait_event_killable(q->release_wq, pss_quiesce_released(q));
	}
	/*
	 * Leaving - released, killed, or exiting (exit runs its task_works):
	 * a thread the capture is reading must keep its stack until the
	 * release, a short wait. Pairs with the barrier in settle: either
	 * we see reading and wait, or settle sees leaving and skips us.
	 */
	smp_store_mb(p->leaving, true);
	if (READ_ONCE(q->reading))
		wait_event(q->release_wq, pss_quiesce_released(q));
out:
	pss_quiesce_put(q);
	module_put(THIS_MODULE);
}

/*
 * Asleep in the kernel and off its CPU: its user registers were saved on
 * entry, its FPU state when it was switched out.
 */
static bool pss_thread_held(struct task_struct *t)
{
	unsigned int state = READ_ONCE(t->__state);

	return (state & (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE |
			 __TASK_STOPPED | __TASK_TRACED)) &&
	       !READ_ONCE(t->on_rq) && !pss_task_on_cpu(t);
}

/*
 * Still to wait for: asked and not exiting, and neither held nor parked
 * off its CPU. A thread that has just arrived keeps its FPU registers and
 * fs/gs bases in the CPU until it is switched out, which saves them: the
 * regsets of a task read them from memory (ptrace waits for that too).
 */
static bool pss_park_pending(const struct pss_quiesce *q,
			     const struct pss_park_req *p)
{
	if (q->rd && p->queued) {
		/* PER_THREAD: until it is read, or can no longer be */
		if (pss_park_read_done(p))
			return false;
		switch (atomic_read(&p->claim)) {
		case PSS_CLAIM_SELF:
			return true;
		case PSS_CLAIM_CLOSED:
			return false;
		}
	}
	if (!p->queued || (READ_ONCE(p->task->flags) & PF_EXITING))
		return false;
	if (q->rd)
		return true;	/* held ones are read by pss_quiesce_wait() */
	if (pss_park_arrived(p))
		return pss_task_on_cpu(p->task);
	return !pss_thread_held(p->task);
}

/*
 * Checked at every arrival: from the thread found pending the last time,
 * which most often still is, not over every thread.
 */
static bool pss_quiesce_ready(struct pss_quiesce *q)
{
	u32 i, k;

	for (k = 0; k < q->nr; k++) {
		i = q->pending_hint + k;
		if (i >= q->nr)
			i -= q->nr;
		if (pss_park_pending(q, &q->park[i])) {
			q->pending_hint = i;
			return false;
		}
	}
	return true;
}

/* Ask @p's thread to park. */
static void pss_park_ask(struct pss_quiesce *q, struct pss_park_req *p)
{
	struct task_struct *t = p->task;

	p->q = q;
	p->state = task_state_to_char(t);
	atomic_set(&p->claim, PSS_CLAIM_NONE);
	init_task_work(&p->work, pss_park_fn);
	__module_get(THIS_MODULE);
	refcount_inc(&q->ref);
	if (task_work_add(t, &p->work, TWA_RESUME)) {
		/* Exiting: past its last return to user mode. */
		refcount_dec(&q->ref);
		module_put(THIS_MODULE);
		return;
	}
	p->queued = true;
	/* TIF_NOTIFY_RESUME may have been set already (rseq): kick anyway. */
	kick_process(t);
}

static int pss_park_cmp(const void *a, const void *b)
{
	const struct pss_park_req *x = *(const struct pss_park_req **)a;
	const struct pss_park_req *y = *(const struct pss_park_req **)b;

	return x->task < y->task ? -1 : x->task > y->task;
}

static int pss_park_key(const void *key, const void *elt)
{
	const struct pss_park_req *p = *(const struct pss_park_req **)elt;

	return key < (const void *)p->task ? -1 : key > (const void *)p->task;
}

static struct pss_park_req *pss_park_of(struct pss_quiesce *q,
					struct task_struct *t)
{
	struct pss_park_req **p = bsearch(t, q->by_task, q->nr_sorted,
				      sizeof(q->by_task[0]), pss_park_key);

	return p ? *p : NULL;
}

/*
 * pss_park_of() for threads looked up in thread list order, as the
 * requests were made: first the request after the one found last (@hint).
 */
static struct pss_park_req *pss_park_next(struct pss_quiesce *q,
					  struct task_struct *t, u32 *hint)
{
	struct pss_park_req *p;

	if (*hint < q->nr_sorted && q->park[*hint].task == t)
		p = &q->park[*hint];
	else
		p = pss_park_of(q, t);
	if (p)
		*hint = p - q->park + 1;
	return p;
}

/*
 * PER_THREAD: let the target's threads run on this CPU between two steps
 * of a long loop (no lock is held): none waits for the capture, and one
 * woken here would otherwise wait for the loop's end. A one-instant
 * capture does not: every step it waits lengthens the parked threads'
 * stall.
 */
static void pss_quiesce_yield(const struct pss_quiesce *q)
{
	if (q->rd)
		cond_resched();
}

/*
 * Ask every thread of @leader's process not yet asked, up to the
 * capacity; threads beyond it stay unparked (reported PSS_PARK_NONE).
 * The threads are taken (referenced) and sorted before any is asked, and
 * those asleep are asked before the others: a thread running in user
 * mode parks as soon as it is asked, and is held from then on.
 */
static void pss_park_threads(struct pss_quiesce *q, struct task_struct *leader)
{
	struct task_struct *t;
	u32 i, first = q->nr, hint = 0;

	rcu_read_lock();
	for_each_thread(leader, t) {
		if (t == current || pss_park_next(q, t, &hint) ||
		    (t->flags & PSS_PF_NO_USER))
			continue;
		if (q->nr == q->cap)
			break;
		get_task_struct(t);
		if (q->rd)
			q->park[q->nr].slot = q->slots +
					      (size_t)q->nr * q->rd->slot_size;
		q->park[q->nr++].task = t;
	}
	rcu_read_unlock();
	if (q->nr == first)
		return;
	for (i = 0; i < q->nr; i++)
		q->by_task[i] = &q->park[i];
	sort(q->by_task, q->nr, sizeof(q->by_task[0]), pss_park_cmp, NULL);
	q->nr_sorted = q->nr;
	for (i = first; i < q->nr; i++) {
		if (pss_thread_held(q->park[i].task))
			pss_park_ask(q, &q->park[i]);
		pss_quiesce_yield(q);
	}
	for (i = first; i < q->nr; i++) {
		if (!q->park[i].q)
			pss_park_ask(q, &q->park[i]);
		pss_quiesce_yield(q);
	}
}

/*
 * PER_THREAD: read every thread found asleep that nobody reads yet. Once
 * claimed it cannot leave its park (pss_park_each()) before the read is
 * done, so its task_struct and kernel stack stay; its user state cannot
 * change: it is asleep, or on its way to the park.
 */
static void pss_quiesce_read_held(struct pss_quiesce *q)
{
	struct pss_park_req *p;
	unsigned long nsw;
	u32 i;
	u8 how;

	for (i = 0; i < q->nr; i++) {
		p = &q->park[i];
		if (!p->queued || atomic_read(&p->claim) != PSS_CLAIM_NONE ||
		    (READ_ONCE(p->task->flags) & PF_EXITING) ||
		    !pss_thread_held(p->task))
			continue;
		/* The count before the claim: see kstack.c. */
		nsw = pss_task_nsw(p->task);
		how = task_is_stopped_or_traced(p->task) ? PSS_PARK_STOPPED :
							   PSS_PARK_BLOCKED;
		if (atomic_cmpxchg(&p->claim, PSS_CLAIM_NONE,
				   PSS_CLAIM_CAPTURE) != PSS_CLAIM_NONE)
			continue;
		p->read_nsw = nsw;
		pss_park_read(q, p, how);
		/*
		 * Read: it need not stop on its way out any more, which
		 * spares a thread waking now a pass through its park. If it
		 * is past that, it may be waiting there for this read.
		 */
		if (pss_task_work_cancel(p->task, &p->work)) {
			refcount_dec(&q->ref);	/* never the last: ours */
			module_put(THIS_MODULE);
		} else {
			p->read_woke = true;
			wake_up_all(&q->release_wq);
		}
		pss_quiesce_yield(q);
	}
}

/* PER_THREAD: no read starts after this; the ones under way end first. */
static void pss_quiesce_close(struct pss_quiesce *q)
{
	struct pss_park_req *p;
	u32 i;

	for (i = 0; i < q->nr; i++) {
		p = &q->park[i];
		if (p->queued &&
		    atomic_cmpxchg(&p->claim, PSS_CLAIM_NONE,
				   PSS_CLAIM_CLOSED) == PSS_CLAIM_SELF)
			wait_event(q->arrive_wq, pss_park_read_done(p));
	}
}

/*
 * Wait until every thread asked is parked or held (PER_THREAD: read), or
 * @q's deadline passes. -EINTR if the caller is being killed.
 */
static int pss_quiesce_wait(struct pss_quiesce *q)
{
	for (;;) {
		if (q->rd)
			pss_quiesce_read_held(q);
		if (pss_quiesce_ready(q))
			break;
		if (fatal_signal_pending(current))
			return -EINTR;
		if (ktime_get_ns() >= q->deadline_ns)
			return 0;
		/* Arrivals wake us; a thread going to sleep does not. */
		wait_event_killable_timeout(q->arrive_wq,
					    pss_quiesce_ready(q), 1);
	}
	return 0;
}

/*
 * Park the threads of @leader's process, waiting at most @timeout_ms;
 * *@phase_ns: how long it took. The caller may capture the target (dev.c
 * checked). NULL never: a quiesce or an ERR_PTR.
 */
struct pss_quiesce *pss_quiesce_start(struct task_struct *leader,
				      u32 timeout_ms,
				      const struct pss_park_reader *rd,
				      u64 *phase_ns)
{
	u64 t0 = ktime_get_ns();
	struct pss_quiesce *q;
	struct task_struct *t;
	u32 n = 0;
	int err;

	rcu_read_lock();
	for_each_thread(leader, t)
		n++;
	rcu_read_unlock();
	/* Room for threads born while we ask. */
	n += n / 4 + 16;
	q = kvzalloc(struct_size(q, park, n), GFP_KERNEL_ACCOUNT);
	if (!q)
		return ERR_PTR(-ENOMEM);
	q->by_task = kvcalloc(n, sizeof(*q->by_task), GFP_KERNEL_ACCOUNT);
	if (rd)
		q->slots = kvmalloc_array(n, rd->slot_size, GFP_KERNEL_ACCOUNT);
	if (!q->by_task || (rd && !q->slots)) {
		kvfree(q->by_task);
		kvfree(q);
		return ERR_PTR(-ENOMEM);
	}
	q->rd = rd;
	refcount_set(&q->ref, 1);
	init_waitqueue_head(&q->arrive_wq);
	init_waitqueue_head(&q->release_wq);
	q->cap = n;
	q->deadline_ns = t0 + (u64)timeout_ms * NSEC_PER_MSEC;

	pss_park_threads(q, leader);
	err = pss_quiesce_wait(q);
	/* Threads created by threads that were not yet parked. */
	if (!err) {
		pss_park_threads(q, leader);
		err = pss_quiesce_wait(q);
	}
	*phase_ns = pss_held_ns(t0);
	if (err) {
		pss_quiesce_end(q);
		return ERR_PTR(err);
	}
	return q;
}

/*
 * After the cut: how each thread of the capture was held. A thread held
 * while the quiesce waited may have woken since; it parks on its way out,
 * so wait for it within what is left of the timeout.
 */
int pss_quiesce_settle(struct pss_capture *c)
{
	struct pss_perf_info *perf = &c->snap->perf;
	struct pss_quiesce *q = c->quiesce;
	u32 i, hint = 0;
	int err;

	err = pss_quiesce_wait(q);
	if (err)
		return err;
	if (q->rd)
		pss_quiesce_close(q);
	else	/* From here a thread leaving its park waits: pss_park_fn() */
		smp_store_mb(q->reading, true);
	for (i = 0; i < c->nr_threads; i++) {
		struct pss_raw_thread *r = &c->threads[i];
		struct pss_park_req *p;

		if (r->task == current) {
			r->park = PSS_PARK_CALLER;
			continue;
		}
		p = pss_park_next(q, r->task, &hint);
		if (q->rd) {
			if (p && p->queued && pss_park_read_done(p)) {
				r->park = p->read_how;
				r->nsw = p->read_nsw;
				if (r->park == PSS_PARK_WAITED)
					r->state = p->state;
			}
			continue;
		}
		/* Gone past its park: its stack may be freed any time. */
		if (!p || !p->queued || READ_ONCE(p->leaving))
			continue;
		r->nsw = pss_task_nsw(r->task);
		/*
		 * The count before the checks: if the thread runs after
		 * them, it differs when its kernel stack is read (kstack.c).
		 */
		smp_rmb();
		if (pss_park_arrived(p)) {
			r->park = PSS_PARK_WAITED;
			/* Its state before pss parked it, not the park's. */
			r->state = p->state;
		} else if (pss_thread_held(p->task)) {
			r->park = task_is_stopped_or_traced(p->task) ?
				  PSS_PARK_STOPPED : PSS_PARK_BLOCKED;
		}
	}
	for (i = 0; i < c->nr_threads; i++) {
		if (!c->threads[i].live)
			continue;
		switch (c->threads[i].park) {
		case PSS_PARK_WAITED:
			perf->nr_parked++;
			break;
		case PSS_PARK_NONE:
			perf->nr_not_parked++;
			break;
		default:
			perf->nr_held++;
		}
	}
	return 0;
}

/*
 * PER_THREAD: no two threads were held together; the longest one thread
 * was is the stall: a thread read in its park, or one read asleep that
 * woke meanwhile (at most the read: it waited for its end). One asleep
 * throughout was never stopped.
 */
static void pss_quiesce_account_each(struct pss_quiesce *q,
				     struct pss_perf_info *perf)
{
	struct pss_park_req *p;
	u32 i;

	for (i = 0; i < q->nr; i++) {
		p = &q->park[i];
		if (!p->queued || !pss_park_read_done(p) ||
		    p->read_how == PSS_PARK_NONE)
			continue;
		if (p->read_how == PSS_PARK_WAITED || p->read_woke)
			perf->stall_ns = max(perf->stall_ns, p->read_ns);
		if (p->read_how == PSS_PARK_WAITED)
			perf->park_max_ns = max(perf->park_max_ns, p->read_ns);
	}
}

/*
 * Let every parked thread go, and account the stall in @perf (and each
 * parked thread's time: the release time is known only now, so
 * pss_quiesce_park_ns() reads it).
 */
void pss_quiesce_release(struct pss_quiesce *q, struct pss_perf_info *perf)
{
	u64 first = 0;
	u32 i;

	if (q->released)
		return;
	if (q->rd)
		pss_quiesce_close(q);
	q->release_ns = ktime_get_ns();
	/* release_ns first: pss_quiesce_park_ns() readers */
	smp_store_release(&q->released, true);
	wake_up_all(&q->release_wq);
	if (!perf)
		return;
	if (q->rd) {
		pss_quiesce_account_each(q, perf);
		return;
	}
	for (i = 0; i < q->nr; i++) {
		struct pss_park_req *p = &q->park[i];
		u64 held;

		/* one that arrived after the release was never held */
		if (!p->queued || !pss_park_arrived(p) || p->arrived_ns > q->release_ns)
			continue;
		held = max_t(u64, q->release_ns - p->arrived_ns, 1);
		perf->park_max_ns = max(perf->park_max_ns, held);
		if (!first || p->arrived_ns < first)
			first = p->arrived_ns;
	}
	if (first)
		perf->stall_ns = max_t(u64, q->release_ns - first, 1);
}

/* How long @task was parked by @q (0: it was not). */
u64 pss_quiesce_park_ns(struct pss_quiesce *q, struct task_struct *task)
{
	struct pss_park_req *p;

	if (!q || !pss_quiesce_released(q))
		return 0;
	p = pss_park_of(q, task);
	if (q->rd)
		return p && p->queued && pss_park_read_done(p) &&
		       p->read_how == PSS_PARK_WAITED ? p->read_ns : 0;
	if (!p || !p->queued || !pss_park_arrived(p) || p->arrived_ns > q->release_ns)
		return 0;
	return max_t(u64, q->release_ns - p->arrived_ns, 1);
}

/* PER_THREAD: @task's slot, if it was read (after settle). */
const void *pss_quiesce_slot(struct pss_quiesce *q, struct task_struct *task)
{
	struct pss_park_req *p = q && q->rd ? pss_park_of(q, task) : NULL;

	return p && p->queued && pss_park_read_done(p) &&
	       p->read_how != PSS_PARK_NONE ? p->slot : NULL;
}

/*
 * Release (if not yet), withdraw every request that has not run, drop the
 * threads and the capture's reference. @q may be NULL or an error.
 */
void pss_quiesce_end(struct pss_quiesce *q)
{
	u32 i;

	if (IS_ERR_OR_NULL(q))
		return;
	pss_quiesce_release(q, NULL);
	for (i = 0; i < q->nr; i++) {
		struct pss_park_req *p = &q->park[i];

		if (p->queued && pss_task_work_cancel(p->task, &p->work)) {
			refcount_dec(&q->ref);	/* never the last: ours */
			module_put(THIS_MODULE);
		}
		put_task_struct(p->task);
	}
	pss_quiesce_put(q);
}
