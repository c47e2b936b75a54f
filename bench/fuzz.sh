#!/usr/bin/env bash
# Fuzzing run: every parser of untrusted bytes for a bounded time, then a summary.
#
#  * With a nightly toolchain and cargo-fuzz (`cargo +nightly fuzz`), runs each libFuzzer
#    target of crates/{debian,compare,aptrepo,debbuild,prjconf}/fuzz for SECONDS each,
#    seeded with real fixture files (corpora under target/fuzz-corpus/, crashes under
#    crates/*/fuzz/artifacts/).
#  * Otherwise (or with FUZZ_MODE=proptest) runs the property tests that stand in for the
#    fuzzers in CI (crates/*/tests/fuzz.rs, crates/prjconf/tests/no_panic.rs,
#    daemon/tests/fuzz_api.rs, daemon/tests/fuzz_debbuild_deb.rs) with CASES cases each
#    (PROPTEST_CASES / CRYO_FUZZ_CASES), each suite bounded by SECONDS x 10.
#
# Usage: bench/fuzz.sh [SECONDS per target, default 60] [CASES, default 20000]
#        FUZZ_ONLY=REGEX runs only the matching crate/target;
#        FUZZ_MODE=auto|cargo-fuzz|proptest (default auto); FUZZ_RELEASE=1 builds the
#        property tests optimised (more cases per second, one more build of the workspace)
# Exit status 1 when any target found a crash or failed.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
cases=${2:-20000}
mode=${FUZZ_MODE:-auto}
mirror=$(realpath -m "${CRYO_FIXTURE_MIRROR:-../shared/mirror}")
pool=$mirror/debian/pool/main
summary=()
failed=0
# One target directory for every fuzz crate: the instrumented dependencies build once.
fuzz_target_dir=$PWD/target/cargo-fuzz

have_cargo_fuzz() { cargo +nightly fuzz --version >/dev/null 2>&1; }
if [ "$mode" = auto ]; then
    if have_cargo_fuzz; then mode=cargo-fuzz; else mode=proptest; fi
fi

# Seeds per target: real files of the kind the target reads.
seed() { # target files...
    local dir=target/fuzz-corpus/$1
    shift
    mkdir -p "$dir"
    for f in "$@"; do [ -f "$f" ] && cp -n "$f" "$dir/" 2>/dev/null; done
    echo "$PWD/$dir"
}
debs=("$pool/h/hello/hello_2.10-3_amd64.deb" "$pool/libu/libuev/libuev3_2.4.0-1.1+deb12u1_amd64.deb"
      "$pool/b/base-files/base-files_12.4+deb12u15_amd64.deb")
dscs=("$pool/h/hello/hello_2.10-3.dsc" "$pool/b/base-files/base-files_12.4+deb12u15.dsc")

run_fuzz() { # crate target seeds...
    local crate=$1 target=$2
    shift 2
    [[ "$crate/$target" =~ ${FUZZ_ONLY:-.} ]] || return 0
    local corpus
    corpus=$(seed "$target" "$@")
    local log=target/fuzz-logs/$crate-$target.log
    mkdir -p target/fuzz-logs
    echo "== cargo fuzz $crate/$target (${secs}s)"
    (cd "crates/$crate" && cargo +nightly fuzz run --target-dir "$fuzz_target_dir" "$target" "$corpus" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1) >"$log" 2>&1
    local rc=$?
    local runs
    runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | grep -o '[0-9]*')
    local edges
    edges=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    if [ $rc = 0 ]; then
        summary+=("$crate/$target|cargo-fuzz|${runs:-?} runs, cov ${edges:-?}|${secs}s|ok")
    else
        failed=1
        summary+=("$crate/$target|cargo-fuzz|${runs:-?} runs|${secs}s|FAILED (see $log, crates/$crate/fuzz/artifacts/$target)")
    fi
}

run_prop() { # package test
    local pkg=$1 test=$2
    [[ "$pkg/$test" =~ ${FUZZ_ONLY:-.} ]] || return 0
    local log=target/fuzz-logs/$pkg-$test.log
    mkdir -p target/fuzz-logs
    echo "== proptest $pkg --test $test ($cases cases)"
    local start=$SECONDS
    PROPTEST_CASES=$cases CRYO_FUZZ_CASES=$cases timeout $((secs * 10)) \
        cargo test -q ${FUZZ_RELEASE:+--release} -p "$pkg" --test "$test" -- --test-threads=2 >"$log" 2>&1
    local rc=$? took=$((SECONDS - start))
    local result
    result=$(grep -E '^test result' "$log" | tail -1)
    if [ $rc = 0 ]; then
        summary+=("$pkg/$test|proptest|$cases cases per property|${took}s|ok: ${result#test result: }")
    else
        failed=1
        [ $rc = 124 ] && result="timed out after $((secs * 10))s"
        summary+=("$pkg/$test|proptest|$cases cases per property|${took}s|FAILED: $result (see $log)")
    fi
}

if [ "$mode" = cargo-fuzz ]; then
    inrel=("$mirror/debian/dists/bookworm/InRelease" "$mirror/debian-security/dists/bookworm-security/InRelease")
    run_fuzz debian deb822 "${dscs[@]}" "${inrel[@]}"
    run_fuzz debian dsc "${dscs[@]}"
    run_fuzz debian openpgp "$mirror/keyrings/debian-archive-keyring.gpg" "$pool/h/hello/hello_2.10.orig.tar.gz.asc" "${inrel[1]}" "${dscs[0]}"
    run_fuzz debian release_index "${inrel[@]}"
    run_fuzz debian control_changelog "${dscs[@]}"
    run_fuzz debian relation_version
    run_fuzz debian decompress "$pool/h/hello/hello_2.10-3.debian.tar.xz"
    run_fuzz debian deb "${debs[@]}"
    run_fuzz compare compare_deb "${debs[@]}"
    run_fuzz compare ar "${debs[@]}"
    run_fuzz compare tar
    run_fuzz compare elf
    run_fuzz aptrepo scan_deb "${debs[@]}"
    run_fuzz debbuild deb_reader "${debs[@]}"
    run_fuzz prjconf parse "$mirror/debian-12.prjconf" crates/prjconf/fuzz/corpus/parse/*
    # The API bodies have no libFuzzer target (most body types are private to the daemon's
    # http modules): the live-daemon property test covers them in both modes.
    run_prop cryo-daemon fuzz_api
else
    run_prop cryo-debian fuzz
    run_prop cryo-compare fuzz
    run_prop cryo-aptrepo fuzz
    run_prop cryo-prjconf no_panic
    run_prop cryo-daemon fuzz_debbuild_deb
    run_prop cryo-daemon fuzz_api
fi

echo
echo "fuzz summary ($mode, $(date -u +%FT%TZ)):"
printf '%s\n' "${summary[@]}" | column -t -s '|'
exit $failed
