/* Feature logging (include/morsel/write.h, src/write/wr_logs.c, src/repo/def_logging.c):
 *  - the repository's `logging:` block: accepted values, canonical JSON, diff summary, and
 *    every refusal at its file:line:col;
 *  - the log schema of a service with an alias, a join_key_map, several views sharing a
 *    key and an on-demand view's request columns; partition_by accepts exactly the
 *    schema's columns (minus the ones that cannot be folders);
 *  - Feast's test (feast-offline-spec 3.5): random logs written in two half-batches, read
 *    back over [min(__log_timestamp), max + 1s], every column but __log_date equal after
 *    sorting by __request_id; random sub-ranges against a brute-force filter of the input;
 *    the partition folders and the manifest on disk; registry records;
 *  - sampling: whole requests kept or dropped, exactly the set an independent XXH3
 *    computation gives, the same in two runs, the rate within tolerance over 10,000
 *    requests;
 *  - refusals (missing / extra / mistyped columns, null __log_timestamp or __request_id,
 *    a __log_date that is not the timestamp's date, a service without logging) naming the
 *    row and column, with nothing written. */
#include <dirent.h>
#include <xxhash.h>

#include "morsel/dataset.h"
#include "morsel/registry.h"
#include "morsel/store.h"
#include "morsel/write.h"
#include "offline/offline_fixture.h"

#define US INT64_C(1000)
#define MS_COUNT_OF(a) ((int)(sizeof a / sizeof a[0]))

static const char *k_defs =
    "entities:\n"
    "  - name: driver\n"
    "    join_keys: [driver_id]\n"
    "    value_type: int64\n"
    "  - name: customer\n"
    "    join_keys: [customer_id]\n"
    "sources:\n"
    "  - name: stats_src\n"
    "    path: data/stats.parquet\n"
    "    timestamp_field: event_timestamp\n"
    "feature_views:\n"
    "  - name: driver_stats\n"
    "    entities: [driver, customer]\n"
    "    source: stats_src\n"
    "    schema:\n"
    "      - {name: conv_rate, dtype: float64}\n"
    "      - {name: trips, dtype: int64}\n"
    "  - name: driver_extra\n"
    "    entities: [driver]\n"
    "    source: stats_src\n"
    "    schema:\n"
    "      - {name: rating, dtype: float32}\n"
    "      - {name: city, dtype: string}\n"
    "  - name: driver_hourly\n"
    "    entities: [driver]\n"
    "    source: stats_src\n"
    "    schema:\n"
    "      - {name: active, dtype: bool}\n"
    "      - {name: rating, dtype: float32}\n"
    "on_demand_feature_views:\n"
    "  - name: adjusted\n"
    "    sources: [driver_stats]\n"
    "    request:\n"
    "      - {name: val_to_add, dtype: int64}\n"
    "    schema:\n"
    "      - {name: conv_plus, dtype: float64, expression: \"conv_rate + val_to_add\"}\n"
    "feature_services:\n"
    "  - name: svc\n"
    "    features:\n"
    "      - {feature_view: driver_stats, alias: ds, join_key_map: {driver_id: driver}}\n"
    "      - driver_extra\n"
    "      - driver_hourly: [active]\n"
    "      - adjusted\n"
    "    logging:\n"
    "      destination: {path: logs/svc, partition_by: [__log_date]}\n"
    "  - name: sampled\n"
    "    features: [driver_extra]\n"
    "    logging:\n"
    "      destination: {path: logs/sampled}\n"
    "      sample_rate: 0.3\n"
    "  - name: sampled_again\n"
    "    features: [driver_extra]\n"
    "    logging: {destination: {path: logs/sampled_again}, sample_rate: 0.3}\n"
    "  - name: by_driver\n"
    "    features: [driver_extra]\n"
    "    logging:\n"
    "      destination: {path: logs/by_driver, partition_by: [__log_date, driver_id]}\n"
    "  - name: nolog\n"
    "    features: [driver_extra]\n";

/* The source file the views read (for the type of customer_id, which has no value_type). */
static void write_stats_source(void) {
  int64_t ids[2] = {1, 2}, ts[2] = {T("2024-01-01"), T("2024-01-02")}, trips[2] = {3, 4};
  double conv[2] = {0.5, 0.25};
  write_pq(repo_path("data/stats.parquet"),
           mk_table("driver_id", col_i64(ids, 2), "customer_id", col_int(MS_TYPE_INT32, ids, 2),
                    "event_timestamp", col_ts(ts, 2, MS_UNIT_MICRO, "UTC"), "conv_rate",
                    col_f64(conv, 2), "trips", col_i64(trips, 2), "rating",
                    col_int(MS_TYPE_INT16, ids, 2), "active", col_int(MS_TYPE_INT8, ids, 2),
                    "city", col_str((const char *const[]){"a", "b"}, 2), NULL),
           0);
}

