"""Interaction, feedback, referral and lead features per customer, as of a date."""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from tierwise.features._orders import _days

#: interaction kinds counted separately (the rest count in ``interactions_total`` only)
INTERACTION_KINDS = ("call", "visit", "meeting", "email", "wechat", "sms")
WEB_KINDS = ("web_visit", "page_view", "click", "email_open")
#: as `sentiment_label`: a score at or below this is negative
NEGATIVE_SENTIMENT = -0.2


def _end(as_of: date) -> ir.TimestampValue:
    return ibis.timestamp(as_of + timedelta(days=1))


def interaction_features(interactions: ir.Table, as_of: date) -> ir.Table:
    i = interactions.filter(interactions.occurred_at < _end(as_of))
    cut = ibis.date(as_of)
    in90 = i.occurred_at.cast("date") > cut - ibis.interval(days=90)
    in365 = i.occurred_at.cast("date") > cut - ibis.interval(days=365)
    aggs: dict[str, ir.Value] = {
        "interactions_total": i.count(),
        "interactions_90d": i.count(where=in90),
        "interactions_365d": i.count(where=in365),
        "last_interaction_day": i.occurred_at.cast("date").max(),
        "web_events_90d": i.count(where=in90 & i.kind.isin(WEB_KINDS)),
    }
    for kind in INTERACTION_KINDS:
        aggs[f"{kind}s_365d"] = i.count(where=in365 & (i.kind == kind))
    t = i.group_by("customer_pk").aggregate(**aggs)
    return t.mutate(interaction_recency_days=_days(cut, t.last_interaction_day))


def feedback_features(feedback: ir.Table, as_of: date) -> ir.Table:
    end = _end(as_of)
    f = feedback.filter(feedback.received_at < end)
    # NPS is 0-10, surveys and reviews 1-5: compare on one 1-5 scale
    score5 = ibis.ifelse(f.kind == "nps", f.score / 2.0, f.score)
    complaint = f.kind == "complaint"
    resolved = f.resolved_at.notnull() & (f.resolved_at < end)
    is_open = complaint & ~(resolved | (f.status == "resolved"))
    t = f.group_by("customer_pk").aggregate(
        feedback_total=f.count(),
        feedback_scored=score5.count(),
        feedback_score_mean=score5.mean(),
        sentiment_mean=f.sentiment.mean(),
        sentiment_n=f.sentiment.count(),
        negative_feedback=f.count(where=f.sentiment <= NEGATIVE_SENTIMENT),
        complaints_total=f.count(where=complaint),
        complaints_open=f.count(where=is_open),
        complaints_price=f.count(
            where=complaint & f.category.lower().contains("price")
            | complaint & f.category.contains("价格")
        ),
        complaints_service=f.count(
            where=complaint
            & (
                f.category.lower().re_search("service|delivery|logistic")
                | f.category.re_search("服务|售后|物流|配送|客服")
            )
        ),
        complaints_quality=f.count(
            where=complaint
            & (
                f.category.lower().re_search("quality|defect|feature")
                | f.category.re_search("质量|功能|故障")
            )
        ),
        last_feedback_day=f.received_at.cast("date").max(),
    )
    return t.mutate(negative_share=t.negative_feedback / t.sentiment_n.nullif(0))


def referral_features(referrals: ir.Table, as_of: date) -> ir.Table:
    r = referrals.filter(referrals.referred_at.isnull() | (referrals.referred_at < _end(as_of)))
    return r.group_by(r.referrer_pk.name("customer_pk")).aggregate(
        referrals_made=r.count(),
        referrals_converted=r.count(where=r.converted.fill_null(False)),
    )


def lead_features(leads: ir.Table, as_of: date) -> ir.Table:
    end = _end(as_of)
    lead = leads.filter(leads.customer_pk.notnull() & (leads.created_at < end))
    decided = lead.decided_at.notnull() & (lead.decided_at < end)
    # an outcome decided after the as-of date was still open then
    outcome = ibis.ifelse(decided, lead.outcome.fill_null("open"), "open")
    lead = lead.mutate(
        _outcome=outcome,
        _decided=decided,
        _decision_days=ibis.ifelse(
            decided, _days(lead.decided_at, lead.created_at), ibis.null("int64")
        ),
    )
    # ties on created_at broken by id, so every engine picks the same "latest" lead
    latest_key = lead.created_at.epoch_seconds() * 1_000_000 + lead.id
    return lead.group_by("customer_pk").aggregate(
        leads_total=lead.count(),
        leads_open=lead.count(where=lead._outcome == "open"),
        leads_won=lead.count(where=lead._outcome == "won"),
        leads_lost=lead.count(where=lead._outcome == "lost"),
        lead_stage=lead.stage.argmax(latest_key),
        lead_signals=lead.intent_signals.argmax(latest_key),
        lead_needs=lead.needs.argmax(latest_key),
        lead_expected_value=lead.expected_value.argmax(latest_key),
        lead_last_day=lead.created_at.cast("date").max(),
        decision_days_median=lead._decision_days.median(),
    )


__all__ = [
    "INTERACTION_KINDS",
    "feedback_features",
    "interaction_features",
    "lead_features",
    "referral_features",
]
