"""Learn tag values from the org's own tagged resources; calibrated confidence; a keyword baseline.

:class:`KeyModel` is a per-key classifier over binary features: scikit-learn logistic regression
(``auto`` up to 2,000 examples; SGD with log loss above, for linear time; naive Bayes on request:
the eval measured NB over-counting correlated features such as account id + account name). Its
raw top-class probability is mapped to a *calibrated* confidence by isotonic regression fitted on
out-of-fold predictions, so "confidence 0.9" means about 9 in 10 such suggestions were right on
the org's own held-out resources. It only ever predicts values the org already uses.
:class:`KeywordBaseline` is the rule everyone writes first (a known value appears in the name);
the eval measures both in the same run.
"""

from __future__ import annotations

import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from tools.tagging.features import describe, tokens

Algo = Literal["auto", "nb", "lr", "sgd"]
LR_MAX_SAMPLES = 2_000  # above this, "auto" uses SGD (log loss): same family, linear time
CV_FOLDS = 3
MIN_FOR_CALIBRATION = 20


@dataclass
class Prediction:
    value: str
    confidence: float
    raw: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def _estimator(algo: Algo, n: int) -> Any:
    if algo == "auto":
        algo = "lr" if n <= LR_MAX_SAMPLES else "sgd"
    if algo == "lr":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=4.0, max_iter=100, tol=1e-3)
    if algo == "sgd":
        from sklearn.linear_model import SGDClassifier

        return SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=12, tol=None, random_state=0)
    from sklearn.naive_bayes import MultinomialNB

    return MultinomialNB(alpha=0.05)


class KeyModel:
    """A classifier for one tag key with calibrated confidence and feature-level evidence."""

    def __init__(self, key: str, algo: Algo = "auto") -> None:
        self.key = key
        self.algo = algo
        self.classes: list[str] = []
        self._vec: Any = None
        self._clf: Any = None
        self._iso: Any = None
        self._stats: dict[str, Counter[str]] = defaultdict(Counter)
        self._n = 0

    def _fit_raw(self, X: Any, y: list[str]) -> Any:
        if len(set(y)) < 2:
            return None
        clf = _estimator(self.algo, len(y))
        X = X.tocsr()
        X.indices, X.indptr = X.indices.astype("int32"), X.indptr.astype("int32")  # SGD needs 32-bit
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "many classes for few samples", convergence notes
            clf.fit(X, y)
        return clf

    def fit(self, feats: list[list[str]], labels: list[str]) -> KeyModel:
        """Train on resources that carry the key: features per resource, and the value each has."""
        from sklearn.feature_extraction import DictVectorizer

        self._n = len(labels)
        self.classes = sorted(set(labels))
        self._vec = DictVectorizer(dtype=float)
        X = self._vec.fit_transform([dict.fromkeys(f, 1.0) for f in feats])
        self._clf = self._fit_raw(X, labels)
        for f, label in zip(feats, labels, strict=True):
            for feat in f:
                self._stats[feat][label] += 1
        self._calibrate(X, labels)
        return self

    def _calibrate(self, X: Any, y: list[str]) -> None:
        if self._clf is None or len(y) < MIN_FOR_CALIBRATION:
            return
        import numpy as np
        from sklearn.isotonic import IsotonicRegression
        from sklearn.model_selection import KFold

        raw = np.zeros(len(y))
        hit = np.zeros(len(y))
        labels = np.array(y, dtype=object)
        for train, test in KFold(CV_FOLDS, shuffle=True, random_state=0).split(X):
            clf = self._fit_raw(X[train], list(labels[train]))
            if clf is None:
                raw[test], hit[test] = 1.0, labels[test] == labels[train][0]
                continue
            proba = clf.predict_proba(X[test])
            top = proba.argmax(axis=1)
            raw[test] = proba.max(axis=1)
            hit[test] = clf.classes_[top] == labels[test]
        # Anchor: a top-class probability at chance level means chance-level accuracy. Without it a
        # score below everything seen out-of-fold would be clipped up to the lowest seen accuracy.
        chance = 1.0 / len(self.classes)
        raw = np.append(raw, chance)
        hit = np.append(hit, chance)
        self._iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, hit)

    def confidences(self, raw: list[float]) -> list[float]:
        """Calibrated confidence for raw top-class probabilities (vectorised)."""
        if self._iso is not None and raw:
            shrink = self._n / (self._n + 1)  # never claim certainty from a finite sample
            return [float(c) * shrink for c in self._iso.predict(raw)]
        return [r * self._n / (self._n + 2) for r in raw]  # few examples: shrink toward "unsure"

    def evidence(self, feats: list[str], value: str, limit: int = 3) -> list[str]:
        """The resource's features that most often go with ``value`` among tagged resources."""
        scored = []
        for feat in feats:
            counts = self._stats.get(feat)
            if not counts or counts[value] < 2:
                continue
            total = sum(counts.values())
            scored.append(((counts[value] + 1) / (total + 2), counts[value], feat, total))
        scored.sort(reverse=True)
        return [
            f"{describe(feat)}: {n}/{total} tagged resources with it have {self.key}={value}"
            for _, n, feat, total in scored[:limit]
        ]

    def predict(self, feats: list[list[str]]) -> list[Prediction]:
        if not self.classes or not feats:
            return []
        if self._clf is None:
            only = self.classes[0]
            conf = self.confidences([1.0])[0]
            return [Prediction(only, conf, 1.0, [(only, 1.0)], self.evidence(f, only)) for f in feats]
        X = self._vec.transform([dict.fromkeys(f, 1.0) for f in feats])
        proba = self._clf.predict_proba(X)
        order = proba.argsort(axis=1)[:, ::-1][:, :3]
        classes = [str(c) for c in self._clf.classes_]
        raws = [float(proba[i, order[i, 0]]) for i in range(len(feats))]
        confs = self.confidences(raws)
        out: list[Prediction] = []
        for i, f in enumerate(feats):
            alts = [(classes[j], float(proba[i, j])) for j in order[i]]
            value = alts[0][0]
            out.append(Prediction(value, confs[i], raws[i], alts, self.evidence(f, value)))
        return out


class KeywordBaseline:
    """The first rule people write: a value the org uses for the key appears in the resource's name."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._values: dict[tuple[str, ...], str] = {}

    def fit(self, labels: list[str]) -> KeywordBaseline:
        for value in set(labels):
            toks = tuple(tokens(value))
            if toks:
                self._values[toks] = value
        return self

    def predict_one(self, name_tokens: list[str]) -> str | None:
        present = set(name_tokens)
        joined = "-".join(name_tokens)
        matches = [
            (len(toks), value)
            for toks, value in self._values.items()
            if set(toks) <= present and (len(toks) == 1 or "-".join(toks) in joined)
        ]
        if not matches:
            return None
        matches.sort(reverse=True)
        if len(matches) > 1 and matches[0][0] == matches[1][0]:
            return None  # ambiguous: a rule would not pick
        return matches[0][1]
