/* Type-checking a loaded repository: every expression compiled (ms_expr_compile) against the
 * real types of what it may reference, and every declared dtype compared with the type
 * the definition produces. Run by `morsel apply`, `plan` and `validate`.
 *
 * Where the types come from:
 *  - a source's columns: the files' schemas through the dataset API (Parquet footers, a
 *    CSV sample), by logical name (field_mapping applied); its derived `columns:` are
 *    compiled in order, each seeing the columns before it. Files are opened only for
 *    sources that have derived columns or a filter, or feed an aggregation view, so a
 *    repository of plain views can be applied before its data exists.
 *  - an aggregation view: inputs, filters and `by` over the source's columns (filters must
 *    be bool); each function's result type (compute.h): count, count_distinct -> int64;
 *    sum -> int64 for integers, float64 for floats; mean, stddev, var, mean_gap ->
 *    float64; min, max, first, last -> the input's type. `expressions` see the aggregation
 *    names, earlier expressions and as_of (timestamp[ns], naive).
 *  - an on-demand view: its source views' declared schema dtypes (`view.feature`, and the
 *    bare `feature` when no other source or request column has that name) and its request
 *    columns.
 * Declared dtypes must equal the inferred type's dtype (bool, int64, float64, string, date,
 * timestamp) or be float64 for an int64 value (cast on output).
 *
 * All problems are collected, each at the file:line:col of the YAML value, and an
 * expression that references a column which itself failed is skipped (one mistake, one
 * message). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "morsel/alloc.h"
#include "morsel/dataset.h"
#include "morsel/expr.h"
#include "repo_int.h"

/* ---- field lists ---- */

typedef struct flist {
  ms_field *v;
  int n, cap;
  /* names whose definition failed: expressions using them are not checked */
  char **bad;
  int n_bad;
} flist;

static bool fl_reserve(flist *l) {
  if (l->n < l->cap) return true;
  int cap = l->cap ? l->cap * 2 : 16;
  ms_field *v = ms_realloc(l->v, (size_t)cap * sizeof *v);
  if (!v) return false;
  l->v = v;
  l->cap = cap;
  return true;
}

static int fl_find(const flist *l, const char *name) {
  for (int i = 0; i < l->n; i++)
    if (!strcmp(l->v[i].name, name)) return i;
  return -1;
}

/* Adds name with type t, replacing an existing field of that name in place. */
static bool fl_set(flist *l, const char *name, const ms_datatype *t) {
  int i = fl_find(l, name);
  if (i >= 0) {
    l->v[i].type = *t;
    return true;
  }
  if (!fl_reserve(l)) return false;
  char *nm = ms_strdup(name);
  if (!nm) return false;
  l->v[l->n].name = nm;
  l->v[l->n].type = *t;
  l->v[l->n].nullable = true;
  l->n++;
  return true;
}

static void fl_remove(flist *l, const char *name) {
  int i = fl_find(l, name);
  if (i < 0) return;
  ms_free(l->v[i].name);
  memmove(&l->v[i], &l->v[i + 1], (size_t)(l->n - i - 1) * sizeof *l->v);
  l->n--;
}

static void fl_mark_bad(flist *l, const char *name) {
  char **b = ms_realloc(l->bad, (size_t)(l->n_bad + 1) * sizeof *b);
  if (!b) return;
  l->bad = b;
  l->bad[l->n_bad] = ms_strdup(name);
  if (l->bad[l->n_bad]) l->n_bad++;
  fl_remove(l, name);
}

static bool fl_is_bad(const flist *l, const char *name) {
  for (int i = 0; i < l->n_bad; i++)
    if (!strcmp(l->bad[i], name)) return true;
  return false;
}

static void fl_free(flist *l) {
  for (int i = 0; i < l->n; i++) ms_free(l->v[i].name);
  ms_free(l->v);
  ms_def_free_strs(l->bad, l->n_bad);
  memset(l, 0, sizeof *l);
}

