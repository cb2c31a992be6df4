/* An aggregation view bound to its data: the source read once, its derived columns, filter
 * and the view's filter evaluated, the event store built (cmp_store.c), the derived output
 * expressions compiled; and the assembly of output tables (features in schema order, cast to
 * the declared dtypes) from kernel batches. Used by both compute modes (compute.c).
 *
 * Reading: only the columns some expression, the timestamp or a join key needs are read
 * (derived columns that nothing needs are not evaluated), in parallel over files and row
 * groups; expressions are evaluated in parallel over chunks of rows. Source columns are
 * seen by their logical names (after field_mapping). Rows where the source filter or the
 * view filter is not true are dropped before the aggregation inputs are evaluated, so an
 * input is never evaluated on a row the filters removed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "columnar/column.h"
#include "compute/cmp_view.h"
#include "morsel/alloc.h"
#include "morsel/expr.h"
#include "offline/ofs_internal.h"

#define EVAL_CHUNK (INT64_C(1) << 17)

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

double cmp_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- a growable list of names ---- */
typedef struct names {
  char **v;
  int n;
} names;

static bool names_has(const names *s, const char *x) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->v[i], x) == 0) return true;
  return false;
}
static bool names_add(names *s, const char *x) {
  if (names_has(s, x)) return true;
  char **nv = ms_realloc(s->v, (size_t)(s->n + 1) * sizeof *nv);
  if (!nv) return false;
  s->v = nv;
  s->v[s->n] = ms_strdup(x);
  if (!s->v[s->n]) return false;
  s->n++;
  return true;
}
static void names_free(names *s) {
  for (int i = 0; i < s->n; i++) ms_free(s->v[i]);
  ms_free(s->v);
  s->v = NULL;
  s->n = 0;
}

/* Adds the columns text references. where: for errors. */
static ms_status add_refs(names *s, const char *text, const char *where, ms_error *err) {
  if (!text) return MS_OK;
  char **refs = NULL;
  int n = 0;
  ms_status st = ms_expr_references(text, &refs, &n, err);
  if (st) {
    char m[1024];
    snprintf(m, sizeof m, "%s", err ? err->message : "");
    return ms_error_set(err, st, "%s: %s", where, m);
  }
  for (int i = 0; i < n && st == MS_OK; i++)
    if (!names_add(s, refs[i])) st = oom(err);
  ms_expr_names_free(refs, n);
  return st;
}

/* ---- the working table: columns by name, replaced or appended ---- */
typedef cmp_wtable wtable;

static void wt_free(wtable *w) {
  for (int i = 0; i < w->n; i++) {
    ms_free(w->f[i].name);
    ms_column_release(w->c[i]);
  }
  ms_free(w->f);
  ms_free(w->c);
  memset(w, 0, sizeof *w);
}
static int wt_find(const wtable *w, const char *name) {
  for (int i = 0; i < w->n; i++)
    if (strcmp(w->f[i].name, name) == 0) return i;
  return -1;
}
/* Takes the reference to col. */
static ms_status wt_put(wtable *w, const char *name, ms_column *col, ms_error *err) {
  int i = wt_find(w, name);
  if (i >= 0) {
    ms_column_release(w->c[i]);
    w->c[i] = col;
    w->f[i].type = *ms_column_type(col);
    return MS_OK;
  }
  ms_field *nf = ms_realloc(w->f, (size_t)(w->n + 1) * sizeof *nf);
  if (nf) w->f = nf;
  ms_column **nc = ms_realloc(w->c, (size_t)(w->n + 1) * sizeof *nc);
  if (nc) w->c = nc;
  char *nm = ms_strdup(name);
  if (!nf || !nc || !nm) {
    ms_free(nm);
    ms_column_release(col);
    return oom(err);
  }
  w->f[w->n].name = nm;
  w->f[w->n].type = *ms_column_type(col);
  w->f[w->n].nullable = true;
  w->c[w->n] = col;
  w->n++;
  return MS_OK;
}

/* ---- parallel evaluation over chunks of rows ---- */
typedef struct peval {
  const ms_expr *e;
  ms_column *const *cols;
  int n_cols;
  int64_t n;
  ms_column **parts;  /* value mode */
  uint8_t *mask;      /* mask mode */
} peval;

static ms_status peval_task(void *ctx, int64_t task, int worker, ms_error *err) {
  peval *p = ctx;
  int64_t off = task * EVAL_CHUNK, len = p->n - off < EVAL_CHUNK ? p->n - off : EVAL_CHUNK;
  ms_column *sl[64];
  ms_column **s = sl;
  if (p->n_cols > 64) {
    s = ms_calloc((size_t)p->n_cols, sizeof *s);
    if (!s) return oom(err);
  }
  ms_status st = MS_OK;
  for (int i = 0; i < p->n_cols; i++) {
    s[i] = NULL;
    if (st == MS_OK && p->cols[i]) st = ms_column_slice(p->cols[i], off, len, &s[i], err);
  }
  if (st == MS_OK) {
    if (p->mask) st = ms_expr_eval_mask(p->e, s, len, p->mask + off, NULL, err);
    else st = ms_expr_eval(p->e, s, len, &p->parts[task], err);
  }
  if (st && err && err->row >= 0) err->row += off;
  for (int i = 0; i < p->n_cols; i++) ms_column_release(s[i]);
  if (s != sl) ms_free(s);
  return st;
}

