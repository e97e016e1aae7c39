// SPDX-License-Identifier: GPL-2.0
/*
 * pss maps: one row per mapping (VMA), the fields of /proc/PID/maps plus
 * the VMA's flags and page size. No per-mapping resident or dirty sizes are
 * captured (that needs a page-table walk under the mmap lock): process-wide
 * RSS is in pss show.
 */
#include <libsmartcols.h>

#include "pss.h"

#define M(c, VAR) FIXED(struct pss_vma_entry, VAR, (c)->r)

#define CELL(NAME, S, EXPR)						\
static void NAME(const struct rowctx *c, struct val *v)		\
{									\
	M(c, m);							\
	S(v, EXPR);							\
}

CELL(c_start, v_hex, m.start)
CELL(c_end, v_hex, m.end)
CELL(c_size, v_size, m.end - m.start)
CELL(c_offset, v_hex, m.pgoff_bytes)
CELL(c_inode, v_uint, m.ino)
CELL(c_kind, v_str, pss_vma_name_kind_name(m.name_kind))

static void c_pid(const struct rowctx *c, struct val *v)
{
	v_int(v, c->d->pid);
}

static void c_perms(const struct rowctx *c, struct val *v)
{
	M(c, m);
	snprintf(v->buf, sizeof(v->buf), "%c%c%c%c",
		 m.prot & PSS_PROT_READ ? 'r' : '-',
		 m.prot & PSS_PROT_WRITE ? 'w' : '-',
		 m.prot & PSS_PROT_EXEC ? 'x' : '-',
		 /* maps' 's' is MAP_SHARED (VM_MAYSHARE), writable or not */
		 m.flags & PSS_VMA_MAYSHARE ? 's' : 'p');
	v_str(v, v->buf);
}

static const struct bitname vma_flag_names[] = {
	{ PSS_VMA_SHARED, "shared" },	{ PSS_VMA_GROWSDOWN, "growsdown" },
	{ PSS_VMA_LOCKED, "locked" },	{ PSS_VMA_HUGETLB, "hugetlb" },
	{ PSS_VMA_IO, "io" },		{ PSS_VMA_PFNMAP, "pfnmap" },
	{ PSS_VMA_DONTDUMP, "dontdump" }, { PSS_VMA_DONTFORK, "dontfork" },
	{ PSS_VMA_WIPEONFORK, "wipeonfork" }, { PSS_VMA_MAYSHARE, "mayshare" },
	{ PSS_VMA_DELETED, "deleted" },	{ PSS_VMA_ACCOUNT, "account" },
	{ PSS_VMA_NORESERVE, "noreserve" }, { PSS_VMA_MERGEABLE, "mergeable" },
	{ PSS_VMA_HUGEPAGE, "hugepage" }, { PSS_VMA_NOHUGEPAGE, "nohugepage" },
};

static void c_flags(const struct rowctx *c, struct val *v)
{
	M(c, m);
	v_bits(v, m.flags, vma_flag_names, ARRAY_SIZE(vma_flag_names));
}

static void c_dev(const struct rowctx *c, struct val *v)
{
	M(c, m);
	v_dev(v, m.dev_major, m.dev_minor);
}

static void c_pagesize(const struct rowctx *c, struct val *v)
{
	M(c, m);
	if (m.page_size)
		v_size(v, m.page_size);
}

static void c_name(const struct rowctx *c, struct val *v)
{
	v_str(v, pss_vma_entry_name(c->r->p));
}

/* the GNU build-id in hex, as eu-readelf -n and file(1) print it */
static void c_buildid(const struct rowctx *c, struct val *v)
{
	M(c, m);
	char hex[2 * PSS_BUILD_ID_MAX + 1];
	__u32 i;

	if (!(m.flags & PSS_VMA_HAS_BUILD_ID) ||
	    m.build_id_state != PSS_BUILD_ID_FOUND ||
	    m.build_id_len > PSS_BUILD_ID_MAX)
		return;
	for (i = 0; i < m.build_id_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", m.build_id[i]);
	hex[2 * i] = '\0';
	v_strn(v, hex, sizeof(hex));
}

/* why there is no build-id: pss does not guess */
static void c_buildid_state(const struct rowctx *c, struct val *v)
{
	static const char *const n[] = {
		[PSS_BUILD_ID_NONE] = "none", [PSS_BUILD_ID_FOUND] = "found",
		[PSS_BUILD_ID_NOT_ELF] = "not-elf",
		[PSS_BUILD_ID_NO_NOTE] = "no-note",
		[PSS_BUILD_ID_NOT_CACHED] = "not-cached",
		[PSS_BUILD_ID_TOO_LONG] = "too-long",
	};
	M(c, m);

	if (!(m.flags & PSS_VMA_HAS_BUILD_ID))
		return;
	if (m.build_id_state < ARRAY_SIZE(n))
		v_str(v, n[m.build_id_state]);
	else
		v_str(v, "unknown");
}

#define R SCOLS_FL_RIGHT

static const struct column map_cols[] = {
	{ "PID", 5, R, CT_NUM, "process id", c_pid },
	{ "START", 12, R, CT_STR, "start address, hex", c_start },
	{ "END", 12, R, CT_STR, "end address (exclusive), hex", c_end },
	{ "SIZE", 6, R, CT_NUM, "size of the mapping", c_size },
	{ "PERMS", 4, 0, CT_STR, "r/w/x and s(hared)/p(rivate), as /proc/PID/maps", c_perms },
	{ "FLAGS", 6, 0, CT_ARRAY, "growsdown, locked, hugetlb, io, pfnmap, dontdump, ...", c_flags },
	{ "OFFSET", 6, R, CT_STR, "file offset of the start, hex", c_offset },
	{ "DEVICE", 5, 0, CT_STR, "device of the backing inode, MAJ:MIN", c_dev },
	{ "INODE", 5, R, CT_NUM, "backing inode number", c_inode },
	{ "PAGESIZE", 4, R, CT_NUM, "kernel page size of the mapping", c_pagesize },
	{ "KIND", 4, 0, CT_STR, "none, file, heap, stack, special, anon, anon_shmem", c_kind },
	{ "BUILDID", 40, 0, CT_STR, "GNU build-id of the mapped ELF file, hex (read from the page cache only)", c_buildid },
	{ "BUILDID.STATE", 8, 0, CT_STR, "found, not-elf, no-note, not-cached (a page it needed was not cached), too-long; empty: not a file mapping or an older kernel", c_buildid_state },
	{ "NAME", 20, 0, CT_STR, "backing file path or [heap], [stack], [vdso], [anon:NAME]", c_name },
};

static const char *const map_default[] = {
	"START", "END", "SIZE", "PERMS", "OFFSET", "DEVICE", "INODE", "NAME",
};

const struct viewdef view_maps = {
	.name = "maps", .table = "maps",
	.cols = map_cols, .ncols = ARRAY_SIZE(map_cols),
	.defcols = map_default, .ndef = ARRAY_SIZE(map_default),
	.facets = PSS_FACET_VA_SPACE | PSS_FACET_VA_SPACE_SECTION,
};
