"""Om data: sources, freshness per dataset, ingest log, indicator definitions, methods."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from hjo_data.datasource import DataBundle
from hjo_data.disclosure import (
    DisclosureSettings,
    count_text,
    public_explanation_sv,
    suppression_note,
)
from hjo_data.freshness import freshness, freshness_table
from hjo_data.ingest_log import log_table, public_summary
from hjo_data.lagesbild import measure_of
from hjo_data.promise import effective_settings, load_promise_with_fallback
from hjo_data.schema import DATASETS
from hjo_data.sections import survey_definition_note
from ui.auth import md_escape
from ui.context import page_setup
from ui.sources import show_fetch_status
from ui.widgets import show_empty

SOURCE_TEXT = {
    "incidents": "EST-rapporter från kommun, polis, skola, bostadsbolag, näringsliv, "
                 "räddningstjänst och allmänhet (veckovis).",
    "survey_responses": "Trygghetsmätningens enskilda svar (viktade).",
    "survey": "Trygghetsmätningens sammanställda resultat (andel och antal svar).",
    "youth": "Skolenkät om ungas levnadsvanor (åk 7, åk 9, gy 2).",
    "traffic": "Polisens sammanställningar av trafikkontroller.",
    "activities": "Kommunens och polisens logg över aktiviteter i medborgarlöftet.",
}

MEASURE_TEXT = {
    "count": "antal per period",
    "rate": "antal per 1 000 invånare och period",
    "sum": "summa per period",
    "share": "andel (viktad) med antal svar n",
    "ratio": "kvot per år (täljare / nämnare)",
}

METHODS_MD = """
**Jämförelse med föregående period.** Korten på *Lägesbild* jämför senaste hela period med
perioden före. En period räknas som hel när data når periodens sista dag, så ett
pågående år eller en pågående månad jämförs aldrig med en hel. Antal jämförs per vald
tidsindelning (aktiviteter och trafik: per år), kvoter (t.ex. andel åtgärdade
iakttagelser) per helt kalenderår och enkätandelar per mätår (senaste mot förra).

**Antal (händelser, aktiviteter, kontroller).** Två antal jämförs med ett exakt
Poissontest: givet summan av båda perioderna är antalet i den senaste perioden
binomialfördelat med andelen = periodens längd / båda periodernas längd (så att en månad
med 31 dagar inte jämförs orättvist med en med 30). Skillnaden är *utanför
slumpvariationen* när p < 0,05 (tvåsidigt).

**Per 1 000 invånare.** Antal / folkmängd × 1 000, med kommunens folkmängd för året
(referensfilen `population.csv`; uppskattning, inte officiell statistik). Kartan på sidan
Händelser räknar om till *per 1 000 invånare och år* över den del av det valda urvalet som
har rapporter, så att urval av olika längd kan jämföras.

**Andelar (enkäter).** Andelen visas med antal svar n och ett 95 % konfidensintervall
enligt Wilson (med Kish effektiva n när svaren är viktade). Två år jämförs med ett z-test
för två andelar (poolad varians), eller Fishers exakta test när någon cell i
fyrfältstabellen är liten; p < 0,05 räknas som utanför slumpvariationen. Med
några hundra svar är de flesta förändringar mellan två år inom slumpen.

**Otrygghet.** Andelen som svarar *ganska* eller *mycket otrygg* på frågan om att gå ut
ensam sent en kväll i det egna bostadsområdet. {definition}
Problemfrågor: andelen *mycket* eller *ganska stort problem* bland dem som svarat
(*vet ej* räknas inte).

**Status.** *Bättre* / *sämre* visas bara när förändringen är utanför slumpvariationen och
går i önskad / fel riktning; annars *oförändrad/inom slumpen*. Blått = bättre, orange =
sämre, grått = inom slumpen eller ingen data (med ikon och text, inte bara färg).
"""


def _ingest_log(bundle: DataBundle, official: bool, settings: DisclosureSettings) -> None:
    st.subheader("Inläsningslogg")
    if bundle.is_demo or bundle.ingest_log is None or bundle.ingest_log.empty:
        show_empty("Inga filer har lästs in ännu – sidorna visar demodata.")
    elif official:
        st.dataframe(log_table(bundle.ingest_log), hide_index=True)
    else:
        st.dataframe(public_summary(bundle.ingest_log, settings), hide_index=True)
        st.caption("I publikt läge visas bara antal; filnamn visas i tjänstepersonsläge.")


def _definitions() -> pd.DataFrame:
    promise, message = load_promise_with_fallback()
    if message:  # plain text: Markdown characters in paths/TOML errors escaped
        (st.warning if promise is not None else st.error)(md_escape(message))
    rows = []
    for goal in promise.goals if promise is not None else ():
        for ind in goal.indicators:
            how = measure_of(ind)
            ds = DATASETS.get(ind.dataset)
            filt = "; ".join(f"{(ds.column(c).label if ds and c in ds.column_names else c)}"
                             f" = {', '.join(v)}" for c, v in ind.filters.items()
                             if c != "indicator")
            extra = ind.filter_value("indicator") or (
                f"{'+'.join(how.columns)} / {how.denominator}" if how.denominator
                else "+".join(how.columns))
            rows.append({
                "Mål": goal.short_title,
                "Indikator": ind.label,
                "Datamängd": ds.label if ds else ind.dataset,
                "Mått": MEASURE_TEXT.get(how.kind, how.kind)
                        + (f" ({extra})" if extra else ""),
                "Urval": filt or "–",
                "Önskad riktning": "lägre" if ind.direction == "down" else "högre",
            })
    return pd.DataFrame(rows)


ctx = page_setup("Om data", filters=set())
bundle = ctx.bundle

_about = load_promise_with_fallback().promise
_parties = (f" mellan {_about.municipality} och polisen ({_about.police_area})"
            if _about is not None else "")
st.markdown(md_escape(f"Dashboarden sammanställer lokala källor till en lägesbild för "
                      f"medborgarlöftet{_parties}. Här står varifrån uppgifterna kommer, hur "
                      "färska de är och hur siffrorna räknas."))

st.subheader("Källor och aktualitet")
rows = {name: count_text(len(frame), ctx.audience, ctx.settings)
        for name, frame in bundle.frames.items()}
st.dataframe(freshness_table(freshness(bundle.data_date, date.today()),
                             extra={"Källa": SOURCE_TEXT, "Rader": rows}), hide_index=True)
if bundle.is_demo:
    st.caption("Lagringen är tom: alla datamängder är syntetiska demodata.")

_ingest_log(bundle, ctx.is_official, ctx.settings)
show_fetch_status(ctx)

st.subheader("Indikatorer i medborgarlöftet")
definitions = _definitions()
if definitions.empty:
    show_empty("Medborgarlöftet har inga indikatorer.")
else:
    st.dataframe(definitions, hide_index=True)

st.subheader("Så räknas osäkerhet och förändring")
st.markdown(METHODS_MD.replace("{definition}", survey_definition_note(
    effective_settings(_about))))

st.subheader("Skydd av små antal (publikt läge)")
st.markdown(public_explanation_sv(ctx.settings))
st.markdown(
    f"För andra antal (till exempel genomförda aktiviteter): {suppression_note(ctx.settings)} "
    "I publikt läge visas inga enskilda händelser, "
    "fritexter eller exakta positioner, och enkätandelar med färre än "
    f"{ctx.settings.min_survey_n} svar visas som ”för få svar” (utan konfidensintervall). "
    "Gränserna står i medborgarlöftets inställningar (`data/medborgarlofte.toml`). "
    "Tjänstepersonsläget (inloggad tjänsteperson) visar allt.")
