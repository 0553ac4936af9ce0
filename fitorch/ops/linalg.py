"""Linear algebra (``keras.ops.linalg``) on ``torch.linalg``."""

from __future__ import annotations

from typing import Any

import torch

from fitorch.ops._dtypes import result_type
from fitorch.ops._missing import missing_attribute
from fitorch.ops.core import cast, convert_to_tensor

__all__ = ["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "lstsq", "lu_factor",
           "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd"]


def _t(x: Any) -> torch.Tensor:
    """A float tensor (integer matrices are taken as ``floatx``, as Keras does)."""
    x = convert_to_tensor(x)
    return x if x.dtype.is_floating_point or x.dtype.is_complex else cast(x, result_type(
        x.dtype, float))


def cholesky(x: Any, upper: bool = False) -> torch.Tensor:
    """Cholesky factor of a symmetric positive-definite matrix (lower unless ``upper``)."""
    return torch.linalg.cholesky(_t(x), upper=upper)


def cholesky_inverse(x: Any, upper: bool = False) -> torch.Tensor:
    """Inverse of ``A`` from its Cholesky factor ``x``."""
    return torch.cholesky_inverse(_t(x), upper=upper)


def det(x: Any) -> torch.Tensor:
    """Determinant of (a batch of) square matrices."""
    return torch.linalg.det(_t(x))


def eig(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues and eigenvectors of a general square matrix (complex)."""
    return tuple(torch.linalg.eig(_t(x)))


def eigh(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix."""
    return tuple(torch.linalg.eigh(_t(x)))


def inv(x: Any) -> torch.Tensor:
    """Matrix inverse."""
    return torch.linalg.inv(_t(x))


def lu_factor(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """LU factorization: the packed ``LU`` matrix and 0-based pivots (as SciPy/JAX give)."""
    lu, pivots = torch.linalg.lu_factor(_t(x))
    return lu, pivots - 1


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Vector norm (``axis`` an int, or ``x`` 1-D) or matrix norm (two axes, or ``x`` 2-D),
    with NumPy's ``ord`` values (``"fro"``, ``"nuc"``, ints, ``inf``)."""
    x = _t(x)
    if axis is None:
        if ord is None:
            return torch.linalg.vector_norm(x.reshape(-1), keepdim=False).reshape(
                (1,) * x.ndim if keepdims else ())
        axis = tuple(range(x.ndim))
    if isinstance(axis, int):
        axis = (axis,)
    axis = tuple(axis)
    if len(axis) == 1:
        return torch.linalg.vector_norm(x, ord=2 if ord is None else ord, dim=axis,
                                        keepdim=keepdims)
    if len(axis) == 2:
        return torch.linalg.matrix_norm(x, ord="fro" if ord is None else ord, dim=axis,
                                        keepdim=keepdims)
    raise ValueError(f"norm: axis={axis} must be None, one axis or two axes")


def qr(x: Any, mode: str = "reduced") -> tuple[torch.Tensor, torch.Tensor]:
    """QR decomposition (``mode`` ``"reduced"`` or ``"complete"``)."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode={mode!r} is not 'reduced' or 'complete'")
    return tuple(torch.linalg.qr(_t(x), mode=mode))


def solve(a: Any, b: Any) -> torch.Tensor:
    """``x`` with ``a @ x = b``."""
    return torch.linalg.solve(_t(a), _t(b))


def solve_triangular(a: Any, b: Any, lower: bool = False) -> torch.Tensor:
    """``x`` with ``a @ x = b`` for triangular ``a`` (upper unless ``lower``); ``b`` may be a
    vector."""
    a, b = _t(a), _t(b)
    vector = b.ndim == a.ndim - 1
    out = torch.linalg.solve_triangular(a, b.unsqueeze(-1) if vector else b, upper=not lower)
    return out.squeeze(-1) if vector else out


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """Singular value decomposition ``(u, s, vh)``, or only ``s`` when not ``compute_uv``."""
    x = _t(x)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return tuple(torch.linalg.svd(x, full_matrices=full_matrices))


def lstsq(a: Any, b: Any, rcond: float | None = None) -> torch.Tensor:
    """Least-squares solution of ``a @ x = b`` (via the pseudo-inverse, any device)."""
    a, b = _t(a), _t(b)
    vector = b.ndim == 1
    out = torch.linalg.pinv(a, rtol=rcond) @ (b.unsqueeze(-1) if vector else b)
    return out.squeeze(-1) if vector else out


def matrix_rank(x: Any, tol: float | None = None) -> torch.Tensor:
    """Number of singular values above ``tol`` (default: NumPy's)."""
    return torch.linalg.matrix_rank(_t(x), atol=tol, rtol=None if tol is None else 0.0).int()


def pinv(x: Any, rcond: float | None = None) -> torch.Tensor:
    """Moore-Penrose pseudo-inverse (``rcond``: relative cut-off for small singular values)."""
    return torch.linalg.pinv(_t(x), rtol=rcond)


def __getattr__(name: str) -> Any:
    raise missing_attribute("fitorch.ops.linalg", name)
