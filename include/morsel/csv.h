/* Reading and writing CSV (RFC 4180).
 *
 * Reader: quotes, doubled quotes, embedded newlines, CRLF, a header row, any one-byte
 * delimiter, null tokens. Column types are inferred from a sample (int64, float64, bool,
 * date32, timestamp[ns] — with tz "UTC" when the text carries 'Z' or an offset, naive
 * otherwise — and utf8), and any column's type can be fixed by an explicit schema. Large
 * inputs are split into chunks parsed in parallel; chunk boundaries are found so that a
 * quoted newline never splits a record. Errors name the file, row (1-based line of the
 * record in the file) and column.
 *
 * Writer: quotes fields that need it; timestamps as ISO-8601 with all stored digits. */
#ifndef MORSEL_CSV_H
#define MORSEL_CSV_H

#include "morsel/fs.h"
#include "morsel/table.h"
#include "morsel/threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_csv_read_options {
  char delimiter;                  /* default ',' */
  bool header;                     /* default true; false names columns f0, f1, ... */
  const char *const *null_values;  /* default: "" and "NULL", "null", "NA", "N/A" */
  int n_null_values;
  const ms_field *schema;          /* explicit types by column name (others inferred) */
  int n_schema;
  int64_t infer_rows;              /* rows sampled for inference, default 10,000 */
  const char *const *columns;      /* projection, NULL = all */
  int n_columns;
  ms_pool *pool;                   /* parallel chunks when set */
  int64_t chunk_bytes;             /* default 16 MiB */
} ms_csv_read_options;

void ms_csv_read_options_init(ms_csv_read_options *opts);

ms_status ms_csv_read(ms_fs *fs, const char *path, const ms_csv_read_options *opts,
                      ms_table **out, ms_error *err);
/* Parses an in-memory CSV; name is used in errors. */
ms_status ms_csv_read_buffer(const uint8_t *data, int64_t len, const char *name,
                             const ms_csv_read_options *opts, ms_table **out, ms_error *err);
/* Reads only the header and infers the schema from the sample. The caller frees the
 * fields with ms_field_reset and the array with ms_free. */
ms_status ms_csv_infer_schema(ms_fs *fs, const char *path, const ms_csv_read_options *opts,
                              ms_field **out_fields, int *out_n, ms_error *err);

typedef struct ms_csv_write_options {
  char delimiter;                  /* default ',' */
  bool header;                     /* default true */
  const char *null_value;          /* default "" */
} ms_csv_write_options;

void ms_csv_write_options_init(ms_csv_write_options *opts);

/* Writes atomically (temporary name, fsync, rename). */
ms_status ms_csv_write(ms_fs *fs, const char *path, const ms_table *table,
                       const ms_csv_write_options *opts, ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
