# ruff: noqa: E501  -- regex tables read best one pattern to a line
"""Cue tables the dialogue-state tracker reads (the patterns only; the pipeline is in ``tracker``).

Every pattern runs on the NLU's prepared text: normalised, lower-case, 15w / 3k / 30个 expanded, the
same length as the message, so a match's span is the message's span.
"""

from __future__ import annotations

import re

NUM = r"(?:\d+(?:\.\d+)?\s*(?:万|千|k|w|元|块)?|[零一二两三四五六七八九十百千万点半]+(?:万|千|元|块)?)"

# ------------------------------------------------------------------ monthly-payment caps
PAYMENT_CUE = re.compile(r"月供|每月还款|每个月还款|每月还|每个月还|月还款|月还|每月|每个月|一个月|月付|"
                         r"monthly payments?|monthly|payments?|a month|per month|/month|/mo\b|each month")
LIMIT_BEFORE = re.compile(r"(?:不想|不要|别|不能|不可以|最好|尽量|希望)?(?:超过|超出|超|高于|多于)|不超|不过(?=\s?[\d一二两三四五六七八九])|控制在|压在|压到|放宽到|放到|提到|调到|"
                          r"保持在|最多|最高|顶多|小于|低于|不到|以内的|under|below|max(?:imum)?|at most|"
                          r"no more than|not more than|up to|within|less than|tops|cap(?:ped)?(?: at)?|keep (?:it )?under|"
                          r"(?:i|we) can (?:only )?(?:do|afford|manage|handle|swing|stretch to)|afford(?: about| around)?|"
                          r"(?:don'?t|do not|not|never|can'?t|cannot|cant)\b[^.]{0,24}\bmore than|\babove\b|\bover\b|\bexceed(?:s|ing)?\b")
LIMIT_AFTER = re.compile(r"\s?(?:元|块)?\s?(?:以内|之内|以下|内|封顶|左右|上下|max|or less|tops|at most|or under)")
REPAYMENT_CUE = re.compile(r"月供|还款|还|月付|payment")
INCOME_CUE = re.compile(r"到手|收入|工资|月入|月薪|挣|赚|薪水|salary|income|earn|make|take home")
STRICT_AFTER = re.compile(r"\s?(?:元|块)?\s?(?:以内|之内|以下|内|封顶|max|or less|tops|at most|or under)")
# an amount that describes the car wanted ("7万以内的油车", "20万左右的suv"), never a payment
CAR_AFTER_AMOUNT = re.compile(r"\s?(?:元|块)?\s?(?:以内|之内|以下|左右|上下|出头)?\s?的\s?(?:车|油车|电车|新能源|纯电|插混|混动|suv|轿车|"
                              r"mpv|二手车|新车|小车|代步车|商务车|越野|皮卡)")
# a payment cue, then (within a few characters) a limit word and an amount, or an amount and a limit word
CAP_NEAR = 20

# ------------------------------------------------------------------ existing debt
DEBT_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("mortgage", re.compile(r"房贷|按揭|mortgage|home loan")),
    ("car_loan", re.compile(r"车贷|(?:车|车子)(?:还在还|还没还完|在还)|car loan|car payment|auto loan")),
    ("online_loan", re.compile(r"网贷|借呗|微粒贷|消费贷|小额贷|网上借|分期乐|美团(?:借钱|月付)|京东金条|金条|360借条|安逸花|"
                               r"招联(?:金融)?|有钱花|度小满|放心借|网商贷|online loan|personal loan|student loan")),
    ("credit_card", re.compile(r"信用卡|花呗|白条|credit card|phone installment|installment plan|instalment")),
    # loans named by their purpose; "车位那个贷款" later means the same one
    ("other", re.compile(r"装修贷|经营贷|信用贷|助学贷款|车位贷款?|农机贷|设备贷|(?<!想)(?<!要)(?<!打算)(?<!再)贷款(?!买)|分期|欠款|负债|\bloan\b|\bdebt\b|\bin debt\b")),
)
LISTED_AMOUNTS = re.compile(r"\s?一(?:个|笔)\s?(?P<a>\d+(?:\.\d+)?)\s?(?:块|元)?\s?[，,、]?\s?(?:另)?一(?:个|笔)\s?(?P<b>\d+(?:\.\d+)?)")
NAMED_LOAN = re.compile(r"装修贷|经营贷|信用贷|助学贷款|车位贷款?|农机贷|设备贷")
# Lending apps named by the customer: two of them are two debts of one kind, both counted.
NAMED_APP = re.compile(r"借呗|微粒贷|分期乐|美团(?:借钱|月付)|京东金条|金条|360借条|安逸花|招联(?:金融)?|有钱花|度小满|放心借|网商贷|花呗|白条")
DEBT_EXISTING = re.compile(r"每月还|每个月还|月还|还着|在还|还有|已经|目前|现在|每月|每个月|月供|一个月|"
                           r"\balready\b|\bcurrently\b|\bpay(?:ing)?\b|\bexisting\b|\bhave\b|\bgot\b|\balso\b|there'?s|\btheres\b")
