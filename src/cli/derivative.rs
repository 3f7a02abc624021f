//! `--of REF --wrt NAME` for `chainrule eval` and `chainrule latex`: the derivative of any
//! named scalar, through `chainrule_core::derivative`.

use std::path::Path;
use std::process::ExitCode;

use chainrule_core::Network;

use super::{Failure, compile, emit, load, point, point_init, print_out, select};

/// What `chainrule latex --of REF` is asked for.
pub struct DerivativeArgs<'a> {
    /// `--of`: the named scalar differentiated.
    pub of: &'a str,
    /// `--wrt`: what it is differentiated with respect to (the only input when left out).
    pub wrt: Option<&'a str>,
    /// `--form`: delta (the default), chain, general or numeric.
    pub form: Option<&'a str>,
    /// `--standalone`.
    pub standalone: bool,
    /// `--params` and `--data` for the numeric form.
    pub params: Option<&'a Path>,
    /// See `params`.
    pub data: Option<&'a Path>,
}

/// A network's derivation re-rooted at `--of`, with `--wrt` resolved.
fn rooted(
    network: &Network,
    derivation: &chainrule_core::derive::Derivation,
    of: &str,
    wrt: Option<&str>,
) -> Result<
    (
        chainrule_core::derivative::Request,
        chainrule_core::derive::Derivation,
    ),
    Failure,
> {
    use chainrule_core::derivative::{request, reroot};
    let request =
        request(network, derivation, of, wrt).map_err(|e| Failure::input(format!("error: {e}")))?;
    let wrt: Vec<_> = derivation.layout.vars(request.wrt).collect();
    let rooted = reroot(derivation, request.of, &wrt);
    Ok((request, rooted))
}

/// `chainrule eval FILE --of REF [--wrt NAME] [--json]`: the value of REF and its derivative,
/// per sample.
pub fn eval_derivative(
    path: &Path,
    network: Option<&str>,
    (of, wrt): (&str, Option<&str>),
    (params, data, init): (Option<&Path>, Option<&Path>, Option<u64>),
    json: bool,
) -> Result<ExitCode, Failure> {
    use chainrule_core::derivative::{eval_json, eval_text, evaluate};
    let (file, model) = load(path)?;
    let network = select(&file, &model, network)?;
    let compiled = compile(&model, network);
    let (values, samples) = match init {
        // `Params::init` reads each layer's fan-in from the whole network's derivation.
        Some(seed) => point_init(
            &file,
            network,
            params,
            data,
            Some((&compiled.derivation, seed)),
        )?,
        None => point(&file, network, params, data)?,
    };
    let (request, rooted) = rooted(network, &compiled.derivation, of, wrt)?;
    let points: Vec<_> = samples
        .iter()
        .map(|s| evaluate(&rooted, network, &values, s))
        .collect();
    let value: Vec<f64> = points.iter().map(|p| p.value).collect();
    let derivative: Vec<f64> = points.iter().flat_map(|p| p.derivative.clone()).collect();
    super::note_not_finite(
        &file,
        &[("value", &value), ("derivative", &derivative)],
        json,
    );
    if json {
        print_out(&format!("{}\n", eval_json(network, &request, &points)))?;
    } else {
        print_out(&eval_text(network, &request, &points))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `chainrule latex FILE --of REF [--wrt NAME] [--form F]`: the derivation of any named scalar.
pub fn latex_derivative(
    path: &Path,
    network: Option<&str>,
    args: &DerivativeArgs<'_>,
    out: Option<&Path>,
) -> Result<ExitCode, Failure> {
    use chainrule_core::latex::Form;
    let (file, model) = load(path)?;
    let network = select(&file, &model, network)?;
    let form = match args.form {
        Some(name) => Form::from_name(name).ok_or_else(|| {
            Failure::input(format!(
                "error: unknown --form `{name}`: use chain, delta, general or numeric"
            ))
        })?,
        None => Form::Delta,
    };
    let compiled = compile(&model, network);
    let (request, mut rooted) = rooted(network, &compiled.derivation, args.of, args.wrt)?;
    // The numeric form shows the first sample: a derivative of a named scalar is per sample.
    let shown = if form == Form::Numeric {
        let (values, samples) = point(&file, network, args.params, args.data)?;
        samples
            .first()
            .map(|s| chainrule_core::derivative::evaluate(&rooted, network, &values, s))
    } else {
        None
    };
    let text = chainrule_core::derivative::latex(
        network,
        &mut rooted,
        &request,
        form,
        shown.as_ref(),
        args.standalone,
    );
    emit(out, &text)
}
