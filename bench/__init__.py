"""Throughput, latency and memory benchmarks of websockets-style targets against raw picows.

Run ``python -m bench --help``; results go to ``reports/out/results/bench.json``.
"""
