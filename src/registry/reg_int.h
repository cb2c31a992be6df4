/* Private interface between the registry logic (registry.c) and its storage back ends
 * (reg_sqlite.c, reg_postgres.c).
 *
 * A back end is a small table of function pointers over one connection: run one
 * parameterised statement (parameters and results are text or SQL NULL), and open, commit
 * or roll back a write transaction. The SQL text is shared by both back ends: it is
 * written with `?` placeholders, which the PostgreSQL back end renumbers to $1, $2, ...
 * Everything that decides what to write (diffing, versions, generation checks) lives in
 * registry.c, so both back ends behave identically by construction. */
#ifndef MS_REG_INT_H
#define MS_REG_INT_H

#include "morsel/registry.h"

/* The registry schema this build writes and understands. 1: objects, versions, edges;
 * 2: data_commits (managed-dataset commit records, include/morsel/store.h). */
#define MS_REG_SCHEMA_VERSION 2

/* Result rows of one statement: cells[row * n_cols + col], each a ms_malloc'd string or
 * NULL for SQL NULL. */
typedef struct ms_reg_rows {
  int n_rows, n_cols;
  char **cells;
} ms_reg_rows;

void ms_reg_rows_reset(ms_reg_rows *rows);
static inline const char *ms_reg_cell(const ms_reg_rows *r, int row, int col) {
  return r->cells[(size_t)row * (size_t)r->n_cols + (size_t)col];
}

typedef struct ms_reg_backend {
  const char *name; /* "sqlite" or "postgresql" */
  /* Suffix that locks the selected rows until commit (" FOR UPDATE" or ""). */
  const char *for_update;
  ms_status (*open)(const char *location, void **out_db, ms_error *err);
  void (*close)(void *db);
  /* Runs one statement; `out` (may be NULL) receives the rows. */
  ms_status (*exec)(void *db, const char *sql, const char *const *params, int n_params,
                    ms_reg_rows *out, ms_error *err);
  /* Starts a transaction that will write: SQLite BEGIN IMMEDIATE (waits for the write
   * lock under the busy timeout), PostgreSQL BEGIN (READ COMMITTED; registry.c then locks
   * the project row with SELECT ... FOR UPDATE). `schema` asks for the lock that
   * serialises schema creation and migration between processes. */
  ms_status (*begin)(void *db, int schema, ms_error *err);
  ms_status (*commit)(void *db, ms_error *err);
  void (*rollback)(void *db); /* best effort, never fails the caller */
} ms_reg_backend;

extern const ms_reg_backend ms_reg_sqlite_backend;
extern const ms_reg_backend ms_reg_postgres_backend;

#endif
