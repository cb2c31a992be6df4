/* Timestamp normalisation for the offline store: every entity and source timestamp (and
 * created timestamp) is compared as int64 UTC nanoseconds. A naive timestamp is UTC; an
 * aware one is stored in UTC already (Arrow's convention), so only the unit is scaled,
 * exactly, with an overflow check (a seconds value past 2262 does not fit and is an error,
 * never a silent wrap). date32 is midnight UTC.
 *
 * Also here: opening datasets whose CSV files mix naive and aware timestamps in one
 * column. The CSV reader refuses to guess a type for such a column; the store's contract
 * is clear (naive = UTC, aware converted to UTC), so the column is re-read with an explicit
 * timestamp[ns, UTC] type, which the reader accepts with or without an offset. */
#include <stdio.h>
#include <string.h>

#include "columnar/column.h"
#include "formats/timeparse.h"
#include "offline/ofs_internal.h"

bool ofs_is_time_type(const ms_datatype *t) {
  return t->id == MS_TYPE_TIMESTAMP || t->id == MS_TYPE_DATE32;
}

ms_status ofs_time_to_ns_into(const ms_column *c, const char *what, int64_t *ns, uint8_t *ok, ms_error *err) {
  const ms_datatype *t = ms_column_type(c);
  if (!ofs_is_time_type(t)) {
    char tb[96];
    return ms_error_set(err, MS_ERR_TYPE, "%s is %s, not a timestamp", what, ms_type_to_string(t, tb, sizeof tb));
  }
  int64_t n = ms_column_length(c);
  int64_t mul = t->id == MS_TYPE_DATE32 ? OFS_NS_PER_DAY : INT64_C(1000000000) / ms_time_unit_per_second(t->unit);
  const uint8_t *valid = c->validity ? c->validity->data : NULL;
  if (t->id == MS_TYPE_TIMESTAMP && !valid) {
    /* The common case, kept branch-light: range check first, then one multiply pass. */
    const int64_t *raw = (const int64_t *)c->values->data;
    int64_t lim = INT64_MAX / mul;
    for (int64_t i = 0; i < n; i++)
      if (raw[i] > lim || raw[i] < -lim) goto slow;
    for (int64_t i = 0; i < n; i++) ns[i] = raw[i] * mul;
    if (ok) memset(ok, 1, (size_t)n);
    return MS_OK;
  }
slow:
  for (int64_t i = 0; i < n; i++) {
    bool v = valid == NULL || ms_bit_get(valid, i);
    if (ok) ok[i] = v;
    if (!v) {
      ns[i] = 0;
      continue;
    }
    int64_t raw = t->id == MS_TYPE_DATE32 ? ((const int32_t *)c->values->data)[i]
                                          : ((const int64_t *)c->values->data)[i];
    if (__builtin_mul_overflow(raw, mul, &ns[i])) {
      ms_error_set_row(err, i);
      return ms_error_set(err, MS_ERR_LIMIT,
                          "%s: value %lld at row %lld is outside the nanosecond range "
                          "(1677-09-21 .. 2262-04-11)",
                          what, (long long)raw, (long long)i);
    }
  }
  return MS_OK;
}

int64_t ofs_time_to_ns_bounded(const ms_column *c, int64_t lo, int64_t hi, int64_t *ns, uint8_t *ok) {
  const ms_datatype *t = ms_column_type(c);
  int64_t n = ms_column_length(c);
  if (t->id != MS_TYPE_TIMESTAMP || c->validity) return -1;
  int64_t mul = INT64_C(1000000000) / ms_time_unit_per_second(t->unit);
  int64_t lim = INT64_MAX / mul;
  const int64_t *raw = (const int64_t *)c->values->data;
  int64_t kept = 0;
  int bad = 0;
  /* One pass: scale, check the range and the bounds; overflow is only flagged here (the
   * caller falls back to the checked path, which names the row). */
  for (int64_t i = 0; i < n; i++) {
    int64_t r = raw[i];
    bad |= (r > lim) | (r < -lim);
    int64_t x = (int64_t)((uint64_t)r * (uint64_t)mul);
    ns[i] = x;
    uint8_t o = (uint8_t)((x >= lo) & (x <= hi));
    ok[i] = o;
    kept += o;
  }
  return bad ? -1 : kept;
}

