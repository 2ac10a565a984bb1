"""The design problem itself: target structures, the folding model, design constraints, the base-pair
alphabet and the designability check. Imports nothing else of rnadesign but its errors."""

__all__ = ["alphabet", "constraints", "designability", "folding", "generate", "metrics", "patterns", "structure"]
