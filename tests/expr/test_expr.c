/* Tests of the expression language (include/morsel/expr.h, docs/expressions.md): every
 * operator and function on a small table whose expected values are written out by hand
 * (null semantics, three-valued logic, division by zero, overflow rows, date_diff flooring,
 * pre-1970 extract, literals), exact error messages and positions, did-you-mean,
 * ms_expr_references, evaluation from two threads at once, inputs longer than a batch with
 * nulls across batch edges (checked against a row-by-row computation) and sliced inputs. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>

#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "morsel/expr.h"
#include "morsel/table.h"
#include "ms_test.h"

#define NROWS 5
#define NUL INT64_MIN /* marks a null in the int literals below */

static ms_table *g_tab;

static ms_column *col_i64(const int64_t *v, int n) {
  ms_column_builder *b;
  ms_column *c = NULL;
  ms_column_builder_create(&(ms_datatype){.id = MS_TYPE_INT64}, n, &b, NULL);
  for (int i = 0; i < n; i++)
    v[i] == NUL ? ms_builder_append_null(b) : ms_builder_append_i64(b, v[i]);
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

static ms_column *col_typed(ms_datatype t, const int64_t *v, int n) {
  ms_column_builder *b;
  ms_column *c = NULL;
  ms_column_builder_create(&t, n, &b, NULL);
  for (int i = 0; i < n; i++) {
    if (v[i] == NUL) ms_builder_append_null(b);
    else if (t.id == MS_TYPE_BOOL) ms_builder_append_bool(b, v[i] != 0);
    else ms_builder_append_i64(b, v[i]);
  }
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

static ms_column *col_f64(const double *v, const bool *null, int n) {
  ms_column_builder *b;
  ms_column *c = NULL;
  ms_column_builder_create(&(ms_datatype){.id = MS_TYPE_FLOAT64}, n, &b, NULL);
  for (int i = 0; i < n; i++) null[i] ? ms_builder_append_null(b) : ms_builder_append_f64(b, v[i]);
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

static ms_column *col_str(const char *const *v, int n) {
  ms_column_builder *b;
  ms_column *c = NULL;
  ms_column_builder_create(&(ms_datatype){.id = MS_TYPE_UTF8}, n, &b, NULL);
  for (int i = 0; i < n; i++)
    v[i] ? ms_builder_append_bytes(b, v[i], (int64_t)strlen(v[i])) : ms_builder_append_null(b);
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

static int64_t ts(const char *s) {
  int64_t ns;
  if (!ms_parse_timestamp_ns(s, strlen(s), &ns, NULL)) abort();
  return ns;
}

static void setup(void) {
  if (g_tab) return;
  int64_t i[] = {1, -2, NUL, 7, 0};
  int64_t j[] = {3, 3, 4, NUL, 0};
  int64_t big[] = {INT64_MAX, 1, NUL, INT64_MIN + 1, 5};
  double f[] = {1.5, -0.5, 0, 2.0, 0.0};
  bool fn[] = {0, 0, 1, 0, 0};
  const char *s[] = {"abc", "", NULL, "Ünïcode", "C536"};
  const char *n[] = {"12", " -3 ", NULL, "x1", "17850.0"};
  int64_t b[] = {1, 0, NUL, 1, 0};
  int64_t t[] = {ts("2011-03-01 08:26:00"), ts("1969-12-31 23:00:00"), NUL,
                 ts("2011-12-31 23:59:59.5"), ts("1900-02-28 12:00:00")};
  int64_t u[5];
  for (int k = 0; k < 5; k++) u[k] = t[k] == NUL ? NUL : t[k] / 1000 + 3600000000LL;
  int64_t d[] = {15034, -1, NUL, 0, -25000};
  ms_field fields[] = {
      {"i", ms_type(MS_TYPE_INT64), true},        {"j", ms_type(MS_TYPE_INT64), true},
      {"big", ms_type(MS_TYPE_INT64), true},      {"f", ms_type(MS_TYPE_FLOAT64), true},
      {"s", ms_type(MS_TYPE_UTF8), true},         {"n", ms_type(MS_TYPE_UTF8), true},
      {"b", ms_type(MS_TYPE_BOOL), true},
      {"t", ms_type_timestamp(MS_UNIT_NANO, ""), true},
      {"u", ms_type_timestamp(MS_UNIT_MICRO, "UTC"), true},
      {"d", ms_type(MS_TYPE_DATE32), true},
      {"conv_rate", ms_type(MS_TYPE_FLOAT64), true},
      {"view.feature", ms_type(MS_TYPE_INT64), true},
      {"odd name", ms_type(MS_TYPE_INT64), true},
  };
  ms_column *cols[] = {col_i64(i, 5), col_i64(j, 5), col_i64(big, 5), col_f64(f, fn, 5),
                       col_str(s, 5), col_str(n, 5), col_typed(ms_type(MS_TYPE_BOOL), b, 5),
                       col_typed(fields[7].type, t, 5), col_typed(fields[8].type, u, 5),
                       col_typed(fields[9].type, d, 5), col_f64(f, fn, 5), col_i64(i, 5),
                       col_i64(j, 5)};
  int nc = (int)(sizeof cols / sizeof *cols);
  if (ms_table_create(fields, cols, nc, &g_tab, NULL)) abort();
  for (int k = 0; k < nc; k++) ms_column_release(cols[k]);
}

/* Renders value `row` of c. */
static void render(const ms_column *c, int64_t row, char *buf, size_t size) {
  const ms_datatype *t = ms_column_type(c);
  if (ms_column_is_null(c, row)) {
    snprintf(buf, size, "null");
    return;
  }
  switch (t->id) {
    case MS_TYPE_BOOL: snprintf(buf, size, "%s", ms_column_get_bool(c, row) ? "true" : "false"); break;
    case MS_TYPE_FLOAT64: snprintf(buf, size, "%.17g", ms_column_get_f64(c, row)); break;
    case MS_TYPE_UTF8: {
      int64_t len;
      const uint8_t *p = ms_column_get_bytes(c, row, &len);
      snprintf(buf, size, "'%.*s'", (int)len, (const char *)p);
      break;
    }
    case MS_TYPE_TIMESTAMP: {
      char b[64];
      ms_format_timestamp(ms_column_get_i64(c, row), t->unit, t->tz[0] != 0, b);
      snprintf(buf, size, "%s", b);
      break;
    }
    case MS_TYPE_DATE32: {
      char b[32];
      ms_format_date32((int32_t)ms_column_get_i64(c, row), b);
      snprintf(buf, size, "%s", b);
      break;
    }
    default: snprintf(buf, size, "%lld", (long long)ms_column_get_i64(c, row)); break;
  }
}

/* Compiles and evaluates text over g_tab; returns "v0|v1|..." or "ERROR: message" (with
 * " [row R]" when a row is named). Static buffer. */
static char g_out[4096];
static char g_type[128];
static const char *ev(const char *text) {
  setup();
  int nc = ms_table_num_columns(g_tab);
  ms_field fields[32];
  for (int k = 0; k < nc; k++) fields[k] = *ms_table_field(g_tab, k);
  ms_expr *e;
  ms_error err;
  ms_error_init(&err);
  if (ms_expr_compile(text, fields, nc, &e, &err)) {
    snprintf(g_out, sizeof g_out, "ERROR: %s", err.message);
    return g_out;
  }
  ms_type_to_string(ms_expr_type(e), g_type, sizeof g_type);
  ms_column *out;
  if (ms_expr_eval_table(e, g_tab, &out, &err)) {
    if (err.row >= 0) snprintf(g_out, sizeof g_out, "ERROR: %s [row %lld]", err.message, (long long)err.row);
    else snprintf(g_out, sizeof g_out, "ERROR: %s", err.message);
    ms_expr_free(e);
    return g_out;
  }
  if (!ms_type_equal(ms_column_type(out), ms_expr_type(e))) {
    snprintf(g_out, sizeof g_out, "ERROR: result type differs from ms_expr_type");
  } else {
    size_t pos = 0;
    for (int64_t r = 0; r < ms_column_length(out); r++) {
      char b[256];
      render(out, r, b, sizeof b);
      pos += (size_t)snprintf(g_out + pos, sizeof g_out - pos, "%s%s", r ? "|" : "", b);
    }
    g_out[pos] = 0;
  }
  ms_column_release(out);
  ms_expr_free(e);
  return g_out;
}

#define EXPECT(text, want) CHECK_STR(ev(text), want)
#define EXPECT_T(text, want, type) \
  do {                             \
    CHECK_STR(ev(text), want);     \
    CHECK_STR(g_type, type);       \
  } while (0)

static void test_arithmetic(void) {
  EXPECT_T("i + j", "4|1|null|null|0", "int64");
  EXPECT_T("i - j * 2", "-5|-8|null|null|0", "int64");
  EXPECT_T("i * f", "1.5|1|null|14|0", "float64");
  EXPECT_T("i / j", "0.33333333333333331|-0.66666666666666663|null|null|null", "float64");
  EXPECT_T("i % j", "1|-2|null|null|null", "int64");
  EXPECT_T("-7 % 3", "-1|-1|-1|-1|-1", "int64");
  EXPECT_T("f % 1", "0.5|-0.5|null|0|0", "float64");
  EXPECT("f / 0.0", "null|null|null|null|null");
  EXPECT("f / f", "1|1|null|1|null");
  EXPECT_T("-i", "-1|2|null|-7|0", "int64");
  EXPECT("+i", "1|-2|null|7|0");
  EXPECT("1 + 2 * 3 - (4 - 1)", "4|4|4|4|4");
  EXPECT("2 * 3 % 4", "2|2|2|2|2");
  EXPECT("1.5e1 + .5", "15.5|15.5|15.5|15.5|15.5");
  EXPECT_T("1 + null", "null|null|null|null|null", "int64");
  EXPECT("big + 1", "ERROR: at column 5: row 0: integer overflow: 9223372036854775807 + 1 [row 0]");
  EXPECT("big * 2", "ERROR: at column 5: row 0: integer overflow: 9223372036854775807 * 2 [row 0]");
  EXPECT("big - 2", "ERROR: at column 5: row 3: integer overflow: -9223372036854775807 - 2 [row 3]");
  EXPECT("-(big - 1)", "ERROR: at column 1: row 3: integer overflow: --9223372036854775808 [row 3]");
  EXPECT("(big - 1) % -1", "0|0|null|0|0");
  EXPECT("abs(big - 1)", "ERROR: at column 1: row 3: integer overflow: abs -9223372036854775808 [row 3]");
  /* overflow in rows whose value is not used is no error */
  EXPECT("if(big > 100 or big < 0, 0, big + 1)", "0|2|null|0|6");
  EXPECT("coalesce(i, big + 1)", "1|-2|null|7|0");
  EXPECT("case when j = 3 then 0 else big * 2 end",
         "ERROR: at column 33: row 3: integer overflow: -9223372036854775807 * 2 [row 3]");
}

static void test_overflow_masks(void) {
  EXPECT("case when j = 3 then 0 when j is null then -1 else big * 2 end", "0|0|null|-1|10");
}

static void test_compare_logic(void) {
  EXPECT_T("i < j", "true|true|null|null|false", "bool");
  EXPECT("i = 1", "true|false|null|false|false");
  EXPECT("i == 1", "true|false|null|false|false");
  EXPECT("i != 1", "false|true|null|true|true");
  EXPECT("i <> 1", "false|true|null|true|true");
  EXPECT("i <= 0", "false|true|null|false|true");
  EXPECT("i > 0", "true|false|null|true|false");
  EXPECT("i >= 7", "false|false|null|true|false");
  EXPECT("i = f", "false|false|null|false|true"); /* int vs float compares as float */
  EXPECT("f > 1", "true|false|null|true|false");
  EXPECT("9007199254740993 = 9007199254740992", "false|false|false|false|false"); /* exact */
  EXPECT("s < 'b'", "true|true|null|false|true");  /* bytewise: 'Ü' (0xC3) > 'b' */
  EXPECT("s = ''", "false|true|null|false|false");
  EXPECT("b = true", "true|false|null|true|false");
  EXPECT("b and i > 0", "true|false|null|true|false");
  /* three-valued logic: false and null = false, true or null = true */
  EXPECT("b and null", "null|false|null|null|false");
  EXPECT("b or null", "true|null|null|true|null");
  EXPECT("null and false", "false|false|false|false|false");
  EXPECT("not b", "false|true|null|false|true");
  EXPECT("not not b", "true|false|null|true|false");
  EXPECT("b or j = 4", "true|false|true|true|false");
  EXPECT("i is null", "false|false|true|false|false");
  EXPECT("i is not null", "true|true|false|true|true");
  EXPECT("null is null", "true|true|true|true|true");
  EXPECT("i + j is null", "false|false|true|true|false");
  EXPECT("not i > 0 and j = 3", "false|true|false|false|false"); /* null and false */
  EXPECT("i in (1, 7)", "true|false|null|true|false");
  EXPECT("i not in (1, 7)", "false|true|null|false|true");
  /* SQL: x in (.., null) is null unless found */
  EXPECT("i in (1, null)", "true|null|null|null|null");
  EXPECT("i not in (1, null)", "false|null|null|null|null");
  EXPECT("s in ('abc', 'C536')", "true|false|null|false|true");
  EXPECT("f in (1.5, 2)", "true|false|null|true|false");
  EXPECT("i in (j, 0)", "false|false|null|null|true");
  EXPECT("i IN (1) AND NOT b IS NULL", "true|false|false|false|false");
}

static void test_conditionals(void) {
  EXPECT_T("coalesce(i, j, 100)", "1|-2|4|7|0", "int64");
  EXPECT_T("coalesce(i, f)", "1|-2|null|7|0", "float64");
  EXPECT("coalesce(null, j)", "3|3|4|null|0");
  EXPECT("coalesce(s, 'none')", "'abc'|''|'none'|'Ünïcode'|'C536'");
  EXPECT_T("if(b, i, j)", "1|3|4|7|0", "int64"); /* null condition takes the else branch */
  EXPECT("if(i > 0, 'pos', null)", "'pos'|null|null|'pos'|null");
  EXPECT_T("if(b, 1, 2.5)", "1|2.5|2.5|1|2.5", "float64");
  EXPECT("case when i > 0 then 'p' when i < 0 then 'n' else 'z' end", "'p'|'n'|'z'|'p'|'z'");
  EXPECT("case when i > 0 then 'p' when i < 0 then 'n' end", "'p'|'n'|null|'p'|null");
  EXPECT("CASE WHEN b THEN t END", "2011-03-01T08:26:00.000000000|null|null|2011-12-31T23:59:59.500000000|null");
  EXPECT_T("least(i, j)", "1|-2|4|7|0", "int64");          /* nulls skipped */
  EXPECT_T("greatest(i, j, f)", "3|3|4|7|0", "float64");
  EXPECT("least(s, 'b')", "'abc'|''|'b'|'b'|'C536'");
  EXPECT("greatest(null, i)", "1|-2|null|7|0");
  EXPECT("clip(i, 0, 5)", "1|0|null|5|0");
  EXPECT("clip(i, j, null)", "3|3|null|7|0");
  EXPECT("clip(f, -1, 1)", "1|-0.5|null|1|0");
}

static void test_casts(void) {
  EXPECT_T("cast(i as int64)", "1|-2|null|7|0", "int64");
  EXPECT_T("cast(i as float64)", "1|-2|null|7|0", "float64");
  EXPECT_T("cast(f as int64)", "1|0|null|2|0", "int64"); /* toward zero */
  EXPECT("cast(-2.9 as int)", "-2|-2|-2|-2|-2");
  EXPECT("cast(f / 0.0 as int64)", "null|null|null|null|null");
  EXPECT("cast(f * 1e300 * 1e300 as int64)",
         "ERROR: at column 1: row 0: cannot cast inf to int64 (out of range) [row 0]");
  EXPECT("cast(sqrt(f - 3) as int64)", "null|null|null|null|null");
  EXPECT_T("cast(f as string)", "'1.5'|'-0.5'|null|'2.0'|'0.0'", "utf8");
  EXPECT("cast(0.1 + 0.2 as string)", "'0.30000000000000004'|'0.30000000000000004'|'0.30000000000000004'|'0.30000000000000004'|'0.30000000000000004'");
  EXPECT("cast(1e300 as string)", "'1e+300'|'1e+300'|'1e+300'|'1e+300'|'1e+300'");
  EXPECT("cast(i as string)", "'1'|'-2'|null|'7'|'0'");
  /* Python repr layout: fixed for exponents -4..15, else scientific */
  EXPECT("concat(1e6, ' ', 1e15, ' ', 1e16, ' ', 1.5e-5, ' ', 0.0001, ' ', -2.5e-300, ' ', 9007199254740993.0)",
         "'1000000.0 1000000000000000.0 1e+16 1.5e-05 0.0001 -2.5e-300 9007199254740992.0'|"
         "'1000000.0 1000000000000000.0 1e+16 1.5e-05 0.0001 -2.5e-300 9007199254740992.0'|"
         "'1000000.0 1000000000000000.0 1e+16 1.5e-05 0.0001 -2.5e-300 9007199254740992.0'|"
         "'1000000.0 1000000000000000.0 1e+16 1.5e-05 0.0001 -2.5e-300 9007199254740992.0'|"
         "'1000000.0 1000000000000000.0 1e+16 1.5e-05 0.0001 -2.5e-300 9007199254740992.0'");
  EXPECT("cast(f / 0.0 as string) is null and cast(exp(1000) as string) = 'inf' and "
         "cast(-exp(1000) as string) = '-inf' and cast(exp(1000) * 0 as string) = 'nan'",
         "true|true|true|true|true");
  EXPECT("cast(b as string)", "'true'|'false'|null|'true'|'false'");
  EXPECT_T("cast(b as int64)", "1|0|null|1|0", "int64");
  EXPECT_T("cast(i as bool)", "true|true|null|true|false", "bool");
  EXPECT("cast(t as string)", "'2011-03-01 08:26:00'|'1969-12-31 23:00:00'|null|'2011-12-31 23:59:59.500'|'1900-02-28 12:00:00'");
  EXPECT("cast(u as string)", "'2011-03-01 09:26:00+00:00'|'1970-01-01 00:00:00+00:00'|null|'2012-01-01 00:59:59.500+00:00'|'1900-02-28 13:00:00+00:00'");
  EXPECT("cast(d as string)", "'2011-03-01'|'1969-12-31'|null|'1970-01-01'|'1901-07-22'");
  EXPECT_T("cast(t as date)", "2011-03-01|1969-12-31|null|2011-12-31|1900-02-28", "date32");
  EXPECT_T("cast(d as timestamp)", "2011-03-01T00:00:00.000000000|1969-12-31T00:00:00.000000000|null|1970-01-01T00:00:00.000000000|1901-07-22T00:00:00.000000000", "timestamp[ns]");
  EXPECT("cast(n as int64)", "ERROR: at column 1: row 3: cannot cast 'x1' to int64 [row 3]");
  EXPECT("if(n = 'x1', null, cast(n as int64))", "12|-3|null|null|17850");
  EXPECT("cast(n as float64)", "ERROR: at column 1: row 3: cannot cast 'x1' to float64 [row 3]");
  EXPECT("cast('2011-01-02 03:04:05' as timestamp)", "2011-01-02T03:04:05.000000000|2011-01-02T03:04:05.000000000|2011-01-02T03:04:05.000000000|2011-01-02T03:04:05.000000000|2011-01-02T03:04:05.000000000");
  EXPECT("cast('yes' as bool) and cast('0' as bool) = false", "true|true|true|true|true");
  EXPECT("cast(s as date)", "ERROR: at column 1: row 0: cannot cast 'abc' to date [row 0]");
  EXPECT_T("cast(null as int64)", "null|null|null|null|null", "int64");
  EXPECT_T("cast(t as timestamp[us, tz=UTC])", "2011-03-01T08:26:00.000000000Z|1969-12-31T23:00:00.000000000Z|null|2011-12-31T23:59:59.500000000Z|1900-02-28T12:00:00.000000000Z", "timestamp[ns, tz=UTC]");
  EXPECT("cast(i as decimal128(10, 2))", "ERROR: at column 1: cannot cast to decimal128(10, 2) (expressions use int64, float64, string, bool, timestamp and date)");
  EXPECT("cast(t as int64)", "ERROR: at column 1: cannot cast timestamp to int64");
  EXPECT("cast(i as varchar)", "ERROR: at column 11: unknown type 'varchar' (try int64, float64, string, bool, timestamp, date)");
  EXPECT("starts_with(cast(s as string), 'C')", "false|false|null|false|true");
}

static void test_math(void) {
  EXPECT_T("abs(i)", "1|2|null|7|0", "int64");
  EXPECT("abs(f)", "1.5|0.5|null|2|0");
  EXPECT_T("round(f)", "2|-1|null|2|0", "float64"); /* half away from zero */
  EXPECT("round(2.345, 2)", "2.3500000000000001|2.3500000000000001|2.3500000000000001|2.3500000000000001|2.3500000000000001");
  EXPECT("round(-2.5)", "-3|-3|-3|-3|-3");
  EXPECT("round(1234.5, -2)", "1200|1200|1200|1200|1200");
  EXPECT_T("round(i)", "1|-2|null|7|0", "int64");
  EXPECT("round(1250, -2)", "1300|1300|1300|1300|1300");
  EXPECT("round(-1250, -2)", "-1300|-1300|-1300|-1300|-1300");
  EXPECT("round(-1249, -2)", "-1200|-1200|-1200|-1200|-1200");
  EXPECT("floor(f)", "1|-1|null|2|0");
  EXPECT("ceil(f)", "2|-0|null|2|0");
  EXPECT_T("floor(i)", "1|-2|null|7|0", "int64");
  EXPECT_T("sqrt(i)", "1|null|null|2.6457513110645907|0", "float64");
  EXPECT("log(i)", "0|null|null|1.9459101490553132|null");
  EXPECT("exp(0)", "1|1|1|1|1");
  EXPECT("pow(i, 2)", "1|4|null|49|0");
  EXPECT("pow(-8, 0.5)", "null|null|null|null|null");
  EXPECT("pow(0, -1)", "null|null|null|null|null");
}

static void test_strings(void) {
  EXPECT("starts_with(s, 'ab')", "true|false|null|false|false");
  EXPECT("starts_with(s, '')", "true|true|null|true|true");
  EXPECT("ends_with(s, 'de')", "false|false|null|true|false");
  EXPECT("contains(s, 'nï')", "false|false|null|true|false");
  EXPECT("lower(s)", "'abc'|''|null|'Ünïcode'|'c536'");
  EXPECT("upper(s)", "'ABC'|''|null|'ÜNïCODE'|'C536'");
  EXPECT_T("length(s)", "3|0|null|7|4", "int64"); /* code points */
  EXPECT("substr(s, 2)", "'bc'|''|null|'nïcode'|'536'");
  EXPECT("substr(s, 2, 2)", "'bc'|''|null|'nï'|'53'");
  EXPECT("substr(s, 0, 2)", "'a'|''|null|'Ü'|'C'");
  EXPECT("substr(s, -1, 3)", "'a'|''|null|'Ü'|'C'");
  EXPECT("substr(s, 3, 0)", "''|''|null|''|''");
  EXPECT("substr(s, 1, -1)", "null|null|null|null|null");
  EXPECT("substr(s, 10)", "''|''|null|''|''");
  EXPECT("concat(s, '-', i)", "'abc-1'|'--2'|'-'|'Ünïcode-7'|'C536-0'");
  EXPECT("concat(f, b, null)", "'1.5true'|'-0.5false'|''|'2.0true'|'0.0false'");
  EXPECT("'it''s'", "'it's'|'it's'|'it's'|'it's'|'it's'");
  EXPECT("\"odd name\" + \"view.feature\" + view.feature", "5|-1|null|null|0");
}

static void test_time(void) {
  EXPECT_T("t + 1d", "2011-03-02T08:26:00.000000000|1970-01-01T23:00:00.000000000|null|2012-01-01T23:59:59.500000000|1900-03-01T12:00:00.000000000", "timestamp[ns]");
  EXPECT("t - 1h30m", "2011-03-01T06:56:00.000000000|1969-12-31T21:30:00.000000000|null|2011-12-31T22:29:59.500000000|1900-02-28T10:30:00.000000000");
  EXPECT("1d + t = t + 24h", "true|true|null|true|true");
  EXPECT("t + 250ms + 10us + 5ns - t = 250010005ns", "true|true|null|true|true");
  EXPECT("t + 2 * 1s = t + 2000ms", "true|true|null|true|true");
  EXPECT_T("u + 1s", "2011-03-01T09:26:01.000000000Z|1970-01-01T00:00:01.000000000Z|null|2012-01-01T01:00:00.500000000Z|1900-02-28T13:00:01.000000000Z", "timestamp[ns, tz=UTC]");
  /* naive and aware compare as UTC ns: u is t + 1h */
  EXPECT("u - t = 1h", "true|true|null|true|true");
  EXPECT("u > t", "true|true|null|true|true");
  EXPECT("t >= timestamp '2011-01-01'", "true|false|null|true|false");
  EXPECT("t >= '2011-01-01 00:00:00'", "true|false|null|true|false");
  EXPECT("t < timestamp '2011-03-01 09:26:00+01:00'", "false|true|null|false|true");
  EXPECT_T("timestamp '2011-03-01 08:26:00'", "2011-03-01T08:26:00.000000000|2011-03-01T08:26:00.000000000|2011-03-01T08:26:00.000000000|2011-03-01T08:26:00.000000000|2011-03-01T08:26:00.000000000", "timestamp[ns]");
  EXPECT_T("timestamp '2011-03-01T08:26:00Z' + 0s", "2011-03-01T08:26:00.000000000Z|2011-03-01T08:26:00.000000000Z|2011-03-01T08:26:00.000000000Z|2011-03-01T08:26:00.000000000Z|2011-03-01T08:26:00.000000000Z", "timestamp[ns, tz=UTC]");
  EXPECT_T("date_diff('day', t, timestamp '2011-03-02 08:00:00')", "0|15035|null|-305|40543", "int64");
  /* flooring: a gap of -1 hour is day -1 (pandas (b - a).dt.days) */
  EXPECT("date_diff('day', t, t - 1h)", "-1|-1|null|-1|-1");
  EXPECT("date_diff('day', t, t + 23h)", "0|0|null|0|0");
  EXPECT("date_diff('hour', t, u)", "1|1|null|1|1");
  EXPECT("date_diff('week', d, t)", "0|0|null|2191|-73");
  EXPECT("date_diff('second', t, t - 1ns)", "-1|-1|null|-1|-1");
  EXPECT("date_diff('millisecond', t, t + 1500us)", "1|1|null|1|1");
  EXPECT("extract(year from t)", "2011|1969|null|2011|1900");
  EXPECT("extract(month from t)", "3|12|null|12|2");
  EXPECT("extract(day from t)", "1|31|null|31|28");
  EXPECT("extract(hour from t)", "8|23|null|23|12");
  EXPECT("extract(minute from t)", "26|0|null|59|0");
  EXPECT("extract(second from t)", "0|0|null|59|0");
  EXPECT("extract(dow from t)", "2|3|null|6|3"); /* 0 = Sunday; 1900-02-28 was a Wednesday */
  EXPECT("extract(doy from t)", "60|365|null|365|59");
  EXPECT("extract('year', u)", "2011|1970|null|2012|1900");
  EXPECT("extract(year from d)", "2011|1969|null|1970|1901");
  EXPECT("extract(dow from d)", "2|3|null|4|1");
  EXPECT_T("d + 1d", "2011-03-02T00:00:00.000000000|1970-01-01T00:00:00.000000000|null|1970-01-02T00:00:00.000000000|1901-07-23T00:00:00.000000000", "timestamp[ns]");
  EXPECT("d - d = 0s", "true|true|null|true|true");
  EXPECT("d = '2011-03-01'", "true|false|null|false|false");
  EXPECT_T("(t - timestamp '2011-03-01') / 1h", "8.4333333333333336|-360817|null|7343.9998611111114|-973020", "float64");
  EXPECT("t + 106751d", "ERROR: at column 3: row 0: integer overflow: 1298967960000000000 + 9223286400000000000 [row 0]");
}

static void test_errors(void) {
  EXPECT("conv_rat + 1", "ERROR: at column 1: unknown column 'conv_rat' (did you mean 'conv_rate'?)");
  EXPECT("CONV_RATE", "ERROR: at column 1: unknown column 'CONV_RATE' (did you mean 'conv_rate'?)");
  EXPECT("zzzzzz", "ERROR: at column 1: unknown column 'zzzzzz'");
  EXPECT("i + cealesce(i, 1)", "ERROR: at column 5: unknown function 'cealesce' (did you mean 'coalesce'?)");
  EXPECT("frobnicate(i)", "ERROR: at column 1: unknown function 'frobnicate'");
  EXPECT("'abc' + 1", "ERROR: at column 7: '+' needs numbers, timestamps or durations; got string and int64");
  EXPECT("conv_rate + s", "ERROR: at column 11: '+' needs numbers, timestamps or durations; got float64 and string");
  EXPECT("i + ", "ERROR: at column 5: expected an expression, got end of expression");
  EXPECT("(i + 1", "ERROR: at column 7: expected ')', got end of expression");
  EXPECT("i + 1)", "ERROR: at column 6: unexpected ')' after the expression");
  EXPECT("'Ünï' = s +", "ERROR: at column 12: expected an expression, got end of expression");
  EXPECT("'abc", "ERROR: at column 1: unterminated string");
  EXPECT("i # 2", "ERROR: at column 3: unexpected character '#'");
  EXPECT("", "ERROR: at column 1: empty expression");
  EXPECT("t + 1", "ERROR: at column 3: '+' needs numbers, timestamps or durations; got timestamp and int64");
  EXPECT("t - t", "ERROR: at column 1: a duration is not a column type; use date_diff");
  EXPECT("1d", "ERROR: at column 1: a duration is not a column type; use date_diff");
  EXPECT("null", "ERROR: at column 1: the expression is always null and has no type; use cast(null as TYPE)");
  EXPECT("b and i", "ERROR: at column 3: 'and' needs bools; got bool and int64");
  EXPECT("not i", "ERROR: at column 1: not needs a bool; got int64");
  EXPECT("if(i, 1, 2)", "ERROR: at column 1: if needs a bool condition; got int64");
  EXPECT("if(b, 1, 'x')", "ERROR: at column 1: if needs both branches of one type; got int64 and string");
  EXPECT("coalesce(i, s)", "ERROR: at column 1: coalesce needs arguments of one type; got int64 and string");
  EXPECT("s < 1", "ERROR: at column 3: cannot compare string with int64");
  EXPECT("i in (1, 'a')", "ERROR: at column 10: in: cannot compare int64 with string");
  EXPECT("case when i then 1 end", "ERROR: at column 11: case needs bool conditions; got int64");
  EXPECT("case when b then 1 else 'x' end", "ERROR: at column 25: case needs values of one type; got int64 and string");
  EXPECT("round(s)", "ERROR: at column 1: round needs a number; got string");
  EXPECT("substr(s)", "ERROR: at column 1: substr takes 2 to 3 arguments, got 1");
  EXPECT("if(b, 1)", "ERROR: at column 1: if takes 3 arguments, got 2");
  EXPECT("coalesce()", "ERROR: at column 1: coalesce takes at least 1 argument, got 0");
  EXPECT("date_diff('days', t, t)", "ERROR: at column 11: unknown date_diff unit 'days' (week, day, hour, minute, second, millisecond, microsecond, nanosecond)");
  EXPECT("date_diff(s, t, t)", "ERROR: at column 11: date_diff needs a unit string first ('day', 'hour', ...)");
  EXPECT("date_diff('day', i, t)", "ERROR: at column 18: date_diff needs a timestamp or date; got int64");
  EXPECT("extract(week from t)", "ERROR: at column 9: unknown extract part 'week' (year, month, day, hour, minute, second, dow, doy)");
  EXPECT("1x", "ERROR: at column 2: unexpected 'x' after a number");
  EXPECT("1d2", "ERROR: at column 4: expected a duration unit (d, h, m, s, ms, us, ns)");
  EXPECT("i is 1", "ERROR: at column 6: expected null or not null, got number");
  EXPECT("case i end", "ERROR: at column 6: expected when, got 'i'");
  EXPECT("timestamp '2011-13-01'", "ERROR: at column 11: invalid timestamp literal '2011-13-01' (expected YYYY-MM-DD[ hh:mm[:ss[.f]]][Z|+hh:mm])");
  EXPECT("i and", "ERROR: at column 6: expected an expression, got end of expression");
  /* parse errors are MS_ERR_PARSE, type errors MS_ERR_INVALID */
  ms_expr *e;
  ms_error err;
  ms_field f = {"a", ms_type(MS_TYPE_INT64), true};
  CHECK(ms_expr_compile("a +", &f, 1, &e, &err) == MS_ERR_PARSE);
  CHECK(ms_expr_compile("a + 'x'", &f, 1, &e, &err) == MS_ERR_INVALID);
  CHECK(ms_expr_compile("b", &f, 1, &e, &err) == MS_ERR_INVALID);
  /* deep nesting is refused, not a stack overflow */
  char deep[2100];
  for (int k = 0; k < 1000; k++) deep[k] = '(';
  deep[1000] = 'a';
  for (int k = 0; k < 1000; k++) deep[1001 + k] = ')';
  deep[2001] = 0;
  CHECK(ms_expr_compile(deep, &f, 1, &e, &err) == MS_ERR_PARSE);
  CHECK(strstr(err.message, "nested too deeply") != NULL);
}

static void test_references_and_info(void) {
  char **names;
  int n;
  ms_error err;
  CHECK_OK(ms_expr_references("coalesce(b, a) + b * \"x y\" + v.f + extract(year from ts) "
                              "+ date_diff('day', ts, as_of)", &names, &n, &err), &err);
  CHECK_EQ_INT(n, 6);
  CHECK_STR(names[0], "b");
  CHECK_STR(names[1], "a");
  CHECK_STR(names[2], "x y");
  CHECK_STR(names[3], "v.f");
  CHECK_STR(names[4], "ts");
  CHECK_STR(names[5], "as_of");
  ms_expr_names_free(names, n);
  CHECK(ms_expr_references("a +", &names, &n, &err) == MS_ERR_PARSE);
  CHECK_STR(err.message, "at column 4: expected an expression, got end of expression");

  ms_field f[] = {{"a", ms_type(MS_TYPE_INT32), true}, {"b", ms_type(MS_TYPE_FLOAT64), true},
                  {"c", ms_type(MS_TYPE_INT64), true}};
  ms_expr *e;
  CHECK_OK(ms_expr_compile("c * 2 + c - a", f, 3, &e, &err), &err);
  CHECK_EQ_INT(ms_expr_num_used_inputs(e), 2);
  CHECK_EQ_INT(ms_expr_used_input(e, 0), 0);
  CHECK_EQ_INT(ms_expr_used_input(e, 1), 2);
  CHECK(!ms_expr_is_column(e));
  CHECK_STR(ms_expr_text(e), "c * 2 + c - a");
  CHECK(ms_expr_type(e)->id == MS_TYPE_INT64);
  /* evaluation never needs unused inputs; an int32 input is widened */
  int64_t av[] = {1, 2, NUL}, cv[] = {10, NUL, 30};
  ms_column *cols[3] = {col_typed(ms_type(MS_TYPE_INT32), av, 3), NULL, col_i64(cv, 3)};
  ms_column *out;
  CHECK_OK(ms_expr_eval(e, cols, 3, &out, &err), &err);
  CHECK_EQ_INT(ms_column_get_i64(out, 0), 29);
  CHECK(ms_column_is_null(out, 1) && ms_column_is_null(out, 2));
  ms_column_release(out);
  ms_expr_free(e);
  /* a type that does not compile the same way is refused at eval */
  CHECK_OK(ms_expr_compile("b", f, 3, &e, &err), &err);
  CHECK(ms_expr_is_column(e));
  CHECK(ms_expr_eval(e, cols, 3, &out, &err) == MS_ERR_INVALID); /* b not given */
  ms_column *wrong[3] = {NULL, cols[2], NULL};
  CHECK(ms_expr_eval(e, wrong, 3, &out, &err) == MS_ERR_TYPE);
  ms_expr_free(e);
  CHECK_OK(ms_expr_compile("a", f, 3, &e, &err), &err);
  CHECK(ms_expr_is_column(e));
  CHECK(ms_expr_type(e)->id == MS_TYPE_INT64);
  CHECK_OK(ms_expr_eval(e, cols, 3, &out, &err), &err);
  CHECK(ms_column_type(out)->id == MS_TYPE_INT64);
  CHECK_EQ_INT(ms_column_get_i64(out, 1), 2);
  ms_column_release(out);
  /* a column of the result type is passed through */
  ms_expr_free(e);
  CHECK_OK(ms_expr_compile("c", f, 3, &e, &err), &err);
  CHECK_OK(ms_expr_eval(e, cols, 3, &out, &err), &err);
  CHECK(out == cols[2]);
  ms_column_release(out);
  ms_expr_free(e);
  CHECK_OK(ms_expr_compile("cast(c as int64)", f, 3, &e, &err), &err);
  CHECK(!ms_expr_is_column(e));
  CHECK_OK(ms_expr_eval(e, cols, 3, &out, &err), &err);
  CHECK(out == cols[2]); /* an identity cast is free */
  ms_column_release(out);
  ms_expr_free(e);
  /* masks: null and false are dropped */
  CHECK_OK(ms_expr_compile("c > 5 or a = 2", f, 3, &e, &err), &err);
  uint8_t mask[3];
  int64_t kept;
  CHECK_OK(ms_expr_eval_mask(e, cols, 3, mask, &kept, &err), &err);
  CHECK(mask[0] == 1 && mask[1] == 1 && mask[2] == 1);
  CHECK_EQ_INT(kept, 3);
  ms_expr_free(e);
  CHECK_OK(ms_expr_compile("a + c > 12", f, 3, &e, &err), &err);
  CHECK_OK(ms_expr_eval_mask(e, cols, 3, mask, &kept, &err), &err);
  CHECK(mask[0] == 0 && mask[1] == 0 && mask[2] == 0);
  CHECK_EQ_INT(kept, 0);
  ms_expr_free(e);
  CHECK_OK(ms_expr_compile("a + c", f, 3, &e, &err), &err);
  CHECK(ms_expr_eval_mask(e, cols, 3, mask, &kept, &err) == MS_ERR_TYPE);
  /* zero and one rows (of longer columns) */
  CHECK_OK(ms_expr_eval(e, cols, 0, &out, &err), &err);
  CHECK_EQ_INT(ms_column_length(out), 0);
  ms_column_release(out);
  CHECK_OK(ms_expr_eval(e, cols, 1, &out, &err), &err);
  CHECK_EQ_INT(ms_column_length(out), 1);
  CHECK_EQ_INT(ms_column_get_i64(out, 0), 11);
  ms_column_release(out);
  ms_expr_free(e);
  CHECK_OK(ms_expr_compile("concat(cast(a as string), 'x')", f, 3, &e, &err), &err);
  CHECK_OK(ms_expr_eval(e, cols, 0, &out, &err), &err);
  CHECK_EQ_INT(ms_column_length(out), 0);
  ms_column_release(out);
  CHECK_OK(ms_expr_eval_mask(e, cols, 0, mask, &kept, &err) == MS_ERR_TYPE ? MS_OK : MS_ERR_INTERNAL, &err);
  ms_expr_free(e);
  ms_column_release(cols[0]);
  ms_column_release(cols[2]);
}

/* ---- large inputs: batches, nulls across batch edges, slices, threads ---- */

static uint64_t g_rng = 0x5eed5eed12345678ull;
static uint64_t rnd(void) {
  uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

#define BIG_N 10007
static ms_column *g_big[4]; /* a int64, b float64, s utf8, c bool */
static ms_field g_big_fields[4];

static void big_setup(void) {
  if (g_big[0]) return;
  ms_column_builder *b[4];
  g_big_fields[0] = (ms_field){"a", ms_type(MS_TYPE_INT64), true};
  g_big_fields[1] = (ms_field){"b", ms_type(MS_TYPE_FLOAT64), true};
  g_big_fields[2] = (ms_field){"s", ms_type(MS_TYPE_UTF8), true};
  g_big_fields[3] = (ms_field){"c", ms_type(MS_TYPE_BOOL), true};
  for (int k = 0; k < 4; k++) ms_column_builder_create(&g_big_fields[k].type, BIG_N, &b[k], NULL);
  for (int64_t i = 0; i < BIG_N; i++) {
    /* runs of nulls that cross the 2048-row batch edges */
    bool run = (i % 2048) > 2040 || (i % 2048) < 5;
    if (run || rnd() % 5 == 0) ms_builder_append_null(b[0]);
    else ms_builder_append_i64(b[0], (int64_t)(rnd() % 2001) - 1000);
    if (rnd() % 4 == 0) ms_builder_append_null(b[1]);
    else ms_builder_append_f64(b[1], (double)((int64_t)(rnd() % 2001) - 1000) / 8);
    if (rnd() % 6 == 0) {
      ms_builder_append_null(b[2]);
    } else {
      char buf[16];
      int len = (int)(rnd() % 6);
      for (int k = 0; k < len; k++) buf[k] = (char)('a' + rnd() % 3);
      ms_builder_append_bytes(b[2], buf, len);
    }
    if (run || rnd() % 3 == 0) ms_builder_append_null(b[3]);
    else ms_builder_append_bool(b[3], rnd() & 1);
  }
  for (int k = 0; k < 4; k++) {
    ms_builder_finish(b[k], &g_big[k], NULL);
    ms_column_builder_destroy(b[k]);
  }
}

/* Row-by-row reference of
 *   e1 = a * 3 + b                      (float, null if either is null)
 *   e2 = coalesce(a, 0) > 5 and c       (three-valued)
 *   e3 = if(a > 0, concat(s, 'x'), s)   (string) */
static const char *k_big_exprs[] = {"a * 3 + b", "coalesce(a, 0) > 5 and c",
                                    "if(a > 0, concat(s, 'x'), s)"};

static void check_big_row(int which, const ms_column *out, int64_t row, int64_t src, int *bad) {
  bool an = ms_column_is_null(g_big[0], src), bn = ms_column_is_null(g_big[1], src);
  bool sn = ms_column_is_null(g_big[2], src), cn = ms_column_is_null(g_big[3], src);
  int64_t a = an ? 0 : ms_column_get_i64(g_big[0], src);
  if (which == 0) {
    if (an || bn) {
      if (!ms_column_is_null(out, row)) (*bad)++;
    } else if (ms_column_is_null(out, row) ||
               ms_column_get_f64(out, row) != (double)(a * 3) + ms_column_get_f64(g_big[1], src)) {
      (*bad)++;
    }
  } else if (which == 1) {
    bool l = a > 5; /* coalesce(a, 0) */
    bool c = cn ? false : ms_column_get_bool(g_big[3], src);
    int want = !l ? 0 : cn ? -1 : c; /* false and x = false; true and null = null */
    int got = ms_column_is_null(out, row) ? -1 : ms_column_get_bool(out, row);
    if (want != got) (*bad)++;
  } else {
    int64_t len = 0;
    const uint8_t *p = sn ? NULL : ms_column_get_bytes(g_big[2], src, &len);
    char want[32];
    int wl = 0;
    bool want_null = sn && !(an ? false : a > 0);
    if (!sn) {
      memcpy(want, p, (size_t)len);
      wl = (int)len;
    }
    if (!an && a > 0) want[wl++] = 'x';
    if (want_null != ms_column_is_null(out, row)) {
      (*bad)++;
    } else if (!want_null) {
      int64_t gl;
      const uint8_t *g = ms_column_get_bytes(out, row, &gl);
      if (gl != wl || memcmp(g, want, (size_t)wl) != 0) (*bad)++;
    }
  }
}

static void test_big_batches(void) {
  big_setup();
  ms_error err;
  for (int w = 0; w < 3; w++) {
    ms_expr *e;
    CHECK_OK(ms_expr_compile(k_big_exprs[w], g_big_fields, 4, &e, &err), &err);
    ms_column *out;
    CHECK_OK(ms_expr_eval(e, g_big, BIG_N, &out, &err), &err);
    CHECK_EQ_INT(ms_column_length(out), BIG_N);
    int bad = 0;
    for (int64_t r = 0; r < BIG_N; r++) check_big_row(w, out, r, r, &bad);
    CHECK_MSG(bad == 0, "%s: %d wrong rows", k_big_exprs[w], bad);
    /* sliced inputs (offsets not multiples of 8) give the slice of the result */
    int64_t offs[] = {3, 77, 2047, 4099};
    for (int k = 0; k < 4; k++) {
      int64_t len = BIG_N - offs[k] - 5;
      ms_column *sl[4], *o2;
      for (int c = 0; c < 4; c++) CHECK_OK(ms_column_slice(g_big[c], offs[k], len, &sl[c], &err), &err);
      CHECK_OK(ms_expr_eval(e, sl, len, &o2, &err), &err);
      int bad2 = 0;
      for (int64_t r = 0; r < len; r++) check_big_row(w, o2, r, r + offs[k], &bad2);
      CHECK_MSG(bad2 == 0, "%s offset %lld: %d wrong rows", k_big_exprs[w], (long long)offs[k], bad2);
      if (w == 1) { /* the mask agrees with the column */
        uint8_t *mask = ms_malloc((size_t)len);
        int64_t kept, want = 0;
        CHECK_OK(ms_expr_eval_mask(e, sl, len, mask, &kept, &err), &err);
        for (int64_t r = 0; r < len; r++) {
          bool t = !ms_column_is_null(o2, r) && ms_column_get_bool(o2, r);
          want += t;
          if (mask[r] != t) bad2++;
        }
        ms_free(mask);
        CHECK_EQ_INT(bad2, 0);
        CHECK_EQ_INT(kept, want);
      }
      ms_column_release(o2);
      for (int c = 0; c < 4; c++) ms_column_release(sl[c]);
    }
    ms_column_release(out);
    ms_expr_free(e);
  }
  /* an overflow far into the input names its absolute row */
  ms_column_builder *b;
  ms_column *col, *out;
  ms_column_builder_create(&g_big_fields[0].type, 5000, &b, NULL);
  for (int i = 0; i < 5000; i++) ms_builder_append_i64(b, i == 4321 ? INT64_MAX - 1 : i);
  ms_builder_finish(b, &col, NULL);
  ms_column_builder_destroy(b);
  ms_expr *e;
  CHECK_OK(ms_expr_compile("a + 2", g_big_fields, 1, &e, &err), &err);
  CHECK(ms_expr_eval(e, &col, 5000, &out, &err) == MS_ERR_INVALID);
  CHECK_EQ_INT(err.row, 4321);
  CHECK_STR(err.message, "at column 3: row 4321: integer overflow: 9223372036854775806 + 2");
  ms_expr_free(e);
  ms_column_release(col);
}

/* Float text round-trips: cast(cast(x as string) as float64) = x for random bit patterns
 * (every exponent), and the text is the shortest that does (one digit fewer does not). */
static void test_float_text(void) {
  int n = 5000;
  ms_column_builder *b;
  ms_column *col, *txt, *back;
  ms_field f = {"x", ms_type(MS_TYPE_FLOAT64), true};
  ms_column_builder_create(&f.type, n, &b, NULL);
  for (int i = 0; i < n; i++) {
    uint64_t bits = rnd();
    double v;
    memcpy(&v, &bits, 8);
    if (isnan(v)) v = (double)i;
    if (i % 3 == 0) v = (double)(int64_t)(rnd() % 2000000) / 64; /* short decimals */
    ms_builder_append_f64(b, v);
  }
  ms_builder_finish(b, &col, NULL);
  ms_column_builder_destroy(b);
  ms_expr *e1, *e2;
  ms_error err;
  CHECK_OK(ms_expr_compile("cast(x as string)", &f, 1, &e1, &err), &err);
  CHECK_OK(ms_expr_eval(e1, &col, n, &txt, &err), &err);
  ms_field g = {"s", ms_type(MS_TYPE_UTF8), true};
  CHECK_OK(ms_expr_compile("cast(s as float64)", &g, 1, &e2, &err), &err);
  CHECK_OK(ms_expr_eval(e2, &txt, n, &back, &err), &err);
  int bad = 0;
  for (int i = 0; i < n; i++) {
    double v = ms_column_get_f64(col, i);
    if (ms_column_get_f64(back, i) != v) bad++;
    int64_t len;
    const uint8_t *p = ms_column_get_bytes(txt, i, &len);
    char s[64], shorter[64];
    snprintf(s, sizeof s, "%.*s", (int)len, (const char *)p);
    /* significant digits used (first to last non-zero), and whether one fewer would
     * still round-trip */
    char dg[64];
    int nd = 0;
    for (const char *q = s; *q && *q != 'e'; q++)
      if (*q >= '0' && *q <= '9' && (nd || *q != '0')) dg[nd++] = *q;
    while (nd > 0 && dg[nd - 1] == '0') nd--;
    snprintf(shorter, sizeof shorter, "%.*e", nd > 1 ? nd - 2 : 0, v);
    if (nd > 1 && strtod(shorter, NULL) == v) bad++;
  }
  CHECK_MSG(bad == 0, "%d values do not round-trip or are not shortest", bad);
  ms_column_release(col);
  ms_column_release(txt);
  ms_column_release(back);
  ms_expr_free(e1);
  ms_expr_free(e2);
}

typedef struct thread_arg {
  const ms_expr *e;
  ms_column *out;
  ms_status st;
} thread_arg;

static void *thread_main(void *p) {
  thread_arg *t = p;
  for (int k = 0; k < 20 && !t->st; k++) {
    ms_column_release(t->out);
    t->out = NULL;
    t->st = ms_expr_eval(t->e, g_big, BIG_N, &t->out, NULL);
  }
  return NULL;
}

static void test_threads(void) {
  big_setup();
  ms_error err;
  ms_expr *e;
  CHECK_OK(ms_expr_compile("if(c, concat(s, cast(a * 2 as string)), lower(s)) || ''", g_big_fields,
                           4, &e, &err) == MS_ERR_PARSE ? MS_OK : MS_ERR_INTERNAL, &err);
  CHECK_OK(ms_expr_compile("if(c, concat(s, cast(a * 2 as string)), upper(s))", g_big_fields, 4,
                           &e, &err), &err);
  ms_column *ref;
  CHECK_OK(ms_expr_eval(e, g_big, BIG_N, &ref, &err), &err);
  thread_arg ta[2] = {{e, NULL, MS_OK}, {e, NULL, MS_OK}};
  pthread_t th[2];
  for (int k = 0; k < 2; k++) pthread_create(&th[k], NULL, thread_main, &ta[k]);
  for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
  for (int k = 0; k < 2; k++) {
    CHECK(ta[k].st == MS_OK);
    CHECK(ms_column_equal(ta[k].out, ref));
    ms_column_release(ta[k].out);
  }
  ms_column_release(ref);
  ms_expr_free(e);
}

/* Mutated texts (characters and tokens inserted, deleted, replaced) must compile or fail
 * with a positioned message, never crash; those that compile must evaluate or fail with a
 * row. Run under ASan/UBSan in CI. */
static void test_mutations(void) {
  setup();
  static const char *seeds[] = {
      "coalesce(i, j) * 2 + f / 3 - abs(i % j)",
      "case when b and i > 0 then concat(s, '-', i) when s is null then 'x' else upper(s) end",
      "date_diff('day', t, u + 1d) + extract(year from d) + length(substr(s, 2, 3))",
      "if(n in ('12', null), cast(n as int64), least(i, j, 5)) >= round(f, 1) or not b",
      "cast(t as string) < 'Ünï' and starts_with(lower(s), 'a') and t >= timestamp '2011-01-01Z'",
      "greatest(f, pow(i, 2), sqrt(j), log(f), exp(1.5e-3)) - clip(i, -1, 1) * 1h30m / 1s",
  };
  static const char *tokens[] = {"(", ")", ",", "'", "\"", "+", "-", "*", "/", "%", "=", "<",
                                 ">", "!", " and ", " or ", " not ", " is ", " null ", " in ",
                                 "case ", " when ", " then ", " else ", " end", "cast(", " as ",
                                 "1d", "1e", ".", "9223372036854775807", "Ü", "[", "]", "x"};
  int nc = ms_table_num_columns(g_tab);
  ms_field fields[32];
  for (int k = 0; k < nc; k++) fields[k] = *ms_table_field(g_tab, k);
  int compiled = 0, evaluated = 0;
  for (int iter = 0; iter < 3000; iter++) {
    char text[512];
    snprintf(text, sizeof text, "%s", seeds[rnd() % 6]);
    int muts = 1 + (int)(rnd() % 3);
    for (int m = 0; m < muts; m++) {
      size_t len = strlen(text), at = len ? rnd() % len : 0;
      int kind = (int)(rnd() % 3);
      if (kind == 0 && len > 1) { /* delete a run */
        size_t k = 1 + rnd() % 4;
        if (at + k > len) k = len - at;
        memmove(text + at, text + at + k, len - at - k + 1);
      } else {
        const char *tok = tokens[rnd() % (sizeof tokens / sizeof *tokens)];
        size_t tl = strlen(tok);
        if (len + tl + 1 >= sizeof text) continue;
        if (kind == 2 && at < len) memmove(text + at, text + at + 1, len - at); /* replace */
        len = strlen(text);
        memmove(text + at + tl, text + at, len - at + 1);
        memcpy(text + at, tok, tl);
      }
    }
    ms_expr *e;
    ms_error err;
    ms_error_init(&err);
    ms_status st = ms_expr_compile(text, fields, nc, &e, &err);
    if (st) {
      CHECK_MSG(st == MS_ERR_PARSE || st == MS_ERR_INVALID, "%s: status %d", text, st);
      int col = -1;
      CHECK_MSG(sscanf(err.message, "at column %d:", &col) == 1 && col >= 1 &&
                    col <= (int)strlen(text) + 1, "%s: %s", text, err.message);
      continue;
    }
    compiled++;
    ms_column *out;
    st = ms_expr_eval_table(e, g_tab, &out, &err);
    if (st == MS_OK) {
      evaluated++;
      CHECK(ms_column_length(out) == NROWS);
      ms_column_release(out);
    } else {
      CHECK_MSG(st == MS_ERR_INVALID && err.row >= 0, "%s: %s", text, err.message);
    }
    ms_expr_free(e);
  }
  printf("mutations: %d compiled, %d evaluated\n", compiled, evaluated);
  CHECK(compiled > 50);
}

MS_TEST_MAIN(MS_TEST(test_arithmetic), MS_TEST(test_overflow_masks), MS_TEST(test_compare_logic),
             MS_TEST(test_conditionals), MS_TEST(test_casts), MS_TEST(test_math),
             MS_TEST(test_strings), MS_TEST(test_time), MS_TEST(test_errors),
             MS_TEST(test_references_and_info), MS_TEST(test_big_batches), MS_TEST(test_threads),
             MS_TEST(test_mutations), MS_TEST(test_float_text))
