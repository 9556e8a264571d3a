#!/usr/bin/env python3
"""Expected values for the tests of crates/stages/src/ranking/, computed with scikit-learn.

Run from the repository root (the libraries go to a scratch folder, not into the repository):

    pip install --target /tmp/skl scikit-learn==1.9.1 numpy==2.4.6
    PYTHONPATH=/tmp/skl python3 scripts/dev/ranking_fixtures.py            # prints the block
    PYTHONPATH=/tmp/skl python3 scripts/dev/ranking_fixtures.py --write crates/stages/src/ranking/tests/fixtures.rs

Each case is one label: scores, 0/1 truth, and what `sklearn.metrics.roc_auc_score(y, s)` and
`sklearn.metrics.average_precision_score(y, s)` give, or the `Undefined` reason the Rust side
must give where scikit-learn has no number. Those are checked here against what scikit-learn
does: a label of one class makes `roc_auc_score` warn and return NaN (1.9; older versions
raised), a label without positives makes `average_precision_score` warn and return 0.0, and
empty input, a NaN or infinite score or a truth value other than 0/1 make both raise.

Scores of `F32` cases are float32 values (printed as NumPy's shortest float32 repr, which Rust
parses back to the same f32) and are given to scikit-learn as a float32 array; `F64` cases
print Python's `repr` of the double. The multi-label cases are row-major N×3 tables (labels
D, G, A) with the per-label values of `average=None` and the macro means of `average="macro"`.

The block is the whole of ranking/tests/fixtures.rs (`--write` replaces it), a module of the tests
that rustfmt skips. The data are deterministic (fixed seeds), so rerunning with the same
library versions reproduces the block exactly.
"""

import math
import sys
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import average_precision_score, roc_auc_score

out = []


def emit(line=""):
    out.append(line)


def f64(x):
    """A Rust f64 literal that parses to exactly the same double."""
    x = float(x)
    assert math.isfinite(x), x
    r = repr(x)
    if "e" not in r and "." not in r:
        r += ".0"
    if "e" in r and "." not in r.split("e")[0]:
        mant, exp = r.split("e")
        r = f"{mant}.0e{exp}"
    return r


def f32(x):
    """A Rust f32 literal that parses to exactly the same float32 (NumPy's shortest repr)."""
    x = np.float32(x)
    if np.isnan(x):
        return "f32::NAN"
    if np.isinf(x):
        return "f32::INFINITY" if x > 0 else "f32::NEG_INFINITY"
    r = np.format_float_scientific(x, unique=True, trim="-") if x != 0 and (
        abs(x) < 1e-4 or abs(x) >= 1e16) else np.format_float_positional(x, unique=True, trim="-")
    if "e" in r:
        mant, exp = r.split("e")
        if "." not in mant:
            mant += ".0"
        r = f"{mant}e{int(exp)}"
    elif "." not in r:
        r += ".0"
    assert np.float32(float(r)) == x and str(np.float32(r)) == str(x), (r, x)
    return r


