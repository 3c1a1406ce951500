"""The registration events' types, named once (the contract's `DATA_MODELS` maps each to its
data model; the fold, the simulator and the importers use these names)."""

from __future__ import annotations

TYPE_PREFIX = "cn.ipr."

GRANTED = TYPE_PREFIX + "patent.invention.granted"
LAPSED = TYPE_PREFIX + "patent.invention.lapsed"
RESTORED = TYPE_PREFIX + "patent.invention.restored"
TRANSFERRED = TYPE_PREFIX + "patent.invention.transferred"
RECLASSIFIED = TYPE_PREFIX + "patent.invention.reclassified"
PCT_FILED = TYPE_PREFIX + "pct.application.filed"
TM_REGISTERED = TYPE_PREFIX + "trademark.registered"
TM_LAPSED = TYPE_PREFIX + "trademark.lapsed"
MADRID = TYPE_PREFIX + "trademark.madrid.registered"
GI_PRODUCT = TYPE_PREFIX + "gi.product.registered"
SOFTWARE = TYPE_PREFIX + "copyright.software.registered"
WORK = TYPE_PREFIX + "copyright.work.registered"
PLEDGE = TYPE_PREFIX + "finance.pledge.registered"
REVENUE = TYPE_PREFIX + "service.revenue.reported"
STATISTIC = TYPE_PREFIX + "statistic.reported"

# How officials read each type (the division page's latest events).
LABEL_ZH: dict[str, str] = {
    GRANTED: "发明专利授权",
    LAPSED: "发明专利失效",
    RESTORED: "发明专利恢复",
    TRANSFERRED: "发明专利转让",
    RECLASSIFIED: "发明专利高价值认定变更",
    PCT_FILED: "PCT国际专利申请",
    TM_REGISTERED: "商标注册",
    TM_LAPSED: "商标失效",
    MADRID: "马德里商标国际注册",
    GI_PRODUCT: "地理标志产品登记",
    SOFTWARE: "计算机软件著作权登记",
    WORK: "作品著作权登记",
    PLEDGE: "知识产权质押登记",
    REVENUE: "知识产权服务业营收报告",
    STATISTIC: "统计数据报告",
}
