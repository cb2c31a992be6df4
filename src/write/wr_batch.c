/* offline_write_batch: appending a batch of rows to a feature view's source
 * (include/morsel/write.h; docs/writing.md).
 *
 * Steps. (1) The batch schema: the source's columns by logical name when it has data, else
 * the columns the view implies (join keys, timestamps, features, date partition column).
 * (2) The batch is conformed to it (wr_conform): every schema and row problem is found
 * here, before anything is written, so a refused batch leaves files and registry untouched.
 * (3) Columns are renamed to their physical names (field_mapping). (4) The write:
 *  - a directory source (plain or hive-partitioned) gets new token part files in the
 *    source's format through wr_write_parts, grouped by the hive partition columns its
 *    existing files have, or - for a source with no data yet - by its
 *    date_partition_column (`<column>=YYYY-MM-DD/` folders), a batch larger in memory than
 *    target_partition_size_mb cut into several files; then one manifest commit of the
 *    managed dataset "source:<name>" (ms_store_commit_files);
 *  - a single-file source is rewritten: under the file's lock (ms_store_single_begin) the
 *    old rows are read (with the batch schema as their types), the old rows then the new
 *    ones are written through the atomic writer over the file, and the transaction is
 *    finished (ms_store_single_finish); any failure aborts it and leaves the old file.
 * The source's format: the path's extension first, then file_format (as retrieval reads
 * it). Glob paths are refused (there is no one place to add files to). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columnar/column.h"
#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/fs.h"
#include "morsel/parquet.h"
#include "write/write_int.h"

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

void ms_write_options_init(ms_write_options *opts) {
  if (opts) memset(opts, 0, sizeof *opts);
}

void ms_write_result_reset(ms_write_result *r) {
  if (!r) return;
  ms_free(r->target);
  memset(r, 0, sizeof *r);
}

/* ---- the view, its source and the batch schema ---- */

typedef struct batch_ctx {
  const ms_feature_view_def *view;
  const ms_source_def *src;
  ms_file_format format;
  char what[512];
} batch_ctx;

static const char *logical_of(const ms_source_def *s, const char *phys) {
  for (int i = 0; i < s->n_field_mapping; i++)
    if (!strcmp(s->field_mapping[i].key, phys)) return s->field_mapping[i].value;
  return phys;
}

static const char *physical_of(const ms_source_def *s, const char *logical) {
  for (int i = 0; i < s->n_field_mapping; i++)
    if (!strcmp(s->field_mapping[i].value, logical)) return s->field_mapping[i].key;
  return logical;
}

static bool has_glob_magic(const char *p) { return strpbrk(p, "*?[") != NULL; }

static ms_status find_view(ms_repo *repo, const char *name, batch_ctx *c, ms_error *err) {
  memset(c, 0, sizeof *c);
  if (!name || !*name) return ms_error_set(err, MS_ERR_INVALID, "no feature view given");
  c->view = ms_repo_find_feature_view(repo, name);
  if (!c->view) {
    if (ms_repo_find_odfv(repo, name))
      return ms_error_set(err, MS_ERR_INVALID,
                          "'%s' is an on-demand feature view: it has no source of its own to "
                          "write to (write to the feature views it reads)", name);
    return ms_error_set(err, MS_ERR_NOT_FOUND, "unknown feature view '%s'", name);
  }
  if (c->view->agg.n_aggregations > 0)
    return ms_error_set(err, MS_ERR_INVALID,
                        "'%s' is an aggregation feature view: its rows are computed, not "
                        "written (write to its source '%s' through a plain feature view over it)",
                        name, c->view->source ? c->view->source : "?");
  c->src = c->view->source ? ms_repo_find_source(repo, c->view->source) : NULL;
  if (!c->src) return ms_error_set(err, MS_ERR_NOT_FOUND, "feature view '%s' has no source", name);
  if (has_glob_magic(c->src->path))
    return ms_error_set(err, MS_ERR_UNSUPPORTED,
                        "source '%s' is a glob pattern (%s): write-batch needs a file or a "
                        "directory", c->src->name, c->src->path);
  c->format = ms_format_from_path(c->src->path);
  if (c->format == MS_FORMAT_AUTO)
    c->format = c->src->file_format && !strcmp(c->src->file_format, "csv") ? MS_FORMAT_CSV
                                                                           : MS_FORMAT_PARQUET;
  snprintf(c->what, sizeof c->what, "batch for feature view '%s' (source '%s')", c->view->name,
           c->src->name);
  return MS_OK;
}

