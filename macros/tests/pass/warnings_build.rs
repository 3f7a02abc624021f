// A network with warnings still builds: the warnings never fail a build that allows them.
chainrule::derive! {
    network typo {
        input  x[3]
        target t[2]
        param reg = 0.05
        h[4] = tanh(W1 @ x + b1)
        y[2] = W2 @ h
        loss L = 0.5 * sum((y - tt)^2) + reg * sum(W1^2)
    }
}

fn main() {
    let params = typo::Params::default();
    assert_eq!(params.reg, 0.05);
}
