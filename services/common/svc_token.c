/*
 * svc_token.c - see svc_token.h.
 */
#include "svc_token.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

/* RFC 6750 b64token characters plus the other printable ASCII ones but blanks and quotes. */
static bool token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static mf_status check_value(const char *v, size_t n, const char *from, mf_error *err)
{
    if (n < SVC_TOKEN_MIN)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "the admin token in %s is shorter than %d bytes", from,
                            SVC_TOKEN_MIN);
    if (n > SVC_TOKEN_MAX)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "the admin token in %s is longer than %d bytes", from,
                            SVC_TOKEN_MAX);
    for (size_t i = 0; i < n; i++)
        if (!token_char((unsigned char)v[i]))
            return mf_error_set(err, MF_ERR_INVALID_ARG, "",
                                "the admin token in %s has a character that is not printable ASCII (byte %zu)", from,
                                i + 1);
    return MF_OK;
}

static mf_status read_file(const char *path, char **out, mf_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return mf_error_set(err, MF_ERR_IO, "", "cannot read the admin token file %s: %s", path, strerror(errno));
    char *buf = malloc(SVC_TOKEN_MAX + 3);
    if (!buf) {
        fclose(f);
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    size_t n = fread(buf, 1, SVC_TOKEN_MAX + 2, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) {
        svc_token_free(buf);
        return mf_error_set(err, MF_ERR_IO, "", "cannot read the admin token file %s", path);
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    char from[300];
    snprintf(from, sizeof from, "the file %s", path);
    mf_status st = strlen(buf) != n ? mf_error_set(err, MF_ERR_INVALID_ARG, "", "the admin token in %s has a NUL byte",
                                                   from)
                                    : check_value(buf, n, from, err);
    if (st != MF_OK) {
        svc_token_free(buf);
        return st;
    }
    *out = buf;
    return MF_OK;
}

mf_status svc_token_load(const char *file, const char *env_value, const char *env_name, char **out, mf_error *err)
{
    *out = NULL;
    bool have_file = file && *file, have_env = env_value && *env_value;
    if (have_file && have_env)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "the admin token is given twice (a file and %s): keep one",
                            env_name ? env_name : "the environment");
    if (have_file)
        return read_file(file, out, err);
    if (!have_env)
        return MF_OK;
    char from[128];
    snprintf(from, sizeof from, "%s", env_name ? env_name : "the environment");
    mf_status st = check_value(env_value, strlen(env_value), from, err);
    if (st != MF_OK)
        return st;
    *out = strdup(env_value);
    return *out ? MF_OK : mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
}

void svc_token_free(char *token)
{
    if (!token)
        return;
    OPENSSL_cleanse(token, strlen(token));
    free(token);
}

bool svc_token_check(const char *expected, const char *given, size_t given_len)
{
    if (!expected || !given)
        return false;
    unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)expected, strlen(expected), a);
    SHA256((const unsigned char *)given, given_len, b);
    return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

bool svc_token_check_bearer(const char *expected, const char *header)
{
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return false;
    const char *t = header + 7;
    while (*t == ' ')
        t++;
    size_t n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        n--;
    return n > 0 && svc_token_check(expected, t, n);
}
