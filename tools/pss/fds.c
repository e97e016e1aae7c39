// SPDX-License-Identifier: GPL-2.0
/*
 * pss fds: one row per open file descriptor, like lsof -p; TYPE and MODE
 * speak lsfd's vocabulary (REG, DIR, CHR, FIFO, SOCK, ...; r--, -w-, rw-).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <sys/stat.h>

#include <libsmartcols.h>

#include "pss.h"

#define H(c, VAR) FIXED(struct pss_handle_entry, VAR, (c)->r)
#define BASIC(h) ((h).flags & PSS_HANDLE_HAS_BASIC)

/* a cell that needs the BASIC facet */
#define CELL(NAME, S, EXPR)						\
static void NAME(const struct rowctx *c, struct val *v)		\
{									\
	H(c, h);							\
	if (BASIC(h))							\
		S(v, EXPR);						\
}

CELL(c_pos, v_uint, h.pos)
CELL(c_oflags, v_oct, h.open_flags)
CELL(c_inode, v_uint, h.ino)
CELL(c_size, v_size, h.i_size)
CELL(c_imode, v_oct, h.i_mode)

static void c_dev(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (BASIC(h))
		v_dev(v, h.dev_major, h.dev_minor);
}

static void c_pid(const struct rowctx *c, struct val *v)
{
	v_int(v, c->d->pid);
}

static void c_fd(const struct rowctx *c, struct val *v)
{
	H(c, h);
	v_int(v, h.fd);
}

/* lsfd's TYPE: the inode type, or the anon inode's class */
static const char *const lsfd_types[PSS_HT_NR] = {
	[PSS_HT_UNKNOWN] = "UNKN",	[PSS_HT_REGULAR] = "REG",
	[PSS_HT_DIR] = "DIR",		[PSS_HT_CHR] = "CHR",
	[PSS_HT_BLK] = "BLK",		[PSS_HT_FIFO] = "FIFO",
	[PSS_HT_PIPE] = "FIFO",		[PSS_HT_SOCKET] = "SOCK",
	[PSS_HT_SYMLINK] = "LINK",	[PSS_HT_MEMFD] = "REG",
	[PSS_HT_EVENTFD] = "eventfd",	[PSS_HT_EPOLL] = "eventpoll",
	[PSS_HT_TIMERFD] = "timerfd",	[PSS_HT_SIGNALFD] = "signalfd",
	[PSS_HT_INOTIFY] = "inotify",	[PSS_HT_FANOTIFY] = "fanotify",
	[PSS_HT_PIDFD] = "pidfd",	[PSS_HT_USERFAULTFD] = "userfaultfd",
	[PSS_HT_IO_URING] = "io_uring",	[PSS_HT_ANON] = "UNKN",
	[PSS_HT_PSS] = "pss",
};

static void c_type(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (BASIC(h))
		v_str(v, h.type < PSS_HT_NR && lsfd_types[h.type] ?
		      lsfd_types[h.type] : "UNKN");
}

/* the library's finer name: pipe vs fifo, memfd vs regular */
static void c_kind(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (BASIC(h))
		v_str(v, pss_handle_type_name(h.type));
}

static void c_mode(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (!BASIC(h))
		return;
	v->buf[0] = h.fmode & PSS_FMODE_READ ? 'r' : '-';
	v->buf[1] = h.fmode & PSS_FMODE_WRITE ? 'w' : '-';
	v->buf[2] = '-';
	v->buf[3] = '\0';
	v_str(v, v->buf);
}

