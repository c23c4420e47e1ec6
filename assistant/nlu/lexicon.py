"""Closed vocabularies the slot extractor looks up: car brands, cities, and the enum phrasings.

These are gazetteers of the world (brands sold in China, prefecture-level cities), not lists of
phrases from the labelled set. Brands are reported "as said" (比亚迪 / BYD / Tesla); cities as
the Chinese name without 市 (Shenzhen → 深圳).
"""

from __future__ import annotations

#: brand names as customers write them; joint-venture names (一汽大众, 北京现代) are whole brands so
#: that 北京 inside 北京现代 is not taken for a city.
BRANDS: tuple[str, ...] = (
    # Chinese makers
    "比亚迪", "吉利", "吉利银河", "长安", "长安深蓝", "深蓝", "长城", "哈弗", "坦克", "魏牌", "欧拉", "奇瑞", "星途",
    "捷途", "红旗", "五菱", "宝骏", "荣威", "名爵", "上汽大通", "大通", "领克", "极氪", "蔚来", "小鹏", "理想",
    "问界", "小米", "零跑", "埃安", "广汽埃安", "传祺", "广汽传祺", "哪吒", "岚图", "腾势", "方程豹", "仰望", "智己",
    "飞凡", "阿维塔", "极狐", "北汽", "东风", "东风风神", "风神", "启辰", "江淮", "思皓", "江铃", "中华", "一汽",
    "奔腾", "海马", "凯翼", "睿蓝", "宝腾", "享界", "智界", "极越", "昊铂", "iCAR", "捷达", "欧尚", "别克", "雪佛兰",
    # joint ventures / imports
    "一汽大众", "上汽大众", "大众", "一汽丰田", "广汽丰田", "丰田", "广汽本田", "东风本田", "本田", "东风日产", "日产",
    "北京现代", "现代", "起亚", "马自达", "长安马自达", "三菱", "斯巴鲁", "铃木", "斯柯达", "标致", "雪铁龙", "福特",
    "长安福特", "林肯", "凯迪拉克", "上汽通用", "奔驰", "梅赛德斯", "宝马", "华晨宝马", "奥迪", "保时捷", "路虎",
    "捷豹", "沃尔沃", "雷克萨斯", "英菲尼迪", "讴歌", "特斯拉", "Jeep", "吉普", "MINI", "Smart", "法拉利",
    "兰博基尼", "玛莎拉蒂", "宾利", "劳斯莱斯", "阿斯顿马丁", "雷诺", "菲亚特", "道奇",
    # Latin-script names
    "BYD", "Geely", "Changan", "Great Wall", "Haval", "Chery", "Hongqi", "Wuling", "Roewe", "MG", "Lynk & Co",
    "Lynk", "Zeekr", "NIO", "XPeng", "Xpeng", "Li Auto", "AITO", "Xiaomi", "Leapmotor", "Aion", "GAC", "Trumpchi",
    "Neta", "Denza", "Volkswagen", "VW", "Toyota", "Honda", "Nissan", "Hyundai", "Kia", "Mazda", "Mitsubishi",
    "Subaru", "Suzuki", "Skoda", "Peugeot", "Citroen", "Ford", "Lincoln", "Cadillac", "Buick", "Chevrolet", "Chevy",
    "Mercedes-Benz", "Mercedes", "Benz", "BMW", "Audi", "Porsche", "Land Rover", "Range Rover", "Jaguar", "Volvo",
    "Lexus", "Infiniti", "Acura", "Tesla", "Ferrari", "Lamborghini", "Maserati", "Bentley", "Rolls-Royce", "Renault",
    "Fiat", "Dodge", "Tank", "Wey", "Ora", "Jetour", "Exeed", "Voyah", "Deepal", "IM Motors", "Rising Auto",
)

