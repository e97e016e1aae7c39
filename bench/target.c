// SPDX-License-Identifier: GPL-2.0
/*
 * pss_target: the workload the benchmark snapshots.
 *
 *   pss_target -t T -f F -v V [-c] [-s STATS_FD] [-r READY_FD] [-d DIR]
 *              [-k TICK_FD [-p PERIOD_US] [-n SPINNERS]] [-m MIB]
 *
 * Builds a process with T threads (the main thread included), about F open
 * file descriptors of mixed types (regular files, pipes, AF_UNIX socket pairs,
 * UDP sockets, eventfds) and about V VMAs in total (the baseline mappings of
 * the process included): adjacent anonymous pages with alternating protection
 * so they cannot merge, and single-page shared file mappings that do not
 * merge either (each maps offset 0). Thread stacks come from one mapping so
 * T does not add 2*T VMAs.
 *
 * When ready it writes one byte to READY_FD (and closes it), then idles - or,
 * with -c, churns: one thread maps and unmaps one anonymous page in a loop
 * and records the latency of every mmap and every munmap into the shared
 * stats area (STATS_FD, a memfd the benchmark mapped too; see bench.h).
 * The benchmark resets the samples by bumping cmd_gen; the churn thread
 * acknowledges by copying it to ack_gen once it has cleared them.
 *
 * With -k, every thread (the main thread included) ticks instead of idling,
 * into the tick area (TICK_FD, a memfd; see struct tick_area): SPINNERS of
 * them (default 1) spin on the clock, the others sleep until the next
 * multiple of PERIOD_US (default 10000) and note how late they woke. That
 * is how the thread-state stall bench sees the hiccup a capture or a
 * debugger causes from inside the target.
 *
 * With -m, it also maps MIB MiB of private anonymous memory and writes
 * every page with a pattern (not zeroes, so none is a shared zero page):
 * the touched memory the dump bench copies into a core.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static int nr_fds_opened;
static struct churn_stats *stats;
static struct tick_area *ticks;

static void die(const char *what)
{
	fprintf(stderr, "pss_target: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void note_fd(int fd)
{
	if (fd < 0)
		die("open fd");
	nr_fds_opened++;
}

static int count_lines(const char *path)
{
	char buf[65536];
	int fd = open(path, O_RDONLY), n = 0;
	ssize_t r;

	if (fd < 0)
		die(path);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < r; i++)
			n += buf[i] == '\n';
	close(fd);
	return n;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		die("/proc/self/fd");
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

static void make_fds(int want, const char *dir)
{
	char path[256];
	int files[32];
	int have = count_fds();
	int nseed = want / 3 < 1 ? 1 : want / 3 > 32 ? 32 : want / 3;

	for (int i = 0; i < nseed; i++) {
		snprintf(path, sizeof(path), "%s/pss-bench-file-%d", dir, i);
		files[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (files[i] < 0)
			die(path);
		if (ftruncate(files[i], 65536))
			die("ftruncate");
	}
	/* The seed files are themselves regular-file fds of the target. */
	have += nseed;
	for (int i = 0; have < want; i++) {
		int p[2];

		switch (i % 6) {
		case 0:
		case 1: /* regular file, its own open file description */
			snprintf(path, sizeof(path), "%s/pss-bench-file-%d", dir, i % nseed);
			note_fd(open(path, i & 2 ? O_RDONLY : O_RDWR));
			have++;
			break;
		case 2:
			if (pipe2(p, i & 4 ? O_CLOEXEC : 0))
				die("pipe");
			nr_fds_opened += 2;
			have += 2;
			break;
		case 3:
			if (socketpair(AF_UNIX, SOCK_STREAM, 0, p))
				die("socketpair");
			nr_fds_opened += 2;
			have += 2;
			break;
		case 4:
			note_fd(socket(AF_INET, SOCK_DGRAM, 0));
			have++;
			break;
		case 5:
			note_fd(eventfd(0, EFD_NONBLOCK));
			have++;
			break;
		}
	}
}

