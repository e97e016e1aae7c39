// SPDX-License-Identifier: GPL-2.0
/*
 * pss: memory contents (PSS_FACET_MEMORY), copied while the threads are
 * parked.
 */
#include "pss.h"

int pss_memory_build(struct pss_capture *c)
{
	return -EOPNOTSUPP;
}
