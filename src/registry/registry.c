/* The registry: back-end-neutral logic over the tables both back ends share.
 *
 * Tables (identical on SQLite and PostgreSQL):
 *   meta(key, value)                      schema_version lives here
 *   projects(name, generation)            generation = committed changes of the project
 *   objects(project, kind, name, current_version, hash, json, deleted)   latest state
 *   versions(project, kind, name, version, hash, json, created_at, user, host, summary,
 *            deleted)                     every version, tombstones included
 *   edges(project, from_kind, from_name, to_kind, to_name)               lineage
 *   data_commits(project, dataset, generation, attempt, kind, state, path, counts,
 *            identities, detail_json, created_at, user, host)   managed-dataset commits
 *            (schema 2); `attempt` numbers the records of one generation, since an
 *            aborted generation is retried under the same number
 *
 * A write (apply, put, teardown) is one transaction: the back end's write transaction,
 * then the project row is created if missing and locked (SELECT ... FOR UPDATE on
 * PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the database write lock), the
 * generation is checked against the caller's, and only then are the current objects read
 * and diffed. So the diff is always computed against the state it is written over, and
 * two writers of one project are serialised: the second one either sees the first one's
 * result (expected generation -1) or is refused with MS_ERR_CONFLICT, never a lost update.
 * Any failure rolls the whole transaction back.
 *
 * Choices the header leaves open, made here:
 * - apply does not delete saved datasets that are absent from `desired`: they are
 *   registered by retrieval jobs through ms_registry_put, not by definitions; likewise
 *   the lineage edges touching such kept saved datasets survive the edge replacement.
 *   teardown removes everything.
 * - the generation is bumped by every committed write that changes something: apply
 *   (objects or edges), put and teardown. A plan made before any of them is stale.
 * - kinds are sorted by the fixed kind order, names by byte order (strcmp), in C, so both
 *   back ends order identically whatever their collation. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "morsel/alloc.h"
#include "registry/reg_int.h"

/* A cached ms_registry_list answer (see ms_registry_set_cache_ttl). */
typedef struct list_cache_entry {
  char *project;
  char *kind; /* NULL = all kinds */
  ms_reg_object *objs;
  int n;
  double fetched_at; /* CLOCK_MONOTONIC seconds */
} list_cache_entry;

enum { MS_REG_CACHE_SLOTS = 16 };

struct ms_registry {
  const ms_reg_backend *be;
  void *db;
  int64_t cache_ttl_seconds; /* 0 = no caching */
  list_cache_entry cache[MS_REG_CACHE_SLOTS];
};

static const char *const kKinds[] = {"entity",          "data_source",
                                     "feature_view",    "on_demand_feature_view",
                                     "feature_service", "saved_dataset"};
enum { MS_REG_N_KINDS = 6 };

static int kind_rank(const char *kind) {
  for (int i = 0; i < MS_REG_N_KINDS; i++)
    if (kind && strcmp(kind, kKinds[i]) == 0) return i;
  return -1;
}

static int cmp_kind_name(const char *ka, const char *na, const char *kb, const char *nb) {
  int ra = kind_rank(ka), rb = kind_rank(kb);
  if (ra != rb) return ra < rb ? -1 : 1;
  int c = strcmp(ka, kb);
  if (c) return c;
  return strcmp(na, nb);
}

void ms_reg_rows_reset(ms_reg_rows *rows) {
  if (!rows) return;
  size_t n = (size_t)rows->n_rows * (size_t)rows->n_cols;
  for (size_t i = 0; rows->cells && i < n; i++) ms_free(rows->cells[i]);
  ms_free(rows->cells);
  memset(rows, 0, sizeof *rows);
}

static ms_status oom(ms_error *err) {
  return ms_error_set(err, MS_ERR_NOMEM, "registry: out of memory");
}

static int64_t to_i64(const char *s) { return s ? strtoll(s, NULL, 10) : 0; }

static ms_status q(ms_registry *reg, const char *sql, const char *const *p, int n,
                   ms_reg_rows *out, ms_error *err) {
  return reg->be->exec(reg->db, sql, p, n, out, err);
}

/* ---------------------------------------------------------------- open, schema */

static const char *const kSchema[] = {
    "CREATE TABLE IF NOT EXISTS projects(name TEXT PRIMARY KEY, generation BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS objects(project TEXT NOT NULL, kind TEXT NOT NULL, "
    "name TEXT NOT NULL, current_version BIGINT NOT NULL, hash TEXT, json TEXT, "
    "deleted INTEGER NOT NULL, PRIMARY KEY(project, kind, name))",
    "CREATE TABLE IF NOT EXISTS versions(project TEXT NOT NULL, kind TEXT NOT NULL, "
    "name TEXT NOT NULL, version BIGINT NOT NULL, hash TEXT, json TEXT, "
    "created_at TEXT NOT NULL, \"user\" TEXT, host TEXT, summary TEXT, "
    "deleted INTEGER NOT NULL, PRIMARY KEY(project, kind, name, version))",
    "CREATE TABLE IF NOT EXISTS edges(project TEXT NOT NULL, from_kind TEXT NOT NULL, "
    "from_name TEXT NOT NULL, to_kind TEXT NOT NULL, to_name TEXT NOT NULL, "
    "PRIMARY KEY(project, from_kind, from_name, to_kind, to_name))",
};

/* Schema 2: one row per managed-dataset commit (store.h). */
static const char *const kSchemaV2[] = {
    "CREATE TABLE IF NOT EXISTS data_commits(project TEXT NOT NULL, dataset TEXT NOT NULL, "
    "generation BIGINT NOT NULL, attempt BIGINT NOT NULL, kind TEXT NOT NULL, "
    "state TEXT NOT NULL, path TEXT, rows_added BIGINT NOT NULL, rows_removed BIGINT NOT NULL, "
    "files_added BIGINT NOT NULL, files_removed BIGINT NOT NULL, total_rows BIGINT NOT NULL, "
    "total_files BIGINT NOT NULL, identity_before TEXT, identity_after TEXT, detail_json TEXT, "
    "created_at TEXT NOT NULL, \"user\" TEXT, host TEXT, "
    "PRIMARY KEY(project, dataset, generation, attempt))",
};

