// SPDX-License-Identifier: GPL-2.0
/*
 * Thread contexts (PSS_FACET_THREAD_CONTEXT) and the quiesce behind them:
 *
 *  - the registers of a held thread are what PTRACE_GETREGSET shows for it
 *    in a ptrace-stop right after, set by set, in the core notes' sizes;
 *  - values a thread spinning in user mode keeps in general and vector
 *    registers come back from a thread pss parked (PSS_PARK_WAITED);
 *  - threads blocked in read, poll, futex, nanosleep, epoll_wait and vfork
 *    are held where they sleep (PSS_PARK_BLOCKED): not woken (no context
 *    switch), no signal, no EINTR - each call completes as it would have;
 *  - a self-capture: the caller's own registers at the ioctl;
 *  - never left parked: after a capture, when the caller is SIGKILLed in a
 *    long quiesce, when the target is SIGKILLed or execs meanwhile, when
 *    the snapshot is closed at once, when the module is unloaded under a
 *    park request that never ran;
 *  - the timeout: a thread busy in the kernel is reported not parked;
 *  - the perf VER1 counts and the PSS_THREAD_PARKED flag;
 *  - 1000 threads, threads born and dying during the quiesce;
 *  - an io_uring worker (no user state) between two threads: not parked,
 *    and no other thread's park is taken for its own;
 *  - PSS_QUERY_AUXV is /proc/PID/auxv.
 *
 * Targets are forked children whose threads each do one thing (spin, block
 * in one call, busy the kernel) and report through shared memory.
 */
#include <elf.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <sys/epoll.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "pss_invariants.h"
#include "pss_test_util.h"	/* the /proc readers; the harness */

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE	0x202
#endif

#define MAXT		16
#define CTX_FACETS	(PSS_FACET_THREADS | PSS_FACET_THREAD_CONTEXT | \
			 PSS_FACET_MEASURE_PERFORMANCE)

/* Distinctive values the register spinner keeps in r12-r15 and ymm7. */
static const uint64_t magic_gpr[4] = {
	0x1212121234343434ULL, 0x1313131356565656ULL,
	0x1414141478787878ULL, 0x151515159a9a9a9aULL,
};
static const uint64_t magic_ymm[4] __attribute__((aligned(32))) = {
	0xa0a1a2a3a4a5a6a7ULL, 0xb0b1b2b3b4b5b6b7ULL,
	0xc0c1c2c3c4c5c6c7ULL, 0xd0d1d2d3d4d5d6d7ULL,
};

enum kind {
	K_NONE,
	K_SPIN,		/* counts in user mode */
	K_SPIN_REGS,	/* spins with magic_gpr / magic_ymm loaded */
	K_READ,		/* read() of a pipe */
	K_POLL,		/* poll() of a pipe, no timeout */
	K_FUTEX,	/* FUTEX_WAIT on a shared word */
	K_NANOSLEEP,	/* nanosleep(sleep_ms) */
	K_EPOLL,	/* epoll_wait() on a pipe, no timeout */
	K_VFORK,	/* vfork(): the parent in D until its child exits */
	K_BUSY,		/* readv() of /dev/urandom, 2 GiB a call, forever */
	K_STARVED,	/* spins on CPU 1, where a SCHED_FIFO hog keeps it off */
};

static const char *const kind_name[] = {
	"none", "spin", "spin-regs", "read", "poll", "futex", "nanosleep",
	"epoll", "vfork", "busy", "starved",
};

struct thr {
	volatile pid_t tid;
	volatile int kind;
	volatile int in_call;		/* about to enter its blocking call */
	volatile int done;		/* the call returned */
	volatile long ret;		/* ... with this */
	volatile int err;		/* ... and errno */
	volatile uint64_t counter;	/* spinners */
	int pipe[2];			/* K_READ, K_POLL, K_EPOLL, K_VFORK */
};

struct shm {
	volatile int started;
	volatile int futex_word;
	volatile int stop_spin;		/* makes the register spinner return */
	volatile int signals;		/* handler runs: must stay 0 */
	int sleep_ms;
	int nthreads;
	int exec_pipe;			/* K_EXEC target: reports the exec */
	struct thr t[MAXT];
};

static struct shm *g_shm;

static long sys_futex(volatile int *uaddr, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static void count_signal(int sig)
{
	__atomic_add_fetch(&g_shm->signals, 1, __ATOMIC_RELAXED);
}

static bool have_avx(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx");
}

/*
 * The register spinner: r12-r14 and ymm7 (xmm7 without AVX) hold the
 * magic until stop_spin; r15 counts up from magic_gpr[3] and xmm6 follows
 * it, one instruction behind, so a stale FPU image shows.
 */
static void spin_regs(struct thr *t)
{
	if (!have_avx()) {
		__asm__ volatile(
			"movq 0(%[g]), %%r12\n\t"
			"movq 8(%[g]), %%r13\n\t"
			"movq 16(%[g]), %%r14\n\t"
			"movq 24(%[g]), %%r15\n\t"
			"movdqu (%[y]), %%xmm7\n\t"
			"1: movq %%r15, %%xmm6\n\t"
			"incq %%r15\n\t"
			"incq (%[c])\n\t"
			"cmpl $0, (%[s])\n\t"
			"je 1b\n\t"
			:
			: [g] "r"(magic_gpr), [y] "r"(magic_ymm), [c] "r"(&t->counter),
			  [s] "r"(&g_shm->stop_spin)
			: "r12", "r13", "r14", "r15", "xmm6", "xmm7", "memory", "cc");
		return;
	}
	__asm__ volatile(
		"movq 0(%[g]), %%r12\n\t"
		"movq 8(%[g]), %%r13\n\t"
		"movq 16(%[g]), %%r14\n\t"
		"movq 24(%[g]), %%r15\n\t"
		"vmovdqu (%[y]), %%ymm7\n\t"
		"1: movq %%r15, %%xmm6\n\t"
		"incq %%r15\n\t"
		"incq (%[c])\n\t"
		"cmpl $0, (%[s])\n\t"
		"je 1b\n\t"
		"vzeroupper\n\t"
		:
		: [g] "r"(magic_gpr), [y] "r"(magic_ymm), [c] "r"(&t->counter),
		  [s] "r"(&g_shm->stop_spin)
		: "r12", "r13", "r14", "r15", "xmm6", "xmm7", "memory", "cc");
}

static void *thread_fn(void *arg)
{
	struct thr *t = arg;
	struct epoll_event ev = { .events = EPOLLIN };
	struct pollfd pfd;
	struct timespec ts;
	char c;
	long r = 0;
	int ep;

	t->tid = syscall(SYS_gettid);
	__atomic_add_fetch(&g_shm->started, 1, __ATOMIC_RELEASE);
	switch (t->kind) {
	case K_SPIN:
		for (;;)
			t->counter++;
	case K_SPIN_REGS:
		spin_regs(t);
		for (;;)
			pause();
	case K_READ:
		t->in_call = 1;
		r = syscall(SYS_read, t->pipe[0], &c, 1);
		break;
	case K_POLL:
		pfd.fd = t->pipe[0];
		pfd.events = POLLIN;
		t->in_call = 1;
		/* raw calls: libc may route these through their newer kin */
		r = syscall(SYS_poll, &pfd, 1, -1);
		break;
	case K_FUTEX:
		t->in_call = 1;
		r = sys_futex(&g_shm->futex_word, FUTEX_WAIT, 0, NULL);
		break;
	case K_NANOSLEEP:
		ts.tv_sec = g_shm->sleep_ms / 1000;
		ts.tv_nsec = (g_shm->sleep_ms % 1000) * 1000000L;
		t->in_call = 1;
		r = syscall(SYS_nanosleep, &ts, NULL);
		break;
	case K_EPOLL:
		ep = epoll_create1(0);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, t->pipe[0], &ev))
			_exit(20);
		t->in_call = 1;
		r = syscall(SYS_epoll_wait, ep, &ev, 1, -1);
		break;
	case K_VFORK:
		t->in_call = 1;
		r = vfork();
		if (r == 0) {
			/*
			 * The child borrows our stack: raw system calls only.
			 * It reads until the test writes, or closes its end.
			 */
			syscall(SYS_close, t->pipe[1]);
			syscall(SYS_read, t->pipe[0], &c, 1);
			syscall(SYS_exit, 0);
		}
		break;
	case K_STARVED: {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(1, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			_exit(22);
		t->in_call = 1;
		for (;;)
			t->counter++;
	}
	case K_BUSY: {
		static char buf[2 << 20];
		struct iovec iov[1024];
		/* ChaCha20 into one buffer: seconds per call, in the kernel */
		int fd = open("/dev/urandom", O_RDONLY), i;

		for (i = 0; i < 1024; i++) {
			iov[i].iov_base = buf;
			iov[i].iov_len = sizeof(buf);
		}
		t->in_call = 1;
		for (;;)
			t->counter += readv(fd, iov, 1024) > 0;
	}
	}
	t->ret = r;
	t->err = r < 0 ? errno : 0;
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
	return NULL;
}

