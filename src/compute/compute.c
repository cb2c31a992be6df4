/* The compute engine's public API (include/morsel/compute.h): cutoff schedules, snapshots
 * of an aggregation view at cutoffs (one parallel task per cutoff, one Parquet file each),
 * the same as one table, and features as of arbitrary (keys, T) rows.
 *
 * Both modes open the view the same way (cmp_view.c: source read once, rows ordered) and
 * run the same kernel (cmp_kernel.c) on batches of (key, T) items, which is why their
 * numbers agree bit for bit. A snapshot at T holds the population at T; as-of rows outside
 * it get nulls.
 *
 * Snapshot files: <storage_path>/aggregations/<view>/cutoff=<YYYYMMDDTHHMMSS[fffffffff]>
 * .m<16 hex>.parquet, a managed dataset (include/morsel/store.h, registry dataset
 * "aggregations:<view>"). Each file is written by the Parquet writer under a temporary
 * name, fsynced and renamed to its token name, which no reader sees until the commit; then
 * ONE commit lists the new files and removes the live files they replace: the same cutoffs
 * computed before, and files of other cutoffs whose footer hash (`morsel.definition_hash`)
 * is not the current one (computed from an older definition; retrieval would refuse them).
 * Snapshots of other cutoffs with the current hash are kept. So a reader sees the whole old
 * set or the whole new one, and files it listed before the commit stay readable until
 * ms_store_gc (run at the end) deletes them after the retention. Snapshot files written
 * before issue 6 (`cutoff=....parquet`, no token, no manifest) are read as before; a run
 * deletes those it replaces (same cutoff or stale hash) right after its commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute/cmp_view.h"
#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "morsel/compute.h"
#include "morsel/expr.h"
#include "morsel/fs.h"
#include "morsel/parquet.h"
#include "morsel/store.h"
#include "offline/ofs_internal.h"

#define ASOF_CHUNK INT64_C(65536)
#define MAX_CUTOFFS 1000000

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

void ms_compute_result_reset(ms_compute_result *r) {
  if (!r) return;
  for (int i = 0; r->paths && i < r->n_cutoffs; i++) ms_free(r->paths[i]);
  ms_free(r->paths);
  ms_free(r->cutoff_ns);
  ms_free(r->rows);
  memset(r, 0, sizeof *r);
}

char *ms_compute_snapshot_dir(const ms_repo *repo, const char *view) {
  return ms_asprintf("%s/aggregations/%s", ms_repo_get_config(repo)->storage_path, view);
}

static const ms_feature_view_def *agg_view(ms_repo *repo, const char *name, ms_error *err) {
  const ms_feature_view_def *fv = ms_repo_find_feature_view(repo, name);
  if (!fv) {
    ms_error_set(err, MS_ERR_NOT_FOUND, "unknown feature view '%s'", name);
    return NULL;
  }
  if (fv->agg.n_aggregations <= 0) {
    ms_error_set(err, MS_ERR_INVALID, "feature view '%s' is not an aggregation view (it has no aggregations)", name);
    return NULL;
  }
  return fv;
}

static int threads_of(ms_repo *repo, int threads) {
  return threads > 0 ? threads : ms_repo_get_config(repo)->threads;
}

/* ---- cutoffs ---- */

static bool mentions_events(const char *text) {
  if (!text) return false;
  char **refs = NULL;
  int n = 0;
  if (ms_expr_references(text, &refs, &n, NULL) != MS_OK) return false;
  bool m = false;
  for (int i = 0; i < n; i++)
    if (strcmp(refs[i], "first_event") == 0 || strcmp(refs[i], "last_event") == 0) m = true;
  ms_expr_names_free(refs, n);
  return m;
}

/* A start/end text: a timestamp ('2011-03-01 08:26:00', quoted or not, ISO with T/Z) or an
 * expression over first_event / last_event. */