/* access mode and the status flags worth showing, as lower-case names */
static void c_flags(const struct rowctx *c, struct val *v)
{
	H(c, h);
	__u32 f = h.open_flags;

	v_flags_init(v);
	if (BASIC(h)) {
		if (f & O_PATH)
			v_flags_add(v, "path");
		else if ((f & O_ACCMODE) == O_RDONLY)
			v_flags_add(v, "rdonly");
		else if ((f & O_ACCMODE) == O_WRONLY)
			v_flags_add(v, "wronly");
		else
			v_flags_add(v, "rdwr");
	}
	if (h.flags & PSS_HANDLE_CLOEXEC)
		v_flags_add(v, "cloexec");
	if (!BASIC(h))
		return;
	if (f & O_APPEND)
		v_flags_add(v, "append");
	if (f & O_NONBLOCK)
		v_flags_add(v, "nonblock");
	if ((f & O_SYNC) == O_SYNC)
		v_flags_add(v, "sync");
	else if (f & O_DSYNC)
		v_flags_add(v, "dsync");
	if (f & O_ASYNC)
		v_flags_add(v, "async");
	if (f & O_DIRECT)
		v_flags_add(v, "direct");
	if (f & O_NOATIME)
		v_flags_add(v, "noatime");
	if (f & O_NOFOLLOW)
		v_flags_add(v, "nofollow");
}

static void c_rdev(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (BASIC(h) && (S_ISCHR(h.i_mode) || S_ISBLK(h.i_mode)))
		v_dev(v, h.rdev_major, h.rdev_minor);
}

static void c_deleted(const struct rowctx *c, struct val *v)
{
	H(c, h);
	v_bool(v, h.flags & PSS_HANDLE_DELETED);
}

static void c_name(const struct rowctx *c, struct val *v)
{
	v_str(v, pss_handle_entry_name(c->r->p));
}

/* ---- sockets and pipes */

static const char *family_name(unsigned int f)
{
	switch (f) {
	case 1: return "unix";
	case 2: return "inet";
	case 10: return "inet6";
	case 16: return "netlink";
	case 17: return "packet";
	case 40: return "vsock";
	default: return NULL;
	}
}

static const char *socktype_name(unsigned int t)
{
	switch (t) {
	case 1: return "stream";
	case 2: return "dgram";
	case 3: return "raw";
	case 4: return "rdm";
	case 5: return "seqpacket";
	case 6: return "dccp";
	case 10: return "packet";
	default: return NULL;
	}
}

static const char *proto_name(unsigned int family, unsigned int p)
{
	if (family != 2 && family != 10)
		return NULL;
	switch (p) {
	case 0: return "ip";
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmpv6";
	case 132: return "sctp";
	case 136: return "udplite";
	case 255: return "raw";
	default: return NULL;
	}
}

static const char *sock_state_name(const struct pss_handle_socket *s)
{
	static const char *const sk[] = {
		[0] = "unknown", [1] = "established", [2] = "syn_sent",
		[3] = "syn_recv", [4] = "fin_wait1", [5] = "fin_wait2",
		[6] = "time_wait", [7] = "close", [8] = "close_wait",
		[9] = "last_ack", [10] = "listen", [11] = "closing",
		[12] = "new_syn_recv",
	};
	static const char *const ss[] = {
		"free", "unconnected", "connecting", "connected", "disconnecting",
	};

	/* a unix socket's TCP-style state says little until it closes */
	if (s->family == 1 && s->state == 7)
		return s->sock_state < ARRAY_SIZE(ss) ? ss[s->sock_state] : "unknown";
	return s->state < ARRAY_SIZE(sk) ? sk[s->state] : "unknown";
}

#define SOCK(h) (((h).flags & PSS_HANDLE_HAS_SOCKET) ? &(h).u.socket : NULL)
#define PIPE(h) (((h).flags & PSS_HANDLE_HAS_PIPE) ? &(h).u.pipe : NULL)

/* a name from table f, or the number as text */
static void v_named(struct val *v, const char *name, unsigned int num)
{
	if (name) {
		v_str(v, name);
	} else {
		snprintf(v->buf, sizeof(v->buf), "%u", num);
		v_str(v, v->buf);
	}
}

static void c_family(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (SOCK(h))
		v_named(v, family_name(h.u.socket.family), h.u.socket.family);
}

static void c_socktype(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (SOCK(h))
		v_named(v, socktype_name(h.u.socket.type), h.u.socket.type);
}

static void c_proto(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (SOCK(h))
		v_named(v, proto_name(h.u.socket.family, h.u.socket.protocol),
			h.u.socket.protocol);
}

static void c_sockstate(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (SOCK(h))
		v_str(v, sock_state_name(&h.u.socket));
}

