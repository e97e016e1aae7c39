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
#include <time.h>
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
	FD_SIZE_1536 = 32,	/* sizes: "1.5K" as lsblk prints them */
	FD_SIZE_1M_1 = 33,	/* 1048575 bytes: "1024K" as lsblk */
	FD_REPORT = 63,		/* to the parent; closed once reported */
};

#define NFDS		(3 + 14)	/* 0, 1, 2 and the above */
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

/* an unlinked sparse file of size bytes */
static int sized_file(pid_t pid, off_t size)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/pss_tool_size.%d.%lld", pid, (long long)size);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	must(fd >= 0 && ftruncate(fd, size) == 0 && unlink(path) == 0, "sized file");
	return fd;
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
	place(sized_file(rep.pid, 1536), FD_SIZE_1536);
	place(sized_file(rep.pid, 1048575), FD_SIZE_1M_1);

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
	/*
	 * MAP_SHARED through an O_RDONLY fd: VM_MAYSHARE without VM_SHARED,
	 * which /proc/PID/maps still shows as 's'.
	 */
	fd = open(rep.file_path, O_RDONLY);
	must(fd >= 0, "open file read-only");
	must(mmap(base + FILE_OFF * page, page, PROT_READ, MAP_SHARED | MAP_FIXED,
		  fd, 0) != MAP_FAILED, "mmap file");
	close(fd);
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

/* Length of the valid UTF-8 sequence at s, or 0 (RFC 3629: no overlongs,
 * no surrogates, nothing past U+10FFFF). JSON text must be UTF-8.
 */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned int cp, len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static int hex4(const char *p)
{
	int v = 0, i;

	for (i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return -1;
		v = v * 16 + (isdigit((unsigned char)p[i]) ? p[i] - '0' :
			      (tolower((unsigned char)p[i]) - 'a' + 10));
	}
	return v;
}

/* A strict RFC 8259 string: UTF-8 only, every escape checked; the value
 * decoded to UTF-8.
 */
static char *jstring(struct jp *j)
{
	size_t cap = 16, len = 0;
	char *s = malloc(cap);

	if (*j->p != '"') {
		j->err = "expected string";
		goto bad;
	}
	j->p++;
	while (*j->p && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		char out[4];
		size_t n = 1, k;

		if (c < 0x20) {
			j->err = "control character in string";
			goto bad;
		}
		if (c >= 0x80) {
			n = utf8_seq((const unsigned char *)j->p);
			if (!n) {
				j->err = "invalid UTF-8 in string";
				goto bad;
			}
			memcpy(out, j->p, n);
			j->p += n;
		} else if (c == '\\') {
			j->p++;
			switch (*j->p++) {
			case 'n': out[0] = '\n'; break;
			case 't': out[0] = '\t'; break;
			case 'r': out[0] = '\r'; break;
			case 'b': out[0] = '\b'; break;
			case 'f': out[0] = '\f'; break;
			case '"': out[0] = '"'; break;
			case '\\': out[0] = '\\'; break;
			case '/': out[0] = '/'; break;
			case 'u': {
				int cp = hex4(j->p);

				if (cp < 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
					/* we never need surrogate pairs: refuse */
					j->err = "bad \\u escape";
					goto bad;
				}
				j->p += 4;
				if (cp < 0x80) {
					out[0] = (char)cp;
				} else if (cp < 0x800) {
					out[0] = (char)(0xc0 | cp >> 6);
					out[1] = (char)(0x80 | (cp & 0x3f));
					n = 2;
				} else {
					out[0] = (char)(0xe0 | cp >> 12);
					out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
					out[2] = (char)(0x80 | (cp & 0x3f));
					n = 3;
				}
				break;
			}
			default:
				j->err = "bad escape";
				goto bad;
			}
		} else {
			out[0] = (char)c;
			j->p++;
		}
		if (len + n + 1 > cap)
			s = realloc(s, cap = 2 * cap + n);
		for (k = 0; k < n; k++)
			s[len++] = out[k];
	}
	if (*j->p != '"') {
		j->err = "unterminated string";
		goto bad;
	}
	j->p++;
	s[len] = '\0';
	return s;
bad:
	free(s);
	return NULL;
}

