/* offline_write_batch (src/write/wr_batch.c) on real repositories: a directory source, a
 * hive-partitioned source (date_partition_column), a single Parquet file, a single CSV file,
 * field_mapping, an empty source directory, the batch schema, every refusal leaving every
 * file and the registry byte-identical, and random batches (several per source) after which
 * pull-all and point-in-time retrieval equal a brute-force model of old + new rows. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include "offline/offline_fixture.h"

#include <sys/wait.h>

#include "morsel/dataset.h"
#include "morsel/registry.h"
#include "morsel/store.h"
#include "morsel/write.h"

static const char *k_defs =
    "entities:\n"
    "  - name: driver\n    join_keys: [driver_id]\n    value_type: int64\n"
    "sources:\n"
    "  - name: dir_src\n    path: data/dir\n    timestamp_field: event_timestamp\n"
    "    created_timestamp_column: created\n"
    "  - name: hive_src\n    path: data/hive\n    timestamp_field: event_timestamp\n"
    "    date_partition_column: event_date\n"
    "  - name: pq_src\n    path: data/single.parquet\n    timestamp_field: event_timestamp\n"
    "  - name: csv_src\n    path: data/single.csv\n    file_format: csv\n    timestamp_field: event_timestamp\n"
    "  - name: mapped_src\n    path: data/mapped\n    timestamp_field: event_timestamp\n"
    "    field_mapping: {drv: driver_id, ts_raw: event_timestamp, rate_raw: conv_rate}\n"
    "  - name: csvdir_src\n    path: data/csvdir\n    file_format: csv\n    timestamp_field: event_timestamp\n"
    "feature_views:\n"
    "  - name: fv_dir\n    entities: [driver]\n    ttl: 0s\n    source: dir_src\n"
    "    schema:\n      - {name: conv_rate, dtype: float64}\n      - {name: trips, dtype: int64}\n"
    "  - name: fv_hive\n    entities: [driver]\n    ttl: 0s\n    source: hive_src\n"
    "    schema:\n      - {name: conv_rate, dtype: float64}\n      - {name: trips, dtype: int64}\n"
    "  - name: fv_pq\n    entities: [driver]\n    ttl: 0s\n    source: pq_src\n"
    "    schema:\n      - {name: conv_rate, dtype: float64}\n      - {name: trips, dtype: int64}\n"
    "  - name: fv_csv\n    entities: [driver]\n    ttl: 0s\n    source: csv_src\n"
    "    schema:\n      - {name: conv_rate, dtype: float64}\n      - {name: trips, dtype: int64}\n"
    "  - name: fv_mapped\n    entities: [driver]\n    ttl: 0s\n    source: mapped_src\n"
    "    schema:\n      - {name: conv_rate, dtype: float64}\n      - {name: trips, dtype: int64}\n"
    "  - name: fv_csvdir\n    entities: [driver]\n    ttl: 0s\n    source: csvdir_src\n"
    "    schema:\n      - {name: conv_rate, dtype: float64}\n      - {name: trips, dtype: int64}\n"
    "  - name: agg\n    entities: [driver]\n    ttl: 0s\n    source: dir_src\n"
    "    aggregations:\n      - {name: n, function: count, window: 30d}\n"
    "    schema:\n      - {name: n, dtype: int64}\n"
    "on_demand_feature_views:\n"
    "  - name: od\n    sources: [fv_dir]\n"
    "    schema:\n      - {name: x2, dtype: float64, expression: conv_rate * 2}\n";

/* ---------------- rows and the model ---------------- */

typedef struct row {
  int64_t id, ts_us, created_us; /* created NUL = null */
  double conv;                   /* NAN = null */
  int64_t trips;                 /* NUL = null */
  int64_t seq;                   /* write order: batch * 1e6 + row */
} row;

typedef struct rows {
  row *v;
  int64_t n, cap;
} rows;

static void rows_push(rows *r, row x) {
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 64;
    r->v = realloc(r->v, (size_t)r->cap * sizeof *r->v);
  }
  r->v[r->n++] = x;
}

static uint64_t g_rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

#define US_PER_DAY INT64_C(86400000000)

/* Random rows with ties: few drivers, timestamps on few days and hours. */
static void random_rows(row *out, int n, int64_t batch) {
  int64_t day0 = T("2024-03-01") / 1000;
  for (int i = 0; i < n; i++) {
    row *x = &out[i];
    x->id = 1 + (int64_t)(rnd() % 5);
    x->ts_us = day0 + (int64_t)(rnd() % 4) * US_PER_DAY + (int64_t)(rnd() % 3) * 3600000000LL;
    x->created_us = x->ts_us + (int64_t)(rnd() % 3) * 1000000LL;
    x->conv = rnd() % 6 == 0 ? NAN : (double)(rnd() % 1000) / 16;
    x->trips = rnd() % 7 == 0 ? NUL : (int64_t)(rnd() % 100000);
    x->seq = batch * 1000000 + i;
  }
}

static ms_column *ts_col(const int64_t *us, int n, ms_time_unit unit, const char *tz) {
  int64_t ns[512];
  for (int i = 0; i < n; i++) ns[i] = us[i] == NUL ? NUL : us[i] * 1000;
  return col_ts(ns, n, unit, tz);
}

/* A batch table of the rows: columns in a rotated order, with or without `created`,
 * event_date when asked, names through `names` (logical by default). */
static ms_table *batch_table(const row *x, int n, bool created, bool event_date, int rotate) {
  int64_t id[512], ts[512], cr[512], tr[512], dd[512];
  double cv[512];
  for (int i = 0; i < n; i++) {
    id[i] = x[i].id;
    ts[i] = x[i].ts_us;
    cr[i] = x[i].created_us;
    cv[i] = x[i].conv;
    tr[i] = x[i].trips;
    dd[i] = x[i].ts_us == NUL ? NUL : (x[i].ts_us >= 0 ? x[i].ts_us / US_PER_DAY : -((-x[i].ts_us + US_PER_DAY - 1) / US_PER_DAY));
  }
  const char *names[6];
  ms_column *cols[6];
  int k = 0;
  names[k] = "driver_id", cols[k++] = col_i64(id, n);
  /* naive nanoseconds on input: converted to the source's unit exactly */
  names[k] = "event_timestamp", cols[k++] = ts_col(ts, n, MS_UNIT_NANO, "");
  if (created) names[k] = "created", cols[k++] = ts_col(cr, n, MS_UNIT_MILLI, "UTC");
  names[k] = "conv_rate", cols[k++] = col_f64(cv, n);
  names[k] = "trips", cols[k++] = col_int(MS_TYPE_INT32, tr, n); /* narrower: widened */
  if (event_date) names[k] = "event_date", cols[k++] = col_int(MS_TYPE_DATE32, dd, n);
  ms_field f[6];
  ms_column *c[6];
  for (int i = 0; i < k; i++) {
    int j = (i + rotate) % k;
    f[i] = (ms_field){(char *)names[j], *ms_column_type(cols[j]), true};
    c[i] = cols[j];
  }
  ms_table *t = NULL;
  ms_table_create(f, c, k, &t, NULL);
  for (int i = 0; i < k; i++) ms_column_release(cols[i]);
  return t;
}

