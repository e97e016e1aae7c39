/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pss: handle detail (fdinfo.c), called by the fd facet after the cut.
 */
#ifndef _PSS_FDINFO_H
#define _PSS_FDINFO_H

#include <linux/types.h>

struct file;
struct pid_namespace;
struct pss_handle_entry;
struct pss_store;

/* One per build of the handle records. */
struct pss_fdinfo {
	struct pss_store *store;	/* charged for buf */
	struct pid_namespace *pid_ns;	/* the caller's */
	char *buf;			/* show_fdinfo() text, on first use */
	size_t buf_size;
	int err;			/* its allocation failed */
};

void pss_fdinfo_init(struct pss_fdinfo *x, struct pss_store *st,
		     struct pid_namespace *pid_ns);
int pss_fdinfo_fill(struct pss_fdinfo *x, struct pss_handle_entry *e,
		    struct file *file, u32 type);
void pss_fdinfo_fini(struct pss_fdinfo *x);

#endif /* _PSS_FDINFO_H */