/* a name as pss(1) writes it into JSON: each \xHH back to its byte */
static void jbytes(char *s)
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
			size_t i;

			key = jstring(j);
			if (!key)
				return NULL;
			for (i = 0; i < n->n; i++)
				if (!strcmp(n->k[i], key)) {
					j->err = "duplicate key";
					return NULL;
				}
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

		/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
		if (*j->p == '-')
			j->p++;
		if (*j->p == '0') {
			j->p++;
		} else if (*j->p >= '1' && *j->p <= '9') {
			while (isdigit((unsigned char)*j->p))
				j->p++;
		} else {
			j->err = "unexpected character";
			return NULL;
		}
		if (*j->p == '.') {
			j->p++;
			if (!isdigit((unsigned char)*j->p)) {
				j->err = "bad number";
				return NULL;
			}
			while (isdigit((unsigned char)*j->p))
				j->p++;
		}
		if (*j->p == 'e' || *j->p == 'E') {
			j->p++;
			if (*j->p == '+' || *j->p == '-')
				j->p++;
			if (!isdigit((unsigned char)*j->p)) {
				j->err = "bad number";
				return NULL;
			}
			while (isdigit((unsigned char)*j->p))
				j->p++;
		}
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
	const char *type;		/* lsfd's TYPE */
	const char *kind;		/* libpss's finer name */
	const char *mode;
	bool cloexec;
	const char *detail_prefix;	/* NULL: empty */
	bool deleted;
};

static const struct fd_expect fd_expects[] = {
	{ FD_FILE, "REG", "regular", "rw-", false, NULL, false },
	{ FD_PIPE_R, "FIFO", "pipe", "r--", false, "size=", false },
	{ FD_PIPE_W, "FIFO", "pipe", "-w-", false, "size=", false },
	{ FD_EVENTFD, "eventfd", "eventfd", "rw-", true, "id=", false },
	{ FD_EPOLL, "eventpoll", "epoll", "rw-", false, "tfds=", false },
	{ FD_UNIX_A, "SOCK", "socket", "rw-", false, "unix stream", false },
	{ FD_UNIX_B, "SOCK", "socket", "rw-", false, "unix stream", false },
	{ FD_TCP, "SOCK", "socket", "rw-", false, "inet stream tcp listen", false },
	{ FD_MEMFD, "REG", "memfd", "rw-", false, "seals=", false },
	{ FD_NULL, "CHR", "chr", "-w-", false, NULL, false },
	{ FD_DIR, "DIR", "dir", "r--", false, NULL, false },
	{ FD_DELETED, "REG", "regular", "rw-", false, NULL, true },
	{ FD_SIZE_1536, "REG", "regular", "rw-", false, NULL, true },
	{ FD_SIZE_1M_1, "REG", "regular", "rw-", false, NULL, true },
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
				      "FD,TYPE,MODE,FLAGS,POS,INODE,DELETED,DETAIL,NAME,SIZE,KIND")));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	n = parse_raw(r.out, rows, 64);
	ASSERT_EQ(NFDS, n);
	for (i = 0; i < n; i++) {
		int fd = atoi(rows[i].f[0]);
		const struct fd_expect *e = fd_expect(fd);
		char path[64], link[512];
		ssize_t len;
		struct stat st;

		ASSERT_EQ(11, rows[i].n);
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
			EXPECT_STREQ("CHR", rows[i].f[1]);	/* /dev/null */
			continue;
		}
		ASSERT_NE(NULL, e) TH_LOG("unexpected fd %d", fd);
		known++;
		EXPECT_STREQ(e->type, rows[i].f[1]) TH_LOG("fd %d type", fd);
		EXPECT_STREQ(e->kind, rows[i].f[10]) TH_LOG("fd %d kind", fd);
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
		EXPECT_STREQ(e->deleted ? "1" : "0", rows[i].f[6])
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
		case FD_SIZE_1536:
			EXPECT_STREQ("1536", rows[i].f[9]);
			break;
		case FD_SIZE_1M_1:
			EXPECT_STREQ("1048575", rows[i].f[9]);
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

static struct jnode *jstrnode(const struct jnode *o, const char *key)
{
	const struct jnode *n = jget(o, key);

	return n && n->t == J_STR ? (struct jnode *)n : NULL;
}

