"""ionpump's renderer: reads simulation state, never changes it (DESIGN.md).

``raster`` splats ions into an RGB array (numba), ``scene`` draws a whole frame, ``app`` is
the pygame window (``ionpump watch``), ``video`` encodes frames with ffmpeg
(``ionpump record``), ``bench`` measures frames per second and encoding speed.
"""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