static int64_t get_us(const ms_column *c, int64_t i) {
  int64_t v = ms_column_get_i64(c, i), per = ms_time_unit_per_second(ms_column_type(c)->unit);
  return per >= 1000000 ? v / (per / 1000000) : v * (1000000 / per);
}

static int cmp_ts_seq(const void *a, const void *b) {
  const row *x = a, *y = b;
  if (x->ts_us != y->ts_us) return x->ts_us < y->ts_us ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* pull-all of a view equals the model's rows ordered by (timestamp, write order). */
static bool pull_all_matches(ms_repo *r, const char *view, const rows *model, bool created) {
  ms_pull_request req;
  ms_pull_request_init(&req);
  req.mode = MS_PULL_ALL;
  req.feature_view = view;
  ms_retrieval_job *job = NULL;
  ms_table *t = NULL;
  ms_error err;
  ms_error_init(&err);
  if (ms_pull(r, &req, &job, &err) != MS_OK || ms_retrieval_job_to_table(job, &t, &err) != MS_OK) {
    fprintf(stderr, "pull-all %s: %s\n", view, err.message);
    ms_retrieval_job_free(job);
    return false;
  }
  ms_retrieval_job_free(job);
  row *exp = malloc(((size_t)model->n + 1) * sizeof *exp);
  memcpy(exp, model->v, (size_t)model->n * sizeof *exp);
  qsort(exp, (size_t)model->n, sizeof *exp, cmp_ts_seq);
  bool ok = ms_table_num_rows(t) == model->n;
  if (!ok) fprintf(stderr, "%s: %lld rows, want %lld\n", view, (long long)ms_table_num_rows(t), (long long)model->n);
  int ci = ms_table_find_column(t, "driver_id"), ct = ms_table_find_column(t, "event_timestamp"),
      cc = ms_table_find_column(t, "conv_rate"), cn = ms_table_find_column(t, "trips"),
      ck = ms_table_find_column(t, "created");
  ok = ok && ci >= 0 && ct >= 0 && cc >= 0 && cn >= 0 && (!created || ck >= 0);
  for (int64_t i = 0; ok && i < model->n; i++) {
    const row *x = &exp[i];
    ms_column *c_i = ms_table_column(t, ci), *c_t = ms_table_column(t, ct), *c_c = ms_table_column(t, cc),
              *c_n = ms_table_column(t, cn);
    bool good = ms_column_get_i64(c_i, i) == x->id && get_us(c_t, i) == x->ts_us &&
                (isnan(x->conv) ? ms_column_is_null(c_c, i) : (!ms_column_is_null(c_c, i) && ms_column_get_f64(c_c, i) == x->conv)) &&
                (x->trips == NUL ? ms_column_is_null(c_n, i) : (!ms_column_is_null(c_n, i) && ms_column_get_i64(c_n, i) == x->trips));
    if (created && good) good = get_us(ms_table_column(t, ck), i) == x->created_us;
    if (!good) {
      fprintf(stderr, "%s row %lld differs (want id %lld ts %lld seq %lld; got id %lld ts %lld)\n", view, (long long)i,
              (long long)x->id, (long long)x->ts_us, (long long)x->seq, (long long)ms_column_get_i64(c_i, i),
              (long long)get_us(c_t, i));
      ok = false;
    }
  }
  free(exp);
  ms_table_release(t);
  return ok;
}

/* Point-in-time retrieval of fv_dir at random entity rows equals the brute force: per
 * entity row the row of its driver with the largest (ts, created, write order) at or
 * before its time. */
static bool retrieval_matches(ms_repo *r, const rows *model) {
  enum { NE = 40 };
  int64_t eid[NE], ets[NE];
  int64_t day0 = T("2024-03-01") / 1000;
  for (int i = 0; i < NE; i++) {
    eid[i] = 1 + (int64_t)(rnd() % 6);
    ets[i] = (day0 + (int64_t)(rnd() % 5) * US_PER_DAY + (int64_t)(rnd() % 4) * 3600000000LL - US_PER_DAY / 2) * 1000;
  }
  ms_table *ent = mk_table("driver_id", col_i64(eid, NE), "event_timestamp", col_ts(ets, NE, MS_UNIT_NANO, "UTC"), NULL);
  const char *refs[] = {"fv_dir:conv_rate", "fv_dir:trips"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 2;
  req.entity_table = ent;
  ms_table *out = hist(r, &req);
  ms_table_release(ent);
  if (!out) return false;
  double wc[NE];
  int64_t wt[NE];
  for (int i = 0; i < NE; i++) {
    const row *best = NULL;
    for (int64_t k = 0; k < model->n; k++) {
      const row *x = &model->v[k];
      if (x->id != eid[i] || x->ts_us * 1000 > ets[i]) continue;
      if (!best || x->ts_us > best->ts_us || (x->ts_us == best->ts_us && (x->created_us > best->created_us ||
                                                                         (x->created_us == best->created_us && x->seq > best->seq))))
        best = x;
    }
    wc[i] = best ? best->conv : NAN;
    wt[i] = best ? best->trips : NUL;
  }
  bool ok = col_is_f64(out, "conv_rate", wc, NE) && col_is_i64(out, "trips", wt, NE);
  ms_table_release(out);
  return ok;
}

/* ---------------- files and registry snapshots ---------------- */

/* md5 of every file under the repo's data/ and the registry, as one text. */
static char *snapshot(void) {
  char cmd[4096];
  /* the registry is SQLite in WAL mode: its -wal file holds recent commits (-shm is an
   * index that readers touch, not content) */
  snprintf(cmd, sizeof cmd,
           "cd '%s' && (find data -type f; find . -maxdepth 1 -type f \\( -name reg.db -o -name reg.db-wal \\)) "
           "2>/dev/null | LC_ALL=C sort | xargs -r md5sum",
           g_dir);
  FILE *p = popen(cmd, "r");
  if (!p) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  size_t k;
  while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
    n += k;
    if (n + 1 >= cap) buf = realloc(buf, cap *= 2);
  }
  buf[n] = '\0';
  pclose(p);
  return buf;
}

typedef struct env {
  ms_repo *repo;
  ms_registry *reg;
} env;

static bool env_open(env *e, const char *tag) {
  make_repo(tag, NULL, k_defs);
  e->repo = load(g_dir);
  if (!e->repo) return false;
  ms_error err;
  ms_error_init(&err);
  if (ms_registry_open(ms_repo_get_config(e->repo)->registry_location, &e->reg, &err) != MS_OK) {
    fprintf(stderr, "registry: %s\n", err.message);
    return false;
  }
  return true;
}

/* The repository made by the last env_open, opened again (a child process, a reopen). */
static bool env_open_existing(env *e) {
  e->repo = load(g_dir);
  if (!e->repo) return false;
  return ms_registry_open(ms_repo_get_config(e->repo)->registry_location, &e->reg, NULL) == MS_OK;
}

static void env_close(env *e) {
  ms_registry_close(e->reg);
  ms_repo_free(e->repo);
}

static ms_status wb(env *e, const char *view, ms_table *t, ms_write_result *res, ms_error *err) {
  ms_error_init(err);
  ms_write_options o;
  ms_write_options_init(&o);
  o.threads = 2;
  ms_status st = ms_write_batch(e->repo, e->reg, view, t, &o, res, err);
  if (st != MS_OK) fprintf(stderr, "(write-batch %s: %s)\n", view, err->message);
  return st;
}

static int n_commits(env *e, const char *dataset, const char *state) {
  ms_reg_data_commit *c = NULL;
  int n = 0, k = 0;
  if (ms_registry_data_commits(e->reg, "t", dataset, &c, &n, NULL) != MS_OK) return -1;
  for (int i = 0; i < n; i++) k += !state || !strcmp(c[i].state, state);
  ms_reg_data_commits_free(c, n);
  return k;
}

static bool dir_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* ---------------- tests ---------------- */

static void test_schema(void) {
  env e;
  CHECK(env_open(&e, "schema"));
  ms_field *f = NULL;
  int n = 0;
  ms_error err;
  ms_error_init(&err);
  /* no data: keys, timestamp, created, features, date partition column */
  CHECK_OK(ms_write_batch_schema(e.repo, "fv_dir", &f, &n, &err), &err);
  CHECK_EQ_INT(n, 5);
  const char *want[] = {"driver_id", "event_timestamp", "created", "conv_rate", "trips"};
  char buf[64];
  const char *types[] = {"int64", "timestamp[us, tz=UTC]", "timestamp[us, tz=UTC]", "float64", "int64"};
  for (int i = 0; i < 5; i++) {
    CHECK_STR(f[i].name, want[i]);
    CHECK_STR(ms_type_to_string(&f[i].type, buf, sizeof buf), types[i]);
  }
  CHECK(!f[0].nullable && !f[1].nullable && f[3].nullable);
  ms_repo_fields_free(f, n);
  CHECK_OK(ms_write_batch_schema(e.repo, "fv_hive", &f, &n, &err), &err);
  CHECK_EQ_INT(n, 5);
  CHECK_STR(f[4].name, "event_date");
  CHECK(f[4].type.id == MS_TYPE_DATE32);
  ms_repo_fields_free(f, n);
  /* with data: the file's columns (logical names), its types, in file order */
  ms_table *src = mk_table("drv", col_int(MS_TYPE_INT32, (int64_t[]){1}, 1), "rate_raw", col_f64((double[]){0.5}, 1),
                           "ts_raw", col_ts((int64_t[]){T("2024-01-01")}, 1, MS_UNIT_NANO, ""), "trips",
                           col_i64((int64_t[]){3}, 1), "other", col_str((const char *[]){"x"}, 1), NULL);
  mkdir(repo_path("data/mapped"), 0777);
  write_pq(repo_path("data/mapped/hand.parquet"), src, 0);
  CHECK_OK(ms_write_batch_schema(e.repo, "fv_mapped", &f, &n, &err), &err);
  const char *want2[] = {"driver_id", "conv_rate", "event_timestamp", "trips", "other"};
  const char *types2[] = {"int32", "float64", "timestamp[ns]", "int64", "utf8"};
  CHECK_EQ_INT(n, 5);
  for (int i = 0; i < 5; i++) {
    CHECK_STR(f[i].name, want2[i]);
    CHECK_STR(ms_type_to_string(&f[i].type, buf, sizeof buf), types2[i]);
  }
  ms_repo_fields_free(f, n);
  /* refused views */
  ms_error_init(&err);
  CHECK(ms_write_batch_schema(e.repo, "nope", &f, &n, &err) == MS_ERR_NOT_FOUND);
  CHECK(ms_write_batch_schema(e.repo, "od", &f, &n, &err) == MS_ERR_INVALID);
  CHECK(strstr(err.message, "on-demand"));
  CHECK(ms_write_batch_schema(e.repo, "agg", &f, &n, &err) == MS_ERR_INVALID);
  CHECK(strstr(err.message, "aggregation"));
  env_close(&e);
}

/* A directory source that does not exist yet, then has data: new part files, one commit
 * each, registry records, generations 1, 2, 3. */
static void test_directory(void) {
  env e;
  CHECK(env_open(&e, "dir"));
  rows model = {0};
  for (int b = 0; b < 3; b++) {
    row x[50];
    int n = 10 + b * 7;
    random_rows(x, n, b);
    ms_table *t = batch_table(x, n, true, false, b);
    ms_write_result res;
    ms_error err;
    CHECK_OK(wb(&e, "fv_dir", t, &res, &err), &err);
    ms_table_release(t);
    CHECK_EQ_INT(res.rows_written, n);
    CHECK_EQ_INT(res.files_written, 1);
    CHECK_EQ_INT(res.generation, b + 1);
    CHECK_STR(res.target, repo_path("data/dir"));
    ms_write_result_reset(&res);
    for (int i = 0; i < n; i++) rows_push(&model, x[i]);
    CHECK(pull_all_matches(e.repo, "fv_dir", &model, true));
  }
  CHECK_EQ_INT(n_commits(&e, "source:dir_src", "committed"), 3);
  CHECK_EQ_INT(n_commits(&e, "source:dir_src", NULL), 3);
  ms_manifest m;
  memset(&m, 0, sizeof m);
  CHECK_OK(ms_manifest_read(repo_path("data/dir"), &m, NULL), NULL);
  CHECK_EQ_INT(m.generation, 3);
  CHECK_EQ_INT(m.n_files, 3);
  for (int i = 0; i < 3; i++) CHECK(!strncmp(m.files[i].path, "part-", 5) && strstr(m.files[i].path, ".parquet"));
  ms_manifest_reset(&m);
  CHECK(retrieval_matches(e.repo, &model));
  free(model.v);
  env_close(&e);
}

/* The date partition column: event_date=YYYY-MM-DD folders (no data yet), then batches
 * into the existing hive layout; a CSV directory source writes CSV parts. */
static void test_hive_and_csv_dir(void) {
  env e;
  CHECK(env_open(&e, "hive"));
  rows model = {0}, model_csv = {0};
  for (int b = 0; b < 3; b++) {
    row x[60];
    int n = 20 + b;
    random_rows(x, n, b);
    ms_table *t = batch_table(x, n, false, true, b + 1);
    ms_write_result res;
    ms_error err;
    CHECK_OK(wb(&e, "fv_hive", t, &res, &err), &err);
    ms_table_release(t);
    CHECK_EQ_INT(res.generation, b + 1);
    int days = 0;
    for (int d = 0; d < 4; d++) {
      bool any = false;
      for (int i = 0; i < n; i++) any |= (x[i].ts_us - T("2024-03-01") / 1000) / US_PER_DAY == d;
      days += any;
    }
    CHECK_EQ_INT(res.files_written, days);
    ms_write_result_reset(&res);
    for (int i = 0; i < n; i++) rows_push(&model, x[i]);
    CHECK(pull_all_matches(e.repo, "fv_hive", &model, false));

    random_rows(x, n, b);
    t = batch_table(x, n, false, false, b);
    CHECK_OK(wb(&e, "fv_csvdir", t, &res, &err), &err);
    ms_table_release(t);
    ms_write_result_reset(&res);
    for (int i = 0; i < n; i++) rows_push(&model_csv, x[i]);
    CHECK(pull_all_matches(e.repo, "fv_csvdir", &model_csv, false));
  }
  CHECK(dir_exists(repo_path("data/hive/event_date=2024-03-01")));
  CHECK(dir_exists(repo_path("data/hive/event_date=2024-03-04")));
  /* the partition column is not inside the files; the dataset types it as date32 */
  ms_dataset *ds = NULL;
  ms_error err;
  CHECK_OK(ms_dataset_open(NULL, repo_path("data/hive"), NULL, &ds, &err), &err);
  int k = -1;
  for (int i = 0; i < ms_dataset_num_fields(ds); i++)
    if (!strcmp(ms_dataset_field(ds, i)->name, "event_date")) k = i;
  CHECK(k >= 0 && ms_dataset_field_is_partition(ds, k) && ms_dataset_field(ds, k)->type.id == MS_TYPE_DATE32);
  ms_dataset_close(ds);
  /* CSV parts */
  ms_manifest m;
  memset(&m, 0, sizeof m);
  CHECK_OK(ms_manifest_read(repo_path("data/csvdir"), &m, NULL), NULL);
  CHECK(m.n_files == 3 && strstr(m.files[0].path, ".csv"));
  ms_manifest_reset(&m);
  free(model.v);
  free(model_csv.v);
  env_close(&e);
}

/* Single files: old rows then new, atomically, types of the file kept; a CSV file that
 * does not exist yet is created. */
static void test_single_files(void) {
  env e;
  CHECK(env_open(&e, "single"));
  rows model = {0};
  /* the existing Parquet file: trips int32, ts microseconds naive */
  row old[3];
  random_rows(old, 3, 0);
  int64_t id[3], ts[3], tr[3];
  double cv[3];
  for (int i = 0; i < 3; i++) {
    id[i] = old[i].id, ts[i] = old[i].ts_us * 1000, tr[i] = old[i].trips, cv[i] = old[i].conv;
    rows_push(&model, old[i]);
  }
  write_pq(repo_path("data/single.parquet"),
           mk_table("driver_id", col_i64(id, 3), "event_timestamp", col_ts(ts, 3, MS_UNIT_MICRO, ""), "conv_rate",
                    col_f64(cv, 3), "trips", col_int(MS_TYPE_INT32, tr, 3), NULL),
           0);
  ms_error err;
  for (int b = 1; b <= 3; b++) {
    row x[40];
    int n = 5 * b;
    random_rows(x, n, b);
    ms_table *t = batch_table(x, n, false, false, b);
    ms_write_result res;
    CHECK_OK(wb(&e, "fv_pq", t, &res, &err), &err);
    ms_table_release(t);
    CHECK_EQ_INT(res.rows_written, n);
    CHECK_EQ_INT(res.files_written, 1);
    CHECK_EQ_INT(res.generation, b);
    ms_write_result_reset(&res);
    for (int i = 0; i < n; i++) rows_push(&model, x[i]);
    CHECK(pull_all_matches(e.repo, "fv_pq", &model, false));
  }
  /* the file itself: old rows first, in order, its own types */
  ms_pq_file *pf = NULL;
  ms_table *t = NULL;
  CHECK_OK(ms_pq_open(NULL, repo_path("data/single.parquet"), &pf, &err), &err);
  CHECK_OK(ms_pq_read(pf, NULL, &t, NULL, &err), &err);
  ms_pq_close(pf);
  CHECK_EQ_INT(ms_table_num_rows(t), model.n);
  CHECK(ms_table_field(t, 3)->type.id == MS_TYPE_INT32);
  CHECK(ms_table_field(t, 1)->type.unit == MS_UNIT_MICRO && !ms_table_field(t, 1)->type.tz[0]);
  for (int64_t i = 0; i < model.n; i++) {
    CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, 0), i), model.v[i].id);
    CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, 1), i), model.v[i].ts_us);
  }
  ms_table_release(t);
  CHECK_EQ_INT(n_commits(&e, "source:pq_src", "committed"), 3);

  /* CSV: the file is created by the first batch (schema from the view), then appended */
  rows mc = {0};
  for (int b = 0; b < 3; b++) {
    row x[40];
    int n = 4 + b;
    random_rows(x, n, b);
    ms_table *bt = batch_table(x, n, false, false, b);
    ms_write_result res;
    CHECK_OK(wb(&e, "fv_csv", bt, &res, &err), &err);
    ms_table_release(bt);
    CHECK_EQ_INT(res.generation, b + 1);
    ms_write_result_reset(&res);
    for (int i = 0; i < n; i++) rows_push(&mc, x[i]);
    CHECK(pull_all_matches(e.repo, "fv_csv", &mc, false));
  }
  uint8_t *text = NULL;
  int64_t len = 0;
  CHECK_OK(ms_fs_read_all(NULL, repo_path("data/single.csv"), &text, &len, &err), &err);
  CHECK(len > 40 && !memcmp(text, "driver_id,event_timestamp,conv_rate,trips\n", 42));
  int lines = 0;
  for (int64_t i = 0; i < len; i++) lines += text[i] == '\n';
  CHECK_EQ_INT(lines, 1 + mc.n);
  ms_free(text);
  /* no stray files next to the single files: only the lock files */
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "cd '%s/data' && ls -A | LC_ALL=C sort | tr '\\n' ' '", g_dir);
  FILE *p = popen(cmd, "r");
  char listing[1024] = "";
  CHECK(p && fgets(listing, sizeof listing, p));
  pclose(p);
  CHECK_STR(listing, "_single.csv.morsel.lock _single.parquet.morsel.lock single.csv single.parquet ");
  free(model.v);
  free(mc.v);
  env_close(&e);
}

