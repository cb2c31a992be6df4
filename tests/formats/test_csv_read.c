/* Tests of the CSV reader: RFC 4180 cases, null tokens, type inference and explicit
 * types, error messages for bad input (file, line, column, text), projection, and
 * independence of the result from chunk size and thread count. Expected values are
 * written out by hand or computed independently (timegm, strtod). */
#include <math.h>
#include <time.h>

#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/table.h"
#include "morsel/threadpool.h"
#include "ms_test.h"

static ms_status parse_opts(const char *text, const ms_csv_read_options *o, ms_table **t, ms_error *err) {
  ms_error_init(err);
  return ms_csv_read_buffer((const uint8_t *)text, (int64_t)strlen(text), "t.csv", o, t, err);
}

static ms_status parse(const char *text, ms_table **t, ms_error *err) {
  return parse_opts(text, NULL, t, err);
}

static const char *type_name(const ms_table *t, int c) {
  static char buf[8][96];
  static int k;
  k = (k + 1) % 8;
  return ms_type_to_string(&ms_table_field(t, c)->type, buf[k], sizeof buf[k]);
}

static bool str_is(const ms_table *t, int c, int64_t r, const char *s) {
  const ms_column *col = ms_table_column(t, c);
  if (ms_column_is_null(col, r)) return false;
  int64_t len;
  const uint8_t *p = ms_column_get_bytes(col, r, &len);
  return (size_t)len == strlen(s) && memcmp(p, s, (size_t)len) == 0;
}

static bool is_null(const ms_table *t, int c, int64_t r) {
  return ms_column_is_null(ms_table_column(t, c), r);
}

static int64_t i64_at(const ms_table *t, int c, int64_t r) { return ms_column_get_i64(ms_table_column(t, c), r); }
static double f64_at(const ms_table *t, int c, int64_t r) { return ms_column_get_f64(ms_table_column(t, c), r); }

static int64_t days(int y, int m, int d) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = y - 1900; tm.tm_mon = m - 1; tm.tm_mday = d;
  return (int64_t)timegm(&tm) / 86400;
}

