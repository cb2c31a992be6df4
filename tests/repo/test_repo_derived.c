/* Definitions with expressions: source columns/filter, aggregation views and on-demand
 * views. Parsing into the repo.h structs (defaults resolved), every structural error at its
 * file:line:col, canonical JSON (new fields explicit, stable across spellings, hashes that
 * change on real edits, lineage edges), diff summaries, and ms_repo_typecheck /
 * ms_repo_source_fields against real CSV files. */
#include <stdarg.h>

#include "morsel/alloc.h"
#include "morsel/repo.h"
#include "ms_test.h"

static const char *k_config = "project: t\nregistry: reg.db\n";

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

static const char *make_repo(const char *tag, const char *defs) {
  static char dir[2048];
  snprintf(dir, sizeof dir, "%s/%s", ms_test_tmpdir(), tag);
  mkdir(dir, 0777);
  write_file(dir, "feature_store.yaml", k_config);
  write_file(dir, "defs.yaml", defs);
  return dir;
}

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

/* Transactions shaped like UCI Online Retail (CSV: types are inferred) and driver stats. */
static const char *k_tx_csv =
    "InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
    "C536379,-1,2010-12-01 09:41:00,27.5,14527,United Kingdom\n"
    "536381,2,2010-12-01 09:41:00,1.25,,France\n";
static const char *k_drv_csv =
    "driver,event_timestamp,conv_rate,acc_rate,trips\n"
    "1001,2021-04-12 10:59:42,0.5,0.9,10\n";

/* The contract's example, line numbers on the right. */
static const char *k_good =
    "entities:\n"                                                                   /* 1 */
    "  - {name: customer, join_keys: [customer_id], value_type: int64}\n"           /* 2 */
    "  - {name: driver, join_keys: [driver_id], value_type: int64}\n"               /* 3 */
    "sources:\n"                                                                    /* 4 */
    "  - name: transactions\n"                                                      /* 5 */
    "    path: tx.csv\n"                                                            /* 6 */
    "    file_format: csv\n"                                                        /* 7 */
    "    timestamp_field: InvoiceDate\n"                                            /* 8 */
    "    columns:\n"                                                                /* 9 */
    "      - name: customer_id\n"                                                   /* 10 */
    "        expression: cast(CustomerID as int64)\n"                               /* 11 */
    "      - {name: revenue, expression: Quantity * UnitPrice}\n"                   /* 12 */
    "      - name: is_cancellation\n"                                               /* 13 */
    "        expression: starts_with(cast(InvoiceNo as string), 'C')\n"             /* 14 */
    "    filter: CustomerID is not null\n"                                          /* 15 */
    "  - name: driver_stats\n"                                                      /* 16 */
    "    path: drv.csv\n"                                                           /* 17 */
    "    file_format: csv\n"                                                        /* 18 */
    "    timestamp_field: event_timestamp\n"                                        /* 19 */
    "    field_mapping: {driver: driver_id}\n"                                      /* 20 */
    "feature_views:\n"                                                              /* 21 */
    "  - name: driver_hourly_stats\n"                                               /* 22 */
    "    entities: [driver]\n"                                                      /* 23 */
    "    source: driver_stats\n"                                                    /* 24 */
    "    schema: [{name: conv_rate, dtype: float64}, {name: acc_rate, dtype: float64}]\n" /* 25 */
    "  - name: customer_rfm_features\n"                                             /* 26 */
    "    entities: [customer]\n"                                                    /* 27 */
    "    source: transactions\n"                                                    /* 28 */
    "    population: {window: 90d, filter: not is_cancellation}\n"                  /* 29 */
    "    cutoffs: {start: first_event + 90d, every: 30d, end: last_event - 30d}\n"  /* 30 */
    "    aggregations:\n"                                                           /* 31 */
    "      - {name: last_purchase, function: max, input: InvoiceDate, window: 90d, filter: not is_cancellation}\n" /* 32 */
    "      - {name: frequency, function: count_distinct, input: InvoiceNo, window: 90d}\n" /* 33 */
    "      - {name: monetary, function: sum, input: revenue, window: 90d}\n"        /* 34 */
    "      - {name: first_purchase, function: min, input: InvoiceDate, window: unbounded}\n" /* 35 */
    "      - {name: gap, function: mean_gap, input: InvoiceDate, by: InvoiceNo, window: 90d}\n" /* 36 */
    "      - {name: next_30d, function: count, window: 30d, direction: forward}\n"  /* 37 */
    "    expressions:\n"                                                            /* 38 */
    "      - {name: recency_days, expression: \"date_diff('day', last_purchase, as_of)\"}\n" /* 39 */
    "    schema:\n"                                                                 /* 40 */
    "      - {name: recency_days, dtype: int64}\n"                                  /* 41 */
    "      - {name: frequency, dtype: int64}\n"                                     /* 42 */
    "      - {name: monetary, dtype: float64}\n"                                    /* 43 */
    "      - {name: next_30d, dtype: float64}\n"                                    /* 44 */
    "  - name: label_view\n"                                                        /* 45 */
    "    entities: [customer]\n"                                                    /* 46 */
    "    source: transactions\n"                                                    /* 47 */
    "    timestamp_field: InvoiceDate\n"                                            /* 48 */
    "    aggregations:\n"                                                           /* 49 */
    "      - {name: buys, function: count, window: 30d, direction: forward}\n"      /* 50 */
    "      - {name: spent, function: sum, input: revenue, window: 7d}\n"            /* 51 */
    "      - {name: ever, function: count, window: unbounded}\n"                    /* 52 */
    "    schema: [{name: buys, dtype: int64}]\n"                                    /* 53 */
    "on_demand_feature_views:\n"                                                    /* 54 */
    "  - name: transformed_conv_rate\n"                                             /* 55 */
    "    sources: [driver_hourly_stats]\n"                                          /* 56 */
    "    request: [{name: val_to_add, dtype: int64}]\n"                             /* 57 */
    "    schema:\n"                                                                 /* 58 */
    "      - {name: conv_rate_plus_100, dtype: float64, expression: conv_rate + 100}\n" /* 59 */
    "      - {name: conv_rate_plus_val_to_add, dtype: float64, expression: \"driver_hourly_stats.conv_rate + val_to_add\"}\n" /* 60 */
    "    description: Feast's example\n"                                            /* 61 */
    "feature_services:\n"                                                           /* 62 */
    "  - name: svc\n"                                                               /* 63 */
    "    features:\n"                                                               /* 64 */
    "      - driver_hourly_stats\n"                                                 /* 65 */
    "      - {feature_view: transformed_conv_rate, features: [conv_rate_plus_100], alias: t}\n"; /* 66 */

