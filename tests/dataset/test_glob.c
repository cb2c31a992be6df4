/* Tests of dataset path expansion: glob segment matching, glob expansion over a real
 * directory tree, recursive listing (hidden and '_' names skipped) and URL decoding of hive
 * values. Expected file lists are written out by hand. */
#include <stdio.h>
#include <string.h>

#include "dataset/dataset_int.h"
#include "morsel/alloc.h"
#include "ms_test.h"

static void test_segment_match(void) {
  CHECK(ms__glob_match_segment("*", "abc"));
  CHECK(ms__glob_match_segment("*", ""));
  CHECK(ms__glob_match_segment("*.parquet", "a.parquet"));
  CHECK(!ms__glob_match_segment("*.parquet", "a.parquet.tmp"));
  CHECK(ms__glob_match_segment("a*b*c", "aXXbYYc"));
  CHECK(ms__glob_match_segment("a*b*c", "abbbc"));
  CHECK(!ms__glob_match_segment("a*b*c", "abcx"));
  CHECK(ms__glob_match_segment("part-?.csv", "part-1.csv"));
  CHECK(!ms__glob_match_segment("part-?.csv", "part-10.csv"));
  CHECK(ms__glob_match_segment("part-[0-9].csv", "part-7.csv"));
  CHECK(!ms__glob_match_segment("part-[0-9].csv", "part-x.csv"));
  CHECK(ms__glob_match_segment("part-[!0-9].csv", "part-x.csv"));
  CHECK(!ms__glob_match_segment("part-[!0-9].csv", "part-3.csv"));
  CHECK(ms__glob_match_segment("[]]x", "]x"));
  CHECK(ms__glob_match_segment("[abc]", "b"));
  CHECK(!ms__glob_match_segment("[abc]", "d"));
  CHECK(ms__glob_match_segment("a\\*", "a*"));
  CHECK(!ms__glob_match_segment("a\\*", "ab"));
  CHECK(ms__glob_match_segment("[unterminated", "[unterminated"));
  CHECK(ms__glob_match_segment("**", "anything"));
  CHECK(!ms__glob_match_segment("", "x"));
  CHECK(ms__glob_match_segment("", ""));
}

static void touch(const char *dir, const char *rel) {
  char path[2048];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  /* Create the parents. */
  for (char *p = path + strlen(dir) + 1; *p; p++) {
    if (*p == '/') { *p = '\0'; mkdir(path, 0777); *p = '/'; }
  }
  FILE *f = fopen(path, "w");
  if (f) { fputs("x\n", f); fclose(f); }
}

/* Joins the list (relative to root) into "a|b|c" after sorting. */
static const char *joined(ms__strvec *v, const char *root) {
  static char buf[4096];
  ms__strvec_sort(v);
  buf[0] = '\0';
  size_t rl = strlen(root);
  for (int64_t i = 0; i < v->n; i++) {
    const char *p = v->items[i];
    if (strncmp(p, root, rl) == 0 && p[rl] == '/') p += rl + 1;
    if (i) strcat(buf, "|");
    strcat(buf, p);
  }
  return buf;
}

static void test_expand(void) {
  char root[1100];
  snprintf(root, sizeof root, "%s/tree", ms_test_tmpdir());
  mkdir(root, 0777);
  touch(root, "a.csv");
  touch(root, "b.parquet");
  touch(root, ".hidden.csv");
  touch(root, "_SUCCESS");
  touch(root, "sub/c.csv");
  touch(root, "sub/deeper/d.csv");
  touch(root, "sub/_tmp/e.csv");
  touch(root, "y=2024/m=1/f.parquet");
  touch(root, "y=2024/m=2/g.parquet");
  touch(root, "y=2025/m=1/h.parquet");

  ms__strvec v = {0};
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms__list_files_recursive(NULL, root, &v, &err), &err);
  CHECK_STR(joined(&v, root), "a.csv|b.parquet|sub/c.csv|sub/deeper/d.csv|y=2024/m=1/f.parquet|y=2024/m=2/g.parquet|y=2025/m=1/h.parquet");
  ms__strvec_reset(&v);

  struct { const char *pattern, *expect, *base; } cases[] = {
      {"*.csv", "a.csv", ""},
      {"*", "a.csv|b.parquet", ""},
      {".*", ".hidden.csv", ""},
      {"sub/*.csv", "sub/c.csv", "sub"},
      {"**/*.csv", "a.csv|sub/c.csv|sub/deeper/d.csv", ""},
      {"sub/**", "sub/c.csv|sub/deeper/d.csv", "sub"},
      {"y=*/m=1/*.parquet", "y=2024/m=1/f.parquet|y=2025/m=1/h.parquet", ""},
      {"y=2024/*/?.parquet", "y=2024/m=1/f.parquet|y=2024/m=2/g.parquet", "y=2024"},
      {"**/m=[2-9]/*", "y=2024/m=2/g.parquet", ""},
      {"nothing/*.csv", "", "nothing"},
      {"*.json", "", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char pattern[2048], base_expect[2048];
    snprintf(pattern, sizeof pattern, "%s/%s", root, cases[i].pattern);
    snprintf(base_expect, sizeof base_expect, "%s%s%s", root, cases[i].base[0] ? "/" : "", cases[i].base);
    char *base = NULL;
    CHECK_OK(ms__glob_expand(NULL, pattern, &v, &base, &err), &err);
    /* "**" patterns may find a file twice; the dataset de-duplicates, so do it here too. */
    ms__strvec_sort(&v);
    int64_t w = 0;
    for (int64_t k = 0; k < v.n; k++) {
      if (w && strcmp(v.items[w - 1], v.items[k]) == 0) ms_free(v.items[k]);
      else v.items[w++] = v.items[k];
    }
    v.n = w;
    CHECK_MSG(strcmp(joined(&v, root), cases[i].expect) == 0, "pattern %s gave %s", cases[i].pattern, joined(&v, root));
    CHECK_MSG(strcmp(base, base_expect) == 0, "pattern %s base %s", cases[i].pattern, base);
    ms_free(base);
    ms__strvec_reset(&v);
  }
}

static void test_url_decode(void) {
  char a[] = "New%20York%2FNY";
  ms__url_decode(a);
  CHECK_STR(a, "New York/NY");
  char b[] = "100%";
  ms__url_decode(b);
  CHECK_STR(b, "100%");
  char c[] = "%zz%4a%00x";
  ms__url_decode(c);
  CHECK_STR(c, "%zzJ%00x");
}

MS_TEST_MAIN(MS_TEST(test_segment_match), MS_TEST(test_expand), MS_TEST(test_url_decode))
