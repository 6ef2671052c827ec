"""Regenerate ``data/beijing_areas.csv`` from jionlp's division data. A dev-time tool.

jionlp (Apache-2.0, on PyPI) ships China's divisions down to communities and villages in
``dictionary/china_location.zip``; it is *not* a runtime dependency of Jiesu. To rebuild::

    python3 -m venv /tmp/jio && /tmp/jio/bin/pip install jionlp
    /tmp/jio/bin/python jiesu/demo/gazetteer_build.py > jiesu/demo/data/beijing_areas.csv

What comes from where:

- Names and the tree (city → 16 districts → 339 township-level units → communities/villages)
  are jionlp's, unchanged. Communities are kept for ``FULL_DISTRICTS`` only, to keep the file
  small; the other districts stop at the township level.
- City and district codes are jionlp's official 6-digit codes. jionlp gives no codes below the
  district, so township codes are derived: the district code + a 3-digit ordinal in jionlp's
  order (9 digits), and communities: the township code + a 3-digit ordinal (12 digits). They
  have the shape of the NBS codes but are *not* NBS codes: stable for a given jionlp version.
- ``alias``: a 地区 (area office) is one body with two names, the street-type office and the
  township (乡/镇) government, e.g. 旧宫地区 / 旧宫镇 (DESIGN §5). The township name is the
  base + 镇, except where the sources below say otherwise: Beijing's open-data list of
  street/township cultural centres (北京市文化和旅游局) names each by its township government
  (旧宫镇, 马坡镇, 平谷镇, 海淀镇 …), and an older division list gives 朝阳区's and 丰台区's
  地区 as 乡 (三间房地区（三间房乡）…). 宛平城地区 and 方庄地区 are street-type offices with
  no township government, so they have no alias.
- jionlp gives no coordinates, so the file has none (rather than invented ones).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import sys
import zipfile
from pathlib import Path

CITY = "北京市"
FULL_DISTRICTS = ("东城区", "西城区", "朝阳区", "海淀区", "大兴区")

# Township names of 地区 that are not simply base + 镇 (see the module docstring).
ALIAS_EXCEPTIONS = {
    ("朝阳区", "常营地区"): "常营回族乡",
    ("密云区", "檀营地区"): "檀营满族蒙古族乡",
    ("平谷区", "渔阳地区"): "平谷镇",
    ("海淀区", "万柳地区"): "海淀镇",
    ("顺义区", "杨镇地区"): "杨镇",
    ("丰台区", "宛平城地区"): "",
    ("丰台区", "方庄地区"): "",
}
XIANG_DISTRICTS = ("朝阳区", "丰台区")  # their 地区 are 乡, not 镇


def township_alias(district: str, name: str) -> str:
    if not name.endswith("地区"):
        return ""
    if (district, name) in ALIAS_EXCEPTIONS:
        return ALIAS_EXCEPTIONS[(district, name)]
    return name.removesuffix("地区") + ("乡" if district in XIANG_DISTRICTS else "镇")


def read_jionlp_lines() -> list[str]:
    # Locate the package without importing it: importing prints a banner and loads models.
    spec = importlib.util.find_spec("jionlp")
    if spec is None or spec.origin is None:
        sys.exit("jionlp is not installed; see the module docstring")
    path = Path(spec.origin).parent / "dictionary" / "china_location.zip"
    with zipfile.ZipFile(path) as zf:
        return zf.read("china_location.txt").decode("utf-8").splitlines()


def beijing_rows(lines: list[str]) -> list[tuple[str, str, int, str, str]]:
    """(code, name, level, parent_code, alias) for Beijing, in jionlp's order."""
    rows: list[tuple[str, str, int, str, str]] = []
    in_city = False
    district = district_code = town_code = ""
    towns = villages = 0
    seen: set[str] = set()
    for line in lines:
        depth = len(line) - len(line.lstrip("\t"))
        fields = line.strip().split("\t")
        if depth == 0:
            in_city = fields[0] == CITY
            if in_city:
                rows.append((fields[1], fields[0], 1, "", ""))
            continue
        if not in_city or depth == 1:
            continue  # depth 1 repeats the city for municipalities
        if depth == 2:
            district, district_code = fields[0], fields[1]
            rows.append((district_code, district, 2, rows[0][0], ""))
            towns = 0
        elif depth == 3:
            towns += 1
            town_code = f"{district_code}{towns:03d}"
            rows.append((town_code, fields[0], 3, district_code, township_alias(district, fields[0])))
            villages, seen = 0, set()
        elif depth == 4 and district in FULL_DISTRICTS and fields[0] not in seen:
            # jionlp lists a few names twice under one township; one area is enough.
            seen.add(fields[0])
            villages += 1
            rows.append((f"{town_code}{villages:03d}", fields[0], 4, town_code, ""))
    return rows


def write_csv(rows, out) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "level", "parent_code", "alias"])
    writer.writerows(rows)


def main() -> None:
    rows = beijing_rows(read_jionlp_lines())
    buffer = io.StringIO()
    write_csv(rows, buffer)
    sys.stdout.write(buffer.getvalue())


if __name__ == "__main__":
    main()
