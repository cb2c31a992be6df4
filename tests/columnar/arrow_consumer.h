/* An independent Arrow C Data Interface consumer for tests: it reads an ArrowSchema /
 * ArrowArray purely by the specification (format strings, buffer layout, validity bitmap,
 * offsets, the array offset) and never calls morsel. It only needs the ABI structs, which
 * it takes from morsel/arrow.h (they are the spec's, byte for byte). */
#ifndef MS_TEST_ARROW_CONSUMER_H
#define MS_TEST_ARROW_CONSUMER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "morsel/arrow.h"

typedef enum ac_kind {
  AC_NULL, AC_BOOL, AC_INT, AC_UINT, AC_FLOAT, AC_BYTES, AC_FIXED, AC_DECIMAL, AC_DATE, AC_TS, AC_STRUCT,
  AC_BAD
} ac_kind;

/* A parsed format string. */
typedef struct ac_type {
  ac_kind kind;
  int width;       /* bytes per value for fixed-width kinds; offset width for AC_BYTES */
  char unit;       /* 's','m','u','n' for timestamps */
  char tz[64];
  int precision, scale;
} ac_type;

static ac_type ac_parse_format(const char *f) {
  ac_type t;
  memset(&t, 0, sizeof t);
  t.kind = AC_BAD;
  if (!f) return t;
  if (strlen(f) == 1) {
    switch (f[0]) {
      case 'n': t.kind = AC_NULL; break;
      case 'b': t.kind = AC_BOOL; break;
      case 'c': t.kind = AC_INT; t.width = 1; break;
      case 's': t.kind = AC_INT; t.width = 2; break;
      case 'i': t.kind = AC_INT; t.width = 4; break;
      case 'l': t.kind = AC_INT; t.width = 8; break;
      case 'C': t.kind = AC_UINT; t.width = 1; break;
      case 'S': t.kind = AC_UINT; t.width = 2; break;
      case 'I': t.kind = AC_UINT; t.width = 4; break;
      case 'L': t.kind = AC_UINT; t.width = 8; break;
      case 'f': t.kind = AC_FLOAT; t.width = 4; break;
      case 'g': t.kind = AC_FLOAT; t.width = 8; break;
      case 'u': case 'z': t.kind = AC_BYTES; t.width = 4; break;
      case 'U': case 'Z': t.kind = AC_BYTES; t.width = 8; break;
    }
    return t;
  }
  if (strcmp(f, "tdD") == 0) { t.kind = AC_DATE; t.width = 4; return t; }
  if (strcmp(f, "+s") == 0) { t.kind = AC_STRUCT; return t; }
  if (f[0] == 't' && f[1] == 's' && f[2] && f[3] == ':') {
    t.kind = AC_TS;
    t.width = 8;
    t.unit = f[2];
    strncpy(t.tz, f + 4, sizeof t.tz - 1);
    return t;
  }
  if (f[0] == 'w' && f[1] == ':') { t.kind = AC_FIXED; t.width = atoi(f + 2); return t; }
  if (f[0] == 'd' && f[1] == ':') {
    t.kind = AC_DECIMAL;
    t.width = 16;
    t.precision = atoi(f + 2);
    const char *c = strchr(f, ',');
    t.scale = c ? atoi(c + 1) : 0;
    return t;
  }
  return t;
}

/* One decoded value. */
typedef struct ac_value {
  bool is_null;
  int64_t i;      /* AC_INT, AC_DATE, AC_TS, AC_BOOL */
  uint64_t u;     /* AC_UINT */
  double f;       /* AC_FLOAT */
  const uint8_t *bytes; /* AC_BYTES, AC_FIXED, AC_DECIMAL */
  int64_t len;
} ac_value;

/* Number of buffers the spec requires for a kind. */
static int ac_n_buffers(ac_kind k) {
  switch (k) {
    case AC_NULL: return 0;
    case AC_STRUCT: return 1;
    case AC_BYTES: return 3;
    default: return 2;
  }
}