/* field_mapping: the batch uses logical names, the files physical ones. */
static void test_field_mapping(void) {
  env e;
  CHECK(env_open(&e, "mapped"));
  rows model = {0};
  ms_error err;
  for (int b = 0; b < 2; b++) {
    row x[30];
    int n = 12;
    random_rows(x, n, b);
    ms_table *t = batch_table(x, n, false, false, b);
    ms_write_result res;
    CHECK_OK(wb(&e, "fv_mapped", t, &res, &err), &err);
    ms_table_release(t);
    ms_write_result_reset(&res);
    for (int i = 0; i < n; i++) rows_push(&model, x[i]);
  }
  CHECK(pull_all_matches(e.repo, "fv_mapped", &model, false));
  ms_manifest m;
  memset(&m, 0, sizeof m);
  CHECK_OK(ms_manifest_read(repo_path("data/mapped"), &m, NULL), NULL);
  CHECK_EQ_INT(m.n_files, 2);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", repo_path("data/mapped"), m.files[0].path);
  ms_manifest_reset(&m);
  ms_pq_file *pf = NULL;
  CHECK_OK(ms_pq_open(NULL, path, &pf, &err), &err);
  const char *phys[] = {"drv", "ts_raw", "rate_raw", "trips"};
  CHECK_EQ_INT(ms_pq_num_fields(pf), 4);
  for (int i = 0; i < 4; i++) CHECK_STR(ms_pq_field(pf, i)->name, phys[i]);
  ms_pq_close(pf);
  /* physical names in a batch are extra columns (and the logical ones missing) */
  ms_table *t = mk_table("drv", col_i64((int64_t[]){1}, 1), "ts_raw", col_ts((int64_t[]){0}, 1, MS_UNIT_MICRO, "UTC"),
                         "rate_raw", col_f64((double[]){1}, 1), "trips", col_i64((int64_t[]){1}, 1), NULL);
  ms_write_result res;
  CHECK(wb(&e, "fv_mapped", t, &res, &err) == MS_ERR_INVALID);
  CHECK_STR(err.message, "batch for feature view 'fv_mapped' (source 'mapped_src'): missing columns: [conv_rate, "
                         "driver_id, event_timestamp]; extra columns: [drv, rate_raw, ts_raw]");
  ms_table_release(t);
  free(model.v);
  env_close(&e);
}

