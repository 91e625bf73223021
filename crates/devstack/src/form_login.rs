//! Signing in at the AIM stand-in's form without a browser, for tests, benchmarks and scripts:
//! GET the authorize URL as a browser would (the form, its hidden fields and its CSRF cookie),
//! then POST the form back with the credentials. One place, so every native sign-in goes through
//! the same checks a browser's does.

use crate::aim::{CSRF_COOKIE, SSO_COOKIE};

/// AIM's answer to the submitted form.
#[derive(Debug, Clone)]
pub struct FormAnswer {
    /// HTTP status (a redirect back to the client when the sign-in worked).
    pub status: u16,
    /// Where the redirect goes, with its query.
    pub location: Option<String>,
    /// `aim.sso=…` when AIM started a session.
    pub sso_cookie: Option<String>,
    /// The page, when AIM answered with one (the form again, with its error).
    pub body: String,
}

impl FormAnswer {
    /// The query of the redirect back to the client (code, state, iss or error).
    pub fn callback_query(&self) -> Option<&str> {
        self.location
            .as_deref()
            .and_then(|l| l.split_once('?'))
            .map(|(_, q)| q)
    }
}

/// `name="…" value="…"` of every hidden input in `html`, unescaped.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(unescape(&tag[start..end]))
    };
    html.split("<input")
        .skip(1)
        .filter_map(|rest| rest.split_once('>').map(|(tag, _)| tag))
        .filter(|tag| tag.contains(r#"type="hidden""#))
        .filter_map(|tag| Some((attribute(tag, "name")?, attribute(tag, "value")?)))
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn cookie_value(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// Opens `authorize_url` (a complete authorize request) and submits AIM's form with `user`,
/// `password` and `action` (`login` or `cancel`). `cookie` is sent with both requests (an
/// existing SSO session, for example).
pub async fn submit(
    authorize_url: &str,
    user: &str,
    password: &str,
    action: &str,
    cookie: Option<&str>,
) -> Result<FormAnswer, String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let mut page = http.get(authorize_url);
    if let Some(cookie) = cookie {
        page = page.header(reqwest::header::COOKIE, cookie);
    }
    let page = page
        .send()
        .await
        .map_err(|e| format!("GET {authorize_url}: {e}"))?;
    let csrf = cookie_value(&page, CSRF_COOKIE)
        .ok_or_else(|| format!("no login form at {authorize_url} (HTTP {})", page.status()))?;
    let html = page.text().await.map_err(|e| e.to_string())?;
    let mut form = hidden_fields(&html);
    form.extend([
        ("username".into(), user.into()),
        ("password".into(), password.into()),
        ("action".into(), action.into()),
    ]);
    let target = authorize_url.split('?').next().unwrap_or(authorize_url);
    let cookies = cookie.map(|c| format!("{c}; {csrf}")).unwrap_or(csrf);
    let answer = http
        .post(target)
        .header(reqwest::header::COOKIE, cookies)
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("POST {target}: {e}"))?;
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    let sso_cookie = cookie_value(&answer, SSO_COOKIE);
    let status = answer.status().as_u16();
    let body = answer.text().await.unwrap_or_default();
    Ok(FormAnswer {
        status,
        location,
        sso_cookie,
        body,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn hidden_fields_are_read_and_unescaped() {
        let html = r#"<form><input type="hidden" name="state" value="a&amp;b&quot;c"><input id="username" name="username" value="x">
            <input type="hidden" name="csrf" value="t1"></form>"#;
        assert_eq!(
            super::hidden_fields(html),
            [
                ("state".to_owned(), "a&b\"c".to_owned()),
                ("csrf".to_owned(), "t1".to_owned())
            ]
        );
    }
}
