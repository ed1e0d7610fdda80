"""``python -m sandbox``: run the sandbox alone (see ``sandbox.cli``)."""

from sandbox.cli import main

main()