static ms_repo *load_good(const char *tag, const char *defs) {
  const char *dir = make_repo(tag, defs);
  write_file(dir, "tx.csv", k_tx_csv);
  write_file(dir, "drv.csv", k_drv_csv);
  ms_repo *r = NULL;
  char **p = NULL;
  int n = 0;
  ms_error err;
  ms_error_init(&err);
  ms_status st = ms_repo_load(dir, NULL, &r, &p, &n, &err);
  if (st != MS_OK) { /* the callers skip their checks on NULL */
    fprintf(stderr, "%s: load failed: %s\n", tag, err.message);
    dump_probs(p, n);
    ms_test_failed_flag = 1;
  }
  ms_repo_problems_free(p, n);
  return r;
}

static void test_parse(void) {
  ms_repo *r = load_good("good", k_good);
  if (!r) return;
  const ms_source_def *s = ms_repo_find_source(r, "transactions");
  CHECK(s != NULL);
  CHECK(ms_repo_find_source(r, "nope") == NULL);
  CHECK_EQ_INT(s->n_columns, 3);
  CHECK_STR(s->columns[0].name, "customer_id");
  CHECK_STR(s->columns[0].expression, "cast(CustomerID as int64)");
  CHECK_STR(s->columns[0].where, "defs.yaml:11:21");
  CHECK_STR(s->columns[1].name, "revenue");
  CHECK_STR(s->columns[2].expression, "starts_with(cast(InvoiceNo as string), 'C')");
  CHECK_STR(s->filter, "CustomerID is not null");
  CHECK(ms_repo_find_source(r, "driver_stats")->filter == NULL);
  CHECK_EQ_INT(ms_repo_find_source(r, "driver_stats")->n_columns, 0);

  const ms_feature_view_def *plain = ms_repo_find_feature_view(r, "driver_hourly_stats");
  CHECK(plain && plain->agg.n_aggregations == 0 && plain->agg.expressions == NULL);
  const ms_feature_view_def *v = ms_repo_find_feature_view(r, "customer_rfm_features");
  CHECK(v != NULL);
  if (!v) goto done;
  const ms_aggregation_spec *a = &v->agg;
  CHECK(a->timestamp_field == NULL); /* the source's */
  CHECK(a->filter == NULL);
  CHECK_EQ_INT(a->n_aggregations, 6);
  CHECK_STR(a->aggregations[0].name, "last_purchase");
  CHECK_STR(a->aggregations[0].function, "max");
  CHECK_STR(a->aggregations[0].input, "InvoiceDate");
  CHECK_STR(a->aggregations[0].filter, "not is_cancellation");
  CHECK_EQ_INT(a->aggregations[0].window_seconds, 90 * 86400);
  CHECK(!a->aggregations[0].forward);
  CHECK_EQ_INT(a->aggregations[0].unit_seconds, 0);
  CHECK_EQ_INT(a->aggregations[3].window_seconds, -1);
  CHECK_STR(a->aggregations[4].by, "InvoiceNo");
  CHECK_EQ_INT(a->aggregations[4].unit_seconds, 86400); /* mean_gap default */
  CHECK(a->aggregations[5].input == NULL);
  CHECK(a->aggregations[5].forward);
  CHECK_EQ_INT(a->aggregations[5].window_seconds, 30 * 86400);
  CHECK_STR(a->aggregations[5].where, "defs.yaml:37:9");
  CHECK_EQ_INT(a->n_expressions, 1);
  CHECK_STR(a->expressions[0].name, "recency_days");
  CHECK_STR(a->expressions[0].expression, "date_diff('day', last_purchase, as_of)");
  CHECK_EQ_INT(a->population_window_seconds, 90 * 86400);
  CHECK_STR(a->population_filter, "not is_cancellation");
  CHECK(a->has_cutoffs);
  CHECK_STR(a->cutoff_start, "first_event + 90d");
  CHECK_STR(a->cutoff_end, "last_event - 30d");
  CHECK_EQ_INT(a->cutoff_every_seconds, 30 * 86400);

  /* population default: the largest finite backward window (forward and unbounded
   * windows do not count) */
  const ms_feature_view_def *lv = ms_repo_find_feature_view(r, "label_view");
  CHECK(lv && lv->agg.population_window_seconds == 7 * 86400);
  CHECK(lv && !lv->agg.has_cutoffs);
  CHECK_STR(lv->agg.timestamp_field, "InvoiceDate");

  CHECK_EQ_INT(ms_repo_num_odfvs(r), 1);
  const ms_odfv_def *o = ms_repo_odfv(r, 0);
  CHECK(o == ms_repo_find_odfv(r, "transformed_conv_rate"));
  CHECK(ms_repo_odfv(r, 1) == NULL && ms_repo_find_odfv(r, "driver_hourly_stats") == NULL);
  CHECK_EQ_INT(o->n_sources, 1);
  CHECK_STR(o->sources[0], "driver_hourly_stats");
  CHECK_EQ_INT(o->n_request, 1);
  CHECK_STR(o->request[0].name, "val_to_add");
  CHECK_STR(o->request[0].dtype, "int64");
  CHECK_EQ_INT(o->n_schema, 2);
  CHECK_STR(o->schema[1].name, "conv_rate_plus_val_to_add");
  CHECK_STR(o->outputs[1].name, "conv_rate_plus_val_to_add");
  CHECK_STR(o->outputs[1].expression, "driver_hourly_stats.conv_rate + val_to_add");
  CHECK_STR(o->outputs[0].where, "defs.yaml:59:64");
  CHECK_STR(o->description, "Feast's example");
  const ms_feature_service_def *sv = ms_repo_feature_service(r, 0);
  CHECK_EQ_INT(sv->n_items, 2);
  CHECK_STR(sv->items[1].view, "transformed_conv_rate");
  CHECK_STR(sv->items[1].alias, "t");
done:
  ms_repo_free(r);
}

