// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A binary built against libpss 0.1 binds pss_capture@LIBPSS_0.1, where an
 * opts struct with .dev_fd 0 meant "open /dev/pss yourself"; it must keep
 * that meaning, while pss_capture@@LIBPSS_0.2 uses fd 0. Run on the host
 * (make -C lib check-abi): with fd 0 on /dev/null, 0.2 must fail with
 * ENOTTY (it used fd 0) and 0.1 must not (it opened /dev/pss, or found
 * none: ENOENT without the module).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libpss.h>

int capture_as_0_1(const struct pss_capture_opts *opts, struct pss_snapshot **snap);
__asm__(".symver capture_as_0_1, pss_capture@LIBPSS_0.1");

int main(void)
{
	struct pss_capture_opts o;
	struct pss_snapshot *s = NULL;
	int nul = open("/dev/null", O_RDONLY), r01, r02;

	if (nul < 0 || dup2(nul, 0) < 0)
		return 2;
	memset(&o, 0, sizeof(o));	/* what 0.1's PSS_OPTS() produced */
	o.sz = sizeof(o);
	r01 = capture_as_0_1(&o, &s);
	if (!r01)
		pss_snapshot_free(s);
	r02 = pss_capture(&o, &s);
	if (!r02)
		pss_snapshot_free(s);
	if (r01 == -ENOTTY || r02 != -ENOTTY) {
		fprintf(stderr, "compat_0_1: pss_capture@LIBPSS_0.1 %d, @@LIBPSS_0.2 %d\n",
			r01, r02);
		return 1;
	}
	printf("compat_0_1: ok (0.1: %s, 0.2: %s)\n", r01 ? strerror(-r01) : "captured",
	       strerror(-r02));
	return 0;
}
