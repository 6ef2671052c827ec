"""Reply quality: does a unit's reply state what a good reply states? Pure Python (no Django).

A good reply (Art. 18 of the Beijing regulation asks units to "reply to the requester on the
handling") says four things, each checked here with patterns over the Chinese text:

- ``action``: what the unit did (经调查/经核实, 现场查看, 已组织/已安排/已督促…). Merely passing
  the request on (已转…调查处理, 已转交…) is not an action of the replying unit.
- ``result``: what came of it (已修复/已整改/已拆除…, 整改完毕, 目前…正在…, 将于…完成, 属实/不属实,
  符合/不符合条件).
- ``basis``: the legal or policy basis (根据/依据/按照 …规定/条例/办法/政策…, 《…》, 第…条).
- ``contact``: a way to follow up (a phone number, 联系电话/咨询电话, 联系人, 可与…联系).

Each criterion comes back with its evidence spans (offsets into the text), and the reply gets
a score of 0–100 from configurable weights. Patterns, not a model: a unit can see exactly which
words earned a badge, and a reply cannot be "improved" by anything but saying more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

CRITERIA = ("action", "result", "basis", "contact")
WEIGHTS: Mapping[str, int] = {"action": 30, "result": 30, "basis": 20, "contact": 20}
MAX_SPANS = 3

_VERBS = (
    "组织|安排|派员|派出|联系|协调|督促|责令|约谈|核查|调查|核实|检查|巡查|处理|清理|清运|维修|修复|更换|整改|"
    "拆除|开展|对接|上门|前往|赶赴|走访|召开|会同|联合|回复|答复了|查处|立案|下发|制定|研究|落实|部署|告知|"
    "疏通|补种|修剪|安装|张贴|劝导|处罚|查询|查阅|要求|下达|约见|征求|测量|检测|监测|抽检|执法"
)
PATTERNS: Mapping[str, tuple[re.Pattern[str], ...]] = {
    "action": (
        re.compile(r"经(?:过)?[^。；;，,！!]{0,20}?(?:调查|核查|核实|查实|了解|走访|研究|协调|排查|检查|勘查|勘察|查询|会商)"),
        re.compile(rf"(?:已经|已|立即|及时|随即|迅速|当即|第一时间|专门|多次|再次)(?:派人|(?:{_VERBS}))"),
        re.compile(r"为(?:您|你)[^。；;]{0,6}(?:办理|安装|加装|更换|维修|查询|解决|补办|协调|联系)"),
        re.compile(r"(?:现场|实地)(?:查看|核实|勘察|勘查|检查|调查|了解|办公|处置)"),
        re.compile(r"(?:组织|安排|派出|派遣|带领)[^。；;，,]{0,12}(?:人员|执法队员|民警|工作组|专班|技术员|师傅)"),
        re.compile(r"(?:责令|约谈|督促|要求)[^。；;]{1,20}(?:整改|停止|拆除|清理|落实|处理|改正|退还|支付)"),
        re.compile(r"据(?:查|了解|核实|调查)"),
    ),
    "result": (
        re.compile(
            r"(?:已|现已|目前已|均已|已经|业已|全部)(?:完成|解决|修复|恢复|整改|拆除|清理|清运|办结|安装|更换|落实|到位|"
            r"开通|退还|发放|补发|纳入|办理|立案|处罚|罚款|关闭|取缔|停止|停工|疏通|补种|修剪|签订|支付|结清|投入使用|"
            r"通车|通水|通电|供暖|整治|规范|消除|搬离|撤除|移除|登记|审批|批复)"
        ),
        re.compile(r"(?:整改|维修|修复|清理|处理|施工|拆除|安装|更换|整治)(?:已)?(?:完毕|到位|完成|结束)"),
        re.compile(r"(?:目前|现在|现)[^。；;]{0,20}(?:正在|已|尚|仍|暂|正常|恢复)"),
        re.compile(r"(?:将于|计划于|预计|拟于|将在|近期将|下一步将|即将)[^。；;]{0,20}"
                   r"(?:完成|开工|竣工|交付|投入|开通|实施|启动|建成|办理|解决|进行|施工|设置|安装|拆)"),
        re.compile(r"(?:反映|所述)?(?:情况|问题)?(?:基本)?(?:属实|不属实)"),
        re.compile(r"(?:不)?符合[^。；;]{0,10}(?:条件|规定|要求|标准|政策)"),
        re.compile(r"(?:处以|罚款|立案查处|行政处罚)[^。；;]{0,10}"),
    ),
    "basis": (
        re.compile(r"《[^》\n]{2,60}》"),
        re.compile(r"第[一二三四五六七八九十百零〇\d]+条"),
        re.compile(
            r"(?:根据|依据|按照|依照|遵照|参照|按|依)[^。；;！!？?]{0,40}?"
            r"(?:规定|条例|办法|法律|法规|规章|政策|文件|通知|标准|细则|规范|规划|合同|协议|意见|精神|《)"
        ),
        re.compile(r"(?:法律|法规|政策|文件)(?:规定|明确|要求)"),
        re.compile(r"[\u4e00-\u9fff]{2,12}(?:法|条例|办法)(?:规定|第)"),
    ),
    "contact": (
        re.compile(
            r"(?:联系电话|咨询电话|服务电话|办公电话|值班电话|投诉电话|举报电话|热线|电话|手机|联系方式|联系人)"
            r"[：:\s（(为是]{0,4}[^。；;\n]{0,12}?(?<![A-Za-z\d])[\d０-９][\d０-９\-－—\s()（）]{4,20}"
        ),
        re.compile(r"(?<![A-Za-z\d])(?:1[3-9]\d{9}|0\d{2,3}[-－—]\d{7,8})(?!\d)"),
        re.compile(r"(?:可|请|欢迎)(?:直接|及时|随时)?(?:与|向|到|致电|拨打|联系)[^。；;]{0,25}?(?:联系|咨询|反映|办理|来电)"),
        re.compile(r"联系人[：:\s]*[\u4e00-\u9fff]{1,4}"),
    ),
}
# Passing a request on is not something the replying unit did.
FORWARDED = re.compile(r"(?:已|现已|已经)?(?:转|转交|转至|转给|转办|交由)[^。；;]{0,20}(?:调查|处理|办理|核实|核处|办复|回复)")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Check:
    criterion: str
    met: bool
    evidence: tuple[Span, ...]


@dataclass(frozen=True)
class Quality:
    checks: tuple[Check, ...]
    score: int  # 0–100

    def __getitem__(self, criterion: str) -> Check:
        for c in self.checks:
            if c.criterion == criterion:
                return c
        raise KeyError(criterion)

    @property
    def met(self) -> dict[str, bool]:
        return {c.criterion: c.met for c in self.checks}


def _inside(span: tuple[int, int], blocked: list[tuple[int, int]]) -> bool:
    return any(s <= span[0] and span[1] <= e for s, e in blocked)


def _find(criterion: str, text: str, blocked: list[tuple[int, int]]) -> tuple[Span, ...]:
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []
    for pattern in PATTERNS[criterion]:
        for m in pattern.finditer(text):
            if m.end() <= m.start() or _inside(m.span(), blocked):
                continue
            if any(not (m.end() <= s or e <= m.start()) for s, e in taken):
                continue  # overlaps evidence already found
            taken.append(m.span())
            spans.append(Span(m.start(), m.end(), m.group(0)))
    spans.sort(key=lambda s: s.start)
    return tuple(spans[:MAX_SPANS])


def check(text: str, weights: Mapping[str, int] = WEIGHTS) -> Quality:
    """Each criterion met or not, with evidence, and the weighted score (0–100)."""
    body = text or ""
    forwarded = [m.span() for m in FORWARDED.finditer(body)]
    checks = []
    for criterion in CRITERIA:
        evidence = _find(criterion, body, forwarded if criterion in ("action", "result") else [])
        checks.append(Check(criterion, bool(evidence), evidence))
    total = sum(weights.get(c, 0) for c in CRITERIA) or 1
    score = round(100 * sum(weights.get(c.criterion, 0) for c in checks if c.met) / total)
    return Quality(tuple(checks), score)
