// SPDX-License-Identifier: GPL-2.0
/*
 * Ioctl fuzzer: several threads issue random and mutated ioctls against
 * /dev/pss and snapshot fds - random command numbers (the pss magic with
 * random nr/dir/size, and other types), random argument sizes, flags,
 * facets, classes, positions, buffer lengths, and pointers: NULL, unmapped,
 * PROT_NONE, read-only, structs straddling into a guard page, kernel and
 * non-canonical addresses.
 *
 * The oracle is the header: every return value must be success or one of
 * the errnos <linux/pss.h> documents for that ioctl on that kind of fd
 * (ENOTTY for anything that is not one of its commands: type, number AND
 * direction must match, the size bits are ignored). Where the inputs
 * determine the outcome - the argument checks, the snapshot's facets, pos
 * against total, which records fit in buf_len (from a reference walk), which
 * pointers are readable or writable - the exact errno (or success) is
 * predicted and must be what the call returns: about 99% of the calls.
 * Captures ask for thread state a third of the time, with the VER1 fields
 * (quiesce timeout, stack bytes, memory flags, ranges written into the
 * arena) legal or broken; their errnos are predicted in the module's order
 * of checks, EACCES for kernel stacks included (one fuzzer thread drops
 * CAP_SYS_ADMIN).
 * Successful calls whose arguments we can read back get their bookkeeping
 * checked. Snapshot fds
 * returned by captures are closed as we go; at the end the fd count is
 * back to the baseline. Splats and leaks are caught by the guest runner.
 *
 * Pointers only ever point into the fuzzer's own arenas (RW pages followed
 * by guard pages), so the kernel can never scribble on the test itself.
 *
 * structured_walks (below) starts from valid walks of known snapshots of a
 * churning foreign target instead, mutates at most one field, and predicts
 * every output field and byte, while snapshots are closed under the walks.
 *
 * Env: PSS_FUZZ_SECS (default 30 s, 100 s on the debug kernel),
 * PSS_FUZZ_CALLS (stop after this many calls, default: no limit),
 * PSS_FUZZ_THREADS (default 4), PSS_SEED.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include "pss_invariants.h"
#include "pss_softdirty.h"
#include "kselftest_harness.h"

#define MAX_THREADS	16
#define ARENA_PAGES	8
#define POOL		6
/* far below any kernel's count (6.12 under load: ~3 million in 15 s) */
#define MIN_CALLS	50000

/* arena layout (pages): 0-3 RW, 4 NONE, 5 RO, 6 NONE, 7 unmapped */
#define A_RW		0
#define A_NONE		4
#define A_RO		5
#define A_HOLE		7

enum fdkind { K_DEV, K_SNAP };

struct fuzzer {
	pthread_t th;
	int idx;
	uint64_t rng;
	char *arena;
	int dev;
	int pool[POOL];		/* snapshot fds this thread owns */
	int shared_dup;		/* a dup of a shared snapshot */
	unsigned long calls, ok, captures, pss_cmds, predicted;
	char *scratch;		/* reference walks */
	unsigned long err[256];
	int failed;
	char msg[1024];
};

static struct {
	int shared[3];		/* long-lived snapshots every thread uses */
	int self_pidfd;
	long pid_max;
	volatile int stop;
	uint64_t t0, deadline;
	unsigned long max_calls;
	volatile unsigned long total_calls;
} g;

/* ------------------------------------------------------------ pointers */

static uint64_t rand_ptr(struct fuzzer *f, size_t len, bool *in_rw)
{
	char *a = f->arena;
	uint64_t r = pssi_rand_below(&f->rng, 100);

	*in_rw = false;
	if (len > 4 * PSSI_PAGE)
		len = 4 * PSSI_PAGE;
	if (r < 60) {
		/* somewhere in the RW pages such that len bytes fit */
		size_t off = pssi_rand_below(&f->rng, 4 * PSSI_PAGE - len + 1);

		if (pssi_rand_below(&f->rng, 4))
			off &= ~7UL;
		*in_rw = true;
		return (uintptr_t)(a + off);
	}
	switch (r % 10) {
	case 0: return 0;
	case 1: return (uintptr_t)(a + A_HOLE * PSSI_PAGE + pssi_rand_below(&f->rng, 64));
	case 2: return (uintptr_t)(a + A_NONE * PSSI_PAGE);
	case 3: return (uintptr_t)(a + A_RO * PSSI_PAGE + (pssi_rand_below(&f->rng, 8) & ~7UL));
	case 4:	/* RW straddling into PROT_NONE */
		return (uintptr_t)(a + A_NONE * PSSI_PAGE - 1 -
				   pssi_rand_below(&f->rng, len ? len : 1));
	case 5:	/* RO straddling into PROT_NONE */
		return (uintptr_t)(a + (A_RO + 1) * PSSI_PAGE - 1 -
				   pssi_rand_below(&f->rng, len ? len : 1));
	case 6: return 0xffffffff81000000ULL + pssi_rand_below(&f->rng, 1 << 20);
	case 7: return 0x8000000000000000ULL | pssi_rand(&f->rng);
	case 8: return pssi_rand_below(&f->rng, 65536);	/* below mmap_min_addr */
	default: return 0xfffffffffffff000ULL + pssi_rand_below(&f->rng, 4096);
	}
}

static uint64_t rand_size(struct fuzzer *f, uint32_t ver0, uint32_t cur)
{
	switch (pssi_rand_below(&f->rng, 12)) {
	case 0: return 0;
	case 1: return 4;
	case 2: return ver0 - 1;
	case 3: return ver0 + 8;	/* trailing bytes: zero or not */
	case 4: return 4096;
	case 5: return pssi_rand_below(&f->rng, 256);
	case 6: return pssi_rand(&f->rng) & 0xffffffff;
	case 7: return ver0 - 8;
	default: return cur;
	}
}

static uint64_t rand_u64(struct fuzzer *f)
{
	switch (pssi_rand_below(&f->rng, 8)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return ~0ULL;
	case 3: return 1ULL << pssi_rand_below(&f->rng, 64);
	case 4: return pssi_rand_below(&f->rng, 16);
	case 5: return 0x7fffffffffffffffULL;
	default: return pssi_rand(&f->rng);
	}
}

/* ------------------------------------------------------------ commands */

static const unsigned char vfs_types[] = { 0x00, 0x15, 0x54, 0x58, 0x66, 0x94 };

static unsigned int pss_cmd(unsigned int dir, unsigned int nr, unsigned int size)
{
	return _IOC(dir, PSS_IOC_MAGIC, nr, size & _IOC_SIZEMASK);
}

static bool is_cmd(unsigned int cmd, unsigned int want)
{
	return _IOC_TYPE(cmd) == _IOC_TYPE(want) && _IOC_NR(cmd) == _IOC_NR(want) &&
	       _IOC_DIR(cmd) == _IOC_DIR(want);
}

static bool allowed(enum fdkind k, unsigned int cmd, int ret, int e)
{
	if (k == K_DEV && is_cmd(cmd, PSS_IOC_VERSION))
		return ret == 0 || e == EFAULT || e == EINVAL || e == E2BIG;
	if (k == K_DEV && is_cmd(cmd, PSS_IOC_CAPTURE))
		return ret >= 0 || e == EFAULT || e == EINVAL || e == E2BIG ||
		       e == EBADF || e == EBADFD || e == ESRCH || e == EPERM ||
		       e == EAGAIN || e == ENOBUFS || e == ENOMEM || e == EINTR ||
		       e == EMFILE || e == ENFILE || e == EACCES || e == EOPNOTSUPP;
	if (k == K_SNAP && is_cmd(cmd, PSS_IOC_QUERY))
		return ret == 0 || e == EFAULT || e == EINVAL || e == E2BIG ||
		       e == ENODATA;
	if (k == K_SNAP && is_cmd(cmd, PSS_IOC_WALK))
		return ret == 0 || e == EFAULT || e == EINVAL || e == E2BIG ||
		       e == ERANGE || e == ENOSPC || e == ENODATA;
	return ret == -1 && e == ENOTTY;
}

static int pick_snap(struct fuzzer *f)
{
	uint64_t r = pssi_rand_below(&f->rng, 10);

	if (r < 3)
		return g.shared[pssi_rand_below(&f->rng, 3)];
	if (r < 4)
		return f->shared_dup;
	r = pssi_rand_below(&f->rng, POOL);
	return f->pool[r] >= 0 ? f->pool[r] : g.shared[0];
}

