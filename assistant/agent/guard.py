"""Compliance checks on text shown to customers (model output, agent drafts).

A model's text never reaches a customer when it:

- asks for money outside the lender's process (fees or deposits to a personal account, 先交保证金才能放款);
- offers a personal contact (WeChat / QQ / phone / Telegram) to "speed up approval";
- carries a link whose host is not on the allow-list;
- asks for secrets: SMS verification codes, passwords, card PINs / CVV, online-banking logins, screen sharing;
- promises approval, in any paraphrase (只是预审，不承诺审批);
- states a payment, price, fee or rate that is not one of this turn's figures (what the tools computed and
  the customer said), or a price without its APR (年化利率);
- holds personal data in clear (an ID number, a mobile number, a bank card);
- reveals the system prompt or hidden instructions.

A warning is not an offence: "请勿向个人账户转账", "我们不会索要验证码", "任何声称包过的都是骗局" pass. Each
rule reads one clause (split at commas and sentence ends), so a warning in one clause does not excuse a
scam in the next. The rules are regular expressions over NFKC-normalised text: fast (well under a
millisecond per reply) and explainable finding by finding; ``benchmarks/guard_suite.py`` measures their
precision and recall on an adversarial suite written blind (``tests/agent/guard_cases.yaml``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from pydantic import BaseModel

from assistant.nlu.numbers import Quantity, find_quantities, fold_case, normalize
from assistant.privacy import contains_pii

# Hosts a reply may link to (a host matches itself and its subdomains); a deployment adds its own site.
DEFAULT_ALLOWED_HOSTS: tuple[str, ...] = ("pbccrc.org.cn", "gov.cn")


class GuardFinding(BaseModel):
    """One compliance problem in a text."""

    code: str
    zh: str
    en: str


_MESSAGES: dict[str, tuple[str, str]] = {
    "fraud_payment": ("要求向个人账户付款或预先缴费", "asks for money outside the lender's process"),
    "fraud_contact": ("引导添加私人联系方式", "points to a personal contact"),
    "url": ("含有不在白名单内的链接", "contains a link outside the allow-list"),
    "secret_request": ("索要验证码、密码等敏感信息", "asks for a verification code, password or PIN"),
    "approval_promise": ("含有承诺审批/放款的表述", "promises approval"),
    "invented_number": ("含有本轮工具未计算的金额或利率", "states a figure the tools did not compute"),
    "price_without_apr": ("报价未同时展示年化利率(APR)", "a price is shown without its APR"),
    "personal_data": ("含有明文个人信息（身份证/手机号/银行卡）", "contains personal data in clear"),
    "prompt_leak": ("疑似泄露系统提示词", "possible system-prompt leak"),
}


def _finding(code: str) -> GuardFinding:
    zh, en = _MESSAGES[code]
    return GuardFinding(code=code, zh=zh, en=en)


# --------------------------------------------------------------------------------------------- clauses
_SENTENCE_END = re.compile(r"[。！？!?；;\n]+|(?<=[a-z0-9)])\.(?=\s|$)")
_CLAUSE_END = re.compile(r"[，,]+")

# Words that turn what follows in the clause into a warning, a refusal or a report of someone else's claim.
_WARNING_BEFORE = re.compile(
    r"(请勿|切勿|勿|不要|别|不会|绝不|从不|从来不|决不|不得|不能|不可|不允许|不需要|无需|不用|不存在|没有|无法|不可能|"
    r"谨防|警惕|小心|当心|防范|提防|谨慎|严禁|禁止|拒绝|举报|谎称|声称|号称|所谓|自称|宣称|冒充|假冒|凡是|任何|"
    r"never|don'?t|do not|doesn'?t|does not|won'?t|will not|wouldn'?t|cannot|can'?t|not|no one|nobody|no\b|"
    r"beware|avoid|refuse|report|scam|fraud|claims?|pretend|anyone who|whoever)", re.IGNORECASE)
_SCAM_AFTER = re.compile(r"(诈骗|骗局|骗子|欺诈|不法分子|假的|违规|违法|非法|报警|scams?\b|fraud|fake|illegal)",
                         re.IGNORECASE)


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s and s.strip()]


def _clauses(sentence: str) -> list[str]:
    return [c for c in _CLAUSE_END.split(sentence) if c and c.strip()]


_REFUSAL_AFTER = re.compile(r"(不能|无法|不可以|不便|不会|不予|拒绝)(回答|透露|提供|告诉|分享|公开|说|展示)|"
                            r"(can'?t|cannot|won'?t|will not|unable to) (share|reveal|disclose|show|tell)",
                            re.IGNORECASE)


def _warned(sentence: str, clause: str, start: int) -> bool:
    """True when the match at ``start`` of ``clause`` is warned against, refused or reported."""
    return (bool(_WARNING_BEFORE.search(clause[:start])) or bool(_SCAM_AFTER.search(sentence))
            or bool(_REFUSAL_AFTER.search(clause[start:])))


def _offending(pattern: re.Pattern[str], text: str) -> bool:
    """A match of ``pattern`` in some clause that is not a warning."""
    for sentence in _sentences(text):
        for clause in _clauses(sentence):
            for m in pattern.finditer(clause):
                if not _warned(sentence, clause, m.start()):
                    return True
    return False


# --------------------------------------------------------------------------------------------- money asks
_PERSONAL = r"(个人|私人|私户|对私|我的|我个人|本人的|经理|专员|业务员|客户经理|工作人员|老师|同事|朋友|他的|她的)"
_ACCOUNT = r"(账户|帐户|账号|帐号|银行卡|卡号|卡上|卡里|微信|支付宝|收款码|二维码|零钱)"
_MOVE = (r"(转账|转款|转入|转到|转给|转|打款|打到|打给|汇款|汇到|汇入|付款|付到|付给|支付(?!宝)|交到|交给|缴|存入|充值|"
         r"扫码付)")
_FEE = (r"(保证金|解冻费|解冻金|验资|刷流水|流水费|工本费|激活费|会员费|包装费|疏通费|加急费|通道费|渠道费|内部费|"
        r"押金|订金|定金|服务费|手续费|好处费|茶水费|意向金|风险金|审核费|审批费|放款费|提额费|征信修复费|洗白)")
_PAYMENT_ASK = re.compile(
    rf"{_MOVE}.{{0,16}}{_PERSONAL}.{{0,4}}{_ACCOUNT}"
    rf"|{_PERSONAL}.{{0,4}}{_ACCOUNT}.{{0,12}}{_MOVE}"
    rf"|(先|提前|预先|需要?先|须先|要先).{{0,8}}(交|缴|付|转|打|支付|充).{{0,16}}(才能|才可|才会|方可|然后|再|就能|即可|否则)"
    rf"|(先|提前|预先).{{0,6}}(交|缴|付|转|打|支付|充).{{0,8}}{_FEE}"
    rf"|{_FEE}.{{0,16}}(才能|才可|才会|方可|否则|之后|后)(就)?.{{0,6}}(放款|下款|到账|审批|通过|解冻|批)"
    rf"|(交|缴|付|转|打|支付)(一下|一笔|下)?.{{0,10}}(解冻费|解冻金|验资|刷流水|激活费|疏通费|通道费|好处费|茶水费|提额费|征信修复费)"
    rf"|{_MOVE}.{{0,8}}(这个|这张|以下|下面|如下|该|此|指定的?)(的)?(支付宝|微信|银行卡|账户|帐户|账号|帐号|卡号|卡)"
    rf"|(征信修复|修复征信|洗白|包装).{{0,12}}(费|钱|元).{{0,16}}{_MOVE}"
    r"|\b(pay|send|transfer|wire)\b.{0,40}\b(unfreez\w*|unlock\w*|activation|release|clearance|verification)\s+"
    r"(fee|charge|deposit)"
    r"|\b(pay|send|transfer|wire)\b.{0,50}\b(fee|deposit|charge|money|payment)\b.{0,40}\b(to|via|by)\s+(our|my|the|a|your)"
    r"\s+.{0,20}\b(manager|agent|officer|colleague|advisor|specialist|personal)"
    r"|(transfer|send|wire|pay|deposit|remit)\b.{0,40}\b(my|a personal|personal|private|his|her|the agent's|"
    r"the manager's)\s+(bank\s+)?(account|card|alipay|wechat|wallet)"
    r"|\b(pay|send|transfer|wire)\b.{0,40}\b(fee|deposit|charge|insurance)\b.{0,30}\b(first|before|upfront|in advance|"
    r"to (unlock|release|unfreeze|speed|activate|get))"
    r"|\b(upfront|advance|unfreezing|unlock|activation|release|processing)\s+(fee|deposit|charge)\b.{0,40}"
    r"\b(before|first|to (release|unlock|get|receive)|then)",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------------------------- contacts
# Latin names only as whole words: "line" inside "online applications" is not the LINE app.
_CONTACT_APP = (r"(微信|薇信|威信|v信|扣扣|企鹅|电话|手机|私人号|钉钉|飞机|"
                r"(?<![a-z])(?:vx|wx|weixin|wechat|qq|telegram|tg|whatsapp|line|signal|skype)(?!(?!id)[a-z]))")
_CONTACT_ASK = re.compile(
    rf"(加|添加|加一下|加个|联系|私聊|私信|找|扫码|扫一扫|(?<![a-z])(?:call|text|add|contact|message|dm|ping|reach)(?![a-z]))"
    rf"(我|他|她|一下|下|我们的?)?.{{0,14}}{_CONTACT_APP}"
    # a handle: after a separator or 号/id, with a digit or _ in it, or right after a Chinese app name
    # ("signal strength" is not a handle, "line: fastloan_88" and "微信 fastloan" are)
    rf"|{_CONTACT_APP}(\s*[-–—,，(（]?\s*(号|号码|id)\s*[:：]?|\s*[:：])\s*[a-z][-_a-z0-9]{{5,19}}(?![a-z0-9])"
    rf"|{_CONTACT_APP}\s*(?=[a-z]*[-_0-9])[a-z][-_a-z0-9]{{5,19}}(?![a-z0-9])"
    rf"|(微信|薇信|威信|v信|扣扣|企鹅|钉钉|飞机)\s*[a-z][-_a-z0-9]{{5,19}}(?![a-z0-9])"
    rf"|{_CONTACT_APP}(号|号码)?\s*[:：]?\s*\d{{5,12}}"
    rf"|{_CONTACT_APP}.{{0,12}}(快速|加急|内部|优先|特殊|绿色)?(通道|帮您|帮你|办理|操作|搞定|走件)"
    rf"|{_CONTACT_APP}.{{0,6}}(搜索?|搜一下|查找|号是)\s*[:：]?\s*[a-z][-_a-z0-9]{{4,19}}"
    rf"|{_CONTACT_APP}.{{0,12}}@[a-z0-9_]{{4,}}|加.{{0,16}}好友"
    # Latin verbs as whole words: "Transferring you to a human agent" rings no one
    r"|(联系|找|拨打|打给|打|加|私聊|(?<![a-z])(?:call|contact|message|text|whatsapp|ring|dm)(?![a-z]))"
    r"(我们的?|一下|下|our|my)?.{0,16}"
    r"(经理|主管|老师|专员|顾问|同事|师傅|总监|李总|王总|张总|manager|officer|specialist|colleague|agent|advisor|"
    r"supervisor|director)",
    re.IGNORECASE,
)
# Official channels are the lender's own: a hotline (400/800/95xxx), the app, the official account.
_OFFICIAL = re.compile(r"(官方|公众号|热线|客服电话|400-|400\d|800-|95\d{3}|official|hotline|in-app|app内|小程序)",
                       re.IGNORECASE)
_SPEED = re.compile(r"(快|加急|内部|优先|特殊|绿色|通道|帮您|帮你|搞定|包过|走件|操作|疏通|审批|批|放款|下款|额度|"
                    r"特批|绕过|跳过|免审|speed|fast|quick|priority|inside|internal|approv|guarantee|help you|"
                    r"sort it|hook you up|bypass|skip|push(ed)? through|handle it)",
                    re.IGNORECASE)

# --------------------------------------------------------------------------------------------- links
_URL = re.compile(
    r"(?:https?://|hxxps?://|www\.)[^\s，。、；！？)）\"'<>】]+"
    r"|(?<![@\w.-])(?:[a-z0-9-]+\.)+(?:cn|com|net|org|xyz|top|cc|io|me|info|vip|shop|app|link|ly|gl|co|site|"
    r"online|club|ru|tk|ml|ga|cf|gq|icu|biz|pro|fun|live|ink|work|tech|store|asia|hk|tw|us|uk)"
    r"(?![a-z0-9-])(?::\d+)?(?:/[^\s，。、；！？)）\"'<>】]*)?"
    r"|(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?:/[^\s，。]*)?",
    re.IGNORECASE,
)
_HOST = re.compile(r"^(?:[a-z]+://)?(?:www\.)?([^/:?#\s]+)", re.IGNORECASE)

# --------------------------------------------------------------------------------------------- secrets
_SECRET = (r"(验证码|校验码|动态码|动态密码|短信码|密码|口令|pin码|pin|cvv2?|cvn|安全码|卡背面|卡背后|有效期和|网银|"
           r"u盾|k宝|屏幕共享|共享屏幕|远程协助|远程控制|向日葵|teamviewer|todesk|verification code|otp|"
           r"(one|1)[- ]time (pass)?code|passcode|password|security code|screen[- ]?shar|"
           r"remote (access|desktop|control)|"
           r"(code|digits|number)s? we (just )?(texted|sent)|"
           r"login details|online banking)")
_DISCLOSE = (r"(发给|发我|发一下|发过来|发送给|告诉|提供给?|报给|报一下|报下|念给|念一下|给我|截图|截屏|回复|"
             r"转发|"
             r"共享|开启|打开|下载|安装|私信|填到|输入到|send|tell|give|share|provide|read (it |them )?out|"
             r"forward|reply|install|download|turn on|enable|type (it|them) (here|in)|enter (it|them) (here|in|on))")
_SECRET_ASK = re.compile(
    rf"{_DISCLOSE}.{{0,14}}{_SECRET}|{_SECRET}.{{0,12}}{_DISCLOSE}"

    rf"|(输入|填写|填入|enter|type).{{0,10}}{_SECRET}.{{0,16}}(链接|页面|网页|表单|下方|这里|link|page|form|below|here)"
    rf"|(链接|页面|网页|表单|link|page|form).{{0,16}}(输入|填写|填入|enter|type).{{0,10}}{_SECRET}",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------------------------- promises
_SUBJECT = re.compile(r"(审批|审核|贷款|贷|申请|下款|放款|额度|批|过件|通过|征信|件|approv|loan|application|"
                      r"credit|reject|declin)", re.IGNORECASE)
_PROMISE_STRONG = re.compile(
    r"稳批|秒批|必批|必过|包过|稳过|包下款|包放款|包批|包通过|零拒|拒不了|铁定过|铁过|准过|妥妥(的)?(过|批|下)|"
    r"(保证(?!金)|保你|保您|包你|包您|确保|担保|承诺)(能|可以|会|一定|顺利|成功)?.{0,4}(批|下款|通过|放款|贷到|贷成|成功|过)|"
    r"(百分百|百分之百|100%|一百个|绝对|肯定|一定|必定|必然|铁定|板上钉钉|稳稳|稳)(的)?(能|可以|会|可)?(批|下款|通过|放款|"
    r"贷到|贷下来|批下来|过)|"
    r"无条件(批|通过|放款)|不看征信",
    re.IGNORECASE,
)
_PROMISE_SOFT = re.compile(
    r"(肯定|一定|绝对|保证(?!金)|百分百|百分之百|100%|确保|铁定|妥妥|必然|稳|放心|包)(的)?.{0,8}"
    r"(没问题|没有问题|没毛病|能成|能办|能下|下得来|批得下|稳了|到手|拿下|搞定|成功|无忧|放心)"
    r"|(不会|不可能|绝不会|没可能|不用担心|别担心)(被)?.{0,3}(拒|拒绝|拒贷|驳回|卡件|打回|不通过)"
    r"|(不存在|没有|不会有|绝无)(任何)?.{0,2}(批不下来|批不了|下不来|被拒|拒贷|不通过|通不过|过不了)"
    r"|(闭着眼睛|闭眼|躺着|随便)(都|也)?(能|可以|会)?(过|批|下款)|十拿九稳|没跑|跑不了|稳稳(的|地)?(过|批|拿下)",
    re.IGNORECASE,
)
_PROMISE_EN = re.compile(
    r"guarantee[ds]?\s+(you\s+)?(your\s+|an?\s+|the\s+)?(approval|loan|to be approved|(that\s+)?you('ll| will) "
    r"(be|get) approved)"
    r"|(you('ll| will)|you are going to|you're going to)\s+(definitely|certainly|surely|absolutely|100%)?\s*"
    r"(be|get)\s+approved"
    r"|(definitely|certainly|surely|absolutely|100%|sure to|bound to|guaranteed to)\s+(be\s+|get\s+)?approved"
    r"|approval\s+(is\s+)?(guaranteed|certain|assured|a sure thing|a given|a done deal|in the bag)"
    r"|guaranteed\s+(approval|loan|yes)|sure[- ]fire approval|(zero|no) chance (of|you('ll| will)|to) "
    r"(be |get )?(rejected|declined|turned down|rejection)"
    r"|no way (you('ll| will)|you|they('ll| will)?)\s*(be |get )?(rejected|declined|turned down|say no)"
    r"|(won'?t|will not|can'?t|cannot|never)\s+(be\s+|get\s+)?(rejected|declined|turned down)"
    r"|(it's|it is) (a )?(done deal|in the bag)|100% (approval|approved|success)",
    re.IGNORECASE,
)
# A clause that disclaims ("无法保证", "以审批为准", "cannot guarantee") does not promise.
_DISCLAIM = re.compile(
    r"(无法保证|不能保证|不保证|不承诺|无法承诺|不能承诺|不做承诺|并非承诺|不代表|不等于|以.{0,6}审批.{0,4}为准|以实际.{0,6}为准|"
    r"取决于|视.{0,6}而定|仅供参考|预审|预估|cannot guarantee|can'?t guarantee|not guarantee|no guarantee|"
    r"does not guarantee|doesn'?t guarantee|subject to|depends on|not a promise|not an approval)",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------------------------- prices
_PRICE_WORD = re.compile(
    r"(月供|每月|每个月|月付|月还|一个月|月均|还款额|利率|费率|利息|息费|年息|月息|手续费|服务费|费用|管理费|"
    r"首付款?|尾款|总价|售价|价格|报价|落地价|贷款额|借款额|贷款金额|额度|需付|需交|仅需|只要|只需|才|低至|"
    r"monthly|a month|per month|/month|/mo\b|payment|pay|only|just|fee|rate|price|interest|cost|down payment|apr)",
    re.IGNORECASE,
)
_RATE_WORD = re.compile(r"(利率|年化|费率|利息|年息|月息|息费|apr|rate|interest|irr)", re.IGNORECASE)
# "12、24、36" / "24或36": further numbers of a list; whatever unit ends the list is the unit of each
_MORE_NUMBERS = r"(?:\s?[、，,或和及到至~-]\s?\d+)*"
_PRICE = re.compile(
    r"(月供|每月(还|付|只要|仅需|需|要|才)?|每个月(还|付|只要|仅需|需|要)|月付|月还|利率|费率|利息|monthly payment|"
    r"interest rate|per month|a month)"
    # a question or a list of terms ("分几期？常见的是12、24、36期") ends the price's reach
    r"[^。！？?!\n]{0,24}?\d[\d,]*(\.\d+)?\s*(元|块|万|千|k\b|w\b|%|％|yuan|cny|rmb|"
    rf"(?![\d.,]*\s*{_MORE_NUMBERS}\s*(日|号|期|次|天|个|月|年|倍|"
    r"day|th|st|nd|rd|month|year|term)))",
    re.IGNORECASE,
)
_APR = re.compile(r"年化|APR|annuali[sz]ed|IRR", re.IGNORECASE)

# --------------------------------------------------------------------------------------------- leaks
_PROMPT_LEAK = re.compile(
    r"(系统提示词|系统提示|system prompt|你是一名汽车金融智能助手|SYSTEM_PROMPT_MARKER|"
    r"我的(隐藏)?(指令|设定|提示词)(是|如下)|"
    r"(my|the) (hidden |secret |system )?instructions (say|are|read|tell)|here (are|is) my (instructions|prompt)|"
    r"emit_commands|\"parameters\"\s*:|developer message|"
    r"(隐藏|内部|系统|开发者|后台|管理员)(给我的|设置的|写的)?(的)?(指令|规则|设定|提示|要求|配置)(如下|是|原文|全文|第一条|[:：])|"
    r"(原文|全文)如下|\[system\]|<<sys>>|"
    r"(hidden|secret|internal|system|developer) (rules|instructions|prompt|guidelines)( in full)?\s*[:：]|"
    r"(my|the) (hidden |secret |system )?(rules|instructions|guidelines) (in full|are|say|read)|"
    r"you are [a-z ]{0,30}assistant\.|never reveal these)",
    re.IGNORECASE,
)
_INJECTION = re.compile(
    r"(忽略|无视|忘记|忘掉).{0,8}(之前|以上|上面|前面|所有).{0,6}(指令|指示|规则|设定|提示)"
    r"|(系统|system)\s*(提示词|prompt)|(打印|输出|发给我|告诉我|显示).{0,8}(提示词|指令|prompt)"
    r"|ignore (all |the )?(previous|above|prior) (instructions|rules)|developer mode|jailbreak|越狱",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------------------------- figures
_PLAIN_MONEY = re.compile(r"[¥$]?\s?(\d+(?:\.\d+)?)\s?(元|块钱|块|圆|yuan|rmb|cny)?", re.IGNORECASE)


def _value(q: Quantity) -> Decimal:
    """The quantity's value with its decimals (the scanner rounds money to whole yuan)."""
    plain = _PLAIN_MONEY.fullmatch(q.text.strip())
    if q.kind == "money" and plain:
        return Decimal(plain.group(1))
    return q.value