TEST_F(target, snapshot_json)
{
	struct jnode *doc, *snap, *proc, *th, *fds, *maps, *perf, *e, *all;
	unsigned long b = self->t.base, pg = self->t.page;
	size_t i;

	doc = run_json(_metadata, ARGV("snapshot", "--json", self->pid));
	ASSERT_NE(NULL, doc);
	ASSERT_EQ(J_OBJ, doc->t);
	EXPECT_EQ(2, jint(doc, "pss_json_version"));
	all = jget(doc, "snapshots");
	ASSERT_NE(NULL, all);
	ASSERT_EQ(J_ARR, all->t);
	ASSERT_EQ(1, (int)all->n);
	snap = jget(all->v[0], "snapshot");
	proc = jget(all->v[0], "process");
	th = jget(all->v[0], "threads");
	fds = jget(all->v[0], "fds");
	maps = jget(all->v[0], "maps");
	perf = jget(all->v[0], "performance");
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
	EXPECT_EQ((long long)th->n, jint(snap, "threads"));
	EXPECT_EQ((long long)fds->n, jint(snap, "fds"));
	EXPECT_EQ((long long)maps->n, jint(snap, "maps"));
	EXPECT_GT(jint(snap, "cut_monotonic_ns"), 0);
	EXPECT_TRUE(jflag(snap, "facets", "threads"));

	/* process: the show view's columns */
	EXPECT_EQ(self->t.pid, jint(proc, "pid"));
	EXPECT_EQ(getpid(), jint(proc, "ppid"));
	EXPECT_EQ(getpgrp(), jint(proc, "pgid"));
	EXPECT_EQ(getsid(0), jint(proc, "sid"));
	EXPECT_EQ(getuid(), jint(proc, "ruid"));
	EXPECT_EQ(getegid(), jint(proc, "egid"));
	EXPECT_STREQ(TARGET_COMM, jstr(proc, "comm"));
	EXPECT_STREQ("S", jstr(proc, "state"));
	EXPECT_EQ(1 + NWORKERS, jint(proc, "threads"));
	EXPECT_EQ((long long)fds->n, jint(proc, "fds"));
	EXPECT_EQ(J_ARR, jget(proc, "flags")->t);
	EXPECT_FALSE(jflag(proc, "flags", "self"));
	EXPECT_NE(NULL, jstr(proc, "exe"));
	/* sizes are numbers of bytes in JSON, -b or not */
	EXPECT_GT(jint(proc, "vsz"), 0);
	/* rss counters are the kernel's per-cpu approximations: present, not exact */
	EXPECT_GE(jint(proc, "rss-anon"), 0);
	EXPECT_GE(jint(proc, "rss-peak"), jint(proc, "rss-file"));
	EXPECT_EQ(jint(proc, "rss"), jint(proc, "rss-anon") +
		  jint(proc, "rss-file") + jint(proc, "rss-shmem"));
	EXPECT_EQ(0, jint(proc, "ni"));
	EXPECT_STREQ("other", jstr(proc, "policy"));
	EXPECT_GE(jint(proc, "ncpus"), 1);
	EXPECT_EQ(J_NULL, jget(proc, "exit") ? jget(proc, "exit")->t : J_OBJ);
	EXPECT_EQ(J_NUM, jget(proc, "time") ? jget(proc, "time")->t : J_NULL);
	EXPECT_NE(NULL, jstrnode(proc, "start"));

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
		EXPECT_EQ(self->t.pid, jint(e, "pid"));
		EXPECT_EQ(i == 0, jflag(e, "flags", "leader"));
		EXPECT_STREQ("S", jstr(e, "state"));
		EXPECT_NE(NULL, jstr(e, "affinity"));
		EXPECT_GE(jint(e, "psr"), 0);
	}

	/* fds */
	ASSERT_EQ(NFDS, (int)fds->n);
	for (i = 0; i < sizeof(fd_expects) / sizeof(fd_expects[0]); i++) {
		const struct fd_expect *x = &fd_expects[i];
		bool sock = !strcmp(x->type, "SOCK");

		e = jfind(fds, "fd", x->fd);
		ASSERT_NE(NULL, e) TH_LOG("fd %d missing", x->fd);
		EXPECT_STREQ(x->type, jstr(e, "type")) TH_LOG("fd %d", x->fd);
		EXPECT_STREQ(x->kind, jstr(e, "kind")) TH_LOG("fd %d", x->fd);
		EXPECT_STREQ(x->mode, jstr(e, "mode")) TH_LOG("fd %d", x->fd);
		EXPECT_EQ(J_ARR, jget(e, "flags")->t);
		EXPECT_EQ(x->cloexec, jflag(e, "flags", "cloexec")) TH_LOG("fd %d", x->fd);
		ASSERT_NE(NULL, jget(e, "deleted"));
		ASSERT_EQ(J_BOOL, jget(e, "deleted")->t);
		EXPECT_EQ(x->deleted, jget(e, "deleted")->b);
		if (sock) {
			EXPECT_STREQ(x->fd == FD_TCP ? "inet" : "unix", jstr(e, "sock.family"));
			EXPECT_STREQ("stream", jstr(e, "sock.type"));
			EXPECT_STREQ(x->fd == FD_TCP ? "listen" : "established",
				     jstr(e, "sock.state"));
			if (x->fd == FD_TCP)
				EXPECT_STREQ("tcp", jstr(e, "sock.protoname"));
		} else {
			EXPECT_EQ(J_NULL, jget(e, "sock.family")->t) TH_LOG("fd %d", x->fd);
		}
		if (!strcmp(x->kind, "pipe")) {
			EXPECT_EQ(1, jint(e, "pipe.readers"));
			EXPECT_EQ(1, jint(e, "pipe.writers"));
			EXPECT_GE(jint(e, "pipe.size"), 4096);
		} else {
			EXPECT_EQ(J_NULL, jget(e, "pipe.size")->t);
		}
	}
	e = jfind(fds, "fd", FD_FILE);
	EXPECT_STREQ(self->t.file_path, jstr(e, "name"));
	EXPECT_EQ(FILE_POS, jint(e, "pos"));
	EXPECT_EQ((long long)strlen(FILE_CONTENT), jint(e, "size"));
	EXPECT_EQ((long long)self->t.file_ino, jint(e, "inode"));
	EXPECT_EQ(O_RDWR, jint(e, "oflags") & O_ACCMODE);
	EXPECT_TRUE(jflag(e, "flags", "rdwr"));
	e = jfind(fds, "fd", FD_NULL);
	EXPECT_STREQ("/dev/null", jstr(e, "name"));
	EXPECT_STREQ("1:3", jstr(e, "rdev"));
	EXPECT_TRUE((jint(e, "oflags") & O_NONBLOCK) != 0);
	EXPECT_TRUE(jflag(e, "flags", "nonblock"));
	EXPECT_EQ(1048575, jint(jfind(fds, "fd", FD_SIZE_1M_1), "size"));

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
			EXPECT_EQ(J_ARR, jget(maps->v[i], "flags")->t);
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
				EXPECT_STREQ(self->t.file_path, jstr(maps->v[i], "name"));
				EXPECT_STREQ("file", jstr(maps->v[i], "kind"));
				EXPECT_EQ((long long)self->t.file_ino, jint(maps->v[i], "inode"));
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

