// SPDX-License-Identifier: GPL-2.0
/*
 * libpsswin: the Windows Process Snapshotting API over libpss.
 *
 * Walk loops written as Windows' overview has them (capture, create a
 * marker, walk with sizeof(entry) until ERROR_NO_MORE_ITEMS) over threads,
 * handles and VA space of a known target, checked field by field against
 * libpss's walk of the same snapshot; every documented error; markers
 * (several, positions, rewind, a counting allocator); duplication to self.
 */
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <wchar.h>

/* libpss's three colliding walk-class names, renamed (see the header) */
#include <pss/libpss_native.h>
#define PSS_WALK_THREADS	PSS_NATIVE_WALK_THREADS
#define PSS_WALK_HANDLES	PSS_NATIVE_WALK_HANDLES
#define PSS_WALK_VA_SPACE	PSS_NATIVE_WALK_VA_SPACE
#include "pss_test_util.h"
#undef PSS_WALK_THREADS
#undef PSS_WALK_HANDLES
#undef PSS_WALK_VA_SPACE
#include <pss/processsnapshot.h>

#include "kselftest_harness.h"

#define NR_NAMED	3			/* named threads in the target */
#define NAMED_FMT	"win-t%d"
#define MEMFD_SIZE	12345
#define FILE_NAME	"/tmp/pss-win-\xc3\xa9t\xc3\xa9"	/* UTF-8 "été" */
#define WFILE_NAME	L"/tmp/pss-win-\u00e9t\u00e9"
#define FT_EPOCH	116444736000000000ULL

/* what the target built, in its shared area */
struct layout {
	__u64 none_addr;	/* PROT_NONE anonymous */
	__u64 shared_addr;	/* MAP_SHARED anonymous, rw */
	__u64 cow_addr;		/* MAP_PRIVATE rw of FILE_NAME */
	int file_fd;		/* FILE_NAME, O_RDWR | O_APPEND, inheritable */
	int event_fd;		/* eventfd, cloexec */
	int mem_fd;		/* memfd of MEMFD_SIZE bytes */
	int pid_fd;		/* pidfd of the target's parent */
};

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *quitter(void *arg)
{
	return arg;
}

static int target_setup(void *shared, void *arg)
{
	struct layout *l = shared;
	pthread_t t;
	char name[16];
	void *p;
	int i;

	(void)arg;
	for (i = 0; i < NR_NAMED; i++) {
		if (pthread_create(&t, NULL, sleeper, NULL))
			return 10;
		snprintf(name, sizeof(name), NAMED_FMT, i);
		if (pthread_setname_np(t, name))
			return 11;
	}
	/* a thread that has exited must not be counted */
	if (pthread_create(&t, NULL, quitter, NULL) || pthread_join(t, NULL))
		return 12;

	l->file_fd = open(FILE_NAME, O_RDWR | O_APPEND | O_CREAT | O_TRUNC, 0600);
	if (l->file_fd < 0 || ftruncate(l->file_fd, 4096))
		return 13;
	l->event_fd = eventfd(0, EFD_CLOEXEC);
	l->mem_fd = memfd_create("winmemfd", MFD_CLOEXEC);
	if (l->event_fd < 0 || l->mem_fd < 0 || ftruncate(l->mem_fd, MEMFD_SIZE))
		return 14;
	l->pid_fd = sys_pidfd_open(getppid(), 0);
	if (l->pid_fd < 0)
		return 15;

	/* between two readable pages, so it merges with no neighbour */
	p = mmap(NULL, 5 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect((char *)p + 4096, 3 * 4096, PROT_NONE))
		return 16;
	l->none_addr = (uintptr_t)p + 4096;
	p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 17;
	l->shared_addr = (uintptr_t)p;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, l->file_fd, 0);
	if (p == MAP_FAILED)
		return 18;
	l->cow_addr = (uintptr_t)p;
	return 0;
}

static __u64 ft64(FILETIME ft)
{
	return (__u64)ft.dwHighDateTime << 32 | ft.dwLowDateTime;
}

/* The native libpss view of the same snapshot, through its fd. */
static struct pss_snapshot *native_of(HPSS h)
{
	struct pss_snapshot *ns = NULL;
	int fd = pss_win_snapshot_fd(h);

	if (fd < 0)
		return NULL;
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || pss_snapshot_from_fd(fd, &ns)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return ns;
}

/* wide string == UTF-8 string, for ASCII */
static bool wcs_eq_ascii(const wchar_t *w, const char *s)
{
	if (!w || !s)
		return false;
	while (*s && *w == (wchar_t)(unsigned char)*s) {
		w++;
		s++;
	}
	return !*s && !*w;
}

static HANDLE pidfd_handle(int pidfd)
{
	return (HANDLE)(intptr_t)pidfd;
}

FIXTURE(win) {
	struct pss_target t;
	struct layout *l;
};

FIXTURE_SETUP(win)
{
	int ret = pss_target_start(&self->t, target_setup, NULL, 4096, false);

	ASSERT_EQ(0, ret) TH_LOG("%s", pss_err);
	ASSERT_LE(0, self->t.pidfd);
	self->l = self->t.shared;
}

FIXTURE_TEARDOWN(win)
{
	pss_target_stop(&self->t);
	unlink(FILE_NAME);
}

