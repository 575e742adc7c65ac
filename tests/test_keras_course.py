"""The course's Keras code (../shared/seeds/001, "Deep Learning Intro") run on shendu.

Each snippet is the course's code with only the import lines changed
(``from tensorflow import keras`` -> ``from shendu import keras``, ``from keras import layers``
-> ``from shendu.keras import layers``, ``tensorflow.keras.callbacks`` ->
``shendu.keras.callbacks``), fewer epochs so the suite stays fast, and the CSV path pointing
at the real file (the UCI copy is ';'-separated, so ``read_csv`` gets ``sep=';'``).
"""
import os
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _wine_csv():
    for root in (os.environ.get("SHENDU_DATA"), SHARED_DATA):
        if root and (Path(root) / "wine-quality" / "winequality-red.csv").is_file():
            return str(Path(root) / "wine-quality" / "winequality-red.csv")
    pytest.skip(f"wine-quality/winequality-red.csv not found in $SHENDU_DATA or {SHARED_DATA}")


@pytest.fixture
def wine():
    """The course's data preparation, verbatim (70/30 split, min-max scaling)."""
    pd = pytest.importorskip("pandas", reason="the course's snippets use pandas")
    import shendu
    shendu.manual_seed(0)
    shendu.keras.backend.clear_session()

    red_wine = pd.read_csv(_wine_csv(), sep=';')

    df_train = red_wine.sample(frac=0.7, random_state=0)
    df_valid = red_wine.drop(df_train.index)

    max_ = df_train.max(axis=0)
    min_ = df_train.min(axis=0)
    df_train = (df_train - min_) / (max_ - min_)
    df_valid = (df_valid - min_) / (max_ - min_)

    X_train = df_train.drop('quality', axis=1)
    X_valid = df_valid.drop('quality', axis=1)
    y_train = df_train['quality']
    y_valid = df_valid['quality']
    return pd, X_train, X_valid, y_train, y_valid


def test_linear_unit_and_first_sequential_model():
    from shendu import keras
    from shendu.keras import layers

    model = keras.Sequential([
        layers.Dense(units=1, input_shape=[3])
    ])
    w, b = model.weights
    assert w.shape == (3, 1) and b.shape == (1,)

    model = keras.Sequential([
        layers.Dense(units=4, activation='relu', input_shape=[2]),
        layers.Dense(units=3, activation='relu'),
        layers.Dense(units=1),
    ])
    assert model.count_params() == 12 + 15 + 4


def test_red_wine_training(wine):
    pd, X_train, X_valid, y_train, y_valid = wine
    from shendu import keras
    from shendu.keras import layers

    model = keras.Sequential([
        layers.Dense(512, activation='relu', input_shape=[11]),
        layers.Dense(512, activation='relu'),
        layers.Dense(512, activation='relu'),
        layers.Dense(1),
    ])

    model.compile(
        optimizer='adam',
        loss='mae',
    )

    history = model.fit(
        X_train, y_train,
        validation_data=(X_valid, y_valid),
        batch_size=256,
        epochs=3,
        verbose=0,
    )

    history_df = pd.DataFrame(history.history)
    assert list(history_df.columns) == ["loss", "val_loss"] and len(history_df) == 3
    assert history_df['loss'].iloc[-1] < history_df['loss'].iloc[0]
    assert history_df['val_loss'].iloc[-1] < 0.2  # MAE in min-max units; a constant guess is ~0.11-0.2


def test_red_wine_loss_curve(wine):
    pd, X_train, X_valid, y_train, y_valid = wine
    plt = pytest.importorskip("matplotlib.pyplot")
    plt.switch_backend("Agg")
    from shendu import keras
    from shendu.keras import layers

    model = keras.Sequential([layers.Dense(16, activation='relu', input_shape=[11]),
                              layers.Dense(1)])
    model.compile(optimizer='adam', loss='mae')
    history = model.fit(X_train, y_train, validation_data=(X_valid, y_valid), batch_size=256,
                        epochs=2, verbose=0)

    history_df = pd.DataFrame(history.history)

    plt.plot(history_df['loss'])
    plt.show()
    line, = plt.gca().get_lines()
    np.testing.assert_allclose(line.get_ydata(), history.history['loss'])
    plt.close("all")


