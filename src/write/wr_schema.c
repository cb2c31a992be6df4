/* Conforming a writer's input to the schema it must have (include/morsel/write.h, "Batch
 * schema"; src/write/write_int.h).
 *
 * Rules. Columns are matched by name, in any order. A want column absent from the input is
 * missing (unless listed as optional: it then comes back all null), an input column that is
 * not wanted (or a second column of a wanted name) is extra, a column whose type cannot be
 * converted is mistyped; all three are reported at once, each list sorted by name, and
 * nothing else is checked. Compatible types: the same type; integers of any width into an
 * integer column (every value range-checked) or a float column; float32 into float64; any
 * timestamp unit and time zone into a timestamp column (values are UTC instants either way,
 * naive = UTC; a value is converted exactly: a finer unit's remainder or an overflow of the
 * target unit is refused); utf8 and large_utf8 into either; binary and large_binary into
 * either; the null type (an all-null column) into anything. Row checks then find, per column,
 * its first bad value (a null in a not-null column, an integer out of range, a timestamp
 * that does not fit); the error reported is the lowest such row, ties going to the column
 * first in want order, so the choice never depends on how the work is split.
 *
 * Method. A column whose type is already the wanted one is shared, not copied; a timestamp
 * that only changes its time zone gets a new type over the same buffers; everything else is
 * rebuilt value by value with a builder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columnar/column.h"
#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/parquet.h"
#include "write/write_int.h"

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

static bool is_str(const ms_datatype *t) { return t->id == MS_TYPE_UTF8 || t->id == MS_TYPE_LARGE_UTF8; }
static bool is_bin(const ms_datatype *t) { return t->id == MS_TYPE_BINARY || t->id == MS_TYPE_LARGE_BINARY; }

/* Whether a column of type `got` can be conformed to `want` (values may still fail). */
static bool compatible(const ms_datatype *got, const ms_datatype *want) {
  if (ms_type_equal(got, want)) return true;
  if (got->id == MS_TYPE_NULL) return true;
  if (ms_type_is_integer(want)) return ms_type_is_integer(got);
  if (want->id == MS_TYPE_FLOAT32) return ms_type_is_integer(got);
  if (want->id == MS_TYPE_FLOAT64) return ms_type_is_integer(got) || got->id == MS_TYPE_FLOAT32;
  if (want->id == MS_TYPE_TIMESTAMP) return got->id == MS_TYPE_TIMESTAMP;
  if (is_str(want)) return is_str(got);
  if (is_bin(want)) return is_bin(got);
  return false;
}

/* Range of an integer type as signed bounds plus an unsigned upper bound. */
static void int_range(ms_type_id id, int64_t *lo, uint64_t *hi) {
  switch (id) {
    case MS_TYPE_INT8: *lo = INT8_MIN; *hi = INT8_MAX; return;
    case MS_TYPE_INT16: *lo = INT16_MIN; *hi = INT16_MAX; return;
    case MS_TYPE_INT32: *lo = INT32_MIN; *hi = INT32_MAX; return;
    case MS_TYPE_INT64: *lo = INT64_MIN; *hi = INT64_MAX; return;
    case MS_TYPE_UINT8: *lo = 0; *hi = UINT8_MAX; return;
    case MS_TYPE_UINT16: *lo = 0; *hi = UINT16_MAX; return;
    case MS_TYPE_UINT32: *lo = 0; *hi = UINT32_MAX; return;
    default: *lo = 0; *hi = UINT64_MAX; return;
  }
}

/* One column's first bad row (-1 = none) and why. */
typedef struct col_fault {
  int64_t row;
  char what[256];
} col_fault;

static const char *type_str(const ms_datatype *t, char *buf, size_t n) {
  return ms_type_to_string(t, buf, n);
}