/* The location without a password, for messages. */
static void display_location(const char *loc, char *buf, size_t size) {
  const char *scheme = strstr(loc, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;
  const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
  if (colon)
    snprintf(buf, size, "%.*s:***%s", (int)(colon - loc), loc, at);
  else
    snprintf(buf, size, "%s", loc);
}

static ms_status schema_setup(ms_registry *reg, const char *location, ms_error *err) {
  ms_status st = reg->be->begin(reg->db, 1, err);
  if (st != MS_OK) return st;
  ms_reg_rows r = {0};
  st = q(reg, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
         NULL, 0, NULL, err);
  if (st == MS_OK)
    st = q(reg, "SELECT value FROM meta WHERE key = 'schema_version'", NULL, 0, &r, err);
  if (st == MS_OK) {
    int64_t have = r.n_rows ? to_i64(ms_reg_cell(&r, 0, 0)) : 0;
    if (have > MS_REG_SCHEMA_VERSION) {
      char where[600];
      display_location(location, where, sizeof where);
      st = ms_error_set(err, MS_ERR_UNSUPPORTED,
                        "registry %s was written by a newer morsel (schema %lld, this build "
                        "understands %d)",
                        where, (long long)have, MS_REG_SCHEMA_VERSION);
    } else if (have < MS_REG_SCHEMA_VERSION) {
      /* Schema 1 is the first one: "migrating" from nothing creates the tables. Later
       * versions add their steps here, each guarded by `have < N`. */
      for (size_t i = 0; st == MS_OK && have < 1 && i < sizeof kSchema / sizeof kSchema[0]; i++)
        st = q(reg, kSchema[i], NULL, 0, NULL, err);
      for (size_t i = 0; st == MS_OK && have < 2 && i < sizeof kSchemaV2 / sizeof kSchemaV2[0];
           i++)
        st = q(reg, kSchemaV2[i], NULL, 0, NULL, err);
      char v[24];
      snprintf(v, sizeof v, "%d", MS_REG_SCHEMA_VERSION);
      const char *p[] = {v};
      if (st == MS_OK && r.n_rows == 0)
        st = q(reg, "INSERT INTO meta(key, value) VALUES('schema_version', ?)", p, 1, NULL, err);
      else if (st == MS_OK)
        st = q(reg, "UPDATE meta SET value = ? WHERE key = 'schema_version'", p, 1, NULL, err);
    }
  }
  ms_reg_rows_reset(&r);
  if (st == MS_OK) return reg->be->commit(reg->db, err);
  reg->be->rollback(reg->db);
  return st;
}

ms_status ms_registry_open(const char *location, ms_registry **out, ms_error *err) {
  if (!out) return ms_error_set(err, MS_ERR_INVALID, "registry: no output handle");
  *out = NULL;
  if (!location || !*location)
    return ms_error_set(err, MS_ERR_INVALID, "registry: empty location");
  ms_registry *reg = ms_calloc(1, sizeof *reg);
  if (!reg) return oom(err);
  int pg = strncmp(location, "postgresql://", 13) == 0 ||
           strncmp(location, "postgresql+psycopg2://", 22) == 0 ||
           strncmp(location, "postgres://", 11) == 0;
  reg->be = pg ? &ms_reg_postgres_backend : &ms_reg_sqlite_backend;
  ms_status st = reg->be->open(location, &reg->db, err);
  if (st == MS_OK) st = schema_setup(reg, location, err);
  if (st != MS_OK) {
    ms_registry_close(reg);
    return st;
  }
  *out = reg;
  return MS_OK;
}

static void cache_clear(ms_registry *reg);

void ms_registry_close(ms_registry *reg) {
  if (!reg) return;
  cache_clear(reg);
  if (reg->db) reg->be->close(reg->db);
  ms_free(reg);
}

const char *ms_registry_backend(const ms_registry *reg) { return reg ? reg->be->name : NULL; }

ms_status ms_registry_generation(ms_registry *reg, const char *project, int64_t *out,
                                 ms_error *err) {
  if (!reg || !project || !out) return ms_error_set(err, MS_ERR_INVALID, "registry: bad argument");
  ms_reg_rows r;
  const char *p[] = {project};
  ms_status st = q(reg, "SELECT generation FROM projects WHERE name = ?", p, 1, &r, err);
  if (st != MS_OK) return st;
  *out = r.n_rows ? to_i64(ms_reg_cell(&r, 0, 0)) : 0;
  ms_reg_rows_reset(&r);
  return MS_OK;
}

/* ---------------------------------------------------------------- write transaction */

/* Opens the write transaction and locks the project row; returns its generation. */
static ms_status begin_project(ms_registry *reg, const char *project, int64_t *gen,
                               ms_error *err) {
  ms_status st = reg->be->begin(reg->db, 0, err);
  if (st != MS_OK) return st;
  const char *p[] = {project};
  st = q(reg, "INSERT INTO projects(name, generation) VALUES(?, 0) ON CONFLICT(name) DO NOTHING",
         p, 1, NULL, err);
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT generation FROM projects WHERE name = ?%s",
           reg->be->for_update);
  ms_reg_rows r = {0};
  if (st == MS_OK) st = q(reg, sql, p, 1, &r, err);
  if (st == MS_OK && r.n_rows != 1)
    st = ms_error_set(err, MS_ERR_INTERNAL, "registry: project row missing after insert");
  if (st == MS_OK) *gen = to_i64(ms_reg_cell(&r, 0, 0));
  ms_reg_rows_reset(&r);
  if (st != MS_OK) reg->be->rollback(reg->db);
  return st;
}

static ms_status bump_generation(ms_registry *reg, const char *project, ms_error *err) {
  const char *p[] = {project};
  return q(reg, "UPDATE projects SET generation = generation + 1 WHERE name = ?", p, 1, NULL,
           err);
}

