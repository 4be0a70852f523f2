#!/usr/bin/env bash
# libFuzzer targets for the input readers: scenario (TOML + validation), formula, csv.
#
#   scripts/fuzz.sh build                 build .build/fuzz/fuzz-{scenario,formula,csv}
#   scripts/fuzz.sh run TARGET SECONDS    fuzz one target from its seed corpus
#   scripts/fuzz.sh all SECONDS           build, then fuzz every target SECONDS each
#
# Not part of the test command (`swift test` runs the seeded mutation tests in Tests/FuzzTests
# instead). SwiftPM cannot link a libFuzzer entry point into a package product, so the modules
# are compiled here directly with swiftc, instrumented (-sanitize=fuzzer) and with
# AddressSanitizer, at -O with bounds checks on (the release build's -Ounchecked would turn an
# out-of-bounds access into silent corruption instead of a report). The targets share
# Tests/FuzzTests/Harness.swift with the mutation tests. A crash leaves its input in
# .build/fuzz/crashes/; replay it with `.build/fuzz/fuzz-TARGET FILE`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/fuzz
modules=(InputText Formula KernelSum Flows Recording Scenarios Plotting)
targets=(scenario formula csv)
flags=(-O -sanitize=fuzzer,address -parse-as-library -I "$out" -I Sources/CFFTW)

build() {
    mkdir -p "$out"
    for m in "${modules[@]}"; do
        echo "compiling $m"
        # shellcheck disable=SC2046
        swiftc "${flags[@]}" -wmo -module-name "$m" -emit-module -emit-module-path "$out/$m.swiftmodule" \
            -c $(find "Sources/$m" -name '*.swift' | sort) -o "$out/$m.o"
    done
    local objects=()
    for m in "${modules[@]}"; do objects+=("$out/$m.o"); done
    for t in "${targets[@]}"; do
        echo "linking fuzz-$t"
        swiftc "${flags[@]}" -module-name FuzzTarget Tests/FuzzTests/Harness.swift Tests/FuzzTests/Mutator.swift \
            "scripts/fuzz/$t.swift" "${objects[@]}" -o "$out/fuzz-$t" \
            -Xlinker -lfftw3 -Xlinker -lfftw3_threads
    done
}

# Seed corpus: the bundled scenarios, their formulas, and small CSV files.
corpus() {
    local t=$1 dir="$out/corpus-$1"
    mkdir -p "$dir"
    case $t in
    scenario) cp scenarios/*.toml "$dir/" ;;
    formula)
        grep -hoE '(formula|log-density|potential) = "[^"]*"' scenarios/*.toml | sed -E 's/^[^"]*"(formula:)?//; s/"$//' \
            | awk -v d="$dir" '{ f = d "/f" NR; printf "%s", $0 > f; close(f) }'
        printf '%s' '(x1^2 - 1)^2 + 0.5*x2^2' > "$dir/doc1"
        printf '%s' 'min(x1, x2, a) + max(dot(x, y), norm(x - 2*x))' > "$dir/doc2" ;;
    csv)
        printf 'x1,x2\n0.5,1\n-1,2.5e-3\n' > "$dir/points"
        printf 'x1,w,x2\r\n1,0.25,2\r\n3,0.75,4' > "$dir/weights"
        printf 'step,time,wall,mmd\n0,0,0.01,1.5\n10,0.5,0.02,nan\n' > "$dir/metrics"
        printf 'step,time,population,particle,weight,x1,x2\n0,0,a,0,1,0.5,1\n5,0.25,a,0,1,0.4,1\n' > "$dir/trajectory" ;;
    esac
    echo "$dir"
}

run() {
    local t=$1 seconds=$2
    mkdir -p "$out/crashes"
    "$out/fuzz-$t" "$(corpus "$t")" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
        -artifact_prefix="$out/crashes/$t-" -print_final_stats=1
}

case "${1:-}" in
build) build ;;
run) run "$2" "$3" ;;
all) build; for t in "${targets[@]}"; do run "$t" "$2"; done ;;
*) sed -n '2,8p' "$0"; exit 64 ;;
esac
