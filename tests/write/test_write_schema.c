/* wr_conform and wr_read_input (src/write/wr_schema.c): every pair of types, integer ranges
 * at their bounds, timestamp units and time zones, nulls, the exact error texts, and random
 * tables checked against a brute-force model of the rules in include/morsel/write.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/parquet.h"
#include "ms_test.h"
#include "write/write_int.h"

/* ---- the types under test ---- */

static ms_datatype T[32];
static int NT;

static void init_types(void) {
  if (NT) return;
  static const ms_type_id ids[] = {MS_TYPE_BOOL,   MS_TYPE_INT8,    MS_TYPE_INT16,      MS_TYPE_INT32,
                                   MS_TYPE_INT64,  MS_TYPE_UINT8,   MS_TYPE_UINT16,     MS_TYPE_UINT32,
                                   MS_TYPE_UINT64, MS_TYPE_FLOAT32, MS_TYPE_FLOAT64,    MS_TYPE_UTF8,
                                   MS_TYPE_LARGE_UTF8, MS_TYPE_BINARY, MS_TYPE_LARGE_BINARY, MS_TYPE_DATE32,
                                   MS_TYPE_NULL};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) T[NT++] = ms_type(ids[i]);
  T[NT++] = ms_type_timestamp(MS_UNIT_SECOND, "");
  T[NT++] = ms_type_timestamp(MS_UNIT_MILLI, "");
  T[NT++] = ms_type_timestamp(MS_UNIT_MICRO, "");
  T[NT++] = ms_type_timestamp(MS_UNIT_NANO, "");
  T[NT++] = ms_type_timestamp(MS_UNIT_MICRO, "UTC");
  T[NT++] = ms_type_timestamp(MS_UNIT_NANO, "UTC");
  T[NT++] = ms_type_timestamp(MS_UNIT_MILLI, "Europe/Paris");
  T[NT++] = ms_type_decimal128(10, 2);
  T[NT++] = ms_type_fixed_binary(4);
}

/* The model's classes: which kinds of values a type holds. */
enum { C_BOOL, C_SINT, C_UINT, C_F32, C_F64, C_STR, C_BIN, C_DATE, C_TS, C_DEC, C_FBIN, C_NULL };

static int cls(const ms_datatype *t) {
  switch (t->id) {
    case MS_TYPE_BOOL: return C_BOOL;
    case MS_TYPE_INT8: case MS_TYPE_INT16: case MS_TYPE_INT32: case MS_TYPE_INT64: return C_SINT;
    case MS_TYPE_UINT8: case MS_TYPE_UINT16: case MS_TYPE_UINT32: case MS_TYPE_UINT64: return C_UINT;
    case MS_TYPE_FLOAT32: return C_F32;
    case MS_TYPE_FLOAT64: return C_F64;
    case MS_TYPE_UTF8: case MS_TYPE_LARGE_UTF8: return C_STR;
    case MS_TYPE_BINARY: case MS_TYPE_LARGE_BINARY: return C_BIN;
    case MS_TYPE_DATE32: return C_DATE;
    case MS_TYPE_TIMESTAMP: return C_TS;
    case MS_TYPE_DECIMAL128: return C_DEC;
    case MS_TYPE_FIXED_BINARY: return C_FBIN;
    default: return C_NULL;
  }
}

/* write.h's table of compatible pairs, as a matrix of classes. */
static bool model_compatible(const ms_datatype *got, const ms_datatype *want) {
  int g = cls(got), w = cls(want);
  if (g == C_NULL) return true;
  if (w == C_NULL) return false;
  bool gi = g == C_SINT || g == C_UINT, wi = w == C_SINT || w == C_UINT;
  if (wi) return gi;
  if (w == C_F32) return gi || g == C_F32;
  if (w == C_F64) return gi || g == C_F32 || g == C_F64;
  if (w == C_DEC || w == C_FBIN) return ms_type_equal(got, want);
  return g == w;
}

/* ---- values ---- */

typedef struct val {
  bool null;
  __int128 i;        /* integers, dates, timestamps */
  double f;
  bool b;
  const char *s;     /* strings, binaries, decimals (16 bytes), fixed_binary (4 bytes) */
} val;

