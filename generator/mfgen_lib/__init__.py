"""mfgen: AsyncAPI 3 -> deterministic C SDK generator (library package).

Pipeline: load -> resolve -> validate -> model -> render. See docs/generator.md.
"""