/* Opens the source as retrieval does; *out NULL (and MS_OK) when it has no data yet. */
static ms_status open_source(const batch_ctx *c, ms_dataset **out, ms_error *err) {
  *out = NULL;
  ms_dataset_options o;
  ms_dataset_options_init(&o);
  o.format = c->format;
  ms_error e;
  ms_error_init(&e);
  ms_status st = ms_dataset_open(NULL, c->src->path, &o, out, &e);
  if (st == MS_ERR_NOT_FOUND) return MS_OK; /* no file, or a directory without data files */
  if (st != MS_OK && err) *err = e;
  return st;
}

static bool dtype_type(const char *d, ms_datatype *out) {
  if (!d) return false;
  if (!strcmp(d, "timestamp")) *out = ms_type_timestamp(MS_UNIT_MICRO, "UTC");
  else if (!strcmp(d, "string")) *out = ms_type(MS_TYPE_UTF8);
  else if (!strcmp(d, "bytes")) *out = ms_type(MS_TYPE_BINARY);
  else if (!strcmp(d, "date")) *out = ms_type(MS_TYPE_DATE32);
  else return ms_type_parse(d, out);
  return true;
}

typedef struct flist {
  ms_field *v;
  int n, cap;
} flist;

static bool fl_add(flist *l, const char *name, ms_datatype t, bool nullable) {
  for (int i = 0; i < l->n; i++)
    if (!strcmp(l->v[i].name, name)) return true; /* first role wins */
  if (l->n == l->cap) {
    int cap = l->cap ? l->cap * 2 : 16;
    ms_field *nv = ms_realloc(l->v, (size_t)cap * sizeof *nv);
    if (!nv) return false;
    l->v = nv;
    l->cap = cap;
  }
  ms_field *f = &l->v[l->n];
  memset(f, 0, sizeof *f);
  if (!(f->name = ms_strdup(name))) return false;
  f->type = t;
  f->nullable = nullable;
  l->n++;
  return true;
}

/* The type a logical column's role declares: a join key (its entity's value_type, int64
 * when none), the timestamp or created column (timestamp[us, UTC]), a feature (its dtype). */
static bool declared_type(ms_repo *repo, const batch_ctx *c, const char *name, ms_datatype *out) {
  for (int e = 0; e < c->view->n_entities; e++)
    for (int k = 0; k < ms_repo_num_entities(repo); k++) {
      const ms_entity_def *ent = ms_repo_entity(repo, k);
      if (strcmp(ent->name, c->view->entities[e])) continue;
      for (int j = 0; j < ent->n_join_keys; j++)
        if (!strcmp(ent->join_keys[j], name)) {
          if (!ent->value_type || !dtype_type(ent->value_type, out)) *out = ms_type(MS_TYPE_INT64);
          return true;
        }
    }
  if ((c->src->timestamp_field && !strcmp(c->src->timestamp_field, name)) ||
      (c->src->created_timestamp_column && !strcmp(c->src->created_timestamp_column, name))) {
    *out = ms_type_timestamp(MS_UNIT_MICRO, "UTC");
    return true;
  }
  for (int i = 0; i < c->view->n_schema; i++)
    if (!strcmp(c->view->schema[i].name, name)) return dtype_type(c->view->schema[i].dtype, out);
  return false;
}

/* The schema with the dataset open (or NULL = no data); partition columns of the dataset
 * (physical names, in folder order) into *parts when asked. */
