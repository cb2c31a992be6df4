/* On-demand feature views in get_historical_features (src/offline/ofs_odfv.c): Feast's
 * transformed_conv_rate (conv_rate_plus_100 = conv_rate + 100, conv_rate_plus_val_to_add
 * with a request column) checked against a brute-force point-in-time join plus the
 * arithmetic on randomized data with ties, nulls and unmatched rows; hidden inputs not in
 * the output; the source feature requested too; full names; a feature service listing
 * the view under an alias; a cast to the declared dtype; the missing request column error
 * before any source is opened; collisions; metadata and explain. */
#include "offline_fixture.h"

static const char *k_defs =
    "entities:\n"
    "  - name: driver\n    join_keys: [driver_id]\n"
    "sources:\n"
    "  - name: driver_stats\n    path: data/driver_stats.parquet\n    timestamp_field: event_timestamp\n"
    "feature_views:\n"
    "  - name: driver_hourly_stats\n    entities: [driver]\n    ttl: 2d\n    source: driver_stats\n"
    "    schema:\n"
    "      - {name: conv_rate, dtype: float64}\n"
    "      - {name: acc_rate, dtype: float64}\n"
    "      - {name: avg_daily_trips, dtype: int64}\n"
    "on_demand_feature_views:\n"
    "  - name: transformed_conv_rate\n    sources: [driver_hourly_stats]\n"
    "    request:\n      - {name: val_to_add, dtype: int64}\n"
    "    schema:\n"
    "      - {name: conv_rate_plus_100, dtype: float64, expression: conv_rate + 100}\n"
    "      - {name: conv_rate_plus_val_to_add, dtype: float64, expression: \"driver_hourly_stats.conv_rate + val_to_add\"}\n"
    "      - {name: trips_times_2, dtype: float64, expression: avg_daily_trips * 2}\n"
    "      - {name: has_rate, dtype: bool, expression: conv_rate is not null}\n"
    "feature_services:\n"
    "  - name: svc\n    features:\n"
    "      - {feature_view: driver_hourly_stats, features: [acc_rate]}\n"
    "      - {feature_view: transformed_conv_rate, alias: tcr, features: [conv_rate_plus_val_to_add]}\n";

#define NS 40
#define NE 60

/* Randomized source (driver 1..4, timestamps on a coarse grid so that ties happen, some
 * null rates) and entity rows (some drivers without rows, null val_to_add). */
typedef struct fixture {
  int64_t id[NS], ts[NS], trips[NS];
  double conv[NS], acc[NS];
  int64_t eid[NE], ets[NE], val[NE];
} fixture;

static uint64_t g_rng = 88172645463325252ULL;
static uint64_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

static void make_fixture(fixture *f) {
  int64_t t0 = T("2024-03-01");
  for (int i = 0; i < NS; i++) {
    f->id[i] = 1 + (int64_t)(rnd() % 4);
    f->ts[i] = t0 + (int64_t)(rnd() % 12) * 12 * HOUR;
    f->conv[i] = rnd() % 7 == 0 ? NAN : (double)(rnd() % 1000) / 1000.0;
    f->acc[i] = (double)(rnd() % 100) / 100.0;
    f->trips[i] = (int64_t)(rnd() % 50);
  }
  for (int i = 0; i < NE; i++) {
    f->eid[i] = 1 + (int64_t)(rnd() % 6);
    f->ets[i] = t0 + (int64_t)(rnd() % 16) * 12 * HOUR - 6 * HOUR * (int64_t)(rnd() % 2);
    f->val[i] = rnd() % 5 == 0 ? NUL : (int64_t)(rnd() % 20) - 5;
  }
}

/* Brute force: the winning source row of entity row e (ttl 2d, inclusive bounds, ties to
 * the later source row), -1 for none. */
static int winner(const fixture *f, int e) {
  int w = -1;
  for (int i = 0; i < NS; i++) {
    if (f->id[i] != f->eid[e] || f->ts[i] > f->ets[e] || f->ts[i] < f->ets[e] - 2 * DAY) continue;
    if (w < 0 || f->ts[i] >= f->ts[w]) w = i;
  }
  return w;
}

