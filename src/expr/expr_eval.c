/* Expression evaluator: runs a compiled program (expr_compile.c) over the rows of the
 * input columns, MS_EXPR_BATCH rows at a time.
 *
 * Registers are vectors of one batch: values (uint8 0/1 for bool, int64, double, or string
 * views {pointer, length}) and a validity vector of bytes (1 = valid) that is NULL when
 * every row of the batch is valid, which is the fast path: such loops are plain
 * element-wise arithmetic the compiler vectorises. Every instruction writes defined values
 * in all slots, null ones included (0 or the empty string), so later loops may read them.
 * Input columns of the natural type (int64, float64, timestamp[ns]) are read in place,
 * without copying. Strings an instruction produces live in its register's arena, reset
 * per batch. All state is per call, so one program may run on many threads at once.
 *
 * Errors (overflow, failed casts) are checked after the loop of an instruction, only for
 * valid rows inside its mask (see expr_compile.c), and name the first failing row. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "columnar/column.h"
#include "expr/expr_int.h"
#include "formats/timeparse.h"
#include "morsel/alloc.h"

#define MS_EXPR_BATCH 2048
#define DAY_NS 86400000000000LL

typedef struct ereg {
  void *vals;            /* current values (may point into an input column) */
  const uint8_t *valid;  /* NULL = all valid */
  void *own;             /* owned values: one batch */
  uint8_t *own_valid;    /* owned validity: one batch */
  char *arena;           /* strings produced by the instruction */
  int64_t arena_cap, arena_len;
} ereg;

typedef struct estate {
  const ms_expr *e;
  ms_column *const *cols;
  ereg *regs;
  int64_t row0; /* first row of the batch */
  ms_error *err;
} estate;

static ms_status nomem(estate *s) { return ms_error_set(s->err, MS_ERR_NOMEM, "out of memory"); }

