/* pull_latest and pull_all over one view's (or one source's) rows with start <= ts <= end.
 *
 * The source is read like a historical join reads it (ofs_read_source: pruning, then the
 * exact ts filter, rows in source order, null timestamps dropped: a null ts is in no
 * range). pull_all keeps every row, stably sorted by ts ascending (equal ts keep source
 * order). pull_latest keeps, per join-key tuple (a null key is a value of its own here:
 * rows are grouped, not joined), the row with the largest (ts, created with null lowest,
 * source position): a stable sort by (keys, ts, created) puts it last in its group. With
 * no join keys the single latest row is the answer. Winners come out in ts order (then
 * source order). Columns: join keys, features, ts, created (when the source has one),
 * under their logical names, with the source's types. */
#include <stdlib.h>
#include <string.h>

#include "columnar/column.h"
#include "morsel/alloc.h"
#include "offline/ofs_internal.h"

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

/* Stable order of rows by ts ascending (indices into d). */
static ms_status ts_order(const int64_t *ts, const int64_t *rows, int64_t n, int64_t **out, ms_error *err) {
  *out = NULL;
  int64_t *vals = ms_malloc((size_t)(n ? n : 1) * sizeof *vals);
  if (!vals) return oom(err);
  for (int64_t i = 0; i < n; i++) vals[i] = ts[rows ? rows[i] : i];
  ms_column *c = NULL;
  ms_table *t = NULL;
  ms_status st = ofs_ns_column(vals, NULL, n, false, &c, err);
  ms_free(vals);
  ms_field f = {(char *)"ts", ms_type(MS_TYPE_INT64), false};
  if (st == MS_OK) st = ms_table_create(&f, &c, 1, &t, err);
  ms_column_release(c);
  int64_t *perm = NULL;
  ms_sort_key k = {0, false, false};
  if (st == MS_OK) st = ms_table_sort_indices(t, &k, 1, &perm, err);
  ms_table_release(t);
  if (st) return st;
  if (rows)
    for (int64_t i = 0; i < n; i++) perm[i] = rows[perm[i]];
  *out = perm;
  return MS_OK;
}

/* Winner row indices of pull_latest, ascending (source order). */
static ms_status latest_rows(const ofs_view *v, const ofs_src_data *d, int64_t **out, int64_t *out_n, ms_error *err) {
  *out = NULL;
  *out_n = 0;
  int64_t n = d->n;
  int64_t *w = ms_malloc((size_t)(n ? n : 1) * sizeof *w);
  if (!w) return oom(err);
  if (n == 0) {
    *out = w;
    return MS_OK;
  }
  if (v->n_keys == 0) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++) {
      bool cb = !d->created_valid || d->created_valid[best], ci = !d->created_valid || d->created_valid[i];
      int64_t ct_b = d->created_ns ? d->created_ns[best] : 0, ct_i = d->created_ns ? d->created_ns[i] : 0;
      /* (ts, created with null lowest, position): later position wins ties. */
      bool later = d->ts_ns[i] > d->ts_ns[best] ||
                   (d->ts_ns[i] == d->ts_ns[best] &&
                    (!d->created_ns || (ci && !cb) || (ci && cb && ct_i >= ct_b) || (!ci && !cb)));
      if (later) best = i;
    }
    w[0] = best;
    *out = w;
    *out_n = 1;
    return MS_OK;
  }
  /* Sort table: keys..., ts, created. */
  int nc = v->n_keys + 1 + (d->created_ns ? 1 : 0);
  ms_field *fields = ms_calloc((size_t)nc, sizeof *fields);
  ms_column **cols = ms_calloc((size_t)nc, sizeof *cols);
  ms_sort_key *keys = ms_calloc((size_t)nc, sizeof *keys);
  ms_status st = fields && cols && keys ? MS_OK : oom(err);
  char names[3][8] = {"k", "ts", "cr"};
  for (int k = 0; k < v->n_keys && st == MS_OK; k++) {
    cols[k] = ms_column_retain(ms_table_column(d->t, v->key_at[k]));
    fields[k].name = names[0];
    fields[k].type = *ms_column_type(cols[k]);
    fields[k].nullable = true;
  }
  if (st == MS_OK) st = ofs_ns_column(d->ts_ns, NULL, n, false, &cols[v->n_keys], err);
  if (st == MS_OK) {
    fields[v->n_keys].name = names[1];
    fields[v->n_keys].type = ms_type(MS_TYPE_INT64);
  }
  if (st == MS_OK && d->created_ns) {
    st = ofs_ns_column(d->created_ns, d->created_valid, n, false, &cols[nc - 1], err);
    fields[nc - 1].name = names[2];
    fields[nc - 1].type = ms_type(MS_TYPE_INT64);
    fields[nc - 1].nullable = true;
  }
  ms_table *t = NULL;
  if (st == MS_OK) st = ms_table_create(fields, cols, nc, &t, err);
  for (int c = 0; c < nc; c++) {
    keys[c].column = c;
    keys[c].nulls_first = true;
  }
  int64_t *perm = NULL;
  if (st == MS_OK) st = ms_table_sort_indices(t, keys, nc, &perm, err);
  if (st == MS_OK) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
      bool last = i + 1 == n;
      for (int k = 0; k < v->n_keys && !last; k++)
        if (!ofs_cells_equal(cols[k], perm[i], perm[i + 1])) last = true;
      if (last) w[m++] = perm[i];
    }
    *out_n = m;
  }
  ms_free(perm);
  ms_table_release(t);
  for (int c = 0; cols && c < nc; c++) ms_column_release(cols[c]);
  ms_free(cols);
  ms_free(fields);
  ms_free(keys);
  if (st) {
    ms_free(w);
    return st;
  }
  *out = w;
  return MS_OK;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Drops the rows that fail the pre-filter (pull works on the kept rows only). */