_SPACED_THOUSANDS = re.compile(r"(?<=\d) (?=\d{3}(?![\d]))")


def _prepare(text: str) -> str:
    # "3 589.06" is one figure, as printed with a thin space between thousands
    return fold_case(normalize(_SPACED_THOUSANDS.sub("", text)))


def figures_in(*texts: str) -> set[Decimal]:
    """Every number in ``texts`` (money, plain numbers, percentages as fractions), by meaning."""
    found: set[Decimal] = set()
    for text in texts:
        for q in find_quantities(_prepare(text)):
            found.add(_value(q))
            if q.low is not None:
                found.add(q.low)
    return found


def _sig_round(value: Decimal, like: Decimal) -> Decimal:
    """``value`` rounded to the precision ``like`` was written with."""
    exponent = like.normalize().as_tuple().exponent
    step = Decimal(1).scaleb(int(exponent))
    return value.quantize(step) if int(exponent) < 0 else (value / step).quantize(Decimal(1)) * step


def _known(value: Decimal, figures: set[Decimal]) -> bool:
    if value in figures:
        return True
    digits = len(value.normalize().as_tuple().digits)
    # A rounding of a known figure to three or more significant digits ("约3,440元" for 3,438.38) is fine;
    # "3千" for 3,438.38 is not.
    return digits >= 3 and any(f and _sig_round(f, value) == value for f in figures)


