/* The event store of the compute engine: the rows of an aggregation view ordered by
 * (join key, timestamp, input position), with every aggregation's input values and filter
 * evaluated once into arrays in that order (compute_int.h).
 *
 * Rules: a row with a null join key component or a null timestamp is dropped. Join keys
 * are encoded to dense ids in key order (cmp_encode.c), so "rows sorted by key" is id
 * order. A float input's NaN counts as null for every function (as pandas does).
 *
 * Method: the keys are encoded in one hashing pass; a stable counting sort by key id puts
 * each key's rows together in input order; each key's run is then sorted by timestamp
 * (stable, so input order breaks ties) unless it is sorted already, which it is for sources
 * written in time order. Inputs read by several aggregations (same expression text) are
 * gathered once; distinct ids (count_distinct, mean_gap's `by`, min/max of strings) are
 * computed only for the inputs that need them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columnar/column.h"
#include "compute/compute_int.h"
#include "morsel/alloc.h"
#include "offline/ofs_internal.h"

static const char *const k_fn_names[] = {"count", "count_distinct", "sum", "mean", "min", "max",
                                         "first", "last", "stddev", "var", "mean_gap"};

bool cmp_fn_parse(const char *name, cmp_fn *out) {
  for (int i = 0; i < (int)(sizeof k_fn_names / sizeof k_fn_names[0]); i++)
    if (strcmp(name, k_fn_names[i]) == 0) {
      *out = (cmp_fn)i;
      return true;
    }
  return false;
}

const char *cmp_fn_name(cmp_fn fn) { return k_fn_names[fn]; }

/* Per-row arrays: large ones get the transparent-huge-page hint (first-touch faults are
 * a large share of gather time on virtual machines). */
static void *big_malloc(size_t size) {
  void *p = ms_malloc(size);
  if (p) ms_mem_advise_huge(p, (int64_t)size);
  return p;
}

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory building the event store"); }

static void values_free(cmp_values *v) {
  if (!v) return;
  ms_free(v->vi);
  ms_free(v->vf);
  ms_free(v->valid);
  ms_free(v->id);
  ms_column_release(v->col);
  ms_free(v);
}

void cmp_store_free(cmp_store *s) {
  if (!s) return;
  if (!s->borrowed_order) {
    ms_free(s->ts);
    ms_free(s->pos);
    cmp_enc_free(s->keys);
    ms_free(s->key_off);
  }
  for (int k = 0; k < s->n_key_cols; k++) {
    ms_column_release(s->key_cols[k]);
    ms_free(s->key_names[k]);
  }
  ms_free(s->key_cols);
  ms_free(s->key_names);
  ms_free(s->pop_ok);
  for (int a = 0; a < s->n_aggs; a++) {
    ms_free(s->aggs[a].name);
    ms_free(s->aggs[a].ok);
  }
  ms_free(s->aggs);
  for (int v = 0; v < s->n_vals; v++) values_free(s->vals[v]);
  ms_free(s->vals);
  ms_free(s);
}

/* ---- sorting each key's run by timestamp ---- */

typedef struct ts_pos {
  int64_t ts, pos;
} ts_pos;

