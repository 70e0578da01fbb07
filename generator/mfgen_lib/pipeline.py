"""The front half every subcommand shares: load -> resolve -> check the document (spec_check.py) -> model.

`build_model` runs it once and returns the Sdk model together with what the document checks
found (the Plan) and the Resolver, so `generate`, `docs` and `diff` all read a spec the same way.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Optional, Tuple

from . import keyword_types
from .errors import Diagnostics, Failed, Reported, SpecError
from .examples import check_examples
from .load import DocStore
from .model import CType, Sdk
from .resolve import N, Resolver
from .sdk import build_sdk
from .spec_check import Plan, SpecChecker


@dataclass
class Model:
    sdk: Sdk
    aliases: List[Tuple[str, CType, N]]
    plan: Plan
    res: Resolver


def build_model(spec: str, prefix: str, diag: Diagnostics, service: Optional[str] = None,
                lax_examples: bool = False) -> Optional[Model]:
    """The whole front half; None when the spec has errors (they are in diag). `service` is the
    application operations without one belong to (--service); every message example is checked
    (with lax_examples one that does not validate is a warning and left out).

    Raises UsageError when the spec cannot be read. The contract hash is filled in
    (sdk.contract_hash) so every template can print it.
    """
    from .normalise import contract_hash  # normalise imports the model, not the pipeline

    store = DocStore()
    try:
        main = store.load_main(spec)
        res = Resolver(store, main)
        keyword_types.check_outline(res.root())
        res.check_all(diag)
        diag.check()
        plan = SpecChecker(res, diag, service).run()
        diag.check()
        sdk, aliases = build_sdk(plan, res, prefix, os.path.basename(spec), diag)
        diag.check()
        check_examples(sdk.messages, diag, lax_examples)
        diag.check()
    except SpecError as e:
        diag.error(e)
        return None
    except (Failed, Reported):
        return None
    sdk.contract_hash = contract_hash(sdk)
    return Model(sdk, aliases, plan, res)