static ms_status row_error(estate *s, const ms_expr_instr *in, int64_t i, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ms_status row_error(estate *s, const ms_expr_instr *in, int64_t i, const char *fmt, ...) {
  char msg[700];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ms_status st = ms_expr_error_at(s->err, MS_ERR_INVALID, s->e->text, in->pos, "row %lld: %s",
                                  (long long)(s->row0 + i), msg);
  ms_error_set_row(s->err, s->row0 + i);
  return st;
}

/* Does row i matter for errors (valid and inside the mask)? */
static inline bool live(const estate *s, const ms_expr_instr *in, const uint8_t *valid, int64_t i) {
  if (valid && !valid[i]) return false;
  if (in->mask >= 0 && !((const uint8_t *)s->regs[in->mask].vals)[i]) return false;
  return true;
}

static size_t elt_size(ms_expr_phys p) {
  switch (p) {
    case PH_BOOL: return 1;
    case PH_STR: return sizeof(ms_expr_sv);
    default: return 8;
  }
}

/* Validity of a binary operation: NULL when both inputs are all valid. */
static const uint8_t *and_valid(ereg *d, const ereg *a, const ereg *b, int64_t n) {
  if (!a->valid && (!b || !b->valid)) return NULL;
  if (!b || !b->valid) return a->valid;
  if (!a->valid) return b->valid;
  for (int64_t i = 0; i < n; i++) d->own_valid[i] = a->valid[i] & b->valid[i];
  return d->own_valid;
}

/* Validity into own storage (for operations that add nulls). */
static uint8_t *own_valid(ereg *d, const ereg *a, const ereg *b, const ereg *c, int64_t n) {
  uint8_t *v = d->own_valid;
  memset(v, 1, (size_t)n);
  const ereg *srcs[3] = {a, b, c};
  for (int k = 0; k < 3; k++)
    if (srcs[k] && srcs[k]->valid)
      for (int64_t i = 0; i < n; i++) v[i] &= srcs[k]->valid[i];
  return v;
}

static ms_status arena_reserve(ereg *d, int64_t need) {
  if (need <= d->arena_cap) return MS_OK;
  int64_t cap = d->arena_cap ? d->arena_cap : 4096;
  while (cap < need) cap *= 2;
  char *p = ms_realloc(d->arena, (size_t)cap);
  if (!p) return MS_ERR_NOMEM;
  d->arena = p;
  d->arena_cap = cap;
  return MS_OK;
}

/* ---- loading inputs ---- */

/* Byte b of a bitmap as eight 0/1 bytes, bit 0 first. */
static uint8_t k_spread[256][8];
static pthread_once_t k_spread_once = PTHREAD_ONCE_INIT;
static void spread_init(void) {
  for (int b = 0; b < 256; b++) {
    for (int k = 0; k < 8; k++) k_spread[b][k] = (uint8_t)(b >> k & 1);
  }
}

/* Unpacks bits [first, first + n) into n bytes of 0/1. */
static void unpack_bits(const uint8_t *bits, int64_t first, uint8_t *out, int64_t n) {
  int64_t i = 0;
  if ((first & 7) == 0) {
    const uint8_t *src = bits + first / 8;
    for (; i + 8 <= n; i += 8) memcpy(out + i, k_spread[src[i / 8]], 8);
  }
  for (; i < n; i++) out[i] = ms_bit_get(bits, first + i);
}

static ms_status load(estate *s, const ms_expr_instr *in, int64_t n) {
  ereg *d = &s->regs[in->dst];
  const ms_column *col = s->cols[in->imm];
  ms_expr_kind k = s->e->regs[in->dst].kind;
  int64_t r0 = s->row0;
  const ms_datatype *t = &col->type;
  if (t->id == MS_TYPE_NULL) {
    memset(d->own, 0, (size_t)n * elt_size(s->e->regs[in->dst].phys));
    if (k == EK_STR) /* views never hold NULL pointers (memcmp/memcpy of 0 bytes) */
      for (int64_t i = 0; i < n; i++) ((ms_expr_sv *)d->own)[i] = (ms_expr_sv){"", 0};
    memset(d->own_valid, 0, (size_t)n);
    d->vals = d->own;
    d->valid = d->own_valid;
    return MS_OK;
  }
  d->valid = NULL;
  if (col->null_count > 0 && col->validity) {
    unpack_bits(col->validity->data, r0, d->own_valid, n);
    d->valid = d->own_valid;
  }
  const uint8_t *raw = col->values ? col->values->data : NULL;
  int64_t *o64 = d->own;
  switch (k) {
    case EK_BOOL: {
      unpack_bits(raw, r0, d->own, n);
      d->vals = d->own;
      return MS_OK;
    }
    case EK_FLOAT:
      if (t->id == MS_TYPE_FLOAT64) {
        d->vals = (double *)raw + r0;
      } else {
        const float *f = (const float *)raw + r0;
        double *o = d->own;
        for (int64_t i = 0; i < n; i++) o[i] = f[i];
        d->vals = o;
      }
      return MS_OK;
    case EK_STR: {
      ms_expr_sv *o = d->own;
      const char *data = col->data ? (const char *)col->data->data : "";
      if (ms_type_is_large(t)) {
        const int64_t *off = (const int64_t *)raw + r0;
        for (int64_t i = 0; i < n; i++) o[i] = (ms_expr_sv){data + off[i], off[i + 1] - off[i]};
      } else {
        const int32_t *off = (const int32_t *)raw + r0;
        for (int64_t i = 0; i < n; i++) o[i] = (ms_expr_sv){data + off[i], off[i + 1] - off[i]};
      }
      d->vals = o;
      return MS_OK;
    }
    case EK_DATE: {
      const int32_t *v = (const int32_t *)raw + r0;
      for (int64_t i = 0; i < n; i++) o64[i] = v[i];
      d->vals = o64;
      return MS_OK;
    }
    case EK_TS: {
      if (t->unit == MS_UNIT_NANO) {
        d->vals = (int64_t *)raw + r0;
        return MS_OK;
      }
      int64_t mul = 1000000000 / ms_time_unit_per_second(t->unit);
      const int64_t *v = (const int64_t *)raw + r0;
      bool ovf = false;
      for (int64_t i = 0; i < n; i++) ovf |= __builtin_mul_overflow(v[i], mul, &o64[i]);
      d->vals = o64;
      if (ovf)
        for (int64_t i = 0; i < n; i++)
          if ((!d->valid || d->valid[i]) && __builtin_mul_overflow(v[i], mul, &o64[i]))
            return row_error(s, in, i, "timestamp %lld%s of column '%s' is outside the "
                             "nanosecond range (1677..2262)", (long long)v[i],
                             ms_time_unit_name(t->unit), s->e->inputs[in->imm].name);
      return MS_OK;
    }
    default: /* EK_INT, any integer width */
      break;
  }
  switch (t->id) {
    case MS_TYPE_INT64: d->vals = (int64_t *)raw + r0; return MS_OK;
    case MS_TYPE_INT32: { const int32_t *v = (const int32_t *)raw + r0; for (int64_t i = 0; i < n; i++) o64[i] = v[i]; break; }
    case MS_TYPE_INT16: { const int16_t *v = (const int16_t *)raw + r0; for (int64_t i = 0; i < n; i++) o64[i] = v[i]; break; }
    case MS_TYPE_INT8: { const int8_t *v = (const int8_t *)raw + r0; for (int64_t i = 0; i < n; i++) o64[i] = v[i]; break; }
    case MS_TYPE_UINT8: { const uint8_t *v = (const uint8_t *)raw + r0; for (int64_t i = 0; i < n; i++) o64[i] = v[i]; break; }
    case MS_TYPE_UINT16: { const uint16_t *v = (const uint16_t *)raw + r0; for (int64_t i = 0; i < n; i++) o64[i] = v[i]; break; }
    case MS_TYPE_UINT32: { const uint32_t *v = (const uint32_t *)raw + r0; for (int64_t i = 0; i < n; i++) o64[i] = v[i]; break; }
    case MS_TYPE_UINT64: {
      const uint64_t *v = (const uint64_t *)raw + r0;
      for (int64_t i = 0; i < n; i++) {
        if (v[i] > (uint64_t)INT64_MAX && (!d->valid || d->valid[i]))
          return row_error(s, in, i, "uint64 value %llu of column '%s' does not fit int64",
                           (unsigned long long)v[i], s->e->inputs[in->imm].name);
        o64[i] = (int64_t)v[i];
      }
      break;
    }
    default:
      return ms_error_set(s->err, MS_ERR_INTERNAL, "expression load of an unexpected type");
  }
  d->vals = o64;
  return MS_OK;
}

/* ---- instruction kernels ---- */

#define I64(r) ((int64_t *)(r)->vals)
#define F64(r) ((double *)(r)->vals)
#define U8(r) ((uint8_t *)(r)->vals)
#define SV(r) ((ms_expr_sv *)(r)->vals)

static const char *op_text(ms_expr_opcode op) {
  switch (op) {
    case OP_ADD_I: return "+";
    case OP_SUB_I: return "-";
    case OP_MUL_I: return "*";
    default: return "?";
  }
}

static ms_status int_arith(estate *s, const ms_expr_instr *in, int64_t n) {
  ereg *d = &s->regs[in->dst], *a = &s->regs[in->a], *b = &s->regs[in->b];
  const int64_t *x = I64(a), *y = I64(b);
  int64_t *z = d->own;
  int ovf = 0;
  switch (in->op) {
    case OP_ADD_I: for (int64_t i = 0; i < n; i++) ovf |= __builtin_add_overflow(x[i], y[i], &z[i]); break;
    case OP_SUB_I: for (int64_t i = 0; i < n; i++) ovf |= __builtin_sub_overflow(x[i], y[i], &z[i]); break;
    default: for (int64_t i = 0; i < n; i++) ovf |= __builtin_mul_overflow(x[i], y[i], &z[i]); break;
  }
  d->vals = z;
  d->valid = and_valid(d, a, b, n);
  if (ovf) {
    for (int64_t i = 0; i < n; i++) {
      int64_t t;
      bool o = in->op == OP_ADD_I ? __builtin_add_overflow(x[i], y[i], &t)
               : in->op == OP_SUB_I ? __builtin_sub_overflow(x[i], y[i], &t)
                                    : __builtin_mul_overflow(x[i], y[i], &t);
      if (o && live(s, in, d->valid, i))
        return row_error(s, in, i, "integer overflow: %lld %s %lld", (long long)x[i],
                         op_text(in->op), (long long)y[i]);
    }
  }
  return MS_OK;
}

static inline bool cmp_res(int c, int code) {
  switch (code) {
    case CMP_EQ: return c == 0;
    case CMP_NE: return c != 0;
    case CMP_LT: return c < 0;
    case CMP_LE: return c <= 0;
    case CMP_GT: return c > 0;
    default: return c >= 0;
  }
}

#define CMP_LOOP(T, X, Y)                                                      \
  do {                                                                         \
    const T *x_ = (X), *y_ = (Y);                                              \
    switch (in->imm) {                                                         \
      case CMP_EQ: for (int64_t i = 0; i < n; i++) z[i] = x_[i] == y_[i]; break; \
      case CMP_NE: for (int64_t i = 0; i < n; i++) z[i] = x_[i] != y_[i]; break; \
      case CMP_LT: for (int64_t i = 0; i < n; i++) z[i] = x_[i] < y_[i]; break;  \
      case CMP_LE: for (int64_t i = 0; i < n; i++) z[i] = x_[i] <= y_[i]; break; \
      case CMP_GT: for (int64_t i = 0; i < n; i++) z[i] = x_[i] > y_[i]; break;  \
      default: for (int64_t i = 0; i < n; i++) z[i] = x_[i] >= y_[i]; break;     \
    }                                                                          \
  } while (0)

static int sv_cmp(ms_expr_sv a, ms_expr_sv b) {
  int64_t m = a.n < b.n ? a.n : b.n;
  int c = m ? memcmp(a.p, b.p, (size_t)m) : 0;
  if (c) return c;
  return a.n < b.n ? -1 : a.n > b.n;
}

static void compare(estate *s, const ms_expr_instr *in, int64_t n) {
  ereg *d = &s->regs[in->dst], *a = &s->regs[in->a], *b = &s->regs[in->b];
  uint8_t *z = d->own;
  switch (in->op) {
    case OP_CMP_I: CMP_LOOP(int64_t, I64(a), I64(b)); break;
    case OP_CMP_F: CMP_LOOP(double, F64(a), F64(b)); break;
    case OP_CMP_B: CMP_LOOP(uint8_t, U8(a), U8(b)); break;
    default: {
      const ms_expr_sv *x = SV(a), *y = SV(b);
      for (int64_t i = 0; i < n; i++) z[i] = cmp_res(sv_cmp(x[i], y[i]), (int)in->imm);
    }
  }
  d->vals = z;
  d->valid = and_valid(d, a, b, n);
  /* null slots hold false, as every bool register does */
  if (d->valid)
    for (int64_t i = 0; i < n; i++) z[i] &= d->valid[i];
}

/* Copies element i of src into dst slot i (any physical type). */
#define PICK(T, cond, X, Y)                                                         \
  do {                                                                              \
    const T *x_ = (const T *)(X)->vals, *y_ = (const T *)(Y)->vals;                 \
    T *z_ = d->own;                                                                 \
    for (int64_t i = 0; i < n; i++) z_[i] = (cond) ? x_[i] : y_[i];                 \
  } while (0)

static void select_by(estate *s, const ms_expr_instr *in, int64_t n, const uint8_t *take_a) {
  ereg *d = &s->regs[in->dst], *a = &s->regs[in->a], *b = &s->regs[in->b];
  switch (s->e->regs[in->dst].phys) {
    case PH_BOOL: PICK(uint8_t, take_a[i], a, b); break;
    case PH_I64: PICK(int64_t, take_a[i], a, b); break;
    case PH_F64: PICK(double, take_a[i], a, b); break;
    case PH_STR: PICK(ms_expr_sv, take_a[i], a, b); break;
  }
  d->vals = d->own;
}

/* The rows where a value is taken from `a`, built in a scratch vector. */
static ms_status select_op(estate *s, const ms_expr_instr *in, int64_t n, uint8_t *scratch) {
  ereg *d = &s->regs[in->dst], *a = &s->regs[in->a], *b = &s->regs[in->b];
  if (in->op == OP_COALESCE) {
    if (!a->valid) {
      d->vals = a->vals;
      d->valid = NULL;
      return MS_OK;
    }
    for (int64_t i = 0; i < n; i++) scratch[i] = a->valid[i];
    select_by(s, in, n, scratch);
    if (!b->valid) {
      d->valid = NULL;
    } else {
      for (int64_t i = 0; i < n; i++) d->own_valid[i] = a->valid[i] | b->valid[i];
      d->valid = d->own_valid;
    }
    return MS_OK;
  }
  /* OP_SELECT: condition in c (null = false) */
  ereg *c = &s->regs[in->c];
  const uint8_t *cv = U8(c);
  for (int64_t i = 0; i < n; i++) scratch[i] = cv[i] & (c->valid ? c->valid[i] : 1);
  select_by(s, in, n, scratch);
  if (!a->valid && !b->valid) {
    d->valid = NULL;
  } else {
    for (int64_t i = 0; i < n; i++)
      d->own_valid[i] = scratch[i] ? (a->valid ? a->valid[i] : 1) : (b->valid ? b->valid[i] : 1);
    d->valid = d->own_valid;
  }
  return MS_OK;
}

/* least/greatest (skip nulls) and clip bounds (null bound ignored, null x stays null). */
#define MINMAX(T, LESS)                                                                  \
  do {                                                                                   \
    const T *x = (const T *)a->vals, *y = (const T *)b->vals;                            \
    T *z = d->own;                                                                       \
    for (int64_t i = 0; i < n; i++) {                                                    \
      bool av = !a->valid || a->valid[i], bv = !b->valid || b->valid[i];                 \
      bool take_b;                                                                       \
      switch (in->op) {                                                                  \
        case OP_MIN: take_b = !av || (bv && LESS(y[i], x[i])); break;                    \
        case OP_MAX: take_b = !av || (bv && LESS(x[i], y[i])); break;                    \
        case OP_CLIP_LO: take_b = av && bv && LESS(x[i], y[i]); break;                   \
        default: take_b = av && bv && LESS(y[i], x[i]); break;                           \
      }                                                                                  \
      z[i] = take_b ? y[i] : x[i];                                                       \
    }                                                                                    \
  } while (0)
#define LT_NUM(p, q) ((p) < (q))
#define LT_SV(p, q) (sv_cmp((p), (q)) < 0)

static void minmax(estate *s, const ms_expr_instr *in, int64_t n) {
  ereg *d = &s->regs[in->dst], *a = &s->regs[in->a], *b = &s->regs[in->b];
  switch (s->e->regs[in->dst].phys) {
    case PH_BOOL: MINMAX(uint8_t, LT_NUM); break;
    case PH_I64: MINMAX(int64_t, LT_NUM); break;
    case PH_F64: MINMAX(double, LT_NUM); break;
    case PH_STR: MINMAX(ms_expr_sv, LT_SV); break;
  }
  d->vals = d->own;
  if (in->op == OP_CLIP_LO || in->op == OP_CLIP_HI) {
    d->valid = a->valid;
  } else if (!a->valid || !b->valid) {
    d->valid = NULL;
  } else {
    for (int64_t i = 0; i < n; i++) d->own_valid[i] = a->valid[i] | b->valid[i];
    d->valid = d->own_valid;
  }
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
  return q;
}

/* Writes a timestamp as 'YYYY-MM-DD HH:MM:SS[.fff[fff[fff]]]' (+00:00 when aware). */
static int format_ts(int64_t ns, bool aware, char *buf) {
  int64_t days = floor_div(ns, DAY_NS), in_day = ns - days * DAY_NS;
  int64_t y;
  int m, d;
  ms_civil_from_days(days, &y, &m, &d);
  int64_t secs = in_day / 1000000000, frac = in_day % 1000000000;
  int len = snprintf(buf, 64, "%04lld-%02d-%02d %02lld:%02lld:%02lld", (long long)y, m, d,
                     (long long)(secs / 3600), (long long)(secs / 60 % 60), (long long)(secs % 60));
  if (frac) {
    if (frac % 1000000 == 0) len += snprintf(buf + len, 16, ".%03lld", (long long)(frac / 1000000));
    else if (frac % 1000 == 0) len += snprintf(buf + len, 16, ".%06lld", (long long)(frac / 1000));
    else len += snprintf(buf + len, 16, ".%09lld", (long long)frac);
  }
  if (aware) len += snprintf(buf + len, 8, "+00:00");
  return len;
}

static void sv_text(ms_expr_sv v, char *buf, size_t size) {
  size_t n = v.n < (int64_t)size - 1 ? (size_t)v.n : size - 1;
  memcpy(buf, v.p, n);
  buf[n] = 0;
}

/* Conversions to string: every value fits in 64 bytes. */
static ms_status to_string(estate *s, const ms_expr_instr *in, int64_t n) {
  ereg *d = &s->regs[in->dst], *a = &s->regs[in->a];
  if (arena_reserve(d, n * 64)) return nomem(s);
  ms_expr_sv *z = d->own;
  char *p = d->arena;
  for (int64_t i = 0; i < n; i++) {
    int len = 0;
    if (!a->valid || a->valid[i]) {
      switch (in->op) {
        case OP_I2S: len = snprintf(p, 64, "%lld", (long long)I64(a)[i]); break;
        case OP_F2S: len = ms_expr_format_double(F64(a)[i], p, 64); break;
        case OP_B2S: len = snprintf(p, 64, "%s", U8(a)[i] ? "true" : "false"); break;
        case OP_TS2S: len = format_ts(I64(a)[i], in->imm != 0, p); break;
        default: len = ms_format_date32((int32_t)I64(a)[i], p); break;
      }
    }
    z[i] = (ms_expr_sv){p, len};
    p += len;
  }
  d->vals = z;
  d->valid = a->valid;
  return MS_OK;
}

static const char *kind_word(ms_expr_opcode op) {
  switch (op) {
    case OP_S2I: return "int64";
    case OP_S2F: return "float64";
    case OP_S2B: return "bool";
    case OP_S2TS: return "timestamp";
    default: return "date";
  }
}

static ms_status from_string(estate *s, const ms_expr_instr *in, int64_t n) {
  ereg *d = &s->regs[in->dst], *a = &s->regs[in->a];
  const ms_expr_sv *x = SV(a);
  for (int64_t i = 0; i < n; i++) {
    bool ok = true;
    int64_t iv = 0;
    double fv = 0;
    bool bv = false;
    if (!a->valid || a->valid[i]) {
      switch (in->op) {
        case OP_S2I: ok = ms_expr_parse_int(x[i].p, x[i].n, &iv); break;
        case OP_S2F: ok = ms_expr_parse_double(x[i].p, x[i].n, &fv); break;
        case OP_S2B: ok = ms_expr_parse_bool(x[i].p, x[i].n, &bv); break;
        case OP_S2TS: ok = ms_parse_timestamp_ns(x[i].p, (size_t)x[i].n, &iv, NULL); break;
        default: {
          int32_t dd;
          ok = ms_parse_date(x[i].p, (size_t)x[i].n, &dd);
          if (!ok && ms_parse_timestamp_ns(x[i].p, (size_t)x[i].n, &iv, NULL)) {
            ok = true;
            dd = (int32_t)floor_div(iv, DAY_NS);
          }
          iv = ok ? dd : 0;
        }
      }
      if (!ok) {
        iv = 0;
        fv = 0;
        if (live(s, in, a->valid, i)) {
          char b[128];
          sv_text(x[i], b, sizeof b);
          return row_error(s, in, i, "cannot cast '%s'%s to %s", b, x[i].n >= 127 ? "..." : "",
                           kind_word(in->op));
        }
      }
    }
    if (in->op == OP_S2F) ((double *)d->own)[i] = fv;
    else if (in->op == OP_S2B) ((uint8_t *)d->own)[i] = bv;
    else ((int64_t *)d->own)[i] = iv;
  }
  d->vals = d->own;
  d->valid = a->valid;
  return MS_OK;
}

static ms_status convert(estate *s, const ms_expr_instr *in, int64_t n) {
  ereg *d = &s->regs[in->dst], *a = &s->regs[in->a];
  d->vals = d->own;
  d->valid = a->valid;
  switch (in->op) {
    case OP_I2F: { const int64_t *x = I64(a); double *z = d->own; for (int64_t i = 0; i < n; i++) z[i] = (double)x[i]; break; }
    case OP_B2F: { const uint8_t *x = U8(a); double *z = d->own; for (int64_t i = 0; i < n; i++) z[i] = x[i]; break; }
    case OP_B2I: { const uint8_t *x = U8(a); int64_t *z = d->own; for (int64_t i = 0; i < n; i++) z[i] = x[i]; break; }
    case OP_I2B: { const int64_t *x = I64(a); uint8_t *z = d->own; for (int64_t i = 0; i < n; i++) z[i] = x[i] != 0; break; }
    case OP_F2B: { const double *x = F64(a); uint8_t *z = d->own; for (int64_t i = 0; i < n; i++) z[i] = x[i] != 0; break; }
    case OP_TS2D: { const int64_t *x = I64(a); int64_t *z = d->own; for (int64_t i = 0; i < n; i++) z[i] = floor_div(x[i], DAY_NS); break; }
    case OP_F2I: {
      const double *x = F64(a);
      int64_t *z = d->own;
      for (int64_t i = 0; i < n; i++) {
        double v = x[i];
        if (v >= -9.2233720368547758e18 && v < 9.2233720368547758e18) {
          z[i] = (int64_t)v; /* C truncates toward zero */
        } else {
          z[i] = 0;
          if (live(s, in, a->valid, i)) {
            char b[40];
            ms_expr_format_double(v, b, sizeof b);
            return row_error(s, in, i, "cannot cast %s to int64 (out of range)", b);
          }
        }
      }
      break;
    }
    case OP_D2TS: {
      const int64_t *x = I64(a);
      int64_t *z = d->own;
      for (int64_t i = 0; i < n; i++)
        if (__builtin_mul_overflow(x[i], DAY_NS, &z[i])) {
          z[i] = 0;
          if (live(s, in, a->valid, i))
            return row_error(s, in, i, "date is outside the timestamp[ns] range (1677..2262)");
        }
      break;
    }
    default:
      return ms_error_set(s->err, MS_ERR_INTERNAL, "bad conversion opcode %d", in->op);
  }
  return MS_OK;
}

static double round_digits(double x, int64_t dg) {
  if (!isfinite(x)) return x;
  if (dg > 300) return x;
  if (dg < -300) return 0 * x;
  if (dg >= 0) {
    double p = pow(10.0, (double)dg);
    double y = x * p;
    if (!isfinite(y) || fabs(y) >= 4503599627370496.0) return x; /* already exact */
    return round(y) / p;
  }
  double p = pow(10.0, (double)-dg);
  return round(x / p) * p;
}

static ms_status math_op(estate *s, const ms_expr_instr *in, int64_t n) {
  ereg *d = &s->regs[in->dst], *a = &s->regs[in->a];
  ereg *b = in->b >= 0 ? &s->regs[in->b] : NULL;
  const double *x = F64(a);
  double *z = d->own;
  d->vals = z;
  switch (in->op) {
    case OP_FLOOR_F: for (int64_t i = 0; i < n; i++) z[i] = floor(x[i]); d->valid = a->valid; return MS_OK;
    case OP_CEIL_F: for (int64_t i = 0; i < n; i++) z[i] = ceil(x[i]); d->valid = a->valid; return MS_OK;
    case OP_EXP: for (int64_t i = 0; i < n; i++) z[i] = exp(x[i]); d->valid = a->valid; return MS_OK;
    case OP_ROUND_F:
      if (!b) {
        for (int64_t i = 0; i < n; i++) z[i] = round(x[i]);
        d->valid = a->valid;
      } else {
        const int64_t *dg = I64(b);
        for (int64_t i = 0; i < n; i++) z[i] = round_digits(x[i], dg[i]);
        d->valid = and_valid(d, a, b, n);
      }
      return MS_OK;
    default:
      break;
  }
  /* sqrt/log/pow: domain errors become null */
  uint8_t *v = own_valid(d, a, b, NULL, n);
  const double *y = b ? F64(b) : NULL;
  for (int64_t i = 0; i < n; i++) {
    double r;
    if (in->op == OP_SQRT) r = x[i] < 0 ? NAN : sqrt(x[i]);
    else if (in->op == OP_LOG) r = x[i] <= 0 ? NAN : log(x[i]);
    else {
      r = pow(x[i], y[i]);
      if (isinf(r) && isfinite(x[i]) && isfinite(y[i]) && x[i] == 0) r = NAN; /* pole */
    }
    if (isnan(r) && !isnan(x[i]) && !(y && isnan(y[i]))) {
      v[i] = 0;
      r = 0;
    }
    z[i] = r;
  }
  d->valid = v;
  return MS_OK;
}

static ms_status int_misc(estate *s, const ms_expr_instr *in, int64_t n) {
  ereg *d = &s->regs[in->dst], *a = &s->regs[in->a];
  const int64_t *x = I64(a);
  int64_t *z = d->own;
  d->vals = z;
  d->valid = a->valid;
  for (int64_t i = 0; i < n; i++) {
    if (x[i] == INT64_MIN) {
      z[i] = 0;
      if (live(s, in, a->valid, i))
        return row_error(s, in, i, "integer overflow: %s%lld", in->op == OP_NEG_I ? "-" : "abs ",
                         (long long)x[i]);
    } else {
      z[i] = in->op == OP_NEG_I ? -x[i] : (x[i] < 0 ? -x[i] : x[i]);
    }
  }
  return MS_OK;
}

static ms_status round_int(estate *s, const ms_expr_instr *in, int64_t n) {
  ereg *d = &s->regs[in->dst], *a = &s->regs[in->a], *b = &s->regs[in->b];
  const int64_t *x = I64(a), *dg = I64(b);
  int64_t *z = d->own;
  d->vals = z;
  d->valid = and_valid(d, a, b, n);
  for (int64_t i = 0; i < n; i++) {
    if (dg[i] >= 0) {
      z[i] = x[i];
      continue;
    }
    if (dg[i] < -18) {
      z[i] = 0;
      continue;
    }
    int64_t p = 1;
    for (int64_t k = 0; k < -dg[i]; k++) p *= 10;
    int64_t q = x[i] / p, r = x[i] % p;
    if (r >= 0 ? r >= p - r : -r >= p + r) q += r >= 0 ? 1 : -1;
    if (__builtin_mul_overflow(q, p, &z[i])) {
      z[i] = 0;
      if (live(s, in, d->valid, i))
        return row_error(s, in, i, "integer overflow rounding %lld", (long long)x[i]);
    }
  }
  return MS_OK;
}

/* ---- strings ---- */

static bool sv_starts(ms_expr_sv s, ms_expr_sv t) { return t.n <= s.n && memcmp(s.p, t.p, (size_t)t.n) == 0; }
static bool sv_ends(ms_expr_sv s, ms_expr_sv t) {
  return t.n <= s.n && memcmp(s.p + s.n - t.n, t.p, (size_t)t.n) == 0;
}
static bool sv_contains(ms_expr_sv s, ms_expr_sv t) {
  if (t.n == 0) return true;
  return memmem(s.p, (size_t)s.n, t.p, (size_t)t.n) != NULL;
}

/* Byte offset of code point k (0-based) in s, clamped to s.n. */
static int64_t cp_offset(ms_expr_sv s, int64_t k) {
  if (k <= 0) return 0;
  int64_t i = 0, seen = 0;
  for (; i < s.n; i++) {
    if (((unsigned char)s.p[i] & 0xC0) != 0x80) {
      if (seen == k) return i;
      seen++;
    }
  }
  return s.n;
}

static ms_status string_op(estate *s, const ms_expr_instr *in, int64_t n) {
  ereg *d = &s->regs[in->dst], *a = &s->regs[in->a];
  ereg *b = in->b >= 0 ? &s->regs[in->b] : NULL;
  ereg *c = in->c >= 0 ? &s->regs[in->c] : NULL;
  const ms_expr_sv *x = SV(a);
  d->vals = d->own;
  switch (in->op) {
    case OP_STARTS:
    case OP_ENDS:
    case OP_CONTAINS: {
      const ms_expr_sv *y = SV(b);
      uint8_t *z = d->own;
      for (int64_t i = 0; i < n; i++)
        z[i] = in->op == OP_STARTS ? sv_starts(x[i], y[i])
               : in->op == OP_ENDS ? sv_ends(x[i], y[i]) : sv_contains(x[i], y[i]);
      d->valid = and_valid(d, a, b, n);
      if (d->valid) for (int64_t i = 0; i < n; i++) z[i] &= d->valid[i];
      return MS_OK;
    }
    case OP_LENGTH: {
      int64_t *z = d->own;
      for (int64_t i = 0; i < n; i++) z[i] = ms_expr_utf8_count(x[i].p, x[i].n);
      d->valid = a->valid;
      return MS_OK;
    }
    case OP_LOWER:
    case OP_UPPER: {
      int64_t total = 0;
      for (int64_t i = 0; i < n; i++) total += x[i].n;
      if (arena_reserve(d, total + 1)) return nomem(s);
      char *p = d->arena;
      ms_expr_sv *z = d->own;
      bool up = in->op == OP_UPPER;
      for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < x[i].n; j++) {
          char ch = x[i].p[j];
          if (up && ch >= 'a' && ch <= 'z') ch = (char)(ch - 32);
          else if (!up && ch >= 'A' && ch <= 'Z') ch = (char)(ch + 32);
          p[j] = ch;
        }
        z[i] = (ms_expr_sv){p, x[i].n};
        p += x[i].n;
      }
      d->valid = a->valid;
      return MS_OK;
    }
    case OP_SUBSTR: {
      /* characters [start, start + len) of the 1-based positions that exist; len < 0 is
       * null (SQL standard / PostgreSQL semantics) */
      ms_expr_sv *z = d->own;
      const int64_t *st = I64(b), *ln = c ? I64(c) : NULL;
      uint8_t *v = own_valid(d, a, b, c, n);
      for (int64_t i = 0; i < n; i++) {
        int64_t from = st[i], to;
        if (ln) {
          if (ln[i] < 0) {
            v[i] = 0;
            z[i] = (ms_expr_sv){"", 0};
            continue;
          }
          if (__builtin_add_overflow(from, ln[i], &to)) to = INT64_MAX;
        } else {
          to = INT64_MAX;
        }
        if (from < 1) from = 1;
        if (to <= from) {
          z[i] = (ms_expr_sv){x[i].p, 0};
          continue;
        }
        int64_t bo = cp_offset(x[i], from - 1);
        ms_expr_sv rest = {x[i].p + bo, x[i].n - bo};
        int64_t be = to == INT64_MAX ? rest.n : cp_offset(rest, to - from);
        z[i] = (ms_expr_sv){rest.p, be};
      }
      d->valid = v;
      return MS_OK;
    }
    default: { /* OP_CONCAT: nulls are empty, the result is never null */
      const ms_expr_sv *y = b ? SV(b) : NULL;
      int64_t total = 0;
      for (int64_t i = 0; i < n; i++) total += x[i].n + (y ? y[i].n : 0);
      if (arena_reserve(d, total + 1)) return nomem(s);
      char *p = d->arena;
      ms_expr_sv *z = d->own;
      for (int64_t i = 0; i < n; i++) {
        char *start = p;
        if (!a->valid || a->valid[i]) {
          memcpy(p, x[i].p, (size_t)x[i].n);
          p += x[i].n;
        }
        if (y && (!b->valid || b->valid[i])) {
          memcpy(p, y[i].p, (size_t)y[i].n);
          p += y[i].n;
        }
        z[i] = (ms_expr_sv){start, p - start};
      }
      d->valid = NULL;
      return MS_OK;
    }
  }
}

