/* Writing to the offline store: offline_write_batch, write_logged_features, compaction.
 *
 * Every write goes through the managed-dataset commit protocol (include/morsel/store.h):
 * data files under temporary names, fsync, rename, then one manifest commit recorded in
 * the registry. Nothing is written when the input is refused. docs/storage.md describes
 * the on-disk layout and the guarantees; docs/writing.md the commands.
 *
 * Batch schema (ms_write_batch_schema): a batch for feature view V carries exactly the
 * columns of V's source by logical name (field_mapping applied; derived `columns:` of the
 * source are not part of it - they are computed when read), in any order:
 *  - when the source has data: the source's columns (hive partition columns included) with
 *    their types;
 *  - when it has none yet: V's join keys (the entities' value types), the source's
 *    timestamp_field (timestamp[us, UTC]) and created_timestamp_column (same), V's
 *    features (declared dtypes) and the date_partition_column (date32) when set.
 * Compatible types: integers of any width into an integer or float column (range checked
 * per value), float32 into float64, any timestamp unit / time zone (naive = UTC) into a
 * timestamp column (converted exactly, out of range refused), date32 into date32, utf8
 * into utf8, bool into bool. A mismatch is MS_ERR_TYPE (a missing or extra column
 * MS_ERR_INVALID) with one message listing every missing, extra and mistyped column:
 *   "batch for feature view 'driver_stats' (source 'driver_source'): missing columns:
 *    [conv_rate]; extra columns: [speed]; mistyped columns: [trips: got utf8, want int64]"
 * Row checks (before any file is written): a null join key, a null timestamp_field value,
 * a null date partition value, an integer out of range, a timestamp out of the target
 * unit's range: MS_ERR_INVALID with ms_error.row = the 1-based data row of the input
 * (header not counted) and ms_error.column = the column's name in the input, and the
 * message naming both, e.g. "batch.csv: row 17, column 'event_timestamp': null timestamp".
 * CSV input files are read with the batch schema as explicit types, so an unparseable
 * timestamp or number is refused by the CSV reader with its row and column. */
#ifndef MORSEL_WRITE_H
#define MORSEL_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "morsel/arrow.h"
#include "morsel/offline.h"
#include "morsel/registry.h"
#include "morsel/repo.h"
#include "morsel/status.h"
#include "morsel/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_write_options {
  int threads;                /* 0 = the repository config */
  ms_progress_fn progress;    /* stage "check", "write", "commit"; rows_done = rows written */
  void *progress_ctx;
  const char *input_name;     /* for messages: the input file or "batch"; NULL = "batch" */
} ms_write_options;

void ms_write_options_init(ms_write_options *opts);

typedef struct ms_write_result {
  int64_t rows_written;
  int64_t files_written;      /* new data files (1 for a single-file rewrite) */
  int64_t generation;         /* the commit's generation (single file: registry record number) */
  char *target;               /* the dataset root or single file written (ms_free) */
} ms_write_result;

void ms_write_result_reset(ms_write_result *r);

/* The columns a batch for the view must carry (see above). *out owned by the caller
 * (ms_repo_fields_free). */
ms_status ms_write_batch_schema(ms_repo *repo, const char *feature_view, ms_field **out,
                                int *out_n, ms_error *err);

/* offline_write_batch. Directory or partitioned source: new part files (grouped by the
 * date partition column when the source has one, in the source's format), one commit.
 * Single-file source: rewritten atomically as old rows then new rows. reg may be NULL
 * (no registry records). Aggregation and on-demand views are refused (they have no source
 * of their own to append to: write to the view over their source). */
ms_status ms_write_batch(ms_repo *repo, ms_registry *reg, const char *feature_view,
                         const ms_table *batch, const ms_write_options *opts,
                         ms_write_result *out, ms_error *err);
/* The same from an Arrow C stream (consumed and released) or a Parquet/CSV file. */
ms_status ms_write_batch_arrow(ms_repo *repo, ms_registry *reg, const char *feature_view,
                               struct ArrowArrayStream *stream, const ms_write_options *opts,
                               ms_write_result *out, ms_error *err);
ms_status ms_write_batch_file(ms_repo *repo, ms_registry *reg, const char *feature_view,
                              const char *input_path, const ms_write_options *opts,
                              ms_write_result *out, ms_error *err);

/* ---- feature logging (write_logged_features) ----
 * Log schema of a feature service, in Feast's order: for each item (view projection,
 * named by its alias or view name), its join keys (after join_key_map; the first
 * occurrence wins when items share a key) or an on-demand view's request columns; then per
 * feature `<proj>__<feature>` (the feature's type), `<proj>__<feature>__timestamp`
 * (timestamp[us, UTC]), `<proj>__<feature>__status` (int32); then `__log_timestamp`
 * (timestamp[us, UTC]), `__log_date` (date32), `__request_id` (utf8). */
ms_status ms_log_schema(ms_repo *repo, const char *feature_service, ms_field **out, int *out_n,
                        ms_error *err);

/* Appends logs to the service's logging destination (the service must have `logging:`).
 * The input carries the log schema's columns (any order; `__log_date` may be absent and is
 * then derived from `__log_timestamp`; when present it must equal that date). Null
 * `__log_timestamp` or `__request_id` is refused with row and column. sample_rate < 1
 * keeps a request's rows when xxh3(__request_id) / 2^64 < sample_rate (a request is kept
 * or dropped whole, the same way every time). Files are partitioned by the destination's
 * partition_by columns (hive `col=value/` folders). rows_written counts kept rows. */
ms_status ms_write_logs(ms_repo *repo, ms_registry *reg, const char *feature_service,
                        const ms_table *logs, const ms_write_options *opts,
                        ms_write_result *out, ms_error *err);
ms_status ms_write_logs_file(ms_repo *repo, ms_registry *reg, const char *feature_service,
                             const char *input_path, const ms_write_options *opts,
                             ms_write_result *out, ms_error *err);

/* ---- compaction ----
 * Merges runs of adjacent small live token files (sorted path order, within one partition
 * folder) of a view's source directory into files of about target_bytes (default
 * offline_store.target_partition_size_mb), preserving row order exactly, in one commit
 * that removes the inputs. A file of at least target_bytes / 2 is left alone. Files
 * without the token (placed by other tools) are never merged. The removed files are
 * deleted by ms_store_gc once the retention has passed (run at the end of compaction). A
 * compaction that finds a concurrent commit removed its inputs first returns
 * MS_ERR_CONFLICT and leaves nothing behind. A merged file takes the name
 * `<stem of its first input>.m<new token>.<ext>` in the inputs' folder, so it sorts where
 * they did; Parquet inputs are rewritten row group by row group, CSV inputs concatenated
 * (header once). Runs break at files of another schema or header. */
typedef struct ms_compact_options {
  int64_t target_bytes;       /* 0 = offline_store.target_partition_size_mb */
  int threads;
  ms_progress_fn progress;
  void *progress_ctx;
} ms_compact_options;

void ms_compact_options_init(ms_compact_options *opts);

typedef struct ms_compact_result {
  int64_t files_before, files_after; /* live token files */
  int64_t files_merged, files_written;
  int64_t rows;                      /* rows rewritten */
  int64_t generation;                /* 0 when nothing needed merging */
  int64_t files_deleted;             /* by the garbage collection afterwards */
  /* H4: the source is one file (nothing to compact; everything else 0), so callers can
   * say so rather than print "0 files". */
  bool single_file;
} ms_compact_result;

ms_status ms_compact_view(ms_repo *repo, ms_registry *reg, const char *feature_view,
                          const ms_compact_options *opts, ms_compact_result *out,
                          ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
