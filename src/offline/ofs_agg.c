/* Aggregation feature views (include/morsel/compute.h) in retrieval.
 *
 * An aggregation view has no rows of its own: its features are aggregates of its source
 * over windows ending at a time T. Retrieval serves them two ways (ms_aggregation_mode):
 *  - stored: the view's snapshots (one Parquet file per computed cutoff T under
 *    ms_compute_snapshot_dir, with columns join keys, features, event_timestamp = T) are
 *    bound as the view's source (timestamp_field event_timestamp, no created column, no
 *    field mapping, the view's ttl) and joined point-in-time like any feature view: an
 *    entity row at time t gets the snapshot with the latest cutoff T <= t. Snapshots
 *    computed from another definition are refused (their Parquet key-value metadata
 *    `morsel.definition_hash` must equal the view's current registry hash).
 *  - as-of: ms_compute_asof computes the features at each entity row's own timestamp from
 *    the source, with the entity's join key columns (after join_key_map); no snapshot is
 *    read. At a cutoff T both give the same cells (the compute engine runs one kernel).
 * AUTO picks stored when the snapshot directory has any live snapshot file, else as-of.
 * Pulls of an aggregation view always read the snapshots.
 *
 * The snapshot directory is a managed dataset (include/morsel/store.h): a token file
 * (`cutoff=....m<16 hex>.parquet`) is live only while `_morsel_manifest.json` lists it, so
 * files a recompute replaced (kept until garbage collection) are not counted; files
 * without the token (snapshots written before issue 6) count as they always did. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "morsel/alloc.h"
#include "morsel/compute.h"
#include "morsel/parquet.h"
#include "morsel/store.h"
#include "offline/ofs_internal.h"

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

bool ofs_dtype_type(const char *dtype, ms_datatype *out) {
  if (!dtype) return false;
  if (strcmp(dtype, "timestamp") == 0) {
    *out = ms_type_timestamp(MS_UNIT_NANO, NULL);
    return true;
  }
  return ms_type_parse(dtype, out);
}

/* Live snapshot files (*.parquet, not hidden or temporary) directly in dir, by the dataset
 * layer's rule: token files only when the manifest lists them (none without a manifest: a
 * compute killed before its first commit leaves orphans; a manifest that cannot be read
 * counts none, reading the snapshots then reports it); other files as they are. 0 when dir
 * does not exist. */
static int count_snapshots(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  ms_manifest m = {0};
  bool have_manifest = ms_manifest_read(dir, &m, NULL) == MS_OK;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (e->d_name[0] == '.' || e->d_name[0] == '_' || len < 9) continue;
    if (strcmp(e->d_name + len - 8, ".parquet") != 0) continue;
    if (!ms_store_is_token_name(e->d_name)) {
      n++;
      continue;
    }
    for (int i = 0; have_manifest && i < m.n_files; i++)
      if (strcmp(m.files[i].path, e->d_name) == 0) {
        n++;
        break;
      }
  }
  closedir(d);
  ms_manifest_reset(&m);
  return n;
}

ms_status ofs_agg_prepare(ms_retrieval_job *job, ofs_view *v, ms_aggregation_mode mode, ms_error *err) {
  const char *name = v->def->name;
  v->snap_dir = ms_compute_snapshot_dir(job->repo, name);
  if (!v->snap_dir) return oom(err);
  v->n_snap_files = count_snapshots(v->snap_dir);
  if (mode == MS_AGGREGATIONS_AUTO) mode = v->n_snap_files > 0 ? MS_AGGREGATIONS_STORED : MS_AGGREGATIONS_AS_OF;
  if (mode == MS_AGGREGATIONS_AS_OF) {
    v->agg = OFS_AGG_AS_OF;
    return MS_OK;
  }
  if (v->n_snap_files == 0)
    return ms_error_set(err, MS_ERR_NOT_FOUND, "aggregation view '%s' has no snapshots (in %s); run morsel compute %s",
                        name, v->snap_dir, name);
  v->agg = OFS_AGG_STORED;
  ms_source_def *s = ms_calloc(1, sizeof *s);
  if (!s) return oom(err);
  v->synth_src = s;
  s->name = ms_asprintf("%s snapshots", name);
  s->path = ms_strdup(v->snap_dir);
  s->file_format = ms_strdup("parquet");
  s->timestamp_field = ms_strdup("event_timestamp");
  if (!s->name || !s->path || !s->file_format || !s->timestamp_field) return oom(err);
  v->src = s;
  return MS_OK;
}

