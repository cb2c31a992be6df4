/* Compaction (src/write/wr_compact.c, ms_compact_view) on real managed directories built
 * through the store API (include/morsel/store.h): token part files committed in several
 * commits, hive partition folders, hand-placed files without the token sorting between
 * them, files big enough to be left alone, Parquet and CSV.
 *  - random directories (seeds; MORSEL_COMPACT_SEED=<n> replays one): the dataset read
 *    before and after compaction is identical row for row (every column, partition
 *    columns included); no two files that should have been merged are left adjacent; the
 *    commit's registry record and manifest generation; the hand-placed files untouched;
 *  - equal small files: merged files of about the target size;
 *  - a reader that opened the dataset before the compaction (the old manifest's files)
 *    still reads the same rows until the garbage collection deletes the inputs;
 *  - two compactions racing (the second commits while the first is merging): the first
 *    fails with MS_ERR_CONFLICT and leaves no file behind; the data is unchanged; and two
 *    processes compacting at once: success or conflict each, registry agrees, no orphan;
 *  - nothing to do: one token file, big files only, a single-file source. */
#include <dirent.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/dataset.h"
#include "morsel/fs.h"
#include "morsel/parquet.h"
#include "morsel/registry.h"
#include "morsel/repo.h"
#include "morsel/store.h"
#include "morsel/write.h"
#include "ms_test.h"

static uint64_t g_rng;
static uint64_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}
static int rnd_int(int lo, int hi) { return lo + (int)(rnd() % (uint64_t)(hi - lo + 1)); }

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static char g_dir[2048];

/* A repository with two views: pq_view over data/pq (Parquet) and csv_view over data/csv,
 * and one_view over data/one.parquet (a single file). */
static ms_repo *make_repo(const char *tag) {
  snprintf(g_dir, sizeof g_dir, "%s/%s", ms_test_tmpdir(), tag);
  mkdir(g_dir, 0777);
  char p[4096];
  snprintf(p, sizeof p, "%s/data", g_dir);
  mkdir(p, 0777);
  snprintf(p, sizeof p, "%s/feature_store.yaml", g_dir);
  write_text(p, "project: cp\nregistry: reg.db\noffline_store:\n  type: morsel\n  threads: 2\n"
                "  storage_path: store\n  target_partition_size_mb: 1\n");
  snprintf(p, sizeof p, "%s/defs.yaml", g_dir);
  write_text(p,
             "entities:\n  - name: driver\n    join_keys: [driver_id]\n    value_type: int64\n"
             "sources:\n"
             "  - {name: pq, path: data/pq, file_format: parquet, timestamp_field: ts}\n"
             "  - {name: csv, path: data/csv, file_format: csv, timestamp_field: ts}\n"
             "  - {name: one, path: data/one.parquet, file_format: parquet, timestamp_field: ts}\n"
             "feature_views:\n"
             "  - name: pq_view\n    entities: [driver]\n    source: pq\n    ttl: 0s\n"
             "    schema: [{name: v, dtype: float64}, {name: s, dtype: string}]\n"
             "  - name: csv_view\n    entities: [driver]\n    source: csv\n    ttl: 0s\n"
             "    schema: [{name: v, dtype: float64}, {name: s, dtype: string}]\n"
             "  - name: one_view\n    entities: [driver]\n    source: one\n    ttl: 0s\n"
             "    schema: [{name: v, dtype: float64}, {name: s, dtype: string}]\n");
  ms_repo *repo = NULL;
  char **probs = NULL;
  int np = 0;
  ms_error err;
  ms_error_init(&err);
  if (ms_repo_load(g_dir, NULL, &repo, &probs, &np, &err) != MS_OK) {
    char b[2048];
    fprintf(stderr, "repo load: %s\n", np ? probs[0] : ms_error_format(&err, b, sizeof b));
    ms_repo_problems_free(probs, np);
    return NULL;
  }
  return repo;
}