# "常见的是12、24、36、48或60期": a list of terms, however near a 还款 it stands
_TERM_LIST = re.compile(rf"{_MORE_NUMBERS}\s?(?:期|个月|months?\b)")


def _price_figures(prepared: str, quantities: list[Quantity]) -> list[Decimal]:
    """Values in the text that are prices, payments, fees or rates (not terms, years, counts or shares)."""
    out: list[Decimal] = []
    for q in quantities:
        before = prepared[max(0, q.start - 10):q.start]
        after = prepared[q.end:q.end + 8]
        if q.kind == "money":
            out.append(_value(q))
        elif q.kind == "percent" and (_RATE_WORD.search(before) or _RATE_WORD.search(after)):
            out.append(q.value)
        elif (q.kind == "number" and _PRICE_WORD.search(before) and not re.match(r"\s?[-:：/]\d", after)
              and not re.search(r"\d[-\s]$", before)
              and not _TERM_LIST.match(prepared, q.end)):
            # a bare number after 月供 / 每月 / fee ("每月1999即可"), not a phone or a time
            out.append(q.value)
    return out


# --------------------------------------------------------------------------------------------- checks
def _hosts(text: str) -> list[str]:
    hosts = []
    for m in _URL.finditer(text):
        host = _HOST.match(m.group(0))
        if host:
            hosts.append(host.group(1).lower().rstrip("."))
    return hosts


