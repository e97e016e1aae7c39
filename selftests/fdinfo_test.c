// SPDX-License-Identifier: GPL-2.0
/*
 * Handle detail (HANDLE_TYPE_SPECIFIC, the VER1 part of the handle record)
 * against the kernel's own view of the same stopped target: /proc/net/
 * {tcp,tcp6,udp,udp6,unix} by socket inode, /proc/PID/fdinfo/N, and what a
 * duplicate of the target's fd (pidfd_getfd) answers to SIOCINQ, SIOCOUTQ,
 * getsockname(), F_GET_SEALS.
 *
 * Sockets are on loopback only: the test brings lo up itself.
 */
#include <net/if.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <arpa/inet.h>
#include <elf.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include "pss_test_util.h"

#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif

#define TIMER_VALUE_S	1000
#define TIMER_IVL_NS	250000000ULL
#define EVENTFD_COUNT	0x2a	/* hex digits that are not decimal ones */
#define TCP_UNREAD	5
#define TCP_UNACKED_NOT	0
#define UNIX_UNREAD	11
#define MAX_FDS		64

enum kind {
	K_NONE, K_TCP_LISTEN, K_TCP_CLIENT, K_TCP_SERVER, K_TCP_CLOSE_WAIT,
	K_TCP_PENDING, K_UDP_BOUND, K_UDP_CONN, K_UNIX_LISTEN, K_UNIX_CLIENT,
	K_UNIX_SERVER, K_UNIX_ABSTRACT, K_UNIX_PAIR, K_UNIX_DPAIR,
	K_NETLINK, K_PACKET, K_EVENTFD, K_TIMERFD, K_SIGNALFD, K_INOTIFY,
	K_EPOLL, K_PIDFD, K_MEMFD, K_PTMX, K_PTS,
};

struct tfd {
	int fd;
	int kind;
	int family;		/* sockets */
	int peer;		/* fd of the other end in the target, or -1 */
};

struct shared {
	int n;
	struct tfd fds[MAX_FDS];
	char unix_path[108];
	char abstract[32];
	int abstract_len;
	int inotify_watches;
	int no_packet;		/* the kernel has no AF_PACKET */
};

static int sys_pidfd_getfd(int pidfd, int fd)
{
	return (int)syscall(__NR_pidfd_getfd, pidfd, fd, 0);
}

static int add(struct shared *s, int fd, int kind, int family, int peer)
{
	if (fd < 0 || s->n >= MAX_FDS)
		return -1;
	s->fds[s->n++] = (struct tfd){ fd, kind, family, peer };
	return fd;
}

static int lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = -1;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (fd >= 0 && !ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

static socklen_t lo_addr(int family, struct sockaddr_storage *ss, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_loopback;
		return sizeof(*in6);
	}
}

/* listen, client + accepted server with unread data, close-wait, pending */
static int tcp_set(struct shared *s, int family)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int l, c, a, cw, cwa, p;

	l = add(s, socket(family, SOCK_STREAM, 0), K_TCP_LISTEN, family, -1);
	if (l < 0 || bind(l, (void *)&ss, lo_addr(family, &ss, 0)) ||
	    listen(l, 8) || getsockname(l, (void *)&ss, &len))
		return -1;
	c = socket(family, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (void *)&ss, len))
		return -1;
	a = accept(l, NULL, NULL);
	if (a < 0 || write(c, "hello", TCP_UNREAD) != TCP_UNREAD)
		return -1;
	add(s, c, K_TCP_CLIENT, family, a);
	add(s, a, K_TCP_SERVER, family, c);
	/* the peer closes: this end goes to CLOSE_WAIT */
	cw = socket(family, SOCK_STREAM, 0);
	if (cw < 0 || connect(cw, (void *)&ss, len))
		return -1;
	cwa = accept(l, NULL, NULL);
	if (cwa < 0 || close(cwa))
		return -1;
	add(s, cw, K_TCP_CLOSE_WAIT, family, -1);
	/* connected but not accepted: the listener's backlog holds one */
	p = socket(family, SOCK_STREAM, 0);
	if (p < 0 || connect(p, (void *)&ss, len))
		return -1;
	add(s, p, K_TCP_PENDING, family, -1);
	return 0;
}

static int udp_set(struct shared *s, int family)
{
	struct sockaddr_storage ss, peer;
	socklen_t len = sizeof(ss);
	int b, c;

	b = add(s, socket(family, SOCK_DGRAM, 0), K_UDP_BOUND, family, -1);
	if (b < 0 || bind(b, (void *)&ss, lo_addr(family, &ss, 0)) ||
	    getsockname(b, (void *)&peer, &len))
		return -1;
	c = add(s, socket(family, SOCK_DGRAM, 0), K_UDP_CONN, family, -1);
	if (c < 0 || connect(c, (void *)&peer, len))
		return -1;
	/* one datagram waiting in the bound socket */
	return send(c, "x", 1, 0) == 1 ? 0 : -1;
}

static int unix_set(struct shared *s)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t alen;
	int l, c, a, d, sp[2], dp[2];

	snprintf(s->unix_path, sizeof(s->unix_path), "/tmp/pss-fdinfo-%d.sock",
		 getpid());
	unlink(s->unix_path);
	strcpy(sun.sun_path, s->unix_path);
	l = add(s, socket(AF_UNIX, SOCK_STREAM, 0), K_UNIX_LISTEN, AF_UNIX, -1);
	if (l < 0 || bind(l, (void *)&sun, sizeof(sun)) || listen(l, 4))
		return -1;
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (void *)&sun, sizeof(sun)))
		return -1;
	a = accept(l, NULL, NULL);
	if (a < 0 || write(c, "hello world", UNIX_UNREAD) != UNIX_UNREAD)
		return -1;
	add(s, c, K_UNIX_CLIENT, AF_UNIX, a);
	add(s, a, K_UNIX_SERVER, AF_UNIX, c);

	/* an abstract name with a NUL inside */
	s->abstract_len = snprintf(s->abstract + 1, sizeof(s->abstract) - 1,
				   "pss-%d", getpid()) + 1;
	s->abstract[s->abstract_len++] = '\0';
	s->abstract[s->abstract_len++] = 'z';
	memset(sun.sun_path, 0, sizeof(sun.sun_path));
	memcpy(sun.sun_path, s->abstract, s->abstract_len);
	alen = offsetof(struct sockaddr_un, sun_path) + s->abstract_len;
	d = add(s, socket(AF_UNIX, SOCK_DGRAM, 0), K_UNIX_ABSTRACT, AF_UNIX, -1);
	if (d < 0 || bind(d, (void *)&sun, alen))
		return -1;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, dp))
		return -1;
	add(s, sp[0], K_UNIX_PAIR, AF_UNIX, sp[1]);
	add(s, sp[1], K_UNIX_PAIR, AF_UNIX, sp[0]);
	add(s, dp[0], K_UNIX_DPAIR, AF_UNIX, dp[1]);
	add(s, dp[1], K_UNIX_DPAIR, AF_UNIX, dp[0]);
	return send(dp[1], "abc", 3, 0) == 3 ? 0 : -1;
}

