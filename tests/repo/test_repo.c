/* Repository model tests: the example repository loads to the expected model,
 * canonical JSON is exact and stable, ${ENV} substitution, every bad-input case names
 * file:line:col with the expected words, several problems are reported at once,
 * durations, and diff summaries. */
#include <stdarg.h>

#include "morsel/alloc.h"
#include "morsel/repo.h"
#include "ms_test.h"
#define XXH_INLINE_ALL
#include <xxhash.h>

static const char *k_config =
    "project: t\n"
    "registry: reg.db\n";

/* Writes a file under dir (creating parent directories one level deep). */
static void write_file(const char *dir, const char *name, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *slash = strrchr(path, '/');
  *slash = 0;
  mkdir(path, 0777);
  *slash = '/';
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

/* A fresh repository directory with a config and one definitions file. */
static const char *make_repo(const char *tag, const char *config, const char *defs) {
  static char dir[2048];
  snprintf(dir, sizeof dir, "%s/%s", ms_test_tmpdir(), tag);
  mkdir(dir, 0777);
  write_file(dir, "feature_store.yaml", config);
  if (defs) write_file(dir, "defs.yaml", defs);
  return dir;
}

/* Loads and returns the problems (NULL repo expected); *n set. */
static char **load_bad(const char *dir, int *n, ms_status *st) {
  ms_repo *r = NULL;
  char **probs = NULL;
  ms_error err;
  ms_error_init(&err);
  *st = ms_repo_load(dir, NULL, &r, &probs, n, &err);
  if (r) ms_repo_free(r);
  return probs;
}

/* True when some problem contains every one of the NULL-terminated words. */
static bool has_problem(char **probs, int n, ...) {
  for (int i = 0; i < n; i++) {
    va_list ap;
    va_start(ap, n);
    bool all = true;
    const char *w;
    while ((w = va_arg(ap, const char *)) != NULL)
      if (!strstr(probs[i], w)) all = false;
    va_end(ap);
    if (all) return true;
  }
  return false;
}

static void dump_probs(char **p, int n) {
  for (int i = 0; i < n; i++) fprintf(stderr, "  problem: %s\n", p[i]);
}

static void test_example_repo(void) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/tests/repo/example", MS_TEST_SOURCE_DIR);
  ms_repo *r = NULL;
  ms_error err;
  ms_error_init(&err);
  char **probs = NULL;
  int np = 0;
  ms_status st = ms_repo_load(dir, NULL, &r, &probs, &np, &err);
  if (st != MS_OK) dump_probs(probs, np);
  ms_repo_problems_free(probs, np);
  CHECK_OK(st, &err);
  char real[4096];
  CHECK(realpath(dir, real));
  const ms_repo_config *c = ms_repo_get_config(r);
  CHECK_STR(c->project, "retail");
  CHECK_STR(c->provider, "local");
  CHECK_STR(c->repo_dir, real);
  char want[8192];
  snprintf(want, sizeof want, "%s/data/registry.db", real);
  CHECK_STR(c->registry_location, want);
  snprintf(want, sizeof want, "%s/data/morsel_storage", real);
  CHECK_STR(c->storage_path, want);
  CHECK_EQ_INT(c->cache_ttl_seconds, 60);
  CHECK_EQ_INT(c->threads, 0);
  CHECK_EQ_INT(c->broadcast_join_threshold_mb, 100);
  CHECK_EQ_INT(c->target_partition_size_mb, 64);
  CHECK_EQ_INT(c->max_parallelism_multiplier, 2);
  CHECK_EQ_INT(c->window_size_for_joins_s, 3600);
  CHECK(!c->enable_logging);
  CHECK_EQ_INT(c->n_notes, 0);

  CHECK_EQ_INT(ms_repo_num_entities(r), 1);
  const ms_entity_def *e = ms_repo_entity(r, 0);
  CHECK_STR(e->name, "customer");
  CHECK_EQ_INT(e->n_join_keys, 1);
  CHECK_STR(e->join_keys[0], "customer_id");
  CHECK_STR(e->value_type, "int64");
  CHECK_STR(e->description, "Retail customer");
  CHECK_STR(e->where, "defs/retail.yaml:2:5");

  CHECK_EQ_INT(ms_repo_num_sources(r), 2);
  const ms_source_def *s = ms_repo_source(r, 0);
  CHECK_STR(s->name, "rfm_source");
  snprintf(want, sizeof want, "%s/data/customer_rfm_features.parquet", real);
  CHECK_STR(s->path, want);
  CHECK_STR(s->file_format, "parquet");
  CHECK_STR(s->timestamp_field, "event_timestamp");
  CHECK_STR(s->created_timestamp_column, "created");
  CHECK_EQ_INT(s->n_field_mapping, 1);
  CHECK_STR(s->field_mapping[0].key, "cust");
  CHECK_STR(s->field_mapping[0].value, "customer_id");
  CHECK_STR(s->date_partition_column, "date");
  CHECK(ms_repo_source(r, 1)->created_timestamp_column == NULL);
  CHECK_STR(ms_repo_source(r, 1)->file_format, "csv");

  CHECK_EQ_INT(ms_repo_num_feature_views(r), 2);
  const ms_feature_view_def *v = ms_repo_feature_view(r, 0);
  CHECK_STR(v->name, "customer_rfm_features");
  CHECK_EQ_INT(v->n_entities, 1);
  CHECK_STR(v->entities[0], "customer");
  CHECK_EQ_INT(v->ttl_seconds, 0);
  CHECK_STR(v->source, "rfm_source");
  CHECK_EQ_INT(v->n_schema, 2);
  CHECK_STR(v->schema[1].name, "monetary");
  CHECK_STR(v->schema[1].dtype, "float64");
  CHECK(!v->online);
  CHECK_STR(v->owner, "growth@example.com");
  CHECK_EQ_INT(v->n_tags, 1);
  CHECK_STR(v->tags[0].key, "team");
  CHECK_STR(v->tags[0].value, "growth");
  CHECK_EQ_INT(ms_repo_feature_view(r, 1)->ttl_seconds, 5400);

  CHECK_EQ_INT(ms_repo_num_feature_services(r), 2);
  const ms_feature_service_def *fs = ms_repo_feature_service(r, 0);
  CHECK_STR(fs->name, "propensity_v1");
  CHECK_EQ_INT(fs->n_items, 2);
  CHECK_STR(fs->items[0].view, "customer_rfm_features");
  CHECK_EQ_INT(fs->items[0].n_features, 0);
  CHECK_STR(fs->items[1].view, "customer_behavior_features");
  CHECK_EQ_INT(fs->items[1].n_features, 1);
  CHECK_STR(fs->items[1].features[0], "avg_order_value");
  const ms_feature_service_item *it = &ms_repo_feature_service(r, 1)->items[0];
  CHECK_STR(it->view, "customer_behavior_features");
  CHECK_STR(it->alias, "beh");
  CHECK_EQ_INT(it->n_join_key_map, 1);
  CHECK_STR(it->join_key_map[0].key, "customer_id");
  CHECK_STR(it->join_key_map[0].value, "cust_id");

  const ms_reg_object *objs;
  const ms_reg_edge *edges;
  int n, ne;
  CHECK_OK(ms_repo_objects(r, &objs, &n, &edges, &ne, &err), &err);
  CHECK_EQ_INT(n, 7);
  CHECK_STR(objs[0].kind, "entity");
  CHECK_STR(objs[0].json,
            "{\"description\":\"Retail customer\",\"join_keys\":[\"customer_id\"],"
            "\"name\":\"customer\",\"owner\":\"\",\"tags\":{},\"value_type\":\"int64\"}");
  CHECK_STR(objs[1].kind, "data_source");
  CHECK_STR(objs[1].json,
            "{\"columns\":[],\"created_timestamp_column\":\"created\","
            "\"date_partition_column\":\"date\","
            "\"description\":\"\",\"field_mapping\":{\"cust\":\"customer_id\"},"
            "\"file_format\":\"parquet\",\"filter\":null,\"name\":\"rfm_source\","
            "\"owner\":\"\","
            "\"path\":\"data/customer_rfm_features.parquet\",\"tags\":{},"
            "\"timestamp_field\":\"event_timestamp\"}");
  CHECK_STR(objs[4].kind, "feature_view");
  CHECK_STR(objs[4].json,
            "{\"aggregation\":null,\"description\":\"\",\"entities\":[\"customer\"],"
            "\"name\":\"customer_behavior_features\",\"online\":false,\"owner\":\"\","
            "\"schema\":[{\"description\":\"\",\"dtype\":\"float64\",\"name\":"
            "\"avg_order_value\"},{\"description\":\"\",\"dtype\":\"int32\",\"name\":"
            "\"sessions\"}],\"source\":\"behavior_source\",\"tags\":{},\"ttl\":\"1h30m\"}");
  CHECK_STR(objs[5].kind, "feature_service");
  CHECK_STR(objs[5].json,
            "{\"description\":\"Propensity model inputs\",\"features\":[{\"alias\":null,"
            "\"feature_view\":\"customer_rfm_features\",\"features\":[],\"join_key_map\":{}},"
            "{\"alias\":null,\"feature_view\":\"customer_behavior_features\",\"features\":"
            "[\"avg_order_value\"],\"join_key_map\":{}}],\"logging\":null,"
            "\"name\":\"propensity_v1\","
            "\"owner\":\"\",\"tags\":{}}");
  /* hashes: 32 hex digits of XXH3-128 (canonical big-endian) of the JSON */
  for (int i = 0; i < n; i++) {
    XXH128_canonical_t cn;
    XXH128_canonicalFromHash(&cn, XXH3_128bits(objs[i].json, strlen(objs[i].json)));
    char hex[33];
    for (int k = 0; k < 16; k++) snprintf(hex + 2 * k, 3, "%02x", cn.digest[k]);
    CHECK_STR(objs[i].hash, hex);
  }
  /* lineage: source->view and entity->view per view, view->service per item */
  CHECK_EQ_INT(ne, 2 + 2 + 3);
  CHECK_STR(edges[0].from_kind, "data_source");
  CHECK_STR(edges[0].from_name, "rfm_source");
  CHECK_STR(edges[0].to_name, "customer_rfm_features");
  CHECK_STR(edges[1].from_kind, "entity");
  CHECK_STR(edges[6].from_kind, "feature_view");
  CHECK_STR(edges[6].to_kind, "feature_service");
  CHECK_STR(edges[6].to_name, "propensity_v2");
  ms_repo_free(r);
}

