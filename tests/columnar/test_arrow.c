/* Tests of the Arrow C Data Interface (src/columnar/arrow_c.c).
 *
 * Export is checked by an independent consumer (arrow_consumer.h) that reads the arrays by
 * the specification alone, against the values the test generated (not morsel's
 * accessors). Import is checked with hand-made producers whose release callbacks count
 * their calls: zero-copy when offset == 0, copies with non-zero offsets, bool bit offsets,
 * absent validity buffers, misaligned buffers, struct arrays with offsets, and refusals.
 * Round trips compare with ms_column_equal; streams of several batches go both ways.
 * Memory must return to its baseline (ms_mem_current) after every test. */
#include <errno.h>
#include <math.h>

#include "arrow_consumer.h"
#include "columnar/column.h"
#include "morsel/alloc.h"
#include "morsel/arrow.h"
#include "morsel/table.h"
#include "ms_test.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static int64_t rnd_range(int64_t n) { return n > 0 ? (int64_t)(rnd() % (uint64_t)n) : 0; }

/* ---- the types under test and the format strings the spec gives them ---- */
typedef struct type_case {
  ms_datatype type;
  const char *format;
} type_case;

static type_case k_cases[32];
static int n_cases;

static void init_cases(void) {
  if (n_cases) return;
  static const char *simple[] = {"n", "b", "c", "s", "i", "l", "C", "S", "I", "L", "f", "g",
                                 "u", "z", "U", "Z", "tdD"};
  for (int id = 0; id <= MS_TYPE_DATE32; id++) k_cases[n_cases++] = (type_case){ms_type((ms_type_id)id), simple[id]};
  k_cases[n_cases++] = (type_case){ms_type_timestamp(MS_UNIT_SECOND, ""), "tss:"};
  k_cases[n_cases++] = (type_case){ms_type_timestamp(MS_UNIT_MILLI, "UTC"), "tsm:UTC"};
  k_cases[n_cases++] = (type_case){ms_type_timestamp(MS_UNIT_MICRO, "America/New_York"), "tsu:America/New_York"};
  k_cases[n_cases++] = (type_case){ms_type_timestamp(MS_UNIT_NANO, "+01:00"), "tsn:+01:00"};
  k_cases[n_cases++] = (type_case){ms_type_decimal128(10, 2), "d:10,2"};
  k_cases[n_cases++] = (type_case){ms_type_decimal128(38, -3), "d:38,-3"};
  k_cases[n_cases++] = (type_case){ms_type_fixed_binary(5), "w:5"};
  k_cases[n_cases++] = (type_case){ms_type_fixed_binary(1), "w:1"};
}

/* ---- generated truth ---- */
typedef struct truth {
  bool is_null;
  int64_t i;
  uint64_t u;
  double f;
  uint8_t bytes[300];
  int64_t len;
} truth;

static truth *make_truth(const ms_datatype *t, int64_t n, int null_pct) {
  truth *v = calloc((size_t)n + 1, sizeof *v);
  int bits = ms_type_bit_width(t);
  for (int64_t r = 0; r < n; r++) {
    truth *x = &v[r];
    x->is_null = t->id == MS_TYPE_NULL || rnd_range(100) < null_pct;
    if (x->is_null) continue;
    uint64_t u = rnd();
    if (t->id == MS_TYPE_BOOL) x->i = (int64_t)(u & 1);
    else if (ms_type_is_signed_integer(t) || t->id == MS_TYPE_DATE32 || t->id == MS_TYPE_TIMESTAMP) {
      x->i = bits == 64 ? (int64_t)u : (int64_t)(u << (64 - bits)) >> (64 - bits);
    } else if (ms_type_is_integer(t)) {
      x->u = bits == 64 ? u : u & ((1ull << bits) - 1);
    } else if (t->id == MS_TYPE_FLOAT32) {
      x->f = rnd_range(10) == 0 ? NAN : (float)((double)(int64_t)u / 1e9);
    } else if (t->id == MS_TYPE_FLOAT64) {
      x->f = rnd_range(10) == 0 ? -0.0 : (double)(int64_t)u / 1e7;
    } else {
      x->len = ms_type_is_varlen(t) ? (rnd_range(8) == 0 ? 100 + rnd_range(200) : rnd_range(9))
               : t->id == MS_TYPE_DECIMAL128 ? 16 : t->byte_width;
      for (int64_t k = 0; k < x->len; k++) x->bytes[k] = (uint8_t)rnd();
    }
  }
  return v;
}