static __int128 imin(ms_type_id id) {
  switch (id) {
    case MS_TYPE_INT8: return INT8_MIN;
    case MS_TYPE_INT16: return INT16_MIN;
    case MS_TYPE_INT32: return INT32_MIN;
    case MS_TYPE_INT64: return INT64_MIN;
    default: return 0;
  }
}
static __int128 imax(ms_type_id id) {
  switch (id) {
    case MS_TYPE_INT8: return INT8_MAX;
    case MS_TYPE_INT16: return INT16_MAX;
    case MS_TYPE_INT32: return INT32_MAX;
    case MS_TYPE_INT64: return INT64_MAX;
    case MS_TYPE_UINT8: return UINT8_MAX;
    case MS_TYPE_UINT16: return UINT16_MAX;
    case MS_TYPE_UINT32: return UINT32_MAX;
    default: return (__int128)UINT64_MAX;
  }
}

/* Sample values of a type: bounds and their neighbours for integers and timestamps. */
static int samples(const ms_datatype *t, val *out) {
  int n = 0;
  out[n++] = (val){.null = true};
  switch (cls(t)) {
    case C_SINT: case C_UINT: {
      static const __int128 cand[] = {0, 1, -1, 127, 128, -128, -129, 255, 256, 32767, 32768,
                                      -32768, -32769, 65535, 65536, 2147483647LL, 2147483648LL,
                                      -2147483648LL, -2147483649LL, 4294967295LL, 4294967296LL,
                                      INT64_MAX, INT64_MIN, (__int128)INT64_MAX + 1};
      for (size_t k = 0; k < sizeof cand / sizeof cand[0]; k++)
        if (cand[k] >= imin(t->id) && cand[k] <= imax(t->id)) out[n++] = (val){.i = cand[k]};
      out[n++] = (val){.i = imax(t->id)};
      break;
    }
    case C_F32: out[n++] = (val){.f = 1.5}; out[n++] = (val){.f = -1024.25}; break;
    case C_F64: out[n++] = (val){.f = 0.1}; out[n++] = (val){.f = 1e300}; break;
    case C_BOOL: out[n++] = (val){.b = true}; out[n++] = (val){.b = false}; break;
    case C_STR: case C_BIN: out[n++] = (val){.s = "abc"}; out[n++] = (val){.s = ""}; break;
    case C_DATE: out[n++] = (val){.i = 19000}; out[n++] = (val){.i = -5}; break;
    case C_TS: {
      static const __int128 cand[] = {0, 1, -1, 999, 1000, -1000, 1500, 1000000, 1000000000,
                                      1700000000123456789LL, 9223372036854LL, 9223372036855LL,
                                      -9223372036855LL, INT64_MAX, INT64_MIN};
      for (size_t k = 0; k < sizeof cand / sizeof cand[0]; k++) out[n++] = (val){.i = cand[k]};
      break;
    }
    case C_DEC: out[n++] = (val){.s = "0123456789abcdef"}; break;
    case C_FBIN: out[n++] = (val){.s = "wxyz"}; break;
    default: break;
  }
  return n;
}

