//! `chainrule html` in a real browser: every example's page is opened from `file://` by
//! headless Chromium (`./scripts/test` installs it), which must render every formula (no
//! `.katex-error`, as many KaTeX displays as the page has formulas) and paint a screenshot
//! that is not blank. The page must need no network: nothing it loads is fetched.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chainrule-html-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Every network of every example file, with the claims variants: `(label, path, network)`.
fn examples() -> Vec<(String, PathBuf, String)> {
    let mut out = Vec::new();
    for dir in ["examples/nets", "examples/claims"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("examples")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "nn"))
            .collect();
        files.sort();
        for f in files {
            let stem = f.file_stem().expect("stem").to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&f).expect("read");
            let model = chainrule::core::check_source(&text).expect("examples check");
            for network in &model.networks {
                let label = format!("{}-{stem}-{}", dir.replace('/', "-"), network.name);
                out.push((label, f.clone(), network.name.clone()));
            }
        }
    }
    out
}

fn chainrule_html(input: &Path, network: Option<&str>, output: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .arg("html")
        .arg(input)
        .args(network.map(|n| ["--network", n]).into_iter().flatten())
        .arg("-o")
        .arg(output)
        .output()
        .expect("chainrule runs");
    assert!(
        out.status.success(),
        "chainrule html {} failed: {}",
        input.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chromium() -> &'static str {
    for candidate in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(candidate).arg("--version").output().is_ok() {
            return candidate;
        }
    }
    panic!("Chromium is not installed: run ./scripts/test, which installs Debian's `chromium`")
}

fn browser(page: &Path, extra: &[&str], profile: &Path) -> std::process::Output {
    let url = format!("file://{}", page.display());
    Command::new(chromium())
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--hide-scrollbars",
            // The page must not fetch anything: a proxy that does not exist makes any
            // attempt fail, so a formula that needed a font or script from the web would show.
            "--proxy-server=127.0.0.1:9",
            "--virtual-time-budget=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs")
}