/* An existing empty directory; an empty batch writes no file and commits nothing. */
static void test_empty_source_dir(void) {
  env e;
  CHECK(env_open(&e, "empty"));
  mkdir(repo_path("data/dir"), 0777);
  row x[1];
  memset(x, 0, sizeof x);
  ms_table *t = batch_table(x, 0, true, false, 0);
  ms_write_result res;
  ms_error err;
  CHECK_OK(wb(&e, "fv_dir", t, &res, &err), &err);
  ms_table_release(t);
  CHECK_EQ_INT(res.rows_written, 0);
  CHECK_EQ_INT(res.files_written, 0);
  CHECK_EQ_INT(res.generation, 0);
  ms_write_result_reset(&res);
  CHECK_EQ_INT(n_commits(&e, "source:dir_src", NULL), 0);
  rows model = {0};
  random_rows(x, 1, 1);
  t = batch_table(x, 1, true, false, 0);
  CHECK_OK(wb(&e, "fv_dir", t, &res, &err), &err);
  ms_table_release(t);
  CHECK_EQ_INT(res.generation, 1);
  ms_write_result_reset(&res);
  rows_push(&model, x[0]);
  CHECK(pull_all_matches(e.repo, "fv_dir", &model, true));
  free(model.v);
  env_close(&e);
}