static bool fl_copy(flist *dst, const flist *src) {
  memset(dst, 0, sizeof *dst);
  for (int i = 0; i < src->n; i++)
    if (!fl_set(dst, src->v[i].name, &src->v[i].type)) return false;
  for (int i = 0; i < src->n_bad; i++) {
    char **b = ms_realloc(dst->bad, (size_t)(dst->n_bad + 1) * sizeof *b);
    if (!b) return false;
    dst->bad = b;
    dst->bad[dst->n_bad++] = ms_strdup(src->bad[i]);
  }
  return true;
}

void ms_repo_fields_free(ms_field *fields, int n) {
  for (int i = 0; fields && i < n; i++) ms_free(fields[i].name);
  ms_free(fields);
}

/* ---- dtypes ---- */

/* The dtype name of a type (NULL for types that have none, e.g. decimal). */
static const char *dtype_of(const ms_datatype *t) {
  switch (t->id) {
    case MS_TYPE_BOOL: return "bool";
    case MS_TYPE_INT8: case MS_TYPE_INT16: case MS_TYPE_INT32: case MS_TYPE_UINT8:
    case MS_TYPE_UINT16: return "int32";
    case MS_TYPE_INT64: case MS_TYPE_UINT32: case MS_TYPE_UINT64: return "int64";
    case MS_TYPE_FLOAT32: return "float32";
    case MS_TYPE_FLOAT64: return "float64";
    case MS_TYPE_UTF8: case MS_TYPE_LARGE_UTF8: return "string";
    case MS_TYPE_BINARY: case MS_TYPE_LARGE_BINARY: case MS_TYPE_FIXED_BINARY: return "bytes";
    case MS_TYPE_DATE32: return "date";
    case MS_TYPE_TIMESTAMP: return "timestamp";
    default: return NULL;
  }
}

ms_datatype ms_repo_dtype_type(const char *dtype, ms_datatype timestamp_type) {
  if (!strcmp(dtype, "bool")) return ms_type(MS_TYPE_BOOL);
  if (!strcmp(dtype, "int32")) return ms_type(MS_TYPE_INT32);
  if (!strcmp(dtype, "int64")) return ms_type(MS_TYPE_INT64);
  if (!strcmp(dtype, "float32")) return ms_type(MS_TYPE_FLOAT32);
  if (!strcmp(dtype, "float64")) return ms_type(MS_TYPE_FLOAT64);
  if (!strcmp(dtype, "string")) return ms_type(MS_TYPE_UTF8);
  if (!strcmp(dtype, "bytes")) return ms_type(MS_TYPE_BINARY);
  if (!strcmp(dtype, "date")) return ms_type(MS_TYPE_DATE32);
  return timestamp_type; /* "timestamp" (the loader admits no other name) */
}

/* The column type a declared dtype reads as (timestamps as naive ns: the zone of a view's
 * feature is not declared). */
static ms_datatype type_of_dtype(const char *dtype) {
  return ms_repo_dtype_type(dtype, ms_type_timestamp(MS_UNIT_NANO, ""));
}

/* The rule for a declared dtype over an inferred type: equal, or float64 for int64. */
static bool dtype_fits(const char *declared, const ms_datatype *t) {
  const char *inf = dtype_of(t);
  if (!inf || !declared) return false;
  return !strcmp(declared, inf) || (!strcmp(declared, "float64") && !strcmp(inf, "int64"));
}

static bool is_number(const ms_datatype *t) {
  return ms_type_is_integer(t) || ms_type_is_float(t);
}

/* ---- compiling with problems ---- */

typedef struct tctx {
  ms_repo *r;
  ms_probs *p;
} tctx;

/* Compiles text against the fields; a failure is a problem at `where`. Returns NULL (and
 * no problem) when the expression uses a name whose own definition failed. */
