/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libpss: atomic process snapshots for Linux, userspace library.
 *
 * A thin, predictable layer over the pss kernel ABI (<linux/pss.h>, which
 * libpss installs as <libpss/pss.h>):
 *
 *   capture   pss_capture(), pss_capture_pid(), pss_capture_pidfd()
 *   query     pss_query(), pss_count()
 *   walk      pss_walk_marker_create(), pss_walk(), pss_walk_marker_free(),
 *             pss_walk_marker_get_position(), pss_walk_marker_set_position(),
 *             pss_walk_marker_seek_to_beginning(), pss_walk_marker_get_stats()
 *   thread    pss_walk_context(), pss_walk_kstack(), pss_walk_memory() and
 *   state     their accessors, pss_auxv_lookup() (0.4)
 *   share     pss_snapshot_dup(), pss_snapshot_fd(), pss_snapshot_from_fd()
 *   files     pss_snapshot_write_file(), pss_snapshot_write_core(),
 *             pss_snapshot_open_file(), pss_snapshot_read_file()
 *   free      pss_snapshot_free()
 *   version   pss_library_version() and its major/minor, at run time;
 *             LIBPSS_MAJOR_VERSION, LIBPSS_MINOR_VERSION at build time
 *   misc      pss_get_version(), pss_*_name() string helpers,
 *             pss_thread_entry_cpus(), pss_handle_entry_name(),
 *             pss_vma_entry_name()
 *
 * Conventions
 * - Every call that can fail returns an int: 0 (or a documented positive
 *   value) on success, a negative errno value on failure. errno itself is
 *   not part of the contract (it may or may not be set).
 * - Objects are returned through an out-pointer, which is left untouched on
 *   failure.
 * - Options structs carry their own size, like libbpf's: declare them with
 *   PSS_OPTS(type, name, .field = value, ...), which zeroes the struct and
 *   sets .sz. A NULL opts pointer means "all defaults". The library reads
 *   only the fields that fit in opts->sz (missing fields act as zero), and
 *   refuses (-EINVAL) an opts struct larger than it knows whose extra bytes
 *   are not all zero, or whose sz is smaller than sizeof(size_t).
 * - Output structs that carry a size (struct pss_walk_stats) are
 *   size-versioned the same way in the other direction: the library fills
 *   min(caller's sz, library's size) bytes and zeroes the rest.
 * - Records handed out by pss_walk() are the kernel's variable-length
 *   records: step by rec_len, and use PSS_ENTRY_HAS() before reading a field
 *   that an older kernel may not provide.
 *
 * Thread safety
 * - A struct pss_snapshot is an immutable object behind a file descriptor:
 *   any number of threads may call pss_query(), pss_count(),
 *   pss_snapshot_dup(), pss_snapshot_fd() and pss_walk_marker_create() on
 *   the same snapshot at once. pss_snapshot_free() must not race with other
 *   calls on the same handle (as with close()); markers keep their snapshot
 *   alive on their own (see pss_walk_marker_create()), so freeing the
 *   snapshot while markers still exist is allowed.
 * - A struct pss_walk_marker is a cursor with internal state: it must not be
 *   used by two threads at the same time (serialize externally). Distinct
 *   markers, even on the same snapshot, are fully independent.
 * - The library has no global mutable state; capture opens /dev/pss per
 *   call (O_CLOEXEC) unless the caller supplies an fd in the opts.
 * - All file descriptors the library creates are O_CLOEXEC.
 */
#ifndef LIBPSS_H
#define LIBPSS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "libpss/pss.h"		/* the kernel ABI, <linux/pss.h> */
#include "libpss/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LIBPSS_API
#define LIBPSS_API __attribute__((visibility("default")))
#endif

