// `_` is an identifier in a network but names no argument or field in Rust.
chainrule_macros::derive! {
    network n {
        input _[2]
        target t[1]
        y[1] = W @ _
        loss L = sum((y - t)^2)
    }
}

fn main() {}
