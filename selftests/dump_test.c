// SPDX-License-Identifier: GPL-2.0
/*
 * pss dump and pss stack against real clients, in the guest:
 * - a known multi-threaded target: threads blocked in read(), futex wait
 *   and nanosleep() under functions of known names, one spinning in user
 *   mode (pss has to park it), the main thread in pause() at the bottom of
 *   a recursion with known arguments, a global holding a value only the
 *   running process computed;
 * - gdb opens the core pss dump wrote: every thread is there, each one's
 *   backtrace names its function (the recursion with its arguments), its
 *   rip and rsp are the registers of the context entries in the same file,
 *   and the global reads back;
 * - eu-readelf -n lists the notes a core has, eu-stack --core unwinds it;
 * - the core read back with libpss answers every walk and query as the
 *   capture it was written from (the memory rebuilt from the PT_LOADs);
 *   truncated inside the memory, it is refused;
 * - pss dump (pre-copying where the kernel keeps soft-dirty bits) and pss
 *   dump --no-precopy write the same memory;
 * - pss stack names the same functions in the user frames, and the
 *   blocking calls in the kernel frames; its user frames are eu-stack -p's.
 * /bin/pss (or $PSS_BIN), gdb, eu-readelf and eu-stack are the clients.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libpss.h"
#include "pss_softdirty.h"
#include "kselftest_harness.h"

#define NTHREADS	5	/* main + four workers */
#define DEPTH		3	/* dump_recursive(3, ...) .. (0, ...) */
#define RECURSE_TAG	0x5a5a

enum { T_MAIN, T_READ, T_FUTEX, T_SLEEP, T_SPIN };

/* the function each thread blocks under, and the syscall it blocks in */
static const char *const blocked_fn[NTHREADS] = {
	"dump_recursive", "dump_blocked_in_read", "dump_blocked_in_futex",
	"dump_blocked_in_nanosleep", "dump_spinning",
};
static const long blocked_nr[NTHREADS] = {
	SYS_pause, SYS_read, SYS_futex, SYS_nanosleep, -1 /* in user mode */,
};
/* a substring of a kernel frame of each blocking call, on 6.1 and 6.12 */
static const char *const kernel_fn[NTHREADS] = {
	"pause", "pipe_read", "futex", "nanosleep", NULL,
};

struct report {
	pid_t tid[NTHREADS];
	unsigned long marker;
};

/* ------------------------------------------------------------ target */

volatile unsigned long dump_marker;
static int block_pipe[2];
static unsigned int futex_word;
static pid_t tids[NTHREADS];
static volatile unsigned long spins;
static pthread_barrier_t started;

