"""Real clients of the array API on actnet arrays: scikit-learn's and SciPy's array
API support, array-api-compat and array-api-extra (the crosscheck session installs
their pinned versions; conftest.py sets SCIPY_ARRAY_API).

Each case runs three times in one test: on NumPy (the values), on array_api_strict
(what the standard allows) and on actnet.ndarray. Whatever works on
array_api_strict must work on actnet, give arrays where array_api_strict gives
arrays (actnet's own NDArray) and scalars where it gives scalars, with its dtypes
and shapes and NumPy's values. A case array_api_strict fails is still run on
actnet: if actnet fails too it is an xfail that quotes both errors; if it works its
values are still checked.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import array_api_compat
import array_api_extra as xpx
import array_api_strict as strict
import numpy as np
import pytest
import scipy.cluster.vq
import scipy.differentiate
import scipy.fft
import scipy.integrate
import scipy.interpolate
import scipy.linalg
import scipy.ndimage
import scipy.signal
import scipy.spatial.distance
import scipy.special
import scipy.stats
import sklearn
from scipy._lib import array_api_compat as scipy_compat
from sklearn import metrics
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis as LDA
from sklearn.externals import array_api_compat as sklearn_compat
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier, RidgeCV
from sklearn.metrics import pairwise
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import KFold, cross_val_score, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.preprocessing import (
    Binarizer,
    KBinsDiscretizer,
    KernelCenterer,
    LabelEncoder,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    PolynomialFeatures,
    StandardScaler,
    label_binarize,
)

import actnet.ndarray as xp

NAMESPACES = {"numpy": np, "array_api_strict": strict, "actnet.ndarray": xp}
STRICT_TYPE = type(strict.asarray(0))
# relative tolerance by the inputs' dtype; absolute ones scale with the result
RTOL = {"float64": 1e-7, "float32": 2e-4, "int64": 1e-7}
# actnet's default floats where array_api_strict's are float64 and complex128
DEFAULT_OF = {
    np.dtype(np.float64): np.dtype(np.float32),
    np.dtype(np.complex128): np.dtype(np.complex64),
}
FLOATS = ("float64", "float32")
INT = ("int64",)  # the labels matter, not the dtype of the digits

_DIGITS = load_digits()
DIGITS = np.asarray(_DIGITS.data[:360])  # 360 samples, 64 features, values 0..16
LABELS = np.asarray(_DIGITS.target[:360], dtype=np.int64)  # 0..9


def _scipy_dispatches() -> bool:
    """Whether SciPy was imported with its array API support on."""
    result = scipy.special.logsumexp(strict.asarray([0.0, 1.0]))
    return isinstance(result, STRICT_TYPE)


if os.environ.get("SCIPY_ARRAY_API") != "1" or not _scipy_dispatches():
    raise RuntimeError(
        "SciPy was imported before conftest.py set SCIPY_ARRAY_API=1: its array "
        "API support is off, and every SciPy case would fail on array_api_strict"
    )


@pytest.fixture(autouse=True)
def _sklearn_dispatch() -> Any:
    """scikit-learn's array API dispatch, for this module's tests only."""
    with sklearn.config_context(array_api_dispatch=True):
        yield


@dataclass(frozen=True)
class _Rows:
    a: Callable[[Any], Any]
    d: np.ndarray[Any, Any]

    def __getitem__(self, key: Any) -> Any:
        return self.a(self.d[key])


@dataclass(frozen=True)
class Inputs:
    """What a case gets: the namespace `xp`, `a` (NumPy to its arrays), the digits
    `d` in the run's dtype and the labels `l` (NumPy), and, in the namespace's
    arrays, the data sets the cases share."""

    xp: ModuleType
    a: Callable[[Any], Any]
    d: np.ndarray[Any, Any]
    l: np.ndarray[Any, Any]

    @property
    def x(self) -> _Rows:
        """The digits, indexed as NumPy arrays, then converted: `i.x[:3, :4]`
        (array_api_strict refuses `A[:3]` on a 2-d A, as the standard allows)."""
        return _Rows(self.a, self.d)

    @property
    def X(self) -> Any:  # scikit-learn's name
        return self.a(self.d)

    @property
    def y(self) -> Any:
        return self.a(self.l)

    @property
    def target(self) -> Any:
        """The labels as a regression target, in the digits' dtype."""
        return self.a(self.l.astype(self.d.dtype))

    @property
    def A(self) -> Any:
        """50 samples (a pairwise function's first operand)."""
        return self.a(self.d[:50])

    @property
    def B(self) -> Any:
        """40 other samples."""
        return self.a(self.d[50:90])

    @property
    def u(self) -> Any:
        """One feature, values 0..16 (a regression metric's truth)."""
        return self.a(self.d[:, 20])

    @property
    def v(self) -> Any:
        """Another feature (the prediction)."""
        return self.a(self.d[:, 21])

    @property
    def cols(self) -> Any:
        """Six features, none of them constant."""
        return self.a(self.d[:, 18:24])

    @property
    def pred(self) -> Any:
        """A label prediction that is right two times in three."""
        wrong = (self.l * 7) % 10
        return self.a(np.where(np.arange(self.l.size) % 3 == 0, wrong, self.l))

    @property
    def b(self) -> Any:
        """Binary labels."""
        return self.a(self.l % 2)

    @property
    def p(self) -> Any:
        """Probabilities in [0.05, 0.95]."""
        return self.a(np.clip(self.d[:, 20] / 16, 0.05, 0.95))


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[Inputs], Any]
    dtypes: tuple[str, ...] = FLOATS
    # the client makes its floats in the namespace's default dtype
    default_float: bool = False
    # why array_api_strict fails where actnet works
    strict_lacks: str = ""


