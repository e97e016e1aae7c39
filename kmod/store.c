// SPDX-License-Identifier: GPL-2.0
/*
 * pss: the leaf under the capture - kernel memory and where records and
 * names are kept. Nothing here calls back into the capture or the facets.
 *
 * Bounds: every byte a capture allocates is charged, as it is allocated, to
 * three limits: the capture's own (max_snapshot_bytes: ENOBUFS), the
 * caller's real uid's total over every capture and live snapshot
 * (max_user_bytes: EDQUOT), and the module's total (max_total_bytes:
 * EDQUOT). A snapshot keeps its charge until its last fd is closed. All
 * of it is memcg-charged too.
 *
 * Names: each distinct string is stored once per snapshot, in chunks the
 * snapshot keeps; records refer to it. Interning hashes the content, so a
 * file mapped 65,000 times, or 65,000 VMAs with one anon name, cost one
 * copy of the name.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/path.h>
#include <linux/refcount.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>
#include "pss.h"

static unsigned long max_snapshot_bytes = 256UL << 20;
module_param(max_snapshot_bytes, ulong, 0644);
MODULE_PARM_DESC(max_snapshot_bytes,
		 "Most kernel memory one capture or snapshot may use (ENOBUFS beyond)");

static unsigned long max_user_bytes = 1UL << 30;
module_param(max_user_bytes, ulong, 0644);
MODULE_PARM_DESC(max_user_bytes,
		 "Most kernel memory the captures and snapshots of one uid may hold (EDQUOT beyond)");

static unsigned long max_total_bytes = 4UL << 30;
module_param(max_total_bytes, ulong, 0644);
MODULE_PARM_DESC(max_total_bytes,
		 "Most kernel memory all captures and snapshots may hold (EDQUOT beyond)");

/* Bytes charged by one uid: its captures in flight and its snapshots. */
struct pss_account {
	struct hlist_node node;
	kuid_t uid;
	refcount_t ref;
	atomic_long_t bytes;
};

static DEFINE_HASHTABLE(pss_accounts, 6);
static DEFINE_SPINLOCK(pss_accounts_lock);
static atomic_long_t pss_total_bytes = ATOMIC_LONG_INIT(0);

/*
 * The account of @uid, or NULL. An account is unhashed under the lock when
 * its last reference goes, so one found under the lock is alive.
 */
static struct pss_account *pss_account_lookup(kuid_t uid)
{
	struct pss_account *a;

	lockdep_assert_held(&pss_accounts_lock);
	hash_for_each_possible(pss_accounts, a, node, __kuid_val(uid))
		if (uid_eq(a->uid, uid))
			return a;
	return NULL;
}

/* The limits, and what the caller's uid and everybody hold now. */
void pss_store_limits(struct pss_version *ver)
{
	struct pss_account *a;

	ver->max_snapshot_bytes = READ_ONCE(max_snapshot_bytes);
	ver->max_user_bytes = READ_ONCE(max_user_bytes);
	ver->max_total_bytes = READ_ONCE(max_total_bytes);
	spin_lock(&pss_accounts_lock);
	a = pss_account_lookup(current_uid());
	if (a)
		ver->user_bytes = atomic_long_read(&a->bytes);
	spin_unlock(&pss_accounts_lock);
	ver->total_bytes = atomic_long_read(&pss_total_bytes);
}

/* As pss_account_lookup(), referenced. */
static struct pss_account *pss_account_find(kuid_t uid)
{
	struct pss_account *a = pss_account_lookup(uid);

	if (a)
		refcount_inc(&a->ref);
	return a;
}

/* The caller's real uid's account, referenced. */
static struct pss_account *pss_account_get(void)
{
	kuid_t uid = current_uid();
	struct pss_account *a, *new;

