#!/usr/bin/env python3
"""Reference Gaussian mixtures for `tests/integration/gmm_matches_sklearn.rs`, computed with
scikit-learn.

Reads the 2,000 x 6 matrix of `tests/data/kmeans_fixture.json` (five Gaussian blobs, made by
`kmeans_fixture.py`) and writes `tests/data/gmm_fixture.json`: for k = 2..8 the BIC, AIC and mean
log-likelihood of `GaussianMixture(n_components=k, covariance_type="full", n_init=5,
random_state=0)`, the k with the lowest BIC, and for k = 5 the fitted weights, means and
covariances with `predict_proba` of the first 20 rows — so the Rust side can check its
likelihood, BIC, AIC and membership probabilities on exactly scikit-learn's parameters.

    pip install numpy scikit-learn      # Python 3.9+; made with the versions recorded in the file
    python3 tests/reference/gmm_fixture.py
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"
KS = range(2, 9)
DETAIL_K = 5


def main():
    x = np.array(json.loads((DATA / "kmeans_fixture.json").read_text())["x"])
    scores = {}
    detail = None
    for k in KS:
        gm = GaussianMixture(
            n_components=k, covariance_type="full", n_init=5, random_state=0
        ).fit(x)
        scores[str(k)] = {
            "bic": float(gm.bic(x)),
            "aic": float(gm.aic(x)),
            "mean_log_likelihood": float(gm.score(x)),
        }
        if k == DETAIL_K:
            detail = {
                "k": k,
                "weights": gm.weights_.tolist(),
                "means": gm.means_.tolist(),
                "covariances": gm.covariances_.tolist(),
                "predict_proba_first_20": gm.predict_proba(x[:20]).tolist(),
            }
    best_k = min(scores, key=lambda k: scores[k]["bic"])
    fixture = {
        "generator": "tests/reference/gmm_fixture.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "model": 'GaussianMixture(n_components=k, covariance_type="full", n_init=5, random_state=0)',
        "matrix": "tests/data/kmeans_fixture.json",
        "scores": scores,
        "best_k_by_bic": int(best_k),
        "detail": detail,
    }
    out = DATA / "gmm_fixture.json"
    out.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {out}; lowest BIC at k = {best_k}")
    for k, s in scores.items():
        print(f"  k = {k}: BIC {s['bic']:.2f}  AIC {s['aic']:.2f}")


if __name__ == "__main__":
    main()
