"""Seeded generators and rebuilders of publisher-format files for sources with no real copy here."""
