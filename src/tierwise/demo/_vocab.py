"""Static vocabularies for the demo generator: names, places, products, texts.

Everything here is data; weights are relative, not probabilities. Every string that can land in
the GB18030 interactions file (rep names, interaction notes) is GBK-encodable.
"""

from __future__ import annotations

# fmt: off

# --- people ------------------------------------------------------------------------------------

# (surname, pinyin, weight): the most common surnames, weighted roughly by frequency.
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.2), ("李", "li", 7.0), ("张", "zhang", 6.8), ("刘", "liu", 5.4),
    ("陈", "chen", 4.6), ("杨", "yang", 3.1), ("黄", "huang", 2.4), ("赵", "zhao", 2.3),
    ("吴", "wu", 2.0), ("周", "zhou", 1.9), ("徐", "xu", 1.7), ("孙", "sun", 1.5),
    ("马", "ma", 1.5), ("朱", "zhu", 1.4), ("胡", "hu", 1.3), ("郭", "guo", 1.2),
    ("何", "he", 1.2), ("高", "gao", 1.1), ("林", "lin", 1.1), ("罗", "luo", 1.0),
    ("郑", "zheng", 1.0), ("梁", "liang", 0.9), ("谢", "xie", 0.8), ("宋", "song", 0.8),
    ("唐", "tang", 0.8), ("许", "xu", 0.7), ("韩", "han", 0.7), ("冯", "feng", 0.7),
    ("邓", "deng", 0.7), ("曹", "cao", 0.7), ("彭", "peng", 0.6), ("曾", "zeng", 0.6),
    ("肖", "xiao", 0.6), ("田", "tian", 0.5), ("董", "dong", 0.5), ("袁", "yuan", 0.5),
    ("潘", "pan", 0.5), ("于", "yu", 0.5), ("蒋", "jiang", 0.5), ("蔡", "cai", 0.5),
    ("余", "yu", 0.5), ("杜", "du", 0.5), ("叶", "ye", 0.5), ("程", "cheng", 0.5),
    ("苏", "su", 0.4), ("魏", "wei", 0.4), ("吕", "lv", 0.4), ("丁", "ding", 0.4),
    ("任", "ren", 0.4), ("沈", "shen", 0.4), ("姚", "yao", 0.4), ("卢", "lu", 0.4),
    ("姜", "jiang", 0.4), ("崔", "cui", 0.4), ("钟", "zhong", 0.4), ("谭", "tan", 0.3),
    ("陆", "lu", 0.3), ("汪", "wang", 0.3), ("范", "fan", 0.3), ("金", "jin", 0.3),
    ("石", "shi", 0.3), ("廖", "liao", 0.3), ("贾", "jia", 0.3), ("夏", "xia", 0.3),
    ("韦", "wei", 0.3), ("方", "fang", 0.3), ("白", "bai", 0.3), ("邹", "zou", 0.3),
    ("孟", "meng", 0.3), ("熊", "xiong", 0.3), ("秦", "qin", 0.3), ("邱", "qiu", 0.3),
    ("江", "jiang", 0.3), ("尹", "yin", 0.2), ("薛", "xue", 0.2), ("段", "duan", 0.2),
    ("雷", "lei", 0.2), ("侯", "hou", 0.2), ("龙", "long", 0.2), ("史", "shi", 0.2),
    ("陶", "tao", 0.2), ("黎", "li", 0.2), ("贺", "he", 0.2), ("顾", "gu", 0.2),
    ("毛", "mao", 0.2), ("郝", "hao", 0.2), ("龚", "gong", 0.2), ("邵", "shao", 0.2),
    ("万", "wan", 0.2), ("钱", "qian", 0.2), ("严", "yan", 0.2), ("武", "wu", 0.2),
    ("戴", "dai", 0.2), ("孔", "kong", 0.1), ("欧阳", "ouyang", 0.1), ("上官", "shangguan", 0.02),
)

