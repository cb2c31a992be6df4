/* Buffers, columns, builders and tables: the Arrow-layout core (see include/morsel/table.h).
 *
 * Buffers are reference-counted so columns share memory and export it zero-copy. Columns
 * are immutable once built; builders grow their own buffers and hand them to the column at
 * finish. Kernels over whole columns live in kernels.c. */
#include <string.h>

#include "columnar/column.h"

/* ---------------- buffers ---------------- */

ms_buffer *ms_buffer_create(int64_t capacity) {
  if (capacity < 0) return NULL;
  ms_buffer *b = ms_calloc(1, sizeof *b);
  if (!b) return NULL;
  /* Round up to 64 bytes and keep a little padding so SIMD-width loads past the end of
   * the last value stay inside the allocation. */
  int64_t cap = (capacity + 63) & ~(int64_t)63;
  if (cap == 0) cap = 64;
  b->data = ms_malloc_aligned((size_t)cap);
  if (!b->data) { ms_free(b); return NULL; }
  b->capacity = cap;
  atomic_init(&b->refcount, 1);
  return b;
}

ms_buffer *ms_buffer_create_zeroed(int64_t size) {
  ms_buffer *b = ms_buffer_create(size);
  if (!b) return NULL;
  memset(b->data, 0, (size_t)b->capacity);
  b->size = size;
  return b;
}

ms_buffer *ms_buffer_wrap(const void *data, int64_t size, void (*release_owner)(void *),
                          void *owner) {
  ms_buffer *b = ms_calloc(1, sizeof *b);
  if (!b) return NULL;
  b->data = (uint8_t *)data;
  b->size = size;
  b->capacity = 0;
  b->release_owner = release_owner;
  b->owner = owner;
  atomic_init(&b->refcount, 1);
  return b;
}

ms_buffer *ms_buffer_retain(ms_buffer *b) {
  if (b) atomic_fetch_add_explicit(&b->refcount, 1, memory_order_relaxed);
  return b;
}

void ms_buffer_release(ms_buffer *b) {
  if (!b) return;
  if (atomic_fetch_sub_explicit(&b->refcount, 1, memory_order_acq_rel) != 1) return;
  if (b->release_owner) b->release_owner(b->owner);
  else if (b->capacity > 0) ms_free_aligned(b->data);
  ms_free(b);
}

ms_status ms_buffer_reserve(ms_buffer *b, int64_t capacity) {
  if (capacity <= b->capacity) return MS_OK;
  if (b->release_owner || (b->capacity == 0 && b->data)) return MS_ERR_INVALID;
  int64_t cap = b->capacity ? b->capacity : 64;
  while (cap < capacity) {
    if (cap > ((int64_t)1 << 46)) return MS_ERR_NOMEM;
    cap *= 2;
  }
  uint8_t *p = ms_realloc_aligned(b->data, (size_t)b->size, (size_t)cap);
  if (!p) return MS_ERR_NOMEM;
  b->data = p;
  b->capacity = cap;
  return MS_OK;
}

ms_status ms_buffer_append(ms_buffer *b, const void *data, int64_t len) {
  ms_status st = ms_buffer_reserve(b, b->size + len);
  if (st) return st;
  if (len) memcpy(b->data + b->size, data, (size_t)len);
  b->size += len;
  return MS_OK;
}

int64_t ms_bitmap_count_set(const uint8_t *bits, int64_t n) {
  int64_t count = 0, i = 0;
  for (; i + 64 <= n; i += 64) {
    uint64_t w;
    memcpy(&w, bits + i / 8, 8);
    count += __builtin_popcountll(w);
  }
  for (; i < n; i++) count += ms_bit_get(bits, i);
  return count;
}

/* ---------------- columns ---------------- */

static ms_status fail_release(ms_buffer *a, ms_buffer *b, ms_buffer *c, ms_error *err,
                              ms_status st, const char *msg) {
  ms_buffer_release(a);
  ms_buffer_release(b);
  ms_buffer_release(c);
  return ms_error_set(err, st, "%s", msg);
}

