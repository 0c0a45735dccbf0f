# Container tests (issue 4). Included by the top-level Makefile; uses its PYTEST and STAMP.
#
#   make container-tests   the `container` matrix (tests/e2e, marker container) on the
#                          offline images, incl. the docker-compose test; needs dist/injector
#   make e2e-compose       docker-compose.test.yml with locally built images (no registry)
#   make e2e-images        start Docker if needed and build the offline test images (cached)

E2E_IMAGES_DIR := tests/e2e/images
E2E_COMPOSE_PROJECT ?= injector-e2e
E2E_COMPOSE := docker-compose -f docker-compose.test.yml -p $(E2E_COMPOSE_PROJECT)
E2E_BINARY ?= $(abspath dist/injector)
E2E_WORKERS ?= 3

.PHONY: e2e-images e2e-moto-image container-tests e2e-compose

e2e-images:
	bash $(E2E_IMAGES_DIR)/ensure-docker.sh
	bash $(E2E_IMAGES_DIR)/build-images.sh

e2e-moto-image: e2e-images $(STAMP)
	bash tests/e2e/compose/build-moto-image.sh

container-tests: $(STAMP) e2e-images
	$(PYTEST) tests/e2e -m "container and not emulated" -q -n $(E2E_WORKERS)

e2e-compose: e2e-moto-image
	@test -x $(E2E_BINARY) || { echo "$(E2E_BINARY) is missing: run make binary (or binary-local)" >&2; exit 1; }
	export INJECTOR_BINARY=$(E2E_BINARY) \
	    MOTO_IMAGE=$$(bash tests/e2e/compose/build-moto-image.sh) \
	    ALPINE_IMAGE=injector-test/alpine:latest BUSYBOX_IMAGE=injector-test/busybox:latest; \
	$(E2E_COMPOSE) up --exit-code-from app; rc=$$?; \
	$(E2E_COMPOSE) down -v --remove-orphans; exit $$rc
