/* Internals of the expression engine (include/morsel/expr.h), shared by its modules:
 *
 *   expr_lex.c      text -> tokens (positions are byte offsets; messages convert them to
 *                   1-based character columns)
 *   expr_parse.c    tokens -> syntax tree (recursive descent, one node per construct)
 *   expr_check.c    names and types: resolves columns and functions, picks typed
 *                   operations, inserts implicit conversions
 *   expr_compile.c  tree -> flat program of vector instructions; the public entry points
 *   expr_eval.c     runs a program a batch of rows at a time over typed registers
 *   expr_func.c     the kernels of functions and casts that are longer than a loop line
 *
 * Value kinds inside the engine are few: bool, int64, float64, string, timestamp (int64 ns
 * since the epoch, UTC or naive), duration (int64 ns) and date (int64 days). A null
 * literal has kind NULL until the checker settles it to the kind its context needs. */
#ifndef MS_EXPR_INT_H
#define MS_EXPR_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "morsel/expr.h"

typedef enum ms_expr_kind {
  EK_NULL = 0,
  EK_BOOL,
  EK_INT,
  EK_FLOAT,
  EK_STR,
  EK_TS,
  EK_DUR,
  EK_DATE
} ms_expr_kind;

const char *ms_expr_kind_name(ms_expr_kind k);

/* ---- tokens ---- */
typedef enum ms_expr_tok {
  T_END = 0,
  T_INT,      /* ival */
  T_FLOAT,    /* fval */
  T_DUR,      /* ival = ns */
  T_STR,      /* text (unescaped), len */
  T_IDENT,    /* text (unquoted), len; quoted = "..." form */
  T_LPAREN,
  T_RPAREN,
  T_COMMA,
  T_PLUS,
  T_MINUS,
  T_STAR,
  T_SLASH,
  T_PERCENT,
  T_EQ,
  T_NE,
  T_LT,
  T_LE,
  T_GT,
  T_GE,
  T_BRACKET /* [...] of a type name */
} ms_expr_tok;

typedef struct ms_expr_token {
  ms_expr_tok kind;
  int pos; /* byte offset in the text */
  int end; /* byte offset just past the token */
  int64_t ival;
  double fval;
  char *text; /* T_STR, T_IDENT: NUL-terminated copy */
  int64_t len;
  bool quoted;
} ms_expr_token;

typedef struct ms_expr_lexer {
  const char *src;
  int n_tokens, cap;
  ms_expr_token *toks;
} ms_expr_lexer;

