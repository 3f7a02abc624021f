chainrule_macros::derive! {
    file = "../../../../examples/nets/seed004.nn",
    network n {
        input x[2]
        loss L = sum(x)
    }
}

fn main() {}
