/* Internal pieces of the managed-dataset store (include/morsel/store.h) shared by its files
 * (manifest.c: the manifest's JSON text; store.c: the commit protocol) and with the
 * writers (src/write) and the dataset layer (src/dataset). */
#ifndef MS_STORE_INT_H
#define MS_STORE_INT_H

#include "morsel/store.h"

/* Test hook: when the environment variable MORSEL_CRASH_POINT equals `name`, the process
 * kills itself with SIGKILL here (a cheap getenv otherwise). Names used by the protocol:
 * "after-data" (ms_store_commit_files on entry: data files renamed, lock not yet taken),
 * "after-prepare" (registry prepared record written, manifest not yet renamed; for single
 * files at the end of ms_store_single_begin), "after-rename" (manifest renamed; single
 * files: at the start of ms_store_single_finish, after the caller's rename), "after-commit"
 * (registry record committed, lock still held); the writers add "mid-data". */
void ms_store_crash_point(const char *name);

/* What the manifest carries besides ms_manifest: the last commit's kind and time. */
typedef struct ms__manifest_meta {
  char kind[32];           /* "" when absent */
  int64_t committed_at_ns; /* 0 when absent */
} ms__manifest_meta;

/* Parses manifest text; `display` names the file in errors (MS_ERR_CORRUPT with the byte
 * offset; MS_ERR_UNSUPPORTED for a newer format version). meta may be NULL. */
ms_status ms__manifest_parse(const char *text, size_t len, const char *display,
                             ms_manifest *out, ms__manifest_meta *meta, ms_error *err);
/* ms_manifest_read that also returns the meta fields. */
ms_status ms__manifest_read_meta(const char *root, ms_manifest *out, ms__manifest_meta *meta,
                                 ms_error *err);
/* The manifest's JSON text (ms_free). NULL on out of memory. */
char *ms__manifest_format(const ms_manifest *m, const ms__manifest_meta *meta);
/* Writes `<root>/_morsel_manifest.json`: temporary name, fsync, rename, fsync of root. */
ms_status ms__manifest_write(const char *root, const ms_manifest *m,
                             const ms__manifest_meta *meta, ms_error *err);

/* True for a relative '/'-separated path with no empty, "." or ".." segment. */
bool ms__store_rel_path_ok(const char *rel);

#endif
