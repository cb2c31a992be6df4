/* The registry: the single source of truth for what a feature is, with versions and lineage.
 *
 * The registry stores objects of a project as canonical JSON with a content hash. It does
 * not interpret the JSON (the repository module, include/morsel/repo.h, produces it), so the
 * storage back ends stay small and identical in behaviour. Two back ends sit behind one
 * table of function pointers: SQLite (embedded default, a file) and PostgreSQL (libpq;
 * shared and concurrent).
 *
 * Versions: every apply that changes an object's hash adds a version row (number, hash,
 * JSON, time, user, host, diff summary). Deleting an object records a tombstone version;
 * re-creating it continues the numbering. Lineage: edges (from kind/name -> to kind/name)
 * are replaced as a whole per project at each apply (except those of saved datasets that
 * apply keeps, see ms_registry_apply).
 *
 * Concurrency: ms_registry_apply runs in one transaction. It is given the registry
 * generation the caller planned against (ms_registry_generation, or -1 for "whatever is
 * current": the diff is then computed inside the transaction). If another apply committed
 * in between, the apply is refused with MS_ERR_CONFLICT and a message saying so; nothing is
 * written. Never a lost update, never a half-applied state.
 *
 * The registry's own schema carries a version number and is migrated forward on open; a
 * registry written by a newer morsel is refused with a clear error. Names and JSON are
 * always passed to SQL as parameters. */
#ifndef MORSEL_REGISTRY_H
#define MORSEL_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "morsel/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_registry ms_registry;

/* Object kinds as stored (stable strings): "entity", "data_source", "feature_view",
 * "on_demand_feature_view", "feature_service", "saved_dataset". */

typedef struct ms_reg_object {
  const char *kind;
  const char *name;
  const char *json; /* canonical JSON of the definition */
  const char *hash; /* hex content hash of json */
} ms_reg_object;

typedef struct ms_reg_edge {
  const char *from_kind, *from_name;
  const char *to_kind, *to_name;
} ms_reg_edge;

typedef enum ms_reg_change_type {
  MS_REG_CREATED = 0,
  MS_REG_UPDATED = 1,
  MS_REG_DELETED = 2,
  MS_REG_UNCHANGED = 3
} ms_reg_change_type;

typedef struct ms_reg_change {
  char *kind;
  char *name;
  ms_reg_change_type type;
  int64_t version; /* the version this apply wrote (0 when unchanged) */
  char *summary;   /* e.g. "ttl: 0s -> 90d; +feature monetary" (may be NULL) */
} ms_reg_change;

typedef struct ms_reg_version {
  int64_t version;
  char *hash;
  char *json;      /* NULL for a deletion tombstone */
  char *created_at; /* ISO-8601 UTC */
  char *user;
  char *host;
  char *summary;
  int deleted;
} ms_reg_version;

/* location: a file path (SQLite) or "postgresql://..." / "postgresql+psycopg2://..." (PostgreSQL).
 * Creates the schema when absent, migrates it forward, refuses newer schemas. */
ms_status ms_registry_open(const char *location, ms_registry **out, ms_error *err);
void ms_registry_close(ms_registry *reg); /* NULL is allowed */
/* "sqlite" or "postgresql". */
const char *ms_registry_backend(const ms_registry *reg);

/* A counter bumped by every committed write of the project that changes something (apply,
 * put, teardown; 0 for a new project). */
ms_status ms_registry_generation(ms_registry *reg, const char *project, int64_t *out,
                                 ms_error *err);

/* Computes the diff between the registry's current objects of the project and `desired`
 * (the complete desired set: objects absent from it are deleted, except saved datasets,
 * which ms_registry_put registers and only teardown removes), and unless dry_run,
 * writes it in one transaction with the lineage edges. expected_generation: see above.
 * `summarize` (may be NULL) produces a diff summary for an updated object from the old
 * and new JSON (returned string freed with ms_free). The changes are returned sorted by
 * kind order (entity, data_source, feature_view, on_demand_feature_view, feature_service,
 * saved_dataset) then name; free with ms_reg_changes_free. */
typedef char *(*ms_reg_summarize_fn)(const char *kind, const char *old_json,
                                     const char *new_json);
ms_status ms_registry_apply(ms_registry *reg, const char *project, const ms_reg_object *desired,
                            int n_desired, const ms_reg_edge *edges, int n_edges,
                            int64_t expected_generation, const char *user, const char *host,
                            int dry_run, ms_reg_summarize_fn summarize,
                            ms_reg_change **out_changes, int *out_n, ms_error *err);
void ms_reg_changes_free(ms_reg_change *changes, int n);

/* Adds or replaces one object (and its outgoing edges) without touching others: for saved
 * datasets, which are registered by retrieval jobs rather than apply. */
