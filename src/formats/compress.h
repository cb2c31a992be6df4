/* Block compression and decompression for every codec Parquet uses (zstd, snappy, gzip,
 * lz4 raw and Hadoop-framed, brotli), over Debian's libraries. Decompression is given the
 * exact expected output size (Parquet page headers carry it) and fails with
 * MS_ERR_CORRUPT, never overruns, when the input does not produce exactly that many bytes. */
#ifndef MS_FORMATS_COMPRESS_H
#define MS_FORMATS_COMPRESS_H

#include <stdint.h>

#include "morsel/compression.h"
#include "morsel/status.h"

/* Decompresses src into dst, which must receive exactly dst_len bytes. */
ms_status ms_decompress(ms_codec codec, const uint8_t *src, int64_t src_len, uint8_t *dst,
                        int64_t dst_len, ms_error *err);

/* Upper bound of the compressed size of src_len bytes. */
int64_t ms_compress_bound(ms_codec codec, int64_t src_len);

/* Compresses src into dst (capacity dst_cap >= ms_compress_bound); level 0 = the codec's
 * default (zstd 1, gzip 6, brotli 1). */
ms_status ms_compress(ms_codec codec, int level, const uint8_t *src, int64_t src_len,
                      uint8_t *dst, int64_t dst_cap, int64_t *out_len, ms_error *err);

#endif
