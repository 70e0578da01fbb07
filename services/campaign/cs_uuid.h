/*
 * cs_uuid.h - UUIDs the Campaign Service makes: name-based (version 5, SHA-1) for identities
 * that must come out the same after a restart, random (version 4) for everything else.
 *
 * Version 5 follows RFC 9562 section 5.5 (formerly RFC 4122 section 4.3): SHA-1 over the
 * namespace's 16 bytes followed by the name's bytes; the first 16 bytes of the digest, with the
 * version nibble set to 5 and the variant bits to 10. SHA-1 and the random bytes come from
 * OpenSSL's libcrypto.
 *
 * Text form: 36 lower-case characters "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" plus NUL.
 *
 * notification_id: version 5 in the namespace CS_NS_NOTIFICATION with the name
 * "<execution_id>/<user_id>", both ids lower-cased first (the contract accepts either case), so a
 * notification re-sent after a crash carries the id it had the first time.
 *
 * Threads: every function is thread-safe (a v5's SHA-1 context is on the caller's stack).
 */
#ifndef CS_UUID_H
#define CS_UUID_H

#include <stddef.h>
#include <stdint.h>
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CS_UUID_TEXT 37 /* 36 characters and the NUL */

typedef struct cs_uuid {
    uint8_t b[16];
} cs_uuid;

/* RFC 9562 namespace IDs (appendix A / RFC 4122 appendix C). */
extern const cs_uuid CS_NS_DNS;
extern const cs_uuid CS_NS_URL;
/* Namespaces of mflow's campaign service: v5 of CS_NS_URL with "urn:mflow:campaign-service:<kind>". */
extern const cs_uuid CS_NS_NOTIFICATION; /* notification_id of one execution and user */
extern const cs_uuid CS_NS_EVENT;        /* event ids derived from another id (analytics re-sent after a crash) */
extern const cs_uuid CS_NS_EXECUTION;    /* execution ids of schedule firings */

/* Parses the text form (either case). MF_ERR_FORMAT when `s` is not a UUID. */
mf_status cs_uuid_parse(const char *s, cs_uuid *out, mf_error *err);

/* Writes the lower-case text form into out (CS_UUID_TEXT bytes). Returns out. */
char *cs_uuid_format(const cs_uuid *u, char out[CS_UUID_TEXT]);

/* Version 5 of `name` (n bytes) in namespace ns. */
void cs_uuid_v5(const cs_uuid *ns, const void *name, size_t n, cs_uuid *out);

/* Random version 4 (RAND_bytes). MF_ERR_IO when OpenSSL's generator fails. */
mf_status cs_uuid_v4(cs_uuid *out, mf_error *err);

/* Version 4 straight into text form. MF_ERR_IO as cs_uuid_v4. */
mf_status cs_uuid_v4_text(char out[CS_UUID_TEXT], mf_error *err);

/*
 * v5 in namespace ns of the name "<a>/<b>" (b may be NULL: name "<a>"), where a and b are
 * lower-cased first; text form into out. notification_id = cs_uuid_v5_text(&CS_NS_NOTIFICATION,
 * execution_id, user_id, out).
 */
char *cs_uuid_v5_text(const cs_uuid *ns, const char *a, const char *b, char out[CS_UUID_TEXT]);

#ifdef __cplusplus
}
#endif
#endif /* CS_UUID_H */
