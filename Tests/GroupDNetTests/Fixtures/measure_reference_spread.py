"""The reference against itself: how far its own results move under a change that is not a bug.

    python3 measure_reference_spread.py [--full] [--reference PATH]

The tolerances of SMISReferenceTests and SMISReferenceTrainerTests are set against this
spread. The reference's code runs on PyTorch's CPU paths, which differ in summation order:
with oneDNN convolutions (PyTorch's default, which wrote the fixtures) or without
(`torch.backends.mkldnn.enabled = False`), and on 1 thread instead of 2. Each variant here
runs make_smis_reference.py's whole scenario again, from the same weights and batch, with one
thing the Swift tests also do: before each D step, the elements the fixture lists as
ill-conditioned (`patch.*`, `trainer.patch.*`: gradients within ILL_CONDITIONED of their
tensor's largest, whose Adam step direction is an accident of rounding) get the fixture's
values. Then it prints, per group of tensors, the largest of the measures the Swift tests
apply to our results: max|Δ| / max|ref| and ‖Δ‖₂ / ‖ref‖₂ for the stored tensors, and the
trainer test's relative differences of per-tensor gradient summaries (sum, sum |g|, max |g|).

Writes each variant into .cache/reference-spread/SIZE-VARIANT (about 6 MB reduced, 800 MB full).
"""

import argparse
import os
import subprocess
import sys

import torch
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
VARIANTS = {"without-mkldnn": ["--no-mkldnn"], "one-thread": ["--threads", "1"]}


def generate(out, fixture, arguments):
    """Runs the fixture scenario into `out`, patched to `fixture`'s ill-conditioned values."""
    sys.path.insert(0, HERE)
    import make_smis_reference as m
    if "--no-mkldnn" in arguments:
        torch.backends.mkldnn.enabled = False
        arguments = [a for a in arguments if a != "--no-mkldnn"]
    reference = load_file(os.path.join(fixture, "reference.safetensors"))
    record = m.ill_conditioned_entries

    def record_then_patch(prefix, nets, entries):
        record(prefix, nets, entries)
        with torch.no_grad():
            for net, name in nets:
                for key, parameter in net.named_parameters():
                    index = reference.get(f"{prefix}.{name}.{key}.index")
                    if index is not None:
                        parameter.view(-1)[index] = reference[f"{prefix}.{name}.{key}.value"]

    m.ill_conditioned_entries = record_then_patch
    m.SIZES["full" if "--full" in arguments else "reduced"]["out"] = out
    sys.argv = ["make_smis_reference.py"] + arguments
    m.main()


def values(file, key):
    tensor = file[key]
    if tensor.dtype == torch.uint8 and key + ".scale" in file:   # float16 of value / scale
        return tensor.view(torch.float16).to(torch.float64) * file[key + ".scale"].item()
    return tensor.to(torch.float64).reshape(-1)


def group_of(key):
    parts = key.split(".")
    if key.startswith(("trainer.grad.", "trainer.update.")):
        return ".".join(parts[:3])
    if key.startswith(("grad.", "after.", "update.")):
        return ".".join(parts[:2])
    if key.startswith("trainer."):
        return "trainer.losses"
    return parts[0]


def compare(fixture, variant):
    a, b = load_file(os.path.join(fixture, "reference.safetensors")), load_file(os.path.join(variant, "reference.safetensors"))
    largest = {}
    for key in a:
        if key.startswith("grad.") and not key.endswith(".scale"):
            largest[key.split(".")[1]] = max(largest.get(key.split(".")[1], 0), values(a, key).abs().max().item())
        if key.startswith("trainer.grad."):
            largest["trainer." + key.split(".")[2]] = max(largest.get("trainer." + key.split(".")[2], 0), a[key][2].item())
    worst = {}
    for key in sorted(a):
        if key.endswith((".scale", ".index", ".value")) or key.startswith(("input.", "patch.", "trainer.patch.")):
            continue
        x, y = values(a, key), values(b, key)
        if key.startswith("trainer.grad."):
            if x[2] < 1e-4 * largest["trainer." + key.split(".")[2]]:
                continue   # zero by structure or vanishing for this batch, as the test skips it
            measures = (max(abs(x[0] - y[0]) / x[1], abs(x[1] - y[1]) / x[1], abs(x[2] - y[2]) / x[2]).item(), 0.0)
        elif key.startswith(("trainer.update.", "update.")):
            if x[1] == 0:
                continue
            measures = (max(abs(x[0] - y[0]), abs(x[1] - y[1])).item() / x[1].item(), 0.0)
        else:
            scale = x.abs().max().item()
            if scale == 0 or (key.startswith("grad.") and scale < 1e-4 * largest[key.split(".")[1]]):
                continue
            measures = ((x - y).abs().max().item() / scale, ((x - y).norm() / x.norm()).item())
        entry = worst.setdefault(group_of(key), [0.0, "", 0.0, ""])
        if measures[0] > entry[0]:
            entry[0], entry[1] = measures[0], key
        if measures[1] > entry[2]:
            entry[2], entry[3] = measures[1], key
    for group, (maximum, where, l2, where_l2) in sorted(worst.items()):
        line = f"  {group:22s} max {maximum:.2e} ({where})"
        print(line + (f"  L2 {l2:.2e} ({where_l2})" if l2 > 0 else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="the DeepFashion size (.cache/reference-full)")
    parser.add_argument("--reference", default=os.environ.get("SMIS_REFERENCE", os.path.join(ROOT, ".cache", "SMIS")))
    parser.add_argument("--generate", nargs=2, metavar=("OUT", "FIXTURE"), help=argparse.SUPPRESS)
    arguments, rest = parser.parse_known_args()
    if arguments.generate:   # one variant, in a process of its own (mkldnn and threads are per process)
        size = ["--full"] if arguments.full else []
        return generate(*arguments.generate, ["--reference", arguments.reference] + size + rest)
    size = "full" if arguments.full else "reduced"
    fixture = os.path.join(ROOT, ".cache", "reference-full") if arguments.full else os.path.join(HERE, "smis")
    for name, flags in VARIANTS.items():
        out = os.path.join(ROOT, ".cache", "reference-spread", f"{size}-{name}")
        command = [sys.executable, __file__, "--generate", out, fixture, "--reference", arguments.reference]
        command += flags + (["--full"] if arguments.full else [])
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        print(f"the reference {name.replace('-', ' ')} against the fixture ({size}):")
        compare(fixture, out)


if __name__ == "__main__":
    main()
