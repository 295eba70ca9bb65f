#!/bin/sh
# The calendar page's JavaScript, from the npm registry, at pinned versions.
#
#   sh scripts/www-deps.sh            the browser test's driver (playwright-
#                                     core) in $BUILD/node, if missing
#   sh scripts/www-deps.sh --vendor   refresh www/vendor/ (committed: the
#                                     page is served without npm)
#
# Debian's chromium is the browser (scripts/deps.sh): playwright-core never
# downloads one.
set -eu

FULLCALENDAR=6.1.21
LUXON=3.7.2
PLAYWRIGHT=1.61.1

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
case $build in /*) ;; *) build=$top/$build ;; esac

if ! command -v npm >/dev/null 2>&1; then
    echo "www-deps: no npm: the browser test will be skipped" >&2
    exit 0
fi

if [ "${1:-}" = --vendor ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm install --silent --no-package-lock --no-save \
        --no-audit --no-fund "fullcalendar@$FULLCALENDAR" \
        "@fullcalendar/luxon3@$FULLCALENDAR" "luxon@$LUXON")
    nm=$tmp/node_modules
    v=$top/www/vendor
    mkdir -p "$v"
    cp "$nm/fullcalendar/index.global.min.js" "$v/fullcalendar.min.js"
    cp "$nm/@fullcalendar/luxon3/index.global.min.js" \
        "$v/fullcalendar-luxon3.min.js"
    cp "$nm/fullcalendar/LICENSE.md" "$v/LICENSE.fullcalendar"
    # luxon's build keeps a source map comment: the map is not shipped
    sed '/^\/\/# sourceMappingURL=/d' "$nm/luxon/build/global/luxon.min.js" \
        > "$v/luxon.min.js"
    cp "$nm/luxon/LICENSE.md" "$v/LICENSE.luxon"
    printf 'fullcalendar %s\n@fullcalendar/luxon3 %s\nluxon %s\n' \
        "$FULLCALENDAR" "$FULLCALENDAR" "$LUXON" > "$v/VERSIONS"
    exit 0
fi

d=$build/node
have=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' \
    "$d/node_modules/playwright-core/package.json" 2>/dev/null || true)
[ "$have" = "$PLAYWRIGHT" ] && exit 0
mkdir -p "$d"
echo "installing playwright-core@$PLAYWRIGHT in $d"
(cd "$d" && npm install --silent --no-package-lock --no-save --no-audit \
    --no-fund "playwright-core@$PLAYWRIGHT") || \
    echo "www-deps: playwright-core not installed: the browser test" \
         "will be skipped" >&2
