/* The offline store's planner: a get_historical_features or pull request becomes a job
 * whose plan is plain data (ofs_internal.h), and the plan's explain text.
 *
 * Planning does every check that can fail on the request before any work: feature refs
 * ("view:feature", or a feature service's items with alias and join_key_map) resolve to
 * views and features of the repository; output names must not collide; each view's source
 * is opened (metadata only) and its key, timestamp, created and feature columns found
 * through field_mapping (source column -> logical name); the entity input is read, its
 * timestamp column chosen (event_timestamp, else the only timestamp column) and every
 * entity column the views join on is checked, all missing ones reported together. The
 * pre-filter bounds follow from the entity timestamps (ts <= max; with a ttl,
 * ts >= min - ttl) and become ranges on the source timestamp column (row-group and file
 * pruning) and on date_partition_column (partition pruning by the UTC date of the bounds).
 * Pruning only skips data whose statistics or partition values prove it outside the
 * bounds; rows are filtered exactly after reading, so pruning never changes a result. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dataset/dataset_int.h"
#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "morsel/parquet.h"
#include "morsel/threadpool.h"
#include "offline/ofs_internal.h"
#include "repo/repo_int.h"

/* ---------------- small helpers ---------------- */

void ofs_sb_printf(ofs_sb *b, const char *fmt, ...) {
  if (b->oom) return;
  for (;;) {
    size_t room = b->cap - b->len;
    va_list ap;
    va_start(ap, fmt);
    int n = b->s ? vsnprintf(b->s + b->len, room, fmt, ap) : -2;
    va_end(ap);
    if (n >= 0 && (size_t)n < room) {
      b->len += (size_t)n;
      return;
    }
    size_t want = b->cap ? b->cap * 2 : 256;
    if (n >= 0 && want < b->len + (size_t)n + 1) want = b->len + (size_t)n + 1;
    char *s = ms_realloc(b->s, want);
    if (!s) {
      b->oom = true;
      if (b->s) b->s[b->len] = 0;
      return;
    }
    b->s = s;
    b->cap = want;
    if (b->len == 0) b->s[0] = 0;
  }
}

void ofs_sb_reset(ofs_sb *b) {
  ms_free(b->s);
  memset(b, 0, sizeof *b);
}

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

double ofs_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void ofs_progress(ms_retrieval_job *job, const char *stage, int64_t done, int64_t total) {
  if (!job->progress) return;
  double now = ofs_now_ms();
  bool edge = done == 0 || done == total;
  if (!edge && now - job->last_progress_ms < 100) return;
  job->last_progress_ms = now;
  job->progress(job->progress_ctx, stage, done, total);
}

int ofs_job_threads(const ms_retrieval_job *job) {
  if (job->threads > 0) return job->threads;
  if (job->cfg && job->cfg->threads > 0) return job->cfg->threads;
  int n = ms_cpu_count();
  return n > 0 ? n : 1;
}

ms_status ofs_job_pool(ms_retrieval_job *job, ms_pool **out, ms_error *err) {
  if (!job->pool) {
    ms_status st = ms_pool_create(ofs_job_threads(job), &job->pool, err);
    if (st) return st;
  }
  *out = job->pool;
  return MS_OK;
}

static void free_strs(char **v, int n) {
  for (int i = 0; v && i < n; i++) ms_free(v[i]);
  ms_free(v);
}

/* Appends a copy of s to a growable string array; false on allocation failure. */
static bool push_str(char ***v, int *n, const char *s) {
  char **nv = ms_realloc(*v, sizeof **v * (size_t)(*n + 1));
  if (!nv) return false;
  *v = nv;
  nv[*n] = ms_strdup(s);
  if (!nv[*n]) return false;
  (*n)++;
  return true;
}

static int find_str(char **v, int n, const char *s) {
  for (int i = 0; i < n; i++)
    if (strcmp(v[i], s) == 0) return i;
  return -1;
}

static const ms_feature_view_def *find_view(const ms_repo *r, const char *name) {
  for (int i = 0; i < ms_repo_num_feature_views(r); i++)
    if (strcmp(ms_repo_feature_view(r, i)->name, name) == 0) return ms_repo_feature_view(r, i);
  return NULL;
}
static const ms_source_def *find_source(const ms_repo *r, const char *name) {
  for (int i = 0; i < ms_repo_num_sources(r); i++)
    if (strcmp(ms_repo_source(r, i)->name, name) == 0) return ms_repo_source(r, i);
  return NULL;
}
static const ms_entity_def *find_entity(const ms_repo *r, const char *name) {
  for (int i = 0; i < ms_repo_num_entities(r); i++)
    if (strcmp(ms_repo_entity(r, i)->name, name) == 0) return ms_repo_entity(r, i);
  return NULL;
}
static const ms_feature_service_def *find_service(const ms_repo *r, const char *name) {
  for (int i = 0; i < ms_repo_num_feature_services(r); i++)
    if (strcmp(ms_repo_feature_service(r, i)->name, name) == 0) return ms_repo_feature_service(r, i);
  return NULL;
}

static int find_ds_field(const ms_dataset *ds, const char *name) {
  for (int i = 0; i < ms_dataset_num_fields(ds); i++)
    if (strcmp(ms_dataset_field(ds, i)->name, name) == 0) return i;
  return -1;
}

/* Source column of a logical name: the field_mapping entry whose value is the name, else
 * the name itself. */
static const char *phys_of(const ms_source_def *s, const char *logical) {
  for (int i = 0; i < s->n_field_mapping; i++)
    if (strcmp(s->field_mapping[i].value, logical) == 0) return s->field_mapping[i].key;
  return logical;
}
static const char *logical_of(const ms_source_def *s, const char *phys) {
  for (int i = 0; i < s->n_field_mapping; i++)
    if (strcmp(s->field_mapping[i].key, phys) == 0) return s->field_mapping[i].value;
  return phys;
}

void ms_historical_request_init(ms_historical_request *req) { memset(req, 0, sizeof *req); }
void ms_pull_request_init(ms_pull_request *req) { memset(req, 0, sizeof *req); }

/* ---------------- job lifetime ---------------- */

void ofs_view_reset(ofs_view *v) {
  ms_free(v->label);
  free_strs(v->key_name, v->n_keys);
  free_strs(v->key_phys, v->n_keys);
  free_strs(v->entity_col, v->n_keys);
  ms_free(v->ts_phys);
  ms_free(v->ts_name);
  ms_free(v->created_phys);
  ms_free(v->created_name);
  free_strs(v->feat_name, v->n_feat);
  free_strs(v->feat_phys, v->n_feat);
  free_strs(v->out_name, v->n_feat);
  free_strs(v->read_cols, v->n_read);
  ms_free(v->key_at);
  ms_free(v->feat_at);
  ms_free(v->stage_read);
  ms_free(v->stage_join);
  ms_free(v->feat_hidden);
  if (v->synth_src) {
    ms_free(v->synth_src->name);
    ms_free(v->synth_src->path);
    ms_free(v->synth_src->file_format);
    ms_free(v->synth_src->timestamp_field);
    ms_free(v->synth_src->date_partition_column);
    ms_free(v->synth_src);
  }
  ms_free(v->snap_dir);
  ofs_clean_free(v->clean);
  free_strs(v->phys_read, v->n_phys_read);
  for (int i = 0; i < v->n_typed; i++) ms_free(v->typed[i].name);
  ms_free(v->typed);
  ms_dataset_close(v->ds);
  memset(v, 0, sizeof *v);
}

ms_status ofs_job_alloc(ms_repo *repo, ofs_kind kind, ms_retrieval_job **out, ms_error *err) {
  ms_retrieval_job *j = ms_calloc(1, sizeof *j);
  if (!j) return oom(err);
  j->kind = kind;
  j->repo = repo;
  j->cfg = ms_repo_get_config(repo);
  j->entity_ts_col = -1;
  if (j->cfg && j->cfg->memory_limit_mb > 0) j->mem_limit_bytes = j->cfg->memory_limit_mb << 20;
  *out = j;
  return MS_OK;
}

void ms_retrieval_job_free(ms_retrieval_job *job) {
  if (!job) return;
  for (int i = 0; i < job->n_views; i++) ofs_view_reset(&job->views[i]);
  ms_free(job->views);
  for (int i = 0; i < job->n_odfvs; i++) ofs_odfv_reset(&job->odfvs[i]);
  ms_free(job->odfvs);
  ms_table_release(job->entity);
  ms_free(job->entity_desc);
  ms_free(job->entity_ts_ns);
  ms_free(job->entity_ts_ok);
  free_strs(job->md_features, job->md.n_features);
  free_strs(job->md_join_keys, job->md.n_join_keys);
  free_strs(job->md_view_names, job->md.n_views);
  free_strs(job->md_view_hashes, job->md.n_views);
  ms_table_release(job->result);
  ms_pool_destroy(job->pool);
  ms_free(job);
}

const ms_retrieval_metadata *ms_retrieval_job_metadata(const ms_retrieval_job *job) {
  return job ? &job->md : NULL;
}

