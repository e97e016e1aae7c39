// SPDX-License-Identifier: GPL-2.0
/*
 * PSS_WALK_VA_SPACE against a stopped target holding mappings of every kind
 * (anon private/shared, file-backed at an offset, read-only shared, PROT_NONE,
 * mlocked, MADV_DONTDUMP/DONTFORK/WIPEONFORK, MAP_NORESERVE, executable,
 * heap, stack, vdso, a PR_SET_VMA_ANON_NAME region, a deleted file): the
 * walk must equal /proc/PID/maps line by line and the flags /proc/PID/smaps
 * VmFlags.
 */
#include <sys/sysmacros.h>

#include "pss_test_util.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA		0x53564d41
#define PR_SET_VMA_ANON_NAME	0
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK		18
#endif

#define PG	4096UL

enum vkind {
	V_ANON = 0, V_ANON_SHARED, V_FILE_OFF, V_FILE_SHARED_RO, V_FILE_SHARED_RW,
	V_PROT_NONE, V_LOCKED, V_DONTDUMP, V_DONTFORK, V_WIPEONFORK,
	V_NORESERVE, V_EXEC, V_NAMED, V_DELETED, V_HEAP, V_NR,
};

struct v_shared {
	unsigned long addr[V_NR];
	unsigned long len[V_NR];
	bool made[V_NR];
	char dir[64];
	char file[96];
	char deleted[96];
	unsigned long stack_addr;
};

static void *mk(struct v_shared *sh, int k, size_t len, int prot, int flags,
		int fd, off_t off)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		return NULL;
	sh->addr[k] = (unsigned long)p;
	sh->len[k] = len;
	sh->made[k] = true;
	return p;
}

