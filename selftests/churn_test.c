// SPDX-License-Identifier: GPL-2.0
/*
 * Churn: capture back-to-back, from two threads at once, a target whose
 * worker threads at full speed create and join threads; open, dup and close
 * fds of every type; mmap, munmap, mprotect, mremap, madvise and name
 * mappings; fork children - and self-capture now and then, so pss fds are
 * in the table too - while another thread grows and shrinks the fd table,
 * the VMA list and the thread list by hundreds of entries at once (beyond
 * the capture's sizing slack: its retry path runs).
 *
 * Every snapshot must pass the pss_invariants.h checks (tids are checked
 * against a bitmap of every tid the target ever had), and the objects that
 * never change during the test - fds 100..109 of fixed types, a named
 * read-only anonymous mapping at a fixed address, the leader and a sleeping
 * thread - must be in every snapshot. EAGAIN is the only error allowed
 * (documented: the target kept changing faster than the capture could size
 * its buffers); it is counted and reported.
 *
 * Loop length: env PSS_CHURN_SECS (default 15 s, 40 s on the debug kernel),
 * seed PSS_SEED.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include "pss_invariants.h"
#include "kselftest_harness.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA		0x53564d41
#define PR_SET_VMA_ANON_NAME	0
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif

#define FIXED_FD0	100
#define NFIXED_FDS	10
#define FIXED_ADDR	0x300000000000UL
#define FIXED_LEN	(8 * PSSI_PAGE)
#define NWORKERS	3
#define MAX_FDS		40
#define MAX_MAPS	24
/* far below any kernel's count (6.12 under load: ~900 in 7.5 s) */
#define MIN_CAPTURES	50

static const uint32_t fixed_types[NFIXED_FDS] = {
	PSS_HT_CHR, PSS_HT_PIPE, PSS_HT_PIPE, PSS_HT_SOCKET, PSS_HT_EVENTFD,
	PSS_HT_MEMFD, PSS_HT_DIR, PSS_HT_REGULAR, PSS_HT_EPOLL, PSS_HT_TIMERFD,
};
#define FIXED_FILE	"/tmp/pss-churn-fixed"

struct churn_shared {
	volatile int stop;
	volatile int ready;
	pid_t leader, sleeper;
	int named;			/* fixed mapping got its anon name */
	uint64_t seed;
	unsigned long ops[8];		/* per op kind */
	unsigned long threads_made, forks, self_captures;
	size_t map_bytes;		/* bytes of tidmap */
	unsigned char tidmap[];		/* every tid the target ever had */
};

static struct churn_shared *sh;

static void mark_tid(pid_t tid)
{
	if ((size_t)tid / 8 < sh->map_bytes)
		__atomic_or_fetch(&sh->tidmap[tid / 8], 1u << (tid % 8), __ATOMIC_SEQ_CST);
}

static bool tid_seen(pid_t tid)
{
	if (tid <= 0 || (size_t)tid / 8 >= sh->map_bytes)
		return false;
	return __atomic_load_n(&sh->tidmap[tid / 8], __ATOMIC_SEQ_CST) & (1u << (tid % 8));
}

/* ------------------------------------------------------------ target */

struct worker {
	int idx;
	uint64_t rng;
	int fds[MAX_FDS];
	int nfds;
	struct { char *addr; size_t len; } maps[MAX_MAPS];
	int nmaps;
	int memfd;
};