static ms_column *col_f32(const double *v, int n) {
  ms_datatype t = ms_type(MS_TYPE_FLOAT32);
  ms_column_builder *b = NULL;
  ms_column *c = NULL;
  if (ms_column_builder_create(&t, n, &b, NULL)) return NULL;
  for (int i = 0; i < n; i++) isnan(v[i]) ? ms_builder_append_null(b) : ms_builder_append_f64(b, v[i]);
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

static ms_repo *setup(const char *tag) {
  make_repo(tag, NULL, k_defs);
  write_stats_source();
  return load(g_dir);
}

/* ---------------- random logs in a schema ---------------- */

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

/* n rows; request i/per gets rows i (so requests have `per` rows each, ts distinct inside
 * a request); with_date adds __log_date. Values ~10% null except ts and request id. */
static ms_table *random_logs(const ms_field *f, int nf, int64_t n, int per, bool with_date,
                             int64_t t0_us) {
  ms_field *ff = ms_calloc((size_t)nf, sizeof *ff);
  ms_column **cols = ms_calloc((size_t)nf, sizeof *cols);
  int64_t *ts = ms_malloc((size_t)n * sizeof *ts);
  for (int64_t r = 0; r < n; r++) ts[r] = t0_us + (int64_t)(rnd() % (3 * 86400 * INT64_C(1000000)));
  int m = 0;
  for (int i = 0; i < nf; i++) {
    if (!with_date && !strcmp(f[i].name, "__log_date")) continue;
    ms_column_builder *b = NULL;
    ms_column_builder_create(&f[i].type, n, &b, NULL);
    bool sys = !strncmp(f[i].name, "__", 2);
    for (int64_t r = 0; r < n; r++) {
      if (!sys && rnd() % 10 == 0) {
        ms_builder_append_null(b);
        continue;
      }
      if (!strcmp(f[i].name, "__log_timestamp")) ms_builder_append_i64(b, ts[r]);
      else if (!strcmp(f[i].name, "__log_date")) ms_builder_append_i64(b, ts[r] / (86400 * INT64_C(1000000)));
      else if (!strcmp(f[i].name, "__request_id")) {
        char id[32];
        snprintf(id, sizeof id, "req-%06lld", (long long)(r / per));
        ms_builder_append_bytes(b, id, (int64_t)strlen(id));
      } else {
        switch (f[i].type.id) {
          case MS_TYPE_BOOL: ms_builder_append_bool(b, rnd() & 1); break;
          case MS_TYPE_INT32: ms_builder_append_i64(b, (int64_t)(rnd() % 2000) - 1000); break;
          case MS_TYPE_INT64: ms_builder_append_i64(b, (int64_t)(rnd() % 7)); break; /* ties */
          case MS_TYPE_FLOAT32: case MS_TYPE_FLOAT64: ms_builder_append_f64(b, (double)(rnd() % 1000) / 8); break;
          case MS_TYPE_UTF8: {
            char s[16];
            snprintf(s, sizeof s, "c%d", (int)(rnd() % 5));
            ms_builder_append_bytes(b, s, (int64_t)strlen(s));
            break;
          }
          case MS_TYPE_TIMESTAMP: ms_builder_append_i64(b, ts[r] - (int64_t)(rnd() % 1000000)); break;
          default: ms_builder_append_i64(b, 19000 + (int64_t)(rnd() % 3)); break;
        }
      }
    }
    ms_builder_finish(b, &cols[m], NULL);
    ms_column_builder_destroy(b);
    ff[m] = f[i];
    ff[m].nullable = true;
    m++;
  }
  ms_table *t = NULL;
  ms_table_create(ff, cols, m, &t, NULL);
  for (int i = 0; i < m; i++) ms_column_release(cols[i]);
  ms_free(cols);
  ms_free(ff);
  ms_free(ts);
  return t;
}

static ms_table *sorted_by(const ms_table *t, const char *c1, const char *c2) {
  ms_sort_key k[2] = {{ms_table_find_column(t, c1), false, true}, {c2 ? ms_table_find_column(t, c2) : 0, false, true}};
  int64_t *perm = NULL;
  ms_table *out = NULL;
  if (ms_table_sort_indices(t, k, c2 ? 2 : 1, &perm, NULL) == MS_OK)
    ms_table_take(t, perm, ms_table_num_rows(t), &out, NULL);
  ms_free(perm);
  return out;
}

static ms_table *pull_logs(ms_repo *r, const char *svc, bool has_lo, int64_t lo_ns, bool has_hi, int64_t hi_ns,
                           ms_error *err) {
  ms_pull_request req;
  ms_pull_request_init(&req);
  req.mode = MS_PULL_ALL;
  req.feature_service_logs = svc;
  req.has_start = has_lo;
  req.start_ns = lo_ns;
  req.has_end = has_hi;
  req.end_ns = hi_ns;
  ms_retrieval_job *job = NULL;
  ms_table *t = NULL;
  if (ms_pull(r, &req, &job, err) == MS_OK) ms_retrieval_job_to_table(job, &t, err);
  ms_retrieval_job_free(job);
  return t;
}

/* Every column of `want` but __log_date equals the column of the same name in `got` (both
 * sorted the same way); got has exactly want's columns. */
static bool same_logs(const ms_table *want, const ms_table *got) {
  if (ms_table_num_rows(want) != ms_table_num_rows(got)) {
    fprintf(stderr, "rows: want %lld, got %lld\n", (long long)ms_table_num_rows(want), (long long)ms_table_num_rows(got));
    return false;
  }
  /* an input without __log_date gets it back (derived) */
  int extra = ms_table_find_column(want, "__log_date") < 0 && ms_table_find_column(got, "__log_date") >= 0;
  if (ms_table_num_columns(want) + extra != ms_table_num_columns(got)) {
    fprintf(stderr, "columns: want %d, got %d\n", ms_table_num_columns(want), ms_table_num_columns(got));
    return false;
  }
  for (int i = 0; i < ms_table_num_columns(want); i++) {
    const char *name = ms_table_field(want, i)->name;
    int j = ms_table_find_column(got, name);
    if (j < 0) {
      fprintf(stderr, "column %s missing\n", name);
      return false;
    }
    if (!strcmp(name, "__log_date")) continue;
    if (!ms_column_equal(ms_table_column(want, i), ms_table_column(got, j))) {
      char a[64], b[64];
      fprintf(stderr, "column %s differs (%s vs %s)\n", name, ms_type_to_string(ms_column_type(ms_table_column(want, i)), a, 64),
              ms_type_to_string(ms_column_type(ms_table_column(got, j)), b, 64));
      return false;
    }
  }
  return true;
}

static bool exists(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0;
}

/* ---------------- repository ---------------- */

/* Loads defs that must fail; every expected "file:line:col: text" must be among the problems. */
static bool load_fails_with(const char *tag, const char *defs, const char *const *want, int n_want) {
  make_repo(tag, NULL, defs);
  write_stats_source();
  ms_repo *r = NULL;
  char **probs = NULL;
  int np = 0;
  ms_error err;
  ms_error_init(&err);
  ms_status st = ms_repo_load(g_dir, NULL, &r, &probs, &np, &err);
  bool ok = st != MS_OK;
  if (!ok) fprintf(stderr, "%s: loaded, want a failure\n", tag);
  for (int k = 0; ok && k < n_want; k++) {
    bool found = false;
    for (int i = 0; i < np; i++)
      if (strstr(probs[i], want[k])) found = true;
    if (!found) {
      fprintf(stderr, "%s: no problem containing \"%s\"; got:\n", tag, want[k]);
      for (int i = 0; i < np; i++) fprintf(stderr, "  %s\n", probs[i]);
      ok = false;
    }
  }
  ms_repo_problems_free(probs, np);
  ms_repo_free(r);
  return ok;
}

static const char *k_base =
    "entities:\n"
    "  - {name: driver, join_keys: [driver_id], value_type: int64}\n"
    "sources:\n"
    "  - {name: s, path: data/stats.parquet, timestamp_field: event_timestamp}\n"
    "feature_views:\n"
    "  - name: fv\n"
    "    entities: [driver]\n"
    "    source: s\n"
    "    schema: [{name: conv_rate, dtype: float64}]\n"
    "feature_services:\n"; /* line 10 */

static void test_repo_logging_errors(void) {
  char defs[4096];
  snprintf(defs, sizeof defs,
           "%s"
           "  - name: a\n"                                      /* 11 */
           "    features: [fv]\n"                               /* 12 */
           "    logging:\n"                                     /* 13 */
           "      destination:\n"                               /* 14 */
           "        path: logs/a\n"                             /* 15 */
           "        partition: [__log_date]\n"                  /* 16 */
           "      sample_rte: 0.5\n"                            /* 17 */
           "  - name: b\n"                                      /* 18 */
           "    features: [fv]\n"                               /* 19 */
           "    logging:\n"                                     /* 20 */
           "      destination: {partition_by: [__log_dat, fv__conv_rate__timestamp]}\n" /* 21 */
           "      sample_rate: 0\n"                             /* 22 */
           "  - name: c\n"                                      /* 23 */
           "    features: [fv]\n"                               /* 24 */
           "    logging: {destination: {path: logs/c.parquet}, sample_rate: 1.5}\n" /* 25 */
           "  - name: d\n"                                      /* 26 */
           "    features: [fv]\n"                               /* 27 */
           "    logging:\n"                                     /* 28 */
           "      destination: {path: logs/a/inner, partition_by: [driver_id, __log_timestamp, __log_date, driver_id]}\n" /* 29 */
           "      sample_rate: lots\n"                          /* 30 */
           "  - name: e\n"                                      /* 31 */
           "    features: [fv]\n"                               /* 32 */
           "    logging: {destination: {path: data}}\n"         /* 33 */
           "  - name: f\n"                                      /* 34 */
           "    features: [fv]\n"                               /* 35 */
           "    logging: [x]\n",                                /* 36 */
           k_base);
  const char *want[] = {
      "defs.yaml:16:9: unknown key 'partition' in logging destination; did you mean 'partition_by'?",
      "defs.yaml:17:7: unknown key 'sample_rte' in logging; did you mean 'sample_rate'?",
      "defs.yaml:21:20: feature service 'b': logging destination needs a path",
      "defs.yaml:21:36: feature service 'b': partition_by column '__log_dat' is not a column of the service's "
      "log schema (did you mean '__log_date'?)",
      "defs.yaml:21:47: feature service 'b': cannot partition logs by 'fv__conv_rate__timestamp'",
      "defs.yaml:22:20: feature service 'b': sample_rate must be a number in (0, 1]",
      "defs.yaml:25:35: feature service 'c': logging destination 'logs/c.parquet' is a directory",
      "defs.yaml:25:65: feature service 'c': sample_rate must be a number in (0, 1]",
      "defs.yaml:29:27: feature service 'd': logging destination",
      "overlaps that of feature service 'a'",
      "defs.yaml:29:67: feature service 'd': cannot partition logs by '__log_timestamp'",
      "defs.yaml:29:96: feature service 'd': partition_by lists 'driver_id' twice",
      "defs.yaml:30:20: feature service 'd': sample_rate must be a number in (0, 1] (the share of requests "
      "logged), got 'lots'",
      "defs.yaml:33:35: feature service 'e': logging destination",
      "overlaps the path of source 's'",
      "defs.yaml:36:14: feature service 'f': logging must be a mapping",
  };
  CHECK(load_fails_with("repo_errors", defs, want, MS_COUNT_OF(want)));
}

static void test_repo_logging_accepted(void) {
  char defs[4096];
  snprintf(defs, sizeof defs,
           "%s"
           "  - name: a\n"
           "    features: [fv]\n"
           "    logging:\n"
           "      destination: {path: logs/a, partition_by: [__log_date, driver_id]}\n"
           "      sample_rate: 0.25\n"
           "  - name: b\n"
           "    features: [fv]\n"
           "    logging: {destination: {path: /tmp/abs_logs_b}}\n"
           "  - name: c\n"
           "    features: [fv]\n",
           k_base);
  make_repo("repo_ok", NULL, defs);
  ms_repo *r = load(g_dir);
  CHECK(r);
  const ms_feature_service_def *a = ms_repo_feature_service(r, 0), *b = ms_repo_feature_service(r, 1),
                               *c = ms_repo_feature_service(r, 2);
  CHECK(a->has_logging && b->has_logging && !c->has_logging);
  CHECK_STR(a->log_path, repo_path("logs/a"));
  CHECK_EQ_INT(a->n_log_partition_by, 2);
  CHECK_STR(a->log_partition_by[1], "driver_id");
  CHECK(a->log_sample_rate == 0.25);
  CHECK_STR(b->log_path, "/tmp/abs_logs_b");
  CHECK(b->log_sample_rate == 1.0);
  CHECK_EQ_INT(b->n_log_partition_by, 0);
  const ms_reg_object *objs = NULL;
  const ms_reg_edge *edges = NULL;
  int n = 0, ne = 0;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_repo_objects(r, &objs, &n, &edges, &ne, &err), &err);
  const char *ja = NULL, *jb = NULL, *jc = NULL;
  for (int i = 0; i < n; i++)
    if (!strcmp(objs[i].kind, "feature_service")) {
      if (!strcmp(objs[i].name, "a")) ja = objs[i].json;
      if (!strcmp(objs[i].name, "b")) jb = objs[i].json;
      if (!strcmp(objs[i].name, "c")) jc = objs[i].json;
    }
  CHECK(ja && jb && jc);
  /* the path as written (relative), sample_rate in its shortest form */
  CHECK_MSG(strstr(ja, "\"logging\":{\"destination\":{\"partition_by\":[\"__log_date\",\"driver_id\"],"
                       "\"path\":\"logs/a\"},\"sample_rate\":0.25}"),
            "%s", ja);
  CHECK_MSG(strstr(jb, "\"logging\":{\"destination\":{\"partition_by\":[],\"path\":\"/tmp/abs_logs_b\"},"
                       "\"sample_rate\":1}"),
            "%s", jb);
  CHECK_MSG(strstr(jc, "\"logging\":null"), "%s", jc);
  /* diff summaries */
  char *s = ms_repo_diff_summary("feature_service", jb, ja);
  CHECK_MSG(s && strstr(s, "logging.destination.partition_by: [] -> [\"__log_date\",\"driver_id\"]") &&
                strstr(s, "logging.destination.path: /tmp/abs_logs_b -> logs/a") &&
                strstr(s, "logging.sample_rate: 1 -> 0.25"),
            "%s", s ? s : "(null)");
  ms_free(s);
  s = ms_repo_diff_summary("feature_service", jc, ja);
  CHECK_MSG(s && strstr(s, "logging: null -> {"), "%s", s ? s : "(null)");
  ms_free(s);
  char *jb_copy = ms_strdup(jb); /* the objects live until ms_repo_free */
  ms_repo_free(r);
  /* 1.0 and 1 hash the same */
  char d2[4096];
  snprintf(d2, sizeof d2, "%s  - name: b\n    features: [fv]\n    logging: {destination: {path: /tmp/abs_logs_b}, sample_rate: 1.0}\n", k_base);
  make_repo("repo_ok2", NULL, d2);
  r = load(g_dir);
  CHECK(r);
  CHECK_OK(ms_repo_objects(r, &objs, &n, &edges, &ne, &err), &err);
  bool same = false;
  for (int i = 0; i < n; i++)
    if (!strcmp(objs[i].kind, "feature_service")) same = !strcmp(objs[i].json, jb_copy);
  ms_free(jb_copy);
  CHECK(same);
  ms_repo_free(r);
}

