/* Parquet schema -> morsel fields.
 *
 * The footer's schema is a depth-first list of a tree; schema[0] is the root and every
 * top-level child becomes one field. A child that is a group (LIST, MAP, STRUCT or any
 * group) or a REPEATED leaf is "nested": it is listed (is_nested) but cannot be read, and
 * its leaves are counted so the column chunks of the flat columns after it are found at
 * the right index. The walk is iterative, so a deep or lying tree cannot exhaust the stack.
 *
 * Type mapping (the logical type wins over the legacy converted type):
 *   BOOLEAN -> bool; INT32 -> int32, int8/16, uint8/16/32 (INTEGER or INT_x/UINT_x), date32,
 *   decimal128, TIME_MILLIS kept as int32 (milliseconds of the day);
 *   INT64 -> int64, uint64, timestamp (unit kept; isAdjustedToUTC or the legacy
 *   TIMESTAMP_MILLIS/MICROS -> tz "UTC", otherwise naive), decimal128, TIME -> int64;
 *   INT96 -> timestamp[ns] naive (Impala convention; DuckDB, Polars and Arrow read it the
 *   same way); FLOAT/DOUBLE -> float32/float64;
 *   BYTE_ARRAY -> utf8 for STRING/UTF8/ENUM/JSON, decimal128 for DECIMAL, binary otherwise
 *   (BSON included); FIXED_LEN_BYTE_ARRAY -> fixed_binary(n), decimal128, UUID ->
 *   fixed_binary(16), FLOAT16 -> float32. Var-length columns become large_utf8 /
 *   large_binary at read time when one read holds more than 2 GiB of bytes. */
#include <string.h>

#include "formats/parquet/pq_read.h"
#include "morsel/alloc.h"

static void set_decimal(pq_column *c, int32_t precision, int32_t scale, pq_conv conv) {
  if (precision < 1 || precision > 38 || scale < 0 || scale > precision) {
    c->unsupported = "decimal precision/scale outside decimal128 (1..38)";
    return;
  }
  c->field.type = ms_type_decimal128(precision, scale);
  c->conv = conv;
  c->out_width = 16;
}

