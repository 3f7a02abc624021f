//! The built-in element-wise functions: names, numerically stable values, and derivatives.

/// A built-in element-wise function, plus the helpers derivatives need (`step`, `sign`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Builtin {
    /// `1 / (1 + e^-z)`
    Sigmoid,
    /// `tanh z`
    Tanh,
    /// `max(z, 0)`
    Relu,
    /// The identity; removed when lowering.
    Linear,
    /// `sin z`
    Sin,
    /// `cos z`
    Cos,
    /// `e^z`
    Exp,
    /// `ln z`
    Log,
    /// `ln(1 + e^z)`
    Softplus,
    /// `sqrt z`
    Sqrt,
    /// `|z|`
    Abs,
    /// The error function `2/sqrt(pi) int_0^z e^{-t^2} dt` (through `libm`).
    Erf,
    /// `1` for `z > 0`, else `0`: the derivative of relu (not writable in `.nn` files).
    Step,
    /// `-1`, `0` or `1`: the derivative of abs (not writable in `.nn` files).
    Sign,
    /// `log(sigmoid(z))`, computed as `-softplus(-z)`: what `log(sigmoid(z))` and
    /// `log(1 - sigmoid(z))` become, so that they stay finite where sigmoid underflows.
    LogSigmoid,
}

/// The functions a `.nn` file may call, with their names.
pub const USER_VISIBLE: [(&str, Builtin); 12] = [
    ("sigmoid", Builtin::Sigmoid),
    ("tanh", Builtin::Tanh),
    ("relu", Builtin::Relu),
    ("linear", Builtin::Linear),
    ("sin", Builtin::Sin),
    ("cos", Builtin::Cos),
    ("exp", Builtin::Exp),
    ("log", Builtin::Log),
    ("softplus", Builtin::Softplus),
    ("sqrt", Builtin::Sqrt),
    ("abs", Builtin::Abs),
    ("erf", Builtin::Erf),
];

/// A built-in function of two scalars: `maximum` and `minimum` (element-wise in `.nn`
/// files), and the Iverson brackets their derivatives are written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pairwise {
    /// `max(a, b)`: `a` where `a >= b`, so a tie is `a` (the side the derivative goes to).
    Maximum,
    /// `min(a, b)`: `a` where `a <= b`.
    Minimum,
    /// `[a >= b]`: 1 when it holds, else 0 (not writable in `.nn` files).
    AtLeast,
    /// `[a > b]`: 1 when it holds, else 0 (not writable in `.nn` files).
    Above,
}

/// The two-argument element-wise functions a `.nn` file may call.
pub const PAIRWISE_FUNCTIONS: [(&str, Pairwise); 2] = [
    ("maximum", Pairwise::Maximum),
    ("minimum", Pairwise::Minimum),
];

impl Pairwise {
    /// The two-argument function a `.nn` file calls `name`.
    pub fn from_name(name: &str) -> Option<Pairwise> {
        PAIRWISE_FUNCTIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }

    /// The name used in `.nn` files and generated code.
    pub fn name(self) -> &'static str {
        match self {
            Pairwise::Maximum => "maximum",
            Pairwise::Minimum => "minimum",
            Pairwise::AtLeast => "at_least",
            Pairwise::Above => "above",
        }
    }

    /// The value at `(a, b)`. A tie picks `a`, as the derivative does, and a NaN operand
    /// gives the other one (`a >= NaN` is false), as `f64::max` would not promise.
    pub fn eval(self, a: f64, b: f64) -> f64 {
        match self {
            Pairwise::Maximum => {
                if a >= b {
                    a
                } else {
                    b
                }
            }
            Pairwise::Minimum => {
                if a <= b {
                    a
                } else {
                    b
                }
            }
            Pairwise::AtLeast => f64::from(u8::from(a >= b)),
            Pairwise::Above => f64::from(u8::from(a > b)),
        }
    }
}

/// `pi`, the language's one built-in constant.
pub const PI_NAME: &str = "pi";

/// The value of a built-in constant.
pub fn builtin_constant(name: &str) -> Option<f64> {
    (name == PI_NAME).then_some(std::f64::consts::PI)
}

/// A built-in function of a whole vector (the second round's classification functions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VectorFn {
    /// `exp(v_k - logsumexp(v))`: a vector of len(v).
    Softmax,
    /// `v_k - logsumexp(v)`: a vector of len(v).
    LogSoftmax,
    /// `log sum_j exp(v_j)`: a scalar.
    LogSumExp,
}

