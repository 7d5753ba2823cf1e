"""Statistical models (scikit-learn contract): BG/NBD, Pareto/NBD, Gamma-Gamma and CLV.

Every model reads the one RFM summary (``rfm_summary``), ideally compressed (``compress``), is
fitted by maximum likelihood on it, and scores numpy arrays of frequency, recency and T.
"""

from tierwise.models._base import FIT_REASONS, ModelFitError, NotFittedError
from tierwise.models._bgnbd import BetaGeo
from tierwise.models._cluster import BehaviourClusters, ClusterFitError, sample_features
from tierwise.models._clv import clv
from tierwise.models._gamma import GammaGamma
from tierwise.models._pareto import ParetoNBD
from tierwise.models._rules import association_rules, reason, recommend, recommend_one
from tierwise.models._service import fit_orders
from tierwise.models._simulate import simulate_bgnbd, simulate_spend
from tierwise.models._summary import compress, rfm_summary

__all__ = [
    "FIT_REASONS",
    "BehaviourClusters",
    "BetaGeo",
    "ClusterFitError",
    "GammaGamma",
    "ModelFitError",
    "NotFittedError",
    "ParetoNBD",
    "association_rules",
    "clv",
    "compress",
    "fit_orders",
    "reason",
    "recommend",
    "recommend_one",
    "rfm_summary",
    "sample_features",
    "simulate_bgnbd",
    "simulate_spend",
]
