/*
 * format.c - the string formats (mf_format). Exact definitions: docs/formats.md.
 *
 * Hand-written recognisers: no regex, no allocation, no locale (only ASCII
 * bytes are ever accepted, so isdigit() and friends are not used). Inputs need
 * not be NUL-terminated; every read is bounded by n. The behaviour matches the
 * draft 2020-12 format tests of the JSON Schema Test Suite for uuid, date,
 * time, date-time and email (tests/unit/test_format.c runs all of them).
 */
#include <stdint.h>
#include <string.h>

#include "mf/codec.h"

/* Character classes of the recognisers, one table lookup per byte. */
enum { C_DIG = 1, C_HEX = 2, C_ALPHA = 4, C_ATEXT = 8, C_LABEL = 16 };
static const unsigned char cc[256] = {
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  8,  0,  8,  8,  8,  8,  8,  0,  0,  8,  8,  0, 24,  0,  8,
    27, 27, 27, 27, 27, 27, 27, 27, 27, 27,  0,  0,  0,  8,  0,  8,
     0, 30, 30, 30, 30, 30, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,  0,  0,  0,  8,  8,
     8, 30, 30, 30, 30, 30, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,  8,  8,  8,  8,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
};

static inline bool is_digit(unsigned char c) { return c - (unsigned)'0' < 10u; }
static inline bool is_hex(unsigned char c) { return cc[c] & C_HEX; }

/* Two ASCII digits at s as a number, or -1. */
static inline int num2(const unsigned char *s)
{
    unsigned a = s[0] - (unsigned)'0', b = s[1] - (unsigned)'0';
    if (a > 9 || b > 9)
        return -1;
    return (int)(a * 10 + b);
}

/* ---- uuid ---------------------------------------------------------------- */

/* 8-4-4-4-12 hex digits of either case; any version and variant nibble.
 * Fixed hyphen positions, then one table lookup per digit ANDed together:
 * no branch per character. */
static bool check_uuid(const unsigned char *s, size_t n)
{
    if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return false;
#define H4(i) (cc[s[i]] & cc[s[(i) + 1]] & cc[s[(i) + 2]] & cc[s[(i) + 3]])
    unsigned acc = H4(0) & H4(4) & H4(9) & H4(14) & H4(19) & H4(24) & H4(28) & H4(32);
#undef H4
    return (acc & C_HEX) != 0;
}

/* ---- date and time (RFC 3339 section 5.6) -------------------------------- */

static inline bool is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* full-date = YYYY "-" MM "-" DD: exactly 10 bytes. */
static bool check_date(const unsigned char *s, size_t n)
{
    static const unsigned char days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return false;
    unsigned y0 = s[0] - (unsigned)'0', y1 = s[1] - (unsigned)'0', y2 = s[2] - (unsigned)'0',
             y3 = s[3] - (unsigned)'0', m0 = s[5] - (unsigned)'0', m1 = s[6] - (unsigned)'0',
             d0 = s[8] - (unsigned)'0', d1 = s[9] - (unsigned)'0';
    if ((y0 > 9) | (y1 > 9) | (y2 > 9) | (y3 > 9) | (m0 > 9) | (m1 > 9) | (d0 > 9) | (d1 > 9))
        return false;
    unsigned m = m0 * 10 + m1, d = d0 * 10 + d1;
    if (m - 1 > 11 || d == 0)
        return false;
    if (d <= days[m])
        return true;
    return m == 2 && d == 29 && is_leap(((y0 * 10 + y1) * 10 + y2) * 10 + y3);
}

/*
 * partial-time = HH ":" MM ":" SS [ "." 1*DIGIT ]. Returns the bytes used (0 on
 * error) and the fields. Seconds may be 60 here; callers decide.
 */
static inline size_t partial_time(const unsigned char *s, size_t n, int *h, int *m, int *sec)
{
    if (n < 8 || s[2] != ':' || s[5] != ':')
        return 0;
    *h = num2(s);
    *m = num2(s + 3);
    *sec = num2(s + 6);
    /* num2 gives -1 for non-digits: one unsigned compare per field */
    if ((unsigned)*h > 23 || (unsigned)*m > 59 || (unsigned)*sec > 60)
        return 0;
    size_t i = 8;
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == start)
            return 0; /* "." needs at least one digit */
    }
    return i;
}

