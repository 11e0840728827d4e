"""Material to share: a standalone web page, glTF, slides and notebook display.

Beside :mod:`spine3d.render`: the web page and glTF are GL-free (they read the scene
description and the solver's states), the slides embed the figures the render layer
makes.
"""
