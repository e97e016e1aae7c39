/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between pss_bench and pss_target: the churn statistics area. */
#ifndef PSS_BENCH_H
#define PSS_BENCH_H
#include <stdint.h>

#define CHURN_MAX_SAMPLES	(2u << 20)

/*
 * Lives in a memfd both processes map. The benchmark bumps cmd_gen to ask
 * for a reset; the churn thread clears the samples and sets ack_gen to it.
 * samples[] holds each mmap and each munmap latency (ns, saturated at 2^32-1)
 * in the order measured; nr_samples may exceed CHURN_MAX_SAMPLES (the rest
 * still count towards max_ns and sum_ns).
 */
struct churn_stats {
	uint32_t cmd_gen;
	uint32_t ack_gen;
	uint64_t nr_samples;
	uint64_t max_ns;
	uint64_t sum_ns;
	uint32_t samples[CHURN_MAX_SAMPLES];
};
#endif
