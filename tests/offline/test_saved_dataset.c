/* Saved datasets (ms_retrieval_job_persist, ms_saved_dataset_read) through the public API,
 * on a tiny repository in a temp directory with a SQLite registry:
 * - round trip: the file read back equals the job's table column by column (nulls, strings,
 *   timestamps), the registry record carries features, join keys, full_feature_names, the
 *   event range, rows, tags, path, feature service and the view's definition hash (the
 *   same hash ms_repo_objects gives), and the lineage edges view -> dataset;
 * - refusal without allow_overwrite: a registered name, or an unregistered file in the
 *   way, is MS_ERR_EXISTS with the old file byte-identical and no new registry version;
 * - allow_overwrite: the file is replaced whole and the record gets version 2;
 * - CSV storage relative to the repository, an empty result (null event range), bad names
 *   and extensions, a directory in the way, reading an unknown name or a deleted file;
 * - no temporary file is left behind. */
#include <dirent.h>
#include <stdarg.h>

#include "morsel/alloc.h"
#include "morsel/fs.h"
#include "morsel/offline.h"
#include "ms_test.h"

#define DAY INT64_C(86400000000000)
#define T0 INT64_C(1704067200000000000) /* 2024-01-01T00:00:00Z */

static char g_dir[2048];

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static const char k_defs[] =
    "entities:\n  - name: customer\n    join_keys: [customer_id]\n"
    "sources:\n  - name: src\n    path: data/src.csv\n    file_format: csv\n"
    "    timestamp_field: event_timestamp\n    created_timestamp_column: created\n"
    "feature_views:\n  - name: fv\n    entities: [customer]\n    ttl: 0s\n    source: src\n"
    "    schema:\n      - {name: f, dtype: int64}\n      - {name: s, dtype: string}\n"
    "feature_services:\n  - name: svc\n    features: [fv]\n";

static const char k_src[] =
    "customer_id,event_timestamp,created,f,s\n"
    "1,2024-01-01T00:00:00,2024-01-01T00:00:00,10,a\n"
    "1,2024-01-02T00:00:00,2024-01-02T00:00:00,,b\n"
    "2,2024-01-01T12:00:00,,20,\n";

/* A fresh repository; returns the loaded repo and an open registry. */
static bool setup(const char *tag, ms_repo **repo, ms_registry **reg) {
  snprintf(g_dir, sizeof g_dir, "%s/%s", ms_test_tmpdir(), tag);
  mkdir(g_dir, 0777);
  char path[4096];
  snprintf(path, sizeof path, "%s/data", g_dir);
  mkdir(path, 0777);
  snprintf(path, sizeof path, "%s/feature_store.yaml", g_dir);
  write_text(path, "project: sd\nregistry: reg.db\noffline_store:\n  type: morsel\n  threads: 1\n"
                   "  storage_path: store\n");
  snprintf(path, sizeof path, "%s/defs.yaml", g_dir);
  write_text(path, k_defs);
  snprintf(path, sizeof path, "%s/data/src.csv", g_dir);
  write_text(path, k_src);
  ms_error err;
  if (ms_repo_load(g_dir, NULL, repo, NULL, NULL, &err) != MS_OK) {
    fprintf(stderr, "repo load: %s\n", err.message);
    return false;
  }
  snprintf(path, sizeof path, "%s/reg.db", g_dir);
  if (ms_registry_open(path, reg, &err) != MS_OK) {
    fprintf(stderr, "registry: %s\n", err.message);
    ms_repo_free(*repo);
    return false;
  }
  return true;
}

/* An entity table of n rows: customer_id 1, 2, 3, ... and event_timestamp T0 + i days. */
static ms_table *entities(int n, int64_t first_id) {
  ms_datatype ti = ms_type(MS_TYPE_INT64), tt = ms_type_timestamp(MS_UNIT_MICRO, "");
  ms_column_builder *bi = NULL, *bt = NULL;
  ms_column *c[2] = {NULL, NULL};
  ms_column_builder_create(&ti, n, &bi, NULL);
  ms_column_builder_create(&tt, n, &bt, NULL);
  for (int i = 0; i < n; i++) {
    ms_builder_append_i64(bi, first_id + i);
    ms_builder_append_i64(bt, (T0 + i * DAY) / 1000);
  }
  ms_builder_finish(bi, &c[0], NULL);
  ms_builder_finish(bt, &c[1], NULL);
  ms_column_builder_destroy(bi);
  ms_column_builder_destroy(bt);
  ms_field f[2] = {{(char *)"customer_id", ti, true}, {(char *)"event_timestamp", tt, true}};
  ms_table *t = NULL;
  ms_table_create(f, c, 2, &t, NULL);
  ms_column_release(c[0]);
  ms_column_release(c[1]);
  return t;
}

