/// The network `generated_names`: derived by `chainrule::derive!`.
#[allow(
    non_snake_case,
    non_camel_case_types,
    unused_variables,
    unused_parens,
    clippy::all
)]
pub mod generated_names {
    #[allow(unused_imports)]
    use ::chainrule::runtime::Math as _;
    /// The float type of this module.
    pub type F = f64;
    /// Every trainable parameter, named as in the network.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Params {
        pub W1: [[f64; 2]; 3],
        pub W2: [[f64; 2]; 3],
        pub W3: [[f64; 2]; 3],
        pub W4: [[f64; 2]; 3],
        pub b1: [f64; 3],
        pub W5: [[f64; 3]; 2],
    }
    impl Default for Params {
        /// The values declared in the network, zeros elsewhere.
        fn default() -> Self {
            Params {
                W1: [[0f64; 2]; 3],
                W2: [[0f64; 2]; 3],
                W3: [[0f64; 2]; 3],
                W4: [[0f64; 2]; 3],
                b1: [0f64; 3],
                W5: [[0f64; 3]; 2],
            }
        }
    }
    impl Params {
        /// Every parameter zero.
        pub fn zeros() -> Self {
            Params {
                W1: [[0f64; 2]; 3],
                W2: [[0f64; 2]; 3],
                W3: [[0f64; 2]; 3],
                W4: [[0f64; 2]; 3],
                b1: [0f64; 3],
                W5: [[0f64; 3]; 2],
            }
        }
        /// The names of the elements, in the order of [`Params::flat`]: `W1[0][1]`, ...
        /// (for networks of at most 20,000 elements; [`Params::element_name`] for all).
        pub const ELEMENTS: [&'static str; 33] = [
            "W1[0][0]",
            "W1[0][1]",
            "W1[1][0]",
            "W1[1][1]",
            "W1[2][0]",
            "W1[2][1]",
            "W2[0][0]",
            "W2[0][1]",
            "W2[1][0]",
            "W2[1][1]",
            "W2[2][0]",
            "W2[2][1]",
            "W3[0][0]",
            "W3[0][1]",
            "W3[1][0]",
            "W3[1][1]",
            "W3[2][0]",
            "W3[2][1]",
            "W4[0][0]",
            "W4[0][1]",
            "W4[1][0]",
            "W4[1][1]",
            "W4[2][0]",
            "W4[2][1]",
            "b1[0]",
            "b1[1]",
            "b1[2]",
            "W5[0][0]",
            "W5[0][1]",
            "W5[0][2]",
            "W5[1][0]",
            "W5[1][1]",
            "W5[1][2]",
        ];
        /// Every element, row-major, parameter by parameter.
        pub fn flat(&self) -> [F; 33] {
            let mut out = [<F as ::chainrule::runtime::Real>::ZERO; 33];
            let mut at = 0usize;
            out[at..at + 6].copy_from_slice(self.W1.as_flattened());
            at += 6;
            out[at..at + 6].copy_from_slice(self.W2.as_flattened());
            at += 6;
            out[at..at + 6].copy_from_slice(self.W3.as_flattened());
            at += 6;
            out[at..at + 6].copy_from_slice(self.W4.as_flattened());
            at += 6;
            out[at..at + 3].copy_from_slice(&self.b1[..]);
            at += 3;
            out[at..at + 6].copy_from_slice(self.W5.as_flattened());
            at += 6;
            let _ = at;
            out
        }
        /// Adds every element, in [`Params::flat`] order, to `acc` (the batch functions'
        /// accumulator), with no copy of the parameters on the stack.
        pub fn add_to(&self, acc: &mut [F]) {
            let mut at = 0usize;
            for (a, v) in acc[at..at + 6].iter_mut().zip(self.W1.as_flattened()) {
                *a += *v;
            }
            at += 6;
            for (a, v) in acc[at..at + 6].iter_mut().zip(self.W2.as_flattened()) {
                *a += *v;
            }
            at += 6;
            for (a, v) in acc[at..at + 6].iter_mut().zip(self.W3.as_flattened()) {
                *a += *v;
            }
            at += 6;
            for (a, v) in acc[at..at + 6].iter_mut().zip(self.W4.as_flattened()) {
                *a += *v;
            }
            at += 6;
            for (a, v) in acc[at..at + 3].iter_mut().zip(&self.b1[..]) {
                *a += *v;
            }
            at += 3;
            for (a, v) in acc[at..at + 6].iter_mut().zip(self.W5.as_flattened()) {
                *a += *v;
            }
            at += 6;
            let _ = at;
        }
    }
    impl Params {
        /// Random starting weights: each weight matrix uniform with the usual fan-in
        /// scaling (He, `sqrt(6 / fan_in)`, for a layer that feeds `relu`; Glorot,
        /// `sqrt(6 / (fan_in + fan_out))`, for sigmoid, tanh and linear layers); biases
        /// and other vectors zero; declared values kept. The same weights for the same
        /// seed on every machine.
        pub fn init(seed: u64) -> Params {
            let mut params = Params::default();
            params.__randomize(seed);
            params
        }
        /// Draws the weights [`Params::init`] describes into `self`.
        fn __randomize(&mut self, seed: u64) {
            let params = self;
            let limit = ::chainrule::runtime::init_limit(2, 3, false);
            let mut rng = ::chainrule::runtime::SplitMix64::new(seed, 0u64);
            for w in params.W1.as_flattened_mut() {
                *w = <F as ::chainrule::runtime::Real>::from_f64(rng.symmetric(limit));
            }
            let limit = ::chainrule::runtime::init_limit(2, 3, false);
            let mut rng = ::chainrule::runtime::SplitMix64::new(seed, 1u64);
            for w in params.W2.as_flattened_mut() {
                *w = <F as ::chainrule::runtime::Real>::from_f64(rng.symmetric(limit));
            }
            let limit = ::chainrule::runtime::init_limit(2, 3, false);
            let mut rng = ::chainrule::runtime::SplitMix64::new(seed, 2u64);
            for w in params.W3.as_flattened_mut() {
                *w = <F as ::chainrule::runtime::Real>::from_f64(rng.symmetric(limit));
            }
            let limit = ::chainrule::runtime::init_limit(2, 3, false);
            let mut rng = ::chainrule::runtime::SplitMix64::new(seed, 3u64);
            for w in params.W4.as_flattened_mut() {
                *w = <F as ::chainrule::runtime::Real>::from_f64(rng.symmetric(limit));
            }
            let limit = ::chainrule::runtime::init_limit(3, 2, false);
            let mut rng = ::chainrule::runtime::SplitMix64::new(seed, 5u64);
            for w in params.W5.as_flattened_mut() {
                *w = <F as ::chainrule::runtime::Real>::from_f64(rng.symmetric(limit));
            }
        }
    }
    /// Every input, named vector and the loss of one sample.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Forward {
        pub p: [f64; 2],
        pub g: [f64; 2],
        pub gradient: [f64; 2],
        pub LATEX: [f64; 2],
        pub None: [f64; 1],
        pub PARAMS: [f64; 1],
        pub z_0: [f64; 1],
        pub h_values: [f64; 1],
        pub tmp0: [f64; 1],
        pub ix_k: [f64; 1],
        pub acc: [f64; 1],
        pub lr: [f64; 1],
        pub ws: [f64; 1],
        pub data: [f64; 1],
        pub params: [f64; 1],
        pub Params: [f64; 1],
        pub F: [f64; 1],
        pub H: [f64; 1],
        pub scale: [f64; 1],
        pub h: [f64; 3],
        pub s: [f64; 1],
        pub z: [f64; 2],
        pub L: F,
    }
    /// The forward pass; the loss and anything computed from targets are NaN (use
    /// [`evaluate`] to get them).
    pub fn forward(
        p_: &Params,
        p: &[f64; 2],
        g: &[f64; 2],
        gradient_: &[f64; 2],
        LATEX_: &[f64; 2],
        None_: &[f64; 1],
        PARAMS_: &[f64; 1],
        z_0: &[f64; 1],
        h_values: &[f64; 1],
        tmp0: &[f64; 1],
        ix_k: &[f64; 1],
        acc: &[f64; 1],
        lr: &[f64; 1],
        ws: &[f64; 1],
        data: &[f64; 1],
        params: &[f64; 1],
        Params: &[f64; 1],
        F: &[f64; 1],
        H: &[f64; 1],
        scale: &[f64; 1],
    ) -> Forward {
        evaluate(
            p_,
            p,
            g,
            gradient_,
            LATEX_,
            None_,
            PARAMS_,
            z_0,
            h_values,
            tmp0,
            ix_k,
            acc,
            lr,
            ws,
            data,
            params,
            Params,
            F,
            H,
            scale,
            &[<f64 as ::chainrule::runtime::Real>::NAN; 2],
            &[<f64 as ::chainrule::runtime::Real>::NAN; 1],
            &[<f64 as ::chainrule::runtime::Real>::NAN; 1],
        )
    }
    /// The forward pass and the loss of one sample.
    pub fn evaluate(
        p_: &Params,
        p: &[f64; 2],
        g: &[f64; 2],
        gradient_: &[f64; 2],
        LATEX_: &[f64; 2],
        None_: &[f64; 1],
        PARAMS_: &[f64; 1],
        z_0: &[f64; 1],
        h_values: &[f64; 1],
        tmp0: &[f64; 1],
        ix_k: &[f64; 1],
        acc: &[f64; 1],
        lr: &[f64; 1],
        ws: &[f64; 1],
        data: &[f64; 1],
        params: &[f64; 1],
        Params: &[f64; 1],
        F: &[f64; 1],
        H: &[f64; 1],
        scale: &[f64; 1],
        gradient_into_: &[f64; 2],
        evaluate_: &[f64; 1],
        sgd_step_: &[f64; 1],
    ) -> Forward {
        let mut h_inner: [f64; 3] = [0.0; 3];
        let mut h_values_: [f64; 3] = [0.0; 3];
        for ix_k_ in 0..3 {
            h_inner[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..2 {
                    acc_ += p_.W1[ix_k_][ix_i] * p[ix_i];
                }
                acc_
            })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_j in 0..2 {
                        acc_ += p_.W2[ix_k_][ix_j] * g[ix_j];
                    }
                    acc_
                })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_m in 0..2 {
                        acc_ += p_.W3[ix_k_][ix_m] * gradient_[ix_m];
                    }
                    acc_
                })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_n in 0..2 {
                        acc_ += p_.W4[ix_k_][ix_n] * LATEX_[ix_n];
                    }
                    acc_
                }) + p_.b1[ix_k_];
            h_values_[ix_k_] = h_inner[ix_k_].tanh();
        }
        let mut s_values: [f64; 1] = [0.0; 1];
        for ix_k_ in 0..1 {
            s_values[ix_k_] = None_[ix_k_] * PARAMS_[ix_k_]
                + z_0[ix_k_] * h_values[ix_k_] + tmp0[ix_k_] * ix_k[ix_k_]
                + acc[ix_k_] * lr[ix_k_] + ws[ix_k_] * data[ix_k_]
                + params[ix_k_] * Params[ix_k_] + F[ix_k_] * H[ix_k_]
                + scale[ix_k_] * lr[ix_k_];
        }
        let mut z_values: [f64; 2] = [0.0; 2];
        for ix_k_ in 0..2 {
            z_values[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..3 {
                    acc_ += p_.W5[ix_k_][ix_i] * h_values_[ix_i];
                }
                acc_
            }) + s_values[0];
        }
        Forward {
            p: *p,
            g: *g,
            gradient: *gradient_,
            LATEX: *LATEX_,
            None: *None_,
            PARAMS: *PARAMS_,
            z_0: *z_0,
            h_values: *h_values,
            tmp0: *tmp0,
            ix_k: *ix_k,
            acc: *acc,
            lr: *lr,
            ws: *ws,
            data: *data,
            params: *params,
            Params: *Params,
            F: *F,
            H: *H,
            scale: *scale,
            h: h_values_,
            s: s_values,
            z: z_values,
            L: 0.5f64
                * ((z_values[0] - gradient_into_[0]).powi(2)
                    + (z_values[1] - gradient_into_[1]).powi(2))
                + evaluate_[0] * sgd_step_[0] * (z_values[0] + z_values[1]),
        }
    }
    /// The loss of one sample.
    pub fn loss(
        p_: &Params,
        p: &[f64; 2],
        g: &[f64; 2],
        gradient_: &[f64; 2],
        LATEX_: &[f64; 2],
        None_: &[f64; 1],
        PARAMS_: &[f64; 1],
        z_0: &[f64; 1],
        h_values: &[f64; 1],
        tmp0: &[f64; 1],
        ix_k: &[f64; 1],
        acc: &[f64; 1],
        lr: &[f64; 1],
        ws: &[f64; 1],
        data: &[f64; 1],
        params: &[f64; 1],
        Params: &[f64; 1],
        F: &[f64; 1],
        H: &[f64; 1],
        scale: &[f64; 1],
        gradient_into_: &[f64; 2],
        evaluate_: &[f64; 1],
        sgd_step_: &[f64; 1],
    ) -> F {
        let mut h_inner: [f64; 3] = [0.0; 3];
        let mut h_values_: [f64; 3] = [0.0; 3];
        for ix_k_ in 0..3 {
            h_inner[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..2 {
                    acc_ += p_.W1[ix_k_][ix_i] * p[ix_i];
                }
                acc_
            })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_j in 0..2 {
                        acc_ += p_.W2[ix_k_][ix_j] * g[ix_j];
                    }
                    acc_
                })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_m in 0..2 {
                        acc_ += p_.W3[ix_k_][ix_m] * gradient_[ix_m];
                    }
                    acc_
                })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_n in 0..2 {
                        acc_ += p_.W4[ix_k_][ix_n] * LATEX_[ix_n];
                    }
                    acc_
                }) + p_.b1[ix_k_];
            h_values_[ix_k_] = h_inner[ix_k_].tanh();
        }
        let mut s_values: [f64; 1] = [0.0; 1];
        for ix_k_ in 0..1 {
            s_values[ix_k_] = None_[ix_k_] * PARAMS_[ix_k_]
                + z_0[ix_k_] * h_values[ix_k_] + tmp0[ix_k_] * ix_k[ix_k_]
                + acc[ix_k_] * lr[ix_k_] + ws[ix_k_] * data[ix_k_]
                + params[ix_k_] * Params[ix_k_] + F[ix_k_] * H[ix_k_]
                + scale[ix_k_] * lr[ix_k_];
        }
        let mut z_values: [f64; 2] = [0.0; 2];
        for ix_k_ in 0..2 {
            z_values[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..3 {
                    acc_ += p_.W5[ix_k_][ix_i] * h_values_[ix_i];
                }
                acc_
            }) + s_values[0];
        }
        0.5f64
            * ((z_values[0] - gradient_into_[0]).powi(2)
                + (z_values[1] - gradient_into_[1]).powi(2))
            + evaluate_[0] * sgd_step_[0] * (z_values[0] + z_values[1])
    }
    /// The loss of one sample, and dL/dp for every parameter written into `g`.
    pub fn gradient_into(
        p_: &Params,
        p: &[f64; 2],
        g: &[f64; 2],
        gradient_: &[f64; 2],
        LATEX_: &[f64; 2],
        None_: &[f64; 1],
        PARAMS_: &[f64; 1],
        z_0: &[f64; 1],
        h_values: &[f64; 1],
        tmp0: &[f64; 1],
        ix_k: &[f64; 1],
        acc: &[f64; 1],
        lr: &[f64; 1],
        ws: &[f64; 1],
        data: &[f64; 1],
        params: &[f64; 1],
        Params: &[f64; 1],
        F: &[f64; 1],
        H: &[f64; 1],
        scale: &[f64; 1],
        gradient_into_: &[f64; 2],
        evaluate_: &[f64; 1],
        sgd_step_: &[f64; 1],
        g_: &mut Params,
    ) -> F {
        let mut h_inner: [f64; 3] = [0.0; 3];
        let mut h_values_: [f64; 3] = [0.0; 3];
        for ix_k_ in 0..3 {
            h_inner[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..2 {
                    acc_ += p_.W1[ix_k_][ix_i] * p[ix_i];
                }
                acc_
            })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_j in 0..2 {
                        acc_ += p_.W2[ix_k_][ix_j] * g[ix_j];
                    }
                    acc_
                })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_m in 0..2 {
                        acc_ += p_.W3[ix_k_][ix_m] * gradient_[ix_m];
                    }
                    acc_
                })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_n in 0..2 {
                        acc_ += p_.W4[ix_k_][ix_n] * LATEX_[ix_n];
                    }
                    acc_
                }) + p_.b1[ix_k_];
            h_values_[ix_k_] = h_inner[ix_k_].tanh();
        }
        let mut s_values: [f64; 1] = [0.0; 1];
        for ix_k_ in 0..1 {
            s_values[ix_k_] = None_[ix_k_] * PARAMS_[ix_k_]
                + z_0[ix_k_] * h_values[ix_k_] + tmp0[ix_k_] * ix_k[ix_k_]
                + acc[ix_k_] * lr[ix_k_] + ws[ix_k_] * data[ix_k_]
                + params[ix_k_] * Params[ix_k_] + F[ix_k_] * H[ix_k_]
                + scale[ix_k_] * lr[ix_k_];
        }
        let mut z_values: [f64; 2] = [0.0; 2];
        for ix_k_ in 0..2 {
            z_values[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..3 {
                    acc_ += p_.W5[ix_k_][ix_i] * h_values_[ix_i];
                }
                acc_
            }) + s_values[0];
        }
        let mut z_deltas: [f64; 2] = [0.0; 2];
        for ix_k_ in 0..2 {
            z_deltas[ix_k_] = z_values[ix_k_] - gradient_into_[ix_k_]
                + evaluate_[0] * sgd_step_[0];
        }
        let mut s_deltas: [f64; 1] = [0.0; 1];
        for ix_k_ in 0..1 {
            s_deltas[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..2 {
                    acc_ += z_deltas[ix_i];
                }
                acc_
            });
        }
        let mut h_deltas: [f64; 3] = [0.0; 3];
        for ix_i in 0..2 {
            for ix_k_ in 0..3 {
                h_deltas[ix_k_] += z_deltas[ix_i] * p_.W5[ix_i][ix_k_];
            }
        }
        let loss_before: F = 0.5f64
            * ((z_values[0] - gradient_into_[0]).powi(2)
                + (z_values[1] - gradient_into_[1]).powi(2))
            + evaluate_[0] * sgd_step_[0] * (z_values[0] + z_values[1]);
        for ix_i in 0..3 {
            for ix_j in 0..2 {
                g_.W1[ix_i][ix_j] = h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2))
                    * p[ix_j];
            }
        }
        for ix_i in 0..3 {
            for ix_j in 0..2 {
                g_.W2[ix_i][ix_j] = h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2))
                    * g[ix_j];
            }
        }
        for ix_i in 0..3 {
            for ix_j in 0..2 {
                g_.W3[ix_i][ix_j] = h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2))
                    * gradient_[ix_j];
            }
        }
        for ix_i in 0..3 {
            for ix_j in 0..2 {
                g_.W4[ix_i][ix_j] = h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2))
                    * LATEX_[ix_j];
            }
        }
        for ix_i in 0..3 {
            g_.b1[ix_i] = h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2));
        }
        for ix_i in 0..2 {
            for ix_j in 0..3 {
                g_.W5[ix_i][ix_j] = z_deltas[ix_i] * h_values_[ix_j];
            }
        }
        loss_before
    }
    /// The loss and dL/dp for every parameter of one sample.
    #[inline]
    pub fn gradient(
        p_: &Params,
        p: &[f64; 2],
        g: &[f64; 2],
        gradient_: &[f64; 2],
        LATEX_: &[f64; 2],
        None_: &[f64; 1],
        PARAMS_: &[f64; 1],
        z_0: &[f64; 1],
        h_values: &[f64; 1],
        tmp0: &[f64; 1],
        ix_k: &[f64; 1],
        acc: &[f64; 1],
        lr: &[f64; 1],
        ws: &[f64; 1],
        data: &[f64; 1],
        params: &[f64; 1],
        Params: &[f64; 1],
        F: &[f64; 1],
        H: &[f64; 1],
        scale: &[f64; 1],
        gradient_into_: &[f64; 2],
        evaluate_: &[f64; 1],
        sgd_step_: &[f64; 1],
    ) -> (F, Params) {
        let mut g_ = Params::zeros();
        let loss = gradient_into(
            p_,
            p,
            g,
            gradient_,
            LATEX_,
            None_,
            PARAMS_,
            z_0,
            h_values,
            tmp0,
            ix_k,
            acc,
            lr,
            ws,
            data,
            params,
            Params,
            F,
            H,
            scale,
            gradient_into_,
            evaluate_,
            sgd_step_,
            &mut g_,
        );
        (loss, g_)
    }
    /// One gradient-descent step: `p -= lr * dL/dp`, in place; returns the loss before it.
    pub fn sgd_step(
        p_: &mut Params,
        p: &[f64; 2],
        g: &[f64; 2],
        gradient_: &[f64; 2],
        LATEX_: &[f64; 2],
        None_: &[f64; 1],
        PARAMS_: &[f64; 1],
        z_0: &[f64; 1],
        h_values: &[f64; 1],
        tmp0: &[f64; 1],
        ix_k: &[f64; 1],
        acc: &[f64; 1],
        lr: &[f64; 1],
        ws: &[f64; 1],
        data: &[f64; 1],
        params: &[f64; 1],
        Params: &[f64; 1],
        F: &[f64; 1],
        H: &[f64; 1],
        scale: &[f64; 1],
        gradient_into_: &[f64; 2],
        evaluate_: &[f64; 1],
        sgd_step_: &[f64; 1],
        lr_: F,
    ) -> F {
        let mut h_inner: [f64; 3] = [0.0; 3];
        let mut h_values_: [f64; 3] = [0.0; 3];
        for ix_k_ in 0..3 {
            h_inner[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..2 {
                    acc_ += p_.W1[ix_k_][ix_i] * p[ix_i];
                }
                acc_
            })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_j in 0..2 {
                        acc_ += p_.W2[ix_k_][ix_j] * g[ix_j];
                    }
                    acc_
                })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_m in 0..2 {
                        acc_ += p_.W3[ix_k_][ix_m] * gradient_[ix_m];
                    }
                    acc_
                })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_n in 0..2 {
                        acc_ += p_.W4[ix_k_][ix_n] * LATEX_[ix_n];
                    }
                    acc_
                }) + p_.b1[ix_k_];
            h_values_[ix_k_] = h_inner[ix_k_].tanh();
        }
        let mut s_values: [f64; 1] = [0.0; 1];
        for ix_k_ in 0..1 {
            s_values[ix_k_] = None_[ix_k_] * PARAMS_[ix_k_]
                + z_0[ix_k_] * h_values[ix_k_] + tmp0[ix_k_] * ix_k[ix_k_]
                + acc[ix_k_] * lr[ix_k_] + ws[ix_k_] * data[ix_k_]
                + params[ix_k_] * Params[ix_k_] + F[ix_k_] * H[ix_k_]
                + scale[ix_k_] * lr[ix_k_];
        }
        let mut z_values: [f64; 2] = [0.0; 2];
        for ix_k_ in 0..2 {
            z_values[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..3 {
                    acc_ += p_.W5[ix_k_][ix_i] * h_values_[ix_i];
                }
                acc_
            }) + s_values[0];
        }
        let mut z_deltas: [f64; 2] = [0.0; 2];
        for ix_k_ in 0..2 {
            z_deltas[ix_k_] = z_values[ix_k_] - gradient_into_[ix_k_]
                + evaluate_[0] * sgd_step_[0];
        }
        let mut s_deltas: [f64; 1] = [0.0; 1];
        for ix_k_ in 0..1 {
            s_deltas[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..2 {
                    acc_ += z_deltas[ix_i];
                }
                acc_
            });
        }
        let mut h_deltas: [f64; 3] = [0.0; 3];
        for ix_i in 0..2 {
            for ix_k_ in 0..3 {
                h_deltas[ix_k_] += z_deltas[ix_i] * p_.W5[ix_i][ix_k_];
            }
        }
        let loss_before: F = 0.5f64
            * ((z_values[0] - gradient_into_[0]).powi(2)
                + (z_values[1] - gradient_into_[1]).powi(2))
            + evaluate_[0] * sgd_step_[0] * (z_values[0] + z_values[1]);
        for ix_i in 0..3 {
            let scale_: F = lr_ * h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2));
            for ix_j in 0..2 {
                p_.W1[ix_i][ix_j] -= scale_ * p[ix_j];
            }
        }
        for ix_i in 0..3 {
            let scale_: F = lr_ * h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2));
            for ix_j in 0..2 {
                p_.W2[ix_i][ix_j] -= scale_ * g[ix_j];
            }
        }
        for ix_i in 0..3 {
            let scale_: F = lr_ * h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2));
            for ix_j in 0..2 {
                p_.W3[ix_i][ix_j] -= scale_ * gradient_[ix_j];
            }
        }
        for ix_i in 0..3 {
            let scale_: F = lr_ * h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2));
            for ix_j in 0..2 {
                p_.W4[ix_i][ix_j] -= scale_ * LATEX_[ix_j];
            }
        }
        for ix_i in 0..3 {
            p_.b1[ix_i] -= lr_ * (h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2)));
        }
        for ix_i in 0..2 {
            let scale_: F = lr_ * z_deltas[ix_i];
            for ix_j in 0..3 {
                p_.W5[ix_i][ix_j] -= scale_ * h_values_[ix_j];
            }
        }
        loss_before
    }
    /// The state of gradient descent with momentum (PyTorch's `SGD(momentum = mu)`, no
    /// dampening): one velocity per parameter element, laid out like [`Params`].
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Momentum {
        /// The learning rate.
        pub lr: F,
        /// The momentum factor.
        pub mu: F,
        /// The velocity of every element, zero before the first step.
        pub buf: Params,
    }
    impl Momentum {
        /// A fresh state.
        pub fn new(lr: F, mu: F) -> Self {
            Momentum {
                lr,
                mu,
                buf: Params::zeros(),
            }
        }
    }
    /// The state of Adam (PyTorch's `Adam`, and `AdamW` with a weight decay): the first
    /// and second moments of every element, laid out like [`Params`], and the step count.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Adam {
        /// The learning rate.
        pub lr: F,
        /// The decay rates of the first and second moments.
        pub beta1: F,
        pub beta2: F,
        /// Added to the square root of the second moment.
        pub eps: F,
        /// Decoupled weight decay (AdamW): `p -= lr * weight_decay * p` before each update.
        pub weight_decay: F,
        /// Steps taken.
        pub t: u32,
        /// `beta1^t` and `beta2^t` of the last step, kept by the steps (recomputed when
        /// `t` or a beta was changed in between); `AdamPowers::new(beta1, beta2)` for a
        /// state built by hand.
        pub powers: ::chainrule::runtime::AdamPowers<F>,
        /// The first moment of every element.
        pub m: Params,
        /// The second moment of every element.
        pub v: Params,
    }
    impl Adam {
        /// Adam with PyTorch's defaults: `beta1` 0.9, `beta2` 0.999, `eps` 1e-8, no decay.
        pub fn new(lr: F) -> Self {
            Adam::with(lr, 0.9, 0.999, 1e-8, 0.0)
        }
        /// Adam with every setting; a non-zero `weight_decay` makes it AdamW.
        pub fn with(lr: F, beta1: F, beta2: F, eps: F, weight_decay: F) -> Self {
            Adam {
                lr,
                beta1,
                beta2,
                eps,
                weight_decay,
                t: 0,
                powers: ::chainrule::runtime::AdamPowers::new(beta1, beta2),
                m: Params::zeros(),
                v: Params::zeros(),
            }
        }
    }
    /// One step of gradient descent with momentum, as PyTorch's
    /// `SGD(momentum = s.mu)`: `buf = mu * buf + dL/dp; p -= lr * buf`, in place;
    /// returns the loss before it.
    pub fn momentum_step(
        p_: &mut Params,
        s: &mut Momentum,
        p: &[f64; 2],
        g: &[f64; 2],
        gradient_: &[f64; 2],
        LATEX_: &[f64; 2],
        None_: &[f64; 1],
        PARAMS_: &[f64; 1],
        z_0: &[f64; 1],
        h_values: &[f64; 1],
        tmp0: &[f64; 1],
        ix_k: &[f64; 1],
        acc: &[f64; 1],
        lr: &[f64; 1],
        ws: &[f64; 1],
        data: &[f64; 1],
        params: &[f64; 1],
        Params: &[f64; 1],
        F: &[f64; 1],
        H: &[f64; 1],
        scale: &[f64; 1],
        gradient_into_: &[f64; 2],
        evaluate_: &[f64; 1],
        sgd_step_: &[f64; 1],
    ) -> F {
        let k = ::chainrule::runtime::MomentumStep {
            lr: s.lr,
            mu: s.mu,
        };
        let mut h_inner: [f64; 3] = [0.0; 3];
        let mut h_values_: [f64; 3] = [0.0; 3];
        for ix_k_ in 0..3 {
            h_inner[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..2 {
                    acc_ += p_.W1[ix_k_][ix_i] * p[ix_i];
                }
                acc_
            })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_j in 0..2 {
                        acc_ += p_.W2[ix_k_][ix_j] * g[ix_j];
                    }
                    acc_
                })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_m in 0..2 {
                        acc_ += p_.W3[ix_k_][ix_m] * gradient_[ix_m];
                    }
                    acc_
                })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_n in 0..2 {
                        acc_ += p_.W4[ix_k_][ix_n] * LATEX_[ix_n];
                    }
                    acc_
                }) + p_.b1[ix_k_];
            h_values_[ix_k_] = h_inner[ix_k_].tanh();
        }
        let mut s_values: [f64; 1] = [0.0; 1];
        for ix_k_ in 0..1 {
            s_values[ix_k_] = None_[ix_k_] * PARAMS_[ix_k_]
                + z_0[ix_k_] * h_values[ix_k_] + tmp0[ix_k_] * ix_k[ix_k_]
                + acc[ix_k_] * lr[ix_k_] + ws[ix_k_] * data[ix_k_]
                + params[ix_k_] * Params[ix_k_] + F[ix_k_] * H[ix_k_]
                + scale[ix_k_] * lr[ix_k_];
        }
        let mut z_values: [f64; 2] = [0.0; 2];
        for ix_k_ in 0..2 {
            z_values[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..3 {
                    acc_ += p_.W5[ix_k_][ix_i] * h_values_[ix_i];
                }
                acc_
            }) + s_values[0];
        }
        let mut z_deltas: [f64; 2] = [0.0; 2];
        for ix_k_ in 0..2 {
            z_deltas[ix_k_] = z_values[ix_k_] - gradient_into_[ix_k_]
                + evaluate_[0] * sgd_step_[0];
        }
        let mut s_deltas: [f64; 1] = [0.0; 1];
        for ix_k_ in 0..1 {
            s_deltas[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..2 {
                    acc_ += z_deltas[ix_i];
                }
                acc_
            });
        }
        let mut h_deltas: [f64; 3] = [0.0; 3];
        for ix_i in 0..2 {
            for ix_k_ in 0..3 {
                h_deltas[ix_k_] += z_deltas[ix_i] * p_.W5[ix_i][ix_k_];
            }
        }
        let loss_before: F = 0.5f64
            * ((z_values[0] - gradient_into_[0]).powi(2)
                + (z_values[1] - gradient_into_[1]).powi(2))
            + evaluate_[0] * sgd_step_[0] * (z_values[0] + z_values[1]);
        for ix_i in 0..3 {
            for ix_j in 0..2 {
                ::chainrule::runtime::momentum_update(
                    &mut p_.W1[ix_i][ix_j],
                    &mut s.buf.W1[ix_i][ix_j],
                    (h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2)) * p[ix_j]),
                    &k,
                );
            }
        }
        for ix_i in 0..3 {
            for ix_j in 0..2 {
                ::chainrule::runtime::momentum_update(
                    &mut p_.W2[ix_i][ix_j],
                    &mut s.buf.W2[ix_i][ix_j],
                    (h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2)) * g[ix_j]),
                    &k,
                );
            }
        }
        for ix_i in 0..3 {
            for ix_j in 0..2 {
                ::chainrule::runtime::momentum_update(
                    &mut p_.W3[ix_i][ix_j],
                    &mut s.buf.W3[ix_i][ix_j],
                    (h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2))
                        * gradient_[ix_j]),
                    &k,
                );
            }
        }
        for ix_i in 0..3 {
            for ix_j in 0..2 {
                ::chainrule::runtime::momentum_update(
                    &mut p_.W4[ix_i][ix_j],
                    &mut s.buf.W4[ix_i][ix_j],
                    (h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2)) * LATEX_[ix_j]),
                    &k,
                );
            }
        }
        for ix_i in 0..3 {
            ::chainrule::runtime::momentum_update(
                &mut p_.b1[ix_i],
                &mut s.buf.b1[ix_i],
                (h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2))),
                &k,
            );
        }
        for ix_i in 0..2 {
            for ix_j in 0..3 {
                ::chainrule::runtime::momentum_update(
                    &mut p_.W5[ix_i][ix_j],
                    &mut s.buf.W5[ix_i][ix_j],
                    (z_deltas[ix_i] * h_values_[ix_j]),
                    &k,
                );
            }
        }
        loss_before
    }
    /// One Adam step (AdamW when `s.weight_decay` is not zero), as PyTorch documents
    /// it, bias-corrected, in place; returns the loss before it.
    pub fn adam_step(
        p_: &mut Params,
        s: &mut Adam,
        p: &[f64; 2],
        g: &[f64; 2],
        gradient_: &[f64; 2],
        LATEX_: &[f64; 2],
        None_: &[f64; 1],
        PARAMS_: &[f64; 1],
        z_0: &[f64; 1],
        h_values: &[f64; 1],
        tmp0: &[f64; 1],
        ix_k: &[f64; 1],
        acc: &[f64; 1],
        lr: &[f64; 1],
        ws: &[f64; 1],
        data: &[f64; 1],
        params: &[f64; 1],
        Params: &[f64; 1],
        F: &[f64; 1],
        H: &[f64; 1],
        scale: &[f64; 1],
        gradient_into_: &[f64; 2],
        evaluate_: &[f64; 1],
        sgd_step_: &[f64; 1],
    ) -> F {
        s.t = s.t.saturating_add(1);
        let k = ::chainrule::runtime::AdamStep::with_powers(
            s.lr,
            s.beta1,
            s.beta2,
            s.eps,
            s.weight_decay,
            s.powers.at(s.beta1, s.beta2, s.t),
        );
        let mut h_inner: [f64; 3] = [0.0; 3];
        let mut h_values_: [f64; 3] = [0.0; 3];
        for ix_k_ in 0..3 {
            h_inner[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..2 {
                    acc_ += p_.W1[ix_k_][ix_i] * p[ix_i];
                }
                acc_
            })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_j in 0..2 {
                        acc_ += p_.W2[ix_k_][ix_j] * g[ix_j];
                    }
                    acc_
                })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_m in 0..2 {
                        acc_ += p_.W3[ix_k_][ix_m] * gradient_[ix_m];
                    }
                    acc_
                })
                + ({
                    let mut acc_: F = 0.0;
                    for ix_n in 0..2 {
                        acc_ += p_.W4[ix_k_][ix_n] * LATEX_[ix_n];
                    }
                    acc_
                }) + p_.b1[ix_k_];
            h_values_[ix_k_] = h_inner[ix_k_].tanh();
        }
        let mut s_values: [f64; 1] = [0.0; 1];
        for ix_k_ in 0..1 {
            s_values[ix_k_] = None_[ix_k_] * PARAMS_[ix_k_]
                + z_0[ix_k_] * h_values[ix_k_] + tmp0[ix_k_] * ix_k[ix_k_]
                + acc[ix_k_] * lr[ix_k_] + ws[ix_k_] * data[ix_k_]
                + params[ix_k_] * Params[ix_k_] + F[ix_k_] * H[ix_k_]
                + scale[ix_k_] * lr[ix_k_];
        }
        let mut z_values: [f64; 2] = [0.0; 2];
        for ix_k_ in 0..2 {
            z_values[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..3 {
                    acc_ += p_.W5[ix_k_][ix_i] * h_values_[ix_i];
                }
                acc_
            }) + s_values[0];
        }
        let mut z_deltas: [f64; 2] = [0.0; 2];
        for ix_k_ in 0..2 {
            z_deltas[ix_k_] = z_values[ix_k_] - gradient_into_[ix_k_]
                + evaluate_[0] * sgd_step_[0];
        }
        let mut s_deltas: [f64; 1] = [0.0; 1];
        for ix_k_ in 0..1 {
            s_deltas[ix_k_] = ({
                let mut acc_: F = 0.0;
                for ix_i in 0..2 {
                    acc_ += z_deltas[ix_i];
                }
                acc_
            });
        }
        let mut h_deltas: [f64; 3] = [0.0; 3];
        for ix_i in 0..2 {
            for ix_k_ in 0..3 {
                h_deltas[ix_k_] += z_deltas[ix_i] * p_.W5[ix_i][ix_k_];
            }
        }
        let loss_before: F = 0.5f64
            * ((z_values[0] - gradient_into_[0]).powi(2)
                + (z_values[1] - gradient_into_[1]).powi(2))
            + evaluate_[0] * sgd_step_[0] * (z_values[0] + z_values[1]);
        for ix_i in 0..3 {
            for ix_j in 0..2 {
                ::chainrule::runtime::adam_update(
                    &mut p_.W1[ix_i][ix_j],
                    &mut s.m.W1[ix_i][ix_j],
                    &mut s.v.W1[ix_i][ix_j],
                    (h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2)) * p[ix_j]),
                    &k,
                );
            }
        }
        for ix_i in 0..3 {
            for ix_j in 0..2 {
                ::chainrule::runtime::adam_update(
                    &mut p_.W2[ix_i][ix_j],
                    &mut s.m.W2[ix_i][ix_j],
                    &mut s.v.W2[ix_i][ix_j],
                    (h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2)) * g[ix_j]),
                    &k,
                );
            }
        }
        for ix_i in 0..3 {
            for ix_j in 0..2 {
                ::chainrule::runtime::adam_update(
                    &mut p_.W3[ix_i][ix_j],
                    &mut s.m.W3[ix_i][ix_j],
                    &mut s.v.W3[ix_i][ix_j],
                    (h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2))
                        * gradient_[ix_j]),
                    &k,
                );
            }
        }
        for ix_i in 0..3 {
            for ix_j in 0..2 {
                ::chainrule::runtime::adam_update(
                    &mut p_.W4[ix_i][ix_j],
                    &mut s.m.W4[ix_i][ix_j],
                    &mut s.v.W4[ix_i][ix_j],
                    (h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2)) * LATEX_[ix_j]),
                    &k,
                );
            }
        }
        for ix_i in 0..3 {
            ::chainrule::runtime::adam_update(
                &mut p_.b1[ix_i],
                &mut s.m.b1[ix_i],
                &mut s.v.b1[ix_i],
                (h_deltas[ix_i] * (1f64 - h_values_[ix_i].powi(2))),
                &k,
            );
        }
        for ix_i in 0..2 {
            for ix_j in 0..3 {
                ::chainrule::runtime::adam_update(
                    &mut p_.W5[ix_i][ix_j],
                    &mut s.m.W5[ix_i][ix_j],
                    &mut s.v.W5[ix_i][ix_j],
                    (z_deltas[ix_i] * h_values_[ix_j]),
                    &k,
                );
            }
        }
        loss_before
    }
    impl Params {
        /// Sets every element from [`Params::flat`] order.
        pub fn set_flat(&mut self, values: &[F; 33]) {
            let mut at = 0usize;
            (self.W1.as_flattened_mut()).copy_from_slice(&values[at..at + 6]);
            at += 6;
            (self.W2.as_flattened_mut()).copy_from_slice(&values[at..at + 6]);
            at += 6;
            (self.W3.as_flattened_mut()).copy_from_slice(&values[at..at + 6]);
            at += 6;
            (self.W4.as_flattened_mut()).copy_from_slice(&values[at..at + 6]);
            at += 6;
            (&mut self.b1[..]).copy_from_slice(&values[at..at + 3]);
            at += 3;
            (self.W5.as_flattened_mut()).copy_from_slice(&values[at..at + 6]);
            at += 6;
            let _ = at;
        }
    }
    /// How many parameter elements [`gradient_flat`] takes.
    pub const PARAMS: usize = 33;
    /// How many input and target elements [`gradient_flat`] takes.
    pub const DATA: usize = 27;
    /// [`gradient`] over flat arrays: parameters in [`Params::flat`] order, then every
    /// input and target element in declaration order. For generic callers (tests,
    /// benchmarks).
    pub fn gradient_flat(params_: &[F; 33], data_: &[F; 27]) -> (F, [F; 33]) {
        let mut parameters = Params::zeros();
        parameters.set_flat(params_);
        let mut at = 0usize;
        let mut p = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
        p.copy_from_slice(&data_[at..at + 2]);
        at += 2;
        let mut g = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
        g.copy_from_slice(&data_[at..at + 2]);
        at += 2;
        let mut gradient_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
        gradient_.copy_from_slice(&data_[at..at + 2]);
        at += 2;
        let mut LATEX_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
        LATEX_.copy_from_slice(&data_[at..at + 2]);
        at += 2;
        let mut None_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        None_.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut PARAMS_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        PARAMS_.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut z_0 = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        z_0.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut h_values = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        h_values.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut tmp0 = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        tmp0.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut ix_k = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        ix_k.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut acc = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        acc.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut lr = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        lr.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut ws = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        ws.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut data = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        data.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut params = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        params.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut Params = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        Params.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut F = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        F.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut H = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        H.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut scale = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        scale.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut gradient_into_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
        gradient_into_.copy_from_slice(&data_[at..at + 2]);
        at += 2;
        let mut evaluate_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        evaluate_.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut sgd_step_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        sgd_step_.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let _ = at;
        let (loss, g_) = gradient(
            &parameters,
            &p,
            &g,
            &gradient_,
            &LATEX_,
            &None_,
            &PARAMS_,
            &z_0,
            &h_values,
            &tmp0,
            &ix_k,
            &acc,
            &lr,
            &ws,
            &data,
            &params,
            &Params,
            &F,
            &H,
            &scale,
            &gradient_into_,
            &evaluate_,
            &sgd_step_,
        );
        (loss, g_.flat())
    }
    /// [`sgd_step`] over flat arrays, in the order of [`gradient_flat`].
    pub fn sgd_step_flat(params_: &mut [F; 33], data_: &[F; 27], lr_: F) -> F {
        let mut parameters = Params::zeros();
        parameters.set_flat(params_);
        let mut at = 0usize;
        let mut p = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
        p.copy_from_slice(&data_[at..at + 2]);
        at += 2;
        let mut g = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
        g.copy_from_slice(&data_[at..at + 2]);
        at += 2;
        let mut gradient_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
        gradient_.copy_from_slice(&data_[at..at + 2]);
        at += 2;
        let mut LATEX_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
        LATEX_.copy_from_slice(&data_[at..at + 2]);
        at += 2;
        let mut None_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        None_.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut PARAMS_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        PARAMS_.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut z_0 = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        z_0.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut h_values = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        h_values.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut tmp0 = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        tmp0.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut ix_k = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        ix_k.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut acc = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        acc.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut lr = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        lr.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut ws = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        ws.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut data = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        data.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut params = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        params.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut Params = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        Params.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut F = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        F.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut H = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        H.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut scale = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        scale.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut gradient_into_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
        gradient_into_.copy_from_slice(&data_[at..at + 2]);
        at += 2;
        let mut evaluate_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        evaluate_.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let mut sgd_step_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
        sgd_step_.copy_from_slice(&data_[at..at + 1]);
        at += 1;
        let _ = at;
        let loss = sgd_step(
            &mut parameters,
            &p,
            &g,
            &gradient_,
            &LATEX_,
            &None_,
            &PARAMS_,
            &z_0,
            &h_values,
            &tmp0,
            &ix_k,
            &acc,
            &lr,
            &ws,
            &data,
            &params,
            &Params,
            &F,
            &H,
            &scale,
            &gradient_into_,
            &evaluate_,
            &sgd_step_,
            lr_,
        );
        *params_ = parameters.flat();
        loss
    }
    ::chainrule::__if_std! {
        impl Params {
            /// The name of element `i` in the order of [`Params::flat`]: `W1[0][1]`, ...
            pub fn element_name(i: usize) -> String {
                let mut at = i;
                if at < 6 {
                    return ::chainrule::runtime::element_name("W1", &[3, 2], at);
                }
                at -= 6;
                if at < 6 {
                    return ::chainrule::runtime::element_name("W2", &[3, 2], at);
                }
                at -= 6;
                if at < 6 {
                    return ::chainrule::runtime::element_name("W3", &[3, 2], at);
                }
                at -= 6;
                if at < 6 {
                    return ::chainrule::runtime::element_name("W4", &[3, 2], at);
                }
                at -= 6;
                if at < 3 {
                    return ::chainrule::runtime::element_name("b1", &[3], at);
                }
                at -= 3;
                if at < 6 {
                    return ::chainrule::runtime::element_name("W5", &[2, 3], at);
                }
                at -= 6;
                format!("element {i} of {}", 33)
            }
            /// [`Params::flat`] on the heap.
            pub fn to_vec(&self) -> Vec<F> {
                let mut out = Vec::with_capacity(33);
                out.extend_from_slice(self.W1.as_flattened());
                out.extend_from_slice(self.W2.as_flattened());
                out.extend_from_slice(self.W3.as_flattened());
                out.extend_from_slice(self.W4.as_flattened());
                out.extend_from_slice(&self.b1[..]);
                out.extend_from_slice(self.W5.as_flattened());
                out
            }
            /// Every parameter as an `ndarray` array, by name.
            pub fn to_ndarray(
                &self,
            ) -> ::std::collections::BTreeMap<String, ::chainrule::ndarray::ArrayD<F>> {
                let mut out = ::std::collections::BTreeMap::new();
                let dims: &[usize] = &[3, 2];
                let values = (self.W1.as_flattened()).to_vec();
                out.insert(
                    "W1".to_string(),
                    ::chainrule::ndarray::ArrayD::from_shape_vec(
                            ::chainrule::ndarray::IxDyn(dims),
                            values,
                        )
                        .expect("shape matches its length"),
                );
                let dims: &[usize] = &[3, 2];
                let values = (self.W2.as_flattened()).to_vec();
                out.insert(
                    "W2".to_string(),
                    ::chainrule::ndarray::ArrayD::from_shape_vec(
                            ::chainrule::ndarray::IxDyn(dims),
                            values,
                        )
                        .expect("shape matches its length"),
                );
                let dims: &[usize] = &[3, 2];
                let values = (self.W3.as_flattened()).to_vec();
                out.insert(
                    "W3".to_string(),
                    ::chainrule::ndarray::ArrayD::from_shape_vec(
                            ::chainrule::ndarray::IxDyn(dims),
                            values,
                        )
                        .expect("shape matches its length"),
                );
                let dims: &[usize] = &[3, 2];
                let values = (self.W4.as_flattened()).to_vec();
                out.insert(
                    "W4".to_string(),
                    ::chainrule::ndarray::ArrayD::from_shape_vec(
                            ::chainrule::ndarray::IxDyn(dims),
                            values,
                        )
                        .expect("shape matches its length"),
                );
                let dims: &[usize] = &[3];
                let values = (&self.b1[..]).to_vec();
                out.insert(
                    "b1".to_string(),
                    ::chainrule::ndarray::ArrayD::from_shape_vec(
                            ::chainrule::ndarray::IxDyn(dims),
                            values,
                        )
                        .expect("shape matches its length"),
                );
                let dims: &[usize] = &[2, 3];
                let values = (self.W5.as_flattened()).to_vec();
                out.insert(
                    "W5".to_string(),
                    ::chainrule::ndarray::ArrayD::from_shape_vec(
                            ::chainrule::ndarray::IxDyn(dims),
                            values,
                        )
                        .expect("shape matches its length"),
                );
                out
            }
            /// Parameters from `ndarray` arrays by name; a missing name keeps its default,
            /// an unknown name or a wrong shape is an error.
            pub fn from_ndarray(
                arrays: &::std::collections::BTreeMap<String, ::chainrule::ndarray::ArrayD<F>>,
            ) -> Result<Self, ::chainrule::runtime::ShapeError> {
                let known: &[&str] = &["W1", "W2", "W3", "W4", "b1", "W5"];
                if let Some(unknown) = arrays.keys().find(|k| !known.contains(&k.as_str())) {
                    return Err(
                        ::chainrule::runtime::ShapeError::new(
                            unknown.clone(),
                            "a parameter of this network",
                            "an unknown name",
                        ),
                    );
                }
                let mut params = Params::boxed();
                let dims: &[usize] = &[3, 2];
                if let Some(array) = arrays.get("W1") {
                    if array.shape() != dims {
                        return Err(
                            ::chainrule::runtime::ShapeError::new(
                                "W1",
                                format!("shape {:?}", dims),
                                format!("shape {:?}", array.shape()),
                            ),
                        );
                    }
                    for (slot, value) in (params.W1.as_flattened_mut())
                        .iter_mut()
                        .zip(array.iter())
                    {
                        *slot = *value;
                    }
                }
                let dims: &[usize] = &[3, 2];
                if let Some(array) = arrays.get("W2") {
                    if array.shape() != dims {
                        return Err(
                            ::chainrule::runtime::ShapeError::new(
                                "W2",
                                format!("shape {:?}", dims),
                                format!("shape {:?}", array.shape()),
                            ),
                        );
                    }
                    for (slot, value) in (params.W2.as_flattened_mut())
                        .iter_mut()
                        .zip(array.iter())
                    {
                        *slot = *value;
                    }
                }
                let dims: &[usize] = &[3, 2];
                if let Some(array) = arrays.get("W3") {
                    if array.shape() != dims {
                        return Err(
                            ::chainrule::runtime::ShapeError::new(
                                "W3",
                                format!("shape {:?}", dims),
                                format!("shape {:?}", array.shape()),
                            ),
                        );
                    }
                    for (slot, value) in (params.W3.as_flattened_mut())
                        .iter_mut()
                        .zip(array.iter())
                    {
                        *slot = *value;
                    }
                }
                let dims: &[usize] = &[3, 2];
                if let Some(array) = arrays.get("W4") {
                    if array.shape() != dims {
                        return Err(
                            ::chainrule::runtime::ShapeError::new(
                                "W4",
                                format!("shape {:?}", dims),
                                format!("shape {:?}", array.shape()),
                            ),
                        );
                    }
                    for (slot, value) in (params.W4.as_flattened_mut())
                        .iter_mut()
                        .zip(array.iter())
                    {
                        *slot = *value;
                    }
                }
                let dims: &[usize] = &[3];
                if let Some(array) = arrays.get("b1") {
                    if array.shape() != dims {
                        return Err(
                            ::chainrule::runtime::ShapeError::new(
                                "b1",
                                format!("shape {:?}", dims),
                                format!("shape {:?}", array.shape()),
                            ),
                        );
                    }
                    for (slot, value) in (&mut params.b1[..]).iter_mut().zip(array.iter()) {
                        *slot = *value;
                    }
                }
                let dims: &[usize] = &[2, 3];
                if let Some(array) = arrays.get("W5") {
                    if array.shape() != dims {
                        return Err(
                            ::chainrule::runtime::ShapeError::new(
                                "W5",
                                format!("shape {:?}", dims),
                                format!("shape {:?}", array.shape()),
                            ),
                        );
                    }
                    for (slot, value) in (params.W5.as_flattened_mut())
                        .iter_mut()
                        .zip(array.iter())
                    {
                        *slot = *value;
                    }
                }
                Ok(*params)
            }
        }
        /// Why [`Params::from_json`] refused a text: the JSON path and the reason.
        pub use ::chainrule::runtime::ParamsError;
        impl Params {
            /// Every parameter as JSON in the `--params` layout of `chainrule eval` (a
            /// name to a number array of its shape, row-major), numbers in shortest
            /// round-trip form: `chainrule eval --params` reads what this writes.
            pub fn to_json(&self) -> String {
                ::chainrule::runtime::json::to_json::<
                    F,
                >(
                    &[
                        ::chainrule::runtime::json::Entry {
                            name: "W1",
                            dims: &[3, 2],
                            values: self.W1.as_flattened(),
                        },
                        ::chainrule::runtime::json::Entry {
                            name: "W2",
                            dims: &[3, 2],
                            values: self.W2.as_flattened(),
                        },
                        ::chainrule::runtime::json::Entry {
                            name: "W3",
                            dims: &[3, 2],
                            values: self.W3.as_flattened(),
                        },
                        ::chainrule::runtime::json::Entry {
                            name: "W4",
                            dims: &[3, 2],
                            values: self.W4.as_flattened(),
                        },
                        ::chainrule::runtime::json::Entry {
                            name: "b1",
                            dims: &[3],
                            values: &self.b1[..],
                        },
                        ::chainrule::runtime::json::Entry {
                            name: "W5",
                            dims: &[2, 3],
                            values: self.W5.as_flattened(),
                        },
                    ],
                )
            }
            /// Parameters from JSON in the `--params` layout, read as `chainrule eval` reads
            /// it: a parameter missing from the text keeps the value the network declares
            /// (missing from both is an error), and an unknown name, a key given twice, a
            /// wrong shape or a value that is not a finite number is an error naming its
            /// JSON path (`W1[2][0]: expected a number, found a string`).
            pub fn from_json(text: &str) -> Result<Params, ParamsError> {
                let read = ::chainrule::runtime::json::from_json(
                    text,
                    "generated_names",
                    &[
                        ::chainrule::runtime::json::Expected {
                            name: "W1",
                            dims: &[3, 2],
                            declared: false,
                        },
                        ::chainrule::runtime::json::Expected {
                            name: "W2",
                            dims: &[3, 2],
                            declared: false,
                        },
                        ::chainrule::runtime::json::Expected {
                            name: "W3",
                            dims: &[3, 2],
                            declared: false,
                        },
                        ::chainrule::runtime::json::Expected {
                            name: "W4",
                            dims: &[3, 2],
                            declared: false,
                        },
                        ::chainrule::runtime::json::Expected {
                            name: "b1",
                            dims: &[3],
                            declared: false,
                        },
                        ::chainrule::runtime::json::Expected {
                            name: "W5",
                            dims: &[2, 3],
                            declared: false,
                        },
                    ],
                )?;
                let mut params = Params::boxed();
                if let Some(values) = &read[0] {
                    for (slot, value) in (params.W1.as_flattened_mut()).iter_mut().zip(values) {
                        *slot = <F as ::chainrule::runtime::Real>::from_f64(*value);
                    }
                }
                if let Some(values) = &read[1] {
                    for (slot, value) in (params.W2.as_flattened_mut()).iter_mut().zip(values) {
                        *slot = <F as ::chainrule::runtime::Real>::from_f64(*value);
                    }
                }
                if let Some(values) = &read[2] {
                    for (slot, value) in (params.W3.as_flattened_mut()).iter_mut().zip(values) {
                        *slot = <F as ::chainrule::runtime::Real>::from_f64(*value);
                    }
                }
                if let Some(values) = &read[3] {
                    for (slot, value) in (params.W4.as_flattened_mut()).iter_mut().zip(values) {
                        *slot = <F as ::chainrule::runtime::Real>::from_f64(*value);
                    }
                }
                if let Some(values) = &read[4] {
                    for (slot, value) in (&mut params.b1[..]).iter_mut().zip(values) {
                        *slot = <F as ::chainrule::runtime::Real>::from_f64(*value);
                    }
                }
                if let Some(values) = &read[5] {
                    for (slot, value) in (params.W5.as_flattened_mut()).iter_mut().zip(values) {
                        *slot = <F as ::chainrule::runtime::Real>::from_f64(*value);
                    }
                }
                Ok(*params)
            }
        }
        impl Params {
            /// Every parameter zero, on the heap: no stack temporary, whatever the size.
            pub fn boxed_zeros() -> Box<Params> {
                unsafe { ::chainrule::runtime::zeroed_box::<Params>() }
            }
            /// The values declared in the network, zeros elsewhere, on the heap.
            pub fn boxed() -> Box<Params> {
                let mut params = Params::boxed_zeros();
                params
            }
            /// [`Params::init`] on the heap: no stack temporary, whatever the size.
            pub fn boxed_init(seed: u64) -> Box<Params> {
                let mut params = Params::boxed();
                params.__randomize(seed);
                params
            }
        }
        /// Buffers the batch functions reuse between calls ([`gradient_batch_into`],
        /// [`sgd_step_batch_into`]): one gradient accumulator per part of a batch and, in
        /// the matrix form, each vector and its delta for one chunk of rows. They grow to
        /// the largest batch seen and are never shrunk.
        #[derive(Clone, Debug, Default)]
        pub struct BatchWorkspace {
            parts: Vec<__Part>,
            total: Vec<F>,
        }
        #[derive(Clone, Debug, Default)]
        struct __Part {
            loss: F,
            acc: Vec<F>,
            scratch: Option<Box<Params>>,
            v0: Vec<F>,
            d0: Vec<F>,
            z0_0: Vec<F>,
            q0_0: Vec<F>,
            z0_1: Vec<F>,
            q0_1: Vec<F>,
            z0_2: Vec<F>,
            q0_2: Vec<F>,
            z0_3: Vec<F>,
            q0_3: Vec<F>,
            v1: Vec<F>,
            d1: Vec<F>,
            v2: Vec<F>,
            d2: Vec<F>,
            z2_0: Vec<F>,
            q2_0: Vec<F>,
        }
        impl BatchWorkspace {
            /// An empty workspace; the first call sizes it.
            pub fn new() -> Self {
                Self::default()
            }
            fn prepare(&mut self, __parts: usize, __chunk: usize) {
                if self.parts.len() < __parts {
                    self.parts.resize_with(__parts, __Part::default);
                }
                for __part in &mut self.parts[..__parts] {
                    __part.acc.resize(33, 0.0);
                    __part.v0.resize(__chunk * 3, 0.0);
                    __part.d0.resize(__chunk * 3, 0.0);
                    __part.z0_0.resize(__chunk * 3, 0.0);
                    __part.q0_0.resize(__chunk * 3, 0.0);
                    __part.z0_1.resize(__chunk * 3, 0.0);
                    __part.q0_1.resize(__chunk * 3, 0.0);
                    __part.z0_2.resize(__chunk * 3, 0.0);
                    __part.q0_2.resize(__chunk * 3, 0.0);
                    __part.z0_3.resize(__chunk * 3, 0.0);
                    __part.q0_3.resize(__chunk * 3, 0.0);
                    __part.v1.resize(__chunk * 1, 0.0);
                    __part.d1.resize(__chunk * 1, 0.0);
                    __part.v2.resize(__chunk * 2, 0.0);
                    __part.d2.resize(__chunk * 2, 0.0);
                    __part.z2_0.resize(__chunk * 2, 0.0);
                    __part.q2_0.resize(__chunk * 2, 0.0);
                }
                self.total.resize(33, 0.0);
            }
        }
        /// The matrix form over rows `__start..__end`: adds their loss to `__part.loss` and
        /// their gradient, times `__scale`, to `__part.acc`.
        #[allow(clippy::too_many_arguments)]
        fn __chunk_matrix(
            p_: &Params,
            p: ::chainrule::ndarray::ArrayView2<'_, f64>,
            g: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            LATEX_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            None_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            PARAMS_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            z_0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            h_values: ::chainrule::ndarray::ArrayView2<'_, f64>,
            tmp0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ix_k: ::chainrule::ndarray::ArrayView2<'_, f64>,
            acc: ::chainrule::ndarray::ArrayView2<'_, f64>,
            lr: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ws: ::chainrule::ndarray::ArrayView2<'_, f64>,
            data: ::chainrule::ndarray::ArrayView2<'_, f64>,
            params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            Params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            F: ::chainrule::ndarray::ArrayView2<'_, f64>,
            H: ::chainrule::ndarray::ArrayView2<'_, f64>,
            scale: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_into_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            evaluate_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            sgd_step_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            __start: usize,
            __end: usize,
            __part: &mut __Part,
            __scale: F,
        ) {
            let __m = __end - __start;
            let __in_p = ::chainrule::parallel::rows(p, __start, __end);
            let __in_g = ::chainrule::parallel::rows(g, __start, __end);
            let __in_gradient_ = ::chainrule::parallel::rows(gradient_, __start, __end);
            let __in_LATEX_ = ::chainrule::parallel::rows(LATEX_, __start, __end);
            let __in_None_ = ::chainrule::parallel::rows(None_, __start, __end);
            let __in_PARAMS_ = ::chainrule::parallel::rows(PARAMS_, __start, __end);
            let __in_z_0 = ::chainrule::parallel::rows(z_0, __start, __end);
            let __in_h_values = ::chainrule::parallel::rows(h_values, __start, __end);
            let __in_tmp0 = ::chainrule::parallel::rows(tmp0, __start, __end);
            let __in_ix_k = ::chainrule::parallel::rows(ix_k, __start, __end);
            let __in_acc = ::chainrule::parallel::rows(acc, __start, __end);
            let __in_lr = ::chainrule::parallel::rows(lr, __start, __end);
            let __in_ws = ::chainrule::parallel::rows(ws, __start, __end);
            let __in_data = ::chainrule::parallel::rows(data, __start, __end);
            let __in_params = ::chainrule::parallel::rows(params, __start, __end);
            let __in_Params = ::chainrule::parallel::rows(Params, __start, __end);
            let __in_F = ::chainrule::parallel::rows(F, __start, __end);
            let __in_H = ::chainrule::parallel::rows(H, __start, __end);
            let __in_scale = ::chainrule::parallel::rows(scale, __start, __end);
            let __in_gradient_into_ = ::chainrule::parallel::rows(
                gradient_into_,
                __start,
                __end,
            );
            let __in_evaluate_ = ::chainrule::parallel::rows(evaluate_, __start, __end);
            let __in_sgd_step_ = ::chainrule::parallel::rows(sgd_step_, __start, __end);
            {
                let __z = &mut __part.z0_0[..__m * 3];
                __z.iter_mut().for_each(|__v| *__v = 0.0);
                ::chainrule::parallel::gemm(
                    1.0,
                    &__in_p,
                    &::chainrule::ndarray::aview2(&p_.W1).t(),
                    1.0,
                    &mut ::chainrule::parallel::view_mut(__z, __m, 3),
                );
            }
            {
                let __z = &mut __part.z0_1[..__m * 3];
                __z.iter_mut().for_each(|__v| *__v = 0.0);
                ::chainrule::parallel::gemm(
                    1.0,
                    &__in_g,
                    &::chainrule::ndarray::aview2(&p_.W2).t(),
                    1.0,
                    &mut ::chainrule::parallel::view_mut(__z, __m, 3),
                );
            }
            {
                let __z = &mut __part.z0_2[..__m * 3];
                __z.iter_mut().for_each(|__v| *__v = 0.0);
                ::chainrule::parallel::gemm(
                    1.0,
                    &__in_gradient_,
                    &::chainrule::ndarray::aview2(&p_.W3).t(),
                    1.0,
                    &mut ::chainrule::parallel::view_mut(__z, __m, 3),
                );
            }
            {
                let __z = &mut __part.z0_3[..__m * 3];
                __z.iter_mut().for_each(|__v| *__v = 0.0);
                ::chainrule::parallel::gemm(
                    1.0,
                    &__in_LATEX_,
                    &::chainrule::ndarray::aview2(&p_.W4).t(),
                    1.0,
                    &mut ::chainrule::parallel::view_mut(__z, __m, 3),
                );
            }
            for __r in 0..__m {
                let __out = &mut __part.v0[__r * 3..(__r + 1) * 3];
                let __z0 = &__part.z0_0[__r * 3..(__r + 1) * 3];
                let __z1 = &__part.z0_1[__r * 3..(__r + 1) * 3];
                let __z2 = &__part.z0_2[__r * 3..(__r + 1) * 3];
                let __z3 = &__part.z0_3[__r * 3..(__r + 1) * 3];
                for __k in 0..3 {
                    __out[__k] = __z0[__k] + __z1[__k] + __z2[__k] + __z3[__k] + p_.b1[__k];
                }
            }
            ::chainrule::runtime::vmath::map_in_place(
                ::chainrule::runtime::vmath::Kernel::Tanh,
                &mut __part.v0[..__m * 3],
            );
            for __r in 0..__m {
                let __out = &mut __part.v1[__r * 1..(__r + 1) * 1];
                let __row_None_ = __in_None_.row(__r);
                let __row_PARAMS_ = __in_PARAMS_.row(__r);
                let __row_z_0 = __in_z_0.row(__r);
                let __row_h_values = __in_h_values.row(__r);
                let __row_tmp0 = __in_tmp0.row(__r);
                let __row_ix_k = __in_ix_k.row(__r);
                let __row_acc = __in_acc.row(__r);
                let __row_lr = __in_lr.row(__r);
                let __row_ws = __in_ws.row(__r);
                let __row_data = __in_data.row(__r);
                let __row_params = __in_params.row(__r);
                let __row_Params = __in_Params.row(__r);
                let __row_F = __in_F.row(__r);
                let __row_H = __in_H.row(__r);
                let __row_scale = __in_scale.row(__r);
                for __k in 0..1 {
                    __out[__k] = __row_None_[0] * __row_PARAMS_[0]
                        + __row_z_0[0] * __row_h_values[0] + __row_tmp0[0] * __row_ix_k[0]
                        + __row_acc[0] * __row_lr[0] + __row_ws[0] * __row_data[0]
                        + __row_params[0] * __row_Params[0] + __row_F[0] * __row_H[0]
                        + __row_scale[0] * __row_lr[0];
                }
            }
            {
                let __z = &mut __part.z2_0[..__m * 2];
                __z.iter_mut().for_each(|__v| *__v = 0.0);
                ::chainrule::parallel::gemm(
                    1.0,
                    &::chainrule::parallel::view(&__part.v0, __m, 3),
                    &::chainrule::ndarray::aview2(&p_.W5).t(),
                    1.0,
                    &mut ::chainrule::parallel::view_mut(__z, __m, 2),
                );
            }
            for __r in 0..__m {
                let __out = &mut __part.v2[__r * 2..(__r + 1) * 2];
                let __s1 = &__part.v1[__r * 1..(__r + 1) * 1];
                let __z0 = &__part.z2_0[__r * 2..(__r + 1) * 2];
                for __k in 0..2 {
                    __out[__k] = __z0[__k] + __s1[0];
                }
            }
            __part.d0[..__m * 3].iter_mut().for_each(|__v| *__v = 0.0);
            __part.d1[..__m * 1].iter_mut().for_each(|__v| *__v = 0.0);
            __part.d2[..__m * 2].iter_mut().for_each(|__v| *__v = 0.0);
            let mut __loss_sum: F = 0.0;
            for __r in 0..__m {
                let __s2 = &__part.v2[__r * 2..(__r + 1) * 2];
                let __row_gradient_into_ = __in_gradient_into_.row(__r);
                let __row_evaluate_ = __in_evaluate_.row(__r);
                let __row_sgd_step_ = __in_sgd_step_.row(__r);
                let __loss: F = 0.5f64
                    * ((__s2[0] - __row_gradient_into_[0]).powi(2)
                        + (__s2[1] - __row_gradient_into_[1]).powi(2))
                    + __row_evaluate_[0] * __row_sgd_step_[0] * (__s2[0] + __s2[1]);
                __loss_sum += __loss;
                let __dd2 = &mut __part.d2[__r * 2..(__r + 1) * 2];
                let __q149 = __row_evaluate_[0] * __row_sgd_step_[0];
                __dd2[0] += __scale * (__s2[0] - __row_gradient_into_[0] + __q149);
                __dd2[1] += __scale * (__s2[1] - __row_gradient_into_[1] + __q149);
            }
            __part.loss += __loss_sum;
            for __r in 0..__m {
                let __dc = &__part.d2[__r * 2..(__r + 1) * 2];
                let __z0 = &__part.z2_0[__r * 2..(__r + 1) * 2];
                let __dd1 = &mut __part.d1[__r * 1..(__r + 1) * 1];
                let __q0 = &mut __part.q2_0[__r * 2..(__r + 1) * 2];
                for __k in 0..2 {
                    let __delta = __dc[__k];
                    __dd1[0] += __delta * (1f64);
                    __q0[__k] = __delta * 1f64;
                }
            }
            {
                let __delta = ::chainrule::parallel::view(&__part.q2_0, __m, 2);
                {
                    let mut __grad = ::chainrule::parallel::view_mut(
                        &mut __part.acc[27..33],
                        2,
                        3,
                    );
                    ::chainrule::parallel::gemm(
                        1.0,
                        &__delta.t(),
                        &::chainrule::parallel::view(&__part.v0, __m, 3),
                        1.0,
                        &mut __grad,
                    );
                }
                ::chainrule::parallel::gemm(
                    1.0,
                    &__delta,
                    &::chainrule::ndarray::aview2(&p_.W5),
                    1.0,
                    &mut ::chainrule::parallel::view_mut(&mut __part.d0, __m, 3),
                );
            }
            for __r in 0..__m {
                let __dc = &__part.d0[__r * 3..(__r + 1) * 3];
                let __s0 = &__part.v0[__r * 3..(__r + 1) * 3];
                let __z0 = &__part.z0_0[__r * 3..(__r + 1) * 3];
                let __z1 = &__part.z0_1[__r * 3..(__r + 1) * 3];
                let __z2 = &__part.z0_2[__r * 3..(__r + 1) * 3];
                let __z3 = &__part.z0_3[__r * 3..(__r + 1) * 3];
                let __q0 = &mut __part.q0_0[__r * 3..(__r + 1) * 3];
                let __q1 = &mut __part.q0_1[__r * 3..(__r + 1) * 3];
                let __q2 = &mut __part.q0_2[__r * 3..(__r + 1) * 3];
                let __q3 = &mut __part.q0_3[__r * 3..(__r + 1) * 3];
                for __k in 0..3 {
                    let __delta = __dc[__k];
                    let __b155 = 1f64 - __s0[__k].powi(2);
                    __part.acc[24 + __k] += __delta * (__b155);
                    __q0[__k] = __delta * (__b155);
                    __q1[__k] = __delta * (__b155);
                    __q2[__k] = __delta * (__b155);
                    __q3[__k] = __delta * (__b155);
                }
            }
            {
                let __delta = ::chainrule::parallel::view(&__part.q0_0, __m, 3);
                {
                    let mut __grad = ::chainrule::parallel::view_mut(
                        &mut __part.acc[0..6],
                        3,
                        2,
                    );
                    ::chainrule::parallel::gemm(1.0, &__delta.t(), &__in_p, 1.0, &mut __grad);
                }
            }
            {
                let __delta = ::chainrule::parallel::view(&__part.q0_1, __m, 3);
                {
                    let mut __grad = ::chainrule::parallel::view_mut(
                        &mut __part.acc[6..12],
                        3,
                        2,
                    );
                    ::chainrule::parallel::gemm(1.0, &__delta.t(), &__in_g, 1.0, &mut __grad);
                }
            }
            {
                let __delta = ::chainrule::parallel::view(&__part.q0_2, __m, 3);
                {
                    let mut __grad = ::chainrule::parallel::view_mut(
                        &mut __part.acc[12..18],
                        3,
                        2,
                    );
                    ::chainrule::parallel::gemm(
                        1.0,
                        &__delta.t(),
                        &__in_gradient_,
                        1.0,
                        &mut __grad,
                    );
                }
            }
            {
                let __delta = ::chainrule::parallel::view(&__part.q0_3, __m, 3);
                {
                    let mut __grad = ::chainrule::parallel::view_mut(
                        &mut __part.acc[18..24],
                        3,
                        2,
                    );
                    ::chainrule::parallel::gemm(
                        1.0,
                        &__delta.t(),
                        &__in_LATEX_,
                        1.0,
                        &mut __grad,
                    );
                }
            }
        }
        /// Sums the batch's loss and gradient, combined by the `batch` rule, into
        /// `__ws.total`; returns the loss.
        fn __accumulate(
            p_: &Params,
            p: ::chainrule::ndarray::ArrayView2<'_, f64>,
            g: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            LATEX_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            None_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            PARAMS_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            z_0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            h_values: ::chainrule::ndarray::ArrayView2<'_, f64>,
            tmp0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ix_k: ::chainrule::ndarray::ArrayView2<'_, f64>,
            acc: ::chainrule::ndarray::ArrayView2<'_, f64>,
            lr: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ws: ::chainrule::ndarray::ArrayView2<'_, f64>,
            data: ::chainrule::ndarray::ArrayView2<'_, f64>,
            params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            Params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            F: ::chainrule::ndarray::ArrayView2<'_, f64>,
            H: ::chainrule::ndarray::ArrayView2<'_, f64>,
            scale: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_into_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            evaluate_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            sgd_step_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            __ws: &mut BatchWorkspace,
        ) -> Result<F, ::chainrule::runtime::ShapeError> {
            let __rows = p.nrows();
            if p.ncols() != 2 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "p",
                        format!("{} columns", 2),
                        format!("{} columns", p.ncols()),
                    ),
                );
            }
            if p.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "p",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", p.nrows()),
                    ),
                );
            }
            if g.ncols() != 2 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "g",
                        format!("{} columns", 2),
                        format!("{} columns", g.ncols()),
                    ),
                );
            }
            if g.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "g",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", g.nrows()),
                    ),
                );
            }
            if gradient_.ncols() != 2 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "gradient",
                        format!("{} columns", 2),
                        format!("{} columns", gradient_.ncols()),
                    ),
                );
            }
            if gradient_.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "gradient",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", gradient_.nrows()),
                    ),
                );
            }
            if LATEX_.ncols() != 2 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "LATEX",
                        format!("{} columns", 2),
                        format!("{} columns", LATEX_.ncols()),
                    ),
                );
            }
            if LATEX_.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "LATEX",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", LATEX_.nrows()),
                    ),
                );
            }
            if None_.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "None",
                        format!("{} columns", 1),
                        format!("{} columns", None_.ncols()),
                    ),
                );
            }
            if None_.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "None",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", None_.nrows()),
                    ),
                );
            }
            if PARAMS_.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "PARAMS",
                        format!("{} columns", 1),
                        format!("{} columns", PARAMS_.ncols()),
                    ),
                );
            }
            if PARAMS_.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "PARAMS",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", PARAMS_.nrows()),
                    ),
                );
            }
            if z_0.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "z_0",
                        format!("{} columns", 1),
                        format!("{} columns", z_0.ncols()),
                    ),
                );
            }
            if z_0.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "z_0",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", z_0.nrows()),
                    ),
                );
            }
            if h_values.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "h_values",
                        format!("{} columns", 1),
                        format!("{} columns", h_values.ncols()),
                    ),
                );
            }
            if h_values.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "h_values",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", h_values.nrows()),
                    ),
                );
            }
            if tmp0.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "tmp0",
                        format!("{} columns", 1),
                        format!("{} columns", tmp0.ncols()),
                    ),
                );
            }
            if tmp0.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "tmp0",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", tmp0.nrows()),
                    ),
                );
            }
            if ix_k.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "ix_k",
                        format!("{} columns", 1),
                        format!("{} columns", ix_k.ncols()),
                    ),
                );
            }
            if ix_k.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "ix_k",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", ix_k.nrows()),
                    ),
                );
            }
            if acc.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "acc",
                        format!("{} columns", 1),
                        format!("{} columns", acc.ncols()),
                    ),
                );
            }
            if acc.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "acc",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", acc.nrows()),
                    ),
                );
            }
            if lr.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "lr",
                        format!("{} columns", 1),
                        format!("{} columns", lr.ncols()),
                    ),
                );
            }
            if lr.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "lr",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", lr.nrows()),
                    ),
                );
            }
            if ws.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "ws",
                        format!("{} columns", 1),
                        format!("{} columns", ws.ncols()),
                    ),
                );
            }
            if ws.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "ws",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", ws.nrows()),
                    ),
                );
            }
            if data.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "data",
                        format!("{} columns", 1),
                        format!("{} columns", data.ncols()),
                    ),
                );
            }
            if data.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "data",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", data.nrows()),
                    ),
                );
            }
            if params.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "params",
                        format!("{} columns", 1),
                        format!("{} columns", params.ncols()),
                    ),
                );
            }
            if params.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "params",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", params.nrows()),
                    ),
                );
            }
            if Params.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "Params",
                        format!("{} columns", 1),
                        format!("{} columns", Params.ncols()),
                    ),
                );
            }
            if Params.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "Params",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", Params.nrows()),
                    ),
                );
            }
            if F.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "F",
                        format!("{} columns", 1),
                        format!("{} columns", F.ncols()),
                    ),
                );
            }
            if F.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "F",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", F.nrows()),
                    ),
                );
            }
            if H.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "H",
                        format!("{} columns", 1),
                        format!("{} columns", H.ncols()),
                    ),
                );
            }
            if H.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "H",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", H.nrows()),
                    ),
                );
            }
            if scale.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "scale",
                        format!("{} columns", 1),
                        format!("{} columns", scale.ncols()),
                    ),
                );
            }
            if scale.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "scale",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", scale.nrows()),
                    ),
                );
            }
            if gradient_into_.ncols() != 2 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "gradient_into",
                        format!("{} columns", 2),
                        format!("{} columns", gradient_into_.ncols()),
                    ),
                );
            }
            if gradient_into_.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "gradient_into",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", gradient_into_.nrows()),
                    ),
                );
            }
            if evaluate_.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "evaluate",
                        format!("{} columns", 1),
                        format!("{} columns", evaluate_.ncols()),
                    ),
                );
            }
            if evaluate_.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "evaluate",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", evaluate_.nrows()),
                    ),
                );
            }
            if sgd_step_.ncols() != 1 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "sgd_step",
                        format!("{} columns", 1),
                        format!("{} columns", sgd_step_.ncols()),
                    ),
                );
            }
            if sgd_step_.nrows() != __rows {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "sgd_step",
                        format!("{} rows, as many as `{}`", __rows, "p"),
                        format!("{} rows", sgd_step_.nrows()),
                    ),
                );
            }
            if __rows == 0 {
                return Err(
                    ::chainrule::runtime::ShapeError::new("p", "at least one row", "0 rows"),
                );
            }
            let __scale: F = 1.0 / (__rows as f64);
            let __matrix = __rows >= 1;
            let __parts = ::chainrule::parallel::parts(
                __rows,
                if __matrix { 32 } else { 32 },
                30,
            );
            let __chunk = if __matrix { (__rows / __parts + 1).min(256) } else { 0 };
            __ws.prepare(__parts, __chunk);
            ::chainrule::parallel::for_each_part(
                &mut __ws.parts[..__parts],
                |__i, __part| {
                    let __range = ::chainrule::parallel::part_range(__rows, __parts, __i);
                    __part.loss = 0.0;
                    __part.acc.iter_mut().for_each(|__a| *__a = 0.0);
                    if __matrix {
                        let mut __start = __range.start;
                        while __start < __range.end {
                            let __end = (__start + 256).min(__range.end);
                            __chunk_matrix(
                                p_,
                                p,
                                g,
                                gradient_,
                                LATEX_,
                                None_,
                                PARAMS_,
                                z_0,
                                h_values,
                                tmp0,
                                ix_k,
                                acc,
                                lr,
                                ws,
                                data,
                                params,
                                Params,
                                F,
                                H,
                                scale,
                                gradient_into_,
                                evaluate_,
                                sgd_step_,
                                __start,
                                __end,
                                __part,
                                __scale,
                            );
                            __start = __end;
                        }
                        return;
                    }
                    for __row in __range {
                        let mut __row_p = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
                        for (__slot, __value) in __row_p.iter_mut().zip(p.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_g = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
                        for (__slot, __value) in __row_g.iter_mut().zip(g.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_gradient_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
                        for (__slot, __value) in __row_gradient_
                            .iter_mut()
                            .zip(gradient_.row(__row))
                        {
                            *__slot = *__value;
                        }
                        let mut __row_LATEX_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
                        for (__slot, __value) in __row_LATEX_.iter_mut().zip(LATEX_.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_None_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_None_.iter_mut().zip(None_.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_PARAMS_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_PARAMS_.iter_mut().zip(PARAMS_.row(__row))
                        {
                            *__slot = *__value;
                        }
                        let mut __row_z_0 = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_z_0.iter_mut().zip(z_0.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_h_values = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_h_values
                            .iter_mut()
                            .zip(h_values.row(__row))
                        {
                            *__slot = *__value;
                        }
                        let mut __row_tmp0 = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_tmp0.iter_mut().zip(tmp0.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_ix_k = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_ix_k.iter_mut().zip(ix_k.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_acc = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_acc.iter_mut().zip(acc.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_lr = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_lr.iter_mut().zip(lr.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_ws = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_ws.iter_mut().zip(ws.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_data = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_data.iter_mut().zip(data.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_params = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_params.iter_mut().zip(params.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_Params = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_Params.iter_mut().zip(Params.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_F = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_F.iter_mut().zip(F.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_H = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_H.iter_mut().zip(H.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_scale = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_scale.iter_mut().zip(scale.row(__row)) {
                            *__slot = *__value;
                        }
                        let mut __row_gradient_into_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 2];
                        for (__slot, __value) in __row_gradient_into_
                            .iter_mut()
                            .zip(gradient_into_.row(__row))
                        {
                            *__slot = *__value;
                        }
                        let mut __row_evaluate_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_evaluate_
                            .iter_mut()
                            .zip(evaluate_.row(__row))
                        {
                            *__slot = *__value;
                        }
                        let mut __row_sgd_step_ = [<f64 as ::chainrule::runtime::Real>::ZERO; 1];
                        for (__slot, __value) in __row_sgd_step_
                            .iter_mut()
                            .zip(sgd_step_.row(__row))
                        {
                            *__slot = *__value;
                        }
                        let __g = __part.scratch.get_or_insert_with(Params::boxed_zeros);
                        __part.loss
                            += gradient_into(
                                p_,
                                &__row_p,
                                &__row_g,
                                &__row_gradient_,
                                &__row_LATEX_,
                                &__row_None_,
                                &__row_PARAMS_,
                                &__row_z_0,
                                &__row_h_values,
                                &__row_tmp0,
                                &__row_ix_k,
                                &__row_acc,
                                &__row_lr,
                                &__row_ws,
                                &__row_data,
                                &__row_params,
                                &__row_Params,
                                &__row_F,
                                &__row_H,
                                &__row_scale,
                                &__row_gradient_into_,
                                &__row_evaluate_,
                                &__row_sgd_step_,
                                __g,
                            );
                        __g.add_to(&mut __part.acc);
                    }
                    for __a in __part.acc.iter_mut() {
                        *__a *= __scale;
                    }
                },
            );
            let mut __loss: F = 0.0;
            for __part in &__ws.parts[..__parts] {
                __loss += __part.loss;
            }
            match &mut __ws.parts[..__parts] {
                [__only] => ::core::mem::swap(&mut __ws.total, &mut __only.acc),
                [__first, __second, __rest @ ..] => {
                    for ((__t, __a), __b) in __ws
                        .total
                        .iter_mut()
                        .zip(&__first.acc)
                        .zip(&__second.acc)
                    {
                        *__t = *__a + *__b;
                    }
                    for __part in __rest {
                        for (__t, __a) in __ws.total.iter_mut().zip(&__part.acc) {
                            *__t += *__a;
                        }
                    }
                }
                [] => {}
            }
            Ok(__loss * __scale)
        }
        /// The loss and gradient over a batch, one sample per row, combined by the
        /// network's `batch` rule. Wrong column or row counts are an `Err`.
        pub fn gradient_batch(
            p_: &Params,
            p: ::chainrule::ndarray::ArrayView2<'_, f64>,
            g: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            LATEX_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            None_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            PARAMS_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            z_0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            h_values: ::chainrule::ndarray::ArrayView2<'_, f64>,
            tmp0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ix_k: ::chainrule::ndarray::ArrayView2<'_, f64>,
            acc: ::chainrule::ndarray::ArrayView2<'_, f64>,
            lr: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ws: ::chainrule::ndarray::ArrayView2<'_, f64>,
            data: ::chainrule::ndarray::ArrayView2<'_, f64>,
            params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            Params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            F: ::chainrule::ndarray::ArrayView2<'_, f64>,
            H: ::chainrule::ndarray::ArrayView2<'_, f64>,
            scale: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_into_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            evaluate_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            sgd_step_: ::chainrule::ndarray::ArrayView2<'_, f64>,
        ) -> Result<(F, Params), ::chainrule::runtime::ShapeError> {
            let mut __ws = BatchWorkspace::new();
            let mut __g = Params::boxed_zeros();
            let __loss = gradient_batch_into(
                p_,
                p,
                g,
                gradient_,
                LATEX_,
                None_,
                PARAMS_,
                z_0,
                h_values,
                tmp0,
                ix_k,
                acc,
                lr,
                ws,
                data,
                params,
                Params,
                F,
                H,
                scale,
                gradient_into_,
                evaluate_,
                sgd_step_,
                &mut __ws,
                &mut __g,
            )?;
            Ok((__loss, *__g))
        }
        /// [`gradient_batch`] into `g`, reusing the buffers of `ws`: no allocation once `ws`
        /// has seen a batch this large. Returns the loss.
        pub fn gradient_batch_into(
            p_: &Params,
            p: ::chainrule::ndarray::ArrayView2<'_, f64>,
            g: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            LATEX_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            None_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            PARAMS_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            z_0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            h_values: ::chainrule::ndarray::ArrayView2<'_, f64>,
            tmp0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ix_k: ::chainrule::ndarray::ArrayView2<'_, f64>,
            acc: ::chainrule::ndarray::ArrayView2<'_, f64>,
            lr: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ws: ::chainrule::ndarray::ArrayView2<'_, f64>,
            data: ::chainrule::ndarray::ArrayView2<'_, f64>,
            params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            Params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            F: ::chainrule::ndarray::ArrayView2<'_, f64>,
            H: ::chainrule::ndarray::ArrayView2<'_, f64>,
            scale: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_into_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            evaluate_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            sgd_step_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ws_: &mut BatchWorkspace,
            g_: &mut Params,
        ) -> Result<F, ::chainrule::runtime::ShapeError> {
            let __loss = __accumulate(
                p_,
                p,
                g,
                gradient_,
                LATEX_,
                None_,
                PARAMS_,
                z_0,
                h_values,
                tmp0,
                ix_k,
                acc,
                lr,
                ws,
                data,
                params,
                Params,
                F,
                H,
                scale,
                gradient_into_,
                evaluate_,
                sgd_step_,
                ws_,
            )?;
            let __total = &ws_.total;
            g_.W1.as_flattened_mut().copy_from_slice(&__total[0..6]);
            g_.W2.as_flattened_mut().copy_from_slice(&__total[6..12]);
            g_.W3.as_flattened_mut().copy_from_slice(&__total[12..18]);
            g_.W4.as_flattened_mut().copy_from_slice(&__total[18..24]);
            g_.b1.copy_from_slice(&__total[24..27]);
            g_.W5.as_flattened_mut().copy_from_slice(&__total[27..33]);
            Ok(__loss)
        }
        /// [`gradient_batch`] over flat arguments, for generic callers (tests, benchmarks):
        /// parameters in [`Params::flat`] order, and one row per sample holding every input
        /// and target element in declaration order. Returns the gradient in the same order.
        pub fn gradient_batch_flat(
            params_: &[F],
            data_: ::chainrule::ndarray::ArrayView2<'_, F>,
            ws_: &mut BatchWorkspace,
        ) -> Result<(F, Vec<F>), ::chainrule::runtime::ShapeError> {
            let __values: &[F; 33] = params_
                .try_into()
                .map_err(|_| ::chainrule::runtime::ShapeError::new(
                    "params",
                    format!("{} elements", 33),
                    format!("{} elements", params_.len()),
                ))?;
            if data_.ncols() != 27 {
                return Err(
                    ::chainrule::runtime::ShapeError::new(
                        "data",
                        format!("{} columns", 27),
                        format!("{} columns", data_.ncols()),
                    ),
                );
            }
            let mut __p = Params::boxed_zeros();
            __p.set_flat(__values);
            let p = ::chainrule::parallel::columns(data_, 0, 2);
            let g = ::chainrule::parallel::columns(data_, 2, 4);
            let gradient_ = ::chainrule::parallel::columns(data_, 4, 6);
            let LATEX_ = ::chainrule::parallel::columns(data_, 6, 8);
            let None_ = ::chainrule::parallel::columns(data_, 8, 9);
            let PARAMS_ = ::chainrule::parallel::columns(data_, 9, 10);
            let z_0 = ::chainrule::parallel::columns(data_, 10, 11);
            let h_values = ::chainrule::parallel::columns(data_, 11, 12);
            let tmp0 = ::chainrule::parallel::columns(data_, 12, 13);
            let ix_k = ::chainrule::parallel::columns(data_, 13, 14);
            let acc = ::chainrule::parallel::columns(data_, 14, 15);
            let lr = ::chainrule::parallel::columns(data_, 15, 16);
            let ws = ::chainrule::parallel::columns(data_, 16, 17);
            let data = ::chainrule::parallel::columns(data_, 17, 18);
            let params = ::chainrule::parallel::columns(data_, 18, 19);
            let Params = ::chainrule::parallel::columns(data_, 19, 20);
            let F = ::chainrule::parallel::columns(data_, 20, 21);
            let H = ::chainrule::parallel::columns(data_, 21, 22);
            let scale = ::chainrule::parallel::columns(data_, 22, 23);
            let gradient_into_ = ::chainrule::parallel::columns(data_, 23, 25);
            let evaluate_ = ::chainrule::parallel::columns(data_, 25, 26);
            let sgd_step_ = ::chainrule::parallel::columns(data_, 26, 27);
            let __loss = __accumulate(
                &__p,
                p,
                g,
                gradient_,
                LATEX_,
                None_,
                PARAMS_,
                z_0,
                h_values,
                tmp0,
                ix_k,
                acc,
                lr,
                ws,
                data,
                params,
                Params,
                F,
                H,
                scale,
                gradient_into_,
                evaluate_,
                sgd_step_,
                ws_,
            )?;
            Ok((__loss, ws_.total.clone()))
        }
        /// One gradient-descent step over a batch, the gradient combined by the network's
        /// `batch` rule; returns the loss before it.
        pub fn sgd_step_batch(
            p_: &mut Params,
            p: ::chainrule::ndarray::ArrayView2<'_, f64>,
            g: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            LATEX_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            None_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            PARAMS_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            z_0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            h_values: ::chainrule::ndarray::ArrayView2<'_, f64>,
            tmp0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ix_k: ::chainrule::ndarray::ArrayView2<'_, f64>,
            acc: ::chainrule::ndarray::ArrayView2<'_, f64>,
            lr: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ws: ::chainrule::ndarray::ArrayView2<'_, f64>,
            data: ::chainrule::ndarray::ArrayView2<'_, f64>,
            params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            Params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            F: ::chainrule::ndarray::ArrayView2<'_, f64>,
            H: ::chainrule::ndarray::ArrayView2<'_, f64>,
            scale: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_into_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            evaluate_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            sgd_step_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            lr_: F,
        ) -> Result<F, ::chainrule::runtime::ShapeError> {
            let mut __ws = BatchWorkspace::new();
            sgd_step_batch_into(
                p_,
                p,
                g,
                gradient_,
                LATEX_,
                None_,
                PARAMS_,
                z_0,
                h_values,
                tmp0,
                ix_k,
                acc,
                lr,
                ws,
                data,
                params,
                Params,
                F,
                H,
                scale,
                gradient_into_,
                evaluate_,
                sgd_step_,
                lr_,
                &mut __ws,
            )
        }
        /// [`sgd_step_batch`] reusing the buffers of `ws`; `p` is updated in place.
        pub fn sgd_step_batch_into(
            p_: &mut Params,
            p: ::chainrule::ndarray::ArrayView2<'_, f64>,
            g: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            LATEX_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            None_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            PARAMS_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            z_0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            h_values: ::chainrule::ndarray::ArrayView2<'_, f64>,
            tmp0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ix_k: ::chainrule::ndarray::ArrayView2<'_, f64>,
            acc: ::chainrule::ndarray::ArrayView2<'_, f64>,
            lr: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ws: ::chainrule::ndarray::ArrayView2<'_, f64>,
            data: ::chainrule::ndarray::ArrayView2<'_, f64>,
            params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            Params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            F: ::chainrule::ndarray::ArrayView2<'_, f64>,
            H: ::chainrule::ndarray::ArrayView2<'_, f64>,
            scale: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_into_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            evaluate_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            sgd_step_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            lr_: F,
            ws_: &mut BatchWorkspace,
        ) -> Result<F, ::chainrule::runtime::ShapeError> {
            let __loss = __accumulate(
                p_,
                p,
                g,
                gradient_,
                LATEX_,
                None_,
                PARAMS_,
                z_0,
                h_values,
                tmp0,
                ix_k,
                acc,
                lr,
                ws,
                data,
                params,
                Params,
                F,
                H,
                scale,
                gradient_into_,
                evaluate_,
                sgd_step_,
                ws_,
            )?;
            let __total = &ws_.total;
            for (__w, __d) in p_.W1.as_flattened_mut().iter_mut().zip(&__total[0..6]) {
                *__w -= lr_ * *__d;
            }
            for (__w, __d) in p_.W2.as_flattened_mut().iter_mut().zip(&__total[6..12]) {
                *__w -= lr_ * *__d;
            }
            for (__w, __d) in p_.W3.as_flattened_mut().iter_mut().zip(&__total[12..18]) {
                *__w -= lr_ * *__d;
            }
            for (__w, __d) in p_.W4.as_flattened_mut().iter_mut().zip(&__total[18..24]) {
                *__w -= lr_ * *__d;
            }
            for (__w, __d) in p_.b1.iter_mut().zip(&__total[24..27]) {
                *__w -= lr_ * *__d;
            }
            for (__w, __d) in p_.W5.as_flattened_mut().iter_mut().zip(&__total[27..33]) {
                *__w -= lr_ * *__d;
            }
            Ok(__loss)
        }
        /// One step of gradient descent with momentum ([`momentum_step`]) over a batch,
        /// the gradient combined by the network's `batch` rule; returns the loss before it.
        pub fn momentum_step_batch(
            p_: &mut Params,
            s: &mut Momentum,
            p: ::chainrule::ndarray::ArrayView2<'_, f64>,
            g: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            LATEX_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            None_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            PARAMS_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            z_0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            h_values: ::chainrule::ndarray::ArrayView2<'_, f64>,
            tmp0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ix_k: ::chainrule::ndarray::ArrayView2<'_, f64>,
            acc: ::chainrule::ndarray::ArrayView2<'_, f64>,
            lr: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ws: ::chainrule::ndarray::ArrayView2<'_, f64>,
            data: ::chainrule::ndarray::ArrayView2<'_, f64>,
            params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            Params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            F: ::chainrule::ndarray::ArrayView2<'_, f64>,
            H: ::chainrule::ndarray::ArrayView2<'_, f64>,
            scale: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_into_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            evaluate_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            sgd_step_: ::chainrule::ndarray::ArrayView2<'_, f64>,
        ) -> Result<F, ::chainrule::runtime::ShapeError> {
            let mut __ws = BatchWorkspace::new();
            momentum_step_batch_into(
                p_,
                s,
                p,
                g,
                gradient_,
                LATEX_,
                None_,
                PARAMS_,
                z_0,
                h_values,
                tmp0,
                ix_k,
                acc,
                lr,
                ws,
                data,
                params,
                Params,
                F,
                H,
                scale,
                gradient_into_,
                evaluate_,
                sgd_step_,
                &mut __ws,
            )
        }
        /// [`momentum_step_batch`] reusing the buffers of `ws`. On an `Err` neither `p` nor
        /// `s` changes.
        pub fn momentum_step_batch_into(
            p_: &mut Params,
            s: &mut Momentum,
            p: ::chainrule::ndarray::ArrayView2<'_, f64>,
            g: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            LATEX_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            None_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            PARAMS_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            z_0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            h_values: ::chainrule::ndarray::ArrayView2<'_, f64>,
            tmp0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ix_k: ::chainrule::ndarray::ArrayView2<'_, f64>,
            acc: ::chainrule::ndarray::ArrayView2<'_, f64>,
            lr: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ws: ::chainrule::ndarray::ArrayView2<'_, f64>,
            data: ::chainrule::ndarray::ArrayView2<'_, f64>,
            params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            Params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            F: ::chainrule::ndarray::ArrayView2<'_, f64>,
            H: ::chainrule::ndarray::ArrayView2<'_, f64>,
            scale: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_into_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            evaluate_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            sgd_step_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ws_: &mut BatchWorkspace,
        ) -> Result<F, ::chainrule::runtime::ShapeError> {
            let __loss = __accumulate(
                p_,
                p,
                g,
                gradient_,
                LATEX_,
                None_,
                PARAMS_,
                z_0,
                h_values,
                tmp0,
                ix_k,
                acc,
                lr,
                ws,
                data,
                params,
                Params,
                F,
                H,
                scale,
                gradient_into_,
                evaluate_,
                sgd_step_,
                ws_,
            )?;
            let __total = &ws_.total;
            let __k = ::chainrule::runtime::MomentumStep {
                lr: s.lr,
                mu: s.mu,
            };
            for ((__w, __b), __d) in p_
                .W1
                .as_flattened_mut()
                .iter_mut()
                .zip(s.buf.W1.as_flattened_mut().iter_mut())
                .zip(&__total[0..6])
            {
                ::chainrule::runtime::momentum_update(__w, __b, *__d, &__k);
            }
            for ((__w, __b), __d) in p_
                .W2
                .as_flattened_mut()
                .iter_mut()
                .zip(s.buf.W2.as_flattened_mut().iter_mut())
                .zip(&__total[6..12])
            {
                ::chainrule::runtime::momentum_update(__w, __b, *__d, &__k);
            }
            for ((__w, __b), __d) in p_
                .W3
                .as_flattened_mut()
                .iter_mut()
                .zip(s.buf.W3.as_flattened_mut().iter_mut())
                .zip(&__total[12..18])
            {
                ::chainrule::runtime::momentum_update(__w, __b, *__d, &__k);
            }
            for ((__w, __b), __d) in p_
                .W4
                .as_flattened_mut()
                .iter_mut()
                .zip(s.buf.W4.as_flattened_mut().iter_mut())
                .zip(&__total[18..24])
            {
                ::chainrule::runtime::momentum_update(__w, __b, *__d, &__k);
            }
            for ((__w, __b), __d) in p_
                .b1
                .iter_mut()
                .zip(s.buf.b1.iter_mut())
                .zip(&__total[24..27])
            {
                ::chainrule::runtime::momentum_update(__w, __b, *__d, &__k);
            }
            for ((__w, __b), __d) in p_
                .W5
                .as_flattened_mut()
                .iter_mut()
                .zip(s.buf.W5.as_flattened_mut().iter_mut())
                .zip(&__total[27..33])
            {
                ::chainrule::runtime::momentum_update(__w, __b, *__d, &__k);
            }
            Ok(__loss)
        }
        /// One Adam step ([`adam_step`]) over a batch, the gradient combined by the
        /// network's `batch` rule; returns the loss before it.
        pub fn adam_step_batch(
            p_: &mut Params,
            s: &mut Adam,
            p: ::chainrule::ndarray::ArrayView2<'_, f64>,
            g: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            LATEX_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            None_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            PARAMS_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            z_0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            h_values: ::chainrule::ndarray::ArrayView2<'_, f64>,
            tmp0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ix_k: ::chainrule::ndarray::ArrayView2<'_, f64>,
            acc: ::chainrule::ndarray::ArrayView2<'_, f64>,
            lr: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ws: ::chainrule::ndarray::ArrayView2<'_, f64>,
            data: ::chainrule::ndarray::ArrayView2<'_, f64>,
            params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            Params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            F: ::chainrule::ndarray::ArrayView2<'_, f64>,
            H: ::chainrule::ndarray::ArrayView2<'_, f64>,
            scale: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_into_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            evaluate_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            sgd_step_: ::chainrule::ndarray::ArrayView2<'_, f64>,
        ) -> Result<F, ::chainrule::runtime::ShapeError> {
            let mut __ws = BatchWorkspace::new();
            adam_step_batch_into(
                p_,
                s,
                p,
                g,
                gradient_,
                LATEX_,
                None_,
                PARAMS_,
                z_0,
                h_values,
                tmp0,
                ix_k,
                acc,
                lr,
                ws,
                data,
                params,
                Params,
                F,
                H,
                scale,
                gradient_into_,
                evaluate_,
                sgd_step_,
                &mut __ws,
            )
        }
        /// [`adam_step_batch`] reusing the buffers of `ws`. On an `Err` neither `p` nor `s`
        /// changes.
        pub fn adam_step_batch_into(
            p_: &mut Params,
            s: &mut Adam,
            p: ::chainrule::ndarray::ArrayView2<'_, f64>,
            g: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            LATEX_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            None_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            PARAMS_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            z_0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            h_values: ::chainrule::ndarray::ArrayView2<'_, f64>,
            tmp0: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ix_k: ::chainrule::ndarray::ArrayView2<'_, f64>,
            acc: ::chainrule::ndarray::ArrayView2<'_, f64>,
            lr: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ws: ::chainrule::ndarray::ArrayView2<'_, f64>,
            data: ::chainrule::ndarray::ArrayView2<'_, f64>,
            params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            Params: ::chainrule::ndarray::ArrayView2<'_, f64>,
            F: ::chainrule::ndarray::ArrayView2<'_, f64>,
            H: ::chainrule::ndarray::ArrayView2<'_, f64>,
            scale: ::chainrule::ndarray::ArrayView2<'_, f64>,
            gradient_into_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            evaluate_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            sgd_step_: ::chainrule::ndarray::ArrayView2<'_, f64>,
            ws_: &mut BatchWorkspace,
        ) -> Result<F, ::chainrule::runtime::ShapeError> {
            let __loss = __accumulate(
                p_,
                p,
                g,
                gradient_,
                LATEX_,
                None_,
                PARAMS_,
                z_0,
                h_values,
                tmp0,
                ix_k,
                acc,
                lr,
                ws,
                data,
                params,
                Params,
                F,
                H,
                scale,
                gradient_into_,
                evaluate_,
                sgd_step_,
                ws_,
            )?;
            let __total = &ws_.total;
            s.t = s.t.saturating_add(1);
            let __k = ::chainrule::runtime::AdamStep::with_powers(
                s.lr,
                s.beta1,
                s.beta2,
                s.eps,
                s.weight_decay,
                s.powers.at(s.beta1, s.beta2, s.t),
            );
            for (((__w, __m), __v), __d) in p_
                .W1
                .as_flattened_mut()
                .iter_mut()
                .zip(s.m.W1.as_flattened_mut().iter_mut())
                .zip(s.v.W1.as_flattened_mut().iter_mut())
                .zip(&__total[0..6])
            {
                ::chainrule::runtime::adam_update(__w, __m, __v, *__d, &__k);
            }
            for (((__w, __m), __v), __d) in p_
                .W2
                .as_flattened_mut()
                .iter_mut()
                .zip(s.m.W2.as_flattened_mut().iter_mut())
                .zip(s.v.W2.as_flattened_mut().iter_mut())
                .zip(&__total[6..12])
            {
                ::chainrule::runtime::adam_update(__w, __m, __v, *__d, &__k);
            }
            for (((__w, __m), __v), __d) in p_
                .W3
                .as_flattened_mut()
                .iter_mut()
                .zip(s.m.W3.as_flattened_mut().iter_mut())
                .zip(s.v.W3.as_flattened_mut().iter_mut())
                .zip(&__total[12..18])
            {
                ::chainrule::runtime::adam_update(__w, __m, __v, *__d, &__k);
            }
            for (((__w, __m), __v), __d) in p_
                .W4
                .as_flattened_mut()
                .iter_mut()
                .zip(s.m.W4.as_flattened_mut().iter_mut())
                .zip(s.v.W4.as_flattened_mut().iter_mut())
                .zip(&__total[18..24])
            {
                ::chainrule::runtime::adam_update(__w, __m, __v, *__d, &__k);
            }
            for (((__w, __m), __v), __d) in p_
                .b1
                .iter_mut()
                .zip(s.m.b1.iter_mut())
                .zip(s.v.b1.iter_mut())
                .zip(&__total[24..27])
            {
                ::chainrule::runtime::adam_update(__w, __m, __v, *__d, &__k);
            }
            for (((__w, __m), __v), __d) in p_
                .W5
                .as_flattened_mut()
                .iter_mut()
                .zip(s.m.W5.as_flattened_mut().iter_mut())
                .zip(s.v.W5.as_flattened_mut().iter_mut())
                .zip(&__total[27..33])
            {
                ::chainrule::runtime::adam_update(__w, __m, __v, *__d, &__k);
            }
            Ok(__loss)
        }
        /// Compares a hand-written gradient function (same signature as [`gradient`]) with
        /// the derived one at one sample: which elements differ, and whether by a sign
        /// flip or a constant factor.
        pub fn compare_gradient<H>(
            hand: H,
            p_: &Params,
            p: &[f64; 2],
            g: &[f64; 2],
            gradient_: &[f64; 2],
            LATEX_: &[f64; 2],
            None_: &[f64; 1],
            PARAMS_: &[f64; 1],
            z_0: &[f64; 1],
            h_values: &[f64; 1],
            tmp0: &[f64; 1],
            ix_k: &[f64; 1],
            acc: &[f64; 1],
            lr: &[f64; 1],
            ws: &[f64; 1],
            data: &[f64; 1],
            params: &[f64; 1],
            Params: &[f64; 1],
            F: &[f64; 1],
            H: &[f64; 1],
            scale: &[f64; 1],
            gradient_into_: &[f64; 2],
            evaluate_: &[f64; 1],
            sgd_step_: &[f64; 1],
            tol: F,
        ) -> ::chainrule::runtime::GradientDiff
        where
            H: Fn(
                &Params,
                &[f64; 2],
                &[f64; 2],
                &[f64; 2],
                &[f64; 2],
                &[f64; 1],
                &[f64; 1],
                &[f64; 1],
                &[f64; 1],
                &[f64; 1],
                &[f64; 1],
                &[f64; 1],
                &[f64; 1],
                &[f64; 1],
                &[f64; 1],
                &[f64; 1],
                &[f64; 1],
                &[f64; 1],
                &[f64; 1],
                &[f64; 1],
                &[f64; 2],
                &[f64; 1],
                &[f64; 1],
            ) -> (F, Params),
        {
            let (derived_loss, derived) = gradient(
                p_,
                p,
                g,
                gradient_,
                LATEX_,
                None_,
                PARAMS_,
                z_0,
                h_values,
                tmp0,
                ix_k,
                acc,
                lr,
                ws,
                data,
                params,
                Params,
                F,
                H,
                scale,
                gradient_into_,
                evaluate_,
                sgd_step_,
            );
            let (hand_loss, hand_gradient) = hand(
                p_,
                p,
                g,
                gradient_,
                LATEX_,
                None_,
                PARAMS_,
                z_0,
                h_values,
                tmp0,
                ix_k,
                acc,
                lr,
                ws,
                data,
                params,
                Params,
                F,
                H,
                scale,
                gradient_into_,
                evaluate_,
                sgd_step_,
            );
            let derived: Vec<f64> = derived.to_vec().iter().map(|v| (*v).into()).collect();
            let hand_values: Vec<f64> = hand_gradient
                .to_vec()
                .iter()
                .map(|v| (*v).into())
                .collect();
            ::chainrule::runtime::GradientDiff::compare_by(
                PARAMS,
                |i| Params::element_name(i).into(),
                &derived,
                &hand_values,
                tol.into(),
                (derived_loss.into(), hand_loss.into()),
            )
        }
    }
    /// The whole derivation, as `chainrule latex` prints it.
    pub const LATEX: &str = "\\begin{align*}\n\\delta_{z_{0}} = \\frac{\\partial L}{\\partial z_{0}} &= z_{0} - \\mathrm{gradient}_{\\mathrm{into},0} + \\mathrm{evaluate}_{0} \\mathrm{sgd}_{\\mathrm{step},0} \\\\\n\\delta_{z_{1}} = \\frac{\\partial L}{\\partial z_{1}} &= z_{1} - \\mathrm{gradient}_{\\mathrm{into},1} + \\mathrm{evaluate}_{0} \\mathrm{sgd}_{\\mathrm{step},0}\n\\end{align*}\n\\begin{align*}\n\\delta_{s_{0}} = \\frac{\\partial L}{\\partial s_{0}} &= \\delta_{z_{0}} \\, \\frac{\\partial z_{0}}{\\partial s_{0}} + \\delta_{z_{1}} \\, \\frac{\\partial z_{1}}{\\partial s_{0}} \\\\\n&= \\delta_{z_{0}} + \\delta_{z_{1}}\n\\end{align*}\n\\begin{align*}\n\\delta_{h_{0}} = \\frac{\\partial L}{\\partial h_{0}} &= \\delta_{z_{0}} \\, \\frac{\\partial z_{0}}{\\partial h_{0}} + \\delta_{z_{1}} \\, \\frac{\\partial z_{1}}{\\partial h_{0}} \\\\\n&= \\delta_{z_{0}} w^{(5)}_{00} + \\delta_{z_{1}} w^{(5)}_{10} \\\\\n\\delta_{h_{1}} = \\frac{\\partial L}{\\partial h_{1}} &= \\delta_{z_{0}} \\, \\frac{\\partial z_{0}}{\\partial h_{1}} + \\delta_{z_{1}} \\, \\frac{\\partial z_{1}}{\\partial h_{1}} \\\\\n&= \\delta_{z_{0}} w^{(5)}_{01} + \\delta_{z_{1}} w^{(5)}_{11} \\\\\n\\delta_{h_{2}} = \\frac{\\partial L}{\\partial h_{2}} &= \\delta_{z_{0}} \\, \\frac{\\partial z_{0}}{\\partial h_{2}} + \\delta_{z_{1}} \\, \\frac{\\partial z_{1}}{\\partial h_{2}} \\\\\n&= \\delta_{z_{0}} w^{(5)}_{02} + \\delta_{z_{1}} w^{(5)}_{12}\n\\end{align*}\n\\begin{align*}\n\\frac{\\partial L}{\\partial w^{(1)}_{00}} &= \\delta_{h_{0}} \\, \\frac{\\partial h_{0}}{\\partial w^{(1)}_{00}} \\\\\n&= \\delta_{h_{0}} \\left(1 - h_{0}^{2}\\right) p_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(1)}_{01}} &= \\delta_{h_{0}} \\, \\frac{\\partial h_{0}}{\\partial w^{(1)}_{01}} \\\\\n&= \\delta_{h_{0}} \\left(1 - h_{0}^{2}\\right) p_{1} \\\\\n\\frac{\\partial L}{\\partial w^{(1)}_{10}} &= \\delta_{h_{1}} \\, \\frac{\\partial h_{1}}{\\partial w^{(1)}_{10}} \\\\\n&= \\delta_{h_{1}} \\left(1 - h_{1}^{2}\\right) p_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(1)}_{11}} &= \\delta_{h_{1}} \\, \\frac{\\partial h_{1}}{\\partial w^{(1)}_{11}} \\\\\n&= \\delta_{h_{1}} \\left(1 - h_{1}^{2}\\right) p_{1} \\\\\n\\frac{\\partial L}{\\partial w^{(1)}_{20}} &= \\delta_{h_{2}} \\, \\frac{\\partial h_{2}}{\\partial w^{(1)}_{20}} \\\\\n&= \\delta_{h_{2}} \\left(1 - h_{2}^{2}\\right) p_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(1)}_{21}} &= \\delta_{h_{2}} \\, \\frac{\\partial h_{2}}{\\partial w^{(1)}_{21}} \\\\\n&= \\delta_{h_{2}} \\left(1 - h_{2}^{2}\\right) p_{1}\n\\end{align*}\n\\begin{align*}\n\\frac{\\partial L}{\\partial w^{(2)}_{00}} &= \\delta_{h_{0}} \\, \\frac{\\partial h_{0}}{\\partial w^{(2)}_{00}} \\\\\n&= \\delta_{h_{0}} \\left(1 - h_{0}^{2}\\right) g_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(2)}_{01}} &= \\delta_{h_{0}} \\, \\frac{\\partial h_{0}}{\\partial w^{(2)}_{01}} \\\\\n&= \\delta_{h_{0}} \\left(1 - h_{0}^{2}\\right) g_{1} \\\\\n\\frac{\\partial L}{\\partial w^{(2)}_{10}} &= \\delta_{h_{1}} \\, \\frac{\\partial h_{1}}{\\partial w^{(2)}_{10}} \\\\\n&= \\delta_{h_{1}} \\left(1 - h_{1}^{2}\\right) g_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(2)}_{11}} &= \\delta_{h_{1}} \\, \\frac{\\partial h_{1}}{\\partial w^{(2)}_{11}} \\\\\n&= \\delta_{h_{1}} \\left(1 - h_{1}^{2}\\right) g_{1} \\\\\n\\frac{\\partial L}{\\partial w^{(2)}_{20}} &= \\delta_{h_{2}} \\, \\frac{\\partial h_{2}}{\\partial w^{(2)}_{20}} \\\\\n&= \\delta_{h_{2}} \\left(1 - h_{2}^{2}\\right) g_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(2)}_{21}} &= \\delta_{h_{2}} \\, \\frac{\\partial h_{2}}{\\partial w^{(2)}_{21}} \\\\\n&= \\delta_{h_{2}} \\left(1 - h_{2}^{2}\\right) g_{1}\n\\end{align*}\n\\begin{align*}\n\\frac{\\partial L}{\\partial w^{(3)}_{00}} &= \\delta_{h_{0}} \\, \\frac{\\partial h_{0}}{\\partial w^{(3)}_{00}} \\\\\n&= \\delta_{h_{0}} \\left(1 - h_{0}^{2}\\right) \\mathrm{gradient}_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(3)}_{01}} &= \\delta_{h_{0}} \\, \\frac{\\partial h_{0}}{\\partial w^{(3)}_{01}} \\\\\n&= \\delta_{h_{0}} \\left(1 - h_{0}^{2}\\right) \\mathrm{gradient}_{1} \\\\\n\\frac{\\partial L}{\\partial w^{(3)}_{10}} &= \\delta_{h_{1}} \\, \\frac{\\partial h_{1}}{\\partial w^{(3)}_{10}} \\\\\n&= \\delta_{h_{1}} \\left(1 - h_{1}^{2}\\right) \\mathrm{gradient}_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(3)}_{11}} &= \\delta_{h_{1}} \\, \\frac{\\partial h_{1}}{\\partial w^{(3)}_{11}} \\\\\n&= \\delta_{h_{1}} \\left(1 - h_{1}^{2}\\right) \\mathrm{gradient}_{1} \\\\\n\\frac{\\partial L}{\\partial w^{(3)}_{20}} &= \\delta_{h_{2}} \\, \\frac{\\partial h_{2}}{\\partial w^{(3)}_{20}} \\\\\n&= \\delta_{h_{2}} \\left(1 - h_{2}^{2}\\right) \\mathrm{gradient}_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(3)}_{21}} &= \\delta_{h_{2}} \\, \\frac{\\partial h_{2}}{\\partial w^{(3)}_{21}} \\\\\n&= \\delta_{h_{2}} \\left(1 - h_{2}^{2}\\right) \\mathrm{gradient}_{1}\n\\end{align*}\n\\begin{align*}\n\\frac{\\partial L}{\\partial w^{(4)}_{00}} &= \\delta_{h_{0}} \\, \\frac{\\partial h_{0}}{\\partial w^{(4)}_{00}} \\\\\n&= \\delta_{h_{0}} \\left(1 - h_{0}^{2}\\right) \\mathrm{LATEX}_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(4)}_{01}} &= \\delta_{h_{0}} \\, \\frac{\\partial h_{0}}{\\partial w^{(4)}_{01}} \\\\\n&= \\delta_{h_{0}} \\left(1 - h_{0}^{2}\\right) \\mathrm{LATEX}_{1} \\\\\n\\frac{\\partial L}{\\partial w^{(4)}_{10}} &= \\delta_{h_{1}} \\, \\frac{\\partial h_{1}}{\\partial w^{(4)}_{10}} \\\\\n&= \\delta_{h_{1}} \\left(1 - h_{1}^{2}\\right) \\mathrm{LATEX}_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(4)}_{11}} &= \\delta_{h_{1}} \\, \\frac{\\partial h_{1}}{\\partial w^{(4)}_{11}} \\\\\n&= \\delta_{h_{1}} \\left(1 - h_{1}^{2}\\right) \\mathrm{LATEX}_{1} \\\\\n\\frac{\\partial L}{\\partial w^{(4)}_{20}} &= \\delta_{h_{2}} \\, \\frac{\\partial h_{2}}{\\partial w^{(4)}_{20}} \\\\\n&= \\delta_{h_{2}} \\left(1 - h_{2}^{2}\\right) \\mathrm{LATEX}_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(4)}_{21}} &= \\delta_{h_{2}} \\, \\frac{\\partial h_{2}}{\\partial w^{(4)}_{21}} \\\\\n&= \\delta_{h_{2}} \\left(1 - h_{2}^{2}\\right) \\mathrm{LATEX}_{1}\n\\end{align*}\n\\begin{align*}\n\\frac{\\partial L}{\\partial b^{(1)}_{0}} &= \\delta_{h_{0}} \\, \\frac{\\partial h_{0}}{\\partial b^{(1)}_{0}} \\\\\n&= \\delta_{h_{0}} \\left(1 - h_{0}^{2}\\right) \\\\\n\\frac{\\partial L}{\\partial b^{(1)}_{1}} &= \\delta_{h_{1}} \\, \\frac{\\partial h_{1}}{\\partial b^{(1)}_{1}} \\\\\n&= \\delta_{h_{1}} \\left(1 - h_{1}^{2}\\right) \\\\\n\\frac{\\partial L}{\\partial b^{(1)}_{2}} &= \\delta_{h_{2}} \\, \\frac{\\partial h_{2}}{\\partial b^{(1)}_{2}} \\\\\n&= \\delta_{h_{2}} \\left(1 - h_{2}^{2}\\right)\n\\end{align*}\n\\begin{align*}\n\\frac{\\partial L}{\\partial w^{(5)}_{00}} &= \\delta_{z_{0}} \\, \\frac{\\partial z_{0}}{\\partial w^{(5)}_{00}} \\\\\n&= \\delta_{z_{0}} h_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(5)}_{01}} &= \\delta_{z_{0}} \\, \\frac{\\partial z_{0}}{\\partial w^{(5)}_{01}} \\\\\n&= \\delta_{z_{0}} h_{1} \\\\\n\\frac{\\partial L}{\\partial w^{(5)}_{02}} &= \\delta_{z_{0}} \\, \\frac{\\partial z_{0}}{\\partial w^{(5)}_{02}} \\\\\n&= \\delta_{z_{0}} h_{2} \\\\\n\\frac{\\partial L}{\\partial w^{(5)}_{10}} &= \\delta_{z_{1}} \\, \\frac{\\partial z_{1}}{\\partial w^{(5)}_{10}} \\\\\n&= \\delta_{z_{1}} h_{0} \\\\\n\\frac{\\partial L}{\\partial w^{(5)}_{11}} &= \\delta_{z_{1}} \\, \\frac{\\partial z_{1}}{\\partial w^{(5)}_{11}} \\\\\n&= \\delta_{z_{1}} h_{1} \\\\\n\\frac{\\partial L}{\\partial w^{(5)}_{12}} &= \\delta_{z_{1}} \\, \\frac{\\partial z_{1}}{\\partial w^{(5)}_{12}} \\\\\n&= \\delta_{z_{1}} h_{2}\n\\end{align*}\n";
}
