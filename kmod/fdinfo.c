// SPDX-License-Identifier: GPL-2.0
/*
 * pss: handle detail (HANDLE_TYPE_SPECIFIC, VER1 part of the record).
 *
 * Everything here runs after the cut, from the file pinned at it, and may
 * sleep. Sockets are read through the public struct sock / inet_sock /
 * tcp_sock / udp_sock fields /proc/net reads, as it reads them (addresses
 * and ports too), and, for the other families, the exported socket calls
 * (kernel_getsockname(), unix_peer_get(), the unix queue lengths). The
 * state of eventfd, timerfd, signalfd, inotify and epoll files lives in
 * structs private to their .c files: pss asks the
 * file itself, through its f_op->show_fdinfo(), for the text
 * /proc/PID/fdinfo/N would show, and parses that - the kernel's own view,
 * with the kernel's own locking. pidfds, memfds and ttys are read from
 * exported headers' structs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/if_packet.h>
#include <linux/kdev_t.h>
#include <linux/major.h>
#include <linux/net.h>
#include <linux/netlink.h>
#include <linux/pid.h>
#include <linux/seq_file.h>
#include <linux/shmem_fs.h>
#include <linux/hugetlb.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/tcp.h>
#include <linux/tty.h>
#include <linux/un.h>
#include <net/af_unix.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/udp.h>
#include "compat.h"
#include "fdinfo.h"
#include "pss.h"

/*
 * The fdinfo text buffer: a page first (an eventfd's text is 3 lines), up
 * to enough for ~1000 epoll targets when a text does not fit.
 */
#define PSS_FDINFO_BUF		SZ_64K

/* The VER1 union's members (the record's sizes are pinned in dev.c). */
static_assert(sizeof(struct pss_handle_sock_inet) == 40);
static_assert(sizeof(struct pss_handle_sock_unix) == 128);
static_assert(sizeof(struct pss_handle_sock_detail) == 136);
static_assert(sizeof(struct pss_handle_inotify) == 128);
static_assert(sizeof(struct pss_handle_epoll) == 128);
static_assert(sizeof(struct pss_handle_timerfd) == 32);

void pss_fdinfo_init(struct pss_fdinfo *x, struct pss_store *st,
		     struct pid_namespace *pid_ns)
{
	x->store = st;
	x->pid_ns = pid_ns;
	x->buf = NULL;
	x->buf_size = 0;
	x->err = 0;
}

void pss_fdinfo_fini(struct pss_fdinfo *x)
{
	pss_free(x->store, x->buf, x->buf_size);
	x->buf = NULL;
	x->buf_size = 0;
}

/* /proc/net's queue figures for @sk (see struct pss_handle_sock_detail). */
static void pss_sock_queues(struct sock *sk, struct pss_handle_sock_detail *d)
{
	int state = inet_sk_state_load(sk);

	if ((sk->sk_family == AF_INET || sk->sk_family == AF_INET6) &&
	    sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP) {
		const struct tcp_sock *tp = tcp_sk(sk);

		if (state == TCP_LISTEN)
			d->rx_queue = READ_ONCE(sk->sk_ack_backlog);
		else
			d->rx_queue = max_t(int, READ_ONCE(tp->rcv_nxt) -
					    READ_ONCE(tp->copied_seq), 0);
		d->tx_queue = READ_ONCE(tp->write_seq) - READ_ONCE(tp->snd_una);
	} else if ((sk->sk_family == AF_INET || sk->sk_family == AF_INET6) &&
		   sk->sk_type == SOCK_DGRAM &&
		   (sk->sk_protocol == IPPROTO_UDP ||
		    sk->sk_protocol == IPPROTO_UDPLITE)) {
		d->rx_queue = udp_rqueue_get(sk);
		d->tx_queue = sk_wmem_alloc_get(sk);
	} else if (sk->sk_family == AF_UNIX) {
		if (state == TCP_LISTEN) {
			d->rx_queue = READ_ONCE(sk->sk_ack_backlog);
			d->tx_queue = READ_ONCE(sk->sk_max_ack_backlog);
		} else {
			d->rx_queue = max_t(long, unix_inq_len(sk), 0);
			d->tx_queue = max_t(long, unix_outq_len(sk), 0);
		}
	} else {
		d->rx_queue = sk_rmem_alloc_get(sk);
		d->tx_queue = sk_wmem_alloc_get(sk);
	}
}

