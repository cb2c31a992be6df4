/* Internal pieces shared by the writers (write-batch, write-logs, compaction): conforming an
 * input table to an expected schema, reading an input file with that schema, and writing a
 * table as token part files of a managed dataset. Owned by wr_schema.c and wr_parts.c. */
#ifndef MORSEL_WRITE_INT_H
#define MORSEL_WRITE_INT_H

#include "morsel/dataset.h"
#include "morsel/store.h"
#include "morsel/threadpool.h"
#include "morsel/write.h"

/* Checks `in` against want[0..n_want) (include/morsel/write.h: compatible types, names in
 * any order) and returns a new table with exactly those columns in want order and types
 * (values converted; range-checked). `what` starts the schema error message ("batch for
 * feature view 'v' (source 's')"); input_name prefixes row errors ("batch.csv: row 17,
 * column 'ts': null timestamp"). not_null: columns (want names) that must have no null.
 * `optional`: want columns that may be absent from the input (they come back as all-null
 * columns; write-logs uses it for `__log_date`, then fills it). Errors set ms_error.row
 * (1-based) and ms_error.column. */
ms_status wr_conform(const ms_table *in, const ms_field *want, int n_want, const char *what,
                     const char *input_name, const char *const *not_null, int n_not_null,
                     const char *const *optional, int n_optional, ms_table **out,
                     ms_error *err);

/* Reads an input file for a writer: CSV with `want` as explicit column types (so a bad
 * cell is refused by the CSV reader with its row and column), Parquet as stored (then
 * wr_conform checks it). Format by extension. */
ms_status wr_read_input(const char *path, const ms_field *want, int n_want, ms_pool *pool,
                        ms_table **out, ms_error *err);

/* Writes `t` into the managed dataset `s` as new token part files in `format` (Parquet:
 * zstd, statistics; CSV: header, the dataset's delimiter by extension), rows grouped by
 * the values of partition_cols (hive `col=value/` folders in that order; dates as
 * YYYY-MM-DD, nulls as __HIVE_DEFAULT_PARTITION__; partition columns are not stored inside
 * the files), row order kept within each file, at most max_file_rows rows per file
 * (0 = no limit). Each file is written temp + fsync + rename. Fills out_files (paths
 * relative to the root, rows, bytes; free with wr_files_free) but does not commit. Calls
 * progress with stage "write" as rows are written. On error every file already written by
 * this call is removed. */
ms_status wr_write_parts(ms_store *s, const ms_table *t, const char *const *partition_cols,
                         int n_partition_cols, ms_file_format format, int64_t max_file_rows,
                         ms_pool *pool, const ms_write_options *opts, ms_store_file **out_files,
                         int *out_n, ms_error *err);
void wr_files_free(ms_store_file *files, int n);

#endif
