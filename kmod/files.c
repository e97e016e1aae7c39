// SPDX-License-Identifier: GPL-2.0
/*
 * pss: the fd table facet.
 *
 * Locking: task_lock(src) keeps src->files attached (get_files_struct() is
 * not exported), files->file_lock freezes the fd table: fd allocation and
 * close take it. fd_install() fills a reserved slot without the lock, so
 * slots are read with the kernel's own raw RCU accessor. Each open file is
 * pinned with get_file() under the lock; everything else (type, mode,
 * position, stat fields, path, socket and pipe detail) is read after
 * unlock from the pinned file. An fd reserved but not yet installed reads
 * as closed, as in /proc/PID/fd.
 *
 * The working and root directories are taken there too (task_lock keeps
 * src->fs attached; fs->lock, nested inside as the kernel's own readers
 * of task->fs do, is what chdir and chroot take), so they belong to the
 * same instant as the fd table; their names are resolved after unlock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/kdev_t.h>
#include <linux/magic.h>
#include <linux/net.h>
#include <linux/pipe_fs_i.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/stat.h>
#include <linux/string.h>
#include <net/sock.h>
#include "compat.h"
#include "fdinfo.h"
#include "pss.h"

/* Open fds right now: a first guess for the buffer, verified at the cut. */
u32 pss_files_estimate(struct task_struct *src)
{
	struct files_struct *files;
	struct fdtable *fdt;
	u32 n = 0;

	task_lock(src);
	files = src->files;
	if (files) {
		spin_lock(&files->file_lock);
		fdt = files_fdtable(files);
		n = bitmap_weight(fdt->open_fds, fdt->max_fds);
		spin_unlock(&files->file_lock);
	}
	task_unlock(src);
	return n;
}

/* Under task_lock(src) and files->file_lock: pin every installed file. */
int pss_files_copy_locked(struct pss_capture *c, struct files_struct *files)
{
	struct fdtable *fdt;
	unsigned int fd;
	u32 n = 0;

	lockdep_assert_held(&files->file_lock);
	fdt = files_fdtable(files);
	for (fd = find_first_bit(fdt->open_fds, fdt->max_fds);
	     fd < fdt->max_fds;
	     fd = find_next_bit(fdt->open_fds, fdt->max_fds, fd + 1)) {
		struct file *file;

		file = files_lookup_fd_raw(files, fd);
		if (!file)
			continue;
		if (n < c->cap_fds) {
			struct pss_raw_fd *r = &c->fds[n];

			r->file = get_file(file);
			r->fd = fd;
			r->cloexec = test_bit(fd, fdt->close_on_exec);
			c->nr_fds = n + 1;
		}
		n++;
	}
	if (n > c->cap_fds) {
		c->need_fds = n;
		return -EOVERFLOW;
	}
	if ((c->facets & PSS_FACET_HANDLE_NAME) && c->src->fs) {
		struct fs_struct *fs = c->src->fs;

		lockdep_assert_held(&c->src->alloc_lock);
		spin_lock(&fs->lock);
		c->fs_root = fs->root;
		c->fs_pwd = fs->pwd;
		path_get(&c->fs_root);
		path_get(&c->fs_pwd);
		spin_unlock(&fs->lock);
	}
	return 0;
}

void pss_files_release(struct pss_capture *c)
{
	u32 i;

	/* The build lets each file go as it is done with it. */
	for (i = 0; i < c->nr_fds; i++) {
		if (c->fds[i].file)
			fput(c->fds[i].file);
		cond_resched();
	}
	c->nr_fds = 0;
	if (c->fs_root.dentry) {
		path_put(&c->fs_root);
		path_put(&c->fs_pwd);
		memset(&c->fs_root, 0, sizeof(c->fs_root));
		memset(&c->fs_pwd, 0, sizeof(c->fs_pwd));
	}
}

