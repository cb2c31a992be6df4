/* wr_write_parts (src/write/wr_parts.c): random tables with partition columns of every
 * kind (int, date, string, bool, nulls) written as token part files, Parquet and CSV,
 * with and without a row cap per file; every file checked against a brute-force grouping
 * (folder names, rows in input order, partition columns not stored), then committed and
 * read back through the dataset layer. Refused partition values and a failure after some
 * files were written leave no file behind; progress ends at the row count. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/dataset.h"
#include "morsel/parquet.h"
#include "ms_test.h"
#include "write/write_int.h"

static uint64_t g_rng = 0x51ed270b27f3a1c5ull;
static uint64_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

static const char *fresh_dir(const char *name) {
  static char buf[1200];
  snprintf(buf, sizeof buf, "%s/%s", ms_test_tmpdir(), name);
  char cmd[1400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", buf);
  if (system(cmd) != 0) return NULL;
  mkdir(buf, 0777);
  return buf;
}

/* Files below root (recursively), counted; names starting with '.' included. */
static int count_files(const char *root) {
  char cmd[1400];
  snprintf(cmd, sizeof cmd, "find '%s' -type f | wc -l", root);
  FILE *p = popen(cmd, "r");
  int n = -1;
  if (p && fscanf(p, "%d", &n) != 1) n = -1;
  if (p) pclose(p);
  return n;
}

static ms_store *open_store(const char *root) {
  ms_store_options o;
  ms_store_options_init(&o);
  ms_store *s = NULL;
  ms_error err;
  if (ms_store_open(root, &o, &s, &err) != MS_OK) fprintf(stderr, "store: %s\n", err.message);
  return s;
}

/* A random table: id (row number, int64), val (float64 with nulls), p_int (int64 in a few
 * values, nulls), p_date (date32), p_str (utf8 from a small set, nulls), p_bool. */
static ms_table *random_table(int64_t n) {
  ms_datatype ti = ms_type(MS_TYPE_INT64), tf = ms_type(MS_TYPE_FLOAT64), td = ms_type(MS_TYPE_DATE32),
              ts = ms_type(MS_TYPE_UTF8), tb = ms_type(MS_TYPE_BOOL);
  ms_column_builder *b[6];
  ms_column *c[6];
  const ms_datatype *types[6] = {&ti, &tf, &ti, &td, &ts, &tb};
  for (int k = 0; k < 6; k++) ms_column_builder_create(types[k], n, &b[k], NULL);
  static const char *strs[] = {"alpha", "_beta", "x y=1", ".ü"};
  for (int64_t i = 0; i < n; i++) {
    ms_builder_append_i64(b[0], i);
    if (rnd() % 5 == 0) ms_builder_append_null(b[1]);
    else ms_builder_append_f64(b[1], (double)(rnd() % 1000) / 8);
    if (rnd() % 7 == 0) ms_builder_append_null(b[2]);
    else ms_builder_append_i64(b[2], (int64_t)(rnd() % 3) - 1);
    ms_builder_append_i64(b[3], 19700 + (int64_t)(rnd() % 4));
    if (rnd() % 6 == 0) ms_builder_append_null(b[4]);
    else {
      const char *s = strs[rnd() % 4];
      ms_builder_append_bytes(b[4], s, (int64_t)strlen(s));
    }
    ms_builder_append_bool(b[5], rnd() % 2);
  }
  ms_field f[6] = {{"id", ti, false}, {"val", tf, true}, {"p_int", ti, true},
                   {"p_date", td, false}, {"p_str", ts, true}, {"p_bool", tb, false}};
  for (int k = 0; k < 6; k++) {
    ms_builder_finish(b[k], &c[k], NULL);
    ms_column_builder_destroy(b[k]);
  }
  ms_table *t = NULL;
  ms_table_create(f, c, 6, &t, NULL);
  for (int k = 0; k < 6; k++) ms_column_release(c[k]);
  return t;
}