/* A random table: driver_id int64, ts timestamp[us, UTC], v float64, s utf8. CSV tables
 * have no nulls and non-integral v (so every file infers the same types). */
static ms_table *random_table(int64_t rows, bool csv) {
  ms_datatype ty[4] = {ms_type(MS_TYPE_INT64), ms_type_timestamp(MS_UNIT_MICRO, "UTC"), ms_type(MS_TYPE_FLOAT64),
                       ms_type(MS_TYPE_UTF8)};
  const char *names[4] = {"driver_id", "ts", "v", "s"};
  ms_column *cols[4] = {0};
  ms_field f[4];
  for (int c = 0; c < 4; c++) {
    ms_column_builder *b = NULL;
    if (ms_column_builder_create(&ty[c], rows, &b, NULL) != MS_OK) return NULL;
    for (int64_t i = 0; i < rows; i++) {
      bool null = !csv && c >= 2 && rnd() % 9 == 0;
      if (null) {
        ms_builder_append_null(b);
      } else if (c == 0) {
        ms_builder_append_i64(b, rnd_int(1, 50));
      } else if (c == 1) {
        ms_builder_append_i64(b, INT64_C(1704067200000000) + (int64_t)(rnd() % 100000) * 1000000);
      } else if (c == 2) {
        ms_builder_append_f64(b, (double)(rnd() % 100000) / 8.0 + 0.0625);
      } else {
        static const char *pieces[] = {"a", "b,c", "quote\"d", "line\nbreak", "é", "zz"};
        char s[64];
        int n = snprintf(s, sizeof s, "x%d", rnd_int(0, 999));
        n += snprintf(s + n, sizeof s - (size_t)n, "%s", pieces[rnd() % 6]);
        ms_builder_append_bytes(b, s, n);
      }
    }
    ms_builder_finish(b, &cols[c], NULL);
    ms_column_builder_destroy(b);
    f[c].name = (char *)names[c];
    f[c].type = ty[c];
    f[c].nullable = true;
  }
  ms_table *t = NULL;
  ms_table_create(f, cols, 4, &t, NULL);
  for (int c = 0; c < 4; c++) ms_column_release(cols[c]);
  return t;
}

static ms_status write_file(const char *abs, const ms_table *t, bool csv, ms_error *err) {
  if (csv) return ms_csv_write(ms_fs_local(), abs, t, NULL, err);
  ms_pq_write_options o;
  ms_pq_write_options_init(&o);
  o.row_group_rows = 97; /* several row groups per bigger file */
  return ms_pq_write_table(ms_fs_local(), abs, t, &o, err);
}