# (given name, pinyin, weight)
GIVEN_MALE: tuple[tuple[str, str, float], ...] = (
    ("伟", "wei", 3.0), ("强", "qiang", 2.0), ("磊", "lei", 2.0), ("军", "jun", 1.8),
    ("洋", "yang", 1.8), ("勇", "yong", 1.6), ("杰", "jie", 1.6), ("涛", "tao", 1.5),
    ("明", "ming", 1.4), ("超", "chao", 1.4), ("刚", "gang", 1.2), ("平", "ping", 1.0),
    ("辉", "hui", 1.0), ("鹏", "peng", 1.0), ("斌", "bin", 0.9), ("建华", "jianhua", 0.8),
    ("志强", "zhiqiang", 0.8), ("俊杰", "junjie", 0.8), ("浩然", "haoran", 0.7),
    ("宇轩", "yuxuan", 0.7), ("子豪", "zihao", 0.6), ("思远", "siyuan", 0.6),
    ("晓东", "xiaodong", 0.6), ("文博", "wenbo", 0.6), ("建国", "jianguo", 0.5),
    ("海波", "haibo", 0.5), ("国强", "guoqiang", 0.5), ("一鸣", "yiming", 0.5),
    ("子轩", "zixuan", 0.5), ("博文", "bowen", 0.5), ("天宇", "tianyu", 0.4), ("凯", "kai", 0.6),
    ("亮", "liang", 0.6), ("健", "jian", 0.6), ("帅", "shuai", 0.5), ("宁", "ning", 0.4),
)
GIVEN_FEMALE: tuple[tuple[str, str, float], ...] = (
    ("芳", "fang", 3.0), ("娜", "na", 2.6), ("敏", "min", 2.2), ("静", "jing", 2.2),
    ("丽", "li", 2.0), ("艳", "yan", 1.8), ("娟", "juan", 1.5), ("霞", "xia", 1.3),
    ("秀英", "xiuying", 1.2), ("桂英", "guiying", 0.8), ("婷", "ting", 1.3), ("玉兰", "yulan", 0.7),
    ("丹", "dan", 1.0), ("倩", "qian", 1.0), ("琳", "lin", 0.9), ("慧", "hui", 0.9),
    ("欣怡", "xinyi", 0.9), ("梓涵", "zihan", 0.8), ("雨桐", "yutong", 0.7), ("佳怡", "jiayi", 0.7),
    ("一诺", "yinuo", 0.6), ("思琪", "siqi", 0.6), ("海燕", "haiyan", 0.6), ("晓红", "xiaohong", 0.5),
    ("雪", "xue", 0.8), ("颖", "ying", 0.7), ("佳琪", "jiaqi", 0.5), ("梦瑶", "mengyao", 0.5),
    ("诗涵", "shihan", 0.5), ("晨", "chen", 0.5), ("萍", "ping", 0.6), ("红梅", "hongmei", 0.5),
    ("春燕", "chunyan", 0.4), ("美玲", "meiling", 0.4), ("若曦", "ruoxi", 0.3), ("悦", "yue", 0.5),
)

EN_FIRST_MALE: tuple[str, ...] = (
    "John", "James", "Michael", "David", "Robert", "William", "Daniel", "Thomas", "Chris",
    "Mark", "Paul", "Kevin", "Brian", "Jason", "Ryan", "Andrew", "Peter", "Lukas", "Felix",
    "Hiroshi", "Kenji", "Haruto", "Wei Ming", "Jun Hao",
)
EN_FIRST_FEMALE: tuple[str, ...] = (
    "Mary", "Jennifer", "Linda", "Sarah", "Emma", "Olivia", "Sophie", "Anna", "Laura", "Emily",
    "Jessica", "Rachel", "Hannah", "Lena", "Mia", "Yuki", "Sakura", "Aiko", "Hui Min", "Mei Ling",
)
# last names by country group: 0 = anglophone, 1 = German, 2 = Japanese, 3 = Singaporean
EN_LAST: tuple[tuple[str, ...], ...] = (
    ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
     "Anderson", "Thomas", "Moore", "Martin", "Walker", "Clark", "Lewis", "Young", "King",
     "Wright", "Hill", "Green", "Baker", "Evans", "Turner", "Lee"),
    ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
     "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf"),
    ("Tanaka", "Suzuki", "Sato", "Takahashi", "Watanabe", "Ito", "Yamamoto", "Nakamura",
     "Kobayashi", "Kato"),
    ("Tan", "Lim", "Lee", "Ng", "Wong", "Goh", "Chua", "Chan", "Koh", "Teo", "Ong"),
)

# --- places ------------------------------------------------------------------------------------