static void test_structural_errors(void) {
  const char *defs =
      "entities: [{name: customer, join_keys: [customer_id]}]\n"                     /* 1 */
      "sources:\n"                                                                   /* 2 */
      "  - name: tx\n"                                                               /* 3 */
      "    path: tx.csv\n"                                                           /* 4 */
      "    timestamp_field: ts\n"                                                    /* 5 */
      "    columns:\n"                                                               /* 6 */
      "      - {name: a, expression: x + }\n"                                        /* 7 */
      "      - {name: a, expression: y}\n"                                           /* 8 */
      "      - {name: b, expresion: y}\n"                                            /* 9 */
      "    filter: \"  \"\n"                                                         /* 10 */
      "feature_views:\n"                                                             /* 11 */
      "  - name: plain\n"                                                            /* 12 */
      "    entities: [customer]\n"                                                   /* 13 */
      "    source: tx\n"                                                             /* 14 */
      "    expressions: [{name: e, expression: '1'}]\n"                              /* 15 */
      "    schema: [{name: f, dtype: int64}]\n"                                      /* 16 */
      "  - name: agg\n"                                                              /* 17 */
      "    entities: [customer]\n"                                                   /* 18 */
      "    source: tx\n"                                                             /* 19 */
      "    population: {windw: 3d}\n"                                                /* 20 */
      "    cutoffs: {start: frist_event + 1d, every: -3d, end: '2011-03-01 08:26:00'}\n" /* 21 */
      "    aggregations:\n"                                                          /* 22 */
      "      - {name: s, function: summ, input: q, window: 1d}\n"                    /* 23 */
      "      - {name: m, function: mean, window: 1d}\n"                              /* 24 */
      "      - {name: c, function: count, window: forever, by: q, unit: 1d}\n"       /* 25 */
      "      - {name: g, function: mean_gap, input: ts, window: 0s, unit: 0d, direction: up}\n" /* 26 */
      "      - {name: as_of, function: count, window: 1d}\n"                         /* 27 */
      "      - {name: customer_id, function: count, window: 1d}\n"                   /* 28 */
      "      - {name: c, function: count, window: 1d, fliter: x}\n"                  /* 29 */
      "      - {function: count, window: 1d}\n"                                      /* 30 */
      "    expressions:\n"                                                           /* 31 */
      "      - {name: s, expression: s + 1}\n"                                       /* 32 */
      "      - {name: e, expression: \"s + * 2\"}\n"                                 /* 33 */
      "    schema: [{name: s, dtype: int64}, {name: nothing, dtype: int64}]\n"       /* 34 */
      "  - name: agg2\n"                                                             /* 35 */
      "    entities: [customer]\n"                                                   /* 36 */
      "    source: tx\n"                                                             /* 37 */
      "    aggregations: []\n"                                                       /* 38 */
      "on_demand_feature_views:\n"                                                   /* 39 */
      "  - name: o1\n"                                                               /* 40 */
      "    sources: [plain, o2, plian, plain]\n"                                     /* 41 */
      "    request: [{name: r, dtype: int64}]\n"                                     /* 42 */
      "    schema:\n"                                                                /* 43 */
      "      - {name: x, dtype: float64}\n"                                          /* 44 */
      "      - {name: r, dtype: float64, expression: r}\n"                           /* 45 */
      "      - {name: customer_id, dtype: int64, expression: r}\n"                   /* 46 */
      "  - name: o2\n"                                                               /* 47 */
      "    sources: [plain]\n"                                                       /* 48 */
      "    schema: []\n"                                                             /* 49 */
      "  - {name: plain, sources: [agg], schema: [{name: z, dtype: int64, expression: s}]}\n" /* 50 */
      "feature_services:\n"                                                          /* 51 */
      "  - name: svc\n"                                                              /* 52 */
      "    features:\n"                                                              /* 53 */
      "      - o1: [x, r]\n"                                                         /* 54 */
      "      - {feature_view: o1, join_key_map: {customer_id: c}}\n"                 /* 55 */
      "      - o3\n";                                                                /* 56 */
  const char *dir = make_repo("structural", defs);
  ms_repo *r = NULL;
  char **p = NULL;
  int n = 0;
  ms_error err;
  ms_error_init(&err);
  ms_status st = ms_repo_load(dir, NULL, &r, &p, &n, &err);
  CHECK_EQ_INT(st, MS_ERR_INVALID);
  CHECK(r == NULL);
  int checked = 0;
#define P(...)                                 \
  do {                                         \
    CHECK(has_problem(p, n, __VA_ARGS__, NULL)); \
    checked++;                                 \
  } while (0)
  P("defs.yaml:7:31:", "source 'tx', derived column 'a'", "at column 4");
  P("defs.yaml:8:9:", "derived column: 'a' is defined twice (first at defs.yaml:7:31)");
  P("defs.yaml:9:19:", "unknown key 'expresion'", "did you mean 'expression'?");
  P("defs.yaml:9:9:", "missing required key 'expression'");
  P("defs.yaml:10:13:", "source 'tx', filter: empty expression");
  P("defs.yaml:15:18:", "feature view 'plain': 'expressions' is only for aggregation views");
  P("defs.yaml:20:18:", "unknown key 'windw' in population", "did you mean 'window'?");
  P("defs.yaml:21:22:", "cutoffs start: unknown name 'frist_event'", "did you mean 'first_event'?");
  P("defs.yaml:21:47:", "cutoffs every: bad duration '-3d'");
  P("defs.yaml:23:29:", "aggregation 's': unknown function 'summ'", "did you mean 'sum'?");
  P("defs.yaml:24:9:", "aggregation 'm': function mean needs an input");
  P("defs.yaml:25:44:", "aggregation 'c', window: bad window 'forever'");
  P("defs.yaml:25:57:", "aggregation 'c': 'by' goes only with function mean_gap (this is count)");
  P("defs.yaml:25:66:", "aggregation 'c': 'unit' goes only with function mean_gap");
  P("defs.yaml:26:58:", "aggregation 'g', window: bad window '0s'");
  P("defs.yaml:26:68:", "aggregation 'g', unit: bad duration '0d'");
  P("defs.yaml:26:83:", "aggregation 'g': direction 'up' (use backward or forward)");
  P("defs.yaml:27:9:", "'as_of' is a reserved name");
  P("defs.yaml:28:9:", "aggregation 'customer_id' is named like the join key of entity 'customer'");
  P("defs.yaml:29:9:", "'c' is defined twice (first at defs.yaml:25:9)");
  P("defs.yaml:29:48:", "unknown key 'fliter' in aggregations", "did you mean 'filter'?");
  P("defs.yaml:30:9:", "aggregations item is missing required key 'name'");
  P("defs.yaml:32:31:", "'s' is defined twice (first at defs.yaml:23:9)");
  P("defs.yaml:33:31:", "feature view 'agg', expression 'e': at column 5:");
  P("defs.yaml:34:39:", "schema field 'nothing' is neither an aggregation nor an expression");
  P("defs.yaml:38:19:", "feature view 'agg2': aggregations must be a list of at least one");
  P("defs.yaml:41:22:", "source 'o2' is an on-demand feature view; the sources of an on-demand "
                        "view are feature views");
  P("defs.yaml:41:26:", "unknown feature view 'plian'", "did you mean 'plain'?");
  P("defs.yaml:41:33:", "source 'plain' is listed twice");
  P("defs.yaml:44:9:", "missing required key 'expression'");
  P("defs.yaml:45:47:", "output 'r' has the name of a request column");
  P("defs.yaml:46:55:", "output 'customer_id' is named like the join key of entity 'customer'");
  P("defs.yaml:49:13:", "on-demand feature view 'o2' has no outputs");
  P("defs.yaml:50:5:", "on-demand feature view 'plain' has the name of the feature view defined "
                       "at defs.yaml:12:5");
  P("defs.yaml:54:9:", "on-demand feature view 'o1' has no feature 'x'");
  P("defs.yaml:55:9:", "join_key_map does not apply to on-demand feature view 'o1'");
  P("defs.yaml:56:9:", "unknown feature view 'o3'", "did you mean 'o1'?");
#undef P
  /* o1's missing 'x' output also makes 'x' unknown to the service: counted above */
  if (n != checked) dump_probs(p, n);
  CHECK_EQ_INT(n, checked);
  for (int i = 0; i < n; i++) CHECK_MSG(strstr(p[i], "defs.yaml:") == p[i], "%s", p[i]);
  ms_repo_problems_free(p, n);
}

