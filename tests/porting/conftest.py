"""The example programs under torch_programs/ and keras_programs/ run at import (argparse,
training loops): pytest's --doctest-modules must not import them; tests/test_torch_programs.py
and tests/test_keras_guide_programs.py run them."""
collect_ignore_glob = ["torch_programs/*", "keras_programs/*", "run_program.py"]