/* The folder of row i under the partition columns, by the documented rules. */
static void model_dir(const ms_table *t, const char *const *pc, int np, int64_t i, char *out, size_t size) {
  out[0] = '\0';
  for (int k = 0; k < np; k++) {
    const ms_column *c = ms_table_column(t, ms_table_find_column(t, pc[k]));
    char v[256];
    if (ms_column_is_null(c, i)) snprintf(v, sizeof v, "__HIVE_DEFAULT_PARTITION__");
    else if (ms_column_type(c)->id == MS_TYPE_DATE32) ms_format_date32((int32_t)ms_column_get_i64(c, i), v);
    else if (ms_column_type(c)->id == MS_TYPE_BOOL) snprintf(v, sizeof v, "%s", ms_column_get_bool(c, i) ? "true" : "false");
    else if (ms_column_type(c)->id == MS_TYPE_INT64) snprintf(v, sizeof v, "%lld", (long long)ms_column_get_i64(c, i));
    else {
      int64_t len;
      const uint8_t *p = ms_column_get_bytes(c, i, &len);
      snprintf(v, sizeof v, "%.*s", (int)len, (const char *)p);
    }
    size_t l = strlen(out);
    snprintf(out + l, size - l, "%s%s=%s", k ? "/" : "", pc[k], v);
  }
}

