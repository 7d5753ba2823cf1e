"""Every feature, with its names in Chinese and English and its unit (for explanations/docs)."""

from __future__ import annotations

from typing import Final, Literal

Unit = Literal["days", "money", "count", "ratio", "text", "number", "date", "score"]

#: name -> (中文, English, unit)
FEATURES: Final[dict[str, tuple[str, str, Unit]]] = {
    "customer_id": ("客户编号", "customer id", "text"),
    "name": ("客户名称", "name", "text"),
    "kind": ("客户类型", "kind (person/company)", "text"),
    "gender": ("性别", "gender", "text"),
    "age": ("年龄", "age", "number"),
    "age_band": ("年龄段（导入值）", "age band (as imported)", "text"),
    "income_band": ("收入段", "income band", "text"),
    "industry": ("行业", "industry", "text"),
    "company_size": ("公司规模", "company size", "text"),
    "country": ("国家", "country", "text"),
    "province": ("省份", "province", "text"),
    "city": ("城市", "city", "text"),
    "source": ("来源渠道", "source channel", "text"),
    "owner": ("负责人", "owner", "text"),
    "created_day": ("建档日期", "created on", "date"),
    "birthday": ("生日", "birthday", "date"),
    "order_lines": ("订单行数", "order lines", "count"),
    "refund_orders": ("退款/取消订单数", "refunded or cancelled orders", "count"),
    "refund_amount": ("退款金额", "refunded amount", "money"),
    "gross_profit_total": ("毛利合计", "gross profit", "money"),
    "categories_bought": ("购买品类数", "categories bought", "count"),
    "first_order_day": ("首次下单日", "first order", "date"),
    "last_order_day": ("最近下单日", "last order", "date"),
    "purchase_days": ("下单天数", "purchase days", "count"),
    "orders_total": ("订单数", "orders", "count"),
    "monetary_total": ("累计消费", "total spend", "money"),
    "median_gap_days": ("购买间隔中位数（天）", "median days between purchases", "days"),
    "last_gap_days": ("最近一次购买间隔（天）", "days between the last two purchases", "days"),
    "orders_90d": ("近90天订单数", "orders in the last 90 days", "count"),
    "revenue_90d": ("近90天消费", "spend in the last 90 days", "money"),
    "orders_365d": ("近365天订单数", "orders in the last 365 days", "count"),
    "revenue_365d": ("近365天消费", "spend in the last 365 days", "money"),
    "frequency": ("复购天数", "repeat purchase days (frequency)", "count"),
    "recency": ("首购到末购天数", "days from first to last purchase (recency)", "days"),
    "T": ("首购至今天数", "days since the first purchase (T)", "days"),
    "recency_days": ("距最近下单天数", "days since the last order", "days"),
    "monetary_mean": ("客单价", "spend per order", "money"),
    "monetary_value": ("复购平均金额", "mean spend of repeat purchases", "money"),
    "spend_trend": (
        "消费趋势（近180天对比前180天，-1~1）",
        "spend trend (last 180 days vs the 180 before, -1..1)",
        "ratio",
    ),
    "refund_rate": ("退款率", "refund rate", "ratio"),
    "rhythm_ratio": ("距上次购买/购买间隔中位数", "days since last order / median gap", "ratio"),
    "interactions_total": ("互动次数", "interactions", "count"),
    "interactions_90d": ("近90天互动次数", "interactions in the last 90 days", "count"),
    "interactions_365d": ("近365天互动次数", "interactions in the last 365 days", "count"),
    "last_interaction_day": ("最近互动日", "last interaction", "date"),
    "web_events_90d": ("近90天网页/邮件行为", "web and email events in the last 90 days", "count"),
    "calls_365d": ("近365天电话", "calls in the last 365 days", "count"),
    "visits_365d": ("近365天拜访", "visits in the last 365 days", "count"),
    "meetings_365d": ("近365天会议", "meetings in the last 365 days", "count"),
    "emails_365d": ("近365天邮件", "emails in the last 365 days", "count"),
    "wechats_365d": ("近365天微信", "WeChat messages in the last 365 days", "count"),
    "smss_365d": ("近365天短信", "text messages in the last 365 days", "count"),
    "interaction_recency_days": ("距最近互动天数", "days since the last interaction", "days"),
    "feedback_total": ("反馈条数", "feedback items", "count"),
    "feedback_scored": ("有评分的反馈", "scored feedback items", "count"),
    "feedback_score_mean": ("平均评分（1-5）", "mean score (1-5)", "number"),
    "sentiment_mean": ("文本情感均值（-1~1）", "mean text sentiment (-1..1)", "ratio"),
    "sentiment_n": ("有情感信号的反馈", "feedback with a sentiment signal", "count"),
    "negative_feedback": ("负面文本反馈", "negative text feedback", "count"),
    "negative_share": ("负面反馈占比", "share of negative feedback", "ratio"),
    "complaints_total": ("投诉数", "complaints", "count"),
    "complaints_open": ("未解决投诉", "open complaints", "count"),
    "complaints_price": ("价格类投诉", "price complaints", "count"),
    "complaints_service": ("服务/物流类投诉", "service or delivery complaints", "count"),
    "complaints_quality": ("质量/功能类投诉", "quality or feature complaints", "count"),
    "last_feedback_day": ("最近反馈日", "last feedback", "date"),
    "referrals_made": ("推荐人数", "referrals made", "count"),
    "referrals_converted": ("推荐成交人数", "referrals converted", "count"),
    "leads_total": ("商机数", "leads", "count"),
    "leads_open": ("进行中商机", "open leads", "count"),
    "leads_won": ("赢单商机", "leads won", "count"),
    "leads_lost": ("输单商机", "leads lost", "count"),
    "lead_stage": ("最新商机阶段", "latest lead stage", "text"),
    "lead_signals": ("最新商机意向信号", "latest lead intent signals", "text"),
    "lead_needs": ("最新商机需求标签", "latest lead needs tags", "text"),
    "lead_expected_value": ("最新商机预计金额", "latest lead expected value", "money"),
    "lead_last_day": ("最新商机日期", "latest lead created", "date"),
    "decision_days_median": ("决策天数中位数", "median days to decision", "days"),
    "location": ("所在地（国内为省份）", "location (province in China, else country)", "text"),
    "age_years": ("年龄（含由生日推算）", "age (or from the birthday)", "number"),
    "tenure_days": ("客户年龄（天）", "days as a customer", "days"),
    "last_activity_days": (
        "距最近下单或互动天数",
        "days since the last order or interaction",
        "days",
    ),
}

#: outputs of the models (``tierwise.models``), computed after the features when a scheme
#: reads them; NULL where the customer has no purchase or the model could not be fitted
MODEL_FEATURES: Final[dict[str, tuple[str, str, Unit]]] = {
    "p_alive": ("存活概率（BG/NBD）", "probability alive (BG/NBD)", "ratio"),
    "expected_purchases": (
        "预计购买次数（模型期内）",
        "expected purchases (model horizon)",
        "number",
    ),
    "expected_spend": (
        "预计客单价（Gamma-Gamma）",
        "expected spend per order (Gamma-Gamma)",
        "money",
    ),
    "clv": ("客户终身价值（折现）", "customer lifetime value (discounted)", "money"),
    "churn_score": ("流失风险分（0-100）", "churn risk score (0-100)", "score"),
    "behaviour_cluster": ("行为分群", "behaviour cluster", "text"),
}
FEATURES.update(MODEL_FEATURES)


def feature_name(name: str, lang: str) -> str:
    entry = FEATURES.get(name)
    if entry is None:
        return name
    return entry[0] if lang == "zh" else entry[1]


__all__ = ["FEATURES", "MODEL_FEATURES", "feature_name"]
