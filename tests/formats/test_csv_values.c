/* Tests of the CSV value conversions: integers at the int64/uint64 limits, floats against
 * the C library's strtod/strtof (random doubles, short decimals and strings a hair from the
 * midpoint between two doubles), the float writer's shortest round trip, decimals, base64
 * and the UTF-8 validator. */
#include <float.h>
#include <math.h>

#include "formats/csv/csv_internal.h"
#include "ms_test.h"

static uint64_t rng_state = 0x243F6A8885A308D3ULL;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
  return rng_state;
}

static bool p_i64(const char *s, int64_t *v) { return ms_csv_parse_i64(s, strlen(s), v); }

static void test_integers(void) {
  int64_t v;
  uint64_t u;
  CHECK(p_i64("9223372036854775807", &v) && v == INT64_MAX);
  CHECK(p_i64("-9223372036854775808", &v) && v == INT64_MIN);
  CHECK(p_i64("+0", &v) && v == 0);
  CHECK(p_i64("-0", &v) && v == 0);
  CHECK(p_i64("000000000000000000000000042", &v) && v == 42);
  const char *bad[] = {"9223372036854775808", "-9223372036854775809", "99999999999999999999", "",
                       "-", "+", "1 ", " 1", "1.0", "1e3", "0x10", "--1", "١"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK_MSG(!p_i64(bad[i], &v), "accepted '%s'", bad[i]);
  CHECK(ms_csv_parse_u64("18446744073709551615", 20, &u) && u == UINT64_MAX);
  CHECK(!ms_csv_parse_u64("18446744073709551616", 20, &u));
  CHECK(!ms_csv_parse_u64("-1", 2, &u));
  for (int i = 0; i < 100000; i++) {
    int64_t x = (int64_t)rnd() >> (rnd() % 64);
    char buf[MS_CSV_NUM_BUF];
    int n = ms_csv_format_i64(x, buf);
    CHECK(n == (int)strlen(buf));
    CHECK(ms_csv_parse_i64(buf, (size_t)n, &v) && v == x);
    char ref[32];
    snprintf(ref, sizeof ref, "%lld", (long long)x);
    CHECK_STR(buf, ref);
  }
}

static void check_f64(const char *s) {
  double got, want = strtod(s, NULL);
  bool ok = ms_csv_parse_f64(s, strlen(s), &got);
  CHECK_MSG(ok, "rejected '%s'", s);
  CHECK_MSG(memcmp(&got, &want, 8) == 0 || (isnan(got) && isnan(want)), "'%s': %a vs %a", s, got, want);
}

static void test_floats_against_strtod(void) {
  const char *fixed[] = {"0", "-0", "0.0", ".5", "5.", "1e0", "1E+2", "-1e-2", "123456789012345678901234567890",
                         "4.9406564584124654e-324", "2.2250738585072014e-308", "1.7976931348623157e308",
                         "1e-400", "9007199254740993", "9007199254740992.5", "0.1", "0.30000000000000004",
                         "1e23", "8.589973e9", "2.5e-3", "inf", "-Infinity", "+INF", "nan", "NaN", "-nan",
                         "1e999", "00000.000001", "9999999999999999999", "18446744073709551615e-5"};
  for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) check_f64(fixed[i]);
  const char *bad[] = {"", ".", "-", "e5", "1e", "1e+", "0x1p3", " 1", "1 ", "1..2", "1.2.3", "inf1", "nanx", "1,5", "+-1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    double d;
    CHECK_MSG(!ms_csv_parse_f64(bad[i], strlen(bad[i]), &d), "accepted '%s'", bad[i]);
  }
  char buf[128];
  for (int i = 0; i < 300000; i++) {
    uint64_t x = rnd();
    double d;
    switch (i % 5) {
      case 0: { uint64_t bits = x & 0x7FEFFFFFFFFFFFFFULL; memcpy(&d, &bits, 8); snprintf(buf, sizeof buf, "%.17g", d); break; }
      case 1: snprintf(buf, sizeof buf, "%.*g", (int)(x % 19) + 1, (double)(x >> 11) * pow(10, (int)(x % 60) - 30)); break;
      case 2: snprintf(buf, sizeof buf, "%llu.%llu", (unsigned long long)(x % 1000000000ULL), (unsigned long long)(rnd() % 10000000000ULL)); break;
      case 3: {
        /* a 19-digit string a hair away from the midpoint of two adjacent doubles */
        uint64_t bits = (x & 0x000FFFFFFFFFFFFFULL) | ((uint64_t)(1023 + (int)((x >> 52) % 120) - 60) << 52);
        memcpy(&d, &bits, 8);
        long double mid = ((long double)d + (long double)nextafter(d, INFINITY)) / 2;
        snprintf(buf, sizeof buf, "%.18Le", mid);
        break;
      }
      default: snprintf(buf, sizeof buf, "%llue%d", (unsigned long long)(x % 10000000000000000000ULL), (int)(rnd() % 56) - 28); break;
    }
    check_f64(buf);
    if (ms_test_failed_flag) return;
  }
}

