// SPDX-License-Identifier: GPL-2.0
/*
 * pss - ps, lsof and pmap views of atomic process snapshots.
 *
 *   pss show PID...      process summary (process facet and counts)
 *   pss threads PID...   one row per thread (like ps -L)
 *   pss fds PID...       one row per open fd (like lsof -p)
 *   pss maps PID...      one row per mapping (as /proc/PID/maps)
 *   pss snapshot PID...  all of the above from ONE capture per process;
 *                        --json: one JSON document (schema in pss(1))
 *
 * This file: options, the command line and exit codes. The views' column
 * tables are in show.c, threads.c, fds.c and maps.c; output.c and json.c
 * turn them into tables and JSON; capture.c talks to libpss.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pss.h"

struct options opt = { .pidfd_arg = -1 };
const char *prog = "pss";

const struct viewdef *const views[V_NR] = {
	[V_SHOW] = &view_show, [V_THREADS] = &view_threads,
	[V_FDS] = &view_fds, [V_MAPS] = &view_maps, [V_SNAPSHOT] = NULL,
	[V_DIFF] = NULL, [V_STACK] = &view_stack, [V_DUMP] = NULL,
};

static const char *const view_names[V_NR] = {
	[V_SHOW] = "show", [V_THREADS] = "threads", [V_FDS] = "fds",
	[V_MAPS] = "maps", [V_SNAPSHOT] = "snapshot", [V_DIFF] = "diff",
	[V_STACK] = "stack", [V_DUMP] = "dump",
};

static pid_t parse_pid(const char *s)
{
	char *end;
	long v;

	if (!strcmp(s, "self"))
		return getpid();
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT32_MAX)
		usage_error("invalid PID '%s'", s);
	return (pid_t)v;
}

static int parse_fd(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT32_MAX)
		usage_error("invalid pidfd '%s'", s);
	return (int)v;
}

/* --timeout MS: 1 .. the module's maximum */
static __u32 parse_timeout(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > PSS_QUIESCE_TIMEOUT_MAX_MS)
		usage_error("invalid timeout '%s' (milliseconds, 1 to %d)", s,
			    PSS_QUIESCE_TIMEOUT_MAX_MS);
	return (__u32)v;
}

static void usage(void)
{
	printf(
"Usage:\n"
" %1$s [options] show PID...       process summary\n"
" %1$s [options] threads PID...    threads, like ps -L\n"
" %1$s [options] fds PID...        open file descriptors, like lsof -p\n"
" %1$s [options] maps PID...       memory mappings, as /proc/PID/maps\n"
" %1$s [options] snapshot PID...   the four views from one capture each\n"
" %1$s [options] stack PID...      kernel and user backtrace of every thread\n"
" %1$s dump PID [-o FILE] [--memory stacks|writable|all] [--no-precopy]\n"
"                                 an ELF core for gdb (default core.PID)\n"
" %1$s [options] VIEW --pidfd=FD   the process of an inherited pidfd\n"
" %1$s [options] VIEW --file FILE  a saved snapshot (see --save)\n"
" %1$s [options] diff A B          what changed from A to B (FILEs or PIDs)\n"
"\n"
"Every PID is captured in ONE atomic snapshot through /dev/pss.\n"
"PID may be 'self'.\n"
"\n"
"Options:\n"
"     --pidfd            open a pidfd for each PID first (pidfd_open)\n"
"     --pidfd=FD         target the process of pidfd FD (race-free)\n"
" -f, --file FILE        read a saved snapshot instead of capturing\n"
" -s, --save FILE        also save the capture to FILE (one PID)\n"
" -o, --output LIST      columns to print (+LIST: add to the defaults)\n"
"     --output-all       print every column\n"
"     --sort COLUMN      sort the rows by COLUMN\n"
" -H, --list-columns     list the columns of the view (all without one)\n"
" -n, --noheadings       don't print headings\n"
" -r, --raw              raw output (no alignment, escaped cells)\n"
" -P, --pairs            KEY=\"value\" output\n"
" -J, --json             JSON output\n"
" -b, --bytes            sizes in bytes rather than human readable\n"
"     --memory WHAT      dump: the memory the core holds (default writable)\n"
"     --no-precopy       dump: copy all memory while the threads are parked;\n"
"                        by default anonymous memory is copied first, and\n"
"                        again only where written: this resets the target's\n"
"                        soft-dirty bits (/proc/PID/clear_refs)\n"
"     --timeout MS       stack, dump: longest wait for the threads to park\n"
"                        (default 100)\n"
" -h, --help             this help\n"
" -V, --version          version\n"
"\n"
"Exit status:\n"
" 0 success              1 other failure         2 usage error\n"
" 3 module not loaded    4 no such process       5 permission denied\n"
" 6 unsupported by the loaded module\n"
" 7 FILE is not a pss snapshot, or is damaged\n"
" 8 FILE was written by a newer pss\n"
"With several PIDs: the status of the first that failed.\n"
"diff: 0 equal, 1 different, 9 instead of 1 for other failures.\n"
"\n"
"See pss(1).\n", prog);
}

