# Packaging targets, included by the top-level Makefile. See packaging/README.md.
#
#   make binary          dist/injector through the build container (reproducible path)
#   make binary-arm64    dist/injector-linux-arm64 the same way, emulated (qemu-user-static)
#   make binary-local    dist/injector on the host, with .venv (development)
#   make base-image      the build container's base from Debian packages (no registry needed)
#   make build-image     the build container itself (packaging/Dockerfile)
#   make repro-check     two clean container builds must give the same sha256
#                        (repro-check-arm64: the same for the emulated arm64 build)
#   make dist            dist/injector (this machine's architecture), dist/injector-linux-amd64
#                        and -arm64 with a .sha256 each, and dist/install.sh
#   make install-host    MACHINE=default: onto a docker-machine VM; without docker-machine,
#                        into $(DESTDIR)$(PREFIX)/bin
#   make lock            regenerate packaging/requirements-build.txt (hash-pinned)
#   make binary-tests    tests/e2e marker `binary` against dist/injector (fails if missing;
#                        INJECTOR_ALLOW_NO_BINARY=1 skips instead)
#   make binary-tests-arm64  the `emulated` subset: dist/injector-linux-arm64 under qemu, from
#                        the host and as PID 1 of an arm64 busybox container
#
# Inputs: BASE_IMAGE (default: the offline base, built on demand; BASE_IMAGE=public uses
# the Dockerfile's digest-pinned debian:bookworm-slim), EXTRA_CA_BUNDLE (a PEM file pip in
# the build container trusts besides Debian's CAs; default: this machine's pip `cert`
# setting), BUILD_PIP_INDEX_URL / BUILD_PIP_EXTRA_INDEX_URL (the index for the pinned
# Python build dependencies; default: this machine's pip configuration, else pip's own
# default), DEBIAN_MIRROR (default: this machine's apt sources), DIST_BASE_URL (written into
# dist/install.sh as its default). packaging/host-sources.sh reads the machine's settings.
# The arm64 build: BUILD_IMAGE_ARM64, OFFLINE_BASE_IMAGE_ARM64, BASE_IMAGE_ARM64.

DOCKER ?= docker
OFFLINE_BASE_IMAGE ?= injector-base:bookworm
BASE_IMAGE ?= $(OFFLINE_BASE_IMAGE)
BUILD_IMAGE ?= injector-build:local
BUILD_PIP_INDEX_URL ?= $(shell packaging/host-sources.sh pip-index)
BUILD_PIP_EXTRA_INDEX_URL ?= $(shell packaging/host-sources.sh pip-extra-index)
DEBIAN_MIRROR ?= $(shell packaging/host-sources.sh debian-mirror bookworm $(BINARY_ARCH))
EXTRA_CA_BUNDLE ?= $(or $(PIP_CERT),$(shell $(if $(wildcard .venv/bin/pip),.venv/bin/pip,pip3) config get global.cert 2>/dev/null))
BINARY_OUT ?= dist/injector
# Debian architecture names. BINARY_ARCH is the one `make binary` builds (the host's unless
# a sub-make of binary-arm64 sets it); the other one is built emulated.
HOST_ARCH := $(shell dpkg --print-architecture 2>/dev/null || \
	uname -m | sed 's/^x86_64$$/amd64/;s/^aarch64$$/arm64/')
BINARY_ARCH ?= $(HOST_ARCH)
DIST_ARCHES := amd64 arm64
OFFLINE_BASE_IMAGE_ARM64 ?= injector-base:bookworm-arm64
BASE_IMAGE_ARM64 ?= $(OFFLINE_BASE_IMAGE_ARM64)
BUILD_IMAGE_ARM64 ?= injector-build:local-arm64
DIST_BASE_URL ?=
MACHINE ?= default
INSTALL_HOST_PATH ?= /sbin/injector
PREFIX ?= /usr/local
DESTDIR ?=

PKG_COMMIT = $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
PKG_EPOCH = $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
PKG_TREE = $(shell if ! git rev-parse --git-dir >/dev/null 2>&1; then echo unknown; \
	elif [ -z "$$(git status --porcelain --untracked-files=no)" ]; then echo clean; \
	else echo modified; fi)
