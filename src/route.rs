//! The portal's addresses as values: what each path means, parsed once and printed back the
//! same way. `nav.rs` is still the only module that reads or writes the address bar.

/// A page of the portal, by its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/`: the first lookup.
    Home,
    /// `/lookups/N`: the lookup at index N of config.json's `lookups`.
    Lookup(usize),
    /// `/web-apis`.
    WebApis,
    /// `/diagnostics`.
    Diagnostics,
    /// `/genealogy`: the lot genealogy walk (its lot and direction in the query).
    Genealogy,
    /// `/signed-out`: where a sign-out lands.
    SignedOut,
    /// `/callback`: the authority's answer to a sign-in.
    Callback,
    /// Any other path, kept as it was (the page says it does not exist).
    Unknown(String),
}

impl Route {
    /// The route of `path` (a query or fragment after it is ignored).
    pub fn parse(path: &str) -> Self {
        let path = path.split(['?', '#']).next().unwrap_or("/");
        match path {
            "/" | "" => Route::Home,
            "/web-apis" => Route::WebApis,
            "/diagnostics" => Route::Diagnostics,
            "/genealogy" => Route::Genealogy,
            "/signed-out" => Route::SignedOut,
            "/callback" => Route::Callback,
            other => match other.strip_prefix("/lookups/").map(str::parse) {
                Some(Ok(index)) => Route::Lookup(index),
                _ => Route::Unknown(other.to_owned()),
            },
        }
    }

    /// The path of this route.
    pub fn path(&self) -> String {
        match self {
            Route::Home => "/".into(),
            Route::Lookup(index) => format!("/lookups/{index}"),
            Route::WebApis => "/web-apis".into(),
            Route::Diagnostics => "/diagnostics".into(),
            Route::Genealogy => "/genealogy".into(),
            Route::SignedOut => "/signed-out".into(),
            Route::Callback => "/callback".into(),
            Route::Unknown(path) => path.clone(),
        }
    }

    /// The lookup this route shows, if it shows one (`/` shows the first).
    pub fn lookup(&self) -> Option<usize> {
        match self {
            Route::Home => Some(0),
            Route::Lookup(index) => Some(*index),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Route;

    #[test]
    fn every_route_prints_the_path_it_was_read_from() {
        for path in [
            "/",
            "/lookups/0",
            "/lookups/12",
            "/web-apis",
            "/diagnostics",
            "/genealogy",
            "/signed-out",
            "/callback",
            "/nowhere",
            "/lookups/x",
            "/lookups/-1",
        ] {
            assert_eq!(Route::parse(path).path(), path, "{path}");
        }
    }

    #[test]
    fn a_path_means_its_page_whatever_its_query() {
        assert_eq!(Route::parse("/lookups/2?sort=a&q=x"), Route::Lookup(2));
        assert_eq!(Route::parse("/callback?code=c&state=s"), Route::Callback);
        assert_eq!(Route::parse(""), Route::Home);
        assert_eq!(Route::parse("/lookups/"), Route::Unknown("/lookups/".into()));
        assert_eq!(Route::parse("/web-apis/x"), Route::Unknown("/web-apis/x".into()));
        assert_eq!(Route::Home.lookup(), Some(0));
        assert_eq!(Route::Lookup(3).lookup(), Some(3));
        assert_eq!(Route::WebApis.lookup(), None);
    }
}
