/*
 * registry_int.h - subject building shared by registry.c and location.c, inside the typed API.
 */
#ifndef MF_API_REGISTRY_INT_H
#define MF_API_REGISTRY_INT_H

#include <stdint.h>

#include "mf/registry.h"

/*
 * mf_channel_address, except that the values whose bit (1 << i, i < 64) is set in `checked` are
 * not checked again: the caller has checked them with mf_param_check (mf_channel_subject checks
 * the values it reads from the payload first, to name the payload member in the error).
 */
mf_status mf_channel_address_checked(const mf_channel_desc *c, const char *const *values, uint64_t checked,
                                     char *out, size_t cap, mf_error *err);

#endif
