/* ISO-8601 date/timestamp parsing and formatting (see timeparse.h for the grammar).
 *
 * The calendar conversion is the classic era-based one (400-year eras of 146,097 days,
 * years starting in March so the leap day is last), exact for every int64 day count we can
 * meet. Parsing is a hand-written scanner over fixed positions: no sscanf, no locale, no
 * NUL terminator needed, so it can run on fields straight out of a mapped file. */
#include "formats/timeparse.h"

#include <stdio.h>
#include <string.h>

bool ms_is_leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int ms_days_in_month(int64_t y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  return m == 2 && ms_is_leap_year(y) ? 29 : days[m - 1];
}

int64_t ms_days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;                                    /* [0, 399] */
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

void ms_civil_from_days(int64_t z, int64_t *year, int *month, int *day) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = (int)(doy - (153 * mp + 2) / 5 + 1);
  int m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *year = y + (m <= 2);
  *month = m;
  *day = d;
}

/* n decimal digits at s; -1 when any is not a digit. */
static int digits(const char *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    unsigned c = (unsigned char)s[i] - '0';
    if (c > 9) return -1;
    v = v * 10 + (int)c;
  }
  return v;
}

/* Parses the 10-byte date at s; returns false when malformed or not a real date. */
static bool parse_ymd(const char *s, int64_t *out_days) {
  if (s[4] != '-' || s[7] != '-') return false;
  int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > ms_days_in_month(y, m)) return false;
  *out_days = ms_days_from_civil(y, m, d);
  return true;
}

bool ms_parse_date(const char *s, size_t len, int32_t *out_days) {
  int64_t days;
  if (len != 10 || !parse_ymd(s, &days)) return false;
  *out_days = (int32_t)days;
  return true;
}

bool ms_parse_timestamp_parts(const char *s, size_t len, bool allow_date_only,
                              ms_timestamp_parts *out) {
  int64_t days;
  if (len < 10 || !parse_ymd(s, &days)) return false;
  memset(out, 0, sizeof *out);
  if (len == 10) {
    if (!allow_date_only) return false;
    out->seconds = days * 86400;
    out->date_only = true;
    return true;
  }
  /* date, separator, hh:mm */
  if (len < 16 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':') return false;
  int hh = digits(s + 11, 2), mi = digits(s + 14, 2), ss = 0;
  if (hh < 0 || hh > 23 || mi < 0 || mi > 59) return false;
  size_t i = 16;
  int32_t nanos = 0;
  if (i < len && s[i] == ':') {
    if (len < i + 3) return false;
    ss = digits(s + i + 1, 2);
    if (ss < 0 || ss > 59) return false;
    i += 3;
    if (i < len && s[i] == '.') {
      i++;
      int nd = 0;
      while (i < len && (unsigned)((unsigned char)s[i] - '0') <= 9) {
        if (++nd > 9) return false;
        nanos = nanos * 10 + (s[i] - '0');
        i++;
      }
      if (nd == 0) return false;
      for (int k = nd; k < 9; k++) nanos *= 10;
    }
  }
  int64_t offset_s = 0;
  bool has_offset = false;
  if (i < len) {
    if (s[i] == 'Z' || s[i] == 'z') {
      has_offset = true;
      i++;
    } else if (s[i] == '+' || s[i] == '-') {
      int sign = s[i] == '-' ? -1 : 1;
      size_t rest = len - i - 1;
      const char *o = s + i + 1;
      int oh, om = 0;
      if (rest == 2) {
        oh = digits(o, 2);
      } else if (rest == 4) {
        oh = digits(o, 2);
        om = digits(o + 2, 2);
      } else if (rest == 5 && o[2] == ':') {
        oh = digits(o, 2);
        om = digits(o + 3, 2);
      } else {
        return false;
      }
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return false;
      offset_s = sign * (int64_t)(oh * 3600 + om * 60);
      has_offset = true;
      i = len;
    } else {
      return false;
    }
  }
  if (i != len) return false;
  /* Local time = UTC + offset, so UTC = local - offset. */
  out->seconds = days * 86400 + hh * 3600 + mi * 60 + ss - offset_s;
  out->nanos = nanos;
  out->has_offset = has_offset;
  return true;
}

