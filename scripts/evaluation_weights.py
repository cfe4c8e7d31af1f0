#!/usr/bin/env python3
"""Exports the weights `smis evaluate` needs to safetensors, from the reference packages.

    python3 scripts/evaluation_weights.py --lpips lpips-alex.safetensors
    python3 scripts/evaluation_weights.py --inception fid-inception.safetensors

--lpips: the `lpips` package's LPIPS(net='alex') (v0.1): the linear layers ship in its wheel,
torchvision's ImageNet AlexNet is fetched once by torchvision. --inception: `pytorch-fid`'s FID
Inception (pt_inception-2015-12-05), fetched once by pytorch-fid. Needs torch, torchvision,
lpips or pytorch-fid, and safetensors. The tests import the two *_tensors functions, so the
keys the toolkit reads are exactly the ones exported here.
"""
import argparse


def lpips_tensors(model):
    """The LPIPS state_dict without the `lins.*` aliases of `lin0`…`lin4` (same tensors)."""
    return {k: v.detach().contiguous() for k, v in model.state_dict().items() if not k.startswith("lins.")}


def inception_tensors(model):
    """The FID Inception's float tensors: convolutions and batch norms, without the classifier
    (`fc.*`) and the batch norms' integer `num_batches_tracked`."""
    return {
        k: v.detach().contiguous()
        for k, v in model.state_dict().items()
        if not k.startswith("fc.") and not k.endswith("num_batches_tracked")
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lpips", help="write lpips' AlexNet + linear layers here")
    parser.add_argument("--inception", help="write pytorch-fid's Inception here")
    args = parser.parse_args()
    from safetensors.torch import save_file

    if args.lpips:
        import lpips

        save_file(lpips_tensors(lpips.LPIPS(net="alex", version="0.1").eval()), args.lpips)
    if args.inception:
        from pytorch_fid.inception import fid_inception_v3

        save_file(inception_tensors(fid_inception_v3().eval()), args.inception)
    if not (args.lpips or args.inception):
        parser.error("give --lpips and/or --inception")


if __name__ == "__main__":
    main()
