"""What the masked transformer is conditioned on: 2D pose cues and, for full checkpoints, image features."""
