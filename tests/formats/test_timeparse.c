/* Tests of the ISO-8601 helpers: calendar conversion checked against the C library's
 * timegm/gmtime_r, parsing of every accepted form (and rejection of near misses), the
 * int64 nanosecond range boundaries, and formatting for every unit, before and after 1970. */
#include <time.h>

#include "formats/timeparse.h"
#include "ms_test.h"

static int64_t libc_days(int y, int m, int d) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  return (int64_t)timegm(&tm) / 86400;
}

static void test_known_days(void) {
  CHECK_EQ_INT(ms_days_from_civil(1970, 1, 1), 0);
  CHECK_EQ_INT(ms_days_from_civil(1969, 12, 31), -1);
  CHECK_EQ_INT(ms_days_from_civil(2000, 2, 29), 11016);
  CHECK_EQ_INT(ms_days_from_civil(2000, 3, 1), 11017);
  CHECK_EQ_INT(ms_days_from_civil(0, 1, 1), -719528);
  CHECK_EQ_INT(ms_days_from_civil(9999, 12, 31), 2932896);
  CHECK_EQ_INT(ms_days_from_civil(1900, 3, 1), -25508);
  CHECK(ms_is_leap_year(2000) && ms_is_leap_year(2024) && !ms_is_leap_year(1900) &&
        !ms_is_leap_year(2100) && ms_is_leap_year(1600));
  CHECK_EQ_INT(ms_days_in_month(1900, 2), 28);
  CHECK_EQ_INT(ms_days_in_month(2004, 2), 29);
}