static int v_setup(void *shared, void *arg)
{
	struct v_shared *sh = shared;
	char buf[PG * 8];
	int fd, ro, dfd;
	char *p;
	int local;

	(void)arg;
	sh->stack_addr = (unsigned long)&local;
	mkdir("/tmp", 01777);
	snprintf(sh->dir, sizeof(sh->dir), "/tmp/pss-v-%d", getpid());
	if (mkdir(sh->dir, 0755))
		return 10;
	snprintf(sh->file, sizeof(sh->file), "%s/file", sh->dir);
	memset(buf, 'x', sizeof(buf));
	fd = open(sh->file, O_RDWR | O_CREAT, 0644);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf))
		return 11;
	ro = open(sh->file, O_RDONLY);
	if (ro < 0)
		return 12;

	p = mk(sh, V_ANON, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p)
		return 13;
	p[0] = 1;
	p = mk(sh, V_ANON_SHARED, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!p)
		return 14;
	p[0] = 1;
	if (!mk(sh, V_FILE_OFF, 3 * PG, PROT_READ, MAP_PRIVATE, fd, 2 * PG))
		return 15;
	if (!mk(sh, V_FILE_SHARED_RO, PG, PROT_READ, MAP_SHARED, ro, 5 * PG))
		return 16;
	if (!mk(sh, V_FILE_SHARED_RW, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 6 * PG))
		return 17;
	if (!mk(sh, V_PROT_NONE, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
		return 18;
	p = mk(sh, V_LOCKED, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p || mlock(p, 2 * PG))
		return 19;
	p = mk(sh, V_DONTDUMP, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p || madvise(p, 2 * PG, MADV_DONTDUMP))
		return 20;
	p = mk(sh, V_DONTFORK, 2 * PG, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p || madvise(p, 2 * PG, MADV_DONTFORK))
		return 21;
	p = mk(sh, V_WIPEONFORK, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p || madvise(p, 2 * PG, MADV_WIPEONFORK))
		return 22;
	if (!mk(sh, V_NORESERVE, 16 * PG, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0))
		return 23;
	if (!mk(sh, V_EXEC, PG, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
		return 24;
	p = mk(sh, V_NAMED, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p)
		return 25;
	if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, 3 * PG,
		  (unsigned long)"pss-named"))
		sh->made[V_NAMED] = false;	/* no CONFIG_ANON_VMA_NAME */

	snprintf(sh->deleted, sizeof(sh->deleted), "%s/deleted", sh->dir);
	dfd = open(sh->deleted, O_RDWR | O_CREAT, 0644);
	if (dfd < 0 || write(dfd, buf, PG) != PG)
		return 26;
	if (!mk(sh, V_DELETED, PG, PROT_READ, MAP_PRIVATE, dfd, 0) || unlink(sh->deleted))
		return 27;
	close(dfd);

	p = sbrk(0);
	if (p == (void *)-1 || sbrk(16 * PG) == (void *)-1)
		return 28;
	memset(p, 1, 16 * PG);
	sh->addr[V_HEAP] = (unsigned long)p;
	sh->len[V_HEAP] = 16 * PG;
	sh->made[V_HEAP] = true;
	close(fd);
	close(ro);
	return 0;
}

struct maps_line {
	unsigned long start, end, off;
	char perms[5];
	unsigned int maj, min;
	unsigned long ino;
	char name[PSS_PATH_MAX];
	/* from smaps */
	__u32 vmflags;		/* as PSS_VMA_* */
	unsigned long kps;	/* KernelPageSize bytes */
	bool have_smaps;
};

static int parse_header(const char *line, struct maps_line *m)
{
	char l[PSS_PATH_MAX + 128];
	int n = 0;
	const char *name;

	/* one line only: a " %n" must not run into the next one */
	snprintf(l, sizeof(l), "%.*s", (int)strcspn(line, "\n"), line);
	memset(m, 0, sizeof(*m));
	if (sscanf(l, "%lx-%lx %4s %lx %x:%x %lu%n", &m->start, &m->end,
		   m->perms, &m->off, &m->maj, &m->min, &m->ino, &n) < 7)
		return -1;
	name = l + n;
	while (*name == ' ')
		name++;
	snprintf(m->name, sizeof(m->name), "%s", name);
	return 0;
}

static __u32 vmflags_to_pss(const char *s)
{
	static const struct { const char *mn; __u32 f; } map[] = {
		{ "sh", PSS_VMA_SHARED }, { "gd", PSS_VMA_GROWSDOWN },
		{ "lo", PSS_VMA_LOCKED }, { "ht", PSS_VMA_HUGETLB },
		{ "io", PSS_VMA_IO }, { "pf", PSS_VMA_PFNMAP },
		{ "dd", PSS_VMA_DONTDUMP }, { "dc", PSS_VMA_DONTFORK },
		{ "wf", PSS_VMA_WIPEONFORK }, { "ms", PSS_VMA_MAYSHARE },
		{ "ac", PSS_VMA_ACCOUNT }, { "nr", PSS_VMA_NORESERVE },
		{ "mg", PSS_VMA_MERGEABLE }, { "hg", PSS_VMA_HUGEPAGE },
		{ "nh", PSS_VMA_NOHUGEPAGE },
	};
	__u32 f = 0;
	size_t i;

	while (*s) {
		while (*s == ' ')
			s++;
		if (!*s || *s == '\n')
			break;
		for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (!strncmp(s, map[i].mn, 2))
				f |= map[i].f;
		s += 2;
	}
	return f;
}

/* /proc/PID/maps, with smaps' VmFlags and KernelPageSize when available */
static int read_maps(pid_t pid, struct maps_line **out, size_t *n)
{
	char *maps = pss_read_fmt(NULL, "/proc/%d/maps", pid);
	char *smaps = pss_read_fmt(NULL, "/proc/%d/smaps", pid);
	struct maps_line *v = NULL;
	size_t cap = 0;
	char *line, *next;

	*n = 0;
	if (!maps)
		return -errno;
	for (line = maps; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
		}
		if (parse_header(line, &v[*n]))
			return -EPROTO;
		(*n)++;
	}
	free(maps);
	if (smaps) {
		size_t i = (size_t)-1;

		for (line = smaps; *line; line = next) {
			struct maps_line tmp;

			next = strchr(line, '\n');
			next = next ? next + 1 : line + strlen(line);
			if (isxdigit((unsigned char)line[0]) && !parse_header(line, &tmp)) {
				for (i = 0; i < *n; i++)
					if (v[i].start == tmp.start)
						break;
				continue;
			}
			if (i >= *n)
				continue;
			if (!strncmp(line, "KernelPageSize:", 15))
				v[i].kps = strtoul(line + 15, NULL, 10) * 1024;
			else if (!strncmp(line, "VmFlags:", 8)) {
				v[i].vmflags = vmflags_to_pss(line + 8);
				v[i].have_smaps = true;
			}
		}
		free(smaps);
	}
	*out = v;
	return 0;
}