static int setup(void *shm, void *arg)
{
	struct shared *s = shm;
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct itimerspec its = {
		.it_value = { TIMER_VALUE_S, 0 },
		.it_interval = { 0, TIMER_IVL_NS },
	};
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;
	int fd, ep, in;

	(void)arg;
	if (tcp_set(s, AF_INET) || tcp_set(s, AF_INET6) ||
	    udp_set(s, AF_INET) || udp_set(s, AF_INET6) || unix_set(s))
		return 10;
	fd = add(s, socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), K_NETLINK,
		 AF_NETLINK, -1);
	if (fd < 0 || bind(fd, (void *)&snl, sizeof(snl)))
		return 11;
	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	if (fd < 0 && errno == EAFNOSUPPORT) {
		s->no_packet = 1;	/* CONFIG_PACKET=n (the debug kernel) */
	} else {
		add(s, fd, K_PACKET, AF_PACKET, -1);
		sll.sll_protocol = htons(ETH_P_IP);
		sll.sll_ifindex = if_nametoindex("lo");
		if (fd < 0 || bind(fd, (void *)&sll, sizeof(sll)))
			return 12;
	}

	fd = add(s, eventfd(EVENTFD_COUNT, EFD_SEMAPHORE), K_EVENTFD, 0, -1);
	fd = add(s, timerfd_create(CLOCK_MONOTONIC, 0), K_TIMERFD, 0, -1);
	if (fd < 0 || timerfd_settime(fd, 0, &its, NULL))
		return 13;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGRTMIN + 1);
	add(s, signalfd(-1, &mask, 0), K_SIGNALFD, 0, -1);
	in = add(s, inotify_init1(0), K_INOTIFY, 0, -1);
	if (in < 0 || inotify_add_watch(in, "/", IN_CREATE) < 0 ||
	    inotify_add_watch(in, "/proc", IN_DELETE | IN_MODIFY) < 0)
		return 14;
	s->inotify_watches = 2;
	ep = add(s, epoll_create1(0), K_EPOLL, 0, -1);
	for (fd = 0; fd < 3; fd++)
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, s->fds[fd].fd, &ev))
			return 15;
	add(s, sys_pidfd_open(getppid(), 0), K_PIDFD, 0, -1);
	fd = add(s, memfd_create("pss-seals", MFD_ALLOW_SEALING), K_MEMFD, 0, -1);
	if (fd < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		return 16;
	fd = add(s, posix_openpt(O_RDWR | O_NOCTTY), K_PTMX, 0, -1);
	if (fd < 0 || grantpt(fd) || unlockpt(fd))
		return 17;
	add(s, open(ptsname(fd), O_RDWR | O_NOCTTY), K_PTS, 0, -1);
	for (fd = 0; fd < s->n; fd++)
		if (s->fds[fd].fd < 0)
			return 20 + fd;
	return 0;
}

/* ---------------------------------------------------- the kernel's view */

struct procnet {
	unsigned char local[16], remote[16];
	unsigned int lport, rport, state, tx, rx;
};

/* The /proc/net/{tcp,udp}[6] line of socket inode @ino. */
static int procnet_find(const char *file, __u64 ino, bool v6,
			struct procnet *pn)
{
	char path[64], *buf, *line, *save = NULL;
	int found = -ENOENT;

	snprintf(path, sizeof(path), "/proc/net/%s", file);
	buf = pss_read_file(path, NULL);
	if (!buf)
		return -errno;
	strtok_r(buf, "\n", &save);	/* header */
	while ((line = strtok_r(NULL, "\n", &save))) {
		unsigned int a[4], r[4];
		unsigned long long lino;
		int n;

		memset(pn, 0, sizeof(*pn));
		if (v6)
			n = sscanf(line, " %*d: %8x%8x%8x%8x:%x %8x%8x%8x%8x:%x %x %x:%x %*x:%*x %*x %*u %*d %llu",
				   &a[0], &a[1], &a[2], &a[3], &pn->lport,
				   &r[0], &r[1], &r[2], &r[3], &pn->rport,
				   &pn->state, &pn->tx, &pn->rx, &lino) == 14;
		else
			n = sscanf(line, " %*d: %x:%x %x:%x %x %x:%x %*x:%*x %*x %*u %*d %llu",
				   &a[0], &pn->lport, &r[0], &pn->rport,
				   &pn->state, &pn->tx, &pn->rx, &lino) == 8;
		if (!n || lino != ino)
			continue;
		/* each word is the kernel's __be32 printed as a host integer */
		memcpy(pn->local, a, v6 ? 16 : 4);
		memcpy(pn->remote, r, v6 ? 16 : 4);
		found = 0;
		break;
	}
	free(buf);
	return found;
}

/* /proc/net/unix's Path for inode @ino ("" if none); -ENOENT if absent */
static int procnet_unix_path(__u64 ino, char *out, size_t len)
{
	char *buf = pss_read_file("/proc/net/unix", NULL), *line, *save = NULL;
	int found = -ENOENT;

	if (!buf)
		return -errno;
	strtok_r(buf, "\n", &save);
	while ((line = strtok_r(NULL, "\n", &save))) {
		unsigned long long lino;
		int off = 0;

		if (sscanf(line, "%*s %*x %*x %*x %*x %*x %llu%n", &lino, &off) != 1 ||
		    lino != ino)
			continue;
		while (line[off] == ' ')
			off++;
		snprintf(out, len, "%s", line + off);
		found = 0;
		break;
	}
	free(buf);
	return found;
}

/* The value after "key" in /proc/PID/fdinfo/FD, malloc'd; NULL if none. */
static char *fdinfo(pid_t pid, int fd, const char *key)
{
	char *buf = pss_read_fmt(NULL, "/proc/%d/fdinfo/%d", pid, fd);
	char *p, *ret = NULL;
	size_t klen = strlen(key);

	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, klen)) {
			ret = strndup(p + klen, strcspn(p + klen, "\n"));
			break;
		}
	}
	free(buf);
	return ret;
}

static unsigned long long fdinfo_ull(pid_t pid, int fd, const char *key,
				     int base)
{
	char *v = fdinfo(pid, fd, key);
	unsigned long long x = v ? strtoull(v, NULL, base) : ~0ULL;

	free(v);
	return x;
}

/* The whole fdinfo text of one fd. */
static char *fdinfo_all(pid_t pid, int fd)
{
	return pss_read_fmt(NULL, "/proc/%d/fdinfo/%d", pid, fd);
}

/* ---------------------------------------------------------- fixture */

FIXTURE(fdinfo) {
	struct pss_target t;
	struct shared *s;
	struct pss_recs r;
	int snap;
};