/* readlink()'s string for @path into @buf (PSS_PATH_MAX); its length. */
static u32 pss_dir_name(const struct path *path, char *buf)
{
	char *p = d_path(path, buf, PSS_PATH_MAX);
	u32 len = 0;

	if (!IS_ERR(p)) {
		len = strlen(p);
		memmove(buf, p, len + 1);
	}
	memset(buf + len, 0, PSS_PATH_MAX - len);
	return len;
}

/* After unlock: name the directories taken at the cut (HAS_FS). */
static void pss_fs_build(struct pss_capture *c)
{
	struct pss_process_info *pi = c->snap->proc;

	if (!c->fs_root.dentry)
		return;
	pi->cwd_path_len = pss_dir_name(&c->fs_pwd, pi->cwd_path);
	pi->root_path_len = pss_dir_name(&c->fs_root, pi->root_path);
	pi->mask |= PSS_PROC_HAS_FS;
}

static const struct {
	const char *name;
	u32 type;
} pss_anon_types[] = {
	{ "[eventfd]",		PSS_HT_EVENTFD },
	{ "[eventpoll]",	PSS_HT_EPOLL },
	{ "[timerfd]",		PSS_HT_TIMERFD },
	{ "[signalfd]",		PSS_HT_SIGNALFD },
	{ "inotify",		PSS_HT_INOTIFY },
	{ "[fanotify]",		PSS_HT_FANOTIFY },
	{ "[pidfd]",		PSS_HT_PIDFD },
	{ "[userfaultfd]",	PSS_HT_USERFAULTFD },
	{ "[io_uring]",		PSS_HT_IO_URING },
};

/* Pseudo-file names are fixed at creation; other names may be renamed. */
static bool pss_dname_is(struct file *file, const char *s, bool prefix)
{
	const unsigned char *name;
	bool ret;

	rcu_read_lock();
	name = READ_ONCE(file->f_path.dentry->d_name.name);
	ret = prefix ? !strncmp(name, s, strlen(s)) : !strcmp(name, s);
	rcu_read_unlock();
	return ret;
}

static u32 pss_classify(struct file *file)
{
	struct inode *inode = file_inode(file);
	unsigned long magic = inode->i_sb->s_magic;
	umode_t mode = inode->i_mode;
	size_t i;

	if (pss_is_snapshot_file(file))
		return PSS_HT_PSS;
	if (pss_pidfd_pid(file))
		return PSS_HT_PIDFD;
	if (magic == ANON_INODE_FS_MAGIC) {
		for (i = 0; i < ARRAY_SIZE(pss_anon_types); i++)
			if (pss_dname_is(file, pss_anon_types[i].name, false))
				return pss_anon_types[i].type;
		return PSS_HT_ANON;
	}
	switch (mode & S_IFMT) {
	case S_IFREG:
		if ((magic == TMPFS_MAGIC || magic == HUGETLBFS_MAGIC) &&
		    pss_dname_is(file, "memfd:", true))
			return PSS_HT_MEMFD;
		return PSS_HT_REGULAR;
	case S_IFDIR:
		return PSS_HT_DIR;
	case S_IFCHR:
		return PSS_HT_CHR;
	case S_IFBLK:
		return PSS_HT_BLK;
	case S_IFIFO:
		return magic == PIPEFS_MAGIC ? PSS_HT_PIPE : PSS_HT_FIFO;
	case S_IFSOCK:
		return PSS_HT_SOCKET;
	case S_IFLNK:
		return PSS_HT_SYMLINK;
	}
	return PSS_HT_UNKNOWN;
}

/*
 * The fields fstat() would show for the fd. A filesystem with a getattr
 * of its own may report another st_dev/st_ino than the inode's superblock
 * (btrfs subvolumes, overlayfs) or hide bits (pidfs), so it is asked, without
 * revalidating against a server (AT_STATX_DONT_SYNC); for the rest
 * (sockets, pipes, anon inodes: most fds of a busy process) fstat() reads the
 * inode through generic_fillattr(), and so does pss, without the call.
 */