def _pca_round_trip(i: Inputs) -> Any:
    pca = PCA(8, svd_solver="full").fit(i.X)
    return pca.inverse_transform(pca.transform(i.x[:20]))


def _gaussian_mixture(i: Inputs) -> Any:
    gm = GaussianMixture(
        3, covariance_type="diag", init_params="random_from_data", random_state=0
    )
    return gm.fit(i.cols).predict(i.cols)


def _interp_spline(i: Inputs) -> Any:
    x, y = i.a(np.arange(8.0)), i.x[0, :8]
    return scipy.interpolate.make_interp_spline(x, y)(i.a(np.linspace(0, 7, 5)))


sp = scipy  # short lines in the table
pw = pairwise

# The client cases: estimators (fit, then transform / predict), preprocessing,
# metrics, pairwise functions, model selection, and SciPy's array API functions.
CLIENT_CASES = [
    # scikit-learn: preprocessing
    Case("StandardScaler", lambda i: StandardScaler().fit_transform(i.X)),
    Case(
        "StandardScaler.inverse",
        lambda i: StandardScaler().fit(i.X).inverse_transform(i.A),
    ),
    Case("MinMaxScaler", lambda i: MinMaxScaler().fit_transform(i.X)),
    Case("MaxAbsScaler", lambda i: MaxAbsScaler().fit_transform(i.a(i.d - 8))),
    Case("Normalizer", lambda i: Normalizer().fit_transform(i.X)),
    Case("Normalizer(l1)", lambda i: Normalizer(norm="l1").fit_transform(i.X)),
    Case("Binarizer", lambda i: Binarizer(threshold=4.0).fit_transform(i.X)),
    Case("PolynomialFeatures", lambda i: PolynomialFeatures(2).fit_transform(i.cols)),
    Case("KernelCenterer", lambda i: KernelCenterer().fit_transform(i.A @ i.A.mT)),
    Case("LabelEncoder", lambda i: LabelEncoder().fit_transform(i.a(i.l * 3 % 7)), INT),
    Case(
        "LabelEncoder.inverse",
        lambda i: LabelEncoder().fit(i.y).inverse_transform(i.pred),
        INT,
    ),
    Case("label_binarize", lambda i: label_binarize(i.y, classes=list(range(10))), INT),
    Case(
        "OneHotEncoder",
        lambda i: OneHotEncoder(sparse_output=False).fit_transform(i.a(i.l[:, None])),
        INT,
        strict_lacks="len(x): OneHotEncoder converts to NumPy, by way of len()",
    ),
    Case(
        "KBinsDiscretizer",
        lambda i: KBinsDiscretizer(4, encode="ordinal").fit_transform(i.cols),
    ),
    # scikit-learn: estimators
    Case("PCA(full)", lambda i: PCA(8, svd_solver="full").fit_transform(i.X)),
    Case(
        "PCA(covariance_eigh)",
        lambda i: PCA(8, svd_solver="covariance_eigh").fit_transform(i.X),
    ),
    Case("PCA.inverse_transform", _pca_round_trip),
    Case("LDA.predict", lambda i: LDA().fit(i.X, i.y).predict(i.X)),
    Case("LDA.transform", lambda i: LDA(n_components=4).fit(i.X, i.y).transform(i.X)),
    Case("LDA.predict_proba", lambda i: LDA().fit(i.X, i.y).predict_proba(i.A)),
    Case("Ridge", lambda i: Ridge(alpha=1.0).fit(i.X, i.target).predict(i.X)),
    Case(
        "RidgeCV",
        lambda i: RidgeCV(alphas=(0.1, 1.0, 10.0)).fit(i.X, i.target).predict(i.X),
    ),
    Case(
        "RidgeClassifier.predict",
        lambda i: RidgeClassifier().fit(i.X, i.y).predict(i.X),
    ),
    Case(
        "RidgeClassifier.decision",
        lambda i: RidgeClassifier().fit(i.X, i.y).decision_function(i.A),
    ),
    Case(
        "GaussianNB.predict_proba",
        lambda i: GaussianNB().fit(i.X, i.y).predict_proba(i.A),
    ),
    Case(
        "Nystroem",
        lambda i: Nystroem(gamma=1e-3, n_components=40, random_state=0).fit_transform(
            i.X
        ),
    ),
    Case(
        "LogisticRegression",
        lambda i: (
            LogisticRegression(max_iter=30)
            .fit(i.a(i.d / 16), i.y)
            .predict_proba(i.a(i.d[:20] / 16))
        ),
    ),
    Case("GaussianMixture.predict", _gaussian_mixture),
    # scikit-learn: pairwise kernels and distances
    Case("euclidean_distances", lambda i: pw.euclidean_distances(i.A, i.B)),
    Case(
        "pairwise_distances(l1)",
        lambda i: metrics.pairwise_distances(i.A, i.B, metric="manhattan"),
    ),
    Case(
        "pairwise_distances(cos)",
        lambda i: metrics.pairwise_distances(i.A, i.B, metric="cosine"),
    ),
    Case("rbf_kernel", lambda i: pw.rbf_kernel(i.A, i.B, gamma=1e-3)),
    Case("polynomial_kernel", lambda i: pw.polynomial_kernel(i.A / 16, i.B / 16)),
    Case("linear_kernel", lambda i: pw.linear_kernel(i.A, i.B)),
    Case("sigmoid_kernel", lambda i: pw.sigmoid_kernel(i.A / 16, i.B / 16, gamma=0.01)),
    Case("laplacian_kernel", lambda i: pw.laplacian_kernel(i.A, i.B, gamma=1e-3)),
    Case("chi2_kernel", lambda i: pw.chi2_kernel(i.A, i.B, gamma=1e-3)),
    Case("additive_chi2_kernel", lambda i: pw.additive_chi2_kernel(i.A, i.B)),
    Case("cosine_similarity", lambda i: pw.cosine_similarity(i.A, i.B)),
    Case(
        "pairwise_kernels(rbf)",
        lambda i: metrics.pairwise_kernels(i.A, metric="rbf", gamma=1e-3),
    ),
    Case(
        "paired_cosine_distances",
        lambda i: pw.paired_cosine_distances(i.A, i.x[50:100]),
    ),
    # scikit-learn: metrics
    Case("r2_score", lambda i: metrics.r2_score(i.u, i.v)),
    Case("mean_squared_error", lambda i: metrics.mean_squared_error(i.u, i.v)),
    Case("mean_absolute_error", lambda i: metrics.mean_absolute_error(i.u, i.v)),
    Case(
        "explained_variance_score", lambda i: metrics.explained_variance_score(i.u, i.v)
    ),
    Case("median_absolute_error", lambda i: metrics.median_absolute_error(i.u, i.v)),
    Case("mean_pinball_loss", lambda i: metrics.mean_pinball_loss(i.u, i.v, alpha=0.3)),
    Case(
        "mean_tweedie_deviance",
        lambda i: metrics.mean_tweedie_deviance(i.u + 1, i.v + 1, power=1.5),
    ),
    Case("mean_squared_log_error", lambda i: metrics.mean_squared_log_error(i.u, i.v)),
    Case("max_error", lambda i: metrics.max_error(i.u, i.v)),
    Case("d2_tweedie_score", lambda i: metrics.d2_tweedie_score(i.u + 1, i.v + 1)),
    Case("log_loss", lambda i: metrics.log_loss(i.b, i.p)),
    Case("brier_score_loss", lambda i: metrics.brier_score_loss(i.b, i.p)),
    Case(
        "average_precision_score", lambda i: metrics.average_precision_score(i.b, i.p)
    ),
    Case("precision_recall_curve", lambda i: metrics.precision_recall_curve(i.b, i.p)),
    Case("det_curve", lambda i: metrics.det_curve(i.b, i.p)),
    Case("roc_curve", lambda i: metrics.roc_curve(i.b, i.p)),
    Case("roc_auc_score", lambda i: metrics.roc_auc_score(i.b, i.p)),
    Case("accuracy_score", lambda i: metrics.accuracy_score(i.y, i.pred), INT),
    Case("confusion_matrix", lambda i: metrics.confusion_matrix(i.y, i.pred), INT),
    Case(
        "multilabel_confusion_matrix",
        lambda i: metrics.multilabel_confusion_matrix(i.y, i.pred),
        INT,
    ),
    Case(
        "f1_score(macro)", lambda i: metrics.f1_score(i.y, i.pred, average="macro"), INT
    ),
    Case("precision_score", lambda i: metrics.precision_score(i.b, i.pred % 2), INT),
    Case(
        "jaccard_score",
        lambda i: metrics.jaccard_score(i.y, i.pred, average="macro"),
        INT,
    ),
    Case("zero_one_loss", lambda i: metrics.zero_one_loss(i.y, i.pred), INT),
    Case("hamming_loss", lambda i: metrics.hamming_loss(i.y, i.pred), INT),
    Case("cohen_kappa_score", lambda i: metrics.cohen_kappa_score(i.y, i.pred), INT),
    Case(
        "balanced_accuracy_score",
        lambda i: metrics.balanced_accuracy_score(i.y, i.pred),
        INT,
        default_float=True,  # scikit-learn divides integer counts: float32 here
    ),
    # scikit-learn: model selection
    Case(
        "train_test_split",
        lambda i: train_test_split(i.X, i.y, test_size=0.25, random_state=0),
    ),
    Case("KFold.split", lambda i: list(KFold(3).split(i.X))),
    Case(
        "cross_val_score(Ridge)",
        lambda i: cross_val_score(Ridge(), i.X, i.target, cv=3),
    ),
    # SciPy: special
    Case("special.logsumexp", lambda i: sp.special.logsumexp(i.X, axis=1)),
    Case("special.softmax", lambda i: sp.special.softmax(i.X / 16, axis=1)),
    Case("special.log_softmax", lambda i: sp.special.log_softmax(i.X / 16, axis=1)),
    Case("special.erf", lambda i: sp.special.erf(i.X / 16 - 0.5)),
    Case("special.expit", lambda i: sp.special.expit(i.X / 4 - 2)),
    Case("special.gammaln", lambda i: sp.special.gammaln(i.X + 1)),
    Case("special.xlogy", lambda i: sp.special.xlogy(i.x[:3], i.x[50:53] + 1)),
    Case("special.ndtr", lambda i: sp.special.ndtr(i.A / 4 - 2)),
    Case("special.entr", lambda i: sp.special.entr(i.A)),
    Case(
        "special.rel_entr", lambda i: sp.special.rel_entr(i.x[:3] + 1, i.x[50:53] + 1)
    ),
    Case("special.i0", lambda i: sp.special.i0(i.A / 8)),
    # SciPy: stats
    Case("stats.zscore", lambda i: sp.stats.zscore(i.cols)),
    Case("stats.moment", lambda i: sp.stats.moment(i.cols, order=3)),
    Case("stats.skew", lambda i: sp.stats.skew(i.cols)),
    Case("stats.kurtosis", lambda i: sp.stats.kurtosis(i.cols)),
    Case("stats.variation", lambda i: sp.stats.variation(i.cols)),
    Case("stats.gmean", lambda i: sp.stats.gmean(i.cols + 1)),
    Case("stats.hmean", lambda i: sp.stats.hmean(i.cols + 1)),
    Case("stats.pmean", lambda i: sp.stats.pmean(i.cols + 1, 2.0)),
    Case("stats.entropy", lambda i: sp.stats.entropy(i.cols + 1)),
    Case("stats.sem", lambda i: sp.stats.sem(i.cols)),
    Case("stats.tmean", lambda i: sp.stats.tmean(i.u, (1, 10))),
    Case("stats.trim_mean", lambda i: sp.stats.trim_mean(i.cols, 0.1)),
    Case("stats.iqr", lambda i: sp.stats.iqr(i.cols, axis=0)),
    Case("stats.circmean", lambda i: sp.stats.circmean(i.cols)),
    Case("stats.rankdata", lambda i: sp.stats.rankdata(i.u), default_float=True),
    Case("stats.describe", lambda i: tuple(sp.stats.describe(i.cols))),
    Case("stats.pearsonr", lambda i: tuple(sp.stats.pearsonr(i.u, i.v))),
    Case("stats.spearmanr", lambda i: tuple(sp.stats.spearmanr(i.u, i.v))),
    Case("stats.linregress", lambda i: tuple(sp.stats.linregress(i.u, i.v))),
    Case("stats.ttest_ind", lambda i: tuple(sp.stats.ttest_ind(i.u[:180], i.u[180:]))),
    Case("stats.ttest_1samp", lambda i: tuple(sp.stats.ttest_1samp(i.u, 5.0))),
    Case("stats.chisquare", lambda i: tuple(sp.stats.chisquare(i.u + 1))),
    # SciPy: fft, cluster, signal, integrate, ndimage, linalg, spatial, ...
    Case("fft.fft", lambda i: sp.fft.fft(i.B)),
    Case("fft.rfft", lambda i: sp.fft.rfft(i.B)),
    Case("fft.irfft", lambda i: sp.fft.irfft(sp.fft.rfft(i.B), n=64)),
    Case("fft.dct", lambda i: sp.fft.dct(i.B)),
    Case("fft.idct", lambda i: sp.fft.idct(i.B)),
    Case("fft.fht", lambda i: sp.fft.fht(i.x[0] + 1, dln=0.1, mu=0.0)),
    Case(
        "fft.fftfreq", lambda i: sp.fft.fftfreq(8, d=0.5, xp=i.xp), default_float=True
    ),
    Case("fft.fftshift", lambda i: sp.fft.fftshift(i.B, axes=-1)),
    Case("cluster.vq.whiten", lambda i: sp.cluster.vq.whiten(i.cols)),
    Case("cluster.vq.vq", lambda i: sp.cluster.vq.vq(i.cols, i.x[:3, 18:24])),
    Case(
        "cluster.vq.kmeans2",
        lambda i: sp.cluster.vq.kmeans2(i.cols, i.x[:3, 18:24], minit="matrix", iter=3),
    ),
    Case("signal.convolve", lambda i: sp.signal.convolve(i.x[0], i.x[1])),
    Case("signal.fftconvolve", lambda i: sp.signal.fftconvolve(i.x[0], i.x[1])),
    Case("signal.correlate", lambda i: sp.signal.correlate(i.x[0], i.x[1])),
    Case("signal.detrend", lambda i: sp.signal.detrend(i.cols, axis=0)),
    Case(
        "signal.lfilter",
        lambda i: sp.signal.lfilter(
            i.a(np.asarray([1.0, 0.5])), i.a(np.asarray([1.0, -0.2])), i.x[0]
        ),
    ),
    Case(
        "signal.sosfilt",
        lambda i: sp.signal.sosfilt(
            i.a(sp.signal.butter(2, 0.3, output="sos")), i.x[0]
        ),
    ),
    Case("signal.welch", lambda i: tuple(sp.signal.welch(i.x[:4], nperseg=16))),
    Case("signal.periodogram", lambda i: tuple(sp.signal.periodogram(i.x[:4]))),
    Case("signal.resample", lambda i: sp.signal.resample(i.x[0], 32)),
    Case("signal.get_window", lambda i: sp.signal.get_window("hann", 16, xp=i.xp)),
    Case("integrate.trapezoid", lambda i: sp.integrate.trapezoid(i.x[:5], axis=-1)),
    Case("integrate.simpson", lambda i: sp.integrate.simpson(i.x[:5], axis=-1)),
    Case(
        "integrate.cumulative_trapezoid",
        lambda i: sp.integrate.cumulative_trapezoid(i.x[:5], axis=-1),
    ),
    Case(
        "ndimage.gaussian_filter",
        lambda i: sp.ndimage.gaussian_filter(i.a(i.d[0].reshape(8, 8)), 1.0),
    ),
    Case(
        "ndimage.uniform_filter",
        lambda i: sp.ndimage.uniform_filter(i.a(i.d[0].reshape(8, 8)), 3),
    ),
    Case("linalg.expm", lambda i: sp.linalg.expm(i.x[:6, 18:24] / 32)),
    Case("linalg.det", lambda i: sp.linalg.det(i.x[:6, 18:24])),
    Case(
        "linalg.solve",
        lambda i: sp.linalg.solve(i.a(i.d[:6, 18:24] + 10 * np.eye(6)), i.u[:6]),
    ),
    Case(
        "spatial.distance.cdist",
        lambda i: sp.spatial.distance.cdist(i.x[:4], i.x[50:54]),
    ),
    Case("interpolate.make_interp_spline", _interp_spline),
    Case(
        "differentiate.derivative",
        lambda i: sp.differentiate.derivative(i.xp.exp, i.u[:2] / 16).df,
    ),
]

