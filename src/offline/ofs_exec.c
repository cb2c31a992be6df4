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

/* The dataset type of feature f of v (the type of its output column). */
const ms_datatype *ofs_feature_type(const ofs_view *v, int f) { return ofs_column_type(v, v->feat_phys[f]); }

const ms_datatype *ofs_column_type(const ofs_view *v, const char *name) {
  for (int i = 0; i < v->n_typed; i++)
    if (strcmp(v->typed[i].name, name) == 0) return &v->typed[i].type;
  for (int i = 0; v->ds && i < ms_dataset_num_fields(v->ds); i++)
    if (strcmp(ms_dataset_field(v->ds, i)->name, name) == 0) return &ms_dataset_field(v->ds, i)->type;
  return NULL;
}

/* ---------------- reading a source ---------------- */

/* A unit of reading: one Parquet row group (late materialisation: only the join columns
 * are decoded now, the feature columns later for the winners alone), or one whole file
 * (CSV, or when every column is needed at once) holding every read column. Every decoded
 * row is kept (no copy); rows failing the pre-filter are marked in ok and never become
 * candidates (their key id is set to -1 before the join). */
typedef struct ofs_unit {
  int64_t file;
  int rg;                /* row group, or -1 for the whole file */
  bool whole;            /* t holds every read column */
  ms_table *t;           /* every read column (whole) or the key columns (row group) */
  int64_t *ts, *cr;      /* [n] ts and created (UTC ns) */
  uint8_t *crv, *ok;     /* [n] created not null / row passes the pre-filter; NULL = all */
  int64_t n, n_ok;       /* decoded rows, rows passing the pre-filter */
  int64_t expect, goff;  /* preallocated mode: rows by metadata, offset in the shared arrays */
  bool shared;           /* ts/cr/crv/ok point into the shared arrays (not owned) */
  bool has_null_cr;
  ms_dataset_read_stats rs;
} ofs_unit;

static void unit_reset(ofs_unit *u) {
  ms_table_release(u->t);
  if (!u->shared) {
    ms_free(u->ts);
    ms_free(u->cr);
    ms_free(u->crv);
    ms_free(u->ok);
  }
  u->t = NULL;
  u->ts = u->cr = NULL;
  u->crv = u->ok = NULL;
}

void ofs_src_data_reset(ofs_src_data *d) {
  ms_table_release(d->t);
  ms_table_release(d->keys);
  ms_free(d->ts_ns);
  ms_free(d->created_ns);
  ms_free(d->created_valid);
  ms_free(d->row_ok);
  ofs_unit *u = d->units;
  for (int64_t i = 0; u && i < d->n_units; i++) unit_reset(&u[i]);
  ms_free(d->units);
  ms_free(d->unit_off);
  memset(d, 0, sizeof *d);
}

typedef struct read_ctx {
  ofs_view *v;
  const ms_dataset_read_options *ro;
  ofs_unit *units;
  int n_join;            /* read_cols[0..n_join) are the join columns of a row-group unit */
  /* preallocated mode: every unit is a row group of known size and writes its ts, created
   * and pre-filter flags straight into these (no per-unit arrays, no copy afterwards) */
  int64_t *g_ts, *g_cr;
  uint8_t *g_crv, *g_ok;
  int64_t task_base;     /* first unit of the batch the pool is running */
} read_ctx;

/* Large scratch arrays: huge pages cut first-touch faults. */
static void *big_alloc(size_t bytes) {
  void *p = ms_malloc(bytes ? bytes : 1);
  if (p) ms_mem_advise_huge(p, (int64_t)bytes);
  return p;
}

/* Reads one unit (pruned by v's ranges) and marks its rows with a non-null ts inside the
 * bounds; a unit with no such row is dropped (n = 0). */
static ms_status read_unit(read_ctx *c, ofs_unit *u, ms_pool *pool, ms_error *err) {
  ofs_view *v = c->v;
  ms_dataset_read_options ro = *c->ro;
  ro.pool = pool;
  if (!u->whole) ro.n_columns = c->n_join;
  ms_table *t = NULL;
  ms_status st = ms__dataset_read_file(v->ds, u->file, &ro, u->rg >= 0 ? &u->rg : NULL, u->rg >= 0 ? 1 : 0, &t,
                                       &u->rs, err);
  if (st || !t) return st; /* !t: pruned by partition */
  if (v->clean) {
    /* Derived columns and the source filter, before anything looks at the rows. */
    ms_table *ct = NULL;
    st = ofs_clean_apply(v, t, &ct, err);
    ms_table_release(t);
    if (st) {
      ms_error_set_file(err, ms_dataset_file_path(v->ds, u->file));
      return st;
    }
    t = ct;
  }
  int64_t n = ms_table_num_rows(t);
  u->n = n;
  if (c->g_ts && n > 0 && n != u->expect) {
    ms_table_release(t);
    u->n = 0;
    ms_error_set_file(err, ms_dataset_file_path(v->ds, u->file));
    return ms_error_set(err, MS_ERR_CORRUPT, "row group %d decoded %lld rows, its metadata says %lld", u->rg,
                        (long long)n, (long long)u->expect);
  }
  if (c->g_ts) {
    u->shared = true;
    u->ts = c->g_ts + u->goff;
    u->ok = c->g_ok + u->goff;
    if (c->g_cr) {
      u->cr = c->g_cr + u->goff;
      u->crv = c->g_crv + u->goff;
    }
  } else {
    u->ts = ms_malloc((size_t)(n ? n : 1) * sizeof *u->ts);
    u->ok = ms_malloc((size_t)(n ? n : 1));
    if (!u->ts || !u->ok) st = oom(err);
  }
  int64_t lo = v->has_lo ? v->lo_ns : INT64_MIN, hi = v->has_hi ? v->hi_ns : INT64_MAX;
  int64_t kept = st == MS_OK ? ofs_time_to_ns_bounded(ms_table_column(t, v->ts_at), lo, hi, u->ts, u->ok) : 0;
  if (st == MS_OK && kept < 0) {
    kept = 0;
    st = ofs_time_to_ns_into(ms_table_column(t, v->ts_at), v->ts_phys, u->ts, u->ok, err);
    const int64_t *ts = u->ts;
    uint8_t *ok = u->ok;
    for (int64_t r = 0; r < n && st == MS_OK; r++) {
      ok[r] = ok[r] & (ts[r] >= lo) & (ts[r] <= hi);
      kept += ok[r];
    }
  }
  u->n_ok = kept;
  if (st == MS_OK && kept > 0 && v->created_at >= 0) {
    if (!u->shared) {
      u->cr = ms_malloc((size_t)n * sizeof *u->cr);
      u->crv = ms_malloc((size_t)n);
      if (!u->cr || !u->crv) st = oom(err);
    }
    if (st == MS_OK) st = ofs_time_to_ns_into(ms_table_column(t, v->created_at), v->created_phys, u->cr, u->crv, err);
    u->has_null_cr = ms_column_null_count(ms_table_column(t, v->created_at)) > 0;
    if (st == MS_OK && !u->has_null_cr && !u->shared) {
      ms_free(u->crv);
      u->crv = NULL;
    }
  }
  if (st == MS_OK && kept == n && !u->shared) {
    ms_free(u->ok);
    u->ok = NULL;
  }
  /* A row-group unit keeps only its key columns (ts and created live on as ns). */
  if (st == MS_OK && kept > 0) {
    if (u->whole) u->t = ms_table_retain(t);
    else if (v->n_keys > 0) st = ms_table_select(t, (const char *const *)v->key_phys, v->n_keys, &u->t, err);
  }
  ms_table_release(t);
  if (st) ms_error_set_file(err, ms_dataset_file_path(v->ds, u->file));
  if (st || kept == 0) {
    unit_reset(u);
    u->n = 0;
  }
  return st;
}

