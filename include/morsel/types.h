/* Logical data types of morsel columns, mirroring Arrow's.
 *
 * ms_datatype is a small value type (copy it freely). Physical layout follows Arrow:
 * bool is bit-packed; fixed-width types store values contiguously; utf8/binary use int32
 * offsets and large_utf8/large_binary int64 offsets; date32 is days since the epoch as
 * int32; timestamp is int64 in `unit` since the epoch, in UTC when `tz` is set and naive
 * (wall clock) when it is empty; decimal128 is a 16-byte little-endian two's complement
 * integer scaled by 10^-scale; fixed_binary holds byte_width bytes per value. */
#ifndef MORSEL_TYPES_H
#define MORSEL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ms_type_id {
  MS_TYPE_NULL = 0,
  MS_TYPE_BOOL = 1,
  MS_TYPE_INT8 = 2,
  MS_TYPE_INT16 = 3,
  MS_TYPE_INT32 = 4,
  MS_TYPE_INT64 = 5,
  MS_TYPE_UINT8 = 6,
  MS_TYPE_UINT16 = 7,
  MS_TYPE_UINT32 = 8,
  MS_TYPE_UINT64 = 9,
  MS_TYPE_FLOAT32 = 10,
  MS_TYPE_FLOAT64 = 11,
  MS_TYPE_UTF8 = 12,
  MS_TYPE_BINARY = 13,
  MS_TYPE_LARGE_UTF8 = 14,
  MS_TYPE_LARGE_BINARY = 15,
  MS_TYPE_DATE32 = 16,
  MS_TYPE_TIMESTAMP = 17,
  MS_TYPE_DECIMAL128 = 18,
  MS_TYPE_FIXED_BINARY = 19
} ms_type_id;

typedef enum ms_time_unit {
  MS_UNIT_SECOND = 0,
  MS_UNIT_MILLI = 1,
  MS_UNIT_MICRO = 2,
  MS_UNIT_NANO = 3
} ms_time_unit;

typedef struct ms_datatype {
  ms_type_id id;
  ms_time_unit unit;  /* timestamp only */
  int32_t precision;  /* decimal128 only */
  int32_t scale;      /* decimal128 only */
  int32_t byte_width; /* fixed_binary only */
  char tz[64];        /* timestamp only; "" = naive */
} ms_datatype;

ms_datatype ms_type(ms_type_id id);
ms_datatype ms_type_timestamp(ms_time_unit unit, const char *tz);
ms_datatype ms_type_decimal128(int32_t precision, int32_t scale);
ms_datatype ms_type_fixed_binary(int32_t byte_width);

bool ms_type_equal(const ms_datatype *a, const ms_datatype *b);
/* Bits per value in the values buffer: 1 for bool, 8*bytes for fixed width, 0 for
 * variable-length types (utf8/binary) and null. */
int ms_type_bit_width(const ms_datatype *t);
bool ms_type_is_varlen(const ms_datatype *t);      /* utf8, binary, large_* */
bool ms_type_is_large(const ms_datatype *t);       /* int64 offsets */
bool ms_type_is_integer(const ms_datatype *t);
bool ms_type_is_signed_integer(const ms_datatype *t);
bool ms_type_is_float(const ms_datatype *t);
bool ms_type_is_string(const ms_datatype *t);      /* utf8 or large_utf8 */

/* Human-readable name: "int64", "timestamp[us, tz=UTC]", "decimal128(10, 2)",
 * "fixed_binary(16)". Returns buf. */
const char *ms_type_to_string(const ms_datatype *t, char *buf, size_t buf_size);
/* Parses the names ms_type_to_string produces plus short forms ("timestamp[us]",
 * "string" = utf8, "bytes" = binary, "date" = date32, "double", "float", "int", "bool").
 * Returns false when not understood. */
bool ms_type_parse(const char *text, ms_datatype *out);

/* A closed range predicate on one column, used to prune row groups, files and partitions
 * (never to filter rows: callers filter rows themselves). Bounds are inclusive; a missing
 * bound is open. For integer, date32 (days) and bool columns use the int bounds; for
 * timestamp columns the int bounds are nanoseconds since the epoch, UTC (naive timestamps
 * are taken as UTC), whatever the column's unit; floats use the double bounds; strings and
 * binary use the byte-string bounds, compared as unsigned bytes. */
typedef enum ms_range_kind { MS_RANGE_INT = 0, MS_RANGE_FLOAT = 1, MS_RANGE_STRING = 2 } ms_range_kind;
typedef struct ms_range {
  const char *column;
  ms_range_kind kind;
  bool has_lo, has_hi;
  int64_t lo_i, hi_i;
  double lo_f, hi_f;
  const char *lo_s, *hi_s;
  int64_t lo_s_len, hi_s_len;
} ms_range;

/* Units per second for a time unit (1, 1e3, 1e6, 1e9). */
int64_t ms_time_unit_per_second(ms_time_unit unit);
const char *ms_time_unit_name(ms_time_unit unit); /* "s", "ms", "us", "ns" */

#ifdef __cplusplus
}
#endif
#endif