/* Evaluates e over the working table (value into *out, or a mask into mask). */
static ms_status eval_wt(const ms_expr *e, const wtable *w, ms_pool *pool, ms_column **out, uint8_t *mask,
                         ms_error *err) {
  /* inputs: the working table's columns, only those e uses */
  ms_column **cols = ms_calloc((size_t)(w->n ? w->n : 1), sizeof *cols);
  if (!cols) return oom(err);
  for (int u = 0; u < ms_expr_num_used_inputs(e); u++) {
    int i = ms_expr_used_input(e, u);
    cols[i] = w->c[i];
  }
  ms_status st;
  if (w->rows <= EVAL_CHUNK) {
    st = mask ? ms_expr_eval_mask(e, cols, w->rows, mask, NULL, err) : ms_expr_eval(e, cols, w->rows, out, err);
  } else {
    int64_t tasks = (w->rows + EVAL_CHUNK - 1) / EVAL_CHUNK;
    peval p = {e, cols, w->n, w->rows, NULL, mask};
    if (!mask) {
      p.parts = ms_calloc((size_t)tasks, sizeof *p.parts);
      if (!p.parts) {
        ms_free(cols);
        return oom(err);
      }
    }
    st = ms_pool_run(pool, tasks, peval_task, &p, err);
    if (st == MS_OK && !mask) st = ms_column_concat(p.parts, (int)tasks, out, err);
    if (p.parts)
      for (int64_t t = 0; t < tasks; t++) ms_column_release(p.parts[t]);
    ms_free(p.parts);
  }
  ms_free(cols);
  return st;
}

/* Compiles text against the working table's columns; errors name the view and what. */
static ms_status compile_wt(const char *text, const wtable *w, const char *view, const char *what,
                            ms_expr **out, ms_error *err) {
  ms_status st = ms_expr_compile(text, w->f, w->n, out, err);
  if (st && err) {
    char m[1024];
    snprintf(m, sizeof m, "%s", err->message);
    if (view) ms_error_set(err, st, "view '%s', %s: %s", view, what, m);
    else ms_error_set(err, st, "%s: %s", what, m);
  }
  return st;
}

/* Keeps the rows of w where text is true. view: for errors (NULL = a source's). */
static ms_status wt_apply_filter(wtable *w, const char *text, const char *view, const char *what, ms_pool *pool,
                                 ms_error *err) {
  ms_expr *e = NULL;
  uint8_t *m = ms_malloc((size_t)(w->rows ? w->rows : 1));
  ms_status st = m ? MS_OK : oom(err);
  if (st == MS_OK) st = compile_wt(text, w, view, what, &e, err);
  if (st == MS_OK) st = eval_wt(e, w, pool, NULL, m, err);
  ms_expr_free(e);
  int64_t kept = 0;
  for (int64_t i = 0; st == MS_OK && i < w->rows; i++) kept += m[i] != 0;
  if (st == MS_OK && kept < w->rows) {
    for (int i = 0; st == MS_OK && i < w->n; i++) {
      ms_column *fc = NULL;
      st = ms_column_filter(w->c[i], m, &fc, err);
      if (st == MS_OK) {
        ms_column_release(w->c[i]);
        w->c[i] = fc;
      }
    }
    if (st == MS_OK) w->rows = kept;
  }
  ms_free(m);
  return st;
}

/* ---- binding ---- */

void cmp_view_free(cmp_view *v) {
  if (!v) return;
  cmp_store_free(v->store);
  for (int k = 0; k < v->n_keys; k++) ms_free(v->key_names[k]);
  ms_free(v->key_names);
  ms_free(v->key_type);
  ms_free(v->key_has_type);
  for (int e = 0; e < v->n_exprs; e++) ms_expr_free(v->exprs[e]);
  ms_free(v->exprs);
  ms_free(v->expr_fields);
  ms_free(v->def_hash);
  ms_free(v);
}

static const ms_entity_def *find_entity(const ms_repo *repo, const char *name) {
  for (int i = 0; i < ms_repo_num_entities(repo); i++)
    if (strcmp(ms_repo_entity(repo, i)->name, name) == 0) return ms_repo_entity(repo, i);
  return NULL;
}

static const char *logical_of(const ms_source_def *s, const char *phys) {
  for (int i = 0; i < s->n_field_mapping; i++)
    if (strcmp(s->field_mapping[i].key, phys) == 0) return s->field_mapping[i].value;
  return phys;
}

