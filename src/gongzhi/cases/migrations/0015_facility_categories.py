"""The facility classes (部件) of the national digital-urban-management taxonomy beside the event classes (事件) of
0002, and the plain words residents use for each (keywords), so that "井盖" finds 上水井盖, 污水井盖… and "噪音" finds
噪音扰民.

The codes are the standard's: major class 2 digits + minor class 2 digits, as published in CJ/T 214-2007 and kept in
GB/T 30428.2-2013 (管理部件和事件) and in the city manuals that reproduce it. Only the minor classes a subdistrict
meets are seeded; the rest keep their gaps in the numbering and can be added in the admin with their codes. A
facility code and an event code may be the same digits (部件 0101 上水井盖, 事件 0101 暴露垃圾): the kind tells them
apart. Existing rows are not overwritten: a category already there (by kind and code) keeps its name and urgency,
and gets keywords only where it has none. The event major class "扩展" (extension) is renamed to the plain "社区生活"
only if nobody renamed it before."""

from django.db import migrations

# (code, name, urgency, keywords, [(code, name, urgency, keywords), ...])
FACILITIES = [
    ("01", "公用设施", "B", "市政设施 公共设施", [
        ("0101", "上水井盖", "A", "井盖 自来水井盖 给水井盖 窨井盖 井盖丢失 井盖破损 井盖松动"),
        ("0102", "污水井盖", "A", "井盖 下水井盖 下水道井盖 窨井盖 污水外溢 井盖丢失 井盖破损"),
        ("0103", "雨水井盖", "A", "井盖 窨井盖 井盖丢失 井盖破损"),
        ("0104", "雨水箅子", "B", "雨水篦子 箅子 篦子 下水口 排水口 雨水口 堵塞"),
        ("0105", "电力井盖", "A", "井盖 供电井盖 井盖丢失 井盖破损"),
        ("0106", "路灯井盖", "A", "井盖 井盖丢失 井盖破损"),
        ("0107", "通讯井盖", "A", "井盖 通信井盖 电信井盖 井盖丢失 井盖破损"),
        ("0108", "电视井盖", "A", "井盖 有线电视井盖 井盖丢失 井盖破损"),
        ("0109", "网络井盖", "A", "井盖 宽带井盖 井盖丢失 井盖破损"),
        ("0110", "热力井盖", "A", "井盖 暖气井盖 供热井盖 井盖丢失 井盖破损"),
        ("0111", "燃气井盖", "A", "井盖 煤气井盖 井盖丢失 井盖破损"),
        ("0112", "公安井盖", "A", "井盖 交警井盖 井盖丢失 井盖破损"),
        ("0113", "消防设施", "A", "消防栓 消火栓 灭火器 消防箱 消防器材 消防水带"),
        ("0114", "无主井盖", "A", "井盖 不知道哪家的井盖 井盖丢失 井盖破损"),
        ("0115", "通讯交接箱", "C", "电信箱 光交箱 通信箱 交接箱"),
        ("0116", "电力设施", "A", "电箱 配电箱 电线 电缆 漏电 电线杆"),
        ("0117", "立杆", "C", "电线杆 杆子 线杆 杆子歪了"),
        ("0118", "路灯", "B", "路灯不亮 灯不亮 路灯坏了 灯坏了 照明 灯杆 黑灯 路灯常亮"),
        ("0119", "地灯", "C", "灯不亮 灯坏了 照明"),
        ("0120", "景观灯", "C", "灯不亮 灯坏了 亮化 彩灯"),
        ("0121", "报刊亭", "C", "书报亭 报亭"),
        ("0122", "电话亭", "C", "公用电话"),
        ("0123", "邮筒", "C", "信筒 邮箱"),
        ("0124", "信息亭", "C", "查询机"),
        ("0125", "自动售货机", "C", "售货机"),
        ("0126", "健身设施", "B", "健身器材 健身器械 运动器材 单杠 双杠 健身路径"),
        ("0127", "中水井盖", "A", "井盖 再生水井盖 井盖丢失 井盖破损"),
        ("0128", "公交井盖", "A", "井盖 井盖丢失 井盖破损"),
        ("0129", "输油（气）井盖", "A", "井盖 输气井盖 井盖丢失 井盖破损"),
        ("0130", "特殊井盖", "A", "井盖 井盖丢失 井盖破损"),
        ("0133", "高压线铁塔", "B", "铁塔 高压线 电塔"),
        ("0134", "变压器（箱）", "A", "变压器 变电箱 箱变"),
        ("0135", "燃气调压站（箱）", "A", "调压箱 燃气箱 煤气箱"),
        ("0136", "监控电子眼", "C", "摄像头 监控 探头 电子眼"),
        ("0137", "售货亭", "C", "小卖亭"),
        ("0138", "治安岗亭", "C", "岗亭 警务亭"),
    ]),
    ("02", "道路交通", "B", "交通设施 道路设施", [
        ("0201", "停车场", "C", "停车 车位 停车位"),
        ("0202", "停车咪表", "C", "咪表 停车收费"),
        ("0203", "公交站亭", "B", "公交站 公交车站 站台 候车亭 站牌"),
        ("0204", "出租车站牌", "C", "出租车站 打车点"),
        ("0205", "过街天桥", "B", "天桥 人行天桥"),
        ("0206", "地下通道", "B", "地道 人行地道"),
        ("0207", "高架立交桥", "B", "立交桥 高架桥 高架"),
        ("0208", "跨河桥", "B", "桥 桥梁"),
        ("0209", "交通标志牌", "B", "交通标志 指示牌 标志牌 路标 交通设施"),
        ("0210", "交通信号灯", "A", "红绿灯 信号灯 交通灯 红绿灯坏了 红绿灯不亮 交通设施"),
        ("0211", "交通护栏", "B", "护栏 隔离栏 隔离护栏 栏杆 交通设施"),
        ("0212", "存车支架", "C", "自行车架 停车架 车架"),
        ("0213", "路名牌", "C", "路牌 街牌 路名"),
        ("0214", "交通信号设施", "B", "信号设施 交通设施"),
        ("0215", "道路信息显示屏", "C", "显示屏 诱导屏 电子屏"),
        ("0216", "道路隔音屏", "C", "隔音墙 隔音板 声屏障"),
        ("0217", "交通岗亭", "C", "岗亭 交警岗亭"),
    ]),
    ("03", "市容环境", "B", "环卫设施", [
        ("0301", "公共厕所", "B", "公厕 厕所 卫生间 洗手间 厕所脏 厕所堵了"),
        ("0302", "化粪池", "A", "粪池 粪水 化粪池满溢 化粪池冒了"),
        ("0303", "公厕指示牌", "C", "厕所指示牌 厕所牌子"),
        ("0304", "垃圾间（楼）", "B", "垃圾房 垃圾站 垃圾收集点 垃圾屋 垃圾中转站"),
        ("0305", "垃圾箱", "B", "垃圾桶 果皮箱 废物箱 分类垃圾桶 垃圾桶坏了 垃圾桶不够"),
        ("0306", "灯箱霓虹灯", "C", "灯箱 霓虹灯 招牌灯"),
        ("0307", "广告牌匾", "C", "广告牌 招牌 牌匾 店招 广告牌松动"),
        ("0308", "环保监测站", "C", "空气监测 环境监测"),
        ("0311", "噪声显示屏", "C", "噪声监测 分贝屏"),
    ]),
    ("04", "园林绿化", "B", "绿化 绿化设施", [
        ("0401", "古树名木", "B", "古树 老树 名木"),
        ("0402", "行道树", "B", "树 树木 路边树 大树 倒树 断枝 树枝 修剪 树倒了 枯树"),
        ("0403", "护树设施", "C", "树池 树围 护树板 树箅子"),
        ("0404", "花架花钵", "C", "花坛 花箱 花盆 花架"),
        ("0405", "绿地", "B", "草坪 绿化带 草地 花园 绿化 绿化带破坏 杂草"),
        ("0406", "雕塑", "C", "城市雕塑 雕像"),
        ("0407", "街头坐椅", "C", "座椅 坐椅 长椅 椅子 凳子 休息椅"),
        ("0408", "绿地护栏", "C", "护栏 栏杆 绿化护栏 绿地栏杆"),
        ("0409", "绿地维护设施", "C", "喷灌 浇水 洒水 水龙头"),
        ("0410", "喷泉", "C", "水池 喷水池"),
    ]),
    ("05", "房屋土地", "B", "房屋", [
        ("0501", "宣传栏", "C", "公告栏 宣传橱窗 布告栏 公示栏"),
        ("0502", "人防工事", "B", "防空洞 人防 防空设施"),
        ("0503", "公房地下室", "B", "地下室 公房"),
    ]),
    ("06", "其他设施", "B", "", [
        ("0601", "重大危险源", "A", "危险品 危化品 易燃易爆"),
        ("0602", "工地", "B", "建筑工地 施工工地 围挡 工地围挡 工地扬尘"),
        ("0603", "水域附属设施", "B", "河道 河边 码头 河岸 台阶"),
        ("0604", "水域护栏", "A", "河边护栏 河道护栏 栏杆 护栏"),
        ("0605", "港监设施", "C", "航标"),
        ("0606", "防汛墙", "A", "防洪墙 防汛 堤 河堤"),
    ]),
]

