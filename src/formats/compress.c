/* Block codecs for Parquet pages over Debian's compression libraries.
 *
 * Every decompression knows the exact output size (a Parquet page header carries it), so
 * each codec is driven in its one-shot form straight into the caller's buffer, and any
 * input that does not produce exactly dst_len bytes is MS_ERR_CORRUPT. Nothing is ever
 * written past dst + dst_len: every library call is given dst_len as its capacity.
 *
 * Per-call overhead matters (this runs once per page on the decode hot path), so the
 * expensive library contexts (zstd's DCtx/CCtx, zlib's inflate/deflate streams) are created
 * once per thread and reused; a pthread key destructor frees them when a thread exits.
 * These cached contexts are allocated by the libraries themselves rather than through
 * ms_malloc: they live as long as the thread, and counting them would make every caller's
 * "memory back to where it was" check see a leak after its first decompression.
 *
 * LZ4 comes in three shapes in the wild under the one Parquet codec id: Hadoop's framing
 * (what parquet-mr and Arrow write), a bare LZ4 block, and the LZ4 frame format. Reading
 * tries them in that order; writing emits Hadoop framing. */
#include <stddef.h> /* morsel/status.h uses size_t */

#include "formats/compress.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <limits.h>
#include <lz4.h>
#include <lz4frame.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

/* ---- names ---- */

static const char *const codec_names[] = {"uncompressed", "snappy", "gzip", "lzo",
                                          "brotli",       "lz4",    "zstd", "lz4_raw"};

const char *ms_codec_name(ms_codec codec) {
  if ((int)codec < 0 || (int)codec >= (int)(sizeof codec_names / sizeof codec_names[0]))
    return "unknown";
  return codec_names[codec];
}

bool ms_codec_parse(const char *name, ms_codec *out) {
  if (!name) return false;
  if (strcasecmp(name, "none") == 0) {
    if (out) *out = MS_CODEC_UNCOMPRESSED;
    return true;
  }
  for (int i = 0; i < (int)(sizeof codec_names / sizeof codec_names[0]); i++) {
    if (strcasecmp(name, codec_names[i]) == 0) {
      if (out) *out = (ms_codec)i;
      return true;
    }
  }
  return false;
}

/* ---- per-thread contexts ---- */

typedef struct codec_tls {
  ZSTD_DCtx *zstd_d;
  ZSTD_CCtx *zstd_c;
  z_stream inflate;
  bool inflate_ready;
  z_stream deflate;
  bool deflate_ready;
  int deflate_level;
} codec_tls;

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static bool tls_key_ok;
static _Thread_local codec_tls *tls_ctx;

static void tls_free(void *p) {
  codec_tls *t = p;
  if (!t) return;
  ZSTD_freeDCtx(t->zstd_d);
  ZSTD_freeCCtx(t->zstd_c);
  if (t->inflate_ready) inflateEnd(&t->inflate);
  if (t->deflate_ready) deflateEnd(&t->deflate);
  free(t);
}

static void tls_init_key(void) { tls_key_ok = pthread_key_create(&tls_key, tls_free) == 0; }

static codec_tls *tls_get(void) {
  if (tls_ctx) return tls_ctx;
  pthread_once(&tls_once, tls_init_key);
  codec_tls *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  if (!tls_key_ok || pthread_setspecific(tls_key, t) != 0) {
    free(t);
    return NULL;
  }
  tls_ctx = t;
  return t;
}

/* ---- helpers ---- */

static ms_status corrupt(ms_error *err, ms_codec codec, const char *what) {
  return ms_error_set(err, MS_ERR_CORRUPT, "%s decompression failed: %s", ms_codec_name(codec),
                      what);
}

static ms_status size_mismatch(ms_error *err, ms_codec codec, int64_t got, int64_t want) {
  return ms_error_set(err, MS_ERR_CORRUPT,
                      "%s decompression produced %lld bytes, page header says %lld",
                      ms_codec_name(codec), (long long)got, (long long)want);
}

static uint32_t load_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* ---- decompression ---- */

