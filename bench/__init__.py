"""Benchmarks: plain scripts that print ratios measured side by side in one run (`make bench`)."""
