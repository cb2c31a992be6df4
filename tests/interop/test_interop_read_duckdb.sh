#!/usr/bin/env bash
# Interop: files written by DuckDB over a matrix, read by morsel, compared value by value.
exec bash "$(dirname "$0")/lib/run.sh" read_duckdb.js