# A generic 贷款 / loan is a debt only with words that say it is running now (not "the loan I want").
DEBT_OTHER_EXISTING = re.compile(r"还着|在还|已经|目前|现在还|每月还|每个月还|还有(?:个|一笔)|\balready\b|\bcurrently\b|"
                                 r"\bexisting\b|\bpaying\b|\banother\b|\bother\b")
DEBT_FUTURE = re.compile(r"想贷|要贷|打算贷|准备贷|申请|贷多少|能贷|借多少|(?:能|可以|想|要)?(?:做|办)(?:个)?车贷|贷款买|want to borrow|looking to borrow")
# "还没还完" is a debt still running, not one paid off.
DEBT_PAID_OFF = re.compile(r"(?<![没未])(?:还清|还完|结清)(?!了?吗)|不用还了|paid (?:[a-z]+ ){0,3}off|cleared|finished paying")
NO_DEBT = re.compile(r"没有(?:其他|别的|任何)?(?:贷款|负债|欠款|房贷|车贷)|无(?:负债|贷款)|没负债|没贷款|零负债|"
                     r"no (?:other )?(?:debts?|loans?)|debt[- ]free")

# ------------------------------------------------------------------ relative edits
REL_SLOT = (
    ("down_payment", re.compile(r"首付|首期|down ?payment|deposit|put down|down\b")),
    ("loan_amount", re.compile(r"贷款|贷|借|loan|borrow")),
    ("budget", re.compile(r"预算|budget")),
    ("vehicle_price", re.compile(r"车价|价格|price")),
    ("max_monthly_payment", re.compile(r"月供|每月|monthly|a month|per month")),
    ("term_months", re.compile(r"期限|分期|期数|年限|term|分")),
)
REL_MORE = re.compile(r"再多|多|再加|加|提高|增加|上调|往上|涨|more|raise|increase|bump(?: up)?|up|higher|extra|plus|add")
REL_LESS = re.compile(r"再少|少|再减|减|降低|减少|下调|往下|降|压|less|lower|reduce|cut|decrease|down by|minus|drop")
REL_EDIT = re.compile(
    r"(?P<slot>首付|首期|贷款|预算|车价|月供|期限|down ?payment|deposit|loan|budget|price|monthly(?: payment)?|term)?"
    r"[^，。,.!?！？\d]{0,4}?(?<![最至顶])(?<!差不)(?<!差不\s)(?<!那么)(?<!这么)(?<![太好])(?P<dir>再多|再少|再加|再减|多|少|加|减|提高|增加|减少|降低|降|压|往上|往下|"
    r"\bmore\b|\bless\b|raise|increase|reduce|\bcut\b|lower|bump(?: up)?|\bdrop\b)"
    r"\s?(?:付|贷|交|借|点|了|个|一点|压|降|拿|出|给|放|掏|凑|筹)?\s?(?:by\s)?(?P<num>\d+(?:\.\d+)?\s?(?:万|千|k|w|元|块)?|"
    r"[一二两三四五六七八九十半]+\s?(?:万|千|元|块|成|年|期|个月)|[一二两三四五六七八九]百(?:块|元)?|\d+\s?(?:成|年|期|个月|years?|months?))"
)
# "bump the down payment up by 20k", "cut the loan by 10k", "put 20k more down"
REL_EDIT_EN = re.compile(
    r"\b(?P<dir>bump|raise|increase|lower|reduce|cut|drop|decrease)\s+(?:the\s+|my\s+)?"
    r"(?P<slot>down ?payment|deposit|loan(?: amount)?|budget|monthly(?: payment)?|payment|term)\s+(?:up\s+|down\s+)?"
    r"by\s+(?P<num>\d+(?:\.\d+)?\s?(?:k|w|万|千|yuan)?|\d+\s?(?:years?|months?))")