/* threads: the overview's walk loop, against libpss's walk */
TEST_F(win, walk_threads)
{
	const struct pss_thread_entry *te;
	struct pss_snapshot_info si;
	struct pss_walk_marker *nm;
	PSS_THREAD_INFORMATION ti;
	struct pss_snapshot *ns;
	PSS_THREAD_ENTRY e;
	PSS_THREAD_NAME tn;
	HPSSWALK walk, nwalk;
	int named = 0, n = 0, exiting = 0;
	HPSS h;
	DWORD rc;

	ASSERT_EQ(ERROR_SUCCESS, PssCaptureSnapshot(pidfd_handle(self->t.pidfd),
						    PSS_CAPTURE_THREADS, 0, &h));
	ASSERT_EQ(ERROR_SUCCESS, PssQuerySnapshot(h, PSS_QUERY_THREAD_INFORMATION,
						  &ti, sizeof(ti)));
	/* main + NR_NAMED live; the joined one is gone */
	EXPECT_EQ(1 + NR_NAMED, ti.ThreadsCaptured);
	EXPECT_EQ(0, ti.ContextLength);

	ns = native_of(h);
	ASSERT_NE(NULL, ns);
	ASSERT_EQ(0, pss_query(ns, PSS_QUERY_SNAPSHOT, &si, sizeof(si)));
	ASSERT_EQ(0, pss_walk_marker_create(ns, PSS_NATIVE_WALK_THREADS, NULL, &nm));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(NULL, &walk));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(NULL, &nwalk));

	while ((rc = PssWalkSnapshot(h, PSS_WALK_THREADS, walk, &e,
				     sizeof(e))) == ERROR_SUCCESS) {
		size_t nwords;
		const __u64 *cpus;

		/* threads in do_exit() are not live: Windows' walk skips them */
		do {
			ASSERT_EQ(1, pss_walk_thread(nm, &te, NULL));
			exiting += !!(te->flags & PSS_THREAD_EXITING);
		} while (te->flags & PSS_THREAD_EXITING);
		EXPECT_EQ((DWORD)te->tid, e.ThreadId);
		EXPECT_EQ((DWORD)self->t.pid, e.ProcessId);
		EXPECT_EQ(STILL_ACTIVE, e.ExitStatus);
		EXPECT_EQ(0, e.Flags);
		EXPECT_EQ(te->utime_ns / 100, ft64(e.UserTime));
		EXPECT_EQ(te->stime_ns / 100, ft64(e.KernelTime));
		EXPECT_EQ(si.cut_realtime_ns / 100 + FT_EPOCH, ft64(e.CaptureTime));
		EXPECT_EQ((si.cut_realtime_ns - (si.cut_boottime_ns -
			   te->start_boottime_ns)) / 100 + FT_EPOCH,
			  ft64(e.CreateTime));
		EXPECT_GE(ft64(e.CaptureTime), ft64(e.CreateTime));
		cpus = pss_thread_entry_cpus(te, &nwords);
		ASSERT_NE(NULL, cpus);
		EXPECT_EQ((ULONG_PTR)cpus[0], e.AffinityMask);
		EXPECT_EQ(8 - te->nice / 3, e.Priority);
		EXPECT_EQ(0, e.SizeOfContextRecord);
		EXPECT_EQ(NULL, e.ContextRecord);

		/* the name walk runs in the same order */
		ASSERT_EQ(ERROR_SUCCESS, PssWalkSnapshot(h, PSS_WALK_THREAD_NAME,
							 nwalk, &tn, sizeof(tn)));
		EXPECT_TRUE(wcs_eq_ascii(tn.ThreadName, te->comm))
			TH_LOG("thread %d: %ls vs %s", te->tid, tn.ThreadName, te->comm);
		EXPECT_EQ(wcslen(tn.ThreadName) * sizeof(wchar_t), tn.ThreadNameSize);
		if (!wcsncmp(tn.ThreadName, L"win-t", 5))
			named++;
		n++;
	}
	EXPECT_EQ(ERROR_NO_MORE_ITEMS, rc);
	while ((rc = pss_walk_thread(nm, &te, NULL)) == 1) {
		EXPECT_TRUE(te->flags & PSS_THREAD_EXITING);
		exiting++;
	}
	EXPECT_EQ(0, rc);
	EXPECT_EQ(si.nr_threads, (__u64)n + exiting);
	EXPECT_EQ(ERROR_NO_MORE_ITEMS, PssWalkSnapshot(h, PSS_WALK_THREAD_NAME,
						       nwalk, &tn, sizeof(tn)));
	EXPECT_EQ((int)ti.ThreadsCaptured, n);
	EXPECT_EQ(NR_NAMED, named);

	pss_walk_marker_free(nm);
	pss_snapshot_free(ns);
	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(walk));
	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(nwalk));
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), h));
}

/* handles: values, types, names and attributes against libpss */
TEST_F(win, walk_handles)
{
	const struct pss_handle_entry *he;
	struct pss_walk_marker *nm;
	PSS_HANDLE_INFORMATION hi;
	struct pss_snapshot *ns;
	PSS_HANDLE_ENTRY e;
	int seen = 0, n = 0;
	HPSSWALK walk;
	HPSS h;
	DWORD rc;

	ASSERT_EQ(ERROR_SUCCESS,
		  PssCaptureSnapshot(pidfd_handle(self->t.pidfd),
				     PSS_CAPTURE_HANDLES |
				     PSS_CAPTURE_HANDLE_NAME_INFORMATION |
				     PSS_CAPTURE_HANDLE_BASIC_INFORMATION |
				     PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION,
				     0, &h));
	ASSERT_EQ(ERROR_SUCCESS, PssQuerySnapshot(h, PSS_QUERY_HANDLE_INFORMATION,
						  &hi, sizeof(hi)));
	ns = native_of(h);
	ASSERT_NE(NULL, ns);
	ASSERT_EQ(0, pss_walk_marker_create(ns, PSS_NATIVE_WALK_HANDLES, NULL, &nm));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(NULL, &walk));

	while ((rc = PssWalkSnapshot(h, PSS_WALK_HANDLES, walk, &e,
				     sizeof(e))) == ERROR_SUCCESS) {
		const char *name;
		DWORD access = 0;

		ASSERT_EQ(1, pss_walk_handle(nm, &he, NULL));
		name = pss_handle_entry_name(he);
		EXPECT_EQ(he->fd, (int)(intptr_t)e.Handle);
		EXPECT_EQ(PSS_HANDLE_HAVE_TYPE | PSS_HANDLE_HAVE_NAME |
			  PSS_HANDLE_HAVE_BASIC_INFORMATION,
			  e.Flags & ~PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION);
		EXPECT_EQ(he->flags & PSS_HANDLE_CLOEXEC ? 0 : OBJ_INHERIT,
			  e.Attributes);
		if (he->fmode & PSS_FMODE_READ)
			access |= FILE_READ_DATA;
		if (he->fmode & PSS_FMODE_WRITE)
			access |= FILE_WRITE_DATA;
		if (he->open_flags & O_APPEND)
			access |= FILE_APPEND_DATA;
		EXPECT_EQ(access, e.GrantedAccess);
		ASSERT_NE(NULL, e.TypeName);
		EXPECT_EQ(wcslen(e.TypeName) * sizeof(wchar_t), e.TypeNameLength);
		ASSERT_NE(NULL, e.ObjectName);
		EXPECT_EQ(wcslen(e.ObjectName) * sizeof(wchar_t), e.ObjectNameLength);
		EXPECT_EQ(0, e.HandleCount);

		if (he->fd == self->l->file_fd) {
			EXPECT_EQ(0, wcscmp(WFILE_NAME, e.ObjectName))
				TH_LOG("%ls", e.ObjectName);
			EXPECT_EQ(0, wcscmp(L"File", e.TypeName));
			EXPECT_EQ(OBJ_INHERIT, e.Attributes);
			EXPECT_EQ(FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA,
				  e.GrantedAccess);
			seen |= 1;
		} else if (he->fd == self->l->event_fd) {
			EXPECT_EQ(PSS_OBJECT_TYPE_EVENT, e.ObjectType);
			EXPECT_EQ(0, wcscmp(L"Event", e.TypeName));
			EXPECT_EQ(0, e.Attributes);
			seen |= 2;
		} else if (he->fd == self->l->mem_fd) {
			EXPECT_EQ(PSS_OBJECT_TYPE_SECTION, e.ObjectType);
			EXPECT_TRUE(e.Flags & PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION);
			EXPECT_EQ(MEMFD_SIZE,
				  e.TypeSpecificInformation.Section.MaximumSize.QuadPart);
			seen |= 4;
		} else if (he->fd == self->l->pid_fd) {
			EXPECT_EQ(PSS_OBJECT_TYPE_PROCESS, e.ObjectType);
			seen |= 8;
		}
		if (he->fd != self->l->file_fd)
			EXPECT_TRUE(wcs_eq_ascii(e.ObjectName, name))
				TH_LOG("fd %d: %ls vs %s", he->fd, e.ObjectName, name);
		n++;
	}
	EXPECT_EQ(ERROR_NO_MORE_ITEMS, rc);
	EXPECT_EQ(0, pss_walk_handle(nm, &he, NULL));
	EXPECT_EQ((int)hi.HandlesCaptured, n);
	EXPECT_EQ(15, seen);

	pss_walk_marker_free(nm);
	pss_snapshot_free(ns);
	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(walk));
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), h));
}