def test_capacity_early_stopping_dropout_batchnorm(wine):
    pd, X_train, X_valid, y_train, y_valid = wine
    from shendu import keras
    from shendu.keras import layers
    from shendu.keras.callbacks import EarlyStopping

    model = keras.Sequential([
        layers.Dense(16, activation='relu'),
        layers.Dense(1),
    ])

    wider = keras.Sequential([
        layers.Dense(32, activation='relu'),
        layers.Dense(1),
    ])

    deeper = keras.Sequential([
        layers.Dense(16, activation='relu'),
        layers.Dense(16, activation='relu'),
        layers.Dense(1),
    ])

    early_stopping = EarlyStopping(
        min_delta=0.001,
        patience=20,
        restore_best_weights=True,
    )

    for m in (model, wider, deeper):
        m.compile(optimizer='adam', loss='mae')
        history = m.fit(
            X_train, y_train,
            validation_data=(X_valid, y_valid),
            batch_size=256,
            epochs=5,
            callbacks=[early_stopping],
            verbose=0,
        )
        best = min(history.history['val_loss'])
        # restore_best_weights put the best epoch's weights back
        assert m.evaluate(X_valid, y_valid, verbose=0) == pytest.approx(best, rel=1e-5)
    assert wider.layers[0].kernel.shape == (11, 32)

    regularized = keras.Sequential([
        layers.Dense(16, input_shape=[11]),
        layers.BatchNormalization(),
        layers.Activation('relu'),
        layers.Dropout(rate=0.3),
        layers.Dense(16, activation='relu'),
        layers.BatchNormalization(),
        layers.Dense(1),
    ])
    regularized.compile(optimizer='adam', loss='mae')
    history = regularized.fit(X_train, y_train, validation_data=(X_valid, y_valid),
                              batch_size=256, epochs=3, verbose=0)
    assert np.isfinite(history.history['val_loss']).all()
    # inference is deterministic (Dropout off, BatchNorm on its moving statistics)
    p1, p2 = regularized.predict(X_valid, verbose=0), regularized.predict(X_valid, verbose=0)
    np.testing.assert_array_equal(p1, p2)


def test_binary_classification(wine):
    pd, X_train, X_valid, y_train, y_valid = wine
    from shendu import keras
    from shendu.keras import layers

    # a binary target from the same data: good wine (quality >= 6 of 3..8)
    y_train = (y_train >= 0.5).astype(int)
    y_valid = (y_valid >= 0.5).astype(int)

    model = keras.Sequential([
        layers.Dense(32, activation='relu', input_shape=[11]),
        layers.Dense(32, activation='relu'),
        layers.Dense(1, activation='sigmoid'),
    ])

    model.compile(
        optimizer='adam',
        loss='binary_crossentropy',
        metrics=['binary_accuracy'],
    )

    history = model.fit(
        X_train, y_train,
        validation_data=(X_valid, y_valid),
        batch_size=64,
        epochs=15,
        verbose=0,
    )
    history_df = pd.DataFrame(history.history)
    assert set(history_df.columns) == {"binary_accuracy", "loss", "val_binary_accuracy",
                                       "val_loss"}
    assert history_df['val_binary_accuracy'].iloc[-1] > 0.68


def test_red_wine_model_without_pandas(monkeypatch):
    """The same lesson on NumPy arrays (shendu.datasets + the course's min-max formula),
    so it runs where pandas is not installed."""
    csv = _wine_csv()
    monkeypatch.setenv("SHENDU_DATA", str(Path(csv).parents[1]))
    import shendu
    from shendu import keras
    from shendu.keras import layers
    from shendu.keras.callbacks import EarlyStopping
    shendu.manual_seed(0)

    X, y = shendu.datasets.wine_quality("red", return_X_y=True)
    data = np.column_stack([X, y]).astype(np.float64)
    order = np.random.default_rng(0).permutation(len(data))
    train, valid = data[order[:1119]], data[order[1119:]]
    max_, min_ = train.max(axis=0), train.min(axis=0)
    train = (train - min_) / (max_ - min_)
    valid = (valid - min_) / (max_ - min_)
    X_train, y_train, X_valid, y_valid = train[:, :11], train[:, 11], valid[:, :11], valid[:, 11]

    model = keras.Sequential([
        layers.Dense(512, activation='relu', input_shape=[11]),
        layers.Dense(512, activation='relu'),
        layers.Dense(512, activation='relu'),
        layers.Dense(1),
    ])
    model.compile(optimizer='adam', loss='mae')
    early_stopping = EarlyStopping(min_delta=0.001, patience=20, restore_best_weights=True)
    history = model.fit(X_train, y_train, validation_data=(X_valid, y_valid), batch_size=256,
                        epochs=3, callbacks=[early_stopping], verbose=0)
    best = min(history.history['val_loss'])
    assert best < 0.2
    assert model.evaluate(X_valid, y_valid, verbose=0) == pytest.approx(best, rel=1e-5)
