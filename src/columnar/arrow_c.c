/* The Arrow C Data Interface: zero-copy export and import of columns, tables and streams
 * (contracts and ownership rules in include/morsel/arrow.h).
 *
 * Export hands out pointers into the column's ms_buffers. The ArrowArray's private data
 * holds one reference per buffer, so the memory outlives the morsel column for as long as
 * the consumer keeps the array; release drops the references and frees what export
 * allocated (the pointer arrays, child structs, format and name strings).
 *
 * Import moves the producer's ArrowArray into a small reference-counted holder; each
 * morsel buffer made from the producer's memory is an ms_buffer_wrap that holds one
 * reference on the holder, and the producer's release runs when the last such buffer is
 * released. Buffer sizes are derived from the type, offset and length (and, for the bytes
 * of var-length types, from the last offset), then ms_column_from_buffers validates the
 * offsets. Arrays with a non-zero offset, or whose buffers are misaligned for their value
 * width, are copied (slice + single-column concat, which always copies), and the producer
 * memory is released at once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columnar/column.h"
#include "morsel/arrow.h"

static ms_status nomem(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

/* ---------------- formats ---------------- */

/* Writes the format string of t into buf (at least 96 bytes). */
static const char *type_format(const ms_datatype *t, char *buf, size_t size) {
  static const char *const simple[] = {
      [MS_TYPE_NULL] = "n",    [MS_TYPE_BOOL] = "b",        [MS_TYPE_INT8] = "c",
      [MS_TYPE_INT16] = "s",   [MS_TYPE_INT32] = "i",       [MS_TYPE_INT64] = "l",
      [MS_TYPE_UINT8] = "C",   [MS_TYPE_UINT16] = "S",      [MS_TYPE_UINT32] = "I",
      [MS_TYPE_UINT64] = "L",  [MS_TYPE_FLOAT32] = "f",     [MS_TYPE_FLOAT64] = "g",
      [MS_TYPE_UTF8] = "u",    [MS_TYPE_BINARY] = "z",      [MS_TYPE_LARGE_UTF8] = "U",
      [MS_TYPE_LARGE_BINARY] = "Z", [MS_TYPE_DATE32] = "tdD"};
  switch (t->id) {
    case MS_TYPE_TIMESTAMP:
      snprintf(buf, size, "ts%c:%s", "smun"[t->unit & 3], t->tz);
      break;
    case MS_TYPE_DECIMAL128: snprintf(buf, size, "d:%d,%d", t->precision, t->scale); break;
    case MS_TYPE_FIXED_BINARY: snprintf(buf, size, "w:%d", t->byte_width); break;
    default:
      snprintf(buf, size, "%s", (unsigned)t->id <= MS_TYPE_DATE32 ? simple[t->id] : "n");
  }
  return buf;
}

/* Parses a decimal integer at *s (no sign); false when absent or too large. */
static bool parse_int(const char **s, int32_t *out) {
  const char *p = *s;
  int64_t v = 0;
  if (*p < '0' || *p > '9') return false;
  while (*p >= '0' && *p <= '9') {
    v = v * 10 + (*p++ - '0');
    if (v > INT32_MAX) return false;
  }
  *s = p;
  *out = (int32_t)v;
  return true;
}

