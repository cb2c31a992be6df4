/* Compression codecs, numbered as Parquet's CompressionCodec enum so values can be stored
 * in file metadata as they are. */
#ifndef MORSEL_COMPRESSION_H
#define MORSEL_COMPRESSION_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ms_codec {
  MS_CODEC_UNCOMPRESSED = 0,
  MS_CODEC_SNAPPY = 1,
  MS_CODEC_GZIP = 2,
  MS_CODEC_LZO = 3, /* recognised, not supported */
  MS_CODEC_BROTLI = 4,
  MS_CODEC_LZ4 = 5, /* Hadoop framing; the raw LZ4 block form is accepted on read too */
  MS_CODEC_ZSTD = 6,
  MS_CODEC_LZ4_RAW = 7
} ms_codec;

/* "uncompressed", "snappy", "gzip", "lzo", "brotli", "lz4", "zstd", "lz4_raw". */
const char *ms_codec_name(ms_codec codec);
/* Accepts the names above case-insensitively, plus "none". */
bool ms_codec_parse(const char *name, ms_codec *out);

#ifdef __cplusplus
}
#endif
#endif
