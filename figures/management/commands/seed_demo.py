from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from figures.demo import DEMO_PASSWORD, STAFF, seed_demo
from figures.history import seed_history

FLAG = "--i-know-this-resets-passwords"


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
        parser.add_argument(
            FLAG,
            action="store_true",
            dest="resets_passwords",
            help="Run even with DEBUG off, knowing that the demo accounts get the demo password.",
        )

    def handle(self, *args, **options) -> None:
        # The demo accounts (a manager among them) get a password printed in the README: on a
        # server people can reach, anyone could log in with them.
        if not settings.DEBUG and not options["resets_passwords"]:
            raise CommandError(
                _(
                    "DEBUG is off: this looks like a real server. seed_demo would give %(count)d "
                    "demo accounts, a manager's among them, the password everyone knows "
                    "(“%(password)s”). Run it with DEBUG on, or add %(flag)s if that is "
                    "really what you want."
                )
                % {"count": len(STAFF), "password": DEMO_PASSWORD, "flag": FLAG}
            )
        site = seed_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo site “{site.name}” ({site.slug}) is ready."))
        if options["history"]:
            days = seed_history(site, options["history"])
            self.stdout.write(f"  {days} days of history added ({options['history']} months).")
        for email, _first_name, role, _partner in STAFF:
            self.stdout.write(f"  {role.label:<22} {email:<26} {DEMO_PASSWORD}")