# array-api-extra's functions: the namespace's arrays go in, the same come out
_V = np.asarray([[0.5, -1.0, 2.0], [3.0, 0.0, -0.25]])
EXTRA_CASES = [
    Case("at.set", lambda i: xpx.at(i.x[:3, :4], (slice(None), 1)).set(-1.0)),
    Case("at.add(mask)", lambda i: xpx.at(i.x[:3, :4], i.x[:3, :4] > 4).add(0.5)),
    Case("at.multiply", lambda i: xpx.at(i.x[:3, :4], (2, ...)).multiply(3.0)),
    Case(
        "at.min",
        lambda i: xpx.at(i.x[:3, :4], (0, slice(None))).min(2.0),
        strict_lacks="at.min makes its bound xp.asarray(2.0), float64 on "
        "array_api_strict, which will not go into float32 (actnet's is float32)",
    ),
    Case(
        "at.max(int arrays)",
        lambda i: xpx.at(i.x[:4, :4], (i.y[:2] * 2, i.y[:2] + 1)).max(5.0),
        strict_lacks="array_api_strict has no __setitem__ with integer arrays",
    ),
    Case("atleast_nd", lambda i: xpx.atleast_nd(i.x[0], ndim=3)),
    Case("cov", lambda i: xpx.cov(i.x[:40, 18:24].mT)),
    Case("pad", lambda i: xpx.pad(i.x[:3, :4], 2)),
    Case(
        "pad(constant_values)",
        lambda i: xpx.pad(i.x[:3, :4], ((1, 0), (0, 2)), constant_values=7),
    ),
    Case(
        "isclose", lambda i: xpx.isclose(i.x[:3], i.x[:3] + 1e-9, atol=0.0, rtol=1e-6)
    ),
    Case("expand_dims", lambda i: xpx.expand_dims(i.x[:3, :4], axis=(0, 2))),
    Case("kron", lambda i: xpx.kron(i.x[:2, :2], i.x[2:4, 2:5])),
    Case("nunique", lambda i: xpx.nunique(i.x[:20])),
    Case("setdiff1d", lambda i: xpx.setdiff1d(i.x[0], i.x[1])),
    Case("union1d", lambda i: xpx.union1d(i.x[0], i.x[1])),
    Case("isin", lambda i: xpx.isin(i.x[0], i.x[1])),
    Case("sinc", lambda i: xpx.sinc(i.x[:3] / 4 - 2)),
    Case("create_diagonal", lambda i: xpx.create_diagonal(i.x[0, :5], offset=1)),
    Case("one_hot", lambda i: xpx.one_hot(i.y[:12], 10, dtype=i.xp.float64), INT),
    Case(
        "apply_where",
        lambda i: xpx.apply_where(i.x[:3] > 2, i.x[:3], i.xp.log, fill_value=0.0),
    ),
    Case(
        "nan_to_num",
        lambda i: xpx.nan_to_num(i.a(np.where(i.d > 10, np.nan, i.d)), fill_value=-1.0),
    ),
    Case(
        "nanmean", lambda i: xpx.nanmean(i.a(np.where(i.d > 10, np.nan, i.d)), axis=0)
    ),
    Case("sorted partition", lambda i: i.xp.sort(xpx.partition(i.x[:4], 5), axis=-1)),
    Case(
        "searchsorted",
        lambda i: xpx.searchsorted(i.xp.sort(i.x[:3], axis=-1), i.x[50:53]),
    ),
    Case("deg2rad", lambda i: xpx.deg2rad(i.a(_V.astype(i.d.dtype)))),
    Case("tril_indices", lambda i: xpx.tril_indices(4, offset=-1, xp=i.xp), INT),
    Case("unravel_index", lambda i: xpx.unravel_index(i.y[:10] * 3, (6, 5)), INT),
]


