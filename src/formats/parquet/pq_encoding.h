/* Parquet value and level encodings, independent of files and pages:
 * RLE/bit-packing hybrid (levels, dictionary indices, booleans), bit unpacking,
 * DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT,
 * decoders and the encoders the writer uses.
 *
 * Decoders read untrusted bytes: they never read past `end`, never allocate from an
 * untrusted count without a bound, and report corruption through a sticky error flag or
 * an MS_ERR_CORRUPT status. */
#ifndef MS_PQ_ENCODING_H
#define MS_PQ_ENCODING_H

#include <stdbool.h>
#include <stdint.h>

#include "columnar/column.h"
#include "morsel/status.h"

/* ---- RLE / bit-packing hybrid ---- */
typedef struct ms_pq_rle_decoder {
  const uint8_t *p;
  const uint8_t *end;
  int bit_width;           /* 0..32 */
  int64_t rle_left;        /* values left in the current RLE run */
  uint32_t rle_value;
  int64_t packed_left;     /* values left in the current bit-packed run */
  const uint8_t *packed;   /* start of remaining bit-packed values (group aligned) */
  int64_t packed_index;    /* index within the current bit-packed run */
  bool error;              /* sticky: set on corrupt input; later calls return 0 */
} ms_pq_rle_decoder;

/* data/len are the encoded bytes WITHOUT any length prefix. */
void ms_pq_rle_init(ms_pq_rle_decoder *d, const uint8_t *data, int64_t len, int bit_width);
/* Decodes up to n values; returns how many were decoded (fewer only at end of input or on
 * error; check d->error). */
int64_t ms_pq_rle_get(ms_pq_rle_decoder *d, uint32_t *out, int64_t n);

/* Appends the RLE/bit-packed hybrid encoding of values (each < 2^bit_width) to out
 * (without a length prefix). */
ms_status ms_pq_rle_encode(const uint32_t *values, int64_t n, int bit_width, ms_buffer *out);

/* Unpacks n values of bit_width bits (LSB-first, as Parquet) from in (in_len bytes);
 * returns false if in is too short. */
bool ms_pq_unpack(const uint8_t *in, int64_t in_len, int bit_width, uint32_t *out, int64_t n);

/* ---- DELTA_BINARY_PACKED ---- */
/* Decodes n values into out (int32 when width == 4, int64 when width == 8). *consumed
 * receives the bytes used (DELTA_BYTE_ARRAY needs it). The header's total count must be
 * >= n. */
ms_status ms_pq_delta_decode(const uint8_t *data, int64_t len, int width, void *out, int64_t n,
                             int64_t *consumed, ms_error *err);
/* Reads only the header's total value count (to size a decode). */
ms_status ms_pq_delta_count(const uint8_t *data, int64_t len, int64_t *out_count, ms_error *err);
/* Appends the encoding of n values (int32 when width == 4, int64 when width == 8). */
ms_status ms_pq_delta_encode(const void *values, int width, int64_t n, ms_buffer *out);

/* ---- byte arrays ---- */
/* DELTA_LENGTH_BYTE_ARRAY: n values; appends bytes to data (a growable buffer) and writes
 * n + 1 int64 offsets relative to the data size at entry into offsets_out. */
ms_status ms_pq_delta_length_decode(const uint8_t *in, int64_t len, int64_t n,
                                    int64_t *offsets_out, ms_buffer *data, int64_t *consumed,
                                    ms_error *err);
/* DELTA_BYTE_ARRAY (prefix lengths, then suffixes as DELTA_LENGTH_BYTE_ARRAY). Same
 * output convention. */
ms_status ms_pq_delta_byte_array_decode(const uint8_t *in, int64_t len, int64_t n,
                                        int64_t *offsets_out, ms_buffer *data, ms_error *err);
ms_status ms_pq_delta_length_encode(const uint8_t *data, const int64_t *offsets, int64_t n,
                                    ms_buffer *out);

/* ---- BYTE_STREAM_SPLIT ---- */
/* Gathers n values of `width` bytes from width streams of n bytes each. in_len must be
 * >= n * width. */
ms_status ms_pq_bss_decode(const uint8_t *in, int64_t in_len, int width, int64_t n,
                           uint8_t *out, ms_error *err);
void ms_pq_bss_encode(const uint8_t *in, int width, int64_t n, uint8_t *out);

/* ---- helpers ---- */
/* ULEB128 varint; returns bytes consumed, 0 on truncation or overflow. */
int ms_pq_read_uvarint(const uint8_t *p, const uint8_t *end, uint64_t *out);
/* Bits needed to represent max_value (0 for 0). */
int ms_pq_bit_width(uint64_t max_value);

#endif
