"""A small multinomial logistic regression over hashed string features (numpy only).

Why not spaCy's bag-of-words text classifier: it has no regularisation to
speak of and learned the 100 training articles by heart (pair F1 0.97 on
train, 0.15 on dev). This model has an L2 penalty and class weights, trains
full-batch in seconds, is deterministic, and saves as one small .npz file.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DIM = 2**18


def _index(features: Sequence[str]) -> np.ndarray:
    return np.unique(np.fromiter((zlib.crc32(f.encode()) % DIM for f in features), dtype=np.int64,
                                 count=len(features)))


class Linear:
    def __init__(self, labels: Sequence[str], weights: np.ndarray | None = None,
                 bias: np.ndarray | None = None) -> None:
        self.labels = list(labels)
        self.w = weights if weights is not None else np.zeros((DIM, len(labels)), np.float32)
        self.b = bias if bias is not None else np.zeros(len(labels), np.float32)

    def probs(self, features: Sequence[str]) -> dict[str, float]:
        z = self.w[_index(features)].sum(axis=0) + self.b
        e = np.exp(z - z.max())
        p = e / e.sum()
        return {lab: float(v) for lab, v in zip(self.labels, p)}

    def fit(self, data: Sequence[tuple[Sequence[str], str]], *, l2: float, epochs: int,
            rate: float, class_weight: dict[str, float]) -> None:
        """Full-batch gradient descent with Adagrad steps: same data, same weights."""
        rows = [_index(f) for f, _ in data]
        y = np.array([self.labels.index(lab) for _, lab in data])
        cw = np.array([class_weight.get(lab, 1.0) for lab in self.labels], np.float32)[y]
        grad_sq_w = np.full_like(self.w, 1e-8)
        grad_sq_b = np.full_like(self.b, 1e-8)
        n = len(rows)
        for _ in range(epochs):
            gw = l2 * self.w
            gb = np.zeros_like(self.b)
            for idx, target, weight in zip(rows, y, cw):
                z = self.w[idx].sum(axis=0) + self.b
                p = np.exp(z - z.max())
                p /= p.sum()
                p[target] -= 1.0
                p *= weight / n
                gw[idx] += p
                gb += p
            grad_sq_w += gw * gw
            grad_sq_b += gb * gb
            self.w -= rate * gw / np.sqrt(grad_sq_w)
            self.b -= rate * gb / np.sqrt(grad_sq_b)

    def save(self, path: Path) -> None:
        used = np.flatnonzero(np.abs(self.w).sum(axis=1) > 1e-6)
        np.savez_compressed(path, rows=used, weights=self.w[used].astype(np.float16),
                            bias=self.b, labels=np.array(self.labels))

    @classmethod
    def load(cls, path: Path) -> Linear:
        data = np.load(path)
        w = np.zeros((DIM, len(data["labels"])), np.float32)
        w[data["rows"]] = data["weights"].astype(np.float32)
        return cls([str(x) for x in data["labels"]], w, data["bias"].astype(np.float32))