ms_status ms_expr_lex(const char *src, ms_expr_lexer *lx, ms_error *err);
void ms_expr_lex_free(ms_expr_lexer *lx);
/* Sets err to "at column N: <message>" for byte offset pos of src; returns status. */
ms_status ms_expr_error_at(ms_error *err, ms_status st, const char *src, int pos,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* True when an identifier token is the keyword kw (case-insensitive, unquoted). */
bool ms_expr_tok_is_kw(const ms_expr_token *t, const char *kw);

/* ---- syntax tree ---- */
typedef enum ms_expr_node_kind {
  N_LIT,    /* literal: lit_kind with ival/fval/sval; EK_NULL for null */
  N_COL,    /* column reference: name */
  N_UNARY,  /* op T_MINUS or OPK_NOT on args[0] */
  N_BINARY, /* op: arithmetic/comparison token, OPK_AND, OPK_OR */
  N_ISNULL, /* args[0] is [not] null (negate) */
  N_CALL,   /* function name(args...) (also if, coalesce, date_diff, extract) */
  N_CASE,   /* args: cond0, val0, cond1, val1, ..., [else] (has_else) */
  N_CAST,   /* cast(args[0] as cast_to) */
  N_IN      /* args[0] [not] in (args[1..]) */
} ms_expr_node_kind;

enum { OPK_AND = 100, OPK_OR, OPK_NOT };

typedef struct ms_expr_node {
  ms_expr_node_kind kind;
  int pos; /* byte offset of the construct (operators: of the operator) */
  int op;
  bool negate;
  bool has_else;
  char *name;
  int n_args;
  struct ms_expr_node **args;
  /* literals */
  ms_expr_kind lit_kind;
  int64_t ival;
  double fval;
  char *sval;
  int64_t slen;
  bool lit_aware; /* timestamp literal with an offset */
  /* cast target */
  ms_datatype cast_to;
  /* filled by the checker */
  ms_expr_kind vk; /* value kind */
  bool aware;      /* timestamps: UTC (tz-aware) rather than naive */
  int input;       /* N_COL: index into the inputs */
  int func;        /* N_CALL: function id */
  int reg;         /* compiler: register */
} ms_expr_node;

/* Nodes are owned by a pool freed in one call. */
typedef struct ms_expr_pool {
  ms_expr_node **nodes;
  int n, cap;
} ms_expr_pool;

ms_expr_node *ms_expr_node_new(ms_expr_pool *pool, ms_expr_node_kind kind, int pos);
ms_status ms_expr_node_add_arg(ms_expr_node *n, ms_expr_node *arg);
void ms_expr_pool_free(ms_expr_pool *pool);

/* Parses the whole text into *out (nodes in pool). */
ms_status ms_expr_parse(const char *text, ms_expr_pool *pool, ms_expr_node **out,
                        ms_error *err);

/* ---- functions ---- */
typedef enum ms_expr_func {
  F_COALESCE = 1, F_IF, F_ABS, F_ROUND, F_FLOOR, F_CEIL, F_SQRT, F_LOG, F_EXP, F_POW,
  F_LEAST, F_GREATEST, F_CLIP, F_STARTS_WITH, F_ENDS_WITH, F_CONTAINS, F_LOWER, F_UPPER,
  F_LENGTH, F_SUBSTR, F_CONCAT, F_DATE_DIFF, F_EXTRACT
} ms_expr_func;

typedef struct ms_expr_func_info {
  const char *name;
  ms_expr_func id;
  int min_args, max_args; /* max -1 = any */
} ms_expr_func_info;

extern const ms_expr_func_info ms_expr_funcs[];
extern const int ms_expr_n_funcs;

/* Extract parts and date_diff units (ids shared by checker and evaluator). */
enum { XP_YEAR, XP_MONTH, XP_DAY, XP_HOUR, XP_MINUTE, XP_SECOND, XP_DOW, XP_DOY };
int ms_expr_extract_part(const char *name); /* -1 when unknown */
int64_t ms_expr_unit_ns(const char *name);  /* 0 when unknown */

/* Checks names and types of the tree in place (vk, aware, input, func, and rewrites such
 * as settling nulls and coercing literals). */
ms_status ms_expr_check(const char *text, ms_expr_node **root, ms_expr_pool *pool,
                        const ms_field *inputs, int n_inputs, ms_error *err);

/* Closest candidate within a small edit distance, or NULL. */
const char *ms_expr_suggest(const char *name, const char *const *cands, int n);

/* ---- program ---- */
typedef enum ms_expr_opcode {
  OP_LOAD,      /* dst <- input imm */
  /* int64 (also timestamps/durations), overflow is an error */
  OP_ADD_I, OP_SUB_I, OP_MUL_I, OP_NEG_I, OP_ABS_I, OP_MOD_I,
  OP_ADD_F, OP_SUB_F, OP_MUL_F, OP_DIV_F, OP_MOD_F, OP_NEG_F, OP_ABS_F,
  OP_CMP_I, OP_CMP_F, OP_CMP_S, OP_CMP_B, /* imm = comparison */
  OP_AND, OP_OR, OP_NOT, OP_ISNULL, OP_NOTNULL,
  OP_COALESCE, /* dst = a valid ? a : b */
  OP_SELECT,   /* dst = c true ? a : b (c in reg c) */
  OP_MASK_TRUE, OP_MASK_NOTTRUE, OP_MASK_NULL, /* dst bool mask = M & pred(a) */
  OP_MIN, OP_MAX,         /* least/greatest: nulls skipped */
  OP_CLIP_LO, OP_CLIP_HI, /* x null -> null; null bound ignored */
  /* conversions */
  OP_I2F, OP_F2I, OP_I2B, OP_B2I, OP_B2F, OP_F2B, OP_D2TS, OP_TS2D,
  OP_I2S, OP_F2S, OP_B2S, OP_TS2S, OP_D2S, OP_S2I, OP_S2F, OP_S2B, OP_S2TS, OP_S2D,
  /* math */
  OP_ROUND_F, OP_ROUND_I, OP_FLOOR_F, OP_CEIL_F, OP_SQRT, OP_LOG, OP_EXP, OP_POW,
  /* strings */
  OP_STARTS, OP_ENDS, OP_CONTAINS, OP_LOWER, OP_UPPER, OP_LENGTH, OP_SUBSTR, OP_CONCAT,
  /* time */
  OP_DATE_DIFF, /* floor((b - a) / imm) */
  OP_EXTRACT_TS, OP_EXTRACT_D /* imm = part */
} ms_expr_opcode;

enum { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

typedef enum ms_expr_phys { PH_BOOL, PH_I64, PH_F64, PH_STR } ms_expr_phys;

typedef struct ms_expr_instr {
  ms_expr_opcode op;
  int dst, a, b, c; /* registers, -1 when unused */
  int mask;         /* bool register of rows that matter for errors, -1 = all */
  int64_t imm;
  int pos;          /* byte offset in the text, for messages */
} ms_expr_instr;

typedef struct ms_expr_const {
  int reg;
  bool is_null;
  int64_t ival;
  double fval;
  char *sval;
  int64_t slen;
} ms_expr_const;

typedef struct ms_expr_reginfo {
  ms_expr_phys phys;
  ms_expr_kind kind;
} ms_expr_reginfo;

struct ms_expr {
  char *text;
  ms_datatype type;
  ms_expr_kind kind;
  int n_inputs;        /* compile-time inputs */
  ms_field *inputs;    /* copies (names owned) */
  int n_used;
  int *used;           /* ascending input indices */
  bool is_column;
  int n_regs;
  ms_expr_reginfo *regs;
  int n_instrs;
  ms_expr_instr *instrs;
  int n_consts;
  ms_expr_const *consts;
  int result_reg;
};

/* Runs the program over rows [0, n) of cols, producing a column (out) or a mask. */
ms_status ms_expr_run(const ms_expr *e, ms_column *const *cols, int64_t n, ms_column **out,
                      uint8_t *mask, int64_t *out_kept, ms_error *err);

/* ---- helpers in expr_func.c ---- */
typedef struct ms_expr_sv {
  const char *p;
  int64_t n;
} ms_expr_sv;

/* Shortest text that reads back as the same double; "1.0" style for integral values. */
int ms_expr_format_double(double v, char *buf, size_t size);
bool ms_expr_parse_int(const char *s, int64_t n, int64_t *out);
bool ms_expr_parse_double(const char *s, int64_t n, double *out);
bool ms_expr_parse_bool(const char *s, int64_t n, bool *out);
int64_t ms_expr_utf8_count(const char *s, int64_t n);
/* Civil fields of ns since the epoch. */
int64_t ms_expr_extract_ns(int64_t ns, int part);
int64_t ms_expr_extract_days(int64_t days, int part);

#endif
