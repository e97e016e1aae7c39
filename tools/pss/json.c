// SPDX-License-Identifier: GPL-2.0
/*
 * pss(1): JSON output, for the views' -J and for snapshot --json.
 *
 * Linux names (paths, comm, mapping names) are byte strings; JSON strings
 * are Unicode. The rule (pss(1), JSON OUTPUT): valid UTF-8 is copied; every
 * byte that is not part of a valid UTF-8 sequence is written as the four
 * characters \xHH, the escape lsblk and lsfd use in their tables; a
 * backslash that is followed by 'x' is written \x5c, so replacing every \xHH
 * in the decoded string by its byte gives back the name exactly. Control
 * characters use JSON's own \u00HH.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pss.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	__u32 cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

void json_string(FILE *f, const char *str, size_t maxlen)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strnlen(str, maxlen), i = 0;

	fputc('"', f);
	while (i < n) {
		unsigned char c = s[i];
		size_t len;

		if (c == '\\' && i + 1 < n && s[i + 1] == 'x') {
			fputs("\\\\x5c", f);
			i++;
			continue;
		}
		switch (c) {
		case '"': fputs("\\\"", f); i++; continue;
		case '\\': fputs("\\\\", f); i++; continue;
		case '\n': fputs("\\n", f); i++; continue;
		case '\t': fputs("\\t", f); i++; continue;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		len = utf8_len(s + i, n - i);
		if (!len) {
			fprintf(f, "\\\\x%02x", c);
			i++;
			continue;
		}
		fwrite(s + i, 1, len, f);
		i += len;
	}
	fputc('"', f);
}

static void j_indent(struct json *j)
{
	int i;

	fputc('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Start a member ("key": ) or an array element (key NULL). */
void j_key(struct json *j, const char *key)
{
	if (!j->first)
		fputc(',', j->f);
	j->first = false;
	j_indent(j);
	if (key) {
		json_string(j->f, key, SIZE_MAX);
		fputs(": ", j->f);
	}
}

void j_open(struct json *j, const char *key, char c)
{
	if (j->depth || key)
		j_key(j, key);
	fputc(c, j->f);
	j->depth++;
	j->first = true;
}

void j_close(struct json *j, char c)
{
	bool empty = j->first;

	j->depth--;
	if (!empty)
		j_indent(j);
	fputc(c, j->f);
	j->first = false;
}

void j_u64(struct json *j, const char *k, __u64 v)
{
	j_key(j, k);
	fprintf(j->f, "%" PRIu64, (uint64_t)v);
}

void j_str(struct json *j, const char *k, const char *s)
{
	j_key(j, k);
	if (s)
		json_string(j->f, s, SIZE_MAX);
	else
		fputs("null", j->f);
}

/* A value in its JSON type (the "JSON" column of --list-columns). */
void j_val(struct json *j, const char *k, struct val *v)
{
	char buf[64];
	time_t t;
	struct tm tm;
	const char *p, *q;

	switch (v->t) {
	case VT_NONE:
		j_key(j, k);
		fputs("null", j->f);
		return;
	case VT_INT:
		j_key(j, k);
		fprintf(j->f, "%lld", v->i);
		return;
	case VT_UINT:
	case VT_SIZE:
	case VT_OCT:
		j_u64(j, k, v->u);
		return;
	case VT_SECS:
		j_key(j, k);
		fprintf(j->f, "%" PRIu64 ".%09" PRIu64,
			(uint64_t)(v->u / 1000000000ULL),
			(uint64_t)(v->u % 1000000000ULL));
		return;
	case VT_TIME:
		t = (time_t)(v->u / 1000000000ULL);
		if (!gmtime_r(&t, &tm)) {
			j_str(j, k, NULL);
			return;
		}
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		j_str(j, k, buf);
		return;
	case VT_HEX:
	case VT_BOOL:
		if (v->t == VT_BOOL) {
			j_key(j, k);
			fputs(v->u ? "true" : "false", j->f);
			return;
		}
		snprintf(buf, sizeof(buf), "0x%" PRIx64, (uint64_t)v->u);
		j_str(j, k, buf);
		return;
	case VT_STR:
		j_str(j, k, v->s);
		return;
	case VT_FLAGS:
		j_open(j, k, '[');
		for (p = v->s; *p; p = *q ? q + 1 : q) {
			q = strchr(p, ',');
			if (!q)
				q = p + strlen(p);
			j_key(j, NULL);
			fputc('"', j->f);
			fwrite(p, 1, (size_t)(q - p), j->f);	/* our own names */
			fputc('"', j->f);
		}
		j_close(j, ']');
		return;
	}
}

/* "RSS-ANON" -> "rss-anon": the key libsmartcols would use, too */
void json_key_of(const char *name, char *buf, size_t len)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < len; i++)
		buf[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
				name[i] - 'A' + 'a' : name[i]);
	buf[i] = '\0';
}

static void j_row(struct json *j, const struct viewdef *v, const int *ids,
		  size_t n, const struct rowctx *c)
{
	char key[64];
	size_t i;

	j_open(j, NULL, '{');
	for (i = 0; i < n; i++) {
		struct val val = { .t = VT_NONE };

		v->cols[ids[i]].cell(c, &val);
		json_key_of(v->cols[ids[i]].name, key, sizeof(key));
		j_val(j, key, &val);
		val_free(&val);
	}
	j_close(j, '}');
}

void j_rows(struct json *j, const struct viewdef *v, const int *ids, size_t n,
	    const struct rowctx *rows, size_t nrows)
{
	size_t r;

	j_open(j, v->table, '[');
	for (r = 0; r < nrows; r++)
		j_row(j, v, ids, n, &rows[r]);
	j_close(j, ']');
}
