"""Homogeneous transforms in the ISB spine frame (+X anterior, +Y superior, +Z right).

All angles here are in radians; positive angles are right-handed about the axis.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rot_y", "rot_z", "translate", "invert", "apply"]


def translate(x: float = 0.0, y: float = 0.0, z: float = 0.0) -> np.ndarray:
    """Return a (4, 4) translation by ``(x, y, z)`` mm."""
    m = np.eye(4)
    m[:3, 3] = (x, y, z)
    return m


def rot_y(angle_rad: float) -> np.ndarray:
    """Return a (4, 4) rotation about +Y (axial rotation; positive turns +X toward -Z)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    m = np.eye(4)
    m[0, 0], m[0, 2], m[2, 0], m[2, 2] = c, s, -s, c
    return m


def rot_z(angle_rad: float) -> np.ndarray:
    """Return a (4, 4) rotation about +Z (sagittal plane; positive is extension)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    m = np.eye(4)
    m[0, 0], m[0, 1], m[1, 0], m[1, 1] = c, -s, s, c
    return m


def invert(m: np.ndarray) -> np.ndarray:
    """Return the inverse of a rigid (4, 4) transform."""
    out = np.eye(4)
    r = m[:3, :3]
    out[:3, :3] = r.T
    out[:3, 3] = -r.T @ m[:3, 3]
    return out


def apply(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a (4, 4) transform to (..., 3) points; return (..., 3)."""
    p = np.asarray(points, dtype=float)
    return p @ m[:3, :3].T + m[:3, 3]