static void make_vmas(int want, const char *dir)
{
	long pg = sysconf(_SC_PAGESIZE);
	int have = count_lines("/proc/self/maps");
	int add = want - have, nfile, nanon;
	char path[256];
	int fd;

	if (add <= 0)
		return;
	nfile = add / 10;
	nanon = add - nfile;

	if (nfile) {
		snprintf(path, sizeof(path), "%s/pss-bench-map", dir);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, pg))
			die(path);
		for (int i = 0; i < nfile; i++)
			if (mmap(NULL, pg, i & 1 ? PROT_READ : PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, 0) == MAP_FAILED)
				die("mmap file");
		close(fd);
	}
	if (nanon) {
		char *base = mmap(NULL, nanon * pg, PROT_READ,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (base == MAP_FAILED)
			die("mmap anon");
		for (int i = 1; i < nanon; i += 2)
			if (mprotect(base + i * pg, pg, PROT_READ | PROT_WRITE))
				die("mprotect (vm.max_map_count?)");
	}
}

/* MIB MiB, each byte written, so each page is the target's own */
static void touch_memory(long mib)
{
	size_t len = (size_t)mib << 20;
	unsigned char *p;

	if (mib <= 0)
		return;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap touched memory");
	for (size_t i = 0; i < len; i += sizeof(uint64_t))
		*(uint64_t *)(p + i) = i * 0x9e3779b97f4a7c15ull;
}

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void record(uint64_t ns)
{
	uint64_t n = stats->nr_samples;

	if (n < CHURN_MAX_SAMPLES)
		stats->samples[n] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
	if (ns > stats->max_ns)
		stats->max_ns = ns;
	stats->sum_ns += ns;
	__atomic_store_n(&stats->nr_samples, n + 1, __ATOMIC_RELEASE);
}

