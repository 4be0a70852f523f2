#!/bin/sh
# Regenerates the gallery: runs every bundled scenario (scenarios/*.toml) into a temporary
# directory and draws its figures with `wgf plot` into plots/<scenario>/ (images.svg too for a
# scenario whose particles are images, `[plot] image`: mmd-digits).
#
#   scripts/gallery.sh            # all scenarios (about a minute in release)
#   scripts/gallery.sh quickstart # only the named ones
#
# Environment: WGF (the binary; default: build in release and use .build/release/wgf),
# SCRATCH (swift build --scratch-path, default .build).
set -eu
cd "$(dirname "$0")/.."
if [ -z "${WGF:-}" ]; then
    SCRATCH="${SCRATCH:-.build}"
    swift build -c release --scratch-path "$SCRATCH" >/dev/null
    WGF="$SCRATCH/release/wgf"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ $# -gt 0 ]; then names="$*"; else names=$(ls scenarios/*.toml | xargs -n1 basename | sed 's/\.toml$//'); fi
failed=""
for name in $names; do
    # A run that ends early (diverged, exit 4) still has records worth drawing.
    "$WGF" run "scenarios/$name.toml" --out "$tmp/$name" --quiet || [ -f "$tmp/$name/metrics.csv" ] || { failed="$failed $name"; continue; }
    rm -rf "plots/$name"
    # At most 200 particles animated and 40 frames keep each SVG well under 1 MB.
    "$WGF" plot "$tmp/$name" --out "plots/$name" --animated-particles 200 --frames 40 || failed="$failed $name"
done
du -sh plots/*/ | sed 's/^/  /'
if [ -n "$failed" ]; then echo "gallery: failed:$failed" >&2; exit 1; fi