	spin_lock(&pss_accounts_lock);
	a = pss_account_find(uid);
	spin_unlock(&pss_accounts_lock);
	if (a)
		return a;
	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return NULL;
	new->uid = uid;
	refcount_set(&new->ref, 1);
	spin_lock(&pss_accounts_lock);
	a = pss_account_find(uid);
	if (!a) {
		hash_add(pss_accounts, &new->node, __kuid_val(uid));
		a = new;
		new = NULL;
	}
	spin_unlock(&pss_accounts_lock);
	kfree(new);
	return a;
}

static void pss_account_put(struct pss_account *a)
{
	spin_lock(&pss_accounts_lock);
	if (!refcount_dec_and_test(&a->ref)) {
		spin_unlock(&pss_accounts_lock);
		return;
	}
	hash_del(&a->node);
	spin_unlock(&pss_accounts_lock);
	WARN_ON_ONCE(atomic_long_read(&a->bytes));
	kfree(a);
}

static int pss_account_charge(struct pss_account *a, size_t bytes)
{
	if (atomic_long_add_return(bytes, &pss_total_bytes) >
	    READ_ONCE(max_total_bytes)) {
		atomic_long_sub(bytes, &pss_total_bytes);
		return -EDQUOT;
	}
	if (atomic_long_add_return(bytes, &a->bytes) >
	    READ_ONCE(max_user_bytes)) {
		atomic_long_sub(bytes, &a->bytes);
		atomic_long_sub(bytes, &pss_total_bytes);
		return -EDQUOT;
	}
	return 0;
}

static void pss_account_uncharge(struct pss_account *a, size_t bytes)
{
	atomic_long_sub(bytes, &a->bytes);
	atomic_long_sub(bytes, &pss_total_bytes);
}

int pss_store_init(struct pss_store *st)
{
	memset(st, 0, sizeof(*st));
	st->limit = READ_ONCE(max_snapshot_bytes);
	st->account = pss_account_get();
	return st->account ? 0 : -ENOMEM;
}

/*
 * Every allocation of a capture: charged, memcg-accounted. A failure is
 * reported as an errno, so the allocator's own warning is not wanted.
 */
static void *pss_alloc_gfp(struct pss_store *st, size_t size, gfp_t gfp)
{
	void *p;
	int err;

	if (size > st->limit || st->used > st->limit - size)
		return ERR_PTR(-ENOBUFS);
	err = pss_account_charge(st->account, size);
	if (err)
		return ERR_PTR(err);
	p = kvmalloc(size, gfp | GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!p) {
		pss_account_uncharge(st->account, size);
		return ERR_PTR(-ENOMEM);
	}
	st->used += size;
	return p;
}

/* Zeroed. */
void *pss_alloc(struct pss_store *st, size_t size)
{
	return pss_alloc_gfp(st, size, __GFP_ZERO);
}

/* Not zeroed: for buffers that are written in full before being read. */
void *pss_alloc_raw(struct pss_store *st, size_t size)
{
	return pss_alloc_gfp(st, size, 0);
}

void pss_free(struct pss_store *st, void *p, size_t size)
{
	if (!p)
		return;
	kvfree(p);
	st->used -= size;
	pss_account_uncharge(st->account, size);
}

/* A chunk of an arena: names the snapshot keeps, or the capture's own. */
struct pss_arena_chunk {
	struct pss_arena_chunk *next;
	size_t size, used;		/* size: of the whole allocation */
	char data[] __aligned(8);
};

static void *pss_arena_alloc(struct pss_store *st, struct pss_arena_chunk **head,
			     size_t len)
{
	struct pss_arena_chunk *a = *head;
	void *p;

	len = ALIGN(len, 8);
	if (!a || a->size - a->used < len) {
		/*
		 * Chunks double from a page to 64 KiB: a small capture does
		 * not pay for (with init_on_alloc, clear) 64 KiB it never uses;
		 * but one holds at least 16 of what is kept (pages of memory
		 * would each leave most of a small chunk unused).
		 */
		size_t size = a ? min_t(size_t, a->size * 2, SZ_64K) : PAGE_SIZE;

		size = max3(size, min_t(size_t, SZ_64K, 16 * (sizeof(*a) + len)),
			    sizeof(*a) + len);

		a = pss_alloc_raw(st, size);
		if (IS_ERR(a))
			return a;
		a->next = *head;
		a->size = size;
		a->used = sizeof(*a);
		*head = a;
	}
	p = (char *)a + a->used;
	a->used += len;
	return p;
}

