/* Differential test of the expression engine against SQLite.
 *
 * Random tables (ints with nulls, floats with negatives, zeros and nulls, strings with
 * empty and multibyte UTF-8 values, bools with nulls) are loaded both as morsel columns
 * and into an in-memory SQLite table. Random expression trees over a grammar both engines
 * share are printed twice, in our syntax and as SQLite SQL, and every row of the two
 * results must agree (floats to a relative 1e-9).
 *
 * Semantic differences the printer maps around (docs/expressions.md):
 *   - our `/` is always float division, SQLite's divides integers: CAST(a AS REAL) / b
 *     (both give null for a zero divisor);
 *   - least/greatest skip nulls, SQLite's multi-argument min/max return null if any
 *     argument is null: CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a ELSE min(a, b) END;
 *   - concat skips nulls, SQLite's || propagates them: coalesce(a, '') || coalesce(b, '');
 *   - starts_with(s, p) is substr(s, 1, length(p)) = p, ends_with compares
 *     substr(s, -length(p)), contains is instr(s, p) > 0; if(c, a, b) is CASE WHEN; log is
 *     ln; substr is only generated with start >= 0 (SQLite counts negative starts from the
 *     end, we follow the SQL standard) and len >= 0;
 *   - SQLite's % converts floats to integers, ours is fmod: only int % int is generated;
 *   - SQLite turns an int64 overflow into a float and clamps CAST(huge real AS INTEGER),
 *     we raise an error: expressions whose evaluation fails with an overflow or an
 *     out-of-range cast are skipped (and counted);
 *   - timestamps are timestamp[s] columns here and integer seconds in SQLite: t + 90d is
 *     t + 7776000, extract(part from t) is strftime('%Y'...), cast(t as string) is
 *     strftime('%Y-%m-%d %H:%M:%S'), date_diff is the floored integer division of the
 *     second difference, timestamp literals are strftime('%s', ...);
 *   - round(x, digits): SQLite rounds the 15-digit decimal text (round(2.675, 2) = 2.68),
 *     we round the binary value (2.67, as numpy); only round(x) is generated;
 *   - SQLite has no NaN (a NaN result such as 0 * exp(1000) is NULL), we keep IEEE NaN: our
 *     NaN matches SQLite's NULL;
 *   - SQLite comparisons of an int64 with a float are exact, ours convert the int to a
 *     float: identical for the small values generated here.
 *
 * MORSEL_EXPR_SEED=<n> reruns one seed (printed on failure); MORSEL_EXPR_COUNT=<n> sets
 * the number of expressions. */
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "morsel/alloc.h"
#include "morsel/expr.h"
#include "morsel/table.h"
#include "ms_test.h"

static uint64_t g_rng;
static uint64_t rnd(void) {
  uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static int rn(int n) { return (int)(rnd() % (uint64_t)n); }

#define NROWS 97
enum { TI, TF, TB, TS, TT }; /* TT: timestamp[s], seconds in SQLite */
typedef struct colspec {
  const char *name;
  int type;
} colspec;
static const colspec k_cols[] = {{"i1", TI}, {"i2", TI}, {"i3", TI}, {"f1", TF}, {"f2", TF},
                                 {"s1", TS}, {"s2", TS}, {"b1", TB}, {"b2", TB},
                                 {"t1", TT}, {"t2", TT}};
#define NCOLS ((int)(sizeof k_cols / sizeof *k_cols))

static const char *k_strings[] = {"", "a", "abc", "ABC", "Abc", "b", "héllo", "Ünïcode",
                                  "日本語", "x y", "C536", "c", "aa", "zz", "héllo wörld"};
#define NSTR ((int)(sizeof k_strings / sizeof *k_strings))

/* ---- a growable string ---- */
typedef struct sbuf {
  char *p;
  size_t n, cap;
} sbuf;
static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (b->n + (size_t)len + 1 > b->cap) {
    b->cap = (b->n + (size_t)len + 1) * 2;
    b->p = realloc(b->p, b->cap);
  }
  va_start(ap, fmt);
  vsnprintf(b->p + b->n, (size_t)len + 1, fmt, ap);
  va_end(ap);
  b->n += (size_t)len;
}

