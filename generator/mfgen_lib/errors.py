"""Diagnostics: SpecError (a located spec problem) and the collector used by every phase."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional, TextIO, TypeVar

T = TypeVar("T")


@dataclass
class SpecError(Exception):
    """A problem in the spec, located by file, 1-based line/column and JSON pointer."""

    message: str
    file: str = ""
    line: int = 0
    col: int = 0
    path: Optional[str] = None
    hint: str = ""

    def __str__(self) -> str:
        return self.format("error")

    def format(self, kind: str = "error") -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}:{self.col}: " if self.line else f"{self.file}: "
        out = f"{where}{kind}: {self.message}"
        if self.path is not None:
            out += f"\n  at: {self.path if self.path else '(document root)'}"
        if self.hint:
            out += f"\n  hint: {self.hint}"
        return out


class Reported(Exception):
    """A problem whose error is already recorded (a refused message, a channel that failed):
    whatever depends on it is skipped quietly, so one fault is reported once."""


class UsageError(Exception):
    """Bad command line or an I/O problem: exit status 2."""


class Diagnostics:
    """Collects errors and warnings; phases check `failed` at their boundaries."""

    def __init__(self) -> None:
        self.errors: List[SpecError] = []
        self.warnings: List[SpecError] = []
        self._seen: set = set()

    def error(self, err: SpecError) -> None:
        key = ("e", err.file, err.line, err.col, err.message)
        if key not in self._seen:
            self._seen.add(key)
            self.errors.append(err)

    def warn(self, err: SpecError) -> None:
        key = ("w", err.file, err.line, err.col, err.message)
        if key not in self._seen:
            self._seen.add(key)
            self.warnings.append(err)

    def guard(self, fn: Callable[[], T]) -> Optional[T]:
        """fn(); when it raises a SpecError, the error is recorded and None returned (None too
        for Reported: that error is already recorded)."""
        try:
            return fn()
        except SpecError as e:
            self.error(e)
            return None
        except Reported:
            return None

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def check(self) -> None:
        """Raises the first error (the others stay listed) when any was recorded."""
        if self.errors:
            raise _Failed()

    def print(self, stream: TextIO) -> None:
        for w in self.warnings:
            print(w.format("warning"), file=stream)
        for e in self.errors:
            print(e.format("error"), file=stream)


class _Failed(Exception):
    """Raised by Diagnostics.check(); the errors are in the Diagnostics."""


Failed = _Failed
