/* On-demand feature views in get_historical_features: outputs computed after the
 * point-in-time join from the joined features of their source views and from request
 * columns of the entity input.
 *
 * Planning (before any data is read): each requested output's expression is parsed for
 * the names it references (ms_expr_references). A name is `view.feature` (a feature of one
 * of the on-demand view's sources), a request column, or a bare `feature` that exactly one
 * source view has; anything else is an error naming the output. Every source feature
 * referenced becomes a feature of the job's view of that name (joined like any other, on
 * the view's own join keys) marked hidden unless it was requested too: hidden features are
 * joined and fed to the expressions, never output. Request columns must be entity columns
 * of a compatible type (all missing or mistyped ones in one error, before the sources are
 * opened). Once the sources are bound, each output is compiled against the joined columns'
 * actual types (ms_expr_compile), and its result type must equal the declared dtype or
 * be castable to it (an integer to a float or to a narrower integer, a float64 to a
 * float32).
 *
 * Execution: after every view's join, each requested output (only those) is evaluated
 * over the entity rows in batches of OFS_ODFV_BATCH rows, batches in parallel on the job's
 * pool (a compiled expression is thread-safe), then cast to its dtype. Nulls propagate by
 * the expression language's SQL rules, so a row whose source feature had no match gets a
 * null output unless the expression says otherwise (coalesce, is null, ...). */
#include <stdio.h>
#include <string.h>

#include "columnar/column.h"
#include "morsel/alloc.h"
#include "morsel/threadpool.h"
#include "offline/ofs_internal.h"

#define OFS_ODFV_BATCH INT64_C(262144)

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

void ofs_odfv_reset(ofs_odfv *o) {
  ms_free(o->label);
  for (int k = 0; k < o->n_out; k++) {
    if (o->out_name) ms_free(o->out_name[k]);
    if (o->expr) ms_expr_free(o->expr[k]);
    for (int i = 0; o->in && o->in[k] && i < o->n_in[k]; i++) ms_free(o->in[k][i].entity_col);
    if (o->in) ms_free(o->in[k]);
  }
  ms_free(o->out_idx);
  ms_free(o->out_name);
  ms_free(o->expr);
  ms_free(o->out_type);
  ms_free(o->n_in);
  ms_free(o->in);
  memset(o, 0, sizeof *o);
}

static const ms_feature_view_def *source_view(const ms_retrieval_job *job, const char *name) {
  return ms_repo_find_feature_view(job->repo, name);
}

static bool view_has(const ms_feature_view_def *d, const char *f) {
  for (int i = 0; d && i < d->n_schema; i++)
    if (strcmp(d->schema[i].name, f) == 0) return true;
  return false;
}