static ms_status batch_schema(ms_repo *repo, const batch_ctx *c, ms_dataset *ds, ms_field **out,
                              int *out_n, ms_error *err) {
  flist l = {0};
  bool ok = true;
  if (ds) {
    for (int i = 0; ok && i < ms_dataset_num_fields(ds); i++) {
      const ms_field *f = ms_dataset_field(ds, i);
      const char *name = logical_of(c->src, f->name);
      ms_datatype t = f->type, declared;
      /* CSV text has no types: a column inferred as text only because it held no value
       * (or only nulls so far) takes the type its role declares. */
      if (c->format == MS_FORMAT_CSV && t.id == MS_TYPE_UTF8 && !ms_dataset_field_is_partition(ds, i) &&
          declared_type(repo, c, name, &declared))
        t = declared;
      ok = fl_add(&l, name, t, true);
    }
  } else {
    ms_datatype ts = ms_type_timestamp(MS_UNIT_MICRO, "UTC");
    for (int e = 0; ok && e < c->view->n_entities; e++) {
      const ms_entity_def *ent = NULL;
      for (int k = 0; k < ms_repo_num_entities(repo); k++)
        if (!strcmp(ms_repo_entity(repo, k)->name, c->view->entities[e])) ent = ms_repo_entity(repo, k);
      if (!ent) continue;
      ms_datatype kt = ms_type(MS_TYPE_INT64); /* an entity without value_type: int64 */
      if (ent->value_type && !dtype_type(ent->value_type, &kt)) kt = ms_type(MS_TYPE_INT64);
      for (int k = 0; ok && k < ent->n_join_keys; k++) ok = fl_add(&l, ent->join_keys[k], kt, false);
    }
    if (ok && c->src->timestamp_field) ok = fl_add(&l, c->src->timestamp_field, ts, false);
    if (ok && c->src->created_timestamp_column) ok = fl_add(&l, c->src->created_timestamp_column, ts, true);
    for (int i = 0; ok && i < c->view->n_schema; i++) {
      ms_datatype t;
      if (!dtype_type(c->view->schema[i].dtype, &t)) {
        ms_repo_fields_free(l.v, l.n);
        return ms_error_set(err, MS_ERR_INVALID, "feature '%s' of view '%s' has no dtype: declare one to write a batch to an empty source",
                            c->view->schema[i].name, c->view->name);
      }
      ok = fl_add(&l, c->view->schema[i].name, t, true);
    }
    if (ok && c->src->date_partition_column)
      ok = fl_add(&l, logical_of(c->src, c->src->date_partition_column), ms_type(MS_TYPE_DATE32), false);
  }
  if (!ok) {
    ms_repo_fields_free(l.v, l.n);
    return oom(err);
  }
  *out = l.v;
  *out_n = l.n;
  return MS_OK;
}

ms_status ms_write_batch_schema(ms_repo *repo, const char *feature_view, ms_field **out,
                                int *out_n, ms_error *err) {
  *out = NULL;
  *out_n = 0;
  batch_ctx c;
  ms_status st = find_view(repo, feature_view, &c, err);
  ms_dataset *ds = NULL;
  if (st == MS_OK) st = open_source(&c, &ds, err);
  if (st == MS_OK) st = batch_schema(repo, &c, ds, out, out_n, err);
  ms_dataset_close(ds);
  return st;
}

/* ---- writing ---- */

static void progress(const ms_write_options *o, const char *stage, int64_t done, int64_t total) {
  if (o && o->progress) o->progress(o->progress_ctx, stage, done, total);
}