static void c_pipesize(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (PIPE(h))
		v_size(v, h.u.pipe.buf_size);
}

static void c_readers(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (PIPE(h))
		v_uint(v, h.u.pipe.readers);
}

static void c_writers(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (PIPE(h))
		v_uint(v, h.u.pipe.writers);
}

/* ---- VER1 detail: the columns lsfd has (and a few lsof and ss have) */

#define DET(h, bit) (((h).flags & PSS_HANDLE_HAS_DETAIL) && ((h).detail_mask & (bit)))

static bool sock_family(const struct pss_handle_entry *h, unsigned int family)
{
	return (h->flags & PSS_HANDLE_HAS_SOCKET) && h->u.socket.family == family;
}

static bool sock_is(const struct pss_handle_entry *h, unsigned int family,
		    unsigned int proto)
{
	const struct pss_handle_socket *s = &h->u.socket;

	if (!(h->flags & PSS_HANDLE_HAS_SOCKET) || (family && s->family != family))
		return false;
	if (s->family != 2 && s->family != 10)
		return false;
	return !proto || s->protocol == proto;
}

/* "127.0.0.1" or "::1" */
static void inet_addr_str(const struct pss_handle_entry *h, bool remote,
			  char *buf, size_t len)
{
	const __u8 *a = remote ? h->d.sock.in.remote_addr : h->d.sock.in.local_addr;

	if (!inet_ntop(h->u.socket.family == 2 ? AF_INET : AF_INET6, a, buf, len))
		snprintf(buf, len, "?");
}

/* "127.0.0.1:80" or "[::1]:80", as lsfd's TCP.LADDR */
static void inet_endpoint(const struct pss_handle_entry *h, bool remote,
			  char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	unsigned int port = remote ? h->d.sock.in.remote_port :
			    h->d.sock.in.local_port;

	inet_addr_str(h, remote, a, sizeof(a));
	snprintf(buf, len, h->u.socket.family == 10 ? "[%s]:%u" : "%s:%u",
		 a, port);
}

static bool have_end(const struct pss_handle_entry *h, bool remote)
{
	return DET(*h, remote ? PSS_HD_SOCK_REMOTE : PSS_HD_SOCK_LOCAL);
}

#define INET_ADDR_CELL(NAME, FAMILY, REMOTE)				\
static void NAME(const struct rowctx *c, struct val *v)		\
{									\
	H(c, h);							\
	if (sock_is(&h, FAMILY, 0) && have_end(&h, REMOTE)) {		\
		inet_addr_str(&h, REMOTE, v->buf, sizeof(v->buf));	\
		v_str(v, v->buf);					\
	}								\
}

INET_ADDR_CELL(c_inet_laddr, 2, false)
INET_ADDR_CELL(c_inet_raddr, 2, true)
INET_ADDR_CELL(c_inet6_laddr, 10, false)
INET_ADDR_CELL(c_inet6_raddr, 10, true)

#define ENDPOINT_CELL(NAME, PROTO, REMOTE)				\
static void NAME(const struct rowctx *c, struct val *v)		\
{									\
	H(c, h);							\
	if (sock_is(&h, 0, PROTO) && have_end(&h, REMOTE)) {		\
		inet_endpoint(&h, REMOTE, v->buf, sizeof(v->buf));	\
		v_str(v, v->buf);					\
	}								\
}

#define PORT_CELL(NAME, PROTO, REMOTE)					\
static void NAME(const struct rowctx *c, struct val *v)		\
{									\
	H(c, h);							\
	if (sock_is(&h, 0, PROTO) && have_end(&h, REMOTE))		\
		v_uint(v, REMOTE ? h.d.sock.in.remote_port :		\
			  h.d.sock.in.local_port);			\
}

ENDPOINT_CELL(c_tcp_laddr, 6, false)
ENDPOINT_CELL(c_tcp_raddr, 6, true)
PORT_CELL(c_tcp_lport, 6, false)
PORT_CELL(c_tcp_rport, 6, true)
ENDPOINT_CELL(c_udp_laddr, 17, false)
ENDPOINT_CELL(c_udp_raddr, 17, true)
PORT_CELL(c_udp_lport, 17, false)
PORT_CELL(c_udp_rport, 17, true)

