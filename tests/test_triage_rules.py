import pytest

from jiesu.triage.rules import UNKNOWN, KeywordCategoryClassifier, Referral, RuleSet


@pytest.fixture(scope="module")
def rules():
    return RuleSet()


@pytest.mark.parametrize(
    "text, to",
    [
        ("家里燃气泄漏了，满屋子都是味道", "119"),
        ("对面楼着火了，冒出很多烟", "119"),
        ("我们被困电梯里了，出不来", "119"),
        ("商场门口有人晕倒了，叫不醒", "120"),
        ("楼下有人在打人，已经流血了", "110"),
        ("路口发生车祸，有人受伤", "122"),
    ],
)
def test_emergencies_are_referred(rules, text, to):
    r = rules.referral(text)
    assert isinstance(r, Referral)
    assert r.outcome == "emergency" and r.referred_to == to
    assert r.words and 0.5 <= r.confidence <= 1.0
    assert to in r.reason
    code, conf, limit = rules.classify_urgency(text)
    assert (code, limit) == ("emergency", "2h") and conf > 0.5


@pytest.mark.parametrize(
    "text",
    ["楼道里堆满杂物，容易起火，存在火灾隐患", "去年小区着火过一次，至今没有整改", "希望加强燃气泄漏安全宣传",
     "小区路灯坏了，晚上很黑"],
)
def test_risks_and_memories_are_not_emergencies(rules, text):
    assert rules.referral(text) is None
    assert rules.classify_urgency(text)[0] != "emergency"


def test_legal_process_and_declines(rules):
    r = rules.referral("我已经起诉到法院，法院判决不公，要求改判")
    assert r is not None and r.outcome == "legal_process" and r.referred_to == ""
    s = rules.referral("帮我查询他人的手机号和住址")
    assert s is not None and s.outcome == "secret"
    assert rules.referral("请问公证处周末上班吗") is None


@pytest.mark.parametrize(
    "text, code",
    [
        ("请问办理居住证需要什么材料", "consult"),
        ("我们家生活困难，求助政府帮帮我们", "help"),
        ("投诉楼下饭店油烟扰民，多次反映无人管", "complaint"),
        ("举报某餐馆无证经营，偷排污水", "report"),
        ("建议在小区门口增设公交站", "suggest"),
        ("表扬社区网格员热心帮助老人", "praise"),
        ("今天天气不错", "other"),
    ],
)
def test_request_types(rules, text, code):
    got, conf = rules.classify_type(text)
    assert got == code
    assert 0.0 < conf <= 1.0


@pytest.mark.parametrize(
    "text, code, limit",
    [
        ("家里停水两天了", "urgent", "24h"),
        ("暖气不热，室温只有十二度", "urgent", "24h"),
        ("拆迁补偿款多年未解决，涉及多个部门", "normal", "15d"),
        ("小区垃圾没人清运", "normal", "7d"),
        ("井盖丢失，很危险", "emergency", "2h"),
    ],
)
def test_urgency(rules, text, code, limit):
    got, conf, hint = rules.classify_urgency(text)
    assert (got, hint) == (code, limit)
    assert 0.0 < conf <= 1.0


@pytest.mark.parametrize("bad", ["", "   ", "hello, no Chinese here 123", None, 42, "\x00\x01\x02"])
def test_bad_input_is_explicitly_unknown(rules, bad):
    assert rules.classify_type(bad) == (UNKNOWN, 0.0)
    assert rules.classify_urgency(bad) == (UNKNOWN, 0.0, None)
    assert rules.referral(bad) is None


def test_huge_and_dirty_input_does_not_raise(rules):
    huge = "路灯坏了" * 25_000  # 100,000 characters
    assert rules.classify_type(huge)[0] in ("complaint", "other")
    assert rules.classify_urgency(huge)[0] == "normal"
    assert rules.referral("\x00燃气\u200b泄漏\x7f了") is not None  # controls removed first


def test_custom_rules_from_rows():
    rs = RuleSet.from_rows([
        ("type", "praise", "好样的", 3),
        {"target": "referral", "label": "emergency:119", "keywords": "火 烧", "weight": "2"},
        ("# a comment", "", "", ""),
    ])
    assert rs.classify_type("你们好样的") == ("praise", 0.75)
    assert rs.referral("房子火烧起来了").referred_to == "119"
    with pytest.raises(ValueError, match="unknown target"):
        RuleSet.from_rows([("colour", "red", "红", 1)])
    with pytest.raises(ValueError, match="not valid"):
        RuleSet.from_rows([("type", "shout", "喊", 1)])
    with pytest.raises(ValueError, match="not a number"):
        RuleSet.from_rows([("type", "consult", "请问", "heavy")])
    with pytest.raises(ValueError, match="no keywords"):
        RuleSet.from_rows([("type", "consult", "", 1)])


def test_keyword_category_classifier():
    kc = KeywordCategoryClassifier([
        ("010101", "路灯照明", "路灯 不亮 灯杆 照明"),
        {"code": "020101", "name": "噪音扰民", "keywords": "噪音 施工 吵"},
        {"code": "02", "name": "环境", "keywords": "", "leaf": False},
        ("070101", "拖欠工资", "工资 欠薪 拖欠"),
    ])
    p = kc.predict("小区门口的路灯不亮，灯杆也歪了")
    assert p.label == "010101" and 0 < p.confidence <= 0.8
    assert "路灯" in p.words and "不亮" in p.words
    assert p.alternatives[0][0] == "010101"
    assert kc.predict(["晚上施工噪音太吵"])[0].label == "020101"
    none = kc.predict("今天天气不错")
    assert none.label == "" and none.confidence == 0.0
    assert kc.predict("").label == ""
    assert kc.predict("abc").label == ""
