#!/bin/sh
#
# Copyright (C) the ngx_tiktok authors.
# The call graph between the scheduler's files: "a.c -> b.c  f g" when
# code in a.c calls (or takes the address of) functions that b.c defines.
# Needs ctags (Debian's universal-ctags or exuberant-ctags).
#
#   sh scripts/sched-graph.sh [DIR]      (default scheduler/)

set -eu

dir=${1:-scheduler}
tags=$(mktemp)
trap 'rm -f "$tags"' EXIT INT TERM

# every function defined in DIR: name, file
ctags -x --c-kinds=f "$dir"/*.c | awk '{ print $1, $4 }' | sort > "$tags"

for f in "$dir"/*.c; do
    # the identifiers f uses, minus comments and strings, each once
    sed -e 's://.*$::' "$f" \
    | awk 'BEGIN { c = 0 }
           { line = $0; out = "";
             while (length(line)) {
               if (c) { i = index(line, "*/");
                        if (i == 0) { line = "" } else { line = substr(line, i + 2); c = 0 } }
               else { i = index(line, "/*");
                      if (i == 0) { out = out line; line = "" }
                      else { out = out substr(line, 1, i - 1); line = substr(line, i + 2); c = 1 } } }
             gsub(/"([^"\\]|\\.)*"/, "\"\"", out); print out }' \
    | grep -o '[A-Za-z_][A-Za-z0-9_]*' | sort -u \
    | join - "$tags" \
    | awk -v me="$f" '$2 != me { calls[$2] = calls[$2] " " $1 }
           END { for (t in calls) printf "%s -> %s %s\n", me, t, calls[t] }'
done | sed "s:$dir/::g" | sort