static int64_t file_size(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

/* Fills <data>/<name> with random files: n_commits commits of 1-3 token files each (small,
 * sometimes big), hive folders d=2024-01-0{1,2,3} or the root, and hand-placed files
 * (no token) named to sort between token files. */
static void fill_dataset(const char *name, bool csv, ms_registry *reg, int n_commits, bool hive, int *out_hand) {
  char root[4096];
  snprintf(root, sizeof root, "%s/data/%s", g_dir, name);
  ms_error err;
  ms_error_init(&err);
  ms_store_options so;
  ms_store_options_init(&so);
  so.registry = reg;
  so.project = "cp";
  char ds[64];
  snprintf(ds, sizeof ds, "source:%s", name);
  so.dataset = reg ? ds : NULL;
  ms_store *s = NULL;
  CHECK_OK(ms_store_open(root, &so, &s, &err), &err);
  static int seq = 0;
  const char *ext = csv ? "csv" : "parquet";
  int hand = 0;
  for (int c = 0; c < n_commits; c++) {
    int nf = rnd_int(1, 3);
    ms_store_file adds[3];
    memset(adds, 0, sizeof adds);
    int64_t rows = 0;
    for (int k = 0; k < nf; k++) {
      char folder[64] = "";
      if (hive) snprintf(folder, sizeof folder, "d=2024-01-0%d", rnd_int(1, 3));
      char stem[64];
      snprintf(stem, sizeof stem, "part-%06d", seq++);
      CHECK_OK(ms_store_new_path(s, folder, stem, ext, &adds[k].path, &err), &err);
      int64_t n = rnd() % 10 == 0 ? 2500 : rnd_int(1, 60);
      ms_table *t = random_table(n, csv);
      CHECK(t);
      char abs[8192];
      snprintf(abs, sizeof abs, "%s/%s", root, adds[k].path);
      CHECK_OK(write_file(abs, t, csv, &err), &err);
      ms_table_release(t);
      adds[k].rows = n;
      adds[k].bytes = file_size(abs);
      rows += n;
      /* sometimes a hand-placed file right after it in path order */
      if (rnd() % 6 == 0) {
        char hp[8192];
        snprintf(hp, sizeof hp, "%s/%s%s%s-hand.%s", root, folder, folder[0] ? "/" : "", stem, ext);
        ms_table *h = random_table(rnd_int(1, 5), csv);
        CHECK_OK(write_file(hp, h, csv, &err), &err);
        ms_table_release(h);
        hand++;
      }
    }
    ms_store_commit cm = {0};
    cm.kind = "write_batch";
    cm.adds = adds;
    cm.n_adds = nf;
    cm.rows_added = rows;
    int64_t gen = 0;
    CHECK_OK(ms_store_commit_files(s, &cm, &gen, &err), &err);
    for (int k = 0; k < nf; k++) ms_free(adds[k].path);
  }
  ms_store_close(s);
  *out_hand = hand;
}

static ms_table *read_all(const char *root, ms_error *err) {
  ms_dataset *ds = NULL;
  ms_table *t = NULL;
  if (ms_dataset_open(ms_fs_local(), root, NULL, &ds, err) != MS_OK) return NULL;
  ms_dataset_read_options ro = {0};
  if (ms_dataset_read(ds, &ro, &t, NULL, err) != MS_OK) t = NULL;
  ms_dataset_close(ds);
  return t;
}

static bool tables_equal(const ms_table *a, const ms_table *b) {
  if (!a || !b || ms_table_num_columns(a) != ms_table_num_columns(b) || ms_table_num_rows(a) != ms_table_num_rows(b))
    return false;
  for (int c = 0; c < ms_table_num_columns(a); c++) {
    if (strcmp(ms_table_field(a, c)->name, ms_table_field(b, c)->name) != 0) return false;
    if (!ms_column_equal(ms_table_column(a, c), ms_table_column(b, c))) return false;
  }
  return true;
}

static int count_hand(const char *dir) {
  /* recursive count of files named *-hand.* */
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    struct stat sb;
    if (stat(p, &sb) != 0) continue;
    if (S_ISDIR(sb.st_mode)) n += count_hand(p);
    else if (strstr(e->d_name, "-hand.")) n++;
  }
  closedir(d);
  return n;
}

