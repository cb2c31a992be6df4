/* Shared pieces of the repository and registry commands (cmd_repo.c, cmd_registry.c,
 * cmd_init.c): opening the repository named by --repo/-C and --config, the user and host
 * recorded with each version, and display names of object kinds. */
#ifndef MS_REPO_CLI_H
#define MS_REPO_CLI_H

#include "cli/cli.h"
#include "morsel/registry.h"
#include "morsel/repo.h"

typedef struct cli_repo {
  ms_repo *repo;
  const ms_repo_config *cfg;
  ms_registry *reg; /* NULL unless asked for */
} cli_repo;

/* Loads and validates the repository; on failure prints every problem (file:line:col) on
 * stderr and returns the error. Prints the configuration's notes on stderr. */
ms_status cli_repo_open(const cli_args *a, bool open_registry, cli_repo *out, ms_error *err);
void cli_repo_close(cli_repo *r);
/* $USER (or the password entry) and gethostname(). */
void cli_user_host(char *user, size_t user_size, char *host, size_t host_size);
/* "feature view" for "feature_view" and so on. */
const char *cli_kind_label(const char *kind);
/* `saved-datasets get NAME --output FILE` (cmd_retrieve.c), on an open repository and
 * registry. */
ms_status cli_saved_dataset_get(const cli_args *a, cli_repo *r, const char *name, ms_error *err);

#endif
