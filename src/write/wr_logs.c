/* Feature logging (Feast's write_logged_features): the log schema of a feature service and
 * appending logs to its destination (include/morsel/write.h).
 *
 * Log schema. The names and their order come from the repository (ms_def_log_columns,
 * src/repo/def_logging.c: join keys or request columns, then per feature value / timestamp
 * / status, then __log_timestamp, __log_date, __request_id). Types: a join key takes its
 * entity's value_type when declared, else its column's type in the view's source (logical
 * name, derived columns included: the type retrieval returns); a feature or request
 * column its declared dtype, with `timestamp` as timestamp[us, UTC] (Feast's
 * PA_TIMESTAMP_TYPE); feature timestamps timestamp[us, UTC]; statuses int32;
 * __log_timestamp timestamp[us, UTC], __log_date date32, __request_id utf8.
 *
 * Writing, in this order, nothing touching the destination before the last check:
 *  1. the input is conformed to the log schema (wr_conform: any column order, compatible
 *     types converted, missing / extra / mistyped columns listed in one error; null
 *     __log_timestamp or __request_id refused with row and column); __log_date may be
 *     absent;
 *  2. __log_date is derived from __log_timestamp (UTC date); a given non-null value that
 *     differs is refused with its row;
 *  3. sampling: with sample_rate < 1 a row is kept when XXH3-64(__request_id bytes) < rate *
 *     2^64, so the rows of one request are kept or dropped together, the same way in every
 *     run and on every machine;
 *  4. the kept rows are written as Parquet token part files grouped into hive folders by
 *     partition_by (wr_write_parts), then committed in one manifest commit of the dataset
 *     "logs:<service>" (ms_store_commit_files). Partition columns live in the folder names
 *     only; the dataset reader gives them back (typed by the hive rules) when the logs are
 *     read (ms_pull with feature_service_logs).
 * An input with no kept row commits nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "repo/repo_int.h"
#include "write/write_int.h"

#define US_PER_DAY INT64_C(86400000000)

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

static const ms_feature_service_def *find_service(const ms_repo *repo, const char *name) {
  for (int i = 0; name && i < ms_repo_num_feature_services(repo); i++) {
    const ms_feature_service_def *s = ms_repo_feature_service(repo, i);
    if (s->name && !strcmp(s->name, name)) return s;
  }
  return NULL;
}

static ms_status no_service(const ms_repo *repo, const char *name, ms_error *err) {
  int n = ms_repo_num_feature_services(repo);
  const char **cands = ms_calloc((size_t)n + 1, sizeof *cands);
  for (int i = 0; cands && i < n; i++) cands[i] = ms_repo_feature_service(repo, i)->name;
  const char *sug = cands && name ? ms_repo_suggest(name, cands, n) : NULL;
  ms_status st = ms_error_set(err, MS_ERR_NOT_FOUND, "no feature service named '%s'%s%s%s",
                              name ? name : "(null)", sug ? " (did you mean '" : "",
                              sug ? sug : "", sug ? "'?)" : "");
  ms_free(cands);
  return st;
}

static ms_datatype ts_us_utc(void) { return ms_type_timestamp(MS_UNIT_MICRO, "UTC"); }

/* The column type of a declared dtype in a log (timestamps as us UTC, Feast's log type). */
static ms_datatype log_type_of_dtype(const char *dtype) { return ms_repo_dtype_type(dtype, ts_us_utc()); }

/* A join key without a declared value_type: its logical column in the view's source. */
static ms_status key_type(const ms_repo *repo, const ms_log_col *c, ms_datatype *out,
                          ms_error *err) {
  const ms_source_def *src = ms_repo_find_source(repo, c->view->source);
  if (!src)
    return ms_error_set(err, MS_ERR_NOT_FOUND, "feature view '%s' has no source '%s'",
                        c->view->name, c->view->source);
  ms_field *f = NULL;
  int n = 0;
  ms_error e2;
  ms_error_init(&e2);
  ms_status st = ms_repo_source_fields(repo, src, &f, &n, &e2);
  if (st)
    return ms_error_set(err, st,
                        "cannot tell the type of join key '%s' (entity '%s' declares no "
                        "value_type, and source '%s' cannot be read: %s); declare the "
                        "entity's value_type",
                        c->key, c->entity->name, src->name, e2.message);
  int k = -1;
  for (int i = 0; i < n; i++)
    if (!strcmp(f[i].name, c->key)) k = i;
  if (k >= 0) *out = f[k].type;
  ms_repo_fields_free(f, n);
  if (k < 0)
    return ms_error_set(err, MS_ERR_NOT_FOUND,
                        "cannot tell the type of join key '%s': source '%s' has no such column "
                        "and entity '%s' declares no value_type",
                        c->key, src->name, c->entity->name);
  return MS_OK;
}

