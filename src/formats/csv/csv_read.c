/* The CSV reader (include/morsel/csv.h): RFC 4180 text to typed columns, in parallel.
 *
 * Rules. A record ends at LF or CRLF outside quotes; a CR not followed by LF is data. A
 * field is either unquoted (it may not contain a quote character) or fully quoted, with
 * "" standing for one quote and any bytes, newlines included, inside; after the closing
 * quote comes a delimiter, a line end or the end of the input. Being strict about stray
 * quotes is what makes parallel parsing exact: in valid input the parity of the quotes
 * before a position says whether it is inside a quoted field. A UTF-8 BOM at the start is
 * skipped. Blank lines are skipped when records have more than one field; with a single
 * field a blank line is a record whose field is empty (null by default), which is what
 * the writer produces for a null. Null tokens match unquoted fields only, so "" in quotes
 * is an empty string, never null. Every record must have the header's field count.
 *
 * Types. Columns without an explicit type are inferred from the first infer_rows records:
 * the first of int64, float64, bool (true/false in three spellings), date32 (YYYY-MM-DD),
 * timestamp[ns] and utf8 that every non-null sampled value parses as. Timestamps with 'Z'
 * or an offset give timestamp[ns, tz=UTC]; without, a naive timestamp[ns]; bare dates in
 * a timestamp column are midnight and fit either. A sampled column mixing values with and
 * without an offset is an error naming the column (we do not guess a string). Rows past
 * the sample are held to the inferred type: a value that does not parse is an error
 * naming file, line and column that suggests an explicit schema; it never becomes null.
 * Explicit types (by column name; names the file lacks are ignored) may be any core type
 * but null; explicit timestamps accept text with
 * or without offset (offsets are converted to UTC, naive text is taken as UTC) but reject
 * fractions finer than the unit; explicit bool also takes 0/1; binary, large_binary and
 * fixed_binary are base64 (as the writer writes them); decimals must fit without rounding.
 *
 * Method. The input is mapped (or read once). The body is cut into chunks of chunk_bytes;
 * pass 1 counts quotes per chunk, a prefix sum gives each chunk's starting quote parity,
 * pass 2 moves each cut forward to just after the first newline at even parity. Chunks
 * are parsed in parallel straight into per-chunk typed arrays (no allocation per field;
 * quoted fields with doubled quotes are unescaped into per-worker scratch), and columns
 * are then assembled in parallel, one task per column. The chunk layout never changes
 * the values or which error is reported: tasks report the lowest failing chunk, and the
 * chunk holding the first bad byte parses it exactly as a serial parse would. */
#include <stdio.h>
#include <string.h>

#include "columnar/column.h"
#include "formats/csv/csv_internal.h"
#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "morsel/csv.h"

#define CSV_DEFAULT_CHUNK ((int64_t)16 << 20)
#define CSV_MAX_CHUNK ((int64_t)1 << 30)

static const char *const default_nulls[] = {"", "NULL", "null", "NA", "N/A"};

void ms_csv_read_options_init(ms_csv_read_options *o) {
  memset(o, 0, sizeof *o);
  o->delimiter = ',';
  o->header = true;
  o->infer_rows = 10000;
  o->chunk_bytes = CSV_DEFAULT_CHUNK;
}

typedef enum csv_kind {
  K_BOOL, K_I8, K_I16, K_I32, K_I64, K_U8, K_U16, K_U32, K_U64, K_F32, K_F64,
  K_DATE, K_TS, K_DEC, K_STR, K_BIN, K_FBIN
} csv_kind;

typedef struct csv_col {
  const char *name;
  int field;        /* index of the field in a record */
  csv_kind kind;
  ms_datatype type;
  int elem;         /* bytes per row in the chunk arrays (uint32 end offsets for K_STR/K_BIN) */
  bool inferred;
  bool ts_aware;    /* timestamp with a tz */
} csv_col;

typedef struct csv_plan {
  const uint8_t *data;
  int64_t len;
  const char *name;
  uint8_t delim;
  uint64_t delim_pattern; /* the delimiter in every byte */
  uint8_t special[256]; /* bytes that stop an unquoted field */
  const char *const *nulls;
  int n_nulls;
  size_t null_len[64];
  size_t max_null_len;
  int n_fields;
  char **names;
  int n_out;
  csv_col *cols;
  int *field_out;       /* n_fields entries: output column or -1 */
  int64_t body;         /* offset of the first data record */
  int64_t sample_rows;  /* records the inference looked at */
  int64_t sample_bytes;
} csv_plan;

typedef struct csv_scratch {
  uint8_t *p;
  size_t cap;
} csv_scratch;

/* SWAR helpers: a word whose byte i has its top bit set where byte i of w equals b (exact
 * for the lowest match, which is all the callers use). */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static inline uint64_t byte_eq(uint64_t w, uint64_t pattern) {
  uint64_t x = w ^ pattern;
  return (x - ONES) & ~x & HIGHS;
}
/* Exact per-byte flags (no borrow between bytes), for counting. */
static inline uint64_t byte_eq_exact(uint64_t w, uint64_t pattern) {
  uint64_t x = w ^ pattern;
  return ~(((x & ~HIGHS) + ~HIGHS) | x) & HIGHS;
}

enum { F_MORE = 0, F_END = 1, E_UNTERMINATED = -1, E_AFTER_QUOTE = -2, E_STRAY_QUOTE = -3, E_NOMEM = -4 };

typedef struct csv_field {
  const uint8_t *p;
  size_t n;
  bool quoted;
} csv_field;

/* Reads one field at *pp. Returns F_MORE after a delimiter, F_END at a line end or the end
 * of input, or an error code with *err_at set to the offending byte. */