/* Converts `in` to `want`. A value that cannot be converted sets *fault (and stops). */
static ms_status convert(const ms_column *in, const ms_datatype *want, ms_column **out,
                         col_fault *fault, ms_error *err) {
  const ms_datatype *got = ms_column_type(in);
  int64_t n = ms_column_length(in);
  *out = NULL;
  if (ms_type_equal(got, want)) {
    *out = ms_column_retain((ms_column *)in);
    return MS_OK;
  }
  if (got->id == MS_TYPE_NULL) return ms_column_create_nulls(want, n, out, err);
  if (want->id == MS_TYPE_TIMESTAMP && got->unit == want->unit) {
    /* Only the time zone differs: the stored instants are the same. */
    return ms_column_from_buffers(want, n, in->null_count,
                                  in->validity ? ms_buffer_retain(in->validity) : NULL,
                                  ms_buffer_retain(in->values), NULL, out, err);
  }
  ms_column_builder *b = NULL;
  ms_status st = ms_column_builder_create(want, n, &b, err);
  if (st != MS_OK) return st;
  char tw[64];
  int64_t lo = 0;
  uint64_t hi = 0;
  if (ms_type_is_integer(want)) int_range(want->id, &lo, &hi);
  int64_t fin = 1, fout = 1; /* units per second */
  if (want->id == MS_TYPE_TIMESTAMP) {
    fin = ms_time_unit_per_second(got->unit);
    fout = ms_time_unit_per_second(want->unit);
  }
  bool got_unsigned = ms_type_is_integer(got) && !ms_type_is_signed_integer(got);
  for (int64_t i = 0; i < n && st == MS_OK; i++) {
    if (!ms_column_valid(in, i)) {
      st = ms_builder_append_null(b);
      continue;
    }
    if (ms_type_is_integer(want)) {
      if (got_unsigned) {
        uint64_t v = ms_column_get_u64(in, i);
        if (v > hi) {
          fault->row = i;
          snprintf(fault->what, sizeof fault->what, "value %llu out of range for %s",
                   (unsigned long long)v, type_str(want, tw, sizeof tw));
          break;
        }
        st = ms_builder_append_u64(b, v);
      } else {
        int64_t v = ms_column_get_i64(in, i);
        if (v < lo || (v > 0 && (uint64_t)v > hi)) {
          fault->row = i;
          snprintf(fault->what, sizeof fault->what, "value %lld out of range for %s",
                   (long long)v, type_str(want, tw, sizeof tw));
          break;
        }
        st = want->id == MS_TYPE_UINT64 ? ms_builder_append_u64(b, (uint64_t)v)
                                        : ms_builder_append_i64(b, v);
      }
    } else if (ms_type_is_float(want)) {
      double v = got_unsigned ? (double)ms_column_get_u64(in, i) : ms_column_get_f64(in, i);
      st = ms_builder_append_f64(b, v);
    } else if (want->id == MS_TYPE_TIMESTAMP) {
      int64_t v = ms_column_get_i64(in, i), r;
      bool ok;
      if (fout >= fin) {
        ok = !__builtin_mul_overflow(v, fout / fin, &r);
      } else {
        int64_t d = fin / fout;
        ok = v % d == 0;
        r = v / d;
      }
      if (!ok) {
        fault->row = i;
        char tg[64];
        snprintf(fault->what, sizeof fault->what, "%s value %lld does not fit %s exactly",
                 type_str(got, tg, sizeof tg), (long long)v, type_str(want, tw, sizeof tw));
        break;
      }
      st = ms_builder_append_i64(b, r);
    } else { /* strings and binaries between their 32- and 64-bit offset forms */
      int64_t len = 0;
      const uint8_t *p = ms_column_get_bytes(in, i, &len);
      st = ms_builder_append_bytes(b, p, len);
    }
  }
  if (st == MS_OK && fault->row < 0) st = ms_builder_finish(b, out, err);
  else if (st != MS_OK && st != MS_ERR_NOMEM) st = ms_error_set(err, st, "cannot build a column");
  else if (st == MS_ERR_NOMEM) st = oom(err);
  ms_column_builder_destroy(b);
  return st;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "[a, b, c]" of the sorted strings to buf. */
static void append_list(char *buf, size_t size, char **items, int n) {
  qsort(items, (size_t)n, sizeof *items, cmp_str);
  size_t len = strlen(buf);
  snprintf(buf + len, size - len, "[");
  for (int i = 0; i < n; i++) {
    len = strlen(buf);
    snprintf(buf + len, size - len, "%s%s", i ? ", " : "", items[i]);
  }
  len = strlen(buf);
  snprintf(buf + len, size - len, "]");
}

static bool in_list(const char *name, const char *const *list, int n) {
  for (int i = 0; i < n; i++)
    if (list[i] && !strcmp(list[i], name)) return true;
  return false;
}

static void free_strs(char **v, int n) {
  for (int i = 0; i < n; i++) ms_free(v[i]);
  ms_free(v);
}

/* The schema check: fills idx[w] = input column of want column w (-1 = absent optional). */
static ms_status check_schema(const ms_table *in, const ms_field *want, int n_want,
                              const char *what, const char *const *optional, int n_optional,
                              int *idx, ms_error *err) {
  int n_in = ms_table_num_columns(in);
  char **missing = ms_calloc((size_t)n_want + 1, sizeof(char *));
  char **extra = ms_calloc((size_t)n_in + 1, sizeof(char *));
  char **mistyped = ms_calloc((size_t)n_want + 1, sizeof(char *));
  bool *used = ms_calloc((size_t)n_in + 1, sizeof(bool));
  int nm = 0, ne = 0, nt = 0;
  ms_status st = MS_OK;
  if (!missing || !extra || !mistyped || !used) st = oom(err);
  for (int w = 0; st == MS_OK && w < n_want; w++) {
    idx[w] = -1;
    for (int c = 0; c < n_in; c++)
      if (!used[c] && !strcmp(ms_table_field(in, c)->name, want[w].name)) {
        idx[w] = c;
        used[c] = true;
        break;
      }
    if (idx[w] < 0) {
      if (in_list(want[w].name, optional, n_optional)) continue;
      if (!(missing[nm++] = ms_strdup(want[w].name))) st = oom(err);
      continue;
    }
    const ms_datatype *got = &ms_table_field(in, idx[w])->type;
    if (!compatible(got, &want[w].type)) {
      char tg[64], tw[64];
      if (!(mistyped[nt++] = ms_asprintf("%s: got %s, want %s", want[w].name,
                                         type_str(got, tg, sizeof tg),
                                         type_str(&want[w].type, tw, sizeof tw))))
        st = oom(err);
    }
  }
  for (int c = 0; st == MS_OK && c < n_in; c++)
    if (!used[c] && !(extra[ne++] = ms_strdup(ms_table_field(in, c)->name))) st = oom(err);
  if (st == MS_OK && (nm || ne || nt)) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: ", what ? what : "input");
    const char *sep = "";
    if (nm) {
      strncat(msg, "missing columns: ", sizeof msg - strlen(msg) - 1);
      append_list(msg, sizeof msg, missing, nm);
      sep = "; ";
    }
    if (ne) {
      strncat(msg, sep, sizeof msg - strlen(msg) - 1);
      strncat(msg, "extra columns: ", sizeof msg - strlen(msg) - 1);
      append_list(msg, sizeof msg, extra, ne);
      sep = "; ";
    }
    if (nt) {
      strncat(msg, sep, sizeof msg - strlen(msg) - 1);
      strncat(msg, "mistyped columns: ", sizeof msg - strlen(msg) - 1);
      append_list(msg, sizeof msg, mistyped, nt);
    }
    /* A missing or extra column is a malformed request; only types wrong is a type error. */
    st = ms_error_set(err, nm || ne ? MS_ERR_INVALID : MS_ERR_TYPE, "%s", msg);
  }
  free_strs(missing, nm);
  free_strs(extra, ne);
  free_strs(mistyped, nt);
  ms_free(used);
  return st;
}