static ms_status resolve_time(const char *view, const char *what, const char *text, bool have_events,
                              int64_t first, int64_t last, int64_t *out, ms_error *err) {
  size_t len = strlen(text);
  const char *p = text;
  if (len >= 2 && text[0] == '\'' && text[len - 1] == '\'') {
    p = text + 1;
    len -= 2;
  }
  if (ms_parse_timestamp_ns(p, len, out, NULL)) return MS_OK;
  ms_field f[2];
  f[0].name = "first_event";
  f[1].name = "last_event";
  f[0].type = f[1].type = ms_type_timestamp(MS_UNIT_NANO, "");
  f[0].nullable = f[1].nullable = true;
  ms_expr *e = NULL;
  ms_status st = ms_expr_compile(text, f, 2, &e, err);
  if (st == MS_OK && ms_expr_type(e)->id != MS_TYPE_TIMESTAMP) {
    char tb[96];
    st = ms_error_set(err, MS_ERR_TYPE, "is %s, not a timestamp", ms_type_to_string(ms_expr_type(e), tb, sizeof tb));
  }
  ms_column *cols[2] = {NULL, NULL}, *res = NULL;
  if (st == MS_OK) {
    if (!have_events) {
      st = ms_error_set(err, MS_ERR_INVALID, "the view has no event rows, so first_event/last_event are undefined");
    } else {
      int64_t v[2] = {first, last};
      for (int i = 0; i < 2 && st == MS_OK; i++) {
        ms_column_builder *b = NULL;
        st = ms_column_builder_create(&f[i].type, 1, &b, err);
        if (st == MS_OK) st = ms_builder_append_i64(b, v[i]);
        if (st == MS_OK) st = ms_builder_finish(b, &cols[i], err);
        ms_column_builder_destroy(b);
      }
    }
  }
  if (st == MS_OK) st = ms_expr_eval(e, cols, 1, &res, err);
  if (st == MS_OK) {
    if (ms_column_is_null(res, 0)) st = ms_error_set(err, MS_ERR_INVALID, "is null");
    else st = ofs_time_to_ns_into(res, what, out, NULL, err);
  }
  ms_column_release(cols[0]);
  ms_column_release(cols[1]);
  ms_column_release(res);
  ms_expr_free(e);
  if (st && err) {
    char m[1024];
    snprintf(m, sizeof m, "%s", err->message);
    ms_error_set(err, st, "view '%s': cutoff %s '%s': %s", view, what, text, m);
  }
  return st;
}

typedef struct sched {
  const char *start, *end;
  int64_t every_s;
} sched;

static ms_status schedule_of(const ms_feature_view_def *fv, const ms_cutoff_spec *spec, sched *s, ms_error *err) {
  const ms_aggregation_spec *ag = &fv->agg;
  s->start = spec && spec->start ? spec->start : ag->has_cutoffs ? ag->cutoff_start : NULL;
  s->end = spec && spec->end ? spec->end : ag->has_cutoffs ? ag->cutoff_end : NULL;
  s->every_s = spec && spec->every_seconds ? spec->every_seconds : ag->has_cutoffs ? ag->cutoff_every_seconds : 0;
  if (!s->start || !s->end || s->every_s == 0)
    return ms_error_set(err, MS_ERR_INVALID,
                        "view '%s' has no cutoff schedule: declare cutoffs: {start, every, end} or give "
                        "--start, --every and --end (missing: %s%s%s)",
                        fv->name, !s->start ? "start " : "", !s->every_s ? "every " : "", !s->end ? "end" : "");
  if (s->every_s < 0)
    return ms_error_set(err, MS_ERR_INVALID, "view '%s': cutoff every must be > 0", fv->name);
  return MS_OK;
}

static ms_status make_cutoffs(const ms_feature_view_def *fv, const sched *s, const cmp_store *store,
                              int64_t **out_ns, int *out_n, ms_error *err) {
  *out_ns = NULL;
  *out_n = 0;
  bool have = store && store->n > 0;
  int64_t first = have ? store->min_ts : 0, last = have ? store->max_ts : 0;
  int64_t a, b;
  ms_status st = resolve_time(fv->name, "start", s->start, have, first, last, &a, err);
  if (st == MS_OK) st = resolve_time(fv->name, "end", s->end, have, first, last, &b, err);
  if (st) return st;
  int64_t step = s->every_s * INT64_C(1000000000);
  int cap = 16, n = 0;
  int64_t *v = ms_malloc((size_t)cap * sizeof *v);
  if (!v) return oom(err);
  for (int64_t t = a; t <= b;) {
    if (n == MAX_CUTOFFS) {
      ms_free(v);
      return ms_error_set(err, MS_ERR_LIMIT, "view '%s': more than %d cutoffs", fv->name, MAX_CUTOFFS);
    }
    if (n == cap) {
      cap *= 2;
      int64_t *nv = ms_realloc(v, (size_t)cap * sizeof *nv);
      if (!nv) {
        ms_free(v);
        return oom(err);
      }
      v = nv;
    }
    v[n++] = t;
    if (__builtin_add_overflow(t, step, &t)) break;
  }
  *out_ns = v;
  *out_n = n;
  return MS_OK;
}

