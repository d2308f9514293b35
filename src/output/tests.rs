//! Unit tests of the parent module.
use super::*;

#[test]
fn write_atomic_replaces_a_file_and_leaves_no_temporary() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("a.csv");
    write_atomic(&p, b"old").unwrap();
    write_atomic(&p, b"new").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"new");
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
}

#[cfg(unix)]
#[test]
fn write_atomic_never_replaces_a_symlink_or_a_folder() {
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("t");
    fs::write(&target, b"keep").unwrap();
    let link = d.path().join("l");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let e = write_atomic(&link, b"x").unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert_eq!(fs::read(&target).unwrap(), b"keep");
    let e = write_atomic(d.path(), b"x").unwrap_err();
    assert!(e.to_string().contains("folder"), "{e}");
}

#[test]
fn atomic_dir_replaces_a_result_whole_or_not_at_all() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("res");
    let first = AtomicDir::new(&out).unwrap();
    std::io::Write::write_all(&mut first.create("summary.json").unwrap(), b"1").unwrap();
    std::io::Write::write_all(&mut first.create("old.csv").unwrap(), b"1").unwrap();
    first.commit().unwrap();
    // An abandoned second run leaves the first result untouched, and no temporary.
    let second = AtomicDir::new(&out).unwrap();
    std::io::Write::write_all(&mut second.create("summary.json").unwrap(), b"2").unwrap();
    drop(second);
    assert_eq!(fs::read(out.join("summary.json")).unwrap(), b"1");
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    // A completed one replaces it as a whole: old.csv is gone.
    let third = AtomicDir::new(&out).unwrap();
    std::io::Write::write_all(&mut third.create("summary.json").unwrap(), b"3").unwrap();
    third.commit().unwrap();
    assert_eq!(fs::read(out.join("summary.json")).unwrap(), b"3");
    assert!(!out.join("old.csv").exists());
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
}

#[test]
fn atomic_dir_refuses_a_folder_that_is_not_a_result() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("notes.txt"), b"mine").unwrap();
    let e = AtomicDir::new(d.path()).err().unwrap();
    assert!(e.to_string().contains("not a fabsim result"), "{e}");
    let f = d.path().join("notes.txt");
    let e = AtomicDir::new(&f).err().unwrap();
    assert!(e.to_string().contains("existing file"), "{e}");
}

#[cfg(unix)]
#[test]
fn temporaries_of_killed_runs_are_removed_by_the_next_run() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("res");
    // No process has this id (Linux pids stay below 2^22).
    let stale = d.path().join(".res.partial-999999999");
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join("trials.csv"), b"half").unwrap();
    let other = d.path().join(".other.partial-999999999");
    fs::create_dir(&other).unwrap();
    let dir = AtomicDir::new(&out).unwrap();
    dir.commit().unwrap();
    assert!(!stale.exists());
    assert!(
        other.exists(),
        "another target's temporary is not ours to remove"
    );
}

#[test]
fn atomic_file_replaces_whole_or_not_at_all_and_temporaries_go() {
    use std::io::{Read, Write};
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("a.csv");
    fs::write(&p, b"old").unwrap();
    // Abandoned (an error, a panic): the old file stays, no temporary.
    let mut f = AtomicFile::create(&p).unwrap();
    f.write_all(b"half").unwrap();
    drop(f);
    assert_eq!(fs::read(&p).unwrap(), b"old");
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    // A scratch file beside it reads back what was written, then goes.
    let mut t = Temporary::create(&p, "rows").unwrap();
    t.write_all(b"1,2\n").unwrap();
    let mut back = String::new();
    t.reader().unwrap().read_to_string(&mut back).unwrap();
    assert_eq!(back, "1,2\n");
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 2);
    drop(t);
    let mut f = AtomicFile::create(&p).unwrap();
    f.write_all(b"new").unwrap();
    f.commit().unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"new");
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
}

#[test]
fn path_file_errors_name_the_path_and_keep_their_kind() {
    /// A disk that is always full.
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::StorageFull.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::StorageFull.into())
        }
    }
    let mut f = PathFile {
        file: Full,
        path: PathBuf::from("results/x/trials.csv"),
    };
    for e in [f.write(b"1").unwrap_err(), f.flush().unwrap_err()] {
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        let named = OutputError::find(&e).unwrap().to_string();
        assert!(
            named.starts_with("results/x/trials.csv: cannot write"),
            "{named}"
        );
    }
    let named = f.flush_named().unwrap_err().to_string();
    assert!(
        named.starts_with("results/x/trials.csv: cannot write"),
        "{named}"
    );
}

#[test]
fn a_scratch_folder_is_listed_for_interrupts_until_dropped() {
    let listed = |p: &Path| TEMPORARIES.lock().unwrap().iter().any(|t| t == p);
    let s = ScratchDir::new().unwrap();
    let p = s.path().to_path_buf();
    fs::write(p.join("base.yaml"), "x").unwrap();
    assert!(p.is_dir() && listed(&p));
    drop(s);
    assert!(!p.exists() && !listed(&p));
}