static inline int next_field(const csv_plan *pl, csv_scratch *sc, const uint8_t **pp,
                             const uint8_t *end, csv_field *f, const uint8_t **err_at) {
  const uint8_t *p = *pp;
  if (p < end && *p == '"') {
    const uint8_t *content = p + 1, *q = content, *close;
    bool escaped = false;
    for (;;) {
      close = memchr(q, '"', (size_t)(end - q));
      if (!close) { *err_at = p; return E_UNTERMINATED; }
      if (close + 1 < end && close[1] == '"') { escaped = true; q = close + 2; continue; }
      break;
    }
    f->quoted = true;
    if (!escaped) {
      f->p = content;
      f->n = (size_t)(close - content);
    } else {
      size_t need = (size_t)(close - content);
      if (need > sc->cap) {
        size_t cap = sc->cap ? sc->cap : 256;
        while (cap < need) cap *= 2;
        uint8_t *np = ms_realloc(sc->p, cap);
        if (!np) return E_NOMEM;
        sc->p = np;
        sc->cap = cap;
      }
      size_t n = 0;
      for (const uint8_t *s = content; s < close; s++) {
        sc->p[n++] = *s;
        if (*s == '"') s++; /* the second quote of a pair */
      }
      f->p = sc->p;
      f->n = n;
    }
    q = close + 1;
    if (q == end) { *pp = q; return F_END; }
    if (*q == pl->delim) { *pp = q + 1; return F_MORE; }
    if (*q == '\n') { *pp = q + 1; return F_END; }
    if (*q == '\r' && (q + 1 == end || q[1] == '\n')) { *pp = q + 1 == end ? end : q + 2; return F_END; }
    *err_at = q;
    return E_AFTER_QUOTE;
  }
  const uint8_t *s = p;
  f->quoted = false;
  for (;;) {
    /* Eight bytes at a time while no delimiter, quote, CR or LF is in sight. */
    while (p + 8 <= end) {
      uint64_t w;
      memcpy(&w, p, 8);
      uint64_t m = byte_eq(w, pl->delim_pattern) | byte_eq(w, ONES * '\n') |
                   byte_eq(w, ONES * '\r') | byte_eq(w, ONES * '"');
      if (m) { p += __builtin_ctzll(m) >> 3; break; }
      p += 8;
    }
    while (p < end && !pl->special[*p]) p++;
    if (p == end) { f->p = s; f->n = (size_t)(p - s); *pp = p; return F_END; }
    uint8_t c = *p;
    if (c == pl->delim) { f->p = s; f->n = (size_t)(p - s); *pp = p + 1; return F_MORE; }
    if (c == '\n') { f->p = s; f->n = (size_t)(p - s); *pp = p + 1; return F_END; }
    if (c == '\r') {
      if (p + 1 == end || p[1] == '\n') {
        f->p = s; f->n = (size_t)(p - s); *pp = p + 1 == end ? end : p + 2;
        return F_END;
      }
      p++;
      continue;
    }
    *err_at = p; /* a quote inside an unquoted field */
    return E_STRAY_QUOTE;
  }
}

static int64_t line_of(const csv_plan *pl, int64_t off) {
  int64_t line = 1;
  const uint8_t *p = pl->data, *e = pl->data + off;
  while (p < e && (p = memchr(p, '\n', (size_t)(e - p)))) { line++; p++; }
  return line;
}

static ms_status structural_error(const csv_plan *pl, int code, const uint8_t *at,
                                  ms_error *err) {
  if (code == E_NOMEM) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  int64_t off = at - pl->data, line = line_of(pl, off);
  ms_error_set_file(err, pl->name);
  ms_error_set_row(err, line);
  ms_error_set_byte_offset(err, off);
  if (code == E_UNTERMINATED)
    return ms_error_set(err, MS_ERR_PARSE, "line %lld: unterminated quoted field (opened at byte offset %lld)",
                        (long long)line, (long long)off);
  if (code == E_AFTER_QUOTE)
    return ms_error_set(err, MS_ERR_PARSE, "line %lld: unexpected character '%c' after a closing quote",
                        (long long)line, (char)(*at >= 32 && *at < 127 ? *at : '?'));
  return ms_error_set(err, MS_ERR_PARSE,
                      "line %lld: quote character inside an unquoted field (quote the whole field and double inner quotes)",
                      (long long)line);
}

static ms_status count_error(const csv_plan *pl, const uint8_t *rec, int found, ms_error *err) {
  int64_t off = rec - pl->data, line = line_of(pl, off);
  ms_error_set_file(err, pl->name);
  ms_error_set_row(err, line);
  ms_error_set_byte_offset(err, off);
  return ms_error_set(err, MS_ERR_PARSE, "line %lld: expected %d fields, found %d", (long long)line,
                      pl->n_fields, found);
}

static inline bool is_null(const csv_plan *pl, const uint8_t *s, size_t n) {
  if (n > pl->max_null_len) return false;
  for (int i = 0; i < pl->n_nulls; i++)
    if (pl->null_len[i] == n && memcmp(pl->nulls[i], s, n) == 0) return true;
  return false;
}

/* Skips a blank line at p when records have several fields; returns the new position. */
static inline const uint8_t *skip_blank(const csv_plan *pl, const uint8_t *p, const uint8_t *end) {
  if (pl->n_fields <= 1) return p;
  for (;;) {
    if (p < end && *p == '\n') p++;
    else if (p + 1 < end && p[0] == '\r' && p[1] == '\n') p += 2;
    else if (p + 1 == end && *p == '\r') p++;
    else return p;
  }
}

/* ---------------- header, projection, schema ---------------- */

static void plan_reset(csv_plan *pl) {
  for (int i = 0; i < pl->n_fields; i++) ms_free(pl->names[i]);
  ms_free(pl->names);
  ms_free(pl->cols);
  ms_free(pl->field_out);
  memset(pl, 0, sizeof *pl);
}

static ms_status read_header(csv_plan *pl, bool header, ms_error *err) {
  const uint8_t *p = pl->data, *end = pl->data + pl->len;
  if (pl->len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) p += 3;
  pl->body = p - pl->data;
  if (p == end) return MS_OK; /* empty input: no columns */
  csv_scratch sc = {NULL, 0};
  int cap = 16, n = 0;
  char **names = ms_malloc(sizeof *names * (size_t)cap);
  if (!names) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  ms_status st = MS_OK;
  for (;;) {
    csv_field f;
    const uint8_t *at = NULL;
    int r = next_field(pl, &sc, &p, end, &f, &at);
    if (r < 0) { st = structural_error(pl, r, at, err); break; }
    if (n == cap) {
      char **nn = ms_realloc(names, sizeof *names * (size_t)cap * 2);
      if (!nn) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); break; }
      names = nn;
      cap *= 2;
    }
    names[n] = header ? ms_strndup((const char *)f.p, f.n) : ms_asprintf("f%d", n);
    if (!names[n]) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); break; }
    n++;
    if (r == F_END) break;
  }
  ms_free(sc.p);
  pl->names = names;
  pl->n_fields = n;
  if (st) return st;
  if (header) pl->body = p - pl->data;
  return MS_OK;
}