static ms_status exec(estate *s, const ms_expr_instr *in, int64_t n, uint8_t *scratch) {
  ereg *d = &s->regs[in->dst];
  ereg *a = in->a >= 0 ? &s->regs[in->a] : NULL;
  ereg *b = in->b >= 0 ? &s->regs[in->b] : NULL;
  switch (in->op) {
    case OP_LOAD:
      return load(s, in, n);
    case OP_ADD_I:
    case OP_SUB_I:
    case OP_MUL_I:
      return int_arith(s, in, n);
    case OP_NEG_I:
    case OP_ABS_I:
      return int_misc(s, in, n);
    case OP_MOD_I: {
      const int64_t *x = I64(a), *y = I64(b);
      int64_t *z = d->own;
      uint8_t *v = own_valid(d, a, b, NULL, n);
      for (int64_t i = 0; i < n; i++) {
        if (y[i] == 0) {
          v[i] = 0;
          z[i] = 0;
        } else {
          z[i] = y[i] == -1 ? 0 : x[i] % y[i];
        }
      }
      d->vals = z;
      d->valid = v;
      return MS_OK;
    }
    case OP_ADD_F:
    case OP_SUB_F:
    case OP_MUL_F: {
      const double *x = F64(a), *y = F64(b);
      double *z = d->own;
      if (in->op == OP_ADD_F) for (int64_t i = 0; i < n; i++) z[i] = x[i] + y[i];
      else if (in->op == OP_SUB_F) for (int64_t i = 0; i < n; i++) z[i] = x[i] - y[i];
      else for (int64_t i = 0; i < n; i++) z[i] = x[i] * y[i];
      d->vals = z;
      d->valid = and_valid(d, a, b, n);
      return MS_OK;
    }
    case OP_DIV_F:
    case OP_MOD_F: {
      const double *x = F64(a), *y = F64(b);
      double *z = d->own;
      bool any_zero = false;
      for (int64_t i = 0; i < n; i++) any_zero |= y[i] == 0;
      if (in->op == OP_DIV_F) for (int64_t i = 0; i < n; i++) z[i] = x[i] / (y[i] == 0 ? 1 : y[i]);
      else for (int64_t i = 0; i < n; i++) z[i] = fmod(x[i], y[i] == 0 ? 1 : y[i]);
      d->vals = z;
      if (!any_zero) {
        d->valid = and_valid(d, a, b, n);
      } else {
        uint8_t *v = own_valid(d, a, b, NULL, n);
        for (int64_t i = 0; i < n; i++)
          if (y[i] == 0) {
            v[i] = 0;
            z[i] = 0;
          }
        d->valid = v;
      }
      return MS_OK;
    }
    case OP_NEG_F:
    case OP_ABS_F: {
      const double *x = F64(a);
      double *z = d->own;
      if (in->op == OP_NEG_F) for (int64_t i = 0; i < n; i++) z[i] = -x[i];
      else for (int64_t i = 0; i < n; i++) z[i] = fabs(x[i]);
      d->vals = z;
      d->valid = a->valid;
      return MS_OK;
    }
    case OP_CMP_I:
    case OP_CMP_F:
    case OP_CMP_S:
    case OP_CMP_B:
      compare(s, in, n);
      return MS_OK;
    case OP_AND:
    case OP_OR: {
      const uint8_t *x = U8(a), *y = U8(b);
      uint8_t *z = d->own;
      d->vals = z;
      if (!a->valid && !b->valid) {
        if (in->op == OP_AND) for (int64_t i = 0; i < n; i++) z[i] = x[i] & y[i];
        else for (int64_t i = 0; i < n; i++) z[i] = x[i] | y[i];
        d->valid = NULL;
        return MS_OK;
      }
      uint8_t *v = d->own_valid;
      for (int64_t i = 0; i < n; i++) {
        uint8_t av = a->valid ? a->valid[i] : 1, bv = b->valid ? b->valid[i] : 1;
        if (in->op == OP_AND) {
          /* false wins over null */
          z[i] = x[i] & y[i] & av & bv;
          v[i] = (av & bv) | (av & !x[i]) | (bv & !y[i]);
        } else {
          /* true wins over null */
          z[i] = (av & x[i]) | (bv & y[i]);
          v[i] = (av & bv) | z[i];
        }
      }
      d->valid = v;
      return MS_OK;
    }
    case OP_NOT: {
      const uint8_t *x = U8(a);
      uint8_t *z = d->own;
      for (int64_t i = 0; i < n; i++) z[i] = !x[i];
      if (a->valid) for (int64_t i = 0; i < n; i++) z[i] &= a->valid[i];
      d->vals = z;
      d->valid = a->valid;
      return MS_OK;
    }
    case OP_ISNULL:
    case OP_NOTNULL: {
      uint8_t *z = d->own;
      uint8_t want_valid = in->op == OP_NOTNULL;
      if (!a->valid) memset(z, want_valid, (size_t)n);
      else for (int64_t i = 0; i < n; i++) z[i] = a->valid[i] == want_valid;
      d->vals = z;
      d->valid = NULL;
      return MS_OK;
    }
    case OP_COALESCE:
    case OP_SELECT:
      return select_op(s, in, n, scratch);
    case OP_MASK_TRUE:
    case OP_MASK_NOTTRUE:
    case OP_MASK_NULL: {
      /* a = the register tested, b = the enclosing mask (or none) */
      uint8_t *z = d->own;
      const uint8_t *m = b ? U8(b) : NULL;
      for (int64_t i = 0; i < n; i++) {
        uint8_t av = a->valid ? a->valid[i] : 1;
        uint8_t t = in->op == OP_MASK_NULL ? !av
                    : in->op == OP_MASK_TRUE ? (av & U8(a)[i]) : !(av & U8(a)[i]);
        z[i] = t & (m ? m[i] : 1);
      }
      d->vals = z;
      d->valid = NULL;
      return MS_OK;
    }
    case OP_MIN:
    case OP_MAX:
    case OP_CLIP_LO:
    case OP_CLIP_HI:
      minmax(s, in, n);
      return MS_OK;
    case OP_I2F: case OP_F2I: case OP_I2B: case OP_B2I: case OP_B2F: case OP_F2B:
    case OP_D2TS: case OP_TS2D:
      return convert(s, in, n);
    case OP_I2S: case OP_F2S: case OP_B2S: case OP_TS2S: case OP_D2S:
      return to_string(s, in, n);
    case OP_S2I: case OP_S2F: case OP_S2B: case OP_S2TS: case OP_S2D:
      return from_string(s, in, n);
    case OP_ROUND_F: case OP_FLOOR_F: case OP_CEIL_F: case OP_SQRT: case OP_LOG: case OP_EXP:
    case OP_POW:
      return math_op(s, in, n);
    case OP_ROUND_I:
      return round_int(s, in, n);
    case OP_STARTS: case OP_ENDS: case OP_CONTAINS: case OP_LOWER: case OP_UPPER:
    case OP_LENGTH: case OP_SUBSTR: case OP_CONCAT:
      return string_op(s, in, n);
    case OP_DATE_DIFF: {
      const int64_t *x = I64(a), *y = I64(b);
      int64_t *z = d->own, unit = in->imm;
      d->vals = z;
      d->valid = and_valid(d, a, b, n);
      for (int64_t i = 0; i < n; i++) {
        int64_t diff;
        if (__builtin_sub_overflow(y[i], x[i], &diff)) {
          z[i] = 0;
          if (live(s, in, d->valid, i))
            return row_error(s, in, i, "date_diff overflows int64 nanoseconds");
          continue;
        }
        z[i] = floor_div(diff, unit);
      }
      return MS_OK;
    }
    case OP_EXTRACT_TS:
    case OP_EXTRACT_D: {
      const int64_t *x = I64(a);
      int64_t *z = d->own;
      int part = (int)in->imm;
      if (in->op == OP_EXTRACT_TS) for (int64_t i = 0; i < n; i++) z[i] = ms_expr_extract_ns(x[i], part);
      else for (int64_t i = 0; i < n; i++) z[i] = ms_expr_extract_days(x[i], part);
      d->vals = z;
      d->valid = a->valid;
      return MS_OK;
    }
  }
  return ms_error_set(s->err, MS_ERR_INTERNAL, "unknown expression opcode %d", in->op);
}