FIXTURE_SETUP(fdinfo)
{
	if (lo_up())
		TH_LOG("bringing lo up: %s", strerror(errno));
	ASSERT_EQ(0, pss_target_start(&self->t, setup, NULL,
				      sizeof(struct shared), true))
		TH_LOG("%s", pss_err);
	self->s = self->t.shared;
	self->snap = pss_capture1(self->t.pid, PSS_FACET_HANDLES |
				  PSS_FACET_HANDLE_NAME | PSS_FACET_HANDLE_BASIC |
				  PSS_FACET_HANDLE_TYPE_SPECIFIC);
	ASSERT_LE(0, self->snap) TH_LOG("%s", pss_err);
	ASSERT_EQ(0, pss_walk_all(self->snap, PSS_WALK_HANDLES, &self->r));
}

FIXTURE_TEARDOWN(fdinfo)
{
	pss_recs_free(&self->r);
	if (self->snap >= 0)
		close(self->snap);
	if (self->s && self->s->unix_path[0])
		unlink(self->s->unix_path);
	pss_target_stop(&self->t);
}

static const struct pss_handle_entry *rec_of(struct pss_recs *r, int fd)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct pss_handle_entry *e = r->rec[i];

		if (e->fd == fd)
			return e;
	}
	return NULL;
}

/* Every record of @kind in turn: its tfd and its handle record. */
#define FOR_KIND(self, K, tf, e)					\
	for (int _i = 0; _i < (self)->s->n; _i++)			\
		if (((tf) = &(self)->s->fds[_i])->kind == (K) &&	\
		    ((e) = rec_of(&(self)->r, (tf)->fd)) != NULL)

static bool is_kind_inet(int k)
{
	return k >= K_TCP_LISTEN && k <= K_UDP_CONN;
}

TEST_F(fdinfo, record_is_ver1)
{
	size_t i;

	for (i = 0; i < self->r.n; i++) {
		const struct pss_handle_entry *e = self->r.rec[i];

		ASSERT_EQ(PSS_HANDLE_ENTRY_SIZE_VER1, e->fixed_len);
		if (e->name_off)
			EXPECT_EQ(PSS_HANDLE_ENTRY_SIZE_VER1, e->name_off);
		EXPECT_EQ(!!e->detail_mask, !!(e->flags & PSS_HANDLE_HAS_DETAIL))
			TH_LOG("fd %d", e->fd);
	}
}

TEST_F(fdinfo, inet_against_proc_net)
{
	const struct pss_handle_entry *e;
	const struct tfd *tf;
	int seen = 0;

	for (int k = K_TCP_LISTEN; k <= K_UDP_CONN; k++) {
		FOR_KIND(self, k, tf, e) {
			bool v6 = tf->family == AF_INET6;
			bool tcp = k <= K_TCP_PENDING;
			const char *file = tcp ? (v6 ? "tcp6" : "tcp") :
					   (v6 ? "udp6" : "udp");
			const struct pss_handle_sock_detail *d = &e->d.sock;
			struct procnet pn;

			ASSERT_TRUE(e->flags & PSS_HANDLE_HAS_DETAIL);
			ASSERT_EQ(0, procnet_find(file, e->ino, v6, &pn))
				TH_LOG("fd %d ino %llu not in %s", tf->fd,
				       (unsigned long long)e->ino, file);
			EXPECT_EQ(tf->family, e->u.socket.family);
			EXPECT_EQ(pn.state, e->u.socket.state)
				TH_LOG("%s fd %d", file, tf->fd);
			EXPECT_TRUE(e->detail_mask & PSS_HD_SOCK_LOCAL);
			EXPECT_EQ(0, memcmp(pn.local, d->in.local_addr, v6 ? 16 : 4))
				TH_LOG("%s fd %d local address", file, tf->fd);
			EXPECT_EQ(pn.lport, d->in.local_port)
				TH_LOG("%s fd %d", file, tf->fd);
			EXPECT_EQ(0, memcmp(pn.remote, d->in.remote_addr, v6 ? 16 : 4))
				TH_LOG("%s fd %d remote address", file, tf->fd);
			EXPECT_EQ(pn.rport, d->in.remote_port)
				TH_LOG("%s fd %d", file, tf->fd);
			EXPECT_EQ(!!pn.rport, !!(e->detail_mask & PSS_HD_SOCK_REMOTE));
			EXPECT_TRUE(e->detail_mask & PSS_HD_SOCK_QUEUES);
			EXPECT_EQ(pn.rx, d->rx_queue) TH_LOG("%s fd %d", file, tf->fd);
			EXPECT_EQ(pn.tx, d->tx_queue) TH_LOG("%s fd %d", file, tf->fd);
			seen++;
		}
	}
	/* 2 families x (listen, client, server, close-wait, pending, udp x2) */
	EXPECT_EQ(14, seen);
}

/* The states and queues the setup built, known without /proc. */
TEST_F(fdinfo, inet_states_as_built)
{
	const struct pss_handle_entry *e, *pe;
	const struct tfd *tf;

	for (int k = K_TCP_LISTEN; k <= K_UDP_CONN; k++) {
		FOR_KIND(self, k, tf, e) {
			static const int want[] = {
				[K_TCP_LISTEN] = 10, [K_TCP_CLIENT] = 1,
				[K_TCP_SERVER] = 1, [K_TCP_CLOSE_WAIT] = 8,
				[K_TCP_PENDING] = 1, [K_UDP_BOUND] = 7,
				[K_UDP_CONN] = 1,
			};

			EXPECT_EQ(want[k], e->u.socket.state)
				TH_LOG("kind %d fd %d", k, tf->fd);
			if (k == K_TCP_LISTEN)
				EXPECT_EQ(1, e->d.sock.rx_queue); /* the pending one */
			if (k == K_TCP_SERVER)
				EXPECT_EQ(TCP_UNREAD, e->d.sock.rx_queue);
			if (k == K_UDP_BOUND)
				EXPECT_LT(0, e->d.sock.rx_queue);
			if (tf->peer < 0)
				continue;
			/* both ends of one connection: each other's addresses */
			pe = rec_of(&self->r, tf->peer);
			ASSERT_NE(NULL, pe);
			EXPECT_EQ(0, memcmp(e->d.sock.in.local_addr,
					    pe->d.sock.in.remote_addr, 16));
			EXPECT_EQ(e->d.sock.in.local_port,
				  pe->d.sock.in.remote_port);
		}
	}
	(void)is_kind_inet;
}

/* Escape a unix name the way /proc/net/unix shows it. */
static void unix_proc_name(const struct pss_handle_sock_unix *u, char *out)
{
	__u32 i;

	if (!u->path_len) {
		out[0] = '\0';
		return;
	}
	for (i = 0; i < u->path_len; i++)
		out[i] = u->path[i] ? u->path[i] : '@';
	out[i] = '\0';
}

