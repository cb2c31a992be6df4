/* Thrift compact-protocol ENCODING of the Parquet footer (FileMetaData) and of page headers.
 *
 * The compact protocol (apache/thrift doc/specs/thrift-compact-protocol.md) writes a struct
 * as a sequence of fields ended by a stop byte (0). A field header carries the field's type
 * and its id: when the id is 1..15 above the previous field's id in the same struct, one
 * byte holds (delta << 4) | type; otherwise the type byte is followed by the id as a zigzag
 * varint. Integers (i16/i32/i64, enums as i32) are zigzag ULEB128 varints, i8 is one raw
 * byte, binary/string is a varint length and the bytes. A bool field has no value: its type
 * nibble is 1 for true, 2 for false. Lists start with (size << 4) | element type when the
 * size is below 15, else 0xF0 | element type and the size as a varint; struct elements of a
 * list carry no field header. A union is a struct with exactly one field set. Nested
 * structs start a new field-id sequence, so the encoder keeps a stack of last ids.
 *
 * Field ids follow apache/parquet-format src/main/thrift/parquet.thrift. Optional fields
 * are written when their has_* flag (or a non-NULL pointer / non-NONE kind) says so. */
#include <string.h>

#include "formats/parquet/pq_metadata.h"

enum {
  CT_STOP = 0, CT_TRUE = 1, CT_FALSE = 2, CT_BYTE = 3, CT_I16 = 4, CT_I32 = 5, CT_I64 = 6,
  CT_DOUBLE = 7, CT_BINARY = 8, CT_LIST = 9, CT_SET = 10, CT_MAP = 11, CT_STRUCT = 12
};

#define TW_MAX_DEPTH 16

/* The encoder: appends to out; the first failure (allocation, nesting too deep) sticks. */
typedef struct tw {
  ms_buffer *out;
  int16_t last[TW_MAX_DEPTH];
  int depth;
  ms_status st;
} tw;

static void tw_raw(tw *w, const void *p, int64_t n) {
  if (w->st) return;
  w->st = ms_buffer_append(w->out, p, n);
}

static void tw_byte(tw *w, uint8_t b) {
  if (w->st) return;
  if (w->out->size < w->out->capacity) {
    w->out->data[w->out->size++] = b;
    return;
  }
  tw_raw(w, &b, 1);
}

static void tw_uvarint(tw *w, uint64_t v) {
  uint8_t buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  buf[n++] = (uint8_t)v;
  tw_raw(w, buf, n);
}

static uint64_t zigzag64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

static void tw_field(tw *w, int type, int16_t id) {
  int16_t last = w->last[w->depth];
  if (id > last && id - last <= 15) {
    tw_byte(w, (uint8_t)(((id - last) << 4) | type));
  } else {
    tw_byte(w, (uint8_t)type);
    tw_uvarint(w, zigzag64(id));
  }
  w->last[w->depth] = id;
}

static void tw_i32(tw *w, int16_t id, int32_t v) {
  tw_field(w, CT_I32, id);
  tw_uvarint(w, zigzag64(v));
}

static void tw_i64(tw *w, int16_t id, int64_t v) {
  tw_field(w, CT_I64, id);
  tw_uvarint(w, zigzag64(v));
}

static void tw_i16(tw *w, int16_t id, int16_t v) {
  tw_field(w, CT_I16, id);
  tw_uvarint(w, zigzag64(v));
}

static void tw_i8(tw *w, int16_t id, int8_t v) {
  tw_field(w, CT_BYTE, id);
  tw_byte(w, (uint8_t)v);
}

static void tw_bool(tw *w, int16_t id, bool v) { tw_field(w, v ? CT_TRUE : CT_FALSE, id); }

static void tw_bin_value(tw *w, const void *p, int64_t n) {
  tw_uvarint(w, (uint64_t)n);
  if (n > 0) tw_raw(w, p, n);
}

static void tw_binary(tw *w, int16_t id, const void *p, int64_t n) {
  tw_field(w, CT_BINARY, id);
  tw_bin_value(w, p, n);
}

static void tw_string(tw *w, int16_t id, const char *s) {
  tw_binary(w, id, s, (int64_t)strlen(s));
}

static void tw_list(tw *w, int16_t id, int elem_type, int64_t n) {
  tw_field(w, CT_LIST, id);
  if (n < 15) {
    tw_byte(w, (uint8_t)((n << 4) | elem_type));
  } else {
    tw_byte(w, (uint8_t)(0xF0 | elem_type));
    tw_uvarint(w, (uint64_t)n);
  }
}

/* Opens a struct (after its field header or as a list element). */
static void tw_push(tw *w) {
  if (w->depth + 1 >= TW_MAX_DEPTH) {
    if (!w->st) w->st = MS_ERR_INTERNAL;
    return;
  }
  w->last[++w->depth] = 0;
}

static void tw_pop(tw *w) {
  tw_byte(w, CT_STOP);
  if (w->depth > 0) w->depth--;
}

