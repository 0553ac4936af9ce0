"""Keras-semantics layers for PyTorch: every layer is an ``nn.Module`` built lazily from its input."""

from fitorch.layers import activations, initializers, regularizers
from fitorch.layers.base import (IncompatibleInputError, Layer, deserialize, infer_output_shape,
                                 regularization_losses, serialize)
from fitorch.layers.conv import (Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D,
                                 Conv3DTranspose, Convolution1D, Convolution2D, Convolution3D,
                                 DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D,
                                 SeparableConv2D)
from fitorch.layers.core import (Activation, Dense, Dropout, Identity, InputLayer, Lambda,
                                 SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
