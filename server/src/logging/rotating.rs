//! A log file that rotates by size: `NAME` is written, and when the next write would take it
//! past the limit it becomes `NAME.1`, `NAME.1` becomes `NAME.2` and so on; the oldest beyond
//! the kept count is deleted. Small enough to need no crate, and independent of the platform,
//! so it is tested on Linux although only the Windows service uses it.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Write},
    path::{Path, PathBuf},
};

#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    /// None only between closing the full file and opening the next one.
    file: Option<File>,
    written: u64,
    max_bytes: u64,
    /// Files kept, the current one included (at least 1).
    keep: usize,
}

impl RotatingFile {
    /// Opens (appending) or creates `dir/name`, creating `dir` as needed.
    pub fn open(dir: &Path, name: &str, max_bytes: u64, keep: usize) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let path = dir.join(name);
        let file = append(&path)?;
        let written = file.metadata()?.len();
        Ok(Self {
            path,
            file: Some(file),
            written,
            max_bytes,
            keep: keep.max(1),
        })
    }

    fn numbered(&self, n: usize) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        // Closed first: Windows renames an open file only when it was opened to allow that.
        self.file = None;
        let oldest = self.keep - 1;
        if oldest == 0 {
            fs::remove_file(&self.path)?;
        } else {
            ignore_missing(fs::remove_file(self.numbered(oldest)))?;
            for n in (1..oldest).rev() {
                ignore_missing(fs::rename(self.numbered(n), self.numbered(n + 1)))?;
            }
            fs::rename(&self.path, self.numbered(1))?;
        }
        self.file = Some(append(&self.path)?);
        self.written = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // An empty file takes the line even when it alone is over the limit.
        if self.written > 0 && self.written + buf.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        // A failed rotation leaves no file open: the next write opens one again.
        let mut file = match self.file.take() {
            Some(file) => file,
            None => append(&self.path)?,
        };
        let result = file.write(buf);
        self.file = Some(file);
        let n = result?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn rotates_by_size_and_keeps_only_the_newest_files() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let mut file = RotatingFile::open(&logs, "app.log", 10, 3).unwrap();
        for line in ["aaaaaa\n", "bbbbbb\n", "cccccc\n", "dddddd\n"] {
            file.write_all(line.as_bytes()).unwrap();
        }
        file.flush().unwrap();
        assert_eq!(names(&logs), ["app.log", "app.log.1", "app.log.2"]);
        assert_eq!(
            fs::read_to_string(logs.join("app.log")).unwrap(),
            "dddddd\n"
        );
        assert_eq!(
            fs::read_to_string(logs.join("app.log.1")).unwrap(),
            "cccccc\n"
        );
        assert_eq!(
            fs::read_to_string(logs.join("app.log.2")).unwrap(),
            "bbbbbb\n"
        );
    }

    #[test]
    fn reopening_appends_and_counts_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        RotatingFile::open(dir.path(), "app.log", 10, 2)
            .unwrap()
            .write_all(b"12345678\n")
            .unwrap();
        let mut file = RotatingFile::open(dir.path(), "app.log", 10, 2).unwrap();
        file.write_all(b"next\n").unwrap();
        assert_eq!(names(dir.path()), ["app.log", "app.log.1"]);
        assert_eq!(
            fs::read_to_string(dir.path().join("app.log.1")).unwrap(),
            "12345678\n"
        );
    }

    #[test]
    fn keeping_one_file_starts_it_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = RotatingFile::open(dir.path(), "app.log", 4, 1).unwrap();
        file.write_all(b"abc\n").unwrap();
        file.write_all(b"def\n").unwrap();
        assert_eq!(names(dir.path()), ["app.log"]);
        assert_eq!(
            fs::read_to_string(dir.path().join("app.log")).unwrap(),
            "def\n"
        );
    }
}