/* ---------------- source binding ---------------- */

/* The extension decides when it names a format (the repository fills file_format with a
 * default, parquet, even for .csv paths); a directory reads its files by their extensions;
 * file_format csv is honoured for paths without a known extension. */
static ms_file_format format_of(const ms_source_def *s) {
  ms_file_format by_ext = ms_format_from_path(s->path);
  if (by_ext != MS_FORMAT_AUTO) return by_ext;
  if (s->file_format && strcmp(s->file_format, "csv") == 0) return MS_FORMAT_CSV;
  return MS_FORMAT_AUTO;
}

/* The physical column for a configured column name (timestamp_field, created column),
 * which may be written as the source column or as its mapped logical name. */
static const char *resolve_configured(const ms_source_def *s, const ms_dataset *ds, const char *name) {
  if (find_ds_field(ds, name) >= 0) return name;
  const char *p = phys_of(s, name);
  return find_ds_field(ds, p) >= 0 ? p : NULL;
}

static int add_read_col(ofs_view *v, const char *phys, bool *ok) {
  int i = find_str(v->read_cols, v->n_read, phys);
  if (i >= 0) return i;
  if (!push_str(&v->read_cols, &v->n_read, phys)) *ok = false;
  return v->n_read - 1;
}

/* Sizes from metadata, for explain and for choosing partitions. */
static ms_status metadata_sizes(ofs_view *v, ms_error *err) {
  v->files_total = ms_dataset_num_files(v->ds);
  v->row_groups_est_kept = -1;
  for (int64_t i = 0; i < v->files_total; i++) {
    if (ms__dataset_file_format(v->ds, i) != MS_FORMAT_PARQUET) {
      v->rows_total = -1;
      continue;
    }
    int64_t *rows = NULL;
    int n = 0;
    ms_status st = ms__dataset_file_row_groups(v->ds, i, &rows, &n, err);
    if (st) return st;
    v->row_groups_total += n;
    for (int g = 0; g < n && v->rows_total >= 0; g++) v->rows_total += rows[g];
    ms_free(rows);
  }
  return MS_OK;
}

static ms_status bind_plain(ofs_view *v, ms_error *err);

ms_status ofs_view_bind_source(ms_retrieval_job *job, ofs_view *v, ms_error *err) {
  ms_status st = MS_OK;
  if (v->def && v->def->agg.n_aggregations > 0 && v->agg == OFS_AGG_NONE) {
    st = ofs_agg_prepare(job, v, job->kind == OFS_PULL ? MS_AGGREGATIONS_STORED : job->agg_mode, err);
    if (st) return st;
  }
  if (v->agg == OFS_AGG_AS_OF) return ofs_agg_asof_bind(job, v, err);
  const ms_source_def *s = v->src;
  st = ofs_dataset_open(s->path, format_of(s), &v->ds, err);
  if (st) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", err ? err->message : "");
    return ms_error_set(err, st, "source '%s' (%s) of view '%s': %s", s->name, s->path, v->label, msg);
  }
  if (v->agg == OFS_AGG_STORED) st = ofs_agg_check_hash(job, v, err);
  if (st == MS_OK) st = (s->n_columns > 0 || s->filter) ? ofs_clean_bind(job, v, err) : bind_plain(v, err);
  if (st == MS_OK) st = metadata_sizes(v, err);
  return st;
}

