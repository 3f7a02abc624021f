//! Issue 8, through the binary: every hostile input ends in exit 0 within the documented
//! limits or exit 2 with `FILE:LINE:COL` (or the JSON path), quickly, and never a panic.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Longest one run may take (debug build).
const TIME_LIMIT: Duration = Duration::from_secs(10);

fn chainrule(args: &[&str]) -> Output {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    assert!(
        start.elapsed() < TIME_LIMIT,
        "chainrule {args:?} took {:?}",
        start.elapsed()
    );
    let err = stderr(&out);
    assert!(
        out.status.code() != Some(101) && !err.contains("panicked"),
        "chainrule {args:?} panicked: {err}"
    );
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_file(name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chainrule-robust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}

fn p(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// Exit 2, and standard error holds each of `needles`.
fn assert_input_error(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    for needle in needles {
        assert!(err.contains(needle), "`{needle}` not in: {err}");
    }
}

#[test]
fn an_empty_file_holds_no_network() {
    let file = temp_file("empty.nn", "");
    for command in ["shapes", "eval", "latex", "explain"] {
        let out = chainrule(&[command, p(&file)]);
        assert_input_error(&out, &["empty.nn: error: the file holds no network"]);
    }
}

#[test]
fn a_file_that_is_not_utf8_is_refused_at_the_first_bad_byte() {
    let file = temp_file(
        "latin1.nn",
        b"network n {\n  input x[2] = [1, 2]\n  # caf\xe9\n}\n",
    );
    let out = chainrule(&["shapes", p(&file)]);
    assert_input_error(&out, &["latin1.nn:3:", "not valid UTF-8"]);
    // UTF-16 with a byte-order mark, as some editors save: the very first byte.
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain("network".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let file = temp_file("utf16.nn", utf16);
    let out = chainrule(&["eval", p(&file)]);
    assert_input_error(&out, &["utf16.nn:1:1:", "not valid UTF-8 (byte 0)"]);
}

#[test]
fn ten_thousand_nested_parentheses_are_refused() {
    let text = format!(
        "network n {{\n  input x[1] = [1]\n  y[1] = {}x{}\n  loss L = sum(y)\n}}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let file = temp_file("nested.nn", text);
    let out = chainrule(&["eval", p(&file)]);
    // The 201st bracket: column 10 + 200.
    assert_input_error(&out, &["nested.nn:3:210:", "limit of 200"]);
}

#[test]
fn an_index_of_a_billion_is_refused() {
    let file = temp_file(
        "index.nn",
        "network n {\n  input x[2] = [1, 2]\n  loss L = x[1000000000]\n}\n",
    );
    let out = chainrule(&["eval", p(&file)]);
    assert_input_error(&out, &["index.nn:3:14:", "limit of 1000000"]);
    let file = temp_file(
        "size.nn",
        "network n {\n  input x[1000000000]\n  loss L = sum(x)\n}\n",
    );
    let out = chainrule(&["shapes", p(&file)]);
    assert_input_error(&out, &["size.nn:2:11:", "limit of 1000000"]);
}

#[test]
fn numbers_past_a_64_bit_float_are_refused_at_the_number() {
    let digits = "1".repeat(400);
    let file = temp_file(
        "digits.nn",
        format!("network n {{\n  input x[1] = [1]\n  loss L = {digits} * sum(x)\n}}\n"),
    );
    let out = chainrule(&["eval", p(&file)]);
    assert_input_error(&out, &["digits.nn:3:12:", "64-bit float"]);
    let file = temp_file(
        "e999.nn",
        "network n {\n  input x[1] = [1e999]\n  loss L = sum(x)\n}\n",
    );
    let out = chainrule(&["eval", p(&file)]);
    assert_input_error(&out, &["e999.nn:2:17:", "`1e999`", "64-bit float"]);
}

const SMALL: &str = "network n {\n  input x[2] = [1, 2]\n  target t[1] = [0.5]\n  h[2] = W @ x + b\n  y[1] = V @ tanh(h)\n  loss L = sum((y - t)^2)\n  param W[2][2] = [[0.1, 0.2], [0.3, 0.4]]\n  param b[2] = [0, 0]\n  param V[1][2] = [[1, -1]]\n}\n";

#[test]
fn nan_and_infinity_in_json_are_refused() {
    let net = temp_file("small.nn", SMALL);
    for (name, json) in [
        ("nan.json", r#"{"b": [NaN, 0]}"#),
        ("inf.json", r#"{"b": [Infinity, 0]}"#),
        ("neg_inf.json", r#"{"b": [-Infinity, 0]}"#),
        ("e999.json", r#"{"b": [1e999, 0]}"#),
        ("neg_e999.json", r#"{"b": [-1e999, 0]}"#),
        ("string.json", r#"{"b": ["NaN", 0]}"#),
    ] {
        let params = temp_file(name, json);
        let out = chainrule(&["eval", p(&net), "--params", p(&params)]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
        // A JSON syntax error gives its line and column; a string gives the JSON path.
        assert!(
            err.contains("line 1, column") || err.contains("b[0]"),
            "{name}: {err}"
        );
        let data = temp_file(&format!("data_{name}"), json.replace("\"b\"", "\"x\""));
        let out = chainrule(&["explain", p(&net), "--data", p(&data)]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
    }
}

#[test]
fn json_arrays_of_the_wrong_depth_name_their_path() {
    let net = temp_file("small.nn", SMALL);
    for (name, json, path) in [
        (
            "flat.json",
            r#"{"W": [0.1, 0.2, 0.3, 0.4]}"#,
            "W: expected 2 elements, found 4",
        ),
        (
            "flat2.json",
            r#"{"W": [0.1, 0.2]}"#,
            "W[0]: expected an array of 2, found a number",
        ),
        (
            "deep.json",
            r#"{"b": [[0], [0]]}"#,
            "b[0]: expected a number, found an array",
        ),
        (
            "deeper.json",
            r#"{"W": [[[0.1], 0.2], [0.3, 0.4]]}"#,
            "W[0][0]: expected a number",
        ),
        (
            "scalar.json",
            r#"{"V": 1}"#,
            "V: expected an array of 1, found a number",
        ),
        (
            "ragged.json",
            r#"{"W": [[0.1, 0.2], [0.3]]}"#,
            "W[1]: expected 2 elements, found 1",
        ),
        (
            "empty.json",
            r#"{"W": []}"#,
            "W: expected 2 elements, found 0",
        ),
    ] {
        let params = temp_file(name, json);
        let out = chainrule(&["eval", p(&net), "--params", p(&params)]);
        assert_input_error(&out, &[name, path]);
    }
    for (name, json, path) in [
        (
            "data_deep.json",
            r#"{"x": [[[1, 2]]]}"#,
            "x[0][0]: expected a number",
        ),
        (
            "data_rows.json",
            r#"{"x": [[1, 2], [3]]}"#,
            "x[1]: expected 2 elements, found 1",
        ),
        (
            "data_empty.json",
            r#"{"x": []}"#,
            "x: expected 2 elements, found 0",
        ),
        ("data_object.json", r#"[1, 2]"#, "must be an object"),
    ] {
        let data = temp_file(name, json);
        let out = chainrule(&["eval", p(&net), "--data", p(&data)]);
        assert_input_error(&out, &[name, path]);
    }
}

fn many_networks(count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "network n{i} {{\n  input x[2] = [1, 2]\n  target t[1] = [0]\n  h[3] = W @ x + b\n  y[1] = V @ sigmoid(h)\n  loss L = sum((y - t)^2)\n}}\n"
            )
        })
        .collect()
}

#[test]
fn a_file_of_a_thousand_networks() {
    let file = temp_file("thousand.nn", many_networks(1000));
    let out = chainrule(&["shapes", p(&file), "--network", "n999", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(r#""network":"n999""#));
    let out = chainrule(&["shapes", p(&file)]);
    assert_input_error(&out, &["several networks", "n0, n1, n2"]);
    let out = chainrule(&["eval", p(&file), "--network", "n1000"]);
    assert_input_error(&out, &["no network named `n1000`"]);
}

/// `layers` dense tanh layers of width 3, with default values.
fn deep_network(layers: usize) -> String {
    let mut text = String::from(
        "network deep {\n  input x[3] = [0.5, -0.5, 1]\n  target t[3] = [0.1, 0.2, 0.3]\n",
    );
    let mut previous = "x".to_string();
    for i in 0..layers {
        text.push_str(&format!(
            "  z{i}[3] = W{i} @ {previous} + b{i}\n  a{i} = tanh(z{i})\n"
        ));
        previous = format!("a{i}");
    }
    text.push_str(&format!("  loss L = 0.5 * sum(({previous} - t)^2)\n"));
    for i in 0..layers {
        text.push_str(&format!(
            "  param W{i}[3][3] = [[0.5, -0.3, 0.2], [0.1, 0.4, -0.6], [-0.2, 0.3, 0.5]]\n  param b{i}[3] = [0.01, -0.02, 0.03]\n"
        ));
    }
    text.push_str("}\n");
    text
}

#[test]
fn a_network_of_200_layers() {
    let file = temp_file("deep.nn", deep_network(200));
    for args in [
        vec!["shapes"],
        vec!["latex"],
        vec!["latex", "--weight", "W199[0][0]"],
        vec!["explain", "--lr", "0.1"],
    ] {
        let mut full = args.clone();
        full.push(p(&file));
        let out = chainrule(&full);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    let out = chainrule(&["eval", p(&file), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert!(
        v["loss"].as_f64().is_some_and(f64::is_finite),
        "{}",
        v["loss"]
    );
    assert_eq!(v["gradient"].as_object().map(|o| o.len()), Some(400));
    // The first layer's closed form is 3^200 symbols long: the chain form says so and skips it.
    let out = chainrule(&["latex", p(&file), "--weight", "W0[0][0]"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("symbols long written out: see the delta form"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_layer_of_a_million_by_a_million_is_refused_at_once() {
    let file = temp_file(
        "huge.nn",
        "network huge {\n  input x[1000000]\n  z[1000000] = W @ x\n  loss L = sum(z)\n}\n",
    );
    for command in ["shapes", "eval", "latex", "explain"] {
        let start = Instant::now();
        let out = chainrule(&[command, p(&file)]);
        assert!(start.elapsed() < Duration::from_secs(2), "{command}");
        assert_input_error(
            &out,
            &[
                "huge.nn:3:16:",
                "too large",
                "limit of 2000000",
                "parameter `W`",
            ],
        );
    }
}

/// A convolutional network whose `flatten` stands where the tensor level does not cover it
/// (here under a `tanh` that defines a vector of its own) has no tensor-level statements, so
/// every step would be straight-line code: `rust` refuses it and says why, and how to write it
/// instead. A `flatten` in a product's operand (`W2 @ flatten(p1)`, `W2 @ tanh(flatten(p1))`)
/// and `flat = flatten(p1)` on a line of its own are covered.
#[test]
fn an_inline_flatten_too_large_for_straight_line_code_says_why() {
    let file = temp_file(
        "inline_flatten.nn",
        "network cnn {\n  input img[1][8][8]\n  target y label[10]\n  param K1[16][1][3][3]\n  \
         z1 = conv2d(img, K1)\n  a1 = relu(z1)\n  p1 = maxpool2d(a1, 2)\n  \
         f = tanh(flatten(p1))\n  h[10] = W2 @ f + b2\n  loss L = -log_softmax(h)[y]\n}\n",
    );
    let out = chainrule(&["rust", p(&file)]);
    assert_input_error(
        &out,
        &[
            "inline_flatten.nn:",
            "would generate at least",
            "the tensor level does not cover a `flatten` outside a product's operand",
            "`flat = flatten(x)` on a line of its own",
        ],
    );
    let named = temp_file(
        "named_flatten.nn",
        "network cnn {\n  input img[1][8][8]\n  target y label[10]\n  param K1[16][1][3][3]\n  \
         z1 = conv2d(img, K1)\n  a1 = relu(z1)\n  p1 = maxpool2d(a1, 2)\n  \
         flat = flatten(p1)\n  h[10] = W2 @ flat + b2\n  loss L = -log_softmax(h)[y]\n}\n",
    );
    let product = temp_file(
        "product_flatten.nn",
        "network cnn {\n  input img[1][8][8]\n  target y label[10]\n  param K1[16][1][3][3]\n  \
         z1 = conv2d(img, K1)\n  a1 = relu(z1)\n  p1 = maxpool2d(a1, 2)\n  \
         h[10] = W2 @ flatten(p1) + b2\n  loss L = -log_softmax(h)[y]\n}\n",
    );
    let mapped = temp_file(
        "mapped_flatten.nn",
        "network cnn {\n  input img[1][8][8]\n  target y label[10]\n  param K1[16][1][3][3]\n  \
         z1 = conv2d(img, K1)\n  a1 = relu(z1)\n  p1 = maxpool2d(a1, 2)\n  \
         h[10] = W2 @ tanh(flatten(p1)) + b2\n  loss L = -log_softmax(h)[y]\n}\n",
    );
    for file in [&named, &product, &mapped] {
        let out = chainrule(&["rust", p(file)]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("for ix_"),
            "no loop in:\n{}",
            stdout(&out)
        );
    }
}

#[test]
fn a_reader_that_stops_early_is_not_a_panic() {
    // More output than a pipe holds, read by nobody.
    let file = temp_file("deep_pipe.nn", deep_network(200));
    for command in ["latex", "explain", "eval"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chainrule"))
            .args([command, p(&file)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err)
            .expect("stderr text");
        let status = child.wait().expect("exit");
        assert!(
            status.code() != Some(101) && !err.contains("panicked"),
            "{command}: {status:?} {err}"
        );
    }
}

#[test]
fn eval_prints_finite_numbers_for_saturated_activations() {
    for (f, z) in [
        ("sigmoid", 1000.0),
        ("sigmoid", -1000.0),
        ("tanh", 1000.0),
        ("tanh", -1000.0),
        ("softplus", 1000.0),
        ("softplus", -1000.0),
        ("exp", -1000.0),
    ] {
        let file = temp_file(
            "saturated.nn",
            format!(
                "network s {{\n  input x[2] = [{z}, {}]\n  target t[1] = [0.5]\n  h[2] = W @ x\n  y[1] = V @ {f}(h)\n  loss L = sum((y - t)^2)\n  param W[2][2] = [[1, 0], [0, 1]]\n  param V[1][2] = [[0.5, 0.5]]\n}}\n",
                z / 2.0
            ),
        );
        let out = chainrule(&["eval", p(&file), "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        // JSON has no NaN or infinity: serde_json writes them as null.
        assert!(!stdout(&out).contains("null"), "{f}({z}): {}", stdout(&out));
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
        assert!(v["loss"].as_f64().is_some_and(f64::is_finite));
        let out = chainrule(&["explain", p(&file)]);
        let text = stdout(&out).to_lowercase();
        assert!(
            !text.contains("nan") && !text.contains("inf"),
            "{f}({z}): {text}"
        );
    }
}

#[test]
fn a_learning_rate_that_is_not_finite_is_refused() {
    for lr in ["--lr=NaN", "--lr=inf", "--lr=-inf", "--lr=1e999"] {
        let out = chainrule(&["explain", "examples/nets/seed004.nn", lr]);
        assert_input_error(&out, &["--lr must be a finite number"]);
        let out = chainrule(&["latex", "examples/nets/seed004.nn", "--form", "numeric", lr]);
        assert_input_error(&out, &["--lr must be a finite number"]);
    }
}

/// A fresh directory for one test's output files.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chainrule-robust-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The names in `dir`, sorted: a temporary file left behind shows here.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What `chainrule latex seed004` prints, which `-o` must write.
fn seed004_latex() -> String {
    let out = chainrule(&["latex", "examples/nets/seed004.nn"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn output_through_a_symlink_keeps_the_link() {
    use std::os::unix::fs::symlink;
    let dir = scratch_dir("symlink");
    std::fs::write(dir.join("real.tex"), "previous").expect("write");
    symlink("real.tex", dir.join("link.tex")).expect("symlink");
    // A dangling link creates what it points at, as a shell's `>` does.
    symlink("made.tex", dir.join("dangling.tex")).expect("symlink");
    for link in ["link.tex", "dangling.tex"] {
        let out = chainrule(&[
            "latex",
            "examples/nets/seed004.nn",
            "-o",
            p(&dir.join(link)),
        ]);
        assert_eq!(out.status.code(), Some(0), "{link}: {}", stderr(&out));
        let meta = std::fs::symlink_metadata(dir.join(link)).expect("meta");
        assert!(
            meta.file_type().is_symlink(),
            "{link} was replaced by a file"
        );
    }
    for target in ["real.tex", "made.tex"] {
        let written = std::fs::read_to_string(dir.join(target)).expect("read");
        assert_eq!(written, seed004_latex(), "{target}");
    }
    assert_eq!(
        entries(&dir),
        ["dangling.tex", "link.tex", "made.tex", "real.tex"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_keeps_the_mode_of_the_file_it_replaces() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch_dir("mode");
    for mode in [0o600, 0o755, 0o666, 0o444] {
        let out_file = dir.join(format!("out{mode:o}.tex"));
        std::fs::write(&out_file, "previous").expect("write");
        std::fs::set_permissions(&out_file, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let out = chainrule(&["latex", "examples/nets/seed004.nn", "-o", p(&out_file)]);
        assert_eq!(out.status.code(), Some(0), "{mode:o}: {}", stderr(&out));
        let meta = std::fs::metadata(&out_file).expect("meta");
        assert_eq!(meta.permissions().mode() & 0o7777, mode, "mode {mode:o}");
        assert_eq!(
            std::fs::read_to_string(&out_file).expect("read"),
            seed004_latex()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_to_a_full_device_reports_the_error_and_keeps_the_device() {
    use std::os::unix::fs::FileTypeExt;
    let dir = scratch_dir("device");
    let full = dir.join("full");
    // A copy of /dev/full (character device 1:7); making one needs CAP_MKNOD.
    let made = Command::new("mknod")
        .arg(&full)
        .args(["c", "1", "7"])
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("skipped: mknod needs CAP_MKNOD");
        return;
    }
    let out = chainrule(&["latex", "examples/nets/seed004.nn", "-o", p(&full)]);
    assert_input_error(
        &out,
        &["full: error: cannot write the output", "No space left"],
    );
    let meta = std::fs::symlink_metadata(&full).expect("meta");
    assert!(
        meta.file_type().is_char_device(),
        "the device became {meta:?}"
    );
    assert_eq!(entries(&dir), ["full"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_to_a_pipe_is_written_through() {
    use std::os::unix::fs::FileTypeExt;
    let dir = scratch_dir("fifo");
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let writer = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(["latex", "examples/nets/seed004.nn", "-o", p(&fifo)])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Opening a pipe's read end waits for a writer: on a thread, so that a writer that never
    // opens the pipe (it renamed a file over it) fails the test instead of hanging it.
    let (send, receive) = std::sync::mpsc::channel();
    let reader = fifo.clone();
    std::thread::spawn(move || {
        let mut read = String::new();
        let result = std::fs::File::open(&reader).and_then(|mut f| f.read_to_string(&mut read));
        let _ = send.send(result.map(|_| read));
    });
    let done = writer.wait_with_output().expect("wait");
    assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));
    let read = receive
        .recv_timeout(TIME_LIMIT)
        .expect("the pipe was written to")
        .expect("the pipe reads");
    assert_eq!(read, seed004_latex());
    let meta = std::fs::symlink_metadata(&fifo).expect("meta");
    assert!(meta.file_type().is_fifo(), "the pipe became {meta:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_output_write_leaves_the_old_file_and_no_temporary_file() {
    let dir = scratch_dir("efbig");
    let out_file = dir.join("page.html");
    std::fs::write(&out_file, "previous").expect("write");
    // A file-size limit of one block, with SIGXFSZ ignored: the write fails with EFBIG.
    let out = Command::new("sh")
        .args(["-c", "trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_chainrule"))
        .args(["html", "examples/nets/seed004.nn", "-o", p(&out_file)])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("sh runs");
    assert_input_error(&out, &["page.html: error: cannot write the output"]);
    assert_eq!(
        std::fs::read_to_string(&out_file).expect("read"),
        "previous"
    );
    assert_eq!(entries(&dir), ["page.html"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_json_key_given_twice_is_refused_with_its_path() {
    let net = temp_file("small.nn", SMALL);
    let params = temp_file(
        "twice.json",
        "{\"W\": [[1, 0], [0, 1]],\n \"b\": [1, 1],\n \"W\": [[2, 0], [0, 2]]}",
    );
    let out = chainrule(&["eval", p(&net), "--params", p(&params)]);
    assert_input_error(
        &out,
        &["twice.json: error: W: the key is given twice", "line 3"],
    );
    let data = temp_file("twice_data.json", r#"{"x": [1, 2], "t": [0], "x": [3, 4]}"#);
    let out = chainrule(&["explain", p(&net), "--data", p(&data)]);
    assert_input_error(&out, &["twice_data.json: error: x: the key is given twice"]);
}

#[test]
fn a_byte_order_mark_is_accepted_in_json_as_in_nn_files() {
    let net = temp_file("bom.nn", format!("\u{feff}{SMALL}"));
    let plain = temp_file("plain.json", r#"{"b": [0.5, -0.5]}"#);
    let bom = temp_file("bom.json", "\u{feff}{\"b\": [0.5, -0.5]}");
    let expected = chainrule(&["eval", p(&net), "--params", p(&plain), "--json"]);
    assert_eq!(expected.status.code(), Some(0), "{}", stderr(&expected));
    let out = chainrule(&["eval", p(&net), "--params", p(&bom), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&expected));
}

#[test]
fn a_lone_carriage_return_is_a_line_break() {
    // Classic Mac OS line endings: the comment ends at its `\r`, the error is on line 4.
    let net = temp_file(
        "cr.nn",
        "# a comment\rnetwork n {\r  input x[2]\r  y = sigmod(x)\r  loss L = sum(y)\r}\r",
    );
    let out = chainrule(&["shapes", p(&net)]);
    assert_input_error(&out, &["cr.nn:4:7: error:", "4 |   y = sigmod(x)\n"]);
    let json = temp_file("cr.json", "{\r\"b\": [0,\r0],\r}");
    let net = temp_file("small.nn", SMALL);
    let out = chainrule(&["eval", p(&net), "--params", p(&json)]);
    assert_input_error(&out, &["cr.json: error: invalid JSON at line 4, column 1"]);
}

#[test]
fn a_result_that_is_not_finite_is_said_on_stderr() {
    // exp(1000) overflows: the loss is infinite, and JSON prints it as null.
    let net = temp_file(
        "overflow.nn",
        "network o {\n  input x[1] = [1000]\n  y[1] = exp(w * x)\n  loss L = sum(y)\n  param w[1] = [1]\n}\n",
    );
    let out = chainrule(&["eval", p(&net), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert!(v["loss"].is_null(), "{v}");
    let err = stderr(&out);
    assert!(
        err.contains("warning: not finite: the loss is inf") && err.contains("printed as null"),
        "{err}"
    );
    let out = chainrule(&["eval", p(&net), "--of", "y[0]", "--wrt", "w", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the value is inf"),
        "{}",
        stderr(&out)
    );
    // A finite result says nothing.
    let out = chainrule(&["eval", "examples/nets/seed004.nn", "--json"]);
    assert_eq!(stderr(&out), "");
}

/// What a run printed (its first bytes and how many in all), its exit code and its stderr.
struct Bounded {
    code: Option<i32>,
    head: String,
    bytes: usize,
    lines: usize,
    err: String,
}

/// Runs the binary, reading its output as it comes (counted, the first 1 MB kept), and kills
/// it if it has not finished within `limit`: a run that does not end is a failure, not a hang.
fn run_within(args: &[&str], limit: Duration) -> Bounded {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let (mut head, mut bytes, mut lines) = (Vec::new(), 0usize, 0usize);
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            bytes += n;
            lines += buf[..n].iter().filter(|&&b| b == b'\n').count();
            if head.len() < 1 << 20 {
                head.extend_from_slice(&buf[..n]);
            }
        }
        (String::from_utf8_lossy(&head).into_owned(), bytes, lines)
    });
    let mut err_pipe = child.stderr.take().expect("stderr");
    let err_reader = std::thread::spawn(move || {
        let mut err = String::new();
        let _ = err_pipe.read_to_string(&mut err);
        err
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chainrule {args:?} ran for more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (head, bytes, lines) = reader.join().expect("reader");
    let err = err_reader.join().expect("stderr reader");
    assert!(
        status.code() != Some(101) && !err.contains("panicked"),
        "chainrule {args:?} panicked: {err}"
    );
    Bounded {
        code: status.code(),
        head,
        bytes,
        lines,
        err,
    }
}

/// A dense network `sizes[0]-...-sizes[n]` with `activation` hidden layers and a softmax
/// cross-entropy output, as tutorials write MNIST classifiers.
fn dense_network(name: &str, sizes: &[usize], activation: &str) -> String {
    let mut text = format!(
        "network {name} {{\n  input x[{}]\n  target t[{}] onehot\n",
        sizes[0],
        sizes[sizes.len() - 1]
    );
    let mut previous = "x".to_string();
    for (i, n) in sizes.iter().enumerate().skip(1) {
        if i + 1 == sizes.len() {
            text.push_str(&format!("  z[{n}] = W{i} @ {previous} + b{i}\n"));
        } else {
            text.push_str(&format!(
                "  h{i}[{n}] = {activation}(W{i} @ {previous} + b{i})\n"
            ));
            previous = format!("h{i}");
        }
    }
    text.push_str("  loss L = logsumexp(z) - sum(t * z)\n}\n");
    text
}

/// `--params` and `--data` JSON for [`dense_network`], from a fixed formula.
fn dense_point(sizes: &[usize]) -> (String, String) {
    let mut params = serde_json::Map::new();
    for i in 1..sizes.len() {
        let (rows, cols) = (sizes[i], sizes[i - 1]);
        let w: Vec<Vec<f64>> = (0..rows)
            .map(|r| {
                (0..cols)
                    .map(|c| ((r * 31 + c * 17) % 97) as f64 / 970.0 - 0.05)
                    .collect()
            })
            .collect();
        params.insert(format!("W{i}"), serde_json::json!(w));
        params.insert(format!("b{i}"), serde_json::json!(vec![0.01; rows]));
    }
    let x: Vec<f64> = (0..sizes[0]).map(|k| (k % 10) as f64 / 10.0).collect();
    let mut t = vec![0.0; sizes[sizes.len() - 1]];
    t[3] = 1.0;
    let data = serde_json::json!({ "x": x, "t": t });
    (
        serde_json::Value::Object(params).to_string(),
        data.to_string(),
    )
}

/// Debug builds are several times slower than release; a run past this is a hang.
const BIG_LIMIT: Duration = Duration::from_secs(60);

#[test]
fn a_784_30_10_network_prints_a_sample_and_says_how_to_ask_for_more() {
    let sizes = [784, 30, 10];
    let file = temp_file("nielsen.nn", dense_network("nielsen", &sizes, "sigmoid"));
    let (params, data) = dense_point(&sizes);
    let params = temp_file("nielsen_params.json", params);
    let data = temp_file("nielsen_data.json", data);
    // Issue 24: 124 MB of chain form and 49,044 lines of explain, before.
    for form in ["chain", "delta", "numeric"] {
        let out = run_within(
            &[
                "latex",
                p(&file),
                "--form",
                form,
                "--params",
                p(&params),
                "--data",
                p(&data),
            ],
            BIG_LIMIT,
        );
        assert_eq!(out.code, Some(0), "{form}: {}", out.err);
        assert!(out.bytes < 200_000, "{form}: {} bytes", out.bytes);
        assert!(out.head.contains("w^{(1)}_{00}"), "{form}");
        assert!(!out.head.contains("w^{(1)}_{01}"), "{form}");
        for needle in ["4 of its 23860 weights", "--weight", "--all"] {
            assert!(out.err.contains(needle), "{form}: {needle} in {}", out.err);
            assert!(out.head.contains(needle), "{form}: {needle} in the output");
        }
    }
    // Any other weight on request, and every one with --all.
    let out = run_within(
        &["latex", p(&file), "--form", "chain", "--weight", "W1[5][7]"],
        BIG_LIMIT,
    );
    assert_eq!(out.code, Some(0), "{}", out.err);
    assert!(
        out.head.contains("w^{(1)}_{57}") && out.err.is_empty(),
        "{}",
        out.err
    );
    let out = run_within(&["latex", p(&file), "--all"], BIG_LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.err);
    // One equation (at least a line) per weight.
    assert!(
        out.lines > 23_860 && out.err.is_empty(),
        "{} lines",
        out.lines
    );

    let out = run_within(
        &[
            "explain",
            p(&file),
            "--params",
            p(&params),
            "--data",
            p(&data),
        ],
        BIG_LIMIT,
    );
    assert_eq!(out.code, Some(0), "{}", out.err);
    assert!(out.lines < 200, "{} lines", out.lines);
    assert!(out.head.contains("W1[0][2]") && !out.head.contains("W1[0][3] "));
    assert!(
        out.err.contains("--weight") && out.err.contains("--all"),
        "{}",
        out.err
    );
    let out = run_within(
        &[
            "explain",
            p(&file),
            "--params",
            p(&params),
            "--data",
            p(&data),
            "--weight",
            "W2[3][4]",
        ],
        BIG_LIMIT,
    );
    assert_eq!(out.code, Some(0), "{}", out.err);
    assert!(out.head.contains("dz[3]/dW2[3][4]"), "{}", out.head);
    assert!(
        out.head
            .lines()
            .any(|l| l.trim_start().starts_with("W2[3][4] ")),
        "{}",
        out.head
    );
}

#[test]
fn explain_all_prints_every_row() {
    let sizes = [20, 16, 10];
    let file = temp_file("medium.nn", dense_network("medium", &sizes, "tanh"));
    let (params, data) = dense_point(&sizes);
    let params = temp_file("medium_params.json", params);
    let data = temp_file("medium_data.json", data);
    let args = [
        "explain",
        p(&file),
        "--params",
        p(&params),
        "--data",
        p(&data),
    ];
    let sampled = run_within(&args, BIG_LIMIT);
    let mut all_args = args.to_vec();
    all_args.push("--all");
    let all = run_within(&all_args, BIG_LIMIT);
    assert_eq!((sampled.code, all.code), (Some(0), Some(0)), "{}", all.err);
    assert!(sampled.head.contains("more (--weight or --all)"));
    assert!(!all.head.contains("more (--weight or --all)") && all.err.is_empty());
    // 20 * 16 + 16 * 10 weights and 26 biases: one gradient row each.
    let gradients = all
        .head
        .split("Gradients")
        .nth(1)
        .expect("a gradient table");
    assert_eq!(gradients.lines().filter(|l| l.contains("  W")).count(), 480);
}

#[test]
fn a_784_256_10_relu_network_finishes_in_seconds_with_bounded_output() {
    let sizes = [784, 256, 10];
    let file = temp_file("mnist.nn", dense_network("mnist", &sizes, "relu"));
    let (params, data) = dense_point(&sizes);
    let params = temp_file("mnist_params.json", params);
    let data = temp_file("mnist_data.json", data);
    // Before: 4.35 GB of delta form (relu's step repeats a 784-term sum per weight) and an
    // explain that did not finish in 600 s.
    for args in [
        vec!["latex", p(&file), "--form", "delta"],
        vec!["latex", p(&file), "--form", "chain"],
        vec![
            "explain",
            p(&file),
            "--params",
            p(&params),
            "--data",
            p(&data),
        ],
    ] {
        let out = run_within(&args, BIG_LIMIT);
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.err);
        assert!(out.bytes < 2_000_000, "{args:?}: {} bytes", out.bytes);
        assert!(out.err.contains("--all"), "{args:?}: {}", out.err);
    }
}

/// Three nested `grad`s of a 2-32-32-1 tanh network: small as a graph, more than 10^7 symbols
/// written out as a tree.
const NESTED_GRADS: &str = "network pinn {
  input x[2] = [0.5, 0.2]
  target t[2] = [0.1, 0.2]
  h1[32] = tanh(W1 @ x + b1)
  h2[32] = tanh(W2 @ h1 + b2)
  u[1] = W3 @ h2
  g1[2] = grad(u[0], x)
  g2[2] = grad(sum(g1), x)
  g3[2] = grad(sum(g2), x)
  loss L = sum((g3 - t)^2)
}
";

#[test]
fn three_nested_grads_are_refused_at_once_where_they_would_be_written_out() {
    let file = temp_file("nested_grads.nn", NESTED_GRADS);
    for args in [
        vec!["rust"],
        vec!["numpy"],
        vec!["notebook"],
        vec!["html"],
        vec!["latex", "--form", "general"],
    ] {
        let mut full = args.clone();
        full.push(p(&file));
        let out = run_within(&full, Duration::from_secs(20));
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.err);
        assert!(out.bytes == 0, "{args:?}");
        for needle in [
            "nested_grads.nn: error:",
            "too large to write out",
            "limit of 10000000",
        ] {
            assert!(
                out.err.contains(needle),
                "{args:?}: {needle} in {}",
                out.err
            );
        }
    }
    // The graph itself is small: the delta form (a sample) and the chain form print.
    for args in [
        vec!["latex"],
        vec!["latex", "--form", "chain", "--weight", "W3[0][0]"],
    ] {
        let mut full = args.clone();
        full.push(p(&file));
        let out = run_within(&full, Duration::from_secs(30));
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.err);
        assert!(out.bytes < 5_000_000, "{args:?}: {}", out.bytes);
    }
}

#[test]
fn four_nested_grads_of_a_wider_network_are_refused_by_the_size_check() {
    // Before: `latex` ran past two minutes and 900 MB building the derivation; the size check
    // counted a `grad` by its own expression, not by the definitions its sweep goes through.
    let text = NESTED_GRADS.replace("[32]", "[128]").replace(
        "  loss L = sum((g3 - t)^2)",
        "  g4[2] = grad(sum(g3), x)\n  loss L = sum((g4 - t)^2)",
    );
    let file = temp_file("nested_grads_wide.nn", text);
    for command in [
        "shapes", "eval", "latex", "explain", "rust", "numpy", "html",
    ] {
        let out = run_within(&[command, p(&file)], Duration::from_secs(10));
        assert_eq!(out.code, Some(2), "{command}: {}", out.err);
        for needle in [
            "nested_grads_wide.nn:10:3:",
            "too large",
            "limit of 4000000",
            "`g4` alone",
        ] {
            assert!(
                out.err.contains(needle),
                "{command}: {needle} in {}",
                out.err
            );
        }
    }
}

#[test]
fn an_endless_json_file_is_refused_at_the_documented_limit() {
    let net = temp_file("small_zero.nn", SMALL);
    for flag in ["--params", "--data"] {
        let out = run_within(
            &["eval", p(&net), flag, "/dev/zero"],
            Duration::from_secs(20),
        );
        assert_eq!(out.code, Some(2), "{}", out.err);
        assert!(
            out.err.contains(
                "/dev/zero: error: the file is larger than the limit of 268435456 bytes (256 MiB)"
            ),
            "{}",
            out.err
        );
    }
    let out = run_within(&["shapes", "/dev/zero"], Duration::from_secs(20));
    assert_eq!(out.code, Some(2), "{}", out.err);
    assert!(
        out.err.contains("limit of 67108864 bytes (64 MiB)"),
        "{}",
        out.err
    );
}

#[test]
fn an_identifier_of_70000_characters_panics_no_subcommand() {
    // A format width past u16::MAX panicked `shapes` and `notebook` (issue 24).
    let long = "a".repeat(70_000);
    let text = format!(
        "network n {{\n  input {long}[2] = [1, 2]\n  target t[1] = [0.5]\n  y[1] = W @ {long}\n  loss L = sum((y - t)^2)\n  param W[1][2] = [[0.1, 0.2]]\n}}\n"
    );
    let file = temp_file("long_name.nn", text);
    let weight = "W[0][1]";
    let commands: Vec<Vec<&str>> = vec![
        vec!["shapes"],
        vec!["shapes", "--json"],
        vec!["eval"],
        vec!["eval", "--json"],
        vec!["eval", "--of", "y[0]"],
        vec!["latex"],
        vec!["latex", "--form", "chain"],
        vec!["latex", "--form", "general"],
        vec!["latex", "--form", "numeric", "--standalone"],
        vec!["latex", "--of", "y[0]"],
        vec!["explain", "--weight", weight],
        vec!["check"],
        vec!["rust"],
        vec!["html"],
        vec!["notebook"],
        vec!["numpy"],
    ];
    for args in commands {
        let mut full = args.clone();
        full.push(p(&file));
        let out = run_within(&full, Duration::from_secs(30));
        assert!(
            matches!(out.code, Some(0 | 2)),
            "{args:?}: {:?} {}",
            out.code,
            out.err
        );
        if args == ["shapes"] {
            assert_eq!(out.code, Some(0), "{}", out.err);
            assert!(out.head.contains(&format!("input   {long}  [2]")));
        }
    }
}
