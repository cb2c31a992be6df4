/* The offline store: point-in-time correct historical retrieval, pull_latest and pull_all
 * over a feature repository's sources, as lazy retrieval jobs.
 *
 * A job is planned when it is created (references resolved, entity columns checked, source
 * files opened for their metadata, pre-filter bounds and prune ranges computed) and runs
 * only when its result is asked for (to_table, write, arrow stream, persist, or
 * explain with analyze). Planning errors therefore come before any work or output.
 *
 * Semantics (docs/retrieval.md is the full contract): one output row per entity row, in
 * entity order; entity columns unchanged, then the requested features (views in order of
 * first appearance, features in request order) named `feature` or `view__feature`. For each
 * (entity row e, view v): candidates are source rows whose join keys all equal e's (a null
 * never matches), with ts <= e.ts and, when v.ttl > 0, ts >= e.ts - ttl (both inclusive;
 * with filter_by_created_timestamp also created <= e.ts); the winner is the largest
 * (ts, created) pair, a null created ranking lowest, an exact tie going to the row last in
 * source order (files in sorted path order, rows in file order). No candidate: nulls.
 * Timestamps are compared as exact UTC nanoseconds (naive = UTC); output keeps the source's
 * types, units and time zones.
 *
 * Execution is partitioned by a hash of the join keys into independent partitions (plain
 * data, so that a later issue can ship partitions to other machines) and runs on a thread
 * pool; the answer never depends on the thread or partition count. */
#ifndef MORSEL_OFFLINE_H
#define MORSEL_OFFLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "morsel/arrow.h"
#include "morsel/registry.h"
#include "morsel/repo.h"
#include "morsel/status.h"
#include "morsel/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Progress of a running job: stage is a short static string ("read entity", "read
 * <view>", "join <view>", "assemble", "write"); rows_total is -1 when unknown. Called from
 * the thread that runs the job (never from pool workers), at most a few times a second. */
typedef void (*ms_progress_fn)(void *ctx, const char *stage, int64_t rows_done,
                               int64_t rows_total);

/* How aggregation feature views (include/morsel/compute.h) are served. AUTO: from their
 * computed snapshots when the view has any (ms_compute_view), else as of each entity
 * row. STORED: from the snapshots (an error when there are none). AS_OF: computed as of
 * each entity row, snapshots ignored. */
typedef enum ms_aggregation_mode {
  MS_AGGREGATIONS_AUTO = 0,
  MS_AGGREGATIONS_STORED = 1,
  MS_AGGREGATIONS_AS_OF = 2
} ms_aggregation_mode;

typedef struct ms_historical_request {
  /* What to retrieve: feature references "view:feature" (a view may be a feature view, an
   * aggregation view, an on-demand feature view or
   * a feature service alias), or a feature service by name. Exactly one of the two. */
  const char *const *feature_refs;
  int n_feature_refs;
  const char *feature_service;

  /* The entity input: a table, or a file/directory/glob read as a dataset (Parquet or
   * CSV by extension). Neither = entity-less mode over [start_ns, end_ns] (both required
   * then): the entity rows are the distinct (join keys, ts) of the requested views'
   * sources in that range. */
  const ms_table *entity_table;
  const char *entity_path;
  bool has_start, has_end;
  int64_t start_ns, end_ns; /* UTC nanoseconds, inclusive */

  bool full_feature_names;
  bool filter_by_created_timestamp;
  ms_aggregation_mode aggregation_mode;

  /* 0 = the repository config (offline_store.threads; 0 there = all cores). */
  int threads;
  ms_progress_fn progress;
  void *progress_ctx;
} ms_historical_request;

void ms_historical_request_init(ms_historical_request *req);

typedef enum ms_pull_mode { MS_PULL_LATEST = 0, MS_PULL_ALL = 1 } ms_pull_mode;

typedef struct ms_pull_request {
  ms_pull_mode mode;
  const char *feature_view; /* exactly one of feature_view, source and feature_service_logs */
  const char *source;       /* a source alone: every non-timestamp column is a feature */
  /* A feature service's log destination (include/morsel/write.h): timestamp
   * `__log_timestamp`, no join keys, every other log column a feature. */
  const char *feature_service_logs;
  /* select_features: only these features, in this order (n_features 0 = join keys and
   * timestamp only); otherwise every feature of the view. */
  bool select_features;
  const char *const *features;
  int n_features;
  bool has_start, has_end;
  int64_t start_ns, end_ns; /* inclusive; missing = unbounded */
  int threads;
  ms_progress_fn progress;
  void *progress_ctx;
} ms_pull_request;

