/* Registry back end: SQLite, the embedded default (a file inside the repository).
 *
 * One connection per ms_registry. Writers take the database write lock up front with
 * BEGIN IMMEDIATE, so the diff computed inside the transaction cannot be invalidated by
 * another process; a busy timeout makes a second process wait for the lock instead of
 * failing at once. The journal is switched to WAL so readers do not block the writer. */
#include <sqlite3.h>
#include <string.h>

#include "morsel/alloc.h"
#include "registry/reg_int.h"

/* How long a process waits for another one's write transaction (milliseconds). */
#define MS_REG_SQLITE_BUSY_MS 60000

static ms_status sq_error(sqlite3 *db, const char *what, ms_error *err) {
  int code = sqlite3_errcode(db);
  ms_status st = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? MS_ERR_CONFLICT : MS_ERR_IO;
  return ms_error_set(err, st, "registry (SQLite): %s: %s", what, sqlite3_errmsg(db));
}

static ms_status sq_open(const char *location, void **out_db, ms_error *err) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(location, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK) {
    ms_status st = ms_error_set(err, MS_ERR_IO, "registry %s: cannot open SQLite database: %s",
                                location, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return st;
  }
  sqlite3_busy_timeout(db, MS_REG_SQLITE_BUSY_MS);
  /* WAL is a property of the file; failing to switch (e.g. a file system without shared
   * memory) leaves the rollback journal, which is correct, only slower for readers. */
  sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
  *out_db = db;
  return MS_OK;
}

static void sq_close(void *db) { sqlite3_close((sqlite3 *)db); }

static ms_status sq_exec(void *vdb, const char *sql, const char *const *params, int n_params,
                         ms_reg_rows *out, ms_error *err) {
  sqlite3 *db = vdb;
  sqlite3_stmt *stmt = NULL;
  if (out) memset(out, 0, sizeof *out);
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
    return sq_error(db, "prepare", err);
  for (int i = 0; i < n_params; i++) {
    int rc = params[i] ? sqlite3_bind_text(stmt, i + 1, params[i], -1, SQLITE_TRANSIENT)
                       : sqlite3_bind_null(stmt, i + 1);
    if (rc != SQLITE_OK) {
      ms_status st = sq_error(db, "bind", err);
      sqlite3_finalize(stmt);
      return st;
    }
  }
  int n_cols = sqlite3_column_count(stmt), cap = 0;
  ms_status st = MS_OK;
  for (;;) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) { st = sq_error(db, "step", err); break; }
    if (!out) continue;
    if (out->n_rows == cap) {
      int ncap = cap ? cap * 2 : 8;
      char **nc = ms_realloc(out->cells, (size_t)ncap * (size_t)(n_cols ? n_cols : 1) * sizeof *nc);
      if (!nc) { st = ms_error_set(err, MS_ERR_NOMEM, "registry: out of memory"); break; }
      out->cells = nc;
      cap = ncap;
    }
    out->n_cols = n_cols;
    for (int c = 0; c < n_cols; c++) {
      const unsigned char *t = sqlite3_column_text(stmt, c);
      char *v = NULL;
      if (t) {
        v = ms_strdup((const char *)t);
        if (!v) st = ms_error_set(err, MS_ERR_NOMEM, "registry: out of memory");
      }
      out->cells[(size_t)out->n_rows * (size_t)n_cols + (size_t)c] = v;
    }
    out->n_rows++;
    if (st != MS_OK) break;
  }
  sqlite3_finalize(stmt);
  if (st != MS_OK && out) ms_reg_rows_reset(out);
  return st;
}

static ms_status sq_begin(void *db, int schema, ms_error *err) {
  (void)schema; /* BEGIN IMMEDIATE already serialises schema changes */
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return sq_error(db, "begin transaction", err);
  return MS_OK;
}

static ms_status sq_commit(void *db, ms_error *err) {
  if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    ms_status st = sq_error(db, "commit", err);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return st;
  }
  return MS_OK;
}

static void sq_rollback(void *db) {
  if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

const ms_reg_backend ms_reg_sqlite_backend = {
    .name = "sqlite",
    .for_update = "",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
};