ms_status ms_column_from_buffers(const ms_datatype *type, int64_t length, int64_t null_count,
                                 ms_buffer *validity, ms_buffer *values, ms_buffer *data,
                                 ms_column **out, ms_error *err) {
  *out = NULL;
  if (length < 0) return fail_release(validity, values, data, err, MS_ERR_INVALID, "negative column length");
  if (validity && validity->size < ms_bitmap_bytes(length))
    return fail_release(validity, values, data, err, MS_ERR_CORRUPT, "validity bitmap too short");
  if (type->id == MS_TYPE_NULL) {
    null_count = length;
  } else if (ms_type_is_varlen(type)) {
    int64_t ow = ms_type_is_large(type) ? 8 : 4;
    if (!values || values->size < (length + 1) * ow)
      return fail_release(validity, values, data, err, MS_ERR_CORRUPT, "offsets buffer too short");
    int64_t data_size = data ? data->size : 0;
    int64_t prev = 0;
    for (int64_t i = 0; i <= length; i++) {
      int64_t o;
      if (ow == 4) { int32_t v; memcpy(&v, values->data + 4 * i, 4); o = v; }
      else memcpy(&o, values->data + 8 * i, 8);
      if (o < prev || o > data_size || (i == 0 && o < 0))
        return fail_release(validity, values, data, err, MS_ERR_CORRUPT, "offsets not monotonic or out of range");
      prev = o;
    }
  } else {
    int bits = ms_type_bit_width(type);
    int64_t need = bits == 1 ? ms_bitmap_bytes(length) : length * (bits / 8);
    if (!values || values->size < need)
      return fail_release(validity, values, data, err, MS_ERR_CORRUPT, "values buffer too short");
  }
  ms_column *c = ms_calloc(1, sizeof *c);
  if (!c) return fail_release(validity, values, data, err, MS_ERR_NOMEM, "out of memory");
  atomic_init(&c->refcount, 1);
  c->type = *type;
  c->length = length;
  if (type->id != MS_TYPE_NULL && validity) {
    if (null_count < 0) null_count = length - ms_bitmap_count_set(validity->data, length);
    if (null_count == 0) { ms_buffer_release(validity); validity = NULL; }
  } else if (type->id != MS_TYPE_NULL) {
    null_count = 0;
  }
  c->null_count = null_count;
  c->validity = validity;
  c->values = values;
  c->data = data;
  *out = c;
  return MS_OK;
}

ms_column *ms_column_retain(ms_column *col) {
  if (col) atomic_fetch_add_explicit(&col->refcount, 1, memory_order_relaxed);
  return col;
}

void ms_column_release(ms_column *col) {
  if (!col) return;
  if (atomic_fetch_sub_explicit(&col->refcount, 1, memory_order_acq_rel) != 1) return;
  ms_buffer_release(col->validity);
  ms_buffer_release(col->values);
  ms_buffer_release(col->data);
  ms_free(col);
}

const ms_datatype *ms_column_type(const ms_column *col) { return &col->type; }
int64_t ms_column_length(const ms_column *col) { return col->length; }
int64_t ms_column_null_count(const ms_column *col) { return col->null_count; }
bool ms_column_is_null(const ms_column *col, int64_t row) {
  if (col->type.id == MS_TYPE_NULL) return true;
  return !ms_column_valid(col, row);
}

int64_t ms_column_get_i64(const ms_column *col, int64_t row) {
  const uint8_t *v = col->values->data;
  switch (col->type.id) {
    case MS_TYPE_BOOL: return ms_bit_get(v, row);
    case MS_TYPE_INT8: return ((const int8_t *)v)[row];
    case MS_TYPE_INT16: return ((const int16_t *)v)[row];
    case MS_TYPE_INT32: case MS_TYPE_DATE32: return ((const int32_t *)v)[row];
    case MS_TYPE_INT64: case MS_TYPE_TIMESTAMP: return ((const int64_t *)v)[row];
    case MS_TYPE_UINT8: return ((const uint8_t *)v)[row];
    case MS_TYPE_UINT16: return ((const uint16_t *)v)[row];
    case MS_TYPE_UINT32: return ((const uint32_t *)v)[row];
    case MS_TYPE_UINT64: return (int64_t)((const uint64_t *)v)[row];
    case MS_TYPE_FLOAT32: return (int64_t)((const float *)v)[row];
    case MS_TYPE_FLOAT64: return (int64_t)((const double *)v)[row];
    default: return 0;
  }
}