/*
 * Declare an options struct zeroed (padding included) with .sz set and the
 * type's defaults (TYPE##__DEFAULTS: fields whose "unset" is not zero, such
 * as pss_capture_opts.dev_fd = -1), then the caller's fields, e.g.
 *	PSS_OPTS(pss_capture_opts, opts, .facets = PSS_FACET_THREADS);
 * A caller's field overriding a default is intended: the warning for it
 * (-Woverride-init, in -Wextra) is silenced for this declaration only.
 */
#define PSS_OPTS(TYPE, NAME, ...)					\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Woverride-init\"")		\
	struct TYPE NAME = ({						\
		struct TYPE __pss_opts;					\
									\
		memset(&NAME, 0, sizeof(struct TYPE));			\
		__pss_opts = (struct TYPE) {				\
			.sz = sizeof(struct TYPE),			\
			TYPE##__DEFAULTS				\
			__VA_ARGS__					\
		};							\
		_Pragma("GCC diagnostic pop")				\
		__pss_opts;						\
	})

/*
 * True if a record of len bytes (as returned by pss_walk()) contains FIELD
 * of the struct PTR points to; false for fields an older kernel did not send.
 */
#define PSS_ENTRY_HAS(PTR, LEN, FIELD)					\
	(offsetof(__typeof__(*(PTR)), FIELD) +				\
	 sizeof((PTR)->FIELD) <= (size_t)(LEN))

struct pss_snapshot;		/* opaque: one handle to one snapshot */
struct pss_walk_marker;		/* opaque: one cursor over one walk class */

/* ------------------------------------------------------------ capture */

struct pss_capture_opts {
	size_t sz;		/* sizeof(struct pss_capture_opts) */
	__u64 facets;		/* PSS_FACET_*; process info is always there */
	__u32 flags;		/* PSS_CAPTURE_PIDFD: the target is .pidfd */
	__s32 pid;		/* target pid (0: the caller), without _PIDFD */
	__s32 pidfd;		/* target pidfd, with PSS_CAPTURE_PIDFD */
	__s32 dev_fd;		/* an open /dev/pss to use; -1: open it per call */
	/*
	 * 0.4, thread state: the VER1 fields of struct pss_capture_args, each
	 * zero unless its facet (or memory flag) is asked for; see
	 * <libpss/pss.h> "Thread state" for what they mean and their limits.
	 */
	__u32 quiesce_timeout_ms;	/* THREAD_CONTEXT, MEMORY; 0: 100 ms */
	__u32 stack_bytes;	/* PSS_MEMORY_STACKS; 0: 64 KiB per thread */
	__u32 memory_flags;	/* PSS_MEMORY_* with PSS_FACET_MEMORY */
	__u32 nr_ranges;	/* entries at ranges (PSS_MEMORY_RANGES) */
	const struct pss_memory_range *ranges;
};

#define pss_capture_opts__DEFAULTS	.dev_fd = -1,

/*
 * pss_capture - take one atomic snapshot of a process.
 * @opts: NULL captures the caller's own process with no facets beyond
 *        process information. With PSS_CAPTURE_PIDFD in .flags the target
 *        is .pidfd (.pid must be 0), otherwise .pid (.pidfd must be 0).
 *        .dev_fd lets a sandboxed caller use a /dev/pss opened earlier (any
 *        fd >= 0, 0 included); it stays owned by the caller. -1, the
 *        PSS_OPTS() default, opens /dev/pss for the call. A struct filled
 *        by hand must set .dev_fd = -1 for that; an opts struct whose .sz
 *        ends before .dev_fd (built against libpss 0.1) reads as -1.
 * @snap: out, the new snapshot (free with pss_snapshot_free()).
 *
 * The thread-state facets (PSS_FACET_THREAD_CONTEXT, _THREAD_KSTACK,
 * _MEMORY) need PSS_FACET_THREADS; CONTEXT and MEMORY park the target's
 * threads for at most .quiesce_timeout_ms (see <libpss/pss.h>).
 *
 * Returns 0, or a negative errno: -EINVAL (NULL snap, bad opts, pid and
 * pidfd both given, .ranges NULL with .nr_ranges set), -EBADF (.dev_fd < -1; pss_capture_pidfd() with a
 * negative pidfd), -ENOTTY (.dev_fd is not /dev/pss), -ENOMEM,
 * -ENOENT/-EACCES/... from opening /dev/pss
 * (-ENOENT: module not loaded), or any error of PSS_IOC_CAPTURE documented
 * in <linux/pss.h> (-ESRCH, -EPERM, -EBADF, -EBADFD, -EAGAIN, -ENOBUFS, ...).
 */