static __u32 kind_of_name(const char *name)
{
	if (!*name)
		return PSS_VMA_NAME_NONE;
	if (name[0] == '/')
		return PSS_VMA_NAME_FILE;
	if (!strcmp(name, "[heap]"))
		return PSS_VMA_NAME_HEAP;
	if (!strcmp(name, "[stack]"))
		return PSS_VMA_NAME_STACK;
	if (!strncmp(name, "[anon:", 6))
		return PSS_VMA_NAME_ANON;
	if (!strncmp(name, "[anon_shmem:", 12))
		return PSS_VMA_NAME_ANON_SHMEM;
	return PSS_VMA_NAME_SPECIAL;
}

static void rm_dir(const struct v_shared *sh)
{
	char path[128];

	unlink(sh->file);
	unlink(sh->deleted);
	snprintf(path, sizeof(path), "%s", sh->dir);
	rmdir(path);
}

FIXTURE(vma) {
	struct pss_target t;
	struct v_shared *sh;
	int snap;
	struct pss_recs r;
	struct maps_line *m;
	size_t nm;
};

FIXTURE_VARIANT(vma) {
	bool section;
};

FIXTURE_VARIANT_ADD(vma, section) {
	.section = true,
};

FIXTURE_VARIANT_ADD(vma, bare) {
	.section = false,
};

FIXTURE_SETUP(vma)
{
	int ret;

	self->snap = -1;
	ret = pss_target_start(&self->t, v_setup, NULL, sizeof(struct v_shared), true);
	ASSERT_EQ(0, ret) TH_LOG("%s", pss_err);
	self->sh = self->t.shared;
	self->snap = pss_capture1(self->t.pid, PSS_FACET_VA_SPACE |
				  (variant->section ? PSS_FACET_VA_SPACE_SECTION : 0));
	ASSERT_LE(0, self->snap) TH_LOG("capture: %s", strerror(-self->snap));
	ASSERT_EQ(0, pss_walk_all(self->snap, PSS_WALK_VA_SPACE, &self->r))
		TH_LOG("%s", pss_err);
	ASSERT_EQ(0, read_maps(self->t.pid, &self->m, &self->nm));
}

FIXTURE_TEARDOWN(vma)
{
	pss_recs_free(&self->r);
	free(self->m);
	if (self->snap >= 0)
		close(self->snap);
	if (self->sh)
		rm_dir(self->sh);
	pss_target_stop(&self->t);
}

static struct pss_vma_entry *find_addr(struct pss_recs *r, unsigned long a)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		struct pss_vma_entry *e = r->rec[i];

		if (e->start <= a && a < e->end)
			return e;
	}
	return NULL;
}

TEST_F(vma, sorted_non_overlapping)
{
	size_t i;

	ASSERT_LT(0, self->r.n);
	for (i = 0; i < self->r.n; i++) {
		struct pss_vma_entry *e = self->r.rec[i];

		EXPECT_LT(e->start, e->end);
		EXPECT_EQ(0, e->start % PG);
		EXPECT_EQ(0, e->end % PG);
		if (i) {
			struct pss_vma_entry *p = self->r.rec[i - 1];

			EXPECT_LE(p->end, e->start) TH_LOG("vma %zu", i);
		}
	}
}

TEST_F(vma, ranges_and_perms_equal_maps)
{
	size_t i;

	ASSERT_EQ(self->nm, self->r.n);
	for (i = 0; i < self->nm; i++) {
		struct pss_vma_entry *e = self->r.rec[i];
		const struct maps_line *m = &self->m[i];
		char perms[5];

		perms[0] = e->prot & PSS_PROT_READ ? 'r' : '-';
		perms[1] = e->prot & PSS_PROT_WRITE ? 'w' : '-';
		perms[2] = e->prot & PSS_PROT_EXEC ? 'x' : '-';
		perms[3] = e->flags & PSS_VMA_MAYSHARE ? 's' : 'p';
		perms[4] = 0;
		EXPECT_EQ(m->start, e->start) TH_LOG("line %zu: %s", i, m->name);
		EXPECT_EQ(m->end, e->end) TH_LOG("line %zu: %s", i, m->name);
		EXPECT_STREQ(m->perms, perms) TH_LOG("line %zu %lx: %s", i, m->start, m->name);
		EXPECT_EQ(0, e->prot & ~(PSS_PROT_READ | PSS_PROT_WRITE | PSS_PROT_EXEC));
	}
}

