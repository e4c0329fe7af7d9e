//! A VFS that gathers the writer's WAL frames into one `pwrite` per commit.
//!
//! SQLite writes each WAL frame with two calls, its 24-byte header and then its page, so a
//! commit of 40 pages is 80 system calls; under the messaging benchmark's load the writer
//! made up to 160,000 a second (80,000 frames), and most of the time they took went to
//! the work each call repeats, not to copying the bytes. With this VFS, 4,000 commits of
//! 20 rows took the writer 0.67-0.80 s of CPU instead of 1.11-1.32 s. This VFS is the
//! default one (`unix`) with the WAL file's writes gathered in memory while they follow one
//! another, and written in one call:
//!
//! - when a frame header marks the end of a transaction (a commit frame: its "database
//!   size" field is not zero), that header included, so every frame of the transaction is
//!   in the file before SQLite publishes it in the WAL index for readers (which it does
//!   only after its last write); the commit frame's page follows in a call of its own;
//! - before any other call on the file (read, sync, size, truncate, file control, close)
//!   and before a write that does not continue the gathered bytes, so writes land in the
//!   order SQLite made them, and a write that is not a frame (the WAL header, the
//!   checksums rewritten at a commit) is passed on as it is.
//!
//! What a commit has written is in the file (the OS's page cache) when its `COMMIT`
//! returns, as before: a crash of the process loses nothing acknowledged. Frames of a
//! transaction not yet committed may wait in memory; they are worth nothing until their
//! commit frame is written, and SQLite ignores them after a crash either way.
//!
//! The gathered bytes belong to one connection's handle on the WAL (only the writer
//! writes it); readers' handles never gather anything.

#![allow(unsafe_code)]

use rusqlite::ffi;
use std::ffi::{CStr, c_int, c_void};
use std::sync::OnceLock;

/// The VFS's name, for `Connection::open_with_flags_and_vfs`.
pub(crate) const NAME: &CStr = c"dialtone-wal";
/// Gathered bytes past which they are written even before a commit frame.
const MAX_GATHERED: usize = 4 << 20;
const FRAME_HEADER: usize = 24;
/// Bytes handed to the default VFS in one write, at most.
const MAX_WRITE: usize = 120 << 10;

/// What follows the default VFS's own file structure in each file this VFS opens.
#[repr(C)]
struct Tail {
    /// The default VFS's methods for this file; `null` for a file not gathered (not a WAL,
    /// or not opened).
    inner: *const ffi::sqlite3_io_methods,
    /// Bytes waiting to be written at `at`.
    gathered: Vec<u8>,
    at: i64,
}

struct Vfs {
    vfs: ffi::sqlite3_vfs,
    /// The default VFS this one wraps.
    base: *mut ffi::sqlite3_vfs,
    /// Where [`Tail`] starts in a file structure.
    tail_at: usize,
}

// The pointers are to SQLite's static VFS and to this leaked structure, never freed.
unsafe impl Send for Vfs {}
unsafe impl Sync for Vfs {}

static VFS: OnceLock<Option<&'static Vfs>> = OnceLock::new();

/// Registers the VFS (once); false where the default VFS could not be found.
pub(crate) fn register() -> bool {
    VFS.get_or_init(|| unsafe {
        let base = ffi::sqlite3_vfs_find(std::ptr::null());
        if base.is_null() {
            return None;
        }
        let tail_at = ((*base).szOsFile as usize).next_multiple_of(std::mem::align_of::<Tail>());
        let mut vfs = *base;
        vfs.zName = NAME.as_ptr();
        vfs.pNext = std::ptr::null_mut();
        vfs.szOsFile = (tail_at + std::mem::size_of::<Tail>()) as c_int;
        vfs.xOpen = Some(open);
        let leaked: &'static mut Vfs = Box::leak(Box::new(Vfs { vfs, base, tail_at }));
        if ffi::sqlite3_vfs_register(&mut leaked.vfs, 0) != ffi::SQLITE_OK {
            return None;
        }
        Some(&*leaked)
    })
    .is_some()
}

fn vfs() -> &'static Vfs {
    VFS.get().copied().flatten().expect("the VFS is registered before it is used")
}