LIBPSS_API int pss_capture(const struct pss_capture_opts *opts,
			   struct pss_snapshot **snap);

/* Shorthands: pid 0 is the caller's own process. Errors as pss_capture(). */
LIBPSS_API int pss_capture_pid(pid_t pid, __u64 facets,
			       struct pss_snapshot **snap);
LIBPSS_API int pss_capture_pidfd(int pidfd, __u64 facets,
				 struct pss_snapshot **snap);

/*
 * pss_snapshot_free - drop this handle. The snapshot fd is closed once the
 * handle and every walk marker created from it are gone. NULL is a no-op.
 * Freeing the same handle twice is undefined (like a double close()).
 */
LIBPSS_API void pss_snapshot_free(struct pss_snapshot *snap);

/* ------------------------------------------------------------ query */

/*
 * pss_query - copy one single-instance item (enum pss_query_class) into buf.
 * @len: the caller's sizeof of the class's struct; the kernel writes
 *       min(len, its size) bytes and zeroes the rest of buf, so callers built
 *       against older and newer headers both work. The struct's own .size
 *       field reports the kernel's size.
 *
 * Returns 0, or -EINVAL (NULL snap/buf, len > UINT32_MAX, unknown class,
 * len below the class's VER0 size), -ENODATA (facet not captured), -EFAULT,
 * -ENOTTY (not a snapshot fd).
 */
LIBPSS_API int pss_query(struct pss_snapshot *snap,
			 enum pss_query_class query_class,
			 void *buf, size_t len);

/*
 * pss_count - number of records the walk class holds (via PSS_QUERY_THREADS,
 * _HANDLES or _VA_SPACE), i.e. how many entries a full walk returns.
 * Returns 0, or -EINVAL (NULL args, unknown walk class), -ENODATA (facet not
 * captured), or another pss_query() error.
 */
LIBPSS_API int pss_count(struct pss_snapshot *snap,
			 enum pss_walk_class walk_class, __u64 *count);

/* ------------------------------------------------------------ walk */

/*
 * Caller-supplied memory for a marker (the marker itself and its batch
 * buffer), like PSS_ALLOCATOR. alloc must return memory aligned to at least
 * 8 bytes, or NULL for failure (the calling function returns -ENOMEM;
 * misaligned memory is handed back to free and the call returns -EINVAL);
 * free receives exactly the pointers alloc returned. Both are required. Every allocation is freed by the time
 * pss_walk_marker_free() returns. The struct is copied at create time.
 */
struct pss_allocator {
	void *ctx;
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr);
};

#define pss_walk_marker_opts__DEFAULTS

struct pss_walk_marker_opts {
	size_t sz;		/* sizeof(struct pss_walk_marker_opts) */
	const struct pss_allocator *allocator;	/* NULL: malloc/free */
	/*
	 * Bytes asked for per PSS_IOC_WALK (0: PSS_WALK_DEFAULT_BATCH_BYTES).
	 * A batch never holds less than one whole record, so a tiny value
	 * (e.g. 1) fetches exactly one record per ioctl.
	 */
	size_t batch_bytes;
};

#define PSS_WALK_DEFAULT_BATCH_BYTES	(64 * 1024)