static ms_column *build(const ms_datatype *t, const truth *v, int64_t n) {
  ms_column_builder *b;
  if (ms_column_builder_create(t, n, &b, NULL)) return NULL;
  for (int64_t r = 0; r < n; r++) {
    const truth *x = &v[r];
    if (x->is_null) ms_builder_append_null(b);
    else if (t->id == MS_TYPE_BOOL) ms_builder_append_bool(b, x->i != 0);
    else if (ms_type_is_float(t)) ms_builder_append_f64(b, x->f);
    else if (ms_type_is_integer(t) && !ms_type_is_signed_integer(t)) ms_builder_append_u64(b, x->u);
    else if (x->len || ms_type_is_varlen(t) || t->id == MS_TYPE_DECIMAL128 || t->id == MS_TYPE_FIXED_BINARY)
      ms_builder_append_bytes(b, x->bytes, x->len);
    else ms_builder_append_i64(b, x->i);
  }
  ms_column *c = NULL;
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

/* Compares a consumer-decoded value with the truth. */
static bool value_matches(const ac_type *t, const ac_value *v, const truth *x) {
  if (v->is_null || x->is_null) return v->is_null == x->is_null;
  switch (t->kind) {
    case AC_BOOL: case AC_INT: case AC_DATE: case AC_TS: return v->i == x->i;
    case AC_UINT: return v->u == x->u;
    case AC_FLOAT:
      if (isnan(v->f) && isnan(x->f)) return true;
      return memcmp(&v->f, &x->f, sizeof v->f) == 0;
    case AC_BYTES: case AC_FIXED: case AC_DECIMAL:
      return v->len == x->len && (x->len == 0 || memcmp(v->bytes, x->bytes, (size_t)x->len) == 0);
    default: return false;
  }
}

/* Wraps an array's release to count calls. */
static int g_release_calls;
static void (*g_orig_release)(struct ArrowArray *);
static void counting_release(struct ArrowArray *a) {
  g_release_calls++;
  a->release = g_orig_release;
  g_orig_release(a);
}

static void test_export_every_type(void) {
  init_cases();
  static const int64_t lens[] = {0, 1, 9, 1000};
  static const int pcts[] = {0, 30, 100};
  for (int ci = 0; ci < n_cases; ci++)
    for (int li = 0; li < 4; li++)
      for (int pi = 0; pi < 3; pi++) {
        int64_t base = ms_mem_current();
        const ms_datatype *t = &k_cases[ci].type;
        int64_t n = lens[li];
        truth *v = make_truth(t, n, pcts[pi]);
        ms_column *col = build(t, v, n);
        CHECK(col);
        struct ArrowSchema s;
        struct ArrowArray a;
        ms_error err;
        ms_error_init(&err);
        CHECK_OK(ms_column_export(col, "x", &s, &a, &err), &err);
        CHECK_STR(s.format, k_cases[ci].format);
        CHECK_STR(s.name, "x");
        CHECK(s.flags & ARROW_FLAG_NULLABLE);
        CHECK_EQ_INT(s.n_children, 0);
        CHECK(s.dictionary == NULL && a.dictionary == NULL);
        CHECK_EQ_INT(a.length, n);
        ac_type at = ac_parse_format(s.format);
        CHECK(at.kind != AC_BAD);
        if (t->id == MS_TYPE_TIMESTAMP) CHECK_STR(at.tz, t->tz);
        if (t->id == MS_TYPE_DECIMAL128) { CHECK_EQ_INT(at.precision, t->precision); CHECK_EQ_INT(at.scale, t->scale); }
        const char *problem = ac_check_array(&at, &a);
        CHECK_MSG(problem == NULL, "%s: %s", k_cases[ci].format, problem);
        /* zero-copy: the values buffer is the column's */
        if (a.n_buffers >= 2 && n > 0) CHECK(a.buffers[1] == col->values->data);
        /* The array must outlive the column. */
        ms_column_release(col);
        for (int64_t r = 0; r < n; r++) {
          ac_value val = ac_get(&at, &a, r);
          CHECK_MSG(value_matches(&at, &val, &v[r]), "%s row %lld", k_cases[ci].format, (long long)r);
        }
        g_release_calls = 0;
        g_orig_release = a.release;
        a.release = counting_release;
        a.release(&a);
        CHECK_EQ_INT(g_release_calls, 1);
        CHECK(a.release == NULL);
        s.release(&s);
        CHECK(s.release == NULL);
        free(v);
        CHECK_EQ_INT(ms_mem_current(), base);
      }
}

/* A table with one column per type case (names t0, t1, ...), 200 rows, some nulls. */
static ms_table *make_table(int64_t n, truth **truths) {
  init_cases();
  ms_column *cols[32];
  ms_field fields[32];
  char names[32][16];
  for (int ci = 0; ci < n_cases; ci++) {
    truths[ci] = make_truth(&k_cases[ci].type, n, ci % 3 == 0 ? 0 : 20);
    cols[ci] = build(&k_cases[ci].type, truths[ci], n);
    snprintf(names[ci], sizeof names[ci], "t%d", ci);
    fields[ci] = (ms_field){names[ci], k_cases[ci].type, ci % 2 == 0};
  }
  ms_table *t = NULL;
  ms_table_create(fields, cols, n_cases, &t, NULL);
  for (int ci = 0; ci < n_cases; ci++) ms_column_release(cols[ci]);
  return t;
}

static void test_table_export(void) {
  int64_t base = ms_mem_current();
  truth *tr[32];
  ms_table *t = make_table(200, tr);
  CHECK(t);
  struct ArrowSchema s;
  struct ArrowArray a;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_table_export(t, &s, &a, &err), &err);
  ms_table_release(t);
  CHECK_STR(s.format, "+s");
  CHECK_EQ_INT(s.n_children, n_cases);
  CHECK_EQ_INT(a.n_children, n_cases);
  CHECK_EQ_INT(a.length, 200);
  CHECK_EQ_INT(a.n_buffers, 1);
  CHECK_EQ_INT(a.null_count, 0);
  for (int ci = 0; ci < n_cases; ci++) {
    const struct ArrowSchema *cs = s.children[ci];
    char name[16];
    snprintf(name, sizeof name, "t%d", ci);
    CHECK_STR(cs->name, name);
    CHECK_STR(cs->format, k_cases[ci].format);
    bool has_nulls = false;
    for (int r = 0; r < 200; r++) has_nulls |= tr[ci][r].is_null;
    CHECK_EQ_INT((cs->flags & ARROW_FLAG_NULLABLE) != 0, ci % 2 == 0 || has_nulls);
    ac_type at = ac_parse_format(cs->format);
    const struct ArrowArray *ca = a.children[ci];
    CHECK(ac_check_array(&at, ca) == NULL);
    CHECK_EQ_INT(ca->length, 200);
    for (int64_t r = 0; r < 200; r++) {
      ac_value v = ac_get(&at, ca, a.offset + r);
      CHECK_MSG(value_matches(&at, &v, &tr[ci][r]), "column %d row %lld", ci, (long long)r);
    }
  }
  /* Move a child out (allowed by the spec), release the parent, use the child. */
  struct ArrowArray child = *a.children[5];
  a.children[5]->release = NULL;
  a.release(&a);
  CHECK(a.release == NULL);
  ac_type at = ac_parse_format(s.children[5]->format);
  for (int64_t r = 0; r < 200; r++) {
    ac_value v = ac_get(&at, &child, r);
    CHECK(value_matches(&at, &v, &tr[5][r]));
  }
  child.release(&child);
  s.release(&s);
  for (int ci = 0; ci < n_cases; ci++) free(tr[ci]);
  CHECK_EQ_INT(ms_mem_current(), base);
}