/* ---- the run loop ---- */

static bool compatible(ms_expr_kind k, const ms_datatype *t) {
  if (t->id == MS_TYPE_NULL) return true;
  switch (k) {
    case EK_INT: return ms_type_is_integer(t);
    case EK_FLOAT: return ms_type_is_float(t);
    case EK_STR: return ms_type_is_string(t);
    case EK_BOOL: return t->id == MS_TYPE_BOOL;
    case EK_DATE: return t->id == MS_TYPE_DATE32;
    case EK_TS: return t->id == MS_TYPE_TIMESTAMP;
    default: return false;
  }
}

typedef struct outbuf {
  ms_buffer *values, *validity, *data;
  int64_t nulls;
} outbuf;

static void states_free(ereg *regs, int n) {
  if (!regs) return;
  for (int i = 0; i < n; i++) {
    ms_free_aligned(regs[i].own);
    ms_free_aligned(regs[i].own_valid);
    ms_free(regs[i].arena);
  }
  ms_free(regs);
}

/* Packs len 0/1 bytes into bits starting at bit `first` (a multiple of 8). */
static void pack_bits(uint8_t *bits, int64_t first, const uint8_t *v, int64_t len) {
  uint8_t *o = bits + first / 8;
  int64_t full = len / 8;
  for (int64_t j = 0; j < full; j++) {
    const uint8_t *p = v + 8 * j;
    o[j] = (uint8_t)(p[0] | p[1] << 1 | p[2] << 2 | p[3] << 3 | p[4] << 4 | p[5] << 5 |
                     p[6] << 6 | p[7] << 7);
  }
  for (int64_t i = full * 8; i < len; i++)
    if (v[i]) ms_bit_set(bits, first + i);
}