ms_status ms_compute_cutoffs(ms_repo *repo, const char *view, const ms_cutoff_spec *spec,
                             int64_t **out_ns, int *out_n, ms_error *err) {
  *out_ns = NULL;
  *out_n = 0;
  const ms_feature_view_def *fv = agg_view(repo, view, err);
  if (!fv) return err ? err->status : MS_ERR_INVALID;
  sched s;
  ms_status st = schedule_of(fv, spec, &s, err);
  if (st) return st;
  cmp_view *cv = NULL;
  ms_pool *pool = NULL;
  if (mentions_events(s.start) || mentions_events(s.end)) {
    st = ms_pool_create(threads_of(repo, 0), &pool, err);
    if (st == MS_OK) st = cmp_view_open(repo, fv, pool, NULL, &cv, err);
  }
  if (st == MS_OK) st = make_cutoffs(fv, &s, cv ? cv->store : NULL, out_ns, out_n, err);
  cmp_view_free(cv);
  ms_pool_destroy(pool);
  return st;
}

/* ---- one cutoff ---- */

/* The snapshot table at T: join keys, features (schema order), event_timestamp. */
static ms_status cutoff_table(const cmp_view *v, int64_t t, ms_table **out, ms_error *err) {
  *out = NULL;
  int64_t *keys = NULL, m = 0;
  ms_status st = cmp_population(v->store, t, &keys, &m, err);
  if (st) return st;
  int nk = v->n_keys, nf = v->def->n_schema, nc = nk + nf + 1;
  ms_column **cols = ms_calloc((size_t)nc, sizeof *cols);
  ms_field *fields = ms_calloc((size_t)nc, sizeof *fields);
  int *feat = ms_calloc((size_t)(nf ? nf : 1), sizeof *feat);
  int64_t *tt = ms_malloc((size_t)(m ? m : 1) * sizeof *tt);
  if (!cols || !fields || !feat || !tt) st = oom(err);
  for (int64_t i = 0; st == MS_OK && i < m; i++) tt[i] = t;
  for (int f = 0; f < nf; f++) feat[f] = f;
  if (st == MS_OK) st = cmp_view_keys(v, keys, m, cols, err);
  if (st == MS_OK) {
    cmp_batch b = {m, keys, tt, NULL};
    st = cmp_view_features(v, &b, feat, nf, cols + nk, err);
  }
  if (st == MS_OK) {
    ms_datatype et = ms_type_timestamp(MS_UNIT_NANO, v->ts_aware ? "UTC" : "");
    ms_column_builder *b = NULL;
    st = ms_column_builder_create(&et, m, &b, err);
    for (int64_t i = 0; st == MS_OK && i < m; i++) st = ms_builder_append_i64(b, t);
    if (st == MS_OK) st = ms_builder_finish(b, &cols[nc - 1], err);
    ms_column_builder_destroy(b);
  }
  if (st == MS_OK) {
    for (int c = 0; c < nc; c++) {
      fields[c].name = c < nk ? v->key_names[c] : c < nk + nf ? v->def->schema[c - nk].name : "event_timestamp";
      fields[c].type = *ms_column_type(cols[c]);
      fields[c].nullable = true;
    }
    st = ms_table_create(fields, cols, nc, out, err);
  }
  for (int c = 0; cols && c < nc; c++) ms_column_release(cols[c]);
  ms_free(cols);
  ms_free(fields);
  ms_free(feat);
  ms_free(tt);
  ms_free(keys);
  return st;
}

/* The snapshot stem "cutoff=20110301T082600[fffffffff]" (fraction digits only when
 * non-zero); the file is <stem>.m<16 hex>.parquet. */
static void cutoff_stem(int64_t ns, char *buf, size_t size) {
  int64_t sec = ns / 1000000000, frac = ns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    sec--;
  }
  int64_t days = sec / 86400, rem = sec % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  int64_t y;
  int mo, d;
  ms_civil_from_days(days, &y, &mo, &d);
  int n = snprintf(buf, size, "cutoff=%04lld%02d%02dT%02d%02d%02d", (long long)y, mo, d, (int)(rem / 3600),
                   (int)(rem / 60 % 60), (int)(rem % 60));
  if (frac) snprintf(buf + n, size - (size_t)n, "%09lld", (long long)frac);
}

typedef struct run_ctx {
  const cmp_view *v;
  const int64_t *cutoffs;
  ms_table **tables;
  char **paths;
  const char *dir;
} run_ctx;

static ms_status compute_task(void *ctx, int64_t task, int worker, ms_error *err) {
  run_ctx *c = ctx;
  return cutoff_table(c->v, c->cutoffs[task], &c->tables[task], err);
}

