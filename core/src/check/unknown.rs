//! The message for a call of a function that does not exist: what to write instead when the
//! name is one from another language (`dot`, `transpose`, `max`, `pow`), and always the list
//! of functions that do exist, so the writer never has to guess.

use chainrule_grammar::{Expr, ExprKind};

/// `unknown function `NAME`: HINT; the functions are ...`. `user` holds the file's `fn`
/// names the call may use.
pub(crate) fn unknown_function<'a>(
    name: &str,
    args: &[Expr],
    user: impl Iterator<Item = &'a str> + Clone,
) -> String {
    let builtins = crate::builtin::builtin_names();
    let hint = hint(name, args)
        .map(|h| format!(": {h}"))
        .unwrap_or_else(|| super::suggest(name, builtins.chain(user.clone())));
    let user: Vec<&str> = user.collect();
    let mut list: Vec<&str> = crate::builtin::builtin_names().collect();
    list.extend(&user);
    format!(
        "unknown function `{name}`{hint}; the functions are {}, and a `fn NAME(z) = ...` defines another",
        list.join(", ")
    )
}

/// The name or number an argument is written as, or a placeholder for anything else.
fn arg_text(args: &[Expr], i: usize, fallback: &'static str) -> String {
    match args.get(i).map(|a| &a.kind) {
        Some(ExprKind::Name(ident)) => ident.name.clone(),
        Some(ExprKind::Number(v)) => format!("{v}"),
        _ => fallback.to_string(),
    }
}

fn hint(name: &str, args: &[Expr]) -> Option<String> {
    let (a, b) = (arg_text(args, 0, "a"), arg_text(args, 1, "b"));
    Some(match name.to_ascii_lowercase().as_str() {
        "dot" | "inner" | "dot_product" | "vdot" => {
            format!("write `sum({a} * {b})`, or `{a} @ {b}` where `{a}` is a weight matrix")
        }
        "matmul" | "mm" | "mv" | "matvec" => format!("write `{a} @ {b}`"),
        "transpose" | "trans" | "t" => transpose_hint(&a, "h"),
        "max" | "fmax" | "amax" => {
            format!("the element-wise maximum of two operands is `maximum({a}, {b})`")
        }
        "min" | "fmin" | "amin" => {
            format!("the element-wise minimum of two operands is `minimum({a}, {b})`")
        }
        "pow" | "power" | "square" => "write a power with `^`: `x^2`".to_string(),
        "ln" => "`log` is the natural logarithm".to_string(),
        "mse" | "cross_entropy" | "crossentropy" | "bce" | "nll" => {
            "write the loss as a formula: `mean((y - t)^2)`, `-sum(t * log_softmax(z))`".to_string()
        }
        _ => return None,
    })
}

/// What to write for `transpose(W) @ h`: `v @ W` multiplies by the transpose.
pub(crate) fn transpose_hint(matrix: &str, vector: &str) -> String {
    format!(
        "there is no `transpose`: `{vector} @ {matrix}` multiplies by the transpose of `{matrix}` (it is `{matrix}^T {vector}`)"
    )
}
