// SPDX-License-Identifier: GPL-2.0
/*
 * pss: register contexts of the parked threads (PSS_FACET_THREAD_CONTEXT).
 */
#include "pss.h"

int pss_context_build(struct pss_capture *c)
{
	return -EOPNOTSUPP;
}