static void keep_snap(struct fuzzer *f, int fd)
{
	int i = pssi_rand_below(&f->rng, POOL);

	if (f->pool[i] >= 0)
		close(f->pool[i]);
	f->pool[i] = fd;
}

/* Fill a walk args struct at p (mutated from a valid one). */
static void gen_walk(struct fuzzer *f, struct pss_walk_args *w, uint64_t *buf_len)
{
	bool rw;

	memset(w, 0, sizeof(*w));
	w->size = sizeof(*w);
	w->walk_class = pssi_rand_below(&f->rng, 8) ?
			pssi_rand_below(&f->rng, PSS_WALK_NR_CLASSES) : (uint32_t)rand_u64(f);
	w->pos = pssi_rand_below(&f->rng, 3) ? pssi_rand_below(&f->rng, 64) : rand_u64(f);
	switch (pssi_rand_below(&f->rng, 8)) {
	case 0: w->buf_len = 0; break;
	case 1: w->buf_len = pssi_rand_below(&f->rng, 128); break;
	case 2: w->buf_len = rand_u64(f); break;
	default: w->buf_len = 1 + pssi_rand_below(&f->rng, 4 * PSSI_PAGE);
	}
	w->buf = rand_ptr(f, w->buf_len < 4 * PSSI_PAGE ? w->buf_len : 4 * PSSI_PAGE, &rw);
	if (!pssi_rand_below(&f->rng, 8))
		w->flags = 1u << pssi_rand_below(&f->rng, 32);
	if (!pssi_rand_below(&f->rng, 8))
		w->out_flags = (uint32_t)rand_u64(f);
	if (!pssi_rand_below(&f->rng, 8))
		w->count = (uint32_t)rand_u64(f);
	if (!pssi_rand_below(&f->rng, 6))
		w->size = rand_size(f, PSS_WALK_ARGS_SIZE_VER0, sizeof(*w));
	*buf_len = w->buf_len;
}

static void gen_query(struct fuzzer *f, struct pss_query_args *q)
{
	bool rw;

	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->query_class = pssi_rand_below(&f->rng, 8) ?
			 pssi_rand_below(&f->rng, PSS_QUERY_NR_CLASSES) : (uint32_t)rand_u64(f);
	switch (pssi_rand_below(&f->rng, 6)) {
	case 0: q->out_size = 0; break;
	case 1: q->out_size = pssi_rand_below(&f->rng, 128); break;
	case 2: q->out_size = (uint32_t)rand_u64(f); break;
	default: q->out_size = sizeof(struct pss_process_info);
	}
	q->out = rand_ptr(f, q->out_size, &rw);
	if (!pssi_rand_below(&f->rng, 8))
		q->flags = 1u << pssi_rand_below(&f->rng, 32);
	if (!pssi_rand_below(&f->rng, 8))
		q->reserved = (uint32_t)rand_u64(f);
	if (!pssi_rand_below(&f->rng, 8))
		q->kernel_size = (uint32_t)rand_u64(f);
	if (!pssi_rand_below(&f->rng, 6))
		q->size = rand_size(f, PSS_QUERY_ARGS_SIZE_VER0, sizeof(*q));
}

static uint32_t rand_u32_near(struct fuzzer *f, uint32_t max)
{
	switch (pssi_rand_below(&f->rng, 6)) {
	case 0: return 1;
	case 1: return max;
	case 2: return max + 1;
	case 3: return (uint32_t)rand_u64(f);
	default: return 1 + pssi_rand_below(&f->rng, max);
	}
}

static bool arena_ok(struct fuzzer *f, uint64_t p, uint64_t len, bool write);

/*
 * The VER1 fields: legal for the facets more often than not, else one or
 * more rules broken. Ranges are written into the arena when the pointer
 * lands in its RW pages: valid ones mostly, one broken now and then.
 */
static void gen_thread_state(struct fuzzer *f, struct pss_capture_args *c)
{
	bool legal = pssi_rand_below(&f->rng, 4);
	bool park = c->facets & (PSS_FACET_THREAD_CONTEXT | PSS_FACET_MEMORY);
	bool rw;

	if (legal && (c->facets & PSS_FACETS_THREAD_STATE))
		c->facets |= PSS_FACET_THREADS;
	if ((!legal || park) && !pssi_rand_below(&f->rng, 3))
		/* short: a target thread busy in the kernel holds the caller */
		c->quiesce_timeout_ms = legal ? 1 + pssi_rand_below(&f->rng, 20) :
				       rand_u32_near(f, PSS_QUIESCE_TIMEOUT_MAX_MS);
	if (c->facets & PSS_FACET_MEMORY || !legal) {
		/* the whole writable memory of a target is costly: rarely */
		c->memory_flags = legal ? (pssi_rand_below(&f->rng, 2) ? PSS_MEMORY_STACKS : 0) |
				  (pssi_rand_below(&f->rng, 2) ? PSS_MEMORY_RANGES : 0) |
				  (pssi_rand_below(&f->rng, 16) ? 0 : PSS_MEMORY_WRITABLE) :
				  (uint32_t)rand_u64(f);
		if (legal && !c->memory_flags)
			c->memory_flags = PSS_MEMORY_STACKS;
	}
	if ((c->memory_flags & PSS_MEMORY_STACKS || !legal) && pssi_rand_below(&f->rng, 2))
		c->stack_bytes = legal ? 1 + pssi_rand_below(&f->rng, 3 * PSSI_PAGE) :
				 rand_u32_near(f, PSS_STACK_BYTES_MAX);
	if (c->memory_flags & PSS_MEMORY_RANGES || !legal) {
		struct pss_memory_range *r;
		uint32_t i;

		c->nr_ranges = legal ? 1 + pssi_rand_below(&f->rng, PSS_MEMORY_RANGES_MAX) :
			       rand_u32_near(f, PSS_MEMORY_RANGES_MAX);
		c->ranges = rand_ptr(f, (c->nr_ranges <= PSS_MEMORY_RANGES_MAX ?
					 c->nr_ranges : 1) * sizeof(*r), &rw);
		/* written only where the whole array fits in the RW pages */
		if (!rw || !c->nr_ranges || c->nr_ranges > PSS_MEMORY_RANGES_MAX ||
		    !arena_ok(f, c->ranges, (uint64_t)c->nr_ranges * sizeof(*r), true))
			return;
		r = (void *)(uintptr_t)c->ranges;
		for (i = 0; i < c->nr_ranges; i++) {
			r[i].start = (uintptr_t)f->arena + pssi_rand_below(&f->rng, 8 * PSSI_PAGE);
			r[i].len = 1 + pssi_rand_below(&f->rng, 2 * PSSI_PAGE);
		}
		if (!pssi_rand_below(&f->rng, 4)) {
			i = pssi_rand_below(&f->rng, c->nr_ranges);
			switch (pssi_rand_below(&f->rng, 4)) {
			case 0: r[i].len = 0; break;
			case 1: r[i].start = ~0ULL - pssi_rand_below(&f->rng, 8192); break;
			case 2: r[i].start = rand_u64(f); break;
			default: r[i].len = rand_u64(f);
			}
		}
	}
}

/* From legal VER1 fields, break one rule: each reaches its own check. */
static void break_one_rule(struct fuzzer *f, struct pss_capture_args *c)
{
	switch (pssi_rand_below(&f->rng, 9)) {
	case 0:
		c->facets &= ~PSS_FACET_THREADS;
		break;
	case 1:
		c->quiesce_timeout_ms = PSS_QUIESCE_TIMEOUT_MAX_MS + 1 +
					pssi_rand_below(&f->rng, 1000);
		break;
	case 2:
		c->quiesce_timeout_ms = 1;
		c->facets &= ~(PSS_FACET_THREAD_CONTEXT | PSS_FACET_MEMORY);
		c->memory_flags = c->stack_bytes = c->nr_ranges = 0;
		c->ranges = 0;
		break;
	case 3:
		c->stack_bytes = PSS_STACK_BYTES_MAX + 1 + pssi_rand_below(&f->rng, 4096);
		break;
	case 4:
		c->stack_bytes = 1 + pssi_rand_below(&f->rng, 4096);
		c->memory_flags &= ~PSS_MEMORY_STACKS;
		break;
	case 5:
		c->memory_flags |= 1u << (3 + pssi_rand_below(&f->rng, 29));
		break;
	case 6:
		c->memory_flags = 0;
		break;
	case 7:
		c->nr_ranges = pssi_rand_below(&f->rng, 2) ? 0 :
			       PSS_MEMORY_RANGES_MAX + 1 + pssi_rand_below(&f->rng, 100);
		break;
	default:
		c->memory_flags &= ~PSS_MEMORY_RANGES;
		break;
	}
}