static ms_expr *compile_at(tctx *c, const char *text, const flist *f, const char *where,
                           const char *desc) {
  char **names = NULL;
  int n_names = 0;
  ms_error e;
  ms_error_init(&e);
  if (ms_expr_references(text, &names, &n_names, &e) != MS_OK) {
    ms_def_prob(c->p, where, "%s: %s", desc, e.message); /* load reports syntax; kept safe */
    return NULL;
  }
  bool skip = false;
  for (int i = 0; i < n_names; i++)
    if (fl_is_bad(f, names[i])) skip = true;
  ms_expr_names_free(names, n_names);
  if (skip) return NULL;
  ms_expr *x = NULL;
  ms_error_init(&e);
  if (ms_expr_compile(text, f->v, f->n, &x, &e) != MS_OK) {
    ms_def_prob(c->p, where, "%s: %s", desc, e.message);
    return NULL;
  }
  return x;
}

/* ---- source columns ---- */

static ms_status open_logical(const ms_source_def *s, flist *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  ms_dataset_options o;
  ms_dataset_options_init(&o);
  /* as retrieval and compute decide: the path's extension first, then file_format */
  o.format = ms_format_from_path(s->path);
  if (o.format == MS_FORMAT_AUTO)
    o.format = s->file_format && !strcmp(s->file_format, "csv") ? MS_FORMAT_CSV
                                                                 : MS_FORMAT_PARQUET;
  ms_dataset *ds = NULL;
  ms_status st = ms_dataset_open(NULL, s->path, &o, &ds, err);
  if (st != MS_OK) return st;
  for (int i = 0; i < ms_dataset_num_fields(ds); i++) {
    const ms_field *f = ms_dataset_field(ds, i);
    const char *name = f->name;
    for (int k = 0; k < s->n_field_mapping; k++)
      if (!strcmp(s->field_mapping[k].key, f->name)) name = s->field_mapping[k].value;
    if (!fl_set(out, name, &f->type)) {
      ms_dataset_close(ds);
      fl_free(out);
      return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    }
  }
  ms_dataset_close(ds);
  return MS_OK;
}

ms_status ms_repo_source_fields(const ms_repo *repo, const ms_source_def *s, ms_field **out,
                                int *out_n, ms_error *err) {
  (void)repo;
  *out = NULL;
  *out_n = 0;
  flist l;
  ms_status st = open_logical(s, &l, err);
  if (st != MS_OK) return st;
  for (int i = 0; i < s->n_columns; i++) {
    ms_expr *x = NULL;
    ms_error e;
    ms_error_init(&e);
    st = ms_expr_compile(s->columns[i].expression, l.v, l.n, &x, &e);
    if (st != MS_OK) {
      ms_error_set(err, st, "%s: source '%s', derived column '%s': %s", s->columns[i].where,
                   s->name, s->columns[i].name, e.message);
      fl_free(&l);
      return st;
    }
    bool ok = fl_set(&l, s->columns[i].name, ms_expr_type(x));
    ms_expr_free(x);
    if (!ok) {
      fl_free(&l);
      return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    }
  }
  *out = l.v;
  *out_n = l.n;
  l.v = NULL;
  l.n = 0;
  fl_free(&l);
  return MS_OK;
}

/* Per source: its fields (logical + derived), computed once, with problems reported. */
typedef struct src_state {
  bool done, ok;
  flist f;
} src_state;

static bool source_needs_files(const ms_repo *r, int i) {
  const ms_source_def *s = &r->sources[i];
  if (s->n_columns || s->filter) return true;
  for (int v = 0; v < r->n_views; v++)
    if (r->views[v].agg.n_aggregations && r->views[v].source &&
        !strcmp(r->views[v].source, s->name))
      return true;
  return false;
}

