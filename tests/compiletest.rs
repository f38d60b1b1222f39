#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    // A field type no backend can bind, or a value that is no executor, is reported
    // with the implementations of the enabled backends, so the expected output is
    // pinned for the README's test command, which enables them all.
    if cfg!(all(
        feature = "sqlite",
        feature = "postgres",
        feature = "mysql",
        feature = "deadpool-postgres",
        feature = "sqlx-postgres",
        feature = "sqlx-mysql"
    )) {
        t.compile_fail("tests/ui/backends/*.rs");
    }
}