static ms_status parse_format(const char *fmt, ms_datatype *out, ms_error *err) {
  static const struct { const char *f; ms_type_id id; } simple[] = {
      {"n", MS_TYPE_NULL},   {"b", MS_TYPE_BOOL},    {"c", MS_TYPE_INT8},   {"s", MS_TYPE_INT16},
      {"i", MS_TYPE_INT32},  {"l", MS_TYPE_INT64},   {"C", MS_TYPE_UINT8},  {"S", MS_TYPE_UINT16},
      {"I", MS_TYPE_UINT32}, {"L", MS_TYPE_UINT64},  {"f", MS_TYPE_FLOAT32}, {"g", MS_TYPE_FLOAT64},
      {"u", MS_TYPE_UTF8},   {"z", MS_TYPE_BINARY},  {"U", MS_TYPE_LARGE_UTF8},
      {"Z", MS_TYPE_LARGE_BINARY}, {"tdD", MS_TYPE_DATE32}};
  if (!fmt) return ms_error_set(err, MS_ERR_INVALID, "Arrow schema without a format string");
  for (size_t i = 0; i < sizeof simple / sizeof *simple; i++)
    if (strcmp(fmt, simple[i].f) == 0) { *out = ms_type(simple[i].id); return MS_OK; }
  if (strncmp(fmt, "ts", 2) == 0 && fmt[2] && fmt[3] == ':') {
    const char *u = strchr("smun", fmt[2]);
    const char *tz = fmt + 4;
    if (u && fmt[2]) {
      if (strlen(tz) >= sizeof out->tz)
        return ms_error_set(err, MS_ERR_UNSUPPORTED, "Arrow timestamp timezone '%s' is too long", tz);
      *out = ms_type_timestamp((ms_time_unit)(u - "smun"), tz);
      return MS_OK;
    }
  }
  if (strncmp(fmt, "d:", 2) == 0) {
    const char *p = fmt + 2;
    int32_t prec, scale, bits = 128;
    bool neg = false;
    if (parse_int(&p, &prec) && *p == ',') {
      p++;
      if (*p == '-') { neg = true; p++; }
      if (parse_int(&p, &scale)) {
        if (*p == ',') { p++; if (!parse_int(&p, &bits)) bits = -1; }
        if (*p == '\0' && bits == 128 && prec >= 1 && prec <= 38) {
          *out = ms_type_decimal128(prec, neg ? -scale : scale);
          return MS_OK;
        }
      }
    }
    return ms_error_set(err, MS_ERR_UNSUPPORTED, "Arrow decimal format '%s' is not decimal128(1..38, s)", fmt);
  }
  if (strncmp(fmt, "w:", 2) == 0) {
    const char *p = fmt + 2;
    int32_t w;
    if (parse_int(&p, &w) && *p == '\0' && w > 0) { *out = ms_type_fixed_binary(w); return MS_OK; }
    return ms_error_set(err, MS_ERR_INVALID, "bad Arrow fixed-size binary format '%s'", fmt);
  }
  return ms_error_set(err, MS_ERR_UNSUPPORTED, "Arrow format '%s' is not supported by morsel", fmt);
}

/* ---------------- export ---------------- */

typedef struct schema_priv {
  char *format;
  char *name;
  struct ArrowSchema *children;     /* n_children structs */
  struct ArrowSchema **child_ptrs;
} schema_priv;

static void schema_release(struct ArrowSchema *s) {
  if (!s || !s->release) return;
  schema_priv *p = s->private_data;
  for (int64_t i = 0; i < s->n_children; i++)
    if (p->children[i].release) p->children[i].release(&p->children[i]);
  ms_free(p->children);
  ms_free(p->child_ptrs);
  ms_free(p->format);
  ms_free(p->name);
  ms_free(p);
  s->release = NULL;
}

static ms_status schema_init(struct ArrowSchema *s, const char *format, const char *name,
                             int64_t flags, int64_t n_children, ms_error *err) {
  memset(s, 0, sizeof *s);
  schema_priv *p = ms_calloc(1, sizeof *p);
  if (!p) return nomem(err);
  p->format = ms_strdup(format);
  p->name = name ? ms_strdup(name) : NULL;
  if (n_children) {
    p->children = ms_calloc((size_t)n_children, sizeof *p->children);
    p->child_ptrs = ms_calloc((size_t)n_children, sizeof *p->child_ptrs);
  }
  if (!p->format || (name && !p->name) || (n_children && (!p->children || !p->child_ptrs))) {
    ms_free(p->format); ms_free(p->name); ms_free(p->children); ms_free(p->child_ptrs); ms_free(p);
    return nomem(err);
  }
  for (int64_t i = 0; i < n_children; i++) p->child_ptrs[i] = &p->children[i];
  s->format = p->format;
  s->name = p->name;
  s->flags = flags;
  s->n_children = n_children;
  s->children = n_children ? p->child_ptrs : NULL;
  s->private_data = p;
  s->release = schema_release;
  return MS_OK;
}

typedef struct array_priv {
  ms_buffer *bufs[3];
  const void *ptrs[3];
  struct ArrowArray *children;
  struct ArrowArray **child_ptrs;
} array_priv;

