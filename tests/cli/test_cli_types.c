/* `morsel cat` and `morsel schema --json` on a Parquet file holding every core type, with
 * the expected output spelled out by hand: exact integers at the int64/uint64 limits,
 * shortest floats, NaN/Infinity as strings, timestamps of every unit with and without a
 * time zone, dates, decimals, base64 binary, JSON escapes and invalid UTF-8 (replaced by
 * U+FFFD). Parquet has no seconds unit, so timestamp[s] comes back as timestamp[ms] (the
 * writer's documented mapping) and prints three fraction digits. The file is written with ms_pq_write_table; the morsel binary is found next to
 * the build's tests directory (or through $MORSEL). */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "morsel/alloc.h"
#include "morsel/parquet.h"
#include "ms_test.h"

static const char *morsel_bin(void) {
  static char path[4200];
  const char *env = getenv("MORSEL");
  if (env && *env) return env;
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return "morsel";
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash) *slash = '\0';
  snprintf(path, sizeof path, "%s/../morsel", exe);
  return path;
}

/* Runs a shell command and returns its stdout (static buffer) and exit status. */
static const char *run(const char *cmd, int *status) {
  static char out[1 << 16];
  FILE *p = popen(cmd, "r");
  size_t n = 0;
  if (p) {
    size_t k;
    while ((k = fread(out + n, 1, sizeof out - 1 - n, p)) > 0) n += k;
    int rc = pclose(p);
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  } else {
    *status = -1;
  }
  out[n] = '\0';
  return out;
}

typedef struct col_spec {
  const char *name;
  ms_datatype type;
} col_spec;

enum { N_ROWS = 4 };

