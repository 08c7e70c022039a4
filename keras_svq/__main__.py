"""`python -m keras_svq ...` runs the `keras-svq` command."""

from keras_svq.cli import console_main

if __name__ == "__main__":
    console_main()
