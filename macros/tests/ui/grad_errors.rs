chainrule_macros::derive! {
    network n {
        input x[2]
        target t[1]
        y[1] = W @ x
        g[2] = grad(y, x)
        loss L = sum((y - t)^2) + sum(grad(y[0], W)^2) + sum(g)
    }
}

fn main() {}
