"""mfgen: AsyncAPI 3 -> deterministic C SDK generator (library package).

Pipeline: load -> resolve -> check (spec_check.py) -> model -> render. See docs/generator.md.
"""
