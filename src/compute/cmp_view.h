/* An aggregation view bound to its data (cmp_view.c): the event store built from the
 * view's source, the compiled output expressions, and the assembly of output columns from
 * kernel batches, shared by the snapshot and as-of modes (compute.c). */
#ifndef MS_COMPUTE_CMP_VIEW_H
#define MS_COMPUTE_CMP_VIEW_H

#include "compute/compute_int.h"
#include "morsel/expr.h"
#include "morsel/offline.h"
#include "morsel/repo.h"

typedef struct cmp_view_options {
  ms_progress_fn progress;
  void *progress_ctx;
} cmp_view_options;

typedef struct cmp_view {
  ms_repo *repo;
  const ms_feature_view_def *def;
  const ms_source_def *src;
  int n_keys;
  char **key_names;       /* join keys, entity order */
  ms_datatype *key_type;  /* the entity's value_type, when key_has_type */
  bool *key_has_type;
  bool ts_aware;          /* the view's timestamp column has a time zone */
  cmp_store *store;
  int n_exprs;
  ms_expr **exprs;        /* the view's expressions, in order */
  ms_field *expr_fields;  /* aggregates, as_of, expressions: [n_aggs + 1 + n_exprs] */
  char *def_hash;         /* the registry hash of the view's definition */
  int64_t source_rows;
  int64_t rows_kept;
  double ms_read, ms_prepare;
  char stage_read[300];
} cmp_view;

/* A source read once for one or more views: the columns they need, the needed derived
 * columns evaluated, the source filter applied. */
typedef struct cmp_wtable {
  int n;
  ms_field *f;      /* names owned */
  ms_column **c;
  int64_t rows;
} cmp_wtable;

typedef struct cmp_source_data {
  char src_name[256];
  cmp_wtable w;
  int64_t source_rows;
  double ms_read, ms_prepare;
} cmp_source_data;

/* Reads the common source of views[0..n_views) (an error when they differ). */
ms_status cmp_source_load(ms_repo *repo, const ms_feature_view_def *const *views, int n_views,
                          ms_pool *pool, const cmp_view_options *opts, cmp_source_data *out,
                          ms_error *err);
void cmp_source_data_reset(cmp_source_data *d);
/* Binds a view to its loaded source: view filter, keys, inputs, store, expressions. share
 * (NULL = none): a view bound to the same source data earlier; when neither has a view
 * filter and both have the same timestamp and join keys, its row order is borrowed (it must
 * outlive this view). */
ms_status cmp_view_bind(ms_repo *repo, const ms_feature_view_def *fv, const cmp_source_data *sd,
                        const cmp_view *share, ms_pool *pool, const cmp_view_options *opts,
                        cmp_view **out, ms_error *err);
/* Reads the view's source and builds everything (pool may be NULL). */
ms_status cmp_view_open(ms_repo *repo, const ms_feature_view_def *fv, ms_pool *pool,
                        const cmp_view_options *opts, cmp_view **out, ms_error *err);
void cmp_view_free(cmp_view *v);

/* Index of a feature in the view's schema, or -1. */
int cmp_view_feature_index(const cmp_view *v, const char *name);
/* The features feat[0..n_feat) (schema indices) for a batch of items, cast to their
 * declared dtypes; items with no key or inactive get nulls everywhere. */
ms_status cmp_view_features(const cmp_view *v, const cmp_batch *b, const int *feat, int n_feat,
                            ms_column **out, ms_error *err);
/* The join key columns (entity value types) of the given key ids. */
ms_status cmp_view_keys(const cmp_view *v, const int64_t *key_ids, int64_t m, ms_column **out,
                        ms_error *err);
/* A column as another type (integer widening/narrowing with a range check, integer to
 * float, float to float, string to string, timestamp zone); what names it in errors. */
ms_status cmp_cast(ms_column *col, const ms_datatype *to, const char *what, ms_column **out,
                   ms_error *err);
double cmp_now_ms(void);

#endif