TEST_F(fdinfo, unix_against_proc_net_and_peer)
{
	const struct pss_handle_entry *e, *pe;
	const struct tfd *tf;
	int seen = 0;

	for (int k = K_UNIX_LISTEN; k <= K_UNIX_DPAIR; k++) {
		FOR_KIND(self, k, tf, e) {
			const struct pss_handle_sock_unix *u = &e->d.sock.un;
			char proc[256], ours[256];
			int dup, inq = -1, outq = -1;

			ASSERT_TRUE(e->flags & PSS_HANDLE_HAS_DETAIL);
			EXPECT_EQ(AF_UNIX, e->u.socket.family);
			ASSERT_EQ(0, procnet_unix_path(e->ino, proc, sizeof(proc)))
				TH_LOG("ino %llu", (unsigned long long)e->ino);
			unix_proc_name(u, ours);
			EXPECT_STREQ(proc, ours) TH_LOG("kind %d fd %d", k, tf->fd);
			if (k == K_UNIX_LISTEN)
				EXPECT_STREQ(self->s->unix_path, u->path);
			if (k == K_UNIX_ABSTRACT) {
				EXPECT_EQ(self->s->abstract_len, u->path_len);
				EXPECT_EQ(0, memcmp(self->s->abstract, u->path,
						    u->path_len));
			}
			if (k == K_UNIX_PAIR || k == K_UNIX_DPAIR)
				EXPECT_EQ(0, u->path_len);
			/* the peer's inode is the other end's */
			if (tf->peer >= 0) {
				pe = rec_of(&self->r, tf->peer);
				ASSERT_NE(NULL, pe);
				EXPECT_TRUE(e->detail_mask & PSS_HD_SOCK_PEER);
				EXPECT_EQ(pe->ino, u->peer_ino)
					TH_LOG("kind %d fd %d", k, tf->fd);
			} else {
				EXPECT_FALSE(e->detail_mask & PSS_HD_SOCK_PEER);
			}
			/* queues: what SIOCINQ / SIOCOUTQ say on the same socket */
			dup = sys_pidfd_getfd(self->t.pidfd, tf->fd);
			ASSERT_LE(0, dup) TH_LOG("pidfd_getfd: %s", strerror(errno));
			if (k != K_UNIX_LISTEN) {
				ASSERT_EQ(0, ioctl(dup, SIOCINQ, &inq));
				ASSERT_EQ(0, ioctl(dup, SIOCOUTQ, &outq));
				EXPECT_EQ(inq, e->d.sock.rx_queue)
					TH_LOG("kind %d fd %d", k, tf->fd);
				EXPECT_EQ(outq, e->d.sock.tx_queue)
					TH_LOG("kind %d fd %d", k, tf->fd);
			}
			close(dup);
			seen++;
		}
	}
	EXPECT_EQ(8, seen);
	/* the unread data is where the setup left it */
	FOR_KIND(self, K_UNIX_SERVER, tf, e)
		EXPECT_EQ(UNIX_UNREAD, e->d.sock.rx_queue);
}

TEST_F(fdinfo, netlink_and_packet)
{
	const struct pss_handle_entry *e;
	const struct tfd *tf;
	int seen = 0;

	FOR_KIND(self, K_NETLINK, tf, e) {
		struct sockaddr_nl nl;
		socklen_t len = sizeof(nl);
		int dup = sys_pidfd_getfd(self->t.pidfd, tf->fd);

		ASSERT_LE(0, dup);
		ASSERT_EQ(0, getsockname(dup, (void *)&nl, &len));
		close(dup);
		EXPECT_EQ(NETLINK_ROUTE, e->u.socket.protocol);
		EXPECT_TRUE(e->detail_mask & PSS_HD_SOCK_LOCAL);
		EXPECT_EQ(nl.nl_pid, e->d.sock.nl.portid);
		EXPECT_NE(0, e->d.sock.nl.portid);
		seen++;
	}
	FOR_KIND(self, K_PACKET, tf, e) {
		EXPECT_TRUE(e->detail_mask & PSS_HD_SOCK_LOCAL);
		EXPECT_EQ(ETH_P_IP, e->d.sock.pkt.protocol);
		EXPECT_EQ((int)if_nametoindex("lo"), e->d.sock.pkt.ifindex);
		seen++;
	}
	if (self->s->no_packet)
		TH_LOG("no AF_PACKET in this kernel: netlink only");
	EXPECT_EQ(self->s->no_packet ? 1 : 2, seen);
}

TEST_F(fdinfo, anon_against_fdinfo)
{
	pid_t pid = self->t.pid;
	const struct pss_handle_entry *e;
	const struct tfd *tf;
	int seen = 0;

	FOR_KIND(self, K_EVENTFD, tf, e) {
		char *sem = fdinfo(pid, tf->fd, "eventfd-semaphore:");

		ASSERT_TRUE(e->detail_mask & PSS_HD_EVENTFD);
		EXPECT_EQ(EVENTFD_COUNT, e->d.eventfd.count);
		EXPECT_EQ(fdinfo_ull(pid, tf->fd, "eventfd-count:", 16),
			  e->d.eventfd.count);
		EXPECT_EQ(fdinfo_ull(pid, tf->fd, "eventfd-id:", 10),
			  e->d.eventfd.id);
		if (sem)
			EXPECT_EQ(1, e->d.eventfd.semaphore);
		free(sem);
		seen++;
	}
	FOR_KIND(self, K_TIMERFD, tf, e) {
		const struct pss_handle_timerfd *d = &e->d.timerfd;
		unsigned long long vs, vns, is, ins;
		char *v = fdinfo(pid, tf->fd, "it_value:");
		char *i = fdinfo(pid, tf->fd, "it_interval:");

		ASSERT_TRUE(e->detail_mask & PSS_HD_TIMERFD);
		ASSERT_EQ(2, sscanf(v, " (%llu, %llu)", &vs, &vns));
		ASSERT_EQ(2, sscanf(i, " (%llu, %llu)", &is, &ins));
		free(v);
		free(i);
		EXPECT_EQ(fdinfo_ull(pid, tf->fd, "clockid:", 10), d->clockid);
		EXPECT_EQ(CLOCK_MONOTONIC, d->clockid);
		EXPECT_EQ(fdinfo_ull(pid, tf->fd, "ticks:", 10), d->ticks);
		EXPECT_EQ(fdinfo_ull(pid, tf->fd, "settime flags:", 8),
			  d->settime_flags);
		EXPECT_EQ(is * 1000000000ULL + ins, d->interval_ns);
		EXPECT_EQ(TIMER_IVL_NS, d->interval_ns);
		/* counting down: read before fdinfo, after the arming */
		EXPECT_GE(d->value_ns, vs * 1000000000ULL + vns);
		EXPECT_LE(d->value_ns, TIMER_VALUE_S * 1000000000ULL);
		seen++;
	}
	FOR_KIND(self, K_SIGNALFD, tf, e) {
		ASSERT_TRUE(e->detail_mask & PSS_HD_SIGNALFD);
		EXPECT_EQ(fdinfo_ull(pid, tf->fd, "sigmask:", 16),
			  e->d.signalfd.sigmask);
		EXPECT_EQ((1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGRTMIN + 1 - 1)),
			  e->d.signalfd.sigmask);
		seen++;
	}
	FOR_KIND(self, K_INOTIFY, tf, e) {
		const struct pss_handle_inotify *d = &e->d.inotify;
		char *all = fdinfo_all(pid, tf->fd), *p;
		__u32 n = 0;

		ASSERT_TRUE(e->detail_mask & PSS_HD_INOTIFY);
		EXPECT_EQ(self->s->inotify_watches, d->nr_watches);
		EXPECT_EQ(d->nr_watches, d->nr_listed);
		for (p = all; (p = strstr(p, "inotify wd:")); p++) {
			unsigned int wd, sdev, mask;
			unsigned long ino;

			ASSERT_EQ(4, sscanf(p, "inotify wd:%x ino:%lx sdev:%x mask:%x",
					    &wd, &ino, &sdev, &mask));
			ASSERT_GT(d->nr_listed, n);
			EXPECT_EQ(wd, d->watch[n].wd);
			EXPECT_EQ(ino, d->watch[n].ino);
			EXPECT_EQ(sdev, d->watch[n].sdev);
			EXPECT_EQ(mask, d->watch[n].mask);
			n++;
		}
		EXPECT_EQ(n, d->nr_watches);
		free(all);
		seen++;
	}
	FOR_KIND(self, K_EPOLL, tf, e) {
		const struct pss_handle_epoll *d = &e->d.epoll;
		char *all = fdinfo_all(pid, tf->fd), *p;
		__u32 n = 0;
		int fd;

		ASSERT_TRUE(e->detail_mask & PSS_HD_EPOLL);
		EXPECT_FALSE(e->detail_mask & PSS_HD_TRUNCATED);
		EXPECT_EQ(3, d->nr_targets);
		for (p = all; (p = strstr(p, "tfd:")); p++) {
			ASSERT_EQ(1, sscanf(p, "tfd: %d", &fd));
			ASSERT_GT(d->nr_listed, n);
			EXPECT_EQ(fd, d->tfd[n]);
			n++;
		}
		EXPECT_EQ(n, d->nr_targets);
		free(all);
		seen++;
	}
	FOR_KIND(self, K_PIDFD, tf, e) {
		ASSERT_TRUE(e->detail_mask & PSS_HD_PIDFD);
		EXPECT_EQ(getpid(), e->d.pidfd.pid);
		EXPECT_EQ((long long)fdinfo_ull(pid, tf->fd, "Pid:", 10),
			  e->d.pidfd.pid);
		seen++;
	}
	EXPECT_EQ(6, seen);
}