/* The registry hash of the view's definition (NULL when not found). */
static char *definition_hash(ms_repo *repo, const char *view, ms_error *err) {
  const ms_reg_object *objs = NULL;
  const ms_reg_edge *edges = NULL;
  int n = 0, ne = 0;
  if (ms_repo_objects(repo, &objs, &n, &edges, &ne, err) != MS_OK) return NULL;
  for (int i = 0; i < n; i++)
    if (strcmp(objs[i].kind, "feature_view") == 0 && strcmp(objs[i].name, view) == 0) return ms_strdup(objs[i].hash);
  ms_error_set(err, MS_ERR_NOT_FOUND, "feature view '%s' has no registry object", view);
  return NULL;
}

static void progress(const cmp_view_options *o, const char *stage, int64_t done, int64_t total) {
  if (o && o->progress) o->progress(o->progress_ctx, stage, done, total);
}

/* The columns a view needs from its (cleaned) source: timestamp, keys, view filter,
 * population filter, aggregation inputs, filters and `by`. */
static ms_status view_needs(const ms_feature_view_def *fv, const ms_source_def *src, char **const key_names, int n_keys,
                            names *need, ms_error *err) {
  const ms_aggregation_spec *ag = &fv->agg;
  const char *ts_name = ag->timestamp_field ? ag->timestamp_field : src->timestamp_field;
  ms_status st = MS_OK;
  char where[512];
  if (!names_add(need, ts_name)) st = oom(err);
  for (int k = 0; st == MS_OK && k < n_keys; k++)
    if (!names_add(need, key_names[k])) st = oom(err);
  if (st == MS_OK) st = add_refs(need, ag->filter, "view filter", err);
  if (st == MS_OK) st = add_refs(need, ag->population_filter, "population filter", err);
  for (int a = 0; st == MS_OK && a < ag->n_aggregations; a++) {
    const ms_aggregation_def *d = &ag->aggregations[a];
    snprintf(where, sizeof where, "view '%s', aggregation '%s'", fv->name, d->name);
    st = add_refs(need, d->input, where, err);
    if (st == MS_OK) st = add_refs(need, d->filter, where, err);
    if (st == MS_OK) st = add_refs(need, d->by, where, err);
  }
  return st;
}

/* The join keys of a view (entity order) and their declared value types. */
static ms_status view_keys(ms_repo *repo, const ms_feature_view_def *fv, cmp_view *v, ms_error *err) {
  ms_status st = MS_OK;
  for (int e = 0; st == MS_OK && e < fv->n_entities; e++) {
    const ms_entity_def *ent = find_entity(repo, fv->entities[e]);
    if (!ent) return ms_error_set(err, MS_ERR_NOT_FOUND, "feature view '%s': unknown entity '%s'", fv->name, fv->entities[e]);
    for (int k = 0; st == MS_OK && k < ent->n_join_keys; k++) {
      char **nk = ms_realloc(v->key_names, (size_t)(v->n_keys + 1) * sizeof *nk);
      if (nk) v->key_names = nk;
      ms_datatype *nt = ms_realloc(v->key_type, (size_t)(v->n_keys + 1) * sizeof *nt);
      if (nt) v->key_type = nt;
      bool *nh = ms_realloc(v->key_has_type, (size_t)(v->n_keys + 1) * sizeof *nh);
      if (nh) v->key_has_type = nh;
      if (!nk || !nt || !nh || !(v->key_names[v->n_keys] = ms_strdup(ent->join_keys[k]))) return oom(err);
      v->key_has_type[v->n_keys] = ent->value_type && ms_type_parse(ent->value_type, &v->key_type[v->n_keys]);
      v->n_keys++;
    }
  }
  if (v->n_keys == 0) return ms_error_set(err, MS_ERR_INVALID, "aggregation view '%s' has no entity (join key)", fv->name);
  return MS_OK;
}

void cmp_source_data_reset(cmp_source_data *d) {
  if (!d) return;
  wt_free(&d->w);
  memset(d, 0, sizeof *d);
}

/* Reads src's columns that `need` (plus the source filter and the derived columns they
 * use) names, evaluates the needed derived columns and applies the source filter. */
