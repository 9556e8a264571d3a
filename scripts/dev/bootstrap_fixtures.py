#!/usr/bin/env python3
"""Expected values for the tests of crates/results/src/stats/delong.rs, bootstrap.rs and the
normal quantile, computed in Python from published implementations.

Run from the repository root (the libraries go to a scratch folder, not into the repository):

    pip install --target /tmp/delong-py numpy==2.4.6 scipy==1.17.1 scikit-learn==1.9.1 MLstatkit==0.1.91
    PYTHONPATH=/tmp/delong-py python3 scripts/dev/bootstrap_fixtures.py            # prints the block
    PYTHONPATH=/tmp/delong-py python3 scripts/dev/bootstrap_fixtures.py --write crates/results/src/stats/tests/resampling/fixtures.rs

DeLong's test (DeLong, DeLong & Clarke-Pearson 1988) is computed here three ways, which must
agree before a fixture is written:
- `fast_delong`: Sun & Xu's algorithm (IEEE Signal Processing Letters 21(11), 2014), written
  from the paper with midranks: the AUCs of k scorings of the same samples and their covariance
  S = S10/m + S01/n; a contrast c of the AUCs has variance c'Sc. This gives the expected values.
- `pairwise_delong`: the 1988 paper's definition, O(m·n): the placements V10(x_i) = mean over
  negatives y_j of psi(x_i, y_j) (1 above, 1/2 tied, 0 below) and V01(y_j) likewise, their
  sample covariances over positives and negatives. Must equal the fast one to 1e-12.
- MLstatkit 0.1.91's `Delong_test` (PyPI; its own fast DeLong, documented as aligned with R's
  pROC::roc.test), for every two-scoring case: its z (signed B − A) and p must equal ours to
  1e-12. R and CRAN are not reachable from this machine, so pROC itself was not run.
The AUCs must also equal scikit-learn's `roc_auc_score` to 1e-12.

Percentiles are NumPy's default (`np.percentile`, linear interpolation); the normal quantile is
`scipy.special.ndtri`. Data are drawn from fixed seeds, so rerunning with the same versions
reproduces the block exactly.
"""

import sys

import MLstatkit
import numpy as np
import scipy
import sklearn
from MLstatkit import Delong_test
from scipy import special, stats
from sklearn.metrics import roc_auc_score


def midranks(x):
    """1-based ranks with ties at the mean of their positions."""
    order = np.argsort(x, kind="mergesort")
    z = x[order]
    ranks = np.empty(len(x))
    i = 0
    while i < len(x):
        j = i
        while j < len(x) and z[j] == z[i]:
            j += 1
        ranks[order[i:j]] = 0.5 * (i + j - 1) + 1
        i = j
    return ranks


def fast_delong(scores, truth):
    """AUCs and DeLong's covariance of the rows of `scores` (k × N) on 0/1 `truth` (Sun & Xu)."""
    pos, neg = scores[:, truth == 1], scores[:, truth == 0]
    m, n = pos.shape[1], neg.shape[1]
    aucs, v10, v01 = [], [], []
    for r in range(scores.shape[0]):
        tx, ty = midranks(pos[r]), midranks(neg[r])
        tz = midranks(np.concatenate([pos[r], neg[r]]))
        aucs.append(tz[:m].sum() / (m * n) - (m + 1) / (2 * n))
        v10.append((tz[:m] - tx) / n)  # per positive: the share of negatives below it
        v01.append(1 - (tz[m:] - ty) / m)  # per negative: the share of positives above it
    s10 = np.atleast_2d(np.cov(np.array(v10)))
    s01 = np.atleast_2d(np.cov(np.array(v01)))
    return np.array(aucs), s10 / m + s01 / n


def pairwise_delong(scores, truth):
    """The same from the definition: psi over every positive–negative pair."""
    pos, neg = scores[:, truth == 1], scores[:, truth == 0]
    m, n = pos.shape[1], neg.shape[1]
    psi = (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])
    v10, v01 = psi.mean(axis=2), psi.mean(axis=1)
    aucs = psi.mean(axis=(1, 2))
    return aucs, np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n


def contrast(k_a, k_b):
    """Mean of the first k_a AUCs minus the mean of the next k_b."""
    return np.concatenate([np.full(k_a, 1 / k_a), np.full(k_b, -1 / k_b)])


def delong_case(name, a, b, truth, level):
    scores = np.vstack([a, b])
    aucs, cov = fast_delong(scores, truth)
    aucs_p, cov_p = pairwise_delong(scores, truth)
    assert np.allclose(aucs, aucs_p, rtol=0, atol=1e-12) and np.allclose(cov, cov_p, rtol=0, atol=1e-12), name
    for r, row in enumerate(scores):
        assert abs(aucs[r] - roc_auc_score(truth, row)) <= 1e-12, name
    c = contrast(len(a), len(b))
    delta, var = c @ aucs, c @ cov @ c
    se = np.sqrt(var)
    z = delta / se if var > 0 else float("nan")
    p = 2 * stats.norm.sf(abs(z)) if var > 0 else float("nan")
    q = special.ndtri((1 + level) / 2)
    low, high = max(-1.0, delta - q * se), min(1.0, delta + q * se)
    if len(a) == 1 and len(b) == 1 and var > 0:
        # MLstatkit signs z as B − A: our a is its B.
        z_ml, p_ml = Delong_test(truth, b[0], a[0], return_ci=False, return_auc=False)
        assert abs(z_ml - z) <= 1e-12 * max(1, abs(z)) and abs(p_ml - p) <= 1e-12, (name, z_ml, z, p_ml, p)
    return dict(name=name, a=a, b=b, truth=truth, level=level, aucs=aucs, covariance=cov.ravel(),
                delta=delta, se=se, z=z, p=p, low=low, high=high)


