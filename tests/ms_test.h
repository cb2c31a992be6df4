/* A tiny test harness: each test program defines test functions and lists them in
 * MS_TEST_MAIN. A failed check prints file:line and the expression, marks the test failed
 * and returns from it. Each program prints "N passed, N failed" and exits non-zero when
 * anything failed. */
#ifndef MS_TEST_H
#define MS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern int ms_test_failed_flag;
int ms_test_failed_flag;

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);       \
      ms_test_failed_flag = 1;                                                       \
      return;                                                                        \
    }                                                                                \
  } while (0)

#define CHECK_MSG(cond, ...)                                                         \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);       \
      fprintf(stderr, __VA_ARGS__);                                                  \
      fputc('\n', stderr);                                                           \
      ms_test_failed_flag = 1;                                                       \
      return;                                                                        \
    }                                                                                \
  } while (0)

/* Checks that an ms_status expression is MS_OK, printing the error when it is not. */
#define CHECK_OK(expr, errp)                                                         \
  do {                                                                               \
    ms_status st_ = (expr);                                                          \
    if (st_ != MS_OK) {                                                              \
      char buf_[2048];                                                               \
      fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr,           \
              ms_error_format((errp), buf_, sizeof buf_));                           \
      ms_test_failed_flag = 1;                                                       \
      return;                                                                        \
    }                                                                                \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                           \
  do {                                                                               \
    long long a_ = (long long)(a), b_ = (long long)(b);                              \
    if (a_ != b_) {                                                                  \
      fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = %lld, %s = %lld\n", __FILE__,    \
              __LINE__, #a, a_, #b, b_);                                             \
      ms_test_failed_flag = 1;                                                       \
      return;                                                                        \
    }                                                                                \
  } while (0)

#define CHECK_STR(a, b)                                                              \
  do {                                                                               \
    const char *a_ = (a), *b_ = (b);                                                 \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                         \
      fprintf(stderr, "%s:%d: CHECK_STR failed: %s = \"%s\", %s = \"%s\"\n",         \
              __FILE__, __LINE__, #a, a_ ? a_ : "(null)", #b, b_ ? b_ : "(null)");   \
      ms_test_failed_flag = 1;                                                       \
      return;                                                                        \
    }                                                                                \
  } while (0)

typedef struct ms_test_case {
  const char *name;
  void (*fn)(void);
} ms_test_case;

/* A scratch directory for this test program: $MS_TEST_TMP/<program>, created on demand. */
static inline const char *ms_test_tmpdir(void) {
  static char dir[1024];
  if (!dir[0]) {
    const char *base = getenv("MS_TEST_TMP");
    if (!base || !*base) base = "/tmp/morsel-test";
    mkdir(base, 0777);
    snprintf(dir, sizeof dir, "%s/%d", base, (int)getpid());
    mkdir(dir, 0777);
  }
  return dir;
}

#define MS_TEST(fn) {#fn, fn}

#define MS_TEST_MAIN(...)                                                            \
  int main(int argc, char **argv) {                                                  \
    ms_test_case cases_[] = {__VA_ARGS__};                                           \
    int n_ = (int)(sizeof cases_ / sizeof cases_[0]), passed_ = 0, failed_ = 0;      \
    for (int i_ = 0; i_ < n_; i_++) {                                                \
      if (argc > 1 && strstr(cases_[i_].name, argv[1]) == NULL) continue;            \
      ms_test_failed_flag = 0;                                                       \
      cases_[i_].fn();                                                               \
      if (ms_test_failed_flag) { failed_++; fprintf(stderr, "FAIL %s\n", cases_[i_].name); } \
      else { passed_++; printf("ok   %s\n", cases_[i_].name); }                      \
    }                                                                                \
    printf("%d passed, %d failed\n", passed_, failed_);                              \
    return failed_ ? 1 : 0;                                                          \
  }

#endif