uint64_t ms_column_get_u64(const ms_column *col, int64_t row) {
  if (col->type.id == MS_TYPE_UINT64) return ((const uint64_t *)col->values->data)[row];
  return (uint64_t)ms_column_get_i64(col, row);
}

double ms_column_get_f64(const ms_column *col, int64_t row) {
  const uint8_t *v = col->values->data;
  switch (col->type.id) {
    case MS_TYPE_FLOAT32: return ((const float *)v)[row];
    case MS_TYPE_FLOAT64: return ((const double *)v)[row];
    case MS_TYPE_UINT64: return (double)((const uint64_t *)v)[row];
    default: return (double)ms_column_get_i64(col, row);
  }
}

bool ms_column_get_bool(const ms_column *col, int64_t row) {
  if (col->type.id == MS_TYPE_BOOL) return ms_bit_get(col->values->data, row);
  return ms_column_get_i64(col, row) != 0;
}

const uint8_t *ms_column_get_bytes(const ms_column *col, int64_t row, int64_t *out_len) {
  if (ms_type_is_varlen(&col->type)) {
    int64_t a, b;
    if (ms_type_is_large(&col->type)) {
      const int64_t *o = (const int64_t *)col->values->data;
      a = o[row]; b = o[row + 1];
    } else {
      const int32_t *o = (const int32_t *)col->values->data;
      a = o[row]; b = o[row + 1];
    }
    *out_len = b - a;
    return col->data ? col->data->data + a : (const uint8_t *)"";
  }
  int w = ms_type_bit_width(&col->type) / 8;
  *out_len = w;
  return col->values->data + (int64_t)w * row;
}

ms_status ms_column_create_nulls(const ms_datatype *type, int64_t length, ms_column **out,
                                 ms_error *err) {
  *out = NULL;
  if (type->id == MS_TYPE_NULL) return ms_column_from_buffers(type, length, length, NULL, NULL, NULL, out, err);
  ms_buffer *validity = ms_buffer_create_zeroed(ms_bitmap_bytes(length));
  ms_buffer *values = NULL, *data = NULL;
  if (ms_type_is_varlen(type)) {
    values = ms_buffer_create_zeroed((length + 1) * (ms_type_is_large(type) ? 8 : 4));
    data = ms_buffer_create(0);
  } else {
    int bits = ms_type_bit_width(type);
    values = ms_buffer_create_zeroed(bits == 1 ? ms_bitmap_bytes(length) : length * (bits / 8));
  }
  if (!validity || !values || (ms_type_is_varlen(type) && !data))
    return fail_release(validity, values, data, err, MS_ERR_NOMEM, "out of memory");
  return ms_column_from_buffers(type, length, length, validity, values, data, out, err);
}

/* ---------------- builders ---------------- */

struct ms_column_builder {
  ms_datatype type;
  int64_t length;
  int64_t null_count;
  int elem_size; /* bytes per value for fixed width (0 for bool and var-length) */
  ms_buffer *validity; /* created lazily at the first null */
  ms_buffer *values;
  ms_buffer *data;
};

static ms_status builder_alloc(ms_column_builder *b, int64_t capacity) {
  if (ms_type_is_varlen(&b->type)) {
    int64_t ow = ms_type_is_large(&b->type) ? 8 : 4;
    b->values = ms_buffer_create((capacity + 1) * ow);
    b->data = ms_buffer_create(capacity * 8);
    if (!b->values || !b->data) return MS_ERR_NOMEM;
    memset(b->values->data, 0, (size_t)ow);
    b->values->size = ow;
  } else if (b->type.id != MS_TYPE_NULL) {
    int bits = ms_type_bit_width(&b->type);
    b->values = ms_buffer_create(bits == 1 ? ms_bitmap_bytes(capacity) : capacity * (bits / 8));
    if (!b->values) return MS_ERR_NOMEM;
  }
  return MS_OK;
}

