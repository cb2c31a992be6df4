/* Aggregation views in retrieval (src/offline/ofs_agg.c): snapshots computed with
 * ms_compute_view, then get_historical_features at exactly the snapshot rows' (key,
 * cutoff) in stored mode and in as-of mode must give identical cells (and stored must
 * equal the snapshot files themselves); AUTO picks as-of without snapshots and stored
 * with them (explain says which); snapshots of an older definition are refused with the
 * `morsel compute` hint; pulls read the snapshots (and fail without them); an on-demand
 * view over an aggregation view; a recompute leaves the replaced files on disk but only the live
 * ones are counted and read; a snapshot directory from before the store (no manifest, no
 * tokens) is found and read the same. Randomized source with ties, null amounts and a null key. */
#include "morsel/compute.h"
#include "morsel/store.h"
#include "offline_fixture.h"

static const char *k_defs_fmt =
    "entities:\n"
    "  - name: customer\n    join_keys: [customer_id]\n"
    "sources:\n"
    "  - name: tx\n    path: data/tx.parquet\n    timestamp_field: ts\n"
    "feature_views:\n"
    "  - name: rfm\n    entities: [customer]\n    ttl: 0s\n    source: tx\n"
    "    cutoffs: {start: '2024-01-10 00:00:00', every: 5d, end: '2024-02-20 00:00:00'}\n"
    "    aggregations:\n"
    "      - {name: n_tx, function: count, window: %s}\n"
    "      - {name: spend, function: sum, input: amount, window: 30d}\n"
    "      - {name: avg_amount, function: mean, input: amount, window: 30d}\n"
    "      - {name: last_ts, function: max, input: ts, window: unbounded}\n"
    "    expressions:\n"
    "      - {name: recency_days, expression: \"date_diff('day', last_ts, as_of)\"}\n"
    "    schema:\n"
    "      - {name: n_tx, dtype: int64}\n"
    "      - {name: spend, dtype: float64}\n"
    "      - {name: avg_amount, dtype: float64}\n"
    "      - {name: recency_days, dtype: int64}\n"
    "on_demand_feature_views:\n"
    "  - name: od\n    sources: [rfm]\n"
    "    schema:\n      - {name: spend_per_tx, dtype: float64, expression: spend / n_tx}\n";

#define NS 300

static ms_repo *setup(const char *tag, const char *window, bool write_data) {
  char defs[4096];
  snprintf(defs, sizeof defs, k_defs_fmt, window);
  make_repo(tag, NULL, defs);
  if (write_data) {
    uint64_t x = 12345;
    int64_t id[NS], ts[NS];
    double amt[NS];
    int64_t t0 = T("2023-12-20");
    for (int i = 0; i < NS; i++) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      id[i] = (x >> 33) % 37 == 0 ? NUL : 1 + (int64_t)((x >> 20) % 12);
      ts[i] = t0 + (int64_t)((x >> 40) % 60) * DAY + (int64_t)((x >> 10) % 3) * 8 * HOUR;
      amt[i] = (x >> 50) % 11 == 0 ? NAN : (double)((x >> 5) % 1000) / 10.0;
    }
    write_pq(repo_path("data/tx.parquet"),
             mk_table("customer_id", col_i64(id, NS), "ts", col_ts(ts, NS, MS_UNIT_MICRO, ""), "amount", col_f64(amt, NS), NULL),
             64);
  }
  return load(g_dir);
}

/* Every snapshot row, read back as one table through a pull_all. */
static ms_table *pull(ms_repo *r, ms_pull_mode mode, ms_error *err) {
  ms_pull_request pr;
  ms_pull_request_init(&pr);
  pr.mode = mode;
  pr.feature_view = "rfm";
  ms_retrieval_job *job = NULL;
  ms_table *t = NULL;
  if (ms_pull(r, &pr, &job, err) == MS_OK) ms_retrieval_job_to_table(job, &t, err);
  ms_retrieval_job_free(job);
  return t;
}

