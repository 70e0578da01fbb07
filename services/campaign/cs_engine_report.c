/* cs_engine_report.c - what the engine tells the world: campaign.status and campaign.analytics,
 * built as the generated types and handed to the sink. */
#include "cs_engine_int.h"

#include <stdio.h>
#include <string.h>
#include "cs_time.h"
#include "cs_uuid.h"

void cs_eng_status(cs_engine *e, const cs_execution *x, const char *code, const char *message)
{
    mf_campaign_status_update m;
    mf_campaign_status_update_init(&m);
    m.execution_id = (char *)x->execution_id;
    m.campaign_id = (char *)x->campaign_id;
    m.status = x->status;
    m.has_progress = true;
    m.progress.total_targets = x->total;
    m.progress.sent = x->sent;
    m.progress.failed = x->failed;
    if (x->sent + x->failed > 0) {
        m.progress.has_success_rate = true;
        m.progress.success_rate = (double)x->sent / (double)(x->sent + x->failed);
    }
    if (code) {
        m.has_error = true;
        m.error.code = (char *)code;
        m.error.message = (char *)(message ? message : code);
    }
    m.updated_at = (char *)cs_eng_now_text(e);
    mf_error err;
    if (e->sink.publish_status(e->sink.ctx, &m, &err) != MF_OK)
        cs_eng_log(e, "warn", "execution %s: status not published: %s", x->execution_id, err.message);
    /* every member points at memory owned elsewhere: nothing to free */
}

void cs_eng_analytics(cs_engine *e, mf_campaign_analytics_event_event_type type, const char *campaign_id,
                      const char *execution_id, const char *notification_id, const char *user_id, const char *code,
                      const char *message)
{
    cs_eng_analytics_at(e, type, campaign_id, execution_id, notification_id, user_id, code, message,
                        cs_eng_now_text(e));
}

bool cs_eng_analytics_build(mf_campaign_analytics_event_event_type type, const char *campaign_id,
                            const char *execution_id, const char *notification_id, const char *user_id,
                            const char *at, char id[CS_UUID_TEXT], mf_campaign_analytics_event *out)
{
    mf_campaign_analytics_event m;
    mf_campaign_analytics_event_init(&m);
    const char *kind = mf_campaign_analytics_event_event_type_to_string(type);
    if (notification_id) /* re-sent after a crash with the same id */
        cs_uuid_v5_text(&CS_NS_EVENT, notification_id, kind, id);
    else if (execution_id)
        cs_uuid_v5_text(&CS_NS_EVENT, execution_id, kind, id);
    else if (type == MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_CREATED)
        cs_uuid_v5_text(&CS_NS_EVENT, campaign_id, kind, id);
    else if (cs_uuid_v4_text(id, NULL) != MF_OK)
        return false;
    m.event_id = id;
    m.event_type = type;
    m.campaign_id = (char *)campaign_id;
    m.has_execution_id = execution_id != NULL;
    m.execution_id = (char *)execution_id;
    m.has_notification_id = notification_id != NULL;
    m.notification_id = (char *)notification_id;
    m.has_user_id = user_id != NULL;
    m.user_id = (char *)user_id;
    m.timestamp = (char *)at;
    *out = m;
    return true;
}

void cs_eng_analytics_at(cs_engine *e, mf_campaign_analytics_event_event_type type, const char *campaign_id,
                         const char *execution_id, const char *notification_id, const char *user_id, const char *code,
                         const char *message, const char *at)
{
    char id[CS_UUID_TEXT];
    mf_campaign_analytics_event m;
    if (!cs_eng_analytics_build(type, campaign_id, execution_id, notification_id, user_id, at, id, &m))
        return;
    const char *kind = mf_campaign_analytics_event_event_type_to_string(type);
    /* CampaignAnalyticsEvent's payload has no error member (the contract follows the Message
     * Flow document): a failure's code travels in the Mflow-Error-Code header; its text goes to
     * the log and, for refused campaigns, to cs_engine_refusals */
    (void)message;
    const char *error_code = type == MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_FAILED ? code : NULL;
    mf_error err;
    if (e->sink.publish_analytics(e->sink.ctx, &m, error_code, &err) != MF_OK)
        cs_eng_log(e, "warn", "campaign %s: %s not published: %s", campaign_id, kind, err.message);
}

void cs_eng_transition(cs_engine *e, cs_run *r, mf_campaign_status_update_status to, const char *code,
                       const char *message)
{
    mf_error err;
    int64_t now = cs_eng_now(e);
    if (cs_ledger_set_status(e->ledger, r->x.execution_id, to, code, message, now, &err) != MF_OK)
        cs_eng_log(e, "error", "execution %s: status not recorded: %s", r->x.execution_id, err.message);
    cs_eng_refresh(e, r);
    r->x.status = to;
    cs_eng_status(e, &r->x, code, message);
    cs_eng_log(e, "info", "execution %s: %s (sent %lld, failed %lld, skipped %lld, held %lld of %lld)%s%s",
               r->x.execution_id, mf_campaign_status_update_status_to_string(to), (long long)r->x.sent,
               (long long)r->x.failed, (long long)r->x.skipped, (long long)r->x.held, (long long)r->x.total,
               code ? " " : "", code ? code : "");
    mf_campaign_analytics_event_event_type a = 0;
    if (to == MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED)
        a = MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_COMPLETED;
    else if (to == MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED)
        a = MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_FAILED;
    if (a)
        cs_eng_analytics(e, a, r->x.campaign_id, r->x.execution_id, NULL, NULL, code, message);
}