static ms_status write_task(void *ctx, int64_t task, int worker, ms_error *err) {
  run_ctx *c = ctx;
  ms_pq_write_options o;
  ms_pq_write_options_init(&o);
  const char *k[] = {"morsel.definition_hash", "morsel.view"};
  const char *val[] = {c->v->def_hash, c->v->def->name};
  o.kv_keys = k;
  o.kv_values = val;
  o.n_kv = 2;
  return ms_pq_write_table(ms_fs_local(), c->paths[task], c->tables[task], &o, err);
}

static ms_status compute_tables(const cmp_view *v, const int64_t *cutoffs, int n, ms_pool *pool, ms_table **tables,
                                ms_error *err) {
  run_ctx c = {v, cutoffs, tables, NULL, NULL};
  return ms_pool_run(pool, n, compute_task, &c, err);
}

/* The stem of a snapshot file name: the base name before its `.m<16 hex>.` token, or
 * before ".parquet" for a pre-issue-6 file; false when it is not a snapshot file. */
static bool snapshot_stem(const char *base, char *stem, size_t size) {
  size_t bl = strlen(base);
  if (strncmp(base, "cutoff=", 7) != 0 || bl < 8 || strcmp(base + bl - 8, ".parquet") != 0) return false;
  size_t n = bl - 8;
  if (ms_store_is_token_name(base) && n > 18 && base[n - 18] == '.' && base[n - 17] == 'm') n -= 18;
  if (n >= size) return false;
  memcpy(stem, base, n);
  stem[n] = '\0';
  return true;
}

/* True when the Parquet file's footer holds another definition hash than `hash` (or none,
 * or cannot be read). */
static bool stale_hash(const char *path, const char *hash) {
  ms_pq_file *f = NULL;
  bool stale = true;
  if (ms_pq_open(ms_fs_local(), path, &f, NULL) == MS_OK) {
    for (int k = 0; k < ms_pq_num_kv(f); k++)
      if (strcmp(ms_pq_kv_key(f, k), "morsel.definition_hash") == 0 && ms_pq_kv_value(f, k) &&
          strcmp(ms_pq_kv_value(f, k), hash) == 0)
        stale = false;
    ms_pq_close(f);
  }
  return stale;
}

static bool stem_written(const char *stem, char *const *stems, int n) {
  for (int i = 0; i < n; i++)
    if (strcmp(stems[i], stem) == 0) return true;
  return false;
}

static bool is_added(const char *rel, const ms_store_file *adds, int n) {
  for (int i = 0; i < n; i++)
    if (strcmp(adds[i].path, rel) == 0) return true;
  return false;
}

/* The live token files the run's commit must remove. First pass (cleanup false): files of
 * the cutoffs written now, and files of other cutoffs with another definition hash. Cleanup
 * pass: files of our cutoffs that are not ours while ours for that cutoff is still live
 * (a concurrent run's, see commit_snapshots). rm points into m. */
static ms_status replaced_files(const char *root, const ms_manifest *m, const char *hash, const ms_store_file *adds,
                                int n, char *const *stems, bool cleanup, const char **rm, int *out_nrm,
                                int64_t *out_rows, ms_error *err) {
  int nrm = 0;
  int64_t rows = 0;
  for (int i = 0; i < m->n_files; i++) {
    const char *rel = m->files[i].path;
    if (is_added(rel, adds, n)) continue;
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    char stem[256];
    bool replaced = false;
    if (snapshot_stem(base, stem, sizeof stem)) {
      for (int k = 0; k < n && !replaced; k++) {
        if (strcmp(stems[k], stem) != 0) continue;
        bool ours_live = false;
        for (int j = 0; cleanup && j < m->n_files && !ours_live; j++) ours_live = strcmp(m->files[j].path, adds[k].path) == 0;
        replaced = !cleanup || ours_live;
      }
    }
    if (!replaced && !cleanup) {
      char *full = ms_asprintf("%s/%s", root, rel);
      if (!full) return oom(err);
      replaced = stale_hash(full, hash);
      ms_free(full);
    }
    if (replaced) {
      rm[nrm++] = rel;
      rows += m->files[i].rows;
    }
  }
  *out_nrm = nrm;
  *out_rows = rows;
  return MS_OK;
}

/* One commit of the new snapshot files (adds) into the store, removing the live token files
 * they replace. A concurrent compute of the same view that committed between our manifest
 * read and our commit makes the commit fail with MS_ERR_CONFLICT (a file we meant to remove
 * is gone); the replaced set is then recomputed from the new manifest and the commit tried
 * again (our files are already written; the last commit wins per cutoff). When the other
 * run removed nothing we meant to remove (both were first runs), both commits land: a
 * cleanup commit then removes the other run's files of the cutoffs where ours are live, so
 * one file per cutoff is live again (a reader may see both in between; their cells are
 * equal when the definitions are). *out_gen = the last commit's generation (0: none). */
