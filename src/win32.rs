//! Windows: files that are their owner's alone, the meaning of mode 0600 there. A file is owner
//! only when its DACL is protected (nothing inherited from its folder) and allows access to the
//! process's user and no one else; the library creates its files that way and gives such a DACL
//! to one that is not.
//!
//! The library's only `unsafe` code outside `src/ffi`: Win32 calls through `windows-sys`. Each
//! call's result is checked, every buffer passed is owned by Rust and outlives the call, and
//! what Windows allocates (security descriptors, handles) is released on every path.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::os::windows::io::{FromRawHandle, RawHandle};
use std::ptr::{null, null_mut};
use windows_sys::Win32::Foundation::{
    CloseHandle, LocalFree, ERROR_SUCCESS, GENERIC_READ, GENERIC_WRITE, HANDLE,
    INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Security::Authorization::{
    GetNamedSecurityInfoW, SetNamedSecurityInfoW, SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    AddAccessAllowedAce, EqualSid, GetAce, GetLengthSid, GetSecurityDescriptorControl,
    GetTokenInformation, InitializeAcl, InitializeSecurityDescriptor, SetSecurityDescriptorControl,
    SetSecurityDescriptorDacl, TokenUser, ACCESS_ALLOWED_ACE, ACE_HEADER, ACL, ACL_REVISION,
    DACL_SECURITY_INFORMATION, PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, PSID,
    SECURITY_ATTRIBUTES, SECURITY_DESCRIPTOR, SE_DACL_PROTECTED, TOKEN_QUERY, TOKEN_USER,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateFileW, CREATE_NEW, FILE_ALL_ACCESS, FILE_ATTRIBUTE_NORMAL, FILE_SHARE_DELETE,
    FILE_SHARE_READ, FILE_SHARE_WRITE,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

/// `SECURITY_DESCRIPTOR_REVISION`, `ACCESS_ALLOWED_ACE_TYPE` and `ACCESS_DENIED_ACE_TYPE` of
/// winnt.h.
const SECURITY_DESCRIPTOR_REVISION: u32 = 1;
const ACCESS_ALLOWED_ACE_TYPE: u8 = 0;
const ACCESS_DENIED_ACE_TYPE: u8 = 1;

/// A NUL-terminated UTF-16 path for the wide Win32 calls (a `store_path` is UTF-8).
fn wide(path: &str) -> Vec<u16> {
    path.encode_utf16().chain(std::iter::once(0)).collect()
}

/// The process's user: the SID that owner-only files allow.
struct User {
    /// A `TOKEN_USER` followed by the SID it points into; `u64`s keep it aligned.
    buf: Vec<u64>,
}

impl User {
    fn current() -> io::Result<User> {
        let mut token: HANDLE = null_mut();
        // SAFETY: GetCurrentProcess returns a pseudo-handle that needs no closing; `token` is
        // a local the call writes.
        if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut len = 0u32;
        // SAFETY: a NULL buffer of length 0 only asks for the length needed, written to `len`.
        unsafe { GetTokenInformation(token, TokenUser, null_mut(), 0, &mut len) };
        let mut buf = vec![0u64; (len as usize).div_ceil(8).max(1)];
        let size = u32::try_from(buf.len() * 8).unwrap_or(u32::MAX);
        // SAFETY: `buf` is writable for `size` bytes and aligned for TOKEN_USER.
        let ok = unsafe {
            GetTokenInformation(token, TokenUser, buf.as_mut_ptr().cast(), size, &mut len)
        };
        let error = io::Error::last_os_error();
        // SAFETY: `token` was opened above and is closed once.
        unsafe { CloseHandle(token) };
        if ok == 0 {
            return Err(error);
        }
        Ok(User { buf })
    }

    fn sid(&self) -> PSID {
        // SAFETY: `buf` holds the TOKEN_USER GetTokenInformation wrote; its SID points inside
        // `buf`, which lives as long as `self`.
        unsafe { (*self.buf.as_ptr().cast::<TOKEN_USER>()).User.Sid }
    }

    /// A DACL with one entry: full access for this user. `u64`s keep it aligned.
    fn owner_only_acl(&self) -> io::Result<Vec<u64>> {
        // SAFETY: `sid()` is a valid SID (from the token).
        let sid_len = unsafe { GetLengthSid(self.sid()) } as usize;
        let len = std::mem::size_of::<ACL>() + std::mem::size_of::<ACCESS_ALLOWED_ACE>() + sid_len;
        let mut acl = vec![0u64; len.div_ceil(8)];
        let size = u32::try_from(acl.len() * 8).unwrap_or(u32::MAX);
        let p = acl.as_mut_ptr().cast::<ACL>();
        // SAFETY: `acl` is writable for `size` bytes, a multiple of 4 as InitializeAcl needs,
        // and large enough for the header and one ACE with this SID.
        if unsafe { InitializeAcl(p, size, ACL_REVISION) } == 0
            || unsafe { AddAccessAllowedAce(p, ACL_REVISION, FILE_ALL_ACCESS, self.sid()) } == 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(acl)
    }
}

/// Frees a security descriptor Windows allocated for the caller.
struct LocalMemory(PSECURITY_DESCRIPTOR);

impl Drop for LocalMemory {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from GetNamedSecurityInfoW, which says to LocalFree it.
            unsafe { LocalFree(self.0) };
        }
    }
}