static ms_status gzip_decompress(const uint8_t *src, int64_t src_len, uint8_t *dst,
                                 int64_t dst_len, ms_error *err) {
  codec_tls *t = tls_get();
  if (!t) return ms_error_set(err, MS_ERR_NOMEM, "out of memory for a gzip context");
  z_stream *z = &t->inflate;
  if (!t->inflate_ready) {
    memset(z, 0, sizeof *z);
    /* 15 + 32: accept both gzip and zlib headers. */
    if (inflateInit2(z, 15 + 32) != Z_OK)
      return ms_error_set(err, MS_ERR_NOMEM, "cannot initialise zlib");
    t->inflate_ready = true;
  } else if (inflateReset(z) != Z_OK) {
    return ms_error_set(err, MS_ERR_INTERNAL, "cannot reset zlib");
  }
  const uint8_t *in = src;
  int64_t in_left = src_len, out_done = 0;
  uint8_t dummy;
  for (;;) {
    /* zlib's counters are 32-bit: feed at most 1 GiB at a time. */
    uInt in_chunk = (uInt)(in_left < (1 << 30) ? in_left : (1 << 30));
    uInt out_chunk = (uInt)(dst_len - out_done < (1 << 30) ? dst_len - out_done : (1 << 30));
    z->next_in = (Bytef *)in;
    z->avail_in = in_chunk;
    z->next_out = out_chunk ? dst + out_done : &dummy;
    z->avail_out = out_chunk;
    int rc = inflate(z, Z_NO_FLUSH);
    int64_t used_in = in_chunk - z->avail_in, made = out_chunk - z->avail_out;
    in += used_in;
    in_left -= used_in;
    out_done += made;
    if (rc == Z_STREAM_END) {
      /* Concatenated gzip members are legal; trailing zero padding is tolerated. */
      while (in_left > 0 && *in == 0) in++, in_left--;
      if (in_left == 0 || out_done == dst_len) break;
      if (inflateReset(z) != Z_OK) return corrupt(err, MS_CODEC_GZIP, "reset failed");
      continue;
    }
    if (rc == Z_OK) {
      if (made == 0 && used_in == 0) {
        /* No progress: output full with more to come, or input exhausted mid-stream. */
        if (out_done == dst_len) return corrupt(err, MS_CODEC_GZIP, "output larger than expected");
        return corrupt(err, MS_CODEC_GZIP, "truncated stream");
      }
      continue;
    }
    if (rc == Z_BUF_ERROR) {
      if (out_done == dst_len && in_left > 0)
        return corrupt(err, MS_CODEC_GZIP, "output larger than expected");
      return corrupt(err, MS_CODEC_GZIP, "truncated stream");
    }
    return corrupt(err, MS_CODEC_GZIP, z->msg ? z->msg : "invalid data");
  }
  if (out_done != dst_len) return size_mismatch(err, MS_CODEC_GZIP, out_done, dst_len);
  return MS_OK;
}

static ms_status zstd_decompress(const uint8_t *src, int64_t src_len, uint8_t *dst,
                                 int64_t dst_len, ms_error *err) {
  codec_tls *t = tls_get();
  if (!t) return ms_error_set(err, MS_ERR_NOMEM, "out of memory for a zstd context");
  if (!t->zstd_d && !(t->zstd_d = ZSTD_createDCtx()))
    return ms_error_set(err, MS_ERR_NOMEM, "cannot create a zstd context");
  uint8_t dummy;
  size_t r = ZSTD_decompressDCtx(t->zstd_d, dst_len ? dst : &dummy, (size_t)dst_len, src,
                                 (size_t)src_len);
  if (ZSTD_isError(r)) return corrupt(err, MS_CODEC_ZSTD, ZSTD_getErrorName(r));
  if ((int64_t)r != dst_len) return size_mismatch(err, MS_CODEC_ZSTD, (int64_t)r, dst_len);
  return MS_OK;
}

/* A bare LZ4 block; true when it decodes to exactly dst_len bytes. */
static bool lz4_block(const uint8_t *src, int64_t src_len, uint8_t *dst, int64_t dst_len) {
  if (src_len > INT_MAX || dst_len > INT_MAX) return false;
  uint8_t dummy;
  int r = LZ4_decompress_safe((const char *)src, dst_len ? (char *)dst : (char *)&dummy,
                              (int)src_len, (int)dst_len);
  return r >= 0 && r == dst_len;
}

/* Hadoop framing: frames of [BE32 raw length][BE32 compressed length][lz4 block]. */
static bool lz4_hadoop(const uint8_t *src, int64_t src_len, uint8_t *dst, int64_t dst_len) {
  int64_t in = 0, out = 0;
  if (src_len < 8) return false;
  while (src_len - in >= 8) {
    int64_t raw = load_be32(src + in), comp = load_be32(src + in + 4);
    in += 8;
    if (comp > src_len - in || raw > dst_len - out) return false;
    if (!lz4_block(src + in, comp, dst + out, raw)) return false;
    in += comp;
    out += raw;
  }
  return in == src_len && out == dst_len;
}