static void array_release(struct ArrowArray *a) {
  if (!a || !a->release) return;
  array_priv *p = a->private_data;
  /* A consumer may have moved children out (their release is then NULL). */
  for (int64_t i = 0; i < a->n_children; i++)
    if (p->children[i].release) p->children[i].release(&p->children[i]);
  for (int i = 0; i < 3; i++) ms_buffer_release(p->bufs[i]);
  ms_free(p->children);
  ms_free(p->child_ptrs);
  ms_free(p);
  a->release = NULL;
}

static ms_status array_init(struct ArrowArray *a, int64_t n_children, ms_error *err) {
  memset(a, 0, sizeof *a);
  array_priv *p = ms_calloc(1, sizeof *p);
  if (!p) return nomem(err);
  if (n_children) {
    p->children = ms_calloc((size_t)n_children, sizeof *p->children);
    p->child_ptrs = ms_calloc((size_t)n_children, sizeof *p->child_ptrs);
    if (!p->children || !p->child_ptrs) {
      ms_free(p->children); ms_free(p->child_ptrs); ms_free(p);
      return nomem(err);
    }
    for (int64_t i = 0; i < n_children; i++) p->child_ptrs[i] = &p->children[i];
  }
  a->n_children = n_children;
  a->children = n_children ? p->child_ptrs : NULL;
  a->buffers = p->ptrs;
  a->private_data = p;
  a->release = array_release;
  return MS_OK;
}

static const uint8_t k_empty[8];

static ms_status export_array(const ms_column *col, struct ArrowArray *a, ms_error *err) {
  ms_status st = array_init(a, 0, err);
  if (st) return st;
  array_priv *p = a->private_data;
  const ms_datatype *t = &col->type;
  a->length = col->length;
  a->null_count = col->null_count;
  a->offset = 0;
  if (t->id == MS_TYPE_NULL) {
    a->n_buffers = 0; /* the null layout has no buffers */
    return MS_OK;
  }
  a->n_buffers = ms_type_is_varlen(t) ? 3 : 2;
  p->bufs[0] = ms_buffer_retain(col->validity);
  p->bufs[1] = ms_buffer_retain(col->values);
  p->ptrs[0] = col->validity ? col->validity->data : NULL;
  p->ptrs[1] = col->values ? col->values->data : k_empty;
  if (a->n_buffers == 3) {
    p->bufs[2] = ms_buffer_retain(col->data);
    p->ptrs[2] = col->data ? col->data->data : k_empty;
  }
  return MS_OK;
}

ms_status ms_column_export(const ms_column *col, const char *name, struct ArrowSchema *out_schema,
                           struct ArrowArray *out_array, ms_error *err) {
  char fmt[128];
  if (out_schema) {
    ms_status st = schema_init(out_schema, type_format(&col->type, fmt, sizeof fmt), name,
                               ARROW_FLAG_NULLABLE, 0, err);
    if (st) return st;
  }
  if (out_array) {
    ms_status st = export_array(col, out_array, err);
    if (st) {
      if (out_schema) schema_release(out_schema);
      return st;
    }
  }
  return MS_OK;
}

static ms_status export_table_schema(const ms_table *t, struct ArrowSchema *s, ms_error *err) {
  ms_status st = schema_init(s, "+s", "", 0, t->n_columns, err);
  if (st) return st;
  schema_priv *p = s->private_data;
  for (int i = 0; i < t->n_columns; i++) {
    char fmt[128];
    const ms_field *f = &t->fields[i];
    int64_t flags = (f->nullable || t->columns[i]->null_count > 0) ? ARROW_FLAG_NULLABLE : 0;
    st = schema_init(&p->children[i], type_format(&f->type, fmt, sizeof fmt), f->name, flags, 0, err);
    if (st) { schema_release(s); return st; }
  }
  return MS_OK;
}

static ms_status export_table_array(const ms_table *t, struct ArrowArray *a, ms_error *err) {
  ms_status st = array_init(a, t->n_columns, err);
  if (st) return st;
  array_priv *p = a->private_data;
  a->length = t->n_rows;
  a->null_count = 0;
  a->n_buffers = 1; /* the struct validity bitmap, absent */
  for (int i = 0; i < t->n_columns; i++) {
    st = export_array(t->columns[i], &p->children[i], err);
    if (st) { array_release(a); return st; }
  }
  return MS_OK;
}