/*
 * pss_walk_marker_create - a new cursor over one walk class of a snapshot,
 * positioned at the beginning. Any number of markers may exist per snapshot
 * and per class; each is independent. The marker holds its own reference to
 * the snapshot: the snapshot handle may be freed before the marker.
 *
 * Returns 0, or -EINVAL (NULL snap/marker, unknown class, bad opts, an
 * allocator without alloc or free), -ENOMEM (allocation failed),
 * -ENODATA (the class's facet was not captured), or a pss_count() error.
 */
LIBPSS_API int pss_walk_marker_create(struct pss_snapshot *snap,
				      enum pss_walk_class walk_class,
				      const struct pss_walk_marker_opts *opts,
				      struct pss_walk_marker **marker);

/* Free a marker and its buffers (through its allocator). NULL: no-op. */
LIBPSS_API void pss_walk_marker_free(struct pss_walk_marker *marker);

/*
 * pss_walk - hand out the entry at the marker's position and advance it.
 * @entry: out, the record (struct pss_thread_entry, pss_handle_entry or
 *         pss_vma_entry per class), 8-byte aligned, inside the marker's
 *         batch buffer. It stays valid and unchanged until the next
 *         pss_walk*(), set_position(), seek_to_beginning() or free on this
 *         marker (get_position() and get_stats() leave it alone); to keep
 *         entries longer, use pss_walk_copy().
 * @len:   out (may be NULL), the record's length (== rec_len).
 *
 * Returns 1: an entry was returned;
 *         0: no more items (the position is at the end; *entry = NULL, and
 *            further calls keep returning 0 until the position is changed);
 *        <0: -errno, the position is unchanged: -EINVAL (NULL args),
 *            -ENOMEM (batch buffer), -EPROTO (malformed kernel answer), or
 *            a PSS_IOC_WALK error.
 * Records are fetched in batches behind the scenes: one PSS_IOC_WALK per
 * batch, the buffer grown to the kernel's next_len when a record does not fit.
 */
LIBPSS_API int pss_walk(struct pss_walk_marker *marker,
			const void **entry, size_t *len);

/*
 * Typed pss_walk(): the same, for a marker of the matching class (else
 * -EINVAL), so no cast is needed. The entry's lifetime is pss_walk()'s.
 *
 *	const struct pss_vma_entry *vma;
 *	int ret;
 *
 *	pss_for_each_vma(marker, vma, ret)
 *		printf("%llx\n", vma->start);
 *	if (ret < 0)
 *		... the walk failed: -errno ...
 */
LIBPSS_API int pss_walk_thread(struct pss_walk_marker *marker,
			       const struct pss_thread_entry **entry, size_t *len);
LIBPSS_API int pss_walk_handle(struct pss_walk_marker *marker,
			       const struct pss_handle_entry **entry, size_t *len);
LIBPSS_API int pss_walk_vma(struct pss_walk_marker *marker,
			    const struct pss_vma_entry **entry, size_t *len);

/* Loop over the rest of a walk; afterwards RET is 0 (end) or -errno. */
#define pss_for_each_thread(MARKER, ENTRY, RET)				\
	for ((RET) = pss_walk_thread((MARKER), &(ENTRY), NULL); (RET) == 1; \
	     (RET) = pss_walk_thread((MARKER), &(ENTRY), NULL))
#define pss_for_each_handle(MARKER, ENTRY, RET)				\
	for ((RET) = pss_walk_handle((MARKER), &(ENTRY), NULL); (RET) == 1; \
	     (RET) = pss_walk_handle((MARKER), &(ENTRY), NULL))
#define pss_for_each_vma(MARKER, ENTRY, RET)				\
	for ((RET) = pss_walk_vma((MARKER), &(ENTRY), NULL); (RET) == 1; \
	     (RET) = pss_walk_vma((MARKER), &(ENTRY), NULL))

/*
 * 0.4, thread state: PSS_WALK_CONTEXTS (one entry per thread of the thread
 * walk, same order), PSS_WALK_KSTACKS (likewise) and PSS_WALK_MEMORY (the
 * copied memory, one entry per page or part of one, in address order).
 */