static void pss_arena_free(struct pss_store *st, struct pss_arena_chunk **head)
{
	struct pss_arena_chunk *a, *next;

	for (a = *head; a; a = next) {
		next = a->next;
		pss_free(st, a, a->size);
	}
	*head = NULL;
}

/* @len bytes the snapshot keeps (not zeroed), with its names. */
void *pss_keep(struct pss_store *st, size_t len)
{
	return pss_arena_alloc(st, &st->names, len);
}

/*
 * Hand @to what @from keeps (pss_keep()), with its charge: both stores
 * charge one account, the caller's (pss_store_init() in one ioctl).
 */
void pss_store_adopt(struct pss_store *to, struct pss_store *from)
{
	struct pss_arena_chunk **tail;
	size_t bytes = 0;

	if (WARN_ON_ONCE(to->account != from->account) || !from->names)
		return;
	for (tail = &from->names; *tail; tail = &(*tail)->next)
		bytes += (*tail)->size;
	*tail = to->names;
	to->names = from->names;
	from->names = NULL;
	from->used -= bytes;
	to->used += bytes;
}

/* One interned name, in the capture's own arena (freed with the capture). */
struct pss_intern_ent {
	struct pss_intern_ent *next;
	u64 hash;
	struct pss_name name;
};

/* A path cache slot: (mnt, dentry) -> interned name. */
struct pss_path_ent {
	const void *mnt, *dentry;	/* the key, compared only */
	struct pss_name name;
};

/*
 * About @n names in all are to be interned: size the table for short chains.
 * A table already in use grows (its entries keep their hashes, so they
 * move without being hashed again): the thread-state facets intern
 * thousands of pages after the registers have made the table. If the
 * bigger table cannot be had, the old one stays.
 */
void pss_intern_expect(struct pss_store *st, u32 n)
{
	u32 bits = clamp_t(u32, order_base_2(n | 1), PSS_INTERN_MIN_BITS,
			   PSS_INTERN_MAX_BITS);
	struct pss_intern_ent **t, *e, *next;
	u32 i;

	if (!st->intern) {
		st->intern_bits = max(st->intern_bits, bits);
		return;
	}
	if (bits <= st->intern_bits)
		return;
	t = pss_alloc(st, sizeof(*t) << bits);
	if (IS_ERR(t))
		return;
	for (i = 0; i < 1U << st->intern_bits; i++) {
		for (e = st->intern[i]; e; e = next) {
			next = e->next;
			e->next = t[hash_64(e->hash, bits)];
			t[hash_64(e->hash, bits)] = e;
		}
	}
	pss_free(st, st->intern, sizeof(*t) << st->intern_bits);
	st->intern = t;
	st->intern_bits = bits;
}

/*
 * Store @len bytes of @s once per snapshot: an equal string interned
 * before is returned instead of a new copy. The copy is NUL-terminated.
 */
int pss_intern(struct pss_store *st, const char *s, u32 len,
	       struct pss_name *out)
{
	struct pss_intern_ent *e, **bucket;
	u64 h;
	char *dst;

