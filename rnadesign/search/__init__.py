"""The search, without any learning: LEARNA's adaptive walk and the decoy repair (``walk``), the
ensemble-aware population search and the designer's start (``ensemble``), and the design of long
targets by parts (``hierarchy``). It never imports the RL part or the runners."""

__all__ = ["ensemble", "hierarchy", "walk"]