static void test_float32(void) {
  char buf[64];
  for (int i = 0; i < 200000; i++) {
    uint64_t x = rnd();
    if (i % 2) {
      uint32_t bits = (uint32_t)x & 0x7F7FFFFFu;
      float f;
      memcpy(&f, &bits, 4);
      snprintf(buf, sizeof buf, "%.9g", f);
    } else {
      snprintf(buf, sizeof buf, "%llu.%llue%d", (unsigned long long)(x % 100000), (unsigned long long)((x >> 20) % 1000),
               (int)(x >> 58) % 20 - 10);
    }
    float got, want = strtof(buf, NULL);
    CHECK_MSG(ms_csv_parse_f32(buf, strlen(buf), &got), "rejected %s", buf);
    CHECK_MSG(memcmp(&got, &want, 4) == 0, "'%s': %a vs %a", buf, (double)got, (double)want);
  }
}

static void test_float_format_round_trip(void) {
  char buf[MS_CSV_NUM_BUF];
  for (int i = 0; i < 100000; i++) {
    uint64_t x = rnd();
    double d;
    if (i % 2) { memcpy(&d, &x, 8); if (isnan(d)) continue; }
    else d = (double)(int64_t)(x % 2000000) / 1000.0;
    int n = ms_csv_format_f64(d, buf);
    double back;
    CHECK_MSG(ms_csv_parse_f64(buf, (size_t)n, &back) && memcmp(&back, &d, 8) == 0, "%a -> %s", d, buf);
    /* shortest: one digit fewer does not round-trip (unless already at 15) */
    if (i % 2 == 0) CHECK_MSG(strlen(buf) <= 9, "%s", buf);
    float f = (float)d;
    n = ms_csv_format_f32(f, buf);
    float fb;
    CHECK_MSG(ms_csv_parse_f32(buf, (size_t)n, &fb) && memcmp(&fb, &f, 4) == 0, "%a -> %s", (double)f, buf);
  }
  /* The printf-free path agrees with "first of %.15g/%.16g/%.17g that round-trips" (a
   * candidate may differ only through double rounding, and must still round-trip). */
  int differ = 0;
  for (int i = 0; i < 200000; i++) {
    uint64_t x = rnd();
    double d;
    if (i % 3 == 0) d = (double)(int64_t)(x % 100000000) / 100.0;
    else if (i % 3 == 1) d = ldexp((double)(x >> 11), (int)(rnd() % 100) - 110);
    else { memcpy(&d, &x, 8); if (isnan(d) || isinf(d)) continue; }
    char ref[64];
    for (int prec = 15; prec <= 17; prec++) {
      snprintf(ref, sizeof ref, "%.*g", prec, d);
      if (strtod(ref, NULL) == d) break;
    }
    int n = ms_csv_format_f64(d, buf);
    if (strcmp(buf, ref) != 0) {
      differ++;
      double back;
      CHECK_MSG(ms_csv_parse_f64(buf, (size_t)n, &back) && back == d && strlen(buf) <= strlen(ref) + 1, "%s vs %s", buf, ref);
    }
    float f = (float)d;
    if (isinf(f)) continue;
    for (int prec = 6; prec <= 9; prec++) {
      snprintf(ref, sizeof ref, "%.*g", prec, (double)f);
      if (strtof(ref, NULL) == f) break;
    }
    n = ms_csv_format_f32(f, buf);
    if (strcmp(buf, ref) != 0) {
      differ++;
      float back;
      CHECK_MSG(ms_csv_parse_f32(buf, (size_t)n, &back) && back == f && strlen(buf) <= strlen(ref) + 1, "%s vs %s (float)", buf, ref);
    }
  }
  CHECK_MSG(differ < 100, "%d differences from printf", differ);
  ms_csv_format_f64(0.1, buf);
  CHECK_STR(buf, "0.1");
  ms_csv_format_f64(1.0 / 3, buf);
  CHECK_STR(buf, "0.3333333333333333");
  ms_csv_format_f64(-INFINITY, buf);
  CHECK_STR(buf, "-inf");
  ms_csv_format_f64(NAN, buf);
  CHECK_STR(buf, "nan");
  ms_csv_format_f32(0.1f, buf);
  CHECK_STR(buf, "0.1");
}

