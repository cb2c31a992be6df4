/* Registry tests, one suite for both back ends.
 *
 * Without MS_REGISTRY_LOCATION the suite runs against a fresh SQLite file; with it (a
 * postgresql:// URL, set by test_registry_pg.sh which starts a throwaway server) the very
 * same tests run against PostgreSQL. Every test uses its own project name so the tests do
 * not see each other's objects in the shared database. The concurrency test forks real
 * processes that apply at once and checks the outcome against a serial replay. */
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>

#include "morsel/alloc.h"
#include "morsel/registry.h"
#include "ms_test.h"

static char g_loc[1100];
static int g_pg;

static const char *loc(void) {
  if (!g_loc[0]) {
    const char *env = getenv("MS_REGISTRY_LOCATION");
    if (env && *env) {
      snprintf(g_loc, sizeof g_loc, "%s", env);
      g_pg = 1;
    } else {
      snprintf(g_loc, sizeof g_loc, "%s/registry.db", ms_test_tmpdir());
    }
  }
  return g_loc;
}

/* A project name unique to this run and test (PostgreSQL databases outlive one run). */
static const char *proj(const char *name) {
  static char buf[128];
  snprintf(buf, sizeof buf, "%s_%d", name, (int)getpid());
  return buf;
}

static ms_reg_object obj(const char *kind, const char *name, const char *json) {
  ms_reg_object o = {kind, name, json, json}; /* the JSON doubles as its own "hash" */
  return o;
}

static char *summ(const char *kind, const char *old_json, const char *new_json) {
  return ms_asprintf("%s: %s -> %s", kind, old_json, new_json);
}

static const ms_reg_change *find_change(const ms_reg_change *c, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(c[i].name, name) == 0) return &c[i];
  return NULL;
}