/*
 * An inet socket's names as getsockname() and getpeername() give them, read
 * as /proc/net/{tcp,udp}{,6} reads them: racy field reads, without the
 * lock_sock() (twice per socket) of inet_getname(), and without the cgroup
 * BPF hooks that may rewrite what the process itself is told.
 */
static void pss_inet_names(struct pss_handle_entry *e, struct sock *sk)
{
	struct pss_handle_sock_detail *d = &e->d.sock;
	const struct inet_sock *inet = inet_sk(sk);
	__be16 dport = READ_ONCE(inet->inet_dport);
	int state = READ_ONCE(sk->sk_state);

	if (sk->sk_family == AF_INET) {
		__be32 a = READ_ONCE(inet->inet_rcv_saddr);

		if (!a)
			a = READ_ONCE(inet->inet_saddr);
		memcpy(d->in.local_addr, &a, sizeof(a));
#if IS_ENABLED(CONFIG_IPV6)
	} else {
		const struct ipv6_pinfo *np = inet6_sk(sk);
		struct in6_addr a = sk->sk_v6_rcv_saddr;

		if (ipv6_addr_any(&a) && np)
			a = np->saddr;
		memcpy(d->in.local_addr, &a, sizeof(a));
#endif
	}
	d->in.local_port = ntohs(READ_ONCE(inet->inet_sport));
	e->detail_mask |= PSS_HD_SOCK_LOCAL;

	/* inet_getname()'s -ENOTCONN */
	if (!dport || ((1 << state) & (TCPF_CLOSE | TCPF_SYN_SENT)))
		return;
	if (sk->sk_family == AF_INET) {
		__be32 a = READ_ONCE(inet->inet_daddr);

		memcpy(d->in.remote_addr, &a, sizeof(a));
#if IS_ENABLED(CONFIG_IPV6)
	} else {
		struct in6_addr a = sk->sk_v6_daddr;

		memcpy(d->in.remote_addr, &a, sizeof(a));
#endif
	}
	d->in.remote_port = ntohs(dport);
	e->detail_mask |= PSS_HD_SOCK_REMOTE;
}

/*
 * sock_i_ino() without its read_lock_bh(): the socket's inode is freed
 * only after an RCU grace period (sock_free_inode() is a ->free_inode),
 * and a socket being closed reads as 0, as it would under the lock.
 */
static unsigned long pss_sock_ino(struct sock *sk)
{
	struct socket *sock;
	unsigned long ino = 0;

	rcu_read_lock();
	sock = READ_ONCE(sk->sk_socket);
	if (sock)
		ino = SOCK_INODE(sock)->i_ino;
	rcu_read_unlock();
	return ino;
}

