/* Parquet reader tests on files assembled here page by page, for what DuckDB does not
 * write: INT96, FLOAT16, decimals in BYTE_ARRAY, legacy converted types, BIT_PACKED
 * definition levels, RLE booleans, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT on fixed-size and
 * integer columns, data page v2 with is_compressed = false in a zstd chunk, required
 * columns, and pruning with legacy statistics. Footers and page headers are encoded with
 * pq_metadata_write.c and values with pq_encoding.c (both tested on their own); the
 * expected values are written out by hand. */
#include <math.h>
#include <string.h>

#include "columnar/column.h"
#include "formats/compress.h"
#include "formats/parquet/pq_encoding.h"
#include "formats/parquet/pq_metadata.h"
#include "morsel/alloc.h"
#include "morsel/parquet.h"
#include "ms_test.h"

#define N 8
#define NULL_ROW 3 /* the null row of every optional column */

/* ---------------- a tiny file builder ---------------- */

typedef struct sb {
  ms_buffer *f;
  ms_pq_schema_element schema[32];
  int n_schema;
  ms_pq_column_chunk chunks[2][32];
  int n_chunks[2];
  int rg;
  int64_t rg_rows[2];
  int64_t chunk_start;
  bool first_data;
} sb;

static void sb_init(sb *b) {
  memset(b, 0, sizeof *b);
  b->f = ms_buffer_create(1 << 16);
  ms_buffer_append(b->f, "PAR1", 4);
  b->schema[0].name = "schema";
  b->schema[0].converted_type = MS_PQ_CT_NONE;
  b->n_schema = 1;
  b->rg_rows[0] = N;
}

static ms_pq_schema_element *sb_leaf(sb *b, const char *name, ms_pq_physical_type t, bool optional) {
  ms_pq_schema_element *e = &b->schema[b->n_schema++];
  e->name = (char *)name;
  e->has_type = true;
  e->type = t;
  e->has_repetition = true;
  e->repetition = optional ? MS_PQ_OPTIONAL : MS_PQ_REQUIRED;
  e->converted_type = MS_PQ_CT_NONE;
  b->schema[0].num_children++;
  return e;
}

static ms_pq_column_chunk *sb_chunk(sb *b, const char *name, ms_pq_physical_type t, ms_codec codec) {
  ms_pq_column_chunk *c = &b->chunks[b->rg][b->n_chunks[b->rg]++];
  c->has_meta_data = true;
  ms_pq_column_meta *m = &c->meta_data;
  m->type = t;
  m->codec = codec;
  m->n_path = 1;
  m->path_in_schema = ms_malloc(sizeof(char *));
  m->path_in_schema[0] = (char *)name;
  static ms_pq_encoding enc[1] = {MS_PQ_ENC_PLAIN};
  m->encodings = enc;
  m->n_encodings = 1;
  m->num_values = b->rg_rows[b->rg];
  b->chunk_start = b->f->size;
  b->first_data = true;
  return c;
}

static void sb_page(sb *b, ms_pq_column_chunk *c, ms_pq_page_header *h, const void *body, int64_t len) {
  int64_t at = b->f->size;
  if (h->type == MS_PQ_PAGE_DICTIONARY) {
    c->meta_data.has_dictionary_page_offset = true;
    c->meta_data.dictionary_page_offset = at;
  } else if (b->first_data) {
    c->meta_data.data_page_offset = at;
    b->first_data = false;
  }
  ms_pq_page_header_encode(h, b->f);
  int64_t hl = b->f->size - at;
  ms_buffer_append(b->f, body, len);
  c->meta_data.total_compressed_size = b->f->size - b->chunk_start;
  c->meta_data.total_uncompressed_size += hl + h->uncompressed_page_size;
}

