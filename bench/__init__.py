"""Benchmarks: `python -m bench [names...]`, each printing one `BENCH … PASS|FAIL` line.

What every benchmark needs, only from the standard library: `server.serve()` starts a real
gunicorn; `load.measure_rate(url)` and `load.measure_cycles(...)` load it from another process
(`loadgen`), bounded in time and in requests; `report.report(...)` prints the one line."""
