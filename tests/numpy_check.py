"""Imports every module `chainrule numpy` generated (tests/numpy.rs lists them in a JSON
manifest) and compares its loss and gradient with `chainrule eval --json` at 1e-10 (or a case's own
`tolerance`)."""
import importlib.util
import json
import sys

import numpy as np

TOLERANCE = 1e-10


def close(a, b, tolerance=TOLERANCE):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    return bool(np.all(np.abs(a - b) <= tolerance * np.maximum(1.0, np.abs(b))))


def main(path):
    with open(path) as f:
        cases = json.load(f)
    loaded = {}
    failures = []
    for case in cases:
        module_path = case["module"]
        if module_path not in loaded:
            name = f"generated_{len(loaded)}"
            spec = importlib.util.spec_from_file_location(name, module_path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            loaded[module_path] = module
        module = loaded[module_path]
        expected = case["expected"]
        label = case["label"]
        tolerance = case.get("tolerance", TOLERANCE)
        try:
            value, grads = module.gradient(case["params"], case["data"])
            alone = module.loss(case["params"], case["data"])
            values = module.forward(case["params"], case["data"])
        except Exception as e:  # a crash is a failure of this case, reported with the others
            failures.append(f"{label}: {type(e).__name__}: {e}")
            continue
        problems = []
        if not close(value, expected["loss"], tolerance):
            problems.append(f"loss {value!r} != {expected['loss']!r}")
        if not close(alone, expected["loss"], tolerance):
            problems.append(f"loss() {alone!r} != {expected['loss']!r}")
        if len(values) < 1:
            problems.append("forward() returned nothing")
        for name, want in expected["gradient"].items():
            got = grads.get(name)
            if got is None or not close(got, want, tolerance):
                problems.append(f"dL/d{name}: {None if got is None else np.asarray(got).tolist()} != {want}")
        if sorted(grads) != sorted(expected["gradient"]):
            problems.append(f"gradient names {sorted(grads)} != {sorted(expected['gradient'])}")
        if problems:
            failures.append(f"{label}: " + "; ".join(problems))
    for line in failures:
        print(line)
    print(f"{len(cases) - len(failures)} cases agree, {len(failures)} differ ({len(loaded)} modules)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
