#!/bin/sh
# Mutation testing of the rules users depend on: applies each one-line
# mutant of a list to a copy of the tree, builds the unit tests named for
# it and runs them; a mutant the tests do not catch "survives".
#
#   sh scripts/mutate.sh [LIST] [PATTERN]
#
# LIST     the mutants (default tests/mutants.txt; its header says the
#          format); PATTERN, if given, keeps the lines that contain it
#
# The worktree is never touched: the tree (tracked and untracked files,
# as they are now) is copied to a directory of its own under $TMPDIR and
# removed at the end (KEEP=1 keeps it).  Every mutant is applied to that
# copy's pristine file, and the file is put back (with a new time, so the
# next build sees it changed) before the next one.  Prints one line a
# mutant and a score; exits non-zero if one survived or could not be
# applied.  Environment: TEST_TIMEOUT (seconds a test binary, 300), JOBS.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
list=${1:-$top/tests/mutants.txt}
pattern=${2:-}
timeout_s=${TEST_TIMEOUT:-300}
jobs=${JOBS:-2}

[ -f "$list" ] || { echo "$0: error: $list not found" >&2; exit 2; }
case $list in /*) ;; *) list=$PWD/$list ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/tt-mutate.XXXXXX") || exit 1
cleanup() {
    if [ "${KEEP:-0}" = 1 ]; then
        echo "kept: $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

src=$work/src
mkdir -p "$src" "$work/orig"

# the tree as it is: tracked and untracked files, not the build
(cd "$top" && git ls-files -co --exclude-standard -z \
    | xargs -0 tar cf - --no-recursion) | (cd "$src" && tar xf -) || {
    echo "$0: error: copying the tree failed" >&2
    exit 1
}

# the mutants, "FILE @@ FROM @@ TO @@ TESTS" a line
parsed=$work/mutants
python3 - "$list" "$pattern" >"$parsed" <<'EOF' || exit 2
import sys
path, pattern = sys.argv[1], sys.argv[2]
for n, line in enumerate(open(path), 1):
    line = line.rstrip('\n')
    if not line.strip() or line.lstrip().startswith('#'):
        continue
    if pattern and pattern not in line:
        continue
    parts = [p.strip() for p in line.split(' @@ ')]
    if len(parts) != 4 or not all(parts):
        sys.stderr.write('%s:%d: error: not FILE @@ FROM @@ TO @@ TESTS\n'
                         % (path, n))
        sys.exit(2)
    print('\t'.join([str(n)] + parts))
EOF

# FILE FROM TO: replaces the one occurrence of FROM; 3 if not exactly one
apply() {
    python3 - "$1" "$2" "$3" <<'EOF'
import sys
f, a, b = sys.argv[1:]
s = open(f).read()
if s.count(a) != 1:
    sys.exit(3)
open(f, 'w').write(s.replace(a, b))
EOF
}

# TESTS: builds and runs them in the copy; 0 all passed, 1 one failed,
# 2 the build failed
run_tests() {
    bins=""
    for t in $1; do
        bins="$bins build/tests/$t"
    done
    # shellcheck disable=SC2086
    if ! (cd "$src" && CFLAGS="-O1 -g" make -s -j"$jobs" BUILD=build \
              $bins >"$work/build.log" 2>&1); then
        return 2
    fi
    for b in $bins; do
        if ! (cd "$src" && timeout "$timeout_s" "./$b" \
                  >"$work/test.log" 2>&1); then
            return 1
        fi
    done
    return 0
}

# the tests must pass on the tree as it is, or nothing can be told
all_tests=$(cut -f5 "$parsed" | tr ' ' '\n' | sort -u | tr '\n' ' ')
echo "baseline: building and running $all_tests"
run_tests "$all_tests"
rc=$?
if [ $rc -ne 0 ]; then
    echo "$0: error: the unmutated tree fails ($rc):" >&2
    tail -n 30 "$work/build.log" "$work/test.log" >&2
    exit 1
fi

total=0
killed=0
survived=0
stillborn=0
bad=0
survivors=""

tab=$(printf '\t')
while IFS=$tab read -r n file from to tests; do
    total=$((total + 1))
    label="$file:$n: '$from' -> '$to'"
    key=$(echo "$file" | tr '/' '_')
    [ -f "$work/orig/$key" ] || cp "$src/$file" "$work/orig/$key"

    apply "$src/$file" "$from" "$to"
    if [ $? -ne 0 ]; then
        echo "BAD        $label (not found exactly once)"
        bad=$((bad + 1))
        continue
    fi

    run_tests "$tests"
    rc=$?

    # the pristine file back, newer than anything built from the mutant
    cp "$work/orig/$key" "$src/$file"
    touch "$src/$file"

    case $rc in
    0)  echo "SURVIVED   $label ($tests)"
        survived=$((survived + 1))
        survivors="$survivors
  $label" ;;
    1)  echo "killed     $label"
        killed=$((killed + 1)) ;;
    *)  echo "STILLBORN  $label (does not build)"
        stillborn=$((stillborn + 1)) ;;
    esac
done <"$parsed"

live=$((total - stillborn - bad))
if [ "$live" -gt 0 ]; then
    score=$((killed * 100 / live))
else
    score=0
fi

echo "mutants: $total, killed $killed, survived $survived," \
     "stillborn $stillborn, not applicable $bad; score $killed/$live" \
     "($score%)"
if [ -n "$survivors" ]; then
    echo "survivors:$survivors"
fi

[ "$survived" -eq 0 ] && [ "$bad" -eq 0 ]