static void check_random(uint64_t seed, bool csv) {
  g_rng = seed * 0x9E3779B97F4A7C15ull + 1;
  char tag[64];
  snprintf(tag, sizeof tag, "rand_%s_%" PRIu64, csv ? "csv" : "pq", seed);
  ms_repo *repo = make_repo(tag);
  CHECK(repo);
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg = NULL;
  CHECK_OK(ms_registry_open(ms_repo_get_config(repo)->registry_location, &reg, &err), &err);
  const char *name = csv ? "csv" : "pq";
  int hand = 0;
  fill_dataset(name, csv, reg, rnd_int(4, 14), seed % 2 == 0, &hand);
  char root[4096];
  snprintf(root, sizeof root, "%s/data/%s", g_dir, name);
  ms_table *before = read_all(root, &err);
  CHECK_MSG(before, "seed %" PRIu64 ": %s", seed, err.message);
  ms_manifest m0 = {0};
  CHECK_OK(ms_manifest_read(root, &m0, &err), &err);
  int64_t target = 4096 + (int64_t)(rnd() % 16384);
  ms_compact_options o;
  ms_compact_options_init(&o);
  o.target_bytes = target;
  ms_compact_result res;
  CHECK_OK(ms_compact_view(repo, reg, csv ? "csv_view" : "pq_view", &o, &res, &err), &err);
  ms_table *after = read_all(root, &err);
  CHECK_MSG(tables_equal(before, after), "seed %" PRIu64 " (%s): rows differ after compaction (%lld -> %lld files)",
            seed, name, (long long)res.files_before, (long long)res.files_after);
  CHECK_EQ_INT(count_hand(root), hand);
  ms_manifest m1 = {0};
  CHECK_OK(ms_manifest_read(root, &m1, &err), &err);
  CHECK_EQ_INT(res.files_before, m0.n_files);
  CHECK_EQ_INT(res.files_after, m1.n_files);
  CHECK_EQ_INT(res.files_after, res.files_before - res.files_merged + res.files_written);
  if (res.generation) {
    CHECK_EQ_INT(m1.generation, m0.generation + 1);
    CHECK_EQ_INT(res.generation, m1.generation);
    CHECK(res.files_written >= 1 && res.files_merged >= 2 * res.files_written);
    /* the removed inputs are kept (retention) and listed as removed */
    CHECK_EQ_INT(m1.n_removed, res.files_merged);
    for (int i = 0; i < m1.n_removed; i++) {
      char p[8192];
      snprintf(p, sizeof p, "%s/%s", root, m1.removed[i].path);
      CHECK(access(p, F_OK) == 0);
    }
    ms_reg_data_commit *rc = NULL;
    int nrc = 0;
    char dsn[64];
    snprintf(dsn, sizeof dsn, "source:%s", name);
    CHECK_OK(ms_registry_data_commits(reg, "cp", dsn, &rc, &nrc, &err), &err);
    CHECK(nrc >= 1);
    CHECK_EQ_INT(rc[nrc - 1].generation, res.generation);
    CHECK_STR(rc[nrc - 1].kind, "compact");
    CHECK_STR(rc[nrc - 1].state, "committed");
    CHECK_EQ_INT(rc[nrc - 1].files_added, res.files_written);
    CHECK_EQ_INT(rc[nrc - 1].files_removed, res.files_merged);
    CHECK_EQ_INT(rc[nrc - 1].rows_added, res.rows);
    CHECK_EQ_INT(rc[nrc - 1].rows_removed, res.rows);
    CHECK_EQ_INT(rc[nrc - 1].total_files, m1.n_files);
    ms_reg_data_commits_free(rc, nrc);
  } else {
    CHECK_EQ_INT(m1.generation, m0.generation);
    CHECK_EQ_INT(res.files_merged, 0);
  }
  /* merged files: inputs summed to at most the target; the new file is about as big */
  for (int i = 0; i < m1.n_files; i++)
    if (m1.files[i].generation == res.generation && res.generation)
      CHECK_MSG(m1.files[i].bytes <= target + target / 4 + 2048, "seed %" PRIu64 ": %s is %lld bytes, target %lld",
                seed, m1.files[i].path, (long long)m1.files[i].bytes, (long long)target);
  ms_table_release(before);
  ms_table_release(after);
  ms_manifest_reset(&m0);
  ms_manifest_reset(&m1);
  /* a second compaction with a larger target merges further, still row for row */
  o.target_bytes = target * 3;
  ms_compact_result res2;
  before = read_all(root, &err);
  CHECK(before);
  CHECK_OK(ms_compact_view(repo, reg, csv ? "csv_view" : "pq_view", &o, &res2, &err), &err);
  after = read_all(root, &err);
  CHECK_MSG(tables_equal(before, after), "seed %" PRIu64 " (%s): rows differ after the second compaction", seed, name);
  ms_table_release(before);
  ms_table_release(after);
  ms_registry_close(reg);
  ms_repo_free(repo);
}

