#include "gql_lexer.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

void gql_lexer_init(gql_lexer *lx, const char *src, size_t len, roster_arena *arena)
{
    lx->src = src;
    lx->len = len;
    lx->pos = 0;
    lx->line = 1;
    lx->line_start = 0;
    lx->col_pos = 0;
    lx->col = 1;
    lx->line_wide = 0;
    lx->arena = arena;
    memset(&lx->tok, 0, sizeof lx->tok);
    lx->tok.kind = GQL_TOK_SOF;
    lx->tok.loc.line = 0;
    lx->tok.loc.column = 0;
    lx->message[0] = '\0';
    lx->err_loc.line = 0;
    lx->err_loc.column = 0;
    /* A leading byte order mark is ignored. */
    if (len >= 3 && (unsigned char)src[0] == 0xEF && (unsigned char)src[1] == 0xBB &&
        (unsigned char)src[2] == 0xBF) {
        lx->pos = 3;
        lx->line_wide = 1;
    }
}

static const char *const kind_desc[] = {"<SOF>", "<EOF>",   "\"!\"",      "\"$\"", "\"&\"", "\"(\"",
                                        "\")\"", "\"...\"", "\":\"",      "\"=\"", "\"@\"", "\"[\"",
                                        "\"]\"", "\"{\"",   "\"|\"",      "\"}\"", "Name",  "Int",
                                        "Float", "String",  "BlockString"};

const char *gql_token_kind_desc(int kind)
{
    if (kind < 0 || kind > GQL_TOK_BLOCK_STRING)
        return "<unknown>";
    return kind_desc[kind];
}

/* Column (in UTF-16 code units, 1-based) of byte offset p on the current
 * line. Amortised linear: tokens are asked for in increasing order. */
static uint32_t column_at(gql_lexer *lx, size_t p)
{
    /* ASCII-only line so far: the column is the byte distance. */
    if (!lx->line_wide)
        return (uint32_t)(p - lx->line_start + 1);
    size_t from;
    uint32_t col;
    if (lx->col_pos >= lx->line_start && lx->col_pos <= p) {
        from = lx->col_pos;
        col = lx->col;
    } else {
        from = lx->line_start;
        col = 1;
    }
    const unsigned char *s = (const unsigned char *)lx->src;
    for (size_t i = from; i < p; i++) {
        unsigned b = s[i];
        if ((b & 0xC0) != 0x80)
            col += b >= 0xF0 ? 2 : 1;
    }
    lx->col_pos = p;
    lx->col = col;
    return col;
}

static gql_location loc_at(gql_lexer *lx, size_t p)
{
    gql_location l = {lx->line, column_at(lx, p)};
    return l;
}

/* Decodes the code point at p (UTF-8); returns its byte length, or 0 for an
 * invalid sequence. */