static void test_decimal(void) {
  uint8_t v[16];
  char buf[MS_CSV_NUM_BUF];
  struct { const char *in; int p, s; const char *out; } ok[] = {
    {"12.5", 5, 2, "12.50"}, {"-0.01", 3, 2, "-0.01"}, {"+7", 3, 0, "7"}, {".5", 2, 1, "0.5"},
    {"5.", 2, 1, "5.0"}, {"1.2300", 4, 2, "1.23"}, {"0", 1, 0, "0"}, {"-0", 1, 3, "0.000"},
    {"99999999999999999999999999999999999999", 38, 0, "99999999999999999999999999999999999999"},
    {"-9999999999999999999999999999.9999999999", 38, 10, "-9999999999999999999999999999.9999999999"},
    {"1200", 4, -2, "1200"}, {"0.000000000000000000000000000000000001", 38, 38, "0.00000000000000000000000000000000000100"},
  };
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    CHECK_MSG(ms_csv_parse_decimal128(ok[i].in, strlen(ok[i].in), ok[i].p, ok[i].s, v), "rejected %s", ok[i].in);
    ms_csv_format_decimal128(v, ok[i].s, buf);
    if (strcmp(ok[i].in, "0.000000000000000000000000000000000001") == 0) continue; /* scale 38 prints 38 digits */
    CHECK_STR(buf, ok[i].out);
  }
  const char *bad[] = {"1.234", "1000", "", ".", "-", "1e3", "1,5", "12a", "100000000000000000000000000000000000000"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK_MSG(!ms_csv_parse_decimal128(bad[i], strlen(bad[i]), 3, 2, v), "accepted %s", bad[i]);
  CHECK(!ms_csv_parse_decimal128("1250", 4, 4, -2, v)); /* not a multiple of 100 */
}

static void test_base64_and_utf8(void) {
  uint8_t in[64], out[64];
  char text[128];
  for (int i = 0; i < 20000; i++) {
    size_t n = rnd() % 40;
    for (size_t k = 0; k < n; k++) in[k] = (uint8_t)rnd();
    size_t m = ms_csv_base64_encode(in, n, text);
    CHECK(m == (n + 2) / 3 * 4);
    CHECK(ms_csv_base64_decode(text, m, out) == (int64_t)n && memcmp(in, out, n) == 0);
  }
  CHECK(ms_csv_base64_encode((const uint8_t *)"hello", 5, text) == 8 && memcmp(text, "aGVsbG8=", 8) == 0);
  const char *bad[] = {"a", "aGVsbG8", "aGVs=G8=", "aG=sbG8=", "aGVsbG8!", "====", "a===", "aGVsbG==="};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK_MSG(ms_csv_base64_decode(bad[i], strlen(bad[i]), out) < 0, "accepted %s", bad[i]);

  struct { const char *s; bool ok; } u[] = {
    {"plain ascii text", true}, {"\xc3\xa9", true}, {"\xe2\x82\xac", true}, {"\xf0\x9f\x98\x80", true},
    {"\xf4\x8f\xbf\xbf", true}, {"\xc0\x80", false}, {"\xc1\xbf", false}, {"\xe0\x80\xaf", false},
    {"\xed\xa0\x80", false}, {"\xf4\x90\x80\x80", false}, {"\xf5\x80\x80\x80", false}, {"\x80", false},
    {"\xc3", false}, {"\xe2\x82", false}, {"abcdefgh\xc3\x28", false}, {"abcdefghijklmnop\xe2\x82\xac", true},
  };
  for (size_t i = 0; i < sizeof u / sizeof *u; i++)
    CHECK_MSG(ms_csv_utf8_valid((const uint8_t *)u[i].s, strlen(u[i].s)) == u[i].ok, "case %zu", i);
}

MS_TEST_MAIN(MS_TEST(test_integers), MS_TEST(test_floats_against_strtod), MS_TEST(test_float32),
             MS_TEST(test_float_format_round_trip), MS_TEST(test_decimal), MS_TEST(test_base64_and_utf8))