static void test_round_trip(void) {
  init_cases();
  int64_t base = ms_mem_current();
  ms_error err;
  ms_error_init(&err);
  for (int ci = 0; ci < n_cases; ci++)
    for (int pct = 0; pct <= 100; pct += 50) {
      const ms_datatype *t = &k_cases[ci].type;
      truth *v = make_truth(t, 300, pct);
      ms_column *col = build(t, v, 300);
      struct ArrowSchema s;
      struct ArrowArray a;
      CHECK_OK(ms_column_export(col, NULL, &s, &a, &err), &err);
      CHECK(s.name == NULL);
      ms_column *back;
      CHECK_OK(ms_column_import(&s, &a, &back, &err), &err);
      CHECK(a.release == NULL); /* moved */
      CHECK(ms_type_equal(ms_column_type(back), t));
      CHECK(ms_column_equal(back, col));
      if (t->id != MS_TYPE_NULL) CHECK(back->values->data == col->values->data); /* zero-copy */
      /* release the original first: the import keeps the memory alive */
      ms_column_release(col);
      CHECK_EQ_INT(ms_column_length(back), 300);
      ms_column *again = build(t, v, 300);
      CHECK(ms_column_equal(back, again));
      ms_column_release(again);
      ms_column_release(back);
      s.release(&s);
      free(v);
    }
  truth *tr[32];
  ms_table *t = make_table(150, tr);
  struct ArrowSchema s;
  struct ArrowArray a;
  CHECK_OK(ms_table_export(t, &s, &a, &err), &err);
  ms_table *back;
  CHECK_OK(ms_table_import(&s, &a, &back, &err), &err);
  CHECK(a.release == NULL);
  CHECK_EQ_INT(ms_table_num_rows(back), 150);
  CHECK_EQ_INT(ms_table_num_columns(back), ms_table_num_columns(t));
  for (int i = 0; i < ms_table_num_columns(t); i++) {
    const ms_field *f0 = ms_table_field(t, i), *f1 = ms_table_field(back, i);
    CHECK_STR(f1->name, f0->name);
    CHECK(ms_type_equal(&f1->type, &f0->type));
    CHECK_EQ_INT(f1->nullable, f0->nullable || ms_column_null_count(ms_table_column(t, i)) > 0);
    CHECK(ms_column_equal(ms_table_column(back, i), ms_table_column(t, i)));
  }
  ms_table_release(t);
  ms_table_release(back);
  s.release(&s);
  for (int ci = 0; ci < n_cases; ci++) free(tr[ci]);
  CHECK_EQ_INT(ms_mem_current(), base);
}