static void test_versions(void) {
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg;
  CHECK_OK(ms_registry_open(loc(), &reg, &err), &err);
  CHECK_STR(ms_registry_backend(reg), g_pg ? "postgresql" : "sqlite");
  const char *P = proj("versions");
  int64_t gen = -7;
  CHECK_OK(ms_registry_generation(reg, P, &gen, &err), &err);
  CHECK_EQ_INT(gen, 0);
  /* given out of order: the changes come back by kind order, then name */
  ms_reg_object d1[] = {obj("feature_view", "fv1", "{\"v\":1}"), obj("data_source", "s1", "{}"),
                        obj("entity", "e1", "{\"k\":1}"), obj("feature_view", "a_fv", "{}")};
  ms_reg_change *ch;
  int n;
  CHECK_OK(ms_registry_apply(reg, P, d1, 4, NULL, 0, 0, "ann", "h1", 0, summ, &ch, &n, &err),
           &err);
  CHECK_EQ_INT(n, 4);
  CHECK_STR(ch[0].name, "e1");
  CHECK_STR(ch[1].name, "s1");
  CHECK_STR(ch[2].name, "a_fv");
  CHECK_STR(ch[3].name, "fv1");
  for (int i = 0; i < 4; i++) {
    CHECK_EQ_INT(ch[i].type, MS_REG_CREATED);
    CHECK_EQ_INT(ch[i].version, 1);
  }
  ms_reg_changes_free(ch, n);
  CHECK_OK(ms_registry_generation(reg, P, &gen, &err), &err);
  CHECK_EQ_INT(gen, 1);

  /* the same set again: unchanged, no new generation */
  CHECK_OK(ms_registry_apply(reg, P, d1, 4, NULL, 0, 1, "ann", "h1", 0, summ, &ch, &n, &err),
           &err);
  CHECK_EQ_INT(n, 4);
  for (int i = 0; i < 4; i++) CHECK_EQ_INT(ch[i].type, MS_REG_UNCHANGED);
  for (int i = 0; i < 4; i++) CHECK_EQ_INT(ch[i].version, 0);
  ms_reg_changes_free(ch, n);
  CHECK_OK(ms_registry_generation(reg, P, &gen, &err), &err);
  CHECK_EQ_INT(gen, 1);

  /* update fv1 */
  d1[0].json = d1[0].hash = "{\"v\":2}";
  CHECK_OK(ms_registry_apply(reg, P, d1, 4, NULL, 0, -1, "bob", "h2", 0, summ, &ch, &n, &err),
           &err);
  const ms_reg_change *c = find_change(ch, n, "fv1");
  CHECK(c && c->type == MS_REG_UPDATED && c->version == 2);
  CHECK_STR(c->summary, "feature_view: {\"v\":1} -> {\"v\":2}");
  CHECK_EQ_INT(find_change(ch, n, "e1")->type, MS_REG_UNCHANGED);
  ms_reg_changes_free(ch, n);

  /* delete fv1 (and a_fv): tombstones */
  CHECK_OK(ms_registry_apply(reg, P, d1 + 1, 2, NULL, 0, 2, "cy", "h3", 0, NULL, &ch, &n, &err),
           &err);
  CHECK_EQ_INT(n, 4);
  c = find_change(ch, n, "fv1");
  CHECK(c && c->type == MS_REG_DELETED && c->version == 3);
  c = find_change(ch, n, "a_fv");
  CHECK(c && c->type == MS_REG_DELETED && c->version == 2);
  ms_reg_changes_free(ch, n);
  ms_reg_version v;
  CHECK(ms_registry_get(reg, P, "feature_view", "fv1", 0, &v, &err) == MS_ERR_NOT_FOUND);
  CHECK(strstr(err.message, "fv1") != NULL);
  CHECK_OK(ms_registry_get(reg, P, "feature_view", "fv1", 2, &v, &err), &err);
  CHECK_STR(v.json, "{\"v\":2}");
  CHECK_STR(v.user, "bob");
  CHECK_STR(v.host, "h2");
  ms_reg_version_reset(&v);
  CHECK(ms_registry_get(reg, P, "feature_view", "fv1", 9, &v, &err) == MS_ERR_NOT_FOUND);

  /* re-create: numbering continues */
  d1[0].json = d1[0].hash = "{\"v\":3}";
  CHECK_OK(ms_registry_apply(reg, P, d1, 3, NULL, 0, 3, "dee", "h4", 0, NULL, &ch, &n, &err),
           &err);
  c = find_change(ch, n, "fv1");
  CHECK(c && c->type == MS_REG_CREATED && c->version == 4);
  ms_reg_changes_free(ch, n);
  CHECK_OK(ms_registry_get(reg, P, "feature_view", "fv1", 0, &v, &err), &err);
  CHECK_EQ_INT(v.version, 4);
  CHECK_STR(v.json, "{\"v\":3}");
  CHECK_EQ_INT(v.deleted, 0);
  ms_reg_version_reset(&v);

  ms_reg_version *h;
  CHECK_OK(ms_registry_history(reg, P, "feature_view", "fv1", &h, &n, &err), &err);
  CHECK_EQ_INT(n, 4);
  const char *jsons[] = {"{\"v\":1}", "{\"v\":2}", NULL, "{\"v\":3}"};
  const char *users[] = {"ann", "bob", "cy", "dee"};
  const char *sums[] = {"created", "feature_view: {\"v\":1} -> {\"v\":2}", "deleted",
                        "re-created"};
  for (int i = 0; i < 4; i++) {
    CHECK_EQ_INT(h[i].version, i + 1);
    CHECK_EQ_INT(h[i].deleted, i == 2);
    if (jsons[i]) CHECK_STR(h[i].json, jsons[i]);
    else CHECK(h[i].json == NULL);
    CHECK_STR(h[i].user, users[i]);
    CHECK_STR(h[i].summary, sums[i]);
    CHECK(h[i].created_at && strlen(h[i].created_at) == 20 && h[i].created_at[10] == 'T' &&
          h[i].created_at[19] == 'Z');
  }
  ms_reg_versions_free(h, n);
  CHECK(ms_registry_history(reg, P, "feature_view", "nope", &h, &n, &err) == MS_ERR_NOT_FOUND);

  ms_reg_object *objs;
  CHECK_OK(ms_registry_list(reg, P, NULL, &objs, &n, &err), &err);
  CHECK_EQ_INT(n, 3);
  CHECK_STR(objs[0].kind, "entity");
  CHECK_STR(objs[1].kind, "data_source");
  CHECK_STR(objs[2].name, "fv1");
  CHECK_STR(objs[2].json, "{\"v\":3}");
  ms_reg_objects_free(objs, n);
  CHECK_OK(ms_registry_list(reg, P, "feature_view", &objs, &n, &err), &err);
  CHECK_EQ_INT(n, 1);
  ms_reg_objects_free(objs, n);
  CHECK_OK(ms_registry_generation(reg, P, &gen, &err), &err);
  CHECK_EQ_INT(gen, 4);
  ms_registry_close(reg);
}

static void test_dry_run(void) {
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg;
  CHECK_OK(ms_registry_open(loc(), &reg, &err), &err);
  const char *P = proj("dry");
  ms_reg_object d[] = {obj("entity", "e", "1"), obj("feature_view", "f", "1")};
  ms_reg_edge e[] = {{"entity", "e", "feature_view", "f"}};
  ms_reg_change *ch;
  int n;
  CHECK_OK(ms_registry_apply(reg, P, d, 2, e, 1, -1, "u", "h", 1, NULL, &ch, &n, &err), &err);
  CHECK_EQ_INT(n, 2);
  CHECK_EQ_INT(ch[0].type, MS_REG_CREATED);
  ms_reg_changes_free(ch, n);
  ms_reg_object *objs;
  CHECK_OK(ms_registry_list(reg, P, NULL, &objs, &n, &err), &err);
  CHECK_EQ_INT(n, 0);
  ms_reg_objects_free(objs, n);
  ms_reg_edge *ed;
  CHECK_OK(ms_registry_edges(reg, P, &ed, &n, &err), &err);
  CHECK_EQ_INT(n, 0);
  ms_reg_edges_free(ed, n);
  int64_t gen;
  CHECK_OK(ms_registry_generation(reg, P, &gen, &err), &err);
  CHECK_EQ_INT(gen, 0);
  /* apply for real, then a dry-run update leaves version 1 in place */
  CHECK_OK(ms_registry_apply(reg, P, d, 2, e, 1, 0, "u", "h", 0, NULL, NULL, NULL, &err), &err);
  d[1].json = d[1].hash = "2";
  CHECK_OK(ms_registry_apply(reg, P, d, 1, NULL, 0, 1, "u", "h", 1, NULL, &ch, &n, &err), &err);
  CHECK_EQ_INT(n, 2);
  CHECK_EQ_INT(find_change(ch, n, "f")->type, MS_REG_DELETED);
  ms_reg_changes_free(ch, n);
  ms_reg_version v;
  CHECK_OK(ms_registry_get(reg, P, "feature_view", "f", 0, &v, &err), &err);
  CHECK_EQ_INT(v.version, 1);
  CHECK_STR(v.json, "1");
  ms_reg_version_reset(&v);
  CHECK_OK(ms_registry_edges(reg, P, &ed, &n, &err), &err);
  CHECK_EQ_INT(n, 1);
  ms_reg_edges_free(ed, n);
  CHECK_OK(ms_registry_generation(reg, P, &gen, &err), &err);
  CHECK_EQ_INT(gen, 1);
  ms_registry_close(reg);
}

