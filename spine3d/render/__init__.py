"""Render layer: pyvista actors, off-screen export and the viewer."""
