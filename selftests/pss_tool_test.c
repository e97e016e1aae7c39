// SPDX-License-Identifier: GPL-2.0
/*
 * pss(1), the command-line tool, checked end to end in a guest: runs
 * /bin/pss (or $PSS_BIN) against a forked target in a known state - named
 * threads, fds of many types at fixed numbers, mappings at known addresses -
 * and compares what it prints (-r raw tables, -J JSON, snapshot --json parsed
 * back with a small JSON parser) field by field against that state, against
 * /proc, and the views against each other. Every error path is run and its
 * documented exit code checked (see pss(1) EXIT STATUS).
 *
 * `pss_tool_test --target` runs the target alone and prints "ready PID" (the
 * demo uses it: scripts/demo-guest.sh).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

/* pss(1) EXIT STATUS */
#define PSS_EXIT_OK		0
#define PSS_EXIT_FAIL		1
#define PSS_EXIT_USAGE		2
#define PSS_EXIT_NOMODULE	3
#define PSS_EXIT_NOPROC		4
#define PSS_EXIT_PERM		5
#define PSS_EXIT_UNSUPP		6

#ifndef PR_SET_VMA
#define PR_SET_VMA		0x53564d41
#define PR_SET_VMA_ANON_NAME	0
#endif

#define NWORKERS	3
#define TARGET_COMM	"pss-tool-target"

/* fixed fd numbers of the target */
enum {
	FD_FILE = 20,		/* regular file, O_RDWR, pos 5 */
	FD_PIPE_R = 21,
	FD_PIPE_W = 22,
	FD_EVENTFD = 23,	/* EFD_CLOEXEC */
	FD_EPOLL = 24,
	FD_UNIX_A = 25,		/* socketpair(AF_UNIX, SOCK_STREAM) */
	FD_UNIX_B = 26,
	FD_TCP = 27,		/* AF_INET listener */
	FD_MEMFD = 28,
	FD_NULL = 29,		/* /dev/null O_WRONLY|O_NONBLOCK */
	FD_DIR = 30,		/* /tmp O_DIRECTORY */
	FD_DELETED = 31,	/* an unlinked regular file */
	FD_REPORT = 63,		/* to the parent; closed once reported */
};

#define NFDS		(3 + 12)	/* 0, 1, 2 and the above */
#define RESERVE_PAGES	16
#define ANON_OFF	1		/* pages into the reservation */
#define ANON_PAGES	4
#define FILE_OFF	6
#define FILE_CONTENT	"hello world\n"
#define FILE_POS	5

struct target_report {
	pid_t pid;
	pid_t tids[1 + NWORKERS];
	unsigned long base;	/* the PROT_NONE reservation */
	unsigned long page;
	int anon_named;		/* PR_SET_VMA_ANON_NAME worked */
	ino_t file_ino, deleted_ino, memfd_ino;
	char file_path[128];
	char deleted_path[128];
};

static pthread_barrier_t workers_ready;
static pid_t worker_tids[NWORKERS];

static void *worker(void *arg)
{
	long i = (long)arg;
	char name[32];

	snprintf(name, sizeof(name), "pss-worker-%ld", i + 1);
	prctl(PR_SET_NAME, name);
	worker_tids[i] = (pid_t)syscall(SYS_gettid);
	pthread_barrier_wait(&workers_ready);
	for (;;)
		pause();
	return NULL;
}

static void must(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "target: %s: %s\n", what, strerror(errno));
		_exit(99);
	}
}

static void place(int fd, int want)
{
	must(fd >= 0, "create fd");
	if (fd != want) {
		must(dup3(fd, want, 0) == want, "dup3");
		close(fd);
	}
}

/*
 * The known state. report_fd < 0: print "ready PID" on stdout (demo) and
 * keep stdio; otherwise stdio goes to /dev/null and a struct target_report
 * goes to report_fd. Never returns.
 */
