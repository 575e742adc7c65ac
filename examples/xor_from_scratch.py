"""XOR with the course's hand-written NeuralNetwork([2, 4, 4, 1]) and with shendu (lesson 002).

Left: the course's class in plain NumPy, with its hand-derived backward pass
(dx = output - label, db = dx * sigma'(z), dW = db a^T, one sample at a time).
Right: the same network in shendu, where autograd derives the backward pass.
Both must bring all four XOR outputs within 0.1 of their targets.

Run: python examples/xor_from_scratch.py
"""
import time

import numpy as np

import shendu
from shendu import nn, optim


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def dsigmoid(x):
    return sigmoid(x) * (1 - sigmoid(x))


class NeuralNetwork:
    """The course's network (002), unchanged apart from formatting."""

    def __init__(self, layer_sizes, act, dact):
        self.layer_sizes = layer_sizes
        self.num_layers = len(layer_sizes) - 1
        self.act, self.dact = act, dact
        self.weights, self.biases, self.zetas, self.values = [], [], [], []
        for i in range(self.num_layers):
            self.weights.append(np.random.randn(layer_sizes[i + 1], layer_sizes[i]))
            self.biases.append(np.random.randn(layer_sizes[i + 1], 1))
            self.zetas.append(np.zeros((layer_sizes[i + 1], 1)))
            self.values.append(np.zeros((layer_sizes[i], 1)))
        self.values.append(np.zeros((layer_sizes[-1], 1)))

    def forward(self, data):
        self.values[0] = data
        for i in range(self.num_layers):
            self.zetas[i] = np.dot(self.weights[i], self.values[i]) + self.biases[i]
            self.values[i + 1] = self.act(self.zetas[i])

    def backward(self, label, lr):
        dx = self.values[-1] - label
        for i in range(self.num_layers):
            j = self.num_layers - i - 1
            db = dx * self.dact(self.zetas[j])
            dW = np.dot(db, self.values[j].T)
            dx = np.dot(self.weights[j].T, db)
            self.weights[j] -= lr * dW
            self.biases[j] -= lr * db

    def predict(self, data):
        self.forward(data)
        return self.values[-1]

    def fit(self, data, labels, lr, epochs):
        for _ in range(epochs):
            for j in range(len(data)):
                self.forward(data[j])
                self.backward(labels[j], lr)


def numpy_version(epochs):
    np.random.seed(1)
    data = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]).reshape((4, 2, 1))
    labels = np.array([0, 1, 1, 0]).reshape((4, 1, 1))
    model = NeuralNetwork([2, 4, 4, 1], sigmoid, dsigmoid)
    model.fit(data, labels, 1, epochs)
    return np.array([model.predict(x).item() for x in data])


def shendu_version(epochs):
    shendu.manual_seed(1)
    data = shendu.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = shendu.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Sigmoid(),
                          nn.Linear(4, 1), nn.Sigmoid())
    for p in model.parameters():  # initialised like the course's np.random.randn
        nn.init.normal_(p)
    opt = optim.SGD(model.parameters(), lr=1.0)
    for _ in range(epochs):
        for j in range(len(data)):           # one sample at a time, as the course does
            opt.zero_grad()
            out = model(data[j:j + 1])
            loss = 0.5 * ((out - labels[j:j + 1]) ** 2).sum()   # d loss/d out = out - label
            loss.backward()
            opt.step()
    with shendu.no_grad():
        return model(data).numpy().ravel()


if __name__ == "__main__":
    target = np.array([0, 1, 1, 0])
    for name, fn in (("NumPy (hand-written backward)", numpy_version),
                     ("shendu (autograd)", shendu_version)):
        t0 = time.perf_counter()
        pred = fn(3000)
        err = np.abs(pred - target).max()
        print(f"{name:<32} outputs {np.round(pred, 3)}  max error {err:.3f}  "
              f"({time.perf_counter() - t0:.2f}s)")
        assert err < 0.1, f"{name}: XOR not learned (max error {err:.3f})"
    print("both networks learned XOR: every output within 0.1 of its target")
