"""The demo's proactive governance: two monthly topics (每月一题) and three dozen practical
measures (办实事清单) with milestones and dated progress, after the seed scenario (weekend
notary offices, a will-notarization week, circuit case filing, the 12309 hotline, liaison
rooms in an industrial park, model community police posts, the pain-point task force).

Deterministic: everything follows from the anchor (no randomness), and it is a few hundred
rows written in bulk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jiesu.catalogue.models import Category
from jiesu.insight.models import (
    Measure,
    MeasureUpdate,
    Milestone,
    Topic,
    TopicItem,
    TopicItemKind,
    TopicLink,
    TopicStatus,
)
from jiesu.orders.models import WorkOrder
from jiesu.org.models import Area, Unit

# (title, owner unit code, category, target, progress %, public, [(milestone, days from anchor, done)])
CITY_MEASURES: tuple[tuple[str, str, str, str, int, bool, tuple[tuple[str, int, bool], ...]], ...] = (
    ("公证机构周末办证", "JB-CITY", "公共法律服务", "全市公证机构每周六开放11家、周日开放3家", 100, True,
     (("确定周末开放名单", -80, True), ("对外公布开放时间", -70, True), ("运行满一个季度评估", -5, True))),
    ("遗嘱公证服务周", "NO-FANGYUAN", "公共法律服务", "设立遗嘱公证专窗，服务量比平常周提高一倍以上", 100, True,
     (("开通预约", -40, True), ("专窗接待", -33, True), ("公布办理情况", -25, True))),
    ("巡回立案进村", "CT110115", "诉讼服务", "在乡镇开展巡回立案，两小时内完成批量登记", 80, True,
     (("确定巡回点位", -50, True), ("首场巡回立案", -30, True), ("覆盖全部乡镇", 40, False))),
    ("12309检察服务热线24小时在线", "PR-CITY", "检察服务", "网上咨询、统一分流、专人答复，线索交办单全程留痕", 90, True,
     (("热线并入接诉平台", -60, True), ("线索交办单上线", -20, True), ("答复质量抽查", 20, False))),
    ("产业园区“两室一站”", "CT110112", "诉讼服务", "法官、检察官工作室和律师工作站每周驻园一天", 70, True,
     (("选址挂牌", -45, True), ("首批驻园", -15, True), ("建立月度通报", 30, False))),
    ("枫桥式社区警务示范点", "CB-GAJ", "社区警务", "建成32个示范社区警务室", 65, True,
     (("制定建设标准", -90, True), ("完成前16个", -10, True), ("完成全部32个", 60, False))),
    ("群众身边痛点攻坚专班", "C12345", "接诉即办", "专班下沉收集诉求，会同部门解决率不低于90%", 95, True,
     (("组建专班", -85, True), ("集中下沉收集", -40, True), ("办结反馈", -3, True))),
    ("老年人法律援助绿色通道", "JB-CITY", "公共法律服务", "七十岁以上老人申请法律援助当日受理", 85, True,
     (("窗口标识", -60, True), ("上门服务", -12, True), ("年度评估", 75, False))),
    ("法律援助电话服务", "JB-CITY", "公共法律服务", "12348法律服务热线工作日全时段人工接听", 100, True,
     (("增加坐席", -70, True), ("全时段接听", -35, True))),
    ("诉讼服务一网通办", "CT-HIGH", "诉讼服务", "网上立案、缴费、阅卷一站办理", 60, True,
     (("上线网上缴费", -25, True), ("上线电子阅卷", 25, False), ("移动端上线", 70, False))),
    ("热线答复质量提升", "C12345", "接诉即办", "答复写明办理过程、结果、依据和联系方式", 40, False,
     (("制定答复规范", -20, True), ("答复质量抽检", 30, False))),
    ("检察听证进社区", "PR110105", "检察服务", "不起诉、司法救助等案件在社区公开听证", 55, True,
     (("确定试点社区", -30, True), ("首场社区听证", 10, False))),
)
# Per district: (title template, owner prefix, category, target template, base %)
DISTRICT_MEASURES = (
    ("{d}公共法律服务站点全覆盖", "JB", "公共法律服务", "{d}每个街道（乡镇）设公共法律服务站", 50),
    ("{d}社区矛盾纠纷就地化解", "JB", "公共法律服务", "{d}人民调解组织调解成功率不低于95%", 70),
    ("{d}诉调对接工作室", "CT", "诉讼服务", "{d}法院在社区设诉调对接工作室", 35),
)
DISTRICTS = ("110101", "110102", "110105", "110106", "110108", "110112", "110114", "110115")


def _measures(anchor: dt.datetime, units: dict[str, Unit], districts: dict[str, str]) -> int:
    specs = list(CITY_MEASURES)
    for i, code in enumerate(DISTRICTS):
        name = districts.get(code, code)
        for j, (title, prefix, category, target, base) in enumerate(DISTRICT_MEASURES):
            pct = min(100, base + (i * 7 + j * 11) % 45)
            plan = (("制定方案", -60 + i, True), ("完成一半", -20 + j * 5, pct >= 50), ("全部完成", 45 + i, pct >= 100))
            specs.append((title.format(d=name), f"{prefix}{code}", category, target.format(d=name), pct,
                          (i + j) % 9 != 4, plan))
    measures = [
        Measure(title=title, owner_unit=units[owner], category=category, target=target, percent=pct, public=public,
                description="")
        for title, owner, category, target, pct, public, _ms in specs if owner in units
    ]
    Measure.objects.bulk_create(measures)
    milestones: list[Milestone] = []
    updates: list[MeasureUpdate] = []
    for m, (_t, _owner, _c, _tg, pct, _p, ms) in zip(measures, [s for s in specs if s[1] in units], strict=True):
        for title, days, done in ms:
            due = (anchor + dt.timedelta(days=days)).date()
            milestones.append(Milestone(measure=m, title=title, due=due,
                                        done_at=anchor + dt.timedelta(days=min(days, -1), hours=10) if done else None))
        steps = [p for p in (max(10, pct // 3), max(20, 2 * pct // 3), pct) if p <= pct]
        for k, p in enumerate(dict.fromkeys(steps)):
            updates.append(MeasureUpdate(
                measure=m, at=anchor - dt.timedelta(days=45 - 20 * k, hours=-9), percent=p,
                # the milestone this percentage has reached (50 %: the half, not "全部完成")
                evidence=f"完成进度{p}%：{ms[min(len(ms) - 1, p * (len(ms) - 1) // 100)][0]}。", links="", author=None,
            ))
    Milestone.objects.bulk_create(milestones)
    MeasureUpdate.objects.bulk_create(updates)
    return len(measures)


def _month(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class TopicSpec:
    title: str
    month: dt.date
    lead: str
    category: Category | None
    area: Area | None
    description: str
    items: tuple[tuple[str, str, str, int, bool], ...]  # kind, text, owner unit, days after month start, done
    link_word: str  # orders with this word outside the category are linked by hand


def _topics(anchor: dt.datetime, units: dict[str, Unit]) -> int:
    today = anchor.date()
    cats = {c.code: c for c in Category.objects.filter(code__in=["020202", "0201"])}
    wangjing = Area.objects.filter(code="110105030").first()
    P, T, R = TopicItemKind.POLICY, TopicItemKind.TASK, TopicItemKind.RESPONSIBILITY
    specs = [
        TopicSpec(
            "老旧小区改造与加装电梯", _month(today, 1), "CB-GHZR", cats.get("020202"), None,
            "老旧小区改造和加装电梯诉求连续多月位居前列，作为每月一题集中攻坚。",
            (
                (P, "梳理加装电梯补贴政策，编写群众版问答", "CB-GHZR", 10, True),
                (P, "明确改造项目业主意见征询规则", "CB-GHZR", 20, True),
                (T, "建立全市改造项目台账，逐项公开进度", "CB-GHZR", 25, True),
                (T, "对诉求集中的小区逐一上门核实", "DC110105", 35, False),
                (T, "每周通报加装电梯审批进展", "C12345", 40, False),
                (R, "区政府对本区改造项目负总责", "DC110105", 30, True),
                (R, "街道负责组织业主协商", "SO110105030", 45, False),
            ),
            "电梯",
        ),
        TopicSpec(
            "望京街道物业服务提升", _month(today), "SO110105030", cats.get("0201"), wangjing,
            "望京街道物业服务、收费和停车诉求较多，街道牵头开展物业服务提升。",
            (
                (P, "宣传物业管理条例，公开物业收费标准", "SO110105030", 10, True),
                (T, "召开物业企业约谈会", "SO110105030", 15, False),
                (T, "对投诉集中的小区开展联合检查", "CB-CGZF", 25, False),
                (R, "物业企业对诉求首问负责", "SO110105030", 20, False),
            ),
            "物业",
        ),
    ]
    n = 0
    for spec in specs:
        if spec.lead not in units:
            continue
        topic = Topic.objects.create(
            title=spec.title, month=spec.month, lead_unit=units[spec.lead], category=spec.category, area=spec.area,
            status=TopicStatus.ACTIVE, description=spec.description,
        )
        TopicItem.objects.bulk_create([
            TopicItem(topic=topic, kind=kind, text=text, owner_unit=units.get(owner),
                      due=spec.month + dt.timedelta(days=days), done=done,
                      done_at=anchor - dt.timedelta(days=2) if done else None)
            for kind, text, owner, days, done in spec.items
        ])
        # Two orders linked by hand: ones the rule does not catch but that belong to the topic.
        rule_cat = spec.category.path if spec.category else "~"
        extra = (WorkOrder.objects.filter(content__contains=spec.link_word)
                 .exclude(category__path__startswith=rule_cat).order_by("number")[:2])
        TopicLink.objects.bulk_create([TopicLink(topic=topic, order=o) for o in extra])
        n += 1
    return n


def load(*, anchor: dt.datetime) -> tuple[int, int]:
    """Topics and measures for the demo city (after its orders). Returns (topics, measures)."""
    codes = {owner for _t, owner, *_r in CITY_MEASURES} | {f"{p}{d}" for _t, p, *_r in DISTRICT_MEASURES
                                                             for d in DISTRICTS}
    codes |= {"CB-GHZR", "DC110105", "C12345", "SO110105030", "CB-CGZF"}
    units = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    districts = dict(Area.objects.filter(code__in=DISTRICTS).values_list("code", "name"))
    return _topics(anchor, units), _measures(anchor, units, districts)


# 未诉先办: what an analyst opens after reading the hotspots. (title, street/community code, category)
PROACTIVE = (
    ("巡查发现路灯成片不亮", "110105001", "0201"),
    ("雨后地下通道积水", "110108001", "0201"),
    ("老旧小区楼道堆物", "110101001", "0201"),
    ("学校周边早高峰拥堵", "110102001", "0201"),
    ("夜间施工噪声集中反映", "110106001", "0201"),
)


def proactive_share(orders: int) -> int:
    """How many of the demo's ``--orders`` are proactive work items: 1 %, none below 100."""
    return orders // 100


def load_proactive(*, anchor: dt.datetime, analyst, count: int) -> int:
    """``count`` proactive work items opened by ``analyst`` through the order service (channel
    "proactive", no requester), one every two days back from the anchor; they wait for dispatch."""
    from jiesu import clock
    from jiesu.catalogue.models import Channel, RequestType
    from jiesu.orders import actions

    areas = set(Area.objects.filter(code__in=[a for _t, a, _c in PROACTIVE]).values_list("code", flat=True))
    categories = set(Category.objects.filter(code__in=[c for _t, _a, c in PROACTIVE]).values_list("code", flat=True))
    for i in range(count):
        title, area, category = PROACTIVE[i % len(PROACTIVE)]
        with clock.frozen(anchor - dt.timedelta(days=2 * (i + 1), hours=-10)):
            actions.create_order(
                actor=analyst, proactive=True, requesters=[], channel=Channel.PROACTIVE,
                request_type=RequestType.OTHER, title=title,
                content=f"{title}：分析热点后主动立项，请属地核实处置。",
                area_code=area if area in areas else None, category_code=category if category in categories else None,
            )
    return count