/* Resolves one referenced name of output k of o. */
static ms_status resolve_name(ms_retrieval_job *job, ofs_odfv *o, int k, const char *name, ofs_odfv_in *in,
                              ms_error *err) {
  const ms_odfv_def *d = o->def;
  const char *out = d->schema[o->out_idx[k]].name;
  in->view = -1;
  in->feat = -1;
  /* view.feature */
  for (int s = 0; s < d->n_sources; s++) {
    size_t len = strlen(d->sources[s]);
    if (strncmp(name, d->sources[s], len) != 0 || name[len] != '.') continue;
    const ms_feature_view_def *v = source_view(job, d->sources[s]);
    if (!v) return ms_error_set(err, MS_ERR_NOT_FOUND, "on-demand view '%s': no feature view named '%s'", d->name, d->sources[s]);
    if (!view_has(v, name + len + 1))
      return ms_error_set(err, MS_ERR_NOT_FOUND, "on-demand view '%s', output '%s': feature view '%s' has no feature '%s'",
                          d->name, out, v->name, name + len + 1);
    return ofs_add_hidden_feature(job, v, name + len + 1, &in->view, &in->feat, err);
  }
  /* a request column */
  for (int r = 0; r < d->n_request; r++)
    if (strcmp(d->request[r].name, name) == 0) {
      if (!(in->entity_col = ms_strdup(name))) return oom(err);
      return MS_OK;
    }
  /* a bare feature of exactly one source */
  const ms_feature_view_def *found = NULL;
  int n_found = 0;
  ofs_sb b = {0};
  for (int s = 0; s < d->n_sources; s++) {
    const ms_feature_view_def *v = source_view(job, d->sources[s]);
    if (!view_has(v, name)) continue;
    ofs_sb_printf(&b, "%s%s.%s", n_found ? ", " : "", v->name, name);
    found = v;
    n_found++;
  }
  ms_status st = MS_OK;
  if (n_found == 1) {
    st = ofs_add_hidden_feature(job, found, name, &in->view, &in->feat, err);
  } else if (n_found > 1) {
    st = ms_error_set(err, MS_ERR_INVALID, "on-demand view '%s', output '%s': '%s' is ambiguous (%s); qualify it as view.feature",
                      d->name, out, name, b.s ? b.s : "");
  } else {
    ofs_sb_reset(&b);
    for (int s = 0; s < d->n_sources; s++) ofs_sb_printf(&b, "%s%s", s ? ", " : "", d->sources[s]);
    ofs_sb_printf(&b, "; request columns:");
    for (int r = 0; r < d->n_request; r++) ofs_sb_printf(&b, "%s %s", r ? "," : "", d->request[r].name);
    if (d->n_request == 0) ofs_sb_printf(&b, " none");
    st = ms_error_set(err, MS_ERR_NOT_FOUND,
                      "on-demand view '%s', output '%s': '%s' is neither a feature of its sources nor a request "
                      "column (sources: %s)",
                      d->name, out, name, b.s ? b.s : "");
  }
  ofs_sb_reset(&b);
  return st;
}

ms_status ofs_odfv_resolve(ms_retrieval_job *job, ms_error *err) {
  for (int i = 0; i < job->n_odfvs; i++) {
    ofs_odfv *o = &job->odfvs[i];
    o->n_in = ms_calloc((size_t)o->n_out + 1, sizeof *o->n_in);
    o->in = ms_calloc((size_t)o->n_out + 1, sizeof *o->in);
    o->expr = ms_calloc((size_t)o->n_out + 1, sizeof *o->expr);
    o->out_type = ms_calloc((size_t)o->n_out + 1, sizeof *o->out_type);
    if (!o->n_in || !o->in || !o->expr || !o->out_type) return oom(err);
    for (int k = 0; k < o->n_out; k++) {
      const ms_feature_field *f = &o->def->schema[o->out_idx[k]];
      const ms_named_expr *e = &o->def->outputs[o->out_idx[k]];
      if (!ofs_dtype_type(f->dtype, &o->out_type[k]))
        return ms_error_set(err, MS_ERR_INVALID, "on-demand view '%s', output '%s': unknown dtype '%s'", o->def->name,
                            f->name, f->dtype ? f->dtype : "(none)");
      char **names = NULL;
      int n = 0;
      ms_status st = ms_expr_references(e->expression, &names, &n, err);
      if (st) {
        char msg[800];
        snprintf(msg, sizeof msg, "%.600s", err ? err->message : "");
        return ms_error_set(err, st, "on-demand view '%s', output '%s' (%s): %s", o->def->name, f->name,
                            e->expression, msg);
      }
      o->in[k] = ms_calloc((size_t)n + 1, sizeof *o->in[k]);
      if (!o->in[k]) st = oom(err);
      for (int r = 0; r < n && st == MS_OK; r++) {
        st = resolve_name(job, o, k, names[r], &o->in[k][r], err);
        o->n_in[k] = r + 1;
      }
      ms_expr_names_free(names, n);
      if (st) return st;
    }
  }
  return MS_OK;
}

/* Can an entity column of type t feed a request column declared as dtype? Integers of any
 * width for int types, float32/float64 for float types, either string width for string,
 * any timestamp for timestamp. */
