// SPDX-License-Identifier: GPL-2.0
/*
 * pss(1): typed cell values and the helpers that format them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pss.h"

void warnx_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try '%s --help')\n", prog);
	exit(EXIT_USAGE);
}

static void __attribute__((noreturn)) oom(void)
{
	warnx_("out of memory");
	exit(EXIT_FAIL);
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t sz)
{
	p = realloc(p, sz ? sz : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

/*
 * Sizes as lsblk prints them (util-linux size_to_human_string() with a
 * one-letter suffix): power-of-1024 units, one decimal rounded half up and
 * dropped when it is zero, so 1536 is "1.5K", 1048576 "1M" and 1048575
 * "1024K" (rounding does not move to the next unit, as in lsblk).
 */
const char *fmt_size(char *buf, size_t len, __u64 v)
{
	static const char letters[] = "BKMGTPE";
	unsigned int exp = 0;
	__u64 dec, frac;

	while (exp < 60 && v >= (1ULL << (exp + 10)))
		exp += 10;
	dec = v >> exp;
	frac = exp ? v & ((1ULL << exp) - 1) : 0;
	if (frac) {
		/* three decimal digits, without overflowing for exp = 60 */
		if (frac >= UINT64_MAX / 1000)
			frac = frac / 1024 * 1000 >> (exp - 10);
		else
			frac = frac * 1000 >> exp;
		frac = (frac + 50) / 100;
		if (frac == 10) {
			dec++;
			frac = 0;
		}
	}
	if (frac)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%c", (uint64_t)dec,
			 (uint64_t)frac, letters[exp / 10]);
	else
		snprintf(buf, len, "%" PRIu64 "%c", (uint64_t)dec, letters[exp / 10]);
	return buf;
}

const char *policy_name(__u32 policy)
{
	switch (policy) {
	case 0: return "other";
	case 1: return "fifo";
	case 2: return "rr";
	case 3: return "batch";
	case 5: return "idle";
	case 6: return "deadline";
	default: return "unknown";
	}
}

/* ------------------------------------------------------------ values */

void val_free(struct val *v)
{
	free(v->dyn);
	v->dyn = NULL;
}

void v_strn(struct val *v, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	v->dyn = xrealloc(v->dyn, n + 1);
	memcpy(v->dyn, s, n);
	v->dyn[n] = '\0';
	v->t = VT_STR;
	v->s = v->dyn;
}

void v_dev(struct val *v, __u32 maj, __u32 min)
{
	snprintf(v->buf, sizeof(v->buf), "%u:%u", maj, min);
	v_str(v, v->buf);
}

/* A cpu bitmap as a list, "0-3,8", however long (no truncation). */
void v_cpus(struct val *v, const __u64 *w, size_t nwords)
{
	size_t bits = nwords * 64, i, n = 0, cap = 64;
	char *s = xcalloc(1, cap);

	for (i = 0; i < bits; i++) {
		size_t j = i;

		if (!(w[i / 64] & (1ULL << (i % 64))))
			continue;
		while (j + 1 < bits && (w[(j + 1) / 64] & (1ULL << ((j + 1) % 64))))
			j++;
		if (n + 48 > cap)
			s = xrealloc(s, cap *= 2);
		if (j == i)
			n += snprintf(s + n, cap - n, "%s%zu", n ? "," : "", i);
		else
			n += snprintf(s + n, cap - n, "%s%zu-%zu", n ? "," : "", i, j);
		i = j;
	}
	free(v->dyn);
	v->dyn = s;
	v->t = VT_STR;
	v->s = s;
}

/*
 * Start time on the wall clock: the cut's realtime minus how long before
 * the cut (boottime) the task started. A later settimeofday() does not
 * move it, as in ps.
 */
void v_start(struct val *v, const struct snapdata *d, __u64 start_boottime_ns)
{
	__u64 before;

	if (!d->si.cut_realtime_ns || start_boottime_ns > d->si.cut_boottime_ns)
		return;
	before = d->si.cut_boottime_ns - start_boottime_ns;
	if (before > d->si.cut_realtime_ns)
		return;
	v->t = VT_TIME;
	v->u = d->si.cut_realtime_ns - before;
}

void v_flags_init(struct val *v)
{
	v->t = VT_FLAGS;
	v->buf[0] = '\0';
	v->s = v->buf;
}

void v_flags_add(struct val *v, const char *name)
{
	size_t have = strlen(v->s), add = strlen(name) + 1;

	if (v->s == v->buf && have + add < sizeof(v->buf)) {
		snprintf(v->buf + have, sizeof(v->buf) - have, "%s%s",
			 have ? "," : "", name);
		return;
	}
	if (v->s == v->buf) {
		v->dyn = xrealloc(v->dyn, have + 1);
		memcpy(v->dyn, v->buf, have + 1);
	}
	v->dyn = xrealloc(v->dyn, have + add + 1);
	snprintf(v->dyn + have, add + 1, "%s%s", have ? "," : "", name);
	v->s = v->dyn;
}

void v_bits(struct val *v, __u64 bits, const struct bitname *t, size_t n)
{
	size_t i;

	v_flags_init(v);
	for (i = 0; i < n; i++)
		if (bits & t[i].bit)
			v_flags_add(v, t[i].name);
}

/* START as ps prints it: HH:MM within a day, MonDD within a year, else YYYY */
static const char *fmt_start(char *buf, size_t len, __u64 ns)
{
	time_t t = (time_t)(ns / 1000000000ULL), now = time(NULL);
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return NULL;
	if (now - t < 24 * 3600)
		strftime(buf, len, "%H:%M", &tm);
	else if (now - t < 365 * 24 * 3600)
		strftime(buf, len, "%b%d", &tm);
	else
		strftime(buf, len, "%Y", &tm);
	return buf;
}

const char *val_text(struct val *v)
{
	char *b = v->buf;
	size_t n = sizeof(v->buf);

	switch (v->t) {
	case VT_NONE:
		return NULL;
	case VT_INT:
		snprintf(b, n, "%lld", v->i);
		return b;
	case VT_UINT:
		snprintf(b, n, "%" PRIu64, (uint64_t)v->u);
		return b;
	case VT_SIZE:
		if (opt.bytes) {
			snprintf(b, n, "%" PRIu64, (uint64_t)v->u);
			return b;
		}
		return fmt_size(b, n, v->u);
	case VT_SECS:
		snprintf(b, n, "%" PRIu64 ".%02" PRIu64,
			 (uint64_t)(v->u / 1000000000ULL),
			 (uint64_t)(v->u % 1000000000ULL / 10000000ULL));
		return b;
	case VT_TIME:
		return fmt_start(b, n, v->u);
	case VT_OCT:
		snprintf(b, n, "0%" PRIo64, (uint64_t)v->u);
		return b;
	case VT_HEX:
		snprintf(b, n, "0x%" PRIx64, (uint64_t)v->u);
		return b;
	case VT_BOOL:
		return v->u ? "1" : "0";
	case VT_STR:
	case VT_FLAGS:
		return v->s;
	}
	return NULL;
}

/* --sort order: not captured first, numbers by value, strings bytewise */
int val_cmp(const struct val *a, const struct val *b)
{
	if (a->t == VT_NONE || b->t == VT_NONE)
		return (a->t != VT_NONE) - (b->t != VT_NONE);
	switch (a->t) {
	case VT_INT:
		return (a->i > b->i) - (a->i < b->i);
	case VT_STR:
	case VT_FLAGS:
		return strcmp(a->s, b->s);
	default:
		return (a->u > b->u) - (a->u < b->u);
	}
}
