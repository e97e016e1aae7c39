/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pss: build-ids of file-backed VMAs (buildid.c), called by the address
 * space facet after the cut.
 */
#ifndef _PSS_BUILDID_H
#define _PSS_BUILDID_H

#include <linux/types.h>

struct file;
struct pss_buildid_ent;
struct pss_store;
struct pss_vma_side;

/* One per build of the VMA records: each inode parsed once. */
struct pss_buildid {
	struct pss_store *store;	/* charged for tab */
	struct pss_buildid_ent *tab;	/* inode -> result, 2^bits slots */
	u32 bits;
};

int pss_buildid_init(struct pss_buildid *b, struct pss_store *st, u32 nr);
int pss_buildid_get(struct pss_buildid *b, struct file *file,
		    struct pss_vma_side *r);
void pss_buildid_fini(struct pss_buildid *b);

#endif /* _PSS_BUILDID_H */
