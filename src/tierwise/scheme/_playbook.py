"""Playbooks: what each tier's customers get (service level, contact cadence, SLA, pool rules).

A scheme may carry one ``playbooks`` block. It names the dimension whose labels select a
playbook (``value_tier`` or ``priority``…) and gives one playbook per label; a customer whose
label has no playbook gets no proactive work. ``pool`` holds the public pool's rules (公海) and
``win_back`` the churn warning's follow-up. Example::

    playbooks:
      dimension: value_tier
      tiers:
        A: {title: {zh: 重点客户, en: Key account}, service_level: dedicated,
            cadence_days: 30, channel: visit, complaint_sla_hours: 4, recycle_days: 60}

That the dimension and its labels exist is checked by `tierwise.scheme.check_scheme`, which
names the YAML path (``playbooks.tiers.AA``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from tierwise._said import Said
from tierwise.scheme._model import Text, _Model
from tierwise.scheme._said import at

if TYPE_CHECKING:
    from tierwise.scheme._model import Scheme

ServiceLevel = Literal["dedicated", "standard", "automated"]
Channel = Literal["visit", "call", "email", "sms", "wechat", "none"]
AssignRule = Literal["region", "industry", "round_robin", "load"]

#: channels a person works through; the others are sent in bulk by the system
PERSONAL_CHANNELS = ("visit", "call", "wechat")


class Discount(_Model):
    """How much a rep may give without asking (percent off list price) and the house rule."""

    max_percent: float = Field(0.0, ge=0, le=100)
    policy: Text | None = None


class Playbook(_Model):
    """One tier's treatment. ``cadence_days`` absent (and ``channel: none``): no proactive
    contact; ``recycle_days`` absent: the customer never returns to the pool by itself."""

    title: Text
    service_level: ServiceLevel = "standard"
    cadence_days: int | None = Field(None, ge=1, le=3650)
    channel: Channel = "none"
    complaint_sla_hours: int = Field(48, ge=1, le=24 * 90)
    recycle_days: int | None = Field(None, ge=1, le=3650)
    #: care calendar events, e.g. birthday, contract_anniversary, spring_festival, mid_autumn
    care: list[str] = Field(default_factory=list)
    discount: Discount = Discount()
    #: product categories a rep may recommend; ["*"] any, [] none
    recommendations: list[str] = Field(default_factory=list)
    #: share of the tier kept out of the playbook to measure its effect (evaluation)
    holdout_share: float | None = Field(None, ge=0, le=0.5)

    @model_validator(mode="after")
    def _cadence_needs_a_channel(self) -> Playbook:
        if self.cadence_days is not None and self.channel == "none":
            raise ValueError(Said(
                f"cadence_days {self.cadence_days} needs a channel (visit, call, email, sms "
                "or wechat); leave cadence_days out for no proactive contact",
                key="scheme.check.cadence_channel", days=self.cadence_days,
            ))  # fmt: skip
        if self.cadence_days is None and self.channel != "none":
            raise ValueError(Said(f"channel {self.channel!r} needs cadence_days (how often)",
                                  key="scheme.check.channel_cadence",
                                  channel=repr(self.channel)))  # fmt: skip
        for i, name in enumerate(self.care):
            if not name or not name.replace("_", "").isalnum() or not name.islower():
                raise ValueError(Said(f"care[{i}] {name!r} must be a lower_snake_case event name",
                                      key="scheme.check.care_name", index=i,
                                      name=repr(name)))  # fmt: skip
        return self

    @property
    def proactive(self) -> bool:
        return self.cadence_days is not None


class PoolRules(_Model):
    """The public pool (公海): how customers are handed out, claimed and recycled."""

    assign_by: AssignRule = "round_robin"
    #: most customers one rep may own, and their total value (revenue of the last 365 days)
    max_customers: int | None = Field(None, ge=1)
    max_value: float | None = Field(None, gt=0)
    #: claims per rep per day (UTC)
    claim_daily_limit: int = Field(20, ge=0)
    #: days before an ex-owner may claim a customer back
    cooldown_days: int = Field(30, ge=0)
    #: days between the owner's warning and the recycle
    warn_days: int = Field(7, ge=0)


class WinBack(_Model):
    """Churn warnings: customers entering one of ``labels`` of ``dimension`` get a win-back
    task through ``channel`` due ``due_days`` later."""

    dimension: str = "churn_risk"
    labels: list[str] = Field(default_factory=lambda: ["high"], min_length=1)
    channel: Channel = "call"
    due_days: int = Field(3, ge=0, le=365)


class Playbooks(_Model):
    dimension: str
    tiers: dict[str, Playbook] = Field(min_length=1)
    pool: PoolRules = PoolRules()
    win_back: WinBack | None = None

    def for_label(self, label: str | None) -> Playbook | None:
        return None if label is None else self.tiers.get(label)


def check_playbooks(scheme: Scheme) -> list[str]:
    """Playbooks refer to a dimension of ``scheme`` and to its labels; messages at the path."""
    books = scheme.playbooks
    if books is None:
        return []
    errors: list[str] = []
    dims = scheme.dimensions

    def labels_of(ref: str, where: str) -> set[str] | None:
        if ref not in dims:
            names = ", ".join(dims)
            errors.append(at(where, Said(
                f"{ref!r} is not a dimension of this scheme (one of {names}).",
                key="scheme.check.playbook_dimension", ref=repr(ref), dimensions=names,
            )))  # fmt: skip
            return None
        return set(dims[ref].keys())

    keys = labels_of(books.dimension, "playbooks.dimension")
    if keys is not None:
        listed = ", ".join(dims[books.dimension].keys())
        for tier in books.tiers:
            if tier not in keys:
                errors.append(at(f"playbooks.tiers.{tier}", Said(
                    f"{tier!r} is not a label of {books.dimension} (labels: {listed}).",
                    key="scheme.check.playbook_tier", tier=repr(tier), dimension=books.dimension,
                    labels=listed,
                )))  # fmt: skip
    if books.win_back is not None:
        churn = labels_of(books.win_back.dimension, "playbooks.win_back.dimension")
        if churn is not None:
            errors.extend(
                at(f"playbooks.win_back.labels[{i}]", _not_label(label, books.win_back.dimension))
                for i, label in enumerate(books.win_back.labels)
                if label not in churn
            )
    return errors


def _not_label(label: str, dimension: str) -> Said:
    return Said(f"{label!r} is not a label of {dimension}.", key="scheme.check.not_label_of",
                label=repr(label), dimension=dimension)  # fmt: skip


__all__ = [
    "PERSONAL_CHANNELS",
    "AssignRule",
    "Channel",
    "Discount",
    "Playbook",
    "Playbooks",
    "PoolRules",
    "ServiceLevel",
    "WinBack",
    "check_playbooks",
]
