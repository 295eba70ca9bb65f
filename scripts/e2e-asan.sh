#!/bin/sh
# The whole end-to-end suite on a build with AddressSanitizer and
# UndefinedBehaviorSanitizer: the module, the scheduler, tiktok-admin,
# tiktok-probe and tiktok-fetch.
#
#   sh scripts/e2e-asan.sh [BUILD_DIR [TEST...]]
#
# nginx is Debian's binary, not instrumented: the module built with
# -fsanitize=address,undefined is loaded into it with libasan and
# libubsan preloaded (a wrapper named nginx, first in PATH, sets
# LD_PRELOAD for nginx alone; leak checks are off in nginx, whose own
# memory lives until exit, and on in every program of ours).  Every
# sanitizer report goes to BUILD_DIR/san/; the run fails if the suite
# fails or if any report was written.  TEST: t/ files (default: all).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-asan}
[ $# -gt 0 ] && shift
case $build in /*) ;; *) build=$PWD/$build ;; esac

san="-fsanitize=address,undefined -fno-omit-frame-pointer
     -fno-sanitize-recover=all"
san=$(echo $san)

asan_so=$(gcc -print-file-name=libasan.so)
ubsan_so=$(gcc -print-file-name=libubsan.so)
for so in "$asan_so" "$ubsan_so"; do
    if [ ! -f "$so" ]; then
        echo "$0: error: $so not found (gcc's sanitizer runtime)" >&2
        exit 1
    fi
done

cd "$top"
CFLAGS="-O1 -g $san" CXXFLAGS="-O1 -g $san" \
MODULE_CC_OPT="$san" MODULE_LD_OPT="$san" \
    make -s BUILD="$build" all

# the wrapper: nginx with the sanitizer runtimes first
mkdir -p "$build/bin"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
cat > "$build/bin/nginx" <<EOF
#!/bin/sh
# nginx with the sanitizers' runtimes preloaded (scripts/e2e-asan.sh)
LD_PRELOAD="$asan_so $ubsan_so\${LD_PRELOAD:+ \$LD_PRELOAD}" \\
ASAN_OPTIONS="detect_leaks=0:log_path=$build/san/asan:abort_on_error=1" \\
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$build/san/ubsan" \\
    exec $nginx "\$@"
EOF
chmod 755 "$build/bin/nginx"

rm -rf "$build/san"
mkdir -p "$build/san"

if [ $# -eq 0 ]; then
    set -- -r t/
fi

start=$(date +%s)
rc=0
PATH="$build/bin:$PATH" TT_BUILD="$build" \
ASAN_OPTIONS="detect_leaks=1:log_path=$build/san/asan:abort_on_error=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$build/san/ubsan" \
    prove "$@" || rc=$?
end=$(date +%s)

reports=$(find "$build/san" -type f | wc -l)
if [ "$reports" -gt 0 ]; then
    echo "sanitizer reports: $reports"
    for f in "$build/san"/*; do
        echo "== $f"
        head -n 40 "$f"
    done
fi

echo "e2e-asan: prove exit $rc, $reports sanitizer reports," \
     "$((end - start)) s"
[ "$rc" -eq 0 ] && [ "$reports" -eq 0 ]