static ms_status read_task(void *ctx, int64_t task, int worker, ms_error *err) {
  (void)worker;
  read_ctx *c = ctx;
  return read_unit(c, &c->units[c->task_base + task], NULL, err);
}

/* Can the features be read after the join? Only when the join columns come first in
 * read_cols and no feature shares one of them. */
static int join_prefix(const ofs_view *v) {
  if (v->clean) return -1; /* a cleaned source is read whole (ofs_clean.c) */
  int m = v->ts_at;
  for (int k = 0; k < v->n_keys; k++) m = v->key_at[k] > m ? v->key_at[k] : m;
  if (v->created_at > m) m = v->created_at;
  for (int f = 0; f < v->n_feat; f++)
    if (v->feat_at[f] <= m) return -1;
  return m + 1;
}

/* Concatenates the units' arrays into out (moving them when there is one unit). */
static ms_status join_arrays(const ofs_view *v, ofs_unit *units, int64_t n_units, ofs_src_data *out, ms_error *err) {
  int64_t total = 0, with_rows = 0, single = -1;
  bool any_not_ok = false, any_crv = false;
  for (int64_t i = 0; i < n_units; i++) {
    if (units[i].n == 0) continue;
    total += units[i].n;
    with_rows++;
    single = i;
    any_not_ok |= units[i].ok != NULL;
    any_crv |= units[i].crv != NULL;
  }
  out->n = total;
  out->unit_off = ms_calloc((size_t)n_units + 1, sizeof *out->unit_off);
  if (!out->unit_off) return oom(err);
  int64_t at = 0;
  for (int64_t i = 0; i < n_units; i++) {
    out->unit_off[i] = at;
    at += units[i].n;
  }
  out->unit_off[n_units] = at;
  bool has_cr = v->created_at >= 0;
  if (with_rows == 1) {
    ofs_unit *u = &units[single];
    out->ts_ns = u->ts;
    out->created_ns = u->cr;
    out->created_valid = u->crv;
    out->row_ok = u->ok;
    u->ts = u->cr = NULL;
    u->crv = u->ok = NULL;
    return MS_OK;
  }
  size_t n = (size_t)(total ? total : 1);
  out->ts_ns = ms_malloc(n * sizeof *out->ts_ns);
  if (has_cr) out->created_ns = ms_malloc(n * sizeof *out->created_ns);
  if (any_crv) out->created_valid = ms_malloc(n);
  if (any_not_ok) out->row_ok = ms_malloc(n);
  if (!out->ts_ns || (has_cr && !out->created_ns) || (any_crv && !out->created_valid) || (any_not_ok && !out->row_ok))
    return oom(err);
  for (int64_t i = 0; i < n_units; i++) {
    ofs_unit *u = &units[i];
    if (u->n == 0) continue;
    int64_t o = out->unit_off[i];
    memcpy(out->ts_ns + o, u->ts, (size_t)u->n * sizeof *u->ts);
    if (has_cr) memcpy(out->created_ns + o, u->cr, (size_t)u->n * sizeof *u->cr);
    if (any_crv) {
      if (u->crv) memcpy(out->created_valid + o, u->crv, (size_t)u->n);
      else memset(out->created_valid + o, 1, (size_t)u->n);
    }
    if (any_not_ok) {
      if (u->ok) memcpy(out->row_ok + o, u->ok, (size_t)u->n);
      else memset(out->row_ok + o, 1, (size_t)u->n);
    }
    ms_free(u->ts);
    ms_free(u->cr);
    ms_free(u->crv);
    ms_free(u->ok);
    u->ts = u->cr = NULL;
    u->crv = u->ok = NULL;
  }
  return MS_OK;
}

/* Preallocated mode: closes the holes left by row groups that were pruned or kept no row
 * (moving later units down) and hands the shared arrays to out. */