/* An expression in both dialects. */
typedef struct pair {
  char *ours, *sql;
} pair;

static pair mkp(const char *ofmt, const char *sfmt, pair *a, pair *b, pair *c) {
  /* formats use %1 %2 %3 for the arguments, in each dialect */
  pair r;
  const char *fmts[2] = {ofmt, sfmt};
  for (int d = 0; d < 2; d++) {
    sbuf s = {0};
    sb_add(&s, "%s", "");
    for (const char *f = fmts[d]; *f; f++) {
      if (*f == '%' && f[1] >= '1' && f[1] <= '3') {
        pair *x = f[1] == '1' ? a : f[1] == '2' ? b : c;
        sb_add(&s, "%s", d == 0 ? x->ours : x->sql);
        f++;
      } else {
        sb_add(&s, "%c", *f);
      }
    }
    if (d == 0) r.ours = s.p;
    else r.sql = s.p;
  }
  return r;
}

static void pfree(pair *p) {
  free(p->ours);
  free(p->sql);
}

static pair leaf(const char *o, const char *s) {
  pair r = {strdup(o), strdup(s)};
  return r;
}

static pair gen(int type, int depth);

static pair column_of(int type) {
  int idx[NCOLS], n = 0;
  for (int i = 0; i < NCOLS; i++)
    if (k_cols[i].type == type) idx[n++] = i;
  const char *name = k_cols[idx[rn(n)]].name;
  return leaf(name, name);
}

static pair literal_of(int type) {
  char b[64];
  switch (type) {
    case TI:
      snprintf(b, sizeof b, "%d", rn(21) - 10);
      return leaf(b, b);
    case TF: {
      static const char *f[] = {"0.5", "-1.25", "2.0", "0.0", "3.75", "-0.125", "10.5"};
      const char *v = f[rn(7)];
      return leaf(v, v);
    }
    case TB:
      return rn(2) ? leaf("true", "1") : leaf("false", "0");
    case TT: {
      static const char *lits[] = {"2011-03-01 08:26:00", "1969-12-31 23:59:59", "1900-01-01 00:00:00",
                                   "2000-02-29 12:00:00", "1970-01-01 00:00:00"};
      const char *v = lits[rn(5)];
      char o[80], q[96];
      snprintf(o, sizeof o, "timestamp '%s'", v);
      snprintf(q, sizeof q, "CAST(strftime('%%s', '%s') AS INTEGER)", v);
      return leaf(o, q);
    }
    default: {
      const char *v = k_strings[rn(NSTR)];
      snprintf(b, sizeof b, "'%s'", v);
      return leaf(b, b);
    }
  }
}

static pair gen2(int type, int depth, const char *o, const char *s, int t1, int t2) {
  pair a = gen(t1, depth - 1), b = gen(t2, depth - 1);
  pair r = mkp(o, s, &a, &b, NULL);
  pfree(&a);
  pfree(&b);
  return r;
}

static pair gen1(int depth, const char *o, const char *s, int t1) {
  pair a = gen(t1, depth - 1);
  pair r = mkp(o, s, &a, NULL, NULL);
  pfree(&a);
  return r;
}

static pair gen3(int depth, const char *o, const char *s, int t1, int t2, int t3) {
  pair a = gen(t1, depth - 1), b = gen(t2, depth - 1), c = gen(t3, depth - 1);
  pair r = mkp(o, s, &a, &b, &c);
  pfree(&a);
  pfree(&b);
  pfree(&c);
  return r;
}

static int num_type(void) { return rn(3) ? TI : TF; }

