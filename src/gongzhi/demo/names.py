"""Names for the demo subdistrict: places, organisations and people. Pure data and small pure helpers."""

from __future__ import annotations

import random
from itertools import accumulate

DISTRICT_CODE = "210113"  # 沈阳市沈北新区
FIRST_STREET = 6  # 道义街道 is street 006; copy k of the demo subdistrict is street 006 + k
MAX_COPIES = 999 - FIRST_STREET + 1
CITY = "沈阳市沈北新区"

# Copy 0 is 道义街道; further copies (--scale) take these names, then numbered ones.
STREET_NAMES = (
    "道义",
    "虎石台",
    "新城子",
    "辉山",
    "清水台",
    "财落",
    "兴隆台",
    "尹家",
    "黄家",
    "马刚",
    "石佛寺",
    "望滨",
    "清泉",
    "沈北",
)


def street_code(k: int) -> str:
    """The 9-digit code of demo subdistrict copy ``k``."""
    if not 0 <= k < MAX_COPIES:
        raise ValueError(f"copy {k} is out of range (0..{MAX_COPIES - 1})")
    return f"{DISTRICT_CODE}{FIRST_STREET + k:03d}"


def street_name(k: int) -> str:
    """The short name of copy ``k`` (``道义`` for copy 0); the subdistrict is ``{short}街道``."""
    if k < len(STREET_NAMES):
        return STREET_NAMES[k]
    return f"{STREET_NAMES[k % len(STREET_NAMES)]}{k // len(STREET_NAMES) + 1}"


def all_street_codes() -> list[str]:
    return [street_code(k) for k in range(MAX_COPIES)]


# 16 urban communities (社区) then 7 villages (村), in code order 001..023. The tiling places them along a
# serpentine, so neighbours in this list are neighbours on the map: 大干社区 (016) borders 大干村 (017), which
# is where the two overlap (村居融洽).
COMMUNITY_NAMES = (
    "府东社区",
    "道义社区",
    "蒲河社区",
    "正良社区",
    "府西社区",
    "七星社区",
    "辉山社区",
    "盛京社区",
    "锦河社区",
    "丰收社区",
    "兴隆社区",
    "新城社区",
    "文华社区",
    "馨园社区",
    "虎石台社区",
    "大干社区",
)
VILLAGE_NAMES = (
    "大干村",
    "道义村",
    "蒲河村",
    "正良村",
    "马家村",
    "柳条河村",
    "石佛村",
)

# Communities led by a general branch (党总支) rather than a community party committee (社区党委).
GENERAL_BRANCH_COMMUNITIES = ("府东社区", "正良社区", "丰收社区", "馨园社区")

# The residential compound and the market that later stories happen in.
JINHE_COMPOUND = "金禾家苑"
JINHE_COMMUNITY = "府东社区"
XIDA_MARKET = "西大商城"
XIDA_COMMUNITY = "道义社区"

# The overlap of seed 000 (村居融洽).
OVERLAP_GRID_NAME = "大干村居融合网格"
OVERLAP_VILLAGE = "大干村"
OVERLAP_COMMUNITY = "大干社区"
FISHERY_COOPERATIVE = "大干渔业经济合作社"

# Residential compounds (小区) other than each community's own "{short}小区".
COMPOUND_NAMES = (
    "锦绣花园",
    "馨悦家园",
    "翰林华府",
    "阳光水岸",
    "书香门第",
    "蒲河湾",
    "御景湾",
    "幸福里",
    "国际城",
    "心语花园",
    "绿洲家园",
    "和平小区",
    "职工小区",
    "铁路小区",
    "粮库小区",
    "春江花月",
    "枫林绿洲",
    "丽水华庭",
    "富民家园",
    "康居小区",
    "滨河一品",
    "世纪新城",
    "东湖湾",
    "泰和园",
    "润园",
    "金地名京",
    "怡景园",
    "北辰小区",
    "福安里",
    "华府丹郡",
    "首府花园",
    "青年城",
    "盛世华庭",
    "万和家园",
    "宏伟小区",
    "紫金苑",
    "金色家园",
    "香榭丽舍",
    "碧水云天",
    "观澜苑",
    "雅居乐园",
    "嘉禾园",
    "星河湾",
    "明珠花苑",
    "长青家园",
    "丰泽园",
    "安居小区",
    "荣盛锦绣",
    "学府花园",
    "北湖春晓",
    "水岸华府",
    "春晖园",
    "龙湾新城",
    "锦华园",
    "聚福园",
    "欣园",
    "世纪城",
    "凯旋名邸",
    "名都花园",
    "嘉和苑",
    "翠湖山庄",
    "北方家园",
    "建工小区",
    "化工小区",
    "电业小区",
    "棉纺小区",
)

# Property companies and the compounds they co-cover (with an owners' committee), plus one that covers a whole
# community. Compound names refer to the compounds above or to "{short}小区".
PROPERTY_COMPANIES = (
    ("沈阳金禾物业服务有限公司", JINHE_COMPOUND),
    ("沈阳万和物业管理有限公司", "府东小区"),
    ("辽宁华府物业服务有限公司", "道义小区"),
    ("沈阳蒲河湾物业管理有限公司", "蒲河小区"),
)
DEMO_PROPERTY_COMPOUND = "府东小区"  # its property company's staff log in as ``property``
COMMUNITY_WIDE_PROPERTY = ("沈北城建物业服务有限公司", "正良社区")

