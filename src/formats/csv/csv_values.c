/* Text <-> value conversions for CSV fields (see csv_internal.h).
 *
 * Floats: a field whose digits fit in 19 decimal digits is read into an integer mantissa
 * and a power of ten; when the mantissa is below 2^53 and the power within +-22 both are
 * exact doubles and one IEEE multiplication or division rounds correctly (Clinger's fast
 * path). Everything else is syntax-checked here and handed to strtod_l in the "C" locale,
 * so a host program's setlocale never changes what we parse or print. */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/csv/csv_internal.h"
#include "morsel/alloc.h"

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void init_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }
static locale_t get_c_locale(void) {
  pthread_once(&c_locale_once, init_c_locale);
  return c_locale;
}

bool ms_csv_parse_i64(const char *s, size_t n, int64_t *out) {
  size_t i = 0;
  bool neg = false;
  if (n && (s[0] == '-' || s[0] == '+')) { neg = s[0] == '-'; i = 1; }
  if (i == n) return false;
  uint64_t v = 0;
  /* 18 digits cannot overflow uint64; check only beyond that. */
  size_t fast_end = n - i > 18 ? i + 18 : n;
  for (; i < fast_end; i++) {
    unsigned d = (unsigned)(unsigned char)s[i] - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  for (; i < n; i++) {
    unsigned d = (unsigned)(unsigned char)s[i] - '0';
    if (d > 9) return false;
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
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

bool ms_csv_parse_u64(const char *s, size_t n, uint64_t *out) {
  size_t i = 0;
  if (n && s[0] == '+') i = 1;
  if (i == n) return false;
  uint64_t v = 0;
  for (; i < n; i++) {
    unsigned d = (unsigned)(unsigned char)s[i] - '0';
    if (d > 9) return false;
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

static bool ieq(const char *s, size_t n, const char *lit) {
  size_t m = strlen(lit);
  if (n != m) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != lit[i]) return false;
  }
  return true;
}

/* inf/infinity/nan with optional sign; returns false when s is not one of them. */
static bool parse_special(const char *s, size_t n, double *out) {
  bool neg = false;
  if (n && (s[0] == '-' || s[0] == '+')) { neg = s[0] == '-'; s++; n--; }
  if (ieq(s, n, "inf") || ieq(s, n, "infinity")) { *out = neg ? -(double)INFINITY : (double)INFINITY; return true; }
  if (ieq(s, n, "nan")) { *out = neg ? -(double)NAN : (double)NAN; return true; }
  return false;
}

static const double exact_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#if LDBL_MANT_DIG == 64 && (defined(__x86_64__) || defined(__i386__))
#define MS_HAVE_X87 1
/* 10^k for k <= 27 are exact in x87 extended precision (5^27 < 2^64). */
static const long double ld_pow10[28] = {
    1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
    1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
    1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
#endif

/* Checks the decimal grammar; fills the fast-path mantissa/exponent when usable. */
typedef struct dec_scan {
  bool ok, fast, neg, zero;
  uint64_t mant;
  int64_t exp10;
} dec_scan;

static dec_scan scan_decimal(const char *s, size_t n) {
  dec_scan r = {false, true, false, true, 0, 0};
  size_t i = 0;
  if (i < n && (s[i] == '-' || s[i] == '+')) { r.neg = s[i] == '-'; i++; }
  int sig = 0, nd = 0;
  for (; i < n && (unsigned)((unsigned char)s[i] - '0') <= 9; i++, nd++) {
    unsigned d = (unsigned)(s[i] - '0');
    if (d) r.zero = false;
    if (sig || d) {
      if (sig < 19) r.mant = r.mant * 10 + d;
      else r.exp10++;
      sig++;
    }
  }
  if (i < n && s[i] == '.') {
    i++;
    for (; i < n && (unsigned)((unsigned char)s[i] - '0') <= 9; i++, nd++) {
      unsigned d = (unsigned)(s[i] - '0');
      if (d) r.zero = false;
      if (sig || d) {
        if (sig < 19) { r.mant = r.mant * 10 + d; r.exp10--; }
        sig++;
      } else {
        r.exp10--;
      }
    }
  }
  if (nd == 0) return r;
  if (sig > 19) r.fast = false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    bool eneg = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) { eneg = s[i] == '-'; i++; }
    int64_t e = 0;
    size_t ed = 0;
    for (; i < n && (unsigned)((unsigned char)s[i] - '0') <= 9; i++, ed++)
      if (e < 100000000) e = e * 10 + (s[i] - '0');
    if (ed == 0) return r;
    r.exp10 += eneg ? -e : e;
  }
  r.ok = i == n;
  return r;
}

static double slow_strtod(const char *s, size_t n, bool single, bool *ok) {
  char stack[128];
  char *buf = n < sizeof stack ? stack : ms_malloc(n + 1);
  if (!buf) { *ok = false; return 0; }
  memcpy(buf, s, n);
  buf[n] = '\0';
  char *end;
  locale_t loc = get_c_locale();
  double v;
  if (single) v = loc ? strtof_l(buf, &end, loc) : strtof(buf, &end);
  else v = loc ? strtod_l(buf, &end, loc) : strtod(buf, &end);
  *ok = end == buf + n;
  if (buf != stack) ms_free(buf);
  return v;
}

bool ms_csv_parse_f64(const char *s, size_t n, double *out) {
  dec_scan d = scan_decimal(s, n);
  if (!d.ok) return parse_special(s, n, out);
  if (d.zero) { *out = d.neg ? -0.0 : 0.0; return true; }
  if (d.fast && d.mant < ((uint64_t)1 << 53) && d.exp10 >= -22 && d.exp10 <= 22) {
    double v = (double)d.mant;
    v = d.exp10 < 0 ? v / exact_pow10[-d.exp10] : v * exact_pow10[d.exp10];
    *out = d.neg ? -v : v;
    return true;
  }
#ifdef MS_HAVE_X87
  /* Up to 19 digits and |power| <= 27: mantissa and power are exact x87 extended values,
   * so one extended multiply/divide gives y = x rounded to 64 bits. Rounding y to double
   * is then correct unless y sits exactly on a midpoint between two doubles (its low 11
   * bits are 0x400): rounding is monotonic and midpoints are representable, so y is on
   * the same side of every midpoint as the true value x. That rare case goes to strtod. */
  if (d.fast && d.exp10 >= -27 && d.exp10 <= 27) {
    long double y = (long double)d.mant;
    y = d.exp10 < 0 ? y / ld_pow10[-d.exp10] : y * ld_pow10[d.exp10];
    uint64_t bits;
    memcpy(&bits, &y, 8); /* the explicit 64-bit significand */
    if ((bits & 0x7FF) != 0x400) {
      double v = (double)y;
      *out = d.neg ? -v : v;
      return true;
    }
  }
#endif
  bool ok;
  *out = slow_strtod(s, n, false, &ok);
  return ok;
}

bool ms_csv_parse_f32(const char *s, size_t n, float *out) {
  dec_scan d = scan_decimal(s, n);
  if (!d.ok) {
    double v;
    if (!parse_special(s, n, &v)) return false;
    *out = (float)v;
    return true;
  }
  if (d.zero) { *out = d.neg ? -0.0f : 0.0f; return true; }
  /* The float analogue of the fast path: mantissa and power of ten exact in float. */
  static const float exact_pow10f[11] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                                         1e6f, 1e7f, 1e8f, 1e9f, 1e10f};
  if (d.fast && d.mant < ((uint64_t)1 << 24) && d.exp10 >= -10 && d.exp10 <= 10) {
    float v = (float)d.mant;
    v = d.exp10 < 0 ? v / exact_pow10f[-d.exp10] : v * exact_pow10f[d.exp10];
    *out = d.neg ? -v : v;
    return true;
  }
  bool ok;
  *out = (float)slow_strtod(s, n, true, &ok);
  return ok;
}

int ms_csv_parse_bool(const char *s, size_t n, bool allow_digits) {
  if (n == 4 && (memcmp(s, "true", 4) == 0 || memcmp(s, "True", 4) == 0 || memcmp(s, "TRUE", 4) == 0)) return 1;
  if (n == 5 && (memcmp(s, "false", 5) == 0 || memcmp(s, "False", 5) == 0 || memcmp(s, "FALSE", 5) == 0)) return 0;
  if (allow_digits && n == 1 && (s[0] == '0' || s[0] == '1')) return s[0] - '0';
  return -1;
}

bool ms_csv_parse_decimal128(const char *s, size_t n, int precision, int scale, uint8_t out[16]) {
  size_t i = 0;
  bool neg = false;
  if (n && (s[0] == '-' || s[0] == '+')) { neg = s[0] == '-'; i = 1; }
  unsigned __int128 v = 0;
  int frac_digits = 0, sig = 0, all_digits = 0;
  for (; i < n && (unsigned)((unsigned char)s[i] - '0') <= 9; i++) {
    if (sig || s[i] != '0') {
      if (++sig > 38) return false;
      v = v * 10 + (unsigned)(s[i] - '0');
    }
    all_digits++;
  }
  if (i < n && s[i] == '.') {
    i++;
    for (; i < n && (unsigned)((unsigned char)s[i] - '0') <= 9; i++) {
      unsigned d = (unsigned)(s[i] - '0');
      all_digits++;
      if (frac_digits >= scale) {
        if (d != 0) return false; /* would need rounding */
        continue;
      }
      frac_digits++;
      if (sig || d) {
        if (++sig > 38) return false;
      }
      v = v * 10 + d;
    }
  }
  if (i != n || all_digits == 0) return false;
  /* scale up to `scale` fractional digits (or down for a negative scale: must divide) */
  for (int k = frac_digits; k < scale; k++) {
    if (v > (((unsigned __int128)1 << 126) / 10)) return false;
    v *= 10;
  }
  for (int k = 0; k < -scale; k++) {
    if (v % 10) return false;
    v /= 10;
  }
  unsigned __int128 limit = 1;
  for (int k = 0; k < precision && k < 38; k++) limit *= 10;
  if (v >= limit) return false;
  unsigned __int128 u = neg ? (unsigned __int128)0 - v : v;
  for (int k = 0; k < 16; k++) out[k] = (uint8_t)(u >> (8 * k));
  return true;
}

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_val(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int64_t ms_csv_base64_decoded_len(const char *s, size_t n) {
  if (n % 4) return -1;
  if (n == 0) return 0;
  int pad = (s[n - 1] == '=') + (s[n - 1] == '=' && s[n - 2] == '=');
  return (int64_t)(n / 4 * 3) - pad;
}

int64_t ms_csv_base64_decode(const char *s, size_t n, uint8_t *out) {
  int64_t len = ms_csv_base64_decoded_len(s, n);
  if (len < 0) return -1;
  int64_t o = 0;
  for (size_t i = 0; i < n; i += 4) {
    bool last = i + 4 == n;
    int a = b64_val((unsigned char)s[i]), b = b64_val((unsigned char)s[i + 1]);
    int c = (last && s[i + 2] == '=') ? -2 : b64_val((unsigned char)s[i + 2]);
    int d = (last && s[i + 3] == '=') ? -2 : b64_val((unsigned char)s[i + 3]);
    if (a < 0 || b < 0 || c == -1 || d == -1 || (c == -2 && d != -2)) return -1;
    out[o++] = (uint8_t)(a << 2 | b >> 4);
    if (c >= 0) out[o++] = (uint8_t)((b & 15) << 4 | c >> 2);
    if (d >= 0) out[o++] = (uint8_t)((c & 3) << 6 | d);
  }
  return o == len ? o : -1;
}

size_t ms_csv_base64_encode(const uint8_t *in, size_t n, char *out) {
  size_t o = 0, i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[o++] = b64_chars[v >> 18];
    out[o++] = b64_chars[(v >> 12) & 63];
    out[o++] = b64_chars[(v >> 6) & 63];
    out[o++] = b64_chars[v & 63];
  }
  if (i < n) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
    out[o++] = b64_chars[v >> 18];
    out[o++] = b64_chars[(v >> 12) & 63];
    out[o++] = i + 1 < n ? b64_chars[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  return o;
}

bool ms_csv_utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    /* ASCII fast path, 8 bytes at a time */
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned c = s[i];
    if (c < 0x80) { i++; continue; }
    int len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + (size_t)len > n) return false;
    for (int k = 1; k < len; k++) {
      unsigned cc = s[i + (size_t)k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    i += (size_t)len;
  }
  return true;
}

/* Writes the nd digits of m (10^(nd-1) <= m < 10^nd) as printf's %.{nd}g would for a
 * value m * 10^(x - nd + 1): trailing zeros dropped, exponent form when x < -4 or x >= nd. */
static int put_g(bool neg, uint64_t m, int nd, int x, char *buf) {
  char dig[24];
  for (int i = nd - 1; i >= 0; i--) { dig[i] = (char)('0' + m % 10); m /= 10; }
  int keep = nd, n = 0;
  while (keep > 1 && dig[keep - 1] == '0') keep--;
  if (neg) buf[n++] = '-';
  if (x < -4 || x >= nd) {
    buf[n++] = dig[0];
    if (keep > 1) {
      buf[n++] = '.';
      for (int i = 1; i < keep; i++) buf[n++] = dig[i];
    }
    buf[n++] = 'e';
    buf[n++] = x < 0 ? '-' : '+';
    int ax = x < 0 ? -x : x;
    if (ax >= 100) buf[n++] = (char)('0' + ax / 100);
    buf[n++] = (char)('0' + ax / 10 % 10);
    buf[n++] = (char)('0' + ax % 10);
  } else if (x >= 0) {
    for (int i = 0; i <= x; i++) buf[n++] = i < keep ? dig[i] : '0';
    if (keep > x + 1) {
      buf[n++] = '.';
      for (int i = x + 1; i < keep; i++) buf[n++] = dig[i];
    }
  } else {
    buf[n++] = '0';
    buf[n++] = '.';
    for (int i = 0; i < -x - 1; i++) buf[n++] = '0';
    for (int i = 0; i < keep; i++) buf[n++] = dig[i];
  }
  buf[n] = '\0';
  return n;
}

/* The common case without printf: scale into a 17..19-digit integer in x87 extended
 * precision, round it to lo..hi significant digits and keep the first candidate that our
 * correctly rounded parser maps back to v. Returns -1 when it cannot decide (then the
 * caller uses snprintf); whatever it returns is verified to round-trip. */
static int fast_shortest(double v, bool single, char *buf) {
#ifdef MS_HAVE_X87
  static const uint64_t p10[20] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
                                   10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
                                   100000000000ULL, 1000000000000ULL, 10000000000000ULL,
                                   100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
                                   100000000000000000ULL, 1000000000000000000ULL,
                                   10000000000000000000ULL};
  bool neg = v < 0;
  double a = neg ? -v : v;
  if (!(a >= 1e-10 && a < 1e20)) return -1;
  int x = (int)floor(log10(a));
  uint64_t m17 = 0;
  long double frac = 0; /* scaled value minus m17: breaks ties when rounding to fewer digits */
  for (int attempt = 0; attempt < 3; attempt++) {
    int k = 16 - x;
    if (k < -27 || k > 27) return -1;
    long double sc = k >= 0 ? (long double)a * ld_pow10[k] : (long double)a / ld_pow10[-k];
    long double half_up = sc + 0.5L;
    m17 = (uint64_t)half_up;
    if ((long double)m17 == half_up && (m17 & 1)) m17--; /* exact tie: to even */
    frac = sc - (long double)m17;
    if (m17 >= p10[17]) x++;
    else if (m17 < p10[16]) x--;
    else break;
  }
  if (m17 < p10[16] || m17 >= p10[17]) return -1;
  int lo = single ? 6 : 15, hi = single ? 9 : 17;
  for (int nd = lo; nd <= hi; nd++) {
    /* round to nearest; an apparent tie goes by what m17 rounded away, else to even (as
     * printf does for exact ties) */
    uint64_t div = p10[17 - nd], m = m17 / div, r = m17 % div;
    if (div > 1 && (r > div / 2 || (r == div / 2 && (frac > 0 || (frac == 0 && (m & 1)))))) m++;
    int xx = x;
    if (m >= p10[nd]) { m /= 10; xx++; }
    int n = put_g(neg, m, nd, xx, buf);
    if (single) {
      float back;
      if (ms_csv_parse_f32(buf, (size_t)n, &back) && back == (float)v) return n;
    } else {
      double back;
      if (ms_csv_parse_f64(buf, (size_t)n, &back) && back == v) return n;
    }
  }
#else
  (void)v; (void)single; (void)buf;
#endif
  return -1;
}

