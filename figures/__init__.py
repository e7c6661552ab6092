"""What reads across the product: the anonymous daily figures every app's `stats.py` counts,
the managers' dashboard, the monthly reports, the day close, and the demo that fills them all.
It sits above the other apps: none of them imports it."""