/* Every day 1600..2600 against timegm/gmtime_r, and the round trip over 0000..9999. */
static void test_calendar_against_libc(void) {
  for (int y = 1600; y <= 2600; y++)
    for (int m = 1; m <= 12; m++)
      for (int d = 1; d <= ms_days_in_month(y, m); d++)
        CHECK_EQ_INT(ms_days_from_civil(y, m, d), libc_days(y, m, d));
  int64_t first = ms_days_from_civil(0, 1, 1), last = ms_days_from_civil(9999, 12, 31);
  int64_t py = 0; int pm = 1, pd = 0;
  for (int64_t z = first; z <= last; z++) {
    int64_t y; int m, d;
    ms_civil_from_days(z, &y, &m, &d);
    CHECK_EQ_INT(ms_days_from_civil(y, m, d), z);
    /* consecutive days advance the calendar by one */
    if (z > first) {
      bool next = (y == py && m == pm && d == pd + 1) || (y == py && m == pm + 1 && d == 1) ||
                  (y == py + 1 && m == 1 && d == 1 && pm == 12);
      CHECK_MSG(next, "day %lld", (long long)z);
    }
    py = y; pm = m; pd = d;
  }
  for (int64_t z = -20000; z < 20000; z += 7) {
    time_t t = (time_t)(z * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    int64_t y; int m, d;
    ms_civil_from_days(z, &y, &m, &d);
    CHECK_EQ_INT(y, tm.tm_year + 1900);
    CHECK_EQ_INT(m, tm.tm_mon + 1);
    CHECK_EQ_INT(d, tm.tm_mday);
  }
}

static void test_parse_date(void) {
  int32_t d;
  CHECK(ms_parse_date("2024-02-29", 10, &d) && d == libc_days(2024, 2, 29));
  CHECK(ms_parse_date("1950-07-04", 10, &d) && d == libc_days(1950, 7, 4));
  CHECK(ms_parse_date("0001-01-01", 10, &d) && d == ms_days_from_civil(1, 1, 1));
  const char *bad[] = {"2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10", "2024-01-00",
                       "2024-04-31", "2024-1-01",  "2024/01/01", "24-01-01",   "2024-01-01 ",
                       " 2024-01-01", "2024-01-0x", "+2024-01-01", ""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK_MSG(!ms_parse_date(bad[i], strlen(bad[i]), &d), "accepted '%s'", bad[i]);
  /* The length is honoured: no NUL needed, trailing bytes outside len are ignored. */
  CHECK(ms_parse_date("2024-01-01XYZ", 10, &d) && d == libc_days(2024, 1, 1));
}

static int64_t ns_of(int y, int mo, int d, int h, int mi, int s, int64_t frac_ns) {
  return (libc_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000000000LL + frac_ns;
}

static void test_parse_timestamp(void) {
  struct { const char *text; int64_t ns; bool off; } ok[] = {
    {"2024-01-02T03:04:05", ns_of(2024, 1, 2, 3, 4, 5, 0), false},
    {"2024-01-02 03:04:05", ns_of(2024, 1, 2, 3, 4, 5, 0), false},
    {"2024-01-02t03:04", ns_of(2024, 1, 2, 3, 4, 0, 0), false},
    {"2024-01-02T03:04:05Z", ns_of(2024, 1, 2, 3, 4, 5, 0), true},
    {"2024-01-02T03:04:05z", ns_of(2024, 1, 2, 3, 4, 5, 0), true},
    {"2024-01-02T03:04Z", ns_of(2024, 1, 2, 3, 4, 0, 0), true},
    {"2024-01-02T03:04:05.1", ns_of(2024, 1, 2, 3, 4, 5, 100000000), false},
    {"2024-01-02T03:04:05.12", ns_of(2024, 1, 2, 3, 4, 5, 120000000), false},
    {"2024-01-02T03:04:05.123", ns_of(2024, 1, 2, 3, 4, 5, 123000000), false},
    {"2024-01-02T03:04:05.1234", ns_of(2024, 1, 2, 3, 4, 5, 123400000), false},
    {"2024-01-02T03:04:05.12345", ns_of(2024, 1, 2, 3, 4, 5, 123450000), false},
    {"2024-01-02T03:04:05.123456", ns_of(2024, 1, 2, 3, 4, 5, 123456000), false},
    {"2024-01-02T03:04:05.1234567", ns_of(2024, 1, 2, 3, 4, 5, 123456700), false},
    {"2024-01-02T03:04:05.12345678", ns_of(2024, 1, 2, 3, 4, 5, 123456780), false},
    {"2024-01-02T03:04:05.123456789Z", ns_of(2024, 1, 2, 3, 4, 5, 123456789), true},
    {"2024-01-02T03:04:05.000000001", ns_of(2024, 1, 2, 3, 4, 5, 1), false},
    {"2024-01-02T03:04:05+05:30", ns_of(2024, 1, 1, 21, 34, 5, 0), true},
    {"2024-01-02T03:04:05-0800", ns_of(2024, 1, 2, 11, 4, 5, 0), true},
    {"2024-01-02T03:04:05.5+01", ns_of(2024, 1, 2, 2, 4, 5, 500000000), true},
    {"2024-01-02T03:04:05-00:00", ns_of(2024, 1, 2, 3, 4, 5, 0), true},
    {"2024-12-31T23:30:00-01:00", ns_of(2025, 1, 1, 0, 30, 0, 0), true},
    {"1969-12-31T23:59:59.999999999", -1, false},
    {"1960-06-15T12:00:00.25Z", ns_of(1960, 6, 15, 12, 0, 0, 250000000), true},
    {"1900-03-01 00:00:00", ns_of(1900, 3, 1, 0, 0, 0, 0), false},
    {"2024-02-29", ns_of(2024, 2, 29, 0, 0, 0, 0), false},
    {"1677-09-21T00:12:43.145224192Z", INT64_MIN, true},
    {"2262-04-11T23:47:16.854775807", INT64_MAX, false},
  };
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    int64_t ns = 0;
    bool off = !ok[i].off;
    CHECK_MSG(ms_parse_timestamp_ns(ok[i].text, strlen(ok[i].text), &ns, &off), "rejected '%s'", ok[i].text);
    CHECK_MSG(ns == ok[i].ns, "'%s' -> %lld, expected %lld", ok[i].text, (long long)ns, (long long)ok[i].ns);
    CHECK_MSG(off == ok[i].off, "'%s' offset flag", ok[i].text);
  }
  const char *bad[] = {
    "2024-01-02T24:00:00", "2024-01-02T23:60:00", "2024-01-02T23:59:60", "2024-01-02T3:04:05",
    "2024-01-02T03:04:05.", "2024-01-02T03:04:05.1234567890", "2024-01-02X03:04:05",
    "2024-01-02T03", "2024-01-02T03:04:5", "2024-01-02T03:04:05+5", "2024-01-02T03:04:05+05:3",
    "2024-01-02T03:04:05+24:00", "2024-01-02T03:04:05+05:60", "2024-01-02T03:04:05Z ",
    "2024-01-02T03:04:05 ", "2024-01-02T03:04:05ZZ", "2024-02-30T00:00:00", "2024-01-02T",
    "2024-01-02 ", "1677-09-21T00:12:43.145224191Z", "2262-04-11T23:47:16.854775808",
    "2024-01-02T03:04:05+05:30:00", "2024-01-02T03:04:05.12a",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int64_t ns;
    CHECK_MSG(!ms_parse_timestamp_ns(bad[i], strlen(bad[i]), &ns, NULL), "accepted '%s'", bad[i]);
  }
  ms_timestamp_parts p;
  CHECK(!ms_parse_timestamp_parts("2024-01-02", 10, false, &p));
  CHECK(ms_parse_timestamp_parts("2024-01-02", 10, true, &p) && p.date_only && !p.has_offset);
  /* Years the ns range cannot hold still parse into parts and other units. */
  CHECK(ms_parse_timestamp_parts("3000-01-01T00:00:00.5Z", 22, false, &p));
  int64_t v;
  CHECK(!ms_timestamp_from_parts(&p, MS_UNIT_NANO, true, &v));
  CHECK(ms_timestamp_from_parts(&p, MS_UNIT_MILLI, true, &v));
  CHECK_EQ_INT(v, libc_days(3000, 1, 1) * 86400000LL + 500);
  CHECK(ms_parse_timestamp_parts("2000-01-01T00:00:00.0005", 24, false, &p));
  CHECK(!ms_timestamp_from_parts(&p, MS_UNIT_MILLI, true, &v));
  CHECK(ms_timestamp_from_parts(&p, MS_UNIT_MILLI, false, &v));
  CHECK_EQ_INT(v, libc_days(2000, 1, 1) * 86400000LL);
  CHECK(ms_timestamp_from_parts(&p, MS_UNIT_MICRO, true, &v));
  CHECK_EQ_INT(v, libc_days(2000, 1, 1) * 86400000000LL + 500);
}

static void test_format(void) {
  char buf[MS_TIMESTAMP_BUF_SIZE];
  CHECK_EQ_INT(ms_format_date32(0, buf), 10);
  CHECK_STR(buf, "1970-01-01");
  ms_format_date32(-1, buf);
  CHECK_STR(buf, "1969-12-31");
  ms_format_date32((int32_t)libc_days(2024, 2, 29), buf);
  CHECK_STR(buf, "2024-02-29");
  ms_format_date32((int32_t)ms_days_from_civil(1, 1, 1), buf);
  CHECK_STR(buf, "0001-01-01");
  ms_format_date32((int32_t)ms_days_from_civil(10000, 1, 1), buf);
  CHECK_STR(buf, "+10000-01-01");
  ms_format_date32((int32_t)ms_days_from_civil(-1, 12, 31), buf);
  CHECK_STR(buf, "-0001-12-31");

  int64_t base = libc_days(2024, 1, 2) * 86400 + 3 * 3600 + 4 * 60 + 5;
  ms_format_timestamp(base, MS_UNIT_SECOND, false, buf);
  CHECK_STR(buf, "2024-01-02T03:04:05");
  ms_format_timestamp(base * 1000 + 120, MS_UNIT_MILLI, true, buf);
  CHECK_STR(buf, "2024-01-02T03:04:05.120Z");
  ms_format_timestamp(base * 1000000 + 123456, MS_UNIT_MICRO, true, buf);
  CHECK_STR(buf, "2024-01-02T03:04:05.123456Z");
  ms_format_timestamp(base * 1000000000 + 7, MS_UNIT_NANO, false, buf);
  CHECK_STR(buf, "2024-01-02T03:04:05.000000007");
  ms_format_timestamp(-1, MS_UNIT_NANO, false, buf);
  CHECK_STR(buf, "1969-12-31T23:59:59.999999999");
  ms_format_timestamp(-1, MS_UNIT_MILLI, true, buf);
  CHECK_STR(buf, "1969-12-31T23:59:59.999Z");
  ms_format_timestamp(INT64_MIN, MS_UNIT_NANO, true, buf);
  CHECK_STR(buf, "1677-09-21T00:12:43.145224192Z");
  ms_format_timestamp(INT64_MAX, MS_UNIT_NANO, false, buf);
  CHECK_STR(buf, "2262-04-11T23:47:16.854775807");
  /* Extreme second counts must not overflow the buffer or the arithmetic. */
  CHECK(ms_format_timestamp(INT64_MIN, MS_UNIT_SECOND, true, buf) < MS_TIMESTAMP_BUF_SIZE);
  CHECK(ms_format_timestamp(INT64_MAX, MS_UNIT_SECOND, true, buf) < MS_TIMESTAMP_BUF_SIZE);
}

/* format -> parse is the identity for every unit over a pseudo-random spread of values. */
static void test_format_parse_round_trip(void) {
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 200000; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    ms_time_unit unit = (ms_time_unit)(i % 4);
    int64_t per = ms_time_unit_per_second(unit);
    /* stay within years 0001..9999 */
    int64_t lo = ms_days_from_civil(1, 1, 1) * 86400, hi = ms_days_from_civil(9999, 12, 31) * 86400;
    int64_t secs = lo + (int64_t)(x % (uint64_t)(hi - lo));
    int64_t v = unit == MS_UNIT_NANO ? (int64_t)(x >> 1) : secs * per + (int64_t)((x >> 20) % (uint64_t)per);
    char buf[MS_TIMESTAMP_BUF_SIZE];
    int n = ms_format_timestamp(v, unit, i & 1, buf);
    CHECK_EQ_INT(n, (int)strlen(buf));
    ms_timestamp_parts p;
    int64_t back;
    CHECK_MSG(ms_parse_timestamp_parts(buf, (size_t)n, false, &p), "'%s'", buf);
    CHECK(p.has_offset == (bool)(i & 1));
    CHECK(ms_timestamp_from_parts(&p, unit, true, &back));
    CHECK_MSG(back == v, "'%s': %lld != %lld", buf, (long long)back, (long long)v);
    int32_t days = (int32_t)(secs / 86400);
    ms_format_date32(days, buf);
    int32_t dback;
    CHECK(ms_parse_date(buf, strlen(buf), &dback) && dback == days);
  }
}

MS_TEST_MAIN(MS_TEST(test_known_days), MS_TEST(test_calendar_against_libc),
             MS_TEST(test_parse_date), MS_TEST(test_parse_timestamp), MS_TEST(test_format),
             MS_TEST(test_format_parse_round_trip))
