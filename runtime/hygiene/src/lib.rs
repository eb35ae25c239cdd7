//! Hygiene check: annotated functions of every shape, in a module without the implicit
//! prelude, in a crate whose only dependency is `llmetry`. It compiling is the test;
//! the unit tests also run the functions.

#![no_implicit_prelude]

/// Annotated functions of every supported shape.
pub mod shapes {
    use ::llmetry::{agent, task, tool, workflow};
    use ::std::iter::Iterator;
    use ::std::result::Result::{self, Err, Ok};
    use ::std::string::{String, ToString};

    /// A sync task.
    #[task(name = "hygiene_sync", version = 1)]
    pub fn sync_task(a: &str, b: u32) -> String {
        let mut s = a.to_string();
        s.push_str(&b.to_string());
        s
    }

    /// A task returning `Result`.
    #[tool]
    pub fn fallible(x: i32) -> Result<i32, String> {
        if x < 0 {
            return Err("negative".to_string());
        }
        Ok(x)
    }

    /// An async workflow.
    #[workflow(skip(secret))]
    pub async fn async_workflow(secret: &str) -> usize {
        secret.len()
    }

    /// An agent returning an iterator.
    #[agent(new_trace, capture_output = false)]
    pub fn iter_agent(n: u32) -> impl Iterator<Item = u32> {
        0..n
    }

    /// A struct with annotated methods.
    pub struct Bot;

    impl Bot {
        /// A method.
        #[task(skip_all, capture_input = false)]
        pub fn answer(&self, q: &str) -> usize {
            q.len()
        }
    }
}

#[cfg(test)]
mod tests {
    use ::std::assert_eq;
    use ::std::convert::From;
    use ::std::iter::Iterator;
    use ::std::result::Result::Ok;

    use super::shapes::*;

    fn block_on<F: ::std::future::Future>(f: F) -> F::Output {
        struct Noop;
        impl ::std::task::Wake for Noop {
            fn wake(self: ::std::sync::Arc<Self>) {}
        }
        let waker = ::std::task::Waker::from(::std::sync::Arc::new(Noop));
        let mut cx = ::std::task::Context::from_waker(&waker);
        let mut f = ::std::pin::pin!(f);
        loop {
            if let ::std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn annotated_functions_run() {
        assert_eq!(sync_task("a", 1), "a1");
        assert_eq!(fallible(2), Ok(2));
        assert_eq!(block_on(async_workflow("abc")), 3);
        assert_eq!(iter_agent(3).sum::<u32>(), 3);
        assert_eq!(Bot.answer("ab"), 2);
    }
}