static void map_type(pq_column *c) {
  const ms_pq_schema_element *e = c->el;
  const ms_pq_logical_type *lt = &e->logical;
  ms_pq_converted_type ct = e->converted_type;
  bool dec = lt->kind == MS_PQ_LT_DECIMAL || (lt->kind == MS_PQ_LT_NONE && ct == MS_PQ_CT_DECIMAL);
  int32_t prec = lt->kind == MS_PQ_LT_DECIMAL ? lt->decimal_precision : e->precision;
  int32_t scale = lt->kind == MS_PQ_LT_DECIMAL ? lt->decimal_scale : e->scale;
  c->phys = e->type;
  c->conv = PQ_CONV_COPY;
  switch (e->type) {
    case MS_PQ_BOOLEAN:
      c->field.type = ms_type(MS_TYPE_BOOL);
      c->conv = PQ_CONV_BOOL;
      c->phys_width = 0;
      c->out_width = 0;
      return;
    case MS_PQ_INT32: {
      c->phys_width = 4;
      c->out_width = 4;
      ms_type_id id = MS_TYPE_INT32;
      int bits = 32;
      bool sign = true;
      if (lt->kind == MS_PQ_LT_INTEGER) { bits = lt->int_bit_width; sign = lt->int_is_signed; }
      else if (lt->kind == MS_PQ_LT_NONE) {
        switch (ct) {
          case MS_PQ_CT_INT_8: bits = 8; break;
          case MS_PQ_CT_INT_16: bits = 16; break;
          case MS_PQ_CT_UINT_8: bits = 8; sign = false; break;
          case MS_PQ_CT_UINT_16: bits = 16; sign = false; break;
          case MS_PQ_CT_UINT_32: sign = false; break;
          default: break;
        }
      }
      if (dec) { set_decimal(c, prec, scale, PQ_CONV_I32_DEC); return; }
      if (lt->kind == MS_PQ_LT_DATE || (lt->kind == MS_PQ_LT_NONE && ct == MS_PQ_CT_DATE)) {
        c->field.type = ms_type(MS_TYPE_DATE32);
        return;
      }
      if (bits == 8) { id = sign ? MS_TYPE_INT8 : MS_TYPE_UINT8; c->conv = PQ_CONV_I32_TO_1; c->out_width = 1; }
      else if (bits == 16) { id = sign ? MS_TYPE_INT16 : MS_TYPE_UINT16; c->conv = PQ_CONV_I32_TO_2; c->out_width = 2; }
      else id = sign ? MS_TYPE_INT32 : MS_TYPE_UINT32;
      c->field.type = ms_type(id); /* TIME_MILLIS stays int32 milliseconds of the day */
      return;
    }
    case MS_PQ_INT64: {
      c->phys_width = 8;
      c->out_width = 8;
      if (dec) { set_decimal(c, prec, scale, PQ_CONV_I64_DEC); return; }
      if (lt->kind == MS_PQ_LT_TIMESTAMP) {
        ms_time_unit u = lt->unit == MS_PQ_TU_MILLIS ? MS_UNIT_MILLI
                         : lt->unit == MS_PQ_TU_NANOS ? MS_UNIT_NANO : MS_UNIT_MICRO;
        if (lt->unit < MS_PQ_TU_MILLIS || lt->unit > MS_PQ_TU_NANOS) {
          c->unsupported = "timestamp with an unknown time unit";
          return;
        }
        c->field.type = ms_type_timestamp(u, lt->is_adjusted_to_utc ? "UTC" : "");
        return;
      }
      if (lt->kind == MS_PQ_LT_NONE && (ct == MS_PQ_CT_TIMESTAMP_MILLIS || ct == MS_PQ_CT_TIMESTAMP_MICROS)) {
        c->field.type = ms_type_timestamp(ct == MS_PQ_CT_TIMESTAMP_MILLIS ? MS_UNIT_MILLI : MS_UNIT_MICRO, "UTC");
        return;
      }
      bool sign = true;
      if (lt->kind == MS_PQ_LT_INTEGER) sign = lt->int_is_signed;
      else if (lt->kind == MS_PQ_LT_NONE && ct == MS_PQ_CT_UINT_64) sign = false;
      c->field.type = ms_type(sign ? MS_TYPE_INT64 : MS_TYPE_UINT64); /* TIME_MICROS/NANOS: int64 */
      return;
    }
    case MS_PQ_INT96:
      c->phys_width = 12;
      c->out_width = 8;
      c->conv = PQ_CONV_INT96;
      c->field.type = ms_type_timestamp(MS_UNIT_NANO, "");
      return;
    case MS_PQ_FLOAT:
      c->phys_width = c->out_width = 4;
      c->field.type = ms_type(MS_TYPE_FLOAT32);
      return;
    case MS_PQ_DOUBLE:
      c->phys_width = c->out_width = 8;
      c->field.type = ms_type(MS_TYPE_FLOAT64);
      return;
    case MS_PQ_BYTE_ARRAY: {
      c->phys_width = 0;
      c->out_width = 0;
      if (dec) { set_decimal(c, prec, scale, PQ_CONV_BYTES_DEC); return; }
      bool str = lt->kind == MS_PQ_LT_STRING || lt->kind == MS_PQ_LT_ENUM || lt->kind == MS_PQ_LT_JSON ||
                 (lt->kind == MS_PQ_LT_NONE &&
                  (ct == MS_PQ_CT_UTF8 || ct == MS_PQ_CT_ENUM || ct == MS_PQ_CT_JSON));
      c->field.type = ms_type(str ? MS_TYPE_UTF8 : MS_TYPE_BINARY);
      c->conv = PQ_CONV_BYTES;
      return;
    }
    case MS_PQ_FIXED_LEN_BYTE_ARRAY: {
      int32_t n = e->type_length;
      if (n <= 0 || n > (1 << 20)) { c->unsupported = "FIXED_LEN_BYTE_ARRAY with a bad type_length"; return; }
      c->phys_width = n;
      c->out_width = n;
      if (dec) {
        if (n > 16) { c->unsupported = "decimal wider than 16 bytes"; return; }
        set_decimal(c, prec, scale, PQ_CONV_FIXED_DEC);
        return;
      }
      if (lt->kind == MS_PQ_LT_FLOAT16) {
        if (n != 2) { c->unsupported = "FLOAT16 whose type_length is not 2"; return; }
        c->field.type = ms_type(MS_TYPE_FLOAT32);
        c->conv = PQ_CONV_F16;
        c->out_width = 4;
        return;
      }
      c->field.type = ms_type_fixed_binary(n); /* UUID: fixed_binary(16) */
      return;
    }
  }
  c->unsupported = "unknown physical type";
}