static ms_status build(ms_table **out, ms_error *err) {
  col_spec specs[] = {
      {"b", ms_type(MS_TYPE_BOOL)},          {"i8", ms_type(MS_TYPE_INT8)},
      {"i16", ms_type(MS_TYPE_INT16)},       {"i32", ms_type(MS_TYPE_INT32)},
      {"i64", ms_type(MS_TYPE_INT64)},       {"u8", ms_type(MS_TYPE_UINT8)},
      {"u16", ms_type(MS_TYPE_UINT16)},      {"u32", ms_type(MS_TYPE_UINT32)},
      {"u64", ms_type(MS_TYPE_UINT64)},      {"f32", ms_type(MS_TYPE_FLOAT32)},
      {"f64", ms_type(MS_TYPE_FLOAT64)},     {"s", ms_type(MS_TYPE_UTF8)},
      {"bin", ms_type(MS_TYPE_BINARY)},      {"d", ms_type(MS_TYPE_DATE32)},
      {"ts_s", ms_type_timestamp(MS_UNIT_SECOND, NULL)},
      {"ts_ms", ms_type_timestamp(MS_UNIT_MILLI, NULL)},
      {"ts_us", ms_type_timestamp(MS_UNIT_MICRO, NULL)},
      {"ts_ns", ms_type_timestamp(MS_UNIT_NANO, NULL)},
      {"ts_us_utc", ms_type_timestamp(MS_UNIT_MICRO, "UTC")},
      {"dec", ms_type_decimal128(5, 2)},     {"dec38", ms_type_decimal128(38, 10)},
      {"fb", ms_type_fixed_binary(3)},
  };
  enum { N = sizeof specs / sizeof specs[0] };
  ms_field fields[N];
  ms_column *cols[N] = {0};
  ms_column_builder *b[N] = {0};
  ms_status st = MS_OK;
  for (int i = 0; i < N && !st; i++) {
    fields[i] = (ms_field){(char *)specs[i].name, specs[i].type, true};
    st = ms_column_builder_create(&specs[i].type, N_ROWS, &b[i], err);
  }
  if (st) return st;
  /* 128-bit little-endian decimals. */
  uint8_t d_m1230[16], d_5[16], d_big[16], d_m1[16];
  memset(d_m1230, 0xff, 16);
  int64_t v = -1230;
  memcpy(d_m1230, &v, 8);
  memset(d_5, 0, 16);
  d_5[0] = 5;
  memset(d_m1, 0xff, 16);
  /* 123456789012345678901234567890 = 0x18EE90FF6C373E0EE4E3F0AD2 */
  unsigned __int128 big = ((unsigned __int128)0x18EE90FF6ULL << 64) | 0xC373E0EE4E3F0AD2ULL;
  memcpy(d_big, &big, 16);

  /* row 0 */
  ms_builder_append_bool(b[0], true);
  ms_builder_append_i64(b[1], -128);
  ms_builder_append_i64(b[2], -32768);
  ms_builder_append_i64(b[3], INT32_MIN);
  ms_builder_append_i64(b[4], INT64_MIN);
  ms_builder_append_i64(b[5], 255);
  ms_builder_append_i64(b[6], 65535);
  ms_builder_append_u64(b[7], 4294967295u);
  ms_builder_append_u64(b[8], UINT64_MAX);
  ms_builder_append_f64(b[9], 0.1f);
  ms_builder_append_f64(b[10], 0.1);
  const char s0[] = "he said \"hi\"\n\t\x01 \xc3\xa9 \\ /";
  ms_builder_append_bytes(b[11], s0, (int64_t)strlen(s0));
  const uint8_t bin0[] = {0, 1, 2, 255};
  ms_builder_append_bytes(b[12], bin0, 4);
  ms_builder_append_i64(b[13], 19727);
  ms_builder_append_i64(b[14], 0);
  ms_builder_append_i64(b[15], -1);
  ms_builder_append_i64(b[16], 1704067200123456LL);
  ms_builder_append_i64(b[17], 1);
  ms_builder_append_i64(b[18], 1704067200000000LL);
  ms_builder_append_bytes(b[19], d_m1230, 16);
  ms_builder_append_bytes(b[20], d_big, 16);
  ms_builder_append_bytes(b[21], "abc", 3);
  /* row 1 */
  ms_builder_append_bool(b[0], false);
  ms_builder_append_i64(b[1], 127);
  ms_builder_append_i64(b[2], 32767);
  ms_builder_append_i64(b[3], INT32_MAX);
  ms_builder_append_i64(b[4], INT64_MAX);
  ms_builder_append_i64(b[5], 0);
  ms_builder_append_i64(b[6], 0);
  ms_builder_append_u64(b[7], 0);
  ms_builder_append_u64(b[8], 0);
  ms_builder_append_f64(b[9], NAN);
  ms_builder_append_f64(b[10], INFINITY);
  ms_builder_append_bytes(b[11], "\xff\xc3(", 3);
  ms_builder_append_bytes(b[12], "", 0);
  ms_builder_append_i64(b[13], -1);
  ms_builder_append_i64(b[14], 253402300799LL);
  ms_builder_append_i64(b[15], 1);
  ms_builder_append_i64(b[16], -1);
  ms_builder_append_i64(b[17], -1);
  ms_builder_append_i64(b[18], 0);
  ms_builder_append_bytes(b[19], d_5, 16);
  ms_builder_append_bytes(b[20], d_m1, 16);
  ms_builder_append_bytes(b[21], "\0\0\0", 3);
  /* row 2: nulls except the floats */
  for (int i = 0; i < N; i++) {
    if (i == 9) ms_builder_append_f64(b[i], FLT_MAX);
    else if (i == 10) ms_builder_append_f64(b[i], 5e-324);
    else ms_builder_append_null(b[i]);
  }
  /* row 3 */
  for (int i = 0; i < N; i++) {
    if (i == 9) ms_builder_append_f64(b[i], FLT_TRUE_MIN);
    else if (i == 10) ms_builder_append_f64(b[i], -INFINITY);
    else if (i == 11) ms_builder_append_bytes(b[i], "", 0);
    else ms_builder_append_null(b[i]);
  }
  for (int i = 0; i < N && !st; i++) st = ms_builder_finish(b[i], &cols[i], err);
  if (!st) st = ms_table_create(fields, cols, N, out, err);
  for (int i = 0; i < N; i++) {
    ms_column_release(cols[i]);
    ms_column_builder_destroy(b[i]);
  }
  return st;
}

