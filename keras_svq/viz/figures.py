"""Figure creation and saving shared by every plot: no display, no global pyplot state.

Every plot function of `keras_svq.viz` builds a `matplotlib.figure.Figure`
directly (not through `pyplot`), so it renders without a display (the Agg
canvas), never changes the user's backend, and needs no `plt.close`. In a
notebook a returned `Figure` displays as the cell's value.
"""

import pathlib
import re


def _matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError(
            "keras_svq.viz needs matplotlib. Install it with "
            "`pip install keras-svq[viz]` (or `pip install matplotlib`)."
        ) from None
    return matplotlib


def new_figure(figsize=(6.0, 4.0), **kwargs):
    """A `matplotlib.figure.Figure` with an Agg canvas, outside pyplot.

    Args:
        figsize: tuple. Width and height in inches. Defaults to (6, 4).
        **kwargs: passed to `Figure` (e.g. `layout="constrained"`).

    Returns:
        A `Figure`.

    Example:

    ```python
    fig = new_figure((4, 3))
    fig.add_subplot().plot([1, 2, 3])
    save_figure(fig, "/tmp/line.png")
    ```
    """
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, **kwargs)
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure, path, dpi=100):
    """Writes `figure` to `path` (format from the suffix), creating folders.

    Args:
        figure: a matplotlib `Figure`.
        path: str or path. Destination, e.g. `"plots/skill.png"`.
        dpi: int. Resolution. Defaults to 100.

    Returns:
        The `pathlib.Path` written.

    Example:

    ```python
    save_figure(plot_skill_by_lead({"SimVP": {"mse": [1.0, 2.0]}}), "skill.png")
    ```
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    return path


# A unit that is one symbol (`K`, `m`, `Pa`, `%`) takes an exponent as is;
# anything longer ("trips per 30 min", "m/s", "W m-2") is wrapped first.
_BARE_UNIT = re.compile(r"[^\W\d_]+|%|°[A-Z]?")


def format_unit(unit, power=1):
    """A unit raised to `power`, in brackets when it is compound.

    `"K"` squared is `"K^2"`; `"trips per 30 min"` squared is
    `"(trips per 30 min)^2"`, never `"trips per 30 min^2"` (which would
    square only the minutes). A unit already wrapped in one pair of
    parentheses, like `"(0 - 1)"`, is not wrapped again.

    Args:
        unit: str. A unit; "" for none.
        power: int. Exponent. Defaults to 1.

    Returns:
        str, "" when `unit` is "".

    Example:

    ```python
    format_unit("trips per 30 min", 2)   # "(trips per 30 min)^2"
    format_unit("K", 2)                  # "K^2"
    ```
    """
    unit = (unit or "").strip()
    if not unit or power == 1:
        return unit
    if not (_BARE_UNIT.fullmatch(unit) or _is_wrapped(unit)):
        unit = f"({unit})"
    return f"{unit}^{power:g}"


def _is_wrapped(text):
    """True for `"(a b)"`, False for `"(a) b (c)"`: one pair encloses everything."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and i < len(text) - 1:
            return False
    return True


def per_channel(value, num_channels, name):
    """One entry per channel: a str is shared by every channel, a sequence is checked.

    Args:
        value: str, None or sequence of str. E.g. `"K"` or `("inflow", "outflow")`.
        num_channels: int. `C`.
        name: str. Argument name for the error message.

    Returns:
        list of `num_channels` str.

    Example:

    ```python
    per_channel("K", 2, "units")   # ["K", "K"]
    ```
    """
    if value is None or isinstance(value, str):
        return [value or ""] * num_channels
    value = [str(v) for v in value]
    if len(value) == 1:
        return value * num_channels
    if len(value) != num_channels:
        raise ValueError(
            f"`{name}` needs one entry per channel ({num_channels}) or one shared "
            f"string. Received: {name}={value}"
        )
    return value


def common_unit(units):
    """The unit shared by all channels, "" when there is none or they differ.

    Metrics averaged over channels (the skill chart) carry a unit only when
    every channel has the same one.

    Example:

    ```python
    common_unit(("trips per 30 min", "trips per 30 min"))   # "trips per 30 min"
    common_unit(("K", "m/s"))                              # ""
    ```
    """
    if units is None or isinstance(units, str):
        return units or ""
    distinct = set(units)
    return distinct.pop() if len(distinct) == 1 else ""


def quantity_label(name, unit):
    """`"inflow [trips per 30 min]"`; either part may be empty."""
    return " ".join(part for part in (name, f"[{unit}]" if unit else "") if part)


def sample_size(used, total=None):
    """`"n=857"`, or `"n=64 of 857"` when only part of the examples were used.

    Example:

    ```python
    sample_size(64, 857)   # "n=64 of 857"
    sample_size(857, 857)  # "n=857"
    ```
    """
    if total is None or int(total) == int(used):
        return f"n={int(used)}"
    return f"n={int(used)} of {int(total)}"
