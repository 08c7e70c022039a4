"""The backbone registry: explicit registration, lookups and their errors."""

import pytest

import zoo
from keras_svq.io_utils import UserError
from zoo import registry
from zoo.backbone import Backbone
from zoo.recurrent import RecurrentBackbone


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_concrete_backbone_is_registered_under_its_name():
    concrete = {
        cls
        for cls in _subclasses(Backbone)
        if cls.__module__.startswith("zoo.")
        and cls not in (RecurrentBackbone,)
        and not cls.__module__.endswith("_test")
    }
    names = zoo.available_backbones()
    assert {cls.__name__ for cls in concrete} == set(names)
    for cls in concrete:
        assert zoo.get_backbone_class(cls.__name__) is cls
    assert "Backbone" not in names and "RecurrentBackbone" not in names


def test_unknown_name_suggests_and_lists():
    with pytest.raises(UserError) as info:
        zoo.get_backbone_class("PredRNNv3Backbone")
    message = str(info.value)
    assert "Did you mean PredRNNv2Backbone" in message
    assert "Known backbones: ConvLSTMBackbone, E3DLSTMBackbone" in message
    with pytest.raises(ValueError, match="Known backbones: "):
        zoo.get_backbone_class("resnet")


def test_a_name_is_registered_once(monkeypatch):
    monkeypatch.setattr(registry, "_BACKBONES", dict(registry._BACKBONES))

    @registry.register_backbone("TestOnlyBackbone")
    class TestOnlyBackbone:
        pass

    assert registry.get_backbone_class("TestOnlyBackbone") is TestOnlyBackbone
    with pytest.raises(ValueError, match="already registered to .*TestOnlyBackbone"):
        registry.register_backbone("SimVPBackbone")(TestOnlyBackbone)
    with pytest.raises(ValueError, match="non-empty string. Received: name=None"):
        registry.register_backbone(None)


def test_scheduled_sampling_is_the_backbones_choice():
    simvp = zoo.get_backbone_class("SimVPBackbone")
    predrnn = zoo.get_backbone_class("PredRNNBackbone")
    assert simvp.scheduled_sampling_arguments() is None
    assert "sampling_stop_iteration" in predrnn.scheduled_sampling_arguments()
    simvp.check_scheduled_sampling(None)
    with pytest.raises(UserError, match="SimVPBackbone has none: set it to null"):
        simvp.check_scheduled_sampling({"sampling_stop_iteration": 1})
    with pytest.raises(UserError, match="must be a mapping or null"):
        predrnn.check_scheduled_sampling([1])


def test_training_model_is_the_backbone_or_its_wrapper():
    factory, _ = zoo.tiny_backbones()["PredRNNBackbone"]
    model = factory()
    assert model.training_model(None) is model
    wrapper = model.training_model({"sampling_stop_iteration": 10})
    assert isinstance(wrapper, zoo.ScheduledSamplingModel)
    assert wrapper.built
    factory, _ = zoo.tiny_backbones()["simvp_gsta"]
    simvp = factory()
    assert simvp.training_model(None) is simvp
    with pytest.raises(UserError, match="set it to null"):
        simvp.training_model({"sampling_stop_iteration": 10})
