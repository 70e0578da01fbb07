"""The arrays and maps a schema becomes: the item (or value) type, built through the builder,
and the count limits (minItems/maxItems, minProperties/maxProperties, uniqueItems).
"""
from __future__ import annotations

from .model import CType
from .resolve import N
from .schema_context import SchemaContext
from .schema_naming import child_hint
from .schema_norm import Norm, count
from .symbols import Hint


def map_type(ctx: SchemaContext, t: CType, nm: Norm, hint: Hint) -> None:
    """An object with an additionalProperties schema: a map of string to that schema."""
    ap = nm.kw["additionalProperties"]
    got = ctx.recurse.use(ap, child_hint(t, hint).child("value"), as_item=True)
    if got.nullable:
        raise ap.err("nullable map values are not supported", "drop null from the value type")
    t.item = got.type
    t.min_items = count(nm, "minProperties")
    t.max_items = count(nm, "maxProperties")
    if "maxProperties" in nm.kw and t.max_items == 0:
        raise nm.kw["maxProperties"].err("maxProperties: 0 is not supported")


def array_type(ctx: SchemaContext, t: CType, nm: Norm, hint: Hint) -> None:
    """An array of `items` (any JSON value when absent)."""
    items = nm.kw.get("items")
    if items is None:
        items = N(nm.n.doc, nm.n.ptr + "/items", {})
    got = ctx.recurse.use(items, child_hint(t, hint).child("item"), as_item=True)
    if got.nullable:
        raise items.err("nullable array items are not supported",
                        "drop null from the item type (an absent element cannot be represented)")
    t.item = got.type
    t.min_items = count(nm, "minItems")
    t.max_items = count(nm, "maxItems")
    if "maxItems" in nm.kw and t.max_items == 0:
        raise nm.kw["maxItems"].err("maxItems: 0 is not supported", "0 means 'unlimited' to the runtime")
    if t.max_items and t.min_items > t.max_items:
        raise nm.kw["minItems"].err("minItems is greater than maxItems")
    uq = nm.kw.get("uniqueItems")
    if uq is not None and not isinstance(uq.v, bool):
        raise uq.err("uniqueItems must be true or false")
    t.unique = uq is not None and uq.v is True
