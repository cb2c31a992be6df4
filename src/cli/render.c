/* Rendering of single values for the CLI: JSON (cat --format jsonl, schema --json), CSV
 * cells and human text (tables, schema statistics).
 *
 * The rules are the ones users diff against, so they are exact: integers print every
 * digit (uint64 and int64 without a detour through double); floats print the shortest
 * %.*g text that strtod/strtof reads back to the same value, with ".0" added when that text
 * looks like an integer; NaN and infinities are the strings "NaN", "Infinity",
 * "-Infinity"; decimals are exact strings from the 128-bit integer; binary is base64;
 * timestamps and dates use src/formats/timeparse.h. In JSON strings, '"', '\\' and control
 * characters are escaped (\n \r \t \b \f, others \u00XX) and every byte that is not part
 * of a valid UTF-8 sequence (overlong forms, surrogates and code points past U+10FFFF
 * included) becomes U+FFFD, so the output is always valid JSON and valid UTF-8. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "columnar/column.h"
#include "formats/timeparse.h"
#include "morsel/alloc.h"

/* ---------------- buffer ---------------- */

void cli_buf_reset(cli_buf *b) {
  ms_free(b->data);
  memset(b, 0, sizeof *b);
}

void cli_buf_clear(cli_buf *b) { b->len = 0; }

static bool buf_reserve(cli_buf *b, size_t extra) {
  if (b->failed) return false;
  if (b->len + extra + 1 <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1) cap *= 2;
  char *grown = ms_realloc(b->data, cap);
  if (!grown) { b->failed = true; return false; }
  b->data = grown;
  b->cap = cap;
  return true;
}

void cli_buf_append(cli_buf *b, const void *data, size_t len) {
  if (!buf_reserve(b, len)) return;
  memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void cli_buf_puts(cli_buf *b, const char *s) { cli_buf_append(b, s, strlen(s)); }

void cli_buf_putc(cli_buf *b, char c) { cli_buf_append(b, &c, 1); }

void cli_buf_printf(cli_buf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) { cli_buf_append(b, small, (size_t)n); return; }
  if (!buf_reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

bool cli_write(FILE *out, const cli_buf *b) {
  return b->len == 0 || fwrite(b->data, 1, b->len, out) == b->len;
}

/* ---------------- UTF-8 ---------------- */

/* Length of the valid UTF-8 sequence at p (n bytes available), or 0 when invalid. */
static int utf8_seq(const unsigned char *p, size_t n) {
  unsigned c = p[0];
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && p[1] < 0xa0) return 0; /* overlong */
    if (c == 0xed && p[1] >= 0xa0) return 0; /* surrogate */
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80) return 0;
    if (c == 0xf0 && p[1] < 0x90) return 0; /* overlong */
    if (c == 0xf4 && p[1] >= 0x90) return 0; /* past U+10FFFF */
    return 4;
  }
  return 0;
}

static const char k_replacement[] = "\xef\xbf\xbd";

/* Appends text with escapes; quoted adds the JSON quotes. Control characters are escaped
 * JSON-style in both JSON and text styles (a raw newline would break a line-oriented
 * output). */
static void escaped(cli_buf *b, const char *s, size_t len, bool quoted) {
  const unsigned char *p = (const unsigned char *)s;
  if (quoted) cli_buf_putc(b, '"');
  size_t i = 0;
  while (i < len) {
    size_t run = i;
    /* Copy the longest run that needs no escape at once. */
    while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\') run++;
    if (run > i) { cli_buf_append(b, p + i, run - i); i = run; continue; }
    unsigned c = p[i];
    if (c == '"' || c == '\\') {
      if (quoted) { char e[2] = {'\\', (char)c}; cli_buf_append(b, e, 2); }
      else if (c == '\\') cli_buf_puts(b, "\\\\");
      else cli_buf_putc(b, '"');
      i++;
    } else if (c < 0x20) {
      switch (c) {
        case '\n': cli_buf_puts(b, "\\n"); break;
        case '\r': cli_buf_puts(b, "\\r"); break;
        case '\t': cli_buf_puts(b, "\\t"); break;
        case '\b': cli_buf_puts(b, "\\b"); break;
        case '\f': cli_buf_puts(b, "\\f"); break;
        default: cli_buf_printf(b, "\\u%04x", c);
      }
      i++;
    } else {
      int n = utf8_seq(p + i, len - i);
      if (n == 0) { cli_buf_puts(b, k_replacement); i++; }
      else { cli_buf_append(b, p + i, (size_t)n); i += (size_t)n; }
    }
  }
  if (quoted) cli_buf_putc(b, '"');
}

void cli_json_string(cli_buf *b, const char *s, size_t len) { escaped(b, s, len, true); }

size_t cli_display_width(const char *s, size_t len) {
  size_t w = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xc0) != 0x80) w++;
  return w;
}

/* ---------------- numbers ---------------- */

static void render_float(cli_buf *b, double v, bool is32, cli_style style) {
  if (isnan(v) || isinf(v)) {
    const char *s = isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
    if (style == CLI_JSON) cli_buf_printf(b, "\"%s\"", s);
    else cli_buf_puts(b, s);
    return;
  }
  /* The shortest round-tripping text: when the value survives %.15g (%.6g for float32),
   * that text is already the shortest (fewer digits d that round-trip would round the
   * same way at 15, since a normal double is within 1.1e-16 relative of d, under half a
   * unit of the 15th digit), with %g's trailing zeros stripped; otherwise 16 or 17 digits.
   * Subnormals carry fewer digits, so for them every precision is tried from 1. */
  char buf[48];
  bool subnormal = v != 0 && fabs(v) < (is32 ? (double)FLT_MIN : DBL_MIN);
  int first = subnormal ? 1 : is32 ? 6 : 15;
  for (int prec = first; prec <= (is32 ? 9 : 17); prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (is32 ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v) break;
  }
  cli_buf_puts(b, buf);
  if (!strpbrk(buf, ".e")) cli_buf_puts(b, ".0");
}

