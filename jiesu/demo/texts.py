"""Order texts for the demo: places, callers and what they say. Pure Python, seeded.

Every choice goes through the ``random.Random`` handed in, in a fixed order, so that a seed
gives the same texts on every machine (no set iteration, no hash order).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from jiesu.demo import phrases as P

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
    "贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华文斌玉兰志强海燕红梅淑珍国庆春生凤英"
TOWN_SUFFIX = re.compile(r"(街道|地区|镇|乡|社区居委会|社区|村委会|居委会)$")
ESTATE_SUFFIXES = ("家园", "小区", "花园", "西里", "北里", "南里", "东里", "新村", "嘉园")
ROAD_SUFFIXES = ("路", "东路", "西路", "南路", "北路", "大街", "南街", "北街", "中路")
HUTONG_DISTRICTS = ("东城区", "西城区")
SHOPS = ("小超市", "饭馆", "理发店", "水果店", "五金店")


@dataclass(frozen=True)
class Street:
    code: str
    name: str
    alias: str
    district_code: str
    district: str
    communities: tuple[tuple[str, str], ...]  # (code, name); empty outside the full districts

    @property
    def base(self) -> str:
        return TOWN_SUFFIX.sub("", self.name) or self.name


@dataclass(frozen=True)
class Place:
    area_code: str  # the community if known, else the street
    community: str  # what a resident calls home: a 小区 or a village
    text: str  # where, as said in the text
    address: str  # the address field


@dataclass(frozen=True)
class Caller:
    phone: str
    name: str
    elderly: bool
    business: bool


def _estate(community: str) -> str:
    """社区 names are mostly their 小区: 花家地西里社区 → 花家地西里."""
    return community.removesuffix("社区居委会").removesuffix("社区") or community


def place_for(rng: random.Random, street: Street) -> Place:
    district_prefix = f"{street.district}{street.name}"
    if street.communities and rng.random() < 0.85:
        code, community = rng.choice(street.communities)
        area_code = code
    else:
        community = street.base + rng.choice(ESTATE_SUFFIXES)
        area_code = street.code
    home = _estate(community)
    is_village = home.endswith("村") and not home.endswith("新村")
    road_base = TOWN_SUFFIX.sub("", re.sub(r"[一二三四五六七八九十\d]+[区里村期]$", "", home)) or street.base
    road = road_base + (
        rng.choice(("胡同", "条", "街"))
        if street.district in HUTONG_DISTRICTS and rng.random() < 0.4
        else rng.choice(ROAD_SUFFIXES)
    )
    road2 = street.base + rng.choice(ROAD_SUFFIXES)
    n, house = rng.randint(1, 40), rng.randint(1, 300)
    form = rng.random()
    if is_village:
        text = rng.choice((f"{home}村口", f"{home}{house}号附近", f"{home}村委会旁边", f"{home}东头"))
        address = f"{district_prefix}{home}{house}号"
    elif form < 0.45:
        text = f"{home}{n}号楼" + rng.choice(("", "楼下", "门口", "旁边", "东侧"))
        address = f"{district_prefix}{home}{n}号楼"
    elif form < 0.75:
        text = f"{road}{house // 3 + 1}号" + rng.choice(("", "附近", "门口"))
        address = f"{district_prefix}{road}{house // 3 + 1}号"
    elif form < 0.9 and road2 != road:
        text = f"{road}与{road2}交叉口"
        address = f"{district_prefix}{road}与{road2}交叉口"
    else:
        text = f"{home}小区" + rng.choice(("门口", "南门", "北门", "里面"))
        address = f"{district_prefix}{home}"
    return Place(area_code=area_code, community=home, text=text, address=address)


def make_caller(rng: random.Random, *, landline: bool = False) -> Caller:
    surname = rng.choice(SURNAMES)
    elderly = rng.random() < 0.2
    business = rng.random() < 0.08
    if landline:
        phone = f"010-{rng.choice('5678')}{rng.randint(1000000, 9999999)}"
    else:
        phone = f"1{rng.choice('3456789')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
    style = rng.random()
    if elderly:
        name = surname + rng.choice(("大爷", "阿姨", "奶奶", "大妈", "老先生"))
    elif business:
        name = surname + rng.choice(("经理", "老板", "女士", "先生"))
    elif style < 0.45:
        name = surname + rng.choice(("女士", "先生"))
    elif style < 0.9:
        name = surname + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    else:
        name = ""  # not everyone gives a name
    return Caller(phone=phone, name=name, elderly=elderly, business=business)


def _fill(rng: random.Random, template: str, *, place: Place, street: Street) -> str:
    return template.format(
        place=place.text,
        community=place.community,
        street=street.name,
        duration=rng.choice(P.DURATIONS),
        time=rng.choice(P.TIMES),
    )


def _opening(rng: random.Random, caller: Caller, *, repeat: bool, leaf: str, by_phone: bool) -> str:
    if repeat and rng.random() < 0.6:
        return rng.choice(P.OPENINGS_REPEAT)
    if caller.elderly and by_phone and rng.random() < 0.7:
        return rng.choice(P.OPENINGS_ELDERLY)
    if caller.business and leaf.startswith(P.BUSINESS_LEAVES) and rng.random() < 0.7:
        return rng.choice(P.OPENINGS_BUSINESS)
    return rng.choice(P.OPENINGS)


def problem_text(
    rng: random.Random,
    *,
    leaf: str,
    request_type: str,
    caller: Caller,
    place: Place,
    street: Street,
    repeat: bool = False,
    by_phone: bool = True,
) -> str:
    """A complaint, help request or report in the caller's words."""
    template = rng.choice(P.PROBLEMS[leaf])
    body = _fill(rng, template, place=place, street=street)
    parts = [_opening(rng, caller, repeat=repeat, leaf=leaf, by_phone=by_phone)]
    if request_type == "report" and rng.random() < 0.6:
        parts.append("我要举报，")
    parts.append(body)
    # Only details that fit the problem, and no second "how long" when it already says so.
    fitting = [
        d
        for d, prefixes in P.DETAILS
        if leaf.startswith(prefixes)
        and not any(slot in d and slot in template for slot in ("{duration}", "{time}"))
    ]
    for _ in range(rng.choice((0, 0, 1, 1, 2)) if fitting else 0):
        detail = _fill(rng, rng.choice(fitting), place=place, street=street)
        if detail not in parts:
            parts.append(detail)
    if caller.elderly and by_phone and rng.random() < 0.5:
        parts.append("我年纪大了，也不会用手机上网，只能打电话。")
    parts.append(rng.choice(P.DEMANDS.get(request_type, P.DEMANDS["complaint"])))
    parts.append(rng.choice(P.CLOSINGS))
    return _fill(rng, "".join(parts), place=place, street=street)