PKG_VERSION = $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' injector/__init__.py)
PUBLIC_BASE_IMAGE = $(shell sed -n 's/^ARG BASE_IMAGE=//p' packaging/Dockerfile)
PKG_BASE = $(if $(filter public,$(BASE_IMAGE)),$(PUBLIC_BASE_IMAGE),$(BASE_IMAGE))

.PHONY: staticx-venv pyi-bootloader-venv binary binary-local base-image build-image repro-check repro-check-local dist \
	dist-installer install-host lock binary-tests binary-arm64 repro-check-arm64 binary-tests-arm64

base-image:
	ARCH=$(BINARY_ARCH) DEBIAN_MIRROR=$(DEBIAN_MIRROR) packaging/base-image.sh $(OFFLINE_BASE_IMAGE)

# The offline base is built only when it is missing (debootstrap takes a minute).
build-image:
	@if [ "$(PKG_BASE)" = "$(OFFLINE_BASE_IMAGE)" ] && \
	    ! $(DOCKER) image inspect $(OFFLINE_BASE_IMAGE) >/dev/null 2>&1; then \
		echo "packaging: $(OFFLINE_BASE_IMAGE) missing; building it (make base-image)"; \
		ARCH=$(BINARY_ARCH) DEBIAN_MIRROR=$(DEBIAN_MIRROR) \
			packaging/base-image.sh $(OFFLINE_BASE_IMAGE); \
	fi
	rm -rf build/docker-context-$(BINARY_ARCH) && mkdir -p build/docker-context-$(BINARY_ARCH)
	cp packaging/requirements-build.txt build/docker-context-$(BINARY_ARCH)/
	BUILD_PIP_INDEX_URL="$(BUILD_PIP_INDEX_URL)" BUILD_PIP_EXTRA_INDEX_URL="$(BUILD_PIP_EXTRA_INDEX_URL)" \
		packaging/fetch-build-deps.sh build/docker-context-$(BINARY_ARCH)/wheels \
		$(if $(filter arm64,$(BINARY_ARCH)),aarch64,x86_64)
	cp -R packaging/staticx build/docker-context-$(BINARY_ARCH)/staticx
	rm -rf build/docker-context-$(BINARY_ARCH)/staticx/tests
	cp -R packaging/pyinstaller build/docker-context-$(BINARY_ARCH)/pyinstaller
	@if [ -n "$(EXTRA_CA_BUNDLE)" ]; then \
		echo "packaging: extra CA bundle for pip: $(EXTRA_CA_BUNDLE)"; \
		cp "$(EXTRA_CA_BUNDLE)" build/docker-context-$(BINARY_ARCH)/build-ca.pem; \
	else : >build/docker-context-$(BINARY_ARCH)/build-ca.pem; fi
	$(DOCKER) build -q -f packaging/Dockerfile -t $(BUILD_IMAGE) \
		--build-arg BASE_IMAGE=$(PKG_BASE) \
		--build-arg BUILD_PIP_INDEX_URL="$(BUILD_PIP_INDEX_URL)" \
		--build-arg BUILD_PIP_EXTRA_INDEX_URL="$(BUILD_PIP_EXTRA_INDEX_URL)" \
		--build-arg DEBIAN_MIRROR="$(DEBIAN_MIRROR)" \
		build/docker-context-$(BINARY_ARCH)

# The build itself runs without network: everything it needs is in the image.
binary: build-image
	mkdir -p $(dir $(BINARY_OUT))
	$(DOCKER) run --rm --network none --user $$(id -u):$$(id -g) -e HOME=/tmp \
		-v "$(CURDIR):/src" -w /src \
		-e SOURCE_DATE_EPOCH=$(PKG_EPOCH) -e INJECTOR_COMMIT=$(PKG_COMMIT) \
		-e INJECTOR_TREE=$(PKG_TREE) -e INJECTOR_BASE_IMAGE=$(PKG_BASE) \
		$(BUILD_IMAGE) packaging/build.sh $(BINARY_OUT)