/* ---------------- log schema ---------------- */

static void test_log_schema(void) {
  ms_repo *r = setup("schema");
  CHECK(r);
  ms_field *f = NULL;
  int n = 0;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_log_schema(r, "svc", &f, &n, &err), &err);
  static const struct { const char *name, *type; } want[] = {
      {"driver", "int64"},  /* driver_stats' driver_id through join_key_map */
      {"customer_id", "int32"}, /* no value_type: the source column's type */
      {"driver_id", "int64"}, /* driver_extra (driver_hourly shares it: once) */
      {"val_to_add", "int64"}, /* the on-demand view's request column */
      {"ds__conv_rate", "float64"},
      {"ds__conv_rate__timestamp", "timestamp[us, tz=UTC]"},
      {"ds__conv_rate__status", "int32"},
      {"ds__trips", "int64"},
      {"ds__trips__timestamp", "timestamp[us, tz=UTC]"},
      {"ds__trips__status", "int32"},
      {"driver_extra__rating", "float32"},
      {"driver_extra__rating__timestamp", "timestamp[us, tz=UTC]"},
      {"driver_extra__rating__status", "int32"},
      {"driver_extra__city", "utf8"},
      {"driver_extra__city__timestamp", "timestamp[us, tz=UTC]"},
      {"driver_extra__city__status", "int32"},
      {"driver_hourly__active", "bool"},
      {"driver_hourly__active__timestamp", "timestamp[us, tz=UTC]"},
      {"driver_hourly__active__status", "int32"},
      {"adjusted__conv_plus", "float64"},
      {"adjusted__conv_plus__timestamp", "timestamp[us, tz=UTC]"},
      {"adjusted__conv_plus__status", "int32"},
      {"__log_timestamp", "timestamp[us, tz=UTC]"},
      {"__log_date", "date32"},
      {"__request_id", "utf8"},
  };
  int nw = (int)(sizeof want / sizeof want[0]);
  for (int i = 0; i < n && i < nw; i++) {
    char tb[64];
    ms_type_to_string(&f[i].type, tb, sizeof tb);
    CHECK_STR(f[i].name, want[i].name);
    CHECK_STR(tb, want[i].type);
  }
  CHECK_EQ_INT(n, nw);
  /* partition_by accepts exactly the schema's columns, bar the ones that cannot be folders */
  char defs[8192];
  const char *pb_line = "      destination: {path: logs/svc, partition_by: [__log_date]}\n";
  const char *at = strstr(k_defs, pb_line);
  CHECK(at);
  for (int i = 0; i <= n; i++) {
    const char *name = i < n ? f[i].name : "not_a_log_column";
    bool ok = i < n && strcmp(name, "__log_timestamp") && strcmp(name, "__request_id") && !strstr(name, "__timestamp");
    snprintf(defs, sizeof defs, "%.*s      destination: {path: logs/svc, partition_by: [%s]}\n%s", (int)(at - k_defs),
             k_defs, name, at + strlen(pb_line));
    make_repo("schema_pb", NULL, defs);
    ms_repo *r2 = NULL;
    ms_status st = ms_repo_load(g_dir, NULL, &r2, NULL, NULL, &err);
    CHECK_MSG((st == MS_OK) == ok, "partition_by [%s]: %s", name, st ? err.message : "accepted");
    ms_repo_free(r2);
  }
  /* unknown service, with a suggestion */
  ms_field *f2 = NULL;
  int n2 = 0;
  CHECK(ms_log_schema(r, "svd", &f2, &n2, &err) == MS_ERR_NOT_FOUND);
  CHECK_MSG(strstr(err.message, "no feature service named 'svd' (did you mean 'svc'?)"), "%s", err.message);
  ms_repo_fields_free(f, n);
  ms_repo_free(r);
}

