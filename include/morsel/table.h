/* Columns and tables: morsel's in-memory columnar data, in the Arrow layout.
 *
 * An ms_column is an immutable, reference-counted array of one type: a validity bitmap
 * (absent when there are no nulls; bit i set = row i valid, LSB first), a values buffer
 * (fixed-width values, or the offsets of variable-length types) and a data buffer (the bytes
 * of variable-length types). Buffers are 64-byte aligned and reference-counted, so columns
 * can share them and export them zero-copy through the Arrow C Data Interface.
 *
 * An ms_table is a schema (ordered named fields) plus one column per field, all of the
 * same length. Ownership: *_create returns a new reference that the caller releases with
 * *_release; *_retain adds a reference. Functions taking `const ms_column *` do not take
 * ownership. Kernels (slice, filter, take, concat) return new columns. */
#ifndef MORSEL_TABLE_H
#define MORSEL_TABLE_H

#include "morsel/status.h"
#include "morsel/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_column ms_column;
typedef struct ms_table ms_table;
typedef struct ms_column_builder ms_column_builder;

typedef struct ms_field {
  char *name;
  ms_datatype type;
  bool nullable;
} ms_field;

/* ---- columns ---- */
ms_column *ms_column_retain(ms_column *col);
void ms_column_release(ms_column *col); /* NULL is allowed */
const ms_datatype *ms_column_type(const ms_column *col);
int64_t ms_column_length(const ms_column *col);
int64_t ms_column_null_count(const ms_column *col);
bool ms_column_is_null(const ms_column *col, int64_t row);
/* Typed readers; the caller must pass the matching type (checked only by assertions in
 * debug builds). Integers of any width/signedness widen through get_i64/get_u64. */
int64_t ms_column_get_i64(const ms_column *col, int64_t row);
uint64_t ms_column_get_u64(const ms_column *col, int64_t row);
double ms_column_get_f64(const ms_column *col, int64_t row);
bool ms_column_get_bool(const ms_column *col, int64_t row);
/* Bytes of utf8/binary/large/fixed_binary/decimal128 values; *out_len receives the length. */
const uint8_t *ms_column_get_bytes(const ms_column *col, int64_t row, int64_t *out_len);
/* A column of `length` nulls. */
ms_status ms_column_create_nulls(const ms_datatype *type, int64_t length, ms_column **out,
                                 ms_error *err);

/* ---- kernels (new columns; the input is untouched) ---- */
ms_status ms_column_slice(const ms_column *col, int64_t offset, int64_t length,
                          ms_column **out, ms_error *err);
/* Keeps rows whose mask byte is non-zero (mask has ms_column_length bytes). */
ms_status ms_column_filter(const ms_column *col, const uint8_t *mask, ms_column **out,
                           ms_error *err);
/* out[i] = col[indices[i]]; an index of -1 produces a null. */
ms_status ms_column_take(const ms_column *col, const int64_t *indices, int64_t n,
                         ms_column **out, ms_error *err);
ms_status ms_column_concat(ms_column *const *cols, int n, ms_column **out, ms_error *err);
/* Equality of type, length, validity and values (floats compared bitwise except that all
 * NaNs are equal). */
bool ms_column_equal(const ms_column *a, const ms_column *b);

/* Sort keys for ms_table_sort_indices. */
typedef struct ms_sort_key {
  int column;      /* index in the table */
  bool descending;
  bool nulls_first;
} ms_sort_key;

/* Computes a stable permutation that sorts the table by the keys; out_indices receives
 * ms_table_num_rows entries (freed with ms_free). NaN sorts after all numbers. */
ms_status ms_table_sort_indices(const ms_table *table, const ms_sort_key *keys, int n_keys,
                                int64_t **out_indices, ms_error *err);

/* ---- builders: append values one at a time, then finish into a column ---- */
ms_status ms_column_builder_create(const ms_datatype *type, int64_t capacity_hint,
                                   ms_column_builder **out, ms_error *err);
void ms_column_builder_destroy(ms_column_builder *b); /* NULL is allowed */
ms_status ms_builder_append_null(ms_column_builder *b);
ms_status ms_builder_append_bool(ms_column_builder *b, bool v);
ms_status ms_builder_append_i64(ms_column_builder *b, int64_t v); /* any integer, date32, timestamp */
ms_status ms_builder_append_u64(ms_column_builder *b, uint64_t v);
ms_status ms_builder_append_f64(ms_column_builder *b, double v);  /* float32 or float64 */
/* utf8/binary/large/fixed_binary (len must equal byte_width) and decimal128 (16 bytes). */
ms_status ms_builder_append_bytes(ms_column_builder *b, const void *data, int64_t len);
/* Appends row `row` of `src` (same type). */
ms_status ms_builder_append_from(ms_column_builder *b, const ms_column *src, int64_t row);
int64_t ms_builder_length(const ms_column_builder *b);
/* Finishes the column and resets the builder to empty (it can be reused). */
ms_status ms_builder_finish(ms_column_builder *b, ms_column **out, ms_error *err);

/* ---- tables ---- */
/* Takes new references to the columns (the caller keeps its own). Fields are copied. All
 * columns must have the same length and the field's type. */
ms_status ms_table_create(const ms_field *fields, ms_column *const *columns, int n_columns,
                          ms_table **out, ms_error *err);
ms_table *ms_table_retain(ms_table *t);
void ms_table_release(ms_table *t);
int ms_table_num_columns(const ms_table *t);
int64_t ms_table_num_rows(const ms_table *t);
const ms_field *ms_table_field(const ms_table *t, int i);
ms_column *ms_table_column(const ms_table *t, int i); /* borrowed */
int ms_table_find_column(const ms_table *t, const char *name); /* -1 when absent */
/* Row-wise kernels applied to every column. */
ms_status ms_table_slice(const ms_table *t, int64_t offset, int64_t length, ms_table **out,
                         ms_error *err);
ms_status ms_table_filter(const ms_table *t, const uint8_t *mask, ms_table **out, ms_error *err);
ms_status ms_table_take(const ms_table *t, const int64_t *indices, int64_t n, ms_table **out,
                        ms_error *err);
/* Concatenates tables with equal schemas (names and types). */
ms_status ms_table_concat(ms_table *const *tables, int n, ms_table **out, ms_error *err);
/* A table of the named columns in the given order. */
ms_status ms_table_select(const ms_table *t, const char *const *names, int n, ms_table **out,
                          ms_error *err);

/* Field helpers: deep copy / free of the name. */
ms_status ms_field_copy(const ms_field *src, ms_field *dst);
void ms_field_reset(ms_field *f);

#ifdef __cplusplus
}
#endif
#endif