bool ms_timestamp_from_parts(const ms_timestamp_parts *p, ms_time_unit unit, bool exact,
                             int64_t *out) {
  int64_t per = ms_time_unit_per_second(unit);
  int64_t div = 1000000000 / per;
  if (exact && p->nanos % div != 0) return false;
  int64_t v, secs = p->seconds, sub = p->nanos / div;
  /* Borrow a second for negative times so the product cannot overflow needlessly at the
   * bottom of the range (INT64_MIN ns is -9223372037 s + 0.145224192 s). */
  if (secs < 0 && sub > 0) { secs++; sub -= per; }
  if (__builtin_mul_overflow(secs, per, &v)) return false;
  if (__builtin_add_overflow(v, sub, &v)) return false;
  *out = v;
  return true;
}

bool ms_parse_timestamp_ns(const char *s, size_t len, int64_t *out_ns, bool *out_has_offset) {
  ms_timestamp_parts p;
  if (!ms_parse_timestamp_parts(s, len, true, &p)) return false;
  if (!ms_timestamp_from_parts(&p, MS_UNIT_NANO, true, out_ns)) return false;
  if (out_has_offset) *out_has_offset = p.has_offset;
  return true;
}

/* Writes year-month-day; years outside 0..9999 get a sign (ISO-8601 expanded form). */
static int put_ymd(int64_t days, char *buf) {
  int64_t y;
  int m, d;
  ms_civil_from_days(days, &y, &m, &d);
  if (y >= 0 && y <= 9999) {
    buf[0] = (char)('0' + y / 1000);
    buf[1] = (char)('0' + y / 100 % 10);
    buf[2] = (char)('0' + y / 10 % 10);
    buf[3] = (char)('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + m / 10);
    buf[6] = (char)('0' + m % 10);
    buf[7] = '-';
    buf[8] = (char)('0' + d / 10);
    buf[9] = (char)('0' + d % 10);
    buf[10] = '\0';
    return 10;
  }
  return snprintf(buf, MS_DATE_BUF_SIZE, "%+05lld-%02d-%02d", (long long)y, m, d);
}

int ms_format_date32(int32_t days, char *buf) { return put_ymd(days, buf); }

int ms_format_timestamp(int64_t value, ms_time_unit unit, bool utc, char *buf) {
  int64_t per = ms_time_unit_per_second(unit);
  int64_t secs = value / per, frac = value % per;
  if (frac < 0) { secs--; frac += per; }
  int64_t days = secs / 86400, sod = secs % 86400;
  if (sod < 0) { days--; sod += 86400; }
  int n = put_ymd(days, buf);
  int hh = (int)(sod / 3600), mi = (int)(sod / 60 % 60), ss = (int)(sod % 60);
  char *p = buf + n;
  *p++ = 'T';
  *p++ = (char)('0' + hh / 10); *p++ = (char)('0' + hh % 10); *p++ = ':';
  *p++ = (char)('0' + mi / 10); *p++ = (char)('0' + mi % 10); *p++ = ':';
  *p++ = (char)('0' + ss / 10); *p++ = (char)('0' + ss % 10);
  int nd = unit == MS_UNIT_MILLI ? 3 : unit == MS_UNIT_MICRO ? 6 : unit == MS_UNIT_NANO ? 9 : 0;
  if (nd) {
    *p++ = '.';
    for (int k = nd - 1; k >= 0; k--) {
      p[k] = (char)('0' + frac % 10);
      frac /= 10;
    }
    p += nd;
  }
  if (utc) *p++ = 'Z';
  *p = '\0';
  return (int)(p - buf);
}
