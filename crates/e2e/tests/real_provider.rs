//! End to end against a certified third-party OpenID provider (npm `oidc-provider`, OpenID
//! Certified) with its defaults, the MES stand-in trusting it: its own login and consent pages,
//! its token answers (JWT access tokens for the MES by resource indicators; no refresh token
//! without `prompt=consent`), its silent sign-in, and its GET-only end session. devstack's AIM is
//! for the faults only it can inject; this is the portal meeting a real authority.

use anyhow::{Result, bail};
use e2e::scenario::with_browser_for_sites;
use e2e::scenario::{assert_no_jwt_stored, stack_on_sites, stack_with, with_browser};
use e2e::selectors::EMBEDDED_SIGN_IN;
use e2e::site::{
    ALL_HOSTS, DeployedPortal, INTRANET_HOST, PORTAL_HOST, RealProvider, Sites, Upstreams, free_port,
};
use e2e::{aim, frame, portal};
use e2e::{click, wait_for, wait_for_text, wait_until};
use fantoccini::{Client, Locator};
use mes_client::{ClientAuth, MesError, NativeTransport, ServiceTokenSource, WebApiDefinition};

/// The provider's own login page (its development login takes any account name), then its
/// consent page when it asks.
async fn sign_in_at_the_provider(client: &Client, account: &str) -> Result<()> {
    wait_for(client, "input[name=login]")
        .await?
        .send_keys(account)
        .await?;
    client
        .find(Locator::Css("input[name=password]"))
        .await?
        .send_keys("any")
        .await?;
    client
        .find(Locator::Css("button.login-submit"))
        .await?
        .click()
        .await?;
    // Its consent page, the first time this client asks (the login page's button has the same
    // class: wait for the consent form itself, or the click may land on the page going away).
    wait_for(client, "input[name=prompt][value=consent]").await?;
    client
        .find(Locator::Css("button.login-submit"))
        .await?
        .click()
        .await?;
    Ok(())
}

/// The certified provider with its access tokens lasting `token_seconds`, and the stand-ins
/// trusting it, with the portal served by devstack at the returned origin; `tune` adds to the
/// stack's options.
async fn provider_and_portal(
    name: &str,
    token_seconds: u64,
    tune: impl FnOnce(&mut devstack::StackOptions),
) -> (RealProvider, devstack::Stack, String) {
    let web_port = free_port().expect("port");
    let portal = format!("http://127.0.0.1:{web_port}");
    let provider = RealProvider::start_with_token_lifetime(&portal, token_seconds).expect("oidc-provider");
    let issuer = provider.issuer.clone();
    let stack = stack_with(name, |o| {
        o.web_port = web_port;
        o.external_authority = Some(issuer);
        tune(o);
    })
    .await;
    (provider, stack, portal)
}

/// After a renewal began: the provider issues a new access token (it had issued `issued`), the
/// grid shows the `before` rows again, its form never showed, and no JWT is in the browser.
async fn renewed_without_a_form(
    client: &Client,
    provider: &RealProvider,
    issued: usize,
    before: &[Vec<String>],
) -> Result<()> {
    wait_until("a new access token from the provider", || async {
        Ok(provider.access_tokens_issued() > issued)
    })
    .await?;
    e2e::grid::wait_for_rows(client).await?;
    if client.find(Locator::Css("input[name=login]")).await.is_ok() {
        bail!("the renewal showed the provider's form");
    }
    if e2e::grid::rows(client).await? != before {
        bail!("the same rows should come back after the renewal");
    }
    assert_no_jwt_stored(client).await
}

/// The portal's Sign in, then the provider's pages, as `account`.
async fn sign_in_through_the_portal(client: &Client, portal: &str, account: &str) -> Result<()> {
    client.goto(&format!("{portal}/")).await?;
    click(client, "button#sign-in").await?;
    sign_in_at_the_provider(client, account).await
}

