//! The shape of a value: a scalar, a vector, a matrix, or a tensor of three or four axes,
//! row-major.

/// The shape of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// One number.
    Scalar,
    /// A vector of this many elements.
    Vector(usize),
    /// A matrix `[rows][cols]`.
    Matrix(usize, usize),
    /// A tensor of three or four axes (`[C][H][W]`, `[F][C][P][Q]`), row-major.
    Tensor(Dims),
}

/// The sizes of a tensor of three or four axes, outermost first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dims {
    sizes: [usize; 4],
    rank: u8,
}

impl Dims {
    /// The sizes as written, outermost first.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes[..self.rank as usize]
    }
}

/// The most axes a value may have.
pub const MAX_AXES: usize = 4;

impl Shape {
    /// The shape with these sizes, outermost first: `None` past [`MAX_AXES`].
    pub fn of(sizes: &[usize]) -> Option<Shape> {
        Some(match *sizes {
            [] => Shape::Scalar,
            [n] => Shape::Vector(n),
            [r, c] => Shape::Matrix(r, c),
            _ if sizes.len() <= MAX_AXES => {
                let mut dims = Dims {
                    sizes: [0; 4],
                    rank: sizes.len() as u8,
                };
                dims.sizes[..sizes.len()].copy_from_slice(sizes);
                Shape::Tensor(dims)
            }
            _ => return None,
        })
    }

    /// The number of scalar elements.
    pub fn len(self) -> usize {
        match self {
            Shape::Scalar => 1,
            Shape::Vector(n) => n,
            Shape::Matrix(r, c) => r * c,
            Shape::Tensor(d) => d.sizes().iter().product(),
        }
    }

    /// Whether the shape holds no element.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The number of axes.
    pub fn rank(self) -> usize {
        match self {
            Shape::Scalar => 0,
            Shape::Vector(_) => 1,
            Shape::Matrix(..) => 2,
            Shape::Tensor(d) => d.sizes().len(),
        }
    }

    /// The sizes as written in `[..]` brackets, outermost first.
    pub fn dims(self) -> Vec<usize> {
        match self {
            Shape::Scalar => vec![],
            Shape::Vector(n) => vec![n],
            Shape::Matrix(r, c) => vec![r, c],
            Shape::Tensor(d) => d.sizes().to_vec(),
        }
    }

    /// The indices of the element at row-major position `elem`, outermost first.
    pub fn unflatten(self, mut elem: usize) -> Vec<usize> {
        let dims = self.dims();
        let mut out = vec![0; dims.len()];
        for (slot, &n) in out.iter_mut().zip(&dims).rev() {
            *slot = elem % n.max(1);
            elem /= n.max(1);
        }
        out
    }

    /// The row-major position of the element at `indices` (one per axis).
    pub fn flatten(self, indices: &[usize]) -> usize {
        self.dims()
            .iter()
            .zip(indices)
            .fold(0, |flat, (&n, &i)| flat * n + i)
    }

    /// `3x2`, `[3]` or `scalar`, for messages.
    pub fn describe(self) -> String {
        match self {
            Shape::Scalar => "a scalar".to_string(),
            Shape::Vector(n) => format!("a vector of {n}"),
            Shape::Matrix(r, c) => format!("{r}x{c}"),
            Shape::Tensor(d) => {
                let sizes: Vec<String> = d.sizes().iter().map(usize::to_string).collect();
                format!("a tensor of {}", sizes.join("x"))
            }
        }
    }
}