static ms_buffer *sb_finish(sb *b) {
  ms_pq_metadata md;
  memset(&md, 0, sizeof md);
  md.version = 1;
  md.n_schema = b->n_schema;
  md.schema = b->schema;
  ms_pq_row_group rgs[2];
  memset(rgs, 0, sizeof rgs);
  md.n_row_groups = b->rg + 1;
  for (int g = 0; g <= b->rg; g++) {
    rgs[g].n_columns = b->n_chunks[g];
    rgs[g].columns = b->chunks[g];
    rgs[g].num_rows = b->rg_rows[g];
    md.num_rows += b->rg_rows[g];
  }
  md.row_groups = rgs;
  md.created_by = "morsel synthetic test";
  int64_t at = b->f->size;
  ms_pq_metadata_encode(&md, b->f);
  uint32_t fl = (uint32_t)(b->f->size - at);
  ms_buffer_append(b->f, &fl, 4);
  ms_buffer_append(b->f, "PAR1", 4);
  for (int g = 0; g <= b->rg; g++)
    for (int i = 0; i < b->n_chunks[g]; i++) ms_free(b->chunks[g][i].meta_data.path_in_schema);
  return b->f;
}

/* A v1 data page, uncompressed. levels: NULL for required columns; bit_packed selects the
 * legacy level encoding. */
static void sb_v1(sb *b, ms_pq_column_chunk *c, ms_pq_encoding enc, const uint8_t *valid, bool bit_packed,
                  const void *values, int64_t vlen) {
  ms_buffer *body = ms_buffer_create(256);
  if (valid) {
    if (bit_packed) {
      uint8_t bits[(N + 7) / 8] = {0};
      for (int i = 0; i < N; i++) if (valid[i]) bits[i / 8] |= (uint8_t)(0x80 >> (i % 8));
      ms_buffer_append(body, bits, sizeof bits);
    } else {
      uint32_t lv[N];
      for (int i = 0; i < N; i++) lv[i] = valid[i];
      ms_buffer *rle = ms_buffer_create(64);
      ms_pq_rle_encode(lv, N, 1, rle);
      uint32_t l = (uint32_t)rle->size;
      ms_buffer_append(body, &l, 4);
      ms_buffer_append(body, rle->data, rle->size);
      ms_buffer_release(rle);
    }
  }
  ms_buffer_append(body, values, vlen);
  ms_pq_page_header h;
  memset(&h, 0, sizeof h);
  h.type = MS_PQ_PAGE_DATA;
  h.uncompressed_page_size = h.compressed_page_size = (int32_t)body->size;
  h.has_data_page_header = true;
  h.data_page_header.num_values = N;
  h.data_page_header.encoding = enc;
  h.data_page_header.definition_level_encoding = bit_packed ? MS_PQ_ENC_BIT_PACKED : MS_PQ_ENC_RLE;
  h.data_page_header.repetition_level_encoding = MS_PQ_ENC_RLE;
  sb_page(b, c, &h, body->data, body->size);
  ms_buffer_release(body);
}

static const uint8_t opt_valid[N] = {1, 1, 1, 0, 1, 1, 1, 1};

static ms_buffer *plain_bytes(const char *const *v, int n, const int *lens) {
  ms_buffer *o = ms_buffer_create(256);
  for (int i = 0; i < n; i++) {
    uint32_t l = lens ? (uint32_t)lens[i] : (uint32_t)strlen(v[i]);
    ms_buffer_append(o, &l, 4);
    ms_buffer_append(o, v[i], l);
  }
  return o;
}

/* ---------------- the "types" file ---------------- */

static const int64_t int96_expect[7] = {
    0, 1, -1, INT64_C(86400000000000) + 5, INT64_C(946728000) * 1000000000, -INT64_C(588) * 86400000000000,
    INT64_C(20000) * 86400000000000 + 123};