static DWORD expect_protect(const struct pss_vma_entry *v)
{
	static const DWORD tab[8] = {
		PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_READWRITE,
		PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE,
		PAGE_EXECUTE_READWRITE,
	};
	DWORD p = tab[v->prot & 7];
	bool file = v->ino || v->dev_major || v->dev_minor;

	if ((v->prot & PSS_PROT_WRITE) && file && !(v->flags & PSS_VMA_MAYSHARE))
		p = p == PAGE_READWRITE ? PAGE_WRITECOPY : PAGE_EXECUTE_WRITECOPY;
	return p;
}

/* VA space: regions, PAGE_* and MEM_* against libpss */
TEST_F(win, walk_va_space)
{
	const struct pss_vma_entry *v;
	struct pss_walk_marker *nm;
	PSS_VA_SPACE_INFORMATION vi;
	struct pss_snapshot *ns;
	PSS_VA_SPACE_ENTRY e;
	struct stat exe;
	int seen = 0, n = 0, images = 0;
	void *image_base = NULL;
	HPSSWALK walk;
	char path[64];
	HPSS h;
	DWORD rc;

	snprintf(path, sizeof(path), "/proc/%d/exe", self->t.pid);
	ASSERT_EQ(0, stat(path, &exe));
	ASSERT_EQ(ERROR_SUCCESS,
		  PssCaptureSnapshot(pidfd_handle(self->t.pidfd),
				     PSS_CAPTURE_VA_SPACE |
				     PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION,
				     0, &h));
	ASSERT_EQ(ERROR_SUCCESS, PssQuerySnapshot(h, PSS_QUERY_VA_SPACE_INFORMATION,
						  &vi, sizeof(vi)));
	ns = native_of(h);
	ASSERT_NE(NULL, ns);
	ASSERT_EQ(0, pss_walk_marker_create(ns, PSS_NATIVE_WALK_VA_SPACE, NULL, &nm));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(NULL, &walk));

	while ((rc = PssWalkSnapshot(h, PSS_WALK_VA_SPACE, walk, &e,
				     sizeof(e))) == ERROR_SUCCESS) {
		const char *name;

		ASSERT_EQ(1, pss_walk_vma(nm, &v, NULL));
		name = pss_vma_entry_name(v);
		EXPECT_EQ(v->start, (uintptr_t)e.BaseAddress);
		EXPECT_EQ(v->end - v->start, e.RegionSize);
		EXPECT_EQ(expect_protect(v), e.Protect)
			TH_LOG("%llx prot %u flags %#x", v->start, v->prot, v->flags);
		EXPECT_EQ(v->prot ? MEM_COMMIT : MEM_RESERVE, e.State);
		if (name && v->name_kind != PSS_VMA_NAME_FILE)
			EXPECT_TRUE(wcs_eq_ascii(e.MappedFileName, name));
		if (name) {
			EXPECT_EQ(wcslen(e.MappedFileName) * sizeof(wchar_t),
				  e.MappedFileNameLength);
		} else {
			EXPECT_EQ(NULL, e.MappedFileName);
		}

		if (v->ino == exe.st_ino) {
			/* the ELF image: every piece MEM_IMAGE, one base */
			EXPECT_EQ(MEM_IMAGE, e.Type);
			if (!image_base)
				image_base = e.ImageBase;
			EXPECT_EQ(image_base, e.ImageBase);
			EXPECT_EQ(e.ImageBase, e.AllocationBase);
			EXPECT_LE((uintptr_t)e.ImageBase, v->start);
			EXPECT_GE((uintptr_t)e.ImageBase + e.SizeOfImage, v->end);
			images++;
		} else if (v->start == self->l->none_addr) {
			EXPECT_EQ(MEM_RESERVE, e.State);
			EXPECT_EQ(PAGE_NOACCESS, e.Protect);
			EXPECT_EQ(MEM_PRIVATE, e.Type);
			EXPECT_EQ(3 * 4096, e.RegionSize);
			seen |= 1;
		} else if (v->start == self->l->shared_addr) {
			EXPECT_EQ(MEM_MAPPED, e.Type);
			EXPECT_EQ(PAGE_READWRITE, e.Protect);
			seen |= 2;
		} else if (v->start == self->l->cow_addr) {
			EXPECT_EQ(MEM_MAPPED, e.Type);
			EXPECT_EQ(PAGE_WRITECOPY, e.Protect);
			EXPECT_EQ(0, wcscmp(WFILE_NAME, e.MappedFileName))
				TH_LOG("%ls", e.MappedFileName);
			seen |= 4;
		} else if (v->name_kind == PSS_VMA_NAME_HEAP ||
			   v->name_kind == PSS_VMA_NAME_STACK) {
			EXPECT_EQ(MEM_PRIVATE, e.Type);
			EXPECT_EQ(PAGE_READWRITE, e.Protect);
		}
		if (e.Type != MEM_IMAGE)
			EXPECT_EQ(e.BaseAddress, e.AllocationBase);
		EXPECT_EQ(e.Protect, e.AllocationProtect);
		n++;
	}
	EXPECT_EQ(ERROR_NO_MORE_ITEMS, rc);
	EXPECT_EQ(0, pss_walk_vma(nm, &v, NULL));
	EXPECT_EQ((int)vi.RegionCount, n);
	EXPECT_EQ(7, seen);
	EXPECT_LE(2, images);

	pss_walk_marker_free(nm);
	pss_snapshot_free(ns);
	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(walk));
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), h));
}