LIBPSS_API int pss_walk_context(struct pss_walk_marker *marker,
				const struct pss_context_entry **entry,
				size_t *len);
LIBPSS_API int pss_walk_kstack(struct pss_walk_marker *marker,
			       const struct pss_kstack_entry **entry,
			       size_t *len);
LIBPSS_API int pss_walk_memory(struct pss_walk_marker *marker,
			       const struct pss_memory_entry **entry,
			       size_t *len);

#define pss_for_each_context(MARKER, ENTRY, RET)			\
	for ((RET) = pss_walk_context((MARKER), &(ENTRY), NULL); (RET) == 1; \
	     (RET) = pss_walk_context((MARKER), &(ENTRY), NULL))
#define pss_for_each_kstack(MARKER, ENTRY, RET)				\
	for ((RET) = pss_walk_kstack((MARKER), &(ENTRY), NULL); (RET) == 1; \
	     (RET) = pss_walk_kstack((MARKER), &(ENTRY), NULL))
#define pss_for_each_memory(MARKER, ENTRY, RET)				\
	for ((RET) = pss_walk_memory((MARKER), &(ENTRY), NULL); (RET) == 1; \
	     (RET) = pss_walk_memory((MARKER), &(ENTRY), NULL))

/*
 * pss_walk_copy - pss_walk() into the caller's memory, like the Windows
 * PssWalkSnapshot(): the entry is copied whole (its name and cpu list
 * included: the pss_*_entry_name() accessors work on the copy), so it
 * outlives any later call and the marker itself.
 * @buf:     where to copy, buf_len bytes, 8-byte aligned for the accessors
 * @len:     out (may be NULL), the entry's length; with -ENOSPC, the
 *           buf_len needed (the marker does not move)
 *
 * Returns 1 (copied, the marker advanced), 0 (no more items) or -errno:
 * -ENOSPC (buf too small: *len says how much is needed), -EINVAL (NULL
 * marker, NULL buf with buf_len > 0), or an error of pss_walk().
 */
LIBPSS_API int pss_walk_copy(struct pss_walk_marker *marker, void *buf,
			     size_t buf_len, size_t *len);

/*
 * Positions are plain record indices: 0 is the first record, the record
 * count (pss_count()) is the end. get returns the index of the entry the
 * next pss_walk() hands out. set accepts 0..count inclusive (count: the next
 * pss_walk() returns 0), -ERANGE beyond that, like the kernel. Both return
 * 0 or -EINVAL (NULL args). Positions are valid for any marker of the same
 * snapshot and class, and for duplicates of the snapshot.
 */
LIBPSS_API int pss_walk_marker_get_position(const struct pss_walk_marker *marker,
					    __u64 *pos);
LIBPSS_API int pss_walk_marker_set_position(struct pss_walk_marker *marker,
					    __u64 pos);
LIBPSS_API int pss_walk_marker_seek_to_beginning(struct pss_walk_marker *marker);

/* What a marker did so far (for tuning batch_bytes, and for tests). */
struct pss_walk_stats {
	size_t sz;		/* in: sizeof(struct pss_walk_stats) */
	__u64 ioctls;		/* PSS_IOC_WALK calls made, failed ones too */
	__u64 batches;		/* calls that returned records */
	__u64 enospc;		/* calls that failed with ENOSPC (buffer grown) */
	__u64 entries;		/* entries handed out by pss_walk() */
	__u64 buf_size;		/* current batch buffer capacity, bytes */
	__u64 total;		/* records in the class */
};

/* Fill *stats (size-versioned by stats->sz). 0, or -EINVAL. */
LIBPSS_API int pss_walk_marker_get_stats(const struct pss_walk_marker *marker,
					 struct pss_walk_stats *stats);

/* ------------------------------------------------------------ sharing */