	if (!st->intern) {
		if (!st->intern_bits)
			st->intern_bits = PSS_INTERN_MIN_BITS;
		st->intern = pss_alloc(st, sizeof(*st->intern) <<
				       st->intern_bits);
		if (IS_ERR(st->intern)) {
			int err = PTR_ERR(st->intern);

			st->intern = NULL;
			return err;
		}
	}
	h = full_name_hash(NULL, s, len) ^ ((u64)len << 32);
	bucket = &st->intern[hash_64(h, st->intern_bits)];
	for (e = *bucket; e; e = e->next) {
		if (e->hash == h && e->name.len == len &&
		    !memcmp(e->name.s, s, len)) {
			*out = e->name;
			return 0;
		}
	}
	e = pss_arena_alloc(st, &st->scratch_arena, sizeof(*e));
	if (IS_ERR(e))
		return PTR_ERR(e);
	dst = pss_arena_alloc(st, &st->names, (size_t)len + 1);
	if (IS_ERR(dst))
		return PTR_ERR(dst);
	memcpy(dst, s, len);
	dst[len] = '\0';
	e->hash = h;
	e->name.s = dst;
	e->name.len = len;
	e->name.kind = PSS_NAME_STR;
	e->next = *bucket;
	*bucket = e;
	*out = e->name;
	return 0;
}

/*
 * The path d_path() gives for @path, as readlink and /proc/PID/maps show
 * it, interned. d_path() is skipped for a (mnt, dentry) seen recently (a
 * file open many times, dup()ed fds, both ends of a pipe, a file mapped
 * many times). @out->s is NULL if the path has no name.
 */
int pss_resolve_path(struct pss_store *st, const struct path *path,
		     struct pss_name *out)
{
	struct pss_path_ent *e;
	const char *p;
	int err;

	if (!st->pcache) {
		/* As many slots as names are expected, up to the most. */
		st->pcache_bits = clamp_t(u32, st->intern_bits, 4,
					  PSS_PATH_CACHE_BITS);
		st->pcache = pss_alloc(st, sizeof(*st->pcache) <<
				       st->pcache_bits);
		if (IS_ERR(st->pcache)) {
			err = PTR_ERR(st->pcache);
			st->pcache = NULL;
			return err;
		}
	}
	if (!st->scratch) {
		st->scratch = pss_alloc_raw(st, PATH_MAX);
		if (IS_ERR(st->scratch)) {
			err = PTR_ERR(st->scratch);
			st->scratch = NULL;
			return err;
		}
	}
	e = &st->pcache[hash_ptr(path->dentry, st->pcache_bits)];
	if (e->dentry == path->dentry && e->mnt == path->mnt) {
		*out = e->name;
		return 0;
	}
	out->s = NULL;
	out->len = 0;
	out->kind = PSS_NAME_STR;
	p = d_path(path, st->scratch, PATH_MAX);
	if (IS_ERR(p))
		return 0;	/* no name: not cached, rare */
	err = pss_intern(st, p, strlen(p), out);
	if (err)
		return err;
	e->mnt = path->mnt;
	e->dentry = path->dentry;
	e->name = *out;
	return 0;
}

static const char *const pss_synth_prefix[] = {
	[PSS_NAME_SOCKET]	= "socket:[",
	[PSS_NAME_PIPE]		= "pipe:[",
};