static ms_column *make_col(const ms_datatype *t, const val *v, int n) {
  if (t->id == MS_TYPE_NULL) {
    ms_column *c = NULL;
    if (ms_column_create_nulls(t, n, &c, NULL) != MS_OK) return NULL;
    return c;
  }
  ms_column_builder *b = NULL;
  if (ms_column_builder_create(t, n, &b, NULL) != MS_OK) return NULL;
  for (int i = 0; i < n; i++) {
    int c = cls(t);
    if (v[i].null) ms_builder_append_null(b);
    else if (c == C_BOOL) ms_builder_append_bool(b, v[i].b);
    else if (c == C_UINT) ms_builder_append_u64(b, (uint64_t)v[i].i);
    else if (c == C_SINT || c == C_DATE || c == C_TS) ms_builder_append_i64(b, (int64_t)v[i].i);
    else if (c == C_F32 || c == C_F64) ms_builder_append_f64(b, v[i].f);
    else ms_builder_append_bytes(b, v[i].s, (int64_t)strlen(v[i].s));
  }
  ms_column *c = NULL;
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

static ms_table *table1(const char *name, const ms_datatype *t, const val *v, int n) {
  ms_column *c = make_col(t, v, n);
  if (!c) return NULL;
  ms_field f = {(char *)name, *t, true};
  ms_table *out = NULL;
  ms_table_create(&f, &c, 1, &out, NULL);
  ms_column_release(c);
  return out;
}

/* The model's conversion of one value: false when the value cannot be held. */
static bool model_value(const ms_datatype *got, const ms_datatype *want, const val *in, val *out) {
  *out = *in;
  if (in->null || cls(got) == C_NULL) {
    out->null = true;
    return true;
  }
  int w = cls(want);
  if (w == C_SINT || w == C_UINT) return in->i >= imin(want->id) && in->i <= imax(want->id);
  if (w == C_F32 || w == C_F64) {
    if (cls(got) == C_SINT || cls(got) == C_UINT) out->f = (double)in->i;
    if (w == C_F32) out->f = (float)out->f;
    return true;
  }
  if (w == C_TS) {
    static const __int128 per[] = {1, 1000, 1000000, 1000000000};
    __int128 a = per[got->unit], b = per[want->unit];
    __int128 x = in->i * b;
    if (x % a) return false;
    x /= a;
    out->i = x;
    return x >= INT64_MIN && x <= INT64_MAX;
  }
  return true;
}

static bool value_is(const ms_column *c, int64_t row, const ms_datatype *t, const val *v) {
  if (v->null) return ms_column_is_null(c, row);
  if (ms_column_is_null(c, row)) return false;
  switch (cls(t)) {
    case C_BOOL: return ms_column_get_bool(c, row) == v->b;
    case C_UINT: return ms_column_get_u64(c, row) == (uint64_t)v->i;
    case C_SINT: case C_DATE: case C_TS: return ms_column_get_i64(c, row) == (int64_t)v->i;
    case C_F32: case C_F64: return ms_column_get_f64(c, row) == v->f;
    default: {
      int64_t len = 0;
      const uint8_t *p = ms_column_get_bytes(c, row, &len);
      return len == (int64_t)strlen(v->s) && !memcmp(p, v->s, (size_t)len);
    }
  }
}

/* Every (got, want) pair: the schema verdict, then every sample value one row at a time
 * (so that each out-of-range value is its own error at row 1) and all of them together
 * (the first bad row is reported). */
static void test_type_pairs(void) {
  init_types();
  int pairs = 0, compat = 0, values = 0;
  for (int g = 0; g < NT; g++)
    for (int w = 0; w < NT; w++) {
      if (T[w].id == MS_TYPE_NULL) continue; /* no schema wants the null type */
      pairs++;
      val v[64];
      int n = samples(&T[g], v);
      ms_field want = {"x", T[w], true};
      char gs[64], ws[64];
      ms_type_to_string(&T[g], gs, sizeof gs);
      ms_type_to_string(&T[w], ws, sizeof ws);
      ms_table *in = table1("x", &T[g], v, n);
      CHECK(in);
      ms_table *out = NULL;
      ms_error err;
      ms_error_init(&err);
      ms_status st = wr_conform(in, &want, 1, "batch for feature view 'v' (source 's')", "in.csv", NULL, 0,
                                NULL, 0, &out, &err);
      if (!model_compatible(&T[g], &T[w])) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "batch for feature view 'v' (source 's'): mistyped columns: [x: got %s, want %s]", gs, ws);
        CHECK_MSG(st == MS_ERR_TYPE && !strcmp(err.message, msg), "%s -> %s: %s", gs, ws, err.message);
        CHECK(out == NULL);
        ms_table_release(in);
        continue;
      }
      compat++;
      /* all samples at once: the first value the model refuses is the error */
      int first_bad = -1;
      val exp[64];
      for (int i = 0; i < n; i++)
        if (!model_value(&T[g], &T[w], &v[i], &exp[i]) && first_bad < 0) first_bad = i;
      if (first_bad >= 0) {
        CHECK_MSG(st == MS_ERR_INVALID, "%s -> %s: expected row %d refused, got %d", gs, ws, first_bad + 1, st);
        CHECK_EQ_INT(err.row, first_bad + 1);
        CHECK_STR(err.column, "x");
        char prefix[64];
        snprintf(prefix, sizeof prefix, "in.csv: row %d, column 'x': ", first_bad + 1);
        CHECK_MSG(!strncmp(err.message, prefix, strlen(prefix)), "%s", err.message);
      } else {
        CHECK_MSG(st == MS_OK, "%s -> %s: %s", gs, ws, err.message);
        CHECK(ms_type_equal(&ms_table_field(out, 0)->type, &T[w]));
        CHECK_EQ_INT(ms_table_num_rows(out), n);
        for (int i = 0; i < n; i++)
          CHECK_MSG(value_is(ms_table_column(out, 0), i, &T[w], &exp[i]), "%s -> %s row %d", gs, ws, i);
      }
      ms_table_release(out);
      ms_table_release(in);
      /* one value at a time */
      for (int i = 1; i < n; i++) {
        values++;
        val e;
        bool ok = model_value(&T[g], &T[w], &v[i], &e);
        in = table1("x", &T[g], &v[i], 1);
        out = NULL;
        ms_error_init(&err);
        st = wr_conform(in, &want, 1, "b", NULL, NULL, 0, NULL, 0, &out, &err);
        if (ok) {
          CHECK_MSG(st == MS_OK, "%s -> %s sample %d: %s", gs, ws, i, err.message);
          CHECK_MSG(value_is(ms_table_column(out, 0), 0, &T[w], &e), "%s -> %s sample %d", gs, ws, i);
        } else {
          CHECK_MSG(st == MS_ERR_INVALID && err.row == 1, "%s -> %s sample %d: %d", gs, ws, i, st);
          CHECK_MSG(!strncmp(err.message, "batch: row 1, column 'x': ", 26), "%s", err.message);
        }
        ms_table_release(out);
        ms_table_release(in);
      }
    }
  CHECK_MSG(pairs > 500 && compat > 150 && values > 1500, "%d %d %d", pairs, compat, values);
}