/* ---- canonical JSON ---- */

static char *hash_of(ms_repo *r, const char *kind, const char *name, char **json) {
  const ms_reg_object *o;
  const ms_reg_edge *e;
  int n, ne;
  ms_error err;
  ms_error_init(&err);
  if (ms_repo_objects(r, &o, &n, &e, &ne, &err) != MS_OK) return NULL;
  for (int i = 0; i < n; i++)
    if (!strcmp(o[i].kind, kind) && !strcmp(o[i].name, name)) {
      if (json) *json = ms_strdup(o[i].json);
      return ms_strdup(o[i].hash);
    }
  return NULL;
}

/* Replaces the first `from` in text by `to` (a new string). */
static char *edit(const char *text, const char *from, const char *to) {
  const char *p = strstr(text, from);
  if (!p) return NULL;
  return ms_asprintf("%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
}

static void test_canonical(void) {
  ms_repo *r = load_good("canon", k_good);
  if (!r) return;
  const ms_reg_object *o;
  const ms_reg_edge *e;
  int n, ne;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_repo_objects(r, &o, &n, &e, &ne, &err), &err);
  CHECK_EQ_INT(n, 2 + 2 + 3 + 1 + 1);
  bool odfv_seen = false;
  for (int i = 0; i < n; i++) {
    if (!strcmp(o[i].kind, "on_demand_feature_view")) {
      odfv_seen = true;
      CHECK_STR(o[i].name, "transformed_conv_rate");
      CHECK_STR(o[i].json,
                "{\"description\":\"Feast's example\",\"name\":\"transformed_conv_rate\","
                "\"owner\":\"\",\"request\":[{\"description\":\"\",\"dtype\":\"int64\","
                "\"name\":\"val_to_add\"}],\"schema\":[{\"description\":\"\",\"dtype\":"
                "\"float64\",\"expression\":\"conv_rate + 100\",\"name\":"
                "\"conv_rate_plus_100\"},{\"description\":\"\",\"dtype\":\"float64\","
                "\"expression\":\"driver_hourly_stats.conv_rate + val_to_add\",\"name\":"
                "\"conv_rate_plus_val_to_add\"}],\"sources\":[\"driver_hourly_stats\"],"
                "\"tags\":{}}");
    }
    if (!strcmp(o[i].name, "label_view"))
      CHECK_STR(o[i].json,
                "{\"aggregation\":{\"aggregations\":[{\"by\":null,\"direction\":\"forward\","
                "\"filter\":null,\"function\":\"count\",\"input\":null,\"name\":\"buys\","
                "\"unit\":null,\"window\":\"30d\"},{\"by\":null,\"direction\":\"backward\","
                "\"filter\":null,\"function\":\"sum\",\"input\":\"revenue\",\"name\":"
                "\"spent\",\"unit\":null,\"window\":\"7d\"},{\"by\":null,\"direction\":"
                "\"backward\",\"filter\":null,\"function\":\"count\",\"input\":null,\"name\":"
                "\"ever\",\"unit\":null,\"window\":\"unbounded\"}],\"cutoffs\":null,"
                "\"expressions\":[],\"filter\":null,\"population\":{\"filter\":null,"
                "\"window\":\"7d\"},\"timestamp_field\":\"InvoiceDate\"},\"description\":\"\","
                "\"entities\":[\"customer\"],\"name\":\"label_view\",\"online\":false,"
                "\"owner\":\"\",\"schema\":[{\"description\":\"\",\"dtype\":\"int64\","
                "\"name\":\"buys\"}],\"source\":\"transactions\",\"tags\":{},\"ttl\":\"0s\"}");
    if (!strcmp(o[i].name, "customer_rfm_features")) {
      /* the timestamp field resolved to the source's, mean_gap's unit explicit */
      CHECK(strstr(o[i].json, "\"timestamp_field\":\"InvoiceDate\"") != NULL);
      CHECK(strstr(o[i].json, "\"by\":\"InvoiceNo\",\"direction\":\"backward\",\"filter\":"
                              "null,\"function\":\"mean_gap\",\"input\":\"InvoiceDate\","
                              "\"name\":\"gap\",\"unit\":\"1d\"") != NULL);
      CHECK(strstr(o[i].json, "\"cutoffs\":{\"end\":\"last_event - 30d\",\"every\":\"30d\","
                              "\"start\":\"first_event + 90d\"}") != NULL);
    }
    if (!strcmp(o[i].name, "transactions"))
      CHECK(strstr(o[i].json, "\"columns\":[{\"expression\":\"cast(CustomerID as int64)\","
                              "\"name\":\"customer_id\"},") != NULL &&
            strstr(o[i].json, "\"filter\":\"CustomerID is not null\"") != NULL);
  }
  CHECK(odfv_seen);
  /* lineage: feature_view -> on_demand_feature_view -> feature_service */
  bool fv_odfv = false, odfv_svc = false, fv_svc = false;
  for (int i = 0; i < ne; i++) {
    if (!strcmp(e[i].from_kind, "feature_view") && !strcmp(e[i].from_name, "driver_hourly_stats") &&
        !strcmp(e[i].to_kind, "on_demand_feature_view") &&
        !strcmp(e[i].to_name, "transformed_conv_rate"))
      fv_odfv = true;
    if (!strcmp(e[i].from_kind, "on_demand_feature_view") &&
        !strcmp(e[i].from_name, "transformed_conv_rate") &&
        !strcmp(e[i].to_kind, "feature_service") && !strcmp(e[i].to_name, "svc"))
      odfv_svc = true;
    if (!strcmp(e[i].from_kind, "feature_view") && !strcmp(e[i].from_name, "driver_hourly_stats") &&
        !strcmp(e[i].to_kind, "feature_service"))
      fv_svc = true;
  }
  CHECK(fv_odfv && odfv_svc && fv_svc);
  CHECK_EQ_INT(ne, 3 * 2 + 1 + 2); /* source + entity per view, the odfv source, 2 items */

  /* the same definitions spelt differently hash the same; real edits change one object */
  char *h_v = hash_of(r, "feature_view", "customer_rfm_features", NULL);
  char *h_o = hash_of(r, "on_demand_feature_view", "transformed_conv_rate", NULL);
  char *h_p = hash_of(r, "feature_view", "driver_hourly_stats", NULL);
  char *h_s = hash_of(r, "data_source", "transactions", NULL);
  char *j_v = NULL, *j_o = NULL, *j_s = NULL;
  ms_free(hash_of(r, "feature_view", "customer_rfm_features", &j_v));
  ms_free(hash_of(r, "on_demand_feature_view", "transformed_conv_rate", &j_o));
  ms_free(hash_of(r, "data_source", "transactions", &j_s));
  ms_repo_free(r);
  struct {
    const char *from, *to, *kind, *name;
    bool changes;
    const char *summary;
  } cases[] = {
      {"window: 90d, filter: not is_cancellation}\n      - {name: frequency",
       "window: 2160h, filter: not is_cancellation}\n      - {name: frequency",
       "feature_view", "customer_rfm_features", false, NULL},
      {"input: InvoiceDate, by: InvoiceNo, window: 90d}",
       "input: InvoiceDate, by: InvoiceNo, window: 90d, unit: 24h}",
       "feature_view", "customer_rfm_features", false, NULL},
      {"{name: next_30d, function: count, window: 30d, direction: forward}",
       "{name: next_30d, function: count, window: 60d, direction: forward}", "feature_view",
       "customer_rfm_features", true, "aggregation next_30d: window 30d -> 60d"},
      {"input: InvoiceDate, by: InvoiceNo, window: 90d}",
       "input: InvoiceDate, by: InvoiceNo, window: 90d, unit: 1h}", "feature_view",
       "customer_rfm_features", true, "aggregation gap: unit 1d -> 1h"},
      {"last_purchase, as_of)", "last_purchase, as_of) + 1", "feature_view",
       "customer_rfm_features", true,
       "expression recency_days: date_diff('day', last_purchase, as_of) -> "
       "date_diff('day', last_purchase, as_of) + 1"},
      {"every: 30d", "every: 7d", "feature_view", "customer_rfm_features", true,
       "cutoffs.every: 30d -> 7d"},
      {"      - {name: monetary, function: sum, input: revenue, window: 90d}\n", "",
       "feature_view", "customer_rfm_features", true, NULL},
      {"expression: conv_rate + 100}", "expression: conv_rate + 101}",
       "on_demand_feature_view", "transformed_conv_rate", true,
       "feature conv_rate_plus_100: expression conv_rate + 100 -> conv_rate + 101"},
      {"Quantity * UnitPrice", "UnitPrice * Quantity", "data_source", "transactions", true,
       "column revenue: Quantity * UnitPrice -> UnitPrice * Quantity"},
  };
  for (int c = 0; c < (int)(sizeof cases / sizeof *cases); c++) {
    char *defs = edit(k_good, cases[c].from, cases[c].to);
    CHECK_MSG(defs != NULL, "case %d", c);
    if (!defs) continue;
    /* a removed aggregation is also gone from the schema */
    char *d2 = c == 6 ? edit(defs, "      - {name: monetary, dtype: float64}\n", "") : NULL;
    char tag[32];
    snprintf(tag, sizeof tag, "edit%d", c);
    ms_repo *r2 = load_good(tag, d2 ? d2 : defs);
    ms_free(defs);
    ms_free(d2);
    if (!r2) continue;
    char *json = NULL;
    char *h = hash_of(r2, cases[c].kind, cases[c].name, &json);
    const char *old_h = !strcmp(cases[c].kind, "data_source") ? h_s
                        : !strcmp(cases[c].kind, "feature_view") ? h_v : h_o;
    const char *old_j = !strcmp(cases[c].kind, "data_source") ? j_s
                        : !strcmp(cases[c].kind, "feature_view") ? j_v : j_o;
    CHECK_MSG((strcmp(h, old_h) != 0) == cases[c].changes, "case %d", c);
    if (cases[c].summary) {
      char *sum = ms_repo_diff_summary(cases[c].kind, old_j, json);
      CHECK_STR(sum, cases[c].summary);
      ms_free(sum);
    }
    if (c == 6) {
      char *sum = ms_repo_diff_summary(cases[c].kind, j_v, json);
      CHECK(strstr(sum, "-aggregation monetary") != NULL && strstr(sum, "-feature monetary"));
      ms_free(sum);
    }
    /* the other objects keep their hashes */
    char *hp = hash_of(r2, "feature_view", "driver_hourly_stats", NULL);
    CHECK_STR(hp, h_p);
    if (strcmp(cases[c].kind, "on_demand_feature_view")) {
      char *ho = hash_of(r2, "on_demand_feature_view", "transformed_conv_rate", NULL);
      CHECK_STR(ho, h_o);
      ms_free(ho);
    }
    ms_free(hp);
    ms_free(h);
    ms_free(json);
    ms_repo_free(r2);
  }
  /* a field an older version lacked is not a change worth listing when at its default */
  char *sum = ms_repo_diff_summary("data_source", "{\"name\":\"s\"}",
                                   "{\"columns\":[],\"filter\":null,\"name\":\"s\"}");
  CHECK_STR(sum, "");
  ms_free(sum);
  sum = ms_repo_diff_summary("feature_view", "{\"aggregation\":null,\"name\":\"v\"}",
                             "{\"aggregation\":{\"filter\":null},\"name\":\"v\"}");
  CHECK_STR(sum, "aggregation: null -> {\"filter\":null}");
  ms_free(sum);
  ms_free(h_v);
  ms_free(h_o);
  ms_free(h_p);
  ms_free(h_s);
  ms_free(j_v);
  ms_free(j_o);
  ms_free(j_s);
}

