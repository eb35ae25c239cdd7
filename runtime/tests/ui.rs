//! Compile-fail tests: each misuse of the entity attributes yields exactly one clear,
//! well-placed error. Pass tests (`ui/pass/`): code users write compiles (and runs).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
