# Packaging targets, included by the top-level Makefile. See packaging/README.md.
#
#   make binary          dist/injector through the build container (reproducible path)
#   make binary-local    dist/injector on the host, with .venv (development)
#   make base-image      the build container's base from Debian packages (no registry needed)
#   make build-image     the build container itself (packaging/Dockerfile)
#   make repro-check     two clean container builds must give the same sha256
#   make dist            dist/injector, dist/injector.sha256 and dist/install.sh
#   make install-host    MACHINE=default: onto a docker-machine VM; without docker-machine,
#                        into $(DESTDIR)$(PREFIX)/bin
#   make lock            regenerate packaging/requirements-build.txt (hash-pinned)
#   make binary-tests    tests/e2e marker `binary` against dist/injector (fails if missing;
#                        INJECTOR_ALLOW_NO_BINARY=1 skips instead)
#
# Inputs: BASE_IMAGE (default: the offline base, built on demand; BASE_IMAGE=public uses
# the Dockerfile's digest-pinned debian:bookworm-slim), EXTRA_CA_BUNDLE (a PEM file pip in
# the build container trusts besides Debian's CAs; default: this machine's pip `cert`
# setting), BUILD_PIP_INDEX_URL / BUILD_PIP_EXTRA_INDEX_URL (the index for the pinned
# Python build dependencies), DIST_BASE_URL (written into dist/install.sh as its default).

DOCKER ?= docker
OFFLINE_BASE_IMAGE ?= injector-base:bookworm
BASE_IMAGE ?= $(OFFLINE_BASE_IMAGE)
BUILD_IMAGE ?= injector-build:local
BUILD_PIP_INDEX_URL ?= https://pypi.org/simple
BUILD_PIP_EXTRA_INDEX_URL ?=
EXTRA_CA_BUNDLE ?= $(or $(PIP_CERT),$(shell $(if $(wildcard .venv/bin/pip),.venv/bin/pip,pip3) config get global.cert 2>/dev/null))
BINARY_OUT ?= dist/injector
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

.PHONY: staticx-venv binary binary-local base-image build-image repro-check repro-check-local dist \
	dist-installer install-host lock binary-tests

base-image:
	packaging/base-image.sh $(OFFLINE_BASE_IMAGE)

# The offline base is built only when it is missing (debootstrap takes a minute).
build-image:
	@if [ "$(PKG_BASE)" = "$(OFFLINE_BASE_IMAGE)" ] && \
	    ! $(DOCKER) image inspect $(OFFLINE_BASE_IMAGE) >/dev/null 2>&1; then \
		echo "packaging: $(OFFLINE_BASE_IMAGE) missing; building it (make base-image)"; \
		packaging/base-image.sh $(OFFLINE_BASE_IMAGE); \
	fi
	rm -rf build/docker-context && mkdir -p build/docker-context
	cp packaging/requirements-build.txt build/docker-context/
	cp -R packaging/staticx build/docker-context/staticx
	rm -rf build/docker-context/staticx/tests
	@if [ -n "$(EXTRA_CA_BUNDLE)" ]; then \
		echo "packaging: extra CA bundle for pip: $(EXTRA_CA_BUNDLE)"; \
		cp "$(EXTRA_CA_BUNDLE)" build/docker-context/build-ca.pem; \
	else : >build/docker-context/build-ca.pem; fi
	$(DOCKER) build -q -f packaging/Dockerfile -t $(BUILD_IMAGE) \
		--build-arg BASE_IMAGE=$(PKG_BASE) \
		--build-arg PIP_INDEX_URL=$(BUILD_PIP_INDEX_URL) \
		--build-arg PIP_EXTRA_INDEX_URL=$(BUILD_PIP_EXTRA_INDEX_URL) \
		build/docker-context

# The build itself runs without network: everything it needs is in the image.
binary: build-image
	mkdir -p $(dir $(BINARY_OUT))
	$(DOCKER) run --rm --network none --user $$(id -u):$$(id -g) -e HOME=/tmp \
		-v "$(CURDIR):/src" -w /src \
		-e SOURCE_DATE_EPOCH=$(PKG_EPOCH) -e INJECTOR_COMMIT=$(PKG_COMMIT) \
		-e INJECTOR_TREE=$(PKG_TREE) -e INJECTOR_BASE_IMAGE=$(PKG_BASE) \
		$(BUILD_IMAGE) packaging/build.sh $(BINARY_OUT)

# The patched staticx (packaging/staticx) in .venv: binary-local and the bootloader tests use it.
staticx-venv: $(STAMP)
	@.venv/bin/staticx --version 2>&1 | grep -q '+injector.4' || packaging/staticx/build.sh .venv

binary-local: staticx-venv
	@.venv/bin/python -c "import elftools" 2>/dev/null || .venv/bin/pip install -q --disable-pip-version-check pyelftools==0.33
	PYTHON=.venv/bin/python packaging/build.sh $(BINARY_OUT)

# Two clean builds from the same commit; different sha256 = a reproducibility bug.
repro-check:
	rm -rf build/repro && mkdir -p build/repro
	$(MAKE) --no-print-directory binary BINARY_OUT=build/repro/first/injector
	$(MAKE) --no-print-directory binary BINARY_OUT=build/repro/second/injector
	@packaging/repro-compare.sh build/repro/first/injector build/repro/second/injector

repro-check-local:
	rm -rf build/repro && mkdir -p build/repro
	$(MAKE) --no-print-directory binary-local BINARY_OUT=build/repro/first/injector
	$(MAKE) --no-print-directory binary-local BINARY_OUT=build/repro/second/injector
	@packaging/repro-compare.sh build/repro/first/injector build/repro/second/injector

dist: binary
	$(MAKE) --no-print-directory dist-installer

# dist/install.sh carries the sha256 of this very dist/injector.
dist-installer:
	@test -f dist/injector -a -f dist/injector.sha256 || \
		{ echo "dist/injector is missing: make binary (or binary-local) first" >&2; exit 1; }
	cd dist && sha256sum -c --quiet injector.sha256
	sed -e "s|@SHA256@|$$(cut -d' ' -f1 dist/injector.sha256)|" \
		-e "s|@VERSION@|$$(dist/injector version | sed -n 's/^injector //p;s/^commit: //p' | tr '\n' ' ' | sed 's/ $$//')|" \
		-e "s|@BASE_URL@|$(DIST_BASE_URL)|" packaging/install.sh >dist/install.sh.tmp.$$$$ && \
	chmod 0755 dist/install.sh.tmp.$$$$ && mv -f dist/install.sh.tmp.$$$$ dist/install.sh

install-host:
	@test -f dist/injector || { echo "dist/injector is missing: make binary first" >&2; exit 1; }
	@set -eu; sha=$$(sha256sum dist/injector | cut -d' ' -f1); dest='$(INSTALL_HOST_PATH)'; \
	if command -v docker-machine >/dev/null 2>&1; then \
		echo "install-host: dist/injector -> $(MACHINE):$$dest (sha256 $$sha)"; \
		docker-machine ssh $(MACHINE) "sudo tee $$dest.new >/dev/null" <dist/injector; \
		docker-machine ssh $(MACHINE) "sudo chmod 0755 $$dest.new && \
			if echo '$$sha  $$dest.new' | sha256sum -c - >/dev/null; \
			then sudo mv -f $$dest.new $$dest; \
			else sudo rm -f $$dest.new; echo 'sha256 mismatch on $(MACHINE)' >&2; exit 1; fi"; \
		echo "install-host: verified sha256 on $(MACHINE)"; \
	else \
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
	$(PYTEST) tests/e2e -m binary -q -n 2