# The same build for arm64, in an arm64 build container (its own base and image tags) whose
# every process runs under qemu-user-static: packaging/qemu-binfmt.sh registers qemu-aarch64
# for the duration of the build and removes the registration again if it added it.
ARM64_MAKE = packaging/qemu-binfmt.sh arm64 run $(MAKE) --no-print-directory BINARY_ARCH=arm64 \
	OFFLINE_BASE_IMAGE=$(OFFLINE_BASE_IMAGE_ARM64) BASE_IMAGE=$(BASE_IMAGE_ARM64) \
	BUILD_IMAGE=$(BUILD_IMAGE_ARM64)

binary-arm64:
	$(ARM64_MAKE) binary BINARY_OUT=$(or $(BINARY_OUT_ARM64),dist/injector-linux-arm64)

# The patched staticx (packaging/staticx) in .venv: binary-local and the bootloader tests use it.
staticx-venv: $(STAMP)
	@.venv/bin/staticx --version 2>&1 | grep -q '+injector.9' || packaging/staticx/build.sh .venv

# PyInstaller's bootloader with Python linked in (packaging/pyinstaller), over .venv's stock one.
pyi-bootloader-venv: $(STAMP)
	@grep -q 'injector: linked-python bootloader, onedir in place' \
		"$$(.venv/bin/python -c 'import os, PyInstaller as p; print(os.path.join(os.path.dirname(p.__file__), "bootloader", p.PLATFORM, "run"))')" \
		|| packaging/pyinstaller/build-bootloader.sh .venv

binary-local: staticx-venv pyi-bootloader-venv
	@.venv/bin/python -c "import elftools" 2>/dev/null || .venv/bin/pip install -q --disable-pip-version-check pyelftools==0.33
	PYTHON=.venv/bin/python packaging/build.sh $(BINARY_OUT)

# Two clean builds from the same commit; different sha256 = a reproducibility bug.
repro-check:
	rm -rf build/repro && mkdir -p build/repro
	$(MAKE) --no-print-directory binary BINARY_OUT=build/repro/first/injector
	$(MAKE) --no-print-directory binary BINARY_OUT=build/repro/second/injector
	@packaging/repro-compare.sh build/repro/first/injector build/repro/second/injector

# Two clean emulated builds (~2 x the arm64 build time; CI runs one arm64 build only).
repro-check-arm64:
	rm -rf build/repro-arm64 && mkdir -p build/repro-arm64
	$(MAKE) --no-print-directory binary-arm64 BINARY_OUT_ARM64=build/repro-arm64/first/injector
	$(MAKE) --no-print-directory binary-arm64 BINARY_OUT_ARM64=build/repro-arm64/second/injector
	@packaging/repro-compare.sh build/repro-arm64/first/injector build/repro-arm64/second/injector

repro-check-local:
	rm -rf build/repro && mkdir -p build/repro
	$(MAKE) --no-print-directory binary-local BINARY_OUT=build/repro/first/injector
	$(MAKE) --no-print-directory binary-local BINARY_OUT=build/repro/second/injector
	@packaging/repro-compare.sh build/repro/first/injector build/repro/second/injector

# The host's architecture natively (dist/injector), the others emulated; every file of
# dist/ named injector-linux-ARCH, with its .sha256.
DIST_EMULATED = $(filter-out $(HOST_ARCH),$(DIST_ARCHES))

dist: binary
	@for a in $(DIST_EMULATED); do \
		[ "$$a" = arm64 ] || { echo "dist: no emulated build for $$a on $(HOST_ARCH)" >&2; exit 1; }; \
		$(MAKE) --no-print-directory binary-$$a || exit 1; \
	done
	$(MAKE) --no-print-directory dist-installer

