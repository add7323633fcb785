#!/usr/bin/env python3
"""Writes the training goldens QuernLearning's tests replay step by step.

    ~/.cache/quern/venv-reference/bin/python tools/goldens/make_training_goldens.py

Everything random comes from one numpy RandomState (never torch's generator),
and is written to the JSON too, so the Swift test starts from exactly the
same numbers:

1. A fixture: 40 examples x 6 features, a 3-class target and a numeric
   target; a fixed batch order (4 epochs x 5 batches of 8 = 20 steps).
2. Initial weights (float32, nn.Linear's U(-1/sqrt(in), 1/sqrt(in))) for a
   logistic head, an MLP (6 -> 8 -> 3), a linear regression head and a
   regression MLP.
3. Cases: the head trained in torch float32 for those 20 steps with one
   optimiser (SGD, SGD+momentum, SGD+Nesterov, Adam, AdamW), weight decay
   on weights only (parameter groups: biases get 0), no dropout; one case
   with linear warm-up then cosine decay (LinearLR then CosineAnnealingLR in
   a SequentialLR), one with StepLR per epoch. Recorded: the learning rate
   of every step, each epoch's mean batch loss, the weights after 20 steps.
4. Losses: nn.CrossEntropyLoss (plain, class-weighted, label smoothing, both)
   and nn.MSELoss values and gradients on fixed logits; scikit-learn's
   balanced class weights for a count vector.

Output: Tests/QuernLearningTests/Goldens/training-steps.json (small).
"""

import json
import math
import pathlib

import numpy as np
import sklearn
import torch
from sklearn.utils.class_weight import compute_class_weight

REPO = pathlib.Path(__file__).resolve().parents[2]
OUT = REPO / "Tests/QuernLearningTests/Goldens/training-steps.json"

EXAMPLES, FEATURES, CLASSES, HIDDEN = 40, 6, 3, 8
EPOCHS, BATCH = 4, 8


def f32(values):
    """Shortest decimals that round-trip to the same float32."""
    flat = np.asarray(values, dtype=np.float32).reshape(-1)
    return [float(np.format_float_positional(v, unique=True, trim="-")) for v in flat]


def linear_init(rng, fan_in, fan_out):
    bound = 1 / math.sqrt(fan_in)
    weight = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32)
    bias = rng.uniform(-bound, bound, size=(fan_out,)).astype(np.float32)
    return weight, bias


def make_fixture(rng):
    x = rng.standard_normal((EXAMPLES, FEATURES)).astype(np.float32)
    mix = rng.standard_normal((FEATURES, CLASSES))
    classes = np.argmax(x @ mix + 0.5 * rng.standard_normal((EXAMPLES, CLASSES)), axis=1).astype(np.int64)
    values = (x @ rng.standard_normal(FEATURES) + 0.3 * rng.standard_normal(EXAMPLES) + 1.5).astype(np.float32)
    order = [[rng.permutation(EXAMPLES)[b * BATCH:(b + 1) * BATCH].tolist() for b in range(EXAMPLES // BATCH)]
             for _ in range(EPOCHS)]
    return x, classes, values, order


def build_model(layers, activation):
    """nn.Sequential of nn.Linear layers (activation between) holding `layers`."""
    modules = []
    for index, (weight, bias) in enumerate(layers):
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
        modules.append(linear)
        if index < len(layers) - 1:
            modules.append(torch.nn.ReLU() if activation == "relu" else torch.nn.GELU())
    return torch.nn.Sequential(*modules)


def make_optimiser(case, model):
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    decay = case.get("weight_decay", 0.0)
    groups = [{"params": weights, "weight_decay": decay}, {"params": biases, "weight_decay": 0.0}]
    lr = case["learning_rate"]
    kind = case["optimiser"]
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=case.get("momentum", 0.0), dampening=0,
                               nesterov=case.get("nesterov", False))
    if kind == "adam":
        return torch.optim.Adam(groups, lr=lr)
    if kind == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    raise ValueError(kind)


def make_scheduler(case, optimiser, total_steps):
    schedule = case.get("schedule")
    if schedule is None:
        return None, None
    if schedule["decay"] == "cosine":
        warmup = schedule["warmup_steps"]
        warm = torch.optim.lr_scheduler.LinearLR(optimiser, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1)
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=total_steps - warmup,
                                                            eta_min=schedule["minimum_learning_rate"])
        return torch.optim.lr_scheduler.SequentialLR(optimiser, [warm, cosine], milestones=[warmup]), "step"
    if schedule["decay"] == "step":
        return torch.optim.lr_scheduler.StepLR(optimiser, step_size=schedule["step_epochs"],
                                               gamma=schedule["step_factor"]), "epoch"
    raise ValueError(schedule)


