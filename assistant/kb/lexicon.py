"""Domain vocabulary for lexical search: segmentation aids, stop words and query expansion.

Customers say "绿本", "晚还", "还不上" or ask in English; the documents say "机动车登记证书", "逾期",
"还款困难". BM25 only matches words that occur, so before scoring a query we append the written-Chinese
terms its colloquial or English words stand for. The lists are general auto-finance vocabulary (what a
call-centre glossary holds), not phrasings lifted from any evaluation question.
"""

from __future__ import annotations

import re

# Words jieba would otherwise split; added to its dictionary with a high frequency.
DOMAIN_TERMS = [
    "车贷", "车抵贷", "押证不押车", "解押", "解除抵押", "抵押登记", "提前还款", "提前结清", "违约金",
    "征信", "逾期", "罚息", "月供", "首付", "首付比例", "贷款期限", "年化利率", "费率", "手续费",
    "贴息", "零息", "融资租赁", "以租代购", "等额本息", "等额本金", "还款日", "还款卡", "代扣",
    "展期", "延期还款", "催收", "新能源", "以旧换新", "置换", "二手车", "过户", "全损", "车损险",
    "第一受益人", "个人信息", "授权书", "冷静期", "犹豫期", "结清证明", "登记证书", "绿本", "购置税",
    "行驶证", "共同借款人", "担保人", "流水", "营业执照", "放款", "提车", "面签", "直租", "回租",
    "gps", "ltv", "apr", "lpr",
]

STOPWORDS = frozenset(
    [
        "的", "了", "吗", "呢", "吧", "啊", "呀", "嘛", "哦", "哈", "么", "是", "我", "你", "他", "她", "它",
        "我们", "你们", "他们", "咱", "咱们", "这", "那", "这个", "那个", "这些", "那些", "就", "都", "和", "与",
        "及", "或", "或者", "在", "对", "还", "也", "又", "再", "很", "太", "能", "能不能", "会", "会不会", "要",
        "要不要", "可以", "可不可以", "有", "有没有", "没有", "没", "一下", "一个", "请问", "想", "想要", "怎么",
        "怎么样", "怎样", "如何", "什么", "啥", "咋", "为什么", "多少", "几", "哪", "哪些", "哪里", "呗", "给",
        "让", "被", "把", "从", "到", "之", "以", "于", "其", "该", "等", "如果", "因为", "所以", "但", "但是",
        "而", "并", "及其", "以及", "是否", "是不是", "自己", "现在", "已经", "之后", "以后", "之前", "时候",
        "东西", "一般", "需要", "应该", "还是", "那么", "这么", "就是", "the", "a", "an", "is", "are", "was",
        "were", "be", "been", "to", "of", "and", "or", "in", "on", "at", "for", "do", "does", "did", "can",
        "could", "would", "should", "will", "i", "my", "me", "you", "your", "it", "its", "this", "that", "what",
        "how", "when", "which", "who", "with", "about", "if", "there", "any", "have", "has", "get", "my", "we",
        "our", "us",
    ]
)

