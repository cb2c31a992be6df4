/* Tests of the CSV writer: the exact text for every type (quoting, nulls, float
 * shortest-round-trip, ISO timestamps, base64, decimals), and write -> read round trips of
 * random tables of every type, with explicit and with inferred schemas. */
#include <math.h>

#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/table.h"
#include "ms_test.h"

static uint64_t rng_state = 0xC0FFEE1234567ULL;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
  return rng_state;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static const char *tmp_path(const char *name) {
  static char path[1200];
  snprintf(path, sizeof path, "%s/%s", ms_test_tmpdir(), name);
  return path;
}

static void test_exact_text(void) {
  ms_error err;
  ms_error_init(&err);
  ms_field fields[] = {
    {"s,1", ms_type(MS_TYPE_UTF8), true},   {"f", ms_type(MS_TYPE_FLOAT64), true},
    {"b", ms_type(MS_TYPE_BOOL), true},     {"d", ms_type(MS_TYPE_DATE32), true},
    {"tz", ms_type_timestamp(MS_UNIT_MICRO, "UTC"), true},
    {"naive", ms_type_timestamp(MS_UNIT_NANO, ""), true},
    {"bin", ms_type(MS_TYPE_BINARY), true}, {"dec", ms_type_decimal128(9, 3), true},
    {"u", ms_type(MS_TYPE_UINT64), true},   {"f32", ms_type(MS_TYPE_FLOAT32), true},
  };
  enum { NC = 10 };
  ms_column_builder *b[NC];
  for (int c = 0; c < NC; c++) CHECK_OK(ms_column_builder_create(&fields[c].type, 4, &b[c], &err), &err);
  const char *strs[] = {"plain", "a,b", "say \"hi\"", "two\nlines", "cr\rlf", "", "NA", NULL};
  double fl[] = {0.1, 1.0 / 3, -0.0, 1e300, INFINITY, -INFINITY, NAN, 123456789012345678.0};
  for (int r = 0; r < 8; r++) {
    if (strs[r]) ms_builder_append_bytes(b[0], strs[r], (int64_t)strlen(strs[r]));
    else ms_builder_append_null(b[0]);
    ms_builder_append_f64(b[1], fl[r]);
    if (r == 7) ms_builder_append_null(b[2]); else ms_builder_append_bool(b[2], r & 1);
    ms_builder_append_i64(b[3], r == 0 ? 0 : r == 1 ? -1 : 19782 + r);
    ms_builder_append_i64(b[4], r == 0 ? 1704164645123456LL : -1);
    ms_builder_append_i64(b[5], r == 0 ? 1704164645000000007LL : INT64_MIN + r);
    const uint8_t bytes[] = {'h', 'e', 'l', 'l', 'o', 0xff};
    ms_builder_append_bytes(b[6], bytes, r % 7);
    uint8_t dec[16];
    int64_t dv = r == 0 ? -12500 : r == 1 ? 5 : 999999999;
    memcpy(dec, &dv, 8);
    int64_t sign = dv < 0 ? -1 : 0;
    memcpy(dec + 8, &sign, 8);
    ms_builder_append_bytes(b[7], dec, 16);
    ms_builder_append_u64(b[8], r == 0 ? UINT64_MAX : (uint64_t)r);
    ms_builder_append_f64(b[9], r == 0 ? 0.1f : 3.4028234663852886e38);
  }
  ms_column *cols[NC];
  for (int c = 0; c < NC; c++) {
    CHECK_OK(ms_builder_finish(b[c], &cols[c], &err), &err);
    ms_column_builder_destroy(b[c]);
  }
  ms_table *t;
  CHECK_OK(ms_table_create(fields, cols, NC, &t, &err), &err);
  for (int c = 0; c < NC; c++) ms_column_release(cols[c]);
  const char *path = tmp_path("exact.csv");
  CHECK_OK(ms_csv_write(NULL, path, t, NULL, &err), &err);
  const char *expect =
      "\"s,1\",f,b,d,tz,naive,bin,dec,u,f32\n"
      "plain,0.1,false,1970-01-01,2024-01-02T03:04:05.123456Z,2024-01-02T03:04:05.000000007,\"\",-12.500,18446744073709551615,0.1\n"
      "\"a,b\",0.3333333333333333,true,1969-12-31,1969-12-31T23:59:59.999999Z,1677-09-21T00:12:43.145224193,aA==,0.005,1,3.4028235e+38\n"
      "\"say \"\"hi\"\"\",-0,false,2024-03-02,1969-12-31T23:59:59.999999Z,1677-09-21T00:12:43.145224194,aGU=,999999.999,2,3.4028235e+38\n"
      "\"two\nlines\",1e+300,true,2024-03-03,1969-12-31T23:59:59.999999Z,1677-09-21T00:12:43.145224195,aGVs,999999.999,3,3.4028235e+38\n"
      "\"cr\rlf\",inf,false,2024-03-04,1969-12-31T23:59:59.999999Z,1677-09-21T00:12:43.145224196,aGVsbA==,999999.999,4,3.4028235e+38\n"
      "\"\",-inf,true,2024-03-05,1969-12-31T23:59:59.999999Z,1677-09-21T00:12:43.145224197,aGVsbG8=,999999.999,5,3.4028235e+38\n"
      "\"NA\",nan,false,2024-03-06,1969-12-31T23:59:59.999999Z,1677-09-21T00:12:43.145224198,aGVsbG//,999999.999,6,3.4028235e+38\n"
      ",1.2345678901234568e+17,,2024-03-07,1969-12-31T23:59:59.999999Z,1677-09-21T00:12:43.145224199,\"\",999999.999,7,3.4028235e+38\n";
  const char *got = slurp(path);
  CHECK(got);
  CHECK_STR(got, expect);
  /* it reads back as the same table */
  ms_csv_read_options o;
  ms_csv_read_options_init(&o);
  ms_field schema[NC];
  memcpy(schema, fields, sizeof schema);
  o.schema = schema;
  o.n_schema = NC;
  ms_table *back;
  CHECK_OK(ms_csv_read(NULL, path, &o, &back, &err), &err);
  for (int c = 0; c < NC; c++) CHECK_MSG(ms_column_equal(ms_table_column(back, c), ms_table_column(t, c)), "column %d", c);
  ms_table_release(back);

  /* tab delimiter and a custom null token */
  ms_csv_write_options wo;
  ms_csv_write_options_init(&wo);
  wo.delimiter = '\t';
  wo.null_value = "\\N";
  wo.header = false;
  ms_table *two;
  const char *names[] = {"s,1", "b"};
  CHECK_OK(ms_table_select(t, names, 2, &two, &err), &err);
  CHECK_OK(ms_csv_write(NULL, path, two, &wo, &err), &err);
  CHECK_STR(slurp(path), "plain\tfalse\na,b\ttrue\n\"say \"\"hi\"\"\"\tfalse\n\"two\nlines\"\ttrue\n\"cr\rlf\"\tfalse\n"
                         "\"\"\ttrue\n\"NA\"\tfalse\n\\N\t\\N\n");
  ms_table_release(two);
  wo.delimiter = '\n';
  CHECK_EQ_INT(ms_csv_write(NULL, path, t, &wo, &err), MS_ERR_INVALID);
  ms_table_release(t);
}

