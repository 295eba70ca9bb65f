#!/bin/sh
# The house style, checked by a script rather than by reviewers: no tabs,
# no trailing white space, at most 80 columns, C89 comments only, and none
# of the banned functions (see README.md, "Code style").
set -u
cd "$(dirname "$0")/.."

files=$(git ls-files -co --exclude-standard -- \
        'core/*.[ch]' 'ngx_tiktok_module/*.[ch]' 'scheduler/*.[ch]' \
        'tools/*.[ch]' 'tests/*.[ch]' 'fuzz/*.[ch]' 'bench/*.[ch]' 2>/dev/null)

status=0
report() {
    echo "$1" >&2
    status=1
}

for f in $files; do
    [ -f "$f" ] || continue
    awk -v f="$f" '
        /\t/                    { print f ":" NR ": tab"; bad = 1 }
        /[ \t]+$/               { print f ":" NR ": trailing white space"; bad = 1 }
        length($0) > 80         { print f ":" NR ": longer than 80 columns"; bad = 1 }
        /^[ \t]*\/\//           { print f ":" NR ": // comment"; bad = 1 }
        /(^|[^_a-z0-9])(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|gets|sscanf)[ \t]*\(/ {
            print f ":" NR ": banned function"; bad = 1
        }
        END { exit bad }
    ' "$f" >&2 || status=1
done

if [ $status -ne 0 ]; then
    echo "check-style: failed" >&2
else
    echo "check-style: $(echo "$files" | wc -w) files clean"
fi
exit $status