TEST_F(fdinfo, memfd_seals_and_tty_index)
{
	const struct pss_handle_entry *e;
	const struct tfd *tf;
	int seen = 0;

	FOR_KIND(self, K_MEMFD, tf, e) {
		int dup = sys_pidfd_getfd(self->t.pidfd, tf->fd);

		ASSERT_LE(0, dup);
		ASSERT_TRUE(e->detail_mask & PSS_HD_MEMFD);
		EXPECT_EQ(fcntl(dup, F_GET_SEALS), (int)e->d.memfd.seals);
		EXPECT_EQ(F_SEAL_SHRINK | F_SEAL_GROW, e->d.memfd.seals);
		close(dup);
		seen++;
	}
	FOR_KIND(self, K_PTMX, tf, e) {
		ASSERT_TRUE(e->detail_mask & PSS_HD_TTY);
		EXPECT_EQ(fdinfo_ull(self->t.pid, tf->fd, "tty-index:", 10),
			  e->d.tty.index);
		seen++;
	}
	FOR_KIND(self, K_PTS, tf, e) {
		char link[64], want[64];

		ASSERT_TRUE(e->detail_mask & PSS_HD_TTY);
		ASSERT_EQ(0, pss_readlink_fmt(link, sizeof(link), "/proc/%d/fd/%d",
					      self->t.pid, tf->fd));
		snprintf(want, sizeof(want), "/dev/pts/%d", e->d.tty.index);
		EXPECT_STREQ(want, link);
		seen++;
	}
	EXPECT_EQ(3, seen);
}

/* The output of "pss ARGS" (from $PSS_BIN or /bin/pss), malloc'd. */
static char *run_pss(const char *args)
{
	const char *bin = getenv("PSS_BIN");
	char cmd[512], *out = NULL;
	size_t len = 0, n;
	char buf[4096];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s %s", bin && *bin ? bin : "/bin/pss", args);
	f = popen(cmd, "r");
	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		out = realloc(out, len + n + 1);
		memcpy(out + len, buf, n);
		len += n;
		out[len] = '\0';
	}
	if (pclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* The raw row of fd @fd in "pss fds -r -n -o FD,..." output, or NULL. */
static const char *row_of(const char *out, int fd)
{
	static char line[1024];
	const char *p = out;

	while (p && *p) {
		size_t n = strcspn(p, "\n");
		int f;

		if (sscanf(p, "%d", &f) == 1 && f == fd) {
			snprintf(line, sizeof(line), "%.*s", (int)n, p);
			return line;
		}
		p += n + (p[n] == '\n');
	}
	return NULL;
}

/*
 * pss fds shows the detail with lsfd's column names: each cell as the
 * kernel's own view gives it (/proc/net, fdinfo), through the tool.
 */
TEST_F(fdinfo, pss_fds_columns)
{
	const struct pss_handle_entry *e;
	const struct tfd *tf;
	char args[256], want[512];
	char *out;
	int seen = 0;

	snprintf(args, sizeof(args),
		 "fds -r -n -o FD,TCP.LADDR,TCP.RADDR,SOCK.RECVQ,UNIX.PEER,EVENTFD.ID,TIMERFD.CLOCKID,PIDFD.PID,EVENTPOLL.TFDS %d",
		 self->t.pid);
	out = run_pss(args);
	ASSERT_NE(NULL, out) TH_LOG("pss %s failed", args);

	FOR_KIND(self, K_TCP_SERVER, tf, e) {
		bool v6 = tf->family == AF_INET6;
		struct procnet pn;
		char l[64], r[64], la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN];

		ASSERT_EQ(0, procnet_find(v6 ? "tcp6" : "tcp", e->ino, v6, &pn));
		inet_ntop(tf->family, pn.local, la, sizeof(la));
		inet_ntop(tf->family, pn.remote, ra, sizeof(ra));
		snprintf(l, sizeof(l), v6 ? "[%s]:%u" : "%s:%u", la, pn.lport);
		snprintf(r, sizeof(r), v6 ? "[%s]:%u" : "%s:%u", ra, pn.rport);
		snprintf(want, sizeof(want), "%d %s %s %u", tf->fd, l, r, pn.rx);
		EXPECT_EQ(0, strncmp(want, row_of(out, tf->fd) ?: "", strlen(want)))
			TH_LOG("want \"%s\" got \"%s\"", want, row_of(out, tf->fd));
		seen++;
	}
	FOR_KIND(self, K_UNIX_PAIR, tf, e) {
		const struct pss_handle_entry *pe = rec_of(&self->r, tf->peer);
		int dup = sys_pidfd_getfd(self->t.pidfd, tf->fd), inq = -1;

		ASSERT_NE(NULL, pe);
		ASSERT_LE(0, dup);
		ASSERT_EQ(0, ioctl(dup, SIOCINQ, &inq));
		close(dup);
		snprintf(want, sizeof(want), "%d   %d %llu", tf->fd, inq,
			 (unsigned long long)pe->ino);
		EXPECT_EQ(0, strncmp(want, row_of(out, tf->fd) ?: "", strlen(want)))
			TH_LOG("want \"%s\" got \"%s\"", want, row_of(out, tf->fd));
		seen++;
	}
	FOR_KIND(self, K_EVENTFD, tf, e) {
		snprintf(want, sizeof(want), "%d     %llu ", tf->fd,
			 fdinfo_ull(self->t.pid, tf->fd, "eventfd-id:", 10));
		EXPECT_EQ(0, strncmp(want, row_of(out, tf->fd) ?: "", strlen(want)))
			TH_LOG("want \"%s\" got \"%s\"", want, row_of(out, tf->fd));
		seen++;
	}
	FOR_KIND(self, K_TIMERFD, tf, e) {
		snprintf(want, sizeof(want), "%d      monotonic  ", tf->fd);
		EXPECT_EQ(0, strncmp(want, row_of(out, tf->fd) ?: "", strlen(want)))
			TH_LOG("want \"%s\" got \"%s\"", want, row_of(out, tf->fd));
		seen++;
	}
	FOR_KIND(self, K_PIDFD, tf, e) {
		snprintf(want, sizeof(want), "%d       %lld ", tf->fd,
			 (long long)fdinfo_ull(self->t.pid, tf->fd, "Pid:", 10));
		EXPECT_EQ(0, strncmp(want, row_of(out, tf->fd) ?: "", strlen(want)))
			TH_LOG("want \"%s\" got \"%s\"", want, row_of(out, tf->fd));
		seen++;
	}
	FOR_KIND(self, K_EPOLL, tf, e) {
		char *all = fdinfo_all(self->t.pid, tf->fd), *p;
		size_t n;
		int fd;

		n = snprintf(want, sizeof(want), "%d        ", tf->fd);
		for (p = all; (p = strstr(p, "tfd:")); p++)
			if (sscanf(p, "tfd: %d", &fd) == 1)
				n += snprintf(want + n, sizeof(want) - n, "%s%d",
					      want[n - 1] == ' ' ? "" : ",", fd);
		free(all);
		EXPECT_STREQ(want, row_of(out, tf->fd) ?: "");
		seen++;
	}
	EXPECT_EQ(8, seen);
	free(out);
}