static const char *k_expected_jsonl =
    "{\"b\":true,\"i8\":-128,\"i16\":-32768,\"i32\":-2147483648,\"i64\":-9223372036854775808,"
    "\"u8\":255,\"u16\":65535,\"u32\":4294967295,\"u64\":18446744073709551615,\"f32\":0.1,\"f64\":0.1,"
    "\"s\":\"he said \\\"hi\\\"\\n\\t\\u0001 \xc3\xa9 \\\\ /\",\"bin\":\"AAEC/w==\",\"d\":\"2024-01-05\","
    "\"ts_s\":\"1970-01-01T00:00:00.000\",\"ts_ms\":\"1969-12-31T23:59:59.999\","
    "\"ts_us\":\"2024-01-01T00:00:00.123456\",\"ts_ns\":\"1970-01-01T00:00:00.000000001\","
    "\"ts_us_utc\":\"2024-01-01T00:00:00.000000Z\",\"dec\":\"-12.30\","
    "\"dec38\":\"12345678901234567890.1234567890\",\"fb\":\"YWJj\"}\n"
    "{\"b\":false,\"i8\":127,\"i16\":32767,\"i32\":2147483647,\"i64\":9223372036854775807,"
    "\"u8\":0,\"u16\":0,\"u32\":0,\"u64\":0,\"f32\":\"NaN\",\"f64\":\"Infinity\","
    "\"s\":\"\xef\xbf\xbd\xef\xbf\xbd(\",\"bin\":\"\",\"d\":\"1969-12-31\","
    "\"ts_s\":\"9999-12-31T23:59:59.000\",\"ts_ms\":\"1970-01-01T00:00:00.001\","
    "\"ts_us\":\"1969-12-31T23:59:59.999999\",\"ts_ns\":\"1969-12-31T23:59:59.999999999\","
    "\"ts_us_utc\":\"1970-01-01T00:00:00.000000Z\",\"dec\":\"0.05\",\"dec38\":\"-0.0000000001\","
    "\"fb\":\"AAAA\"}\n"
    "{\"b\":null,\"i8\":null,\"i16\":null,\"i32\":null,\"i64\":null,\"u8\":null,\"u16\":null,"
    "\"u32\":null,\"u64\":null,\"f32\":3.4028235e+38,\"f64\":5e-324,\"s\":null,\"bin\":null,"
    "\"d\":null,\"ts_s\":null,\"ts_ms\":null,\"ts_us\":null,\"ts_ns\":null,\"ts_us_utc\":null,"
    "\"dec\":null,\"dec38\":null,\"fb\":null}\n"
    "{\"b\":null,\"i8\":null,\"i16\":null,\"i32\":null,\"i64\":null,\"u8\":null,\"u16\":null,"
    "\"u32\":null,\"u64\":null,\"f32\":1e-45,\"f64\":\"-Infinity\",\"s\":\"\",\"bin\":null,"
    "\"d\":null,\"ts_s\":null,\"ts_ms\":null,\"ts_us\":null,\"ts_ns\":null,\"ts_us_utc\":null,"
    "\"dec\":null,\"dec38\":null,\"fb\":null}\n";

static char g_file[2048];

static const char *fixture(void) {
  if (g_file[0]) return g_file;
  snprintf(g_file, sizeof g_file, "%s/types.parquet", ms_test_tmpdir());
  ms_error err;
  ms_error_init(&err);
  ms_table *t = NULL;
  if (build(&t, &err) || ms_pq_write_table(NULL, g_file, t, NULL, &err)) {
    char buf[2048];
    fprintf(stderr, "fixture: %s\n", ms_error_format(&err, buf, sizeof buf));
  }
  ms_table_release(t);
  return g_file;
}

static void test_jsonl_every_type(void) {
  char cmd[8192];
  int rc;
  snprintf(cmd, sizeof cmd, "'%s' cat '%s' --format jsonl", morsel_bin(), fixture());
  const char *out = run(cmd, &rc);
  CHECK_EQ_INT(rc, 0);
  CHECK_STR(out, k_expected_jsonl);
  /* Not a terminal: jsonl is the default. */
  snprintf(cmd, sizeof cmd, "'%s' cat '%s' | head -c 100000", morsel_bin(), fixture());
  out = run(cmd, &rc);
  CHECK_STR(out, k_expected_jsonl);
}

