/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The pss kernel ABI as libpss installs it: <libpss/pss.h> is a copy of
 * the kernel's <linux/pss.h> (uapi/linux/pss.h here), installed under
 * libpss/ so it can never collide with linux-libc-dev's <linux/...>, as
 * liburing installs <liburing/io_uring.h>. Both share one include guard,
 * so a program may include either or both.
 *
 * In the source tree this file only forwards to the one copy.
 */
#include "../../../uapi/linux/pss.h"
