/* The CLI's progress line (src/cli/progress.c, compiled into this test since the CLI is not
 * part of the library): the layout (thousands grouping, total, rate, ETA), redraws limited
 * to ten a second within a stage but immediate at a stage change, a shorter line padded
 * over a longer one, the wipe at the end, and nothing at all when disabled. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/progress.c"
#include "ms_test.h"

static void test_format(void) {
  char buf[256];
  cli_progress_format(buf, sizeof buf, "join v", 1234567, 4000000, 2.0);
  CHECK_STR(buf, "join v  1,234,567/4,000,000 rows  617,283 rows/s  ETA 4s");
  cli_progress_format(buf, sizeof buf, "read entity", 0, -1, 0.0);
  CHECK_STR(buf, "read entity  0 rows");
  cli_progress_format(buf, sizeof buf, "read v", 999, -1, 1.0);
  CHECK_STR(buf, "read v  999 rows  999 rows/s");
  cli_progress_format(buf, sizeof buf, "write", 100, 100, 1.0); /* done: no ETA */
  CHECK_STR(buf, "write  100/100 rows  100 rows/s");
  cli_progress_format(buf, sizeof buf, "join v", 1000, 1000000, 1.0); /* 999 s left */
  CHECK_STR(buf, "join v  1,000/1,000,000 rows  1,000 rows/s  ETA 16m39s");
  cli_progress_format(buf, sizeof buf, "join v", 1, 100000, 10.0); /* 999,990 s left */
  CHECK_STR(buf, "join v  1/100,000 rows  ETA 277h46m");
}

/* Counts '\r' in the file's contents. */
static int count_cr(FILE *f, char *text, size_t size) {
  fflush(f);
  long n = ftell(f);
  rewind(f);
  size_t got = fread(text, 1, size - 1, f);
  text[got] = '\0';
  fseek(f, n, SEEK_SET);
  int cr = 0;
  for (size_t i = 0; i < got; i++) cr += text[i] == '\r';
  return cr;
}

static void test_throttle_and_wipe(void) {
  setenv("MORSEL_PROGRESS", "1", 1);
  cli_progress p;
  cli_progress_init(&p, false);
  CHECK(p.enabled);
  FILE *f = tmpfile();
  CHECK(f != NULL);
  p.out = f;
  char text[8192];
  for (int i = 0; i < 1000; i++) cli_progress_update(&p, "read a long stage name", i, 1000);
  CHECK_EQ_INT(count_cr(f, text, sizeof text), 1); /* one draw: the rest within 0.1 s */
  cli_progress_update(&p, "join", 5, -1); /* a stage change draws at once, padded */
  CHECK_EQ_INT(count_cr(f, text, sizeof text), 2);
  const char *second = strrchr(text, '\r') + 1;
  CHECK(strncmp(second, "join  5 rows", 12) == 0);
  CHECK_EQ_INT(strlen(second), strlen("read a long stage name  0/1,000 rows"));
  struct timespec ts = {0, 120 * 1000 * 1000};
  nanosleep(&ts, NULL);
  cli_progress_update(&p, "join", 6, -1); /* 0.12 s later: drawn again */
  CHECK_EQ_INT(count_cr(f, text, sizeof text), 3);
  cli_progress_finish(&p);
  count_cr(f, text, sizeof text);
  size_t len = strlen(text);
  CHECK(len > 2 && text[len - 1] == '\r'); /* "\r<spaces>\r" */
  cli_progress_finish(&p); /* twice: nothing more */
  CHECK_EQ_INT(count_cr(f, text, sizeof text), 5);
  fclose(f);

  cli_progress q;
  cli_progress_init(&q, true); /* --quiet wins */
  CHECK(!q.enabled);
  setenv("MORSEL_PROGRESS", "0", 1);
  cli_progress_init(&q, false);
  CHECK(!q.enabled);
  FILE *g = tmpfile();
  q.out = g;
  cli_progress_update(&q, "x", 1, 2);
  cli_progress_finish(&q);
  fflush(g);
  CHECK_EQ_INT(ftell(g), 0);
  fclose(g);
  unsetenv("MORSEL_PROGRESS");
}

MS_TEST_MAIN(MS_TEST(test_format), MS_TEST(test_throttle_and_wipe))
