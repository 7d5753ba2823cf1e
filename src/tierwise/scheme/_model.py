"""The scheme's data model: pydantic models that load from and dump to YAML losslessly.

A scheme is an ordered mapping of dimensions. Each dimension has one method:

- ``score``: a weighted sum of feature scores (quintile scores 1-5 or raw values), then a cut;
- ``bands``: one feature, then a cut (thresholds, quantiles or natural breaks);
- ``rfm``: R, F and M quintile scores mapped through a 5 × 5 score map (R × average of F and M);
- ``rules``: boolean rules in the safe expression language; overlaps are an error unless
  ``multi`` (then every matching label applies, e.g. needs);
- ``mapping``: a feature's values grouped into labels (regions, industries);
- ``grid``: a declared combination of two other dimensions' labels (priority);
- ``model``: a fitted model's output (filled in by ``tierwise.models``).

Labels of ordered methods (score, bands) are listed from the lowest to the highest.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tierwise._said import Said
from tierwise.scheme._said import Located, pydantic_said, said, where

INSUFFICIENT = "insufficient"
#: a whole-scheme check names the YAML path it is about as ``AT + path + ": " + message``
#: (a `Located` message, so that the message keeps its catalogue key)
AT = "@"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Label(_Model):
    key: str = Field(pattern=r"^[A-Za-z0-9_+\-]{1,48}$")
    zh: str
    en: str
    description: Text | None = None

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Cut(_Model):
    """Where an ordered value is cut into classes, lowest class first.

    - ``thresholds``: class i holds ``points[i-1] <= value < points[i]``;
    - ``quantiles``: by percent rank (ties share a rank): class i holds
      ``probs[i-1] <= percent_rank < probs[i]``;
    - ``jenks``: natural breaks into ``classes`` classes, computed on the data each run.
    """

    by: Literal["thresholds", "quantiles", "jenks"]
    points: list[float] | None = None
    probs: list[float] | None = None
    classes: int | None = Field(None, ge=2, le=12)

    @model_validator(mode="after")
    def _complete(self) -> Cut:
        need = {"thresholds": "points", "quantiles": "probs", "jenks": "classes"}[self.by]
        if getattr(self, need) is None:
            raise ValueError(Said(f"cut by {self.by} needs {need}", key="scheme.check.cut_needs",
                                  by=self.by, needs=need))  # fmt: skip
        for name in ("points", "probs"):
            values = getattr(self, name)
            if values is None:
                continue
            for i in range(1, len(values)):
                if values[i] <= values[i - 1]:
                    got, before = f"{values[i]:g}", f"{values[i - 1]:g}"
                    raise ValueError(Said(
                        f"{name} must increase (got {got} after {before} at {name}[{i}])",
                        key="scheme.check.must_increase", name=name, value=got, previous=before,
                        index=i,
                    ))  # fmt: skip
        if self.probs is not None and not all(0 < p < 1 for p in self.probs):
            raise ValueError(Said("probs must lie strictly between 0 and 1",
                                  key="scheme.check.probs_range"))  # fmt: skip
        return self

    @property
    def n_classes(self) -> int:
        if self.by == "thresholds":
            assert self.points is not None
            return len(self.points) + 1
        if self.by == "quantiles":
            assert self.probs is not None
            return len(self.probs) + 1
        assert self.classes is not None
        return self.classes


class Hysteresis(_Model):
    """Keep customers from flapping between neighbouring classes.

    A customer moves *down* only when the value is lower than the cut by more than ``margin``
    (in the cut's own units: score points, or percent rank for quantile cuts) and after
    ``min_days`` in the current class; moves up happen at once. A downgrade out of a
    ``protected`` label waits for a manager's approval.
    """

    margin: float = Field(0.0, ge=0)
    min_days: int = Field(0, ge=0)
    protected: list[str] = Field(default_factory=list)


class Component(_Model):
    feature: str
    weight: float = Field(gt=0)
    #: quintile: 1-5 by percent rank (ties share a score); raw: the value itself
    scale: Literal["quintile", "raw"] = "quintile"
    higher_is_better: bool = True
    #: short name in explanations, e.g. "R"
    symbol: str | None = None


class _Dimension(_Model):
    title: Text
    labels: list[Label] = Field(min_length=1)
    #: rule (safe expression) under which the evidence is too thin: label "insufficient"
    insufficient: str | None = None
    insufficient_label: Text = Text(zh="数据不足", en="Insufficient data")
    description: Text | None = None
    #: the method used instead when a model output this dimension reads (``p_alive``, ``clv``,
    #: ``churn_score``, ``behaviour_cluster``…) is unavailable: a dimension definition (method
    #: and its keys) that inherits title, labels and the insufficient-data rule unless it
    #: sets them; its labels must be the same keys
    fallback: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _unique_labels(self) -> _Dimension:
        keys = [label.key for label in self.labels]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            repeated = ", ".join(dupes)
            raise ValueError(Said(f"label keys must be unique (repeated: {repeated})",
                                  key="scheme.check.labels_repeated", keys=repeated))  # fmt: skip
        if INSUFFICIENT in keys:
            raise ValueError(Said(f'"{INSUFFICIENT}" is reserved for insufficient data',
                                  key="scheme.check.label_reserved", label=INSUFFICIENT))  # fmt: skip
        return self

    def fallback_dimension(self) -> _Dimension | None:
        """The dimension used when a model output it reads is unavailable (None: no fallback).

        A fallback that is not sound raises ``ValueError(where("fallback…", detail))``.
        """
        if self.fallback is None:
            return None
        from pydantic import TypeAdapter, ValidationError

        inherited = self.model_dump(
            mode="json",
            include={"title", "labels", "insufficient", "insufficient_label", "description"},
            exclude_none=True,
        )
        data = inherited | self.fallback
        if "fallback" in self.fallback:
            raise ValueError(where("fallback", Said("a fallback cannot have a fallback of its own",
                                                    key="scheme.check.fallback_nested")))  # fmt: skip
        try:
            adapter: TypeAdapter[_Dimension] = TypeAdapter(cast(Any, Dimension))
            dim = adapter.validate_python(data)
        except ValidationError as error:
            first = error.errors()[0]
            path = "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}"
                for p in first["loc"][1:]  # [0] is the method tag
            )
            raise ValueError(where(f"fallback{path}", pydantic_said(first))) from None
        if sorted(dim.keys()) != sorted(self.keys()):
            keys = ", ".join(self.keys())
            raise ValueError(where("fallback", Said(
                f"its labels must be the same keys as the dimension's ({keys})",
                key="scheme.check.fallback_labels", keys=keys,
            )))  # fmt: skip
        return dim

    def keys(self) -> list[str]:
        return [label.key for label in self.labels]

    def label(self, key: str) -> Label | None:
        return next((label for label in self.labels if label.key == key), None)

    @property
    def ordered(self) -> bool:
        return False


class _Ordered(_Dimension):
    cut: Cut
    hysteresis: Hysteresis | None = None

    @model_validator(mode="after")
    def _labels_fit_cut(self) -> _Ordered:
        if len(self.labels) != self.cut.n_classes:
            classes, listed = self.cut.n_classes, len(self.labels)
            raise ValueError(Said(
                f"the cut makes {classes} classes but {listed} labels are listed (lowest first)",
                key="scheme.check.labels_vs_cut", classes=classes, labels=listed,
            ))  # fmt: skip
        if self.hysteresis:
            unknown = ", ".join(k for k in self.hysteresis.protected if k not in self.keys())
            if unknown:
                raise ValueError(Said(f"hysteresis.protected names unknown labels: {unknown}",
                                      key="scheme.check.protected_unknown", keys=unknown))  # fmt: skip
        return self

    @property
    def ordered(self) -> bool:
        return True


class ScoreDimension(_Ordered):
    method: Literal["score"]
    components: list[Component] = Field(min_length=1)


class BandsDimension(_Ordered):
    method: Literal["bands"]
    feature: str
    higher_is_better: bool = True


class RFMDimension(_Dimension):
    method: Literal["rfm"]
    recency: str = "recency_days"
    frequency: str = "frequency"
    monetary: str = "monetary_total"
    #: score_map[r] = labels for FM score 1..5, with r from "5" (most recent) to "1"
    score_map: dict[str, list[str]]

    @field_validator("score_map")
    @classmethod
    def _five_by_five(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if sorted(value) != ["1", "2", "3", "4", "5"]:
            raise ValueError(Said("score_map needs the R scores 1 to 5 as keys",
                                  key="scheme.check.score_map_keys"))  # fmt: skip
        for r, row in value.items():
            if len(row) != 5:
                raise ValueError(Said(
                    f"score_map.{r} needs 5 labels (FM scores 1 to 5), got {len(row)}",
                    key="scheme.check.score_map_row", score=r, count=len(row),
                ))  # fmt: skip
        return value

    @model_validator(mode="after")
    def _map_uses_labels(self) -> RFMDimension:
        unknown = sorted({k for row in self.score_map.values() for k in row} - set(self.keys()))
        if unknown:
            keys = ", ".join(unknown)
            raise ValueError(Said(f"score_map uses labels that are not listed: {keys}",
                                  key="scheme.check.score_map_labels", keys=keys))  # fmt: skip
        return self


def _otherwise(label: str) -> Said:
    return Said(f"otherwise {label!r} is not a listed label", key="scheme.check.otherwise_label",
                label=repr(label))  # fmt: skip


class Rule(_Model):
    label: str
    when: str


class RulesDimension(_Dimension):
    method: Literal["rules"]
    rules: list[Rule] = Field(min_length=1)
    #: label when no rule matches (required: a customer always gets a label)
    otherwise: str
    #: several rules may match; the label is every matching key joined by "+"
    multi: bool = False
    #: rule order is a priority list (first match wins) only when declared so
    first_match: bool = False

    @model_validator(mode="after")
    def _known(self) -> RulesDimension:
        keys = set(self.keys())
        for i, rule in enumerate(self.rules):
            if rule.label not in keys:
                raise ValueError(Said(f"rules[{i}].label {rule.label!r} is not a listed label",
                                      key="scheme.check.rule_label", index=i,
                                      label=repr(rule.label)))  # fmt: skip
        if self.otherwise not in keys:
            raise ValueError(_otherwise(self.otherwise))
        return self


class MappingDimension(_Dimension):
    method: Literal["mapping"]
    feature: str
    #: label key -> the feature values that belong to it (compared case-insensitively)
    groups: dict[str, list[str]]
    otherwise: str

    @model_validator(mode="after")
    def _known(self) -> MappingDimension:
        keys = set(self.keys())
        for key in [*self.groups, self.otherwise]:
            if key not in keys:
                raise ValueError(Said(f"{key!r} is not a listed label",
                                      key="scheme.check.group_label", label=repr(key)))  # fmt: skip
        seen: dict[str, str] = {}
        for key, values in self.groups.items():
            for value in values:
                norm = value.strip().casefold()
                if norm in seen and seen[norm] != key:
                    raise ValueError(Said(
                        f"value {value!r} is in both groups {seen[norm]!r} and {key!r}",
                        key="scheme.check.group_overlap", value=repr(value),
                        first=repr(seen[norm]), second=repr(key),
                    ))  # fmt: skip
                seen[norm] = key
        return self


class GridDimension(_Dimension):
    method: Literal["grid"]
    rows: str
    columns: str
    #: cells[row label][column label] = label; a missing cell takes ``otherwise``
    cells: dict[str, dict[str, str]]
    otherwise: str

    @model_validator(mode="after")
    def _known(self) -> GridDimension:
        keys = set(self.keys())
        used = {v for row in self.cells.values() for v in row.values()} | {self.otherwise}
        unknown = sorted(used - keys)
        if unknown:
            listed = ", ".join(unknown)
            raise ValueError(Said(f"cells use labels that are not listed: {listed}",
                                  key="scheme.check.cells_labels", keys=listed))  # fmt: skip
        return self


class ModelDimension(_Dimension):
    method: Literal["model"]
    model: str
    params: dict[str, Any] = Field(default_factory=dict)


Dimension = Annotated[
    ScoreDimension
    | BandsDimension
    | RFMDimension
    | RulesDimension
    | MappingDimension
    | GridDimension
    | ModelDimension,
    Field(discriminator="method"),
]


class ClusterSettings(_Model):
    """Behaviour clusters: the features they are found on, how many, and the fitting sample."""

    features: list[str] = Field(
        default_factory=lambda: [
            "recency_days",
            "frequency",
            "monetary_mean",
            "revenue_365d",
            "categories_bought",
            "interactions_90d",
            "tenure_days",
        ],
        min_length=2,
    )
    k_min: int = Field(3, ge=2, le=12)
    k_max: int = Field(8, ge=2, le=12)
    sample_size: int = Field(50_000, ge=100, le=1_000_000)
    seed: int = 0

    @model_validator(mode="after")
    def _range(self) -> ClusterSettings:
        if self.k_max < self.k_min:
            raise ValueError(Said(f"k_max ({self.k_max}) must be at least k_min ({self.k_min})",
                                  key="scheme.check.k_range", k_max=self.k_max,
                                  k_min=self.k_min))  # fmt: skip
        return self


class ModelSettings(_Model):
    """How the models behind ``p_alive``, ``expected_purchases``, ``clv`` and the clusters run.

    Durations are in days; ``discount_rate`` is per year. Below ``min_customers`` buyers (or
    ``min_repeat_buyers`` repeat buyers, for the spend model) a model is not fitted and the
    dimensions that read it use their ``fallback``.
    """

    horizon_days: int = Field(90, ge=1, le=3650)
    clv_horizon_days: int = Field(365, ge=30, le=3650)
    discount_rate: float = Field(0.1, ge=0, lt=1)
    min_customers: int = Field(200, ge=10)
    min_repeat_buyers: int = Field(50, ge=5)
    clusters: ClusterSettings = Field(default_factory=ClusterSettings)


#: interaction kinds as the store keeps them (import maps 拜访, 电话, 微信, 访问官网… onto these)
InteractionKind = Literal[
    "visit", "meeting", "call", "email", "wechat", "sms", "web_visit", "page_view",
    "email_open", "click", "other",
]  # fmt: skip
#: the shipped cost of one interaction by kind, in the scheme's currency: web visits, page
#: views, opened emails and clicks are the customer's doing and cost nothing
DEFAULT_COSTS: dict[str, float] = {
    "visit": 200.0, "meeting": 150.0, "call": 15.0, "email": 2.0, "wechat": 2.0, "sms": 0.5,
    "web_visit": 0.0, "page_view": 0.0, "email_open": 0.0, "click": 0.0, "other": 5.0,
}  # fmt: skip


class EvaluationSettings(_Model):
    """What the evaluation's cost to serve charges: one interaction by kind (a kind left out
    keeps its shipped cost) and one service hour (interactions' ``duration_min``)."""

    costs: dict[InteractionKind, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    hourly_rate: float = Field(60.0, ge=0)

    def prices(self) -> dict[str, float]:
        """The cost of every kind: the shipped ones, replaced where this scheme sets one."""
        return DEFAULT_COSTS | {str(k): float(v) for k, v in self.costs.items()}


class Scheme(_Model):
    """A classification standard: what a published version holds."""

    format: Literal[1] = 1
    name: str
    description: Text | None = None
    currency: str = "CNY"
    dimensions: dict[str, Dimension] = Field(min_length=1)
    models: ModelSettings = Field(default_factory=ModelSettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    #: what each tier's customers get (tierwise.scheme._playbook); checked by check_scheme
    playbooks: Playbooks | None = None

    @field_validator("dimensions")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        import re

        for name in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,47}", name):
                raise ValueError(Said(
                    f"dimension name {name!r} must be lower_snake_case (a-z, 0-9, _)",
                    key="scheme.check.dimension_name", name=repr(name),
                ))  # fmt: skip
        return value

    @model_validator(mode="after")
    def _fallbacks_are_sound(self) -> Scheme:
        # here, after every dimension passed its own checks: a fallback inherits the labels,
        # and a broken label list should be reported once, where it is
        for name, dim in self.dimensions.items():
            try:
                dim.fallback_dimension()
            except ValueError as error:
                found = said(error)
                if isinstance(found, Located):
                    path = f"{AT}dimensions.{name}.{found.path}"
                    raise ValueError(where(path, found.detail)) from None
                raise ValueError(f"{AT}dimensions.{name}.{error}") from None
        return self

    @model_validator(mode="after")
    def _grids_refer_to_dimensions(self) -> Scheme:
        for name, dim in self.dimensions.items():
            if isinstance(dim, GridDimension):
                for ref in (dim.rows, dim.columns):
                    target = self.dimensions.get(ref)
                    if target is None or isinstance(target, GridDimension):
                        raise ValueError(Said(
                            f"{name}: grid refers to {ref!r}, which must be another "
                            "dimension of this scheme (not a grid)",
                            key="scheme.check.grid_ref", name=name, ref=repr(ref),
                        ))  # fmt: skip
        return self


# at the end: the playbook models build on Text and _Model above
from tierwise.scheme._playbook import Playbooks  # noqa: E402

Scheme.model_rebuild()

__all__ = [
    "DEFAULT_COSTS",
    "INSUFFICIENT",
    "BandsDimension",
    "ClusterSettings",
    "Component",
    "Cut",
    "Dimension",
    "EvaluationSettings",
    "GridDimension",
    "Hysteresis",
    "Label",
    "MappingDimension",
    "ModelDimension",
    "ModelSettings",
    "RFMDimension",
    "Rule",
    "RulesDimension",
    "Scheme",
    "ScoreDimension",
    "Text",
]