/* the same value in two documents: same JSON type, same text */
static bool jsame(const struct jnode *a, const struct jnode *b)
{
	size_t i;

	if (!a || !b || a->t != b->t || a->n != b->n)
		return false;
	switch (a->t) {
	case J_NULL: return true;
	case J_BOOL: return a->b == b->b;
	case J_NUM:
	case J_STR: return !strcmp(a->s, b->s);
	default:
		for (i = 0; i < a->n; i++)
			if (!jsame(a->v[i], b->v[i]) ||
			    (a->t == J_OBJ && strcmp(a->k[i], b->k[i])))
				return false;
		return true;
	}
}

/* what may move between two captures of an idle process */
static bool volatile_key(const char *k)
{
	static const char *const keys[] = {
		"rss", "rss-anon", "rss-file", "rss-shmem", "rss-peak", "utime",
		"stime", "time", "minflt", "majflt", "nvcsw", "nivcsw", "psr",
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

/* every member of view row e equals the snapshot row x's */
static int jrow_diff(struct __test_metadata *_metadata, const char *what,
		     const struct jnode *e, const struct jnode *x)
{
	int bad = 0;
	size_t i;

	if (!e || !x || e->t != J_OBJ || x->t != J_OBJ)
		return 1;
	if (e->n != x->n) {
		TH_LOG("%s: %zu members vs %zu", what, e->n, x->n);
		bad++;
	}
	for (i = 0; i < e->n; i++) {
		if (volatile_key(e->k[i]))
			continue;
		if (!jsame(e->v[i], jget(x, e->k[i]))) {
			TH_LOG("%s: \"%s\" differs: %s vs %s", what, e->k[i],
			       jtext(e->v[i]), jtext(jget(x, e->k[i])));
			bad++;
		}
	}
	return bad;
}

/*
 * One vocabulary: each view's -J --output-all rows are exactly the snapshot
 * document's rows (same keys, same JSON types, same values), with or
 * without -b. The target is idle, so both captures see the same state.
 */
TEST_F(target, views_json_vs_snapshot_json)
{
	static const char *const vnames[] = { "threads", "fds", "maps" };
	static const char *const idkey[] = { "tid", "fd", "start" };
	struct jnode *doc, *s0, *v, *a;
	size_t i, k;

	doc = run_json(_metadata, ARGV("snapshot", "-J", self->pid));
	ASSERT_NE(NULL, doc);
	s0 = jget(doc, "snapshots")->v[0];

	for (k = 0; k < 3; k++) {
		struct jnode *want = jget(s0, vnames[k]);

		v = run_json(_metadata, ARGV(vnames[k], "-J", "--output-all", self->pid));
		ASSERT_NE(NULL, v);
		a = jget(v, vnames[k]);
		ASSERT_NE(NULL, a);
		ASSERT_EQ(want->n, a->n) TH_LOG("%s", vnames[k]);
		for (i = 0; i < a->n; i++) {
			struct jnode *e = a->v[i], *x = NULL;
			size_t m;

			for (m = 0; m < want->n && !x; m++)
				if (jsame(jget(want->v[m], idkey[k]), jget(e, idkey[k])))
					x = want->v[m];
			ASSERT_NE(NULL, x) TH_LOG("%s row %zu not in the snapshot", vnames[k], i);
			EXPECT_EQ(0, jrow_diff(_metadata, vnames[k], e, x));
		}
		jfree(v);
	}

	v = run_json(_metadata, ARGV("show", "-J", "-b", "--output-all", self->pid));
	ASSERT_NE(NULL, v);
	a = jget(v, "processes");
	ASSERT_NE(NULL, a);
	ASSERT_EQ(1, (int)a->n);
	EXPECT_EQ(0, jrow_diff(_metadata, "show", a->v[0], jget(s0, "process")));
	jfree(v);
	jfree(doc);
}

/*
 * --list-columns -J declares each column's JSON type; every view's -J
 * output must use exactly that type (or null for "not captured").
 */
TEST_F(target, json_types_as_listed)
{
	static const char *const vnames[] = { "show", "threads", "fds", "maps", "stack" };
	static const char *const tables[] = { "processes", "threads", "fds", "maps", "stack" };
	struct jnode *doc, *cols, *v, *a;
	size_t k, i, c;
	int checked = 0;

	doc = run_json(_metadata, ARGV("--list-columns", "-J"));
	ASSERT_NE(NULL, doc);
	cols = jget(doc, "columns");
	ASSERT_NE(NULL, cols);
	for (k = 0; k < sizeof(vnames) / sizeof(vnames[0]); k++) {
		v = run_json(_metadata, ARGV(vnames[k], "-J", "--output-all", self->pid));
		ASSERT_NE(NULL, v);
		a = jget(v, tables[k]);
		ASSERT_NE(NULL, a);
		for (i = 0; i < a->n; i++) {
			for (c = 0; c < cols->n; c++) {
				const struct jnode *col = cols->v[c], *val;
				const char *t = jstr(col, "type");
				enum jtype want;

				if (strcmp(jstr(col, "view"), vnames[k]))
					continue;
				val = jget(a->v[i], jstr(col, "key"));
				ASSERT_NE(NULL, val) TH_LOG("%s: no \"%s\"", vnames[k],
							    jstr(col, "key"));
				want = !strcmp(t, "<number>") ? J_NUM :
				       !strcmp(t, "<boolean>") ? J_BOOL :
				       !strcmp(t, "<array>") ? J_ARR : J_STR;
				if (val->t != J_NULL)
					EXPECT_EQ(want, val->t) TH_LOG("%s %s", vnames[k],
								      jstr(col, "key"));
				checked++;
			}
		}
		jfree(v);
	}
	EXPECT_GT(checked, 100);
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
	/* a column named twice is printed once: JSON keys are unique */
	doc = run_json(_metadata, ARGV("threads", "-J", "-o", "TID,tid,COMM", self->pid));
	ASSERT_NE(NULL, doc);
	EXPECT_EQ(2, (int)jget(doc, "threads")->v[0]->n);
	jfree(doc);
	doc = run_json(_metadata, ARGV("threads", "-J", "-o", "+PID", self->pid, self->pid));
	ASSERT_NE(NULL, doc);
	jfree(doc);
	/* sizes are JSON numbers of bytes, with -b or without */
	doc = run_json(_metadata, ARGV("show", "-J", "-o", "PID,VSZ", self->pid));
	ASSERT_NE(NULL, doc);
	EXPECT_EQ(J_NUM, jget(jget(doc, "processes")->v[0], "vsz")->t);
	jfree(doc);
	doc = run_json(_metadata, ARGV("show", "-J", "-b", "-o", "PID,VSZ", self->pid));
	ASSERT_NE(NULL, doc);
	EXPECT_EQ(J_NUM, jget(jget(doc, "processes")->v[0], "vsz")->t);
	jfree(doc);
}

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

/* ------------------------------------------------------------ util-linux conventions */

/* Sizes as lsblk prints them (util-linux size_to_human_string()). */
TEST_F(target, sizes_as_lsblk)
{
	static const struct { int fd; const char *want; } w[] = {
		{ FD_FILE, "12B" }, { FD_NULL, "0B" },
		{ FD_SIZE_1536, "1.5K" }, { FD_SIZE_1M_1, "1024K" },
	};
	struct row rows[64];
	struct run r;
	int n, i;
	size_t k;

	ASSERT_EQ(0, run_pss(&r, ARGV("fds", self->pid, "-rn", "-o", "FD,SIZE")));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	n = parse_raw(r.out, rows, 64);
	for (k = 0; k < sizeof(w) / sizeof(w[0]); k++) {
		for (i = 0; i < n; i++)
			if (atoi(rows[i].f[0]) == w[k].fd)
				break;
		ASSERT_LT(i, n) TH_LOG("fd %d missing", w[k].fd);
		EXPECT_STREQ(w[k].want, rows[i].f[1]) TH_LOG("fd %d", w[k].fd);
	}
	run_free(&r);
}

TEST_F(target, several_pids)
{
	struct row rows[32];
	char me[16], dead[16];
	struct run r;
	int n, i, mine = 0, its = 0;
	pid_t pid;

	snprintf(me, sizeof(me), "%d", getpid());
	ASSERT_EQ(0, run_pss(&r, ARGV("show", self->pid, me, "-rn", "-o", "PID,COMM")));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	ASSERT_EQ(2, parse_raw(r.out, rows, 32));
	EXPECT_EQ(self->t.pid, atoi(rows[0].f[0]));
	EXPECT_STREQ(TARGET_COMM, rows[0].f[1]);
	EXPECT_EQ(getpid(), atoi(rows[1].f[0]));
	run_free(&r);

	/* rows of several processes start with PID, as in lsfd */
	ASSERT_EQ(0, run_pss(&r, ARGV("threads", self->pid, me, "-rn")));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	n = parse_raw(r.out, rows, 32);
	for (i = 0; i < n; i++) {
		mine += atoi(rows[i].f[0]) == getpid();
		its += atoi(rows[i].f[0]) == self->t.pid;
	}
	EXPECT_EQ(1, mine);
	EXPECT_EQ(1 + NWORKERS, its);
	run_free(&r);

	/* one process gone: the others are printed, the exit code is its */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	snprintf(dead, sizeof(dead), "%d", pid);
	ASSERT_EQ(0, run_pss(&r, ARGV("show", dead, self->pid, "-rn", "-o", "PID")));
	EXPECT_EQ(PSS_EXIT_NOPROC, r.status);
	EXPECT_EQ(1, count_lines(r.err)) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "no such process"));
	ASSERT_EQ(1, parse_raw(r.out, rows, 32));
	EXPECT_EQ(self->t.pid, atoi(rows[0].f[0]));
	run_free(&r);
}

