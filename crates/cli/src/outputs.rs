//! Outputs are checked before any compute: a file the command will write (weights) must not be a
//! folder and its folder must exist or be creatable and be writable; a folder it will write into
//! (a sweep's `--out`, its cache) must be creatable and writable. A bad path is refused at once,
//! naming the user's path and the field, instead of after hours of training. An input file is
//! checked the same way ([`readable`]).

use std::path::Path;

/// A probe file in `dir`, created and removed at once: `dir` accepts new files.
fn writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".attnlab-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// `path` (field `field`) can be written as a file: not a folder, in a folder that exists (or is
/// created now) and accepts new files.
pub fn file(field: &str, path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        anyhow::bail!("invalid `{field}` = {}: it is a folder; give a file path", path.display());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    folder(field, dir)
}

/// `path` (field `field`, described as `what`) is a file this process can open for reading: the
/// input-side twin of [`file`], so an unreadable input names its field too.
pub fn readable(field: &str, what: &str, path: &Path) -> anyhow::Result<()> {
    std::fs::File::open(path)
        .and_then(|f| if f.metadata()?.is_dir() { Err(std::io::Error::other("it is a folder")) } else { Ok(()) })
        .map_err(|e| anyhow::anyhow!("invalid `{field}`{what}: cannot read {}: {e}", path.display()))
}

/// `dir` (field `field`) exists as a folder (created now if missing) and accepts new files.
pub fn folder(field: &str, dir: &Path) -> anyhow::Result<()> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!("invalid `{field}`: {} is a file, not a folder", dir.display());
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("invalid `{field}`: the folder {} cannot be created ({e})", dir.display()))?;
    writable(dir).map_err(|e| anyhow::anyhow!("invalid `{field}`: the folder {} is not writable ({e})", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_folders_unwritable_and_uncreatable_paths() {
        let tmp = std::env::temp_dir().join(format!("attnlab-outputs-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        assert!(file("save_weights", &tmp.join("w.safetensors")).is_ok());
        let e = file("save_weights", &tmp).unwrap_err().to_string();
        assert!(e.contains("`save_weights`") && e.contains("is a folder"), "{e}");
        // A folder under a file cannot be created.
        std::fs::write(tmp.join("plain"), b"x").unwrap();
        let e = file("save_weights", &tmp.join("plain").join("w")).unwrap_err().to_string();
        assert!(e.contains("plain"), "{e}");
        let e = folder("out", &tmp.join("plain")).unwrap_err().to_string();
        assert!(e.contains("is a file"), "{e}");
        // No probe file is left behind.
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 1);
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
