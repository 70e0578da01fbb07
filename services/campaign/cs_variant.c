/* cs_variant.c - see cs_variant.h. */
#include "cs_variant.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <openssl/evp.h>

double cs_variant_point(const char *campaign_id, const char *user_id)
{
    char name[160];
    size_t n = 0;
    for (const char *p = campaign_id; p && *p && n < 72; p++)
        name[n++] = (char)tolower((unsigned char)*p);
    name[n++] = '/';
    for (const char *p = user_id; p && *p && n < sizeof name; p++)
        name[n++] = (char)tolower((unsigned char)*p);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    memset(md, 0, sizeof md);
    EVP_Digest(name, n, md, &len, EVP_sha256(), NULL);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | md[i];
    return (double)(v >> 11) * (1.0 / 9007199254740992.0);
}

size_t cs_variant_for_point(double u, const double *split, size_t n)
{
    double acc = 0;
    size_t last = 0;
    for (size_t i = 0; i < n; i++) {
        if (split[i] <= 0)
            continue;
        acc += split[i];
        last = i;
        if (u < acc)
            return i;
    }
    return last;
}

size_t cs_variant_pick(const char *campaign_id, const char *user_id, const double *split, size_t n)
{
    return cs_variant_for_point(cs_variant_point(campaign_id, user_id), split, n);
}