/* Same definitions written differently (key order, flow vs block style, quoting,
 * 90m vs 1h30m) hash the same; a real change does not. */
static void test_canonical_stable(void) {
  const char *a =
      "entities:\n  - {name: c, join_keys: [cid], value_type: int64}\n"
      "sources:\n  - {name: s, path: x.parquet, timestamp_field: ts}\n"
      "feature_views:\n  - name: v\n    entities: [c]\n    source: s\n    ttl: 90m\n"
      "    tags: {b: '2', a: '1'}\n"
      "    schema: [{name: f, dtype: int64}]\n";
  const char *b =
      "feature_views:\n  - schema:\n      - dtype: int64\n        name: \"f\"\n"
      "    ttl: 1h30m\n    source: s\n    tags:\n      a: \"1\"\n      b: \"2\"\n"
      "    name: v\n    entities:\n      - c\n"
      "sources:\n  - timestamp_field: ts\n    file_format: parquet\n    path: 'x.parquet'\n"
      "    name: s\n"
      "entities:\n  - value_type: int64\n    join_keys: [cid]\n    name: c\n";
  const char *hashes[2][3];
  char *keep[2][3];
  for (int k = 0; k < 2; k++) {
    const char *dir = make_repo(k ? "stable_b" : "stable_a", k_config, k ? b : a);
    ms_repo *r = NULL;
    ms_error err;
    ms_error_init(&err);
    CHECK_OK(ms_repo_load(dir, NULL, &r, NULL, NULL, &err), &err);
    const ms_reg_object *o;
    int n;
    CHECK_OK(ms_repo_objects(r, &o, &n, NULL, NULL, &err), &err);
    CHECK_EQ_INT(n, 3);
    for (int i = 0; i < 3; i++) {
      keep[k][i] = ms_strdup(o[i].hash);
      hashes[k][i] = keep[k][i];
    }
    ms_repo_free(r);
  }
  for (int i = 0; i < 3; i++) CHECK_STR(hashes[0][i], hashes[1][i]);
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < 3; i++) ms_free(keep[k][i]);

  /* a changed ttl changes the view's hash and nothing else */
  const char *dir = make_repo("stable_c", k_config, a);
  write_file(dir, "defs.yaml",
             "entities:\n  - {name: c, join_keys: [cid], value_type: int64}\n"
             "sources:\n  - {name: s, path: x.parquet, timestamp_field: ts}\n"
             "feature_views:\n  - name: v\n    entities: [c]\n    source: s\n    ttl: 2h\n"
             "    tags: {b: '2', a: '1'}\n    schema: [{name: f, dtype: int64}]\n");
  const char *dir_a = make_repo("stable_a", k_config, a);
  ms_repo *ra = NULL, *rc = NULL;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_repo_load(dir_a, NULL, &ra, NULL, NULL, &err), &err);
  dir = make_repo("stable_c", k_config, NULL);
  CHECK_OK(ms_repo_load(dir, NULL, &rc, NULL, NULL, &err), &err);
  const ms_reg_object *oa, *oc;
  int na, nc;
  CHECK_OK(ms_repo_objects(ra, &oa, &na, NULL, NULL, &err), &err);
  CHECK_OK(ms_repo_objects(rc, &oc, &nc, NULL, NULL, &err), &err);
  CHECK_STR(oa[0].hash, oc[0].hash);
  CHECK(strcmp(oa[2].hash, oc[2].hash) != 0);
  char *sum = ms_repo_diff_summary("feature_view", oa[2].json, oc[2].json);
  CHECK_STR(sum, "ttl: 1h30m -> 2h");
  ms_free(sum);
  ms_repo_free(ra);
  ms_repo_free(rc);
}