static void version(void)
{
	printf("pss %s (libpss %s, pss ABI %d)\n", PSS_TOOL_VERSION,
	       pss_library_version(), PSS_ABI_VERSION);
}

int main(int argc, char **argv)
{
	enum { OPT_OUTPUT_ALL = 256, OPT_PIDFD, OPT_SORT, OPT_MEMORY, OPT_TIMEOUT,
	       OPT_NO_PRECOPY };
	static const struct option longopts[] = {
		{ "output",	  required_argument, NULL, 'o' },
		{ "output-all",	  no_argument,	     NULL, OPT_OUTPUT_ALL },
		{ "list-columns", no_argument,	     NULL, 'H' },
		{ "noheadings",	  no_argument,	     NULL, 'n' },
		{ "raw",	  no_argument,	     NULL, 'r' },
		{ "pairs",	  no_argument,	     NULL, 'P' },
		{ "json",	  no_argument,	     NULL, 'J' },
		{ "bytes",	  no_argument,	     NULL, 'b' },
		{ "pidfd",	  optional_argument, NULL, OPT_PIDFD },
		{ "sort",	  required_argument, NULL, OPT_SORT },
		{ "file",	  required_argument, NULL, 'f' },
		{ "save",	  required_argument, NULL, 's' },
		{ "memory",	  required_argument, NULL, OPT_MEMORY },
		{ "timeout",	  required_argument, NULL, OPT_TIMEOUT },
		{ "no-precopy",	  no_argument,	     NULL, OPT_NO_PRECOPY },
		{ "help",	  no_argument,	     NULL, 'h' },
		{ "version",	  no_argument,	     NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct snapdata **ds;
	int c, vw = -1, i, ret = EXIT_OK, nfmt;
	size_t nd = 0, npids, k;
	pid_t *pids;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:f:s:HnrPJbhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': opt.output = optarg; break;
		case 'f': opt.file = optarg; break;
		case 's': opt.save = optarg; break;
		case OPT_OUTPUT_ALL: opt.output_all = true; break;
		case 'H': opt.list_columns = true; break;
		case 'n': opt.noheadings = true; break;
		case 'r': opt.raw = true; break;
		case 'P': opt.pairs = true; break;
		case 'J': opt.json = true; break;
		case 'b': opt.bytes = true; break;
		case OPT_SORT: opt.sort = optarg; break;
		case OPT_MEMORY: opt.memory = optarg; break;
		case OPT_TIMEOUT: opt.timeout_ms = parse_timeout(optarg); break;
		case OPT_NO_PRECOPY: opt.no_precopy = true; break;
		case OPT_PIDFD:
			if (optarg)
				opt.pidfd_arg = parse_fd(optarg);
			else
				opt.pidfd = true;
			break;
		case 'h': usage(); return EXIT_OK;
		case 'V': version(); return EXIT_OK;
		case ':':
			usage_error("option '%s' requires an argument", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("invalid option -- '%c'", optopt);
			usage_error("unrecognized option '%s'", argv[optind - 1]);
		}
	}
	nfmt = opt.raw + opt.json + opt.pairs;
	if (nfmt > 1)
		usage_error("--raw, --pairs and --json are mutually exclusive");

	if (optind < argc) {
		for (i = 0; i < V_NR; i++)
			if (!strcmp(argv[optind], view_names[i]))
				vw = i;
		if (vw < 0)
			usage_error("unknown command '%s'", argv[optind]);
		optind++;
	}
	if (opt.list_columns)
		return list_columns(vw == V_DIFF || vw == V_DUMP ? -1 : vw);
	if (vw < 0)
		usage_error("no command given");

	if (vw == V_DIFF) {
		if (argc - optind != 2)
			usage_error("diff: two snapshots expected (FILE or PID each)");
		if (opt.file || opt.save || opt.pidfd || opt.pidfd_arg >= 0 ||
		    opt.raw || opt.pairs || opt.output || opt.output_all || opt.sort)
			usage_error("diff: only -J and -n apply");
		ret = diff_main(argv[optind], argv[optind + 1]);
		if (fflush(stdout) || ferror(stdout)) {
			warnx_("write error: %s", strerror(errno));
			ret = EXIT_TROUBLE;
		}
		return ret;
	}
	if (opt.memory && vw != V_DUMP)
		usage_error("--memory applies to dump");
	if (opt.no_precopy && vw != V_DUMP)
		usage_error("--no-precopy applies to dump");
	if (opt.timeout_ms && vw != V_DUMP && (vw != V_STACK || opt.file))
		usage_error("--timeout applies to stack and dump");
	if (vw == V_DUMP) {
		pid_t pid = 0;
		int pidfd = opt.pidfd_arg;

		if (opt.file || opt.save || opt.output_all || opt.sort ||
		    opt.raw || opt.pairs || opt.json)
			usage_error("dump: only -o FILE, --memory, --no-precopy, --timeout and --pidfd apply");
		if (pidfd >= 0 ? argc - optind != 0 : argc - optind != 1)
			usage_error("dump: one PID (or --pidfd=FD) expected");
		if (pidfd < 0)
			pid = parse_pid(argv[optind]);
		ret = dump_main(pid, pidfd);
		if (fflush(stdout) || ferror(stdout)) {
			warnx_("write error: %s", strerror(errno));
			ret = EXIT_FAIL;
		}
		return ret;
	}
	if (opt.file && (opt.save || opt.pidfd || opt.pidfd_arg >= 0))
		usage_error("--file is a saved snapshot: no --save, no --pidfd");

	npids = (size_t)(argc - optind);
	if (opt.file) {
		if (npids)
			usage_error("%s: --file names the snapshot: no PID expected",
				    view_names[vw]);
		npids = 1;
	} else if (opt.pidfd_arg >= 0) {
		if (npids)
			usage_error("%s: --pidfd=FD names the process: no PID expected",
				    view_names[vw]);
		if (opt.pidfd)
			usage_error("--pidfd and --pidfd=FD are mutually exclusive");
		npids = 1;
	} else if (!npids) {
		usage_error("%s: no PID given", view_names[vw]);
	}
	if (opt.save && npids != 1)
		usage_error("--save: one PID");
	pids = xcalloc(npids, sizeof(*pids));
	for (k = 0; opt.pidfd_arg < 0 && !opt.file && k < npids; k++)
		pids[k] = parse_pid(argv[optind + k]);

	/* validate -o and --sort before touching the kernel */
	if (vw == V_SNAPSHOT) {
		if (opt.output || opt.output_all || opt.sort)
			usage_error("snapshot: -o, --output-all and --sort apply to show, threads, fds and maps");
	} else {
		int ids[64];

		select_columns(views[vw], ids, ARRAY_SIZE(ids), npids > 1);
		if (opt.sort && column_by_name(views[vw], opt.sort, strlen(opt.sort)) < 0)
			usage_error("unknown column '%s' for '%s' (see --list-columns)",
				    opt.sort, view_names[vw]);
	}

	ds = xcalloc(npids, sizeof(*ds));
	for (k = 0; k < npids; k++) {
		__u64 facets = vw == V_SNAPSHOT ? PSS_FACETS_ALL : views[vw]->facets;
		struct snapdata *d = xcalloc(1, sizeof(*d));
		int r;

		if (opt.file)
			r = file_load(opt.file, facets, d);
		else if (vw == V_STACK)
			r = stack_capture(pids[k], opt.pidfd_arg, d);
		else
			r = capture(pids[k], opt.pidfd_arg, facets, d);
		if (r == EXIT_OK && vw == V_STACK && opt.file)
			stack_unwind(d);

		if (r != EXIT_OK) {
			snapdata_free(d);
			free(d);
			if (ret == EXIT_OK)
				ret = r;
			continue;
		}
		ds[nd++] = d;
	}

	if (nd && vw == V_SNAPSHOT && opt.json) {
		int r = print_snapshot_json(ds, nd);

		if (ret == EXIT_OK)
			ret = r;
	} else if (nd && vw == V_SNAPSHOT) {
		int r = EXIT_OK;

		for (k = 0; k < nd && r == EXIT_OK; k++)
			for (i = V_SHOW; i <= V_MAPS && r == EXIT_OK; i++) {
				if ((k || i != V_SHOW) && !opt.raw && !opt.pairs)
					printf("\n");
				r = print_view(views[i], &ds[k], 1);
			}
		if (ret == EXIT_OK)
			ret = r;
	} else if (nd) {
		int r = print_view(views[vw], ds, nd);

		if (ret == EXIT_OK)
			ret = r;
	}
	for (k = 0; k < nd; k++) {
		snapdata_free(ds[k]);
		free(ds[k]);
	}
	free(ds);
	free(pids);
	if (fflush(stdout) || ferror(stdout)) {
		warnx_("write error: %s", strerror(errno));
		if (ret == EXIT_OK)
			ret = EXIT_FAIL;
	}
	return ret;
}
