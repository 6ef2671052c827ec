"""The seeded texts of every notification (migration 0002 loads them; the admin edits them).
Kept here, not in the migration, so that ``seed_templates`` can restore a deleted default."""

from __future__ import annotations

# The callback link (jiesu.followup): ``overdue`` when the deadline passed without a reply.
CALLBACK_LINK_ZH = (
    "{% if overdue %}【12345】您的诉求 {{ number }} 已超过办理时限，承办单位尚未答复。请告诉我们办理情况："
    "{{ url }}（{{ days }} 天内有效）{% else %}【12345】您的诉求 {{ number }} 承办单位已答复。请告诉我们是否解决、"
    "是否满意：{{ url }}（{{ days }} 天内有效）{% endif %}")
CALLBACK_LINK_EN = (
    "{% if overdue %}12345 hotline: your request {{ number }} has passed its deadline without a reply from the "
    "unit. Please tell us how things stand: {{ url }} (valid for {{ days }} days){% else %}12345 hotline: the unit "
    "has replied to your request {{ number }}. Please tell us whether it is solved and whether you are satisfied: "
    "{{ url }} (valid for {{ days }} days){% endif %}")
# What migration 0002 seeded before the link had an overdue form: 0003 replaces it if unedited.
OLD_CALLBACK_LINK = {
    "zh-hans": "【12345】请对诉求 {{ number }} 的办理结果进行评价：{{ url }}",
    "en": "12345 hotline: please tell us how request {{ number }} went: {{ url }}",
}

# (kind, channel, language, subject, body)
DEFAULT_TEMPLATES: list[tuple[str, str, str, str, str]] = [
    ("received", "sms", "zh-hans", "",
     "【12345】您的诉求已受理，工单编号 {{ number }}。可凭编号和电话在门户查询办理进度。"),
    ("received", "sms", "en", "",
     "12345 hotline: your request is received, number {{ number }}. Track it on the portal with the number and your phone."),
    ("replied", "sms", "zh-hans", "",
     "【12345】您的诉求 {{ number }} 承办单位已答复，稍后我们将回访您的办理结果。"),
    ("replied", "sms", "en", "",
     "12345 hotline: the unit has replied to your request {{ number }}. We will call back to ask how it went."),
    # A requester who left only an e-mail (Open311) gets the requester's messages by e-mail.
    ("received", "email", "zh-hans", "您的诉求已受理：{{ number }}",
     "您的诉求已受理，工单编号 {{ number }}。承办单位答复后，我们将请您评价办理结果。"),
    ("received", "email", "en", "Your request is received: {{ number }}",
     "Your request is received, number {{ number }}. Once the unit has replied we will ask you how it went."),
    ("replied", "email", "zh-hans", "您的诉求 {{ number }} 已答复",
     "您的诉求 {{ number }} 承办单位已答复，稍后我们将请您评价办理结果。"),
    ("replied", "email", "en", "Your request {{ number }} has a reply",
     "The unit has replied to your request {{ number }}. We will ask you shortly how it went."),
    ("callback_link", "sms", "zh-hans", "", CALLBACK_LINK_ZH),
    ("callback_link", "sms", "en", "", CALLBACK_LINK_EN),
    ("callback_link", "email", "zh-hans", "您的诉求 {{ number }} 办理得怎么样？", CALLBACK_LINK_ZH),
    ("callback_link", "email", "en", "Your request {{ number }}: how did it go?", CALLBACK_LINK_EN),
    ("assigned", "email", "zh-hans", "新派单：{{ number }}（{{ role }}）",
     "{{ unit }}：\n\n工单 {{ number }}（{{ category }}）已派给贵单位{{ role }}，办理时限 {{ due }}。\n"
     "诉求：{{ title }}\n地址：{{ address }}\n\n请登录工作台签收办理。"),
    ("assigned", "email", "en", "New assignment: {{ number }} ({{ role }})",
     "{{ unit }}:\n\nOrder {{ number }} ({{ category }}) was assigned to your unit ({{ role }}), due {{ due }}.\n"
     "Request: {{ title }}\nAddress: {{ address }}\n\nPlease accept it on the desk."),
    ("deadline_soon", "email", "zh-hans", "即将超期：{{ number }}",
     "{{ unit }}：\n\n工单 {{ number }} 的办理时限为 {{ due }}，即将到期，请尽快办理并答复。"),
    ("deadline_soon", "email", "en", "Deadline approaching: {{ number }}",
     "{{ unit }}:\n\nOrder {{ number }} is due {{ due }}. Please handle it and reply in time."),
    ("reopened", "email", "zh-hans", "重办：{{ number }}",
     "{{ unit }}：\n\n工单 {{ number }} 经回访未解决或不满意，已退回重办，办理时限 {{ due }}。"),
    ("reopened", "email", "en", "Reopened: {{ number }}",
     "{{ unit }}:\n\nOrder {{ number }} was reopened after the callback (not solved or not satisfied), due {{ due }}."),
]


def seed_templates(model) -> int:
    """Create the missing defaults (never overwrites an admin's edit); returns how many."""
    created = 0
    for kind, channel, language, subject, body in DEFAULT_TEMPLATES:
        _obj, new = model.objects.get_or_create(kind=kind, channel=channel, language=language,
                                                defaults={"subject": subject, "body": body})
        created += new
    return created
