"""A schematic tile map (grid cartogram) of the city's districts, for the dashboard's
choropleth. There are no district polygons in the demo, and none are invented: every district
is one equal square, placed roughly where it lies (north up), and the map says it is schematic.

The layout is known for Beijing's 16 districts (codes 110101–110119); any other city gets its
districts in code order, in rows of four.
"""

from __future__ import annotations

from dataclasses import dataclass

# code → (column, row), row 0 at the top (north). Approximate relative positions only.
BEIJING = {
    "110119": (1, 0),  # 延庆
    "110116": (4, 0),  # 怀柔
    "110118": (5, 0),  # 密云
    "110114": (2, 1),  # 昌平
    "110113": (5, 1),  # 顺义
    "110117": (6, 1),  # 平谷
    "110109": (0, 2),  # 门头沟
    "110107": (1, 2),  # 石景山
    "110108": (2, 2),  # 海淀
    "110102": (3, 2),  # 西城
    "110101": (4, 2),  # 东城
    "110105": (5, 2),  # 朝阳
    "110111": (1, 3),  # 房山
    "110106": (3, 3),  # 丰台
    "110112": (5, 3),  # 通州
    "110115": (3, 4),  # 大兴
}


@dataclass(frozen=True)
class Tile:
    code: str
    name: str
    col: int
    row: int
    value: int


def layout(districts: list[tuple[str, str, int]]) -> list[Tile]:
    """(code, name, value) per district → tiles. Beijing's layout when every district has a
    place in it, else a plain grid in code order."""
    if districts and all(code in BEIJING for code, _, _ in districts):
        return [Tile(code, name, *BEIJING[code], value) for code, name, value in districts]
    ordered = sorted(districts)
    return [Tile(code, name, i % 4, i // 4, value) for i, (code, name, value) in enumerate(ordered)]
