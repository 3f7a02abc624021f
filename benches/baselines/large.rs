//! Hand-written fixed-size backprop for the MNIST-sized networks of issue 12
//! (`benches/nets/mnist128.nn`: 784 -> 128 relu -> 10; `mnist256.nn`: 784 -> 256 relu -> 256
//! relu -> 10; biases, loss `0.5 * sum((t - y)^2)`), as the engineer of `fixed` writes it once
//! the weights no longer fit the stack: const-generic layers in one `Box` built without a stack
//! temporary, the gradient written into a caller's value (`gradient_into`), and an SGD step
//! that updates each layer in place once its delta is known.
//!
//! The forward dot products keep eight partial sums: with one running sum, IEEE order forbids
//! LLVM to vectorise the reduction, and a 784-long dot product becomes a chain of dependent
//! adds (`fixed::matvec`, fine at mlp16's 16 and 32 columns, is 4x slower here).

// Indexed loops over const bounds are the form this baseline stands for: what an engineer who
// knows the sizes writes, and what LLVM unrolls and vectorises.
#![allow(clippy::needless_range_loop)]

/// One dense layer `W @ x + b`, W row-major.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dense<const R: usize, const C: usize> {
    pub w: [[f64; C]; R],
    pub b: [f64; R],
}

/// `w . x` with eight independent partial sums (C is a multiple of 8 in every network here;
/// the tail loop covers the others).
#[inline(always)]
pub fn dot<const C: usize>(w: &[f64; C], x: &[f64; C]) -> f64 {
    let mut acc = [0.0; 8];
    let (wc, wt) = w.as_chunks::<8>();
    let (xc, xt) = x.as_chunks::<8>();
    for (a, b) in wc.iter().zip(xc) {
        for k in 0..8 {
            acc[k] += a[k] * b[k];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (a, b) in wt.iter().zip(xt) {
        s += a * b;
    }
    s
}

impl<const R: usize, const C: usize> Dense<R, C> {
    #[inline(always)]
    pub fn forward(&self, x: &[f64; C]) -> [f64; R] {
        std::array::from_fn(|i| dot(&self.w[i], x) + self.b[i])
    }

    /// `W^T d`: the delta one layer down, before the activation's derivative.
    #[inline(always)]
    pub fn back(&self, d: &[f64; R]) -> [f64; C] {
        let mut out = [0.0; C];
        for i in 0..R {
            for j in 0..C {
                out[j] += d[i] * self.w[i][j];
            }
        }
        out
    }

    /// This layer's gradient, `dW = d x^T`, `db = d`, written into `g`.
    #[inline(always)]
    pub fn grad_into(g: &mut Self, d: &[f64; R], x: &[f64; C]) {
        for i in 0..R {
            for j in 0..C {
                g.w[i][j] = d[i] * x[j];
            }
        }
        g.b = *d;
    }

    /// `W -= lr d x^T`, `b -= lr d`, in place.
    #[inline(always)]
    pub fn step(&mut self, lr: f64, d: &[f64; R], x: &[f64; C]) {
        for i in 0..R {
            let s = lr * d[i];
            for j in 0..C {
                self.w[i][j] -= s * x[j];
            }
            self.b[i] -= s;
        }
    }

    fn read(&mut self, it: &mut impl Iterator<Item = f64>) {
        let mut next = || it.next().expect("flat vector too short"); // bench-only check
        self.w.iter_mut().flatten().for_each(|w| *w = next());
        self.b.iter_mut().for_each(|w| *w = next());
    }

    fn write(&self, v: &mut Vec<f64>) {
        v.extend(self.w.iter().flatten());
        v.extend(&self.b);
    }
}

fn relu<const N: usize>(z: [f64; N]) -> [f64; N] {
    z.map(|z| z.max(0.0))
}

/// `d *= relu'(z)`, from the activation's value (`a > 0` exactly where `z > 0`).
fn relu_back<const N: usize>(d: &mut [f64; N], a: &[f64; N]) {
    for k in 0..N {
        if a[k] <= 0.0 {
            d[k] = 0.0;
        }
    }
}

/// `0.5 * sum((t - y)^2)` and its delta `y - t`.
fn half_sse<const N: usize>(y: &[f64; N], t: &[f64; N]) -> (f64, [f64; N]) {
    let mut loss = 0.0;
    let dy = std::array::from_fn(|k| {
        let e = y[k] - t[k];
        loss += e * e;
        e
    });
    (0.5 * loss, dy)
}

/// Plain-data structs of `f64` arrays, for which all-zero bytes are `0.0` everywhere.
///
/// # Safety
/// Implement only for types whose every field is an `f64` array.
pub unsafe trait Zeroable: Sized {
    /// Zeros on the heap, with no stack temporary (a 2 MB value overflows a thread's stack).
    fn boxed_zeros() -> Box<Self> {
        // `Box::new_zeroed` is newer than the crate's MSRV (1.88).
        let layout = std::alloc::Layout::new::<Self>();
        // SAFETY: the layout is Self's, not zero-sized (every implementor holds arrays), and
        // the trait's contract makes all-zero bytes a valid Self, which the Box then owns.
        unsafe {
            let ptr = std::alloc::alloc_zeroed(layout).cast::<Self>();
            if ptr.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            Box::from_raw(ptr)
        }
    }
}

macro_rules! network {
    ($name:ident { $($layer:ident: $r:literal x $c:literal),* }) => {
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name {
            $(pub $layer: Dense<$r, $c>,)*
        }

        // SAFETY: only `Dense` fields, which are `f64` arrays.
        unsafe impl Zeroable for $name {}

        impl $name {
            pub const SHAPES: &[(usize, usize)] = &[$(($r, $c)),*];

            pub fn from_flat(v: &[f64]) -> Box<$name> {
                let mut p = $name::boxed_zeros();
                let mut it = v.iter().copied();
                $(p.$layer.read(&mut it);)*
                assert!(it.next().is_none(), "flat vector too long");
                p
            }

            pub fn flat(&self) -> Vec<f64> {
                let mut v = Vec::new();
                $(self.$layer.write(&mut v);)*
                v
            }
        }
    };
}

network!(Mnist128 { l1: 128 x 784, l2: 10 x 128 });
network!(Mnist256 { l1: 256 x 784, l2: 256 x 256, l3: 10 x 256 });

/// Loss and gradient of one sample, the gradient into `g`.
#[inline(never)]
pub fn mnist128_gradient_into(
    p: &Mnist128,
    x: &[f64; 784],
    t: &[f64; 10],
    g: &mut Mnist128,
) -> f64 {
    let a1 = relu(p.l1.forward(x));
    let y = p.l2.forward(&a1);
    let (loss, dy) = half_sse(&y, t);
    Dense::grad_into(&mut g.l2, &dy, &a1);
    let mut d1 = p.l2.back(&dy);
    relu_back(&mut d1, &a1);
    Dense::grad_into(&mut g.l1, &d1, x);
    loss
}

/// One SGD step in place; returns the loss before it.
#[inline(never)]
pub fn mnist128_sgd_step(p: &mut Mnist128, x: &[f64; 784], t: &[f64; 10], lr: f64) -> f64 {
    let a1 = relu(p.l1.forward(x));
    let y = p.l2.forward(&a1);
    let (loss, dy) = half_sse(&y, t);
    let mut d1 = p.l2.back(&dy);
    p.l2.step(lr, &dy, &a1);
    relu_back(&mut d1, &a1);
    p.l1.step(lr, &d1, x);
    loss
}

/// Loss and gradient of one sample, the gradient into `g`.
#[inline(never)]
pub fn mnist256_gradient_into(
    p: &Mnist256,
    x: &[f64; 784],
    t: &[f64; 10],
    g: &mut Mnist256,
) -> f64 {
    let a1 = relu(p.l1.forward(x));
    let a2 = relu(p.l2.forward(&a1));
    let y = p.l3.forward(&a2);
    let (loss, dy) = half_sse(&y, t);
    Dense::grad_into(&mut g.l3, &dy, &a2);
    let mut d2 = p.l3.back(&dy);
    relu_back(&mut d2, &a2);
    Dense::grad_into(&mut g.l2, &d2, &a1);
    let mut d1 = p.l2.back(&d2);
    relu_back(&mut d1, &a1);
    Dense::grad_into(&mut g.l1, &d1, x);
    loss
}

/// One SGD step in place; returns the loss before it.
#[inline(never)]
pub fn mnist256_sgd_step(p: &mut Mnist256, x: &[f64; 784], t: &[f64; 10], lr: f64) -> f64 {
    let a1 = relu(p.l1.forward(x));
    let a2 = relu(p.l2.forward(&a1));
    let y = p.l3.forward(&a2);
    let (loss, dy) = half_sse(&y, t);
    let mut d2 = p.l3.back(&dy);
    p.l3.step(lr, &dy, &a2);
    relu_back(&mut d2, &a2);
    let mut d1 = p.l2.back(&d2);
    p.l2.step(lr, &d2, &a1);
    relu_back(&mut d1, &a1);
    p.l1.step(lr, &d1, x);
    loss
}
