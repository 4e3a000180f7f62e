"""The ingest log as Swedish display tables: every batch (officials, Datahantering and Om
data) or a count summary per dataset (public, small counts hidden by the one gate)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from hjo_data.disclosure import DisclosureSettings, count_text
from hjo_data.schema import DATASETS

LOG_COLUMNS = ("Tid", "Fil", "Datamängd", "Användare", "Lästa", "Sparade", "Avvisade",
               "Dubbletter", "Överhoppade", "Status", "Batch")


def time_text(value: object) -> str:
    """An ISO timestamp of the log as "2024-05-01 14:30" ("" when missing)."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)


def dataset_label(name: object) -> str:
    """Swedish label of a dataset name in the log (unknown names as they are)."""
    return DATASETS[name].label if name in DATASETS else str(name or "")


def _given(value: object) -> bool:
    """A filled log field (a column missing in some entries reads NaN there)."""
    if isinstance(value, float):
        return value == value  # NaN is not given
    return value is not None and value != ""


def _status(rec: dict) -> str:
    if _given(rec.get("withdrawn")):
        by = rec.get("withdrawn_by")
        who = f" av {by}" if _given(by) else ""
        return f"återkallad {time_text(rec['withdrawn'])}{who}"
    if rec.get("stored") is False:
        return "inget sparat (strikt läge)"
    return "aktiv"


def log_table(log: pd.DataFrame) -> pd.DataFrame:
    """Every ingest (``Store.ingest_log()``) for officials: newest first, Swedish headers,
    plain text (file names included)."""
    if log.empty:
        return pd.DataFrame(columns=list(LOG_COLUMNS))
    log = log.iloc[::-1]

    def col(name: str) -> pd.Series:
        return log[name] if name in log.columns else pd.Series([None] * len(log),
                                                               index=log.index)

    def ints(name: str) -> list[int]:
        return [int(v) if isinstance(v, int | float) and v == v else 0 for v in col(name)]

    return pd.DataFrame({
        "Tid": [time_text(v) for v in col("time")],
        "Fil": [str(v or "") for v in col("file")],
        "Datamängd": [dataset_label(v) for v in col("dataset")],
        "Användare": [str(v) if isinstance(v, str) else "" for v in col("user")],
        "Lästa": ints("rows_read"),
        "Sparade": ints("added"),
        "Avvisade": ints("rejected"),
        "Dubbletter": ints("duplicates"),
        "Överhoppade": ints("skipped"),  # e.g. Polisen summaries; absent in older entries
        "Status": [_status(r) for r in log.to_dict("records")],
        "Batch": [str(v or "") for v in col("batch_id")],
    })


def public_summary(log: pd.DataFrame, settings: DisclosureSettings | None = None
                   ) -> pd.DataFrame:
    """Per dataset: number of ingests, rows added and rejected (small counts "<5"); no
    file names, users or batches."""
    columns = ["Datamängd", "Inläsningar", "Tillagda rader", "Avvisade rader"]
    if log.empty:
        return pd.DataFrame(columns=columns)
    work = log.copy()
    for col in ("added", "rejected"):
        work[col] = pd.to_numeric(work.get(col, 0), errors="coerce").fillna(0)
    summary = work.groupby("dataset").agg(
        inlasningar=("dataset", "size"), tillagda=("added", "sum"),
        avvisade=("rejected", "sum")).reset_index()
    summary["dataset"] = summary["dataset"].map(dataset_label)
    summary.columns = columns
    for col in ("Tillagda rader", "Avvisade rader"):
        summary[col] = summary[col].map(lambda v: count_text(v, "public", settings))
    return summary
