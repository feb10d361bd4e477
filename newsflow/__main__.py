"""``python -m newsflow`` is the ``newsflow`` command."""

from newsflow.cli import main

if __name__ == "__main__":
    main()