static ms_table *make_table(const char *const *names, const ms_datatype *types, ms_column **cols, int n) {
  ms_field f[16];
  memset(f, 0, sizeof f);
  for (int i = 0; i < n; i++) f[i] = (ms_field){(char *)names[i], types[i], true};
  ms_table *t = NULL;
  ms_table_create(f, cols, n, &t, NULL);
  for (int i = 0; i < n; i++) ms_column_release(cols[i]);
  return t;
}

/* The texts write.h documents, exactly. */
static void test_error_texts(void) {
  ms_datatype ts = ms_type_timestamp(MS_UNIT_MICRO, "UTC"), i64 = ms_type(MS_TYPE_INT64),
              f64 = ms_type(MS_TYPE_FLOAT64), s = ms_type(MS_TYPE_UTF8);
  val sv[1] = {{.s = "7"}}, iv[1] = {{.i = 3}}, tv[1] = {{.i = 1}};
  const char *names[] = {"trips", "speed", "event_timestamp"};
  ms_datatype types[] = {s, i64, ts};
  ms_column *cols[] = {make_col(&s, sv, 1), make_col(&i64, iv, 1), make_col(&ts, tv, 1)};
  ms_table *in = make_table(names, types, cols, 3);
  ms_field want[] = {{"conv_rate", f64, true}, {"trips", i64, true}, {"event_timestamp", ts, false}};
  ms_table *out = NULL;
  ms_error err;
  ms_error_init(&err);
  ms_status st = wr_conform(in, want, 3, "batch for feature view 'driver_stats' (source 'driver_source')",
                            "batch.csv", NULL, 0, NULL, 0, &out, &err);
  CHECK_EQ_INT(st, MS_ERR_INVALID);
  CHECK_STR(err.message,
            "batch for feature view 'driver_stats' (source 'driver_source'): missing columns: [conv_rate]; "
            "extra columns: [speed]; mistyped columns: [trips: got utf8, want int64]");
  ms_table_release(in);

  /* sorted lists, every column listed; a duplicate input name is extra */
  const char *n2[] = {"zeta", "b", "b", "alpha", "m"};
  ms_datatype t2[] = {i64, s, s, i64, s};
  ms_column *c2[] = {make_col(&i64, iv, 1), make_col(&s, sv, 1), make_col(&s, sv, 1), make_col(&i64, iv, 1),
                     make_col(&s, sv, 1)};
  in = make_table(n2, t2, c2, 5);
  ms_field w2[] = {{"z", i64, true}, {"b", i64, true}, {"y", i64, true}, {"m", ts, true}, {"a", f64, true}};
  ms_error_init(&err);
  st = wr_conform(in, w2, 5, "what", "x", NULL, 0, NULL, 0, &out, &err);
  CHECK_EQ_INT(st, MS_ERR_INVALID);
  CHECK_STR(err.message,
            "what: missing columns: [a, y, z]; extra columns: [alpha, b, zeta]; mistyped columns: "
            "[b: got utf8, want int64, m: got utf8, want timestamp[us, tz=UTC]]");
  /* only mistyped: MS_ERR_TYPE */
  ms_field w3[] = {{"zeta", s, true}, {"b", s, true}, {"b", s, true}, {"alpha", s, true}, {"m", s, true}};
  ms_error_init(&err);
  st = wr_conform(in, w3, 5, "what", "x", NULL, 0, NULL, 0, &out, &err);
  CHECK_EQ_INT(st, MS_ERR_TYPE);
  CHECK_STR(err.message, "what: mistyped columns: [alpha: got int64, want utf8, zeta: got int64, want utf8]");
  ms_table_release(in);

  /* null timestamp at data row 17 */
  val tsv[20];
  for (int i = 0; i < 20; i++) tsv[i] = (val){.i = i, .null = i == 16 || i == 18};
  val kv[20];
  for (int i = 0; i < 20; i++) kv[i] = (val){.i = i, .null = i == 18};
  const char *n4[] = {"event_timestamp", "driver_id"};
  ms_datatype t4[] = {ts, i64};
  ms_column *c4[] = {make_col(&ts, tsv, 20), make_col(&i64, kv, 20)};
  in = make_table(n4, t4, c4, 2);
  ms_field w4[] = {{"driver_id", i64, false}, {"event_timestamp", ts, false}};
  const char *nn[] = {"driver_id", "event_timestamp"};
  ms_error_init(&err);
  st = wr_conform(in, w4, 2, "w", "batch.csv", nn, 2, NULL, 0, &out, &err);
  CHECK_EQ_INT(st, MS_ERR_INVALID);
  CHECK_STR(err.message, "batch.csv: row 17, column 'event_timestamp': null timestamp");
  CHECK_EQ_INT(err.row, 17);
  CHECK_STR(err.column, "event_timestamp");
  /* only driver_id must be non-null: row 19, a null value */
  ms_error_init(&err);
  st = wr_conform(in, w4, 2, "w", NULL, nn, 1, NULL, 0, &out, &err);
  CHECK_EQ_INT(st, MS_ERR_INVALID);
  CHECK_STR(err.message, "batch: row 19, column 'driver_id': null value");
  /* neither: fine, nulls kept */
  ms_error_init(&err);
  CHECK_OK(wr_conform(in, w4, 2, "w", NULL, NULL, 0, NULL, 0, &out, &err), &err);
  CHECK(ms_column_is_null(ms_table_column(out, 0), 18) && ms_column_is_null(ms_table_column(out, 1), 16));
  CHECK(ms_table_field(out, 1)->nullable);
  ms_table_release(out);
  ms_table_release(in);

  /* range error text */
  val bv[3] = {{.i = 5}, {.i = 300}, {.i = -1}};
  const char *n5[] = {"x"};
  ms_column *c5[] = {make_col(&i64, bv, 3)};
  in = make_table(n5, &i64, c5, 1);
  ms_field w5[] = {{"x", ms_type(MS_TYPE_UINT8), true}};
  ms_error_init(&err);
  st = wr_conform(in, w5, 1, "w", "in.parquet", NULL, 0, NULL, 0, &out, &err);
  CHECK_EQ_INT(st, MS_ERR_INVALID);
  CHECK_STR(err.message, "in.parquet: row 2, column 'x': value 300 out of range for uint8");
  ms_table_release(in);
  /* timestamp that does not fit its target unit */
  ms_datatype tns = ms_type_timestamp(MS_UNIT_NANO, "");
  val nv[2] = {{.i = 1000}, {.i = 1500}};
  ms_column *c6[] = {make_col(&tns, nv, 2)};
  in = make_table(n5, &tns, c6, 1);
  ms_field w6[] = {{"x", ts, true}};
  ms_error_init(&err);
  st = wr_conform(in, w6, 1, "w", NULL, NULL, 0, NULL, 0, &out, &err);
  CHECK_EQ_INT(st, MS_ERR_INVALID);
  CHECK_STR(err.message, "batch: row 2, column 'x': timestamp[ns] value 1500 does not fit timestamp[us, tz=UTC] exactly");
  ms_table_release(in);
}