/// Whether the file at `path` is owner only: a protected DACL whose every allowing entry is
/// the user's (entries that deny are fine; any other kind of entry is not).
fn is_owner_only(path: &str, user: &User) -> io::Result<bool> {
    let name = wide(path);
    let mut dacl: *mut ACL = null_mut();
    let mut sd: PSECURITY_DESCRIPTOR = null_mut();
    // SAFETY: `name` is NUL-terminated; the out-pointers are locals; only the DACL is asked.
    let rc = unsafe {
        GetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            &mut dacl,
            null_mut(),
            &mut sd,
        )
    };
    if rc != ERROR_SUCCESS {
        return Err(io::Error::from_raw_os_error(rc as i32));
    }
    let _sd = LocalMemory(sd);
    if dacl.is_null() {
        // A NULL DACL gives everyone every access.
        return Ok(false);
    }
    let (mut control, mut revision) = (0u16, 0u32);
    // SAFETY: `sd` is the descriptor just read, alive until `_sd` drops.
    if unsafe { GetSecurityDescriptorControl(sd, &mut control, &mut revision) } == 0 {
        return Err(io::Error::last_os_error());
    }
    if control & SE_DACL_PROTECTED == 0 {
        return Ok(false);
    }
    // SAFETY: `dacl` points into `sd`.
    let count = unsafe { (*dacl).AceCount };
    if count == 0 {
        return Ok(false);
    }
    for i in 0..u32::from(count) {
        let mut ace: *mut core::ffi::c_void = null_mut();
        // SAFETY: `i` is below the DACL's entry count.
        if unsafe { GetAce(dacl, i, &mut ace) } == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: every ACE starts with an ACE_HEADER.
        let kind = unsafe { (*ace.cast::<ACE_HEADER>()).AceType };
        if kind == ACCESS_DENIED_ACE_TYPE {
            continue;
        }
        if kind != ACCESS_ALLOWED_ACE_TYPE {
            return Ok(false);
        }
        // SAFETY: an ACCESS_ALLOWED_ACE's SID starts at its SidStart member.
        let sid = unsafe { std::ptr::addr_of_mut!((*ace.cast::<ACCESS_ALLOWED_ACE>()).SidStart) };
        // SAFETY: both are valid SIDs.
        if unsafe { EqualSid(sid.cast(), user.sid()) } == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Gives the file at `path` the owner-only DACL unless it is owner only already. A missing
/// file is `NotFound`.
pub fn restrict_to_owner(path: &str) -> io::Result<()> {
    let user = User::current()?;
    if is_owner_only(path, &user)? {
        return Ok(());
    }
    let acl = user.owner_only_acl()?;
    let name = wide(path);
    // SAFETY: `name` is NUL-terminated and `acl` a valid ACL, both alive for the call; owner,
    // group and SACL are left as they are.
    let rc = unsafe {
        SetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            acl.as_ptr().cast::<ACL>(),
            null(),
        )
    };
    if rc != ERROR_SUCCESS {
        return Err(io::Error::from_raw_os_error(rc as i32));
    }
    Ok(())
}

/// Whether the file at `path` is owner only (for tests and checks).
pub fn owner_only(path: &str) -> io::Result<bool> {
    is_owner_only(path, &User::current()?)
}

/// Creates a new file at `path`, owner only from its creation (no moment at which others may
/// open it), for reading and writing; fails with `AlreadyExists` if it exists.
pub fn create_owner_only(path: &str) -> io::Result<File> {
    let user = User::current()?;
    let acl = user.owner_only_acl()?;
    // SAFETY: zeroed is a valid bit pattern for this plain C struct; it is initialised next.
    let mut sd: SECURITY_DESCRIPTOR = unsafe { std::mem::zeroed() };
    let psd: PSECURITY_DESCRIPTOR = (&mut sd as *mut SECURITY_DESCRIPTOR).cast();
    // SAFETY: `sd` and `acl` are locals that outlive CreateFileW below; the descriptor only
    // points at `acl`.
    let ok = unsafe {
        InitializeSecurityDescriptor(psd, SECURITY_DESCRIPTOR_REVISION) != 0
            && SetSecurityDescriptorDacl(psd, 1, acl.as_ptr().cast::<ACL>(), 0) != 0
            && SetSecurityDescriptorControl(psd, SE_DACL_PROTECTED, SE_DACL_PROTECTED) != 0
    };
    if !ok {
        return Err(io::Error::last_os_error());
    }
    let attributes = SECURITY_ATTRIBUTES {
        nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: psd,
        bInheritHandle: 0,
    };
    let name = wide(path);
    // SAFETY: `name` is NUL-terminated; `attributes` and what it points at are alive for the
    // call. The sharing is std's default for File.
    let handle = unsafe {
        CreateFileW(
            name.as_ptr(),
            GENERIC_READ | GENERIC_WRITE,
            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            &attributes,
            CREATE_NEW,
            FILE_ATTRIBUTE_NORMAL,
            null_mut(),
        )
    };
    if handle == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `handle` is a file handle just opened and owned by nothing else.
    Ok(unsafe { File::from_raw_handle(handle as RawHandle) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_made_owner_only_stays_so_and_a_loose_one_is_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let made = dir
            .path()
            .join("Kasse-\u{e4}\u{f6}\u{fc}-\u{65e5}\u{672c}.key");
        let made = made.to_str().unwrap();
        drop(create_owner_only(made).unwrap());
        assert!(owner_only(made).unwrap(), "created owner only");
        assert_eq!(
            create_owner_only(made).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        // std's File::create inherits the folder's entries, not protected: loose.
        let loose = dir.path().join("loose");
        let loose = loose.to_str().unwrap();
        std::fs::write(loose, b"x").unwrap();
        assert!(
            !owner_only(loose).unwrap(),
            "a plain file is not owner only"
        );
        restrict_to_owner(loose).unwrap();
        assert!(owner_only(loose).unwrap(), "tightened");
        let missing = dir.path().join("missing");
        assert_eq!(
            restrict_to_owner(missing.to_str().unwrap())
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
    }
}
