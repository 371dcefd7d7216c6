"""The activity types shipped with the product (the ministry adds and deactivates others via the API)."""

from django.db import migrations

TYPES = [
    ("policy_outreach", "Tuyên truyền chủ trương, chính sách về chuyển đổi số", "Policy outreach"),
    ("vneid", "Hướng dẫn cài đặt, kích hoạt VNeID mức độ 2", "VNeID install and level-2 activation"),
    ("online_public_services", "Hướng dẫn sử dụng dịch vụ công trực tuyến", "Online public services"),
    (
        "cashless_payment",
        "Mở tài khoản ngân hàng, ví điện tử, thanh toán không dùng tiền mặt",
        "Bank account, e-wallet and cashless payment",
    ),
    ("digital_signature", "Chữ ký số cá nhân", "Personal digital signature"),
    (
        "ecommerce_onboarding",
        "Đưa nông sản, sản phẩm hộ kinh doanh lên sàn thương mại điện tử",
        "E-commerce onboarding for farmers and household businesses",
    ),
    ("online_shopping", "Mua sắm trực tuyến", "Online shopping"),
    ("online_safety", "An toàn trên không gian mạng, phòng chống lừa đảo", "Online safety and scam awareness"),
    ("digital_health_education", "Ứng dụng y tế số, giáo dục số", "Digital health and education apps"),
    ("provincial_citizen_app", "Ứng dụng công dân số của tỉnh", "The provincial citizen app"),
    ("digital_literacy_class", "Lớp Bình dân học vụ số", "Bình dân học vụ số digital-literacy class"),
    (
        "hamlet_chat_group",
        "Thiết lập nhóm trao đổi trực tuyến của thôn, tổ dân phố",
        "Setting up a hamlet chat group",
    ),
    ("citizen_feedback", "Tiếp nhận phản ánh, kiến nghị của người dân", "Taking in citizen feedback"),
    ("member_training", "Tập huấn thành viên Tổ", "Member training"),
    ("other", "Khác", "Other"),
]


def forward(apps, schema_editor):
    ActivityType = apps.get_model("activities", "ActivityType")
    for order, (code, name_vi, name_en) in enumerate(TYPES, start=1):
        ActivityType.objects.update_or_create(
            code=code, defaults={"name_vi": name_vi, "name_en": name_en, "sort_order": order * 10}
        )


def backward(apps, schema_editor):
    apps.get_model("activities", "ActivityType").objects.filter(code__in=[t[0] for t in TYPES]).delete()


HAMLET_IN_COMMUNE = (
    "ALTER TABLE activities_activity ADD CONSTRAINT activity_hamlet_in_commune "
    "FOREIGN KEY (hamlet_id, commune_id) REFERENCES areas_hamlet (id, commune_id) DEFERRABLE INITIALLY DEFERRED"
)


def hamlet_fk_forward(apps, schema_editor):
    # PostgreSQL only: SQLite cannot add a constraint to an existing table (the service checks it there).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(HAMLET_IN_COMMUNE)


def hamlet_fk_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE activities_activity DROP CONSTRAINT IF EXISTS activity_hamlet_in_commune")


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_initial"), ("areas", "0001_initial")]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.RunPython(hamlet_fk_forward, hamlet_fk_backward),
    ]