static bool kind_of(const ms_datatype *t, csv_kind *k, int *elem) {
  switch (t->id) {
    case MS_TYPE_BOOL: *k = K_BOOL; *elem = 1; return true;
    case MS_TYPE_INT8: *k = K_I8; *elem = 1; return true;
    case MS_TYPE_INT16: *k = K_I16; *elem = 2; return true;
    case MS_TYPE_INT32: *k = K_I32; *elem = 4; return true;
    case MS_TYPE_INT64: *k = K_I64; *elem = 8; return true;
    case MS_TYPE_UINT8: *k = K_U8; *elem = 1; return true;
    case MS_TYPE_UINT16: *k = K_U16; *elem = 2; return true;
    case MS_TYPE_UINT32: *k = K_U32; *elem = 4; return true;
    case MS_TYPE_UINT64: *k = K_U64; *elem = 8; return true;
    case MS_TYPE_FLOAT32: *k = K_F32; *elem = 4; return true;
    case MS_TYPE_FLOAT64: *k = K_F64; *elem = 8; return true;
    case MS_TYPE_DATE32: *k = K_DATE; *elem = 4; return true;
    case MS_TYPE_TIMESTAMP: *k = K_TS; *elem = 8; return true;
    case MS_TYPE_DECIMAL128: *k = K_DEC; *elem = 16; return t->precision >= 1 && t->precision <= 38;
    case MS_TYPE_UTF8: case MS_TYPE_LARGE_UTF8: *k = K_STR; *elem = 4; return true;
    case MS_TYPE_BINARY: case MS_TYPE_LARGE_BINARY: *k = K_BIN; *elem = 4; return true;
    case MS_TYPE_FIXED_BINARY: *k = K_FBIN; *elem = t->byte_width; return t->byte_width > 0;
    default: return false;
  }
}

static int find_name(const csv_plan *pl, const char *name) {
  for (int i = 0; i < pl->n_fields; i++)
    if (strcmp(pl->names[i], name) == 0) return i;
  return -1;
}

/* Chooses the output columns and applies explicit types. */
static ms_status plan_columns(csv_plan *pl, const ms_csv_read_options *o, ms_error *err) {
  int n_out = o->columns ? o->n_columns : pl->n_fields;
  pl->cols = ms_calloc((size_t)(n_out ? n_out : 1), sizeof *pl->cols);
  pl->field_out = ms_malloc(sizeof(int) * (size_t)(pl->n_fields ? pl->n_fields : 1));
  if (!pl->cols || !pl->field_out) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  for (int i = 0; i < pl->n_fields; i++) pl->field_out[i] = -1;
  ms_error_set_file(err, pl->name);
  for (int c = 0; c < n_out; c++) {
    int f = c;
    if (o->columns) {
      f = find_name(pl, o->columns[c]);
      if (f < 0) return ms_error_set(err, MS_ERR_NOT_FOUND, "no column '%s' in the header", o->columns[c]);
      if (pl->field_out[f] >= 0) return ms_error_set(err, MS_ERR_INVALID, "column '%s' is selected twice", o->columns[c]);
    }
    pl->field_out[f] = c;
    csv_col *col = &pl->cols[c];
    col->name = pl->names[f];
    col->field = f;
    col->inferred = true;
  }
  pl->n_out = n_out;
  for (int s = 0; s < o->n_schema; s++) {
    const ms_field *sf = &o->schema[s];
    /* Entries for columns the file lacks are ignored: a dataset hands its unified schema
     * to every file. */
    int f = sf->name ? find_name(pl, sf->name) : -1;
    int c = f >= 0 ? pl->field_out[f] : -1;
    if (c < 0) continue;
    csv_col *col = &pl->cols[c];
    if (!kind_of(&sf->type, &col->kind, &col->elem)) {
      char tb[96];
      ms_error_set_column(err, sf->name);
      return ms_error_set(err, MS_ERR_UNSUPPORTED, "cannot read CSV column '%s' as %s", sf->name,
                          ms_type_to_string(&sf->type, tb, sizeof tb));
    }
    col->type = sf->type;
    col->inferred = false;
    col->ts_aware = sf->type.id == MS_TYPE_TIMESTAMP && sf->type.tz[0];
  }
  return MS_OK;
}

/* ---------------- inference on the sample ---------------- */

typedef struct infer_state {
  bool any, can_int, can_float, can_bool, can_date, can_ts;
  int64_t first_naive, first_offset; /* byte offsets, -1 = none */
} infer_state;

static void infer_value(infer_state *s, const uint8_t *p, size_t n, int64_t off) {
  const char *t = (const char *)p;
  s->any = true;
  if (s->can_int) { int64_t v; s->can_int = ms_csv_parse_i64(t, n, &v); }
  if (s->can_float) { double v; s->can_float = ms_csv_parse_f64(t, n, &v); }
  if (s->can_bool) s->can_bool = ms_csv_parse_bool(t, n, false) >= 0;
  if (s->can_date) { int32_t v; s->can_date = ms_parse_date(t, n, &v); }
  if (s->can_ts) {
    ms_timestamp_parts tp;
    int64_t ns;
    s->can_ts = ms_parse_timestamp_parts(t, n, true, &tp) && ms_timestamp_from_parts(&tp, MS_UNIT_NANO, true, &ns);
    if (s->can_ts && !tp.date_only) {
      if (tp.has_offset && s->first_offset < 0) s->first_offset = off;
      if (!tp.has_offset && s->first_naive < 0) s->first_naive = off;
    }
  }
}

