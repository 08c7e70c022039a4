import pytest

from keras_svq.testing import reference


@pytest.fixture
def no_default(monkeypatch, tmp_path):
    # A checkout whose `../shared` does not exist.
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "setup.py").write_text("")
    monkeypatch.setattr(reference, "_SOURCE_ROOT", checkout)
    monkeypatch.delenv(reference.SHARED_ENV, raising=False)
    return checkout


def test_the_environment_variable_wins(monkeypatch, tmp_path):
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "x.json").write_text("{}")
    monkeypatch.setenv("KERAS_SVQ_SHARED", str(tmp_path))
    assert reference.shared_root() == tmp_path
    assert reference.reference_path("x.json") == tmp_path / "reference" / "x.json"
    with pytest.raises(FileNotFoundError, match="Reference file .*y.json"):
        reference.reference_path("y.json")


def test_the_default_is_beside_the_checkout(no_default):
    assert reference.default_shared_root() == no_default.parent / "shared"
    (no_default.parent / "shared" / "data").mkdir(parents=True)
    assert reference.shared_root() == no_default.parent / "shared"
    with pytest.raises(FileNotFoundError, match="Shared data file"):
        reference.shared_data_path("nope.npz")


def test_an_installed_package_has_no_default(monkeypatch, tmp_path):
    monkeypatch.setattr(reference, "_SOURCE_ROOT", tmp_path)  # no setup.py
    assert reference.default_shared_root() is None


def test_missing_folder_names_the_variable(no_default, monkeypatch):
    monkeypatch.setattr(reference, "_skip_when_missing", False)
    with pytest.raises(reference.SharedFolderNotFound, match="Set KERAS_SVQ_SHARED"):
        reference.reference_path("param_counts.json")


def test_missing_folder_skips_under_pytest(no_default, monkeypatch):
    monkeypatch.setattr(reference, "_skip_when_missing", True)
    with pytest.raises(pytest.skip.Exception, match="KERAS_SVQ_SHARED is not set"):
        reference.reference_path("param_counts.json")


def test_a_wrong_variable_fails_even_under_pytest(monkeypatch, tmp_path):
    monkeypatch.setattr(reference, "_skip_when_missing", True)
    monkeypatch.setenv("KERAS_SVQ_SHARED", str(tmp_path / "nope"))
    with pytest.raises(reference.SharedFolderNotFound, match="is not a folder"):
        reference.shared_root()
