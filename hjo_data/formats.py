"""Source formats: files whose shape says which source made them (a Kolada API response,
Polisen's events feed, BRÅ's exports, FoHM's tables, ...). ``reading.read_bytes`` asks
:func:`sniff` first; a file no format recognises goes the generic CSV / Excel / JSON way.

A format's ``read`` returns a :class:`~hjo_data.rawtable.RawTable` whose columns are the
canonical columns of its dataset (validation maps them 1:1), with ``RawTable.skipped``
counting the source rows it deliberately left out. Order matters: the first format whose
``sniff`` accepts the file reads it, so specific formats are registered before general
ones (the statistik long table last). To add a source: ``sniff`` and ``read`` in its own
module, one ``register(SourceFormat(...))`` line below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hjo_data import bra_reader, fohm_reader, kolada_reader, polisen
from hjo_data.rawtable import RawTable

__all__ = ["FORMATS", "SourceFormat", "find_format", "get_format", "register", "sniff"]


@dataclass(frozen=True)
class SourceFormat:
    """A recognisable source format: ``sniff(data, name)`` is cheap (looks at the first
    bytes), ``read(data, name)`` turns the bytes into rows of ``dataset`` (raising
    ``UnreadableFileError`` with a Swedish message when the file is broken)."""

    name: str
    dataset: str
    sniff: Callable[[bytes, str], bool]
    read: Callable[[bytes, str], RawTable]
    #: Swedish name shown when a file is recognised ("Kolada API-svar (JSON)").
    label: str = ""


FORMATS: list[SourceFormat] = []


def register(fmt: SourceFormat) -> SourceFormat:
    """Add ``fmt`` (a name registered again replaces the earlier one)."""
    FORMATS[:] = [f for f in FORMATS if f.name != fmt.name]
    FORMATS.append(fmt)
    return fmt


def sniff(data: bytes, name: str, dataset: str | None = None) -> SourceFormat | None:
    """The first registered format recognising ``data``, or None; with ``dataset`` only
    that dataset's formats are tried. A failing sniffer counts as "not this format"."""
    for fmt in FORMATS:
        if dataset is not None and fmt.dataset != dataset:
            continue
        try:
            if fmt.sniff(data, name):
                return fmt
        except Exception:  # noqa: BLE001 - a sniffer must never break reading
            continue
    return None


#: The same as :func:`sniff` (the name the statistik readers' docs use).
find_format = sniff


def get_format(name: str | None) -> SourceFormat | None:
    return next((f for f in FORMATS if f.name == name), None)


register(SourceFormat("polisen", "incidents", polisen.sniff_feed, polisen.read_feed))
# statistik: specific shapes first, the general long table (Kolada-shaped CSV) last
register(SourceFormat("kolada-json", "statistik", kolada_reader.sniff_json,
                      kolada_reader.read_json, "Kolada API-svar (JSON)"))
register(SourceFormat("bra-text", "statistik", bra_reader.sniff_text, bra_reader.read_text,
                      "BRÅ:s statistikdatabas (textexport)"))
register(SourceFormat("bra-csv", "statistik", bra_reader.sniff_csv, bra_reader.read_csv,
                      "BRÅ:s statistikdatabas (CSV)"))
register(SourceFormat("fohm", "statistik", fohm_reader.sniff, fohm_reader.read,
                      "enkättabell från Folkhälsomyndigheten/NTU"))
register(SourceFormat("statistik-csv", "statistik", kolada_reader.sniff_csv,
                      kolada_reader.read_csv, "statistiktabell i Kolada-format (CSV)"))
