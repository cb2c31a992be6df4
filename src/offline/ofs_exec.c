/* The offline store's executor: runs a planned retrieval job (ofs_plan.c) once and keeps
 * its result; to_table, Arrow stream and write hand that result out.
 *
 * get_historical_features, per view in plan order:
 *   1. read the source's needed columns (keys, ts, created, features) file by file with
 *      the plan's ranges (row groups and partitions pruned), decoding on the pool, and keep
 *      exactly the rows whose ts is not null and inside the pre-filter bounds, in source
 *      order (files in sorted path order, rows in file order), so the row index is the
 *      source position the tie rule needs;
 *   2. encode the join keys of both sides to dense ids partitioned by hash
 *      (ms_pit_keys_encode) and run the partitioned point-in-time join (ms_pit_join):
 *      one winner index per entity row, or -1;
 *   3. gather the winners' feature values (ms_column_take; -1 gives a null), then release
 *      the source data before the next view is read, so only one view's source is in
 *      memory at a time.
 * The output is the entity columns unchanged followed by every view's feature columns.
 *
 * Entity-less mode first reads every view's source over [start - ttl, end], builds the
 * entity rows as the distinct (join keys, ts) with start <= ts <= end (ordered by ts,
 * then keys), and then joins exactly as above.
 *
 * memory_limit_mb: the allocator limit is set to current use plus the limit while the job
 * runs, so an overrun fails with MS_ERR_NOMEM (named as the limit) before any output. */
#include <stdio.h>
#include <string.h>

#include "columnar/column.h"
#include "dataset/dataset_int.h"
#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/parquet.h"
#include "offline/ofs_internal.h"
#include "offline/pit_join.h"

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

bool ofs_cells_equal(const ms_column *c, int64_t i, int64_t j) {
  bool vi = ms_column_valid(c, i), vj = ms_column_valid(c, j);
  if (vi != vj) return false;
  if (!vi) return true;
  const ms_datatype *t = &c->type;
  if (t->id == MS_TYPE_NULL) return true;
  if (t->id == MS_TYPE_BOOL) return ms_column_get_bool(c, i) == ms_column_get_bool(c, j);
  if (ms_type_is_varlen(t) || t->id == MS_TYPE_FIXED_BINARY || t->id == MS_TYPE_DECIMAL128) {
    int64_t la, lb;
    const uint8_t *a = ms_column_get_bytes(c, i, &la), *b = ms_column_get_bytes(c, j, &lb);
    return la == lb && (la == 0 || memcmp(a, b, (size_t)la) == 0);
  }
  int w = ms_type_bit_width(t) / 8;
  return memcmp(c->values->data + i * w, c->values->data + j * w, (size_t)w) == 0;
}

ms_status ofs_ns_column(const int64_t *ns, const uint8_t *ok, int64_t n, bool as_timestamp, ms_column **out,
                        ms_error *err) {
  *out = NULL;
  ms_datatype t = as_timestamp ? ms_type_timestamp(MS_UNIT_NANO, "UTC") : ms_type(MS_TYPE_INT64);
  ms_buffer *vals = ms_buffer_create(n * 8 > 0 ? n * 8 : 8);
  ms_buffer *valid = NULL;
  if (!vals) return oom(err);
  if (n > 0) memcpy(vals->data, ns, (size_t)n * 8);
  vals->size = n * 8;
  int64_t nulls = 0;
  if (ok) {
    for (int64_t i = 0; i < n; i++) nulls += !ok[i];
    if (nulls) {
      valid = ms_buffer_create_zeroed(ms_bitmap_bytes(n));
      if (!valid) {
        ms_buffer_release(vals);
        return oom(err);
      }
      for (int64_t i = 0; i < n; i++)
        if (ok[i]) ms_bit_set(valid->data, i);
    }
  }
  return ms_column_from_buffers(&t, n, nulls, valid, vals, NULL, out, err);
}

/* ---------------- reading a source ---------------- */

typedef struct piece {
  ms_table *t;
  int64_t *ts;
  int64_t n;        /* rows kept */
  int64_t n_read;   /* rows decoded */
  ms_dataset_read_stats rs;
} piece;

