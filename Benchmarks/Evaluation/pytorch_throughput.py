"""PyTorch's side of bench-evaluation: the reference packages' networks, timed.

    python pytorch_throughput.py OUTPUT_FOLDER THREADS BATCH REPEATS SIDE

Builds lpips.LPIPS(net='alex', pnet_rand=True) and pytorch-fid's InceptionV3([3]) with random
weights (its weight fetch replaced, nothing downloaded), writes both weight files to
OUTPUT/lpips.safetensors and OUTPUT/inception.safetensors for the Swift side, then times, on
THREADS threads, the best of REPEATS forward passes on BATCH random SIDE × SIDE images: the
Inception (including its resize to 299) and LPIPS of BATCH pairs. Prints one JSON line.
"""
import json
import sys
import time

import torch
import torchvision
import lpips
from safetensors.torch import save_file

import pytorch_fid.inception as inception

output = sys.argv[1]
threads, batch, repeats, side = (int(argument) for argument in sys.argv[2:6])
torch.set_num_threads(threads)
torch.manual_seed(0)
sys.path.insert(0, "scripts")
from evaluation_weights import inception_tensors, lpips_tensors  # noqa: E402

template = torchvision.models.inception_v3(num_classes=1008, aux_logits=False, weights=None, init_weights=False)
state = {k: (torch.randn_like(v) * 0.05 if v.is_floating_point() else v) for k, v in template.state_dict().items()}
state = {k: (v.abs() + 0.5 if k.endswith("running_var") else v) for k, v in state.items()}
inception.load_state_dict_from_url = lambda *args, **kwargs: state
save_file(inception_tensors(inception.fid_inception_v3()), output + "/inception.safetensors")
fid_model = inception.InceptionV3([3]).eval()
lpips_model = lpips.LPIPS(net="alex", pnet_rand=True, verbose=False).eval()
save_file(lpips_tensors(lpips_model), output + "/lpips.safetensors")


def best(body):
    times = []
    with torch.no_grad():
        body()
        for _ in range(repeats):
            start = time.perf_counter()
            body()
            times.append(time.perf_counter() - start)
    return min(times)


images = torch.rand(batch, 3, side, side)
others = torch.rand(batch, 3, side, side) * 2 - 1
inception_seconds = best(lambda: fid_model(images))
lpips_seconds = best(lambda: lpips_model(images * 2 - 1, others))
print(json.dumps({"inception": batch / inception_seconds, "lpips": batch / lpips_seconds, "torch": torch.__version__}))
