//! Packaging for C and C++ hosts: the exported symbols are exactly `abi/symbols.txt`, the
//! shared library carries its versioned SONAME, and `scripts/install` lays out a prefix from
//! which `pkg-config` builds the shortest host (`examples/hello.c`), linked dynamically and
//! statically, which then takes its orders from the emulator.

mod common;

use common::cc::{lib_dir, root, run};
use common::*;
use std::path::Path;
use std::process::Command;

#[test]
fn the_exported_symbols_are_exactly_the_committed_list() {
    let nm = run(Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(lib_dir().join("libsellsync.so")));
    let mut exported: Vec<&str> = nm
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    exported.sort_unstable();
    let list = std::fs::read_to_string(root().join("abi/symbols.txt")).unwrap();
    let committed: Vec<&str> = list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(
        exported, committed,
        "the library's exports differ from abi/symbols.txt"
    );
    let header = std::fs::read_to_string(root().join("include/sellsync.h")).unwrap();
    for s in &committed {
        assert!(
            header.contains(&format!("{s}(")),
            "{s} is declared in the header"
        );
    }
}

#[test]
fn the_shared_library_names_its_major_version() {
    let dynamic = run(Command::new("readelf")
        .arg("-d")
        .arg(lib_dir().join("libsellsync.so")));
    let soname = format!(
        "Library soname: [libsellsync.so.{}]",
        env!("CARGO_PKG_VERSION_MAJOR")
    );
    assert!(dynamic.contains(&soname), "{dynamic}");
}

/// Builds `examples/hello.c` with the flags `pkg-config` gives for the installed prefix.
fn build_hello(pkgconfig: &Path, out: &Path, statically: bool) {
    let pc = |args: &[&str]| {
        run(Command::new("pkg-config")
            .env("PKG_CONFIG_PATH", pkgconfig)
            .args(args)
            .arg("sellsync"))
    };
    let libdir = pc(&["--variable=libdir"]).trim().to_string();
    let mut cc = Command::new("cc");
    cc.args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
        .arg(root().join("examples/hello.c"))
        .arg("-o")
        .arg(out)
        .args(pc(&["--cflags"]).split_whitespace());
    if statically {
        let libs = pc(&["--static", "--libs-only-l"]);
        cc.arg(format!("{libdir}/libsellsync.a"))
            .args(libs.split_whitespace().filter(|l| *l != "-lsellsync"));
    } else {
        cc.args(pc(&["--libs"]).split_whitespace())
            .arg(format!("-Wl,--disable-new-dtags,-rpath,{libdir}"));
    }
    run(&mut cc);
}

#[test]
fn an_installed_prefix_builds_and_runs_a_host_dynamically_and_statically() {
    let prefix = tempdir();
    run(Command::new(root().join("scripts/install"))
        .arg("--from")
        .arg(lib_dir())
        .arg(prefix.path()));
    let p = prefix.path();
    let version = env!("CARGO_PKG_VERSION");
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    for f in [
        format!("lib/libsellsync.so.{version}"),
        format!("lib/libsellsync.so.{major}"),
        "lib/libsellsync.so".into(),
        "lib/libsellsync.a".into(),
        "include/sellsync.h".into(),
        "lib/pkgconfig/sellsync.pc".into(),
    ] {
        assert!(p.join(&f).exists(), "{f} installed");
    }
    let pkgconfig = p.join("lib/pkgconfig");
    let emu = emulator(50.0);
    seed_listings(&emu, 3, 100);
    place_orders(&emu, 4, false, None);
    let work = tempdir();
    for (name, statically, expect) in [("dynamic", false, 4), ("static", true, 0)] {
        let exe = work.path().join(format!("hello-{name}"));
        build_hello(&pkgconfig, &exe, statically);
        let needed = run(Command::new("readelf").arg("-d").arg(&exe));
        assert_eq!(
            needed.contains(&format!("[libsellsync.so.{major}]")),
            !statically,
            "{name} host's dependencies: {needed}"
        );
        // Both hosts share one store: the second finds every order already booked.
        let config = work.path().join("config.json");
        std::fs::write(
            &config,
            config_json(&emu, &work.path().join("store.sqlite"), ""),
        )
        .unwrap();
        let out = run(Command::new(&exe)
            .arg(&config)
            .env_remove("LD_LIBRARY_PATH"));
        assert!(
            out.contains(&format!("took {expect} orders (sellsync {version})")),
            "{name}: {out}"
        );
        assert_eq!(out.matches(" booked as POS-").count(), expect, "{out}");
    }
}
