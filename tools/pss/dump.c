// SPDX-License-Identifier: GPL-2.0
/*
 * pss dump: an ELF core of a running process, like gcore, from one
 * capture: the target's threads are parked only while the registers and
 * the memory are copied, not while the file is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "pss.h"

/* What --memory copies besides the threads' stacks. */
static int memory_flags(const char *how, __u32 *flags, bool *all)
{
	*all = how && !strcmp(how, "all");
	if (!how || !strcmp(how, "writable") || *all)
		*flags = PSS_MEMORY_STACKS | PSS_MEMORY_WRITABLE;
	else if (!strcmp(how, "stacks"))
		*flags = PSS_MEMORY_STACKS;
	else
		return -1;
	return 0;
}

/* Append [start, start + len) to r, merging, at most PSS_MEMORY_RANGES_MAX. */
static void add_range(struct pss_memory_range *r, size_t *n, __u64 start,
		      __u64 len)
{
	if (*n && r[*n - 1].start + r[*n - 1].len == start) {
		r[*n - 1].len += len;
		return;
	}
	if (*n == PSS_MEMORY_RANGES_MAX) {
		size_t k, best = 1;
		__u64 gap, bestgap = ~0ULL;

		/*
		 * A range may span unmapped gaps (they are left out): merge
		 * the two neighbours with the smallest gap between them.
		 */
		for (k = 1; k < *n; k++) {
			gap = r[k].start - (r[k - 1].start + r[k - 1].len);
			if (gap < bestgap) {
				bestgap = gap;
				best = k;
			}
		}
		r[best - 1].len = r[best].start + r[best].len - r[best - 1].start;
		memmove(&r[best], &r[best + 1], (*n - best - 1) * sizeof(*r));
		(*n)--;
	}
	r[*n].start = start;
	r[*n].len = len;
	(*n)++;
}

static bool same_file(const struct pss_vma_entry *a, const struct pss_vma_entry *b)
{
	return a->name_kind == PSS_VMA_NAME_FILE && b->name_kind == PSS_VMA_NAME_FILE &&
	       a->ino == b->ino && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor;
}

/*
 * The read-only memory a debugger needs beyond the writable mappings, as
 * ranges of a first, stall-free capture of the layout:
 * - writable: what the kernel's default coredump filter adds - the ELF
 *   header page of each mapped file (build-ids, and the program headers
 *   through which gdb and elfutils find the dynamic section), the RELRO
 *   part of each (written by the dynamic linker, then made read-only: the
 *   executable's DT_DEBUG, hence the list of shared libraries) and the
 *   vdso;
 * - all: every readable mapping not already copied (text, read-only data,
 *   [vdso]).
 */
static int readonly_ranges(pid_t pid, int pidfd, bool all,
			   struct pss_memory_range *r, __u32 *nr)
{
	struct snapdata d;
	size_t i, n = 0;
	int code;

	code = capture(pid, pidfd, PSS_FACET_VA_SPACE | PSS_FACET_VA_SPACE_SECTION, &d);
	if (code != EXIT_OK)
		return code;
	for (i = 0; i < d.maps.n; i++) {
		FIXED(struct pss_vma_entry, v, &d.maps.v[i]);
		const char *name = pss_vma_entry_name(d.maps.v[i].p);
		bool priv_rw = (v.prot & PSS_PROT_WRITE) && !(v.flags & PSS_VMA_MAYSHARE);

		if (!(v.prot & PSS_PROT_READ) || priv_rw ||
		    (v.flags & (PSS_VMA_IO | PSS_VMA_PFNMAP | PSS_VMA_DONTDUMP)) ||
		    (name && !strcmp(name, "[vvar]")))
			continue;
		if (all) {
			add_range(r, &n, v.start, v.end - v.start);
			continue;
		}
		/* the kernel always dumps the vdso: unwinders need its CFI */
		if (v.name_kind == PSS_VMA_NAME_SPECIAL && name &&
		    !strcmp(name, "[vdso]")) {
			add_range(r, &n, v.start, v.end - v.start);
			continue;
		}
		if (v.name_kind != PSS_VMA_NAME_FILE || (v.prot & PSS_PROT_WRITE))
			continue;
		if (!v.pgoff_bytes) {
			add_range(r, &n, v.start, v.page_size ? v.page_size : 4096);
		} else if (!(v.prot & PSS_PROT_EXEC) && i + 1 < d.maps.n) {
			FIXED(struct pss_vma_entry, w, &d.maps.v[i + 1]);

			/* RELRO: read-only right below the same file's data */
			if (w.start == v.end && same_file(&v, &w) &&
			    (w.prot & PSS_PROT_WRITE) && !(w.flags & PSS_VMA_MAYSHARE))
				add_range(r, &n, v.start, v.end - v.start);
		}
	}
	snapdata_free(&d);
	*nr = (__u32)n;
	return EXIT_OK;
}

/*
 * Whether the kernel keeps soft-dirty bits (CONFIG_MEM_SOFT_DIRTY): a page
 * just written has bit 55 set in /proc/self/pagemap.
 */
