from django.core.management.base import BaseCommand

from citedesmetiers.demo import DEMO_PASSWORD, STAFF, seed_demo
from citedesmetiers.history import seed_history


class Command(BaseCommand):
    help = "Create or refresh the demo site, its themes, partners and staff accounts (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--history",
            type=int,
            default=0,
            metavar="MONTHS",
            help="Also fill this many past months with realistic anonymous daily figures.",
        )

    def handle(self, *args, **options) -> None:
        site = seed_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo site “{site.name}” ({site.slug}) is ready."))
        if options["history"]:
            days = seed_history(site, options["history"])
            self.stdout.write(f"  {days} days of history added ({options['history']} months).")
        for email, _first_name, role, _partner in STAFF:
            self.stdout.write(f"  {role.label:<22} {email:<26} {DEMO_PASSWORD}")