static void tw_struct_field(tw *w, int16_t id) {
  tw_field(w, CT_STRUCT, id);
  tw_push(w);
}

/* An empty struct as a field (logical-type markers, union members). */
static void tw_empty_struct(tw *w, int16_t id) {
  tw_struct_field(w, id);
  tw_pop(w);
}

static void tw_init(tw *w, ms_buffer *out) {
  memset(w, 0, sizeof *w);
  w->out = out;
}

/* ---------------- parquet.thrift structs ---------------- */

static void enc_statistics(tw *w, const ms_pq_statistics *s) {
  if (s->has_max) tw_binary(w, 1, s->max, s->max_len);
  if (s->has_min) tw_binary(w, 2, s->min, s->min_len);
  if (s->has_null_count) tw_i64(w, 3, s->null_count);
  if (s->has_distinct_count) tw_i64(w, 4, s->distinct_count);
  if (s->has_max_value) tw_binary(w, 5, s->max_value, s->max_value_len);
  if (s->has_min_value) tw_binary(w, 6, s->min_value, s->min_value_len);
}

static void enc_time_unit(tw *w, int16_t id, ms_pq_time_unit unit) {
  tw_struct_field(w, id); /* union TimeUnit */
  tw_empty_struct(w, (int16_t)unit);
  tw_pop(w);
}

static void enc_logical(tw *w, const ms_pq_logical_type *lt) {
  tw_push(w); /* union LogicalType: one member, its id is the kind */
  int16_t id = (int16_t)lt->kind;
  switch (lt->kind) {
    case MS_PQ_LT_DECIMAL:
      tw_struct_field(w, id);
      tw_i32(w, 1, lt->decimal_scale);
      tw_i32(w, 2, lt->decimal_precision);
      tw_pop(w);
      break;
    case MS_PQ_LT_TIME:
    case MS_PQ_LT_TIMESTAMP:
      tw_struct_field(w, id);
      tw_bool(w, 1, lt->is_adjusted_to_utc);
      enc_time_unit(w, 2, lt->unit);
      tw_pop(w);
      break;
    case MS_PQ_LT_INTEGER:
      tw_struct_field(w, id);
      tw_i8(w, 1, lt->int_bit_width);
      tw_bool(w, 2, lt->int_is_signed);
      tw_pop(w);
      break;
    default: /* STRING, MAP, LIST, ENUM, DATE, UNKNOWN, JSON, BSON, UUID, FLOAT16 */
      tw_empty_struct(w, id);
      break;
  }
  tw_pop(w);
}

static void enc_schema_element(tw *w, const ms_pq_schema_element *e) {
  tw_push(w);
  if (e->has_type) tw_i32(w, 1, (int32_t)e->type);
  if (e->has_type && e->type == MS_PQ_FIXED_LEN_BYTE_ARRAY) tw_i32(w, 2, e->type_length);
  if (e->has_repetition) tw_i32(w, 3, (int32_t)e->repetition);
  tw_string(w, 4, e->name ? e->name : "");
  if (!e->has_type) tw_i32(w, 5, e->num_children);
  if (e->converted_type != MS_PQ_CT_NONE) tw_i32(w, 6, (int32_t)e->converted_type);
  if (e->converted_type == MS_PQ_CT_DECIMAL || e->logical.kind == MS_PQ_LT_DECIMAL) {
    tw_i32(w, 7, e->scale);
    tw_i32(w, 8, e->precision);
  }
  if (e->has_field_id) tw_i32(w, 9, e->field_id);
  if (e->logical.kind != MS_PQ_LT_NONE) {
    tw_field(w, CT_STRUCT, 10);
    enc_logical(w, &e->logical);
  }
  tw_pop(w);
}

static void enc_kv_list(tw *w, int16_t id, const ms_pq_kv *kv, int32_t n) {
  tw_list(w, id, CT_STRUCT, n);
  for (int32_t i = 0; i < n; i++) {
    tw_push(w);
    tw_string(w, 1, kv[i].key ? kv[i].key : "");
    if (kv[i].value) tw_string(w, 2, kv[i].value);
    tw_pop(w);
  }
}

static void enc_column_meta(tw *w, const ms_pq_column_meta *m) {
  tw_i32(w, 1, (int32_t)m->type);
  tw_list(w, 2, CT_I32, m->n_encodings);
  for (int32_t i = 0; i < m->n_encodings; i++) tw_uvarint(w, zigzag64(m->encodings[i]));
  tw_list(w, 3, CT_BINARY, m->n_path);
  for (int32_t i = 0; i < m->n_path; i++)
    tw_bin_value(w, m->path_in_schema[i], (int64_t)strlen(m->path_in_schema[i]));
  tw_i32(w, 4, m->codec);
  tw_i64(w, 5, m->num_values);
  tw_i64(w, 6, m->total_uncompressed_size);
  tw_i64(w, 7, m->total_compressed_size);
  tw_i64(w, 9, m->data_page_offset);
  if (m->has_index_page_offset) tw_i64(w, 10, m->index_page_offset);
  if (m->has_dictionary_page_offset) tw_i64(w, 11, m->dictionary_page_offset);
  if (m->has_statistics) {
    tw_struct_field(w, 12);
    enc_statistics(w, &m->statistics);
    tw_pop(w);
  }
}

