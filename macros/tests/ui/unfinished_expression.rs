chainrule_macros::derive! {
    network n {
        input x[2]
        y[2] = W @ x
        loss L = sum(y) +
    }
}

fn main() {}