static void *churn_thread(void *arg)
{
	long pg = sysconf(_SC_PAGESIZE);

	(void)arg;
	for (;;) {
		uint32_t cmd = __atomic_load_n(&stats->cmd_gen, __ATOMIC_ACQUIRE);
		uint64_t t0, t1, t2;
		void *p;

		if (cmd != stats->ack_gen) {
			stats->nr_samples = 0;
			stats->max_ns = 0;
			stats->sum_ns = 0;
			__atomic_store_n(&stats->ack_gen, cmd, __ATOMIC_RELEASE);
		}
		t0 = now_ns();
		p = mmap(NULL, pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		t1 = now_ns();
		if (p == MAP_FAILED)
			die("churn mmap");
		munmap(p, pg);
		t2 = now_ns();
		record(t1 - t0);
		record(t2 - t1);
	}
	return NULL;
}

/* One tick of thread slot s at time t; v is its lateness or gap. */
static void tick(struct tick_slot *s, uint64_t t, uint64_t v)
{
	uint32_t gen = __atomic_load_n(&ticks->cmd_gen, __ATOMIC_ACQUIRE);
	uint64_t prev = __atomic_exchange_n(&ticks->proc_last_ns, t, __ATOMIC_ACQ_REL);
	uint64_t m;

	/* The process-wide gap: since any thread's last timestamp. */
	if (prev && t > prev) {
		m = __atomic_load_n(&ticks->proc_max_ns, __ATOMIC_RELAXED);
		while (t - prev > m &&
		       !__atomic_compare_exchange_n(&ticks->proc_max_ns, &m, t - prev, 0,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
	}
	if (s->ack_gen != gen) {
		/* v may span the start of the window: it does not count */
		__atomic_store_n(&s->max_ns, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->ack_gen, gen, __ATOMIC_RELEASE);
	} else if (v > s->max_ns) {
		__atomic_store_n(&s->max_ns, v, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&s->ticks, s->ticks + 1, __ATOMIC_RELAXED);
}

static uint64_t tick_period_ns = 10000000;
static int nr_spinners = 1, nr_tickers;

static void *tick_thread(void *arg)
{
	struct tick_slot *s = arg;
	uint64_t prev = now_ns(), t, next = prev;
	struct timespec ts;

	if (s->spinner) {
		for (;;) {
			t = now_ns();
			tick(s, t, t - prev);
			prev = t;
		}
	}
	for (;;) {
		next += tick_period_ns;
		ts.tv_sec = next / 1000000000ull;
		ts.tv_nsec = next % 1000000000ull;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
			;
		t = now_ns();
		tick(s, t, t - next);
		/* after a long stall, start again from now rather than catch up */
		if (t - next > tick_period_ns)
			next = t;
	}
	return NULL;
}

/* The next slot of the tick area (thread number i, 0 the main thread). */
static struct tick_slot *tick_slot(int i)
{
	struct tick_slot *s = &ticks->slot[nr_tickers++];

	s->spinner = i < nr_spinners;
	return s;
}

int main(int argc, char **argv)
{
	int T = 1, F = 10, V = 10, churn = 0, stats_fd = -1, ready_fd = -1, tick_fd = -1, opt;
	long mib = 0;
	const char *dir = "/tmp";
	pthread_attr_t attr;
	size_t stack = 64 * 1024;
	char *stacks = NULL;
	struct rlimit rl;

	while ((opt = getopt(argc, argv, "t:f:v:cs:r:d:k:p:n:m:")) != -1) {
		switch (opt) {
		case 't': T = atoi(optarg); break;
		case 'f': F = atoi(optarg); break;
		case 'v': V = atoi(optarg); break;
		case 'c': churn = 1; break;
		case 's': stats_fd = atoi(optarg); break;
		case 'r': ready_fd = atoi(optarg); break;
		case 'd': dir = optarg; break;
		case 'k': tick_fd = atoi(optarg); break;
		case 'p': tick_period_ns = strtoull(optarg, NULL, 10) * 1000; break;
		case 'n': nr_spinners = atoi(optarg); break;
		case 'm': mib = atol(optarg); break;
		default:
			fprintf(stderr, "usage: pss_target -t T -f F -v V [-c] [-s FD] [-r FD] [-d DIR] "
				"[-k FD [-p PERIOD_US] [-n SPINNERS]] [-m MIB]\n");
			return 2;
		}
	}
	if (churn && stats_fd < 0) {
		fprintf(stderr, "pss_target: -c needs -s STATS_FD\n");
		return 2;
	}
	if (churn && tick_fd >= 0) {
		fprintf(stderr, "pss_target: -c and -k do not go together\n");
		return 2;
	}

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)F + 256) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)F + 256;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			die("setrlimit(RLIMIT_NOFILE)");
	}

	if (stats_fd >= 0) {
		stats = mmap(NULL, sizeof(*stats), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_POPULATE, stats_fd, 0);
		if (stats == MAP_FAILED)
			die("mmap stats");
	}
	if (tick_fd >= 0) {
		size_t len = sizeof(*ticks) + T * sizeof(struct tick_slot);

		ticks = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			     tick_fd, 0);
		if (ticks == MAP_FAILED)
			die("mmap tick area");
		ticks->period_ns = tick_period_ns;
		tick_slot(0);	/* the main thread's */
	}

	/* Threads first (one stack mapping), then fds, then VMAs to the total. */
	pthread_attr_init(&attr);
	if (T > 1) {
		stacks = mmap(NULL, stack * (T - 1), PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (stacks == MAP_FAILED)
			die("mmap stacks");
		for (int i = 1; i < T; i++) {
			pthread_t th;
			char name[16];
			int err;

			pthread_attr_setstack(&attr, stacks + (i - 1) * stack, stack);
			/* slot 0 is the churn thread's, started once set up */
			if (churn && i == 1)
				continue;
			err = pthread_create(&th, &attr, ticks ? tick_thread : idle_thread,
					     ticks ? tick_slot(i) : NULL);
			if (err) {
				errno = err;
				die("pthread_create");
			}
			snprintf(name, sizeof(name), "w%d", i);
			pthread_setname_np(th, name);
		}
	} else if (churn) {
		fprintf(stderr, "pss_target: -c needs -t 2 or more\n");
		return 2;
	}
	make_fds(F, dir);
	make_vmas(V, dir);
	touch_memory(mib);
	if (churn) {
		pthread_t th;
		int err;

		pthread_attr_setstack(&attr, stacks, stack);
		err = pthread_create(&th, &attr, churn_thread, NULL);
		if (err) {
			errno = err;
			die("pthread_create churn");
		}
		pthread_setname_np(th, "churn");
	}

	/* all slots taken before the benchmark may look at them */
	if (ticks)
		__atomic_store_n(&ticks->nr_threads, nr_tickers, __ATOMIC_RELEASE);
	if (ready_fd >= 0) {
		char c = 'R';

		if (write(ready_fd, &c, 1) != 1)
			die("write ready");
		close(ready_fd);
	}
	if (ticks)
		tick_thread(&ticks->slot[0]);
	for (;;)
		pause();
}
