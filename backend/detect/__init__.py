"""Finding hands in frames: MediaPipe's palm detector + hand landmarker, and a left/right tracker."""