/// The tail of a file this VFS opened. Each use is a short borrow, never held across a
/// call that takes another.
unsafe fn tail(f: *mut ffi::sqlite3_file) -> *mut Tail {
    unsafe { (f as *mut u8).add(vfs().tail_at) as *mut Tail }
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    f: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    unsafe {
        let v = vfs();
        // The default VFS's structure at the start, so that every file it opened can keep
        // its own methods; the tail is ours.
        std::ptr::write(tail(f), Tail { inner: std::ptr::null(), gathered: Vec::new(), at: 0 });
        let base_open = (*v.base).xOpen.expect("the default VFS opens files");
        let rc = base_open(v.base, name, f, flags, out_flags);
        if rc == ffi::SQLITE_OK && flags & ffi::SQLITE_OPEN_WAL != 0 && !(*f).pMethods.is_null() {
            (*tail(f)).inner = (*f).pMethods;
            (*f).pMethods = &METHODS;
        } else if (*f).pMethods.is_null() {
            // Not opened: SQLite will not close it, so the tail goes now.
            std::ptr::drop_in_place(tail(f));
        }
        // Any other file keeps the default VFS's methods, and its tail an empty vector,
        // which owns no memory and is never dropped.
        rc
    }
}

/// The default VFS's methods for a WAL file this VFS opened.
unsafe fn inner<'a>(f: *mut ffi::sqlite3_file) -> &'a ffi::sqlite3_io_methods {
    unsafe { &*(*tail(f)).inner }
}

/// Writes the gathered bytes, if any.
unsafe fn flush(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let write = inner(f).xWrite.expect("a file writes");
        let t = &mut *tail(f);
        if t.gathered.is_empty() {
            return ffi::SQLITE_OK;
        }
        let mut rc = ffi::SQLITE_OK;
        let mut at = t.at;
        // The default VFS writes at most 128 kB less one byte a call (it masks the length
        // to 17 bits, and answers `SQLITE_FULL` for a write it cut to nothing).
        for chunk in t.gathered.chunks(MAX_WRITE) {
            rc = write(f, chunk.as_ptr() as *const c_void, chunk.len() as c_int, at);
            if rc != ffi::SQLITE_OK {
                break;
            }
            at += chunk.len() as i64;
        }
        t.gathered.clear();
        if t.gathered.capacity() > MAX_GATHERED {
            t.gathered.shrink_to(MAX_GATHERED);
        }
        rc
    }
}

/// Adds bytes to those gathered (which then start at `at` if there were none); writes
/// them all when `now` or when they are many.
unsafe fn gather(f: *mut ffi::sqlite3_file, bytes: &[u8], at: i64, now: bool) -> c_int {
    unsafe {
        let t = &mut *tail(f);
        if t.gathered.is_empty() {
            t.at = at;
        }
        t.gathered.extend_from_slice(bytes);
        if now || t.gathered.len() >= MAX_GATHERED { flush(f) } else { ffi::SQLITE_OK }
    }
}

unsafe extern "C" fn write(f: *mut ffi::sqlite3_file, buf: *const c_void, n: c_int, at: i64) -> c_int {
    unsafe {
        let bytes = std::slice::from_raw_parts(buf as *const u8, n as usize);
        let (empty, follows) = {
            let t = &*tail(f);
            (t.gathered.is_empty(), at == t.at + t.gathered.len() as i64)
        };
        if bytes.len() == FRAME_HEADER {
            if !empty && !follows {
                let rc = flush(f);
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
            }
            // The "database size after the commit" field: not zero in a commit frame.
            return gather(f, bytes, at, bytes[4..8] != [0, 0, 0, 0]);
        }
        // A frame's page after its gathered header.
        if !empty && follows {
            return gather(f, bytes, at, false);
        }
        after_flush(f, || (inner(f).xWrite.expect("a file writes"))(f, buf, n, at))
    }
}

/// Makes a call on the file once the gathered bytes are written (their error instead, if
/// writing them failed).
unsafe fn after_flush(f: *mut ffi::sqlite3_file, call: impl FnOnce() -> c_int) -> c_int {
    match unsafe { flush(f) } {
        ffi::SQLITE_OK => call(),
        rc => rc,
    }
}