static size_t decode_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF && n >= 2 && (s[1] & 0xC0) == 0x80) {
        *cp = ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu);
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF && n >= 3 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
        uint32_t v = ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
        if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        *cp = v;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4 && n >= 4 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 &&
        (s[3] & 0xC0) == 0x80) {
        uint32_t v =
            ((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
        if (v < 0x10000 || v > 0x10FFFF)
            return 0;
        *cp = v;
        return 4;
    }
    return 0;
}

static size_t encode_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* graphql-js printCodePointAt: <EOF>, "c" for printable ASCII, else U+ and four hex digits. */
static void print_code_point_at(gql_lexer *lx, size_t p, char *out, size_t cap)
{
    if (p >= lx->len) {
        snprintf(out, cap, "<EOF>");
        return;
    }
    const unsigned char *s = (const unsigned char *)lx->src + p;
    uint32_t cp;
    if (decode_utf8(s, lx->len - p, &cp) == 0) {
        snprintf(out, cap, "U+%04X", (unsigned)s[0]);
        return;
    }
    if (cp == '"')
        snprintf(out, cap, "'\"'");
    else if (cp >= 0x20 && cp <= 0x7E)
        snprintf(out, cap, "\"%c\"", (char)cp);
    else
        snprintf(out, cap, "U+%04X", (unsigned)cp);
}

static int lex_error(gql_lexer *lx, size_t p, const char *fmt, const char *arg)
{
    lx->err_loc = loc_at(lx, p);
    snprintf(lx->message, sizeof lx->message, fmt, arg);
    return ROSTER_E_PARSE;
}

static int lex_error_cp(gql_lexer *lx, size_t p, const char *fmt)
{
    char cpd[16];
    print_code_point_at(lx, p, cpd, sizeof cpd);
    return lex_error(lx, p, fmt, cpd);
}

static inline int is_name_start(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static const uint8_t name_cont[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['_'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1,
    ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1,
    ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1,
    ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1,
    ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1,
    ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1};

static inline int is_name_cont(unsigned c)
{
    return name_cont[c];
}

static inline int is_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}

static void set_tok(gql_lexer *lx, int kind, size_t start, size_t end)
{
    lx->tok.kind = (uint8_t)kind;
    lx->tok.start = start;
    lx->tok.end = end;
    lx->tok.loc = loc_at(lx, start);
    lx->tok.value.ptr = lx->src + start;
    lx->tok.value.len = (uint32_t)(end - start);
    lx->pos = end;
}

static int read_digits(gql_lexer *lx, size_t *p)
{
    const unsigned char *s = (const unsigned char *)lx->src;
    if (*p >= lx->len || !is_digit(s[*p]))
        return lex_error_cp(lx, *p, "Invalid number, expected digit but got: %s.");
    while (*p < lx->len && is_digit(s[*p]))
        (*p)++;
    return ROSTER_E_OK;
}

static int read_number(gql_lexer *lx, size_t start)
{
    const unsigned char *s = (const unsigned char *)lx->src;
    size_t p = start;
    int is_float = 0;
    if (s[p] == '-')
        p++;
    if (p < lx->len && s[p] == '0') {
        p++;
        if (p < lx->len && is_digit(s[p]))
            return lex_error_cp(lx, p, "Invalid number, unexpected digit after 0: %s.");
    } else {
        int rc = read_digits(lx, &p);
        if (rc)
            return rc;
    }
    if (p < lx->len && s[p] == '.') {
        is_float = 1;
        p++;
        int rc = read_digits(lx, &p);
        if (rc)
            return rc;
    }
    if (p < lx->len && (s[p] == 'e' || s[p] == 'E')) {
        is_float = 1;
        p++;
        if (p < lx->len && (s[p] == '+' || s[p] == '-'))
            p++;
        int rc = read_digits(lx, &p);
        if (rc)
            return rc;
    }
    if (p < lx->len && (s[p] == '.' || is_name_start(s[p])))
        return lex_error_cp(lx, p, "Invalid number, expected digit but got: %s.");
    set_tok(lx, is_float ? GQL_TOK_FLOAT : GQL_TOK_INT, start, p);
    return ROSTER_E_OK;
}

static int hexval(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

/* Four hex digits at p, or -1. */
static int32_t read_hex4(gql_lexer *lx, size_t p)
{
    if (p + 4 > lx->len)
        return -1;
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)lx->src[p + (size_t)i]);
        if (h < 0)
            return -1;
        v = (v << 4) | h;
    }
    return v;
}

static int bad_unicode_escape(gql_lexer *lx, size_t p, size_t n)
{
    char tmp[40];
    if (p + n > lx->len)
        n = lx->len - p;
    if (n > 20)
        n = 20;
    snprintf(tmp, sizeof tmp, "%.*s", (int)n, lx->src + p);
    return lex_error(lx, p, "Invalid Unicode escape sequence: \"%s\".", tmp);
}