/* Appends rows [row0, row0 + len) of register r to the output buffers (batches start at
 * multiples of 8 rows, so bitmaps are written a byte at a time). */
static ms_status emit_out(const ms_expr *e, const ereg *r, int64_t row0, int64_t len, outbuf *o) {
  uint8_t *vbits = o->validity->data;
  if (r->valid) {
    pack_bits(vbits, row0, r->valid, len);
    for (int64_t i = 0; i < len; i++) o->nulls += !r->valid[i];
  } else {
    int64_t full = len / 8;
    memset(vbits + row0 / 8, 0xFF, (size_t)full);
    for (int64_t i = full * 8; i < len; i++) ms_bit_set(vbits, row0 + i);
  }
  switch (e->kind) {
    case EK_BOOL:
      pack_bits(o->values->data, row0, r->vals, len);
      break;
    case EK_INT:
    case EK_TS:
    case EK_FLOAT: {
      uint8_t *dst = o->values->data + row0 * 8;
      if (r->vals != dst) memcpy(dst, r->vals, (size_t)len * 8); /* else written in place */
      break;
    }
    case EK_DATE: {
      int32_t *z = (int32_t *)o->values->data + row0;
      const int64_t *v = r->vals;
      for (int64_t i = 0; i < len; i++) z[i] = (int32_t)v[i];
      break;
    }
    case EK_STR: {
      int32_t *off = (int32_t *)o->values->data;
      const ms_expr_sv *v = r->vals;
      int64_t total = o->data->size;
      for (int64_t i = 0; i < len; i++) {
        bool valid = !r->valid || r->valid[i];
        int64_t l = valid ? v[i].n : 0;
        if (total + l > INT32_MAX) return MS_ERR_LIMIT;
        if (l && ms_buffer_append(o->data, v[i].p, l)) return MS_ERR_NOMEM;
        total += l;
        off[row0 + i + 1] = (int32_t)total;
      }
      break;
    }
    default:
      return MS_ERR_INTERNAL;
  }
  return MS_OK;
}

