"""Matplotlib for QA pictures: the headless backend, and figures turned into BGR pictures (what
every QA function returns, so that one writer stores them all)."""

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["plt", "figure_image"]


def figure_image(fig, dpi: int = 90) -> np.ndarray:
    """The figure as a BGR uint8 picture; the figure is closed."""
    fig.set_dpi(dpi)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    plt.close(fig)
    return cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR)