/* ---- hand-made producers ---- */

typedef struct producer {
  int releases;
  void *mem[3];
  const void *ptrs[3];
  struct ArrowArray *child_ptrs[4];
  struct ArrowArray children[4];
  struct producer *child_prod[4];
} producer;

static void producer_release(struct ArrowArray *a) {
  producer *p = a->private_data;
  for (int64_t i = 0; i < a->n_children; i++)
    if (p->children[i].release) p->children[i].release(&p->children[i]);
  for (int i = 0; i < 3; i++) free(p->mem[i]);
  memset(p->mem, 0, sizeof p->mem);
  p->releases++;
  a->release = NULL;
}

/* Fills `a` with up to three buffers copied into malloc'd memory (NULL stays NULL). */
static void produce(producer *p, struct ArrowArray *a, int64_t length, int64_t offset,
                    int64_t null_count, int n_buffers, const void *b0, size_t s0,
                    const void *b1, size_t s1, const void *b2, size_t s2) {
  memset(a, 0, sizeof *a);
  const void *src[3] = {b0, b1, b2};
  size_t sz[3] = {s0, s1, s2};
  for (int i = 0; i < 3; i++) {
    p->mem[i] = NULL;
    p->ptrs[i] = NULL;
    if (src[i]) {
      p->mem[i] = malloc(sz[i] + 16);
      memcpy(p->mem[i], src[i], sz[i]);
      p->ptrs[i] = p->mem[i];
    }
  }
  a->length = length;
  a->offset = offset;
  a->null_count = null_count;
  a->n_buffers = n_buffers;
  a->buffers = p->ptrs;
  a->release = producer_release;
  a->private_data = p;
}

static void noop_schema_release(struct ArrowSchema *s) { s->release = NULL; }

static struct ArrowSchema schema_of(const char *format) {
  struct ArrowSchema s;
  memset(&s, 0, sizeof s);
  s.format = format;
  s.name = "c";
  s.flags = ARROW_FLAG_NULLABLE;
  s.release = noop_schema_release;
  return s;
}

