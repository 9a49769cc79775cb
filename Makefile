# SPDX-License-Identifier: GPL-2.0-only
#
# vmsr: top-level Makefile. The module's own build rules are in Kbuild.
#
#   make                  build vmsr.ko against KDIR
#   make check            every test: userspace, module builds, lint, VMs
#   make lint             checkpatch and sparse over the kernel code
#   make demo             vmsrstat on a small workload (in a VM if needed)
#   make bench            vmsr against QEMU's method and clock_gettime (in a VM)

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
VMSR_FLAVOUR ?=

.PHONY: all modules userspace clean check lint demo bench

all: modules userspace

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) VMSR_FLAVOUR=$(VMSR_FLAVOUR) modules

userspace:
	$(MAKE) -C userspace

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	$(MAKE) -C userspace clean

check:
	./selftests/check.sh

lint:
	./selftests/lint.sh

# On a host with /dev/vmsr, run vmsrstat directly; elsewhere, in a TCG VM.
demo:
	@if [ -c /dev/vmsr ]; then \
		$(MAKE) -s -C userspace && \
		userspace/build/vmsrstat -i 1 -n 5 -- userspace/build/vmsr-burn 10 100 50 10 0; \
	else \
		./selftests/vm/demo.sh; \
	fi

# Always in the benchmark VM: Debian's kernel under TCG, as the table in README.
bench:
	./selftests/vm/bench.sh