static bool request_compatible(const char *dtype, const ms_datatype *t) {
  ms_datatype want;
  if (!ofs_dtype_type(dtype, &want)) return false;
  if (ms_type_is_integer(&want)) return ms_type_is_integer(t);
  if (ms_type_is_float(&want)) return ms_type_is_float(t);
  if (ms_type_is_string(&want)) return ms_type_is_string(t);
  if (want.id == MS_TYPE_BINARY) return t->id == MS_TYPE_BINARY || t->id == MS_TYPE_LARGE_BINARY;
  return want.id == t->id;
}

ms_status ofs_odfv_check_entity(ms_retrieval_job *job, const ms_table *entity, ms_error *err) {
  ofs_sb miss = {0}, bad = {0};
  int n_miss = 0, n_bad = 0;
  char **seen = NULL;
  int n_seen = 0;
  bool ok = true;
  for (int i = 0; i < job->n_odfvs; i++) {
    const ofs_odfv *o = &job->odfvs[i];
    for (int k = 0; k < o->n_out; k++)
      for (int r = 0; r < o->n_in[k]; r++) {
        const char *c = o->in[k][r].entity_col;
        if (!c) continue;
        bool dup = false;
        for (int s = 0; s < n_seen && !dup; s++) dup = strcmp(seen[s], c) == 0;
        if (dup) continue;
        char **ns = ms_realloc(seen, sizeof *ns * (size_t)(n_seen + 1));
        if (!ns) {
          ok = false;
          break;
        }
        seen = ns;
        seen[n_seen++] = (char *)c;
        const char *dtype = "";
        for (int q = 0; q < o->def->n_request; q++)
          if (strcmp(o->def->request[q].name, c) == 0) dtype = o->def->request[q].dtype;
        int col = entity ? ms_table_find_column(entity, c) : -1;
        if (col < 0) {
          ofs_sb_printf(&miss, "%s'%s' (%s, request column of on-demand view %s)", n_miss++ ? ", " : "", c, dtype,
                        o->def->name);
        } else if (!request_compatible(dtype, &ms_table_field(entity, col)->type)) {
          char tb[96];
          ofs_sb_printf(&bad, "%s'%s' is %s, on-demand view %s wants %s", n_bad++ ? ", " : "", c,
                        ms_type_to_string(&ms_table_field(entity, col)->type, tb, sizeof tb), o->def->name, dtype);
        }
      }
  }
  ms_free(seen);
  ms_status st = MS_OK;
  if (!ok || miss.oom || bad.oom) st = oom(err);
  else if (n_miss && !entity)
    st = ms_error_set(err, MS_ERR_INVALID, "request column%s %s need an entity input (not entity-less mode)",
                      n_miss > 1 ? "s" : "", miss.s);
  else if (n_miss)
    st = ms_error_set(err, MS_ERR_INVALID, "the entity input is missing %d request column%s: %s%s%s", n_miss,
                      n_miss > 1 ? "s" : "", miss.s, n_bad ? "; and " : "", n_bad ? bad.s : "");
  else if (n_bad)
    st = ms_error_set(err, MS_ERR_TYPE, "request column type mismatch: %s", bad.s);
  ofs_sb_reset(&miss);
  ofs_sb_reset(&bad);
  return st;
}

/* Can an expression result of type from be output as `to`? */
static bool castable(const ms_datatype *from, const ms_datatype *to) {
  if (from->id == to->id) return true;
  if (ms_type_is_integer(from) && (ms_type_is_integer(to) || ms_type_is_float(to))) return true;
  if (ms_type_is_float(from) && ms_type_is_float(to)) return true;
  if (ms_type_is_string(from) && ms_type_is_string(to)) return true;
  return false;
}

static const ms_datatype *input_type(const ms_retrieval_job *job, const ofs_odfv_in *in) {
  if (in->view >= 0) return ofs_feature_type(&job->views[in->view], in->feat);
  int c = ms_table_find_column(job->entity, in->entity_col);
  return c >= 0 ? &ms_table_field(job->entity, c)->type : NULL;
}

