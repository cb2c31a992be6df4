/* The Arrow C Data Interface at morsel's edge: export and import of columns and tables.
 *
 * The ABI structs below are the ones the Arrow specification defines
 * (https://arrow.apache.org/docs/format/CDataInterface.html and CStreamInterface.html),
 * guarded so that they can coexist with other headers (nanoarrow, arrow/c/abi.h) that
 * define them too.
 *
 * Types map one to one: null "n", bool "b", int8..int64 "c" "s" "i" "l", uint8..uint64
 * "C" "S" "I" "L", float32/64 "f" "g", utf8 "u", binary "z", large_utf8 "U",
 * large_binary "Z", date32 "tdD", timestamp "tss:" "tsm:" "tsu:" "tsn:" followed by the
 * timezone (empty = naive), decimal128 "d:p,s" (import also accepts "d:p,s,128"),
 * fixed_binary "w:N". A table travels as a struct array "+s" whose children are the
 * columns. Other Arrow types (dictionary, nested, views, date64, time, duration) are
 * refused on import with MS_ERR_UNSUPPORTED naming the format.
 *
 * Ownership.
 *  - Export is zero-copy: the exported ArrowArray points into the column's buffers and
 *    holds its own references on them, so the morsel column or table may be released
 *    before or after the consumer. The consumer calls release on the ArrowSchema and the
 *    ArrowArray exactly once each (the release callbacks free what the export allocated
 *    and drop the buffer references). On failure nothing is exported (release == NULL).
 *  - Import moves the ArrowArray: on return, success or failure, *array has been taken
 *    over (its release set to NULL) and the caller must not release it. The ArrowSchema
 *    is only read; the caller still owns and releases it. Import is zero-copy when the
 *    array's offset is 0 (and its buffers are aligned for their value width): morsel's
 *    buffers wrap the producer's memory and the producer's release callback runs when the
 *    last morsel buffer referring to it goes. For a table, each child array is moved out
 *    separately (as the specification allows), so each column keeps only its own child
 *    alive. Arrays with a non-zero offset are copied into fresh buffers and released
 *    before import returns.
 *  - Streams: ms_table_stream_export takes new references to the tables; the consumer
 *    releases the stream. ms_stream_import_table takes over the stream and releases it
 *    before returning, success or failure. */
#ifndef MORSEL_ARROW_H
#define MORSEL_ARROW_H

#include <stdint.h>

#include "morsel/status.h"
#include "morsel/table.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  /* Array type description */
  const char *format;
  const char *name;
  const char *metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema **children;
  struct ArrowSchema *dictionary;

  /* Release callback */
  void (*release)(struct ArrowSchema *);
  /* Opaque producer-specific data */
  void *private_data;
};

struct ArrowArray {
  /* Array data description */
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void **buffers;
  struct ArrowArray **children;
  struct ArrowArray *dictionary;

  /* Release callback */
  void (*release)(struct ArrowArray *);
  /* Opaque producer-specific data */
  void *private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
  /* Callbacks providing stream functionality; return 0 or an errno-compatible code. */
  int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
  /* End of stream: out->release == NULL. */
  int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
  /* Description of the last error, valid until the next call on the stream; may be NULL. */
  const char *(*get_last_error)(struct ArrowArrayStream *);

  /* Release callback */
  void (*release)(struct ArrowArrayStream *);
  /* Opaque producer-specific data */
  void *private_data;
};

#endif /* ARROW_C_STREAM_INTERFACE */

/* Exports a column. name may be NULL (exported as no name); the field is flagged
 * nullable. Either out pointer may be NULL to export only the other one. */
ms_status ms_column_export(const ms_column *col, const char *name, struct ArrowSchema *out_schema,
                           struct ArrowArray *out_array, ms_error *err);

/* Exports a table as a struct array (length = rows, no nulls) with one child per column;
 * child schemas carry the field names and nullability. Either out pointer may be NULL. */
ms_status ms_table_export(const ms_table *table, struct ArrowSchema *out_schema,
                          struct ArrowArray *out_array, ms_error *err);

/* Imports one array of the type `schema` describes into a new column (*out, released by
 * the caller). Moves *array (see Ownership above); reads schema only. */
ms_status ms_column_import(const struct ArrowSchema *schema, struct ArrowArray *array,
                           ms_column **out, ms_error *err);

/* Imports a struct array ("+s", no top-level nulls) into a table whose fields are the
 * children's names, types and nullable flags. Moves *array; reads schema only. */
ms_status ms_table_import(const struct ArrowSchema *schema, struct ArrowArray *array,
                          ms_table **out, ms_error *err);

/* A stream that yields each table as one struct-array batch, in order. All tables must
 * have the same schema (names and types); n >= 1 (pass an empty table for an empty
 * stream). The stream holds references to the tables until released. */
ms_status ms_table_stream_export(ms_table *const *tables, int n, struct ArrowArrayStream *out,
                                 ms_error *err);

/* Reads every batch of a stream of struct arrays into one table (batches concatenated;
 * a single batch stays zero-copy). Takes over the stream and releases it. */
ms_status ms_stream_import_table(struct ArrowArrayStream *stream, ms_table **out, ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
