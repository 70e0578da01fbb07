/*
 * svc_id.c - UUIDv4 (RFC 9562 section 5.4) from OpenSSL's CSPRNG (svc_id.h).
 */
#include "svc_id.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "mf/codec.h"

mf_status svc_uuid_v4(char out[SVC_UUID_LEN])
{
    unsigned char b[16];
    out[0] = '\0';
    if (RAND_bytes(b, sizeof b) != 1)
        return MF_ERR_IO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 */
    snprintf(out, SVC_UUID_LEN, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return MF_OK;
}

bool svc_uuid_canon(const char *s, char out[SVC_UUID_LEN])
{
    out[0] = '\0';
    if (!s || !mf_format_check(MF_FMT_UUID, s, strlen(s)))
        return false;
    /* a UUID is hex digits and '-': bit 0x20 lowercases 'A'-'F' and is already set in '0'-'9',
     * 'a'-'f' and '-'; set in eight bytes at a time (36 = 4 * 8 + 4) */
    uint64_t w[4];
    uint32_t t;
    memcpy(w, s, sizeof w);
    memcpy(&t, s + sizeof w, sizeof t);
    for (int i = 0; i < 4; i++)
        w[i] |= 0x2020202020202020u;
    t |= 0x20202020u;
    memcpy(out, w, sizeof w);
    memcpy(out + sizeof w, &t, sizeof t);
    out[36] = '\0';
    return true;
}