static ms_status sample_and_infer(csv_plan *pl, int64_t max_rows, ms_error *err) {
  infer_state *st = ms_calloc((size_t)(pl->n_out ? pl->n_out : 1), sizeof *st);
  if (!st) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  for (int c = 0; c < pl->n_out; c++) {
    st[c] = (infer_state){false, true, true, true, true, true, -1, -1};
  }
  csv_scratch sc = {NULL, 0};
  const uint8_t *p = pl->data + pl->body, *end = pl->data + pl->len;
  ms_status status = MS_OK;
  int64_t rows = 0;
  while (p < end && (max_rows <= 0 || rows < max_rows)) {
    p = skip_blank(pl, p, end);
    if (p >= end) break;
    const uint8_t *rec = p;
    int fi = 0;
    for (;;) {
      csv_field f;
      const uint8_t *at = NULL;
      int r = next_field(pl, &sc, &p, end, &f, &at);
      if (r < 0) { status = structural_error(pl, r, at, err); goto done; }
      int c = fi < pl->n_fields ? pl->field_out[fi] : -1;
      if (c >= 0 && pl->cols[c].inferred && (f.quoted || !is_null(pl, f.p, f.n)))
        infer_value(&st[c], f.p, f.n, f.p - pl->data);
      fi++;
      if (r == F_END) break;
    }
    if (fi != pl->n_fields) { status = count_error(pl, rec, fi, err); goto done; }
    rows++;
  }
  pl->sample_rows = rows;
  pl->sample_bytes = (p - pl->data) - pl->body;
  for (int c = 0; c < pl->n_out; c++) {
    csv_col *col = &pl->cols[c];
    if (!col->inferred) continue;
    infer_state *s = &st[c];
    if (!s->any) col->type = ms_type(MS_TYPE_UTF8);
    else if (s->can_int) col->type = ms_type(MS_TYPE_INT64);
    else if (s->can_float) col->type = ms_type(MS_TYPE_FLOAT64);
    else if (s->can_bool) col->type = ms_type(MS_TYPE_BOOL);
    else if (s->can_date) col->type = ms_type(MS_TYPE_DATE32);
    else if (s->can_ts) {
      if (s->first_naive >= 0 && s->first_offset >= 0) {
        ms_error_set_file(err, pl->name);
        ms_error_set_column(err, col->name);
        ms_error_set_row(err, line_of(pl, s->first_naive > s->first_offset ? s->first_naive : s->first_offset));
        status = ms_error_set(err, MS_ERR_TYPE,
                              "column '%s' mixes timestamps with a UTC offset (first at line %lld) and without one "
                              "(first at line %lld); pass an explicit timestamp type for it",
                              col->name, (long long)line_of(pl, s->first_offset),
                              (long long)line_of(pl, s->first_naive));
        goto done;
      }
      col->type = ms_type_timestamp(MS_UNIT_NANO, s->first_offset >= 0 ? "UTC" : "");
      col->ts_aware = s->first_offset >= 0;
    } else {
      col->type = ms_type(MS_TYPE_UTF8);
    }
    kind_of(&col->type, &col->kind, &col->elem);
  }
done:
  ms_free(sc.p);
  ms_free(st);
  return status;
}

static ms_status plan_build(csv_plan *pl, const uint8_t *data, int64_t len, const char *name,
                            const ms_csv_read_options *o, ms_error *err) {
  memset(pl, 0, sizeof *pl);
  pl->data = data;
  pl->len = len;
  pl->name = name ? name : "<buffer>";
  ms_error_set_file(err, pl->name);
  char d = o->delimiter;
  if (d == '"' || d == '\n' || d == '\r' || d == '\0')
    return ms_error_set(err, MS_ERR_INVALID, "invalid CSV delimiter (code %d)", (int)(unsigned char)d);
  pl->delim = (uint8_t)d;
  pl->delim_pattern = ONES * (uint8_t)d;
  pl->special[(uint8_t)d] = pl->special['\n'] = pl->special['\r'] = pl->special['"'] = 1;
  pl->nulls = o->null_values ? o->null_values : default_nulls;
  pl->n_nulls = o->null_values ? o->n_null_values : (int)(sizeof default_nulls / sizeof *default_nulls);
  if (pl->n_nulls < 0 || pl->n_nulls > 64)
    return ms_error_set(err, MS_ERR_INVALID, "between 0 and 64 null tokens are supported");
  for (int i = 0; i < pl->n_nulls; i++) {
    pl->null_len[i] = pl->nulls[i] ? strlen(pl->nulls[i]) : 0;
    if (!pl->nulls[i]) return ms_error_set(err, MS_ERR_INVALID, "null token %d is NULL", i);
    if (pl->null_len[i] > pl->max_null_len) pl->max_null_len = pl->null_len[i];
  }
  if (o->columns && o->n_columns < 0) return ms_error_set(err, MS_ERR_INVALID, "negative column count");
  if (o->n_schema < 0 || (o->n_schema > 0 && !o->schema))
    return ms_error_set(err, MS_ERR_INVALID, "bad schema override");
  ms_status st = read_header(pl, o->header, err);
  if (!st) st = plan_columns(pl, o, err);
  if (st) return st;
  bool any_inferred = false;
  for (int c = 0; c < pl->n_out; c++) any_inferred |= pl->cols[c].inferred;
  /* Without columns to infer the sample only estimates the record size. */
  return sample_and_infer(pl, any_inferred ? o->infer_rows : 100, err);
}

/* ---------------- chunks ---------------- */

typedef struct chunk_col {
  uint8_t *vals;  /* bool bytes or K_STR/K_BIN uint32 end offsets; fixed widths go straight
                   * into the column's final buffer */
  uint8_t *valid; /* one byte per row, NULL until the first null */
  int64_t nulls;
  uint8_t *data;  /* K_STR / K_BIN bytes */
  int64_t dlen, dcap;
} chunk_col;

typedef struct csv_chunk {
  int64_t start, end;
  int64_t bound; /* records counted by the pre-scan: an upper bound (blank lines count) */
  int64_t rows;
  chunk_col *cols;
} csv_chunk;

typedef struct read_ctx {
  csv_plan *pl;
  int64_t n_nominal, chunk_bytes;
  int64_t *quotes;   /* per nominal chunk */
  int64_t *cuts;     /* per nominal chunk: first record start in it, or -1 */
  csv_chunk *chunks;
  int64_t n_chunks;
  csv_scratch *scratch; /* per worker */
  ms_buffer **fixed;    /* per column: the final values buffer of fixed-width kinds */
  ms_column **out;
  int64_t *bound_base;  /* first row of each chunk in the fixed buffers */
  int64_t *row_base;    /* first row of each chunk in the result */
} read_ctx;

static bool direct_kind(csv_kind k) { return k != K_BOOL && k != K_STR && k != K_BIN; }

static void chunk_free(csv_chunk *ck, int n_out) {
  if (!ck->cols) return;
  for (int c = 0; c < n_out; c++) {
    ms_free(ck->cols[c].vals);
    ms_free(ck->cols[c].valid);
    ms_free(ck->cols[c].data);
  }
  ms_free(ck->cols);
  ck->cols = NULL;
}

static ms_status count_quotes_task(void *vctx, int64_t k, int worker, ms_error *err) {
  read_ctx *ctx = vctx;
  const csv_plan *pl = ctx->pl;
  int64_t lo = pl->body + k * ctx->chunk_bytes, hi = lo + ctx->chunk_bytes;
  if (hi > pl->len) hi = pl->len;
  const uint8_t *p = pl->data + lo, *e = pl->data + hi;
  int64_t n = 0;
  while (p < e && (p = memchr(p, '"', (size_t)(e - p)))) { n++; p++; }
  ctx->quotes[k] = n;
  return MS_OK;
}