/* Reads "..." starting at the opening quote. */
static int read_string(gql_lexer *lx, size_t start)
{
    const unsigned char *s = (const unsigned char *)lx->src;
    size_t p = start + 1;
    /* Fast path: no escapes, plain slice. */
    size_t q = p;
    while (q < lx->len && s[q] != '"' && s[q] != '\\' && s[q] != '\n' && s[q] != '\r' &&
           s[q] < 0x80)
        q++;
    if (q < lx->len && s[q] == '"') {
        set_tok(lx, GQL_TOK_STRING, start, q + 1);
        lx->tok.value.ptr = lx->src + p;
        lx->tok.value.len = (uint32_t)(q - p);
        return ROSTER_E_OK;
    }
    /* Slow path: decode into the arena. The value is never longer than the
     * remaining source. */
    char *out = NULL;
    size_t o = 0;
    size_t cap = 0;
    while (p < lx->len) {
        unsigned c = s[p];
        if (c == '"') {
            set_tok(lx, GQL_TOK_STRING, start, p + 1);
            lx->tok.value.ptr = out ? out : lx->src + start + 1;
            lx->tok.value.len = (uint32_t)o;
            return ROSTER_E_OK;
        }
        if (c == '\n' || c == '\r')
            break;
        if (c >= 0x80)
            lx->line_wide = 1;
        if (out == NULL) {
            cap = lx->len - start;
            out = roster_arena_alloc(lx->arena, cap + 1);
            if (out == NULL)
                return ROSTER_E_NOMEM;
            memcpy(out, lx->src + start + 1, p - start - 1);
            o = p - start - 1;
        }
        if (c == '\\') {
            if (p + 1 >= lx->len)
                break;
            unsigned e = s[p + 1];
            char ch = 0;
            switch (e) {
            case '"':
                ch = '"';
                break;
            case '\\':
                ch = '\\';
                break;
            case '/':
                ch = '/';
                break;
            case 'b':
                ch = '\b';
                break;
            case 'f':
                ch = '\f';
                break;
            case 'n':
                ch = '\n';
                break;
            case 'r':
                ch = '\r';
                break;
            case 't':
                ch = '\t';
                break;
            case 'u': {
                uint32_t cp;
                size_t used;
                if (p + 2 < lx->len && s[p + 2] == '{') {
                    /* \u{X...}: up to \u{00000000} */
                    uint32_t point = 0;
                    size_t size = 3;
                    int ok = 0;
                    while (size < 12) {
                        size_t at = p + size++;
                        if (at >= lx->len)
                            break;
                        unsigned d = s[at];
                        if (d == '}') {
                            if (size >= 5 &&
                                (point <= 0xD7FF || (point >= 0xE000 && point <= 0x10FFFF)))
                                ok = 1;
                            break;
                        }
                        int h = hexval(d);
                        if (h < 0 || point > 0x10FFFF)
                            break;
                        point = (point << 4) | (uint32_t)h;
                    }
                    if (!ok)
                        return bad_unicode_escape(lx, p, size);
                    cp = point;
                    used = size;
                } else {
                    int32_t v = read_hex4(lx, p + 2);
                    if (v < 0)
                        return bad_unicode_escape(lx, p, 6);
                    if (v >= 0xD800 && v <= 0xDBFF) {
                        int32_t t = -1;
                        if (p + 7 < lx->len && s[p + 6] == '\\' && s[p + 7] == 'u')
                            t = read_hex4(lx, p + 8);
                        if (t < 0xDC00 || t > 0xDFFF)
                            return bad_unicode_escape(lx, p, 6);
                        cp = 0x10000u + (((uint32_t)v - 0xD800u) << 10) + ((uint32_t)t - 0xDC00u);
                        used = 12;
                    } else if (v >= 0xDC00 && v <= 0xDFFF) {
                        return bad_unicode_escape(lx, p, 6);
                    } else {
                        cp = (uint32_t)v;
                        used = 6;
                    }
                }
                o += encode_utf8(out + o, cp);
                p += used;
                continue;
            }
            default: {
                char tmp[8];
                size_t n = 2;
                uint32_t cp;
                size_t cl = decode_utf8(s + p + 1, lx->len - p - 1, &cp);
                if (cl > 1)
                    n = 1 + cl;
                snprintf(tmp, sizeof tmp, "%.*s", (int)n, lx->src + p);
                return lex_error(lx, p, "Invalid character escape sequence: \"%s\".", tmp);
            }
            }
            out[o++] = ch;
            p += 2;
            continue;
        }
        if (c < 0x80) {
            out[o++] = (char)c;
            p++;
            continue;
        }
        uint32_t cp;
        size_t n = decode_utf8(s + p, lx->len - p, &cp);
        if (n == 0)
            return lex_error_cp(lx, p, "Invalid character within String: %s.");
        memcpy(out + o, s + p, n);
        o += n;
        p += n;
    }
    return lex_error(lx, p, "%s", "Unterminated string.");
}

