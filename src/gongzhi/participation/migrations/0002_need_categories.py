"""The need categories every community starts with (an editable table afterwards, in the Django admin)."""

from django.db import migrations

CATEGORIES = [
    ("elderly", "助老", "老人 老年 独居 高龄 助餐 送餐 陪诊 养老 助老 空巢 失能"),
    ("children", "儿童课后", "儿童 孩子 学生 课后 辅导 作业 托管 四点半 未成年"),
    ("accessibility", "无障碍", "无障碍 残疾 轮椅 坡道 扶手 盲道 适老化 电梯"),
    ("environment", "环境", "环境 卫生 垃圾 分类 绿化 楼道 清理 整治 晾晒"),
    ("safety", "安全", "安全 消防 电动车 充电 隐患 燃气 防诈 治安"),
    ("employment", "就业", "就业 招聘 培训 岗位 技能 创业 求职"),
    ("culture", "文化", "文化 文艺 演出 读书 图书 书法 宣讲 活动"),
    ("health", "健康", "健康 医疗 义诊 体检 血压 家庭医生 康复"),
    ("legal", "法律", "法律 咨询 调解 普法 律师 维权 纠纷"),
]


def seed(apps, schema_editor):
    NeedCategory = apps.get_model("participation", "NeedCategory")
    for order, (code, name, keywords) in enumerate(CATEGORIES, start=1):
        NeedCategory.objects.get_or_create(code=code, defaults={"name": name, "keywords": keywords, "order": order})


class Migration(migrations.Migration):
    dependencies = [("participation", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