static void test_json_escaping(void) {
  const char *dir = make_repo("escape", k_config,
                              "entities:\n  - name: e\n    description: \"say \\\"hi\\\"\\n"
                              "\\tback\\\\slash \\u00e9 \\x01\"\n");
  ms_repo *r = NULL;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_repo_load(dir, NULL, &r, NULL, NULL, &err), &err);
  const ms_reg_object *o;
  int n;
  CHECK_OK(ms_repo_objects(r, &o, &n, NULL, NULL, &err), &err);
  CHECK_EQ_INT(n, 1);
  /* join key defaults to the entity name (Feast); value_type absent is null */
  CHECK_STR(o[0].json, "{\"description\":\"say \\\"hi\\\"\\n\\tback\\\\slash \xc3\xa9 \\u0001\","
                       "\"join_keys\":[\"e\"],\"name\":\"e\",\"owner\":\"\",\"tags\":{},"
                       "\"value_type\":null}");
  ms_repo_free(r);
}

static void test_env_substitution(void) {
  setenv("MS_TEST_PROJECT", "envproj", 1);
  setenv("MS_TEST_PG", "postgresql://u:p@localhost:5432/db", 1);
  const char *dir = make_repo("env",
                              "project: ${MS_TEST_PROJECT}\n"
                              "registry:\n  registry_type: sql\n  path: ${MS_TEST_PG}\n"
                              "  cache_ttl_seconds: 5\n"
                              "offline_store:\n  type: ray\n  storage_path: st_$${x}\n"
                              "  ray_conf: {num_cpus: 3, object_store_memory: 100}\n"
                              "  enable_ray_logging: true\n  ray_address: auto\n"
                              "  window_size_for_joins: 2H\n",
                              "");
  ms_repo *r = NULL;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_repo_load(dir, NULL, &r, NULL, NULL, &err), &err);
  const ms_repo_config *c = ms_repo_get_config(r);
  CHECK_STR(c->project, "envproj");
  CHECK_STR(c->registry_location, "postgresql://u:p@localhost:5432/db");
  CHECK_EQ_INT(c->cache_ttl_seconds, 5);
  CHECK_EQ_INT(c->threads, 3);
  CHECK(c->enable_logging);
  CHECK_EQ_INT(c->window_size_for_joins_s, 7200);
  CHECK(strstr(c->storage_path, "/st_${x}") != NULL);
  /* notes: type ray, num_cpus, object_store_memory, enable_ray_logging, ray_address */
  CHECK_EQ_INT(c->n_notes, 5);
  int found = 0;
  for (int i = 0; i < c->n_notes; i++) {
    if (strstr(c->notes[i], "num_cpus") && strstr(c->notes[i], "threads")) found++;
    if (strstr(c->notes[i], "ray_address") && strstr(c->notes[i], "does nothing")) found++;
    if (strstr(c->notes[i], "treated as morsel")) found++;
  }
  CHECK_EQ_INT(found, 3);
  ms_repo_free(r);

  unsetenv("MS_TEST_UNSET_VAR");
  dir = make_repo("env_unset", "project: p\nregistry: ${MS_TEST_UNSET_VAR}/r.db\n", "");
  int n;
  ms_status st;
  char **p = load_bad(dir, &n, &st);
  CHECK_EQ_INT(st, MS_ERR_INVALID);
  CHECK(has_problem(p, n, "feature_store.yaml:2:11:", "MS_TEST_UNSET_VAR", "not set", NULL));
  ms_repo_problems_free(p, n);
}