/*
 * A pidfd's pid is translated into the capturer's pid namespace: captured
 * from a new pid namespace (by pidfd: the target is not visible there),
 * the target's pidfd of this test process reads 0.
 */
TEST_F(fdinfo, pidfd_in_callers_pid_namespace)
{
	int status, pidfd_fd = -1;
	pid_t child;

	for (int i = 0; i < self->s->n; i++)
		if (self->s->fds[i].kind == K_PIDFD)
			pidfd_fd = self->s->fds[i].fd;
	ASSERT_LE(0, pidfd_fd);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct pss_capture_args a;
		struct pss_recs r;
		pid_t inner;
		int dev, snap;

		if (unshare(CLONE_NEWPID))
			_exit(10);
		inner = fork();
		if (inner < 0)
			_exit(11);
		if (inner) {
			if (waitpid(inner, &status, 0) != inner)
				_exit(12);
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 13);
		}
		dev = pss_open_dev();
		pss_capture_init(&a, 0, PSS_FACET_HANDLES |
				 PSS_FACET_HANDLE_TYPE_SPECIFIC);
		a.flags = PSS_CAPTURE_PIDFD;
		a.target_pidfd = self->t.pidfd;
		snap = dev < 0 ? -1 : ioctl(dev, PSS_IOC_CAPTURE, &a);
		if (snap < 0 || pss_walk_all(snap, PSS_WALK_HANDLES, &r))
			_exit(14);
		for (size_t i = 0; i < r.n; i++) {
			const struct pss_handle_entry *e = r.rec[i];

			if (e->fd != pidfd_fd)
				continue;
			if (!(e->detail_mask & PSS_HD_PIDFD))
				_exit(15);
			_exit(e->d.pidfd.pid == 0 ? 0 : 16);
		}
		_exit(17);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* A target that chroots into @arg and works in a directory it removed. */
static int setup_dirs(void *shm, void *arg)
{
	const char *root = arg;
	char dir[128];

	(void)shm;
	snprintf(dir, sizeof(dir), "%s/gone", root);
	if ((mkdir(root, 0700) && errno != EEXIST) || mkdir(dir, 0700) ||
	    chdir(dir) || rmdir(dir))
		return 30;
	return chroot(root) ? 31 : 0;
}

/* lsof's cwd and rtd: as readlink(/proc/PID/cwd) and .../root show them. */
TEST(cwd_and_root)
{
	struct pss_process_info pi;
	struct pss_target t;
	char root[64], want[256], link[256];
	int snap;

	snprintf(root, sizeof(root), "/tmp/pss-root-%d", getpid());
	ASSERT_EQ(0, pss_target_start(&t, setup_dirs, root, 0, true))
		TH_LOG("%s", pss_err);
	snap = pss_capture1(t.pid, PSS_FACET_HANDLES | PSS_FACET_HANDLE_NAME);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	close(snap);
	ASSERT_TRUE(pi.mask & PSS_PROC_HAS_FS);
	ASSERT_EQ(0, pss_readlink_fmt(link, sizeof(link), "/proc/%d/cwd", t.pid));
	EXPECT_STREQ(link, pi.cwd_path);
	EXPECT_EQ(strlen(pi.cwd_path), pi.cwd_path_len);
	snprintf(want, sizeof(want), "%s/gone (deleted)", root);
	EXPECT_STREQ(want, pi.cwd_path);
	ASSERT_EQ(0, pss_readlink_fmt(link, sizeof(link), "/proc/%d/root", t.pid));
	EXPECT_STREQ(link, pi.root_path);
	EXPECT_STREQ(root, pi.root_path);
	EXPECT_EQ(strlen(root), pi.root_path_len);

	/* not without names: the directories go with HANDLE_NAME */
	snap = pss_capture1(t.pid, PSS_FACET_HANDLES | PSS_FACET_HANDLE_BASIC);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_query_process(snap, &pi));
	close(snap);
	EXPECT_FALSE(pi.mask & PSS_PROC_HAS_FS);
	EXPECT_EQ(0, pi.cwd_path[0] | pi.root_path[0]);

	/* pss show's CWD and ROOT (raw output escapes the space) */
	{
		char args[64], *out;

		snprintf(args, sizeof(args), "show -r -n -o CWD,ROOT %d", t.pid);
		out = run_pss(args);
		ASSERT_NE(NULL, out);
		snprintf(want, sizeof(want), "%s/gone\\x20(deleted) %s\n", root, root);
		EXPECT_STREQ(want, out);
		free(out);
	}
	pss_target_stop(&t);
	rmdir(root);
}

