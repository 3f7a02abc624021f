//! Numbers as LaTeX (fewest digits that round-trip, or rounded for worked examples) and the
//! visual width that decides where a long sum breaks.

/// A constant as LaTeX: `\pi` for pi, else the shortest form that reads back exactly, in
/// scientific notation when that is shorter.
pub fn number(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    // `pi`, the constant of erf's derivative and the gelu's sqrt(2), as they are written.
    for (constant, text) in [
        (std::f64::consts::PI, "\\pi"),
        (std::f64::consts::FRAC_1_PI, "\\frac{1}{\\pi}"),
        (std::f64::consts::FRAC_2_SQRT_PI, "\\frac{2}{\\sqrt{\\pi}}"),
        (std::f64::consts::SQRT_2, "\\sqrt{2}"),
        // `1 / sqrt(2)` as a division folds it (FRAC_1_SQRT_2 is one ulp away).
        (1.0 / std::f64::consts::SQRT_2, "\\frac{1}{\\sqrt{2}}"),
    ] {
        if v.abs() == constant {
            let sign = if v < 0.0 { "-" } else { "" };
            return format!("{sign}{text}");
        }
    }
    let plain = format!("{v}");
    let scientific = format!("{v:e}");
    if plain.len() <= 10 || plain.len() <= scientific.len() + 2 {
        return plain;
    }
    match scientific.split_once('e') {
        Some((mantissa, exponent)) => format!("{mantissa} \\times 10^{{{exponent}}}"),
        None => plain,
    }
}

/// A computed value rounded to `digits` significant digits, for worked examples.
pub fn rounded(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "\\mathrm{NaN}".to_string()
        } else if v > 0.0 {
            "\\infty".to_string()
        } else {
            "-\\infty".to_string()
        };
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let magnitude = v.abs().log10().floor() as i32;
    if !(-4..=6).contains(&magnitude) {
        let text = format!("{:.*e}", digits.saturating_sub(1), v);
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = trim_zeros(mantissa);
        return format!("{mantissa} \\times 10^{{{exponent}}}");
    }
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    trim_zeros(&format!("{v:.decimals$}"))
}

fn trim_zeros(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text.to_string()
    }
}

/// A rough count of the characters a piece of LaTeX shows, used to decide line breaks:
/// command names, braces and scripts markers count nothing, a fraction its wider part.
pub fn visual_width(latex: &str) -> usize {
    let mut width = 0;
    let mut chars = latex.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphabetic() {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                width += match name.as_str() {
                    "" => usize::from(chars.next().is_some()),
                    "frac" | "left" | "right" | "mathrm" | "operatorname" | "hat" => 0,
                    "partial" | "sigma" | "delta" | "cdot" | "quad" => 1,
                    other if other.len() <= 3 => other.len(),
                    _ => 2,
                };
            }
            '{' | '}' | '^' | '_' | ' ' | '&' => {}
            _ => width += 1,
        }
    }
    // Fractions stack numerator over denominator.
    let fractions = latex.matches("\\frac").count();
    width.saturating_sub(fractions * 2)
}

/// Joins signed terms into align* lines of at most `limit` visual characters; continuation
/// lines start with `&\quad`.
pub fn break_terms(terms: &[(bool, String)], limit: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, (negative, text)) in terms.iter().enumerate() {
        let sign = match (i, negative) {
            (0, true) => "-",
            (0, false) => "",
            (_, true) => " - ",
            (_, false) => " + ",
        };
        if !current.is_empty() && visual_width(&current) + visual_width(text) > limit {
            lines.push(std::mem::take(&mut current));
            current.push_str(sign.trim_start());
            current.insert_str(0, "\\quad ");
        } else {
            current.push_str(sign);
        }
        current.push_str(text);
    }
    if current.is_empty() {
        current.push('0');
    }
    lines.push(current);
    lines
}

/// A computed value rounded to `digits` significant digits, as plain text (`1.5e-7` for
/// very small or large magnitudes).
pub fn rounded_text(v: f64, digits: usize) -> String {
    rounded(v, digits)
        .replace(" \\times 10^{", "e")
        .replace('}', "")
        .replace("\\mathrm{NaN", "NaN")
        .replace("\\infty", "inf")
}
