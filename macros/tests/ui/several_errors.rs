chainrule_macros::derive! {
    network n {
        input x[2]
        h[3] = W @ x
        a[3] = sigmod(h)
        d[3] = a - x
        loss L = sum(d) + h[3]
    }
}

fn main() {}
