"""Collection message templates (zh, en) and the check every message passes: no threats, no insults."""

from __future__ import annotations

import re
from typing import Any

from assistant.errors import InvalidInput, RuleViolation

HOTLINE = "400-800-0000"


# --- message templates (zh, en) — every one passes threat_findings(); tests prove it -----------------
TEMPLATES: dict[str, tuple[str, str]] = {
    "pre_due": (
        "【车贷服务】您好，您的车贷本期应还{amount}元，还款日为{due_on}。请在还款日前确保还款卡余额充足。"
        "如有困难，可在App“还款帮扶”申请或致电" + HOTLINE + "。",
        "Hello, your car-loan instalment of {amount} yuan is due on {due_on}. Please make sure the repayment card "
        "has enough balance. If you are having difficulty, apply for help in the app or call " + HOTLINE + ".",
    ),
    "reminder": (
        "【车贷服务】您好，您的车贷有{amount}元尚未还清（已过还款日{dpd}天）。还款日后3天内还清不计罚息、不报送征信；"
        "超过宽限期将按合同计收罚息并如实报送征信。如暂时有困难，请联系我们商量还款安排：" + HOTLINE + "。",
        "Hello, {amount} yuan of your car loan is unpaid ({dpd} days after the due date). Paid within 3 days of the "
        "due date there is no penalty and nothing is reported; after that, penalty interest applies under the "
        "contract and the arrears are reported to the credit bureau. If you are in difficulty, call us to agree "
        "a plan: " + HOTLINE + ".",
    ),
    "call_opening": (
        "您好，我是车贷服务中心的工作人员，工号{agent_id}，本次通话将被录音。请问是{name}本人吗？"
        "想和您确认一下车贷还款的情况，看看我们能怎么帮您。",
        "Hello, this is the car-loan service centre, staff number {agent_id}; this call is recorded. Am I speaking "
        "with {name}? I'd like to go over your car-loan repayments with you and see how we can help.",
    ),
    "restructuring_offer": (
        "【车贷服务】我们理解您目前的困难。您可以申请调整还款安排：{options}。提交完整申请后，审核期间暂停催收。"
        "详情请在App“还款帮扶”查看或致电" + HOTLINE + "，帮扶不收任何费用。",
        "We understand things are difficult right now. You can apply to change your repayment plan: {options}. "
        "Collection pauses while a complete application is reviewed. See 'repayment help' in the app or call "
        + HOTLINE + "; there is no fee.",
    ),
    "collector_intro": (
        "【车贷服务】您好，您的车贷已逾期{dpd}天，逾期金额{amount}元。专员（工号{agent_id}）将与您本人联系，"
        "协商可行的还款安排；通话全程录音，您可拨打" + HOTLINE + "核实专员身份。",
        "Hello, your car loan is {dpd} days overdue ({amount} yuan). A specialist (staff number {agent_id}) will "
        "contact you to agree a workable repayment plan; calls are recorded and you can verify the specialist "
        "at " + HOTLINE + ".",
    ),
    "legal_notice": (
        "【车贷服务】书面通知：您的车贷已逾期{dpd}天，逾期金额{amount}元。根据借款合同约定，连续逾期超过3期的，"
        "本公司有权宣布贷款提前到期，并依法主张权利（包括依法处置抵押车辆）。采取上述措施前，您仍可联系我们协商还款："
        + HOTLINE + "。如对本通知内容有异议，可通过同一电话或App提出。",
        "Written notice: your car loan is {dpd} days overdue ({amount} yuan). Under the loan contract, after more "
        "than 3 consecutive missed instalments the company may declare the loan due in full and pursue its rights "
        "as the law allows (including the sale of the mortgaged car). Before any such step you can still contact "
        "us to agree a repayment plan: " + HOTLINE + ". If you dispute this notice, tell us on the same number or "
        "in the app.",
    ),
    "locate_request": (
        # said to someone other than the borrower: nothing here may reveal that a loan or a debt exists
        "您好，这里是客户服务中心，我们需要与{name}取得联系，麻烦您方便时转告其回电" + HOTLINE + "，谢谢。",
        "Hello, this is the customer service centre. We would like to reach {name}; could you please ask them "
        "to call us back at " + HOTLINE + "? Thank you.",
    ),
}
_THREATS: tuple[tuple[str, str], ...] = (
    (r"后果自负|等着瞧|走着瞧|别怪我们|让你好看|不客气|最后通牒|你会后悔", "恐吓 / intimidation"),
    (r"上门|到你家|去你(家|单位|公司)|找到你(家|单位)", "上门威胁 / home or workplace visit threat"),
    (r"(通知|告诉|联系|打给|打电话给)你?的?(家人|父母|亲友|亲戚|朋友|同事|单位|领导|老板|公司|通讯录)",
     "第三方施压 / pressure through third parties"),
    (r"曝光|公开你|挂到网上|发到网上|通讯录|朋友圈", "曝光隐私 / exposure"),
    (r"公安|警察|报警抓|拘留|坐牢|刑事|抓你|抓人|逮捕|传票|法院已(立案|判决)|律师函已", "冒充公检法 / police or court "
     "impersonation"),
    (r"拖走|拖(你的)?车|暴力|弄死|打断|砸|全家", "暴力威胁 / violence"),
    (r"老赖|骗子|无赖|不要脸|垃圾", "侮辱 / insult"),
    (r"黑名单", "虚假后果 / false consequence"),
    (r"(?i)\bor else\b|come to your (home|house|work)|tell your (family|friends|employer|boss|colleagues)|"
     r"\bpolice\b|\bjail\b|\barrest|expose you|deadbeat|you'?ll regret|blacklist", "threat (English)"),
)
_DEBT_WORDS = re.compile(r"欠|逾期|还款|贷款|车贷|催收|债|罚息|征信|(?i:owe|debt|overdue|loan|arrears|repay)")


def threat_findings(text: str) -> list[str]:
    """The kinds of threatening or abusive language in ``text`` (empty list = clean)."""
    return [label for pattern, label in _THREATS if re.search(pattern, text)]


def mentions_debt(text: str) -> bool:
    """True if ``text`` says anything about a debt (forbidden in messages to third parties)."""
    return bool(_DEBT_WORDS.search(text))


def render(template: str, lang: str = "zh", **values: Any) -> str:
    """A message from a template; the result is checked for threats before it may be sent."""
    try:
        zh, en = TEMPLATES[template]
    except KeyError:
        raise InvalidInput(f"没有模板 {template}", f"no template {template}", field="template") from None
    defaults = {"agent_id": "（工号）" if lang == "zh" else "(staff no.)", "name": "您" if lang == "zh" else "you"}
    text = (zh if lang == "zh" else en).format(**{**defaults, **values})
    findings = threat_findings(text)
    if findings:
        raise RuleViolation("消息包含不当用语：" + "、".join(findings), "message contains forbidden language: "
                            + ", ".join(findings), field="template")
    return text
