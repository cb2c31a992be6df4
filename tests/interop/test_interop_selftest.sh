#!/usr/bin/env bash
# The interop comparator's own test (no peers needed).
exec node "$(dirname "$0")/selftest.js"
