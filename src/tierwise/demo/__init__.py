"""Demo data: a realistic, bilingual customer data set for trying Tierwise (``tierwise demo``)."""

from tierwise.demo.generate import DemoSummary, generate

__all__ = ["DemoSummary", "generate"]