/*
 * full-time = partial-time time-offset, time-offset = "Z" / "z" / ("+" / "-")
 * HH ":" MM. A leap second (:60) is accepted only where it is 23:59:60 UTC
 * once the offset is applied, as the JSON Schema Test Suite requires.
 */
static bool check_time(const unsigned char *s, size_t n)
{
    int h, m, sec;
    size_t i = partial_time(s, n, &h, &m, &sec);
    if (!i || i >= n)
        return false; /* bad partial-time, or no offset */
    int off = 0; /* minutes east of UTC */
    if ((s[i] | 0x20) == 'z') {
        if (i + 1 != n)
            return false;
    } else if (s[i] == '+' || s[i] == '-') {
        if (n - i != 6 || s[i + 3] != ':')
            return false;
        int oh = num2(s + i + 1), om = num2(s + i + 4);
        if ((unsigned)oh > 23 || (unsigned)om > 59)
            return false;
        off = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    } else {
        return false;
    }
    if (sec == 60) {
        int utc = ((h * 60 + m - off) % 1440 + 1440) % 1440;
        if (utc != 23 * 60 + 59)
            return false;
    }
    return true;
}

/* date-time = full-date ("T" / "t") full-time. */
static bool check_date_time(const unsigned char *s, size_t n)
{
    if (n < 11 || (s[10] | 0x20) != 't')
        return false;
    return check_date(s, 10) && check_time(s + 11, n - 11);
}

/* time-hm = HH ":" MM [ ":" SS [ "." 1*DIGIT ] ]; 00:00..23:59:59.999...; no offset. */
static bool check_time_hm(const unsigned char *s, size_t n)
{
    if (n == 5) {
        if (s[2] != ':')
            return false;
        int h = num2(s), m = num2(s + 3);
        return (unsigned)h <= 23 && (unsigned)m <= 59;
    }
    int h, m, sec;
    size_t i = partial_time(s, n, &h, &m, &sec);
    return i && i == n && sec <= 59;
}

/* ---- email --------------------------------------------------------------- */

#define EMAIL_MAX 254
#define LOCAL_MAX 64

/*
 * Quoted-string of RFC 5321: DQUOTE 1*(qtextSMTP / quoted-pairSMTP) DQUOTE,
 * qtextSMTP = %d32-33 / %d35-91 / %d93-126, quoted-pairSMTP = "\" %d32-126.
 * Returns the length including both quotes, or 0. Empty "" is rejected.
 */
static size_t quoted_string(const unsigned char *s, size_t n)
{
    if (n < 2 || s[0] != '"')
        return 0;
    size_t i = 1;
    while (i < n && s[i] != '"') {
        unsigned char c = s[i];
        if (c == '\\') {
            if (i + 1 >= n || s[i + 1] < 32 || s[i + 1] > 126)
                return 0;
            i += 2;
        } else if (c >= 32 && c <= 126) {
            i++;
        } else {
            return 0;
        }
    }
    if (i >= n || i == 1)
        return 0;
    return i + 1;
}

/* Domain: labels of letters, digits and '-' (not first or last), 1..63 bytes,
 * separated by single dots; one label is enough; no trailing dot. */
static bool check_dns_domain(const unsigned char *s, size_t n)
{
    size_t i = 0;
    if (n == 0)
        return false;
    for (;;) {
        size_t start = i;
        while (i < n && (cc[s[i]] & C_LABEL))
            i++;
        size_t len = i - start;
        if (len == 0 || len > 63 || s[start] == '-' || s[i - 1] == '-')
            return false;
        if (i == n)
            return true;
        if (s[i] != '.')
            return false;
        i++;
    }
}

/* IPv4 dotted quad as in RFC 5321 Snum: 1*3DIGIT with value 0..255. */
static bool check_ipv4(const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        int v = 0;
        size_t start = i;
        while (i < n && is_digit(s[i]) && i - start < 3)
            v = v * 10 + (s[i++] - '0');
        if (i == start || v > 255)
            return false;
    }
    return i == n;
}