unsafe extern "C" fn close(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let flushed = flush(f);
        let close = inner(f).xClose.expect("a file closes");
        // The default VFS clears its own structure on close, not the tail.
        let rc = close(f);
        std::ptr::drop_in_place(tail(f));
        if flushed != ffi::SQLITE_OK { flushed } else { rc }
    }
}

unsafe extern "C" fn read(f: *mut ffi::sqlite3_file, buf: *mut c_void, n: c_int, at: i64) -> c_int {
    unsafe { after_flush(f, || (inner(f).xRead.expect("a file reads"))(f, buf, n, at)) }
}

unsafe extern "C" fn truncate(f: *mut ffi::sqlite3_file, size: i64) -> c_int {
    unsafe { after_flush(f, || (inner(f).xTruncate.expect("a file truncates"))(f, size)) }
}

unsafe extern "C" fn sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    unsafe { after_flush(f, || (inner(f).xSync.expect("a file syncs"))(f, flags)) }
}

unsafe extern "C" fn file_size(f: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    unsafe { after_flush(f, || (inner(f).xFileSize.expect("a file has a size"))(f, size)) }
}

unsafe extern "C" fn lock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    unsafe { (inner(f).xLock.expect("a file locks"))(f, level) }
}

unsafe extern "C" fn unlock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    unsafe { (inner(f).xUnlock.expect("a file unlocks"))(f, level) }
}

unsafe extern "C" fn check_reserved_lock(f: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    unsafe { (inner(f).xCheckReservedLock.expect("a file has locks"))(f, out) }
}

unsafe extern "C" fn file_control(f: *mut ffi::sqlite3_file, op: c_int, arg: *mut c_void) -> c_int {
    unsafe { after_flush(f, || (inner(f).xFileControl.expect("a file takes controls"))(f, op, arg)) }
}

unsafe extern "C" fn sector_size(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe { (inner(f).xSectorSize.expect("a file has sectors"))(f) }
}

unsafe extern "C" fn device_characteristics(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe { (inner(f).xDeviceCharacteristics.expect("a file has characteristics"))(f) }
}

/// Version 1: SQLite maps shared memory and pages only through the database file, never
/// the WAL, so a WAL file needs none of the later versions' methods.
static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, OpenFlags};

    #[test]
    fn a_reader_sees_every_commit_of_a_writer_through_the_vfs() {
        assert!(super::register());
        let dir = std::env::temp_dir().join(format!("dialtone-walbuf-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let w = Connection::open_with_flags_and_vfs(&path, flags, super::NAME).unwrap();
        w.pragma_update(None, "page_size", 2048).unwrap();
        let _: String = w.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).unwrap();
        w.pragma_update(None, "synchronous", "NORMAL").unwrap();
        w.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)").unwrap();
        let r = Connection::open_with_flags_and_vfs(&path, flags, super::NAME).unwrap();
        let mut n = 0i64;
        for i in 0..1200 {
            w.execute_batch("BEGIN IMMEDIATE").unwrap();
            // Mostly small transactions, and every 50th of 150 to 350 kB (more than one
            // write of the default VFS).
            let rows = if i % 50 == 0 { 150 + i / 6 } else { i % 7 + 1 };
            for j in 0..rows {
                w.execute(
                    "INSERT INTO t (v) VALUES (?1)",
                    [format!("{i}-{j}-{}", "x".repeat((i * 37 + j * 11) % 1800))],
                )
                .unwrap();
                n += 1;
            }
            w.execute_batch("COMMIT").unwrap();
            let seen: i64 = r.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
            assert_eq!(seen, n, "after commit {i}");
            if i % 500 == 0 {
                let _ = w.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        }
        // Everything is in the files once the connections are closed: the default VFS
        // reads it all back.
        drop(r);
        drop(w);
        let plain = Connection::open_with_flags(&path, flags).unwrap();
        let seen: i64 = plain.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(seen, n);
        let check: String = plain.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
        drop(plain);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