def _inputs(namespace: ModuleType, dtype: str) -> Inputs:
    """The inputs of a run on `namespace` (the digits as float `dtype`; with an
    integer dtype, as float64: only the labels matter then)."""
    digits = DIGITS.astype(dtype if dtype in FLOATS else "float64")
    return Inputs(namespace, namespace.asarray, digits, LABELS)


def _leaves(result: Any) -> list[Any]:
    """A result's arrays and scalars, in order (tuples and lists flattened)."""
    if isinstance(result, tuple | list):
        return [leaf for item in result for leaf in _leaves(item)]
    return [result]


def _run(case: Case, name: str, dtype: str) -> list[Any]:
    with warnings.catch_warnings():
        # the clients' warnings (a constant feature, a deprecation) are not the
        # subject here, and filterwarnings=error would make them failures
        warnings.simplefilter("ignore")
        if name == "array_api_strict":
            # actnet's revision (scikit-learn raises it to 2025.12 in the calls
            # it makes; the flags come back after)
            with strict.ArrayAPIStrictFlags(api_version=xp.__array_api_version__):
                return _leaves(case.run(_inputs(strict, dtype)))
        return _leaves(case.run(_inputs(NAMESPACES[name], dtype)))


def _expected_dtype(reference: Any, case: Case) -> np.dtype[Any]:
    """array_api_strict's dtype; where the client asked for the namespace's default
    float (`xp.asarray(1.0).dtype`), actnet's default instead of strict's."""
    dtype = np.asarray(reference).dtype
    if case.default_float:
        return DEFAULT_OF.get(dtype, dtype)
    return dtype


