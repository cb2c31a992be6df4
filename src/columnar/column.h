/* Internal view of columns, buffers and tables: the structs behind the opaque handles of
 * include/morsel/table.h, for decoders and kernels that fill or read buffers directly. */
#ifndef MS_COLUMNAR_COLUMN_H
#define MS_COLUMNAR_COLUMN_H

#include <stdatomic.h>

#include "morsel/alloc.h"
#include "morsel/table.h"

/* A reference-counted, 64-byte aligned byte buffer. When `release_owner` is set the memory
 * belongs to someone else (e.g. an imported ArrowArray) and is released through it. */
typedef struct ms_buffer {
  atomic_int refcount;
  uint8_t *data;
  int64_t size;     /* bytes in use */
  int64_t capacity; /* bytes allocated (0 for foreign memory) */
  void (*release_owner)(void *owner);
  void *owner;
} ms_buffer;

/* New buffer of `capacity` bytes (size 0). NULL on allocation failure. */
ms_buffer *ms_buffer_create(int64_t capacity);
/* New buffer of `size` zeroed bytes. */
ms_buffer *ms_buffer_create_zeroed(int64_t size);
/* Wraps foreign memory; release_owner(owner) is called when the last reference goes. */
ms_buffer *ms_buffer_wrap(const void *data, int64_t size, void (*release_owner)(void *),
                          void *owner);
ms_buffer *ms_buffer_retain(ms_buffer *b);
void ms_buffer_release(ms_buffer *b);
/* Grows capacity to at least `capacity` (amortised doubling); only for owned buffers. */
ms_status ms_buffer_reserve(ms_buffer *b, int64_t capacity);
ms_status ms_buffer_append(ms_buffer *b, const void *data, int64_t len);

struct ms_column {
  atomic_int refcount;
  ms_datatype type;
  int64_t length;
  int64_t null_count;
  ms_buffer *validity; /* NULL when null_count == 0 */
  ms_buffer *values;   /* fixed-width values or offsets; NULL for the null type */
  ms_buffer *data;     /* variable-length bytes; NULL otherwise */
};

/* Assembles a column from buffers, taking ownership of the references passed (even on
 * failure). null_count < 0 means "count it from the bitmap". Validates that buffers are
 * large enough and (for var-length) that offsets are monotonic and within data. */
ms_status ms_column_from_buffers(const ms_datatype *type, int64_t length, int64_t null_count,
                                 ms_buffer *validity, ms_buffer *values, ms_buffer *data,
                                 ms_column **out, ms_error *err);

struct ms_table {
  atomic_int refcount;
  int n_columns;
  int64_t n_rows;
  ms_field *fields;
  ms_column **columns;
};

/* Bitmap helpers (LSB-first, as Arrow). */
static inline bool ms_bit_get(const uint8_t *bits, int64_t i) {
  return (bits[i >> 3] >> (i & 7)) & 1;
}
static inline void ms_bit_set(uint8_t *bits, int64_t i) { bits[i >> 3] |= (uint8_t)(1u << (i & 7)); }
static inline void ms_bit_clear(uint8_t *bits, int64_t i) {
  bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
}
static inline void ms_bit_put(uint8_t *bits, int64_t i, bool v) {
  if (v) ms_bit_set(bits, i); else ms_bit_clear(bits, i);
}
static inline bool ms_column_valid(const ms_column *c, int64_t i) {
  return c->validity == NULL || ms_bit_get(c->validity->data, i);
}
/* Counts set bits in [0, n). */
int64_t ms_bitmap_count_set(const uint8_t *bits, int64_t n);
static inline int64_t ms_bitmap_bytes(int64_t n) { return (n + 7) / 8; }

#endif
