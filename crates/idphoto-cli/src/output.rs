//! Where `make` writes: the output paths checked before any work, and files written
//! atomically (a temporary file in the same directory, renamed over the target), so that an
//! error never leaves a truncated file or loses an existing one.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A file to be written: a path, or standard output (`-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Standard output.
    Stdout,
    /// A file.
    File(PathBuf),
}

impl Target {
    /// `-` is standard output, anything else a file.
    pub fn parse(arg: &Path) -> Target {
        if arg == Path::new("-") {
            Target::Stdout
        } else {
            Target::File(arg.to_path_buf())
        }
    }
}

/// Whether two paths name the same file: the same text, or the same file on disk.
pub fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        // a file that does not exist yet: compare its canonical directory and name
        _ => match (canonical_parent(a), canonical_parent(b)) {
            (Some(x), Some(y)) => x == y && a.file_name() == b.file_name(),
            _ => false,
        },
    }
}

fn canonical_parent(p: &Path) -> Option<PathBuf> {
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    parent.canonicalize().ok()
}

/// Checks that `path` can be written before any work is done: its directory exists, and the
/// path is not a directory itself.
pub fn check_writable(path: &Path) -> Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            dir.display()
        ));
    }
    if path.is_dir() {
        return Err(format!(
            "cannot write {}: it is a directory",
            path.display()
        ));
    }
    Ok(())
}

/// A file written to a temporary name beside its target, renamed over it by
/// [`Staged::commit`]; dropped without a commit, the temporary file is removed.
pub struct Staged {
    tmp: PathBuf,
    target: PathBuf,
    done: bool,
}

impl Staged {
    /// Writes `data` to a temporary file in `target`'s directory.
    pub fn write(target: &Path, data: &[u8]) -> std::io::Result<Staged> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let tmp = target.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let staged = Staged {
            tmp,
            target: target.to_path_buf(),
            done: false,
        };
        let mut f = std::fs::File::create(&staged.tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        Ok(staged)
    }

    /// Renames the temporary file over the target.
    pub fn commit(mut self) -> std::io::Result<()> {
        std::fs::rename(&self.tmp, &self.target)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Reads at most `limit` bytes of `path`: a larger file (or an endless one, such as a pipe or
/// `/dev/zero`) is refused after `limit + 1` bytes instead of being read whole.
pub fn read_limited(path: &Path, limit: u64) -> std::io::Result<Result<Vec<u8>, u64>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Ok(Err(limit));
    }
    Ok(Ok(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_files_replace_the_target_only_on_commit() {
        let dir = std::env::temp_dir().join(format!("idphoto-staged-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.jpg");
        std::fs::write(&target, b"old").unwrap();
        drop(Staged::write(&target, b"new").unwrap());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        Staged::write(&target, b"new").unwrap().commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        assert!(same_file(&target, &dir.join(".").join("out.jpg")));
        assert!(same_file(&dir.join("new.jpg"), &dir.join("./new.jpg")));
        assert!(!same_file(&target, &dir.join("other.jpg")));
        assert!(check_writable(&dir.join("missing").join("x.jpg")).is_err());
        assert!(check_writable(&dir).is_err());
        assert!(check_writable(&target).is_ok());
        assert_eq!(read_limited(&target, 2).unwrap(), Err(2));
        assert_eq!(read_limited(&target, 3).unwrap(), Ok(b"new".to_vec()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
