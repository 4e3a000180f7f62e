"""Shared exception and row-error types. Messages are Swedish: they reach the user as-is."""

from __future__ import annotations

from dataclasses import asdict, dataclass


class HjoDataError(Exception):
    """Base class; ``str(err)`` is a Swedish message fit for the user."""


class UnreadableFileError(HjoDataError):
    """The file cannot be read at all (nothing is stored). Exit code 2 in the CLI."""


class UnknownDatasetError(HjoDataError):
    """The headers match no dataset (and none was given)."""


@dataclass(frozen=True)
class RowError:
    """Why one input row was rejected. ``line`` is the 1-based physical line in the file."""

    line: int
    column: str
    value: str
    reason: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