def _host_allowed(host: str, allowed: Iterable[str]) -> bool:
    return any(host == a or host.endswith("." + a) for a in allowed)


def _contact_offending(text: str) -> bool:
    for sentence in _sentences(text):
        for clause in _clauses(sentence):
            for m in _CONTACT_ASK.finditer(clause):
                if _warned(sentence, clause, m.start()) or _OFFICIAL.search(clause):
                    continue
                # "加微信" alone may be harmless chat; with a handle, a number or a promise of speed it is a lure
                if re.search(r"[a-z0-9_-]{5,}", m.group(0), re.IGNORECASE) or _SPEED.search(sentence):
                    return True
    return False


# The code in an SMS asked for without naming it ("稍后您会收到一条短信……把那串数字念给我").
_SMS = re.compile(r"(短信|sms|texted|text message)")
_TO_ME = re.compile(r"(念给我|发给我|告诉我|报给我|回复给我|发我|读给我|read (it|them)( out)? to me|"
                    r"send (it|them) to me|tell me|reply with)", re.IGNORECASE)
# Screen sharing while the banking app is open hands over everything on the screen.
_SCREEN_SHARE = re.compile(r"(共享屏幕|屏幕共享|screen ?shar\w*).{0,30}(手机银行|网银|银行app|支付宝|banking)")


