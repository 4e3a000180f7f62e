"""Source formats: files whose shape says which source made them (a Kolada API response,
Polisen's events feed, ...). ``reading.read_bytes`` asks :func:`sniff` first; a file no
format recognises goes the generic CSV / Excel / JSON way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hjo_data import polisen
from hjo_data.rawtable import RawTable

__all__ = ["FORMATS", "SourceFormat", "get_format", "register", "sniff"]


@dataclass(frozen=True)
class SourceFormat:
    """A recognisable source format: ``sniff(data, name)`` is cheap (looks at the first
    bytes), ``read(data, name)`` turns the bytes into rows of ``dataset``."""

    name: str
    dataset: str
    sniff: Callable[[bytes, str], bool]
    read: Callable[[bytes, str], RawTable]


FORMATS: list[SourceFormat] = []


def register(fmt: SourceFormat) -> SourceFormat:
    """Add ``fmt`` (a name registered again replaces the earlier one)."""
    FORMATS[:] = [f for f in FORMATS if f.name != fmt.name]
    FORMATS.append(fmt)
    return fmt


def sniff(data: bytes, name: str) -> SourceFormat | None:
    """The first registered format recognising ``data``, or None."""
    for fmt in FORMATS:
        if fmt.sniff(data, name):
            return fmt
    return None


def get_format(name: str | None) -> SourceFormat | None:
    return next((f for f in FORMATS if f.name == name), None)


register(SourceFormat("polisen", "incidents", polisen.sniff_feed, polisen.read_feed))
