# Benchmark targets, included by the top-level Makefile. See bench/bench.py.
#
#   make bench         every benchmark, 12+ runs each -> bench/results.md and README.md's
#                      performance block (BENCH_ARGS=--build also times make binary-local;
#                      BENCH_ARGS="--baseline OLD/injector" measures an older build beside
#                      dist/injector, e.g. main's, for issue 15's "no slower" check)
#   make bench-quick   the same with 3 runs each, a smoke run -> build/bench/quick/results.md
#   make bench-scan    `injector scan` figures -> bench/scan.md (dist/injector, test images)
#   make bench-agent   the host agent's figures -> bench/agent.md (also part of make bench)
#
# Uses dist/injector (and dist/injector-linux-arm64, emulated, when present) as it is (build it first: make binary-local), a moto server and our
# latency proxy on 127.0.0.1, Docker for the container rows, and creates build/bench-venv
# (the AWS CLI v1) on first use.

BENCH_ARGS ?=

.PHONY: bench bench-quick bench-scan bench-agent

# With dist/injector-linux-arm64 present, qemu-aarch64 is registered for the run (section 4b).
BENCH_EMULATION = $(if $(wildcard dist/injector-linux-arm64),packaging/qemu-binfmt.sh arm64 run)

bench: $(STAMP) e2e-images
	$(BENCH_EMULATION) $(PY) bench/bench.py $(BENCH_ARGS)
	$(PY) bench/agent.py

# The host agent's figures alone -> bench/agent.md (needs dist/injector and the test images).
bench-agent: $(STAMP) e2e-images
	$(PY) bench/agent.py

bench-quick: $(STAMP)
	$(BENCH_EMULATION) $(PY) bench/bench.py --quick $(BENCH_ARGS)

bench-scan: $(STAMP)
	$(PY) bench/scan_bench.py --binary dist/injector --side-by-side busybox,alpine,debian