size_t gql_block_string_value(char *out, const char *raw, size_t len)
{
    /* Pass 1: common indentation and first/last non-blank lines. */
    size_t common = (size_t)-1;
    long first_nb = -1, last_nb = -1;
    long line = 0;
    size_t p = 0;
    while (1) {
        size_t ls = p;
        while (p < len && raw[p] != '\n' && raw[p] != '\r')
            p++;
        size_t le = p;
        size_t indent = 0;
        while (ls + indent < le && (raw[ls + indent] == ' ' || raw[ls + indent] == '\t'))
            indent++;
        if (indent < le - ls) {
            if (first_nb < 0)
                first_nb = line;
            last_nb = line;
            if (line != 0 && indent < common)
                common = indent;
        }
        if (p >= len)
            break;
        if (raw[p] == '\r' && p + 1 < len && raw[p + 1] == '\n')
            p++;
        p++;
        line++;
    }
    if (first_nb < 0)
        return 0;
    /* Pass 2: copy lines first_nb..last_nb, joined by \n. */
    size_t o = 0;
    line = 0;
    p = 0;
    while (1) {
        size_t ls = p;
        while (p < len && raw[p] != '\n' && raw[p] != '\r')
            p++;
        size_t le = p;
        if (line >= first_nb && line <= last_nb) {
            if (line > first_nb)
                out[o++] = '\n';
            if (line != 0 && common != (size_t)-1)
                ls = (le - ls > common) ? ls + common : le;
            memcpy(out + o, raw + ls, le - ls);
            o += le - ls;
        }
        if (p >= len || line >= last_nb)
            break;
        if (raw[p] == '\r' && p + 1 < len && raw[p + 1] == '\n')
            p++;
        p++;
        line++;
    }
    return o;
}

static int read_block_string(gql_lexer *lx, size_t start)
{
    const unsigned char *s = (const unsigned char *)lx->src;
    size_t p = start + 3;
    uint32_t line = lx->line;
    size_t line_start = lx->line_start;
    int wide = 0; /* non-ASCII bytes on the block string's last line */
    char *raw = NULL;
    size_t r = 0;
    while (p < lx->len) {
        unsigned c = s[p];
        if (c == '"' && p + 2 < lx->len && s[p + 1] == '"' && s[p + 2] == '"') {
            size_t rawlen = raw ? r : p - start - 3;
            const char *rawp = raw ? raw : lx->src + start + 3;
            char *val = roster_arena_alloc(lx->arena, rawlen + 1);
            if (val == NULL)
                return ROSTER_E_NOMEM;
            size_t vl = gql_block_string_value(val, rawp, rawlen);
            /* The token starts on the line where it opened. */
            lx->tok.kind = GQL_TOK_BLOCK_STRING;
            lx->tok.start = start;
            lx->tok.end = p + 3;
            lx->tok.loc = loc_at(lx, start);
            lx->tok.value.ptr = val;
            lx->tok.value.len = (uint32_t)vl;
            lx->pos = p + 3;
            if (line != lx->line)
                lx->line_wide = 0;
            lx->line = line;
            lx->line_start = line_start;
            lx->line_wide |= wide;
            return ROSTER_E_OK;
        }
        if (c == '\\' && p + 3 < lx->len && s[p + 1] == '"' && s[p + 2] == '"' && s[p + 3] == '"') {
            if (raw == NULL) {
                raw = roster_arena_alloc(lx->arena, lx->len - start + 1);
                if (raw == NULL)
                    return ROSTER_E_NOMEM;
                r = p - start - 3;
                memcpy(raw, lx->src + start + 3, r);
            }
            memcpy(raw + r, "\"\"\"", 3);
            r += 3;
            p += 4;
            continue;
        }
        size_t n = 1;
        if (c == '\n' || c == '\r') {
            if (c == '\r' && p + 1 < lx->len && s[p + 1] == '\n')
                n = 2;
            line++;
            line_start = p + n;
            wide = 0;
        } else if (c >= 0x80) {
            wide = 1;
            uint32_t cp;
            n = decode_utf8(s + p, lx->len - p, &cp);
            if (n == 0) {
                /* report on the right line */
                lx->line = line;
                lx->line_start = line_start;
                lx->line_wide = 1;
                return lex_error_cp(lx, p, "Invalid character within String: %s.");
            }
        }
        if (raw) {
            memcpy(raw + r, s + p, n);
            r += n;
        }
        p += n;
    }
    lx->line = line;
    lx->line_start = line_start;
    lx->line_wide = 1;
    return lex_error(lx, p, "%s", "Unterminated string.");
}

