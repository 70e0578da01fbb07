"""What the pieces of the schema builder hand each other: a built schema (Built), the way back
into the builder for the schemas inside a schema (Recurse), and the context every piece that
needs more than a Norm receives explicitly (SchemaContext).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Protocol

from .errors import Diagnostics
from .model import NO_VALUE, CType
from .resolve import N, Resolver
from .schema_norm import Normaliser
from .symbols import Hint, Symbols


@dataclass
class Built:
    """A schema at one place of use: its C type, and what the place adds to it."""

    type: CType
    nullable: bool = False
    default: Any = NO_VALUE
    description: str = ""


class Recurse(Protocol):
    """Builds the schemas inside a schema (members, items, values, branches); the builder
    (schema.py) implements it, with the memo and the cycle check."""

    def use(self, n: N, hint: Hint, as_item: bool = False) -> Built:
        """A schema at a place of use; a $ref makes its target a named (public) type."""

    def build(self, n: N, hint: Hint, force_public: bool, as_item: bool = False) -> Built:
        """A schema as it is (not dereferenced), built once."""


@dataclass(frozen=True)
class SchemaContext:
    """The collaborators of one builder run. `types` lists every C type made so far, in the
    order they were finished (the SDK's order of types starts from it)."""

    res: Resolver
    diag: Diagnostics
    sym: Symbols
    norm: Normaliser
    recurse: Recurse
    types: List[CType]