static void check_source(tctx *c, int i, src_state *st) {
  const ms_source_def *s = &c->r->sources[i];
  st->done = true;
  ms_error e;
  ms_error_init(&e);
  if (open_logical(s, &st->f, &e) != MS_OK) {
    char msg[1024];
    ms_def_prob(c->p, s->where,
                "source '%s': cannot read the schema of its files to type-check its "
                "expressions: %s",
                s->name, ms_error_format(&e, msg, sizeof msg));
    return;
  }
  st->ok = true;
  char desc[512];
  for (int k = 0; k < s->n_columns; k++) {
    snprintf(desc, sizeof desc, "source '%s', derived column '%s'", s->name,
             s->columns[k].name);
    ms_expr *x = compile_at(c, s->columns[k].expression, &st->f, s->columns[k].where, desc);
    if (!x) {
      fl_mark_bad(&st->f, s->columns[k].name);
      continue;
    }
    fl_set(&st->f, s->columns[k].name, ms_expr_type(x));
    ms_expr_free(x);
  }
  if (s->filter) {
    snprintf(desc, sizeof desc, "source '%s', filter", s->name);
    const char *where = c->r->source_marks ? c->r->source_marks[i].filter : s->where;
    ms_expr *x = compile_at(c, s->filter, &st->f, where, desc);
    if (x && ms_expr_type(x)->id != MS_TYPE_BOOL) {
      char tn[64];
      ms_def_prob(c->p, where, "%s: a filter must be bool, not %s", desc,
                  ms_type_to_string(ms_expr_type(x), tn, sizeof tn));
    }
    ms_expr_free(x);
  }
}

/* ---- aggregation views ---- */

static void type_name(const ms_datatype *t, char *buf, size_t n) { ms_type_to_string(t, buf, n); }

/* The result type of an aggregation over an input of type in (NULL: count of rows);
 * false (with *why) when the function does not take that type. */
static bool agg_result(const char *fn, const ms_datatype *in, ms_datatype *out,
                       const char **why) {
  *why = NULL;
  if (!strcmp(fn, "count") || !strcmp(fn, "count_distinct")) {
    *out = ms_type(MS_TYPE_INT64);
    return true;
  }
  if (!strcmp(fn, "sum")) {
    if (!is_number(in)) {
      *why = "needs numbers";
      return false;
    }
    *out = ms_type(ms_type_is_integer(in) ? MS_TYPE_INT64 : MS_TYPE_FLOAT64);
    return true;
  }
  if (!strcmp(fn, "mean") || !strcmp(fn, "stddev") || !strcmp(fn, "var")) {
    if (!is_number(in)) {
      *why = "needs numbers";
      return false;
    }
    *out = ms_type(MS_TYPE_FLOAT64);
    return true;
  }
  if (!strcmp(fn, "min") || !strcmp(fn, "max")) {
    if (!is_number(in) && !ms_type_is_string(in) && in->id != MS_TYPE_TIMESTAMP &&
        in->id != MS_TYPE_DATE32) {
      *why = "needs an ordered type (a number, string, date or timestamp)";
      return false;
    }
    *out = *in;
    return true;
  }
  if (!strcmp(fn, "first") || !strcmp(fn, "last")) {
    *out = *in;
    return true;
  }
  if (!strcmp(fn, "mean_gap")) {
    if (in->id != MS_TYPE_TIMESTAMP) {
      *why = "needs a timestamp input";
      return false;
    }
    *out = ms_type(MS_TYPE_FLOAT64);
    return true;
  }
  *why = "is not a known function";
  return false;
}

static void check_bool(tctx *c, ms_expr *x, const char *where, const char *desc) {
  if (x && ms_expr_type(x)->id != MS_TYPE_BOOL) {
    char tn[64];
    type_name(ms_expr_type(x), tn, sizeof tn);
    ms_def_prob(c->p, where, "%s: a filter must be bool, not %s", desc, tn);
  }
}

/* A declared dtype against the type a feature gets. */
static void check_declared(tctx *c, const char *owner, const char *feature, const char *dtype,
                           const ms_datatype *t, const char *where) {
  if (!dtype || dtype_fits(dtype, t)) return;
  char tn[64];
  type_name(t, tn, sizeof tn);
  const char *inf = dtype_of(t);
  ms_def_prob(c->p, where, "%s: feature '%s' is declared %s but its value is %s (declare %s%s)",
              owner, feature, dtype, tn, inf ? inf : "a supported type",
              inf && !strcmp(inf, "int64") ? " or float64" : "");
}

