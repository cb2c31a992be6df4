/* Source cleaning in retrieval and pulls (src/offline/ofs_clean.c): derived `columns`
 * (a derived join key, a derived feature, a derived column replacing a dataset column, a
 * derived timestamp) and a `filter`, checked against a brute-force reference (filter the
 * rows, compute the columns, point-in-time join / latest / all by the contract's rules)
 * on randomized data with null keys, ties on timestamp, cancelled invoices and several
 * Parquet row groups, with 1 and 3 threads; plus the planning errors. */
#include "offline_fixture.h"

static const char *k_defs =
    "entities:\n"
    "  - name: customer\n    join_keys: [customer_id]\n"
    "sources:\n"
    "  - name: tx\n    path: data/tx.parquet\n    timestamp_field: InvoiceDate\n"
    "    field_mapping: {UnitPrice: price}\n"
    "    columns:\n"
    "      - {name: customer_id, expression: cast(CustomerID as int64)}\n"
    "      - {name: revenue, expression: Quantity * price}\n"
    "      - {name: is_cancellation, expression: \"starts_with(InvoiceNo, 'C')\"}\n"
    "      - {name: Quantity, expression: Quantity * 10}\n"
    "      - {name: unused, expression: Quantity / 0}\n"
    "    filter: CustomerID is not null and not is_cancellation\n"
    "  - name: tx_shift\n    path: data/tx.parquet\n    timestamp_field: ts_shift\n"
    "    columns:\n"
    "      - {name: customer_id, expression: CustomerID}\n"
    "      - {name: ts_shift, expression: InvoiceDate + 1h}\n"
    "    filter: Quantity > 2\n"
    "feature_views:\n"
    "  - name: spend\n    entities: [customer]\n    ttl: 0s\n    source: tx\n"
    "    schema:\n"
    "      - {name: revenue, dtype: float64}\n"
    "      - {name: Quantity, dtype: int64}\n"
    "      - {name: price, dtype: float64}\n"
    "  - name: shifted\n    entities: [customer]\n    ttl: 1d\n    source: tx_shift\n"
    "    schema:\n      - {name: Quantity, dtype: int64}\n";

#define NS 200
#define NE 150

static int64_t g_cid[NS], g_qty[NS], g_ts[NS];
static double g_price[NS];
static char g_inv[NS][16];
static int64_t g_eid[NE], g_ets[NE];

static uint64_t g_rng = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

static bool kept(int i) { return g_cid[i] != NUL && g_inv[i][0] != 'C'; }

static ms_repo *setup(const char *tag) {
  make_repo(tag, NULL, k_defs);
  int64_t t0 = T("2011-01-01");
  const char *inv[NS];
  for (int i = 0; i < NS; i++) {
    g_cid[i] = rnd() % 9 == 0 ? NUL : 1 + (int64_t)(rnd() % 8);
    g_qty[i] = 1 + (int64_t)(rnd() % 6);
    g_price[i] = (double)(rnd() % 400) / 8.0;
    g_ts[i] = t0 + (int64_t)(rnd() % 30) * 6 * HOUR;
    snprintf(g_inv[i], sizeof g_inv[i], "%s%d", rnd() % 5 == 0 ? "C" : "", 500000 + i);
    inv[i] = g_inv[i];
  }
  for (int e = 0; e < NE; e++) {
    g_eid[e] = 1 + (int64_t)(rnd() % 9);
    g_ets[e] = t0 + (int64_t)(rnd() % 34) * 6 * HOUR - (int64_t)(rnd() % 2) * 3 * HOUR;
  }
  write_pq(repo_path("data/tx.parquet"),
           mk_table("InvoiceNo", col_str(inv, NS), "CustomerID", col_int(MS_TYPE_INT32, g_cid, NS), "Quantity",
                    col_i64(g_qty, NS), "UnitPrice", col_f64(g_price, NS), "InvoiceDate",
                    col_ts(g_ts, NS, MS_UNIT_MICRO, ""), NULL),
           16);
  return load(g_dir);
}