/* ---------------- Feast's round trip ---------------- */

static void test_feast_roundtrip(void) {
  ms_repo *r = setup("roundtrip");
  CHECK(r);
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg = NULL;
  CHECK_OK(ms_registry_open(ms_repo_get_config(r)->registry_location, &reg, &err), &err);
  ms_field *f = NULL;
  int n = 0;
  CHECK_OK(ms_log_schema(r, "svc", &f, &n, &err), &err);
  const int64_t rows = 600;
  ms_table *logs = random_logs(f, n, rows, 1, true, 1704067200 * INT64_C(1000000) + 12345);
  CHECK(logs);
  ms_table *h1 = NULL, *h2 = NULL;
  CHECK_OK(ms_table_slice(logs, 0, rows / 2, &h1, &err), &err);
  CHECK_OK(ms_table_slice(logs, rows / 2, rows - rows / 2, &h2, &err), &err);
  ms_write_result res;
  ms_write_options o;
  memset(&o, 0, sizeof o);
  o.threads = 2;
  CHECK_OK(ms_write_logs(r, reg, "svc", h1, &o, &res, &err), &err);
  CHECK_EQ_INT(res.rows_written, rows / 2);
  CHECK_EQ_INT(res.generation, 1);
  CHECK_STR(res.target, repo_path("logs/svc"));
  ms_free(res.target);
  CHECK_OK(ms_write_logs(r, reg, "svc", h2, &o, &res, &err), &err);
  CHECK_EQ_INT(res.rows_written, rows - rows / 2);
  CHECK_EQ_INT(res.generation, 2);
  ms_free(res.target);
  ms_table_release(h1);
  ms_table_release(h2);

  /* min/max of __log_timestamp (us) */
  const ms_column *tsc = ms_table_column(logs, ms_table_find_column(logs, "__log_timestamp"));
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int64_t i = 0; i < rows; i++) {
    int64_t v = ms_column_get_i64(tsc, i);
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  ms_table *back = pull_logs(r, "svc", true, lo * US, true, hi * US + INT64_C(1000000000), &err);
  CHECK_MSG(back, "%s", err.message);
  ms_table *ws = sorted_by(logs, "__request_id", NULL), *gs = sorted_by(back, "__request_id", NULL);
  CHECK(same_logs(ws, gs));
  /* __log_date read back from the folders: the UTC date of each timestamp */
  const ms_column *gd = ms_table_column(gs, ms_table_find_column(gs, "__log_date"));
  const ms_column *gt = ms_table_column(gs, ms_table_find_column(gs, "__log_timestamp"));
  CHECK(ms_column_type(gd)->id == MS_TYPE_DATE32);
  for (int64_t i = 0; i < rows; i++)
    CHECK_EQ_INT(ms_column_get_i64(gd, i), ms_column_get_i64(gt, i) / (86400 * INT64_C(1000000)));
  /* timestamp order, ts last */
  CHECK_STR(ms_table_field(back, ms_table_num_columns(back) - 1)->name, "__log_timestamp");
  const ms_column *bt = ms_table_column(back, ms_table_num_columns(back) - 1);
  for (int64_t i = 1; i < rows; i++) CHECK(ms_column_get_i64(bt, i - 1) <= ms_column_get_i64(bt, i));
  ms_table_release(ws);
  ms_table_release(gs);
  ms_table_release(back);

  /* random inclusive sub-ranges against a brute-force filter of the input */
  for (int k = 0; k < 12; k++) {
    int64_t a = lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)), b = lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
    if (k == 0) a = b = ms_column_get_i64(tsc, 7); /* a single instant, both bounds inclusive */
    if (a > b) { int64_t t = a; a = b; b = t; }
    uint8_t *mask = ms_malloc((size_t)rows);
    for (int64_t i = 0; i < rows; i++) mask[i] = ms_column_get_i64(tsc, i) >= a && ms_column_get_i64(tsc, i) <= b;
    ms_table *want = NULL;
    CHECK_OK(ms_table_filter(logs, mask, &want, &err), &err);
    ms_free(mask);
    ms_table *got = pull_logs(r, "svc", true, a * US, true, b * US, &err);
    CHECK_MSG(got, "%s", err.message);
    ms_table *w2 = sorted_by(want, "__request_id", NULL), *g2 = sorted_by(got, "__request_id", NULL);
    CHECK(k > 0 || ms_table_num_rows(w2) >= 1);
    CHECK(same_logs(w2, g2));
    ms_table_release(w2);
    ms_table_release(g2);
    ms_table_release(want);
    ms_table_release(got);
  }

  /* on disk: the manifest, one __log_date=YYYY-MM-DD folder per date, token part files */
  CHECK(exists(repo_path("logs/svc/" MS_MANIFEST_NAME)));
  bool seen_day[8] = {false};
  int64_t day0 = lo / (86400 * INT64_C(1000000));
  for (int64_t i = 0; i < rows; i++) seen_day[ms_column_get_i64(tsc, i) / (86400 * INT64_C(1000000)) - day0] = true;
  int n_dirs = 0;
  DIR *d = opendir(repo_path("logs/svc"));
  CHECK(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || !strcmp(e->d_name, MS_MANIFEST_NAME) || !strcmp(e->d_name, MS_STORE_LOCK_NAME)) continue;
    int y, m, dd;
    CHECK_MSG(sscanf(e->d_name, "__log_date=%d-%d-%d", &y, &m, &dd) == 3, "unexpected entry %s", e->d_name);
    int64_t day = ms_days_from_civil(y, m, dd) - day0;
    CHECK(day >= 0 && day < 8 && seen_day[day]);
    n_dirs++;
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/%s", repo_path("logs/svc"), e->d_name);
    DIR *d2 = opendir(sub);
    CHECK(d2);
    int files = 0;
    struct dirent *e2;
    while ((e2 = readdir(d2)) != NULL) {
      if (e2->d_name[0] == '.') continue;
      CHECK_MSG(ms_store_is_token_name(e2->d_name) && strstr(e2->d_name, ".parquet"), "file %s", e2->d_name);
      files++;
    }
    closedir(d2);
    CHECK(files >= 1 && files <= 2); /* one per write that had rows of that day */
  }
  closedir(d);
  int want_dirs = 0;
  for (int i = 0; i < 8; i++) want_dirs += seen_day[i];
  CHECK_EQ_INT(n_dirs, want_dirs);
  /* registry: two committed write_logs records of dataset logs:svc */
  ms_reg_data_commit *rc = NULL;
  int nrc = 0;
  CHECK_OK(ms_registry_data_commits(reg, "t", "logs:svc", &rc, &nrc, &err), &err);
  CHECK_EQ_INT(nrc, 2);
  CHECK_STR(rc[1].state, "committed");
  CHECK_STR(rc[1].kind, "write_logs");
  CHECK_EQ_INT(rc[1].rows_added, rows - rows / 2);
  ms_reg_data_commits_free(rc, nrc);
  ms_registry_close(reg);
  ms_table_release(logs);
  ms_repo_fields_free(f, n);
  ms_repo_free(r);
}