static const char *null_what(const ms_datatype *t) {
  if (t->id == MS_TYPE_TIMESTAMP) return "null timestamp";
  if (t->id == MS_TYPE_DATE32) return "null date";
  return "null value";
}

ms_status wr_conform(const ms_table *in, const ms_field *want, int n_want, const char *what,
                     const char *input_name, const char *const *not_null, int n_not_null,
                     const char *const *optional, int n_optional, ms_table **out,
                     ms_error *err) {
  *out = NULL;
  if (!input_name) input_name = "batch";
  int *idx = ms_calloc((size_t)n_want + 1, sizeof(int));
  ms_column **cols = ms_calloc((size_t)n_want + 1, sizeof(ms_column *));
  col_fault *faults = ms_calloc((size_t)n_want + 1, sizeof(col_fault));
  ms_status st = idx && cols && faults ? MS_OK : oom(err);
  if (st == MS_OK) st = check_schema(in, want, n_want, what, optional, n_optional, idx, err);
  int64_t n = ms_table_num_rows(in);
  for (int w = 0; st == MS_OK && w < n_want; w++) {
    faults[w].row = -1;
    if (idx[w] < 0) {
      st = ms_column_create_nulls(&want[w].type, n, &cols[w], err);
      continue;
    }
    const ms_column *c = ms_table_column(in, idx[w]);
    /* The first null of a not-null column. */
    if (in_list(want[w].name, not_null, n_not_null) && ms_column_null_count(c) > 0) {
      for (int64_t i = 0; i < n; i++)
        if (ms_column_is_null(c, i)) {
          faults[w].row = i;
          snprintf(faults[w].what, sizeof faults[w].what, "%s", null_what(&want[w].type));
          break;
        }
    }
    col_fault conv = {.row = -1};
    st = convert(c, &want[w].type, &cols[w], &conv, err);
    if (st == MS_OK && conv.row >= 0 && (faults[w].row < 0 || conv.row < faults[w].row))
      faults[w] = conv;
  }
  int bad = -1;
  for (int w = 0; st == MS_OK && w < n_want; w++)
    if (faults[w].row >= 0 && (bad < 0 || faults[w].row < faults[bad].row)) bad = w;
  if (bad >= 0) {
    const char *col = ms_table_field(in, idx[bad])->name;
    ms_error_set_row(err, faults[bad].row + 1);
    ms_error_set_column(err, col);
    st = ms_error_set(err, MS_ERR_INVALID, "%s: row %lld, column '%s': %s", input_name,
                      (long long)(faults[bad].row + 1), col, faults[bad].what);
  }
  if (st == MS_OK) {
    ms_field *fields = ms_calloc((size_t)n_want + 1, sizeof(ms_field));
    if (!fields) st = oom(err);
    for (int w = 0; st == MS_OK && w < n_want; w++) {
      fields[w] = want[w];
      /* A column that may hold nulls is declared nullable, whatever want said. */
      fields[w].nullable = want[w].nullable || ms_column_null_count(cols[w]) > 0;
    }
    if (st == MS_OK) st = ms_table_create(fields, cols, n_want, out, err);
    ms_free(fields);
  }
  for (int w = 0; cols && w < n_want; w++) ms_column_release(cols[w]);
  ms_free(cols);
  ms_free(idx);
  ms_free(faults);
  return st;
}