/* Reads file i of v's source (pruned by v's ranges) and keeps its rows with a non-null ts
 * inside the bounds; out->n = 0 when nothing is kept. */
static ms_status read_piece(ofs_view *v, const ms_dataset_read_options *ro, int64_t i, piece *out, ms_error *err) {
  ms_table *t = NULL;
  ms_status st = ms__dataset_read_file(v->ds, i, ro, NULL, 0, &t, &out->rs, err);
  if (st || !t) return st; /* !t: pruned by partition */
  int64_t n = ms_table_num_rows(t);
  out->n_read = n;
  int64_t *ns = NULL;
  uint8_t *ok = NULL;
  st = ofs_time_to_ns(ms_table_column(t, v->ts_at), v->ts_phys, &ns, &ok, err);
  if (st) {
    ms_error_set_file(err, ms_dataset_file_path(v->ds, i));
    ms_table_release(t);
    return st;
  }
  int64_t kept = 0;
  for (int64_t r = 0; r < n; r++) {
    ok[r] = ok[r] && (!v->has_lo || ns[r] >= v->lo_ns) && (!v->has_hi || ns[r] <= v->hi_ns);
    ns[kept] = ns[r];
    kept += ok[r];
  }
  if (kept < n && kept > 0) {
    ms_table *f = NULL;
    st = ms_table_filter(t, ok, &f, err);
    ms_table_release(t);
    t = f;
  }
  ms_free(ok);
  if (st == MS_OK && kept > 0) {
    out->t = t;
    out->ts = ns;
    out->n = kept;
  } else {
    ms_table_release(t);
    ms_free(ns);
  }
  return st;
}

typedef struct read_ctx {
  ofs_view *v;
  const ms_dataset_read_options *ro;
  piece *pieces;
} read_ctx;

static ms_status read_task(void *ctx, int64_t task, int worker, ms_error *err) {
  (void)worker;
  read_ctx *c = ctx;
  return read_piece(c->v, c->ro, task, &c->pieces[task], err);
}