static void __attribute__((noreturn)) target_main(int report_fd)
{
	struct target_report rep;
	struct sockaddr_in sin;
	struct stat st;
	pthread_t th;
	int fds[2], fd, i;
	long page = sysconf(_SC_PAGESIZE);
	char *base;

	memset(&rep, 0, sizeof(rep));
	prctl(PR_SET_NAME, TARGET_COMM);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (report_fd >= 0) {
		must(dup2(report_fd, FD_REPORT) == FD_REPORT, "dup2 report");
		fd = open("/dev/null", O_RDWR);
		must(fd >= 0, "open /dev/null");
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	for (i = 3; i < 1024; i++)
		if (i != FD_REPORT)
			close(i);

	rep.pid = getpid();
	snprintf(rep.file_path, sizeof(rep.file_path), "/tmp/pss_tool_file.%d", rep.pid);
	snprintf(rep.deleted_path, sizeof(rep.deleted_path), "/tmp/pss_tool_deleted.%d",
		 rep.pid);

	fd = open(rep.file_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	place(fd, FD_FILE);
	must(write(FD_FILE, FILE_CONTENT, strlen(FILE_CONTENT)) ==
	     (ssize_t)strlen(FILE_CONTENT), "write");
	must(lseek(FD_FILE, FILE_POS, SEEK_SET) == FILE_POS, "lseek");
	must(fstat(FD_FILE, &st) == 0, "fstat");
	rep.file_ino = st.st_ino;

	must(pipe(fds) == 0, "pipe");
	place(fds[0], FD_PIPE_R);
	place(fds[1], FD_PIPE_W);
	place(eventfd(0, EFD_CLOEXEC), FD_EVENTFD);
	/* dup3 drops O_CLOEXEC: set it again */
	must(fcntl(FD_EVENTFD, F_SETFD, FD_CLOEXEC) == 0, "F_SETFD");
	place(epoll_create1(0), FD_EPOLL);
	must(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0, "socketpair");
	place(fds[0], FD_UNIX_A);
	place(fds[1], FD_UNIX_B);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	must(fd >= 0, "socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	must(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0, "bind");
	must(listen(fd, 4) == 0, "listen");
	place(fd, FD_TCP);
	place((int)syscall(SYS_memfd_create, "pss-tool-memfd", 0), FD_MEMFD);
	must(fstat(FD_MEMFD, &st) == 0, "fstat memfd");
	rep.memfd_ino = st.st_ino;
	place(open("/dev/null", O_WRONLY | O_NONBLOCK), FD_NULL);
	place(open("/tmp", O_RDONLY | O_DIRECTORY), FD_DIR);
	place(open(rep.deleted_path, O_RDWR | O_CREAT | O_TRUNC, 0600), FD_DELETED);
	must(fstat(FD_DELETED, &st) == 0, "fstat deleted");
	rep.deleted_ino = st.st_ino;
	must(unlink(rep.deleted_path) == 0, "unlink");

	/* PROT_NONE | anon rw (named) | PROT_NONE | file r shared | PROT_NONE */
	base = mmap(NULL, RESERVE_PAGES * page, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	must(base != MAP_FAILED, "mmap reserve");
	must(mmap(base + ANON_OFF * page, ANON_PAGES * page, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED,
	     "mmap anon");
	memset(base + ANON_OFF * page, 0x5a, ANON_PAGES * page);
	rep.anon_named = prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME,
			       (unsigned long)(base + ANON_OFF * page),
			       ANON_PAGES * page, "pss-tool-anon") == 0;
	must(mmap(base + FILE_OFF * page, page, PROT_READ, MAP_SHARED | MAP_FIXED,
		  FD_FILE, 0) != MAP_FAILED, "mmap file");
	rep.base = (unsigned long)base;
	rep.page = page;

	pthread_barrier_init(&workers_ready, NULL, NWORKERS + 1);
	for (i = 0; i < NWORKERS; i++)
		must(pthread_create(&th, NULL, worker, (void *)(long)i) == 0,
		     "pthread_create");
	pthread_barrier_wait(&workers_ready);
	rep.tids[0] = rep.pid;
	for (i = 0; i < NWORKERS; i++)
		rep.tids[1 + i] = worker_tids[i];

	if (report_fd >= 0) {
		must(write(FD_REPORT, &rep, sizeof(rep)) == sizeof(rep), "report");
		close(FD_REPORT);
	} else {
		printf("ready %d\n", rep.pid);
		fflush(stdout);
		unlink(rep.file_path);	/* the demo shows it as deleted too */
	}
	for (;;)
		pause();
}

/* ------------------------------------------------------------ running pss */

static const char *pss_bin(void)
{
	const char *b = getenv("PSS_BIN");

	return b && *b ? b : "/bin/pss";
}

struct run {
	int status;		/* exit code, or 128 + signal */
	char *out, *err;
	size_t outlen, errlen;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	if (!*buf)
		abort();
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

enum { AS_ROOT, AS_NOBODY, NO_DEV_PSS, DEV_PSS_IS_NULL };

/*
 * Run pss with argv (argv[0] is replaced by the binary); how: AS_ROOT, or
 * AS_NOBODY (uid/gid 65534), or in a private mount namespace where /dev/pss
 * is missing (NO_DEV_PSS) or is /dev/null (DEV_PSS_IS_NULL). Returns 0, or
 * -1 if the child could not be set up that way (r->status is then 200+).
 */
static int run_pss_how(int how, struct run *r, const char *const *argv)
{
	int out[2], err[2];
	struct pollfd pfd[2];
	char buf[4096];
	pid_t pid;
	int st, open_fds = 2;

	memset(r, 0, sizeof(*r));
	append(&r->out, &r->outlen, "", 0);
	append(&r->err, &r->errlen, "", 0);
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (how == AS_NOBODY) {
			if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
				_exit(201);
		} else if (how == NO_DEV_PSS || how == DEV_PSS_IS_NULL) {
			if (unshare(CLONE_NEWNS) ||
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
				_exit(202);
			if (how == NO_DEV_PSS &&
			    mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755"))
				_exit(203);
			if (how == DEV_PSS_IS_NULL &&
			    mount("/dev/null", "/dev/pss", NULL, MS_BIND, NULL))
				_exit(204);
		}
		execv(pss_bin(), (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	pfd[0].fd = out[0];
	pfd[1].fd = err[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (open_fds) {
		int i;

		if (poll(pfd, 2, 30000) <= 0)
			break;
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0)
				append(&r->out, &r->outlen, buf, n);
			else
				append(&r->err, &r->errlen, buf, n);
		}
	}
	if (pfd[0].fd >= 0)
		close(pfd[0].fd);
	if (pfd[1].fd >= 0)
		close(pfd[1].fd);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return r->status >= 200 ? -1 : 0;
}

static int run_pss(struct run *r, const char *const *argv)
{
	return run_pss_how(AS_ROOT, r, argv);
}

#define ARGV(...) ((const char *const[]){ "pss", __VA_ARGS__, NULL })

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* ------------------------------------------------------------ raw tables */

#define MAXF 32

struct row {
	int n;
	char *f[MAXF];
};

/* undo libsmartcols raw escaping (\xHH) in place */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
		    isxdigit((unsigned char)s[3])) {
			char h[3] = { s[2], s[3], 0 };

			*d++ = (char)strtol(h, NULL, 16);
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

/* Split raw output (-r -n) into rows of fields; modifies text. */
static int parse_raw(char *text, struct row *rows, int max)
{
	int n = 0;
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = line, *f;

		rows[n].n = 0;
		while ((f = strsep(&p, " ")) && rows[n].n < MAXF) {
			unescape(f);
			rows[n].f[rows[n].n++] = f;
		}
		n++;
	}
	return n;
}

/* ------------------------------------------------------------ JSON */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jnode {
	enum jtype t;
	bool b;
	char *s;		/* J_STR: value; J_NUM: the number's text */
	size_t n;		/* J_ARR, J_OBJ: members */
	struct jnode **v;
	char **k;		/* J_OBJ: keys */
};

struct jp {
	const char *p;
	const char *err;
};

static void jskip(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
		j->p++;
}

static struct jnode *jnew(enum jtype t)
{
	struct jnode *n = calloc(1, sizeof(*n));

	if (!n)
		abort();
	n->t = t;
	return n;
}

static char *jstring(struct jp *j)
{
	size_t cap = 16, len = 0;
	char *s = malloc(cap);

	if (*j->p != '"') {
		j->err = "expected string";
		free(s);
		return NULL;
	}
	j->p++;
	while (*j->p && *j->p != '"') {
		char c = *j->p++;

		if ((unsigned char)c < 0x20) {
			j->err = "control character in string";
			free(s);
			return NULL;
		}
		if (c == '\\') {
			c = *j->p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case '"': case '\\': case '/': break;
			case 'u': {
				char h[5] = { 0 };

				memcpy(h, j->p, 4);
				if (strlen(h) != 4) {
					j->err = "bad \\u escape";
					free(s);
					return NULL;
				}
				c = (char)strtol(h, NULL, 16);
				j->p += 4;
				break;
			}
			default:
				j->err = "bad escape";
				free(s);
				return NULL;
			}
		}
		if (len + 2 > cap)
			s = realloc(s, cap *= 2);
		s[len++] = c;
	}
	if (*j->p != '"') {
		j->err = "unterminated string";
		free(s);
		return NULL;
	}
	j->p++;
	s[len] = '\0';
	return s;
}

static struct jnode *jvalue(struct jp *j);

static struct jnode *jcontainer(struct jp *j, bool obj)
{
	struct jnode *n = jnew(obj ? J_OBJ : J_ARR);
	char close = obj ? '}' : ']';

	j->p++;
	jskip(j);
	if (*j->p == close) {
		j->p++;
		return n;
	}
	for (;;) {
		char *key = NULL;
		struct jnode *v;

		jskip(j);
		if (obj) {
			key = jstring(j);
			if (!key)
				return NULL;
			jskip(j);
			if (*j->p != ':') {
				j->err = "expected ':'";
				return NULL;
			}
			j->p++;
		}
		v = jvalue(j);
		if (!v)
			return NULL;
		n->v = realloc(n->v, (n->n + 1) * sizeof(*n->v));
		n->k = realloc(n->k, (n->n + 1) * sizeof(*n->k));
		n->v[n->n] = v;
		n->k[n->n] = key;
		n->n++;
		jskip(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p == close) {
			j->p++;
			return n;
		}
		j->err = obj ? "expected ',' or '}'" : "expected ',' or ']'";
		return NULL;
	}
}

static struct jnode *jvalue(struct jp *j)
{
	struct jnode *n;

	jskip(j);
	switch (*j->p) {
	case '{':
		return jcontainer(j, true);
	case '[':
		return jcontainer(j, false);
	case '"':
		n = jnew(J_STR);
		n->s = jstring(j);
		return n->s ? n : NULL;
	case 't':
	case 'f':
	case 'n':
		if (!strncmp(j->p, "true", 4)) {
			n = jnew(J_BOOL);
			n->b = true;
			j->p += 4;
		} else if (!strncmp(j->p, "false", 5)) {
			n = jnew(J_BOOL);
			j->p += 5;
		} else if (!strncmp(j->p, "null", 4)) {
			n = jnew(J_NULL);
			j->p += 4;
		} else {
			j->err = "bad literal";
			return NULL;
		}
		return n;
	default: {
		const char *s = j->p;

		if (*s == '-')
			j->p++;
		if (!isdigit((unsigned char)*j->p)) {
			j->err = "unexpected character";
			return NULL;
		}
		while (isdigit((unsigned char)*j->p) || *j->p == '.' || *j->p == 'e' ||
		       *j->p == 'E' || *j->p == '+' || *j->p == '-')
			j->p++;
		n = jnew(J_NUM);
		n->s = strndup(s, j->p - s);
		return n;
	}
	}
}

/* Parse a whole document; NULL (and *err) if it is not exactly one value. */
static struct jnode *jparse(const char *text, const char **err)
{
	struct jp j = { .p = text, .err = NULL };
	struct jnode *n = jvalue(&j);

	if (n) {
		jskip(&j);
		if (*j.p) {
			j.err = "trailing garbage";
			n = NULL;
		}
	}
	*err = j.err;
	return n;
}

static void jfree(struct jnode *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++) {
		jfree(n->v[i]);
		if (n->k)
			free(n->k[i]);
	}
	free(n->v);
	free(n->k);
	free(n->s);
	free(n);
}

static struct jnode *jget(const struct jnode *o, const char *key)
{
	size_t i;

	if (!o || o->t != J_OBJ)
		return NULL;
	for (i = 0; i < o->n; i++)
		if (!strcmp(o->k[i], key))
			return o->v[i];
	return NULL;
}

static long long jint(const struct jnode *o, const char *key)
{
	const struct jnode *n = jget(o, key);

	return n && n->t == J_NUM ? strtoll(n->s, NULL, 10) : LLONG_MIN;
}

static unsigned long long jhex(const struct jnode *o, const char *key)
{
	const struct jnode *n = jget(o, key);

	return n && n->t == J_STR ? strtoull(n->s, NULL, 0) : ~0ULL;
}

static const char *jstr(const struct jnode *o, const char *key)
{
	const struct jnode *n = jget(o, key);

	return n && n->t == J_STR ? n->s : NULL;
}

/* A JSON value as text, for comparing a table cell with a snapshot field. */
static const char *jtext(const struct jnode *n)
{
	if (!n)
		return "<missing>";
	switch (n->t) {
	case J_NULL: return "";
	case J_BOOL: return n->b ? "1" : "0";
	case J_NUM:
	case J_STR: return n->s;
	default: return "<container>";
	}
}

static bool jflag(const struct jnode *o, const char *key, const char *flag)
{
	const struct jnode *a = jget(o, key);
	size_t i;

	if (!a || a->t != J_ARR)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->v[i]->t == J_STR && !strcmp(a->v[i]->s, flag))
			return true;
	return false;
}

/* the element of array a whose member key has integer value v */
static struct jnode *jfind(const struct jnode *a, const char *key, long long v)
{
	size_t i;

	if (!a || a->t != J_ARR)
		return NULL;
	for (i = 0; i < a->n; i++)
		if (jint(a->v[i], key) == v)
			return a->v[i];
	return NULL;
}

/* ------------------------------------------------------------ /proc */

static int proc_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* pss is installed; fail loudly if it cannot even start (missing libraries) */
static bool pss_runs(struct __test_metadata *_metadata)
{
	struct run r;
	bool ok;

	if (run_pss(&r, ARGV("--version")))
		return false;
	ok = r.status == 0;
	if (!ok)
		TH_LOG("%s --version exited %d (its shared libraries missing from the initramfs?): %s",
		       pss_bin(), r.status, r.err);
	run_free(&r);
	return ok;
}

/* ------------------------------------------------------------ fixture */

FIXTURE(target) {
	struct target_report t;
	char pid[16];
};

FIXTURE_SETUP(target)
{
	int p[2];
	pid_t pid;

	if (access(pss_bin(), X_OK))
		SKIP(return, "%s not installed", pss_bin());
	ASSERT_TRUE(pss_runs(_metadata));
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(p[0]);
		target_main(p[1]);
	}
	close(p[1]);
	ASSERT_EQ(sizeof(self->t), read(p[0], &self->t, sizeof(self->t)))
		TH_LOG("the target did not start");
	close(p[0]);
	ASSERT_EQ(pid, self->t.pid);
	snprintf(self->pid, sizeof(self->pid), "%d", pid);
}

FIXTURE_TEARDOWN(target)
{
	if (self->t.pid > 0) {
		kill(self->t.pid, SIGKILL);
		waitpid(self->t.pid, NULL, 0);
		unlink(self->t.file_path);
	}
}

/* ------------------------------------------------------------ tables */

TEST_F(target, show_raw)
{
	struct row rows[4];
	struct run r;
	char exe[256];
	ssize_t n;

	ASSERT_EQ(0, run_pss(&r, ARGV("show", self->pid, "-r", "-n", "-o",
				      "PID,PPID,PGID,COMM,STATE,THREADS,FDS,EUID,EGID,FLAGS,EXE")));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	ASSERT_EQ(1, parse_raw(r.out, rows, 4));
	ASSERT_EQ(11, rows[0].n);
	EXPECT_EQ(self->t.pid, atoi(rows[0].f[0]));
	EXPECT_EQ(getpid(), atoi(rows[0].f[1]));
	EXPECT_EQ(getpgrp(), atoi(rows[0].f[2]));
	EXPECT_STREQ(TARGET_COMM, rows[0].f[3]);
	EXPECT_STREQ("S", rows[0].f[4]);
	EXPECT_EQ(1 + NWORKERS, atoi(rows[0].f[5]));
	EXPECT_EQ(NFDS, atoi(rows[0].f[6]));
	EXPECT_EQ(geteuid(), (uid_t)atoi(rows[0].f[7]));
	EXPECT_EQ(getegid(), (gid_t)atoi(rows[0].f[8]));
	EXPECT_STREQ("", rows[0].f[9]);		/* not self, not stopped */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_GT(n, 0);
	exe[n] = '\0';
	EXPECT_STREQ(exe, rows[0].f[10]);	/* the target is a fork of us */
	EXPECT_EQ(0, (int)r.errlen);
	run_free(&r);
}

TEST_F(target, show_default_table)
{
	struct run r;

	ASSERT_EQ(0, run_pss(&r, ARGV("show", self->pid)));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	EXPECT_EQ(2, count_lines(r.out));	/* heading + one row */
	EXPECT_NE(NULL, strstr(r.out, "PID"));
	EXPECT_NE(NULL, strstr(r.out, TARGET_COMM));
	run_free(&r);
	ASSERT_EQ(0, run_pss(&r, ARGV("show", "-n", self->pid)));
	EXPECT_EQ(1, count_lines(r.out));
	run_free(&r);
}

TEST_F(target, show_pidfd)
{
	struct row rows[2];
	struct run r;

	ASSERT_EQ(0, run_pss(&r, ARGV("show", "--pidfd", self->pid, "-rn", "-o", "PID,COMM")));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	ASSERT_EQ(1, parse_raw(r.out, rows, 2));
	EXPECT_EQ(self->t.pid, atoi(rows[0].f[0]));
	EXPECT_STREQ(TARGET_COMM, rows[0].f[1]);
	run_free(&r);
}

TEST_F(target, threads_raw_vs_known_and_proc)
{
	struct row rows[16];
	struct run r;
	int n, i, k, seen = 0;

	ASSERT_EQ(0, run_pss(&r, ARGV("threads", self->pid, "-r", "-n", "-o",
				      "TID,COMM,STATE,FLAGS,NI,POLICY")));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	n = parse_raw(r.out, rows, 16);
	ASSERT_EQ(1 + NWORKERS, n);
	for (i = 0; i < n; i++) {
		pid_t tid = atoi(rows[i].f[0]);
		char comm[32], want[32];

		ASSERT_EQ(6, rows[i].n);
		for (k = 0; k < 1 + NWORKERS; k++)
			if (self->t.tids[k] == tid)
				break;
		ASSERT_LT(k, 1 + NWORKERS) TH_LOG("unknown tid %d", tid);
		seen |= 1 << k;
		if (k == 0)
			snprintf(want, sizeof(want), "%s", TARGET_COMM);
		else
			snprintf(want, sizeof(want), "pss-worker-%d", k);
		EXPECT_STREQ(want, rows[i].f[1]);
		ASSERT_EQ(0, proc_comm(self->t.pid, tid, comm, sizeof(comm)));
		EXPECT_STREQ(comm, rows[i].f[1]);
		EXPECT_STREQ("S", rows[i].f[2]);
		EXPECT_EQ(k == 0, strstr(rows[i].f[3], "leader") != NULL);
		EXPECT_EQ(NULL, strstr(rows[i].f[3], "caller"));
		EXPECT_STREQ("0", rows[i].f[4]);
		EXPECT_STREQ("other", rows[i].f[5]);
	}
	EXPECT_EQ((1 << (1 + NWORKERS)) - 1, seen);
	run_free(&r);
}

struct fd_expect {
	int fd;
	const char *type;
	const char *mode;
	bool cloexec;
	const char *detail_prefix;	/* NULL: empty */
};

static const struct fd_expect fd_expects[] = {
	{ FD_FILE, "regular", "rw", false, NULL },
	{ FD_PIPE_R, "pipe", "r", false, "size=" },
	{ FD_PIPE_W, "pipe", "w", false, "size=" },
	{ FD_EVENTFD, "eventfd", "rw", true, NULL },
	{ FD_EPOLL, "epoll", "rw", false, NULL },
	{ FD_UNIX_A, "socket", "rw", false, "unix stream" },
	{ FD_UNIX_B, "socket", "rw", false, "unix stream" },
	{ FD_TCP, "socket", "rw", false, "inet stream tcp listen" },
	{ FD_MEMFD, "memfd", "rw", false, NULL },
	{ FD_NULL, "chr", "w", false, NULL },
	{ FD_DIR, "dir", "r", false, NULL },
	{ FD_DELETED, "regular", "rw", false, NULL },
};

static const struct fd_expect *fd_expect(int fd)
{
	size_t i;

	for (i = 0; i < sizeof(fd_expects) / sizeof(fd_expects[0]); i++)
		if (fd_expects[i].fd == fd)
			return &fd_expects[i];
	return NULL;
}

TEST_F(target, fds_raw_vs_known_and_proc)
{
	struct row rows[64];
	struct run r;
	int n, i, known = 0;

	ASSERT_EQ(0, run_pss(&r, ARGV("fds", self->pid, "-r", "-n", "-b", "-o",
				      "FD,TYPE,MODE,FLAGS,POS,INODE,DELETED,DETAIL,NAME,SIZE")));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	n = parse_raw(r.out, rows, 64);
	ASSERT_EQ(NFDS, n);
	for (i = 0; i < n; i++) {
		int fd = atoi(rows[i].f[0]);
		const struct fd_expect *e = fd_expect(fd);
		char path[64], link[512];
		ssize_t len;
		struct stat st;

		ASSERT_EQ(10, rows[i].n);
		/* against /proc/PID/fd: same set, same names, same inodes */
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", self->t.pid, fd);
		len = readlink(path, link, sizeof(link) - 1);
		ASSERT_GT(len, 0) TH_LOG("fd %d not in /proc", fd);
		link[len] = '\0';
		EXPECT_STREQ(link, rows[i].f[8]) TH_LOG("fd %d name", fd);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_EQ((unsigned long long)st.st_ino, strtoull(rows[i].f[5], NULL, 10))
			TH_LOG("fd %d inode", fd);
		if (fd <= 2) {
			EXPECT_STREQ("chr", rows[i].f[1]);	/* /dev/null */
			continue;
		}
		ASSERT_NE(NULL, e) TH_LOG("unexpected fd %d", fd);
		known++;
		EXPECT_STREQ(e->type, rows[i].f[1]) TH_LOG("fd %d type", fd);
		EXPECT_STREQ(e->mode, rows[i].f[2]) TH_LOG("fd %d mode", fd);
		EXPECT_EQ(e->cloexec, strstr(rows[i].f[3], "cloexec") != NULL)
			TH_LOG("fd %d flags %s", fd, rows[i].f[3]);
		if (e->detail_prefix) {
			EXPECT_EQ(0, strncmp(rows[i].f[7], e->detail_prefix,
					     strlen(e->detail_prefix)))
				TH_LOG("fd %d detail '%s'", fd, rows[i].f[7]);
		} else {
			EXPECT_STREQ("", rows[i].f[7]) TH_LOG("fd %d detail", fd);
		}
		EXPECT_STREQ(fd == FD_DELETED ? "1" : "0", rows[i].f[6])
			TH_LOG("fd %d deleted", fd);
		switch (fd) {
		case FD_FILE:
			EXPECT_STREQ(self->t.file_path, rows[i].f[8]);
			EXPECT_EQ(FILE_POS, atoi(rows[i].f[4]));
			EXPECT_EQ((long long)strlen(FILE_CONTENT), atoll(rows[i].f[9]));
			EXPECT_EQ((unsigned long long)self->t.file_ino,
				  strtoull(rows[i].f[5], NULL, 10));
			EXPECT_NE(NULL, strstr(rows[i].f[3], "rdwr"));
			break;
		case FD_DELETED:
			EXPECT_EQ((unsigned long long)self->t.deleted_ino,
				  strtoull(rows[i].f[5], NULL, 10));
			EXPECT_NE(NULL, strstr(rows[i].f[8], "(deleted)"));
			break;
		case FD_NULL:
			EXPECT_STREQ("/dev/null", rows[i].f[8]);
			EXPECT_NE(NULL, strstr(rows[i].f[3], "nonblock"));
			EXPECT_NE(NULL, strstr(rows[i].f[3], "wronly"));
			break;
		case FD_DIR:
			EXPECT_STREQ("/tmp", rows[i].f[8]);
			break;
		case FD_PIPE_R:
		case FD_PIPE_W:
			EXPECT_NE(NULL, strstr(rows[i].f[7], "readers=1 writers=1"))
				TH_LOG("%s", rows[i].f[7]);
			break;
		case FD_UNIX_A:
		case FD_UNIX_B:
			EXPECT_NE(NULL, strstr(rows[i].f[7], "established"))
				TH_LOG("%s", rows[i].f[7]);
			break;
		case FD_MEMFD:
			EXPECT_EQ((unsigned long long)self->t.memfd_ino,
				  strtoull(rows[i].f[5], NULL, 10));
			break;
		}
	}
	EXPECT_EQ(NFDS - 3, known);
	run_free(&r);
}

/* One /proc/PID/maps line: start-end perms offset dev inode name */
struct pmap {
	unsigned long start, end, off, ino;
	char perms[8], name[512];
};

static int read_proc_maps(pid_t pid, struct pmap *m, int max)
{
	char path[64], line[1024];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		int pos = 0;
		char *name;

		m[n].name[0] = '\0';
		if (sscanf(line, "%lx-%lx %7s %lx %*s %lu %n", &m[n].start, &m[n].end,
			   m[n].perms, &m[n].off, &m[n].ino, &pos) < 5)
			continue;
		name = line + pos;
		name[strcspn(name, "\n")] = '\0';
		snprintf(m[n].name, sizeof(m[n].name), "%s", name);
		if (!strcmp(m[n].name, "[vsyscall]"))
			continue;	/* the gate area: not a VMA of the mm */
		n++;
	}
	fclose(f);
	return n;
}

TEST_F(target, maps_raw_vs_known_and_proc)
{
	static struct pmap pm[256];
	static struct row rows[256];
	unsigned long b = self->t.base, pg = self->t.page;
	struct run r;
	int n, np, i, found = 0;

	ASSERT_EQ(0, run_pss(&r, ARGV("maps", self->pid, "-r", "-n", "-b", "-o",
				      "START,END,PERMS,OFFSET,INODE,NAME,SIZE,KIND")));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	np = read_proc_maps(self->t.pid, pm, 256);
	n = parse_raw(r.out, rows, 256);
	/* the gate area, if a kernel reported it, is not a VMA of the mm */
	if (n > 0 && rows[n - 1].n > 5 && !strcmp(rows[n - 1].f[5], "[vsyscall]"))
		n--;
	ASSERT_GT(n, 5);
	ASSERT_EQ(np, n) TH_LOG("pss shows %d mappings, /proc %d", n, np);
	for (i = 0; i < n; i++) {
		unsigned long s = strtoul(rows[i].f[0], NULL, 16);
		unsigned long e = strtoul(rows[i].f[1], NULL, 16);

		ASSERT_EQ(8, rows[i].n);
		EXPECT_EQ(pm[i].start, s) TH_LOG("map %d start", i);
		EXPECT_EQ(pm[i].end, e) TH_LOG("map %d end", i);
		EXPECT_STREQ(pm[i].perms, rows[i].f[2]) TH_LOG("map %d %lx perms", i, s);
		EXPECT_EQ(pm[i].off, strtoul(rows[i].f[3], NULL, 16)) TH_LOG("map %d off", i);
		EXPECT_EQ(pm[i].ino, strtoul(rows[i].f[4], NULL, 10)) TH_LOG("map %d ino", i);
		EXPECT_STREQ(pm[i].name, rows[i].f[5]) TH_LOG("map %d %lx name", i, s);
		EXPECT_EQ(e - s, strtoul(rows[i].f[6], NULL, 10));

		if (s == b) {
			EXPECT_EQ(b + ANON_OFF * pg, e);
			EXPECT_STREQ("---p", rows[i].f[2]);
			found++;
		} else if (s == b + ANON_OFF * pg) {
			EXPECT_EQ(s + ANON_PAGES * pg, e);
			EXPECT_STREQ("rw-p", rows[i].f[2]);
			if (self->t.anon_named) {
				EXPECT_STREQ("[anon:pss-tool-anon]", rows[i].f[5]);
				EXPECT_STREQ("anon", rows[i].f[7]);
			}
			found++;
		} else if (s == b + FILE_OFF * pg) {
			EXPECT_EQ(s + pg, e);
			EXPECT_STREQ("r--s", rows[i].f[2]);
			EXPECT_STREQ(self->t.file_path, rows[i].f[5]);
			EXPECT_STREQ("file", rows[i].f[7]);
			EXPECT_EQ((unsigned long)self->t.file_ino,
				  strtoul(rows[i].f[4], NULL, 10));
			found++;
		} else if (!strcmp(rows[i].f[5], "[stack]")) {
			EXPECT_STREQ("stack", rows[i].f[7]);
		} else if (!strcmp(rows[i].f[5], "[heap]")) {
			EXPECT_STREQ("heap", rows[i].f[7]);
		}
	}
	EXPECT_EQ(3, found);
	run_free(&r);
}

/* ------------------------------------------------------------ JSON */

static struct jnode *run_json(struct __test_metadata *_metadata,
			      const char *const *argv)
{
	const char *err = NULL;
	struct jnode *doc;
	struct run r;

	if (run_pss(&r, argv) || r.status != PSS_EXIT_OK) {
		TH_LOG("pss %s ... exited %d: %s", argv[1], r.status, r.err);
		run_free(&r);
		return NULL;
	}
	doc = jparse(r.out, &err);
	if (!doc)
		TH_LOG("pss %s: invalid JSON (%s): %.300s", argv[1], err, r.out);
	run_free(&r);
	return doc;
}

TEST_F(target, snapshot_json)
{
	struct jnode *doc, *snap, *proc, *th, *fds, *maps, *perf, *e, *sock;
	unsigned long b = self->t.base, pg = self->t.page;
	size_t i;

	doc = run_json(_metadata, ARGV("snapshot", "--json", self->pid));
	ASSERT_NE(NULL, doc);
	ASSERT_EQ(J_OBJ, doc->t);
	EXPECT_EQ(1, jint(doc, "pss_json_version"));
	snap = jget(doc, "snapshot");
	proc = jget(doc, "process");
	th = jget(doc, "threads");
	fds = jget(doc, "fds");
	maps = jget(doc, "maps");
	perf = jget(doc, "performance");
	ASSERT_NE(NULL, snap);
	ASSERT_NE(NULL, proc);
	ASSERT_NE(NULL, th);
	ASSERT_NE(NULL, fds);
	ASSERT_NE(NULL, maps);
	ASSERT_NE(NULL, perf);
	ASSERT_EQ(J_ARR, th->t);
	ASSERT_EQ(J_ARR, fds->t);
	ASSERT_EQ(J_ARR, maps->t);

	/* snapshot */
	EXPECT_EQ(1, jint(snap, "abi_version"));
	EXPECT_EQ((long long)th->n, jint(snap, "nr_threads"));
	EXPECT_EQ((long long)fds->n, jint(snap, "nr_fds"));
	EXPECT_EQ((long long)maps->n, jint(snap, "nr_maps"));
	EXPECT_GT(jint(snap, "cut_monotonic_ns"), 0);
	EXPECT_TRUE(jflag(snap, "facets", "threads"));

	/* process */
	EXPECT_EQ(self->t.pid, jint(proc, "pid"));
	EXPECT_EQ(getpid(), jint(proc, "ppid"));
	EXPECT_EQ(getpgrp(), jint(proc, "pgid"));
	EXPECT_EQ(getsid(0), jint(proc, "sid"));
	EXPECT_EQ(getuid(), jint(proc, "ruid"));
	EXPECT_EQ(getegid(), jint(proc, "egid"));
	EXPECT_STREQ(TARGET_COMM, jstr(proc, "comm"));
	EXPECT_STREQ("S", jstr(proc, "state"));
	EXPECT_STREQ("sleeping", jstr(proc, "state_name"));
	EXPECT_EQ(1 + NWORKERS, jint(proc, "nr_threads"));
	EXPECT_FALSE(jflag(proc, "flags", "self"));
	EXPECT_NE(NULL, jstr(proc, "exe"));
	EXPECT_GT(jint(proc, "vsize_bytes"), 0);
	/* rss counters are the kernel's per-cpu approximations: present, not exact */
	EXPECT_GE(jint(proc, "rss_anon_bytes"), 0);
	EXPECT_GE(jint(proc, "hiwater_rss_bytes"), jint(proc, "rss_file_bytes"));
	EXPECT_EQ(jint(proc, "rss_bytes"), jint(proc, "rss_anon_bytes") +
		  jint(proc, "rss_file_bytes") + jint(proc, "rss_shmem_bytes"));
	EXPECT_EQ(0, jint(proc, "nice"));
	EXPECT_STREQ("other", jstr(proc, "policy"));
	EXPECT_GE(jint(proc, "nr_cpus_allowed"), 1);
	EXPECT_EQ(J_NULL, jget(proc, "exit_code") ? jget(proc, "exit_code")->t : J_OBJ);

	/* threads */
	ASSERT_EQ(1 + NWORKERS, (int)th->n);
	for (i = 0; i < 1 + NWORKERS; i++) {
		char want[32];

		e = jfind(th, "tid", self->t.tids[i]);
		ASSERT_NE(NULL, e) TH_LOG("tid %d missing", self->t.tids[i]);
		if (i == 0)
			snprintf(want, sizeof(want), "%s", TARGET_COMM);
		else
			snprintf(want, sizeof(want), "pss-worker-%zu", i);
		EXPECT_STREQ(want, jstr(e, "comm"));
		EXPECT_EQ(i == 0, jflag(e, "flags", "leader"));
		EXPECT_STREQ("S", jstr(e, "state"));
		EXPECT_NE(NULL, jstr(e, "cpus_allowed"));
		EXPECT_GE(jint(e, "cpu"), 0);
	}

	/* fds */
	ASSERT_EQ(NFDS, (int)fds->n);
	for (i = 0; i < sizeof(fd_expects) / sizeof(fd_expects[0]); i++) {
		const struct fd_expect *x = &fd_expects[i];

		e = jfind(fds, "fd", x->fd);
		ASSERT_NE(NULL, e) TH_LOG("fd %d missing", x->fd);
		EXPECT_STREQ(x->type, jstr(e, "type")) TH_LOG("fd %d", x->fd);
		EXPECT_STREQ(x->mode, jstr(e, "mode")) TH_LOG("fd %d", x->fd);
		EXPECT_EQ(x->cloexec, jget(e, "cloexec") && jget(e, "cloexec")->b);
		EXPECT_EQ(x->fd == FD_DELETED, jget(e, "deleted") && jget(e, "deleted")->b);
		sock = jget(e, "socket");
		ASSERT_NE(NULL, sock);
		if (!strcmp(x->type, "socket")) {
			ASSERT_EQ(J_OBJ, sock->t) TH_LOG("fd %d socket detail", x->fd);
			EXPECT_STREQ(x->fd == FD_TCP ? "inet" : "unix", jstr(sock, "family"));
			EXPECT_STREQ("stream", jstr(sock, "type"));
			EXPECT_STREQ(x->fd == FD_TCP ? "listen" : "established",
				     jstr(sock, "state"));
			if (x->fd == FD_TCP)
				EXPECT_EQ(6, jint(sock, "protocol"));
		} else {
			EXPECT_EQ(J_NULL, sock->t);
		}
		if (!strcmp(x->type, "pipe")) {
			struct jnode *pp = jget(e, "pipe");

			ASSERT_NE(NULL, pp);
			ASSERT_EQ(J_OBJ, pp->t);
			EXPECT_EQ(1, jint(pp, "readers"));
			EXPECT_EQ(1, jint(pp, "writers"));
			EXPECT_GE(jint(pp, "buf_size"), 4096);
		}
	}
	e = jfind(fds, "fd", FD_FILE);
	EXPECT_STREQ(self->t.file_path, jstr(e, "path"));
	EXPECT_EQ(FILE_POS, jint(e, "pos"));
	EXPECT_EQ((long long)strlen(FILE_CONTENT), jint(e, "size"));
	EXPECT_EQ((long long)self->t.file_ino, jint(e, "ino"));
	EXPECT_EQ(O_RDWR, jint(e, "open_flags") & O_ACCMODE);
	e = jfind(fds, "fd", FD_NULL);
	EXPECT_STREQ("/dev/null", jstr(e, "path"));
	EXPECT_EQ(1, jint(e, "rdev_major"));
	EXPECT_EQ(3, jint(e, "rdev_minor"));
	EXPECT_TRUE((jint(e, "open_flags") & O_NONBLOCK) != 0);

	/* maps: address order, our three */
	{
		unsigned long long prev = 0;
		int found = 0;

		for (i = 0; i < maps->n; i++) {
			unsigned long long s = jhex(maps->v[i], "start");
			unsigned long long en = jhex(maps->v[i], "end");

			EXPECT_LT(prev, s + 1) TH_LOG("maps out of order at %zu", i);
			EXPECT_LT(s, en);
			EXPECT_EQ((long long)(en - s), jint(maps->v[i], "size"));
			prev = en;
			if (s == b + ANON_OFF * pg) {
				EXPECT_STREQ("rw-p", jstr(maps->v[i], "perms"));
				EXPECT_EQ(b + (ANON_OFF + ANON_PAGES) * pg, en);
				if (self->t.anon_named)
					EXPECT_STREQ("[anon:pss-tool-anon]",
						     jstr(maps->v[i], "name"));
				found++;
			} else if (s == b + FILE_OFF * pg) {
				EXPECT_STREQ("r--s", jstr(maps->v[i], "perms"));
				EXPECT_TRUE(jget(maps->v[i], "shared")->b);
				EXPECT_STREQ(self->t.file_path, jstr(maps->v[i], "name"));
				EXPECT_STREQ("file", jstr(maps->v[i], "kind"));
				EXPECT_EQ((long long)self->t.file_ino, jint(maps->v[i], "ino"));
				EXPECT_EQ(0, (long long)jhex(maps->v[i], "offset"));
				found++;
			} else if (s == b) {
				EXPECT_STREQ("---p", jstr(maps->v[i], "perms"));
				found++;
			}
		}
		EXPECT_EQ(3, found);
	}

	/* performance: an object (all members numbers), or null if the
	 * module does not measure
	 */
	if (perf->t == J_OBJ) {
		EXPECT_GE(jint(perf, "total_ns"), 0);
		EXPECT_NE(NULL, jget(perf, "lock_held"));
		EXPECT_GE(jint(jget(perf, "lock_held"), "mmap_lock_ns"), 0);
	} else {
		EXPECT_EQ(J_NULL, perf->t);
	}
	jfree(doc);
}

/*
 * Each view's -J output (smartcols JSON, every column, bytes) against the
 * snapshot document, field by field. The target is idle, so both captures
 * see the same state.
 */
TEST_F(target, views_json_vs_snapshot_json)
{
	struct jnode *doc, *v, *a, *e, *x;
	size_t i;

	doc = run_json(_metadata, ARGV("snapshot", "-J", self->pid));
	ASSERT_NE(NULL, doc);

	v = run_json(_metadata, ARGV("threads", "-J", "-b", "--output-all", self->pid));
	ASSERT_NE(NULL, v);
	a = jget(v, "threads");
	ASSERT_NE(NULL, a);
	ASSERT_EQ(jget(doc, "threads")->n, a->n);
	for (i = 0; i < a->n; i++) {
		e = a->v[i];
		x = jfind(jget(doc, "threads"), "tid", jint(e, "tid"));
		ASSERT_NE(NULL, x) TH_LOG("tid %lld", jint(e, "tid"));
		EXPECT_STREQ(jstr(x, "comm"), jstr(e, "comm"));
		EXPECT_STREQ(jstr(x, "state"), jstr(e, "state"));
		EXPECT_EQ(jint(x, "prio"), jint(e, "pri"));
		EXPECT_EQ(jint(x, "nice"), jint(e, "ni"));
		EXPECT_EQ(jint(x, "rt_priority"), jint(e, "rtprio"));
		EXPECT_STREQ(jstr(x, "policy"), jstr(e, "policy"));
		EXPECT_STREQ(jstr(x, "cpus_allowed"), jstr(e, "affinity"));
		EXPECT_EQ(jint(x, "start_boottime_ns") / 10000000,
			  (long long)(strtod(jtext(jget(e, "start")), NULL) * 100 + 0.5));
	}
	jfree(v);

	v = run_json(_metadata, ARGV("fds", "-J", "-b", "--output-all", self->pid));
	ASSERT_NE(NULL, v);
	a = jget(v, "fds");
	ASSERT_NE(NULL, a);
	ASSERT_EQ(jget(doc, "fds")->n, a->n);
	for (i = 0; i < a->n; i++) {
		e = a->v[i];
		x = jfind(jget(doc, "fds"), "fd", jint(e, "fd"));
		ASSERT_NE(NULL, x) TH_LOG("fd %lld", jint(e, "fd"));
		EXPECT_STREQ(jstr(x, "type"), jstr(e, "type"));
		EXPECT_STREQ(jstr(x, "mode"), jstr(e, "mode"));
		EXPECT_STREQ(jstr(x, "flags"), jstr(e, "flags"));
		EXPECT_EQ(jint(x, "pos"), jint(e, "pos"));
		EXPECT_EQ(jint(x, "ino"), jint(e, "inode"));
		EXPECT_EQ(jint(x, "size"), jint(e, "size"));
		EXPECT_EQ(jint(x, "open_flags"), strtoll(jtext(jget(e, "oflags")), NULL, 8));
		EXPECT_EQ(jint(x, "i_mode"), strtoll(jtext(jget(e, "imode")), NULL, 8));
		EXPECT_STREQ(jtext(jget(x, "path")), jtext(jget(e, "name")));
		EXPECT_STREQ(jtext(jget(x, "deleted")), jtext(jget(e, "deleted")));
	}
	jfree(v);

	v = run_json(_metadata, ARGV("maps", "-J", "-b", "--output-all", self->pid));
	ASSERT_NE(NULL, v);
	a = jget(v, "maps");
	ASSERT_NE(NULL, a);
	ASSERT_EQ(jget(doc, "maps")->n, a->n);
	for (i = 0; i < a->n; i++) {
		e = a->v[i];
		x = jget(doc, "maps")->v[i];
		EXPECT_STREQ(jstr(x, "start"), jstr(e, "start"));
		EXPECT_STREQ(jstr(x, "end"), jstr(e, "end"));
		EXPECT_EQ(jint(x, "size"), jint(e, "size"));
		EXPECT_STREQ(jstr(x, "perms"), jstr(e, "perms"));
		EXPECT_STREQ(jstr(x, "offset"), jstr(e, "offset"));
		EXPECT_EQ(jint(x, "ino"), jint(e, "inode"));
		EXPECT_EQ(jint(x, "page_size"), jint(e, "pagesize"));
		EXPECT_STREQ(jstr(x, "kind"), jstr(e, "kind"));
		EXPECT_STREQ(jtext(jget(x, "name")), jtext(jget(e, "name")));
	}
	jfree(v);

	v = run_json(_metadata, ARGV("show", "-J", "-b", "--output-all", self->pid));
	ASSERT_NE(NULL, v);
	a = jget(v, "processes");
	ASSERT_NE(NULL, a);
	ASSERT_EQ(1, (int)a->n);
	e = a->v[0];
	x = jget(doc, "process");
	EXPECT_EQ(jint(x, "pid"), jint(e, "pid"));
	EXPECT_EQ(jint(x, "ppid"), jint(e, "ppid"));
	EXPECT_EQ(jint(x, "sid"), jint(e, "sid"));
	EXPECT_EQ(jint(x, "euid"), jint(e, "euid"));
	EXPECT_EQ(jint(x, "fsgid"), jint(e, "fsgid"));
	EXPECT_STREQ(jstr(x, "comm"), jstr(e, "comm"));
	EXPECT_STREQ(jstr(x, "exe"), jstr(e, "exe"));
	EXPECT_EQ(jint(x, "nr_threads"), jint(e, "threads"));
	EXPECT_EQ(jint(jget(doc, "snapshot"), "nr_fds"), jint(e, "fds"));
	EXPECT_EQ(jint(jget(doc, "snapshot"), "nr_maps"), jint(e, "maps"));
	EXPECT_EQ(jint(x, "nice"), jint(e, "ni"));
	EXPECT_STREQ(jstr(x, "cpus_allowed"), jstr(e, "affinity"));
	EXPECT_EQ(jint(x, "nr_cpus_allowed"), jint(e, "ncpus"));
	jfree(v);
	jfree(doc);
}

TEST_F(target, output_modes)
{
	struct jnode *doc;
	struct run r;

	/* -o +LIST adds to the defaults */
	ASSERT_EQ(0, run_pss(&r, ARGV("maps", "-o", "+KIND", self->pid)));
	ASSERT_EQ(PSS_EXIT_OK, r.status);
	EXPECT_NE(NULL, strstr(r.out, "KIND"));
	EXPECT_NE(NULL, strstr(r.out, "PERMS"));
	run_free(&r);
	/* snapshot without --json: four tables */
	ASSERT_EQ(0, run_pss(&r, ARGV("snapshot", self->pid)));
	ASSERT_EQ(PSS_EXIT_OK, r.status);
	EXPECT_NE(NULL, strstr(r.out, "TID"));
	EXPECT_NE(NULL, strstr(r.out, "DETAIL"));
	EXPECT_NE(NULL, strstr(r.out, "PERMS"));
	run_free(&r);
	/* human-readable sizes are JSON strings, -b sizes numbers */
	doc = run_json(_metadata, ARGV("show", "-J", "-o", "PID,VSZ", self->pid));
	ASSERT_NE(NULL, doc);
	EXPECT_EQ(J_STR, jget(jget(doc, "processes")->v[0], "vsz")->t);
	jfree(doc);
	doc = run_json(_metadata, ARGV("show", "-J", "-b", "-o", "PID,VSZ", self->pid));
	ASSERT_NE(NULL, doc);
	EXPECT_EQ(J_NUM, jget(jget(doc, "processes")->v[0], "vsz")->t);
	jfree(doc);
}

/* ------------------------------------------------------------ errors */

static void expect_error(struct __test_metadata *_metadata, int how, int code,
			 const char *msg, const char *const *argv)
{
	struct run r;

	if (run_pss_how(how, &r, argv)) {
		TH_LOG("could not set up the run (%d)", r.status);
		_metadata->exit_code = KSFT_FAIL;
		return;
	}
	EXPECT_EQ(code, r.status) TH_LOG("pss %s %s: stderr '%s'", argv[1],
					 argv[2] ? argv[2] : "", r.err);
	EXPECT_EQ(1, count_lines(r.err)) TH_LOG("stderr: '%s'", r.err);
	EXPECT_EQ(0, strncmp(r.err, "pss: ", 5)) TH_LOG("stderr: '%s'", r.err);
	if (msg)
		EXPECT_NE(NULL, strstr(r.err, msg)) TH_LOG("stderr: '%s'", r.err);
	EXPECT_EQ(0, (int)r.outlen) TH_LOG("stdout: '%s'", r.out);
	run_free(&r);
}

FIXTURE(tool) {
	int unused;
};

FIXTURE_SETUP(tool)
{
	if (access(pss_bin(), X_OK))
		SKIP(return, "%s not installed", pss_bin());
	ASSERT_TRUE(pss_runs(_metadata));
}

FIXTURE_TEARDOWN(tool)
{
}

TEST_F(tool, help_and_version)
{
	struct jnode *doc;
	struct run r;

	ASSERT_EQ(0, run_pss(&r, ARGV("--help")));
	EXPECT_EQ(PSS_EXIT_OK, r.status);
	EXPECT_NE(NULL, strstr(r.out, "Usage:"));
	EXPECT_NE(NULL, strstr(r.out, "Exit status"));
	run_free(&r);
	ASSERT_EQ(0, run_pss(&r, ARGV("-V")));
	EXPECT_EQ(PSS_EXIT_OK, r.status);
	EXPECT_EQ(0, strncmp(r.out, "pss ", 4));
	run_free(&r);
	ASSERT_EQ(0, run_pss(&r, ARGV("fds", "--list-columns")));
	EXPECT_EQ(PSS_EXIT_OK, r.status);
	EXPECT_NE(NULL, strstr(r.out, "DETAIL"));
	EXPECT_EQ(NULL, strstr(r.out, "PERMS"));
	run_free(&r);
	doc = run_json(_metadata, ARGV("--list-columns", "-J"));
	ASSERT_NE(NULL, doc);
	EXPECT_GT(jget(doc, "columns")->n, 60);
	jfree(doc);
}

TEST_F(tool, usage_errors)
{
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "invalid PID", ARGV("show", "abc"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, NULL, ARGV("show", "-5"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "invalid PID", ARGV("show", "0"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "no PID", ARGV("threads"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "unknown command", ARGV("frob", "1"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "no command", ARGV("-r"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "unrecognized option",
		     ARGV("--bogus", "show", "1"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "invalid option", ARGV("-Z", "show", "1"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "requires an argument",
		     ARGV("show", "1", "-o"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "unknown column",
		     ARGV("threads", "1", "-o", "TID,NOPE"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "unexpected argument",
		     ARGV("show", "1", "2"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "mutually exclusive",
		     ARGV("show", "1", "-r", "-J"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, NULL,
		     ARGV("snapshot", "1", "-o", "PID"));
}

TEST_F(tool, no_such_process)
{
	char buf[16];
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	snprintf(buf, sizeof(buf), "%d", pid);
	expect_error(_metadata, AS_ROOT, PSS_EXIT_NOPROC, "no such process", ARGV("show", buf));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_NOPROC, "no such process",
		     ARGV("threads", "--pidfd", buf));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_NOPROC, "no such process",
		     ARGV("snapshot", "-J", "2147483647"));
}

TEST_F(tool, permission_denied_as_nobody)
{
	if (getuid() != 0)
		SKIP(return, "needs root to become nobody");
	/* pid 1 is root's; nobody has no CAP_SYS_PTRACE */
	expect_error(_metadata, AS_NOBODY, PSS_EXIT_PERM, "permission denied", ARGV("show", "1"));
	expect_error(_metadata, AS_NOBODY, PSS_EXIT_PERM, "permission denied",
		     ARGV("fds", "--pidfd", "1"));
}

TEST_F(tool, nobody_can_snapshot_itself)
{
	struct run r;

	if (getuid() != 0)
		SKIP(return, "needs root to become nobody");
	ASSERT_EQ(0, run_pss_how(AS_NOBODY, &r, ARGV("show", "self", "-rn", "-o", "EUID,FLAGS")));
	EXPECT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	EXPECT_EQ(0, strncmp(r.out, "65534 ", 6)) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "self"));
	run_free(&r);
}

TEST_F(tool, kernel_thread_refused)
{
	/* pid 2 is kthreadd */
	expect_error(_metadata, AS_ROOT, PSS_EXIT_PERM, "kernel thread", ARGV("show", "2"));
}

TEST_F(tool, module_not_loaded)
{
	struct run r;

	/* a private mount namespace whose /dev has no pss node */
	if (run_pss_how(NO_DEV_PSS, &r, ARGV("show", "1")))
		SKIP(run_free(&r); return, "cannot make a private /dev (%d)", r.status);
	run_free(&r);
	expect_error(_metadata, NO_DEV_PSS, PSS_EXIT_NOMODULE, "module is not loaded",
		     ARGV("show", "1"));
	expect_error(_metadata, NO_DEV_PSS, PSS_EXIT_NOMODULE, "module is not loaded",
		     ARGV("snapshot", "--json", "self"));
}

TEST_F(tool, unsupported)
{
	struct run r;

	/* /dev/pss that answers no pss ioctl (ENOTTY), as a foreign module would */
	if (run_pss_how(DEV_PSS_IS_NULL, &r, ARGV("show", "1")))
		SKIP(run_free(&r); return, "cannot bind-mount over /dev/pss (%d)", r.status);
	run_free(&r);
	expect_error(_metadata, DEV_PSS_IS_NULL, PSS_EXIT_UNSUPP, "unsupported",
		     ARGV("threads", "1"));
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--target"))
		target_main(-1);
	return test_harness_run(argc, argv);
}
