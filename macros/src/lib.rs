//! `chainrule::derive!`: turns `.nn` network descriptions into Rust modules with unrolled
//! gradient code. A thin layer over `chainrule-core`: it reads the macro's input (inline text
//! or `file = "..."`), maps diagnostics back to spans, and never panics.

mod input;
mod stub;

use proc_macro::TokenStream;

/// Generates, for each network, `pub mod NAME` with `Params`, `Forward`, `forward`,
/// `evaluate`, `loss`, `gradient`, `sgd_step`, `gradient_batch`, `compare_gradient` and
/// `LATEX` (see ../shared/spec/RUST_API.md).
///
/// ```ignore
/// chainrule::derive! {
///     network tiny {
///         input x[2]
///         target t[1]
///         y[1] = W @ x
///         loss L = 0.5 * sum((y - t)^2)
///     }
/// }
/// chainrule::derive!(file = "nets/seed004.nn", network = seed004, float = f32);
/// ```
#[proc_macro]
pub fn derive(input: TokenStream) -> TokenStream {
    input::expand(input.into()).into()
}
