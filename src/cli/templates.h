/* Repository templates of `morsel init -t NAME`: files written as is into the new
 * repository (paths relative to it). */
#ifndef MORSEL_CLI_TEMPLATES_H
#define MORSEL_CLI_TEMPLATES_H

#include <stdbool.h>

typedef struct cli_template_file {
  const char *path; /* relative to the repository; NULL ends a list */
  const char *text;
  bool executable;  /* written with mode 0755 */
} cli_template_file;

/* `morsel init -t retail` (template_retail.c) */
extern const cli_template_file cli_template_retail[];

#endif
