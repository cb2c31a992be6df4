/* Datasets: one logical table over many files.
 *
 * A path is a file, a directory of files (recursively; hidden files and names starting
 * with '_' or '.' are skipped, except hive folders such as `__log_date=2024-01-01/`), a glob ('*', '?', '[...]' within a segment, '**' across
 * directories, e.g. data/part-?.parquet), or a
 * hive-partitioned directory whose `key=value/` folders become typed partition columns
 * (int64 when every value parses as one, else date32 for YYYY-MM-DD, else utf8;
 * `__HIVE_DEFAULT_PARTITION__` is null). Files are taken in sorted path order, which is the
 * dataset's row order. File schemas are unified: a column missing from a file reads as
 * nulls; the same column with conflicting types is an error naming both files. Predicates
 * on partition columns prune whole files; predicates on file columns prune Parquet row
 * groups. */
#ifndef MORSEL_DATASET_H
#define MORSEL_DATASET_H

#include "morsel/csv.h"
#include "morsel/fs.h"
#include "morsel/table.h"
#include "morsel/threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ms_file_format {
  MS_FORMAT_AUTO = 0, /* by extension: .parquet/.pq/.parq, .csv/.tsv/.txt */
  MS_FORMAT_PARQUET = 1,
  MS_FORMAT_CSV = 2
} ms_file_format;

typedef struct ms_dataset ms_dataset;

typedef struct ms_dataset_options {
  ms_file_format format;
  const ms_csv_read_options *csv; /* NULL = defaults */
  bool hive_partitioning;         /* default true */
} ms_dataset_options;

void ms_dataset_options_init(ms_dataset_options *opts);

ms_status ms_dataset_open(ms_fs *fs, const char *path, const ms_dataset_options *opts,
                          ms_dataset **out, ms_error *err);
void ms_dataset_close(ms_dataset *ds); /* NULL is allowed */

int64_t ms_dataset_num_files(const ms_dataset *ds);
const char *ms_dataset_file_path(const ms_dataset *ds, int64_t i);
/* Unified schema: file columns first (in first-seen order), then partition columns. */
int ms_dataset_num_fields(const ms_dataset *ds);
const ms_field *ms_dataset_field(const ms_dataset *ds, int i);
bool ms_dataset_field_is_partition(const ms_dataset *ds, int i);

typedef struct ms_dataset_read_options {
  const char *const *columns; /* NULL = all */
  int n_columns;
  const ms_range *ranges;     /* pruning only: partitions and row groups */
  int n_ranges;
  ms_pool *pool;
} ms_dataset_read_options;

typedef struct ms_dataset_read_stats {
  int64_t files_total, files_kept;
  int64_t row_groups_total, row_groups_kept;
  int64_t bytes_read;
} ms_dataset_read_stats;

ms_status ms_dataset_read(ms_dataset *ds, const ms_dataset_read_options *opts, ms_table **out,
                          ms_dataset_read_stats *stats, ms_error *err);

/* Format of a path by extension (MS_FORMAT_AUTO when unknown). */
ms_file_format ms_format_from_path(const char *path);

#ifdef __cplusplus
}
#endif
#endif