/*
 * pss_snapshot_dup - another independent handle to the same immutable
 * snapshot, on a new fd made with F_DUPFD_CLOEXEC. It survives freeing the
 * original, is inherited across fork(), and can be passed to another
 * process (SCM_RIGHTS, or exec after clearing FD_CLOEXEC on
 * pss_snapshot_fd(dup)); there, pss_snapshot_from_fd() adopts it.
 * Returns 0, or -EINVAL, -ENOMEM, -EMFILE.
 */
LIBPSS_API int pss_snapshot_dup(struct pss_snapshot *snap,
				struct pss_snapshot **dup);

/*
 * pss_snapshot_fd - the snapshot's fd (>= 0), still owned by the handle: do
 * not close it; dup it to keep it. -EINVAL for NULL, -EOPNOTSUPP for a
 * snapshot read from a file.
 */
LIBPSS_API int pss_snapshot_fd(const struct pss_snapshot *snap);

/*
 * pss_snapshot_from_fd - adopt a snapshot fd received from elsewhere. The fd
 * is validated with a PSS_QUERY_SNAPSHOT query. On success the handle owns
 * the fd (pss_snapshot_free() closes it); on failure the caller still does.
 * Returns 0, or -EINVAL (NULL snap), -EBADF (fd < 0 or not open), -ENOTTY
 * (not a snapshot fd), -ENOMEM.
 */
LIBPSS_API int pss_snapshot_from_fd(int fd, struct pss_snapshot **snap);

/* ------------------------------------------------------------ files */

/*
 * A saved snapshot is an ELF core file (ET_CORE, EM_X86_64, ELFCLASS64,
 * little-endian) with one PT_NOTE segment: "CORE" NT_PRPSINFO and NT_FILE
 * as the kernel's coredump writes them, so eu-readelf and gdb read it, and
 * the whole snapshot in notes named PSS_NOTE_NAME, one per part. Each
 * PSS_NT_* descriptor holds the bytes PSS_IOC_QUERY or PSS_IOC_WALK
 * returned: the size-versioned structs (read like the module's: a smaller
 * one zero-extended, a larger one truncated) and the walk records back to
 * back. pss_snapshot_write_file() writes no PT_LOAD (captured memory, if
 * any, is in its walk note); pss_snapshot_write_core() writes a core for
 * debuggers, below.
 *
 * PSS_FILE_VERSION changes only when an older reader would misread a newer
 * file; new note types and longer structs do not change it (unknown PSS
 * notes are ignored).
 */
#define PSS_FILE_VERSION	1
#define PSS_NOTE_NAME		"PSS"

/*
 * Numbers no CORE or LINUX note uses: BFD (gdb) and elfutils interpret
 * some note types whatever their owner (a PSS note of type 2 would be read
 * as NT_FPREGSET).
 */
enum pss_note_type {
	PSS_NT_VERSION		= 0x50535301,	/* struct pss_file_version */
	PSS_NT_SNAPSHOT		= 0x50535302,	/* struct pss_snapshot_info */
	PSS_NT_PROCESS		= 0x50535303,	/* struct pss_process_info */
	PSS_NT_PERFORMANCE	= 0x50535304,	/* struct pss_perf_info */
	PSS_NT_AUXV		= 0x50535305,	/* struct pss_auxv_info */
	PSS_NT_WALK		= 0x50535310,	/* + enum pss_walk_class */
	PSS_NT_MEMORY_INDEX	= 0x50535320,	/* PSS_WALK_MEMORY's records
						 * without their bytes, which
						 * are in the PT_LOADs
						 */
};

struct pss_file_version {
	__u32 size;		/* sizeof() of the writer */
	__u32 version;		/* PSS_FILE_VERSION of the writer */
	char writer[24];	/* "libpss X.Y.Z", NUL-terminated */
};

#define PSS_FILE_VERSION_SIZE_VER0	32

