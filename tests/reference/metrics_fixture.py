#!/usr/bin/env python3
"""Reference values for `src/metrics/`, computed with scikit-learn.

Writes `tests/data/metrics_fixture.json` (relative to the repository root). Everything is
deterministic: the data come from `numpy.random.default_rng(7)` and KMeans uses
`random_state=0`, so re-running the script reproduces the file (up to scikit-learn/numpy
version differences in KMeans, which only move the reference labels, not the checks).

    pip install numpy scikit-learn
    python tests/reference/metrics_fixture.py
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_mutual_info_score,
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    normalized_mutual_info_score,
    silhouette_samples,
    silhouette_score,
)

OUT = pathlib.Path(__file__).resolve().parents[1] / "data" / "metrics_fixture.json"


def numpy_inertia(x, labels, centroids):
    return float(((x - centroids[labels]) ** 2).sum())


def internal_scores(x, labels):
    """The label-only quality scores; labels may be arbitrary ids."""
    return {
        "silhouette": float(silhouette_score(x, labels)),
        "calinski_harabasz": float(calinski_harabasz_score(x, labels)),
        "davies_bouldin": float(davies_bouldin_score(x, labels)),
    }


def agreement(name, a, b):
    a = [int(v) for v in a]
    b = [int(v) for v in b]
    return {
        "name": name,
        "a": a,
        "b": b,
        "ari": float(adjusted_rand_score(a, b)),
        "nmi": float(normalized_mutual_info_score(a, b, average_method="arithmetic")),
        "ami": float(adjusted_mutual_info_score(a, b, average_method="arithmetic")),
    }


def main():
    rng = np.random.default_rng(7)

    # --- main case: 4 overlapping gaussian blobs, 600 x 5, unequal sizes and spreads.
    n_features = 5
    sizes = [200, 170, 130, 100]
    centers = rng.normal(0.0, 2.2, size=(len(sizes), n_features))
    spreads = [1.0, 1.4, 0.8, 1.8]
    blocks, truth = [], []
    for blob, (size, centre, spread) in enumerate(zip(sizes, centers, spreads)):
        blocks.append(centre + spread * rng.normal(size=(size, n_features)))
        truth += [blob] * size
    x = np.vstack(blocks)
    truth = np.array(truth)
    order = rng.permutation(len(x))  # interleave blobs so rows are not sorted by cluster
    x, truth = x[order], truth[order]

    km = KMeans(n_clusters=4, n_init=10, random_state=0).fit(x)
    labels = km.labels_.astype(int)
    centroids = km.cluster_centers_
    main_case = {
        "x": x.tolist(),
        "labels": labels.tolist(),
        "centroids": centroids.tolist(),
        "truth": truth.tolist(),
        "inertia_numpy": numpy_inertia(x, labels, centroids),
        "inertia_sklearn": float(km.inertia_),
        **internal_scores(x, labels),
        "ari": float(adjusted_rand_score(truth, labels)),
        "nmi": float(normalized_mutual_info_score(truth, labels)),
        "ami": float(adjusted_mutual_info_score(truth, labels)),
    }

    # --- non-contiguous ids: a 5-cluster KMeans on the same rows, relabelled to sparse ids,
    # against the truth relabelled to other sparse ids.
    km5 = KMeans(n_clusters=5, n_init=10, random_state=0).fit(x)
    label_ids = np.array([2, 3, 7, 10, 42])
    truth_ids = np.array([100, 0, 5, 9])
    nc_labels = label_ids[km5.labels_]
    nc_truth = truth_ids[truth]
    noncontiguous = {
        "labels": nc_labels.tolist(),
        "truth": nc_truth.tolist(),
        "centroids": km5.cluster_centers_.tolist(),  # row r belongs to id label_ids[r]
        "inertia_sklearn": float(km5.inertia_),
        **internal_scores(x, nc_labels),
        "ari": float(adjusted_rand_score(nc_truth, nc_labels)),
        "nmi": float(normalized_mutual_info_score(nc_truth, nc_labels)),
        "ami": float(adjusted_mutual_info_score(nc_truth, nc_labels)),
    }

    # --- singleton cluster: id 5 has one member (its silhouette must be 0); ids 1 and 9
    # share a duplicated point so one pair sits at distance 0 across clusters.
    xs = np.array(
        [
            [0.0, 0.0], [0.3, -0.2], [-0.4, 0.1], [0.2, 0.5], [0.1, 0.1],
            [4.0, 4.2], [4.5, 3.9], [3.8, 4.4], [4.1, 4.1],
            [9.0, -1.0],
            [0.1, 0.1], [-3.5, 2.0], [-3.0, 2.4],
        ]
    )
    ls = np.array([1, 1, 1, 1, 1, 3, 3, 3, 3, 5, 9, 9, 9])
    singleton = {
        "x": xs.tolist(),
        "labels": ls.tolist(),
        "silhouette_samples": silhouette_samples(xs, ls).tolist(),
        **internal_scores(xs, ls),
    }

    # --- label-agreement cases, including sklearn's special cases.
    arng = np.random.default_rng(11)
    cases = [
        agreement("identical", [0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2]),
        agreement("permuted_ids", [0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9]),
        agreement("both_single_cluster", [4, 4, 4, 4], [1, 1, 1, 1]),
        agreement("one_single_cluster", [0, 0, 1, 1, 2], [3, 3, 3, 3, 3]),
        agreement("all_singletons_vs_two", [0, 1, 2, 3, 4, 5], [0, 0, 0, 1, 1, 1]),
        agreement("split_cluster", [0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 2, 2, 3, 3]),
        agreement("small_mixed", [0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]),
        agreement("random_200", arng.integers(0, 6, 200), arng.integers(0, 4, 200)),
        agreement(
            "random_5000_sparse_ids",
            arng.choice([3, 17, 40, 41, 99, 1000, 7, 8, 12, 13], 5000),
            arng.choice([0, 2, 4, 6, 8, 10, 12, 14], 5000),
        ),
        agreement("truth_vs_kmeans", truth, labels),
    ]

    fixture = {
        "generator": "tests/reference/metrics_fixture.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "main": main_case,
        "noncontiguous": noncontiguous,
        "singleton": singleton,
        "agreement": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {OUT}")
    for key in ("inertia_numpy", "inertia_sklearn", "silhouette", "calinski_harabasz",
                "davies_bouldin", "ari", "nmi", "ami"):
        print(f"  main.{key} = {main_case[key]!r}")


if __name__ == "__main__":
    main()