static void test_random(void) {
  const char *e = getenv("MORSEL_COMPACT_SEED");
  uint64_t lo = 1, hi = 4;
  if (e && *e) lo = hi = strtoull(e, NULL, 10);
  for (uint64_t seed = lo; seed <= hi; seed++) {
    check_random(seed, false);
    if (ms_test_failed_flag) return;
    check_random(seed, true);
    if (ms_test_failed_flag) return;
  }
}

/* Commits n token files of `rows` rows each into <data>/<name> (no registry). */
static void equal_files(const char *name, int n, int64_t rows, bool csv) {
  char root[4096];
  snprintf(root, sizeof root, "%s/data/%s", g_dir, name);
  ms_error err;
  ms_error_init(&err);
  ms_store_options so;
  ms_store_options_init(&so);
  ms_store *s = NULL;
  CHECK_OK(ms_store_open(root, &so, &s, &err), &err);
  for (int i = 0; i < n; i++) {
    ms_store_file f = {0};
    char stem[64];
    snprintf(stem, sizeof stem, "part-%04d", i);
    CHECK_OK(ms_store_new_path(s, "", stem, csv ? "csv" : "parquet", &f.path, &err), &err);
    char abs[8192];
    snprintf(abs, sizeof abs, "%s/%s", root, f.path);
    ms_table *t = random_table(rows, csv);
    CHECK_OK(write_file(abs, t, csv, &err), &err);
    ms_table_release(t);
    f.rows = rows;
    f.bytes = file_size(abs);
    ms_store_commit c = {0};
    c.kind = "write_batch";
    c.adds = &f;
    c.n_adds = 1;
    c.rows_added = rows;
    int64_t gen;
    CHECK_OK(ms_store_commit_files(s, &c, &gen, &err), &err);
    ms_free(f.path);
  }
  ms_store_close(s);
}

/* 40 equal small files, target = about 10 of them: a few merged files of about the target. */
static void test_sizes_near_target(void) {
  g_rng = 77;
  ms_repo *repo = make_repo("sizes");
  CHECK(repo);
  for (int fmt = 0; fmt < 2; fmt++) {
    bool csv = fmt == 1;
    const char *name = csv ? "csv" : "pq";
    equal_files(name, 40, 200, csv);
    char root[4096];
    snprintf(root, sizeof root, "%s/data/%s", g_dir, name);
    ms_error err;
    ms_error_init(&err);
    ms_manifest m = {0};
    CHECK_OK(ms_manifest_read(root, &m, &err), &err);
    int64_t maxb = 0;
    for (int i = 0; i < m.n_files; i++) maxb = m.files[i].bytes > maxb ? m.files[i].bytes : maxb;
    ms_manifest_reset(&m);
    int64_t target = maxb * 10 + maxb / 2;
    ms_table *before = read_all(root, &err);
    ms_compact_options o;
    ms_compact_options_init(&o);
    o.target_bytes = target;
    ms_compact_result res;
    CHECK_OK(ms_compact_view(repo, NULL, csv ? "csv_view" : "pq_view", &o, &res, &err), &err);
    CHECK_EQ_INT(res.files_before, 40);
    ms_table *after = read_all(root, &err);
    CHECK(tables_equal(before, after));
    ms_table_release(before);
    ms_table_release(after);
    CHECK_OK(ms_manifest_read(root, &m, &err), &err);
    CHECK_EQ_INT(m.n_files, res.files_after);
    CHECK(res.files_after >= 3 && res.files_after <= 6);
    CHECK(res.files_merged >= 39);
    int64_t rows = 0;
    for (int i = 0; i < m.n_files; i++) {
      /* every file but the last holds at least half the target (the last is what remains) */
      if (getenv("MORSEL_COMPACT_VERBOSE"))
        fprintf(stderr, "%s: %s %lld bytes, target %lld\n", name, m.files[i].path, (long long)m.files[i].bytes,
                (long long)target);
      CHECK_MSG(m.files[i].bytes <= target && (i == m.n_files - 1 || m.files[i].bytes >= target / 2),
                "%s: %s is %lld bytes, target %lld", name, m.files[i].path, (long long)m.files[i].bytes,
                (long long)target);
      CHECK_EQ_INT(m.files[i].rows % 200, 0);
      rows += m.files[i].rows;
      /* named after its first input, part-00NN */
      CHECK_MSG(strncmp(m.files[i].path, "part-00", 7) == 0 && m.files[i].path[9] == '.', "%s", m.files[i].path);
    }
    CHECK_EQ_INT(rows, 40 * 200);
    ms_manifest_reset(&m);
  }
  ms_repo_free(repo);
}