static ms_status join_shared(read_ctx *c, int64_t n_units, ofs_src_data *out, ms_error *err) {
  out->unit_off = ms_calloc((size_t)n_units + 1, sizeof *out->unit_off);
  if (!out->unit_off) return oom(err);
  int64_t at = 0;
  bool any_not_ok = false, any_null_cr = false;
  for (int64_t i = 0; i < n_units; i++) {
    ofs_unit *u = &c->units[i];
    out->unit_off[i] = at;
    if (u->n == 0) continue;
    if (u->goff != at) {
      memmove(c->g_ts + at, c->g_ts + u->goff, (size_t)u->n * sizeof *c->g_ts);
      memmove(c->g_ok + at, c->g_ok + u->goff, (size_t)u->n);
      if (c->g_cr) {
        memmove(c->g_cr + at, c->g_cr + u->goff, (size_t)u->n * sizeof *c->g_cr);
        memmove(c->g_crv + at, c->g_crv + u->goff, (size_t)u->n);
      }
    }
    any_not_ok |= u->n_ok < u->n;
    any_null_cr |= u->has_null_cr;
    u->ts = u->cr = NULL;
    u->crv = u->ok = NULL;
    at += u->n;
  }
  out->unit_off[n_units] = at;
  out->n = at;
  out->ts_ns = c->g_ts;
  out->created_ns = c->g_cr;
  out->created_valid = any_null_cr ? c->g_crv : NULL;
  out->row_ok = any_not_ok ? c->g_ok : NULL;
  if (!any_null_cr) ms_free(c->g_crv);
  if (!any_not_ok) ms_free(c->g_ok);
  c->g_ts = c->g_cr = NULL;
  c->g_crv = c->g_ok = NULL;
  return MS_OK;
}

ms_status ofs_read_source(ms_retrieval_job *job, ofs_view *v, ms_pool *pool, bool late, ofs_src_data *out,
                          ms_error *err) {
  memset(out, 0, sizeof *out);
  double t0 = ofs_now_ms();
  int64_t n_files = v->nothing ? 0 : ms_dataset_num_files(v->ds);
  int n_join = late ? join_prefix(v) : -1;
  ms_status st = MS_OK;
  /* The units, in source order. */
  int64_t cap = n_files + 1, n_units = 0;
  ofs_unit *units = ms_calloc((size_t)cap, sizeof *units);
  if (!units) return oom(err);
  for (int64_t i = 0; i < n_files && st == MS_OK; i++) {
    int64_t *rows = NULL;
    int nrg = 0;
    if (n_join > 0 && ms__dataset_file_format(v->ds, i) == MS_FORMAT_PARQUET)
      st = ms__dataset_file_row_groups(v->ds, i, &rows, &nrg, err);
    if (st) break;
    int add = nrg > 0 ? nrg : 1;
    if (n_units + add > cap) {
      int64_t nc = (n_units + add) * 2;
      ofs_unit *nu = ms_realloc(units, sizeof *nu * (size_t)nc);
      if (!nu) {
        ms_free(rows);
        st = oom(err);
        break;
      }
      memset(nu + cap, 0, sizeof *nu * (size_t)(nc - cap));
      units = nu;
      cap = nc;
    }
    for (int g = 0; g < add; g++) {
      units[n_units].file = i;
      units[n_units].rg = nrg > 0 ? g : -1;
      units[n_units].whole = nrg == 0;
      units[n_units].expect = nrg > 0 ? rows[g] : -1;
      n_units++;
    }
    ms_free(rows);
  }
  out->units = units;
  out->n_units = n_units;
  memset(&v->rs, 0, sizeof v->rs);
  v->rows_read = v->rows_kept = 0;
  ms_dataset_read_options ro = {0};
  ro.columns = (const char *const *)(v->clean ? v->phys_read : v->read_cols);
  ro.n_columns = v->clean ? v->n_phys_read : v->n_read;
  ro.ranges = v->ranges;
  ro.n_ranges = v->n_ranges;
  if (!v->stage_read && !(v->stage_read = ms_asprintf("read %s", v->label))) {
    ofs_src_data_reset(out);
    return oom(err);
  }
  const char *stage = v->stage_read;
  ofs_progress(job, stage, 0, v->rows_total);
  read_ctx ctx = {v, &ro, units, n_join, NULL, NULL, NULL, NULL, 0};
  /* Every unit a row group of known size: one set of arrays, written in place. */
  bool prealloc = st == MS_OK && n_units > 0;
  int64_t total_expect = 0;
  for (int64_t i = 0; i < n_units && prealloc; i++) {
    prealloc = !units[i].whole && units[i].expect >= 0;
    units[i].goff = total_expect;
    total_expect += units[i].expect;
  }
  if (prealloc) {
    size_t n = (size_t)(total_expect ? total_expect : 1);
    ctx.g_ts = big_alloc(n * sizeof *ctx.g_ts);
    ctx.g_ok = big_alloc(n);
    if (v->created_at >= 0) {
      ctx.g_cr = big_alloc(n * sizeof *ctx.g_cr);
      ctx.g_crv = big_alloc(n);
    }
    if (!ctx.g_ts || !ctx.g_ok || (v->created_at >= 0 && (!ctx.g_cr || !ctx.g_crv))) st = oom(err);
  }
  int threads = pool ? ms_pool_size(pool) : 1;
  if (st == MS_OK && threads > 1 && n_units >= threads) {
    /* Many units: one task per unit, decoding inside a unit serial. They run in batches of
     * a few units per thread so that progress (reported from this thread only) moves
     * during a long read; units are of similar size, so the batch ends cost little. */
    const int64_t batch = (int64_t)threads * 4;
    for (int64_t b0 = 0; b0 < n_units && st == MS_OK; b0 += batch) {
      int64_t nb = n_units - b0 < batch ? n_units - b0 : batch;
      ctx.task_base = b0;
      st = ms_pool_run(pool, nb, read_task, &ctx, err);
      for (int64_t i = b0; i < b0 + nb; i++) v->rows_read += units[i].n;
      if (st == MS_OK) ofs_progress(job, stage, v->rows_read, v->rows_total);
    }
  } else {
    /* Few units: one at a time, column chunks decoded in parallel. */
    for (int64_t i = 0; i < n_units && st == MS_OK; i++) {
      st = read_unit(&ctx, &units[i], pool, err);
      v->rows_read += units[i].n;
      ofs_progress(job, stage, v->rows_read, v->rows_total);
    }
  }
  /* Statistics per file (a file counts as kept when partition pruning kept it). */
  v->rows_read = 0;
  v->rs.files_total = ms_dataset_num_files(v->ds);
  int64_t last_file = -1;
  for (int64_t i = 0; i < n_units; i++) {
    ofs_unit *u = &units[i];
    v->rows_read += u->n_ok > 0 ? u->n : 0;
    v->rows_kept += u->n_ok;
    if (u->rs.files_kept > 0 && u->file != last_file) {
      v->rs.files_kept++;
      last_file = u->file;
    }
    v->rs.row_groups_total += u->rs.row_groups_total;
    v->rs.row_groups_kept += u->rs.row_groups_kept;
    v->rs.bytes_read += u->rs.bytes_read;
  }
  if (st == MS_OK && prealloc) st = join_shared(&ctx, n_units, out, err);
  else if (st == MS_OK) st = join_arrays(v, units, n_units, out, err);
  ms_free(ctx.g_ts);
  ms_free(ctx.g_cr);
  ms_free(ctx.g_crv);
  ms_free(ctx.g_ok);
  /* Key columns over every row, and all columns when every unit holds them. */
  ms_table **keys = NULL, **whole = NULL;
  int n_keys_t = 0, n_whole = 0;
  bool all_whole = true;
  if (st == MS_OK) {
    keys = ms_calloc((size_t)n_units + 1, sizeof *keys);
    whole = ms_calloc((size_t)n_units + 1, sizeof *whole);
    if (!keys || !whole) st = oom(err);
  }
  for (int64_t i = 0; i < n_units && st == MS_OK; i++) {
    ofs_unit *u = &units[i];
    if (u->n == 0) continue;
    all_whole = all_whole && u->whole;
    if (u->whole) whole[n_whole++] = u->t;
    if (v->n_keys == 0) continue;
    if (u->whole) {
      st = ms_table_select(u->t, (const char *const *)v->key_phys, v->n_keys, &keys[n_keys_t], err);
      if (st == MS_OK) n_keys_t++;
    } else {
      keys[n_keys_t++] = ms_table_retain(u->t);
    }
  }
  if (st == MS_OK && n_keys_t == 1) out->keys = ms_table_retain(keys[0]);
  else if (st == MS_OK && n_keys_t > 1) st = ms_table_concat(keys, n_keys_t, &out->keys, err);
  if (st == MS_OK && all_whole && n_whole == 1) out->t = ms_table_retain(whole[0]);
  else if (st == MS_OK && all_whole && n_whole > 1) st = ms_table_concat(whole, n_whole, &out->t, err);
  for (int i = 0; keys && i < n_keys_t; i++) ms_table_release(keys[i]);
  ms_free(keys);
  ms_free(whole);
  /* Row-group units keep nothing but their place; whole units keep their table for the
   * gather unless out->t has everything. */
  for (int64_t i = 0; i < n_units && st == MS_OK; i++)
    if (!units[i].whole || out->t) {
      ms_table_release(units[i].t);
      units[i].t = NULL;
    }
  if (st) ofs_src_data_reset(out);
  ofs_progress(job, stage, v->rows_read, v->rows_read);
  v->ms_read = ofs_now_ms() - t0;
  return st;
}