static ms_status find_cut_task(void *vctx, int64_t k, int worker, ms_error *err) {
  read_ctx *ctx = vctx;
  const csv_plan *pl = ctx->pl;
  ctx->cuts[k] = -1;
  if (k == 0) { ctx->cuts[0] = pl->body; return MS_OK; }
  int64_t lo = pl->body + k * ctx->chunk_bytes, hi = lo + ctx->chunk_bytes;
  if (hi > pl->len) hi = pl->len;
  int parity = (int)(ctx->quotes[k] & 1); /* the prefix parity, see read_body */
  const uint8_t *p = pl->data + lo, *e = pl->data + hi;
  while (p < e) {
    const uint8_t *nl = memchr(p, '\n', (size_t)(e - p));
    const uint8_t *stop = nl ? nl : e;
    for (const uint8_t *q = p; q < stop && (q = memchr(q, '"', (size_t)(stop - q))); q++) parity ^= 1;
    if (!nl) break;
    if (!parity) { ctx->cuts[k] = nl + 1 - pl->data; break; }
    p = nl + 1;
  }
  return MS_OK;
}

static int64_t count_newlines(const uint8_t *p, const uint8_t *e) {
  int64_t n = 0;
  for (; p + 8 <= e; p += 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    /* flags to 0/1 per byte, then a multiply sums the bytes into the top byte */
    n += (int64_t)(((byte_eq_exact(w, ONES * '\n') >> 7) * ONES) >> 56);
  }
  for (; p < e; p++) n += *p == '\n';
  return n;
}

/* Counts the records of a chunk as the parser will see them, except that blank lines
 * count too: every line end outside quotes, plus a last record without one (and one
 * more for an unterminated quote, which the parser reports). The parser never produces
 * more (it checks), so this sizes every array exactly once. */
static ms_status count_records_task(void *vctx, int64_t k, int worker, ms_error *err) {
  read_ctx *ctx = vctx;
  csv_chunk *ck = &ctx->chunks[k];
  const uint8_t *p = ctx->pl->data + ck->start, *e = ctx->pl->data + ck->end;
  if (p >= e) { ck->bound = 0; return MS_OK; }
  int64_t n = e[-1] != '\n';
  while (p < e) {
    const uint8_t *q = memchr(p, '"', (size_t)(e - p));
    n += count_newlines(p, q ? q : e);
    if (!q) break;
    const uint8_t *close = memchr(q + 1, '"', (size_t)(e - q - 1));
    if (!close) { n++; break; }
    p = close + 1;
  }
  ck->bound = n;
  return MS_OK;
}

/* Chunk-relative end offsets are uint32: a chunk is at most 1 GiB unless a record spans
 * several chunks, so this only refuses absurd single records. */
static bool data_fits(const chunk_col *cc, size_t n) {
  return (uint64_t)cc->dlen + n <= UINT32_MAX;
}

static bool data_reserve(chunk_col *cc, size_t n) {
  /* Always allocate once so that data + dlen is never arithmetic on NULL. */
  if (cc->data && (size_t)(cc->dcap - cc->dlen) >= n) return true;
  int64_t cap = cc->dcap ? cc->dcap : 1024;
  while (cap - cc->dlen < (int64_t)n) cap *= 2;
  uint8_t *d = ms_realloc(cc->data, (size_t)cap);
  if (!d) return false;
  cc->data = d;
  cc->dcap = cap;
  return true;
}

enum { S_OK = 0, S_BAD = 1, S_NOMEM = 2, S_UTF8 = 3, S_LIMIT = 4 };

/* Converts one field into row `row` of a chunk column. */
static inline int store(const csv_plan *pl, const csv_col *col, chunk_col *cc, uint8_t *slot,
                        int64_t row, int64_t cap, const csv_field *f) {
  const char *s = (const char *)f->p;
  size_t n = f->n;
  if (!f->quoted && is_null(pl, f->p, n)) {
    if (!cc->valid) {
      cc->valid = ms_malloc((size_t)cap);
      if (!cc->valid) return S_NOMEM;
      memset(cc->valid, 1, (size_t)row);
    }
    cc->valid[row] = 0;
    cc->nulls++;
    if (col->kind == K_STR || col->kind == K_BIN) {
      uint32_t e = (uint32_t)cc->dlen;
      memcpy(slot, &e, 4);
    } else {
      memset(slot, 0, (size_t)col->elem);
    }
    return S_OK;
  }
  if (cc->valid) cc->valid[row] = 1;
  switch (col->kind) {
    case K_I64: {
      int64_t v;
      if (!ms_csv_parse_i64(s, n, &v)) return S_BAD;
      memcpy(slot, &v, 8);
      return S_OK;
    }
    case K_I32: case K_I16: case K_I8: {
      int64_t v;
      if (!ms_csv_parse_i64(s, n, &v)) return S_BAD;
      if (col->kind == K_I32) { if (v < INT32_MIN || v > INT32_MAX) return S_BAD; int32_t x = (int32_t)v; memcpy(slot, &x, 4); }
      else if (col->kind == K_I16) { if (v < INT16_MIN || v > INT16_MAX) return S_BAD; int16_t x = (int16_t)v; memcpy(slot, &x, 2); }
      else { if (v < INT8_MIN || v > INT8_MAX) return S_BAD; *slot = (uint8_t)(int8_t)v; }
      return S_OK;
    }
    case K_U64: case K_U32: case K_U16: case K_U8: {
      uint64_t v;
      if (!ms_csv_parse_u64(s, n, &v)) return S_BAD;
      if (col->kind == K_U64) memcpy(slot, &v, 8);
      else if (col->kind == K_U32) { if (v > UINT32_MAX) return S_BAD; uint32_t x = (uint32_t)v; memcpy(slot, &x, 4); }
      else if (col->kind == K_U16) { if (v > UINT16_MAX) return S_BAD; uint16_t x = (uint16_t)v; memcpy(slot, &x, 2); }
      else { if (v > UINT8_MAX) return S_BAD; *slot = (uint8_t)v; }
      return S_OK;
    }
    case K_F64: {
      double v;
      if (!ms_csv_parse_f64(s, n, &v)) return S_BAD;
      memcpy(slot, &v, 8);
      return S_OK;
    }
    case K_F32: {
      float v;
      if (!ms_csv_parse_f32(s, n, &v)) return S_BAD;
      memcpy(slot, &v, 4);
      return S_OK;
    }
    case K_BOOL: {
      int b = ms_csv_parse_bool(s, n, !col->inferred);
      if (b < 0) return S_BAD;
      *slot = (uint8_t)b;
      return S_OK;
    }
    case K_DATE: {
      int32_t v;
      if (!ms_parse_date(s, n, &v)) return S_BAD;
      memcpy(slot, &v, 4);
      return S_OK;
    }
    case K_TS: {
      ms_timestamp_parts tp;
      int64_t v;
      if (!ms_parse_timestamp_parts(s, n, true, &tp)) return S_BAD;
      /* An inferred column holds its text to the tz-awareness the sample showed. */
      if (col->inferred && !tp.date_only && tp.has_offset != col->ts_aware) return S_BAD;
      if (!ms_timestamp_from_parts(&tp, col->type.unit, true, &v)) return S_BAD;
      memcpy(slot, &v, 8);
      return S_OK;
    }
    case K_DEC:
      return ms_csv_parse_decimal128(s, n, col->type.precision, col->type.scale, slot) ? S_OK : S_BAD;
    case K_STR: {
      if (!ms_csv_utf8_valid(f->p, n)) return S_UTF8;
      if (!data_fits(cc, n)) return S_LIMIT;
      if (!data_reserve(cc, n)) return S_NOMEM;
      memcpy(cc->data + cc->dlen, f->p, n);
      cc->dlen += (int64_t)n;
      uint32_t e = (uint32_t)cc->dlen;
      memcpy(slot, &e, 4);
      return S_OK;
    }
    case K_BIN: {
      int64_t m = ms_csv_base64_decoded_len(s, n);
      if (m < 0) return S_BAD;
      if (!data_fits(cc, (size_t)m)) return S_LIMIT;
      if (!data_reserve(cc, (size_t)m)) return S_NOMEM;
      if (ms_csv_base64_decode(s, n, cc->data + cc->dlen) != m) return S_BAD;
      cc->dlen += m;
      uint32_t e = (uint32_t)cc->dlen;
      memcpy(slot, &e, 4);
      return S_OK;
    }
    case K_FBIN:
      if (ms_csv_base64_decoded_len(s, n) != col->elem) return S_BAD;
      return ms_csv_base64_decode(s, n, slot) == col->elem ? S_OK : S_BAD;
  }
  return S_BAD;
}