def _check(
    case: Case, dtype: str, got: list[Any], expected: list[Any], reference: Any
) -> None:
    """actnet's results `got` against NumPy's values `expected` and, unless
    array_api_strict failed (`reference` None), against its kinds (array or
    scalar), dtypes and shapes."""
    assert len(got) == len(expected), f"{len(got)} results, NumPy gives {len(expected)}"
    for k, (g, e) in enumerate(zip(got, expected, strict=True)):
        where = f"result {k}"
        if reference is not None:
            r = reference[k]
            if isinstance(r, STRICT_TYPE):
                assert type(g) is xp.NDArray, f"{where}: {type(g).__name__}"
                assert g.shape == r.shape, f"{where}: {g.shape} != {r.shape}"
                want_dtype = _expected_dtype(r, case)
                assert g.dtype == want_dtype, f"{where}: {g.dtype} != {want_dtype}"
            else:
                assert not isinstance(g, xp.NDArray), f"{where}: array, strict {r!r}"
        values, want = np.asarray(g), np.asarray(e)
        assert values.shape == want.shape, f"{where}: {values.shape} != {want.shape}"
        if want.dtype.kind in "fc":
            rtol = RTOL["float32" if case.default_float else dtype]
            finite = np.abs(want[np.isfinite(want)])
            scale = float(np.max(finite, initial=1.0))
            np.testing.assert_allclose(values, want, rtol=rtol, atol=rtol * scale)
        else:
            np.testing.assert_array_equal(values, want)