/* process information against libpss's */
TEST_F(win, process_information)
{
	struct pss_process_info *pi = calloc(1, sizeof(*pi));
	PSS_PROCESS_INFORMATION p;
	struct pss_snapshot *ns;
	wchar_t wexe[MAX_PATH];
	char exe[PATH_MAX];
	HPSS h;
	size_t i;
	ssize_t len;

	ASSERT_NE(NULL, pi);
	ASSERT_EQ(ERROR_SUCCESS, PssCaptureSnapshot(pidfd_handle(self->t.pidfd),
						    PSS_CAPTURE_NONE, 0, &h));
	ASSERT_EQ(ERROR_SUCCESS, PssQuerySnapshot(h, PSS_QUERY_PROCESS_INFORMATION,
						  &p, sizeof(p)));
	ns = native_of(h);
	ASSERT_NE(NULL, ns);
	ASSERT_EQ(0, pss_query(ns, PSS_QUERY_PROCESS, pi, sizeof(*pi)));
	EXPECT_EQ((DWORD)self->t.pid, p.ProcessId);
	EXPECT_EQ((DWORD)getpid(), p.ParentProcessId);
	EXPECT_EQ(STILL_ACTIVE, p.ExitStatus);
	EXPECT_EQ(pi->vsize_bytes, p.VirtualSize);
	EXPECT_EQ(pi->hiwater_vm_bytes, p.PeakVirtualSize);
	EXPECT_EQ(pi->rss_anon_bytes + pi->rss_file_bytes + pi->rss_shmem_bytes,
		  p.WorkingSetSize);
	EXPECT_EQ(pi->group_utime_ns / 100, ft64(p.UserTime));
	EXPECT_EQ(pi->group_stime_ns / 100, ft64(p.KernelTime));
	EXPECT_EQ((ULONG_PTR)pi->cpus_allowed[0], p.AffinityMask);
	EXPECT_EQ(8 - pi->nice / 3, p.BasePriority);
	if (pi->nice == 0)
		EXPECT_EQ(NORMAL_PRIORITY_CLASS, p.PriorityClass);
	EXPECT_EQ(0, p.Flags);
	EXPECT_NE(0, ft64(p.CreateTime));
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_LT(0, len);
	exe[len] = 0;
	for (i = 0; i <= (size_t)len && i < MAX_PATH; i++)
		wexe[i] = (unsigned char)exe[i];
	EXPECT_EQ(0, wcscmp(wexe, p.ImageFileName)) TH_LOG("%ls", p.ImageFileName);

	/* a short buffer is refused whole */
	EXPECT_EQ(ERROR_BAD_LENGTH, PssQuerySnapshot(h, PSS_QUERY_PROCESS_INFORMATION,
						     &p, sizeof(p) - 1));
	pss_snapshot_free(ns);
	free(pi);
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), h));
}

/* self through the pseudo-handle */
TEST(capture_self)
{
	PSS_THREAD_ENTRY e;
	PSS_PROCESS_INFORMATION p;
	HPSSWALK walk;
	bool found = false;
	HPSS h;
	DWORD rc;

	ASSERT_EQ(ERROR_SUCCESS, PssCaptureSnapshot(GetCurrentProcess(),
						    PSS_CAPTURE_THREADS, 0, &h));
	ASSERT_EQ(ERROR_SUCCESS, PssQuerySnapshot(h, PSS_QUERY_PROCESS_INFORMATION,
						  &p, sizeof(p)));
	EXPECT_EQ((DWORD)getpid(), p.ProcessId);
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(NULL, &walk));
	while ((rc = PssWalkSnapshot(h, PSS_WALK_THREADS, walk, &e,
				     sizeof(e))) == ERROR_SUCCESS)
		if (e.ThreadId == (DWORD)sys_gettid())
			found = true;
	EXPECT_EQ(ERROR_NO_MORE_ITEMS, rc);
	EXPECT_TRUE(found);
	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(walk));
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), h));
}

/* a stopped process: suspended threads, a frozen process */
TEST(stopped)
{
	PSS_PROCESS_INFORMATION p;
	struct pss_target t;
	PSS_THREAD_ENTRY e;
	HPSSWALK walk;
	int n = 0;
	HPSS h;
	DWORD rc;

	ASSERT_EQ(0, pss_target_start(&t, NULL, NULL, 0, true)) TH_LOG("%s", pss_err);
	ASSERT_EQ(ERROR_SUCCESS, PssCaptureSnapshot(pidfd_handle(t.pidfd),
						    PSS_CAPTURE_THREADS, 0, &h));
	ASSERT_EQ(ERROR_SUCCESS, PssQuerySnapshot(h, PSS_QUERY_PROCESS_INFORMATION,
						  &p, sizeof(p)));
	EXPECT_EQ(PSS_PROCESS_FLAGS_FROZEN, p.Flags);
	EXPECT_EQ(STILL_ACTIVE, p.ExitStatus);
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(NULL, &walk));
	while ((rc = PssWalkSnapshot(h, PSS_WALK_THREADS, walk, &e,
				     sizeof(e))) == ERROR_SUCCESS) {
		EXPECT_EQ(1, e.SuspendCount);
		n++;
	}
	EXPECT_EQ(ERROR_NO_MORE_ITEMS, rc);
	EXPECT_EQ(1, n);
	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(walk));
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), h));
	pss_target_stop(&t);
}

/* a zombie: its exit code, and no live thread at all */
TEST(zombie)
{
	PSS_PROCESS_INFORMATION p;
	PSS_THREAD_INFORMATION ti;
	siginfo_t si;
	pid_t pid;
	int pidfd;
	HPSS h;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(7);
	pidfd = sys_pidfd_open(pid, 0);
	ASSERT_LE(0, pidfd);
	/* wait for it to exit, but leave it unreaped */
	ASSERT_EQ(0, waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	ASSERT_EQ(ERROR_SUCCESS, PssCaptureSnapshot(pidfd_handle(pidfd),
						    PSS_CAPTURE_THREADS, 0, &h));
	ASSERT_EQ(ERROR_SUCCESS, PssQuerySnapshot(h, PSS_QUERY_PROCESS_INFORMATION,
						  &p, sizeof(p)));
	EXPECT_EQ(7, p.ExitStatus);
	EXPECT_EQ((DWORD)pid, p.ProcessId);
	ASSERT_EQ(ERROR_SUCCESS, PssQuerySnapshot(h, PSS_QUERY_THREAD_INFORMATION,
						  &ti, sizeof(ti)));
	EXPECT_EQ(0, ti.ThreadsCaptured);
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), h));
	waitpid(pid, NULL, 0);
	close(pidfd);
}

