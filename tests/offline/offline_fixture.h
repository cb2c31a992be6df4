/* Shared fixture of the offline store tests (tests/offline/test_offline*.c): tiny
 * repositories in a temp directory, tables built from literal arrays, Parquet/CSV writers,
 * request runners and cell-by-cell column checks. Everything is static inline so that a
 * test program may use any subset. */
#ifndef MS_OFFLINE_FIXTURE_H
#define MS_OFFLINE_FIXTURE_H

#include <math.h>
#include <stdarg.h>

#include "columnar/column.h"
#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/offline.h"
#include "morsel/parquet.h"
#include "ms_test.h"

#define NUL INT64_MIN
#define DAY INT64_C(86400000000000)
#define HOUR INT64_C(3600000000000)

static inline int64_t T(const char *iso) {
  int64_t ns = 0;
  if (!ms_parse_timestamp_ns(iso, strlen(iso), &ns, NULL)) {
    fprintf(stderr, "bad timestamp in test: %s\n", iso);
    abort();
  }
  return ns;
}

/* ---------------- building tables ---------------- */

static inline ms_column *col_int(ms_type_id id, const int64_t *v, int n) {
  ms_datatype t = ms_type(id);
  ms_column_builder *b = NULL;
  ms_column *c = NULL;
  if (ms_column_builder_create(&t, n, &b, NULL)) return NULL;
  for (int i = 0; i < n; i++) v[i] == NUL ? ms_builder_append_null(b) : ms_builder_append_i64(b, v[i]);
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}
static inline ms_column *col_i64(const int64_t *v, int n) { return col_int(MS_TYPE_INT64, v, n); }