/* A random column of `type` with about 10% nulls. */
static ms_status random_column(const ms_datatype *type, int64_t n, ms_column **out, ms_error *err) {
  ms_column_builder *b;
  ms_status st = ms_column_builder_create(type, n, &b, err);
  if (st) return st;
  static const char *alphabet[] = {"a", "Z", ",", "\"", "\n", "\r\n", " ", "\xc3\xa9", "\xf0\x9f\x98\x80", "NA", "0", "\t"};
  for (int64_t i = 0; i < n && !st; i++) {
    if (rnd() % 10 == 0) { st = ms_builder_append_null(b); continue; }
    uint64_t x = rnd();
    switch (type->id) {
      case MS_TYPE_BOOL: st = ms_builder_append_bool(b, x & 1); break;
      case MS_TYPE_INT8: case MS_TYPE_INT16: case MS_TYPE_INT32: case MS_TYPE_INT64:
      case MS_TYPE_UINT8: case MS_TYPE_UINT16: case MS_TYPE_UINT32:
        if (x % 50 == 0) x = x & 1 ? 0 : UINT64_MAX;
        st = ms_builder_append_i64(b, (int64_t)x); /* the builder truncates to the width */
        break;
      case MS_TYPE_UINT64: st = ms_builder_append_u64(b, x % 50 == 0 ? UINT64_MAX : x); break;
      case MS_TYPE_FLOAT32: case MS_TYPE_FLOAT64: {
        double d;
        if (x % 7 == 0) { uint64_t bits = x & 0x7FEFFFFFFFFFFFFFULL; memcpy(&d, &bits, 8); }
        else if (x % 7 == 1) d = (double)(int64_t)(x >> 20) / 1000.0;
        else if (x % 7 == 2) d = x % 3 == 0 ? INFINITY : x % 3 == 1 ? -INFINITY : NAN;
        else d = (double)(int64_t)x * 1e-9;
        if (type->id == MS_TYPE_FLOAT32) d = (double)(float)d;
        st = ms_builder_append_f64(b, d);
        break;
      }
      case MS_TYPE_DATE32: st = ms_builder_append_i64(b, (int64_t)(x % 2900000) - 719000); break;
      case MS_TYPE_TIMESTAMP: {
        int64_t per = type->unit == MS_UNIT_SECOND ? 1 : type->unit == MS_UNIT_MILLI ? 1000
                    : type->unit == MS_UNIT_MICRO ? 1000000 : 1000000000;
        int64_t v = type->unit == MS_UNIT_NANO ? (int64_t)x
                  : ((int64_t)(x % 250000000000ULL) - 62000000000LL) * per + (int64_t)((x >> 40) % (uint64_t)per);
        st = ms_builder_append_i64(b, v);
        break;
      }
      case MS_TYPE_DECIMAL128: {
        unsigned __int128 lim = 1;
        for (int k = 0; k < type->precision; k++) lim *= 10;
        unsigned __int128 u = ((unsigned __int128)rnd() << 64 | rnd()) % lim;
        if (x & 1) u = (unsigned __int128)0 - u;
        uint8_t v[16];
        for (int k = 0; k < 16; k++) v[k] = (uint8_t)(u >> (8 * k));
        st = ms_builder_append_bytes(b, v, 16);
        break;
      }
      case MS_TYPE_UTF8: case MS_TYPE_LARGE_UTF8: {
        char s[256];
        size_t len = 0;
        int parts = (int)(x % 8);
        for (int p = 0; p < parts; p++) {
          const char *a = alphabet[rnd() % 12];
          memcpy(s + len, a, strlen(a));
          len += strlen(a);
        }
        st = ms_builder_append_bytes(b, s, (int64_t)len);
        break;
      }
      case MS_TYPE_BINARY: case MS_TYPE_LARGE_BINARY: case MS_TYPE_FIXED_BINARY: {
        uint8_t s[64];
        int64_t len = type->id == MS_TYPE_FIXED_BINARY ? type->byte_width : (int64_t)(x % 20);
        for (int64_t k = 0; k < len; k++) s[k] = (uint8_t)rnd();
        st = ms_builder_append_bytes(b, s, len);
        break;
      }
      default: st = MS_ERR_UNSUPPORTED;
    }
  }
  if (!st) st = ms_builder_finish(b, out, err);
  ms_column_builder_destroy(b);
  return st;
}

