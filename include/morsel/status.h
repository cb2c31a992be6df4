/* morsel status codes and the error struct every fallible function fills.
 *
 * Functions return an ms_status; MS_OK is zero. The numeric values never change once
 * assigned (they may be stored or compared by callers). An optional ms_error* carries a
 * human-readable message and, where known, the context: file, column, row group, row and
 * byte offset. Passing NULL for the error is always allowed. Library code never prints,
 * aborts or exits. */
#ifndef MORSEL_STATUS_H
#define MORSEL_STATUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ms_status {
  MS_OK = 0,
  MS_ERR_INVALID = 1,     /* bad argument or bad request from the caller */
  MS_ERR_IO = 2,          /* the operating system refused a read/write/open */
  MS_ERR_CORRUPT = 3,     /* input data violates its format */
  MS_ERR_UNSUPPORTED = 4, /* valid input we do not handle (e.g. nested Parquet column) */
  MS_ERR_NOMEM = 5,       /* allocation failed or a memory limit was reached */
  MS_ERR_NOT_FOUND = 6,   /* file, column or object does not exist */
  MS_ERR_TYPE = 7,        /* type mismatch */
  MS_ERR_PARSE = 8,       /* text could not be parsed (CSV cell, YAML, expression) */
  MS_ERR_LIMIT = 9,       /* an untrusted size exceeds what we accept */
  MS_ERR_INTERNAL = 10,   /* a bug in morsel */
  MS_ERR_CONFLICT = 11,   /* concurrent modification */
  MS_ERR_EXISTS = 12      /* target already exists */
} ms_status;

/* Context fields are -1 / empty when unknown. */
typedef struct ms_error {
  ms_status status;
  char message[1024];
  char file[512];
  char column[256];
  int64_t row_group;
  int64_t row;
  int64_t byte_offset;
} ms_error;

/* Clears the error to MS_OK with no context. */
void ms_error_init(ms_error *err);

/* Sets status and message (printf-style), keeps existing context. Returns status so that
 * callers can write `return ms_error_set(err, MS_ERR_IO, "...")`. err may be NULL. */
ms_status ms_error_set(ms_error *err, ms_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Context setters; each is a no-op when err is NULL. Setting a context field does not
 * change the status. */
void ms_error_set_file(ms_error *err, const char *file);
void ms_error_set_column(ms_error *err, const char *column);
void ms_error_set_row_group(ms_error *err, int64_t row_group);
void ms_error_set_row(ms_error *err, int64_t row);
void ms_error_set_byte_offset(ms_error *err, int64_t offset);

/* Writes "file: column 'c', row group N, row R, byte offset B: message" into buf
 * (only the known parts). Returns buf. */
const char *ms_error_format(const ms_error *err, char *buf, size_t buf_size);

/* A constant name for a status, e.g. "corrupt". */
const char *ms_status_name(ms_status status);

#ifdef __cplusplus
}
#endif
#endif
