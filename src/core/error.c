/* The error idiom: ms_status codes plus an optional ms_error with message and context. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "morsel/status.h"

void ms_error_init(ms_error *err) {
  if (!err) return;
  memset(err, 0, sizeof *err);
  err->row_group = -1;
  err->row = -1;
  err->byte_offset = -1;
}

ms_status ms_error_set(ms_error *err, ms_status status, const char *fmt, ...) {
  if (!err) return status;
  err->status = status;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return status;
}

void ms_error_set_file(ms_error *err, const char *file) {
  if (err && file) snprintf(err->file, sizeof err->file, "%s", file);
}
void ms_error_set_column(ms_error *err, const char *column) {
  if (err && column) snprintf(err->column, sizeof err->column, "%s", column);
}
void ms_error_set_row_group(ms_error *err, int64_t row_group) {
  if (err) err->row_group = row_group;
}
void ms_error_set_row(ms_error *err, int64_t row) {
  if (err) err->row = row;
}
void ms_error_set_byte_offset(ms_error *err, int64_t offset) {
  if (err) err->byte_offset = offset;
}

const char *ms_error_format(const ms_error *err, char *buf, size_t buf_size) {
  if (!buf || buf_size == 0) return buf;
  buf[0] = '\0';
  if (!err) return buf;
  size_t n = 0;
#define MS_APPEND(...)                                                          \
  do {                                                                          \
    if (n < buf_size) {                                                         \
      int w_ = snprintf(buf + n, buf_size - n, __VA_ARGS__);                    \
      if (w_ > 0) n += (size_t)w_;                                              \
    }                                                                           \
  } while (0)
  const char *sep = "";
  if (err->file[0]) { MS_APPEND("%s", err->file); sep = ": "; }
  if (err->column[0]) { MS_APPEND("%scolumn '%s'", sep, err->column); sep = ", "; }
  if (err->row_group >= 0) { MS_APPEND("%srow group %lld", sep, (long long)err->row_group); sep = ", "; }
  if (err->row >= 0) { MS_APPEND("%srow %lld", sep, (long long)err->row); sep = ", "; }
  if (err->byte_offset >= 0) { MS_APPEND("%sbyte offset %lld", sep, (long long)err->byte_offset); sep = ", "; }
  if (*sep) sep = ": ";
  MS_APPEND("%s%s", sep, err->message[0] ? err->message : ms_status_name(err->status));
#undef MS_APPEND
  return buf;
}

const char *ms_status_name(ms_status status) {
  switch (status) {
    case MS_OK: return "ok";
    case MS_ERR_INVALID: return "invalid argument";
    case MS_ERR_IO: return "i/o error";
    case MS_ERR_CORRUPT: return "corrupt input";
    case MS_ERR_UNSUPPORTED: return "unsupported";
    case MS_ERR_NOMEM: return "out of memory";
    case MS_ERR_NOT_FOUND: return "not found";
    case MS_ERR_TYPE: return "type mismatch";
    case MS_ERR_PARSE: return "parse error";
    case MS_ERR_LIMIT: return "limit exceeded";
    case MS_ERR_INTERNAL: return "internal error";
    case MS_ERR_CONFLICT: return "conflict";
    case MS_ERR_EXISTS: return "already exists";
  }
  return "unknown status";
}
