//! Checks user `fn` definitions: arguments, calls to built-ins and earlier functions only.

use std::collections::{HashMap, HashSet};

use chainrule_grammar::{BinOp, Diagnostic, Expr, ExprKind, FnDef};

use super::infer::constant_value;
use crate::builtin::Builtin;
use crate::model::{ElemOp, FnExpr, Function};

/// Checks every `fn`; returns the checked functions and every function's name and arity
/// (also for functions with errors, so that their callers see no follow-on errors).
pub(super) fn check_functions(
    defs: &[FnDef],
    errors: &mut Vec<Diagnostic>,
) -> (Vec<Function>, Vec<(String, usize)>) {
    let mut signatures: Vec<(String, usize)> = Vec::new();
    // Lookups by name, so that a file of many functions is not quadratic.
    let mut index: HashMap<String, usize> = HashMap::new();
    let all: HashSet<&str> = defs.iter().map(|d| d.name.name.as_str()).collect();
    let mut functions = Vec::new();
    for def in defs {
        if crate::builtin::is_builtin_name(&def.name.name) {
            errors.push(Diagnostic::new(
                def.name.span,
                format!(
                    "`{}` is a built-in function and cannot be redefined",
                    def.name.name
                ),
            ));
        } else if matches!(def.name.name.as_str(), "max" | "min") {
            // `max(e)` is always the reduction: a `fn max` could never be called.
            errors.push(Diagnostic::new(
                def.name.span,
                format!(
                    "`{0}` is a reduction (`{0}(e)`, `{0}(q < 2, e)`) and cannot name a function",
                    def.name.name
                ),
            ));
        } else if crate::builtin::builtin_constant(&def.name.name).is_some() {
            errors.push(Diagnostic::new(
                def.name.span,
                format!(
                    "`{}` is a built-in constant and cannot be redefined",
                    def.name.name
                ),
            ));
        } else if index.contains_key(&def.name.name) {
            errors.push(Diagnostic::new(
                def.name.span,
                format!("function `{}` is defined twice", def.name.name),
            ));
        }
        for (i, param) in def.params.iter().enumerate() {
            if crate::builtin::builtin_constant(&param.name).is_some() {
                errors.push(Diagnostic::new(
                    param.span,
                    format!(
                        "`{}` is a built-in constant and cannot name an argument",
                        param.name
                    ),
                ));
            } else if def.params[..i].iter().any(|p| p.name == param.name) {
                errors.push(Diagnostic::new(
                    param.span,
                    format!("argument `{}` is named twice", param.name),
                ));
            }
        }
        let params: Vec<String> = def.params.iter().map(|p| p.name.clone()).collect();
        let mut body_check = BodyCheck {
            params: &params,
            earlier: &signatures,
            earlier_index: &index,
            all: &all,
            current: &def.name.name,
            errors,
        };
        let body = body_check.expr(&def.body);
        index
            .entry(def.name.name.clone())
            .or_insert(signatures.len());
        signatures.push((def.name.name.clone(), params.len()));
        if let Some(body) = body {
            functions.push(Function {
                name: def.name.name.clone(),
                params,
                body,
            });
        }
    }
    (functions, signatures)
}

struct BodyCheck<'a> {
    params: &'a [String],
    earlier: &'a [(String, usize)],
    /// Each earlier function's position in `earlier`, by name.
    earlier_index: &'a HashMap<String, usize>,
    /// The names of every function of the file, to tell a later one from an unknown one.
    all: &'a HashSet<&'a str>,
    /// The function being checked, to tell recursion from a forward reference.
    current: &'a str,
    errors: &'a mut Vec<Diagnostic>,
}