/* The target: kinds[0..n) are its threads, the leader blocks in read. */
static void target_main(void)
{
	struct sigaction sa = { .sa_handler = count_signal };
	pthread_attr_t attr;
	int i, sig;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* a handler without SA_RESTART: any signal would show as EINTR */
	for (sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
			sigaction(sig, &sa, NULL);
	signal(SIGCHLD, SIG_IGN);	/* the vfork child: no SIGCHLD either */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	for (i = 1; i < g_shm->nthreads; i++) {
		pthread_t th;

		if (pthread_create(&th, &attr, thread_fn, &g_shm->t[i]))
			_exit(21);
	}
	g_shm->t[0].tid = getpid();
	__atomic_add_fetch(&g_shm->started, 1, __ATOMIC_RELEASE);
	g_shm->t[0].in_call = 1;
	while (read(g_shm->t[0].pipe[0], &c, 1) < 0)
		;
	_exit(0);
}

struct target {
	pid_t pid;
	struct shm *shm;
	int n;
};

/* /proc/PID/task/TID/syscall's number: in which call it sleeps (-1: none). */
static long in_syscall(pid_t pid, pid_t tid)
{
	char *s = pss_read_fmt(NULL, "/proc/%d/task/%d/syscall", pid, tid);
	long nr = -1;

	if (s && isdigit((unsigned char)s[0]))
		nr = atol(s);
	free(s);
	return nr;
}

static long kind_syscall(int kind)
{
	switch (kind) {
	case K_READ:		return SYS_read;
	case K_POLL:		return SYS_poll;
	case K_FUTEX:		return SYS_futex;
	case K_NANOSLEEP:	return SYS_nanosleep;
	case K_EPOLL:		return SYS_epoll_wait;
	case K_VFORK:		return SYS_vfork;
	}
	return -1;
}

/*
 * Start a target whose thread i does kinds[i] (thread 0, the leader,
 * always reads its pipe); returns once every thread has started and each
 * blocking one sleeps in its call, off its CPU.
 */
static int target_start(struct target *tg, const int *kinds, int n, int sleep_ms)
{
	struct shm *shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int i, tries;

	memset(tg, 0, sizeof(*tg));
	if (shm == MAP_FAILED)
		return -errno;
	shm->nthreads = n;
	shm->sleep_ms = sleep_ms;
	for (i = 0; i < n; i++) {
		shm->t[i].kind = i ? kinds[i] : K_READ;
		if (pipe2(shm->t[i].pipe, O_CLOEXEC))
			return -errno;
	}
	tg->shm = shm;
	tg->n = n;
	tg->pid = fork();
	if (tg->pid < 0)
		return -errno;
	if (tg->pid == 0) {
		g_shm = shm;
		/* /dev/pss is the test's: the target holds no module reference */
		for (i = 3; i < 1024; i++) {
			char link[64] = "", path[32];

			snprintf(path, sizeof(path), "/proc/self/fd/%d", i);
			if (readlink(path, link, sizeof(link) - 1) > 0 &&
			    !strcmp(link, PSS_DEVICE_PATH))
				close(i);
		}
		target_main();
	}
	for (tries = 0; __atomic_load_n(&shm->started, __ATOMIC_ACQUIRE) < n; tries++) {
		if (tries > 20000)
			return -ETIMEDOUT;
		usleep(1000);
	}
	for (i = 0; i < n; i++) {
		long want = kind_syscall(shm->t[i].kind);

		for (tries = 0; want >= 0 && in_syscall(tg->pid, shm->t[i].tid) != want;
		     tries++) {
			if (tries > 20000)
				return -ETIMEDOUT;
			usleep(1000);
		}
	}
	return 0;
}

/* Let every blocked call of the target complete (the leader's stays). */
static void target_release(struct target *tg)
{
	int i;

	for (i = 1; i < tg->n; i++)
		if (tg->shm->t[i].kind != K_FUTEX && tg->shm->t[i].kind != K_NANOSLEEP)
			(void)!write(tg->shm->t[i].pipe[1], "x", 1);
	tg->shm->futex_word = 1;
	sys_futex(&tg->shm->futex_word, FUTEX_WAKE, INT_MAX, NULL);
}

static void target_kill(struct target *tg)
{
	int i;

	if (tg->pid > 0) {
		kill(tg->pid, SIGKILL);
		waitpid(tg->pid, NULL, 0);
	}
	tg->pid = 0;
	if (!tg->shm)
		return;
	for (i = 0; i < tg->n; i++) {
		close(tg->shm->t[i].pipe[0]);
		close(tg->shm->t[i].pipe[1]);
	}
	munmap(tg->shm, sizeof(*tg->shm));
	tg->shm = NULL;
}

/* Wait (at most ~20 s) until every spinner's counter moves past its value now. */
static bool spinners_advance(struct shm *shm, int n)
{
	uint64_t before[MAXT];
	int i, tries;

	for (i = 0; i < n; i++)
		before[i] = shm->t[i].counter;
	for (tries = 0; tries < 20000; tries++) {
		bool all = true;

		for (i = 0; i < n; i++)
			if ((shm->t[i].kind == K_SPIN || shm->t[i].kind == K_SPIN_REGS) &&
			    shm->t[i].counter == before[i])
				all = false;
		if (all)
			return true;
		usleep(1000);
	}
	return false;
}

static int capture_flags(int dev, pid_t pid, __u64 facets, __u32 timeout_ms,
			 __u32 flags)
{
	struct pss_capture_args a;
	int r;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = flags;
	a.facets = facets;
	a.target_pid = pid;
	a.quiesce_timeout_ms = timeout_ms;
	r = ioctl(dev, PSS_IOC_CAPTURE, &a);
	return r < 0 ? -errno : r;
}

static int capture(int dev, pid_t pid, __u64 facets, __u32 timeout_ms)
{
	return capture_flags(dev, pid, facets, timeout_ms, 0);
}

/* Load and check a context snapshot (pssi_check: framing and invariants). */
static int load(int snap, pid_t pid, bool self, struct pssi_snap *s)
{
	struct pssi_opts o = {
		.pid = pid, .facets = UINT64_MAX, .tid_mode = PSSI_TID_NONE,
		.self = self, .caller_tid = self ? pssi_gettid() : 0,
	};

	return pssi_check(snap, &o, s);
}

static const struct pss_context_entry *ctx_of(const struct pssi_snap *s, pid_t tid)
{
	const struct pssi_recs *r = &s->r[PSS_WALK_CONTEXTS];
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct pss_context_entry *c = pssi_rec(r, i);

		if (c->tid == tid)
			return c;
	}
	return NULL;
}

static const struct pss_thread_entry *thread_of(const struct pssi_snap *s, pid_t tid)
{
	const struct pssi_recs *r = &s->r[PSS_WALK_THREADS];
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct pss_thread_entry *t = pssi_rec(r, i);

		if (t->tid == tid)
			return t;
	}
	return NULL;
}

static const struct user_regs_struct *gregs(const struct pss_context_entry *c)
{
	return c->gregs_len >= sizeof(struct user_regs_struct) ?
	       (const void *)((const char *)c + c->gregs_off) : NULL;
}

static const char *park_name(__u32 p)
{
	static const char *const n[] = { "none", "waited", "stopped", "blocked", "caller" };

	return p < 5 ? n[p] : "?";
}

/* voluntary + involuntary context switches of one thread */
static long long ctxt_switches(pid_t pid, pid_t tid)
{
	char *s = pss_read_fmt(NULL, "/proc/%d/task/%d/status", pid, tid), *p;
	long long n = 0;

	if (!s)
		return -1;
	p = strstr(s, "voluntary_ctxt_switches:");
	if (p)
		n += atoll(p + strlen("voluntary_ctxt_switches:"));
	p = strstr(s, "nonvoluntary_ctxt_switches:");
	if (p)
		n += atoll(p + strlen("nonvoluntary_ctxt_switches:"));
	free(s);
	return n;
}

/* A pending-signal mask line of /proc/PID[/task/TID]/status: all zero? */
static bool no_pending(const char *path, const char *key)
{
	char *s = pss_read_file(path, NULL), *p;
	bool ok = false;

	if (!s)
		return false;
	p = strstr(s, key);
	if (p) {
		p += strlen(key);
		while (*p == ' ' || *p == '\t' || *p == '0')
			p++;
		ok = *p == '\n' || !*p;
	}
	free(s);
	return ok;
}

struct hog;
static void hog_stop(struct hog *h);
static struct hog *g_hog;	/* stopped by the teardown, whatever happened */

FIXTURE(ctx) {
	int dev;
	struct target tg;
};

FIXTURE_SETUP(ctx)
{
	self->dev = pss_open_dev();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", PSS_DEVICE_PATH, strerror(errno));
	memset(&self->tg, 0, sizeof(self->tg));
}

FIXTURE_TEARDOWN(ctx)
{
	if (g_hog)
		hog_stop(g_hog);
	if (self->tg.shm)
		self->tg.shm->stop_spin = 1;
	target_kill(&self->tg);
	if (self->dev >= 0)
		close(self->dev);
}

/* ------------------------------------------------------------ registers */

static int getregset(pid_t tid, int note, void *buf, size_t *len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = *len };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)(long)note, &iov))
		return -errno;
	*len = iov.iov_len;
	return 0;
}

/*
 * Held threads (all asleep in a system call) against a ptrace-stop of each
 * right after: every general register but rax, the whole FP/SSE area and
 * the whole XSAVE image. rax differs by design: pss reads a thread asleep
 * in its call (rax is -ENOSYS there, the kernel's value until the call
 * returns), ptrace stops it on its way out, where the call's restart code
 * is in rax.
 */