static int open_one(struct worker *w)
{
	int p[2], fd = -1;
	char path[64];

	switch (pssi_rand_below(&w->rng, 17)) {
	case 0:
		if (pipe2(p, O_CLOEXEC))
			return -1;
		if (w->nfds < MAX_FDS - 1) {
			w->fds[w->nfds++] = p[1];
			return p[0];
		}
		close(p[1]);
		return p[0];
	case 1:
		if (socketpair(AF_UNIX, pssi_rand_below(&w->rng, 2) ? SOCK_STREAM :
			       SOCK_DGRAM, 0, p))
			return -1;
		close(p[1]);
		return p[0];
	case 2: fd = socket(AF_INET, SOCK_STREAM, 0); break;
	case 3: fd = socket(AF_INET6, SOCK_DGRAM, 0); break;
	case 4: fd = eventfd(0, EFD_CLOEXEC); break;
	case 5: fd = epoll_create1(0); break;
	case 6: fd = timerfd_create(CLOCK_MONOTONIC, 0); break;
	case 7: {
		sigset_t ss;

		sigemptyset(&ss);
		sigaddset(&ss, SIGUSR1);
		fd = signalfd(-1, &ss, 0);
		break;
	}
	case 8: fd = memfd_create("pss-churn", MFD_CLOEXEC); break;
	case 9: fd = inotify_init1(0); break;
	case 10: fd = open("/dev/null", O_RDWR); break;
	case 11:
		snprintf(path, sizeof(path), "/tmp/pss-churn-%d-%d", getpid(), w->idx);
		fd = open(path, O_RDWR | O_CREAT, 0600);
		if (fd >= 0 && pssi_rand_below(&w->rng, 2))
			unlink(path);	/* a deleted file */
		break;
	case 12: fd = open("/", O_RDONLY | O_DIRECTORY); break;
	case 13: fd = open("/proc/self", O_PATH); break;
	case 14: fd = pssi_pidfd_open(getpid()); break;
	case 15: fd = open(PSS_DEVICE_PATH, O_RDONLY); break;
	case 16:
		/* a snapshot of ourselves, kept open: a PSS_HT_PSS entry */
		if (pssi_rand_below(&w->rng, 8))
			return -1;
		p[0] = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		if (p[0] < 0)
			return -1;
		fd = pssi_capture(p[0], 0, -1, PSS_FACET_HANDLES | PSS_FACET_VA_SPACE);
		close(p[0]);
		if (fd < 0)
			fd = -1;
		else
			__atomic_add_fetch(&sh->self_captures, 1, __ATOMIC_RELAXED);
		break;
	}
	return fd;
}

static void fd_op(struct worker *w)
{
	int i, fd;

	switch (pssi_rand_below(&w->rng, 4)) {
	case 0:
	case 1:
		if (w->nfds >= MAX_FDS)
			goto do_close;
		fd = open_one(w);
		if (fd >= 0)
			w->fds[w->nfds++] = fd;
		return;
	case 2:
		if (!w->nfds || w->nfds >= MAX_FDS)
			goto do_close;
		i = pssi_rand_below(&w->rng, w->nfds);
		if (pssi_rand_below(&w->rng, 2))
			fd = dup(w->fds[i]);
		else
			fd = fcntl(w->fds[i], F_DUPFD_CLOEXEC, 110 + pssi_rand_below(&w->rng, 200));
		if (fd >= 0)
			w->fds[w->nfds++] = fd;
		return;
	case 3:
		/* dup3 one of our fds onto another of ours: atomic replace */
		if (w->nfds >= 2) {
			int a = pssi_rand_below(&w->rng, w->nfds);
			int b = pssi_rand_below(&w->rng, w->nfds);

			if (w->fds[a] != w->fds[b])
				(void)!dup3(w->fds[a], w->fds[b], O_CLOEXEC);
			return;
		}
		/* fall through */
	default:
do_close:
		if (!w->nfds)
			return;
		i = pssi_rand_below(&w->rng, w->nfds);
		close(w->fds[i]);
		w->fds[i] = w->fds[--w->nfds];
	}
}

