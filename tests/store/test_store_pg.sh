#!/usr/bin/env bash
# The store suite (test_store) with its registry on a real PostgreSQL 15 server: the data
# commit records (prepare/finish/recovery, concurrent appenders in several processes,
# crash points) through the PostgreSQL back end. Starts a throwaway server with
# scripts/pg-test-server.sh (tests/lib/pg_test_common.sh), stops it from a trap. Skips
# only when the server binaries are not installed.
set -euo pipefail
B=${MS_BUILD_DIR:?MS_BUILD_DIR must name the build tree}
. "$(dirname "$0")/../lib/pg_test_common.sh" store-pg
MS_REGISTRY_LOCATION="$url" MS_TEST_TMP="$T" "$B/tests/test_store"
