// SPDX-License-Identifier: GPL-2.0
/*
 * pss(1): column selection, --sort, and the table, raw, pairs and JSON
 * output of a view, all from the view's column table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libsmartcols.h>

#include "pss.h"

int column_by_name(const struct viewdef *v, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < v->ncols; i++)
		if (strlen(v->cols[i].name) == len &&
		    !strncasecmp(v->cols[i].name, name, len))
			return (int)i;
	return -1;
}

static size_t add_column(const struct viewdef *v, int *ids, size_t n,
			 size_t max, const char *name, size_t len)
{
	int id = column_by_name(v, name, len);
	size_t i;

	if (id < 0)
		usage_error("unknown column '%.*s' for '%s' (see --list-columns)",
			    (int)len, name, v->name);
	/* once is enough, and a JSON object cannot hold a key twice */
	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return n;
	if (n >= max)
		usage_error("too many columns");
	ids[n] = id;
	return n + 1;
}

/*
 * The columns to print: -o LIST, -o +LIST (defaults + LIST), --output-all.
 * pid_col: several processes, so the defaults start with PID (lsfd does
 * the same).
 */
size_t select_columns(const struct viewdef *v, int *ids, size_t max, bool pid_col)
{
	const char *s = opt.output, *p;
	size_t n = 0, i;

	if (opt.output_all) {
		for (i = 0; i < v->ncols && n < max; i++)
			ids[n++] = (int)i;
		return n;
	}
	if (!s || *s == '+') {
		if (pid_col && strcmp(v->defcols[0], "PID"))
			n = add_column(v, ids, n, max, "PID", 3);
		for (i = 0; i < v->ndef; i++)
			n = add_column(v, ids, n, max, v->defcols[i],
				       strlen(v->defcols[i]));
		if (!s)
			return n;
		s++;
	}
	while (*s) {
		size_t len;

		p = strchr(s, ',');
		len = p ? (size_t)(p - s) : strlen(s);
		if (len)
			n = add_column(v, ids, n, max, s, len);
		s += len;
		if (*s == ',')
			s++;
	}
	if (!n)
		usage_error("no columns selected");
	return n;
}

/* ------------------------------------------------------------ rows */

struct sortrow {
	struct rowctx c;
	struct val key;
	size_t idx;
};

static int sortrow_cmp(const void *a, const void *b)
{
	const struct sortrow *x = a, *y = b;
	int r = val_cmp(&x->key, &y->key);

	return r ? r : (x->idx > y->idx) - (x->idx < y->idx);
}

size_t gather_rows(const struct viewdef *v, struct snapdata *const *ds,
		   size_t nd, struct rowctx **rows)
{
	struct sortrow *s = NULL;
	size_t n = 0, k, r, i;
	int key = -1;

	for (k = 0; k < nd; k++) {
		const struct recs *rs = v == &view_threads ? &ds[k]->threads :
					v == &view_fds ? &ds[k]->fds :
					v == &view_maps ? &ds[k]->maps :
					v == &view_stack ? &ds[k]->frames : NULL;
		size_t nr = rs ? rs->n : 1;

		s = xrealloc(s, (n + nr) * sizeof(*s));
		for (r = 0; r < nr; r++, n++) {
			memset(&s[n], 0, sizeof(s[n]));
			s[n].c.d = ds[k];
			s[n].c.r = rs ? &rs->v[r] : NULL;
			s[n].idx = n;
		}
	}
	if (opt.sort) {
		key = column_by_name(v, opt.sort, strlen(opt.sort));
		for (i = 0; key >= 0 && i < n; i++)
			v->cols[key].cell(&s[i].c, &s[i].key);
		if (key >= 0)
			qsort(s, n, sizeof(*s), sortrow_cmp);
	}
	*rows = xcalloc(n, sizeof(**rows));
	for (i = 0; i < n; i++) {
		(*rows)[i] = s[i].c;
		val_free(&s[i].key);
	}
	free(s);
	return n;
}

static int print_json(const struct viewdef *v, const int *ids, size_t n,
		      const struct rowctx *rows, size_t nrows)
{
	struct json j = { .f = stdout, .depth = 0, .first = true };

	j_open(&j, NULL, '{');
	j_rows(&j, v, ids, n, rows, nrows);
	j_close(&j, '}');
	fputc('\n', stdout);
	return EXIT_OK;
}

