/* Offline store tests (include/morsel/offline.h): tiny repositories written into a temp
 * directory (feature_store.yaml, definitions, Parquet and CSV sources), requests planned and
 * run through the public API, outputs compared cell by cell with hand-computed answers:
 * the worked cases, backfill and created-filter cases, Feast's mixed-time-zone and
 * entity-less vectors, several views with different keys, a view without entities,
 * field_mapping, a feature service joining one view twice (alias + join_key_map),
 * duplicate entity rows, null keys, types kept, pull_latest / pull_all, the planning
 * errors, pruning that changes nothing, thread-count independence, the memory limit,
 * writing, Arrow export, explain and metadata. */
#include "offline_fixture.h"

/* ---------------- the worked cases ---------------- */

static const char *k_customer_defs =
    "entities:\n"
    "  - name: customer\n    join_keys: [customer_id]\n"
    "sources:\n"
    "  - name: src\n    path: data/f.parquet\n    timestamp_field: event_timestamp\n"
    "    created_timestamp_column: created\n"
    "feature_views:\n"
    "  - name: fv\n    entities: [customer]\n    ttl: %s\n    source: src\n"
    "    schema:\n      - {name: f, dtype: int64}\n";

static ms_repo *customer_repo(const char *tag, const char *ttl, ms_table *src) {
  char defs[2048];
  snprintf(defs, sizeof defs, k_customer_defs, ttl);
  make_repo(tag, NULL, defs);
  write_pq(repo_path("data/f.parquet"), src, 0);
  return load(g_dir);
}

