"""Pre-trained policies shipped with rnadesign (see MODEL_CARD.md)."""