static ms_status source_load(const ms_source_def *src, names *need, ms_pool *pool, const cmp_view_options *opts,
                             const char *stage, cmp_source_data *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  snprintf(out->src_name, sizeof out->src_name, "%s", src->name);
  double t0 = cmp_now_ms();
  char where[512];
  ms_status st = add_refs(need, src->filter, "source filter", err);
  bool *derived_needed = ms_calloc((size_t)(src->n_columns ? src->n_columns : 1), sizeof *derived_needed);
  if (!derived_needed && st == MS_OK) st = oom(err);
  for (int d = src->n_columns - 1; st == MS_OK && d >= 0; d--) {
    if (!names_has(need, src->columns[d].name)) continue;
    derived_needed[d] = true;
    snprintf(where, sizeof where, "source '%s', column '%s'", src->name, src->columns[d].name);
    st = add_refs(need, src->columns[d].expression, where, err);
  }
  wtable *w = &out->w;
  ms_dataset *ds = NULL;
  ms_table *raw = NULL;
  progress(opts, stage, 0, -1);
  if (st == MS_OK) {
    /* as retrieval decides (ofs_plan.c format_of): the extension when it names a format
     * (the loader fills file_format with parquet by default, even for .csv paths), else
     * file_format csv, else each file by its own extension */
    ms_file_format fmt = ms_format_from_path(src->path);
    if (fmt == MS_FORMAT_AUTO && src->file_format && strcmp(src->file_format, "csv") == 0) fmt = MS_FORMAT_CSV;
    st = ofs_dataset_open(src->path, fmt, &ds, err);
  }
  names phys = {0};
  for (int i = 0; st == MS_OK && ds && i < ms_dataset_num_fields(ds); i++) {
    const char *p = ms_dataset_field(ds, i)->name;
    if (names_has(need, logical_of(src, p)) && !names_add(&phys, p)) st = oom(err);
  }
  if (st == MS_OK) {
    ms_dataset_read_options ro = {0};
    ro.columns = (const char *const *)phys.v;
    ro.n_columns = phys.n;
    ro.pool = pool;
    if (phys.n == 0) st = ms_error_set(err, MS_ERR_INVALID, "source '%s': none of the columns the view needs is in its files", src->name);
    else st = ms_dataset_read(ds, &ro, &raw, NULL, err);
  }
  ms_dataset_close(ds);
  names_free(&phys);
  if (st == MS_OK) {
    w->rows = ms_table_num_rows(raw);
    out->source_rows = w->rows;
    for (int i = 0; st == MS_OK && i < ms_table_num_columns(raw); i++)
      st = wt_put(w, logical_of(src, ms_table_field(raw, i)->name), ms_column_retain(ms_table_column(raw, i)), err);
  }
  ms_table_release(raw);
  out->ms_read = cmp_now_ms() - t0;
  progress(opts, stage, w->rows, w->rows);
  double t1 = cmp_now_ms();
  for (int d = 0; st == MS_OK && d < src->n_columns; d++) {
    if (!derived_needed[d]) continue;
    ms_expr *e = NULL;
    ms_column *col = NULL;
    snprintf(where, sizeof where, "source '%s', column '%s'", src->name, src->columns[d].name);
    st = compile_wt(src->columns[d].expression, w, NULL, where, &e, err);
    if (st == MS_OK) st = eval_wt(e, w, pool, &col, NULL, err);
    if (st == MS_OK) st = wt_put(w, src->columns[d].name, col, err);
    ms_expr_free(e);
  }
  ms_free(derived_needed);
  if (st == MS_OK && src->filter) st = wt_apply_filter(w, src->filter, NULL, "source filter", pool, err);
  out->ms_prepare = cmp_now_ms() - t1;
  if (st) cmp_source_data_reset(out);
  return st;
}

ms_status cmp_source_load(ms_repo *repo, const ms_feature_view_def *const *views, int n_views, ms_pool *pool,
                          const cmp_view_options *opts, cmp_source_data *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  if (n_views <= 0) return ms_error_set(err, MS_ERR_INVALID, "no view");
  const ms_source_def *src = ms_repo_find_source(repo, views[0]->source);
  if (!src) return ms_error_set(err, MS_ERR_NOT_FOUND, "feature view '%s': unknown source '%s'", views[0]->name, views[0]->source);
  names need = {0};
  ms_status st = MS_OK;
  for (int i = 0; st == MS_OK && i < n_views; i++) {
    if (strcmp(views[i]->source, src->name) != 0) {
      st = ms_error_set(err, MS_ERR_INVALID, "views '%s' and '%s' read different sources", views[0]->name, views[i]->name);
      break;
    }
    cmp_view tmp;
    memset(&tmp, 0, sizeof tmp);
    st = view_keys(repo, views[i], &tmp, err);
    if (st == MS_OK) st = view_needs(views[i], src, tmp.key_names, tmp.n_keys, &need, err);
    for (int k = 0; k < tmp.n_keys; k++) ms_free(tmp.key_names[k]);
    ms_free(tmp.key_names);
    ms_free(tmp.key_type);
    ms_free(tmp.key_has_type);
  }
  char stage[300];
  snprintf(stage, sizeof stage, "read %s", n_views == 1 ? views[0]->name : src->name);
  if (st == MS_OK) st = source_load(src, &need, pool, opts, stage, out, err);
  names_free(&need);
  return st;
}

ms_status cmp_view_open(ms_repo *repo, const ms_feature_view_def *fv, ms_pool *pool,
                        const cmp_view_options *opts, cmp_view **out, ms_error *err) {
  *out = NULL;
  if (fv->agg.n_aggregations <= 0)
    return ms_error_set(err, MS_ERR_INVALID, "feature view '%s' is not an aggregation view (it has no aggregations)",
                        fv->name);
  cmp_source_data sd;
  ms_status st = cmp_source_load(repo, &fv, 1, pool, opts, &sd, err);
  if (st == MS_OK) st = cmp_view_bind(repo, fv, &sd, NULL, pool, opts, out, err);
  cmp_source_data_reset(&sd);
  return st;
}