ms_status ofs_read_source(ms_retrieval_job *job, ofs_view *v, ms_pool *pool, ofs_src_data *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  double t0 = ofs_now_ms();
  int64_t n_files = v->nothing ? 0 : ms_dataset_num_files(v->ds);
  piece *pieces = ms_calloc((size_t)(n_files ? n_files : 1), sizeof *pieces);
  if (!pieces) return oom(err);
  ms_status st = MS_OK;
  memset(&v->rs, 0, sizeof v->rs);
  v->rows_read = v->rows_kept = 0;
  ms_dataset_read_options ro = {0};
  ro.columns = (const char *const *)v->read_cols;
  ro.n_columns = v->n_read;
  ro.ranges = v->ranges;
  ro.n_ranges = v->n_ranges;
  char stage[160];
  snprintf(stage, sizeof stage, "read %s", v->label);
  ofs_progress(job, stage, 0, v->rows_total);
  int threads = pool ? ms_pool_size(pool) : 1;
  if (threads > 1 && n_files >= threads) {
    /* Many files: one task per file (decoding inside a file stays serial). */
    read_ctx ctx = {v, &ro, pieces};
    st = ms_pool_run(pool, n_files, read_task, &ctx, err);
  } else {
    /* Few files: one at a time, column chunks decoded in parallel. */
    ro.pool = pool;
    for (int64_t i = 0; i < n_files && st == MS_OK; i++) {
      st = read_piece(v, &ro, i, &pieces[i], err);
      v->rows_read += pieces[i].n_read;
      ofs_progress(job, stage, v->rows_read, v->rows_total);
    }
  }
  v->rows_read = 0;
  for (int64_t i = 0; i < n_files; i++) {
    v->rows_read += pieces[i].n_read;
    v->rows_kept += pieces[i].n;
    v->rs.files_total += pieces[i].rs.files_total;
    v->rs.files_kept += pieces[i].rs.files_kept;
    v->rs.row_groups_total += pieces[i].rs.row_groups_total;
    v->rs.row_groups_kept += pieces[i].rs.row_groups_kept;
    v->rs.bytes_read += pieces[i].rs.bytes_read;
  }
  if (v->nothing) v->rs.files_total = ms_dataset_num_files(v->ds);
  /* One table and one ts array over all kept pieces, in file order. */
  int64_t total = v->rows_kept;
  int n_kept = 0;
  if (st == MS_OK) {
    out->n = total;
    out->ts_ns = ms_malloc((size_t)(total ? total : 1) * sizeof *out->ts_ns);
    if (!out->ts_ns) st = oom(err);
    int64_t at = 0;
    for (int64_t p = 0; p < n_files && st == MS_OK; p++) {
      if (pieces[p].n == 0) continue;
      memcpy(out->ts_ns + at, pieces[p].ts, (size_t)pieces[p].n * sizeof *out->ts_ns);
      at += pieces[p].n;
      ms_free(pieces[p].ts);
      pieces[p].ts = NULL;
      pieces[n_kept++].t = pieces[p].t;
      if (n_kept - 1 != p) pieces[p].t = NULL;
    }
  }
  if (st == MS_OK && n_kept == 1) {
    out->t = pieces[0].t;
    pieces[0].t = NULL;
  } else if (st == MS_OK && n_kept > 1) {
    ms_table **ts = ms_calloc((size_t)n_kept, sizeof *ts);
    if (!ts) st = oom(err);
    for (int p = 0; p < n_kept && st == MS_OK; p++) ts[p] = pieces[p].t;
    if (st == MS_OK) st = ms_table_concat(ts, n_kept, &out->t, err);
    ms_free(ts);
  }
  for (int64_t p = 0; p < n_files; p++) {
    ms_table_release(pieces[p].t);
    ms_free(pieces[p].ts);
  }
  ms_free(pieces);
  if (st == MS_OK && out->t && v->created_at >= 0) {
    st = ofs_time_to_ns(ms_table_column(out->t, v->created_at), v->created_phys, &out->created_ns,
                        &out->created_valid, err);
  }
  if (st) ofs_src_data_reset(out);
  ofs_progress(job, stage, v->rows_read, v->rows_read);
  v->ms_read = ofs_now_ms() - t0;
  return st;
}

/* ---------------- the join of one view ---------------- */

/* Key ids of a view without entities: every row of both sides has key 0 (it joins on time
 * only), one partition. */
static ms_status keyless_ids(int64_t nf, int64_t ne, ms_pit_keys *k, ms_error *err) {
  memset(k, 0, sizeof *k);
  k->n_feature_rows = nf;
  k->n_entity_rows = ne;
  k->n_keys = 1;
  k->n_partitions = 1;
  k->feature_key = ms_calloc((size_t)(nf ? nf : 1), sizeof *k->feature_key);
  k->entity_key = ms_calloc((size_t)(ne ? ne : 1), sizeof *k->entity_key);
  k->key_partition = ms_calloc(1, sizeof *k->key_partition);
  if (!k->feature_key || !k->entity_key || !k->key_partition) {
    ms_pit_keys_reset(k);
    return oom(err);
  }
  return MS_OK;
}

