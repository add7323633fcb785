#!/usr/bin/env python3
"""Evaluation-metric goldens for QuernLearning's ClassificationEvaluation,
RegressionEvaluation and CrossValidationSummary, computed by scikit-learn.

Writes
  Tests/QuernLearningTests/Goldens/metrics-goldens.json

Each classification case holds its inputs (class names, true class indices,
predicted probabilities [N][C] as exact doubles) and what scikit-learn
1.9.1 says about them:
  accuracy_score, precision_recall_fscore_support(labels=range(C)) with the
  default zero_division="warn" (which yields 0, as zero_division=0 does — the
  script checks that), precision/recall/f1 with average micro|macro|weighted,
  roc_auc_score (binary: the positive class is index 1; several classes:
  multi_class="ovr"), roc_curve per class (one-vs-rest, drop_intermediate as
  by default), log_loss(labels=range(C)), confusion_matrix(labels=range(C)).

A class absent from the test set: scikit-learn 1.9.1's
roc_auc_score(multi_class="ovr", labels=...) does not raise, it warns
("Only one class is present in y_true") and returns NaN for that class, so
the macro average is NaN too. Quern averages over the classes that are
present and names the excluded ones; the golden computes exactly that here:
np.nanmean(roc_auc_score(..., average=None)). A test set of one class only
has no defined ROC-AUC at all (null).

Regression cases: mean_absolute_error, root_mean_squared_error, r2_score
(a constant target: 1.0 if predicted exactly, else 0.0 — force_finite; fewer
than two samples: NaN, written as null).

The cross-validation case splits one classification case into folds
(example i goes to fold i mod K) and records each fold's metrics with their
mean and np.std (ddof=0, numpy's default).

Non-finite numbers have no JSON spelling: NaN is written as null and the
+inf first threshold of every ROC curve is left out (Quern's is +infinity).

Run: ~/.cache/quern/venv-reference/bin/python tools/goldens/make_metrics_goldens.py
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    mean_absolute_error,
    precision_recall_fscore_support,
    r2_score,
    roc_auc_score,
    roc_curve,
    root_mean_squared_error,
)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "QuernLearningTests", "Goldens", "metrics-goldens.json")


def finite_or_none(value):
    value = float(value)
    return value if np.isfinite(value) else None


def argmax_first(probabilities):
    # np.argmax returns the first of equal maxima; Quern's label rule.
    return np.argmax(probabilities, axis=1)


def classification_expected(classes, y_true, probabilities):
    count = len(classes)
    labels = list(range(count))
    y_true = np.asarray(y_true)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    predicted = argmax_first(probabilities)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        precision, recall, f1, support = precision_recall_fscore_support(y_true, predicted, labels=labels)
        # The default "warn" must be the documented 0.
        explicit = precision_recall_fscore_support(y_true, predicted, labels=labels, zero_division=0)
        for ours, theirs in zip((precision, recall, f1, support), explicit):
            assert np.array_equal(ours, theirs)
        averages = {}
        for average in ("macro", "micro", "weighted"):
            p, r, f, _ = precision_recall_fscore_support(y_true, predicted, labels=labels, average=average)
            assert f == f1_score(y_true, predicted, labels=labels, average=average)
            averages[average] = {"precision": float(p), "recall": float(r), "f1": float(f)}

        present = sorted(set(y_true.tolist()))
        per_class_auc = []
        curves = []
        for c in labels:
            positives = (y_true == c).astype(int)
            if 0 < positives.sum() < len(positives):
                per_class_auc.append(float(roc_auc_score(positives, probabilities[:, c])))
            else:
                per_class_auc.append(None)
            fpr, tpr, thresholds = roc_curve(positives, probabilities[:, c])
            if 0 < positives.sum() < len(positives):
                assert np.isinf(thresholds[0])
                curves.append({"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thresholds[1:].tolist()})
            else:
                curves.append(None)

        if len(present) < 2:
            auc = None
            excluded = []
        elif count == 2:
            auc = float(roc_auc_score(y_true, probabilities[:, 1]))
            excluded = []
        else:
            by_class = roc_auc_score(y_true, probabilities, multi_class="ovr", labels=labels, average=None)
            macro = roc_auc_score(y_true, probabilities, multi_class="ovr", labels=labels)
            excluded = [classes[c] for c in labels if c not in present]
            if excluded:
                # What scikit-learn does, recorded: NaN for the absent classes and the macro mean.
                assert np.isnan(macro) and all(np.isnan(by_class[c]) for c in labels if c not in present)
            else:
                assert np.isclose(macro, np.mean(by_class), rtol=0, atol=1e-15)
            auc = float(np.nanmean(by_class))
            for c in labels:
                if per_class_auc[c] is not None:
                    assert abs(per_class_auc[c] - by_class[c]) <= 1e-15

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        loss = float(log_loss(y_true, probabilities, labels=labels))

    return {
        "predicted": predicted.tolist(),
        "accuracy": float(accuracy_score(y_true, predicted)),
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "f1": f1.tolist(),
        "support": support.tolist(),
        "averages": averages,
        "roc_auc": auc,
        "roc_auc_per_class": per_class_auc,
        "roc_auc_excluded": excluded,
        "roc_curves": curves,
        "log_loss": loss,
        "confusion_matrix": confusion_matrix(y_true, predicted, labels=labels).tolist(),
    }


def classification_case(name, classes, y_true, probabilities, note):
    probabilities = np.asarray(probabilities, dtype=np.float64)
    return {
        "name": name,
        "note": note,
        "classes": classes,
        "y_true": [int(v) for v in y_true],
        "probabilities": probabilities.tolist(),
        "expected": classification_expected(classes, y_true, probabilities),
    }


def softmax32(logits):
    # What a head gives: float32 softmax, read as doubles.
    logits = np.asarray(logits, dtype=np.float32)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float64)


def random_classification(rng, count, classes, signal):
    y_true = rng.integers(0, classes, size=count)
    logits = rng.normal(size=(count, classes))
    logits[np.arange(count), y_true] += signal
    return y_true, softmax32(logits)


def classification_cases():
    cases = []

    # Binary, by hand: tied scores across both classes and an exact 0.5.
    y = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0]
    p1 = [0.1, 0.4, 0.35, 0.8, 0.5, 0.5, 0.7, 0.7, 0.9, 0.2]
    cases.append(classification_case(
        "binary_hand_ties", ["negative", "positive"], y, [[1 - v, v] for v in p1],
        "binary with tied positive-class scores (0.5 twice, 0.7 once per class); argmax tie at 0.5 goes to class 0"))

    # Binary, seeded random, scores rounded to two decimals: many ties.
    rng = np.random.default_rng(1301)
    y = rng.integers(0, 2, size=200)
    p1 = np.clip(np.round(rng.beta(2, 2, size=200) * 0.6 + 0.4 * y, 2), 0, 1)
    cases.append(classification_case(
        "binary_random_rounded", ["ham", "spam"], y, np.stack([1 - p1, p1], axis=1),
        "200 seeded examples, positive score rounded to 0.01 (ties)"))

    # Three classes by hand: class 'b' is never predicted.
    y = [0, 1, 2, 2, 0, 1, 2, 0]
    probabilities = [
        [0.7, 0.2, 0.1], [0.5, 0.3, 0.2], [0.1, 0.3, 0.6], [0.2, 0.2, 0.6],
        [0.6, 0.1, 0.3], [0.2, 0.3, 0.5], [0.3, 0.3, 0.4], [0.4, 0.35, 0.25],
    ]
    cases.append(classification_case(
        "three_class_never_predicted", ["a", "b", "c"], y, probabilities,
        "class 'b' is never predicted: its precision is 0 by zero_division"))

    # Four classes, seeded, float32 softmax like a head's.
    rng = np.random.default_rng(1302)
    y, probabilities = random_classification(rng, 300, 4, 1.2)
    cases.append(classification_case(
        "four_class_random", ["cat", "dog", "bird", "fish"], y, probabilities,
        "300 seeded examples, float32 softmax of noisy logits"))

    # Five classes, rows drawn from permutations of a few vectors: ties in
    # the ROC scores and argmax ties (two equal maxima, first one wins).
    rng = np.random.default_rng(1303)
    base = np.array([[0.4, 0.4, 0.1, 0.05, 0.05], [0.6, 0.1, 0.1, 0.1, 0.1], [0.2, 0.2, 0.2, 0.2, 0.2],
                     [0.5, 0.25, 0.125, 0.0625, 0.0625]])
    rows = []
    y = rng.integers(0, 5, size=120)
    for label in y:
        vector = base[rng.integers(0, len(base))].copy()
        order = rng.permutation(5)
        if rng.random() < 0.6:  # put the largest value on the true class more often than not
            order[np.where(order == 0)[0][0]] = order[label]
            order[label] = 0
        rows.append(vector[order])
    cases.append(classification_case(
        "five_class_ties", ["one", "two", "three", "four", "five"], y, np.array(rows),
        "120 seeded rows from permutations of 4 probability vectors: ROC ties and argmax ties"))

    # Four classes, class 'c' absent from the test set (but predicted), 'd' never predicted.
    rng = np.random.default_rng(1304)
    y = rng.choice([0, 1, 3], size=60)
    logits = rng.normal(size=(60, 4))
    logits[np.arange(60), y] += 1.0
    logits[:, 3] -= 4.0
    logits[:7, 2] += 5.0
    probabilities = softmax32(logits)
    assert 2 not in y and (np.argmax(probabilities, axis=1) == 2).any() and 3 not in np.argmax(probabilities, axis=1)
    cases.append(classification_case(
        "four_class_absent", ["a", "b", "c", "d"], y, probabilities,
        "class 'c' has no examples (support 0, excluded from the macro ROC-AUC), class 'd' is never predicted"))

    # One class only in the test set: ROC-AUC undefined.
    cases.append(classification_case(
        "binary_one_class_only", ["no", "yes"], [1, 1, 1, 1],
        [[0.2, 0.8], [0.6, 0.4], [0.5, 0.5], [0.1, 0.9]],
        "every example is 'yes': ROC-AUC undefined"))
    cases.append(classification_case(
        "three_class_one_class_only", ["x", "y", "z"], [2, 2, 2],
        [[0.2, 0.3, 0.5], [0.6, 0.1, 0.3], [0.1, 0.1, 0.8]],
        "every example is 'z': ROC-AUC undefined"))

    # Certain predictions: probabilities of exactly 0 and 1 (log loss clips to eps).
    cases.append(classification_case(
        "three_class_certain", ["red", "green", "blue"], [0, 1, 2, 1, 0],
        [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [1, 0, 0]],
        "one-hot probabilities, one certain mistake: log loss clipped at eps = 2^-52"))

    # Twenty classes, seeded (the 20 Newsgroups names: long, shared prefixes).
    rng = np.random.default_rng(1305)
    names = ["alt.atheism", "comp.graphics", "comp.os.ms-windows.misc", "comp.sys.ibm.pc.hardware",
             "comp.sys.mac.hardware", "comp.windows.x", "misc.forsale", "rec.autos", "rec.motorcycles",
             "rec.sport.baseball", "rec.sport.hockey", "sci.crypt", "sci.electronics", "sci.med", "sci.space",
             "soc.religion.christian", "talk.politics.guns", "talk.politics.mideast", "talk.politics.misc",
             "talk.religion.misc"]
    y, probabilities = random_classification(rng, 200, 20, 2.0)
    cases.append(classification_case(
        "twenty_class_random", names, y, probabilities, "200 seeded examples over 20 classes"))
    return cases


def regression_case(name, y_true, y_pred, note):
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        r2 = r2_score(y_true, y_pred)
    return {
        "name": name,
        "note": note,
        "y_true": y_true.tolist(),
        "y_pred": y_pred.tolist(),
        "expected": {
            "count": len(y_true),
            "mae": float(mean_absolute_error(y_true, y_pred)),
            "rmse": float(root_mean_squared_error(y_true, y_pred)),
            "r2": finite_or_none(r2),
        },
    }


def regression_cases():
    rng = np.random.default_rng(1306)
    truth = rng.normal(3, 1.5, size=100)
    noisy = truth + rng.normal(0, 0.7, size=100)
    return [
        regression_case("hand", [3, -0.5, 2, 7], [2.5, 0.0, 2, 8], "scikit-learn's documentation example"),
        regression_case("random", truth, noisy, "100 seeded values with noise"),
        regression_case("constant_target_exact", [2, 2, 2], [2, 2, 2], "constant target predicted exactly: R² = 1"),
        regression_case("constant_target_missed", [2, 2, 2], [1, 2, 3], "constant target missed: R² = 0"),
        regression_case("worse_than_mean", [1, 2, 3], [3, 2, 1], "negative R²"),
        regression_case("single_sample", [4.5], [4.0], "one sample: R² undefined (NaN in scikit-learn)"),
    ]


def cross_validation_case(case, folds):
    y = np.asarray(case["y_true"])
    probabilities = np.asarray(case["probabilities"])
    records = []
    for fold in range(folds):
        mask = np.arange(len(y)) % folds == fold
        expected = classification_expected(case["classes"], y[mask], probabilities[mask])
        records.append({
            "accuracy": expected["accuracy"],
            "macro_f1": expected["averages"]["macro"]["f1"],
            "weighted_f1": expected["averages"]["weighted"]["f1"],
            "roc_auc": expected["roc_auc"],
            "log_loss": expected["log_loss"],
        })
    summary = {}
    for key in records[0]:
        values = np.array([r[key] for r in records], dtype=np.float64)
        summary[key] = {"mean": float(np.mean(values)), "std": float(np.std(values)), "values": values.tolist()}
    return {"source": case["name"], "folds": folds, "summary": summary}


def main():
    classification = classification_cases()
    document = {
        "generator": "tools/goldens/make_metrics_goldens.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "classification": classification,
        "regression": regression_cases(),
        "cross_validation": cross_validation_case(next(c for c in classification if c["name"] == "four_class_random"), 5),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as handle:
        # One line per case: small, and a diff shows which case changed.
        handle.write("{\n")
        members = list(document.items())
        for position, (key, value) in enumerate(members):
            handle.write(json.dumps(key) + ": ")
            if isinstance(value, list):
                handle.write("[\n" + ",\n".join(json.dumps(item, allow_nan=False) for item in value) + "\n]")
            else:
                handle.write(json.dumps(value, allow_nan=False))
            handle.write(",\n" if position < len(members) - 1 else "\n")
        handle.write("}\n")
    print(f"wrote {OUT}: {len(classification)} classification, {len(document['regression'])} regression cases")


if __name__ == "__main__":
    main()