/* noinline and a use after the call: each keeps a frame of its own */
__attribute__((noinline)) void dump_blocked_in_read(void)
{
	char c;

	if (read(block_pipe[0], &c, 1) < 0)
		_exit(98);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void dump_blocked_in_futex(void)
{
	while (!__atomic_load_n(&futex_word, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void dump_blocked_in_nanosleep(void)
{
	struct timespec ts = { .tv_sec = 100000 };

	syscall(SYS_nanosleep, &ts, NULL);
	__asm__ volatile("" ::: "memory");
}

/* never enters the kernel: pss must make it, and park it on the way out */
__attribute__((noinline)) void dump_spinning(void)
{
	for (;;)
		spins++;
}

/* O0: the arguments stay where gdb finds them in every frame */
__attribute__((noinline, optimize("O0"))) int dump_recursive(int depth, int tag)
{
	if (!depth) {
		syscall(SYS_pause);
		return tag;
	}
	return dump_recursive(depth - 1, tag) + 1;
}

static void *worker(void *arg)
{
	long i = (long)arg;

	tids[i] = (pid_t)syscall(SYS_gettid);
	pthread_barrier_wait(&started);
	if (i == T_READ)
		dump_blocked_in_read();
	else if (i == T_FUTEX)
		dump_blocked_in_futex();
	else if (i == T_SLEEP)
		dump_blocked_in_nanosleep();
	else
		dump_spinning();
	return NULL;
}

static void __attribute__((noreturn)) target(int report_fd)
{
	struct report rep;
	pthread_t th;
	long i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (pipe(block_pipe))
		_exit(97);
	pthread_barrier_init(&started, NULL, NTHREADS);
	tids[T_MAIN] = getpid();
	for (i = 1; i < NTHREADS; i++)
		if (pthread_create(&th, NULL, worker, (void *)i))
			_exit(96);
	pthread_barrier_wait(&started);
	/* known to the test, found only in this process's memory */
	dump_marker = 0x5053530000000000UL | (unsigned long)getpid();
	memset(&rep, 0, sizeof(rep));
	memcpy(rep.tid, tids, sizeof(rep.tid));
	rep.marker = dump_marker;
	if (write(report_fd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(95);
	close(report_fd);
	dump_recursive(DEPTH, RECURSE_TAG);
	_exit(0);
}

/* The syscall a thread sleeps in, from /proc (-1: running or unknown). */
static long proc_syscall(pid_t pid, pid_t tid)
{
	char path[64], buf[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* ------------------------------------------------------------ clients */

/* This binary, the target's executable (a fork of it), for gdb and eu-stack. */
static const char *self_exe(void)
{
	static char path[PATH_MAX];
	ssize_t n;

	if (!path[0]) {
		n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		path[n > 0 ? n : 0] = '\0';
	}
	return path;
}

static const char *pss_bin(void)
{
	const char *b = getenv("PSS_BIN");

	return b && *b ? b : "/bin/pss";
}

/* Run argv, stdout and stderr together into *out; the exit status. */
static int run(char **out, const char *const *argv)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	int p[2], st;
	pid_t pid;

	if (!buf || pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = read(p[0], buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* gdb's view of one thread: its backtrace lines and two registers */
struct gthread {
	pid_t tid;
	char bt[8192];
	unsigned long long rip, rsp;
	bool have_rip, have_rsp;
};

/* "Thread 2 (LWP 123):" or "Thread 2 (Thread 0x7f.. (LWP 123)):" */
static pid_t lwp_of(const char *line)
{
	const char *p = strstr(line, "LWP ");

	return p ? (pid_t)strtol(p + 4, NULL, 10) : 0;
}

static struct gthread *gthread_of(struct gthread *g, pid_t tid)
{
	int i;

	for (i = 0; i < NTHREADS; i++)
		if (g[i].tid == tid)
			return &g[i];
	return NULL;
}

/* Split the sections of "thread apply all" by their "Thread N (... LWP tid" headers. */
static void parse_gdb(char *text, struct gthread *g)
{
	struct gthread *cur = NULL;
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "Thread ", 7)) {
			cur = gthread_of(g, lwp_of(line));
			continue;
		}
		if (!cur)
			continue;
		if (line[0] == '#') {
			strncat(cur->bt, line, sizeof(cur->bt) - strlen(cur->bt) - 2);
			strcat(cur->bt, "\n");
		} else if (!strncmp(line, "rip ", 4)) {
			cur->rip = strtoull(line + 4, NULL, 0);
			cur->have_rip = true;
		} else if (!strncmp(line, "rsp ", 4)) {
			cur->rsp = strtoull(line + 4, NULL, 0);
			cur->have_rsp = true;
		}
	}
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay++;
	}
	return n;
}

/* ------------------------------------------------------------ fixture */

FIXTURE(dump) {
	struct report rep;
	pid_t pid;
	char pidstr[16];
	char core[64];
};

FIXTURE_SETUP(dump)
{
	int p[2], i, tries;

	if (access(pss_bin(), X_OK))
		SKIP(return, "%s not installed", pss_bin());
	if (access(PSS_DEVICE_PATH, R_OK))
		SKIP(return, "%s missing (module not loaded)", PSS_DEVICE_PATH);
	ASSERT_EQ(0, pipe(p));
	self->pid = fork();
	ASSERT_GE(self->pid, 0);
	if (self->pid == 0) {
		close(p[0]);
		target(p[1]);
	}
	close(p[1]);
	ASSERT_EQ(sizeof(self->rep), read(p[0], &self->rep, sizeof(self->rep)))
		TH_LOG("the target did not start");
	close(p[0]);
	snprintf(self->pidstr, sizeof(self->pidstr), "%d", self->pid);
	snprintf(self->core, sizeof(self->core), "/tmp/dump_test.core.%d", self->pid);
	/* every thread asleep in its call: then the stacks are the known ones */
	for (i = 0; i < NTHREADS; i++) {
		for (tries = 0; tries < 10000; tries++) {
			if (proc_syscall(self->pid, self->rep.tid[i]) == blocked_nr[i])
				break;
			usleep(1000);
		}
		/* the spinner reads "running" whenever it is seen in user mode */
		ASSERT_EQ(blocked_nr[i], proc_syscall(self->pid, self->rep.tid[i]))
			TH_LOG("thread %d never blocked in syscall %ld", i, blocked_nr[i]);
	}
}

FIXTURE_TEARDOWN(dump)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	unlink(self->core);
}

static void do_dump(struct __test_metadata *_metadata, const char *pid,
		    const char *core, const char *memory)
{
	char *out;
	int st;

	/* the bound, not a measurement: a KASAN guest can take long to park */
	st = run(&out, (const char *const[]){ pss_bin(), "dump", pid, "-o", core,
					      "--memory", memory, "--timeout",
					      "10000", NULL });
	ASSERT_EQ(0, st) TH_LOG("pss dump: %s", out);
	TH_LOG("%s", out);	/* what it held, and for how long */
	free(out);
}

/* The registers of each thread as the file's own context entries have them. */
static void core_regs(struct __test_metadata *_metadata, const char *core,
		      const struct report *rep, struct user_regs_struct *regs)
{
	const struct pss_context_entry *c;
	struct pss_walk_marker *m;
	struct pss_snapshot *s;
	const void *g;
	size_t len;
	int ret, i, found = 0;

	ASSERT_EQ(0, pss_snapshot_open_file(core, &s));
	ASSERT_EQ(0, pss_walk_marker_create(s, PSS_WALK_CONTEXTS, NULL, &m));
	pss_for_each_context(m, c, ret) {
		for (i = 0; i < NTHREADS; i++) {
			if (c->tid != rep->tid[i])
				continue;
			EXPECT_NE(PSS_PARK_NONE, c->park) TH_LOG("tid %d not parked", c->tid);
			/* running in user mode: stopped at its return there */
			if (i == T_SPIN)
				EXPECT_EQ(PSS_PARK_WAITED, c->park);
			g = pss_context_entry_gregs(c, &len);
			ASSERT_NE(NULL, g);
			ASSERT_EQ(sizeof(regs[i]), len);
			memcpy(&regs[i], g, len);
			found++;
		}
	}
	EXPECT_EQ(0, ret);
	EXPECT_EQ(NTHREADS, found);
	pss_walk_marker_free(m);
	pss_snapshot_free(s);
}

TEST_F(dump, gdb_reads_the_core)
{
	struct user_regs_struct regs[NTHREADS];
	struct gthread g[NTHREADS];
	char *out, want[128], mark[64];
	int st, i;

	do_dump(_metadata, self->pidstr, self->core, "writable");
	memset(regs, 0, sizeof(regs));
	core_regs(_metadata, self->core, &self->rep, regs);

	/* the executable is this binary: the target is a fork of it */
	st = run(&out, (const char *const[]){ "/usr/bin/gdb", "-batch", "-nx",
		"-ex", "set pagination off", "-ex", "info threads",
		"-ex", "thread apply all bt",
		"-ex", "thread apply all info registers rip rsp",
		"-ex", "print/x dump_marker",
		self_exe(), self->core, NULL });
	ASSERT_EQ(0, st) TH_LOG("gdb: %s", out);
	TH_LOG("gdb says:\n%s", out);

	/* info threads: every thread */
	for (i = 0; i < NTHREADS; i++) {
		snprintf(want, sizeof(want), "LWP %d", self->rep.tid[i]);
		EXPECT_NE(NULL, strstr(out, want)) TH_LOG("gdb has no thread %s", want);
	}
	snprintf(mark, sizeof(mark), "= 0x%lx", self->rep.marker);
	EXPECT_NE(NULL, strstr(out, mark)) TH_LOG("dump_marker is not %s", mark);

	memset(g, 0, sizeof(g));
	for (i = 0; i < NTHREADS; i++)
		g[i].tid = self->rep.tid[i];
	parse_gdb(out, g);
	for (i = 0; i < NTHREADS; i++) {
		EXPECT_NE(NULL, strstr(g[i].bt, blocked_fn[i]))
			TH_LOG("thread %d: no %s in\n%s", g[i].tid, blocked_fn[i], g[i].bt);
		EXPECT_TRUE(g[i].have_rip && g[i].have_rsp);
		EXPECT_EQ(regs[i].rip, g[i].rip) TH_LOG("thread %d rip", g[i].tid);
		EXPECT_EQ(regs[i].rsp, g[i].rsp) TH_LOG("thread %d rsp", g[i].tid);
	}
	/* the recursion: every level, with its arguments, down from main */
	EXPECT_EQ(DEPTH + 1, count(g[T_MAIN].bt, "dump_recursive ("));
	for (i = 0; i <= DEPTH; i++) {
		snprintf(want, sizeof(want), "dump_recursive (depth=%d, tag=%d)", i,
			 RECURSE_TAG);
		EXPECT_NE(NULL, strstr(g[T_MAIN].bt, want)) TH_LOG("no '%s'", want);
	}
	EXPECT_NE(NULL, strstr(g[T_MAIN].bt, " main ("));
	free(out);
}

TEST_F(dump, elfutils_read_the_core)
{
	static const char *const notes[] = {
		"PRSTATUS", "FPREGSET", "X86_XSTATE", "PRPSINFO", "AUXV", "FILE",
	};
	static const int times[] = { NTHREADS, NTHREADS, NTHREADS, 1, 1, 1 };
	char *out, want[64];
	size_t i;
	int st;

	do_dump(_metadata, self->pidstr, self->core, "writable");
	st = run(&out, (const char *const[]){ "/usr/bin/eu-readelf", "-n",
					      self->core, NULL });
	ASSERT_EQ(0, st) TH_LOG("eu-readelf: %s", out);
	for (i = 0; i < sizeof(notes) / sizeof(notes[0]); i++) {
		char *p = out;
		int n = 0;

		snprintf(want, sizeof(want), " %s\n", notes[i]);
		while ((p = strstr(p, notes[i]))) {
			/* "  CORE   336  PRSTATUS": the type ends the line */
			if (p[strlen(notes[i])] == '\n' && p[-1] == ' ')
				n++;
			p++;
		}
		EXPECT_EQ(times[i], n) TH_LOG("%s notes: %d\n%s", notes[i], n, out);
	}
	free(out);

	st = run(&out, (const char *const[]){ "/usr/bin/eu-stack", "--core",
					      self->core, "-e", self_exe(),
					      NULL });
	EXPECT_EQ(0, st) TH_LOG("eu-stack: %s", out);
	for (i = 0; i < NTHREADS; i++) {
		snprintf(want, sizeof(want), "TID %d:", self->rep.tid[i]);
		EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s missing:\n%s", want, out);
		EXPECT_NE(NULL, strstr(out, blocked_fn[i])) TH_LOG("%s missing", blocked_fn[i]);
	}
	free(out);
}

static int walk_all(struct pss_snapshot *s, __u32 wc, char **buf, size_t *len)
{
	struct pss_walk_marker *m;
	size_t l, cap = 0;
	const void *e;
	int ret;

	*buf = NULL;
	*len = 0;
	ret = pss_walk_marker_create(s, wc, NULL, &m);
	if (ret)
		return ret;
	while ((ret = pss_walk(m, &e, &l)) == 1) {
		if (*len + l > cap) {
			cap = (*len + l) * 2;
			*buf = realloc(*buf, cap);
			if (!*buf)
				abort();
		}
		memcpy(*buf + *len, e, l);
		*len += l;
	}
	pss_walk_marker_free(m);
	return ret;
}

/* The core read back is the capture: every query and walk, byte for byte. */
TEST_F(dump, core_reads_back_as_the_capture)
{
	PSS_OPTS(pss_capture_opts, o,
		 .facets = PSS_FACETS_ALL | PSS_FACET_THREAD_CONTEXT |
			   PSS_FACET_MEMORY | PSS_FACET_THREAD_KSTACK,
		 /* the stacks: a few pages each, cheap under KASAN too */
		 .memory_flags = PSS_MEMORY_STACKS, .pid = self->pid,
		 .quiesce_timeout_ms = PSS_QUIESCE_TIMEOUT_MAX_MS);
	static const __u32 queries[] = {
		PSS_QUERY_SNAPSHOT, PSS_QUERY_PROCESS, PSS_QUERY_THREADS,
		PSS_QUERY_HANDLES, PSS_QUERY_VA_SPACE, PSS_QUERY_PERFORMANCE,
		PSS_QUERY_AUXV, PSS_QUERY_CONTEXTS, PSS_QUERY_KSTACKS,
		PSS_QUERY_MEMORY,
	};
	static char qa[16384], qb[16384];
	struct pss_snapshot *live, *back;
	char *a, *b;
	size_t la, lb, i;
	__u32 wc;
	struct stat st;
	int fd;

	ASSERT_EQ(0, pss_capture(&o, &live));
	fd = open(self->core, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pss_snapshot_write_core(live, fd, 0));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(0, pss_snapshot_read_file(fd, &back));

	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		memset(qa, 0xa5, sizeof(qa));
		memset(qb, 0x5a, sizeof(qb));
		ASSERT_EQ(0, pss_query(live, queries[i], qa, sizeof(qa)))
			TH_LOG("query %s", pss_query_class_name(queries[i]));
		ASSERT_EQ(0, pss_query(back, queries[i], qb, sizeof(qb)));
		EXPECT_EQ(0, memcmp(qa, qb, sizeof(qa)))
			TH_LOG("query %s differs", pss_query_class_name(queries[i]));
	}
	for (wc = 0; wc < PSS_WALK_NR_CLASSES; wc++) {
		ASSERT_EQ(0, walk_all(live, wc, &a, &la));
		ASSERT_EQ(0, walk_all(back, wc, &b, &lb));
		EXPECT_EQ(la, lb) TH_LOG("walk %s", pss_walk_class_name(wc));
		if (la == lb)
			EXPECT_EQ(0, memcmp(a, b, la))
				TH_LOG("walk %s differs", pss_walk_class_name(wc));
		if (wc == PSS_WALK_MEMORY || wc == PSS_WALK_CONTEXTS)
			EXPECT_LT(0, la) TH_LOG("no %s", pss_walk_class_name(wc));
		free(a);
		free(b);
	}
	pss_snapshot_free(back);

	/* cut inside the last PT_LOAD's bytes: the index points past the end */
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(0, ftruncate(fd, st.st_size - 1));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(-EBADMSG, pss_snapshot_read_file(fd, &back));
	close(fd);
	pss_snapshot_free(live);
}

/* pss dump's summary: its pre-copied and reused bytes (-1: not there). */
static void dump_counts(const char *out, long long *pre, long long *reused)
{
	const char *q = strstr(out, " ms, capture ");

	*pre = *reused = -1;
	if (q)
		q = strchr(q + 13, ',');
	if (!q || sscanf(q, ", %lld bytes pre-copied, %lld reused", pre, reused) != 2)
		*pre = *reused = -1;
}

/* The memory records of a core, but those holding what the spinner writes. */
static void core_memory(struct __test_metadata *_metadata, const char *core,
			pid_t spinner, char **buf, size_t *len)
{
	const struct pss_memory_entry *e;
	struct pss_walk_marker *m;
	struct pss_snapshot *s;
	int ret;

	*buf = NULL;
	*len = 0;
	ASSERT_EQ(0, pss_snapshot_open_file(core, &s));
	ASSERT_EQ(0, pss_walk_marker_create(s, PSS_WALK_MEMORY, NULL, &m));
	pss_for_each_memory(m, e, ret) {
		if (e->tid == spinner ||
		    ((uintptr_t)&spins >= e->addr &&
		     (uintptr_t)&spins < e->addr + e->data_len))
			continue;
		*buf = realloc(*buf, *len + e->rec_len);
		ASSERT_NE(NULL, *buf);
		memcpy(*buf + *len, e, e->rec_len);
		*len += e->rec_len;
	}
	EXPECT_EQ(0, ret);
	pss_walk_marker_free(m);
	pss_snapshot_free(s);
}

/*
 * pss dump pre-copies by default (its summary says how much it took from
 * the pre-copy); --no-precopy does not; the two cores hold the same
 * memory (but where the spinning thread writes meanwhile).
 */
TEST_F_TIMEOUT(dump, precopy_core_equals_plain, 300)
{
	char plain[80], *out, *a, *b;
	long long pre, reused;
	size_t la, lb;
	int st;

	snprintf(plain, sizeof(plain), "%s.plain", self->core);
	st = run(&out, (const char *const[]){ pss_bin(), "dump", self->pidstr, "-o",
					      self->core, "--timeout", "10000", NULL });
	ASSERT_EQ(0, st) TH_LOG("pss dump: %s", out);
	TH_LOG("%s", out);
	dump_counts(out, &pre, &reused);
	free(out);
	if (pss_soft_dirty_kept()) {
		EXPECT_LT(0, pre);
		EXPECT_LT(0, reused);
	} else {	/* it went without, silently */
		EXPECT_EQ(0, pre);
		EXPECT_EQ(0, reused);
	}
	st = run(&out, (const char *const[]){ pss_bin(), "dump", self->pidstr, "-o",
					      plain, "--no-precopy", "--timeout", "10000",
					      NULL });
	ASSERT_EQ(0, st) TH_LOG("pss dump --no-precopy: %s", out);
	TH_LOG("%s", out);
	dump_counts(out, &pre, &reused);
	free(out);
	EXPECT_EQ(0, pre);
	EXPECT_EQ(0, reused);

	core_memory(_metadata, self->core, self->rep.tid[T_SPIN], &a, &la);
	core_memory(_metadata, plain, self->rep.tid[T_SPIN], &b, &lb);
	unlink(plain);
	EXPECT_LT(0, la);
	EXPECT_EQ(la, lb);
	if (la == lb)
		EXPECT_EQ(0, memcmp(a, b, la));
	free(a);
	free(b);
}

/* One function per row's FUNCTION column, for thread tid and kind. */
static bool stack_has(const char *raw, pid_t tid, const char *kind,
		      const char *fn)
{
	char *copy = strdup(raw), *line, *save = NULL;
	bool found = false;

	for (line = strtok_r(copy, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char k[16] = "", f[256] = "";
		int t;

		/* -r -n -o TID,KIND,FUNCTION: "123 user dump_blocked_in_read" */
		if (sscanf(line, "%d %15s %255s", &t, k, f) == 3 && t == tid &&
		    !strcmp(k, kind) && strstr(f, fn))
			found = true;
	}
	free(copy);
	return found;
}

TEST_F(dump, pss_stack_names_the_functions)
{
	char *out;
	int st, i;

	st = run(&out, (const char *const[]){ pss_bin(), "stack", self->pidstr,
		"--timeout", "10000", "-r", "-n", "-o", "TID,KIND,FUNCTION", NULL });
	ASSERT_EQ(0, st) TH_LOG("pss stack: %s", out);
	TH_LOG("pss stack says:\n%s", out);
	for (i = 0; i < NTHREADS; i++) {
		pid_t tid = self->rep.tid[i];

		EXPECT_TRUE(stack_has(out, tid, "user", blocked_fn[i]))
			TH_LOG("thread %d: no user frame %s", tid, blocked_fn[i]);
		if (kernel_fn[i])
			EXPECT_TRUE(stack_has(out, tid, "kernel", kernel_fn[i]))
				TH_LOG("thread %d: no kernel frame *%s*", tid, kernel_fn[i]);
	}
	EXPECT_TRUE(stack_has(out, self->rep.tid[T_MAIN], "user", "main"));
	free(out);
}

/* The function names of one thread's frames, in order, one per line. */
static void pss_user_fns(const char *raw, pid_t tid, char *out, size_t len)
{
	char *copy = strdup(raw), *line, *save = NULL;

	out[0] = '\0';
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char k[16] = "", f[256] = "";
		int t;

		if (sscanf(line, "%d %15s %255s", &t, k, f) >= 2 && t == tid &&
		    !strcmp(k, "user")) {
			strncat(out, f[0] ? f : "??", len - strlen(out) - 2);
			strcat(out, "\n");
		}
	}
	free(copy);
}

/* eu-stack's "TID n:" block: "#0  0x00000000004551bc read" lines */
static void eu_stack_fns(const char *text, pid_t tid, char *out, size_t len)
{
	char head[32], *copy = strdup(text), *p, *line, *save = NULL;

	out[0] = '\0';
	snprintf(head, sizeof(head), "TID %d:", tid);
	p = strstr(copy, head);
	if (p) {
		for (line = strtok_r(p + strlen(head), "\n", &save);
		     line && line[0] == '#'; line = strtok_r(NULL, "\n", &save)) {
			char num[16] = "", pc[32] = "", f[256] = "";

			sscanf(line, "%15s %31s %255s", num, pc, f);
			strncat(out, f[0] ? f : "??", len - strlen(out) - 2);
			strcat(out, "\n");
		}
	}
	free(copy);
}

/*
 * pss stack and eu-stack -p agree: the same functions, frame by frame, in
 * every thread (pss first: eu-stack ptrace-attaches, pss has to see the
 * target untouched).
 */
TEST_F(dump, pss_stack_agrees_with_eu_stack)
{
	char *ours, *theirs, a[4096], b[4096];
	int st, i;

	st = run(&ours, (const char *const[]){ pss_bin(), "stack", self->pidstr,
		"--timeout", "10000", "-r", "-n", "-o", "TID,KIND,FUNCTION", NULL });
	ASSERT_EQ(0, st) TH_LOG("pss stack: %s", ours);
	st = run(&theirs, (const char *const[]){ "/usr/bin/eu-stack", "-p",
						 self->pidstr, NULL });
	ASSERT_EQ(0, st) TH_LOG("eu-stack: %s", theirs);
	for (i = 0; i < NTHREADS; i++) {
		pss_user_fns(ours, self->rep.tid[i], a, sizeof(a));
		eu_stack_fns(theirs, self->rep.tid[i], b, sizeof(b));
		EXPECT_NE(0, strlen(a));
		EXPECT_STREQ(b, a) TH_LOG("thread %d", self->rep.tid[i]);
	}
	free(ours);
	free(theirs);
}

TEST_HARNESS_MAIN
