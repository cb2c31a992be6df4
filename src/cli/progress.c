/* The progress line of long-running commands (see progress.h).
 *
 * Layout: "<stage>  <rows>[/<total>] rows  <rate> rows/s[  ETA <t>]", rows grouped by
 * thousands, the rate over the current stage (a stage restarts the clock: reading and
 * joining run at very different speeds), the ETA only when the total is known and some
 * rows are done. A redraw writes '\r', the line, and spaces over what is left of a longer
 * previous line. The job calls back from one thread, so no locking is needed. */
#include "cli/progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_init(cli_progress *p, bool quiet) {
  memset(p, 0, sizeof *p);
  p->out = stderr;
  const char *force = getenv("MORSEL_PROGRESS");
  if (force && strcmp(force, "1") == 0) p->enabled = !quiet;
  else if (force && strcmp(force, "0") == 0) p->enabled = false;
  else p->enabled = !quiet && isatty(STDERR_FILENO);
  p->start = p->stage_start = now_s();
  p->last_draw = -1;
  p->total = -1;
}

/* 1234567 -> "1,234,567" */
static void group(char *buf, size_t size, int64_t v) {
  char digits[32];
  snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? -v : v));
  size_t n = strlen(digits), o = 0;
  if (v < 0 && o + 1 < size) buf[o++] = '-';
  for (size_t i = 0; i < n && o + 2 < size; i++) {
    if (i > 0 && (n - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = digits[i];
  }
  buf[o] = '\0';
}

static void duration(char *buf, size_t size, double s) {
  if (s < 60) snprintf(buf, size, "%.0fs", s < 1 ? 1 : s);
  else if (s < 3600) snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)s % 60);
  else snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

void cli_progress_format(char *buf, size_t size, const char *stage, int64_t rows, int64_t total,
                         double stage_seconds) {
  char r[32], t[32], rate[48] = "", eta[32] = "";
  group(r, sizeof r, rows);
  if (total >= 0) group(t, sizeof t, total);
  double per_s = stage_seconds > 0 ? (double)rows / stage_seconds : 0;
  if (per_s >= 1) { /* below one row a second the rate says nothing; the ETA still does */
    char n[32];
    group(n, sizeof n, (int64_t)per_s);
    snprintf(rate, sizeof rate, "  %s rows/s", n);
  }
  if (per_s > 0 && total > rows) {
    char d[16];
    duration(d, sizeof d, (double)(total - rows) / per_s);
    snprintf(eta, sizeof eta, "  ETA %s", d);
  }
  snprintf(buf, size, "%s  %s%s%s rows%s%s", stage ? stage : "", r, total >= 0 ? "/" : "",
           total >= 0 ? t : "", rate, eta);
}

void cli_progress_update(void *ctx, const char *stage, int64_t rows_done, int64_t rows_total) {
  cli_progress *p = ctx;
  if (!p || !p->enabled) return;
  double now = now_s();
  bool new_stage = strncmp(p->stage, stage ? stage : "", sizeof p->stage - 1) != 0;
  if (new_stage) {
    snprintf(p->stage, sizeof p->stage, "%s", stage ? stage : "");
    p->stage_start = now;
  }
  p->rows = rows_done;
  p->total = rows_total;
  if (!new_stage && p->last_draw >= 0 && now - p->last_draw < 0.1) return;
  p->last_draw = now;
  char line[256];
  cli_progress_format(line, sizeof line, p->stage, rows_done, rows_total, now - p->stage_start);
  int n = (int)strlen(line);
  fprintf(p->out, "\r%s%*s", line, p->drawn > n ? p->drawn - n : 0, "");
  fflush(p->out);
  p->drawn = n;
}

void cli_progress_finish(cli_progress *p) {
  if (!p || !p->enabled || p->drawn == 0) return;
  fprintf(p->out, "\r%*s\r", p->drawn, "");
  fflush(p->out);
  p->drawn = 0;
}