# (province, city, city pinyin, weight) for China; weights roughly follow e-commerce volume.
CN_CITIES: tuple[tuple[str, str, str, float], ...] = (
    ("广东", "深圳", "shenzhen", 6.0), ("广东", "广州", "guangzhou", 5.5), ("广东", "东莞", "dongguan", 2.5),
    ("广东", "佛山", "foshan", 2.2), ("浙江", "杭州", "hangzhou", 5.0), ("浙江", "宁波", "ningbo", 2.5),
    ("浙江", "温州", "wenzhou", 1.8), ("江苏", "苏州", "suzhou", 4.0), ("江苏", "南京", "nanjing", 3.2),
    ("江苏", "无锡", "wuxi", 1.8), ("上海", "上海", "shanghai", 7.0), ("北京", "北京", "beijing", 6.5),
    ("山东", "青岛", "qingdao", 2.2), ("山东", "济南", "jinan", 1.8), ("四川", "成都", "chengdu", 4.0),
    ("湖北", "武汉", "wuhan", 3.2), ("福建", "厦门", "xiamen", 1.8), ("福建", "福州", "fuzhou", 1.6),
    ("河南", "郑州", "zhengzhou", 2.6), ("湖南", "长沙", "changsha", 2.6), ("天津", "天津", "tianjin", 2.4),
    ("重庆", "重庆", "chongqing", 3.0), ("陕西", "西安", "xian", 2.6), ("安徽", "合肥", "hefei", 2.0),
    ("辽宁", "沈阳", "shenyang", 1.5), ("辽宁", "大连", "dalian", 1.3), ("河北", "石家庄", "shijiazhuang", 1.3),
    ("云南", "昆明", "kunming", 1.2), ("广西", "南宁", "nanning", 1.0), ("江西", "南昌", "nanchang", 1.1),
    ("黑龙江", "哈尔滨", "haerbin", 1.0), ("吉林", "长春", "changchun", 0.8), ("山西", "太原", "taiyuan", 0.8),
    ("贵州", "贵阳", "guiyang", 0.8), ("海南", "海口", "haikou", 0.5), ("新疆", "乌鲁木齐", "wulumuqi", 0.4),
    ("内蒙古", "呼和浩特", "huhehaote", 0.3), ("甘肃", "兰州", "lanzhou", 0.4),
)
# municipalities: their "province" is the city itself (a "市" suffix would be wrong there)
MUNICIPALITIES: frozenset[str] = frozenset({"上海", "北京", "天津", "重庆"})

# (country as written in a Chinese CRM, ISO code, weight, ((province/state, city), ...))
FOREIGN: tuple[tuple[str, str, float, tuple[tuple[str, str], ...]], ...] = (
    ("美国", "US", 3.0, (("California", "San Francisco"), ("California", "Los Angeles"),
                        ("New York", "New York"), ("Texas", "Houston"), ("Washington", "Seattle"),
                        ("Illinois", "Chicago"))),
    ("英国", "GB", 1.2, (("England", "London"), ("England", "Manchester"), ("Scotland", "Edinburgh"))),
    ("德国", "DE", 1.5, (("Bayern", "München"), ("Berlin", "Berlin"), ("Hamburg", "Hamburg"),
                        ("Hessen", "Frankfurt am Main"))),
    ("日本", "JP", 1.2, (("Tokyo", "Tokyo"), ("Osaka", "Osaka"), ("Kanagawa", "Yokohama"))),
    ("新加坡", "SG", 1.2, (("", "Singapore"),)),
    ("澳大利亚", "AU", 1.0, (("New South Wales", "Sydney"), ("Victoria", "Melbourne"))),
    ("加拿大", "CA", 0.9, (("Ontario", "Toronto"), ("British Columbia", "Vancouver"))),
)
# last-name group per foreign country (index into EN_LAST)
FOREIGN_NAME_GROUP: dict[str, int] = {"US": 0, "GB": 0, "DE": 1, "JP": 2, "SG": 3, "AU": 0, "CA": 0}
# (calling code, format kind) per foreign country; see _customers._foreign_phone
FOREIGN_PHONE: dict[str, str] = {
    "US": "+1", "GB": "+44", "DE": "+49", "JP": "+81", "SG": "+65", "AU": "+61", "CA": "+1",
}
# spellings of 中国 seen in real exports (the first one is the usual one)
CHINA_VARIANTS: tuple[str, ...] = ("中国", "China", "中国大陆", "CN")

# valid mainland mobile prefixes (MIIT number segments)
CN_MOBILE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "150",
    "151", "152", "153", "155", "156", "157", "158", "159", "166", "170", "171", "173", "175",
    "176", "177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
    "191", "193", "195", "198", "199",
)
CN_EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("163.com", 25), ("126.com", 8), ("sina.com", 4), ("foxmail.com", 5), ("gmail.com", 5),
    ("outlook.com", 5), ("hotmail.com", 3), ("139.com", 2), ("yeah.net", 1),
)
EN_EMAIL_DOMAINS: tuple[str, ...] = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.com")

