#!/bin/sh
# Builds ngx_http_tiktok_module.so against Debian's nginx source tree
# (package nginx-dev), configured with the flags Debian's nginx was built
# with, so that the stock nginx binary loads it.
#
#   sh scripts/build-module.sh OUTDIR
#
# MODULE_CC_OPT and MODULE_LD_OPT add compiler and linker flags (make
# e2e-asan: -fsanitize=address,undefined); a change of them reconfigures.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=$1
src=/usr/share/nginx/src

if [ ! -f "$src/conf_flags" ]; then
    echo "$0: error: $src/conf_flags not found: apt-get install nginx-dev" >&2
    exit 1
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)

# configure once per output tree; a changed config file or a source file
# added or removed reconfigures (the generated Makefile lists the sources)
stamp="$out/.configured"
cc_opt="-g -O2 -Wno-unused-parameter ${MODULE_CC_OPT:-}"
ld_opt=${MODULE_LD_OPT:-}
srcs=$(cd "$top" && ls config core/*.c core/*.h ngx_tiktok_module/*)
srcs="$srcs
cc: $cc_opt
ld: $ld_opt"
if [ ! -f "$stamp" ] || [ "$top/config" -nt "$stamp" ] \
   || [ "$srcs" != "$(cat "$stamp")" ]; then
    rm -rf "$out"
    mkdir -p "$out"
    cp -r "$src/auto" "$src/src" "$src/configure" "$out/"
    # conf_flags is a bash array assignment: NGX_CONF_FLAGS=( ... )
    flags=$(sed -n 's/^NGX_CONF_FLAGS=(\(.*\))$/\1/p' "$src/conf_flags")
    (
        cd "$out"
        # shellcheck disable=SC2086
        ./configure $flags --with-cc-opt="$cc_opt" --with-ld-opt="$ld_opt" \
            --add-dynamic-module="$top" > configure.log 2>&1 \
        || { tail -n 30 configure.log; exit 1; }
    )
    printf '%s\n' "$srcs" > "$stamp"
fi

make -C "$out" -f objs/Makefile modules > "$out/make.log" 2>&1 \
    || { grep -E 'error|Error' "$out/make.log" | head -n 40; exit 1; }
echo "built $out/objs/ngx_http_tiktok_module.so"