/* Binds the roles of a source without cleaning: every role is a dataset column. */
static ms_status bind_plain(ofs_view *v, ms_error *err) {
  const ms_source_def *s = v->src;
  const char *ts = resolve_configured(s, v->ds, s->timestamp_field);
  if (!ts)
    return ms_error_set(err, MS_ERR_NOT_FOUND, "source '%s' (%s) has no timestamp column '%s'", s->name,
                        s->path, s->timestamp_field);
  const ms_field *tsf = ms_dataset_field(v->ds, find_ds_field(v->ds, ts));
  if (!ofs_is_time_type(&tsf->type)) {
    char tb[96];
    return ms_error_set(err, MS_ERR_TYPE, "source '%s': timestamp column '%s' is %s, not a timestamp",
                        s->name, ts, ms_type_to_string(&tsf->type, tb, sizeof tb));
  }
  v->ts_phys = ms_strdup(ts);
  v->ts_name = ms_strdup(logical_of(s, ts));
  if (!v->ts_phys || !v->ts_name) return oom(err);
  if (s->created_timestamp_column) {
    const char *c = resolve_configured(s, v->ds, s->created_timestamp_column);
    if (!c)
      return ms_error_set(err, MS_ERR_NOT_FOUND, "source '%s' (%s) has no created timestamp column '%s'",
                          s->name, s->path, s->created_timestamp_column);
    const ms_field *cf = ms_dataset_field(v->ds, find_ds_field(v->ds, c));
    if (!ofs_is_time_type(&cf->type)) {
      char tb[96];
      return ms_error_set(err, MS_ERR_TYPE, "source '%s': created column '%s' is %s, not a timestamp", s->name,
                          c, ms_type_to_string(&cf->type, tb, sizeof tb));
    }
    v->created_phys = ms_strdup(c);
    v->created_name = ms_strdup(logical_of(s, c));
    if (!v->created_phys || !v->created_name) return oom(err);
  }
  v->key_phys = ms_calloc((size_t)v->n_keys + 1, sizeof *v->key_phys);
  v->feat_phys = ms_calloc((size_t)v->n_feat + 1, sizeof *v->feat_phys);
  v->key_at = ms_calloc((size_t)v->n_keys + 1, sizeof *v->key_at);
  v->feat_at = ms_calloc((size_t)v->n_feat + 1, sizeof *v->feat_at);
  if (!v->key_phys || !v->feat_phys || !v->key_at || !v->feat_at) return oom(err);
  for (int k = 0; k < v->n_keys; k++) {
    const char *p = phys_of(s, v->key_name[k]);
    if (find_ds_field(v->ds, p) < 0)
      return ms_error_set(err, MS_ERR_NOT_FOUND, "source '%s' (%s) has no column '%s' for join key '%s' of view '%s'",
                          s->name, s->path, p, v->key_name[k], v->label);
    if (!(v->key_phys[k] = ms_strdup(p))) return oom(err);
  }
  for (int f = 0; f < v->n_feat; f++) {
    const char *p = phys_of(s, v->feat_name[f]);
    if (find_ds_field(v->ds, p) < 0)
      return ms_error_set(err, MS_ERR_NOT_FOUND, "source '%s' (%s) has no column '%s' for feature '%s' of view '%s'",
                          s->name, s->path, p, v->feat_name[f], v->label);
    if (!(v->feat_phys[f] = ms_strdup(p))) return oom(err);
  }
  bool ok = true;
  for (int k = 0; k < v->n_keys; k++) v->key_at[k] = add_read_col(v, v->key_phys[k], &ok);
  v->ts_at = add_read_col(v, v->ts_phys, &ok);
  v->created_at = v->created_phys ? add_read_col(v, v->created_phys, &ok) : -1;
  for (int f = 0; f < v->n_feat; f++) v->feat_at[f] = add_read_col(v, v->feat_phys[f], &ok);
  if (!ok) return oom(err);
  return MS_OK;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
static int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

void ofs_view_set_bounds(ofs_view *v, bool has_lo, int64_t lo, bool has_hi, int64_t hi) {
  v->has_lo = has_lo;
  v->lo_ns = lo;
  v->has_hi = has_hi;
  v->hi_ns = hi;
  v->n_ranges = 0;
  v->date_pruned = false;
  if (!has_lo && !has_hi) return;
  /* Pruning ranges only on a dataset column: not for an as-of aggregation view (nothing is
   * read) nor for a timestamp computed by the source's cleaning. */
  const char *rcol = v->clean ? ofs_clean_ts_dataset_column(v) : v->ts_phys;
  int tsi = v->ds && rcol ? find_ds_field(v->ds, rcol) : -1;
  if (tsi < 0) return;
  const ms_field *tsf = ms_dataset_field(v->ds, tsi);
  ms_range *r = &v->ranges[v->n_ranges++];
  memset(r, 0, sizeof *r);
  r->column = rcol;
  r->kind = MS_RANGE_INT;
  r->has_lo = has_lo;
  r->has_hi = has_hi;
  if (tsf->type.id == MS_TYPE_DATE32) {
    r->lo_i = has_lo ? ceil_div(lo, OFS_NS_PER_DAY) : 0;
    r->hi_i = has_hi ? floor_div(hi, OFS_NS_PER_DAY) : 0;
  } else {
    r->lo_i = lo;
    r->hi_i = hi;
  }
  /* Partition pruning by date: a row with ts in [lo, hi] lies in a partition dated within
   * [date(lo), date(hi)] (UTC dates), so partitions outside cannot hold a candidate. */
  const char *dp = v->src ? v->src->date_partition_column : NULL;
  int di = dp ? find_ds_field(v->ds, dp) : -1;
  if (di < 0 || strcmp(dp, rcol) == 0) return;
  const ms_field *df = ms_dataset_field(v->ds, di);
  if (df->type.id != MS_TYPE_DATE32 && df->type.id != MS_TYPE_UTF8) return;
  r = &v->ranges[v->n_ranges++];
  memset(r, 0, sizeof *r);
  r->column = dp;
  r->has_lo = has_lo;
  r->has_hi = has_hi;
  int64_t dlo = has_lo ? floor_div(lo, OFS_NS_PER_DAY) : 0, dhi = has_hi ? floor_div(hi, OFS_NS_PER_DAY) : 0;
  if (df->type.id == MS_TYPE_DATE32) {
    r->kind = MS_RANGE_INT;
    r->lo_i = dlo;
    r->hi_i = dhi;
  } else {
    r->kind = MS_RANGE_STRING;
    ms_format_date32((int32_t)dlo, v->date_lo);
    ms_format_date32((int32_t)dhi, v->date_hi);
    r->lo_s = v->date_lo;
    r->lo_s_len = (int64_t)strlen(v->date_lo);
    r->hi_s = v->date_hi;
    r->hi_s_len = (int64_t)strlen(v->date_hi);
    /* Years outside 0000..9999 do not compare as text: leave such a side open. */
    if (dlo < ms_days_from_civil(0, 1, 1) || dlo > ms_days_from_civil(9999, 12, 31)) r->has_lo = false;
    if (dhi < ms_days_from_civil(0, 1, 1) || dhi > ms_days_from_civil(9999, 12, 31)) r->has_hi = false;
  }
  v->date_pruned = r->has_lo || r->has_hi;
  if (!v->date_pruned) v->n_ranges--;
}

/* Row groups that the ts range keeps by their statistics, from the footers alone (no data
 * is decoded: zero columns are asked for). Partition pruning is not counted here. An
 * estimate for explain: -1 when a footer cannot be read. */
static void estimate_row_groups(ofs_view *v) {
  v->row_groups_est_kept = 0;
  if (v->nothing || !v->ds) return;
  static const char *const none[1] = {""};
  for (int64_t i = 0; i < ms_dataset_num_files(v->ds); i++) {
    if (ms__dataset_file_format(v->ds, i) != MS_FORMAT_PARQUET) continue;
    ms_pq_file *pq = NULL;
    ms_table *t = NULL;
    ms_pq_read_stats ps;
    memset(&ps, 0, sizeof ps);
    ms_pq_read_options ro;
    memset(&ro, 0, sizeof ro);
    ro.columns = none;
    ro.n_columns = 0;
    ro.ranges = v->ranges;
    ro.n_ranges = v->n_ranges;
    ms_status st = ms_pq_open(ms_fs_local(), ms_dataset_file_path(v->ds, i), &pq, NULL);
    if (st == MS_OK) st = ms_pq_read(pq, &ro, &t, &ps, NULL);
    ms_table_release(t);
    ms_pq_close(pq);
    if (st) {
      v->row_groups_est_kept = -1;
      return;
    }
    v->row_groups_est_kept += ps.row_groups_kept;
  }
}

/* Rows below which one partition is best (the sort fits in cache; no hashing pass). */
#define OFS_SMALL_JOIN_ROWS 65536

void ofs_choose_partitions(const ms_retrieval_job *job, ofs_view *v, int64_t n_feat_rows, int64_t n_ent_rows) {
  int threads = ofs_job_threads(job);
  int64_t rows = (n_feat_rows > 0 ? n_feat_rows : 0) + (n_ent_rows > 0 ? n_ent_rows : 0);
  int64_t target = (job->cfg && job->cfg->target_partition_size_mb > 0 ? job->cfg->target_partition_size_mb : 64) << 20;
  int64_t mult = job->cfg && job->cfg->max_parallelism_multiplier > 0 ? job->cfg->max_parallelism_multiplier : 2;
  if (v->n_keys == 0) {
    v->n_partitions = 1;
    v->strategy = "single-partition sort-merge PIT join (no join keys: time only)";
    return;
  }
  if (rows < OFS_SMALL_JOIN_ROWS) {
    v->n_partitions = 1;
    v->strategy = "single-partition sort-merge PIT join (small input)";
    return;
  }
  /* About 32 bytes per row go through the join (key id, ts, created, position). */
  int64_t p = (rows * 32 + target - 1) / target;
  if (p < threads * mult) p = threads * mult;
  if (p > 4096) p = 4096;
  v->n_partitions = (int32_t)p;
  v->strategy = "hash-partitioned sort-merge PIT join";
}

/* ---------------- request resolution ---------------- */

typedef struct jkm {
  int n;
  const ms_kv_pair *pairs;
} jkm;

/* Finds or creates the view group with this label. */
static ms_status get_group(ms_retrieval_job *job, const char *label, const ms_feature_view_def *def, jkm map,
                           ofs_view **out, ms_error *err) {
  for (int i = 0; i < job->n_views; i++)
    if (strcmp(job->views[i].label, label) == 0) {
      *out = &job->views[i];
      return MS_OK;
    }
  for (int i = 0; i < job->n_odfvs; i++)
    if (strcmp(job->odfvs[i].label, label) == 0)
      return ms_error_set(err, MS_ERR_INVALID, "'%s' names both a feature view and an on-demand view in this request",
                          label);
  ofs_view *nv = ms_realloc(job->views, sizeof *nv * (size_t)(job->n_views + 1));
  if (!nv) return oom(err);
  job->views = nv;
  ofs_view *v = &nv[job->n_views++];
  memset(v, 0, sizeof *v);
  v->def = def;
  v->created_at = -1;
  v->label = ms_strdup(label);
  v->ttl_ns = def->ttl_seconds > 0 ? def->ttl_seconds * INT64_C(1000000000) : 0;
  if (def->ttl_seconds > INT64_MAX / INT64_C(1000000000)) v->ttl_ns = 0; /* beyond any ns range: unbounded */
  v->src = find_source(job->repo, def->source);
  if (!v->label) return oom(err);
  if (!v->src) return ms_error_set(err, MS_ERR_NOT_FOUND, "view '%s': no source named '%s'", def->name, def->source);
  for (int e = 0; e < def->n_entities; e++) {
    const ms_entity_def *ent = find_entity(job->repo, def->entities[e]);
    if (!ent) return ms_error_set(err, MS_ERR_NOT_FOUND, "view '%s': no entity named '%s'", def->name, def->entities[e]);
    for (int k = 0; k < ent->n_join_keys; k++) {
      if (find_str(v->key_name, v->n_keys, ent->join_keys[k]) >= 0) continue;
      const char *col = ent->join_keys[k];
      for (int m = 0; m < map.n; m++)
        if (strcmp(map.pairs[m].key, col) == 0) col = map.pairs[m].value;
      int nk = v->n_keys;
      bool ok = push_str(&v->key_name, &nk, ent->join_keys[k]);
      nk = v->n_keys;
      ok = ok && push_str(&v->entity_col, &nk, col);
      if (!ok) return oom(err);
      v->n_keys = nk;
    }
  }
  *out = v;
  return MS_OK;
}

static bool view_has_feature(const ms_feature_view_def *d, const char *f) {
  for (int i = 0; i < d->n_schema; i++)
    if (strcmp(d->schema[i].name, f) == 0) return true;
  return false;
}

static ms_status add_feature(ofs_view *v, const char *f, bool dup_is_error, bool hidden, ms_error *err) {
  if (!view_has_feature(v->def, f)) {
    ofs_sb b = {0};
    for (int i = 0; i < v->def->n_schema; i++) ofs_sb_printf(&b, "%s%s", i ? ", " : "", v->def->schema[i].name);
    ms_status st = ms_error_set(err, MS_ERR_NOT_FOUND, "feature view '%s' has no feature '%s' (it has: %s)",
                                v->def->name, f, b.s ? b.s : "none");
    ofs_sb_reset(&b);
    return st;
  }
  int at = find_str(v->feat_name, v->n_feat, f);
  if (at >= 0) {
    /* Asked for after being added as an on-demand input: now it is output too. */
    if (v->feat_hidden[at] && !hidden) {
      v->feat_hidden[at] = 0;
      return MS_OK;
    }
    if (dup_is_error && !hidden)
      return ms_error_set(err, MS_ERR_INVALID, "feature reference '%s:%s' is requested twice", v->label, f);
    return MS_OK;
  }
  uint8_t *nh = ms_realloc(v->feat_hidden, (size_t)v->n_feat + 1);
  if (!nh) return oom(err);
  v->feat_hidden = nh;
  nh[v->n_feat] = hidden;
  int n = v->n_feat;
  if (!push_str(&v->feat_name, &n, f)) return oom(err);
  v->n_feat = n;
  return MS_OK;
}

ms_status ofs_add_hidden_feature(ms_retrieval_job *job, const ms_feature_view_def *def, const char *f, int *out_view,
                                 int *out_feat, ms_error *err) {
  ofs_view *v = NULL;
  jkm m = {0, NULL};
  ms_status st = get_group(job, def->name, def, m, &v, err);
  if (st == MS_OK && v->def != def)
    st = ms_error_set(err, MS_ERR_INVALID, "'%s' names both a feature view and a service alias of '%s'", def->name,
                      v->def->name);
  if (st == MS_OK) st = add_feature(v, f, true, true, err);
  if (st) return st;
  *out_view = (int)(v - job->views);
  *out_feat = find_str(v->feat_name, v->n_feat, f);
  return MS_OK;
}

/* Finds or creates the on-demand view group with this label. */
static ms_status get_odfv(ms_retrieval_job *job, const char *label, const ms_odfv_def *def, ofs_odfv **out,
                          ms_error *err) {
  for (int i = 0; i < job->n_odfvs; i++)
    if (strcmp(job->odfvs[i].label, label) == 0) {
      *out = &job->odfvs[i];
      return MS_OK;
    }
  for (int i = 0; i < job->n_views; i++)
    if (strcmp(job->views[i].label, label) == 0)
      return ms_error_set(err, MS_ERR_INVALID, "'%s' names both a feature view and an on-demand view in this request",
                          label);
  ofs_odfv *no = ms_realloc(job->odfvs, sizeof *no * (size_t)(job->n_odfvs + 1));
  if (!no) return oom(err);
  job->odfvs = no;
  ofs_odfv *o = &no[job->n_odfvs++];
  memset(o, 0, sizeof *o);
  o->def = def;
  if (!(o->label = ms_strdup(label))) return oom(err);
  *out = o;
  return MS_OK;
}

static ms_status add_odfv_output(ofs_odfv *o, const char *f, bool dup_is_error, ms_error *err) {
  int idx = -1;
  for (int i = 0; i < o->def->n_schema; i++)
    if (strcmp(o->def->schema[i].name, f) == 0) idx = i;
  if (idx < 0) {
    ofs_sb b = {0};
    for (int i = 0; i < o->def->n_schema; i++) ofs_sb_printf(&b, "%s%s", i ? ", " : "", o->def->schema[i].name);
    ms_status st = ms_error_set(err, MS_ERR_NOT_FOUND, "on-demand feature view '%s' has no feature '%s' (it has: %s)",
                                o->def->name, f, b.s ? b.s : "none");
    ofs_sb_reset(&b);
    return st;
  }
  for (int k = 0; k < o->n_out; k++)
    if (o->out_idx[k] == idx) {
      if (dup_is_error)
        return ms_error_set(err, MS_ERR_INVALID, "feature reference '%s:%s' is requested twice", o->label, f);
      return MS_OK;
    }
  int *ni = ms_realloc(o->out_idx, sizeof *ni * (size_t)(o->n_out + 1));
  if (!ni) return oom(err);
  o->out_idx = ni;
  ni[o->n_out++] = idx;
  return MS_OK;
}

/* A feature service item aliased as `label`, searched over every service (refs may name an
 * alias as their view). */
static const ms_feature_service_item *find_alias(const ms_repo *r, const char *label) {
  for (int i = 0; i < ms_repo_num_feature_services(r); i++) {
    const ms_feature_service_def *s = ms_repo_feature_service(r, i);
    for (int k = 0; k < s->n_items; k++)
      if (s->items[k].alias && strcmp(s->items[k].alias, label) == 0) return &s->items[k];
  }
  return NULL;
}

static ms_status resolve_refs(ms_retrieval_job *job, const ms_historical_request *req, ms_error *err) {
  ms_status st = MS_OK;
  if (req->feature_service && req->n_feature_refs > 0)
    return ms_error_set(err, MS_ERR_INVALID, "give either feature references or a feature service, not both");
  if (req->feature_service) {
    const ms_feature_service_def *s = find_service(job->repo, req->feature_service);
    if (!s) return ms_error_set(err, MS_ERR_NOT_FOUND, "no feature service named '%s'", req->feature_service);
    for (int i = 0; i < s->n_items && st == MS_OK; i++) {
      const ms_feature_service_item *it = &s->items[i];
      const ms_feature_view_def *d = find_view(job->repo, it->view);
      const ms_odfv_def *od = d ? NULL : ms_repo_find_odfv(job->repo, it->view);
      if (od) {
        ofs_odfv *o = NULL;
        st = get_odfv(job, it->alias ? it->alias : od->name, od, &o, err);
        for (int f = 0; st == MS_OK && f < (it->n_features ? it->n_features : od->n_schema); f++)
          st = add_odfv_output(o, it->n_features ? it->features[f] : od->schema[f].name, false, err);
        continue;
      }
      if (!d)
        return ms_error_set(err, MS_ERR_NOT_FOUND,
                            "feature service '%s': '%s' is neither a feature view nor an on-demand view", s->name,
                            it->view);
      ofs_view *v = NULL;
      jkm m = {it->n_join_key_map, it->join_key_map};
      st = get_group(job, it->alias ? it->alias : d->name, d, m, &v, err);
      for (int f = 0; st == MS_OK && f < (it->n_features ? it->n_features : d->n_schema); f++)
        st = add_feature(v, it->n_features ? it->features[f] : d->schema[f].name, false, false, err);
    }
    return st;
  }
  if (req->n_feature_refs <= 0) return ms_error_set(err, MS_ERR_INVALID, "no features requested");
  for (int i = 0; i < req->n_feature_refs && st == MS_OK; i++) {
    const char *ref = req->feature_refs[i];
    const char *colon = ref ? strchr(ref, ':') : NULL;
    if (!colon || colon == ref || !colon[1])
      return ms_error_set(err, MS_ERR_INVALID, "feature reference '%s' is not of the form view:feature",
                          ref ? ref : "(null)");
    char label[512];
    snprintf(label, sizeof label, "%.*s", (int)(colon - ref), ref);
    const ms_feature_view_def *d = find_view(job->repo, label);
    const ms_odfv_def *od = d ? NULL : ms_repo_find_odfv(job->repo, label);
    jkm m = {0, NULL};
    if (!d && !od) {
      const ms_feature_service_item *it = find_alias(job->repo, label);
      if (it) {
        d = find_view(job->repo, it->view);
        if (!d) od = ms_repo_find_odfv(job->repo, it->view);
        m.n = it->n_join_key_map;
        m.pairs = it->join_key_map;
      }
    }
    if (od) {
      ofs_odfv *o = NULL;
      st = get_odfv(job, label, od, &o, err);
      if (st == MS_OK) st = add_odfv_output(o, colon + 1, true, err);
      continue;
    }
    if (!d) return ms_error_set(err, MS_ERR_NOT_FOUND, "no feature view named '%s' (in reference '%s')", label, ref);
    ofs_view *v = NULL;
    st = get_group(job, label, d, m, &v, err);
    if (st == MS_OK) st = add_feature(v, colon + 1, true, false, err);
  }
  return st;
}

/* One output column for the collision check: its name and the reference it comes from. */
typedef struct out_ref {
  const char *label, *feat, *name;
} out_ref;

/* Output names, and the collision check over them (and against the entity columns): the
 * views' features that are output (not hidden on-demand inputs), then the on-demand
 * outputs. */
static ms_status name_outputs(ms_retrieval_job *job, const ms_table *entity, ms_error *err) {
  int n_out = 0;
  for (int i = 0; i < job->n_views; i++) {
    ofs_view *v = &job->views[i];
    v->out_name = ms_calloc((size_t)v->n_feat + 1, sizeof *v->out_name);
    if (!v->out_name) return oom(err);
    for (int f = 0; f < v->n_feat; f++) {
      v->out_name[f] = job->full_names ? ms_asprintf("%s__%s", v->label, v->feat_name[f]) : ms_strdup(v->feat_name[f]);
      if (!v->out_name[f]) return oom(err);
      n_out += !ofs_hidden(v, f);
    }
  }
  for (int i = 0; i < job->n_odfvs; i++) {
    ofs_odfv *o = &job->odfvs[i];
    o->out_name = ms_calloc((size_t)o->n_out + 1, sizeof *o->out_name);
    if (!o->out_name) return oom(err);
    for (int k = 0; k < o->n_out; k++) {
      const char *f = o->def->schema[o->out_idx[k]].name;
      o->out_name[k] = job->full_names ? ms_asprintf("%s__%s", o->label, f) : ms_strdup(f);
      if (!o->out_name[k]) return oom(err);
      n_out++;
    }
  }
  out_ref *refs = ms_calloc((size_t)n_out + 1, sizeof *refs);
  if (!refs) return oom(err);
  int n = 0;
  for (int i = 0; i < job->n_views; i++)
    for (int f = 0; f < job->views[i].n_feat; f++)
      if (!ofs_hidden(&job->views[i], f))
        refs[n++] = (out_ref){job->views[i].label, job->views[i].feat_name[f], job->views[i].out_name[f]};
  for (int i = 0; i < job->n_odfvs; i++)
    for (int k = 0; k < job->odfvs[i].n_out; k++)
      refs[n++] = (out_ref){job->odfvs[i].label, job->odfvs[i].def->schema[job->odfvs[i].out_idx[k]].name,
                            job->odfvs[i].out_name[k]};
  ofs_sb b = {0};
  int n_coll = 0;
  for (int i = 0; i < n; i++) {
    /* Report each colliding name once, at its first occurrence, with every ref. */
    bool earlier = false;
    for (int j = 0; j < i && !earlier; j++) earlier = strcmp(refs[j].name, refs[i].name) == 0;
    if (earlier) continue;
    int count = 0;
    for (int j = 0; j < n; j++) count += strcmp(refs[j].name, refs[i].name) == 0;
    if (count < 2) continue;
    ofs_sb_printf(&b, "%s'%s' from ", n_coll++ ? "; " : "", refs[i].name);
    int k = 0;
    for (int j = 0; j < n; j++)
      if (strcmp(refs[j].name, refs[i].name) == 0) ofs_sb_printf(&b, "%s%s:%s", k++ ? ", " : "", refs[j].label, refs[j].feat);
  }
  ms_status st = MS_OK;
  if (n_coll)
    st = ms_error_set(err, MS_ERR_INVALID, "feature name collision: %s (use full feature names, view__feature)",
                      b.s ? b.s : "");
  for (int i = 0; entity && st == MS_OK && i < n; i++)
    if (ms_table_find_column(entity, refs[i].name) >= 0)
      st = ms_error_set(err, MS_ERR_INVALID,
                        "feature '%s:%s' would be output as '%s', which is already a column of the entity "
                        "input (use full feature names or rename the column)",
                        refs[i].label, refs[i].feat, refs[i].name);
  ofs_sb_reset(&b);
  ms_free(refs);
  return st;
}

/* Chooses the entity timestamp column: event_timestamp, else the only timestamp column. */
static ms_status entity_ts_column(const ms_table *t, int *out, ms_error *err) {
  int i = ms_table_find_column(t, "event_timestamp");
  if (i >= 0) {
    if (!ofs_is_time_type(&ms_table_field(t, i)->type)) {
      char tb[96];
      return ms_error_set(err, MS_ERR_TYPE, "entity column 'event_timestamp' is %s, not a timestamp",
                          ms_type_to_string(&ms_table_field(t, i)->type, tb, sizeof tb));
    }
    *out = i;
    return MS_OK;
  }
  int found = -1, n = 0;
  ofs_sb b = {0};
  for (int c = 0; c < ms_table_num_columns(t); c++)
    if (ofs_is_time_type(&ms_table_field(t, c)->type)) {
      ofs_sb_printf(&b, "%s'%s'", n ? ", " : "", ms_table_field(t, c)->name);
      found = c;
      n++;
    }
  ms_status st = MS_OK;
  if (n == 0)
    st = ms_error_set(err, MS_ERR_INVALID, "the entity input has no timestamp column (expected 'event_timestamp')");
  else if (n > 1)
    st = ms_error_set(err, MS_ERR_INVALID,
                      "the entity input has no 'event_timestamp' column and several timestamp columns (%s): "
                      "name the event time column 'event_timestamp'",
                      b.s ? b.s : "");
  else
    *out = found;
  ofs_sb_reset(&b);
  return st;
}

/* Every entity column a view joins on must exist; all missing ones in one error. */
static ms_status check_entity_columns(ms_retrieval_job *job, const ms_table *t, ms_error *err) {
  ofs_sb b = {0};
  char **seen = NULL;
  int n_seen = 0, n_missing = 0;
  bool ok = true;
  for (int i = 0; i < job->n_views; i++)
    for (int k = 0; k < job->views[i].n_keys; k++) {
      const char *c = job->views[i].entity_col[k];
      if (ms_table_find_column(t, c) >= 0 || find_str(seen, n_seen, c) >= 0) continue;
      ok = ok && push_str(&seen, &n_seen, c);
      ofs_sb_printf(&b, "%s'%s' (join key of %s)", n_missing++ ? ", " : "", c, job->views[i].label);
    }
  free_strs(seen, n_seen);
  ms_status st = MS_OK;
  if (!ok) st = oom(err);
  else if (n_missing)
    st = ms_error_set(err, MS_ERR_INVALID, "the entity input is missing %d column%s: %s", n_missing,
                      n_missing > 1 ? "s" : "", b.s ? b.s : "");
  ofs_sb_reset(&b);
  return st;
}

ms_status ofs_set_entity(ms_retrieval_job *job, ms_table *t, ms_error *err) {
  job->entity = t;
  job->entity_rows = ms_table_num_rows(t);
  ms_status st = ofs_time_to_ns(ms_table_column(t, job->entity_ts_col), "entity timestamp column",
                                &job->entity_ts_ns, &job->entity_ts_ok, err);
  if (st) return st;
  bool any = false;
  int64_t mn = 0, mx = 0;
  for (int64_t i = 0; i < job->entity_rows; i++) {
    if (!job->entity_ts_ok[i]) continue;
    int64_t x = job->entity_ts_ns[i];
    if (!any || x < mn) mn = x;
    if (!any || x > mx) mx = x;
    any = true;
  }
  job->md.min_event_ns = any ? mn : 0;
  job->md.max_event_ns = any ? mx : 0;
  if (job->entityless) return MS_OK;
  for (int i = 0; i < job->n_views; i++) {
    ofs_view *v = &job->views[i];
    v->nothing = !any;
    int64_t lo = 0;
    bool has_lo = any && v->ttl_ns > 0 && !__builtin_sub_overflow(mn, v->ttl_ns, &lo);
    ofs_view_set_bounds(v, has_lo, lo, any, mx);
    estimate_row_groups(v);
    ofs_choose_partitions(job, v, v->rows_total, job->entity_rows);
  }
  return MS_OK;
}

static ms_status fill_metadata(ms_retrieval_job *job, ms_error *err) {
  int n = 0;
  bool ok = true;
  for (int i = 0; i < job->n_views; i++)
    for (int f = 0; f < job->views[i].n_feat; f++) {
      if (ofs_hidden(&job->views[i], f)) continue;
      char *r = ms_asprintf("%s:%s", job->views[i].label, job->views[i].feat_name[f]);
      ok = ok && r && push_str(&job->md_features, &n, r);
      ms_free(r);
    }
  for (int i = 0; i < job->n_odfvs; i++)
    for (int k = 0; k < job->odfvs[i].n_out; k++) {
      char *r = ms_asprintf("%s:%s", job->odfvs[i].label, job->odfvs[i].def->schema[job->odfvs[i].out_idx[k]].name);
      ok = ok && r && push_str(&job->md_features, &n, r);
      ms_free(r);
    }
  job->md.n_features = n;
  n = 0;
  for (int i = 0; i < job->n_views; i++)
    for (int k = 0; k < job->views[i].n_keys; k++)
      if (find_str(job->md_join_keys, n, job->views[i].entity_col[k]) < 0)
        ok = ok && push_str(&job->md_join_keys, &n, job->views[i].entity_col[k]);
  job->md.n_join_keys = n;
  const ms_reg_object *objs = NULL;
  const ms_reg_edge *edges = NULL;
  int n_objs = 0, n_edges = 0;
  ms_status st = ms_repo_objects(job->repo, &objs, &n_objs, &edges, &n_edges, err);
  if (st) return st;
  n = 0;
  int nh = 0;
  for (int i = 0; i < job->n_views; i++) {
    const ms_feature_view_def *d = job->views[i].def;
    if (!d || find_str(job->md_view_names, n, d->name) >= 0) continue;
    const char *hash = "";
    for (int o = 0; o < n_objs; o++)
      if (strcmp(objs[o].kind, "feature_view") == 0 && strcmp(objs[o].name, d->name) == 0) hash = objs[o].hash;
    ok = ok && push_str(&job->md_view_names, &n, d->name) && push_str(&job->md_view_hashes, &nh, hash);
  }
  job->md.n_views = n < nh ? n : nh;
  job->md.features = (const char *const *)job->md_features;
  job->md.join_keys = (const char *const *)job->md_join_keys;
  job->md.view_names = (const char *const *)job->md_view_names;
  job->md.view_hashes = (const char *const *)job->md_view_hashes;
  job->md.full_feature_names = job->full_names;
  return ok ? MS_OK : oom(err);
}

ms_status ms_get_historical_features(ms_repo *repo, const ms_historical_request *req, ms_retrieval_job **out,
                                     ms_error *err) {
  *out = NULL;
  if (!repo || !req) return ms_error_set(err, MS_ERR_INVALID, "no repository or request");
  ms_retrieval_job *job = NULL;
  ms_status st = ofs_job_alloc(repo, OFS_HISTORICAL, &job, err);
  if (st) return st;
  job->threads = req->threads;
  job->progress = req->progress;
  job->progress_ctx = req->progress_ctx;
  job->full_names = req->full_feature_names;
  job->filter_created = req->filter_by_created_timestamp;
  job->agg_mode = req->aggregation_mode;
  if (st == MS_OK && (job->agg_mode < MS_AGGREGATIONS_AUTO || job->agg_mode > MS_AGGREGATIONS_AS_OF))
    st = ms_error_set(err, MS_ERR_INVALID, "unknown aggregation mode %d", (int)job->agg_mode);
  if (st == MS_OK && req->entity_table && req->entity_path)
    st = ms_error_set(err, MS_ERR_INVALID, "give either an entity table or an entity path, not both");
  if (st == MS_OK && (req->entity_table || req->entity_path) && (req->has_start || req->has_end))
    st = ms_error_set(err, MS_ERR_INVALID, "give an entity input or a start/end range, not both");
  if (st == MS_OK && !req->entity_table && !req->entity_path) {
    job->entityless = true;
    if (!req->has_start || !req->has_end)
      st = ms_error_set(err, MS_ERR_INVALID, "without an entity input both start and end are required");
    else if (req->start_ns > req->end_ns)
      st = ms_error_set(err, MS_ERR_INVALID, "start is after end");
    job->start_ns = req->start_ns;
    job->end_ns = req->end_ns;
  }
  if (st == MS_OK) st = resolve_refs(job, req, err);
  if (st == MS_OK) st = ofs_odfv_resolve(job, err);
  /* The entity input first, so that missing columns are reported before sources open. */
  ms_table *entity = NULL;
  if (st == MS_OK && req->entity_table) {
    entity = ms_table_retain((ms_table *)req->entity_table);
    job->entity_desc = ms_strdup("table");
  } else if (st == MS_OK && req->entity_path) {
    ms_pool *pool = NULL;
    double t0 = ofs_now_ms();
    ofs_progress(job, "read entity", 0, -1);
    st = ofs_job_pool(job, &pool, err);
    if (st == MS_OK) st = ofs_read_table_file(req->entity_path, pool, &entity, err);
    if (st == MS_OK) ofs_progress(job, "read entity", ms_table_num_rows(entity), ms_table_num_rows(entity));
    job->ms_entity = ofs_now_ms() - t0;
    job->entity_desc = ms_strdup(req->entity_path);
  } else if (st == MS_OK) {
    char a[48], b[48];
    job->entity_desc = ms_asprintf("none (entity-less mode: distinct source keys and timestamps in [%s, %s])",
                                   ofs_format_ns(job->start_ns, a), ofs_format_ns(job->end_ns, b));
  }
  if (st == MS_OK && !job->entity_desc) st = oom(err);
  if (st == MS_OK && entity) st = entity_ts_column(entity, &job->entity_ts_col, err);
  if (st == MS_OK && entity) st = check_entity_columns(job, entity, err);
  if (st == MS_OK && job->n_odfvs > 0) st = ofs_odfv_check_entity(job, entity, err);
  if (st == MS_OK) st = name_outputs(job, entity, err);
  for (int i = 0; i < job->n_views && st == MS_OK; i++) st = ofs_view_bind_source(job, &job->views[i], err);
  if (st == MS_OK && entity) {
    st = ofs_set_entity(job, entity, err);
    entity = NULL;
  }
  for (int i = 0; st == MS_OK && job->entityless && i < job->n_views; i++)
    if (job->views[i].agg == OFS_AGG_AS_OF)
      st = ms_error_set(err, MS_ERR_INVALID,
                        "aggregation view '%s' has no snapshots to take entity rows from in entity-less mode "
                        "(run morsel compute %s, or give an entity input)",
                        job->views[i].def->name, job->views[i].def->name);
  if (st == MS_OK && job->entityless) {
    for (int i = 0; i < job->n_views; i++) {
      ofs_view *v = &job->views[i];
      int64_t lo = 0;
      bool has_lo = v->ttl_ns > 0 && !__builtin_sub_overflow(job->start_ns, v->ttl_ns, &lo);
      ofs_view_set_bounds(v, has_lo, lo, true, job->end_ns);
      estimate_row_groups(v);
      ofs_choose_partitions(job, v, v->rows_total, -1);
    }
  }
  if (st == MS_OK) st = ofs_odfv_compile(job, err);
  if (st == MS_OK) st = fill_metadata(job, err);
  ms_table_release(entity);
  if (st) {
    ms_retrieval_job_free(job);
    return st;
  }
  *out = job;
  return MS_OK;
}

/* A pull over a source alone with a feature selection: v's feature list (every column)
 * becomes the selected ones, in request order; an unknown or repeated name is an error
 * listing what the source has. */
static ms_status select_source_features(ofs_view *v, const ms_pull_request *req, ms_error *err) {
  char **sel = NULL;
  int n_sel = 0;
  ms_status st = MS_OK;
  for (int f = 0; f < req->n_features && st == MS_OK; f++) {
    const char *name = req->features[f] ? req->features[f] : "(null)";
    if (find_str(sel, n_sel, name) >= 0) {
      st = ms_error_set(err, MS_ERR_INVALID, "feature '%s' is requested twice", name);
    } else if (find_str(v->feat_name, v->n_feat, name) < 0) {
      ofs_sb b = {0};
      for (int i = 0; i < v->n_feat; i++) ofs_sb_printf(&b, "%s%s", i ? ", " : "", v->feat_name[i]);
      st = ms_error_set(err, MS_ERR_NOT_FOUND, "source '%s' has no feature column '%s' (it has: %s)", v->label, name,
                        b.s ? b.s : "none");
      ofs_sb_reset(&b);
    } else if (!push_str(&sel, &n_sel, name)) {
      st = oom(err);
    }
  }
  if (st) {
    free_strs(sel, n_sel);
    return st;
  }
  free_strs(v->feat_name, v->n_feat);
  v->feat_name = sel;
  v->n_feat = n_sel;
  return MS_OK;
}

/* A pull over a feature service's logs (include/morsel/write.h): the destination directory
 * read as a source whose timestamp is __log_timestamp, with no join keys and every other
 * column a feature: the log schema's columns in its order (those the files hold; the
 * partition columns come back from the folder names, typed by the hive rules), then any
 * column the files hold that the schema no longer has. Partitioned by __log_date, the
 * range also prunes date folders (the writer guarantees __log_date = date(__log_timestamp)). */
static ms_status plan_logs(ms_repo *repo, ofs_view *v, const ms_pull_request *req, ms_error *err) {
  v->created_at = -1;
  const ms_feature_service_def *s = find_service(repo, req->feature_service_logs);
  if (!s) return ms_error_set(err, MS_ERR_NOT_FOUND, "no feature service named '%s'", req->feature_service_logs);
  if (!s->has_logging || !s->log_path)
    return ms_error_set(err, MS_ERR_INVALID, "feature service '%s' has no logging configured", s->name);
  ms_source_def *src = ms_calloc(1, sizeof *src);
  if (!src) return oom(err);
  v->synth_src = src;
  v->src = src;
  src->name = ms_asprintf("logs:%s", s->name);
  src->path = ms_strdup(s->log_path);
  src->file_format = ms_strdup("parquet");
  src->timestamp_field = ms_strdup("__log_timestamp");
  for (int k = 0; k < s->n_log_partition_by; k++)
    if (!strcmp(s->log_partition_by[k], "__log_date") && !(src->date_partition_column = ms_strdup("__log_date")))
      return oom(err);
  if (!src->name || !src->path || !src->file_format || !src->timestamp_field || !(v->label = ms_strdup(src->name)))
    return oom(err);
  struct stat sb;
  if (stat(s->log_path, &sb) != 0)
    return ms_error_set(err, MS_ERR_NOT_FOUND, "feature service '%s' has no logs yet (nothing at %s)", s->name,
                        s->log_path);
  ms_dataset *ds = NULL;
  ms_status st = ofs_dataset_open(src->path, MS_FORMAT_AUTO, &ds, err);
  if (st) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", err ? err->message : "");
    return ms_error_set(err, st, "logs of feature service '%s' (%s): %s", s->name, s->log_path, msg);
  }
  ms_log_col *cols = NULL;
  int n_cols = 0;
  st = ms_def_log_columns(repo, s, &cols, &n_cols, err);
  int n = 0;
  for (int i = 0; i < n_cols && st == MS_OK; i++)
    if (strcmp(cols[i].name, "__log_timestamp") != 0 && find_ds_field(ds, cols[i].name) >= 0 &&
        !push_str(&v->feat_name, &n, cols[i].name))
      st = oom(err);
  for (int i = 0; i < ms_dataset_num_fields(ds) && st == MS_OK; i++) {
    const char *name = ms_dataset_field(ds, i)->name;
    if (strcmp(name, "__log_timestamp") != 0 && find_str(v->feat_name, n, name) < 0 && !push_str(&v->feat_name, &n, name))
      st = oom(err);
  }
  v->n_feat = n;
  ms_def_log_columns_free(cols, n_cols);
  ms_dataset_close(ds);
  if (st == MS_OK && req->select_features) st = select_source_features(v, req, err);
  return st;
}