static void test_config_errors(void) {
  const char *dir = make_repo("cfg_bad",
                              "project: p\nprovider: local\nregistyr: r.db\n"
                              "offline_store:\n  type: morsel\n  stroage_path: x\n"
                              "  threads: many\n  window_size_for_joins: soon\n"
                              "  enable_logging: maybe\n",
                              "");
  int n;
  ms_status st;
  char **p = load_bad(dir, &n, &st);
  CHECK_EQ_INT(st, MS_ERR_INVALID);
  if (n != 5) dump_probs(p, n);
  CHECK_EQ_INT(n, 5);
  CHECK(has_problem(p, n, "feature_store.yaml:3:1:", "unknown key 'registyr'",
                    "did you mean 'registry'?", NULL));
  CHECK(has_problem(p, n, "feature_store.yaml:6:3:",
                    "unknown key 'stroage_path' in offline_store; did you mean 'storage_path'?",
                    NULL));
  CHECK(has_problem(p, n, "feature_store.yaml:7:12:", "threads", "integer", NULL));
  CHECK(has_problem(p, n, "feature_store.yaml:8:26:", "bad duration 'soon'", NULL));
  CHECK(has_problem(p, n, "feature_store.yaml:9:19:", "true or false", NULL));
  ms_repo_problems_free(p, n);

  dir = make_repo("cfg_yaml", "project: p\noffline_store: [a\n", "");
  p = load_bad(dir, &n, &st);
  CHECK_EQ_INT(st, MS_ERR_PARSE);
  CHECK(n >= 1);
  CHECK(has_problem(p, n, "feature_store.yaml:3:", "YAML error", NULL));
  ms_repo_problems_free(p, n);

  dir = make_repo("cfg_noproject", "provider: local\n", "");
  p = load_bad(dir, &n, &st);
  CHECK(has_problem(p, n, "feature_store.yaml:1:1:", "missing required key 'project'", NULL));
  ms_repo_problems_free(p, n);

  /* no configuration at all */
  char empty[1100];
  snprintf(empty, sizeof empty, "%s/none", ms_test_tmpdir());
  mkdir(empty, 0777);
  ms_repo *r = NULL;
  ms_error err;
  ms_error_init(&err);
  CHECK_EQ_INT(ms_repo_load(empty, NULL, &r, NULL, NULL, &err), MS_ERR_NOT_FOUND);
  CHECK(strstr(err.message, "feature_store.yaml") != NULL);
  CHECK(r == NULL);
}

