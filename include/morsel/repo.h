/* A feature repository: feature_store.yaml plus YAML definitions, loaded and validated.
 *
 * ms_repo_load finds feature_store.yaml (or the --config file), substitutes ${ENV_VAR}s,
 * parses the configuration (Feast-shaped keys; keys of Feast's Ray store are accepted and
 * mapped or noted; unknown keys are errors with a "did you mean" suggestion), then loads
 * every definitions file (*.yaml under the repo other than the config, or the config's
 * `definitions:` list) and validates the whole set: unknown keys, unknown references,
 * duplicate names, a feature named like a join key, timestamp_field equal to
 * created_timestamp_column, bad durations, unknown dtypes. Every error names
 * file:line:column; all problems are collected and reported at once (err carries the first,
 * ms_repo_problems lists all). Relative paths resolve against the repository directory.
 *
 * ms_repo_objects turns the definitions into registry objects: canonical JSON (sorted keys,
 * no insignificant whitespace, defaults made explicit) with an xxh3-128 hex hash, plus the
 * lineage edges (source -> feature view -> on-demand view -> feature service). */
#ifndef MORSEL_REPO_H
#define MORSEL_REPO_H

#include <stdbool.h>
#include <stdint.h>

#include "morsel/registry.h"
#include "morsel/status.h"
#include "morsel/table.h"
#include "morsel/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_repo ms_repo;

typedef struct ms_repo_config {
  char *project;
  char *provider;               /* "local" */
  char *repo_dir;               /* absolute */
  char *config_path;            /* absolute */
  /* registry */
  char *registry_location;      /* absolute SQLite path or postgresql:// URL */
  int64_t cache_ttl_seconds;    /* default 60 */
  /* offline_store (type morsel) */
  char *storage_path;           /* absolute; default <repo>/data/morsel_storage */
  int threads;                  /* 0 = all cores */
  int64_t memory_limit_mb;      /* 0 = none */
  int64_t broadcast_join_threshold_mb; /* default 100 */
  int64_t target_partition_size_mb;    /* default 64 */
  int64_t max_parallelism_multiplier;  /* default 2 */
  int64_t window_size_for_joins_s;     /* default 3600 (1h) */
  int64_t file_retention_seconds;      /* default 3600: how long files removed by a commit
                                          (compaction, recompute) stay for running readers */
  bool enable_logging;
  /* notes about accepted-but-mapped keys (Ray store keys), one line each */
  int n_notes;
  char **notes;
} ms_repo_config;

typedef struct ms_feature_field {
  char *name;
  char *dtype;                  /* bool, int32, int64, float32, float64, string, bytes, timestamp, date */
  char *description;
} ms_feature_field;

typedef struct ms_kv_pair {
  char *key;
  char *value;
} ms_kv_pair;

typedef struct ms_entity_def {
  char *name;
  int n_join_keys;
  char **join_keys;
  char *value_type;
  char *description;
  char *owner;
  int n_tags;
  ms_kv_pair *tags;
  char *where;                  /* "file:line:col" of the definition */
} ms_entity_def;

/* A named expression: a derived column of an aggregation view's source, a derived output
 * of an aggregation view, or an output of an on-demand feature view. */
typedef struct ms_named_expr {
  char *name;
  char *expression;             /* text in the expression language (include/morsel/expr.h) */
  char *where;                  /* "file:line:col" of the expression's YAML value */
} ms_named_expr;

typedef struct ms_source_def {
  char *name;
  char *path;                   /* absolute (resolved against the repo) */
  char *file_format;            /* parquet | csv */
  char *timestamp_field;
  char *created_timestamp_column; /* NULL when absent */
  int n_field_mapping;
  ms_kv_pair *field_mapping;    /* source column -> logical name */
  char *date_partition_column;  /* NULL when absent */
  /* Cleaning, applied wherever the source is read (retrieval, pulls, compute): derived
   * columns evaluated in order (each may use the source's logical columns and earlier
   * derived ones; a derived column may replace a column of the same name), then the filter
   * (rows where it is not true are dropped). */
  int n_columns;
  ms_named_expr *columns;
  char *filter;                 /* NULL = none */
  char *description;
  char *owner;
  int n_tags;
  ms_kv_pair *tags;
  char *where;
} ms_source_def;

/* One aggregation of an aggregation feature view. Windows are half-open: backward
 * [T - window, T) (the default), forward [T, T + window) (for labels); unbounded backward
 * is (-inf, T), unbounded forward [T, +inf). */
