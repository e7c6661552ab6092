from django.core.management.base import BaseCommand

from citedesmetiers.demo import DEMO_PASSWORD, STAFF, seed_demo


class Command(BaseCommand):
    help = "Create or refresh the demo site, its themes, partners and staff accounts (idempotent)."

    def handle(self, *args, **options) -> None:
        site = seed_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo site “{site.name}” ({site.slug}) is ready."))
        for email, _first_name, role, _partner in STAFF:
            self.stdout.write(f"  {role.label:<22} {email:<26} {DEMO_PASSWORD}")
