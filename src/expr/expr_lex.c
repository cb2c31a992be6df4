/* Expression lexer: turns the text into tokens. Numbers are int64 (an integer literal
 * beyond int64 is an error) or float64; a number followed directly by a unit letter is a
 * duration literal (90d, 250ms, 1h30m: parts summed, in nanoseconds). Strings use single
 * quotes with '' for a quote; "double quotes" quote an identifier. Identifiers may contain
 * dots (view.feature is one name). Keywords are identifiers the parser recognises. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_int.h"
#include "morsel/alloc.h"

ms_status ms_expr_error_at(ms_error *err, ms_status st, const char *src, int pos,
                           const char *fmt, ...) {
  /* Column = 1 + the number of UTF-8 characters before pos. */
  int col = 1;
  for (int i = 0; i < pos && src[i]; i++)
    if (((unsigned char)src[i] & 0xC0) != 0x80) col++;
  char msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return ms_error_set(err, st, "at column %d: %s", col, msg);
}

bool ms_expr_tok_is_kw(const ms_expr_token *t, const char *kw) {
  return t->kind == T_IDENT && !t->quoted && strcasecmp(t->text, kw) == 0;
}

static ms_status push(ms_expr_lexer *lx, ms_expr_token *t, ms_error *err) {
  if (lx->n_tokens == lx->cap) {
    int cap = lx->cap ? lx->cap * 2 : 32;
    ms_expr_token *nt = ms_realloc(lx->toks, (size_t)cap * sizeof *nt);
    if (!nt) {
      ms_free(t->text);
      return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    }
    lx->toks = nt;
    lx->cap = cap;
  }
  lx->toks[lx->n_tokens++] = *t;
  return MS_OK;
}

static bool ident_start(int c) { return isalpha(c) || c == '_' || c >= 0x80; }
static bool ident_char(int c) { return isalnum(c) || c == '_' || c >= 0x80; }

/* Unit of a duration part at s; returns its length (0 when none) and the ns per unit. */
static int dur_unit(const char *s, int64_t *ns) {
  if (s[0] == 'm' && s[1] == 's') { *ns = 1000000; return 2; }
  if (s[0] == 'u' && s[1] == 's') { *ns = 1000; return 2; }
  if (s[0] == 'n' && s[1] == 's') { *ns = 1; return 2; }
  switch (s[0]) {
    case 'd': *ns = 86400LL * 1000000000; return 1;
    case 'h': *ns = 3600LL * 1000000000; return 1;
    case 'm': *ns = 60LL * 1000000000; return 1;
    case 's': *ns = 1000000000; return 1;
    default: return 0;
  }
}

/* Lexes a number or duration at src[i]. */
static ms_status lex_number(const char *src, int *pi, ms_expr_token *t, ms_error *err) {
  int i = *pi, start = i;
  while (isdigit((unsigned char)src[i])) i++;
  int64_t unit;
  if (!(src[i] == '.' || src[i] == 'e' || src[i] == 'E') && dur_unit(src + i, &unit)) {
    /* duration: (digits unit)+ */
    int64_t total = 0;
    i = start;
    for (;;) {
      int ds = i;
      int64_t v = 0;
      while (isdigit((unsigned char)src[i])) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, src[i] - '0', &v))
          return ms_expr_error_at(err, MS_ERR_PARSE, src, start, "duration literal out of range");
        i++;
      }
      if (i == ds) break;
      int ul = dur_unit(src + i, &unit);
      if (!ul) return ms_expr_error_at(err, MS_ERR_PARSE, src, i, "expected a duration unit (d, h, m, s, ms, us, ns)");
      i += ul;
      int64_t part;
      if (__builtin_mul_overflow(v, unit, &part) || __builtin_add_overflow(total, part, &total))
        return ms_expr_error_at(err, MS_ERR_PARSE, src, start, "duration literal out of range");
      if (!isdigit((unsigned char)src[i])) break;
    }
    if (ident_char((unsigned char)src[i]))
      return ms_expr_error_at(err, MS_ERR_PARSE, src, i, "unexpected '%c' in a duration literal", src[i]);
    t->kind = T_DUR;
    t->ival = total;
    *pi = i;
    return MS_OK;
  }
  bool is_float = false;
  if (src[i] == '.') {
    is_float = true;
    i++;
    while (isdigit((unsigned char)src[i])) i++;
  }
  if ((src[i] == 'e' || src[i] == 'E') &&
      (isdigit((unsigned char)src[i + 1]) ||
       ((src[i + 1] == '+' || src[i + 1] == '-') && isdigit((unsigned char)src[i + 2])))) {
    is_float = true;
    i += 2;
    while (isdigit((unsigned char)src[i])) i++;
  }
  if (ident_char((unsigned char)src[i]))
    return ms_expr_error_at(err, MS_ERR_PARSE, src, i, "unexpected '%c' after a number", src[i]);
  char buf[128];
  int len = i - start;
  if (len >= (int)sizeof buf)
    return ms_expr_error_at(err, MS_ERR_PARSE, src, start, "number too long");
  memcpy(buf, src + start, (size_t)len);
  buf[len] = 0;
  errno = 0;
  if (is_float) {
    t->kind = T_FLOAT;
    t->fval = strtod(buf, NULL);
  } else {
    t->kind = T_INT;
    t->ival = strtoll(buf, NULL, 10);
    if (errno == ERANGE) {
      /* too big for int64: a float literal is what the user most likely means */
      t->kind = T_FLOAT;
      t->fval = strtod(buf, NULL);
    }
  }
  *pi = i;
  return MS_OK;
}