typedef struct ms_aggregation_def {
  char *name;
  char *function;               /* count | count_distinct | sum | mean | min | max | first |
                                   last | stddev | var | mean_gap */
  char *input;                  /* expression; NULL only for count (counts rows) */
  int64_t window_seconds;       /* -1 = unbounded */
  bool forward;                 /* `direction: forward` */
  char *filter;                 /* bool expression; NULL = every row of the view */
  char *by;                     /* mean_gap: expression whose distinct values are the points
                                   (each at the time of its first row in the window, rows
                                   taken in (timestamp, source position) order); NULL =
                                   one point per row */
  int64_t unit_seconds;         /* mean_gap: gaps floored to whole units; default 86400 */
  char *where;
} ms_aggregation_def;

/* The aggregation part of a feature view (present when n_aggregations > 0). Expressions
 * over the source see its columns by logical name (after field_mapping) and its derived
 * columns. The view's join keys are the source columns (or derived columns) named like
 * its entities' join keys; their values are compared like retrieval compares keys. */
typedef struct ms_aggregation_spec {
  char *timestamp_field;        /* logical name; NULL = the source's timestamp_field */
  char *filter;                 /* view-wide row filter after the source's; NULL = none */
  int n_aggregations;
  ms_aggregation_def *aggregations;
  int n_expressions;
  ms_named_expr *expressions;   /* outputs over aggregates, earlier expressions and `as_of`
                                   (the timestamp the features are computed for) */
  /* population: entities with at least one row passing the view filter and the population
   * filter in [T - window, T). Default window: the largest finite backward window of the
   * aggregations (unbounded when there is none). */
  int64_t population_window_seconds; /* -1 = unbounded */
  char *population_filter;      /* NULL = none */
  /* cutoff schedule for `morsel compute` (has_cutoffs false = none declared). start/end are
   * timestamps ('2011-03-01 08:26:00') or expressions over first_event / last_event (the
   * min / max timestamp of the rows passing the view filter), e.g. "first_event + 90d". */
  bool has_cutoffs;
  char *cutoff_start;
  char *cutoff_end;
  int64_t cutoff_every_seconds;
} ms_aggregation_spec;

typedef struct ms_feature_view_def {
  char *name;
  int n_entities;
  char **entities;              /* entity names; 0 = entity-less */
  int64_t ttl_seconds;          /* 0 = no limit */
  char *source;
  int n_schema;
  ms_feature_field *schema;     /* the published features (aggregation views: names of
                                   aggregations or expressions, in output order) */
  bool online;
  ms_aggregation_spec agg;      /* agg.n_aggregations > 0: an aggregation feature view */
  char *description;
  char *owner;
  int n_tags;
  ms_kv_pair *tags;
  char *where;
} ms_feature_view_def;

/* An on-demand feature view: outputs computed after the point-in-time join from features
 * of its source views and request columns of the entity input. Expressions see each
 * source feature as `view.feature` and, when no two sources share the name, as `feature`,
 * plus the request columns by name. */
typedef struct ms_odfv_def {
  char *name;
  int n_sources;
  char **sources;               /* feature view names (aggregation views included) */
  int n_request;
  ms_feature_field *request;    /* columns the entity input must carry */
  int n_schema;
  ms_feature_field *schema;     /* outputs: name, dtype */
  ms_named_expr *outputs;       /* [n_schema]: the expression of each output */
  char *description;
  char *owner;
  int n_tags;
  ms_kv_pair *tags;
  char *where;
} ms_odfv_def;

typedef struct ms_feature_service_item {
  char *view;                   /* feature view or on-demand view name */
  int n_features;               /* 0 = every feature of the view */
  char **features;
  char *alias;                  /* NULL when absent */
  int n_join_key_map;
  ms_kv_pair *join_key_map;     /* view join key -> entity column */
} ms_feature_service_item;

typedef struct ms_feature_service_def {
  char *name;
  int n_items;
  ms_feature_service_item *items;
  /* Feature logging (`logging: {destination: {path, partition_by}, sample_rate}`):
   * has_logging false = none. log_path is absolute (resolved against the repo). */
  bool has_logging;
  char *log_path;
  int n_log_partition_by;
  char **log_partition_by;      /* log schema columns, e.g. "__log_date" */
  double log_sample_rate;       /* (0, 1]; default 1.0 */
  char *description;
  char *owner;
  int n_tags;
  ms_kv_pair *tags;
  char *where;
} ms_feature_service_def;