ms_status ms_column_builder_create(const ms_datatype *type, int64_t capacity_hint,
                                   ms_column_builder **out, ms_error *err) {
  *out = NULL;
  ms_column_builder *b = ms_calloc(1, sizeof *b);
  if (!b) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  b->type = *type;
  int bits = ms_type_bit_width(type);
  b->elem_size = (bits >= 8 && !ms_type_is_varlen(type)) ? bits / 8 : 0;
  if (capacity_hint < 16) capacity_hint = 16;
  if (builder_alloc(b, capacity_hint) != MS_OK) {
    ms_column_builder_destroy(b);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  }
  *out = b;
  return MS_OK;
}

void ms_column_builder_destroy(ms_column_builder *b) {
  if (!b) return;
  ms_buffer_release(b->validity);
  ms_buffer_release(b->values);
  ms_buffer_release(b->data);
  ms_free(b);
}

int64_t ms_builder_length(const ms_column_builder *b) { return b->length; }

/* Records validity for the next slot. */
static ms_status push_validity(ms_column_builder *b, bool valid) {
  if (!valid && !b->validity) {
    b->validity = ms_buffer_create(ms_bitmap_bytes(b->length + 64));
    if (!b->validity) return MS_ERR_NOMEM;
    memset(b->validity->data, 0xff, (size_t)ms_bitmap_bytes(b->length + 1));
    b->validity->size = ms_bitmap_bytes(b->length);
  }
  if (b->validity) {
    int64_t need = ms_bitmap_bytes(b->length + 1);
    if (need > b->validity->size) {
      if (ms_buffer_reserve(b->validity, need)) return MS_ERR_NOMEM;
      b->validity->data[need - 1] = 0;
      b->validity->size = need;
    }
    ms_bit_put(b->validity->data, b->length, valid);
  }
  if (!valid) b->null_count++;
  return MS_OK;
}

static ms_status push_fixed(ms_column_builder *b, const void *v) {
  if (ms_buffer_append(b->values, v, b->elem_size)) return MS_ERR_NOMEM;
  return MS_OK;
}

static ms_status push_bit(ms_column_builder *b, bool v) {
  int64_t need = ms_bitmap_bytes(b->length + 1);
  if (need > b->values->size) {
    if (ms_buffer_reserve(b->values, need)) return MS_ERR_NOMEM;
    b->values->data[need - 1] = 0;
    b->values->size = need;
  }
  ms_bit_put(b->values->data, b->length, v);
  return MS_OK;
}

static ms_status push_offset(ms_column_builder *b) {
  int64_t end = b->data->size;
  if (ms_type_is_large(&b->type)) return ms_buffer_append(b->values, &end, 8);
  if (end > INT32_MAX) return MS_ERR_LIMIT;
  int32_t e32 = (int32_t)end;
  return ms_buffer_append(b->values, &e32, 4);
}

ms_status ms_builder_append_null(ms_column_builder *b) {
  if (b->type.id != MS_TYPE_NULL) {
    if (push_validity(b, false)) return MS_ERR_NOMEM;
    ms_status st;
    if (ms_type_is_varlen(&b->type)) st = push_offset(b);
    else if (b->type.id == MS_TYPE_BOOL) st = push_bit(b, false);
    else {
      uint8_t zero[64] = {0};
      st = b->elem_size <= 64 ? push_fixed(b, zero) : MS_OK;
      if (b->elem_size > 64) {
        st = ms_buffer_reserve(b->values, b->values->size + b->elem_size);
        if (!st) { memset(b->values->data + b->values->size, 0, (size_t)b->elem_size); b->values->size += b->elem_size; }
      }
    }
    if (st) return st;
  } else {
    b->null_count++;
  }
  b->length++;
  return MS_OK;
}