/* Every definitions problem at once, each with file:line:col. */
static void test_definition_errors(void) {
  const char *defs =
      "entities:\n"                                                     /* 1 */
      "  - name: customer\n"                                            /* 2 */
      "    join_keys: [customer_id]\n"                                  /* 3 */
      "    value_tpye: int64\n"                                         /* 4 */
      "  - name: customer\n"                                            /* 5 */
      "    join_keys: [customer_id]\n"                                  /* 6 */
      "  - name: buyer\n"                                               /* 7 */
      "    join_keys: [customer_id]\n"                                  /* 8 */
      "sources:\n"                                                      /* 9 */
      "  - name: src\n"                                                 /* 10 */
      "    path: a.parquet\n"                                           /* 11 */
      "    file_format: delta\n"                                        /* 12 */
      "    timestamp_field: ts\n"                                       /* 13 */
      "    created_timestamp_column: ts\n"                              /* 14 */
      "    field_mapping: {cust: customer_id, amt: amount}\n"           /* 15 */
      "  - name: nots\n"                                                /* 16 */
      "    path: b.parquet\n"                                           /* 17 */
      "feature_views:\n"                                                /* 18 */
      "  - name: fv\n"                                                  /* 19 */
      "    entities: [customer, shop, buyer]\n"                         /* 20 */
      "    source: nosuch\n"                                            /* 21 */
      "    ttl: 5 days\n"                                               /* 22 */
      "    schema:\n"                                                   /* 23 */
      "      - {name: customer_id, dtype: int64}\n"                     /* 24 */
      "      - {name: x, dtype: float}\n"                               /* 25 */
      "  - name: fv2\n"                                                 /* 26 */
      "    source: src\n"                                               /* 27 */
      "    schema:\n"                                                   /* 28 */
      "      - {name: amt, dtype: float64}\n"                           /* 29 */
      "feature_services:\n"                                             /* 30 */
      "  - name: svc\n"                                                 /* 31 */
      "    features:\n"                                                 /* 32 */
      "      - missing_view\n"                                          /* 33 */
      "      - fv2: [amt, nope]\n"                                      /* 34 */
      "      - {feature_view: fv2, join_key_map: {customer_id: c}}\n"    /* 35 */
      "on_demand_feature_views:\n"                                      /* 36 */
      "  - name: odfv\n";                                               /* 37 */
  const char *dir = make_repo("defs_bad", k_config, defs);
  int n;
  ms_status st;
  char **p = load_bad(dir, &n, &st);
  CHECK_EQ_INT(st, MS_ERR_INVALID);
  CHECK(has_problem(p, n, "defs.yaml:4:5:", "unknown key 'value_tpye'",
                    "did you mean 'value_type'?", NULL));
  CHECK(has_problem(p, n, "defs.yaml:5:5:", "duplicate entity 'customer'",
                    "first defined at defs.yaml:2:5", NULL));
  CHECK(has_problem(p, n, "defs.yaml:12:18:", "file_format 'delta'", NULL));
  CHECK(has_problem(p, n, "defs.yaml:14:31:", "created_timestamp_column 'ts'",
                    "timestamp_field", NULL));
  CHECK(has_problem(p, n, "defs.yaml:16:5:", "missing required key 'timestamp_field'", NULL));
  CHECK(has_problem(p, n, "defs.yaml:20:26:", "unknown entity 'shop'", NULL));
  CHECK(has_problem(p, n, "defs.yaml:21:13:", "unknown source 'nosuch'", NULL));
  CHECK(has_problem(p, n, "defs.yaml:20:32:", "share a join key", "buyer", NULL));
  CHECK(has_problem(p, n, "defs.yaml:22:10:", "bad duration '5 days'", NULL));
  CHECK(has_problem(p, n, "defs.yaml:24:9:", "feature 'customer_id'",
                    "join key of entity 'customer'", NULL));
  CHECK(has_problem(p, n, "defs.yaml:25:", "unknown dtype 'float'", NULL));
  CHECK(has_problem(p, n, "defs.yaml:29:9:", "feature 'amt'", "field_mapping",
                    "mapped name 'amount'", NULL));
  CHECK(has_problem(p, n, "defs.yaml:33:9:", "unknown feature view 'missing_view'", NULL));
  CHECK(has_problem(p, n, "defs.yaml:34:9:", "has no feature 'nope'", NULL));
  CHECK(has_problem(p, n, "defs.yaml:35:9:", "join_key_map key 'customer_id'",
                    "not a join key of feature view 'fv2'", NULL));
  CHECK(has_problem(p, n, "defs.yaml:37:5:", "on_demand_feature_views",
                    "missing required key 'sources'", NULL));
  CHECK(has_problem(p, n, "defs.yaml:37:5:", "on_demand_feature_views",
                    "missing required key 'schema'", NULL));
  if (n != 18) dump_probs(p, n);
  CHECK_EQ_INT(n, 18); /* the 17 checked above (one of them twice: two entities) */
  for (int i = 0; i < n; i++) CHECK_MSG(strstr(p[i], "defs.yaml:") == p[i], "%s", p[i]);
  ms_repo_problems_free(p, n);
}