ms_status ofs_agg_check_hash(ms_retrieval_job *job, ofs_view *v, ms_error *err) {
  const ms_reg_object *objs = NULL;
  const ms_reg_edge *edges = NULL;
  int n_objs = 0, n_edges = 0;
  ms_status st = ms_repo_objects(job->repo, &objs, &n_objs, &edges, &n_edges, err);
  if (st) return st;
  const char *want = NULL;
  for (int o = 0; o < n_objs; o++)
    if (strcmp(objs[o].kind, "feature_view") == 0 && strcmp(objs[o].name, v->def->name) == 0) want = objs[o].hash;
  if (!want) return ms_error_set(err, MS_ERR_INTERNAL, "no registry object for view '%s'", v->def->name);
  for (int64_t i = 0; i < ms_dataset_num_files(v->ds) && st == MS_OK; i++) {
    const char *path = ms_dataset_file_path(v->ds, i);
    ms_pq_file *pq = NULL;
    st = ms_pq_open(ms_fs_local(), path, &pq, err);
    if (st) break;
    const char *have = NULL;
    for (int k = 0; k < ms_pq_num_kv(pq); k++)
      if (strcmp(ms_pq_kv_key(pq, k), "morsel.definition_hash") == 0) have = ms_pq_kv_value(pq, k);
    if (!have || strcmp(have, want) != 0) {
      ms_error_set_file(err, path);
      st = ms_error_set(err, MS_ERR_INVALID,
                        "snapshot %s of aggregation view '%s' was computed from an older definition (%.16s, the "
                        "current one is %.16s); run morsel compute %s",
                        path, v->def->name, have ? have : "no hash", want, v->def->name);
    }
    ms_pq_close(pq);
  }
  return st;
}

ms_status ofs_agg_asof_bind(ms_retrieval_job *job, ofs_view *v, ms_error *err) {
  (void)job;
  v->typed = ms_calloc((size_t)v->n_feat + 1, sizeof *v->typed);
  v->feat_phys = ms_calloc((size_t)v->n_feat + 1, sizeof *v->feat_phys);
  v->key_phys = ms_calloc((size_t)v->n_keys + 1, sizeof *v->key_phys);
  v->key_at = ms_calloc((size_t)v->n_keys + 1, sizeof *v->key_at);
  v->feat_at = ms_calloc((size_t)v->n_feat + 1, sizeof *v->feat_at);
  if (!v->typed || !v->feat_phys || !v->key_phys || !v->key_at || !v->feat_at) return oom(err);
  for (int k = 0; k < v->n_keys; k++)
    if (!(v->key_phys[k] = ms_strdup(v->key_name[k]))) return oom(err);
  for (int f = 0; f < v->n_feat; f++) {
    const char *dtype = NULL;
    for (int i = 0; i < v->def->n_schema; i++)
      if (strcmp(v->def->schema[i].name, v->feat_name[f]) == 0) dtype = v->def->schema[i].dtype;
    ms_datatype t;
    if (!ofs_dtype_type(dtype, &t))
      return ms_error_set(err, MS_ERR_INVALID, "aggregation view '%s': feature '%s' has no known dtype", v->def->name,
                          v->feat_name[f]);
    if (!(v->feat_phys[f] = ms_strdup(v->feat_name[f])) || !(v->typed[f].name = ms_strdup(v->feat_name[f])))
      return oom(err);
    v->typed[f].type = t;
    v->typed[f].nullable = true;
    v->n_typed = f + 1;
    v->feat_at[f] = f;
  }
  if (!(v->ts_phys = ms_strdup("as_of")) || !(v->ts_name = ms_strdup("as_of"))) return oom(err);
  v->rows_total = -1;
  v->strategy = "as of each entity row (compute engine, no join)";
  return MS_OK;
}

ms_status ofs_agg_asof_run(ms_retrieval_job *job, ofs_view *v, ms_column **out_cols, ms_error *err) {
  double t0 = ofs_now_ms();
  if (!v->stage_join && !(v->stage_join = ms_asprintf("compute %s", v->label))) return oom(err);
  ofs_progress(job, v->stage_join, 0, job->entity_rows);
  ms_column **keys = ms_calloc((size_t)v->n_keys + 1, sizeof *keys);
  if (!keys) return oom(err);
  ms_status st = MS_OK;
  for (int k = 0; k < v->n_keys && st == MS_OK; k++) {
    int c = ms_table_find_column(job->entity, v->entity_col[k]);
    if (c < 0) st = ms_error_set(err, MS_ERR_INTERNAL, "entity column '%s' vanished", v->entity_col[k]);
    else keys[k] = ms_table_column(job->entity, c);
  }
  ms_table *t = NULL;
  if (st == MS_OK)
    st = ms_compute_asof(job->repo, v->def, keys, job->entity_ts_ns, job->entity_ts_ok, job->entity_rows,
                         (const char *const *)v->feat_name, v->n_feat, ofs_job_threads(job), &t, err);
  if (st == MS_OK && (ms_table_num_columns(t) != v->n_feat || ms_table_num_rows(t) != job->entity_rows))
    st = ms_error_set(err, MS_ERR_INTERNAL, "aggregation view '%s': as-of result has %d columns and %lld rows",
                      v->def->name, ms_table_num_columns(t), (long long)ms_table_num_rows(t));
  for (int f = 0; f < v->n_feat && st == MS_OK; f++) out_cols[f] = ms_column_retain(ms_table_column(t, f));
  int64_t matched = 0;
  for (int64_t i = 0; st == MS_OK && v->n_feat > 0 && i < job->entity_rows; i++)
    matched += !ms_column_is_null(out_cols[0], i);
  v->rows_matched = matched;
  ms_table_release(t);
  ms_free(keys);
  v->ms_join = ofs_now_ms() - t0;
  ofs_progress(job, v->stage_join, job->entity_rows, job->entity_rows);
  return st;
}