# Colloquial / alternative Chinese → the written terms documents use.
_ZH_SYNONYMS: list[tuple[tuple[str, ...], str]] = [
    (("绿本", "大绿本", "登记本", "车辆登记证"), "机动车登记证书"),
    (("晚还", "晚交", "迟还", "没按时还", "没还上", "断供", "拖欠", "欠款", "逾期"), "逾期 罚息 征信"),
    (("还不上", "还不起", "还不了", "没钱还", "手头紧", "周转不开", "失业"), "还款困难 延期 展期 帮扶"),
    # Not "还清"/"结清" alone: a loan is also settled at the end of its term.
    (("提前还", "提前结", "一次性还清", "全部还清"), "提前还款 提前结清"),
    (("罚款", "罚金", "赔钱", "手续费"), "违约金 费用"),
    (("利息", "利率", "年化", "费率"), "利率 年化利率"),
    (("首付", "首期", "零首付"), "首付 首付比例"),
    (("几年", "多少期", "最长", "年限", "期数"), "贷款期限"),
    (("能贷多少", "贷多少", "额度", "最多贷"), "贷款发放比例 额度"),
    (("带什么", "准备什么", "要什么材料", "资料", "证件"), "申请材料"),
    (("批", "审核", "审批", "下款", "放款"), "审批"),
    (("拒", "没通过", "不通过", "被拒"), "审批 拒绝"),
    (("收车", "拖车", "扣车"), "处置抵押车辆"),
    (("催债", "催款", "骚扰", "爆通讯录", "上门"), "催收"),
    (("查征信", "征信报告", "信用记录", "黑名单", "花了"), "征信"),
    (("卖车", "卖掉", "转卖", "转让", "过户"), "出售 过户"),
    (("解绑", "解押", "解抵押", "拿回"), "解除抵押 解押"),
    (("押车", "押本", "押证", "抵押车", "用车借钱", "车抵押"), "车抵贷 抵押"),
    (("电车", "电动车", "纯电", "插混", "新能源"), "新能源"),
    (("换车", "旧车换新", "置换"), "以旧换新 置换"),
    (("二手", "旧车"), "二手车"),
    (("租车", "以租代购", "租赁"), "融资租赁"),
    (("车险", "保险", "出险"), "保险"),
    (("撞坏", "报废", "全损", "被偷", "被盗", "出车祸", "事故"), "出险 全损 被盗"),
    (("去世", "身故", "死亡", "残疾", "伤残"), "身故 伤残"),
    (("定位", "追踪", "监控", "gps"), "gps 定位"),
    (("隐私", "个人信息", "信息泄露", "授权"), "个人信息 授权"),
    (("投诉", "维权", "举报", "告你们", "乱收费"), "投诉"),
    (("骗", "骗子", "诈骗", "先交钱", "先转账", "包装"), "诈骗 防诈骗"),
    (("扣款", "自动扣", "换卡", "银行卡"), "自动扣款 还款卡"),
    (("还款日", "扣款日", "改日期", "换日子"), "还款日 变更"),
    (("反悔", "不想要了", "撤销", "取消贷款", "退贷"), "犹豫期 撤销"),
    (("丢了", "找不到", "遗失", "补办"), "遗失 补办"),
    (("发票", "购置税"), "发票 购置税"),
    (("担保", "共同借款", "配偶"), "共同借款人 担保人"),
    (("个体户", "自由职业", "做生意", "开店", "没有工资条"), "个体户 自由职业 收入证明"),
    (("收入证明", "工资流水", "流水"), "收入证明 银行流水"),
    (("等额本息", "等额本金", "还款方式"), "等额本息 等额本金"),
    (("签合同", "面签", "签字"), "签约 面签 合同"),
    (("提车", "拿车"), "放款 提车"),
    (("0息", "零息", "免息", "无息"), "0息 低息 手续费"),
]