static void enc_row_group(tw *w, const ms_pq_row_group *rg) {
  tw_push(w);
  tw_list(w, 1, CT_STRUCT, rg->n_columns);
  for (int32_t c = 0; c < rg->n_columns; c++) {
    const ms_pq_column_chunk *cc = &rg->columns[c];
    tw_push(w);
    if (cc->file_path) tw_string(w, 1, cc->file_path);
    tw_i64(w, 2, cc->file_offset);
    if (cc->has_meta_data) {
      tw_struct_field(w, 3);
      enc_column_meta(w, &cc->meta_data);
      tw_pop(w);
    }
    tw_pop(w);
  }
  tw_i64(w, 2, rg->total_byte_size);
  tw_i64(w, 3, rg->num_rows);
  if (rg->has_file_offset) tw_i64(w, 5, rg->file_offset);
  if (rg->has_total_compressed_size) tw_i64(w, 6, rg->total_compressed_size);
  if (rg->has_ordinal) tw_i16(w, 7, rg->ordinal);
  tw_pop(w);
}

ms_status ms_pq_metadata_encode(const ms_pq_metadata *md, ms_buffer *out) {
  tw w;
  tw_init(&w, out);
  tw_i32(&w, 1, md->version);
  tw_list(&w, 2, CT_STRUCT, md->n_schema);
  for (int32_t i = 0; i < md->n_schema; i++) enc_schema_element(&w, &md->schema[i]);
  tw_i64(&w, 3, md->num_rows);
  tw_list(&w, 4, CT_STRUCT, md->n_row_groups);
  for (int32_t i = 0; i < md->n_row_groups; i++) enc_row_group(&w, &md->row_groups[i]);
  if (md->n_kv > 0) enc_kv_list(&w, 5, md->kv, md->n_kv);
  if (md->created_by) tw_string(&w, 6, md->created_by);
  if (md->n_column_orders > 0) {
    tw_list(&w, 7, CT_STRUCT, md->n_column_orders);
    for (int32_t i = 0; i < md->n_column_orders; i++) {
      tw_push(&w); /* union ColumnOrder { 1: TypeDefinedOrder TYPE_ORDER } */
      tw_empty_struct(&w, 1);
      tw_pop(&w);
    }
  }
  tw_byte(&w, CT_STOP);
  return w.st;
}

ms_status ms_pq_page_header_encode(const ms_pq_page_header *ph, ms_buffer *out) {
  tw w;
  tw_init(&w, out);
  tw_i32(&w, 1, (int32_t)ph->type);
  tw_i32(&w, 2, ph->uncompressed_page_size);
  tw_i32(&w, 3, ph->compressed_page_size);
  if (ph->has_crc) tw_i32(&w, 4, ph->crc);
  if (ph->has_data_page_header) {
    const ms_pq_data_page_header *d = &ph->data_page_header;
    tw_struct_field(&w, 5);
    tw_i32(&w, 1, d->num_values);
    tw_i32(&w, 2, (int32_t)d->encoding);
    tw_i32(&w, 3, (int32_t)d->definition_level_encoding);
    tw_i32(&w, 4, (int32_t)d->repetition_level_encoding);
    if (d->has_statistics) {
      tw_struct_field(&w, 5);
      enc_statistics(&w, &d->statistics);
      tw_pop(&w);
    }
    tw_pop(&w);
  }
  if (ph->has_dictionary_page_header) {
    const ms_pq_dictionary_page_header *d = &ph->dictionary_page_header;
    tw_struct_field(&w, 7);
    tw_i32(&w, 1, d->num_values);
    tw_i32(&w, 2, (int32_t)d->encoding);
    if (d->has_is_sorted) tw_bool(&w, 3, d->is_sorted);
    tw_pop(&w);
  }
  if (ph->has_data_page_header_v2) {
    const ms_pq_data_page_header_v2 *d = &ph->data_page_header_v2;
    tw_struct_field(&w, 8);
    tw_i32(&w, 1, d->num_values);
    tw_i32(&w, 2, d->num_nulls);
    tw_i32(&w, 3, d->num_rows);
    tw_i32(&w, 4, (int32_t)d->encoding);
    tw_i32(&w, 5, d->definition_levels_byte_length);
    tw_i32(&w, 6, d->repetition_levels_byte_length);
    tw_bool(&w, 7, d->is_compressed);
    if (d->has_statistics) {
      tw_struct_field(&w, 8);
      enc_statistics(&w, &d->statistics);
      tw_pop(&w);
    }
    tw_pop(&w);
  }
  tw_byte(&w, CT_STOP);
  return w.st;
}