static void gen_capture(struct fuzzer *f, struct pss_capture_args *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->facets = pssi_rand_below(&f->rng, 4) ? pssi_rand(&f->rng) & PSS_FACETS_ALL :
		    rand_u64(f);
	if (pssi_rand_below(&f->rng, 4)) {
		/* make the levels legal more often than not */
		if (c->facets & (PSS_FACET_HANDLE_NAME | PSS_FACET_HANDLE_BASIC |
				 PSS_FACET_HANDLE_TYPE_SPECIFIC))
			c->facets |= PSS_FACET_HANDLES;
		if (c->facets & PSS_FACET_VA_SPACE_SECTION)
			c->facets |= PSS_FACET_VA_SPACE;
	}
	/* a third of the captures ask for thread state, or set its fields */
	if (!pssi_rand_below(&f->rng, 3)) {
		c->facets |= pssi_rand(&f->rng) & PSS_FACETS_THREAD_STATE;
		gen_thread_state(f, c);
		if (!pssi_rand_below(&f->rng, 3))
			break_one_rule(f, c);
	}
	switch (pssi_rand_below(&f->rng, 10)) {
	case 0: c->target_pid = getpid(); break;
	case 1: c->target_pid = getppid(); break;
	case 2: c->target_pid = 1; break;
	case 3: c->target_pid = 2; break;	/* kthreadd: EPERM */
	case 4: c->target_pid = pssi_rand_below(&f->rng, 40000); break;
	case 5: c->target_pid = (int32_t)rand_u64(f); break;
	case 6:
	case 7:
		c->flags = PSS_CAPTURE_PIDFD;
		switch (pssi_rand_below(&f->rng, 5)) {
		case 0: c->target_pidfd = g.self_pidfd; break;
		case 1: c->target_pidfd = f->dev; break;		/* EBADFD */
		case 2: c->target_pidfd = 1000 + pssi_rand_below(&f->rng, 1000); break;
		case 3: c->target_pidfd = -1; break;
		default: c->target_pidfd = (int32_t)rand_u64(f);
		}
		break;
	default: c->target_pid = 0;	/* self */
	}
	if (!pssi_rand_below(&f->rng, 10))
		c->flags = (uint32_t)rand_u64(f);
	if (!pssi_rand_below(&f->rng, 10))
		c->reserved[pssi_rand_below(&f->rng, 2)] = rand_u64(f);
	if (!pssi_rand_below(&f->rng, 8))
		c->size = rand_size(f, PSS_CAPTURE_ARGS_SIZE_VER0, sizeof(*c));
}

static int fail(struct fuzzer *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	f->failed = 1;
	g.stop = 1;
	return -1;
}

/* ------------------------------------------------------------ oracle */

/*
 * The exact outcome where the inputs determine it: an errno, 0 for
 * success, or -1 when they do not (a racing target, memory the kernel
 * itself writes during the call). What the arena allows is known exactly:
 * pages A_RW.. are read-write, A_RO read-only, the rest unreadable, and
 * every pointer rand_ptr() makes outside the arena is unmapped or kernel.
 */
#define SCRATCH		(1 << 20)

static bool arena_ok(struct fuzzer *f, uint64_t p, uint64_t len, bool write)
{
	uint64_t a = (uintptr_t)f->arena, end = a + A_NONE * PSSI_PAGE, i;

	if (!len)
		return true;
	if (p + len < p)
		return false;
	if (p >= a && p + len <= end)
		return true;
	if (write)
		return false;
	for (i = p; i < p + len; i++)	/* reads: RW pages and the RO one */
		if (!(i >= a && i < end) &&
		    !(i >= a + A_RO * PSSI_PAGE && i < a + (A_RO + 1) * PSSI_PAGE))
			return false;
	return true;
}

/*
 * The args copy-in every ioctl does: size, then (copy_struct_from_user)
 * the tail beyond what the kernel knows must be readable and zero, then
 * the known part readable. Returns an errno, or 0 with *usize set.
 */
static int predict_args(struct fuzzer *f, uint64_t argp, uint32_t ver0, uint32_t ksize,
			uint32_t *usize)
{
	const unsigned char *p = (const unsigned char *)(uintptr_t)argp;
	uint64_t i;

	if (!arena_ok(f, argp, 4, false))
		return EFAULT;
	memcpy(usize, p, 4);
	if (*usize < ver0)
		return EINVAL;
	if (*usize > 4096)
		return E2BIG;
	for (i = ksize; i < *usize; i++) {
		if (!arena_ok(f, argp + i, 1, false))
			return EFAULT;
		if (p[i])
			return E2BIG;
	}
	if (!arena_ok(f, argp, ksize < *usize ? ksize : *usize, false))
		return EFAULT;
	return 0;
}

static uint64_t snap_facets(int fd)
{
	struct pss_snapshot_info si;

	memset(&si, 0, sizeof(si));
	return ioc_query(fd, PSS_QUERY_SNAPSHOT, &si, sizeof(si), NULL) ? ~0ULL : si.facets;
}

static int predict_version(struct fuzzer *f, uint64_t argp)
{
	uint32_t usize;
	int e = predict_args(f, argp, PSS_VERSION_SIZE_VER0, sizeof(struct pss_version),
			     &usize);

	if (e)
		return e;
	return arena_ok(f, argp, usize < sizeof(struct pss_version) ? usize :
			sizeof(struct pss_version), true) ? 0 : EFAULT;
}

static int predict_query(struct fuzzer *f, int fd, uint64_t argp)
{
	static const uint32_t ver0[PSS_QUERY_NR_CLASSES] = {
		[PSS_QUERY_SNAPSHOT] = PSS_SNAPSHOT_INFO_SIZE_VER0,
		[PSS_QUERY_PROCESS] = PSS_PROCESS_INFO_SIZE_VER0,
		[PSS_QUERY_THREADS] = PSS_COUNT_INFO_SIZE_VER0,
		[PSS_QUERY_HANDLES] = PSS_COUNT_INFO_SIZE_VER0,
		[PSS_QUERY_VA_SPACE] = PSS_COUNT_INFO_SIZE_VER0,
		[PSS_QUERY_PERFORMANCE] = PSS_PERF_INFO_SIZE_VER0,
		[PSS_QUERY_AUXV] = PSS_AUXV_INFO_SIZE_VER0,
		[PSS_QUERY_CONTEXTS] = PSS_COUNT_INFO_SIZE_VER0,
		[PSS_QUERY_KSTACKS] = PSS_COUNT_INFO_SIZE_VER0,
		[PSS_QUERY_MEMORY] = PSS_COUNT_INFO_SIZE_VER0,
	};
	static const uint64_t facet[PSS_QUERY_NR_CLASSES] = {
		[PSS_QUERY_THREADS] = PSS_FACET_THREADS,
		[PSS_QUERY_HANDLES] = PSS_FACET_HANDLES,
		[PSS_QUERY_VA_SPACE] = PSS_FACET_VA_SPACE,
		[PSS_QUERY_PERFORMANCE] = PSS_FACET_MEASURE_PERFORMANCE,
		[PSS_QUERY_AUXV] = PSS_FACET_THREAD_CONTEXT,
		[PSS_QUERY_CONTEXTS] = PSS_FACET_THREAD_CONTEXT,
		[PSS_QUERY_KSTACKS] = PSS_FACET_THREAD_KSTACK,
		[PSS_QUERY_MEMORY] = PSS_FACET_MEMORY,
	};
	struct pss_query_args q;
	uint64_t have;
	uint32_t usize;
	int e = predict_args(f, argp, PSS_QUERY_ARGS_SIZE_VER0, sizeof(q), &usize);

	if (e)
		return e;
	memcpy(&q, (void *)(uintptr_t)argp, sizeof(q));
	if (q.flags || q.reserved || q.query_class >= PSS_QUERY_NR_CLASSES ||
	    q.out_size < ver0[q.query_class])
		return EINVAL;
	have = snap_facets(fd);
	if (have == ~0ULL)
		return -1;
	if ((have & facet[q.query_class]) != facet[q.query_class])
		return ENODATA;
	/* copy out and clear the tail: out_size bytes in all, then the args */
	if (!arena_ok(f, q.out, q.out_size, true))
		return EFAULT;
	/* the output may overlap the args: then the write-back is all we know */
	return arena_ok(f, argp, sizeof(q), true) ? 0 : EFAULT;
}

