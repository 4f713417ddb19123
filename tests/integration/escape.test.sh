#!/bin/bash
# Issue 3's acceptance: every attack of the escape suite (tests/escape, docs/escape-suite.md) must
# fail inside mcpcell's default sandbox, as root and as the unprivileged user mcpcell-test.
set -u
exec /usr/bin/python3 "$MCPCELL_SOURCE/tests/escape/escape_suite.py" \
  --mcpcell "$MCPCELL" --probes "$MCPCELL_BUILD/tests/escape" "$@"
