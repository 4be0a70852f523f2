#!/usr/bin/env bash
# wgf as another package's dependency, fetched as SwiftPM fetches a published package: this
# checkout's files (tracked and new, not ignored) committed into a scratch git repository
# tagged 1.0.0, and examples/consumer depending on it by that version (`exact: "1.0.0"`).
# SwiftPM refuses a versioned dependency whose targets carry unsafe flags (tools version
# < 6.2), so the build itself checks that a dependent gets none; the verbose log is checked
# too (no -target-cpu, no -Ounchecked). Then the consumer runs: a kernel sum against a double
# loop, a formula's gradient, a scenario in-process (it exits 1 on any mismatch). Release
# build: the speed flags are release-only, so only a release build could show them.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d "${TMPDIR:-/tmp}/wgf-consumer.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

mkdir "$scratch/wgf"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    # A tracked file deleted in the working tree is left out (and must not end the loop in error).
    if [ -e "$f" ]; then printf '%s\0' "$f"; fi
done | tar --null -T - -cf - | tar -xf - -C "$scratch/wgf"
(
    cd "$scratch/wgf"
    git init -q
    git add -A
    git -c user.name=wgf -c user.email=wgf@localhost commit -qm "wgf for the consumer test"
    git tag 1.0.0
)

cp -R examples/consumer "$scratch/consumer"
rm -rf "$scratch/consumer/.build"
sed -i "s|.package(name: \"wgf\", path: \"../..\")|.package(url: \"file://$scratch/wgf\", exact: \"1.0.0\")|" \
    "$scratch/consumer/Package.swift"
grep -q "exact: \"1.0.0\"" "$scratch/consumer/Package.swift" || { echo "consumer: dependency line not rewritten"; exit 1; }

cd "$scratch/consumer"
echo "== consumer: building against wgf 1.0.0 (a versioned dependency)"
if ! swift build -c release -v > build.log 2>&1; then
    tail -30 build.log
    echo "consumer: the build failed (unsafe flags in a versioned dependency are refused: see above)"
    exit 1
fi
if grep -E -e '-target-cpu|-Ounchecked' build.log | grep -q '/checkouts/wgf/'; then
    grep -E -e '-target-cpu|-Ounchecked' build.log | head -3
    echo "consumer: wgf was compiled with the checkout's speed flags as a dependency"
    exit 1
fi
grep -q '/checkouts/wgf/Sources/KernelSum/' build.log || { echo "consumer: wgf's sources not compiled from the checkout?"; exit 1; }
echo "== consumer: running"
.build/release/consumer