/* kernel_getsockname() and unix_peer_get() lock: after the cut only. */
static void pss_sock_detail(struct pss_handle_entry *e, struct socket *sock)
{
	struct pss_handle_sock_detail *d = &e->d.sock;
	struct sockaddr_storage ss;
	struct sock *sk = sock->sk;
	struct sock *peer;
	int len;

	if (!sk)
		return;
	pss_sock_queues(sk, d);
	e->detail_mask |= PSS_HD_SOCK_QUEUES;

	if (sk->sk_family == AF_INET || sk->sk_family == AF_INET6) {
		pss_inet_names(e, sk);
		return;
	}
	memset(&ss, 0, sizeof(ss));
	len = kernel_getsockname(sock, (struct sockaddr *)&ss);
	switch (sk->sk_family) {
	case AF_UNIX: {
		const struct sockaddr_un *sun = (const void *)&ss;
		int off = offsetof(struct sockaddr_un, sun_path);

		if (len >= off) {
			len = min_t(int, len - off, sizeof(d->un.path));
			/* A path's length counts its NUL; keep it out. */
			if (len && sun->sun_path[0])
				len = strnlen(sun->sun_path, len);
			memcpy(d->un.path, sun->sun_path, len);
			d->un.path_len = len;
			e->detail_mask |= PSS_HD_SOCK_LOCAL;
		}
		peer = unix_peer_get(sk);
		if (peer) {
			d->un.peer_ino = pss_sock_ino(peer);
			sock_put(peer);
			e->detail_mask |= PSS_HD_SOCK_PEER;
		}
		break;
	}
	case AF_NETLINK: {
		const struct sockaddr_nl *nl = (const void *)&ss;

		if (len >= (int)sizeof(*nl)) {
			d->nl.portid = nl->nl_pid;
			d->nl.groups = nl->nl_groups;
			e->detail_mask |= PSS_HD_SOCK_LOCAL;
		}
		break;
	}
	case AF_PACKET: {
		const struct sockaddr_ll *sll = (const void *)&ss;

		/* SOCK_PACKET names itself with a struct sockaddr_pkt. */
		if (sk->sk_type != SOCK_PACKET &&
		    len >= (int)offsetof(struct sockaddr_ll, sll_addr)) {
			d->pkt.protocol = ntohs(sll->sll_protocol);
			d->pkt.ifindex = sll->sll_ifindex;
			e->detail_mask |= PSS_HD_SOCK_LOCAL;
		}
		break;
	}
	}
}

/*
 * The text /proc/PID/fdinfo/N shows after its pos/flags/mnt_id lines: the
 * file's own show_fdinfo() into a private seq_file. NULL if the file has
 * none or the buffer cannot be had; *overflow if the text did not fit.
 */
static const char *pss_fdinfo_text(struct pss_fdinfo *x, struct file *file,
				   bool *overflow)
{
	size_t size = x->buf_size ? x->buf_size : PAGE_SIZE;
	struct seq_file m;

	*overflow = false;
	if (!file->f_op->show_fdinfo)
		return NULL;
	for (;;) {
		if (x->buf_size < size) {
			pss_free(x->store, x->buf, x->buf_size);
			x->buf_size = 0;
			x->buf = pss_alloc_raw(x->store, size);
			if (IS_ERR(x->buf)) {
				x->err = PTR_ERR(x->buf);
				x->buf = NULL;
				return NULL;
			}
			x->buf_size = size;
		}
		memset(&m, 0, sizeof(m));
		m.buf = x->buf;
		m.size = x->buf_size - 1;
		file->f_op->show_fdinfo(&m, file);
		if (!seq_has_overflowed(&m) || x->buf_size == PSS_FDINFO_BUF)
			break;
		size = PSS_FDINFO_BUF;	/* once more, in the biggest */
	}
	if (seq_has_overflowed(&m)) {
		*overflow = true;
		/* Keep the whole lines that fit. */
		while (m.count && x->buf[m.count - 1] != '\n')
			m.count--;
	}
	x->buf[m.count] = '\0';
	return x->buf;
}

/* The value after "@key" at a line start in @text, or NULL. */
static const char *pss_field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, klen))
			return p + klen;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/*
 * The unsigned number in @base after blanks at @p: false if there is none.
 * For the one fdinfo text every process has by the thousand (eventfd),
 * without vsscanf().
 */
static bool pss_num(const char *p, unsigned int base, u64 *v)
{
	const char *s;
	u64 n = 0;
	int d;

	p = skip_spaces(p);
	for (s = p; (d = hex_to_bin(*s)) >= 0 && d < base; s++)
		n = n * base + d;
	*v = n;
	return s != p;
}

