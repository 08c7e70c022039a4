"""Distribution `keras-svq`: the import packages `keras_svq` and `zoo`."""

import pathlib

from setuptools import find_packages
from setuptools import setup

HERE = pathlib.Path(__file__).parent


def _version():
    namespace = {}
    exec((HERE / "keras_svq" / "version.py").read_text(), namespace)
    return namespace["__version__"]


# ONNX export: tf2onnx converts (its Select / Erfc handlers are extended in
# keras_svq/export/onnx.py, hence the minor-version pin), onnxruntime runs.
ONNX = ["tf2onnx>=1.17,<1.18", "onnx>=1.23", "onnxruntime>=1.31"]

setup(
    name="keras-svq",
    version=_version(),
    description=(
        "Keras 3 spatio-temporal forecasting with Sparse Vector Quantization "
        "(SVQ, arXiv 2312.03406)."
    ),
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["keras_svq", "keras_svq.*", "zoo", "zoo.*"]),
    include_package_data=True,
    package_data={
        "keras_svq": ["assets/*", "assets/**/*"],
        # Presets and the trained weights some ship (+ checksum, metadata).
        "zoo": [
            "**/*.yaml",
            "**/*.weights.h5",
            "**/*.weights.h5.sha256",
            "**/*.metadata.json",
        ],
    },
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "keras>=3.15,<4",
        "numpy",
        "pyyaml",
        "h5py",  # netCDF-4 files are HDF5; read lazily, no xarray needed
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "pytest-xdist",
            "scikit-image",  # the SSIM reference
            "scipy",  # netCDF-3 files
            "matplotlib",
            "pillow",
            "tf-keras-vis==0.8.7",
            "nbclient",
            "nbformat",
            "ipykernel",
            "ruff",
            "xarray",
            "zarr",
            "netCDF4",
            "global-land-mask",  # a real land/sea mask for the masked-data tests
            *ONNX,  # tests/onnx_export_test.py
        ],
        "viz": ["tf-keras-vis==0.8.7", "matplotlib", "pillow"],
        "netcdf3": ["scipy"],
        # from_xarray, zarr stores (load_array("x.zarr"), data.array: x.zarr)
        "xarray": ["xarray", "zarr"],
        "tensorboard": ["tensorboard"],
        # the optical-flow baseline (keras_svq.metrics.baselines, --baselines optical_flow)
        "pysteps": ["pysteps"],
        # keras-svq export --format onnx, keras_svq.export.export_onnx
        "onnx": ONNX,
    },
    entry_points={"console_scripts": ["keras-svq=keras_svq.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Keras",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
