//! Unit tests of grid expansion, sharding and sweep-file errors.

use super::*;
use std::io::Write;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    p
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn sweep_text(axes: &str) -> String {
    format!(
        "base: {}\naxes:\n{axes}",
        scenarios_dir().join("kccb-mnist.yaml").display()
    )
}

#[test]
fn grid_is_row_major_and_filtered() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "s.yaml",
        &(sweep_text(
            "  - { path: collective.chunks, values: [1, 2, 4] }\n  - { path: collective.overlap, values: [true, false] }\n",
        ) + "filter:\n  - { path: collective.chunks, op: ne, value: 2 }\n"),
    );
    let s = Sweep::load(&f).unwrap();
    let points: Vec<Point> = s.points(None).collect();
    let idx: Vec<u64> = points.iter().map(|p| p.index).collect();
    assert_eq!(idx, vec![0, 1, 4, 5]);
    assert_eq!(s.kept, 4);
    assert_eq!(points[1].choice, vec![0, 1]);
    // A shard enumerates its own slice only, in the same order.
    let second: Vec<u64> = s
        .points(Some(Shard { index: 2, count: 2 }))
        .map(|p| p.index)
        .collect();
    assert_eq!(second, vec![4, 5]);
    assert_eq!(
        s.overrides(&points[2]),
        vec!["collective.chunks=4", "collective.overlap=true"]
    );
}

#[test]
fn shards_are_contiguous_and_cover_everything() {
    for n in 0..20usize {
        for count in 1..6u64 {
            let mut all = Vec::new();
            for index in 1..=count {
                all.extend(Shard { index, count }.range(n));
            }
            assert_eq!(all, (0..n).collect::<Vec<_>>());
        }
    }
    assert!("0/3".parse::<Shard>().is_err());
    assert!("4/3".parse::<Shard>().is_err());
    assert_eq!(
        "2/3".parse::<Shard>().unwrap(),
        Shard { index: 2, count: 3 }
    );
}

#[test]
fn bad_axes_are_errors_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "  - { path: parallelism.pipline, values: [1] }\n",
            "parallelism.pipline",
        ),
        ("  - { path: collective.chunks, values: [] }\n", "no values"),
        (
            "  - { path: topology.nic.bandwith, values: [1Gbps] }\n",
            "nic.bandwith",
        ),
        (
            "  - { path: topology, values: [nope.yaml] }\n",
            "does not exist",
        ),
    ];
    for (axes, needle) in cases {
        let f = write(dir.path(), "bad.yaml", &sweep_text(axes));
        let e = Sweep::load(&f).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().contains(needle), "{e}");
    }
    let f = write(
        dir.path(),
        "nobase.yaml",
        "base: missing.yaml\naxes:\n  - { path: seed, values: [1] }\n",
    );
    let e = Sweep::load(&f).unwrap_err();
    assert_eq!((e.line, e.yaml_path.as_deref()), (Some(1), Some("base")));
}
