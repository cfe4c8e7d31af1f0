// The GroupDNet target: the generator, encoder and discriminator of "Semantically Multi-modal
// Image Synthesis" (SMIS, CVPR 2020), their losses, the split-image input, and safetensors
// checkpoints whose names follow the reference PyTorch state_dicts.
//
// Data flow of one training iteration (see GroupDNet+Steps.swift):
//   seg, image ──splitImage──▶ E ──mu, logvar──▶ z ──▶ G(seg, z) ──fake──▶ D(seg ⊕ fake | seg ⊕ real)
