/* Private to the CSV module: text <-> value conversions shared by the reader and writer.
 *
 * Every parser takes a (pointer, length) slice that need not be NUL-terminated and accepts
 * the whole slice or nothing: no leading/trailing spaces, no partial numbers. Formatters
 * write into caller buffers of the documented sizes and return the length written. */
#ifndef MS_FORMATS_CSV_INTERNAL_H
#define MS_FORMATS_CSV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* [+|-]digits, the full int64 range, overflow rejected. */
bool ms_csv_parse_i64(const char *s, size_t n, int64_t *out);
/* [+]digits, the full uint64 range. */
bool ms_csv_parse_u64(const char *s, size_t n, uint64_t *out);
/* [+|-](digits[.digits]|.digits)[(e|E)[+|-]digits], or inf/infinity/nan in any case with
 * an optional sign. Correctly rounded (an exact fast path for short decimals, strtod in
 * the C locale otherwise). Hex floats are not accepted. */
bool ms_csv_parse_f64(const char *s, size_t n, double *out);
bool ms_csv_parse_f32(const char *s, size_t n, float *out);
/* true/false/True/False/TRUE/FALSE -> 1/0; with allow_digits also 1/0. -1 otherwise. */
int ms_csv_parse_bool(const char *s, size_t n, bool allow_digits);
/* [+|-]digits[.digits] scaled to `scale` (extra fractional digits must be zeros, no
 * rounding); |value| < 10^precision. The result is little-endian two's complement. */
bool ms_csv_parse_decimal128(const char *s, size_t n, int precision, int scale,
                             uint8_t out[16]);
/* Standard base64 (RFC 4648, '=' padding required when the length is not a multiple of
 * 4). Returns the decoded length, or -1 when malformed. out needs n/4*3 bytes. */
int64_t ms_csv_base64_decoded_len(const char *s, size_t n);
int64_t ms_csv_base64_decode(const char *s, size_t n, uint8_t *out);
/* Writes 4*ceil(n/3) characters; returns that length. */
size_t ms_csv_base64_encode(const uint8_t *in, size_t n, char *out);
/* True when s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool ms_csv_utf8_valid(const uint8_t *s, size_t n);

#define MS_CSV_NUM_BUF 128
/* Shortest of %.15g/%.16g/%.17g that reads back to the same double; inf, -inf, nan. */
int ms_csv_format_f64(double v, char *buf);
/* Same for float (%.6g .. %.9g). */
int ms_csv_format_f32(float v, char *buf);
int ms_csv_format_i64(int64_t v, char *buf);
int ms_csv_format_u64(uint64_t v, char *buf);
/* The exact decimal text of a little-endian decimal128 with `scale` (e.g. "-12.50"). */
int ms_csv_format_decimal128(const uint8_t v[16], int scale, char *buf);

#endif
