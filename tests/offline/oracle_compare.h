/* Table comparison for the offline-store oracle (tests/offline/test_offline_oracle.c):
 * every cell rendered as text with its type (so that a difference prints readably), then
 * compared in order, by column name, or as a multiset of rows; in fixed order the columns
 * are also compared with ms_column_equal. Only test code includes this header. */
#ifndef MS_TESTS_OFFLINE_ORACLE_COMPARE_H
#define MS_TESTS_OFFLINE_ORACLE_COMPARE_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "morsel/table.h"
#include "offline/oracle_model.h"

/* A cell as text, its type included (unless ns_only: a timestamp as UTC nanoseconds). */
static void om_cell(const ms_column *col, int64_t r, bool ns_only, char *buf, size_t n) {
  const ms_datatype *t = ms_column_type(col);
  char tn[96];
  size_t w = 0;
  if (!ns_only) w = (size_t)snprintf(buf, n, "%s:", ms_type_to_string(t, tn, sizeof tn));
  if (w >= n) return;
  buf += w;
  n -= w;
  if (ms_column_is_null(col, r)) {
    snprintf(buf, n, "null");
    return;
  }
  if (t->id == MS_TYPE_TIMESTAMP) {
    int64_t v = ms_column_get_i64(col, r);
    if (ns_only) snprintf(buf, n, "%" PRId64, v * om_unit_ns(t->unit));
    else snprintf(buf, n, "%" PRId64, v);
  } else if (ms_type_is_signed_integer(t) || t->id == MS_TYPE_DATE32) {
    snprintf(buf, n, "%" PRId64, ms_column_get_i64(col, r));
  } else if (ms_type_is_integer(t)) {
    snprintf(buf, n, "%" PRIu64, ms_column_get_u64(col, r));
  } else if (ms_type_is_float(t)) {
    snprintf(buf, n, "%a", ms_column_get_f64(col, r));
  } else if (t->id == MS_TYPE_BOOL) {
    snprintf(buf, n, "%s", ms_column_get_bool(col, r) ? "true" : "false");
  } else if (ms_type_is_varlen(t) || t->id == MS_TYPE_FIXED_BINARY) {
    int64_t len;
    const uint8_t *p = ms_column_get_bytes(col, r, &len);
    size_t o = 0;
    if (o + 1 < n) buf[o++] = '"';
    for (int64_t i = 0; i < len && o + 5 < n; i++) {
      if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') buf[o++] = (char)p[i];
      else o += (size_t)snprintf(buf + o, n - o, "\\x%02x", p[i]);
    }
    if (o + 1 < n) buf[o++] = '"';
    buf[o < n ? o : n - 1] = 0;
  } else {
    snprintf(buf, n, "(type %d)", (int)t->id);
  }
}

static char *om_row_text(const ms_table *t, const int *colmap, int nc, int64_t r,
                         const char *ns_col) {
  size_t cap = 256, len = 0;
  char *s = malloc(cap);
  s[0] = 0;
  for (int i = 0; i < nc; i++) {
    char cell[600];
    const ms_column *col = ms_table_column(t, colmap[i]);
    om_cell(col, r, ns_col && !strcmp(ms_table_field(t, colmap[i])->name, ns_col), cell,
            sizeof cell);
    size_t need = strlen(cell) + 3;
    if (len + need >= cap) {
      cap = (cap + need) * 2;
      s = realloc(s, cap);
    }
    len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? " | " : "", cell);
  }
  return s;
}

static int om_strp_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

enum { OM_CMP_EXACT = 0, OM_CMP_BY_NAME = 1, OM_CMP_SORTED = 2 };

/* Compares actual with expected. EXACT: same column order, names, types and cells.
 * BY_NAME: columns matched by name (same set). SORTED: rows compared as a multiset.
 * ns_col: a timestamp column compared by its UTC nanoseconds only (type not checked).
 * Writes what differs into why. */
