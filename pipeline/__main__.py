"""``python -m pipeline`` is ``newsmon`` (tests and containers use it without the script)."""

from pipeline.cli import main

main()