void ms_pull_request_init(ms_pull_request *req);

typedef struct ms_retrieval_job ms_retrieval_job;

/* Plan a get_historical_features job. The repo must outlive the job; entity_table is
 * retained. Errors (unknown view or feature, name collision, missing entity columns,
 * no or ambiguous entity timestamp column, unreadable entity input or source) name what
 * is wrong and happen here, before any output. */
ms_status ms_get_historical_features(ms_repo *repo, const ms_historical_request *req,
                                     ms_retrieval_job **out, ms_error *err);

/* Plan a pull_latest / pull_all job: rows with start <= ts <= end. Latest: one row per
 * join-key tuple, the largest (ts, created, source position); no join keys: the single
 * latest row. All: every row, ordered by ts ascending (stable in source order). Columns:
 * join keys, features, timestamp, created (when the source has one), logical names. */
ms_status ms_pull(ms_repo *repo, const ms_pull_request *req, ms_retrieval_job **out,
                  ms_error *err);

void ms_retrieval_job_free(ms_retrieval_job *job); /* NULL is allowed */

/* The plan as text: per view the files, row groups total/kept, partitions pruned, columns
 * read, pre-filter bounds, join strategy, partitions and threads. With analyze the job is
 * run first (its result kept for a later to_table/write) and actual rows, time per stage
 * and peak memory are added. The string is freed with ms_free. */
ms_status ms_retrieval_job_explain(ms_retrieval_job *job, bool analyze, char **out_text,
                                   ms_error *err);

/* Runs the job (once; later calls return the same result). The table is retained for the
 * caller (release it with ms_table_release). */
ms_status ms_retrieval_job_to_table(ms_retrieval_job *job, ms_table **out, ms_error *err);

/* Runs the job and exports the result as an Arrow C stream. */
ms_status ms_retrieval_job_to_arrow_stream(ms_retrieval_job *job, struct ArrowArrayStream *out,
                                           ms_error *err);

/* Runs the job and writes the result to path, Parquet or CSV by extension, atomically
 * (temporary name, fsync, rename): on error nothing is left at path. */
ms_status ms_retrieval_job_write(ms_retrieval_job *job, const char *path, ms_error *err);

/* Retrieval metadata (valid after planning; min/max after running for entity-less mode). */
typedef struct ms_retrieval_metadata {
  int n_features;
  const char *const *features;  /* the resolved refs "view:feature" in output order */
  int n_join_keys;
  const char *const *join_keys; /* entity columns used as join keys (after join_key_map) */
  bool full_feature_names;
  int64_t min_event_ns, max_event_ns; /* over the entity rows; 0/0 when there are none */
  int n_views;
  const char *const *view_names;  /* feature views used (not aliases) */
  const char *const *view_hashes; /* their definition hashes (lineage) */
} ms_retrieval_metadata;

const ms_retrieval_metadata *ms_retrieval_job_metadata(const ms_retrieval_job *job);

/* ---- saved datasets ---- */

typedef struct ms_saved_dataset_options {
  const char *name;
  const char *storage_path;  /* NULL = <storage_path>/saved_datasets/<name>.parquet */
  bool allow_overwrite;
  int n_tags;
  const ms_kv_pair *tags;
  const char *feature_service; /* recorded when the job came from one; may be NULL */
} ms_saved_dataset_options;

/* Runs the job, writes the result atomically to the storage path and registers a saved
 * dataset (kind "saved_dataset") in reg, in repo's project, with features, join keys,
 * full_feature_names, min/max event ts, tags, storage path and the definition hashes of the
 * views used, with lineage edges from those views. repo is the repository the job was
 * planned on (it gives the project and the default storage_path). Without allow_overwrite
 * an existing file or registered name is MS_ERR_EXISTS and nothing is touched; with it the
 * old file is replaced whole. The file is published before the registry record, so a crash
 * in between leaves at worst an unregistered file, never a record without its file. */
ms_status ms_retrieval_job_persist(ms_retrieval_job *job, ms_repo *repo, ms_registry *reg,
                                   const ms_saved_dataset_options *opts, ms_error *err);

/* Reads a registered saved dataset back as a table (its stored columns and rows). */
ms_status ms_saved_dataset_read(ms_repo *repo, ms_registry *reg, const char *name,
                                ms_table **out, ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
