from jiesu.triage import text
from jiesu.triage.text import MAX_CHARS, has_chinese, normalise, segment


def test_normalise_nfkc_controls_whitespace_and_cap():
    assert normalise("ＡＢＣ１２３，路灯") == "ABC123,路灯"
    assert normalise("路灯\x00坏\u200b了\x7f") == "路灯坏了"
    assert normalise("  路灯\t\n\n 坏了\u3000 ") == "路灯 坏了"
    assert normalise("\ud800路灯") == "路灯"  # a lone surrogate cannot be encoded anywhere
    assert len(normalise("路" * 100_000)) == MAX_CHARS
    assert normalise(None) == ""
    assert normalise(12345) == "12345"


def test_has_chinese():
    assert has_chinese("abc 路灯")
    assert not has_chinese("hello 123 !!")
    assert not has_chinese("")
    assert not has_chinese(None)


def test_domain_words_stay_whole():
    words = segment("小区楼下噪音扰民，路边占道经营，公司拖欠工资，楼道飞线充电")
    for w in ("噪音扰民", "占道经营", "拖欠工资", "飞线充电"):
        assert w in words, words


def test_common_hotline_words_are_not_cut_apart_by_their_neighbours():
    # jieba alone: 小区内 → 小 区内, 单元楼道 → 单元楼 道 (its counts for 小区 and 楼道 are low)
    assert "小区" in segment("盛庭岚小区内停车难")
    assert "楼道" in segment("2单元楼道灯坏了")
    assert segment("老旧小区改造") == ["老旧小区改造"]  # a longer dictionary word still wins


def test_stop_words_and_punctuation_dropped():
    words = segment("我们的路灯坏了！！请问怎么办？")
    assert "的" not in words and "我们" not in words and "！" not in words and "?" not in words
    assert "路灯" in words
    assert "的" in segment("路灯的问题", drop_stopwords=False)


def test_presegmented_text_keeps_its_words():
    assert segment("小区 路灯 不亮 晚上 出行 不便") == ["小区", "路灯", "不亮", "晚上", "出行", "不便"]


def test_bad_input_gives_no_words():
    assert segment("") == []
    assert segment(None) == []
    assert segment("。。。！！！   ") == []
    assert len(segment("路灯坏了" * 30_000)) <= MAX_CHARS


def test_dictionary_and_stopwords_ship():
    assert len(text.dictionary_words()) >= 300
    assert {"路灯", "噪音扰民", "12309", "公证"} <= set(text.dictionary_words())
    assert {"的", "了", "我们"} <= text.stopwords()


def test_add_words():
    text.add_words(["望京小街"])
    assert "望京小街" in segment("望京小街的垃圾没人清运")