/* Timestamps given in ns, stored in `unit` (values must divide exactly). */
static inline ms_column *col_ts(const int64_t *ns, int n, ms_time_unit unit, const char *tz) {
  ms_datatype t = ms_type_timestamp(unit, tz);
  int64_t div = INT64_C(1000000000) / ms_time_unit_per_second(unit);
  ms_column_builder *b = NULL;
  ms_column *c = NULL;
  if (ms_column_builder_create(&t, n, &b, NULL)) return NULL;
  for (int i = 0; i < n; i++) ns[i] == NUL ? ms_builder_append_null(b) : ms_builder_append_i64(b, ns[i] / div);
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

static inline ms_column *col_f64(const double *v, int n) {
  ms_datatype t = ms_type(MS_TYPE_FLOAT64);
  ms_column_builder *b = NULL;
  ms_column *c = NULL;
  if (ms_column_builder_create(&t, n, &b, NULL)) return NULL;
  for (int i = 0; i < n; i++) isnan(v[i]) ? ms_builder_append_null(b) : ms_builder_append_f64(b, v[i]);
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

static inline ms_column *col_str(const char *const *v, int n) {
  ms_datatype t = ms_type(MS_TYPE_UTF8);
  ms_column_builder *b = NULL;
  ms_column *c = NULL;
  if (ms_column_builder_create(&t, n, &b, NULL)) return NULL;
  for (int i = 0; i < n; i++) !v[i] ? ms_builder_append_null(b) : ms_builder_append_bytes(b, v[i], (int64_t)strlen(v[i]));
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

/* A table from NULL-terminated (name, column) pairs; the columns are released. */
static inline ms_table *mk_table(const char *name, ...) {
  ms_field f[32];
  ms_column *c[32];
  int n = 0;
  va_list ap;
  va_start(ap, name);
  for (const char *nm = name; nm; nm = va_arg(ap, const char *)) {
    c[n] = va_arg(ap, ms_column *);
    f[n].name = (char *)nm;
    f[n].type = *ms_column_type(c[n]);
    f[n].nullable = true;
    n++;
  }
  va_end(ap);
  ms_table *t = NULL;
  ms_error err;
  if (ms_table_create(f, c, n, &t, &err)) fprintf(stderr, "mk_table: %s\n", err.message);
  for (int i = 0; i < n; i++) ms_column_release(c[i]);
  return t;
}

static inline void write_pq(const char *path, ms_table *t, int64_t rg_rows) {
  ms_pq_write_options o;
  ms_pq_write_options_init(&o);
  if (rg_rows > 0) o.row_group_rows = rg_rows;
  ms_error err;
  if (ms_pq_write_table(ms_fs_local(), path, t, &o, &err)) fprintf(stderr, "write_pq %s: %s\n", path, err.message);
  ms_table_release(t);
}

static inline void write_text(const char *path, const char *text) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  for (char *p = dir + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      mkdir(dir, 0777);
      *p = '/';
    }
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static char g_dir[2048];

/* A fresh repository: config (threads and extra offline_store lines) plus definitions. */
static inline const char *make_repo(const char *tag, const char *extra_cfg, const char *defs) {
  snprintf(g_dir, sizeof g_dir, "%s/%s", ms_test_tmpdir(), tag);
  mkdir(g_dir, 0777);
  char path[4096], cfg[2048];
  snprintf(cfg, sizeof cfg,
           "project: t\nregistry: reg.db\noffline_store:\n  type: morsel\n  threads: 1\n%s", extra_cfg ? extra_cfg : "");
  snprintf(path, sizeof path, "%s/feature_store.yaml", g_dir);
  write_text(path, cfg);
  snprintf(path, sizeof path, "%s/defs.yaml", g_dir);
  write_text(path, defs);
  snprintf(path, sizeof path, "%s/data", g_dir);
  mkdir(path, 0777);
  return g_dir;
}

static inline const char *repo_path(const char *rel) {
  static char p[4][4096];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", g_dir, rel);
  return p[k];
}

static inline ms_repo *load(const char *dir) {
  ms_repo *r = NULL;
  char **probs = NULL;
  int np = 0;
  ms_error err;
  if (ms_repo_load(dir, NULL, &r, &probs, &np, &err) != MS_OK) {
    fprintf(stderr, "repo load failed: %s\n", err.message);
    for (int i = 0; i < np; i++) fprintf(stderr, "  %s\n", probs[i]);
    ms_repo_problems_free(probs, np);
    return NULL;
  }
  return r;
}

/* Runs a request to a table (NULL on failure, printing the error). */
static inline ms_table *hist(ms_repo *r, ms_historical_request *req) {
  ms_retrieval_job *job = NULL;
  ms_error err;
  ms_error_init(&err);
  ms_table *t = NULL;
  if (ms_get_historical_features(r, req, &job, &err) == MS_OK) ms_retrieval_job_to_table(job, &t, &err);
  if (!t) fprintf(stderr, "historical failed: %s\n", err.message);
  ms_retrieval_job_free(job);
  return t;
}

/* Plans a request that must fail; returns the status and copies the message. */
static inline ms_status hist_fail(ms_repo *r, ms_historical_request *req, char *msg, size_t cap) {
  ms_retrieval_job *job = NULL;
  ms_error err;
  ms_error_init(&err);
  ms_status st = ms_get_historical_features(r, req, &job, &err);
  ms_table *t = NULL;
  if (st == MS_OK) st = ms_retrieval_job_to_table(job, &t, &err);
  ms_table_release(t);
  ms_retrieval_job_free(job);
  snprintf(msg, cap, "%s", err.message);
  return st;
}

/* ---------------- checking columns ---------------- */

static inline bool col_is_i64(const ms_table *t, const char *name, const int64_t *want, int n) {
  int c = ms_table_find_column(t, name);
  if (c < 0) { fprintf(stderr, "no column %s\n", name); return false; }
  ms_column *col = ms_table_column(t, c);
  if (ms_column_length(col) != n) { fprintf(stderr, "%s: %lld rows, want %d\n", name, (long long)ms_column_length(col), n); return false; }
  for (int i = 0; i < n; i++) {
    bool isnull = ms_column_is_null(col, i);
    if ((want[i] == NUL) != isnull || (!isnull && ms_column_get_i64(col, i) != want[i])) {
      fprintf(stderr, "%s row %d: got %s%lld, want %lld\n", name, i, isnull ? "null " : "",
              isnull ? 0LL : (long long)ms_column_get_i64(col, i), (long long)want[i]);
      return false;
    }
  }
  return true;
}

static inline bool col_is_f64(const ms_table *t, const char *name, const double *want, int n) {
  int c = ms_table_find_column(t, name);
  if (c < 0) { fprintf(stderr, "no column %s\n", name); return false; }
  ms_column *col = ms_table_column(t, c);
  if (ms_column_length(col) != n) { fprintf(stderr, "%s: %lld rows, want %d\n", name, (long long)ms_column_length(col), n); return false; }
  for (int i = 0; i < n; i++) {
    bool isnull = ms_column_is_null(col, i);
    if (isnan(want[i]) != isnull || (!isnull && ms_column_get_f64(col, i) != want[i])) {
      fprintf(stderr, "%s row %d: got %s%g, want %g\n", name, i, isnull ? "null " : "", isnull ? 0 : ms_column_get_f64(col, i), want[i]);
      return false;
    }
  }
  return true;
}

static inline bool names_are(const ms_table *t, const char *const *names, int n) {
  if (ms_table_num_columns(t) != n) {
    fprintf(stderr, "%d columns, want %d:", ms_table_num_columns(t), n);
    for (int i = 0; i < ms_table_num_columns(t); i++) fprintf(stderr, " %s", ms_table_field(t, i)->name);
    fprintf(stderr, "\n");
    return false;
  }
  for (int i = 0; i < n; i++)
    if (strcmp(ms_table_field(t, i)->name, names[i]) != 0) {
      fprintf(stderr, "column %d is %s, want %s\n", i, ms_table_field(t, i)->name, names[i]);
      return false;
    }
  return true;
}

static inline bool tables_equal(const ms_table *a, const ms_table *b) {
  if (ms_table_num_columns(a) != ms_table_num_columns(b) || ms_table_num_rows(a) != ms_table_num_rows(b)) return false;
  for (int i = 0; i < ms_table_num_columns(a); i++) {
    if (strcmp(ms_table_field(a, i)->name, ms_table_field(b, i)->name) != 0) return false;
    if (!ms_column_equal(ms_table_column(a, i), ms_table_column(b, i))) {
      fprintf(stderr, "column %s differs\n", ms_table_field(a, i)->name);
      return false;
    }
  }
  return true;
}

#endif