impl BodyCheck<'_> {
    fn expr(&mut self, e: &Expr) -> Option<FnExpr> {
        match &e.kind {
            ExprKind::Number(v) => Some(FnExpr::Const(*v)),
            ExprKind::Name(ident) => match self.params.iter().position(|p| *p == ident.name) {
                Some(i) => Some(FnExpr::Arg(i)),
                None => match crate::builtin::builtin_constant(&ident.name) {
                    Some(v) => Some(FnExpr::Const(v)),
                    None => {
                        self.errors.push(Diagnostic::new(
                            ident.span,
                            format!("`{}` is not an argument of this function; a `fn` body uses only its arguments", ident.name),
                        ));
                        None
                    }
                },
            },
            ExprKind::Neg(inner) => Some(FnExpr::Neg(Box::new(self.expr(inner)?))),
            ExprKind::Binary { op, lhs, rhs } => {
                let op = match op {
                    BinOp::Add => ElemOp::Add,
                    BinOp::Sub => ElemOp::Sub,
                    BinOp::Mul => ElemOp::Mul,
                    BinOp::Div => ElemOp::Div,
                    BinOp::Pow => {
                        let base = self.expr(lhs);
                        let Some(k) = constant_value(rhs) else {
                            self.errors.push(Diagnostic::new(
                                rhs.span,
                                "the exponent of `^` must be a constant number",
                            ));
                            return None;
                        };
                        return Some(FnExpr::Pow(Box::new(base?), k));
                    }
                    BinOp::MatMul => {
                        self.errors.push(Diagnostic::new(
                            e.span,
                            "`@` cannot be used in a `fn`: functions are scalar and element-wise",
                        ));
                        return None;
                    }
                };
                let (l, r) = (self.expr(lhs), self.expr(rhs));
                Some(FnExpr::Binary(op, Box::new(l?), Box::new(r?)))
            }
            ExprKind::Call { func, args } => {
                if func.name == super::grad::GRAD {
                    self.errors.push(Diagnostic::new(
                        func.span,
                        "`grad` differentiates a network's values and cannot be used inside a `fn`",
                    ));
                    return None;
                }
                let typed: Vec<Option<FnExpr>> = args.iter().map(|a| self.expr(a)).collect();
                if crate::builtin::VectorFn::from_name(&func.name).is_some() {
                    self.errors.push(Diagnostic::new(
                        func.span,
                        format!("`{}` is a function of a whole vector and cannot be used in a `fn`: functions are scalar and element-wise", func.name),
                    ));
                    return None;
                }
                if let Some(op) = ElemOp::called(&func.name) {
                    if typed.len() != 2 {
                        self.errors.push(Diagnostic::new(
                            e.span,
                            format!("`{}` takes 2 arguments, not {}", func.name, typed.len()),
                        ));
                        return None;
                    }
                    let mut typed = typed.into_iter();
                    let (a, b) = (typed.next()??, typed.next()??);
                    return Some(FnExpr::Binary(op, Box::new(a), Box::new(b)));
                }
                if let Some(builtin) = Builtin::from_name(&func.name) {
                    if typed.len() != 1 {
                        self.errors.push(Diagnostic::new(
                            e.span,
                            format!("`{}` takes 1 argument, not {}", func.name, typed.len()),
                        ));
                        return None;
                    }
                    let arg = typed.into_iter().next()??;
                    return Some(FnExpr::Builtin(builtin, Box::new(arg)));
                }
                let Some(&index) = self.earlier_index.get(&func.name) else {
                    let message = if self.current == func.name {
                        format!(
                            "`{}` calls itself; a `fn` may call only built-ins and earlier functions",
                            func.name
                        )
                    } else if self.all.contains(func.name.as_str()) {
                        format!(
                            "`{}` is defined later in the file; a `fn` may call only built-ins and earlier functions",
                            func.name
                        )
                    } else {
                        let earlier = self.earlier.iter().map(|(n, _)| n.as_str());
                        super::unknown::unknown_function(&func.name, args, earlier)
                    };
                    self.errors.push(Diagnostic::new(func.span, message));
                    return None;
                };
                let arity = self.earlier[index].1;
                if arity != typed.len() {
                    self.errors.push(Diagnostic::new(
                        e.span,
                        format!(
                            "`{}` takes {arity} arguments, not {}",
                            func.name,
                            typed.len()
                        ),
                    ));
                    return None;
                }
                let args: Option<Vec<FnExpr>> = typed.into_iter().collect();
                Some(FnExpr::Call(index, args?))
            }
            ExprKind::Indexed { .. }
            | ExprKind::Select { .. }
            | ExprKind::Reduce { .. }
            | ExprKind::DeltaRef { .. } => {
                self.errors.push(Diagnostic::new(e.span, "a `fn` is scalar and element-wise: indexing, `sum`, `mean`, `max` and `min` cannot be used in it"));
                None
            }
        }
    }
}