/*
 * pss_snapshot_write_file - write the snapshot to fd as a saved snapshot
 * file, sequentially from the fd's current position (a pipe will do).
 * flags: must be 0. Works on a live and on a file-backed snapshot.
 * Returns 0, or -EINVAL, -ENOMEM, a query/walk error, a write() error
 * (-ENOSPC, -EPIPE, ...).
 */
LIBPSS_API int pss_snapshot_write_file(struct pss_snapshot *snap, int fd,
				       unsigned int flags);

/*
 * pss_snapshot_write_core - write the snapshot to fd as an ELF core that
 * gdb, eu-stack and eu-readelf open, sequentially (a pipe will do), like
 * the kernel's coredump:
 *  - per thread of the context walk (the leader first): NT_PRSTATUS
 *    (pr_pid the tid, pr_reg the captured registers; zero for a thread
 *    that was not parked), NT_PRFPREG and NT_X86_XSTATE when captured;
 *  - NT_PRPSINFO, NT_AUXV (PSS_QUERY_AUXV), NT_FILE (every file-backed
 *    mapping);
 *  - a PT_LOAD per mapping, split where the copied memory starts and ends:
 *    the copied bytes (PSS_WALK_MEMORY) in p_filesz, the rest p_filesz 0
 *    (as the kernel's coredump filter leaves file-backed text to NT_FILE);
 *  - the PSS notes of pss_snapshot_write_file(), the memory as an index
 *    (PSS_NT_MEMORY_INDEX) into the PT_LOADs, so pss_snapshot_open_file()
 *    reads the whole snapshot back from the core.
 * flags: must be 0. Needs PSS_FACET_VA_SPACE; 64-bit targets only.
 * Returns 0, or -EINVAL (NULL snap, flags), -EBADF, -ENODATA (no
 * VA_SPACE), -EOPNOTSUPP (a 32-bit target), -EPROTO (a register set of an
 * unexpected size), -ENOMEM, a query/walk error, a write() error.
 */
LIBPSS_API int pss_snapshot_write_core(struct pss_snapshot *snap, int fd,
				       unsigned int flags);

/*
 * pss_snapshot_open_file, pss_snapshot_read_file - a snapshot from a saved
 * file, by path or from fd (read to its end from the current position; fd
 * stays the caller's). The handle answers pss_query(), the walks and
 * pss_snapshot_dup() exactly as the live snapshot it was written from;
 * pss_snapshot_fd() returns -EOPNOTSUPP.
 * Returns 0, or:
 *  -ENOEXEC          not an ELF file
 *  -ENOMSG           an ELF file, but not a pss snapshot (a foreign core,
 *                    another class, byte order or machine, no PSS notes)
 *  -EBADMSG          a pss snapshot file that is truncated or corrupted
 *  -EPROTONOSUPPORT  written by a newer pss (PSS_FILE_VERSION too high)
 *  -EFBIG            larger than 1 GiB
 *  -EINVAL, -ENOMEM, or an open()/read() error.
 */
LIBPSS_API int pss_snapshot_open_file(const char *path,
				      struct pss_snapshot **snap);
LIBPSS_API int pss_snapshot_read_file(int fd, struct pss_snapshot **snap);

/* ------------------------------------------------------------ misc */

/*
 * The version of the libpss actually loaded, which may be newer than the
 * LIBPSS_*_VERSION the caller was built with (same soname, same or newer
 * minor): e.g. "0.2.0", 0, 2.
 */
LIBPSS_API const char *pss_library_version(void);
LIBPSS_API __u32 pss_library_major_version(void);
LIBPSS_API __u32 pss_library_minor_version(void);

/*
 * pss_get_version - PSS_IOC_VERSION on /dev/pss (what the module speaks:
 * ABI version, capture flags, classes, snapshot size limit). @len is the
 * caller's sizeof(*ver); size-versioned like pss_query().
 * Returns 0, or -EINVAL (NULL ver, len < PSS_VERSION_SIZE_VER0 or
 * > UINT32_MAX), or an open()/ioctl error (-ENOENT: module not loaded).
 */