ms_status ofs_odfv_compile(ms_retrieval_job *job, ms_error *err) {
  for (int i = 0; i < job->n_odfvs; i++) {
    ofs_odfv *o = &job->odfvs[i];
    for (int k = 0; k < o->n_out; k++) {
      const ms_feature_field *f = &o->def->schema[o->out_idx[k]];
      const ms_named_expr *e = &o->def->outputs[o->out_idx[k]];
      ms_field *inputs = ms_calloc((size_t)o->n_in[k] + 1, sizeof *inputs);
      char **names = NULL;
      int n = 0;
      ms_status st = inputs ? ms_expr_references(e->expression, &names, &n, err) : oom(err);
      if (st == MS_OK && n != o->n_in[k])
        st = ms_error_set(err, MS_ERR_INTERNAL, "on-demand view '%s': references changed", o->def->name);
      for (int r = 0; r < n && st == MS_OK; r++) {
        const ms_datatype *t = input_type(job, &o->in[k][r]);
        if (!t) {
          st = ms_error_set(err, MS_ERR_INTERNAL, "on-demand view '%s': no type for input '%s'", o->def->name, names[r]);
          break;
        }
        inputs[r].name = names[r];
        inputs[r].type = *t;
        inputs[r].nullable = true;
      }
      if (st == MS_OK) {
        st = ms_expr_compile(e->expression, inputs, n, &o->expr[k], err);
        if (st) {
          char msg[800];
          snprintf(msg, sizeof msg, "%.600s", err ? err->message : "");
          st = ms_error_set(err, st, "on-demand view '%s', output '%s' (%s): %s", o->def->name, f->name,
                            e->expression, msg);
        }
      }
      if (st == MS_OK && !castable(ms_expr_type(o->expr[k]), &o->out_type[k])) {
        char a[96], b[96];
        st = ms_error_set(err, MS_ERR_TYPE, "on-demand view '%s', output '%s' (%s) is %s, which cannot be output as its dtype %s (%s)",
                          o->def->name, f->name, e->expression, ms_type_to_string(ms_expr_type(o->expr[k]), a, sizeof a),
                          f->dtype, ms_type_to_string(&o->out_type[k], b, sizeof b));
      }
      ms_expr_names_free(names, n);
      ms_free(inputs);
      if (st) return st;
    }
  }
  return MS_OK;
}

/* The column as type `to` (castable() said yes): integers range-checked. */
static ms_status cast_column(ms_column *c, const ms_datatype *to, const char *what, ms_column **out, ms_error *err) {
  const ms_datatype *from = ms_column_type(c);
  if (from->id == to->id) {
    *out = ms_column_retain(c);
    return MS_OK;
  }
  int64_t n = ms_column_length(c);
  ms_column_builder *b = NULL;
  ms_status st = ms_column_builder_create(to, n, &b, err);
  int64_t lo = INT64_MIN, hi = INT64_MAX;
  if (to->id == MS_TYPE_INT8) lo = INT8_MIN, hi = INT8_MAX;
  if (to->id == MS_TYPE_INT16) lo = INT16_MIN, hi = INT16_MAX;
  if (to->id == MS_TYPE_INT32) lo = INT32_MIN, hi = INT32_MAX;
  if (to->id == MS_TYPE_UINT8) lo = 0, hi = UINT8_MAX;
  if (to->id == MS_TYPE_UINT16) lo = 0, hi = UINT16_MAX;
  if (to->id == MS_TYPE_UINT32) lo = 0, hi = UINT32_MAX;
  if (to->id == MS_TYPE_UINT64) lo = 0;
  for (int64_t i = 0; i < n && st == MS_OK; i++) {
    if (ms_column_is_null(c, i)) {
      st = ms_builder_append_null(b);
    } else if (ms_type_is_float(to)) {
      double x = ms_type_is_float(from) ? ms_column_get_f64(c, i) : (double)ms_column_get_i64(c, i);
      st = ms_builder_append_f64(b, x);
    } else if (ms_type_is_integer(to)) {
      int64_t x = ms_column_get_i64(c, i);
      if (x < lo || x > hi) {
        char tb[64];
        ms_error_set_row(err, i);
        st = ms_error_set(err, MS_ERR_INVALID, "%s: entity row %lld: %lld does not fit %s", what, (long long)i,
                          (long long)x, ms_type_to_string(to, tb, sizeof tb));
      } else {
        st = ms_builder_append_i64(b, x);
      }
    } else {
      int64_t len = 0;
      const uint8_t *p = ms_column_get_bytes(c, i, &len);
      st = ms_builder_append_bytes(b, p, len);
    }
  }
  if (st == MS_OK) st = ms_builder_finish(b, out, err);
  ms_column_builder_destroy(b);
  return st;
}