static ms_status commit_snapshots(ms_store *s, const char *hash, ms_store_file *adds, int n, char *const *stems,
                                  int64_t *out_gen, ms_error *err) {
  const char *root = ms_store_root(s);
  *out_gen = 0;
  for (int pass = 0; pass < 2; pass++) {
    bool cleanup = pass == 1;
    for (int attempt = 0;; attempt++) {
      ms_manifest m = {0};
      ms_status st = ms_manifest_read(root, &m, err);
      if (st) return st;
      const char **rm = ms_calloc((size_t)(m.n_files ? m.n_files : 1), sizeof *rm);
      int nrm = 0;
      int64_t rows_removed = 0, rows_added = 0;
      st = rm ? replaced_files(root, &m, hash, adds, n, stems, cleanup, rm, &nrm, &rows_removed, err) : oom(err);
      for (int i = 0; !cleanup && i < n; i++) rows_added += adds[i].rows;
      if (st == MS_OK && ((!cleanup && n > 0) || nrm > 0)) {
        ms_store_commit c = {0};
        c.kind = "compute";
        c.adds = cleanup ? NULL : adds;
        c.n_adds = cleanup ? 0 : n;
        c.removes = rm;
        c.n_removes = nrm;
        c.rows_added = rows_added;
        c.rows_removed = rows_removed;
        int64_t gen = 0;
        st = ms_store_commit_files(s, &c, &gen, err);
        if (st == MS_OK) *out_gen = gen;
      }
      ms_free(rm);
      ms_manifest_reset(&m);
      if (st == MS_ERR_CONFLICT && attempt < 8) {
        if (err) ms_error_init(err);
        continue;
      }
      /* a failed cleanup leaves a duplicate cutoff, not a broken commit: the next run fixes it */
      if (st != MS_OK && cleanup) return MS_OK;
      if (st != MS_OK) return st;
      break;
    }
  }
  return MS_OK;
}

/* Pre-issue-6 snapshot files (no token, so live whatever the manifest says) that this run
 * replaced: the same cutoff, or another definition's hash. Deleted after the commit, so a
 * reader never finds neither the old file nor the new one. */
static void remove_legacy(const char *dir, const char *hash, char *const *stems, int n) {
  ms_file_info *files = NULL;
  int64_t nf = 0;
  if (ms_fs_list(ms_fs_local(), dir, &files, &nf, NULL) != MS_OK) return;
  for (int64_t i = 0; i < nf; i++) {
    const char *p = files[i].path;
    const char *base = strrchr(p, '/');
    base = base ? base + 1 : p;
    char stem[256];
    if (files[i].is_dir || ms_store_is_token_name(base) || !snapshot_stem(base, stem, sizeof stem)) continue;
    if (stem_written(stem, stems, n) || stale_hash(p, hash)) (void)ms_fs_remove(ms_fs_local(), p, NULL);
  }
  ms_file_infos_free(files, nf);
}

/* `dataset` ("aggregations:<view>") must outlive the store. */
static ms_status open_snapshot_store(ms_repo *repo, const char *dataset, const char *dir, ms_registry *reg,
                                     ms_store **out, ms_error *err) {
  const ms_repo_config *cfg = ms_repo_get_config(repo);
  ms_store_options so;
  ms_store_options_init(&so);
  so.registry = reg;
  so.project = cfg->project;
  so.dataset = dataset;
  so.retention_seconds = cfg->file_retention_seconds;
  return ms_store_open(dir, &so, out, err);
}

/* Computes and writes one bound view (cutoffs from its store): the snapshot tables, their
 * token files, one commit, then garbage collection. */
