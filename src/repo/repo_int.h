/* Private to src/repo: the YAML document tree with line:column marks, the problem list
 * every loader appends to, a small JSON value tree (built for canonical JSON, parsed for
 * diff summaries), and the pieces of ms_repo shared by config.c and definitions.c. */
#ifndef MS_REPO_INT_H
#define MS_REPO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "morsel/repo.h"

/* ---- YAML tree (yaml_doc.c) ---- */
typedef enum ms_yn_kind { MS_YN_SCALAR, MS_YN_SEQ, MS_YN_MAP } ms_yn_kind;

typedef struct ms_ynode {
  ms_yn_kind kind;
  int line, col;           /* 1-based */
  char *value;             /* scalar text (after ${ENV} substitution when asked for) */
  bool plain;              /* a plain (unquoted) scalar: "~", "null" and "" mean null */
  int n;                   /* sequence items or mapping pairs */
  struct ms_ynode **items; /* sequence items, or mapping values */
  struct ms_ynode **keys;  /* mapping keys (scalars) */
} ms_ynode;

/* Problems: "file:line:col: message" strings, all collected before failing. */
typedef struct ms_probs {
  char **v;
  int n, cap;
  bool yaml_error; /* a YAML syntax error was seen (status MS_ERR_PARSE) */
} ms_probs;