static pair gen_num(int type, int depth) {
  /* type TF: at least one side float (or the result of /) */
  int a = type == TI ? TI : num_type(), b = type == TI ? TI : (a == TI ? TF : num_type());
  switch (rn(14)) {
    case 0: return gen2(type, depth, "(%1 + %2)", "(%1 + %2)", a, b);
    case 1: return gen2(type, depth, "(%1 - %2)", "(%1 - %2)", a, b);
    case 2: return gen2(type, depth, "(%1 * %2)", "(%1 * %2)", a, b);
    case 3:
      if (type == TI) return gen2(type, depth, "(%1 % %2)", "(%1 % %2)", TI, TI);
      return gen2(type, depth, "(%1 / %2)", "(CAST(%1 AS REAL) / %2)", num_type(), num_type());
    case 4: return gen1(depth, "(- %1)", "(- %1)", type);
    case 5: return gen1(depth, "abs(%1)", "abs(%1)", type);
    case 6: return gen2(type, depth, "coalesce(%1, %2)", "coalesce(%1, %2)", type, type);
    case 7: return gen3(depth, "if(%1, %2, %3)", "(CASE WHEN %1 THEN %2 ELSE %3 END)", TB, type, type);
    case 8:
      return gen3(depth, "(case when %1 then %2 else %3 end)", "(CASE WHEN %1 THEN %2 ELSE %3 END)",
                  TB, type, type);
    case 9:
      return gen2(type, depth, "least(%1, %2)",
                  "(CASE WHEN %1 IS NULL THEN %2 WHEN %2 IS NULL THEN %1 ELSE min(%1, %2) END)",
                  type, type);
    case 10:
      return gen2(type, depth, "greatest(%1, %2)",
                  "(CASE WHEN %1 IS NULL THEN %2 WHEN %2 IS NULL THEN %1 ELSE max(%1, %2) END)",
                  type, type);
    case 11:
      if (type == TI) return gen1(depth, "length(%1)", "length(%1)", TS);
      switch (rn(7)) {
        case 0: return gen1(depth, "round(%1)", "round(%1)", TF);
        case 1: return gen1(depth, "floor(%1)", "floor(%1)", TF);
        case 2: return gen1(depth, "ceil(%1)", "ceil(%1)", TF);
        case 3: return gen1(depth, "sqrt(%1)", "sqrt(%1)", num_type());
        case 4: return gen1(depth, "log(%1)", "ln(%1)", num_type());
        case 5: return gen1(depth, "exp(%1)", "exp(%1)", TF);
        default: {
          char o[32];
          snprintf(o, sizeof o, "pow(%%1, %d)", rn(4)); /* no negative powers of 0 */
          return gen1(depth, o, o, num_type());
        }
      }
    case 12:
      if (type == TI) return gen1(depth, "cast(%1 as int64)", "CAST(%1 AS INTEGER)", TF);
      return gen1(depth, "cast(%1 as float64)", "CAST(%1 AS REAL)", TI);
    default:
      if (type == TI) return gen1(depth, "cast(%1 as int64)", "CAST(%1 AS INTEGER)", TB);
      return gen3(depth, "(case when %1 then %2 end)", "(CASE WHEN %1 THEN %2 END)", TB, type, TF);
  }
}

static pair gen_bool(int depth) {
  static const char *cmp[] = {"=", "!=", "<", "<=", ">", ">="};
  static const char *scmp[] = {"=", "<>", "<", "<=", ">", ">="};
  int k = rn(6);
  char o[32], s[32];
  snprintf(o, sizeof o, "(%%1 %s %%2)", cmp[k]);
  snprintf(s, sizeof s, "(%%1 %s %%2)", scmp[k]);
  switch (rn(12)) {
    case 0: return gen2(TB, depth, o, s, num_type(), num_type());
    case 1: return gen2(TB, depth, o, s, TS, TS);
    case 2: return gen2(TB, depth, "(%1 and %2)", "(%1 AND %2)", TB, TB);
    case 3: return gen2(TB, depth, "(%1 or %2)", "(%1 OR %2)", TB, TB);
    case 4: return gen1(depth, "(not %1)", "(NOT %1)", TB);
    case 5: {
      int t = rn(5);
      return rn(2) ? gen1(depth, "(%1 is null)", "(%1 IS NULL)", t)
                   : gen1(depth, "(%1 is not null)", "(%1 IS NOT NULL)", t);
    }
    case 6:
      switch (rn(3)) {
        case 0: return gen2(TB, depth, "starts_with(%1, %2)", "(substr(%1, 1, length(%2)) = %2)", TS, TS);
        case 1:
          return gen2(TB, depth, "ends_with(%1, %2)",
                      "(CASE WHEN %1 IS NULL OR %2 IS NULL THEN NULL WHEN length(%2) = 0 THEN 1 "
                      "ELSE substr(%1, -length(%2)) = %2 END)", TS, TS);
        default: return gen2(TB, depth, "contains(%1, %2)", "(instr(%1, %2) > 0)", TS, TS);
      }
    case 7: {
      pair x = gen(TI, depth - 1);
      char lst[64];
      int v1 = rn(11) - 5, v2 = rn(11) - 5; /* separate statements: argument order is unspecified */
      bool with_null = rn(3) == 0;
      snprintf(lst, sizeof lst, "%d, %d%s", v1, v2, with_null ? ", null" : "");
      bool neg = rn(2);
      sbuf so = {0}, ss = {0};
      sb_add(&so, "(%s %sin (%s))", x.ours, neg ? "not " : "", lst);
      sb_add(&ss, "(%s %sIN (%s))", x.sql, neg ? "NOT " : "", lst);
      pfree(&x);
      return (pair){so.p, ss.p};
    }
    case 8: return gen2(TB, depth, o, s, TB, TB);
    case 9: return gen2(TB, depth, "coalesce(%1, %2)", "coalesce(%1, %2)", TB, TB);
    case 10:
      return gen3(depth, "if(%1, %2, %3)", "(CASE WHEN %1 THEN %2 ELSE %3 END)", TB, TB, TB);
    default: return gen2(TB, depth, "(%1 in (%2, 'abc'))", "(%1 IN (%2, 'abc'))", TS, TS);
  }
}