/* every documented error */
TEST_F(win, errors)
{
	PSS_THREAD_INFORMATION ti;
	PSS_HANDLE_INFORMATION hi;
	PSS_PERFORMANCE_COUNTERS pc;
	PSS_THREAD_ENTRY e;
	ULONG_PTR pos, pos2;
	HPSSWALK walk;
	HPSS h, hp;
	int nullfd, closed;

	ASSERT_EQ(ERROR_SUCCESS, PssCaptureSnapshot(pidfd_handle(self->t.pidfd),
						    PSS_CAPTURE_THREADS, 0, &h));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(NULL, &walk));

	/* bad class */
	EXPECT_EQ(ERROR_INVALID_PARAMETER,
		  PssQuerySnapshot(h, (PSS_QUERY_INFORMATION_CLASS)8, &ti, 4096));
	EXPECT_EQ(ERROR_INVALID_PARAMETER,
		  PssWalkSnapshot(h, (PSS_WALK_INFORMATION_CLASS)5, walk, &e,
				  sizeof(e)));
	EXPECT_EQ(ERROR_INVALID_PARAMETER,
		  PssWalkSnapshot(h, (PSS_WALK_INFORMATION_CLASS)-1, walk, &e,
				  sizeof(e)));

	/* short buffer: refused, the marker does not move */
	EXPECT_EQ(ERROR_BAD_LENGTH, PssQuerySnapshot(h, PSS_QUERY_THREAD_INFORMATION,
						     &ti, sizeof(ti) - 1));
	EXPECT_EQ(ERROR_BAD_LENGTH, PssWalkSnapshot(h, PSS_WALK_THREADS, walk, &e,
						    sizeof(e) - 1));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerGetPosition(walk, &pos));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkSnapshot(h, PSS_WALK_THREADS, walk, &e,
						 sizeof(e)));
	EXPECT_EQ((DWORD)self->t.pid, e.ThreadId);	/* the first: the leader */

	/* NULL buffer: ERROR_MORE_DATA while there is data, in place */
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerGetPosition(walk, &pos));
	EXPECT_EQ(ERROR_MORE_DATA, PssWalkSnapshot(h, PSS_WALK_THREADS, walk,
						   NULL, 0));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerGetPosition(walk, &pos2));
	EXPECT_EQ(pos, pos2);
	EXPECT_EQ(ERROR_INVALID_PARAMETER, PssQuerySnapshot(h,
				PSS_QUERY_THREAD_INFORMATION, NULL, sizeof(ti)));
	while (PssWalkSnapshot(h, PSS_WALK_THREADS, walk, &e, sizeof(e)) ==
	       ERROR_SUCCESS)
		;
	EXPECT_EQ(ERROR_NO_MORE_ITEMS, PssWalkSnapshot(h, PSS_WALK_THREADS, walk,
						       NULL, 0));
	EXPECT_EQ(ERROR_NO_MORE_ITEMS, PssWalkSnapshot(h, PSS_WALK_THREADS, walk,
						       &e, sizeof(e)));

	/* not captured */
	EXPECT_EQ(ERROR_NOT_FOUND, PssQuerySnapshot(h, PSS_QUERY_HANDLE_INFORMATION,
						    &hi, sizeof(hi)));
	EXPECT_EQ(ERROR_NOT_FOUND, PssWalkSnapshot(h, PSS_WALK_HANDLES, walk, &e,
						   4096));
	EXPECT_EQ(ERROR_NOT_FOUND, PssWalkSnapshot(h, PSS_WALK_VA_SPACE, walk, &e,
						   4096));
	EXPECT_EQ(ERROR_NOT_FOUND, PssQuerySnapshot(h, PSS_QUERY_PERFORMANCE_COUNTERS,
						    &pc, sizeof(pc)));
	EXPECT_EQ(ERROR_NOT_FOUND, PssQuerySnapshot(h, PSS_QUERY_VA_CLONE_INFORMATION,
						    &pc, sizeof(pc)));
	EXPECT_EQ(ERROR_NOT_FOUND, PssQuerySnapshot(h,
				PSS_QUERY_HANDLE_TRACE_INFORMATION, &pc, sizeof(pc)));
	/* memory contents are never captured: no auxiliary pages */
	EXPECT_EQ(ERROR_NO_MORE_ITEMS, PssWalkSnapshot(h, PSS_WALK_AUXILIARY_PAGES,
						       walk, &pc, 4096));
	ASSERT_EQ(ERROR_SUCCESS, PssCaptureSnapshot(pidfd_handle(self->t.pidfd),
				PSS_CREATE_MEASURE_PERFORMANCE, 0, &hp));
	EXPECT_EQ(ERROR_SUCCESS, PssQuerySnapshot(hp, PSS_QUERY_PERFORMANCE_COUNTERS,
						  &pc, sizeof(pc)));
	EXPECT_LE(1, pc.TotalWallClockPeriod);
	EXPECT_EQ(0, pc.VaCloneWallClockPeriod);
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), hp));

	/* capture flags Linux cannot honour, and bad arguments */
	EXPECT_EQ(ERROR_NOT_SUPPORTED, PssCaptureSnapshot(GetCurrentProcess(),
				PSS_CAPTURE_VA_CLONE, 0, &hp));
	/* a ThreadContextFlags bit Windows does not define */
	EXPECT_EQ(ERROR_INVALID_PARAMETER, PssCaptureSnapshot(GetCurrentProcess(),
				PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT,
				CONTEXT_ALL | 0x80000000u, &hp));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, PssCaptureSnapshot(GetCurrentProcess(),
				PSS_CAPTURE_RESERVED_00000002, 0, &hp));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, PssCaptureSnapshot(GetCurrentProcess(),
				PSS_CAPTURE_THREADS, 0, NULL));

	/* bad handles */
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, nullfd);
	closed = dup(nullfd);
	ASSERT_LE(0, closed);
	close(closed);
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssCaptureSnapshot(pidfd_handle(nullfd),
				PSS_CAPTURE_THREADS, 0, &hp));
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssCaptureSnapshot(pidfd_handle(closed),
				PSS_CAPTURE_THREADS, 0, &hp));
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssCaptureSnapshot(NULL,
				PSS_CAPTURE_THREADS, 0, &hp));
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssCaptureSnapshot((HANDLE)(intptr_t)-2,
				PSS_CAPTURE_THREADS, 0, &hp));
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssQuerySnapshot(NULL,
				PSS_QUERY_THREAD_INFORMATION, &ti, sizeof(ti)));
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssQuerySnapshot((HPSS)(uintptr_t)0x7777,
				PSS_QUERY_THREAD_INFORMATION, &ti, sizeof(ti)));
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssWalkSnapshot(h, PSS_WALK_THREADS, NULL,
							&e, sizeof(e)));
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssWalkMarkerGetPosition(NULL, &pos));
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssFreeSnapshot(pidfd_handle(nullfd), h));
	/* snapshots live in the caller: another process's handle is refused */
	EXPECT_EQ(ERROR_NOT_SUPPORTED, PssFreeSnapshot(pidfd_handle(self->t.pidfd), h));
	close(nullfd);

	/* a freed snapshot: every call refuses its handle, markers included */
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerSeekToBeginning(walk));
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), h));
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssQuerySnapshot(h,
				PSS_QUERY_THREAD_INFORMATION, &ti, sizeof(ti)));
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssWalkSnapshot(h, PSS_WALK_THREADS, walk,
							&e, sizeof(e)));
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssFreeSnapshot(GetCurrentProcess(), h));
	/* the slot is reused: the old handle still names nothing */
	ASSERT_EQ(ERROR_SUCCESS, PssCaptureSnapshot(GetCurrentProcess(),
				PSS_CAPTURE_THREADS, 0, &hp));
	EXPECT_NE(h, hp);
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssQuerySnapshot(h,
				PSS_QUERY_THREAD_INFORMATION, &ti, sizeof(ti)));
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), hp));

	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(walk));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, PssWalkMarkerCreate(NULL, NULL));
}

