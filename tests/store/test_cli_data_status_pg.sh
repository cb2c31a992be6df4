#!/usr/bin/env bash
# test_cli_data_status_repair.sh with the registry on a real PostgreSQL 15 server (started
# by tests/lib/pg_test_common.sh, stopped from its trap). Skips only when the server
# binaries are not installed.
set -euo pipefail
. "$(dirname "$0")/../lib/pg_test_common.sh" cli-data-status-pg
MS_DATA_STATUS_REGISTRY="$url" MS_TEST_TMP="$T" bash "$S/tests/store/test_cli_data_status_repair.sh"