# --- companies ---------------------------------------------------------------------------------

COMPANY_WORDS: tuple[tuple[str, str], ...] = (
    ("华东", "huadong"), ("鑫源", "xinyuan"), ("恒达", "hengda"), ("宏图", "hongtu"),
    ("天成", "tiancheng"), ("金桥", "jinqiao"), ("瑞丰", "ruifeng"), ("盛世", "shengshi"),
    ("博远", "boyuan"), ("嘉禾", "jiahe"), ("万通", "wantong"), ("永盛", "yongsheng"),
    ("新锐", "xinrui"), ("中联", "zhonglian"), ("联创", "lianchuang"), ("精工", "jinggong"),
    ("远航", "yuanhang"), ("鼎盛", "dingsheng"), ("泰和", "taihe"), ("华信", "huaxin"),
    ("腾飞", "tengfei"), ("卓越", "zhuoyue"), ("东方", "dongfang"), ("同创", "tongchuang"),
    ("海纳", "haina"), ("锦程", "jincheng"), ("恒昌", "hengchang"), ("宏达", "hongda"),
    ("金鼎", "jinding"), ("华盛", "huasheng"), ("众诚", "zhongcheng"), ("德信", "dexin"),
    ("启明", "qiming"), ("正通", "zhengtong"), ("银河", "yinhe"), ("长城", "changcheng"),
    ("天润", "tianrun"), ("和谐", "hexie"), ("鸿运", "hongyun"), ("新纪元", "xinjiyuan"),
    ("汇通", "huitong"), ("凯瑞", "kairui"), ("恒信", "hengxin"), ("三友", "sanyou"),
    ("弘毅", "hongyi"), ("佳信", "jiaxin"), ("乐家", "lejia"), ("德胜", "desheng"),
)
# (industry as a CRM field, company-name words zh, company-name words en, weight)
INDUSTRIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], float], ...] = (
    ("制造业", ("精密机械", "机电设备", "五金制品", "新材料", "汽车配件"), ("Manufacturing", "Industries", "Precision"), 3.0),
    ("批发零售", ("贸易", "商贸", "国际贸易", "百货"), ("Trading", "Supplies", "Imports"), 3.0),
    ("信息技术", ("信息技术", "电子科技", "网络科技", "软件"), ("Tech", "Systems", "Digital"), 1.5),
    ("餐饮酒店", ("餐饮管理", "酒店管理", "咖啡"), ("Hospitality", "Foods", "Coffee"), 2.0),
    ("建筑工程", ("建筑工程", "装饰工程", "建材"), ("Construction", "Builders"), 1.0),
    ("医疗健康", ("医疗器械", "生物科技", "健康管理"), ("Medical", "Health"), 0.8),
    ("教育培训", ("教育科技", "培训学校"), ("Education", "Learning"), 0.6),
    ("物流运输", ("物流", "供应链管理", "货运代理"), ("Logistics", "Freight"), 0.8),
    ("物业服务", ("物业管理", "企业服务"), ("Facilities", "Services"), 0.7),
    ("电子商务", ("电子商务", "网络科技"), ("E-commerce", "Online"), 0.8),
)
COMPANY_SUFFIX_ZH: tuple[tuple[str, float], ...] = (
    ("有限公司", 0.86), ("股份有限公司", 0.06), ("集团有限公司", 0.04), ("有限责任公司", 0.04),
)
EN_COMPANY_PREFIX: tuple[str, ...] = (
    "Acme", "Global", "Pacific", "Summit", "Blue Ocean", "Golden Gate", "Northstar", "Evergreen",
    "Redwood", "Silverline", "Apex", "Pioneer", "Horizon", "Atlas", "Vertex", "Harbor", "Sterling",
    "Crescent", "Orion", "Maple", "Riverside", "Lakeside", "Keystone", "Bright Star",
)
EN_COMPANY_SUFFIX: dict[str, tuple[str, ...]] = {
    "US": ("Inc.", "LLC", "Corp."), "GB": ("Ltd.", "Ltd", "PLC"), "DE": ("GmbH", "AG"),
    "JP": ("Co., Ltd.", "K.K."), "SG": ("Pte. Ltd.", "Pte Ltd"), "AU": ("Pty Ltd",),
    "CA": ("Inc.", "Ltd."),
}
COMPANY_SIZES: tuple[str, ...] = ("1-49人", "50-99人", "100-499人", "500-999人", "1000人以上")
COMPANY_SIZE_WEIGHTS: tuple[float, ...] = (0.42, 0.23, 0.22, 0.07, 0.06)

