chainrule_macros::derive! {
    network n {
        inptu x[2]
        loss L = sum(x)
    }
}

fn main() {}