def _offending_sentence(pattern: re.Pattern[str], text: str) -> bool:
    """A match anywhere in a sentence (across its commas) that no warning in that sentence excuses."""
    for sentence in _sentences(text):
        m = pattern.search(sentence)
        if m and not _WARNING_BEFORE.search(sentence[:m.start()]) and not _SCAM_AFTER.search(sentence):
            return True
    return False


def _sms_code_ask(text: str) -> bool:
    for sms in _SMS.finditer(text):
        for ask in _TO_ME.finditer(text, sms.end(), sms.end() + 80):
            sentence = text[max(text.rfind("。", 0, ask.start()), text.rfind("\n", 0, ask.start())) + 1:ask.end()]
            if not _WARNING_BEFORE.search(sentence[:-len(ask.group(0))]):
                return True
    return False


# A promise reported as someone else's claim ("声称包过的…"), or denied just before ("不是稳批").
_REPORTED = re.compile(r"(谎称|声称|号称|所谓|自称|宣称|claims?|anyone who|whoever|promis)", re.IGNORECASE)
_DENIED_BEFORE = re.compile(r"(不|没有|无|不存在|绝不|从不|not|never|no one|nobody)[^。！？!?，,；;\n]{0,8}$",
                            re.IGNORECASE)
# Promises spelled with a negation ("不会被拒", "不存在批不下来"): a negation before them is no denial.
_NEGATIVE_PROMISE_STARTS = ("不会", "不可", "绝不", "没可", "不用", "别担", "不存", "没有", "绝无")