static void c_recvq(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (DET(h, PSS_HD_SOCK_QUEUES))
		v_uint(v, h.d.sock.rx_queue);
}

static void c_sendq(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (DET(h, PSS_HD_SOCK_QUEUES))
		v_uint(v, h.d.sock.tx_queue);
}

/* as /proc/net/unix: an abstract name starts with '@', its NULs are '@' */
static void unix_path(const struct pss_handle_entry *h, char *buf, size_t len)
{
	const struct pss_handle_sock_unix *u = &h->d.sock.un;
	size_t n = u->path_len < sizeof(u->path) ? u->path_len : sizeof(u->path);
	size_t i;

	for (i = 0; i < n && i + 1 < len; i++)
		buf[i] = u->path[i] ? u->path[i] : '@';
	buf[i] = '\0';
}

static bool is_unix(const struct pss_handle_entry *h)
{
	return sock_family(h, 1);
}

static void c_unix_path(const struct rowctx *c, struct val *v)
{
	H(c, h);
	char path[sizeof(h.d.sock.un.path) + 1];

	if (is_unix(&h) && DET(h, PSS_HD_SOCK_LOCAL) && h.d.sock.un.path_len) {
		unix_path(&h, path, sizeof(path));
		v_strn(v, path, sizeof(path));
	}
}

static void c_unix_peer(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (is_unix(&h) && DET(h, PSS_HD_SOCK_PEER))
		v_uint(v, h.d.sock.un.peer_ino);
}

static const char *netlink_name(unsigned int p)
{
	static const char *const n[] = {
		[0] = "route", [2] = "usersock", [4] = "sock_diag",
		[6] = "xfrm", [7] = "selinux", [9] = "audit",
		[10] = "fib_lookup", [11] = "connector", [12] = "netfilter",
		[15] = "kobject_uevent", [16] = "generic",
	};

	return p < ARRAY_SIZE(n) ? n[p] : NULL;
}

static void c_nl_proto(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (sock_family(&h, 16))
		v_named(v, netlink_name(h.u.socket.protocol), h.u.socket.protocol);
}

static void c_nl_lport(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (sock_family(&h, 16) && DET(h, PSS_HD_SOCK_LOCAL))
		v_uint(v, h.d.sock.nl.portid);
}

static void c_pkt_iface(const struct rowctx *c, struct val *v)
{
	H(c, h);
	char name[IF_NAMESIZE];

	if (!sock_family(&h, 17) || !DET(h, PSS_HD_SOCK_LOCAL))
		return;
	/* the name in pss's own network namespace: the target's may differ */
	if (h.d.sock.pkt.ifindex > 0 &&
	    if_indextoname(h.d.sock.pkt.ifindex, name))
		v_strn(v, name, sizeof(name));
	else
		v_named(v, NULL, h.d.sock.pkt.ifindex);
}

static void c_pkt_proto(const struct rowctx *c, struct val *v)
{
	H(c, h);
	const char *n = NULL;

	if (!sock_family(&h, 17) || !DET(h, PSS_HD_SOCK_LOCAL))
		return;
	switch (h.d.sock.pkt.protocol) {
	case 0x0003: n = "all"; break;
	case 0x0800: n = "ip"; break;
	case 0x0806: n = "arp"; break;
	case 0x86dd: n = "ipv6"; break;
	}
	v_named(v, n, h.d.sock.pkt.protocol);
}

static void c_efd_id(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (DET(h, PSS_HD_EVENTFD))
		v_uint(v, h.d.eventfd.id);
}

static void c_efd_count(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (DET(h, PSS_HD_EVENTFD))
		v_uint(v, h.d.eventfd.count);
}

static void c_tfd_clock(const struct rowctx *c, struct val *v)
{
	static const char *const n[] = {
		[0] = "realtime", [1] = "monotonic", [7] = "boottime",
		[8] = "realtime-alarm", [9] = "boottime-alarm",
	};
	H(c, h);
	int id = h.d.timerfd.clockid;

	if (DET(h, PSS_HD_TIMERFD))
		v_named(v, id >= 0 && id < (int)ARRAY_SIZE(n) ? n[id] : NULL, id);
}