/* Partition by date and a key; CSV input without __log_date, timestamps with offsets. */
static void test_partitions_and_csv(void) {
  ms_repo *r = setup("partitions");
  CHECK(r);
  ms_error err;
  ms_error_init(&err);
  write_text(repo_path("in.csv"),
             "__request_id,driver_id,driver_extra__rating,driver_extra__rating__timestamp,"
             "driver_extra__rating__status,driver_extra__city,driver_extra__city__timestamp,"
             "driver_extra__city__status,__log_timestamp\n"
             "r1,1001,4.5,2024-03-01T10:00:00Z,1,oslo,2024-03-01T10:00:00Z,1,2024-03-01T23:30:00-01:00\n"
             "r2,1002,,,0,,,0,2024-03-01T12:00:00Z\n"
             "r3,1001,3.25,2024-03-02T01:00:00+02:00,1,bergen,2024-03-02T01:00:00Z,1,2024-03-02T00:00:00Z\n");
  ms_write_result res;
  CHECK_OK(ms_write_logs_file(r, NULL, "by_driver", repo_path("in.csv"), NULL, &res, &err), &err);
  CHECK_EQ_INT(res.rows_written, 3);
  CHECK_EQ_INT(res.files_written, 2); /* (03-01, 1002) and (03-02, 1001) */
  ms_free(res.target);
  /* r1 is 2024-03-02T00:30Z: both r1 and r3 fall on 2024-03-02 */
  CHECK(exists(repo_path("logs/by_driver/__log_date=2024-03-01/driver_id=1002")));
  CHECK(exists(repo_path("logs/by_driver/__log_date=2024-03-02/driver_id=1001")));
  CHECK(!exists(repo_path("logs/by_driver/__log_date=2024-03-01/driver_id=1001")));
  ms_table *t = pull_logs(r, "by_driver", false, 0, false, 0, &err);
  CHECK_MSG(t, "%s", err.message);
  static const char *const names[] = {"driver_id", "driver_extra__rating", "driver_extra__rating__timestamp",
                                      "driver_extra__rating__status", "driver_extra__city",
                                      "driver_extra__city__timestamp", "driver_extra__city__status", "__log_date",
                                      "__request_id", "__log_timestamp"};
  CHECK(names_are(t, names, 10));
  int64_t ids[3] = {1002, 1001, 1001};
  int64_t ts[3] = {T("2024-03-01T12:00:00Z") / US, T("2024-03-02T00:00:00Z") / US, T("2024-03-02T00:30:00Z") / US};
  int64_t st_[3] = {0, 1, 1};
  CHECK(col_is_i64(t, "driver_id", ids, 3));
  CHECK(col_is_i64(t, "__log_timestamp", ts, 3));
  CHECK(col_is_i64(t, "driver_extra__rating__status", st_, 3));
  double rating[3] = {NAN, 3.25, 4.5};
  CHECK(col_is_f64(t, "driver_extra__rating", rating, 3));
  int64_t rts[3] = {NUL, T("2024-03-01T23:00:00Z") / US, T("2024-03-01T10:00:00Z") / US};
  CHECK(col_is_i64(t, "driver_extra__rating__timestamp", rts, 3));
  ms_table_release(t);
  /* a date range prunes folders and rows: only 2024-03-01 */
  t = pull_logs(r, "by_driver", true, T("2024-03-01"), true, T("2024-03-01T23:59:59Z"), &err);
  CHECK_MSG(t, "%s", err.message);
  CHECK_EQ_INT(ms_table_num_rows(t), 1);
  ms_table_release(t);
  ms_repo_free(r);
}