typedef struct eval_ctx {
  const ms_expr *e;
  ms_column **cols; /* full-length inputs */
  int n_cols;
  int64_t n;
  ms_column **parts;
} eval_ctx;

static ms_status eval_batch(void *ctx, int64_t task, int worker, ms_error *err) {
  (void)worker;
  eval_ctx *c = ctx;
  int64_t off = task * OFS_ODFV_BATCH, len = c->n - off < OFS_ODFV_BATCH ? c->n - off : OFS_ODFV_BATCH;
  ms_column **in = ms_calloc((size_t)c->n_cols + 1, sizeof *in);
  if (!in) return oom(err);
  ms_status st = MS_OK;
  for (int i = 0; i < c->n_cols && st == MS_OK; i++) st = ms_column_slice(c->cols[i], off, len, &in[i], err);
  if (st == MS_OK) {
    st = ms_expr_eval(c->e, in, len, &c->parts[task], err);
    if (st && err && err->row >= 0) err->row += off; /* the row within the whole entity input */
  }
  for (int i = 0; i < c->n_cols; i++) ms_column_release(in[i]);
  ms_free(in);
  return st;
}

ms_status ofs_odfv_eval(ms_retrieval_job *job, ofs_odfv *o, ms_column *const *fcols, const int *view_base,
                        ms_pool *pool, ms_column **out, ms_error *err) {
  double t0 = ofs_now_ms();
  int64_t n = job->entity_rows;
  int64_t n_batches = n > 0 ? (n + OFS_ODFV_BATCH - 1) / OFS_ODFV_BATCH : 1;
  ms_status st = MS_OK;
  for (int k = 0; k < o->n_out && st == MS_OK; k++) {
    const char *name = o->def->schema[o->out_idx[k]].name;
    ms_column **cols = ms_calloc((size_t)o->n_in[k] + 1, sizeof *cols);
    ms_column **parts = ms_calloc((size_t)n_batches, sizeof *parts);
    if (!cols || !parts) st = oom(err);
    for (int r = 0; r < o->n_in[k] && st == MS_OK; r++) {
      const ofs_odfv_in *in = &o->in[k][r];
      if (in->view >= 0) cols[r] = fcols[view_base[in->view] + in->feat];
      else cols[r] = ms_table_column(job->entity, ms_table_find_column(job->entity, in->entity_col));
    }
    eval_ctx c = {o->expr[k], cols, o->n_in[k], n, parts};
    int threads = pool ? ms_pool_size(pool) : 1;
    if (st == MS_OK && n_batches > 1 && threads > 1) st = ms_pool_run(pool, n_batches, eval_batch, &c, err);
    else
      for (int64_t b = 0; b < n_batches && st == MS_OK; b++) st = eval_batch(&c, b, 0, err);
    if (st) {
      char msg[800];
      snprintf(msg, sizeof msg, "%.600s", err ? err->message : "");
      st = ms_error_set(err, st, "on-demand view '%s', output '%s': %s", o->def->name, name, msg);
    }
    ms_column *all = NULL;
    if (st == MS_OK && n_batches == 1) all = ms_column_retain(parts[0]);
    else if (st == MS_OK) st = ms_column_concat(parts, (int)n_batches, &all, err);
    if (st == MS_OK) {
      char what[600];
      snprintf(what, sizeof what, "on-demand view '%s', output '%s'", o->def->name, name);
      st = cast_column(all, &o->out_type[k], what, &out[k], err);
    }
    ms_column_release(all);
    for (int64_t b = 0; parts && b < n_batches; b++) ms_column_release(parts[b]);
    ms_free(parts);
    ms_free(cols);
  }
  o->ms_eval = ofs_now_ms() - t0;
  return st;
}