OCCUPATIONS: tuple[str, ...] = (
    "工程师", "教师", "医生", "公务员", "学生", "自由职业", "销售", "企业主", "设计师", "会计",
    "退休", "程序员", "护士", "律师", "个体户",
)
EDUCATION: tuple[str, ...] = ("高中", "大专", "本科", "硕士", "博士")
EDUCATION_WEIGHTS: tuple[float, ...] = (0.18, 0.27, 0.40, 0.12, 0.03)
INCOME_BANDS: tuple[str, ...] = ("5千以下", "5千-1万", "1万-2万", "2万-5万", "5万以上")

# --- sales organisation ------------------------------------------------------------------------

REPS_B2B_CN: tuple[str, ...] = ("张伟", "李娜", "刘洋", "陈静", "杨帆")
REPS_FOREIGN: tuple[str, ...] = ("Wang Fang", "Tom Lee", "Emily Chen")
REPS_B2C: tuple[str, ...] = ("赵敏", "孙丽", "周杰")
SERVICE_AGENTS: tuple[str, ...] = ("客服小王", "客服小李", "客服小陈", "客服小刘")

# customer source channels: (value, weight)
SOURCES_B2C: tuple[tuple[str, float], ...] = (
    ("天猫", 25), ("京东", 18), ("官网", 10), ("线下门店", 15), ("微信小程序", 15), ("抖音", 9),
    ("小红书", 5), ("地推活动", 3),
)
SOURCES_B2B: tuple[tuple[str, float], ...] = (
    ("展会", 25), ("官网询盘", 20), ("阿里巴巴1688", 15), ("电话营销", 14), ("合作伙伴", 11),
    ("百度推广", 15),
)
SOURCES_FOREIGN_B2C: tuple[tuple[str, float], ...] = (("Amazon", 60), ("Google Ads", 25), ("Website", 15))
SOURCES_FOREIGN_B2B: tuple[tuple[str, float], ...] = (
    ("Alibaba.com", 35), ("广交会", 25), ("LinkedIn", 20), ("Google Ads", 20),
)
REFERRAL_SOURCE = "老客推荐"

# order channels; a customer's preferred channel follows its source
CHANNELS: tuple[str, ...] = (
    "天猫", "京东", "官网", "线下门店", "微信小程序", "抖音小店", "企业直销", "阿里巴巴1688",
    "Amazon", "Website", "Alibaba.com",
)
SOURCE_TO_CHANNEL: dict[str, str] = {
    "天猫": "天猫", "京东": "京东", "官网": "官网", "线下门店": "线下门店", "微信小程序": "微信小程序",
    "抖音": "抖音小店", "小红书": "官网", "地推活动": "微信小程序", "老客推荐": "微信小程序",
    "展会": "企业直销", "官网询盘": "官网", "阿里巴巴1688": "阿里巴巴1688", "电话营销": "企业直销",
    "合作伙伴": "企业直销", "百度推广": "官网", "Amazon": "Amazon", "Google Ads": "Website",
    "Website": "Website", "Alibaba.com": "Alibaba.com", "广交会": "Alibaba.com",
    "LinkedIn": "Alibaba.com",
}
# channels a customer also uses besides the preferred one
ALT_CHANNELS_B2C: tuple[str, ...] = ("天猫", "京东", "官网", "微信小程序", "线下门店", "抖音小店")
ALT_CHANNELS_B2B: tuple[str, ...] = ("企业直销", "官网", "阿里巴巴1688", "京东")
ALT_CHANNELS_FOREIGN: tuple[str, ...] = ("Amazon", "Website", "Alibaba.com")

# customer tags (free text in the CRM)
TAGS: tuple[str, ...] = (
    "VIP", "老客户", "价格敏感", "重视售后", "会员", "大客户", "经销商", "跨境", "新客", "高潜力",
)

# latent needs: 0 price-sensitive, 1 feature-focused, 2 service-focused
NEEDS_EN: tuple[str, ...] = ("price-sensitive", "feature-focused", "service-focused")
NEEDS_ZH: tuple[str, ...] = ("价格敏感", "功能导向", "重视售后")