/* Lowest row wins across columns; ties go to the column first in want order. Optional
 * columns come back all null. Columns come out in want order, shared when unchanged. */
static void test_order_and_optional(void) {
  ms_datatype i64 = ms_type(MS_TYPE_INT64), i8 = ms_type(MS_TYPE_INT8);
  val a[4] = {{.i = 1}, {.i = 1}, {.i = 1000}, {.i = 1}};
  val b[4] = {{.i = 1}, {.i = 1}, {.null = true}, {.null = true}};
  const char *names[] = {"a", "b"};
  ms_datatype types[] = {i64, i64};
  ms_column *cols[] = {make_col(&i64, a, 4), make_col(&i64, b, 4)};
  ms_table *in = make_table(names, types, cols, 2);
  const char *nn[] = {"b"};
  ms_field w1[] = {{"b", i64, true}, {"a", i8, true}};
  ms_table *out = NULL;
  ms_error err;
  ms_error_init(&err);
  CHECK(wr_conform(in, w1, 2, "w", NULL, nn, 1, NULL, 0, &out, &err) == MS_ERR_INVALID);
  CHECK_STR(err.message, "batch: row 3, column 'b': null value");
  ms_field w2[] = {{"a", i8, true}, {"b", i64, true}};
  ms_error_init(&err);
  CHECK(wr_conform(in, w2, 2, "w", NULL, nn, 1, NULL, 0, &out, &err) == MS_ERR_INVALID);
  CHECK_STR(err.message, "batch: row 3, column 'a': value 1000 out of range for int8");
  /* optional */
  ms_field w3[] = {{"b", i64, true}, {"__log_date", ms_type(MS_TYPE_DATE32), true}, {"a", i64, true}};
  const char *opt[] = {"__log_date"};
  ms_error_init(&err);
  CHECK_OK(wr_conform(in, w3, 3, "w", NULL, NULL, 0, opt, 1, &out, &err), &err);
  CHECK_EQ_INT(ms_table_num_columns(out), 3);
  CHECK_STR(ms_table_field(out, 0)->name, "b");
  CHECK_STR(ms_table_field(out, 1)->name, "__log_date");
  CHECK_EQ_INT(ms_column_null_count(ms_table_column(out, 1)), 4);
  CHECK(ms_table_column(out, 2) == ms_table_column(in, 0)); /* shared, not copied */
  ms_table_release(out);
  /* an optional column that is present is checked like any other */
  ms_field w4[] = {{"b", i64, true}, {"a", i8, true}};
  const char *opt2[] = {"a"};
  ms_error_init(&err);
  CHECK(wr_conform(in, w4, 2, "w", NULL, NULL, 0, opt2, 1, &out, &err) == MS_ERR_INVALID);
  ms_table_release(in);
}

