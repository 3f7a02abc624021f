chainrule_macros::derive! {
    network n {
        input type[2]
        y[2] = W @ type
        loss L = sum(y)
    }
}

fn main() {}