def closed_form_rate(case, step, epoch, total_steps):
    """The schedule as QuernLearning defines it, to check torch agrees."""
    base = case["learning_rate"]
    schedule = case.get("schedule")
    if schedule is None:
        return base
    warmup = schedule["warmup_steps"]
    factor = (step + 1) / warmup if step < warmup else 1.0
    if schedule["decay"] == "step":
        return base * factor * schedule["step_factor"] ** (epoch // schedule["step_epochs"])
    if step < warmup:
        return base * factor
    floor = schedule["minimum_learning_rate"]
    return floor + (base - floor) * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total_steps - warmup)))


def run_case(case, heads, x, classes, values, order):
    head = heads[case["head"]]
    model = build_model(head["layers"], head["activation"])
    optimiser = make_optimiser(case, model)
    total_steps = sum(len(batches) for batches in order)
    scheduler, cadence = make_scheduler(case, optimiser, total_steps)
    if head["task"] == "classification":
        loss_spec = case.get("loss", {})
        weight = loss_spec.get("class_weights")
        criterion = torch.nn.CrossEntropyLoss(
            weight=None if weight is None else torch.tensor(weight, dtype=torch.float32),
            label_smoothing=loss_spec.get("label_smoothing", 0.0))
        targets = torch.from_numpy(classes)
    else:
        criterion = torch.nn.MSELoss()
        targets = torch.from_numpy(values).reshape(-1, 1)
    inputs = torch.from_numpy(x)
    rates, epoch_losses, step = [], [], 0
    for epoch, batches in enumerate(order):
        losses = []
        for batch in batches:
            index = torch.tensor(batch)
            rate = optimiser.param_groups[0]["lr"]
            expected = closed_form_rate(case, step, epoch, total_steps)
            assert abs(rate - expected) <= 1e-12 * max(1.0, abs(expected)), (case["name"], step, rate, expected)
            rates.append(rate)
            optimiser.zero_grad()
            loss = criterion(model(inputs[index]), targets[index])
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
            step += 1
            if cadence == "step":
                scheduler.step()
        if cadence == "epoch":
            scheduler.step()
        epoch_losses.append(float(np.mean(losses)))
    trained = [module for module in model if isinstance(module, torch.nn.Linear)]
    return {
        **case,
        "learning_rates": rates,
        "epoch_losses": epoch_losses,
        "final_layers": [{"weight": f32(m.weight.detach().numpy()), "bias": f32(m.bias.detach().numpy())} for m in trained],
    }


def loss_goldens(rng):
    logits = (3 * rng.standard_normal((6, 4))).astype(np.float32)
    targets = np.array([0, 3, 1, 1, 2, 3], dtype=np.int64)
    weights = np.array([0.5, 2.0, 1.0, 3.0], dtype=np.float32)
    cases = []
    for name, weight, smoothing in [("plain", None, 0.0), ("weighted", weights, 0.0), ("smoothed", None, 0.2),
                                    ("weighted_smoothed", weights, 0.2)]:
        tensor = torch.from_numpy(logits).clone().requires_grad_(True)
        criterion = torch.nn.CrossEntropyLoss(weight=None if weight is None else torch.from_numpy(weight),
                                              label_smoothing=smoothing)
        loss = criterion(tensor, torch.from_numpy(targets))
        loss.backward()
        # The same loss in float64, the value the Swift side accumulates.
        exact = torch.nn.CrossEntropyLoss(weight=None if weight is None else torch.from_numpy(weight).double(),
                                          label_smoothing=smoothing)(torch.from_numpy(logits).double(), torch.from_numpy(targets))
        cases.append({"name": name, "class_weights": None if weight is None else f32(weight), "label_smoothing": smoothing,
                      "loss": exact.item(), "gradient": f32(tensor.grad.numpy())})
    outputs = rng.standard_normal((5, 1)).astype(np.float32)
    wanted = rng.standard_normal((5, 1)).astype(np.float32)
    tensor = torch.from_numpy(outputs).clone().requires_grad_(True)
    loss = torch.nn.MSELoss()(tensor, torch.from_numpy(wanted))
    loss.backward()
    exact = torch.nn.MSELoss()(torch.from_numpy(outputs).double(), torch.from_numpy(wanted).double())
    counts = [7, 2, 11]
    labels = np.repeat(np.arange(3), counts)
    return {
        "logits": f32(logits), "classes": targets.tolist(), "cross_entropy": cases,
        "mse": {"outputs": f32(outputs), "targets": f32(wanted), "loss": exact.item(), "gradient": f32(tensor.grad.numpy())},
        "balanced": {"class_counts": counts,
                     "weights": compute_class_weight("balanced", classes=np.arange(3), y=labels).tolist()},
    }