# --- products ----------------------------------------------------------------------------------

# (category zh, code, B2C weight, B2B weight, B2B typical quantity,
#  ((item zh, item en, typical list price CNY), ...))
CATEGORIES: tuple[tuple[str, str, float, float, float, tuple[tuple[str, str, float], ...]], ...] = (
    ("厨房电器", "KA", 0.20, 0.06, 6.0,
     (("空气炸锅", "Air Fryer", 399), ("电饭煲", "Rice Cooker", 399), ("破壁机", "High-Speed Blender", 699),
      ("电烤箱", "Electric Oven", 499), ("咖啡机", "Coffee Machine", 1499), ("电水壶", "Electric Kettle", 149),
      ("豆浆机", "Soymilk Maker", 399), ("微波炉", "Microwave Oven", 599), ("洗碗机", "Dishwasher", 3499))),
    ("生活电器", "HA", 0.17, 0.07, 8.0,
     (("扫地机器人", "Robot Vacuum", 2499), ("吸尘器", "Vacuum Cleaner", 1299),
      ("空气净化器", "Air Purifier", 1599), ("加湿器", "Humidifier", 249), ("电风扇", "Electric Fan", 299),
      ("取暖器", "Heater", 399), ("除湿机", "Dehumidifier", 1299), ("挂烫机", "Garment Steamer", 349))),
    ("个人护理", "PC", 0.17, 0.03, 20.0,
     (("电动牙刷", "Electric Toothbrush", 299), ("吹风机", "Hair Dryer", 399), ("剃须刀", "Shaver", 499),
      ("卷发棒", "Curling Iron", 199), ("按摩仪", "Massager", 599), ("冲牙器", "Water Flosser", 399),
      ("美容仪", "Beauty Device", 1299))),
    ("数码配件", "DA", 0.17, 0.10, 30.0,
     (("充电宝", "Power Bank", 149), ("数据线", "USB-C Cable", 39), ("蓝牙耳机", "Bluetooth Earbuds", 399),
      ("充电器", "Charger", 99), ("手机壳", "Phone Case", 59), ("蓝牙音箱", "Bluetooth Speaker", 299),
      ("无线键盘", "Wireless Keyboard", 199), ("无线鼠标", "Wireless Mouse", 129))),
    ("智能家居", "SH", 0.12, 0.07, 10.0,
     (("智能门锁", "Smart Lock", 1599), ("智能插座", "Smart Plug", 59), ("摄像头", "Security Camera", 299),
      ("智能灯泡", "Smart Bulb", 79), ("智能网关", "Smart Hub", 199), ("智能窗帘", "Smart Curtain", 899))),
    ("办公设备", "OE", 0.04, 0.22, 4.0,
     (("打印机", "Printer", 1999), ("投影仪", "Projector", 3999), ("碎纸机", "Paper Shredder", 699),
      ("会议平板", "Meeting Display", 8999), ("升降桌", "Standing Desk", 2499), ("显示器", "Monitor", 1499))),
    ("商用电器", "CA", 0.00, 0.15, 2.0,
     (("商用咖啡机", "Commercial Coffee Machine", 19999), ("商用洗碗机", "Commercial Dishwasher", 15999),
      ("制冰机", "Ice Maker", 6999), ("商用净水器", "Commercial Water Purifier", 4999),
      ("展示冷柜", "Display Fridge", 5999))),
    ("配件耗材", "PS", 0.13, 0.30, 60.0,
     (("滤网", "Filter", 129), ("咖啡豆", "Coffee Beans", 89), ("碳粉盒", "Toner Cartridge", 199),
      ("打印纸", "Printer Paper", 29.9), ("替换刷头", "Brush Heads", 79), ("清洁剂", "Cleaning Solution", 39.9),
      ("集尘袋", "Dust Bags", 49), ("电池", "Batteries", 19.9))),
)
# device item -> consumable item often bought with it (co-purchase signal for recommendations)
COMPANIONS: dict[str, str] = {
    "空气净化器": "滤网", "咖啡机": "咖啡豆", "商用咖啡机": "咖啡豆", "打印机": "碳粉盒",
    "电动牙刷": "替换刷头", "扫地机器人": "集尘袋", "吸尘器": "集尘袋", "商用净水器": "滤网",
    "碳粉盒": "打印纸", "智能门锁": "电池", "无线键盘": "无线鼠标", "充电宝": "数据线",
    "蓝牙耳机": "充电器", "商用洗碗机": "清洁剂", "洗碗机": "清洁剂",
}
# model suffix (zh name, en name, price multiplier)
MODEL_SUFFIXES: tuple[tuple[str, str, float], ...] = (
    ("Lite", "Lite", 0.75), ("Pro", "Pro", 1.35), ("Max", "Max", 1.5), ("Mini", "Mini", 0.8),
    ("Plus", "Plus", 1.15), ("S1", "S1", 0.9), ("S3", "S3", 1.05), ("X5", "X5", 1.2),
    ("2代", "Gen 2", 1.1), ("青春版", "Youth", 0.8), ("旗舰版", "Flagship", 1.6), ("经典款", "Classic", 1.0),
)

