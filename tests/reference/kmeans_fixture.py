#!/usr/bin/env python3
"""Reference k-means inertias for `tests/integration/kmeans_matches_sklearn.rs`, computed with
scikit-learn.

Writes `tests/data/kmeans_fixture.json` (relative to the repository root): a 2,000 x 6 matrix of
5 Gaussian blobs with different sizes and spreads (`numpy.random.default_rng(2024)`, rows
shuffled, every value rounded to 1e-6 — the rounded values are what scikit-learn fits here and
what the Rust test reads), and for k in 3, 5, 8 the inertia of
`KMeans(n_clusters=k, n_init=10, random_state=0)`, scikit-learn's best of 10 k-means++ runs.
Re-running the script reproduces the file (inertias may move in the last digits across
scikit-learn/numpy versions).

    pip install numpy scikit-learn      # Python 3.9+; made with the versions recorded in the file
    python3 tests/reference/kmeans_fixture.py
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.cluster import KMeans

OUT = pathlib.Path(__file__).resolve().parents[1] / "data" / "kmeans_fixture.json"
KS = [3, 5, 8]


def main():
    rng = np.random.default_rng(2024)
    n_features = 6
    sizes = [700, 500, 400, 250, 150]
    spreads = [1.0, 1.6, 0.7, 1.3, 2.0]
    centers = rng.normal(0.0, 3.0, size=(len(sizes), n_features))
    blocks = [c + s * rng.normal(size=(n, n_features)) for n, c, s in zip(sizes, centers, spreads)]
    x = np.vstack(blocks)[rng.permutation(sum(sizes))]
    # Round to 6 decimals through the decimal string, so the doubles scikit-learn fits are
    # exactly the ones Rust parses from the JSON (written by repr, which round-trips).
    x = np.array([[float(f"{v:.6f}") for v in row] for row in x])

    inertias = {}
    for k in KS:
        km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x)
        inertias[str(k)] = float(km.inertia_)

    fixture = {
        "generator": "tests/reference/kmeans_fixture.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "kmeans": "KMeans(n_clusters=k, n_init=10, random_state=0)",
        "inertia_sklearn": inertias,
        "x": x.tolist(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    for k, v in inertias.items():
        print(f"  k = {k}: inertia {v!r}")


if __name__ == "__main__":
    main()
