#!/usr/bin/env bash
# The API reference builds without a warning (compiler or DocC: a broken symbol link, an
# undocumented parameter) and documents every public type of every library module:
# swift-docc-plugin's `generate-documentation` with its coverage summary. The archives land
# in .build/plugins/Swift-DocC/outputs/MODULE.doccarchive.
set -euo pipefail
cd "$(dirname "$0")/.."
modules=(KernelSum Flows Scenarios Recording Plotting Sweeps Communication MPICommunication Formula InputText)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for m in "${modules[@]}"; do
    if ! swift package generate-documentation --target "$m" \
        --experimental-documentation-coverage --coverage-summary-level brief > "$log" 2>&1; then
        cat "$log"
        echo "docs: $m: generate-documentation failed"
        exit 1
    fi
    if grep -q "warning:" "$log"; then
        grep -A6 "warning:" "$log"
        echo "docs: $m: warnings (above)"
        status=1
    fi
    types=$(grep -E '^Types' "$log" | awk -F'|' '{gsub(/ /, "", $2); print $2}')
    case "$types" in
        100%*) echo "docs: $m: every public type documented ($types), no warnings" ;;
        *) echo "docs: $m: public types with no documentation: $types"; status=1 ;;
    esac
done
exit $status