static ms_status value_error(const csv_plan *pl, const csv_col *col, const uint8_t *rec,
                             const csv_field *f, int code, ms_error *err) {
  if (code == S_NOMEM) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  int64_t off = f->p >= pl->data && f->p <= pl->data + pl->len ? f->p - pl->data : rec - pl->data;
  int64_t line = line_of(pl, rec - pl->data);
  ms_error_set_file(err, pl->name);
  ms_error_set_column(err, col->name);
  ms_error_set_row(err, line);
  ms_error_set_byte_offset(err, off);
  if (code == S_LIMIT)
    return ms_error_set(err, MS_ERR_LIMIT, "line %lld: more than 4 GiB of text for column '%s' in one record span",
                        (long long)line, col->name);
  if (code == S_UTF8)
    return ms_error_set(err, MS_ERR_PARSE, "line %lld: column '%s' holds invalid UTF-8", (long long)line, col->name);
  char tb[96], text[80];
  ms_type_to_string(&col->type, tb, sizeof tb);
  size_t n = f->n < 64 ? f->n : 64;
  for (size_t i = 0; i < n; i++) text[i] = (f->p[i] >= 32 && f->p[i] < 127) ? (char)f->p[i] : '?';
  snprintf(text + n, sizeof text - n, "%s", f->n > 64 ? "..." : "");
  if (col->inferred)
    return ms_error_set(err, MS_ERR_PARSE,
                        "line %lld: value \"%s\" in column '%s' is not a valid %s (the type was inferred from "
                        "the first %lld rows; pass an explicit schema for column '%s')",
                        (long long)line, text, col->name, tb, (long long)pl->sample_rows, col->name);
  return ms_error_set(err, MS_ERR_PARSE, "line %lld: value \"%s\" in column '%s' is not a valid %s",
                      (long long)line, text, col->name, tb);
}

static ms_status parse_chunk_task(void *vctx, int64_t k, int worker, ms_error *err) {
  read_ctx *ctx = vctx;
  const csv_plan *pl = ctx->pl;
  csv_chunk *ck = &ctx->chunks[k];
  csv_scratch *sc = &ctx->scratch[worker];
  const uint8_t *p = pl->data + ck->start, *end = pl->data + ck->end;
  if (p >= end || ck->bound == 0) return MS_OK;
  const int n_out = pl->n_out;
  ck->cols = ms_calloc((size_t)(n_out ? n_out : 1), sizeof *ck->cols);
  uint8_t **slot0 = ms_malloc(sizeof *slot0 * (size_t)(n_out ? n_out : 1));
  if (!ck->cols || !slot0) { ms_free(slot0); return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }
  for (int c = 0; c < n_out; c++) {
    const csv_col *col = &pl->cols[c];
    if (direct_kind(col->kind)) {
      slot0[c] = ctx->fixed[c]->data + ctx->bound_base[k] * col->elem;
    } else {
      ck->cols[c].vals = ms_malloc((size_t)(ck->bound * col->elem));
      if (!ck->cols[c].vals) { ms_free(slot0); return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }
      slot0[c] = ck->cols[c].vals;
    }
  }
  const int n_fields = pl->n_fields;
  const int64_t bound = ck->bound;
  ms_status st = MS_OK;
  int64_t row = 0;
  while (p < end) {
    p = skip_blank(pl, p, end);
    if (p >= end) break;
    if (row == bound) { st = ms_error_set(err, MS_ERR_INTERNAL, "CSV record count pre-scan disagrees with the parser"); break; }
    const uint8_t *rec = p;
    int fi = 0;
    for (;;) {
      csv_field f;
      const uint8_t *at = NULL;
      int r = next_field(pl, sc, &p, end, &f, &at);
      if (r < 0) { st = structural_error(pl, r, at, err); goto done; }
      if (fi < n_fields) {
        int c = pl->field_out[fi];
        if (c >= 0) {
          const csv_col *col = &pl->cols[c];
          int s = store(pl, col, &ck->cols[c], slot0[c] + row * col->elem, row, bound, &f);
          if (s) { st = value_error(pl, col, rec, &f, s, err); goto done; }
        }
      }
      fi++;
      if (r == F_END) break;
    }
    if (fi != n_fields) { st = count_error(pl, rec, fi, err); break; }
    row++;
  }
done:
  ck->rows = row;
  ms_free(slot0);
  return st;
}

/* ---------------- assembly ---------------- */