typedef struct refusal {
  const char *view;
  ms_table *t;
  ms_status st;
  int64_t row;
  const char *column;
  const char *msg; /* exact, or a prefix when ending in '*' */
} refusal;

/* Every refusal: nothing written anywhere, registry unchanged, the row and column named. */
static void test_refusals(void) {
  env e;
  CHECK(env_open(&e, "refuse"));
  ms_error err;
  ms_write_result res;
  /* some data first, so that the snapshots cover real files and registry records */
  row x[20];
  random_rows(x, 20, 0);
  ms_table *t = batch_table(x, 20, true, false, 0);
  CHECK_OK(wb(&e, "fv_dir", t, &res, &err), &err);
  ms_table_release(t);
  ms_write_result_reset(&res);
  t = batch_table(x, 20, false, true, 0);
  CHECK_OK(wb(&e, "fv_hive", t, &res, &err), &err);
  ms_table_release(t);
  ms_write_result_reset(&res);
  int64_t id1[1] = {1}, tr1[1] = {1};
  write_pq(repo_path("data/single.parquet"),
           mk_table("driver_id", col_i64(id1, 1), "event_timestamp", col_ts((int64_t[]){0}, 1, MS_UNIT_MICRO, "UTC"),
                    "conv_rate", col_f64((double[]){1}, 1), "trips", col_int(MS_TYPE_INT32, tr1, 1), NULL),
           0);
  char *before = snapshot();
  CHECK(before && strstr(before, "reg.db") && strstr(before, "single.parquet"));

  refusal cases[16];
  int nc = 0;
  row y[5];
  random_rows(y, 5, 9);
  /* missing / extra / mistyped */
  t = batch_table(y, 5, true, false, 0);
  ms_table *t2 = NULL;
  const char *sel[] = {"driver_id", "event_timestamp", "trips"};
  ms_table_select(t, sel, 3, &t2, NULL);
  ms_table_release(t);
  cases[nc++] = (refusal){"fv_dir", t2, MS_ERR_INVALID, -1, NULL,
                                   "batch for feature view 'fv_dir' (source 'dir_src'): missing columns: [conv_rate, created]"};
  cases[nc++] = (refusal){"fv_hive", batch_table(y, 5, true, true, 2), MS_ERR_INVALID, -1, NULL,
                                   "batch for feature view 'fv_hive' (source 'hive_src'): extra columns: [created]"};
  {
    ms_table *a = batch_table(y, 5, false, false, 0), *b = NULL;
    int64_t v[5] = {1, 2, 3, 4, 5};
    ms_field f[5];
    ms_column *c[5];
    for (int i = 0; i < 4; i++) f[i] = *ms_table_field(a, i), c[i] = ms_table_column(a, i);
    f[4] = (ms_field){"extra_one", ms_type(MS_TYPE_INT64), true};
    c[4] = col_i64(v, 5);
    /* trips as a string */
    int ti = ms_table_find_column(a, "trips");
    const char *s5[5] = {"1", "2", "3", "4", "5"};
    ms_column *sc = col_str(s5, 5);
    c[ti] = sc;
    f[ti].type = ms_type(MS_TYPE_UTF8);
    ms_table_create(f, c, 5, &b, NULL);
    ms_column_release(c[4]);
    ms_column_release(sc);
    ms_table_release(a);
    cases[nc++] = (refusal){"fv_pq", b, MS_ERR_INVALID, -1, NULL,
                                     "batch for feature view 'fv_pq' (source 'pq_src'): extra columns: [extra_one]; "
                                     "mistyped columns: [trips: got utf8, want int32]"};
  }
  /* null join key at row 3 */
  y[2].id = NUL;
  cases[nc++] = (refusal){"fv_dir", batch_table(y, 5, true, false, 1), MS_ERR_INVALID, 3, "driver_id",
                                   "batch: row 3, column 'driver_id': null value"};
  y[2].id = 1;
  /* null timestamp at row 5 */
  y[4].ts_us = NUL;
  cases[nc++] = (refusal){"fv_pq", batch_table(y, 5, false, false, 0), MS_ERR_INVALID, 5, "event_timestamp",
                                   "batch: row 5, column 'event_timestamp': null timestamp"};
  cases[nc++] = (refusal){"fv_hive", batch_table(y, 5, false, true, 0), MS_ERR_INVALID, 5, "event_timestamp",
                                   "batch: row 5, column 'event_timestamp': null timestamp"};
  y[4].ts_us = y[3].ts_us;
  /* trips out of the single file's int32 range at row 4 */
  y[3].trips = INT64_C(3000000000);
  {
    ms_table *a = batch_table(y, 5, false, false, 0), *b = NULL;
    int ti = ms_table_find_column(a, "trips");
    int64_t tv[5];
    for (int i = 0; i < 5; i++) tv[i] = y[i].trips;
    ms_field f[4];
    ms_column *c[4];
    for (int i = 0; i < 4; i++) f[i] = *ms_table_field(a, i), c[i] = ms_table_column(a, i);
    ms_column *ic = col_i64(tv, 5);
    c[ti] = ic;
    f[ti].type = ms_type(MS_TYPE_INT64);
    ms_table_create(f, c, 4, &b, NULL);
    ms_column_release(ic);
    ms_table_release(a);
    cases[nc++] = (refusal){"fv_pq", b, MS_ERR_INVALID, 4, "trips",
                                     "batch: row 4, column 'trips': value 3000000000 out of range for int32"};
  }
  y[3].trips = 1;
  /* a timestamp finer than the source's microseconds at row 2 */
  {
    int64_t ns[5];
    for (int i = 0; i < 5; i++) ns[i] = y[i].ts_us * 1000;
    ns[1] += 1;
    ms_table *a = batch_table(y, 5, true, false, 0), *b = NULL;
    int ti = ms_table_find_column(a, "event_timestamp");
    ms_field f[5];
    ms_column *c[5];
    for (int i = 0; i < 5; i++) f[i] = *ms_table_field(a, i), c[i] = ms_table_column(a, i);
    ms_column *tc = col_ts(ns, 5, MS_UNIT_NANO, "UTC");
    c[ti] = tc;
    f[ti].type = *ms_column_type(tc);
    ms_table_create(f, c, 5, &b, NULL);
    ms_column_release(tc);
    ms_table_release(a);
    cases[nc++] = (refusal){"fv_dir", b, MS_ERR_INVALID, 2, "event_timestamp",
                                     "batch: row 2, column 'event_timestamp': timestamp[ns, tz=UTC] value*"};
  }
  /* a null date partition value at row 1 (the date of a null ts is null) */
  {
    ms_table *a = batch_table(y, 5, false, true, 0), *b = NULL;
    int di = ms_table_find_column(a, "event_date");
    int64_t dv[5] = {NUL, 19800, 19800, 19800, 19800};
    ms_field f[5];
    ms_column *c[5];
    for (int i = 0; i < 5; i++) f[i] = *ms_table_field(a, i), c[i] = ms_table_column(a, i);
    ms_column *dc = col_int(MS_TYPE_DATE32, dv, 5);
    c[di] = dc;
    ms_table_create(f, c, 5, &b, NULL);
    ms_column_release(dc);
    ms_table_release(a);
    cases[nc++] = (refusal){"fv_hive", b, MS_ERR_INVALID, 1, "event_date",
                                     "batch: row 1, column 'event_date': null date"};
  }
  /* views that cannot be written */
  cases[nc++] = (refusal){"agg", batch_table(y, 5, true, false, 0), MS_ERR_INVALID, -1, NULL, "'agg' is an aggregation feature view*"};
  cases[nc++] = (refusal){"od", batch_table(y, 5, true, false, 0), MS_ERR_INVALID, -1, NULL, "'od' is an on-demand feature view*"};
  cases[nc++] = (refusal){"nope", batch_table(y, 5, true, false, 0), MS_ERR_NOT_FOUND, -1, NULL, "unknown feature view 'nope'"};

  for (int i = 0; i < nc; i++) {
    ms_error_init(&err);
    ms_write_options o;
    ms_write_options_init(&o);
    ms_status st = ms_write_batch(e.repo, e.reg, cases[i].view, cases[i].t, &o, &res, &err);
    CHECK_MSG(st == cases[i].st, "case %d: status %d (%s)", i, st, err.message);
    size_t ml = strlen(cases[i].msg);
    if (cases[i].msg[ml - 1] == '*') CHECK_MSG(!strncmp(err.message, cases[i].msg, ml - 1), "case %d: %s", i, err.message);
    else CHECK_MSG(!strcmp(err.message, cases[i].msg), "case %d: %s", i, err.message);
    CHECK_EQ_INT(err.row, cases[i].row);
    if (cases[i].column) CHECK_STR(err.column, cases[i].column);
    CHECK(res.target == NULL && res.rows_written == 0);
    char *after = snapshot();
    CHECK_MSG(after && !strcmp(before, after), "case %d changed files:\n%s\nvs\n%s", i, before, after);
    free(after);
    ms_table_release(cases[i].t);
  }
  /* files: an unparseable timestamp, a wrong type, a missing column, in CSV input */
  char in[4096];
  snprintf(in, sizeof in, "%s/in.csv", g_dir);
  static const struct {
    const char *text;
    int64_t row;
    const char *col;
  } files[] = {
      {"driver_id,event_timestamp,created,conv_rate,trips\n1,2024-03-01 00:00:00,2024-03-01 00:00:00,0.5,3\n"
       "2,2024-03-01 25:00:00,2024-03-01 00:00:00,0.5,3\n",
       3, "event_timestamp"},
      {"driver_id,event_timestamp,created,conv_rate,trips\n1,2024-03-01 00:00:00,2024-03-01 00:00:00,0.5,three\n", 2,
       "trips"},
      {"driver_id,event_timestamp,created,conv_rate,trips\n,2024-03-01 00:00:00,2024-03-01 00:00:00,0.5,3\n", 1,
       "driver_id"},
      {"driver_id,event_timestamp,conv_rate\n1,2024-03-01 00:00:00,0.5\n", -1, NULL},
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    write_text(in, files[i].text);
    ms_error_init(&err);
    CHECK(ms_write_batch_file(e.repo, e.reg, "fv_dir", in, NULL, &res, &err) != MS_OK);
    CHECK_EQ_INT(err.row, files[i].row);
    if (files[i].col) CHECK_STR(err.column, files[i].col);
    char *after = snapshot();
    CHECK_MSG(after && !strcmp(before, after), "file case %zu changed files", i);
    free(after);
  }
  /* and a good file goes through, named in nothing */
  write_text(in, "event_timestamp,driver_id,created,conv_rate,trips\n2024-03-01 00:00:00,1,2024-03-01T00:00:00Z,0.5,3\n");
  ms_error_init(&err);
  CHECK_OK(ms_write_batch_file(e.repo, e.reg, "fv_dir", in, NULL, &res, &err), &err);
  CHECK_EQ_INT(res.rows_written, 1);
  CHECK_EQ_INT(res.generation, 2);
  ms_write_result_reset(&res);
  free(before);
  env_close(&e);
}