# --- interactions ------------------------------------------------------------------------------

# canonical interaction kinds (values of ENUMS["interaction_kind"])
IA_KINDS: tuple[str, ...] = (
    "call", "visit", "meeting", "email", "wechat", "sms", "web_visit", "page_view", "click",
    "email_open",
)
IA_WEIGHTS_B2B: tuple[float, ...] = (0.30, 0.12, 0.08, 0.18, 0.20, 0.0, 0.05, 0.04, 0.0, 0.03)
IA_WEIGHTS_B2C: tuple[float, ...] = (0.07, 0.0, 0.0, 0.04, 0.15, 0.05, 0.25, 0.24, 0.12, 0.08)
IA_NOTES_ZH: dict[str, tuple[str, ...]] = {
    "call": ("电话回访，客户对产品满意", "询问报价，已发送价格表", "跟进订单物流", "客户反馈价格偏高",
             "确认发货时间", "介绍新品，客户有兴趣", "客户咨询售后维修", "未接通"),
    "visit": ("上门拜访，了解采购计划", "拜访客户，演示新品", "现场安装调试", "拜访采购部，沟通年度框架协议"),
    "meeting": ("年度合作洽谈", "季度业务回顾会议", "商务谈判，讨论付款条件", "技术交流会"),
    "email": ("发送产品目录", "发送报价单", "发送合同草稿", "节日问候邮件", "回复客户询盘"),
    "wechat": ("微信沟通订单细节", "发送促销信息", "客户咨询使用方法", "发送发票", "客户询问活动价格"),
    "sms": ("双十一活动短信", "会员生日祝福短信", "物流通知短信", "618活动短信"),
    "web_visit": ("访问首页", "访问活动页", "访问帮助中心", "访问会员中心"),
    "page_view": ("浏览商品详情", "浏览价格页", "浏览新品页", "浏览评价页"),
    "click": ("点击促销横幅", "点击优惠券", "点击加入购物车"),
    "email_open": ("打开新品推荐邮件", "打开双十一活动邮件", "打开月度资讯邮件"),
}
IA_NOTES_EN: dict[str, tuple[str, ...]] = {
    "call": ("Follow-up call, customer satisfied", "Asked for a quotation", "Checked shipment status",
             "Customer says price is too high", "Left voicemail"),
    "visit": ("Site visit, discussed purchase plan", "Product demo at customer site"),
    "meeting": ("Annual contract review", "Quarterly business review", "Negotiated payment terms"),
    "email": ("Sent catalogue", "Sent quotation", "Sent contract draft", "Replied to inquiry"),
    "wechat": ("WhatsApp chat about order details", "Sent promotion info"),
    "sms": ("Promotion SMS", "Shipping notice"),
    "web_visit": ("Visited homepage", "Visited pricing page"),
    "page_view": ("Viewed product page", "Viewed reviews"),
    "click": ("Clicked newsletter link", "Clicked coupon"),
    "email_open": ("Opened newsletter", "Opened Black Friday email"),
}

# --- feedback ----------------------------------------------------------------------------------

