"""C names of the schema builder: where a type sits (Hint) and the registry of every C
identifier mfgen emits (Symbols).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Set, Tuple

from . import names
from .errors import Diagnostics, Reported
from .resolve import N


@dataclass(frozen=True)
class Hint:
    """Where a type sits: the nearest public type's C name and the path below it."""

    owner: str
    parts: Tuple[str, ...] = ()

    def public(self) -> str:
        return self.owner + "".join("_" + p for p in self.parts)

    def static(self) -> str:
        return self.owner + "__" + ("_".join(self.parts) if self.parts else "t")

    def label(self) -> str:
        return self.owner + "".join("." + p for p in self.parts)

    def child(self, part: str) -> "Hint":
        return Hint(self.owner, self.parts + (part,))


class Symbols:
    """Every C identifier mfgen emits, with where it came from: duplicates are errors."""

    def __init__(self, diag: Diagnostics) -> None:
        self.diag = diag
        self.owner: Dict[str, Tuple[N, str]] = {}
        self.statics: Set[str] = set()

    def claim(self, ident: str, node: N, what: str) -> bool:
        """Records ident as node's; False (and an error) when it is taken or reserved."""
        if names.is_reserved(ident):
            self.diag.error(node.err(
                f"C name '{ident}' ({what}) collides with a name of the mflow runtime or C",
                "rename the spec item, give it an x-c-name, or generate with another --prefix"))
            return False
        prev = self.owner.get(ident)
        if prev is not None:
            pnode, pwhat = prev
            if pnode == node and pwhat == what:
                return True  # the same item named again (a schema retried after an error elsewhere)
            self.diag.error(node.err(
                f"duplicate C name '{ident}': {what} at {node.ptr or '/'} and {pwhat} at "
                f"{pnode.ptr or '/'} ({pnode.where()})",
                "names are mangled to snake_case, so these two end up the same; rename one "
                "or set x-c-name"))
            return False
        self.owner[ident] = (node, what)
        return True

    def claim_first(self, ident: str, node: N, what: str) -> None:
        """claim() for the name an item's other names derive from: when it fails, the item is
        skipped (errors.Reported), so its derived names do not repeat the same fault."""
        if not self.claim(ident, node, what):
            raise Reported()

    def taken(self, ident: str) -> bool:
        return ident in self.owner

    def static(self, base: str) -> str:
        """A unique file-local symbol (they all contain "__", which public names never do)."""
        name, i = base, 2
        while name in self.statics:
            name = f"{base}_{i}"
            i += 1
        self.statics.add(name)
        return name