static void test_round_trip_every_type(void) {
  ms_field fields[] = {
    {"bool", ms_type(MS_TYPE_BOOL), true},        {"i8", ms_type(MS_TYPE_INT8), true},
    {"i16", ms_type(MS_TYPE_INT16), true},        {"i32", ms_type(MS_TYPE_INT32), true},
    {"i64", ms_type(MS_TYPE_INT64), true},        {"u8", ms_type(MS_TYPE_UINT8), true},
    {"u16", ms_type(MS_TYPE_UINT16), true},       {"u32", ms_type(MS_TYPE_UINT32), true},
    {"u64", ms_type(MS_TYPE_UINT64), true},       {"f32", ms_type(MS_TYPE_FLOAT32), true},
    {"f64", ms_type(MS_TYPE_FLOAT64), true},      {"utf8", ms_type(MS_TYPE_UTF8), true},
    {"large utf8", ms_type(MS_TYPE_LARGE_UTF8), true}, {"bin", ms_type(MS_TYPE_BINARY), true},
    {"lbin", ms_type(MS_TYPE_LARGE_BINARY), true}, {"date", ms_type(MS_TYPE_DATE32), true},
    {"ts_s", ms_type_timestamp(MS_UNIT_SECOND, ""), true},
    {"ts_ms", ms_type_timestamp(MS_UNIT_MILLI, "UTC"), true},
    {"ts_us", ms_type_timestamp(MS_UNIT_MICRO, "UTC"), true},
    {"ts_ns", ms_type_timestamp(MS_UNIT_NANO, ""), true},
    {"dec", ms_type_decimal128(38, 10), true},   {"dec0", ms_type_decimal128(5, 0), true},
    {"fixed", ms_type_fixed_binary(5), true},
  };
  enum { NC = sizeof fields / sizeof *fields };
  ms_error err;
  ms_error_init(&err);
  for (int round = 0; round < 4; round++) {
    int64_t rows = round == 0 ? 0 : round == 1 ? 1 : 1500;
    ms_column *cols[NC];
    for (int c = 0; c < NC; c++) CHECK_OK(random_column(&fields[c].type, rows, &cols[c], &err), &err);
    ms_table *t;
    CHECK_OK(ms_table_create(fields, cols, NC, &t, &err), &err);
    for (int c = 0; c < NC; c++) ms_column_release(cols[c]);
    const char *path = tmp_path("rt.csv");
    ms_csv_write_options wo;
    ms_csv_write_options_init(&wo);
    if (round == 3) { wo.delimiter = ';'; wo.null_value = "NULL"; }
    CHECK_OK(ms_csv_write(NULL, path, t, &wo, &err), &err);
    ms_csv_read_options o;
    ms_csv_read_options_init(&o);
    o.schema = fields;
    o.n_schema = NC;
    o.delimiter = wo.delimiter;
    o.chunk_bytes = round == 2 ? 300 : o.chunk_bytes;
    ms_table *back;
    CHECK_OK(ms_csv_read(NULL, path, &o, &back, &err), &err);
    CHECK_EQ_INT(ms_table_num_rows(back), rows);
    CHECK_EQ_INT(ms_table_num_columns(back), NC);
    for (int c = 0; c < NC; c++)
      CHECK_MSG(ms_column_equal(ms_table_column(back, c), ms_table_column(t, c)), "round %d column %s", round, fields[c].name);
    ms_table_release(back);
    ms_table_release(t);
  }
}

