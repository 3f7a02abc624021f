//! Numbers of the source that `f32` cannot hold: an `f32` module (`chainrule rust --f32`,
//! `derive!(float = f32)`) refuses them where they were written, before anything is emitted.

use super::EmitError;
use crate::Span;
use crate::model::{FnExpr, Function, Network, TExpr, TExprKind};

/// Whether `v` overflows `f32` (tiny values round to zero as any `f32` arithmetic would).
fn overflows(v: f64) -> bool {
    v.is_finite() && (v as f32).is_infinite()
}

fn refuse(span: Span, what: String) -> EmitError {
    EmitError::Value(
        span,
        format!(
            "{what} is out of the range of a 32-bit float (largest {:e}): generate f64 code for this network, or use a smaller value",
            f32::MAX
        ),
    )
}

/// The first number in `network` (its expressions, the functions they call and its parameters'
/// defaults) that `f32` cannot hold, as an error at its span.
pub fn check(network: &Network, functions: &[Function]) -> Result<(), EmitError> {
    for param in &network.params {
        if let Some(v) = param.default.iter().flatten().find(|v| overflows(**v)) {
            return Err(refuse(
                param.span,
                format!("the value {v:e} given to parameter `{}`", param.name),
            ));
        }
    }
    // Bodies call only earlier functions: one pass in order.
    let mut bodies: Vec<Option<f64>> = Vec::with_capacity(functions.len());
    for f in functions {
        let found = function_constant(&f.body, &bodies);
        bodies.push(found);
    }
    let exprs = network
        .vectors
        .iter()
        .map(|v| &v.expr)
        .chain(std::iter::once(&network.loss.expr));
    for expr in exprs {
        expression(expr, functions, &bodies)?;
    }
    Ok(())
}

fn expression(
    expr: &TExpr,
    functions: &[Function],
    bodies: &[Option<f64>],
) -> Result<(), EmitError> {
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match &e.kind {
            TExprKind::Const(v) if overflows(*v) => {
                return Err(refuse(e.span, format!("the number {v:e}")));
            }
            TExprKind::Pow(_, k) if overflows(*k) => {
                return Err(refuse(e.span, format!("the exponent {k:e}")));
            }
            TExprKind::Call(f, _) => {
                if let Some(v) = bodies.get(*f).copied().flatten() {
                    return Err(refuse(
                        e.span,
                        format!("the number {v:e} in function `{}`", functions[*f].name),
                    ));
                }
            }
            _ => {}
        }
        e.for_each_child(|child| stack.push(child));
    }
    Ok(())
}

/// A number in a function body (or a function it calls: `earlier`, by index) that `f32`
/// cannot hold.
fn function_constant(body: &FnExpr, earlier: &[Option<f64>]) -> Option<f64> {
    let mut stack = vec![body];
    while let Some(e) = stack.pop() {
        match e {
            FnExpr::Const(v) | FnExpr::Pow(_, v) if overflows(*v) => return Some(*v),
            FnExpr::Const(_) | FnExpr::Arg(_) => {}
            FnExpr::Neg(a) | FnExpr::Pow(a, _) | FnExpr::Builtin(_, a) => stack.push(a),
            FnExpr::Binary(_, a, b) => {
                stack.push(a);
                stack.push(b);
            }
            FnExpr::Call(g, args) => {
                if let Some(v) = earlier.get(*g).copied().flatten() {
                    return Some(v);
                }
                stack.extend(args);
            }
        }
    }
    None
}