# The plain words for the event classes of 0002 (by code), and for the "扩展" major class.
EVENT_KEYWORDS = {
    "01": "市容 环境卫生",
    "0101": "垃圾 乱扔垃圾 垃圾乱扔 垃圾没人清 垃圾满了 垃圾桶满 生活垃圾",
    "0102": "渣土 建筑垃圾 装修垃圾 垃圾堆 杂物堆",
    "0103": "路面脏 油污 路面不干净 扫地 保洁",
    "0104": "晾衣服 晒被子 晾晒 晒衣服 拉绳晾晒",
    "0105": "水淹 下雨积水 路面积水 淹水 地下室进水 排水不畅",
    "0106": "垃圾分类 分类投放 混投 乱投",
    "02": "广告",
    "0201": "小广告 牛皮癣 乱贴 乱张贴 乱涂 乱画 办证广告",
    "0202": "广告牌 横幅 户外广告",
    "03": "施工",
    "0301": "施工噪音 噪音 装修噪音 夜间施工 半夜施工 施工扰民",
    "0302": "违建 私搭乱建 乱搭建 违章建筑 乱搭乱建 楼顶违建",
    "0303": "路坏了 坑 坑洼 路面破损 人行道 地砖 道路坑洼 路不平",
    "04": "紧急 危险",
    "0401": "塌陷 地陷 路面塌陷 坑",
    "0402": "煤气 燃气 漏气 煤气味 燃气味",
    "0403": "着火 消防 易燃物 火灾 灭火器过期",
    "0404": "扔东西 抛物 楼上扔东西 高空坠物",
    "05": "秩序",
    "0501": "停车 违停 乱停 乱停车 僵尸车 占车位 堵路",
    "0502": "摆摊 小贩 摊贩 占道 流动摊贩 店外经营",
    "0503": "消防通道 堵消防通道 生命通道 消防车道",
    "0504": "拉电线 充电 私拉电线 飞线 电动车充电",
    "06": "扩展",
    "0601": "电梯 电梯坏了 电梯停运 电梯困人 电梯异响",
    "0602": "狗 宠物 遛狗 狗屎 犬 狗叫 养狗 猫",
    "0603": "种菜 绿地种菜 毁绿 圈地种菜",
    "0604": "噪音 噪声 吵 太吵 扰民 广场舞 音响 吵闹",
    "07": "社区 小区",
    "0701": "楼道 堆东西 杂物 楼道杂物 堆物 纸箱",
    "0702": "电动车 电瓶车 充电 进楼 电动车上楼",
    "0703": "吵架 纠纷 邻居 矛盾 邻里矛盾",
    "0704": "物业 物业不管 物业服务差",
    "0705": "停水 停电 暖气 供暖 没水 没电 水管 漏水 暖气不热 燃气",
    "0706": "其他 别的 不知道",
}
PLAIN_EXTENSION = ("06", "扩展", "社区生活")  # the event major class whose standard name says nothing to a resident


def load(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    for code, name, urgency, words, children in FACILITIES:
        parent, _ = Category.objects.get_or_create(
            kind="facility", code=code, defaults={"name": name, "default_urgency": urgency, "keywords": words}
        )
        for ccode, cname, curgency, cwords in children:
            Category.objects.get_or_create(
                kind="facility",
                code=ccode,
                defaults={"name": cname, "parent": parent, "default_urgency": curgency, "keywords": cwords},
            )
    for code, words in EVENT_KEYWORDS.items():
        Category.objects.filter(kind="event", code=code, keywords="").update(keywords=words)
    code, old, new = PLAIN_EXTENSION
    Category.objects.filter(kind="event", code=code, name=old).update(name=new)


def unload(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    code, old, new = PLAIN_EXTENSION
    Category.objects.filter(kind="event", code=code, name=new).update(name=old)
    Category.objects.filter(kind="facility", parent__code__in=[c for c, *_ in FACILITIES]).delete()
    Category.objects.filter(kind="facility", code__in=[c for c, *_ in FACILITIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0014_category_kind_keywords")]
    operations = [migrations.RunPython(load, unload)]