FEEDBACK_CATEGORIES: tuple[str, ...] = ("物流", "质量", "价格", "售后", "服务", "包装")
# category weights for negative feedback per latent need (price, feature, service)
NEG_CATEGORY_WEIGHTS: tuple[tuple[float, ...], ...] = (
    (0.25, 0.20, 0.35, 0.10, 0.05, 0.05),
    (0.20, 0.45, 0.08, 0.15, 0.07, 0.05),
    (0.20, 0.15, 0.07, 0.35, 0.18, 0.05),
)
NEG_TEXT_ZH: dict[str, tuple[str, ...]] = {
    "物流": ("物流太慢了，非常失望", "快递一周才到，外箱还破了", "发货太慢，催了好几次都没用",
             "说好次日达，结果等了四天"),
    "质量": ("用了两天就坏了，质量太差", "做工粗糙，和图片不符", "收到就有划痕，质量不行",
             "噪音很大，跟宣传的不一样"),
    "价格": ("刚买完就降价了，很不开心", "价格比别家贵不少", "优惠券用不了，感觉被套路",
             "活动价和平时差不多，没诚意"),
    "售后": ("客服不回消息，售后太差", "退货流程太麻烦", "维修等了一个月还没结果",
             "申请退款三次都被驳回"),
    "服务": ("销售态度很差", "承诺的上门安装一直没来", "电话打了好几次都没人接"),
    "包装": ("包装太简陋，配件少了一个", "盒子压坏了，送人很尴尬"),
}
NEG_TEXT_EN: dict[str, tuple[str, ...]] = {
    "物流": ("Delivery took three weeks, very disappointed", "Package arrived damaged"),
    "质量": ("Stopped working after a week", "Poor build quality, not as described"),
    "价格": ("Too expensive compared to other sellers", "Price dropped right after I bought it"),
    "售后": ("Customer service never replied to my emails", "Return process is a nightmare"),
    "服务": ("Sales rep was rude and unhelpful", "Installation appointment was missed twice"),
    "包装": ("Box was crushed, one accessory missing",),
}
NEUTRAL_TEXT_ZH: tuple[str, ...] = (
    "还可以，中规中矩", "东西一般，价格还算合理", "能用，没有惊喜", "和描述基本一致", "物流正常，产品一般",
)
NEUTRAL_TEXT_EN: tuple[str, ...] = (
    "It's okay, nothing special", "Average product, delivery was on time", "Does the job",
)
POS_TEXT_ZH: tuple[str, ...] = (
    "质量很好，物流也快，会回购", "客服很耐心，非常满意", "性价比高，已推荐给朋友", "包装精美，送人很合适",
    "用了一个月，效果很好", "第三次购买了，一如既往的好", "安装师傅很专业，点赞",
)
POS_TEXT_EN: tuple[str, ...] = (
    "Great service, will buy again", "Excellent quality, highly recommend",
    "Fast delivery and well packaged", "Best purchase this year!", "Support team was very helpful",
)
SUGGESTION_TEXT_ZH: tuple[str, ...] = (
    "希望增加更多颜色选择", "建议说明书做得更详细一些", "希望能开通分期付款", "建议增加以旧换新活动",
)
SUGGESTION_TEXT_EN: tuple[str, ...] = ("Please add more colour options", "Would love an English manual")
# a multi-line complaint, as pasted from a chat window
MULTILINE_COMPLAINT = "第一次投诉：发货延迟。\n第二次投诉：到货后发现破损，要求换货。\n至今未处理！"

# --- leads -------------------------------------------------------------------------------------

# canonical (English) stage names and their Chinese display names
STAGES_EN: tuple[str, ...] = ("new", "contacted", "qualified", "quote", "negotiation", "won", "lost")
STAGES_ZH: tuple[str, ...] = ("线索", "初步接触", "需求确认", "报价", "谈判", "赢单", "输单")
LEAD_SOURCES: tuple[tuple[str, float], ...] = (
    ("官网表单", 20), ("展会", 18), ("电话营销", 14), ("老客推荐", 10), ("阿里巴巴1688", 12),
    ("百度推广", 12), ("邮件营销", 6), ("LinkedIn", 4), ("Alibaba.com", 4),
)
# intent signals: canonical English, Chinese display, weight of the signal for winning
INTENT_EN: tuple[str, ...] = (
    "quote requested", "demo booked", "price asked", "sample requested", "pricing page visited",
    "brochure downloaded", "delivery time asked",
)
INTENT_ZH: tuple[str, ...] = ("索要报价", "预约演示", "询价", "索要样品", "浏览价格页", "下载资料", "询问交期")
INTENT_STRENGTH: tuple[float, ...] = (1.0, 0.9, 0.5, 0.7, 0.3, 0.2, 0.6)
LOST_REASONS_ZH: tuple[str, ...] = ("价格太高", "选择了竞争对手", "预算取消", "需求变更", "交期太长", "联系不上")
LOST_REASONS_EN: tuple[str, ...] = (
    "price too high", "chose a competitor", "budget cut", "requirements changed",
    "lead time too long", "no response",
)
# fmt: on
