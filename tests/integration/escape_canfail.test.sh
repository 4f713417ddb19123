#!/bin/bash
# Keeps the escape suite honest: run WITHOUT a sandbox, every case that is not a positive control
# must be able to fail (escape, or miss its sandbox.denied record) for root or for mcpcell-test.
# A probe that can no longer fail proves nothing inside the sandbox. Small fork/memory caps: this
# runs unconfined on the build machine.
set -u
exec /usr/bin/python3 "$MCPCELL_SOURCE/tests/escape/escape_suite.py" --no-sandbox \
  --forkbomb-cap 300 --memhog-mib 128 \
  --mcpcell "$MCPCELL" --probes "$MCPCELL_BUILD/tests/escape" "$@"