#define MANY_TARGETS	2000

/*
 * An epoll with *arg targets (default: more than the kernel's fdinfo text
 * buffer holds).
 */
static int setup_many(void *shm, void *arg)
{
	int n = arg ? *(int *)arg : MANY_TARGETS;
	struct rlimit rl = { n + 64, n + 64 };
	struct epoll_event ev = { .events = EPOLLIN };
	int *ep = shm, efd, i;

	if (setrlimit(RLIMIT_NOFILE, &rl))
		return 60;
	efd = eventfd(0, 0);
	*ep = epoll_create1(0);
	if (efd < 0 || *ep < 0)
		return 61;
	for (i = 0; i < n; i++) {
		int fd = i ? dup(efd) : efd;

		if (fd < 0 || epoll_ctl(*ep, EPOLL_CTL_ADD, fd, &ev))
			return 62;
	}
	return 0;
}

/* Too many targets for the text buffer: a lower bound, and said so. */
/*
 * Start a target with @n epoll targets (NULL: MANY_TARGETS), capture its
 * handle detail and return the epoll fd's record in *@r (pss_recs_free()).
 */
static const struct pss_handle_entry *epoll_rec(struct pss_target *t, int *n,
						struct pss_recs *r)
{
	int snap, ep;

	if (pss_target_start(t, setup_many, n, 0, true))
		return NULL;
	ep = *(int *)t->shared;
	snap = pss_capture1(t->pid, PSS_FACET_HANDLES |
			    PSS_FACET_HANDLE_TYPE_SPECIFIC);
	if (snap < 0 || pss_walk_all(snap, PSS_WALK_HANDLES, r)) {
		if (snap >= 0)
			close(snap);
		pss_target_stop(t);
		return NULL;
	}
	close(snap);
	return rec_of(r, ep);
}

TEST(epoll_truncated)
{
	const struct pss_handle_entry *e;
	struct pss_target t;
	struct pss_recs r;
	char *all, *p;
	int lines = 0;

	e = epoll_rec(&t, NULL, &r);
	ASSERT_NE(NULL, e) TH_LOG("%s", pss_err);
	all = fdinfo_all(t.pid, *(int *)t.shared);
	for (p = all; p && (p = strstr(p, "tfd:")); p++)
		lines++;
	free(all);
	ASSERT_EQ(MANY_TARGETS, lines);
	ASSERT_TRUE(e->detail_mask & PSS_HD_EPOLL);
	EXPECT_TRUE(e->detail_mask & PSS_HD_TRUNCATED);
	EXPECT_LT(e->d.epoll.nr_targets, MANY_TARGETS);
	EXPECT_EQ(PSS_EPOLL_LISTED, e->d.epoll.nr_listed);
	pss_recs_free(&r);
	pss_target_stop(&t);
}

/*
 * Targets whose fdinfo text is several pages (the module starts with a page
 * for the text, as an eventfd's is 3 lines): all counted, none dropped.
 */
TEST(epoll_pages_of_targets)
{
	const struct pss_handle_entry *e;
	struct pss_target t;
	struct pss_recs r;
	int n = 300;

	e = epoll_rec(&t, &n, &r);
	ASSERT_NE(NULL, e) TH_LOG("%s", pss_err);
	ASSERT_TRUE(e->detail_mask & PSS_HD_EPOLL);
	EXPECT_FALSE(e->detail_mask & PSS_HD_TRUNCATED);
	EXPECT_EQ(n, e->d.epoll.nr_targets);
	EXPECT_EQ(PSS_EPOLL_LISTED, e->d.epoll.nr_listed);
	pss_recs_free(&r);
	pss_target_stop(&t);
}

/* ---------------------------------------------------------- build-ids */

/*
 * The GNU build-id of an ELF64 little-endian file, read from the file
 * itself with pread (the test's own reader, not the kernel's): its length,
 * 0 if none, -1 if not such an ELF file.
 */
static int file_build_id(const char *path, unsigned char *id, size_t max)
{
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1;

	if (fd < 0)
		return -1;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		goto out;
	ret = 0;
	for (int i = 0; i < eh.e_phnum && !ret; i++) {
		Elf64_Phdr ph;
		off_t off, end;

		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * eh.e_phentsize) !=
		    sizeof(ph)) {
			ret = -1;
			break;
		}
		if (ph.p_type != PT_NOTE)
			continue;
		for (off = ph.p_offset, end = off + ph.p_filesz; off + 12 <= end;) {
			Elf64_Nhdr nh;
			char name[4];

			if (pread(fd, &nh, sizeof(nh), off) != sizeof(nh))
				break;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    pread(fd, name, 4, off + 12) == 4 &&
			    !memcmp(name, "GNU", 4) && nh.n_descsz <= max) {
				if (pread(fd, id, nh.n_descsz,
					  off + 12 + 4) == (ssize_t)nh.n_descsz)
					ret = nh.n_descsz;
				break;
			}
			off += 12 + ((nh.n_namesz + 3) & ~3) +
			       ((nh.n_descsz + 3) & ~3);
		}
	}
out:
	close(fd);
	return ret;
}

/* An ELF64 file: one PT_NOTE at page 1 holding an "XYZ" note, then a GNU
 * note of @idlen bytes (none if 0); page 0 left a hole if @hole0.
 */
static int write_elf(const char *path, size_t idlen, bool hole0,
		     bool hole_notes)
{
	unsigned char page[4096], *p;
	Elf64_Ehdr *eh = (void *)page;
	Elf64_Phdr *ph = (void *)(page + sizeof(*eh));
	Elf64_Nhdr *nh;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t i;

	if (fd < 0)
		return -1;
	memset(page, 0, sizeof(page));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	ph->p_type = PT_NOTE;
	ph->p_offset = 8192;
	ph->p_filesz = 2 * sizeof(*nh) + 4 + 4 + 4 + ((idlen + 3) & ~3);
	if (!hole0 && pwrite(fd, page, sizeof(page), 0) != sizeof(page))
		goto fail;
	memset(page, 'm', sizeof(page));	/* page 1: what is mapped */
	if (pwrite(fd, page, sizeof(page), 4096) != sizeof(page))
		goto fail;
	memset(page, 0, sizeof(page));
	nh = (void *)page;
	nh->n_namesz = 4;
	nh->n_descsz = 4;
	nh->n_type = NT_GNU_BUILD_ID;
	memcpy(page + sizeof(*nh), "XYZ", 4);
	p = page + sizeof(*nh) + 8;
	nh = (void *)p;
	nh->n_namesz = 4;
	nh->n_descsz = idlen;
	nh->n_type = idlen ? NT_GNU_BUILD_ID : NT_GNU_ABI_TAG;
	memcpy(p + sizeof(*nh), "GNU", 4);
	for (i = 0; i < idlen; i++)
		p[sizeof(*nh) + 4 + i] = 0xa0 + i;
	if (hole_notes) {
		if (ftruncate(fd, 3 * 4096))
			goto fail;
	} else if (pwrite(fd, page, sizeof(page), 8192) != sizeof(page)) {
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

enum { BF_ID, BF_NOID, BF_LONG, BF_HOLE0, BF_HOLENOTES, BF_TEXT, BF_NR };

static char bpath[BF_NR][64];

/*
 * Maps page 1 of each file (@arg: the paths, inherited across fork) and
 * reports the addresses: page 0, the ELF header, is never read by it.
 */
static int setup_maps(void *shm, void *arg)
{
	unsigned long *addr = shm;
	char (*path)[64] = arg;

	for (int i = 0; i < BF_NR; i++) {
		int fd = open(path[i], O_RDONLY | O_CLOEXEC);
		void *m;

		if (fd < 0)
			return 40 + i;
		m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 4096);
		close(fd);
		if (m == MAP_FAILED)
			return 50 + i;
		addr[i] = (unsigned long)m;
	}
	return 0;
}

static const struct pss_vma_entry *vma_at(struct pss_recs *r, __u64 start)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct pss_vma_entry *v = r->rec[i];

		if (v->start == start)
			return v;
	}
	return NULL;
}