typedef struct prog {
  int64_t last, total, calls;
  bool monotone;
} prog;
static void on_progress(void *ctx, const char *stage, int64_t done, int64_t total) {
  prog *p = ctx;
  if (strcmp(stage, "write") || done < p->last) p->monotone = false;
  p->last = done;
  p->total = total;
  p->calls++;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void test_random_parts(void) {
  static const char *all_pc[] = {"p_date", "p_str", "p_int", "p_bool"};
  for (int iter = 0; iter < 24; iter++) {
    const char *root = fresh_dir("parts");
    CHECK(root);
    int64_t n = (int64_t)(rnd() % 300);
    ms_table *t = random_table(n);
    int np = (int)(rnd() % 3);
    const char *pc[3];
    int start = (int)(rnd() % 4);
    for (int k = 0; k < np; k++) pc[k] = all_pc[(start + k) % 4];
    ms_file_format fmt = iter % 3 == 2 ? MS_FORMAT_CSV : MS_FORMAT_PARQUET;
    int64_t cap = rnd() % 2 ? 0 : 1 + (int64_t)(rnd() % 40);
    ms_store *s = open_store(root);
    CHECK(s);
    ms_write_options o;
    memset(&o, 0, sizeof o);
    prog pr = {0, 0, 0, true};
    o.progress = on_progress;
    o.progress_ctx = &pr;
    ms_store_file *files = NULL;
    int nf = 0;
    ms_error err;
    ms_error_init(&err);
    CHECK_OK(wr_write_parts(s, t, pc, np, fmt, cap, NULL, &o, &files, &nf, &err), &err);
    /* brute force: each row's folder; rows of a folder in input order, cut by cap */
    char (*dirs)[512] = ms_calloc((size_t)n + 1, sizeof *dirs);
    for (int64_t i = 0; i < n; i++) model_dir(t, pc, np, i, dirs[i], sizeof dirs[i]);
    int64_t seen = 0, expect_files = 0;
    /* distinct folders, sorted */
    char (*uniq)[512] = ms_calloc((size_t)n + 1, sizeof *uniq);
    int nu = 0;
    for (int64_t i = 0; i < n; i++) {
      bool dup = false;
      for (int u = 0; u < nu && !dup; u++) dup = !strcmp(uniq[u], dirs[i]);
      if (!dup) snprintf(uniq[nu++], sizeof uniq[0], "%s", dirs[i]);
    }
    qsort(uniq, (size_t)nu, sizeof uniq[0], (int (*)(const void *, const void *))strcmp);
    for (int u = 0; u < nu; u++) {
      int64_t cnt = 0;
      for (int64_t i = 0; i < n; i++) cnt += !strcmp(dirs[i], uniq[u]);
      expect_files += cap ? (cnt + cap - 1) / cap : 1;
    }
    CHECK_EQ_INT(nf, expect_files);
    CHECK(pr.monotone && pr.last == n && (n == 0 || pr.total == n));
    int f = 0;
    for (int u = 0; u < nu; u++) {
      int64_t rows_of[400];
      int64_t cnt = 0;
      for (int64_t i = 0; i < n; i++)
        if (!strcmp(dirs[i], uniq[u])) rows_of[cnt++] = i;
      for (int64_t off = 0; off < cnt; off += cap ? cap : cnt, f++) {
        int64_t m = cap && cnt - off > cap ? cap : cnt - off;
        CHECK(f < nf);
        /* path: <folder>/part-<stamp>.m<16 hex>.<ext> */
        const char *base = strrchr(files[f].path, '/');
        base = base ? base + 1 : files[f].path;
        size_t dl = strlen(uniq[u]);
        CHECK_MSG(dl == 0 ? base == files[f].path : (!strncmp(files[f].path, uniq[u], dl) && files[f].path[dl] == '/'),
                  "%s vs %s", files[f].path, uniq[u]);
        CHECK(!strncmp(base, "part-", 5) && ms_store_is_token_name(base));
        CHECK(strstr(base, fmt == MS_FORMAT_CSV ? ".csv" : ".parquet"));
        CHECK_EQ_INT(files[f].rows, m);
        char full[2048];
        snprintf(full, sizeof full, "%s/%s", root, files[f].path);
        struct stat sb;
        CHECK(stat(full, &sb) == 0 && sb.st_size == files[f].bytes);
        /* the file: every column but the partition ones, the group's rows in order */
        ms_table *got = NULL;
        if (fmt == MS_FORMAT_CSV) {
          ms_csv_read_options ro;
          ms_csv_read_options_init(&ro);
          ms_field sch[6];
          int ns = 0;
          for (int k = 0; k < 6; k++) {
            bool is_p = false;
            for (int q = 0; q < np; q++) is_p |= !strcmp(pc[q], ms_table_field(t, k)->name);
            if (!is_p) sch[ns++] = *ms_table_field(t, k);
          }
          ro.schema = sch;
          ro.n_schema = ns;
          CHECK_OK(ms_csv_read(NULL, full, &ro, &got, &err), &err);
        } else {
          ms_pq_file *pf = NULL;
          CHECK_OK(ms_pq_open(NULL, full, &pf, &err), &err);
          CHECK_OK(ms_pq_read(pf, NULL, &got, NULL, &err), &err);
          ms_pq_close(pf);
        }
        CHECK_EQ_INT(ms_table_num_columns(got), 6 - np);
        ms_table *exp_all = NULL, *exp = NULL;
        const char *keep[6];
        int nk = 0;
        for (int k = 0; k < 6; k++) {
          bool is_p = false;
          for (int q = 0; q < np; q++) is_p |= !strcmp(pc[q], ms_table_field(t, k)->name);
          if (!is_p) keep[nk++] = ms_table_field(t, k)->name;
        }
        CHECK_OK(ms_table_select(t, keep, nk, &exp_all, &err), &err);
        CHECK_OK(ms_table_take(exp_all, rows_of + off, m, &exp, &err), &err);
        for (int k = 0; k < nk; k++) {
          CHECK_STR(ms_table_field(got, k)->name, keep[k]);
          CHECK_MSG(ms_column_equal(ms_table_column(got, k), ms_table_column(exp, k)), "iter %d file %s column %s", iter,
                    files[f].path, keep[k]);
        }
        ms_table_release(exp);
        ms_table_release(exp_all);
        ms_table_release(got);
        seen += m;
      }
    }
    CHECK_EQ_INT(seen, n);
    /* committed: the dataset reads every row back (ids as a set; partition values typed) */
    if (nf > 0) {
      ms_store_commit cm;
      memset(&cm, 0, sizeof cm);
      cm.kind = "write_batch";
      cm.adds = files;
      cm.n_adds = nf;
      cm.rows_added = n;
      int64_t gen = 0;
      CHECK_OK(ms_store_commit_files(s, &cm, &gen, &err), &err);
      CHECK_EQ_INT(gen, 1);
      ms_dataset *ds = NULL;
      ms_dataset_options dop;
      ms_dataset_options_init(&dop);
      dop.format = fmt;
      CHECK_OK(ms_dataset_open(NULL, root, &dop, &ds, &err), &err);
      ms_table *back = NULL;
      CHECK_OK(ms_dataset_read(ds, NULL, &back, NULL, &err), &err);
      CHECK_EQ_INT(ms_table_num_rows(back), n);
      int ic = ms_table_find_column(back, "id");
      int64_t *ids = ms_calloc((size_t)n + 1, sizeof *ids);
      for (int64_t i = 0; i < n; i++) ids[i] = ms_column_get_i64(ms_table_column(back, ic), i);
      qsort(ids, (size_t)n, sizeof *ids, cmp_i64);
      for (int64_t i = 0; i < n; i++) CHECK_EQ_INT(ids[i], i);
      ms_free(ids);
      ms_table_release(back);
      ms_dataset_close(ds);
    }
    ms_free(dirs);
    ms_free(uniq);
    wr_files_free(files, nf);
    ms_store_close(s);
    ms_table_release(t);
  }
}

static ms_table *str_table(const char *const *v, int n) {
  ms_datatype ts = ms_type(MS_TYPE_UTF8), ti = ms_type(MS_TYPE_INT64);
  ms_column_builder *b = NULL, *bi = NULL;
  ms_column_builder_create(&ts, n, &b, NULL);
  ms_column_builder_create(&ti, n, &bi, NULL);
  for (int i = 0; i < n; i++) {
    if (v[i]) ms_builder_append_bytes(b, v[i], (int64_t)strlen(v[i]));
    else ms_builder_append_null(b);
    ms_builder_append_i64(bi, i);
  }
  ms_column *c[2];
  ms_builder_finish(b, &c[0], NULL);
  ms_builder_finish(bi, &c[1], NULL);
  ms_column_builder_destroy(b);
  ms_column_builder_destroy(bi);
  ms_field f[2] = {{"p", ts, true}, {"id", ti, false}};
  ms_table *t = NULL;
  ms_table_create(f, c, 2, &t, NULL);
  ms_column_release(c[0]);
  ms_column_release(c[1]);
  return t;
}

/* Values that cannot name a folder are refused with row and column before any file is
 * written; a failure after files were written removes them. */
static void test_refusals_and_cleanup(void) {
  const char *root = fresh_dir("parts_bad");
  ms_store *s = open_store(root);
  CHECK(s);
  const char *pc[] = {"p"};
  static const char *bad[] = {"a/b", "", "__HIVE_DEFAULT_PARTITION__"};
  for (int k = 0; k < 3; k++) {
    const char *v[3] = {"ok", NULL, bad[k]};
    ms_table *t = str_table(v, 3);
    ms_store_file *files = NULL;
    int nf = 0;
    ms_error err;
    ms_error_init(&err);
    ms_write_options o;
    memset(&o, 0, sizeof o);
    o.input_name = "in.csv";
    CHECK(wr_write_parts(s, t, pc, 1, MS_FORMAT_PARQUET, 0, NULL, &o, &files, &nf, &err) == MS_ERR_INVALID);
    CHECK_EQ_INT(err.row, 3);
    CHECK_STR(err.column, "p");
    CHECK_MSG(!strncmp(err.message, "in.csv: row 3, column 'p': ", 27), "%s", err.message);
    CHECK(files == NULL && nf == 0);
    CHECK_EQ_INT(count_files(root), 0);
    ms_table_release(t);
  }
  /* unknown partition column */
  {
    const char *v[1] = {"a"};
    ms_table *t = str_table(v, 1);
    const char *nope[] = {"nope"};
    ms_store_file *files = NULL;
    int nf = 0;
    ms_error err;
    ms_error_init(&err);
    CHECK(wr_write_parts(s, t, nope, 1, MS_FORMAT_PARQUET, 0, NULL, NULL, &files, &nf, &err) == MS_ERR_INVALID);
    ms_table_release(t);
  }
  /* the folder of the second group cannot be created (a file stands in its place): the
   * first group's file, already renamed into place, is removed again */
  char blocker[1400];
  snprintf(blocker, sizeof blocker, "%s/p=zz", root);
  FILE *fb = fopen(blocker, "w");
  CHECK(fb);
  fputs("x", fb);
  fclose(fb);
  const char *v[4] = {"aa", "zz", "aa", "zz"};
  ms_table *t = str_table(v, 4);
  ms_store_file *files = NULL;
  int nf = 0;
  ms_error err;
  ms_error_init(&err);
  CHECK(wr_write_parts(s, t, pc, 1, MS_FORMAT_PARQUET, 0, NULL, NULL, &files, &nf, &err) != MS_OK);
  CHECK(files == NULL && nf == 0);
  CHECK_EQ_INT(count_files(root), 1); /* the blocker only */
  ms_table_release(t);
  ms_store_close(s);
}

MS_TEST_MAIN(MS_TEST(test_random_parts), MS_TEST(test_refusals_and_cleanup))
