"""`python -m keras_svq ...` runs the `keras-svq` command."""

import sys

from keras_svq.cli import main

if __name__ == "__main__":
    sys.exit(main())
