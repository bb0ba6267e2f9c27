"""The shared graph vocabulary (abuse/graphs.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, random
from abuse import graphs
rng = random.Random(3)
pairs = []
for group in ("a", "b", "c"):  # three components, each one Louvain cuts
    names = [f"shop_{group}{i:03d}" for i in range(40)]
    pairs += [(rng.choice(names), rng.choice(names), 1.0) for _ in range(70)]
pairs = [(a, b, w) for a, b, w in pairs if a != b]
print(json.dumps([sorted(c) for c in graphs.communities(pairs, seed=0)]))
"""


def test_communities_do_not_depend_on_the_string_hash_of_the_process() -> None:
    """Louvain's seeded shuffle starts from node order; a set of strings iterates in the order of
    the process's string hash, so without relabelling two nightly runs could cut rings differently."""
    outs = []
    for hash_seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
        outs.append(json.loads(done.stdout))
    assert len(outs[0]) > 2  # a graph that Louvain actually cuts
    assert outs[0] == outs[1] == outs[2]
