//! Unit tests of the parent module.
use super::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Link {
    bandwidth: crate::units::Bandwidth,
    latency: crate::units::SimTime,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Doc {
    name: String,
    nic: Link,
    fabric: Fabric,
    layers: Vec<Link>,
}
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Fabric {
    kind: String,
    uplink: Link,
}

fn err(text: &str) -> InputError {
    Source::from_text("t.yaml", text)
        .parse::<Doc>()
        .unwrap_err()
}

#[test]
fn flow_mapping_value_errors_name_path_and_line() {
    let e = err(
        "name: a\nnic: { bandwidth: 100, latency: 1us }\nfabric: { kind: switch, uplink: { bandwidth: 1Gbps, latency: 1us } }\nlayers: []\n",
    );
    assert_eq!(e.line, Some(2));
    assert_eq!(e.yaml_path.as_deref(), Some("nic.bandwidth"));
    assert!(e.message.contains("has no unit"), "{}", e.message);
    assert!(!e.message.contains("at line"), "{}", e.message);
    let shown = e.to_string();
    assert!(shown.starts_with("t.yaml:2:"), "{shown}");
}

#[test]
fn nested_block_and_list_paths() {
    let e = err(
        "name: a\nnic: { bandwidth: 1Gbps, latency: 1us }\nfabric:\n  kind: x\n  uplink:\n    bandwidth: 0Gbps\n    latency: 1us\nlayers: []\n",
    );
    assert_eq!(e.yaml_path.as_deref(), Some("fabric.uplink.bandwidth"));
    assert_eq!(e.line, Some(6));
    let e = err(
        "name: a\nnic: { bandwidth: 1Gbps, latency: 1us }\nfabric: { kind: s, uplink: { bandwidth: 1Gbps, latency: 1us } }\nlayers:\n  - { bandwidth: 1Gbps, latency: 1us }\n  - { bandwidth: 1Gbps, latency: 1 }\n",
    );
    assert_eq!(e.yaml_path.as_deref(), Some("layers[1].latency"));
    let e = err(
        "name: a\nnic: { bandwidth: 1Gbps, latency: 1us }\nfabric: { kind: s, uplink: { bandwidth: 1Gbps, latency: 2us } }\nlayers:\n  - bandwidth: 1Gbps\n    latency: 1us\n  - bandwidth: 1Gbps\n    latency: 1us\n    colour: red\n",
    );
    assert_eq!(e.yaml_path.as_deref(), Some("layers[1].colour"));
    assert!(e.message.contains("unknown field"), "{}", e.message);
}

#[test]
fn unknown_fields_and_syntax_errors_are_reported() {
    let e = err("name: a\nnic: { bandwidth: 1Gbps, latency: 1us, mtu: 9000 }\n");
    assert!(e.message.contains("unknown field `mtu`"), "{}", e.message);
    let e = err("name: [a\n");
    assert!(e.line.is_some());
    let e = Source::read(Path::new("/nonexistent/x.yaml")).unwrap_err();
    assert!(e.to_string().contains("cannot read"));
}

#[test]
fn columns_after_multibyte_characters_do_not_split_them() {
    // Found by the fuzz target: a column past a `×` used as a byte index.
    let e = err("name: 4 ×: x\n");
    assert!(e.line.is_some(), "{e}");
}
