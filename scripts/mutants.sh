#!/usr/bin/env bash
# Mutation check: plants each one-line bug of scripts/mutants.txt in a scratch copy of the
# repository, rebuilds (release) and runs the tests that mutant names; every mutant must be
# KILLED (its tests fail). Run it before large refactors.
#
#   scripts/mutants.sh              every mutant
#   scripts/mutants.sh NAME...      only these (names from the first column of mutants.txt)
#   scripts/mutants.sh --list       the mutants, one a line
#
# The list is $WGF_MUTANTS_LIST (default scripts/mutants.txt). The copy lives in $WGF_MUTANTS_DIR (default /tmp/wgf-mutants), with its own .build, kept
# between runs: only files whose content changed are copied in, so a rerun rebuilds little.
# A filter `pytest:ARGS` runs the Python package's tests instead (python3 -m pytest ARGS in the
# copy's python/, its sources first on PYTHONPATH, against the copy's release build).
# Each mutant's file is restored after its test. Outcomes per mutant:
#   KILLED    the named tests fail (or time out after $WGF_MUTANT_TIMEOUT s, default 900)
#   SURVIVED  the named tests pass: a test is missing
#   ERROR     the line is stale (its fragment is not in the file exactly once), the mutant
#             does not compile, or its filter runs no test: fix the line in mutants.txt
# Before the mutants, the unmutated copy must build and pass every named test (else ERROR and
# stop: a failing baseline would make every mutant look killed).
# Exit status 0 only when every mutant selected is KILLED.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
list=${WGF_MUTANTS_LIST:-$root/scripts/mutants.txt}
work=${WGF_MUTANTS_DIR:-/tmp/wgf-mutants}
timeout_s=${WGF_MUTANT_TIMEOUT:-900}
log="$work.log"