static void test_edges(void) {
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg;
  CHECK_OK(ms_registry_open(loc(), &reg, &err), &err);
  const char *P = proj("edges");
  ms_reg_object d[] = {obj("data_source", "s", "1"), obj("feature_view", "f", "1"),
                       obj("feature_view", "g", "1"), obj("feature_service", "svc", "1")};
  ms_reg_edge a[] = {{"feature_view", "f", "feature_service", "svc"},
                     {"data_source", "s", "feature_view", "f"},
                     {"data_source", "s", "feature_view", "f"}}; /* duplicate */
  CHECK_OK(ms_registry_apply(reg, P, d, 4, a, 3, -1, "u", "h", 0, NULL, NULL, NULL, &err), &err);
  ms_reg_edge *ed;
  int n;
  CHECK_OK(ms_registry_edges(reg, P, &ed, &n, &err), &err);
  CHECK_EQ_INT(n, 2);
  CHECK_STR(ed[0].from_kind, "data_source"); /* sorted by kind order */
  CHECK_STR(ed[1].from_name, "f");
  CHECK_STR(ed[1].to_name, "svc");
  ms_reg_edges_free(ed, n);
  /* same objects, other edges: the edge set is replaced and the generation bumped */
  ms_reg_edge b[] = {{"data_source", "s", "feature_view", "g"},
                     {"feature_view", "g", "feature_service", "svc"}};
  CHECK_OK(ms_registry_apply(reg, P, d, 4, b, 2, 1, "u", "h", 0, NULL, NULL, NULL, &err), &err);
  CHECK_OK(ms_registry_edges(reg, P, &ed, &n, &err), &err);
  CHECK_EQ_INT(n, 2);
  CHECK_STR(ed[0].to_name, "g");
  CHECK_STR(ed[1].from_name, "g");
  ms_reg_edges_free(ed, n);
  int64_t gen;
  CHECK_OK(ms_registry_generation(reg, P, &gen, &err), &err);
  CHECK_EQ_INT(gen, 2);
  /* an edge with a NULL end is refused */
  ms_reg_edge bad[] = {{"data_source", NULL, "feature_view", "g"}};
  CHECK(ms_registry_apply(reg, P, d, 4, bad, 1, -1, "u", "h", 0, NULL, NULL, NULL, &err) ==
        MS_ERR_INVALID);
  ms_registry_close(reg);
}

