"""The scaling family of networks the benchmarks share (BENCHMARKS.md).

deep2(h): h inputs -> h tanh -> h sigmoid -> 4 linear outputs, no biases, half sum of squared
errors; 2h^2 + 4h weights. `benches/derive_scale.rs` writes the same text.
"""

# h for about 10^2 .. 10^5 weights; deep2(215) has 94,393 named scalars, under the checker's
# 100,000.
SIZES = [6, 10, 13, 16, 22, 32, 45, 50, 55, 64, 70, 78, 89, 100, 140, 200, 215]


def weights(h):
    return 2 * h * h + 4 * h


def deep2(h):
    """The network's `.nn` text."""
    return (
        f"# deep2({h}): {h} inputs -> {h} tanh -> {h} sigmoid -> 4 linear, {weights(h)} weights\n"
        "network deep2 {\n"
        f"    input  x[{h}]\n"
        "    target t[4]\n"
        f"    z1[{h}] = W1 @ x\n"
        "    a1 = tanh(z1)\n"
        f"    z2[{h}] = W2 @ a1\n"
        "    a2 = sigmoid(z2)\n"
        "    y[4] = W3 @ a2\n"
        "    loss L = 0.5 * sum((t - y)^2)\n"
        "}\n"
    )
