"""What both fixture scripts (make_reference.py, make_smis_reference.py) do alike."""
import torch.nn as nn
import torch


def randomize(net):
    """Non-trivial values everywhere, so that every path of the comparison is exercised:
    Xavier-normal gain 1 weights, small random biases, random running statistics (so that
    evaluation mode is tested), a non-zero batch counter."""
    with torch.no_grad():
        for name, tensor in net.state_dict(keep_vars=True).items():
            if name.endswith("weight") or name.endswith("weight_orig"):
                nn.init.xavier_normal_(tensor, gain=1.0)
            elif name.endswith("bias"):
                tensor.normal_(0, 0.1)
            elif name.endswith("running_mean"):
                tensor.normal_(0, 0.2)
            elif name.endswith("running_var"):
                tensor.uniform_(0.5, 2.0)
            elif name.endswith("num_batches_tracked"):
                tensor.fill_(7)