ms_status ms_table_export(const ms_table *table, struct ArrowSchema *out_schema,
                          struct ArrowArray *out_array, ms_error *err) {
  if (out_schema) {
    ms_status st = export_table_schema(table, out_schema, err);
    if (st) return st;
  }
  if (out_array) {
    ms_status st = export_table_array(table, out_array, err);
    if (st) {
      if (out_schema) schema_release(out_schema);
      return st;
    }
  }
  return MS_OK;
}

/* ---------------- import ---------------- */

typedef struct import_holder {
  atomic_int refs;
  struct ArrowArray array; /* moved from the producer */
} import_holder;

static void holder_release(void *owner) {
  import_holder *h = owner;
  if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1) return;
  if (h->array.release) h->array.release(&h->array);
  ms_free(h);
}

/* A buffer over producer memory [ptr, ptr+size). When ptr is misaligned for `align`
 * (or NULL with size 0) the bytes are copied into an owned buffer instead. */
static ms_buffer *import_buffer(import_holder *h, const void *ptr, int64_t size, int align) {
  if (ptr == NULL || ((uintptr_t)ptr & (uintptr_t)(align - 1)) != 0) {
    ms_buffer *b = ms_buffer_create_zeroed(size);
    if (b && size > 0 && ptr) memcpy(b->data, ptr, (size_t)size);
    return b;
  }
  atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed);
  ms_buffer *b = ms_buffer_wrap(ptr, size, holder_release, h);
  if (!b) holder_release(h);
  return b;
}

/* Imports an array already moved into `moved` (taken over, released on every path).
 * The rows are [extra_offset + moved->offset, + length). */
static ms_status import_moved(const struct ArrowSchema *schema, struct ArrowArray *moved,
                              int64_t extra_offset, int64_t length, ms_column **out,
                              ms_error *err) {
  *out = NULL;
  import_holder *h = ms_calloc(1, sizeof *h);
  if (!h) {
    moved->release(moved);
    return nomem(err);
  }
  atomic_init(&h->refs, 1);
  h->array = *moved;
  moved->release = NULL;
  struct ArrowArray *a = &h->array;
  ms_datatype type;
  ms_status st = parse_format(schema->format, &type, err);
  ms_buffer *validity = NULL, *values = NULL, *data = NULL;
  ms_column *full = NULL;
  if (st) goto done;
  if (schema->dictionary || a->dictionary) {
    st = ms_error_set(err, MS_ERR_UNSUPPORTED, "dictionary-encoded Arrow arrays are not supported");
    goto done;
  }
  int64_t offset = a->offset;
  const int64_t lim = (int64_t)1 << 56; /* keeps every size computation below in range */
  if (length < 0 || offset < 0 || extra_offset < 0 || offset > lim || extra_offset > lim ||
      length > lim ||
      (type.id != MS_TYPE_NULL && (a->n_buffers < 1 || !a->buffers))) {
    st = ms_error_set(err, MS_ERR_INVALID, "Arrow array with bad length/offset/buffers");
    goto done;
  }
  offset += extra_offset;
  int64_t total = offset + length;
  if (type.id == MS_TYPE_FIXED_BINARY && total > INT64_MAX / type.byte_width) {
    st = ms_error_set(err, MS_ERR_LIMIT, "Arrow fixed-size binary array too large");
    goto done;
  }
  int64_t want_buffers = type.id == MS_TYPE_NULL ? 0 : ms_type_is_varlen(&type) ? 3 : 2;
  if (type.id != MS_TYPE_NULL && a->n_buffers != want_buffers) {
    st = ms_error_set(err, MS_ERR_INVALID, "Arrow array of format '%s' has %lld buffers, expected %lld",
                      schema->format, (long long)a->n_buffers, (long long)want_buffers);
    goto done;
  }
  if (type.id == MS_TYPE_NULL) {
    st = ms_column_create_nulls(&type, length, out, err);
    goto done;
  }
  if (a->buffers[0] && a->null_count != 0) {
    validity = import_buffer(h, a->buffers[0], ms_bitmap_bytes(total), 1);
    if (!validity) { st = nomem(err); goto done; }
  }
  if (!a->buffers[1] && total > 0) {
    st = ms_error_set(err, MS_ERR_INVALID, "Arrow array of format '%s' lacks its values buffer", schema->format);
    goto done;
  }
  if (type.id == MS_TYPE_BOOL) {
    values = import_buffer(h, a->buffers[1], ms_bitmap_bytes(total), 1);
  } else if (ms_type_is_varlen(&type)) {
    int ow = ms_type_is_large(&type) ? 8 : 4;
    values = import_buffer(h, a->buffers[1], (total + 1) * ow, ow);
    if (values) {
      int64_t end;
      if (ow == 8) memcpy(&end, values->data + 8 * total, 8);
      else { int32_t e; memcpy(&e, values->data + 4 * total, 4); end = e; }
      if (end < 0 || (end > 0 && !a->buffers[2])) {
        st = ms_error_set(err, MS_ERR_INVALID, "Arrow array of format '%s' has bad offsets or no data buffer", schema->format);
        goto done;
      }
      data = import_buffer(h, a->buffers[2], end, 1);
      if (!data) { st = nomem(err); goto done; }
    }
  } else {
    int w = ms_type_bit_width(&type) / 8;
    int align = type.id == MS_TYPE_FIXED_BINARY ? 1 : w > 8 ? 8 : w;
    values = import_buffer(h, a->buffers[1], total * w, align);
  }
  if (!values) { st = nomem(err); goto done; }
  st = ms_column_from_buffers(&type, total, -1, validity, values, data, &full, err);
  validity = values = data = NULL; /* taken by ms_column_from_buffers */
  if (st) goto done;
  if (offset == 0) {
    *out = full;
    full = NULL;
  } else {
    /* Copy the rows so that the producer's memory can go now. */
    ms_column *view = NULL;
    st = ms_column_slice(full, offset, length, &view, err);
    if (!st) st = ms_column_concat(&view, 1, out, err);
    ms_column_release(view);
  }
done:
  ms_buffer_release(validity);
  ms_buffer_release(values);
  ms_buffer_release(data);
  ms_column_release(full);
  holder_release(h);
  return st;
}