static pair gen_str(int depth) {
  switch (rn(8)) {
    case 0: return gen1(depth, "lower(%1)", "lower(%1)", TS);
    case 1: return gen1(depth, "upper(%1)", "upper(%1)", TS);
    case 2: {
      pair s = gen(TS, depth - 1);
      char a[32];
      int st = rn(6), len = rn(5); /* start 0 agrees too; negative starts differ */
      sbuf so = {0}, ss = {0};
      if (rn(2)) snprintf(a, sizeof a, "%d, %d", st, len);
      else snprintf(a, sizeof a, "%d", st);
      sb_add(&so, "substr(%s, %s)", s.ours, a);
      sb_add(&ss, "substr(%s, %s)", s.sql, a);
      pfree(&s);
      return (pair){so.p, ss.p};
    }
    case 3: return gen2(TS, depth, "coalesce(%1, %2)", "coalesce(%1, %2)", TS, TS);
    case 4:
      return gen2(TS, depth, "concat(%1, %2)", "(coalesce(%1, '') || coalesce(%2, ''))", TS, TS);
    case 5: return gen3(depth, "if(%1, %2, %3)", "(CASE WHEN %1 THEN %2 ELSE %3 END)", TB, TS, TS);
    case 6: return gen1(depth, "cast(%1 as string)", "CAST(%1 AS TEXT)", TI);
    default:
      return gen2(TS, depth, "least(%1, %2)",
                  "(CASE WHEN %1 IS NULL THEN %2 WHEN %2 IS NULL THEN %1 ELSE min(%1, %2) END)",
                  TS, TS);
  }
}

static const struct { const char *lit; long secs; } k_durs[] = {
    {"90d", 7776000}, {"1h30m", 5400}, {"45s", 45}, {"2d12h", 216000}, {"1m", 60}, {"0s", 0}};

static pair gen_time(int depth) {
  switch (rn(5)) {
    case 0:
    case 1: {
      int k = rn(6);
      bool plus = rn(2);
      char o[64], q[64];
      snprintf(o, sizeof o, plus ? "(%%1 + %s)" : "(%%1 - %s)", k_durs[k].lit);
      snprintf(q, sizeof q, plus ? "(%%1 + %ld)" : "(%%1 - %ld)", k_durs[k].secs);
      return gen1(depth, o, q, TT);
    }
    case 2: return gen3(depth, "if(%1, %2, %3)", "(CASE WHEN %1 THEN %2 ELSE %3 END)", TB, TT, TT);
    case 3: return gen2(TT, depth, "coalesce(%1, %2)", "coalesce(%1, %2)", TT, TT);
    default:
      return gen2(TT, depth, "greatest(%1, %2)",
                  "(CASE WHEN %1 IS NULL THEN %2 WHEN %2 IS NULL THEN %1 ELSE max(%1, %2) END)",
                  TT, TT);
  }
}