/* ---- type check ---- */

static void test_source_fields(void) {
  ms_repo *r = load_good("fields", k_good);
  if (!r) return;
  ms_field *f = NULL;
  int n = 0;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_repo_source_fields(r, ms_repo_find_source(r, "transactions"), &f, &n, &err),
           &err);
  const char *names[] = {"InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
                         "Country",   "customer_id", "revenue", "is_cancellation"};
  const char *types[] = {"utf8",    "int64", "timestamp[ns]", "float64", "int64",
                         "utf8",    "int64", "float64",       "bool"};
  CHECK_EQ_INT(n, 9);
  for (int i = 0; i < n && i < 9; i++) {
    char tn[64];
    CHECK_STR(f[i].name, names[i]);
    CHECK_STR(ms_type_to_string(&f[i].type, tn, sizeof tn), types[i]);
  }
  ms_repo_fields_free(f, n);
  /* field_mapping gives logical names */
  CHECK_OK(ms_repo_source_fields(r, ms_repo_find_source(r, "driver_stats"), &f, &n, &err),
           &err);
  CHECK_EQ_INT(n, 5);
  if (n == 5) CHECK_STR(f[0].name, "driver_id");
  ms_repo_fields_free(f, n);
  ms_repo_free(r);

  /* a derived column replaces the file column of its name in place */
  char *defs = edit(k_good, "{name: revenue, expression: Quantity * UnitPrice}",
                    "{name: Quantity, expression: Quantity * 2.5}");
  char *d2 = edit(defs, "input: revenue, window: 90d", "input: Quantity, window: 90d");
  char *d3 = edit(d2, "input: revenue, window: 7d", "input: Quantity, window: 7d");
  r = load_good("fields2", d3);
  ms_free(defs);
  ms_free(d2);
  ms_free(d3);
  if (!r) return;
  CHECK_OK(ms_repo_source_fields(r, ms_repo_find_source(r, "transactions"), &f, &n, &err),
           &err);
  CHECK_EQ_INT(n, 8);
  if (n == 8) {
    CHECK_STR(f[1].name, "Quantity");
    CHECK_EQ_INT(f[1].type.id, MS_TYPE_FLOAT64);
  }
  ms_repo_fields_free(f, n);
  char **p = NULL;
  int np = 0;
  CHECK_OK(ms_repo_typecheck(r, &p, &np, &err), &err);
  ms_repo_free(r);
}