static void test_import_offsets_and_validity(void) {
  int64_t base = ms_mem_current();
  ms_error err;
  ms_error_init(&err);
  /* int32 with a bitmap and offset 3: copied, producer released during import. */
  {
    int32_t vals[13];
    uint8_t bits[2] = {0, 0};
    for (int i = 0; i < 13; i++) { vals[i] = i * 100 - 7; if (i % 4 != 1) bits[i / 8] |= (uint8_t)(1 << (i % 8)); }
    producer p = {0};
    struct ArrowArray a;
    produce(&p, &a, 10, 3, -1, 2, bits, 2, vals, sizeof vals, NULL, 0);
    struct ArrowSchema s = schema_of("i");
    ms_column *c;
    CHECK_OK(ms_column_import(&s, &a, &c, &err), &err);
    CHECK(a.release == NULL);
    CHECK_EQ_INT(p.releases, 1);
    CHECK_EQ_INT(ms_column_length(c), 10);
    int64_t nulls = 0;
    for (int i = 0; i < 10; i++) {
      int src = i + 3;
      CHECK_EQ_INT(ms_column_is_null(c, i), src % 4 == 1);
      if (src % 4 != 1) CHECK_EQ_INT(ms_column_get_i64(c, i), src * 100 - 7);
      nulls += src % 4 == 1;
    }
    CHECK_EQ_INT(ms_column_null_count(c), nulls);
    ms_column_release(c);
  }
  /* utf8 with offset 2 and no validity buffer. */
  {
    const char *words[] = {"zero", "", "two", "three!", "", "five", "\xc3\xa9t\xc3\xa9"};
    int32_t offs[8] = {0};
    char bytes[64];
    for (int i = 0; i < 7; i++) {
      size_t l = strlen(words[i]);
      memcpy(bytes + offs[i], words[i], l);
      offs[i + 1] = offs[i] + (int32_t)l;
    }
    producer p = {0};
    struct ArrowArray a;
    produce(&p, &a, 5, 2, 0, 3, NULL, 0, offs, sizeof offs, bytes, (size_t)offs[7]);
    struct ArrowSchema s = schema_of("u");
    ms_column *c;
    CHECK_OK(ms_column_import(&s, &a, &c, &err), &err);
    CHECK_EQ_INT(p.releases, 1);
    CHECK_EQ_INT(ms_column_null_count(c), 0);
    for (int i = 0; i < 5; i++) {
      int64_t len;
      const uint8_t *b = ms_column_get_bytes(c, i, &len);
      CHECK_EQ_INT(len, (int64_t)strlen(words[i + 2]));
      CHECK(len == 0 || memcmp(b, words[i + 2], (size_t)len) == 0);
    }
    ms_column_release(c);
  }
  /* bool at a non-byte offset, with nulls. */
  {
    uint8_t vals[3] = {0xA5, 0x3C, 0x0F}, valid[3] = {0xFF, 0xF7, 0xFF};
    producer p = {0};
    struct ArrowArray a;
    produce(&p, &a, 14, 5, 1, 2, valid, 3, vals, 3, NULL, 0);
    struct ArrowSchema s = schema_of("b");
    ms_column *c;
    CHECK_OK(ms_column_import(&s, &a, &c, &err), &err);
    CHECK_EQ_INT(p.releases, 1);
    CHECK_EQ_INT(ms_column_null_count(c), 1);
    for (int i = 0; i < 14; i++) {
      int j = i + 5;
      bool valid_bit = (valid[j / 8] >> (j % 8)) & 1;
      CHECK_EQ_INT(ms_column_is_null(c, i), !valid_bit);
      if (valid_bit) CHECK_EQ_INT(ms_column_get_bool(c, i), (vals[j / 8] >> (j % 8)) & 1);
    }
    ms_column_release(c);
  }
  /* int64 at offset 0: zero-copy, released when the column goes. */
  {
    int64_t vals[4] = {1, -2, 3, INT64_MIN};
    producer p = {0};
    struct ArrowArray a;
    produce(&p, &a, 4, 0, 0, 2, NULL, 0, vals, sizeof vals, NULL, 0);
    const void *mem = p.ptrs[1];
    struct ArrowSchema s = schema_of("l");
    ms_column *c;
    CHECK_OK(ms_column_import(&s, &a, &c, &err), &err);
    CHECK_EQ_INT(p.releases, 0);
    CHECK(c->values->data == mem);
    ms_column *c2;
    int64_t idx[2] = {3, 0};
    CHECK_OK(ms_column_take(c, idx, 2, &c2, &err), &err);
    ms_column_release(c);
    CHECK_EQ_INT(p.releases, 1); /* take copied: nothing else holds the producer */
    CHECK_EQ_INT(ms_column_get_i64(c2, 0), INT64_MIN);
    ms_column_release(c2);
    /* a slice (zero-copy view) keeps the producer alive */
    produce(&p, &a, 4, 0, 0, 2, NULL, 0, vals, sizeof vals, NULL, 0);
    p.releases = 0;
    CHECK_OK(ms_column_import(&s, &a, &c, &err), &err);
    CHECK_OK(ms_column_slice(c, 1, 2, &c2, &err), &err);
    ms_column_release(c);
    CHECK_EQ_INT(p.releases, 0);
    CHECK_EQ_INT(ms_column_get_i64(c2, 0), -2);
    ms_column_release(c2);
    CHECK_EQ_INT(p.releases, 1);
  }
  /* Misaligned float64 values: copied. */
  {
    uint8_t raw[8 * 3 + 1];
    double d[3] = {1.5, -2.25, NAN};
    memcpy(raw + 1, d, sizeof d);
    producer p = {0};
    struct ArrowArray a;
    produce(&p, &a, 3, 0, 0, 2, NULL, 0, raw, sizeof raw, NULL, 0);
    p.ptrs[1] = (const uint8_t *)p.mem[1] + 1;
    struct ArrowSchema s = schema_of("g");
    ms_column *c;
    CHECK_OK(ms_column_import(&s, &a, &c, &err), &err);
    CHECK_EQ_INT(p.releases, 1);
    CHECK(((uintptr_t)c->values->data & 7) == 0);
    CHECK(ms_column_get_f64(c, 0) == 1.5 && ms_column_get_f64(c, 1) == -2.25 && isnan(ms_column_get_f64(c, 2)));
    ms_column_release(c);
  }
  CHECK_EQ_INT(ms_mem_current(), base);
}

