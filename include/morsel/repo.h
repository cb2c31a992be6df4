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

typedef struct ms_source_def {
  char *name;
  char *path;                   /* absolute (resolved against the repo) */
  char *file_format;            /* parquet | csv */
  char *timestamp_field;
  char *created_timestamp_column; /* NULL when absent */
  int n_field_mapping;
  ms_kv_pair *field_mapping;    /* source column -> logical name */
  char *date_partition_column;  /* NULL when absent */
  char *description;
  char *owner;
  int n_tags;
  ms_kv_pair *tags;
  char *where;
} ms_source_def;

typedef struct ms_feature_view_def {
  char *name;
  int n_entities;
  char **entities;              /* entity names; 0 = entity-less */
  int64_t ttl_seconds;          /* 0 = no limit */
  char *source;
  int n_schema;
  ms_feature_field *schema;
  bool online;
  char *description;
  char *owner;
  int n_tags;
  ms_kv_pair *tags;
  char *where;
} ms_feature_view_def;

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
int ms_repo_num_feature_services(const ms_repo *repo);
const ms_feature_service_def *ms_repo_feature_service(const ms_repo *repo, int i);

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
