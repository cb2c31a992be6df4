/* Tests of datasets: single files, directories, globs, hive partitions (typed, URL-decoded,
 * null), partition and row-group pruning, schema unification and its errors, and thread
 * count independence. CSV fixtures are written as literal text; Parquet fixtures through
 * ms_pq_write_table. Expected values are spelled out in each test. */
#include <stdio.h>
#include <string.h>

#include "morsel/alloc.h"
#include "morsel/dataset.h"
#include "morsel/parquet.h"
#include "ms_test.h"

static char g_root[1100];

static const char *root(void) {
  if (!g_root[0]) snprintf(g_root, sizeof g_root, "%s/ds", ms_test_tmpdir());
  mkdir(g_root, 0777);
  return g_root;
}

static const char *path_of(const char *rel) {
  static char buf[4][2048];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", root(), rel);
  return buf[k];
}

static void write_text(const char *rel, const char *text) {
  char path[2048];
  snprintf(path, sizeof path, "%s/%s", root(), rel);
  for (char *p = path + strlen(root()) + 1; *p; p++)
    if (*p == '/') { *p = '\0'; mkdir(path, 0777); *p = '/'; }
  FILE *f = fopen(path, "w");
  if (f) { fputs(text, f); fclose(f); }
}

static int col(const ms_table *t, const char *name) { return ms_table_find_column(t, name); }

static bool str_eq(const ms_table *t, const char *name, int64_t row, const char *expect) {
  int c = col(t, name);
  if (c < 0) return false;
  ms_column *cc = ms_table_column(t, c);
  if (!expect) return ms_column_is_null(cc, row);
  if (ms_column_is_null(cc, row)) return false;
  int64_t len;
  const uint8_t *p = ms_column_get_bytes(cc, row, &len);
  return len == (int64_t)strlen(expect) && memcmp(p, expect, (size_t)len) == 0;
}

static bool i64_eq(const ms_table *t, const char *name, int64_t row, int64_t expect) {
  int c = col(t, name);
  return c >= 0 && !ms_column_is_null(ms_table_column(t, c), row) &&
         ms_column_get_i64(ms_table_column(t, c), row) == expect;
}

static bool is_null(const ms_table *t, const char *name, int64_t row) {
  int c = col(t, name);
  return c >= 0 && ms_column_is_null(ms_table_column(t, c), row);
}

static ms_status read_all(const char *rel, const ms_range *ranges, int n_ranges, const char *const *cols,
                          int n_cols, ms_table **out, ms_dataset_read_stats *stats, ms_error *err) {
  ms_dataset *ds;
  ms_status st = ms_dataset_open(NULL, path_of(rel), NULL, &ds, err);
  if (st) return st;
  ms_dataset_read_options ro = {0};
  ro.ranges = ranges;
  ro.n_ranges = n_ranges;
  ro.columns = cols;
  ro.n_columns = n_cols;
  st = ms_dataset_read(ds, &ro, out, stats, err);
  ms_dataset_close(ds);
  return st;
}

