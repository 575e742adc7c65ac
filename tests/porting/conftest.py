"""The example programs under torch_programs/ run at import (argparse, training loops):
pytest's --doctest-modules must not import them. tests/test_torch_programs.py runs them."""
collect_ignore_glob = ["torch_programs/*", "run_program.py"]
