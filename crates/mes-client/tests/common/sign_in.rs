//! The native sign-in fixture, one for every suite that needs a signed-in person (and the
//! bench, which includes this file): AIM's form filled in and posted as a browser would, then the
//! portal's own code exchange — PKCE, state, the ID token validated — over real HTTP.

use mes_client::{Authority, CallbackParams, NativeTransport, PortalConfig, SignInClient, SignedIn};

/// Posts AIM's login form at `authorize_url` as `user`; the query AIM sends the browser back
/// with, or why it did not.
pub async fn log_in(authorize_url: &str, user: &str, password: &str) -> Result<String, String> {
    let answer = devstack::form_login::submit(authorize_url, user, password, "login", None).await?;
    match answer.callback_query() {
        Some(query) => Ok(query.to_owned()),
        None => Err(format!(
            "AIM answered {} without sending the browser back: {}",
            answer.status,
            answer.location.as_deref().unwrap_or("no Location")
        )),
    }
}

/// Signs `user` in at `config`'s authority (returning to `/`): the session's tokens and claims,
/// and the authority as the sign-in found it.
pub async fn sign_in(
    config: &PortalConfig,
    user: &str,
    password: &str,
) -> Result<(SignedIn, Authority), String> {
    let transport = NativeTransport::default();
    let mut authority = Authority::load(&transport, &config.client.authority)
        .await
        .map_err(|e| e.to_string())?;
    let redirect = SignInClient::new(&config.client)
        .authorize(&authority.metadata)
        .url()
        .map_err(|e| e.to_string())?;
    let query = log_in(&redirect.url, user, password).await?;
    let signed_in = SignInClient::new(&config.client)
        .exchange_code(
            &mut authority,
            &CallbackParams::from_query(&query),
            Some(&redirect.pending),
        )
        .request_async(&transport)
        .await
        .map_err(|e| e.to_string())?;
    Ok((signed_in, authority))
}