/* Reads row `row` (logical, before the array's offset is applied). */
static ac_value ac_get(const ac_type *t, const struct ArrowArray *a, int64_t row) {
  ac_value v;
  memset(&v, 0, sizeof v);
  int64_t i = a->offset + row;
  if (t->kind == AC_NULL) { v.is_null = true; return v; }
  const uint8_t *validity = a->buffers[0];
  if (a->null_count != 0 && validity && !((validity[i / 8] >> (i % 8)) & 1)) {
    v.is_null = true;
    return v;
  }
  const uint8_t *vals = a->buffers[1];
  switch (t->kind) {
    case AC_BOOL: v.i = (vals[i / 8] >> (i % 8)) & 1; break;
    case AC_INT: case AC_DATE: case AC_TS:
      if (t->width == 1) v.i = ((const int8_t *)vals)[i];
      else if (t->width == 2) v.i = ((const int16_t *)vals)[i];
      else if (t->width == 4) v.i = ((const int32_t *)vals)[i];
      else v.i = ((const int64_t *)vals)[i];
      break;
    case AC_UINT:
      if (t->width == 1) v.u = vals[i];
      else if (t->width == 2) v.u = ((const uint16_t *)vals)[i];
      else if (t->width == 4) v.u = ((const uint32_t *)vals)[i];
      else v.u = ((const uint64_t *)vals)[i];
      break;
    case AC_FLOAT:
      v.f = t->width == 4 ? ((const float *)vals)[i] : ((const double *)vals)[i];
      break;
    case AC_BYTES: {
      int64_t s, e;
      if (t->width == 4) { s = ((const int32_t *)vals)[i]; e = ((const int32_t *)vals)[i + 1]; }
      else { s = ((const int64_t *)vals)[i]; e = ((const int64_t *)vals)[i + 1]; }
      v.bytes = (const uint8_t *)a->buffers[2] + s;
      v.len = e - s;
      break;
    }
    case AC_FIXED: case AC_DECIMAL:
      v.bytes = vals + (int64_t)t->width * i;
      v.len = t->width;
      break;
    default: break;
  }
  return v;
}

/* Checks the structural rules of the spec for one array; returns NULL or a complaint. */
static const char *ac_check_array(const ac_type *t, const struct ArrowArray *a) {
  if (!a->release) return "array released";
  if (a->length < 0 || a->offset < 0) return "negative length/offset";
  if (a->n_buffers != ac_n_buffers(t->kind)) return "wrong number of buffers";
  if (a->n_buffers > 0 && !a->buffers) return "no buffers array";
  for (int64_t b = 1; b < a->n_buffers; b++)
    if (!a->buffers[b]) return "null non-validity buffer";
  if (a->null_count != 0 && t->kind != AC_NULL && t->kind != AC_STRUCT && !a->buffers[0] && a->length > 0)
    return "nulls without a validity bitmap";
  if (t->kind == AC_NULL && a->null_count != a->length) return "null array null_count != length";
  if (t->kind == AC_BYTES) {
    /* offsets must be monotonic */
    for (int64_t r = 0; r < a->length; r++) {
      int64_t i = a->offset + r, s, e;
      if (t->width == 4) { s = ((const int32_t *)a->buffers[1])[i]; e = ((const int32_t *)a->buffers[1])[i + 1]; }
      else { s = ((const int64_t *)a->buffers[1])[i]; e = ((const int64_t *)a->buffers[1])[i + 1]; }
      if (s < 0 || e < s) return "offsets not monotonic";
    }
  }
  if (t->kind != AC_BAD && t->kind != AC_NULL && t->kind != AC_STRUCT && t->kind != AC_BYTES &&
      t->kind != AC_BOOL && t->kind != AC_FIXED && t->width > 1 &&
      ((uintptr_t)a->buffers[1] % (uintptr_t)(t->width > 8 ? 8 : t->width)) != 0)
    return "misaligned values buffer";
  if (a->null_count > 0 && a->buffers && t->kind != AC_NULL && t->kind != AC_STRUCT) {
    int64_t nulls = 0;
    const uint8_t *v = a->buffers[0];
    for (int64_t r = 0; r < a->length; r++) {
      int64_t i = a->offset + r;
      nulls += !((v[i / 8] >> (i % 8)) & 1);
    }
    if (nulls != a->null_count) return "null_count does not match the bitmap";
  }
  return NULL;
}

#endif
