#!/usr/bin/env bash
# examples.install: the "consume the installed SDK" story, end to end.
#
#   1. cmake --install <build> --prefix <tmp>/prefix          (the documented install)
#   2. checks of the installed packages: the CMake package and mf-sdk.pc both point into
#      the prefix; `pkg-config --cflags --libs mf-sdk` alone is enough to link
#   2b. only the public headers (runtime/include/mf) are installed, each compiles on its own
#   3. builds examples/ against the prefix twice: with CMake (find_package(mf-sdk),
#      CMAKE_PREFIX_PATH) and with examples/Makefile (pkg-config), warnings as errors; and
#      generated/ itself, which finds the installed runtime and links it as mf::runtime
#   4. runs both programs: --help (exit 0), a bad option (exit 2), no server (exit 1),
#      --invalid (exit 1, the JSON pointer printed), and against a real mf-broker on a free
#      loopback port: the campaign is published, the user-info request reports
#      "no responders" (exit 0), and a campaign.status update published with the installed
#      mfctl is received and decoded
#      (and under valgrind when not built with sanitizers: no leaks, no errors)
# A check that cannot run (valgrind missing, a program not built) fails the test; with
# MF_ALLOW_SKIP=1 it is skipped instead and the test exits 77 (ctest: skipped) unless a
# check failed.
#   5. <prefix>/bin/mf-validate --list and a validation from the prefix
# Everything lives in one temporary directory, removed on exit; the broker is stopped.
#
# Environment (set by tests/examples/CMakeLists.txt):
#   MF_BUILD_DIR MF_SOURCE_DIR MF_BROKER MF_SANITIZE(ON|OFF) MF_CC MF_CMAKE MF_PYTHON MF_MAKE
set -u
: "${MF_BUILD_DIR:?}" "${MF_SOURCE_DIR:?}" "${MF_BROKER:?}"
MF_SANITIZE=${MF_SANITIZE:-OFF}
MF_CC=${MF_CC:-cc}
MF_CMAKE=${MF_CMAKE:-cmake}
MF_PYTHON=${MF_PYTHON:-python3}
MF_MAKE=${MF_MAKE:-make}
STEP_TIMEOUT=40 # seconds for one build/install step; the whole test is bounded by ctest's TIMEOUT

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mflow-install-test.XXXXXX") || exit 1
PREFIX=$TMP/prefix
BROKER_PID=
cleanup() {
    if [ -n "$BROKER_PID" ]; then
        kill "$BROKER_PID" 2>/dev/null
        wait "$BROKER_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

FAILS=0
SKIPS=0
pass() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
cannot_run() {
    if [ "${MF_ALLOW_SKIP:-}" = 1 ]; then
        echo "skip - $* (MF_ALLOW_SKIP=1)"
        SKIPS=$((SKIPS + 1))
    else
        fail "cannot run: $* (set MF_ALLOW_SKIP=1 to report it as skipped instead)"
    fi
}
die() { echo "FAIL - $*"; exit 1; }
# run LOG CMD...: run a step with a time limit, its output in LOG (shown on failure).
run() {
    local log=$1
    shift
    if ! timeout "$STEP_TIMEOUT" "$@" >"$log" 2>&1; then
        sed 's/^/    | /' "$log" | tail -40
        return 1
    fi
}

SAN_FLAGS=
if [ "$MF_SANITIZE" = ON ]; then
    SAN_FLAGS="-fsanitize=address,undefined"
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
echo "# build $MF_BUILD_DIR, sanitizers $MF_SANITIZE, temp $TMP"

# ---- 1. install ---------------------------------------------------------------------------
run "$TMP/install.log" "$MF_CMAKE" --install "$MF_BUILD_DIR" --prefix "$PREFIX" ||
    die "cmake --install $MF_BUILD_DIR --prefix $PREFIX (is the build complete?)"
pass "cmake --install --prefix <tmp>/prefix"

# ---- 2. the installed packages ------------------------------------------------------------
PC=$(find "$PREFIX" -name mf-sdk.pc -path '*/pkgconfig/*' | head -1)
[ -n "$PC" ] || die "no mf-sdk.pc under the prefix"
PCDIR=$(dirname "$PC")
LIBDIR=$(dirname "$PCDIR")
for f in "$PREFIX/include/mf_sdk/sdk.h" "$PREFIX/include/mf/client.h" "$LIBDIR/libmf-sdk.a" \
    "$LIBDIR/libmflow-runtime.a" "$PCDIR/mflow-runtime.pc" "$LIBDIR/cmake/mf-sdk/mf-sdk-config.cmake" \
    "$LIBDIR/cmake/mflow-runtime/mflow-runtime-config.cmake" "$PREFIX/bin/mf-validate"; do
    [ -e "$f" ] || fail "installed: ${f#"$PREFIX"/} is missing"
done
grep -q 'INTERFACE_LINK_LIBRARIES "mf::runtime"' "$LIBDIR/cmake/mf-sdk/mf-sdk-targets.cmake" &&
    grep -q 'add_library(mf::runtime ' "$LIBDIR"/cmake/mflow-runtime/*Targets.cmake &&
    pass "CMake packages: mf::sdk -> mf::runtime" ||
    fail "CMake packages: mf::sdk should link the exported target mf::runtime"

# Only the API a user includes is installed (runtime/include/mf); the headers shared inside the
# repository (runtime/internal/mf: the NATS protocol, WebSocket, subject trie) are not, and each
# installed header compiles on its own from the prefix (it includes nothing that is not there).
for h in "$MF_SOURCE_DIR"/runtime/internal/mf/*.h; do
    [ -e "$PREFIX/include/mf/${h##*/}" ] && fail "installed: the internal header mf/${h##*/}"
done
for h in "$PREFIX"/include/mf/*.h; do
    if [ ! -e "$MF_SOURCE_DIR/runtime/include/mf/${h##*/}" ]; then
        fail "installed: mf/${h##*/} is not a public header of runtime/include/mf"
    elif ! "$MF_CC" -std=c11 -fsyntax-only -Wall -Werror -I"$PREFIX/include" $(pkg-config --cflags libcjson) \
        -x c "$h" >"$TMP/header.log" 2>&1; then
        fail "installed: mf/${h##*/} does not compile on its own from the prefix"
        sed 's/^/    | /' "$TMP/header.log" | tail -10
    fi