/* 1 for the ignored characters that do not end a line: space, tab, comma. */
static const uint8_t blank[256] = {[' '] = 1, ['\t'] = 1, [','] = 1};

int gql_lexer_next(gql_lexer *lx)
{
    const unsigned char *s = (const unsigned char *)lx->src;
    const size_t len = lx->len;
    size_t p = lx->pos;
    for (;;) {
        while (p < len && blank[s[p]])
            p++;
        if (p >= len) {
            set_tok(lx, GQL_TOK_EOF, lx->len, lx->len);
            return ROSTER_E_OK;
        }
        unsigned c = s[p];
        switch (c) {
        case ' ':
        case '\t':
        case ',':
            p++;
            continue;
        case '\n':
            p++;
            lx->line++;
            lx->line_start = p;
            lx->line_wide = 0;
            continue;
        case '\r':
            p++;
            if (p < lx->len && s[p] == '\n')
                p++;
            lx->line++;
            lx->line_start = p;
            lx->line_wide = 0;
            continue;
        case '#':
            while (p < lx->len && s[p] != '\n' && s[p] != '\r') {
                if (s[p] >= 0x80)
                    lx->line_wide = 1;
                p++;
            }
            continue;
        case 0xEF:
            if (p + 2 < lx->len && s[p + 1] == 0xBB && s[p + 2] == 0xBF) {
                p += 3;
                lx->line_wide = 1;
                continue;
            }
            break;
        case '!':
            set_tok(lx, GQL_TOK_BANG, p, p + 1);
            return ROSTER_E_OK;
        case '$':
            set_tok(lx, GQL_TOK_DOLLAR, p, p + 1);
            return ROSTER_E_OK;
        case '&':
            set_tok(lx, GQL_TOK_AMP, p, p + 1);
            return ROSTER_E_OK;
        case '(':
            set_tok(lx, GQL_TOK_PAREN_L, p, p + 1);
            return ROSTER_E_OK;
        case ')':
            set_tok(lx, GQL_TOK_PAREN_R, p, p + 1);
            return ROSTER_E_OK;
        case '.':
            if (p + 2 < lx->len && s[p + 1] == '.' && s[p + 2] == '.') {
                set_tok(lx, GQL_TOK_SPREAD, p, p + 3);
                return ROSTER_E_OK;
            }
            break;
        case ':':
            set_tok(lx, GQL_TOK_COLON, p, p + 1);
            return ROSTER_E_OK;
        case '=':
            set_tok(lx, GQL_TOK_EQUALS, p, p + 1);
            return ROSTER_E_OK;
        case '@':
            set_tok(lx, GQL_TOK_AT, p, p + 1);
            return ROSTER_E_OK;
        case '[':
            set_tok(lx, GQL_TOK_BRACKET_L, p, p + 1);
            return ROSTER_E_OK;
        case ']':
            set_tok(lx, GQL_TOK_BRACKET_R, p, p + 1);
            return ROSTER_E_OK;
        case '{':
            set_tok(lx, GQL_TOK_BRACE_L, p, p + 1);
            return ROSTER_E_OK;
        case '|':
            set_tok(lx, GQL_TOK_PIPE, p, p + 1);
            return ROSTER_E_OK;
        case '}':
            set_tok(lx, GQL_TOK_BRACE_R, p, p + 1);
            return ROSTER_E_OK;
        case '"':
            lx->pos = p;
            if (p + 2 < lx->len && s[p + 1] == '"' && s[p + 2] == '"')
                return read_block_string(lx, p);
            return read_string(lx, p);
        default:
            break;
        }
        if (is_digit(c) || c == '-') {
            lx->pos = p;
            return read_number(lx, p);
        }
        if (is_name_start(c)) {
            size_t q = p + 1;
            while (q < lx->len && is_name_cont(s[q]))
                q++;
            set_tok(lx, GQL_TOK_NAME, p, q);
            return ROSTER_E_OK;
        }
        lx->pos = p;
        lx->line_wide = 1;
        if (c == '\'')
            return lex_error(lx, p, "%s",
                             "Unexpected single quote character ('), did you mean to use a "
                             "double quote (\")?");
        uint32_t cp;
        if (c >= 0x80 && decode_utf8(s + p, lx->len - p, &cp) == 0)
            return lex_error_cp(lx, p, "Invalid character: %s.");
        return lex_error_cp(lx, p, "Unexpected character: %s.");
    }
}