ms_status ms_column_import(const struct ArrowSchema *schema, struct ArrowArray *array,
                           ms_column **out, ms_error *err) {
  *out = NULL;
  if (!array || !array->release) return ms_error_set(err, MS_ERR_INVALID, "Arrow array is released");
  if (!schema || !schema->release) {
    array->release(array);
    return ms_error_set(err, MS_ERR_INVALID, "Arrow schema is released");
  }
  struct ArrowArray moved = *array;
  array->release = NULL;
  return import_moved(schema, &moved, 0, moved.length, out, err);
}

/* Fields (name, type, nullability) of a "+s" schema; *out_fields freed by fields_free. */
static ms_status schema_fields(const struct ArrowSchema *schema, ms_field **out_fields,
                               ms_error *err) {
  *out_fields = NULL;
  if (!schema || !schema->release || !schema->format || strcmp(schema->format, "+s") != 0)
    return ms_error_set(err, MS_ERR_INVALID, "Arrow table import needs a struct (\"+s\") schema, got '%s'",
                        schema && schema->format ? schema->format : "(none)");
  if (schema->n_children < 0 || schema->n_children > 1000000 || (schema->n_children && !schema->children))
    return ms_error_set(err, MS_ERR_INVALID, "Arrow struct schema with bad children");
  int n = (int)schema->n_children;
  ms_field *f = ms_calloc((size_t)(n ? n : 1), sizeof *f);
  if (!f) return nomem(err);
  for (int i = 0; i < n; i++) {
    const struct ArrowSchema *c = schema->children[i];
    ms_status st = parse_format(c->format, &f[i].type, err);
    f[i].name = ms_strdup(c->name ? c->name : "");
    f[i].nullable = (c->flags & ARROW_FLAG_NULLABLE) != 0;
    if (!st && !f[i].name) st = nomem(err);
    if (!st && c->dictionary)
      st = ms_error_set(err, MS_ERR_UNSUPPORTED, "dictionary-encoded Arrow arrays are not supported");
    if (st) {
      ms_error_set_column(err, c->name ? c->name : "");
      for (int k = 0; k <= i; k++) ms_free(f[k].name);
      ms_free(f);
      return st;
    }
  }
  *out_fields = f;
  return MS_OK;
}