static int format_float(double v, bool single, char *buf) {
  if (v != v) return snprintf(buf, MS_CSV_NUM_BUF, "nan");
  if (v == (double)INFINITY) return snprintf(buf, MS_CSV_NUM_BUF, "inf");
  if (v == -(double)INFINITY) return snprintf(buf, MS_CSV_NUM_BUF, "-inf");
  int n = fast_shortest(v, single, buf);
  if (n >= 0) return n;
  locale_t loc = get_c_locale();
  locale_t old = loc ? uselocale(loc) : (locale_t)0;
  for (int prec = single ? 6 : 15; prec <= (single ? 9 : 17); prec++) {
    n = snprintf(buf, MS_CSV_NUM_BUF, "%.*g", prec, v);
    /* our own correctly rounded parser is the round-trip check (and much faster) */
    if (single) {
      float back;
      if (ms_csv_parse_f32(buf, (size_t)n, &back) && back == (float)v) break;
    } else {
      double back;
      if (ms_csv_parse_f64(buf, (size_t)n, &back) && back == v) break;
    }
  }
  if (old) uselocale(old);
  return n;
}

int ms_csv_format_f64(double v, char *buf) { return format_float(v, false, buf); }
int ms_csv_format_f32(float v, char *buf) { return format_float(v, true, buf); }