/* Arrow C stream input. */
static void test_arrow_stream(void) {
  env e;
  CHECK(env_open(&e, "arrow"));
  row x[30];
  random_rows(x, 30, 0);
  ms_table *t = batch_table(x, 30, true, false, 3);
  ms_table *halves[2];
  CHECK_OK(ms_table_slice(t, 0, 13, &halves[0], NULL), NULL);
  CHECK_OK(ms_table_slice(t, 13, 17, &halves[1], NULL), NULL);
  struct ArrowArrayStream s;
  CHECK_OK(ms_table_stream_export(halves, 2, &s, NULL), NULL);
  ms_table_release(halves[0]);
  ms_table_release(halves[1]);
  ms_table_release(t);
  ms_write_result res;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_write_batch_arrow(e.repo, e.reg, "fv_dir", &s, NULL, &res, &err), &err);
  CHECK_EQ_INT(res.rows_written, 30);
  ms_write_result_reset(&res);
  rows model = {0};
  for (int i = 0; i < 30; i++) rows_push(&model, x[i]);
  CHECK(pull_all_matches(e.repo, "fv_dir", &model, true));
  free(model.v);
  env_close(&e);
}

/* Random batches into every kind of source, several per source, interleaved; after each,
 * pull-all equals the model and retrieval of fv_dir equals the brute force. */
