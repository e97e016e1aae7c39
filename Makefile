# SPDX-License-Identifier: GPL-2.0
# pss: atomic process snapshots for Linux.
#
#   make demo      set up, build, boot a guest, snapshot real processes
#   make check     set up, static checks, every test on every kernel
#   make           libpss, pss and pss.ko for the running kernel (KDIR=...)
#   make run KERNEL=612 TESTS="dev_test"    some tests on one kernel
#   make shell KERNEL=debug                  a shell in a guest
#   make bench     pss vs procfs/PROCMAP_QUERY in 6.12 + 6.1 guests -> bench/results.md
#   make install   module, libpss, pss, man pages (PREFIX, DESTDIR, KDIR)
#   make rig       module (for KERNEL) + libpss + selftests for the test rig
#   make deb       Debian packages pss-dkms, libpss0, libpss-dev, pss -> build/deb/
#
# KERNEL is one of 61 (Debian 6.1), 612 (Debian 6.12), debug and debug61 (our
# KASAN/lockdep 6.12 and 6.1). The module is never loaded into this machine's
# kernel: only guests.
# This Makefile drives; Kbuild builds pss.ko.

KERNEL ?= 612
KERNELS ?= 61 612 debug debug61
TESTS ?=
SETUP := scripts/setup.sh

# Plain make needs no apt, no root and no test rig.
all: lib tool kmod

rig: setup module lib selftests tool

kmod:
	@bash scripts/kmod-build.sh >/dev/null

help:
	@sed -n '2,16s/^# \{0,1\}//p' Makefile

setup:
	@bash $(SETUP)

module: setup
	@bash scripts/build-module.sh $(KERNEL) >/dev/null

modules: setup
	@for k in $(KERNELS); do bash scripts/build-module.sh $$k >/dev/null || exit 1; done

lib:
	@$(MAKE) -s -C lib

selftests: lib
	@$(MAKE) -s -C selftests

tool: lib
	@$(MAKE) -s -C tools/pss

install: lib tool
	@bash scripts/install.sh

dkms-check: setup
	@bash scripts/dkms-check.sh

install-check: setup
	@bash scripts/install-check.sh

deb:
	@bash scripts/deb.sh

deb-check: setup
	@bash scripts/deb-check.sh

# What make check needs beyond the guests for the install side: a staged
# install as a user, the Debian packages, bench/report.py on broken logs.
dist-check: setup
	@python3 bench/test_report.py
	@bash scripts/install-check.sh
	@bash scripts/deb-check.sh

run: setup lib selftests
	@bash scripts/guest-run.sh $(KERNEL) test $(TESTS)

shell: setup lib selftests
	@bash scripts/guest-run.sh $(KERNEL) shell

check:
	@bash scripts/check.sh $(KERNELS)

demo: setup lib selftests tool
	@bash scripts/demo.sh $(KERNEL)

bench: setup lib
	@bash scripts/bench.sh

clean:
	rm -rf build
	$(MAKE) -s -C lib clean
	$(MAKE) -s -C selftests clean
	$(MAKE) -s -C tools/pss clean
	$(MAKE) -s -C bench clean

.PHONY: dist-check deb deb-check install-check all rig kmod help setup module modules lib selftests tool install dkms-check run shell check \
	demo bench clean
