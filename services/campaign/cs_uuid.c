/* cs_uuid.c - see cs_uuid.h. */
#include "cs_uuid.h"

#include <string.h>
/* SHA1_Init/Update/Final are deprecated since OpenSSL 3.0: see v5_digest */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "mf/codec.h"
#include "svc_id.h"

const cs_uuid CS_NS_DNS = {{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}};
const cs_uuid CS_NS_URL = {{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}};
/* The three below are v5 of CS_NS_URL with "urn:mflow:campaign-service:notification",
 * "...:event" and "...:execution"; test_cs_uuid recomputes them. */
const cs_uuid CS_NS_NOTIFICATION = {{0x09, 0xd9, 0x8a, 0x67, 0x2a, 0x3d, 0x53, 0xe0, 0xb5, 0x4a, 0x67, 0xef, 0xcc, 0xab, 0x67, 0xd8}};
const cs_uuid CS_NS_EVENT = {{0xf1, 0xf2, 0xdc, 0x78, 0xac, 0x97, 0x50, 0xd3, 0x96, 0xa9, 0x08, 0xf7, 0x1b, 0x5a, 0x04, 0xbc}};
const cs_uuid CS_NS_EXECUTION = {{0x8d, 0x18, 0xd2, 0x43, 0x40, 0x2e, 0x5a, 0x5a, 0xae, 0x87, 0xeb, 0xb2, 0x01, 0x4f, 0x30, 0x4a}};

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

mf_status cs_uuid_parse(const char *s, cs_uuid *out, mf_error *err)
{
    if (!s || !mf_format_check(MF_FMT_UUID, s, strlen(s)))
        return mf_error_set(err, MF_ERR_FORMAT, "", "not a UUID");
    for (int i = 0, j = 0; j < 16; j++) {
        if (s[i] == '-')
            i++;
        out->b[j] = (uint8_t)(hexval(s[i]) << 4 | hexval(s[i + 1]));
        i += 2;
    }
    return MF_OK;
}

/* The two lower-case hex digits of every byte value, so formatting copies one pair per byte. */
static const char HEX_PAIRS[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                                "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
                                "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
                                "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
                                "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
                                "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
                                "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
                                "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

char *cs_uuid_format(const cs_uuid *u, char out[CS_UUID_TEXT])
{
    /* where each byte's two digits go in "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
    static const uint8_t at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
    for (int j = 0; j < 16; j++)
        memcpy(out + at[j], HEX_PAIRS + 2 * u->b[j], 2);
    out[8] = out[13] = out[18] = out[23] = '-';
    out[36] = '\0';
    return out;
}

/*
 * SHA-1 through OpenSSL's SHA1_Init/Update/Final, not EVP: a v5 digests 1-2 blocks, and EVP's
 * dispatch around them (EVP_DigestInit_ex2 resolving the provider's context, its parameters,
 * the update and final through function pointers) was a quarter of a v5's instructions: 2.86 k
 * against 2.09 k per digest of a notification_id's 89 bytes (callgrind, OpenSSL 3.0). The
 * functions are deprecated since OpenSSL 3.0 (still shipped; the algorithm is the same code the
 * default provider calls): if a later OpenSSL drops them, EVP_DigestInit_ex2 on a kept context
 * is the replacement. A v5 is an identifier, not a security function, so the provider
 * selection EVP offers (FIPS) has nothing to choose here. The context is on the stack: no
 * allocation, nothing shared between threads. (SHA-1 cannot fail on valid input.)
 */
static void v5_final(SHA_CTX *c, cs_uuid *out)
{
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1_Final(md, c);
    memcpy(out->b, md, 16);
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x50);
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
}

void cs_uuid_v5(const cs_uuid *ns, const void *name, size_t n, cs_uuid *out)
{
    SHA_CTX c;
    SHA1_Init(&c);
    SHA1_Update(&c, ns->b, 16);
    SHA1_Update(&c, name, n);
    v5_final(&c, out);
}

mf_status cs_uuid_v4(cs_uuid *out, mf_error *err)
{
    if (RAND_bytes(out->b, 16) != 1)
        return mf_error_set(err, MF_ERR_IO, "", "OpenSSL RAND_bytes failed");
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x40);
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
    return MF_OK;
}

mf_status cs_uuid_v4_text(char out[CS_UUID_TEXT], mf_error *err)
{
    mf_status st = svc_uuid_v4(out);
    return st == MF_OK ? MF_OK : mf_error_set(err, st, "", "OpenSSL RAND_bytes failed");
}

/* 'A'-'Z' of the 8 bytes in w lower-cased, every other byte (>= 0x80 too) as it was: bit 7 of a
 * byte of `upper` is set when the byte is 0x41-0x5a (its low 7 bits plus 0x3f carry into bit 7
 * from 'A' on, plus 0x25 from '[' on; no carry crosses bytes since each sum stays below 0x100);
 * moved to bit 5, it is the difference between the two cases. */
static uint64_t lower8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u;
    uint64_t low7 = w & 0x7f * ones;
    uint64_t upper = ((low7 + 0x3f * ones) ^ (low7 + 0x25 * ones)) & ~w & 0x80 * ones;
    return w | upper >> 2;
}

/* Copies src (at most cap - 1 bytes) lower-cased as tolower() does in the C locale the service
 * runs in, 8 bytes at a time (a byte at a time, ~12 instructions each, was a quarter of a v5);
 * NUL-terminated. Returns the bytes copied. */
static size_t lower_copy(char *dst, const char *src, size_t cap)
{
    size_t n = strnlen(src, cap - 1), i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w = lower8(w);
        memcpy(dst + i, &w, 8);
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (char)((unsigned)(c - 'A') < 26u ? c + 32 : c);
    }
    dst[n] = '\0';
    return n;
}

char *cs_uuid_v5_text(const cs_uuid *ns, const char *a, const char *b, char out[CS_UUID_TEXT])
{
    /* the namespace and the name in one buffer: one SHA1_Update */
    unsigned char buf[16 + 512];
    char *name = (char *)buf + 16;
    memcpy(buf, ns->b, 16);
    size_t n = lower_copy(name, a ? a : "", 256);
    if (b) {
        name[n++] = '/';
        n += lower_copy(name + n, b, 512 - n);
    }
    cs_uuid u;
    SHA_CTX c;
    SHA1_Init(&c);
    SHA1_Update(&c, buf, 16 + n);
    v5_final(&c, &u);
    return cs_uuid_format(&u, out);
}