static ms_status compute_bound(ms_repo *repo, cmp_view *cv, const sched *s, ms_pool *pool, const cmp_view_options *vo,
                               ms_registry *reg, ms_compute_result *out, ms_error *err) {
  const char *view = cv->def->name;
  int64_t *cut = NULL;
  int n = 0;
  ms_status st = make_cutoffs(cv->def, s, cv->store, &cut, &n, err);
  char *dir = ms_compute_snapshot_dir(repo, view);
  char *dataset = ms_asprintf("aggregations:%s", view);
  ms_table **tables = ms_calloc((size_t)(n ? n : 1), sizeof *tables);
  char **paths = ms_calloc((size_t)(n ? n : 1), sizeof *paths);
  char **stems = ms_calloc((size_t)(n ? n : 1), sizeof *stems);
  ms_store_file *adds = ms_calloc((size_t)(n ? n : 1), sizeof *adds);
  if (st == MS_OK && (!dir || !dataset || !tables || !paths || !stems || !adds)) st = oom(err);
  char stage_c[300], stage_w[300];
  snprintf(stage_c, sizeof stage_c, "compute %s", view);
  snprintf(stage_w, sizeof stage_w, "write %s", view);
  double t0 = cmp_now_ms();
  if (st == MS_OK) {
    if (vo->progress) vo->progress(vo->progress_ctx, stage_c, 0, n);
    st = compute_tables(cv, cut, n, pool, tables, err);
    if (vo->progress) vo->progress(vo->progress_ctx, stage_c, n, n);
  }
  double t1 = cmp_now_ms();
  ms_store *store = NULL;
  if (st == MS_OK) st = open_snapshot_store(repo, dataset, dir, reg, &store, err);
  /* names first, on this thread (the store hands out unique token names) */
  for (int i = 0; st == MS_OK && i < n; i++) {
    char stem[96];
    cutoff_stem(cut[i], stem, sizeof stem);
    stems[i] = ms_strdup(stem);
    if (!stems[i]) st = oom(err);
    if (st == MS_OK) st = ms_store_new_path(store, "", stem, "parquet", &adds[i].path, err);
    if (st == MS_OK && !(paths[i] = ms_asprintf("%s/%s", ms_store_root(store), adds[i].path))) st = oom(err);
  }
  bool written = false;
  if (st == MS_OK) {
    if (vo->progress) vo->progress(vo->progress_ctx, stage_w, 0, n);
    run_ctx c = {cv, cut, tables, paths, dir};
    st = ms_pool_run(pool, n, write_task, &c, err);
    written = true;
    if (vo->progress) vo->progress(vo->progress_ctx, stage_w, n, n);
  }
  for (int i = 0; st == MS_OK && i < n; i++) {
    ms_file_info fi = {0};
    st = ms_fs_stat(ms_fs_local(), paths[i], &fi, err);
    adds[i].rows = ms_table_num_rows(tables[i]);
    adds[i].bytes = fi.size;
    ms_free(fi.path);
  }
  int64_t gen = 0;
  if (st == MS_OK) st = commit_snapshots(store, cv->def_hash, adds, n, stems, &gen, err);
  if (st != MS_OK && written) { /* uncommitted files: nobody can see them, remove them now */
    ms_manifest m = {0};
    bool have = ms_manifest_read(dir, &m, NULL) == MS_OK;
    for (int i = 0; have && i < n; i++) /* a commit that failed after its rename listed them */
      if (paths[i] && !is_added(adds[i].path, m.files, m.n_files)) (void)ms_fs_remove(ms_fs_local(), paths[i], NULL);
    ms_manifest_reset(&m);
  }
  if (st == MS_OK) {
    remove_legacy(dir, cv->def_hash, stems, n);
    /* the commit is done: a failed collection only delays the deletion to the next run */
    (void)ms_store_gc(store, NULL, NULL);
  }
  ms_store_close(store);
  double t2 = cmp_now_ms();
  if (st == MS_OK) {
    out->rows = ms_calloc((size_t)(n ? n : 1), sizeof *out->rows);
    if (!out->rows) st = oom(err);
  }
  if (st == MS_OK) {
    out->n_cutoffs = n;
    out->cutoff_ns = cut;
    cut = NULL;
    out->paths = paths;
    paths = NULL;
    out->generation = gen;
    for (int i = 0; i < n; i++) out->rows[i] = ms_table_num_rows(tables[i]);
    out->source_rows = cv->source_rows;
    out->rows_kept = cv->rows_kept;
    out->ms_compute = t1 - t0;
    out->ms_write = t2 - t1;
  }
  for (int i = 0; tables && i < n; i++) ms_table_release(tables[i]);
  for (int i = 0; paths && i < n; i++) ms_free(paths[i]);
  for (int i = 0; stems && i < n; i++) ms_free(stems[i]);
  for (int i = 0; adds && i < n; i++) ms_free(adds[i].path);
  ms_free(adds);
  ms_free(stems);
  ms_free(paths);
  ms_free(tables);
  ms_free(cut);
  ms_free(dir);
  ms_free(dataset);
  return st;
}

