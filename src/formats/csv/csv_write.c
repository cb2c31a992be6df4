/* The CSV writer (include/morsel/csv.h): a table to RFC 4180 text, atomically.
 *
 * Values are formatted row by row into a 1 MiB buffer that is flushed through the atomic
 * file writer (temporary name, fsync, rename), so readers never see half a file. A field
 * is quoted when it holds the delimiter, a quote, CR or LF (inner quotes doubled), and a
 * string is also quoted when it is empty or equal to a token the reader would take for
 * null ("", NULL, null, NA, N/A or the chosen null_value): quoted fields are never null
 * on reading, so strings and nulls survive a round trip. Floats use the shortest of
 * %.15g/%.16g/%.17g that reads back exactly (inf, -inf, nan for the specials); dates are
 * YYYY-MM-DD, timestamps ISO-8601 with every digit the unit stores and 'Z' when the column
 * has a timezone (values are UTC instants); binary is base64; decimals exact. */
#include <string.h>

#include "columnar/column.h"
#include "formats/csv/csv_internal.h"
#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "morsel/csv.h"

#define OUT_FLUSH ((size_t)1 << 20)

void ms_csv_write_options_init(ms_csv_write_options *o) {
  memset(o, 0, sizeof *o);
  o->delimiter = ',';
  o->header = true;
  o->null_value = "";
}

typedef struct out_buf {
  ms_file_writer *w;
  char *p;
  size_t len, cap;
  ms_status st;
  ms_error *err;
} out_buf;

static bool flush(out_buf *o) {
  if (o->st) return false;
  if (o->len) o->st = ms_writer_write(o->w, o->p, (int64_t)o->len, o->err);
  o->len = 0;
  return o->st == MS_OK;
}

/* Makes room for n more bytes. */
static bool reserve(out_buf *o, size_t n) {
  if (o->st) return false;
  if (o->len + n <= o->cap) return true;
  if (o->len >= OUT_FLUSH && !flush(o)) return false;
  if (o->len + n <= o->cap) return true;
  size_t cap = o->cap ? o->cap : OUT_FLUSH + 4096;
  while (cap < o->len + n) cap *= 2;
  char *np = ms_realloc(o->p, cap);
  if (!np) { o->st = ms_error_set(o->err, MS_ERR_NOMEM, "out of memory"); return false; }
  o->p = np;
  o->cap = cap;
  return true;
}

static void put(out_buf *o, const void *s, size_t n) {
  if (!reserve(o, n)) return;
  memcpy(o->p + o->len, s, n);
  o->len += n;
}

static bool needs_quotes(const uint8_t *s, size_t n, char delim) {
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c == (uint8_t)delim || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}

static void put_field(out_buf *o, const uint8_t *s, size_t n, char delim, bool force_quotes) {
  if (!force_quotes && !needs_quotes(s, n, delim)) { put(o, s, n); return; }
  if (!reserve(o, 2 * n + 2)) return;
  char *d = o->p + o->len;
  *d++ = '"';
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"') *d++ = '"';
    *d++ = (char)s[i];
  }
  *d++ = '"';
  o->len = (size_t)(d - o->p);
}

static const char *const reader_nulls[] = {"", "NULL", "null", "NA", "N/A"};

static bool looks_null(const uint8_t *s, size_t n, const char *null_value) {
  for (size_t i = 0; i < sizeof reader_nulls / sizeof *reader_nulls; i++)
    if (strlen(reader_nulls[i]) == n && memcmp(reader_nulls[i], s, n) == 0) return true;
  return strlen(null_value) == n && memcmp(null_value, s, n) == 0;
}

