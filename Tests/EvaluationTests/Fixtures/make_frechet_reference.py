"""Reference values of pytorch-fid's Fréchet distance and scipy's sqrtm for EvaluationTests.

    python make_frechet_reference.py OUTPUT_FOLDER

Writes OUTPUT/frechet.safetensors. float64 arrays are stored as U8 bytes (the toolkit's
safetensors reader has no F64), named `<name>.f64`:
  - well.a, well.b: 400 × 32 float32 features (full-rank covariances), and fid.well, the value
    of pytorch_fid.fid_score.calculate_frechet_distance on their np.cov statistics;
  - ill.sigma1, ill.sigma2: 24 × 24 covariances with eigenvalues from 1 down to 1e-12 (and one
    exactly 0), with sqrtm.sigma1 = scipy.linalg.sqrtm(sigma1) and trace.product =
    Tr sqrtm(sigma1 @ sigma2), and fid.ill, pytorch-fid's distance of (0, sigma1), (0, sigma2).
"""
import sys

import numpy as np
import scipy.linalg
import torch
from pytorch_fid.fid_score import calculate_frechet_distance
from safetensors.numpy import save_file

output = sys.argv[1]
rng = np.random.default_rng(7)
tensors = {}


def doubles(name, values):
    tensors[name + ".f64"] = np.frombuffer(np.ascontiguousarray(values, dtype="<f8").tobytes(), dtype=np.uint8)


a = rng.normal(size=(400, 32)).astype(np.float32)
b = (rng.normal(size=(400, 32)) @ rng.normal(size=(32, 32)) * 0.3 + 0.5).astype(np.float32)
tensors["well.a"], tensors["well.b"] = a, b
stats = [(np.mean(x.astype(np.float64), axis=0), np.cov(x.astype(np.float64), rowvar=False)) for x in (a, b)]
doubles("fid.well", [calculate_frechet_distance(stats[0][0], stats[0][1], stats[1][0], stats[1][1])])


def ill_conditioned(n):
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eigenvalues = np.logspace(0, -12, n)
    eigenvalues[-1] = 0
    sigma = (q * eigenvalues) @ q.T
    return (sigma + sigma.T) / 2


sigma1, sigma2 = ill_conditioned(24), ill_conditioned(24)
doubles("ill.sigma1", sigma1)
doubles("ill.sigma2", sigma2)
doubles("sqrtm.sigma1", np.real(scipy.linalg.sqrtm(sigma1)))
doubles("trace.product", [np.trace(np.real(scipy.linalg.sqrtm(sigma1 @ sigma2)))])
doubles("fid.ill", [calculate_frechet_distance(np.zeros(24), sigma1, np.zeros(24), sigma2)])
save_file(tensors, output + "/frechet.safetensors")
print(torch.__version__)
