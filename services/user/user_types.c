/*
 * user_types.c - the JSON shapes of a user, as codec descriptors built from the
 * contract's field types (user.h).
 *
 * The descriptors cannot be constant initialisers: they borrow the contract's
 * field types (UserInfoReply.email, UserInfoRequest.user_id, ...), which the
 * generated code keeps private and only reaches through the message
 * descriptors. us_user_types_init looks them up by name once.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user.h"

/* One member of struct us_user, offsets included. */
#define HAS(m) (int32_t) offsetof(us_user, has_##m)
#define MEMBER(json, m, ty, req)                                                                                  \
    {.name = json, .type = ty, .offset = offsetof(us_user, m), .has_offset = HAS(m), .null_offset = -1,          \
     .required = req}

static const char *const plan_values[] = {"free", "premium"};
static const mf_type plan_type = {
    .kind = MF_K_ENUM, .name = "Plan", .size = sizeof(int), .enum_values = plan_values, .enum_count = 2};
static const mf_type bool_type = {.kind = MF_K_BOOL, .name = "us_bool", .size = sizeof(bool)};
static mf_type name_type;    /* the contract's name, at least one character, at most US_NAME_MAX */
static mf_type loose_id_type; /* any string */

static mf_field create_fields[9], patch_fields[5], full_fields[10], changes_fields[8], page_fields[2],
    loose_fields[1];
static mf_type create_t, patch_t, full_t, changes_t, page_t, users_t, loose_t;

const mf_type *us_user_create_type = &create_t;
const mf_type *us_user_patch_type = &patch_t;
const mf_type *us_user_full_type = &full_t;
const mf_type *us_user_changes_type = &changes_t;
const mf_type *us_user_page_type = &page_t;
const mf_type *us_loose_request_type = &loose_t;

/* The type of member `name` of a contract object; exits when absent (the
 * contract and this service disagree: a build problem, not an input one). */
static const mf_type *contract_field(const mf_type *obj, const char *name)
{
    for (uint32_t i = 0; i < obj->field_count; i++)
        if (strcmp(obj->fields[i].name, name) == 0)
            return obj->fields[i].type;
    fprintf(stderr, "user-service: the contract's %s has no member \"%s\"\n", obj->name, name);
    exit(70);
}

static mf_type object(const char *name, size_t size, const mf_field *fields, size_t n, bool closed)
{
    return (mf_type){.kind = MF_K_OBJ, .name = name, .size = (uint32_t)size, .flags = closed ? MF_TF_CLOSED : 0,
                     .fields = fields, .field_count = (uint32_t)n};
}

void us_user_types_init(void)
{
    const mf_type *uuid = contract_field(&mf_user_info_request_desc, "user_id");
    const mf_type *email = contract_field(&mf_user_info_reply_desc, "email");
    const mf_type *language = contract_field(&mf_user_info_reply_desc, "language");
    const mf_type *timezone = contract_field(&mf_user_info_reply_desc, "timezone");
    const mf_type *date_time = contract_field(&mf_user_info_update_desc, "updated_at");
    const mf_type *prefs = &mf_notification_preferences_desc;
    name_type = *contract_field(&mf_user_info_reply_desc, "name");
    name_type.min_len = 1;
    name_type.max_len = US_NAME_MAX;
    loose_id_type = (mf_type){.kind = MF_K_STR, .name = "us_loose_id", .size = sizeof(char *)};

    mf_field user_id = MEMBER("user_id", user_id, uuid, false), em = MEMBER("email", email, email, false),
             nm = MEMBER("name", name, &name_type, false), lang = MEMBER("language", language, language, false),
             tz = MEMBER("timezone", timezone, timezone, false), plan = MEMBER("plan", plan, &plan_type, false),
             reg = MEMBER("registered_at", registered_at, date_time, false),
             act = MEMBER("last_activity", last_activity, date_time, false),
             pref = MEMBER("preferences", preferences, prefs, false),
             upd = MEMBER("updated_at", updated_at, date_time, false),
             del = MEMBER("deleted", deleted, &bool_type, false);
    act.null_offset = (int32_t)offsetof(us_user, last_activity_is_null);

    mf_field c[] = {user_id, em, nm, lang, tz, plan, reg, act, pref};
    c[1].required = c[2].required = true; /* email, name */
    memcpy(create_fields, c, sizeof c);
    mf_field p[] = {em, nm, lang, tz, plan};
    memcpy(patch_fields, p, sizeof p);
    mf_field f[] = {user_id, em, nm, lang, tz, plan, reg, act, pref, upd};
    memcpy(full_fields, f, sizeof f);
    mf_field ch[] = {em, nm, lang, tz, plan, reg, act, del};
    memcpy(changes_fields, ch, sizeof ch);

    create_t = object("User", sizeof(us_user), create_fields, 9, true);
    patch_t = object("UserPatch", sizeof(us_user), patch_fields, 5, true);
    full_t = object("User", sizeof(us_user), full_fields, 10, true);
    changes_t = object("UserChanges", sizeof(us_user), changes_fields, 8, true);

    users_t = (mf_type){.kind = MF_K_ARR, .name = "us_users", .size = sizeof(mf_array), .item = &full_t};
    page_fields[0] = (mf_field){.name = "users", .type = &users_t, .offset = offsetof(us_user_page, users),
                                .has_offset = -1, .null_offset = -1, .required = true};
    page_fields[1] = (mf_field){.name = "next", .type = uuid, .offset = offsetof(us_user_page, next),
                                .has_offset = (int32_t)offsetof(us_user_page, has_next), .null_offset = -1};
    page_t = object("UserPage", sizeof(us_user_page), page_fields, 2, true);

    loose_fields[0] = (mf_field){.name = "user_id", .type = &loose_id_type,
                                 .offset = offsetof(us_loose_request, user_id),
                                 .has_offset = (int32_t)offsetof(us_loose_request, has_user_id), .null_offset = -1};
    loose_t = object("us_loose_request", sizeof(us_loose_request), loose_fields, 1, false);
}