static void test_random_batches(void) {
  env e;
  CHECK(env_open(&e, "random"));
  static const char *views[] = {"fv_dir", "fv_hive", "fv_pq", "fv_csv", "fv_mapped", "fv_csvdir"};
  rows model[6];
  memset(model, 0, sizeof model);
  int64_t gens[6] = {0};
  for (int b = 0; b < 30; b++) {
    int v = (int)(rnd() % 6);
    int n = (int)(rnd() % 60);
    row x[64];
    random_rows(x, n, b + 1);
    ms_table *t = batch_table(x, n, v == 0, v == 1, (int)(rnd() % 5));
    ms_write_result res;
    ms_error err;
    CHECK_OK(wb(&e, views[v], t, &res, &err), &err);
    ms_table_release(t);
    CHECK_EQ_INT(res.rows_written, n);
    if (n > 0) CHECK_EQ_INT(res.generation, ++gens[v]);
    ms_write_result_reset(&res);
    for (int i = 0; i < n; i++) rows_push(&model[v], x[i]);
    if (model[v].n > 0) CHECK_MSG(pull_all_matches(e.repo, views[v], &model[v], v == 0), "batch %d view %s", b, views[v]);
    if (v == 0 && model[0].n > 0) CHECK(retrieval_matches(e.repo, &model[0]));
  }
  for (int v = 0; v < 6; v++) {
    char ds[64];
    static const char *srcs[] = {"dir_src", "hive_src", "pq_src", "csv_src", "mapped_src", "csvdir_src"};
    snprintf(ds, sizeof ds, "source:%s", srcs[v]);
    CHECK_EQ_INT(n_commits(&e, ds, "committed"), gens[v]);
    free(model[v].v);
  }
  env_close(&e);
}

/* Two processes appending to the same directory source and the same single file at once:
 * every row of both present exactly once, one committed record per batch. Rows are told
 * apart by their trips value (unique per process, batch and row). */
