use llmetry::task;

#[task]
type Callback = fn(u32) -> u32;

fn main() {
    let f: Callback = |x| x;
    let _ = f(1);
}
