"""Turning the classification into action (playbooks, tasks, exports, webhooks)."""

from tierwise.act._export import neutralise, write_table

__all__ = ["neutralise", "write_table"]