static bool soft_dirty_kept(void)
{
	static char page[1 << 16] __attribute__((aligned(1 << 16)));
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t ent = 0;
	bool ok;
	int fd;

	*(volatile char *)page = 1;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || psz <= 0)
		return false;
	ok = pread(fd, &ent, sizeof(ent), (off_t)((uintptr_t)page / psz * 8)) ==
	     sizeof(ent) && (ent >> 55 & 1);
	close(fd);
	return ok;
}

/* The pid of @pidfd's process, from /proc/self/fdinfo; 0 if it has none. */
static pid_t pidfd_pid(int pidfd)
{
	char path[64], line[128];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid > 0 ? pid : 0;
}

/*
 * Clear the target's soft-dirty bits (/proc/PID/clear_refs, "4") for a
 * capture with PSS_MEMORY_PRECOPY: false if that cannot be done (no
 * permission, no soft-dirty tracking), and the capture goes without.
 * With a pidfd, the file is opened first and the process then checked
 * alive: the pid was not reused for another one meanwhile.
 */
static bool clear_soft_dirty(pid_t pid, int pidfd)
{
	char path[64];
	bool ok;
	int fd;

	if (pidfd >= 0)
		pid = pidfd_pid(pidfd);
	if (pid <= 0 || !soft_dirty_kept())
		return false;
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = (pidfd < 0 || !syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0)) &&
	     write(fd, "4", 1) == 1;
	close(fd);
	return ok;
}

/* Atomically, as --save does (no fsync: a core is written once, then read). */
static int write_core(struct pss_snapshot *snap, const char *path)
{
	int err = file_write_atomic(snap, path, pss_snapshot_write_core, false);

	if (err == -EOPNOTSUPP)
		warnx_("%s: cannot write the core: 32-bit processes are not supported",
		       path);
	else if (err < 0)
		warnx_("%s: cannot write the core: %s", path, strerror(-err));
	return err ? EXIT_FAIL : EXIT_OK;
}

int dump_main(pid_t pid, int pidfd)
{
	struct pss_memory_range ranges[PSS_MEMORY_RANGES_MAX];
	PSS_OPTS(pss_capture_opts, o,
		 .facets = PSS_FACETS_ALL | PSS_FACET_THREAD_CONTEXT |
			   PSS_FACET_THREAD_KSTACK | PSS_FACET_MEMORY,
		 .quiesce_timeout_ms = opt.timeout_ms);
	struct pss_snapshot *snap = NULL;
	struct pss_walk_marker *m;
	struct snapdata d;
	char defpath[64];
	const char *path = opt.output;
	__u64 bytes = 0;
	bool all = false, kstacks;
	int code;

	if (memory_flags(opt.memory, &o.memory_flags, &all))
		usage_error("dump: --memory takes stacks, writable or all, not '%s'",
			    opt.memory);
	if (o.memory_flags & PSS_MEMORY_WRITABLE) {
		o.memory_flags |= PSS_MEMORY_RANGES;
		code = readonly_ranges(pid, pidfd, all, ranges, &o.nr_ranges);
		if (code != EXIT_OK)
			return code;
		if (o.nr_ranges)
			o.ranges = ranges;
		else
			o.memory_flags &= ~PSS_MEMORY_RANGES;
		/* copy while it runs, then in the stall only what it wrote */
		if (!opt.no_precopy && clear_soft_dirty(pid, pidfd))
			o.memory_flags |= PSS_MEMORY_PRECOPY;
	}
	/* kernel stacks when we may have them: the core is useful without */
	/* the memory goes from the snapshot to the file, not through us */
	code = capture_try_kstacks(pid, pidfd, &o, o.facets & ~PSS_FACET_MEMORY,
				   &d, &snap, &kstacks);
	if (code != EXIT_OK)
		return code;
	if (!path) {
		snprintf(defpath, sizeof(defpath), "core.%d", (int)d.pi.pid);
		path = defpath;
	}
	code = write_core(snap, path);
	if (!pss_walk_marker_create(snap, PSS_WALK_MEMORY, NULL, &m)) {
		const struct pss_memory_entry *e;
		int ret;

		pss_for_each_memory(m, e, ret)
			bytes += e->data_len;
		pss_walk_marker_free(m);
	}
	if (code == EXIT_OK && d.have_perf)
		printf("%s: pid %d, %zu threads (%u parked, %u held asleep or stopped, %u not parked), %llu bytes of memory, stall %.3f ms, capture %.3f ms, %llu bytes pre-copied, %llu reused, %llu read parked\n",
		       path, (int)d.pi.pid, d.ctx.n, d.perf.nr_parked, d.perf.nr_held,
		       d.perf.nr_not_parked, (unsigned long long)bytes,
		       d.perf.stall_ns / 1e6, d.perf.phase_ns[PSS_PHASE_TOTAL] / 1e6,
		       (unsigned long long)d.perf.memory_precopy_bytes,
		       (unsigned long long)d.perf.memory_reused_bytes,
		       (unsigned long long)d.perf.memory_parked_bytes);
	else if (code == EXIT_OK)
		printf("%s: pid %d, %zu threads, %llu bytes of memory\n", path,
		       (int)d.pi.pid, d.ctx.n, (unsigned long long)bytes);
	snapdata_free(&d);
	pss_snapshot_free(snap);
	return code;
}