/* int64 results computed from timestamps: extract and date_diff (floored division). */
static pair gen_time_int(int depth) {
  static const char *parts[] = {"year", "month", "day", "hour", "minute", "second", "dow", "doy"};
  static const char *fmts[] = {"%Y", "%m", "%d", "%H", "%M", "%S", "%w", "%j"};
  static const char *units[] = {"day", "hour", "minute", "second", "week"};
  static const long secs[] = {86400, 3600, 60, 1, 604800};
  char o[160], q[300];
  if (rn(2)) {
    int k = rn(8);
    snprintf(o, sizeof o, rn(2) ? "extract(%s from %%1)" : "extract('%s', %%1)", parts[k]);
    snprintf(q, sizeof q, "CAST(strftime('%s', %%1, 'unixepoch') AS INTEGER)", fmts[k]);
    return gen1(depth, o, q, TT);
  }
  int k = rn(5);
  snprintf(o, sizeof o, "date_diff('%s', %%1, %%2)", units[k]);
  snprintf(q, sizeof q, "(((%%2) - (%%1)) / %ld - (((%%2) - (%%1)) %% %ld < 0))", secs[k], secs[k]);
  return gen2(TI, depth, o, q, TT, TT);
}

static pair gen(int type, int depth) {
  if (depth <= 0 || rn(4) == 0) return rn(4) ? column_of(type) : literal_of(type);
  if (type == TT) return gen_time(depth);
  if (type == TI && rn(8) == 0) return gen_time_int(depth);
  if (type == TB && rn(10) == 0) {
    static const char *cmp[] = {"=", "!=", "<", "<=", ">", ">="};
    char o[32];
    snprintf(o, sizeof o, "(%%1 %s %%2)", cmp[rn(6)]);
    return gen2(TB, depth, o, o, TT, TT);
  }
  if (type == TS && rn(10) == 0)
    return gen1(depth, "cast(%1 as string)", "strftime('%Y-%m-%d %H:%M:%S', %1, 'unixepoch')", TT);
  switch (type) {
    case TI:
    case TF: return gen_num(type, depth);
    case TB: return gen_bool(depth);
    default: return gen_str(depth);
  }
}

/* ---- data ---- */

static ms_column *g_cols[NCOLS];
static ms_field g_fields[NCOLS];

static ms_status build_data(sqlite3 *db) {
  char sql[512] = "CREATE TABLE t(";
  for (int c = 0; c < NCOLS; c++) {
    strcat(sql, k_cols[c].name);
    strcat(sql, c + 1 < NCOLS ? ", " : ")");
  }
  if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) return MS_ERR_INTERNAL;
  strcpy(sql, "INSERT INTO t VALUES (?");
  for (int c = 1; c < NCOLS; c++) strcat(sql, ", ?");
  strcat(sql, ")");
  sqlite3_stmt *ins;
  if (sqlite3_prepare_v2(db, sql, -1, &ins, NULL) != SQLITE_OK) return MS_ERR_INTERNAL;
  ms_column_builder *b[NCOLS];
  for (int c = 0; c < NCOLS; c++) {
    int t = k_cols[c].type;
    g_fields[c].name = (char *)k_cols[c].name;
    g_fields[c].type = t == TT ? ms_type_timestamp(MS_UNIT_SECOND, "")
                       : ms_type(t == TI ? MS_TYPE_INT64 : t == TF ? MS_TYPE_FLOAT64
                                 : t == TB ? MS_TYPE_BOOL : MS_TYPE_UTF8);
    g_fields[c].nullable = true;
    ms_column_builder_create(&g_fields[c].type, NROWS, &b[c], NULL);
  }
  for (int r = 0; r < NROWS; r++) {
    sqlite3_reset(ins);
    for (int c = 0; c < NCOLS; c++) {
      int t = k_cols[c].type;
      if (rn(6) == 0) {
        ms_builder_append_null(b[c]);
        sqlite3_bind_null(ins, c + 1);
        continue;
      }
      if (t == TI) {
        int64_t v = rn(10) == 0 ? 0 : rn(41) - 20;
        if (rn(50) == 0) v = rn(2) ? 1000000007 : -999999937; /* larger magnitudes */
        ms_builder_append_i64(b[c], v);
        sqlite3_bind_int64(ins, c + 1, v);
      } else if (t == TF) {
        double v = rn(8) == 0 ? (rn(2) ? 0.0 : -0.0) : (double)(rn(161) - 80) / 8;
        if (rn(20) == 0) v = (double)(rnd() % 2000001) / 1000.0 - 1000; /* inexact values */
        ms_builder_append_f64(b[c], v);
        sqlite3_bind_double(ins, c + 1, v);
      } else if (t == TT) {
        /* 1900 .. 2100, some on day and minute boundaries */
        int64_t v = (int64_t)(rnd() % 6311433600ull) - 2208988800LL;
        if (rn(4) == 0) v -= ((v % 86400) + 86400) % 86400;
        ms_builder_append_i64(b[c], v);
        sqlite3_bind_int64(ins, c + 1, v);
      } else if (t == TB) {
        int v = rn(2);
        ms_builder_append_bool(b[c], v);
        sqlite3_bind_int(ins, c + 1, v);
      } else {
        const char *v = k_strings[rn(NSTR)];
        ms_builder_append_bytes(b[c], v, (int64_t)strlen(v));
        sqlite3_bind_text(ins, c + 1, v, -1, SQLITE_STATIC);
      }
    }
    if (sqlite3_step(ins) != SQLITE_DONE) return MS_ERR_INTERNAL;
  }
  sqlite3_finalize(ins);
  for (int c = 0; c < NCOLS; c++) {
    ms_builder_finish(b[c], &g_cols[c], NULL);
    ms_column_builder_destroy(b[c]);
  }
  return MS_OK;
}