/* The conformed batch with physical column names. */
static ms_status to_physical(const batch_ctx *c, const ms_table *t, ms_table **out, ms_error *err) {
  int n = ms_table_num_columns(t);
  ms_field *f = ms_calloc((size_t)n + 1, sizeof *f);
  ms_column **cols = ms_calloc((size_t)n + 1, sizeof *cols);
  ms_status st = f && cols ? MS_OK : oom(err);
  for (int i = 0; st == MS_OK && i < n; i++) {
    f[i] = *ms_table_field(t, i);
    f[i].name = (char *)physical_of(c->src, f[i].name);
    cols[i] = ms_table_column(t, i);
  }
  if (st == MS_OK) st = ms_table_create(f, cols, n, out, err);
  ms_free(f);
  ms_free(cols);
  return st;
}

static ms_status make_pool(ms_repo *repo, const ms_write_options *o, ms_pool **out, ms_error *err) {
  int threads = o && o->threads > 0 ? o->threads : ms_repo_get_config(repo)->threads;
  return ms_pool_create(threads > 0 ? threads : 0, out, err);
}

static void store_opts(ms_repo *repo, ms_registry *reg, const batch_ctx *c, char *dataset,
                       size_t dsize, bool single, ms_store_options *so) {
  ms_store_options_init(so);
  snprintf(dataset, dsize, "source:%s", c->src->name);
  so->registry = reg;
  so->project = ms_repo_get_config(repo)->project;
  so->dataset = dataset;
  so->single_file = single;
  so->retention_seconds = ms_repo_get_config(repo)->file_retention_seconds;
}

/* Writes a whole table to path through the atomic writer in the source's format. */
static ms_status write_whole(const char *path, ms_file_format fmt, const ms_table *t, ms_pool *pool,
                             ms_error *err) {
  if (fmt == MS_FORMAT_CSV) {
    ms_csv_write_options o;
    ms_csv_write_options_init(&o);
    const char *dot = strrchr(path, '.');
    if (dot && !strcmp(dot, ".tsv")) o.delimiter = '\t';
    return ms_csv_write(NULL, path, t, &o, err);
  }
  ms_pq_write_options o;
  ms_pq_write_options_init(&o);
  o.compression = MS_CODEC_ZSTD;
  o.statistics = true;
  o.pool = pool;
  return ms_pq_write_table(NULL, path, t, &o, err);
}

/* Reads the single file's current rows, conformed to the (physical) schema of the new ones. */
static ms_status read_old(const batch_ctx *c, const ms_table *like, ms_pool *pool, ms_table **out,
                          ms_error *err) {
  *out = NULL;
  ms_file_info fi;
  memset(&fi, 0, sizeof fi);
  ms_error e;
  ms_error_init(&e);
  if (ms_fs_stat(NULL, c->src->path, &fi, &e) == MS_ERR_NOT_FOUND) return MS_OK; /* no file yet */
  ms_free(fi.path);
  int n = ms_table_num_columns(like);
  ms_field *want = ms_calloc((size_t)n + 1, sizeof *want);
  if (!want) return oom(err);
  for (int i = 0; i < n; i++) want[i] = *ms_table_field(like, i);
  ms_table *raw = NULL;
  ms_status st;
  if (c->format == MS_FORMAT_CSV) {
    ms_csv_read_options o;
    ms_csv_read_options_init(&o);
    const char *dot = strrchr(c->src->path, '.');
    if (dot && !strcmp(dot, ".tsv")) o.delimiter = '\t';
    o.schema = want;
    o.n_schema = n;
    o.pool = pool;
    st = ms_csv_read(NULL, c->src->path, &o, &raw, err);
  } else {
    ms_pq_file *f = NULL;
    st = ms_pq_open(NULL, c->src->path, &f, err);
    ms_pq_read_options o;
    memset(&o, 0, sizeof o);
    o.pool = pool;
    if (st == MS_OK) st = ms_pq_read(f, &o, &raw, NULL, err);
    ms_pq_close(f);
  }
  if (st == MS_OK) {
    char what[1024];
    snprintf(what, sizeof what, "existing file %s of source '%s'", c->src->path, c->src->name);
    st = wr_conform(raw, want, n, what, c->src->path, NULL, 0, NULL, 0, out, err);
  }
  ms_table_release(raw);
  ms_free(want);
  return st;
}