ms_status ms_pull(ms_repo *repo, const ms_pull_request *req, ms_retrieval_job **out, ms_error *err) {
  *out = NULL;
  if (!repo || !req) return ms_error_set(err, MS_ERR_INVALID, "no repository or request");
  if (!!req->feature_view + !!req->source + !!req->feature_service_logs != 1)
    return ms_error_set(err, MS_ERR_INVALID,
                        "give exactly one of a feature view, a source and a feature service's logs");
  if (req->has_start && req->has_end && req->start_ns > req->end_ns)
    return ms_error_set(err, MS_ERR_INVALID, "start is after end");
  ms_retrieval_job *job = NULL;
  ms_status st = ofs_job_alloc(repo, OFS_PULL, &job, err);
  if (st) return st;
  job->threads = req->threads;
  job->progress = req->progress;
  job->progress_ctx = req->progress_ctx;
  job->pull_mode = req->mode;
  job->has_start = req->has_start;
  job->has_end = req->has_end;
  job->start_ns = req->start_ns;
  job->end_ns = req->end_ns;
  job->views = ms_calloc(1, sizeof *job->views);
  if (!job->views) st = oom(err);
  ofs_view *v = job->views;
  if (st == MS_OK && req->feature_view) {
    const ms_feature_view_def *d = find_view(repo, req->feature_view);
    if (!d) st = ms_error_set(err, MS_ERR_NOT_FOUND, "no feature view named '%s'", req->feature_view);
    jkm m = {0, NULL};
    if (st == MS_OK) {
      job->n_views = 0;
      ms_free(job->views);
      job->views = NULL;
      st = get_group(job, d->name, d, m, &v, err);
    }
    if (st == MS_OK && req->select_features) {
      for (int f = 0; st == MS_OK && f < req->n_features; f++) st = add_feature(v, req->features[f], true, false, err);
    } else {
      for (int f = 0; st == MS_OK && f < d->n_schema; f++) st = add_feature(v, d->schema[f].name, false, false, err);
    }
  } else if (st == MS_OK && req->feature_service_logs) {
    job->n_views = 1;
    st = plan_logs(repo, v, req, err);
  } else if (st == MS_OK) {
    job->n_views = 1;
    v->created_at = -1;
    v->src = find_source(repo, req->source);
    if (!v->src) st = ms_error_set(err, MS_ERR_NOT_FOUND, "no source named '%s'", req->source);
    if (st == MS_OK && !(v->label = ms_strdup(v->src->name))) st = oom(err);
    /* A source alone: every column but the timestamps (and the date partition) is a
     * feature, in file order, under its logical name. */
    ms_dataset *ds = NULL;
    if (st == MS_OK) st = ofs_dataset_open(v->src->path, format_of(v->src), &ds, err);
    if (st == MS_OK && (v->src->n_columns > 0 || v->src->filter)) {
      /* A cleaned source: its logical columns, derived ones included, minus the timestamps
       * and partition columns. */
      char **names = NULL;
      int n_names = 0;
      st = ofs_clean_logical_names(v->src, ds, &names, &n_names, err);
      const ms_source_def *src = v->src;
      const char *ts = resolve_configured(src, ds, src->timestamp_field);
      const char *cr = src->created_timestamp_column ? resolve_configured(src, ds, src->created_timestamp_column) : NULL;
      for (int i = 0; i < n_names && st == MS_OK; i++) {
        const char *name = names[i];
        bool skip = strcmp(name, src->timestamp_field) == 0 || (ts && strcmp(name, logical_of(src, ts)) == 0) ||
                    (src->created_timestamp_column && strcmp(name, src->created_timestamp_column) == 0) ||
                    (cr && strcmp(name, logical_of(src, cr)) == 0) ||
                    (src->date_partition_column && strcmp(name, src->date_partition_column) == 0);
        for (int q = 0; q < ms_dataset_num_fields(ds) && !skip; q++)
          skip = ms_dataset_field_is_partition(ds, q) && strcmp(logical_of(src, ms_dataset_field(ds, q)->name), name) == 0;
        if (skip) continue;
        int n = v->n_feat;
        if (!push_str(&v->feat_name, &n, name)) st = oom(err);
        v->n_feat = n;
      }
      free_strs(names, n_names);
    } else if (st == MS_OK) {
      const char *ts = resolve_configured(v->src, ds, v->src->timestamp_field);
      const char *cr = v->src->created_timestamp_column ? resolve_configured(v->src, ds, v->src->created_timestamp_column) : NULL;
      for (int i = 0; i < ms_dataset_num_fields(ds) && st == MS_OK; i++) {
        const char *name = ms_dataset_field(ds, i)->name;
        if ((ts && strcmp(name, ts) == 0) || (cr && strcmp(name, cr) == 0) || ms_dataset_field_is_partition(ds, i) ||
            (v->src->date_partition_column && strcmp(name, v->src->date_partition_column) == 0))
          continue;
        int n = v->n_feat;
        if (!push_str(&v->feat_name, &n, logical_of(v->src, name))) st = oom(err);
        v->n_feat = n;
      }
    }
    ms_dataset_close(ds);
    if (st == MS_OK && req->select_features) st = select_source_features(v, req, err);
  }
  if (st == MS_OK) {
    v->out_name = ms_calloc((size_t)v->n_feat + 1, sizeof *v->out_name);
    if (!v->out_name) st = oom(err);
    for (int f = 0; f < v->n_feat && st == MS_OK; f++)
      if (!(v->out_name[f] = ms_strdup(v->feat_name[f]))) st = oom(err);
  }
  if (st == MS_OK) st = ofs_view_bind_source(job, v, err);
  if (st == MS_OK) {
    ofs_view_set_bounds(v, req->has_start, req->start_ns, req->has_end, req->end_ns);
    estimate_row_groups(v);
    ofs_choose_partitions(job, v, v->rows_total, 0);
    v->strategy = req->mode == MS_PULL_LATEST ? "sort by (join keys, ts, created, source position); last per key"
                                              : "stable sort by ts";
    v->n_partitions = 1;
  }
  if (st == MS_OK) st = fill_metadata(job, err);
  if (st) {
    ms_retrieval_job_free(job);
    return st;
  }
  *out = job;
  return MS_OK;
}