static void test_import_struct_and_errors(void) {
  int64_t base = ms_mem_current();
  ms_error err;
  ms_error_init(&err);
  /* Struct with offset 1; child 0 int32 with its own offset 2, child 1 large_utf8. */
  int32_t iv[8] = {10, 11, 12, 13, 14, 15, 16, 17};
  uint8_t ivalid[1] = {0xEF}; /* row 4 null */
  int64_t soffs[6] = {0, 1, 3, 3, 6, 10};
  const char *sbytes = "abbcccdddd";
  producer parent = {0}, c0 = {0}, c1 = {0};
  struct ArrowArray a;
  produce(&parent, &a, 3, 1, 0, 1, NULL, 0, NULL, 0, NULL, 0);
  produce(&c0, &parent.children[0], 5, 2, 1, 2, ivalid, 1, iv, sizeof iv, NULL, 0);
  produce(&c1, &parent.children[1], 5, 0, 0, 3, NULL, 0, soffs, sizeof soffs, sbytes, 10);
  parent.child_ptrs[0] = &parent.children[0];
  parent.child_ptrs[1] = &parent.children[1];
  a.n_children = 2;
  a.children = parent.child_ptrs;
  struct ArrowSchema cs0 = schema_of("i"), cs1 = schema_of("U");
  cs0.name = "num";
  cs1.name = "str";
  cs1.flags = 0;
  struct ArrowSchema *kids[2] = {&cs0, &cs1};
  struct ArrowSchema s = schema_of("+s");
  s.n_children = 2;
  s.children = kids;
  ms_table *t;
  CHECK_OK(ms_table_import(&s, &a, &t, &err), &err);
  CHECK(a.release == NULL);
  CHECK_EQ_INT(parent.releases, 1);
  CHECK_EQ_INT(c0.releases, 1); /* offsets != 0: copied */
  CHECK_EQ_INT(c1.releases, 1);
  CHECK_EQ_INT(ms_table_num_rows(t), 3);
  CHECK_STR(ms_table_field(t, 0)->name, "num");
  CHECK(ms_table_field(t, 0)->nullable);
  CHECK(!ms_table_field(t, 1)->nullable);
  CHECK(ms_table_field(t, 1)->type.id == MS_TYPE_LARGE_UTF8);
  ms_column *num = ms_table_column(t, 0), *str = ms_table_column(t, 1);
  /* rows 0..2 of the struct = child rows 1..3; child 0 physical rows 3..5 */
  CHECK_EQ_INT(ms_column_get_i64(num, 0), 13);
  CHECK(ms_column_is_null(num, 1));
  CHECK_EQ_INT(ms_column_get_i64(num, 2), 15);
  int64_t len;
  const uint8_t *b = ms_column_get_bytes(str, 0, &len);
  CHECK(len == 2 && memcmp(b, "bb", 2) == 0);
  b = ms_column_get_bytes(str, 1, &len);
  CHECK(len == 0);
  b = ms_column_get_bytes(str, 2, &len);
  CHECK(len == 3 && memcmp(b, "ccc", 3) == 0);
  ms_table_release(t);

  /* Same struct at offset 0: zero-copy per child; each child released with its column. */
  memset(&parent, 0, sizeof parent);
  memset(&c0, 0, sizeof c0);
  memset(&c1, 0, sizeof c1);
  produce(&parent, &a, 5, 0, 0, 1, NULL, 0, NULL, 0, NULL, 0);
  produce(&c0, &parent.children[0], 5, 0, 1, 2, ivalid, 1, iv, sizeof iv, NULL, 0);
  produce(&c1, &parent.children[1], 5, 0, 0, 3, NULL, 0, soffs, sizeof soffs, sbytes, 10);
  parent.child_ptrs[0] = &parent.children[0];
  parent.child_ptrs[1] = &parent.children[1];
  a.n_children = 2;
  a.children = parent.child_ptrs;
  CHECK_OK(ms_table_import(&s, &a, &t, &err), &err);
  CHECK_EQ_INT(parent.releases, 1);
  CHECK_EQ_INT(c0.releases + c1.releases, 0);
  ms_column *keep = ms_column_retain(ms_table_column(t, 1));
  ms_table_release(t);
  CHECK_EQ_INT(c0.releases, 1);
  CHECK_EQ_INT(c1.releases, 0);
  b = ms_column_get_bytes(keep, 4, &len);
  CHECK(len == 4 && memcmp(b, "dddd", 4) == 0);
  ms_column_release(keep);
  CHECK_EQ_INT(c1.releases, 1);

  /* Refusals: the array is always taken over and released exactly once. */
  struct { const char *format; int n_buffers; ms_status want; } bad[] = {
      {"+l", 2, MS_ERR_UNSUPPORTED}, {"tdm", 2, MS_ERR_UNSUPPORTED}, {"d:10,2,256", 2, MS_ERR_UNSUPPORTED},
      {"i", 3, MS_ERR_INVALID}, {"w:x", 2, MS_ERR_INVALID}, {"vu", 2, MS_ERR_UNSUPPORTED}};
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    producer p = {0};
    produce(&p, &a, 2, 0, 0, bad[k].n_buffers, NULL, 0, iv, sizeof iv, iv, sizeof iv);
    struct ArrowSchema bs = schema_of(bad[k].format);
    ms_column *c = (ms_column *)1;
    CHECK_EQ_INT(ms_column_import(&bs, &a, &c, &err), bad[k].want);
    CHECK(c == NULL);
    CHECK(a.release == NULL);
    CHECK_EQ_INT(p.releases, 1);
  }
  /* decreasing offsets are corrupt */
  {
    int32_t offs[3] = {0, 5, 2};
    producer p = {0};
    produce(&p, &a, 2, 0, 0, 3, NULL, 0, offs, sizeof offs, "hello", 5);
    struct ArrowSchema us = schema_of("u");
    ms_column *c;
    CHECK_EQ_INT(ms_column_import(&us, &a, &c, &err), MS_ERR_CORRUPT);
    CHECK_EQ_INT(p.releases, 1);
  }
  /* dictionary-encoded */
  {
    producer p = {0};
    produce(&p, &a, 2, 0, 0, 2, NULL, 0, iv, sizeof iv, NULL, 0);
    struct ArrowSchema dict = schema_of("u"), ds = schema_of("i");
    ds.dictionary = &dict;
    ms_column *c;
    CHECK_EQ_INT(ms_column_import(&ds, &a, &c, &err), MS_ERR_UNSUPPORTED);
    CHECK_EQ_INT(p.releases, 1);
  }
  /* a struct with null rows cannot be a table; a non-struct schema is refused */
  {
    uint8_t pv[1] = {0xFD};
    memset(&parent, 0, sizeof parent);
    memset(&c0, 0, sizeof c0);
    produce(&parent, &a, 3, 0, 1, 1, pv, 1, NULL, 0, NULL, 0);
    produce(&c0, &parent.children[0], 3, 0, 0, 2, NULL, 0, iv, sizeof iv, NULL, 0);
    parent.child_ptrs[0] = &parent.children[0];
    a.n_children = 1;
    a.children = parent.child_ptrs;
    s.n_children = 1;
    CHECK_EQ_INT(ms_table_import(&s, &a, &t, &err), MS_ERR_UNSUPPORTED);
    CHECK_EQ_INT(parent.releases, 1);
    CHECK_EQ_INT(c0.releases, 1);
    producer p = {0};
    produce(&p, &a, 2, 0, 0, 2, NULL, 0, iv, sizeof iv, NULL, 0);
    struct ArrowSchema is = schema_of("i");
    CHECK_EQ_INT(ms_table_import(&is, &a, &t, &err), MS_ERR_INVALID);
    CHECK_EQ_INT(p.releases, 1);
  }
  CHECK_EQ_INT(ms_mem_current(), base);
}