TEST_F(target, sort)
{
	static struct row rows[256];
	struct run r;
	int n, i;

	/* strings bytewise */
	ASSERT_EQ(0, run_pss(&r, ARGV("threads", self->pid, "--sort", "COMM", "-rn",
				      "-o", "COMM")));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	ASSERT_EQ(1 + NWORKERS, parse_raw(r.out, rows, 256));
	EXPECT_STREQ(TARGET_COMM, rows[0].f[0]);
	for (i = 1; i <= NWORKERS; i++) {
		char want[32];

		snprintf(want, sizeof(want), "pss-worker-%d", i);
		EXPECT_STREQ(want, rows[i].f[0]);
	}
	run_free(&r);

	/* numbers by value, not as text; human-readable sizes too */
	ASSERT_EQ(0, run_pss(&r, ARGV("maps", self->pid, "--sort", "size", "-rn",
				      "-o", "SIZE,START", "-b")));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	n = parse_raw(r.out, rows, 256);
	ASSERT_GT(n, 5);
	for (i = 1; i < n; i++)
		EXPECT_LE(strtoull(rows[i - 1].f[0], NULL, 10),
			  strtoull(rows[i].f[0], NULL, 10)) TH_LOG("row %d", i);
	run_free(&r);

	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "unknown column",
		     ARGV("threads", self->pid, "--sort", "NOPE"));
}