/* a counting allocator */
#define MAX_BLOCKS	4096
struct counter {
	int allocs, frees, fail_after;
	void *blocks[MAX_BLOCKS];
	DWORD sizes[MAX_BLOCKS];
};

static void *WINAPI count_alloc(void *ctx, DWORD size)
{
	struct counter *c = ctx;
	void *p;

	if (c->fail_after >= 0 && c->allocs >= c->fail_after)
		return NULL;
	if (c->allocs >= MAX_BLOCKS)
		return NULL;
	p = malloc(size);
	if (p) {
		c->blocks[c->allocs] = p;
		c->sizes[c->allocs] = size;
		c->allocs++;
	}
	return p;
}

static void WINAPI count_free(void *ctx, void *p)
{
	struct counter *c = ctx;
	int i;

	for (i = 0; i < c->allocs; i++)
		if (c->blocks[i] == p) {
			c->blocks[i] = NULL;
			c->frees++;
			free(p);
			return;
		}
	abort();	/* not ours */
}

/* p lies in a block the allocator handed out and has not taken back */
static bool from_allocator(const struct counter *c, const void *p, size_t len)
{
	int i;

	for (i = 0; i < c->allocs; i++) {
		const char *b = c->blocks[i];

		if (b && (const char *)p >= b &&
		    (const char *)p + len <= b + c->sizes[i])
			return true;
	}
	return false;
}

TEST_F(win, markers)
{
	static struct counter c;
	PSS_ALLOCATOR al = { &c, count_alloc, count_free };
	PSS_HANDLE_ENTRY e, first, again, m1[64], m2[64];
	PSS_THREAD_ENTRY te;
	ULONG_PTR pos0, pos3, pos;
	const wchar_t *first_name;
	wchar_t saved[PATH_MAX];
	HPSSWALK a, b, d;
	int n1 = 0, n2 = 0, i;
	HPSS h;

	memset(&c, 0, sizeof(c));
	c.fail_after = -1;
	ASSERT_EQ(ERROR_SUCCESS,
		  PssCaptureSnapshot(pidfd_handle(self->t.pidfd),
				     PSS_CAPTURE_HANDLES | PSS_CAPTURE_THREADS |
				     PSS_CAPTURE_HANDLE_NAME_INFORMATION, 0, &h));

	/* several markers at once, interleaved: each its own sequence */
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(NULL, &a));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(&al, &b));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerGetPosition(a, &pos0));
	for (;;) {
		DWORD ra = ERROR_NO_MORE_ITEMS, rb = ERROR_NO_MORE_ITEMS;

		if (n1 < 64)
			ra = PssWalkSnapshot(h, PSS_WALK_HANDLES, a, &m1[n1],
					     sizeof(e));
		if (ra == ERROR_SUCCESS)
			n1++;
		/* b runs twice as fast as a */
		for (i = 0; i < 2 && n2 < 64; i++) {
			rb = PssWalkSnapshot(h, PSS_WALK_HANDLES, b, &m2[n2],
					     sizeof(e));
			if (rb != ERROR_SUCCESS)
				break;
			n2++;
		}
		if (ra != ERROR_SUCCESS && rb != ERROR_SUCCESS) {
			EXPECT_EQ(ERROR_NO_MORE_ITEMS, ra);
			EXPECT_EQ(ERROR_NO_MORE_ITEMS, rb);
			break;
		}
	}
	ASSERT_EQ(n1, n2);
	ASSERT_LE(6, n1);
	for (i = 0; i < n1; i++) {
		EXPECT_EQ(m1[i].Handle, m2[i].Handle);
		EXPECT_EQ(0, wcscmp(m1[i].ObjectName, m2[i].ObjectName));
		/* the counted allocator's marker: its names are its memory */
		EXPECT_TRUE(from_allocator(&c, m2[i].ObjectName,
					   m2[i].ObjectNameLength + sizeof(wchar_t)));
	}
	EXPECT_LT(0, c.allocs);

	/* positions: get after 3, walk on, set back, get the 4th again */
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerSeekToBeginning(a));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkSnapshot(h, PSS_WALK_HANDLES, a, &first,
						 sizeof(e)));
	EXPECT_EQ(m1[0].Handle, first.Handle);
	first_name = first.ObjectName;
	wcscpy(saved, first_name);
	for (i = 1; i < 3; i++)
		ASSERT_EQ(ERROR_SUCCESS, PssWalkSnapshot(h, PSS_WALK_HANDLES, a,
							 &e, sizeof(e)));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerGetPosition(a, &pos3));
	EXPECT_NE(pos0, pos3);
	ASSERT_EQ(ERROR_SUCCESS, PssWalkSnapshot(h, PSS_WALK_HANDLES, a, &e,
						 sizeof(e)));
	EXPECT_EQ(m1[3].Handle, e.Handle);
	while (PssWalkSnapshot(h, PSS_WALK_HANDLES, a, &e, sizeof(e)) ==
	       ERROR_SUCCESS)
		;
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerSetPosition(a, pos3));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerGetPosition(a, &pos));
	EXPECT_EQ(pos3, pos);
	ASSERT_EQ(ERROR_SUCCESS, PssWalkSnapshot(h, PSS_WALK_HANDLES, a, &again,
						 sizeof(e)));
	EXPECT_EQ(m1[3].Handle, again.Handle);
	/* a position is good for another marker of the same snapshot */
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(NULL, &d));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerSetPosition(d, pos3));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkSnapshot(h, PSS_WALK_HANDLES, d, &again,
						 sizeof(e)));
	EXPECT_EQ(m1[3].Handle, again.Handle);
	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(d));
	/* positions are opaque: one GetPosition never made is refused */
	EXPECT_EQ(ERROR_INVALID_PARAMETER, PssWalkMarkerSetPosition(a, 7));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, PssWalkMarkerSetPosition(a, 0x100));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerSetPosition(a, pos3 + 0x10000));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, PssWalkSnapshot(h, PSS_WALK_HANDLES, a,
							   &e, sizeof(e)));

	/* a position means nothing to another class: that walk starts over */
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerSetPosition(a, pos3));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkSnapshot(h, PSS_WALK_THREADS, a, &te,
						 sizeof(te)));
	EXPECT_EQ((DWORD)self->t.pid, te.ThreadId);
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerSetPosition(a, pos3));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkSnapshot(h, PSS_WALK_THREADS, a, &te,
						 sizeof(te)));
	EXPECT_EQ((DWORD)self->t.pid, te.ThreadId);

	/* seek to beginning: the first entry again, its name unchanged */
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerSeekToBeginning(a));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkSnapshot(h, PSS_WALK_HANDLES, a, &again,
						 sizeof(e)));
	EXPECT_EQ(first.Handle, again.Handle);
	/* names live as long as the marker, across every walk since */
	EXPECT_EQ(0, wcscmp(saved, first_name));

	/* every allocation of the marker's walk came back by its free */
	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(b));
	EXPECT_EQ(c.allocs, c.frees);
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssWalkMarkerFree(b));

	/* the walk's own buffers come from it too, names or none */
	memset(&c, 0, sizeof(c));
	c.fail_after = -1;
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(&al, &b));
	EXPECT_EQ(1, c.allocs);
	ASSERT_EQ(ERROR_SUCCESS, PssWalkSnapshot(h, PSS_WALK_THREADS, b, &te,
						 sizeof(te)));
	EXPECT_LT(1, c.allocs);
	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(b));
	EXPECT_EQ(c.allocs, c.frees);

	/* an allocator that fails: create, and then the walk's own memory */
	memset(&c, 0, sizeof(c));
	c.fail_after = 0;
	EXPECT_EQ(ERROR_NOT_ENOUGH_MEMORY, PssWalkMarkerCreate(&al, &b));
	c.fail_after = 1;
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(&al, &b));
	EXPECT_EQ(ERROR_NOT_ENOUGH_MEMORY, PssWalkSnapshot(h, PSS_WALK_HANDLES, b,
							   &e, sizeof(e)));
	c.fail_after = -1;
	EXPECT_EQ(ERROR_SUCCESS, PssWalkSnapshot(h, PSS_WALK_HANDLES, b, &e,
						 sizeof(e)));
	EXPECT_EQ(m1[0].Handle, e.Handle);
	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(b));
	EXPECT_EQ(c.allocs, c.frees);
	EXPECT_EQ(ERROR_INVALID_PARAMETER, PssWalkMarkerCreate(
			&(PSS_ALLOCATOR){ &c, count_alloc, NULL }, &b));

	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(a));
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), h));
}

