// SPDX-License-Identifier: GPL-2.0
/*
 * pss: GNU build-ids of file-backed VMAs (VA_SPACE_SECTION, VMA record VER1).
 *
 * Read after the cut from the backing files pinned at it, and from their
 * page cache only: a folio is looked up without FGP_CREAT (no allocation,
 * no read-ahead, no I/O) and used only if up to date, so a capture never
 * waits for a disk nor makes the target wait. Anything missing is reported
 * as PSS_BUILD_ID_NOT_CACHED, not guessed. Each distinct inode is parsed
 * once per snapshot: a file mapped five times (text, data, relro, ...)
 * costs one parse.
 *
 * The kernel's own build_id_parse() reads only the first page on 6.1 and
 * is not what /proc or userspace tools answer with, so pss reads the ELF
 * program headers and PT_NOTE segments itself, bounded, either byte order,
 * 32- or 64-bit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/elf.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/highmem.h>
#include <linux/log2.h>
#include <linux/pagemap.h>
#include <linux/string.h>
#include "buildid.h"
#include "pss.h"

#define PSS_NT_GNU_BUILD_ID	3
#define PSS_MAX_PHDRS		512	/* more: not a real ELF file */
#define PSS_MAX_NOTES		64	/* notes looked at per PT_NOTE */

struct pss_buildid_ent {
	const struct inode *inode;	/* the key; NULL: a free slot */
	const u8 *kept;			/* id interned in the store */
	u32 state;
	u32 len;
	u8 id[PSS_BUILD_ID_MAX];
};

/* One VMA per slot at most: a table of twice as many never fills. */
int pss_buildid_init(struct pss_buildid *b, struct pss_store *st, u32 nr)
{
	b->store = st;
	b->tab = NULL;
	b->bits = 0;
	if (!nr)
		return 0;
	b->bits = ilog2(roundup_pow_of_two(nr)) + 1;
	b->tab = pss_alloc(st, sizeof(*b->tab) << b->bits);
	if (IS_ERR(b->tab)) {
		int err = PTR_ERR(b->tab);

		b->tab = NULL;
		return err;
	}
	return 0;
}

void pss_buildid_fini(struct pss_buildid *b)
{
	if (b->tab)
		pss_free(b->store, b->tab, sizeof(*b->tab) << b->bits);
	b->tab = NULL;
}

/*
 * Copy @len bytes at @pos of @mapping from its page cache: -ENODATA if a
 * page is absent or not up to date, -EINVAL past @isize.
 */
static int pss_cache_read(struct address_space *mapping, loff_t isize,
			  u64 pos, void *buf, size_t len)
{
	if (pos > isize || len > isize - pos)
		return -EINVAL;
	while (len) {
		pgoff_t index = pos >> PAGE_SHIFT;
		size_t off = offset_in_page(pos);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);
		struct folio *folio;
		void *kaddr;

		folio = __filemap_get_folio(mapping, index, 0, 0);
		if (IS_ERR_OR_NULL(folio))
			return -ENODATA;
		if (!folio_test_uptodate(folio)) {
			folio_put(folio);
			return -ENODATA;
		}
		kaddr = kmap_local_page(folio_file_page(folio, index));
		memcpy(buf, kaddr + off, n);
		kunmap_local(kaddr);
		folio_put(folio);
		buf += n;
		pos += n;
		len -= n;
	}
	return 0;
}

struct pss_elf {
	struct address_space *mapping;
	loff_t isize;
	bool is64, big;
};

static u64 pss_elf_word(const struct pss_elf *f, const void *p, int size)
{
	switch (size) {
	case 2:
		return f->big ? be16_to_cpup(p) : le16_to_cpup(p);
	case 4:
		return f->big ? be32_to_cpup(p) : le32_to_cpup(p);
	default:
		return f->big ? be64_to_cpup(p) : le64_to_cpup(p);
	}
}

static int pss_err_state(int err)
{
	return err == -ENODATA ? PSS_BUILD_ID_NOT_CACHED : PSS_BUILD_ID_NOT_ELF;
}

/* The GNU build-id note among the notes at [off, off + size), if any. */
static int pss_scan_notes(struct pss_elf *f, u64 off, u64 size,
			  struct pss_buildid_ent *ent)
{
	u64 end = off + size;
	int i, err;

	if (end < off)
		return PSS_BUILD_ID_NOT_ELF;
	for (i = 0; i < PSS_MAX_NOTES && off + 12 <= end; i++) {
		u32 hdr[3];	/* namesz, descsz, type */
		u8 name[4];
		u32 namesz, descsz, type;
		u64 desc;

		err = pss_cache_read(f->mapping, f->isize, off, hdr, sizeof(hdr));
		if (err)
			return pss_err_state(err);
		namesz = pss_elf_word(f, &hdr[0], 4);
		descsz = pss_elf_word(f, &hdr[1], 4);
		type = pss_elf_word(f, &hdr[2], 4);
		desc = off + 12 + ALIGN((u64)namesz, 4);
		if (type == PSS_NT_GNU_BUILD_ID && namesz == 4 &&
		    desc + descsz <= end) {
			err = pss_cache_read(f->mapping, f->isize, off + 12,
					     name, sizeof(name));
			if (err)
				return pss_err_state(err);
			if (!memcmp(name, "GNU", 4)) {
				if (descsz > PSS_BUILD_ID_MAX)
					return PSS_BUILD_ID_TOO_LONG;
				err = pss_cache_read(f->mapping, f->isize, desc,
						     ent->id, descsz);
				if (err)
					return pss_err_state(err);
				ent->len = descsz;
				return PSS_BUILD_ID_FOUND;
			}
		}
		off = desc + ALIGN((u64)descsz, 4);
	}
	return PSS_BUILD_ID_NO_NOTE;
}