/* Can v (being bound to fv) borrow the row order of share? Same rows (no view filter on
 * either), same timestamp column, same join keys. */
static bool can_share(const cmp_view *share, const ms_feature_view_def *fv, const char *ts_name, const cmp_view *v) {
  if (!share || !share->store || fv->agg.filter || share->def->agg.filter) return false;
  const ms_aggregation_spec *sa = &share->def->agg;
  const char *sts = sa->timestamp_field ? sa->timestamp_field : share->src->timestamp_field;
  if (strcmp(sts, ts_name) != 0 || share->n_keys != v->n_keys) return false;
  for (int k = 0; k < v->n_keys; k++)
    if (strcmp(share->key_names[k], v->key_names[k]) != 0) return false;
  return true;
}

ms_status cmp_view_bind(ms_repo *repo, const ms_feature_view_def *fv, const cmp_source_data *sd,
                        const cmp_view *share, ms_pool *pool, const cmp_view_options *opts, cmp_view **out,
                        ms_error *err) {
  *out = NULL;
  const ms_aggregation_spec *ag = &fv->agg;
  if (ag->n_aggregations <= 0)
    return ms_error_set(err, MS_ERR_INVALID, "feature view '%s' is not an aggregation view (it has no aggregations)",
                        fv->name);
  const ms_source_def *src = ms_repo_find_source(repo, fv->source);
  if (!src) return ms_error_set(err, MS_ERR_NOT_FOUND, "feature view '%s': unknown source '%s'", fv->name, fv->source);
  cmp_view *v = ms_calloc(1, sizeof *v);
  if (!v) return oom(err);
  v->repo = repo;
  v->def = fv;
  v->src = src;
  v->source_rows = sd->source_rows;
  v->ms_read = sd->ms_read;
  double t1 = cmp_now_ms();
  ms_status st = view_keys(repo, fv, v, err);
  const char *ts_name = ag->timestamp_field ? ag->timestamp_field : src->timestamp_field;
  char where[512];
  /* the view filter, on a copy of the source's rows (shared with other views) */
  wtable w = {0};
  for (int i = 0; st == MS_OK && i < sd->w.n; i++)
    st = wt_put(&w, sd->w.f[i].name, ms_column_retain(sd->w.c[i]), err);
  w.rows = sd->w.rows;
  if (st == MS_OK && ag->filter) st = wt_apply_filter(&w, ag->filter, fv->name, "view filter", pool, err);
  /* timestamp, keys, aggregation inputs */
  int ts_i = st == MS_OK ? wt_find(&w, ts_name) : -1;
  if (st == MS_OK && ts_i < 0)
    st = ms_error_set(err, MS_ERR_NOT_FOUND, "view '%s': timestamp field '%s' is not a column of source '%s'", fv->name,
                      ts_name, src->name);
  int64_t *ts_ns = NULL;
  uint8_t *ts_ok = NULL;
  if (st == MS_OK) {
    snprintf(where, sizeof where, "timestamp field '%s' of view '%s'", ts_name, fv->name);
    st = ofs_time_to_ns(w.c[ts_i], where, &ts_ns, &ts_ok, err);
    if (st == MS_OK) v->ts_aware = ms_column_type(w.c[ts_i])->id == MS_TYPE_TIMESTAMP && ms_column_type(w.c[ts_i])->tz[0];
  }
  ms_column **kcols = ms_calloc((size_t)(v->n_keys ? v->n_keys : 1), sizeof *kcols);
  if (!kcols && st == MS_OK) st = oom(err);
  for (int k = 0; st == MS_OK && k < v->n_keys; k++) {
    int i = wt_find(&w, v->key_names[k]);
    if (i < 0)
      st = ms_error_set(err, MS_ERR_NOT_FOUND, "view '%s': join key '%s' is not a column of source '%s' (nor a derived column)",
                        fv->name, v->key_names[k], src->name);
    else kcols[k] = w.c[i];
  }
  int na = ag->n_aggregations;
  cmp_agg_input *ai = ms_calloc((size_t)na, sizeof *ai);
  ms_column **in_cols = ms_calloc((size_t)na * 2, sizeof *in_cols);
  uint8_t **masks = ms_calloc((size_t)na + 1, sizeof *masks);
  if ((!ai || !in_cols || !masks) && st == MS_OK) st = oom(err);
  for (int a = 0; st == MS_OK && a < na; a++) {
    const ms_aggregation_def *d = &ag->aggregations[a];
    ai[a].name = d->name;
    if (!cmp_fn_parse(d->function, &ai[a].fn)) {
      st = ms_error_set(err, MS_ERR_INVALID, "view '%s', aggregation '%s': unknown function '%s'", fv->name, d->name,
                        d->function);
      break;
    }
    ai[a].window_ns = d->window_seconds < 0 ? -1 : d->window_seconds * INT64_C(1000000000);
    ai[a].forward = d->forward;
    ai[a].unit_ns = (d->unit_seconds > 0 ? d->unit_seconds : 86400) * INT64_C(1000000000);
    ai[a].input_key = d->input;
    snprintf(where, sizeof where, "aggregation '%s'", d->name);
    /* an expression already evaluated for an earlier aggregation (as input or `by`) is
     * shared: the store then gathers its values once */
    const char *texts[2] = {d->input, d->by};
    for (int x = 0; x < 2; x++)
      for (int b = 0; b < 2 * a && texts[x] && !in_cols[2 * a + x]; b++) {
        const char *tb = b % 2 ? ag->aggregations[b / 2].by : ag->aggregations[b / 2].input;
        if (tb && in_cols[b] && strcmp(tb, texts[x]) == 0) in_cols[2 * a + x] = ms_column_retain(in_cols[b]);
      }
    for (int x = 0; st == MS_OK && x < 2; x++) {
      if (!texts[x] || in_cols[2 * a + x]) continue;
      ms_expr *e = NULL;
      st = compile_wt(texts[x], &w, fv->name, where, &e, err);
      if (st == MS_OK) st = eval_wt(e, &w, pool, &in_cols[2 * a + x], NULL, err);
      ms_expr_free(e);
    }
    ai[a].input = in_cols[2 * a];
    ai[a].by = in_cols[2 * a + 1];
    if (st == MS_OK && d->filter) {
      for (int b = 0; b < a; b++)
        if (ag->aggregations[b].filter && strcmp(ag->aggregations[b].filter, d->filter) == 0) {
          ai[a].filter = ai[b].filter;
          break;
        }
      if (!ai[a].filter) {
        ms_expr *e = NULL;
        masks[a] = ms_malloc((size_t)(w.rows ? w.rows : 1));
        if (!masks[a]) st = oom(err);
        if (st == MS_OK) st = compile_wt(d->filter, &w, fv->name, where, &e, err);
        if (st == MS_OK) st = eval_wt(e, &w, pool, NULL, masks[a], err);
        ms_expr_free(e);
        ai[a].filter = masks[a];
      }
    }
  }
  const uint8_t *pop = NULL;
  if (st == MS_OK && ag->population_filter) {
    for (int a = 0; a < na; a++)
      if (ag->aggregations[a].filter && strcmp(ag->aggregations[a].filter, ag->population_filter) == 0) pop = ai[a].filter;
    if (!pop) {
      ms_expr *e = NULL;
      masks[na] = ms_malloc((size_t)(w.rows ? w.rows : 1));
      if (!masks[na]) st = oom(err);
      if (st == MS_OK) st = compile_wt(ag->population_filter, &w, fv->name, "population filter", &e, err);
      if (st == MS_OK) st = eval_wt(e, &w, pool, NULL, masks[na], err);
      ms_expr_free(e);
      pop = masks[na];
    }
  }
  if (st == MS_OK) {
    int64_t pw = ag->population_window_seconds;
    if (pw == 0) { /* not resolved by the loader: the largest finite backward window */
      pw = -1;
      for (int a = 0; a < na; a++)
        if (!ag->aggregations[a].forward && ag->aggregations[a].window_seconds > pw) pw = ag->aggregations[a].window_seconds;
    }
    cmp_input in;
    memset(&in, 0, sizeof in);
    in.n = w.rows;
    in.n_keys = v->n_keys;
    in.keys = kcols;
    in.key_names = (const char *const *)v->key_names;
    in.ts_ns = ts_ns;
    in.ts_ok = ts_ok;
    in.pop_filter = pop;
    in.pop_window_ns = pw < 0 ? -1 : pw * INT64_C(1000000000);
    in.n_aggs = na;
    in.aggs = ai;
    if (can_share(share, fv, ts_name, v)) in.order_from = share->store;
    st = cmp_store_build(&in, pool, &v->store, err);
    if (st && err) {
      char m[1024];
      snprintf(m, sizeof m, "%s", err->message);
      ms_error_set(err, st, "view '%s': %s", fv->name, m);
    }
  }
  if (st == MS_OK) v->rows_kept = v->store->n;
  for (int a = 0; in_cols && a < 2 * na; a++) ms_column_release(in_cols[a]);
  for (int a = 0; masks && a <= na; a++) ms_free(masks[a]);
  ms_free(in_cols);
  ms_free(masks);
  ms_free(ai);
  ms_free(kcols);
  ms_free(ts_ns);
  ms_free(ts_ok);
  wt_free(&w);
  /* derived outputs: compiled against the aggregates, earlier expressions and as_of */
  if (st == MS_OK) {
    int ne = ag->n_expressions;
    v->n_exprs = ne;
    v->exprs = ms_calloc((size_t)(ne ? ne : 1), sizeof *v->exprs);
    v->expr_fields = ms_calloc((size_t)(na + ne + 1), sizeof *v->expr_fields);
    if (!v->exprs || !v->expr_fields) st = oom(err);
    for (int a = 0; st == MS_OK && a < na; a++) {
      v->expr_fields[a].name = v->store->aggs[a].name;
      v->expr_fields[a].type = v->store->aggs[a].type;
      v->expr_fields[a].nullable = true;
    }
    if (st == MS_OK) {
      v->expr_fields[na].name = "as_of";
      v->expr_fields[na].type = ms_type_timestamp(MS_UNIT_NANO, v->ts_aware ? "UTC" : "");
      v->expr_fields[na].nullable = true;
    }
    for (int e = 0; st == MS_OK && e < ne; e++) {
      snprintf(where, sizeof where, "expression '%s'", ag->expressions[e].name);
      wtable fake = {na + 1 + e, v->expr_fields, NULL, 0};
      st = compile_wt(ag->expressions[e].expression, &fake, fv->name, where, &v->exprs[e], err);
      if (st == MS_OK) {
        v->expr_fields[na + 1 + e].name = ag->expressions[e].name;
        v->expr_fields[na + 1 + e].type = *ms_expr_type(v->exprs[e]);
        v->expr_fields[na + 1 + e].nullable = true;
      }
    }
  }
  if (st == MS_OK) {
    v->def_hash = definition_hash(repo, fv->name, err);
    if (!v->def_hash) st = err && err->status ? err->status : oom(err);
  }
  v->ms_prepare = sd->ms_prepare + (cmp_now_ms() - t1);
  if (st) {
    cmp_view_free(v);
    return st;
  }
  *out = v;
  return MS_OK;
}

