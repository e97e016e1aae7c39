// SPDX-License-Identifier: GPL-2.0
/*
 * pss stack: every thread's kernel stack and user backtrace, from one
 * capture - eu-stack -p and /proc/PID/task/TID/stack together, with one
 * short park of the target instead of a ptrace-stop for the whole unwind.
 *
 * The kernel frames come symbolised from the module. The user backtrace is
 * unwound here with libdwfl from what the capture holds: each thread's
 * registers (the context walk) and the memory of its stack (the memory
 * walk), the code and its CFI read from the files the mappings name, as
 * eu-stack does for a live process. Nothing is read from the target after
 * the capture but those files.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/user.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <libsmartcols.h>

#include "pss.h"

#define MAX_FRAMES	256

/* ------------------------------------------------------------ frames */

/* One row; its strings live in the same allocation. */
static void frame_add(struct snapdata *d, const struct frame *f,
		      const char *function, const char *symbol,
		      const char *module)
{
	size_t lf = function ? strlen(function) + 1 : 0;
	size_t ls = symbol ? strlen(symbol) + 1 : 0;
	size_t lm = module ? strlen(module) + 1 : 0;
	struct frame *nf = xcalloc(1, sizeof(*nf) + lf + ls + lm);
	char *p = (char *)(nf + 1);
	struct recs *r = &d->frames;

	*nf = *f;
	nf->function = function ? memcpy(p, function, lf) : NULL;
	p += lf;
	nf->symbol = symbol ? memcpy(p, symbol, ls) : NULL;
	p += ls;
	nf->module = module ? memcpy(p, module, lm) : NULL;
	if (!(r->n & (r->n + 1)) || !r->v)
		r->v = xrealloc(r->v, (r->n + 1) * 2 * sizeof(*r->v));
	r->v[r->n].p = nf;
	r->v[r->n].len = sizeof(*nf);
	r->n++;
}

/* "function+0x1f/0x90 [module]" lines, innermost first */
static void kernel_frames(struct snapdata *d, pid_t tid, __u32 park,
			  const struct pss_kstack_entry *k)
{
	const char *text = pss_kstack_entry_text(k, NULL), *line, *next;
	struct frame f;
	int n = 0;

	if (!text)
		return;
	for (line = text; *line; line = next) {
		char buf[512], fn[512], *plus, *mod, *sp;
		size_t len, fl;

		len = strcspn(line, "\n");
		next = line + len + (line[len] == '\n');
		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (!*buf)
			continue;
		memset(&f, 0, sizeof(f));
		f.tid = tid;
		f.park = park;
		f.kernel = true;
		f.n = n++;
		f.kflags = k->flags;
		mod = NULL;
		sp = strchr(buf, ' ');
		if (sp && sp[1] == '[') {
			*sp = '\0';
			mod = sp + 2;
			mod[strcspn(mod, "]")] = '\0';
		}
		plus = strchr(buf, '+');
		if (plus) {
			f.has_off = true;
			f.off = strtoull(plus + 1, NULL, 16);
		}
		fl = plus ? (size_t)(plus - buf) : strlen(buf);
		memcpy(fn, buf, fl);
		fn[fl] = '\0';
		frame_add(d, &f, fn, buf, mod);
	}
}

/* ------------------------------------------------------------ unwinding */

struct uw {
	struct snapdata *d;
	Dwfl *dwfl;
	size_t next;		/* next context for next_thread */
	/* memory records by address, for memory_read */
	const struct pss_memory_entry **mem;
	size_t nmem;
	/* the thread being unwound */
	pid_t tid;
	int n;
};

static const struct pss_memory_entry *mem_find(const struct uw *u, __u64 addr)
{
	size_t lo = 0, hi = u->nmem;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u->mem[mid]->addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	if (addr - u->mem[lo - 1]->addr >= u->mem[lo - 1]->data_len)
		return NULL;
	return u->mem[lo - 1];
}

