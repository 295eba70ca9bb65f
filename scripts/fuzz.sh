#!/bin/sh
# Builds every fuzz/fuzz_*.c as a libFuzzer binary (clang, ASan, UBSan)
# and runs each for its share of SECONDS; exits non-zero on a crash.
#
#   sh scripts/fuzz.sh OUTDIR SECONDS [TARGET...]
#
# OUTDIR/bin/TARGET       the fuzzer
# OUTDIR/corpus/TARGET/   its corpus, seeded from fuzz/corpus/TARGET/
# OUTDIR/crash/TARGET/    what made it crash, if anything did
# OUTDIR/TARGET.log       its output
#
# Core sources are every core/*.c (and *.cc) but tt_media_probe.c;
# fuzz_media also gets tt_media_probe.c and libav.  Environment: CC
# (clang), CXX (clang++), FUZZ_FLAGS (more libFuzzer flags, e.g.
# "-max_len=4096 -jobs=2"), FUZZ_EACH (seconds for each target instead
# of a share of SECONDS: make fuzz-long).
#
# Every fuzz/fuzz_*.c is a target: a new parser of outside input (the
# webhooks' configuration, once they exist) gets one by adding its file
# and a seed corpus in fuzz/corpus/TARGET/.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 OUTDIR SECONDS [TARGET...]" >&2
    exit 2
fi

top=$(cd "$(dirname "$0")/.." && pwd)
out=$1
seconds=$2
shift 2

case $seconds in
    ''|*[!0-9]*) echo "$0: error: SECONDS must be a number" >&2; exit 2 ;;
esac

cc=${CC:-clang}
case $cc in
    *clang*) ;;
    *) cc=clang ;;
esac
cxx=${CXX:-clang++}
case $cxx in
    *clang*) ;;
    *) cxx=clang++ ;;
esac

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "$0: error: clang not found: apt-get install clang" \
         "libclang-rt-14-dev" >&2
    exit 1
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)

cflags="-g -O1 -std=gnu11 -D_GNU_SOURCE -I$top/core -fno-omit-frame-pointer
        -fno-sanitize-recover=all -Wall -Wextra -Wno-unused-parameter"
san="address,undefined"
libs="-llmdb -lyajl -lcrypto -labsl_time_zone -lstdc++ -lm"
av_libs="-lavformat -lavcodec -lavutil"

if [ $# -gt 0 ]; then
    targets=$*
else
    targets=""
    for f in "$top"/fuzz/fuzz_*.c; do
        [ -f "$f" ] || continue
        t=$(basename "$f" .c)
        targets="$targets $t"
    done
fi

n=0
for t in $targets; do
    if [ ! -f "$top/fuzz/$t.c" ]; then
        echo "$0: error: fuzz/$t.c not found" >&2
        exit 2
    fi
    n=$((n + 1))
done

if [ "$n" -eq 0 ]; then
    echo "$0: no fuzz targets"
    exit 0
fi

# the core, instrumented once for every target
mkdir -p "$out/obj" "$out/bin"
objs=""
for src in "$top"/core/*.c; do
    [ -f "$src" ] || continue
    o="$out/obj/$(basename "$src" .c).o"
    # shellcheck disable=SC2086
    $cc $cflags -fsanitize=fuzzer-no-link,$san -c -o "$o" "$src"
    case $src in
        */tt_media_probe.c) ;;
        *) objs="$objs $o" ;;
    esac
done

# the C++ side of core/ (the time zones through cctz), as C++
for src in "$top"/core/*.cc; do
    [ -f "$src" ] || continue
    o="$out/obj/$(basename "$src" .cc).o"
    # shellcheck disable=SC2086
    $cxx -g -O1 -std=gnu++17 -I"$top/core" -fno-omit-frame-pointer \
        -fsanitize=fuzzer-no-link,$san -c -o "$o" "$src"
    objs="$objs $o"
done

for t in $targets; do
    extra=""
    extra_libs=""
    if [ "$t" = fuzz_media ]; then
        extra="$out/obj/tt_media_probe.o"
        extra_libs=$av_libs
    fi
    # the scheduler's TikTok parsers are included whole (no curl call)
    if [ "$t" = fuzz_tiktok ]; then
        extra_libs=-lcurl
    fi
    echo "building $t"
    # shellcheck disable=SC2086
    $cc $cflags -fsanitize=fuzzer,$san -o "$out/bin/$t" \
        "$top/fuzz/$t.c" $objs $extra $libs $extra_libs
done

# tiny real media (a frame or two, 64x64): the fuzzer mutates from what
# the demuxers accept, past the format detection
seed_media() {
    for spec in "mp4 -c:v libx264 -pix_fmt yuv420p" \
                "mov -c:v libx264 -pix_fmt yuv420p" \
                "webm -c:v libvpx-vp9" "mkv -c:v libvpx" \
                "jpg -update 1 -c:v mjpeg" "webp -c:v libwebp" \
                "png -update 1 -c:v png"; do
        ext=${spec%% *}
        [ -f "$1/seed.$ext" ] && continue
        # shellcheck disable=SC2086
        ffmpeg -loglevel error -y -f lavfi -i testsrc=size=64x64:rate=25 \
            -frames:v 2 ${spec#* } "$1/seed.$ext" 2>/dev/null \
            || rm -f "$1/seed.$ext"
    done
}

each=${FUZZ_EACH:-$((seconds / n))}
[ "$each" -ge 1 ] || each=1
total_runs=0

failed=0
for t in $targets; do
    corpus="$out/corpus/$t"
    crash="$out/crash/$t"
    mkdir -p "$corpus" "$crash"
    if [ -d "$top/fuzz/corpus/$t" ]; then
        cp -R "$top/fuzz/corpus/$t/." "$corpus/"
    fi

    # the media probe starts from real files of each kind, made small
    if [ "$t" = fuzz_media ] && command -v ffmpeg >/dev/null 2>&1; then
        seed_media "$corpus"
    fi

    echo "fuzzing $t for ${each}s"
    # shellcheck disable=SC2086
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
       UBSAN_OPTIONS=print_stacktrace=1 \
       "$out/bin/$t" -max_total_time="$each" -timeout=30 \
           -rss_limit_mb=2048 -artifact_prefix="$crash/" \
           ${FUZZ_FLAGS:-} "$corpus" >"$out/$t.log" 2>&1
    then
        runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out/$t.log")
        echo "$t: ${runs:-0} executions in ${each}s, 0 findings," \
             "corpus $(ls "$corpus" | wc -l) inputs"
        total_runs=$((total_runs + ${runs:-0}))
    else
        echo "FAILED: $t (see $out/$t.log and $crash/)"
        tail -n 40 "$out/$t.log"
        failed=$((failed + 1))
    fi
done

echo "fuzz targets: $((n - failed)) passed, $failed failed;" \
     "$total_runs executions"

[ "$failed" -eq 0 ]
