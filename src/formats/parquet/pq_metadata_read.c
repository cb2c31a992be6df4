/* Decoding of Parquet's Thrift structures (FileMetaData, PageHeader) from the Thrift
 * compact protocol, written against the protocol spec and parquet.thrift.
 *
 * How it works: a small cursor (`tr`) reads varints, zigzag integers, field headers and
 * list headers with a sticky error: the first failure records its message and byte offset
 * and every later read returns zero/empty, so struct decoders can run straight through and
 * check once. Fields we do not know, or whose wire type is not the one we expect, are
 * skipped generically (tr_skip), with nesting bounded by TR_MAX_DEPTH so that a malicious
 * footer cannot blow the stack. Every list length is bounded by the bytes remaining (each
 * element takes at least one byte on the wire), so allocations are proportional to the
 * input, never to a number the input claims.
 *
 * Footer strings and arrays are carved from a block arena hung on ms_pq_metadata.arena and
 * freed in one call by ms_pq_metadata_free. Page headers own nothing: their statistics
 * byte strings point into the caller's buffer. */
#include <string.h>

#include "formats/parquet/pq_metadata.h"
#include "morsel/alloc.h"

#define TR_MAX_DEPTH 64

/* Compact protocol wire types. */
enum {
  CT_STOP = 0, CT_TRUE = 1, CT_FALSE = 2, CT_BYTE = 3, CT_I16 = 4, CT_I32 = 5, CT_I64 = 6,
  CT_DOUBLE = 7, CT_BINARY = 8, CT_LIST = 9, CT_SET = 10, CT_MAP = 11, CT_STRUCT = 12
};

/* ---------------- arena ---------------- */

typedef struct arena_block {
  struct arena_block *next;
  size_t used, cap;
  _Alignas(16) uint8_t data[];
} arena_block;

typedef struct pq_arena {
  arena_block *head;
} pq_arena;

static void *arena_alloc(pq_arena *a, size_t size) {
  size = (size + 15) & ~(size_t)15;
  if (!a->head || a->head->cap - a->head->used < size) {
    size_t cap = size > 60000 ? size : 60000;
    arena_block *b = ms_malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->next = a->head;
    b->used = 0;
    b->cap = cap;
    a->head = b;
  }
  void *p = a->head->data + a->head->used;
  a->head->used += size;
  memset(p, 0, size);
  return p;
}

static void arena_free(pq_arena *a) {
  if (!a) return;
  arena_block *b = a->head;
  while (b) {
    arena_block *n = b->next;
    ms_free(b);
    b = n;
  }
  ms_free(a);
}

/* ---------------- cursor ---------------- */

typedef struct tr {
  const uint8_t *base, *p, *end;
  int depth;
  ms_status st;
  ms_error *err;
  pq_arena *arena; /* NULL: byte strings point into the input */
} tr;

static void tr_fail(tr *t, ms_status st, const char *what) {
  if (t->st) return;
  t->st = st;
  ms_error_set(t->err, st, "parquet metadata: %s", what);
  ms_error_set_byte_offset(t->err, (int64_t)(t->p - t->base));
  t->p = t->end; /* stop everything after the first error */
}

static uint64_t tr_uvarint(tr *t) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (t->p >= t->end) { tr_fail(t, MS_ERR_CORRUPT, "truncated varint"); return 0; }
    uint8_t b = *t->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  tr_fail(t, MS_ERR_CORRUPT, "varint longer than 10 bytes");
  return 0;
}