def _crosscheck(case: Case, dtype: str) -> None:
    expected = _run(case, "numpy", dtype)
    try:
        reference = _run(case, "array_api_strict", dtype)
    except Exception as strict_error:  # any failure is recorded
        try:
            got = _run(case, "actnet.ndarray", dtype)
        except Exception as actnet_error:  # noqa: BLE001
            pytest.xfail(
                f"array_api_strict fails too: {type(strict_error).__name__}: "
                f"{strict_error} (actnet: {type(actnet_error).__name__}: "
                f"{actnet_error})"
            )
        # works on actnet only: declared (not a mistake in the case), and the
        # values are still checked
        if not case.strict_lacks:
            raise AssertionError(
                "array_api_strict fails where actnet works; if that is not a "
                "mistake in the case, say why in its strict_lacks"
            ) from strict_error
        _check(case, dtype, got, expected, None)
        return
    _check(case, dtype, _run(case, "actnet.ndarray", dtype), expected, reference)


def _params(cases: list[Case]) -> list[Any]:
    params = []
    for case in cases:
        params += [
            pytest.param(case, dtype, id=f"{case.name}-{dtype}")
            for dtype in case.dtypes
        ]
    return params


@pytest.mark.parametrize(("case", "dtype"), _params(CLIENT_CASES))
def test_client(case: Case, dtype: str) -> None:
    _crosscheck(case, dtype)


