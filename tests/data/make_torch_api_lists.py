"""Write torch_2_13_0_tensor_methods.txt and torch_2_13_0_functions.txt from the
installed PyTorch (run with torch 2.13.0): the lists tests/test_torch_api_coverage.py
checks shendu against. The filter is explained in that test's docstring."""
import os
import re
import types

import torch

EXCLUDE = re.compile(
    r"quantiz|^q_|fake_quant|qparams|int_repr|dequantize"
    r"|sparse|csr|csc|bsr|bsc|coo|indices_copy|^values_copy|smm$|spmm|saddmm|hspmm|sspaddmm"
    r"|fft|^complex$|view_as_complex|view_as_real|^polar$|^imag$"
    r"|cuda|cudnn|miopen|mkldnn|fbgemm|xla|_ipu|mps|vulkan|autocast|profiler"
    r"|^native_|_backward|^batch_norm_(stats|elemt|gather|update)"
    r"|ir_module|parse_|type_comment|unify_type_list|classproperty|compiled_with"
    r"|^fork$|^wait$|^sym_constrain|^sym_fresh|thread_safe_generator|get_file_path"
    r"|prepare_multiprocessing_environment|segment_reduce")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    version = torch.__version__.split("+")[0].replace(".", "_")
    functions = sorted(n for n in dir(torch) if not n.startswith("_")
                       and isinstance(getattr(torch, n), (types.FunctionType,
                                                          types.BuiltinFunctionType))
                       and not EXCLUDE.search(n))
    methods = sorted(n for n in dir(torch.Tensor) if not n.startswith("_"))
    for kind, names in (("functions", functions), ("tensor_methods", methods)):
        with open(os.path.join(here, f"torch_{version}_{kind}.txt"), "w") as f:
            f.write("\n".join(names) + "\n")
    print(len(methods), "Tensor methods,", len(functions), "functions")


if __name__ == "__main__":
    main()