static ms_status write_single(ms_repo *repo, ms_registry *reg, const batch_ctx *c, const ms_table *t,
                              ms_pool *pool, const ms_write_options *opts, ms_write_result *res,
                              ms_error *err) {
  char dataset[512];
  ms_store_options so;
  store_opts(repo, reg, c, dataset, sizeof dataset, true, &so);
  ms_store *s = NULL;
  ms_store_txn *txn = NULL;
  ms_table *old = NULL, *all = NULL;
  /* A source file that does not exist yet may also lack its folder. */
  char *dir = ms_strdup(c->src->path);
  char *slash = dir ? strrchr(dir, '/') : NULL;
  if (slash && slash != dir) *slash = '\0';
  ms_status st = dir ? ms_fs_mkdirs(NULL, dir, err) : oom(err);
  ms_free(dir);
  if (st == MS_OK) st = ms_store_open(c->src->path, &so, &s, err);
  if (st == MS_OK) st = ms_store_single_begin(s, "write_batch", &txn, err);
  /* Under the lock: the file cannot change between this read and the rename. */
  if (st == MS_OK) st = read_old(c, t, pool, &old, err);
  if (st == MS_OK) {
    if (old) {
      ms_table *parts[2] = {old, (ms_table *)t};
      st = ms_table_concat(parts, 2, &all, err);
    } else {
      all = ms_table_retain((ms_table *)t);
    }
  }
  int64_t rows = ms_table_num_rows(t);
  if (st == MS_OK) {
    progress(opts, "write", 0, rows);
    st = write_whole(c->src->path, c->format, all, pool, err);
  }
  if (st == MS_OK) {
    progress(opts, "write", rows, rows);
    progress(opts, "commit", rows, rows);
    int64_t gen = ms_store_txn_generation(txn);
    st = ms_store_single_finish(txn, rows, ms_table_num_rows(all), err);
    txn = NULL;
    if (st == MS_OK) {
      res->rows_written = rows;
      res->files_written = 1;
      res->generation = gen;
    }
  }
  if (txn) ms_store_single_abort(txn);
  ms_table_release(old);
  ms_table_release(all);
  ms_store_close(s);
  return st;
}

/* Rows per part file: a batch larger in memory than offline_store.target_partition_size_mb
 * is cut so that no file holds more than about that much data (files are smaller than the
 * memory they came from: encoded and compressed), keeping big batches readable in parallel;
 * 0 = no cut. */
static int64_t file_rows(ms_repo *repo, const ms_table *t) {
  int64_t mb = ms_repo_get_config(repo)->target_partition_size_mb;
  int64_t target = (mb > 0 ? mb : 64) << 20, bytes = 0, rows = ms_table_num_rows(t);
  for (int i = 0; i < ms_table_num_columns(t); i++) {
    const ms_column *c = ms_table_column(t, i);
    if (c->validity) bytes += c->validity->size;
    if (c->values) bytes += c->values->size;
    if (c->data) bytes += c->data->size;
  }
  if (bytes <= target || rows <= 1) return 0;
  int64_t per = (int64_t)((double)rows * (double)target / (double)bytes);
  return per > 0 ? per : 1;
}