/* Offset, device and inode are filled at either level, as maps shows them. */
TEST_F(vma, backing_equal_maps)
{
	size_t i;

	ASSERT_EQ(self->nm, self->r.n);
	for (i = 0; i < self->nm; i++) {
		struct pss_vma_entry *e = self->r.rec[i];
		const struct maps_line *m = &self->m[i];

		EXPECT_EQ(m->off, e->pgoff_bytes) TH_LOG("line %zu %lx: %s", i, m->start, m->name);
		EXPECT_EQ(m->maj, e->dev_major) TH_LOG("line %zu: %s", i, m->name);
		EXPECT_EQ(m->min, e->dev_minor) TH_LOG("line %zu: %s", i, m->name);
		EXPECT_EQ(m->ino, e->ino) TH_LOG("line %zu: %s", i, m->name);
	}
}

/* A level not asked for leaves its fields zero: no name, no name kind. */
static void expect_no_name(struct __test_metadata *_metadata,
			   const struct pss_vma_entry *e)
{
	EXPECT_EQ(0, e->name_off) TH_LOG("%llx", (unsigned long long)e->start);
	EXPECT_EQ(0, e->name_len) TH_LOG("%llx", (unsigned long long)e->start);
	EXPECT_EQ(PSS_VMA_NAME_NONE, e->name_kind) TH_LOG("%llx", (unsigned long long)e->start);
}

TEST_F(vma, names_equal_maps)
{
	size_t i;

	if (!variant->section) {
		for (i = 0; i < self->r.n; i++)
			expect_no_name(_metadata, self->r.rec[i]);
		return;
	}
	ASSERT_EQ(self->nm, self->r.n);
	for (i = 0; i < self->nm; i++) {
		struct pss_vma_entry *e = self->r.rec[i];
		const struct maps_line *m = &self->m[i];
		const char *name = pss_rec_name(e);

		EXPECT_STREQ(m->name, name ? name : "") TH_LOG("line %zu %lx", i, m->start);
		EXPECT_EQ(strlen(m->name), e->name_len);
		EXPECT_EQ(kind_of_name(m->name), e->name_kind)
			TH_LOG("line %zu %lx: %s", i, m->start, m->name);
	}
}

TEST_F(vma, flags_equal_smaps)
{
	const __u32 known = PSS_VMA_SHARED | PSS_VMA_GROWSDOWN | PSS_VMA_LOCKED |
		PSS_VMA_HUGETLB | PSS_VMA_IO | PSS_VMA_PFNMAP | PSS_VMA_DONTDUMP |
		PSS_VMA_DONTFORK | PSS_VMA_WIPEONFORK | PSS_VMA_MAYSHARE |
		PSS_VMA_ACCOUNT | PSS_VMA_NORESERVE | PSS_VMA_MERGEABLE |
		PSS_VMA_HUGEPAGE | PSS_VMA_NOHUGEPAGE;
	size_t i;

	ASSERT_EQ(self->nm, self->r.n);
	if (!self->m[0].have_smaps)
		SKIP(return, "no /proc/PID/smaps (CONFIG_PROC_PAGE_MONITOR off)");
	for (i = 0; i < self->nm; i++) {
		struct pss_vma_entry *e = self->r.rec[i];
		const struct maps_line *m = &self->m[i];

		EXPECT_EQ(m->vmflags, e->flags & known)
			TH_LOG("line %zu %lx %s: smaps %#x pss %#x", i, m->start, m->name,
			       m->vmflags, e->flags & known);
	}
}

TEST_F(vma, page_size_equals_smaps)
{
	size_t i;

	ASSERT_EQ(self->nm, self->r.n);
	if (!self->m[0].have_smaps)
		SKIP(return, "no /proc/PID/smaps (CONFIG_PROC_PAGE_MONITOR off)");
	for (i = 0; i < self->nm; i++) {
		struct pss_vma_entry *e = self->r.rec[i];

		EXPECT_EQ(self->m[i].kps, e->page_size) TH_LOG("line %zu", i);
	}
}