/* The LZ4 frame format (magic 0x184D2204), possibly several frames back to back. */
static bool lz4_frame(const uint8_t *src, int64_t src_len, uint8_t *dst, int64_t dst_len) {
  if (src_len < 4 || !(src[0] == 0x04 && src[1] == 0x22 && src[2] == 0x4D && src[3] == 0x18))
    return false;
  LZ4F_dctx *ctx;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) return false;
  size_t in = 0, out = 0;
  bool ok = false;
  for (;;) {
    size_t in_sz = (size_t)src_len - in, out_sz = (size_t)dst_len - out;
    size_t r = LZ4F_decompress(ctx, dst + out, &out_sz, src + in, &in_sz, NULL);
    if (LZ4F_isError(r)) break;
    in += in_sz;
    out += out_sz;
    if (r == 0 && in == (size_t)src_len) {
      ok = out == (size_t)dst_len;
      break;
    }
    if (in_sz == 0 && out_sz == 0) break; /* no progress: truncated or too much output */
  }
  LZ4F_freeDecompressionContext(ctx);
  return ok;
}

ms_status ms_decompress(ms_codec codec, const uint8_t *src, int64_t src_len, uint8_t *dst,
                        int64_t dst_len, ms_error *err) {
  if (src_len < 0 || dst_len < 0 || (src_len && !src) || (dst_len && !dst))
    return ms_error_set(err, MS_ERR_INVALID, "bad decompression arguments");
  /* Empty pages are sometimes stored as zero bytes whatever the codec. */
  if (src_len == 0 && dst_len == 0 && codec != MS_CODEC_LZO) return MS_OK;
  /* Never do arithmetic on NULL (empty buffers may be passed as NULL). */
  static const uint8_t empty_in[1];
  uint8_t empty_out[1];
  if (!src) src = empty_in;
  if (!dst) dst = empty_out;
  switch (codec) {
    case MS_CODEC_UNCOMPRESSED:
      if (src_len != dst_len) return size_mismatch(err, codec, src_len, dst_len);
      if (dst_len) memcpy(dst, src, (size_t)dst_len);
      return MS_OK;
    case MS_CODEC_SNAPPY: {
      size_t n;
      if (snappy_uncompressed_length((const char *)src, (size_t)src_len, &n) != SNAPPY_OK)
        return corrupt(err, codec, "bad length header");
      if ((int64_t)n != dst_len) return size_mismatch(err, codec, (int64_t)n, dst_len);
      char dummy;
      size_t out = (size_t)dst_len;
      if (snappy_uncompress((const char *)src, (size_t)src_len, dst_len ? (char *)dst : &dummy,
                            &out) != SNAPPY_OK)
        return corrupt(err, codec, "invalid data");
      if ((int64_t)out != dst_len) return size_mismatch(err, codec, (int64_t)out, dst_len);
      return MS_OK;
    }
    case MS_CODEC_GZIP:
      return gzip_decompress(src, src_len, dst, dst_len, err);
    case MS_CODEC_ZSTD:
      return zstd_decompress(src, src_len, dst, dst_len, err);
    case MS_CODEC_LZ4_RAW:
      if (!lz4_block(src, src_len, dst, dst_len))
        return corrupt(err, codec, "invalid block or wrong size");
      return MS_OK;
    case MS_CODEC_LZ4:
      if (lz4_hadoop(src, src_len, dst, dst_len) || lz4_frame(src, src_len, dst, dst_len) ||
          lz4_block(src, src_len, dst, dst_len))
        return MS_OK;
      return corrupt(err, codec,
                     "data is neither Hadoop-framed LZ4, an LZ4 frame nor a raw LZ4 block of "
                     "the expected size");
    case MS_CODEC_BROTLI: {
      size_t out = (size_t)dst_len;
      uint8_t dummy;
      BrotliDecoderResult r =
          BrotliDecoderDecompress((size_t)src_len, src, &out, dst_len ? dst : &dummy);
      if (r != BROTLI_DECODER_RESULT_SUCCESS)
        return corrupt(err, codec, "invalid, truncated or larger than expected");
      if ((int64_t)out != dst_len) return size_mismatch(err, codec, (int64_t)out, dst_len);
      return MS_OK;
    }
    case MS_CODEC_LZO:
      return ms_error_set(err, MS_ERR_UNSUPPORTED,
                          "LZO compression is not supported (no writer in use produces it; "
                          "rewrite the file with zstd or snappy)");
  }
  return ms_error_set(err, MS_ERR_UNSUPPORTED, "unknown compression codec %d", (int)codec);
}

