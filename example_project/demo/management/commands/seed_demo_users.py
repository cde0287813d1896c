"""Create the demo accounts (idempotent) and print their logins."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from django_skillswap_payments.users import get_or_create_profile

DEMO_PASSWORD = "skillswap-demo"
DEMO_USERS = [
    ("alice", "Alice", "Anders", "buys Premium and tips"),
    ("bob", "Bob", "Brown", "receives tips, can also tip"),
    ("carol", "Carol", "Chen", "receives tips, can also tip"),
]
# The platform's operator: the staff page (revenue, refunds, disputes).
DEMO_STAFF = ("admin", "Ada", "Admin", "staff: refunds, disputes, revenue")


class Command(BaseCommand):
    help = "Create the demo users (one buyer, two tip recipients) and print their credentials."

    def handle(self, *args, **options):
        User = get_user_model()
        for username, first, last, role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@skillswap.example"},
            )
            if not user.email:  # accounts made before the demo sent receipts
                user.email = f"{username}@skillswap.example"
                user.save(update_fields=["email"])
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            get_or_create_profile(user)
            state = "created" if created else "exists "
            self.stdout.write(f"  {state}  {username:<6} / {DEMO_PASSWORD}   ({role})")
        username, first, last, role = DEMO_STAFF
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "is_staff": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        elif not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        state = "created" if created else "exists "
        self.stdout.write(f"  {state}  {username:<6} / {DEMO_PASSWORD}   ({role})")