/* ---- output ---- */

/* The type a schema dtype asks for; false for the generic "timestamp" (any unit/zone). */
static bool dtype_type(const char *dtype, ms_datatype *out) {
  if (!dtype || strcmp(dtype, "timestamp") == 0) return false;
  return ms_type_parse(dtype, out);
}

ms_status cmp_cast(ms_column *col, const ms_datatype *to, const char *what, ms_column **out, ms_error *err) {
  const ms_datatype *from = ms_column_type(col);
  *out = NULL;
  if (ms_type_equal(from, to)) {
    *out = ms_column_retain(col);
    return MS_OK;
  }
  bool from_int = ms_type_is_integer(from) || from->id == MS_TYPE_BOOL;
  bool ok = (from_int && (ms_type_is_integer(to) || ms_type_is_float(to))) ||
            (ms_type_is_float(from) && ms_type_is_float(to)) ||
            (ms_type_is_string(from) && ms_type_is_string(to)) ||
            (from->id == MS_TYPE_TIMESTAMP && to->id == MS_TYPE_TIMESTAMP && from->unit == to->unit);
  char ta[96], tb[96];
  if (!ok)
    return ms_error_set(err, MS_ERR_TYPE, "%s is %s, which cannot be written as %s", what,
                        ms_type_to_string(from, ta, sizeof ta), ms_type_to_string(to, tb, sizeof tb));
  int64_t n = ms_column_length(col);
  ms_column_builder *b = NULL;
  ms_status st = ms_column_builder_create(to, n, &b, err);
  int64_t lo = 0, hi = 0;
  bool range = ms_type_is_integer(to);
  if (range) {
    int bits = ms_type_bit_width(to);
    bool sg = ms_type_is_signed_integer(to);
    hi = bits == 64 ? INT64_MAX : sg ? (INT64_C(1) << (bits - 1)) - 1 : (INT64_C(1) << bits) - 1;
    lo = sg ? (bits == 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1))) : 0;
  }
  for (int64_t i = 0; st == MS_OK && i < n; i++) {
    if (ms_column_is_null(col, i)) {
      st = ms_builder_append_null(b);
      continue;
    }
    if (from_int) {
      int64_t x = from->id == MS_TYPE_BOOL ? ms_column_get_bool(col, i) : ms_column_get_i64(col, i);
      if (range && (x < lo || x > hi)) {
        ms_error_set_row(err, i);
        st = ms_error_set(err, MS_ERR_INVALID, "%s: value %lld does not fit %s", what, (long long)x,
                          ms_type_to_string(to, tb, sizeof tb));
      } else if (range) st = ms_builder_append_i64(b, x);
      else st = ms_builder_append_f64(b, (double)x);
    } else if (ms_type_is_float(from)) {
      st = ms_builder_append_f64(b, ms_column_get_f64(col, i));
    } else if (ms_type_is_string(from)) {
      int64_t len;
      const uint8_t *p = ms_column_get_bytes(col, i, &len);
      st = ms_builder_append_bytes(b, p, len);
    } else {
      st = ms_builder_append_i64(b, ms_column_get_i64(col, i));
    }
  }
  if (st == MS_OK) st = ms_builder_finish(b, out, err);
  ms_column_builder_destroy(b);
  return st;
}

