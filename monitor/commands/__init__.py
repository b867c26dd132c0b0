"""CLI command groups kept out of cli.py to keep each module small."""