static void test_yaml_errors_in_definitions(void) {
  const char *dir = make_repo("defs_yaml", k_config, "entities:\n  - name: a\n    x: [1, 2\n");
  write_file(dir, "more/other.yaml",
             "entities:\n  - name: b\n    name: c\n"
             "sources:\n  - &anchor {name: s}\n  - *anchor\n");
  write_file(dir, "unrelated.yaml", "services:\n  web: {}\n");
  write_file(dir, ".git/ignored.yaml", "[[[");
  int n;
  ms_status st;
  char **p = load_bad(dir, &n, &st);
  CHECK_EQ_INT(st, MS_ERR_PARSE);
  CHECK(has_problem(p, n, "defs.yaml:4:", "YAML error", NULL));
  CHECK(has_problem(p, n, "more/other.yaml:3:5:", "duplicate key 'name'", NULL));
  CHECK(has_problem(p, n, "more/other.yaml:6:5:", "aliases", NULL));
  CHECK(has_problem(p, n, "unrelated.yaml:1:1:", "unknown key 'services'", NULL));
  CHECK(!has_problem(p, n, "ignored", NULL));
  ms_repo_problems_free(p, n);

  /* a definitions: list restricts loading to those files */
  dir = make_repo("defs_list", "project: p\ndefinitions: [good.yaml]\n", NULL);
  write_file(dir, "good.yaml", "entities: [{name: a}]\n");
  write_file(dir, "bad.yaml", "[[[");
  ms_repo *r = NULL;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_repo_load(dir, NULL, &r, NULL, NULL, &err), &err);
  CHECK_EQ_INT(ms_repo_num_entities(r), 1);
  ms_repo_free(r);

  /* directories in the list are walked (sorted); a missing file is a problem */
  dir = make_repo("defs_listdir", "project: p\ndefinitions: [d, one.yaml]\n", NULL);
  write_file(dir, "d/b.yaml", "entities: [{name: b}]\n");
  write_file(dir, "d/a.yml", "entities: [{name: a}]\n");
  write_file(dir, "one.yaml", "entities: [{name: c}]\n");
  write_file(dir, "other.yaml", "[[[");
  ms_error_init(&err);
  CHECK_OK(ms_repo_load(dir, NULL, &r, NULL, NULL, &err), &err);
  CHECK_EQ_INT(ms_repo_num_entities(r), 3);
  CHECK_STR(ms_repo_entity(r, 0)->name, "a");
  CHECK_STR(ms_repo_entity(r, 1)->name, "b");
  CHECK_STR(ms_repo_entity(r, 2)->name, "c");
  CHECK_STR(ms_repo_entity(r, 0)->where, "d/a.yml:1:12");
  ms_repo_free(r);
  dir = make_repo("defs_listmissing", "project: p\ndefinitions: [nope.yaml]\n", NULL);
  int nm;
  ms_status sm;
  char **pm = load_bad(dir, &nm, &sm);
  CHECK(has_problem(pm, nm, "nope.yaml", "cannot open", NULL));
  ms_repo_problems_free(pm, nm);

  /* the error carries the first problem and a count */
  dir = make_repo("defs_two", k_config, "entities: [{name: a, bad: 1}, {name: b, worse: 2}]\n");
  ms_error_init(&err);
  CHECK_EQ_INT(ms_repo_load(dir, NULL, &r, NULL, NULL, &err), MS_ERR_INVALID);
  CHECK(strstr(err.message, "defs.yaml:1:") != NULL);
  CHECK(strstr(err.message, "and 1 more problem") != NULL);
}

