"""Default-resolution vertebra meshes (binary PLY) and their manifest, shipped as package data."""