ms_status ms_expr_run(const ms_expr *e, ms_column *const *cols, int64_t n, ms_column **out,
                      uint8_t *mask, int64_t *out_kept, ms_error *err) {
  if (out) *out = NULL;
  if (n < 0) return ms_error_set(err, MS_ERR_INVALID, "negative row count");
  pthread_once(&k_spread_once, spread_init);
  for (int i = 0; i < e->n_used; i++) {
    int in = e->used[i];
    const ms_column *c = cols ? cols[in] : NULL;
    if (!c)
      return ms_error_set(err, MS_ERR_INVALID, "expression '%s': no column given for input '%s'",
                          e->text, e->inputs[in].name);
    if (ms_column_length(c) < n)
      return ms_error_set(err, MS_ERR_INVALID,
                          "expression '%s': column '%s' has %lld rows, fewer than %lld",
                          e->text, e->inputs[in].name, (long long)ms_column_length(c),
                          (long long)n);
  }
  /* the inputs must have the kinds the program was compiled for */
  for (int i = 0; i < e->n_instrs; i++) {
    const ms_expr_instr *in = &e->instrs[i];
    if (in->op != OP_LOAD) continue;
    const ms_datatype *t = ms_column_type(cols[in->imm]);
    if (!compatible(e->regs[in->dst].kind, t)) {
      char b[128];
      return ms_error_set(err, MS_ERR_TYPE,
                          "expression '%s': input '%s' was compiled as %s but the column is %s",
                          e->text, e->inputs[in->imm].name,
                          ms_expr_kind_name(e->regs[in->dst].kind),
                          ms_type_to_string(t, b, sizeof b));
    }
  }
  /* a bare column (or a cast to its own type) of the result type needs no work */
  if (out && e->n_instrs == 1 && e->instrs[0].op == OP_LOAD && e->result_reg == e->instrs[0].dst) {
    ms_column *c = cols[e->instrs[0].imm];
    if (ms_type_equal(ms_column_type(c), &e->type) && ms_column_length(c) == n) {
      *out = ms_column_retain(c);
      return MS_OK;
    }
  }
  estate s;
  memset(&s, 0, sizeof s);
  s.e = e;
  s.cols = cols;
  s.err = err;
  s.regs = ms_calloc((size_t)e->n_regs + 1, sizeof(ereg));
  /* short inputs (one entity row, a handful of cutoffs) get registers of their size */
  int cap = n < MS_EXPR_BATCH ? (int)((n + 7) / 8 * 8) : MS_EXPR_BATCH;
  if (cap == 0) cap = 8;
  uint8_t *scratch = ms_malloc((size_t)cap);
  outbuf o = {0};
  ms_status st = MS_OK;
  if (!s.regs || !scratch) goto oom;
  for (int i = 0; i < e->n_regs; i++) {
    ereg *r = &s.regs[i];
    r->own = ms_malloc_aligned(cap * elt_size(e->regs[i].phys));
    r->own_valid = ms_malloc_aligned(cap);
    if (!r->own || !r->own_valid) goto oom;
    memset(r->own, 0, cap * elt_size(e->regs[i].phys));
    r->vals = r->own;
  }
  /* constants: filled once, never overwritten */
  for (int i = 0; i < e->n_consts; i++) {
    const ms_expr_const *k = &e->consts[i];
    ereg *r = &s.regs[k->reg];
    r->vals = r->own;
    if (k->is_null) {
      memset(r->own_valid, 0, cap);
      r->valid = r->own_valid;
      for (int64_t j = 0; j < cap && e->regs[k->reg].phys == PH_STR; j++)
        ((ms_expr_sv *)r->own)[j] = (ms_expr_sv){"", 0};
      continue;
    }
    r->valid = NULL;
    switch (e->regs[k->reg].phys) {
      case PH_BOOL: memset(r->own, k->ival ? 1 : 0, cap); break;
      case PH_I64: for (int j = 0; j < cap; j++) ((int64_t *)r->own)[j] = k->ival; break;
      case PH_F64: for (int j = 0; j < cap; j++) ((double *)r->own)[j] = k->fval; break;
      case PH_STR:
        for (int j = 0; j < cap; j++) ((ms_expr_sv *)r->own)[j] = (ms_expr_sv){k->sval, k->slen};
        break;
    }
  }
  if (out) {
    int64_t vbytes = e->kind == EK_BOOL ? ms_bitmap_bytes(n) + 1
                     : e->kind == EK_STR ? (n + 1) * 4
                     : e->kind == EK_DATE ? n * 4 + 4 : n * 8 + 8;
    o.values = e->kind == EK_BOOL ? ms_buffer_create_zeroed(vbytes) : ms_buffer_create(vbytes);
    o.validity = ms_buffer_create_zeroed(ms_bitmap_bytes(n) + 1);
    o.data = e->kind == EK_STR ? ms_buffer_create(n * 8 + 64) : NULL;
    if (!o.values || !o.validity || (e->kind == EK_STR && !o.data)) goto oom;
    o.values->size = e->kind == EK_BOOL ? ms_bitmap_bytes(n)
                     : e->kind == EK_STR ? (n + 1) * 4 : e->kind == EK_DATE ? n * 4 : n * 8;
    o.validity->size = ms_bitmap_bytes(n);
    if (e->kind == EK_STR) ((int32_t *)o.values->data)[0] = 0;
  }
  int64_t kept = 0;
  for (int64_t row0 = 0; row0 < n; row0 += MS_EXPR_BATCH) {
    int64_t len = n - row0 < MS_EXPR_BATCH ? n - row0 : MS_EXPR_BATCH;
    s.row0 = row0;
    for (int i = 0; i < e->n_regs; i++) s.regs[i].arena_len = 0;
    /* the last instruction of an 8-byte result writes straight into the output */
    ereg *res = &s.regs[e->result_reg];
    void *own = res->own;
    bool direct = out && (e->kind == EK_INT || e->kind == EK_TS || e->kind == EK_FLOAT) &&
                  e->n_instrs > 0 && e->instrs[e->n_instrs - 1].dst == e->result_reg;
    for (int i = 0; i < e->n_instrs; i++) {
      if (direct && i == e->n_instrs - 1) res->own = o.values->data + row0 * 8;
      st = exec(&s, &e->instrs[i], len, scratch);
      res->own = own;
      if (st) goto fail;
    }
    const ereg *r = res;
    if (mask) {
      const uint8_t *v = r->vals;
      for (int64_t i = 0; i < len; i++) {
        uint8_t keep = v[i] & (r->valid ? r->valid[i] : 1);
        mask[row0 + i] = keep;
        kept += keep;
      }
    } else {
      st = emit_out(e, r, row0, len, &o);
      if (st == MS_ERR_LIMIT) {
        st = ms_error_set(err, MS_ERR_LIMIT, "expression '%s': result strings exceed 2 GiB",
                          e->text);
        goto fail;
      }
      if (st) goto oom;
    }
  }
  if (out_kept) *out_kept = kept;
  if (out) {
    ms_buffer *validity = o.nulls ? o.validity : NULL;
    if (!o.nulls) ms_buffer_release(o.validity);
    st = ms_column_from_buffers(&e->type, n, o.nulls, validity, o.values, o.data, out, err);
    o.values = o.validity = o.data = NULL;
    if (st) goto fail;
  }
  states_free(s.regs, e->n_regs);
  ms_free(scratch);
  return MS_OK;
oom:
  st = ms_error_set(err, MS_ERR_NOMEM, "out of memory evaluating '%s'", e->text);
fail:
  states_free(s.regs, s.regs ? e->n_regs : 0);
  ms_free(scratch);
  ms_buffer_release(o.values);
  ms_buffer_release(o.validity);
  ms_buffer_release(o.data);
  return st;
}
