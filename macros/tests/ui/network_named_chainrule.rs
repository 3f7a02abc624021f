// A module named `chainrule` would make `chainrule::...` ambiguous in the module that holds it,
// starting with this very invocation: an error at the name, and no stand-in module either.
chainrule::derive! {
    network chainrule {
        input x[2]
        target t[1]
        y[1] = W @ x
        loss L = sum((y - t)^2)
    }
}

fn main() {}