/* A reader that opened the dataset before the compaction reads the old files; they stay
 * until the garbage collection runs after the retention. */
static void test_old_reader(void) {
  g_rng = 5;
  ms_repo *repo = make_repo("reader");
  CHECK(repo);
  equal_files("pq", 12, 50, false);
  char root[4096];
  snprintf(root, sizeof root, "%s/data/pq", g_dir);
  ms_error err;
  ms_error_init(&err);
  ms_dataset *old = NULL;
  CHECK_OK(ms_dataset_open(ms_fs_local(), root, NULL, &old, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_files(old), 12);
  ms_table *before = read_all(root, &err);
  ms_compact_options o;
  ms_compact_options_init(&o);
  o.target_bytes = 1 << 20;
  ms_compact_result res;
  CHECK_OK(ms_compact_view(repo, NULL, "pq_view", &o, &res, &err), &err);
  CHECK_EQ_INT(res.files_written, 1);
  CHECK_EQ_INT(res.files_deleted, 0); /* retention 3600 s */
  /* new readers see the merged file, the old reader its 12 files, the same rows */
  ms_dataset *now = NULL;
  CHECK_OK(ms_dataset_open(ms_fs_local(), root, NULL, &now, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_files(now), 1);
  ms_dataset_close(now);
  ms_dataset_read_options ro = {0};
  ms_table *via_old = NULL;
  CHECK_OK(ms_dataset_read(old, &ro, &via_old, NULL, &err), &err);
  CHECK(tables_equal(before, via_old));
  ms_table_release(via_old);
  /* past the retention the inputs are deleted, and the old listing no longer reads */
  ms_store_options so;
  ms_store_options_init(&so);
  so.retention_seconds = 0;
  ms_store *s = NULL;
  CHECK_OK(ms_store_open(root, &so, &s, &err), &err);
  int64_t deleted = 0;
  CHECK_OK(ms_store_gc(s, &deleted, &err), &err);
  ms_store_close(s);
  CHECK_EQ_INT(deleted, 12);
  via_old = NULL;
  ms_error_init(&err);
  CHECK(ms_dataset_read(old, &ro, &via_old, NULL, &err) != MS_OK);
  ms_dataset_close(old);
  ms_table *after = read_all(root, &err);
  CHECK(tables_equal(before, after));
  ms_table_release(before);
  ms_table_release(after);
  ms_repo_free(repo);
}

/* Two compactions: the second runs to completion from inside the first's progress callback
 * (after the first planned and started merging, before its commit). */
typedef struct race_ctx {
  ms_repo *repo;
  ms_registry *reg;
  bool fired;
  ms_status inner;
  ms_compact_result inner_res;
} race_ctx;

static void race_progress(void *ctx, const char *stage, int64_t done, int64_t total) {
  (void)stage, (void)done, (void)total;
  race_ctx *c = ctx;
  if (c->fired) return;
  c->fired = true;
  ms_compact_options o;
  ms_compact_options_init(&o);
  o.target_bytes = 1 << 20;
  ms_error err;
  ms_error_init(&err);
  c->inner = ms_compact_view(c->repo, c->reg, "pq_view", &o, &c->inner_res, &err);
}

static int count_token_files(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) n += ms_store_is_token_name(e->d_name);
  closedir(d);
  return n;
}

static void test_conflict(void) {
  g_rng = 9;
  ms_repo *repo = make_repo("conflict");
  CHECK(repo);
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg = NULL;
  CHECK_OK(ms_registry_open(ms_repo_get_config(repo)->registry_location, &reg, &err), &err);
  equal_files("pq", 8, 40, false);
  char root[4096];
  snprintf(root, sizeof root, "%s/data/pq", g_dir);
  ms_table *before = read_all(root, &err);
  CHECK(before);
  race_ctx rc = {repo, reg, false, MS_OK, {0}};
  ms_compact_options o;
  ms_compact_options_init(&o);
  o.target_bytes = 1 << 20;
  o.progress = race_progress;
  o.progress_ctx = &rc;
  ms_compact_result res;
  ms_status st = ms_compact_view(repo, reg, "pq_view", &o, &res, &err);
  CHECK(rc.fired);
  CHECK_EQ_INT(rc.inner, MS_OK);
  CHECK_EQ_INT(rc.inner_res.files_written, 1);
  CHECK_EQ_INT(st, MS_ERR_CONFLICT);
  CHECK_MSG(strstr(err.message, "nothing was changed") != NULL, "%s", err.message);
  /* on disk: the 8 inputs (kept for the retention) and the winner's merged file only */
  CHECK_EQ_INT(count_token_files(root), 9);
  ms_manifest m = {0};
  CHECK_OK(ms_manifest_read(root, &m, &err), &err);
  CHECK_EQ_INT(m.n_files, 1);
  CHECK_EQ_INT(m.generation, rc.inner_res.generation);
  ms_manifest_reset(&m);
  ms_table *after = read_all(root, &err);
  CHECK(tables_equal(before, after));
  ms_table_release(before);
  ms_table_release(after);
  ms_registry_close(reg);
  ms_repo_free(repo);
}

/* Nothing to merge: one token file (plus hand-placed ones), only big files, one file. */
static void test_nothing_to_do(void) {
  g_rng = 11;
  ms_repo *repo = make_repo("nothing");
  CHECK(repo);
  ms_error err;
  ms_error_init(&err);
  equal_files("pq", 1, 30, false);
  char p[4096];
  snprintf(p, sizeof p, "%s/data/pq/part-0000-hand.parquet", g_dir);
  ms_table *t = random_table(10, false);
  CHECK_OK(write_file(p, t, false, &err), &err);
  ms_table_release(t);
  snprintf(p, sizeof p, "%s/data/pq/zz-hand.parquet", g_dir);
  t = random_table(10, false);
  CHECK_OK(write_file(p, t, false, &err), &err);
  ms_table_release(t);
  ms_compact_result res;
  CHECK_OK(ms_compact_view(repo, NULL, "pq_view", NULL, &res, &err), &err);
  CHECK_EQ_INT(res.generation, 0);
  CHECK_EQ_INT(res.files_before, 1);
  CHECK_EQ_INT(res.files_after, 1);
  CHECK_EQ_INT(res.files_written, 0);
  CHECK(!res.single_file);
  /* big files only (each over half the target) */
  equal_files("csv", 5, 400, true);
  ms_compact_options o;
  ms_compact_options_init(&o);
  o.target_bytes = 1024;
  CHECK_OK(ms_compact_view(repo, NULL, "csv_view", &o, &res, &err), &err);
  CHECK_EQ_INT(res.generation, 0);
  CHECK_EQ_INT(res.files_before, 5);
  ms_manifest m = {0};
  char root[4096];
  snprintf(root, sizeof root, "%s/data/csv", g_dir);
  CHECK_OK(ms_manifest_read(root, &m, &err), &err);
  CHECK_EQ_INT(m.generation, 5);
  ms_manifest_reset(&m);
  /* a single-file source */
  snprintf(p, sizeof p, "%s/data/one.parquet", g_dir);
  t = random_table(10, false);
  CHECK_OK(write_file(p, t, false, &err), &err);
  ms_table_release(t);
  CHECK_OK(ms_compact_view(repo, NULL, "one_view", NULL, &res, &err), &err);
  CHECK(res.single_file);
  CHECK_EQ_INT(res.generation, 0);
  /* unknown view */
  CHECK(ms_compact_view(repo, NULL, "nope", NULL, &res, &err) == MS_ERR_NOT_FOUND);
  ms_repo_free(repo);
}

/* Two processes compact one dataset at once (three rounds, with new files in between):
 * each ends with success or MS_ERR_CONFLICT, at least one succeeds, the rows read the same,
 * the registry agrees with the manifest and no orphan file is left. */
static void test_concurrent_compactions(void) {
  g_rng = 21;
  ms_repo *repo = make_repo("concurrent");
  CHECK(repo);
  char reg_path[4096];
  snprintf(reg_path, sizeof reg_path, "%s", ms_repo_get_config(repo)->registry_location);
  ms_repo_free(repo);
  char root[4096];
  snprintf(root, sizeof root, "%s/data/pq", g_dir);
  ms_error err;
  ms_error_init(&err);
  for (int round = 0; round < 3; round++) {
    ms_registry *reg = NULL;
    CHECK_OK(ms_registry_open(reg_path, &reg, &err), &err);
    int hand = 0;
    fill_dataset("pq", false, reg, 10, true, &hand);
    ms_registry_close(reg);
    ms_table *before = read_all(root, &err);
    CHECK_MSG(before, "round %d: %s", round, err.message);
    pid_t pids[2];
    for (int k = 0; k < 2; k++) {
      pids[k] = fork();
      CHECK(pids[k] >= 0);
      if (pids[k] == 0) {
        ms_repo *r = NULL;
        char **probs = NULL;
        int np = 0;
        ms_registry *rg = NULL;
        if (ms_repo_load(g_dir, NULL, &r, &probs, &np, NULL) != MS_OK || ms_registry_open(reg_path, &rg, NULL) != MS_OK)
          _exit(1);
        ms_compact_options o;
        ms_compact_options_init(&o);
        o.target_bytes = 1 << 20;
        ms_compact_result res;
        ms_error e;
        ms_error_init(&e);
        ms_status st = ms_compact_view(r, rg, "pq_view", &o, &res, &e);
        if (st != MS_OK && st != MS_ERR_CONFLICT) {
          char b[2048];
          fprintf(stderr, "child %d: %s\n", k, ms_error_format(&e, b, sizeof b));
        }
        _exit(st == MS_OK ? 0 : st == MS_ERR_CONFLICT ? 2 : 1);
      }
    }
    int ok = 0;
    for (int k = 0; k < 2; k++) {
      int status = 0;
      CHECK(waitpid(pids[k], &status, 0) == pids[k]);
      CHECK_MSG(WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 2), "round %d child %d", round,
                k);
      ok += WEXITSTATUS(status) == 0;
    }
    CHECK(ok >= 1);
    ms_table *after = read_all(root, &err);
    CHECK_MSG(tables_equal(before, after), "round %d: rows differ", round);
    ms_table_release(before);
    ms_table_release(after);
    CHECK_OK(ms_registry_open(reg_path, &reg, &err), &err);
    ms_store_options so;
    ms_store_options_init(&so);
    so.registry = reg;
    so.project = "cp";
    so.dataset = "source:pq";
    ms_store *st = NULL;
    CHECK_OK(ms_store_open(root, &so, &st, &err), &err);
    ms_store_status ss;
    CHECK_OK(ms_store_check(st, &ss, &err), &err);
    CHECK_MSG(ss.agrees, "round %d: %s", round, ss.message);
    CHECK_EQ_INT(ss.orphans, 0);
    ms_store_close(st);
    ms_registry_close(reg);
  }
}

MS_TEST_MAIN(MS_TEST(test_random), MS_TEST(test_sizes_near_target), MS_TEST(test_old_reader), MS_TEST(test_conflict),
             MS_TEST(test_nothing_to_do), MS_TEST(test_concurrent_compactions))
