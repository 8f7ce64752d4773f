//! `--download-dir`: downloads saved as files under one directory, named after the WRQ's
//! `name` but never outside that directory. A blob download is written to disk as it arrives
//! (the path is picked by [`reserve`] when it is accepted, the bytes go to a temporary
//! `.<name>.part` renamed on completion, see `skylink_room::transfer::FileSink`); a
//! `sendURLData` text is assembled in memory and written by [`save`] when it completes.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use skylink_room::TransferData;

/// The name used when nothing usable is left of the announced one.
pub const FALLBACK_NAME: &str = "download";

/// Longest file name we write, in bytes (most file systems allow 255).
const MAX_NAME_BYTES: usize = 200;

/// How many `name (n).ext` variants are tried before giving up.
const MAX_SUFFIX: u32 = 10_000;

/// Prepares the download directory: creates it if needed and returns its absolute, canonical
/// path (so every `savedPath` is absolute).
///
/// # Errors
/// When it cannot be created or resolved.
pub fn prepare_dir(dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    dir.canonicalize()
}

/// A peer-announced transfer name made into a plain file name: only the part after the last
/// `/` or `\` (no directories, no absolute paths), control characters (NUL included) removed,
/// surrounding white space trimmed, `.`/`..`/empty replaced by [`FALLBACK_NAME`], and cut to
/// [`MAX_NAME_BYTES`] (keeping a short extension).
pub fn sanitize(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return FALLBACK_NAME.into();
    }
    if cleaned.len() <= MAX_NAME_BYTES {
        return cleaned.to_owned();
    }
    let (stem, ext) = split_ext(cleaned);
    let ext = if ext.len() <= 20 { ext } else { "" };
    let mut stem_len = MAX_NAME_BYTES - ext.len();
    while !stem.is_char_boundary(stem_len) {
        stem_len -= 1;
    }
    format!("{}{ext}", &stem[..stem_len])
}

/// `("name", ".ext")`; a leading dot (`.bashrc`) is part of the stem, not an extension.
fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

/// The `n`-th candidate: the name itself, then `stem (1).ext`, `stem (2).ext`, …
fn candidate(name: &str, n: u32) -> String {
    if n == 0 {
        return name.to_owned();
    }
    let (stem, ext) = split_ext(name);
    format!("{stem} ({n}){ext}")
}

/// True when `path` or the temporary file of a download to it exists (a symlink counts,
/// dangling or not).
fn taken(path: &Path) -> bool {
    let part = match path.file_name() {
        Some(n) => path.with_file_name(format!(".{}.part", n.to_string_lossy())),
        None => return true,
    };
    path.symlink_metadata().is_ok() || part.symlink_metadata().is_ok()
}

/// Picks the path a download named `name` is written to when it is accepted: as [`save`],
/// the sanitised name under `dir`, numbered while the name (or a download still being
/// written to it, `.<name>.part`) is taken. Nothing is created here; the download's
/// temporary file reserves the name until it completes.
///
/// # Errors
/// Every candidate name taken.
pub fn reserve(dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    let name = sanitize(name);
    for n in 0..MAX_SUFFIX {
        let path = dir.join(candidate(&name, n));
        if !taken(&path) {
            return Ok(path);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("{MAX_SUFFIX} files named like {name:?} already exist"),
    ))
}

/// Writes `data` (bytes as they are, text as UTF-8) to a new file under `dir` named after the
/// sanitised `name`, numbered when the name is taken (files are created exclusively, so an
/// existing file or symlink is never overwritten or followed). Returns the file's path.
///
/// # Errors
/// I/O errors, or every candidate name taken.
pub fn save(dir: &Path, name: &str, data: &TransferData) -> std::io::Result<PathBuf> {
    let name = sanitize(name);
    let bytes: &[u8] = match data {
        TransferData::Bytes(b) => b,
        TransferData::Text(t) => t.as_bytes(),
        TransferData::Source(_) => {
            return Err(std::io::Error::other(
                "an upload's own source is not saved (the file is already on disk)",
            ));
        }
        TransferData::File { path, .. } => {
            return Err(std::io::Error::other(format!(
                "already saved as {}",
                path.display()
            )));
        }
        _ => {
            return Err(std::io::Error::other(
                "a kind of data this version cannot save",
            ));
        }
    };
    for n in 0..MAX_SUFFIX {
        let path = dir.join(candidate(&name, n));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                if let Err(e) = f.write_all(bytes).and_then(|()| f.flush()) {
                    let _ = std::fs::remove_file(&path);
                    return Err(e);
                }
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("{MAX_SUFFIX} files named like {name:?} already exist"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_stay_plain() {
        assert_eq!(sanitize("report.pdf"), "report.pdf");
        assert_eq!(sanitize("../../etc/passwd"), "passwd");
        assert_eq!(sanitize("/abs/x"), "x");
        assert_eq!(sanitize("a\u{0}b"), "ab");
        assert_eq!(sanitize("..\\..\\win.ini"), "win.ini");
        assert_eq!(sanitize("dir/"), FALLBACK_NAME);
        assert_eq!(sanitize(".."), FALLBACK_NAME);
        assert_eq!(sanitize("."), FALLBACK_NAME);
        assert_eq!(sanitize(""), FALLBACK_NAME);
        assert_eq!(sanitize("\u{1}\n\t"), FALLBACK_NAME);
        assert_eq!(sanitize("  spaced  "), "spaced");
        assert_eq!(sanitize(".bashrc"), ".bashrc");
        let long = format!("{}.txt", "é".repeat(300));
        let s = sanitize(&long);
        assert!(s.len() <= MAX_NAME_BYTES && s.ends_with(".txt"), "{s}");
    }

    #[test]
    fn candidates_number_before_the_extension() {
        assert_eq!(candidate("a.tar", 0), "a.tar");
        assert_eq!(candidate("a.tar", 2), "a (2).tar");
        assert_eq!(candidate("noext", 1), "noext (1)");
        assert_eq!(candidate(".bashrc", 1), ".bashrc (1)");
    }

    #[test]
    fn reserve_skips_names_being_downloaded() {
        let dir = std::env::temp_dir().join(format!("skylink-dl-res-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let dir = prepare_dir(&dir).expect("dir");
        assert_eq!(reserve(&dir, "../a.bin").expect("a"), dir.join("a.bin"));
        std::fs::write(dir.join(".a.bin.part"), b"").expect("part");
        assert_eq!(reserve(&dir, "a.bin").expect("a"), dir.join("a (1).bin"));
        std::fs::write(dir.join("a (1).bin"), b"").expect("file");
        assert_eq!(reserve(&dir, "a.bin").expect("a"), dir.join("a (2).bin"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn saves_and_numbers_clashes() {
        let dir = std::env::temp_dir().join(format!("skylink-dl-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let dir = prepare_dir(&dir).expect("dir");
        let data = TransferData::Bytes(vec![1u8, 2, 3].into());
        let a = save(&dir, "../x.bin", &data).expect("save");
        assert_eq!(a, dir.join("x.bin"));
        let b = save(&dir, "x.bin", &TransferData::Text("hé".into())).expect("save");
        assert_eq!(b, dir.join("x (1).bin"));
        assert_eq!(std::fs::read(&a).expect("read"), vec![1, 2, 3]);
        assert_eq!(std::fs::read_to_string(&b).expect("read"), "hé");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