static ms_buffer *build_types_file(void) {
  sb b;
  sb_init(&b);
  ms_pq_column_chunk *c;
  /* int96: (nanos of day, Julian day) */
  sb_leaf(&b, "int96", MS_PQ_INT96, true);
  c = sb_chunk(&b, "int96", MS_PQ_INT96, MS_CODEC_UNCOMPRESSED);
  {
    static const struct { int64_t ns; int32_t day; } v[7] = {
        {0, 2440588}, {1, 2440588}, {INT64_C(86399999999999), 2440587}, {5, 2440589},
        {INT64_C(43200000000000), 2451545}, {0, 2440000}, {123, 2460588}};
    uint8_t raw[7 * 12];
    for (int i = 0; i < 7; i++) { memcpy(raw + 12 * i, &v[i].ns, 8); memcpy(raw + 12 * i + 8, &v[i].day, 4); }
    sb_v1(&b, c, MS_PQ_ENC_PLAIN, opt_valid, false, raw, sizeof raw);
  }
  /* f16: required FLOAT16 */
  ms_pq_schema_element *e = sb_leaf(&b, "f16", MS_PQ_FIXED_LEN_BYTE_ARRAY, false);
  e->type_length = 2;
  e->logical.kind = MS_PQ_LT_FLOAT16;
  c = sb_chunk(&b, "f16", MS_PQ_FIXED_LEN_BYTE_ARRAY, MS_CODEC_UNCOMPRESSED);
  {
    static const uint16_t h[N] = {0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00, 0x8000, 0x7bff, 0x0400};
    sb_v1(&b, c, MS_PQ_ENC_PLAIN, NULL, false, h, sizeof h);
  }
  /* bdec: BYTE_ARRAY decimal(30, 2) through the legacy converted type */
  e = sb_leaf(&b, "bdec", MS_PQ_BYTE_ARRAY, true);
  e->converted_type = MS_PQ_CT_DECIMAL;
  e->precision = 30;
  e->scale = 2;
  c = sb_chunk(&b, "bdec", MS_PQ_BYTE_ARRAY, MS_CODEC_UNCOMPRESSED);
  {
    static const char *v[7] = {"\x01", "\xff", "\x00\x80", "", "\x80\0\0\0\0\0\0\0\0",
                               "\x7f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "\xfe\xdc"};
    static const int lens[7] = {1, 1, 2, 0, 9, 16, 2};
    ms_buffer *p = plain_bytes(v, 7, lens);
    sb_v1(&b, c, MS_PQ_ENC_PLAIN, opt_valid, false, p->data, p->size);
    ms_buffer_release(p);
  }
  /* i8: INT_8 via DELTA_BINARY_PACKED, required */
  e = sb_leaf(&b, "i8", MS_PQ_INT32, false);
  e->converted_type = MS_PQ_CT_INT_8;
  c = sb_chunk(&b, "i8", MS_PQ_INT32, MS_CODEC_UNCOMPRESSED);
  {
    static const int32_t v[N] = {-128, 127, 0, -1, 5, -5, 100, -100};
    ms_buffer *p = ms_buffer_create(64);
    ms_pq_delta_encode(v, 4, N, p);
    sb_v1(&b, c, MS_PQ_ENC_DELTA_BINARY_PACKED, NULL, false, p->data, p->size);
    ms_buffer_release(p);
  }
  /* u32: UINT_32 */
  e = sb_leaf(&b, "u32", MS_PQ_INT32, false);
  e->converted_type = MS_PQ_CT_UINT_32;
  c = sb_chunk(&b, "u32", MS_PQ_INT32, MS_CODEC_UNCOMPRESSED);
  {
    static const uint32_t v[N] = {0, 1, 0xffffffffu, 0x80000000u, 7, 8, 9, 10};
    sb_v1(&b, c, MS_PQ_ENC_PLAIN, NULL, false, v, sizeof v);
  }
  /* tsl: legacy TIMESTAMP_MILLIS -> timestamp[ms, UTC] */
  e = sb_leaf(&b, "tsl", MS_PQ_INT64, false);
  e->converted_type = MS_PQ_CT_TIMESTAMP_MILLIS;
  c = sb_chunk(&b, "tsl", MS_PQ_INT64, MS_CODEC_UNCOMPRESSED);
  {
    int64_t v[N];
    for (int i = 0; i < N; i++) v[i] = i * 1000 - 3;
    sb_v1(&b, c, MS_PQ_ENC_PLAIN, NULL, false, v, sizeof v);
  }
  /* bo: RLE booleans with BIT_PACKED definition levels */
  sb_leaf(&b, "bo", MS_PQ_BOOLEAN, true);
  c = sb_chunk(&b, "bo", MS_PQ_BOOLEAN, MS_CODEC_UNCOMPRESSED);
  {
    static const uint32_t v[7] = {1, 0, 1, 1, 1, 0, 0}; /* rows 0,1,2,4,5,6,7 */
    ms_buffer *rle = ms_buffer_create(64);
    ms_pq_rle_encode(v, 7, 1, rle);
    ms_buffer *p = ms_buffer_create(64);
    uint32_t l = (uint32_t)rle->size;
    ms_buffer_append(p, &l, 4);
    ms_buffer_append(p, rle->data, rle->size);
    sb_v1(&b, c, MS_PQ_ENC_RLE, opt_valid, true, p->data, p->size);
    ms_buffer_release(rle);
    ms_buffer_release(p);
  }
  /* dba: DELTA_BYTE_ARRAY strings */
  e = sb_leaf(&b, "dba", MS_PQ_BYTE_ARRAY, true);
  e->logical.kind = MS_PQ_LT_STRING;
  c = sb_chunk(&b, "dba", MS_PQ_BYTE_ARRAY, MS_CODEC_UNCOMPRESSED);
  {
    static const int32_t prefix[7] = {0, 4, 2, 0, 3, 4, 0};
    static const char *suffix = "appleyebananadana";
    static const int64_t soff[8] = {0, 5, 6, 7, 13, 14, 17, 17};
    ms_buffer *p = ms_buffer_create(128);
    ms_pq_delta_encode(prefix, 4, 7, p);
    ms_pq_delta_length_encode((const uint8_t *)suffix, soff, 7, p);
    sb_v1(&b, c, MS_PQ_ENC_DELTA_BYTE_ARRAY, opt_valid, false, p->data, p->size);
    ms_buffer_release(p);
  }
  /* bss3: FIXED_LEN_BYTE_ARRAY(3) with BYTE_STREAM_SPLIT */
  e = sb_leaf(&b, "bss3", MS_PQ_FIXED_LEN_BYTE_ARRAY, false);
  e->type_length = 3;
  c = sb_chunk(&b, "bss3", MS_PQ_FIXED_LEN_BYTE_ARRAY, MS_CODEC_UNCOMPRESSED);
  {
    uint8_t raw[N * 3], split[N * 3];
    for (int i = 0; i < N; i++) for (int k = 0; k < 3; k++) raw[i * 3 + k] = (uint8_t)(i * 10 + k);
    ms_pq_bss_encode(raw, 3, N, split);
    sb_v1(&b, c, MS_PQ_ENC_BYTE_STREAM_SPLIT, NULL, false, split, sizeof split);
  }
  /* bssi: INT32 with BYTE_STREAM_SPLIT */
  sb_leaf(&b, "bssi", MS_PQ_INT32, false);
  c = sb_chunk(&b, "bssi", MS_PQ_INT32, MS_CODEC_UNCOMPRESSED);
  {
    int32_t v[N];
    uint8_t split[N * 4];
    for (int i = 0; i < N; i++) v[i] = i * 1000003 - 5;
    ms_pq_bss_encode((const uint8_t *)v, 4, N, split);
    sb_v1(&b, c, MS_PQ_ENC_BYTE_STREAM_SPLIT, NULL, false, split, sizeof split);
  }
  /* js / bs / en: JSON -> utf8, BSON -> binary, legacy ENUM -> utf8 */
  static const char *words[N] = {"a", "bb", "{}", "[1]", "x", "yy", "zzz", ""};
  const char *names3[3] = {"js", "bs", "en"};
  for (int k = 0; k < 3; k++) {
    e = sb_leaf(&b, names3[k], MS_PQ_BYTE_ARRAY, false);
    if (k == 0) e->logical.kind = MS_PQ_LT_JSON;
    else if (k == 1) e->logical.kind = MS_PQ_LT_BSON;
    else e->converted_type = MS_PQ_CT_ENUM;
    c = sb_chunk(&b, names3[k], MS_PQ_BYTE_ARRAY, MS_CODEC_UNCOMPRESSED);
    ms_buffer *p = plain_bytes(words, N, NULL);
    sb_v1(&b, c, MS_PQ_ENC_PLAIN, NULL, false, p->data, p->size);
    ms_buffer_release(p);
  }
  /* tm: TIME(millis) on INT32 stays int32; i16: INTEGER(16, signed); u64: INTEGER(64, unsigned) */
  e = sb_leaf(&b, "tm", MS_PQ_INT32, false);
  e->logical.kind = MS_PQ_LT_TIME;
  e->logical.unit = MS_PQ_TU_MILLIS;
  c = sb_chunk(&b, "tm", MS_PQ_INT32, MS_CODEC_UNCOMPRESSED);
  {
    int32_t v[N];
    for (int i = 0; i < N; i++) v[i] = i * 3600000;
    sb_v1(&b, c, MS_PQ_ENC_PLAIN, NULL, false, v, sizeof v);
  }
  e = sb_leaf(&b, "i16", MS_PQ_INT32, false);
  e->logical.kind = MS_PQ_LT_INTEGER;
  e->logical.int_bit_width = 16;
  e->logical.int_is_signed = true;
  c = sb_chunk(&b, "i16", MS_PQ_INT32, MS_CODEC_UNCOMPRESSED);
  {
    static const int32_t v[N] = {-32768, 32767, 0, -1, 1, 2, 3, 4};
    sb_v1(&b, c, MS_PQ_ENC_PLAIN, NULL, false, v, sizeof v);
  }
  e = sb_leaf(&b, "u64", MS_PQ_INT64, true);
  e->logical.kind = MS_PQ_LT_INTEGER;
  e->logical.int_bit_width = 64;
  e->logical.int_is_signed = false;
  c = sb_chunk(&b, "u64", MS_PQ_INT64, MS_CODEC_UNCOMPRESSED);
  {
    uint64_t v[7];
    for (int i = 0; i < 7; i++) v[i] = UINT64_MAX - (uint64_t)i;
    sb_v1(&b, c, MS_PQ_ENC_PLAIN, opt_valid, false, v, sizeof v);
  }
  /* dict: zstd chunk, compressed dictionary page, v2 data page with is_compressed=false */
  sb_leaf(&b, "dict", MS_PQ_INT64, false);
  c = sb_chunk(&b, "dict", MS_PQ_INT64, MS_CODEC_ZSTD);
  {
    static const int64_t dv[3] = {10, 20, 30};
    uint8_t z[256];
    int64_t zl;
    ms_compress(MS_CODEC_ZSTD, 0, (const uint8_t *)dv, sizeof dv, z, sizeof z, &zl, NULL);
    ms_pq_page_header h;
    memset(&h, 0, sizeof h);
    h.type = MS_PQ_PAGE_DICTIONARY;
    h.uncompressed_page_size = sizeof dv;
    h.compressed_page_size = (int32_t)zl;
    h.has_dictionary_page_header = true;
    h.dictionary_page_header.num_values = 3;
    h.dictionary_page_header.encoding = MS_PQ_ENC_PLAIN;
    sb_page(&b, c, &h, z, zl);
    static const uint32_t ix[N] = {2, 1, 0, 0, 1, 2, 2, 1};
    ms_buffer *p = ms_buffer_create(64);
    uint8_t bw = 2;
    ms_buffer_append(p, &bw, 1);
    ms_pq_rle_encode(ix, N, 2, p);
    memset(&h, 0, sizeof h);
    h.type = MS_PQ_PAGE_DATA_V2;
    h.uncompressed_page_size = h.compressed_page_size = (int32_t)p->size;
    h.has_data_page_header_v2 = true;
    h.data_page_header_v2.num_values = N;
    h.data_page_header_v2.num_rows = N;
    h.data_page_header_v2.encoding = MS_PQ_ENC_RLE_DICTIONARY;
    h.data_page_header_v2.is_compressed = false;
    sb_page(&b, c, &h, p->data, p->size);
    ms_buffer_release(p);
  }
  /* zd: zstd v2 PLAIN pages, required (decompressed straight into the column), 2 pages */
  sb_leaf(&b, "zd", MS_PQ_INT64, false);
  c = sb_chunk(&b, "zd", MS_PQ_INT64, MS_CODEC_ZSTD);
  for (int pg = 0; pg < 2; pg++) {
    int64_t v[N / 2];
    for (int i = 0; i < N / 2; i++) v[i] = (int64_t)(pg * N / 2 + i) * (pg * N / 2 + i);
    uint8_t z[256];
    int64_t zl;
    ms_compress(MS_CODEC_ZSTD, 0, (const uint8_t *)v, sizeof v, z, sizeof z, &zl, NULL);
    ms_pq_page_header h;
    memset(&h, 0, sizeof h);
    h.type = MS_PQ_PAGE_DATA_V2;
    h.uncompressed_page_size = sizeof v;
    h.compressed_page_size = (int32_t)zl;
    h.has_data_page_header_v2 = true;
    h.data_page_header_v2.num_values = N / 2;
    h.data_page_header_v2.num_rows = N / 2;
    h.data_page_header_v2.encoding = MS_PQ_ENC_PLAIN;
    h.data_page_header_v2.is_compressed = true;
    sb_page(&b, c, &h, z, zl);
  }
  return sb_finish(&b);
}

static int find(const ms_table *t, const char *name) { return ms_table_find_column(t, name); }

static void test_types_file(void) {
  ms_buffer *file = build_types_file();
  ms_error err;
  ms_error_init(&err);
  ms_table *t;
  CHECK_OK(ms_pq_read_buffer(file->data, file->size, "synth.parquet", NULL, &t, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), N);
  struct { const char *name, *type; } types[] = {
      {"int96", "timestamp[ns]"}, {"f16", "float32"}, {"bdec", "decimal128(30, 2)"}, {"i8", "int8"},
      {"u32", "uint32"}, {"tsl", "timestamp[ms, tz=UTC]"}, {"bo", "bool"}, {"dba", "utf8"},
      {"bss3", "fixed_binary(3)"}, {"bssi", "int32"}, {"js", "utf8"}, {"bs", "binary"}, {"en", "utf8"},
      {"tm", "int32"}, {"i16", "int16"}, {"u64", "uint64"}, {"dict", "int64"}, {"zd", "int64"}};
  CHECK_EQ_INT(ms_table_num_columns(t), (int)(sizeof types / sizeof types[0]));
  for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
    char buf[64];
    int ci = find(t, types[k].name);
    CHECK_MSG(ci == (int)k, "%s", types[k].name);
    CHECK_STR(ms_type_to_string(&ms_table_field(t, ci)->type, buf, sizeof buf), types[k].type);
  }
  const ms_column *c;
  /* optional columns: row 3 null; value index j skips it */
  for (int i = 0, j = 0; i < N; i++) {
    bool valid = opt_valid[i];
    c = ms_table_column(t, find(t, "int96"));
    CHECK_EQ_INT(ms_column_is_null(c, i), !valid);
    if (valid) CHECK_EQ_INT(ms_column_get_i64(c, i), int96_expect[j]);
    c = ms_table_column(t, find(t, "bdec"));
    CHECK_EQ_INT(ms_column_is_null(c, i), !valid);
    if (valid) {
      static __int128 ex[7];
      ex[0] = 1; ex[1] = -1; ex[2] = 128; ex[3] = 0; ex[4] = -((__int128)1 << 71);
      ex[5] = (__int128)(((unsigned __int128)1 << 127) - 1); ex[6] = -292;
      int64_t len;
      __int128 v;
      memcpy(&v, ms_column_get_bytes(c, i, &len), 16);
      CHECK_MSG(v == ex[j], "bdec row %d", i);
    }
    c = ms_table_column(t, find(t, "bo"));
    CHECK_EQ_INT(ms_column_is_null(c, i), !valid);
    static const bool bo[7] = {1, 0, 1, 1, 1, 0, 0};
    if (valid) CHECK_EQ_INT(ms_column_get_bool(c, i), bo[j]);
    c = ms_table_column(t, find(t, "dba"));
    static const char *dba[7] = {"apple", "apply", "ape", "banana", "band", "bandana", ""};
    CHECK_EQ_INT(ms_column_is_null(c, i), !valid);
    if (valid) {
      int64_t len;
      const uint8_t *p = ms_column_get_bytes(c, i, &len);
      CHECK_MSG(len == (int64_t)strlen(dba[j]) && memcmp(p, dba[j], (size_t)len) == 0, "dba row %d", i);
    }
    c = ms_table_column(t, find(t, "u64"));
    if (valid) CHECK(ms_column_get_u64(c, i) == UINT64_MAX - (uint64_t)j);
    if (valid) j++;
  }
  static const float f16[N] = {1.0f, -2.0f, 0.333251953125f, 5.9604644775390625e-8f, INFINITY, -0.0f, 65504.0f, 6.103515625e-05f};
  static const int32_t i8[N] = {-128, 127, 0, -1, 5, -5, 100, -100};
  static const uint32_t u32[N] = {0, 1, 0xffffffffu, 0x80000000u, 7, 8, 9, 10};
  static const int32_t i16[N] = {-32768, 32767, 0, -1, 1, 2, 3, 4};
  static const int64_t dict[N] = {30, 20, 10, 10, 20, 30, 30, 20};
  static const char *words[N] = {"a", "bb", "{}", "[1]", "x", "yy", "zzz", ""};
  for (int i = 0; i < N; i++) {
    c = ms_table_column(t, find(t, "f16"));
    double f = ms_column_get_f64(c, i);
    CHECK_MSG(f == f16[i] && !signbit(f) == !signbit(f16[i]), "f16 row %d: %g", i, f);
    CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, find(t, "i8")), i), i8[i]);
    CHECK_EQ_INT(ms_column_get_u64(ms_table_column(t, find(t, "u32")), i), u32[i]);
    CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, find(t, "tsl")), i), i * 1000 - 3);
    int64_t len;
    const uint8_t *p = ms_column_get_bytes(ms_table_column(t, find(t, "bss3")), i, &len);
    CHECK(len == 3 && p[0] == i * 10 && p[1] == i * 10 + 1 && p[2] == i * 10 + 2);
    CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, find(t, "bssi")), i), i * 1000003 - 5);
    const char *wn[3] = {"js", "bs", "en"};
    for (int k = 0; k < 3; k++) {
      p = ms_column_get_bytes(ms_table_column(t, find(t, wn[k])), i, &len);
      CHECK(len == (int64_t)strlen(words[i]) && memcmp(p, words[i], (size_t)len) == 0);
    }
    CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, find(t, "tm")), i), i * 3600000);
    CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, find(t, "i16")), i), i16[i]);
    CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, find(t, "dict")), i), dict[i]);
    CHECK_EQ_INT(ms_column_get_i64(ms_table_column(t, find(t, "zd")), i), (int64_t)i * i);
  }
  CHECK(!ms_table_field(t, find(t, "f16"))->nullable);
  CHECK(ms_table_field(t, find(t, "int96"))->nullable);
  ms_table_release(t);
  /* Every truncation and a sweep of byte flips fail cleanly or decode. */
  uint8_t *copy = ms_malloc((size_t)file->size);
  for (int64_t n = 0; n < file->size; n++) {
    memcpy(copy, file->data, (size_t)n);
    CHECK(ms_pq_read_buffer(copy, n, "t", NULL, &t, NULL) != MS_OK);
  }
  for (int64_t at = 0; at < file->size; at++) {
    memcpy(copy, file->data, (size_t)file->size);
    copy[at] ^= (uint8_t)(0x81 + at % 7);
    if (ms_pq_read_buffer(copy, file->size, "t", NULL, &t, NULL) == MS_OK) ms_table_release(t);
  }
  ms_free(copy);
  ms_buffer_release(file);
}

