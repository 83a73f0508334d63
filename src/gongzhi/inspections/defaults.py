"""The default checklists a subdistrict starts from (``services.ensure_checklists``), then edits as its own.

Each item: (question, law or rule, photo required, default severity, case category code). The articles cited are
those of 《中华人民共和国消防法》(2021 revision): 第十六条 (units keep fire equipment complete and effective),
第十九条 (no dwelling in the same building as stores of flammables; 三合一), 第二十一条 (hot work approved), 第二十七条
(electrical and gas installations per the fire standards), 第二十八条 (no blocking of evacuation routes, exits and
fire lanes); elsewhere a rule is named without an article.
"""

from __future__ import annotations

from gongzhi.inspections.choices import PlaceKind, Severity

FIRE_16 = "《消防法》第十六条"
FIRE_19 = "《消防法》第十九条"
FIRE_21 = "《消防法》第二十一条"
FIRE_27 = "《消防法》第二十七条"
FIRE_28 = "《消防法》第二十八条"
EBIKE = "《高层民用建筑消防安全管理规定》、本市电动自行车管理规定"
GAS = "《城镇燃气管理条例》"
HEIGHT = "《民法典》第一千二百五十四条"
SITE = "《建设工程安全生产管理条例》"

S, M, X = Severity.MINOR, Severity.MAJOR, Severity.SERIOUS

DEFAULT_CHECKLISTS: dict[str, tuple[str, list[tuple[str, str, bool, str, str]]]] = {
    PlaceKind.RESIDENTIAL: (
        "住宅楼栋安全隐患排查表",
        [
            ("消防通道、楼道是否堵塞或堆放杂物", FIRE_28, True, M, "0503"),
            ("楼道、门厅内是否停放电动车或为电动车充电", EBIKE, True, X, "0702"),
            ("是否存在“飞线充电”（私拉电线充电）", FIRE_27, True, X, "0504"),
            ("燃气管道、阀门、软管是否老化或被私自改装", GAS, False, X, "0402"),
            ("安全出口、疏散通道门是否锁闭", FIRE_28, True, X, "0503"),
            ("灭火器、消火栓是否完好有效、在有效期内", FIRE_16, True, S, "0403"),
            ("应急照明、疏散指示标志是否完好", FIRE_16, False, S, ""),
            ("窗台、阳台有无高空坠物隐患", HEIGHT, False, M, "0404"),
        ],
    ),
    PlaceKind.SHOP: (
        "沿街商铺安全隐患排查表",
        [
            ("是否存在“三合一”（住宿与经营、仓储混用）", FIRE_19, True, X, ""),
            ("灭火器是否配置到位、在有效期内", FIRE_16, True, S, ""),
            ("店外占道经营、堵塞消防通道", FIRE_28, True, M, "0502"),
            ("燃气瓶、燃气管道使用是否安全", GAS, False, X, ""),
            ("电气线路有无私拉乱接", FIRE_27, True, M, "0504"),
            ("安全出口是否锁闭或被遮挡", FIRE_28, True, X, "0503"),
        ],
    ),
    PlaceKind.CONSTRUCTION: (
        "建筑工地安全隐患排查表",
        [
            ("动火作业是否办理审批、有人监护", FIRE_21, True, X, ""),
            ("围挡、警示标志是否完整", SITE, True, S, ""),
            ("临时用电是否规范（一机一闸一漏保）", "《施工现场临时用电安全技术规范》", False, M, ""),
            ("消防器材是否配置到位", FIRE_16, True, M, ""),
            ("工人宿舍有无违规使用大功率电器", FIRE_27, False, M, ""),
            ("消防通道是否畅通", FIRE_28, True, M, "0503"),
        ],
    ),
    PlaceKind.VENUE: (
        "小场所安全隐患排查表",
        [
            ("疏散通道、安全出口是否畅通", FIRE_28, True, X, "0503"),
            ("灭火器等消防设施是否完好有效", FIRE_16, True, S, ""),
            ("厨房燃气使用、油烟管道清洗是否规范", GAS, False, M, ""),
            ("电气线路有无私拉乱接", FIRE_27, True, M, "0504"),
            ("有无人员住宿与经营场所混用", FIRE_19, True, X, ""),
            ("应急照明、疏散指示标志是否完好", FIRE_16, False, S, ""),
        ],
    ),
}
