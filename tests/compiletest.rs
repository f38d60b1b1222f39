#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    // A field type no backend can bind is reported through the traits of the enabled
    // backends, so its expected output is pinned for the README's test command, which
    // enables them all.
    if cfg!(all(feature = "sqlite", feature = "postgres", feature = "mysql")) {
        t.compile_fail("tests/ui/backends/*.rs");
    }
}
