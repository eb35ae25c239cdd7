//! Compile-fail tests: each misuse of the entity attributes yields exactly one clear,
//! well-placed error.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