/* A byte of the target as the capture saw it: copied memory, else the file. */
static bool read_byte(const struct uw *u, __u64 addr, unsigned char *out)
{
	const struct pss_memory_entry *m = mem_find(u, addr);
	size_t i;

	if (m) {
		const unsigned char *data = pss_memory_entry_data(m, NULL);

		if (!data)
			return false;
		*out = data[addr - m->addr];
		return true;
	}
	/* text and read-only data: the mapped file, as it is now */
	for (i = 0; i < u->d->maps.n; i++) {
		FIXED(struct pss_vma_entry, v, &u->d->maps.v[i]);
		const char *name;
		int fd;
		ssize_t r;

		if (addr < v.start || addr >= v.end)
			continue;
		name = pss_vma_entry_name(u->d->maps.v[i].p);
		if (v.name_kind != PSS_VMA_NAME_FILE || !name ||
		    (v.prot & PSS_PROT_WRITE))
			return false;
		fd = open(name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return false;
		r = pread(fd, out, 1, (off_t)(v.pgoff_bytes + (addr - v.start)));
		close(fd);
		return r == 1;
	}
	return false;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result,
			void *arg)
{
	const struct uw *u = arg;
	const struct pss_memory_entry *m = mem_find(u, addr);
	unsigned char b[sizeof(*result)];
	const unsigned char *data;
	size_t i;

	(void)dwfl;
	/* the usual case: a word of one stack record */
	if (m && addr - m->addr + sizeof(b) <= m->data_len &&
	    (data = pss_memory_entry_data(m, NULL))) {
		memcpy(result, data + (addr - m->addr), sizeof(b));
		return true;
	}
	for (i = 0; i < sizeof(b); i++)
		if (!read_byte(u, addr + i, &b[i]))
			return false;
	memcpy(result, b, sizeof(b));
	return true;
}

static const struct pss_context_entry *ctx_at(const struct uw *u, size_t i)
{
	return u->d->ctx.v[i].p;
}

/* Threads with registers: the parked ones (and the caller). */
static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct uw *u = arg;

	(void)dwfl;
	while (u->next < u->d->ctx.n) {
		const struct pss_context_entry *c = ctx_at(u, u->next++);

		if (c->park != PSS_PARK_NONE && pss_context_entry_gregs(c, NULL)) {
			*thread_argp = (void *)c;
			return c->tid;
		}
	}
	return 0;
}

/* user_regs_struct in DWARF's x86-64 numbering, rip as the pc */
static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	const struct pss_context_entry *c = thread_arg;
	struct user_regs_struct r;
	Dwarf_Word dw[17];
	size_t len;
	const void *g = pss_context_entry_gregs(c, &len);

	if (!g || len < sizeof(r))
		return false;
	memcpy(&r, g, sizeof(r));
	dw[0] = r.rax;
	dw[1] = r.rdx;
	dw[2] = r.rcx;
	dw[3] = r.rbx;
	dw[4] = r.rsi;
	dw[5] = r.rdi;
	dw[6] = r.rbp;
	dw[7] = r.rsp;
	dw[8] = r.r8;
	dw[9] = r.r9;
	dw[10] = r.r10;
	dw[11] = r.r11;
	dw[12] = r.r12;
	dw[13] = r.r13;
	dw[14] = r.r14;
	dw[15] = r.r15;
	dw[16] = r.rip;
	if (!dwfl_thread_state_registers(thread, 0, 17, dw))
		return false;
	dwfl_thread_state_register_pc(thread, r.rip);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

/* The file a module was reported with (its name), opened now. */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *name,
		    Dwarf_Addr base, char **file_name, Elf **elfp)
{
	int fd;

	(void)mod;
	(void)userdata;
	(void)base;
	*elfp = NULL;
	if (name[0] != '/')
		return -1;
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	*file_name = strdup(name);
	return fd;
}

static char *debuginfo_path;

static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

/*
 * One module per mapped file, from its first mapping (file offset 0) to
 * the end of its last, as eu-stack reports a live process from its maps.
 */
