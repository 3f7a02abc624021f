chainrule_macros::derive! {
    network n {
        input x[2]
        y[2] = W @ x
        loss L = sum(y)
        claim dL/dQ[0][0] = x[0]
    }
}

fn main() {}