static void test_durations(void) {
  static const struct {
    const char *text;
    int64_t secs;
    const char *canon;
  } ok[] = {{"0", 0, "0s"},          {"0s", 0, "0s"},       {"45s", 45, "45s"},
            {"30m", 1800, "30m"},    {"12h", 43200, "12h"}, {"90d", 7776000, "90d"},
            {"1h30m", 5400, "1h30m"}, {"90m", 5400, "1h30m"}, {"1d1s", 86401, "1d1s"},
            {"2w", 1209600, "14d"},  {"1d2h3m4s", 93784, "1d2h3m4s"}};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    int64_t s = -1;
    CHECK_MSG(ms_parse_duration(ok[i].text, &s), "%s", ok[i].text);
    CHECK_EQ_INT(s, ok[i].secs);
    char buf[64];
    ms_format_duration(s, buf, sizeof buf);
    CHECK_STR(buf, ok[i].canon);
  }
  static const char *bad[] = {"",   "5",    "h",     "1x",  "-1s", "1m1h", "1h1h",
                              "1.5h", "1 h", "1H",   "99999999999999999999d", "s5"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int64_t s;
    CHECK_MSG(!ms_parse_duration(bad[i], &s), "'%s' accepted", bad[i]);
  }
}

static void test_diff_summary(void) {
  const char *a = "{\"name\":\"v\",\"online\":false,\"schema\":[{\"description\":\"\","
                  "\"dtype\":\"int64\",\"name\":\"a\"},{\"description\":\"\",\"dtype\":"
                  "\"int32\",\"name\":\"b\"}],\"tags\":{},\"ttl\":\"0s\"}";
  const char *b = "{\"name\":\"v\",\"online\":true,\"schema\":[{\"description\":\"\","
                  "\"dtype\":\"int64\",\"name\":\"b\"},{\"description\":\"\",\"dtype\":"
                  "\"float64\",\"name\":\"c\"}],\"tags\":{\"t\":\"1\"},\"ttl\":\"90d\"}";
  char *s = ms_repo_diff_summary("feature_view", a, b);
  CHECK_STR(s, "online: false -> true; feature b: int32 -> int64; +feature c; -feature a; "
               "tags: {} -> {\"t\":\"1\"}; ttl: 0s -> 90d");
  ms_free(s);
  s = ms_repo_diff_summary("feature_view", a, a);
  CHECK_STR(s, "");
  ms_free(s);
  const char *sa = "{\"features\":[{\"alias\":null,\"feature_view\":\"x\",\"features\":[],"
                   "\"join_key_map\":{}},{\"alias\":null,\"feature_view\":\"y\",\"features\":"
                   "[\"p\"],\"join_key_map\":{}}],\"name\":\"s\"}";
  const char *sb = "{\"features\":[{\"alias\":null,\"feature_view\":\"y\",\"features\":"
                   "[\"p\",\"q\"],\"join_key_map\":{}},{\"alias\":null,\"feature_view\":\"z\","
                   "\"features\":[],\"join_key_map\":{}}],\"name\":\"s\"}";
  s = ms_repo_diff_summary("feature_service", sa, sb);
  CHECK_STR(s, "view y: [\"p\"] -> [\"p\",\"q\"]; +view z; -view x");
  ms_free(s);
  s = ms_repo_diff_summary("entity", "{\"description\":\"a\\\"b\\u00e9\"}",
                           "{\"description\":\"c\"}");
  CHECK_STR(s, "description: a\"b\xc3\xa9 -> c");
  ms_free(s);
  s = ms_repo_diff_summary("entity", "{\"a\":", "{\"a\":1}");
  CHECK_STR(s, "changed");
  ms_free(s);
  s = ms_repo_diff_summary("entity", "{\"a\":1}", "{\"a\":1,\"b\":[1,2]}");
  CHECK_STR(s, "b: (absent) -> [1,2]");
  ms_free(s);
}