@pytest.mark.parametrize(("case", "dtype"), _params(EXTRA_CASES))
def test_array_api_extra(case: Case, dtype: str) -> None:
    _crosscheck(case, dtype)


def test_there_are_enough_client_cases() -> None:
    assert len(CLIENT_CASES) >= 25
    assert len({case.name for case in CLIENT_CASES + EXTRA_CASES}) == len(
        CLIENT_CASES + EXTRA_CASES
    )


# ------------------------------------------------------------ array-api-compat
def test_array_namespace_is_actnet() -> None:
    x, y = xp.asarray([[1.0, 2.0], [3.0, 4.0]]), xp.asarray([1.0, 2.0])
    assert array_api_compat.array_namespace(x) is xp
    assert array_api_compat.array_namespace(x, y, 1.0, None) is xp
    assert array_api_compat.get_namespace(x) is xp
    with pytest.raises(TypeError, match="Multiple namespaces"):
        array_api_compat.array_namespace(x, strict.asarray([1.0]))


def test_is_array_api_obj_and_the_other_predicates() -> None:
    x = xp.asarray([1, 2, 3])
    assert array_api_compat.is_array_api_obj(x)
    assert not array_api_compat.is_numpy_array(x)
    assert not array_api_compat.is_torch_array(x)
    assert not array_api_compat.is_lazy_array(x)
    assert array_api_compat.is_writeable_array(x)
    assert not array_api_compat.is_numpy_namespace(xp)
    assert not array_api_compat.is_array_api_strict_namespace(xp)