static void set_bits(uint8_t *bits, int64_t from, int64_t n) {
  int64_t i = from, e = from + n;
  for (; i < e && (i & 7); i++) ms_bit_set(bits, i);
  if (i < e) {
    int64_t full = (e - i) / 8;
    memset(bits + i / 8, 0xff, (size_t)full);
    i += full * 8;
  }
  for (; i < e; i++) ms_bit_set(bits, i);
}

static ms_status assemble_task(void *vctx, int64_t c, int worker, ms_error *err) {
  read_ctx *ctx = vctx;
  const csv_plan *pl = ctx->pl;
  csv_col *col = &pl->cols[c];
  int64_t rows = ctx->row_base[ctx->n_chunks], nulls = 0, dtotal = 0;
  for (int64_t k = 0; k < ctx->n_chunks; k++) {
    if (!ctx->chunks[k].cols) continue;
    nulls += ctx->chunks[k].cols[c].nulls;
    dtotal += ctx->chunks[k].cols[c].dlen;
  }
  ms_buffer *validity = NULL, *values = NULL, *data = NULL;
  if (nulls) {
    validity = ms_buffer_create_zeroed(ms_bitmap_bytes(rows));
    if (!validity) goto nomem;
  }
  bool var = col->kind == K_STR || col->kind == K_BIN;
  bool large = false;
  if (var) {
    large = ms_type_is_large(&col->type) || dtotal > INT32_MAX;
    if (large && !ms_type_is_large(&col->type))
      col->type.id = col->kind == K_STR ? MS_TYPE_LARGE_UTF8 : MS_TYPE_LARGE_BINARY;
    /* Every offset is written below, so no zeroing pass. */
    values = ms_buffer_create((rows + 1) * (large ? 8 : 4));
    data = ms_buffer_create(dtotal);
    if (!values || !data) goto nomem;
    memset(values->data, 0, large ? 8 : 4);
    values->size = (rows + 1) * (large ? 8 : 4);
    data->size = dtotal;
  } else if (col->kind == K_BOOL) {
    values = ms_buffer_create_zeroed(ms_bitmap_bytes(rows));
    if (!values) goto nomem;
  } else {
    /* Parsed in place; close the gaps blank lines left between chunks. */
    values = ctx->fixed[c];
    ctx->fixed[c] = NULL;
    for (int64_t k = 0; k < ctx->n_chunks; k++) {
      int64_t from = ctx->bound_base[k], to = ctx->row_base[k], n = ctx->chunks[k].rows;
      if (from != to && n)
        memmove(values->data + to * col->elem, values->data + from * col->elem, (size_t)(n * col->elem));
    }
    values->size = rows * col->elem;
  }
  int64_t dbase = 0;
  for (int64_t k = 0; k < ctx->n_chunks; k++) {
    csv_chunk *ck = &ctx->chunks[k];
    if (!ck->cols) continue;
    chunk_col *cc = &ck->cols[c];
    int64_t base = ctx->row_base[k], n = ck->rows;
    if (validity) {
      if (!cc->valid) set_bits(validity->data, base, n);
      else for (int64_t i = 0; i < n; i++) if (cc->valid[i]) ms_bit_set(validity->data, base + i);
    }
    if (var) {
      if (cc->dlen) memcpy(data->data + dbase, cc->data, (size_t)cc->dlen);
      const uint32_t *ends = (const uint32_t *)cc->vals;
      if (large) {
        int64_t *o = (int64_t *)values->data + base + 1;
        for (int64_t i = 0; i < n; i++) o[i] = dbase + ends[i];
      } else {
        int32_t *o = (int32_t *)values->data + base + 1;
        for (int64_t i = 0; i < n; i++) o[i] = (int32_t)(dbase + ends[i]);
      }
      dbase += cc->dlen;
    } else if (col->kind == K_BOOL) {
      for (int64_t i = 0; i < n; i++) if (cc->vals[i]) ms_bit_set(values->data, base + i);
    }
    /* Free as we go so peak memory stays near one copy of the column. */
    ms_free(cc->vals); ms_free(cc->valid); ms_free(cc->data);
    cc->vals = cc->valid = cc->data = NULL;
  }
  return ms_column_from_buffers(&col->type, rows, nulls, validity, values, data, &ctx->out[c], err);
nomem:
  ms_buffer_release(validity);
  ms_buffer_release(values);
  ms_buffer_release(data);
  return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
}

static ms_status read_body(csv_plan *pl, const ms_csv_read_options *o, ms_table **out,
                           ms_error *err) {
  read_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.pl = pl;
  int64_t cb = o->chunk_bytes > 0 ? o->chunk_bytes : CSV_DEFAULT_CHUNK;
  if (cb > CSV_MAX_CHUNK) cb = CSV_MAX_CHUNK;
  ctx.chunk_bytes = cb;
  int64_t body_len = pl->len - pl->body;
  ctx.n_nominal = body_len > 0 ? (body_len + cb - 1) / cb : 1;
  int workers = o->pool ? ms_pool_size(o->pool) : 1;
  ms_status st = MS_OK;
  ms_field *fields = NULL;
  ctx.quotes = ms_calloc((size_t)ctx.n_nominal, sizeof *ctx.quotes);
  ctx.cuts = ms_calloc((size_t)ctx.n_nominal + 1, sizeof *ctx.cuts);
  ctx.chunks = ms_calloc((size_t)ctx.n_nominal, sizeof *ctx.chunks);
  ctx.row_base = ms_calloc((size_t)ctx.n_nominal + 1, sizeof *ctx.row_base);
  ctx.scratch = ms_calloc((size_t)workers, sizeof *ctx.scratch);
  ctx.out = ms_calloc((size_t)(pl->n_out ? pl->n_out : 1), sizeof *ctx.out);
  ctx.fixed = ms_calloc((size_t)(pl->n_out ? pl->n_out : 1), sizeof *ctx.fixed);
  ctx.bound_base = ms_calloc((size_t)ctx.n_nominal + 1, sizeof *ctx.bound_base);
  if (!ctx.quotes || !ctx.cuts || !ctx.chunks || !ctx.row_base || !ctx.scratch || !ctx.out ||
      !ctx.fixed || !ctx.bound_base) {
    st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    goto done;
  }
  if (ctx.n_nominal > 1) {
    st = ms_pool_run(o->pool, ctx.n_nominal, count_quotes_task, &ctx, err);
    if (st) goto done;
    /* Turn counts into the parity of all quotes before each chunk. */
    int64_t sum = 0;
    for (int64_t k = 0; k < ctx.n_nominal; k++) {
      int64_t q = ctx.quotes[k];
      ctx.quotes[k] = sum & 1;
      sum += q;
    }
    st = ms_pool_run(o->pool, ctx.n_nominal, find_cut_task, &ctx, err);
    if (st) goto done;
  } else {
    ctx.cuts[0] = pl->body;
  }
  /* A chunk without a usable newline merges into its predecessor. */
  ctx.n_chunks = ctx.n_nominal;
  int64_t next = pl->len;
  for (int64_t k = ctx.n_nominal - 1; k >= 0; k--) {
    int64_t start = ctx.cuts[k] >= 0 ? ctx.cuts[k] : next;
    ctx.chunks[k].start = start;
    ctx.chunks[k].end = next;
    next = start;
  }
  st = ms_pool_run(o->pool, ctx.n_chunks, count_records_task, &ctx, err);
  if (st) goto done;
  for (int64_t k = 0; k < ctx.n_chunks; k++) ctx.bound_base[k + 1] = ctx.bound_base[k] + ctx.chunks[k].bound;
  for (int c = 0; c < pl->n_out; c++) {
    if (!direct_kind(pl->cols[c].kind)) continue;
    ctx.fixed[c] = ms_buffer_create(ctx.bound_base[ctx.n_chunks] * pl->cols[c].elem);
    if (!ctx.fixed[c]) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); goto done; }
  }
  st = ms_pool_run(o->pool, ctx.n_chunks, parse_chunk_task, &ctx, err);
  if (st) goto done;
  for (int64_t k = 0; k < ctx.n_chunks; k++) ctx.row_base[k + 1] = ctx.row_base[k] + ctx.chunks[k].rows;
  st = ms_pool_run(o->pool, pl->n_out, assemble_task, &ctx, err);
  if (st) goto done;
  fields = ms_calloc((size_t)(pl->n_out ? pl->n_out : 1), sizeof *fields);
  if (!fields) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); goto done; }
  for (int c = 0; c < pl->n_out; c++) {
    fields[c].name = (char *)pl->cols[c].name;
    fields[c].type = pl->cols[c].type;
    fields[c].nullable = true;
  }
  st = ms_table_create(fields, ctx.out, pl->n_out, out, err);