VAGUE_EDIT = re.compile(r"(?P<slot>首付|期数|期限|月供|贷款|预算)\s?(?:再)?(?P<dir>少|多|长|短|低|高|拉长|缩短|降|加)(?:点|一点|些|一些)")
IS_NOT = re.compile(r"是\s?(?P<right>\d+(?:\.\d+)?\s?(?:万|w|k|千)?)\s?[，,]?\s?(?:不是|而不是)\s?(?P<wrong>\d+(?:\.\d+)?\s?(?:万|w|k|千)?)")
# "三年压力大 要不还是分四年吧": the term chosen, not the one complained about
CHOSEN_VALUE = re.compile(r"还是\s?(?:要|选|买|换成|改成)?\s?(?P<word>[^\s，。,吧]{1,5}?)(?:吧|好了|得了|算了|$)")
# "分一年", "一年期": a one-year term said beside an annual income, not the income's "一年"
ONE_YEAR_TERM = re.compile(r"分\s?(?:一|1)\s?年|(?:一|1)\s?年期|贷\s?(?:一|1)\s?年|(?:一|1)\s?年还清|12\s?期")
CHOSEN_TERM = re.compile(r"(?:还是|就|改成|换成|改为)\s?(?:分)?\s?(?P<n>\d+|[一二两三四五六七八九十]+)\s?(?P<unit>年|期|个月)|"
                         r"(?<![\d一二两三四五六七八九十])(?P<n2>\d+|[一二两三四五六七八九十]+)\s?(?P<unit2>年|期|个月)"
                         r"(?=就行|就可以|就好|就够|得了|算了|吧)")
# "期数也改成36吧": the term named, the figure bare (months unless a 年 says years)
NAMED_TERM = re.compile(r"(?P<key>期数|期限|年限|分期数|贷款期|term)[^，。,.!?！？\d]{0,4}?(?:改成|换成|改为|改到|调到|变成|"
                        r"设为|\bto\b)\s?(?P<n>\d+|[一二两三四五六七八九十]+)\s?(?P<unit>年|期|个月|months?|years?)?")
REL_TERM_UNIT = re.compile(r"年|期|个月|years?|months?")
ABSOLUTE_TO = re.compile(r"到|至|成(?=\d)|为|\bto\b")

# ------------------------------------------------------------------ ranges
RANGE_ADJ = re.compile(r"(?P<a>[一二三四五六七八九])(?P<b>[二三四五六七八九])(?P<unit>万|千|个(?!月))")
RANGE_TENS = re.compile(r"(?P<tens>[一二三四五六七八九]?十)(?P<a>[一二三四五六七八九])(?P<b>[二三四五六七八九])(?P<unit>万|千|个(?!月))")
RANGE_EN = re.compile(r"between\s+(?P<lo>\d+(?:\.\d+)?)\s?(?P<lo_unit>k|w|万)?\s+and\s+(?P<hi>\d+(?:\.\d+)?)\s?(?P<unit>k|w|万)")
AT_LEAST = re.compile(r"(?:at least|no less than|not less than|不低于|起码|至少|最低)\s?(?P<amount>\d+(?:\.\d+)?\s?(?:k|w|万))|"
                      r"(?P<amount2>\d+(?:\.\d+)?\s?(?:w|万))\s?(?:往上|以上|起步|起)")
RANGE_SPAN = re.compile(r"(?P<lo>\d+(?:\.\d+)?|[一二两三四五六七八九十]{1,3})\s?(?:万|w)?\s?(?:到|至|-|~|～|—|to)\s?"
                        r"(?P<hi>\d+(?:\.\d+)?|[一二两三四五六七八九十]{1,3})\s?(?P<unit>万|w)")

# ------------------------------------------------------------------ references to offers shown
ORDINAL = re.compile(r"第\s?(?P<n>[一二三四五六七八九十\d]{1,2})\s?(?P<unit>个|款|种|套|台|辆|项|条|号|家)?"
                     r"(?P<after>月供|方案|车|选项|的|那|吧|$|[\s，。,.!?！？])?")
ORDINAL_ALT = re.compile(r"方案\s?(?P<n>[一二三四五六七八九十\d]{1,2})|(?P<m>[一二三四五六七八九\d])号方案|头(?P<h>一)(?:个|款|台|辆)(?!月)|"
                         r"选\s?(?P<k>[1-9一二三四五])(?![万千0-9.])|(?:option|plan|number|no\.?|#)\s?(?P<e>\d{1,2})\b")
EN_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
               "fifth": 5, "5th": 5, "last": -1}
