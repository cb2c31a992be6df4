/* The compute engine through its public API (include/morsel/compute.h) on real repositories
 * in a temp directory (CSV sources, YAML definitions):
 * - a hand-computed case: source derived columns and filter, null keys dropped, the
 *   population filter and window, count_distinct / sum / max / min unbounded / mean_gap by /
 *   forward count / stddev, expressions over the aggregates and as_of (date_diff floors,
 *   coalesce), dtypes, rows sorted by key, bounds exactly at T - w and T;
 * - cutoff schedules: timestamps, first_event/last_event expressions, every, end inclusive;
 * - (a) == (b): ms_compute_view_table at cutoffs and ms_compute_asof at the same (keys, T)
 *   give the same bits, rows outside the population get nulls, on random data from several
 *   seeds (MORSEL_COMPUTE_SEED=<n> replays one), on 1 and 3 threads;
 * - ms_compute_view: one file per cutoff named cutoff=YYYYMMDDTHHMMSS.m<token>.parquet, the
 *   view's registry hash in the footer (morsel.definition_hash), one store commit per run
 *   (manifest generation, registry record), a re-run replaces the files in one commit and
 *   the old ones stay readable until the garbage collection, files from an older definition
 *   leave the live set, no temporary file is left; a pre-issue-6 snapshot directory (no
 *   manifest, no tokens) keeps working and is migrated by the next run. */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "morsel/compute.h"
#include "morsel/dataset.h"
#include "morsel/fs.h"
#include "morsel/parquet.h"
#include "morsel/registry.h"
#include "morsel/repo.h"
#include "morsel/store.h"
#include "ms_test.h"

#define NS INT64_C(1000000000)
#define DAY (86400 * NS)

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static int64_t ts_of(const char *s) {
  int64_t ns = 0;
  ms_parse_timestamp_ns(s, strlen(s), &ns, NULL);
  return ns;
}

static char g_dir[2048];

static bool make_repo(const char *tag, const char *defs, const char *csv, ms_repo **out) {
  snprintf(g_dir, sizeof g_dir, "%s/%s", ms_test_tmpdir(), tag);
  mkdir(g_dir, 0777);
  char p[4096];
  snprintf(p, sizeof p, "%s/data", g_dir);
  mkdir(p, 0777);
  snprintf(p, sizeof p, "%s/feature_store.yaml", g_dir);
  write_text(p, "project: cv\nregistry: reg.db\noffline_store:\n  type: morsel\n  threads: 2\n  storage_path: store\n");
  snprintf(p, sizeof p, "%s/defs.yaml", g_dir);
  write_text(p, defs);
  snprintf(p, sizeof p, "%s/data/tx.csv", g_dir);
  write_text(p, csv);
  ms_error err;
  ms_error_init(&err);
  char **probs = NULL;
  int np = 0;
  if (ms_repo_load(g_dir, NULL, out, &probs, &np, &err) != MS_OK) {
    char b[2048];
    fprintf(stderr, "repo load: %s\n", np ? probs[0] : ms_error_format(&err, b, sizeof b));
    ms_repo_problems_free(probs, np);
    return false;
  }
  return true;
}

static const char k_defs[] =
    "entities:\n  - name: customer\n    join_keys: [customer_id]\n    value_type: int64\n"
    "sources:\n  - name: tx\n    path: data/tx.csv\n    timestamp_field: ts\n"
    "    columns:\n      - {name: customer_id, expression: cast(cust as int64)}\n"
    "      - {name: revenue, expression: amount * 1.0}\n"
    "      - {name: is_c, expression: \"starts_with(inv, 'C')\"}\n"
    "    filter: cust is not null\n"
    "feature_views:\n  - name: feats\n    entities: [customer]\n    source: tx\n    ttl: 0s\n"
    "    population: {window: 7d, filter: not is_c}\n"
    "    cutoffs: {start: first_event + 1d, every: 2d, end: last_event - 1d}\n"
    "    aggregations:\n"
    "      - {name: n_orders, function: count_distinct, input: inv, window: 7d, filter: not is_c}\n"
    "      - {name: monetary, function: sum, input: revenue, window: 7d, filter: not is_c}\n"
    "      - {name: last, function: max, input: ts, window: 7d, filter: not is_c}\n"
    "      - {name: first_ever, function: min, input: ts, window: unbounded, filter: not is_c}\n"
    "      - {name: gap, function: mean_gap, input: ts, by: inv, unit: 1d, window: 7d, filter: not is_c}\n"
    "      - {name: next, function: count, window: 3d, direction: forward, filter: not is_c}\n"
    "      - {name: qty_sd, function: stddev, input: qty, window: 7d}\n"
    "    expressions:\n"
    "      - {name: recency, expression: \"date_diff('day', last, as_of)\"}\n"
    "      - {name: avg_gap, expression: \"coalesce(gap, 0.0)\"}\n"
    "    schema:\n"
    "      - {name: n_orders, dtype: int64}\n"
    "      - {name: monetary, dtype: float64}\n"
    "      - {name: recency, dtype: int64}\n"
    "      - {name: avg_gap, dtype: float64}\n"
    "      - {name: next, dtype: float64}\n"
    "      - {name: qty_sd, dtype: float64}\n"
    "      - {name: first_ever, dtype: timestamp}\n";

static const char k_csv[] =
    "cust,ts,inv,amount,qty,code\n"
    "1,2024-01-01 10:00:00,A1,10.5,2,x\n"
    "1,2024-01-01 10:00:00,A1,4.5,1,y\n"
    "1,2024-01-03 09:00:00,C2,-4.5,-1,y\n"
    "1,2024-01-05 12:00:00,A3,8,3,x\n"
    "2,2024-01-02 00:00:00,A4,1,1,z\n"
    ",2024-01-02 00:00:00,A5,100,1,z\n"
    "2,2024-01-10 00:00:00,A6,2,2,z\n"
    "3,2024-01-09 00:00:00,C7,-1,-1,q\n";