int cmp_view_feature_index(const cmp_view *v, const char *name) {
  for (int f = 0; f < v->def->n_schema; f++)
    if (strcmp(v->def->schema[f].name, name) == 0) return f;
  return -1;
}

ms_status cmp_view_features(const cmp_view *v, const cmp_batch *b, const int *feat, int n_feat, ms_column **out,
                            ms_error *err) {
  const cmp_store *s = v->store;
  int na = s->n_aggs, ne = v->n_exprs;
  int64_t m = b->m;
  for (int f = 0; f < n_feat; f++) out[f] = NULL;
  ms_column **cols = ms_calloc((size_t)(na + 1 + ne), sizeof *cols);
  if (!cols) return oom(err);
  ms_status st = cmp_compute_batch(s, b, cols, err);
  /* as_of */
  if (st == MS_OK) {
    ms_datatype tt = v->expr_fields[na].type;
    ms_column_builder *bb = NULL;
    st = ms_column_builder_create(&tt, m, &bb, err);
    for (int64_t i = 0; st == MS_OK && i < m; i++) st = ms_builder_append_i64(bb, b->t_ns[i]);
    if (st == MS_OK) st = ms_builder_finish(bb, &cols[na], err);
    ms_column_builder_destroy(bb);
  }
  /* expressions, each over the columns before it */
  for (int e = 0; st == MS_OK && e < ne; e++) {
    bool needed = false;
    (void)needed;
    st = ms_expr_eval(v->exprs[e], cols, m, &cols[na + 1 + e], err);
    if (st && err) {
      char msg[1024];
      snprintf(msg, sizeof msg, "%s", err->message);
      ms_error_set(err, st, "view '%s', expression '%s': %s", v->def->name, v->def->agg.expressions[e].name, msg);
    }
  }
  /* items outside the population get nulls in every output, whatever the expressions say */
  int64_t *take = NULL;
  bool any_inactive = false;
  for (int64_t i = 0; i < m; i++)
    if (b->key[i] < 0 || (b->active && !b->active[i])) any_inactive = true;
  if (st == MS_OK && any_inactive) {
    take = ms_malloc((size_t)(m ? m : 1) * sizeof *take);
    if (!take) st = oom(err);
    for (int64_t i = 0; st == MS_OK && i < m; i++) take[i] = (b->key[i] < 0 || (b->active && !b->active[i])) ? -1 : i;
  }
  for (int f = 0; st == MS_OK && f < n_feat; f++) {
    const ms_feature_field *ff = &v->def->schema[feat[f]];
    int src = -1;
    for (int c = 0; c < na + 1 + ne; c++)
      if (c != na && strcmp(v->expr_fields[c].name, ff->name) == 0) src = c;
    if (src < 0) {
      st = ms_error_set(err, MS_ERR_INVALID, "view '%s': feature '%s' is neither an aggregation nor an expression",
                        v->def->name, ff->name);
      break;
    }
    ms_column *c = cols[src];
    ms_column *nulled = NULL;
    if (take) {
      st = ms_column_take(c, take, m, &nulled, err);
      c = nulled;
    }
    ms_datatype to;
    char what[300];
    snprintf(what, sizeof what, "view '%s', feature '%s'", v->def->name, ff->name);
    if (st == MS_OK) {
      if (dtype_type(ff->dtype, &to)) st = cmp_cast(c, &to, what, &out[f], err);
      else out[f] = ms_column_retain(c);
    }
    ms_column_release(nulled);
  }
  for (int c = 0; c < na + 1 + ne; c++) ms_column_release(cols[c]);
  ms_free(cols);
  ms_free(take);
  if (st)
    for (int f = 0; f < n_feat; f++) {
      ms_column_release(out[f]);
      out[f] = NULL;
    }
  return st;
}