def _promises(text: str) -> bool:
    for sentence in _sentences(text):
        for clause in _clauses(sentence):
            if _DISCLAIM.search(clause):
                continue
            for pattern, needs_subject in ((_PROMISE_STRONG, False), (_PROMISE_EN, False), (_PROMISE_SOFT, True)):
                for m in pattern.finditer(clause):
                    if needs_subject and not _SUBJECT.search(sentence):
                        continue
                    before = clause[max(0, m.start() - 12):m.start()]
                    quoted = before.rstrip().endswith(("“", "「", '"', "'")) or before.count("“") > before.count("”")
                    warned = _SCAM_AFTER.search(sentence) or _REPORTED.search(before)
                    denied = (not m.group(0).startswith(_NEGATIVE_PROMISE_STARTS)
                              and _DENIED_BEFORE.search(before))
                    if not (quoted or warned or denied):
                        return True
    return False


def check_text(
    text: str, *, figures: Iterable[Decimal] | None = None, allowed_hosts: Iterable[str] = DEFAULT_ALLOWED_HOSTS,
) -> list[GuardFinding]:
    """Compliance problems in a customer-facing text (empty list = fine).

    ``figures`` are the numbers this turn may state (what the tools computed, what the customer said):
    when given, any payment, price, fee or rate outside them is an ``invented_number``.
    """
    findings: list[GuardFinding] = []
    prepared = _prepare(text)
    quantities = find_quantities(prepared)  # read once, for the invented-figure and APR checks
    if _offending(_PAYMENT_ASK, prepared):
        findings.append(_finding("fraud_payment"))
    if _contact_offending(prepared):
        findings.append(_finding("fraud_contact"))
    allowed = tuple(allowed_hosts)
    if any(not _host_allowed(host, allowed) for host in _hosts(prepared)):
        findings.append(_finding("url"))
    if _offending(_SECRET_ASK, prepared) or _sms_code_ask(prepared) or _offending_sentence(_SCREEN_SHARE, prepared):
        findings.append(_finding("secret_request"))
    if _promises(prepared):
        findings.append(_finding("approval_promise"))
    if figures is not None:
        known = set(figures)
        if any(not _known(value, known) for value in _price_figures(prepared, quantities)):
            findings.append(_finding("invented_number"))
    if (_quoted_price(prepared) or _price_without_unit(prepared, quantities)) and not _APR.search(prepared):
        findings.append(_finding("price_without_apr"))
    if contains_pii(text):
        findings.append(_finding("personal_data"))
    if _offending(_PROMPT_LEAK, prepared):
        findings.append(_finding("prompt_leak"))
    return findings