static int ts_pos_cmp(const void *a, const void *b) {
  const ts_pos *x = a, *y = b;
  if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

typedef struct sort_ctx {
  cmp_store *s;
  const int64_t *in_ts;
  int64_t chunk;
} sort_ctx;

static ms_status sort_task(void *ctx, int64_t task, int worker, ms_error *err) {
  sort_ctx *c = ctx;
  cmp_store *s = c->s;
  int64_t k0 = task * c->chunk, k1 = k0 + c->chunk < s->n_keys ? k0 + c->chunk : s->n_keys;
  ts_pos *buf = NULL;
  int64_t buf_cap = 0;
  for (int64_t k = k0; k < k1; k++) {
    int64_t a = s->key_off[k], b = s->key_off[k + 1];
    bool sorted = true;
    for (int64_t i = a; i < b; i++) {
      s->ts[i] = c->in_ts[s->pos[i]];
      if (i > a && s->ts[i] < s->ts[i - 1]) sorted = false;
    }
    if (sorted) continue;
    int64_t m = b - a;
    if (m > buf_cap) {
      ms_free(buf);
      buf = ms_malloc((size_t)m * sizeof *buf);
      if (!buf) return oom(err);
      buf_cap = m;
    }
    for (int64_t i = 0; i < m; i++) {
      buf[i].ts = s->ts[a + i];
      buf[i].pos = s->pos[a + i];
    }
    qsort(buf, (size_t)m, sizeof *buf, ts_pos_cmp);
    for (int64_t i = 0; i < m; i++) {
      s->ts[a + i] = buf[i].ts;
      s->pos[a + i] = buf[i].pos;
    }
  }
  ms_free(buf);
  return MS_OK;
}

/* ---- aggregation inputs ---- */

static bool is_int_type(const ms_datatype *t) { return ms_type_is_integer(t) || t->id == MS_TYPE_BOOL; }

/* Gathers column values into row order. */
static ms_status build_values(const cmp_store *s, ms_column *col, bool need_ids, const char *what,
                              cmp_values **out, ms_error *err) {
  *out = NULL;
  cmp_values *v = ms_calloc(1, sizeof *v);
  if (!v) return oom(err);
  v->col = ms_column_retain(col);
  int64_t n = s->n;
  size_t nn = (size_t)(n ? n : 1);
  v->valid = big_malloc(nn);
  if (!v->valid) {
    values_free(v);
    return oom(err);
  }
  const ms_datatype *t = ms_column_type(col);
  const uint8_t *valid = col->validity ? col->validity->data : NULL;
  ms_status st = MS_OK;
  if (is_int_type(t)) {
    v->kind = CMP_V_I64;
    v->is_int = true;
    v->vi = big_malloc(nn * sizeof *v->vi);
    if (!v->vi) st = oom(err);
    if (st == MS_OK && (t->id == MS_TYPE_INT64 || t->id == MS_TYPE_INT32)) {
      /* the common widths read in place */
      const void *raw = col->values->data;
      bool w64 = t->id == MS_TYPE_INT64;
      for (int64_t i = 0; i < n; i++) {
        int64_t p = s->pos[i];
        v->valid[i] = valid == NULL || ms_bit_get(valid, p);
        v->vi[i] = w64 ? ((const int64_t *)raw)[p] : ((const int32_t *)raw)[p];
      }
    }
    for (int64_t i = 0; st == MS_OK && i < n && t->id != MS_TYPE_INT64 && t->id != MS_TYPE_INT32; i++) {
      int64_t p = s->pos[i];
      bool ok = valid == NULL || ms_bit_get(valid, p);
      v->valid[i] = ok;
      v->vi[i] = ok ? (t->id == MS_TYPE_BOOL ? (int64_t)ms_column_get_bool(col, p) : ms_column_get_i64(col, p)) : 0;
    }
  } else if (ms_type_is_float(t)) {
    v->kind = CMP_V_F64;
    v->vf = big_malloc(nn * sizeof *v->vf);
    if (!v->vf) st = oom(err);
    const double *raw64 = t->id == MS_TYPE_FLOAT64 ? (const double *)col->values->data : NULL;
    for (int64_t i = 0; st == MS_OK && i < n; i++) {
      int64_t p = s->pos[i];
      bool ok = valid == NULL || ms_bit_get(valid, p);
      double x = ok ? (raw64 ? raw64[p] : ms_column_get_f64(col, p)) : 0.0;
      if (isnan(x)) ok = false;
      v->valid[i] = ok;
      v->vf[i] = ok ? x : 0.0;
    }
  } else if (ofs_is_time_type(t)) {
    v->kind = CMP_V_I64;
    v->is_time = true;
    int64_t m = ms_column_length(col);
    int64_t *ns = big_malloc((size_t)(m ? m : 1) * sizeof *ns);
    uint8_t *ok = ms_malloc((size_t)(m ? m : 1));
    v->vi = big_malloc(nn * sizeof *v->vi);
    if (!ns || !ok || !v->vi) st = oom(err);
    if (st == MS_OK) st = ofs_time_to_ns_into(col, what, ns, ok, err);
    for (int64_t i = 0; st == MS_OK && i < n; i++) {
      int64_t p = s->pos[i];
      v->valid[i] = ok[p];
      v->vi[i] = ns[p];
    }
    ms_free(ns);
    ms_free(ok);
  } else {
    v->kind = CMP_V_ID;
    need_ids = true;
  }
  if (st == MS_OK && need_ids) {
    int64_t m = ms_column_length(col);
    int64_t *ids = big_malloc((size_t)(m ? m : 1) * sizeof *ids);
    cmp_enc *enc = NULL;
    if (!ids) st = oom(err);
    if (st == MS_OK) st = cmp_enc_build(&col, 1, what, &enc, ids, err);
    if (st == MS_OK) {
      v->n_ids = cmp_enc_num_ids(enc);
      if (v->n_ids > INT32_MAX) st = ms_error_set(err, MS_ERR_LIMIT, "%s has more than 2^31 distinct values", what);
    }
    if (st == MS_OK) {
      v->id = big_malloc(nn * sizeof *v->id);
      if (v->kind == CMP_V_ID) v->vi = big_malloc(nn * sizeof *v->vi);
      if (!v->id || (v->kind == CMP_V_ID && !v->vi)) st = oom(err);
    }
    for (int64_t i = 0; st == MS_OK && i < n; i++) {
      int64_t id = ids[s->pos[i]];
      v->id[i] = (int32_t)(id < 0 ? -1 : id);
      if (v->kind == CMP_V_ID) {
        v->vi[i] = id;
        v->valid[i] = id >= 0;
      } else if (id < 0) {
        v->valid[i] = 0; /* NaN */
      }
    }
    cmp_enc_free(enc);
    ms_free(ids);
  }
  if (st) {
    values_free(v);
    return st;
  }
  *out = v;
  return MS_OK;
}

static bool fn_needs_ids(cmp_fn fn) { return fn == CMP_COUNT_DISTINCT; }

/* Checks the input type for the function and sets the result type. */
static ms_status agg_type(const cmp_agg_input *ai, cmp_agg *a, ms_error *err) {
  const char *fn = cmp_fn_name(ai->fn);
  if (!ai->input) {
    if (ai->fn != CMP_COUNT)
      return ms_error_set(err, MS_ERR_INVALID, "aggregation '%s': %s needs an input", ai->name, fn);
    a->type = ms_type(MS_TYPE_INT64);
    return MS_OK;
  }
  const ms_datatype *t = ms_column_type(ai->input);
  bool num = is_int_type(t) || ms_type_is_float(t);
  bool ordered = num || ofs_is_time_type(t) || ms_type_is_varlen(t) || t->id == MS_TYPE_FIXED_BINARY;
  char tb[96];
  switch (ai->fn) {
    case CMP_COUNT:
    case CMP_COUNT_DISTINCT:
      a->type = ms_type(MS_TYPE_INT64);
      return MS_OK;
    case CMP_SUM:
      if (!num) break;
      a->type = ms_type(is_int_type(t) ? MS_TYPE_INT64 : MS_TYPE_FLOAT64);
      return MS_OK;
    case CMP_MEAN:
    case CMP_STDDEV:
    case CMP_VAR:
      if (!num) break;
      a->type = ms_type(MS_TYPE_FLOAT64);
      return MS_OK;
    case CMP_MIN:
    case CMP_MAX:
      if (!ordered) break;
      a->type = *t;
      return MS_OK;
    case CMP_FIRST:
    case CMP_LAST:
      a->type = *t;
      return MS_OK;
    case CMP_MEAN_GAP:
      if (!ofs_is_time_type(t)) break;
      if (ai->unit_ns <= 0)
        return ms_error_set(err, MS_ERR_INVALID, "aggregation '%s': mean_gap needs a unit > 0", ai->name);
      a->type = ms_type(MS_TYPE_FLOAT64);
      return MS_OK;
  }
  return ms_error_set(err, MS_ERR_TYPE, "aggregation '%s': %s does not take %s input", ai->name, fn,
                      ms_type_to_string(t, tb, sizeof tb));
}

typedef struct vals_ctx {
  cmp_store *s;
  const cmp_input *in;
  ms_column **cols;
  char (*whats)[300];
} vals_ctx;

static ms_status vals_task(void *ctx, int64_t task, int worker, ms_error *err) {
  vals_ctx *c = ctx;
  ms_column *col = c->cols[task];
  bool need_ids = false;
  for (int b = 0; b < c->in->n_aggs; b++)
    if ((c->in->aggs[b].input == col && fn_needs_ids(c->in->aggs[b].fn)) ||
        (c->in->aggs[b].by == col && c->in->aggs[b].fn == CMP_MEAN_GAP))
      need_ids = true;
  return build_values(c->s, col, need_ids, c->whats[task], &c->s->vals[task], err);
}

/* The mask of an aggregation: filter true, input (and `by`) not null. */
static ms_status mask_task(void *ctx, int64_t task, int worker, ms_error *err) {
  vals_ctx *c = ctx;
  cmp_store *s = c->s;
  cmp_agg *ag = &s->aggs[task];
  ag->ok = big_malloc((size_t)(s->n ? s->n : 1));
  if (!ag->ok) return oom(err);
  const uint8_t *f = c->in->aggs[task].filter;
  const uint8_t *vv = ag->val ? ag->val->valid : NULL;
  const int32_t *bid = ag->by ? ag->by->id : NULL;
  for (int64_t i = 0; i < s->n; i++) {
    bool ok = f == NULL || f[s->pos[i]];
    if (vv && !vv[i]) ok = false;
    if (bid && bid[i] < 0) ok = false;
    ag->ok[i] = ok;
  }
  return MS_OK;
}

ms_status cmp_store_build(const cmp_input *in, ms_pool *pool, cmp_store **out, ms_error *err) {
  *out = NULL;
  cmp_store *s = ms_calloc(1, sizeof *s);
  if (!s) return oom(err);
  int64_t n_in = in->n;
  size_t nn = (size_t)(n_in ? n_in : 1);
  s->n_input = n_in;
  s->pop_window_ns = in->pop_window_ns;
  s->n_key_cols = in->n_keys;
  s->key_cols = ms_calloc((size_t)(in->n_keys ? in->n_keys : 1), sizeof *s->key_cols);
  s->key_names = ms_calloc((size_t)(in->n_keys ? in->n_keys : 1), sizeof *s->key_names);
  s->aggs = ms_calloc((size_t)(in->n_aggs ? in->n_aggs : 1), sizeof *s->aggs);
  int64_t *kid = big_malloc(nn * sizeof *kid);
  ms_status st = MS_OK;
  if (!s->key_cols || !s->key_names || !s->aggs || !kid) st = oom(err);
  for (int k = 0; st == MS_OK && k < in->n_keys; k++) {
    s->key_cols[k] = ms_column_retain(in->keys[k]);
    s->key_names[k] = ms_strdup(in->key_names[k]);
    if (!s->key_names[k]) st = oom(err);
    const ms_datatype *t = ms_column_type(in->keys[k]);
    if (st == MS_OK && !ms_type_is_integer(t) && !ms_type_is_string(t) && t->id != MS_TYPE_BINARY &&
        t->id != MS_TYPE_LARGE_BINARY) {
      char tb[96];
      st = ms_error_set(err, MS_ERR_TYPE,
                        "join key '%s' is %s; join keys must be integers or strings (cast it in the "
                        "source's columns, e.g. cast(%s as int64))",
                        in->key_names[k], ms_type_to_string(t, tb, sizeof tb), in->key_names[k]);
    }
  }
  if (st == MS_OK && in->n_keys == 0)
    st = ms_error_set(err, MS_ERR_INVALID, "an aggregation view needs at least one join key");
  for (int a = 0; st == MS_OK && a < in->n_aggs; a++) {
    s->aggs[a].name = ms_strdup(in->aggs[a].name);
    s->n_aggs = a + 1;
    if (!s->aggs[a].name) st = oom(err);
    if (st == MS_OK) st = agg_type(&in->aggs[a], &s->aggs[a], err);
  }
  size_t nk = 1;
  const cmp_store *of = in->order_from;
  if (st == MS_OK && of) {
    /* the same rows ordered for an earlier view: borrow its ordering */
    ms_free(kid);
    s->borrowed_order = true;
    s->keys = of->keys;
    s->n_keys = of->n_keys;
    s->key_off = of->key_off;
    s->n = of->n;
    s->ts = of->ts;
    s->pos = of->pos;
    s->min_ts = of->min_ts;
    s->max_ts = of->max_ts;
    nk = (size_t)(s->n ? s->n : 1);
    goto inputs;
  }
  if (st == MS_OK) {
    char what[64];
    snprintf(what, sizeof what, "join key");
    st = cmp_enc_build(s->key_cols, in->n_keys, what, &s->keys, kid, err);
  }
  if (st) {
    ms_free(kid);
    cmp_store_free(s);
    return st;
  }
  /* Stable counting sort by key id of the rows kept. */
  s->n_keys = cmp_enc_num_ids(s->keys);
  s->key_off = ms_calloc((size_t)s->n_keys + 1, sizeof *s->key_off);
  if (!s->key_off) st = oom(err);
  int64_t kept = 0;
  for (int64_t i = 0; st == MS_OK && i < n_in; i++) {
    if (in->ts_ok && !in->ts_ok[i]) kid[i] = -1;
    if (kid[i] >= 0) {
      s->key_off[kid[i] + 1]++;
      kept++;
    }
  }
  s->n = kept;
  nk = (size_t)(kept ? kept : 1);
  if (st == MS_OK) {
    s->ts = big_malloc(nk * sizeof *s->ts);
    s->pos = big_malloc(nk * sizeof *s->pos);
    if (!s->ts || !s->pos) st = oom(err);
  }
  if (st == MS_OK) {
    for (int64_t k = 0; k < s->n_keys; k++) s->key_off[k + 1] += s->key_off[k];
    int64_t *fill = ms_malloc((size_t)(s->n_keys ? s->n_keys : 1) * sizeof *fill);
    if (!fill) st = oom(err);
    else {
      memcpy(fill, s->key_off, (size_t)s->n_keys * sizeof *fill);
      for (int64_t i = 0; i < n_in; i++)
        if (kid[i] >= 0) s->pos[fill[kid[i]]++] = i;
      ms_free(fill);
    }
  }
  ms_free(kid);
  if (st == MS_OK && s->n_keys > 0) {
    sort_ctx sc = {s, in->ts_ns, 0};
    int64_t tasks = pool ? (int64_t)ms_pool_size(pool) * 8 : 1;
    if (tasks > s->n_keys) tasks = s->n_keys;
    sc.chunk = (s->n_keys + tasks - 1) / tasks;
    tasks = (s->n_keys + sc.chunk - 1) / sc.chunk;
    st = ms_pool_run(pool, tasks, sort_task, &sc, err);
  }
  if (st == MS_OK && s->n > 0) {
    s->min_ts = INT64_MAX;
    s->max_ts = INT64_MIN;
    for (int64_t k = 0; k < s->n_keys; k++) {
      int64_t a = s->key_off[k], b = s->key_off[k + 1];
      if (s->ts[a] < s->min_ts) s->min_ts = s->ts[a];
      if (s->ts[b - 1] > s->max_ts) s->max_ts = s->ts[b - 1];
    }
  }
inputs:
  if (st == MS_OK && in->pop_filter) {
    s->pop_ok = big_malloc(nk);
    if (!s->pop_ok) st = oom(err);
    for (int64_t i = 0; st == MS_OK && i < s->n; i++) s->pop_ok[i] = in->pop_filter[s->pos[i]] != 0;
  }
  /* Aggregation inputs (each distinct column once, in parallel) and masks. */
  int nc = 0;
  ms_column **cols = ms_calloc((size_t)(2 * in->n_aggs + 1), sizeof *cols);
  char (*whats)[300] = ms_calloc((size_t)(2 * in->n_aggs + 1), sizeof *whats);
  if (st == MS_OK && (!cols || !whats)) st = oom(err);
  for (int a = 0; st == MS_OK && a < in->n_aggs; a++) {
    const cmp_agg_input *ai = &in->aggs[a];
    cmp_agg *ag = &s->aggs[a];
    ag->fn = ai->fn;
    ag->window_ns = ai->window_ns;
    ag->forward = ai->forward;
    ag->unit_ns = ai->unit_ns;
    ms_column *c2[2] = {ai->input, ai->fn == CMP_MEAN_GAP ? ai->by : NULL};
    for (int x = 0; x < 2; x++) {
      if (!c2[x]) continue;
      bool seen = false;
      for (int k = 0; k < nc && !seen; k++) seen = cols[k] == c2[x];
      if (seen) continue;
      snprintf(whats[nc], sizeof whats[nc], x ? "`by` of aggregation '%s'" : "input of aggregation '%s'", ai->name);
      cols[nc++] = c2[x];
    }
  }
  if (st == MS_OK && nc > 0) {
    s->vals = ms_calloc((size_t)nc, sizeof *s->vals);
    if (!s->vals) st = oom(err);
    else {
      s->n_vals = nc;
      vals_ctx vc = {s, in, cols, whats};
      st = ms_pool_run(pool, nc, vals_task, &vc, err);
    }
  }
  for (int a = 0; st == MS_OK && a < in->n_aggs; a++) {
    const cmp_agg_input *ai = &in->aggs[a];
    cmp_agg *ag = &s->aggs[a];
    for (int k = 0; k < nc; k++) {
      if (cols[k] == ai->input) ag->val = s->vals[k];
      if (ai->fn == CMP_MEAN_GAP && cols[k] == ai->by) ag->by = s->vals[k];
    }
  }
  if (st == MS_OK && in->n_aggs > 0) {
    vals_ctx vc = {s, in, cols, whats};
    st = ms_pool_run(pool, in->n_aggs, mask_task, &vc, err);
  }
  ms_free(cols);
  ms_free(whats);
  if (st) {
    cmp_store_free(s);
    return st;
  }
  *out = s;
  return MS_OK;
}