done
pass "installed headers: the public ones only ($(ls "$PREFIX/include/mf" | tr '\n' ' '))"

export PKG_CONFIG_PATH=$PCDIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
# Every .pc must point into the prefix it was installed to (cmake --install --prefix): the
# include and library directories it names must hold the installed files.
pc_points_into_prefix() { # MODULE HEADER LIBRARY
    local d ok_i=0 ok_l=0
    for d in $(pkg-config --cflags-only-I "$1" | tr ' ' '\n' | sed -n 's/^-I//p'); do
        [ "$d/$2" -ef "$PREFIX/include/$2" ] && ok_i=1
    done
    for d in $(pkg-config --libs-only-L "$1" | tr ' ' '\n' | sed -n 's/^-L//p'); do
        [ "$d/$3" -ef "$LIBDIR/$3" ] && ok_l=1
    done
    if [ $ok_i = 1 ] && [ $ok_l = 1 ]; then
        pass "$1.pc points into the install prefix"
    else
        fail "$1.pc does not point into the install prefix: $(pkg-config --cflags --libs-only-L "$1")" \
            "(prefix=$(pkg-config --variable=prefix "$1"); expected $PREFIX: make the .pc relocatable)"
    fi
}
pc_points_into_prefix mflow-runtime mf/client.h libmflow-runtime.a
pc_points_into_prefix mf-sdk mf_sdk/sdk.h libmf-sdk.a
# Static libraries only: the runtime's dependencies must come with a plain --libs.
LIBS=$(pkg-config --libs mf-sdk)
for l in -lmf-sdk -lmflow-runtime -lcjson -lwebsockets -lm; do
    case " $LIBS " in
    *" $l "*) ;;
    *) fail "pkg-config --libs mf-sdk lacks $l (got: $LIBS)" ;;
    esac
done

# ---- 3. build examples/ against the prefix -------------------------------------------------
WFLAGS="-Wall -Wextra -Wpedantic -Werror"
if run "$TMP/cmake.log" "$MF_CMAKE" -S "$MF_SOURCE_DIR/examples" -B "$TMP/build-cmake" \
    -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_C_COMPILER="$MF_CC" -DMF_SANITIZE="$MF_SANITIZE" \
    -DCMAKE_C_FLAGS="$WFLAGS" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF &&
    run "$TMP/cmake-build.log" "$MF_CMAKE" --build "$TMP/build-cmake"; then
    found=$(sed -n 's/^mf-sdk_DIR:[A-Z]*=//p' "$TMP/build-cmake/CMakeCache.txt")
    if [ "$found" -ef "$LIBDIR/cmake/mf-sdk" ]; then
        pass "examples built with CMake (find_package(mf-sdk) from the prefix)"
    else
        fail "find_package(mf-sdk) used $found, not the prefix"
    fi