static ms_status write_dir(ms_repo *repo, ms_registry *reg, const batch_ctx *c, ms_dataset *ds,
                           const ms_table *t, ms_pool *pool, const ms_write_options *opts,
                           ms_write_result *res, ms_error *err) {
  /* Partition columns: those the existing files have, else the date partition column. */
  const char *parts[16];
  int n_parts = 0;
  if (ds) {
    for (int i = 0; i < ms_dataset_num_fields(ds) && n_parts < 16; i++)
      if (ms_dataset_field_is_partition(ds, i)) parts[n_parts++] = ms_dataset_field(ds, i)->name;
  } else if (c->src->date_partition_column) {
    parts[n_parts++] = c->src->date_partition_column; /* a dataset (physical) name */
  }
  char dataset[512];
  ms_store_options so;
  store_opts(repo, reg, c, dataset, sizeof dataset, false, &so);
  ms_store *s = NULL;
  ms_store_file *files = NULL;
  int n_files = 0;
  ms_status st = ms_store_open(c->src->path, &so, &s, err);
  if (st == MS_OK)
    st = wr_write_parts(s, t, parts, n_parts, c->format, file_rows(repo, t), pool, opts, &files,
                        &n_files, err);
  int64_t gen = 0;
  int64_t rows = ms_table_num_rows(t);
  if (st == MS_OK && n_files > 0) {
    progress(opts, "commit", rows, rows);
    ms_store_commit cm;
    memset(&cm, 0, sizeof cm);
    cm.kind = "write_batch";
    cm.adds = files;
    cm.n_adds = n_files;
    cm.rows_added = rows;
    st = ms_store_commit_files(s, &cm, &gen, err);
  }
  if (st == MS_OK) {
    res->rows_written = rows;
    res->files_written = n_files;
    res->generation = gen;
  }
  wr_files_free(files, n_files);
  ms_store_close(s);
  return st;
}

ms_status ms_write_batch(ms_repo *repo, ms_registry *reg, const char *feature_view,
                         const ms_table *batch, const ms_write_options *opts,
                         ms_write_result *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  batch_ctx c;
  ms_status st = find_view(repo, feature_view, &c, err);
  ms_dataset *ds = NULL;
  ms_field *schema = NULL;
  int n_schema = 0;
  ms_table *conf = NULL, *phys = NULL;
  ms_pool *pool = NULL;
  if (st == MS_OK) st = open_source(&c, &ds, err);
  if (st == MS_OK) st = batch_schema(repo, &c, ds, &schema, &n_schema, err);
  int64_t rows = ms_table_num_rows(batch);
  if (st == MS_OK) {
    progress(opts, "check", 0, rows);
    /* Not-null roles: join keys, the event timestamp, the date partition column. */
    const char *nn[64];
    int n_nn = 0;
    for (int e = 0; e < c.view->n_entities; e++)
      for (int k = 0; k < ms_repo_num_entities(repo); k++) {
        const ms_entity_def *ent = ms_repo_entity(repo, k);
        if (strcmp(ent->name, c.view->entities[e])) continue;
        for (int j = 0; j < ent->n_join_keys && n_nn < 60; j++) nn[n_nn++] = ent->join_keys[j];
      }
    if (c.src->timestamp_field) nn[n_nn++] = c.src->timestamp_field;
    if (c.src->date_partition_column) nn[n_nn++] = logical_of(c.src, c.src->date_partition_column);
    st = wr_conform(batch, schema, n_schema, c.what, opts && opts->input_name ? opts->input_name : "batch",
                    nn, n_nn, NULL, 0, &conf, err);
  }
  if (st == MS_OK) st = to_physical(&c, conf, &phys, err);
  if (st == MS_OK && rows == 0) { /* nothing to add: no file, no commit */
    progress(opts, "check", 0, 0);
    if (!(out->target = ms_strdup(c.src->path))) st = oom(err);
    goto done;
  }
  if (st == MS_OK) st = make_pool(repo, opts, &pool, err);
  if (st == MS_OK) {
    progress(opts, "check", rows, rows);
    ms_file_info fi;
    memset(&fi, 0, sizeof fi);
    ms_error e;
    ms_error_init(&e);
    bool exists = ms_fs_stat(NULL, c.src->path, &fi, &e) == MS_OK;
    bool single = exists ? !fi.is_dir : ms_format_from_path(c.src->path) != MS_FORMAT_AUTO;
    ms_free(fi.path);
    if (single) st = write_single(repo, reg, &c, phys, pool, opts, out, err);
    else st = write_dir(repo, reg, &c, ds, phys, pool, opts, out, err);
    if (st == MS_OK && !(out->target = ms_strdup(c.src->path))) st = oom(err);
  }
done:
  if (st != MS_OK) ms_write_result_reset(out);
  ms_pool_destroy(pool);
  ms_table_release(conf);
  ms_table_release(phys);
  ms_repo_fields_free(schema, n_schema);
  ms_dataset_close(ds);
  return st;
}