static void test_put_and_teardown(void) {
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg;
  CHECK_OK(ms_registry_open(loc(), &reg, &err), &err);
  const char *P = proj("put");
  ms_reg_object d[] = {obj("feature_view", "f", "1"), obj("feature_service", "svc", "1")};
  ms_reg_edge e[] = {{"feature_view", "f", "feature_service", "svc"}};
  CHECK_OK(ms_registry_apply(reg, P, d, 2, e, 1, -1, "u", "h", 0, NULL, NULL, NULL, &err), &err);
  ms_reg_object sd = obj("saved_dataset", "train", "{\"rows\":10}");
  ms_reg_edge se[] = {{"feature_service", "svc", "saved_dataset", "train"}};
  CHECK_OK(ms_registry_put(reg, P, &sd, se, 1, "job", "w1", 0, &err), &err);
  ms_reg_object sd2 = obj("saved_dataset", "train", "{\"rows\":20}");
  CHECK(ms_registry_put(reg, P, &sd2, NULL, 0, "job", "w1", 0, &err) == MS_ERR_EXISTS);
  CHECK(strstr(err.message, "train") && strstr(err.message, "exists"));
  ms_reg_version v;
  CHECK_OK(ms_registry_get(reg, P, "saved_dataset", "train", 0, &v, &err), &err);
  CHECK_EQ_INT(v.version, 1);
  CHECK_STR(v.json, "{\"rows\":10}");
  ms_reg_version_reset(&v);
  CHECK_OK(ms_registry_put(reg, P, &sd2, se, 1, "job", "w2", 1, &err), &err);
  CHECK_OK(ms_registry_get(reg, P, "saved_dataset", "train", 0, &v, &err), &err);
  CHECK_EQ_INT(v.version, 2);
  CHECK_STR(v.json, "{\"rows\":20}");
  CHECK_STR(v.host, "w2");
  ms_reg_version_reset(&v);

  /* apply without the saved dataset keeps it and its edge (it is not a definition) */
  d[0].json = d[0].hash = "2";
  ms_reg_change *ch;
  int n;
  CHECK_OK(ms_registry_apply(reg, P, d, 2, e, 1, -1, "u", "h", 0, NULL, &ch, &n, &err), &err);
  CHECK(find_change(ch, n, "train") == NULL);
  ms_reg_changes_free(ch, n);
  ms_reg_edge *ed;
  CHECK_OK(ms_registry_edges(reg, P, &ed, &n, &err), &err);
  CHECK_EQ_INT(n, 2);
  CHECK_STR(ed[1].to_name, "train");
  ms_reg_edges_free(ed, n);

  /* teardown: nothing left, deletions in history */
  CHECK_OK(ms_registry_teardown(reg, P, "u", "h", &err), &err);
  ms_reg_object *objs;
  CHECK_OK(ms_registry_list(reg, P, NULL, &objs, &n, &err), &err);
  CHECK_EQ_INT(n, 0);
  ms_reg_objects_free(objs, n);
  CHECK_OK(ms_registry_edges(reg, P, &ed, &n, &err), &err);
  CHECK_EQ_INT(n, 0);
  ms_reg_edges_free(ed, n);
  ms_reg_version *h;
  CHECK_OK(ms_registry_history(reg, P, "saved_dataset", "train", &h, &n, &err), &err);
  CHECK_EQ_INT(n, 3);
  CHECK_EQ_INT(h[2].deleted, 1);
  ms_reg_versions_free(h, n);
  CHECK_OK(ms_registry_history(reg, P, "feature_view", "f", &h, &n, &err), &err);
  CHECK_EQ_INT(n, 3);
  CHECK_EQ_INT(h[2].deleted, 1);
  ms_reg_versions_free(h, n);
  /* put after teardown re-creates (no overwrite flag needed) */
  CHECK_OK(ms_registry_put(reg, P, &sd, NULL, 0, "job", "w1", 0, &err), &err);
  CHECK_OK(ms_registry_get(reg, P, "saved_dataset", "train", 0, &v, &err), &err);
  CHECK_EQ_INT(v.version, 4);
  CHECK_STR(v.summary, "re-created");
  ms_reg_version_reset(&v);
  ms_registry_close(reg);
}

static void test_conflict_and_invalid(void) {
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg;
  CHECK_OK(ms_registry_open(loc(), &reg, &err), &err);
  const char *P = proj("conflict");
  ms_reg_object d[] = {obj("entity", "e", "1"), obj("feature_view", "f", "1")};
  CHECK_OK(ms_registry_apply(reg, P, d, 2, NULL, 0, 0, "u", "h", 0, NULL, NULL, NULL, &err), &err);
  ms_reg_object d2[] = {obj("entity", "e", "2"), obj("feature_view", "g", "1")};
  ms_reg_edge e[] = {{"entity", "e", "feature_view", "g"}};
  ms_reg_change *ch = (ms_reg_change *)1;
  int n = 5;
  CHECK(ms_registry_apply(reg, P, d2, 2, e, 1, 0, "u", "h", 0, NULL, &ch, &n, &err) ==
        MS_ERR_CONFLICT);
  CHECK(ch == NULL && n == 0);
  CHECK_STR(err.message,
            "registry changed since plan (generation 1, expected 0): re-run apply");
  /* nothing written */
  ms_reg_object *objs;
  CHECK_OK(ms_registry_list(reg, P, NULL, &objs, &n, &err), &err);
  CHECK_EQ_INT(n, 2);
  CHECK_STR(objs[0].json, "1");
  CHECK_STR(objs[1].name, "f");
  ms_reg_objects_free(objs, n);
  ms_reg_edge *ed;
  CHECK_OK(ms_registry_edges(reg, P, &ed, &n, &err), &err);
  CHECK_EQ_INT(n, 0);
  ms_reg_edges_free(ed, n);
  int64_t gen;
  CHECK_OK(ms_registry_generation(reg, P, &gen, &err), &err);
  CHECK_EQ_INT(gen, 1);
  ms_reg_version *h;
  CHECK_OK(ms_registry_history(reg, P, "entity", "e", &h, &n, &err), &err);
  CHECK_EQ_INT(n, 1);
  ms_reg_versions_free(h, n);

  /* invalid input: unknown kind, duplicates, missing hash; nothing written */
  ms_reg_object bad1[] = {obj("entity", "e", "3"), obj("widget", "w", "1")};
  CHECK(ms_registry_apply(reg, P, bad1, 2, NULL, 0, -1, "u", "h", 0, NULL, NULL, NULL, &err) ==
        MS_ERR_INVALID);
  CHECK(strstr(err.message, "widget") != NULL);
  ms_reg_object bad2[] = {obj("entity", "e", "3"), obj("entity", "e", "4")};
  CHECK(ms_registry_apply(reg, P, bad2, 2, NULL, 0, -1, "u", "h", 0, NULL, NULL, NULL, &err) ==
        MS_ERR_INVALID);
  CHECK(strstr(err.message, "twice") != NULL);
  ms_reg_object bad3[] = {{"entity", "e", "3", NULL}};
  CHECK(ms_registry_apply(reg, P, bad3, 1, NULL, 0, -1, "u", "h", 0, NULL, NULL, NULL, &err) ==
        MS_ERR_INVALID);
  /* names with quotes and SQL are just names */
  ms_reg_object odd[] = {obj("entity", "e'); DROP TABLE objects; --", "{\"q\":\"'\"}")};
  CHECK_OK(ms_registry_apply(reg, P, odd, 1, NULL, 0, -1, "o'neil", "h", 0, NULL, NULL, NULL,
                             &err),
           &err);
  CHECK_OK(ms_registry_list(reg, P, NULL, &objs, &n, &err), &err);
  CHECK_EQ_INT(n, 1);
  CHECK_STR(objs[0].name, "e'); DROP TABLE objects; --");
  CHECK_STR(objs[0].json, "{\"q\":\"'\"}");
  ms_reg_objects_free(objs, n);
  CHECK_OK(ms_registry_generation(reg, P, &gen, &err), &err);
  CHECK_EQ_INT(gen, 2);
  ms_registry_close(reg);
}