static void test_single_file_and_directory(void) {
  write_text("dir/b.csv", "id,name\n3,c\n");
  write_text("dir/a.csv", "id,name\n1,a\n2,b\n");
  write_text("dir/sub/c.csv", "id,name\n4,d\n");
  write_text("dir/.hidden.csv", "id,name\n99,hidden\n");
  write_text("dir/_SUCCESS", "");
  write_text("dir/_tmp/x.csv", "id,name\n98,tmp\n");
  write_text("dir/notes.json", "{}");
  ms_error err;
  ms_error_init(&err);
  ms_dataset *ds;
  CHECK_OK(ms_dataset_open(NULL, path_of("dir"), NULL, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_files(ds), 3);
  CHECK_STR(ms_dataset_file_path(ds, 0), path_of("dir/a.csv"));
  CHECK_STR(ms_dataset_file_path(ds, 2), path_of("dir/sub/c.csv"));
  CHECK_EQ_INT(ms_dataset_num_fields(ds), 2);
  CHECK_STR(ms_dataset_field(ds, 0)->name, "id");
  CHECK_EQ_INT(ms_dataset_field(ds, 0)->type.id, MS_TYPE_INT64);
  CHECK(!ms_dataset_field_is_partition(ds, 0));
  ms_table *t;
  ms_dataset_read_stats stats;
  CHECK_OK(ms_dataset_read(ds, NULL, &t, &stats, &err), &err);
  ms_dataset_close(ds);
  CHECK_EQ_INT(ms_table_num_rows(t), 4);
  for (int64_t r = 0; r < 4; r++) CHECK(i64_eq(t, "id", r, r + 1));
  CHECK(str_eq(t, "name", 3, "d"));
  CHECK_EQ_INT(stats.files_total, 3);
  CHECK_EQ_INT(stats.files_kept, 3);
  ms_table_release(t);

  CHECK_OK(read_all("dir/b.csv", NULL, 0, NULL, 0, &t, NULL, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 1);
  CHECK(i64_eq(t, "id", 0, 3));
  ms_table_release(t);

  /* Globs. */
  CHECK_OK(read_all("dir/[ab].csv", NULL, 0, NULL, 0, &t, NULL, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 3);
  ms_table_release(t);
  CHECK_OK(read_all("dir/**/*.csv", NULL, 0, NULL, 0, &t, NULL, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 4);
  CHECK(i64_eq(t, "id", 3, 4));
  ms_table_release(t);
  CHECK_OK(read_all("dir/s?b/*", NULL, 0, NULL, 0, &t, NULL, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 1);
  ms_table_release(t);
}

static void test_errors(void) {
  ms_error err;
  ms_error_init(&err);
  ms_dataset *ds = NULL;
  char empty[2048];
  snprintf(empty, sizeof empty, "%s", path_of("empty"));
  mkdir(empty, 0777);
  CHECK_EQ_INT(ms_dataset_open(NULL, empty, NULL, &ds, &err), MS_ERR_NOT_FOUND);
  CHECK(strstr(err.message, "no data files") != NULL);
  CHECK(ds == NULL);
  write_text("onlyhidden/_SUCCESS", "");
  write_text("onlyhidden/.x.csv", "a\n1\n");
  ms_error_init(&err);
  CHECK_EQ_INT(ms_dataset_open(NULL, path_of("onlyhidden"), NULL, &ds, &err), MS_ERR_NOT_FOUND);
  ms_error_init(&err);
  CHECK_EQ_INT(ms_dataset_open(NULL, path_of("does-not-exist"), NULL, &ds, &err), MS_ERR_NOT_FOUND);
  CHECK(strstr(err.file, "does-not-exist") != NULL);
  ms_error_init(&err);
  CHECK_EQ_INT(ms_dataset_open(NULL, path_of("dir/*.nomatch"), NULL, &ds, &err), MS_ERR_NOT_FOUND);
  write_text("weird.data", "a\n1\n");
  ms_error_init(&err);
  CHECK_EQ_INT(ms_dataset_open(NULL, path_of("weird.data"), NULL, &ds, &err), MS_ERR_INVALID);
  /* Inconsistent hive keys. */
  write_text("badhive/a=1/x.csv", "v\n1\n");
  write_text("badhive/b=1/x.csv", "v\n1\n");
  ms_error_init(&err);
  CHECK_EQ_INT(ms_dataset_open(NULL, path_of("badhive"), NULL, &ds, &err), MS_ERR_INVALID);
  CHECK(strstr(err.message, "inconsistent hive partitioning") != NULL);
  /* A partition key that is also a file column. */
  write_text("dupkey/v=1/x.csv", "v\n1\n");
  ms_error_init(&err);
  CHECK_EQ_INT(ms_dataset_open(NULL, path_of("dupkey"), NULL, &ds, &err), MS_ERR_INVALID);
  CHECK_STR(err.column, "v");
  /* Unknown columns. */
  ms_table *t = NULL;
  const char *cols[] = {"nope"};
  ms_error_init(&err);
  CHECK_EQ_INT(read_all("dir", NULL, 0, cols, 1, &t, NULL, &err), MS_ERR_NOT_FOUND);
  CHECK_STR(err.column, "nope");
  CHECK(t == NULL);
}

static void write_hive(void) {
  write_text("hive/year=2024/month=01/region=eu%20west/part-0.csv", "id,v\n1,1.5\n2,2.5\n");
  write_text("hive/year=2024/month=02/region=us/part-0.csv", "id,v\n3,3.5\n");
  write_text("hive/year=2025/month=01/region=__HIVE_DEFAULT_PARTITION__/part-0.csv", "id,v\n4,4.5\n");
  write_text("hive/_SUCCESS", "");
}

static void test_hive_types_and_values(void) {
  write_hive();
  ms_error err;
  ms_error_init(&err);
  ms_dataset *ds;
  CHECK_OK(ms_dataset_open(NULL, path_of("hive"), NULL, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_fields(ds), 5);
  const char *names[] = {"id", "v", "year", "month", "region"};
  ms_type_id types[] = {MS_TYPE_INT64, MS_TYPE_FLOAT64, MS_TYPE_INT64, MS_TYPE_INT64, MS_TYPE_UTF8};
  for (int i = 0; i < 5; i++) {
    CHECK_STR(ms_dataset_field(ds, i)->name, names[i]);
    CHECK_EQ_INT(ms_dataset_field(ds, i)->type.id, types[i]);
    CHECK_EQ_INT(ms_dataset_field_is_partition(ds, i), i >= 2);
  }
  CHECK(!ms_dataset_field(ds, 2)->nullable);
  CHECK(ms_dataset_field(ds, 4)->nullable);
  ms_table *t;
  CHECK_OK(ms_dataset_read(ds, NULL, &t, NULL, &err), &err);
  ms_dataset_close(ds);
  CHECK_EQ_INT(ms_table_num_rows(t), 4);
  int64_t years[] = {2024, 2024, 2024, 2025}, months[] = {1, 1, 2, 1};
  const char *regions[] = {"eu west", "eu west", "us", NULL};
  for (int64_t r = 0; r < 4; r++) {
    CHECK(i64_eq(t, "id", r, r + 1));
    CHECK(i64_eq(t, "year", r, years[r]));
    CHECK(i64_eq(t, "month", r, months[r]));
    CHECK(str_eq(t, "region", r, regions[r]));
  }
  ms_table_release(t);

  /* Dates, and a value that is not a date turns the key into utf8. */
  write_text("dates/day=2024-01-05/a.csv", "x\n1\n");
  write_text("dates/day=2024-02-29/b.csv", "x\n2\n");
  write_text("dates/day=__HIVE_DEFAULT_PARTITION__/c.csv", "x\n3\n");
  CHECK_OK(ms_dataset_open(NULL, path_of("dates"), NULL, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_field(ds, 1)->type.id, MS_TYPE_DATE32);
  CHECK_OK(ms_dataset_read(ds, NULL, &t, NULL, &err), &err);
  ms_dataset_close(ds);
  CHECK(i64_eq(t, "day", 0, 19727)); /* 2024-01-01 is day 19723 */
  CHECK(i64_eq(t, "day", 1, 19782));
  CHECK(is_null(t, "day", 2));
  ms_table_release(t);
  write_text("dates2/day=2024-01-05/a.csv", "x\n1\n");
  write_text("dates2/day=2024-02-30/b.csv", "x\n2\n");
  CHECK_OK(ms_dataset_open(NULL, path_of("dates2"), NULL, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_field(ds, 1)->type.id, MS_TYPE_UTF8);
  ms_dataset_close(ds);
  /* Hive parsing can be switched off. */
  ms_dataset_options o;
  ms_dataset_options_init(&o);
  o.hive_partitioning = false;
  CHECK_OK(ms_dataset_open(NULL, path_of("hive"), &o, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_fields(ds), 2);
  ms_dataset_close(ds);
}

static void test_partition_pruning(void) {
  write_hive();
  ms_error err;
  ms_error_init(&err);
  ms_table *t;
  ms_dataset_read_stats stats;
  ms_range r = {0};
  r.column = "year";
  r.kind = MS_RANGE_INT;
  r.has_lo = r.has_hi = true;
  r.lo_i = r.hi_i = 2025;
  CHECK_OK(read_all("hive", &r, 1, NULL, 0, &t, &stats, &err), &err);
  CHECK_EQ_INT(stats.files_total, 3);
  CHECK_EQ_INT(stats.files_kept, 1);
  CHECK_EQ_INT(ms_table_num_rows(t), 1);
  CHECK(i64_eq(t, "id", 0, 4));
  ms_table_release(t);

  ms_range s = {0};
  s.column = "region";
  s.kind = MS_RANGE_STRING;
  s.has_lo = true;
  s.lo_s = "a";
  s.lo_s_len = 1;
  CHECK_OK(read_all("hive", &s, 1, NULL, 0, &t, &stats, &err), &err);
  CHECK_EQ_INT(stats.files_kept, 2); /* the null region never matches */
  CHECK_EQ_INT(ms_table_num_rows(t), 3);
  ms_table_release(t);
  s.has_hi = true;
  s.hi_s = "us";
  s.hi_s_len = 2;
  s.lo_s = "f";
  CHECK_OK(read_all("hive", &s, 1, NULL, 0, &t, &stats, &err), &err);
  CHECK_EQ_INT(stats.files_kept, 1);
  CHECK(str_eq(t, "region", 0, "us"));
  ms_table_release(t);

  ms_range f = {0};
  f.column = "month";
  f.kind = MS_RANGE_FLOAT;
  f.has_lo = f.has_hi = true;
  f.lo_f = 1.5;
  f.hi_f = 2.5;
  CHECK_OK(read_all("hive", &f, 1, NULL, 0, &t, &stats, &err), &err);
  CHECK_EQ_INT(stats.files_kept, 1);
  CHECK(i64_eq(t, "id", 0, 3));
  ms_table_release(t);

  /* Two ranges AND together; nothing left gives an empty table with the schema. */
  ms_range both[2] = {r, f};
  CHECK_OK(read_all("hive", both, 2, NULL, 0, &t, &stats, &err), &err);
  CHECK_EQ_INT(stats.files_kept, 0);
  CHECK_EQ_INT(ms_table_num_rows(t), 0);
  CHECK_EQ_INT(ms_table_num_columns(t), 5);
  ms_table_release(t);

  /* Only partition columns asked for: the row count still comes from the files. */
  const char *cols[] = {"region", "year"};
  CHECK_OK(read_all("hive", NULL, 0, cols, 2, &t, &stats, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 4);
  CHECK_EQ_INT(ms_table_num_columns(t), 2);
  CHECK_STR(ms_table_field(t, 0)->name, "region");
  CHECK(str_eq(t, "region", 1, "eu west"));
  CHECK(i64_eq(t, "year", 3, 2025));
  ms_table_release(t);

  /* A string range on an int64 partition is a type error. */
  ms_range bad = s;
  bad.column = "year";
  ms_error_init(&err);
  CHECK_EQ_INT(read_all("hive", &bad, 1, NULL, 0, &t, &stats, &err), MS_ERR_TYPE);
}

static void test_csv_unification(void) {
  write_text("uni/a.csv", "k,x\n1,10\n");
  write_text("uni/b.csv", "k,y\n2,hello\n");
  write_text("uni/c.csv", "k,x\n3,2.5\n");
  ms_error err;
  ms_error_init(&err);
  ms_dataset *ds;
  CHECK_OK(ms_dataset_open(NULL, path_of("uni"), NULL, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_fields(ds), 3);
  CHECK_STR(ms_dataset_field(ds, 1)->name, "x");
  CHECK_EQ_INT(ms_dataset_field(ds, 1)->type.id, MS_TYPE_FLOAT64);
  CHECK_STR(ms_dataset_field(ds, 2)->name, "y");
  CHECK(ms_dataset_field(ds, 2)->nullable);
  ms_table *t;
  CHECK_OK(ms_dataset_read(ds, NULL, &t, NULL, &err), &err);
  ms_dataset_close(ds);
  CHECK_EQ_INT(ms_table_num_rows(t), 3);
  int x = col(t, "x");
  CHECK(ms_column_get_f64(ms_table_column(t, x), 0) == 10.0);
  CHECK(is_null(t, "x", 1));
  CHECK(ms_column_get_f64(ms_table_column(t, x), 2) == 2.5);
  CHECK(is_null(t, "y", 0));
  CHECK(str_eq(t, "y", 1, "hello"));
  CHECK(is_null(t, "y", 2));
  ms_table_release(t);
  /* int64 vs text in CSV: both read as utf8. */
  write_text("uni2/a.csv", "x\n1\n");
  write_text("uni2/b.csv", "x\nabc\n");
  CHECK_OK(read_all("uni2", NULL, 0, NULL, 0, &t, NULL, &err), &err);
  CHECK(str_eq(t, "x", 0, "1"));
  CHECK(str_eq(t, "x", 1, "abc"));
  ms_table_release(t);
}

static ms_status write_pq_int(const char *rel, const char *name, ms_type_id id, int64_t n, int64_t rg_rows,
                              ms_error *err) {
  ms_datatype ty = ms_type(id);
  ms_column_builder *b;
  ms_status st = ms_column_builder_create(&ty, n, &b, err);
  if (st) return st;
  for (int64_t i = 0; i < n; i++) ms_builder_append_i64(b, i);
  ms_column *c;
  st = ms_builder_finish(b, &c, err);
  ms_column_builder_destroy(b);
  if (st) return st;
  ms_field f = {(char *)name, ty, false};
  ms_table *t;
  st = ms_table_create(&f, &c, 1, &t, err);
  ms_column_release(c);
  if (st) return st;
  ms_pq_write_options wo;
  ms_pq_write_options_init(&wo);
  wo.row_group_rows = rg_rows;
  st = ms_pq_write_table(NULL, path_of(rel), t, &wo, err);
  ms_table_release(t);
  return st;
}

static ms_status write_pq_i64(const char *rel, const char *name, int64_t n, int64_t rg_rows, ms_error *err) {
  return write_pq_int(rel, name, MS_TYPE_INT64, n, rg_rows, err);
}

static ms_status write_pq_str(const char *rel, const char *name, ms_error *err) {
  ms_datatype ty = ms_type(MS_TYPE_UTF8);
  ms_column_builder *b;
  ms_status st = ms_column_builder_create(&ty, 1, &b, err);
  if (st) return st;
  ms_builder_append_bytes(b, "a", 1);
  ms_column *c;
  st = ms_builder_finish(b, &c, err);
  ms_column_builder_destroy(b);
  if (st) return st;
  ms_field f = {(char *)name, ty, true};
  ms_table *t;
  st = ms_table_create(&f, &c, 1, &t, err);
  ms_column_release(c);
  if (st) return st;
  st = ms_pq_write_table(NULL, path_of(rel), t, NULL, err);
  ms_table_release(t);
  return st;
}

static void test_parquet_conflicts_and_row_groups(void) {
  ms_error err;
  ms_error_init(&err);
  mkdir(path_of("conf"), 0777);
  CHECK_OK(write_pq_i64("conf/a.parquet", "x", 3, 1000, &err), &err);
  CHECK_OK(write_pq_str("conf/b.parquet", "x", &err), &err);
  ms_dataset *ds = NULL;
  CHECK_EQ_INT(ms_dataset_open(NULL, path_of("conf"), NULL, &ds, &err), MS_ERR_TYPE);
  CHECK_STR(err.column, "x");
  CHECK(strstr(err.message, "conf/a.parquet") != NULL);
  CHECK(strstr(err.message, "conf/b.parquet") != NULL);
  CHECK(strstr(err.message, "int64") && strstr(err.message, "utf8"));
  /* CSV guesses do not relax a conflict with a Parquet file. */
  mkdir(path_of("conf2"), 0777);
  write_text("conf2/a.csv", "x\n1\n");
  CHECK_OK(write_pq_str("conf2/b.parquet", "x", &err), &err);
  ms_error_init(&err);
  CHECK_EQ_INT(ms_dataset_open(NULL, path_of("conf2"), NULL, &ds, &err), MS_ERR_TYPE);

  /* int32 and int64 do not widen silently either. */
  mkdir(path_of("conf3"), 0777);
  CHECK_OK(write_pq_int("conf3/a.parquet", "n", MS_TYPE_INT32, 3, 1000, &err), &err);
  CHECK_OK(write_pq_int("conf3/b.parquet", "n", MS_TYPE_INT64, 3, 1000, &err), &err);
  ms_error_init(&err);
  CHECK_EQ_INT(ms_dataset_open(NULL, path_of("conf3"), NULL, &ds, &err), MS_ERR_TYPE);
  CHECK_STR(err.column, "n");
  CHECK(strstr(err.message, "int32 in ") && strstr(err.message, "int64 in "));
  char formatted[2048];
  ms_error_format(&err, formatted, sizeof formatted);
  CHECK_MSG(strstr(formatted, "conf3/b.parquet: column 'n': conflicting types across files: int32 in "),
            "%s", formatted);

  /* Row-group pruning reaches the Parquet reader; missing columns read as nulls. */
  mkdir(path_of("rg"), 0777);
  CHECK_OK(write_pq_i64("rg/a.parquet", "id", 100, 10, &err), &err);
  CHECK_OK(write_pq_i64("rg/b.parquet", "other", 5, 10, &err), &err);
  ms_range r = {0};
  r.column = "id";
  r.kind = MS_RANGE_INT;
  r.has_lo = r.has_hi = true;
  r.lo_i = 25;
  r.hi_i = 34;
  ms_table *t;
  ms_dataset_read_stats stats;
  CHECK_OK(read_all("rg", &r, 1, NULL, 0, &t, &stats, &err), &err);
  CHECK_EQ_INT(stats.files_total, 2);
  CHECK_EQ_INT(stats.files_kept, 1); /* b.parquet has no id: all null there, pruned */
  CHECK_EQ_INT(stats.row_groups_total, 10);
  CHECK_EQ_INT(stats.row_groups_kept, 2);
  CHECK_EQ_INT(ms_table_num_rows(t), 20);
  CHECK(i64_eq(t, "id", 0, 20));
  CHECK(i64_eq(t, "id", 19, 39));
  CHECK(is_null(t, "other", 0));
  ms_table_release(t);
  CHECK_OK(read_all("rg", NULL, 0, NULL, 0, &t, &stats, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 105);
  CHECK(is_null(t, "id", 100));
  CHECK(i64_eq(t, "other", 104, 4));
  CHECK(is_null(t, "other", 99));
  ms_table_release(t);
}

static void test_thread_independence(void) {
  char text[4096];
  for (int f = 0; f < 12; f++) {
    int n = snprintf(text, sizeof text, "id,s\n");
    for (int r = 0; r < 50; r++) n += snprintf(text + n, sizeof text - (size_t)n, "%d,s%d\n", f * 50 + r, r);
    char rel[64];
    snprintf(rel, sizeof rel, "many/part=%02d/f.csv", f);
    write_text(rel, text);
  }
  ms_error err;
  ms_error_init(&err);
  ms_dataset *ds;
  CHECK_OK(ms_dataset_open(NULL, path_of("many"), NULL, &ds, &err), &err);
  ms_table *ref = NULL;
  for (int threads = 0; threads <= 4; threads++) {
    ms_pool *pool = NULL;
    if (threads > 0) CHECK_OK(ms_pool_create(threads, &pool, &err), &err);
    ms_dataset_read_options ro = {0};
    ro.pool = pool;
    ms_table *t;
    CHECK_OK(ms_dataset_read(ds, &ro, &t, NULL, &err), &err);
    ms_pool_destroy(pool);
    CHECK_EQ_INT(ms_table_num_rows(t), 600);
    for (int64_t r = 0; r < 600; r++) {
      CHECK(i64_eq(t, "id", r, r));
      CHECK(i64_eq(t, "part", r, r / 50));
    }
    if (!ref) { ref = t; continue; }
    for (int c = 0; c < 3; c++) CHECK(ms_column_equal(ms_table_column(t, c), ms_table_column(ref, c)));
    ms_table_release(t);
  }
  ms_table_release(ref);
  ms_dataset_close(ds);
}

MS_TEST_MAIN(MS_TEST(test_single_file_and_directory), MS_TEST(test_errors),
             MS_TEST(test_hive_types_and_values), MS_TEST(test_partition_pruning),
             MS_TEST(test_csv_unification), MS_TEST(test_parquet_conflicts_and_row_groups),
             MS_TEST(test_thread_independence))