static void pss_fill_basic(struct pss_handle_entry *e, struct file *file)
{
	struct inode *inode = file_inode(file);
	struct kstat st;

	e->type = pss_classify(file);
	e->open_flags = READ_ONCE(file->f_flags);
	if (file->f_mode & FMODE_READ)
		e->fmode |= PSS_FMODE_READ;
	if (file->f_mode & FMODE_WRITE)
		e->fmode |= PSS_FMODE_WRITE;
	e->pos = READ_ONCE(file->f_pos);
	if (!inode->i_op->getattr ||
	    vfs_getattr_nosec(&file->f_path, &st, STATX_BASIC_STATS,
			      AT_STATX_DONT_SYNC)) {
		st.mode = pss_stat_mode(file);
		st.dev = inode->i_sb->s_dev;
		st.rdev = inode->i_rdev;
		st.ino = inode->i_ino;
		st.size = i_size_read(inode);
	}
	e->i_mode = st.mode;
	e->dev_major = MAJOR(st.dev);
	e->dev_minor = MINOR(st.dev);
	e->rdev_major = MAJOR(st.rdev);
	e->rdev_minor = MINOR(st.rdev);
	e->ino = st.ino;
	e->i_size = st.size;
	e->flags |= PSS_HANDLE_HAS_BASIC;
}

/* Racy reads of live objects: a recent value, as /proc shows. */
static void pss_fill_type_specific(struct pss_handle_entry *e,
				   struct file *file)
{
	struct inode *inode = file_inode(file);

	if (file->f_mode & FMODE_PATH)
		return;
	if (S_ISSOCK(inode->i_mode)) {
		struct socket *sock = sock_from_file(file);
		struct sock *sk;

		if (!sock)
			return;
		e->u.socket.sock_state = READ_ONCE(sock->state);
		sk = READ_ONCE(sock->sk);
		if (sk) {
			e->u.socket.family = READ_ONCE(sk->sk_family);
			e->u.socket.type = READ_ONCE(sk->sk_type);
			e->u.socket.protocol = READ_ONCE(sk->sk_protocol);
			e->u.socket.state = READ_ONCE(sk->sk_state);
		}
		e->flags |= PSS_HANDLE_HAS_SOCKET;
	} else if (S_ISFIFO(inode->i_mode)) {
		/* An open pipe or FIFO file's private_data is its pipe. */
		struct pipe_inode_info *pipe = file->private_data;

		if (!pipe || pipe != READ_ONCE(inode->i_pipe))
			return;
		e->u.pipe.buf_size = READ_ONCE(pipe->max_usage) * PAGE_SIZE;
		e->u.pipe.readers = READ_ONCE(pipe->readers);
		e->u.pipe.writers = READ_ONCE(pipe->writers);
		e->flags |= PSS_HANDLE_HAS_PIPE;
	}
}

/*
 * The names sockets, pipes and anon inodes get from their d_dname() for
 * readlink(/proc/PID/fd/N) - "socket:[INO]", "pipe:[INO]",
 * "anon_inode:NAME", a format userspace has parsed forever - made without
 * vsnprintf() or d_path(): they are most of the fds of a busy process.
 * Socket and pipe names are unique per inode, so the snapshot keeps only
 * the number and the walk writes them (pss_name_synth()). -ENOENT: not
 * one of them (d_path() then).
 */
static int pss_pseudo_name(struct pss_store *st, struct file *file,
			   struct pss_name *out)
{
	struct dentry *d = file->f_path.dentry;
	char buf[64];
	int len;

