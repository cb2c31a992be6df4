/* The compute engine: aggregation feature views (repo.h, ms_aggregation_spec) computed
 * two ways that give the same numbers at the same timestamps (docs/compute.md):
 *
 *  (a) at a cutoff schedule: the view's source is read once (pruned, in parallel), its
 *      derived columns and filter evaluated, its rows ordered by (join keys, timestamp,
 *      source position); then one parallel task per cutoff T computes, for every entity in
 *      the population at T, each aggregation over its window and the derived outputs, and
 *      the result (join keys, features, event_timestamp = T) is written as the view's
 *      offline data: one Parquet file per cutoff under ms_compute_snapshot_dir, a managed
 *      dataset (include/morsel/store.h): each file is written to a temporary name, fsynced
 *      and renamed to a token name (`cutoff=<YYYYMMDDTHHMMSS[fffffffff]>.m<16 hex>.parquet`),
 *      then one commit publishes them all and removes the files they replace (the same
 *      cutoffs computed before, and other cutoffs' files from an older definition); removed
 *      files stay readable until ms_store_gc deletes them after the retention. Retrieval
 *      then reads these snapshots like any feature view's source.
 *  (b) as of each entity row: the same kernel run for the (keys, T) of entity rows during
 *      get_historical_features, for any timestamps, with no snapshots.
 *
 * Both run the same per-(entity, T) kernel over the same ordered rows, so their numbers are
 * bit-identical. An entity outside the population at T has no snapshot row in (a) and gets
 * nulls in (b).
 *
 * Aggregation results: count, count_distinct -> int64 (0 over an empty window); sum ->
 * int64 for integer input (overflow is an error), float64 otherwise, null over no non-null
 * value; mean, stddev, var -> float64 (stddev/var are sample statistics, ddof 1, null below
 * two values); min, max -> the input's type; first, last -> the input's type, the value at
 * the earliest / latest timestamp (ties: first / last in source order), nulls skipped;
 * mean_gap -> float64, null below two points. Nulls in the input are skipped by every
 * function except count without input (rows). Sums run in row order (timestamp, source
 * position) so that every mode and thread count gives the same bits. */
#ifndef MORSEL_COMPUTE_H
#define MORSEL_COMPUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "morsel/offline.h"
#include "morsel/registry.h"
#include "morsel/repo.h"
#include "morsel/status.h"
#include "morsel/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A cutoff schedule given on the command line; NULL members fall back to the view's
 * `cutoffs:` (an error when neither gives one). start/end: as in ms_aggregation_spec. */
typedef struct ms_cutoff_spec {
  const char *start;
  const char *end;
  int64_t every_seconds; /* 0 = from the view */
} ms_cutoff_spec;

typedef struct ms_compute_options {
  int threads;             /* 0 = the repository config */
  ms_progress_fn progress; /* stages "read <view>", "compute <view>", "write <view>" */
  void *progress_ctx;
  /* Issue 6: the snapshot commits are recorded in this registry as dataset
   * "aggregations:<view>", kind "compute" (NULL = no records, e.g. library use). */
  ms_registry *registry;
} ms_compute_options;

/* What a compute run did (ms_compute_result_reset frees it). */
typedef struct ms_compute_result {
  int n_cutoffs;
  int64_t *cutoff_ns;      /* UTC ns, ascending */
  int64_t *rows;           /* population size (rows written) per cutoff */
  char **paths;            /* the file written per cutoff (absolute) */
  int64_t generation;      /* the snapshot directory's manifest generation after the commit
                              (0 when nothing was committed: no cutoffs and nothing removed) */
  int64_t source_rows;     /* rows read from the source */
  int64_t rows_kept;       /* after the view filter and null-key/timestamp removal */
  double ms_read, ms_compute, ms_write;
} ms_compute_result;

void ms_compute_result_reset(ms_compute_result *r);

/* The cutoffs T = start, start + every, ... while T <= end (UTC ns, ascending). Reads the
 * source only when start or end mentions first_event / last_event. */
ms_status ms_compute_cutoffs(ms_repo *repo, const char *view, const ms_cutoff_spec *spec,
                             int64_t **out_ns, int *out_n, ms_error *err);

/* Computes `view` at its cutoffs and writes the snapshots (see (a) above). */
ms_status ms_compute_view(ms_repo *repo, const char *view, const ms_cutoff_spec *spec,
                          const ms_compute_options *opts, ms_compute_result *out,
                          ms_error *err);

/* Several views in one run: views over the same source share one read of it (the union of
 * the columns they need, derived columns and source filter evaluated once); then each view
 * is computed and written as by ms_compute_view. spec applies to every view (NULL members:
 * each view's own schedule). out has n_views results (each reset on failure). Every view and
 * schedule is checked before any work. The read time of a shared source is counted in the
 * first of its views' ms_read. */
ms_status ms_compute_views(ms_repo *repo, const char *const *views, int n_views,
                           const ms_cutoff_spec *spec, const ms_compute_options *opts,
                           ms_compute_result *out, ms_error *err);

/* The same at the given cutoffs, returned as one table instead of written: join keys,
 * the view's features (schema order), event_timestamp; rows ordered by cutoff, then by
 * join keys ascending. */
ms_status ms_compute_view_table(ms_repo *repo, const char *view, const int64_t *cutoff_ns,
                                int n_cutoffs, int threads, ms_table **out, ms_error *err);

/* Where the snapshots of a view live: <storage_path>/aggregations/<view> (ms_free). */
char *ms_compute_snapshot_dir(const ms_repo *repo, const char *view);

/* (b): the view's features as of each query row. key_cols[k] holds the values of the
 * view's k-th join key (entity order of its entities' join keys) for n rows; ts_ns[i] is
 * row i's time as UTC ns and ts_ok[i] (NULL = all) 0 when it is null (the row then gets
 * nulls, as does a row with a null key). features: the view's feature names to return
 * (NULL = all, schema order). The result has one column per feature, n rows, in query
 * order. */
ms_status ms_compute_asof(ms_repo *repo, const ms_feature_view_def *view,
                          ms_column *const *key_cols, const int64_t *ts_ns,
                          const uint8_t *ts_ok, int64_t n, const char *const *features,
                          int n_features, int threads, ms_table **out, ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