int ms_csv_format_u64(uint64_t v, char *buf) {
  char tmp[24];
  int n = 0;
  do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  buf[n] = '\0';
  return n;
}

int ms_csv_format_i64(int64_t v, char *buf) {
  if (v >= 0) return ms_csv_format_u64((uint64_t)v, buf);
  buf[0] = '-';
  return 1 + ms_csv_format_u64(0 - (uint64_t)v, buf + 1);
}

int ms_csv_format_decimal128(const uint8_t in[16], int scale, char *buf) {
  unsigned __int128 u = 0;
  for (int k = 15; k >= 0; k--) u = u << 8 | in[k];
  bool neg = (in[15] & 0x80) != 0;
  if (neg) u = (unsigned __int128)0 - u;
  char digits[48];
  int nd = 0;
  do { digits[nd++] = (char)('0' + (int)(u % 10)); u /= 10; } while (u);
  int n = 0;
  if (neg) buf[n++] = '-';
  if (scale <= 0) {
    for (int i = nd - 1; i >= 0; i--) buf[n++] = digits[i];
    for (int k = 0; k < -scale && n < MS_CSV_NUM_BUF - 1; k++) buf[n++] = '0';
  } else {
    int int_digits = nd - scale;
    if (int_digits <= 0) {
      buf[n++] = '0';
      buf[n++] = '.';
      for (int k = 0; k < -int_digits; k++) buf[n++] = '0';
      for (int i = nd - 1; i >= 0; i--) buf[n++] = digits[i];
    } else {
      for (int i = nd - 1; i >= scale; i--) buf[n++] = digits[i];
      buf[n++] = '.';
      for (int i = scale - 1; i >= 0; i--) buf[n++] = digits[i];
    }
  }
  buf[n] = '\0';
  return n;
}