	if (!d->d_op || !d->d_op->d_dname)
		return -ENOENT;
	switch (file_inode(file)->i_sb->s_magic) {
	case SOCKFS_MAGIC:
		pss_name_synth(out, PSS_NAME_SOCKET, file_inode(file)->i_ino);
		return 0;
	case PIPEFS_MAGIC:
		pss_name_synth(out, PSS_NAME_PIPE, file_inode(file)->i_ino);
		return 0;
	case ANON_INODE_FS_MAGIC:
		/* Named at creation, never renamed: "[eventfd]", "inotify"... */
		if (d->d_name.len > sizeof(buf) - sizeof("anon_inode:"))
			return -ENOENT;
		len = sizeof("anon_inode:") - 1;
		memcpy(buf, "anon_inode:", len);
		memcpy(buf + len, d->d_name.name, d->d_name.len);
		return pss_intern(st, buf, len + d->d_name.len, out);
	}
	return -ENOENT;
}

/*
 * The tail of a handle record: from pos to the end of the VER1 part, the
 * words that are zero for most fds (position and size of a socket, detail
 * of a regular file, most of a socket's detail).
 */
#define PSS_FD_TAIL_OFF		offsetof(struct pss_handle_entry, pos)
#define PSS_FD_TAIL_WORDS \
	((PSS_HANDLE_ENTRY_SIZE_VER1 - PSS_FD_TAIL_OFF) / sizeof(u64))
static_assert(PSS_FD_TAIL_OFF % sizeof(u64) == 0);
static_assert(PSS_FD_TAIL_WORDS <= 32 && PSS_HT_NR <= U8_MAX);

/* Keep the non-zero words of @e's tail apart; @rec->more_map says which. */
static int pss_fd_keep_tail(struct pss_store *st, struct pss_fd_rec *rec,
			    const struct pss_handle_entry *e)
{
	/* As an array of words, not through a field: FORTIFY */
	const u64 *tail = (const u64 *)((const char *)e + PSS_FD_TAIL_OFF);
	u64 words[PSS_FD_TAIL_WORDS], *more;
	u32 i, n = 0, map = 0;

	/* Without detail, the words past the socket or pipe fields are 0. */
	u32 end = e->flags & PSS_HANDLE_HAS_DETAIL ? PSS_FD_TAIL_WORDS :
		  (PSS_HANDLE_ENTRY_SIZE_VER0 - PSS_FD_TAIL_OFF) / sizeof(u64);

	for (i = 0; i < end; i++) {
		u64 w = tail[i];

		if (w) {
			map |= BIT(i);
			words[n++] = w;
		}
	}
	rec->more = NULL;
	rec->more_map = map;
	if (!n)
		return 0;
	more = pss_keep(st, n * sizeof(u64));
	if (IS_ERR(more))
		return PTR_ERR(more);
	memcpy(more, words, n * sizeof(u64));
	rec->more = more;
	return 0;
}

/* The names of a class of fds, while it is built. */
struct pss_fd_names {
	struct pss_name *side;	/* distinct interned names */
	u32 nr, cap;
	struct pss_ptrmap map;	/* interned string -> 1 + index */
};

/*
 * @rec's name: made of its inode number for a socket or pipe, else an
 * entry of the side table, one per distinct interned name.
 */
static int pss_fd_name(struct pss_capture *c, struct pss_fd_names *fn,
		       struct file *file, struct pss_fd_rec *rec)
{
	struct pss_name name;
	u32 *slot;
	int err;

	err = pss_pseudo_name(&c->store, file, &name);
	if (err == -ENOENT) {
		u64 t = ktime_get_ns();

		err = pss_resolve_path(&c->store, &file->f_path, &name);
		c->names_ns += ktime_get_ns() - t;
	}
	if (err)
		return err;
	if (name.kind == PSS_NAME_SOCKET) {
		rec->name = PSS_FD_NAME_SOCKET;
	} else if (name.kind == PSS_NAME_PIPE) {
		rec->name = PSS_FD_NAME_PIPE;
	} else if (name.s) {
		err = pss_ptrmap_get(&c->store, &fn->map, name.s, NULL, &slot);
		if (!err && *slot == U32_MAX) {
			err = pss_array_grow(&c->store, (void **)&fn->side,
					     &fn->cap, fn->nr + 1,
					     sizeof(*fn->side));
			if (err)
				return err;
			fn->side[fn->nr] = name;
			*slot = ++fn->nr;
		}
		if (!err)
			rec->name = *slot;
	}
	return err;
}