static void mm_op(struct worker *w)
{
	static const int prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE,
				     PROT_READ | PROT_EXEC };
	int i, prot;
	size_t len, off;
	char *a;

	i = w->nmaps ? (int)pssi_rand_below(&w->rng, w->nmaps) : -1;
	switch (pssi_rand_below(&w->rng, 8)) {
	case 0:
	case 1:
		if (w->nmaps >= MAX_MAPS)
			goto do_unmap;
		len = (1 + pssi_rand_below(&w->rng, 16)) * PSSI_PAGE;
		prot = prots[pssi_rand_below(&w->rng, 4)];
		switch (pssi_rand_below(&w->rng, 3)) {
		case 0:
			a = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			break;
		case 1:
			a = mmap(NULL, len, prot, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			break;
		default:
			a = mmap(NULL, len, prot, pssi_rand_below(&w->rng, 2) ?
				 MAP_SHARED : MAP_PRIVATE, w->memfd,
				 pssi_rand_below(&w->rng, 16) * PSSI_PAGE);
		}
		if (a == MAP_FAILED)
			return;
		if (prot & PROT_WRITE)
			a[0] = 1;
		w->maps[w->nmaps].addr = a;
		w->maps[w->nmaps].len = len;
		w->nmaps++;
		return;
	case 2:
		if (i < 0)
			return;
		off = pssi_rand_below(&w->rng, w->maps[i].len / PSSI_PAGE) * PSSI_PAGE;
		len = (1 + pssi_rand_below(&w->rng, (w->maps[i].len - off) / PSSI_PAGE)) *
		      PSSI_PAGE;
		mprotect(w->maps[i].addr + off, len, prots[pssi_rand_below(&w->rng, 4)]);
		return;
	case 3:
		if (i < 0)
			return;
		len = (1 + pssi_rand_below(&w->rng, 32)) * PSSI_PAGE;
		a = mremap(w->maps[i].addr, w->maps[i].len, len, MREMAP_MAYMOVE);
		if (a != MAP_FAILED) {
			w->maps[i].addr = a;
			w->maps[i].len = len;
		}
		return;
	case 4:
		if (i < 0)
			return;
		madvise(w->maps[i].addr, w->maps[i].len, MADV_DONTNEED);
		return;
	case 5:
		if (i < 0)
			return;
		off = pssi_rand_below(&w->rng, w->maps[i].len / PSSI_PAGE) * PSSI_PAGE;
		prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, w->maps[i].addr + off, PSSI_PAGE,
		      pssi_rand_below(&w->rng, 2) ? "pss-churn" : NULL);
		return;
	case 6:
		/* partial munmap of the first page */
		if (i < 0 || w->maps[i].len <= PSSI_PAGE)
			goto do_unmap;
		munmap(w->maps[i].addr, PSSI_PAGE);
		w->maps[i].addr += PSSI_PAGE;
		w->maps[i].len -= PSSI_PAGE;
		return;
	default:
do_unmap:
		if (i < 0)
			return;
		munmap(w->maps[i].addr, w->maps[i].len);
		w->maps[i] = w->maps[--w->nmaps];
	}
}

static void *short_thread(void *arg)
{
	uint64_t rng = (uintptr_t)arg;
	int fd;
	void *a;

	mark_tid(pssi_gettid());
	prctl(PR_SET_NAME, "churn-short");
	if (pssi_rand_below(&rng, 2)) {
		fd = eventfd(0, 0);
		if (fd >= 0)
			close(fd);
	} else {
		a = mmap(NULL, PSSI_PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a != MAP_FAILED)
			munmap(a, PSSI_PAGE);
	}
	return NULL;
}

static void thread_op(struct worker *w)
{
	pthread_t t[4];
	pthread_attr_t at;
	int n = 1 + pssi_rand_below(&w->rng, 4), i, made = 0;

	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 * 1024);
	for (i = 0; i < n; i++)
		if (!pthread_create(&t[made], &at,
				    short_thread, (void *)(uintptr_t)pssi_rand(&w->rng)))
			made++;
	pthread_attr_destroy(&at);
	for (i = 0; i < made; i++)
		pthread_join(t[i], NULL);
	__atomic_add_fetch(&sh->threads_made, made, __ATOMIC_RELAXED);
}

static void fork_op(struct worker *w)
{
	pid_t p = fork();

	if (p == 0) {
		prctl(PR_SET_NAME, "churn-forked");
		_exit(pssi_rand_below(&w->rng, 2) ? 0 : 3);
	}
	if (p > 0) {
		waitpid(p, NULL, 0);
		__atomic_add_fetch(&sh->forks, 1, __ATOMIC_RELAXED);
	}
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	int i;

	mark_tid(pssi_gettid());
	prctl(PR_SET_NAME, "churn-worker");
	w->memfd = memfd_create("pss-churn-map", MFD_CLOEXEC);
	if (w->memfd >= 0)
		(void)!ftruncate(w->memfd, 32 * PSSI_PAGE);
	while (!sh->stop) {
		unsigned int k = pssi_rand_below(&w->rng, 16);

		if (k < 6) {
			fd_op(w);
			__atomic_add_fetch(&sh->ops[0], 1, __ATOMIC_RELAXED);
		} else if (k < 12) {
			mm_op(w);
			__atomic_add_fetch(&sh->ops[1], 1, __ATOMIC_RELAXED);
		} else if (k < 15) {
			thread_op(w);
			__atomic_add_fetch(&sh->ops[2], 1, __ATOMIC_RELAXED);
		} else {
			fork_op(w);
			__atomic_add_fetch(&sh->ops[3], 1, __ATOMIC_RELAXED);
		}
	}
	for (i = 0; i < w->nfds; i++)
		close(w->fds[i]);
	for (i = 0; i < w->nmaps; i++)
		munmap(w->maps[i].addr, w->maps[i].len);
	if (w->memfd >= 0)
		close(w->memfd);
	return NULL;
}

