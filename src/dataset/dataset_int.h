/* Internal pieces of the dataset module shared between its files and with the CLI:
 * path expansion (directories and globs), hive partition parsing, and reading one file of
 * a dataset into the dataset's unified schema (so callers can stream file by file). */
#ifndef MS_DATASET_INT_H
#define MS_DATASET_INT_H

#include "morsel/dataset.h"
#include "morsel/store.h"

/* A growable list of owned strings. */
typedef struct ms__strvec {
  char **items;
  int64_t n, cap;
} ms__strvec;

ms_status ms__strvec_push(ms__strvec *v, char *s); /* takes ownership; frees s on failure */
void ms__strvec_reset(ms__strvec *v);
void ms__strvec_sort(ms__strvec *v);

/* True when the text holds a glob wildcard ('*', '?' or '['). */
bool ms__glob_has_magic(const char *s);

/* Matches one path segment against one pattern segment ('*', '?', '[...]', '[!...]'). */
bool ms__glob_match_segment(const char *pattern, const char *name);

/* True for names a directory scan skips: hidden ('.') and underscore-prefixed files. */
bool ms__is_hidden_name(const char *name);

/* Appends every regular file below dir (recursive, hidden names skipped) to out. */
ms_status ms__list_files_recursive(ms_fs *fs, const char *dir, ms__strvec *out, ms_error *err);

/* Expands a glob into the matching files (unsorted). *out_base receives the directory the
 * pattern's literal prefix names (ms_free), the root for hive partition parsing. '**' as a
 * whole segment matches zero or more directories; as the last segment every file below. */
ms_status ms__glob_expand(ms_fs *fs, const char *pattern, ms__strvec *out, char **out_base,
                          ms_error *err);

/* Decodes %XX escapes in place (invalid escapes are kept as they are). */
void ms__url_decode(char *s);

/* Reads file `file` of the dataset into a table with the requested output columns (all
 * of the dataset's fields when opts->columns is NULL), in the unified types. row_groups
 * (NULL = all) limits a Parquet file to those row groups; CSV files ignore it. When the
 * file is pruned by the ranges, *out is NULL and MS_OK is returned. Stats are added to
 * (not reset); the pool in opts is used for decoding inside the file. */
ms_status ms__dataset_read_file(ms_dataset *ds, int64_t file, const ms_dataset_read_options *opts,
                                const int *row_groups, int n_row_groups, ms_table **out,
                                ms_dataset_read_stats *stats, ms_error *err);

/* Rows per row group of file i (a new array, ms_free), so callers can stream a big file in
 * pieces. A CSV file has no row groups: *out_n = 0 and *out_rows = NULL. */
ms_status ms__dataset_file_row_groups(ms_dataset *ds, int64_t file, int64_t **out_rows, int *out_n,
                                      ms_error *err);

/* Managed datasets (managed.c): the manifest governing directory `root` (generation 0
 * when absent, or when fs is not the local file system), read before listing. */
ms_status ms__dataset_read_manifest(ms_fs *fs, const char *root, ms_manifest *out,
                                    ms_error *err);
/* Drops token files (`.m<16 hex>.`) the manifest does not list from `files` (paths under
 * root as the listing produced them). check_missing: a listed file absent from `files` is
 * MS_ERR_CORRUPT naming the manifest and the file (directory scans; globs match only part
 * of the directory, so they do not check). */
ms_status ms__dataset_apply_manifest(const char *root, const ms_manifest *m, bool check_missing,
                                     ms__strvec *files, ms_error *err);
/* The directory named by a glob's literal prefix (ms_free); "" = the current directory. */
char *ms__glob_literal_dir(const char *pattern);

/* Format of file i of the dataset. */
ms_file_format ms__dataset_file_format(const ms_dataset *ds, int64_t i);

#endif
