/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether this kernel keeps soft-dirty bits (CONFIG_MEM_SOFT_DIRTY), which
 * PSS_MEMORY_PRECOPY needs: a page just written has bit 55 set in
 * /proc/self/pagemap.
 */
#ifndef PSS_SOFTDIRTY_H
#define PSS_SOFTDIRTY_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

static inline bool pss_soft_dirty_kept(void)
{
	static char page[1 << 16] __attribute__((aligned(1 << 16)));
	uint64_t ent = 0;
	int fd;

	*(volatile char *)page = 1;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (pread(fd, &ent, sizeof(ent),
		  (uintptr_t)page / sysconf(_SC_PAGESIZE) * 8) != sizeof(ent))
		ent = 0;
	close(fd);
	return ent >> 55 & 1;
}

#endif