# dist/injector-linux-HOST is a copy of dist/injector; dist/install.sh carries the sha256 of
# every dist/injector-linux-ARCH there is (an architecture without one is refused by it).
dist-installer:
	@test -f dist/injector -a -f dist/injector.sha256 || \
		{ echo "dist/injector is missing: make binary (or binary-local) first" >&2; exit 1; }
	cd dist && sha256sum -c --quiet injector.sha256
	cp -f dist/injector dist/injector-linux-$(HOST_ARCH).tmp
	mv -f dist/injector-linux-$(HOST_ARCH).tmp dist/injector-linux-$(HOST_ARCH)
	sed 's/ injector$$/ injector-linux-$(HOST_ARCH)/' dist/injector.sha256 >dist/injector-linux-$(HOST_ARCH).sha256
	@set -eu; subst=; for a in $(DIST_ARCHES); do \
		f=injector-linux-$$a; sha=none; \
		if [ -f dist/$$f ] && [ -f dist/$$f.sha256 ]; then \
			(cd dist && sha256sum -c --quiet $$f.sha256); sha=$$(cut -d' ' -f1 dist/$$f.sha256); \
		else echo "dist-installer: warning: no dist/$$f; install.sh will refuse $$a" >&2; fi; \
		A=$$(echo $$a | tr a-z A-Z); subst="$$subst -e s|@SHA256_$$A@|$$sha|"; \
	done; \
	sed $$subst \
		-e "s|@VERSION@|$$(dist/injector version | sed -n 's/^injector //p;s/^commit: //p' | tr '\n' ' ' | sed 's/ $$//')|" \
		-e "s|@BASE_URL@|$(DIST_BASE_URL)|" packaging/install.sh >dist/install.sh.tmp.$$$$ && \
	chmod 0755 dist/install.sh.tmp.$$$$ && mv -f dist/install.sh.tmp.$$$$ dist/install.sh

# The remote's `uname -m` picks the binary: dist/injector when it is this machine's
# architecture, else dist/injector-linux-ARCH (make dist).
install-host:
	@test -f dist/injector || { echo "dist/injector is missing: make binary first" >&2; exit 1; }
	@set -eu; dest='$(INSTALL_HOST_PATH)'; \
	if command -v docker-machine >/dev/null 2>&1; then \
		machine=$$(docker-machine ssh $(MACHINE) uname -m </dev/null | tr -d '\r'); \
		case $$machine in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; \
			*) echo "install-host: $(MACHINE) is $$machine: no binary for it" >&2; exit 1 ;; esac; \
		src=dist/injector-linux-$$arch; [ $$arch != $(HOST_ARCH) ] || src=dist/injector; \
		test -f $$src || { echo "$$src is missing ($(MACHINE) is $$machine): make dist" >&2; exit 1; }; \
		sha=$$(sha256sum $$src | cut -d' ' -f1); \
		echo "install-host: $$src -> $(MACHINE):$$dest ($$machine, sha256 $$sha)"; \
		docker-machine ssh $(MACHINE) "sudo tee $$dest.new >/dev/null" <$$src; \
		docker-machine ssh $(MACHINE) "sudo chmod 0755 $$dest.new && \
			if echo '$$sha  $$dest.new' | sha256sum -c - >/dev/null; \
			then sudo mv -f $$dest.new $$dest; \
			else sudo rm -f $$dest.new; echo 'sha256 mismatch on $(MACHINE)' >&2; exit 1; fi"; \
		echo "install-host: verified sha256 on $(MACHINE)"; \
	else \
		sha=$$(sha256sum dist/injector | cut -d' ' -f1); \
		dest='$(DESTDIR)$(PREFIX)/bin/injector'; \
		echo "install-host: no docker-machine; installing $$dest"; \
		mkdir -p "$$(dirname "$$dest")"; \
		cp dist/injector "$$dest.new" && chmod 0755 "$$dest.new"; \
		if [ "$$(sha256sum "$$dest.new" | cut -d' ' -f1)" = "$$sha" ]; \
		then mv -f "$$dest.new" "$$dest"; \
		else rm -f "$$dest.new"; echo "sha256 mismatch" >&2; exit 1; fi; \
	fi

lock:
	packaging/lock.sh

binary-tests: staticx-venv
	$(PYTEST) tests/e2e -m "binary and not emulated" -q -n 2

# The arm64 subset under emulation: the `arm64` tests of the binary tier against
# dist/injector-linux-arm64 and the busybox-arm64 container smoke test (tests/e2e/test_arm64.py).
binary-tests-arm64: $(STAMP)
	packaging/qemu-binfmt.sh arm64 run $(PYTEST) tests/e2e -m emulated -q -n 2