TEST_F(target, pairs)
{
	char want[128];
	struct run r;

	ASSERT_EQ(0, run_pss(&r, ARGV("show", self->pid, "-P", "-o", "PID,COMM,FLAGS")));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	snprintf(want, sizeof(want), "PID=\"%d\" COMM=\"%s\" FLAGS=\"\"\n", self->t.pid,
		 TARGET_COMM);
	EXPECT_STREQ(want, r.out);
	run_free(&r);
}

/*
 * START is wall-clock time computed from the cut's realtime and boottime;
 * /proc says the same through btime + starttime (both whole seconds or
 * clock ticks, hence the 2 s slack: no timing is measured here).
 */
TEST_F(target, start_is_wall_clock)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks = 0, btime = 0;
	struct jnode *doc;
	struct tm tm;
	const char *iso;
	time_t start, want;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", self->t.pid);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	ASSERT_NE(NULL, p);
	for (i = 0; i < 20 && p; i++)		/* field 22: starttime */
		p = strchr(p + 1, ' ');
	ASSERT_NE(NULL, p);
	ticks = strtoull(p + 1, NULL, 10);
	f = fopen("/proc/stat", "r");
	ASSERT_NE(NULL, f);
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "btime %llu", &btime) == 1)
			break;
	fclose(f);
	ASSERT_GT(btime, 0);
	want = (time_t)(btime + ticks / sysconf(_SC_CLK_TCK));

	doc = run_json(_metadata, ARGV("show", self->pid, "-J", "-o", "START"));
	ASSERT_NE(NULL, doc);
	iso = jstr(jget(doc, "processes")->v[0], "start");
	ASSERT_NE(NULL, iso);
	memset(&tm, 0, sizeof(tm));
	p = strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
	ASSERT_NE(NULL, p) TH_LOG("START '%s'", iso);
	EXPECT_EQ('\0', *p);
	start = timegm(&tm);
	EXPECT_LE(start, want + 2) TH_LOG("START %s, /proc %lld", iso, (long long)want);
	EXPECT_GE(start, want - 2) TH_LOG("START %s, /proc %lld", iso, (long long)want);
	jfree(doc);
}