#: brands that are also ordinary words; taken only when used as a name (see slots._brand_ok)
AMBIGUOUS_BRANDS = frozenset({"理想", "坦克", "中华", "小米", "风神", "奔腾", "海马", "深蓝", "仰望", "一汽", "东风"})

#: Latin-script brands that are also English words: matched only with this exact capitalisation
CASE_SENSITIVE_BRANDS = frozenset({"Smart", "MINI", "Tank", "Ora", "Wey", "Aion", "Neta", "Lynk", "GAC", "MG"})

#: the municipalities and prefecture-level cities (plus a few county-level cities people name as home)
CITIES: tuple[str, ...] = (
    "北京", "上海", "天津", "重庆", "石家庄", "唐山", "秦皇岛", "邯郸", "邢台", "保定", "张家口", "承德", "沧州",
    "廊坊", "衡水", "太原", "大同", "阳泉", "长治", "晋城", "朔州", "晋中", "运城", "忻州", "临汾", "吕梁",
    "呼和浩特", "包头", "乌海", "赤峰", "通辽", "鄂尔多斯", "呼伦贝尔", "巴彦淖尔", "乌兰察布", "沈阳", "大连",
    "鞍山", "抚顺", "本溪", "丹东", "锦州", "营口", "阜新", "辽阳", "盘锦", "铁岭", "朝阳", "葫芦岛", "长春",
    "吉林", "四平", "辽源", "通化", "白山", "松原", "白城", "延边", "延吉", "哈尔滨", "齐齐哈尔", "鸡西", "鹤岗",
    "双鸭山", "大庆", "伊春", "佳木斯", "七台河", "牡丹江", "黑河", "绥化", "南京", "无锡", "徐州", "常州", "苏州",
    "南通", "连云港", "淮安", "盐城", "扬州", "镇江", "泰州", "宿迁", "昆山", "江阴", "常熟", "张家港", "杭州",
    "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水", "义乌", "合肥", "芜湖", "蚌埠",
    "淮南", "马鞍山", "淮北", "铜陵", "安庆", "黄山", "滁州", "阜阳", "宿州", "六安", "亳州", "池州", "宣城",
    "福州", "厦门", "莆田", "三明", "泉州", "漳州", "南平", "龙岩", "宁德", "晋江", "南昌", "景德镇", "萍乡",
    "九江", "新余", "鹰潭", "赣州", "吉安", "宜春", "抚州", "上饶", "济南", "青岛", "淄博", "枣庄", "东营", "烟台",
    "潍坊", "济宁", "泰安", "威海", "日照", "临沂", "德州", "聊城", "滨州", "菏泽", "郑州", "开封", "洛阳",
    "平顶山", "安阳", "鹤壁", "新乡", "焦作", "濮阳", "许昌", "漯河", "三门峡", "南阳", "商丘", "信阳", "周口",
    "驻马店", "济源", "武汉", "黄石", "十堰", "宜昌", "襄阳", "鄂州", "荆门", "孝感", "荆州", "黄冈", "咸宁",
    "随州", "恩施", "长沙", "株洲", "湘潭", "衡阳", "邵阳", "岳阳", "常德", "张家界", "益阳", "郴州", "永州",
    "怀化", "娄底", "吉首", "广州", "韶关", "深圳", "珠海", "汕头", "佛山", "江门", "湛江", "茂名", "肇庆", "惠州",
    "梅州", "汕尾", "河源", "阳江", "清远", "东莞", "中山", "潮州", "揭阳", "云浮", "南宁", "柳州", "桂林", "梧州",
    "北海", "防城港", "钦州", "贵港", "玉林", "百色", "贺州", "河池", "来宾", "崇左", "海口", "三亚", "三沙",
    "儋州", "成都", "自贡", "攀枝花", "泸州", "德阳", "绵阳", "广元", "遂宁", "内江", "乐山", "南充", "眉山",
    "宜宾", "广安", "达州", "雅安", "巴中", "资阳", "西昌", "贵阳", "六盘水", "遵义", "安顺", "毕节", "铜仁",
    "凯里", "都匀", "昆明", "曲靖", "玉溪", "保山", "昭通", "丽江", "普洱", "临沧", "大理", "西双版纳", "景洪",
    "楚雄", "蒙自", "个旧", "拉萨", "日喀则", "昌都", "林芝", "山南", "那曲", "西安", "铜川", "宝鸡", "咸阳",
    "渭南", "延安", "汉中", "榆林", "安康", "商洛", "兰州", "嘉峪关", "金昌", "白银", "天水", "武威", "张掖",
    "平凉", "酒泉", "庆阳", "定西", "陇南", "西宁", "海东", "格尔木", "银川", "石嘴山", "吴忠", "固原", "中卫",
    "乌鲁木齐", "克拉玛依", "吐鲁番", "哈密", "昌吉", "库尔勒", "阿克苏", "喀什", "伊宁", "石河子", "香港", "澳门",
)