typedef struct gather_ctx {
  ofs_view *v;
  ofs_src_data *d;
  const int64_t *rank_rows;  /* distinct winners, ascending (global kept-row indices) */
  const int64_t *unit_first; /* [n_units + 1] first position in rank_rows of each unit */
  ms_table **parts;          /* per unit: the winners' feature columns */
  ms_pool *pool;
} gather_ctx;

/* The feature columns of one unit's winning rows. */
static ms_status gather_unit(gather_ctx *c, int64_t ui, ms_pool *pool, ms_error *err) {
  ofs_view *v = c->v;
  ofs_unit *u = &((ofs_unit *)c->d->units)[ui];
  int64_t a = c->unit_first[ui], b = c->unit_first[ui + 1];
  if (a == b) return MS_OK;
  int64_t *idx = ms_malloc((size_t)(b - a) * sizeof *idx);
  if (!idx) return oom(err);
  for (int64_t k = a; k < b; k++) {
    idx[k - a] = c->rank_rows[k] - c->d->unit_off[ui];
  }
  ms_table *src = NULL;
  ms_status st = MS_OK;
  if (u->whole) {
    src = ms_table_retain(u->t);
  } else {
    ms_dataset_read_options ro = {0};
    ro.columns = (const char *const *)v->feat_phys;
    ro.n_columns = v->n_feat;
    ro.pool = pool;
    ms_dataset_read_stats rs;
    memset(&rs, 0, sizeof rs);
    st = ms__dataset_read_file(v->ds, u->file, &ro, &u->rg, 1, &src, &rs, err);
    if (st == MS_OK && (!src || ms_table_num_rows(src) != u->n))
      st = ms_error_set(err, MS_ERR_CORRUPT, "row group %d of %s read back with a different row count", u->rg,
                        ms_dataset_file_path(v->ds, u->file));
  }
  ms_table *sel = NULL;
  if (st == MS_OK && u->whole) {
    st = ms_table_select(src, (const char *const *)v->feat_phys, v->n_feat, &sel, err);
    ms_table_release(src);
    src = sel;
  }
  if (st == MS_OK) st = ms_table_take(src, idx, b - a, &c->parts[ui], err);
  ms_table_release(src);
  ms_free(idx);
  return st;
}

