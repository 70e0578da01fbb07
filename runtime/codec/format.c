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

static inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline bool is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static inline bool is_hex(unsigned char c)
{
    return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Two ASCII digits at s as a number, or -1. */
static int num2(const unsigned char *s)
{
    if (!is_digit(s[0]) || !is_digit(s[1]))
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* ---- uuid ---------------------------------------------------------------- */

/* 8-4-4-4-12 hex digits of either case; any version and variant nibble. */
static bool check_uuid(const unsigned char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!is_hex(s[i])) {
            return false;
        }
    }
    return true;
}

/* ---- date and time (RFC 3339 section 5.6) -------------------------------- */

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* full-date = YYYY "-" MM "-" DD: exactly 10 bytes. */
static bool check_date(const unsigned char *s, size_t n)
{
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return false;
    int yh = num2(s), yl = num2(s + 2), m = num2(s + 5), d = num2(s + 8);
    if (yh < 0 || yl < 0 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= days_in_month(yh * 100 + yl, m);
}

/*
 * partial-time = HH ":" MM ":" SS [ "." 1*DIGIT ]. Returns the bytes used (0 on
 * error) and the fields. Seconds may be 60 here; callers decide.
 */
static size_t partial_time(const unsigned char *s, size_t n, int *h, int *m, int *sec)
{
    if (n < 8 || s[2] != ':' || s[5] != ':')
        return 0;
    *h = num2(s);
    *m = num2(s + 3);
    *sec = num2(s + 6);
    if (*h < 0 || *h > 23 || *m < 0 || *m > 59 || *sec < 0 || *sec > 60)
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
    if (s[i] == 'Z' || s[i] == 'z') {
        if (i + 1 != n)
            return false;
    } else if (s[i] == '+' || s[i] == '-') {
        if (n - i != 6 || s[i + 3] != ':')
            return false;
        int oh = num2(s + i + 1), om = num2(s + i + 4);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
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
    if (n < 11 || (s[10] != 'T' && s[10] != 't'))
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
        return h >= 0 && h <= 23 && m >= 0 && m <= 59;
    }
    int h, m, sec;
    size_t i = partial_time(s, n, &h, &m, &sec);
    return i && i == n && sec <= 59;
}

/* ---- email --------------------------------------------------------------- */

#define EMAIL_MAX 254
#define LOCAL_MAX 64

/* atext of RFC 5322 section 3.2.3. */
static bool is_atext(unsigned char c)
{
    if (is_alpha(c) || is_digit(c))
        return true;
    return c && c < 0x80 && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

/* dot-atom-text: 1*atext *("." 1*atext). */
static bool check_dot_atom(const unsigned char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (s[i - 1] == '.')
                return false;
        } else if (!is_atext(s[i])) {
            return false;
        }
    }
    return true;
}

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
        while (i < n && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-'))
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

/* addr-spec = (dot-atom / Quoted-string) "@" (domain / address-literal). */
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
        const unsigned char *at = memchr(s, '@', n);
        if (!at)
            return false;
        local = (size_t)(at - s);
        if (!check_dot_atom(s, local))
            return false;
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
