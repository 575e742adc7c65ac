"""The Keras 3 progress bar: clean lines off a terminal, redrawn in place on one."""
import io
import re
import sys

import numpy as np
import pytest

from shendu import keras
from shendu.keras import layers
from shendu.keras.progress import Progbar, format_time_per_step, format_value, is_dynamic

BAR = "━" * 20
LINE = re.compile(r"^2/2 ━{20} \d+s \d+(us|ms|s)/step - loss: \d+\.\d{4}"
                  r"( - val_loss: \d+\.\d{4})?$")


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def _fit(verbose, epochs=3, **kw):
    keras.backend.clear_session()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype(np.float32)
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x, x.sum(1), epochs=epochs, batch_size=32, verbose=verbose, **kw)
    return model, x


def test_non_terminal_auto_prints_one_clean_line_per_epoch(capsys):
    assert not is_dynamic(sys.stdout)
    _fit("auto", validation_data=(np.ones((4, 2)), np.ones(4)))
    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out and "\b" not in out
    lines = out.splitlines()
    assert lines[0::2] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    for line in lines[1::2]:
        assert LINE.match(line), line
        assert "val_loss" in line
    assert len(lines) == 6


def test_terminal_redraws_in_place_with_colours(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    _fit(1, epochs=2)
    out = tty.getvalue()
    assert "Epoch 1/2\n" in out and "Epoch 2/2\n" in out
    assert "\r" in out  # redrawn in place
    assert "\x1b[1m2/2\x1b[0m" in out and "\x1b[32m" + BAR + "\x1b[0m" in out
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    finals = [seg for seg in plain.split("\r") if seg.startswith("2/2")]
    assert len(finals) == 2 and all(LINE.match(seg.split("\n")[0].rstrip()) for seg in finals)
    assert out.endswith("\n")


def test_verbose_2_and_0(capsys):
    _fit(2, epochs=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2"
    assert re.match(r"^2/2 - \d+s - \d+(us|ms|s)/step - loss: \d+\.\d{4}$", lines[1]), lines[1]
    assert len(lines) == 4
    _fit(0)
    assert capsys.readouterr().out == ""


def test_single_epoch_has_no_epoch_header_and_evaluate_predict_bars(capsys):
    model, x = _fit("auto", epochs=1)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and LINE.match(out[0])
    model.evaluate(x, x.sum(1), batch_size=32)
    ev = capsys.readouterr().out.splitlines()
    assert len(ev) == 1 and LINE.match(ev[0])
    model.predict(x, batch_size=32)
    pr = capsys.readouterr().out.splitlines()
    assert len(pr) == 1 and re.match(r"^2/2 ━{20} \d+s \d+(us|ms|s)/step$", pr[0])


def test_progbar_formatting_helpers():
    assert format_value(0.06132) == "0.0613"
    assert format_value(0.0001234) == "1.2340e-04"
    assert format_time_per_step(0.004) == "4ms/step"
    assert format_time_per_step(2.2) == "2s/step"
    assert format_time_per_step(0.00002) == "20us/step"
    out = io.StringIO()
    bar = Progbar(469, stream=out, dynamic=False)
    for i in range(1, 470):
        bar.update(i, [("accuracy", 0.98123), ("loss", 0.0613)])
    text = out.getvalue()
    assert text.count("\n") == 1
    assert re.match(r"^469/469 ━{20} \d+s \d+(us|ms|s)/step - accuracy: 0\.9812 - loss: 0\.0613\n$",
                    text)
    with pytest.raises(ValueError, match="verbose"):
        _fit(3)