/* ---------------- sampling ---------------- */

static bool kept_by_reference(const char *id, double rate) {
  /* independent of wr_logs.c's integer threshold: compare h / 2^64 in long double */
  uint64_t h = XXH3_64bits(id, strlen(id));
  return (long double)h / 18446744073709551616.0L < (long double)rate;
}

static void test_sampling(void) {
  ms_repo *r = setup("sampling");
  CHECK(r);
  ms_error err;
  ms_error_init(&err);
  ms_field *f = NULL;
  int n = 0;
  CHECK_OK(ms_log_schema(r, "sampled", &f, &n, &err), &err);
  const int64_t requests = 10000, per = 2;
  ms_table *logs = random_logs(f, n, requests * per, (int)per, false, 1709251200 * INT64_C(1000000));
  CHECK(logs);
  ms_write_result r1, r2;
  CHECK_OK(ms_write_logs(r, NULL, "sampled", logs, NULL, &r1, &err), &err);
  CHECK_OK(ms_write_logs(r, NULL, "sampled_again", logs, NULL, &r2, &err), &err);
  ms_free(r1.target);
  ms_free(r2.target);
  CHECK_EQ_INT(r1.rows_written, r2.rows_written);
  ms_table *a = pull_logs(r, "sampled", false, 0, false, 0, &err);
  ms_table *b = pull_logs(r, "sampled_again", false, 0, false, 0, &err);
  CHECK_MSG(a && b, "%s", err.message);
  CHECK_EQ_INT(ms_table_num_rows(a), r1.rows_written);
  /* the rows kept are exactly those of the requests the reference keeps, whole */
  uint8_t *mask = ms_malloc((size_t)(requests * per));
  const ms_column *rq = ms_table_column(logs, ms_table_find_column(logs, "__request_id"));
  int64_t kept_req = 0;
  for (int64_t i = 0; i < requests * per; i++) {
    int64_t len = 0;
    const uint8_t *p = ms_column_get_bytes(rq, i, &len);
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int)len, (const char *)p);
    mask[i] = kept_by_reference(id, 0.3);
    kept_req += mask[i] && i % per == 0;
  }
  ms_table *want = NULL;
  CHECK_OK(ms_table_filter(logs, mask, &want, &err), &err);
  ms_free(mask);
  ms_table *ws = sorted_by(want, "__request_id", "__log_timestamp"), *as = sorted_by(a, "__request_id", "__log_timestamp"),
           *bs = sorted_by(b, "__request_id", "__log_timestamp");
  CHECK(same_logs(ws, as));
  CHECK(same_logs(ws, bs)); /* the same set in a second run */
  double rate = (double)kept_req / (double)requests;
  CHECK_MSG(rate > 0.27 && rate < 0.33, "rate %f", rate);
  CHECK_EQ_INT(ms_table_num_rows(a), kept_req * per);
  ms_table_release(ws);
  ms_table_release(as);
  ms_table_release(bs);
  ms_table_release(want);
  ms_table_release(a);
  ms_table_release(b);
  ms_table_release(logs);
  ms_repo_fields_free(f, n);
  ms_repo_free(r);
}

