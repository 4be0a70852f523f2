#!/usr/bin/env bash
# The test suite, both halves: the Swift tests (release build: the convergence tests run every
# bundled scenario, the distributed tests start jobs with mpirun, the H5MD tests read
# trajectory.h5 with h5py), then the Python package's tests (pytest against the release build
# the Swift tests just made, the example notebook executed headless with nbclient).
# Installs the Python packages the tests need when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

pip_install() {
    # A Debian system Python refuses pip installs (PEP 668) unless told to.
    python3 -m pip install -q "$@" || {
        echo "pip refused (an externally managed Python?): retrying with --break-system-packages"
        python3 -m pip install -q --break-system-packages "$@"
    }
}
if ! python3 -c "import h5py, numpy, pandas, pytest, nbclient, nbformat, ipykernel" 2>/dev/null; then
    echo "installing: h5py numpy pandas pytest nbclient nbformat ipykernel (pip)"
    pip_install h5py numpy pandas pytest nbclient nbformat ipykernel
fi

swift test -c release

# The package as a user installs it (it finds this checkout's .build/release/wgf).
pip_install ./python
rm -rf python/build
# Against the build just tested, whatever wgf is on PATH.
WGF_BIN="$PWD/.build/release/wgf" python3 -m pytest -q python/tests

# The API reference: every library module's DocC builds without a warning and documents every
# public type.
scripts/check-docs.sh

# wgf as another package's dependency, fetched by version (no unsafe flags reach it): a kernel
# sum, a formula, a scenario run from examples/consumer.
scripts/test-consumer.sh