/* Inferable types come back with the same type and values without any schema. */
static void test_round_trip_inferred(void) {
  ms_field fields[] = {
    {"i64", ms_type(MS_TYPE_INT64), true},   {"f64", ms_type(MS_TYPE_FLOAT64), true},
    {"bool", ms_type(MS_TYPE_BOOL), true},   {"date", ms_type(MS_TYPE_DATE32), true},
    {"tz", ms_type_timestamp(MS_UNIT_NANO, "UTC"), true},
    {"naive", ms_type_timestamp(MS_UNIT_NANO, ""), true},
    {"s", ms_type(MS_TYPE_UTF8), true},
  };
  enum { NC = sizeof fields / sizeof *fields };
  ms_error err;
  ms_error_init(&err);
  ms_column *cols[NC];
  for (int c = 0; c < NC; c++) CHECK_OK(random_column(&fields[c].type, 2000, &cols[c], &err), &err);
  ms_table *t;
  CHECK_OK(ms_table_create(fields, cols, NC, &t, &err), &err);
  for (int c = 0; c < NC; c++) ms_column_release(cols[c]);
  const char *path = tmp_path("inferred.csv");
  CHECK_OK(ms_csv_write(NULL, path, t, NULL, &err), &err);
  ms_csv_read_options o;
  ms_csv_read_options_init(&o);
  o.infer_rows = 0;
  ms_table *back;
  CHECK_OK(ms_csv_read(NULL, path, &o, &back, &err), &err);
  for (int c = 0; c < NC; c++) {
    char a[96], b[96];
    ms_type_to_string(&ms_table_field(back, c)->type, a, sizeof a);
    ms_type_to_string(&fields[c].type, b, sizeof b);
    CHECK_STR(a, b);
    CHECK_MSG(ms_column_equal(ms_table_column(back, c), ms_table_column(t, c)), "column %s", fields[c].name);
  }
  ms_table_release(back);
  ms_table_release(t);
}

/* A one-column table: nulls are blank lines and empty strings are "" (both survive). */
static void test_single_column_nulls(void) {
  ms_error err;
  ms_error_init(&err);
  ms_datatype ty = ms_type(MS_TYPE_UTF8);
  ms_column_builder *b;
  CHECK_OK(ms_column_builder_create(&ty, 4, &b, &err), &err);
  ms_builder_append_bytes(b, "x", 1);
  ms_builder_append_null(b);
  ms_builder_append_bytes(b, "", 0);
  ms_builder_append_null(b);
  ms_column *col;
  CHECK_OK(ms_builder_finish(b, &col, &err), &err);
  ms_column_builder_destroy(b);
  ms_field f = {"only", ty, true};
  ms_table *t;
  CHECK_OK(ms_table_create(&f, &col, 1, &t, &err), &err);
  ms_column_release(col);
  const char *path = tmp_path("single.csv");
  CHECK_OK(ms_csv_write(NULL, path, t, NULL, &err), &err);
  CHECK_STR(slurp(path), "only\nx\n\n\"\"\n\n");
  ms_table *back;
  CHECK_OK(ms_csv_read(NULL, path, NULL, &back, &err), &err);
  CHECK(ms_column_equal(ms_table_column(back, 0), ms_table_column(t, 0)));
  ms_table_release(back);
  ms_table_release(t);
}

MS_TEST_MAIN(MS_TEST(test_exact_text), MS_TEST(test_round_trip_every_type), MS_TEST(test_round_trip_inferred),
             MS_TEST(test_single_column_nulls))
