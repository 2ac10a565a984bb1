"""Benchmark and training structures shipped with rnadesign (installed as ``rnadesign.data``).

See SOURCES.md in this folder for provenance and licences.
"""