def main():
    torch.set_num_threads(1)
    rng = np.random.RandomState(20261203)
    x, classes, values, order = make_fixture(rng)
    heads = {
        "logistic": {"task": "classification", "hidden": None, "activation": "relu",
                     "layers": [linear_init(rng, FEATURES, CLASSES)]},
        "mlp_relu": {"task": "classification", "hidden": HIDDEN, "activation": "relu",
                     "layers": [linear_init(rng, FEATURES, HIDDEN), linear_init(rng, HIDDEN, CLASSES)]},
        "linear_regression": {"task": "regression", "hidden": None, "activation": "relu",
                              "layers": [linear_init(rng, FEATURES, 1)]},
        "mlp_gelu_regression": {"task": "regression", "hidden": HIDDEN, "activation": "gelu",
                                "layers": [linear_init(rng, FEATURES, HIDDEN), linear_init(rng, HIDDEN, 1)]},
    }
    heads["mlp_gelu"] = {**heads["mlp_relu"], "activation": "gelu"}
    cases = [
        {"name": "logistic_sgd", "head": "logistic", "optimiser": "sgd", "learning_rate": 0.5},
        {"name": "logistic_momentum", "head": "logistic", "optimiser": "sgd", "learning_rate": 0.1, "momentum": 0.9,
         "weight_decay": 0.01},
        {"name": "logistic_nesterov_step", "head": "logistic", "optimiser": "sgd", "learning_rate": 0.2, "momentum": 0.8,
         "nesterov": True, "schedule": {"warmup_steps": 0, "decay": "step", "step_epochs": 2, "step_factor": 0.5}},
        {"name": "logistic_adam", "head": "logistic", "optimiser": "adam", "learning_rate": 0.05, "weight_decay": 0.01},
        {"name": "logistic_adamw", "head": "logistic", "optimiser": "adamw", "learning_rate": 0.05, "weight_decay": 0.1},
        {"name": "mlp_sgd", "head": "mlp_relu", "optimiser": "sgd", "learning_rate": 0.3, "weight_decay": 0.001},
        {"name": "mlp_momentum", "head": "mlp_relu", "optimiser": "sgd", "learning_rate": 0.05, "momentum": 0.9},
        {"name": "mlp_nesterov", "head": "mlp_relu", "optimiser": "sgd", "learning_rate": 0.05, "momentum": 0.9,
         "nesterov": True, "weight_decay": 0.01},
        {"name": "mlp_adam", "head": "mlp_relu", "optimiser": "adam", "learning_rate": 0.02, "weight_decay": 0.001},
        {"name": "mlp_adamw_warmup_cosine", "head": "mlp_relu", "optimiser": "adamw", "learning_rate": 0.03,
         "weight_decay": 0.05, "schedule": {"warmup_steps": 5, "decay": "cosine", "minimum_learning_rate": 0.001}},
        {"name": "mlp_gelu_adam_weighted_smoothed", "head": "mlp_gelu", "optimiser": "adam", "learning_rate": 0.02,
         "loss": {"class_weights": [0.6, 1.8, 1.2], "label_smoothing": 0.1}},
        {"name": "linear_regression_momentum", "head": "linear_regression", "optimiser": "sgd", "learning_rate": 0.02,
         "momentum": 0.9, "weight_decay": 0.01},
        {"name": "mlp_gelu_regression_adamw", "head": "mlp_gelu_regression", "optimiser": "adamw", "learning_rate": 0.02,
         "weight_decay": 0.1},
    ]
    golden = {
        "generator": "tools/goldens/make_training_goldens.py",
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "scikit-learn": sklearn.__version__},
        "features": f32(x), "rows": EXAMPLES, "columns": FEATURES, "classes": classes.tolist(), "values": f32(values),
        "batch_order": order,
        "heads": {name: {"task": head["task"], "hidden": head["hidden"], "activation": head["activation"],
                         "outputs": head["layers"][-1][0].shape[0],
                         "layers": [{"weight": f32(w), "bias": f32(b)} for w, b in head["layers"]]}
                  for name, head in heads.items()},
        "cases": [run_case(case, heads, x, classes, values, order) for case in cases],
        "losses": loss_goldens(rng),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