static ms_status gather_task(void *ctx, int64_t task, int worker, ms_error *err) {
  (void)worker;
  return gather_unit(ctx, task, NULL, err);
}

/* out_cols[f] = feature f of each entity row's winner (-1: null). */
static ms_status gather_features(ms_retrieval_job *job, ofs_view *v, ofs_src_data *d, const int64_t *winner,
                                 int64_t ne, ms_pool *pool, ms_column **out_cols, ms_error *err) {
  (void)job;
  if (d->t) {
    ms_status st = MS_OK;
    for (int f = 0; f < v->n_feat && st == MS_OK; f++)
      st = ms_column_take(ms_table_column(d->t, v->feat_at[f]), winner, ne, &out_cols[f], err);
    return st;
  }
  /* Distinct winners in source order, and each entity row's rank among them. */
  uint8_t *used = ms_calloc((size_t)(d->n ? d->n : 1), 1);
  int64_t *rank = ms_malloc((size_t)(ne ? ne : 1) * sizeof *rank);
  int64_t *unit_first = ms_calloc((size_t)d->n_units + 1, sizeof *unit_first);
  ms_table **parts = ms_calloc((size_t)d->n_units + 1, sizeof *parts);
  int64_t *rows = NULL, n_rows = 0;
  ms_status st = used && rank && unit_first && parts ? MS_OK : oom(err);
  for (int64_t e = 0; e < ne && st == MS_OK; e++)
    if (winner[e] >= 0) used[winner[e]] = 1;
  for (int64_t r = 0; r < d->n && st == MS_OK; r++) n_rows += used[r];
  if (st == MS_OK) {
    rows = ms_malloc((size_t)(n_rows ? n_rows : 1) * sizeof *rows);
    if (!rows) st = oom(err);
  }
  if (st == MS_OK) {
    /* used[] becomes a rank via a prefix count kept in rank_of (reusing rows' order). */
    int64_t k = 0;
    int64_t u = 0;
    for (int64_t r = 0; r < d->n; r++) {
      while (u < d->n_units && d->unit_off[u + 1] <= r) unit_first[++u] = k;
      if (used[r]) rows[k++] = r;
    }
    while (u < d->n_units) unit_first[++u] = k;
  }
  ms_free(used);
  used = NULL;
  gather_ctx c = {v, d, rows, unit_first, parts, pool};
  int threads = pool ? ms_pool_size(pool) : 1;
  if (st == MS_OK && threads > 1 && d->n_units >= threads) st = ms_pool_run(pool, d->n_units, gather_task, &c, err);
  for (int64_t i = 0; i < d->n_units && st == MS_OK && !(threads > 1 && d->n_units >= threads); i++)
    st = gather_unit(&c, i, pool, err);
  /* Concatenate the per-unit winners (source order = rank order). */
  ms_table *w = NULL;
  int n_parts = 0;
  for (int64_t i = 0; i < d->n_units && st == MS_OK; i++)
    if (parts[i]) parts[n_parts++] = parts[i];
  if (st == MS_OK && n_parts == 1) w = ms_table_retain(parts[0]);
  else if (st == MS_OK && n_parts > 1) st = ms_table_concat(parts, n_parts, &w, err);
  for (int i = 0; parts && i < n_parts; i++) ms_table_release(parts[i]);
  ms_free(parts);
  if (st == MS_OK) {
    /* rank of winner r = its position in rows[] (binary search: rows is ascending). */
    for (int64_t e = 0; e < ne; e++) {
      int64_t r = winner[e];
      if (r < 0) {
        rank[e] = -1;
        continue;
      }
      int64_t lo = 0, hi = n_rows - 1;
      while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (rows[mid] < r) lo = mid + 1;
        else hi = mid;
      }
      rank[e] = lo;
    }
  }
  for (int f = 0; f < v->n_feat && st == MS_OK; f++) {
    if (w) st = ms_column_take(ms_table_column(w, f), rank, ne, &out_cols[f], err);
    else st = ms_column_create_nulls(ofs_feature_type(v, f), ne, &out_cols[f], err);
  }
  ms_table_release(w);
  ms_free(rows);
  ms_free(rank);
  ms_free(unit_first);
  return st;
}

/* ---------------- the join of one view ---------------- */

/* Fills out_cols[0..v->n_feat) with the view's feature values for every entity row. */
/* The entity rows a join runs over: the whole input, or one time window of it. */
typedef struct ent_side {
  const ms_table *t;
  const int64_t *ts;
  const uint8_t *ok;
  int64_t n;
} ent_side;

