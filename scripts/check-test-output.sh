#!/usr/bin/env bash
# Checks that the output of a passing `swift test` reads as a pass: no log lines of the code
# under test (tests give it a LogCapture logger; an expected "log … is offline" error printed
# between green ticks reads as a failure) and no "Executed 0 tests" from an XCTest run with no
# tests in it. Prints each offending line and exits 1 when there is one; exits 0 otherwise.
#
#   scripts/check-test-output.sh FILE      # FILE: what swift test printed (stdout and stderr)
set -euo pipefail

[[ $# -eq 1 && -r "$1" ]] || { echo "usage: check-test-output.sh FILE" >&2; exit 2; }

# swift-log's default handler: "2026-11-21T07:35:00+0000 error label: [Module] message".
log_line='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+[+-][0-9]{4} (trace|debug|info|notice|warning|error|critical) '
found=0
if grep -nE "$log_line" "$1" >&2; then
    echo "check-test-output: the lines above are log lines printed by a passing test run; give the code under test a LogCapture logger (RunnelTesting) and check them there" >&2
    found=1
fi
if grep -nE '^[[:space:]]*Executed 0 tests' "$1" >&2; then
    echo "check-test-output: XCTest ran with no XCTest tests; run swift test with --disable-xctest" >&2
    found=1
fi
exit "$found"