static int64_t tr_zigzag(tr *t) {
  uint64_t u = tr_uvarint(t);
  return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* Reads an integer field of any integer wire type; false (and skips) on other types. */
static int64_t tr_int(tr *t, int type) {
  if (type == CT_BYTE) {
    if (t->p >= t->end) { tr_fail(t, MS_ERR_CORRUPT, "truncated byte"); return 0; }
    return (int8_t)*t->p++;
  }
  if (type == CT_I16 || type == CT_I32 || type == CT_I64) return tr_zigzag(t);
  tr_fail(t, MS_ERR_CORRUPT, "integer field has a non-integer wire type");
  return 0;
}

static int32_t tr_i32(tr *t, int type) {
  int64_t v = tr_int(t, type);
  if (v < INT32_MIN || v > INT32_MAX) { tr_fail(t, MS_ERR_CORRUPT, "i32 out of range"); return 0; }
  return (int32_t)v;
}

static bool tr_bool(tr *t, int type) {
  if (type == CT_TRUE) return true;
  if (type == CT_FALSE) return false;
  tr_fail(t, MS_ERR_CORRUPT, "bool field has a non-bool wire type");
  return false;
}

/* A binary or string: sets data and len pointing into the input. */
static void tr_binary_ref(tr *t, const uint8_t **data, int32_t *len) {
  uint64_t n = tr_uvarint(t);
  *data = NULL;
  *len = 0;
  if (t->st) return;
  if (n > (uint64_t)(t->end - t->p) || n > INT32_MAX) {
    tr_fail(t, MS_ERR_CORRUPT, "binary length exceeds the bytes remaining");
    return;
  }
  *data = t->p;
  *len = (int32_t)n;
  t->p += n;
}

/* A binary copied into the arena (NUL-terminated), or pointing into the input when the
 * cursor has no arena. */
static uint8_t *tr_binary(tr *t, int type, int32_t *len_out) {
  const uint8_t *d;
  int32_t n;
  if (type != CT_BINARY) { tr_fail(t, MS_ERR_CORRUPT, "string field has a non-binary wire type"); return NULL; }
  tr_binary_ref(t, &d, &n);
  if (len_out) *len_out = n;
  if (t->st) return NULL;
  if (!t->arena) return (uint8_t *)d;
  uint8_t *c = arena_alloc(t->arena, (size_t)n + 1);
  if (!c) { tr_fail(t, MS_ERR_NOMEM, "out of memory"); return NULL; }
  if (n) memcpy(c, d, (size_t)n);
  c[n] = 0;
  return c;
}

static char *tr_string(tr *t, int type) { return (char *)tr_binary(t, type, NULL); }

/* Reads a list/set header; the size is bounded by the bytes left. */
static int64_t tr_list(tr *t, int type, int *elem_type) {
  *elem_type = 0;
  if (type != CT_LIST && type != CT_SET) { tr_fail(t, MS_ERR_CORRUPT, "list field has a non-list wire type"); return 0; }
  if (t->p >= t->end) { tr_fail(t, MS_ERR_CORRUPT, "truncated list header"); return 0; }
  uint8_t h = *t->p++;
  uint64_t n = h >> 4;
  *elem_type = h & 0x0f;
  if (n == 15) n = tr_uvarint(t);
  if (t->st) return 0;
  if (n > (uint64_t)(t->end - t->p)) { tr_fail(t, MS_ERR_CORRUPT, "list size exceeds the bytes remaining"); return 0; }
  return (int64_t)n;
}

/* Reads a field header. Returns false at STOP (or on error). */
static bool tr_field(tr *t, int16_t *last_id, int *type, int16_t *id) {
  if (t->st) return false;
  if (t->p >= t->end) { tr_fail(t, MS_ERR_CORRUPT, "truncated struct (no STOP)"); return false; }
  uint8_t h = *t->p++;
  if (h == 0) return false;
  *type = h & 0x0f;
  int delta = h >> 4;
  if (delta) {
    *id = (int16_t)(*last_id + delta);
  } else {
    int64_t v = tr_zigzag(t);
    if (v < INT16_MIN || v > INT16_MAX) { tr_fail(t, MS_ERR_CORRUPT, "field id out of range"); return false; }
    *id = (int16_t)v;
  }
  if (*type == CT_STOP || *type > CT_STRUCT) { tr_fail(t, MS_ERR_CORRUPT, "bad field type"); return false; }
  *last_id = *id;
  return !t->st;
}

static void tr_skip(tr *t, int type);

static void tr_skip_struct(tr *t) {
  if (++t->depth > TR_MAX_DEPTH) { tr_fail(t, MS_ERR_CORRUPT, "structures nested too deeply"); return; }
  int16_t last = 0, id;
  int type;
  while (tr_field(t, &last, &type, &id)) tr_skip(t, type);
  t->depth--;
}

static void tr_skip(tr *t, int type) {
  if (t->st) return;
  switch (type) {
    case CT_TRUE: case CT_FALSE: return; /* value is in the field header */
    case CT_BYTE:
      if (t->p >= t->end) tr_fail(t, MS_ERR_CORRUPT, "truncated byte"); else t->p++;
      return;
    case CT_I16: case CT_I32: case CT_I64: tr_uvarint(t); return;
    case CT_DOUBLE:
      if (t->end - t->p < 8) tr_fail(t, MS_ERR_CORRUPT, "truncated double"); else t->p += 8;
      return;
    case CT_BINARY: { const uint8_t *d; int32_t n; tr_binary_ref(t, &d, &n); return; }
    case CT_LIST: case CT_SET: {
      if (++t->depth > TR_MAX_DEPTH) { tr_fail(t, MS_ERR_CORRUPT, "structures nested too deeply"); return; }
      int et;
      int64_t n = tr_list(t, type, &et);
      for (int64_t i = 0; i < n && !t->st; i++) {
        /* Booleans inside collections take one byte each. */
        if (et == CT_TRUE || et == CT_FALSE) tr_skip(t, CT_BYTE);
        else tr_skip(t, et);
      }
      t->depth--;
      return;
    }
    case CT_MAP: {
      if (++t->depth > TR_MAX_DEPTH) { tr_fail(t, MS_ERR_CORRUPT, "structures nested too deeply"); return; }
      uint64_t n = tr_uvarint(t);
      if (n && !t->st) {
        if (n > (uint64_t)(t->end - t->p)) { tr_fail(t, MS_ERR_CORRUPT, "map size exceeds the bytes remaining"); return; }
        if (t->p >= t->end) { tr_fail(t, MS_ERR_CORRUPT, "truncated map header"); return; }
        uint8_t kv = *t->p++;
        int kt = kv >> 4, vt = kv & 0x0f;
        if (kt == CT_TRUE || kt == CT_FALSE) kt = CT_BYTE;
        if (vt == CT_TRUE || vt == CT_FALSE) vt = CT_BYTE;
        for (uint64_t i = 0; i < n && !t->st; i++) { tr_skip(t, kt); tr_skip(t, vt); }
      }
      t->depth--;
      return;
    }
    case CT_STRUCT: tr_skip_struct(t); return;
    default: tr_fail(t, MS_ERR_CORRUPT, "bad wire type"); return;
  }
}

static void *tr_alloc_array(tr *t, int64_t n, size_t elem) {
  if (!t->arena || n == 0) return NULL;
  void *p = arena_alloc(t->arena, (size_t)n * elem);
  if (!p) tr_fail(t, MS_ERR_NOMEM, "out of memory");
  return p;
}

static bool tr_enter(tr *t, int type) {
  if (type != CT_STRUCT) { tr_fail(t, MS_ERR_CORRUPT, "struct field has a non-struct wire type"); return false; }
  if (++t->depth > TR_MAX_DEPTH) { tr_fail(t, MS_ERR_CORRUPT, "structures nested too deeply"); return false; }
  return true;
}

/* ---------------- parquet.thrift structures ---------------- */

static void read_statistics(tr *t, ms_pq_statistics *s) {
  int16_t last = 0, id;
  int type;
  while (tr_field(t, &last, &type, &id)) {
    switch (id) {
      case 1: s->max = tr_binary(t, type, &s->max_len); s->has_max = !t->st; break;
      case 2: s->min = tr_binary(t, type, &s->min_len); s->has_min = !t->st; break;
      case 3: s->null_count = tr_int(t, type); s->has_null_count = true; break;
      case 4: s->distinct_count = tr_int(t, type); s->has_distinct_count = true; break;
      case 5: s->max_value = tr_binary(t, type, &s->max_value_len); s->has_max_value = !t->st; break;
      case 6: s->min_value = tr_binary(t, type, &s->min_value_len); s->has_min_value = !t->st; break;
      default: tr_skip(t, type);
    }
  }
  t->depth--;
}

/* Union of empty structs: the field id says which member. */
static int read_union_tag(tr *t) {
  int16_t last = 0, id;
  int type, tag = 0;
  while (tr_field(t, &last, &type, &id)) {
    if (!tag) tag = id;
    tr_skip(t, type);
  }
  t->depth--;
  return tag;
}

static void read_time_like(tr *t, ms_pq_logical_type *lt) {
  int16_t last = 0, id;
  int type;
  while (tr_field(t, &last, &type, &id)) {
    if (id == 1) lt->is_adjusted_to_utc = tr_bool(t, type);
    else if (id == 2 && tr_enter(t, type)) lt->unit = (ms_pq_time_unit)read_union_tag(t);
    else tr_skip(t, type);
  }
  t->depth--;
}

static void read_logical_type(tr *t, ms_pq_logical_type *lt) {
  int16_t last = 0, id;
  int type;
  memset(lt, 0, sizeof *lt);
  while (tr_field(t, &last, &type, &id)) {
    if (type != CT_STRUCT) { tr_skip(t, type); continue; }
    switch (id) {
      case MS_PQ_LT_DECIMAL: {
        lt->kind = MS_PQ_LT_DECIMAL;
        tr_enter(t, type);
        int16_t l2 = 0, id2;
        int ty2;
        while (tr_field(t, &l2, &ty2, &id2)) {
          if (id2 == 1) lt->decimal_scale = tr_i32(t, ty2);
          else if (id2 == 2) lt->decimal_precision = tr_i32(t, ty2);
          else tr_skip(t, ty2);
        }
        t->depth--;
        break;
      }
      case MS_PQ_LT_TIME: case MS_PQ_LT_TIMESTAMP:
        lt->kind = (ms_pq_logical_kind)id;
        tr_enter(t, type);
        read_time_like(t, lt);
        break;
      case MS_PQ_LT_INTEGER: {
        lt->kind = MS_PQ_LT_INTEGER;
        tr_enter(t, type);
        int16_t l2 = 0, id2;
        int ty2;
        while (tr_field(t, &l2, &ty2, &id2)) {
          if (id2 == 1) lt->int_bit_width = (int8_t)tr_int(t, ty2);
          else if (id2 == 2) lt->int_is_signed = tr_bool(t, ty2);
          else tr_skip(t, ty2);
        }
        t->depth--;
        break;
      }
      case MS_PQ_LT_STRING: case MS_PQ_LT_MAP: case MS_PQ_LT_LIST: case MS_PQ_LT_ENUM:
      case MS_PQ_LT_DATE: case MS_PQ_LT_UNKNOWN: case MS_PQ_LT_JSON: case MS_PQ_LT_BSON:
      case MS_PQ_LT_UUID: case MS_PQ_LT_FLOAT16:
        lt->kind = (ms_pq_logical_kind)id;
        tr_skip(t, type);
        break;
      default:
        /* A logical type newer than us (VARIANT, GEOMETRY, ...): treat as absent so the
         * physical type (and converted type) decide. */
        tr_skip(t, type);
    }
  }
  t->depth--;
}

static void read_schema_element(tr *t, ms_pq_schema_element *e) {
  int16_t last = 0, id;
  int type;
  e->converted_type = MS_PQ_CT_NONE;
  bool has_name = false;
  while (tr_field(t, &last, &type, &id)) {
    switch (id) {
      case 1: e->type = (ms_pq_physical_type)tr_i32(t, type); e->has_type = true; break;
      case 2: e->type_length = tr_i32(t, type); break;
      case 3: e->repetition = (ms_pq_repetition)tr_i32(t, type); e->has_repetition = true; break;
      case 4: e->name = tr_string(t, type); has_name = true; break;
      case 5: e->num_children = tr_i32(t, type); break;
      case 6: e->converted_type = (ms_pq_converted_type)tr_i32(t, type); break;
      case 7: e->scale = tr_i32(t, type); break;
      case 8: e->precision = tr_i32(t, type); break;
      case 9: e->field_id = tr_i32(t, type); e->has_field_id = true; break;
      case 10: if (tr_enter(t, type)) read_logical_type(t, &e->logical); break;
      default: tr_skip(t, type);
    }
  }
  t->depth--;
  if (!t->st && !has_name) tr_fail(t, MS_ERR_CORRUPT, "schema element without a name");
  if (!t->st && e->has_type && (e->type < MS_PQ_BOOLEAN || e->type > MS_PQ_FIXED_LEN_BYTE_ARRAY))
    tr_fail(t, MS_ERR_CORRUPT, "unknown physical type");
  if (!t->st && e->num_children < 0) tr_fail(t, MS_ERR_CORRUPT, "negative num_children");
}

static void read_column_meta(tr *t, ms_pq_column_meta *m) {
  int16_t last = 0, id;
  int type;
  bool seen_type = false, seen_codec = false, seen_nv = false, seen_dpo = false;
  while (tr_field(t, &last, &type, &id)) {
    switch (id) {
      case 1: m->type = (ms_pq_physical_type)tr_i32(t, type); seen_type = true; break;
      case 2: {
        int et;
        int64_t n = tr_list(t, type, &et);
        m->encodings = tr_alloc_array(t, n, sizeof *m->encodings);
        for (int64_t i = 0; i < n && !t->st; i++) m->encodings[i] = (ms_pq_encoding)tr_i32(t, et);
        m->n_encodings = (int32_t)n;
        break;
      }
      case 3: {
        int et;
        int64_t n = tr_list(t, type, &et);
        m->path_in_schema = tr_alloc_array(t, n, sizeof *m->path_in_schema);
        for (int64_t i = 0; i < n && !t->st; i++) m->path_in_schema[i] = tr_string(t, et);
        m->n_path = (int32_t)n;
        break;
      }
      case 4: m->codec = tr_i32(t, type); seen_codec = true; break;
      case 5: m->num_values = tr_int(t, type); seen_nv = true; break;
      case 6: m->total_uncompressed_size = tr_int(t, type); break;
      case 7: m->total_compressed_size = tr_int(t, type); break;
      case 9: m->data_page_offset = tr_int(t, type); seen_dpo = true; break;
      case 10: m->index_page_offset = tr_int(t, type); m->has_index_page_offset = true; break;
      case 11: m->dictionary_page_offset = tr_int(t, type); m->has_dictionary_page_offset = true; break;
      case 12:
        if (tr_enter(t, type)) { read_statistics(t, &m->statistics); m->has_statistics = !t->st; }
        break;
      default: tr_skip(t, type);
    }
  }
  t->depth--;
  if (!t->st && !(seen_type && seen_codec && seen_nv && seen_dpo))
    tr_fail(t, MS_ERR_CORRUPT, "column metadata misses a required field");
}

static void read_column_chunk(tr *t, ms_pq_column_chunk *c) {
  int16_t last = 0, id;
  int type;
  while (tr_field(t, &last, &type, &id)) {
    switch (id) {
      case 1: c->file_path = tr_string(t, type); break;
      case 2: c->file_offset = tr_int(t, type); break;
      case 3: if (tr_enter(t, type)) { read_column_meta(t, &c->meta_data); c->has_meta_data = !t->st; } break;
      default: tr_skip(t, type);
    }
  }
  t->depth--;
}

/* Reads a list of structs into a fresh array: every struct-list field of the footer goes
 * through here, so the element-type check, the size bound and the per-element entry are
 * written once. read_elem fills one element of elem_size bytes. */
typedef void (*tr_elem_fn)(tr *t, void *elem);
static void *tr_struct_list(tr *t, int type, const char *what, size_t elem_size,
                            tr_elem_fn read_elem, int32_t *out_n) {
  int et;
  int64_t n = tr_list(t, type, &et);
  if (n && et != CT_STRUCT) {
    tr_fail(t, MS_ERR_CORRUPT, what);
    return NULL;
  }
  uint8_t *arr = tr_alloc_array(t, n, elem_size);
  for (int64_t i = 0; i < n && !t->st; i++)
    if (tr_enter(t, et)) read_elem(t, arr + (size_t)i * elem_size);
  *out_n = (int32_t)n;
  return arr;
}

static void read_column_chunk_elem(tr *t, void *e) { read_column_chunk(t, e); }
static void read_schema_element_elem(tr *t, void *e) { read_schema_element(t, e); }

static void read_row_group(tr *t, ms_pq_row_group *rg) {
  int16_t last = 0, id;
  int type;
  bool seen_rows = false;
  while (tr_field(t, &last, &type, &id)) {
    switch (id) {
      case 1:
        rg->columns = tr_struct_list(t, type, "column chunk list of non-structs",
                                     sizeof *rg->columns, read_column_chunk_elem, &rg->n_columns);
        break;
      case 2: rg->total_byte_size = tr_int(t, type); break;
      case 3: rg->num_rows = tr_int(t, type); seen_rows = true; break;
      case 5: rg->file_offset = tr_int(t, type); rg->has_file_offset = true; break;
      case 6: rg->total_compressed_size = tr_int(t, type); rg->has_total_compressed_size = true; break;
      case 7: rg->ordinal = (int16_t)tr_int(t, type); rg->has_ordinal = true; break;
      default: tr_skip(t, type);
    }
  }
  t->depth--;
  if (!t->st && !seen_rows) tr_fail(t, MS_ERR_CORRUPT, "row group without num_rows");
  if (!t->st && rg->num_rows < 0) tr_fail(t, MS_ERR_CORRUPT, "negative row group num_rows");
}

static void read_kv(tr *t, ms_pq_kv *kv) {
  int16_t last = 0, id;
  int type;
  while (tr_field(t, &last, &type, &id)) {
    if (id == 1) kv->key = tr_string(t, type);
    else if (id == 2) kv->value = tr_string(t, type);
    else tr_skip(t, type);
  }
  t->depth--;
  if (!t->st && !kv->key) tr_fail(t, MS_ERR_CORRUPT, "key-value entry without a key");
}

static void read_row_group_elem(tr *t, void *e) { read_row_group(t, e); }
static void read_kv_elem(tr *t, void *e) { read_kv(t, e); }

static void read_file_metadata(tr *t, ms_pq_metadata *md) {
  int16_t last = 0, id;
  int type;
  bool seen_schema = false, seen_rows = false, seen_rgs = false;
  while (tr_field(t, &last, &type, &id)) {
    switch (id) {
      case 1: md->version = tr_i32(t, type); break;
      case 2:
        md->schema = tr_struct_list(t, type, "schema list of non-structs", sizeof *md->schema,
                                    read_schema_element_elem, &md->n_schema);
        seen_schema = true;
        break;
      case 3: md->num_rows = tr_int(t, type); seen_rows = true; break;
      case 4:
        md->row_groups = tr_struct_list(t, type, "row group list of non-structs",
                                        sizeof *md->row_groups, read_row_group_elem,
                                        &md->n_row_groups);
        seen_rgs = true;
        break;
      case 5:
        md->kv = tr_struct_list(t, type, "key-value list of non-structs", sizeof *md->kv,
                                read_kv_elem, &md->n_kv);
        break;
      case 6: md->created_by = tr_string(t, type); break;
      case 7: {
        int et;
        int64_t n = tr_list(t, type, &et);
        for (int64_t i = 0; i < n && !t->st; i++) tr_skip(t, et);
        md->n_column_orders = (int32_t)n;
        break;
      }
      default: tr_skip(t, type);
    }
  }
  if (!t->st && !(seen_schema && seen_rows && seen_rgs))
    tr_fail(t, MS_ERR_CORRUPT, "FileMetaData misses schema, num_rows or row_groups");
  if (!t->st && md->n_schema < 1) tr_fail(t, MS_ERR_CORRUPT, "empty schema");
  if (!t->st && md->num_rows < 0) tr_fail(t, MS_ERR_CORRUPT, "negative num_rows");
}

ms_status ms_pq_metadata_decode(const uint8_t *data, int64_t len, ms_pq_metadata *out,
                                ms_error *err) {
  if (!data || len < 0) return ms_error_set(err, MS_ERR_INVALID, "no metadata bytes");
  ms_pq_metadata md;
  memset(&md, 0, sizeof md);
  pq_arena *arena = ms_calloc(1, sizeof *arena);
  if (!arena) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  tr t = {data, data, data + len, 0, MS_OK, err, arena};
  read_file_metadata(&t, &md);
  if (t.st) {
    arena_free(arena);
    return t.st;
  }
  md.arena = arena;
  *out = md;
  return MS_OK;
}

void ms_pq_metadata_free(ms_pq_metadata *md) {
  if (!md) return;
  arena_free(md->arena);
  memset(md, 0, sizeof *md);
}

/* ---------------- page headers ---------------- */

static void read_data_page_header(tr *t, ms_pq_data_page_header *h) {
  int16_t last = 0, id;
  int type;
  while (tr_field(t, &last, &type, &id)) {
    switch (id) {
      case 1: h->num_values = tr_i32(t, type); break;
      case 2: h->encoding = (ms_pq_encoding)tr_i32(t, type); break;
      case 3: h->definition_level_encoding = (ms_pq_encoding)tr_i32(t, type); break;
      case 4: h->repetition_level_encoding = (ms_pq_encoding)tr_i32(t, type); break;
      case 5: if (tr_enter(t, type)) { read_statistics(t, &h->statistics); h->has_statistics = !t->st; } break;
      default: tr_skip(t, type);
    }
  }
  t->depth--;
}

static void read_dict_page_header(tr *t, ms_pq_dictionary_page_header *h) {
  int16_t last = 0, id;
  int type;
  while (tr_field(t, &last, &type, &id)) {
    switch (id) {
      case 1: h->num_values = tr_i32(t, type); break;
      case 2: h->encoding = (ms_pq_encoding)tr_i32(t, type); break;
      case 3: h->is_sorted = tr_bool(t, type); h->has_is_sorted = true; break;
      default: tr_skip(t, type);
    }
  }
  t->depth--;
}

static void read_data_page_header_v2(tr *t, ms_pq_data_page_header_v2 *h) {
  int16_t last = 0, id;
  int type;
  h->is_compressed = true;
  while (tr_field(t, &last, &type, &id)) {
    switch (id) {
      case 1: h->num_values = tr_i32(t, type); break;
      case 2: h->num_nulls = tr_i32(t, type); break;
      case 3: h->num_rows = tr_i32(t, type); break;
      case 4: h->encoding = (ms_pq_encoding)tr_i32(t, type); break;
      case 5: h->definition_levels_byte_length = tr_i32(t, type); break;
      case 6: h->repetition_levels_byte_length = tr_i32(t, type); break;
      case 7: h->is_compressed = tr_bool(t, type); break;
      case 8: if (tr_enter(t, type)) { read_statistics(t, &h->statistics); h->has_statistics = !t->st; } break;
      default: tr_skip(t, type);
    }
  }
  t->depth--;
}

ms_status ms_pq_page_header_decode(const uint8_t *data, int64_t len, ms_pq_page_header *out,
                                   int64_t *consumed, ms_error *err) {
  ms_pq_page_header h;
  memset(&h, 0, sizeof h);
  if (!data || len < 0) return ms_error_set(err, MS_ERR_INVALID, "no page header bytes");
  tr t = {data, data, data + len, 0, MS_OK, err, NULL};
  int16_t last = 0, id;
  int type;
  bool seen_type = false, seen_u = false, seen_c = false;
  while (tr_field(&t, &last, &type, &id)) {
    switch (id) {
      case 1: h.type = (ms_pq_page_type)tr_i32(&t, type); seen_type = true; break;
      case 2: h.uncompressed_page_size = tr_i32(&t, type); seen_u = true; break;
      case 3: h.compressed_page_size = tr_i32(&t, type); seen_c = true; break;
      case 4: h.crc = tr_i32(&t, type); h.has_crc = true; break;
      case 5:
        if (tr_enter(&t, type)) { read_data_page_header(&t, &h.data_page_header); h.has_data_page_header = !t.st; }
        break;
      case 7:
        if (tr_enter(&t, type)) { read_dict_page_header(&t, &h.dictionary_page_header); h.has_dictionary_page_header = !t.st; }
        break;
      case 8:
        if (tr_enter(&t, type)) { read_data_page_header_v2(&t, &h.data_page_header_v2); h.has_data_page_header_v2 = !t.st; }
        break;
      default: tr_skip(&t, type);
    }
  }
  if (!t.st && !(seen_type && seen_u && seen_c))
    tr_fail(&t, MS_ERR_CORRUPT, "page header misses type or sizes");
  if (!t.st && (h.uncompressed_page_size < 0 || h.compressed_page_size < 0))
    tr_fail(&t, MS_ERR_CORRUPT, "negative page size");
  if (t.st) return t.st;
  *out = h;
  if (consumed) *consumed = (int64_t)(t.p - data);
  return MS_OK;
}
