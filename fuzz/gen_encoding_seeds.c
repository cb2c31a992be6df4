/* Writes the seed corpus of fuzz_pq_encoding (fuzz/corpus/pq_encoding) with morsel's own
 * encoders and the codec libraries: one small valid input per decoder and parameter, in
 * the target's layout ([op][param][data]). Not part of the build; run from the repo root:
 *   cc -O1 -Iinclude -Isrc fuzz/gen_encoding_seeds.c build/libmorsel.a \
 *      $(pkg-config --libs libzstd snappy liblz4 zlib libbrotlienc libbrotlidec) -lpthread -lm \
 *      -o /tmp/gen && /tmp/gen fuzz/corpus/pq_encoding */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "columnar/column.h"
#include "formats/compress.h"
#include "formats/parquet/pq_encoding.h"

static const char *dir;
static int seq;

static void emit(int op, int param, const uint8_t *data, int64_t len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/seed-%02d-op%d-p%d", dir, seq++, op, param);
  FILE *f = fopen(path, "wb");
  if (!f) return;
  uint8_t hdr[2] = {(uint8_t)op, (uint8_t)param};
  fwrite(hdr, 1, 2, f);
  fwrite(data, 1, (size_t)len, f);
  fclose(f);
}

int main(int argc, char **argv) {
  dir = argc > 1 ? argv[1] : ".";
  uint32_t v[300];
  for (int w = 1; w <= 32; w += (w < 4 ? 1 : 9)) {
    for (int i = 0; i < 300; i++)
      v[i] = (i % 50 < 20 ? 3u : (uint32_t)(i * 2654435761u)) & (w == 32 ? ~0u : (1u << w) - 1);
    ms_buffer *b = ms_buffer_create(0);
    ms_pq_rle_encode(v, 300, w, b);
    emit(0, w, b->data, b->size);
    emit(1, w, b->data, b->size < 40 ? b->size : 40);
    ms_buffer_release(b);
  }
  int64_t x[300];
  for (int i = 0; i < 300; i++) x[i] = (int64_t)i * i * (i % 3 == 0 ? -7 : 5) + (i == 150 ? INT64_MIN / 2 : 0);
  int32_t y[300];
  for (int i = 0; i < 300; i++) y[i] = (int32_t)(i * 1000 - (i % 7) * 100000);
  ms_buffer *b = ms_buffer_create(0);
  ms_pq_delta_encode(y, 4, 300, b);
  emit(2, 0, b->data, b->size);
  b->size = 0;
  ms_pq_delta_encode(x, 8, 300, b);
  emit(3, 0, b->data, b->size);
  const char *words[] = {"axis", "axle", "babble", "babyhood", "", "baby", "zebra", "zebras"};
  uint8_t text[64];
  int64_t offs[9] = {0};
  for (int i = 0; i < 8; i++) {
    memcpy(text + offs[i], words[i], strlen(words[i]));
    offs[i + 1] = offs[i] + (int64_t)strlen(words[i]);
  }
  b->size = 0;
  ms_pq_delta_length_encode(text, offs, 8, b);
  emit(4, 0, b->data, b->size);
  /* DELTA_BYTE_ARRAY: prefix lengths then suffixes. */
  int32_t prefix[8] = {0, 2, 0, 3, 0, 0, 0, 5};
  const char *suffix[8] = {"axis", "le", "babble", "yhood", "", "baby", "zebra", "s"};
  int64_t soffs[9] = {0};
  for (int i = 0; i < 8; i++) {
    memcpy(text + soffs[i], suffix[i], strlen(suffix[i]));
    soffs[i + 1] = soffs[i] + (int64_t)strlen(suffix[i]);
  }
  b->size = 0;
  ms_pq_delta_encode(prefix, 4, 8, b);
  ms_pq_delta_length_encode(text, soffs, 8, b);
  emit(5, 0, b->data, b->size);
  emit(6, 3, (const uint8_t *)x, 64);
  emit(6, 7, (const uint8_t *)x, 64);
  /* Codecs: [BE16 size / 2][compressed]. */
  uint8_t raw[2000], comp[4000];
  for (int i = 0; i < 2000; i++) raw[i] = (uint8_t)("morsel parquet "[i % 15] + (i / 300));
  for (int c = 0; c <= 7; c++) {
    if (c == MS_CODEC_LZO) continue;
    int64_t n;
    comp[0] = (uint8_t)(1000 >> 8);
    comp[1] = (uint8_t)(1000 & 0xff);
    if (ms_compress((ms_codec)c, 0, raw, 2000, comp + 2, sizeof comp - 2, &n, NULL) == MS_OK)
      emit(7, c, comp, n + 2);
  }
  ms_buffer_release(b);
  return 0;
}
