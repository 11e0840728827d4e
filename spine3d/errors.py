"""Error types shared by every layer.

A :class:`SpineInputError` carries what a user got wrong in one line: the file (if
any), the key and what is allowed. The command line prints it as ``Error: ...`` and
exits with status 2.
"""

from __future__ import annotations

__all__ = ["MeshFileError", "SpineInputError", "UnreachableTwistError"]


class SpineInputError(ValueError):
    """Invalid user input: an unknown level, joint or key, or a value out of range."""


class UnreachableTwistError(SpineInputError):
    """A twist or torque beyond what the motion segments can reach before tissue failure.

    Attributes
    ----------
    max_twist_deg : float
        The largest reachable twist of T1 relative to the sacrum for this model and
        mobility, in degrees (the same magnitude either way).
    max_torque_nm : float
        The torque at which the weakest segment reaches its failure torque, in N m.
    """

    def __init__(self, message: str, max_twist_deg: float, max_torque_nm: float):
        super().__init__(message)
        self.max_twist_deg = max_twist_deg
        self.max_torque_nm = max_torque_nm


class MeshFileError(SpineInputError):
    """A mesh file in ``meshes/`` that is missing, unreadable or does not match the manifest."""