/* ---------------- refusals ---------------- */

/* Writes `t` to service svc and expects failure with a message containing `msg` (and row /
 * column when given), and nothing at the destination. */
static bool refused(ms_repo *r, const char *svc, ms_table *t, ms_status want_st, const char *msg, int64_t row,
                    const char *column) {
  ms_error err;
  ms_error_init(&err);
  ms_write_result res;
  ms_write_options o;
  memset(&o, 0, sizeof o);
  o.input_name = "logs.parquet";
  ms_status st = ms_write_logs(r, NULL, svc, t, &o, &res, &err);
  ms_table_release(t);
  bool ok = st == want_st && strstr(err.message, msg) && (row == 0 || err.row == row) &&
            (!column || !strcmp(err.column, column));
  if (!ok)
    fprintf(stderr, "status %d (want %d), row %lld, column '%s': %s\n  want: %s\n", (int)st, (int)want_st,
            (long long)err.row, err.column, err.message, msg);
  if (exists(repo_path("logs/sampled/" MS_MANIFEST_NAME))) {
    fprintf(stderr, "something was committed\n");
    ok = false;
  }
  DIR *d = opendir(repo_path("logs/sampled"));
  if (d) { /* the store may have created the directory; it must hold no file */
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
      if (e->d_name[0] != '.' && strcmp(e->d_name, MS_STORE_LOCK_NAME)) {
        fprintf(stderr, "left behind: %s\n", e->d_name);
        ok = false;
      }
    closedir(d);
  }
  return ok;
}

static void test_refusals(void) {
  ms_repo *r = setup("refusals");
  CHECK(r);
  ms_field *f = NULL;
  int n = 0;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_log_schema(r, "sampled", &f, &n, &err), &err);
  /* a valid base: 5 rows, one request each */
  int64_t ids[5] = {1, 2, 3, 4, 5}, st[5] = {1, 1, 0, 1, 1};
  int64_t ts[5] = {T("2024-05-01T10:00:00Z"), T("2024-05-01T11:00:00Z"), T("2024-05-01T12:00:00Z"),
                   T("2024-05-02T00:00:00Z"), T("2024-05-02T01:00:00Z")};
  double rating[5] = {1, 2, 3, 4, 5};
  const char *req[5] = {"a", "b", "c", "d", "e"}, *city[5] = {"x", "y", NULL, "z", "w"};