static ms_repo *setup(const char *tag, fixture *f, bool write_source) {
  make_repo(tag, NULL, k_defs);
  if (write_source)
    write_pq(repo_path("data/driver_stats.parquet"),
             mk_table("driver_id", col_i64(f->id, NS), "event_timestamp", col_ts(f->ts, NS, MS_UNIT_MICRO, "UTC"),
                      "conv_rate", col_f64(f->conv, NS), "acc_rate", col_f64(f->acc, NS), "avg_daily_trips",
                      col_i64(f->trips, NS), NULL),
             0);
  return load(g_dir);
}

static ms_table *entity_table(const fixture *f, bool with_val) {
  if (!with_val)
    return mk_table("driver_id", col_i64(f->eid, NE), "event_timestamp", col_ts(f->ets, NE, MS_UNIT_NANO, "UTC"), NULL);
  return mk_table("driver_id", col_i64(f->eid, NE), "event_timestamp", col_ts(f->ets, NE, MS_UNIT_NANO, "UTC"),
                  "val_to_add", col_i64(f->val, NE), NULL);
}

static void test_feast_transformed_conv_rate(void) {
  fixture f;
  make_fixture(&f);
  ms_repo *r = setup("odfv_feast", &f, true);
  CHECK(r);
  ms_table *ent = entity_table(&f, true);
  const char *refs[] = {"transformed_conv_rate:conv_rate_plus_100", "transformed_conv_rate:conv_rate_plus_val_to_add",
                        "transformed_conv_rate:trips_times_2", "transformed_conv_rate:has_rate"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 4;
  req.entity_table = ent;
  ms_table *out = hist(r, &req);
  CHECK(out);
  /* Hidden inputs (conv_rate, avg_daily_trips) are not output. */
  const char *names[] = {"driver_id", "event_timestamp", "val_to_add", "conv_rate_plus_100",
                         "conv_rate_plus_val_to_add", "trips_times_2", "has_rate"};
  CHECK(names_are(out, names, 7));
  double w100[NE], wval[NE], wtrips[NE];
  int64_t whas[NE];
  int unmatched = 0, null_rate = 0;
  for (int e = 0; e < NE; e++) {
    int w = winner(&f, e);
    double conv = w < 0 ? NAN : f.conv[w];
    unmatched += w < 0;
    null_rate += w >= 0 && isnan(conv);
    w100[e] = isnan(conv) ? NAN : conv + 100;
    wval[e] = isnan(conv) || f.val[e] == NUL ? NAN : conv + (double)f.val[e];
    wtrips[e] = w < 0 ? NAN : (double)(f.trips[w] * 2);
    whas[e] = !isnan(conv);
  }
  CHECK(unmatched > 0 && null_rate > 0); /* the data exercises both kinds of null */
  CHECK(col_is_f64(out, "conv_rate_plus_100", w100, NE));
  CHECK(col_is_f64(out, "conv_rate_plus_val_to_add", wval, NE));
  CHECK(col_is_f64(out, "trips_times_2", wtrips, NE));
  ms_column *hc = ms_table_column(out, 6);
  for (int e = 0; e < NE; e++) CHECK(!ms_column_is_null(hc, e) && ms_column_get_bool(hc, e) == (whas[e] != 0));
  CHECK(ms_table_field(out, 5)->type.id == MS_TYPE_FLOAT64); /* int64 result cast to the dtype */
  CHECK(ms_table_field(out, 6)->type.id == MS_TYPE_BOOL);
  ms_table_release(out);

  /* The source feature requested too: output once, before the on-demand outputs. */
  const char *refs2[] = {"transformed_conv_rate:conv_rate_plus_100", "driver_hourly_stats:conv_rate"};
  req.feature_refs = refs2;
  req.n_feature_refs = 2;
  out = hist(r, &req);
  CHECK(out);
  const char *names2[] = {"driver_id", "event_timestamp", "val_to_add", "conv_rate", "conv_rate_plus_100"};
  CHECK(names_are(out, names2, 5));
  CHECK(col_is_f64(out, "conv_rate_plus_100", w100, NE));
  ms_table_release(out);

  /* Full names: odfv__feature; metadata lists the on-demand refs, not the hidden inputs. */
  req.feature_refs = refs;
  req.n_feature_refs = 2;
  req.full_feature_names = true;
  ms_retrieval_job *job = NULL;
  ms_error err;
  CHECK_OK(ms_get_historical_features(r, &req, &job, &err), &err);
  const ms_retrieval_metadata *md = ms_retrieval_job_metadata(job);
  CHECK(md->n_features == 2);
  CHECK(strcmp(md->features[0], "transformed_conv_rate:conv_rate_plus_100") == 0);
  CHECK(strcmp(md->features[1], "transformed_conv_rate:conv_rate_plus_val_to_add") == 0);
  CHECK(md->n_views == 1 && strcmp(md->view_names[0], "driver_hourly_stats") == 0);
  char *text = NULL;
  CHECK_OK(ms_retrieval_job_explain(job, false, &text, &err), &err);
  CHECK(strstr(text, "on-demand view transformed_conv_rate") != NULL);
  CHECK(strstr(text, "conv_rate (on-demand input, not output)") != NULL);
  CHECK(strstr(text, "request column val_to_add") != NULL);
  ms_free(text);
  CHECK_OK(ms_retrieval_job_to_table(job, &out, &err), &err);
  ms_retrieval_job_free(job);
  const char *names3[] = {"driver_id", "event_timestamp", "val_to_add", "transformed_conv_rate__conv_rate_plus_100",
                          "transformed_conv_rate__conv_rate_plus_val_to_add"};
  CHECK(names_are(out, names3, 5));
  CHECK(col_is_f64(out, "transformed_conv_rate__conv_rate_plus_val_to_add", wval, NE));
  ms_table_release(out);

  /* A feature service listing the on-demand view under an alias. */
  ms_historical_request_init(&req);
  req.feature_service = "svc";
  req.entity_table = ent;
  req.full_feature_names = true;
  out = hist(r, &req);
  CHECK(out);
  const char *names4[] = {"driver_id", "event_timestamp", "val_to_add", "driver_hourly_stats__acc_rate",
                          "tcr__conv_rate_plus_val_to_add"};
  CHECK(names_are(out, names4, 5));
  CHECK(col_is_f64(out, "tcr__conv_rate_plus_val_to_add", wval, NE));
  ms_table_release(out);
  ms_table_release(ent);
  ms_repo_free(r);
}

static void test_odfv_errors(void) {
  fixture f;
  make_fixture(&f);
  /* No source file at all: the request column check must come first. */
  ms_repo *r = setup("odfv_errors", &f, false);
  CHECK(r);
  ms_table *ent = entity_table(&f, false);
  const char *refs[] = {"transformed_conv_rate:conv_rate_plus_val_to_add"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 1;
  req.entity_table = ent;
  char msg[1024];
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_INVALID);
  CHECK_MSG(strstr(msg, "missing 1 request column: 'val_to_add' (int64") != NULL, "%s", msg);
  /* An output that needs no request column plans fine without it, and then fails on the
   * missing source file (proving the order of the checks above). */
  const char *refs_ok[] = {"transformed_conv_rate:conv_rate_plus_100"};
  req.feature_refs = refs_ok;
  CHECK(hist_fail(r, &req, msg, sizeof msg) != MS_OK);
  CHECK_MSG(strstr(msg, "driver_stats") != NULL && strstr(msg, "val_to_add") == NULL, "%s", msg);
  /* Unknown output, collision with a requested feature, wrong request type. */
  ms_repo_free(r);
  r = setup("odfv_errors", &f, true);
  CHECK(r);
  const char *refs_bad[] = {"transformed_conv_rate:nope"};
  req.feature_refs = refs_bad;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_NOT_FOUND);
  CHECK_MSG(strstr(msg, "has no feature 'nope'") != NULL, "%s", msg);
  ms_table_release(ent);
  const char *tv[NE];
  for (int i = 0; i < NE; i++) tv[i] = "x";
  ent = mk_table("driver_id", col_i64(f.eid, NE), "event_timestamp", col_ts(f.ets, NE, MS_UNIT_NANO, "UTC"), "val_to_add",
                 col_str(tv, NE), NULL);
  req.entity_table = ent;
  req.feature_refs = refs;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_TYPE);
  CHECK_MSG(strstr(msg, "'val_to_add' is utf8") != NULL, "%s", msg);
  ms_table_release(ent);
  ent = entity_table(&f, true);
  req.entity_table = ent;
  const char *refs_coll[] = {"transformed_conv_rate:conv_rate_plus_100", "transformed_conv_rate:conv_rate_plus_100"};
  req.feature_refs = refs_coll;
  req.n_feature_refs = 2;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_INVALID);
  CHECK_MSG(strstr(msg, "requested twice") != NULL, "%s", msg);
  ms_table_release(ent);
  ms_repo_free(r);
}