static void test_projection_head_and_csv(void) {
  char cmd[8192];
  int rc;
  snprintf(cmd, sizeof cmd, "'%s' cat '%s' --columns u64,i8,s --head 2", morsel_bin(), fixture());
  CHECK_STR(run(cmd, &rc),
            "{\"u64\":18446744073709551615,\"i8\":-128,\"s\":\"he said \\\"hi\\\"\\n\\t\\u0001 \xc3\xa9 \\\\ /\"}\n"
            "{\"u64\":0,\"i8\":127,\"s\":\"\xef\xbf\xbd\xef\xbf\xbd(\"}\n");
  CHECK_EQ_INT(rc, 0);
  snprintf(cmd, sizeof cmd, "'%s' cat '%s' --columns i64,f64,dec,d,bin,s --format csv", morsel_bin(), fixture());
  CHECK_STR(run(cmd, &rc),
            "i64,f64,dec,d,bin,s\n"
            "-9223372036854775808,0.1,-12.30,2024-01-05,AAEC/w==,\"he said \"\"hi\"\"\n\t\x01 \xc3\xa9 \\ /\"\n"
            "9223372036854775807,Infinity,0.05,1969-12-31,\"\",\xff\xc3(\n"
            ",5e-324,,,,\n"
            ",-Infinity,,,,\"\"\n");
  CHECK_EQ_INT(rc, 0);
  snprintf(cmd, sizeof cmd, "'%s' cat '%s' --columns i8,s,f32 --format table --head 3", morsel_bin(), fixture());
  CHECK_STR(run(cmd, &rc),
            "  i8  s                                        f32\n"
            "----  -----------------------------  -------------\n"
            "-128  he said \"hi\"\\n\\t\\u0001 \xc3\xa9 \\\\ /            0.1\n"
            " 127  \xef\xbf\xbd\xef\xbf\xbd(                                      NaN\n"
            "null  null                           3.4028235e+38\n");
  snprintf(cmd, sizeof cmd, "'%s' cat '%s' --head 0 --format csv --columns b", morsel_bin(), fixture());
  CHECK_STR(run(cmd, &rc), "b\n");
  snprintf(cmd, sizeof cmd, "'%s' cat '%s' --columns nope 2>&1", morsel_bin(), fixture());
  const char *out = run(cmd, &rc);
  CHECK_EQ_INT(rc, 1);
  CHECK_MSG(strstr(out, "morsel: ") == out && strstr(out, "column 'nope'"), "%s", out);
}

static void test_schema_statistics(void) {
  char cmd[8192];
  int rc;
  snprintf(cmd, sizeof cmd, "'%s' schema '%s' --json", morsel_bin(), fixture());
  const char *out = run(cmd, &rc);
  CHECK_EQ_INT(rc, 0);
  CHECK(strstr(out, "{\"name\":\"i64\",\"type\":\"int64\",\"nullable\":true,\"partition\":false}"));
  CHECK(strstr(out, "{\"name\":\"ts_us_utc\",\"type\":\"timestamp[us, tz=UTC]\",\"nullable\":true,\"partition\":false}"));
  CHECK(strstr(out, "\"num_rows\":4"));
  CHECK_MSG(strstr(out, "\"null_count\":2,\"min\":-9223372036854775808,\"max\":9223372036854775807"), "%s", out);
  CHECK(strstr(out, "\"min\":0,\"max\":18446744073709551615"));
  CHECK(strstr(out, "\"min\":\"-12.30\",\"max\":\"0.05\""));
  CHECK(strstr(out, "\"min\":\"1969-12-31T23:59:59.999999\",\"max\":\"2024-01-01T00:00:00.123456\""));
  CHECK(strstr(out, "\"min\":\"1969-12-31\",\"max\":\"2024-01-05\""));
  CHECK(strstr(out, "\"compression\":\"zstd\""));
  snprintf(cmd, sizeof cmd, "'%s' schema '%s'", morsel_bin(), fixture());
  out = run(cmd, &rc);
  CHECK_EQ_INT(rc, 0);
  CHECK(strstr(out, "format: parquet\n"));
  CHECK(strstr(out, "rows: 4\n"));
  CHECK(strstr(out, "columns (22):\n"));
  CHECK(strstr(out, "row groups (1):\n"));
}

MS_TEST_MAIN(MS_TEST(test_jsonl_every_type), MS_TEST(test_projection_head_and_csv),
             MS_TEST(test_schema_statistics))
