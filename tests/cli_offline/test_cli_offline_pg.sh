#!/usr/bin/env bash
# The retrieval command tests (test_cli_offline.sh) with the registry on a real PostgreSQL
# 15 server: saved datasets registered, refused, replaced and read back through it. Starts
# a throwaway server with scripts/pg-test-server.sh and stops it from a trap even when
# tests fail. Skips (exit 0 with a note) only when the PostgreSQL server binaries are
# missing.
set -euo pipefail
. "$(dirname "$0")/../lib/pg_test_common.sh" cli-offline-pg
MS_CLI_OFFLINE_REGISTRY="$url" MS_TEST_TMP="$T" bash "$S/tests/cli_offline/test_cli_offline.sh"