def question_text(rng: random.Random, question: str, caller: Caller, *, by_phone: bool = True) -> str:
    lead = rng.choice(("您好，", "你好，想咨询一下，", "", "麻烦问一下，"))
    if caller.elderly and by_phone:
        lead = rng.choice(("姑娘，我想问问，", "我是老年人，不太懂，想问一下，"))
    return lead + question


def suggestion_text(
    rng: random.Random, template: str, *, place: Place, street: Street, caller: Caller
) -> str:
    lead = rng.choice(("", "您好，我提个建议，", "作为附近居民，"))
    return (
        lead + _fill(rng, template, place=place, street=street) + rng.choice(("谢谢！", "", "希望能采纳。"))
    )


def praise_text(rng: random.Random, *, unit: str) -> str:
    return rng.choice(P.PRAISES).format(unit=unit)


def title_for(*, request_type: str, leaf_name: str, street: Street) -> str:
    word = {"consult": "咨询", "suggest": "建议", "praise": "表扬", "report": "举报", "help": "求助"}.get(
        request_type, "反映"
    )
    return (
        f"{word}{street.name}{leaf_name}问题"
        if request_type in ("complaint", "report", "help", "other")
        else f"{word}{leaf_name}" + ("" if request_type == "consult" else f"（{street.name}）")
    )


def reply_text(
    rng: random.Random, *, leaf: str, top: str, leaf_name: str, place: Place, request_type: str = "complaint"
) -> tuple[str, str]:
    """(outcome, body) of a unit's reply."""
    options = (
        P.REPLIES_BY_TYPE.get(request_type)
        or P.REPLIES_SPECIFIC.get(leaf)
        or P.REPLIES_SPECIFIC.get(leaf[:4])
        or P.REPLIES[top]
    )
    outcome, template = rng.choice(options)
    return outcome, template.format(leaf=leaf_name, place=place.text)


def dedupe_text(rng: random.Random, *, leaf: str, caller: Caller, place: Place, street: Street) -> str:
    """A second caller about the same problem at the same place (a duplicate to merge)."""
    lead = rng.choice(("我们楼好多人都在反映，", "邻居说已经有人打过电话了，我再反映一下，", "同样的问题，"))
    return lead + problem_text(
        rng, leaf=leaf, request_type="complaint", caller=caller, place=place, street=street
    )