# Departments stand on the subdistrict; the court sits above it (no home node).
DEPARTMENTS = (
    ("police", "沈北新区公安分局{S}派出所"),
    ("urban", "{S}街道城管执法中队"),
    ("market", "沈北新区市场监督管理局{S}市场监管所"),
    ("justice", "{S}司法所"),
    ("fire", "沈北新区{S}消防救援站"),
    ("power", "国网沈北供电公司{S}供电所"),
    ("housing", "{S}街道城建办"),
)
COURT = "沈北新区人民法院{S}巡回审判庭"

# Co-building units (共建单位): (key, kind, name template). ``kind`` is a territory BodyKind value.
CO_BUILDING_UNITS = (
    ("school1", "school", "沈北新区{S}第一小学"),
    ("school2", "school", "沈北新区{S}中学"),
    ("hospital", "hospital", "沈北新区{S}社区卫生服务中心"),
    ("xida", "enterprise", "沈阳西大商业管理有限公司"),
    ("bank", "enterprise", "沈阳农商银行{S}支行"),
    ("gas", "enterprise", "沈北燃气有限公司{S}营业所"),
    ("logistics", "enterprise", "辽宁北方物流有限公司"),
    ("tax", "co_building_unit", "沈北新区税务局{S}税务所"),
    ("college", "co_building_unit", "沈阳职业技术学院{S}校区"),
    ("telecom", "co_building_unit", "中国移动沈北分公司{S}营业厅"),
)

# More organisations for the registry (issue 4): enterprises, schools, hospitals, offices and social organisations
# with contacts and co-building agreements. (key, kind, name template); they stand in a community (see registry.py).
REGISTRY_ORGANISATIONS = (
    ("mall", "enterprise", "沈阳兴隆大家庭{S}购物中心"),
    ("machinery", "enterprise", "沈阳北辰机械制造有限公司"),
    ("food", "enterprise", "沈阳蒲河食品有限公司"),
    ("pharmacy", "enterprise", "成大方圆大药房{S}连锁店"),
    ("ccb", "enterprise", "中国建设银行沈北支行{S}网点"),
    ("lawfirm", "enterprise", "辽宁北辰律师事务所"),
    ("kindergarten", "school", "沈北新区{S}中心幼儿园"),
    ("school3", "school", "沈北新区{S}第二小学"),
    ("vocational", "school", "沈北新区职业教育中心"),
    ("central_hospital", "hospital", "沈北新区中心医院"),
    ("tcm", "hospital", "沈北新区{S}中医门诊部"),
    ("housing_bureau", "co_building_unit", "沈北新区住房和城乡建设局"),
    ("health_bureau", "co_building_unit", "沈北新区卫生健康局"),
    ("post", "co_building_unit", "中国邮政沈北分公司{S}支局"),
    ("eldercare", "social_organisation", "{S}街道居家养老服务中心"),
    ("redcross", "social_organisation", "沈北新区红十字会{S}分会"),
    ("youth", "social_organisation", "{S}青少年社会工作服务中心"),
    ("culture", "social_organisation", "{S}街道文化志愿服务队"),
)

SOCIAL_ORGANISATIONS = (
    ("volunteers", "{S}街道志愿者协会"),
    ("mediators", "老娘舅调解队"),
    ("socialwork", "{S}街道社会工作服务站"),
)

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴"
    "夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文关佟那付"
)
# Common surnames come up more often: the first twenty are weighted up (cumulative weights: the same draws as
# ``weights=`` but without summing them on every call).
_SURNAME_WEIGHTS = [6 if i < 20 else 1 for i in range(len(SURNAMES))]
_SURNAME_CUM = list(accumulate(_SURNAME_WEIGHTS))
GIVEN_CHARS = (
    "建国华明丽秀英玉兰海军伟志文春红平宏德俊敏静淑凤桂云金东晓磊鹏辉涛亮燕霞婷雪颖琳浩宇欣然子梓涵思雨佳嘉"
    "博瑞成刚强勇杰峰斌超波琴艳娟芳萍慧洁莉娜晶阳光立新振兴福贵荣庆喜长永凯旭昊轩泽睿铭"
)

# Given-name characters by sex and generation (born before 1970, 1970–1994, from 1995), for the registry's
# residents: 建国 and 桂兰 are grandparents' names, 子轩 and 欣怡 grandchildren's.
GIVEN_BY_GENERATION = {
    ("male", 0): "建国军福贵荣庆喜长永德明华文志宝全有忠山海林成祥贵春胜利发双庆玉仁",
    ("female", 0): "秀英玉兰桂凤淑珍芳华荣琴霞梅兰云素桂英翠香彩凤玉芝秀兰金",
    ("male", 1): "伟刚强勇杰峰斌超波磊鹏辉涛亮东军明海宏志新振兴凯旭健龙飞",
    ("female", 1): "丽红艳娟芳萍慧洁莉娜晶静敏燕霞婷雪颖琳丹微晓春秋梅玲",
    ("male", 2): "浩宇子梓轩泽睿铭博瑞昊航晨阳宇辰皓然俊熙一鸣天佑思源嘉懿",
    ("female", 2): "欣然涵思雨佳嘉怡梓萱诗琪可馨雨桐若曦语汐子墨依诺悦彤一",
}