static ms_status join_view(ms_retrieval_job *job, ofs_view *v, ofs_src_data *d, ms_pool *pool, const ent_side *es,
                           ms_column **out_cols, ms_error *err) {
  int64_t ne = es->n;
  int64_t *winner = ms_malloc((size_t)(ne ? ne : 1) * sizeof *winner);
  if (!winner) return oom(err);
  ms_status st = MS_OK;
  double t0 = ofs_now_ms();
  v->rows_matched = 0;
  if (!v->stage_join && !(v->stage_join = ms_asprintf("join %s", v->label))) {
    ms_free(winner);
    return oom(err);
  }
  const char *stage = v->stage_join;
  ofs_progress(job, stage, 0, ne);
  if (d->n == 0) {
    for (int64_t i = 0; i < ne; i++) winner[i] = -1;
    ofs_choose_partitions(job, v, 0, ne);
  } else {
    ms_column **fk = ms_calloc((size_t)v->n_keys + 1, sizeof *fk);
    ms_column **ek = ms_calloc((size_t)v->n_keys + 1, sizeof *ek);
    if (!fk || !ek) st = oom(err);
    for (int k = 0; k < v->n_keys && st == MS_OK; k++) {
      fk[k] = ms_table_column(d->keys, k);
      int c = ms_table_find_column(es->t, v->entity_col[k]);
      if (c < 0) st = ms_error_set(err, MS_ERR_INTERNAL, "entity column '%s' vanished", v->entity_col[k]);
      else ek[k] = ms_table_column(es->t, c);
    }
    ofs_choose_partitions(job, v, d->n, ne);
    ms_pit_keys keys;
    memset(&keys, 0, sizeof keys);
    if (st == MS_OK && v->n_keys == 0) st = ms_pit_keys_init_keyless(d->n, ne, 1, &keys, err);
    else if (st == MS_OK) st = ms_pit_keys_encode(fk, ek, v->n_keys, v->n_partitions, pool, &keys, err);
    if (st == MS_OK && d->row_ok) {
      /* A source row outside the pre-filter (or without a ts) is never a candidate. */
      for (int64_t r = 0; r < d->n; r++)
        if (!d->row_ok[r]) keys.feature_key[r] = -1;
    }
    if (st == MS_OK) {
      /* An entity row without a timestamp has no candidate. */
      for (int64_t i = 0; i < ne; i++)
        if (!es->ok[i]) keys.entity_key[i] = -1;
      ms_pit_input in;
      memset(&in, 0, sizeof in);
      in.keys = &keys;
      in.feature_ts = d->ts_ns;
      in.feature_created = d->created_ns;
      in.feature_created_valid = d->created_valid;
      in.feature_pos = NULL;
      in.entity_ts = es->ts;
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
  if (st == MS_OK && d->n == 0) v->rows_matched = 0;
  ofs_progress(job, stage, ne, ne);
  t0 = ofs_now_ms();
  if (st == MS_OK && d->n > 0) st = gather_features(job, v, d, winner, ne, pool, out_cols, err);
  for (int f = 0; f < v->n_feat && st == MS_OK && d->n == 0; f++)
    st = ms_column_create_nulls(ofs_feature_type(v, f), ne, &out_cols[f], err);
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
      const ms_datatype *t = ofs_column_type(v, v->key_phys[k]);
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
    if (d->n == 0) continue;
    uint8_t *mask = ms_malloc((size_t)d->n);
    int64_t *ts = ms_malloc((size_t)d->n * sizeof *ts);
    if (!mask || !ts) st = oom(err);
    int64_t kept = 0;
    for (int64_t r = 0; r < d->n && st == MS_OK; r++) {
      mask[r] = (!d->row_ok || d->row_ok[r]) && d->ts_ns[r] >= job->start_ns && d->ts_ns[r] <= job->end_ns;
      if (mask[r]) ts[kept++] = d->ts_ns[r];
    }
    ms_table *ft = NULL;
    if (st == MS_OK && kept > 0 && d->keys) st = ms_table_filter(d->keys, mask, &ft, err);
    for (int c = 0; c < n_cols && st == MS_OK && kept > 0; c++) {
      int k = -1;
      for (int q = 0; q < v->n_keys; q++)
        if (strcmp(v->entity_col[q], fields[c].name) == 0) k = q;
      if (k >= 0) cols[c] = ms_column_retain(ms_table_column(ft, k));
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

/* ---------------- time windows (window_size_for_joins) ---------------- */

/* Bytes per source row the join holds (ts, created, flags, keys, the kernel's arrays). */
static int64_t join_bytes_per_row(const ofs_view *v) { return 64 + 8 * (int64_t)v->n_keys; }

/* Number of time chunks for v's join under the memory limit: 1 = join whole. Windowing is
 * used only when a limit is set, the source size is known from metadata and its estimated
 * join memory exceeds half the limit. */
static int64_t window_chunks(const ms_retrieval_job *job, const ofs_view *v) {
  int64_t w = job->cfg ? job->cfg->window_size_for_joins_s : 0;
  if (job->mem_limit_bytes <= 0 || w <= 0 || v->rows_total <= 0 || job->entityless || v->nothing) return 1;
  int64_t est = v->rows_total * join_bytes_per_row(v);
  int64_t budget = job->mem_limit_bytes / 4;
  if (est <= job->mem_limit_bytes / 2 || budget <= 0) return 1;
  int64_t k = (est + budget - 1) / budget;
  return k > 4096 ? 4096 : k;
}

/* Joins v in time windows: entity rows sorted by ts are cut into `chunks` groups of whole
 * windows (window_size_for_joins, aligned on the earliest entity time); each group reads
 * the source rows its own bounds need (row groups pruned by statistics, so a time-ordered
 * source is read piece by piece) and joins them; the groups' feature columns are put back
 * into entity order at the end. Rows without a timestamp join nothing (first group). */
static ms_status join_windowed(ms_retrieval_job *job, ofs_view *v, ms_pool *pool, int64_t chunks,
                               ms_column **out_cols, ms_error *err) {
  int64_t ne = job->entity_rows;
  int64_t w = job->cfg->window_size_for_joins_s * INT64_C(1000000000);
  int64_t *order = NULL;
  int64_t *pos = ms_malloc((size_t)(ne ? ne : 1) * sizeof *pos);
  ms_column ***parts = ms_calloc((size_t)chunks, sizeof *parts);
  int64_t *sub_ts = ms_malloc((size_t)(ne ? ne : 1) * sizeof *sub_ts);
  uint8_t *sub_ok = ms_malloc((size_t)(ne ? ne : 1));
  ms_status st = pos && parts && sub_ts && sub_ok ? MS_OK : oom(err);
  int64_t n_null = 0, n_ts = 0;
  for (int64_t i = 0; i < ne; i++) n_null += !job->entity_ts_ok[i];
  n_ts = ne - n_null;
  /* Entity rows by ts (stable), rows without one first. */
  ms_column *tc = NULL;
  ms_table *tt = NULL;
  ms_field tf = {(char *)"ts", ms_type(MS_TYPE_INT64), true};
  if (st == MS_OK) st = ofs_ns_column(job->entity_ts_ns, job->entity_ts_ok, ne, false, &tc, err);
  if (st == MS_OK) st = ms_table_create(&tf, &tc, 1, &tt, err);
  ms_sort_key sk = {0, false, true};
  if (st == MS_OK) st = ms_table_sort_indices(tt, &sk, 1, &order, err);
  ms_table_release(tt);
  ms_column_release(tc);
  if (st) {
    ms_free(order);
    ms_free(pos);
    ms_free(parts);
    ms_free(sub_ts);
    ms_free(sub_ok);
    return st;
  }
  int64_t t_min = n_ts ? job->entity_ts_ns[order[n_null]] : 0, t_max = n_ts ? job->entity_ts_ns[order[ne - 1]] : 0;
  uint64_t n_windows = n_ts ? (uint64_t)(t_max - t_min) / (uint64_t)w + 1 : 1;
  if ((uint64_t)chunks > n_windows) chunks = (int64_t)n_windows;
  bool has_lo0 = v->has_lo, has_hi0 = v->has_hi;
  int64_t lo0 = v->lo_ns, hi0 = v->hi_ns;
  int64_t rows_read = 0, rows_kept = 0, matched = 0;
  double ms_read = 0, ms_join = 0, ms_gather = 0;
  ms_dataset_read_stats rs;
  memset(&rs, 0, sizeof rs);
  int64_t start = 0; /* first position in order of the current chunk */
  for (int64_t c = 0; c < chunks && st == MS_OK; c++) {
    /* Windows [c*nw/K, (c+1)*nw/K) of the entity time range. */
    uint64_t w_end = (uint64_t)(c + 1) * n_windows / (uint64_t)chunks;
    int64_t end = c == 0 ? n_null : start;
    while (end < ne && (uint64_t)(job->entity_ts_ns[order[end]] - t_min) / (uint64_t)w < w_end) end++;
    if (c == chunks - 1) end = ne;
    int64_t n = end - start;
    ms_table *sub = NULL;
    if (n > 0) st = ms_table_take(job->entity, order + start, n, &sub, err);
    int64_t lo = 0, hi = 0;
    bool any = false;
    for (int64_t k = 0; k < n && st == MS_OK; k++) {
      int64_t e = order[start + k];
      sub_ts[k] = job->entity_ts_ns[e];
      sub_ok[k] = job->entity_ts_ok[e];
      if (!sub_ok[k]) continue;
      if (!any || sub_ts[k] < lo) lo = sub_ts[k];
      if (!any || sub_ts[k] > hi) hi = sub_ts[k];
      any = true;
    }
    parts[c] = ms_calloc((size_t)v->n_feat + 1, sizeof *parts[c]);
    if (st == MS_OK && !parts[c]) st = oom(err);
    if (st == MS_OK && n > 0) {
      int64_t blo = 0;
      bool has_blo = any && v->ttl_ns > 0 && !__builtin_sub_overflow(lo, v->ttl_ns, &blo);
      ofs_view_set_bounds(v, has_blo, blo, any, hi);
      v->nothing = !any;
      ofs_src_data d;
      memset(&d, 0, sizeof d);
      st = ofs_read_source(job, v, pool, true, &d, err);
      ent_side es = {sub, sub_ts, sub_ok, n};
      if (st == MS_OK) st = join_view(job, v, &d, pool, &es, parts[c], err);
      ofs_src_data_reset(&d);
      rows_read += v->rows_read;
      rows_kept += v->rows_kept;
      matched += v->rows_matched;
      ms_read += v->ms_read;
      ms_join += v->ms_join;
      ms_gather += v->ms_gather;
      if (v->rs.files_kept > rs.files_kept) rs.files_kept = v->rs.files_kept;
      rs.row_groups_total += v->rs.row_groups_total;
      rs.row_groups_kept += v->rs.row_groups_kept;
      rs.bytes_read += v->rs.bytes_read;
    }
    ms_table_release(sub);
    start = end;
  }
  v->n_windows = (int32_t)chunks;
  ofs_view_set_bounds(v, has_lo0, lo0, has_hi0, hi0);
  v->nothing = false;
  /* Back into entity order: the chunks' rows are `order`. */
  double t0 = ofs_now_ms();
  for (int64_t k = 0; k < ne && st == MS_OK; k++) pos[order[k]] = k;
  ms_column **cat = ms_calloc((size_t)chunks + 1, sizeof *cat);
  if (st == MS_OK && !cat) st = oom(err);
  for (int f = 0; f < v->n_feat && st == MS_OK; f++) {
    int n_cat = 0;
    for (int64_t c = 0; c < chunks; c++)
      if (parts[c] && parts[c][f]) cat[n_cat++] = parts[c][f];
    ms_column *all = NULL;
    if (n_cat == 0) st = ms_column_create_nulls(ofs_feature_type(v, f), 0, &all, err);
    else if (n_cat == 1) all = ms_column_retain(cat[0]);
    else st = ms_column_concat(cat, n_cat, &all, err);
    if (st == MS_OK) st = ms_column_take(all, pos, ne, &out_cols[f], err);
    ms_column_release(all);
  }
  ms_free(cat);
  for (int64_t c = 0; c < chunks; c++) {
    for (int f = 0; parts && parts[c] && f < v->n_feat; f++) ms_column_release(parts[c][f]);
    if (parts) ms_free(parts[c]);
  }
  v->rows_read = rows_read;
  v->rows_kept = rows_kept;
  v->rows_matched = matched;
  v->ms_read = ms_read;
  v->ms_join = ms_join;
  v->ms_gather = ms_gather + (ofs_now_ms() - t0);
  rs.files_total = ms_dataset_num_files(v->ds);
  v->rs = rs;
  ms_free(parts);
  ms_free(order);
  ms_free(pos);
  ms_free(sub_ts);
  ms_free(sub_ok);
  return st;
}

static ms_status run_historical(ms_retrieval_job *job, ms_pool *pool, ms_error *err) {
  ms_status st = MS_OK;
  ofs_src_data *pre = NULL;
  if (job->entityless) {
    pre = ms_calloc((size_t)job->n_views + 1, sizeof *pre);
    if (!pre) return oom(err);
    double t0 = ofs_now_ms();
    for (int i = 0; i < job->n_views && st == MS_OK; i++) st = ofs_read_source(job, &job->views[i], pool, true, &pre[i], err);
    ms_table *ent = NULL;
    if (st == MS_OK) st = build_entity(job, pre, &ent, err);
    if (st == MS_OK) {
      job->entity_ts_col = ms_table_num_columns(ent) - 1;
      st = ofs_set_entity(job, ent, err);
    }
    job->ms_entity = ofs_now_ms() - t0;
  }
  int n_out = 0;
  int *view_base = ms_calloc((size_t)job->n_views + 1, sizeof *view_base);
  for (int i = 0; view_base && i < job->n_views; i++) {
    view_base[i] = n_out;
    n_out += job->views[i].n_feat;
  }
  int n_odfv_out = 0;
  for (int i = 0; i < job->n_odfvs; i++) n_odfv_out += job->odfvs[i].n_out;
  ms_column **fcols = ms_calloc((size_t)n_out + 1, sizeof *fcols);
  ms_column **ocols = ms_calloc((size_t)n_odfv_out + 1, sizeof *ocols);
  if (st == MS_OK && (!fcols || !ocols || !view_base)) st = oom(err);
  int at = 0;
  for (int i = 0; i < job->n_views && st == MS_OK; i++) {
    ofs_view *v = &job->views[i];
    at += v->n_feat;
    if (v->agg == OFS_AGG_AS_OF) {
      st = ofs_agg_asof_run(job, v, fcols + at - v->n_feat, err);
      continue;
    }
    int64_t chunks = pre ? 1 : window_chunks(job, v);
    if (chunks > 1) {
      st = join_windowed(job, v, pool, chunks, fcols + at - v->n_feat, err);
      continue;
    }
    ofs_src_data d;
    memset(&d, 0, sizeof d);
    if (pre) {
      d = pre[i];
      memset(&pre[i], 0, sizeof pre[i]);
    } else {
      st = ofs_read_source(job, v, pool, true, &d, err);
    }
    ent_side es = {job->entity, job->entity_ts_ns, job->entity_ts_ok, job->entity_rows};
    if (st == MS_OK) st = join_view(job, v, &d, pool, &es, fcols + at - v->n_feat, err);
    ofs_src_data_reset(&d);
  }
  for (int i = 0; pre && i < job->n_views; i++) ofs_src_data_reset(&pre[i]);
  ms_free(pre);
  /* On-demand outputs over the joined features and the entity columns. */
  int oat = 0;
  for (int i = 0; i < job->n_odfvs && st == MS_OK; i++) {
    st = ofs_odfv_eval(job, &job->odfvs[i], fcols, view_base, pool, ocols + oat, err);
    oat += job->odfvs[i].n_out;
  }
  double t0 = ofs_now_ms();
  if (st == MS_OK) {
    ofs_progress(job, "assemble", 0, job->entity_rows);
    int ne = ms_table_num_columns(job->entity);
    ms_field *fields = ms_calloc((size_t)(ne + n_out + n_odfv_out) + 1, sizeof *fields);
    ms_column **cols = ms_calloc((size_t)(ne + n_out + n_odfv_out) + 1, sizeof *cols);
    if (!fields || !cols) st = oom(err);
    for (int c = 0; c < ne && st == MS_OK; c++) {
      fields[c] = *ms_table_field(job->entity, c);
      cols[c] = ms_table_column(job->entity, c);
    }
    /* Hidden features (on-demand inputs only) are dropped here. */
    int c = ne;
    at = 0;
    for (int i = 0; i < job->n_views && st == MS_OK; i++)
      for (int f = 0; f < job->views[i].n_feat; f++, at++) {
        if (ofs_hidden(&job->views[i], f)) continue;
        fields[c].name = job->views[i].out_name[f];
        fields[c].type = *ms_column_type(fcols[at]);
        fields[c].nullable = true;
        cols[c++] = fcols[at];
      }
    oat = 0;
    for (int i = 0; i < job->n_odfvs && st == MS_OK; i++)
      for (int k = 0; k < job->odfvs[i].n_out; k++, oat++) {
        fields[c].name = job->odfvs[i].out_name[k];
        fields[c].type = *ms_column_type(ocols[oat]);
        fields[c].nullable = true;
        cols[c++] = ocols[oat];
      }
    if (st == MS_OK) st = ms_table_create(fields, cols, c, &job->result, err);
    ms_free(fields);
    ms_free(cols);
    ofs_progress(job, "assemble", job->entity_rows, job->entity_rows);
  }
  job->ms_assemble = ofs_now_ms() - t0;
  for (int i = 0; fcols && i < n_out; i++) ms_column_release(fcols[i]);
  for (int i = 0; ocols && i < n_odfv_out; i++) ms_column_release(ocols[i]);
  ms_free(fcols);
  ms_free(ocols);
  ms_free(view_base);
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
