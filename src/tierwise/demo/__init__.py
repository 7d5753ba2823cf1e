"""Demo data: a realistic, bilingual customer data set for trying Tierwise (``tierwise demo``)."""

from tierwise.demo._users import DemoUsers, create_demo_users
from tierwise.demo.generate import DemoSummary, generate

__all__ = ["DemoSummary", "DemoUsers", "create_demo_users", "generate"]