EN_ORDINAL = re.compile(r"\b(?<!\ba\s)(?<!\ban\s)(?:the\s)?(?P<w>first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)"
                        r"\s(?:one|1|option|plan|offer|car|choice)\b")
CHEAPEST = re.compile(r"最便宜|最平|平啲|月供最平|便宜(?:的|点的|一点的|些的)?(?:那|这)?(?:个|款|台|辆|种)|便宜(?:点|一点|些)(?:那|这)(?:个|款|台|辆|种)|月供最(?:低|少|便宜)|月供(?:少|低)的那|最低的那|最省|"
                      r"cheap(?:est|er)(?: one| 1| option| plan)?|lowest (?:monthly )?payment|lowest monthly|smallest (?:monthly )?payment|least expensive|lower payment|"
                      r"(?:lower|smaller|lowest|smallest|less) (?:monthly|per month|a month|installment)|"
                      r"(?:cheaper|lower) (?:monthly|installment|repayment)s?")
PRICIEST = re.compile(r"最贵|贵(?:的|点的|一点的)?(?:那|这)(?:个|款|台|辆)|月供最高|pric(?:ey|ier|iest)(?: one| 1)?|"
                      r"most expensive|more expensive (?:one|1)|highest payment")
CURRENT = re.compile(r"就(?:上面|这|那|它)(?:个|款|台|辆|一个|套)?|就它|上面(?:那|这)(?:个|款|台|辆)|(?:这|那)个方案|"
                     r"(?:这|那)(?:个|款|台|辆)(?:吧|就行|可以|不错|挺好)|that (?:one|1)|this (?:one|1)|the (?:one|1) above|go with (?:it|that)|"
                     r"that plan|this plan|i'?ll take it")
# "那它首付要多少", "what's its APR": the offer already in focus.
IT_REF = re.compile(r"它|这个|那个|这台|那台|这款|那款|这辆|那辆|这套|\bit\b|\bits\b|that (?:one|1)|this (?:one|1)|that car|this car")
POINTING = re.compile(r"那|这|就|选|定|要|挑|the |that |this |go with|pick|take|choose")
ASK_FIELD = (
    ("monthly_payment", re.compile(r"月供|每月|每个月|一个月|monthly|per month|a month|payment")),
    ("down_payment", re.compile(r"首付|down ?payment|deposit")),
    ("total_interest", re.compile(r"利息|interest")),
    ("loan_amount", re.compile(r"贷款(?:多少|金额)|贷多少|借多少|loan amount|borrow")),
    ("apr", re.compile(r"年化|利率|apr|rate")),
    ("vehicle_price", re.compile(r"车价|多少钱|价格|price|cost")),
)
SCHEDULE_ROW = re.compile(r"第\s?(?P<n>[一二三四五六七八九十\d]{1,3})\s?(?:期|个月(?!供))")

CAR_PRICE = re.compile(r"(?:那|这|(?<=看中)一|(?<=看上)一|(?<=相中)一|(?<=选了)一|(?<=定了)一)(?:台|辆|款|部)\s?(?P<amount>\d+(?:\.\d+)?\s?万|[一二两三四五六七八九十几]+十?万)(?:块)?(?:的|左右的)")
DOWN_RATIO = re.compile(r"首付(?:(?!再|多付|多出|多交|多拿|多给|少|加|减|降|提)[^，。,\d万千]){0,8}?(?:(?P<n>\d|[零一二两三四五六七八九])\s?成(?!本)|(?P<half>一半))")
DOWN_AMOUNT = re.compile(r"首付(?:打算|准备|想|能|可以|我)?(?:出|付|交|给|拿)?(?:个)?\s?(?P<amount>\d+(?:\.\d+)?\s?(?:万|w|k|千)|"
                         r"[一二两三四五六七八九十]+万)")
EN_BUDGET = re.compile(r"(?:around|about|under|below|up to|within|budget(?: is|'s)?|for)\s+(?:rmb\s?)?(?P<amount>\d+(?:\.\d+)?\s?k)\b")
BARE_BUDGET = re.compile(r"(?P<amount>\d+(?:\.\d+)?\s?(?:万|w)|[一二两三四五六七八九十]+万)\s?(?:以内|之内|以下|左右|上下)")
BUDGET_CAR = re.compile(r"(?:买|看看|看|换|要|整)(?:个|台|辆|部)?\s?(?P<amount>\d+(?:\.\d+)?\s?(?:万|w)|[一二两三四五六七八九十几]+十?[一二三四五六七八九]?万)"
                        r"(?P<approx>左右|以内|之内|上下|出头)?(?:块)?的")
