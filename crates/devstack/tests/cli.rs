//! The `devstack` command as an administrator uses it.

mod common;
use common::*;
use devstack::{Stack, StackOptions};
use std::io::Write as _;
use std::process::{Command, Stdio};

fn devstack(args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_devstack"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("devstack");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn help_explains_every_command() {
    let (ok, text) = devstack(&["--help"], "");
    assert!(ok);
    for command in [
        "up",
        "aim",
        "mes",
        "register-client",
        "add-user",
        "add-mes-user",
        "set-background-user",
        "accounts",
    ] {
        assert!(
            text.contains(&format!("devstack {command}")),
            "{command} is not explained"
        );
    }
    let (ok, text) = devstack(&["frobnicate"], "");
    assert!(!ok && text.contains("unknown command"));
}

#[tokio::test]
async fn a_registered_service_client_gets_a_system_token() {
    let options = StackOptions::for_tests("cli-register");
    let dir = options.data_dir.to_string_lossy().into_owned();
    let (ok, text) = devstack(
        &[
            "register-client",
            "--id",
            "file-watcher",
            "--lifetime",
            "7200",
            "--data-dir",
            &dir,
        ],
        "watcher-secret\n",
    );
    assert!(ok, "{text}");
    assert!(
        !text.contains("watcher-secret"),
        "a secret given on stdin is not echoed"
    );
    let (ok, text) = devstack(
        &["add-user", "--name", "PLANT\\bob", "--data-dir", &dir],
        "bob-pw\n",
    );
    assert!(ok, "{text}");
    let stack = Stack::start(options).await.expect("stack");
    let answer = token(
        &stack,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "file-watcher"),
            ("client_secret", "watcher-secret"),
            ("scope", "system"),
        ],
    )
    .await;
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(body["expires_in"], 7200);
    let tokens = user_tokens(&stack, "PLANT\\bob", "bob-pw").await;
    assert!(tokens["access_token"].is_string(), "the added account signs in");
    stack.stop().await;
}
