"""Scene layer: scene files and a GL-free description of what to draw."""