else
    fail "examples: CMake configure/build against the prefix"
fi
# The generated project itself (generated/, a standalone CMake project) against the installed
# runtime: find_package(mflow-runtime) from the prefix and a link through mf::runtime, the one
# name the runtime exports (CMake refuses an unknown name with "::"); its validate tool runs.
if run "$TMP/sdk.log" "$MF_CMAKE" -S "$MF_SOURCE_DIR/generated" -B "$TMP/build-sdk" \
    -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_C_COMPILER="$MF_CC" -DMF_SDK_INSTALL=OFF \
    -DCMAKE_C_FLAGS="$SAN_FLAGS" -DCMAKE_EXE_LINKER_FLAGS="$SAN_FLAGS" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF &&
    run "$TMP/sdk-build.log" "$MF_CMAKE" --build "$TMP/build-sdk"; then
    found=$(sed -n 's/^mflow-runtime_DIR:[A-Z]*=//p' "$TMP/build-sdk/CMakeCache.txt")
    if [ "$found" -ef "$LIBDIR/cmake/mflow-runtime" ] &&
        grep -q 'target_link_libraries(mf_sdk PUBLIC mf::runtime)' "$MF_SOURCE_DIR/generated/CMakeLists.txt"; then
        pass "generated/ built against the installed runtime, linked through mf::runtime"
    else
        fail "generated/: find_package(mflow-runtime) used ${found:-nothing}, not the prefix, or its link is not mf::runtime"
    fi
    if timeout 30 "$TMP/build-sdk/mf-validate" --list >"$TMP/sdk-validate.out" 2>&1 &&
        grep -q "^CampaignCreate " "$TMP/sdk-validate.out"; then
        pass "generated/: its mf-validate --list runs"
    else
        fail "generated/: mf-validate --list"
        sed 's/^/    | /' "$TMP/sdk-validate.out" | tail -10
    fi
else
    fail "generated/: CMake configure/build against the installed runtime"
fi
mkdir -p "$TMP/build-make"
if run "$TMP/make.log" "$MF_MAKE" -C "$TMP/build-make" -f "$MF_SOURCE_DIR/examples/Makefile" \
    CC="$MF_CC" CFLAGS="-O1 -g $WFLAGS" SANITIZE="$SAN_FLAGS"; then
    pass "examples built with the Makefile (pkg-config --cflags --libs mf-sdk)"
else
    fail "examples: Makefile build against the prefix"
fi

# ---- 4. run them ---------------------------------------------------------------------------
# expect NAME WANT_RC PATTERNS CMD...: run CMD (time-limited), check its exit status and that
# its output (stdout + stderr) matches each extended regex of PATTERNS (one per line).
expect() {
    local name=$1 want=$2 pats=$3 rc ok p
    shift 3
    timeout 30 "$@" >"$TMP/out" 2>&1
    rc=$?
    ok=1
    while IFS= read -r p; do
        [ -z "$p" ] || grep -Eq -- "$p" "$TMP/out" || ok=0
    done <<<"$pats"
    if [ "$rc" = "$want" ] && [ $ok = 1 ]; then
        pass "$name"
    else
        fail "$name: exit $rc (want $want), output should match: ${pats//$'\n'/ and }"
        sed 's/^/    | /' "$TMP/out" | tail -30
    fi
}

free_port() { "$MF_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_broker() {
    local try i
    for try in 1 2 3; do
        PORT=$(free_port) || return 1
        "$MF_BROKER" --host 127.0.0.1 --port "$PORT" --quiet >"$TMP/broker.log" 2>&1 &
        BROKER_PID=$!
        for i in $(seq 100); do
            grep -qs "listening" "$TMP/broker.log" && return 0
            kill -0 "$BROKER_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill "$BROKER_PID" 2>/dev/null
        wait "$BROKER_PID" 2>/dev/null
        BROKER_PID=
    done
    cat "$TMP/broker.log"
    return 1
}
start_broker || die "mf-broker did not start ($MF_BROKER)"
URL=ws://127.0.0.1:$PORT
DEAD=ws://127.0.0.1:$(free_port) # nothing listens there
echo "# mf-broker on $URL"