static void put_value(out_buf *o, const ms_column *col, int64_t row, const ms_csv_write_options *opt) {
  const ms_datatype *t = &col->type;
  char buf[MS_CSV_NUM_BUF > MS_TIMESTAMP_BUF_SIZE ? MS_CSV_NUM_BUF : MS_TIMESTAMP_BUF_SIZE];
  int n;
  switch (t->id) {
    case MS_TYPE_BOOL:
      if (ms_column_get_bool(col, row)) put(o, "true", 4); else put(o, "false", 5);
      return;
    case MS_TYPE_INT8: case MS_TYPE_INT16: case MS_TYPE_INT32: case MS_TYPE_INT64:
    case MS_TYPE_UINT8: case MS_TYPE_UINT16: case MS_TYPE_UINT32:
      n = ms_csv_format_i64(ms_column_get_i64(col, row), buf);
      break;
    case MS_TYPE_UINT64:
      n = ms_csv_format_u64(ms_column_get_u64(col, row), buf);
      break;
    case MS_TYPE_FLOAT32:
      n = ms_csv_format_f32((float)ms_column_get_f64(col, row), buf);
      break;
    case MS_TYPE_FLOAT64:
      n = ms_csv_format_f64(ms_column_get_f64(col, row), buf);
      break;
    case MS_TYPE_DATE32:
      n = ms_format_date32((int32_t)ms_column_get_i64(col, row), buf);
      break;
    case MS_TYPE_TIMESTAMP:
      n = ms_format_timestamp(ms_column_get_i64(col, row), t->unit, t->tz[0] != '\0', buf);
      break;
    case MS_TYPE_DECIMAL128: {
      int64_t len;
      const uint8_t *v = ms_column_get_bytes(col, row, &len);
      n = ms_csv_format_decimal128(v, t->scale, buf);
      break;
    }
    case MS_TYPE_UTF8: case MS_TYPE_LARGE_UTF8: {
      int64_t len;
      const uint8_t *v = ms_column_get_bytes(col, row, &len);
      put_field(o, v, (size_t)len, opt->delimiter, looks_null(v, (size_t)len, opt->null_value));
      return;
    }
    case MS_TYPE_BINARY: case MS_TYPE_LARGE_BINARY: case MS_TYPE_FIXED_BINARY: {
      int64_t len;
      const uint8_t *v = ms_column_get_bytes(col, row, &len);
      size_t need = ((size_t)len + 2) / 3 * 4;
      if (need == 0) { put(o, "\"\"", 2); return; } /* empty, not null */
      if (!reserve(o, need)) return;
      o->len += ms_csv_base64_encode(v, (size_t)len, o->p + o->len);
      return;
    }
    default:
      put(o, opt->null_value, strlen(opt->null_value));
      return;
  }
  put(o, buf, (size_t)n);
}

ms_status ms_csv_write(ms_fs *fs, const char *path, const ms_table *table,
                       const ms_csv_write_options *opts, ms_error *err) {
  ms_csv_write_options defaults;
  if (!opts) { ms_csv_write_options_init(&defaults); opts = &defaults; }
  char d = opts->delimiter;
  if (d == '"' || d == '\n' || d == '\r' || d == '\0')
    return ms_error_set(err, MS_ERR_INVALID, "invalid CSV delimiter (code %d)", (int)(unsigned char)d);
  ms_csv_write_options o2 = *opts;
  if (!o2.null_value) o2.null_value = "";
  out_buf o = {NULL, NULL, 0, 0, MS_OK, err};
  ms_status st = ms_fs_create_writer(fs, path, &o.w, err);
  if (st) return st;
  int nc = ms_table_num_columns(table);
  int64_t nr = ms_table_num_rows(table);
  size_t null_len = strlen(o2.null_value);
  if (o2.header && nc > 0) {
    for (int c = 0; c < nc; c++) {
      if (c) put(&o, &d, 1);
      const char *name = ms_table_field(table, c)->name;
      put_field(&o, (const uint8_t *)name, strlen(name), d, false);
    }
    put(&o, "\n", 1);
  }
  for (int64_t r = 0; r < nr && !o.st; r++) {
    for (int c = 0; c < nc; c++) {
      if (c) put(&o, &d, 1);
      const ms_column *col = ms_table_column(table, c);
      if (ms_column_is_null(col, r)) put(&o, o2.null_value, null_len);
      else put_value(&o, col, r, &o2);
    }
    put(&o, "\n", 1);
  }
  flush(&o);
  ms_free(o.p);
  if (o.st) {
    ms_writer_abort(o.w);
    ms_error_set_file(err, path);
    return o.st;
  }
  return ms_writer_commit(o.w, err);
}
