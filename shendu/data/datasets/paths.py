"""Where dataset files live: ``data_dir``, else ``$SHENDU_DATA``, else ``~/.shendu/datasets``.

Each dataset has its own folder under that root (``mnist/``, ``fashion-mnist/``,
``wine-quality/``, ``names/``, ``tinyshakespeare/``). shendu never downloads anything
at load time: when files are missing the error says which files to put where.

>>> from shendu.data.datasets.paths import data_home
>>> data_home("/tmp/my-data").as_posix()
'/tmp/my-data'
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_home", "find_dataset_files", "ENV_VAR", "DEFAULT_DIR"]

ENV_VAR = "SHENDU_DATA"
DEFAULT_DIR = Path("~") / ".shendu" / "datasets"


def data_home(data_dir=None) -> Path:
    """The root folder holding the datasets' folders.

    ``data_dir`` if given, else the ``SHENDU_DATA`` environment variable, else
    ``~/.shendu/datasets``. ``~`` is expanded; the folder is not created.
    """
    if data_dir is None:
        data_dir = os.environ.get(ENV_VAR) or DEFAULT_DIR
    return Path(data_dir).expanduser()


def _where_from(data_dir):
    if data_dir is not None:
        return "the data_dir argument"
    if os.environ.get(ENV_VAR):
        return f"the {ENV_VAR} environment variable"
    return f"the default (no data_dir argument and no {ENV_VAR} environment variable)"


def find_dataset_files(dataset, folder, files, data_dir=None, alternatives=None, source=""):
    """Paths of ``files`` for ``dataset``, or a ``FileNotFoundError`` that says what to do.

    Files are looked for in ``<root>/<folder>/`` and then in ``<root>/`` itself (so
    ``data_dir`` may also point straight at the dataset's folder). ``alternatives``
    maps a file name to other accepted names (e.g. the un-gzipped IDX file).
    """
    root = data_home(data_dir)
    alternatives = alternatives or {}
    for base in (root / folder, root):
        found = {}
        for name in files:
            for candidate in (name, *alternatives.get(name, ())):
                if (base / candidate).is_file():
                    found[name] = base / candidate
                    break
        if len(found) == len(files):
            return [found[name] for name in files]
    target = root / folder
    present = [n for n in files if any((target / c).is_file()
                                       for c in (n, *alternatives.get(n, ())))]
    missing = [n for n in files if n not in present]
    if not root.is_dir():
        state = f"the data folder {root} does not exist"
    elif not target.is_dir():
        state = f"the folder {target} does not exist"
    else:
        state = f"{target} lacks {', '.join(missing)}"
    msg = (f"{dataset}: {state} (root taken from {_where_from(data_dir)}).\n"
           f"Put these files in {target}{os.sep}:\n"
           + "".join(f"    {name}\n" for name in missing)
           + f"or set the {ENV_VAR} environment variable (or pass data_dir=...) to a folder "
             f"that contains {folder}{os.sep} with them. shendu does not download data.")
    if source:
        msg += f"\nThe files come from {source}."
    raise FileNotFoundError(msg)
