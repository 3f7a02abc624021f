// 2 x 200 x 200 weights as straight-line code (`unroll = always`): within the checker's
// limits, but far more unrolled code than rustc compiles in reasonable time.
chainrule_macros::derive! {
    unroll = always,
    network huge {
        input x[200]
        target t[200]
        h[200] = tanh(W1 @ x)
        y[200] = W2 @ h
        loss L = 0.5 * sum((y - t)^2)
    }
}

fn main() {}
