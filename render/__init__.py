"""ionpump's renderer: reads simulation state, never changes it (DESIGN.md).

``scene`` composes a frame from ``world`` (the box: membrane, channels, ions rasterised by
``raster``, pumps drawn by ``pumps``), ``panel`` (numbers and charts) and ``overlays`` (bars,
captions, notices, help), placed by ``layout``, styled by ``style``, lettered by ``text``;
``memory`` remembers the previous frame to show what happened between frames. ``app`` is the
pygame window (``ionpump watch``), ``video`` encodes frames with ffmpeg (``ionpump record``),
``bench`` measures frames per second and encoding speed, ``notebook`` draws stills and videos
for ``sim.show()`` and ``sim.to_video()`` (found through the ``ionpump.display`` entry points).
"""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