/// The vector functions a `.nn` file may call, with their names.
pub const VECTOR_FUNCTIONS: [(&str, VectorFn); 3] = [
    ("softmax", VectorFn::Softmax),
    ("log_softmax", VectorFn::LogSoftmax),
    ("logsumexp", VectorFn::LogSumExp),
];

impl VectorFn {
    /// The vector function a `.nn` file calls `name`.
    pub fn from_name(name: &str) -> Option<VectorFn> {
        VECTOR_FUNCTIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }

    /// The name used in `.nn` files.
    pub fn name(self) -> &'static str {
        match self {
            VectorFn::Softmax => "softmax",
            VectorFn::LogSoftmax => "log_softmax",
            VectorFn::LogSumExp => "logsumexp",
        }
    }
}

/// Every name a `.nn` file can call as a built-in (element-wise or vector): such a name cannot
/// be redefined by a `fn` or name a value.
pub fn is_builtin_name(name: &str) -> bool {
    Builtin::from_name(name).is_some()
        || VectorFn::from_name(name).is_some()
        || Pairwise::from_name(name).is_some()
        || name == GRAD
}

/// `grad(S, v)`: the derivative of a scalar expression by a vector (checked in `check::grad`).
pub const GRAD: &str = "grad";

/// Every built-in name, for "did you mean" suggestions.
pub fn builtin_names<'a>() -> impl Iterator<Item = &'a str> {
    USER_VISIBLE
        .iter()
        .map(|(n, _)| *n)
        .chain(VECTOR_FUNCTIONS.iter().map(|(n, _)| *n))
        .chain(PAIRWISE_FUNCTIONS.iter().map(|(n, _)| *n))
        .chain(std::iter::once(GRAD))
        .chain(TENSOR_FUNCTIONS)
}

/// The built-in tensor functions (`check/infer/tensor_fns.rs` types each as the index
/// formula LANGUAGE.md gives as its meaning).
pub const TENSOR_FUNCTIONS: [&str; 6] = [
    "conv2d",
    "conv1d",
    "maxpool2d",
    "avgpool2d",
    "flatten",
    "pad",
];

/// `log sum_i exp(x_i)`, computed as `m + log sum_i exp(x_i - m)` with `m` the largest `x_i`,
/// so that it is finite and exact for logits far past the range of `exp`.
pub fn logsumexp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

impl Builtin {
    /// The built-in a `.nn` file calls `name`.
    pub fn from_name(name: &str) -> Option<Builtin> {
        USER_VISIBLE
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
    }

    /// The name used in `.nn` files and generated code.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Sigmoid => "sigmoid",
            Builtin::Tanh => "tanh",
            Builtin::Relu => "relu",
            Builtin::Linear => "linear",
            Builtin::Sin => "sin",
            Builtin::Cos => "cos",
            Builtin::Exp => "exp",
            Builtin::Log => "log",
            Builtin::Softplus => "softplus",
            Builtin::Sqrt => "sqrt",
            Builtin::Abs => "abs",
            Builtin::Erf => "erf",
            Builtin::Step => "step",
            Builtin::Sign => "sign",
            Builtin::LogSigmoid => "log_sigmoid",
        }
    }

    /// The value at `z`, computed in forms that stay finite wherever the function is finite.
    pub fn eval(self, z: f64) -> f64 {
        match self {
            Builtin::Sigmoid => sigmoid(z),
            Builtin::Tanh => z.tanh(),
            Builtin::Relu => {
                if z > 0.0 {
                    z
                } else {
                    0.0
                }
            }
            Builtin::Linear => z,
            Builtin::Sin => z.sin(),
            Builtin::Cos => z.cos(),
            Builtin::Exp => z.exp(),
            Builtin::Log => z.ln(),
            Builtin::Softplus => softplus(z),
            Builtin::Sqrt => z.sqrt(),
            Builtin::Abs => z.abs(),
            Builtin::Erf => libm::erf(z),
            Builtin::Step => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Builtin::LogSigmoid => -softplus(-z),
            Builtin::Sign => {
                if z > 0.0 {
                    1.0
                } else if z < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// Whether the function has a kink (a point where its derivative jumps) at `z`'s
    /// neighbourhood of radius `eps`: numeric checks stay away from such points.
    pub fn near_kink(self, z: f64, eps: f64) -> bool {
        matches!(
            self,
            Builtin::Relu | Builtin::Abs | Builtin::Step | Builtin::Sign
        ) && z.abs() < eps
    }
}

/// `1 / (1 + e^-z)` without overflow for large `|z|`.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^z)` without overflow for large `z` or loss of precision for very negative `z`.
pub fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}