/* ---- compression ---- */

/* Hadoop LZ4 frames are kept below this so each block's sizes fit LZ4's int API. */
#define LZ4_HADOOP_FRAME (1 << 30)

int64_t ms_compress_bound(ms_codec codec, int64_t src_len) {
  if (src_len < 0) return 0;
  switch (codec) {
    case MS_CODEC_UNCOMPRESSED: return src_len;
    case MS_CODEC_SNAPPY: return (int64_t)snappy_max_compressed_length((size_t)src_len);
    case MS_CODEC_GZIP:
      /* compressBound covers zlib's 6-byte wrapper; gzip's is 18 bytes. Also allow for the
       * 1 GiB feeding chunks (a few bytes of block overhead each). */
      return (int64_t)compressBound((uLong)src_len) + 32 + (src_len >> 30) * 16;
    case MS_CODEC_ZSTD: return (int64_t)ZSTD_compressBound((size_t)src_len);
    case MS_CODEC_LZ4_RAW:
      return src_len > LZ4_MAX_INPUT_SIZE ? 0 : LZ4_compressBound((int)src_len);
    case MS_CODEC_LZ4: {
      int64_t frames = src_len / LZ4_HADOOP_FRAME + 1;
      int64_t last = src_len % LZ4_HADOOP_FRAME;
      return (frames - 1) * (8 + LZ4_compressBound(LZ4_HADOOP_FRAME)) + 8 +
             LZ4_compressBound((int)last);
    }
    case MS_CODEC_BROTLI: return (int64_t)BrotliEncoderMaxCompressedSize((size_t)src_len);
    case MS_CODEC_LZO: return 0;
  }
  return 0;
}