static void test_worked_cases(void) {
  int64_t id[] = {1, 1, 1, 2, 3, 3};
  int64_t ts[] = {T("2023-12-31"), T("2024-01-02"), T("2024-01-03"), T("2023-01-03"), T("2024-01-01"), T("2024-01-01")};
  int64_t cr[] = {T("2023-12-31"), T("2024-01-02"), T("2024-01-03"), NUL, T("2024-01-03"), T("2024-01-02")};
  int64_t f[] = {11, 22, 33, 22, 10, 20};
  ms_table *src = mk_table("customer_id", col_i64(id, 6), "event_timestamp", col_ts(ts, 6, MS_UNIT_MICRO, "UTC"),
                           "created", col_ts(cr, 6, MS_UNIT_MICRO, "UTC"), "f", col_i64(f, 6), NULL);
  ms_repo *r = customer_repo("worked", "10d", src);
  CHECK(r);
  int64_t eid[] = {1, 1, 2, 3};
  int64_t ets[] = {T("2024-01-01"), T("2024-01-02"), T("2024-01-01"), T("2024-01-03")};
  ms_table *ent = mk_table("customer_id", col_i64(eid, 4), "event_timestamp", col_ts(ets, 4, MS_UNIT_NANO, ""), NULL);
  const char *refs[] = {"fv:f"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 1;
  req.entity_table = ent;
  ms_table *out = hist(r, &req);
  CHECK(out);
  const char *names[] = {"customer_id", "event_timestamp", "f"};
  CHECK(names_are(out, names, 3));
  int64_t want[] = {11, 22, NUL, 10};
  CHECK(col_is_i64(out, "f", want, 4));
  CHECK(ms_table_field(out, 2)->type.id == MS_TYPE_INT64);
  /* Entity columns unchanged (same column objects' values and types). */
  CHECK(ms_column_equal(ms_table_column(out, 1), ms_table_column(ent, 1)));
  ms_table_release(out);
  /* Full feature names. */
  req.full_feature_names = true;
  out = hist(r, &req);
  CHECK(out);
  CHECK(ms_table_find_column(out, "fv__f") == 2);
  ms_table_release(out);
  ms_table_release(ent);
  ms_repo_free(r);
}

static void test_backfill(void) {
  int64_t t0 = T("2024-01-01");
  int64_t id[] = {1001, 1001, 1002, 1002};
  int64_t ts[] = {t0, t0, t0, t0 + DAY};
  int64_t cr[] = {t0, t0 + DAY, t0 + DAY, t0};
  int64_t f[] = {10, 20, 30, 40};
  ms_table *src = mk_table("customer_id", col_i64(id, 4), "event_timestamp", col_ts(ts, 4, MS_UNIT_MILLI, ""),
                           "created", col_ts(cr, 4, MS_UNIT_MILLI, ""), "f", col_i64(f, 4), NULL);
  ms_repo *r = customer_repo("backfill", "0s", src);
  CHECK(r);
  int64_t eid[] = {1001, 1002};
  int64_t ets[] = {t0 + 2 * DAY, t0 + 2 * DAY};
  ms_table *ent = mk_table("customer_id", col_i64(eid, 2), "event_timestamp", col_ts(ets, 2, MS_UNIT_NANO, "UTC"), NULL);
  const char *refs[] = {"fv:f"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 1;
  req.entity_table = ent;
  ms_table *out = hist(r, &req);
  CHECK(out);
  int64_t want[] = {20, 40};
  CHECK(col_is_i64(out, "f", want, 2));
  ms_table_release(out);
  ms_table_release(ent);
  ms_repo_free(r);
}

static void test_created_filter(void) {
  int64_t t0 = T("2024-01-01");
  int64_t id[] = {1001, 1002, 1001, 1002, 1003};
  int64_t ts[] = {t0, t0, t0, t0, t0};
  int64_t cr[] = {t0, t0, t0 + 2 * DAY, t0 + 2 * DAY, t0 + 2 * DAY};
  int64_t f[] = {10, 30, 20, 40, 50};
  ms_table *src = mk_table("customer_id", col_i64(id, 5), "event_timestamp", col_ts(ts, 5, MS_UNIT_NANO, ""),
                           "created", col_ts(cr, 5, MS_UNIT_NANO, ""), "f", col_i64(f, 5), NULL);
  ms_repo *r = customer_repo("created", "0s", src);
  CHECK(r);
  int64_t eid[] = {1001, 1002, 1003};
  int64_t ets[] = {t0 + DAY, t0 + DAY, t0 + DAY};
  ms_table *ent = mk_table("customer_id", col_i64(eid, 3), "event_timestamp", col_ts(ets, 3, MS_UNIT_NANO, ""), NULL);
  const char *refs[] = {"fv:f"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 1;
  req.entity_table = ent;
  ms_table *out = hist(r, &req);
  CHECK(out);
  int64_t want_default[] = {20, 40, 50};
  CHECK(col_is_i64(out, "f", want_default, 3));
  ms_table_release(out);
  req.filter_by_created_timestamp = true;
  out = hist(r, &req);
  CHECK(out);
  int64_t want_filtered[] = {10, 30, NUL};
  CHECK(col_is_i64(out, "f", want_filtered, 3));
  ms_table_release(out);
  ms_table_release(ent);
  ms_repo_free(r);
}

/* Spec 2.3 D: one source with naive, Berlin and Pacific timestamps (a CSV column mixing
 * naive and offset text), ttl 52 weeks; the entity times are Pacific-aware. */
static void test_mixed_time_zones(void) {
  make_repo("mixedtz", NULL,
            "entities:\n  - name: driver\n    join_keys: [driver_id]\n"
            "sources:\n  - name: s\n    path: data/d.csv\n    file_format: csv\n    timestamp_field: ts\n"
            "feature_views:\n  - name: dv\n    entities: [driver]\n    ttl: 364d\n    source: s\n"
            "    schema:\n      - {name: value, dtype: float64}\n");
  /* t = 2024-05-01T12:00Z */
  write_text(repo_path("data/d.csv"),
             "driver_id,value,ts\n"
             "1,0.1,2024-05-01T08:00:00\n"
             "2,,2024-05-01T12:00:00\n"
             "1,0.3,2024-05-01T09:00:00\n"
             "3,4,2024-05-01T10:00:00+02:00\n"
             "3,5,2024-05-01T04:00:00-07:00\n");
  write_text(repo_path("data/e.csv"),
             "driver_id,event_timestamp\n"
             "1,2024-05-01T03:59:59-07:00\n"
             "2,2024-05-01T03:59:59-07:00\n"
             "3,2024-05-01T03:59:59-07:00\n"
             "3,2024-05-01T05:00:00-07:00\n");
  ms_repo *r = load(g_dir);
  CHECK(r);
  const char *refs[] = {"dv:value"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 1;
  req.entity_path = repo_path("data/e.csv");
  ms_table *out = hist(r, &req);
  CHECK(out);
  double want[] = {0.3, NAN, 4, 5};
  CHECK(col_is_f64(out, "value", want, 4));
  ms_table_release(out);
  /* A mixed naive/aware entity timestamp column: naive is UTC. */
  write_text(repo_path("data/e2.csv"),
             "driver_id,event_timestamp\n"
             "1,2024-05-01T10:59:59\n"
             "3,2024-05-01T03:59:59-07:00\n"
             "3,2024-05-01T12:00:00\n");
  req.entity_path = repo_path("data/e2.csv");
  out = hist(r, &req);
  CHECK(out);
  double want2[] = {0.3, 4, 5};
  CHECK(col_is_f64(out, "value", want2, 3));
  ms_table_release(out);
  ms_repo_free(r);
}

/* Spec 2.3 E, in entity-less mode: ttl 1 day, end 2025-01-02T10Z. */
static void test_entityless(void) {
  make_repo("entityless", NULL,
            "entities:\n  - name: driver\n    join_keys: [driver_id]\n"
            "sources:\n  - name: s\n    path: data/d.parquet\n    timestamp_field: ts\n    created_timestamp_column: created\n"
            "feature_views:\n  - name: dv\n    entities: [driver]\n    ttl: 1d\n    source: s\n"
            "    schema:\n      - {name: value, dtype: float64}\n");
  int64_t id[] = {1, 1, 1, 2, 2};
  int64_t ts[] = {T("2025-01-01T10:00:00Z"), T("2025-01-01T10:00:00Z"), T("2024-12-30T10:00:00Z"),
                  T("2025-01-01T12:00:00Z"), T("2025-01-02T11:00:00Z")};
  int64_t cr[] = {T("2025-01-01T10:01:00Z"), T("2025-01-01T10:02:00Z"), T("2024-12-30T10:00:00Z"),
                  T("2025-01-01T12:00:00Z"), T("2025-01-02T11:00:00Z")};
  double v[] = {0.1, 0.2, 0.9, 0.3, 0.7};
  write_pq(repo_path("data/d.parquet"),
           mk_table("driver_id", col_i64(id, 5), "ts", col_ts(ts, 5, MS_UNIT_MICRO, "UTC"), "created",
                    col_ts(cr, 5, MS_UNIT_MICRO, "UTC"), "value", col_f64(v, 5), NULL),
           0);
  ms_repo *r = load(g_dir);
  CHECK(r);
  const char *refs[] = {"dv:value"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 1;
  req.has_start = req.has_end = true;
  req.start_ns = T("2025-01-01T00:00:00Z");
  req.end_ns = T("2025-01-02T10:00:00Z");
  ms_table *out = hist(r, &req);
  CHECK(out);
  const char *names[] = {"driver_id", "event_timestamp", "value"};
  CHECK(names_are(out, names, 3));
  int64_t want_id[] = {1, 2};
  int64_t want_ts[] = {T("2025-01-01T10:00:00Z"), T("2025-01-01T12:00:00Z")};
  double want_v[] = {0.2, 0.3};
  CHECK(col_is_i64(out, "driver_id", want_id, 2));
  CHECK(col_is_i64(out, "event_timestamp", want_ts, 2));
  CHECK(col_is_f64(out, "value", want_v, 2));
  CHECK(strcmp(ms_table_field(out, 1)->type.tz, "UTC") == 0);
  ms_table_release(out);
  /* A wider range takes the 12-30 row as its own entity row (it is its own answer). */
  req.start_ns = T("2024-12-01T00:00:00Z");
  out = hist(r, &req);
  CHECK(out);
  int64_t want_id2[] = {1, 1, 2};
  double want_v2[] = {0.9, 0.2, 0.3};
  CHECK(col_is_i64(out, "driver_id", want_id2, 3));
  CHECK(col_is_f64(out, "value", want_v2, 3));
  ms_table_release(out);
  ms_repo_free(r);
}

/* Several views with different keys, one without entities; field_mapping on one. */
static const char *k_multi_defs =
    "entities:\n"
    "  - name: customer\n    join_keys: [customer_id]\n"
    "  - name: driver\n    join_keys: [driver_id]\n"
    "sources:\n"
    "  - name: cs\n    path: data/c.parquet\n    timestamp_field: ts_raw\n"
    "    created_timestamp_column: cr_raw\n"
    "    field_mapping: {cust: customer_id, spend_raw: spend, ts_raw: ts, cr_raw: created}\n"
    "  - name: ds\n    path: data/d.csv\n    file_format: csv\n    timestamp_field: event_timestamp\n"
    "  - name: gs\n    path: data/g.parquet\n    timestamp_field: ts\n"
    "feature_views:\n"
    "  - name: cv\n    entities: [customer]\n    ttl: 0s\n    source: cs\n"
    "    schema:\n      - {name: spend, dtype: float64}\n      - {name: tier, dtype: string}\n"
    "  - name: dv\n    entities: [driver]\n    ttl: 2d\n    source: ds\n"
    "    schema:\n      - {name: rating, dtype: int64}\n"
    "  - name: gv\n    ttl: 0s\n    source: gs\n"
    "    schema:\n      - {name: temp, dtype: int32}\n";

static void test_multi_views(void) {
  make_repo("multi", NULL, k_multi_defs);
  int64_t cust[] = {1, 2, 1, NUL};
  int64_t cts[] = {T("2024-01-01"), T("2024-01-01"), T("2024-01-05"), T("2024-01-01")};
  int64_t ccr[] = {NUL, NUL, NUL, NUL};
  double spend[] = {1.5, 2.5, 3.5, 9.9};
  const char *tier[] = {"a", NULL, "c", "z"};
  write_pq(repo_path("data/c.parquet"),
           mk_table("cust", col_i64(cust, 4), "ts_raw", col_ts(cts, 4, MS_UNIT_SECOND, ""), "cr_raw",
                    col_ts(ccr, 4, MS_UNIT_SECOND, ""), "spend_raw", col_f64(spend, 4), "tier", col_str(tier, 4), NULL),
           0);
  write_text(repo_path("data/d.csv"),
             "driver_id,event_timestamp,rating\n"
             "7,2024-01-01T00:00:00Z,5\n"
             "8,2024-01-02T00:00:00Z,\n"
             "7,2024-01-03T00:00:00Z,4\n");
  int64_t gts[] = {T("2024-01-01"), T("2024-01-04")};
  int64_t temp[] = {20, NUL};
  write_pq(repo_path("data/g.parquet"),
           mk_table("ts", col_ts(gts, 2, MS_UNIT_MILLI, "UTC"), "temp", col_int(MS_TYPE_INT32, temp, 2), NULL), 0);
  ms_repo *r = load(g_dir);
  CHECK(r);
  /* Entity rows: duplicates, a null key, an unknown key, the same ts twice. */
  int64_t ec[] = {1, 1, 2, NUL, 3, 1};
  int64_t ed[] = {7, 7, 8, 7, 9, 7};
  int64_t et[] = {T("2024-01-04"), T("2024-01-04"), T("2024-01-02"), T("2024-01-03"), T("2024-01-05"), T("2024-01-06")};
  const char *lab[] = {"x", "x", "y", "z", "w", "v"};
  ms_table *ent = mk_table("label", col_str(lab, 6), "customer_id", col_i64(ec, 6), "driver_id", col_i64(ed, 6),
                           "event_timestamp", col_ts(et, 6, MS_UNIT_MICRO, ""), NULL);
  const char *refs[] = {"dv:rating", "cv:tier", "gv:temp", "cv:spend"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 4;
  req.entity_table = ent;
  ms_table *out = hist(r, &req);
  CHECK(out);
  /* Views in order of first appearance, features in request order within a view. */
  const char *names[] = {"label", "customer_id", "driver_id", "event_timestamp", "rating", "tier", "spend", "temp"};
  CHECK(names_are(out, names, 8));
  /* dv ttl 2d: row0 (7, 01-04) -> 01-03 rating 4; row2 (8, 01-02) -> null value row; row3
   * (7, 01-03) -> 4; row4 driver 9 unknown; row5 (7, 01-06): 01-03 is 3 days old -> null. */
  int64_t want_rating[] = {4, 4, NUL, 4, NUL, NUL};
  CHECK(col_is_i64(out, "rating", want_rating, 6));
  double want_spend[] = {1.5, 1.5, 2.5, NAN, NAN, 3.5};
  CHECK(col_is_f64(out, "spend", want_spend, 6));
  int tc = ms_table_find_column(out, "tier");
  CHECK(ms_column_is_null(ms_table_column(out, tc), 2) && ms_column_is_null(ms_table_column(out, tc), 3));
  int64_t len = 0;
  const uint8_t *b = ms_column_get_bytes(ms_table_column(out, tc), 5, &len);
  CHECK(len == 1 && b[0] == 'c');
  /* gv: time only. 01-04 -> null (the 01-04 row has a null temp), 01-02 -> 20, ... */
  int64_t want_temp[] = {NUL, NUL, 20, 20, NUL, NUL};
  CHECK(col_is_i64(out, "temp", want_temp, 6));
  CHECK(ms_table_field(out, 7)->type.id == MS_TYPE_INT32);
  ms_table_release(out);
  ms_table_release(ent);
  ms_repo_free(r);
}

/* A feature service joins one view twice under aliases with join_key_map. */
static void test_service_alias(void) {
  make_repo("alias", NULL,
            "entities:\n  - name: location\n    join_keys: [location_id]\n"
            "sources:\n  - name: s\n    path: data/w.parquet\n    timestamp_field: ts\n"
            "feature_views:\n  - name: weather\n    entities: [location]\n    ttl: 0s\n    source: s\n"
            "    schema:\n      - {name: temperature, dtype: int64}\n      - {name: wind, dtype: int64}\n"
            "feature_services:\n"
            "  - name: trip\n    features:\n"
            "      - feature_view: weather\n        features: [temperature]\n        alias: origin\n"
            "        join_key_map: {location_id: origin_id}\n"
            "      - feature_view: weather\n        features: [temperature]\n        alias: destination\n"
            "        join_key_map: {location_id: destination_id}\n"
            "  - name: all_weather\n    features:\n      - weather\n");
  int64_t loc[] = {1, 2, 1};
  int64_t ts[] = {T("2024-01-01"), T("2024-01-01"), T("2024-01-03")};
  int64_t temp[] = {10, 20, 11};
  int64_t wind[] = {5, 6, NUL};
  write_pq(repo_path("data/w.parquet"),
           mk_table("location_id", col_i64(loc, 3), "ts", col_ts(ts, 3, MS_UNIT_NANO, ""), "temperature",
                    col_i64(temp, 3), "wind", col_i64(wind, 3), NULL),
           0);
  ms_repo *r = load(g_dir);
  CHECK(r);
  int64_t o[] = {1, 2};
  int64_t d[] = {2, 1};
  int64_t et[] = {T("2024-01-02"), T("2024-01-04")};
  ms_table *ent = mk_table("origin_id", col_i64(o, 2), "destination_id", col_i64(d, 2), "event_timestamp",
                           col_ts(et, 2, MS_UNIT_NANO, ""), NULL);
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_service = "trip";
  req.entity_table = ent;
  char msg[1024];
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_INVALID);
  CHECK_MSG(strstr(msg, "origin:temperature") && strstr(msg, "destination:temperature"), "%s", msg);
  req.full_feature_names = true;
  ms_table *out = hist(r, &req);
  CHECK(out);
  const char *names[] = {"origin_id", "destination_id", "event_timestamp", "origin__temperature",
                         "destination__temperature"};
  CHECK(names_are(out, names, 5));
  int64_t want_o[] = {10, 20};
  int64_t want_d[] = {20, 11};
  CHECK(col_is_i64(out, "origin__temperature", want_o, 2));
  CHECK(col_is_i64(out, "destination__temperature", want_d, 2));
  const ms_retrieval_metadata *md = NULL;
  ms_retrieval_job *job = NULL;
  ms_error err;
  CHECK_OK(ms_get_historical_features(r, &req, &job, &err), &err);
  md = ms_retrieval_job_metadata(job);
  CHECK(md->n_features == 2 && strcmp(md->features[0], "origin:temperature") == 0);
  CHECK(md->n_join_keys == 2 && strcmp(md->join_keys[1], "destination_id") == 0);
  CHECK(md->n_views == 1 && strcmp(md->view_names[0], "weather") == 0 && strlen(md->view_hashes[0]) >= 16);
  CHECK(md->min_event_ns == et[0] && md->max_event_ns == et[1]);
  ms_retrieval_job_free(job);
  ms_table_release(out);
  /* A service item without a feature list: every feature of the view. */
  int64_t l[] = {1};
  int64_t lt[] = {T("2024-01-02")};
  ms_table *ent2 = mk_table("location_id", col_i64(l, 1), "event_timestamp", col_ts(lt, 1, MS_UNIT_NANO, ""), NULL);
  req.feature_service = "all_weather";
  req.entity_table = ent2;
  req.full_feature_names = false;
  out = hist(r, &req);
  CHECK(out);
  const char *names2[] = {"location_id", "event_timestamp", "temperature", "wind"};
  CHECK(names_are(out, names2, 4));
  ms_table_release(out);
  ms_table_release(ent2);
  ms_table_release(ent);
  ms_repo_free(r);
}

/* Timestamps keep unit and zone in the output; a seconds-unit source compares exactly with
 * nanosecond entity times (nothing floored). */
static void test_types_kept(void) {
  make_repo("types", NULL,
            "entities:\n  - name: customer\n    join_keys: [customer_id]\n"
            "sources:\n  - name: s\n    path: data/t.parquet\n    timestamp_field: ts\n"
            "feature_views:\n  - name: tv\n    entities: [customer]\n    ttl: 0s\n    source: s\n"
            "    schema:\n      - {name: seen, dtype: timestamp}\n      - {name: n, dtype: int32}\n");
  int64_t id[] = {1, 1};
  int64_t ts[] = {T("2024-01-01T00:00:01Z"), T("2024-01-01T00:00:02Z")};
  int64_t seen[] = {T("2023-06-01T01:02:03.004Z"), NUL};
  int64_t n[] = {NUL, 7};
  write_pq(repo_path("data/t.parquet"),
           mk_table("customer_id", col_i64(id, 2), "ts", col_ts(ts, 2, MS_UNIT_SECOND, ""), "seen",
                    col_ts(seen, 2, MS_UNIT_MILLI, "UTC"), "n", col_int(MS_TYPE_INT32, n, 2), NULL),
           0);
  ms_repo *r = load(g_dir);
  CHECK(r);
  int64_t eid[] = {1, 1, 1};
  /* 1 ns before the second row's time: the first row wins. */
  int64_t et[] = {T("2024-01-01T00:00:01.999999999Z"), T("2024-01-01T00:00:02Z"), T("2024-01-01T00:00:00.5Z")};
  ms_table *ent = mk_table("customer_id", col_i64(eid, 3), "event_timestamp", col_ts(et, 3, MS_UNIT_NANO, "UTC"), NULL);
  const char *refs[] = {"tv:seen", "tv:n"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 2;
  req.entity_table = ent;
  ms_table *out = hist(r, &req);
  CHECK(out);
  const ms_datatype *st = &ms_table_field(out, 2)->type;
  CHECK(st->id == MS_TYPE_TIMESTAMP && st->unit == MS_UNIT_MILLI && strcmp(st->tz, "UTC") == 0);
  int64_t want_seen[] = {seen[0] / 1000000, NUL, NUL};
  CHECK(col_is_i64(out, "seen", want_seen, 3));
  int64_t want_n[] = {NUL, 7, NUL};
  CHECK(col_is_i64(out, "n", want_n, 3));
  CHECK(ms_table_field(out, 3)->type.id == MS_TYPE_INT32);
  ms_table_release(out);
  ms_table_release(ent);
  ms_repo_free(r);
}

/* A source whose timestamp column is a date (date32): midnight UTC, the pre-filter range
 * in days rounded inwards, the ttl bound exact. */
static void test_date_timestamps(void) {
  make_repo("datets", NULL,
            "entities:\n  - name: customer\n    join_keys: [customer_id]\n"
            "sources:\n  - name: s\n    path: data/d.csv\n    timestamp_field: day\n"
            "feature_views:\n  - name: dv\n    entities: [customer]\n    ttl: 1d\n    source: s\n"
            "    schema:\n      - {name: f, dtype: int64}\n");
  write_text(repo_path("data/d.csv"), "customer_id,day,f\n1,2024-01-01,1\n1,2024-01-02,2\n1,2024-01-04,4\n");
  ms_repo *r = load(g_dir);
  CHECK(r);
  int64_t eid[] = {1, 1, 1, 1, 1};
  int64_t et[] = {T("2024-01-02T00:00:00Z"), T("2024-01-01T23:59:59.999999999Z"), T("2024-01-03T00:00:00Z"),
                  T("2024-01-03T00:00:00.000000001Z"), T("2024-01-05T12:00:00Z")};
  ms_table *ent = mk_table("customer_id", col_i64(eid, 5), "event_timestamp", col_ts(et, 5, MS_UNIT_NANO, "UTC"), NULL);
  const char *refs[] = {"dv:f"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 1;
  req.entity_table = ent;
  ms_table *out = hist(r, &req);
  CHECK(out);
  int64_t want[] = {2, 1, 2, NUL, NUL}; /* 01-04 is 1.5 days before 01-05T12 */
  CHECK(col_is_i64(out, "f", want, 5));
  ms_table_release(out);
  ms_table_release(ent);
  ms_repo_free(r);
}

/* ---------------- pull ---------------- */

static void test_pull(void) {
  make_repo("pull", NULL,
            "entities:\n  - name: customer\n    join_keys: [customer_id]\n"
            "sources:\n  - name: s\n    path: data/p.parquet\n    timestamp_field: ts\n    created_timestamp_column: cr\n"
            "    field_mapping: {cid: customer_id}\n"
            "  - name: g\n    path: data/g.csv\n    timestamp_field: ts\n"
            "feature_views:\n  - name: pv\n    entities: [customer]\n    ttl: 0s\n    source: s\n"
            "    schema:\n      - {name: f, dtype: int64}\n"
            "  - name: gv\n    source: g\n    schema:\n      - {name: x, dtype: int64}\n");
  int64_t t0 = T("2024-01-01");
  int64_t id[] = {1, 2, 1, 1, 2, NUL, 3};
  int64_t ts[] = {t0, t0 + DAY, t0 + DAY, t0 + DAY, t0, t0, t0 + 5 * DAY};
  int64_t cr[] = {t0, t0, NUL, t0, t0, t0, t0};
  int64_t f[] = {1, 2, 3, 4, 5, 6, 7};
  write_pq(repo_path("data/p.parquet"),
           mk_table("cid", col_i64(id, 7), "ts", col_ts(ts, 7, MS_UNIT_MICRO, "UTC"), "cr",
                    col_ts(cr, 7, MS_UNIT_MICRO, "UTC"), "f", col_i64(f, 7), NULL),
           0);
  write_text(repo_path("data/g.csv"), "ts,x\n2024-01-02,1\n2024-01-01,2\n2024-01-02,3\n");
  ms_repo *r = load(g_dir);
  CHECK(r);
  ms_pull_request pr;
  ms_pull_request_init(&pr);
  pr.mode = MS_PULL_LATEST;
  pr.feature_view = "pv";
  pr.has_end = true;
  pr.end_ns = t0 + 2 * DAY;
  ms_retrieval_job *job = NULL;
  ms_error err;
  CHECK_OK(ms_pull(r, &pr, &job, &err), &err);
  ms_table *out = NULL;
  CHECK_OK(ms_retrieval_job_to_table(job, &out, &err), &err);
  ms_retrieval_job_free(job);
  const char *names[] = {"customer_id", "f", "ts", "cr"};
  CHECK(names_are(out, names, 4));
  /* Latest per key: null key -> row 5 (t0); key 1 -> row 3 (t0+1d, created beats null);
   * key 2 -> row 1 (t0+1d). Ordered by ts, then source order; key 3 is out of range. */
  int64_t want_id[] = {NUL, 2, 1};
  int64_t want_f[] = {6, 2, 4};
  CHECK(col_is_i64(out, "customer_id", want_id, 3));
  CHECK(col_is_i64(out, "f", want_f, 3));
  ms_table_release(out);
  /* pull_all, start bound inclusive. */
  pr.mode = MS_PULL_ALL;
  pr.has_start = true;
  pr.start_ns = t0 + DAY;
  pr.end_ns = t0 + 5 * DAY;
  CHECK_OK(ms_pull(r, &pr, &job, &err), &err);
  CHECK_OK(ms_retrieval_job_to_table(job, &out, &err), &err);
  ms_retrieval_job_free(job);
  int64_t want_all[] = {2, 3, 4, 7};
  CHECK(col_is_i64(out, "f", want_all, 4));
  ms_table_release(out);
  /* No join keys: the single latest row (a tie on ts goes to the later row). */
  ms_pull_request_init(&pr);
  pr.mode = MS_PULL_LATEST;
  pr.feature_view = "gv";
  CHECK_OK(ms_pull(r, &pr, &job, &err), &err);
  CHECK_OK(ms_retrieval_job_to_table(job, &out, &err), &err);
  ms_retrieval_job_free(job);
  const char *gnames[] = {"x", "ts"};
  CHECK(names_are(out, gnames, 2));
  int64_t want_x[] = {3};
  CHECK(col_is_i64(out, "x", want_x, 1));
  ms_table_release(out);
  /* A source alone, pull_all: every non-timestamp column, ordered by ts (stable). */
  ms_pull_request_init(&pr);
  pr.mode = MS_PULL_ALL;
  pr.source = "g";
  CHECK_OK(ms_pull(r, &pr, &job, &err), &err);
  CHECK_OK(ms_retrieval_job_to_table(job, &out, &err), &err);
  ms_retrieval_job_free(job);
  int64_t want_x2[] = {2, 1, 3};
  CHECK(col_is_i64(out, "x", want_x2, 3));
  ms_table_release(out);
  /* Empty range. */
  ms_pull_request_init(&pr);
  pr.mode = MS_PULL_LATEST;
  pr.feature_view = "pv";
  pr.has_end = true;
  pr.end_ns = t0 - DAY;
  CHECK_OK(ms_pull(r, &pr, &job, &err), &err);
  CHECK_OK(ms_retrieval_job_to_table(job, &out, &err), &err);
  ms_retrieval_job_free(job);
  CHECK(ms_table_num_rows(out) == 0 && ms_table_num_columns(out) == 4);
  ms_table_release(out);
  /* Feature selection: none = join keys and timestamps only; the rows are the same. */
  ms_pull_request_init(&pr);
  pr.mode = MS_PULL_LATEST;
  pr.feature_view = "pv";
  pr.has_end = true;
  pr.end_ns = t0 + 2 * DAY;
  pr.select_features = true;
  CHECK_OK(ms_pull(r, &pr, &job, &err), &err);
  CHECK_OK(ms_retrieval_job_to_table(job, &out, &err), &err);
  ms_retrieval_job_free(job);
  const char *kn[] = {"customer_id", "ts", "cr"};
  CHECK(names_are(out, kn, 3));
  CHECK(col_is_i64(out, "customer_id", want_id, 3));
  ms_table_release(out);
  const char *sel_f[] = {"f"};
  pr.features = sel_f;
  pr.n_features = 1;
  CHECK_OK(ms_pull(r, &pr, &job, &err), &err);
  CHECK_OK(ms_retrieval_job_to_table(job, &out, &err), &err);
  ms_retrieval_job_free(job);
  CHECK(names_are(out, names, 4));
  CHECK(col_is_i64(out, "f", want_f, 3));
  ms_table_release(out);
  /* Unknown and repeated names fail at planning. */
  const char *sel_bad[] = {"g"};
  pr.features = sel_bad;
  ms_error_init(&err);
  CHECK(ms_pull(r, &pr, &job, &err) == MS_ERR_NOT_FOUND && !job);
  CHECK(strstr(err.message, "no feature 'g'") != NULL);
  const char *sel_dup[] = {"f", "f"};
  pr.features = sel_dup;
  pr.n_features = 2;
  CHECK(ms_pull(r, &pr, &job, &err) == MS_ERR_INVALID && !job);
  /* A source alone: a subset in request order, or none. */
  write_text(repo_path("data/g2.csv"), "ts,x,y,z\n2024-01-02,1,10,100\n2024-01-01,2,20,200\n");
  ms_repo_free(r);
  make_repo("pull", NULL,
            "sources:\n  - name: g\n    path: data/g2.csv\n    timestamp_field: ts\n");
  r = load(g_dir);
  CHECK(r);
  ms_pull_request_init(&pr);
  pr.mode = MS_PULL_ALL;
  pr.source = "g";
  pr.select_features = true;
  const char *sel_zx[] = {"z", "x"};
  pr.features = sel_zx;
  pr.n_features = 2;
  CHECK_OK(ms_pull(r, &pr, &job, &err), &err);
  CHECK_OK(ms_retrieval_job_to_table(job, &out, &err), &err);
  ms_retrieval_job_free(job);
  const char *zxn[] = {"z", "x", "ts"};
  CHECK(names_are(out, zxn, 3));
  int64_t want_z[] = {200, 100};
  CHECK(col_is_i64(out, "z", want_z, 2));
  ms_table_release(out);
  pr.n_features = 0;
  CHECK_OK(ms_pull(r, &pr, &job, &err), &err);
  CHECK_OK(ms_retrieval_job_to_table(job, &out, &err), &err);
  ms_retrieval_job_free(job);
  CHECK(ms_table_num_columns(out) == 1 && ms_table_num_rows(out) == 2);
  ms_table_release(out);
  const char *sel_q[] = {"q"};
  pr.features = sel_q;
  pr.n_features = 1;
  CHECK(ms_pull(r, &pr, &job, &err) == MS_ERR_NOT_FOUND && !job);
  CHECK(strstr(err.message, "(it has: x, y, z)") != NULL);
  ms_repo_free(r);
}

/* ---------------- errors ---------------- */

static void test_errors(void) {
  make_repo("errors", NULL, k_multi_defs);
  int64_t cust[] = {1};
  int64_t cts[] = {T("2024-01-01")};
  double spend[] = {1};
  const char *tier[] = {"a"};
  write_pq(repo_path("data/c.parquet"),
           mk_table("cust", col_i64(cust, 1), "ts_raw", col_ts(cts, 1, MS_UNIT_SECOND, ""), "cr_raw",
                    col_ts(cts, 1, MS_UNIT_SECOND, ""), "spend_raw", col_f64(spend, 1), "tier", col_str(tier, 1), NULL),
           0);
  write_text(repo_path("data/d.csv"), "driver_id,event_timestamp,rating,spend\n7,2024-01-01T00:00:00Z,5,1\n");
  write_pq(repo_path("data/g.parquet"),
           mk_table("ts", col_ts(cts, 1, MS_UNIT_MILLI, "UTC"), "temp", col_int(MS_TYPE_INT32, cust, 1), NULL), 0);
  ms_repo *r = load(g_dir);
  CHECK(r);
  int64_t x[] = {1};
  ms_table *ent = mk_table("other", col_i64(x, 1), "event_timestamp", col_ts(cts, 1, MS_UNIT_NANO, ""), NULL);
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.entity_table = ent;
  char msg[1024];
  /* Missing entity columns: all listed at once. */
  const char *r1[] = {"cv:spend", "dv:rating"};
  req.feature_refs = r1;
  req.n_feature_refs = 2;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_INVALID);
  CHECK_MSG(strstr(msg, "customer_id") && strstr(msg, "driver_id"), "%s", msg);
  /* Unknown view, unknown feature. */
  const char *r2[] = {"nope:spend"};
  req.feature_refs = r2;
  req.n_feature_refs = 1;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_NOT_FOUND);
  CHECK_MSG(strstr(msg, "nope"), "%s", msg);
  const char *r3[] = {"cv:nothing"};
  req.feature_refs = r3;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_NOT_FOUND);
  CHECK_MSG(strstr(msg, "cv") && strstr(msg, "nothing"), "%s", msg);
  const char *r4[] = {"cvspend"};
  req.feature_refs = r4;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_INVALID);
  req.feature_service = "nosuch";
  req.n_feature_refs = 0;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_NOT_FOUND);
  req.feature_service = NULL;
  ms_table_release(ent);
  /* Collision without full names ('spend' is a cv feature; gv has none: use a ref twice
   * through different views -- dv has no spend feature, so collide cv:spend with itself
   * under an alias is not possible here; use the entity-column collision instead). */
  int64_t c1[] = {1};
  ms_table *ent2 = mk_table("customer_id", col_i64(c1, 1), "spend", col_i64(c1, 1), "event_timestamp",
                            col_ts(cts, 1, MS_UNIT_NANO, ""), NULL);
  const char *r5[] = {"cv:spend"};
  req.feature_refs = r5;
  req.n_feature_refs = 1;
  req.entity_table = ent2;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_INVALID);
  CHECK_MSG(strstr(msg, "spend"), "%s", msg);
  ms_table_release(ent2);
  /* Ambiguous timestamp column; no timestamp column. */
  ms_table *ent3 = mk_table("customer_id", col_i64(c1, 1), "t1", col_ts(cts, 1, MS_UNIT_NANO, ""), "t2",
                            col_ts(cts, 1, MS_UNIT_NANO, ""), NULL);
  req.entity_table = ent3;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_INVALID);
  CHECK_MSG(strstr(msg, "t1") && strstr(msg, "t2"), "%s", msg);
  ms_table_release(ent3);
  ms_table *ent4 = mk_table("customer_id", col_i64(c1, 1), NULL);
  req.entity_table = ent4;
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_INVALID);
  CHECK_MSG(strstr(msg, "event_timestamp"), "%s", msg);
  ms_table_release(ent4);
  /* The only timestamp column under another name is used. */
  ms_table *ent5 = mk_table("customer_id", col_i64(c1, 1), "when", col_ts(cts, 1, MS_UNIT_NANO, ""), NULL);
  req.entity_table = ent5;
  ms_table *out = hist(r, &req);
  CHECK(out);
  double want[] = {1};
  CHECK(col_is_f64(out, "spend", want, 1));
  ms_table_release(out);
  ms_table_release(ent5);
  ms_repo_free(r);
}