static void c_tfd_interval(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (DET(h, PSS_HD_TIMERFD))
		v_secs(v, h.d.timerfd.interval_ns);
}

static void c_tfd_remaining(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (DET(h, PSS_HD_TIMERFD))
		v_secs(v, h.d.timerfd.value_ns);
}

static void c_sfd_mask(const struct rowctx *c, struct val *v)
{
	H(c, h);
	char buf[16];
	int sig;

	if (!DET(h, PSS_HD_SIGNALFD))
		return;
	v_flags_init(v);
	for (sig = 1; sig <= 64; sig++) {
		const char *n;

		if (!(h.d.signalfd.sigmask & (1ULL << (sig - 1))))
			continue;
		n = sig < SIGRTMIN ? sigabbrev_np(sig) : NULL;
		if (!n) {
			snprintf(buf, sizeof(buf), "%d", sig);
			n = buf;
		}
		v_flags_add(v, n);
	}
}

static void c_ino_watches(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (DET(h, PSS_HD_INOTIFY))
		v_uint(v, h.d.inotify.nr_watches);
}

/* the first watched inodes, MAJ:MIN:INODE (sdev is the kernel's dev_t) */
static void c_ino_inodes(const struct rowctx *c, struct val *v)
{
	H(c, h);
	char buf[64];
	__u32 i;

	if (!DET(h, PSS_HD_INOTIFY))
		return;
	v_flags_init(v);
	for (i = 0; i < h.d.inotify.nr_listed && i < PSS_INOTIFY_LISTED; i++) {
		const struct pss_handle_inotify_watch *w = &h.d.inotify.watch[i];

		snprintf(buf, sizeof(buf), "%u:%u:%llu", w->sdev >> 20,
			 w->sdev & 0xfffff, (unsigned long long)w->ino);
		v_flags_add(v, buf);
	}
}

static void c_ep_tfds(const struct rowctx *c, struct val *v)
{
	H(c, h);
	char buf[16];
	__u32 i;

	if (!DET(h, PSS_HD_EPOLL))
		return;
	v_flags_init(v);
	for (i = 0; i < h.d.epoll.nr_listed && i < PSS_EPOLL_LISTED; i++) {
		snprintf(buf, sizeof(buf), "%d", h.d.epoll.tfd[i]);
		v_flags_add(v, buf);
	}
}

static void c_ep_count(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (DET(h, PSS_HD_EPOLL))
		v_uint(v, h.d.epoll.nr_targets);
}

static void c_pidfd_pid(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (DET(h, PSS_HD_PIDFD))
		v_int(v, h.d.pidfd.pid);
}

static const struct bitname seal_names[] = {
	{ 0x01, "seal" }, { 0x02, "shrink" }, { 0x04, "grow" },
	{ 0x08, "write" }, { 0x10, "future_write" }, { 0x20, "exec" },
};

static void c_memfd_seals(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (DET(h, PSS_HD_MEMFD))
		v_bits(v, h.d.memfd.seals, seal_names, ARRAY_SIZE(seal_names));
}

static void c_tty_index(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (DET(h, PSS_HD_TTY))
		v_int(v, h.d.tty.index);
}

static void c_ptmx_index(const struct rowctx *c, struct val *v)
{
	H(c, h);
	if (DET(h, PSS_HD_TTY) && h.rdev_major == 5 && h.rdev_minor == 2)
		v_int(v, h.d.tty.index);
}