static void test_concurrent_appenders(void) {
  env e;
  CHECK(env_open(&e, "concurrent"));
  env_close(&e);
  enum { NP = 2, NB = 4, NR = 25 };
  static const char *views[] = {"fv_dir", "fv_pq"};
  pid_t pids[NP];
  for (int p = 0; p < NP; p++) {
    pids[p] = fork();
    CHECK(pids[p] >= 0);
    if (pids[p] == 0) {
      env c;
      if (!env_open_existing(&c)) _exit(2);
      g_rng = 0x1234567ull + (uint64_t)p * 7919;
      for (int b = 0; b < NB; b++)
        for (int v = 0; v < 2; v++) {
          row x[NR];
          random_rows(x, NR, b);
          for (int i = 0; i < NR; i++) x[i].trips = (int64_t)p * 100000 + b * 1000 + i;
          ms_table *t = batch_table(x, NR, v == 0, false, b);
          ms_write_result res;
          ms_error err;
          if (wb(&c, views[v], t, &res, &err) != MS_OK) _exit(3);
          ms_table_release(t);
          ms_write_result_reset(&res);
        }
      env_close(&c);
      _exit(0);
    }
  }
  for (int p = 0; p < NP; p++) {
    int status = 0;
    waitpid(pids[p], &status, 0);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %d", p, status);
  }
  CHECK(env_open_existing(&e));
  for (int v = 0; v < 2; v++) {
    /* the model: every process's rows (regenerated from the same seeds), as a multiset
     * keyed by trips */
    rows model = {0};
    for (int p = 0; p < NP; p++) {
      g_rng = 0x1234567ull + (uint64_t)p * 7919;
      for (int b = 0; b < NB; b++)
        for (int vv = 0; vv < 2; vv++) {
          row x[NR];
          random_rows(x, NR, b);
          for (int i = 0; i < NR; i++) x[i].trips = (int64_t)p * 100000 + b * 1000 + i;
          if (vv == v)
            for (int i = 0; i < NR; i++) rows_push(&model, x[i]);
        }
    }
    ms_pull_request req;
    ms_pull_request_init(&req);
    req.mode = MS_PULL_ALL;
    req.feature_view = views[v];
    ms_retrieval_job *job = NULL;
    ms_table *t = NULL;
    ms_error err;
    ms_error_init(&err);
    CHECK_OK(ms_pull(e.repo, &req, &job, &err), &err);
    CHECK_OK(ms_retrieval_job_to_table(job, &t, &err), &err);
    ms_retrieval_job_free(job);
    CHECK_EQ_INT(ms_table_num_rows(t), model.n);
    /* each trips value once, with its row's other values */
    int cn = ms_table_find_column(t, "trips"), ci = ms_table_find_column(t, "driver_id"),
        ct = ms_table_find_column(t, "event_timestamp");
    for (int64_t i = 0; i < model.n; i++) model.v[i].seq = 0;
    for (int64_t r = 0; r < ms_table_num_rows(t); r++) {
      int64_t tr = ms_column_get_i64(ms_table_column(t, cn), r);
      int64_t k = 0;
      while (k < model.n && model.v[k].trips != tr) k++;
      CHECK_MSG(k < model.n && model.v[k].seq == 0, "%s: trips %lld unknown or twice", views[v], (long long)tr);
      model.v[k].seq = 1;
      CHECK(ms_column_get_i64(ms_table_column(t, ci), r) == model.v[k].id);
      CHECK(get_us(ms_table_column(t, ct), r) == model.v[k].ts_us);
    }
    ms_table_release(t);
    free(model.v);
    static const char *ds[] = {"source:dir_src", "source:pq_src"};
    CHECK_EQ_INT(n_commits(&e, ds[v], "committed"), NP * NB);
    CHECK_EQ_INT(n_commits(&e, ds[v], NULL), NP * NB);
  }
  env_close(&e);
}

/* A batch larger in memory than target_partition_size_mb is cut into several files, in
 * order; the dataset reads the batch back exactly. */
static void test_large_batch_files(void) {
  make_repo("large", "  target_partition_size_mb: 1\n", k_defs);
  env e;
  e.repo = load(g_dir);
  CHECK(e.repo);
  CHECK(ms_registry_open(ms_repo_get_config(e.repo)->registry_location, &e.reg, NULL) == MS_OK);
  enum { N = 100000 };
  int64_t *id = malloc(N * sizeof *id), *ts = malloc(N * sizeof *ts), *tr = malloc(N * sizeof *tr);
  double *cv = malloc(N * sizeof *cv);
  for (int i = 0; i < N; i++) {
    id[i] = i % 977;
    ts[i] = T("2024-03-01") + (int64_t)i * 1000000000LL;
    tr[i] = i;
    cv[i] = i % 13 ? (double)i / 4 : NAN;
  }
  /* 4 columns of 8 bytes: about 3.2 MB in memory, so at least 3 files of about 1 MB */
  ms_table *t = mk_table("driver_id", col_i64(id, N), "event_timestamp", col_ts(ts, N, MS_UNIT_MICRO, "UTC"),
                         "conv_rate", col_f64(cv, N), "trips", col_i64(tr, N), NULL);
  ms_write_result res;
  ms_error err;
  CHECK_OK(wb(&e, "fv_pq", t, &res, &err), &err); /* a single file: never cut */
  CHECK_EQ_INT(res.files_written, 1);
  ms_write_result_reset(&res);
  CHECK_OK(wb(&e, "fv_mapped", t, &res, &err), &err);
  CHECK_MSG(res.files_written >= 3 && res.files_written <= 5, "%lld files", (long long)res.files_written);
  int64_t nfiles = res.files_written;
  CHECK_EQ_INT(res.generation, 1);
  ms_write_result_reset(&res);
  ms_dataset *ds = NULL;
  ms_table *back = NULL;
  CHECK_OK(ms_dataset_open(NULL, repo_path("data/mapped"), NULL, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_files(ds), nfiles);
  CHECK_OK(ms_dataset_read(ds, NULL, &back, NULL, &err), &err);
  ms_dataset_close(ds);
  CHECK_EQ_INT(ms_table_num_rows(back), N);
  CHECK(col_is_i64(back, "drv", id, N) && col_is_i64(back, "trips", tr, N) && col_is_f64(back, "rate_raw", cv, N));
  ms_table_release(back);
  ms_table_release(t);
  free(id), free(ts), free(tr), free(cv);
  env_close(&e);
}

MS_TEST_MAIN(MS_TEST(test_schema), MS_TEST(test_directory), MS_TEST(test_hive_and_csv_dir),
             MS_TEST(test_single_files), MS_TEST(test_field_mapping), MS_TEST(test_empty_source_dir),
             MS_TEST(test_refusals), MS_TEST(test_arrow_stream), MS_TEST(test_random_batches),
             MS_TEST(test_concurrent_appenders), MS_TEST(test_large_batch_files))