#[tokio::test]
async fn a_certified_provider_signs_in_silently_again_shows_lookups_and_signs_out_by_get() {
    let (provider, _stack, portal) = provider_and_portal("e2e-real-provider", 3600, |o| {
        // Its default end session takes only GET.
        o.config_patch = Some(serde_json::json!({
            "client": { "end_session_method": "get", "authority_name": "oidc-provider (OpenID Certified)" }
        }));
    })
    .await;
    with_browser(|client| async move {
        sign_in_through_the_portal(&client, &portal, "PLANT\\alice").await?;
        e2e::grid::wait_for_rows(&client).await?;
        assert_no_jwt_stored(&client).await?;

        // A reload is a silent sign-in at the provider's session: rows again, no form.
        client.refresh().await?;
        e2e::grid::wait_for_rows(&client).await?;
        if client.find(Locator::Css("input[name=login]")).await.is_ok() {
            bail!("a reload should not show the provider's form");
        }

        // Sign-out by GET: the provider asks (no ID token in the address), then sends the person
        // back, signed out of both.
        click(&client, "button#sign-out").await?;
        wait_for(&client, "button[name=logout][value=yes]").await?;
        let at = client.current_url().await?;
        if at.as_str().contains("id_token_hint") || at.query().is_some_and(|q| q.contains("eyJ")) {
            bail!("the ID token is in the sign-out address: {at}");
        }
        client
            .find(Locator::Css("button[name=logout][value=yes]"))
            .await?
            .click()
            .await?;
        e2e::portal::back_at_signed_out(&client, &portal).await?;
        wait_for_text(&client, "#notice", &["You are signed out."]).await?;
        // The provider's session is over (ask its store: the portal's next Sign in asks for the
        // form anyway, `prompt=login` after a sign-out).
        if provider.signed_in_sessions() != 0 {
            bail!("the sign-out left the provider's session open");
        }
        click(&client, "button#sign-in").await?;
        wait_for(&client, "input[name=login]").await?;
        assert_no_jwt_stored(&client).await
    })
    .await;
}

/// A person the provider knows but the MES does not: the MES's denial, plainly, naming them.
#[tokio::test]
async fn an_account_of_the_provider_that_is_not_an_mes_user_is_denied_plainly() {
    let (provider, _stack, portal) = provider_and_portal("e2e-real-provider-denied", 3600, |_| {}).await;
    with_browser(|client| async move {
        sign_in_through_the_portal(&client, &portal, "PLANT\\victor").await?;
        let denied = wait_for_text(&client, "[data-state=denied]", &["PLANT\\victor"]).await?;
        if !denied.contains("Access denied") {
            bail!("the denial should say so: {denied}");
        }
        assert_no_jwt_stored(&client).await
    })
    .await;
    drop(provider);
}

/// The provider stopped during use: the MES cannot verify the token and answers 500, the portal
/// says the authority is offline and retries by itself; with the provider back, the same rows
/// return without a reload or a new sign-in.
#[tokio::test]
async fn the_provider_stopped_during_use_is_an_outage_and_the_grid_comes_back_by_itself() {
    let (mut provider, _stack, portal) = provider_and_portal("e2e-real-provider-offline", 3600, |_| {}).await;
    with_browser(|client| async move {
        sign_in_through_the_portal(&client, &portal, "PLANT\\alice").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let before = e2e::grid::rows(&client).await?;
        provider.stop();
        click(&client, "button.reload").await?;
        wait_for_text(&client, "[data-state=authority-offline]", &["offline"]).await?;
        provider.start_again()?;
        // The automatic retry, not a click or a reload, brings the rows back.
        e2e::grid::wait_for_rows(&client).await?;
        if e2e::grid::rows(&client).await? != before {
            bail!("the same rows should come back");
        }
        if client.find(Locator::Css("input[name=login]")).await.is_ok() {
            bail!("no new sign-in after an outage");
        }
        assert_no_jwt_stored(&client).await
    })
    .await;
}