/* Whether an entity's value_type accepts a key column of type t: integers of any width
 * for int32/int64, else the same dtype. */
static bool key_fits(const char *value_type, const ms_datatype *t) {
  if (!value_type) return true;
  const char *d = dtype_of(t);
  if (!d) return false;
  bool vi = !strcmp(value_type, "int32") || !strcmp(value_type, "int64");
  bool ti = !strcmp(d, "int32") || !strcmp(d, "int64");
  return (vi && ti) || !strcmp(value_type, d);
}

static void check_agg_view(tctx *c, int vi, src_state *ss) {
  const ms_feature_view_def *v = &c->r->views[vi];
  const ms_view_marks *vm = &c->r->view_marks[vi];
  const ms_aggregation_spec *a = &v->agg;
  const ms_source_def *src = ms_repo_find_source(c->r, v->source);
  char owner[512], desc[1024];
  snprintf(owner, sizeof owner, "feature view '%s'", v->name);
  const flist *f = &ss->f;

  /* timestamp field and join keys */
  const char *ts = a->timestamp_field ? a->timestamp_field : src->timestamp_field;
  const char *ts_where = vm->timestamp_field ? vm->timestamp_field : v->where;
  int ti = fl_find(f, ts);
  if (ti < 0 && !fl_is_bad(f, ts)) {
    const char *cands[512];
    int nc = 0;
    for (int k = 0; k < f->n && nc < 512; k++) cands[nc++] = f->v[k].name;
    const char *sug = ms_repo_suggest(ts, cands, nc);
    ms_def_prob(c->p, ts_where, "%s: timestamp field '%s' is not a column of source '%s'%s%s%s",
                owner, ts, src->name, sug ? " (did you mean '" : "", sug ? sug : "",
                sug ? "'?)" : "");
  } else if (ti >= 0 && f->v[ti].type.id != MS_TYPE_TIMESTAMP &&
             f->v[ti].type.id != MS_TYPE_DATE32) {
    char tn[64];
    type_name(&f->v[ti].type, tn, sizeof tn);
    ms_def_prob(c->p, ts_where, "%s: timestamp field '%s' is %s, not a timestamp or date",
                owner, ts, tn);
  }
  for (int e = 0; e < v->n_entities; e++) {
    const ms_entity_def *ed = ms_def_find_entity(c->r, v->entities[e]);
    for (int k = 0; ed && k < ed->n_join_keys; k++) {
      const char *jk = ed->join_keys[k];
      const char *where = ms_def_at(vm->entities, e, v->where);
      int ki = fl_find(f, jk);
      if (ki < 0) {
        if (!fl_is_bad(f, jk))
          ms_def_prob(c->p, where,
                      "%s: join key '%s' of entity '%s' is not a column of source '%s' (add "
                      "it, or derive it under the source's columns:)",
                      owner, jk, ed->name, src->name);
      } else if (!key_fits(ed->value_type, &f->v[ki].type)) {
        char tn[64];
        type_name(&f->v[ki].type, tn, sizeof tn);
        ms_def_prob(c->p, where,
                    "%s: join key '%s' is %s in source '%s' but entity '%s' declares "
                    "value_type %s",
                    owner, jk, tn, src->name, ed->name, ed->value_type);
      }
    }
  }

  /* row filters */
  if (a->filter) {
    snprintf(desc, sizeof desc, "%s, filter", owner);
    ms_expr *x = compile_at(c, a->filter, f, vm->filter, desc);
    check_bool(c, x, vm->filter, desc);
    ms_expr_free(x);
  }
  if (a->population_filter) {
    snprintf(desc, sizeof desc, "%s, population filter", owner);
    ms_expr *x = compile_at(c, a->population_filter, f, vm->population_filter, desc);
    check_bool(c, x, vm->population_filter, desc);
    ms_expr_free(x);
  }

  /* aggregations: their result types are what the expressions see */
  flist out = {0};
  for (int k = 0; k < a->n_aggregations; k++) {
    const ms_aggregation_def *ad = &a->aggregations[k];
    bool ok = true;
    ms_datatype in = ms_type(MS_TYPE_NULL), res;
    if (ad->input) {
      snprintf(desc, sizeof desc, "%s, aggregation '%s', input", owner, ad->name);
      ms_expr *x = compile_at(c, ad->input, f, vm->agg_input[k], desc);
      if (x) in = *ms_expr_type(x);
      else ok = false;
      ms_expr_free(x);
    }
    if (ad->filter) {
      snprintf(desc, sizeof desc, "%s, aggregation '%s', filter", owner, ad->name);
      ms_expr *x = compile_at(c, ad->filter, f, vm->agg_filter[k], desc);
      check_bool(c, x, vm->agg_filter[k], desc);
      ms_expr_free(x);
    }
    if (ad->by) {
      snprintf(desc, sizeof desc, "%s, aggregation '%s', by", owner, ad->name);
      ms_expr *x = compile_at(c, ad->by, f, vm->agg_by[k], desc);
      ms_expr_free(x);
    }
    const char *why = NULL;
    if (ok && !agg_result(ad->function, ad->input ? &in : NULL, &res, &why)) {
      char tn[64];
      type_name(&in, tn, sizeof tn);
      ms_def_prob(c->p, ms_def_at(vm->agg_input, k, ad->where),
                  "%s, aggregation '%s': %s %s; its input is %s", owner, ad->name,
                  ad->function, why, tn);
      ok = false;
    }
    if (ok) fl_set(&out, ad->name, &res);
    else fl_mark_bad(&out, ad->name);
  }

  /* expressions over aggregates, earlier expressions and as_of */
  ms_datatype as_of = ms_type_timestamp(MS_UNIT_NANO, "");
  flist ctx;
  fl_copy(&ctx, &out);
  fl_set(&ctx, "as_of", &as_of);
  for (int k = 0; k < a->n_expressions; k++) {
    const ms_named_expr *ne = &a->expressions[k];
    snprintf(desc, sizeof desc, "%s, expression '%s'", owner, ne->name);
    ms_expr *x = compile_at(c, ne->expression, &ctx, ne->where, desc);
    if (x) {
      fl_set(&ctx, ne->name, ms_expr_type(x));
      fl_set(&out, ne->name, ms_expr_type(x));
    } else {
      fl_mark_bad(&ctx, ne->name);
      fl_mark_bad(&out, ne->name);
    }
    ms_expr_free(x);
  }
  fl_free(&ctx);

  /* published features: declared dtype vs the value's type */
  for (int k = 0; k < v->n_schema; k++) {
    int oi = fl_find(&out, v->schema[k].name);
    if (oi < 0) continue; /* failed above, or named nothing (a load error) */
    check_declared(c, owner, v->schema[k].name, v->schema[k].dtype, &out.v[oi].type,
                   ms_def_at(vm->fields, k, v->where));
  }
  fl_free(&out);
}