/*
 * One fd, from its file pinned at the cut: its name, its uapi record as the
 * facets ask, kept compact.
 */
static int pss_fd_build(struct pss_capture *c, struct pss_fdinfo *fdi,
			struct pss_fd_names *fn, const struct pss_raw_fd *r,
			struct pss_fd_rec *rec)
{
	struct file *file = r->file;
	struct pss_handle_entry e;
	int err;

	rec->name = 0;
	if (fn) {
		err = pss_fd_name(c, fn, file, rec);
		if (err)
			return err;
	}
	memset(&e, 0, sizeof(e));
	if (r->cloexec)
		e.flags |= PSS_HANDLE_CLOEXEC;
	if (file->f_mode & FMODE_PATH)
		e.flags |= PSS_HANDLE_PATH_ONLY;
	if (d_unlinked(file->f_path.dentry))
		e.flags |= PSS_HANDLE_DELETED;
	if (rec->name)
		e.flags |= PSS_HANDLE_HAS_NAME;
	if (c->facets & PSS_FACET_HANDLE_BASIC)
		pss_fill_basic(&e, file);
	if (c->facets & PSS_FACET_HANDLE_TYPE_SPECIFIC) {
		pss_fill_type_specific(&e, file);
		err = pss_fdinfo_fill(fdi, &e, file, e.type ? e.type :
				      pss_classify(file));
		if (err)
			return err;
	}
	/* A socket's or pipe's name is made of it, BASIC or not. */
	rec->ino = e.flags & PSS_HANDLE_HAS_BASIC ? e.ino :
		   file_inode(file)->i_ino;
	rec->fd = r->fd;
	rec->flags = e.flags;
	rec->open_flags = e.open_flags;
	rec->dev = MKDEV(e.dev_major, e.dev_minor);
	rec->rdev = MKDEV(e.rdev_major, e.rdev_minor);
	rec->i_mode = e.i_mode;
	rec->type = e.type;
	rec->fmode = e.fmode;
	return pss_fd_keep_tail(&c->store, rec, &e);
}

/* @rec's name as the walk writes it. */
static void pss_fd_name_of(const struct pss_walk_buf *wb,
			   const struct pss_fd_rec *rec, struct pss_name *n)
{
	const struct pss_name *side = wb->side;

	switch (rec->name) {
	case 0:
		n->kind = PSS_NAME_STR;
		n->s = NULL;
		n->len = 0;
		break;
	case PSS_FD_NAME_SOCKET:
		pss_name_synth(n, PSS_NAME_SOCKET, rec->ino);
		break;
	case PSS_FD_NAME_PIPE:
		pss_name_synth(n, PSS_NAME_PIPE, rec->ino);
		break;
	default:
		*n = side[rec->name - 1];
	}
}

static u32 pss_fd_rec_len(const struct pss_walk_buf *wb, const void *rec)
{
	u32 len = sizeof(struct pss_handle_entry);
	struct pss_name n;

	pss_fd_name_of(wb, rec, &n);
	if (pss_name_present(&n))
		len += n.len + 1;
	return ALIGN(len, PSS_REC_ALIGN);
}