static int64_t col_ns(const ms_column *c, int64_t i) {
  return ms_column_get_i64(c, i) * (NS / ms_time_unit_per_second(ms_column_type(c)->unit));
}

static int col_of(const ms_table *t, const char *name) { return ms_table_find_column(t, name); }

static void test_hand_case(void) {
  ms_repo *repo = NULL;
  CHECK(make_repo("hand", k_defs, k_csv, &repo));
  ms_error err;
  ms_error_init(&err);
  int64_t cut[2] = {ts_of("2024-01-06 00:00:00"), ts_of("2024-01-10 00:00:00")};
  ms_table *t = NULL;
  CHECK_OK(ms_compute_view_table(repo, "feats", cut, 2, 2, &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 3);
  CHECK_EQ_INT(ms_table_num_columns(t), 9);
  CHECK_STR(ms_table_field(t, 0)->name, "customer_id");
  CHECK_STR(ms_table_field(t, 8)->name, "event_timestamp");
  CHECK(ms_table_field(t, 0)->type.id == MS_TYPE_INT64);
  CHECK(ms_table_field(t, col_of(t, "next"))->type.id == MS_TYPE_FLOAT64); /* int64 written as float64 */
  CHECK(ms_table_field(t, 8)->type.id == MS_TYPE_TIMESTAMP && ms_table_field(t, 8)->type.tz[0] == 0);
  ms_column *k = ms_table_column(t, 0), *et = ms_table_column(t, 8);
  ms_column *n_orders = ms_table_column(t, col_of(t, "n_orders")), *mon = ms_table_column(t, col_of(t, "monetary"));
  ms_column *rec = ms_table_column(t, col_of(t, "recency")), *gap = ms_table_column(t, col_of(t, "avg_gap"));
  ms_column *next = ms_table_column(t, col_of(t, "next")), *sd = ms_table_column(t, col_of(t, "qty_sd"));
  ms_column *fe = ms_table_column(t, col_of(t, "first_ever"));
  /* T = 01-06: customers 1, 2 (sorted); customer 3 has only a cancellation */
  CHECK_EQ_INT(ms_column_get_i64(k, 0), 1);
  CHECK_EQ_INT(ms_column_get_i64(k, 1), 2);
  CHECK_EQ_INT(ms_column_get_i64(et, 0), cut[0]);
  CHECK_EQ_INT(ms_column_get_i64(n_orders, 0), 2);
  CHECK(ms_column_get_f64(mon, 0) == 23.0);
  CHECK_EQ_INT(ms_column_get_i64(rec, 0), 0); /* 12 hours before T */
  CHECK(ms_column_get_f64(gap, 0) == 4.0);    /* 4 days 2 hours floored */
  CHECK(ms_column_get_f64(next, 0) == 0.0);
  CHECK(fabs(ms_column_get_f64(sd, 0) - sqrt(8.75 / 3)) < 1e-12);
  CHECK(ms_column_get_f64(sd, 0) == sqrt(8.75 / 3));
  CHECK_EQ_INT(col_ns(fe, 0), ts_of("2024-01-01 10:00:00"));
  CHECK_EQ_INT(col_ns(fe, 1), ts_of("2024-01-02 00:00:00"));
  CHECK_EQ_INT(ms_column_get_i64(n_orders, 1), 1);
  CHECK(ms_column_get_f64(mon, 1) == 1.0);
  CHECK_EQ_INT(ms_column_get_i64(rec, 1), 4);
  CHECK(ms_column_get_f64(gap, 1) == 0.0);  /* one invoice: null gap, coalesced */
  CHECK(ms_column_is_null(sd, 1));           /* one value */
  /* T = 01-10: window [01-03, 01-10): customer 1 only (2's row at T is outside) */
  CHECK_EQ_INT(ms_column_get_i64(k, 2), 1);
  CHECK_EQ_INT(ms_column_get_i64(et, 2), cut[1]);
  CHECK_EQ_INT(ms_column_get_i64(n_orders, 2), 1);
  CHECK(ms_column_get_f64(mon, 2) == 8.0);
  CHECK_EQ_INT(ms_column_get_i64(rec, 2), 4);
  CHECK(ms_column_get_f64(sd, 2) == sqrt(8.0));
  ms_table_release(t);

  /* as of: (1, 01-06) equals the snapshot; (2, 01-10) outside the population; unknown key;
   * null timestamp */
  const ms_feature_view_def *fv = ms_repo_find_feature_view(repo, "feats");
  CHECK(fv != NULL);
  ms_datatype i32 = ms_type(MS_TYPE_INT32);
  ms_column_builder *b;
  CHECK_OK(ms_column_builder_create(&i32, 4, &b, &err), &err);
  int64_t keys[4] = {1, 2, 99, 1};
  for (int i = 0; i < 4; i++) ms_builder_append_i64(b, keys[i]);
  ms_column *qk = NULL;
  CHECK_OK(ms_builder_finish(b, &qk, &err), &err);
  ms_column_builder_destroy(b);
  int64_t qt[4] = {cut[0], cut[1], cut[0], 0};
  uint8_t qok[4] = {1, 1, 1, 0};
  const char *want[] = {"recency", "n_orders"};
  ms_table *a = NULL;
  CHECK_OK(ms_compute_asof(repo, fv, &qk, qt, qok, 4, want, 2, 1, &a, &err), &err);
  CHECK_EQ_INT(ms_table_num_columns(a), 2);
  CHECK_STR(ms_table_field(a, 0)->name, "recency");
  CHECK_EQ_INT(ms_column_get_i64(ms_table_column(a, 0), 0), 0);
  CHECK_EQ_INT(ms_column_get_i64(ms_table_column(a, 1), 0), 2);
  for (int i = 1; i < 4; i++) {
    CHECK(ms_column_is_null(ms_table_column(a, 0), i));
    CHECK(ms_column_is_null(ms_table_column(a, 1), i)); /* even a count is null outside */
  }
  ms_table_release(a);
  ms_column_release(qk);

  /* a string key column against an int key: a type error */
  ms_datatype u8 = ms_type(MS_TYPE_UTF8);
  CHECK_OK(ms_column_builder_create(&u8, 1, &b, &err), &err);
  ms_builder_append_bytes(b, "1", 1);
  CHECK_OK(ms_builder_finish(b, &qk, &err), &err);
  ms_column_builder_destroy(b);
  CHECK(ms_compute_asof(repo, fv, &qk, qt, NULL, 1, NULL, 0, 1, &a, &err) == MS_ERR_TYPE);
  ms_column_release(qk);
  ms_repo_free(repo);
}

static void test_cutoffs(void) {
  ms_repo *repo = NULL;
  CHECK(make_repo("cutoffs", k_defs, k_csv, &repo));
  ms_error err;
  ms_error_init(&err);
  int64_t *ns = NULL;
  int n = 0;
  /* the view's: first_event (01-01 10:00) + 1d every 2d while <= last_event (01-10) - 1d */
  CHECK_OK(ms_compute_cutoffs(repo, "feats", NULL, &ns, &n, &err), &err);
  CHECK_EQ_INT(n, 4);
  CHECK_EQ_INT(ns[0], ts_of("2024-01-02 10:00:00"));
  CHECK_EQ_INT(ns[3], ts_of("2024-01-08 10:00:00"));
  ms_free(ns);
  /* given: timestamps, end inclusive */
  ms_cutoff_spec s = {"2024-01-06", "'2024-01-10 00:00:00'", 4 * 86400};
  CHECK_OK(ms_compute_cutoffs(repo, "feats", &s, &ns, &n, &err), &err);
  CHECK_EQ_INT(n, 2);
  CHECK_EQ_INT(ns[1], ts_of("2024-01-10"));
  ms_free(ns);
  ms_cutoff_spec s2 = {"2024-01-06T00:00:00Z", "last_event", 0};
  CHECK_OK(ms_compute_cutoffs(repo, "feats", &s2, &ns, &n, &err), &err);
  CHECK_EQ_INT(n, 3); /* every 2d from the view: 01-06, 01-08, 01-10 */
  ms_free(ns);
  ms_cutoff_spec bad = {"first_event + 'x'", NULL, 0};
  CHECK(ms_compute_cutoffs(repo, "feats", &bad, &ns, &n, &err) != MS_OK);
  CHECK(strstr(err.message, "cutoff start") != NULL);
  CHECK(ms_compute_cutoffs(repo, "nope", NULL, &ns, &n, &err) == MS_ERR_NOT_FOUND);
  ms_repo_free(repo);
}

/* ---- random data: (a) == (b) ---- */

typedef struct rng {
  uint64_t s;
} rng;
static uint64_t rnext(rng *r) {
  r->s ^= r->s << 13;
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return r->s;
}
static int64_t rint_(rng *r, int64_t lo, int64_t hi) { return lo + (int64_t)(rnext(r) % (uint64_t)(hi - lo + 1)); }

static char *random_csv(uint64_t seed, int64_t *t_lo, int64_t *t_hi) {
  rng r = {seed * 0x9E3779B97F4A7C15ull + 99};
  size_t cap = 1 << 20, len = 0;
  char *s = ms_malloc(cap);
  len += (size_t)snprintf(s + len, cap - len, "cust,ts,inv,amount,qty,code\n");
  int64_t base = ts_of("2024-01-01 00:00:00");
  int64_t n = rint_(&r, 50, 1500);
  *t_lo = base;
  *t_hi = base + 60 * DAY;
  for (int64_t i = 0; i < n && len + 200 < cap; i++) {
    int64_t t = base + rint_(&r, 0, 60 * 24) * 3600 * NS;
    int64_t sec = t / NS;
    char tb[MS_TIMESTAMP_BUF_SIZE];
    ms_format_timestamp(sec, MS_UNIT_SECOND, false, tb);
    int64_t c = rint_(&r, 0, 40);
    char cust[24] = "";
    if (c > 0) snprintf(cust, sizeof cust, "%lld", (long long)c);
    int64_t inv = rint_(&r, 0, 300);
    bool canc = rint_(&r, 0, 9) == 0;
    char amount[32] = "";
    if (rint_(&r, 0, 15)) snprintf(amount, sizeof amount, "%.2f", (double)rint_(&r, -500, 5000) / 100.0);
    len += (size_t)snprintf(s + len, cap - len, "%s,%s,%s%lld,%s,%lld,s%lld\n", cust, tb, canc ? "C" : "A",
                            (long long)inv, amount, (long long)rint_(&r, -3, 20), (long long)rint_(&r, 0, 30));
  }
  return s;
}

static void test_modes_agree(void) {
  const char *one = getenv("MORSEL_COMPUTE_SEED");
  uint64_t first = 1, last = 6;
  if (one && *one) first = last = strtoull(one, NULL, 10);
  for (uint64_t seed = first; seed <= last; seed++) {
    int64_t lo, hi;
    char *csv = random_csv(seed, &lo, &hi);
    char tag[64];
    snprintf(tag, sizeof tag, "agree-%" PRIu64, seed);
    ms_repo *repo = NULL;
    bool ok = make_repo(tag, k_defs, csv, &repo);
    ms_free(csv);
    CHECK_MSG(ok, "seed %" PRIu64, seed);
    ms_error err;
    ms_error_init(&err);
    int64_t cut[6];
    for (int i = 0; i < 6; i++) cut[i] = lo + (int64_t)(i * 11) * DAY + (i % 2) * 3600 * NS;
    ms_table *t1 = NULL, *t3 = NULL;
    CHECK_OK(ms_compute_view_table(repo, "feats", cut, 6, 1, &t1, &err), &err);
    CHECK_OK(ms_compute_view_table(repo, "feats", cut, 6, 3, &t3, &err), &err);
    for (int c = 0; c < ms_table_num_columns(t1); c++)
      CHECK_MSG(ms_column_equal(ms_table_column(t1, c), ms_table_column(t3, c)), "seed %" PRIu64 ": threads, column %d",
                seed, c);
    /* as of: every snapshot row, plus every (key 0..41, cutoff) pair */
    int64_t ns = ms_table_num_rows(t1);
    int64_t nq = ns + 42 * 6;
    ms_datatype i64 = ms_type(MS_TYPE_INT64);
    ms_column_builder *b;
    CHECK_OK(ms_column_builder_create(&i64, nq, &b, &err), &err);
    int64_t *qt = ms_malloc((size_t)nq * sizeof *qt);
    for (int64_t i = 0; i < ns; i++) {
      ms_builder_append_i64(b, ms_column_get_i64(ms_table_column(t1, 0), i));
      qt[i] = ms_column_get_i64(ms_table_column(t1, 8), i);
    }
    for (int64_t j = 0; j < 42 * 6; j++) {
      ms_builder_append_i64(b, j % 42);
      qt[ns + j] = cut[j / 42];
    }
    ms_column *qk = NULL;
    CHECK_OK(ms_builder_finish(b, &qk, &err), &err);
    ms_column_builder_destroy(b);
    ms_table *a = NULL;
    const ms_feature_view_def *fv = ms_repo_find_feature_view(repo, "feats");
    CHECK_OK(ms_compute_asof(repo, fv, &qk, qt, NULL, nq, NULL, 0, 2, &a, &err), &err);
    CHECK_EQ_INT(ms_table_num_columns(a), 7);
    /* the first ns rows: bit for bit the snapshot's features */
    for (int f = 0; f < 7; f++) {
      ms_column *x = NULL;
      CHECK_OK(ms_column_slice(ms_table_column(a, f), 0, ns, &x, &err), &err);
      bool eq = ms_column_equal(x, ms_table_column(t1, 1 + f));
      ms_column_release(x);
      CHECK_MSG(eq, "seed %" PRIu64 ": feature %s differs between the modes", seed, ms_table_field(a, f)->name);
    }
    /* the grid: a row iff the pair is in the snapshot, else nulls */
    for (int64_t j = 0; j < 42 * 6; j++) {
      int64_t key = j % 42, t = cut[j / 42], found = -1;
      for (int64_t i = 0; i < ns; i++)
        if (ms_column_get_i64(ms_table_column(t1, 0), i) == key && ms_column_get_i64(ms_table_column(t1, 8), i) == t)
          found = i;
      for (int f = 0; f < 7; f++) {
        ms_column *ac = ms_table_column(a, f), *sc = ms_table_column(t1, 1 + f);
        if (found < 0) {
          CHECK_MSG(ms_column_is_null(ac, ns + j), "seed %" PRIu64 ": key %lld outside the population has a value",
                    seed, (long long)key);
          continue;
        }
        ms_column *x = NULL, *y = NULL;
        ms_column_slice(ac, ns + j, 1, &x, NULL);
        ms_column_slice(sc, found, 1, &y, NULL);
        bool eq = ms_column_equal(x, y);
        ms_column_release(x);
        ms_column_release(y);
        CHECK_MSG(eq, "seed %" PRIu64 ": key %lld feature %d", seed, (long long)key, f);
      }
    }
    ms_table_release(a);
    ms_column_release(qk);
    ms_free(qt);
    ms_table_release(t1);
    ms_table_release(t3);
    ms_repo_free(repo);
  }
}

static const char *kv_hash(const char *path) {
  static char h[256];
  h[0] = 0;
  ms_pq_file *f = NULL;
  if (ms_pq_open(ms_fs_local(), path, &f, NULL) != MS_OK) return h;
  for (int i = 0; i < ms_pq_num_kv(f); i++)
    if (strcmp(ms_pq_kv_key(f, i), "morsel.definition_hash") == 0 && ms_pq_kv_value(f, i))
      snprintf(h, sizeof h, "%s", ms_pq_kv_value(f, i));
  ms_pq_close(f);
  return h;
}

static int count_files(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
  closedir(d);
  return n;
}

/* Live snapshot files by the manifest (sorted by path). */
static int live_files(const char *dir, ms_manifest *m) {
  ms_manifest_reset(m);
  if (ms_manifest_read(dir, m, NULL) != MS_OK) return -1;
  return m->n_files;
}

static bool manifest_has(const ms_manifest *m, const char *abs_path) {
  const char *base = strrchr(abs_path, '/') + 1;
  for (int i = 0; i < m->n_files; i++)
    if (strcmp(m->files[i].path, base) == 0) return true;
  return false;
}

static bool same_file_cells(const char *a, const char *b) {
  ms_table *ta = NULL, *tb = NULL;
  ms_pq_file *f = NULL;
  ms_pq_read_options ro = {0};
  bool ok = ms_pq_open(ms_fs_local(), a, &f, NULL) == MS_OK && ms_pq_read(f, &ro, &ta, NULL, NULL) == MS_OK;
  ms_pq_close(f);
  f = NULL;
  ok = ok && ms_pq_open(ms_fs_local(), b, &f, NULL) == MS_OK && ms_pq_read(f, &ro, &tb, NULL, NULL) == MS_OK;
  ms_pq_close(f);
  ok = ok && ms_table_num_columns(ta) == ms_table_num_columns(tb) && ms_table_num_rows(ta) == ms_table_num_rows(tb);
  for (int c = 0; ok && c < ms_table_num_columns(ta); c++)
    ok = ms_column_equal(ms_table_column(ta, c), ms_table_column(tb, c));
  ms_table_release(ta);
  ms_table_release(tb);
  return ok;
}

/* Snapshots through the store (issue 6): token files, one commit per run recorded in the
 * registry, a recompute replaces the same cutoffs in ONE commit while the old files stay
 * readable until the garbage collection, files of an older definition are removed from the
 * live set, no temporary file is left. */
static void test_snapshots(void) {
  ms_repo *repo = NULL;
  CHECK(make_repo("snap", k_defs, k_csv, &repo));
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg = NULL;
  CHECK_OK(ms_registry_open(ms_repo_get_config(repo)->registry_location, &reg, &err), &err);
  ms_compute_result res;
  ms_compute_options o = {1, NULL, NULL, reg};
  CHECK_OK(ms_compute_view(repo, "feats", NULL, &o, &res, &err), &err);
  CHECK_EQ_INT(res.n_cutoffs, 4);
  CHECK_EQ_INT(res.generation, 1);
  char *dir = ms_compute_snapshot_dir(repo, "feats");
  char want[4096];
  snprintf(want, sizeof want, "%s/store/aggregations/feats", g_dir);
  CHECK_STR(dir, want);
  /* cutoff=<T>.m<16 hex>.parquet */
  snprintf(want, sizeof want, "%s/cutoff=20240102T100000.m", dir);
  CHECK(strncmp(res.paths[0], want, strlen(want)) == 0);
  CHECK_EQ_INT(strlen(res.paths[0]), strlen(want) + 16 + 8);
  CHECK(strcmp(res.paths[0] + strlen(res.paths[0]) - 8, ".parquet") == 0);
  CHECK(ms_store_is_token_name(strrchr(res.paths[0], '/') + 1));
  ms_manifest m = {0};
  CHECK_EQ_INT(live_files(dir, &m), 4);
  CHECK_EQ_INT(m.generation, 1);
  for (int i = 0; i < 4; i++) CHECK(manifest_has(&m, res.paths[i]));
  CHECK_EQ_INT(count_files(dir, "cutoff="), 4);
  CHECK_EQ_INT(count_files(dir, "."), 2); /* "." and "..": no temporary file left */
  /* the registry hash of the view */
  const ms_reg_object *objs;
  const ms_reg_edge *edges;
  int n, ne;
  CHECK_OK(ms_repo_objects(repo, &objs, &n, &edges, &ne, &err), &err);
  const char *hash = NULL;
  for (int i = 0; i < n; i++)
    if (!strcmp(objs[i].kind, "feature_view") && !strcmp(objs[i].name, "feats")) hash = objs[i].hash;
  CHECK(hash != NULL);
  CHECK_STR(kv_hash(res.paths[2]), hash);
  /* the file reads back as the view table at that cutoff */
  ms_pq_file *f = NULL;
  ms_table *ft = NULL, *vt = NULL;
  CHECK_OK(ms_pq_open(ms_fs_local(), res.paths[2], &f, &err), &err);
  ms_pq_read_options ro = {0};
  CHECK_OK(ms_pq_read(f, &ro, &ft, NULL, &err), &err);
  ms_pq_close(f);
  CHECK_OK(ms_compute_view_table(repo, "feats", &res.cutoff_ns[2], 1, 1, &vt, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(ft), res.rows[2]);
  CHECK_EQ_INT(ms_table_num_columns(ft), ms_table_num_columns(vt));
  for (int c = 0; c < ms_table_num_columns(vt); c++) CHECK(ms_column_equal(ms_table_column(ft, c), ms_table_column(vt, c)));
  ms_table_release(ft);
  ms_table_release(vt);
  /* a re-run: new files, ONE commit replacing the four; the old files stay on disk and
   * readable (a reader that listed them keeps working) but are no longer live */
  ms_compute_result res2;
  CHECK_OK(ms_compute_view(repo, "feats", NULL, &o, &res2, &err), &err);
  CHECK_EQ_INT(res2.generation, 2);
  CHECK_EQ_INT(live_files(dir, &m), 4);
  CHECK_EQ_INT(m.generation, 2);
  CHECK_EQ_INT(m.n_removed, 4);
  int64_t total_rows = 0;
  for (int i = 0; i < 4; i++) {
    CHECK(strcmp(res.paths[i], res2.paths[i]) != 0);
    CHECK(manifest_has(&m, res2.paths[i]));
    CHECK(!manifest_has(&m, res.paths[i]));
    CHECK(same_file_cells(res.paths[i], res2.paths[i]));
    total_rows += res2.rows[i];
  }
  CHECK_EQ_INT(count_files(dir, "cutoff="), 8);
  /* readers see the live set only */
  ms_dataset *ds = NULL;
  CHECK_OK(ms_dataset_open(ms_fs_local(), dir, NULL, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_files(ds), 4);
  for (int i = 0; i < 4; i++) CHECK_STR(ms_dataset_file_path(ds, i), res2.paths[i]);
  ms_dataset_close(ds);
  /* the registry: one committed record per run */
  ms_reg_data_commit *rc = NULL;
  int nrc = 0;
  CHECK_OK(ms_registry_data_commits(reg, "cv", "aggregations:feats", &rc, &nrc, &err), &err);
  CHECK_EQ_INT(nrc, 2);
  CHECK_EQ_INT(rc[0].generation, 1);
  CHECK_EQ_INT(rc[1].generation, 2);
  CHECK_STR(rc[1].state, "committed");
  CHECK_STR(rc[1].kind, "compute");
  CHECK_EQ_INT(rc[1].files_added, 4);
  CHECK_EQ_INT(rc[1].files_removed, 4);
  CHECK_EQ_INT(rc[1].rows_added, total_rows);
  CHECK_EQ_INT(rc[1].rows_removed, total_rows);
  ms_reg_data_commits_free(rc, nrc);
  /* the garbage collection deletes the replaced files once the retention has passed */
  ms_store_options so;
  ms_store_options_init(&so);
  so.retention_seconds = 0;
  ms_store *st = NULL;
  CHECK_OK(ms_store_open(dir, &so, &st, &err), &err);
  int64_t deleted = 0;
  CHECK_OK(ms_store_gc(st, &deleted, &err), &err);
  ms_store_close(st);
  CHECK_EQ_INT(deleted, 4);
  CHECK_EQ_INT(count_files(dir, "cutoff="), 4);
  for (int i = 0; i < 4; i++) CHECK(access(res.paths[i], F_OK) != 0 && access(res2.paths[i], F_OK) == 0);
  ms_compute_result_reset(&res2);
  ms_compute_result_reset(&res);
  ms_repo_free(repo);
  /* a changed definition: another schedule; the files of the old definition leave the live
   * set (the cutoffs computed again are replaced, the others have a stale hash) */
  char defs2[sizeof k_defs + 200];
  snprintf(defs2, sizeof defs2, "%s", k_defs);
  char *p = strstr(defs2, "every: 2d");
  CHECK(p != NULL);
  memcpy(p, "every: 3d", 9);
  char path[4096];
  snprintf(path, sizeof path, "%s/defs.yaml", g_dir);
  write_text(path, defs2);
  char **probs = NULL;
  int np = 0;
  CHECK_OK(ms_repo_load(g_dir, NULL, &repo, &probs, &np, &err), &err);
  CHECK_OK(ms_compute_view(repo, "feats", NULL, &o, &res, &err), &err);
  CHECK_EQ_INT(res.n_cutoffs, 3); /* 01-02 10:00, 01-05 10:00, 01-08 10:00 */
  CHECK_EQ_INT(res.generation, 3);
  CHECK_EQ_INT(live_files(dir, &m), 3);
  for (int i = 0; i < 3; i++) CHECK(manifest_has(&m, res.paths[i]));
  ms_compute_result_reset(&res);
  ms_manifest_reset(&m);
  ms_free(dir);
  ms_repo_free(repo);
  ms_registry_close(reg);
}

/* A snapshot directory written before issue 6 (files `cutoff=<T>.parquet`, no manifest):
 * a compute run replaces the legacy files of the cutoffs it computes and those of another
 * definition (deleted after its commit), keeps legacy files of other cutoffs with the
 * current hash, and readers then see the token files plus the kept legacy file. */
static void test_legacy_snapshots(void) {
  ms_repo *repo = NULL;
  CHECK(make_repo("legacy", k_defs, k_csv, &repo));
  ms_error err;
  ms_error_init(&err);
  ms_table *t = NULL;
  int64_t cut = ts_of("2024-01-02 10:00:00");
  CHECK_OK(ms_compute_view_table(repo, "feats", &cut, 1, 1, &t, &err), &err);
  const ms_reg_object *objs;
  const ms_reg_edge *edges;
  int n, ne;
  CHECK_OK(ms_repo_objects(repo, &objs, &n, &edges, &ne, &err), &err);
  const char *hash = NULL;
  for (int i = 0; i < n; i++)
    if (!strcmp(objs[i].kind, "feature_view") && !strcmp(objs[i].name, "feats")) hash = objs[i].hash;
  CHECK(hash != NULL);
  char *dir = ms_compute_snapshot_dir(repo, "feats");
  CHECK_OK(ms_fs_mkdirs(ms_fs_local(), dir, &err), &err);
  const char *names[] = {"cutoff=20240102T100000.parquet", /* recomputed: replaced */
                         "cutoff=20231201T000000.parquet", /* other cutoff, current hash: kept */
                         "cutoff=20231101T000000.parquet"}; /* other cutoff, old hash: removed */
  for (int i = 0; i < 3; i++) {
    ms_pq_write_options wo;
    ms_pq_write_options_init(&wo);
    const char *k[] = {"morsel.definition_hash"};
    const char *v[] = {i == 2 ? "0123456789abcdef" : hash};
    wo.kv_keys = k;
    wo.kv_values = v;
    wo.n_kv = 1;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    CHECK_OK(ms_pq_write_table(ms_fs_local(), p, t, &wo, &err), &err);
  }
  ms_table_release(t);
  ms_compute_result res;
  ms_compute_options o = {1, NULL, NULL, NULL};
  CHECK_OK(ms_compute_view(repo, "feats", NULL, &o, &res, &err), &err);
  CHECK_EQ_INT(res.generation, 1);
  char p[4096];
  snprintf(p, sizeof p, "%s/%s", dir, names[0]);
  CHECK(access(p, F_OK) != 0);
  snprintf(p, sizeof p, "%s/%s", dir, names[1]);
  CHECK(access(p, F_OK) == 0);
  snprintf(p, sizeof p, "%s/%s", dir, names[2]);
  CHECK(access(p, F_OK) != 0);
  ms_dataset *ds = NULL;
  CHECK_OK(ms_dataset_open(ms_fs_local(), dir, NULL, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_files(ds), 5);
  snprintf(p, sizeof p, "%s/%s", dir, names[1]);
  CHECK_STR(ms_dataset_file_path(ds, 0), p);
  for (int i = 0; i < 4; i++) CHECK_STR(ms_dataset_file_path(ds, i + 1), res.paths[i]);
  ms_dataset_close(ds);
  ms_compute_result_reset(&res);
  ms_free(dir);
  ms_repo_free(repo);
}

/* Two processes compute the same view at once, from an empty directory and again over a
 * computed one: afterwards exactly one live file per cutoff, each readable, and the
 * registry agrees with the manifest. */
static void test_concurrent_computes(void) {
  for (int rep = 0; rep < 2; rep++) { /* each repository: two first runs, then two re-runs */
    ms_repo *repo = NULL;
    CHECK(make_repo(rep ? "concurrent2" : "concurrent", k_defs, k_csv, &repo));
    char *dir = ms_compute_snapshot_dir(repo, "feats");
    char reg_path[4096];
    snprintf(reg_path, sizeof reg_path, "%s", ms_repo_get_config(repo)->registry_location);
    ms_repo_free(repo);
    for (int round = 0; round < 2; round++) {
      pid_t pids[2];
      for (int k = 0; k < 2; k++) {
        pids[k] = fork();
        CHECK(pids[k] >= 0);
        if (pids[k] == 0) {
          ms_repo *r = NULL;
          char **probs = NULL;
          int np = 0;
          ms_registry *reg = NULL;
          ms_compute_result res;
          ms_compute_options o = {1, NULL, NULL, NULL};
          int ok = ms_repo_load(g_dir, NULL, &r, &probs, &np, NULL) == MS_OK &&
                   ms_registry_open(reg_path, &reg, NULL) == MS_OK;
          o.registry = reg;
          ms_error err;
          ms_error_init(&err);
          if (ok && ms_compute_view(r, "feats", NULL, &o, &res, &err) != MS_OK) {
            char b[2048];
            fprintf(stderr, "child %d: %s\n", k, ms_error_format(&err, b, sizeof b));
            ok = 0;
          }
          _exit(ok ? 0 : 1);
        }
      }
      for (int k = 0; k < 2; k++) {
        int status = 0;
        CHECK(waitpid(pids[k], &status, 0) == pids[k]);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "round %d child %d", round, k);
      }
      ms_manifest m = {0};
      CHECK_EQ_INT(live_files(dir, &m), 4);
      char stems[4][64];
      for (int i = 0; i < 4; i++) {
        snprintf(stems[i], sizeof stems[i], "%.*s", (int)(strstr(m.files[i].path, ".m") - m.files[i].path), m.files[i].path);
        for (int j = 0; j < i; j++) CHECK_MSG(strcmp(stems[i], stems[j]) != 0, "round %d: %s twice", round, stems[i]);
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, m.files[i].path);
        CHECK(access(p, R_OK) == 0);
      }
      ms_store_options so;
      ms_store_options_init(&so);
      ms_registry *reg = NULL;
      ms_error err;
      ms_error_init(&err);
      CHECK_OK(ms_registry_open(reg_path, &reg, &err), &err);
      so.registry = reg;
      so.project = "cv";
      so.dataset = "aggregations:feats";
      ms_store *st = NULL;
      CHECK_OK(ms_store_open(dir, &so, &st, &err), &err);
      ms_store_status ss;
      CHECK_OK(ms_store_check(st, &ss, &err), &err);
      CHECK_MSG(ss.agrees, "round %d: %s", round, ss.message);
      CHECK_EQ_INT(ss.manifest_generation, m.generation);
      ms_store_close(st);
      ms_registry_close(reg);
      ms_manifest_reset(&m);
    }
    ms_free(dir);
  }
}

/* A Parquet source with field_mapping, aware timestamps, a string key and a second entity:
 * keys come out in entity order with their types (the declared value_type, else the
 * column's), sorted; event_timestamp is timestamp[ns, UTC]; as of with other key widths. */
static void test_parquet_multikey(void) {
  snprintf(g_dir, sizeof g_dir, "%s/pq", ms_test_tmpdir());
  mkdir(g_dir, 0777);
  char p[4096];
  snprintf(p, sizeof p, "%s/data", g_dir);
  mkdir(p, 0777);
  ms_error err;
  ms_error_init(&err);
  /* rows: (uid, store, t, v) */
  const char *uid[] = {"b", "a", "a", "b", "a", "a"};
  int32_t store[] = {1, 2, 1, 1, 1, 1};
  const char *tt[] = {"2024-01-01T00:00:00Z", "2024-01-01T06:00:00Z", "2024-01-02T00:00:00Z", "2024-01-02T12:00:00Z",
                      "2024-01-03T00:00:00Z", "2024-01-03T00:00:00Z"};
  double v[] = {1, 2, 4, 8, 16, 32};
  ms_datatype tu = ms_type(MS_TYPE_UTF8), ti = ms_type(MS_TYPE_INT32), tts = ms_type_timestamp(MS_UNIT_MICRO, "UTC"),
              tf = ms_type(MS_TYPE_FLOAT64);
  ms_column_builder *bu, *bi, *bt, *bf;
  ms_column_builder_create(&tu, 6, &bu, NULL);
  ms_column_builder_create(&ti, 6, &bi, NULL);
  ms_column_builder_create(&tts, 6, &bt, NULL);
  ms_column_builder_create(&tf, 6, &bf, NULL);
  for (int i = 0; i < 6; i++) {
    ms_builder_append_bytes(bu, uid[i], 1);
    ms_builder_append_i64(bi, store[i]);
    ms_builder_append_i64(bt, ts_of(tt[i]) / 1000);
    ms_builder_append_f64(bf, v[i]);
  }
  ms_column *cols[4] = {NULL};
  ms_builder_finish(bu, &cols[0], NULL);
  ms_builder_finish(bi, &cols[1], NULL);
  ms_builder_finish(bt, &cols[2], NULL);
  ms_builder_finish(bf, &cols[3], NULL);
  ms_column_builder_destroy(bu);
  ms_column_builder_destroy(bi);
  ms_column_builder_destroy(bt);
  ms_column_builder_destroy(bf);
  ms_field fields[4] = {{"uid", tu, true}, {"store", ti, true}, {"t", tts, true}, {"v", tf, true}};
  ms_table *src = NULL;
  CHECK_OK(ms_table_create(fields, cols, 4, &src, &err), &err);
  snprintf(p, sizeof p, "%s/data/ev.parquet", g_dir);
  CHECK_OK(ms_pq_write_table(ms_fs_local(), p, src, NULL, &err), &err);
  ms_table_release(src);
  for (int i = 0; i < 4; i++) ms_column_release(cols[i]);
  snprintf(p, sizeof p, "%s/feature_store.yaml", g_dir);
  write_text(p, "project: pq\nregistry: reg.db\noffline_store:\n  type: morsel\n  threads: 2\n  storage_path: store\n");
  snprintf(p, sizeof p, "%s/defs.yaml", g_dir);
  write_text(p, "entities:\n  - name: user\n    join_keys: [user_id]\n    value_type: string\n"
                "  - name: shop\n    join_keys: [store]\n"
                "sources:\n  - name: ev\n    path: data/ev.parquet\n    file_format: parquet\n    timestamp_field: t\n"
                "    field_mapping: {uid: user_id}\n"
                "feature_views:\n  - name: agg\n    entities: [user, shop]\n    source: ev\n    ttl: 0s\n"
                "    aggregations:\n"
                "      - {name: s, function: sum, input: v, window: 2d}\n"
                "      - {name: l, function: last, input: v, window: unbounded}\n"
                "      - {name: lt, function: last, input: t, window: unbounded}\n"
                "    schema:\n      - {name: s, dtype: float64}\n      - {name: l, dtype: float64}\n"
                "      - {name: lt, dtype: timestamp}\n");
  ms_repo *repo = NULL;
  char **probs = NULL;
  int np = 0;
  ms_status lst = ms_repo_load(g_dir, NULL, &repo, &probs, &np, &err);
  CHECK_MSG(lst == MS_OK, "%s", np ? probs[0] : err.message);
  int64_t cut = ts_of("2024-01-03T00:00:00Z");
  ms_table *t = NULL;
  CHECK_OK(ms_compute_view_table(repo, "agg", &cut, 1, 2, &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_columns(t), 6);
  CHECK_STR(ms_table_field(t, 0)->name, "user_id");
  CHECK_STR(ms_table_field(t, 1)->name, "store");
  CHECK(ms_table_field(t, 0)->type.id == MS_TYPE_UTF8);
  CHECK(ms_table_field(t, 1)->type.id == MS_TYPE_INT32);
  CHECK(ms_table_field(t, 5)->type.id == MS_TYPE_TIMESTAMP && strcmp(ms_table_field(t, 5)->type.tz, "UTC") == 0);
  CHECK(ms_table_field(t, 4)->type.id == MS_TYPE_TIMESTAMP && ms_table_field(t, 4)->type.unit == MS_UNIT_NANO); /* inputs are expressions: timestamp[ns] */
  /* window [01-01, 01-03): (a,1): 4; (a,2): 2; (b,1): 1 + 8; the rows at T are outside */
  CHECK_EQ_INT(ms_table_num_rows(t), 3);
  int64_t len;
  const uint8_t *k0 = ms_column_get_bytes(ms_table_column(t, 0), 0, &len);
  CHECK(len == 1 && k0[0] == 'a');
  CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, 1), 0), 1);
  CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, 1), 1), 2);
  k0 = ms_column_get_bytes(ms_table_column(t, 0), 2, &len);
  CHECK(len == 1 && k0[0] == 'b');
  CHECK(ms_column_get_f64(ms_table_column(t, 2), 0) == 4.0);
  CHECK(ms_column_get_f64(ms_table_column(t, 2), 1) == 2.0);
  CHECK(ms_column_get_f64(ms_table_column(t, 2), 2) == 9.0);
  CHECK(ms_column_get_f64(ms_table_column(t, 3), 2) == 8.0);
  CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, 5), 0), cut);
  /* as of at 01-03T00:00:01: the two rows at 01-03 tie; last = the later in source order */
  ms_datatype lu = ms_type(MS_TYPE_LARGE_UTF8), i64 = ms_type(MS_TYPE_INT64);
  ms_column_builder *qa, *qb;
  ms_column_builder_create(&lu, 2, &qa, NULL);
  ms_column_builder_create(&i64, 2, &qb, NULL);
  ms_builder_append_bytes(qa, "a", 1);
  ms_builder_append_i64(qb, 1);
  ms_builder_append_bytes(qa, "a", 1);
  ms_builder_append_i64(qb, 3);
  ms_column *q[2] = {NULL, NULL};
  ms_builder_finish(qa, &q[0], NULL);
  ms_builder_finish(qb, &q[1], NULL);
  ms_column_builder_destroy(qa);
  ms_column_builder_destroy(qb);
  int64_t qt[2] = {cut + NS, cut + NS};
  ms_table *a = NULL;
  CHECK_OK(ms_compute_asof(repo, ms_repo_find_feature_view(repo, "agg"), q, qt, NULL, 2, NULL, 0, 1, &a, &err), &err);
  CHECK(ms_column_get_f64(ms_table_column(a, 0), 0) == 52.0); /* 4 + 16 + 32 */
  CHECK(ms_column_get_f64(ms_table_column(a, 1), 0) == 32.0);
  CHECK(ms_column_is_null(ms_table_column(a, 0), 1));          /* (a, 3): no rows */
  ms_table_release(a);
  ms_column_release(q[0]);
  ms_column_release(q[1]);
  ms_table_release(t);
  ms_repo_free(repo);
}

MS_TEST_MAIN(MS_TEST(test_parquet_multikey), MS_TEST(test_hand_case), MS_TEST(test_cutoffs), MS_TEST(test_modes_agree), MS_TEST(test_snapshots), MS_TEST(test_legacy_snapshots), MS_TEST(test_concurrent_computes))
