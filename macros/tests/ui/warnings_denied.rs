// The network's warnings are compiler warnings at the tokens they are about; a crate that
// denies warnings sees them as errors, with the same text and place.
#![deny(deprecated)]

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
    let _ = typo::Params::default();
}