# --- the list: name | file | original fragment | replacement | test filter | description ---
names=() files=() originals=() replacements=() filters=() descriptions=()
trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; s=${s%"${s##*[![:space:]]}"}; printf '%s' "$s"; }
lineno=0
while IFS= read -r line || [[ -n $line ]]; do
    lineno=$((lineno + 1))
    [[ -z ${line//[[:space:]]/} || $line =~ ^[[:space:]]*# ]] && continue
    rest=$line fields=()
    while [[ $rest == *" | "* ]]; do fields+=("${rest%%" | "*}"); rest=${rest#*" | "}; done
    fields+=("$rest")
    if ((${#fields[@]} != 6)); then
        echo "mutants.txt:$lineno: ${#fields[@]} fields, not 6 (name | file | original | replacement | filter | description)" >&2
        exit 2
    fi
    names+=("$(trim "${fields[0]}")") files+=("$(trim "${fields[1]}")")
    originals+=("$(trim "${fields[2]}")") replacements+=("$(trim "${fields[3]}")")
    filters+=("$(trim "${fields[4]}")") descriptions+=("$(trim "${fields[5]}")")
done < "$list"

if [[ ${1:-} == --list ]]; then
    for k in "${!names[@]}"; do printf '%-28s %s\n' "${names[k]}" "${descriptions[k]}"; done
    exit 0
fi

selected=()
if (($# == 0)); then
    selected=("${!names[@]}")
else
    for want in "$@"; do
        found=
        for k in "${!names[@]}"; do [[ ${names[k]} == "$want" ]] && { selected+=("$k"); found=1; }; done
        [[ -n $found ]] || { echo "no mutant named $want (scripts/mutants.sh --list)" >&2; exit 2; }
    done
fi

# --- the scratch copy: tracked and untracked-but-not-ignored files, copied when changed ---
mkdir -p "$work"
echo "copying the repository to $work (log: $log)"
: > "$log"
(cd "$root" && git ls-files -z --cached --others --exclude-standard) | while IFS= read -r -d '' f; do
    [[ -f $root/$f ]] || continue
    if ! cmp -s "$root/$f" "$work/$f"; then mkdir -p "$(dirname "$work/$f")"; cp -p "$root/$f" "$work/$f"; fi
done
# Files the repository no longer has (a moved or deleted source) leave the copy too: a stale
# Sources/KernelSum/MeshSum.swift beside Mesh/MeshSum.swift would be built twice.
(cd "$work" && find Sources Tests scripts -type f 2>/dev/null) | while IFS= read -r f; do
    [[ -f $root/$f ]] || rm -f "$work/$f"
done

# Every fragment must occur exactly once in its file: checked for all before any build.
fragment_count() {  # file fragment -> occurrences
    local content stripped
    IFS= read -r -d '' content < "$1"
    stripped=${content//"$2"/}
    echo $(((${#content} - ${#stripped}) / ${#2}))
}
errors=() runnable=()
for k in "${selected[@]}"; do
    if [[ ! -f $work/${files[k]} ]]; then
        printf '%-9s %-28s %s\n' ERROR "${names[k]}" "no file ${files[k]}"; errors+=("${names[k]}"); continue
    fi
    count=$(fragment_count "$work/${files[k]}" "${originals[k]}")
    if ((count != 1)); then
        printf '%-9s %-28s %s\n' ERROR "${names[k]}" "its fragment occurs $count times in ${files[k]}, not once"
        errors+=("${names[k]}"); continue
    fi
    runnable+=("$k")
done

# Only the test modules the selected filters name are built (WGF_TEST_TARGETS, see Package.swift).
modules=$(for k in "${runnable[@]}"; do
    [[ ${filters[k]} == pytest:* ]] || printf '%s\n' "${filters[k]}" | tr '|' '\n' | sed 's/[.].*//'
done | sort -u | paste -sd, -)
export WGF_TEST_TARGETS=$modules

build() { (cd "$work" && swift build -c release --build-tests) >> "$log" 2>&1; }
# Runs the tests matching $1; prints PASS, FAIL, TIMEOUT or NONE (no test matched).
run_tests() {
    local out rc
    if [[ $1 == pytest:* ]]; then
        # shellcheck disable=SC2086
        out=$(cd "$work/python" && PYTHONPATH="$work/python/src" WGF_BIN="$work/.build/release/wgf" \
            timeout "$timeout_s" python3 -m pytest -q -p no:cacheprovider ${1#pytest:} 2>&1)
        rc=$?
        printf '%s\n' "$out" >> "$log"
        if ((rc == 124)); then echo TIMEOUT
        elif ((rc == 5)); then echo NONE
        elif ((rc == 0)); then echo PASS
        else echo FAIL
        fi
        return
    fi
    out=$(cd "$work" && timeout "$timeout_s" swift test -c release --skip-build --filter "$1" 2>&1)
    rc=$?
    printf '%s\n' "$out" >> "$log"
    if ((rc == 124)); then echo TIMEOUT
    elif grep -q "Executed 0 tests" <<< "$out" || ! grep -q "Executed [0-9]* test" <<< "$out"; then
        ((rc == 0)) && echo NONE || echo FAIL
    elif ((rc == 0)); then echo PASS
    else echo FAIL
    fi
}

((${#runnable[@]} > 0)) || { echo "mutants: ${#selected[@]}, killed: 0, errors: ${#errors[@]} (${errors[*]})"; exit 1; }
start=$SECONDS
echo "baseline: building the unmutated copy (test modules: $modules)"
if ! build; then echo "ERROR: the unmutated copy does not build (see $log)"; exit 1; fi
swift_filters=$(for k in "${runnable[@]}"; do
    [[ ${filters[k]} == pytest:* ]] || printf '%s\n' "${filters[k]}"
done | sort -u | paste -sd'|' -)
mapfile -t python_filters < <(for k in "${runnable[@]}"; do
    [[ ${filters[k]} == pytest:* ]] && printf '%s\n' "${filters[k]}"
done | sort -u)
for f in ${swift_filters:+"$swift_filters"} "${python_filters[@]}"; do
    case $(run_tests "$f") in
        PASS) ;;
        NONE) echo "ERROR: the filter $f runs no test (see $log)"; exit 1 ;;
        *) echo "ERROR: the named tests ($f) do not pass unmutated (see $log)"; exit 1 ;;
    esac
done
echo "baseline: the named tests pass unmutated ($((SECONDS - start)) s)"

# An interrupted run leaves no mutant behind (and the next run's copy step would undo it anyway).
mutated_file='' content=''
trap '[[ -n $mutated_file ]] && printf "%s" "$content" > "$mutated_file"; exit 130' INT TERM
killed=0 survived=()
for k in "${runnable[@]}"; do
    name=${names[k]} file=$work/${files[k]} t0=$SECONDS
    printf '%s\n' "=== mutant $name: ${files[k]}: ${originals[k]}  ->  ${replacements[k]}" >> "$log"
    IFS= read -r -d '' content < "$file"
    mutated_file=$file
    if ! printf '%s' "${content/"${originals[k]}"/"${replacements[k]}"}" > "$file"; then
        echo "ERROR: cannot write the mutant into $file"; exit 1
    fi
    if ! build; then
        outcome=ERROR detail="the mutant does not compile (see $log)"
    else
        case $(run_tests "${filters[k]}") in
            FAIL) outcome=KILLED detail="" ;;
            TIMEOUT) outcome=KILLED detail="(timeout)" ;;
            PASS) outcome=SURVIVED detail="" ;;
            NONE) outcome=ERROR detail="the filter ${filters[k]} runs no test" ;;
        esac
    fi
    # A mutant left in place would be built into every later one: stop rather than go on.
    if ! printf '%s' "$content" > "$file"; then
        echo "ERROR: cannot restore $file: the copy $work holds mutant $name (remove the copy)"; exit 1
    fi
    mutated_file=''
    printf '%-9s %-28s %4d s  %s %s\n' "$outcome" "$name" $((SECONDS - t0)) "${descriptions[k]}" "$detail"
    case $outcome in KILLED) killed=$((killed + 1)) ;; SURVIVED) survived+=("$name") ;; *) errors+=("$name") ;; esac
done
echo "---"
echo "mutants: ${#selected[@]}, killed: $killed, survived: ${#survived[@]}${survived:+ (${survived[*]})}, errors: ${#errors[@]}${errors:+ (${errors[*]})}; $((SECONDS - start)) s"
((killed == ${#selected[@]}))