/* What the target set up, independent of /proc. */
TEST_F(vma, known_mappings)
{
	const struct v_shared *sh = self->sh;
	static const struct {
		int k;
		__u32 prot;
		__u32 set, clear;
	} want[] = {
		{ V_ANON, PSS_PROT_READ | PSS_PROT_WRITE, 0, PSS_VMA_MAYSHARE | PSS_VMA_LOCKED },
		{ V_ANON_SHARED, PSS_PROT_READ | PSS_PROT_WRITE,
		  PSS_VMA_SHARED | PSS_VMA_MAYSHARE, 0 },
		{ V_FILE_OFF, PSS_PROT_READ, 0, PSS_VMA_SHARED | PSS_VMA_MAYSHARE },
		{ V_FILE_SHARED_RO, PSS_PROT_READ, PSS_VMA_MAYSHARE, PSS_VMA_SHARED },
		{ V_FILE_SHARED_RW, PSS_PROT_READ | PSS_PROT_WRITE,
		  PSS_VMA_SHARED | PSS_VMA_MAYSHARE, 0 },
		{ V_PROT_NONE, 0, 0, 0 },
		{ V_LOCKED, PSS_PROT_READ | PSS_PROT_WRITE, PSS_VMA_LOCKED, 0 },
		{ V_DONTDUMP, PSS_PROT_READ, PSS_VMA_DONTDUMP, 0 },
		{ V_DONTFORK, PSS_PROT_READ | PSS_PROT_EXEC, PSS_VMA_DONTFORK, 0 },
		{ V_WIPEONFORK, PSS_PROT_READ | PSS_PROT_WRITE, PSS_VMA_WIPEONFORK, 0 },
		{ V_NORESERVE, PSS_PROT_READ | PSS_PROT_WRITE, 0, PSS_VMA_LOCKED },
		{ V_EXEC, PSS_PROT_READ | PSS_PROT_EXEC, 0, 0 },
		{ V_NAMED, PSS_PROT_READ | PSS_PROT_WRITE, 0, 0 },
		{ V_DELETED, PSS_PROT_READ, 0, 0 },
		{ V_HEAP, PSS_PROT_READ | PSS_PROT_WRITE, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct pss_vma_entry *e;
		int k = want[i].k;

		if (!sh->made[k])
			continue;
		e = find_addr(&self->r, sh->addr[k]);
		ASSERT_NE(NULL, e) TH_LOG("kind %d at %lx", k, sh->addr[k]);
		EXPECT_LE(e->start, sh->addr[k]);
		EXPECT_GE(e->end, sh->addr[k] + sh->len[k]) TH_LOG("kind %d", k);
		EXPECT_EQ(want[i].prot, e->prot) TH_LOG("kind %d", k);
		EXPECT_EQ(want[i].set, e->flags & want[i].set) TH_LOG("kind %d flags %#x", k, e->flags);
		EXPECT_EQ(0, e->flags & want[i].clear) TH_LOG("kind %d flags %#x", k, e->flags);
	}
}

TEST_F(vma, file_offset_and_inode)
{
	struct pss_vma_entry *e = find_addr(&self->r, self->sh->addr[V_FILE_OFF]);
	struct stat st;

	ASSERT_NE(NULL, e);
	ASSERT_EQ(0, stat(self->sh->file, &st));
	EXPECT_EQ(self->sh->addr[V_FILE_OFF], e->start);
	EXPECT_EQ(2 * PG, e->pgoff_bytes);
	EXPECT_EQ(st.st_ino, e->ino);
	EXPECT_EQ(major(st.st_dev), e->dev_major);
	EXPECT_EQ(minor(st.st_dev), e->dev_minor);
	if (variant->section) {
		EXPECT_STREQ(self->sh->file, pss_rec_name(e));
		EXPECT_EQ(PSS_VMA_NAME_FILE, e->name_kind);
	} else {
		expect_no_name(_metadata, e);
	}
	EXPECT_EQ(0, e->flags & PSS_VMA_DELETED);
	e = find_addr(&self->r, self->sh->addr[V_FILE_SHARED_RO]);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(5 * PG, e->pgoff_bytes);
}

TEST_F(vma, deleted_file_mapping)
{
	struct pss_vma_entry *e = find_addr(&self->r, self->sh->addr[V_DELETED]);
	char want[128];

	ASSERT_NE(NULL, e);
	/* a flag, not a name: there at either level */
	EXPECT_TRUE(!!(e->flags & PSS_VMA_DELETED));
	if (!variant->section) {
		expect_no_name(_metadata, e);
		return;
	}
	snprintf(want, sizeof(want), "%s (deleted)", self->sh->deleted);
	EXPECT_STREQ(want, pss_rec_name(e));
	EXPECT_EQ(PSS_VMA_NAME_FILE, e->name_kind);
}

TEST_F(vma, named_anon)
{
	struct pss_vma_entry *e;

	if (!self->sh->made[V_NAMED])
		SKIP(return, "PR_SET_VMA_ANON_NAME unsupported (CONFIG_ANON_VMA_NAME off)");
	e = find_addr(&self->r, self->sh->addr[V_NAMED]);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(self->sh->addr[V_NAMED], e->start);
	EXPECT_EQ(self->sh->addr[V_NAMED] + 3 * PG, e->end);
	if (!variant->section) {
		expect_no_name(_metadata, e);
		return;
	}
	EXPECT_STREQ("[anon:pss-named]", pss_rec_name(e));
	EXPECT_EQ(PSS_VMA_NAME_ANON, e->name_kind);
}

TEST_F(vma, heap_stack_vdso)
{
	struct pss_vma_entry *heap = find_addr(&self->r, self->sh->addr[V_HEAP]);
	struct pss_vma_entry *stack = find_addr(&self->r, self->sh->stack_addr);
	bool vdso = false;
	size_t i;

	ASSERT_NE(NULL, heap);
	ASSERT_NE(NULL, stack);
	EXPECT_TRUE(!!(stack->flags & PSS_VMA_GROWSDOWN));
	EXPECT_EQ(PSS_PROT_READ | PSS_PROT_WRITE, stack->prot);
	if (!variant->section) {
		expect_no_name(_metadata, heap);
		expect_no_name(_metadata, stack);
		return;
	}
	EXPECT_STREQ("[heap]", pss_rec_name(heap));
	EXPECT_EQ(PSS_VMA_NAME_HEAP, heap->name_kind);
	EXPECT_STREQ("[stack]", pss_rec_name(stack));
	EXPECT_EQ(PSS_VMA_NAME_STACK, stack->name_kind);
	for (i = 0; i < self->r.n; i++) {
		struct pss_vma_entry *e = self->r.rec[i];
		const char *n = pss_rec_name(e);

		if (n && !strcmp(n, "[vdso]")) {
			vdso = true;
			EXPECT_EQ(PSS_VMA_NAME_SPECIAL, e->name_kind);
			EXPECT_TRUE(!!(e->prot & PSS_PROT_EXEC));
		}
	}
	EXPECT_TRUE(vdso);
}

TEST_F(vma, count_matches)
{
	struct pss_snapshot_info si;
	struct pss_process_info pi;
	__u64 sum = 0;
	size_t i;

	ASSERT_EQ(0, pss_query_snapshot(self->snap, &si));
	EXPECT_EQ(self->r.n, si.nr_vmas);
	ASSERT_EQ(0, pss_query_process(self->snap, &pi));
	for (i = 0; i < self->r.n; i++) {
		struct pss_vma_entry *e = self->r.rec[i];

		sum += e->end - e->start;
	}
	/* vsize is the sum of the VMAs (total_vm) */
	EXPECT_EQ(pi.vsize_bytes, sum);
}

/* Self-capture: our own stack variable and a fresh mapping are there. */
TEST(self_capture)
{
	void *p = mmap(NULL, 5 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pss_vma_entry *e;
	struct pss_recs r;
	int local = 0, snap;

	ASSERT_NE(MAP_FAILED, p);
	snap = pss_capture1(0, PSS_FACET_VA_SPACE | PSS_FACET_VA_SPACE_SECTION);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_VA_SPACE, &r)) TH_LOG("%s", pss_err);
	e = find_addr(&r, (unsigned long)&local);
	ASSERT_NE(NULL, e);
	EXPECT_STREQ("[stack]", pss_rec_name(e));
	e = find_addr(&r, (unsigned long)p);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(PSS_PROT_READ, e->prot);
	/* unmapped after the cut: the snapshot does not move */
	ASSERT_EQ(0, munmap(p, 5 * PG));
	pss_recs_free(&r);
	ASSERT_EQ(0, pss_walk_all(snap, PSS_WALK_VA_SPACE, &r)) TH_LOG("%s", pss_err);
	EXPECT_NE(NULL, find_addr(&r, (unsigned long)p));
	pss_recs_free(&r);
	close(snap);
}

TEST_HARNESS_MAIN
