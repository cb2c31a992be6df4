/* Registry back end: PostgreSQL through libpq, for a registry shared by many processes
 * and machines.
 *
 * Locations are libpq URLs; the SQLAlchemy spelling "postgresql+psycopg2://" that Feast
 * users write is accepted and the "+psycopg2" dropped. Statements go through PQexecParams
 * with text parameters (names and JSON are never spliced into SQL); the shared `?`
 * placeholders are renumbered to $1, $2, ... here.
 *
 * Concurrency (chosen design): transactions run at READ COMMITTED and registry.c locks the
 * project's row with SELECT ... FOR UPDATE before reading anything else, so applies of one
 * project are serialised and every statement after the lock sees the latest committed
 * state. This never aborts a transaction for a serialisation failure, unlike SERIALIZABLE,
 * so the only "conflict" a caller sees is the generation check. Schema creation and
 * migration are serialised by a transaction-scoped advisory lock. Server NOTICEs (such as
 * "relation already exists, skipping") are swallowed: library code never prints. */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "morsel/alloc.h"
#include "registry/reg_int.h"

/* Advisory lock key for schema creation/migration ("morsel" in ASCII-ish digits). */
#define MS_REG_PG_SCHEMA_LOCK "7737726573"

static void pg_notice_ignore(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

/* Copies libpq's message without its trailing newline. */
static void pg_message(const char *msg, char *buf, size_t size) {
  snprintf(buf, size, "%s", msg ? msg : "unknown error");
  size_t n = strlen(buf);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
}

static ms_status pg_open(const char *location, void **out_db, ms_error *err) {
  const char *plus = "postgresql+psycopg2://";
  char *url;
  if (strncmp(location, plus, strlen(plus)) == 0)
    url = ms_asprintf("postgresql://%s", location + strlen(plus));
  else
    url = ms_strdup(location);
  if (!url) return ms_error_set(err, MS_ERR_NOMEM, "registry: out of memory");
  /* expand_dbname: the URL is parsed as a connection string; a connect timeout keeps an
   * unreachable server from hanging the command. */
  const char *keys[] = {"dbname", "connect_timeout", "fallback_application_name", NULL};
  const char *vals[] = {url, "10", "morsel", NULL};
  PGconn *conn = PQconnectdbParams(keys, vals, 1);
  ms_free(url);
  if (!conn) return ms_error_set(err, MS_ERR_NOMEM, "registry: out of memory (libpq)");
  if (PQstatus(conn) != CONNECTION_OK) {
    char msg[900];
    pg_message(PQerrorMessage(conn), msg, sizeof msg);
    PQfinish(conn);
    /* The URL may hold a password, so it is not repeated in the message. */
    return ms_error_set(err, MS_ERR_IO, "registry: cannot connect to PostgreSQL: %s", msg);
  }
  PQsetNoticeProcessor(conn, pg_notice_ignore, NULL);
  *out_db = conn;
  return MS_OK;
}

static void pg_close(void *db) { PQfinish((PGconn *)db); }

/* "?" -> "$n" outside string literals. */
static char *pg_renumber(const char *sql) {
  size_t len = strlen(sql), q = 0;
  for (size_t i = 0; i < len; i++) q += sql[i] == '?';
  char *out = ms_malloc(len + q * 6 + 1);
  if (!out) return NULL;
  size_t o = 0;
  int n = 0, in_str = 0;
  for (size_t i = 0; i < len; i++) {
    char c = sql[i];
    if (c == '\'') in_str = !in_str;
    if (c == '?' && !in_str) o += (size_t)sprintf(out + o, "$%d", ++n);
    else out[o++] = c;
  }
  out[o] = '\0';
  return out;
}

static ms_status pg_result_error(PGconn *conn, PGresult *res, ms_error *err) {
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  char msg[900];
  pg_message(res ? PQresultErrorMessage(res) : PQerrorMessage(conn), msg, sizeof msg);
  if (!msg[0]) pg_message(PQerrorMessage(conn), msg, sizeof msg);
  ms_status st = MS_ERR_IO;
  if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
    st = MS_ERR_CONFLICT;
  return ms_error_set(err, st, "registry (PostgreSQL): %s", msg);
}

static ms_status pg_exec(void *vdb, const char *sql, const char *const *params, int n_params,
                         ms_reg_rows *out, ms_error *err) {
  PGconn *conn = vdb;
  if (out) memset(out, 0, sizeof *out);
  char *text = pg_renumber(sql);
  if (!text) return ms_error_set(err, MS_ERR_NOMEM, "registry: out of memory");
  PGresult *res = PQexecParams(conn, text, n_params, NULL, params, NULL, NULL, 0);
  ms_free(text);
  ExecStatusType es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
    ms_status st = pg_result_error(conn, res, err);
    PQclear(res);
    return st;
  }
  ms_status st = MS_OK;
  if (out && es == PGRES_TUPLES_OK) {
    int nr = PQntuples(res), nc = PQnfields(res);
    out->n_cols = nc;
    if (nr > 0 && nc > 0) {
      out->cells = ms_calloc((size_t)nr * (size_t)nc, sizeof *out->cells);
      if (!out->cells) st = ms_error_set(err, MS_ERR_NOMEM, "registry: out of memory");
    }
    for (int r = 0; st == MS_OK && r < nr; r++) {
      for (int c = 0; c < nc; c++) {
        if (PQgetisnull(res, r, c)) continue;
        char *v = ms_strdup(PQgetvalue(res, r, c));
        if (!v) { st = ms_error_set(err, MS_ERR_NOMEM, "registry: out of memory"); break; }
        out->cells[(size_t)r * (size_t)nc + (size_t)c] = v;
      }
      out->n_rows = r + 1;
    }
  }
  PQclear(res);
  if (st != MS_OK && out) ms_reg_rows_reset(out);
  return st;
}

static ms_status pg_simple(PGconn *conn, const char *sql, ms_error *err) {
  PGresult *res = PQexec(conn, sql);
  ExecStatusType es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  ms_status st = MS_OK;
  if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) st = pg_result_error(conn, res, err);
  PQclear(res);
  return st;
}

static void pg_rollback(void *db) {
  PGconn *conn = db;
  if (PQtransactionStatus(conn) != PQTRANS_IDLE) PQclear(PQexec(conn, "ROLLBACK"));
}

static ms_status pg_begin(void *db, int schema, ms_error *err) {
  ms_status st = pg_simple(db, "BEGIN ISOLATION LEVEL READ COMMITTED", err);
  if (st == MS_OK && schema)
    st = pg_simple(db, "SELECT pg_advisory_xact_lock(" MS_REG_PG_SCHEMA_LOCK ")", err);
  if (st != MS_OK) pg_rollback(db);
  return st;
}

static ms_status pg_commit(void *db, ms_error *err) {
  ms_status st = pg_simple(db, "COMMIT", err);
  if (st != MS_OK) pg_rollback(db);
  return st;
}

const ms_reg_backend ms_reg_postgres_backend = {
    .name = "postgresql",
    .for_update = " FOR UPDATE",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
};