/* ---------------- explain ---------------- */

static void explain_view(const ms_retrieval_job *job, const ofs_view *v, bool analyze, ofs_sb *b) {
  char a[48], c[48], d[32];
  if (v->def && strcmp(v->label, v->def->name) != 0)
    ofs_sb_printf(b, "view %s (alias of feature view %s)\n", v->label, v->def->name);
  else if (v->def)
    ofs_sb_printf(b, "view %s\n", v->label);
  else
    ofs_sb_printf(b, "source %s\n", v->label);
  if (v->agg == OFS_AGG_STORED)
    ofs_sb_printf(b, "  aggregation view, mode stored: %d snapshot file%s in %s, joined point-in-time (latest cutoff "
                     "<= entity timestamp)\n",
                  v->n_snap_files, v->n_snap_files == 1 ? "" : "s", v->snap_dir);
  else if (v->agg == OFS_AGG_AS_OF)
    ofs_sb_printf(b, "  aggregation view, mode as-of: computed at each entity row's timestamp from source %s (%s) "
                     "by the compute engine; no snapshot is read\n",
                  v->src->name, v->src->path);
  else
    ofs_sb_printf(b, "  source: %s (%s, %s)\n", v->src->name, v->src->path,
                  v->src->file_format ? v->src->file_format : "auto");
  ofs_sb_printf(b, "  features:");
  for (int f = 0; f < v->n_feat; f++) {
    if (ofs_hidden(v, f)) ofs_sb_printf(b, "%s %s (on-demand input, not output)", f ? "," : "", v->feat_name[f]);
    else ofs_sb_printf(b, "%s %s -> %s", f ? "," : "", v->feat_name[f], v->out_name[f]);
  }
  ofs_sb_printf(b, "\n  join keys:");
  if (v->n_keys == 0) ofs_sb_printf(b, " none (joins on time only)");
  for (int k = 0; k < v->n_keys; k++)
    ofs_sb_printf(b, "%s %s (source column %s, entity column %s)", k ? "," : "", v->key_name[k], v->key_phys[k],
                  v->entity_col[k]);
  if (v->agg == OFS_AGG_AS_OF) {
    ofs_sb_printf(b, "\n");
    if (analyze && job->ran)
      ofs_sb_printf(b, "  actual: rows with a value %lld\n  time: compute %.1f ms\n", (long long)v->rows_matched,
                    v->ms_join);
    return;
  }
  ofs_sb_printf(b, "\n  columns read: ");
  for (int i = 0; i < v->n_read; i++) ofs_sb_printf(b, "%s%s", i ? ", " : "", v->read_cols[i]);
  if (v->clean) {
    ofs_sb_printf(b, "\n");
    ofs_clean_explain(v, b);
    ofs_sb_printf(b, "  timestamp: %s", v->ts_phys);
  } else {
    if (job->kind == OFS_HISTORICAL)
      ofs_sb_printf(b, "\n  late materialisation: Parquet row groups decode the join columns first; feature "
                       "columns only in row groups holding a winner");
    ofs_sb_printf(b, "\n  timestamp: %s", v->ts_phys);
  }
  if (v->created_phys) ofs_sb_printf(b, ", created: %s", v->created_phys);
  ms_format_duration(v->ttl_ns / INT64_C(1000000000), d, sizeof d);
  if (job->kind == OFS_HISTORICAL) ofs_sb_printf(b, "\n  ttl: %s", v->ttl_ns > 0 ? d : "none (0s)");
  if (v->nothing)
    ofs_sb_printf(b, "\n  pre-filter: no entity row has a timestamp; nothing is read\n");
  else
    ofs_sb_printf(b, "\n  pre-filter: %s <= %s <= %s\n", v->has_lo ? ofs_format_ns(v->lo_ns, a) : "-inf", v->ts_phys,
                  v->has_hi ? ofs_format_ns(v->hi_ns, c) : "+inf");
  if (v->date_pruned)
    ofs_sb_printf(b, "  partition pruning: %s in [%s, %s] (UTC dates of the bounds)\n", v->src->date_partition_column,
                  v->ranges[1].has_lo ? (v->ranges[1].kind == MS_RANGE_STRING ? v->date_lo : (ms_format_date32((int32_t)v->ranges[1].lo_i, a), a)) : "-inf",
                  v->ranges[1].has_hi ? (v->ranges[1].kind == MS_RANGE_STRING ? v->date_hi : (ms_format_date32((int32_t)v->ranges[1].hi_i, c), c)) : "+inf");
  if (analyze && job->ran && v->n_windows > 1) {
    ofs_sb_printf(b, "  files: %lld total, at most %lld read by one window\n", (long long)v->rs.files_total,
                  (long long)v->rs.files_kept);
    ofs_sb_printf(b, "  row groups: %lld total, %lld reads over %d windows (ttl ranges overlap)\n",
                  (long long)v->row_groups_total, (long long)v->rs.row_groups_kept, (int)v->n_windows);
  } else if (analyze && job->ran) {
    ofs_sb_printf(b, "  files: %lld total, %lld kept (%lld pruned)\n", (long long)v->rs.files_total,
                  (long long)v->rs.files_kept, (long long)(v->rs.files_total - v->rs.files_kept));
    ofs_sb_printf(b, "  row groups: %lld total, %lld kept (%lld pruned)\n", (long long)v->row_groups_total,
                  (long long)v->rs.row_groups_kept, (long long)(v->row_groups_total - v->rs.row_groups_kept));
  } else {
    ofs_sb_printf(b, "  files: %lld total%s\n", (long long)v->files_total,
                  v->date_pruned ? " (partitions are pruned when run; see explain analyze)" : "");
    if (v->row_groups_est_kept >= 0)
      ofs_sb_printf(b, "  row groups: %lld total, %lld kept by statistics (%lld pruned)%s\n", (long long)v->row_groups_total,
                    (long long)v->row_groups_est_kept, (long long)(v->row_groups_total - v->row_groups_est_kept),
                    v->date_pruned ? ", before partition pruning" : "");
    else
      ofs_sb_printf(b, "  row groups: %lld total\n", (long long)v->row_groups_total);
  }
  if (v->rows_total >= 0) ofs_sb_printf(b, "  source rows: %lld\n", (long long)v->rows_total);
  ofs_sb_printf(b, "  join strategy: %s\n  partitions: %d\n  threads: %d\n", v->strategy ? v->strategy : "-",
                (int)v->n_partitions, ofs_job_threads(job));
  if (analyze && job->ran && v->n_windows > 1)
    ofs_sb_printf(b, "  time windows: %d (the entity input joined window by window under memory_limit_mb)\n",
                  (int)v->n_windows);
  if (analyze && job->ran) {
    ofs_sb_printf(b, "  actual: rows read %lld, rows kept %lld, rows matched %lld\n", (long long)v->rows_read,
                  (long long)v->rows_kept, (long long)v->rows_matched);
    ofs_sb_printf(b, "  time: read %.1f ms, join %.1f ms, gather %.1f ms\n", v->ms_read, v->ms_join, v->ms_gather);
  }
}