/* Fills out_cols[0..v->n_feat) with the view's feature values for every entity row. */
static ms_status join_view(ms_retrieval_job *job, ofs_view *v, ofs_src_data *d, ms_pool *pool,
                           ms_column **out_cols, ms_error *err) {
  int64_t ne = job->entity_rows;
  int64_t *winner = ms_malloc((size_t)(ne ? ne : 1) * sizeof *winner);
  if (!winner) return oom(err);
  ms_status st = MS_OK;
  double t0 = ofs_now_ms();
  v->rows_matched = 0;
  char stage[160];
  snprintf(stage, sizeof stage, "join %s", v->label);
  ofs_progress(job, stage, 0, ne);
  if (!d->t || d->n == 0) {
    for (int64_t i = 0; i < ne; i++) winner[i] = -1;
    ofs_choose_partitions(job, v, 0, ne);
  } else {
    ms_column **fk = ms_calloc((size_t)v->n_keys + 1, sizeof *fk);
    ms_column **ek = ms_calloc((size_t)v->n_keys + 1, sizeof *ek);
    if (!fk || !ek) st = oom(err);
    for (int k = 0; k < v->n_keys && st == MS_OK; k++) {
      fk[k] = ms_table_column(d->t, v->key_at[k]);
      int c = ms_table_find_column(job->entity, v->entity_col[k]);
      if (c < 0) st = ms_error_set(err, MS_ERR_INTERNAL, "entity column '%s' vanished", v->entity_col[k]);
      else ek[k] = ms_table_column(job->entity, c);
    }
    ofs_choose_partitions(job, v, d->n, ne);
    ms_pit_keys keys;
    memset(&keys, 0, sizeof keys);
    if (st == MS_OK && v->n_keys == 0) st = keyless_ids(d->n, ne, &keys, err);
    else if (st == MS_OK) st = ms_pit_keys_encode(fk, ek, v->n_keys, v->n_partitions, pool, &keys, err);
    if (st == MS_OK) {
      /* An entity row without a timestamp has no candidate. */
      for (int64_t i = 0; i < ne; i++)
        if (!job->entity_ts_ok[i]) keys.entity_key[i] = -1;
      ms_pit_input in;
      memset(&in, 0, sizeof in);
      in.keys = &keys;
      in.feature_ts = d->ts_ns;
      in.feature_created = d->created_ns;
      in.feature_created_valid = d->created_valid;
      in.feature_pos = NULL;
      in.entity_ts = job->entity_ts_ns;
      in.ttl_ns = v->ttl_ns;
      /* Without a created column there is nothing to filter on. */
      in.filter_by_created = job->filter_created && d->created_ns != NULL;
      ms_pit_stats stats;
      memset(&stats, 0, sizeof stats);
      st = ms_pit_join(&in, pool, winner, &stats, err);
      v->rows_matched = stats.matched;
    }
    ms_pit_keys_reset(&keys);
    ms_free(fk);
    ms_free(ek);
  }
  v->ms_join = ofs_now_ms() - t0;
  if (st == MS_OK && !(d->t && d->n > 0)) v->rows_matched = 0;
  ofs_progress(job, stage, ne, ne);
  t0 = ofs_now_ms();
  for (int f = 0; f < v->n_feat && st == MS_OK; f++) {
    if (d->t && d->n > 0) {
      st = ms_column_take(ms_table_column(d->t, v->feat_at[f]), winner, ne, &out_cols[f], err);
    } else {
      int fi = -1;
      for (int i = 0; i < ms_dataset_num_fields(v->ds) && fi < 0; i++)
        if (strcmp(ms_dataset_field(v->ds, i)->name, v->feat_phys[f]) == 0) fi = i;
      st = ms_column_create_nulls(&ms_dataset_field(v->ds, fi)->type, ne, &out_cols[f], err);
    }
  }
  v->ms_gather = ofs_now_ms() - t0;
  ms_free(winner);
  return st;
}

/* ---------------- entity-less mode ---------------- */

/* The entity rows: distinct (join keys, ts) with start <= ts <= end over every view's
 * pre-read source, ordered by ts then keys; the key columns are the views' entity columns
 * (a view lacking one contributes nulls), the timestamp is event_timestamp[ns, UTC]. */
