//! The reports and errors of generated code that need the standard library: shape errors of
//! the batch functions and `from_ndarray`, gradient comparison reports, element names, and
//! heap allocation without a stack temporary.

use std::fmt;

/// `W1[0][1]`: element `at` (row-major) of a parameter of shape `dims`.
pub fn element_name(name: &str, dims: &[usize], at: usize) -> String {
    let mut indices = Vec::with_capacity(dims.len());
    let mut rest = at;
    for d in dims.iter().rev() {
        indices.push(rest % d.max(&1));
        rest /= d.max(&1);
    }
    let mut out = name.to_string();
    for i in indices.iter().rev() {
        out.push_str(&format!("[{i}]"));
    }
    out
}

/// A `Box<T>` of all-zero bytes, allocated on the heap directly: a `Params` of 10^6 weights
/// never passes through the stack.
///
/// # Safety
/// All-zero bytes must be a valid `T`: true of the generated `Params`, which holds only
/// `f32`/`f64` arrays (zero bits are 0.0).
pub unsafe fn zeroed_box<T>() -> Box<T> {
    let layout = std::alloc::Layout::new::<T>();
    if layout.size() == 0 {
        // SAFETY: a zero-sized T has no bytes; a dangling, aligned pointer is a valid Box.
        return unsafe { Box::from_raw(std::ptr::NonNull::<T>::dangling().as_ptr()) };
    }
    // SAFETY: the layout is non-zero-sized; a null result is handled; the caller guarantees
    // that zero bytes are a valid T, and the allocation has T's layout, as Box requires.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout) as *mut T;
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Box::from_raw(ptr)
    }
}

/// Arrays whose shape does not fit the network: which array, what was expected, what came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// The input, target or parameter concerned.
    pub name: String,
    /// What the network needs, e.g. `2 columns`.
    pub expected: String,
    /// What was given.
    pub found: String,
}

impl ShapeError {
    /// A shape error for `name`.
    pub fn new(
        name: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> ShapeError {
        ShapeError {
            name: name.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}`: expected {}, found {}",
            self.name, self.expected, self.found
        )
    }
}

impl std::error::Error for ShapeError {}

/// One gradient element where a hand-written gradient disagrees with the derived one.
#[derive(Clone, Debug, PartialEq)]
pub struct ElementDiff {
    /// The element, as `W1[0][1]`.
    pub name: std::borrow::Cow<'static, str>,
    /// The derived value.
    pub derived: f64,
    /// The hand-written function's value.
    pub hand: f64,
}

/// How the differing elements relate to the derived ones.
#[derive(Clone, Debug, PartialEq)]
pub enum Relation {
    /// No element differs.
    Equal,
    /// Every differing element is the derived one with its sign flipped.
    SignFlip,
    /// Every differing element is the derived one times this constant (2 or 1/2 for the loss
    /// convention, the batch size, ...).
    ConstantFactor(f64),
    /// No single sign or factor explains the differences.
    Unrelated,
}

/// What `compare_gradient` found.
#[derive(Clone, Debug, PartialEq)]
pub struct GradientDiff {
    /// The loss the derivation computes.
    pub loss_derived: f64,
    /// The loss the hand-written function returned.
    pub loss_hand: f64,
    /// How many gradient elements were compared.
    pub checked: usize,
    /// Every element that differs beyond the tolerance.
    pub differences: Vec<ElementDiff>,
    /// What the differences have in common.
    pub relation: Relation,
}

impl GradientDiff {
    /// Compares element by element: an element differs when `|hand - derived| > tol *
    /// max(1, |derived|)`.
    pub fn compare(
        names: &[&'static str],
        derived: &[f64],
        hand: &[f64],
        tol: f64,
        losses: (f64, f64),
    ) -> GradientDiff {
        let named = |i: usize| std::borrow::Cow::Borrowed(names.get(i).copied().unwrap_or("?"));
        GradientDiff::compare_by(names.len(), named, derived, hand, tol, losses)
    }

    /// [`GradientDiff::compare`] with the name of element `i` computed on demand (a network
    /// of 10^6 weights has no table of names).
    pub fn compare_by(
        count: usize,
        name: impl Fn(usize) -> std::borrow::Cow<'static, str>,
        derived: &[f64],
        hand: &[f64],
        tol: f64,
        losses: (f64, f64),
    ) -> GradientDiff {
        // NaN on either side counts as a difference.
        let differs = |d: f64, h: f64| {
            (h - d).abs().partial_cmp(&(tol * d.abs().max(1.0))) != Some(std::cmp::Ordering::Less)
                && h != d
        };
        let differences: Vec<ElementDiff> = derived
            .iter()
            .zip(hand)
            .take(count)
            .enumerate()
            .filter(|(_, (d, h))| differs(**d, **h))
            .map(|(i, (d, h))| ElementDiff {
                name: name(i),
                derived: *d,
                hand: *h,
            })
            .collect();
        let relation = if differences.is_empty() {
            Relation::Equal
        } else {
            let ratios: Vec<Option<f64>> = differences
                .iter()
                .map(|e| (e.derived != 0.0).then(|| e.hand / e.derived))
                .collect();
            match ratios.first().copied().flatten() {
                Some(first)
                    if ratios.iter().all(|r| {
                        r.is_some_and(|r| (r - first).abs() <= tol.max(1e-9) * first.abs().max(1.0))
                    }) =>
                {
                    if (first + 1.0).abs() <= tol.max(1e-9) {
                        Relation::SignFlip
                    } else {
                        Relation::ConstantFactor(first)
                    }
                }
                _ => Relation::Unrelated,
            }
        };
        GradientDiff {
            loss_derived: losses.0,
            loss_hand: losses.1,
            checked: count,
            differences,
            relation,
        }
    }

    /// Whether the hand-written gradient matches everywhere.
    pub fn is_match(&self) -> bool {
        self.differences.is_empty()
    }
}

impl fmt::Display for GradientDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_match() {
            return write!(f, "all {} gradient elements match", self.checked);
        }
        writeln!(
            f,
            "{} of {} gradient elements differ:",
            self.differences.len(),
            self.checked
        )?;
        for e in &self.differences {
            writeln!(
                f,
                "  {:<12} derived {:>14}  hand {:>14}",
                e.name, e.derived, e.hand
            )?;
        }
        match &self.relation {
            Relation::SignFlip => write!(f, "every differing element has its sign flipped"),
            Relation::ConstantFactor(c) => {
                write!(f, "every differing element is the derived one times {c}")
            }
            Relation::Unrelated => write!(
                f,
                "no single sign flip or constant factor explains the differences"
            ),
            Relation::Equal => Ok(()),
        }
    }
}