def s(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scores_lit(scores):
    if scores.dtype == np.float32:
        return "F32(&[" + ", ".join(f32(x) for x in scores) + "])"
    assert scores.dtype == np.float64
    return "F64(&[" + ", ".join("f64::NAN" if np.isnan(x) else (
        ("f64::INFINITY" if x > 0 else "f64::NEG_INFINITY") if np.isinf(x) else f64(x))
        for x in scores) + "])"


def truth_lit(y):
    return "&[" + ", ".join(str(int(v)) for v in y) + "]"


def call(metric, y, scores):
    """('ok', value), ('nan', warning) / ('warned', (value, warning)) for scikit-learn's
    one-class answers, or ('raises', message)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            v = float(metric(y, scores))
        except (ValueError, IndexError) as e:
            return "raises", f"{type(e).__name__}: {str(e).splitlines()[0]}"
    words = "; ".join(str(w.message) for w in caught)
    if math.isnan(v):
        assert any(issubclass(w.category, UndefinedMetricWarning) for w in caught), words
        return "nan", words
    if caught:
        return "warned", (v, words)
    return "ok", v


def reason(y, scores, metric):
    """The Undefined variant the Rust side gives, in its order of checks, or None."""
    if len(y) == 0:
        return "Empty"
    bad = [i for i, v in enumerate(y) if v not in (0, 1)]
    if bad:
        return f"NotBinary {{ row: {bad[0]}, value: {int(y[bad[0]])} }}"
    bad = [i for i, v in enumerate(scores) if not np.isfinite(v)]
    if bad:
        return f"NotFinite {{ row: {bad[0]} }}"
    if not np.any(y == 1):
        return "NoPositives"
    if metric == "auroc" and not np.any(y == 0):
        return "NoNegatives"
    return None


def expected(metric, y, scores):
    """`Ok(value)` or `Err(Undefined::…)`, and a note of what scikit-learn did there."""
    fn = roc_auc_score if metric == "auroc" else average_precision_score
    kind, v = call(fn, y, scores)
    why = reason(y, scores, metric)
    if kind == "ok":
        assert why is None, (metric, why, v)
        return f"Ok({f64(v)})", None
    assert why is not None, (metric, kind, v)
    if kind == "nan":
        assert why in ("NoPositives", "NoNegatives"), (metric, why)
        return f"Err(Undefined::{why})", f"{fn.__name__} returns NaN, warning: {v}"
    if kind == "warned":
        value, words = v
        # average_precision_score without positives: recall set to one, AP = 0.0
        assert metric == "ap" and why == "NoPositives" and value == 0.0, (metric, why, v)
        return f"Err(Undefined::{why})", f"{fn.__name__} returns {value!r}, warning: {words}"
    return f"Err(Undefined::{why})", f"{fn.__name__} raises {v}"


# ----------------------------------------------------------------------------- single labels
rng = np.random.default_rng(20240607)


def labels(n, prevalence):
    """n labels with round(n * prevalence) positives (at least one of each when n >= 2)."""
    k = min(max(int(round(n * prevalence)), 1), n - 1) if n >= 2 else int(prevalence >= 0.5)
    y = np.zeros(n, dtype=np.int64)
    y[:k] = 1
    return rng.permutation(y)


def informative(y, separation=1.0):
    """Sigmoid probabilities that rank positives higher on average, as float32."""
    logits = separation * (2 * y - 1) + rng.standard_normal(len(y))
    return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


cases = []
for n in [2, 3, 10, 57, 200]:
    for prevalence in [0.1, 0.5, 0.85]:
        y = labels(n, prevalence)
        cases.append((f"random n = {n}, prevalence {prevalence}", informative(y), y))
y = labels(1000, 0.5)
cases.append(("random n = 1000, prevalence 0.5", informative(y), y))
y = labels(3000, 0.2)
cases.append(("random n = 3000, prevalence 0.2, weak", informative(y, 0.3), y))
y = labels(500, 0.5)
cases.append(("random n = 500, uninformative", rng.uniform(size=500).astype(np.float32), y))
y = labels(400, 0.3)
cases.append(("random n = 400, logits (negative scores)",
              ((2 * y - 1) * 0.8 + 3 * rng.standard_normal(400)).astype(np.float32), y))

# ties: scores rounded to one or two decimals, then to float32 (equal values stay equal)
for n, prevalence, decimals in [(20, 0.4, 1), (50, 0.3, 1), (500, 0.6, 1), (1000, 0.1, 2),
                                (300, 0.5, 0)]:
    y = labels(n, prevalence)
    p = np.round(informative(y).astype(np.float64), decimals).astype(np.float32)
    cases.append((f"ties: n = {n}, prevalence {prevalence}, {decimals} decimal(s)", p, y))
y = labels(200, 0.25)
p = np.round(informative(y, 2.0).astype(np.float64), 1).astype(np.float32)
cases.append(("ties: n = 200, well separated, 1 decimal", p, y))

# all scores equal
for n, k in [(2, 1), (7, 3), (40, 1), (40, 39)]:
    y = np.array([1] * k + [0] * (n - k))
    cases.append((f"all equal: {k} of {n} positive", np.full(n, 0.5, dtype=np.float32),
                  rng.permutation(y)))

# a single positive, or a single negative, at the top, in the middle, at the bottom, tied
base = np.linspace(0.05, 0.95, 20).astype(np.float32)[::-1]  # descending, distinct
for where, i in [("top", 0), ("middle", 9), ("bottom", 19)]:
    y = np.zeros(20, dtype=np.int64)
    y[i] = 1
    cases.append((f"single positive at the {where}", base.copy(), y))
    cases.append((f"single negative at the {where}", base.copy(), 1 - y))
p = base.copy()
p[8:12] = p[9]
y = np.zeros(20, dtype=np.int64)
y[10] = 1
cases.append(("single positive tied with three negatives", p, y))
cases.append(("single negative tied with three positives", p, 1 - y))

# perfect separation and its inverse, with and without ties inside each class
for name, p, y in [
    ("perfect separation", np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1, 0.05], np.float32),
     np.array([1, 1, 1, 0, 0, 0, 0])),
    ("perfect separation, ties within classes",
     np.array([0.9, 0.9, 0.6, 0.6, 0.6, 0.2, 0.2, 0.2], np.float32), np.array([1, 1, 1, 0, 0, 0, 0, 0])),
    ("perfectly inverted", np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1, 0.05], np.float32),
     np.array([0, 0, 0, 0, 1, 1, 1])),
    ("perfectly inverted, ties within classes",
     np.array([0.9, 0.9, 0.6, 0.6, 0.6, 0.2, 0.2, 0.2], np.float32), np.array([0, 0, 0, 0, 0, 1, 1, 1])),
    ("two samples, separated", np.array([0.2, 0.8], np.float32), np.array([0, 1])),
    ("two samples, inverted", np.array([0.2, 0.8], np.float32), np.array([1, 0])),
    ("two samples, tied", np.array([0.4, 0.4], np.float32), np.array([1, 0])),
    ("-0.0 ties with 0.0", np.array([0.0, -0.0, 0.0, -0.0, 1.0, -1.0], np.float32),
     np.array([1, 0, 0, 1, 1, 0])),
    ("extreme magnitudes", np.array([1e-30, -3e38, 3e38, 1e-45, 7.5, -1e-30, 0.0, 2e20], np.float32),
     np.array([0, 0, 1, 1, 1, 0, 0, 1])),
]:
    cases.append((name, p, y))

# f64 scores closer than float32 can tell: distinct here, tied if read as float32
p = 0.5 + np.array([3e-12, 2e-12, 1e-12, 0.0, -1e-12, -2e-12, 1e-3, -1e-3])
cases.append(("f64: distinct only in f64", p, np.array([0, 1, 0, 1, 1, 0, 1, 0])))
assert len(np.unique(p.astype(np.float32))) < len(np.unique(p))
y = labels(300, 0.4)
cases.append(("f64: random n = 300", 1.0 / (1.0 + np.exp(-((2 * y - 1) + rng.standard_normal(300)))), y))

# one class, empty, invalid
cases += [
    ("all negative", np.array([0.3, 0.1, 0.7, 0.7], np.float32), np.array([0, 0, 0, 0])),
    ("all positive", np.array([0.3, 0.1, 0.7, 0.7], np.float32), np.array([1, 1, 1, 1])),
    ("one sample, positive", np.array([0.6], np.float32), np.array([1])),
    ("one sample, negative", np.array([0.6], np.float32), np.array([0])),
    ("empty", np.array([], np.float32), np.array([], np.int64)),
    ("NaN score", np.array([0.3, np.nan, 0.7], np.float32), np.array([0, 1, 1])),
    ("infinite score", np.array([0.3, 0.5, np.inf], np.float64), np.array([0, 1, 1])),
    ("minus infinite score", np.array([-np.inf, 0.5, 0.2], np.float32), np.array([0, 1, 1])),
    ("truth value 2", np.array([0.3, 0.5, 0.2], np.float32), np.array([0, 1, 2])),
]

emit("// One label: sklearn.metrics.roc_auc_score(y, s) and average_precision_score(y, s), or the")
emit("// reason the Rust side refuses (what scikit-learn does there is noted above the case).")
emit("pub(super) const CASES: &[Case] = &[")
for name, p, y in cases:
    auroc, auroc_note = expected("auroc", y, p)
    ap, ap_note = expected("ap", y, p)
    for note in dict.fromkeys(n for n in [auroc_note, ap_note] if n):
        emit(f"    // {note}")
    emit(f"    Case {{ name: {s(name)}, scores: {scores_lit(p)}, truth: {truth_lit(y)}, "
         f"auroc: {auroc}, average_precision: {ap} }},")
emit("];")
emit()

# ----------------------------------------------------------------------------- multi-label
def table(n, prevalences, decimals=None):
    y = np.stack([labels(n, q) for q in prevalences], axis=1)
    p = np.stack([informative(y[:, c], 1.0 + 0.5 * c) for c in range(y.shape[1])], axis=1)
    if decimals is not None:
        p = np.round(p.astype(np.float64), decimals).astype(np.float32)
    return p, y


tables = [("N = 300", *table(300, [0.3, 0.1, 0.5])),
          ("N = 60, ties", *table(60, [0.4, 0.2, 0.5], decimals=1))]
p, y = table(40, [0.3, 0.5, 0.2])
y[:, 1] = 0
tables.append(("N = 40, label G without positives", p, y))
p, y = table(12, [0.5, 0.5, 0.5])
y[:, 0] = 1
y[:, 2] = 0
tables.append(("N = 12, D all positive, A all negative", p, y))

emit("// Row-major N×3 tables: roc_auc_score / average_precision_score(Y, S, average=None) per")
emit("// label, and the macro means over the labels where the value is defined (the number left")
emit("// out beside it): scikit-learn's average=\"macro\" where every label is defined, its nanmean")
emit("// of average=None otherwise (average=\"macro\" itself is then NaN for roc_auc_score and")
emit("// counts 0.0 for average_precision_score).")
emit("pub(super) const TABLES: &[Table] = &[")
for name, p, y in tables:
    n_labels = y.shape[1]
    per = []
    for c in range(n_labels):
        auroc, _ = expected("auroc", y[:, c], p[:, c])
        ap, _ = expected("ap", y[:, c], p[:, c])
        per.append(f"({auroc}, {ap})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per_auroc = roc_auc_score(y, p, average=None)
        per_ap = average_precision_score(y, p, average=None)
        macro_auroc = roc_auc_score(y, p, average="macro")
        macro_ap = average_precision_score(y, p, average="macro")
    defined_auroc = [c for c in range(n_labels) if reason(y[:, c], p[:, c], "auroc") is None]
    defined_ap = [c for c in range(n_labels) if reason(y[:, c], p[:, c], "ap") is None]
    for c in range(n_labels):  # average=None agrees with the one-label calls
        assert (c in defined_auroc) != np.isnan(per_auroc[c])
        if c in defined_ap:
            assert per_ap[c] == average_precision_score(y[:, c], p[:, c])
    want_auroc = np.nanmean(per_auroc)
    want_ap = np.mean(per_ap[defined_ap])
    if len(defined_auroc) == n_labels:
        assert want_auroc == macro_auroc
    else:
        assert np.isnan(macro_auroc)
    if len(defined_ap) == n_labels:
        assert want_ap == macro_ap
    emit(f"    Table {{ name: {s(name)}, n_labels: {n_labels}, "
         f"probabilities: &[{', '.join(f32(x) for x in p.ravel())}], "
         f"labels: {truth_lit(y.ravel())}, per_label: &[{', '.join(per)}], "
         f"macro_auroc: ({f64(want_auroc)}, {n_labels - len(defined_auroc)}), "
         f"macro_average_precision: ({f64(want_ap)}, {n_labels - len(defined_ap)}) }},")
emit("];")

header = [
    "// BEGIN GENERATED FIXTURES",
    f"// Made by scripts/dev/ranking_fixtures.py with scikit-learn {sklearn.__version__}, "
    f"NumPy {np.__version__}.",
    "// Do not edit by hand: rerun the script.",
    "use super::*;",
    "use Scores::{F32, F64};",
    "",
]
block = "\n".join(header + out + ["// END GENERATED FIXTURES"]) + "\n"

if len(sys.argv) == 3 and sys.argv[1] == "--write":
    open(sys.argv[2], "w", encoding="utf-8").write(block)
else:
    print(block, end="")