static ms_table *hist_mode(ms_repo *r, ms_table *ent, ms_aggregation_mode mode, char **explain) {
  const char *refs[] = {"rfm:n_tx", "rfm:spend", "rfm:avg_amount", "rfm:recency_days", "od:spend_per_tx"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 5;
  req.entity_table = ent;
  req.aggregation_mode = mode;
  ms_retrieval_job *job = NULL;
  ms_error err;
  ms_error_init(&err);
  ms_table *t = NULL;
  if (ms_get_historical_features(r, &req, &job, &err) == MS_OK) {
    if (explain) ms_retrieval_job_explain(job, false, explain, &err);
    ms_retrieval_job_to_table(job, &t, &err);
  }
  if (!t) fprintf(stderr, "historical (mode %d) failed: %s\n", (int)mode, err.message);
  ms_retrieval_job_free(job);
  return t;
}

static void test_stored_equals_asof(void) {
  ms_repo *r = setup("agg_eq", "30d", true);
  CHECK(r);
  ms_error err;
  ms_error_init(&err);
  /* No snapshots yet: AUTO is as-of, STORED and pulls fail with the hint. */
  char *text = NULL;
  ms_table *snap = pull(r, MS_PULL_ALL, &err);
  CHECK(!snap);
  CHECK_MSG(strstr(err.message, "no snapshots") && strstr(err.message, "run morsel compute rfm"), "%s", err.message);
  int64_t k1[] = {1}, t1[] = {T("2024-01-20")};
  ms_table *one = mk_table("customer_id", col_i64(k1, 1), "event_timestamp", col_ts(t1, 1, MS_UNIT_NANO, ""), NULL);
  ms_table *a = hist_mode(r, one, MS_AGGREGATIONS_AUTO, &text);
  CHECK(a && text && strstr(text, "mode as-of"));
  ms_free(text);
  ms_table_release(a);
  char msg[1024];
  const char *refs1[] = {"rfm:n_tx"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs1;
  req.n_feature_refs = 1;
  req.entity_table = one;
  req.aggregation_mode = MS_AGGREGATIONS_STORED;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_NOT_FOUND);
  CHECK_MSG(strstr(msg, "run morsel compute rfm") != NULL, "%s", msg);

  /* Compute the snapshots. */
  ms_compute_options co = {0};
  co.threads = 2;
  ms_compute_result res;
  memset(&res, 0, sizeof res);
  CHECK_OK(ms_compute_view(r, "rfm", NULL, &co, &res, &err), &err);
  CHECK(res.n_cutoffs == 9);
  int64_t total = 0;
  for (int i = 0; i < res.n_cutoffs; i++) total += res.rows[i];
  ms_compute_result_reset(&res);
  /* Computed again: the replaced files stay on disk until the garbage collection, but only
   * the live ones are counted and read (explain says 9 files, the pull has no duplicate). */
  CHECK_OK(ms_compute_view(r, "rfm", NULL, &co, &res, &err), &err);
  CHECK(res.n_cutoffs == 9 && res.generation == 2);
  ms_compute_result_reset(&res);
  snap = pull(r, MS_PULL_ALL, &err);
  CHECK_MSG(snap, "%s", err.message);
  CHECK(ms_table_num_rows(snap) == total && total > 20);
  /* The entity rows: every snapshot row's (key, cutoff). */
  int kc = ms_table_find_column(snap, "customer_id"), tc = ms_table_find_column(snap, "event_timestamp");
  CHECK(kc >= 0 && tc >= 0);
  ms_field ef[2] = {*ms_table_field(snap, kc), *ms_table_field(snap, tc)};
  ef[1].name = (char *)"event_timestamp";
  ms_column *ec[2] = {ms_table_column(snap, kc), ms_table_column(snap, tc)};
  ms_table *ent = NULL;
  CHECK_OK(ms_table_create(ef, ec, 2, &ent, &err), &err);
  ms_table *stored = hist_mode(r, ent, MS_AGGREGATIONS_STORED, &text);
  CHECK(stored && text && strstr(text, "mode stored: 9 snapshot files"));
  ms_free(text);
  ms_table *asof = hist_mode(r, ent, MS_AGGREGATIONS_AS_OF, &text);
  CHECK(asof && text && strstr(text, "mode as-of"));
  ms_free(text);
  ms_table *autom = hist_mode(r, ent, MS_AGGREGATIONS_AUTO, NULL);
  CHECK(autom && tables_equal(stored, autom));
  CHECK_MSG(tables_equal(stored, asof), "stored and as-of differ");
  /* Stored = the snapshot cells themselves (entity rows are the snapshot rows, in order). */
  const char *feats[] = {"n_tx", "spend", "avg_amount", "recency_days"};
  for (int f = 0; f < 4; f++) {
    int sc = ms_table_find_column(snap, feats[f]), hc = ms_table_find_column(stored, feats[f]);
    CHECK(sc >= 0 && hc >= 0);
    CHECK_MSG(ms_column_equal(ms_table_column(snap, sc), ms_table_column(stored, hc)), "%s", feats[f]);
  }
  /* The on-demand output over the aggregation: spend / n_tx (null for n_tx 0 or null spend). */
  int sp = ms_table_find_column(stored, "spend"), nt = ms_table_find_column(stored, "n_tx"),
      od = ms_table_find_column(stored, "spend_per_tx");
  int64_t nonnull = 0;
  for (int64_t i = 0; i < ms_table_num_rows(stored); i++) {
    ms_column *s = ms_table_column(stored, sp), *n = ms_table_column(stored, nt), *o = ms_table_column(stored, od);
    bool want_null = ms_column_is_null(s, i) || ms_column_is_null(n, i) || ms_column_get_i64(n, i) == 0;
    CHECK(ms_column_is_null(o, i) == want_null);
    if (!want_null) {
      CHECK(ms_column_get_f64(o, i) == ms_column_get_f64(s, i) / (double)ms_column_get_i64(n, i));
      nonnull++;
    }
  }
  CHECK(nonnull > 0);
  /* A snapshot directory from before the store (no manifest, files cutoff=<T>.parquet
   * without the token): the same nine snapshots are found and read the same. */
  {
    char *dir = ms_compute_snapshot_dir(r, "rfm");
    ms_manifest m = {0};
    CHECK_OK(ms_manifest_read(dir, &m, &err), &err);
    CHECK(m.n_files == 9);
    char a[4096], b[4096];
    for (int i = 0; i < m.n_files; i++) {
      snprintf(a, sizeof a, "%s/%s", dir, m.files[i].path);
      snprintf(b, sizeof b, "%s/%.*s.parquet", dir, (int)(strstr(m.files[i].path, ".m") - m.files[i].path),
               m.files[i].path);
      CHECK(rename(a, b) == 0);
    }
    for (int i = 0; i < m.n_removed; i++) {
      snprintf(a, sizeof a, "%s/%s", dir, m.removed[i].path);
      CHECK(unlink(a) == 0);
    }
    ms_manifest_reset(&m);
    snprintf(a, sizeof a, "%s/%s", dir, MS_MANIFEST_NAME);
    CHECK(unlink(a) == 0);
    ms_free(dir);
    ms_table *legacy = hist_mode(r, ent, MS_AGGREGATIONS_STORED, &text);
    CHECK(legacy && text && strstr(text, "mode stored: 9 snapshot files"));
    ms_free(text);
    CHECK(tables_equal(stored, legacy));
    ms_table_release(legacy);
  }
  /* pull_latest: one row per key, its latest cutoff. */
  ms_table *latest = pull(r, MS_PULL_LATEST, &err);
  CHECK(latest);
  int64_t keys = 0;
  for (int64_t i = 0; i < ms_table_num_rows(snap); i++) {
    bool seen = false;
    for (int64_t j = 0; j < i && !seen; j++) seen = ms_column_get_i64(ms_table_column(snap, kc), i) == ms_column_get_i64(ms_table_column(snap, kc), j);
    keys += !seen;
  }
  CHECK(ms_table_num_rows(latest) == keys);
  ms_table_release(latest);
  ms_table_release(autom);
  ms_table_release(asof);
  ms_table_release(stored);
  ms_table_release(ent);
  ms_table_release(snap);

  /* A changed definition: the snapshots are refused (stored and auto), as-of still works. */
  ms_repo_free(r);
  r = setup("agg_eq", "20d", false);
  CHECK(r);
  req.aggregation_mode = MS_AGGREGATIONS_STORED;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_INVALID);
  CHECK_MSG(strstr(msg, "older definition") && strstr(msg, "run morsel compute rfm"), "%s", msg);
  req.aggregation_mode = MS_AGGREGATIONS_AUTO;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_INVALID);
  snap = pull(r, MS_PULL_ALL, &err);
  CHECK(!snap && strstr(err.message, "older definition"));
  a = hist_mode(r, one, MS_AGGREGATIONS_AS_OF, NULL);
  CHECK(a && ms_table_num_rows(a) == 1);
  ms_table_release(a);
  ms_table_release(one);
  ms_repo_free(r);
}

MS_TEST_MAIN(MS_TEST(test_stored_equals_asof))