done:
  ms_free(fields);
  if (ctx.out)
    for (int c = 0; c < pl->n_out; c++) ms_column_release(ctx.out[c]);
  if (ctx.fixed)
    for (int c = 0; c < pl->n_out; c++) ms_buffer_release(ctx.fixed[c]);
  ms_free(ctx.fixed);
  ms_free(ctx.bound_base);
  if (ctx.chunks)
    for (int64_t k = 0; k < ctx.n_chunks; k++) chunk_free(&ctx.chunks[k], pl->n_out);
  if (ctx.scratch)
    for (int w = 0; w < workers; w++) ms_free(ctx.scratch[w].p);
  ms_free(ctx.quotes);
  ms_free(ctx.cuts);
  ms_free(ctx.chunks);
  ms_free(ctx.row_base);
  ms_free(ctx.scratch);
  ms_free(ctx.out);
  return st;
}

/* ---------------- entry points ---------------- */

ms_status ms_csv_read_buffer(const uint8_t *data, int64_t len, const char *name,
                             const ms_csv_read_options *opts, ms_table **out, ms_error *err) {
  *out = NULL;
  ms_csv_read_options defaults;
  if (!opts) { ms_csv_read_options_init(&defaults); opts = &defaults; }
  if (len < 0 || (len > 0 && !data)) return ms_error_set(err, MS_ERR_INVALID, "bad CSV buffer");
  csv_plan pl;
  ms_status st = plan_build(&pl, data, len, name, opts, err);
  if (!st) st = read_body(&pl, opts, out, err);
  plan_reset(&pl);
  return st;
}

/* Maps the file, or reads it when the back end cannot map. */
static ms_status load_file(ms_fs *fs, const char *path, ms_file **out_f, const uint8_t **data,
                           int64_t *len, uint8_t **owned, ms_error *err) {
  *owned = NULL;
  *data = NULL;
  ms_status st = ms_fs_open(fs, path, out_f, err);
  if (st) return st;
  *len = ms_file_size(*out_f);
  if (*len <= 0) { *len = 0; return MS_OK; }
  *data = ms_file_map(*out_f, 0, *len);
  if (*data) return MS_OK;
  *owned = ms_malloc((size_t)*len);
  if (!*owned) return ms_error_set(err, MS_ERR_NOMEM, "out of memory reading %s", path);
  st = ms_file_read_at(*out_f, 0, *len, *owned, err);
  *data = *owned;
  return st;
}

ms_status ms_csv_read(ms_fs *fs, const char *path, const ms_csv_read_options *opts,
                      ms_table **out, ms_error *err) {
  *out = NULL;
  ms_file *f = NULL;
  const uint8_t *data;
  int64_t len = 0;
  uint8_t *owned;
  ms_status st = load_file(fs, path, &f, &data, &len, &owned, err);
  if (!st) st = ms_csv_read_buffer(data ? data : (const uint8_t *)"", len, path, opts, out, err);
  ms_free(owned);
  ms_file_close(f);
  return st;
}

ms_status ms_csv_infer_schema(ms_fs *fs, const char *path, const ms_csv_read_options *opts,
                              ms_field **out_fields, int *out_n, ms_error *err) {
  *out_fields = NULL;
  *out_n = 0;
  ms_csv_read_options defaults;
  if (!opts) { ms_csv_read_options_init(&defaults); opts = &defaults; }
  ms_file *f = NULL;
  const uint8_t *data;
  int64_t len = 0;
  uint8_t *owned;
  csv_plan pl;
  memset(&pl, 0, sizeof pl);
  ms_status st = load_file(fs, path, &f, &data, &len, &owned, err);
  if (!st) st = plan_build(&pl, data ? data : (const uint8_t *)"", len, path, opts, err);
  if (!st) {
    ms_field *fields = ms_calloc((size_t)(pl.n_out ? pl.n_out : 1), sizeof *fields);
    if (!fields) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    for (int c = 0; !st && c < pl.n_out; c++) {
      ms_field src = {(char *)pl.cols[c].name, pl.cols[c].type, true};
      if (ms_field_copy(&src, &fields[c])) {
        for (int i = 0; i < c; i++) ms_field_reset(&fields[i]);
        ms_free(fields);
        fields = NULL;
        st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
      }
    }
    if (!st) { *out_fields = fields; *out_n = pl.n_out; }
  }
  plan_reset(&pl);
  ms_free(owned);
  ms_file_close(f);
  return st;
}