TEST_F(ctx, registers_equal_ptrace)
{
	static const int kinds[] = { K_READ, K_READ, K_POLL, K_FUTEX, K_NANOSLEEP };
	struct pssi_snap s;
	int snap, i;

	ASSERT_EQ(0, target_start(&self->tg, kinds, 5, 100000));
	snap = capture(self->dev, self->tg.pid, CTX_FACETS, 0);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, load(snap, self->tg.pid, false, &s)) TH_LOG("%s", pssi_errmsg);
	close(snap);
	ASSERT_EQ(5, s.r[PSS_WALK_CONTEXTS].n);
	for (i = 0; i < 5; i++) {
		pid_t tid = self->tg.shm->t[i].tid;
		const struct pss_context_entry *c = ctx_of(&s, tid);
		struct user_regs_struct pr;
		struct user_fpregs_struct pf;
		static char px[1 << 16];
		size_t glen = sizeof(pr), flen = sizeof(pf), xlen = sizeof(px);
		const struct user_regs_struct *g;
		int st;

		ASSERT_NE(NULL, c) TH_LOG("tid %d has no context", tid);
		EXPECT_EQ(PSS_PARK_BLOCKED, c->park)
			TH_LOG("%s thread %d: park %s", kind_name[self->tg.shm->t[i].kind],
			       tid, park_name(c->park));
		EXPECT_EQ(EM_X86_64, c->elf_machine);
		ASSERT_EQ(0, ptrace(PTRACE_SEIZE, tid, NULL, NULL)) TH_LOG("seize %d: %s",
								       tid, strerror(errno));
		ASSERT_EQ(0, ptrace(PTRACE_INTERRUPT, tid, NULL, NULL));
		ASSERT_EQ(tid, waitpid(tid, &st, __WALL));
		ASSERT_TRUE(WIFSTOPPED(st));
		ASSERT_EQ(0, getregset(tid, NT_PRSTATUS, &pr, &glen));
		ASSERT_EQ(0, getregset(tid, NT_PRFPREG, &pf, &flen));
		ASSERT_EQ(0, getregset(tid, NT_X86_XSTATE, px, &xlen));
		ptrace(PTRACE_DETACH, tid, NULL, NULL);

		/* the core notes' sizes, as ptrace has them */
		EXPECT_EQ(glen, c->gregs_len);
		EXPECT_EQ(flen, c->fpregs_len);
		EXPECT_EQ(xlen, c->xstate_len);
		/* back to back in the record's data */
		EXPECT_EQ(c->data_off, c->gregs_off);
		EXPECT_EQ(c->gregs_off + c->gregs_len, c->fpregs_off);
		EXPECT_EQ(c->fpregs_off + c->fpregs_len, c->xstate_off);
		EXPECT_EQ(c->gregs_len + c->fpregs_len + c->xstate_len, c->data_len);
		g = gregs(c);
		ASSERT_NE(NULL, g);
		EXPECT_EQ((unsigned long long)-ENOSYS, g->rax);
		EXPECT_TRUE((long long)pr.rax < 0 && (long long)pr.rax >= -516)
			TH_LOG("ptrace rax %lld", (long long)pr.rax);
		pr.rax = g->rax;
		EXPECT_EQ(0, memcmp(g, &pr, sizeof(pr)))
			TH_LOG("%s thread %d: rip %llx/%llx rsp %llx/%llx orig_rax %lld/%lld",
			       kind_name[self->tg.shm->t[i].kind], tid, g->rip, pr.rip,
			       g->rsp, pr.rsp, (long long)g->orig_rax, (long long)pr.orig_rax);
		EXPECT_EQ(kind_syscall(self->tg.shm->t[i].kind), (long)g->orig_rax);
		if (c->fpregs_len == flen) {
			EXPECT_EQ(0, memcmp((const char *)c + c->fpregs_off, &pf, flen))
				TH_LOG("thread %d: fpregs differ", tid);
		}
		if (c->xstate_len == xlen) {
			EXPECT_EQ(0, memcmp((const char *)c + c->xstate_off, px, xlen))
				TH_LOG("thread %d: xstate differs", tid);
		}
	}
	pssi_snap_free(&s);
}

/*
 * The register spinner's context @c, parked (PSS_PARK_WAITED): the magic
 * in r12-r14 and xmm7, r15 counting in user mode, and xmm6 one step behind
 * it - its FPU image as of the park, not an older one.
 */
static void check_spinner(struct __test_metadata *_metadata,
			  const struct pss_context_entry *c, int k)
{
	const struct user_regs_struct *g = gregs(c);
	uint64_t xmm6;

	ASSERT_EQ(PSS_PARK_WAITED, c->park) TH_LOG("park %s", park_name(c->park));
	EXPECT_LT(0, c->park_ns);
	ASSERT_NE(NULL, g);
	EXPECT_EQ(magic_gpr[0], g->r12);
	EXPECT_EQ(magic_gpr[1], g->r13);
	EXPECT_EQ(magic_gpr[2], g->r14);
	EXPECT_LT(magic_gpr[3], g->r15);
	/* in the loop, not in a system call */
	EXPECT_EQ(0, g->orig_rax + 1) TH_LOG("orig_rax %lld", (long long)g->orig_rax);
	/* xmm6 and xmm7 in the FXSAVE area at 160 + n * 16 */
	ASSERT_LE(512, c->fpregs_len);
	memcpy(&xmm6, (const char *)c + c->fpregs_off + 160 + 6 * 16, 8);
	EXPECT_TRUE(xmm6 == g->r15 || xmm6 + 1 == g->r15)
		TH_LOG("capture %d: xmm6 %#llx, r15 %#llx: a stale FPU image", k,
		       (unsigned long long)xmm6, (unsigned long long)g->r15);
	EXPECT_EQ(0, memcmp((const char *)c + c->fpregs_off + 160 + 7 * 16,
			    magic_ymm, 16));
}

/*
 * A thread spinning in user mode is parked, its registers as it left them:
 * the magic in r12-r14, xmm7 and ymm7's upper half, and xmm6 one step
 * behind the r15 counter - its FPU image as of the park, not an older one.
 * Captured repeatedly: the spinner runs on between captures.
 */
TEST_F(ctx, spinning_thread_registers)
{
	static const int kinds[] = { K_READ, K_SPIN_REGS };
	bool avx = have_avx();
	int snap, k;
	pid_t tid;

	ASSERT_EQ(0, target_start(&self->tg, kinds, 2, 0));
	ASSERT_TRUE(spinners_advance(self->tg.shm, 2));
	tid = self->tg.shm->t[1].tid;
	if (!avx)
		TH_LOG("no AVX on this CPU: ymm7 not checked");
	for (k = 0; k < 20; k++) {
		const struct pss_context_entry *c;
		struct pssi_snap s;

		snap = capture(self->dev, self->tg.pid, CTX_FACETS, 0);
		ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
		ASSERT_EQ(0, load(snap, self->tg.pid, false, &s)) TH_LOG("%s", pssi_errmsg);
		close(snap);
		c = ctx_of(&s, tid);
		ASSERT_NE(NULL, c);
		check_spinner(_metadata, c, k);
		if (avx) {
			const unsigned char *x = (const unsigned char *)c + c->xstate_off;
			uint64_t xfeatures;

			ASSERT_LE(576 + 256, c->xstate_len);
			/* the XSAVE header's XSTATE_BV: the AVX state is in use */
			memcpy(&xfeatures, x + 512, 8);
			EXPECT_TRUE(xfeatures & 4) TH_LOG("xstate_bv %#llx",
							  (unsigned long long)xfeatures);
			/* the legacy area is the FXSAVE image; ymm7's upper half at 576 + 7 * 16 */
			EXPECT_EQ(0, memcmp(x + 160 + 7 * 16, magic_ymm, 16));
			EXPECT_EQ(0, memcmp(x + 576 + 7 * 16, &magic_ymm[2], 16));
		}
		pssi_snap_free(&s);
		if (_metadata->exit_code)	/* the first capture that failed is enough */
			break;
		ASSERT_TRUE(spinners_advance(self->tg.shm, 2));
	}
}

/* -------------------------------------------------------- blocked calls */

/*
 * Threads asleep in read, poll, futex, nanosleep, epoll_wait and vfork (D)
 * are held where they sleep: not woken (their context switch counts do
 * not move), nothing pending, no handler run; once released each call
 * returns what it would have: no EINTR, no short sleep.
 */