static void test_rfc4180(void) {
  ms_table *t;
  ms_error err;
  /* quotes, doubled quotes, delimiter and newlines inside quotes, CRLF everywhere */
  const char *text = "\xEF\xBB\xBFname,note\r\n"
                     "\"a,b\",\"say \"\"hi\"\"\"\r\n"
                     "\"line1\nline2\",\"crlf\r\ninside\"\r\n"
                     "plain,\"\"\r\n"
                     "\"\"\"\",x";
  CHECK_OK(parse(text, &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_columns(t), 2);
  CHECK_STR(ms_table_field(t, 0)->name, "name");
  CHECK_STR(ms_table_field(t, 1)->name, "note");
  CHECK_EQ_INT(ms_table_num_rows(t), 4);
  CHECK(str_is(t, 0, 0, "a,b"));
  CHECK(str_is(t, 1, 0, "say \"hi\""));
  CHECK(str_is(t, 0, 1, "line1\nline2"));
  CHECK(str_is(t, 1, 1, "crlf\r\ninside"));
  CHECK(str_is(t, 0, 2, "plain"));
  CHECK(str_is(t, 1, 2, "")); /* quoted empty is an empty string, not null */
  CHECK(str_is(t, 0, 3, "\""));
  CHECK(str_is(t, 1, 3, "x"));
  ms_table_release(t);

  /* LF, trailing newline or not, a lone CR inside an unquoted field is data */
  CHECK_OK(parse("a,b\n1,x\r2\n3,y\n", &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 2);
  CHECK(str_is(t, 1, 0, "x\r2"));
  ms_table_release(t);
  CHECK_OK(parse("a,b\n1,2", &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 1);
  CHECK_EQ_INT(i64_at(t, 1, 0), 2);
  ms_table_release(t);
  /* a record ending in an empty last field, at EOF and before a newline */
  CHECK_OK(parse("a,b\n1,\n2,", &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 2);
  CHECK(is_null(t, 1, 0) && is_null(t, 1, 1));
  ms_table_release(t);
  /* a quoted field closing at EOF and before CRLF at EOF */
  CHECK_OK(parse("a\n\"q\"", &t, &err), &err);
  CHECK(ms_table_num_rows(t) == 1 && str_is(t, 0, 0, "q"));
  ms_table_release(t);
  CHECK_OK(parse("a\r\n\"q\"\r\n", &t, &err), &err);
  CHECK(ms_table_num_rows(t) == 1 && str_is(t, 0, 0, "q"));
  ms_table_release(t);
}

static void test_empty_and_blank(void) {
  ms_table *t;
  ms_error err;
  CHECK_OK(parse("", &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_columns(t), 0);
  ms_table_release(t);
  CHECK_OK(parse("\xEF\xBB\xBF", &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_columns(t), 0);
  ms_table_release(t);
  CHECK_OK(parse("x,y\n", &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_columns(t), 2);
  CHECK_EQ_INT(ms_table_num_rows(t), 0);
  CHECK_STR(type_name(t, 0), "utf8");
  ms_table_release(t);
  /* several fields: blank lines are skipped */
  CHECK_OK(parse("x,y\n\n1,2\r\n\r\n\n3,4\n\n", &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 2);
  CHECK_EQ_INT(i64_at(t, 0, 1), 3);
  ms_table_release(t);
  /* one field: a blank line is a null */
  CHECK_OK(parse("x\n1\n\n3\n", &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 3);
  CHECK_STR(type_name(t, 0), "int64");
  CHECK(!is_null(t, 0, 0) && is_null(t, 0, 1) && i64_at(t, 0, 2) == 3);
  ms_table_release(t);
}

static void test_null_tokens(void) {
  ms_table *t;
  ms_error err;
  CHECK_OK(parse("a,b,c\n1,NA,\"NA\"\nNULL,x,null\n,N/A,\"\"\n4,y,z\n", &t, &err), &err);
  CHECK_STR(type_name(t, 0), "int64");
  CHECK(i64_at(t, 0, 0) == 1 && is_null(t, 0, 1) && is_null(t, 0, 2) && i64_at(t, 0, 3) == 4);
  CHECK_EQ_INT(ms_column_null_count(ms_table_column(t, 0)), 2);
  CHECK(is_null(t, 1, 0) && str_is(t, 1, 1, "x") && is_null(t, 1, 2));
  CHECK(str_is(t, 2, 0, "NA") && is_null(t, 2, 1) && str_is(t, 2, 2, "") && str_is(t, 2, 3, "z"));
  ms_table_release(t);
  /* custom tokens: only "-" is null, so an empty field is an empty string */
  const char *nulls[] = {"-"};
  ms_csv_read_options o;
  ms_csv_read_options_init(&o);
  o.null_values = nulls;
  o.n_null_values = 1;
  CHECK_OK(parse_opts("a,b\n-,\nNA,x\n", &o, &t, &err), &err);
  CHECK(is_null(t, 0, 0) && str_is(t, 0, 1, "NA") && str_is(t, 1, 0, "") && str_is(t, 1, 1, "x"));
  ms_table_release(t);
  /* a column of only nulls is utf8 */
  CHECK_OK(parse("a,b\n,1\nNA,2\n", &t, &err), &err);
  CHECK_STR(type_name(t, 0), "utf8");
  CHECK_EQ_INT(ms_column_null_count(ms_table_column(t, 0)), 2);
  ms_table_release(t);
}

static void test_inference(void) {
  ms_table *t;
  ms_error err;
  const char *text =
      "i,f,b,d,ts,tz,s,big,mixed,bin,dts,e\n"
      "1,1.5,true,2024-01-31,2024-01-02T03:04:05,2024-01-02T03:04:05Z,a,9223372036854775807,1,0,2024-01-01,1e3\n"
      "-7,2,False,1969-12-31,2024-01-02 03:04:05.123456789,2024-01-02T05:04:05+02:00,b,-9223372036854775808,x,1,2024-01-02 10:00,inf\n"
      "+3,-0.25,TRUE,2000-02-29,2024-01-02T03:04,2024-01-02T03:04:05.5-0130,,9,2.5,0,,-Infinity\n";
  CHECK_OK(parse(text, &t, &err), &err);
  const char *expect[] = {"int64", "float64", "bool", "date32", "timestamp[ns]", "timestamp[ns, tz=UTC]",
                          "utf8", "int64", "utf8", "int64", "timestamp[ns]", "float64"};
  for (int c = 0; c < 12; c++) CHECK_STR(type_name(t, c), expect[c]);
  CHECK(i64_at(t, 0, 0) == 1 && i64_at(t, 0, 1) == -7 && i64_at(t, 0, 2) == 3);
  CHECK(f64_at(t, 1, 0) == 1.5 && f64_at(t, 1, 1) == 2.0 && f64_at(t, 1, 2) == -0.25);
  CHECK(ms_column_get_bool(ms_table_column(t, 2), 0) && !ms_column_get_bool(ms_table_column(t, 2), 1) &&
        ms_column_get_bool(ms_table_column(t, 2), 2));
  CHECK(i64_at(t, 3, 0) == days(2024, 1, 31) && i64_at(t, 3, 1) == -1 && i64_at(t, 3, 2) == days(2000, 2, 29));
  int64_t base = days(2024, 1, 2) * 86400 + 3 * 3600 + 4 * 60;
  CHECK_EQ_INT(i64_at(t, 4, 0), (base + 5) * 1000000000LL);
  CHECK_EQ_INT(i64_at(t, 4, 1), (base + 5) * 1000000000LL + 123456789);
  CHECK_EQ_INT(i64_at(t, 4, 2), base * 1000000000LL);
  CHECK_EQ_INT(i64_at(t, 5, 0), (base + 5) * 1000000000LL);
  CHECK_EQ_INT(i64_at(t, 5, 1), (base + 5) * 1000000000LL);
  CHECK_EQ_INT(i64_at(t, 5, 2), (base + 5 + 5400) * 1000000000LL + 500000000);
  CHECK(str_is(t, 6, 0, "a") && is_null(t, 6, 2));
  CHECK(i64_at(t, 7, 0) == INT64_MAX && i64_at(t, 7, 1) == INT64_MIN);
  CHECK(str_is(t, 8, 1, "x"));
  CHECK_EQ_INT(i64_at(t, 10, 0), days(2024, 1, 1) * 86400000000000LL);
  CHECK_EQ_INT(i64_at(t, 10, 1), (days(2024, 1, 2) * 86400 + 36000) * 1000000000LL);
  CHECK(is_null(t, 10, 2));
  CHECK(f64_at(t, 11, 0) == 1000 && isinf(f64_at(t, 11, 1)) && f64_at(t, 11, 2) < 0 && isinf(f64_at(t, 11, 2)));
  ms_table_release(t);

  /* int64 overflow makes a float; 0/1 stay integers; int and bool mixed is a string */
  CHECK_OK(parse("a,b,c,d\n9223372036854775808,1,1,nan\n1,0,true,NaN\n", &t, &err), &err);
  CHECK_STR(type_name(t, 0), "float64");
  CHECK_STR(type_name(t, 1), "int64");
  CHECK_STR(type_name(t, 2), "utf8");
  CHECK_STR(type_name(t, 3), "float64");
  CHECK(f64_at(t, 0, 0) == 9223372036854775808.0);
  CHECK(isnan(f64_at(t, 3, 0)) && isnan(f64_at(t, 3, 1)));
  ms_table_release(t);

  /* naive and offset timestamps mixed: an error naming the column */
  ms_status st = parse("k,when\n1,2024-01-01T00:00:00\n2,2024-01-01T00:00:00Z\n", &t, &err);
  CHECK_EQ_INT(st, MS_ERR_TYPE);
  CHECK_STR(err.column, "when");
  CHECK(strstr(err.message, "'when'") && strstr(err.message, "line 3") && strstr(err.message, "line 2"));
}

static void test_explicit_schema(void) {
  ms_table *t;
  ms_error err;
  ms_field schema[] = {
    {"i32", ms_type(MS_TYPE_INT32), true},
    {"f32", ms_type(MS_TYPE_FLOAT32), true},
    {"ts", ms_type_timestamp(MS_UNIT_MICRO, "UTC"), true},
    {"dec", ms_type_decimal128(10, 2), true},
    {"bin", ms_type(MS_TYPE_BINARY), true},
    {"s", ms_type(MS_TYPE_UTF8), true},
    {"u8", ms_type(MS_TYPE_UINT8), true},
    {"b", ms_type(MS_TYPE_BOOL), true},
    {"fb", ms_type_fixed_binary(2), true},
  };
  ms_csv_read_options o;
  ms_csv_read_options_init(&o);
  o.schema = schema;
  o.n_schema = 9;
  const char *text = "i32,f32,ts,dec,bin,s,u8,b,fb,rest\n"
                     "-2147483648,0.1,2024-01-02T03:04:05.123456+01:00,-12.5,aGVsbG8=,007,255,1,AAE=,x\n"
                     "2147483647,1e10,2024-01-02 03:04:05,99999999.99,,42,0,false,//8=,y\n";
  CHECK_OK(parse_opts(text, &o, &t, &err), &err);
  const char *expect[] = {"int32", "float32", "timestamp[us, tz=UTC]", "decimal128(10, 2)", "binary",
                          "utf8", "uint8", "bool", "fixed_binary(2)", "utf8"};
  for (int c = 0; c < 10; c++) CHECK_STR(type_name(t, c), expect[c]);
  CHECK(i64_at(t, 0, 0) == INT32_MIN && i64_at(t, 0, 1) == INT32_MAX);
  CHECK(f64_at(t, 1, 0) == (double)0.1f && f64_at(t, 1, 1) == 1e10);
  int64_t base = days(2024, 1, 2) * 86400 + 3 * 3600 + 4 * 60 + 5;
  CHECK_EQ_INT(i64_at(t, 2, 0), (base - 3600) * 1000000 + 123456);
  CHECK_EQ_INT(i64_at(t, 2, 1), base * 1000000); /* naive text taken as UTC */
  int64_t len;
  const uint8_t *d = ms_column_get_bytes(ms_table_column(t, 3), 0, &len);
  int64_t lo; memcpy(&lo, d, 8);
  int64_t hi; memcpy(&hi, d + 8, 8);
  CHECK(len == 16 && lo == -1250 && hi == -1);
  d = ms_column_get_bytes(ms_table_column(t, 3), 1, &len);
  memcpy(&lo, d, 8);
  CHECK(lo == 9999999999LL);
  CHECK(str_is(t, 4, 0, "hello") && is_null(t, 4, 1));
  CHECK(str_is(t, 5, 0, "007") && str_is(t, 5, 1, "42"));
  CHECK(i64_at(t, 6, 0) == 255 && i64_at(t, 6, 1) == 0);
  CHECK(ms_column_get_bool(ms_table_column(t, 7), 0) && !ms_column_get_bool(ms_table_column(t, 7), 1));
  d = ms_column_get_bytes(ms_table_column(t, 8), 1, &len);
  CHECK(len == 2 && d[0] == 0xff && d[1] == 0xff);
  ms_table_release(t);

  /* values that do not fit the explicit type: error naming file, line, column and text */
  struct { const char *text; const char *col; const char *frag; } bad[] = {
    {"i32,x\n2147483648,b\n1,a\n", "i32", "\"2147483648\""},
    {"u8,x\n256,a\n", "u8", "\"256\""},
    {"dec,x\n1.234,a\n", "dec", "\"1.234\""},          /* would need rounding */
    {"dec,x\n123456789.1,a\n", "dec", "\"123456789.1\""}, /* precision */
    {"ts,x\n2024-01-01T00:00:00.1234567,a\n", "ts", "2024-01-01T00:00:00.1234567"}, /* finer than us */
    {"bin,x\nnot base64!,a\n", "bin", "not base64!"},
    {"fb,x\naGVsbG8=,a\n", "fb", "aGVsbG8="},
    {"b,x\nyes,a\n", "b", "\"yes\""},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ms_status st = parse_opts(bad[i].text, &o, &t, &err);
    CHECK_MSG(st == MS_ERR_PARSE, "case %zu: status %d", i, (int)st);
    char buf[2048];
    ms_error_format(&err, buf, sizeof buf);
    CHECK_MSG(strstr(buf, "t.csv") && strstr(buf, bad[i].frag) && strstr(buf, "line 2") &&
              strcmp(err.column, bad[i].col) == 0 && err.row == 2, "case %zu: %s", i, buf);
  }
  /* an explicit type for a column the file lacks is ignored (a dataset passes its unified
   * schema to every file); an unsupported type is an error */
  ms_field missing[] = {{"nope", ms_type(MS_TYPE_INT64), true}};
  o.schema = missing;
  o.n_schema = 1;
  CHECK_OK(parse_opts("a\n1\n", &o, &t, &err), &err);
  CHECK(ms_table_num_columns(t) == 1 && i64_at(t, 0, 0) == 1);
  ms_table_release(t);
  ms_field nulltype[] = {{"a", ms_type(MS_TYPE_NULL), true}};
  o.schema = nulltype;
  CHECK_EQ_INT(parse_opts("a\n1\n", &o, &t, &err), MS_ERR_UNSUPPORTED);
}

static void test_after_sample_error(void) {
  ms_table *t;
  ms_error err;
  ms_csv_read_options o;
  ms_csv_read_options_init(&o);
  o.infer_rows = 3;
  ms_status st = parse_opts("id,v\n1,10\n2,20\n3,30\n4,4x\n5,50\n", &o, &t, &err);
  CHECK_EQ_INT(st, MS_ERR_PARSE);
  char buf[2048];
  ms_error_format(&err, buf, sizeof buf);
  CHECK_MSG(strstr(buf, "t.csv") && strstr(buf, "line 5") && strstr(buf, "'v'") && strstr(buf, "\"4x\"") &&
            strstr(buf, "explicit schema") && err.row == 5, "%s", buf);
  /* an offset timestamp after a naive sample is an error too, not a silent conversion */
  st = parse_opts("id,t\n1,2024-01-01 00:00\n2,2024-01-01 00:00\n3,2024-01-01 00:00\n4,2024-01-01T00:00Z\n",
                  &o, &t, &err);
  CHECK_EQ_INT(st, MS_ERR_PARSE);
  CHECK(err.row == 5 && strcmp(err.column, "t") == 0);
  /* infer_rows <= 0 samples everything */
  o.infer_rows = 0;
  CHECK_OK(parse_opts("id,v\n1,10\n2,20\n3,30\n4,4x\n5,50\n", &o, &t, &err), &err);
  CHECK_STR(type_name(t, 1), "utf8");
  ms_table_release(t);
}

static void test_structural_errors(void) {
  ms_table *t;
  ms_error err;
  char buf[2048];
  ms_status st = parse("a,b,c\n1,2,3\n\"x\ny\",2,3\n4,5\n", &t, &err);
  CHECK_EQ_INT(st, MS_ERR_PARSE);
  ms_error_format(&err, buf, sizeof buf);
  CHECK_MSG(strstr(buf, "t.csv") && strstr(buf, "line 5") && strstr(buf, "expected 3 fields, found 2"), "%s", buf);
  CHECK_EQ_INT(err.row, 5);
  st = parse("a,b\n1,2,3\n", &t, &err);
  CHECK(st == MS_ERR_PARSE && strstr(err.message, "line 2: expected 2 fields, found 3"));
  st = parse("a,b\n1,2\n3,\"abc\n4,5\n", &t, &err);
  CHECK_EQ_INT(st, MS_ERR_PARSE);
  CHECK_MSG(strstr(err.message, "unterminated") && err.row == 3 && err.byte_offset == 10, "%s row %lld off %lld",
            err.message, (long long)err.row, (long long)err.byte_offset);
  st = parse("a,b\n1,ab\"c\n", &t, &err);
  CHECK(st == MS_ERR_PARSE && strstr(err.message, "quote") && err.row == 2 && err.byte_offset == 8);
  st = parse("a,b\n1,\"ab\"c\n", &t, &err);
  CHECK(st == MS_ERR_PARSE && strstr(err.message, "after a closing quote") && err.row == 2);
  st = parse("a,b\n1,ok\n2,\xff\xfe\n", &t, &err);
  CHECK(st == MS_ERR_PARSE && strstr(err.message, "UTF-8") && err.row == 3 && strcmp(err.column, "b") == 0);
  st = parse("a\n\xc0\xaf\n", &t, &err); /* overlong */
  CHECK_EQ_INT(st, MS_ERR_PARSE);
  CHECK_OK(parse("a\n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n", &t, &err), &err);
  ms_table_release(t);
  /* a bad header */
  st = parse("\"a,b\n1,2\n", &t, &err);
  CHECK(st == MS_ERR_PARSE && err.row == 1);
  ms_csv_read_options o;
  ms_csv_read_options_init(&o);
  o.delimiter = '"';
  CHECK_EQ_INT(parse_opts("a\n", &o, &t, &err), MS_ERR_INVALID);
}

static void test_delimiter_projection_noheader(void) {
  ms_table *t;
  ms_error err;
  ms_csv_read_options o;
  ms_csv_read_options_init(&o);
  o.delimiter = '\t';
  CHECK_OK(parse_opts("a\tb\tc\n1\tx,y\t2.5\n", &o, &t, &err), &err);
  CHECK(str_is(t, 1, 0, "x,y") && f64_at(t, 2, 0) == 2.5);
  ms_table_release(t);
  const char *cols[] = {"c", "a"};
  ms_csv_read_options_init(&o);
  o.columns = cols;
  o.n_columns = 2;
  CHECK_OK(parse_opts("a,b,c\n1,\"q\nq\",x\n2,z,y\n", &o, &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_columns(t), 2);
  CHECK_STR(ms_table_field(t, 0)->name, "c");
  CHECK_STR(ms_table_field(t, 1)->name, "a");
  CHECK(str_is(t, 0, 1, "y") && i64_at(t, 1, 1) == 2);
  ms_table_release(t);
  const char *nope[] = {"zz"};
  o.columns = nope;
  o.n_columns = 1;
  CHECK_EQ_INT(parse_opts("a,b\n1,2\n", &o, &t, &err), MS_ERR_NOT_FOUND);
  ms_csv_read_options_init(&o);
  o.header = false;
  CHECK_OK(parse_opts("1,x\n2,y\n", &o, &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 2);
  CHECK_STR(ms_table_field(t, 0)->name, "f0");
  CHECK_STR(ms_table_field(t, 1)->name, "f1");
  CHECK(i64_at(t, 0, 1) == 2 && str_is(t, 1, 0, "x"));
  ms_table_release(t);
}

/* Floats agree with strtod for random doubles printed at 17 digits and short decimals. */
static void test_float_parsing(void) {
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  char text[1 << 16];
  for (int round = 0; round < 20; round++) {
    size_t n = (size_t)snprintf(text, sizeof text, "v\n");
    double expect[1000];
    for (int i = 0; i < 1000; i++) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      char num[64];
      if (i % 3 == 0) {
        double d;
        uint64_t bits = x & 0x7FEFFFFFFFFFFFFFULL;
        memcpy(&d, &bits, 8);
        snprintf(num, sizeof num, "%.17g", (i & 1) ? -d : d);
      } else if (i % 3 == 1) {
        snprintf(num, sizeof num, "%lld.%0*lld", (long long)(x % 100000), (int)(x >> 60) % 9 + 1,
                 (long long)((x >> 20) % 1000000000) % 100000000);
      } else {
        snprintf(num, sizeof num, "%llue%d", (unsigned long long)(x % 100000000000000000ULL), (int)(x >> 56) % 40 - 20);
      }
      expect[i] = strtod(num, NULL);
      n += (size_t)snprintf(text + n, sizeof text - n, "%s\n", num);
    }
    ms_table *t;
    ms_error err;
    CHECK_OK(parse(text, &t, &err), &err);
    CHECK_STR(type_name(t, 0), "float64");
    for (int i = 0; i < 1000; i++) {
      double got = f64_at(t, 0, i);
      CHECK_MSG(memcmp(&got, &expect[i], 8) == 0, "row %d: %.17g vs %.17g", i, got, expect[i]);
    }
    ms_table_release(t);
  }
}

/* ---- chunk and thread independence ---- */

static uint64_t rng_state;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
  return rng_state;
}

/* Random CSV of int, float, string (quotes, delimiters, LF, CRLF), timestamp and bool
 * columns with nulls; CRLF or LF line ends. */
static char *random_csv(int rows, size_t *out_len) {
  size_t cap = (size_t)rows * 160 + 256, n = 0;
  char *s = ms_malloc(cap);
  n += (size_t)snprintf(s + n, cap - n, "id,x,\"na\"\"me\",when,flag\n");
  static const char *pieces[] = {"a", "b,c", "\"", "\n", "\r\n", "xyz", " ", "\xc3\xa9", "NA", ""};
  for (int r = 0; r < rows; r++) {
    const char *eol = rnd() % 4 == 0 ? "\r\n" : "\n";
    if (rnd() % 25 == 0) n += (size_t)snprintf(s + n, cap - n, "%s", eol); /* a blank line */
    n += (size_t)snprintf(s + n, cap - n, "%d,", r);
    if (rnd() % 10 == 0) n += (size_t)snprintf(s + n, cap - n, ",");
    else n += (size_t)snprintf(s + n, cap - n, "%.17g,", (double)(int64_t)rnd() / 1e6);
    if (rnd() % 10 == 0) {
      n += (size_t)snprintf(s + n, cap - n, ",");
    } else {
      s[n++] = '"';
      int parts = (int)(rnd() % 5);
      for (int p = 0; p < parts; p++) {
        const char *piece = pieces[rnd() % 10];
        for (const char *c = piece; *c; c++) {
          if (*c == '"') s[n++] = '"';
          s[n++] = *c;
        }
      }
      s[n++] = '"';
      s[n++] = ',';
    }
    if (rnd() % 10 == 0) n += (size_t)snprintf(s + n, cap - n, ",");
    else n += (size_t)snprintf(s + n, cap - n, "2024-03-%02dT%02d:%02d:%02d.%06dZ,", (int)(rnd() % 28) + 1,
                               (int)(rnd() % 24), (int)(rnd() % 60), (int)(rnd() % 60), (int)(rnd() % 1000000));
    n += (size_t)snprintf(s + n, cap - n, "%s%s", rnd() % 2 ? "true" : "false", eol);
  }
  *out_len = n;
  return s;
}

static void test_chunk_independence(void) {
  rng_state = 0x1234567887654321ULL;
  size_t len;
  char *text = random_csv(3000, &len);
  ms_table *ref;
  ms_error err;
  ms_error_init(&err);
  ms_csv_read_options o;
  ms_csv_read_options_init(&o);
  o.chunk_bytes = (int64_t)1 << 30;
  ms_status st = ms_csv_read_buffer((const uint8_t *)text, (int64_t)len, "r.csv", &o, &ref, &err);
  if (st) ms_free(text);
  CHECK_OK(st, &err);
  CHECK_EQ_INT(ms_table_num_rows(ref), 3000);
  CHECK_STR(type_name(ref, 0), "int64");
  CHECK_STR(type_name(ref, 1), "float64");
  CHECK_STR(type_name(ref, 2), "utf8");
  CHECK_STR(ms_table_field(ref, 2)->name, "na\"me");
  CHECK_STR(type_name(ref, 3), "timestamp[ns, tz=UTC]");
  CHECK_STR(type_name(ref, 4), "bool");
  for (int64_t r = 0; r < 3000; r++) CHECK(i64_at(ref, 0, r) == r);
  int64_t chunk_sizes[] = {1, 7, 64, 100, 1000, 4096, 65536};
  int threads[] = {1, 2, 4};
  for (int ti = 0; ti < 3; ti++) {
    ms_pool *pool;
    CHECK_OK(ms_pool_create(threads[ti], &pool, &err), &err);
    for (size_t ci = 0; ci < sizeof chunk_sizes / sizeof *chunk_sizes; ci++) {
      o.pool = pool;
      o.chunk_bytes = chunk_sizes[ci];
      ms_table *t;
      st = ms_csv_read_buffer((const uint8_t *)text, (int64_t)len, "r.csv", &o, &t, &err);
      if (st) { ms_pool_destroy(pool); ms_table_release(ref); ms_free(text); }
      CHECK_OK(st, &err);
      bool same = ms_table_num_rows(t) == 3000;
      for (int c = 0; same && c < 5; c++) same = ms_column_equal(ms_table_column(t, c), ms_table_column(ref, c));
      ms_table_release(t);
      if (!same) { ms_pool_destroy(pool); ms_table_release(ref); ms_free(text); }
      CHECK_MSG(same, "threads %d chunk %lld", threads[ti], (long long)chunk_sizes[ci]);
    }
    /* the same corrupt input reports the same first error for every layout */
    char saved = text[len / 2];
    size_t bad_at = len / 2;
    while (text[bad_at] == '"') bad_at++;
    saved = text[bad_at];
    text[bad_at] = '"';
    char first[2048] = "";
    for (size_t ci = 0; ci < sizeof chunk_sizes / sizeof *chunk_sizes; ci++) {
      o.pool = ci == 0 ? NULL : pool;
      o.chunk_bytes = ci == 0 ? ((int64_t)1 << 30) : chunk_sizes[ci];
      ms_table *t = NULL;
      ms_error_init(&err);
      st = ms_csv_read_buffer((const uint8_t *)text, (int64_t)len, "r.csv", &o, &t, &err);
      ms_table_release(t);
      char buf[2048];
      ms_error_format(&err, buf, sizeof buf);
      if (ci == 0) snprintf(first, sizeof first, "%s", buf);
      if (st == MS_OK || strcmp(buf, first) != 0) { ms_pool_destroy(pool); ms_table_release(ref); ms_free(text); }
      CHECK_MSG(st != MS_OK && strcmp(buf, first) == 0, "chunk %lld: '%s' vs '%s'", (long long)chunk_sizes[ci], buf, first);
    }
    text[bad_at] = saved;
    ms_pool_destroy(pool);
  }
  ms_table_release(ref);
  ms_free(text);
}

/* Random byte soup heavy in delimiters, quotes, CR and LF: whatever the input, parsing
 * with tiny chunks on several threads gives exactly the serial outcome (the same table,
 * or the same error message), and never reads out of bounds (this runs under ASan). */
static void test_mutations_chunk_invariant(void) {
  rng_state = 0xABCDEF0123456789ULL;
  static const char *alphabet[] = {"a", "1", "2.5", ",", ",", "\"", "\"", "\n", "\n", "\r\n", "\r", "NA", "\xc3\xa9", "\xff", "true", "2024-01-01"};
  ms_pool *pool;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_pool_create(3, &pool, &err), &err);
  int ok_count = 0, err_count = 0;
  for (int iter = 0; iter < 3000; iter++) {
    char text[512];
    size_t n = 0;
    const char *hdr = iter % 3 == 0 ? "x\n" : iter % 3 == 1 ? "x,y\n" : "x,y,z\n";
    n += (size_t)snprintf(text, sizeof text, "%s", hdr);
    int parts = (int)(rnd() % 60);
    for (int p = 0; p < parts; p++) {
      const char *a = alphabet[rnd() % 16];
      size_t l = strlen(a);
      if (n + l >= sizeof text) break;
      memcpy(text + n, a, l);
      n += l;
    }
    ms_csv_read_options o;
    ms_csv_read_options_init(&o);
    o.infer_rows = (int64_t)(rnd() % 4);
    o.chunk_bytes = (int64_t)1 << 30;
    ms_table *ref = NULL;
    ms_error_init(&err);
    ms_status st_ref = ms_csv_read_buffer((const uint8_t *)text, (int64_t)n, "m.csv", &o, &ref, &err);
    char msg_ref[2048];
    ms_error_format(&err, msg_ref, sizeof msg_ref);
    if (st_ref) err_count++; else ok_count++;
    bool same = true;
    for (int64_t cb = 1; cb <= 40 && same; cb += 1 + (int64_t)(rnd() % 7)) {
      o.chunk_bytes = cb;
      o.pool = cb & 1 ? pool : NULL;
      ms_table *t = NULL;
      ms_error_init(&err);
      ms_status st = ms_csv_read_buffer((const uint8_t *)text, (int64_t)n, "m.csv", &o, &t, &err);
      char msg[2048];
      ms_error_format(&err, msg, sizeof msg);
      if (st != st_ref) same = false;
      else if (st) same = strcmp(msg, msg_ref) == 0;
      else {
        same = ms_table_num_columns(t) == ms_table_num_columns(ref) && ms_table_num_rows(t) == ms_table_num_rows(ref);
        for (int c = 0; same && c < ms_table_num_columns(t); c++)
          same = ms_column_equal(ms_table_column(t, c), ms_table_column(ref, c));
      }
      if (!same) fprintf(stderr, "chunk %lld: status %d vs %d: '%s' vs '%s'\n", (long long)cb, (int)st, (int)st_ref, msg, msg_ref);
      ms_table_release(t);
    }
    ms_table_release(ref);
    if (!same) {
      fprintf(stderr, "input: ");
      fwrite(text, 1, n, stderr);
      ms_pool_destroy(pool);
    }
    CHECK_MSG(same, "iteration %d", iter);
  }
  ms_pool_destroy(pool);
  /* the soup must exercise both outcomes */
  CHECK(ok_count > 100 && err_count > 100);
}

static void test_file_and_infer_schema(void) {
  char path[1200];
  snprintf(path, sizeof path, "%s/in.csv", ms_test_tmpdir());
  FILE *f = fopen(path, "wb");
  CHECK(f);
  fputs("k,v,when\n1,2.5,2024-01-01\n2,,2024-01-02\n", f);
  fclose(f);
  ms_error err;
  ms_error_init(&err);
  ms_field *fields;
  int n;
  CHECK_OK(ms_csv_infer_schema(NULL, path, NULL, &fields, &n, &err), &err);
  CHECK_EQ_INT(n, 3);
  CHECK_STR(fields[0].name, "k");
  CHECK(fields[0].type.id == MS_TYPE_INT64 && fields[1].type.id == MS_TYPE_FLOAT64 && fields[2].type.id == MS_TYPE_DATE32);
  for (int i = 0; i < n; i++) ms_field_reset(&fields[i]);
  ms_free(fields);
  ms_table *t;
  CHECK_OK(ms_csv_read(NULL, path, NULL, &t, &err), &err);
  CHECK(ms_table_num_rows(t) == 2 && is_null(t, 1, 1) && i64_at(t, 2, 1) == days(2024, 1, 2));
  ms_table_release(t);
  snprintf(path, sizeof path, "%s/empty.csv", ms_test_tmpdir());
  f = fopen(path, "wb");
  fclose(f);
  CHECK_OK(ms_csv_read(NULL, path, NULL, &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_columns(t), 0);
  ms_table_release(t);
  ms_error_init(&err);
  CHECK_EQ_INT(ms_csv_read(NULL, "/nonexistent/x.csv", NULL, &t, &err), MS_ERR_NOT_FOUND);
}

MS_TEST_MAIN(MS_TEST(test_rfc4180), MS_TEST(test_empty_and_blank), MS_TEST(test_null_tokens),
             MS_TEST(test_inference), MS_TEST(test_explicit_schema), MS_TEST(test_after_sample_error),
             MS_TEST(test_structural_errors), MS_TEST(test_delimiter_projection_noheader),
             MS_TEST(test_float_parsing), MS_TEST(test_chunk_independence), MS_TEST(test_mutations_chunk_invariant),
             MS_TEST(test_file_and_infer_schema))