/*
 * IPv6-addr of RFC 5321 section 4.1.3: 16-bit groups of 1..4 hex digits, at
 * most one "::", optionally ending in an IPv4 address (worth two groups).
 * Without "::" there are exactly 8 groups; with it, at most 6.
 */
static bool check_ipv6(const unsigned char *s, size_t n)
{
    size_t i = 0;
    int units = 0;
    bool compressed = false;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        compressed = true;
        i = 2;
        if (i == n)
            return true; /* "::" */
    } else if (n >= 1 && s[0] == ':') {
        return false;
    }
    for (;;) {
        /* One group, or the trailing IPv4 address. */
        size_t start = i;
        while (i < n && is_hex(s[i]) && i - start < 5)
            i++;
        if (i < n && s[i] == '.') {
            if (!check_ipv4(s + start, n - start))
                return false;
            units += 2;
            break;
        }
        if (i == start || i - start > 4)
            return false;
        units++;
        if (i == n)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < n && s[i] == ':') {
            if (compressed)
                return false; /* a second "::" */
            compressed = true;
            i++;
            if (i == n)
                break; /* ends with "::" */
        } else if (i == n) {
            return false; /* ends with a single ':' */
        }
    }
    return compressed ? units <= 6 : units == 8;
}

/* address-literal = "[" ( IPv4-address-literal / "IPv6:" IPv6-addr ) "]". */
static bool check_address_literal(const unsigned char *s, size_t n)
{
    if (n < 3 || s[0] != '[' || s[n - 1] != ']')
        return false;
    s++;
    n -= 2;
    if (n > 5 && memcmp(s, "IPv6:", 5) == 0)
        return check_ipv6(s + 5, n - 5);
    return check_ipv4(s, n);
}

/*
 * addr-spec = (dot-atom / Quoted-string) "@" (domain / address-literal).
 * dot-atom-text = 1*atext *("." 1*atext), atext of RFC 5322 section 3.2.3: one
 * pass that stops at the first byte that is neither atext nor '.'; since '@'
 * is not atext, that byte is the first '@' exactly when the local part is a
 * well-formed dot-atom.
 */
static bool check_email(const unsigned char *s, size_t n)
{
    if (n == 0 || n > EMAIL_MAX)
        return false;
    size_t local;
    if (s[0] == '"') {
        local = quoted_string(s, n);
        if (!local)
            return false;
    } else {
        size_t i = 0;
        unsigned char prev = '.'; /* a leading dot is an empty atom */
        for (; i < n; i++) {
            unsigned char c = s[i];
            if (c == '.') {
                if (prev == '.')
                    return false; /* leading dot or ".." */
            } else if (!(cc[c] & C_ATEXT)) {
                break;
            }
            prev = c;
        }
        if (i == 0 || prev == '.')
            return false; /* empty local part or trailing dot */
        local = i;
    }
    if (local > LOCAL_MAX || local >= n || s[local] != '@')
        return false;
    const unsigned char *d = s + local + 1;
    size_t dn = n - local - 1;
    if (dn && d[0] == '[')
        return check_address_literal(d, dn);
    return check_dns_domain(d, dn);
}

/* ---- public -------------------------------------------------------------- */

bool mf_format_check(mf_format f, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    if (f == MF_FMT_NONE)
        return true;
    if (!s)
        return false;
    switch (f) {
    case MF_FMT_NONE: return true;
    case MF_FMT_UUID: return check_uuid(s, n);
    case MF_FMT_DATE_TIME: return check_date_time(s, n);
    case MF_FMT_DATE: return check_date(s, n);
    case MF_FMT_TIME: return check_time(s, n);
    case MF_FMT_TIME_HM: return check_time_hm(s, n);
    case MF_FMT_EMAIL: return check_email(s, n);
    }
    return false; /* unknown format: fail closed */
}

const char *mf_format_name(mf_format f)
{
    switch (f) {
    case MF_FMT_NONE: return "";
    case MF_FMT_UUID: return "uuid";
    case MF_FMT_DATE_TIME: return "date-time";
    case MF_FMT_DATE: return "date";
    case MF_FMT_TIME: return "time";
    case MF_FMT_TIME_HM: return "time-hm";
    case MF_FMT_EMAIL: return "email";
    }
    return "";
}