static bool om_compare(const ms_table *exp, const ms_table *act, int mode, const char *ns_col,
                       char *why, size_t why_n) {
  int ne = ms_table_num_columns(exp), na = ms_table_num_columns(act);
  char tn1[96], tn2[96];
  if (ne != na) {
    size_t w = (size_t)snprintf(why, why_n, "%d columns, expected %d:", na, ne);
    for (int i = 0; i < na && w < why_n; i++)
      w += (size_t)snprintf(why + w, why_n - w, " %s", ms_table_field(act, i)->name);
    if (w < why_n) w += (size_t)snprintf(why + w, why_n - w, " / expected");
    for (int i = 0; i < ne && w < why_n; i++)
      w += (size_t)snprintf(why + w, why_n - w, " %s", ms_table_field(exp, i)->name);
    return false;
  }
  int map[64];
  for (int i = 0; i < ne; i++) {
    const ms_field *fe = ms_table_field(exp, i);
    map[i] = (mode & (OM_CMP_BY_NAME | OM_CMP_SORTED)) ? ms_table_find_column(act, fe->name) : i;
    if (map[i] < 0 || strcmp(ms_table_field(act, map[i])->name, fe->name)) {
      snprintf(why, why_n, "column %d is '%s', expected '%s'", i,
               map[i] < 0 ? "(missing)" : ms_table_field(act, map[i])->name, fe->name);
      return false;
    }
    const ms_field *fa = ms_table_field(act, map[i]);
    if (!(ns_col && !strcmp(fe->name, ns_col)) && !ms_type_equal(&fe->type, &fa->type)) {
      snprintf(why, why_n, "column '%s' has type %s, expected %s", fe->name,
               ms_type_to_string(&fa->type, tn1, sizeof tn1),
               ms_type_to_string(&fe->type, tn2, sizeof tn2));
      return false;
    }
  }
  int64_t nr = ms_table_num_rows(exp);
  if (ms_table_num_rows(act) != nr) {
    snprintf(why, why_n, "%lld rows, expected %lld", (long long)ms_table_num_rows(act),
             (long long)nr);
    return false;
  }
  int ident[64];
  for (int i = 0; i < ne; i++) ident[i] = i;
  char **re = calloc((size_t)nr + 1, sizeof *re), **ra = calloc((size_t)nr + 1, sizeof *ra);
  for (int64_t r = 0; r < nr; r++) {
    re[r] = om_row_text(exp, ident, ne, r, ns_col);
    ra[r] = om_row_text(act, map, ne, r, ns_col);
  }
  if (mode & OM_CMP_SORTED) {
    qsort(re, (size_t)nr, sizeof *re, om_strp_cmp);
    qsort(ra, (size_t)nr, sizeof *ra, om_strp_cmp);
  }
  bool ok = true;
  for (int64_t r = 0; r < nr && ok; r++)
    if (strcmp(re[r], ra[r])) {
      snprintf(why, why_n, "row %lld%s differs:\n    got      %s\n    expected %s",
               (long long)r, (mode & OM_CMP_SORTED) ? " (sorted)" : "", ra[r], re[r]);
      ok = false;
    }
  /* the text form is a faithful rendering except for float NaN payloads; check the
   * columns themselves as well when the order is fixed */
  for (int i = 0; ok && !(mode & OM_CMP_SORTED) && i < ne; i++)
    if (!(ns_col && !strcmp(ms_table_field(exp, i)->name, ns_col)) &&
        !ms_column_equal(ms_table_column(exp, i), ms_table_column(act, map[i]))) {
      snprintf(why, why_n, "column '%s' differs (ms_column_equal)", ms_table_field(exp, i)->name);
      ok = false;
    }
  for (int64_t r = 0; r < nr; r++) {
    free(re[r]);
    free(ra[r]);
  }
  free(re);
  free(ra);
  return ok;
}

#endif
