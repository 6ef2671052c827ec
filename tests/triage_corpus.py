"""A small synthetic Chinese corpus for the triage tests: four kinds of requests, built from
phrases with a seeded generator (no real data in tests)."""

from __future__ import annotations

import random

PHRASES = {
    "路灯": ["小区门口的路灯不亮", "路灯坏了好几天", "晚上路灯全黑", "路灯杆倾斜", "这一段路灯一直不亮",
             "路灯照明不足", "路灯白天也亮着浪费电"],
    "噪音": ["楼下烧烤店噪音扰民", "夜间施工噪音太大", "广场舞音响太吵", "邻居装修噪音影响休息",
             "工地晚上施工吵得睡不着", "酒吧音乐声音太大"],
    "工资": ["公司拖欠工资三个月", "老板不发工资", "农民工工资被拖欠", "辞退后不给经济补偿",
             "加班费一直没有发", "工地包工头拖欠工资"],
    "教育": ["孩子上学划片不合理", "学校乱收费", "幼儿园学位紧张", "学校食堂卫生差",
             "培训机构不退学费", "孩子入学手续办不下来"],
}
FILLERS = ["请尽快处理", "希望有关部门管一管", "已经反映过多次", "住在朝阳区", "谢谢", "影响很大",
           "麻烦派人来看看", "情况属实"]


def corpus(n_per_class: int = 30, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for label, phrases in PHRASES.items():
        for _ in range(n_per_class):
            parts = rng.sample(phrases, 2) + rng.sample(FILLERS, 2)
            rng.shuffle(parts)
            texts.append("，".join(parts) + "。")
            labels.append(label)
    return texts, labels