/* ---- random tables vs the model ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void join_sorted(char *buf, size_t size, char **items, int n) {
  qsort(items, (size_t)n, sizeof *items, cmp_cstr);
  size_t len = strlen(buf);
  len += (size_t)snprintf(buf + len, size - len, "[");
  for (int i = 0; i < n; i++) len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", items[i]);
  snprintf(buf + len, size - len, "]");
}

static void test_random_tables(void) {
  init_types();
  static const char *pool_names[] = {"k", "ts", "f1", "f2", "f3", "f4", "f5", "x1", "x2"};
  for (int iter = 0; iter < 3000; iter++) {
    int nw = 1 + (int)(rnd() % 5);
    ms_field want[8];
    char *wn[8];
    /* want: distinct names from the pool */
    int perm[9];
    for (int i = 0; i < 9; i++) perm[i] = i;
    for (int i = 8; i > 0; i--) {
      int j = (int)(rnd() % (uint64_t)(i + 1)), t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    for (int i = 0; i < nw; i++) {
      wn[i] = (char *)pool_names[perm[i]];
      ms_datatype t;
      do t = T[rnd() % (uint64_t)NT]; while (t.id == MS_TYPE_NULL);
      want[i] = (ms_field){wn[i], t, true};
    }
    /* input: each want column present (mostly), with a type that is usually compatible;
     * sometimes an extra column */
    const char *in_names[10];
    ms_datatype in_types[10];
    int in_of_want[8];
    int ni = 0;
    for (int i = 0; i < nw; i++) {
      in_of_want[i] = -1;
      if (rnd() % 20 == 0) continue;
      ms_datatype t = want[i].type;
      if (rnd() % 3 == 0) t = T[rnd() % (uint64_t)NT];
      in_of_want[i] = ni;
      in_names[ni] = wn[i];
      in_types[ni++] = t;
    }
    int extra_at = -1;
    if (rnd() % 15 == 0) {
      extra_at = ni;
      in_names[ni] = pool_names[perm[nw]];
      in_types[ni++] = ms_type(MS_TYPE_INT64);
    }
    /* shuffle the input's column order */
    int order[10];
    for (int i = 0; i < ni; i++) order[i] = i;
    for (int i = ni - 1; i > 0; i--) {
      int j = (int)(rnd() % (uint64_t)(i + 1)), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    int64_t rows = (int64_t)(rnd() % 6);
    val vals[10][8];
    for (int c = 0; c < ni; c++) {
      val smp[64];
      int ns = samples(&in_types[c], smp);
      for (int64_t r = 0; r < rows; r++) {
        /* mostly non-null in-range values, so that whole tables often pass */
        int k = rnd() % 4 == 0 ? (int)(rnd() % (uint64_t)ns) : (ns > 2 ? 1 + (int)(rnd() % 2) : 0);
        vals[c][r] = smp[k];
      }
    }
    ms_column *cols[10];
    const char *on[10];
    ms_datatype ot[10];
    for (int i = 0; i < ni; i++) {
      cols[i] = make_col(&in_types[order[i]], vals[order[i]], (int)rows);
      on[i] = in_names[order[i]];
      ot[i] = in_types[order[i]];
    }
    ms_table *in = make_table(on, ot, cols, ni);
    CHECK(in);
    const char *nn[8];
    int n_nn = 0;
    for (int i = 0; i < nw; i++)
      if (rnd() % 3 == 0) nn[n_nn++] = wn[i];

    /* the model */
    char *missing[8], *extra[2], *mistyped[8];
    int nm = 0, ne = 0, nt = 0;
    char mt[8][160];
    for (int i = 0; i < nw; i++) {
      if (in_of_want[i] < 0) {
        missing[nm++] = wn[i];
        continue;
      }
      const ms_datatype *g = &in_types[in_of_want[i]];
      if (!model_compatible(g, &want[i].type)) {
        char gs[64], ws[64];
        snprintf(mt[nt], sizeof mt[nt], "%s: got %s, want %s", wn[i], ms_type_to_string(g, gs, sizeof gs),
                 ms_type_to_string(&want[i].type, ws, sizeof ws));
        mistyped[nt] = mt[nt];
        nt++;
      }
    }
    if (extra_at >= 0) extra[ne++] = (char *)in_names[extra_at];
    ms_table *out = NULL;
    ms_error err;
    ms_error_init(&err);
    ms_status st = wr_conform(in, want, nw, "W", "I", nn, n_nn, NULL, 0, &out, &err);
    if (nm || ne || nt) {
      char msg[1024] = "W: ";
      const char *sep = "";
      if (nm) { strcat(msg, "missing columns: "); join_sorted(msg, sizeof msg, missing, nm); sep = "; "; }
      if (ne) { strcat(msg, sep); strcat(msg, "extra columns: "); join_sorted(msg, sizeof msg, extra, ne); sep = "; "; }
      if (nt) { strcat(msg, sep); strcat(msg, "mistyped columns: "); join_sorted(msg, sizeof msg, mistyped, nt); }
      CHECK_EQ_INT(st, nm || ne ? MS_ERR_INVALID : MS_ERR_TYPE);
      CHECK_STR(err.message, msg);
      ms_table_release(in);
      continue;
    }
    /* row checks: lowest row, then want order */
    int64_t bad_row = -1;
    int bad_col = -1;
    val exp[8][8];
    for (int64_t r = 0; r < rows && bad_row < 0; r++)
      for (int i = 0; i < nw; i++) {
        int c = in_of_want[i];
        bool must = false;
        for (int k = 0; k < n_nn; k++) must |= !strcmp(nn[k], wn[i]);
        bool ok = model_value(&in_types[c], &want[i].type, &vals[c][r], &exp[i][r]);
        if (!ok || (must && exp[i][r].null)) {
          bad_row = r;
          bad_col = i;
          break;
        }
      }
    if (bad_row >= 0) {
      {
        char gs_[64], ws_[64];
        CHECK_MSG(st == MS_ERR_INVALID, "iter %d: expected row %lld col %s (%s -> %s, value %lld null %d), got %d %s", iter,
                  (long long)bad_row + 1, wn[bad_col],
                  ms_type_to_string(&in_types[in_of_want[bad_col]], gs_, sizeof gs_),
                  ms_type_to_string(&want[bad_col].type, ws_, sizeof ws_),
                  (long long)vals[in_of_want[bad_col]][bad_row].i, vals[in_of_want[bad_col]][bad_row].null, st, err.message);
      }
      CHECK_EQ_INT(err.row, bad_row + 1);
      CHECK_STR(err.column, wn[bad_col]);
      char prefix[64];
      snprintf(prefix, sizeof prefix, "I: row %lld, column '%s': ", (long long)bad_row + 1, wn[bad_col]);
      CHECK_MSG(!strncmp(err.message, prefix, strlen(prefix)), "%s vs %s", err.message, prefix);
    } else {
      CHECK_MSG(st == MS_OK, "iter %d: %s", iter, err.message);
      CHECK_EQ_INT(ms_table_num_columns(out), nw);
      CHECK_EQ_INT(ms_table_num_rows(out), rows);
      for (int i = 0; i < nw; i++) {
        CHECK_STR(ms_table_field(out, i)->name, wn[i]);
        CHECK(ms_type_equal(&ms_table_field(out, i)->type, &want[i].type));
        for (int64_t r = 0; r < rows; r++)
          CHECK_MSG(value_is(ms_table_column(out, i), r, &want[i].type, &exp[i][r]), "iter %d col %s row %lld", iter,
                    wn[i], (long long)r);
      }
      ms_table_release(out);
    }
    ms_table_release(in);
  }
}

