// An awaiting `async fn` (written by the macro as `fn … -> impl Future`) whose body gives
// the wrong type: one error, at the body's value, naming the declared type.
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

struct Ready;

impl Future for Ready {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

#[llmetry::task]
async fn count(prompt: &str) -> usize {
    Ready.await;
    prompt
}

fn main() {}
