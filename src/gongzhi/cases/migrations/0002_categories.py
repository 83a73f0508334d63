"""The starting taxonomy: the national digital-urban-management event classes and the community matters of the
seed articles. Editable afterwards in the admin."""

from django.db import migrations

TAXONOMY = [
    ("01", "市容环境", "B", [("0101", "暴露垃圾", "B"), ("0102", "积存垃圾渣土", "B"), ("0103", "道路不洁", "C"),
                         ("0104", "乱晾晒", "C"), ("0105", "积水", "B"), ("0106", "垃圾分类", "C")]),
    ("02", "宣传广告", "C", [("0201", "非法小广告", "C"), ("0202", "违规户外广告", "C")]),
    ("03", "施工管理", "B", [("0301", "施工扰民", "B"), ("0302", "违法建筑", "B"), ("0303", "道路破损", "B")]),
    ("04", "突发事件", "A", [("0401", "道路塌陷", "A"), ("0402", "燃气泄漏", "A"), ("0403", "火灾隐患", "A"),
                         ("0404", "高空抛物", "A")]),
    ("05", "街面秩序", "B", [("0501", "乱停车", "B"), ("0502", "占道经营", "C"), ("0503", "消防通道占用", "A"),
                         ("0504", "飞线充电", "A")]),
    ("06", "扩展", "B", [("0601", "电梯故障", "A"), ("0602", "文明养宠", "C"), ("0603", "毁绿种菜", "C"),
                       ("0604", "噪音扰民", "B")]),
    ("07", "社区事务", "B", [("0701", "楼道堆物", "B"), ("0702", "电动车进楼充电", "A"), ("0703", "邻里纠纷", "B"),
                         ("0704", "物业服务", "B"), ("0705", "水电气暖", "B"), ("0706", "其他", "C")]),
]


def load(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    for code, name, urgency, children in TAXONOMY:
        parent, _ = Category.objects.get_or_create(code=code, defaults={"name": name, "default_urgency": urgency})
        for ccode, cname, curgency in children:
            Category.objects.get_or_create(
                code=ccode, defaults={"name": cname, "parent": parent, "default_urgency": curgency}
            )


def unload(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    Category.objects.filter(parent__code__in=[c for c, *_ in TAXONOMY]).delete()
    Category.objects.filter(code__in=[c for c, *_ in TAXONOMY]).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
