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

/*
 * The thread-state stall probe (pss_target -k FD), also in a memfd both map.
 * Each of the target's threads ticks: a sleeper wakes every period_ns on an
 * absolute clock and keeps how late it woke; a spinner keeps the gap between
 * its consecutive timestamps. A thread stopped or parked for S wakes up to S
 * late, or sees a gap of S: that is the hiccup the target itself measures.
 * The benchmark bumps cmd_gen to start a window; each thread clears its slot
 * and copies cmd_gen to its ack_gen at its next tick, and counts from then.
 * proc_max_ns is the longest time no thread of the process took a timestamp
 * (the benchmark clears it), proc_last_ns the latest timestamp of any thread.
 */
struct tick_slot {
	uint32_t ack_gen;
	uint32_t spinner;
	uint64_t max_ns;	/* worst lateness (sleeper) or gap (spinner) */
	uint64_t ticks;
	uint64_t pad[5];	/* a cache line each */
};

struct tick_area {
	uint32_t cmd_gen;
	uint32_t nr_threads;	/* slots in use, set by the target */
	uint64_t period_ns;
	uint64_t proc_last_ns;
	uint64_t proc_max_ns;
	uint64_t pad[4];
	struct tick_slot slot[];
};
#endif