#define BASE_COLS(TS, REQ)                                                                                           \
  "driver_id", col_i64(ids, 5), "driver_extra__rating", col_f32(rating, 5), "driver_extra__rating__timestamp",     \
      col_ts(ts, 5, MS_UNIT_NANO, "UTC"), "driver_extra__rating__status", col_int(MS_TYPE_INT32, st, 5),           \
      "driver_extra__city", col_str(city, 5), "driver_extra__city__timestamp", col_ts(ts, 5, MS_UNIT_MICRO, ""),   \
      "driver_extra__city__status", col_int(MS_TYPE_INT32, st, 5), "__log_timestamp", TS, "__request_id", REQ
  /* missing + extra + mistyped, all in one message */
  CHECK(refused(r, "sampled",
                mk_table("driver_id", col_str(req, 5), "driver_extra__rating", col_f32(rating, 5),
                         "driver_extra__rating__timestamp", col_ts(ts, 5, MS_UNIT_NANO, "UTC"),
                         "driver_extra__rating__status", col_int(MS_TYPE_INT32, st, 5), "driver_extra__city",
                         col_str(city, 5), "driver_extra__city__timestamp", col_ts(ts, 5, MS_UNIT_MICRO, ""),
                         "__log_timestamp", col_ts(ts, 5, MS_UNIT_MICRO, "UTC"), "__request_id", col_str(req, 5),
                         "speed", col_f64(rating, 5), NULL),
                MS_ERR_INVALID,
                "logs for feature service 'sampled': missing columns: [driver_extra__city__status]; extra "
                "columns: [speed]; mistyped columns: [driver_id: got utf8, want int64]",
                0, NULL));
  /* null __log_timestamp at row 3 */
  int64_t ts_null[5] = {ts[0], ts[1], NUL, ts[3], ts[4]};
  CHECK(refused(r, "sampled", mk_table(BASE_COLS(col_ts(ts_null, 5, MS_UNIT_MICRO, "UTC"), col_str(req, 5)), NULL),
                MS_ERR_INVALID, "logs.parquet: row 3, column '__log_timestamp': null timestamp", 3,
                "__log_timestamp"));
  /* null __request_id at row 5 */
  const char *req_null[5] = {"a", "b", "c", "d", NULL};
  CHECK(refused(r, "sampled", mk_table(BASE_COLS(col_ts(ts, 5, MS_UNIT_MICRO, "UTC"), col_str(req_null, 5)), NULL),
                MS_ERR_INVALID, "logs.parquet: row 5, column '__request_id': null", 5, "__request_id"));
  /* __log_date that is not the timestamp's date at row 4 (row 5's null is derived) */
  int64_t days[5] = {19844, 19844, 19844, 19844, NUL};
  CHECK(refused(r, "sampled",
                mk_table(BASE_COLS(col_ts(ts, 5, MS_UNIT_MICRO, "UTC"), col_str(req, 5)), "__log_date",
                         col_int(MS_TYPE_DATE32, days, 5), NULL),
                MS_ERR_INVALID,
                "logs.parquet: row 4, column '__log_date': 2024-05-01 is not the UTC date of __log_timestamp "
                "2024-05-02T00:00:00.000000Z (2024-05-02)",
                4, "__log_date"));
  /* a service without logging, an unknown one */
  CHECK(refused(r, "nolog", mk_table(BASE_COLS(col_ts(ts, 5, MS_UNIT_MICRO, "UTC"), col_str(req, 5)), NULL),
                MS_ERR_INVALID, "feature service 'nolog' has no logging configured", 0, NULL));
  CHECK(refused(r, "nosuch", mk_table(BASE_COLS(col_ts(ts, 5, MS_UNIT_MICRO, "UTC"), col_str(req, 5)), NULL),
                MS_ERR_NOT_FOUND, "no feature service named 'nosuch'", 0, NULL));
  /* reading logs that were never written */
  CHECK(!pull_logs(r, "sampled", false, 0, false, 0, &err));
  CHECK_MSG(strstr(err.message, "feature service 'sampled' has no logs yet"), "%s", err.message);
  /* and the same input with a matching __log_date is accepted (nanosecond timestamps of the
   * feature columns converted exactly) */
  int64_t days_ok[5] = {19844, 19844, NUL, 19845, 19845};
  ms_table *good = mk_table(BASE_COLS(col_ts(ts, 5, MS_UNIT_MICRO, "UTC"), col_str(req, 5)), "__log_date",
                            col_int(MS_TYPE_DATE32, days_ok, 5), NULL);
  ms_write_result res;
  CHECK_OK(ms_write_logs(r, NULL, "sampled", good, NULL, &res, &err), &err);
  ms_table_release(good);
  ms_free(res.target);
  CHECK(res.rows_written <= 5);
#undef BASE_COLS
  ms_repo_fields_free(f, n);
  ms_repo_free(r);
}

/* The dataset layer reads hive folders whose key starts with '_' (__log_date=...), while
 * files starting with '_' and '_'-directories that are not key=value stay hidden. */
static void test_dataset_underscore_partitions(void) {
  char root[1500];
  snprintf(root, sizeof root, "%s/underscore", ms_test_tmpdir());
  int64_t v1[2] = {1, 2}, v2[1] = {3}, v3[1] = {99};
  char p[2048];
  snprintf(p, sizeof p, "%s/__k=2024-01-01/_x=1/a.parquet", root);
  write_text(p, "");
  write_pq(p, mk_table("v", col_i64(v1, 2), NULL), 0);
  snprintf(p, sizeof p, "%s/__k=2024-01-02/_x=2/a.parquet", root);
  write_text(p, "");
  write_pq(p, mk_table("v", col_i64(v2, 1), NULL), 0);
  snprintf(p, sizeof p, "%s/_hidden/__k=2024-01-03/_x=3/a.parquet", root);
  write_text(p, "");
  write_pq(p, mk_table("v", col_i64(v3, 1), NULL), 0);
  snprintf(p, sizeof p, "%s/__k=2024-01-01/_x=1/_SUCCESS", root);
  write_text(p, "not data");
  ms_dataset *ds = NULL;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_dataset_open(ms_fs_local(), root, NULL, &ds, &err), &err);
  ms_table *t = NULL;
  ms_dataset_read_options ro;
  memset(&ro, 0, sizeof ro);
  ms_status st = ms_dataset_read(ds, &ro, &t, NULL, &err);
  ms_dataset_close(ds);
  CHECK_OK(st, &err);
  static const char *const names[] = {"v", "__k", "_x"};
  CHECK(names_are(t, names, 3));
  int64_t want_v[3] = {1, 2, 3}, want_x[3] = {1, 1, 2};
  CHECK(col_is_i64(t, "v", want_v, 3));
  CHECK(col_is_i64(t, "_x", want_x, 3));
  CHECK(ms_column_type(ms_table_column(t, 1))->id == MS_TYPE_DATE32);
  ms_table_release(t);
}

MS_TEST_MAIN(MS_TEST(test_dataset_underscore_partitions), MS_TEST(test_repo_logging_errors), MS_TEST(test_repo_logging_accepted), MS_TEST(test_log_schema),
             MS_TEST(test_feast_roundtrip), MS_TEST(test_partitions_and_csv), MS_TEST(test_sampling),
             MS_TEST(test_refusals))
