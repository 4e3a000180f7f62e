"""Recorded responses of the public sources, written from the documented formats
(docs/SOURCES.md): Polisen's events feed and Kolada API v2 pages. No network in tests.

The expected values in the tests are hand counts from these events (see the comments).
"""

from __future__ import annotations

import json

GPS_HJO = "58.30159,14.2864"
GPS_SKOVDE = "58.390217,13.846218"
GPS_VG = "58.252793,13.059643"


def event(event_id: object, stamp: str, kind: str, place: str, summary: str = "",
          gps: str = GPS_HJO, url: str | None = None) -> dict:
    """One feed event in the real shape (name = "DD månad HH.MM, type, place")."""
    return {
        "id": event_id,
        "datetime": stamp,
        "name": f"{stamp[8:10]} {stamp[:10]}, {kind.strip()}, {place}",
        "summary": summary,
        "url": url if url is not None else f"/aktuellt/handelser/{event_id}/",
        "type": kind,
        "location": {"name": place, "gps": gps},
    }


#: The feed as fetched (newest first). Hand count for Hjo (the packaged promise):
#:   kept (7): 600012, 600010, 600007, 600006, 600005, 600004, 600001
#:   skipped (5): sammanfattning 600011 + 600000, annan kommun 600009,
#:                länsnivå 600008, ej händelse (Trafikkontroll) 600003
#:   rejected (2): 600002 (no valid time), position 12 (not an object)
FEED_EVENTS: list = [
    # 1 winter time, personnummer in the summary (masked before storing)
    event(600012, "2025-01-15 22:05:00 +01:00", "Skadegörelse", "Hjo",
          "Fönsterruta krossad vid skolan. Anmälare 19850101-1234."),
    # 2 a summary of the night: not an incident
    event(600011, "2025-01-15 6:03:41 +01:00", "Sammanfattning natt", "Hjo",
          "Lugn natt i Skaraborg."),
    # 3 summer time, non-padded hour
    event(600010, "2024-07-20 3:15:00 +02:00", "Trafikolycka, personskada", "Hjo",
          "Bil i diket på väg 195."),
    # 4 another municipality
    event(600009, "2024-07-19 23:59:59 +02:00", "Brand", "Skövde", "Brand i soprum.",
          gps=GPS_SKOVDE),
    # 5 county level (no municipality)
    event(600008, "2024-07-19 12:00:00 +02:00", "Misshandel", "Västra Götalands län",
          "Misshandel på tåg.", gps=GPS_VG),
    # 6 an event type missing from the table -> övrigt, warning names it
    event(600007, "2024-06-01 9:41:16 +02:00", "Drönarlarm", "Hjo", "Drönare över hamnen."),
    # 7 the night summer time starts (02:00 -> 03:00): 01:30 is still winter time
    event(600006, "2024-03-31 1:30:00 +01:00", "Stöld/inbrott", "Hjo", "Inbrott i förråd."),
    # 8 same night after the change; place in lower case
    event(600005, "2024-03-31 3:30:00 +02:00", "Rattfylleri", "hjo", "Förare stoppad."),
    # 9 a UTC stamp on the night winter time starts: 01:10 UTC = 02:10 (+01:00)
    event(600004, "2023-10-29 1:10:00 +00:00", "Bråk", "Hjo", "Bråk utanför krog."),
    # 10 a police control: skipped (ej händelse)
    event(600003, "2023-06-14 9:41:16 +02:00", "Trafikkontroll", "Hjo",
          "Hastighetskontroll på Floragatan."),
    # 11 a broken time stamp: rejected with its reason
    event(600002, "inte ett datum", "Skadegörelse", "Hjo", "Klotter."),
    # 12 not an object: rejected (cannot be read)
    "trasig händelse",
    # 13 trailing space in the type (as in the real type list), an older absolute URL
    event(600001, "2023-12-24 18:00:00 +01:00", "Lagen om hundar och katter ", "Hjo",
          "Lös hund.", url="https://polisen.se/aktuellt/handelser/2023/december/24/x/"),
    # 14 another summary, in a county
    event(600000, "2023-05-02 14:20:00 +02:00", "Sammanfattning kväll och natt",
          "Västra Götalands län", "Sammanfattning.", gps=GPS_VG),
]

#: Hand-checked rows of the kept events: incident_id -> (local time, category).
FEED_EXPECTED = {
    "polisen-600012": ("2025-01-15 22:05:00", "skadegörelse"),
    "polisen-600010": ("2024-07-20 03:15:00", "trafik"),
    "polisen-600007": ("2024-06-01 09:41:16", "övrigt"),
    "polisen-600006": ("2024-03-31 01:30:00", "stöld/inbrott"),
    "polisen-600005": ("2024-03-31 03:30:00", "trafik"),
    "polisen-600004": ("2023-10-29 02:10:00", "ordningsstörning"),
    "polisen-600001": ("2023-12-24 18:00:00", "övrigt"),
}
FEED_SKIPPED = {"sammanfattning": 2, "annan kommun": 1, "länsnivå": 1, "ej händelse": 1}
FEED_REJECTED = 2

#: A later fetch: one new Hjo event on top of the first feed's events.
NEW_EVENT = event(600013, "2025-02-01 7:32:06 +01:00", "Stöld", "Hjo", "Cykel stulen.")


def feed_bytes(events: list | None = None) -> bytes:
    return json.dumps(FEED_EVENTS if events is None else events,
                      ensure_ascii=False).encode("utf-8")


# ----------------------------------------------------------------------------- Kolada

def kolada_value(kpi: str, municipality: str, period: int | str, total: float | None,
                 women: float | None = None, men: float | None = None) -> dict:
    values = [{"gender": "T", "value": total, "count": 1, "status": ""}]
    if women is not None or men is not None:
        values += [{"gender": "K", "value": women, "count": 1, "status": ""},
                   {"gender": "M", "value": men, "count": 1, "status": ""}]
    return {"kpi": kpi, "municipality": municipality, "period": period, "values": values}


def kolada_page(values: list[dict], next_page: str | None) -> bytes:
    return json.dumps({"values": values, "count": len(values), "next_page": next_page},
                      ensure_ascii=False).encode("utf-8")