/* An output name equal to a feature of a joined view collides unless full names are on. */
static void test_odfv_collision(void) {
  make_repo("odfv_coll", NULL,
            "entities:\n  - name: driver\n    join_keys: [driver_id]\n"
            "sources:\n  - name: s\n    path: data/s.parquet\n    timestamp_field: event_timestamp\n"
            "feature_views:\n  - name: fv\n    entities: [driver]\n    source: s\n"
            "    schema:\n      - {name: x, dtype: int64}\n"
            "on_demand_feature_views:\n  - name: od\n    sources: [fv]\n"
            "    schema:\n      - {name: x, dtype: int64, expression: fv.x + 1}\n"
            "      - {name: y, dtype: int32, expression: \"coalesce(x, -1) * 2\"}\n");
  int64_t id[] = {1, 2}, ts[] = {T("2024-01-01"), T("2024-01-01")}, x[] = {10, NUL};
  write_pq(repo_path("data/s.parquet"),
           mk_table("driver_id", col_i64(id, 2), "event_timestamp", col_ts(ts, 2, MS_UNIT_NANO, "UTC"), "x", col_i64(x, 2), NULL),
           0);
  ms_repo *r = load(g_dir);
  CHECK(r);
  int64_t eid[] = {2, 1, 3}, ets[] = {T("2024-01-02"), T("2024-01-02"), T("2024-01-02")};
  ms_table *ent = mk_table("driver_id", col_i64(eid, 3), "event_timestamp", col_ts(ets, 3, MS_UNIT_NANO, "UTC"), NULL);
  const char *refs[] = {"fv:x", "od:x"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 2;
  req.entity_table = ent;
  char msg[1024];
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_INVALID);
  CHECK_MSG(strstr(msg, "'x' from fv:x, od:x") != NULL, "%s", msg);
  req.full_feature_names = true;
  ms_table *out = hist(r, &req);
  CHECK(out);
  int64_t want_fv[] = {NUL, 10, NUL}, want_od[] = {NUL, 11, NUL};
  CHECK(col_is_i64(out, "fv__x", want_fv, 3));
  CHECK(col_is_i64(out, "od__x", want_od, 3));
  ms_table_release(out);
  /* Without the source feature requested: the hidden input does not collide; int64 ->
   * int32 cast; coalesce turns an unmatched row's null into a value. */
  const char *refs2[] = {"od:x", "od:y"};
  req.feature_refs = refs2;
  req.full_feature_names = false;
  out = hist(r, &req);
  CHECK(out);
  const char *names[] = {"driver_id", "event_timestamp", "x", "y"};
  CHECK(names_are(out, names, 4));
  int64_t want_y[] = {-2, 20, -2};
  CHECK(col_is_i64(out, "x", want_od, 3));
  CHECK(col_is_i64(out, "y", want_y, 3));
  CHECK(ms_table_field(out, 3)->type.id == MS_TYPE_INT32);
  ms_table_release(out);
  ms_table_release(ent);
  ms_repo_free(r);
}

MS_TEST_MAIN(MS_TEST(test_feast_transformed_conv_rate), MS_TEST(test_odfv_errors), MS_TEST(test_odfv_collision))