static ms_status gzip_compress(int level, const uint8_t *src, int64_t src_len, uint8_t *dst,
                               int64_t dst_cap, int64_t *out_len, ms_error *err) {
  codec_tls *t = tls_get();
  if (!t) return ms_error_set(err, MS_ERR_NOMEM, "out of memory for a gzip context");
  z_stream *z = &t->deflate;
  if (t->deflate_ready && t->deflate_level != level) {
    deflateEnd(z);
    t->deflate_ready = false;
  }
  if (!t->deflate_ready) {
    memset(z, 0, sizeof *z);
    /* 15 + 16: gzip framing, which every Parquet reader expects. */
    if (deflateInit2(z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      return ms_error_set(err, MS_ERR_INVALID, "cannot initialise zlib at level %d", level);
    t->deflate_ready = true;
    t->deflate_level = level;
  } else if (deflateReset(z) != Z_OK) {
    return ms_error_set(err, MS_ERR_INTERNAL, "cannot reset zlib");
  }
  int64_t in_done = 0, out_done = 0;
  for (;;) {
    uInt in_chunk = (uInt)(src_len - in_done < (1 << 30) ? src_len - in_done : (1 << 30));
    uInt out_chunk = (uInt)(dst_cap - out_done < (1 << 30) ? dst_cap - out_done : (1 << 30));
    z->next_in = (Bytef *)(src + in_done);
    z->avail_in = in_chunk;
    z->next_out = dst + out_done;
    z->avail_out = out_chunk;
    bool last = in_done + in_chunk == src_len;
    int rc = deflate(z, last ? Z_FINISH : Z_NO_FLUSH);
    in_done += in_chunk - z->avail_in;
    out_done += out_chunk - z->avail_out;
    if (rc == Z_STREAM_END) break;
    if ((rc != Z_OK && rc != Z_BUF_ERROR) || out_done == dst_cap)
      return ms_error_set(err, MS_ERR_INVALID, "gzip output does not fit in %lld bytes",
                          (long long)dst_cap);
  }
  *out_len = out_done;
  return MS_OK;
}

ms_status ms_compress(ms_codec codec, int level, const uint8_t *src, int64_t src_len,
                      uint8_t *dst, int64_t dst_cap, int64_t *out_len, ms_error *err) {
  *out_len = 0;
  if (src_len < 0 || dst_cap < 0 || (src_len && !src) || !dst)
    return ms_error_set(err, MS_ERR_INVALID, "bad compression arguments");
  static const uint8_t empty_in[1];
  if (!src) src = empty_in;
  if (codec != MS_CODEC_LZO && (int)codec >= 0 && (int)codec <= MS_CODEC_LZ4_RAW &&
      dst_cap < ms_compress_bound(codec, src_len))
    return ms_error_set(err, MS_ERR_INVALID,
                        "%s output buffer of %lld bytes is below the bound of %lld",
                        ms_codec_name(codec), (long long)dst_cap,
                        (long long)ms_compress_bound(codec, src_len));
  switch (codec) {
    case MS_CODEC_UNCOMPRESSED:
      if (src_len) memcpy(dst, src, (size_t)src_len);
      *out_len = src_len;
      return MS_OK;
    case MS_CODEC_SNAPPY: {
      size_t out = (size_t)dst_cap;
      if (snappy_compress((const char *)src, (size_t)src_len, (char *)dst, &out) != SNAPPY_OK)
        return ms_error_set(err, MS_ERR_INTERNAL, "snappy compression failed");
      *out_len = (int64_t)out;
      return MS_OK;
    }
    case MS_CODEC_GZIP:
      return gzip_compress(level == 0 ? 6 : level, src, src_len, dst, dst_cap, out_len, err);
    case MS_CODEC_ZSTD: {
      codec_tls *t = tls_get();
      if (!t) return ms_error_set(err, MS_ERR_NOMEM, "out of memory for a zstd context");
      if (!t->zstd_c && !(t->zstd_c = ZSTD_createCCtx()))
        return ms_error_set(err, MS_ERR_NOMEM, "cannot create a zstd context");
      size_t r = ZSTD_compressCCtx(t->zstd_c, dst, (size_t)dst_cap, src, (size_t)src_len,
                                   level == 0 ? 1 : level);
      if (ZSTD_isError(r))
        return ms_error_set(err, MS_ERR_INTERNAL, "zstd compression failed: %s",
                            ZSTD_getErrorName(r));
      *out_len = (int64_t)r;
      return MS_OK;
    }
    case MS_CODEC_LZ4_RAW: {
      if (src_len > LZ4_MAX_INPUT_SIZE)
        return ms_error_set(err, MS_ERR_LIMIT, "lz4_raw input of %lld bytes is too large",
                            (long long)src_len);
      int cap = dst_cap > INT_MAX ? INT_MAX : (int)dst_cap;
      int r = LZ4_compress_default((const char *)src, (char *)dst, (int)src_len, cap);
      if (r <= 0 && src_len > 0) return ms_error_set(err, MS_ERR_INTERNAL, "lz4 compression failed");
      *out_len = r;
      return MS_OK;
    }
    case MS_CODEC_LZ4: {
      int64_t in = 0, out = 0;
      do {
        int64_t chunk = src_len - in < LZ4_HADOOP_FRAME ? src_len - in : LZ4_HADOOP_FRAME;
        int64_t room = dst_cap - out - 8;
        int cap = room > INT_MAX ? INT_MAX : (int)room;
        int r = LZ4_compress_default((const char *)src + in, (char *)dst + out + 8, (int)chunk,
                                     cap);
        if (r <= 0 && chunk > 0) return ms_error_set(err, MS_ERR_INTERNAL, "lz4 compression failed");
        store_be32(dst + out, (uint32_t)chunk);
        store_be32(dst + out + 4, (uint32_t)r);
        in += chunk;
        out += 8 + r;
      } while (in < src_len);
      *out_len = out;
      return MS_OK;
    }
    case MS_CODEC_BROTLI: {
      size_t out = (size_t)dst_cap;
      if (!BrotliEncoderCompress(level == 0 ? 1 : level, BROTLI_DEFAULT_WINDOW,
                                 BROTLI_MODE_GENERIC, (size_t)src_len, src, &out, dst))
        return ms_error_set(err, MS_ERR_INTERNAL, "brotli compression failed");
      *out_len = (int64_t)out;
      return MS_OK;
    }
    case MS_CODEC_LZO:
      return ms_error_set(err, MS_ERR_UNSUPPORTED, "LZO compression is not supported");
  }
  return ms_error_set(err, MS_ERR_UNSUPPORTED, "unknown compression codec %d", (int)codec);
}
