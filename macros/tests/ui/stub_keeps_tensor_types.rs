// A convolutional network with one misspelt function: the stand-in module's `Forward` holds
// each feature map as nested arrays and a named scalar as a number, as a real expansion does.
chainrule_macros::derive! {
    network cnn {
        input img[1][6][6]
        target y[3]
        param K[2][1][3][3]
        z[f][i][j] = sum(c, p, q, K[f][c][p][q] * img[c][i + p][j + q])
        a = tanhh(z)
        h[k] = sum(f, i, j, W[k][f][i][j] * z[f][i][j])
        mu = mean(h)
        loss L = sum((h - y)^2) + mu
        param W[3][2][4][4]
    }
}

fn main() {
    let p = cnn::Params::zeros();
    let img = [[[0.0; 6]; 6]; 1];
    let out = cnn::forward(&p, &img);
    let map: [[[f64; 4]; 4]; 2] = out.z;
    let mean: f64 = out.mu;
    let kernel: [[[[f64; 3]; 3]; 1]; 2] = p.K;
    println!("{} {mean} {}", map[1][3][3], kernel[0][0][1][2]);
}