def scored(rng, truth, separation, shared, noise=1.0, digits=None):
    """Scores of a model: truth shifts the mean by `separation`; `shared` is the images'
    difficulty every model of a case sees."""
    s = separation * truth + shared + noise * rng.standard_normal(len(truth))
    s = 1 / (1 + np.exp(-s))
    return np.round(s, digits) if digits is not None else s


def delong_cases():
    rng = np.random.default_rng(31)
    cases = []
    truth = (rng.random(40) < 0.4).astype(int)
    shared = rng.standard_normal(40)
    cases.append(delong_case("two models, 40 images", [scored(rng, truth, 1.5, shared)],
                             [scored(rng, truth, 1.0, shared)], truth, 0.95))
    truth = (rng.random(60) < 0.3).astype(int)
    shared = rng.standard_normal(60)
    cases.append(delong_case("two models, ties (2 decimals)", [scored(rng, truth, 1.2, shared, digits=2)],
                             [scored(rng, truth, 1.2, shared, digits=2)], truth, 0.9))
    truth = np.zeros(250, dtype=int)
    truth[rng.choice(250, 27, replace=False)] = 1
    shared = 0.8 * rng.standard_normal(250)
    a = [scored(rng, truth, 1.8, shared, noise=0.6) for _ in range(3)]
    b = [scored(rng, truth, 1.4, shared, noise=0.6) for _ in range(3)]
    cases.append(delong_case("3 seeds each, 250 images, 27 positives", a, b, truth, 0.95))
    truth = (rng.random(80) < 0.5).astype(int)
    shared = rng.standard_normal(80)
    a = [scored(rng, truth, 1.0, shared, digits=3) for _ in range(2)]
    b = [scored(rng, truth, 1.1, shared, digits=3) for _ in range(3)]
    cases.append(delong_case("2 seeds against 3, ties", a, b, truth, 0.99))
    truth = np.array([1, 0, 1, 0, 0, 1, 0, 1, 1, 0])
    same = np.array([0.9, 0.1, 0.8, 0.3, 0.2, 0.7, 0.4, 0.6, 0.95, 0.05])
    cases.append(delong_case("the same scores: no variance", [same], [same.copy()], truth, 0.95))
    return cases


def f(x):
    x = float(x)
    if np.isnan(x):
        return "f64::NAN"
    if np.isinf(x):
        return "f64::INFINITY" if x > 0 else "f64::NEG_INFINITY"
    return repr(x)


def floats(xs):
    return "&[" + ", ".join(f(x) for x in xs) + "]"


def block():
    out = ["// BEGIN GENERATED FIXTURES",
           f"// Made by scripts/dev/bootstrap_fixtures.py with NumPy {np.__version__}, SciPy {scipy.__version__}, "
           f"scikit-learn {sklearn.__version__}, MLstatkit {MLstatkit.__version__ if hasattr(MLstatkit, '__version__') else '0.1.91'}.",
           "// Do not edit by hand: rerun the script.",
           "use super::*;", ""]
    out.append("// normal_quantile: scipy.special.ndtri(p).")
    out.append("pub(super) const NORMAL_QUANTILES: &[(f64, f64)] = &[")
    for p in [1e-300, 1e-20, 1e-10, 1e-4, 0.001, 0.005, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 0.9,
              0.95, 0.975, 0.995, 0.999, 0.9999, 1 - 1e-10]:
        out.append(f"    ({f(p)}, {f(special.ndtri(p))}),")
    out += ["];", ""]
    out.append("// percentile_interval: np.percentile(values, [100 (1 - level) / 2, 100 (1 + level) / 2]).")
    out.append("pub(super) const PERCENTILE_CASES: &[PercentileCase] = &[")
    rng = np.random.default_rng(2000)
    for values, level in [
        (rng.standard_normal(501), 0.95),
        (np.round(rng.random(199), 2), 0.9),
        (np.array([0.5, 0.25, 0.75]), 0.95),
        (np.array([0.61, 0.61, 0.61, 0.7]), 0.5),
    ]:
        low, high = np.percentile(values, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
        out.append(f"    PercentileCase {{ values: {floats(values)}, level: {f(level)}, low: {f(low)}, high: {f(high)} }},")
    out += ["];", ""]
    out.append("// delong_test: fast DeLong (Sun & Xu 2014) = the pairwise definition (DeLong 1988) =")
    out.append("// MLstatkit.Delong_test for one scoring a side; the contrast is mean(a) − mean(b).")
    out.append("pub(super) const DELONG_CASES: &[DeLongCase] = &[")
    for c in delong_cases():
        out.append(
            f"    DeLongCase {{ name: {c['name']!r}, a: &[{', '.join(floats(s) for s in c['a'])}], "
            f"b: &[{', '.join(floats(s) for s in c['b'])}], truth: &[{', '.join(str(int(t)) for t in c['truth'])}], "
            f"level: {f(c['level'])}, aucs: {floats(c['aucs'])}, covariance: {floats(c['covariance'])}, "
            f"delta: {f(c['delta'])}, se: {f(c['se'])}, z: {f(c['z'])}, p: {f(c['p'])}, low: {f(c['low'])}, high: {f(c['high'])} }},"
            .replace("name: '", 'name: "').replace("', a:", '", a:'))
    out += ["];", "// END GENERATED FIXTURES", ""]
    return "\n".join(out)


if __name__ == "__main__":
    text = block()
    if len(sys.argv) > 2 and sys.argv[1] == "--write":
        open(sys.argv[2], "w").write(text)
    else:
        sys.stdout.write(text)