/* At walk time: the uapi record of an fd, its name and padding. */
static void pss_fd_write(const struct pss_walk_buf *wb, void *dst,
			 const void *rec, u32 rec_len)
{
	const struct pss_fd_rec *r = rec;
	struct pss_handle_entry *e = dst;
	u64 *tail = (u64 *)((char *)dst + PSS_FD_TAIL_OFF);
	const u64 *more = r->more;
	u32 map = r->more_map;
	struct pss_name n;
	u32 fill = sizeof(*e), i;

	memset(e, 0, PSS_FD_TAIL_OFF);
	memset(tail, 0, sizeof(*e) - PSS_FD_TAIL_OFF);
	for (i = 0; map; i++, map >>= 1)
		if (map & 1)
			tail[i] = *more++;
	e->rec_len = rec_len;
	e->flags = r->flags;
	e->fd = r->fd;
	e->type = r->type;
	e->open_flags = r->open_flags;
	e->fmode = r->fmode;
	e->i_mode = r->i_mode;
	e->dev_major = MAJOR(r->dev);
	e->dev_minor = MINOR(r->dev);
	e->rdev_major = MAJOR(r->rdev);
	e->rdev_minor = MINOR(r->rdev);
	e->fixed_len = sizeof(*e);
	e->ino = r->flags & PSS_HANDLE_HAS_BASIC ? r->ino : 0;
	pss_fd_name_of(wb, r, &n);
	if (pss_name_present(&n)) {
		e->name_off = fill;
		e->name_len = n.len;
		pss_name_write((char *)dst + fill, &n);
		fill += n.len + 1;
	}
	memset((char *)dst + fill, 0, rec_len - fill);
}

static const struct pss_rec_ops pss_fd_ops = {
	.rec_len	= pss_fd_rec_len,
	.write		= pss_fd_write,
};

/*
 * After unlock, in one pass over the files pinned at the cut (each is
 * touched once, then let go): one record per fd.
 */
int pss_files_build(struct pss_capture *c)
{
	struct pss_walk_buf *wb = &c->snap->walk[PSS_WALK_HANDLES];
	bool want_names = c->facets & PSS_FACET_HANDLE_NAME;
	size_t recs_size = (size_t)c->nr_fds * sizeof(struct pss_fd_rec);
	struct pss_fd_names fn = { };
	struct pss_fd_rec *recs = NULL;
	struct pss_name *side = NULL;
	struct pss_fdinfo fdi;
	int err = 0;
	u32 i;

	if (!(c->facets & PSS_FACET_HANDLES))
		return 0;
	if (want_names) {
		u64 t = ktime_get_ns();

		pss_fs_build(c);
		c->names_ns += ktime_get_ns() - t;
	}
	if (!c->nr_fds)
		goto adopt;
	recs = pss_alloc_raw(&c->store, recs_size);
	if (IS_ERR(recs))
		return PTR_ERR(recs);
	pss_ptrmap_init(&fn.map);

	pss_fdinfo_init(&fdi, &c->store, c->pid_ns);
	for (i = 0; i < c->nr_fds && !err; i++) {
		struct pss_raw_fd *r = &c->fds[i];

		err = pss_fd_build(c, &fdi, want_names ? &fn : NULL, r,
				   &recs[i]);
		fput(r->file);
		r->file = NULL;
		cond_resched();
	}
	pss_fdinfo_fini(&fdi);
	pss_ptrmap_fini(&c->store, &fn.map);
	/* Keep the distinct names in a table of their own size. */
	if (!err && fn.nr) {
		side = pss_alloc_raw(&c->store, (size_t)fn.nr * sizeof(*side));
		if (IS_ERR(side)) {
			err = PTR_ERR(side);
			side = NULL;
		} else {
			memcpy(side, fn.side, (size_t)fn.nr * sizeof(*side));
		}
	}
	if (fn.side)
		pss_free(&c->store, fn.side, (size_t)fn.cap * sizeof(*fn.side));
	if (err) {
		if (side)
			pss_free(&c->store, side, (size_t)fn.nr * sizeof(*side));
		pss_free(&c->store, recs, recs_size);
		return err;
	}
adopt:
	pss_wbuf_adopt_ops(wb, recs, c->nr_fds, sizeof(*recs), &pss_fd_ops,
			   side);
	c->nr_fds = 0;
	return 0;
}
