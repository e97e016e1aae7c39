/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * <pss/libpss_native.h>: <libpss.h> for a file that also includes
 * <pss/processsnapshot.h>. Three walk classes have the same names in both
 * APIs and different values (Windows: PSS_WALK_VA_SPACE 1, PSS_WALK_HANDLES
 * 2, PSS_WALK_THREADS 3); here libpss's are spelled PSS_NATIVE_WALK_THREADS,
 * PSS_NATIVE_WALK_HANDLES and PSS_NATIVE_WALK_VA_SPACE. Include this before
 * <pss/processsnapshot.h>.
 */
#ifndef PSS_LIBPSS_NATIVE_H
#define PSS_LIBPSS_NATIVE_H

#ifdef PSS_PROCESSSNAPSHOT_H
#error "include <pss/libpss_native.h> before <pss/processsnapshot.h>"
#endif

#define PSS_WALK_THREADS	PSS_NATIVE_WALK_THREADS
#define PSS_WALK_HANDLES	PSS_NATIVE_WALK_HANDLES
#define PSS_WALK_VA_SPACE	PSS_NATIVE_WALK_VA_SPACE
#include "../libpss.h"
#undef PSS_WALK_THREADS
#undef PSS_WALK_HANDLES
#undef PSS_WALK_VA_SPACE

#endif /* PSS_LIBPSS_NATIVE_H */