static int predict_walk(struct fuzzer *f, int fd, uint64_t argp)
{
	struct pss_walk_args w, r;
	struct pss_count_info ci;
	uint64_t have, bytes = 0, off = 0;
	uint32_t usize, n;
	int e = predict_args(f, argp, PSS_WALK_ARGS_SIZE_VER0, sizeof(w), &usize);

	if (e)
		return e;
	memcpy(&w, (void *)(uintptr_t)argp, sizeof(w));
	if (w.flags || w.walk_class >= PSS_WALK_NR_CLASSES)
		return EINVAL;
	have = snap_facets(fd);
	if (have == ~0ULL)
		return -1;
	if (!(have & pssi_facet_of(w.walk_class)))
		return ENODATA;
	e = ioc_query(fd, pss_walk_query(w.walk_class), &ci, sizeof(ci), NULL);
	if (e)
		return -1;
	if (w.pos > ci.count)
		return ERANGE;
	/* the reference: every record from pos on, into our own buffer */
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.walk_class = w.walk_class;
	r.pos = w.pos;
	r.buf = (uintptr_t)f->scratch;
	r.buf_len = SCRATCH;
	if (ioctl(fd, PSS_IOC_WALK, &r) || !(r.out_flags & PSS_WALK_END))
		return -1;			/* more than SCRATCH: not predicted */
	/* as many whole records as fit in buf_len, by their rec_len */
	for (n = 0; n < r.count; n++) {
		uint32_t len = *(uint32_t *)(f->scratch + off);

		if (bytes + len > w.buf_len)
			break;
		bytes += len;
		off += len;
	}
	if (r.count && !n)
		return arena_ok(f, argp, usize < sizeof(w) ? usize : sizeof(w), true) ?
		       ENOSPC : EFAULT;
	if (bytes && !arena_ok(f, w.buf, bytes, true))
		return EFAULT;
	return arena_ok(f, argp, usize < sizeof(w) ? usize : sizeof(w), true) ? 0 : EFAULT;
}