STATUS_JSON=$MF_SOURCE_DIR/generated/examples/CampaignStatusUpdate.full.json
for kind in cmake make; do
    bin=$TMP/build-$kind/campaign_client
    if [ ! -x "$bin" ]; then
        fail "$kind: no campaign_client was built, its checks cannot run"
        continue
    fi
    expect "$kind: --help" 0 '^usage: campaign_client' "$bin" --help
    expect "$kind: bad option" 2 "unexpected argument '--bogus'" "$bin" --bogus
    expect "$kind: bad number" 2 "--timeout needs a valid number" "$bin" --timeout x
    expect "$kind: no server" 1 "cannot connect to $DEAD" "$bin" --timeout 500 "$DEAD"
    expect "$kind: --invalid names the field" 1 "invalid campaign: /schedule/recurring/interval:" \
        "$bin" --invalid "$URL"
    expect "$kind: publish, no responders" 0 \
        $'^published campaign [0-9a-f-]+ on campaign.create$\n^executed campaign [0-9a-f-]+: execution [0-9a-f-]{36} requested on campaign.execute$\n^user-info [0-9a-f-]+: no responders' \
        "$bin" "$URL"
    expect "$kind: invalid user id" 1 "user-info request: format at /user_id" "$bin" --user-id nope "$URL"
done

# campaign.status: the client (CMake build) waits for one update, which the installed mfctl
# publishes once the client is subscribed (it prints "user-info" after subscribing).
bin=$TMP/build-cmake/campaign_client
if [ -x "$bin" ] && [ -x "$PREFIX/bin/mfctl" ]; then
    timeout 30 "$bin" --listen 15000 --count 1 "$URL" >"$TMP/status.out" 2>&1 &
    cpid=$!
    for i in $(seq 200); do
        grep -qs "^user-info" "$TMP/status.out" && break
        kill -0 "$cpid" 2>/dev/null || break
        sleep 0.05
    done
    run "$TMP/mfctl.log" "$PREFIX/bin/mfctl" --server "$URL" pub campaign.status "$STATUS_JSON" ||
        fail "mfctl pub campaign.status"
    wait "$cpid"
    rc=$?
    if [ $rc = 0 ] && grep -q "^campaign.status: campaign 7c9e6679-7425-40de-944b-e07fc1f90ae7 execution .* is failed (31000/48250 sent, 1250 failed)" "$TMP/status.out"; then
        pass "campaign.status update received and decoded"
    else
        fail "campaign.status: exit $rc:"
        sed 's/^/    | /' "$TMP/status.out"
    fi
else
    fail "campaign.status: no CMake-built client or no installed mfctl ($PREFIX/bin/mfctl)"
fi

# Memory: the sanitizer build checks leaks with LSan above; otherwise valgrind (scripts/deps.sh
# installs it).
bin=$TMP/build-cmake/campaign_client
if [ "$MF_SANITIZE" = ON ]; then
    : # checked by LSan in every run above
elif ! command -v valgrind >/dev/null; then
    cannot_run "valgrind is not installed: the memory checks of campaign_client (apt-get install valgrind)"
elif [ ! -x "$bin" ]; then
    fail "valgrind: no CMake-built campaign_client"
else
    expect "valgrind: publish, no responders" 0 "no responders" \
        valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        "$bin" --timeout 5000 "$URL"
    expect "valgrind: --invalid" 1 "/schedule/recurring/interval" \
        valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        "$bin" --timeout 5000 --invalid "$URL"
fi

# ---- 5. tools from the prefix --------------------------------------------------------------
expect "mf-validate --list" 0 "^CampaignCreate " "$PREFIX/bin/mf-validate" --list
expect "mf-validate CampaignStatusUpdate" 0 "" "$PREFIX/bin/mf-validate" CampaignStatusUpdate "$STATUS_JSON"

if [ $FAILS -ne 0 ]; then
    echo "# $FAILS check(s) failed"
    exit 1
fi
if [ $SKIPS -ne 0 ]; then
    echo "# $SKIPS check(s) skipped, the others passed: exit 77"
    exit 77
fi
echo "# all checks passed"