/* Two views with a feature of the same name collide without full names. */
static void test_collision(void) {
  make_repo("collide", NULL,
            "entities:\n  - name: customer\n    join_keys: [customer_id]\n"
            "sources:\n  - name: s\n    path: data/a.parquet\n    timestamp_field: ts\n"
            "feature_views:\n"
            "  - name: a\n    entities: [customer]\n    source: s\n    schema:\n      - {name: f, dtype: int64}\n"
            "  - name: b\n    entities: [customer]\n    source: s\n    schema:\n      - {name: f, dtype: int64}\n");
  int64_t id[] = {1};
  int64_t ts[] = {T("2024-01-01")};
  write_pq(repo_path("data/a.parquet"),
           mk_table("customer_id", col_i64(id, 1), "ts", col_ts(ts, 1, MS_UNIT_NANO, ""), "f", col_i64(id, 1), NULL), 0);
  ms_repo *r = load(g_dir);
  CHECK(r);
  ms_table *ent = mk_table("customer_id", col_i64(id, 1), "event_timestamp", col_ts(ts, 1, MS_UNIT_NANO, ""), NULL);
  const char *refs[] = {"a:f", "b:f"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 2;
  req.entity_table = ent;
  char msg[1024];
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_INVALID);
  CHECK_MSG(strstr(msg, "a:f") && strstr(msg, "b:f") && strstr(msg, "collision"), "%s", msg);
  req.full_feature_names = true;
  ms_table *out = hist(r, &req);
  CHECK(out);
  int64_t want[] = {1};
  CHECK(col_is_i64(out, "a__f", want, 1) && col_is_i64(out, "b__f", want, 1));
  ms_table_release(out);
  ms_table_release(ent);
  ms_repo_free(r);
}