/* lsof's NAME detail for sockets: "127.0.0.1:80->127.0.0.1:5000", a unix path and peer */
static void sock_more(const struct pss_handle_entry *h, char *buf, size_t len)
{
	char l[64], r[64], p[sizeof(h->d.sock.un.path) + 1];

	buf[0] = '\0';
	if (sock_is(h, 0, 0) && have_end(h, false)) {
		inet_endpoint(h, false, l, sizeof(l));
		if (have_end(h, true)) {
			inet_endpoint(h, true, r, sizeof(r));
			snprintf(buf, len, " %s->%s", l, r);
		} else {
			snprintf(buf, len, " %s", l);
		}
	} else if (is_unix(h)) {
		size_t n = 0;

		if (DET(*h, PSS_HD_SOCK_LOCAL) && h->d.sock.un.path_len) {
			unix_path(h, p, sizeof(p));
			n = snprintf(buf, len, " %s", p);
		}
		if (DET(*h, PSS_HD_SOCK_PEER) && n < len)
			snprintf(buf + n, len - n, " ->%llu",
				 (unsigned long long)h->d.sock.un.peer_ino);
	}
}

/* "unix stream established", "size=64K readers=1 writers=1" */
static void c_detail(const struct rowctx *c, struct val *v)
{
	H(c, h);
	char sz[32];

	if (SOCK(h)) {
		const struct pss_handle_socket *s = &h.u.socket;
		const char *f = family_name(s->family), *t = socktype_name(s->type);
		const char *p = proto_name(s->family, s->protocol);
		char fb[16], tb[16], pb[16];

		if (!f)
			snprintf(fb, sizeof(fb), "af%u", s->family);
		if (!t)
			snprintf(tb, sizeof(tb), "type%u", s->type);
		if (!p)
			snprintf(pb, sizeof(pb), "%u", s->protocol);
		char more[256], line[384];

		sock_more(&h, more, sizeof(more));
		if (s->family == 2 || s->family == 10 || s->protocol)
			snprintf(line, sizeof(line), "%s %s %s %s%s", f ? f : fb,
				 t ? t : tb, p ? p : pb, sock_state_name(s), more);
		else
			snprintf(line, sizeof(line), "%s %s %s%s", f ? f : fb,
				 t ? t : tb, sock_state_name(s), more);
		v_strn(v, line, sizeof(line));
	} else if (PIPE(h)) {
		snprintf(v->buf, sizeof(v->buf), "size=%s readers=%u writers=%u",
			 fmt_size(sz, sizeof(sz), h.u.pipe.buf_size),
			 h.u.pipe.readers, h.u.pipe.writers);
		v_str(v, v->buf);
	} else if (DET(h, PSS_HD_EVENTFD)) {
		snprintf(v->buf, sizeof(v->buf), "id=%u count=%llu", h.d.eventfd.id,
			 (unsigned long long)h.d.eventfd.count);
		v_str(v, v->buf);
	} else if (DET(h, PSS_HD_TIMERFD)) {
		snprintf(v->buf, sizeof(v->buf), "clockid=%d remaining=%.3f interval=%.3f",
			 h.d.timerfd.clockid, h.d.timerfd.value_ns / 1e9,
			 h.d.timerfd.interval_ns / 1e9);
		v_str(v, v->buf);
	} else if (DET(h, PSS_HD_SIGNALFD)) {
		snprintf(v->buf, sizeof(v->buf), "mask=%#llx",
			 (unsigned long long)h.d.signalfd.sigmask);
		v_str(v, v->buf);
	} else if (DET(h, PSS_HD_INOTIFY)) {
		snprintf(v->buf, sizeof(v->buf), "watches=%u", h.d.inotify.nr_watches);
		v_str(v, v->buf);
	} else if (DET(h, PSS_HD_EPOLL)) {
		snprintf(v->buf, sizeof(v->buf), "tfds=%u", h.d.epoll.nr_targets);
		v_str(v, v->buf);
	} else if (DET(h, PSS_HD_PIDFD)) {
		snprintf(v->buf, sizeof(v->buf), "pid=%d", h.d.pidfd.pid);
		v_str(v, v->buf);
	} else if (DET(h, PSS_HD_MEMFD)) {
		snprintf(v->buf, sizeof(v->buf), "seals=%#x", h.d.memfd.seals);
		v_str(v, v->buf);
	} else if (DET(h, PSS_HD_TTY)) {
		snprintf(v->buf, sizeof(v->buf), "tty-index=%d", h.d.tty.index);
		v_str(v, v->buf);
	}
}

#define R SCOLS_FL_RIGHT

