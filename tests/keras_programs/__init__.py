"""Keras programs from the Keras 3 guides, run under Keras and under fitorch (see harness.py)."""