static void pss_eventfd(struct pss_handle_entry *e, const char *t)
{
	struct pss_handle_eventfd *d = &e->d.eventfd;
	const char *v = pss_field(t, "eventfd-count:");
	u64 n;

	if (!v || !pss_num(v, 16, &n))
		return;
	d->count = n;
	v = pss_field(t, "eventfd-id:");
	if (v && pss_num(v, 10, &n))
		d->id = n;
	v = pss_field(t, "eventfd-semaphore:");
	if (v && pss_num(v, 10, &n))
		d->semaphore = n;
	e->detail_mask |= PSS_HD_EVENTFD;
}

static void pss_timerfd(struct pss_handle_entry *e, const char *t)
{
	struct pss_handle_timerfd *d = &e->d.timerfd;
	const char *clk = pss_field(t, "clockid:");
	const char *tck = pss_field(t, "ticks:");
	const char *fl = pss_field(t, "settime flags:");
	const char *val = pss_field(t, "it_value:");
	const char *ivl = pss_field(t, "it_interval:");
	unsigned long long ticks, vs, vns, is, ins;
	unsigned int flags;
	int clockid;

	if (!clk || !tck || !fl || !val || !ivl ||
	    sscanf(clk, " %d", &clockid) != 1 ||
	    sscanf(tck, " %llu", &ticks) != 1 ||
	    sscanf(fl, " %o", &flags) != 1 ||
	    sscanf(val, " (%llu, %llu)", &vs, &vns) != 2 ||
	    sscanf(ivl, " (%llu, %llu)", &is, &ins) != 2)
		return;
	d->clockid = clockid;
	d->ticks = ticks;
	d->settime_flags = flags;
	d->value_ns = vs * NSEC_PER_SEC + vns;
	d->interval_ns = is * NSEC_PER_SEC + ins;
	e->detail_mask |= PSS_HD_TIMERFD;
}

static void pss_signalfd(struct pss_handle_entry *e, const char *t)
{
	const char *v = pss_field(t, "sigmask:");
	unsigned long long mask;

	if (!v || sscanf(v, " %llx", &mask) != 1)
		return;
	e->d.signalfd.sigmask = mask;
	e->detail_mask |= PSS_HD_SIGNALFD;
}

static void pss_inotify(struct pss_handle_entry *e, const char *t,
			bool overflow)
{
	struct pss_handle_inotify *d = &e->d.inotify;
	const char *p = t;

	while ((p = pss_field(p, "inotify wd:"))) {
		struct pss_handle_inotify_watch *w;
		unsigned long ino;
		unsigned int wd, sdev, mask;

		if (d->nr_listed < PSS_INOTIFY_LISTED &&
		    sscanf(p, "%x ino:%lx sdev:%x mask:%x",
			   &wd, &ino, &sdev, &mask) == 4) {
			w = &d->watch[d->nr_listed++];
			w->wd = wd;
			w->ino = ino;
			w->sdev = sdev;
			w->mask = mask;
		}
		d->nr_watches++;
	}
	e->detail_mask |= PSS_HD_INOTIFY;
	if (overflow)
		e->detail_mask |= PSS_HD_TRUNCATED;
}

static void pss_epoll(struct pss_handle_entry *e, const char *t,
		      bool overflow)
{
	struct pss_handle_epoll *d = &e->d.epoll;
	const char *p = t;
	int fd;

	while ((p = pss_field(p, "tfd:"))) {
		if (d->nr_listed < PSS_EPOLL_LISTED &&
		    sscanf(p, " %d", &fd) == 1)
			d->tfd[d->nr_listed++] = fd;
		d->nr_targets++;
	}
	e->detail_mask |= PSS_HD_EPOLL;
	if (overflow)
		e->detail_mask |= PSS_HD_TRUNCATED;
}