ms_status ms_pq__build_columns(ms_pq_file *f, ms_error *err) {
  const ms_pq_metadata *md = &f->md;
  const ms_pq_schema_element *s = md->schema;
  int32_t n_top = s[0].num_children;
  if (n_top < 0 || n_top > md->n_schema - 1)
    return ms_error_set(err, MS_ERR_CORRUPT, "schema root claims %d children but the schema has %d elements",
                        (int)n_top, (int)md->n_schema);
  f->columns = ms_calloc((size_t)(n_top ? n_top : 1), sizeof *f->columns);
  if (!f->columns) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  f->n_columns = n_top;
  int32_t j = 1;
  int leaves = 0;
  for (int32_t i = 0; i < n_top; i++) {
    if (j >= md->n_schema) return ms_error_set(err, MS_ERR_CORRUPT, "schema tree is shorter than its child counts");
    pq_column *c = &f->columns[i];
    const ms_pq_schema_element *e = &s[j];
    c->field.name = e->name;
    c->field.nullable = !e->has_repetition || e->repetition != MS_PQ_REQUIRED;
    c->leaf = leaves;
    /* Walk the subtree rooted at j: `open` counts elements still to visit. */
    int64_t open = 1;
    int n_leaves = 0;
    while (open > 0) {
      if (j >= md->n_schema) return ms_error_set(err, MS_ERR_CORRUPT, "schema tree is shorter than its child counts");
      int32_t nc = s[j].num_children;
      if (nc == 0) {
        n_leaves++;
        if (!s[j].has_type) return ms_error_set(err, MS_ERR_CORRUPT, "schema leaf '%s' has no physical type", s[j].name);
      }
      open += nc - 1;
      j++;
    }
    c->n_leaves = n_leaves;
    leaves += n_leaves;
    if (e->num_children > 0 || (e->has_repetition && e->repetition == MS_PQ_REPEATED)) {
      c->nested = true;
      c->unsupported = "nested column (LIST, MAP, STRUCT or repeated) is not supported";
      c->field.type = ms_type(MS_TYPE_NULL);
      continue;
    }
    c->el = e;
    c->max_def = c->field.nullable ? 1 : 0;
    map_type(c);
  }
  if (j != md->n_schema)
    return ms_error_set(err, MS_ERR_CORRUPT, "schema has %d elements beyond the root's children",
                        (int)(md->n_schema - j));
  f->n_leaves = leaves;
  for (int32_t r = 0; r < md->n_row_groups; r++) {
    const ms_pq_row_group *rg = &md->row_groups[r];
    if (rg->n_columns != leaves) {
      ms_error_set_row_group(err, r);
      return ms_error_set(err, MS_ERR_CORRUPT, "row group has %d column chunks, the schema %d leaves",
                          (int)rg->n_columns, leaves);
    }
  }
  return MS_OK;
}