/* --pidfd=FD: the process of an inherited pidfd, never a recycled PID */
TEST_F(target, pidfd_inherited)
{
	struct row rows[2];
	struct run r;
	int pidfd, fd;

	pidfd = (int)syscall(SYS_pidfd_open, self->t.pid, 0);
	if (pidfd < 0 && errno == ENOSYS)
		SKIP(return, "no pidfd_open");
	ASSERT_GE(pidfd, 0);
	fd = fcntl(pidfd, F_DUPFD, 100);	/* without O_CLOEXEC: inherited */
	ASSERT_EQ(100, fd);
	close(pidfd);

	ASSERT_EQ(0, run_pss(&r, ARGV("show", "--pidfd=100", "-rn", "-o", "PID,COMM")));
	ASSERT_EQ(PSS_EXIT_OK, r.status) TH_LOG("stderr: %s", r.err);
	ASSERT_EQ(1, parse_raw(r.out, rows, 2));
	EXPECT_EQ(self->t.pid, atoi(rows[0].f[0]));
	EXPECT_STREQ(TARGET_COMM, rows[0].f[1]);
	run_free(&r);

	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "no PID expected",
		     ARGV("show", "--pidfd=100", self->pid));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "invalid pidfd",
		     ARGV("show", "--pidfd=x"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_FAIL, "not a pidfd",
		     ARGV("show", "--pidfd=1"));

	/* reaped: the pidfd keeps naming the dead process */
	kill(self->t.pid, SIGKILL);
	ASSERT_EQ(self->t.pid, waitpid(self->t.pid, NULL, 0));
	unlink(self->t.file_path);
	self->t.pid = 0;
	expect_error(_metadata, AS_ROOT, PSS_EXIT_NOPROC, "no such process",
		     ARGV("threads", "--pidfd=100"));
	close(fd);
}

/* ------------------------------------------------------------ byte-string names */

/* comm of the bytes target: invalid UTF-8, a literal "\x41", UTF-8 é */
#define BYTES_COMM	"pss\xff\xfe\\x41\xc3\xa9"

/*
 * `pss_tool_test --bytes-target PATH`: a process whose comm, exe, an fd at
 * FD_FILE and a shared mapping have names that are not valid UTF-8.
 */
static void __attribute__((noreturn)) bytes_target(const char *path)
{
	void *m;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, BYTES_COMM);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	place(fd, FD_FILE);
	must(ftruncate(FD_FILE, 4096) == 0, "ftruncate");
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, FD_FILE, 0);
	must(m != MAP_FAILED, "mmap");
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (;;)
		pause();
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			n = -1;
	close(in);
	close(out);
	return n < 0 ? -1 : 0;
}

/* the name at key, decoded by pss(1)'s rule, equals want */
static bool jname_is(const struct jnode *o, const char *key, const char *want)
{
	const char *s = jstr(o, key);
	char *c;
	bool ok;

	if (!s)
		return false;
	c = strdup(s);
	jbytes(c);
	ok = !strcmp(c, want);
	free(c);
	return ok;
}

/*
 * Every JSON output is valid (strict parser: UTF-8 only) with names that
 * are not UTF-8, and the names come back byte for byte; so does the raw
 * table's escaping.
 */