LOAN_GIVEN = re.compile(r"贷\s?\d|贷款\s?\d|贷[一二两三四五六七八九十]+万|首付")
INCOME_AMOUNT = re.compile(
    r"(?P<cue>月入|月薪|到手|税后|收入|工资|一个月|每月|每个月|salary|income|i make|i earn|take home|earning)"
    r"(?:一个月|每个月|每月)?(?:\s?is|\s?of)?"
    # "一个月刨去油费电费能落个9千": what is left after running costs is the income
    r"(?:(?:刨去|刨掉|除去|去掉|扣掉|扣除|减去|除了)[^，。,\d]{1,8}?)?"
    r"(?P<verb>大概|差不多|有|能有|能拿|拿|挣|赚|才|就|是|都|也就|能落个|落个|能落|落|能剩|剩个|剩|净赚|能跑个|跑个|能跑|\s?about|\s?around)?\s?"
    r"(?P<amount>(?>\d+(?:\.\d+)?\s?(?:万|千|k|w|元|块)?|[一二两三四五六七八九十]+(?:万|千)[一二三四五六七八九]?))"
    r"(?!(?:块钱?)?的?(?:车|月供|房贷|车贷))")
# "95年的 在重庆开奶茶店", "我88年生的", "90后": a birth year (a person), not a car's age
BIRTH_YEAR = re.compile(r"(?:^|[\s，,。我])(?P<y>(?:19)?[5-9]\d)\s?(?:年(?:的|生|出生)(?!\s?(?:车|款|的车))|后(?=[\s，,。]|$))")
# "退休了 60了", "今年45", "我都52了": the customer's age said without 岁
AGE_SAID = re.compile(r"(?:退休了?|今年|我都|我已经|我)\s?(?P<age>[1-9]\d)\s?(?:岁|了|周岁)?(?=[\s，,。]|$)(?!\s?(?:万|年|期|个月|w|k))")
# "想买台suv 15万上下": an approximate figure for a car not yet chosen is a budget, not a car's price
APPROX_AFTER = re.compile(r"\s?(?:上下|左右|以内|之内|出头|以下)")
# "一个月大概8 9千", "月入八九千", "工资6到7千": an income said as a range (the lower end is the one relied on)
INCOME_RANGE = re.compile(
    r"(?P<cue>月入|月薪|到手|税后|收入|工资|一个月|每月|每个月)(?:一个月|每个月|每月)?"
    r"(?:大概|差不多|有|能有|能拿|拿|挣|赚|也就|就|在)?\s?(?P<a>\d|[一二两三四五六七八九])\s?(?P<sep>、|到|至|-|~|～)?\s?"
    r"(?P<b>\d|[一二三四五六七八九])\s?(?P<unit>千|万|k|w)")
EN_PRINCIPAL = re.compile(r"(?:payments?|monthly|installments?)\s+(?:on|for)\s+(?:a\s+|an\s+)?(?P<amount>(?>\d+(?:\.\d+)?\s?(?:k|w|万|yuan|rmb)?))"
                          r"(?!\s*(?:car|vehicle|suv|sedan))")
# "那一千五呢", "要是5万的话呢", "what about 2500?": the same question with another amount.
WHAT_ABOUT = re.compile(r"^\s*(?:那|那要是|要是|如果|那如果)?\s*[\d一二两三四五六七八九十百千万点半.]+\s?(?:万|千|k|w|元|块)?\s?(?:的话)?\s?"
                        r"(?:呢|怎么样|行吗|行不|可以吗|可以不)[？?]?\s*$|^\s*(?:what|how) about\s+\d")
# "算了", "forget that", "换个话题": what follows is a new goal, not an edit of the one in hand.
TOPIC_RESET = re.compile(r"算了|不算了|先不(?:买|算|看)了|换个话题|另外一个事|forget (?:that|it|about)|never mind|"
                         r"let'?s (?:look at|talk about) something else")
# A search for a second car or for someone else ("先给她看个小电车", "also something for my daughter"):
# the earlier car's own preferences (an MPV, a down payment) do not carry over.
ANOTHER_CAR = re.compile(r"(?:先|再|也)?(?:给|帮|替)(?:她|他|我?(?:老婆|媳妇|老公|孩子|闺女|女儿|儿子|爸|妈|父母|家里|老人))(?:也)?(?:再)?(?:看|挑|选|买|整|弄)|"
                         r"另外(?:再)?(?:看|买)?(?:一|个)?(?:台|辆)|再(?:看|买)(?:一|个)(?:台|辆)|第二台|"
                         r"\b(?:for|to) my (?:wife|husband|daughter|son|kid|mom|mum|dad|parents)\b|\b(?:another|second) car\b")