/* A program header's type, offset and size, either class. */
static void pss_phdr(const struct pss_elf *f, const void *p, u32 *type,
		     u64 *off, u64 *size)
{
	const struct elf64_phdr *p64 = p;
	const struct elf32_phdr *p32 = p;

	if (f->is64) {
		*type = pss_elf_word(f, &p64->p_type, 4);
		*off = pss_elf_word(f, &p64->p_offset, 8);
		*size = pss_elf_word(f, &p64->p_filesz, 8);
	} else {
		*type = pss_elf_word(f, &p32->p_type, 4);
		*off = pss_elf_word(f, &p32->p_offset, 4);
		*size = pss_elf_word(f, &p32->p_filesz, 4);
	}
}

static int pss_parse(struct file *file, struct pss_buildid_ent *ent)
{
	struct inode *inode = file_inode(file);
	struct pss_elf f = {
		.mapping = file->f_mapping,
		.isize = i_size_read(inode),
	};
	union {
		struct elf64_hdr h64;
		struct elf32_hdr h32;
		u8 ident[EI_NIDENT];
	} eh;
	union {
		struct elf64_phdr p64;
		struct elf32_phdr p32;
	} ph;
	u64 phoff, phentsize, phnum, i, off, size;
	size_t phsize;
	int err, state;
	u32 type;

	if (!S_ISREG(inode->i_mode))
		return PSS_BUILD_ID_NOT_ELF;
	err = pss_cache_read(f.mapping, f.isize, 0, &eh, EI_NIDENT);
	if (err)
		return pss_err_state(err);
	if (memcmp(eh.ident, ELFMAG, SELFMAG) ||
	    (eh.ident[EI_CLASS] != ELFCLASS32 &&
	     eh.ident[EI_CLASS] != ELFCLASS64) ||
	    (eh.ident[EI_DATA] != ELFDATA2LSB &&
	     eh.ident[EI_DATA] != ELFDATA2MSB))
		return PSS_BUILD_ID_NOT_ELF;
	f.is64 = eh.ident[EI_CLASS] == ELFCLASS64;
	f.big = eh.ident[EI_DATA] == ELFDATA2MSB;
	err = pss_cache_read(f.mapping, f.isize, 0, &eh,
			     f.is64 ? sizeof(eh.h64) : sizeof(eh.h32));
	if (err)
		return pss_err_state(err);
	if (f.is64) {
		phoff = pss_elf_word(&f, &eh.h64.e_phoff, 8);
		phentsize = pss_elf_word(&f, &eh.h64.e_phentsize, 2);
		phnum = pss_elf_word(&f, &eh.h64.e_phnum, 2);
		phsize = sizeof(ph.p64);
	} else {
		phoff = pss_elf_word(&f, &eh.h32.e_phoff, 4);
		phentsize = pss_elf_word(&f, &eh.h32.e_phentsize, 2);
		phnum = pss_elf_word(&f, &eh.h32.e_phnum, 2);
		phsize = sizeof(ph.p32);
	}
	if (phnum > PSS_MAX_PHDRS || phentsize < phsize)
		return PSS_BUILD_ID_NOT_ELF;
	state = PSS_BUILD_ID_NO_NOTE;
	for (i = 0; i < phnum; i++) {
		err = pss_cache_read(f.mapping, f.isize, phoff + i * phentsize,
				     &ph, phsize);
		if (err)
			return pss_err_state(err);
		pss_phdr(&f, &ph, &type, &off, &size);
		if (type != PT_NOTE)
			continue;
		state = pss_scan_notes(&f, off, size, ent);
		if (state != PSS_BUILD_ID_NO_NOTE)
			break;
		cond_resched();
	}
	return state;
}

/*
 * The build-id of @file, into the entry @r of the VMAs that map it: parsed
 * once per inode, and the id interned in the snapshot's store (the table
 * is the capture's, the entry the snapshot's).
 */
int pss_buildid_get(struct pss_buildid *b, struct file *file,
		    struct pss_vma_side *r)
{
	const struct inode *inode = file_inode(file);
	struct pss_buildid_ent *ent;
	u32 mask, h;

	if (!b->tab)
		return 0;
	mask = (1U << b->bits) - 1;
	for (h = hash_ptr(inode, b->bits);; h = (h + 1) & mask) {
		ent = &b->tab[h];
		if (!ent->inode || ent->inode == inode)
			break;
	}
	if (!ent->inode) {
		ent->inode = inode;
		ent->state = pss_parse(file, ent);
		if (ent->state == PSS_BUILD_ID_FOUND) {
			struct pss_name kept;
			int err = pss_intern(b->store, (const char *)ent->id,
					     ent->len, &kept);

			if (err) {
				ent->inode = NULL;
				return err;
			}
			ent->kept = (const u8 *)kept.s;
		}
	}
	r->build_id_state = ent->state;
	if (ent->state == PSS_BUILD_ID_FOUND) {
		r->build_id = ent->kept;
		r->build_id_len = ent->len;
	}
	return 0;
}