static ms_status build_entity(ms_retrieval_job *job, ofs_src_data *pre, ms_table **out, ms_error *err) {
  *out = NULL;
  int n_cols = 0;
  ms_field *fields = ms_calloc(64, sizeof *fields);
  int cap = 64;
  ms_status st = fields ? MS_OK : oom(err);
  for (int i = 0; i < job->n_views && st == MS_OK; i++) {
    ofs_view *v = &job->views[i];
    for (int k = 0; k < v->n_keys && st == MS_OK; k++) {
      const ms_datatype *t = NULL;
      for (int f = 0; f < ms_dataset_num_fields(v->ds); f++)
        if (strcmp(ms_dataset_field(v->ds, f)->name, v->key_phys[k]) == 0) t = &ms_dataset_field(v->ds, f)->type;
      int at = -1;
      for (int c = 0; c < n_cols; c++)
        if (strcmp(fields[c].name, v->entity_col[k]) == 0) at = c;
      if (at >= 0) {
        if (!ms_type_equal(&fields[at].type, t)) {
          char a[96], b[96];
          st = ms_error_set(err, MS_ERR_TYPE, "entity-less mode: join key '%s' is %s in one view and %s in view '%s'",
                            v->entity_col[k], ms_type_to_string(&fields[at].type, a, sizeof a),
                            ms_type_to_string(t, b, sizeof b), v->label);
        }
        continue;
      }
      if (n_cols + 1 >= cap) {
        ms_field *nf = ms_realloc(fields, sizeof *nf * (size_t)cap * 2);
        if (!nf) { st = oom(err); break; }
        memset(nf + cap, 0, sizeof *nf * (size_t)cap);
        fields = nf;
        cap *= 2;
      }
      fields[n_cols].name = v->entity_col[k];
      fields[n_cols].type = *t;
      fields[n_cols].nullable = true;
      n_cols++;
    }
  }
  int ts_col = n_cols;
  if (st == MS_OK) {
    fields[ts_col].name = "event_timestamp";
    fields[ts_col].type = ms_type_timestamp(MS_UNIT_NANO, "UTC");
    fields[ts_col].nullable = true;
    for (int c = 0; c < n_cols; c++)
      if (strcmp(fields[c].name, "event_timestamp") == 0)
        st = ms_error_set(err, MS_ERR_INVALID, "entity-less mode: a join key is named event_timestamp");
  }
  ms_table **parts = ms_calloc((size_t)job->n_views + 1, sizeof *parts);
  ms_column **cols = ms_calloc((size_t)n_cols + 2, sizeof *cols);
  if (st == MS_OK && (!parts || !cols)) st = oom(err);
  int n_parts = 0;
  for (int i = 0; i < job->n_views && st == MS_OK; i++) {
    ofs_view *v = &job->views[i];
    ofs_src_data *d = &pre[i];
    if (!d->t || d->n == 0) continue;
    uint8_t *mask = ms_malloc((size_t)d->n);
    int64_t *ts = ms_malloc((size_t)d->n * sizeof *ts);
    if (!mask || !ts) st = oom(err);
    int64_t kept = 0;
    for (int64_t r = 0; r < d->n && st == MS_OK; r++) {
      mask[r] = d->ts_ns[r] >= job->start_ns && d->ts_ns[r] <= job->end_ns;
      if (mask[r]) ts[kept++] = d->ts_ns[r];
    }
    ms_table *ft = NULL;
    if (st == MS_OK && kept > 0) st = ms_table_filter(d->t, mask, &ft, err);
    for (int c = 0; c < n_cols && st == MS_OK && kept > 0; c++) {
      int k = -1;
      for (int q = 0; q < v->n_keys; q++)
        if (strcmp(v->entity_col[q], fields[c].name) == 0) k = q;
      if (k >= 0) cols[c] = ms_column_retain(ms_table_column(ft, v->key_at[k]));
      else st = ms_column_create_nulls(&fields[c].type, kept, &cols[c], err);
    }
    if (st == MS_OK && kept > 0) st = ofs_ns_column(ts, NULL, kept, true, &cols[ts_col], err);
    if (st == MS_OK && kept > 0) st = ms_table_create(fields, cols, n_cols + 1, &parts[n_parts++], err);
    for (int c = 0; c <= n_cols && cols; c++) {
      ms_column_release(cols[c]);
      cols[c] = NULL;
    }
    ms_table_release(ft);
    ms_free(mask);
    ms_free(ts);
  }
  ms_table *all = NULL;
  if (st == MS_OK && n_parts == 0) {
    for (int c = 0; c <= n_cols && st == MS_OK; c++) st = ms_column_create_nulls(&fields[c].type, 0, &cols[c], err);
    if (st == MS_OK) st = ms_table_create(fields, cols, n_cols + 1, out, err);
    for (int c = 0; c <= n_cols && cols; c++) ms_column_release(cols[c]);
  } else if (st == MS_OK) {
    if (n_parts == 1) all = ms_table_retain(parts[0]);
    else st = ms_table_concat(parts, n_parts, &all, err);
    ms_sort_key *keys = ms_calloc((size_t)n_cols + 1, sizeof *keys);
    int64_t *idx = NULL;
    if (st == MS_OK && !keys) st = oom(err);
    if (st == MS_OK) {
      keys[0].column = ts_col;
      for (int c = 0; c < n_cols; c++) {
        keys[c + 1].column = c;
        keys[c + 1].nulls_first = true;
      }
      st = ms_table_sort_indices(all, keys, n_cols + 1, &idx, err);
    }
    if (st == MS_OK) {
      int64_t n = ms_table_num_rows(all), w = 0;
      for (int64_t r = 0; r < n; r++) {
        bool same = w > 0;
        for (int c = 0; c <= n_cols && same; c++) same = ofs_cells_equal(ms_table_column(all, c), idx[w - 1], idx[r]);
        if (!same) idx[w++] = idx[r];
      }
      st = ms_table_take(all, idx, w, out, err);
    }
    ms_free(idx);
    ms_free(keys);
  }
  for (int p = 0; p < n_parts; p++) ms_table_release(parts[p]);
  ms_table_release(all);
  ms_free(parts);
  ms_free(cols);
  ms_free(fields);
  return st;
}