/* Damaged input never crashes: every prefix and byte flips of the example definitions
 * load cleanly or fail with at least one located problem; truncated JSON never parses. */
static void test_damaged_input(void) {
  char path[2048];
  snprintf(path, sizeof path, "%s/tests/repo/example/defs/retail.yaml", MS_TEST_SOURCE_DIR);
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  static char text[8192];
  size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  CHECK(len > 100);
  static const char flips[] = {'[', '{', ':', '-', '\'', '"', '&', '*', '\t', ' ', '\n', 0};
  int loads = 0, fails = 0;
  for (size_t cut = 0; cut <= len; cut += 7) {
    for (int flip = 0; flip < 3; flip++) {
      char buf[8192];
      memcpy(buf, text, cut);
      buf[cut] = 0;
      if (flip && cut > 0) buf[(cut * 7 + (size_t)flip) % cut] = flips[(cut + (size_t)flip) % 11];
      const char *dir = make_repo("damaged", k_config, buf);
      ms_repo *r = NULL;
      char **p = NULL;
      int n = 0;
      ms_error err;
      ms_error_init(&err);
      ms_status st = ms_repo_load(dir, NULL, &r, &p, &n, &err);
      if (st == MS_OK) {
        const ms_reg_object *o;
        int no;
        CHECK_OK(ms_repo_objects(r, &o, &no, NULL, NULL, &err), &err);
        loads++;
      } else {
        CHECK(n >= 1 && r == NULL);
        CHECK_MSG(strstr(p[0], "defs.yaml") == p[0], "%s", p[0]);
        fails++;
      }
      ms_repo_problems_free(p, n);
      ms_repo_free(r);
    }
  }
  CHECK(loads > 0 && fails > 0);
  const char *j = "{\"a\":[1,{\"b\":\"x\\u00e9\"}],\"c\":null}";
  char *sum = ms_repo_diff_summary("entity", j, j);
  CHECK_STR(sum, "");
  ms_free(sum);
  for (size_t cut = 0; cut < strlen(j); cut++) {
    char buf[128];
    memcpy(buf, j, cut);
    buf[cut] = 0;
    sum = ms_repo_diff_summary("entity", buf, j);
    CHECK_MSG(sum && !strcmp(sum, "changed"), "cut %zu: %s", cut, sum ? sum : "(null)");
    ms_free(sum);
  }
}

MS_TEST_MAIN(MS_TEST(test_example_repo), MS_TEST(test_canonical_stable),
             MS_TEST(test_json_escaping), MS_TEST(test_env_substitution),
             MS_TEST(test_config_errors), MS_TEST(test_definition_errors),
             MS_TEST(test_yaml_errors_in_definitions), MS_TEST(test_durations),
             MS_TEST(test_diff_summary), MS_TEST(test_damaged_input))