static void test_typecheck_ok(void) {
  ms_repo *r = load_good("tc_ok", k_good);
  if (!r) return;
  char **p = NULL;
  int n = 0;
  ms_error err;
  ms_error_init(&err);
  ms_status st = ms_repo_typecheck(r, &p, &n, &err);
  if (st != MS_OK) dump_probs(p, n);
  CHECK_EQ_INT(st, MS_OK);
  CHECK_EQ_INT(n, 0);
  ms_repo_problems_free(p, n);
  ms_repo_free(r);
}

static void test_typecheck_errors(void) {
  struct {
    const char *from, *to, *where, *words1, *words2;
  } cases[] = {
      {"Quantity * UnitPrice", "Quantity * UnitPrise", "defs.yaml:12:37:",
       "source 'transactions', derived column 'revenue': at column 12: unknown column "
       "'UnitPrise'",
       "did you mean 'UnitPrice'?"},
      {"filter: CustomerID is not null", "filter: CustomerID", "defs.yaml:15:13:",
       "source 'transactions', filter: a filter must be bool, not int64", ""},
      {"function: sum, input: revenue, window: 90d", "function: sum, input: Country, window: 90d",
       "defs.yaml:34:48:", "aggregation 'monetary': sum needs numbers; its input is utf8", ""},
      {"function: mean_gap, input: InvoiceDate", "function: mean_gap, input: Quantity",
       "defs.yaml:36:48:", "aggregation 'gap': mean_gap needs a timestamp input", ""},
      {"function: max, input: InvoiceDate", "function: max, input: InvoiceDate = InvoiceDate",
       "defs.yaml:32:53:", "max needs an ordered type", "its input is bool"},
      {"max, input: InvoiceDate, window: 90d, filter: not is_cancellation}",
       "max, input: InvoiceDate, window: 90d, filter: Quantity}",
       "defs.yaml:32:87:", "aggregation 'last_purchase', filter: a filter must be bool, not int64",
       ""},
      {"{window: 90d, filter: not is_cancellation}", "{window: 90d, filter: 'Country'}",
       "defs.yaml:29:39:", "population filter: a filter must be bool, not utf8", ""},
      {"{name: recency_days, dtype: int64}", "{name: recency_days, dtype: int32}",
       "defs.yaml:41:9:",
       "feature 'recency_days' is declared int32 but its value is int64 (declare int64 or "
       "float64)",
       ""},
      {"{name: monetary, dtype: float64}", "{name: monetary, dtype: int64}", "defs.yaml:43:9:",
       "feature 'monetary' is declared int64 but its value is float64 (declare float64)", ""},
      {"date_diff('day', last_purchase, as_of)", "date_diff('day', last_purchas, as_of)",
       "defs.yaml:39:42:", "expression 'recency_days': at column 18: unknown column "
       "'last_purchas'", "did you mean 'last_purchase'?"},
      {"date_diff('day', last_purchase, as_of)", "date_diff('day', InvoiceDate, as_of)",
       "defs.yaml:39:42:", "unknown column 'InvoiceDate'", ""},
      {"    timestamp_field: InvoiceDate\n    aggregations", "    timestamp_field: Country\n    aggregations",
       "defs.yaml:48:22:", "feature view 'label_view': timestamp field 'Country' is utf8, not a "
       "timestamp or date", ""},
      {"    timestamp_field: InvoiceDate\n    aggregations", "    timestamp_field: InvoiceDat\n    aggregations",
       "defs.yaml:48:22:", "timestamp field 'InvoiceDat' is not a column of source 'transactions'",
       "did you mean 'InvoiceDate'?"},
      {"{name: customer, join_keys: [customer_id]", "{name: customer, join_keys: [cust_id]",
       "defs.yaml:27:16:", "join key 'cust_id' of entity 'customer' is not a column of source "
       "'transactions'", ""},
      {"value_type: int64}\n  - {name: driver", "value_type: string}\n  - {name: driver",
       "defs.yaml:27:16:", "join key 'customer_id' is int64 in source 'transactions' but entity "
       "'customer' declares value_type string", ""},
      {"expression: conv_rate + 100}", "expression: conv_rate > 100}", "defs.yaml:59:64:",
       "on-demand feature view 'transformed_conv_rate': feature 'conv_rate_plus_100' is "
       "declared float64 but its value is bool (declare bool)", ""},
      {"\"driver_hourly_stats.conv_rate + val_to_add\"", "\"driver_hourly_stats.conv_rat + val_to_add\"",
       "defs.yaml:60:71:", "output 'conv_rate_plus_val_to_add': at column 1: unknown column "
       "'driver_hourly_stats.conv_rat'", "did you mean 'driver_hourly_stats.conv_rate'?"},
      {"expression: conv_rate + 100}", "expression: conv_rate + val_to_ad}", "defs.yaml:59:64:",
       "unknown column 'val_to_ad'", "did you mean 'val_to_add'?"},
      {"request: [{name: val_to_add, dtype: int64}]", "request: [{name: val_to_add, dtype: string}]",
       "defs.yaml:60:71:", "'+' needs", ""},
  };
  for (int c = 0; c < (int)(sizeof cases / sizeof *cases); c++) {
    char *defs = edit(k_good, cases[c].from, cases[c].to);
    CHECK_MSG(defs != NULL, "case %d", c);
    if (!defs) continue;
    char tag[32];
    snprintf(tag, sizeof tag, "tc%d", c);
    ms_repo *r = load_good(tag, defs);
    ms_free(defs);
    if (!r) continue;
    char **p = NULL;
    int n = 0;
    ms_error err;
    ms_error_init(&err);
    CHECK_EQ_INT(ms_repo_typecheck(r, &p, &n, &err), MS_ERR_INVALID);
    bool found = has_problem(p, n, cases[c].where, cases[c].words1, cases[c].words2, NULL);
    if (!found) dump_probs(p, n);
    CHECK_MSG(found, "case %d", c);
    /* one mistake, one message (a join key: one per view of the entity) */
    int expected = strstr(cases[c].from, "customer, join_keys") || strstr(cases[c].from, "value_type: int64}") ? 2 : 1;
    CHECK_MSG(n == expected, "case %d: %d problems", c, n);
    ms_repo_problems_free(p, n);
    ms_repo_free(r);
  }
}