/* A plain view over a source with derived columns: its features that are derived columns
 * take the derived type. */
static void check_plain_view(tctx *c, int vi, const ms_source_def *src, src_state *ss) {
  const ms_feature_view_def *v = &c->r->views[vi];
  const ms_view_marks *vm = &c->r->view_marks[vi];
  char owner[512];
  snprintf(owner, sizeof owner, "feature view '%s'", v->name);
  for (int k = 0; k < v->n_schema; k++) {
    bool derived = false;
    for (int d = 0; d < src->n_columns; d++)
      if (!strcmp(src->columns[d].name, v->schema[k].name)) derived = true;
    if (!derived) continue; /* file columns: `morsel validate` checks them */
    int fi = fl_find(&ss->f, v->schema[k].name);
    if (fi < 0) continue;
    check_declared(c, owner, v->schema[k].name, v->schema[k].dtype, &ss->f.v[fi].type,
                   ms_def_at(vm->fields, k, v->where));
  }
}

/* ---- on-demand views ---- */

static void check_odfv(tctx *c, const ms_odfv_def *o) {
  flist in = {0};
  char owner[512], desc[1024];
  snprintf(owner, sizeof owner, "on-demand feature view '%s'", o->name);
  for (int s = 0; s < o->n_sources; s++) {
    const ms_feature_view_def *v = ms_repo_find_feature_view(c->r, o->sources[s]);
    if (!v) continue;
    for (int k = 0; k < v->n_schema; k++) {
      if (!v->schema[k].dtype) continue;
      ms_datatype t = type_of_dtype(v->schema[k].dtype);
      char *q = ms_asprintf("%s.%s", v->name, v->schema[k].name);
      if (q) fl_set(&in, q, &t);
      ms_free(q);
      /* the bare name when no other source has it and no request column is named so */
      bool unique = true;
      for (int s2 = 0; s2 < o->n_sources; s2++) {
        if (s2 == s) continue;
        const ms_feature_view_def *w = ms_repo_find_feature_view(c->r, o->sources[s2]);
        for (int j = 0; w && j < w->n_schema; j++)
          if (!strcmp(w->schema[j].name, v->schema[k].name)) unique = false;
      }
      for (int j = 0; j < o->n_request; j++)
        if (!strcmp(o->request[j].name, v->schema[k].name)) unique = false;
      if (unique) fl_set(&in, v->schema[k].name, &t);
    }
  }
  for (int j = 0; j < o->n_request; j++) {
    if (!o->request[j].dtype) continue;
    ms_datatype t = type_of_dtype(o->request[j].dtype);
    fl_set(&in, o->request[j].name, &t);
  }
  for (int k = 0; k < o->n_schema; k++) {
    snprintf(desc, sizeof desc, "%s, output '%s'", owner, o->schema[k].name);
    ms_expr *x = compile_at(c, o->outputs[k].expression, &in, o->outputs[k].where, desc);
    if (x)
      check_declared(c, owner, o->schema[k].name, o->schema[k].dtype, ms_expr_type(x),
                     o->outputs[k].where);
    ms_expr_free(x);
  }
  fl_free(&in);
}

