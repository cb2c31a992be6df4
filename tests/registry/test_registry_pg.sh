#!/usr/bin/env bash
# The registry suite (test_registry) against a real PostgreSQL 15 server: starts a
# throwaway server with scripts/pg-test-server.sh under $MS_TEST_TMP, runs the C test
# program with MS_REGISTRY_LOCATION set to its URL, and stops the server from a trap, so it
# is stopped even when the tests fail. Skips (exit 0 with a note) only when the PostgreSQL
# server binaries are not installed.
set -euo pipefail
B=${MS_BUILD_DIR:?MS_BUILD_DIR must name the build tree}
. "$(dirname "$0")/../lib/pg_test_common.sh" registry-pg
MS_REGISTRY_LOCATION="$url" MS_TEST_TMP="$T" "$B/tests/test_registry"