ms_status cmp_view_keys(const cmp_view *v, const int64_t *key_ids, int64_t m, ms_column **out, ms_error *err) {
  const cmp_store *s = v->store;
  int64_t *rows = ms_malloc((size_t)(m ? m : 1) * sizeof *rows);
  if (!rows) return oom(err);
  for (int64_t i = 0; i < m; i++) rows[i] = key_ids[i] < 0 ? -1 : cmp_enc_rep_row(s->keys, key_ids[i]);
  ms_status st = MS_OK;
  for (int k = 0; k < v->n_keys; k++) out[k] = NULL;
  for (int k = 0; st == MS_OK && k < v->n_keys; k++) {
    ms_column *c = NULL;
    st = ms_column_take(s->key_cols[k], rows, m, &c, err);
    if (st == MS_OK && v->key_has_type[k]) {
      char what[300];
      snprintf(what, sizeof what, "view '%s', join key '%s'", v->def->name, v->key_names[k]);
      st = cmp_cast(c, &v->key_type[k], what, &out[k], err);
      ms_column_release(c);
    } else {
      out[k] = c;
    }
  }
  ms_free(rows);
  if (st)
    for (int k = 0; k < v->n_keys; k++) {
      ms_column_release(out[k]);
      out[k] = NULL;
    }
  return st;
}