/* Every problem at once; a use of a column whose definition failed is not reported. */
static void test_typecheck_all_at_once(void) {
  char *d1 = edit(k_good, "Quantity * UnitPrice", "Quantity * UnitPrise");
  char *d2 = edit(d1, "{name: recency_days, dtype: int64}", "{name: recency_days, dtype: bool}");
  char *d3 = edit(d2, "conv_rate + 100}", "conv_rate + 'x'}");
  ms_repo *r = load_good("tc_all", d3);
  ms_free(d1);
  ms_free(d2);
  ms_free(d3);
  if (!r) return;
  char **p = NULL;
  int n = 0;
  ms_error err;
  ms_error_init(&err);
  CHECK_EQ_INT(ms_repo_typecheck(r, &p, &n, &err), MS_ERR_INVALID);
  CHECK_EQ_INT(n, 3); /* monetary/spent use revenue: not reported again */
  CHECK(has_problem(p, n, "defs.yaml:12:", "UnitPrise", NULL));
  CHECK(has_problem(p, n, "defs.yaml:41:9:", "recency_days", NULL));
  CHECK(has_problem(p, n, "defs.yaml:59:64:", "conv_rate_plus_100", NULL));
  if (n != 3) dump_probs(p, n);
  CHECK(strstr(err.message, "(and 2 more problems)") != NULL);
  ms_repo_problems_free(p, n);
  ms_repo_free(r);

  /* a source whose files are missing cannot be checked: said once, at the source */
  const char *dir = make_repo("tc_nofiles", k_good);
  r = NULL;
  CHECK_OK(ms_repo_load(dir, NULL, &r, &p, &n, &err), &err);
  if (!r) return;
  CHECK_EQ_INT(ms_repo_typecheck(r, &p, &n, &err), MS_ERR_INVALID);
  CHECK_EQ_INT(n, 1); /* driver_stats is not opened: nothing of it needs its files */
  CHECK(has_problem(p, n, "defs.yaml:5:5:", "source 'transactions': cannot read the schema",
                    NULL));
  if (n != 1) dump_probs(p, n);
  ms_repo_problems_free(p, n);
  ms_repo_free(r);
}

MS_TEST_MAIN(MS_TEST(test_parse), MS_TEST(test_structural_errors), MS_TEST(test_canonical),
             MS_TEST(test_source_fields), MS_TEST(test_typecheck_ok),
             MS_TEST(test_typecheck_errors), MS_TEST(test_typecheck_all_at_once))