ms_status ms_registry_put(ms_registry *reg, const char *project, const ms_reg_object *obj,
                          const ms_reg_edge *edges, int n_edges, const char *user,
                          const char *host, int allow_overwrite, ms_error *err);

/* Readers cache ms_registry_list answers for `seconds` (feature_store.yaml's
 * registry.cache_ttl_seconds; 0 = no cache, the default). Writes through this handle clear
 * the cache at once; other processes' writes are seen once an entry expires. */
void ms_registry_set_cache_ttl(ms_registry *reg, int64_t seconds);

/* Current (non-deleted) objects of a kind (kind NULL = all kinds), sorted by kind then
 * name. Free with ms_reg_objects_free (the strings are owned by the array). */
ms_status ms_registry_list(ms_registry *reg, const char *project, const char *kind,
                           ms_reg_object **out, int *out_n, ms_error *err);
void ms_reg_objects_free(ms_reg_object *objs, int n);

/* One object; version 0 = latest non-deleted. MS_ERR_NOT_FOUND when absent. */
ms_status ms_registry_get(ms_registry *reg, const char *project, const char *kind,
                          const char *name, int64_t version, ms_reg_version *out,
                          ms_error *err);
void ms_reg_version_reset(ms_reg_version *v);

/* All versions of an object, oldest first. */
ms_status ms_registry_history(ms_registry *reg, const char *project, const char *kind,
                              const char *name, ms_reg_version **out, int *out_n,
                              ms_error *err);
void ms_reg_versions_free(ms_reg_version *v, int n);

/* Current lineage edges of the project. Free with ms_reg_edges_free. */
ms_status ms_registry_edges(ms_registry *reg, const char *project, ms_reg_edge **out,
                            int *out_n, ms_error *err);
void ms_reg_edges_free(ms_reg_edge *edges, int n);

/* Removes every object of the project (recorded as deletions in history). */
ms_status ms_registry_teardown(ms_registry *reg, const char *project, const char *user,
                               const char *host, ms_error *err);

/* ---- data commits (include/morsel/store.h) ----
 * One record per commit of a managed dataset (write-batch, write-logs, compaction,
 * compute), keyed by (project, dataset, generation). A commit is first inserted as
 * `prepared`, then finished as `committed` or `aborted`; see store.h for the protocol. */
typedef struct ms_reg_data_commit {
  int64_t generation;
  char *dataset;      /* "source:<name>", "logs:<service>", "aggregations:<view>" */
  char *kind;         /* "write_batch" | "write_logs" | "compact" | "compute" */
  char *state;        /* "prepared" | "committed" | "aborted" */
  char *path;         /* the dataset's root (absolute) */
  int64_t rows_added, rows_removed;
  int64_t files_added, files_removed;
  int64_t total_rows, total_files; /* live totals after the commit */
  char *identity_before; /* single-file datasets: "dev:ino:size:mtime_ns" (NULL otherwise) */
  char *identity_after;
  char *detail_json;  /* may be NULL */
  char *created_at;   /* ISO-8601 UTC */
  char *user, *host;
} ms_reg_data_commit;

/* Inserts a prepared record (c->state is ignored). MS_ERR_CONFLICT when a committed or
 * prepared record with that (dataset, generation) exists. */
ms_status ms_registry_data_prepare(ms_registry *reg, const char *project,
                                   const ms_reg_data_commit *c, ms_error *err);
/* Marks a prepared record committed (with identity_after, may be NULL) or aborted. */
ms_status ms_registry_data_finish(ms_registry *reg, const char *project, const char *dataset,
                                  int64_t generation, bool committed,
                                  const char *identity_after, ms_error *err);
/* ms_registry_data_finish(committed = true) that also sets the record's rows_added,
 * rows_removed, files_added, files_removed, total_rows and total_files from `counts`:
 * a single-file commit knows them only after its prepared record is written. (Added by
 * the store: the contract's finish had no way to record the rows of a single file.) */
ms_status ms_registry_data_finish_counts(ms_registry *reg, const char *project,
                                         const char *dataset, int64_t generation,
                                         const ms_reg_data_commit *counts,
                                         const char *identity_after, ms_error *err);
/* Every record of a dataset, oldest generation first (aborted ones included). */
ms_status ms_registry_data_commits(ms_registry *reg, const char *project, const char *dataset,
                                   ms_reg_data_commit **out, int *out_n, ms_error *err);
void ms_reg_data_commits_free(ms_reg_data_commit *c, int n);
/* The datasets with any record, sorted. Free with ms_registry_strings_free. */
ms_status ms_registry_data_datasets(ms_registry *reg, const char *project, char ***out,
                                    int *out_n, ms_error *err);
void ms_registry_strings_free(char **s, int n);

#ifdef __cplusplus
}
#endif
#endif
