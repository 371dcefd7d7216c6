"""manage.py show_coverage: print the national and per-province coverage figures, as the ministry reads them."""

from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.scoping import Role
from coverage import selectors


class Command(BaseCommand):
    help = "Print the national coverage figures and every province's, from the stored figures (as the API answers)."

    def handle(self, *args, **options):
        reader = User(role=Role.MINISTRY, is_active=True)  # an unsaved ministry reader: the whole country
        nation = selectors.national(user=reader)
        stale = " (đang chờ tính lại)" if nation["stale"] else ""
        self.stdout.write(f"Độ phủ toàn quốc{stale}:")
        self.stdout.write(
            f"  tỉnh phủ kín cấp xã {nation['provinces_complete']}/{nation['provinces_total']}; "
            f"xã có Tổ {nation['communes_covered']}/{nation['communes_total']}; "
            f"thôn, tổ dân phố có Tổ {nation['hamlets_covered']}/{nation['hamlets_total']}"
        )
        self.stdout.write(
            f"  {nation['teams_active']} Tổ, {nation['members_active']} thành viên, "
            f"{nation['activities']} hoạt động, {nation['people_helped']} lượt người được hỗ trợ"
        )
        for row in selectors.provinces(user=reader):
            if row["teams_active"] or row["hamlets_total"]:
                self.stdout.write(
                    f"  {row['code']} {row['name']}: xã có Tổ {row['communes_covered']}/{row['communes_total']}, "
                    f"{row['teams_active']} Tổ, {row['members_active']} thành viên"
                )