TEST_F(ctx, blocked_calls_not_interrupted)
{
	static const int kinds[] = {
		K_READ, K_READ, K_POLL, K_FUTEX, K_NANOSLEEP, K_EPOLL, K_VFORK,
	};
	const int n = sizeof(kinds) / sizeof(kinds[0]);
	long long sw[MAXT];
	char path[64];
	struct pssi_snap s;
	int snap, i, tries;

	ASSERT_EQ(0, target_start(&self->tg, kinds, n, 3000));
	for (i = 0; i < n; i++)
		sw[i] = ctxt_switches(self->tg.pid, self->tg.shm->t[i].tid);
	snap = capture(self->dev, self->tg.pid, CTX_FACETS, 0);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	for (i = 0; i < n; i++) {
		pid_t tid = self->tg.shm->t[i].tid;

		EXPECT_EQ(sw[i], ctxt_switches(self->tg.pid, tid))
			TH_LOG("%s thread %d was woken by the capture",
			       kind_name[self->tg.shm->t[i].kind], tid);
		EXPECT_EQ(0, self->tg.shm->t[i].done)
			TH_LOG("%s thread %d returned during the capture",
			       kind_name[self->tg.shm->t[i].kind], tid);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", self->tg.pid, tid);
		EXPECT_TRUE(no_pending(path, "SigPnd:")) TH_LOG("%s", path);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", self->tg.pid);
	EXPECT_TRUE(no_pending(path, "ShdPnd:"));
	ASSERT_EQ(0, load(snap, self->tg.pid, false, &s)) TH_LOG("%s", pssi_errmsg);
	close(snap);
	for (i = 0; i < n; i++) {
		const struct pss_context_entry *c = ctx_of(&s, self->tg.shm->t[i].tid);

		ASSERT_NE(NULL, c);
		EXPECT_EQ(PSS_PARK_BLOCKED, c->park)
			TH_LOG("%s thread: park %s", kind_name[self->tg.shm->t[i].kind],
			       park_name(c->park));
	}
	pssi_snap_free(&s);

	target_release(&self->tg);
	for (i = 1; i < n; i++) {
		struct thr *t = &self->tg.shm->t[i];

		for (tries = 0; !__atomic_load_n(&t->done, __ATOMIC_ACQUIRE) && tries < 30000;
		     tries++)
			usleep(1000);
		ASSERT_TRUE(t->done) TH_LOG("%s thread never returned", kind_name[t->kind]);
		EXPECT_EQ(0, t->err) TH_LOG("%s returned %ld: %s", kind_name[t->kind], t->ret,
					    strerror(t->err));
		switch (t->kind) {
		case K_READ:
		case K_POLL:
		case K_EPOLL:
			EXPECT_EQ(1, t->ret) TH_LOG("%s", kind_name[t->kind]);
			break;
		case K_VFORK:
			EXPECT_LT(0, t->ret);
			break;
		default:
			EXPECT_EQ(0, t->ret) TH_LOG("%s", kind_name[t->kind]);
		}
	}
	EXPECT_EQ(0, self->tg.shm->signals);
}

/* ----------------------------------------------------------------- self */

static void *self_blocked(void *arg)
{
	char c;

	(void)!read(*(int *)arg, &c, 1);
	return NULL;
}

static volatile int self_stop;

static void *self_spin(void *arg)
{
	volatile uint64_t *n = arg;

	while (!self_stop)
		(*n)++;
	return NULL;
}

/*
 * A self-capture: the caller's own context is its state in the ioctl
 * (PSS_PARK_CALLER: the system call and its arguments), its siblings are
 * parked (a spinner) and held (a reader).
 */
TEST_F(ctx, self_capture)
{
	volatile uint64_t spins = 0;
	pthread_t spinner, reader;
	struct pss_capture_args a;
	pid_t caller = pssi_gettid();
	struct pssi_snap s;
	const struct pss_context_entry *c;
	const struct user_regs_struct *g;
	size_t i;
	int p[2], snap;

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, pthread_create(&spinner, NULL, self_spin, (void *)&spins));
	ASSERT_EQ(0, pthread_create(&reader, NULL, self_blocked, &p[0]));
	while (spins < 1000)
		usleep(1000);
	usleep(20000);		/* the reader is asleep in read() by now */
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.facets = CTX_FACETS;
	snap = ioctl(self->dev, PSS_IOC_CAPTURE, &a);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(errno));
	ASSERT_EQ(0, load(snap, getpid(), true, &s)) TH_LOG("%s", pssi_errmsg);
	close(snap);
	c = ctx_of(&s, caller);
	ASSERT_NE(NULL, c);
	EXPECT_EQ(PSS_PARK_CALLER, c->park);
	EXPECT_TRUE(thread_of(&s, caller)->flags & PSS_THREAD_CALLER);
	g = gregs(c);
	ASSERT_NE(NULL, g);
	EXPECT_EQ(SYS_ioctl, (long)g->orig_rax);
	EXPECT_EQ((unsigned long long)self->dev, g->rdi);
	EXPECT_EQ((unsigned long long)(unsigned int)PSS_IOC_CAPTURE, g->rsi);
	EXPECT_EQ((unsigned long long)(uintptr_t)&a, g->rdx);
	for (i = 0; i < s.r[PSS_WALK_CONTEXTS].n; i++) {
		c = pssi_rec(&s.r[PSS_WALK_CONTEXTS], i);
		if (c->tid == caller)
			continue;
		EXPECT_TRUE(c->park == PSS_PARK_WAITED || c->park == PSS_PARK_BLOCKED)
			TH_LOG("sibling %d: park %s", c->tid, park_name(c->park));
		EXPECT_NE(NULL, gregs(c));
	}
	EXPECT_EQ(3, s.r[PSS_WALK_CONTEXTS].n);
	EXPECT_EQ(1, s.pf.nr_parked);
	pssi_snap_free(&s);
	self_stop = 1;
	(void)!write(p[1], "x", 1);
	pthread_join(spinner, NULL);
	pthread_join(reader, NULL);
	close(p[0]);
	close(p[1]);
}

/* ------------------------------------------------------ never left parked */

/* After a capture returns, every thread runs again. */
TEST_F(ctx, threads_run_after_capture)
{
	static const int kinds[] = { K_READ, K_SPIN, K_SPIN, K_SPIN_REGS, K_SPIN };
	struct pssi_snap s;
	int snap, k;

	ASSERT_EQ(0, target_start(&self->tg, kinds, 5, 0));
	ASSERT_TRUE(spinners_advance(self->tg.shm, 5));
	for (k = 0; k < 3; k++) {
		snap = capture(self->dev, self->tg.pid, CTX_FACETS, 0);
		ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
		ASSERT_EQ(0, load(snap, self->tg.pid, false, &s)) TH_LOG("%s", pssi_errmsg);
		EXPECT_EQ(4, s.pf.nr_parked);
		pssi_snap_free(&s);
		close(snap);
		ASSERT_TRUE(spinners_advance(self->tg.shm, 5))
			TH_LOG("capture %d: a spinner stays parked", k);
	}
}

/* The snapshot closed at once: no thread waits on it. */
TEST_F(ctx, snapshot_closed_at_once)
{
	static const int kinds[] = { K_READ, K_SPIN, K_SPIN, K_READ };
	int snap, tries;

	ASSERT_EQ(0, target_start(&self->tg, kinds, 4, 0));
	ASSERT_TRUE(spinners_advance(self->tg.shm, 4));
	snap = capture(self->dev, self->tg.pid, CTX_FACETS, 0);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	close(snap);
	ASSERT_TRUE(spinners_advance(self->tg.shm, 4));
	target_release(&self->tg);
	for (tries = 0; !self->tg.shm->t[3].done && tries < 20000; tries++)
		usleep(1000);
	EXPECT_TRUE(self->tg.shm->t[3].done);
}

/*
 * A thread that cannot be parked for as long as the test wants, killed or
 * not: runnable on CPU 1, never running there. A SCHED_FIFO hog of ours
 * holds CPU 1 (RT throttling off meanwhile, and on 6.12 CPU 1's fair
 * deadline server, which would give it 50 ms a second); the test and the
 * target's other threads stay on CPU 0. A killed thread must run to exit:
 * the starved one dies only once the hog stops.
 */
struct hog {
	pthread_t th;
	volatile int stop, running, err;
	char rt_runtime[32];
	char fair_runtime[32];
};

#define RT_RUNTIME	"/proc/sys/kernel/sched_rt_runtime_us"
#define FAIR_RUNTIME	"/sys/kernel/debug/sched/fair_server/cpu1/runtime"

static int write_str(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, v, strlen(v));
	close(fd);
	return n == (ssize_t)strlen(v) ? 0 : -EIO;
}

static void *hog_fn(void *arg)
{
	struct sched_param sp = { .sched_priority = 1 };
	struct hog *h = arg;
	uint64_t t0 = pssi_now_ns();
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(1, &one);
	if (sched_setaffinity(0, sizeof(one), &one) ||
	    sched_setscheduler(0, SCHED_FIFO, &sp)) {
		h->err = errno;
		return NULL;
	}
	h->running = 1;
	/* bounded, whatever happens to the test */
	while (!h->stop && pssi_now_ns() - t0 < 30000000000ULL)
		;
	return NULL;
}

static int pin_cpu0(void)
{
	cpu_set_t zero;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return -ENODEV;
	CPU_ZERO(&zero);
	CPU_SET(0, &zero);
	return sched_setaffinity(0, sizeof(zero), &zero) ? -errno : 0;
}

/* Start the hog once the target's starved thread @t runs on CPU 1. */
static int hog_start(struct hog *h, struct thr *t)
{
	char *old = pss_read_file(RT_RUNTIME, NULL);
	uint64_t n;
	int tries;

	memset(h, 0, sizeof(*h));
	g_hog = h;
	if (!old)
		return -errno;
	snprintf(h->rt_runtime, sizeof(h->rt_runtime), "%s", old);
	free(old);
	if (write_str(RT_RUNTIME, "-1"))
		return -EPERM;
	old = pss_read_file(FAIR_RUNTIME, NULL);
	if (old) {
		snprintf(h->fair_runtime, sizeof(h->fair_runtime), "%s", old);
		free(old);
		if (write_str(FAIR_RUNTIME, "0"))
			return -EPERM;
	}
	for (tries = 0; !t->in_call && tries < 20000; tries++)
		usleep(1000);
	if (pthread_create(&h->th, NULL, hog_fn, h))
		return -EAGAIN;
	while (!h->running && !h->err)
		usleep(1000);
	if (h->err)
		return -h->err;
	/* starved: its count stands still */
	usleep(50000);
	n = t->counter;
	usleep(100000);
	return t->counter == n ? 0 : -EBUSY;
}