def surname(rng: random.Random) -> str:
    return rng.choices(SURNAMES, cum_weights=_SURNAME_CUM)[0]


def person_name(rng: random.Random) -> str:
    family = surname(rng)
    given = rng.choice(GIVEN_CHARS)
    if rng.random() < 0.7:
        second = rng.choice(GIVEN_CHARS)
        given += second if second != given else rng.choice(GIVEN_CHARS)
    return family + given


def given_name(rng: random.Random, sex: str, born_year: int) -> str:
    """A given name that fits the sex (``male``/``female``) and the generation; older people more often have one
    character, the young two."""
    generation = 0 if born_year < 1970 else (1 if born_year < 1995 else 2)
    chars = GIVEN_BY_GENERATION[(sex, generation)]
    first = rng.choice(chars)
    if rng.random() < (0.55, 0.7, 0.85)[generation]:
        second = rng.choice(chars)
        return first + (second if second != first else rng.choice(chars))
    return first


# Mobile prefixes (1 + 3..9 + one digit), weighted roughly as they are in use.
MOBILE_PREFIXES = ("13", "15", "18", "17", "19", "14", "16")
_MOBILE_CUM = list(accumulate((34, 26, 22, 8, 6, 3, 1)))


def mobile_number(rng: random.Random) -> str:
    """An 11-digit mainland mobile number 1[3-9]x xxxx xxxx."""
    return f"{rng.choices(MOBILE_PREFIXES, cum_weights=_MOBILE_CUM)[0]}{rng.randrange(10**9):09d}"


# Six-digit administrative division codes (GB/T 2260) for the first six digits of ID numbers. Registered residents
# are 沈北新区's own (DISTRICT_CODE); people living here without registration (常住) mostly come from Shenyang's other
# districts and nearby Liaoning; temporary and floating people from other provinces, the northeast first.
NEARBY_REGION_CODES = (
    "210102",  # 沈阳市和平区
    "210103",  # 沈河区
    "210104",  # 大东区
    "210105",  # 皇姑区
    "210106",  # 铁西区
    "210112",  # 浑南区
    "210114",  # 于洪区
    "210181",  # 新民市
    "211221",  # 铁岭县
    "211281",  # 调兵山市
    "210381",  # 海城市
    "211002",  # 辽阳市白塔区
    "210402",  # 抚顺市新抚区
    "210726",  # 黑山县
    "210922",  # 彰武县
)
OTHER_PROVINCE_REGION_CODES = (
    "220102",  # 长春市南关区
    "220182",  # 榆树市
    "220381",  # 公主岭市
    "222403",  # 敦化市
    "220621",  # 抚松县
    "230102",  # 哈尔滨市道里区
    "230183",  # 尚志市
    "231121",  # 嫩江县
    "230882",  # 富锦市
    "150404",  # 赤峰市松山区
    "150429",  # 宁城县
    "152301",  # 通辽市
    "130102",  # 石家庄市长安区
    "130481",  # 武安市
    "370102",  # 济南市历下区
    "371302",  # 临沂市兰山区
    "410102",  # 郑州市中原区
    "411522",  # 光山县
    "341221",  # 临泉县
    "340102",  # 合肥市瑶海区
    "511321",  # 南部县
    "510104",  # 成都市锦江区
    "420102",  # 武汉市江岸区
    "430102",  # 长沙市芙蓉区
    "360102",  # 南昌市东湖区
    "620102",  # 兰州市城关区
    "140105",  # 太原市小店区
)
# The northeast (吉林, 黑龙江, 内蒙古东部) sends most of the people who come to Shenyang for work.
_OTHER_PROVINCE_CUM = list(
    accumulate(4 if code[:2] in ("22", "23", "15") else 1 for code in OTHER_PROVINCE_REGION_CODES)
)


def region_code(rng: random.Random, population_type: str) -> str:
    """The ID number's region for a person of this population type (registry PopulationType values)."""
    if population_type == "registered":
        return DISTRICT_CODE
    if population_type == "resident":
        return rng.choice(NEARBY_REGION_CODES)
    return rng.choices(OTHER_PROVINCE_REGION_CODES, cum_weights=_OTHER_PROVINCE_CUM)[0]


def phone_number(rng: random.Random) -> str:
    """An 11-digit mobile number starting 13x, 15x or 18x."""
    return f"1{rng.choice('358')}{rng.randrange(10**9):09d}"


def body_name(template: str, k: int) -> str:
    """The name of a body in copy ``k``: copy 0 keeps the template's name; further copies name their street so
    that (kind, name) stays unique across copies."""
    short = street_name(k)
    name = template.replace("{S}", short)
    if k and "{S}" not in template:
        name = f"{short}街道{name}"
    return name