LIBPSS_API int pss_get_version(struct pss_version *ver, size_t len);

/*
 * Variable parts of records, bounds-checked against rec_len; NULL when
 * absent (not captured, or malformed).
 * pss_thread_entry_cpus: the thread's affinity bitmap, *nwords __u64 words.
 */
LIBPSS_API const __u64 *pss_thread_entry_cpus(const struct pss_thread_entry *e,
					      size_t *nwords);
LIBPSS_API const char *pss_handle_entry_name(const struct pss_handle_entry *e);
LIBPSS_API const char *pss_vma_entry_name(const struct pss_vma_entry *e);

/*
 * 0.4, thread state, bounds-checked the same way (NULL: absent or
 * malformed; *len is then 0):
 *  pss_context_entry_gregs:  NT_PRSTATUS's pr_reg (struct user_regs_struct
 *                            for EM_X86_64), *len bytes
 *  pss_context_entry_fpregs: NT_PRFPREG (struct user_fpregs_struct)
 *  pss_context_entry_xstate: NT_X86_XSTATE (the XSAVE image)
 *  pss_kstack_entry_text:    the frames, one "function+0xoff/0xsize" line
 *                            each, innermost first (NUL-terminated; *len
 *                            may be NULL)
 *  pss_memory_entry_data:    the copied bytes, *len of them, from e->addr
 */
LIBPSS_API const void *pss_context_entry_gregs(const struct pss_context_entry *e,
					       size_t *len);
LIBPSS_API const void *pss_context_entry_fpregs(const struct pss_context_entry *e,
						size_t *len);
LIBPSS_API const void *pss_context_entry_xstate(const struct pss_context_entry *e,
						size_t *len);
LIBPSS_API const char *pss_kstack_entry_text(const struct pss_kstack_entry *e,
					     size_t *len);
LIBPSS_API const void *pss_memory_entry_data(const struct pss_memory_entry *e,
					     size_t *len);

/*
 * pss_auxv_lookup - the value of the first auxv entry of type (AT_*) in
 * what PSS_QUERY_AUXV returned. Returns 0, -ENOENT (no such entry) or
 * -EINVAL (NULL args).
 */
LIBPSS_API int pss_auxv_lookup(const struct pss_auxv_info *auxv, __u64 type,
			       __u64 *value);

/*
 * Names for enum values, for printing: static strings, never NULL
 * ("unknown" for values the library does not know).
 *  pss_handle_type_name:    enum pss_handle_type  -> "regular", "socket", ...
 *  pss_state_name:          state letter ('R', 'S', 'D', 'T', 't', 'Z', 'X',
 *                           'I', 'P', ...) -> "running", "sleeping", ...
 *  pss_vma_name_kind_name:  enum pss_vma_name_kind -> "file", "heap", ...
 *  pss_walk_class_name:     enum pss_walk_class  -> "threads", ...
 *  pss_query_class_name:    enum pss_query_class -> "snapshot", ...
 *  pss_facet_name:          one PSS_FACET_* bit  -> "threads", ...
 *  pss_park_name:           enum pss_park -> "none", "waited", ... (0.4)
 */
LIBPSS_API const char *pss_handle_type_name(__u32 type);
LIBPSS_API const char *pss_state_name(char state);
LIBPSS_API const char *pss_vma_name_kind_name(__u32 kind);
LIBPSS_API const char *pss_walk_class_name(__u32 walk_class);
LIBPSS_API const char *pss_query_class_name(__u32 query_class);
LIBPSS_API const char *pss_facet_name(__u64 facet);
LIBPSS_API const char *pss_park_name(__u32 park);

#ifdef __cplusplus
}
#endif

#endif /* LIBPSS_H */