static void hog_stop(struct hog *h)
{
	if (h->th) {
		h->stop = 1;
		pthread_join(h->th, NULL);
		h->th = 0;
	}
	if (h->fair_runtime[0])
		write_str(FAIR_RUNTIME, h->fair_runtime);
	if (h->rt_runtime[0])
		write_str(RT_RUNTIME, h->rt_runtime);
	h->fair_runtime[0] = 0;
	h->rt_runtime[0] = 0;
}

/* Thread @tid of @pid has exited (gone, or a zombie). */
static bool thread_gone(pid_t pid, pid_t tid)
{
	struct pss_proc_stat st;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	if (pss_parse_stat(path, &st))
		return errno == ENOENT || errno == ESRCH;
	return st.state == 'Z' || st.state == 'X';
}

/* Wait (at most 3 s) for the thread to exit. */
static bool thread_exits(pid_t pid, pid_t tid)
{
	int tries;

	for (tries = 0; tries < 3000; tries++) {
		if (thread_gone(pid, tid))
			return true;
		usleep(1000);
	}
	return false;
}

/* Wait until @pid's thread @tid sleeps in the ioctl (the quiesce's wait). */
static bool in_ioctl(pid_t pid)
{
	int tries;

	for (tries = 0; tries < 20000; tries++) {
		if (in_syscall(pid, pid) == SYS_ioctl)
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * The caller SIGKILLed while it waits, with the longest timeout, for a
 * thread that cannot park: the caller dies at once, and the threads it
 * parked run again while that thread is still starved.
 */
TEST_F(ctx, caller_killed_in_quiesce)
{
	static const int kinds[] = { K_READ, K_SPIN, K_SPIN_REGS, K_STARVED };
	static struct hog h;
	uint64_t t0, dead;
	pid_t caller;
	int st, r;

	r = pin_cpu0();
	if (r == -ENODEV)
		SKIP(return, "one CPU: no thread can be kept from parking");
	ASSERT_EQ(0, r);
	ASSERT_EQ(0, target_start(&self->tg, kinds, 4, 0));
	ASSERT_TRUE(spinners_advance(self->tg.shm, 4));
	r = hog_start(&h, &self->tg.shm->t[3]);
	if (r)
		hog_stop(&h);
	ASSERT_EQ(0, r) TH_LOG("starving CPU 1: %s", strerror(-r));
	t0 = pssi_now_ns();
	caller = fork();
	ASSERT_LE(0, caller);
	if (caller == 0) {
		int snap = capture(self->dev, self->tg.pid, CTX_FACETS,
				   PSS_QUIESCE_TIMEOUT_MAX_MS);

		_exit(snap >= 0 ? 0 : 1);
	}
	ASSERT_TRUE(in_ioctl(caller));
	usleep(100000);		/* the spinners park meanwhile */
	ASSERT_EQ(0, kill(caller, SIGKILL));
	ASSERT_EQ(caller, waitpid(caller, &st, 0));
	dead = pssi_now_ns() - t0;
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		TH_LOG("caller status %#x after %.2f s", st, dead / 1e9);
	/* not held to the quiesce's end */
	EXPECT_GT((uint64_t)PSS_QUIESCE_TIMEOUT_MAX_MS * 1000000 / 2, dead)
		TH_LOG("the caller died %.2f s after it began", dead / 1e9);
	EXPECT_TRUE(spinners_advance(self->tg.shm, 3)) TH_LOG("the target stays parked");
	hog_stop(&h);
}

struct bg_capture {
	pthread_t th;
	int dev;
	pid_t pid;
	__u32 timeout_ms;
	__u32 flags;		/* PSS_CAPTURE_* */
	volatile int ret;
	volatile int done;
};

static void *bg_capture_fn(void *arg)
{
	struct bg_capture *b = arg;

	b->ret = capture_flags(b->dev, b->pid, CTX_FACETS, b->timeout_ms, b->flags);
	if (b->ret >= 0)
		close(b->ret);
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Its threads parked while the capture waits on (for a starved one), the
 * target is SIGKILLed: the parked threads die at once, while the capture
 * is still waiting - not when it lets them go.
 */
TEST_F(ctx, target_killed_while_parked)
{
	static const int kinds[] = { K_READ, K_SPIN, K_SPIN_REGS, K_STARVED };
	struct bg_capture b = { .dev = self->dev, .timeout_ms = PSS_QUIESCE_TIMEOUT_MAX_MS };
	static struct hog h;
	uint64_t t0;
	int st, r, i;

	r = pin_cpu0();
	if (r == -ENODEV)
		SKIP(return, "one CPU: no thread can be kept from parking");
	ASSERT_EQ(0, r);
	ASSERT_EQ(0, target_start(&self->tg, kinds, 4, 0));
	ASSERT_TRUE(spinners_advance(self->tg.shm, 3));
	r = hog_start(&h, &self->tg.shm->t[3]);
	if (r)
		hog_stop(&h);
	ASSERT_EQ(0, r) TH_LOG("starving CPU 1: %s", strerror(-r));
	b.pid = self->tg.pid;
	t0 = pssi_now_ns();
	ASSERT_EQ(0, pthread_create(&b.th, NULL, bg_capture_fn, &b));
	/* the capture waits in the quiesce; the spinners are parked */
	while (!b.done && pssi_now_ns() - t0 < 300000000ULL)
		usleep(1000);
	EXPECT_FALSE(b.done) TH_LOG("capture ended early: %d", b.ret);
	ASSERT_EQ(0, kill(self->tg.pid, SIGKILL));
	for (i = 1; i <= 2; i++) {
		EXPECT_TRUE(thread_exits(self->tg.pid, self->tg.shm->t[i].tid))
			TH_LOG("parked %s thread still there after SIGKILL",
			       kind_name[self->tg.shm->t[i].kind]);
	}
	EXPECT_FALSE(b.done) TH_LOG("the capture ended before they died");
	hog_stop(&h);
	ASSERT_EQ(self->tg.pid, waitpid(self->tg.pid, &st, 0));
	self->tg.pid = 0;
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	pthread_join(b.th, NULL);
	TH_LOG("capture of the killed target: %s", b.ret >= 0 ? "a snapshot" :
	       strerror(-b.ret));
}

/* ----------------------------------------------------------------- exec */

/*
 * A thread execs while the others are parked and the capture waits (for a
 * starved one): de_thread() kills the parked thread at once, and the new
 * program runs. The exec'ing thread is held in a ptrace syscall-entry stop
 * at execve until the quiesce is under way.
 */
TEST_F(ctx, target_execs_during_quiesce)
{
	struct bg_capture b = { .dev = self->dev, .timeout_ms = PSS_QUIESCE_TIMEOUT_MAX_MS };
	static const int kinds[] = { K_READ, K_SPIN, K_STARVED };
	static char arg0[] = "/proc/self/exe", arg1[] = "--exec-ok", arg2[16];
	static char *argv[4] = { arg0, arg1, arg2, NULL };
	static struct hog h;
	uint64_t t0;
	pid_t tid = 0;
	int ok[2], st, r;
	char c = 0;

	r = pin_cpu0();
	if (r == -ENODEV)
		SKIP(return, "one CPU: no thread can be kept from parking");
	ASSERT_EQ(0, r);
	ASSERT_EQ(0, pipe(ok));
	/* before the fork: the target finds them at the same addresses */
	snprintf(arg2, sizeof(arg2), "%d", ok[1]);
	/* the exec'ing thread is the leader: its read ends in an execve */
	ASSERT_EQ(0, target_start(&self->tg, kinds, 3, 0));
	ASSERT_TRUE(spinners_advance(self->tg.shm, 3));
	tid = self->tg.pid;
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, tid, NULL,
			    (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC)));
	ASSERT_EQ(0, ptrace(PTRACE_INTERRUPT, tid, NULL, NULL));
	ASSERT_EQ(tid, waitpid(tid, &st, __WALL));
	/* make the leader call execve("/proc/self/exe", ["--exec-ok", fd]) */
	{
		struct user_regs_struct r;

		ASSERT_EQ(0, ptrace(PTRACE_GETREGS, tid, NULL, &r));
		r.orig_rax = -1;	/* no restart of the read */
		r.rax = SYS_execve;
		r.rdi = (uintptr_t)arg0;
		r.rsi = (uintptr_t)argv;
		r.rdx = 0;
		/* to a syscall instruction: the one the read entered by */
		r.rip -= 2;
		ASSERT_EQ(0, ptrace(PTRACE_SETREGS, tid, NULL, &r));
	}
	/* run to the execve's syscall-entry stop */
	ASSERT_EQ(0, ptrace(PTRACE_SYSCALL, tid, NULL, NULL));
	for (;;) {
		ASSERT_EQ(tid, waitpid(tid, &st, __WALL));
		ASSERT_TRUE(WIFSTOPPED(st)) TH_LOG("status %#x", st);
		if (WSTOPSIG(st) == (SIGTRAP | 0x80))
			break;
		ASSERT_EQ(0, ptrace(PTRACE_SYSCALL, tid, NULL, NULL));
	}
	/* held (traced) at execve; one spins, one is starved */
	r = hog_start(&h, &self->tg.shm->t[2]);
	if (r)
		hog_stop(&h);
	ASSERT_EQ(0, r) TH_LOG("starving CPU 1: %s", strerror(-r));
	b.pid = self->tg.pid;
	t0 = pssi_now_ns();
	ASSERT_EQ(0, pthread_create(&b.th, NULL, bg_capture_fn, &b));
	while (!b.done && pssi_now_ns() - t0 < 300000000ULL)
		usleep(1000);
	EXPECT_FALSE(b.done) TH_LOG("capture ended early: %d", b.ret);
	/* let the execve go: de_thread() kills the parked spinner at once */
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, tid, NULL, NULL));
	EXPECT_TRUE(thread_exits(self->tg.pid, self->tg.shm->t[1].tid))
		TH_LOG("the parked spinner outlived the exec's kill");
	EXPECT_FALSE(b.done) TH_LOG("the capture ended before it died");
	/* the starved one dies too once it runs; then the exec completes */
	hog_stop(&h);
	close(ok[1]);
	ASSERT_EQ(1, read(ok[0], &c, 1)) TH_LOG("the new program never ran");
	EXPECT_EQ('k', c);
	pthread_join(b.th, NULL);
	TH_LOG("capture across the exec: %s", b.ret >= 0 ? "a snapshot" : strerror(-b.ret));
	close(ok[0]);
}

