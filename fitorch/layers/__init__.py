"""Keras-semantics layers for PyTorch: each an ``nn.Module`` built lazily from its input."""

from __future__ import annotations

import importlib
import types
from typing import Any

from fitorch import activations, constraints, initializers, regularizers
from fitorch.layers.base import IncompatibleInputError, Layer, regularization_losses
from fitorch.layers.serialization import deserialize, serialize
from fitorch.layers.shapes import infer_output_shape
from fitorch.layers.conv import (Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D,
                                 Conv3DTranspose, Convolution1D, Convolution2D, Convolution3D,
                                 DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D,
                                 SeparableConv2D)
from fitorch.layers.core import (Activation, Dense, Dropout, Identity, InputLayer, Lambda,
                                 Rescaling, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
from fitorch.layers.embedding import Embedding
from fitorch.layers.masking import Masking
from fitorch.layers.noise import GaussianDropout, GaussianNoise
from fitorch.layers.merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                                  Subtract, add, average, concatenate, dot, maximum, minimum,
                                  multiply, subtract)
from fitorch.layers.normalization import BatchNormalization, LayerNormalization
from fitorch.layers.pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D,
                                    AvgPool1D, AvgPool2D, AvgPool3D, GlobalAveragePooling1D,
                                    GlobalAveragePooling2D, GlobalAveragePooling3D,
                                    GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D,
                                    GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D,
                                    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D,
                                    MaxPool1D, MaxPool2D, MaxPool3D, MaxPooling1D, MaxPooling2D,
                                    MaxPooling3D)
from fitorch.layers.reshaping import (Cropping1D, Cropping2D, Cropping3D, Flatten, Permute,
                                      RepeatVector, Reshape, UpSampling1D, UpSampling2D,
                                      UpSampling3D, ZeroPadding1D, ZeroPadding2D, ZeroPadding3D)
from fitorch.layers.preprocessing import Normalization, RandomFlip, Resizing
from fitorch.layers.lookup import IntegerLookup, StringLookup, TextVectorization
from fitorch.layers.recurrent import GRU, LSTM, SimpleRNN
from fitorch.layers.advanced_activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from fitorch.layers.attention import Attention, MultiHeadAttention
from fitorch.layers.wrappers import Bidirectional, TimeDistributed



def __getattr__(name: str) -> Any:
    # ``layers.Input`` (Keras spelling used by the seed) lives with the functional API; imported
    # on first use so that fitorch.layers never depends on fitorch.models at import time
    if name == "Input":
        return importlib.import_module("fitorch.models.functional").Input
    raise AttributeError(f"module 'fitorch.layers' has no attribute {name!r}")


__all__ = sorted(name for name, value in list(globals().items())
                 if not name.startswith("_") and not isinstance(value, types.ModuleType)
                 and name not in {"annotations", "Any"}) + \
    ["Input", "activations", "constraints", "initializers", "regularizers"]