/* Does the calling thread have CAP_SYS_ADMIN in its effective set? */
static bool have_sys_admin(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return false;
	return d[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
}

/* The VER1 rules, in the order the module checks them. */
static int predict_thread_state(const struct pss_capture_args *c)
{
	bool park = c->facets & (PSS_FACET_THREAD_CONTEXT | PSS_FACET_MEMORY);
	bool mem = c->facets & PSS_FACET_MEMORY;
	uint32_t mf = c->memory_flags;

	if ((c->facets & PSS_FACETS_THREAD_STATE) && !(c->facets & PSS_FACET_THREADS))
		return EINVAL;
	if (c->quiesce_timeout_ms &&
	    (!park || c->quiesce_timeout_ms > PSS_QUIESCE_TIMEOUT_MAX_MS))
		return EINVAL;
	if (mem ? !mf || (mf & ~PSS_MEMORY_FLAGS_ALL) : mf)
		return EINVAL;
	if ((c->flags & PSS_CAPTURE_PER_THREAD) &&
	    (!(c->facets & PSS_FACET_THREAD_CONTEXT) || mem))
		return EINVAL;
	if ((mf & PSS_MEMORY_PRECOPY) && !(mf & PSS_MEMORY_WRITABLE))
		return EINVAL;
	if ((mf & PSS_MEMORY_PRECOPY) && !pss_soft_dirty_kept())
		return EOPNOTSUPP;
	if (c->stack_bytes && (!(mf & PSS_MEMORY_STACKS) ||
			       c->stack_bytes > PSS_STACK_BYTES_MAX))
		return EINVAL;
	if (mf & PSS_MEMORY_RANGES) {
		if (!c->nr_ranges || c->nr_ranges > PSS_MEMORY_RANGES_MAX)
			return EINVAL;
	} else if (c->nr_ranges || c->ranges) {
		return EINVAL;
	}
	if ((c->facets & PSS_FACET_THREAD_KSTACK) && !have_sys_admin())
		return EACCES;
	return 0;
}

/*
 * The ranges, copied after every other argument check: readable, then each
 * of length > 0, not wrapping, ending in user space. Where that ends
 * depends on the paging mode (47 or 56 bits): an end between the two is
 * not predicted.
 */
static int predict_ranges(struct fuzzer *f, const struct pss_capture_args *c)
{
	const uint64_t top48 = (1ULL << 47) - PSSI_PAGE, top57 = (1ULL << 56) - PSSI_PAGE;
	const struct pss_memory_range *r = (const void *)(uintptr_t)c->ranges;
	int ret = 0;
	uint32_t i;

	if (!(c->memory_flags & PSS_MEMORY_RANGES))
		return 0;
	if (!arena_ok(f, c->ranges, (uint64_t)c->nr_ranges * sizeof(*r), false))
		return EFAULT;
	for (i = 0; i < c->nr_ranges; i++) {
		uint64_t end = r[i].start + r[i].len;

		if (!r[i].len || end < r[i].start || end > top57)
			return EINVAL;
		if (end > top48)
			ret = -1;
	}
	return ret;
}

static int predict_capture(struct fuzzer *f, uint64_t argp)
{
	const uint64_t levels = PSS_FACET_HANDLE_NAME | PSS_FACET_HANDLE_BASIC |
				PSS_FACET_HANDLE_TYPE_SPECIFIC;
	struct pss_capture_args c;
	uint32_t usize;
	int e = predict_args(f, argp, PSS_CAPTURE_ARGS_SIZE_VER0, sizeof(c), &usize);

	if (e)
		return e;
	/* an older caller's args: the fields beyond its size read as zero */
	memset(&c, 0, sizeof(c));
	memcpy(&c, (void *)(uintptr_t)argp, usize < sizeof(c) ? usize : sizeof(c));
	if ((c.flags & ~PSS_CAPTURE_FLAGS_ALL) || (c.facets & ~PSS_FACETS_KNOWN) ||
	    c.reserved[0] || c.reserved[1])
		return EINVAL;
	e = predict_thread_state(&c);
	if (e)
		return e;
	if (((c.facets & levels) && !(c.facets & PSS_FACET_HANDLES)) ||
	    ((c.facets & PSS_FACET_VA_SPACE_SECTION) && !(c.facets & PSS_FACET_VA_SPACE)))
		return EINVAL;
	if (c.flags & PSS_CAPTURE_PIDFD) {
		if (c.target_pid)
			return EINVAL;
	} else if (c.target_pid < 0 || c.target_pidfd) {
		return EINVAL;
	}
	e = predict_ranges(f, &c);
	if (e)
		return e;
	if (c.flags & PSS_CAPTURE_PIDFD) {
		if (c.target_pidfd < 0)
			return EBADF;
		if (c.target_pidfd == f->dev)
			return EBADFD;
		return -1;	/* other threads open and close fds meanwhile */
	}
	if (c.target_pid >= g.pid_max)
		return ESRCH;
	if (c.target_pid == 2)
		return EPERM;		/* kthreadd */
	return -1;			/* a live process: EAGAIN, ENOMEM... */
}

static int predict(struct fuzzer *f, enum fdkind k, unsigned int cmd, int fd, uint64_t argp)
{
	if (k == K_DEV && is_cmd(cmd, PSS_IOC_VERSION))
		return predict_version(f, argp);
	if (k == K_DEV && is_cmd(cmd, PSS_IOC_CAPTURE))
		return predict_capture(f, argp);
	if (k == K_SNAP && is_cmd(cmd, PSS_IOC_QUERY))
		return predict_query(f, fd, argp);
	if (k == K_SNAP && is_cmd(cmd, PSS_IOC_WALK))
		return predict_walk(f, fd, argp);
	return ENOTTY;
}

/* One call. Returns -1 on an oracle violation. */
static int one_call(struct fuzzer *f)
{
	union {
		struct pss_walk_args w;
		struct pss_query_args q;
		struct pss_capture_args c;
		struct pss_version v;
		char raw[256];
	} a;
	enum fdkind kind;
	unsigned int cmd, what = pssi_rand_below(&f->rng, 100);
	size_t alen = sizeof(a.w);
	uint64_t argp, buf_len = 0;
	bool rw = false, valid_layout = true;
	int fd, ret, e, want;

	memset(&a, 0, sizeof(a));
	if (what < 38) {
		kind = K_SNAP;
		fd = pick_snap(f);
		cmd = PSS_IOC_WALK;
		gen_walk(f, &a.w, &buf_len);
		alen = sizeof(a.w);
	} else if (what < 70) {
		kind = K_SNAP;
		fd = pick_snap(f);
		cmd = PSS_IOC_QUERY;
		gen_query(f, &a.q);
		alen = sizeof(a.q);
	} else if (what < 74) {
		kind = K_DEV;
		fd = f->dev;
		cmd = PSS_IOC_CAPTURE;
		gen_capture(f, &a.c);
		alen = sizeof(a.c);
	} else if (what < 80) {
		kind = K_DEV;
		fd = f->dev;
		cmd = PSS_IOC_VERSION;
		a.v.size = pssi_rand_below(&f->rng, 3) ? sizeof(a.v) :
			   rand_size(f, PSS_VERSION_SIZE_VER0, sizeof(a.v));
		alen = sizeof(a.v);
	} else if (what < 92) {
		/* the pss magic, random nr/dir/size, on either kind of fd */
		unsigned int nr = pssi_rand_below(&f->rng, 2) ?
				  pssi_rand_below(&f->rng, 256) :
				  (unsigned int[]){ 0, 1, 0x10, 0x11 }[pssi_rand_below(&f->rng, 4)];

		kind = pssi_rand_below(&f->rng, 2) ? K_DEV : K_SNAP;
		fd = kind == K_DEV ? f->dev : pick_snap(f);
		cmd = pss_cmd(pssi_rand_below(&f->rng, 4), nr, pssi_rand(&f->rng));
		/* give the args a chance to look like something */
		switch (pssi_rand_below(&f->rng, 4)) {
		case 0: gen_walk(f, &a.w, &buf_len); break;
		case 1: gen_query(f, &a.q); break;
		case 2: gen_capture(f, &a.c); break;
		default:
			for (alen = 0; alen < sizeof(a.raw); alen += 8)
				*(uint64_t *)(a.raw + alen) = rand_u64(f);
		}
		alen = sizeof(a.w);
		valid_layout = false;
	} else if (what < 96) {
		/* a real command on the wrong kind of fd */
		kind = pssi_rand_below(&f->rng, 2) ? K_DEV : K_SNAP;
		fd = kind == K_DEV ? f->dev : pick_snap(f);
		cmd = (unsigned int[]){ PSS_IOC_VERSION, PSS_IOC_CAPTURE, PSS_IOC_QUERY,
					PSS_IOC_WALK }[pssi_rand_below(&f->rng, 4)];
		if (kind == K_DEV && (is_cmd(cmd, PSS_IOC_VERSION) ||
				      is_cmd(cmd, PSS_IOC_CAPTURE)))
			cmd = PSS_IOC_WALK;
		if (kind == K_SNAP && (is_cmd(cmd, PSS_IOC_QUERY) ||
				       is_cmd(cmd, PSS_IOC_WALK)))
			cmd = PSS_IOC_CAPTURE;
		gen_query(f, &a.q);
		valid_layout = false;
	} else {
		/* another subsystem's type (not one do_vfs_ioctl handles) */
		unsigned int type;
		size_t i;

		do {
			type = pssi_rand_below(&f->rng, 256);
			for (i = 0; i < sizeof(vfs_types); i++)
				if (type == vfs_types[i])
					type = PSS_IOC_MAGIC;
		} while (type == PSS_IOC_MAGIC);
		kind = pssi_rand_below(&f->rng, 2) ? K_DEV : K_SNAP;
		fd = kind == K_DEV ? f->dev : pick_snap(f);
		cmd = _IOC(pssi_rand_below(&f->rng, 4), type, pssi_rand_below(&f->rng, 256),
			   pssi_rand(&f->rng) & _IOC_SIZEMASK);
		gen_walk(f, &a.w, &buf_len);
		valid_layout = false;
	}

	/* where the args live */
	argp = rand_ptr(f, alen, &rw);
	if (rw)
		memcpy((void *)(uintptr_t)argp, &a, alen);
	else if (argp >= (uintptr_t)f->arena &&
		 argp < (uintptr_t)f->arena + (A_RO + 1) * PSSI_PAGE &&
		 argp + alen > (uintptr_t)f->arena + A_NONE * PSSI_PAGE &&
		 argp < (uintptr_t)f->arena + A_NONE * PSSI_PAGE) {
		/* straddling RW -> NONE: fill what is writable */
		memcpy((void *)(uintptr_t)argp, &a,
		       (uintptr_t)f->arena + A_NONE * PSSI_PAGE - argp);
	}

	if (_IOC_TYPE(cmd) == PSS_IOC_MAGIC)
		f->pss_cmds++;
	want = predict(f, kind, cmd, fd, argp);
	errno = 0;
	ret = ioctl(fd, cmd, (unsigned long)argp);
	e = ret < 0 ? errno : 0;
	f->calls++;
	if (e >= 0 && e < 256)
		f->err[e]++;
	if (!allowed(kind, cmd, ret, e))
		return fail(f, "cmd %#x (nr %#x dir %u size %u) on %s fd: ret %d errno %d (%s); "
			    "arg %#llx%s", cmd, _IOC_NR(cmd), _IOC_DIR(cmd), _IOC_SIZE(cmd),
			    kind == K_DEV ? "/dev/pss" : "snapshot", ret, e, strerror(e),
			    (unsigned long long)argp, rw ? " (RW arena)" : "");
	if (want >= 0) {
		f->predicted++;
		if (want != e)
			return fail(f, "cmd %#x (nr %#x dir %u) on %s fd, arg %#llx%s: %s, "
				    "predicted %s", cmd, _IOC_NR(cmd), _IOC_DIR(cmd),
				    kind == K_DEV ? "/dev/pss" : "snapshot",
				    (unsigned long long)argp, rw ? " (RW arena)" : "",
				    e ? strerror(e) : "success",
				    want ? strerror(want) : "success");
	}
	if (ret < 0)
		return 0;
	f->ok++;

	if (kind == K_DEV && is_cmd(cmd, PSS_IOC_CAPTURE)) {
		struct pss_snapshot_info si;

		if (ret <= 2)
			return fail(f, "capture returned fd %d", ret);
		if (fcntl(ret, F_GETFD) != FD_CLOEXEC)
			return fail(f, "snapshot fd %d without FD_CLOEXEC", ret);
		if (ioc_query(ret, PSS_QUERY_SNAPSHOT, &si, sizeof(si), NULL))
			return fail(f, "new snapshot fd %d does not answer QUERY_SNAPSHOT: %s",
				    ret, strerror(errno));
		f->captures++;
		if (pssi_rand_below(&f->rng, 2))
			keep_snap(f, ret);
		else
			close(ret);
		return 0;
	}
	if (ret != 0)
		return fail(f, "cmd %#x returned %d", cmd, ret);
	/* bookkeeping of successful calls whose args we can read back */
	if (rw && valid_layout && is_cmd(cmd, PSS_IOC_WALK) &&
	    ((struct pss_walk_args *)(uintptr_t)argp)->size == sizeof(a.w)) {
		struct pss_walk_args *w = (void *)(uintptr_t)argp;

		if (w->pos != a.w.pos + w->count || w->bytes_written > buf_len ||
		    w->pos > w->total ||
		    !!(w->out_flags & PSS_WALK_END) != (w->pos == w->total) ||
		    (w->count && w->bytes_written < w->count * pss_rec_min(w->walk_class)))
			return fail(f, "walk class %u pos %llu buf_len %llu: pos %llu count %u "
				    "bytes %llu total %llu flags %#x", a.w.walk_class,
				    (unsigned long long)a.w.pos, (unsigned long long)buf_len,
				    (unsigned long long)w->pos, w->count,
				    (unsigned long long)w->bytes_written,
				    (unsigned long long)w->total, w->out_flags);
	}
	if (rw && valid_layout && is_cmd(cmd, PSS_IOC_QUERY) &&
	    ((struct pss_query_args *)(uintptr_t)argp)->size == sizeof(a.q)) {
		struct pss_query_args *q = (void *)(uintptr_t)argp;

		if (q->kernel_size < PSS_COUNT_INFO_SIZE_VER0 || q->kernel_size > 65536)
			return fail(f, "query class %u: kernel_size %u", a.q.query_class,
				    q->kernel_size);
	}
	return 0;
}

static void *fuzz_thread(void *arg)
{
	struct fuzzer *f = arg;
	unsigned int i = 0;

	/* one thread without CAP_SYS_ADMIN: kernel stacks are EACCES for it */
	if (f->idx == 1) {
		struct __user_cap_header_struct h = {
			.version = _LINUX_CAPABILITY_VERSION_3,
		};
		struct __user_cap_data_struct d[2];

		if (syscall(SYS_capget, &h, d)) {
			fail(f, "capget: %s", strerror(errno));
			return NULL;
		}
		d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
		if (syscall(SYS_capset, &h, d)) {
			fail(f, "capset: %s", strerror(errno));
			return NULL;
		}
	}

	while (!g.stop) {
		if (one_call(f))
			break;
		if (!(++i & 255)) {
			unsigned long t = __atomic_add_fetch(&g.total_calls, 256,
							     __ATOMIC_RELAXED);

			if (g.max_calls ? t >= g.max_calls :
			    !pssi_loop_on(g.t0, g.deadline, t, MIN_CALLS))
				break;
		}
	}
	return NULL;
}

static char *make_arena(void)
{
	char *a = mmap(NULL, ARENA_PAGES * PSSI_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pss_walk_args *w;

	if (a == MAP_FAILED)
		return NULL;
	/* the RO page holds a plausible struct so reads get further */
	w = (void *)(a + A_RO * PSSI_PAGE);
	w->size = sizeof(*w);
	w->buf = (uintptr_t)a;
	w->buf_len = PSSI_PAGE;
	if (mprotect(a + A_NONE * PSSI_PAGE, PSSI_PAGE, PROT_NONE) ||
	    mprotect(a + A_RO * PSSI_PAGE, PSSI_PAGE, PROT_READ) ||
	    mprotect(a + (A_RO + 1) * PSSI_PAGE, PSSI_PAGE, PROT_NONE) ||
	    munmap(a + A_HOLE * PSSI_PAGE, PSSI_PAGE))
		return NULL;
	return a;
}

FIXTURE(fuzz) {
	int dev;
};

FIXTURE_SETUP(fuzz)
{
	self->dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", PSS_DEVICE_PATH, strerror(errno));
}

FIXTURE_TEARDOWN(fuzz)
{
	close(self->dev);
}

TEST_F_TIMEOUT(fuzz, random_ioctls, 1200)
{
	const char *e = getenv("PSS_FUZZ_CALLS"), *te = getenv("PSS_FUZZ_THREADS");
	double secs = pssi_budget("PSS_FUZZ_SECS", 30, 100);
	int nthreads = te && *te ? atoi(te) : 4, i, j, fds0;
	uint64_t seed = pssi_seed(), t0;
	unsigned long calls = 0, ok = 0, captures = 0, pss_cmds = 0, predicted = 0;
	unsigned long err[256];
	struct fuzzer *f;
	char line[1024];
	size_t l = 0;

	if (nthreads < 1 || nthreads > MAX_THREADS)
		nthreads = 4;
	fds0 = pssi_count_fds();
	memset(&g, 0, sizeof(g));
	g.max_calls = e && *e ? strtoul(e, NULL, 0) : 0;
	PSSI_LOG("seed %#llx (PSS_SEED), %d threads, budget %.1f s (PSS_FUZZ_SECS)%s",
		 (unsigned long long)seed, nthreads, secs,
		 g.max_calls ? ", call limit set (PSS_FUZZ_CALLS)" : "");
	{
		FILE *pm = fopen("/proc/sys/kernel/pid_max", "re");

		ASSERT_NE(NULL, pm);
		ASSERT_EQ(1, fscanf(pm, "%ld", &g.pid_max));
		fclose(pm);
	}
	g.self_pidfd = pssi_pidfd_open(getpid());
	ASSERT_LE(0, g.self_pidfd);
	g.shared[0] = pssi_capture_ts(self->dev, 0, -1, PSS_FACETS_KNOWN);
	g.shared[1] = pssi_capture(self->dev, 0, -1, 0);
	g.shared[2] = pssi_capture(self->dev, 0, -1, PSS_FACET_THREADS | PSS_FACET_VA_SPACE);
	ASSERT_LE(0, g.shared[0]) TH_LOG("capture all: %s", strerror(-g.shared[0]));
	ASSERT_LE(0, g.shared[1]) TH_LOG("capture none: %s", strerror(-g.shared[1]));
	ASSERT_LE(0, g.shared[2]) TH_LOG("capture t+va: %s", strerror(-g.shared[2]));

	f = calloc(nthreads, sizeof(*f));
	ASSERT_NE(NULL, f);
	t0 = pssi_now_ns();
	g.t0 = t0;
	g.deadline = t0 + secs * 1e9;
	for (i = 0; i < nthreads; i++) {
		f[i].idx = i;
		f[i].rng = seed ^ (0x9e3779b97f4a7c15ULL * (i + 1));
		f[i].arena = make_arena();
		ASSERT_NE(NULL, f[i].arena);
		f[i].scratch = malloc(SCRATCH);
		ASSERT_NE(NULL, f[i].scratch);
		f[i].dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, f[i].dev);
		f[i].shared_dup = fcntl(g.shared[i % 3], F_DUPFD_CLOEXEC, 0);
		ASSERT_LE(0, f[i].shared_dup);
		for (j = 0; j < POOL; j++)
			f[i].pool[j] = -1;
	}
	for (i = 0; i < nthreads; i++) {
		ASSERT_EQ(0, pthread_create(&f[i].th, NULL, fuzz_thread, &f[i]));
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(f[i].th, NULL);
	secs = (pssi_now_ns() - t0) / 1e9;

	memset(err, 0, sizeof(err));
	for (i = 0; i < nthreads; i++) {
		calls += f[i].calls;
		ok += f[i].ok;
		captures += f[i].captures;
		pss_cmds += f[i].pss_cmds;
		predicted += f[i].predicted;
		for (j = 0; j < 256; j++)
			err[j] += f[i].err[j];
		for (j = 0; j < POOL; j++)
			if (f[i].pool[j] >= 0)
				close(f[i].pool[j]);
		close(f[i].shared_dup);
		close(f[i].dev);
		munmap(f[i].arena, ARENA_PAGES * PSSI_PAGE);
		free(f[i].scratch);
	}
	for (j = 1; j < 256; j++)
		if (err[j])
			l += snprintf(line + l, sizeof(line) - l, " %s:%lu",
				      strerrorname_np(j) ? strerrorname_np(j) : "?", err[j]);
	PSSI_LOG("fuzz: %lu calls in %.1f s = %.0f calls/s (%lu pss-magic), %lu ok, "
		 "%lu captures", calls, secs, calls / secs, pss_cmds, ok, captures);
	PSSI_LOG("fuzz errnos:%s", line);
	PSSI_LOG("fuzz: %lu calls (%.0f%%) had their exact outcome predicted", predicted,
		 calls ? 100.0 * predicted / calls : 0.0);
	for (i = 0; i < nthreads; i++) {
		EXPECT_EQ(0, f[i].failed) TH_LOG("thread %d: %s", i, f[i].msg);
	}
	/* the fuzzer reached the real code, not just the door */
	EXPECT_LT(0, ok);
	EXPECT_LT(0, captures);
	if (!g.max_calls) {
		EXPECT_LE(MIN_CALLS, calls);
	}
	for (i = 0; i < 3; i++)
		close(g.shared[i]);
	close(g.self_pidfd);
	free(f);
	EXPECT_EQ(fds0, pssi_count_fds());
}

static void *nop_fn(void *arg)
{
	return arg;
}

/* ------------------------------------------------------------ structured */

/*
 * Structure-aware walks: every call starts from a valid walk of a snapshot
 * whose records are known (a reference walk taken when it was captured),
 * with buf_len chosen around record boundaries, and then has at most one
 * field mutated. The outcome is predicted in full - errno, count,
 * bytes_written, pos, END, next_len, total and the bytes themselves -
 * while a closer thread keeps closing the snapshots the walkers use and
 * capturing replacements of a foreign target that churns. A call on an fd
 * closed (or reused) meanwhile may fail with EBADF or walk another
 * snapshot: then only the framing is checked.
 */
#define SW_SLOTS	6
#define SW_WALKERS	3

struct sw_ref {
	int fd;
	int refs;		/* under the slot's lock */
	struct pssi_snap s;
};

struct sw_slot {
	pthread_mutex_t lock;
	struct sw_ref *ref;
	unsigned long gen;	/* bumped on every replacement */
};

enum { SW_RECORDS, SW_EMPTY_END, SW_ENOSPC, SW_ERANGE, SW_EINVAL, SW_E2BIG, SW_EFAULT,
       SW_EBADF, SW_OTHER_SNAP, SW_NR };
static const char *const sw_name[SW_NR] = {
	"records", "end", "ENOSPC", "ERANGE", "EINVAL", "E2BIG", "EFAULT", "EBADF",
	"fd replaced",
};

static struct {
	struct sw_slot slot[SW_SLOTS];
	volatile int stop;
	int dev;
	pid_t target;
	uint64_t thread_state;	/* the thread-state facets the module has */
	unsigned long replaced, eagain;
	char *ro;		/* a read-only page: EFAULT for output */
} sw;

struct sw_walker {
	pthread_t th;
	uint64_t rng;
	unsigned long calls, out[SW_NR];
	int failed;
	char msg[1024];
};

static void sw_put(struct sw_ref *r)
{
	/* the last holder frees it (the fd was closed when it was replaced) */
	if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		pssi_snap_free(&r->s);
		free(r);
	}
}

static struct sw_ref *sw_capture(uint64_t *rng)
{
	const uint64_t facets[] = {
		PSS_FACETS_ALL, PSS_FACETS_ALL & ~PSS_FACET_MEASURE_PERFORMANCE,
		PSS_FACET_THREADS | PSS_FACET_VA_SPACE,
		PSS_FACET_HANDLES | PSS_FACET_HANDLE_NAME,
		/* thread state of a churning target: parked under the walks */
		PSS_FACETS_ALL | sw.thread_state,
	};
	uint64_t f = facets[pssi_rand_below(rng, 5)];
	struct pssi_opts o = { .pid = sw.target, .facets = f };
	struct sw_ref *r = calloc(1, sizeof(*r));
	int fd;

	if (!r)
		return NULL;
	do {
		fd = pssi_capture_ts(sw.dev, sw.target, -1, f);
		if (fd == -EAGAIN)
			sw.eagain++;
	} while (fd == -EAGAIN);
	if (fd < 0 || pssi_load(fd, &o, &r->s)) {
		if (fd >= 0)
			close(fd);
		pssi_snap_free(&r->s);
		free(r);
		return NULL;
	}
	r->fd = fd;
	r->refs = 1;	/* the slot's */
	return r;
}

/* Keeps replacing snapshots, closing the old fd while walkers may use it. */
static void *sw_closer(void *arg)
{
	uint64_t rng = *(uint64_t *)arg;

	while (!sw.stop) {
		struct sw_slot *sl = &sw.slot[pssi_rand_below(&rng, SW_SLOTS)];
		struct sw_ref *n = sw_capture(&rng), *old;

		if (!n) {
			sw.stop = 2;
			break;
		}
		pthread_mutex_lock(&sl->lock);
		old = sl->ref;
		sl->ref = n;
		__atomic_add_fetch(&sl->gen, 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&sl->lock);
		close(old->fd);
		sw_put(old);
		sw.replaced++;
		usleep(pssi_rand_below(&rng, 2000));
	}
	return NULL;
}

static int sw_fail(struct sw_walker *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
	w->failed = 1;
	sw.stop = 1;
	return -1;
}

/* buf_len around the record boundaries from pos, where the outcome turns */
static uint64_t sw_buf_len(struct sw_walker *w, const struct pssi_recs *r, uint64_t pos)
{
	uint64_t left = pos < r->n ? r->n - pos : 0, k;

	if (!left)
		return pssi_rand_below(&w->rng, 4096);
	k = 1 + pssi_rand_below(&w->rng, left);
	switch (pssi_rand_below(&w->rng, 6)) {
	case 0: return r->off[pos + k] - r->off[pos];		/* exactly k records */
	case 1: return r->off[pos + k] - r->off[pos] - 1;	/* k - 1 of them */
	case 2: return r->off[pos + 1] - r->off[pos] - 1;	/* ENOSPC by one byte */
	case 3: return r->off[pos + k] - r->off[pos] + pssi_rand_below(&w->rng, 64);
	case 4: return 1 << 20;					/* the rest */
	default: return r->max_len + pssi_rand_below(&w->rng, r->max_len + 1);
	}
}

/*
 * One call at *posp (a random one if *posp is ~0); on a checked success
 * *posp is where the walk goes on, else ~0. 1: the fd was replaced.
 */
static int sw_call(struct sw_walker *w, struct sw_slot *sl, struct sw_ref *ref,
		   unsigned long gen, uint32_t cls, uint64_t *posp, char *buf, size_t bufsz)
{
	struct {
		struct pss_walk_args a;
		char tail[64];
	} arg;
	uint64_t pos, n = 0, bytes = 0, buf_len;
	const struct pssi_recs *r = &ref->s.r[cls];
	bool have = ref->s.have[cls];
	int want, e, mut, fd = ref->fd;

	pos = *posp;
	if (pos == ~0ULL)
		pos = have && pssi_rand_below(&w->rng, 8) ?
		      pssi_rand_below(&w->rng, r->n + 1) : pssi_rand_below(&w->rng, 4);
	*posp = ~0ULL;
	buf_len = have ? sw_buf_len(w, r, pos < r->n ? pos : r->n) : 4096;
	if (buf_len > bufsz)
		buf_len = bufsz;

	memset(&arg, 0, sizeof(arg));
	arg.a.size = sizeof(arg.a);
	arg.a.walk_class = cls;
	arg.a.pos = pos;
	arg.a.buf = (uintptr_t)buf;
	arg.a.buf_len = buf_len;
	/* the prediction for the valid call */
	if (!have) {
		want = ENODATA;
	} else if (pos > r->n) {
		want = ERANGE;
	} else {
		while (pos + n < r->n && r->off[pos + n + 1] - r->off[pos] <= buf_len)
			n++;
		bytes = r->off[pos + n] - r->off[pos];
		want = !n && pos < r->n ? ENOSPC : 0;
	}
	/* then at most one field changed */
	mut = pssi_rand_below(&w->rng, 3) ? -1 : (int)pssi_rand_below(&w->rng, 9);
	switch (mut) {
	case 0: arg.a.flags = 1u << pssi_rand_below(&w->rng, 32); want = EINVAL; break;
	case 1: arg.a.walk_class = PSS_WALK_NR_CLASSES + pssi_rand_below(&w->rng, 100);
		want = EINVAL; break;
	case 2: arg.a.size = sizeof(arg.a) + 8;
		arg.tail[pssi_rand_below(&w->rng, 8)] = 1 + pssi_rand_below(&w->rng, 255);
		want = E2BIG; break;
	case 3: arg.a.size = PSS_WALK_ARGS_SIZE_VER0 - 1 - pssi_rand_below(&w->rng, 8);
		want = EINVAL; break;
	case 4: arg.a.size = 4097; want = E2BIG; break;
	case 5: /* output into a read-only page: only copying records faults */
		arg.a.buf = (uintptr_t)sw.ro;
		if (want == 0 && n)
			want = EFAULT;
		break;
	case 6: arg.a.size = sizeof(arg.a) + sizeof(arg.tail); break;	/* zero tail */
	case 7: /* out fields are ignored on input */
		arg.a.out_flags = pssi_rand(&w->rng);
		arg.a.count = pssi_rand(&w->rng);
		arg.a.next_len = pssi_rand(&w->rng);
		arg.a.bytes_written = pssi_rand(&w->rng);
		arg.a.total = pssi_rand(&w->rng);
		break;
	case 8: if (have) { arg.a.pos = r->n + 1 + pssi_rand_below(&w->rng, 1000);
			    want = ERANGE; }
		break;
	}

	e = ioctl(fd, PSS_IOC_WALK, &arg) ? errno : 0;
	w->calls++;
	if (__atomic_load_n(&sl->gen, __ATOMIC_ACQUIRE) != gen) {
		/* closed, perhaps reused by another snapshot: framing only */
		if (e == EBADF) {
			w->out[SW_EBADF]++;
		} else {
			w->out[SW_OTHER_SNAP]++;
			if (!e && pssi_check_batch(arg.a.walk_class, buf, arg.a.bytes_written,
						   arg.a.count, pos))
				return sw_fail(w, "walk of a replaced fd: %s", pssi_errmsg);
		}
		return 1;
	}
	if (e != want) {
		return sw_fail(w, "class %u pos %llu buf_len %llu mutation %d: %s, want %s",
			       cls, (unsigned long long)pos, (unsigned long long)buf_len, mut,
			       e ? strerror(e) : "success", want ? strerror(want) : "success");
	}
	switch (e) {
	case 0:		w->out[n ? SW_RECORDS : SW_EMPTY_END]++; break;
	case ENOSPC:	w->out[SW_ENOSPC]++; break;
	case ERANGE:	w->out[SW_ERANGE]++; break;
	case EINVAL:	w->out[SW_EINVAL]++; break;
	case E2BIG:	w->out[SW_E2BIG]++; break;
	case EFAULT:	w->out[SW_EFAULT]++; break;
	default:	break;
	}
	if ((!e || e == ENOSPC) && mut != 5) {
		uint64_t end = pos + n;
		uint32_t next = end < r->n ? r->off[end + 1] - r->off[end] : 0;

		if (arg.a.count != n || arg.a.bytes_written != bytes || arg.a.pos != end ||
		    arg.a.total != r->n || arg.a.next_len != next ||
		    !!(arg.a.out_flags & PSS_WALK_END) != (end == r->n) ||
		    (arg.a.out_flags & ~PSS_WALK_END) ||
		    (bytes && memcmp(buf, r->buf + r->off[pos], bytes))) {
			return sw_fail(w, "class %u pos %llu buf_len %llu mutation %d: count "
				       "%u/%llu bytes %llu/%llu pos %llu/%llu total %llu/%zu "
				       "next_len %u/%u flags %#x%s", cls,
				       (unsigned long long)pos, (unsigned long long)buf_len,
				       mut, arg.a.count, (unsigned long long)n,
				       (unsigned long long)arg.a.bytes_written,
				       (unsigned long long)bytes,
				       (unsigned long long)arg.a.pos, (unsigned long long)end,
				       (unsigned long long)arg.a.total, r->n,
				       arg.a.next_len, next, arg.a.out_flags,
				       bytes && memcmp(buf, r->buf + r->off[pos], bytes) ?
				       ", records differ from the reference" : "");
		}
		if (!e && end < r->n)
			*posp = end;
	}
	return 0;
}

/* A walk of a few calls on one snapshot, while the closer may close it. */
static int sw_one(struct sw_walker *w, char *buf, size_t bufsz)
{
	struct sw_slot *sl = &sw.slot[pssi_rand_below(&w->rng, SW_SLOTS)];
	unsigned int i, calls = 1 + pssi_rand_below(&w->rng, 16);
	uint64_t pos = ~0ULL;
	struct sw_ref *ref;
	unsigned long gen;
	uint32_t cls;
	int ret = 0;

	pthread_mutex_lock(&sl->lock);
	ref = sl->ref;
	__atomic_add_fetch(&ref->refs, 1, __ATOMIC_ACQ_REL);
	gen = sl->gen;
	pthread_mutex_unlock(&sl->lock);
	/* mostly a class the snapshot has: the records are the point */
	do
		cls = pssi_rand_below(&w->rng, PSS_WALK_NR_CLASSES);
	while (!ref->s.have[cls] && pssi_rand_below(&w->rng, 8));
	for (i = 0; i < calls && !ret; i++)
		ret = sw_call(w, sl, ref, gen, cls, &pos, buf, bufsz);
	sw_put(ref);
	return ret < 0 ? ret : 0;
}

static void *sw_walker_fn(void *arg)
{
	struct sw_walker *w = arg;
	size_t bufsz = 1 << 20;
	char *buf = malloc(bufsz);

	if (!buf)
		return NULL;
	while (!sw.stop && !sw_one(w, buf, bufsz))
		;
	free(buf);
	return NULL;
}

/* The foreign target: threads, fds and mappings come and go. */
static void *sw_churn(void *arg)
{
	uint64_t rng = (uintptr_t)arg;

	for (;;) {
		switch (pssi_rand_below(&rng, 3)) {
		case 0: {
			int fd = open("/dev/null", O_RDONLY);

			usleep(pssi_rand_below(&rng, 500));
			if (fd >= 0)
				close(fd);
			break;
		}
		case 1: {
			void *a = mmap(NULL, PSSI_PAGE * (1 + pssi_rand_below(&rng, 4)),
				       PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			usleep(pssi_rand_below(&rng, 500));
			if (a != MAP_FAILED)
				munmap(a, PSSI_PAGE);
			break;
		}
		default: {
			pthread_t t;

			if (!pthread_create(&t, NULL, nop_fn, NULL))
				pthread_join(t, NULL);
		}
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(fuzz, structured_walks, 1200)
{
	double secs = pssi_budget("PSS_FUZZ_SECS", 30, 100) / 2;
	uint64_t seed = pssi_seed() ^ 0x5157, t0, end;
	struct sw_walker wk[SW_WALKERS];
	unsigned long calls = 0, out[SW_NR] = { 0 }, checked;
	pthread_t closer;
	char line[512];
	size_t l = 0;
	int i, j, fds0 = pssi_count_fds();

	memset(&sw, 0, sizeof(sw));
	sw.dev = self->dev;
	sw.thread_state = PSS_FACETS_THREAD_STATE;
	sw.ro = mmap(NULL, PSSI_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sw.ro);
	sw.target = fork();
	ASSERT_LE(0, sw.target);
	if (sw.target == 0) {
		pthread_t t;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (i = 0; i < 2; i++)
			if (pthread_create(&t, NULL, sw_churn, (void *)(uintptr_t)(seed + i)))
				_exit(1);
		for (;;)
			pause();
	}
	for (i = 0; i < SW_SLOTS; i++) {
		pthread_mutex_init(&sw.slot[i].lock, NULL);
		sw.slot[i].ref = sw_capture(&seed);
		ASSERT_NE(NULL, sw.slot[i].ref) TH_LOG("capture of the churning target: %s",
						      pssi_errmsg);
	}
	memset(wk, 0, sizeof(wk));
	ASSERT_EQ(0, pthread_create(&closer, NULL, sw_closer, &seed));
	for (i = 0; i < SW_WALKERS; i++) {
		wk[i].rng = seed * (i + 3);
		ASSERT_EQ(0, pthread_create(&wk[i].th, NULL, sw_walker_fn, &wk[i]));
	}
	t0 = pssi_now_ns();
	end = t0 + secs * 1e9;
	for (;;) {
		unsigned long c = 0;

		for (i = 0; i < SW_WALKERS; i++)
			c += wk[i].calls;
		if (sw.stop || !pssi_loop_on(t0, end, c, MIN_CALLS / 10))
			break;
		usleep(10000);
	}
	if (!sw.stop)
		sw.stop = 1;
	for (i = 0; i < SW_WALKERS; i++)
		pthread_join(wk[i].th, NULL);
	pthread_join(closer, NULL);
	kill(sw.target, SIGKILL);
	waitpid(sw.target, NULL, 0);
	for (i = 0; i < SW_WALKERS; i++) {
		calls += wk[i].calls;
		for (j = 0; j < SW_NR; j++)
			out[j] += wk[i].out[j];
		EXPECT_EQ(0, wk[i].failed) TH_LOG("walker %d: %s", i, wk[i].msg);
	}
	EXPECT_NE(2, sw.stop) TH_LOG("the closer could not capture: %s", pssi_errmsg);
	for (j = 0; j < SW_NR; j++)
		l += snprintf(line + l, sizeof(line) - l, " %s %lu (%.1f%%)", sw_name[j],
			      out[j], calls ? 100.0 * out[j] / calls : 0.0);
	PSSI_LOG("structured walks: %lu calls, %lu snapshots replaced under them "
		 "(%lu EAGAIN):%s", calls, sw.replaced, sw.eagain, line);
	for (i = 0; i < SW_SLOTS; i++) {
		close(sw.slot[i].ref->fd);
		sw_put(sw.slot[i].ref);
	}
	munmap(sw.ro, PSSI_PAGE);
	checked = calls - out[SW_EBADF] - out[SW_OTHER_SNAP];
	EXPECT_LE(MIN_CALLS / 10, calls);
	/* the walks reach the records, not only the argument checks */
	EXPECT_LE(calls / 3, out[SW_RECORDS]);
	EXPECT_LT(calls / 2, checked);
	EXPECT_LT(0, sw.replaced);
	EXPECT_EQ(fds0, pssi_count_fds());
}

TEST_HARNESS_MAIN