static ms_status plan(ms_repo *repo, ms_table *ent, bool service, ms_retrieval_job **job, ms_error *err) {
  static const char *const refs[] = {"fv:f", "fv:s"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  if (service) req.feature_service = "svc";
  else {
    req.feature_refs = refs;
    req.n_feature_refs = 2;
  }
  req.entity_table = ent;
  return ms_get_historical_features(repo, &req, job, err);
}

static bool tables_equal(const ms_table *a, const ms_table *b) {
  if (ms_table_num_columns(a) != ms_table_num_columns(b) || ms_table_num_rows(a) != ms_table_num_rows(b))
    return false;
  for (int i = 0; i < ms_table_num_columns(a); i++) {
    if (strcmp(ms_table_field(a, i)->name, ms_table_field(b, i)->name) != 0) return false;
    if (!ms_column_equal(ms_table_column(a, i), ms_table_column(b, i))) return false;
  }
  return true;
}

static bool file_bytes(const char *path, uint8_t **data, int64_t *len) {
  return ms_fs_read_all(NULL, path, data, len, NULL) == MS_OK;
}

/* Files in dir whose name contains ".tmp". */
static int tmp_files(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".tmp") != NULL;
  closedir(d);
  return n;
}

static const char *view_hash(ms_repo *repo) {
  const ms_reg_object *objs;
  int n;
  if (ms_repo_objects(repo, &objs, &n, NULL, NULL, NULL)) return NULL;
  for (int i = 0; i < n; i++)
    if (!strcmp(objs[i].kind, "feature_view") && !strcmp(objs[i].name, "fv")) return objs[i].hash;
  return NULL;
}