/* ---- entry ---- */

ms_status ms_repo_typecheck(ms_repo *r, char ***out_problems, int *out_n_problems,
                            ms_error *err) {
  if (out_problems) *out_problems = NULL;
  if (out_n_problems) *out_n_problems = 0;
  ms_probs probs = {0};
  tctx c = {r, &probs};
  src_state *ss = ms_calloc((size_t)r->n_sources + 1, sizeof *ss);
  if (!ss) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  for (int i = 0; i < r->n_sources; i++)
    if (source_needs_files(r, i)) check_source(&c, i, &ss[i]);
  for (int v = 0; v < r->n_views; v++) {
    const ms_feature_view_def *fv = &r->views[v];
    int si = -1;
    for (int i = 0; fv->source && i < r->n_sources; i++)
      if (!strcmp(r->sources[i].name, fv->source)) si = i;
    if (si < 0 || !ss[si].ok) continue;
    if (fv->agg.n_aggregations) check_agg_view(&c, v, &ss[si]);
    else check_plain_view(&c, v, &r->sources[si], &ss[si]);
  }
  for (int i = 0; i < r->n_odfvs; i++) check_odfv(&c, &r->odfvs[i]);
  for (int i = 0; i < r->n_sources; i++) fl_free(&ss[i].f);
  ms_free(ss);
  if (probs.n == 0) {
    ms_probs_free(&probs);
    return MS_OK;
  }
  ms_probs_sort(&probs);
  if (probs.n == 1)
    ms_error_set(err, MS_ERR_INVALID, "%s", probs.v[0]);
  else
    ms_error_set(err, MS_ERR_INVALID, "%s (and %d more problems)", probs.v[0], probs.n - 1);
  if (out_problems && out_n_problems) {
    *out_problems = probs.v;
    *out_n_problems = probs.n;
    memset(&probs, 0, sizeof probs);
  }
  ms_probs_free(&probs);
  return MS_ERR_INVALID;
}
