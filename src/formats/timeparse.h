/* ISO-8601 dates and timestamps: parsing to epoch counts and formatting back.
 *
 * Shared by the CSV reader/writer, the CLI's jsonl output and later the feature store.
 * Calendar arithmetic is proleptic Gregorian with no leap seconds (as Arrow). Parsing
 * accepts exactly:
 *
 *   date       YYYY-MM-DD                       (4-digit year 0000..9999)
 *   timestamp  date [T|t|' '] hh:mm [:ss [.f{1,9}]] [Z|z|±hh:mm|±hhmm|±hh]
 *
 * A timestamp with an offset is converted to UTC and reported with has_offset; without
 * one its wall-clock value is returned as if it were UTC (a "naive" timestamp). Nothing
 * else is accepted (no surrounding spaces, no week dates, no 24:00, no leap second 60).
 *
 * Formatting writes the inverse: "YYYY-MM-DD" and "YYYY-MM-DDThh:mm:ss" followed by all
 * digits the unit stores (.fff for ms, .ffffff for us, .fffffffff for ns, none for s) and
 * 'Z' when the value is UTC (a tz-aware column). Years outside 0..9999 (reachable with
 * second/milli/micro units) are written with a sign and at least 4 digits. */
#ifndef MS_FORMATS_TIMEPARSE_H
#define MS_FORMATS_TIMEPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "morsel/types.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31, not
 * validated). */
int64_t ms_days_from_civil(int64_t year, int month, int day);
/* The inverse of ms_days_from_civil. */
void ms_civil_from_days(int64_t days, int64_t *year, int *month, int *day);
bool ms_is_leap_year(int64_t year);
int ms_days_in_month(int64_t year, int month);

/* Parses exactly "YYYY-MM-DD" (len bytes, no NUL needed) into days since the epoch. */
bool ms_parse_date(const char *s, size_t len, int32_t *out_days);

typedef struct ms_timestamp_parts {
  int64_t seconds; /* since the epoch; UTC when has_offset, wall clock otherwise */
  int32_t nanos;   /* 0 .. 999,999,999 */
  bool has_offset; /* the text carried 'Z' or a numeric offset */
  bool date_only;  /* the text was a bare date (midnight) */
} ms_timestamp_parts;

/* Parses a timestamp (see the grammar above). When allow_date_only is true a bare date is
 * accepted as midnight with has_offset false and date_only true. */
bool ms_parse_timestamp_parts(const char *s, size_t len, bool allow_date_only,
                              ms_timestamp_parts *out);
/* Converts parts into a count of `unit` since the epoch. Returns false on int64 overflow,
 * or, when `exact` is true, when the fraction has more digits than the unit keeps
 * (otherwise the fraction is truncated towards the past). */
bool ms_timestamp_from_parts(const ms_timestamp_parts *p, ms_time_unit unit, bool exact,
                             int64_t *out);
/* Convenience: nanoseconds since the epoch (bare dates accepted). out_has_offset may be
 * NULL. False when the text does not parse or is outside the int64 ns range
 * (1677-09-21 .. 2262-04-11). */
bool ms_parse_timestamp_ns(const char *s, size_t len, int64_t *out_ns, bool *out_has_offset);

/* Buffer sizes that always suffice for the formatters below (including the NUL). */
#define MS_DATE_BUF_SIZE 24
#define MS_TIMESTAMP_BUF_SIZE 48

/* Writes "YYYY-MM-DD" and a NUL into buf (MS_DATE_BUF_SIZE bytes); returns the length. */
int ms_format_date32(int32_t days, char *buf);
/* Writes an ISO-8601 timestamp of `value` units since the epoch and a NUL into buf
 * (MS_TIMESTAMP_BUF_SIZE bytes); 'Z' is appended when utc is true. Returns the length. */
int ms_format_timestamp(int64_t value, ms_time_unit unit, bool utc, char *buf);

#endif