ms_status ms_retrieval_job_explain(ms_retrieval_job *job, bool analyze, char **out_text, ms_error *err) {
  *out_text = NULL;
  if (!job) return ms_error_set(err, MS_ERR_INVALID, "no job");
  if (analyze) {
    ms_status st = ofs_run(job, err);
    if (st) return st;
  }
  ofs_sb b = {0};
  char a[48], c[48];
  if (job->kind == OFS_HISTORICAL) {
    ofs_sb_printf(&b, "get_historical_features plan\n");
    ofs_sb_printf(&b, "entity input: %s\n", job->entity_desc ? job->entity_desc : "-");
    if (job->entity) {
      ofs_sb_printf(&b, "entity rows: %lld, timestamp column: %s", (long long)ms_table_num_rows(job->entity),
                    ms_table_field(job->entity, job->entity_ts_col)->name);
      if (job->md.min_event_ns || job->md.max_event_ns)
        ofs_sb_printf(&b, ", range [%s, %s]", ofs_format_ns(job->md.min_event_ns, a), ofs_format_ns(job->md.max_event_ns, c));
      ofs_sb_printf(&b, "\n");
    }
    ofs_sb_printf(&b, "full feature names: %s, filter by created timestamp: %s\n", job->full_names ? "yes" : "no",
                  job->filter_created ? "yes" : "no");
    bool any_agg = false;
    for (int i = 0; i < job->n_views; i++) any_agg |= job->views[i].agg != OFS_AGG_NONE;
    if (any_agg)
      ofs_sb_printf(&b, "aggregation views: mode %s requested (auto = stored when snapshots exist, else as-of)\n",
                    job->agg_mode == MS_AGGREGATIONS_STORED ? "stored"
                    : job->agg_mode == MS_AGGREGATIONS_AS_OF ? "as-of"
                                                             : "auto");
  } else {
    ofs_sb_printf(&b, "%s plan\n", job->pull_mode == MS_PULL_LATEST ? "pull_latest" : "pull_all");
    ofs_sb_printf(&b, "range: [%s, %s]\n", job->has_start ? ofs_format_ns(job->start_ns, a) : "-inf",
                  job->has_end ? ofs_format_ns(job->end_ns, c) : "+inf");
  }
  ofs_sb_printf(&b, "threads: %d, memory limit: ", ofs_job_threads(job));
  if (job->mem_limit_bytes) ofs_sb_printf(&b, "%lld MiB\n", (long long)(job->mem_limit_bytes >> 20));
  else ofs_sb_printf(&b, "none\n");
  if (job->cfg)
    ofs_sb_printf(&b,
                  "config: target_partition_size_mb %lld, max_parallelism_multiplier %lld, "
                  "broadcast_join_threshold_mb %lld (not used: both sides are always hash-partitioned), "
                  "window_size_for_joins %llds (used when a view's join would pass half of memory_limit_mb)\n",
                  (long long)job->cfg->target_partition_size_mb, (long long)job->cfg->max_parallelism_multiplier,
                  (long long)job->cfg->broadcast_join_threshold_mb, (long long)job->cfg->window_size_for_joins_s);
  for (int i = 0; i < job->n_views; i++) explain_view(job, &job->views[i], analyze, &b);
  for (int i = 0; i < job->n_odfvs; i++) {
    const ofs_odfv *o = &job->odfvs[i];
    if (strcmp(o->label, o->def->name) != 0)
      ofs_sb_printf(&b, "on-demand view %s (alias of %s)\n", o->label, o->def->name);
    else
      ofs_sb_printf(&b, "on-demand view %s\n", o->label);
    ofs_sb_printf(&b, "  evaluated after the joins, batch by batch over the entity rows; only the requested outputs\n");
    for (int k = 0; k < o->n_out; k++) {
      const ms_feature_field *f = &o->def->schema[o->out_idx[k]];
      ofs_sb_printf(&b, "  output %s -> %s (%s) = %s; inputs:", f->name, o->out_name[k], f->dtype,
                    o->def->outputs[o->out_idx[k]].expression);
      for (int r = 0; r < o->n_in[k]; r++) {
        const ofs_odfv_in *in = &o->in[k][r];
        if (in->view >= 0)
          ofs_sb_printf(&b, "%s %s:%s", r ? "," : "", job->views[in->view].label, job->views[in->view].feat_name[in->feat]);
        else
          ofs_sb_printf(&b, "%s request column %s", r ? "," : "", in->entity_col);
      }
      if (o->n_in[k] == 0) ofs_sb_printf(&b, " none");
      ofs_sb_printf(&b, "\n");
    }
    if (analyze && job->ran) ofs_sb_printf(&b, "  time: evaluate %.1f ms\n", o->ms_eval);
  }
  if (analyze && job->ran) {
    ofs_sb_printf(&b, "analyze: output rows %lld, columns %d\n", (long long)ms_table_num_rows(job->result),
                  ms_table_num_columns(job->result));
    ofs_sb_printf(&b, "analyze: time read entity %.1f ms, assemble %.1f ms, total %.1f ms\n", job->ms_entity,
                  job->ms_assemble, job->ms_total);
    ofs_sb_printf(&b, "analyze: peak memory %.1f MiB\n", (double)job->peak_mem / 1048576.0);
  }
  if (b.oom || !b.s) {
    ofs_sb_reset(&b);
    return oom(err);
  }
  *out_text = b.s;
  return MS_OK;
}