@pytest.mark.parametrize("shape", [(), (3,), (2, 0), (2, 3, 4)])
def test_device_and_size(shape: tuple[int, ...]) -> None:
    x = xp.zeros(shape)
    assert array_api_compat.device(x) is x.device
    assert array_api_compat.size(x) == x.size == int(np.prod(shape))


def test_to_device() -> None:
    x = xp.asarray([1.0, 2.0])
    moved = array_api_compat.to_device(x, "cpu:1")
    assert type(moved) is xp.NDArray
    assert moved.device.name == "cpu:1"
    np.testing.assert_array_equal(np.asarray(moved), [1.0, 2.0])
    assert array_api_compat.to_device(x, x.device).device is x.device


def test_the_copies_the_clients_ship_recognise_actnet() -> None:
    """scikit-learn and SciPy each vendor their own (older) array-api-compat."""
    x = xp.asarray([1.0, 2.0])
    assert sklearn_compat.array_namespace(x) is xp
    assert scipy_compat.array_namespace(x) is xp
    assert sklearn_compat.device(x) is scipy_compat.device(x) is x.device


def test_array_api_extra_default_dtype_is_actnets() -> None:
    """actnet's default float is float32 (array_api_strict's, float64)."""
    assert xpx.default_dtype(xp) == xp.float32
    assert xpx.default_dtype(xp, "integral") == xp.int64
    assert xpx.default_dtype(xp, "complex floating") == xp.complex64
    assert xpx.one_hot(xp.asarray([0, 2]), 3).dtype == xp.float32


@pytest.mark.parametrize("copy", [True, None, False])
def test_at_copies_as_it_does_on_numpy(copy: bool | None) -> None:
    """An actnet array is writeable: `copy=None` writes into it, as into a NumPy
    array, `copy=True` leaves it, `copy=False` writes into it."""
    values = np.asarray([1.0, 2.0, 3.0])
    x = xp.asarray(values)
    y = xpx.at(x, 1).set(9.0, copy=copy)
    expected = values.copy()
    expected_y = xpx.at(expected, 1).set(9.0, copy=copy)
    assert type(y) is xp.NDArray
    np.testing.assert_array_equal(np.asarray(y), expected_y)
    np.testing.assert_array_equal(np.asarray(x), expected)
