# pytorch/examples time_sequence_prediction/generate_sine_wave.py, ported to shendu.
# Changes from the original, and nothing else:
#   * imports: `import torch` -> `import shendu as torch`;
#   * REDUCED: the waves are REDUCED points long instead of 1000 (env PORTING_LIMIT), for CI.
import os
import numpy as np
import shendu as torch

REDUCED = int(os.environ.get("PORTING_LIMIT", "1000"))  # REDUCED: points per wave

np.random.seed(2)

T = 20
L = REDUCED
N = 100

x = np.empty((N, L), 'int64')
x[:] = np.array(range(L)) + np.random.randint(-4 * T, 4 * T, N).reshape(N, 1)
data = np.sin(x / 1.0 / T).astype('float64')
torch.save(data, open('traindata.pt', 'wb'))
