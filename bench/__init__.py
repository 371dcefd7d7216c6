"""Benchmarks (`make bench`, `make bench-quick`): not part of the test suite, not part of the product."""
