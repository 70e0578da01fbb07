#!/usr/bin/env python3
"""Prints the demo campaign of `make run` as a CampaignCreate (JSON), for campaign.create.

    scripts/demo_campaign.py --campaign-id 7c9e6679-7425-40de-944b-e07fc1f90ae7 > campaign.json
    build/bin/mfctl pub campaign.create campaign.json

An A/B test (50/50) of two notifications for active and new users, each localized in German,
French, Spanish, Italian, Portuguese and Japanese (English is the default), interpolating the
user's name and the campaign's coupon code; quiet hours respected; 200 users per batch, at most
1,000 notifications per second.
"""

import argparse
import json
import sys

VARIANT_A = {
    "title_template": "Spring sale, {{name}}!",
    "body_template": "Everything is {{discount}}% off until Sunday. Code {{coupon}}.",
    "priority": "high",
    "localization": {
        "de": {"title": "Frühlingsangebot, {{name}}!", "body": "Bis Sonntag {{discount}} % auf alles. Code {{coupon}}."},
        "fr": {"title": "Soldes de printemps, {{name}} !", "body": "-{{discount}} % sur tout jusqu'à dimanche. Code {{coupon}}."},
        "es": {"title": "¡Rebajas de primavera, {{name}}!", "body": "Todo con un {{discount}} % hasta el domingo. Código {{coupon}}."},
        "it": {"title": "Saldi di primavera, {{name}}!", "body": "Tutto al {{discount}}% fino a domenica. Codice {{coupon}}."},
        "pt": {"title": "Promoção de primavera, {{name}}!", "body": "Tudo com {{discount}}% até domingo. Código {{coupon}}."},
        "ja": {"title": "{{name}}さん、春のセール！", "body": "日曜日まで全品{{discount}}%オフ。コード {{coupon}}。"},
    },
    "data": {"coupon": "SPRING20", "discount": 20, "deep_link": "shop://sale/spring"},
}

VARIANT_B = {
    "title_template": "{{name}}, {{discount}}% off everything",
    "body_template": "Only until Sunday. Use {{coupon}} at checkout.",
    "priority": "normal",
    "localization": {
        "de": {"title": "{{name}}, {{discount}} % auf alles", "body": "Nur bis Sonntag. Code {{coupon}} an der Kasse."},
        "fr": {"title": "{{name}}, -{{discount}} % sur tout", "body": "Seulement jusqu'à dimanche. Code {{coupon}}."},
        "es": {"title": "{{name}}, {{discount}} % en todo", "body": "Solo hasta el domingo. Usa {{coupon}}."},
        "it": {"title": "{{name}}, {{discount}}% su tutto", "body": "Solo fino a domenica. Usa {{coupon}}."},
        "pt": {"title": "{{name}}, {{discount}}% em tudo", "body": "Só até domingo. Use {{coupon}}."},
        "ja": {"title": "{{name}}さん、全品{{discount}}%オフ", "body": "日曜日まで。コード {{coupon}} をどうぞ。"},
    },
    "data": {"coupon": "SPRING25", "discount": 25, "deep_link": "shop://sale/spring"},
}


def campaign(campaign_id: str) -> dict:
    return {
        "campaign_id": campaign_id,
        "name": "Spring sale (make run)",
        "description": "A/B test of two localized notifications for active and new users.",
        "target_audience": {"user_segments": ["active_users", "new_users"]},
        "notification_template": {"title_template": VARIANT_A["title_template"],
                                  "body_template": VARIANT_A["body_template"], "data": VARIANT_A["data"],
                                  "localization": VARIANT_A["localization"]},
        "schedule": {"type": "immediate"},
        "settings": {"max_retries": 3, "batch_size": 200, "rate_limit": 1000, "respect_quiet_hours": True,
                     "a_b_testing": {"enabled": True, "variants": [VARIANT_A, VARIANT_B], "traffic_split": [0.5, 0.5]}},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--campaign-id", required=True)
    args = ap.parse_args()
    json.dump(campaign(args.campaign_id), sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
