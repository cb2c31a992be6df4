/* The managed-dataset rule of the dataset layer (include/morsel/store.h, docs/storage.md).
 *
 * A file whose base name carries the `.m<16 hex>.` token was written by morsel's commit
 * protocol and is live only while `<root>/_morsel_manifest.json` lists it; every other
 * file is taken as before. The manifest is read BEFORE the directory is listed: files a
 * commit adds are renamed into place before the manifest that lists them, and files a
 * commit removes stay on disk for the retention period, so every file of the manifest
 * read first is in the listing made after - whichever commits happen in between. That
 * way a reader sees exactly one committed generation, never a mix. A listed file that is
 * missing anyway means the directory was damaged: MS_ERR_CORRUPT naming the manifest and
 * the file. */
#include <stdlib.h>
#include <string.h>

#include "dataset/dataset_int.h"
#include "morsel/alloc.h"
#include "store/store_int.h"

ms_status ms__dataset_read_manifest(ms_fs *fs, const char *root, ms_manifest *out,
                                    ms_error *err) {
  memset(out, 0, sizeof *out);
  /* Manifests live on the local file system only (object stores have no rename). */
  if (fs && fs != ms_fs_local()) return MS_OK;
  return ms_manifest_read(root[0] ? root : ".", out, err);
}

static int file_cmp(const void *a, const void *b) {
  return strcmp(((const ms_store_file *)a)->path, ((const ms_store_file *)b)->path);
}

/* The path of `file` relative to root (file was produced by listing root). */
static const char *rel_to(const char *root, const char *file) {
  size_t rl = strlen(root);
  if (rl == 0 || (rl == 1 && root[0] == '.')) {
    if (file[0] == '.' && file[1] == '/') file += 2;
    return file;
  }
  if (strncmp(file, root, rl) != 0) return NULL;
  file += rl;
  while (*file == '/') file++;
  return file;
}

ms_status ms__dataset_apply_manifest(const char *root, const ms_manifest *m, bool check_missing,
                                     ms__strvec *files, ms_error *err) {
  bool *seen = m->n_files ? ms_calloc((size_t)m->n_files, sizeof *seen) : NULL;
  if (m->n_files && !seen) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  int64_t w = 0;
  for (int64_t i = 0; i < files->n; i++) {
    char *f = files->items[i];
    const char *slash = strrchr(f, '/');
    bool keep = true;
    if (ms_store_is_token_name(slash ? slash + 1 : f)) {
      const char *rel = rel_to(root, f);
      ms_store_file key = {.path = (char *)rel};
      const ms_store_file *hit =
          rel && m->n_files ? bsearch(&key, m->files, (size_t)m->n_files, sizeof key, file_cmp)
                            : NULL;
      keep = hit != NULL;
      if (hit) seen[hit - m->files] = true;
    }
    if (keep) files->items[w++] = f;
    else ms_free(f);
  }
  files->n = w;
  ms_status st = MS_OK;
  for (int i = 0; check_missing && i < m->n_files; i++) {
    if (seen[i]) continue;
    char *mpath = ms_asprintf("%s/%s", root, MS_MANIFEST_NAME);
    ms_error_set_file(err, mpath ? mpath : MS_MANIFEST_NAME);
    st = ms_error_set(err, MS_ERR_CORRUPT,
                      "the manifest (generation %lld) lists %s/%s, which is missing",
                      (long long)m->generation, root, m->files[i].path);
    ms_free(mpath);
    break;
  }
  ms_free(seen);
  return st;
}

/* The directory a glob's literal prefix names ("" for a pattern relative to the current
 * directory whose first segment has a wildcard). */
char *ms__glob_literal_dir(const char *pattern) {
  const char *magic = pattern;
  while (*magic && *magic != '*' && *magic != '?' && *magic != '[') magic++;
  const char *slash = magic;
  while (slash > pattern && slash[-1] != '/') slash--;
  if (slash == pattern) return ms_strdup("");
  size_t len = (size_t)(slash - pattern);
  while (len > 1 && pattern[len - 1] == '/') len--;
  return ms_strndup(pattern, len);
}
