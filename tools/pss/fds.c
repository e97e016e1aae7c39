// SPDX-License-Identifier: GPL-2.0
/*
 * pss fds: one row per open file descriptor, like lsof -p; TYPE and MODE
 * speak lsfd's vocabulary (REG, DIR, CHR, FIFO, SOCK, ...; r--, -w-, rw-).
 */
#include <fcntl.h>
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
		if (s->family == 2 || s->family == 10 || s->protocol)
			snprintf(v->buf, sizeof(v->buf), "%s %s %s %s", f ? f : fb,
				 t ? t : tb, p ? p : pb, sock_state_name(s));
		else
			snprintf(v->buf, sizeof(v->buf), "%s %s %s", f ? f : fb,
				 t ? t : tb, sock_state_name(s));
		v_str(v, v->buf);
	} else if (PIPE(h)) {
		snprintf(v->buf, sizeof(v->buf), "size=%s readers=%u writers=%u",
			 fmt_size(sz, sizeof(sz), h.u.pipe.buf_size),
			 h.u.pipe.readers, h.u.pipe.writers);
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
	{ "DETAIL", 12, 0, CT_STR, "socket family/type/protocol/state, pipe size/readers/writers", c_detail },
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