POLICY_TOPIC = re.compile(r"担保人|担保|保证人|共同借款人|扣款|还款日|扣款日|换卡|还款账户|车龄|年限|里程(?:数)?(?:有)?(?:要求|限制)|最长(?:能)?(?:分|贷)|最低首付|首付最低|有(?:什么|啥)?要求|违约金|提前还|等额本金|等额本息|哪个划算|材料|证件|资料|手续|保险|gps|征信|解押|抵押登记|费用|手续费|服务费|"
                          r"投诉|审批(?:要)?多久|放款|多久|到账|区别|什么意思|过户|转让|卖车|penalt|early repay|documents?|insurance|"
                          r"credit report|fees?|difference|flat rate|real (?:annual )?rate|apr\b")
ANNUAL_INCOME = re.compile(r"年收入|年薪|年入|(?:一年|每年|一整年)(?:下来|到头|算下来|总共|加起来)?\s?"
                           r"(?:(?:大概|差不多|也就|就|才|总共|能有|得有)\s?(?:能)?(?:挣|赚|收入|到手|落|拿)?(?:个)?|"
                           r"(?:能)?(?:挣|赚|收入|到手|落|拿|有)(?:个)?)|annual (?:income|salary)|a year salary|per year|a year")
ZERO_DOWN = re.compile(r"零首付|0首付|不付首付|不要首付|免首付|no down ?payment|zero down")
# "月供多少都行", "monthly doesn't matter": the cap said before no longer holds
NO_CAP = re.compile(r"月供(?:多少|多点|高点)?(?:都行|都可以|无所谓|不限|不重要|没关系|随便)|不限月供|"
                    r"(?:monthly|payment)s? (?:doesn'?t|does not) matter|any monthly|no (?:monthly )?cap")
CAP_FOLLOW_UP = re.compile(r"keep it (?:under|below)|make it\s|(?:under|below|at most|max)\s|压到|压在|控制在|不超过|别超过|最多|"
                           r"放宽到|放到|提到|提高到|调到|加到|raise it to|up to")
BUY_CUE = re.compile(r"买(?:个|台|辆|部|车|一台|一辆)|推荐|看看(?:有)?(?:什么|啥)?车|换(?:个|台|辆)车|"
                     r"want (?:a|another|a second) (?:car|suv|sedan|mpv)|looking for|show me|recommend|suggest|what could i get|"
                     r"what can i get|options|finance an? |afford an? ")
VALUE_QUESTION = re.compile(r"值多少钱|能值多少|估(?:个)?价|估值|卖多少钱|what'?s (?:it|my car) worth|how much is (?:it|my car) worth")
WORKING = re.compile(r"上班|工作|打工|做生意|跑车|跑网约车|开店|厂里|公司")

# ------------------------------------------------------------------ negations ("不要插混的了")
NEGATIVE_AFTER = re.compile(r"[^，。,.!?！？\s]{0,6}?(?:焦虑|担心|不放心|不方便|不好|不行|不要了?|不考虑|太贵|麻烦|毛病多|不喜欢|不靠谱|唔要|唔好|唔想要|"
                            r"not for me)")
NEGATION = re.compile(r"(?:唔要|唔想要|不要|不想要|不想|不考虑|不喜欢|不买|不看|别|不用|算了|排除|除了|不是|no\s|not\s|don'?t want|"
                      r"don'?t like|without|except|rather not|skip|scrap|ditch|drop|forget(?: about)?|no more|nix)"
                      r"\s?(?:the\s|a\s|an\s|any\s)?$")