/* ---------------- pruning with legacy statistics ---------------- */

static void set_stats(ms_pq_column_chunk *c, const void *mn, const void *mx, int32_t len, bool modern) {
  ms_pq_statistics *s = &c->meta_data.statistics;
  c->meta_data.has_statistics = true;
  if (modern) {
    s->has_min_value = s->has_max_value = true;
    s->min_value = (uint8_t *)mn;
    s->max_value = (uint8_t *)mx;
    s->min_value_len = s->max_value_len = len;
  } else {
    s->has_min = s->has_max = true;
    s->min = (uint8_t *)mn;
    s->max = (uint8_t *)mx;
    s->min_len = s->max_len = len;
  }
}

static ms_buffer *build_stats_file(void) {
  sb b;
  sb_init(&b);
  b.rg_rows[0] = b.rg_rows[1] = N;
  sb_leaf(&b, "a", MS_PQ_INT32, false);
  ms_pq_schema_element *e = sb_leaf(&b, "u", MS_PQ_INT32, false);
  e->converted_type = MS_PQ_CT_UINT_32;
  e = sb_leaf(&b, "s", MS_PQ_BYTE_ARRAY, false);
  e->converted_type = MS_PQ_CT_UTF8;
  e = sb_leaf(&b, "t", MS_PQ_INT64, false);
  e->logical.kind = MS_PQ_LT_TIMESTAMP;
  e->logical.unit = MS_PQ_TU_MICROS;
  static int32_t amin[2] = {0, 100}, amax[2] = {7, 107};
  static int64_t tmin[2] = {0, 1000000}, tmax[2] = {7, 1000007};
  static const char *smin[2] = {"a0", "b0"}, *smax[2] = {"a7", "b7"};
  for (int g = 0; g < 2; g++) {
    b.rg = g;
    int32_t a[N];
    int64_t tv[N];
    const char *sv[N];
    char sbuf[N][4];
    for (int i = 0; i < N; i++) {
      a[i] = amin[g] + i;
      tv[i] = tmin[g] + i;
      snprintf(sbuf[i], sizeof sbuf[i], "%c%d", 'a' + g, i);
      sv[i] = sbuf[i];
    }
    ms_pq_column_chunk *c = sb_chunk(&b, "a", MS_PQ_INT32, MS_CODEC_UNCOMPRESSED);
    sb_v1(&b, c, MS_PQ_ENC_PLAIN, NULL, false, a, sizeof a);
    set_stats(c, &amin[g], &amax[g], 4, false); /* legacy only: trusted for signed ints */
    c = sb_chunk(&b, "u", MS_PQ_INT32, MS_CODEC_UNCOMPRESSED);
    sb_v1(&b, c, MS_PQ_ENC_PLAIN, NULL, false, a, sizeof a);
    set_stats(c, &amin[g], &amax[g], 4, false); /* legacy on unsigned: not trusted */
    c = sb_chunk(&b, "s", MS_PQ_BYTE_ARRAY, MS_CODEC_UNCOMPRESSED);
    ms_buffer *p = plain_bytes(sv, N, NULL);
    sb_v1(&b, c, MS_PQ_ENC_PLAIN, NULL, false, p->data, p->size);
    ms_buffer_release(p);
    set_stats(c, smin[g], smax[g], 2, false); /* legacy on strings: not trusted */
    c = sb_chunk(&b, "t", MS_PQ_INT64, MS_CODEC_UNCOMPRESSED);
    sb_v1(&b, c, MS_PQ_ENC_PLAIN, NULL, false, tv, sizeof tv);
    set_stats(c, &tmin[g], &tmax[g], 8, true);
  }
  return sb_finish(&b);
}

