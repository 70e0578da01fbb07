# mflow: the two commands are `make run` and `make test`. Both install missing
# Debian packages first (scripts/deps.sh), then configure and build with CMake.
BUILD      ?= build
ASAN_BUILD ?= build-asan
COV_BUILD  ?= build-cov
# the generator's tests are Python, and examples.install links the (instrumented) installed
# library into programs built without gcov: neither says anything about C coverage
COV_CTEST_ARGS ?= -E "^(generator|examples)[.]"
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=
# The generator's tests are Python and build their own projects without the sanitizers: they
# prove the same under ASan as in `make test`, so the sanitizer pass leaves them out.
ASAN_CTEST_ARGS ?= -LE "^generator$$"

FUZZ_SECONDS ?= 60

.PHONY: all deps build test asan test-asan run bench regen check-generated fuzz coverage clean help

all: build

help:
	@echo "make run        start mf-broker and the demo (installs packages, builds)"
	@echo "make test       build and run every test suite (ctest)"
	@echo "make test-asan  the same under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make bench      run the benchmarks and print ratios (see bench/RESULTS.md)"
	@echo "make fuzz       run every libFuzzer harness FUZZ_SECONDS (60) each (tests/fuzz/run.sh)"
	@echo "make coverage   build with gcov, run the tests, print line/branch coverage per file"
	@echo "make regen      regenerate generated/ and tests/sdk/cases.json from asyncapi.yaml"

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMF_SANITIZE=ON

asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

test-asan: asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) $(ASAN_CTEST_ARGS) $(CTEST_ARGS)

run: build
	scripts/run.sh $(BUILD)

bench: build
	scripts/bench.sh $(BUILD)

fuzz: deps
	tests/fuzz/run.sh all $(FUZZ_SECONDS)

# Coverage: a gcov build (-O0; -fprofile-update=atomic because the client is
# multi-threaded), the whole test suite, then gcovr: line and branch coverage per file
# of runtime/ and tools/, and the totals. COVERAGE_HTML=1 also writes
# $(COV_BUILD)/coverage/index.html.
$(COV_BUILD)/CMakeCache.txt:
	cmake -S . -B $(COV_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_C_FLAGS="--coverage -O0 -fprofile-update=atomic" -DCMAKE_EXE_LINKER_FLAGS=--coverage

coverage: deps $(COV_BUILD)/CMakeCache.txt
	cmake --build $(COV_BUILD) -j $(JOBS)
	find $(COV_BUILD) -name '*.gcda' -delete
	cd $(COV_BUILD) && ctest -j $(JOBS) $(COV_CTEST_ARGS) $(CTEST_ARGS) > ctest.log 2>&1; rc=$$?; tail -3 ctest.log; \
	  if [ $$rc -ne 0 ]; then echo "coverage: some tests failed (see $(COV_BUILD)/ctest.log); the figures below miss them"; fi
	scripts/coverage.sh $(COV_BUILD)

regen:
	generator/mfgen asyncapi.yaml -o generated
	python3 tests/sdk/make_cases.py asyncapi.yaml tests/sdk/cases.json

check-generated:
	generator/mfgen asyncapi.yaml -o generated --check

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
