import pytest

from keras_svq.viz import figures


@pytest.mark.parametrize(
    "unit, expected",
    [
        ("trips per 30 min", "(trips per 30 min)^2"),
        ("K", "K^2"),
        ("hPa", "hPa^2"),
        ("°C", "°C^2"),
        ("m/s", "(m/s)^2"),
        ("W m-2", "(W m-2)^2"),
        ("(0 - 1)", "(0 - 1)^2"),
        ("scaled flow (0 - 1)", "(scaled flow (0 - 1))^2"),
        ("(a) per (b)", "((a) per (b))^2"),
        ("", ""),
    ],
)
def test_squared_units_are_bracketed_when_compound(unit, expected):
    assert figures.format_unit(unit, 2) == expected
    assert figures.format_unit(unit) == unit


def test_channel_helpers_and_sample_size():
    assert figures.per_channel("K", 2, "units") == ["K", "K"]
    assert figures.per_channel(None, 1, "units") == [""]
    assert figures.per_channel(("a",), 3, "units") == ["a", "a", "a"]
    assert figures.per_channel(("a", "b"), 2, "units") == ["a", "b"]
    with pytest.raises(ValueError, match=r"one entry per channel \(3\)"):
        figures.per_channel(("a", "b"), 3, "units")
    assert figures.common_unit(("trips", "trips")) == "trips"
    assert figures.common_unit(("K", "m/s")) == ""
    assert figures.common_unit("K") == "K"
    assert figures.quantity_label("inflow", "trips") == "inflow [trips]"
    assert figures.quantity_label("", "K") == "[K]"
    assert figures.quantity_label("t2m", "") == "t2m"
    assert figures.sample_size(64, 857) == "n=64 of 857"
    assert figures.sample_size(857, 857) == "n=857"
    assert figures.sample_size(12) == "n=12"