static const struct column fd_cols[] = {
	{ "PID", 5, R, CT_NUM, "process id", c_pid },
	{ "FD", 3, R, CT_NUM, "file descriptor number", c_fd },
	{ "TYPE", 5, 0, CT_STR, "as lsfd: REG, DIR, CHR, BLK, FIFO, SOCK, LINK, UNKN, or the anon inode class (eventfd, eventpoll, timerfd, signalfd, inotify, pidfd, ...)", c_type },
	{ "KIND", 6, 0, CT_STR, "finer type: regular, pipe, fifo, memfd, socket, epoll, ...", c_kind },
	{ "MODE", 3, 0, CT_STR, "as lsfd: opened for r--, -w- or rw-", c_mode },
	{ "FLAGS", 10, 0, CT_ARRAY, "access mode and status flags (rdonly, wronly, rdwr, path, cloexec, append, nonblock, ...)", c_flags },
	{ "OFLAGS", 6, R, CT_NUM, "raw F_GETFL flags (octal in tables)", c_oflags },
	{ "POS", 5, R, CT_NUM, "file position", c_pos },
	{ "DEVICE", 5, 0, CT_STR, "device of the inode, MAJ:MIN", c_dev },
	{ "RDEV", 5, 0, CT_STR, "device it is (chr/blk), MAJ:MIN", c_rdev },
	{ "INODE", 5, R, CT_NUM, "inode number", c_inode },
	{ "SIZE", 5, R, CT_NUM, "inode size", c_size },
	{ "IMODE", 6, R, CT_NUM, "inode mode (octal in tables)", c_imode },
	{ "DELETED", 1, R, CT_BOOL, "1 if the file was unlinked, else 0", c_deleted },
	{ "SOCK.FAMILY", 5, 0, CT_STR, "socket address family (unix, inet, inet6, netlink, ...)", c_family },
	{ "SOCK.TYPE", 5, 0, CT_STR, "socket type (stream, dgram, seqpacket, raw, ...)", c_socktype },
	{ "SOCK.PROTONAME", 4, 0, CT_STR, "socket protocol (tcp, udp, ...; else the number)", c_proto },
	{ "SOCK.STATE", 6, 0, CT_STR, "socket state (listen, established, connected, ...)", c_sockstate },
	{ "PIPE.SIZE", 5, R, CT_NUM, "pipe buffer size", c_pipesize },
	{ "PIPE.READERS", 2, R, CT_NUM, "readers of the pipe", c_readers },
	{ "PIPE.WRITERS", 2, R, CT_NUM, "writers of the pipe", c_writers },
	{ "INET.LADDR", 10, 0, CT_STR, "local IPv4 address", c_inet_laddr },
	{ "INET.RADDR", 10, 0, CT_STR, "remote IPv4 address (connected sockets)", c_inet_raddr },
	{ "INET6.LADDR", 10, 0, CT_STR, "local IPv6 address", c_inet6_laddr },
	{ "INET6.RADDR", 10, 0, CT_STR, "remote IPv6 address (connected sockets)", c_inet6_raddr },
	{ "TCP.LADDR", 14, 0, CT_STR, "local TCP address:port ([IPv6]:port)", c_tcp_laddr },
	{ "TCP.RADDR", 14, 0, CT_STR, "remote TCP address:port", c_tcp_raddr },
	{ "TCP.LPORT", 5, R, CT_NUM, "local TCP port", c_tcp_lport },
	{ "TCP.RPORT", 5, R, CT_NUM, "remote TCP port", c_tcp_rport },
	{ "UDP.LADDR", 14, 0, CT_STR, "local UDP address:port ([IPv6]:port)", c_udp_laddr },
	{ "UDP.RADDR", 14, 0, CT_STR, "remote UDP address:port (connected sockets)", c_udp_raddr },
	{ "UDP.LPORT", 5, R, CT_NUM, "local UDP port", c_udp_lport },
	{ "UDP.RPORT", 5, R, CT_NUM, "remote UDP port", c_udp_rport },
	{ "SOCK.RECVQ", 4, R, CT_NUM, "receive queue as /proc/net shows it (TCP listen: accept backlog)", c_recvq },
	{ "SOCK.SENDQ", 4, R, CT_NUM, "send queue as /proc/net shows it (TCP: bytes not acked)", c_sendq },
	{ "UNIX.PATH", 10, 0, CT_STR, "bound unix socket name; abstract names start with @, as /proc/net/unix", c_unix_path },
	{ "UNIX.PEER", 5, R, CT_NUM, "inode of the connected peer unix socket", c_unix_peer },
	{ "NETLINK.PROTOCOL", 5, 0, CT_STR, "netlink protocol (route, audit, ...; else the number)", c_nl_proto },
	{ "NETLINK.LPORT", 5, R, CT_NUM, "netlink port id", c_nl_lport },
	{ "PACKET.IFACE", 5, 0, CT_STR, "interface a packet socket is bound to (name in pss's network namespace, else the index)", c_pkt_iface },
	{ "PACKET.PROTOCOL", 5, 0, CT_STR, "packet socket's ethernet protocol (all, ip, arp, ipv6; else the number)", c_pkt_proto },
	{ "EVENTFD.ID", 3, R, CT_NUM, "eventfd id (fdinfo's eventfd-id)", c_efd_id },
	{ "EVENTFD.COUNT", 5, R, CT_NUM, "eventfd counter", c_efd_count },
	{ "TIMERFD.CLOCKID", 8, 0, CT_STR, "timerfd clock (realtime, monotonic, boottime, ...)", c_tfd_clock },
	{ "TIMERFD.INTERVAL", 6, R, CT_NUM, "timerfd interval, seconds", c_tfd_interval },
	{ "TIMERFD.REMAINING", 6, R, CT_NUM, "time to the timerfd's next expiry, seconds (0: disarmed)", c_tfd_remaining },
	{ "SIGNALFD.MASK", 8, 0, CT_ARRAY, "signals a signalfd accepts (names; real-time ones as numbers)", c_sfd_mask },
	{ "INOTIFY.WATCHES", 3, R, CT_NUM, "inotify watches", c_ino_watches },
	{ "INOTIFY.INODES", 10, 0, CT_ARRAY, "first 5 watched inodes, MAJ:MIN:INODE", c_ino_inodes },
	{ "EVENTPOLL.TFDS", 8, 0, CT_ARRAY, "fds registered in an epoll (the first 30)", c_ep_tfds },
	{ "EVENTPOLL.COUNT", 3, R, CT_NUM, "number of fds registered in an epoll", c_ep_count },
	{ "PIDFD.PID", 5, R, CT_NUM, "pid of a pidfd's process in pss's pid namespace (0: not visible, -1: exited)", c_pidfd_pid },
	{ "MEMFD.SEALS", 6, 0, CT_ARRAY, "memfd seals (seal, shrink, grow, write, future_write, exec)", c_memfd_seals },
	{ "PTMX.TTY-INDEX", 3, R, CT_NUM, "pty master's index (its /dev/pts/N)", c_ptmx_index },
	{ "TTY.INDEX", 3, R, CT_NUM, "pty master's or pts slave's index (/dev/pts/N)", c_tty_index },
	{ "DETAIL", 12, 0, CT_STR, "socket family/type/protocol/state and addresses (local->remote; unix: path ->peer inode), pipe size/readers/writers, anon inode state", c_detail },
	{ "NAME", 20, 0, CT_STR, "path, or the kernel's name for it", c_name },
};

static const char *const fd_default[] = {
	"FD", "TYPE", "MODE", "FLAGS", "POS", "DEVICE", "INODE", "DETAIL", "NAME",
};

const struct viewdef view_fds = {
	.name = "fds", .table = "fds",
	.cols = fd_cols, .ncols = ARRAY_SIZE(fd_cols),
	.defcols = fd_default, .ndef = ARRAY_SIZE(fd_default),
	.facets = PSS_FACET_HANDLES | PSS_FACET_HANDLE_NAME |
		  PSS_FACET_HANDLE_BASIC | PSS_FACET_HANDLE_TYPE_SPECIFIC,
};
