"""nn.Module and the containers: registration, iteration, modes, devices/dtypes,
state_dict round trips and errors, hooks, repr, summary."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import shendu
import shendu.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))
        self.scale = nn.Parameter(shendu.ones(1))
        self.register_buffer("step", shendu.zeros(()))
        self.register_buffer("cache", shendu.zeros(2), persistent=False)
        self.name = "net"  # a plain attribute

    def forward(self, x):
        return self.head(self.bn(self.fc1(x))) * self.scale


# ------------------------------------------------------------------------- Parameter
def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = nn.Parameter(shendu.zeros(2))
    assert isinstance(p, shendu.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([0., 0.], requires_grad=True)"
    frozen = nn.Parameter(shendu.zeros(2), requires_grad=False)
    assert not frozen.requires_grad
    assert type(p * 2) is shendu.Tensor  # results of ops are plain tensors
    t = shendu.zeros(3)
    shared = nn.Parameter(t)
    t._data[0] = 5.0
    assert shared._data[0] == 5.0  # shares the array like PyTorch
    with pytest.raises(RuntimeError, match="only floating point"):
        nn.Parameter(shendu.tensor([1, 2]))


# ------------------------------------------------------------------------- registration
def test_registration_and_iteration_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "head.1.weight", "head.1.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "step", "cache", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in net.named_children()] == ["fc1", "bn", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "bn", "head", "head.0", "head.1"]
    assert len(list(net.parameters(recurse=False))) == 1
    assert net.num_parameters() == 1 + 16 + 8 + 10
    assert net.name == "net" and "name" not in net._modules


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    model = nn.Sequential(lin, lin)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_modules()] == ["", "0"]


def test_setattr_replaces_and_deletes():
    net = Net()
    net.fc1 = nn.Linear(3, 5)
    assert net.fc1.out_features == 5
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match="cannot assign 'shendu.Tensor' as parameter 'scale'"):
        net.scale = shendu.ones(1)
    with pytest.raises(TypeError, match="cannot assign 'str' as child module 'fc1'"):
        net.fc1 = "nope"
    del net.fc1
    assert "fc1" not in net._modules
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'fc1'"):
        net.fc1


def test_registration_errors():
    class Early(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Early()
    m = nn.Module()
    with pytest.raises(KeyError, match="must not contain"):
        m.register_buffer("a.b", shendu.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'list' object to buffer 'b'"):
        m.register_buffer("b", [1, 2])
    with pytest.raises(TypeError, match="object to parameter 'w'.*nn.Parameter"):
        m.register_parameter("w", shendu.zeros(2))
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        m(shendu.zeros(1))


# ------------------------------------------------------------------------- modes, grads
def test_train_eval_propagate():
    net = Net()
    assert net.training and net.head[0].training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train("no")


def test_zero_grad_and_requires_grad_():
    net = Net()
    net(shendu.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_visits_children_first():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "ReLU", "Linear", "Sequential", "Net"]


def test_to_double_keeps_parameter_identity():
    net = Net()
    params = list(net.parameters())
    net(shendu.randn(4, 3)).sum().backward()
    net.double()
    assert all(a is b for a, b in zip(params, net.parameters()))
    assert all(p.dtype == shendu.float64 and p.grad.dtype == shendu.float64 for p in params)
    assert net.bn.running_mean.dtype == shendu.float64
    assert net.bn.num_batches_tracked.dtype == shendu.int64  # integers are not cast
    assert net(shendu.randn(4, 3, dtype=shendu.float64)).dtype == shendu.float64
    net.to(shendu.float32)
    assert net.fc1.weight.dtype == shendu.float32
    assert net.cpu() is net
    with pytest.raises(TypeError, match="floating point dtypes"):
        net.to(shendu.int64)


@pytest.mark.skipif(shendu.cuda_available(), reason="checks the CPU-only error")
def test_cuda_without_cupy_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CuPy"):
        Net().cuda()


# ------------------------------------------------------------------------- state dict
def test_state_dict_keys_and_values():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", "step", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias",
                        "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
                        "head.1.weight", "head.1.bias"]  # "cache" is not persistent
    assert not sd["fc1.weight"].requires_grad
    assert not isinstance(sd["fc1.weight"], nn.Parameter)
    np.testing.assert_array_equal(sd["fc1.weight"].numpy(), net.fc1.weight.detach().numpy())


def test_state_dict_round_trip():
    a, b = Net(), Net()
    a.train()
    a(shendu.randn(8, 3))  # moves BatchNorm's running stats
    weight_before = b.fc1.weight
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert b.fc1.weight is weight_before  # copied in place
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    x = shendu.randn(4, 3)
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    # NumPy arrays are accepted too
    b.load_state_dict({k: v.numpy() * 0 for k, v in a.state_dict().items()})
    assert float(b.fc1.weight.abs().sum()) == 0


def test_load_state_dict_strict_errors_report_everything_and_change_nothing():
    net = Net()
    sd = net.state_dict()
    before = net.fc1.weight.detach().numpy().copy()
    bad = OrderedDict((k, v.clone()) for k, v in sd.items() if k != "head.1.bias")
    bad["fc1.weight"] = shendu.zeros(4, 3)
    bad["extra.weight"] = shendu.zeros(1)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(bad)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:\n\t")
    assert 'Missing key(s) in state_dict: "head.1.bias". ' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight". ' in msg
    np.testing.assert_array_equal(net.fc1.weight.detach().numpy(), before)  # not half-loaded
    result = net.load_state_dict(bad, strict=False)
    assert result.missing_keys == ["head.1.bias"] and result.unexpected_keys == ["extra.weight"]
    assert float(net.fc1.weight.abs().sum()) == 0


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    net = Net()
    sd = net.state_dict()
    sd["fc1.weight"] = shendu.zeros(5, 3)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: copying a param with "
                       r"shape \(5, 3\) from checkpoint, the shape in current model is \(4, 3\)"):
        net.load_state_dict(sd, strict=False)


def test_deepcopy_is_independent():
    net = Net()
    twin = copy.deepcopy(net)
    assert isinstance(twin.fc1.weight, nn.Parameter)
    with shendu.no_grad():
        twin.fc1.weight.fill_(0)
    assert float(net.fc1.weight.abs().sum()) > 0
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in net.named_parameters()]


# ------------------------------------------------------------------------- hooks
def test_forward_hooks_and_removal():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: calls.append("pre"))
    h2 = lin.register_forward_hook(lambda m, args, out: out * 0)
    out = lin(shendu.ones(1, 2))
    assert calls == ["pre"] and float(out.abs().sum()) == 0
    h1.remove(), h2.remove()
    assert float(lin(shendu.ones(1, 2)).abs().sum()) > 0 and calls == ["pre"]


# ------------------------------------------------------------------------- containers
def test_sequential_indexing_slicing_append():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(model) == 3 and isinstance(model[-1], nn.Linear)
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    model.append(nn.Sigmoid())
    assert list(model._modules) == ["0", "1", "2", "3"]
    del model[1]
    assert list(model._modules) == ["0", "1", "2"] and isinstance(model[1], nn.Linear)
    assert model(shendu.ones(4, 2)).shape == (4, 1)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    assert isinstance(named[1], nn.Tanh)
    with pytest.raises(IndexError, match="index 5 is out of range"):
        named[5]
    with pytest.raises(TypeError, match=r"not a Module \(did you pass a class"):
        nn.Sequential(nn.ReLU)


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    holder = nn.Module()
    holder.layers = layers
    assert len(list(holder.parameters())) == 6
    layers.append(nn.ReLU())
    assert len(layers) == 4 and isinstance(layers[-1], nn.ReLU)
    assert repr(layers) == ("ModuleList(\n  (0-2): 3 x Linear(in_features=2, out_features=2, "
                            "bias=True)\n  (3): ReLU()\n)")
    d = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert list(d.keys()) == ["a", "b"] and "a" in d and len(d) == 2
    assert [n for n, _ in d.named_parameters()] == ["a.weight", "a.bias"]
    with pytest.raises(KeyError, match="ModuleDict has no module 'c'"):
        d["c"]
    plist = nn.ParameterList([nn.Parameter(shendu.zeros(2, 3)), nn.Parameter(shendu.zeros(1))])
    assert len(list(plist.parameters())) == 2
    assert repr(plist) == ("ParameterList(\n    (0): Parameter containing: [shendu.float32 of "
                           "size 2x3]\n    (1): Parameter containing: [shendu.float32 of size 1]\n)")


# ------------------------------------------------------------------------- repr
def test_repr_tree():
    net = Net()
    assert repr(net) == (
        "Net(\n"
        "  (fc1): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (bn): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=True)\n"
        "  (head): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Linear(in_features=4, out_features=2, bias=True)\n"
        "  )\n"
        ")")


# ------------------------------------------------------------------------- summary
def test_summary_counts_and_shapes():
    model = nn.Sequential(nn.Embedding(20, 4), nn.Flatten(), nn.Linear(12, 5),
                          nn.BatchNorm1d(5), nn.Dropout(0.2), nn.Linear(5, 2))
    model[0].weight.requires_grad_(False)
    model.train()
    s = nn.summary(model, input_size=(7, 3), dtype=shendu.int64, print_fn=None)
    assert s.total_params == 80 + 65 + 10 + 12
    assert s.trainable_params == 65 + 10 + 12 and s.non_trainable_params == 80
    assert [r[1] for r in s.rows] == ["Embedding", "Flatten", "Linear", "BatchNorm1d",
                                      "Dropout", "Linear"]
    assert [r[2] for r in s.rows] == ["(7, 3, 4)", "(7, 12)", "(7, 5)", "(7, 5)", "(7, 5)",
                                      "(7, 2)"]
    text = str(s)
    assert "Total params: 167" in text and "Non-trainable params: 80" in text
    assert model.training and int(model[3].num_batches_tracked) == 0  # state untouched
    printed = []
    nn.summary(model, input_shape=(3,), dtype=shendu.int64, print_fn=printed.append)
    assert "(None, 3, 4)" in printed[0]
    with pytest.raises(ValueError, match="input_size"):
        nn.summary(model)


# ------------------------------------------------------------------------- utils
def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (8 + 3,)
    np.testing.assert_array_equal(vec.detach().numpy()[:6], model[0].weight.detach().numpy().ravel())
    nn.utils.vector_to_parameters(shendu.arange(11, dtype=shendu.float32), model.parameters())
    np.testing.assert_array_equal(model[1].bias.detach().numpy(), [10.0])
    with pytest.raises(ValueError, match="the vector has 3 elements but the parameters hold 11"):
        nn.utils.vector_to_parameters(shendu.zeros(3), model.parameters())


def test_clip_grad_norm_is_reexported():
    model = nn.Linear(4, 4)
    model(shendu.ones(2, 4)).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.1)
    assert float(total) > 0.1
    norm = np.sqrt(sum(float((p.grad ** 2).sum()) for p in model.parameters()))
    assert norm == pytest.approx(0.1, rel=1e-4)
    assert nn.utils.clip_grad_value_ is shendu.optim.clip_grad_value_