static ms_status keep_ok_rows(ofs_src_data *d, ms_error *err) {
  if (!d->row_ok) return MS_OK;
  ms_table *t = NULL;
  ms_status st = d->t ? ms_table_filter(d->t, d->row_ok, &t, err) : MS_OK;
  if (st) return st;
  int64_t k = 0;
  for (int64_t r = 0; r < d->n; r++) {
    if (!d->row_ok[r]) continue;
    d->ts_ns[k] = d->ts_ns[r];
    if (d->created_ns) d->created_ns[k] = d->created_ns[r];
    if (d->created_valid) d->created_valid[k] = d->created_valid[r];
    k++;
  }
  ms_table_release(d->t);
  d->t = t;
  d->n = k;
  ms_free(d->row_ok);
  d->row_ok = NULL;
  return MS_OK;
}

ms_status ofs_run_pull(ms_retrieval_job *job, ms_pool *pool, ms_table **out, ms_error *err) {
  *out = NULL;
  ofs_view *v = &job->views[0];
  ofs_src_data d;
  ms_status st = ofs_read_source(job, v, pool, false, &d, err);
  if (st == MS_OK) st = keep_ok_rows(&d, err);
  if (st) {
    ofs_src_data_reset(&d);
    return st;
  }
  double t0 = ofs_now_ms();
  int64_t *rows = NULL, n_rows = d.n;
  if (job->pull_mode == MS_PULL_LATEST) {
    int64_t *w = NULL;
    st = latest_rows(v, &d, &w, &n_rows, err);
    if (st == MS_OK) {
      qsort(w, (size_t)n_rows, sizeof *w, cmp_i64);
      st = ts_order(d.ts_ns, w, n_rows, &rows, err);
    }
    ms_free(w);
  } else {
    st = ts_order(d.ts_ns, NULL, d.n, &rows, err);
  }
  v->ms_join = ofs_now_ms() - t0;
  t0 = ofs_now_ms();
  /* Output columns: keys, features, ts, created. */
  int nc = v->n_keys + v->n_feat + 1 + (v->created_phys ? 1 : 0);
  ms_field *fields = ms_calloc((size_t)nc + 1, sizeof *fields);
  ms_column **cols = ms_calloc((size_t)nc + 1, sizeof *cols);
  if (st == MS_OK && (!fields || !cols)) st = oom(err);
  int c = 0;
  for (int k = 0; k < v->n_keys; k++, c++)
    if (fields) {
      fields[c].name = v->key_name[k];
      cols[c] = d.t ? ms_table_column(d.t, v->key_at[k]) : NULL;
    }
  for (int f = 0; f < v->n_feat; f++, c++)
    if (fields) {
      fields[c].name = v->out_name[f];
      cols[c] = d.t ? ms_table_column(d.t, v->feat_at[f]) : NULL;
    }
  if (fields) {
    fields[c].name = v->ts_name;
    cols[c] = d.t ? ms_table_column(d.t, v->ts_at) : NULL;
    c++;
    if (v->created_phys) {
      fields[c].name = v->created_name;
      cols[c] = d.t ? ms_table_column(d.t, v->created_at) : NULL;
    }
  }
  ms_column **taken = ms_calloc((size_t)nc + 1, sizeof *taken);
  if (st == MS_OK && !taken) st = oom(err);
  for (int i = 0; i < nc && st == MS_OK; i++) {
    if (cols[i]) {
      st = ms_column_take(cols[i], rows, n_rows, &taken[i], err);
    } else {
      /* Nothing was read: an empty column of the dataset's type. */
      const char *phys = i < v->n_keys ? v->key_phys[i]
                         : i < v->n_keys + v->n_feat ? v->feat_phys[i - v->n_keys]
                         : i == v->n_keys + v->n_feat ? v->ts_phys
                                                      : v->created_phys;
      st = ms_column_create_nulls(ofs_column_type(v, phys), 0, &taken[i], err);
    }
    if (st == MS_OK) {
      fields[i].type = *ms_column_type(taken[i]);
      fields[i].nullable = true;
    }
  }
  if (st == MS_OK) st = ms_table_create(fields, taken, nc, out, err);
  for (int i = 0; taken && i < nc; i++) ms_column_release(taken[i]);
  ms_free(taken);
  ms_free(cols);
  ms_free(fields);
  ms_free(rows);
  v->rows_matched = st == MS_OK ? ms_table_num_rows(*out) : 0;
  v->ms_gather = ofs_now_ms() - t0;
  ofs_src_data_reset(&d);
  return st;
}
