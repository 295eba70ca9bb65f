#!/bin/sh
# Installs the Debian packages the project needs, only those missing.
set -eu

pkgs="nginx nginx-dev liblmdb-dev lmdb-utils libyajl-dev libcurl4-openssl-dev
libabsl-dev g++ libssl-dev libcmocka-dev libavformat-dev libavcodec-dev libavutil-dev ffmpeg
python3-jsonschema python3-yaml
wrk pkg-config libpcre2-dev zlib1g-dev python3 clang libclang-rt-14-dev
perl make gcc curl chromium strace"
# gcc brings the sanitizers' runtimes make unit-asan and make e2e-asan
# use (gcc-12 -> libgcc-12-dev -> libasan8, libubsan1); strace injects
# the failed syncs of t/health_write.t
# the calendar page's browser test drives chromium from Node.js
# (scripts/www-deps.sh): Debian's nodejs and npm, unless a Node.js is there
command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
         | grep -q 'install ok installed'
    then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

echo "installing:$missing"
if [ "$(id -u)" != 0 ]; then
    sudo=sudo
else
    sudo=
fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
    --no-install-recommends $missing