/* ---------------- pruning, threads, limits, output ---------------- */

/* Deterministic pseudo-random numbers. */
static uint64_t g_rng = 88172645463325252ULL;
static uint64_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

/* n source rows over `keys` keys spread over 60 days from 2024-01-01, written as `files`
 * Parquet files with small row groups under data/src/ (sorted by time so statistics
 * prune), plus one CSV with the same rows (no row groups to prune). */
static void random_sources(int n, int keys, int files, int64_t rg_rows) {
  int64_t t0 = T("2024-01-01");
  int64_t *id = ms_malloc(sizeof *id * (size_t)n), *ts = ms_malloc(sizeof *ts * (size_t)n);
  int64_t *cr = ms_malloc(sizeof *cr * (size_t)n), *f = ms_malloc(sizeof *f * (size_t)n);
  for (int i = 0; i < n; i++) {
    id[i] = (int64_t)(rnd() % (uint64_t)keys);
    if (rnd() % 50 == 0) id[i] = NUL;
    ts[i] = t0 + (int64_t)((uint64_t)i * 60 / (uint64_t)n) * DAY + (int64_t)(rnd() % 4) * HOUR;
    cr[i] = rnd() % 10 == 0 ? NUL : ts[i] + (int64_t)(rnd() % 3) * HOUR;
    f[i] = rnd() % 7 == 0 ? NUL : (int64_t)i;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/data/src", g_dir);
  mkdir(path, 0777);
  int per = (n + files - 1) / files;
  for (int k = 0; k < files; k++) {
    int a = k * per, b = a + per < n ? a + per : n;
    snprintf(path, sizeof path, "%s/data/src/part-%02d.parquet", g_dir, k);
    write_pq(path,
             mk_table("customer_id", col_i64(id + a, b - a), "ts", col_ts(ts + a, b - a, MS_UNIT_MICRO, "UTC"), "created",
                      col_ts(cr + a, b - a, MS_UNIT_MICRO, "UTC"), "f", col_i64(f + a, b - a), NULL),
             rg_rows);
  }
  ms_table *all = mk_table("customer_id", col_i64(id, n), "ts", col_ts(ts, n, MS_UNIT_MICRO, "UTC"), "created",
                           col_ts(cr, n, MS_UNIT_MICRO, "UTC"), "f", col_i64(f, n), NULL);
  ms_csv_write_options o;
  ms_csv_write_options_init(&o);
  snprintf(path, sizeof path, "%s/data/all.csv", g_dir);
  ms_csv_write(ms_fs_local(), path, all, &o, NULL);
  ms_table_release(all);
  ms_free(id);
  ms_free(ts);
  ms_free(cr);
  ms_free(f);
}

static ms_table *random_entity(int n, int keys, int64_t lo_day, int64_t days) {
  int64_t t0 = T("2024-01-01");
  int64_t *id = ms_malloc(sizeof *id * (size_t)n), *ts = ms_malloc(sizeof *ts * (size_t)n);
  for (int i = 0; i < n; i++) {
    id[i] = rnd() % 40 == 0 ? NUL : (int64_t)(rnd() % (uint64_t)(keys + 5));
    ts[i] = t0 + (lo_day + (int64_t)(rnd() % (uint64_t)days)) * DAY + (int64_t)(rnd() % 24) * HOUR;
  }
  ms_table *t = mk_table("customer_id", col_i64(id, n), "event_timestamp", col_ts(ts, n, MS_UNIT_NANO, ""), NULL);
  ms_free(id);
  ms_free(ts);
  return t;
}

static const char *k_prune_defs =
    "entities:\n  - name: customer\n    join_keys: [customer_id]\n"
    "sources:\n"
    "  - name: pq\n    path: data/src\n    timestamp_field: ts\n    created_timestamp_column: created\n"
    "  - name: csv\n    path: data/all.csv\n    timestamp_field: ts\n    created_timestamp_column: created\n"
    "feature_views:\n"
    "  - name: p\n    entities: [customer]\n    ttl: 3d\n    source: pq\n    schema:\n      - {name: f, dtype: int64}\n"
    "  - name: c\n    entities: [customer]\n    ttl: 3d\n    source: csv\n    schema:\n      - {name: f, dtype: int64}\n";

static void test_pruning_changes_nothing(void) {
  make_repo("prune", NULL, k_prune_defs);
  random_sources(3000, 50, 4, 100);
  ms_repo *r = load(g_dir);
  CHECK(r);
  /* Entity times in days 20..30: most row groups are outside [20 - 3, 31]. */
  ms_table *ent = random_entity(500, 50, 20, 10);
  ms_historical_request req;
  ms_historical_request_init(&req);
  const char *rp[] = {"p:f"}, *rc[] = {"c:f"};
  req.entity_table = ent;
  req.n_feature_refs = 1;
  req.feature_refs = rp;
  ms_retrieval_job *job = NULL;
  ms_error err;
  CHECK_OK(ms_get_historical_features(r, &req, &job, &err), &err);
  char *text = NULL;
  /* The plan alone already counts the row groups the statistics prune (from footers). */
  CHECK_OK(ms_retrieval_job_explain(job, false, &text, &err), &err);
  char *plan_rg = strstr(text, "row groups: 32 total, ");
  CHECK_MSG(plan_rg && !strstr(text, "32 total, 32 kept") && !strstr(text, "actual:"), "%s", text);
  long long total_rg = 0, kept_plan = -1, kept_run = -2;
  CHECK(sscanf(plan_rg, "row groups: %lld total, %lld kept", &total_rg, &kept_plan) == 2);
  ms_free(text);
  CHECK_OK(ms_retrieval_job_explain(job, true, &text, &err), &err);
  /* ... and the run keeps exactly those. */
  char *run_rg = strstr(text, "row groups: 32 total, ");
  CHECK(run_rg && sscanf(run_rg, "row groups: %lld total, %lld kept", &total_rg, &kept_run) == 2);
  CHECK_EQ_INT(kept_plan, kept_run);
  ms_table *a = NULL;
  CHECK_OK(ms_retrieval_job_to_table(job, &a, &err), &err);
  CHECK_MSG(strstr(text, "row groups: 32 total") != NULL, "%s", text);
  CHECK_MSG(strstr(text, "row groups: 32 total, 32 kept") == NULL, "%s", text);
  CHECK_MSG(strstr(text, "hash-partitioned") || strstr(text, "single-partition"), "%s", text);
  CHECK_MSG(strstr(text, "pre-filter: 2024-01-18") != NULL, "%s", text);
  ms_free(text);
  ms_retrieval_job_free(job);
  req.feature_refs = rc;
  ms_table *b = hist(r, &req);
  CHECK(b);
  CHECK(tables_equal(a, b));
  /* Some rows matched, some did not. */
  int64_t matched = 0, n = ms_table_num_rows(a);
  for (int64_t i = 0; i < n; i++) matched += !ms_column_is_null(ms_table_column(a, 2), i);
  CHECK(matched > 50 && matched < n);
  ms_table_release(a);
  ms_table_release(b);
  ms_table_release(ent);
  ms_repo_free(r);
}

/* A hive-partitioned source by date with date_partition_column: partitions outside the
 * bounds are skipped and the answer matches the same rows in one CSV. */
static void test_date_partitions(void) {
  make_repo("dateparts", NULL,
            "entities:\n  - name: customer\n    join_keys: [customer_id]\n"
            "sources:\n"
            "  - name: hp\n    path: data/hive\n    timestamp_field: ts\n    date_partition_column: date\n"
            "  - name: flat\n    path: data/flat.csv\n    timestamp_field: ts\n"
            "feature_views:\n"
            "  - name: h\n    entities: [customer]\n    ttl: 1d\n    source: hp\n    schema:\n      - {name: f, dtype: int64}\n"
            "  - name: fl\n    entities: [customer]\n    ttl: 1d\n    source: flat\n    schema:\n      - {name: f, dtype: int64}\n");
  char csv[8192] = "customer_id,ts,f\n";
  for (int d = 1; d <= 9; d++) {
    int64_t id[] = {1, 2, 1};
    char ds[32], p[256];
    snprintf(ds, sizeof ds, "2024-01-%02dT%02d:00:00Z", d, d);
    int64_t ts[] = {T(ds), T(ds) + HOUR, T(ds) + 2 * HOUR};
    int64_t f[] = {d * 10 + 1, d * 10 + 2, d * 10 + 3};
    snprintf(p, sizeof p, "data/hive/date=2024-01-%02d/part.parquet", d);
    write_text(repo_path(p), "");
    write_pq(repo_path(p),
             mk_table("customer_id", col_i64(id, 3), "ts", col_ts(ts, 3, MS_UNIT_MICRO, "UTC"), "f", col_i64(f, 3), NULL), 0);
    for (int k = 0; k < 3; k++) {
      char line[128], iso[48];
      ms_format_timestamp(ts[k], MS_UNIT_NANO, true, iso);
      snprintf(line, sizeof line, "%lld,%s,%lld\n", (long long)id[k], iso, (long long)f[k]);
      strcat(csv, line);
    }
  }
  write_text(repo_path("data/flat.csv"), csv);
  ms_repo *r = load(g_dir);
  CHECK(r);
  int64_t eid[] = {1, 2, 1, 3};
  int64_t et[] = {T("2024-01-05T12:00:00Z"), T("2024-01-06T00:00:00Z"), T("2024-01-06T05:00:00Z"), T("2024-01-05T00:00:00Z")};
  ms_table *ent = mk_table("customer_id", col_i64(eid, 4), "event_timestamp", col_ts(et, 4, MS_UNIT_NANO, ""), NULL);
  ms_historical_request req;
  ms_historical_request_init(&req);
  const char *rh[] = {"h:f"}, *rf[] = {"fl:f"};
  req.entity_table = ent;
  req.n_feature_refs = 1;
  req.feature_refs = rh;
  ms_retrieval_job *job = NULL;
  ms_error err;
  CHECK_OK(ms_get_historical_features(r, &req, &job, &err), &err);
  char *text = NULL;
  CHECK_OK(ms_retrieval_job_explain(job, true, &text, &err), &err);
  /* Bounds [01-04T00Z, 01-06T05Z] keep the partitions 01-04 .. 01-06. */
  CHECK_MSG(strstr(text, "files: 9 total, 3 kept (6 pruned)") != NULL, "%s", text);
  CHECK_MSG(strstr(text, "partition pruning: date in [2024-01-04, 2024-01-06]") != NULL, "%s", text);
  ms_free(text);
  ms_table *a = NULL;
  CHECK_OK(ms_retrieval_job_to_table(job, &a, &err), &err);
  ms_retrieval_job_free(job);
  int64_t want[] = {53, 52, 53, NUL};
  CHECK(col_is_i64(a, "f", want, 4));
  req.feature_refs = rf;
  ms_table *b = hist(r, &req);
  CHECK(b);
  CHECK(tables_equal(a, b));
  ms_table_release(a);
  ms_table_release(b);
  ms_table_release(ent);
  ms_repo_free(r);
}

/* A source directory mixing a CSV file and a Parquet file with several row groups (read
 * whole and per row group); an empty entity input; entity input and a range together. */
static void test_mixed_source_and_empty(void) {
  make_repo("mixedsrc", NULL,
            "entities:\n  - name: customer\n    join_keys: [customer_id]\n"
            "sources:\n  - name: m\n    path: data/m\n    timestamp_field: ts\n"
            "feature_views:\n  - name: mv\n    entities: [customer]\n    ttl: 0s\n    source: m\n"
            "    schema:\n      - {name: f, dtype: int64}\n      - {name: g, dtype: string}\n");
  write_text(repo_path("data/m/a.csv"), "customer_id,ts,f,g\n1,2024-01-01T00:00:00Z,1,x\n2,2024-01-05T00:00:00Z,2,\n");
  int64_t id[] = {1, 2, 1, 2, 1, 3};
  int64_t ts[] = {T("2024-01-02"), T("2024-01-02"), T("2024-01-03"), T("2024-01-03"), T("2024-01-09"), T("2024-01-01")};
  int64_t f[] = {10, 20, 30, NUL, 50, 60};
  const char *g[] = {"p", "q", "r", "s", NULL, "u"};
  write_pq(repo_path("data/m/b.parquet"),
           mk_table("customer_id", col_i64(id, 6), "ts", col_ts(ts, 6, MS_UNIT_NANO, "UTC"), "f", col_i64(f, 6), "g",
                    col_str(g, 6), NULL),
           2);
  ms_repo *r = load(g_dir);
  CHECK(r);
  int64_t eid[] = {1, 2, 2, 1, 3, 4};
  int64_t et[] = {T("2024-01-01T12:00:00Z"), T("2024-01-04"), T("2024-01-06"), T("2024-01-08"), T("2024-01-02"), T("2024-01-02")};
  ms_table *ent = mk_table("customer_id", col_i64(eid, 6), "event_timestamp", col_ts(et, 6, MS_UNIT_NANO, "UTC"), NULL);
  const char *refs[] = {"mv:g", "mv:f"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 2;
  req.entity_table = ent;
  for (int threads = 1; threads <= 3; threads += 2) {
    req.threads = threads;
    ms_table *out = hist(r, &req);
    CHECK(out);
    int64_t want_f[] = {1, NUL, 2, 30, 60, NUL};
    CHECK(col_is_i64(out, "f", want_f, 6));
    int gc = ms_table_find_column(out, "g");
    CHECK(gc == 2);
    int64_t len = 0;
    const uint8_t *b = ms_column_get_bytes(ms_table_column(out, gc), 3, &len);
    CHECK(len == 1 && b[0] == 'r');
    b = ms_column_get_bytes(ms_table_column(out, gc), 1, &len);
    CHECK(len == 1 && b[0] == 's');
    CHECK(ms_column_is_null(ms_table_column(out, gc), 2) && ms_column_is_null(ms_table_column(out, gc), 5));
    ms_table_release(out);
  }
  /* Empty entity input: no rows, the feature columns typed. */
  ms_table *empty = NULL;
  ms_error err;
  CHECK_OK(ms_table_slice(ent, 0, 0, &empty, &err), &err);
  req.entity_table = empty;
  ms_table *out = hist(r, &req);
  CHECK(out);
  CHECK(ms_table_num_rows(out) == 0 && ms_table_num_columns(out) == 4);
  CHECK(ms_table_field(out, 3)->type.id == MS_TYPE_INT64 && ms_table_field(out, 2)->type.id == MS_TYPE_UTF8);
  ms_table_release(out);
  ms_table_release(empty);
  /* An entity input and a range together is an error. */
  req.entity_table = ent;
  req.has_start = true;
  char msg[512];
  CHECK(hist_fail(r, &req, msg, sizeof msg) == MS_ERR_INVALID);
  ms_table_release(ent);
  ms_repo_free(r);
}

static void test_threads_identical(void) {
  make_repo("threads", NULL, k_prune_defs);
  random_sources(60000, 3000, 3, 5000);
  ms_repo *r = load(g_dir);
  CHECK(r);
  ms_table *ent = random_entity(20000, 3000, 0, 62);
  ms_historical_request req;
  ms_historical_request_init(&req);
  const char *rp[] = {"p:f"};
  req.entity_table = ent;
  req.n_feature_refs = 1;
  req.feature_refs = rp;
  req.threads = 1;
  ms_table *a = hist(r, &req);
  CHECK(a);
  req.threads = 4;
  ms_retrieval_job *job = NULL;
  ms_error err;
  CHECK_OK(ms_get_historical_features(r, &req, &job, &err), &err);
  char *text = NULL;
  CHECK_OK(ms_retrieval_job_explain(job, false, &text, &err), &err);
  CHECK_MSG(strstr(text, "hash-partitioned sort-merge PIT join") && strstr(text, "threads: 4"), "%s", text);
  ms_free(text);
  ms_table *b = NULL;
  CHECK_OK(ms_retrieval_job_to_table(job, &b, &err), &err);
  ms_retrieval_job_free(job);
  CHECK(tables_equal(a, b));
  ms_table_release(b);
  /* Two threads over three files: files are read as parallel tasks. */
  req.threads = 2;
  b = hist(r, &req);
  CHECK(b);
  CHECK(tables_equal(a, b));
  ms_table_release(a);
  ms_table_release(b);
  ms_table_release(ent);
  ms_repo_free(r);
}

static void test_memory_limit(void) {
  make_repo("memlimit", "  memory_limit_mb: 1\n", k_prune_defs);
  random_sources(100000, 1000, 1, 0);
  ms_repo *r = load(g_dir);
  CHECK(r);
  ms_table *ent = random_entity(1000, 1000, 0, 62);
  ms_historical_request req;
  ms_historical_request_init(&req);
  const char *rp[] = {"p:f"};
  req.entity_table = ent;
  req.n_feature_refs = 1;
  req.feature_refs = rp;
  ms_retrieval_job *job = NULL;
  ms_error err;
  CHECK_OK(ms_get_historical_features(r, &req, &job, &err), &err);
  const char *out = repo_path("data/out.parquet");
  unlink(out);
  ms_status st = ms_retrieval_job_write(job, out, &err);
  ms_retrieval_job_free(job);
  CHECK(st == MS_ERR_NOMEM);
  CHECK_MSG(strstr(err.message, "memory_limit_mb"), "%s", err.message);
  struct stat sb;
  CHECK(stat(out, &sb) != 0);
  /* The limit is lifted after the job: the same data without it works. */
  void *p = ms_malloc(4 << 20);
  CHECK(p);
  ms_free(p);
  ms_table_release(ent);
  ms_repo_free(r);
}

/* Under memory_limit_mb a join whose estimate does not fit runs in time windows
 * (window_size_for_joins) over a time-ordered source and gives the same answer as a run
 * without the limit (the same repository loaded with a config without it). */
static void test_time_windows(void) {
  make_repo("windows", "  memory_limit_mb: 4\n  window_size_for_joins: 1h\n", k_prune_defs);
  random_sources(100000, 1000, 1, 2000);
  char alt[4096];
  snprintf(alt, sizeof alt, "%s/windows-nolimit.yaml", ms_test_tmpdir());
  write_text(alt, "project: t\nregistry: reg.db\noffline_store:\n  type: morsel\n  threads: 1\n");
  ms_repo *r = load(g_dir);
  CHECK(r);
  ms_repo *r2 = NULL;
  ms_error err;
  CHECK_OK(ms_repo_load(g_dir, alt, &r2, NULL, NULL, &err), &err);
  ms_table *ent = random_entity(3000, 1000, 0, 62);
  ms_historical_request req;
  ms_historical_request_init(&req);
  const char *rp[] = {"p:f"};
  req.entity_table = ent;
  req.n_feature_refs = 1;
  req.feature_refs = rp;
  ms_retrieval_job *job = NULL;
  CHECK_OK(ms_get_historical_features(r, &req, &job, &err), &err);
  char *text = NULL;
  CHECK_OK(ms_retrieval_job_explain(job, true, &text, &err), &err);
  /* 100000 rows x 72 bytes against a quarter of 4 MiB: 7 windows. */
  CHECK_MSG(strstr(text, "time windows: 7") != NULL && strstr(text, "reads over 7 windows"), "%s", text);
  ms_free(text);
  ms_table *a = NULL;
  CHECK_OK(ms_retrieval_job_to_table(job, &a, &err), &err);
  ms_retrieval_job_free(job);
  ms_table *b = hist(r2, &req);
  CHECK(b);
  CHECK(tables_equal(a, b));
  int64_t matched = 0;
  for (int64_t i = 0; i < ms_table_num_rows(a); i++) matched += !ms_column_is_null(ms_table_column(a, 2), i);
  CHECK(matched > 100);
  ms_table_release(a);
  ms_table_release(b);
  ms_table_release(ent);
  ms_repo_free(r);
  ms_repo_free(r2);
}

static void progress_cb(void *ctx, const char *stage, int64_t done, int64_t total) {
  (void)done;
  (void)total;
  int *n = ctx;
  if (stage && stage[0]) (*n)++;
}

static void test_write_and_export(void) {
  int64_t id[] = {1, 2};
  int64_t ts[] = {T("2024-01-01"), T("2024-01-02")};
  int64_t f[] = {5, NUL};
  ms_table *src = mk_table("customer_id", col_i64(id, 2), "event_timestamp", col_ts(ts, 2, MS_UNIT_MICRO, "UTC"),
                           "created", col_ts(ts, 2, MS_UNIT_MICRO, "UTC"), "f", col_i64(f, 2), NULL);
  ms_repo *r = customer_repo("write", "0s", src);
  CHECK(r);
  write_text(repo_path("data/entity.csv"), "customer_id,event_timestamp\n1,2024-01-03T00:00:00Z\n2,2024-01-03\n3,2024-01-03\n");
  const char *refs[] = {"fv:f"};
  ms_historical_request req;
  ms_historical_request_init(&req);
  req.feature_refs = refs;
  req.n_feature_refs = 1;
  req.entity_path = repo_path("data/entity.csv");
  int calls = 0;
  req.progress = progress_cb;
  req.progress_ctx = &calls;
  ms_retrieval_job *job = NULL;
  ms_error err;
  CHECK_OK(ms_get_historical_features(r, &req, &job, &err), &err);
  char *text = NULL;
  CHECK_OK(ms_retrieval_job_explain(job, false, &text, &err), &err);
  CHECK_MSG(strstr(text, "view fv") && strstr(text, "columns read: customer_id, event_timestamp, created, f") &&
                strstr(text, "pre-filter: -inf <= event_timestamp <= 2024-01-03T00:00:00Z"),
            "%s", text);
  ms_free(text);
  CHECK_OK(ms_retrieval_job_write(job, repo_path("data/out.parquet"), &err), &err);
  CHECK_OK(ms_retrieval_job_write(job, repo_path("data/out.csv"), &err), &err);
  CHECK(ms_retrieval_job_write(job, repo_path("data/out.xyz"), &err) == MS_ERR_INVALID);
  CHECK(calls >= 4);
  ms_table *t = NULL;
  CHECK_OK(ms_retrieval_job_to_table(job, &t, &err), &err);
  int64_t want[] = {5, NUL, NUL};
  CHECK(col_is_i64(t, "f", want, 3));
  /* The Parquet file reads back equal. */
  ms_pq_file *pq = NULL;
  CHECK_OK(ms_pq_open(ms_fs_local(), repo_path("data/out.parquet"), &pq, &err), &err);
  ms_pq_read_options ro = {0};
  ms_table *back = NULL;
  CHECK_OK(ms_pq_read(pq, &ro, &back, NULL, &err), &err);
  ms_pq_close(pq);
  CHECK(tables_equal(t, back));
  ms_table_release(back);
  /* The CSV text. */
  uint8_t *bytes = NULL;
  int64_t len = 0;
  CHECK_OK(ms_fs_read_all(ms_fs_local(), repo_path("data/out.csv"), &bytes, &len, &err), &err);
  CHECK_MSG(len > 0 && strstr((char *)bytes, "customer_id,event_timestamp,f") != NULL, "%.*s", (int)len, bytes);
  ms_free(bytes);
  /* Arrow stream export of the same result. */
  struct ArrowArrayStream s;
  CHECK_OK(ms_retrieval_job_to_arrow_stream(job, &s, &err), &err);
  ms_table *imp = NULL;
  CHECK_OK(ms_stream_import_table(&s, &imp, &err), &err);
  CHECK(tables_equal(t, imp));
  ms_table_release(imp);
  ms_table_release(t);
  ms_retrieval_job_free(job);
  ms_repo_free(r);
}

MS_TEST_MAIN(MS_TEST(test_worked_cases), MS_TEST(test_backfill), MS_TEST(test_created_filter),
             MS_TEST(test_mixed_time_zones), MS_TEST(test_entityless), MS_TEST(test_multi_views),
             MS_TEST(test_service_alias), MS_TEST(test_types_kept), MS_TEST(test_date_timestamps), MS_TEST(test_pull), MS_TEST(test_errors),
             MS_TEST(test_collision), MS_TEST(test_pruning_changes_nothing), MS_TEST(test_date_partitions), MS_TEST(test_mixed_source_and_empty),
             MS_TEST(test_threads_identical), MS_TEST(test_memory_limit), MS_TEST(test_time_windows), MS_TEST(test_write_and_export))