/* -------------------------------------------------------------- timeout */

/*
 * quiesce_timeout_ms = 1 and a thread busy in the kernel all along (a 2 GiB
 * readv of /dev/urandom at a time): it is reported not parked, with no
 * register data, and is still in the thread walk.
 */
TEST_F(ctx, timeout_busy_thread_not_parked)
{
	static const int kinds[] = { K_READ, K_BUSY, K_READ };
	const struct pss_context_entry *c;
	const struct pss_thread_entry *t;
	struct pssi_snap s;
	int snap, tries;
	pid_t tid;

	ASSERT_EQ(0, target_start(&self->tg, kinds, 3, 0));
	tid = self->tg.shm->t[1].tid;
	/* in its first readv (/proc says "running" of a running thread) */
	for (tries = 0; !self->tg.shm->t[1].in_call && tries < 20000; tries++)
		usleep(1000);
	usleep(20000);
	snap = capture(self->dev, self->tg.pid, CTX_FACETS, 1);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, load(snap, self->tg.pid, false, &s)) TH_LOG("%s", pssi_errmsg);
	close(snap);
	t = thread_of(&s, tid);
	ASSERT_NE(NULL, t) TH_LOG("the busy thread is not in the thread walk");
	EXPECT_FALSE(t->flags & PSS_THREAD_PARKED);
	c = ctx_of(&s, tid);
	ASSERT_NE(NULL, c);
	EXPECT_EQ(PSS_PARK_NONE, c->park) TH_LOG("park %s", park_name(c->park));
	EXPECT_EQ(0, c->data_len);
	EXPECT_EQ(0, c->gregs_len);
	EXPECT_EQ(0, c->fpregs_len);
	EXPECT_EQ(0, c->xstate_len);
	EXPECT_LE(1, s.pf.nr_not_parked);
	EXPECT_EQ(2, s.pf.nr_held);
	/* the others were held all the same */
	c = ctx_of(&s, self->tg.shm->t[2].tid);
	ASSERT_NE(NULL, c);
	EXPECT_EQ(PSS_PARK_BLOCKED, c->park);
	TH_LOG("busy thread: %llu readv calls of 2 GiB done so far",
	       (unsigned long long)self->tg.shm->t[1].counter);
	pssi_snap_free(&s);
}

/* ----------------------------------------------------------------- perf */

/*
 * perf VER1 on a stable target: every thread counted once, the stall at
 * least the longest park, which is the longest context park_ns, both > 0
 * when a thread was parked; the quiesce phase measured; PARKED exactly on
 * the threads held (pssi_check).
 */
TEST_F(ctx, perf_stall_and_counts)
{
	static const int kinds[] = { K_READ, K_SPIN, K_SPIN_REGS, K_READ, K_FUTEX };
	uint64_t longest = 0;
	struct pssi_snap s;
	size_t i;
	int snap;

	ASSERT_EQ(0, target_start(&self->tg, kinds, 5, 0));
	ASSERT_TRUE(spinners_advance(self->tg.shm, 5));
	snap = capture(self->dev, self->tg.pid, CTX_FACETS, 0);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, load(snap, self->tg.pid, false, &s)) TH_LOG("%s", pssi_errmsg);
	close(snap);
	ASSERT_LE(PSS_PERF_INFO_SIZE_VER1, s.pf_size);
	EXPECT_EQ(2, s.pf.nr_parked);
	EXPECT_EQ(3, s.pf.nr_held);
	EXPECT_EQ(0, s.pf.nr_not_parked);
	EXPECT_EQ(s.r[PSS_WALK_THREADS].n,
		  s.pf.nr_parked + s.pf.nr_held + s.pf.nr_not_parked);
	for (i = 0; i < s.r[PSS_WALK_CONTEXTS].n; i++) {
		const struct pss_context_entry *c = pssi_rec(&s.r[PSS_WALK_CONTEXTS], i);
		const struct pss_thread_entry *t = pssi_rec(&s.r[PSS_WALK_THREADS], i);

		EXPECT_EQ(c->park != PSS_PARK_NONE, !!(t->flags & PSS_THREAD_PARKED));
		if (c->park_ns > longest)
			longest = c->park_ns;
	}
	EXPECT_LT(0, s.pf.park_max_ns);
	EXPECT_EQ(longest, s.pf.park_max_ns);
	EXPECT_LE(s.pf.park_max_ns, s.pf.stall_ns);
	EXPECT_LT(0, s.pf.phase_ns[PSS_PHASE_QUIESCE]);
	TH_LOG("stall %llu ns, longest park %llu ns, quiesce %llu ns, total %llu ns",
	       (unsigned long long)s.pf.stall_ns, (unsigned long long)s.pf.park_max_ns,
	       (unsigned long long)s.pf.phase_ns[PSS_PHASE_QUIESCE],
	       (unsigned long long)s.pf.phase_ns[PSS_PHASE_TOTAL]);
	pssi_snap_free(&s);
}

/* ----------------------------------------------------------------- many */

static volatile int many_stop;

static void *many_fn(void *arg)
{
	volatile uint64_t n = 0;

	if ((uintptr_t)arg % 100 == 0) {
		while (!many_stop)	/* a few spin */
			n++;
	} else {
		while (!many_stop)
			pause();
	}
	return NULL;
}

/* A 1000-thread target: every thread parked or held. */
TEST_F_TIMEOUT(ctx, thousand_threads, 600)
{
	long max = 0;
	char *s = pss_read_file("/proc/sys/kernel/threads-max", NULL);
	struct pssi_snap ss;
	pid_t pid;
	size_t i;
	int ready[2], snap;
	char c;

	if (s)
		max = atol(s);
	free(s);
	ASSERT_LT(2000, max) TH_LOG("threads-max %ld", max);
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pthread_attr_t attr;
		pthread_t th;
		uintptr_t k;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGUSR1, SIG_IGN);
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 32 << 10);
		for (k = 1; k < 1000; k++)
			if (pthread_create(&th, &attr, many_fn, (void *)k))
				_exit(1);
		(void)!write(ready[1], "r", 1);
		for (;;)
			pause();
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	self->tg.pid = pid;
	usleep(200000);
	snap = capture(self->dev, pid, CTX_FACETS, PSS_QUIESCE_TIMEOUT_MAX_MS);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, load(snap, pid, false, &ss)) TH_LOG("%s", pssi_errmsg);
	close(snap);
	EXPECT_EQ(1000, ss.r[PSS_WALK_CONTEXTS].n);
	for (i = 0; i < ss.r[PSS_WALK_CONTEXTS].n; i++) {
		const struct pss_context_entry *x = pssi_rec(&ss.r[PSS_WALK_CONTEXTS], i);

		EXPECT_NE(PSS_PARK_NONE, x->park) TH_LOG("thread %d not parked", x->tid);
		if (x->park == PSS_PARK_NONE)
			break;
	}
	EXPECT_EQ(0, ss.pf.nr_not_parked);
	TH_LOG("1000 threads: %u parked, %u held, stall %.2f ms, quiesce %.2f ms",
	       ss.pf.nr_parked, ss.pf.nr_held, ss.pf.stall_ns / 1e6,
	       ss.pf.phase_ns[PSS_PHASE_QUIESCE] / 1e6);
	pssi_snap_free(&ss);
	close(ready[0]);
	close(ready[1]);
}

static void *churn_child(void *arg)
{
	volatile uint64_t n = 0;

	while (n < (uintptr_t)arg)
		n++;
	return NULL;
}

static void *churn_spawner(void *arg)
{
	uint64_t rng = (uintptr_t)arg;

	for (;;) {
		pthread_t th[8];
		int i, k = 1 + pssi_rand_below(&rng, 8);

		for (i = 0; i < k; i++)
			if (pthread_create(&th[i], NULL, churn_child,
					   (void *)(uintptr_t)pssi_rand_below(&rng, 200000)))
				th[i] = 0;
		for (i = 0; i < k; i++)
			if (th[i])
				pthread_join(th[i], NULL);
	}
	return NULL;
}

/*
 * Threads born and dying during the quiesce: every capture returns, passes
 * the checker (contexts against the thread walk, perf counts), and the
 * target keeps running. Every other capture is per thread, where a thread
 * reads itself as it parks or is read asleep as it exits.
 */
