//! The README's shortest programs ("Use it from your language") are slices of the programs the
//! tests compile and run: `examples/hello.c` (tests/packaging.rs), `hello.py` (scripts/test-python),
//! `Hello.java` (scripts/test-java), `Hello.cs` (scripts/test-dotnet) and `Hello.pas`
//! (scripts/test-pascal). A snippet edited in one place and not the other fails here.

use std::path::Path;

/// The tested program that each fenced language of the section is cut from.
const PROGRAMS: [(&str, &str); 5] = [
    ("c", "examples/hello.c"),
    ("python", "bindings/python/examples/hello.py"),
    ("java", "bindings/java/examples/Hello.java"),
    ("csharp", "bindings/dotnet/examples/Hello.cs"),
    ("pascal", "bindings/pascal/examples/Hello.pas"),
];

/// The fenced code blocks of one README section, as (language, lines).
fn blocks(readme: &str, section: &str) -> Vec<(String, Vec<String>)> {
    let start = readme.find(section).expect("the README has the section");
    let body = &readme[start + section.len()..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    let mut out = Vec::new();
    let mut open: Option<(String, Vec<String>)> = None;
    for line in body.lines() {
        match (line.strip_prefix("```"), open.take()) {
            (Some(_), Some(block)) => out.push(block),
            (Some(lang), None) => open = Some((lang.trim().to_string(), Vec::new())),
            (None, Some((lang, mut lines))) => {
                lines.push(line.to_string());
                open = Some((lang, lines));
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a code block of {section} is not closed");
    out
}

/// Whether `part`'s lines appear in a row in `whole`, each compared without its indentation.
fn contains_lines(whole: &str, part: &[String]) -> bool {
    let whole: Vec<&str> = whole.lines().map(str::trim).collect();
    let part: Vec<&str> = part.iter().map(|l| l.trim()).collect();
    !part.is_empty() && whole.windows(part.len()).any(|w| w == part.as_slice())
}

#[test]
fn every_language_snippet_is_cut_from_a_tested_program() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = blocks(&readme, "## Use it from your language");
    for (lang, file) in PROGRAMS {
        let source = std::fs::read_to_string(root.join(file)).unwrap();
        let snippets: Vec<_> = blocks.iter().filter(|(l, _)| l == lang).collect();
        assert_eq!(snippets.len(), 1, "the README shows one {lang} program");
        assert!(
            contains_lines(&source, &snippets[0].1),
            "the README's {lang} program is not a slice of {file}: edit both together"
        );
    }
}

#[test]
fn a_changed_line_is_noticed() {
    let program = "int main() {\n    return 0;\n}\n";
    let same = ["int main() {", "return 0;"].map(String::from);
    let changed = ["int main() {", "return 1;"].map(String::from);
    assert!(contains_lines(program, &same));
    assert!(!contains_lines(program, &changed));
}
