#!/bin/sh
# valgrind's memcheck on the scheduler through a publish cycle (videos of
# one and several chunks, a photo post, retries: t/publish.t), a token
# refresh with rotation (t/token_refresh.t) and media downloads
# (t/media_fetch.t) and webhook deliveries (t/webhooks.t).
#
#   sh scripts/valgrind.sh [BUILD_DIR [TEST...]]
#
# The scheduler runs under valgrind (TT_SCHED_WRAPPER, see t/lib/TT.pm);
# each run writes BUILD_DIR/valgrind/sched.PID.log.  Fails if a test
# fails, or if any run has an error or a leak (definitely, indirectly or
# possibly lost; still reachable is shown, not counted).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
[ $# -gt 0 ] && shift
case $build in /*) ;; *) build=$PWD/$build ;; esac

if ! command -v valgrind >/dev/null 2>&1; then
    echo "$0: error: valgrind not found: apt-get install valgrind" >&2
    exit 1
fi

if [ $# -eq 0 ]; then
    set -- t/publish.t t/token_refresh.t t/media_fetch.t t/webhooks.t
fi

cd "$top"
make -s BUILD="$build" all

logs=$build/valgrind
rm -rf "$logs"
mkdir -p "$logs"

rc=0
TT_BUILD="$build" \
TT_SCHED_WRAPPER="valgrind --tool=memcheck --leak-check=full
    --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible
    --track-fds=no --num-callers=30 --log-file=$logs/sched.%p.log" \
    prove "$@" || rc=$?

runs=0
bad=0
for f in "$logs"/sched.*.log; do
    [ -f "$f" ] || continue
    runs=$((runs + 1))
    errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f")
    lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f")
    if [ -z "$errors" ]; then
        # a fork that exec'd a child (tiktok-fetch, tiktok-probe), or a
        # SIGKILL in a test: no summary, nothing to count
        echo "$(basename "$f"): no summary (exec'd a child, or killed)"
        continue
    fi
    echo "$(basename "$f"): $errors errors, definitely lost ${lost:-0}"
    if [ "$errors" != 0 ]; then
        bad=$((bad + 1))
        head -n 80 "$f"
    fi
done

echo "valgrind: $runs scheduler runs, $bad with errors or leaks," \
     "prove exit $rc"
[ "$rc" -eq 0 ] && [ "$bad" -eq 0 ] && [ "$runs" -gt 0 ]