/* ---------------- running ---------------- */

static ms_status run_historical(ms_retrieval_job *job, ms_pool *pool, ms_error *err) {
  ms_status st = MS_OK;
  ofs_src_data *pre = NULL;
  if (job->entityless) {
    pre = ms_calloc((size_t)job->n_views + 1, sizeof *pre);
    if (!pre) return oom(err);
    double t0 = ofs_now_ms();
    for (int i = 0; i < job->n_views && st == MS_OK; i++) st = ofs_read_source(job, &job->views[i], pool, &pre[i], err);
    ms_table *ent = NULL;
    if (st == MS_OK) st = build_entity(job, pre, &ent, err);
    if (st == MS_OK) {
      job->entity_ts_col = ms_table_num_columns(ent) - 1;
      st = ofs_set_entity(job, ent, err);
    }
    job->ms_entity = ofs_now_ms() - t0;
  }
  int n_out = 0;
  for (int i = 0; i < job->n_views; i++) n_out += job->views[i].n_feat;
  ms_column **fcols = ms_calloc((size_t)n_out + 1, sizeof *fcols);
  if (st == MS_OK && !fcols) st = oom(err);
  int at = 0;
  for (int i = 0; i < job->n_views && st == MS_OK; i++) {
    ofs_view *v = &job->views[i];
    ofs_src_data d;
    memset(&d, 0, sizeof d);
    if (pre) {
      d = pre[i];
      memset(&pre[i], 0, sizeof pre[i]);
    } else {
      st = ofs_read_source(job, v, pool, &d, err);
    }
    if (st == MS_OK) st = join_view(job, v, &d, pool, fcols + at, err);
    ofs_src_data_reset(&d);
    at += v->n_feat;
  }
  for (int i = 0; pre && i < job->n_views; i++) ofs_src_data_reset(&pre[i]);
  ms_free(pre);
  double t0 = ofs_now_ms();
  if (st == MS_OK) {
    ofs_progress(job, "assemble", 0, job->entity_rows);
    int ne = ms_table_num_columns(job->entity);
    ms_field *fields = ms_calloc((size_t)(ne + n_out) + 1, sizeof *fields);
    ms_column **cols = ms_calloc((size_t)(ne + n_out) + 1, sizeof *cols);
    if (!fields || !cols) st = oom(err);
    for (int c = 0; c < ne && st == MS_OK; c++) {
      fields[c] = *ms_table_field(job->entity, c);
      cols[c] = ms_table_column(job->entity, c);
    }
    at = 0;
    for (int i = 0; i < job->n_views && st == MS_OK; i++)
      for (int f = 0; f < job->views[i].n_feat; f++, at++) {
        fields[ne + at].name = job->views[i].out_name[f];
        fields[ne + at].type = *ms_column_type(fcols[at]);
        fields[ne + at].nullable = true;
        cols[ne + at] = fcols[at];
      }
    if (st == MS_OK) st = ms_table_create(fields, cols, ne + n_out, &job->result, err);
    ms_free(fields);
    ms_free(cols);
    ofs_progress(job, "assemble", job->entity_rows, job->entity_rows);
  }
  job->ms_assemble = ofs_now_ms() - t0;
  for (int i = 0; fcols && i < n_out; i++) ms_column_release(fcols[i]);
  ms_free(fcols);
  return st;
}