static void *burst_idle(void *arg)
{
	volatile int *release = arg;

	mark_tid(pssi_gettid());
	prctl(PR_SET_NAME, "churn-burst");
	while (!*release)
		usleep(500);
	return NULL;
}

/*
 * Bursts: the tables jump by hundreds of entries at once, more than the
 * capture's sizing slack, so its measure-allocate-lock-verify loop has to
 * retry (and may, as documented, give up with EAGAIN).
 */
static void *burst_fn(void *arg)
{
	uint64_t rng = sh->seed ^ 0xb0b0;
	static int fds[256];
	static void *maps[256];
	pthread_t t[16];
	int i, nt;

	(void)arg;
	mark_tid(pssi_gettid());
	while (!sh->stop) {
		int n = 64 + pssi_rand_below(&rng, 192);
		volatile int release = 0;
		pthread_attr_t at;

		for (i = 0; i < n; i++)
			fds[i] = fcntl(FIXED_FD0 + 0, F_DUPFD_CLOEXEC, 110);
		for (i = 0; i < n; i++)
			maps[i] = mmap(NULL, PSSI_PAGE, i & 1 ? PROT_READ : PROT_NONE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 64 * 1024);
		for (nt = 0; nt < 16; nt++)
			if (pthread_create(&t[nt], &at, burst_idle, (void *)&release))
				break;
		pthread_attr_destroy(&at);
		usleep(pssi_rand_below(&rng, 2000));
		release = 1;
		for (i = 0; i < nt; i++)
			pthread_join(t[i], NULL);
		for (i = 0; i < n; i++) {
			if (fds[i] >= 0)
				close(fds[i]);
			if (maps[i] != MAP_FAILED)
				munmap(maps[i], PSSI_PAGE);
		}
		__atomic_add_fetch(&sh->ops[4], 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&sh->threads_made, nt, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *sleeper_fn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char c;

	mark_tid(pssi_gettid());
	sh->sleeper = pssi_gettid();
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static int setup_fixed(void)
{
	int p[2], s[2], fd, i, tmp[NFIXED_FDS];
	void *a;

	if (pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, s))
		return 10;
	tmp[0] = open("/dev/null", O_RDWR);
	tmp[1] = p[0];
	tmp[2] = p[1];
	tmp[3] = s[0];
	tmp[4] = eventfd(0, 0);
	tmp[5] = memfd_create("pss-fixed", 0);
	tmp[6] = open("/", O_RDONLY | O_DIRECTORY);
	tmp[7] = open(FIXED_FILE, O_RDWR | O_CREAT, 0600);
	tmp[8] = epoll_create1(0);
	tmp[9] = timerfd_create(CLOCK_MONOTONIC, 0);
	for (i = 0; i < NFIXED_FDS; i++) {
		if (tmp[i] < 0)
			return 11 + i;
		fd = dup2(tmp[i], FIXED_FD0 + i);
		if (fd != FIXED_FD0 + i)
			return 30;
		close(tmp[i]);
	}
	close(s[1]);
	a = mmap((void *)FIXED_ADDR, FIXED_LEN, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (a != (void *)FIXED_ADDR)
		return 31;
	sh->named = !prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, a, FIXED_LEN, "pss-fixed");
	return 0;
}

static int target_main(void)
{
	pthread_t wt[NWORKERS], st, bt;
	struct worker *w;
	int hold[2], i, r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sh->leader = getpid();
	mark_tid(getpid());
	r = setup_fixed();
	if (r)
		return r;
	if (pipe(hold))
		return 40;
	/* keep the hold pipe away from the fixed range and the low fds */
	if (pthread_create(&st, NULL, sleeper_fn, (void *)(intptr_t)hold[0]))
		return 41;
	w = calloc(NWORKERS, sizeof(*w));
	if (!w)
		return 42;
	for (i = 0; i < NWORKERS; i++) {
		w[i].idx = i;
		w[i].rng = sh->seed ^ (0x1000193ULL * (i + 1));
		if (pthread_create(&wt[i], NULL, worker_fn, &w[i]))
			return 43;
	}
	if (pthread_create(&bt, NULL, burst_fn, NULL))
		return 45;
	while (!sh->sleeper)
		usleep(1000);
	sh->ready = 1;
	for (i = 0; i < NWORKERS; i++)
		pthread_join(wt[i], NULL);
	pthread_join(bt, NULL);
	if (write(hold[1], "x", 1) != 1)
		return 44;
	pthread_join(st, NULL);
	return 0;
}

/* ------------------------------------------------------------ capturers */

struct capturer {
	pthread_t th;
	int idx;
	pid_t pid;
	int pidfd;
	uint64_t rng;
	uint64_t t0, deadline;
	unsigned long captures, eagain, retries, unverified;
	uint64_t max_ns, sum_ns;
	int failed;
	char msg[1100];
};

static volatile int cap_stop;

static __thread char tid_diag[256];

static bool churn_tid_ok(pid_t tid, void *ctx)
{
	pid_t pid = *(pid_t *)ctx;
	char path[64], line[128];
	size_t l = 0;
	pid_t tg;
	FILE *f;
	int i;

	/* created at the cut, its start routine may not have run yet */
	for (i = 0; i < 200; i++) {
		if (tid_seen(tid))
			return true;
		tg = pssi_tgid_of(tid);
		if (tg == pid)
			return true;
		usleep(10000);
	}
	/* say what /proc knows about it */
	tid_diag[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f) {
		snprintf(tid_diag, sizeof(tid_diag), "gone from /proc");
		return false;
	}
	while (fgets(line, sizeof(line), f) && l < sizeof(tid_diag) - 40)
		if (!strncmp(line, "Name:", 5) || !strncmp(line, "State:", 6) ||
		    !strncmp(line, "Tgid:", 5) || !strncmp(line, "PPid:", 5)) {
			line[strcspn(line, "\n")] = ' ';
			l += snprintf(tid_diag + l, sizeof(tid_diag) - l, "%s", line);
		}
	fclose(f);
	return false;
}

static int check_fixed(struct capturer *c, const struct pssi_snap *s)
{
	int i;

	if (s->have[PSS_WALK_HANDLES]) {
		for (i = 0; i < NFIXED_FDS; i++) {
			const struct pss_handle_entry *h = pssi_find_fd(s, FIXED_FD0 + i);

			if (!h)
				return pssi_fail("fixed fd %d missing (%zu handles)",
						 FIXED_FD0 + i, s->r[PSS_WALK_HANDLES].n);
			if ((h->flags & PSS_HANDLE_HAS_BASIC) && h->type != fixed_types[i])
				return pssi_fail("fixed fd %d: type %u, want %u", h->fd,
						 h->type, fixed_types[i]);
			if (i == 7 && (h->flags & PSS_HANDLE_HAS_NAME) &&
			    (!pssi_rec_name(h) || strcmp(pssi_rec_name(h), FIXED_FILE)))
				return pssi_fail("fixed fd 107: name '%s'",
						 pssi_rec_name(h) ? pssi_rec_name(h) : "(null)");
		}
	}
	if (s->have[PSS_WALK_VA_SPACE]) {
		const struct pss_vma_entry *v = pssi_find_vma(s, FIXED_ADDR);

		if (!v || v->start != FIXED_ADDR || v->end != FIXED_ADDR + FIXED_LEN)
			return pssi_fail("fixed mapping %#lx-%#lx: found %#llx-%#llx",
					 FIXED_ADDR, FIXED_ADDR + FIXED_LEN,
					 v ? (unsigned long long)v->start : 0ULL,
					 v ? (unsigned long long)v->end : 0ULL);
		if (v->prot != PSS_PROT_READ || (v->flags & PSS_VMA_SHARED))
			return pssi_fail("fixed mapping prot %#x flags %#x", v->prot, v->flags);
		if (sh->named && (s->si.facets & PSS_FACET_VA_SPACE_SECTION) &&
		    (v->name_kind != PSS_VMA_NAME_ANON || !pssi_rec_name(v) ||
		     !strstr(pssi_rec_name(v), "pss-fixed")))
			return pssi_fail("fixed mapping name kind %u '%s'", v->name_kind,
					 pssi_rec_name(v) ? pssi_rec_name(v) : "(null)");
	}
	if (s->have[PSS_WALK_THREADS]) {
		if (!pssi_find_tid(s, sh->leader))
			return pssi_fail("leader %d missing from %zu threads", sh->leader,
					 s->r[PSS_WALK_THREADS].n);
		if (!pssi_find_tid(s, sh->sleeper))
			return pssi_fail("sleeping thread %d missing from %zu threads",
					 sh->sleeper, s->r[PSS_WALK_THREADS].n);
		if (!(pssi_find_tid(s, sh->leader)->flags & PSS_THREAD_LEADER))
			return pssi_fail("leader %d not flagged LEADER", sh->leader);
	}
	(void)c;
	return 0;
}

static uint64_t random_facets(uint64_t *rng)
{
	uint64_t f;

	if (pssi_rand_below(rng, 4))
		return PSS_FACETS_ALL;
	f = pssi_rand(rng) & PSS_FACETS_ALL;
	if (f & (PSS_FACET_HANDLE_NAME | PSS_FACET_HANDLE_BASIC |
		 PSS_FACET_HANDLE_TYPE_SPECIFIC))
		f |= PSS_FACET_HANDLES;
	if (f & PSS_FACET_VA_SPACE_SECTION)
		f |= PSS_FACET_VA_SPACE;
	return f;
}

static void *capturer_fn(void *arg)
{
	struct capturer *c = arg;
	int dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);

	if (dev < 0) {
		c->failed = 1;
		snprintf(c->msg, sizeof(c->msg), "open /dev/pss: %s", strerror(errno));
		return NULL;
	}
	while (!cap_stop && pssi_loop_on(c->t0, c->deadline, c->captures, MIN_CAPTURES / 2)) {
		uint64_t facets = random_facets(&c->rng), t0, dt;
		bool by_pidfd = pssi_rand_below(&c->rng, 2);
		struct pssi_opts o = {
			.pid = c->pid, .facets = facets, .tid_ok = churn_tid_ok,
			.ctx = &c->pid, .rng = &c->rng, .restore_checks = 1,
		};
		struct pssi_snap s;
		int snap;

		t0 = pssi_now_ns();
		snap = pssi_capture(dev, c->pid, by_pidfd ? c->pidfd : -1, facets);
		dt = pssi_now_ns() - t0;
		if (snap == -EAGAIN) {
			c->eagain++;
			continue;
		}
		if (snap < 0) {
			c->failed = 1;
			snprintf(c->msg, sizeof(c->msg), "capture #%lu (facets %#llx, %s): %s",
				 c->captures, (unsigned long long)facets,
				 by_pidfd ? "pidfd" : "pid", strerror(-snap));
			break;
		}
		c->captures++;
		c->sum_ns += dt;
		if (dt > c->max_ns)
			c->max_ns = dt;
		tid_diag[0] = '\0';
		if (pssi_check(snap, &o, &s) || check_fixed(c, &s)) {
			const struct pss_thread_entry *t = NULL;
			pid_t bad = 0;

			if (sscanf(pssi_errmsg, "tid %d never", &bad) == 1 && s.have[0])
				t = pssi_find_tid(&s, bad);
			c->failed = 1;
			snprintf(c->msg, sizeof(c->msg), "capture #%lu (facets %#llx): %s "
				 "[record: comm '%.16s' flags %#x state %c; /proc: %s]",
				 c->captures, (unsigned long long)facets, pssi_errmsg,
				 t ? t->comm : "", t ? t->flags : 0, t ? t->state : '?',
				 tid_diag);
			pssi_snap_free(&s);
			close(snap);
			break;
		}
		c->retries += s.si.retries;
		c->unverified += s.unverified_tids;
		pssi_snap_free(&s);
		close(snap);
	}
	if (c->failed)
		cap_stop = 1;
	close(dev);
	return NULL;
}

/* ------------------------------------------------------------ test */

FIXTURE(churn) {
	pid_t pid;
	int pidfd;
	size_t shsize;
};

FIXTURE_SETUP(churn)
{
	long pid_max = 4194304;
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");

	if (f) {
		if (fscanf(f, "%ld", &pid_max) != 1)
			pid_max = 4194304;
		fclose(f);
	}
	self->shsize = sizeof(struct churn_shared) + pid_max / 8 + 1;
	sh = mmap(NULL, self->shsize, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	sh->map_bytes = pid_max / 8 + 1;
	sh->seed = pssi_seed();
	self->pid = -1;
	self->pidfd = -1;
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
}

FIXTURE_TEARDOWN(churn)
{
	int i;

	if (sh)
		sh->stop = 1;
	if (self->pid > 0) {
		/* the target finishes its ops and exits on its own; then force */
		for (i = 0; i < 200; i++) {
			if (waitpid(self->pid, NULL, WNOHANG) == self->pid) {
				self->pid = -1;
				break;
			}
			usleep(20000);
		}
		if (self->pid > 0) {
			kill(self->pid, SIGKILL);
			waitpid(self->pid, NULL, 0);
		}
	}
	/* orphaned grandchildren were reparented to us (subreaper) */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (self->pidfd >= 0)
		close(self->pidfd);
	unlink(FIXED_FILE);
}

TEST_F_TIMEOUT(churn, capture_while_churning, 900)
{
	double secs = pssi_budget("PSS_CHURN_SECS", 15, 40);
	struct capturer c[2];
	uint64_t deadline, t0 = pssi_now_ns();
	int i, status, dev, fds0;
	unsigned long total = 0, eagain = 0, retries = 0, unverified = 0;
	uint64_t max_ns = 0, sum_ns = 0;

	dev = open(PSS_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, dev) TH_LOG("open %s: %s", PSS_DEVICE_PATH, strerror(errno));
	close(dev);
	fds0 = pssi_count_fds();
	PSSI_LOG("seed %#llx (PSS_SEED), budget %.1f s (PSS_CHURN_SECS)",
		 (unsigned long long)sh->seed, secs);

	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (self->pid == 0)
		_exit(target_main());
	self->pidfd = pssi_pidfd_open(self->pid);
	ASSERT_LE(0, self->pidfd);
	while (!sh->ready) {
		ASSERT_EQ(0, waitpid(self->pid, &status, WNOHANG))
			TH_LOG("target died during setup: status %#x", status);
		usleep(2000);
	}

	deadline = pssi_now_ns() + (uint64_t)(secs * 1e9);
	memset(c, 0, sizeof(c));
	for (i = 0; i < 2; i++) {
		c[i].idx = i;
		c[i].pid = self->pid;
		c[i].pidfd = self->pidfd;
		c[i].rng = sh->seed + 0x51 * (i + 1);
		c[i].t0 = deadline - (uint64_t)(secs * 1e9);
		c[i].deadline = deadline;
		ASSERT_EQ(0, pthread_create(&c[i].th, NULL, capturer_fn, &c[i]));
	}
	for (i = 0; i < 2; i++)
		pthread_join(c[i].th, NULL);

	sh->stop = 1;
	ASSERT_EQ(self->pid, waitpid(self->pid, &status, 0));
	self->pid = -1;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("target exit status %#x", status);

	for (i = 0; i < 2; i++) {
		total += c[i].captures;
		eagain += c[i].eagain;
		retries += c[i].retries;
		unverified += c[i].unverified;
		sum_ns += c[i].sum_ns;
		if (c[i].max_ns > max_ns)
			max_ns = c[i].max_ns;
	}
	PSSI_LOG("churn: %lu captures in %.1f s (%lu EAGAIN, %lu internal retries, "
		 "avg %.2f ms, max %.2f ms), %lu tids gone before /proc check",
		 total, (pssi_now_ns() - t0) / 1e9, eagain, retries,
		 total ? sum_ns / 1e6 / total : 0.0, max_ns / 1e6, unverified);
	PSSI_LOG("target ops: fd %lu, mm %lu, thread %lu (%lu threads), fork %lu, "
		 "bursts %lu, self-captures %lu, fixed mapping named: %d",
		 sh->ops[0], sh->ops[1], sh->ops[2], sh->threads_made, sh->forks, sh->ops[4],
		 sh->self_captures, sh->named);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, c[i].failed) TH_LOG("capturer %d: %s", i, c[i].msg);
	}
	/* the churn really happened and captures really ran */
	EXPECT_LE(MIN_CAPTURES, total);
	EXPECT_LT(0, sh->threads_made);
	EXPECT_LT(0, sh->forks);
	close(self->pidfd);
	self->pidfd = -1;
	EXPECT_EQ(fds0, pssi_count_fds());
}

TEST_HARNESS_MAIN