# English words and phrases → Chinese terms (customers and expatriate staff ask in English).
_EN_GLOSSARY: list[tuple[tuple[str, ...], str]] = [
    (("car loan", "auto loan", "auto finance", "financing", "finance", "loan"), "贷款 车贷"),
    (("pay off", "payoff", "pay it off", "early repayment", "prepay", "repay early", "settle"), "提前还款 提前结清"),
    (("penalty", "penalties", "fine"), "违约金 罚息"),
    (("fee", "fees", "charge", "charges", "cost"), "费用 手续费"),
    (("interest", "rate", "rates"), "利率 利息"),
    (("apr", "annual percentage", "real rate", "effective rate", "true rate"), "年化利率"),
    (("flat rate",), "费率 年化利率"),
    (("down payment", "deposit"), "首付"),
    (("term", "terms", "years", "months", "maximum term", "how long"), "期限"),
    (("ltv", "loan-to-value", "how much can i borrow", "borrow"), "贷款发放比例 额度"),
    (("miss", "missed", "late", "overdue", "behind on", "default"), "逾期 罚息"),
    (("credit report", "credit score", "credit record", "credit history", "credit"), "征信"),
    (("can't pay", "cannot pay", "can not pay", "unable to pay", "hardship", "lost my job"), "还款困难 延期 展期"),
    (("extension", "extend", "defer", "postpone"), "延期 展期"),
    (("collector", "collection", "collections", "harass", "harassing"), "催收"),
    (("insurance", "insured", "insurer"), "保险"),
    (("gps", "tracker", "tracking", "location"), "gps 定位"),
    (("mortgage", "lien", "pledge", "collateral"), "抵押"),
    (("registration certificate", "green book", "title", "release", "released"), "机动车登记证书 解押"),
    (("sell", "selling", "transfer", "sold"), "出售 过户"),
    (("lease", "leasing", "leaseback", "ownership"), "融资租赁 所有权"),
    (("used car", "second-hand", "second hand", "pre-owned"), "二手车"),
    (("ev", "evs", "electric", "nev", "new energy", "hybrid", "plug-in"), "新能源"),
    (("trade in", "trade-in", "old car", "scrap"), "以旧换新 置换"),
    (("subsidy", "subsidies", "incentive", "incentives", "tax break", "purchase tax"), "补贴 购置税"),
    (("privacy", "personal data", "personal information", "my data", "consent"), "个人信息 授权"),
    (("complain", "complaint", "complaints"), "投诉"),
    (("scam", "fraud", "fraudster", "upfront fee", "advance fee"), "诈骗"),
    (("documents", "paperwork", "papers", "bring", "materials", "id card"), "申请材料"),
    (("approve", "approval", "approved", "reject", "rejected", "declined"), "审批"),
    (("eligible", "eligibility", "qualify", "requirements", "age"), "申请条件"),
    (("income", "salary", "payslip", "bank statement"), "收入 流水"),
    (("self-employed", "freelancer", "freelance", "business owner"), "个体户 自由职业"),
    (("guarantor", "co-borrower", "cosigner", "co-signer", "spouse"), "担保人 共同借款人"),
    (("contract", "sign", "signing"), "合同 签约"),
    (("cancel", "cooling-off", "cooling off", "withdraw", "change my mind"), "犹豫期 撤销"),
    (("total loss", "totaled", "totalled", "written off", "stolen", "accident", "crash"), "全损 被盗 出险"),
    (("die", "dies", "died", "death", "disabled", "disability"), "身故 伤残"),
    (("invoice", "receipt"), "发票"),
    (("deliver", "delivery", "pick up", "disburse", "disbursement"), "放款 提车"),
    (("due date", "payment date", "repayment date"), "还款日"),
    (("auto-debit", "direct debit", "bank card", "debit card", "credit card"), "自动扣款 银行卡"),
    (("lost", "missing", "replace", "replacement"), "遗失 补办"),
    (("zero interest", "0%", "interest-free", "interest free"), "0息 低息"),
    (("monthly payment", "installment", "instalment", "equal principal", "equal installment"), "月供 还款方式"),
    (("car title loan", "borrow against my car", "loan on my car", "cash from my car"), "车抵贷"),
    (("bank",), "银行"),
    (("captive", "manufacturer", "brand finance", "dealer"), "厂商 汽车金融公司"),
]

_LATIN = re.compile(r"[a-z]")


def _has_phrase(text: str, phrase: str) -> bool:
    if _LATIN.search(phrase):
        return re.search(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", text) is not None
    return phrase in text


def expand_query(normalised: str) -> str:
    """Terms to append to a (lower-cased, NFKC) query for lexical matching; '' when none apply."""
    extra: dict[str, None] = {}  # ordered set: a term named by two entries is appended once
    for table in (_ZH_SYNONYMS, _EN_GLOSSARY):
        for phrases, terms in table:
            if any(_has_phrase(normalised, p) for p in phrases):
                extra.update(dict.fromkeys(terms.split()))
    return " ".join(extra)