ms_status ofs_run(ms_retrieval_job *job, ms_error *err) {
  if (job->ran) return MS_OK;
  double t0 = ofs_now_ms();
  ms_mem_reset_peak();
  ms_pool *pool = NULL;
  ms_status st = ofs_job_pool(job, &pool, err);
  if (st) return st;
  if (job->mem_limit_bytes > 0) ms_mem_set_limit(ms_mem_current() + job->mem_limit_bytes);
  if (job->kind == OFS_PULL) st = ofs_run_pull(job, pool, &job->result, err);
  else st = run_historical(job, pool, err);
  if (job->mem_limit_bytes > 0) {
    ms_mem_set_limit(0);
    if (st == MS_ERR_NOMEM) {
      char msg[1024];
      snprintf(msg, sizeof msg, "%.700s", err ? err->message : "");
      ms_error_set(err, MS_ERR_NOMEM,
                   "memory_limit_mb (%lld MiB) exceeded while running the retrieval (%s); raise "
                   "offline_store.memory_limit_mb or narrow the request",
                   (long long)(job->mem_limit_bytes >> 20), msg);
    }
  }
  job->peak_mem = ms_mem_peak();
  job->ms_total = ofs_now_ms() - t0 + (job->entityless ? 0 : job->ms_entity);
  if (st) {
    ms_table_release(job->result);
    job->result = NULL;
    return st;
  }
  job->ran = true;
  return MS_OK;
}

ms_status ms_retrieval_job_to_table(ms_retrieval_job *job, ms_table **out, ms_error *err) {
  *out = NULL;
  if (!job) return ms_error_set(err, MS_ERR_INVALID, "no job");
  ms_status st = ofs_run(job, err);
  if (st) return st;
  *out = ms_table_retain(job->result);
  return MS_OK;
}

ms_status ms_retrieval_job_to_arrow_stream(ms_retrieval_job *job, struct ArrowArrayStream *out, ms_error *err) {
  if (!job) return ms_error_set(err, MS_ERR_INVALID, "no job");
  ms_status st = ofs_run(job, err);
  if (st) return st;
  return ms_table_stream_export(&job->result, 1, out, err);
}

ms_status ms_retrieval_job_write(ms_retrieval_job *job, const char *path, ms_error *err) {
  if (!job || !path) return ms_error_set(err, MS_ERR_INVALID, "no job or path");
  ms_file_format fmt = ms_format_from_path(path);
  if (fmt == MS_FORMAT_AUTO)
    return ms_error_set(err, MS_ERR_INVALID,
                        "output '%s': unknown extension (use .parquet, .pq, .parq for Parquet or .csv for CSV)", path);
  ms_status st = ofs_run(job, err);
  if (st) return st;
  int64_t rows = ms_table_num_rows(job->result);
  ofs_progress(job, "write", 0, rows);
  if (fmt == MS_FORMAT_PARQUET) {
    ms_pq_write_options o;
    ms_pq_write_options_init(&o);
    o.compression = MS_CODEC_ZSTD;
    o.compression_level = 1;
    o.pool = job->pool;
    st = ms_pq_write_table(ms_fs_local(), path, job->result, &o, err);
  } else {
    ms_csv_write_options o;
    ms_csv_write_options_init(&o);
    size_t len = strlen(path);
    if (len > 4 && strcmp(path + len - 4, ".tsv") == 0) o.delimiter = '\t';
    st = ms_csv_write(ms_fs_local(), path, job->result, &o, err);
  }
  if (st == MS_OK) ofs_progress(job, "write", rows, rows);
  return st;
}