ms_status ms_write_batch_arrow(ms_repo *repo, ms_registry *reg, const char *feature_view,
                               struct ArrowArrayStream *stream, const ms_write_options *opts,
                               ms_write_result *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  ms_table *t = NULL;
  ms_status st = ms_stream_import_table(stream, &t, err);
  if (st == MS_OK) st = ms_write_batch(repo, reg, feature_view, t, opts, out, err);
  ms_table_release(t);
  return st;
}

/* A CSV input's columns by name, before any cell is parsed: a missing or extra column is
 * reported as such (with the full listing), not as the first cell that fails to parse. */
static ms_status csv_header_check(const char *path, const ms_field *want, int n_want, const char *what,
                                  ms_error *err) {
  ms_csv_read_options o;
  ms_csv_read_options_init(&o);
  const char *dot = strrchr(path, '.');
  if (dot && !strcmp(dot, ".tsv")) o.delimiter = '\t';
  o.infer_rows = 1;
  ms_field *got = NULL;
  int n_got = 0;
  ms_error e;
  ms_error_init(&e);
  if (ms_csv_infer_schema(NULL, path, &o, &got, &n_got, &e) != MS_OK) return MS_OK; /* the read reports it */
  ms_column **cols = ms_calloc((size_t)n_got + 1, sizeof *cols);
  ms_status st = cols ? MS_OK : oom(err);
  /* Wanted names take the wanted type (the read will parse them as that). */
  for (int i = 0; st == MS_OK && i < n_got; i++) {
    for (int w = 0; w < n_want; w++)
      if (!strcmp(want[w].name, got[i].name)) got[i].type = want[w].type;
    st = ms_column_create_nulls(&got[i].type, 0, &cols[i], err);
  }
  ms_table *t = NULL, *conf = NULL;
  if (st == MS_OK) st = ms_table_create(got, cols, n_got, &t, err);
  if (st == MS_OK) st = wr_conform(t, want, n_want, what, path, NULL, 0, NULL, 0, &conf, err);
  ms_table_release(conf);
  ms_table_release(t);
  for (int i = 0; i < n_got; i++) {
    if (cols) ms_column_release(cols[i]);
    ms_field_reset(&got[i]);
  }
  ms_free(cols);
  ms_free(got);
  return st;
}

ms_status ms_write_batch_file(ms_repo *repo, ms_registry *reg, const char *feature_view,
                              const char *input_path, const ms_write_options *opts,
                              ms_write_result *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  ms_field *schema = NULL;
  int n_schema = 0;
  ms_table *t = NULL;
  ms_pool *pool = NULL;
  batch_ctx c;
  ms_status st = find_view(repo, feature_view, &c, err);
  if (st == MS_OK) st = ms_write_batch_schema(repo, feature_view, &schema, &n_schema, err);
  if (st == MS_OK && ms_format_from_path(input_path) == MS_FORMAT_CSV)
    st = csv_header_check(input_path, schema, n_schema, c.what, err);
  if (st == MS_OK) st = make_pool(repo, opts, &pool, err);
  if (st == MS_OK) st = wr_read_input(input_path, schema, n_schema, pool, &t, err);
  ms_pool_destroy(pool);
  ms_repo_fields_free(schema, n_schema);
  if (st != MS_OK) return st;
  ms_error_init(err); /* no context left over from the read */
  ms_write_options o;
  if (opts) o = *opts;
  else ms_write_options_init(&o);
  if (!o.input_name) o.input_name = input_path;
  st = ms_write_batch(repo, reg, feature_view, t, &o, out, err);
  ms_table_release(t);
  return st;
}