ms_status wr_read_input(const char *path, const ms_field *want, int n_want, ms_pool *pool,
                        ms_table **out, ms_error *err) {
  *out = NULL;
  ms_file_format fmt = ms_format_from_path(path);
  if (fmt == MS_FORMAT_CSV) {
    ms_csv_read_options o;
    ms_csv_read_options_init(&o);
    const char *dot = strrchr(path, '.');
    if (dot && !strcmp(dot, ".tsv")) o.delimiter = '\t';
    o.schema = want;
    o.n_schema = n_want;
    o.pool = pool;
    return ms_csv_read(NULL, path, &o, out, err);
  }
  if (fmt == MS_FORMAT_PARQUET) {
    ms_pq_file *f = NULL;
    ms_status st = ms_pq_open(NULL, path, &f, err);
    if (st != MS_OK) return st;
    ms_pq_read_options o;
    memset(&o, 0, sizeof o);
    o.pool = pool;
    st = ms_pq_read(f, &o, out, NULL, err);
    ms_pq_close(f);
    if (st != MS_OK && err && !err->file[0]) ms_error_set_file(err, path);
    return st;
  }
  ms_error_set_file(err, path);
  return ms_error_set(err, MS_ERR_INVALID,
                      "cannot tell the input format from the extension (expected .parquet, "
                      ".pq, .parq, .csv, .tsv or .txt)");
}
