//! Bad inputs from users and from the world (issue 8): paths escaping the data root, bad CSVs,
//! bad images, adversarial YAML and bad weights. Each must fail with a message naming the file,
//! line or field, exit non-zero, and publish nothing for the failing stage.
mod common;

use common::{Workspace, text, write_odir_folder};

/// A `load`-only pipeline over `odir/`, one split, 16 px.
const LOAD: &str =
    "stages:\n  load:\n    kind: load\n    params: {root: odir, size: 16, splits: [train]}\n";

/// A workspace with a three-image ODIR folder, its `train.csv` rewritten by `edit_csv`.
fn odir_workspace(edit_csv: impl Fn(&str) -> String) -> Workspace {
    let ws = Workspace::new();
    write_odir_folder(&ws.path("odir"), &["train"], 3);
    let csv = std::fs::read_to_string(ws.path("odir/train.csv")).unwrap();
    std::fs::write(ws.path("odir/train.csv"), edit_csv(&csv)).unwrap();
    ws.write("p.yaml", LOAD);
    ws
}

/// Runs `p.yaml`, expects exit 1 and nothing published; returns all output.
fn failed_run(ws: &Workspace) -> String {
    let output = ws.ablate(&["run", "p.yaml", "--device", "cpu"]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(ws.entries().is_empty(), "a failing stage published an entry:\n{out}");
    out
}

/// Runs the `load` pipeline over a CSV rewritten by `edit_csv`; returns the failure's output.
fn failed_csv(edit_csv: impl Fn(&str) -> String) -> String {
    failed_run(&odir_workspace(edit_csv))
}

/// Runs the `load` pipeline with `images/train/1_left.png` replaced by `bytes`.
fn failed_image(bytes: &[u8]) -> String {
    let ws = odir_workspace(str::to_string);
    std::fs::write(ws.path("odir/images/train/1_left.png"), bytes).unwrap();
    failed_run(&ws)
}

fn assert_contains(out: &str, expected: &str) {
    assert!(out.contains(expected), "expected `{expected}` in:\n{out}");
}

// 1. Paths escaping the data root.

#[test]
fn an_id_with_parent_folders_is_rejected_before_reading() {
    let out = failed_csv(|csv| csv.replace("1_left.png", "../../../../etc/passwd"));
    assert_contains(&out, "train.csv:3: id `../../../../etc/passwd` is not a plain file name");
}

#[test]
fn an_absolute_id_is_rejected_before_reading() {
    let out = failed_csv(|csv| csv.replace("0_left.png", "/etc/passwd"));
    assert_contains(&out, "train.csv:2: id `/etc/passwd` is not a plain file name");
}

#[test]
fn an_image_linked_from_outside_the_data_root_is_refused() {
    let ws = odir_workspace(str::to_string);
    let secret = ws.write("secret.png", "");
    std::fs::copy(ws.path("odir/images/train/1_left.png"), &secret).unwrap();
    std::fs::remove_file(ws.path("odir/images/train/1_left.png")).unwrap();
    std::os::unix::fs::symlink(&secret, ws.path("odir/images/train/1_left.png")).unwrap();
    let out = failed_run(&ws);
    let real = secret.canonicalize().unwrap();
    let root = ws.path("odir").canonicalize().unwrap();
    assert_contains(
        &out,
        &format!(
            "image odir/images/train/1_left.png resolves to {}, outside the data root {} (symbolic links may not leave it)",
            real.display(),
            root.display()
        ),
    );
    // A link that stays inside the root is followed.
    std::fs::remove_file(ws.path("odir/images/train/1_left.png")).unwrap();
    std::os::unix::fs::symlink("0_left.png", ws.path("odir/images/train/1_left.png")).unwrap();
    assert_eq!(ws.run("p.yaml", &[]), ["load"]);
}

// 2. CSV problems.

#[test]
fn a_header_with_a_missing_label_column_is_rejected() {
    let out = failed_csv(|csv| csv.replacen("id,D,G,A", "id,D,G", 1));
    assert_contains(&out, "train.csv:2: expected 3 fields (`id,D,G`), found 4");
}

#[test]
fn a_header_without_an_id_column_is_rejected() {
    let out = failed_csv(|csv| csv.replacen("id,D,G,A", "name,D,G,A", 1));
    assert_contains(&out, "train.csv:1: header must be `id,<label>,…`, found `name,D,G,A`");
}

#[test]
fn a_duplicate_id_names_both_lines() {
    let out = failed_csv(|csv| csv.replace("2_left.png", "0_left.png"));
    assert_contains(&out, "train.csv:4: duplicate id `0_left.png` (first on line 2)");
}

#[test]
fn labels_other_than_0_or_1_are_rejected() {
    for (bad, shown) in [("2", "`2`"), ("x", "`x`"), ("", "``")] {
        let out =
            failed_csv(|csv| csv.replace("1_left.png,0,1,0", &format!("1_left.png,0,{bad},0")));
        assert_contains(&out, &format!("train.csv:3: label G must be 0 or 1, found {shown}"));
    }
}

#[test]
fn a_csv_without_rows_is_rejected() {
    let out = failed_csv(|_| "id,D,G,A\n".to_string());
    assert_contains(&out, "train.csv: no rows after the header");
}

// 3. Images.

#[test]
fn a_zero_byte_image_is_rejected() {
    let out = failed_image(b"");
    assert_contains(&out, "image odir/images/train/1_left.png is empty (0 bytes)");
}

/// A 20×20 RGB image encoded as `format`.
fn encoded(format: image::ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    let image =
        image::RgbImage::from_fn(20, 20, |x, y| image::Rgb([(x * 12) as u8, (y * 12) as u8, 7]));
    image.write_to(&mut std::io::Cursor::new(&mut bytes), format).unwrap();
    bytes
}

#[test]
fn truncated_png_and_jpeg_images_are_rejected() {
    for format in [image::ImageFormat::Png, image::ImageFormat::Jpeg] {
        let bytes = encoded(format);
        let out = failed_image(&bytes[..bytes.len() / 2]);
        assert_contains(&out, "cannot decode image odir/images/train/1_left.png");
    }
}

#[test]
fn grayscale_and_rgba_images_are_converted_to_rgb() {
    let ws = odir_workspace(str::to_string);
    image::GrayImage::from_pixel(20, 20, image::Luma([90]))
        .save(ws.path("odir/images/train/0_left.png"))
        .unwrap();
    image::RgbaImage::from_pixel(20, 20, image::Rgba([10, 20, 30, 128]))
        .save(ws.path("odir/images/train/1_left.png"))
        .unwrap();
    assert_eq!(ws.run("p.yaml", &[]), ["load"]);
    let dataset =
        ablate_stages::data::dataset::Dataset::read(&ws.output_of("p", "load").join("out"))
            .unwrap();
    let gray = &dataset.splits[0].images[..3 * 16 * 16];
    assert!(gray.iter().all(|&v| v == 90), "gray 90 becomes RGB (90, 90, 90)");
}

#[test]
fn a_png_declaring_a_huge_size_fails_fast() {
    let started = std::time::Instant::now();
    let out = failed_image(&png_claiming_size(&encoded(image::ImageFormat::Png), 100_000, 100_000));
    assert!(started.elapsed().as_secs() < 20, "took {:?}", started.elapsed());
    assert_contains(
        &out,
        "image odir/images/train/1_left.png declares 100000×100000, which exceeds the limit of 16384×16384",
    );
}

/// `png` with its IHDR chunk's width and height replaced (and the chunk's CRC recomputed).
fn png_claiming_size(png: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut png = png.to_vec();
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// The CRC-32 of PNG chunks (ISO 3309), bitwise.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

// 4. Adversarial YAML (unknown keys are in `tests/errors.rs`).

/// Runs `plan` on `yaml`, expects exit 2 within a few seconds; returns all output.
fn failed_plan(yaml: &str) -> String {
    let ws = Workspace::new();
    ws.write("p.yaml", yaml);
    let started = std::time::Instant::now();
    let output = ws.ablate(&["plan", "p.yaml"]);
    let out = text(&output);
    assert!(started.elapsed().as_secs() < 10, "took {:?}:\n{out}", started.elapsed());
    assert_eq!(output.status.code(), Some(2), "{out}");
    out
}

#[test]
fn deeply_nested_yaml_is_rejected() {
    let out = failed_plan(&format!("stages: {}{}\n", "[".repeat(10_000), "]".repeat(10_000)));
    assert_contains(&out, "malformed YAML: recursion limit exceeded");
    assert_contains(&out, "p.yaml:1:");
    assert!(out.len() < 1000, "the quoted line is cut around the column:\n{out}");
}

#[test]
fn huge_numbers_are_rejected() {
    let yaml = |epochs: &str| {
        format!(
            "stages:\n  data:\n    kind: synthetic\n    params: {{size: 16, train: 4, val: 2, offsite_test: 2, onsite_test: 2}}\n  model:\n    kind: backbone\n    params: {{arch: resnet18}}\n  train:\n    kind: train\n    inputs: {{data: data, model: model}}\n    params: {{epochs: {epochs}}}\n"
        )
    };
    for (epochs, message) in [("99999999999999999999", "integer"), ("1e400", "number")] {
        let out = failed_plan(&yaml(epochs));
        assert_contains(&out, &format!("{message} `{epochs}` is out of range"));
        assert_contains(&out, "p.yaml:11:22");
    }
}

#[test]
fn an_alias_bomb_hits_the_node_budget() {
    let mut yaml = String::from("vars:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        yaml.push_str(&format!("  a{i}: &a{i} [{refs}]\n"));
    }
    yaml.push_str("stages: {}\n");
    let out = failed_plan(&yaml);
    assert_contains(&out, "YAML document expands to more than 100000 nodes");
    assert_contains(&out, "p.yaml:");
    assert_contains(&out, "aliases are expanded");
}

// 5. Weights.

/// A `backbone` stage over `weights.safetensors`, with extra params.
fn backbone_workspace(extra_params: &str) -> Workspace {
    let ws = Workspace::new();
    let data = vec![0u8; 4 * 4];
    let tensor =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![4], &data).unwrap();
    safetensors::tensor::serialize_to_file(
        [("conv1.weight", tensor)],
        None,
        &ws.path("weights.safetensors"),
    )
    .unwrap();
    ws.write(
        "p.yaml",
        &format!("stages:\n  model:\n    kind: backbone\n    params: {{arch: resnet18, weights: weights.safetensors{extra_params}}}\n"),
    );
    ws
}

#[test]
fn a_weights_tensor_of_the_wrong_shape_is_named() {
    let out = failed_run(&backbone_workspace(""));
    assert_contains(&out, "weights do not fit the model: weights.safetensors");
    assert_contains(
        &out,
        "`backbone.conv1.weight` has shape [4] in the file but [64, 3, 7, 7] in the model",
    );
}

#[test]
fn a_wrong_sha256_is_refused() {
    let out = failed_run(&backbone_workspace(&format!(", sha256: {}", "ab".repeat(32))));
    assert_contains(&out, "weights.safetensors has sha256 ");
    assert_contains(&out, &format!("expected {}", "ab".repeat(32)));
}

#[test]
fn a_sha256_that_is_not_64_hex_digits_is_refused_when_planning() {
    for (bad, shown) in
        [("abc123", "`abc123`"), (&*"g".repeat(64), &*format!("`{}`", "g".repeat(64)))]
    {
        let ws = backbone_workspace(&format!(", sha256: {bad}"));
        let output = ws.ablate(&["plan", "p.yaml", "--device", "cpu"]);
        let out = text(&output);
        assert_eq!(output.status.code(), Some(2), "{out}");
        assert_contains(
            &out,
            &format!("parameter `sha256` must be 64 hexadecimal digits, found {shown}"),
        );
        assert_contains(&out, "p.yaml:4:");
    }
}