/* /dev/ptmx and /dev/pts/ptmx: tty's file private data, a pty master. */
static bool pss_is_ptmx(struct inode *inode)
{
	return S_ISCHR(inode->i_mode) &&
	       inode->i_rdev == MKDEV(TTYAUX_MAJOR, 2);
}

static void pss_tty(struct pss_fdinfo *x, struct pss_handle_entry *e,
		    struct file *file)
{
	struct inode *inode = file_inode(file);
	unsigned int major = imajor(inode);
	const char *t, *v;
	bool overflow;
	int index;

	if (major >= UNIX98_PTY_SLAVE_MAJOR &&
	    major < UNIX98_PTY_SLAVE_MAJOR + UNIX98_PTY_MAJOR_COUNT) {
		e->d.tty.index = (major - UNIX98_PTY_SLAVE_MAJOR) * 256 +
				 iminor(inode);
		e->detail_mask |= PSS_HD_TTY;
		return;
	}
	if (!pss_is_ptmx(inode))
		return;
	t = pss_fdinfo_text(x, file, &overflow);
	v = t ? pss_field(t, "tty-index:") : NULL;
	if (v && sscanf(v, " %d", &index) == 1) {
		e->d.tty.index = index;
		e->detail_mask |= PSS_HD_TTY;
	}
}

static void pss_memfd(struct pss_handle_entry *e, struct file *file)
{
	struct inode *inode = file_inode(file);

	if (inode->i_sb->s_magic == TMPFS_MAGIC)
		e->d.memfd.seals = READ_ONCE(SHMEM_I(inode)->seals);
#ifdef CONFIG_HUGETLBFS
	else if (inode->i_sb->s_magic == HUGETLBFS_MAGIC)
		e->d.memfd.seals = READ_ONCE(HUGETLBFS_I(inode)->seals);
#endif
	else
		return;
	e->detail_mask |= PSS_HD_MEMFD;
}

/*
 * Fill the VER1 detail of @e (type already classified) from @file. May
 * sleep: each source takes the locks its /proc file takes. Fails only if
 * the text buffer cannot be had (the capture's memory limits apply).
 */
int pss_fdinfo_fill(struct pss_fdinfo *x, struct pss_handle_entry *e,
		    struct file *file, u32 type)
{
	const char *t;
	bool overflow;
	struct pid *pid;

	if (file->f_mode & FMODE_PATH)
		return 0;
	switch (type) {
	case PSS_HT_SOCKET: {
		struct socket *sock = sock_from_file(file);

		if (sock)
			pss_sock_detail(e, sock);
		break;
	}
	case PSS_HT_EVENTFD:
	case PSS_HT_TIMERFD:
	case PSS_HT_SIGNALFD:
	case PSS_HT_INOTIFY:
	case PSS_HT_EPOLL:
		t = pss_fdinfo_text(x, file, &overflow);
		if (!t)
			break;
		if (type == PSS_HT_EVENTFD)
			pss_eventfd(e, t);
		else if (type == PSS_HT_TIMERFD)
			pss_timerfd(e, t);
		else if (type == PSS_HT_SIGNALFD)
			pss_signalfd(e, t);
		else if (type == PSS_HT_INOTIFY)
			pss_inotify(e, t, overflow);
		else
			pss_epoll(e, t, overflow);
		break;
	case PSS_HT_PIDFD:
		/* As fdinfo's Pid: -1 once the process is gone. */
		pid = pss_pidfd_pid(file);
		if (pid) {
			e->d.pidfd.pid = pid_has_task(pid, PIDTYPE_PID) ?
					 pid_nr_ns(pid, x->pid_ns) : -1;
			e->detail_mask |= PSS_HD_PIDFD;
		}
		break;
	case PSS_HT_MEMFD:
		pss_memfd(e, file);
		break;
	case PSS_HT_CHR:
		pss_tty(x, e, file);
		break;
	}
	if (e->detail_mask)
		e->flags |= PSS_HANDLE_HAS_DETAIL;
	return x->err;
}