# ------------------------------------------------------------------ the applicant profile
PROFILE_CUES: tuple[tuple[str, object, re.Pattern[str]], ...] = (
    ("employment_type", "self_employed", re.compile(
        r"做(?:点|个)?(?:小)?生意|个体户?|开(?:了)?(?:个|家)?[^，。\s]{0,4}?(?:店|公司|厂|超市|餐馆|饭馆|小卖部|档口|摊|驿站|工作室|门市|诊所|铺子?|作坊|民宿|农家乐)|自己开|当老板|我是老板|生意人|自营|"
        r"self[- ]employed|own (?:a |my )?business|run (?:a |my )?(?:shop|business|restaurant)")),
    ("employment_type", "freelance", re.compile(
        r"跑网约车|网约车司机|开网约车|开出租|跑出租|出租车司机|的哥|跑滴滴|开滴滴|滴滴司机|跑外卖|送外卖|外卖员|骑手|自由职业|跑货拉拉|代驾|跑车的|"
        r"freelanc|gig work|uber driver|didi driver|ride-?hailing|delivery rider")),
    ("employment_type", "part_time", re.compile(r"兼职|打零工|part[- ]time")),
    ("employment_type", "fixed", re.compile(
        r"上班族|在[^，。\s]{1,8}(?:上班|工作)(?!室)|(?:医院|学校|银行|公司|单位|厂|矿|局|政府|机关)(?:上班|工作)|公务员|事业单位|国企|央企|"
        r"正式员工|正式工|有固定工作|朝九晚五|老师|教师|医生|护士|警察|职员|工程师|会计|"
        r"salaried|full[- ]time (?:job|employee)|work (?:at|for) an? (?:company|firm)|"
        r"office job|civil servant")),
    ("home_status", "owner", re.compile(
        r"自己有房|有(?:一)?套.{0,2}房|有房子?(?!贷)|名下有房|房子是自己的|自己的房子|自有住房|买了房|有房产|全款房|"
        r"own (?:a |my )?(?:home|house|flat|apartment)|homeowner")),
    ("home_status", "rent", re.compile(r"租房|租的房|租房子|(?<!出)租的|i rent|renting|rented (?:flat|apartment)")),
    ("home_status", "parents", re.compile(r"(?:跟|和)(?:我)?(?:父母|爸妈|家里人)(?:一起|一块|一块儿)?住|住(?:在)?(?:父母|爸妈)家|live with (?:my )?parents")),
    ("has_delinquency", False, re.compile(
        r"(?:没|没有|从没|从未|从来没)(?:有)?(?:过)?逾期|征信.{0,3}(?:良好|很好|没问题|没啥问题|没什么问题|干净|挺好|不错|ok)|"
        r"no (?:late|missed) payments|never (?:missed|late)|clean credit|good credit")),
    ("has_delinquency", True, re.compile(
        r"(?<![没未])逾期过|有过逾期|逾期了?(?:一|两|几|1|2)次|(?:信用卡|花呗|网贷|贷款).{0,4}逾期|征信(?:上)?有.{0,4}(?:逾期|污点|问题)|"
        r"有逾期记录|征信(?:不好|花了|有点花|黑了)|黑户|missed (?:a |some )?payments?|late payments?|was late|"
        r"(?:bad|poor) credit")),
    ("income_in_cash", True, re.compile(r"工资(?:是)?(?:发|给|领)?现金|现金(?:发|结)(?:工资|薪)?|收入(?:都是|是)现金|发现金|"
                                        r"paid in cash|cash wages|cash income")),
    ("marital_status", "married", re.compile(r"已婚|结婚了|有老婆|有老公|married")),
    ("marital_status", "single", re.compile(r"单身|未婚|\bsingle\b")),
)

# ------------------------------------------------------------------ questions and assessment
# A run of real words (two or more Chinese characters that are not laughter, or an English word): a
# message without one ("？？？ｓｄｆｇ哈哈哈1111") is keyboard noise.
WORDS = re.compile(r"(?:(?![哈呵嘿啊嗯哦噢额呃唉])[\u4e00-\u9fff]){2,}|\b(?!(?:lol|lmao|rofl|omg|haha\w*|hehe\w*|hmm+|xd)\b)(?![a-z]*(?:sdf|asd|qwe|zxc|jj|kk))(?!([a-z])\1+\b)(?=[a-z]*[aeiouy])[a-z]{3,}\b")
QUESTION_CUE = re.compile(r"吗|多久|多长时间|(?<![那这怎什多])么|(能|会|要|是|有|行|好|大|够|对|贵|高|多|长|快)不\1|去哪|哪里|哪儿|有.{1,8}没$|(?:没|不)$|嘛|呢|怎么|怎样|如何|多少|几|哪些|哪个|哪种|什么|啥|咋|能不能|能否|可不可以|可以不|"
                          r"要不要|会不会|是否|有没有|是不是|行不行|\?|？|^(?:how|what|whats|what's|can|could|do|does|is|are|will|"
                          r"should|which|why|when|if)\b|\b(?:how|what|can i|do i|is there|are there|will it)\b")