/* Loads and validates. repo_dir NULL = current directory; config_path NULL =
 * <repo_dir>/feature_store.yaml. On validation failure returns MS_ERR_PARSE (YAML) or
 * MS_ERR_INVALID (definitions) and, when out_problems is not NULL, every problem found as
 * "file:line:col: message" strings (free with ms_repo_problems_free). */
ms_status ms_repo_load(const char *repo_dir, const char *config_path, ms_repo **out,
                       char ***out_problems, int *out_n_problems, ms_error *err);
void ms_repo_free(ms_repo *repo); /* NULL is allowed */
void ms_repo_problems_free(char **problems, int n);

const ms_repo_config *ms_repo_get_config(const ms_repo *repo);
int ms_repo_num_entities(const ms_repo *repo);
const ms_entity_def *ms_repo_entity(const ms_repo *repo, int i);
int ms_repo_num_sources(const ms_repo *repo);
const ms_source_def *ms_repo_source(const ms_repo *repo, int i);
int ms_repo_num_feature_views(const ms_repo *repo);
const ms_feature_view_def *ms_repo_feature_view(const ms_repo *repo, int i);
int ms_repo_num_odfvs(const ms_repo *repo);
const ms_odfv_def *ms_repo_odfv(const ms_repo *repo, int i);
int ms_repo_num_feature_services(const ms_repo *repo);
const ms_feature_service_def *ms_repo_feature_service(const ms_repo *repo, int i);

/* Lookups by name (NULL when absent). */
const ms_feature_view_def *ms_repo_find_feature_view(const ms_repo *repo, const char *name);
const ms_odfv_def *ms_repo_find_odfv(const ms_repo *repo, const char *name);
const ms_source_def *ms_repo_find_source(const ms_repo *repo, const char *name);

/* Type-checks every expression of the repository (on-demand views against their sources'
 * schemas and request columns; aggregation views against their source's columns, read
 * from the source files' metadata) and checks declared dtypes against the inferred ones.
 * Run by `apply`, `plan` and `validate`. Problems are collected like ms_repo_load's:
 * "file:line:col: view 'v', expression of 'x': at column N: ...". */
ms_status ms_repo_typecheck(ms_repo *repo, char ***out_problems, int *out_n_problems,
                            ms_error *err);

/* The columns an expression over a source sees, with their types: the source files'
 * columns by logical name (field_mapping applied; hive partition columns included), then
 * the derived `columns:` in declared order with their inferred types (a derived column
 * named like an earlier column replaces it in place, keeping its position). Reads only
 * metadata (Parquet footers, a CSV sample; CSV with default options). *out is an array
 * of *out_n fields owned by the caller (ms_repo_fields_free). A derived column that does
 * not compile is MS_ERR_INVALID naming the source and column ("at column N: ..."); a file
 * that cannot be opened is the dataset API's error. Used by ms_repo_typecheck, and by
 * compute and retrieval to compile filters and aggregation inputs the same way. */
ms_status ms_repo_source_fields(const ms_repo *repo, const ms_source_def *src, ms_field **out,
                                int *out_n, ms_error *err);
void ms_repo_fields_free(ms_field *fields, int n); /* NULL is allowed */

/* The column type of a declared dtype (bool, int32, int64, float32, float64, string, bytes,
 * date, timestamp); `timestamp` becomes timestamp_type, since a declaration carries no unit
 * or zone (the type checker reads naive ns, feature logs write us UTC). */
ms_datatype ms_repo_dtype_type(const char *dtype, ms_datatype timestamp_type);

/* Registry objects and lineage edges for the whole repository. The arrays and strings are
 * owned by the repo and live until ms_repo_free. */
ms_status ms_repo_objects(ms_repo *repo, const ms_reg_object **out_objects, int *out_n,
                          const ms_reg_edge **out_edges, int *out_n_edges, ms_error *err);

/* A one-line summary of what changed between two canonical JSON versions of an object
 * ("ttl: 0s -> 90d; +feature monetary"): usable as the registry's ms_reg_summarize_fn. */
char *ms_repo_diff_summary(const char *kind, const char *old_json, const char *new_json);

/* Durations: "90d", "12h", "30m", "45s", "0s", "1h30m", plain "0"; false when malformed. */
bool ms_parse_duration(const char *text, int64_t *out_seconds);
/* Formats seconds back in the largest exact units ("90d", "1h30m", "0s"). */
void ms_format_duration(int64_t seconds, char *buf, size_t buf_size);

#ifdef __cplusplus
}
#endif
#endif