/* ---- wr_read_input ---- */

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static void test_read_input(void) {
  char path[1200];
  ms_datatype ts = ms_type_timestamp(MS_UNIT_MICRO, "UTC"), i64 = ms_type(MS_TYPE_INT64);
  ms_field want[] = {{"driver_id", i64, false}, {"event_timestamp", ts, false}, {"rate", ms_type(MS_TYPE_FLOAT64), true}};
  snprintf(path, sizeof path, "%s/in.csv", ms_test_tmpdir());
  /* naive text is UTC, offsets are converted; an extra column is read with an inferred type */
  write_text(path, "event_timestamp,driver_id,rate,note\n2024-01-01 00:00:00,1,0.5,a\n"
                   "2024-01-01T02:00:00+02:00,2,,b\n2024-01-02,3,1,c\n");
  ms_table *t = NULL;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(wr_read_input(path, want, 3, NULL, &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 3);
  int c = ms_table_find_column(t, "event_timestamp");
  CHECK(ms_type_equal(&ms_table_field(t, c)->type, &ts));
  CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, c), 0), 1704067200000000LL);
  CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, c), 1), 1704067200000000LL);
  CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, c), 2), 1704153600000000LL);
  CHECK(ms_table_find_column(t, "note") == 3);
  /* conform then reports the extra column */
  ms_table *out = NULL;
  ms_error_init(&err);
  CHECK(wr_conform(t, want, 3, "W", "in.csv", NULL, 0, NULL, 0, &out, &err) == MS_ERR_INVALID);
  CHECK_STR(err.message, "W: extra columns: [note]");
  ms_table_release(t);
  /* an unparseable timestamp: the CSV reader names the line and column */
  write_text(path, "event_timestamp,driver_id,rate\n2024-01-01 00:00:00,1,0.5\n2024-13-01 00:00:00,2,1\n");
  ms_error_init(&err);
  CHECK(wr_read_input(path, want, 3, NULL, &t, &err) != MS_OK);
  CHECK_STR(err.column, "event_timestamp");
  CHECK_EQ_INT(err.row, 3);
  /* a wrong type: text in an int column */
  write_text(path, "event_timestamp,driver_id,rate\n2024-01-01 00:00:00,abc,0.5\n");
  ms_error_init(&err);
  CHECK(wr_read_input(path, want, 3, NULL, &t, &err) != MS_OK);
  CHECK_STR(err.column, "driver_id");
  CHECK_EQ_INT(err.row, 2);
  /* Parquet: read as stored (timestamp[ns] naive here), then conformed */
  snprintf(path, sizeof path, "%s/in.parquet", ms_test_tmpdir());
  ms_datatype tns = ms_type_timestamp(MS_UNIT_NANO, "");
  val tv[2] = {{.i = 1704067200000000000LL}, {.i = 1704067200000001000LL}};
  val kv[2] = {{.i = 7}, {.i = 8}};
  const char *names[] = {"event_timestamp", "driver_id"};
  ms_datatype types[] = {tns, ms_type(MS_TYPE_INT32)};
  ms_column *cols[] = {make_col(&tns, tv, 2), make_col(&types[1], kv, 2)};
  ms_table *pt = make_table(names, types, cols, 2);
  CHECK_OK(ms_pq_write_table(NULL, path, pt, NULL, &err), &err);
  ms_table_release(pt);
  ms_error_init(&err);
  CHECK_OK(wr_read_input(path, want, 3, NULL, &t, &err), &err);
  CHECK(ms_type_equal(&ms_table_field(t, 0)->type, &tns));
  const char *opt[] = {"rate"};
  CHECK_OK(wr_conform(t, want, 3, "W", "in.parquet", NULL, 0, opt, 1, &out, &err), &err);
  CHECK_EQ_INT(ms_column_get_i64(ms_table_column(out, 1), 1), 1704067200000001LL);
  CHECK_EQ_INT(ms_column_get_i64(ms_table_column(out, 0), 1), 8);
  ms_table_release(out);
  ms_table_release(t);
  /* unknown extension */
  ms_error_init(&err);
  CHECK(wr_read_input("/tmp/x.json", want, 3, NULL, &t, &err) == MS_ERR_INVALID);
}

MS_TEST_MAIN(MS_TEST(test_type_pairs), MS_TEST(test_error_texts), MS_TEST(test_order_and_optional),
             MS_TEST(test_random_tables), MS_TEST(test_read_input))