void ms_probs_add(ms_probs *p, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void ms_probs_free(ms_probs *p);
/* Sorts by file, then line and column numerically (definitions.c). */
void ms_probs_sort(ms_probs *p);

/* Parses one YAML document (the first; an empty file gives *out = NULL). Syntax errors,
 * aliases and duplicate mapping keys are added to probs; returns false when the file is
 * unusable. `file` is the name used in messages. */
bool ms_ydoc_parse(const char *file, const char *text, size_t len, ms_ynode **out,
                   ms_probs *probs);
void ms_ynode_free(ms_ynode *n);
/* Null scalar: plain "", "~", "null", "Null", "NULL". */
bool ms_ynode_is_null(const ms_ynode *n);
/* The value of key in a mapping, or NULL. */
ms_ynode *ms_ynode_get(const ms_ynode *map, const char *key);
/* Substitutes ${VAR} (and $$ -> $) in every scalar of the tree; unset variables are
 * problems naming the variable. */
void ms_ydoc_subst_env(const char *file, ms_ynode *n, ms_probs *probs);

/* Levenshtein distance, for "did you mean" suggestions; returns the closest of cands
 * when it is close enough, else NULL. */
const char *ms_repo_suggest(const char *word, const char *const *cands, int n_cands);
/* Reports key of a mapping as unknown with a suggestion among `known`. */
void ms_repo_unknown_key(ms_probs *p, const char *file, const ms_ynode *key,
                         const char *where_desc, const char *const *known, int n_known);

/* ---- ms_repo (shared between config.c and definitions.c) ---- */
struct ms_repo {
  ms_repo_config config;
  int n_entities, n_sources, n_views, n_odfvs, n_services;
  ms_entity_def *entities;
  ms_source_def *sources;
  ms_feature_view_def *views;
  ms_odfv_def *odfvs;
  ms_feature_service_def *services;
  /* ms_repo_objects output (built on first call) */
  bool objects_built;
  ms_reg_object *objects;
  int n_objects;
  ms_reg_edge *edges;
  int n_edges;
  /* source paths as written in the YAML (canonical JSON keeps them relative) */
  char **source_paths_written;
  /* where parts of views and services are, for validation messages ("file:line:col",
   * parallel to views / services; entries may be NULL) */
  struct ms_view_marks *view_marks;
  struct ms_source_marks *source_marks; /* parallel to sources */
  struct ms_odfv_marks *odfv_marks;     /* parallel to odfvs */
  char ***service_item_where;
  struct ms_service_log_marks *service_log_marks; /* parallel to services */
  /* definitions files to load (absolute) */
  int n_def_files;
  char **def_files;
};

typedef struct ms_view_marks {
  char *source;
  char **entities; /* n_entities */
  char **fields;   /* n_schema */
  /* aggregation views: marks of values ("file:line:col"; NULL when absent) */
  char *timestamp_field, *filter, *population_filter, *cutoff_start, *cutoff_end;
  char **agg_input, **agg_filter, **agg_by; /* agg.n_aggregations */
} ms_view_marks;

/* Marks of the parts of a source and of an on-demand view. */
typedef struct ms_source_marks {
  char *filter;
} ms_source_marks;

typedef struct ms_odfv_marks {
  char **sources; /* n_sources */
  char **request; /* n_request */
} ms_odfv_marks;

/* Marks of a service's `logging:` block (def_logging.c); path_written is the destination
 * path as written (canonical JSON keeps it relative, like source paths). */
typedef struct ms_service_log_marks {
  char *logging, *path;
  char **partition_by; /* n_log_partition_by */
  char *path_written;
} ms_service_log_marks;

/* config.c: parses feature_store.yaml into repo->config and repo->def_files. */
void ms_repo_parse_config(ms_repo *repo, const char *display, const ms_ynode *root,
                          ms_probs *probs);
/* Joins a relative path to dir (absolute paths and URLs are copied). */
char *ms_repo_join(const char *dir, const char *path);
/* "file" relative to the repo for messages. */
const char *ms_repo_display(const ms_repo *repo, const char *abs_path);
void ms_repo_config_reset(ms_repo_config *c);

/* ---- definitions parsing helpers (def_util.c) ---- */
typedef struct ms_dctx {
  ms_repo *repo;
  const char *file; /* display name */
  ms_probs *probs;
} ms_dctx;

#define MS_COUNT(a) ((int)(sizeof a / sizeof *a))

/* "file:line:col" of a node (allocated). */
char *ms_def_where(const ms_dctx *c, const ms_ynode *n);
/* A scalar's text (NULL when absent or null; a non-scalar is a problem). */
char *ms_def_str(ms_dctx *c, const ms_ynode *n, const char *what);
/* A list of names (NULL-terminated array; non-name items are problems and skipped). */
char **ms_def_str_list(ms_dctx *c, const ms_ynode *n, const char *what, int *out_n);
ms_kv_pair *ms_def_kv(ms_dctx *c, const ms_ynode *n, const char *what, int *out_n);
bool ms_def_bool(ms_dctx *c, const ms_ynode *n, const char *what, bool dflt);
bool ms_def_known_dtype(const char *s);
/* A dtype name; unknown ones are problems with a suggestion (returns NULL). */
char *ms_def_dtype(ms_dctx *c, const ms_ynode *n, const char *what);
/* Checks the keys of an item mapping against `known` and reports missing `required` ones;
 * false when m is not a mapping. */
bool ms_def_check_keys(ms_dctx *c, const ms_ynode *m, const char *desc,
                       const char *const *known, int n_known, const char *const *required,
                       int n_required);
/* Grows arr (n items of size) by one zeroed item; NULL on OOM (arr still valid). */
void *ms_def_grow(void *arr, int n, size_t size);
/* Problems placed at a "file:line:col" mark (NULL: "?:0:0"). */
void ms_def_vprob(ms_probs *p, const char *where, const char *fmt, const char *a,
                  const char *b, const char *d);
void ms_def_prob(ms_probs *p, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const ms_entity_def *ms_def_find_entity(const ms_repo *r, const char *name);
/* The mark of part i when known, else dflt. */
const char *ms_def_at(char **marks, int i, const char *dflt);
void ms_def_free_kv(ms_kv_pair *kv, int n);
void ms_def_free_strs(char **v, int n);

/* ---- derived_defs.c: source columns/filter, aggregation views, on-demand views ---- */
/* Parses `columns:` and `filter:` of a source mapping into s / sm. */
void ms_def_parse_source_columns(ms_dctx *c, ms_source_def *s, ms_source_marks *sm,
                                 const ms_ynode *m);
/* Parses the aggregation keys of a feature view mapping (timestamp_field, filter,
 * population, cutoffs, aggregations, expressions) into v->agg / vm. */
void ms_def_parse_view_agg(ms_dctx *c, ms_feature_view_def *v, ms_view_marks *vm,
                           const ms_ynode *m);
/* Parses one item of on_demand_feature_views. */
void ms_def_parse_odfv(ms_dctx *c, const ms_ynode *m);
/* Cross-object checks of aggregation views and on-demand views (after every file). */
void ms_def_validate_derived(ms_repo *r, ms_probs *p);
void ms_def_free_source_columns(ms_source_def *s, ms_source_marks *sm);
void ms_def_free_view_agg(ms_feature_view_def *v, ms_view_marks *vm);
void ms_def_free_odfvs(ms_repo *r);

/* ---- def_logging.c: feature logging of services ---- */
/* Parses a service's `logging:` value into s and lm. */
void ms_def_parse_service_logging(ms_dctx *c, ms_feature_service_def *s,
                                  ms_service_log_marks *lm, const ms_ynode *logging);
/* Cross-object checks (partition_by names log columns, destinations do not overlap). */
void ms_def_validate_logging(ms_repo *r, ms_probs *p);
void ms_def_free_service_logging(ms_feature_service_def *s, ms_service_log_marks *lm);

/* One column of a service's log schema (include/morsel/write.h ms_log_schema), names and
 * origins only; the writer resolves the types. Pointers borrow from the repository. */
typedef enum ms_log_col_kind {
  MS_LOG_KEY,            /* a join key of view (entity's key, name after join_key_map) */
  MS_LOG_REQUEST,        /* a request column of on-demand view odfv */
  MS_LOG_FEATURE,        /* <proj>__<feature>: dtype is the declared one */
  MS_LOG_FEATURE_TS,     /* <proj>__<feature>__timestamp */
  MS_LOG_FEATURE_STATUS, /* <proj>__<feature>__status */
  MS_LOG_SYSTEM          /* __log_timestamp, __log_date, __request_id */
} ms_log_col_kind;

typedef struct ms_log_col {
  char *name;
  ms_log_col_kind kind;
  int item;                        /* the service item it comes from */
  const ms_feature_view_def *view; /* KEY, FEATURE*: the feature view (NULL for an odfv) */
  const ms_odfv_def *odfv;         /* REQUEST, FEATURE*: the on-demand view */
  const ms_entity_def *entity;     /* KEY */
  const char *key;                 /* KEY: the view's join key before join_key_map */
  const char *feature;             /* FEATURE*: the feature's name in its view */
  const char *dtype;               /* KEY: entity value_type (may be NULL); REQUEST,
                                      FEATURE: the declared dtype */
} ms_log_col;

/* The log schema's columns in Feast's order (def_logging.c's top comment). An item
 * naming no view is MS_ERR_NOT_FOUND. Free with ms_def_log_columns_free. */
ms_status ms_def_log_columns(const ms_repo *r, const ms_feature_service_def *s, ms_log_col **out,
                             int *out_n, ms_error *err);
void ms_def_log_columns_free(ms_log_col *cols, int n);

/* ---- JSON values (canonical_json.c) ---- */
typedef enum ms_jt { MS_J_NULL, MS_J_BOOL, MS_J_NUM, MS_J_STR, MS_J_ARR, MS_J_OBJ } ms_jt;
typedef struct ms_jv {
  ms_jt t;
  bool b;
  char *s;                /* string, or number text */
  int n, cap;
  struct ms_jv **items;   /* array items or object values */
  char **keys;            /* object keys */
} ms_jv;

ms_jv *ms_jv_new(ms_jt t);
ms_jv *ms_jv_str(const char *s); /* NULL s gives a JSON null */
ms_jv *ms_jv_int(int64_t v);
ms_jv *ms_jv_bool(bool b);
void ms_jv_push(ms_jv *arr, ms_jv *v);
void ms_jv_set(ms_jv *obj, const char *key, ms_jv *v);
const ms_jv *ms_jv_get(const ms_jv *obj, const char *key);
void ms_jv_free(ms_jv *v);
/* Canonical text: keys sorted bytewise, no whitespace, minimal escapes. NULL on OOM. */
char *ms_jv_dump(const ms_jv *v);
/* Parses JSON text (depth-limited); NULL when malformed. */
ms_jv *ms_jv_parse(const char *text);

#endif