TEST(json_byte_names)
{
	char path[128], exe[128], line[64], pid[16];
	struct jnode *doc, *a, *snap;
	struct row rows[64];
	struct run r;
	int p[2], n, i, found;
	size_t k;
	pid_t child;
	FILE *f;

	if (access(pss_bin(), X_OK))
		SKIP(return, "%s not installed", pss_bin());
	snprintf(path, sizeof(path), "/tmp/pss-\xff\xfe-\\x41-\xc3\xa9-\x01.%d", getpid());
	snprintf(exe, sizeof(exe), "/tmp/pss-exe-\xff.%d", getpid());
	ASSERT_EQ(0, copy_file("/proc/self/exe", exe));
	ASSERT_EQ(0, pipe(p));
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(exe, exe, "--bytes-target", path, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	fclose(f);
	ASSERT_EQ(1, sscanf(line, "ready %15s", pid));

	/* snapshot --json: comm, exe, thread comm, fd name, mapping name */
	doc = run_json(_metadata, ARGV("snapshot", "--json", pid));
	ASSERT_NE(NULL, doc);
	snap = jget(doc, "snapshots")->v[0];
	EXPECT_TRUE(jname_is(jget(snap, "process"), "comm", BYTES_COMM));
	EXPECT_TRUE(jname_is(jget(snap, "process"), "exe", exe))
		TH_LOG("exe %s", jstr(jget(snap, "process"), "exe"));
	EXPECT_TRUE(jname_is(jget(snap, "threads")->v[0], "comm", BYTES_COMM));
	EXPECT_TRUE(jname_is(jfind(jget(snap, "fds"), "fd", FD_FILE), "name", path));
	a = jget(snap, "maps");
	for (k = 0, found = 0; k < a->n; k++)
		found += jname_is(a->v[k], "name", path);
	EXPECT_EQ(1, found);
	jfree(doc);

	/* the views' -J */
	doc = run_json(_metadata, ARGV("show", "-J", "--output-all", pid));
	ASSERT_NE(NULL, doc);
	EXPECT_TRUE(jname_is(jget(doc, "processes")->v[0], "comm", BYTES_COMM));
	EXPECT_TRUE(jname_is(jget(doc, "processes")->v[0], "exe", exe));
	jfree(doc);
	doc = run_json(_metadata, ARGV("threads", "-J", pid));
	ASSERT_NE(NULL, doc);
	EXPECT_TRUE(jname_is(jget(doc, "threads")->v[0], "comm", BYTES_COMM));
	jfree(doc);
	doc = run_json(_metadata, ARGV("fds", "-J", pid));
	ASSERT_NE(NULL, doc);
	EXPECT_TRUE(jname_is(jfind(jget(doc, "fds"), "fd", FD_FILE), "name", path));
	jfree(doc);
	doc = run_json(_metadata, ARGV("maps", "-J", pid));
	ASSERT_NE(NULL, doc);
	a = jget(doc, "maps");
	for (k = 0, found = 0; k < a->n; k++)
		found += jname_is(a->v[k], "name", path);
	EXPECT_EQ(1, found);
	jfree(doc);

	/* raw tables escape the same way (libsmartcols) */
	ASSERT_EQ(0, run_pss(&r, ARGV("fds", pid, "-rn", "-o", "FD,NAME")));
	ASSERT_EQ(PSS_EXIT_OK, r.status);
	n = parse_raw(r.out, rows, 64);
	for (i = 0, found = 0; i < n; i++)
		if (atoi(rows[i].f[0]) == FD_FILE)
			found += !strcmp(rows[i].f[1], path);
	EXPECT_EQ(1, found);
	run_free(&r);

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	unlink(path);
	unlink(exe);
}

/* ------------------------------------------------------------ errors */

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
	EXPECT_NE(NULL, strstr(r.out, "<number>"));
	EXPECT_EQ(NULL, strstr(r.out, "PERMS"));
	{
		struct run h;

		/* -H is --list-columns, as in lsfd */
		ASSERT_EQ(0, run_pss(&h, ARGV("fds", "-H")));
		EXPECT_EQ(PSS_EXIT_OK, h.status);
		EXPECT_STREQ(r.out, h.out);
		run_free(&h);
	}
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
	/* several PIDs are fine, each must be one */
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "invalid PID",
		     ARGV("show", "1", "x"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "mutually exclusive",
		     ARGV("show", "--pidfd", "--pidfd=3"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "mutually exclusive",
		     ARGV("show", "1", "-P", "-J"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "mutually exclusive",
		     ARGV("show", "1", "-r", "-J"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, NULL,
		     ARGV("snapshot", "1", "-o", "PID"));
	/* dump: one target, a file, a memory choice; --memory is dump's */
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "one PID", ARGV("dump"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "one PID", ARGV("dump", "1", "2"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "--memory takes",
		     ARGV("dump", "1", "--memory", "some"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "only -o FILE",
		     ARGV("dump", "1", "-J"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "applies to dump",
		     ARGV("stack", "1", "--memory", "all"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "--no-precopy applies to dump",
		     ARGV("show", "1", "--no-precopy"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "unknown column",
		     ARGV("stack", "1", "-o", "TID,NOPE"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "invalid timeout",
		     ARGV("stack", "1", "--timeout", "0"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "invalid timeout",
		     ARGV("dump", "1", "--timeout", "10001"));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_USAGE, "applies to stack and dump",
		     ARGV("threads", "1", "--timeout", "50"));
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
	expect_error(_metadata, AS_ROOT, PSS_EXIT_NOPROC, "no such process",
		     ARGV("stack", buf));
	expect_error(_metadata, AS_ROOT, PSS_EXIT_NOPROC, "no such process",
		     ARGV("dump", buf, "-o", "/tmp/pss_tool_nocore"));
	/* and no file is left behind */
	EXPECT_NE(0, access("/tmp/pss_tool_nocore", F_OK));
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
	if (argc > 2 && !strcmp(argv[1], "--bytes-target"))
		bytes_target(argv[2]);
	return test_harness_run(argc, argv);
}