/* ---- the schema version: tamper with the meta table, then restore it ---- */

static int set_schema_version(const char *value) {
  char sql[128];
  snprintf(sql, sizeof sql, "UPDATE meta SET value = '%s' WHERE key = 'schema_version'", value);
  if (g_pg) {
    PGconn *c = PQconnectdb(loc());
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
      PGresult *r = PQexec(c, sql);
      ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(r), "1") == 0;
      PQclear(r);
    }
    PQfinish(c);
    return ok;
  }
  sqlite3 *db;
  int ok = sqlite3_open(loc(), &db) == SQLITE_OK &&
           sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK && sqlite3_changes(db) == 1;
  sqlite3_close(db);
  return ok;
}

static void test_schema_version(void) {
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg;
  CHECK_OK(ms_registry_open(loc(), &reg, &err), &err); /* make sure the schema exists */
  ms_registry_close(reg);
  CHECK(set_schema_version("99"));
  reg = (ms_registry *)1;
  ms_status st = ms_registry_open(loc(), &reg, &err);
  int restored = set_schema_version("2");
  CHECK(st == MS_ERR_UNSUPPORTED);
  CHECK(reg == NULL);
  CHECK(restored);
  CHECK_MSG(strstr(err.message, "was written by a newer morsel (schema 99, this build "
                                "understands 2)") != NULL,
            "%s", err.message);
  CHECK(strncmp(err.message, "registry ", 9) == 0);
  CHECK_OK(ms_registry_open(loc(), &reg, &err), &err);
  ms_registry_close(reg);
  /* an older schema value (0) is migrated forward to 2 */
  CHECK(set_schema_version("0"));
  CHECK_OK(ms_registry_open(loc(), &reg, &err), &err);
  ms_registry_close(reg);
  CHECK(set_schema_version("2")); /* exactly one row, value rewritten */
}

static void test_open_errors(void) {
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg = (ms_registry *)1;
  /* nothing listens on port 1: a clear I/O error with libpq's reason, no crash */
  CHECK(ms_registry_open("postgresql://postgres:secret@127.0.0.1:1/postgres", &reg, &err) ==
        MS_ERR_IO);
  CHECK(reg == NULL);
  CHECK_MSG(strstr(err.message, "cannot connect to PostgreSQL") != NULL, "%s", err.message);
  CHECK(strstr(err.message, "secret") == NULL);
  CHECK(ms_registry_open("postgresql+psycopg2://u@127.0.0.1:1/db", &reg, &err) == MS_ERR_IO);
  CHECK(ms_registry_open("postgresql://u@127.0.0.1:1/db?bogus_option=1", &reg, &err) ==
        MS_ERR_IO);
  /* a SQLite path in a missing directory, and a file that is not a database */
  char path[1200];
  snprintf(path, sizeof path, "%s/no/such/dir/r.db", ms_test_tmpdir());
  CHECK(ms_registry_open(path, &reg, &err) == MS_ERR_IO);
  snprintf(path, sizeof path, "%s/garbage.db", ms_test_tmpdir());
  FILE *f = fopen(path, "wb");
  CHECK(f);
  for (int i = 0; i < 200; i++) fputs("not a database ", f);
  fclose(f);
  CHECK(ms_registry_open(path, &reg, &err) == MS_ERR_IO);
  CHECK(ms_registry_open("", &reg, &err) == MS_ERR_INVALID);
  if (g_pg) {
    /* the SQLAlchemy spelling reaches the same server */
    char url[1100];
    snprintf(url, sizeof url, "postgresql+psycopg2://%s", loc() + strlen("postgresql://"));
    CHECK_OK(ms_registry_open(url, &reg, &err), &err);
    CHECK_STR(ms_registry_backend(reg), "postgresql");
    ms_registry_close(reg);
    /* the server refuses: unknown role (as authentication failure would), unknown database */
    const char *rest = strchr(loc() + strlen("postgresql://"), '@');
    CHECK(rest);
    snprintf(url, sizeof url, "postgresql://no_such_role%s", rest);
    CHECK(ms_registry_open(url, &reg, &err) == MS_ERR_IO);
    CHECK_MSG(strstr(err.message, "no_such_role") != NULL, "%s", err.message);
    snprintf(url, sizeof url, "%.*s/no_such_db", (int)(strrchr(loc(), '/') - loc()), loc());
    CHECK(ms_registry_open(url, &reg, &err) == MS_ERR_IO);
    CHECK_MSG(strstr(err.message, "no_such_db") != NULL, "%s", err.message);
  }
}