/* Compares row r of our column with SQLite's value; writes a description on mismatch. */
static bool same(const ms_column *c, int64_t r, sqlite3_stmt *st, char *why, size_t n) {
  int styp = sqlite3_column_type(st, 0);
  bool onull = ms_column_is_null(c, r);
  if (onull || styp == SQLITE_NULL) {
    if (onull && styp == SQLITE_NULL) return true;
    if (styp == SQLITE_NULL && ms_column_type(c)->id == MS_TYPE_FLOAT64 &&
        isnan(ms_column_get_f64(c, r)))
      return true; /* SQLite has no NaN: 0 * inf is NULL there */
    snprintf(why, n, "ours %s, sqlite %s", onull ? "null" : "not null",
             styp == SQLITE_NULL ? "null" : (const char *)sqlite3_column_text(st, 0));
    return false;
  }
  switch (ms_column_type(c)->id) {
    case MS_TYPE_INT64: {
      int64_t o = ms_column_get_i64(c, r), s = sqlite3_column_int64(st, 0);
      if (styp == SQLITE_INTEGER && o == s) return true;
      snprintf(why, n, "ours %lld, sqlite %s", (long long)o, sqlite3_column_text(st, 0));
      return false;
    }
    case MS_TYPE_BOOL: {
      int o = ms_column_get_bool(c, r), s = (int)sqlite3_column_int64(st, 0);
      if (styp == SQLITE_INTEGER && o == (s != 0)) return true;
      snprintf(why, n, "ours %d, sqlite %s", o, sqlite3_column_text(st, 0));
      return false;
    }
    case MS_TYPE_TIMESTAMP: {
      int64_t o = ms_column_get_i64(c, r), s = sqlite3_column_int64(st, 0);
      if (styp == SQLITE_INTEGER && o == s * 1000000000) return true;
      snprintf(why, n, "ours %lld ns, sqlite %s s", (long long)o, sqlite3_column_text(st, 0));
      return false;
    }
    case MS_TYPE_FLOAT64: {
      double o = ms_column_get_f64(c, r), s = sqlite3_column_double(st, 0);
      if (o == s) return true; /* also infinities */
      double tol = 1e-9 * fmax(1.0, fmax(fabs(o), fabs(s)));
      if ((styp == SQLITE_FLOAT || styp == SQLITE_INTEGER) && fabs(o - s) <= tol) return true;
      snprintf(why, n, "ours %.17g, sqlite %.17g", o, s);
      return false;
    }
    default: {
      int64_t len;
      const uint8_t *p = ms_column_get_bytes(c, r, &len);
      const unsigned char *s = sqlite3_column_text(st, 0);
      int sl = sqlite3_column_bytes(st, 0);
      if (styp == SQLITE_TEXT && sl == len && memcmp(p, s, (size_t)len) == 0) return true;
      snprintf(why, n, "ours '%.*s', sqlite '%s'", (int)len, (const char *)p, (const char *)s);
      return false;
    }
  }
}