_CONSTRAINT = re.compile(r"(不超过|不高于|以内|之内|以下|控制在|预算|封顶|最多|上限|under|below|up to|at most|"
                         r"no more than|max|cap|within|budget)", re.IGNORECASE)


# The customer's existing repayments ("已有负债的月还款800元", "your existing debt of 3,000 a month") are
# their own facts read back, not a price the lender quotes.
_DEBT_BEFORE = re.compile(r"(负债|欠款|房贷|车贷|网贷|debts?|existing)[^。！？\n]{0,4}$", re.IGNORECASE)
_DEBT_WORDS = re.compile(r"负债|欠款|房贷|车贷|网贷|debts?\b|existing|mortgage", re.IGNORECASE)
# A share, not a price: "每月应还本金占月收入的29%", "payments are 35% of your income".
_INCOME_WORDS = re.compile(r"收入|月薪|工资|income|salary|earn", re.IGNORECASE)
_SHARE = re.compile(r"占[^。！？\n]{0,8}(?:收入|车价|比例)|of (?:your |the |monthly )*(?:income|price)", re.IGNORECASE)
# A worked example of how to say a figure ("例如：首付5万"), not a quote.
_EXAMPLE_BEFORE = re.compile(r"(例如|比如|e\.g\.|for example)[^。！？\n]{0,12}$", re.IGNORECASE)