/* ---- concurrency: real processes applying different changes at once ---- */

enum { N_PROC = 4, N_ITER = 12 };

static int child(const char *P, int p, int start_fd, const char *log_path) {
  char go;
  if (read(start_fd, &go, 1) < 0) return 2;
  FILE *log = fopen(log_path, "w");
  if (!log) return 2;
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg;
  if (ms_registry_open(loc(), &reg, &err) != MS_OK) {
    fprintf(log, "ERR open %s\n", err.message);
    fclose(log);
    return 1;
  }
  int rc = 0;
  char mine[32], json[64];
  snprintf(mine, sizeof mine, "fv%d", p);
  for (int i = 0; i < N_ITER && rc == 0; i++) {
    int64_t gen;
    ms_reg_object *cur;
    int n;
    /* generation first, then the objects: a commit in between makes the apply conflict */
    if (ms_registry_generation(reg, P, &gen, &err) != MS_OK ||
        ms_registry_list(reg, P, NULL, &cur, &n, &err) != MS_OK) {
      fprintf(log, "ERR read %s\n", err.message);
      rc = 1;
      break;
    }
    /* the gap between plan and apply, where another process may commit */
    usleep(500 + (unsigned)(p * 300 + i * 97) % 1500);
    ms_reg_object *d = ms_calloc((size_t)n + 1, sizeof *d);
    ms_reg_edge *e = ms_calloc((size_t)n + 1, sizeof *e);
    int nd = 0, ne = 0;
    for (int k = 0; k < n; k++)
      if (strcmp(cur[k].name, mine) != 0) d[nd++] = cur[k];
    snprintf(json, sizeof json, "{\"p\":%d,\"i\":%d}", p, i);
    d[nd++] = obj("feature_view", mine, json);
    for (int k = 0; k < nd; k++)
      if (strcmp(d[k].kind, "feature_view") == 0)
        e[ne++] = (ms_reg_edge){"data_source", "src", "feature_view", d[k].name};
    ms_reg_change *ch;
    int nch;
    ms_status st = ms_registry_apply(reg, P, d, nd, e, ne, gen, "c", "h", 0, NULL, &ch, &nch,
                                     &err);
    if (st == MS_OK) {
      int64_t v = -1;
      int others = 0;
      for (int k = 0; k < nch; k++) {
        if (strcmp(ch[k].name, mine) == 0) v = ch[k].version;
        else if (ch[k].type != MS_REG_UNCHANGED) others++;
      }
      fprintf(log, "OK %lld %d %d %lld %d\n", (long long)gen + 1, p, i, (long long)v, others);
      ms_reg_changes_free(ch, nch);
    } else if (st == MS_ERR_CONFLICT) {
      fprintf(log, "CONFLICT\n");
    } else {
      fprintf(log, "ERR apply %s\n", err.message);
      rc = 1;
    }
    ms_free(d);
    ms_free(e);
    ms_reg_objects_free(cur, n);
  }
  ms_registry_close(reg);
  fclose(log);
  return rc;
}

typedef struct success {
  long long gen, version;
  int p, i, others;
} success;

static int succ_cmp(const void *a, const void *b) {
  const success *x = a, *y = b;
  return x->gen < y->gen ? -1 : x->gen > y->gen;
}

