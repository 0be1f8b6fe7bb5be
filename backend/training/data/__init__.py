"""Training and evaluation data: our synthetic generator and loaders for public datasets."""
