/* Reading and writing Apache Parquet files (flat schemas).
 *
 * Reader: ms_pq_open reads and validates the footer; ms_pq_read decodes the selected
 * columns of the selected row groups into an ms_table, in parallel over column chunks on
 * an optional thread pool. Nested columns (LIST, MAP, STRUCT) are listed by ms_pq_field
 * with is_nested set; asking for one is MS_ERR_UNSUPPORTED naming the column, while the
 * file's flat columns still read. Row groups can be pruned by range predicates on their
 * min/max statistics (groups without statistics are kept).
 *
 * Writer: ms_pq_writer_* streams tables into row groups and publishes the file atomically
 * (temporary name, fsync, rename) at close; ms_pq_write_table is the one-call form. */
#ifndef MORSEL_PARQUET_H
#define MORSEL_PARQUET_H

#include "morsel/compression.h"
#include "morsel/fs.h"
#include "morsel/table.h"
#include "morsel/threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_pq_file ms_pq_file;

/* Opens path and decodes its footer. The file stays open until ms_pq_close. */
ms_status ms_pq_open(ms_fs *fs, const char *path, ms_pq_file **out, ms_error *err);
void ms_pq_close(ms_pq_file *f); /* NULL is allowed */

int64_t ms_pq_num_rows(const ms_pq_file *f);
int ms_pq_num_row_groups(const ms_pq_file *f);
int64_t ms_pq_row_group_num_rows(const ms_pq_file *f, int row_group);
/* Top-level columns in file order. For nested ones `type` is meaningless. */
int ms_pq_num_fields(const ms_pq_file *f);
const ms_field *ms_pq_field(const ms_pq_file *f, int i);
bool ms_pq_field_is_nested(const ms_pq_file *f, int i);
/* Footer key-value metadata. value may be NULL. */
int ms_pq_num_kv(const ms_pq_file *f);
const char *ms_pq_kv_key(const ms_pq_file *f, int i);
const char *ms_pq_kv_value(const ms_pq_file *f, int i);
/* Internal metadata (src/formats/parquet/pq_metadata.h) for inspection tools. */
const struct ms_pq_metadata *ms_pq_metadata_of(const ms_pq_file *f);

typedef struct ms_pq_read_options {
  const char *const *columns; /* NULL = every flat column, in file order */
  int n_columns;
  const ms_range *ranges;     /* row-group pruning, all must overlap (AND) */
  int n_ranges;
  const int *row_groups;      /* NULL = all row groups */
  int n_row_groups;
  ms_pool *pool;              /* NULL = decode on the calling thread */
} ms_pq_read_options;

typedef struct ms_pq_read_stats {
  int64_t row_groups_total;
  int64_t row_groups_kept;
  int64_t bytes_read;
} ms_pq_read_stats;

/* Decodes into a new table (columns in the order asked). stats may be NULL. */
ms_status ms_pq_read(ms_pq_file *f, const ms_pq_read_options *opts, ms_table **out,
                     ms_pq_read_stats *stats, ms_error *err);

/* Decodes a whole file held in memory (used by the fuzz target and tests). */
ms_status ms_pq_read_buffer(const uint8_t *data, int64_t len, const char *name,
                            const ms_pq_read_options *opts, ms_table **out, ms_error *err);

typedef struct ms_pq_write_options {
  ms_codec compression;     /* default zstd */
  int compression_level;    /* 0 = codec default */
  int data_page_version;    /* 1 (default) or 2 */
  int64_t row_group_rows;   /* default 1,048,576 */
  int64_t row_group_bytes;  /* default 128 MiB of uncompressed data */
  int64_t page_bytes;       /* default 1 MiB */
  bool dictionary;          /* default true; falls back to plain past dictionary_limit */
  int64_t dictionary_limit; /* default 1 MiB of dictionary */
  bool statistics;          /* default true */
  const char *const *kv_keys; /* footer key-value metadata */
  const char *const *kv_values;
  int n_kv;
  ms_pool *pool;            /* encode columns in parallel */
} ms_pq_write_options;

void ms_pq_write_options_init(ms_pq_write_options *opts);

typedef struct ms_pq_writer ms_pq_writer;

ms_status ms_pq_writer_open(ms_fs *fs, const char *path, const ms_field *fields, int n_fields,
                            const ms_pq_write_options *opts, ms_pq_writer **out, ms_error *err);
/* Appends rows; the table's schema must match the writer's. */
ms_status ms_pq_writer_write(ms_pq_writer *w, const ms_table *table, ms_error *err);
/* Flushes, writes the footer and publishes the file. Frees the writer either way. */
ms_status ms_pq_writer_close(ms_pq_writer *w, ms_error *err);
/* Discards everything; the target is untouched. NULL is allowed. */
void ms_pq_writer_abort(ms_pq_writer *w);

ms_status ms_pq_write_table(ms_fs *fs, const char *path, const ms_table *table,
                            const ms_pq_write_options *opts, ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
