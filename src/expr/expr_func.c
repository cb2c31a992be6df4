/* Scalar helpers of the expression evaluator: number <-> text conversions, UTF-8 counting
 * and calendar fields. Kept apart from the vector loops of expr_eval.c so those stay
 * readable; each function here works on one value.
 *
 * Number text: ints parse as optional spaces, sign, digits, optional spaces; an integral
 * decimal such as "17850.0" also casts to int64 (CSV exports write ids that way when the
 * column had gaps). Floats parse with strtod's syntax (also inf, nan). Doubles print as
 * the shortest text that reads back to the same value, laid out as Python's repr: fixed
 * notation for exponents -4..15 (with ".0" when integral), else 1.5e-05 / 1e+16. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expr/expr_int.h"
#include "formats/timeparse.h"

int ms_expr_format_double(double v, char *buf, size_t size) {
  if (isnan(v)) return snprintf(buf, size, "nan");
  if (isinf(v)) return snprintf(buf, size, v < 0 ? "-inf" : "inf");
  /* shortest digits that read back as v */
  char e[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(e, sizeof e, "%.*e", prec - 1, v);
    if (strtod(e, NULL) == v) break;
  }
  /* e = [-]d[.ddd]e(+|-)XX: split into sign, digits and the decimal exponent */
  const char *p = e;
  bool neg = *p == '-';
  if (neg) p++;
  char digits[24];
  int nd = 0;
  for (; *p && *p != 'e'; p++)
    if (*p != '.') digits[nd++] = *p;
  int exp = atoi(p + 1);
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  digits[nd] = 0;
  char out[64];
  int n = 0;
  if (neg) out[n++] = '-';
  if (exp >= -4 && exp < 16) { /* fixed notation, as Python's repr */
    if (exp >= 0) {
      for (int i = 0; i <= exp; i++) out[n++] = i < nd ? digits[i] : '0';
      out[n++] = '.';
      if (nd > exp + 1) {
        for (int i = exp + 1; i < nd; i++) out[n++] = digits[i];
      } else {
        out[n++] = '0';
      }
    } else {
      out[n++] = '0';
      out[n++] = '.';
      for (int i = 0; i < -exp - 1; i++) out[n++] = '0';
      for (int i = 0; i < nd; i++) out[n++] = digits[i];
    }
  } else { /* scientific: 1e+16, 1.5e-05 */
    out[n++] = digits[0];
    if (nd > 1) {
      out[n++] = '.';
      for (int i = 1; i < nd; i++) out[n++] = digits[i];
    }
    n += snprintf(out + n, sizeof out - (size_t)n, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  }
  out[n] = 0;
  return snprintf(buf, size, "%s", out);
}

static void trim(const char **s, int64_t *n) {
  while (*n > 0 && isspace((unsigned char)**s)) {
    (*s)++;
    (*n)--;
  }
  while (*n > 0 && isspace((unsigned char)(*s)[*n - 1])) (*n)--;
}

bool ms_expr_parse_int(const char *s, int64_t n, int64_t *out) {
  trim(&s, &n);
  if (n == 0) return false;
  int64_t i = 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == n) return false;
  uint64_t v = 0;
  int64_t j = i;
  for (; j < n && isdigit((unsigned char)s[j]); j++) {
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + (uint64_t)(s[j] - '0');
  }
  if (j < n) {
    /* an integral decimal: 123.0, 123.000, 1.5e3 */
    double d;
    if (!ms_expr_parse_double(s, n, &d) || d != floor(d) || d >= 9.2233720368547758e18 ||
        d < -9.2233720368547758e18)
      return false;
    *out = (int64_t)d;
    return true;
  }
  if (neg) {
    if (v > (uint64_t)INT64_MAX + 1) return false;
    *out = (int64_t)(0 - v);
  } else {
    if (v > (uint64_t)INT64_MAX) return false;
    *out = (int64_t)v;
  }
  return true;
}

bool ms_expr_parse_double(const char *s, int64_t n, double *out) {
  trim(&s, &n);
  if (n == 0 || n > 400) return false;
  char buf[416];
  memcpy(buf, s, (size_t)n);
  buf[n] = 0;
  char *end;
  errno = 0;
  double d = strtod(buf, &end);
  if (end != buf + n) return false;
  /* hexadecimal floats are strtod's, not ours */
  if (strchr(buf, 'x') || strchr(buf, 'X')) return false;
  *out = d;
  return true;
}

bool ms_expr_parse_bool(const char *s, int64_t n, bool *out) {
  trim(&s, &n);
  static const char *t[] = {"true", "t", "yes", "y", "1"};
  static const char *f[] = {"false", "f", "no", "n", "0"};
  for (int i = 0; i < 5; i++) {
    if ((int64_t)strlen(t[i]) == n && strncasecmp(s, t[i], (size_t)n) == 0) {
      *out = true;
      return true;
    }
    if ((int64_t)strlen(f[i]) == n && strncasecmp(s, f[i], (size_t)n) == 0) {
      *out = false;
      return true;
    }
  }
  return false;
}

int64_t ms_expr_utf8_count(const char *s, int64_t n) {
  int64_t c = 0;
  for (int64_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
  return c;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
  return q;
}

int64_t ms_expr_extract_days(int64_t days, int part) {
  int64_t y;
  int m, d;
  switch (part) {
    case XP_HOUR:
    case XP_MINUTE:
    case XP_SECOND:
      return 0;
    case XP_DOW: { /* 1970-01-01 was a Thursday (4) */
      int64_t w = (days + 4) % 7;
      return w < 0 ? w + 7 : w;
    }
    default:
      break;
  }
  ms_civil_from_days(days, &y, &m, &d);
  switch (part) {
    case XP_YEAR: return y;
    case XP_MONTH: return m;
    case XP_DAY: return d;
    default: /* XP_DOY */
      return days - ms_days_from_civil(y, 1, 1) + 1;
  }
}

int64_t ms_expr_extract_ns(int64_t ns, int part) {
  const int64_t day_ns = 86400000000000LL;
  int64_t days = floor_div(ns, day_ns);
  int64_t in_day = ns - days * day_ns;
  switch (part) {
    case XP_HOUR: return in_day / 3600000000000LL;
    case XP_MINUTE: return in_day / 60000000000LL % 60;
    case XP_SECOND: return in_day / 1000000000LL % 60;
    default: return ms_expr_extract_days(days, part);
  }
}
