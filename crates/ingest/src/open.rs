//! Opening the files ccc reads — sources, published output, state — as regular files
//! only (symlinks followed). A FIFO, socket or device where a file is expected would
//! block the open forever or never end; it is refused by name instead.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Opens `path` for reading if it is a regular file or a link to one. The open itself
/// does not wait (`O_NONBLOCK`, which a FIFO would otherwise need a writer for); what
/// was opened is then checked, so nothing can be swapped in between the check and the
/// read.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let file_type = file.metadata()?.file_type();
    if file_type.is_file() {
        Ok(file)
    } else {
        Err(not_a_file(file_type))
    }
}

/// Reads a whole regular file of at most `limit` bytes as text; a longer one is an
/// error rather than an allocation the file decides.
pub fn read_regular_to_string(path: &Path, limit: u64) -> io::Result<String> {
    let file = open_regular(path)?;
    let mut text = String::new();
    file.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {limit} bytes, the most ccc reads of such a file"),
        ));
    }
    Ok(text)
}

/// The error for an entry that is not a regular file, saying what it is.
pub fn not_a_file(file_type: std::fs::FileType) -> io::Error {
    let kind = if file_type.is_dir() {
        "a folder"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() || file_type.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    };
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{kind}, where ccc expects a regular file"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_fifo_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("orders.json");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let err = open_regular(&fifo).unwrap_err();
        assert_eq!(err.to_string(), "a FIFO, where ccc expects a regular file");
        let err = open_regular(dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a folder, where ccc expects a regular file"
        );
    }

    #[test]
    fn follows_links_and_bounds_what_it_reads() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.json");
        std::fs::write(&file, "0123456789").unwrap();
        let link = dir.path().join("b.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_regular_to_string(&link, 10).unwrap(), "0123456789");
        let err = read_regular_to_string(&link, 9).unwrap_err();
        assert!(err.to_string().starts_with("larger than 9 bytes"), "{err}");
    }
}
