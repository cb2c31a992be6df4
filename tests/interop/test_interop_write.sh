#!/usr/bin/env bash
# Interop: files written by morsel (Parquet over a matrix of options, CSV) read by DuckDB and
# Polars, compared value by value with the source.
exec bash "$(dirname "$0")/lib/run.sh" write_morsel.js
