//! TLS endpoints work with the one crypto backend llmetry compiles (rustls with ring):
//! `install()` builds an `https://` exporter and a `grpcs://` channel without reqwest or
//! tonic panicking about a missing crypto provider, and each export opens a real TLS
//! handshake, which a plaintext port answers with an export error (never a panic).
//!
//! Run alone (`cargo test -p llmetry --test tls`) this build has no aws-lc-rs, so reqwest
//! has no built-in provider to fall back on: only the one `install()` sets up is there.

#![allow(clippy::expect_used)] // a failure prints the error

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A plaintext TCP port that reports the first byte each connection sends (a TLS
/// handshake record starts with 0x16) and answers like a plain HTTP server. It stops by
/// itself after `HANG_GUARD`.
fn plaintext_port() -> (SocketAddr, mpsc::Receiver<u8>) {
    const HANG_GUARD: Duration = Duration::from_secs(60);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    listener.set_nonblocking(true).expect("nonblocking");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let deadline = Instant::now() + HANG_GUARD;
        while Instant::now() < deadline {
            match listener.accept() {
                Ok((mut conn, _)) => {
                    let _ = conn.set_nonblocking(false);
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut first = [0u8; 1];
                    if conn.read_exact(&mut first).is_ok() {
                        let _ = tx.send(first[0]);
                    }
                    let _ =
                        conn.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
                }
                Err(_) => thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    (addr, rx)
}

const TLS_HANDSHAKE_RECORD: u8 = 0x16;

#[test]
fn https_and_grpcs_exports_fail_with_a_tls_error_not_a_panic() {
    let (https, https_bytes) = plaintext_port();
    let (grpcs, grpcs_bytes) = plaintext_port();
    let telemetry = llmetry::init()
        .api_endpoint(format!("https://{https}"))
        .logging_enabled(true)
        .logging_endpoint(format!("grpcs://{grpcs}"))
        .metrics_enabled(false)
        .timeout(Duration::from_secs(5))
        .silence_init_message(true)
        .env_source(llmetry::EnvSource::from_pairs([(
            "OTEL_SERVICE_NAME",
            "tls",
        )]))
        .install()
        .expect("install builds the https exporter and the grpcs channel");

    tracing::info_span!("over_tls").in_scope(|| tracing::info!("a log record over grpcs"));
    let flushed = telemetry.flush();

    let first = |rx: &mpsc::Receiver<u8>| rx.recv_timeout(Duration::from_secs(30));
    assert_eq!(
        first(&https_bytes),
        Ok(TLS_HANDSHAKE_RECORD),
        "the https exporter opens a TLS handshake"
    );
    assert_eq!(
        first(&grpcs_bytes),
        Ok(TLS_HANDSHAKE_RECORD),
        "the grpcs channel opens a TLS handshake"
    );
    match flushed {
        Err(llmetry::ShutdownError::Export { message, .. }) => {
            assert!(message.contains("traces"), "{message}");
            assert!(message.contains("logs"), "{message}");
        }
        other => panic!("a plaintext port cannot complete a TLS export: {other:?}"),
    }
    let _ = telemetry.shutdown();
}
