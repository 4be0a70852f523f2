#!/bin/bash
# scripts/two-sample-calibration.sh [SEEDS] [SLOW_SEEDS]: the level and power of the two-sample
# metric's tests (TwoSampleTest), through the release test build (swift build -c release
# --build-tests first). Prints, per method, the rejection rate at α = 0.05 (p < α) over SEEDS
# (default 200) seeds of exact samples — N(0, I₂) against N(0, I₂) — at n = 200 (permutation)
# or 1024 (ctt) and 4096 per side, and the power on a mean shift of 0.2 and 0.1 along e₁ at
# n = 4096 per side, with the seconds per test on 2 threads. The permutation test at n = 4096
# per side (pooled 8192, the cap) takes about 2 s a test: it runs SLOW_SEEDS (default 40) seeds
# for its level and half as many for each power. docs/performance.md quotes the output.
cd "$(dirname "$0")/.." || exit 1
WGF_TWO_SAMPLE_CALIBRATION=1 WGF_TWO_SAMPLE_SEEDS=${1:-200} WGF_TWO_SAMPLE_SLOW_SEEDS=${2:-40} \
    swift test -c release --skip-build --filter FlowsTests.TwoSampleCalibration/testReport 2>&1 |
    grep -E "rejection rate|error|failed"
