"""Reference values of pytorch-fid's Inception features and FID for EvaluationTests.

    python make_fid_reference.py REPOSITORY_ROOT OUTPUT_FOLDER

pytorch-fid fetches its Inception weights with load_state_dict_from_url; here that function is
replaced by one returning random weights of the same keys and shapes (He-scaled convolutions,
batch norms with random statistics), so nothing is downloaded. Writes OUTPUT/weights.safetensors
through scripts/evaluation_weights.py (the README's export), PNG photos OUTPUT/real/*.png and
OUTPUT/fake/*.png (6 each, 40 × 48: pytorch-fid needs one size per batch), OUTPUT/reference.safetensors with the features of both
folders, and prints pytorch-fid's FID of the two folders (calculate_fid_given_paths).
"""
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image
from safetensors.torch import save_file

import pytorch_fid.inception as inception
from pytorch_fid.fid_score import calculate_fid_given_paths, get_activations

root, output = sys.argv[1], sys.argv[2]
sys.path.insert(0, root + "/scripts")
from evaluation_weights import inception_tensors  # noqa: E402

torch.manual_seed(0)
template = torchvision.models.inception_v3(num_classes=1008, aux_logits=False, weights=None, init_weights=False)
state = {}
for key, value in template.state_dict().items():
    if key.endswith("conv.weight"):
        fan_in = value[0].numel()
        state[key] = torch.randn_like(value) * (2.0 / fan_in) ** 0.5
    elif key.endswith("bn.weight"):
        state[key] = torch.rand_like(value) + 0.5
    elif key.endswith("bn.bias") or key.endswith("running_mean"):
        state[key] = torch.randn_like(value) * 0.1
    elif key.endswith("running_var"):
        state[key] = torch.rand_like(value) * 1.5 + 0.5
    else:
        state[key] = value
inception.load_state_dict_from_url = lambda *args, **kwargs: state

save_file(inception_tensors(inception.fid_inception_v3().eval()), output + "/weights.safetensors")

rng = np.random.default_rng(3)
paths = {"real": [], "fake": []}
for folder in paths:
    os.makedirs(f"{output}/{folder}", exist_ok=True)
    for index in range(6):
        # Smooth colour fields plus noise, the fake ones brighter: sets that FID tells apart.
        base = rng.integers(0, 200, size=(1, 1, 3)) + (40 if folder == "fake" else 0)
        pixels = np.clip(base + rng.normal(0, 30, size=(40, 48, 3)), 0, 255).astype(np.uint8)
        path = f"{output}/{folder}/{index}.png"
        Image.fromarray(pixels).save(path)
        paths[folder].append(path)

model = inception.InceptionV3([inception.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
features = {
    folder: torch.from_numpy(get_activations(files, model, batch_size=6, dims=2048, device="cpu", num_workers=0))
    for folder, files in paths.items()
}
save_file({f"features.{k}": v.float().contiguous() for k, v in features.items()}, output + "/reference.safetensors")
fid = calculate_fid_given_paths(
    [f"{output}/real", f"{output}/fake"], batch_size=6, device="cpu", dims=2048, num_workers=0)
print(repr(float(fid)))