static void test_concurrent_apply(void) {
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg;
  const char *P0 = proj("concurrent");
  char P[128];
  snprintf(P, sizeof P, "%s", P0);
  CHECK_OK(ms_registry_open(loc(), &reg, &err), &err);
  ms_reg_object base[] = {obj("data_source", "src", "{}")};
  CHECK_OK(ms_registry_apply(reg, P, base, 1, NULL, 0, 0, "u", "h", 0, NULL, NULL, NULL, &err),
           &err);
  ms_registry_close(reg);

  int pipefd[2];
  CHECK(pipe(pipefd) == 0);
  pid_t pids[N_PROC];
  char logs[N_PROC][1200];
  for (int p = 0; p < N_PROC; p++) {
    snprintf(logs[p], sizeof logs[p], "%s/conc_%d.log", ms_test_tmpdir(), p);
    fflush(NULL);
    pids[p] = fork();
    CHECK(pids[p] >= 0);
    if (pids[p] == 0) {
      close(pipefd[1]);
      _exit(child(P, p, pipefd[0], logs[p]));
    }
  }
  close(pipefd[0]);
  /* release them all at once */
  char go[N_PROC] = {0};
  CHECK(write(pipefd[1], go, sizeof go) == (ssize_t)sizeof go);
  close(pipefd[1]);
  int child_failed = 0;
  for (int p = 0; p < N_PROC; p++) {
    int status;
    waitpid(pids[p], &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) child_failed = 1;
  }

  success s[N_PROC * N_ITER];
  int n_s = 0, n_conflict = 0;
  for (int p = 0; p < N_PROC; p++) {
    FILE *f = fopen(logs[p], "r");
    CHECK(f);
    char line[1200];
    while (fgets(line, sizeof line, f)) {
      if (strncmp(line, "OK ", 3) == 0) {
        success x;
        CHECK(sscanf(line + 3, "%lld %d %d %lld %d", &x.gen, &x.p, &x.i, &x.version,
                     &x.others) == 5);
        s[n_s++] = x;
      } else if (strncmp(line, "CONFLICT", 8) == 0) {
        n_conflict++;
      } else {
        CHECK_MSG(0, "process %d: %s", p, line);
      }
    }
    fclose(f);
  }
  CHECK(!child_failed);
  CHECK_EQ_INT(n_s + n_conflict, N_PROC * N_ITER);
  printf("     concurrent apply (%s): %d committed, %d refused with a conflict\n",
         g_pg ? "postgresql" : "sqlite", n_s, n_conflict);
  CHECK(n_s >= N_ITER); /* each round of attempts lets at least one through */

  /* the successful applies form one serial order: generations 2, 3, ... without gaps */
  qsort(s, (size_t)n_s, sizeof *s, succ_cmp);
  for (int k = 0; k < n_s; k++) CHECK_EQ_INT(s[k].gen, k + 2);
  /* replay them serially: each wrote version (count of its process's earlier successes + 1)
   * of its own view and changed nothing else */
  int count[N_PROC] = {0}, last_i[N_PROC];
  for (int k = 0; k < n_s; k++) {
    count[s[k].p]++;
    last_i[s[k].p] = s[k].i;
    CHECK_EQ_INT(s[k].version, count[s[k].p]);
    CHECK_EQ_INT(s[k].others, 0);
  }
  CHECK_OK(ms_registry_open(loc(), &reg, &err), &err);
  int64_t gen;
  CHECK_OK(ms_registry_generation(reg, P, &gen, &err), &err);
  CHECK_EQ_INT(gen, n_s + 1);
  ms_reg_object *objs;
  int n;
  CHECK_OK(ms_registry_list(reg, P, NULL, &objs, &n, &err), &err);
  int expect_n = 1;
  for (int p = 0; p < N_PROC; p++) expect_n += count[p] > 0;
  CHECK_EQ_INT(n, expect_n);
  CHECK_STR(objs[0].name, "src");
  for (int k = 1; k < n; k++) {
    int p = objs[k].name[2] - '0';
    char json[64];
    snprintf(json, sizeof json, "{\"p\":%d,\"i\":%d}", p, last_i[p]);
    CHECK_STR(objs[k].json, json);
  }
  ms_reg_objects_free(objs, n);
  ms_reg_edge *ed;
  CHECK_OK(ms_registry_edges(reg, P, &ed, &n, &err), &err);
  CHECK_EQ_INT(n, expect_n - 1);
  ms_reg_edges_free(ed, n);
  /* each view's history is exactly its process's successes, versions consecutive */
  for (int p = 0; p < N_PROC; p++) {
    if (!count[p]) continue;
    char name[16];
    snprintf(name, sizeof name, "fv%d", p);
    ms_reg_version *h;
    CHECK_OK(ms_registry_history(reg, P, "feature_view", name, &h, &n, &err), &err);
    CHECK_EQ_INT(n, count[p]);
    int k = 0;
    for (int j = 0; j < n_s; j++) {
      if (s[j].p != p) continue;
      char json[64];
      snprintf(json, sizeof json, "{\"p\":%d,\"i\":%d}", p, s[j].i);
      CHECK_EQ_INT(h[k].version, k + 1);
      CHECK_STR(h[k].json, json);
      k++;
    }
    ms_reg_versions_free(h, n);
  }
  ms_registry_close(reg);
}

/* The same project opened by a second connection while the first holds it: the schema
 * set-up and reads do not block or fail. */
static void test_two_connections(void) {
  ms_error err;
  ms_error_init(&err);
  ms_registry *a, *b;
  CHECK_OK(ms_registry_open(loc(), &a, &err), &err);
  CHECK_OK(ms_registry_open(loc(), &b, &err), &err);
  const char *P = proj("two");
  ms_reg_object d[] = {obj("entity", "e", "1")};
  CHECK_OK(ms_registry_apply(a, P, d, 1, NULL, 0, 0, "u", "h", 0, NULL, NULL, NULL, &err), &err);
  /* b planned against generation 0 too: refused */
  d[0].json = d[0].hash = "2";
  CHECK(ms_registry_apply(b, P, d, 1, NULL, 0, 0, "u", "h", 0, NULL, NULL, NULL, &err) ==
        MS_ERR_CONFLICT);
  int64_t gen;
  CHECK_OK(ms_registry_generation(b, P, &gen, &err), &err);
  CHECK_EQ_INT(gen, 1);
  CHECK_OK(ms_registry_apply(b, P, d, 1, NULL, 0, gen, "u", "h", 0, NULL, NULL, NULL, &err),
           &err);
  ms_reg_version v;
  CHECK_OK(ms_registry_get(a, P, "entity", "e", 0, &v, &err), &err);
  CHECK_EQ_INT(v.version, 2);
  ms_reg_version_reset(&v);
  ms_registry_close(a);
  ms_registry_close(b);
}


