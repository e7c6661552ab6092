"""Benchmarks: `python -m bench [names...]`, each printing one `BENCH … PASS|FAIL` line."""