TEST_F_TIMEOUT(ctx, churning_threads, 600)
{
	double secs = pssi_budget("PSS_CTX_SECS", 5, 20);
	unsigned long n = 0, waited = 0, none = 0, eagain = 0, each = 0;
	uint64_t t0 = pssi_now_ns(), end = t0 + secs * 1e9;
	pid_t pid;
	int ready[2];
	char c;

	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pthread_t th;
		int i;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (i = 0; i < 3; i++)
			if (pthread_create(&th, NULL, churn_spawner, (void *)(uintptr_t)(i + 7)))
				_exit(1);
		(void)!write(ready[1], "r", 1);
		for (;;)
			pause();
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	self->tg.pid = pid;
	while (pssi_loop_on(t0, end, n, 20)) {
		struct pssi_snap s;
		size_t i;
		__u32 flags = n & 1 ? PSS_CAPTURE_PER_THREAD : 0;
		int snap = capture_flags(self->dev, pid, CTX_FACETS, 1 + n % 50, flags);

		if (snap == -EAGAIN) {
			eagain++;
			n++;
			continue;
		}
		ASSERT_LE(0, snap) TH_LOG("capture %lu: %s", n, strerror(-snap));
		ASSERT_EQ(0, load(snap, pid, false, &s)) TH_LOG("capture %lu: %s", n, pssi_errmsg);
		for (i = 0; i < s.r[PSS_WALK_CONTEXTS].n; i++) {
			const struct pss_context_entry *x = pssi_rec(&s.r[PSS_WALK_CONTEXTS], i);

			waited += x->park == PSS_PARK_WAITED && !flags;
			each += x->park == PSS_PARK_WAITED && flags;
			none += x->park == PSS_PARK_NONE;
		}
		pssi_snap_free(&s);
		close(snap);
		n++;
	}
	TH_LOG("%lu captures of a churning target (%lu EAGAIN): %lu threads parked, "
	       "%lu read in their park per thread, %lu not parked", n, eagain, waited, each,
	       none);
	EXPECT_LT(0, waited);
	EXPECT_LT(0, each);
	/* it still runs: a new thread shows up */
	EXPECT_EQ(0, kill(pid, 0));
	close(ready[0]);
	close(ready[1]);
}

/* ------------------------------------------------------- per thread */

/*
 * PSS_CAPTURE_PER_THREAD: a spinner reads its own registers in its park and
 * goes on (PSS_PARK_WAITED: the magic, and an FPU image as of the park, as
 * in spinning_thread_registers); threads asleep are read where they sleep
 * (PSS_PARK_BLOCKED, in their calls, rax still -ENOSYS); the snapshot says
 * how it was taken. Repeated: a thread may be claimed either way.
 */
TEST_F(ctx, per_thread_registers)
{
	static const int kinds[] = { K_READ, K_SPIN_REGS, K_FUTEX, K_POLL, K_NANOSLEEP };
	int snap, k, i;

	ASSERT_EQ(0, target_start(&self->tg, kinds, 5, 100000));
	ASSERT_TRUE(spinners_advance(self->tg.shm, 2));
	for (k = 0; k < 10; k++) {
		const struct pss_context_entry *c;
		const struct user_regs_struct *g;
		struct pssi_snap s;

		snap = capture_flags(self->dev, self->tg.pid, CTX_FACETS, 0,
				     PSS_CAPTURE_PER_THREAD);
		ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
		ASSERT_EQ(0, load(snap, self->tg.pid, false, &s)) TH_LOG("%s", pssi_errmsg);
		close(snap);
		EXPECT_EQ(PSS_CAPTURE_PER_THREAD, s.si.capture_flags);
		EXPECT_EQ(1, s.pf.nr_parked);
		EXPECT_EQ(4, s.pf.nr_held);
		EXPECT_EQ(0, s.pf.nr_not_parked);
		c = ctx_of(&s, self->tg.shm->t[1].tid);
		ASSERT_NE(NULL, c);
		check_spinner(_metadata, c, k);
		for (i = 0; i < 5; i++) {
			if (i == 1)
				continue;
			c = ctx_of(&s, self->tg.shm->t[i].tid);
			ASSERT_NE(NULL, c);
			EXPECT_EQ(PSS_PARK_BLOCKED, c->park)
				TH_LOG("%s thread: park %s", kind_name[self->tg.shm->t[i].kind],
				       park_name(c->park));
			g = gregs(c);
			ASSERT_NE(NULL, g);
			EXPECT_EQ(kind_syscall(self->tg.shm->t[i].kind), (long)g->orig_rax);
			EXPECT_EQ((unsigned long long)-ENOSYS, g->rax);
			EXPECT_LT(0, c->xstate_len);
		}
		pssi_snap_free(&s);
		if (_metadata->exit_code)
			break;
		ASSERT_TRUE(spinners_advance(self->tg.shm, 2));
	}
}

/*
 * Per thread, threads asleep throughout are read where they sleep and
 * never stopped: not woken (their context switch counts stand), and no
 * stall is accounted for them.
 */
TEST_F(ctx, per_thread_sleepers_not_stalled)
{
	static const int kinds[] = { K_READ, K_FUTEX, K_POLL, K_NANOSLEEP };
	long long before[4];
	struct pssi_snap s;
	int snap, i;

	ASSERT_EQ(0, target_start(&self->tg, kinds, 4, 100000));
	for (i = 0; i < 4; i++)
		before[i] = ctxt_switches(self->tg.pid, self->tg.shm->t[i].tid);
	snap = capture_flags(self->dev, self->tg.pid, CTX_FACETS, 0, PSS_CAPTURE_PER_THREAD);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, load(snap, self->tg.pid, false, &s)) TH_LOG("%s", pssi_errmsg);
	close(snap);
	EXPECT_EQ(4, s.pf.nr_held);
	EXPECT_EQ(0, s.pf.nr_parked);
	EXPECT_EQ(0, s.pf.stall_ns) TH_LOG("a stall of %llu ns with every thread asleep",
					   (unsigned long long)s.pf.stall_ns);
	EXPECT_EQ(0, s.pf.park_max_ns);
	for (i = 0; i < 4; i++) {
		const struct pss_context_entry *c = ctx_of(&s, self->tg.shm->t[i].tid);

		ASSERT_NE(NULL, c);
		EXPECT_EQ(PSS_PARK_BLOCKED, c->park);
		EXPECT_EQ(0, c->park_ns);
		EXPECT_EQ(before[i], ctxt_switches(self->tg.pid, self->tg.shm->t[i].tid))
			TH_LOG("%s thread woken", kind_name[self->tg.shm->t[i].kind]);
	}
	pssi_snap_free(&s);
}

/*
 * Per thread, nobody waits for the others: while the capture waits for a
 * thread kept off its CPU, a spinner that read itself at its park runs on.
 * The control: in a one-instant capture it stays parked until the end.
 */
TEST_F(ctx, per_thread_others_run_on)
{
	static const int kinds[] = { K_READ, K_SPIN, K_STARVED };
	static const __u32 modes[] = { 0, PSS_CAPTURE_PER_THREAD };
	volatile uint64_t *counter;
	static struct hog h;
	int r, m;

	r = pin_cpu0();
	if (r == -ENODEV)
		SKIP(return, "one CPU: no thread can be kept from parking");
	ASSERT_EQ(0, r);
	ASSERT_EQ(0, target_start(&self->tg, kinds, 3, 0));
	ASSERT_TRUE(spinners_advance(self->tg.shm, 3));
	r = hog_start(&h, &self->tg.shm->t[2]);
	if (r)
		hog_stop(&h);
	ASSERT_EQ(0, r) TH_LOG("starving CPU 1: %s", strerror(-r));
	counter = &self->tg.shm->t[1].counter;
	for (m = 0; m < 2; m++) {
		struct bg_capture b = { .dev = self->dev, .pid = self->tg.pid,
					.timeout_ms = 1500, .flags = modes[m] };
		uint64_t c1, c2;
		int done;

		ASSERT_EQ(0, pthread_create(&b.th, NULL, bg_capture_fn, &b));
		usleep(300000);		/* every thread but the starved one parked */
		c1 = *counter;
		usleep(300000);
		c2 = *counter;
		done = __atomic_load_n(&b.done, __ATOMIC_ACQUIRE);
		pthread_join(b.th, NULL);
		EXPECT_FALSE(done) TH_LOG("mode %#x: the capture ended early: %d", modes[m],
					  b.ret);
		EXPECT_LE(0, b.ret) TH_LOG("mode %#x: %s", modes[m], strerror(-b.ret));
		if (modes[m]) {
			EXPECT_NE(c1, c2) TH_LOG("the spinner stood still in a per-thread capture");
		} else {
			EXPECT_EQ(c1, c2) TH_LOG("the spinner ran in a one-instant capture: %llu",
						 (unsigned long long)(c2 - c1));
		}
	}
	hog_stop(&h);
}

/* ----------------------------------------------------------------- auxv */