static void fields_free(ms_field *f, int n) {
  if (!f) return;
  for (int i = 0; i < n; i++) ms_free(f[i].name);
  ms_free(f);
}

ms_status ms_table_import(const struct ArrowSchema *schema, struct ArrowArray *array,
                          ms_table **out, ms_error *err) {
  *out = NULL;
  if (!array || !array->release) return ms_error_set(err, MS_ERR_INVALID, "Arrow array is released");
  struct ArrowArray parent = *array;
  array->release = NULL;
  ms_field *fields = NULL;
  ms_column **cols = NULL;
  int n = 0;
  ms_status st = schema_fields(schema, &fields, err);
  if (st) goto done;
  n = (int)schema->n_children;
  if (parent.n_children != n || (n && !parent.children) || parent.length < 0 || parent.offset < 0) {
    st = ms_error_set(err, MS_ERR_INVALID, "Arrow struct array has %lld children, its schema %d",
                      (long long)parent.n_children, n);
    goto done;
  }
  if (parent.null_count != 0 && parent.n_buffers >= 1 && parent.buffers && parent.buffers[0]) {
    const uint8_t *bits = parent.buffers[0];
    for (int64_t i = parent.offset; i < parent.offset + parent.length; i++)
      if (!ms_bit_get(bits, i)) {
        st = ms_error_set(err, MS_ERR_UNSUPPORTED, "Arrow struct array with null rows cannot become a table");
        goto done;
      }
  }
  cols = ms_calloc((size_t)(n ? n : 1), sizeof *cols);
  if (!cols) { st = nomem(err); goto done; }
  for (int i = 0; i < n; i++) {
    struct ArrowArray *child = parent.children[i];
    if (!child || !child->release) {
      st = ms_error_set(err, MS_ERR_INVALID, "Arrow struct child %d is missing or released", i);
      goto done;
    }
    if (child->length < parent.offset + parent.length) {
      st = ms_error_set(err, MS_ERR_INVALID, "Arrow struct child %d is shorter than its parent", i);
      goto done;
    }
    /* Move the child out so that each column keeps only its own producer memory. */
    struct ArrowArray moved = *child;
    child->release = NULL;
    st = import_moved(schema->children[i], &moved, parent.offset, parent.length, &cols[i], err);
    if (st) { ms_error_set_column(err, fields[i].name); goto done; }
  }
  st = ms_table_create(fields, cols, n, out, err);
  if (!st) (*out)->n_rows = parent.length;
done:
  if (parent.release) parent.release(&parent);
  if (cols)
    for (int i = 0; i < n; i++) ms_column_release(cols[i]);
  ms_free(cols);
  fields_free(fields, n);
  return st;
}

/* ---------------- streams ---------------- */

typedef struct stream_priv {
  ms_table **tables;
  int n, next;
  char error[1024];
} stream_priv;

static int errno_of(ms_status st) {
  switch (st) {
    case MS_OK: return 0;
    case MS_ERR_NOMEM: return ENOMEM;
    case MS_ERR_IO: return EIO;
    case MS_ERR_UNSUPPORTED: return ENOSYS;
    default: return EINVAL;
  }
}

static int stream_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  stream_priv *p = s->private_data;
  ms_error err;
  ms_error_init(&err);
  ms_status st = ms_table_export(p->tables[0], out, NULL, &err);
  if (st) snprintf(p->error, sizeof p->error, "%s", err.message);
  return errno_of(st);
}

static int stream_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  stream_priv *p = s->private_data;
  if (p->next >= p->n) {
    memset(out, 0, sizeof *out); /* release == NULL: end of stream */
    return 0;
  }
  ms_error err;
  ms_error_init(&err);
  ms_status st = ms_table_export(p->tables[p->next], NULL, out, &err);
  if (st) {
    snprintf(p->error, sizeof p->error, "%s", err.message);
    return errno_of(st);
  }
  p->next++;
  return 0;
}

static const char *stream_last_error(struct ArrowArrayStream *s) {
  stream_priv *p = s->private_data;
  return p->error[0] ? p->error : NULL;
}