ms_status ms_log_schema(ms_repo *repo, const char *feature_service, ms_field **out, int *out_n,
                        ms_error *err) {
  *out = NULL;
  *out_n = 0;
  if (!repo) return ms_error_set(err, MS_ERR_INVALID, "no repository");
  const ms_feature_service_def *s = find_service(repo, feature_service);
  if (!s) return no_service(repo, feature_service, err);
  ms_log_col *cols = NULL;
  int n = 0;
  ms_status st = ms_def_log_columns(repo, s, &cols, &n, err);
  if (st) return st;
  ms_field *f = ms_calloc((size_t)n + 1, sizeof *f);
  if (!f) st = oom(err);
  for (int i = 0; st == MS_OK && i < n; i++) {
    const ms_log_col *c = &cols[i];
    f[i].nullable = true;
    if (!(f[i].name = ms_strdup(c->name))) st = oom(err);
    switch (c->kind) {
      case MS_LOG_KEY:
        if (c->dtype) f[i].type = log_type_of_dtype(c->dtype);
        else if (st == MS_OK) st = key_type(repo, c, &f[i].type, err);
        break;
      case MS_LOG_REQUEST:
      case MS_LOG_FEATURE:
        if (!c->dtype && st == MS_OK)
          st = ms_error_set(err, MS_ERR_INVALID, "feature service '%s': column '%s' has no dtype",
                            s->name, c->name);
        else if (c->dtype) f[i].type = log_type_of_dtype(c->dtype);
        break;
      case MS_LOG_FEATURE_TS: f[i].type = ts_us_utc(); break;
      case MS_LOG_FEATURE_STATUS: f[i].type = ms_type(MS_TYPE_INT32); break;
      case MS_LOG_SYSTEM:
        f[i].type = !strcmp(c->name, "__log_timestamp") ? ts_us_utc()
                    : !strcmp(c->name, "__log_date")    ? ms_type(MS_TYPE_DATE32)
                                                        : ms_type(MS_TYPE_UTF8);
        break;
    }
  }
  ms_def_log_columns_free(cols, n);
  if (st) {
    ms_repo_fields_free(f, n);
    return st;
  }
  *out = f;
  *out_n = n;
  return MS_OK;
}

/* ms_write_result_reset's effect, kept local so this file needs only the store and the
 * write_int.h pieces. */
static void result_clear(ms_write_result *r) {
  ms_free(r->target);
  memset(r, 0, sizeof *r);
}

static void progress(const ms_write_options *o, const char *stage, int64_t done, int64_t total) {
  if (o && o->progress) o->progress(o->progress_ctx, stage, done, total);
}

