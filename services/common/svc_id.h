/*
 * svc_id.h - identifiers: random UUIDs (version 4) from OpenSSL's RAND_bytes.
 *
 * UUIDs are written in lowercase, the canonical 8-4-4-4-12 form. Any thread may
 * call these functions.
 */
#ifndef SVC_ID_H
#define SVC_ID_H

#include <stdbool.h>
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of a UUID in text including the NUL. */
#define SVC_UUID_LEN 37

/* Writes a new random UUIDv4 into out. MF_ERR_IO when the random generator fails
 * (out then holds an empty string). */
mf_status svc_uuid_v4(char out[SVC_UUID_LEN]);

/* Copies a UUID (any case, as the contract's uuid format allows) into out in
 * lowercase. False (out empty) when s is not a UUID. */
bool svc_uuid_canon(const char *s, char out[SVC_UUID_LEN]);

#ifdef __cplusplus
}
#endif
#endif /* SVC_ID_H */
