chainrule_macros::derive! {
    network n {
        input x[2]
        target t[3]
        y[2] = W @ x
        loss L = sum((y - t)^2)
    }
}

fn main() {}
