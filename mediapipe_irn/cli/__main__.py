"""``python -m mediapipe_irn.cli``."""

from . import main

main()