static void __attribute__((noreturn)) scols_oom(void)
{
	warnx_("out of memory");
	exit(EXIT_FAIL);
}

static struct libscols_table *new_table(const char *name)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb)
		scols_oom();
	scols_table_enable_raw(tb, opt.raw);
	scols_table_enable_export(tb, opt.pairs);
	scols_table_enable_noheadings(tb, opt.noheadings);
	scols_table_set_name(tb, name);
	return tb;
}

static int print_table(struct libscols_table *tb)
{
	int ret = scols_print_table(tb);

	scols_unref_table(tb);
	if (ret) {
		warnx_("cannot print the table: %s", strerror(ret < 0 ? -ret : ret));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int print_view(const struct viewdef *v, struct snapdata *const *ds, size_t nd)
{
	struct libscols_table *tb;
	struct rowctx *rows;
	int ids[64], ret;
	size_t n = select_columns(v, ids, ARRAY_SIZE(ids), nd > 1), nrows, i, r;

	nrows = gather_rows(v, ds, nd, &rows);
	if (opt.json) {
		ret = print_json(v, ids, n, rows, nrows);
		free(rows);
		return ret;
	}
	tb = new_table(v->table);
	for (i = 0; i < n; i++) {
		const struct column *c = &v->cols[ids[i]];

		if (!scols_table_new_column(tb, c->name, c->whint, c->flags))
			scols_oom();
	}
	for (r = 0; r < nrows; r++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		if (!ln)
			scols_oom();
		for (i = 0; i < n; i++) {
			struct val val = { .t = VT_NONE };
			const char *s;

			v->cols[ids[i]].cell(&rows[r], &val);
			s = val_text(&val);
			if (s && *s && scols_line_set_data(ln, i, s))
				scols_oom();
			val_free(&val);
		}
	}
	free(rows);
	return print_table(tb);
}

/* ------------------------------------------------------------ --list-columns */

static const char *const ctype_names[] = {
	[CT_NUM] = "<number>", [CT_STR] = "<string>",
	[CT_BOOL] = "<boolean>", [CT_ARRAY] = "<array>",
};

/* Columns of one view (vw >= 0) or of all; same output modes as the views. */
int list_columns(int vw)
{
	bool all = vw < 0 || vw == V_SNAPSHOT;
	struct libscols_table *tb;
	int v;
	size_t i;

	if (opt.json) {
		struct json j = { .f = stdout, .depth = 0, .first = true };
		char key[64];

		j_open(&j, NULL, '{');
		j_open(&j, "columns", '[');
		for (v = 0; v < V_NR; v++) {
			if ((!all && v != vw) || !views[v])
				continue;
			for (i = 0; i < views[v]->ncols; i++) {
				const struct column *c = &views[v]->cols[i];

				json_key_of(c->name, key, sizeof(key));
				j_open(&j, NULL, '{');
				j_str(&j, "view", views[v]->name);
				j_str(&j, "name", c->name);
				j_str(&j, "key", key);
				j_str(&j, "type", ctype_names[c->ct]);
				j_str(&j, "description", c->help);
				j_close(&j, '}');
			}
		}
		j_close(&j, ']');
		j_close(&j, '}');
		fputc('\n', stdout);
		return EXIT_OK;
	}
	tb = new_table("columns");
	if (all && !scols_table_new_column(tb, "VIEW", 0, 0))
		scols_oom();
	if (!scols_table_new_column(tb, "NAME", 0, 0) ||
	    !scols_table_new_column(tb, "TYPE", 0, 0) ||
	    !scols_table_new_column(tb, "DESCRIPTION", 0, SCOLS_FL_WRAP))
		scols_oom();
	for (v = 0; v < V_NR; v++) {
		if ((!all && v != vw) || !views[v])
			continue;
		for (i = 0; i < views[v]->ncols; i++) {
			const struct column *c = &views[v]->cols[i];
			struct libscols_line *ln = scols_table_new_line(tb, NULL);
			size_t k = 0;

			if (!ln)
				scols_oom();
			if ((all && scols_line_set_data(ln, k++, views[v]->name)) ||
			    scols_line_set_data(ln, k++, c->name) ||
			    scols_line_set_data(ln, k++, ctype_names[c->ct]) ||
			    scols_line_set_data(ln, k, c->help))
				scols_oom();
		}
	}
	return print_table(tb);
}