TEST_F(win, duplicate)
{
	PSS_THREAD_INFORMATION t1, t2;
	PSS_THREAD_ENTRY e;
	HPSSWALK walk;
	HPSS h, d1, d2;
	int self_fd, n = 0;

	ASSERT_EQ(ERROR_SUCCESS, PssCaptureSnapshot(pidfd_handle(self->t.pidfd),
						    PSS_CAPTURE_THREADS, 0, &h));
	ASSERT_EQ(ERROR_SUCCESS, PssQuerySnapshot(h, PSS_QUERY_THREAD_INFORMATION,
						  &t1, sizeof(t1)));
	/* to self, by pseudo-handle and by a pidfd of self */
	ASSERT_EQ(ERROR_SUCCESS, PssDuplicateSnapshot(GetCurrentProcess(), h,
				GetCurrentProcess(), &d1, PSS_DUPLICATE_NONE));
	self_fd = sys_pidfd_open(getpid(), 0);
	ASSERT_LE(0, self_fd);
	ASSERT_EQ(ERROR_SUCCESS, PssDuplicateSnapshot(GetCurrentProcess(), d1,
				pidfd_handle(self_fd), &d2,
				PSS_DUPLICATE_CLOSE_SOURCE));
	EXPECT_NE(h, d1);
	EXPECT_NE(d1, d2);
	/* CLOSE_SOURCE freed d1; h and d2 are independent */
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssQuerySnapshot(d1,
				PSS_QUERY_THREAD_INFORMATION, &t2, sizeof(t2)));
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(pidfd_handle(self_fd), h));
	ASSERT_EQ(ERROR_SUCCESS, PssQuerySnapshot(d2, PSS_QUERY_THREAD_INFORMATION,
						  &t2, sizeof(t2)));
	EXPECT_EQ(t1.ThreadsCaptured, t2.ThreadsCaptured);
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(NULL, &walk));
	while (PssWalkSnapshot(d2, PSS_WALK_THREADS, walk, &e, sizeof(e)) ==
	       ERROR_SUCCESS)
		n++;
	EXPECT_EQ((int)t1.ThreadsCaptured, n);

	/* no Linux call hands an fd to another process uninvited */
	EXPECT_EQ(ERROR_NOT_SUPPORTED, PssDuplicateSnapshot(GetCurrentProcess(), d2,
				pidfd_handle(self->t.pidfd), &d1, 0));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, PssDuplicateSnapshot(GetCurrentProcess(),
				d2, GetCurrentProcess(), &d1, 2));
	EXPECT_EQ(ERROR_INVALID_PARAMETER, PssDuplicateSnapshot(GetCurrentProcess(),
				d2, GetCurrentProcess(), NULL, 0));
	EXPECT_EQ(ERROR_INVALID_HANDLE, PssDuplicateSnapshot(GetCurrentProcess(),
				h, GetCurrentProcess(), &d1, 0));
	close(self_fd);
	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(walk));
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), d2));
}

/* ------------------------------------------------------ thread contexts */

#define CTX_R12	0x1122334455667701ULL
#define CTX_R13	0x1122334455667702ULL
#define CTX_R14	0x1122334455667703ULL
#define CTX_R15	0x1122334455667704ULL
#define CTX_XMM7 0x0102030405060708ULL

static volatile int ctx_stop, ctx_spinning;
static volatile pid_t ctx_tid;

/* Spins in user mode with known values in r12-r15 and xmm7. */
static void *ctx_spin(void *arg)
{
	(void)arg;
	ctx_tid = sys_gettid();
	ctx_spinning = 1;
	__asm__ volatile(
		"movabs $0x1122334455667701, %%r12\n\t"
		"movabs $0x1122334455667702, %%r13\n\t"
		"movabs $0x1122334455667703, %%r14\n\t"
		"movabs $0x1122334455667704, %%r15\n\t"
		"movabs $0x0102030405060708, %%rax\n\t"
		"movq %%rax, %%xmm7\n\t"
		"1: cmpl $0, (%0)\n\t"
		"je 1b\n\t"
		: : "r"(&ctx_stop)
		: "r12", "r13", "r14", "r15", "rax", "xmm7", "memory", "cc");
	return NULL;
}

/* The native context entry of thread @tid in @ns, and its length. */
static const struct pss_context_entry *native_context(struct pss_snapshot *ns,
						     pid_t tid, size_t *len,
						     struct pss_walk_marker **m)
{
	const void *rec;

