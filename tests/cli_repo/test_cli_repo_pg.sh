#!/usr/bin/env bash
# The repository command tests (test_cli_repo.sh) against a real PostgreSQL 15 registry:
# starts a throwaway server with scripts/pg-test-server.sh, runs the same script with
# MS_CLI_REPO_REGISTRY set to its URL, and stops the server from a trap even when tests
# fail. Skips (exit 0 with a note) only when the PostgreSQL server binaries are missing.
set -euo pipefail
. "$(dirname "$0")/../lib/pg_test_common.sh" cli-repo-pg
MS_CLI_REPO_REGISTRY="$url" MS_TEST_TMP="$T" bash "$S/tests/cli_repo/test_cli_repo.sh"
