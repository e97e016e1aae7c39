// SPDX-License-Identifier: GPL-2.0
/*
 * pss snapshot --json: every view of one capture per process, in one
 * document. The rows are the views' rows with every column, keyed and
 * typed exactly as the views' -J prints them (schema in pss(1)).
 */
#include <stdlib.h>

#include "pss.h"

static void json_snapshot_info(struct json *j, const struct snapdata *d)
{
	__u64 f;

	j_open(j, "snapshot", '{');
	j_u64(j, "abi_version", d->si.abi_version);
	j_open(j, "facets", '[');
	for (f = 1; f && f <= PSS_FACETS_ALL; f <<= 1)
		if (d->si.facets & f)
			j_str(j, NULL, pss_facet_name(f));
	j_close(j, ']');
	j_u64(j, "cut_realtime_ns", d->si.cut_realtime_ns);
	j_u64(j, "cut_boottime_ns", d->si.cut_boottime_ns);
	j_u64(j, "cut_monotonic_ns", d->si.cut_ns);
	j_u64(j, "threads", d->si.nr_threads);
	j_u64(j, "fds", d->si.nr_handles);
	j_u64(j, "maps", d->si.nr_vmas);
	j_u64(j, "memory_bytes", d->si.memory_bytes);
	j_u64(j, "retries", d->si.retries);
	j_close(j, '}');
}

static void json_performance(struct json *j, const struct snapdata *d)
{
	static const char *const phases[] = {
		[PSS_PHASE_TOTAL] = "total_ns", [PSS_PHASE_ALLOC] = "alloc_ns",
		[PSS_PHASE_VA_SPACE] = "va_space_ns",
		[PSS_PHASE_HANDLES] = "handles_ns",
		[PSS_PHASE_THREADS] = "threads_ns",
		[PSS_PHASE_NAMES] = "names_ns", [PSS_PHASE_BUILD] = "build_ns",
	};
	static const char *const locks[] = {
		[PSS_LOCK_MMAP] = "mmap_lock_ns",
		[PSS_LOCK_FILES] = "files_lock_ns",
		[PSS_LOCK_SIGHAND] = "sighand_lock_ns",
	};
	size_t i;

	if (!d->have_perf) {
		j_str(j, "performance", NULL);
		return;
	}
	j_open(j, "performance", '{');
	for (i = 0; i < ARRAY_SIZE(phases); i++)
		j_u64(j, phases[i], d->perf.phase_ns[i]);
	j_open(j, "lock_held", '{');
	for (i = 0; i < ARRAY_SIZE(locks); i++)
		j_u64(j, locks[i], d->perf.lock_held_ns[i]);
	j_close(j, '}');
	j_close(j, '}');
}

/* every column of v, for one process */
static void json_view(struct json *j, const struct viewdef *v, struct snapdata *d)
{
	struct rowctx *rows;
	int ids[64];
	size_t n, i, nrows;

	for (n = 0; n < v->ncols && n < ARRAY_SIZE(ids); n++)
		ids[n] = (int)n;
	nrows = gather_rows(v, &d, 1, &rows);
	if (v == &view_show) {
		/* one process: an object, not an array of one */
		j_open(j, "process", '{');
		for (i = 0; i < n; i++) {
			struct val val = { .t = VT_NONE };
			char key[64];

			v->cols[i].cell(&rows[0], &val);
			json_key_of(v->cols[i].name, key, sizeof(key));
			j_val(j, key, &val);
			val_free(&val);
		}
		j_close(j, '}');
	} else {
		j_rows(j, v, ids, n, rows, nrows);
	}
	free(rows);
}

int print_snapshot_json(struct snapdata *const *ds, size_t nd)
{
	struct json j = { .f = stdout, .depth = 0, .first = true };
	size_t k;

	j_open(&j, NULL, '{');
	j_u64(&j, "pss_json_version", PSS_JSON_VERSION);
	j_str(&j, "tool_version", PSS_TOOL_VERSION);
	j_open(&j, "snapshots", '[');
	for (k = 0; k < nd; k++) {
		j_open(&j, NULL, '{');
		json_snapshot_info(&j, ds[k]);
		json_view(&j, &view_show, ds[k]);
		json_view(&j, &view_threads, ds[k]);
		json_view(&j, &view_fds, ds[k]);
		json_view(&j, &view_maps, ds[k]);
		json_performance(&j, ds[k]);
		j_close(&j, '}');
	}
	j_close(&j, ']');
	j_close(&j, '}');
	fputc('\n', stdout);
	return EXIT_OK;
}