TEST_F(ctx, auxv_is_proc_auxv)
{
	static const int kinds[] = { K_READ };
	struct pss_auxv_info ai;
	size_t len = 0;
	char *proc;
	__u32 ks = 0;
	int snap;

	ASSERT_EQ(0, target_start(&self->tg, kinds, 1, 0));
	snap = capture(self->dev, self->tg.pid, CTX_FACETS, 0);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	memset(&ai, 0xa5, sizeof(ai));
	ASSERT_EQ(0, ioc_query(snap, PSS_QUERY_AUXV, &ai, sizeof(ai), &ks));
	close(snap);
	EXPECT_EQ(sizeof(ai), ks);
	EXPECT_EQ(sizeof(ai), ai.size);
	proc = pss_read_fmt(&len, "/proc/%d/auxv", self->tg.pid);
	ASSERT_NE(NULL, proc);
	ASSERT_LT(16, len);
	EXPECT_EQ(len, ai.len);
	EXPECT_EQ(0, memcmp(ai.auxv, proc, len < sizeof(ai.auxv) ? len : sizeof(ai.auxv)));
	/* AT_NULL last, and nothing after it */
	EXPECT_EQ(0, ai.auxv[ai.len / 8 - 2]);
	EXPECT_EQ(0, ai.auxv[ai.len / 8]);
	free(proc);
	/* without the facet there is none */
	snap = capture(self->dev, self->tg.pid, PSS_FACET_THREADS, 0);
	ASSERT_LE(0, snap);
	EXPECT_EQ(-ENODATA, ioc_query(snap, PSS_QUERY_AUXV, &ai, sizeof(ai), NULL));
	close(snap);
}

/* ------------------------------------------------------- module unload */

static int mod_unload_retry(void)
{
	int i, r = 0;

	for (i = 0; i < 300; i++) {
		r = syscall(SYS_delete_module, "pss", O_NONBLOCK) ? -errno : 0;
		if (r != -EAGAIN && r != -EBUSY)
			return r;
		usleep(10000);
	}
	return r;
}

static int mod_load(void)
{
	const char *e = getenv("PSS_KO");
	int fd = open(e && *e ? e : "/pss.ko", O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return r;
}

/*
 * A capture whose target has a thread asleep in read() for good: its park
 * request never runs and is withdrawn. After rmmod the thread wakes and
 * returns to user mode; nothing of the module may run then. (Last: it
 * reloads the module for whatever runs after this binary.)
 */
TEST_F(ctx, module_unload_under_withdrawn_request)
{
	static const int kinds[] = { K_READ, K_READ, K_SPIN };
	int snap, tries, r;

	ASSERT_EQ(0, target_start(&self->tg, kinds, 3, 0));
	ASSERT_TRUE(spinners_advance(self->tg.shm, 3));
	snap = capture(self->dev, self->tg.pid, CTX_FACETS, 0);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	close(snap);
	close(self->dev);
	self->dev = -1;
	r = mod_unload_retry();
	if (r) {
		char *m = pss_read_file("/proc/modules", NULL);

		TH_LOG("/proc/modules:\n%s", m ? m : "?");
		free(m);
	}
	ASSERT_EQ(0, r) TH_LOG("rmmod: %s", strerror(-r));
	/* wake the reader: its return to user mode must not enter the module */
	(void)!write(self->tg.shm->t[1].pipe[1], "x", 1);
	for (tries = 0; !self->tg.shm->t[1].done && tries < 20000; tries++)
		usleep(1000);
	r = mod_load();
	ASSERT_EQ(0, r) TH_LOG("reload: %s", strerror(-r));
	EXPECT_TRUE(self->tg.shm->t[1].done);
	EXPECT_EQ(1, self->tg.shm->t[1].ret);
	EXPECT_TRUE(spinners_advance(self->tg.shm, 3));
	EXPECT_EQ(0, kill(self->tg.pid, 0));
}

/*
 * A target whose io_uring worker sits in its thread list between the
 * leader and two sleepers: an openat() of a FIFO no one writes, forced to
 * the worker (IOSQE_ASYNC), keeps it blocked in the open.
 */
struct iow_shared {
	pid_t tid[2];
	int ready;
};

static void *iow_sleeper(void *arg)
{
	struct iow_shared *sh = arg;
	struct timespec ts = { .tv_sec = 3600 };
	int i = __atomic_fetch_add(&sh->ready, 1, __ATOMIC_SEQ_CST);

	sh->tid[i] = sys_gettid();
	for (;;)
		syscall(SYS_nanosleep, &ts, NULL);
	return NULL;
}

static int iow_setup(void *shared, void *arg)
{
	struct iow_shared *sh = shared;
	struct io_uring_params p;
	struct io_uring_sqe *sqe;
	unsigned int *tail, *array, mask, t;
	pthread_t th;
	char *sq;
	int fd, i;

	memset(&p, 0, sizeof(p));
	fd = syscall(SYS_io_uring_setup, 4, &p);
	if (fd < 0)
		return 10;
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned int),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
		  IORING_OFF_SQ_RING);
	sqe = mmap(NULL, p.sq_entries * sizeof(*sqe), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || sqe == MAP_FAILED)
		return 11;
	tail = (unsigned int *)(sq + p.sq_off.tail);
	array = (unsigned int *)(sq + p.sq_off.array);
	mask = *(unsigned int *)(sq + p.sq_off.ring_mask);
	t = *tail;
	memset(&sqe[t & mask], 0, sizeof(*sqe));
	sqe[t & mask].opcode = IORING_OP_OPENAT;
	sqe[t & mask].fd = AT_FDCWD;
	sqe[t & mask].addr = (unsigned long)arg;	/* the FIFO's path */
	sqe[t & mask].open_flags = O_RDONLY;
	sqe[t & mask].flags = IOSQE_ASYNC;
	array[t & mask] = t & mask;
	__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, fd, 1, 0, 0, NULL, 0) != 1)
		return 12;
	for (i = 0; i < 2; i++)
		if (pthread_create(&th, NULL, iow_sleeper, sh))
			return 13;
	while (__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) < 2 ||
	       !sh->tid[0] || !sh->tid[1])
		usleep(1000);
	return 0;
}

/* The io_uring worker of @pid once it sleeps in the FIFO's open, or 0. */
static pid_t iow_worker(pid_t pid)
{
	char path[64];
	struct dirent *d;
	pid_t found = 0;
	DIR *dir;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	for (i = 0; !found && i < 5000; i++) {
		dir = opendir(path);
		if (!dir)
			return 0;
		while (!found && (d = readdir(dir))) {
			pid_t tid = atoi(d->d_name);
			char *comm, *stack;

			if (tid <= 0)
				continue;
			comm = pss_read_fmt(NULL, "/proc/%d/task/%d/comm", pid, tid);
			stack = pss_read_fmt(NULL, "/proc/%d/task/%d/stack", pid, tid);
			if (comm && stack && !strncmp(comm, "iou-wrk-", 8) &&
			    strstr(stack, "fifo_open"))
				found = tid;
			free(comm);
			free(stack);
		}
		closedir(dir);
		if (!found)
			usleep(2000);
	}
	return found;
}

/*
 * An io_uring worker has no user state: it is not asked to park and has
 * no context (PSS_PARK_NONE). It sits between threads that do: each of
 * those is held in its own system call, which its registers show.
 */
TEST(io_worker_between_threads)
{
	char fifo[64];
	struct pss_target t;
	struct iow_shared *sh;
	struct pss_recs cr;
	pid_t worker;
	size_t i;
	int snap, seen = 0;

	snprintf(fifo, sizeof(fifo), "/tmp/pss-iow-%d", getpid());
	unlink(fifo);
	ASSERT_EQ(0, mkfifo(fifo, 0600));
	ASSERT_EQ(0, pss_target_start(&t, iow_setup, fifo, sizeof(*sh), false))
		TH_LOG("%s", pss_err);
	sh = t.shared;
	worker = iow_worker(t.pid);
	ASSERT_NE(0, worker) TH_LOG("no io_uring worker blocked in the FIFO's open");
	snap = pss_capture1(t.pid, CTX_FACETS);
	ASSERT_LE(0, snap) TH_LOG("capture: %s", strerror(-snap));
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_CONTEXTS, &cr)) TH_LOG("%s", pss_err);
	close(snap);
	ASSERT_EQ(4, cr.n);
	for (i = 0; i < cr.n; i++) {
		const struct pss_context_entry *c = cr.rec[i];
		const struct user_regs_struct *g = gregs(c);
		long nr = c->tid == sh->tid[0] || c->tid == sh->tid[1] ?
			  SYS_nanosleep : SYS_read;

		if (c->tid == worker) {
			EXPECT_EQ(PSS_PARK_NONE, c->park)
				TH_LOG("worker %d: park %s", worker, park_name(c->park));
			EXPECT_EQ(0, c->data_len);
			seen++;
			continue;
		}
		/* The leader blocks reading the hold pipe. */
		EXPECT_EQ(PSS_PARK_BLOCKED, c->park)
			TH_LOG("thread %d: park %s", c->tid, park_name(c->park));
		ASSERT_NE(NULL, g) TH_LOG("thread %d", c->tid);
		EXPECT_EQ(nr, (long)g->orig_rax) TH_LOG("thread %d", c->tid);
		seen += 2;
	}
	EXPECT_EQ(7, seen);
	pss_recs_free(&cr);
	pss_target_stop(&t);
	unlink(fifo);
}

/* The new program of target_execs_during_quiesce: say it runs. */
static int exec_ok_main(int argc, char **argv)
{
	int fd = atoi(argv[2]);

	return write(fd, "k", 1) == 1 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--exec-ok"))
		return exec_ok_main(argc, argv);
	return test_harness_run(argc, argv);
}
