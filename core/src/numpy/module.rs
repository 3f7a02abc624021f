//! The Python module around the statements: docstring, the file's defaults, the helpers,
//! and `forward`, `loss` and `gradient` as CLI.md specifies them.

use std::fmt::Write as _;

use chainrule_grammar::BatchRule;

use super::{Emitter, nested, quoted, text, write_statements};
use crate::model::Symbol;

impl Emitter<'_> {
    /// The whole module.
    pub(super) fn module(&self, file_name: &str) -> String {
        let network = self.network;
        let names = &self.names;
        let mut out = String::new();
        let batch = match network.batch {
            BatchRule::Mean => "mean",
            BatchRule::Sum => "sum",
        };
        let _ = writeln!(
            out,
            "\"\"\"Network `{}` from {}: gradient code derived by chainrule {} (`chainrule numpy`).\n\n\
             Matrix form over a batch (one row per sample). Each statement computes the index\n\
             formula in the comment above it, the formula every element shares in the\n\
             derivation. forward(params, data) -> dict of every vector and the per-sample loss;\n\
             loss(params, data) -> float; gradient(params, data) -> (loss, grads). `params` and\n\
             `data` map names to arrays in the JSON layouts of `chainrule eval` (missing entries\n\
             take the file's defaults). Samples combine by their {batch}.\n\"\"\"\n\nimport numpy as np\n",
            network.name,
            file_name.replace('\\', "/"),
            env!("CARGO_PKG_VERSION"),
        );
        let _ = writeln!(out, "BATCH = {}", quoted(batch));
        out.push_str("DEFAULT_PARAMS = {\n");
        for p in &network.params {
            if let Some(values) = &p.default {
                let _ = writeln!(
                    out,
                    "    {}: {},",
                    quoted(&p.name),
                    nested(values, &p.shape.dims())
                );
            }
        }
        out.push_str("}\nDEFAULT_DATA = {\n");
        for v in network.inputs.iter().chain(&network.targets) {
            if let Some(rows) = &v.default {
                // A label is its class index, a scalar its number; a vector a row.
                let rows: Vec<String> = rows
                    .iter()
                    .map(|r| match v.shape {
                        _ if v.kind == chainrule_grammar::TargetKind::Label => {
                            r.iter().position(|e| *e == 1.0).unwrap_or(0).to_string()
                        }
                        crate::model::Shape::Scalar => nested(r, &[]),
                        _ => nested(r, &[r.len()]),
                    })
                    .collect();
                let _ = writeln!(out, "    {}: [{}],", quoted(&v.name), rows.join(", "));
            }
        }
        out.push_str("}\n");
        let shapes: Vec<String> = network
            .params
            .iter()
            .map(|p| {
                let dims: String = p.shape.dims().iter().map(|d| format!("{d}, ")).collect();
                format!("{}: ({dims})", quoted(&p.name))
            })
            .collect();
        let _ = writeln!(out, "PARAM_SHAPES = {{{}}}", shapes.join(", "));
        let sizes: Vec<String> = network
            .inputs
            .iter()
            .chain(&network.targets)
            .map(|v| match v.shape {
                crate::model::Shape::Scalar => format!("{}: None", quoted(&v.name)),
                crate::model::Shape::Vector(_) => format!("{}: {}", quoted(&v.name), v.size),
                shape => {
                    let dims: String = shape.dims().iter().map(|d| format!("{d}, ")).collect();
                    format!("{}: ({dims})", quoted(&v.name))
                }
            })
            .collect();
        let _ = writeln!(out, "DATA_SIZES = {{{}}}", sizes.join(", "));
        let labels: Vec<String> = network
            .targets
            .iter()
            .filter(|t| t.kind == chainrule_grammar::TargetKind::Label)
            .map(|t| quoted(&t.name))
            .collect();
        let _ = writeln!(out, "DATA_LABELS = {{{}}}\n", labels.join(", "));
        out.push_str(text::HELPERS);
        if self.uses_erf() {
            out.push_str(text::ERF_HELPER);
        }
        out.push_str(text::READ);

        // forward
        out.push_str("\n\ndef forward(params=None, data=None):\n    \"\"\"Every vector (one row per sample) and the per-sample loss.\"\"\"\n");
        out.push_str("    _params, _data, batch_size = _read(params, data)\n");
        self.unpack(&mut out);
        write_statements(&mut out, &self.forward(), "    ");
        let returned: Vec<String> = (0..network.vectors.len())
            .map(Symbol::Vector)
            .chain([Symbol::Loss])
            .map(|s| format!("{}: {}", quoted(network.name_of(s)), names.value(s)))
            .collect();
        let _ = writeln!(out, "    return {{{}}}", returned.join(", "));

        let _ = writeln!(
            out,
            "\n\ndef loss(params=None, data=None):\n    \"\"\"The loss, combined over the batch by its {batch}.\"\"\"\n    return float(np.{batch}(forward(params, data)[{}]))",
            quoted(&network.loss.name)
        );

        out.push_str("\n\ndef gradient(params=None, data=None):\n    \"\"\"The loss and dL/dp of every parameter, combined over the batch.\"\"\"\n");
        out.push_str("    _params, _data, batch_size = _read(params, data)\n");
        self.unpack(&mut out);
        out.push_str("    values = forward(params, data)\n");
        for s in (0..network.vectors.len())
            .map(Symbol::Vector)
            .chain([Symbol::Loss])
        {
            let _ = writeln!(
                out,
                "    {} = values[{}]",
                names.value(s),
                quoted(network.name_of(s))
            );
        }
        out.push_str("    # Deltas, from the loss backwards.\n");
        write_statements(&mut out, &self.deltas(), "    ");
        out.push_str("    # Gradients.\n");
        write_statements(&mut out, &self.gradients(), "    ");
        let grads: Vec<String> = network
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{}: {}", quoted(&p.name), names.grad(i)))
            .collect();
        let _ = writeln!(
            out,
            "    return float(np.{batch}({})), {{{}}}",
            names.value(Symbol::Loss),
            grads.join(", ")
        );
        out
    }

    fn unpack(&self, out: &mut String) {
        let network = self.network;
        for (i, p) in network.params.iter().enumerate() {
            let _ = writeln!(
                out,
                "    {} = _params[{}]",
                self.names.value(Symbol::Param(i)),
                quoted(&p.name)
            );
        }
        for s in (0..network.inputs.len())
            .map(Symbol::Input)
            .chain((0..network.targets.len()).map(Symbol::Target))
        {
            let name = network.name_of(s);
            let _ = writeln!(
                out,
                "    {} = _data.get({})",
                self.names.value(s),
                quoted(name)
            );
        }
    }
}