/// The DOM without its scripts (KaTeX's own source names `katex-error`).
fn without_scripts(dom: &str) -> String {
    let mut out = String::new();
    let mut rest = dom;
    while let Some(start) = rest.find("<script") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</script>") {
            Some(end) => rest = &rest[start + end + "</script>".len()..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// Pixels of a PNG that are not (nearly) white, and all pixels.
fn ink(png_path: &Path) -> (usize, usize) {
    let file = std::fs::File::open(png_path).expect("screenshot");
    let decoder = png::Decoder::new(std::io::BufReader::new(file));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).expect("a frame");
    let channels = info.color_type.samples();
    let pixels = &buffer[..info.buffer_size()];
    let dark = pixels
        .chunks(channels)
        .filter(|p| p.iter().take(3).any(|&c| c < 200))
        .count();
    (dark, pixels.len() / channels)
}

#[test]
fn every_example_page_renders_every_formula_in_chromium() {
    let dir = scratch("examples");
    for (label, input, network) in examples() {
        let page = dir.join(format!("{label}.html"));
        chainrule_html(&input, Some(&network), &page);
        let html = std::fs::read_to_string(&page).expect("page");
        for remote in [
            "src=\"http",
            "href=\"http",
            "url(http",
            "url(fonts/",
            "@import",
        ] {
            assert!(
                !html.contains(remote),
                "{label}: the page loads `{remote}...`"
            );
        }
        // The formulas the page holds, counted in its source, before any script ran.
        let expected = html.matches("<div class=\"tex\">").count();
        assert!(expected >= 3, "{label}: only {expected} formulas");

        let profile = dir.join(format!("profile-{label}"));
        let out = browser(&page, &["--dump-dom"], &profile);
        assert!(out.status.success(), "{label}: chromium failed");
        let dom = without_scripts(&String::from_utf8_lossy(&out.stdout));
        assert!(
            dom.contains(&format!("data-rendered=\"{expected}\"")),
            "{label}: the render script did not finish over {expected} formulas"
        );
        assert!(
            !dom.contains("katex-error"),
            "{label}: KaTeX could not render a formula"
        );
        let displays = dom.matches("class=\"katex-display\"").count();
        assert_eq!(displays, expected, "{label}: rendered formulas");
        // KaTeX's fonts came from the inlined data: URLs (the page fetched nothing).
        assert!(
            dom.contains("class=\"katex-html\""),
            "{label}: no KaTeX HTML"
        );

        let shot = dir.join(format!("{label}.png"));
        let out = browser(
            &page,
            &[
                &format!("--screenshot={}", shot.display()),
                "--window-size=1000,1400",
            ],
            &profile,
        );
        assert!(out.status.success(), "{label}: screenshot failed");
        let (dark, all) = ink(&shot);
        assert!(
            dark * 100 > all,
            "{label}: the screenshot is blank ({dark} of {all} pixels not white)"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A 784-120-10 network (as large as the checker allows a first layer of MNIST's size): the
/// page stays readable (every formula renders, and it is not megabytes of LaTeX), the long
/// forms show one element of each parameter and say so.
#[test]
fn a_mnist_sized_page_stays_small_and_renders() {
    let dir = scratch("mnist");
    let source = dir.join("mnist.nn");
    std::fs::write(
        &source,
        "network mnist {\n  input x[784]\n  target t[10]\n  h[120] = relu(W1 @ x + b1)\n  y[10] = W2 @ h + b2\n  loss L = 0.5 * sum((y - t)^2)\n}\n",
    )
    .expect("write");
    let page = dir.join("mnist.html");
    chainrule_html(&source, None, &page);
    let html = std::fs::read_to_string(&page).expect("page");
    assert!(html.len() < 2_000_000, "the page is {} bytes", html.len());
    assert!(
        html.contains("784 units"),
        "the diagram compresses the input layer"
    );
    assert!(html.contains("shows the first element of each parameter"));
    // The general form has a formula for each gradient, with symbolic indices.
    assert!(html.contains(r"\frac{\partial L}{\partial w^{(1)}_{ij}} &amp;= "));
    let expected = html.matches("<div class=\"tex\">").count();
    let out = browser(&page, &["--dump-dom"], &dir.join("profile-mnist"));
    let dom = without_scripts(&String::from_utf8_lossy(&out.stdout));
    assert!(!dom.contains("katex-error"));
    assert_eq!(dom.matches("class=\"katex-display\"").count(), expected);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The claims of seed 002 with their verdicts and the diagnosis under the failing ones.
#[test]
fn the_claims_section_shows_verdicts_and_diagnoses() {
    let dir = scratch("claims");
    let page = dir.join("claims.html");
    chainrule_html(&root().join("examples/claims/seed002.nn"), None, &page);
    let html = std::fs::read_to_string(&page).expect("page");
    assert!(html.contains("<span class=\"fails\">fails</span>"));
    assert!(html.contains("<span class=\"holds\">holds</span>"));
    // The diagnosis `chainrule check` prints, escaped for HTML.
    assert!(
        html.contains("stands where the derivation has"),
        "no diagnosis"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bad input to `html`, `notebook` and `numpy` exits 2 with `file:line:col`, a caret, and no
/// output file; a good run replaces the output whole.
#[test]
fn bad_input_exits_2_and_leaves_no_output() {
    let dir = scratch("bad");
    let bad = dir.join("bad.nn");
    std::fs::write(
        &bad,
        "network n {\n  input x[2]\n  y[2] = W @ q\n  loss L = sum(y)\n}\n",
    )
    .expect("write");
    for command in ["html", "notebook", "numpy"] {
        let out_file = dir.join(format!("out-{command}"));
        std::fs::write(&out_file, "previous").expect("write");
        let out = Command::new(env!("CARGO_BIN_EXE_chainrule"))
            .args([command, bad.to_str().expect("path"), "-o"])
            .arg(&out_file)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("bad.nn:3:"), "{command}: {stderr}");
        assert!(stderr.contains('^'), "{command}: {stderr}");
        assert_eq!(
            std::fs::read_to_string(&out_file).expect("read"),
            "previous",
            "{command} touched its output"
        );
        let out = Command::new(env!("CARGO_BIN_EXE_chainrule"))
            .args([command, "--lr", "inf"])
            .arg(root().join("examples/nets/seed004.nn"))
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{command} --lr inf");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A page about one network of a file shows that network's block (with its comment), not the
/// file's other networks, and names the file as the command line did (relative here).
#[test]
fn a_page_shows_its_network_and_the_path_as_given() {
    let dir = scratch("excerpt");
    let page = dir.join("mse.html");
    let out = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args([
            "html",
            "examples/nets/classifier.nn",
            "--network",
            "softmax_mse",
            "-o",
        ])
        .arg(&page)
        .current_dir(root())
        .output()
        .expect("chainrule runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).expect("page");
    let source = html
        .split("<pre class=\"source\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .expect("a source section");
    assert!(source.contains("network softmax_mse {"), "{source}");
    for other in ["network classifier", "network inline_softmax", "# expect:"] {
        assert!(!source.contains(other), "`{other}` shown in {source}");
    }
    assert!(html.contains("the file's other networks, and functions this one does not call"));
    assert!(html.contains("From <code>examples/nets/classifier.nn</code>"));
    assert!(
        !html.contains(root().to_str().expect("path")),
        "an absolute path"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