	if (pss_walk_marker_create(ns, PSS_WALK_CONTEXTS, NULL, m))
		return NULL;
	while (pss_walk(*m, &rec, len) == 1)
		if (((const struct pss_context_entry *)rec)->tid == tid)
			return rec;
	return NULL;
}

/*
 * A CONTEXT holds what the module captured, field by field: the spinner's
 * distinctive registers, and for every thread rip/rsp/rax and the FXSAVE
 * image as the native context entry has them.
 */
TEST(thread_context)
{
	PSS_THREAD_INFORMATION ti;
	PSS_THREAD_ENTRY e;
	HPSSWALK walk;
	pthread_t th;
	int here, seen = 0, spinner = 0;
	DWORD rc;
	HPSS h;

	ctx_stop = 0;
	ctx_spinning = 0;
	ASSERT_EQ(0, pthread_create(&th, NULL, ctx_spin, NULL));
	while (!ctx_spinning)
		usleep(1000);
	usleep(10000);		/* into the loop, registers loaded */
	ASSERT_EQ(ERROR_SUCCESS, PssCaptureSnapshot(GetCurrentProcess(),
			PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT,
			CONTEXT_ALL, &h));
	ctx_stop = 1;
	pthread_join(th, NULL);

	ASSERT_EQ(ERROR_SUCCESS, PssQuerySnapshot(h, PSS_QUERY_THREAD_INFORMATION,
						  &ti, sizeof(ti)));
	EXPECT_EQ(sizeof(CONTEXT), ti.ContextLength);
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(NULL, &walk));
	while ((rc = PssWalkSnapshot(h, PSS_WALK_THREADS, walk, &e,
				     sizeof(e))) == ERROR_SUCCESS) {
		const struct pss_context_entry *ce;
		struct pss_walk_marker *m = NULL;
		const CONTEXT *c = e.ContextRecord;
		const __u64 *g;
		size_t len = 0;

		ce = native_context(native_of(h), e.ThreadId, &len, &m);
		ASSERT_NE(NULL, ce) TH_LOG("thread %u", e.ThreadId);
		if (ce->park == PSS_PARK_NONE) {
			EXPECT_EQ(NULL, c);
			EXPECT_EQ(0, e.SizeOfContextRecord);
			pss_walk_marker_free(m);
			continue;
		}
		ASSERT_NE(NULL, c) TH_LOG("thread %u", e.ThreadId);
		EXPECT_EQ(sizeof(CONTEXT), e.SizeOfContextRecord);
		EXPECT_EQ(0, (uintptr_t)c % 16);
		/* no debug registers on Linux, everything else asked for */
		EXPECT_EQ(CONTEXT_FULL | CONTEXT_SEGMENTS, c->ContextFlags);
		ASSERT_LE(ce->gregs_off + 27 * 8, len);
		g = (const __u64 *)((const char *)ce + ce->gregs_off);
		EXPECT_EQ(g[16], c->Rip);
		EXPECT_EQ(g[19], c->Rsp);
		EXPECT_EQ(g[10], c->Rax);
		EXPECT_EQ(g[4], c->Rbp);
		EXPECT_EQ(g[17], c->SegCs);
		EXPECT_EQ(g[18], c->EFlags);
		ASSERT_EQ(512, ce->fpregs_len);
		EXPECT_EQ(0, memcmp(&c->FltSave, (const char *)ce + ce->fpregs_off,
				    512));
		EXPECT_EQ(c->FltSave.MxCsr, c->MxCsr);
		if ((pid_t)e.ThreadId == ctx_tid) {
			spinner++;
			EXPECT_EQ(PSS_PARK_WAITED, ce->park);
			EXPECT_EQ(CTX_R12, c->R12);
			EXPECT_EQ(CTX_R13, c->R13);
			EXPECT_EQ(CTX_R14, c->R14);
			EXPECT_EQ(CTX_R15, c->R15);
			EXPECT_EQ(CTX_XMM7, c->Xmm7.Low);
		}
		if ((pid_t)e.ThreadId == sys_gettid()) {
			/* the caller: its user state at the ioctl, on this stack */
			EXPECT_EQ(PSS_PARK_CALLER, ce->park);
			EXPECT_GT((uintptr_t)&here + (1 << 20), c->Rsp);
			EXPECT_LT((uintptr_t)&here, c->Rsp + (1 << 20));
		}
		seen++;
		pss_walk_marker_free(m);
	}
	EXPECT_EQ(ERROR_NO_MORE_ITEMS, rc);
	EXPECT_EQ(1, spinner);
	EXPECT_LE(2, seen);
	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(walk));
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), h));
}

/* ContextFlags says which parts are there: only those asked for. */
TEST(thread_context_flags)
{
	PSS_THREAD_INFORMATION ti;
	PSS_THREAD_ENTRY e;
	HPSSWALK walk;
	HPSS h, d;

	ASSERT_EQ(ERROR_SUCCESS, PssCaptureSnapshot(GetCurrentProcess(),
			PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT,
			CONTEXT_CONTROL, &h));
	/* a duplicate carries the contexts and the flags asked for */
	ASSERT_EQ(ERROR_SUCCESS, PssDuplicateSnapshot(GetCurrentProcess(), h,
			GetCurrentProcess(), &d, PSS_DUPLICATE_CLOSE_SOURCE));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkMarkerCreate(NULL, &walk));
	ASSERT_EQ(ERROR_SUCCESS, PssWalkSnapshot(d, PSS_WALK_THREADS, walk, &e,
						 sizeof(e)));
	ASSERT_NE(NULL, e.ContextRecord);
	EXPECT_EQ(CONTEXT_CONTROL, e.ContextRecord->ContextFlags);
	EXPECT_NE(0, e.ContextRecord->Rip);
	EXPECT_NE(0, e.ContextRecord->Rsp);
	EXPECT_EQ(0, e.ContextRecord->Rbx | e.ContextRecord->R12 |
		     e.ContextRecord->SegDs | e.ContextRecord->MxCsr);
	EXPECT_EQ(ERROR_SUCCESS, PssWalkMarkerFree(walk));
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), d));

	/* contexts belong to thread entries: none without PSS_CAPTURE_THREADS */
	ASSERT_EQ(ERROR_SUCCESS, PssCaptureSnapshot(GetCurrentProcess(),
			PSS_CAPTURE_THREAD_CONTEXT, CONTEXT_ALL, &h));
	EXPECT_EQ(ERROR_NOT_FOUND, PssQuerySnapshot(h, PSS_QUERY_THREAD_INFORMATION,
						    &ti, sizeof(ti)));
	EXPECT_EQ(ERROR_SUCCESS, PssFreeSnapshot(GetCurrentProcess(), h));
}

TEST_HARNESS_MAIN