static void test_differential(void) {
  const char *env = getenv("MORSEL_EXPR_SEED");
  uint64_t seed = env && *env ? strtoull(env, NULL, 10) : 20261124;
  const char *cnt = getenv("MORSEL_EXPR_COUNT");
  int count = cnt && *cnt ? atoi(cnt) : 4000;
  g_rng = seed;
  sqlite3 *db;
  CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
  CHECK(build_data(db) == MS_OK);
  int done = 0, skipped = 0, failures = 0;
  int per_type[5] = {0};
  for (int k = 0; k < count && failures < 5; k++) {
    int type = rn(5);
    pair p = gen(type, 1 + rn(5));
    ms_expr *e;
    ms_error err;
    ms_error_init(&err);
    if (ms_expr_compile(p.ours, g_fields, NCOLS, &e, &err) != MS_OK) {
      fprintf(stderr, "seed %llu: compile failed: %s\n  ours: %s\n", (unsigned long long)seed,
              err.message, p.ours);
      failures++;
      pfree(&p);
      continue;
    }
    ms_column *out = NULL;
    ms_status st = ms_expr_eval(e, g_cols, NROWS, &out, &err);
    if (st != MS_OK) {
      if (strstr(err.message, "integer overflow") || strstr(err.message, "to int64 (out of range)")) {
        skipped++;
      } else {
        fprintf(stderr, "seed %llu: eval failed: %s\n  ours: %s\n", (unsigned long long)seed,
                err.message, p.ours);
        failures++;
      }
      ms_expr_free(e);
      pfree(&p);
      continue;
    }
    sbuf q = {0};
    sb_add(&q, "SELECT %s FROM t ORDER BY rowid", p.sql);
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, q.p, -1, &stmt, NULL) != SQLITE_OK) {
      fprintf(stderr, "seed %llu: sqlite prepare failed: %s\n  sql: %s\n", (unsigned long long)seed,
              sqlite3_errmsg(db), q.p);
      failures++;
    } else {
      int64_t r = 0;
      bool bad = false;
      while (!bad && sqlite3_step(stmt) == SQLITE_ROW) {
        char why[512];
        if (!same(out, r, stmt, why, sizeof why)) {
          fprintf(stderr, "seed %llu: row %lld differs: %s\n  ours: %s\n  sql:  %s\n",
                  (unsigned long long)seed, (long long)r, why, p.ours, p.sql);
          bad = true;
        }
        r++;
      }
      if (!bad && r != NROWS) {
        fprintf(stderr, "seed %llu: sqlite returned %lld rows\n", (unsigned long long)seed, (long long)r);
        bad = true;
      }
      if (bad) failures++;
      else {
        done++;
        per_type[type]++;
      }
      sqlite3_finalize(stmt);
    }
    free(q.p);
    ms_column_release(out);
    ms_expr_free(e);
    pfree(&p);
  }
  printf("seed %llu: %d expressions agree (int %d, float %d, bool %d, string %d, timestamp %d), "
         "%d skipped for int64 overflow or out-of-range casts, %d failures\n", (unsigned long long)seed, done,
         per_type[TI], per_type[TF], per_type[TB], per_type[TS], per_type[TT], skipped, failures);
  for (int c = 0; c < NCOLS; c++) ms_column_release(g_cols[c]);
  sqlite3_close(db);
  CHECK_MSG(failures == 0, "seed %llu: %d differences (rerun with MORSEL_EXPR_SEED=%llu)",
            (unsigned long long)seed, failures, (unsigned long long)seed);
  CHECK(done > count * 9 / 10);
}

MS_TEST_MAIN(MS_TEST(test_differential))
