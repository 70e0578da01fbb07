# mflow: the two commands are `make run` and `make test`. Both install missing
# Debian packages first (scripts/deps.sh), then configure and build with CMake.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
COV_BUILD  ?= build-cov
# the generator's tests are Python, and examples.install links the (instrumented) installed
# library into programs built without gcov: neither says anything about C coverage
COV_CTEST_ARGS ?= -E "^(generator|examples)[.]"
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=
# The generator's tests are Python and build their own projects without the sanitizers: they
# prove the same under ASan as in `make test`, so the sanitizer pass leaves them out.
ASAN_CTEST_ARGS ?= -LE "^generator$$"

# ThreadSanitizer: the suites where threads meet - the Campaign Service (its engine, helper,
# syncer and client threads; units and end to end), the User Service, and the client's and the
# typed API's against mf-broker. libwebsockets is not instrumented (it runs on one thread).
TSAN_CTEST_ARGS ?= -R "^(campaign[.]|services[.]user[.]|e2e_test_(typed_api|api_batch)_broker$$|e2e_test_client_(pubsub|request|robust)_broker$$)"

FUZZ_SECONDS ?= 60

.PHONY: all deps build test asan test-asan tsan test-tsan run bench regen check-generated fuzz coverage clean help

all: build

help:
	@echo "make run        start mf-broker and the demo (installs packages, builds)"
	@echo "make test       build and run every test suite (ctest)"
	@echo "make test-asan  the same under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make test-tsan  the threaded suites under ThreadSanitizer (a race fails the test)"
	@echo "make bench      run the benchmarks and print ratios (see bench/RESULTS.md)"
	@echo "make fuzz       run every libFuzzer harness FUZZ_SECONDS (60) each (tests/fuzz/run.sh)"
	@echo "make coverage   build with gcov, run the tests, print line/branch coverage per file"
	@echo "make regen      regenerate generated/, docs/flow/ and tests/sdk/cases.json from asyncapi.yaml"

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

$(TSAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMF_SANITIZE_THREAD=ON

tsan: deps $(TSAN_BUILD)/CMakeCache.txt
	cmake --build $(TSAN_BUILD) -j $(JOBS)

# halt_on_error: a race ends the process, so that a test fails (services started by a test
# inherit the option and exit with the report in their log)
test-tsan: tsan
	cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -j $(JOBS) $(TSAN_CTEST_ARGS) $(CTEST_ARGS)

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
	generator/mfgen docs asyncapi.yaml -o docs/flow --sdk generated
	python3 tests/sdk/make_cases.py asyncapi.yaml tests/sdk/cases.json

check-generated:
	generator/mfgen asyncapi.yaml -o generated --check

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