static void stream_release(struct ArrowArrayStream *s) {
  if (!s || !s->release) return;
  stream_priv *p = s->private_data;
  for (int i = 0; i < p->n; i++) ms_table_release(p->tables[i]);
  ms_free(p->tables);
  ms_free(p);
  s->release = NULL;
}

ms_status ms_table_stream_export(ms_table *const *tables, int n, struct ArrowArrayStream *out,
                                 ms_error *err) {
  memset(out, 0, sizeof *out);
  if (n < 1) return ms_error_set(err, MS_ERR_INVALID, "a stream needs at least one table (its schema)");
  const ms_table *t0 = tables[0];
  for (int k = 1; k < n; k++) {
    const ms_table *t = tables[k];
    bool same = t->n_columns == t0->n_columns;
    for (int i = 0; same && i < t0->n_columns; i++)
      same = strcmp(t->fields[i].name, t0->fields[i].name) == 0 &&
             ms_type_equal(&t->fields[i].type, &t0->fields[i].type);
    if (!same) return ms_error_set(err, MS_ERR_TYPE, "stream table %d has a different schema than table 0", k);
  }
  stream_priv *p = ms_calloc(1, sizeof *p);
  if (!p) return nomem(err);
  p->tables = ms_calloc((size_t)n, sizeof *p->tables);
  if (!p->tables) { ms_free(p); return nomem(err); }
  for (int k = 0; k < n; k++) p->tables[k] = ms_table_retain(tables[k]);
  p->n = n;
  out->get_schema = stream_get_schema;
  out->get_next = stream_get_next;
  out->get_last_error = stream_last_error;
  out->release = stream_release;
  out->private_data = p;
  return MS_OK;
}

static ms_status stream_fail(struct ArrowArrayStream *s, int code, const char *what, ms_error *err) {
  const char *msg = s->get_last_error ? s->get_last_error(s) : NULL;
  return ms_error_set(err, code == ENOMEM ? MS_ERR_NOMEM : MS_ERR_IO,
                      "Arrow stream %s failed (%s): %s", what, strerror(code), msg ? msg : "no message");
}

ms_status ms_stream_import_table(struct ArrowArrayStream *stream, ms_table **out, ms_error *err) {
  *out = NULL;
  if (!stream || !stream->release) return ms_error_set(err, MS_ERR_INVALID, "Arrow stream is released");
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  ms_table **batches = NULL;
  int n = 0, cap = 0;
  ms_field *fields = NULL;
  ms_status st;
  int code = stream->get_schema(stream, &schema);
  if (code) { st = stream_fail(stream, code, "get_schema", err); goto done; }
  st = schema_fields(&schema, &fields, err);
  if (st) goto done;
  for (;;) {
    struct ArrowArray batch;
    memset(&batch, 0, sizeof batch);
    code = stream->get_next(stream, &batch);
    if (code) { st = stream_fail(stream, code, "get_next", err); goto done; }
    if (!batch.release) break;
    if (n == cap) {
      int ncap = cap ? 2 * cap : 8;
      ms_table **nb = ms_realloc(batches, (size_t)ncap * sizeof *nb);
      if (!nb) { batch.release(&batch); st = nomem(err); goto done; }
      batches = nb;
      cap = ncap;
    }
    st = ms_table_import(&schema, &batch, &batches[n], err);
    if (st) { ms_error_set_row_group(err, n); goto done; }
    n++;
  }
  if (n == 0) {
    /* An empty stream: a zero-row table with the stream's schema. */
    int nc = (int)schema.n_children;
    ms_column **cols = ms_calloc((size_t)(nc ? nc : 1), sizeof *cols);
    if (!cols) { st = nomem(err); goto done; }
    for (int i = 0; i < nc && !st; i++) st = ms_column_create_nulls(&fields[i].type, 0, &cols[i], err);
    if (!st) st = ms_table_create(fields, cols, nc, out, err);
    for (int i = 0; i < nc; i++) ms_column_release(cols[i]);
    ms_free(cols);
  } else {
    st = ms_table_concat(batches, n, out, err);
  }
done:
  for (int i = 0; i < n; i++) ms_table_release(batches[i]);
  ms_free(batches);
  if (fields) fields_free(fields, (int)schema.n_children);
  if (schema.release) schema.release(&schema);
  stream->release(stream);
  return st;
}
