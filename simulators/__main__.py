"""`python -m simulators`: see simulators.runner."""
from __future__ import annotations

from simulators.runner import main

if __name__ == "__main__":
    main()
