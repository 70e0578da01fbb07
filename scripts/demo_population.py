#!/usr/bin/env python3
"""Prints a demo population of users as NDJSON, for POST /users/import of user-service.

    scripts/demo_population.py --seed 42 --count 3000 > users.ndjson
    scripts/demo_population.py --seed 42 --count 3000 | \\
        curl -sS -X POST --data-binary @- http://127.0.0.1:4281/users/import

Users spread over 17 locales (language tag and matching IANA time zones), both plans,
registration dates over the last three years (some within the last 30 days) and last
activity dates (some never, many within the last 30 days), with varied notification
preferences and quiet hours. The same seed, count and --today give the same output, byte
for byte; --today defaults to the current UTC date, so "new" and "active" users stay new
and active relative to the day the demo runs.
"""

import argparse
import datetime as dt
import json
import random
import sys
import unicodedata
import uuid
from typing import Dict, List, Optional, Tuple

# language tag -> (weight, time zones, first names, last names)
LOCALES: Dict[str, Tuple[int, List[str], List[str], List[str]]] = {
    "en-US": (20, ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
                   "America/Phoenix"], ["James", "Mary", "Robert", "Patricia", "Linda", "Michael"],
              ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller"]),
    "en-GB": (8, ["Europe/London"], ["Oliver", "Amelia", "Harry", "Isla", "George"],
              ["Taylor", "Davies", "Evans", "Wilson", "Thomas"]),
    "en-AU": (3, ["Australia/Sydney", "Australia/Melbourne", "Australia/Perth", "Australia/Brisbane"],
              ["Jack", "Charlotte", "William", "Mia"], ["Walker", "White", "Harris", "Martin"]),
    "en-IN": (5, ["Asia/Kolkata"], ["Aarav", "Ananya", "Vihaan", "Diya", "Arjun"],
              ["Sharma", "Patel", "Iyer", "Reddy", "Gupta"]),
    "de-DE": (10, ["Europe/Berlin"], ["Jürgen", "Sophie", "Lukas", "Hannah", "Maximilian"],
              ["Müller", "Schmidt", "Schneider", "Fischer", "Weber"]),
    "de-AT": (2, ["Europe/Vienna"], ["Florian", "Anna", "Tobias", "Lena"], ["Gruber", "Huber", "Bauer", "Wagner"]),
    "de-CH": (2, ["Europe/Zurich"], ["Luca", "Lea", "Noah", "Elena"], ["Meier", "Keller", "Brunner", "Frei"]),
    "fr-FR": (8, ["Europe/Paris"], ["Léa", "Hugo", "Chloé", "Louis", "Zoé"],
              ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau"]),
    "fr-CA": (2, ["America/Toronto"], ["Félix", "Émilie", "Gabriel", "Océane"],
              ["Tremblay", "Gagnon", "Roy", "Côté"]),
    "es-ES": (6, ["Europe/Madrid", "Atlantic/Canary"], ["José", "Lucía", "Javier", "María", "Álvaro"],
              ["García", "Fernández", "López", "Martínez", "Sánchez"]),
    "es-MX": (5, ["America/Mexico_City", "America/Monterrey", "America/Tijuana"],
              ["Santiago", "Valentina", "Mateo", "Ximena"], ["Hernández", "González", "Pérez", "Ramírez"]),
    "it-IT": (5, ["Europe/Rome"], ["Giulia", "Alessandro", "Francesca", "Matteo"],
              ["Rossi", "Russo", "Ferrari", "Esposito"]),
    "pt-BR": (7, ["America/Sao_Paulo", "America/Manaus", "America/Recife"],
              ["João", "Ana", "Pedro", "Beatriz", "Lucas"], ["Silva", "Santos", "Oliveira", "Souza", "Lima"]),
    "ja-JP": (6, ["Asia/Tokyo"], ["花子", "太郎", "Yuki", "Haruto", "Sakura"],
              ["佐藤", "鈴木", "Takahashi", "Tanaka", "Watanabe"]),
    "nl-NL": (3, ["Europe/Amsterdam"], ["Daan", "Emma", "Sem", "Julia"], ["de Jong", "Jansen", "de Vries", "Bakker"]),
    "pl-PL": (4, ["Europe/Warsaw"], ["Łukasz", "Zofia", "Jakub", "Małgorzata"],
              ["Nowak", "Kowalski", "Wiśniewski", "Wójcik"]),
    "sv-SE": (3, ["Europe/Stockholm"], ["Erik", "Astrid", "Lars", "Saga"], ["Andersson", "Johansson", "Karlsson",
                                                                          "Nilsson"]),
}
QUIET_STARTS = ["21:00", "22:00", "22:30", "23:00"]
QUIET_ENDS = ["06:00", "07:00", "07:30", "08:00"]


def ascii_slug(text: str) -> str:
    """'Jürgen' -> 'jurgen'; names with no Latin letters give ''."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


def stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def registration(rng: random.Random, today: dt.datetime) -> dt.datetime:
    """Over three years, more recent ones more likely; about 8% within the last 30 days."""
    if rng.random() < 0.08:
        days = rng.uniform(0, 30)
    else:
        days = 30 + (1 - rng.random() ** 0.7) * (3 * 365 - 30)
    return today - dt.timedelta(days=days)


def activity(rng: random.Random, registered: dt.datetime, today: dt.datetime) -> Optional[dt.datetime]:
    """None for 15% (never logged in); 45% within the last 30 days; the rest in between."""
    r = rng.random()
    if r < 0.15:
        return None
    span = (today - registered).total_seconds()
    if r < 0.60:
        recent = min(span, 30 * 86400)
        return today - dt.timedelta(seconds=rng.uniform(0, recent))
    return registered + dt.timedelta(seconds=rng.uniform(0, span))


def preferences(rng: random.Random) -> Dict[str, object]:
    p: Dict[str, object] = {
        "email_enabled": rng.random() < 0.85,
        "push_enabled": rng.random() < 0.80,
        "sms_enabled": rng.random() < 0.15,
        "categories": {"marketing": rng.random() < 0.65, "updates": rng.random() < 0.90,
                       "security": rng.random() < 0.99},
    }
    if rng.random() < 0.35:
        p["quiet_hours"] = {"enabled": rng.random() < 0.9, "start": rng.choice(QUIET_STARTS),
                            "end": rng.choice(QUIET_ENDS)}
    return p


def user(rng: random.Random, i: int, today: dt.datetime, locales: List[str], weights: List[int]) -> Dict[str, object]:
    lang = rng.choices(locales, weights)[0]
    _, zones, firsts, lasts = LOCALES[lang]
    first, last = rng.choice(firsts), rng.choice(lasts)
    slug = ascii_slug(first) or "user"
    registered = registration(rng, today)
    active = activity(rng, registered, today)
    return {
        "user_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "email": f"{slug}.{i:06d}@example.com",
        "name": f"{first} {last}",
        "language": lang,
        "timezone": rng.choice(zones),
        "plan": "premium" if rng.random() < 0.18 else "free",
        "registered_at": stamp(registered),
        "last_activity": stamp(active) if active else None,
        "preferences": preferences(rng),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    ap.add_argument("--count", type=int, default=3000, help="number of users (default 3000)")
    ap.add_argument("--today", type=dt.date.fromisoformat, default=dt.datetime.now(dt.timezone.utc).date(),
                    help="the day the dates are relative to, YYYY-MM-DD (default: today, UTC)")
    args = ap.parse_args()
    if args.count < 0:
        ap.error("--count must be >= 0")
    rng = random.Random(args.seed)
    today = dt.datetime(args.today.year, args.today.month, args.today.day)  # midnight UTC: nothing in the future
    locales = sorted(LOCALES)
    weights = [LOCALES[k][0] for k in locales]
    out = sys.stdout
    for i in range(args.count):
        out.write(json.dumps(user(rng, i, today, locales, weights), ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
