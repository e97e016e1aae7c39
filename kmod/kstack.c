// SPDX-License-Identifier: GPL-2.0
/*
 * pss: kernel stacks of the threads (PSS_FACET_THREAD_KSTACK).
 */
#include "pss.h"

int pss_kstack_build(struct pss_capture *c)
{
	return -EOPNOTSUPP;
}
