"""The extractor version, below every other module so any of them can read it."""

from __future__ import annotations

# Bump when rules, lexicon semantics or the gazetteer format change, so stored
# rows say which extractor produced them.
EXTRACTOR_VERSION = "1.7.0"
