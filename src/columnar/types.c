/* ms_datatype constructors, predicates, printing and parsing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "morsel/types.h"

ms_datatype ms_type(ms_type_id id) {
  ms_datatype t;
  memset(&t, 0, sizeof t);
  t.id = id;
  if (id == MS_TYPE_TIMESTAMP) t.unit = MS_UNIT_MICRO;
  if (id == MS_TYPE_DECIMAL128) { t.precision = 38; t.scale = 0; }
  return t;
}

ms_datatype ms_type_timestamp(ms_time_unit unit, const char *tz) {
  ms_datatype t = ms_type(MS_TYPE_TIMESTAMP);
  t.unit = unit;
  if (tz) snprintf(t.tz, sizeof t.tz, "%s", tz);
  return t;
}

ms_datatype ms_type_decimal128(int32_t precision, int32_t scale) {
  ms_datatype t = ms_type(MS_TYPE_DECIMAL128);
  t.precision = precision;
  t.scale = scale;
  return t;
}

ms_datatype ms_type_fixed_binary(int32_t byte_width) {
  ms_datatype t = ms_type(MS_TYPE_FIXED_BINARY);
  t.byte_width = byte_width;
  return t;
}

bool ms_type_equal(const ms_datatype *a, const ms_datatype *b) {
  if (a->id != b->id) return false;
  switch (a->id) {
    case MS_TYPE_TIMESTAMP: return a->unit == b->unit && strcmp(a->tz, b->tz) == 0;
    case MS_TYPE_DECIMAL128: return a->precision == b->precision && a->scale == b->scale;
    case MS_TYPE_FIXED_BINARY: return a->byte_width == b->byte_width;
    default: return true;
  }
}

int ms_type_bit_width(const ms_datatype *t) {
  switch (t->id) {
    case MS_TYPE_BOOL: return 1;
    case MS_TYPE_INT8: case MS_TYPE_UINT8: return 8;
    case MS_TYPE_INT16: case MS_TYPE_UINT16: return 16;
    case MS_TYPE_INT32: case MS_TYPE_UINT32: case MS_TYPE_FLOAT32: case MS_TYPE_DATE32: return 32;
    case MS_TYPE_INT64: case MS_TYPE_UINT64: case MS_TYPE_FLOAT64: case MS_TYPE_TIMESTAMP: return 64;
    case MS_TYPE_DECIMAL128: return 128;
    case MS_TYPE_FIXED_BINARY: return 8 * t->byte_width;
    default: return 0;
  }
}

bool ms_type_is_varlen(const ms_datatype *t) {
  return t->id == MS_TYPE_UTF8 || t->id == MS_TYPE_BINARY || t->id == MS_TYPE_LARGE_UTF8 ||
         t->id == MS_TYPE_LARGE_BINARY;
}
bool ms_type_is_large(const ms_datatype *t) {
  return t->id == MS_TYPE_LARGE_UTF8 || t->id == MS_TYPE_LARGE_BINARY;
}
bool ms_type_is_integer(const ms_datatype *t) { return t->id >= MS_TYPE_INT8 && t->id <= MS_TYPE_UINT64; }
bool ms_type_is_signed_integer(const ms_datatype *t) { return t->id >= MS_TYPE_INT8 && t->id <= MS_TYPE_INT64; }
bool ms_type_is_float(const ms_datatype *t) { return t->id == MS_TYPE_FLOAT32 || t->id == MS_TYPE_FLOAT64; }
bool ms_type_is_string(const ms_datatype *t) { return t->id == MS_TYPE_UTF8 || t->id == MS_TYPE_LARGE_UTF8; }

static const char *const k_names[] = {
    "null",   "bool",   "int8",    "int16",   "int32",       "int64",        "uint8",
    "uint16", "uint32", "uint64",  "float32", "float64",     "utf8",         "binary",
    "large_utf8", "large_binary", "date32", "timestamp", "decimal128", "fixed_binary"};

const char *ms_time_unit_name(ms_time_unit unit) {
  static const char *const n[] = {"s", "ms", "us", "ns"};
  return (unsigned)unit < 4 ? n[unit] : "?";
}

int64_t ms_time_unit_per_second(ms_time_unit unit) {
  static const int64_t n[] = {1, 1000, 1000000, 1000000000};
  return (unsigned)unit < 4 ? n[unit] : 1;
}

const char *ms_type_to_string(const ms_datatype *t, char *buf, size_t buf_size) {
  const char *name = (unsigned)t->id < sizeof k_names / sizeof *k_names ? k_names[t->id] : "?";
  switch (t->id) {
    case MS_TYPE_TIMESTAMP:
      if (t->tz[0]) snprintf(buf, buf_size, "timestamp[%s, tz=%s]", ms_time_unit_name(t->unit), t->tz);
      else snprintf(buf, buf_size, "timestamp[%s]", ms_time_unit_name(t->unit));
      break;
    case MS_TYPE_DECIMAL128: snprintf(buf, buf_size, "decimal128(%d, %d)", t->precision, t->scale); break;
    case MS_TYPE_FIXED_BINARY: snprintf(buf, buf_size, "fixed_binary(%d)", t->byte_width); break;
    default: snprintf(buf, buf_size, "%s", name);
  }
  return buf;
}

static bool parse_unit(const char *s, size_t n, ms_time_unit *out) {
  for (int u = 0; u < 4; u++) {
    const char *name = ms_time_unit_name((ms_time_unit)u);
    if (strlen(name) == n && strncmp(s, name, n) == 0) { *out = (ms_time_unit)u; return true; }
  }
  return false;
}

bool ms_type_parse(const char *text, ms_datatype *out) {
  static const struct { const char *alias; ms_type_id id; } aliases[] = {
      {"string", MS_TYPE_UTF8}, {"str", MS_TYPE_UTF8}, {"bytes", MS_TYPE_BINARY},
      {"date", MS_TYPE_DATE32}, {"double", MS_TYPE_FLOAT64}, {"float", MS_TYPE_FLOAT32},
      {"int", MS_TYPE_INT64}, {"boolean", MS_TYPE_BOOL}, {"large_string", MS_TYPE_LARGE_UTF8},
  };
  for (size_t i = 0; i < sizeof k_names / sizeof *k_names; i++) {
    if (strcmp(text, k_names[i]) == 0 && i != MS_TYPE_FIXED_BINARY) {
      *out = ms_type((ms_type_id)i);
      return true;
    }
  }
  for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++) {
    if (strcmp(text, aliases[i].alias) == 0) { *out = ms_type(aliases[i].id); return true; }
  }
  if (strncmp(text, "timestamp[", 10) == 0) {
    const char *p = text + 10;
    const char *end = strchr(p, ']');
    if (!end || end[1]) return false;
    const char *comma = memchr(p, ',', (size_t)(end - p));
    ms_time_unit unit;
    if (!parse_unit(p, (size_t)((comma ? comma : end) - p), &unit)) return false;
    *out = ms_type_timestamp(unit, NULL);
    if (comma) {
      const char *tz = comma + 1;
      while (*tz == ' ') tz++;
      if (strncmp(tz, "tz=", 3) != 0) return false;
      tz += 3;
      if ((size_t)(end - tz) >= sizeof out->tz || end == tz) return false;
      memcpy(out->tz, tz, (size_t)(end - tz));
      out->tz[end - tz] = '\0';
    }
    return true;
  }
  int a, b;
  char tail;
  if (sscanf(text, "decimal128(%d, %d)%c", &a, &b, &tail) == 2 ||
      sscanf(text, "decimal128(%d,%d)%c", &a, &b, &tail) == 2) {
    if (a < 1 || a > 38 || b < 0 || b > a) return false;
    *out = ms_type_decimal128(a, b);
    return true;
  }
  if (sscanf(text, "fixed_binary(%d)%c", &a, &tail) == 1) {
    if (a < 0) return false;
    *out = ms_type_fixed_binary(a);
    return true;
  }
  return false;
}