/* ---- streams ---- */

static void test_stream(void) {
  int64_t base = ms_mem_current();
  ms_error err;
  ms_error_init(&err);
  ms_datatype i64 = ms_type(MS_TYPE_INT64), str = ms_type(MS_TYPE_UTF8);
  ms_table *tables[3];
  static const int64_t rows[3] = {5, 0, 100};
  int64_t next_val = 0;
  for (int k = 0; k < 3; k++) {
    ms_column_builder *bi, *bs;
    ms_column_builder_create(&i64, 8, &bi, NULL);
    ms_column_builder_create(&str, 8, &bs, NULL);
    for (int64_t r = 0; r < rows[k]; r++, next_val++) {
      ms_builder_append_i64(bi, next_val * 3);
      char buf[32];
      int l = snprintf(buf, sizeof buf, "v%lld", (long long)next_val);
      if (next_val % 7 == 0) ms_builder_append_null(bs);
      else ms_builder_append_bytes(bs, buf, l);
    }
    ms_column *cols[2];
    ms_builder_finish(bi, &cols[0], NULL);
    ms_builder_finish(bs, &cols[1], NULL);
    ms_column_builder_destroy(bi);
    ms_column_builder_destroy(bs);
    ms_field fields[2] = {{"id", i64, false}, {"name", str, true}};
    CHECK_OK(ms_table_create(fields, cols, 2, &tables[k], &err), &err);
    ms_column_release(cols[0]);
    ms_column_release(cols[1]);
  }
  /* Consume by the spec alone. */
  struct ArrowArrayStream st;
  CHECK_OK(ms_table_stream_export(tables, 3, &st, &err), &err);
  struct ArrowSchema s;
  CHECK_EQ_INT(st.get_schema(&st, &s), 0);
  CHECK_STR(s.format, "+s");
  CHECK_EQ_INT(s.n_children, 2);
  CHECK_STR(s.children[1]->name, "name");
  ac_type t0 = ac_parse_format(s.children[0]->format), t1 = ac_parse_format(s.children[1]->format);
  CHECK(t0.kind == AC_INT && t0.width == 8 && t1.kind == AC_BYTES && t1.width == 4);
  int batches = 0;
  int64_t seen = 0;
  for (;;) {
    struct ArrowArray a;
    CHECK_EQ_INT(st.get_next(&st, &a), 0);
    if (!a.release) break;
    CHECK_EQ_INT(a.length, rows[batches]);
    CHECK(ac_check_array(&t0, a.children[0]) == NULL);
    CHECK(ac_check_array(&t1, a.children[1]) == NULL);
    for (int64_t r = 0; r < a.length; r++, seen++) {
      ac_value v0 = ac_get(&t0, a.children[0], r), v1 = ac_get(&t1, a.children[1], r);
      CHECK(!v0.is_null && v0.i == seen * 3);
      char buf[32];
      int l = snprintf(buf, sizeof buf, "v%lld", (long long)seen);
      if (seen % 7 == 0) CHECK(v1.is_null);
      else CHECK(!v1.is_null && v1.len == l && memcmp(v1.bytes, buf, (size_t)l) == 0);
    }
    a.release(&a);
    batches++;
  }
  CHECK_EQ_INT(batches, 3);
  CHECK_EQ_INT(seen, 105);
  struct ArrowArray end;
  CHECK_EQ_INT(st.get_next(&st, &end), 0); /* stays at the end */
  CHECK(end.release == NULL);
  s.release(&s);
  st.release(&st);
  CHECK(st.release == NULL);

  /* Import the stream into one table. */
  CHECK_OK(ms_table_stream_export(tables, 3, &st, &err), &err);
  ms_table *all, *want;
  CHECK_OK(ms_stream_import_table(&st, &all, &err), &err);
  CHECK(st.release == NULL);
  CHECK_OK(ms_table_concat(tables, 3, &want, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(all), 105);
  for (int i = 0; i < 2; i++) CHECK(ms_column_equal(ms_table_column(all, i), ms_table_column(want, i)));
  CHECK(!ms_table_field(all, 0)->nullable);
  ms_table_release(all);
  ms_table_release(want);

  /* A single-batch stream stays zero-copy; an empty table gives a zero-row table. */
  CHECK_OK(ms_table_stream_export(&tables[2], 1, &st, &err), &err);
  CHECK_OK(ms_stream_import_table(&st, &all, &err), &err);
  CHECK(ms_table_column(all, 0)->values->data == ms_table_column(tables[2], 0)->values->data);
  ms_table_release(all);
  CHECK_OK(ms_table_stream_export(&tables[1], 1, &st, &err), &err);
  CHECK_OK(ms_stream_import_table(&st, &all, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(all), 0);
  CHECK_EQ_INT(ms_table_num_columns(all), 2);
  ms_table_release(all);

  /* Schemas must agree. */
  ms_table *odd;
  const char *names[1] = {"id"};
  CHECK_OK(ms_table_select(tables[0], names, 1, &odd, &err), &err);
  ms_table *mixed[2] = {tables[0], odd};
  CHECK_EQ_INT(ms_table_stream_export(mixed, 2, &st, &err), MS_ERR_TYPE);
  CHECK_EQ_INT(ms_table_stream_export(mixed, 0, &st, &err), MS_ERR_INVALID);
  ms_table_release(odd);
  for (int k = 0; k < 3; k++) ms_table_release(tables[k]);
  CHECK_EQ_INT(ms_mem_current(), base);
}

/* A producer stream that fails on its second batch. */
typedef struct failing {
  struct ArrowArrayStream inner;
  int calls, released;
} failing;

static int failing_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  failing *f = s->private_data;
  return f->inner.get_schema(&f->inner, out);
}
static int failing_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  failing *f = s->private_data;
  if (++f->calls == 2) return EIO;
  return f->inner.get_next(&f->inner, out);
}
static const char *failing_error(struct ArrowArrayStream *s) { (void)s; return "disk on fire"; }
static void failing_release(struct ArrowArrayStream *s) {
  failing *f = s->private_data;
  f->inner.release(&f->inner);
  f->released++;
  s->release = NULL;
}