/// A background job (client credentials, scope `system`) at the certified provider: its JWT runs
/// in the MES as the Default Background User, who may read entities but not users.
#[tokio::test]
async fn a_background_job_reads_the_mes_as_the_default_background_user_with_the_providers_token() {
    let provider = RealProvider::start("http://127.0.0.1:9").expect("oidc-provider");
    let issuer = provider.issuer.clone();
    let stack = stack_with("e2e-real-provider-service", |o| {
        o.external_authority = Some(issuer.clone())
    })
    .await;
    let api: WebApiDefinition = serde_json::from_value(serde_json::json!({
        "name": "MES jobs", "base_address": stack.mes_base, "request_uri": "api",
        "authentication_mode": "Service to Service Access Token", "authority": issuer,
        "audience": "mes-web-api", "client_id": "scheduler", "scope": "system",
        "client_secret": "scheduler-secret-for-tests"
    }))
    .expect("definition");
    let source = ServiceTokenSource::for_web_api(NativeTransport::default(), &api, ClientAuth::Basic)
        .await
        .expect("discovery");
    let rows = source.lookup(&api, "v3/entity").send().await.expect("entities");
    assert!(!rows.is_empty(), "the background user reads entities");
    match source.lookup(&api, "v3/user").send().await {
        Err(MesError::Denied { .. }) => {}
        other => panic!("the Default Background User may not read users: {other:?}"),
    }
    drop(provider);
}

/// Renewal at the provider's defaults: no refresh token (`offline_access` needs `prompt=consent`
/// there), so an expired access token is renewed by a silent trip through the provider's session
/// — no form, no click — and the same grid comes back.
#[tokio::test]
async fn an_expired_token_is_renewed_silently_through_the_providers_session() {
    let (provider, _stack, portal) = provider_and_portal("e2e-real-provider-renewal", 6, |_| {}).await;
    with_browser(|client| async move {
        sign_in_through_the_portal(&client, &portal, "PLANT\\alice").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let before = e2e::grid::rows(&client).await?;
        let issued = provider.access_tokens_issued();
        tokio::time::sleep(std::time::Duration::from_secs(8)).await;
        click(&client, "button.reload").await?;
        renewed_without_a_form(&client, &provider, issued, &before).await
    })
    .await;
}

/// The five sites with the certified provider as `aim.test` (access tokens lasting
/// `token_seconds`; refresh tokens bound to its session when `session_bound`), the MES stand-in
/// trusting it on `mes.test`, the portal on `portal.test` allowing `intranet.test` to frame it,
/// signing out by GET (the provider's default).
async fn provider_on_sites(
    name: &str,
    token_seconds: u64,
    session_bound: bool,
) -> (RealProvider, devstack::Stack, DeployedPortal) {
    let sites = Sites::new().expect("sites");
    let provider = RealProvider::behind(&sites, token_seconds, session_bound).expect("oidc-provider");
    let issuer = provider.issuer.clone();
    let stack = stack_on_sites(name, &sites, |o| o.external_authority = Some(issuer)).await;
    let (origin, intranet) = (sites.origin(PORTAL_HOST), sites.origin(INTRANET_HOST));
    let mut config = stack.portal_config_at(&origin, std::slice::from_ref(&intranet));
    config["client"]["end_session_method"] = "get".into();
    let upstreams = Upstreams {
        aim: provider.address(),
        mes: stack.mes_address(),
    };
    let site =
        DeployedPortal::start(sites, &e2e::dist(), &config, upstreams, |server| server).expect("nginx");
    (provider, stack, site)
}

/// A grid framed by an intranet page of another site, signing in at the certified provider on
/// a site of its own (all five behind nginx with TLS): the frame's popup shows the provider's
/// login and consent, hands the answer back to the frame, and the frame shows rows; the host
/// hears `signed-in`.
#[tokio::test]
async fn a_grid_framed_by_another_site_signs_in_at_the_provider_through_its_popup() {
    let (provider, _stack, site) = provider_on_sites("e2e-real-provider-framed", 3600, false).await;
    let intranet = site.intranet_origin.clone();
    with_browser_for_sites(&ALL_HOSTS, |client| async move {
        client.goto(&format!("{intranet}/")).await?;
        sign_in_in_frame_at_the_provider(&client).await?;
        client.enter_frame(0).await?;
        e2e::grid::wait_for_rows(&client).await?;
        assert_no_jwt_stored(&client).await?;
        client.enter_parent_frame().await?;
        assert_no_jwt_stored(&client).await
    })
    .await;
    drop(provider);
}