ms_status ms_compute_views(ms_repo *repo, const char *const *views, int n_views, const ms_cutoff_spec *spec,
                           const ms_compute_options *opts, ms_compute_result *out, ms_error *err) {
  for (int i = 0; i < n_views; i++) memset(&out[i], 0, sizeof out[i]);
  const ms_feature_view_def **fv = ms_calloc((size_t)(n_views ? n_views : 1), sizeof *fv);
  sched *sc = ms_calloc((size_t)(n_views ? n_views : 1), sizeof *sc);
  bool *done = ms_calloc((size_t)(n_views ? n_views : 1), sizeof *done);
  const ms_feature_view_def **group = ms_calloc((size_t)(n_views ? n_views : 1), sizeof *group);
  int *gidx = ms_calloc((size_t)(n_views ? n_views : 1), sizeof *gidx);
  ms_status st = fv && sc && done && group && gidx ? MS_OK : oom(err);
  /* every view and schedule is checked before any work */
  for (int i = 0; st == MS_OK && i < n_views; i++) {
    fv[i] = agg_view(repo, views[i], err);
    if (!fv[i]) st = err && err->status ? err->status : MS_ERR_INVALID;
    else st = schedule_of(fv[i], spec, &sc[i], err);
  }
  ms_pool *pool = NULL;
  cmp_view_options vo = {opts ? opts->progress : NULL, opts ? opts->progress_ctx : NULL};
  if (st == MS_OK) st = ms_pool_create(threads_of(repo, opts ? opts->threads : 0), &pool, err);
  /* views over the same source share one read */
  for (int i = 0; st == MS_OK && i < n_views; i++) {
    if (done[i]) continue;
    int ng = 0;
    for (int j = i; j < n_views; j++)
      if (!done[j] && strcmp(fv[j]->source, fv[i]->source) == 0) {
        done[j] = true;
        group[ng] = fv[j];
        gidx[ng++] = j;
      }
    cmp_source_data sd;
    st = cmp_source_load(repo, group, ng, pool, &vo, &sd, err);
    cmp_view *first = NULL; /* kept until the group is done: later views borrow its row order */
    for (int g = 0; st == MS_OK && g < ng; g++) {
      cmp_view *cv = NULL;
      double t0 = cmp_now_ms();
      st = cmp_view_bind(repo, group[g], &sd, first, pool, &vo, &cv, err);
      double bind_ms = cmp_now_ms() - t0;
      if (st == MS_OK) st = compute_bound(repo, cv, &sc[gidx[g]], pool, &vo, opts ? opts->registry : NULL, &out[gidx[g]], err);
      /* the shared read is counted once, with the group's first view */
      if (st == MS_OK) out[gidx[g]].ms_read = bind_ms + (g == 0 ? sd.ms_read + sd.ms_prepare : 0);
      if (g == 0) first = cv;
      else cmp_view_free(cv);
    }
    cmp_view_free(first);
    cmp_source_data_reset(&sd);
  }
  if (st)
    for (int i = 0; i < n_views; i++) ms_compute_result_reset(&out[i]);
  ms_pool_destroy(pool);
  ms_free(fv);
  ms_free(sc);
  ms_free(done);
  ms_free(group);
  ms_free(gidx);
  return st;
}

ms_status ms_compute_view(ms_repo *repo, const char *view, const ms_cutoff_spec *spec,
                          const ms_compute_options *opts, ms_compute_result *out, ms_error *err) {
  return ms_compute_views(repo, &view, 1, spec, opts, out, err);
}

ms_status ms_compute_view_table(ms_repo *repo, const char *view, const int64_t *cutoff_ns,
                                int n_cutoffs, int threads, ms_table **out, ms_error *err) {
  *out = NULL;
  const ms_feature_view_def *fv = agg_view(repo, view, err);
  if (!fv) return err ? err->status : MS_ERR_INVALID;
  ms_pool *pool = NULL;
  cmp_view *cv = NULL;
  ms_status st = ms_pool_create(threads_of(repo, threads), &pool, err);
  if (st == MS_OK) st = cmp_view_open(repo, fv, pool, NULL, &cv, err);
  int n = n_cutoffs;
  ms_table **tables = ms_calloc((size_t)(n ? n : 1), sizeof *tables);
  if (st == MS_OK && !tables) st = oom(err);
  if (st == MS_OK && n == 0) {
    /* the empty table with the right schema: a cutoff before every row */
    int64_t t0 = INT64_MIN;
    st = cutoff_table(cv, t0, out, err);
  } else if (st == MS_OK) {
    st = compute_tables(cv, cutoff_ns, n, pool, tables, err);
    if (st == MS_OK) st = ms_table_concat(tables, n, out, err);
  }
  for (int i = 0; tables && i < n; i++) ms_table_release(tables[i]);
  ms_free(tables);
  cmp_view_free(cv);
  ms_pool_destroy(pool);
  return st;
}

/* ---- as of ---- */

typedef struct asof_ctx {
  const cmp_view *v;
  ms_column *const *qkeys;
  const int64_t *ts;
  const uint8_t *ts_ok;
  int64_t n;
  const int *feat;
  int n_feat;
  ms_column **parts; /* [tasks * n_feat] */
} asof_ctx;