/* A larger project: 1000 views applied at once, then one changed; timings are printed. */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_many_objects(void) {
  enum { N = 1000 };
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg;
  CHECK_OK(ms_registry_open(loc(), &reg, &err), &err);
  const char *P = proj("many");
  static char names[N][16], jsons[N][32];
  ms_reg_object *d = ms_calloc(N, sizeof *d);
  ms_reg_edge *e = ms_calloc(N, sizeof *e);
  CHECK(d && e);
  for (int i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "fv%04d", N - 1 - i);
    snprintf(jsons[i], sizeof jsons[i], "{\"n\":%d}", i);
    d[i] = obj("feature_view", names[i], jsons[i]);
    e[i] = (ms_reg_edge){"feature_view", names[i], "feature_service", "svc"};
  }
  double t0 = now_s();
  ms_reg_change *ch;
  int n;
  ms_status st = ms_registry_apply(reg, P, d, N, e, N, 0, "u", "h", 0, NULL, &ch, &n, &err);
  double t1 = now_s();
  if (st == MS_OK) {
    d[7].json = d[7].hash = "{\"n\":-1}";
    ms_reg_changes_free(ch, n);
    st = ms_registry_apply(reg, P, d, N, e, N, 1, "u", "h", 0, NULL, &ch, &n, &err);
  }
  double t2 = now_s();
  ms_free(d);
  ms_free(e);
  CHECK_OK(st, &err);
  CHECK_EQ_INT(n, N);
  CHECK_STR(ch[0].name, "fv0000");
  int updated = 0;
  for (int i = 0; i < n; i++) updated += ch[i].type == MS_REG_UPDATED;
  CHECK_EQ_INT(updated, 1);
  ms_reg_changes_free(ch, n);
  printf("     %d objects + %d edges (%s): create %.3f s, update one %.3f s\n", N, N,
         g_pg ? "postgresql" : "sqlite", t1 - t0, t2 - t1);
  ms_registry_close(reg);
}

/* Processes racing to create the same new project with expected generation -1: each
 * computes its diff inside the transaction, so exactly one creates the objects, the others
 * find them unchanged; nobody fails on the new project row or a duplicate version. */
static void test_concurrent_new_project(void) {
  enum { NP = 4 };
  char P[128];
  snprintf(P, sizeof P, "%s", proj("race_new"));
  int pipefd[2];
  CHECK(pipe(pipefd) == 0);
  pid_t pids[NP];
  for (int p = 0; p < NP; p++) {
    fflush(NULL);
    pids[p] = fork();
    CHECK(pids[p] >= 0);
    if (pids[p] == 0) {
      close(pipefd[1]);
      char go;
      if (read(pipefd[0], &go, 1) < 0) _exit(3);
      ms_error err;
      ms_error_init(&err);
      ms_registry *reg;
      if (ms_registry_open(loc(), &reg, &err) != MS_OK) _exit(2);
      ms_reg_object d[] = {obj("entity", "e", "1"), obj("feature_view", "f", "1")};
      ms_reg_edge e[] = {{"entity", "e", "feature_view", "f"}};
      ms_reg_change *ch;
      int n;
      ms_status st = ms_registry_apply(reg, P, d, 2, e, 1, -1, "u", "h", 0, NULL, &ch, &n, &err);
      int created = 0;
      if (st == MS_OK) {
        for (int i = 0; i < n; i++) created += ch[i].type == MS_REG_CREATED;
        ms_reg_changes_free(ch, n);
      } else {
        fprintf(stderr, "process %d: %s\n", p, err.message);
      }
      ms_registry_close(reg);
      _exit(st != MS_OK ? 1 : created == 2 ? 10 : created == 0 ? 11 : 12);
    }
  }
  close(pipefd[0]);
  char go[NP] = {0};
  CHECK(write(pipefd[1], go, sizeof go) == (ssize_t)sizeof go);
  close(pipefd[1]);
  int n_created = 0, n_unchanged = 0;
  for (int p = 0; p < NP; p++) {
    int status;
    waitpid(pids[p], &status, 0);
    CHECK(WIFEXITED(status));
    n_created += WEXITSTATUS(status) == 10;
    n_unchanged += WEXITSTATUS(status) == 11;
  }
  CHECK_EQ_INT(n_created, 1);
  CHECK_EQ_INT(n_unchanged, NP - 1);
  ms_error err;
  ms_error_init(&err);
  ms_registry *reg;
  CHECK_OK(ms_registry_open(loc(), &reg, &err), &err);
  int64_t gen;
  CHECK_OK(ms_registry_generation(reg, P, &gen, &err), &err);
  CHECK_EQ_INT(gen, 1);
  ms_reg_version *h;
  int n;
  CHECK_OK(ms_registry_history(reg, P, "feature_view", "f", &h, &n, &err), &err);
  CHECK_EQ_INT(n, 1);
  ms_reg_versions_free(h, n);
  ms_registry_close(reg);
}

MS_TEST_MAIN(MS_TEST(test_versions), MS_TEST(test_dry_run), MS_TEST(test_edges), MS_TEST(test_many_objects),
             MS_TEST(test_put_and_teardown), MS_TEST(test_conflict_and_invalid),
             MS_TEST(test_two_connections), MS_TEST(test_open_errors),
             MS_TEST(test_concurrent_apply), MS_TEST(test_concurrent_new_project), MS_TEST(test_schema_version))