ms_status ms_builder_append_bool(ms_column_builder *b, bool v) {
  if (b->type.id != MS_TYPE_BOOL) return ms_builder_append_i64(b, v);
  if (push_validity(b, true) || push_bit(b, v)) return MS_ERR_NOMEM;
  b->length++;
  return MS_OK;
}

ms_status ms_builder_append_i64(ms_column_builder *b, int64_t v) {
  ms_status st;
  if (push_validity(b, true)) return MS_ERR_NOMEM;
  switch (b->type.id) {
    case MS_TYPE_BOOL: st = push_bit(b, v != 0); break;
    case MS_TYPE_INT8: case MS_TYPE_UINT8: { int8_t x = (int8_t)v; st = push_fixed(b, &x); break; }
    case MS_TYPE_INT16: case MS_TYPE_UINT16: { int16_t x = (int16_t)v; st = push_fixed(b, &x); break; }
    case MS_TYPE_INT32: case MS_TYPE_UINT32: case MS_TYPE_DATE32: { int32_t x = (int32_t)v; st = push_fixed(b, &x); break; }
    case MS_TYPE_INT64: case MS_TYPE_UINT64: case MS_TYPE_TIMESTAMP: st = push_fixed(b, &v); break;
    case MS_TYPE_FLOAT32: { float x = (float)v; st = push_fixed(b, &x); break; }
    case MS_TYPE_FLOAT64: { double x = (double)v; st = push_fixed(b, &x); break; }
    default: return MS_ERR_TYPE;
  }
  if (st) return st;
  b->length++;
  return MS_OK;
}

ms_status ms_builder_append_u64(ms_column_builder *b, uint64_t v) {
  if (b->type.id == MS_TYPE_FLOAT64 || b->type.id == MS_TYPE_FLOAT32)
    return ms_builder_append_f64(b, (double)v);
  return ms_builder_append_i64(b, (int64_t)v);
}

ms_status ms_builder_append_f64(ms_column_builder *b, double v) {
  ms_status st;
  if (b->type.id == MS_TYPE_FLOAT64) {
    if (push_validity(b, true)) return MS_ERR_NOMEM;
    st = push_fixed(b, &v);
  } else if (b->type.id == MS_TYPE_FLOAT32) {
    float x = (float)v;
    if (push_validity(b, true)) return MS_ERR_NOMEM;
    st = push_fixed(b, &x);
  } else {
    return ms_builder_append_i64(b, (int64_t)v);
  }
  if (st) return st;
  b->length++;
  return MS_OK;
}

ms_status ms_builder_append_bytes(ms_column_builder *b, const void *data, int64_t len) {
  ms_status st;
  if (ms_type_is_varlen(&b->type)) {
    if (push_validity(b, true)) return MS_ERR_NOMEM;
    st = ms_buffer_append(b->data, data, len);
    if (!st) st = push_offset(b);
  } else if (b->type.id == MS_TYPE_FIXED_BINARY || b->type.id == MS_TYPE_DECIMAL128) {
    if (len != b->elem_size) return MS_ERR_INVALID;
    if (push_validity(b, true)) return MS_ERR_NOMEM;
    st = ms_buffer_append(b->values, data, len);
  } else {
    return MS_ERR_TYPE;
  }
  if (st) return st;
  b->length++;
  return MS_OK;
}

ms_status ms_builder_append_from(ms_column_builder *b, const ms_column *src, int64_t row) {
  if (ms_column_is_null(src, row)) return ms_builder_append_null(b);
  if (ms_type_is_varlen(&src->type) || src->type.id == MS_TYPE_FIXED_BINARY ||
      src->type.id == MS_TYPE_DECIMAL128) {
    int64_t len;
    const uint8_t *p = ms_column_get_bytes(src, row, &len);
    return ms_builder_append_bytes(b, p, len);
  }
  if (src->type.id == MS_TYPE_BOOL) return ms_builder_append_bool(b, ms_column_get_bool(src, row));
  if (ms_type_is_float(&src->type)) return ms_builder_append_f64(b, ms_column_get_f64(src, row));
  if (src->type.id == MS_TYPE_UINT64) return ms_builder_append_u64(b, ms_column_get_u64(src, row));
  return ms_builder_append_i64(b, ms_column_get_i64(src, row));
}

