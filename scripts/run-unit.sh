#!/bin/sh
# Runs each unit test binary given; fails if any fails.
set -u
failed=0
passed=0
for t in "$@"; do
    if "$t"; then
        passed=$((passed + 1))
    else
        echo "FAILED: $t"
        failed=$((failed + 1))
    fi
done
echo "unit test binaries: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