#: city names that are also common words or parts of them; need a place context (在X / X的 / X市 …)
AMBIGUOUS_CITIES = frozenset({"朝阳", "吉林", "白山", "中山", "大同", "新乡", "安康", "永州", "黄山", "吉安", "北海",
                              "海东", "山南", "三明", "日照", "来宾", "大理", "普洱", "玉林", "本溪", "个旧", "安顺",
                              "长治", "定西", "黑河", "白银", "金华", "常德", "承德", "通化", "信阳", "大庆", "三沙",
                              "平凉", "内江", "眉山", "百色", "丽水", "河源", "云浮", "梅州"})

#: romanised names of the larger cities (the ones an English-writing customer would name)
CITY_ROMAN: dict[str, str] = {
    "beijing": "北京", "peking": "北京", "shanghai": "上海", "tianjin": "天津", "chongqing": "重庆",
    "guangzhou": "广州", "canton": "广州", "shenzhen": "深圳", "hangzhou": "杭州", "chengdu": "成都",
    "wuhan": "武汉", "xi'an": "西安", "xian": "西安", "nanjing": "南京", "suzhou": "苏州", "changsha": "长沙",
    "zhengzhou": "郑州", "qingdao": "青岛", "dongguan": "东莞", "foshan": "佛山", "ningbo": "宁波",
    "xiamen": "厦门", "hefei": "合肥", "jinan": "济南", "shenyang": "沈阳", "dalian": "大连", "kunming": "昆明",
    "fuzhou": "福州", "harbin": "哈尔滨", "changchun": "长春", "shijiazhuang": "石家庄", "taiyuan": "太原",
    "nanning": "南宁", "nanchang": "南昌", "guiyang": "贵阳", "lanzhou": "兰州", "urumqi": "乌鲁木齐",
    "hohhot": "呼和浩特", "haikou": "海口", "sanya": "三亚", "wuxi": "无锡", "xining": "西宁", "yinchuan": "银川",
    "lhasa": "拉萨", "zhuhai": "珠海", "wenzhou": "温州", "changzhou": "常州", "nantong": "南通",
    "xuzhou": "徐州", "yantai": "烟台", "weifang": "潍坊", "tangshan": "唐山", "baoding": "保定",
    "huizhou": "惠州", "zhongshan": "中山", "shantou": "汕头", "jiaxing": "嘉兴", "shaoxing": "绍兴",
    "jinhua": "金华", "taizhou": "台州", "luoyang": "洛阳", "yichang": "宜昌", "xiangyang": "襄阳",
    "guilin": "桂林", "liuzhou": "柳州", "mianyang": "绵阳", "zunyi": "遵义", "baotou": "包头", "ordos": "鄂尔多斯",
    "daqing": "大庆", "jilin": "吉林", "yangzhou": "扬州", "zhenjiang": "镇江", "kunshan": "昆山", "yiwu": "义乌",
    "hong kong": "香港", "macau": "澳门", "macao": "澳门",
}