ms_status ofs_time_to_ns(const ms_column *c, const char *what, int64_t **out_ns,
                         uint8_t **out_ok, ms_error *err) {
  *out_ns = NULL;
  if (out_ok) *out_ok = NULL;
  int64_t n = ms_column_length(c);
  int64_t *ns = ms_malloc((size_t)(n ? n : 1) * sizeof *ns);
  uint8_t *ok = out_ok ? ms_malloc((size_t)(n ? n : 1)) : NULL;
  if (!ns || (out_ok && !ok)) {
    ms_free(ns);
    ms_free(ok);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory converting %s", what);
  }
  ms_status st = ofs_time_to_ns_into(c, what, ns, ok, err);
  if (st) {
    ms_free(ns);
    ms_free(ok);
    return st;
  }
  *out_ns = ns;
  if (out_ok) *out_ok = ok;
  return MS_OK;
}

const char *ofs_format_ns(int64_t ns, char *buf) {
  ms_format_timestamp(ns, MS_UNIT_NANO, true, buf);
  /* Drop an all-zero or trailing-zero fraction: "...:05.500000000Z" -> "...:05.5Z". */
  char *dot = strchr(buf, '.');
  char *z = strchr(buf, 'Z');
  if (dot && z && z > dot) {
    char *e = z;
    while (e > dot + 1 && e[-1] == '0') e--;
    if (e == dot + 1) e = dot;
    memmove(e, z, strlen(z) + 1);
  }
  return buf;
}

/* Is the error the CSV reader's "mixes timestamps with and without an offset"? */
static bool is_mixed_tz_error(const ms_error *e) {
  if (!e->column[0]) return false;
  if (e->status == MS_ERR_TYPE) return strstr(e->message, "mixes timestamps") != NULL;
  /* Past the inference sample: an inferred timestamp column met the other awareness. */
  return e->status == MS_ERR_PARSE && strstr(e->message, "is not a valid timestamp[") != NULL &&
         strstr(e->message, "inferred") != NULL;
}

#define OFS_MAX_FIXED 32

typedef struct fixed_cols {
  ms_field f[OFS_MAX_FIXED];
  char names[OFS_MAX_FIXED][256];
  int n;
} fixed_cols;

static bool fixed_add(fixed_cols *fc, const char *name) {
  for (int i = 0; i < fc->n; i++)
    if (strcmp(fc->names[i], name) == 0) return false;
  if (fc->n >= OFS_MAX_FIXED) return false;
  snprintf(fc->names[fc->n], sizeof fc->names[fc->n], "%s", name);
  fc->f[fc->n].name = fc->names[fc->n];
  fc->f[fc->n].type = ms_type_timestamp(MS_UNIT_NANO, "UTC");
  fc->f[fc->n].nullable = true;
  fc->n++;
  return true;
}

static ms_status open_fixed(const char *path, ms_file_format fmt, const fixed_cols *fc,
                            ms_dataset **out, ms_error *err) {
  ms_csv_read_options co;
  ms_csv_read_options_init(&co);
  size_t len = strlen(path);
  if (len > 4 && strcmp(path + len - 4, ".tsv") == 0) co.delimiter = '\t';
  co.schema = fc->f;
  co.n_schema = fc->n;
  ms_dataset_options o;
  ms_dataset_options_init(&o);
  o.format = fmt;
  if (fc->n > 0) o.csv = &co;
  return ms_dataset_open(ms_fs_local(), path, &o, out, err);
}

ms_status ofs_dataset_open(const char *path, ms_file_format fmt, ms_dataset **out, ms_error *err) {
  fixed_cols fc;
  fc.n = 0;
  for (;;) {
    ms_error e;
    ms_error_init(&e);
    ms_status st = open_fixed(path, fmt, &fc, out, &e);
    if (st == MS_OK) return MS_OK;
    if (!is_mixed_tz_error(&e) || !fixed_add(&fc, e.column)) {
      if (err) *err = e;
      return st;
    }
  }
}

ms_status ofs_read_table_file(const char *path, ms_pool *pool, ms_table **out, ms_error *err) {
  *out = NULL;
  fixed_cols fc;
  fc.n = 0;
  for (;;) {
    ms_error e;
    ms_error_init(&e);
    ms_dataset *ds = NULL;
    ms_status st = open_fixed(path, MS_FORMAT_AUTO, &fc, &ds, &e);
    if (st == MS_OK) {
      ms_dataset_read_options ro = {0};
      ro.pool = pool;
      st = ms_dataset_read(ds, &ro, out, NULL, &e);
      ms_dataset_close(ds);
    }
    if (st == MS_OK) return MS_OK;
    if (!is_mixed_tz_error(&e) || !fixed_add(&fc, e.column)) {
      if (err) *err = e;
      return st;
    }
  }
}
