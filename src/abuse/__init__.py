"""abuse: e-commerce abuse analytics over DuckDB, polars and networkx.

Data moves one way: landing files -> raw -> staging -> features -> detectors -> findings ->
report views. Nothing in this package imports Prefect; `flows/` wires it.
"""

__version__ = "0.1.0"
