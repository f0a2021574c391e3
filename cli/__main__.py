"""`python -m cli ...`: the compact-docs command line."""

from cli import main

if __name__ == "__main__":
    main()