static u32 pss_digits(unsigned long v)
{
	u32 n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* The name @kind makes of inode number @ino, without a string kept. */
void pss_name_synth(struct pss_name *out, u8 kind, unsigned long ino)
{
	out->ino = ino;
	out->kind = kind;
	out->len = strlen(pss_synth_prefix[kind]) + pss_digits(ino) + 1;
}

/* @n's text and its NUL at @dst (n->len + 1 bytes): at walk time. */
void pss_name_write(char *dst, const struct pss_name *n)
{
	unsigned long v;
	u32 plen, i;

	if (n->kind == PSS_NAME_STR) {
		memcpy(dst, n->s, n->len + 1);
		return;
	}
	plen = strlen(pss_synth_prefix[n->kind]);
	memcpy(dst, pss_synth_prefix[n->kind], plen);
	i = n->len - 1;
	dst[i] = ']';
	dst[n->len] = '\0';
	for (v = n->ino; i > plen; v /= 10)
		dst[--i] = '0' + v % 10;
}

/* A slot of a pss_ptrmap: the key's two pointers, and its value. */
struct pss_ptrmap_slot {
	const void *k1, *k2;
	u32 val;
};

/* An empty map; it grows as keys are added. */
void pss_ptrmap_init(struct pss_ptrmap *m)
{
	memset(m, 0, sizeof(*m));
}

static struct pss_ptrmap_slot *pss_ptrmap_find(struct pss_ptrmap_slot *slots,
					       u32 bits, const void *k1,
					       const void *k2)
{
	u32 mask = (1U << bits) - 1;
	u32 i = hash_64((unsigned long)k1 ^ ((unsigned long)k2 * 31), bits);

	for (;; i = (i + 1) & mask) {
		struct pss_ptrmap_slot *e = &slots[i];

		if ((e->k1 == k1 && e->k2 == k2) || (!e->k1 && !e->k2))
			return e;
	}
}

/* Twice the slots (at first, 64), the keys moved over. */
static int pss_ptrmap_grow(struct pss_store *st, struct pss_ptrmap *m)
{
	u32 bits = m->slots ? m->bits + 1 : 6, i;
	struct pss_ptrmap_slot *slots;

	slots = pss_alloc(st, sizeof(*slots) << bits);
	if (IS_ERR(slots))
		return PTR_ERR(slots);
	for (i = 0; m->slots && i < 1U << m->bits; i++) {
		struct pss_ptrmap_slot *e = &m->slots[i];

		if (e->k1 || e->k2)
			*pss_ptrmap_find(slots, bits, e->k1, e->k2) = *e;
	}
	pss_ptrmap_fini(st, m);
	m->slots = slots;
	m->bits = bits;
	return 0;
}

/*
 * In *@val, the value slot of (@k1, @k2), not both NULL: U32_MAX if the key
 * is new (it is added; the caller sets the value). The map stays at most
 * half full.
 */
int pss_ptrmap_get(struct pss_store *st, struct pss_ptrmap *m,
		   const void *k1, const void *k2, u32 **val)
{
	struct pss_ptrmap_slot *e;
	int err;

	if (!m->slots || (m->nr + 1) * 2 > 1U << m->bits) {
		err = pss_ptrmap_grow(st, m);
		if (err)
			return err;
	}
	e = pss_ptrmap_find(m->slots, m->bits, k1, k2);
	if (!e->k1 && !e->k2) {
		e->k1 = k1;
		e->k2 = k2;
		e->val = U32_MAX;
		m->nr++;
	}
	*val = &e->val;
	return 0;
}

void pss_ptrmap_fini(struct pss_store *st, struct pss_ptrmap *m)
{
	if (m->slots)
		pss_free(st, m->slots, sizeof(*m->slots) << m->bits);
	m->slots = NULL;
}

/*
 * Make room in @*arr (@*cap elements of @esize) for @need: twice the room
 * (at first, 16), the elements kept.
 */
int pss_array_grow(struct pss_store *st, void **arr, u32 *cap, u32 need,
		   size_t esize)
{
	u32 want = max3(need, *cap * 2, 16U);
	void *n;

	if (need <= *cap)
		return 0;
	if (want < need)
		return -ENOBUFS;
	n = pss_alloc_raw(st, (size_t)want * esize);
	if (IS_ERR(n))
		return PTR_ERR(n);
	if (*arr) {
		memcpy(n, *arr, (size_t)*cap * esize);
		pss_free(st, *arr, (size_t)*cap * esize);
	}
	*arr = n;
	*cap = want;
	return 0;
}

/*
 * Size @wb for exactly @count records of @rec_size stored bytes each (the
 * uapi fixed part); @named: each record may carry an interned name.
 */
int pss_wbuf_alloc(struct pss_store *st, struct pss_walk_buf *wb, u32 count,
		   u32 rec_size, bool named)
{
	void *p;

	wb->rec_size = rec_size;
	wb->user_fixed = rec_size;
	if (!count)
		return 0;
	p = pss_alloc_raw(st, (size_t)count * rec_size);
	if (IS_ERR(p))
		return PTR_ERR(p);
	wb->recs = p;
	if (!named)
		return 0;
	p = pss_alloc_raw(st, (size_t)count * sizeof(*wb->names));
	if (IS_ERR(p))
		return PTR_ERR(p);
	wb->names = p;
	return 0;
}

/*
 * Make @recs (@count records of @rec_size bytes) a class whose records
 * frame themselves with @ops, referring to @side (both allocated from the
 * capture's store, kept with the snapshot).
 */
void pss_wbuf_adopt_ops(struct pss_walk_buf *wb, void *recs, u32 count,
			u32 rec_size, const struct pss_rec_ops *ops,
			void *side)
{
	u64 i;

	wb->recs = recs;
	wb->count = count;
	wb->rec_size = rec_size;
	wb->ops = ops;
	wb->side = side;
	for (i = 0; i < count; i++) {
		u32 len = pss_wbuf_rec_len(wb, i);

		wb->bytes += len;
		wb->max_rec_len = max(wb->max_rec_len, len);
	}
}

/* Where the next record goes, to be filled in place and then added. */
void *pss_wbuf_slot(struct pss_walk_buf *wb)
{
	return wb->recs + (size_t)wb->count * wb->rec_size;
}

/*
 * Append one record: @rec_size bytes of @rec (the uapi fixed part) and the
 * interned @name (NULL: none). rec_len, the first field of every record, is
 * set here to what the walk will write: fixed part, name, NUL, padding.
 */
void pss_wbuf_add(struct pss_walk_buf *wb, const void *rec,
		  const struct pss_name *name)
{
	void *dst = wb->recs + (size_t)wb->count * wb->rec_size;
	u32 rec_len;

	if (rec != dst)
		memcpy(dst, rec, wb->rec_size);
	if (wb->names) {
		if (name) {
			wb->names[wb->count] = *name;
		} else {
			wb->names[wb->count].s = NULL;
			wb->names[wb->count].len = 0;
			wb->names[wb->count].kind = PSS_NAME_STR;
		}
	}
	rec_len = pss_wbuf_rec_len(wb, wb->count);
	memcpy(dst, &rec_len, sizeof(rec_len));
	wb->count++;
	wb->bytes += rec_len;
	wb->max_rec_len = max(wb->max_rec_len, rec_len);
}

/* Free what only the capture used (the snapshot's memory is untouched). */
static void pss_store_release(struct pss_store *st)
{
	pss_free(st, st->intern, sizeof(*st->intern) << st->intern_bits);
	st->intern = NULL;
	pss_free(st, st->pcache, sizeof(*st->pcache) << st->pcache_bits);
	st->pcache = NULL;
	pss_free(st, st->scratch, PATH_MAX);
	st->scratch = NULL;
	pss_arena_free(st, &st->scratch_arena);
}

/*
 * The capture is done: free what only the capture used, and hand @snap the
 * names and the charge of everything it keeps (all that is still
 * allocated: the capture has freed its own buffers by now). Without @snap
 * (its allocation failed) nothing is kept.
 */
void pss_store_finish(struct pss_store *st, struct pss_snapshot *snap)
{
	pss_store_release(st);
	if (!snap) {
		pss_arena_free(st, &st->names);
		WARN_ON_ONCE(st->used);
		pss_account_put(st->account);
		st->account = NULL;
		return;
	}
	snap->names = st->names;
	snap->account = st->account;
	snap->charged = st->used;
	st->names = NULL;
	st->account = NULL;
	st->used = 0;
}

/* The last fd of a snapshot is gone: free it and drop its charge. */
void pss_store_free_snapshot(struct pss_snapshot *snap)
{
	struct pss_arena_chunk *a, *next;
	int i;

	for (i = 0; i < PSS_WALK_NR_CLASSES; i++) {
		kvfree(snap->walk[i].recs);
		kvfree(snap->walk[i].names);
		kvfree(snap->walk[i].side);
	}
	for (a = snap->names; a; a = next) {
		next = a->next;
		kvfree(a);
	}
	kvfree(snap->proc);
	if (snap->account) {
		pss_account_uncharge(snap->account, snap->charged);
		pss_account_put(snap->account);
	}
	kvfree(snap);
}