static void test_stream_error(void) {
  int64_t base = ms_mem_current();
  ms_error err;
  ms_error_init(&err);
  ms_datatype i64 = ms_type(MS_TYPE_INT64);
  ms_column *c;
  CHECK_OK(ms_column_create_nulls(&i64, 4, &c, &err), &err);
  ms_field f = {"x", i64, true};
  ms_table *t;
  CHECK_OK(ms_table_create(&f, &c, 1, &t, &err), &err);
  ms_column_release(c);
  ms_table *ts[3] = {t, t, t};
  failing fs = {0};
  CHECK_OK(ms_table_stream_export(ts, 3, &fs.inner, &err), &err);
  ms_table_release(t);
  struct ArrowArrayStream s = {failing_schema, failing_next, failing_error, failing_release, &fs};
  ms_table *out;
  CHECK_EQ_INT(ms_stream_import_table(&s, &out, &err), MS_ERR_IO);
  CHECK(strstr(err.message, "disk on fire") != NULL);
  CHECK_EQ_INT(fs.released, 1);
  CHECK(s.release == NULL);
  CHECK_EQ_INT(ms_mem_current(), base);
}

MS_TEST_MAIN(MS_TEST(test_export_every_type), MS_TEST(test_table_export), MS_TEST(test_round_trip),
             MS_TEST(test_import_offsets_and_validity), MS_TEST(test_import_struct_and_errors),
             MS_TEST(test_stream), MS_TEST(test_stream_error))