/*
 * Build-ids of constructed ELF files, each reaching one state, and of the
 * target's own executable against the note read from the file itself.
 * tmpfs keeps every page it has: a page never written is a hole with no
 * page cache folio, which is how "not cached" is reached here.
 */
TEST(build_ids)
{
	static const struct {
		const char *tag;
		size_t idlen;
		bool hole0, hole_notes;
		__u32 state;
	} files[BF_NR] = {
		[BF_ID] = { "id", 20, false, false, PSS_BUILD_ID_FOUND },
		[BF_NOID] = { "noid", 0, false, false, PSS_BUILD_ID_NO_NOTE },
		[BF_LONG] = { "long", 40, false, false, PSS_BUILD_ID_TOO_LONG },
		[BF_HOLE0] = { "hole0", 20, true, false, PSS_BUILD_ID_NOT_CACHED },
		[BF_HOLENOTES] = { "holenotes", 20, false, true,
				   PSS_BUILD_ID_NOT_CACHED },
		[BF_TEXT] = { "text", 0, false, false, PSS_BUILD_ID_NOT_ELF },
	};
	unsigned char id[64];
	struct pss_target t;
	unsigned long *addr;
	struct pss_recs r;
	char exe[256];
	int snap, n, exe_vmas = 0;
	size_t i;

	for (i = 0; i < BF_NR; i++) {
		snprintf(bpath[i], sizeof(bpath[i]), "/tmp/pss-bid-%d-%s",
			 getpid(), files[i].tag);
		if (i == BF_TEXT) {
			char text[8192];
			int fd = open(bpath[i], O_RDWR | O_CREAT | O_TRUNC, 0600);

			memset(text, 't', sizeof(text));
			ASSERT_LE(0, fd);
			ASSERT_EQ(sizeof(text), write(fd, text, sizeof(text)));
			close(fd);
		} else {
			ASSERT_EQ(0, write_elf(bpath[i], files[i].idlen,
					       files[i].hole0, files[i].hole_notes));
		}
	}
	ASSERT_EQ(0, pss_target_start(&t, setup_maps, bpath, 0, true))
		TH_LOG("%s", pss_err);
	addr = t.shared;
	snap = pss_capture1(t.pid, PSS_FACET_VA_SPACE | PSS_FACET_VA_SPACE_SECTION);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_VA_SPACE, &r));
	close(snap);

	for (i = 0; i < BF_NR; i++) {
		const struct pss_vma_entry *v = vma_at(&r, addr[i]);

		ASSERT_NE(NULL, v) TH_LOG("%s", files[i].tag);
		ASSERT_TRUE(v->flags & PSS_VMA_HAS_BUILD_ID);
		EXPECT_EQ(files[i].state, v->build_id_state)
			TH_LOG("%s", files[i].tag);
		if (files[i].state != PSS_BUILD_ID_FOUND) {
			EXPECT_EQ(0, v->build_id_len);
			continue;
		}
		n = file_build_id(bpath[i], id, sizeof(id));
		ASSERT_EQ(20, n);
		EXPECT_EQ(n, v->build_id_len);
		EXPECT_EQ(0, memcmp(id, v->build_id, n));
	}

	/* the executable: every VMA of it says the same as the file */
	ASSERT_EQ(0, pss_readlink_fmt(exe, sizeof(exe), "/proc/%d/exe", t.pid));
	n = file_build_id(exe, id, sizeof(id));
	ASSERT_LT(0, n) TH_LOG("%s has no build-id note to compare with", exe);
	for (i = 0; i < r.n; i++) {
		const struct pss_vma_entry *v = r.rec[i];
		const char *name = pss_rec_name(v);

		if (!name || strcmp(name, exe))
			continue;
		EXPECT_EQ(PSS_BUILD_ID_FOUND, v->build_id_state);
		EXPECT_EQ(n, v->build_id_len);
		EXPECT_EQ(0, memcmp(id, v->build_id, n));
		exe_vmas++;
	}
	EXPECT_LT(0, exe_vmas);
	/* anonymous VMAs: not looked at */
	for (i = 0; i < r.n; i++) {
		const struct pss_vma_entry *v = r.rec[i];

		if (v->name_kind != PSS_VMA_NAME_FILE)
			EXPECT_EQ(PSS_BUILD_ID_NONE, v->build_id_state);
	}
	pss_recs_free(&r);

	/* without SECTION: no build-ids, no flag */
	snap = pss_capture1(t.pid, PSS_FACET_VA_SPACE);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_VA_SPACE, &r));
	close(snap);
	for (i = 0; i < r.n; i++) {
		const struct pss_vma_entry *v = r.rec[i];

		EXPECT_FALSE(v->flags & PSS_VMA_HAS_BUILD_ID);
		EXPECT_EQ(0, v->build_id_state);
	}
	pss_recs_free(&r);
	pss_target_stop(&t);
	for (i = 0; i < BF_NR; i++)
		unlink(bpath[i]);
}

/* Without TYPE_SPECIFIC nothing of the VER1 part is filled. */
TEST_F(fdinfo, not_without_type_specific)
{
	struct pss_recs r;
	size_t i;
	int snap = pss_capture1(self->t.pid, PSS_FACET_HANDLES |
				PSS_FACET_HANDLE_BASIC);

	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_HANDLES, &r));
	for (i = 0; i < r.n; i++) {
		const struct pss_handle_entry *e = r.rec[i];
		static const char zero[sizeof(e->d)];

		EXPECT_EQ(0, e->detail_mask);
		EXPECT_FALSE(e->flags & PSS_HANDLE_HAS_DETAIL);
		EXPECT_EQ(0, memcmp(&e->d, zero, sizeof(zero)));
	}
	pss_recs_free(&r);
	close(snap);
}

TEST_HARNESS_MAIN