static int64_t kept(ms_buffer *file, ms_range *r) {
  ms_pq_file *f = NULL;
  /* ms_pq_read_buffer has no stats output: go through a temporary file. */
  char path[1100];
  snprintf(path, sizeof path, "%s/stats.parquet", ms_test_tmpdir());
  FILE *fp = fopen(path, "wb");
  fwrite(file->data, 1, (size_t)file->size, fp);
  fclose(fp);
  ms_error err;
  ms_error_init(&err);
  if (ms_pq_open(NULL, path, &f, &err) != MS_OK) return -1;
  ms_pq_read_options o = {0};
  o.ranges = r;
  o.n_ranges = 1;
  ms_table *t;
  ms_pq_read_stats st;
  int64_t k = -1;
  if (ms_pq_read(f, &o, &t, &st, &err) == MS_OK) {
    k = st.row_groups_kept;
    if (ms_table_num_rows(t) != k * N) k = -2;
    ms_table_release(t);
  }
  ms_pq_close(f);
  return k;
}

static void test_legacy_stats_pruning(void) {
  ms_buffer *file = build_stats_file();
  ms_range r = {0};
  r.kind = MS_RANGE_INT;
  r.has_lo = true;
  r.lo_i = 50;
  r.column = "a";
  CHECK_EQ_INT(kept(file, &r), 1);
  r.column = "u";
  CHECK_EQ_INT(kept(file, &r), 2);
  r.column = "t"; /* ns bounds on a micros column: group 1 spans 1e9..1.000007e9 ns */
  r.lo_i = 1000000000;
  CHECK_EQ_INT(kept(file, &r), 1);
  r.lo_i = 1000007001;
  CHECK_EQ_INT(kept(file, &r), 0);
  ms_range rs = {0};
  rs.column = "s";
  rs.kind = MS_RANGE_STRING;
  rs.has_lo = true;
  rs.lo_s = "b";
  rs.lo_s_len = 1;
  CHECK_EQ_INT(kept(file, &rs), 2);
  ms_buffer_release(file);
}

MS_TEST_MAIN(MS_TEST(test_types_file), MS_TEST(test_legacy_stats_pruning))
