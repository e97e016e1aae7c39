# SPDX-License-Identifier: GPL-2.0
# The one version number of pss: the module (dkms.conf, Debian packages),
# libpss (libpss.pc, LIBPSS_*_VERSION, pss_library_version()), the pss tool
# and the man pages all take it from here.
PSS_VERSION_MAJOR := 0
PSS_VERSION_MINOR := 4
PSS_VERSION_PATCH := 0
PSS_VERSION := $(PSS_VERSION_MAJOR).$(PSS_VERSION_MINOR).$(PSS_VERSION_PATCH)