static ms_status asof_task(void *ctx, int64_t task, int worker, ms_error *err) {
  asof_ctx *c = ctx;
  int64_t off = task * ASOF_CHUNK, m = c->n - off < ASOF_CHUNK ? c->n - off : ASOF_CHUNK;
  int64_t *kid = ms_malloc((size_t)(m ? m : 1) * sizeof *kid);
  uint8_t *act = ms_malloc((size_t)(m ? m : 1));
  ms_status st = MS_OK;
  if (!kid || !act) st = oom(err);
  for (int64_t i = 0; st == MS_OK && i < m; i++) {
    int64_t q = off + i;
    bool ok = !c->ts_ok || c->ts_ok[q];
    kid[i] = ok ? cmp_enc_lookup(c->v->store->keys, c->qkeys, q) : -1;
    act[i] = kid[i] >= 0 && cmp_in_population(c->v->store, kid[i], c->ts[q]);
  }
  if (st == MS_OK) {
    cmp_batch b = {m, kid, c->ts + off, act};
    st = cmp_view_features(c->v, &b, c->feat, c->n_feat, c->parts + task * c->n_feat, err);
  }
  ms_free(kid);
  ms_free(act);
  return st;
}

ms_status ms_compute_asof(ms_repo *repo, const ms_feature_view_def *view,
                          ms_column *const *key_cols, const int64_t *ts_ns,
                          const uint8_t *ts_ok, int64_t n, const char *const *features,
                          int n_features, int threads, ms_table **out, ms_error *err) {
  *out = NULL;
  if (view->agg.n_aggregations <= 0)
    return ms_error_set(err, MS_ERR_INVALID, "feature view '%s' is not an aggregation view", view->name);
  int nf = features ? n_features : view->n_schema;
  int *feat = ms_calloc((size_t)(nf ? nf : 1), sizeof *feat);
  if (!feat) return oom(err);
  ms_status st = MS_OK;
  for (int f = 0; f < nf && st == MS_OK; f++) {
    feat[f] = f;
    if (features) {
      feat[f] = -1;
      for (int s = 0; s < view->n_schema; s++)
        if (strcmp(view->schema[s].name, features[f]) == 0) feat[f] = s;
      if (feat[f] < 0)
        st = ms_error_set(err, MS_ERR_NOT_FOUND, "feature view '%s' has no feature '%s'", view->name, features[f]);
    }
  }
  ms_pool *pool = NULL;
  cmp_view *cv = NULL;
  if (st == MS_OK) st = ms_pool_create(threads_of(repo, threads), &pool, err);
  if (st == MS_OK) st = cmp_view_open(repo, view, pool, NULL, &cv, err);
  if (st == MS_OK) st = cmp_enc_check_query(cv->store->keys, key_cols, (const char *const *)cv->key_names, err);
  int64_t tasks = n ? (n + ASOF_CHUNK - 1) / ASOF_CHUNK : 1;
  ms_column **parts = ms_calloc((size_t)(tasks * (nf ? nf : 1)), sizeof *parts);
  if (st == MS_OK && !parts) st = oom(err);
  if (st == MS_OK) {
    asof_ctx c = {cv, key_cols, ts_ns, ts_ok, n, feat, nf, parts};
    st = ms_pool_run(pool, tasks, asof_task, &c, err);
  }
  ms_column **cols = ms_calloc((size_t)(nf ? nf : 1), sizeof *cols);
  ms_field *fields = ms_calloc((size_t)(nf ? nf : 1), sizeof *fields);
  ms_column **one = ms_calloc((size_t)tasks, sizeof *one);
  if (st == MS_OK && (!cols || !fields || !one)) st = oom(err);
  for (int f = 0; st == MS_OK && f < nf; f++) {
    for (int64_t t = 0; t < tasks; t++) one[t] = parts[t * nf + f];
    st = ms_column_concat(one, (int)tasks, &cols[f], err);
    if (st == MS_OK) {
      fields[f].name = view->schema[feat[f]].name;
      fields[f].type = *ms_column_type(cols[f]);
      fields[f].nullable = true;
    }
  }
  if (st == MS_OK) st = ms_table_create(fields, cols, nf, out, err);
  for (int f = 0; cols && f < nf; f++) ms_column_release(cols[f]);
  for (int64_t i = 0; parts && i < tasks * nf; i++) ms_column_release(parts[i]);
  ms_free(parts);
  ms_free(cols);
  ms_free(fields);
  ms_free(one);
  ms_free(feat);
  cmp_view_free(cv);
  ms_pool_destroy(pool);
  return st;
}