/* Lexes a quoted string/identifier starting at the quote q. */
static ms_status lex_quoted(const char *src, int *pi, char q, ms_expr_token *t, ms_error *err) {
  int i = *pi + 1, start = *pi;
  size_t cap = 16, n = 0;
  char *buf = ms_malloc(cap);
  if (!buf) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  for (;;) {
    if (!src[i]) {
      ms_free(buf);
      return ms_expr_error_at(err, MS_ERR_PARSE, src, start,
                              q == '\'' ? "unterminated string" : "unterminated quoted name");
    }
    char c = src[i];
    if (c == q) {
      if (src[i + 1] == q) {
        i++;
      } else {
        i++;
        break;
      }
    }
    if (n + 1 >= cap) {
      cap *= 2;
      char *nb = ms_realloc(buf, cap);
      if (!nb) {
        ms_free(buf);
        return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
      }
      buf = nb;
    }
    buf[n++] = c;
    i++;
  }
  buf[n] = 0;
  t->text = buf;
  t->len = (int64_t)n;
  *pi = i;
  return MS_OK;
}

ms_status ms_expr_lex(const char *src, ms_expr_lexer *lx, ms_error *err) {
  memset(lx, 0, sizeof *lx);
  lx->src = src;
  int i = 0;
  ms_status st;
  for (;;) {
    while (isspace((unsigned char)src[i])) i++;
    ms_expr_token t;
    memset(&t, 0, sizeof t);
    t.pos = i;
    unsigned char c = (unsigned char)src[i];
    if (!c) {
      t.kind = T_END;
      t.end = i;
      return push(lx, &t, err);
    }
    if (isdigit(c) || (c == '.' && isdigit((unsigned char)src[i + 1]))) {
      st = lex_number(src, &i, &t, err);
    } else if (c == '\'') {
      t.kind = T_STR;
      st = lex_quoted(src, &i, '\'', &t, err);
    } else if (c == '"') {
      t.kind = T_IDENT;
      t.quoted = true;
      st = lex_quoted(src, &i, '"', &t, err);
      if (!st && t.len == 0) {
        ms_free(t.text);
        st = ms_expr_error_at(err, MS_ERR_PARSE, src, t.pos, "empty quoted name");
      }
    } else if (ident_start(c)) {
      int s = i;
      /* a.b.c: dots join identifier parts */
      while (ident_char((unsigned char)src[i]) ||
             (src[i] == '.' && ident_start((unsigned char)src[i + 1])))
        i++;
      t.kind = T_IDENT;
      t.text = ms_strndup(src + s, (size_t)(i - s));
      t.len = i - s;
      st = t.text ? MS_OK : ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    } else {
      st = MS_OK;
      i++;
      switch (c) {
        case '(': t.kind = T_LPAREN; break;
        case '[': /* only inside type names (timestamp[us, tz=UTC]): one opaque token */
          t.kind = T_BRACKET;
          while (src[i] && src[i] != ']') i++;
          if (src[i]) i++;
          break;
        case ')': t.kind = T_RPAREN; break;
        case ',': t.kind = T_COMMA; break;
        case '+': t.kind = T_PLUS; break;
        case '-': t.kind = T_MINUS; break;
        case '*': t.kind = T_STAR; break;
        case '/': t.kind = T_SLASH; break;
        case '%': t.kind = T_PERCENT; break;
        case '=':
          t.kind = T_EQ;
          if (src[i] == '=') i++;
          break;
        case '!':
          if (src[i] == '=') {
            t.kind = T_NE;
            i++;
          } else {
            st = ms_expr_error_at(err, MS_ERR_PARSE, src, t.pos, "unexpected '!' (use not or !=)");
          }
          break;
        case '<':
          if (src[i] == '=') { t.kind = T_LE; i++; }
          else if (src[i] == '>') { t.kind = T_NE; i++; }
          else t.kind = T_LT;
          break;
        case '>':
          if (src[i] == '=') { t.kind = T_GE; i++; }
          else t.kind = T_GT;
          break;
        default:
          st = ms_expr_error_at(err, MS_ERR_PARSE, src, t.pos, "unexpected character '%c'", c);
      }
    }
    if (st) return st;
    t.end = i;
    st = push(lx, &t, err);
    if (st) return st;
  }
}

void ms_expr_lex_free(ms_expr_lexer *lx) {
  for (int i = 0; i < lx->n_tokens; i++) ms_free(lx->toks[i].text);
  ms_free(lx->toks);
  memset(lx, 0, sizeof *lx);
}
