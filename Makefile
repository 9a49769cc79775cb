# SPDX-License-Identifier: GPL-2.0-only
#
# vmsr: top-level Makefile. The module's own build rules are in Kbuild.
#
#   make                  build vmsr.ko against KDIR
#   make check            every test: userspace, module builds, lint, VMs, packaging
#   make lint             checkpatch and sparse over the kernel code
#   make demo             vmsrstat on a small workload (in a VM if needed)
#
# Installing (README.md, "Install on a host"):
#   make install          libvmsr, vmsrstat, man pages and udev rule
#                         under $(DESTDIR)$(PREFIX), and
#                         the DKMS source tree in $(DESTDIR)/usr/src/vmsr-VERSION
#   make uninstall        removes them
#   make dkms-install     dkms add, build and install for KVER (default: the
#                         running kernel)
#   make dkms-remove      dkms remove for every kernel, and the source tree
#   make deb              Debian packages, in DEB_OUT (default: build/deb)
#
# VERSION is the one version of the project: the module's MODULE_VERSION, the
# library's, the DKMS package's and the Debian packages'.
#   make bench            vmsr against QEMU's method and clock_gettime (in a VM)

VERSION := $(shell cat VERSION)
KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
VMSR_FLAVOUR ?=
DKMS_SRC := /usr/src/vmsr-$(VERSION)
DEB_OUT ?= $(CURDIR)/build/deb

.PHONY: all help modules userspace clean check lint demo bench install uninstall \
	install-dkms-source dkms-install dkms-remove deb

all: modules userspace

help:
	@echo 'vmsr $(VERSION): make targets'
	@echo '  all (default)     vmsr.ko against KDIR, and userspace'
	@echo '  modules           vmsr.ko against KDIR (default: the running kernel)'
	@echo '  userspace         libvmsr, vmsrstat and the tools, in userspace/build'
	@echo '  demo              vmsrstat on a small workload (in a VM without /dev/vmsr)'
	@echo '  check             every test; installs what it needs (root, Debian 12)'
	@echo '  lint              checkpatch and sparse over the kernel code'
	@echo '  bench             vmsr against QEMU'"'"'s method and clock_gettime (in a VM)'
	@echo '  install           userspace and the DKMS source tree, under DESTDIR/PREFIX'
	@echo '  uninstall         undoes install'
	@echo '  dkms-install      dkms add, build and install for KVER'
	@echo '  dkms-remove       dkms remove for every kernel, and the source tree'
	@echo '  deb               the Debian packages, in DEB_OUT (default: build/deb)'
	@echo '  clean             removes build output'

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
		LD_LIBRARY_PATH=userspace/build userspace/build/vmsrstat -i 1 -n 5 -- \
			userspace/build/vmsr-burn 10 100 50 10 0; \
	else \
		./selftests/vm/demo.sh; \
	fi

install: install-dkms-source
	$(MAKE) -C userspace install

uninstall:
	$(MAKE) -C userspace uninstall
	rm -rf $(DESTDIR)$(DKMS_SRC)

# The module's sources, for DKMS, and dkms.conf with the version filled in
# (dkms.conf makes DKMS build the production flavour).
install-dkms-source:
	install -d $(DESTDIR)$(DKMS_SRC)/module $(DESTDIR)$(DKMS_SRC)/include \
		$(DESTDIR)$(DKMS_SRC)/uapi/linux
	install -m 0644 Kbuild VERSION $(DESTDIR)$(DKMS_SRC)/
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf >$(DESTDIR)$(DKMS_SRC)/dkms.conf
	install -m 0644 module/*.c module/*.h $(DESTDIR)$(DKMS_SRC)/module/
	install -m 0644 include/*.h $(DESTDIR)$(DKMS_SRC)/include/
	install -m 0644 uapi/linux/vmsr.h $(DESTDIR)$(DKMS_SRC)/uapi/linux/

dkms-install: install-dkms-source
	dkms add -m vmsr -v $(VERSION)
	dkms build -m vmsr -v $(VERSION) -k $(KVER)
	dkms install -m vmsr -v $(VERSION) -k $(KVER)

dkms-remove:
	dkms remove -m vmsr -v $(VERSION) --all
	rm -rf $(DKMS_SRC)

# A copy of the tree (what git would track), built with dpkg-buildpackage:
# the .debs land in DEB_OUT. debian/changelog must name VERSION.
deb:
	rm -rf $(DEB_OUT)/vmsr-$(VERSION)
	mkdir -p $(DEB_OUT)/vmsr-$(VERSION)
	@dpkg-parsechangelog -S Version | grep -qxF '$(VERSION)' || \
		{ echo 'debian/changelog does not name VERSION $(VERSION): add an entry (dch -v)' >&2; exit 1; }
	rsync -a --exclude=.git --filter=':- .gitignore' ./ $(DEB_OUT)/vmsr-$(VERSION)/
	cd $(DEB_OUT)/vmsr-$(VERSION) && dpkg-buildpackage -us -uc
# Always in the benchmark VM: Debian's kernel under TCG, as in docs/benchmark.md.
bench:
	./selftests/vm/bench.sh