static void test_clean_historical(void) {
  ms_repo *r = setup("clean_hist");
  CHECK(r);
  ms_table *ent = mk_table("customer_id", col_i64(g_eid, NE), "event_timestamp", col_ts(g_ets, NE, MS_UNIT_NANO, ""), NULL);
  const char *refs[] = {"spend:revenue", "spend:Quantity", "spend:price", "shifted:Quantity"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 4;
  req.entity_table = ent;
  req.full_feature_names = true;
  ms_table *out = hist(r, &req);
  CHECK(out);
  double w_rev[NE], w_price[NE];
  int64_t w_qty[NE], w_sq[NE];
  int matched = 0;
  for (int e = 0; e < NE; e++) {
    /* spend: filtered rows, ts <= e.ts, no ttl, tie -> later row */
    int w = -1, w2 = -1;
    for (int i = 0; i < NS; i++) {
      if (kept(i) && g_cid[i] == g_eid[e] && g_ts[i] <= g_ets[e] && (w < 0 || g_ts[i] >= g_ts[w])) w = i;
      /* shifted: Quantity > 2 (the dataset column: the replacement belongs to tx only),
       * ts + 1h, ttl 1d, null keys never match */
      int64_t ts = g_ts[i] + HOUR;
      if (g_qty[i] > 2 && g_cid[i] != NUL && g_cid[i] == g_eid[e] && ts <= g_ets[e] && ts >= g_ets[e] - DAY &&
          (w2 < 0 || ts >= g_ts[w2] + HOUR))
        w2 = i;
    }
    matched += w >= 0;
    w_rev[e] = w < 0 ? NAN : (double)g_qty[w] * g_price[w];
    w_qty[e] = w < 0 ? NUL : g_qty[w] * 10;
    w_price[e] = w < 0 ? NAN : g_price[w];
    w_sq[e] = w2 < 0 ? NUL : g_qty[w2];
  }
  CHECK(matched > NE / 4 && matched < NE);
  CHECK(col_is_f64(out, "spend__revenue", w_rev, NE));
  CHECK(col_is_i64(out, "spend__Quantity", w_qty, NE));
  CHECK(col_is_f64(out, "spend__price", w_price, NE));
  CHECK(col_is_i64(out, "shifted__Quantity", w_sq, NE));
  /* The same with 3 threads. */
  req.threads = 3;
  ms_table *out3 = hist(r, &req);
  CHECK(out3 && tables_equal(out, out3));
  ms_table_release(out3);
  ms_table_release(out);
  /* Explain names the cleaning; the unused derived column is not computed (it would
   * still be harmless: x / 0 is null). */
  ms_retrieval_job *job = NULL;
  ms_error err;
  CHECK_OK(ms_get_historical_features(r, &req, &job, &err), &err);
  char *text = NULL;
  CHECK_OK(ms_retrieval_job_explain(job, false, &text, &err), &err);
  CHECK_MSG(strstr(text, "derived columns computed: customer_id, revenue, is_cancellation, Quantity;") != NULL, "%s", text);
  CHECK(strstr(text, "filter: CustomerID is not null and not is_cancellation") != NULL);
  CHECK(strstr(text, "the timestamp is computed") != NULL);
  ms_free(text);
  ms_retrieval_job_free(job);
  ms_table_release(ent);
  ms_repo_free(r);
}

static void test_clean_pull(void) {
  ms_repo *r = setup("clean_pull");
  CHECK(r);
  ms_pull_request pr;
  ms_pull_request_init(&pr);
  pr.mode = MS_PULL_ALL;
  pr.feature_view = "spend";
  ms_retrieval_job *job = NULL;
  ms_error err;
  CHECK_OK(ms_pull(r, &pr, &job, &err), &err);
  ms_table *out = NULL;
  CHECK_OK(ms_retrieval_job_to_table(job, &out, &err), &err);
  ms_retrieval_job_free(job);
  const char *names[] = {"customer_id", "revenue", "Quantity", "price", "InvoiceDate"};
  CHECK(names_are(out, names, 5));
  /* Brute force: kept rows, stable by ts. */
  int64_t w_id[NS], w_q[NS];
  int n = 0;
  for (int pass_ts = 0; pass_ts < 30; pass_ts++)
    for (int i = 0; i < NS; i++)
      if (kept(i) && g_ts[i] == T("2011-01-01") + pass_ts * 6 * HOUR) {
        w_id[n] = g_cid[i];
        w_q[n++] = g_qty[i] * 10;
      }
  CHECK(col_is_i64(out, "customer_id", w_id, n));
  CHECK(col_is_i64(out, "Quantity", w_q, n));
  ms_table_release(out);
  /* pull_latest over the filtered rows: per key the largest (ts, position). */
  pr.mode = MS_PULL_LATEST;
  CHECK_OK(ms_pull(r, &pr, &job, &err), &err);
  CHECK_OK(ms_retrieval_job_to_table(job, &out, &err), &err);
  ms_retrieval_job_free(job);
  int best[16];
  for (int k = 0; k < 16; k++) best[k] = -1;
  for (int i = 0; i < NS; i++)
    if (kept(i) && (best[g_cid[i]] < 0 || g_ts[i] >= g_ts[best[g_cid[i]]])) best[g_cid[i]] = i;
  int n_keys = 0;
  for (int k = 0; k < 16; k++) n_keys += best[k] >= 0;
  CHECK(ms_table_num_rows(out) == n_keys);
  ms_column *ic = ms_table_column(out, 0), *qc = ms_table_column(out, 2);
  for (int64_t row = 0; row < ms_table_num_rows(out); row++) {
    int64_t k = ms_column_get_i64(ic, row);
    CHECK(k >= 0 && k < 16 && best[k] >= 0 && ms_column_get_i64(qc, row) == g_qty[best[k]] * 10);
  }
  ms_table_release(out);
  /* A source alone: its logical columns, derived ones included (not the timestamp). */
  ms_pull_request_init(&pr);
  pr.mode = MS_PULL_ALL;
  pr.source = "tx";
  CHECK_OK(ms_pull(r, &pr, &job, &err), &err);
  CHECK_OK(ms_retrieval_job_to_table(job, &out, &err), &err);
  ms_retrieval_job_free(job);
  const char *snames[] = {"InvoiceNo", "CustomerID", "Quantity", "price", "customer_id", "revenue", "is_cancellation",
                          "unused", "InvoiceDate"};
  CHECK(names_are(out, snames, 9));
  CHECK(ms_table_num_rows(out) == n);
  ms_table_release(out);
  ms_repo_free(r);
}

static void test_clean_errors(void) {
  make_repo("clean_err", NULL,
            "entities:\n  - name: customer\n    join_keys: [customer_id]\n"
            "sources:\n  - name: s\n    path: data/s.csv\n    timestamp_field: ts\n"
            "    filter: amount + 1\n"
            "  - name: s2\n    path: data/s.csv\n    timestamp_field: ts\n"
            "    columns:\n      - {name: x, expression: amount * 2}\n"
            "feature_views:\n  - name: v\n    entities: [customer]\n    source: s\n"
            "    schema:\n      - {name: amount, dtype: int64}\n"
            "  - name: v2\n    entities: [customer]\n    source: s2\n"
            "    schema:\n      - {name: y, dtype: int64}\n");
  write_text(repo_path("data/s.csv"), "customer_id,ts,amount\n1,2024-01-01T00:00:00,5\n");
  ms_repo *r = load(g_dir);
  if (!r) return; /* the repository loader may refuse these already; then nothing to plan */
  ms_pull_request pr;
  ms_pull_request_init(&pr);
  pr.mode = MS_PULL_ALL;
  pr.feature_view = "v";
  ms_retrieval_job *job = NULL;
  ms_error err;
  ms_error_init(&err);
  CHECK(ms_pull(r, &pr, &job, &err) == MS_ERR_TYPE && !job);
  CHECK_MSG(strstr(err.message, "source 's', filter (amount + 1) is int64, not bool") != NULL, "%s", err.message);
  pr.feature_view = "v2";
  CHECK(ms_pull(r, &pr, &job, &err) == MS_ERR_NOT_FOUND && !job);
  CHECK_MSG(strstr(err.message, "no column 'y' (nor a derived one) for feature 'y'") != NULL, "%s", err.message);
  ms_repo_free(r);
}

MS_TEST_MAIN(MS_TEST(test_clean_historical), MS_TEST(test_clean_pull), MS_TEST(test_clean_errors))
