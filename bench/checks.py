"""What the database must hold after a benchmark's load, whatever the rate."""

from __future__ import annotations

from collections import defaultdict

from reception.models import TicketCounter, Visit


def ticket_numbers(site) -> tuple[int, bool]:
    """How many visits the site has, and whether each day and letter numbers them 1..N."""
    numbers = defaultdict(list)
    for local_date, letter, number in Visit.objects.filter(site=site).values_list(
        "local_date", "letter", "number"
    ):
        numbers[local_date, letter].append(number)
    counters = {
        (c.local_date, c.letter): c.last_number for c in TicketCounter.objects.filter(site=site)
    }
    gapless = all(
        sorted(found) == list(range(1, len(found) + 1)) and counters.get(day) == len(found)
        for day, found in numbers.items()
    )
    return sum(len(found) for found in numbers.values()), gapless
