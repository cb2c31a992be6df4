/* Expressions: the one small language used for source filters, derived columns, on-demand
 * feature views, aggregation inputs and filters, and the derived outputs of aggregation
 * views (docs/expressions.md is the reference).
 *
 * An expression is parsed once, type-checked against named typed inputs and compiled to a
 * flat program (a list of vector instructions over registers), then evaluated a batch of
 * rows at a time. Evaluation never reads an input the expression does not reference.
 *
 * Language, in short:
 *   literals    42, 1.5, 1e-3, 'text' ('' escapes a quote), true, false, null,
 *               durations 90d 12h 30m 45s 250ms 10us 5ns (and sums such as 1h30m),
 *               timestamp '2011-03-01 08:26:00' (naive) / '...Z' or '+01:00' (aware)
 *   columns     name, "quoted name", view.feature (a qualified name is one identifier)
 *   operators   + - * / % ; = == != <> < <= > >= ; and or not ; is [not] null ;
 *               x [not] in (a, b, ...) ; case when c then a [when ...] [else b] end
 *   functions   coalesce, if(c, a, b), abs, round(x[, digits]), floor, ceil, sqrt, log, exp,
 *               pow, least, greatest, clip(x, lo, hi), starts_with, ends_with, contains,
 *               lower, upper, length, substr(s, start[, len]), concat(...),
 *               date_diff(unit, a, b), extract(part from x) or extract('part', x),
 *               cast(x as type)
 * Semantics: SQL null semantics (an operator or function on a null gives null, except
 * is null, coalesce, and/or (three-valued), if/case conditions (null = false), least,
 * greatest and concat (which skip nulls)). Integers are int64 and floats float64 inside;
 * int op float is float; `/` is always float division; x / 0 and x % 0 are null; integer
 * overflow is an error naming the row. Timestamps of any unit and zone compare and
 * subtract as exact UTC nanoseconds (naive = UTC); timestamp +/- duration is a timestamp;
 * timestamp - timestamp is a duration; date_diff floors (b - a) to whole units (week, day,
 * hour, minute, second, millisecond, microsecond, nanosecond), so it matches pandas
 * `(b - a).dt.days` for 'day'. extract parts: year, month, day, hour, minute, second, dow
 * (0 = Sunday), doy; of aware values in UTC. Strings are UTF-8; length and substr count
 * code points; lower/upper change ASCII letters only. round is half away from zero.
 * Domain errors of sqrt/log/pow (negative, zero, NaN results) give null. */
#ifndef MORSEL_EXPR_H
#define MORSEL_EXPR_H

#include <stdint.h>

#include "morsel/status.h"
#include "morsel/table.h"
#include "morsel/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_expr ms_expr;

/* Parses, type-checks and compiles `text` against the inputs it may reference (names are
 * matched exactly; nullable is ignored). A syntax error is MS_ERR_PARSE, a type error,
 * unknown column or unknown function MS_ERR_INVALID; the message starts with
 * "at column N: " (1-based character position in text) and names what is wrong, with a
 * "did you mean" suggestion for a misspelt column or function, e.g.
 *   at column 1: unknown column 'conv_rat' (did you mean 'conv_rate'?)
 *   at column 11: '+' needs numbers, timestamps or durations; got string and int64
 * The result type is bool, int64, float64, utf8, date32 or timestamp[ns] (naive, or
 * tz "UTC" when an aware timestamp went in); an expression whose value would be a
 * duration is an error ("a duration is not a column type; use date_diff"). */
ms_status ms_expr_compile(const char *text, const ms_field *inputs, int n_inputs,
                          ms_expr **out, ms_error *err);
void ms_expr_free(ms_expr *e); /* NULL is allowed */

/* Parses only (no types, no inputs needed): the column names text references, distinct,
 * in order of first appearance (names and the array freed with ms_expr_names_free). Used
 * to find which inputs to fetch before their types are known. Errors as for compile. */
ms_status ms_expr_references(const char *text, char ***out_names, int *out_n,
                             ms_error *err);
void ms_expr_names_free(char **names, int n);

/* The result type. */
const ms_datatype *ms_expr_type(const ms_expr *e);
/* The text the expression was compiled from. */
const char *ms_expr_text(const ms_expr *e);
/* Which of the compile-time inputs the expression references: indices into the inputs
 * array, ascending. */
int ms_expr_num_used_inputs(const ms_expr *e);
int ms_expr_used_input(const ms_expr *e, int i);
/* True when the expression is a bare reference to one input (no computation). */
bool ms_expr_is_column(const ms_expr *e);

/* Evaluates over n rows: cols[i] holds the values of inputs[i] given at compile time (the
 * same type, or any type that compiles the same way: integers of any width for int64,
 * float32 for float64, timestamps of any unit/zone and large_utf8 for utf8); entries for
 * inputs the expression does not use may be NULL. The result is a new column of
 * ms_expr_type and length n. A runtime error (integer overflow, a failed cast) is
 * MS_ERR_INVALID naming the first failing row (ms_error row set) and the value.
 * Thread-safe: one compiled expression may be evaluated from several threads at once. */
ms_status ms_expr_eval(const ms_expr *e, ms_column *const *cols, int64_t n,
                       ms_column **out, ms_error *err);

/* The same with the inputs looked up by name in t (each used input must be present). */
ms_status ms_expr_eval_table(const ms_expr *e, const ms_table *t, ms_column **out,
                             ms_error *err);

/* Evaluates a bool expression as a filter mask: mask[i] = 1 when row i is true (false and
 * null give 0). mask has n bytes, owned by the caller. Returns the number of rows kept in
 * *out_kept (may be NULL). */
ms_status ms_expr_eval_mask(const ms_expr *e, ms_column *const *cols, int64_t n,
                            uint8_t *mask, int64_t *out_kept, ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
