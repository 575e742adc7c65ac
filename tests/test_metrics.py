"""shendu.metrics against scikit-learn on random data (labels, averages, ROC/AUC with ties,
the text report), plus input forms (scores, one-hot, Tensors) and error messages."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shendu
from shendu import metrics as M

skm = pytest.importorskip("sklearn.metrics")


def random_labels(seed, n, k, agree=0.6):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, k, n)
    p = np.where(rng.random(n) < agree, t, rng.integers(0, k, n))
    return t, p


@pytest.mark.filterwarnings("ignore:A single label was found")
@settings(deadline=None, max_examples=40)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 200), k=st.integers(1, 7))
def test_confusion_matrix_matches_sklearn(seed, n, k):
    t, p = random_labels(seed, n, k)
    cm = M.confusion_matrix(t, p, num_classes=k)
    assert cm.dtype == np.int64 and cm.shape == (k, k) and cm.sum() == n
    np.testing.assert_array_equal(cm, skm.confusion_matrix(t, p, labels=np.arange(k)))
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(M.confusion_matrix(t, p, k, normalize=norm),
                                   skm.confusion_matrix(t, p, labels=np.arange(k),
                                                        normalize=norm), atol=1e-12)


@pytest.mark.parametrize("seed,k", [(0, 2), (1, 3), (2, 10), (3, 5)])
def test_accuracy_precision_recall_f1_match_sklearn(seed, k):
    t, p = random_labels(seed, 300, k)
    p[p == k - 1] = 0  # one class never predicted: exercises zero_division
    assert M.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p))
    assert M.accuracy_score is M.accuracy
    labels = np.arange(k)
    ref = skm.precision_recall_fscore_support(t, p, labels=labels, zero_division=0)
    ours = M.precision_recall_f1(t, p, num_classes=k)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, atol=1e-12)
    assert ours[3].dtype == np.int64
    averages = ["macro", "micro", "weighted", None] + (["binary"] if k == 2 else [])
    for ours_fn, ref_fn in ((M.precision_score, skm.precision_score),
                            (M.recall_score, skm.recall_score), (M.f1_score, skm.f1_score)):
        for avg in averages:
            np.testing.assert_allclose(
                ours_fn(t, p, average=avg, num_classes=k),
                ref_fn(t, p, average=avg, labels=labels, zero_division=0), atol=1e-12,
                err_msg=f"{ours_fn.__name__} average={avg}")
    if k == 2:
        assert M.f1_score(t, p, pos_label=0) == pytest.approx(skm.f1_score(t, p, pos_label=0))


def test_classification_report_matches_sklearn_text():
    t, p = random_labels(5, 200, 4)
    names = ["cat", "dog", "bird", "a very long name"]
    for kw, ref_kw in (({}, {}), ({"class_names": names, "digits": 3},
                                  {"target_names": names, "digits": 3})):
        assert M.classification_report(t, p, **kw) == \
            skm.classification_report(t, p, **ref_kw).rstrip("\n")


@settings(deadline=None, max_examples=40)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 150), ties=st.booleans())
def test_roc_curve_and_auc_match_sklearn(seed, n, ties):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[0], y[1] = 0, 1  # both classes present
    score = rng.random(n) + 0.4 * y
    if ties:
        score = np.round(score * 4) / 4
    for drop in (True, False):
        ours = M.roc_curve(y, score, drop_intermediate=drop)
        ref = skm.roc_curve(y, score, drop_intermediate=drop)
        for a, b in zip(ours, ref):
            np.testing.assert_allclose(a, b)
    fpr, tpr, _ = ours
    assert M.auc(fpr, tpr) == pytest.approx(skm.auc(fpr, tpr))
    assert M.auc(fpr[::-1], tpr[::-1]) == pytest.approx(skm.auc(fpr, tpr))
    assert M.roc_auc_score(y, score) == pytest.approx(skm.roc_auc_score(y, score))


def test_roc_labels_pos_label_and_two_column_scores():
    y = np.array([-1, 1, 1, -1, 1])
    s = np.array([0.2, 0.9, 0.4, 0.5, 0.7])
    np.testing.assert_allclose(M.roc_curve(y, s)[1], skm.roc_curve(y, s)[1])
    y2 = np.array([3, 7, 7, 3, 7])
    assert M.roc_auc_score(y2, s, pos_label=7) == pytest.approx(
        skm.roc_auc_score(y2 == 7, s))
    probs = np.stack([1 - s, s], axis=1)
    assert M.roc_auc_score(y == 1, probs) == pytest.approx(skm.roc_auc_score(y == 1, s))
    with pytest.raises(ValueError, match=r"y_true has labels \[3, 7\]; .* pos_label="):
        M.roc_curve(y2, s)
    with pytest.raises(ValueError, match="both positive .* and negative samples"):
        M.roc_curve([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"y_score must hold one score per sample, shape "
                                         r"\(5,\), got shape \(4,\)"):
        M.roc_curve(y, s[:4])


def test_scores_one_hot_and_tensors_are_accepted():
    t, p = random_labels(9, 50, 3)
    scores = np.eye(3)[p] * 0.8 + 0.05
    one_hot = np.eye(3)[t]
    np.testing.assert_array_equal(M.confusion_matrix(one_hot, scores),
                                  M.confusion_matrix(t, p))
    assert M.accuracy(shendu.tensor(t), shendu.tensor(scores)) == M.accuracy(t, p)
    assert M.accuracy(t.tolist(), p.astype(np.float32).reshape(-1, 1)) == M.accuracy(t, p)


def test_label_errors():
    with pytest.raises(ValueError, match="confusion_matrix: y_true has 3 samples but y_pred has 2"):
        M.confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"y_pred has label 4 but num_classes=3 \(labels must "
                                         r"be 0..2\)"):
        M.confusion_matrix([0, 1, 2], [0, 4, 2], num_classes=3)
    with pytest.raises(ValueError, match="must be class indices 0..K-1, got -1"):
        M.accuracy([0, -1], [0, 1])
    with pytest.raises(ValueError, match="must be integer class labels, got non-integer values "
                                         r"such as \[0.5\]"):
        M.accuracy([0, 1], [0, 0.5])
    with pytest.raises(ValueError, match="average='binary' needs 2 classes but the labels go "
                                         "up to 2"):
        M.f1_score([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="normalize must be None, 'true', 'pred' or 'all'"):
        M.confusion_matrix([0], [0], normalize="rows")
    with pytest.raises(ValueError, match="auc: x is neither increasing nor decreasing"):
        M.auc([0, 1, 0.5], [0, 1, 1])
    with pytest.raises(TypeError, match="y_true must hold numbers"):
        M.accuracy(["a", "b"], [0, 1])