def _quoted_price(prepared: str) -> bool:
    """A payment or rate stated as a price (not a cap the customer set: "月供不超过3k", nor their debts)."""
    return any(not _CONSTRAINT.search(m.group(0)) and not _CONSTRAINT.match(prepared, m.end())
               and not _DEBT_BEFORE.search(prepared[max(0, m.start() - 10):m.start()])
               and not _SHARE.search(m.group(0) + prepared[m.end():m.end() + 16])
               and not _EXAMPLE_BEFORE.search(prepared[max(0, m.start() - 16):m.start()])
               and not re.search(r"例如|比如|e\.g\.|for example", m.group(0), re.IGNORECASE)
               for m in _PRICE.finditer(prepared))


def _own_fact(context: str) -> bool:
    """The words before an amount name the customer's debt or income, with no selling word after them
    ("existing debt repayments 4,500/month" yes; "with your income you'd pay only 2,100 a month" no)."""
    last = None
    for m in (*_DEBT_WORDS.finditer(context), *_INCOME_WORDS.finditer(context)):
        last = m if last is None or m.end() > last.end() else last
    if last is None:
        return False
    return not re.search(r"\bpay\b|only|just|would|'d|you'll|月供|只要|仅|才", context[last.end():], re.IGNORECASE)


def _price_without_unit(prepared: str, quantities: list[Quantity]) -> bool:
    """A payment or rate figure stated in words the price pattern does not spell ("only 2100 a month")."""
    for q in quantities:
        after = prepared[q.end:q.end + 14]
        before = prepared[max(0, q.start - 12):q.start]
        if q.kind in ("money", "number") and re.match(r"\s?(a|per|each|every|/)\s?(month|mo\b)", after):
            if _CONSTRAINT.search(before) or _own_fact(prepared[max(0, q.start - 28):q.start]):
                continue  # the customer's own cap, debts or income read back, not a quote
            return True
        if q.kind == "percent" and _RATE_WORD.search(before + after):
            return True
    return False


def is_injection(text: str) -> bool:
    """True when a customer message tries to override instructions or extract the system prompt."""
    return bool(_INJECTION.search(text))
