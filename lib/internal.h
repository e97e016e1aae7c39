/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* libpss internals: not installed, not part of the ABI. */
#ifndef LIBPSS_INTERNAL_H
#define LIBPSS_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "libpss.h"

#define offsetofend(TYPE, FIELD) \
	(offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))

/*
 * opts handling in the libbpf manner: a field is read only if it lies
 * within the caller's opts->sz, otherwise it reads as DEF.
 */
#define OPTS_HAS(opts, field) \
	((opts) && (opts)->sz >= offsetofend(__typeof__(*(opts)), field))
#define OPTS_GET(opts, field, def) \
	(OPTS_HAS(opts, field) ? (opts)->field : (def))
#define OPTS_VALID(opts) \
	(!(opts) || libpss__opts_valid((opts), (opts)->sz, sizeof(*(opts))))

bool libpss__opts_valid(const void *opts, size_t user_sz, size_t lib_sz);

struct libpss_file;

/*
 * Two backends behind one handle: a live snapshot fd (file == NULL), or the
 * records of a saved snapshot file held in memory (fd == -1), answered by
 * core.c exactly as the module answers PSS_IOC_QUERY and PSS_IOC_WALK.
 */
struct pss_snapshot {
	int fd;
	int refs;		/* the handle itself + live markers; atomic */
	struct libpss_file *file;
};

void libpss__snapshot_get(struct pss_snapshot *snap);
void libpss__snapshot_put(struct pss_snapshot *snap);

/* ioctl that returns -errno instead of -1, retrying on EINTR. */
int libpss__ioctl(int fd, unsigned long req, void *arg);

/* core.c: the file backend */
int libpss__file_query(struct libpss_file *f, __u32 query_class, void *buf,
		       size_t len);
int libpss__file_walk(struct libpss_file *f, struct pss_walk_args *a);
struct libpss_file *libpss__file_get(struct libpss_file *f);
void libpss__file_put(struct libpss_file *f);
int libpss__snapshot_new(int fd, struct libpss_file *file,
			 struct pss_snapshot **snap);

#endif /* LIBPSS_INTERNAL_H */
