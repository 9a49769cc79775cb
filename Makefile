# SPDX-License-Identifier: GPL-2.0-only
#
# vmsr: top-level Makefile. The module's own build rules are in Kbuild.
#
#   make                  build vmsr.ko against KDIR
#   make check            every test: userspace, module builds, lint, VMs
#   make lint             checkpatch and sparse over the kernel code
#   make demo             vmsrstat on a small workload (in a VM if needed)

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
VMSR_FLAVOUR ?=

.PHONY: all modules clean check lint

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) VMSR_FLAVOUR=$(VMSR_FLAVOUR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true

check:
	./selftests/check.sh

lint:
	./selftests/lint.sh
