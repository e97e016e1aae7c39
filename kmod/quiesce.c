// SPDX-License-Identifier: GPL-2.0
/*
 * pss: park the target's threads for the thread-state facets.
 */
#include "pss.h"

struct pss_quiesce *pss_quiesce_start(struct task_struct *leader,
				      u32 timeout_ms, u64 *phase_ns)
{
	return NULL;
}

void pss_quiesce_settle(struct pss_capture *c)
{
}

void pss_quiesce_release(struct pss_quiesce *q, struct pss_perf_info *perf)
{
}

void pss_quiesce_end(struct pss_quiesce *q)
{
}