ms_status ms_builder_finish(ms_column_builder *b, ms_column **out, ms_error *err) {
  *out = NULL;
  ms_buffer *validity = b->validity, *values = b->values, *data = b->data;
  int64_t length = b->length, nulls = b->null_count;
  b->validity = b->values = b->data = NULL;
  b->length = b->null_count = 0;
  if (builder_alloc(b, 16) != MS_OK) {
    ms_buffer_release(validity); ms_buffer_release(values); ms_buffer_release(data);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  }
  if (values && b->type.id == MS_TYPE_BOOL && values->size < ms_bitmap_bytes(length))
    values->size = ms_bitmap_bytes(length);
  return ms_column_from_buffers(&b->type, length, nulls, validity, values, data, out, err);
}

/* ---------------- fields and tables ---------------- */

ms_status ms_field_copy(const ms_field *src, ms_field *dst) {
  *dst = *src;
  dst->name = ms_strdup(src->name ? src->name : "");
  return dst->name ? MS_OK : MS_ERR_NOMEM;
}

void ms_field_reset(ms_field *f) {
  ms_free(f->name);
  f->name = NULL;
}

ms_status ms_table_create(const ms_field *fields, ms_column *const *columns, int n_columns,
                          ms_table **out, ms_error *err) {
  *out = NULL;
  int64_t rows = n_columns > 0 ? columns[0]->length : 0;
  for (int i = 0; i < n_columns; i++) {
    if (columns[i]->length != rows)
      return ms_error_set(err, MS_ERR_INVALID, "column '%s' has %lld rows, expected %lld",
                          fields[i].name, (long long)columns[i]->length, (long long)rows);
    if (!ms_type_equal(&columns[i]->type, &fields[i].type)) {
      char a[96], b[96];
      return ms_error_set(err, MS_ERR_TYPE, "column '%s' is %s but its field says %s",
                          fields[i].name, ms_type_to_string(&columns[i]->type, a, sizeof a),
                          ms_type_to_string(&fields[i].type, b, sizeof b));
    }
  }
  ms_table *t = ms_calloc(1, sizeof *t);
  if (!t) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  atomic_init(&t->refcount, 1);
  t->fields = ms_calloc((size_t)(n_columns ? n_columns : 1), sizeof *t->fields);
  t->columns = ms_calloc((size_t)(n_columns ? n_columns : 1), sizeof *t->columns);
  if (!t->fields || !t->columns) { ms_table_release(t); return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }
  for (int i = 0; i < n_columns; i++) {
    if (ms_field_copy(&fields[i], &t->fields[i])) {
      t->n_columns = i;
      ms_table_release(t);
      return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    }
    t->columns[i] = ms_column_retain(columns[i]);
    t->n_columns = i + 1;
  }
  t->n_rows = rows;
  *out = t;
  return MS_OK;
}

ms_table *ms_table_retain(ms_table *t) {
  if (t) atomic_fetch_add_explicit(&t->refcount, 1, memory_order_relaxed);
  return t;
}

void ms_table_release(ms_table *t) {
  if (!t) return;
  if (atomic_fetch_sub_explicit(&t->refcount, 1, memory_order_acq_rel) != 1) return;
  for (int i = 0; i < t->n_columns; i++) {
    ms_field_reset(&t->fields[i]);
    ms_column_release(t->columns[i]);
  }
  ms_free(t->fields);
  ms_free(t->columns);
  ms_free(t);
}

int ms_table_num_columns(const ms_table *t) { return t->n_columns; }
int64_t ms_table_num_rows(const ms_table *t) { return t->n_rows; }
const ms_field *ms_table_field(const ms_table *t, int i) { return &t->fields[i]; }
ms_column *ms_table_column(const ms_table *t, int i) { return t->columns[i]; }
int ms_table_find_column(const ms_table *t, const char *name) {
  for (int i = 0; i < t->n_columns; i++)
    if (strcmp(t->fields[i].name, name) == 0) return i;
  return -1;
}