/* Exact decimal text of a 16-byte little-endian two's complement integer scaled by
 * 10^-scale. */
static void render_decimal(cli_buf *b, const uint8_t *le, int scale) {
  unsigned __int128 u = 0;
  for (int i = 15; i >= 0; i--) u = (u << 8) | le[i];
  bool neg = (le[15] & 0x80) != 0;
  if (neg) u = ~u + 1;
  char digits[64];
  int n = 0;
  do {
    digits[n++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u != 0);
  if (scale < 0 || scale > 40) { /* not produced by morsel's readers; shown as unscaled e-notation */
    if (neg) cli_buf_putc(b, '-');
    for (int i = n - 1; i >= 0; i--) cli_buf_putc(b, digits[i]);
    cli_buf_printf(b, "e%d", -scale);
    return;
  }
  while (n <= scale) digits[n++] = '0';
  if (neg) cli_buf_putc(b, '-');
  for (int i = n - 1; i >= 0; i--) {
    cli_buf_putc(b, digits[i]);
    if (i == scale && scale > 0) cli_buf_putc(b, '.');
  }
}

static void render_base64(cli_buf *b, const uint8_t *p, int64_t len) {
  static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int64_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16;
    if (i + 1 < len) v |= (uint32_t)p[i + 1] << 8;
    if (i + 2 < len) v |= p[i + 2];
    char out[4] = {tbl[(v >> 18) & 63], tbl[(v >> 12) & 63], i + 1 < len ? tbl[(v >> 6) & 63] : '=',
                   i + 2 < len ? tbl[v & 63] : '='};
    cli_buf_append(b, out, 4);
  }
}

/* Appends text that is a JSON string in JSON style and bare otherwise. */
static void plain_string(cli_buf *b, const char *s, cli_style style) {
  if (style == CLI_JSON) cli_buf_putc(b, '"');
  cli_buf_puts(b, s);
  if (style == CLI_JSON) cli_buf_putc(b, '"');
}

void cli_render_value(cli_buf *b, const ms_column *c, int64_t row, cli_style style) {
  if (ms_column_is_null(c, row)) {
    if (style != CLI_CSV) cli_buf_puts(b, "null");
    return;
  }
  const ms_datatype *t = ms_column_type(c);
  switch (t->id) {
    case MS_TYPE_NULL: cli_buf_puts(b, style == CLI_CSV ? "" : "null"); return;
    case MS_TYPE_BOOL: cli_buf_puts(b, ms_column_get_bool(c, row) ? "true" : "false"); return;
    case MS_TYPE_INT8: case MS_TYPE_INT16: case MS_TYPE_INT32: case MS_TYPE_INT64:
    case MS_TYPE_UINT8: case MS_TYPE_UINT16: case MS_TYPE_UINT32:
      cli_buf_printf(b, "%lld", (long long)ms_column_get_i64(c, row));
      return;
    case MS_TYPE_UINT64: cli_buf_printf(b, "%llu", (unsigned long long)ms_column_get_u64(c, row)); return;
    case MS_TYPE_FLOAT32: case MS_TYPE_FLOAT64:
      render_float(b, ms_column_get_f64(c, row), t->id == MS_TYPE_FLOAT32, style);
      return;
    case MS_TYPE_DATE32: {
      char buf[MS_DATE_BUF_SIZE];
      ms_format_date32((int32_t)ms_column_get_i64(c, row), buf);
      plain_string(b, buf, style);
      return;
    }
    case MS_TYPE_TIMESTAMP: {
      char buf[MS_TIMESTAMP_BUF_SIZE];
      ms_format_timestamp(ms_column_get_i64(c, row), t->unit, t->tz[0] != '\0', buf);
      plain_string(b, buf, style);
      return;
    }
    case MS_TYPE_DECIMAL128: {
      int64_t len;
      const uint8_t *p = ms_column_get_bytes(c, row, &len);
      if (style == CLI_JSON) cli_buf_putc(b, '"');
      render_decimal(b, p, t->scale);
      if (style == CLI_JSON) cli_buf_putc(b, '"');
      return;
    }
    case MS_TYPE_UTF8: case MS_TYPE_LARGE_UTF8: {
      int64_t len;
      const uint8_t *p = ms_column_get_bytes(c, row, &len);
      if (style == CLI_CSV) cli_buf_append(b, p, (size_t)len);
      else escaped(b, (const char *)p, (size_t)len, style == CLI_JSON);
      return;
    }
    case MS_TYPE_BINARY: case MS_TYPE_LARGE_BINARY: case MS_TYPE_FIXED_BINARY: {
      int64_t len;
      const uint8_t *p = ms_column_get_bytes(c, row, &len);
      if (style == CLI_JSON) cli_buf_putc(b, '"');
      render_base64(b, p, len);
      if (style == CLI_JSON) cli_buf_putc(b, '"');
      return;
    }
  }
  cli_buf_puts(b, "null");
}
