#!/usr/bin/env bash
# Install everything the qslm-nova test suite needs on a fresh Debian
# machine and run the whole suite (unit, functional in-process Nova, and
# the real-QEMU testbed tests), then the end-to-end scenarios of
# tests/realcloud in a real cloud started from scratch
# (tools/cloud/run-tests; stopped at the end whatever happens).
#
#   tools/run-tests.sh [stestr filter...]
#
# With a filter, or with QSLM_REALCLOUD=0, the real cloud is left out.
#
# System packages (QEMU, OpenSSH, iproute2) are installed with apt-get when
# missing (needs root); Python packages go into .venv, pinned by
# upper-constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="qemu-system-x86 openssh-server openssh-client openssl iproute2 gcc binutils make shellcheck libvirt-daemon-system libvirt-clients libvirt-dev pkg-config python3-dev util-linux mount"
missing=""
for pkg in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: missing system packages:$missing (run as root or install them)" >&2
        exit 2
    fi
    echo "Installing system packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/pip install -q -U pip >/dev/null
.venv/bin/pip install -q -c upper-constraints.txt \
    -r requirements.txt -r test-requirements.txt -e .

export OS_NOVA_DISABLE_EVENTLET_PATCHING=true
# One seed for every fuzz property of this run (tests/fuzz): printed so
# that a failure can be repeated with QSLM_FUZZ_SEED=<seed>.
export QSLM_FUZZ_SEED=${QSLM_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "fuzz seed: QSLM_FUZZ_SEED=${QSLM_FUZZ_SEED}"
# No test may hang the run: oslotest and Nova's fixtures fail a test
# that runs longer than this many seconds.
export OS_TEST_TIMEOUT=${OS_TEST_TIMEOUT:-300}
.venv/bin/flake8

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# -a: test output may hold any byte (a fuzzed request logged, for one);
# grep would call the log binary and print no line.
count() { grep -aE "^ - $1: [0-9]+" "$log" | tail -n 1 | awk '{print $3}'; }
passed=0; failed=0; skipped=0; rc=0
# add_counts NAME: add the counts of the run whose output is in $log.
add_counts() {
    local p f s
    p=$(count Passed); f=$(count Failed); s=$(count Skipped)
    if [ -z "$p" ]; then
        echo "error: the $1 test run did not report results" >&2
        rc=1
        return
    fi
    passed=$((passed + p)); failed=$((failed + ${f:-0}))
    skipped=$((skipped + ${s:-0}))
}

set +e
.venv/bin/stestr --test-path ./tests run --concurrency "${TEST_CONCURRENCY:-2}" \
    --exclude-regex '^tests\.realcloud\.' "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
add_counts main
if [ $# -eq 0 ] && [ "${QSLM_REALCLOUD:-1}" != 0 ]; then
    set +e
    tools/cloud/run-tests 2>&1 | tee "$log"
    cloud_rc=${PIPESTATUS[0]}
    set -e
    add_counts "real cloud"
    if [ "$cloud_rc" -ne 0 ]; then
        rc=$cloud_rc
    fi
fi
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$rc"