static void report_modules(struct uw *u)
{
	const struct recs *maps = &u->d->maps;
	size_t i, j;

	dwfl_report_begin(u->dwfl);
	for (i = 0; i < maps->n; i = j) {
		FIXED(struct pss_vma_entry, v, &maps->v[i]);
		const char *name = pss_vma_entry_name(maps->v[i].p);
		__u64 end = v.end;

		for (j = i + 1; j < maps->n; j++) {
			FIXED(struct pss_vma_entry, w, &maps->v[j]);

			if (w.name_kind != PSS_VMA_NAME_FILE || w.ino != v.ino ||
			    w.dev_major != v.dev_major || w.dev_minor != v.dev_minor)
				break;
			end = w.end;
		}
		if (v.name_kind != PSS_VMA_NAME_FILE || !name || v.pgoff_bytes ||
		    (v.flags & PSS_VMA_DELETED))
			continue;
		dwfl_report_module(u->dwfl, name, v.start, end);
	}
	dwfl_report_end(u->dwfl, NULL, NULL);
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct uw *u = arg;
	Dwarf_Addr pc, adj;
	bool activation;
	Dwfl_Module *mod;
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *fn = NULL, *modname = NULL;
	char symbol[1024];
	struct frame f;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	/* a return address points after the call: look up the call */
	adj = activation ? pc : pc - 1;
	mod = dwfl_addrmodule(u->dwfl, adj);
	if (mod) {
		fn = dwfl_module_addrinfo(mod, adj, &off, &sym, NULL, NULL, NULL);
		modname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL,
					   NULL, NULL);
	}
	memset(&f, 0, sizeof(f));
	f.tid = u->tid;
	f.n = u->n++;
	f.pc = pc;
	f.has_pc = true;
	if (fn) {
		f.off = off + (pc - adj);
		f.has_off = true;
		snprintf(symbol, sizeof(symbol), "%s+0x%" PRIx64, fn,
			 (uint64_t)f.off);
	}
	frame_add(u->d, &f, fn, fn ? symbol : NULL, modname);
	return u->n < MAX_FRAMES ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static int thread_cb(Dwfl_Thread *thread, void *arg)
{
	struct uw *u = arg;

	u->tid = dwfl_thread_tid(thread);
	u->n = 0;
	/* the end of the stack is reported as an error: frames so far stand */
	dwfl_thread_getframes(thread, frame_cb, u);
	return DWARF_CB_OK;
}

static int mem_cmp(const void *a, const void *b)
{
	const struct pss_memory_entry *x = *(const void *const *)a;
	const struct pss_memory_entry *y = *(const void *const *)b;

	return (x->addr > y->addr) - (x->addr < y->addr);
}

/* Backtraces of the threads with registers, as frames of d, innermost first. */
static void user_frames(struct snapdata *d)
{
	struct uw u = { .d = d };
	size_t i;

	if (!d->have_ctx || !d->have_maps)
		return;
	u.mem = xcalloc(d->mem.n, sizeof(*u.mem));
	for (i = 0; i < d->mem.n; i++)
		u.mem[u.nmem++] = d->mem.v[i].p;
	qsort(u.mem, u.nmem, sizeof(*u.mem), mem_cmp);
	u.dwfl = dwfl_begin(&dwfl_callbacks);
	if (!u.dwfl) {
		warnx_("libdwfl: %s", dwfl_errmsg(-1));
		free(u.mem);
		return;
	}
	report_modules(&u);
	if (!dwfl_attach_state(u.dwfl, NULL, d->pid, &thread_callbacks, &u)) {
		warnx_("cannot unwind: %s", dwfl_errmsg(-1));
	} else {
		dwfl_getthreads(u.dwfl, thread_cb, &u);
	}
	dwfl_end(u.dwfl);
	free(u.mem);
}

void stack_unwind(struct snapdata *d)
{
	struct recs user;
	size_t i, j, k;

	/* unwound in one pass (libdwfl walks the threads itself) */
	user_frames(d);
	user = d->frames;
	memset(&d->frames, 0, sizeof(d->frames));

	/* then per thread of the thread walk: kernel frames, user frames */
	for (i = 0; i < d->threads.n; i++) {
		FIXED(struct pss_thread_entry, t, &d->threads.v[i]);
		__u32 park = PSS_PARK_NONE;

		for (j = 0; j < d->ctx.n; j++) {
			const struct pss_context_entry *c = d->ctx.v[j].p;

			if (c->tid == t.tid)
				park = c->park;
		}
		if (d->have_ctx && park == PSS_PARK_NONE)
			warnx_("PID %d: thread %d was not parked in time (running in the kernel, or exiting; see --timeout): no user backtrace",
			       (int)d->pi.pid, (int)t.tid);
		for (j = 0; j < d->kstacks.n; j++) {
			const struct pss_kstack_entry *ks = d->kstacks.v[j].p;

			if (ks->tid == t.tid)
				kernel_frames(d, t.tid, park, ks);
		}
		for (k = 0; k < user.n; k++) {
			struct frame *f = user.v[k].p;

			if (!f || f->tid != t.tid)
				continue;
			f->park = park;
			if (!(d->frames.n & (d->frames.n + 1)) || !d->frames.v)
				d->frames.v = xrealloc(d->frames.v,
						       (d->frames.n + 1) * 2 *
						       sizeof(*d->frames.v));
			d->frames.v[d->frames.n++] = user.v[k];
			user.v[k].p = NULL;
		}
	}
	for (k = 0; k < user.n; k++)
		free(user.v[k].p);
	free(user.v);
}