static void now_iso(char *buf, size_t size) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Writes version `version` of an object (json NULL = tombstone) and its objects row. */
static ms_status write_version(ms_registry *reg, const char *project, const char *kind,
                               const char *name, int64_t version, int exists,
                               const char *hash, const char *json, const char *user,
                               const char *host, const char *summary, const char *now,
                               ms_error *err) {
  char v[24];
  snprintf(v, sizeof v, "%lld", (long long)version);
  const char *del = json ? "0" : "1";
  const char *pv[] = {project, kind, name, v, hash, json, now, user, host, summary, del};
  ms_status st = q(reg,
                   "INSERT INTO versions(project, kind, name, version, hash, json, created_at, "
                   "\"user\", host, summary, deleted) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   pv, 11, NULL, err);
  if (st != MS_OK) return st;
  if (exists) {
    const char *po[] = {v, hash, json, del, project, kind, name};
    return q(reg,
             "UPDATE objects SET current_version = ?, hash = ?, json = ?, deleted = ? "
             "WHERE project = ? AND kind = ? AND name = ?",
             po, 7, NULL, err);
  }
  const char *po[] = {project, kind, name, v, hash, json, del};
  return q(reg,
           "INSERT INTO objects(project, kind, name, current_version, hash, json, deleted) "
           "VALUES(?, ?, ?, ?, ?, ?, ?)",
           po, 7, NULL, err);
}

static ms_status insert_edge(ms_registry *reg, const char *project, const ms_reg_edge *e,
                             ms_error *err) {
  const char *p[] = {project, e->from_kind, e->from_name, e->to_kind, e->to_name};
  return q(reg,
           "INSERT INTO edges(project, from_kind, from_name, to_kind, to_name) "
           "VALUES(?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
           p, 5, NULL, err);
}

static ms_status check_object(const ms_reg_object *o, ms_error *err) {
  if (!o->kind || kind_rank(o->kind) < 0)
    return ms_error_set(err, MS_ERR_INVALID, "registry: unknown object kind '%s'",
                        o->kind ? o->kind : "(null)");
  if (!o->name || !*o->name || !o->json || !o->hash || !*o->hash)
    return ms_error_set(err, MS_ERR_INVALID, "registry: %s object without name, JSON or hash",
                        o->kind);
  return MS_OK;
}

static ms_status check_edges(const ms_reg_edge *e, int n, ms_error *err) {
  for (int i = 0; i < n; i++)
    if (!e[i].from_kind || !e[i].from_name || !e[i].to_kind || !e[i].to_name)
      return ms_error_set(err, MS_ERR_INVALID, "registry: lineage edge %d has a NULL end", i);
  return MS_OK;
}

/* The current objects row of each (kind, name), sorted for bsearch. */
typedef struct cur_obj {
  const char *kind, *name, *hash, *json;
  int64_t version;
  int deleted, seen;
} cur_obj;

static int cur_cmp(const void *a, const void *b) {
  const cur_obj *x = a, *y = b;
  return cmp_kind_name(x->kind, x->name, y->kind, y->name);
}

static int change_cmp(const void *a, const void *b) {
  const ms_reg_change *x = a, *y = b;
  return cmp_kind_name(x->kind, x->name, y->kind, y->name);
}

static int edge_cmp(const void *a, const void *b) {
  const ms_reg_edge *x = a, *y = b;
  int c = cmp_kind_name(x->from_kind, x->from_name, y->from_kind, y->from_name);
  return c ? c : cmp_kind_name(x->to_kind, x->to_name, y->to_kind, y->to_name);
}

static int objp_cmp(const void *a, const void *b) {
  const ms_reg_object *const *x = a, *const *y = b;
  return cmp_kind_name((*x)->kind, (*x)->name, (*y)->kind, (*y)->name);
}

static int sort_unique_edges(ms_reg_edge *e, int n) {
  if (n <= 1) return n;
  qsort(e, (size_t)n, sizeof *e, edge_cmp);
  int m = 1;
  for (int i = 1; i < n; i++)
    if (edge_cmp(&e[i], &e[m - 1]) != 0) e[m++] = e[i];
  return m;
}

static ms_status add_change(ms_reg_change **ch, int *n, int *cap, const char *kind,
                            const char *name, ms_reg_change_type type, int64_t version,
                            char *summary_move, ms_error *err) {
  if (*n == *cap) {
    int nc = *cap ? *cap * 2 : 16;
    ms_reg_change *p = ms_realloc(*ch, (size_t)nc * sizeof *p);
    if (!p) { ms_free(summary_move); return oom(err); }
    *ch = p;
    *cap = nc;
  }
  ms_reg_change *c = &(*ch)[*n];
  c->kind = ms_strdup(kind);
  c->name = ms_strdup(name);
  c->type = type;
  c->version = version;
  c->summary = summary_move;
  (*n)++;
  if (!c->kind || !c->name) return oom(err);
  return MS_OK;
}

void ms_reg_changes_free(ms_reg_change *changes, int n) {
  if (!changes) return;
  for (int i = 0; i < n; i++) {
    ms_free(changes[i].kind);
    ms_free(changes[i].name);
    ms_free(changes[i].summary);
  }
  ms_free(changes);
}

/* apply (teardown = 0) or teardown (teardown = 1, desired empty, everything deleted). */
static ms_status reg_write(ms_registry *reg, const char *project, const ms_reg_object *desired,
                           int n_desired, const ms_reg_edge *edges, int n_edges,
                           int64_t expected_generation, const char *user, const char *host,
                           int dry_run, ms_reg_summarize_fn summarize, int teardown,
                           ms_reg_change **out_changes, int *out_n, ms_error *err) {
  if (out_changes) *out_changes = NULL;
  if (out_n) *out_n = 0;
  if (!reg || !project || !*project || n_desired < 0 || n_edges < 0 ||
      (n_desired && !desired) || (n_edges && !edges))
    return ms_error_set(err, MS_ERR_INVALID, "registry: bad argument");
  for (int i = 0; i < n_desired; i++) {
    ms_status st = check_object(&desired[i], err);
    if (st != MS_OK) return st;
  }
  ms_status st = check_edges(edges, n_edges, err);
  if (st != MS_OK) return st;
  /* desired sorted by (kind, name): duplicates are adjacent, lookups are bsearch */
  const ms_reg_object **by_name = NULL;
  if (n_desired) {
    by_name = ms_malloc((size_t)n_desired * sizeof *by_name);
    if (!by_name) return oom(err);
    for (int i = 0; i < n_desired; i++) by_name[i] = &desired[i];
    qsort(by_name, (size_t)n_desired, sizeof *by_name, objp_cmp);
    for (int i = 1; i < n_desired; i++)
      if (objp_cmp(&by_name[i - 1], &by_name[i]) == 0) {
        st = ms_error_set(err, MS_ERR_INVALID, "registry: %s '%s' is given twice",
                          by_name[i]->kind, by_name[i]->name);
        ms_free(by_name);
        return st;
      }
  }

  int64_t gen = 0;
  st = begin_project(reg, project, &gen, err);
  if (st != MS_OK) {
    ms_free(by_name);
    return st;
  }
  if (expected_generation >= 0 && expected_generation != gen) {
    reg->be->rollback(reg->db);
    ms_free(by_name);
    return ms_error_set(err, MS_ERR_CONFLICT,
                        "registry changed since plan (generation %lld, expected %lld): "
                        "re-run apply",
                        (long long)gen, (long long)expected_generation);
  }

  ms_reg_rows objs = {0}, cur_edges = {0};
  cur_obj *cur = NULL;
  ms_reg_change *ch = NULL;
  int n_ch = 0, cap_ch = 0, n_new_edges = 0, n_old_edges = 0;
  ms_reg_edge *new_edges = NULL, *old_edges = NULL;
  const char *pp[] = {project};
  st = q(reg,
         "SELECT kind, name, current_version, hash, json, deleted FROM objects WHERE project = ?",
         pp, 1, &objs, err);
  if (st == MS_OK)
    st = q(reg,
           "SELECT from_kind, from_name, to_kind, to_name FROM edges WHERE project = ?", pp, 1,
           &cur_edges, err);
  if (st == MS_OK && objs.n_rows) {
    cur = ms_calloc((size_t)objs.n_rows, sizeof *cur);
    if (!cur) st = oom(err);
  }
  for (int i = 0; st == MS_OK && i < objs.n_rows; i++) {
    cur[i].kind = ms_reg_cell(&objs, i, 0);
    cur[i].name = ms_reg_cell(&objs, i, 1);
    cur[i].version = to_i64(ms_reg_cell(&objs, i, 2));
    cur[i].hash = ms_reg_cell(&objs, i, 3);
    cur[i].json = ms_reg_cell(&objs, i, 4);
    cur[i].deleted = to_i64(ms_reg_cell(&objs, i, 5)) != 0;
    if (!cur[i].kind) cur[i].kind = "";
    if (!cur[i].name) cur[i].name = "";
  }
  if (cur) qsort(cur, (size_t)objs.n_rows, sizeof *cur, cur_cmp);

  /* The diff: desired objects against the current rows. */
  for (int i = 0; st == MS_OK && i < n_desired; i++) {
    const ms_reg_object *d = &desired[i];
    cur_obj key = {.kind = d->kind, .name = d->name};
    cur_obj *c = cur ? bsearch(&key, cur, (size_t)objs.n_rows, sizeof *cur, cur_cmp) : NULL;
    if (c) c->seen = 1;
    if (c && !c->deleted && c->hash && strcmp(c->hash, d->hash) == 0) {
      st = add_change(&ch, &n_ch, &cap_ch, d->kind, d->name, MS_REG_UNCHANGED, 0, NULL, err);
    } else if (c && !c->deleted) {
      char *s = summarize ? summarize(d->kind, c->json, d->json) : NULL;
      if (!s) s = ms_strdup("updated");
      st = add_change(&ch, &n_ch, &cap_ch, d->kind, d->name, MS_REG_UPDATED, c->version + 1, s,
                      err);
    } else {
      char *s = ms_strdup(c ? "re-created" : "created");
      st = add_change(&ch, &n_ch, &cap_ch, d->kind, d->name, MS_REG_CREATED,
                      c ? c->version + 1 : 1, s, err);
    }
  }
  for (int i = 0; st == MS_OK && i < objs.n_rows; i++) {
    if (cur[i].seen || cur[i].deleted) continue;
    if (!teardown && strcmp(cur[i].kind, "saved_dataset") == 0) continue;
    st = add_change(&ch, &n_ch, &cap_ch, cur[i].kind, cur[i].name, MS_REG_DELETED,
                    cur[i].version + 1, ms_strdup("deleted"), err);
  }

  /* The new edge set: the given edges plus (apply only) the edges of kept saved datasets. */
  if (st == MS_OK && (n_edges + cur_edges.n_rows) > 0) {
    new_edges = ms_calloc((size_t)(n_edges + cur_edges.n_rows), sizeof *new_edges);
    old_edges = ms_calloc((size_t)cur_edges.n_rows + 1, sizeof *old_edges);
    if (!new_edges || !old_edges) st = oom(err);
  }
  for (int i = 0; st == MS_OK && i < n_edges; i++) new_edges[n_new_edges++] = edges[i];
  for (int i = 0; st == MS_OK && i < cur_edges.n_rows; i++) {
    ms_reg_edge e = {ms_reg_cell(&cur_edges, i, 0), ms_reg_cell(&cur_edges, i, 1),
                     ms_reg_cell(&cur_edges, i, 2), ms_reg_cell(&cur_edges, i, 3)};
    if (!e.from_kind || !e.from_name || !e.to_kind || !e.to_name) continue;
    old_edges[n_old_edges++] = e;
    if (teardown) continue;
    int kept = 0;
    for (int s = 0; s < 2 && !kept; s++) {
      const char *k = s ? e.to_kind : e.from_kind, *nm = s ? e.to_name : e.from_name;
      if (strcmp(k, "saved_dataset") != 0) continue;
      cur_obj key = {.kind = k, .name = nm};
      cur_obj *c = cur ? bsearch(&key, cur, (size_t)objs.n_rows, sizeof *cur, cur_cmp) : NULL;
      kept = c && !c->seen && !c->deleted;
    }
    if (kept) new_edges[n_new_edges++] = e;
  }
  n_new_edges = sort_unique_edges(new_edges, n_new_edges);
  n_old_edges = sort_unique_edges(old_edges, n_old_edges);
  int changed = n_new_edges != n_old_edges;
  for (int i = 0; !changed && i < n_new_edges; i++)
    changed = edge_cmp(&new_edges[i], &old_edges[i]) != 0;
  for (int i = 0; !changed && i < n_ch; i++) changed = ch[i].type != MS_REG_UNCHANGED;

  if (st == MS_OK && changed && !dry_run) {
    char now[32];
    now_iso(now, sizeof now);
    for (int i = 0; st == MS_OK && i < n_ch; i++) {
      if (ch[i].type == MS_REG_UNCHANGED) continue;
      ms_reg_object k = {.kind = ch[i].kind, .name = ch[i].name};
      const ms_reg_object *kp = &k, **dp = NULL, *d = NULL;
      if (by_name) dp = bsearch(&kp, by_name, (size_t)n_desired, sizeof *by_name, objp_cmp);
      if (dp) d = *dp;
      int exists = ch[i].version > 1;
      st = write_version(reg, project, ch[i].kind, ch[i].name, ch[i].version, exists,
                         d ? d->hash : NULL, d ? d->json : NULL, user, host, ch[i].summary,
                         now, err);
    }
    if (st == MS_OK) st = q(reg, "DELETE FROM edges WHERE project = ?", pp, 1, NULL, err);
    for (int i = 0; st == MS_OK && i < n_new_edges; i++)
      st = insert_edge(reg, project, &new_edges[i], err);
    if (st == MS_OK) st = bump_generation(reg, project, err);
    if (st == MS_OK) st = reg->be->commit(reg->db, err);
    else reg->be->rollback(reg->db);
  } else {
    reg->be->rollback(reg->db);
  }
  ms_free(cur);
  ms_free(by_name);
  ms_free(new_edges);
  ms_free(old_edges);
  ms_reg_rows_reset(&objs);
  ms_reg_rows_reset(&cur_edges);
  if (st != MS_OK) {
    ms_reg_changes_free(ch, n_ch);
    return st;
  }
  if (ch) qsort(ch, (size_t)n_ch, sizeof *ch, change_cmp);
  if (out_changes) {
    *out_changes = ch;
    if (out_n) *out_n = n_ch;
  } else {
    ms_reg_changes_free(ch, n_ch);
  }
  return MS_OK;
}

ms_status ms_registry_apply(ms_registry *reg, const char *project, const ms_reg_object *desired,
                            int n_desired, const ms_reg_edge *edges, int n_edges,
                            int64_t expected_generation, const char *user, const char *host,
                            int dry_run, ms_reg_summarize_fn summarize,
                            ms_reg_change **out_changes, int *out_n, ms_error *err) {
  if (reg && !dry_run) cache_clear(reg);
  return reg_write(reg, project, desired, n_desired, edges, n_edges, expected_generation, user,
                   host, dry_run, summarize, 0, out_changes, out_n, err);
}

ms_status ms_registry_teardown(ms_registry *reg, const char *project, const char *user,
                               const char *host, ms_error *err) {
  if (reg) cache_clear(reg);
  return reg_write(reg, project, NULL, 0, NULL, 0, -1, user, host, 0, NULL, 1, NULL, NULL, err);
}

ms_status ms_registry_put(ms_registry *reg, const char *project, const ms_reg_object *obj,
                          const ms_reg_edge *edges, int n_edges, const char *user,
                          const char *host, int allow_overwrite, ms_error *err) {
  if (!reg || !project || !*project || !obj || n_edges < 0 || (n_edges && !edges))
    return ms_error_set(err, MS_ERR_INVALID, "registry: bad argument");
  cache_clear(reg);
  ms_status st = check_object(obj, err);
  if (st == MS_OK) st = check_edges(edges, n_edges, err);
  if (st != MS_OK) return st;
  int64_t gen;
  st = begin_project(reg, project, &gen, err);
  if (st != MS_OK) return st;
  ms_reg_rows r = {0};
  const char *p[] = {project, obj->kind, obj->name};
  st = q(reg,
         "SELECT current_version, hash, deleted FROM objects "
         "WHERE project = ? AND kind = ? AND name = ?",
         p, 3, &r, err);
  int exists = st == MS_OK && r.n_rows == 1;
  int live = exists && to_i64(ms_reg_cell(&r, 0, 2)) == 0;
  int64_t version = exists ? to_i64(ms_reg_cell(&r, 0, 0)) : 0;
  int same = live && ms_reg_cell(&r, 0, 1) && strcmp(ms_reg_cell(&r, 0, 1), obj->hash) == 0;
  if (st == MS_OK && live && !allow_overwrite)
    st = ms_error_set(err, MS_ERR_EXISTS,
                      "registry: %s '%s' already exists in project '%s' (allow overwriting "
                      "to replace it)",
                      obj->kind, obj->name, project);
  if (st == MS_OK && !same) {
    char now[32];
    now_iso(now, sizeof now);
    st = write_version(reg, project, obj->kind, obj->name, version + 1, exists, obj->hash,
                       obj->json, user, host, live ? "updated" : exists ? "re-created" : "created",
                       now, err);
  }
  if (st == MS_OK) {
    const char *pe[] = {project, obj->kind, obj->name, obj->kind, obj->name};
    st = q(reg,
           "DELETE FROM edges WHERE project = ? AND ((from_kind = ? AND from_name = ?) OR "
           "(to_kind = ? AND to_name = ?))",
           pe, 5, NULL, err);
  }
  for (int i = 0; st == MS_OK && i < n_edges; i++) st = insert_edge(reg, project, &edges[i], err);
  if (st == MS_OK) st = bump_generation(reg, project, err);
  ms_reg_rows_reset(&r);
  if (st == MS_OK) return reg->be->commit(reg->db, err);
  reg->be->rollback(reg->db);
  return st;
}

/* ---------------------------------------------------------------- reading */

static int obj_cmp(const void *a, const void *b) {
  const ms_reg_object *x = a, *y = b;
  return cmp_kind_name(x->kind, x->name, y->kind, y->name);
}

void ms_reg_objects_free(ms_reg_object *objs, int n) {
  if (!objs) return;
  for (int i = 0; i < n; i++) {
    ms_free((char *)objs[i].kind);
    ms_free((char *)objs[i].name);
    ms_free((char *)objs[i].json);
    ms_free((char *)objs[i].hash);
  }
  ms_free(objs);
}

/* Moves a cell out of the rows (the rows keep NULL). */
static char *take(ms_reg_rows *r, int row, int col) {
  char **c = &r->cells[(size_t)row * (size_t)r->n_cols + (size_t)col];
  char *v = *c;
  *c = NULL;
  return v;
}

/* ---- reader cache: list answers kept for cache_ttl_seconds, as Feast's registry cache.
 * Writes through this handle clear it at once; writes by other processes become visible
 * when an entry expires. Answers are deep-copied in and out, so callers own what they get. */

static double now_monotonic(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void cache_entry_reset(list_cache_entry *e) {
  ms_free(e->project);
  ms_free(e->kind);
  ms_reg_objects_free(e->objs, e->n);
  memset(e, 0, sizeof *e);
}

static void cache_clear(ms_registry *reg) {
  for (int i = 0; i < MS_REG_CACHE_SLOTS; i++)
    if (reg->cache[i].project) cache_entry_reset(&reg->cache[i]);
}

static ms_status copy_objects(const ms_reg_object *src, int n, ms_reg_object **out) {
  ms_reg_object *o = ms_calloc((size_t)n + 1, sizeof *o);
  if (!o) return MS_ERR_NOMEM;
  for (int i = 0; i < n; i++) {
    o[i].kind = ms_strdup(src[i].kind);
    o[i].name = ms_strdup(src[i].name);
    o[i].json = src[i].json ? ms_strdup(src[i].json) : NULL;
    o[i].hash = src[i].hash ? ms_strdup(src[i].hash) : NULL;
    if (!o[i].kind || !o[i].name || (src[i].json && !o[i].json) || (src[i].hash && !o[i].hash)) {
      ms_reg_objects_free(o, i + 1);
      return MS_ERR_NOMEM;
    }
  }
  *out = o;
  return MS_OK;
}

static bool same_kind(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

void ms_registry_set_cache_ttl(ms_registry *reg, int64_t seconds) {
  if (!reg) return;
  reg->cache_ttl_seconds = seconds > 0 ? seconds : 0;
  cache_clear(reg);
}

static ms_status list_uncached(ms_registry *reg, const char *project, const char *kind,
                               ms_reg_object **out, int *out_n, ms_error *err);

ms_status ms_registry_list(ms_registry *reg, const char *project, const char *kind,
                           ms_reg_object **out, int *out_n, ms_error *err) {
  if (!reg || !project || !out || !out_n)
    return ms_error_set(err, MS_ERR_INVALID, "registry: bad argument");
  *out = NULL;
  *out_n = 0;
  if (reg->cache_ttl_seconds <= 0) return list_uncached(reg, project, kind, out, out_n, err);
  double now = now_monotonic();
  list_cache_entry *slot = NULL;
  for (int i = 0; i < MS_REG_CACHE_SLOTS; i++) {
    list_cache_entry *e = &reg->cache[i];
    if (!e->project) { if (!slot) slot = e; continue; }
    if (strcmp(e->project, project) != 0 || !same_kind(e->kind, kind)) continue;
    if (now - e->fetched_at < (double)reg->cache_ttl_seconds) {
      if (copy_objects(e->objs, e->n, out) != MS_OK) return oom(err);
      *out_n = e->n;
      return MS_OK;
    }
    cache_entry_reset(e); /* expired */
    if (!slot) slot = e;
  }
  ms_status st = list_uncached(reg, project, kind, out, out_n, err);
  if (st != MS_OK) return st;
  if (!slot) { /* full: evict the oldest */
    slot = &reg->cache[0];
    for (int i = 1; i < MS_REG_CACHE_SLOTS; i++)
      if (reg->cache[i].fetched_at < slot->fetched_at) slot = &reg->cache[i];
    cache_entry_reset(slot);
  }
  /* Caching is best effort: without memory for the copy the answer is still right. */
  slot->project = ms_strdup(project);
  slot->kind = kind ? ms_strdup(kind) : NULL;
  if (!slot->project || (kind && !slot->kind) ||
      copy_objects(*out, *out_n, &slot->objs) != MS_OK) {
    cache_entry_reset(slot);
    return MS_OK;
  }
  slot->n = *out_n;
  slot->fetched_at = now;
  return MS_OK;
}

static ms_status list_uncached(ms_registry *reg, const char *project, const char *kind,
                               ms_reg_object **out, int *out_n, ms_error *err) {
  ms_reg_rows r;
  const char *p[] = {project, kind};
  ms_status st = q(reg,
                   kind ? "SELECT kind, name, json, hash FROM objects WHERE project = ? AND "
                          "deleted = 0 AND kind = ?"
                        : "SELECT kind, name, json, hash FROM objects WHERE project = ? AND "
                          "deleted = 0",
                   p, kind ? 2 : 1, &r, err);
  if (st != MS_OK) return st;
  ms_reg_object *o = ms_calloc((size_t)r.n_rows + 1, sizeof *o);
  if (!o) {
    ms_reg_rows_reset(&r);
    return oom(err);
  }
  for (int i = 0; i < r.n_rows; i++) {
    o[i].kind = take(&r, i, 0);
    o[i].name = take(&r, i, 1);
    o[i].json = take(&r, i, 2);
    o[i].hash = take(&r, i, 3);
    if (!o[i].kind) o[i].kind = ms_strdup("");
    if (!o[i].name) o[i].name = ms_strdup("");
  }
  int n = r.n_rows;
  ms_reg_rows_reset(&r);
  qsort(o, (size_t)n, sizeof *o, obj_cmp);
  *out = o;
  *out_n = n;
  return MS_OK;
}

void ms_reg_version_reset(ms_reg_version *v) {
  if (!v) return;
  ms_free(v->hash);
  ms_free(v->json);
  ms_free(v->created_at);
  ms_free(v->user);
  ms_free(v->host);
  ms_free(v->summary);
  memset(v, 0, sizeof *v);
}

void ms_reg_versions_free(ms_reg_version *v, int n) {
  if (!v) return;
  for (int i = 0; i < n; i++) ms_reg_version_reset(&v[i]);
  ms_free(v);
}

#define MS_REG_VERSION_COLS \
  "SELECT version, hash, json, created_at, \"user\", host, summary, deleted FROM versions "

static void version_from_row(ms_reg_rows *r, int i, ms_reg_version *v) {
  v->version = to_i64(ms_reg_cell(r, i, 0));
  v->hash = take(r, i, 1);
  v->json = take(r, i, 2);
  v->created_at = take(r, i, 3);
  v->user = take(r, i, 4);
  v->host = take(r, i, 5);
  v->summary = take(r, i, 6);
  v->deleted = to_i64(ms_reg_cell(r, i, 7)) != 0;
}

ms_status ms_registry_get(ms_registry *reg, const char *project, const char *kind,
                          const char *name, int64_t version, ms_reg_version *out,
                          ms_error *err) {
  if (!reg || !project || !kind || !name || !out || version < 0)
    return ms_error_set(err, MS_ERR_INVALID, "registry: bad argument");
  memset(out, 0, sizeof *out);
  ms_reg_rows r;
  const char *p[] = {project, kind, name, NULL};
  ms_status st;
  char v[24];
  if (version == 0) {
    st = q(reg,
           "SELECT current_version, deleted FROM objects WHERE project = ? AND kind = ? AND "
           "name = ?",
           p, 3, &r, err);
    if (st != MS_OK) return st;
    int live = r.n_rows == 1 && to_i64(ms_reg_cell(&r, 0, 1)) == 0;
    version = live ? to_i64(ms_reg_cell(&r, 0, 0)) : 0;
    ms_reg_rows_reset(&r);
    if (!live)
      return ms_error_set(err, MS_ERR_NOT_FOUND, "registry: no %s named '%s' in project '%s'",
                          kind, name, project);
  }
  snprintf(v, sizeof v, "%lld", (long long)version);
  p[3] = v;
  st = q(reg, MS_REG_VERSION_COLS "WHERE project = ? AND kind = ? AND name = ? AND version = ?",
         p, 4, &r, err);
  if (st != MS_OK) return st;
  if (r.n_rows != 1) {
    ms_reg_rows_reset(&r);
    return ms_error_set(err, MS_ERR_NOT_FOUND,
                        "registry: %s '%s' in project '%s' has no version %lld", kind, name,
                        project, (long long)version);
  }
  version_from_row(&r, 0, out);
  ms_reg_rows_reset(&r);
  return MS_OK;
}

ms_status ms_registry_history(ms_registry *reg, const char *project, const char *kind,
                              const char *name, ms_reg_version **out, int *out_n,
                              ms_error *err) {
  if (!reg || !project || !kind || !name || !out || !out_n)
    return ms_error_set(err, MS_ERR_INVALID, "registry: bad argument");
  *out = NULL;
  *out_n = 0;
  ms_reg_rows r;
  const char *p[] = {project, kind, name};
  ms_status st = q(reg,
                   MS_REG_VERSION_COLS
                   "WHERE project = ? AND kind = ? AND name = ? ORDER BY version",
                   p, 3, &r, err);
  if (st != MS_OK) return st;
  if (r.n_rows == 0) {
    ms_reg_rows_reset(&r);
    return ms_error_set(err, MS_ERR_NOT_FOUND, "registry: no %s named '%s' in project '%s'",
                        kind, name, project);
  }
  ms_reg_version *v = ms_calloc((size_t)r.n_rows, sizeof *v);
  if (!v) {
    ms_reg_rows_reset(&r);
    return oom(err);
  }
  for (int i = 0; i < r.n_rows; i++) version_from_row(&r, i, &v[i]);
  *out = v;
  *out_n = r.n_rows;
  ms_reg_rows_reset(&r);
  return MS_OK;
}

void ms_reg_edges_free(ms_reg_edge *edges, int n) {
  if (!edges) return;
  for (int i = 0; i < n; i++) {
    ms_free((char *)edges[i].from_kind);
    ms_free((char *)edges[i].from_name);
    ms_free((char *)edges[i].to_kind);
    ms_free((char *)edges[i].to_name);
  }
  ms_free(edges);
}

ms_status ms_registry_edges(ms_registry *reg, const char *project, ms_reg_edge **out,
                            int *out_n, ms_error *err) {
  if (!reg || !project || !out || !out_n)
    return ms_error_set(err, MS_ERR_INVALID, "registry: bad argument");
  *out = NULL;
  *out_n = 0;
  ms_reg_rows r;
  const char *p[] = {project};
  ms_status st = q(reg,
                   "SELECT from_kind, from_name, to_kind, to_name FROM edges WHERE project = ?",
                   p, 1, &r, err);
  if (st != MS_OK) return st;
  ms_reg_edge *e = ms_calloc((size_t)r.n_rows + 1, sizeof *e);
  if (!e) {
    ms_reg_rows_reset(&r);
    return oom(err);
  }
  for (int i = 0; i < r.n_rows; i++) {
    e[i].from_kind = take(&r, i, 0);
    e[i].from_name = take(&r, i, 1);
    e[i].to_kind = take(&r, i, 2);
    e[i].to_name = take(&r, i, 3);
  }
  int n = r.n_rows;
  ms_reg_rows_reset(&r);
  qsort(e, (size_t)n, sizeof *e, edge_cmp);
  *out = e;
  *out_n = n;
  return MS_OK;
}

/* ---------------------------------------------------------------- data commits
 * Records of managed-dataset commits (store.h). Each write runs in the project's write
 * transaction (begin_project: the project row locked on PostgreSQL, the database write
 * lock on SQLite), so a prepare's "is this generation free?" check and its insert cannot
 * interleave with another process's. They do not bump the project generation: that one
 * counts definition changes, and a data write does not make a plan stale. */

static ms_status data_args(ms_registry *reg, const char *project, const char *dataset,
                           ms_error *err) {
  if (!reg || !project || !*project || !dataset || !*dataset)
    return ms_error_set(err, MS_ERR_INVALID, "registry: bad argument (data commit)");
  return MS_OK;
}

static void i64s(char *buf, int64_t v) { snprintf(buf, 24, "%lld", (long long)v); }

ms_status ms_registry_data_prepare(ms_registry *reg, const char *project,
                                   const ms_reg_data_commit *c, ms_error *err) {
  ms_status st = data_args(reg, project, c ? c->dataset : NULL, err);
  if (st != MS_OK) return st;
  if (!c->kind || !*c->kind || c->generation < 1)
    return ms_error_set(err, MS_ERR_INVALID,
                        "registry: data commit of '%s' needs a kind and a generation >= 1",
                        c->dataset);
  int64_t pgen;
  st = begin_project(reg, project, &pgen, err);
  if (st != MS_OK) return st;
  char g[24];
  i64s(g, c->generation);
  const char *pk[] = {project, c->dataset, g};
  ms_reg_rows r = {0};
  st = q(reg,
         "SELECT state, COUNT(*) FROM data_commits WHERE project = ? AND dataset = ? AND "
         "generation = ? AND state <> 'aborted' GROUP BY state",
         pk, 3, &r, err);
  if (st == MS_OK && r.n_rows > 0)
    st = ms_error_set(err, MS_ERR_CONFLICT,
                      "registry: dataset '%s' of project '%s' already has a %s record for "
                      "generation %lld",
                      c->dataset, project, ms_reg_cell(&r, 0, 0), (long long)c->generation);
  ms_reg_rows_reset(&r);
  if (st == MS_OK)
    st = q(reg,
           "SELECT COALESCE(MAX(attempt), 0) FROM data_commits WHERE project = ? AND "
           "dataset = ? AND generation = ?",
           pk, 3, &r, err);
  if (st == MS_OK) {
    char att[24], ra[24], rr[24], fa[24], fr[24], tr[24], tf[24], now[32];
    i64s(att, (r.n_rows ? to_i64(ms_reg_cell(&r, 0, 0)) : 0) + 1);
    i64s(ra, c->rows_added);
    i64s(rr, c->rows_removed);
    i64s(fa, c->files_added);
    i64s(fr, c->files_removed);
    i64s(tr, c->total_rows);
    i64s(tf, c->total_files);
    now_iso(now, sizeof now);
    const char *p[] = {project, c->dataset, g, att, c->kind, c->path, ra, rr, fa, fr, tr, tf,
                       c->identity_before, c->identity_after, c->detail_json, now, c->user,
                       c->host};
    st = q(reg,
           "INSERT INTO data_commits(project, dataset, generation, attempt, kind, state, path, "
           "rows_added, rows_removed, files_added, files_removed, total_rows, total_files, "
           "identity_before, identity_after, detail_json, created_at, \"user\", host) "
           "VALUES(?, ?, ?, ?, ?, 'prepared', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
           p, 18, NULL, err);
  }
  ms_reg_rows_reset(&r);
  if (st == MS_OK) return reg->be->commit(reg->db, err);
  reg->be->rollback(reg->db);
  return st;
}

static ms_status data_finish(ms_registry *reg, const char *project, const char *dataset,
                             int64_t generation, bool committed, const char *identity_after,
                             const ms_reg_data_commit *counts, ms_error *err) {
  ms_status st = data_args(reg, project, dataset, err);
  if (st != MS_OK) return st;
  int64_t pgen;
  st = begin_project(reg, project, &pgen, err);
  if (st != MS_OK) return st;
  char g[24];
  i64s(g, generation);
  const char *pk[] = {project, dataset, g};
  ms_reg_rows r = {0};
  st = q(reg,
         "SELECT attempt FROM data_commits WHERE project = ? AND dataset = ? AND "
         "generation = ? AND state = 'prepared'",
         pk, 3, &r, err);
  if (st == MS_OK && r.n_rows == 0)
    st = ms_error_set(err, MS_ERR_NOT_FOUND,
                      "registry: dataset '%s' of project '%s' has no prepared record for "
                      "generation %lld",
                      dataset, project, (long long)generation);
  if (st == MS_OK) {
    const char *att = ms_reg_cell(&r, 0, 0);
    const char *state = committed ? "committed" : "aborted";
    const char *p[] = {state, identity_after, project, dataset, g, att};
    st = q(reg,
           "UPDATE data_commits SET state = ?, identity_after = ? WHERE project = ? AND "
           "dataset = ? AND generation = ? AND attempt = ?",
           p, 6, NULL, err);
    if (st == MS_OK && counts) {
      char ra[24], rr[24], fa[24], fr[24], tr[24], tf[24];
      i64s(ra, counts->rows_added);
      i64s(rr, counts->rows_removed);
      i64s(fa, counts->files_added);
      i64s(fr, counts->files_removed);
      i64s(tr, counts->total_rows);
      i64s(tf, counts->total_files);
      const char *pc[] = {ra, rr, fa, fr, tr, tf, project, dataset, g, att};
      st = q(reg,
             "UPDATE data_commits SET rows_added = ?, rows_removed = ?, files_added = ?, "
             "files_removed = ?, total_rows = ?, total_files = ? WHERE project = ? AND "
             "dataset = ? AND generation = ? AND attempt = ?",
             pc, 10, NULL, err);
    }
  }
  ms_reg_rows_reset(&r);
  if (st == MS_OK) return reg->be->commit(reg->db, err);
  reg->be->rollback(reg->db);
  return st;
}

ms_status ms_registry_data_finish(ms_registry *reg, const char *project, const char *dataset,
                                  int64_t generation, bool committed,
                                  const char *identity_after, ms_error *err) {
  return data_finish(reg, project, dataset, generation, committed, identity_after, NULL, err);
}

ms_status ms_registry_data_finish_counts(ms_registry *reg, const char *project,
                                         const char *dataset, int64_t generation,
                                         const ms_reg_data_commit *counts,
                                         const char *identity_after, ms_error *err) {
  return data_finish(reg, project, dataset, generation, true, identity_after, counts, err);
}

void ms_reg_data_commits_free(ms_reg_data_commit *c, int n) {
  if (!c) return;
  for (int i = 0; i < n; i++) {
    ms_free(c[i].dataset);
    ms_free(c[i].kind);
    ms_free(c[i].state);
    ms_free(c[i].path);
    ms_free(c[i].identity_before);
    ms_free(c[i].identity_after);
    ms_free(c[i].detail_json);
    ms_free(c[i].created_at);
    ms_free(c[i].user);
    ms_free(c[i].host);
  }
  ms_free(c);
}

ms_status ms_registry_data_commits(ms_registry *reg, const char *project, const char *dataset,
                                   ms_reg_data_commit **out, int *out_n, ms_error *err) {
  ms_status st = data_args(reg, project, dataset, err);
  if (st != MS_OK) return st;
  if (!out || !out_n) return ms_error_set(err, MS_ERR_INVALID, "registry: bad argument");
  *out = NULL;
  *out_n = 0;
  ms_reg_rows r;
  const char *p[] = {project, dataset};
  /* Cast for the sort: the columns are BIGINT on both back ends already; the ORDER BY
   * is numeric there. */
  st = q(reg,
         "SELECT generation, dataset, kind, state, path, rows_added, rows_removed, "
         "files_added, files_removed, total_rows, total_files, identity_before, "
         "identity_after, detail_json, created_at, \"user\", host FROM data_commits "
         "WHERE project = ? AND dataset = ? ORDER BY generation, attempt",
         p, 2, &r, err);
  if (st != MS_OK) return st;
  ms_reg_data_commit *c = ms_calloc((size_t)r.n_rows + 1, sizeof *c);
  if (!c) {
    ms_reg_rows_reset(&r);
    return oom(err);
  }
  for (int i = 0; i < r.n_rows; i++) {
    c[i].generation = to_i64(ms_reg_cell(&r, i, 0));
    c[i].dataset = take(&r, i, 1);
    c[i].kind = take(&r, i, 2);
    c[i].state = take(&r, i, 3);
    c[i].path = take(&r, i, 4);
    c[i].rows_added = to_i64(ms_reg_cell(&r, i, 5));
    c[i].rows_removed = to_i64(ms_reg_cell(&r, i, 6));
    c[i].files_added = to_i64(ms_reg_cell(&r, i, 7));
    c[i].files_removed = to_i64(ms_reg_cell(&r, i, 8));
    c[i].total_rows = to_i64(ms_reg_cell(&r, i, 9));
    c[i].total_files = to_i64(ms_reg_cell(&r, i, 10));
    c[i].identity_before = take(&r, i, 11);
    c[i].identity_after = take(&r, i, 12);
    c[i].detail_json = take(&r, i, 13);
    c[i].created_at = take(&r, i, 14);
    c[i].user = take(&r, i, 15);
    c[i].host = take(&r, i, 16);
  }
  *out = c;
  *out_n = r.n_rows;
  ms_reg_rows_reset(&r);
  return MS_OK;
}

void ms_registry_strings_free(char **s, int n) {
  if (!s) return;
  for (int i = 0; i < n; i++) ms_free(s[i]);
  ms_free(s);
}

static int str_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

ms_status ms_registry_data_datasets(ms_registry *reg, const char *project, char ***out,
                                    int *out_n, ms_error *err) {
  if (!reg || !project || !out || !out_n)
    return ms_error_set(err, MS_ERR_INVALID, "registry: bad argument");
  *out = NULL;
  *out_n = 0;
  ms_reg_rows r;
  const char *p[] = {project};
  ms_status st = q(reg, "SELECT DISTINCT dataset FROM data_commits WHERE project = ?", p, 1, &r,
                   err);
  if (st != MS_OK) return st;
  char **s = ms_calloc((size_t)r.n_rows + 1, sizeof *s);
  if (!s) {
    ms_reg_rows_reset(&r);
    return oom(err);
  }
  int n = 0;
  for (int i = 0; i < r.n_rows; i++)
    if (ms_reg_cell(&r, i, 0)) s[n++] = take(&r, i, 0);
  ms_reg_rows_reset(&r);
  qsort(s, (size_t)n, sizeof *s, str_cmp);
  *out = s;
  *out_n = n;
  return MS_OK;
}
