/* A one-line progress display on stderr for long-running commands (retrieval jobs): the
 * stage, rows done (of the total when known), rows per second and, with a total, the time
 * left. It is an ms_progress_fn (include/morsel/offline.h) with a cli_progress as context.
 * Only drawn when stderr is a terminal and --quiet was not given; redrawn at most ten times
 * a second (and at each stage change), in place with '\r'; cli_progress_finish wipes it, so
 * what the command prints afterwards starts on a clean line. */
#ifndef MS_CLI_PROGRESS_H
#define MS_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct cli_progress {
  bool enabled;
  FILE *out;
  double start, stage_start, last_draw; /* CLOCK_MONOTONIC seconds; last_draw < 0 = never */
  char stage[64];
  int64_t rows, total;
  int drawn; /* characters on the line now */
} cli_progress;

/* Enabled when stderr is a terminal and quiet is false (MORSEL_PROGRESS=1 forces it on,
 * for tests on a pipe; MORSEL_PROGRESS=0 forces it off). */
void cli_progress_init(cli_progress *p, bool quiet);
/* The ms_progress_fn: ctx is the cli_progress. */
void cli_progress_update(void *ctx, const char *stage, int64_t rows_done, int64_t rows_total);
/* Wipes the line (when something was drawn). */
void cli_progress_finish(cli_progress *p);
/* Formats the line (without '\r') into buf; exposed for the test of the layout. */
void cli_progress_format(char *buf, size_t size, const char *stage, int64_t rows, int64_t total,
                         double stage_seconds);

#endif