/// On the host page showing a framed grid: the frame's Sign in, the provider's pages in its
/// popup, until the host hears `signed-in`.
async fn sign_in_in_frame_at_the_provider(client: &Client) -> Result<()> {
    wait_until("the frame says it is signed out", || async {
        Ok(frame::state(client).await?.as_deref() == Some("signed-out"))
    })
    .await?;
    let host = client.window().await?;
    client.enter_frame(0).await?;
    click(client, EMBEDDED_SIGN_IN).await?;
    client.enter_parent_frame().await?;
    aim::in_sign_in_popup(client, host, || sign_in_at_the_provider(client, "PLANT\\alice")).await?;
    wait_until("the frame says it is signed in", || async {
        Ok(frame::state(client).await?.as_deref() == Some("signed-in"))
    })
    .await
}

/// Sign-out reaches a grid framed by another site at the certified provider too, set as an
/// operator would (refresh tokens bound to the sign-in session, see provider.mjs): a person signs
/// out in a portal tab (the provider's GET end session and its confirmation), and the framed
/// grid, which asks the authority while it is shown, says the session ended within a minute.
#[tokio::test]
async fn signing_out_in_a_portal_tab_reaches_a_framed_grid_at_the_provider() {
    let (provider, _stack, site) = provider_on_sites("e2e-real-provider-framed-out", 3600, true).await;
    let (origin, intranet) = (site.origin.clone(), site.intranet_origin.clone());
    with_browser_for_sites(&ALL_HOSTS, |client| async move {
        client.goto(&format!("{intranet}/")).await?;
        sign_in_in_frame_at_the_provider(&client).await?;
        e2e::frame::wait_for_rows(&client).await?;
        // A portal tab: the same person through the provider's session (no form), signing out
        // by GET, which the provider asks the person to confirm.
        portal::sign_out_in_a_tab(&client, &origin, Some("button[name=logout][value=yes]")).await?;
        frame::says_the_session_ended(&client, || async {
            "the provider's refresh tokens bound to its session".to_owned()
        })
        .await?;
        assert_no_jwt_stored(&client).await
    })
    .await;
    drop(provider);
}

/// The provider goes offline just as the access token expires, so the renewal (a silent trip
/// through its session) cannot start: the portal says the authority is offline instead of
/// leaving for an error page, retries by itself, and once the provider is back renews silently —
/// its session kept in its store, as a real authority's — and the same rows return, no form.
#[tokio::test]
async fn the_provider_stopped_during_a_renewal_is_an_outage_and_the_renewal_completes_after() {
    let (mut provider, _stack, portal) =
        provider_and_portal("e2e-real-provider-renewal-offline", 6, |_| {}).await;
    with_browser(|client| async move {
        sign_in_through_the_portal(&client, &portal, "PLANT\\alice").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let before = e2e::grid::rows(&client).await?;
        tokio::time::sleep(std::time::Duration::from_secs(8)).await;
        provider.stop();
        click(&client, "button.reload").await?;
        wait_for_text(&client, "[data-state=authority-offline]", &["offline"]).await?;
        if !client.current_url().await?.as_str().starts_with(&portal) {
            bail!("the portal should stay on its page while the authority is offline");
        }
        let issued = provider.access_tokens_issued();
        provider.start_again()?;
        renewed_without_a_form(&client, &provider, issued, &before).await
    })
    .await;
}

/// A grid embedded in a plain page of the portal's origin (`mountLookupGrid`) signs in at the
/// certified provider through its popup — its login and consent — and shows rows; no JWT on the
/// page.
#[tokio::test]
async fn an_embedded_grid_signs_in_at_the_provider_through_its_popup() {
    let (provider, _stack, portal) = provider_and_portal("e2e-real-provider-embedded", 3600, |_| {}).await;
    with_browser(|client| async move {
        client.goto(&format!("{portal}/examples/embed.html")).await?;
        let host = client.window().await?;
        wait_for(&client, &format!("#lots {EMBEDDED_SIGN_IN}"))
            .await?
            .click()
            .await?;
        aim::in_sign_in_popup(&client, host, || sign_in_at_the_provider(&client, "PLANT\\alice")).await?;
        wait_for(&client, &format!("#lots {}", e2e::selectors::ROWS)).await?;
        assert_no_jwt_stored(&client).await
    })
    .await;
    drop(provider);
}