int stack_capture(pid_t pid, int pidfd, struct snapdata *d)
{
	PSS_OPTS(pss_capture_opts, o, .facets = PSS_STACK_FACETS,
		 .memory_flags = PSS_MEMORY_STACKS,
		 .quiesce_timeout_ms = opt.timeout_ms);
	bool kstacks;
	int code;

	code = capture_try_kstacks(pid, pidfd, &o, o.facets, d, NULL, &kstacks);
	if (code != EXIT_OK)
		return code;
	if (!kstacks)
		warnx_("PID %d: no kernel frames: %s", (int)d->pi.pid,
		       geteuid() ? "kernel stacks need CAP_SYS_ADMIN (as /proc/PID/stack)" :
		       "the loaded pss module does not capture kernel stacks");
	stack_unwind(d);
	return code;
}

/* ------------------------------------------------------------ columns */

#define F(c) ((const struct frame *)(c)->r->p)

static void c_pid(const struct rowctx *c, struct val *v)
{
	v_int(v, c->d->pid);
}

static void c_tid(const struct rowctx *c, struct val *v)
{
	v_int(v, F(c)->tid);
}

static void c_comm(const struct rowctx *c, struct val *v)
{
	size_t i;

	for (i = 0; i < c->d->threads.n; i++) {
		FIXED(struct pss_thread_entry, t, &c->d->threads.v[i]);

		if (t.tid == F(c)->tid) {
			v_strn(v, t.comm, PSS_COMM_LEN);
			return;
		}
	}
}

static void c_park(const struct rowctx *c, struct val *v)
{
	if (c->d->have_ctx)
		v_str(v, pss_park_name(F(c)->park));
}

static void c_kind(const struct rowctx *c, struct val *v)
{
	v_str(v, F(c)->kernel ? "kernel" : "user");
}

static void c_frame(const struct rowctx *c, struct val *v)
{
	v_int(v, F(c)->n);
}

static void c_address(const struct rowctx *c, struct val *v)
{
	if (F(c)->has_pc)
		v_hex(v, F(c)->pc);
}

static void c_function(const struct rowctx *c, struct val *v)
{
	v_str(v, F(c)->function);
}

static void c_offset(const struct rowctx *c, struct val *v)
{
	if (F(c)->has_off)
		v_hex(v, F(c)->off);
}

static void c_symbol(const struct rowctx *c, struct val *v)
{
	v_str(v, F(c)->symbol);
}

static void c_module(const struct rowctx *c, struct val *v)
{
	v_str(v, F(c)->module);
}

static const struct bitname kstack_flag_names[] = {
	{ PSS_KSTACK_RUNNING, "running" }, { PSS_KSTACK_TRUNCATED, "truncated" },
};

static void c_flags(const struct rowctx *c, struct val *v)
{
	v_bits(v, F(c)->kflags, kstack_flag_names, ARRAY_SIZE(kstack_flag_names));
}

#define R SCOLS_FL_RIGHT

static const struct column stack_cols[] = {
	{ "PID", 5, R, CT_NUM, "process id", c_pid },
	{ "TID", 5, R, CT_NUM, "thread id", c_tid },
	{ "COMM", 10, 0, CT_STR, "thread name", c_comm },
	{ "PARK", 6, 0, CT_STR, "how the thread's user state was held: waited, stopped, blocked, caller, none (no user backtrace)", c_park },
	{ "KIND", 6, 0, CT_STR, "kernel or user frame", c_kind },
	{ "FRAME", 3, R, CT_NUM, "frame number, innermost 0, per kind", c_frame },
	{ "ADDRESS", 18, R, CT_STR, "program counter (user frames)", c_address },
	{ "FUNCTION", 20, 0, CT_STR, "function name", c_function },
	{ "OFFSET", 6, R, CT_STR, "offset of the program counter in the function", c_offset },
	{ "SYMBOL", 30, 0, CT_STR, "function+offset (kernel: function+offset/size as /proc/PID/stack)", c_symbol },
	{ "MODULE", 20, 0, CT_STR, "user: the mapped file; kernel: the module (none: the kernel itself)", c_module },
	{ "FLAGS", 6, 0, CT_ARRAY, "kernel stack: running (read on a cpu: a guess), truncated", c_flags },
};

static const char *const stack_default[] = {
	"TID", "COMM", "PARK", "KIND", "FRAME", "ADDRESS", "SYMBOL", "MODULE",
};

const struct viewdef view_stack = {
	.name = "stack", .table = "stack",
	.cols = stack_cols, .ncols = ARRAY_SIZE(stack_cols),
	.defcols = stack_default, .ndef = ARRAY_SIZE(stack_default),
	.facets = PSS_STACK_FACETS,
};