static void test_roundtrip(void) {
  ms_repo *repo;
  ms_registry *reg;
  CHECK(setup("roundtrip", &repo, &reg));
  ms_error err;
  ms_table *ent = entities(3, 1); /* ids 1, 2, 3 at 01-01, 01-02, 01-03 */
  ms_retrieval_job *job = NULL;
  CHECK_OK(plan(repo, ent, true, &job, &err), &err);
  ms_kv_pair tags[] = {{(char *)"team", (char *)"growth"}};
  ms_saved_dataset_options o = {.name = "ds1", .n_tags = 1, .tags = tags, .feature_service = "svc"};
  CHECK_OK(ms_retrieval_job_persist(job, repo, reg, &o, &err), &err);
  char path[4096];
  snprintf(path, sizeof path, "%s/store/saved_datasets/ds1.parquet", g_dir);
  struct stat sb;
  CHECK(stat(path, &sb) == 0 && sb.st_size > 0);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/store/saved_datasets", g_dir);
  CHECK_EQ_INT(tmp_files(dir), 0);
  ms_table *want = NULL, *got = NULL;
  CHECK_OK(ms_retrieval_job_to_table(job, &want, &err), &err);
  CHECK_OK(ms_saved_dataset_read(repo, reg, "ds1", &got, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(got), 3);
  CHECK(tables_equal(want, got));
  /* the expected values, independently: id 1 at 01-01 -> 10,a; id 2 at 01-02 -> 20,null;
   * id 3 -> nulls */
  int fi = ms_table_find_column(got, "f"), si = ms_table_find_column(got, "s");
  CHECK(fi >= 0 && si >= 0);
  CHECK_EQ_INT(ms_column_get_i64(ms_table_column(got, fi), 0), 10);
  CHECK_EQ_INT(ms_column_get_i64(ms_table_column(got, fi), 1), 20);
  CHECK(ms_column_is_null(ms_table_column(got, fi), 2));
  CHECK(ms_column_is_null(ms_table_column(got, si), 1) && ms_column_is_null(ms_table_column(got, si), 2));
  ms_reg_version v;
  memset(&v, 0, sizeof v);
  CHECK_OK(ms_registry_get(reg, "sd", "saved_dataset", "ds1", 0, &v, &err), &err);
  CHECK_EQ_INT(v.version, 1);
  char want_json[16384];
  snprintf(want_json, sizeof want_json,
           "{\"description\":\"\",\"feature_service\":\"svc\",\"feature_views\":[{\"hash\":\"%s\","
           "\"name\":\"fv\"}],\"features\":[\"fv:f\",\"fv:s\"],\"file_format\":\"parquet\","
           "\"full_feature_names\":false,\"join_keys\":[\"customer_id\"],"
           "\"max_event_timestamp\":\"2024-01-03T00:00:00Z\",\"min_event_timestamp\":"
           "\"2024-01-01T00:00:00Z\",\"name\":\"ds1\",\"path\":\"%s\",\"rows\":3,\"tags\":{\"team\":"
           "\"growth\"}}",
           view_hash(repo), path);
  CHECK_STR(v.json, want_json);
  ms_reg_version_reset(&v);
  ms_reg_edge *edges = NULL;
  int n_edges = 0;
  CHECK_OK(ms_registry_edges(reg, "sd", &edges, &n_edges, &err), &err);
  int found = 0;
  for (int i = 0; i < n_edges; i++)
    found += !strcmp(edges[i].to_kind, "saved_dataset") && !strcmp(edges[i].to_name, "ds1") &&
             ((!strcmp(edges[i].from_kind, "feature_view") && !strcmp(edges[i].from_name, "fv")) ||
              (!strcmp(edges[i].from_kind, "feature_service") && !strcmp(edges[i].from_name, "svc")));
  ms_reg_edges_free(edges, n_edges);
  CHECK_EQ_INT(found, 2);
  ms_table_release(want);
  ms_table_release(got);
  ms_retrieval_job_free(job);
  ms_table_release(ent);
  ms_registry_close(reg);
  ms_repo_free(repo);
}

static void test_refuse_and_overwrite(void) {
  ms_repo *repo;
  ms_registry *reg;
  CHECK(setup("overwrite", &repo, &reg));
  ms_error err;
  ms_table *ent1 = entities(3, 1), *ent2 = entities(1, 2);
  ms_retrieval_job *j1 = NULL, *j2 = NULL, *j3 = NULL;
  CHECK_OK(plan(repo, ent1, false, &j1, &err), &err);
  ms_saved_dataset_options o = {.name = "ds"};
  CHECK_OK(ms_retrieval_job_persist(j1, repo, reg, &o, &err), &err);
  char path[4096];
  snprintf(path, sizeof path, "%s/store/saved_datasets/ds.parquet", g_dir);
  uint8_t *before = NULL, *after = NULL;
  int64_t nb = 0, na = 0;
  CHECK(file_bytes(path, &before, &nb));
  /* registered name: refused, nothing touched */
  CHECK_OK(plan(repo, ent2, false, &j2, &err), &err);
  CHECK_EQ_INT(ms_retrieval_job_persist(j2, repo, reg, &o, &err), MS_ERR_EXISTS);
  CHECK(strstr(err.message, "already registered") != NULL);
  CHECK(file_bytes(path, &after, &na));
  CHECK(na == nb && memcmp(before, after, (size_t)nb) == 0);
  ms_free(after);
  after = NULL;
  ms_reg_version *h = NULL;
  int nh = 0;
  CHECK_OK(ms_registry_history(reg, "sd", "saved_dataset", "ds", &h, &nh, &err), &err);
  ms_reg_versions_free(h, nh);
  CHECK_EQ_INT(nh, 1);
  /* an unregistered file in the way of a new name: refused, file kept, name not registered */
  char other[4096];
  snprintf(other, sizeof other, "%s/store/saved_datasets/other.parquet", g_dir);
  write_text(other, "not a dataset");
  ms_saved_dataset_options o2 = {.name = "other"};
  CHECK_EQ_INT(ms_retrieval_job_persist(j2, repo, reg, &o2, &err), MS_ERR_EXISTS);
  CHECK(file_bytes(other, &after, &na));
  CHECK(na == 13 && memcmp(after, "not a dataset", 13) == 0);
  ms_free(after);
  after = NULL;
  ms_reg_version v;
  memset(&v, 0, sizeof v);
  CHECK_EQ_INT(ms_registry_get(reg, "sd", "saved_dataset", "other", 0, &v, NULL), MS_ERR_NOT_FOUND);
  /* overwrite: the new rows, whole; version 2 */
  o.allow_overwrite = true;
  CHECK_OK(ms_retrieval_job_persist(j2, repo, reg, &o, &err), &err);
  ms_table *got = NULL, *want = NULL;
  CHECK_OK(ms_saved_dataset_read(repo, reg, "ds", &got, &err), &err);
  CHECK_OK(ms_retrieval_job_to_table(j2, &want, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(got), 1);
  CHECK(tables_equal(want, got));
  CHECK_OK(ms_registry_get(reg, "sd", "saved_dataset", "ds", 0, &v, &err), &err);
  CHECK_EQ_INT(v.version, 2);
  CHECK(strstr(v.json, "\"rows\":1,") != NULL);
  ms_reg_version_reset(&v);
  /* the same result again with overwrite: same hash, no new version */
  CHECK_OK(ms_retrieval_job_persist(j2, repo, reg, &o, &err), &err);
  CHECK_OK(ms_registry_get(reg, "sd", "saved_dataset", "ds", 0, &v, &err), &err);
  CHECK_EQ_INT(v.version, 2);
  ms_reg_version_reset(&v);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/store/saved_datasets", g_dir);
  CHECK_EQ_INT(tmp_files(dir), 0);
  /* a deleted file: reading says so */
  unlink(path);
  ms_table *none = NULL;
  CHECK_EQ_INT(ms_saved_dataset_read(repo, reg, "ds", &none, &err), MS_ERR_NOT_FOUND);
  CHECK(strstr(err.message, "missing") != NULL && none == NULL);
  CHECK_EQ_INT(ms_saved_dataset_read(repo, reg, "nope", &none, &err), MS_ERR_NOT_FOUND);
  CHECK(strstr(err.message, "no saved dataset named 'nope'") != NULL);
  (void)j3;
  ms_free(before);
  ms_table_release(got);
  ms_table_release(want);
  ms_retrieval_job_free(j1);
  ms_retrieval_job_free(j2);
  ms_table_release(ent1);
  ms_table_release(ent2);
  ms_registry_close(reg);
  ms_repo_free(repo);
}

static void test_csv_empty_and_bad(void) {
  ms_repo *repo;
  ms_registry *reg;
  CHECK(setup("csvbad", &repo, &reg));
  ms_error err;
  ms_table *ent = entities(2, 1), *empty = entities(0, 1);
  ms_retrieval_job *job = NULL, *ej = NULL;
  CHECK_OK(plan(repo, ent, false, &job, &err), &err);
  /* CSV storage, relative to the repository */
  ms_saved_dataset_options o = {.name = "c", .storage_path = "exports/c.csv"};
  CHECK_OK(ms_retrieval_job_persist(job, repo, reg, &o, &err), &err);
  char path[4096];
  snprintf(path, sizeof path, "%s/exports/c.csv", g_dir);
  struct stat sb;
  CHECK(stat(path, &sb) == 0);
  ms_table *got = NULL;
  CHECK_OK(ms_saved_dataset_read(repo, reg, "c", &got, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(got), 2);
  CHECK_EQ_INT(ms_table_num_columns(got), 4);
  ms_table_release(got);
  /* an empty result: no event range */
  CHECK_OK(plan(repo, empty, false, &ej, &err), &err);
  ms_saved_dataset_options oe = {.name = "e"};
  CHECK_OK(ms_retrieval_job_persist(ej, repo, reg, &oe, &err), &err);
  ms_reg_version v;
  memset(&v, 0, sizeof v);
  CHECK_OK(ms_registry_get(reg, "sd", "saved_dataset", "e", 0, &v, &err), &err);
  CHECK(strstr(v.json, "\"max_event_timestamp\":null,\"min_event_timestamp\":null") != NULL);
  CHECK(strstr(v.json, "\"rows\":0,") != NULL);
  ms_reg_version_reset(&v);
  CHECK_OK(ms_saved_dataset_read(repo, reg, "e", &got, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(got), 0);
  ms_table_release(got);
  /* refused before anything: names, extensions, a directory in the way */
  const char *bad_names[] = {"../x", ".hidden", "a/b", "", "sp ace"};
  for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
    ms_saved_dataset_options ob = {.name = bad_names[i]};
    CHECK_EQ_INT(ms_retrieval_job_persist(job, repo, reg, &ob, &err), MS_ERR_INVALID);
  }
  ms_saved_dataset_options ox = {.name = "x", .storage_path = "x.json"};
  CHECK_EQ_INT(ms_retrieval_job_persist(job, repo, reg, &ox, &err), MS_ERR_INVALID);
  CHECK(strstr(err.message, "unknown extension") != NULL);
  snprintf(path, sizeof path, "%s/adir.parquet", g_dir);
  mkdir(path, 0777);
  ms_saved_dataset_options od = {.name = "d", .storage_path = path, .allow_overwrite = true};
  CHECK_EQ_INT(ms_retrieval_job_persist(job, repo, reg, &od, &err), MS_ERR_EXISTS);
  CHECK_EQ_INT(ms_registry_get(reg, "sd", "saved_dataset", "d", 0, &v, NULL), MS_ERR_NOT_FOUND);
  CHECK_EQ_INT(ms_retrieval_job_persist(NULL, repo, reg, &o, &err), MS_ERR_INVALID);
  ms_retrieval_job_free(job);
  ms_retrieval_job_free(ej);
  ms_table_release(ent);
  ms_table_release(empty);
  ms_registry_close(reg);
  ms_repo_free(repo);
}

MS_TEST_MAIN(MS_TEST(test_roundtrip), MS_TEST(test_refuse_and_overwrite), MS_TEST(test_csv_empty_and_bad))
