"""Reference values of the lpips package's LPIPS (AlexNet, v0.1) for EvaluationTests.

    python make_lpips_reference.py REPOSITORY_ROOT OUTPUT_FOLDER

Builds lpips.LPIPS(net='alex', pnet_rand=True): a randomly initialised AlexNet (nothing is
downloaded) with the package's real linear layers from its wheel. Writes OUTPUT/weights.safetensors
through scripts/evaluation_weights.py (the README's export) and OUTPUT/reference.safetensors with
the input images, each layer's unit-normalised features, the distances and the spatial maps.
"""
import sys

import torch
import lpips
from safetensors.torch import save_file

root, output = sys.argv[1], sys.argv[2]
sys.path.insert(0, root + "/scripts")
from evaluation_weights import lpips_tensors  # noqa: E402

torch.manual_seed(0)
model = lpips.LPIPS(net="alex", version="0.1", pnet_rand=True, verbose=False).eval()
spatial = lpips.LPIPS(net="alex", version="0.1", pnet_rand=True, spatial=True, verbose=False).eval()
spatial.load_state_dict(model.state_dict())
# Two pairs of 64×80 images in [-1, 1]: the second pair closer than the first.
a = torch.rand(2, 3, 64, 80) * 2 - 1
b = a.clone()
b[0] = torch.rand(3, 64, 80) * 2 - 1
b[1] = (a[1] + 0.3 * torch.randn(3, 64, 80)).clamp(-1, 1)
with torch.no_grad():
    distance = model(a, b).flatten()
    maps = spatial(a, b)
    taps = model.net(model.scaling_layer(a))
reference = {"input.a": a, "input.b": b, "distance": distance, "spatial": maps.contiguous()}
for index, tap in enumerate(taps):
    reference[f"features.{index}"] = lpips.normalize_tensor(tap).contiguous()
save_file(lpips_tensors(model), output + "/weights.safetensors")
save_file(reference, output + "/reference.safetensors")
print(" ".join(f"{d:.6f}" for d in distance.tolist()))