ASSESS_REQUEST = re.compile(
    r"评估|预审|测一下|测测|审核一下|帮我(?:看看|查查|算算|查一下|看一下)?(?:能不能|能否|可不可以|够不够|能)(?:贷|批|办|过)|"
    r"看看我(?:能|可以|够)|我(?:这种|这样|这个)?(?:情况)?(?:能|可以|能不能)(?:贷|批|办)(?:下来|到)?(?:吗|多少)?|"
    r"(?:像我这样|像我这种|我这样|我这种|这样|这种情况|这情况|这个情况)(?:的)?(?:的话)?\s?(?:还|也)?(?:能|可以|能不能)(?:贷|批|办)(?:得)?(?:下来|到|款)|"
    r"能批吗|能批不|能不能批|批得下来|批不批|能过不|能不能过|额度(?:有)?多少|\bassess|pre-?assess|pre-?(?:check|screen|qualif)|check (?:if|whether) i|am i eligible|"
    r"would i qualify|do i qualify|(?:would|will|could) i (?:get|be) (?:approved|accepted|a loan)|can i (?:get|be) (?:a loan|approved|qualified)(?!\s+(?:on|for)\s+(?:a|an|the)\s)|my chances")
EXPLICIT_ASSESS = re.compile(r"(?<!不用)(?<!不要)(?:评估|预审)(?:一下|下|看看)?(?:吧|呗)?|\bassess (?:me|my)|pre-?assess(?:ment)?|"
                             r"pre-?(?:check|screen(?:ing)?|qualif(?:y|ication))|(?:do|run) (?:the|a|my) (?:credit )?check|"
                             r"check (?:if|whether) i(?:'d| would)? (?:qualify|am eligible|get approved)|"
                             r"(?:我|我这|我这种|我这样)[^，。？?]{0,6}(?:能|可以|能不能)(?:过|批)(?:吗|不|么)?|"
                             r"(?:帮我)?看看(?:我)?能不能(?:批|过|贷下来)|能不能批下来|批得下来(?:吗|不)")
PERSONAL = re.compile(r"我|本人|\bi\b|\bmy\b|\bme\b")
OWNERSHIP = re.compile(r"我(?:有|的|家)|我(?:现在|目前)?(?:这|那)(?:台|辆)|押一下|押车|抵押我|自己的车|名下|\bmy car\b|\bi have a\b|\bi own\b")
AFFIRM = re.compile(r"^\s*(?:嗯+|好+的?|好吧|行+|可以|中|得|要得|阔以|(?<!不)同意|我同意|没问题|是的?|对+|确认|ok|okay|yes|yep|yeah|sure|"
                    r"go ahead|agree|i agree|fine|alright|do it|let'?s do it|来吧|开始吧?|评估(?:一下)?吧?|那就评估|"
                    r"那评估|帮我评估|授权|允许)")
AFFIRM_ANYWHERE = re.compile(r"(?<!不)同意|可以评估|评估吧|评估一下|go ahead|i agree|agreed|ok(?:ay)?,? go|yes,? please|授权")
DENY = re.compile(r"不同意|不要|不用|算了|不行|拒绝|先不|暂时不|不想|不愿意|\bno\b|nope|not now|don'?t|do not|rather not")
CORRECTION = re.compile(r"不对|搞错|说错|写错|打错|改成|改为|换成|改一下|更正|不是.{1,12}是|actually|change (?:it )?to|i meant|"
                        r"sorry,? (?:it'?s|i meant)|typo")
# "我的申请到哪一步了", "审核进度怎么样", "where is my application": the status of an application already made
APPLICATION_STATUS = re.compile(
    r"申请(?:单)?(?:现在)?(?:到|走到|进行到|办到)?(?:了)?(?:哪一步|哪步|哪了|什么进度|什么状态|进度|状态|结果出来|有结果)|"
    r"(?:审核|审批|贷款|车贷)(?:现在)?(?:到哪|到了哪|进度|结果出来|怎么样了|有结果)|批(?:下来|了)没(?:有)?|"
    r"(?:status|progress) of my (?:loan )?application|(?:my|the) application(?:'s)? (?:status|progress)|"
    r"where(?:'s| is) my (?:loan )?application|(?:has|was) my (?:loan )?application (?:been )?(?:approved|processed)")
SUMMARY_REQUEST = re.compile(r"(?:刚才|之前|目前|到目前为止).{0,6}(?:说|聊|确认|记录)了?(?:什么|哪些|啥)|总结一下|我们聊到哪|"
                             r"what did we (?:say|agree|discuss)|summari[sz]e", re.I)