static int find_field(const ms_field *f, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (!strcmp(f[i].name, name)) return i;
  return -1;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Step 2: t with __log_date derived from __log_timestamp (given values checked). */
static ms_status fill_log_date(const ms_table *t, int ts_i, int date_i, const char *input_name,
                               ms_table **out, ms_error *err) {
  *out = NULL;
  const ms_column *ts = ms_table_column(t, ts_i), *given = ms_table_column(t, date_i);
  int64_t n = ms_table_num_rows(t);
  ms_column_builder *b = NULL;
  ms_datatype dt = ms_type(MS_TYPE_DATE32);
  ms_status st = ms_column_builder_create(&dt, n, &b, err);
  for (int64_t r = 0; st == MS_OK && r < n; r++) {
    int64_t day = floor_div(ms_column_get_i64(ts, r), US_PER_DAY); /* ts is not null here */
    if (!ms_column_is_null(given, r) && ms_column_get_i64(given, r) != day) {
      char gd[MS_DATE_BUF_SIZE], td[MS_DATE_BUF_SIZE], tt[MS_TIMESTAMP_BUF_SIZE];
      ms_format_date32((int32_t)ms_column_get_i64(given, r), gd);
      ms_format_date32((int32_t)day, td);
      ms_format_timestamp(ms_column_get_i64(ts, r), MS_UNIT_MICRO, true, tt);
      ms_error_set_row(err, r + 1);
      ms_error_set_column(err, "__log_date");
      st = ms_error_set(err, MS_ERR_INVALID,
                        "%s: row %lld, column '__log_date': %s is not the UTC date of "
                        "__log_timestamp %s (%s); leave __log_date out to have it derived",
                        input_name, (long long)(r + 1), gd, tt, td);
      break;
    }
    st = ms_builder_append_i64(b, day);
    if (st) st = oom(err);
  }
  ms_column *col = NULL;
  if (st == MS_OK) st = ms_builder_finish(b, &col, err);
  ms_column_builder_destroy(b);
  if (st) return st;
  int nc = ms_table_num_columns(t);
  ms_field *f = ms_calloc((size_t)nc, sizeof *f);
  ms_column **c = ms_calloc((size_t)nc, sizeof *c);
  if (!f || !c) st = oom(err);
  for (int i = 0; st == MS_OK && i < nc; i++) {
    f[i] = *ms_table_field(t, i);
    c[i] = i == date_i ? col : ms_table_column(t, i);
  }
  if (st == MS_OK) {
    f[date_i].nullable = false;
    st = ms_table_create(f, c, nc, out, err);
  }
  ms_free(f);
  ms_free(c);
  ms_column_release(col);
  return st;
}

/* Step 3: the rows kept by sampling (mask[r] = 1), and how many. */
static ms_status sample_mask(const ms_column *req, double rate, uint8_t **out_mask,
                             int64_t *out_kept, ms_error *err) {
  int64_t n = ms_column_length(req);
  uint8_t *m = ms_malloc((size_t)(n ? n : 1));
  if (!m) return oom(err);
  /* h / 2^64 < rate  <=>  h < rate * 2^64 (rate < 1, so the product fits below 2^64). */
  uint64_t limit = (uint64_t)ldexp(rate, 64);
  int64_t kept = 0;
  for (int64_t r = 0; r < n; r++) {
    int64_t len = 0;
    const uint8_t *p = ms_column_get_bytes(req, r, &len);
    uint64_t h = XXH3_64bits(p, (size_t)len);
    m[r] = h < limit;
    kept += m[r];
  }
  *out_mask = m;
  *out_kept = kept;
  return MS_OK;
}

static ms_status make_pool(const ms_repo *repo, const ms_write_options *o, ms_pool **out,
                           ms_error *err) {
  int threads = o && o->threads > 0 ? o->threads : ms_repo_get_config(repo)->threads;
  if (threads <= 0) threads = ms_cpu_count();
  return ms_pool_create(threads, out, err);
}

static ms_status write_logs(ms_repo *repo, ms_registry *reg, const ms_feature_service_def *s,
                            const ms_field *schema, int n_schema, const ms_table *logs,
                            const ms_write_options *opts, ms_pool *pool, ms_write_result *out,
                            ms_error *err) {
  const char *input_name = opts && opts->input_name ? opts->input_name : "logs";
  char what[512];
  snprintf(what, sizeof what, "logs for feature service '%s'", s->name);
  static const char *const not_null[] = {"__log_timestamp", "__request_id"};
  static const char *const optional[] = {"__log_date"};
  progress(opts, "check", 0, ms_table_num_rows(logs));
  ms_table *conf = NULL, *dated = NULL, *kept = NULL;
  ms_status st = wr_conform(logs, schema, n_schema, what, input_name, not_null, 2, optional, 1,
                            &conf, err);
  int ts_i = find_field(schema, n_schema, "__log_timestamp");
  int date_i = find_field(schema, n_schema, "__log_date");
  int req_i = find_field(schema, n_schema, "__request_id");
  if (st == MS_OK) st = fill_log_date(conf, ts_i, date_i, input_name, &dated, err);
  ms_table_release(conf);
  int64_t n_kept = dated ? ms_table_num_rows(dated) : 0;
  if (st == MS_OK && s->log_sample_rate < 1.0) {
    uint8_t *mask = NULL;
    st = sample_mask(ms_table_column(dated, req_i), s->log_sample_rate, &mask, &n_kept, err);
    if (st == MS_OK) st = ms_table_filter(dated, mask, &kept, err);
    ms_free(mask);
  } else if (st == MS_OK) {
    kept = ms_table_retain(dated);
  }
  ms_table_release(dated);
  const ms_repo_config *cfg = ms_repo_get_config(repo);
  ms_store *store = NULL;
  char *dataset = st == MS_OK ? ms_asprintf("logs:%s", s->name) : NULL;
  if (st == MS_OK && !dataset) st = oom(err);
  if (st == MS_OK) {
    ms_store_options so;
    ms_store_options_init(&so);
    so.registry = reg;
    so.project = cfg->project;
    so.dataset = dataset;
    so.retention_seconds = cfg->file_retention_seconds;
    st = ms_store_open(s->log_path, &so, &store, err);
  }
  if (st == MS_OK && !(out->target = ms_strdup(s->log_path))) st = oom(err);
  if (st == MS_OK && n_kept == 0) {
    /* Nothing to add: no commit; the generation reported is the current one. */
    ms_manifest m;
    memset(&m, 0, sizeof m);
    st = ms_manifest_read(s->log_path, &m, err);
    out->generation = m.generation;
    ms_manifest_reset(&m);
  } else if (st == MS_OK) {
    ms_store_file *files = NULL;
    int n_files = 0;
    st = wr_write_parts(store, kept, (const char *const *)s->log_partition_by,
                        s->n_log_partition_by, MS_FORMAT_PARQUET, 0, pool, opts, &files,
                        &n_files, err);
    if (st == MS_OK) {
      progress(opts, "commit", n_kept, n_kept);
      ms_store_commit c;
      memset(&c, 0, sizeof c);
      c.kind = "write_logs";
      c.adds = files;
      c.n_adds = n_files;
      c.rows_added = n_kept;
      st = ms_store_commit_files(store, &c, &out->generation, err);
    }
    if (st == MS_OK) {
      out->rows_written = n_kept;
      out->files_written = n_files;
    }
    wr_files_free(files, n_files);
  }
  ms_store_close(store);
  ms_free(dataset);
  ms_table_release(kept);
  return st;
}

/* The service, its logging configuration and its log schema. */
static ms_status prepare(ms_repo *repo, const char *feature_service,
                         const ms_feature_service_def **out_s, ms_field **schema, int *n_schema,
                         ms_error *err) {
  *schema = NULL;
  *n_schema = 0;
  if (!repo) return ms_error_set(err, MS_ERR_INVALID, "no repository");
  const ms_feature_service_def *s = find_service(repo, feature_service);
  if (!s) return no_service(repo, feature_service, err);
  if (!s->has_logging || !s->log_path)
    return ms_error_set(err, MS_ERR_INVALID,
                        "feature service '%s' has no logging configured (add logging: "
                        "{destination: {path: DIR}} to its definition)",
                        s->name);
  *out_s = s;
  ms_status st = ms_log_schema(repo, feature_service, schema, n_schema, err);
  /* Partition columns must be ones a folder name can carry (and read back). */
  for (int k = 0; st == MS_OK && k < s->n_log_partition_by; k++) {
    int i = find_field(*schema, *n_schema, s->log_partition_by[k]);
    if (i < 0) {
      st = ms_error_set(err, MS_ERR_INVALID, "feature service '%s': partition_by column '%s' is not a "
                        "log column", s->name, s->log_partition_by[k]);
      break;
    }
    const ms_datatype *t = &(*schema)[i].type;
    if (!(ms_type_is_integer(t) || t->id == MS_TYPE_DATE32 || t->id == MS_TYPE_UTF8 ||
          t->id == MS_TYPE_BOOL)) {
      char tb[64];
      st = ms_error_set(err, MS_ERR_INVALID,
                        "feature service '%s': cannot partition logs by '%s' (%s): partition "
                        "columns must be dates, integers, strings or bools",
                        s->name, s->log_partition_by[k], ms_type_to_string(t, tb, sizeof tb));
    }
  }
  if (st) {
    ms_repo_fields_free(*schema, *n_schema);
    *schema = NULL;
    *n_schema = 0;
  }
  return st;
}

ms_status ms_write_logs(ms_repo *repo, ms_registry *reg, const char *feature_service,
                        const ms_table *logs, const ms_write_options *opts,
                        ms_write_result *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  const ms_feature_service_def *s = NULL;
  ms_field *schema = NULL;
  int n_schema = 0;
  ms_status st = prepare(repo, feature_service, &s, &schema, &n_schema, err);
  ms_pool *pool = NULL;
  if (st == MS_OK && !logs) st = ms_error_set(err, MS_ERR_INVALID, "no logs table");
  if (st == MS_OK) st = make_pool(repo, opts, &pool, err);
  if (st == MS_OK) st = write_logs(repo, reg, s, schema, n_schema, logs, opts, pool, out, err);
  ms_pool_destroy(pool);
  ms_repo_fields_free(schema, n_schema);
  if (st) result_clear(out);
  return st;
}

ms_status ms_write_logs_file(ms_repo *repo, ms_registry *reg, const char *feature_service,
                             const char *input_path, const ms_write_options *opts,
                             ms_write_result *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  const ms_feature_service_def *s = NULL;
  ms_field *schema = NULL;
  int n_schema = 0;
  ms_status st = prepare(repo, feature_service, &s, &schema, &n_schema, err);
  if (st == MS_OK && !input_path) st = ms_error_set(err, MS_ERR_INVALID, "no input file");
  ms_pool *pool = NULL;
  if (st == MS_OK) st = make_pool(repo, opts, &pool, err);
  ms_table *t = NULL;
  if (st == MS_OK) st = wr_read_input(input_path, schema, n_schema, pool, &t, err);
  if (st == MS_OK && err) ms_error_init(err); /* no stale context from the reader */
  ms_write_options o;
  if (opts) o = *opts;
  else memset(&o, 0, sizeof o); /* what ms_write_options_init gives */
  if (!o.input_name) o.input_name = input_path;
  if (st == MS_OK) st = write_logs(repo, reg, s, schema, n_schema, t, &o, pool, out, err);
  ms_table_release(t);
  ms_pool_destroy(pool);
  ms_repo_fields_free(schema, n_schema);
  if (st) result_clear(out);
  return st;
}
