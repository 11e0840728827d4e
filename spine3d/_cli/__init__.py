"""The ``spine3d`` command line: parse, call the layers, print."""
