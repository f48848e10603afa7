"""What the course costs, measured: run from the repository root as ``python -m benchmarks.<name>``.

* :mod:`benchmarks.run_benchmarks` -- every notebook's time, memory and printed speed-ups
  (``make bench``), written to ``benchmarks/results.{md,csv,png}``;
* :mod:`benchmarks.parallel_search` -- lesson 03's grid search, serial against every core.
"""
