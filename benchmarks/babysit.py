"""Benchmark of :func:`nntrain.babysit.checklist`: its cost per model, on the models people
train, in small, on the digits (inputs of 64 pixels, reshaped inside where a model wants
images or sequences), built from ``torch.nn`` alone, and on the book's own nets of both
trees. ``tests/test_babysit.py`` checks the verdicts on the same models.

Run alone: ``.venv/bin/python -m benchmarks.babysit``.
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn


class Block(nn.Module):
    """A residual block: two 3x3 convolutions with batch normalization, and the shortcut."""

    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c),
        )  # fmt: skip

    def forward(self, x):
        return torch.relu(x + self.body(x))


class ResNet(nn.Module):
    """A ResNet in small: a stem, two residual blocks, global average pooling and a linear
    head, on 8x8 images; with ``training_only_centring``, the bug of subtracting the
    batch's mean from the inputs in training mode only."""

    def __init__(self, width=12, training_only_centring=False):
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
        )
        self.blocks = nn.Sequential(Block(width), Block(width))
        self.head = nn.Linear(width, 10)
        self.training_only_centring = training_only_centring

    def forward(self, x):
        if self.training_only_centring and self.training:
            x = x - x.mean(dim=0)
        h = self.blocks(self.stem(x.reshape(-1, 1, 8, 8)))
        return self.head(h.mean(dim=(2, 3)))


class DeepBatchNorm(nn.Module):
    """Six convolutions whose batch normalizations use momentum 0.01 (as EfficientNet's and
    MobileNet's do), three of stride 2 taking 8x8 to 1x1 maps, then a linear head."""

    def __init__(self, width=24):
        super().__init__()
        torch.manual_seed(0)
        layers, c = [], 1
        for stride in (1, 2, 1, 2, 1, 2):
            layers += [
                nn.Conv2d(c, width, 3, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(width, momentum=0.01),
                nn.ReLU(),
            ]
            c = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width, 10)

    def forward(self, x):
        return self.head(self.features(x.reshape(-1, 1, 8, 8)).flatten(1))


class TokenModel(nn.Module):
    """Tokens through an embedding: a digit's 64 grey levels (0..16, arriving as floats)
    looked up, concatenated and classified by an MLP, so no gradient reaches the input;
    with ``mixes``, the bug of centring the embeddings on the batch's mean."""

    def __init__(self, dim=4, mixes=False):
        super().__init__()
        torch.manual_seed(0)
        self.embed = nn.Embedding(17, dim)
        self.head = nn.Sequential(nn.Linear(64 * dim, 64), nn.ReLU(), nn.Linear(64, 10))
        self.mixes = mixes

    def forward(self, x):
        h = self.embed(x.long()).flatten(1)
        if self.mixes:
            h = h - h.mean(dim=0)
        return self.head(h)


class Transformer(nn.Module):
    """A ``TransformerEncoder`` classifier: a digit's 8 rows as a sequence of 8 tokens, a
    learnt position embedding, one encoder layer, mean pooling and a linear head; with
    ``batch_first=False``, the bug of a (batch, sequence) input read as (sequence, batch),
    so that attention runs across the batch."""

    def __init__(self, dim=16, batch_first=True):
        super().__init__()
        torch.manual_seed(0)
        self.embed = nn.Linear(8, dim)
        self.position = nn.Parameter(0.1 * torch.randn(8, dim))
        layer = nn.TransformerEncoderLayer(
            dim, nhead=2, dim_feedforward=32, batch_first=batch_first
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        h = self.encoder(self.embed(x.reshape(-1, 8, 8)) + self.position)
        return self.head(h.mean(dim=1))


def _reference():
    from nntrain.reference import FullyConnectedNet

    return FullyConnectedNet([100], 64, 10, weight_scale=math.sqrt(2 / 64), seed=0)


def _twin():
    from nntrain.torch import FullyConnectedNet

    return FullyConnectedNet([100], input_dim=64, num_classes=10, seed=0)


def _sequential():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 10))


#: The healthy models timed, by name: how to make one, and whether it takes tokens (the raw
#: grey levels) rather than standardized pixels.
MODELS = {
    "reference FullyConnectedNet (chapter 6's)": (_reference, False),
    "torch FullyConnectedNet": (_twin, False),
    "nn.Sequential MLP": (_sequential, False),
    "ResNet with BatchNorm2d": (ResNet, False),
    "BatchNorm momentum 0.01, 1x1 maps": (DeepBatchNorm, False),
    "embedding of tokens": (TokenModel, True),
    "TransformerEncoder": (Transformer, False),
}


def measure(report):
    """Time one checklist per model (one torch thread, as the tests run it)."""
    from nntrain.babysit import checklist
    from nntrain.data import load_digits_split, map_inputs
    from nntrain.reference.preprocessing import Standardize

    raw = load_digits_split(seed=0)
    standardized = map_inputs(raw, Standardize().fit(raw["X_train"]).transform)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for name, (make, takes_tokens) in MODELS.items():
            start = time.perf_counter()
            result = checklist(make(), raw if takes_tokens else standardized)
            report.time(f"babysit.checklist, {name}", time.perf_counter() - start)
            verdicts = [c.verdict for c in result.checks]
            report.add(f"babysit.checklist, {name}: checks failed", verdicts.count("FAIL"), "",
                       at_most=0)  # fmt: skip
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    from benchmarks.report import Report

    report = Report()
    measure(report)
    raise SystemExit(report.finish())
